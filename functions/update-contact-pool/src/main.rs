use std::convert::Infallible;

use lambda_http::{run, service_fn, Error, Request};
use update_contact_pool::handle;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let svc = shared::config::services_from_env().await?;
    let svc = &svc;
    run(service_fn(move |req: Request| async move {
        Ok::<_, Infallible>(handle(req, svc).await)
    }))
    .await
}
