//! The two response dialects: Mindhunters (M, contact pools) and AgentMessage (A, guardrail
//! pools). One [`ApiError`] renders in either.

use lambda_http::http::{header, HeaderValue, Response, StatusCode};
use lambda_http::Body;
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

use crate::domain::validation::{FieldErrorKind, FieldErrors};
use crate::error::ApiError;
use crate::request_id::RequestId;

/// Seconds a client should wait after a 503.
pub const RETRY_AFTER_SECS: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Mindhunters,
    AgentMessage,
}

/// How an error looks in a dialect, before it becomes JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub status: u16,
    pub code: &'static str,
    pub message: &'static str,
}

impl Dialect {
    /// Status, code and message of an error in this dialect.
    pub fn render(self, e: &ApiError) -> Rendered {
        let (status, code, message) = match self {
            Self::Mindhunters => mindhunters(e),
            Self::AgentMessage => agent_message(e),
        };
        Rendered {
            status,
            code,
            message,
        }
    }

    /// The error body.
    pub fn error_body(self, e: &ApiError, request_id: RequestId) -> (u16, Value) {
        let r = self.render(e);
        let rid = request_id.to_string();
        let body = match self {
            Self::Mindhunters => {
                let mut error = Map::new();
                error.insert("code".into(), r.code.into());
                match e {
                    ApiError::Fields(f) => {
                        let first = f.first();
                        error.insert(
                            "details".into(),
                            first
                                .map(|fe| format!("{} {}", fe.field, fe.message))
                                .unwrap_or_default()
                                .into(),
                        );
                        error.insert(
                            "field".into(),
                            first.map(|fe| fe.field.clone()).unwrap_or_default().into(),
                        );
                        error.insert("fields".into(), field_map(f.iter()));
                    }
                    ApiError::MalformedBody(m) => {
                        error.insert("details".into(), m.describe().into());
                    }
                    _ => {
                        error.insert("details".into(), r.message.into());
                    }
                }
                error.insert("request_id".into(), rid.into());
                json!({"success": false, "message": r.message, "error": error})
            }
            Self::AgentMessage => {
                let mut error = Map::new();
                error.insert("code".into(), r.code.into());
                error.insert("message".into(), r.message.into());
                error.insert("request_id".into(), rid.into());
                let details = match e {
                    ApiError::Fields(f) if r.status == 400 => Some(field_map(
                        f.iter().filter(|fe| fe.kind != FieldErrorKind::Invalid),
                    )),
                    ApiError::Fields(f) => Some(field_map(f.iter())),
                    ApiError::MalformedBody(m) => Some(json!({"body": m.describe()})),
                    ApiError::SlugTaken => Some(json!({"slug": "already in use"})),
                    ApiError::Conflict => Some(json!({"pool": "was modified concurrently; retry"})),
                    _ => None,
                };
                if let Some(d) = details {
                    error.insert("details".into(), d);
                }
                json!({"success": false, "error": error})
            }
        };
        (r.status, body)
    }

    /// The `message` of a success body, where the dialect has one.
    fn success_message(self) -> Option<&'static str> {
        match self {
            Self::Mindhunters => Some("Pool updated successfully"),
            Self::AgentMessage => None,
        }
    }
}

fn field_map<'a>(errors: impl Iterator<Item = &'a crate::domain::validation::FieldError>) -> Value {
    let mut m = Map::new();
    for e in errors {
        m.entry(e.field.clone())
            .or_insert_with(|| e.message.clone().into());
    }
    Value::Object(m)
}

fn has_refused_fields(f: &FieldErrors) -> bool {
    f.iter().any(|e| e.kind != FieldErrorKind::Invalid)
}

fn mindhunters(e: &ApiError) -> (u16, &'static str, &'static str) {
    match e {
        ApiError::MalformedBody(_) => (400, "INVALID_JSON", "Malformed JSON body"),
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
        ApiError::Internal(_) => (500, "INTERNAL_ERROR", "Internal server error"),
        ApiError::Unavailable(_) => (
            503,
            "SERVICE_UNAVAILABLE",
            "Service temporarily unavailable",
        ),
    }
}

fn agent_message(e: &ApiError) -> (u16, &'static str, &'static str) {
    match e {
        ApiError::MalformedBody(_) => (400, "INVALID_INPUT", "invalid input"),
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
        ApiError::Internal(_) => (500, "INTERNAL", "internal error"),
        ApiError::Unavailable(_) => (503, "UNAVAILABLE", "service temporarily unavailable"),
    }
}

