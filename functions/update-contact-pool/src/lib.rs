//! `PUT /api/v1/pools/{uuid}`: update a contact pool (dialect M, scope `pools:write`).

use lambda_http::http::Method;
use lambda_http::{Body, Request, Response};
use shared::auth::SCOPE_POOLS_WRITE;
use shared::domain::contact_pool::ContactPoolPatch;
use shared::domain::idempotency::Written;
use shared::envelope::Dialect;
use shared::pipeline::{serve, Route, Services, Success};
use shared::ApiError;

pub const ROUTE: Route = Route {
    function: "update-contact-pool",
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
        let (org, key) = (a.principal.org_id, a.idempotency.as_ref());
        if patch.is_empty() {
            // `{}`: one read, nothing written or recorded; a key used before still answers.
            if let Some(record) = svc.store.replayable(key, a.now).await? {
                return Success::replay(record, key);
            }
            let pool = svc.store.get_contact_pool(org, a.id).await?;
            a.precondition.require(pool.version)?;
            return Success::new(&pool.view(), pool.version);
        }
        let written = match key {
            None => Written::Applied(
                (svc.store)
                    .update_contact_pool(org, a.id, &patch, &a.precondition, a.now)
                    .await?,
            ),
            Some(k) => {
                (svc.store)
                    .update_contact_pool_recorded(org, a.id, &patch, &a.precondition, a.now, k)
                    .await?
            }
        };
        Success::from_written(written, key, |p| Success::new(&p.view(), p.version))
    })
    .await
}
