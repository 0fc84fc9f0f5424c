//! The two response dialects: Mindhunters (M, contact pools, [`mindhunters`]) and AgentMessage
//! (A, guardrail pools, [`agent_message`]). Each owns its table of status, code and message and
//! writes its own bodies; this module picks the dialect and adds the headers every response
//! carries. Bodies are written from structs, so their members come in the order API.md shows.

pub mod agent_message;
pub mod mindhunters;

use lambda_http::http::{header, HeaderValue, Response, StatusCode};
use lambda_http::Body;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::value::RawValue;

use crate::domain::validation::FieldError;
use crate::error::ApiError;
use crate::request_id::RequestId;

/// Seconds a client should wait after a 503.
pub const RETRY_AFTER_SECS: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Mindhunters,
    AgentMessage,
}

/// How an error looks in a dialect: its row of the dialect's table.
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
            Self::Mindhunters => mindhunters::table(e),
            Self::AgentMessage => agent_message::table(e),
        };
        Rendered {
            status,
            code,
            message,
        }
    }

    /// The error's status and body (JSON text).
    pub fn error_body(self, e: &ApiError, request_id: RequestId) -> (u16, String) {
        match self {
            Self::Mindhunters => (
                mindhunters::table(e).0,
                mindhunters::error_body(e, request_id),
            ),
            Self::AgentMessage => (
                agent_message::table(e).0,
                agent_message::error_body(e, request_id),
            ),
        }
    }

    /// The `message` of a success body, where the dialect has one.
    fn success_message(self) -> Option<&'static str> {
        match self {
            Self::Mindhunters => Some(mindhunters::SUCCESS_MESSAGE),
            Self::AgentMessage => None,
        }
    }
}

/// A JSON object written from pairs, in their order (a `Value`'s object would sort them).
pub(crate) struct Pairs<'a>(pub Vec<(&'a str, &'a str)>);

impl<'a> Pairs<'a> {
    /// Field to message, in report order; a field named twice keeps its first message. Linear
    /// in the number of fields (a 64 KiB body can name thousands).
    pub(crate) fn fields(errors: impl Iterator<Item = &'a FieldError>) -> Self {
        let mut seen = std::collections::HashSet::new();
        Self(
            errors
                .filter(|e| seen.insert(e.field.as_str()))
                .map(|e| (e.field.as_str(), e.message.as_str()))
                .collect(),
        )
    }
}

impl Serialize for Pairs<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// A body struct as JSON text. The bodies are strings, booleans and already serialized JSON,
/// which cannot fail to serialize; were it ever to, the body would be empty rather than a panic.
fn to_json<T: Serialize>(body: &T) -> String {
    serde_json::to_string(body).unwrap_or_default()
}

/// A response with the JSON `text` and the headers every response carries.
pub fn json_response(
    status: u16,
    text: String,
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
/// The error is rendered once, here; its status is the response's.
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
    json_response(status, body, request_id, &extra)
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
        success: true,
        message: dialect.success_message(),
        data,
    };
    json_response(200, to_json(&body), request_id, &[(header::ETAG, etag)])
}

