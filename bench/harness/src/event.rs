//! API Gateway HTTP API (v2) events, from the real event the tests use
//! (`tests/fixtures/apigw-http-v2.json`), adjusted to a route, an id, a key and a body.

use serde_json::{json, Value};
use shared::pipeline::Route;

const HTTP_V2: &str = include_str!("../../../tests/fixtures/apigw-http-v2.json");

/// The event API Gateway would hand the function for `route` on `id`, as JSON text.
pub fn v2_event(route: &Route, id: &str, bearer: Option<&str>, body: &str) -> String {
    let mut ev: Value = serde_json::from_str(HTTP_V2).unwrap_or_else(|_| json!({}));
    let path = format!("{}{}", route.prefix, id);
    let route_key = format!(
        "{} {}{{{}}}",
        route.method.as_str(),
        route.prefix,
        route.param
    );
    if let Some(headers) = ev["headers"].as_object_mut() {
        headers.remove("authorization");
        if let Some(key) = bearer {
            headers.insert("authorization".into(), json!(format!("Bearer {key}")));
        }
        headers.insert("content-type".into(), json!("application/json"));
        headers.insert("content-length".into(), json!(body.len().to_string()));
    }
    ev["rawPath"] = json!(path);
    ev["routeKey"] = json!(route_key);
    ev["pathParameters"] = json!({ route.param: id });
    ev["requestContext"]["http"]["method"] = json!(route.method.as_str());
    ev["requestContext"]["http"]["path"] = json!(path);
    ev["requestContext"]["routeKey"] = json!(route_key);
    ev["body"] = json!(body);
    ev["isBase64Encoded"] = json!(false);
    ev.to_string()
}

/// The request the function receives for that event.
pub fn request(event: &str) -> Result<lambda_http::Request, String> {
    lambda_http::request::from_str(event).map_err(|e| format!("lambda_http rejects the event: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use endpoints::Function;
    use lambda_http::RequestExt;

    #[test]
    fn the_event_reads_as_the_routes_request() {
        let ev = v2_event(
            Function::UpdateContactPool.route(),
            "3c90c3cc-0d44-4b50-8888-8dd25736052a",
            Some("am_live_x"),
            "{\"name\":\"abc\"}",
        );
        let req = request(&ev).expect("a request");
        assert_eq!(req.method().as_str(), "PUT");
        assert_eq!(
            req.uri().path(),
            "/api/v1/pools/3c90c3cc-0d44-4b50-8888-8dd25736052a"
        );
        assert_eq!(
            req.headers()
                .get("authorization")
                .and_then(|v| v.to_str().ok()),
            Some("Bearer am_live_x")
        );
        assert_eq!(
            req.path_parameters_ref().and_then(|p| p.first("uuid")),
            Some("3c90c3cc-0d44-4b50-8888-8dd25736052a")
        );
        assert_eq!(req.body().as_ref(), b"{\"name\":\"abc\"}");
    }

    #[test]
    fn without_a_key_there_is_no_authorization_header() {
        let ev = v2_event(Function::PatchGuardrailPool.route(), "x", None, "{}");
        let req = request(&ev).expect("a request");
        assert!(req.headers().get("authorization").is_none());
        assert_eq!(req.method().as_str(), "PATCH");
    }
}
