//! Dialect A (AgentMessage), spoken by `PATCH /v1/guardrails/pools/{id}`: API.md §3's error
//! table, and its bodies with their members in the order the contract shows them.

use serde::Serialize;

use super::Pairs;
use crate::domain::validation::{FieldErrorKind, FieldErrors};
use crate::error::ApiError;
use crate::request_id::RequestId;

/// A body whose only problems are fields outside the table (unsupported or immutable) is a
/// 400 `INVALID_INPUT` in this dialect, not a 422.
fn has_refused_fields(f: &FieldErrors) -> bool {
    f.iter().any(|e| e.kind != FieldErrorKind::Invalid)
}

/// Status, code and message of every error (API.md §3).
pub fn table(e: &ApiError) -> (u16, &'static str, &'static str) {
    match e {
        ApiError::MalformedBody(_) | ApiError::InvalidIdempotencyKey => {
            (400, "INVALID_INPUT", "invalid input")
        }
        ApiError::Fields(f) if has_refused_fields(f) => (400, "INVALID_INPUT", "invalid input"),
        ApiError::MissingCredentials | ApiError::InvalidCredentials => {
            (401, "UNAUTHORIZED", "authentication failed")
        }
        ApiError::MissingScope => (403, "FORBIDDEN", "missing required scope"),
        ApiError::NotFound | ApiError::RouteNotFound => (404, "NOT_FOUND", "not found"),
        ApiError::MethodNotAllowed { .. } => (405, "METHOD_NOT_ALLOWED", "method not allowed"),
        ApiError::SlugTaken => (409, "CONFLICT", "slug already in use"),
        ApiError::Conflict => (409, "CONFLICT", "pool was modified concurrently; retry"),
        ApiError::PreconditionFailed => (
            412,
            "PRECONDITION_FAILED",
            "pool has changed since it was read",
        ),
        ApiError::PayloadTooLarge => (413, "PAYLOAD_TOO_LARGE", "request body too large"),
        ApiError::UnsupportedMediaType => (
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            "content type must be application/json",
        ),
        ApiError::Fields(_) => (422, "VALIDATION_FAILED", "validation failed"),
        ApiError::IdempotencyKeyReused => (
            422,
            "IDEMPOTENCY_KEY_REUSED",
            "idempotency key already used with a different request",
        ),
        ApiError::Internal(_) => (500, "INTERNAL", "internal error"),
        ApiError::Unavailable(_) => (503, "UNAVAILABLE", "service temporarily unavailable"),
    }
}

/// `{"success": false, "error": {"code", "message", "request_id", "details"?}}`.
#[derive(Serialize)]
struct ErrorBody<'a> {
    success: bool,
    error: ErrorMember<'a>,
}

#[derive(Serialize)]
struct ErrorMember<'a> {
    code: &'a str,
    message: &'a str,
    request_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<Pairs<'a>>,
}

/// The error body, as JSON text. `details` maps fields to problems on validation-class
/// errors: on a 400 only the refused fields, on a 422 every field.
pub fn error_body(e: &ApiError, request_id: RequestId) -> String {
    let (status, code, message) = table(e);
    let details = match e {
        ApiError::Fields(f) if status == 400 => Some(Pairs::fields(
            f.iter().filter(|fe| fe.kind != FieldErrorKind::Invalid),
        )),
        ApiError::Fields(f) => Some(Pairs::fields(f.iter())),
        ApiError::MalformedBody(m) => Some(Pairs(vec![("body", m.describe())])),
        ApiError::SlugTaken => Some(Pairs(vec![("slug", "already in use")])),
        ApiError::Conflict => Some(Pairs(vec![("pool", "was modified concurrently; retry")])),
        ApiError::InvalidIdempotencyKey => Some(Pairs(vec![(
            "Idempotency-Key",
            "must be 1 to 255 visible ASCII characters, no comma",
        )])),
        ApiError::IdempotencyKeyReused => Some(Pairs(vec![(
            "Idempotency-Key",
            "already used with a different request",
        )])),
        _ => None,
    };
    super::to_json(&ErrorBody {
        success: false,
        error: ErrorMember {
            code,
            message,
            request_id: request_id.to_string(),
            details,
        },
    })
}
