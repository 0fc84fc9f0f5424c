//! Support for the workspace's tests: API Gateway events, DynamoDB Local, seeding, and the store
//! contract suite both adapters run.

pub mod contract;
pub mod demo;
pub mod dynamo;
pub mod emf;
pub mod endpoint;
pub mod events;
pub mod faults;
pub mod http_client;
pub mod lambda;
pub mod openapi;
pub mod processes;
pub mod runtime_api;
pub mod seed;
pub mod tls;

use lambda_http::http::HeaderMap;
use lambda_http::{Body, Response};
use serde_json::Value;

/// A handler's response, read back.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
    /// The body as sent, for what a `Value` forgets (the order of members).
    pub text: String,
}

impl Reply {
    pub fn from_response(resp: Response<Body>) -> Self {
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = match resp.body() {
            Body::Text(t) => t.clone(),
            Body::Binary(b) => String::from_utf8_lossy(b).into_owned(),
            _ => String::new(),
        };
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Self {
            status,
            headers,
            body,
            text,
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

    /// Where each of `members` (written as `"name":`) first stands in the body's text; panics
    /// unless they stand in that order, so a test can say "the body's members are in the order
    /// API.md shows".
    pub fn assert_member_order(&self, members: &[&str]) {
        let mut last = 0;
        for m in members {
            let needle = format!("\"{m}\":");
            let at = self.text[last..]
                .find(&needle)
                .unwrap_or_else(|| panic!("{m} missing or out of order in {}", self.text));
            last += at + needle.len();
        }
    }

    /// Dialect M's and A's error code.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

use std::sync::Arc;

use shared::store::memory::MemoryStore;
use shared::store::StoreAdmin;

/// Which store a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Memory,
    Dynamo,
}

/// The stores to run on: memory, and DynamoDB Local when it is
/// [`available`](dynamo::available).
pub fn backends() -> Vec<Backend> {
    let mut b = vec![Backend::Memory];
    if dynamo::available() {
        b.push(Backend::Dynamo);
    }
    b
}

pub async fn store(b: Backend) -> Arc<dyn StoreAdmin> {
    match b {
        Backend::Memory => Arc::new(MemoryStore::new()),
        Backend::Dynamo => Arc::new(dynamo::store().await),
    }
}

/// The headers and body every response carries: JSON, a ULID `X-Request-Id`, and on errors
/// that id again in the body.
pub fn assert_common(r: &Reply) {
    assert_eq!(r.header("content-type"), Some("application/json"), "{r:?}");
    let rid = r.header("x-request-id").expect("X-Request-Id");
    assert_eq!(rid.len(), 26, "{rid}");
    assert!(rid.parse::<ulid_check::Ulid>().is_ok(), "{rid}");
    if r.status >= 400 {
        assert_eq!(r.body["success"], false);
        assert_eq!(r.body["error"]["request_id"], rid, "{r:?}");
    } else {
        assert_eq!(r.body["success"], true);
    }
}

/// A dialect M error: status, code and top-level message.
pub fn assert_m_error(r: &Reply, status: u16, code: &str, message: &str) {
    assert_eq!((r.status, r.code()), (status, code), "{r:?}");
    assert_eq!(r.body["message"], message, "{r:?}");
    assert!(r.body["error"]["details"].is_string(), "{r:?}");
    // API.md §2's order: success, message, error {code, details, field?, fields?, request_id}.
    let mut order = vec!["success", "message", "error", "code", "details"];
    if r.body["error"].get("field").is_some() {
        order.extend(["field", "fields"]);
    }
    order.push("request_id");
    r.assert_member_order(&order);
    assert_common(r);
}

/// A dialect A error: status, code and message (inside `error`).
pub fn assert_a_error(r: &Reply, status: u16, code: &str, message: &str) {
    assert_eq!((r.status, r.code()), (status, code), "{r:?}");
    assert_eq!(r.body["error"]["message"], message, "{r:?}");
    assert!(r.body.get("data").is_none(), "{r:?}");
    // API.md §3's order: success, error {code, message, request_id, details?}.
    let mut order = vec!["success", "error", "code", "message", "request_id"];
    if r.body["error"].get("details").is_some() {
        order.push("details");
    }
    r.assert_member_order(&order);
    assert_common(r);
}

mod ulid_check {
    //! A ULID is 26 Crockford base32 characters whose first is at most 7.
    pub struct Ulid;

    impl std::str::FromStr for Ulid {
        type Err = ();

        fn from_str(s: &str) -> Result<Self, ()> {
            let ok = s.len() == 26
                && s.starts_with(|c: char| ('0'..='7').contains(&c))
                && s.chars()
                    .all(|c| "0123456789ABCDEFGHJKMNPQRSTVWXYZ".contains(c));
            if ok {
                Ok(Ulid)
            } else {
                Err(())
            }
        }
    }
}
