//! A real HTTP/1.1 client (hyper) for tests that go over the wire to `local-api`.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use lambda_http::http::{Method, Request};
use serde_json::Value;

use crate::Reply;

/// One HTTP request, built up like [`crate::events::Call`].
#[derive(Debug, Clone)]
pub struct HttpCall {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpCall {
    pub fn new(method: &str, url: impl Into<String>) -> Self {
        Self {
            method: Method::from_bytes(method.as_bytes()).expect("a method"),
            url: url.into(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.to_owned(), v.to_owned()));
        self
    }

    pub fn bearer(self, key: &str) -> Self {
        self.header("Authorization", &format!("Bearer {key}"))
    }

    pub fn if_match(self, version: u64) -> Self {
        self.header("If-Match", &format!("\"{version}\""))
    }

    /// A JSON body with `Content-Type: application/json`.
    pub fn json(self, body: &Value) -> Self {
        self.header("Content-Type", "application/json")
            .raw_body(body.to_string())
    }

    pub fn raw_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// Sends it and reads the whole response; the body is parsed as JSON (`Null` if it is not).
    pub async fn send(&self) -> Reply {
        self.send_raw().await.0
    }

    /// [`Self::send`], with the body's bytes too.
    pub async fn send_raw(&self) -> (Reply, Bytes) {
        let client: Client<HttpConnector, Full<Bytes>> =
            Client::builder(TokioExecutor::new()).build_http();
        let mut req = Request::builder()
            .method(self.method.clone())
            .uri(&self.url);
        for (k, v) in &self.headers {
            req = req.header(k, v);
        }
        let req = req
            .body(Full::new(Bytes::from(self.body.clone())))
            .expect("a valid request");
        let resp = client
            .request(req)
            .await
            .unwrap_or_else(|e| panic!("{} {}: {e:?}", self.method, self.url));
        let (parts, body) = resp.into_parts();
        let bytes = body.collect().await.expect("the response body").to_bytes();
        let reply = Reply {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            text: String::from_utf8_lossy(&bytes).into_owned(),
        };
        (reply, bytes)
    }
}
