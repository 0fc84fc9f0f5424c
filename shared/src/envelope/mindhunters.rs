//! Dialect M (Mindhunters), spoken by `PUT /api/v1/pools/{uuid}`: API.md §2's error table,
//! and its bodies with their members in the order the contract shows them.

use serde::Serialize;

use super::Pairs;
use crate::error::ApiError;
use crate::request_id::RequestId;

/// The `message` of a success body.
pub const SUCCESS_MESSAGE: &str = "Pool updated successfully";

/// Status, code and message of every error (API.md §2).
pub fn table(e: &ApiError) -> (u16, &'static str, &'static str) {
    match e {
        ApiError::MalformedBody(_) => (400, "INVALID_JSON", "Malformed JSON body"),
        ApiError::InvalidIdempotencyKey => (
            400,
            "INVALID_IDEMPOTENCY_KEY",
            "Invalid Idempotency-Key header",
        ),
        ApiError::MissingCredentials => (401, "MISSING_AUTH_TOKEN", "Authentication required"),
        ApiError::InvalidCredentials => (401, "INVALID_AUTH_TOKEN", "Invalid authentication token"),
        ApiError::MissingScope => (403, "INSUFFICIENT_PERMISSIONS", "Insufficient permissions"),
        ApiError::NotFound | ApiError::RouteNotFound => (404, "NOT_FOUND", "Pool not found"),
        ApiError::MethodNotAllowed { .. } => (405, "METHOD_NOT_ALLOWED", "Method not allowed"),
        ApiError::Conflict | ApiError::SlugTaken => {
            (409, "CONFLICT", "Pool was modified concurrently; retry")
        }
        ApiError::PreconditionFailed => (
            412,
            "PRECONDITION_FAILED",
            "Pool has changed since it was read",
        ),
        ApiError::PayloadTooLarge => (413, "PAYLOAD_TOO_LARGE", "Request body too large"),
        ApiError::UnsupportedMediaType => (
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            "Content-Type must be application/json",
        ),
        ApiError::Fields(_) => (422, "VALIDATION_ERROR", "Validation failed"),
        ApiError::IdempotencyKeyReused => (
            422,
            "IDEMPOTENCY_KEY_REUSED",
            "Idempotency-Key was already used with a different request",
        ),
        ApiError::Internal(_) => (500, "INTERNAL_ERROR", "Internal server error"),
        ApiError::Unavailable(_) => (
            503,
            "SERVICE_UNAVAILABLE",
            "Service temporarily unavailable",
        ),
    }
}

/// `{"success": false, "message", "error": {"code", "details", "field"?, "fields"?, "request_id"}}`.
#[derive(Serialize)]
struct ErrorBody<'a> {
    success: bool,
    message: &'a str,
    error: ErrorMember<'a>,
}

#[derive(Serialize)]
struct ErrorMember<'a> {
    code: &'a str,
    details: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fields: Option<Pairs<'a>>,
    request_id: String,
}

/// The error body, as JSON text. `field` and `fields` only on validation errors; `details` is
/// the first field's problem there, what was wrong with a malformed body, else the message.
pub fn error_body(e: &ApiError, request_id: RequestId) -> String {
    let (_, code, message) = table(e);
    let (details, field, fields) = match e {
        ApiError::Fields(f) => {
            let first = f.first();
            (
                first
                    .map(|fe| format!("{} {}", fe.field, fe.message))
                    .unwrap_or_default(),
                Some(first.map(|fe| fe.field.as_str()).unwrap_or_default()),
                Some(Pairs::fields(f.iter())),
            )
        }
        ApiError::MalformedBody(m) => (m.describe().to_owned(), None, None),
        _ => (message.to_owned(), None, None),
    };
    super::to_json(&ErrorBody {
        success: false,
        message,
        error: ErrorMember {
            code,
            details,
            field,
            fields,
            request_id: request_id.to_string(),
        },
    })
}