/// A JSON response with the headers every response carries.
pub fn json_response(
    status: u16,
    body: &Value,
    request_id: RequestId,
    extra: &[(header::HeaderName, HeaderValue)],
) -> Response<Body> {
    // `to_string` on a `Value` goes through `fmt::Display`, one formatter call per token; this
    // writes the same bytes straight into a buffer.
    let text = serde_json::to_string(body).unwrap_or_else(|_| body.to_string());
    with_headers(text, status, request_id, extra)
}

/// A response with the JSON `text` and the headers every response carries.
fn with_headers(
    text: String,
    status: u16,
    request_id: RequestId,
    extra: &[(header::HeaderName, HeaderValue)],
) -> Response<Body> {
    let mut resp = Response::new(Body::Text(text));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&request_id.to_string()) {
        h.insert("x-request-id", v);
    }
    for (k, v) in extra {
        h.insert(k.clone(), v.clone());
    }
    resp
}

/// The response for an error, with `WWW-Authenticate`, `Allow` or `Retry-After` as it needs.
pub fn error_response(dialect: Dialect, e: &ApiError, request_id: RequestId) -> Response<Body> {
    let (status, body) = dialect.error_body(e, request_id);
    let mut extra = Vec::new();
    match e {
        ApiError::MissingCredentials | ApiError::InvalidCredentials => {
            extra.push((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        }
        ApiError::MethodNotAllowed { allow } => {
            extra.push((header::ALLOW, HeaderValue::from_static(allow)));
        }
        ApiError::Unavailable(_) => {
            extra.push((header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS)));
        }
        _ => {}
    }
    json_response(status, &body, request_id, &extra)
}

/// The 200 response for a resource at `version` (its `ETag`).
pub fn success_response(
    dialect: Dialect,
    data: &RawValue,
    version: u64,
    request_id: RequestId,
) -> Response<Body> {
    let etag = HeaderValue::from_str(&format!("\"{version}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("\"0\""));
    let body = SuccessBody {
        data,
        message: dialect.success_message(),
        success: true,
    };
    // Serializing a struct of a string, a bool and already serialized JSON cannot fail.
    let text = serde_json::to_string(&body).unwrap_or_default();
    with_headers(text, 200, request_id, &[(header::ETAG, etag)])
}

/// The success body around a resource: `success`, the dialect's `message` where it has one, and
/// `data`, written in the order a `Value` sorts its members.
#[derive(serde::Serialize)]
struct SuccessBody<'a> {
    data: &'a RawValue,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'static str>,
    success: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::MalformedBody;

    fn fields() -> FieldErrors {
        let mut f = FieldErrors::new();
        f.invalid("name", "must be between 3 and 255 characters");
        f.invalid("max_retries", "must be an integer between 0 and 2147483647");
        f.push(
            "uuid",
            FieldErrorKind::Unsupported,
            "is not a supported field",
        );
        f
    }

    #[test]
    fn success_bodies_are_written_as_their_value_form_byte_for_byte() {
        let data = json!({"b": [1, "two", null], "a": {"z": true, "y": 1.5}, "c": "é\"\n"});
        let raw = serde_json::value::to_raw_value(&data).unwrap();
        for dialect in [Dialect::Mindhunters, Dialect::AgentMessage] {
            let resp = success_response(dialect, &raw, 7, RequestId::new());
            let Body::Text(text) = resp.body() else {
                panic!("not a text body")
            };
            let as_value = match dialect {
                Dialect::Mindhunters => {
                    json!({"success": true, "message": "Pool updated successfully", "data": data})
                }
                Dialect::AgentMessage => json!({"success": true, "data": data}),
            };
            assert_eq!(text, &as_value.to_string());
            assert_eq!(resp.headers()[header::ETAG], "\"7\"");
        }
    }

    #[test]
    fn mindhunters_validation_errors_name_the_first_field_and_list_all() {
        let rid = RequestId::new();
        let (status, body) = Dialect::Mindhunters.error_body(&ApiError::Fields(fields()), rid);
        assert_eq!(status, 422);
        assert_eq!(
            body,
            json!({"success": false, "message": "Validation failed",
                "error": {"code": "VALIDATION_ERROR",
                    "details": "name must be between 3 and 255 characters",
                    "field": "name",
                    "fields": {"name": "must be between 3 and 255 characters",
                        "max_retries": "must be an integer between 0 and 2147483647",
                        "uuid": "is not a supported field"},
                    "request_id": rid.to_string()}})
        );
    }

    #[test]
    fn mindhunters_other_errors_have_no_field_keys() {
        let rid = RequestId::new();
        let (status, body) = Dialect::Mindhunters.error_body(&ApiError::NotFound, rid);
        assert_eq!(status, 404);
        assert_eq!(body["message"], "Pool not found");
        assert_eq!(body["error"]["code"], "NOT_FOUND");
        assert_eq!(body["error"]["request_id"], rid.to_string());
        assert!(body["error"].get("field").is_none());
        assert!(body["error"].get("fields").is_none());
    }

    #[test]
    fn agent_message_refused_fields_are_400_with_only_those_details() {
        let rid = RequestId::new();
        let (status, body) = Dialect::AgentMessage.error_body(&ApiError::Fields(fields()), rid);
        assert_eq!(status, 400);
        assert_eq!(
            body,
            json!({"success": false, "error": {"code": "INVALID_INPUT", "message": "invalid input",
                "request_id": rid.to_string(), "details": {"uuid": "is not a supported field"}}})
        );
    }

    #[test]
    fn agent_message_invalid_values_are_422_with_details() {
        let mut f = FieldErrors::new();
        f.invalid("slug", "must be between 1 and 63 characters");
        let (status, body) =
            Dialect::AgentMessage.error_body(&ApiError::Fields(f), RequestId::new());
        assert_eq!(status, 422);
        assert_eq!(body["error"]["code"], "VALIDATION_FAILED");
        assert_eq!(body["error"]["message"], "validation failed");
        assert_eq!(
            body["error"]["details"],
            json!({"slug": "must be between 1 and 63 characters"})
        );
    }

    #[test]
    fn agent_message_conflicts_and_plain_errors() {
        let (s, b) = Dialect::AgentMessage.error_body(&ApiError::SlugTaken, RequestId::new());
        assert_eq!(
            (s, &b["error"]["message"]),
            (409, &json!("slug already in use"))
        );
        assert_eq!(b["error"]["details"], json!({"slug": "already in use"}));
        let (s, b) =
            Dialect::AgentMessage.error_body(&ApiError::InvalidCredentials, RequestId::new());
        assert_eq!(s, 401);
        assert!(b["error"].get("details").is_none());
        assert_eq!(b["error"]["message"], "authentication failed");
    }

    #[test]
    fn every_error_has_a_status_code_and_message_in_both_dialects() {
        let all = [
            (ApiError::MalformedBody(MalformedBody::Syntax), 400),
            (ApiError::MissingCredentials, 401),
            (ApiError::InvalidCredentials, 401),
            (ApiError::MissingScope, 403),
            (ApiError::NotFound, 404),
            (ApiError::MethodNotAllowed { allow: "PUT" }, 405),
            (ApiError::Conflict, 409),
            (ApiError::PreconditionFailed, 412),
            (ApiError::PayloadTooLarge, 413),
            (ApiError::UnsupportedMediaType, 415),
            (ApiError::Internal("x".into()), 500),
            (ApiError::Unavailable("x".into()), 503),
        ];
        for (e, status) in all {
            for d in [Dialect::Mindhunters, Dialect::AgentMessage] {
                assert_eq!(d.render(&e).status, status, "{d:?} {e:?}");
                assert_eq!(e.status(), status);
            }
        }
    }

    #[test]
    fn internal_detail_never_reaches_the_body() {
        let e = ApiError::Internal("secret table name".into());
        for d in [Dialect::Mindhunters, Dialect::AgentMessage] {
            let (_, body) = d.error_body(&e, RequestId::new());
            assert!(!body.to_string().contains("secret"));
        }
    }

    #[test]
    fn headers_follow_the_error() {
        let r = error_response(
            Dialect::Mindhunters,
            &ApiError::MissingCredentials,
            RequestId::new(),
        );
        assert_eq!(r.headers()[header::WWW_AUTHENTICATE], "Bearer");
        let r = error_response(
            Dialect::AgentMessage,
            &ApiError::MethodNotAllowed { allow: "PATCH" },
            RequestId::new(),
        );
        assert_eq!(r.headers()[header::ALLOW], "PATCH");
        let r = error_response(
            Dialect::AgentMessage,
            &ApiError::Unavailable("x".into()),
            RequestId::new(),
        );
        assert_eq!(r.headers()[header::RETRY_AFTER], "1");
        assert_eq!(r.headers()[header::CONTENT_TYPE], "application/json");
        assert_eq!(r.headers()["x-request-id"].len(), 26);
        let ok = success_response(
            Dialect::Mindhunters,
            &serde_json::value::to_raw_value(&json!({})).unwrap(),
            7,
            RequestId::new(),
        );
        assert_eq!(ok.headers()[header::ETAG], "\"7\"");
    }
}