/// The success body around a resource, in the contract's order: `success`, the dialect's
/// `message` where it has one, and `data` (already serialized, in its table's order).
#[derive(serde::Serialize)]
struct SuccessBody<'a> {
    success: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'static str>,
    data: &'a RawValue,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::validation::{FieldErrorKind, FieldErrors};
    use crate::error::MalformedBody;
    use serde_json::{json, Value};

    /// The status and body of an error, the body read back as a `Value`.
    fn parsed(d: Dialect, e: &ApiError, rid: RequestId) -> (u16, Value) {
        let (status, text) = d.error_body(e, rid);
        (status, serde_json::from_str(&text).unwrap())
    }

    fn text(resp: &Response<Body>) -> &str {
        match resp.body() {
            Body::Text(t) => t,
            _ => panic!("not a text body"),
        }
    }

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
    fn success_bodies_are_success_message_data_in_that_order_byte_for_byte() {
        let raw = RawValue::from_string(r#"{"z":1,"a":[true,null]}"#.to_owned()).unwrap();
        let m = success_response(Dialect::Mindhunters, &raw, 7, RequestId::new());
        assert_eq!(
            text(&m),
            r#"{"success":true,"message":"Pool updated successfully","data":{"z":1,"a":[true,null]}}"#
        );
        assert_eq!(m.headers()[header::ETAG], "\"7\"");
        let a = success_response(Dialect::AgentMessage, &raw, 8, RequestId::new());
        assert_eq!(
            text(&a),
            r#"{"success":true,"data":{"z":1,"a":[true,null]}}"#
        );
        assert_eq!(a.headers()[header::ETAG], "\"8\"");
    }

    #[test]
    fn error_bodies_are_in_the_contracts_member_order_byte_for_byte() {
        let rid = RequestId::new();
        let (_, m) = Dialect::Mindhunters.error_body(&ApiError::Fields(fields()), rid);
        assert_eq!(
            m,
            format!(
                r#"{{"success":false,"message":"Validation failed","error":{{"code":"VALIDATION_ERROR","details":"name must be between 3 and 255 characters","field":"name","fields":{{"name":"must be between 3 and 255 characters","max_retries":"must be an integer between 0 and 2147483647","uuid":"is not a supported field"}},"request_id":"{rid}"}}}}"#
            )
        );
        let (_, m) = Dialect::Mindhunters.error_body(&ApiError::NotFound, rid);
        assert_eq!(
            m,
            format!(
                r#"{{"success":false,"message":"Pool not found","error":{{"code":"NOT_FOUND","details":"Pool not found","request_id":"{rid}"}}}}"#
            )
        );
        let (_, a) = Dialect::AgentMessage.error_body(&ApiError::SlugTaken, rid);
        assert_eq!(
            a,
            format!(
                r#"{{"success":false,"error":{{"code":"CONFLICT","message":"slug already in use","request_id":"{rid}","details":{{"slug":"already in use"}}}}}}"#
            )
        );
        let (_, a) = Dialect::AgentMessage.error_body(&ApiError::MissingScope, rid);
        assert_eq!(
            a,
            format!(
                r#"{{"success":false,"error":{{"code":"FORBIDDEN","message":"missing required scope","request_id":"{rid}"}}}}"#
            )
        );
    }

    #[test]
    fn mindhunters_validation_errors_name_the_first_field_and_list_all() {
        let rid = RequestId::new();
        let (status, body) = parsed(Dialect::Mindhunters, &ApiError::Fields(fields()), rid);
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
        let (status, body) = parsed(Dialect::Mindhunters, &ApiError::NotFound, rid);
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
        let (status, body) = parsed(Dialect::AgentMessage, &ApiError::Fields(fields()), rid);
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
        let (status, body) = parsed(
            Dialect::AgentMessage,
            &ApiError::Fields(f),
            RequestId::new(),
        );
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
        let (s, b) = parsed(
            Dialect::AgentMessage,
            &ApiError::SlugTaken,
            RequestId::new(),
        );
        assert_eq!(
            (s, &b["error"]["message"]),
            (409, &json!("slug already in use"))
        );
        assert_eq!(b["error"]["details"], json!({"slug": "already in use"}));
        let (s, b) = parsed(
            Dialect::AgentMessage,
            &ApiError::InvalidCredentials,
            RequestId::new(),
        );
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
            (ApiError::InvalidIdempotencyKey, 400),
            (ApiError::IdempotencyKeyReused, 422),
        ];
        for (e, status) in all {
            for d in [Dialect::Mindhunters, Dialect::AgentMessage] {
                assert_eq!(d.render(&e).status, status, "{d:?} {e:?}");
                assert_eq!(d.error_body(&e, RequestId::new()).0, status, "{d:?} {e:?}");
                assert_eq!(
                    error_response(d, &e, RequestId::new()).status().as_u16(),
                    status
                );
            }
        }
    }

    #[test]
    fn idempotency_errors_are_api_md_s_rows_byte_for_byte() {
        let rid = RequestId::new();
        let (s, m) = Dialect::Mindhunters.error_body(&ApiError::InvalidIdempotencyKey, rid);
        assert_eq!(s, 400);
        assert_eq!(
            m,
            format!(
                r#"{{"success":false,"message":"Invalid Idempotency-Key header","error":{{"code":"INVALID_IDEMPOTENCY_KEY","details":"Invalid Idempotency-Key header","request_id":"{rid}"}}}}"#
            )
        );
        let (s, m) = Dialect::Mindhunters.error_body(&ApiError::IdempotencyKeyReused, rid);
        assert_eq!(s, 422);
        assert_eq!(
            m,
            format!(
                r#"{{"success":false,"message":"Idempotency-Key was already used with a different request","error":{{"code":"IDEMPOTENCY_KEY_REUSED","details":"Idempotency-Key was already used with a different request","request_id":"{rid}"}}}}"#
            )
        );
        let (s, a) = Dialect::AgentMessage.error_body(&ApiError::InvalidIdempotencyKey, rid);
        assert_eq!(s, 400);
        assert_eq!(
            a,
            format!(
                r#"{{"success":false,"error":{{"code":"INVALID_INPUT","message":"invalid input","request_id":"{rid}","details":{{"Idempotency-Key":"must be 1 to 255 visible ASCII characters, no comma"}}}}}}"#
            )
        );
        let (s, a) = Dialect::AgentMessage.error_body(&ApiError::IdempotencyKeyReused, rid);
        assert_eq!(s, 422);
        assert_eq!(
            a,
            format!(
                r#"{{"success":false,"error":{{"code":"IDEMPOTENCY_KEY_REUSED","message":"idempotency key already used with a different request","request_id":"{rid}","details":{{"Idempotency-Key":"already used with a different request"}}}}}}"#
            )
        );
    }

    #[test]
    fn internal_detail_never_reaches_the_body() {
        let e = ApiError::Internal("secret table name".into());
        for d in [Dialect::Mindhunters, Dialect::AgentMessage] {
            let (_, body) = parsed(d, &e, RequestId::new());
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
