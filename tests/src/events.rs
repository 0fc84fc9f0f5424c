//! Requests as API Gateway hands them to a function: real REST (v1) and HTTP API (v2) event
//! JSON from `fixtures/`, adjusted per call and read by `lambda_http::request::from_str`.

use lambda_http::Request;
use serde_json::{json, Map, Value};
use shared::pipeline::Route;

const REST_V1: &str = include_str!("../fixtures/apigw-rest-v1.json");
const HTTP_V2: &str = include_str!("../fixtures/apigw-http-v2.json");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gateway {
    RestV1,
    HttpV2,
}

pub const BOTH: [Gateway; 2] = [Gateway::RestV1, Gateway::HttpV2];

/// One HTTP call to a route.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    pub path: String,
    /// The route's path parameter; `None` mimics a function URL (no path parameters).
    pub path_param: Option<(String, String)>,
    pub resource: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
}

impl Call {
    /// A call of the route's own method on `id`, with no headers and no body.
    pub fn to(route: &Route, id: &str) -> Self {
        Self {
            method: route.method.as_str().to_owned(),
            path: format!("{}{}", route.prefix, id),
            path_param: Some((route.param.to_owned(), id.to_owned())),
            resource: format!("{}{{{}}}", route.prefix, route.param),
            headers: Vec::new(),
            body: None,
        }
    }

    pub fn method(mut self, m: &str) -> Self {
        self.method = m.to_owned();
        self
    }

    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.to_owned(), v.to_owned()));
        self
    }

    pub fn bearer(self, key: &str) -> Self {
        self.header("Authorization", &format!("Bearer {key}"))
    }

    /// A JSON body with `Content-Type: application/json`.
    pub fn json(self, body: &Value) -> Self {
        self.header("Content-Type", "application/json")
            .raw_body(body.to_string().into_bytes())
    }

    pub fn raw_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// No path parameters, only the raw path (function URLs, `cargo lambda watch`).
    pub fn without_path_parameters(mut self) -> Self {
        self.path_param = None;
        self
    }

    pub fn path(mut self, p: &str) -> Self {
        self.path = p.to_owned();
        self
    }

    /// The event JSON API Gateway would send.
    pub fn event(&self, gw: Gateway) -> Value {
        let mut ev: Value = serde_json::from_str(match gw {
            Gateway::RestV1 => REST_V1,
            Gateway::HttpV2 => HTTP_V2,
        })
        .expect("fixture is JSON");
        let (body, base64) = match &self.body {
            None => (Value::Null, false),
            Some(b) => match std::str::from_utf8(b) {
                Ok(s) => (Value::String(s.to_owned()), false),
                Err(_) => (Value::String(base64(b)), true),
            },
        };
        let params = match &self.path_param {
            Some((k, v)) => json!({ k: v }),
            None => Value::Null,
        };
        let mut base: Map<String, Value> = Map::new();
        for (k, v) in [("Host", "api.example.com"), ("User-Agent", "curl/8.5.0")] {
            base.insert(k.to_owned(), json!(v));
        }
        match gw {
            Gateway::RestV1 => {
                let mut single = Map::new();
                let mut multi: Map<String, Value> = Map::new();
                for (k, v) in &self.headers {
                    single.insert(k.clone(), json!(v));
                    multi
                        .entry(k.clone())
                        .or_insert_with(|| json!([]))
                        .as_array_mut()
                        .expect("array")
                        .push(json!(v));
                }
                ev["headers"] = Value::Object(single);
                ev["multiValueHeaders"] = Value::Object(multi);
                ev["httpMethod"] = json!(self.method);
                ev["path"] = json!(self.path);
                ev["resource"] = json!(self.resource);
                ev["pathParameters"] = params;
                ev["requestContext"]["httpMethod"] = json!(self.method);
                ev["requestContext"]["resourcePath"] = json!(self.resource);
                ev["requestContext"]["path"] = json!(format!("/prod{}", self.path));
            }
            Gateway::HttpV2 => {
                // HTTP APIs lower-case header names and join repeated headers with commas.
                let mut headers: Map<String, Value> = Map::new();
                for (k, v) in &self.headers {
                    let k = k.to_ascii_lowercase();
                    let joined = match headers.get(&k).and_then(Value::as_str) {
                        Some(prev) => format!("{prev},{v}"),
                        None => v.clone(),
                    };
                    headers.insert(k, json!(joined));
                }
                if let Some(b) = &self.body {
                    headers.insert("content-length".into(), json!(b.len().to_string()));
                }
                let route_key = format!("{} {}", self.method, self.resource);
                ev["headers"] = Value::Object(headers);
                ev["rawPath"] = json!(self.path);
                ev["routeKey"] = json!(route_key);
                ev["pathParameters"] = params;
                ev["requestContext"]["http"]["method"] = json!(self.method);
                ev["requestContext"]["http"]["path"] = json!(self.path);
                ev["requestContext"]["routeKey"] = json!(route_key);
            }
        }
        ev["body"] = body;
        ev["isBase64Encoded"] = json!(base64);
        ev
    }

    /// The `lambda_http::Request` the function receives for this call.
    pub fn request(&self, gw: Gateway) -> Request {
        lambda_http::request::from_str(&self.event(gw).to_string())
            .expect("lambda_http reads the event")
    }
}

fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
