//! `PUT /api/v1/pools/{uuid}`: update a contact pool (dialect M, scope `pools:write`).

use lambda_http::http::Method;
use lambda_http::{Body, Request, Response};
use shared::auth::SCOPE_POOLS_WRITE;
use shared::domain::contact_pool::ContactPoolPatch;
use shared::envelope::Dialect;
use shared::pipeline::{serve, Route, Services, Success};
use shared::ApiError;

pub const ROUTE: Route = Route {
    name: "PUT /api/v1/pools/{uuid}",
    method: Method::PUT,
    allow: "PUT",
    prefix: "/api/v1/pools/",
    param: "uuid",
    scope: SCOPE_POOLS_WRITE,
    dialect: Dialect::Mindhunters,
};

/// Handles one request. Never fails: every error is a response in dialect M.
pub async fn handle(req: Request, svc: &Services) -> Response<Body> {
    serve(req, &ROUTE, svc, |a| async move {
        let patch = ContactPoolPatch::try_from(a.body.as_slice()).map_err(ApiError::Fields)?;
        let org = a.principal.org_id;
        let pool = if patch.is_empty() {
            // `{}`: one read, nothing written.
            let pool = svc.store.get_contact_pool(org, a.id).await?;
            a.precondition.require(pool.version)?;
            pool
        } else {
            svc.store
                .update_contact_pool(org, a.id, &patch, &a.precondition, a.now)
                .await?
        };
        Success::new(&pool.view(), pool.version)
    })
    .await
}
