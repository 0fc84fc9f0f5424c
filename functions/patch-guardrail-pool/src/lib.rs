//! `PATCH /v1/guardrails/pools/{id}`: update a guardrail pool (dialect A, scope
//! `org:admin:write`).

use lambda_http::http::Method;
use lambda_http::{Body, Request, Response};
use shared::auth::SCOPE_ORG_ADMIN_WRITE;
use shared::domain::guardrail_pool::GuardrailPoolPatch;
use shared::envelope::Dialect;
use shared::pipeline::{serve, Route, Services, Success};
use shared::ApiError;

pub const ROUTE: Route = Route {
    name: "PATCH /v1/guardrails/pools/{id}",
    method: Method::PATCH,
    allow: "PATCH",
    prefix: "/v1/guardrails/pools/",
    param: "id",
    scope: SCOPE_ORG_ADMIN_WRITE,
    dialect: Dialect::AgentMessage,
};

/// Handles one request. Never fails: every error is a response in dialect A.
pub async fn handle(req: Request, svc: &Services) -> Response<Body> {
    serve(req, &ROUTE, svc, |a| async move {
        let patch = GuardrailPoolPatch::try_from(a.body.as_slice()).map_err(ApiError::Fields)?;
        let org = a.principal.org_id;
        let pool = if patch.is_empty() {
            // `{}`: one read, nothing written.
            let pool = svc.store.get_guardrail_pool(org, a.id).await?;
            a.precondition.require(pool.version)?;
            pool
        } else {
            svc.store
                .update_guardrail_pool(org, a.id, &patch, &a.precondition, a.now)
                .await?
        };
        Success::new(&pool.view(), pool.version)
    })
    .await
}
