//! The floor the functions are measured against: `lambda_http` and a tokio runtime configured
//! as in the functions' `main.rs`, a handler that answers a fixed body, and nothing else.

use lambda_http::{run, service_fn, Body, Error, Request, Response};

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(service_fn(|_req: Request| async {
        Ok::<_, Error>(Response::new(Body::from(r#"{"hello":"world"}"#)))
    }))
    .await
}
