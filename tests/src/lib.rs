//! Support for the workspace's tests: API Gateway events, DynamoDB Local, seeding, and the store
//! contract suite both adapters run.

pub mod contract;
pub mod dynamo;
pub mod events;
pub mod seed;

use lambda_http::http::HeaderMap;
use lambda_http::{Body, Response};
use serde_json::Value;

/// A handler's response, read back.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn from_response(resp: Response<Body>) -> Self {
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = match resp.body() {
            Body::Text(t) => serde_json::from_str(t).unwrap_or(Value::Null),
            Body::Binary(b) => serde_json::from_slice(b).unwrap_or(Value::Null),
            Body::Empty => Value::Null,
            _ => Value::Null,
        };
        Self {
            status,
            headers,
            body,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `ETag` as a version number.
    pub fn version(&self) -> u64 {
        self.header("etag")
            .and_then(|e| e.trim_matches('"').parse().ok())
            .expect("response has a numeric ETag")
    }

    /// Dialect M's and A's error code.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}
