//! A loopback proxy in front of DynamoDB Local that misbehaves on purpose: for chosen
//! operations (by `X-Amz-Target`) it answers with a DynamoDB error, hangs, or drops the
//! connection, before or after forwarding the request (an answer lost after DynamoDB applied
//! it); everything else it forwards. The SDK under test talks to it over real HTTP.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{json, Value};
use tokio::net::TcpListener;

/// What to do with a matching request.
#[derive(Debug, Clone)]
pub enum Action {
    /// Answer with this DynamoDB error (status, `__type` short name, extra body fields).
    Error {
        status: u16,
        error_type: &'static str,
        extra: Value,
    },
    /// Never answer.
    Hang,
    /// Drop the connection without an answer.
    Drop,
    /// Forward the request, wait for DynamoDB's answer, then drop the connection without
    /// answering: the write is applied, its answer lost.
    ForwardThenDrop,
    /// Forward the request, wait for DynamoDB's answer, then never answer: the write is
    /// applied and the SDK's attempt timeout fires.
    ForwardThenHang,
}

impl Action {
    pub fn error(status: u16, error_type: &'static str) -> Self {
        Self::Error {
            status,
            error_type,
            extra: json!({}),
        }
    }

    /// A cancelled transaction with these reason codes, in action order.
    pub fn cancelled(codes: &[&str]) -> Self {
        let reasons: Vec<Value> = codes.iter().map(|c| json!({"Code": c})).collect();
        Self::Error {
            status: 400,
            error_type: "TransactionCanceledException",
            extra: json!({"CancellationReasons": reasons}),
        }
    }
}

/// A fault: `action` for the next `times` requests of operation `op` (e.g. `UpdateItem`).
#[derive(Debug, Clone)]
pub struct Rule {
    pub op: &'static str,
    pub times: usize,
    pub action: Action,
}

pub struct FaultProxy {
    pub url: String,
    rules: Arc<Mutex<Vec<Rule>>>,
    /// Requests seen, by operation (faulted or forwarded).
    counts: Arc<Mutex<std::collections::HashMap<String, usize>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultProxy {
    /// Starts a proxy to `upstream` on an ephemeral loopback port.
    pub async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let rules: Arc<Mutex<Vec<Rule>>> = Arc::default();
        let counts: Arc<Mutex<std::collections::HashMap<String, usize>>> = Arc::default();
        let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
        let shared_rules = rules.clone();
        let shared_counts = counts.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (rules, counts, client, upstream) = (
                    shared_rules.clone(),
                    shared_counts.clone(),
                    client.clone(),
                    upstream.clone(),
                );
                tokio::spawn(async move {
                    let service = service_fn(move |req: Request<Incoming>| {
                        let (rules, counts, client, upstream) = (
                            rules.clone(),
                            counts.clone(),
                            client.clone(),
                            upstream.clone(),
                        );
                        async move { handle(req, &rules, &counts, &client, &upstream).await }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self {
            url,
            rules,
            counts,
            task,
        }
    }

    /// How many requests of operation `op` (e.g. `TransactWriteItems`) reached the proxy.
    pub fn count(&self, op: &str) -> usize {
        self.counts.lock().unwrap().get(op).copied().unwrap_or(0)
    }

    pub fn add(&self, rule: Rule) {
        self.rules.lock().unwrap().push(rule);
    }

    pub fn clear(&self) {
        self.rules.lock().unwrap().clear();
    }
}

type Upstream = Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

async fn handle(
    req: Request<Incoming>,
    rules: &Mutex<Vec<Rule>>,
    counts: &Mutex<std::collections::HashMap<String, usize>>,
    client: &Upstream,
    upstream: &str,
) -> Result<Response<Full<Bytes>>, std::io::Error> {
    let op = req
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.split('.').nth(1))
        .unwrap_or("")
        .to_owned();
    *counts.lock().unwrap().entry(op.clone()).or_default() += 1;
    let action = {
        let mut rules = rules.lock().unwrap();
        rules
            .iter_mut()
            .find(|r| r.op == op && r.times > 0)
            .map(|r| {
                r.times -= 1;
                r.action.clone()
            })
    };
    match action {
        Some(Action::Error {
            status,
            error_type,
            extra,
        }) => {
            let mut body = json!({
                "__type": format!("com.amazonaws.dynamodb.v20120810#{error_type}"),
                "message": format!("injected {error_type}"),
            });
            if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
                b.extend(e.clone());
            }
            Ok(Response::builder()
                .status(status)
                .header("content-type", "application/x-amz-json-1.0")
                .header("x-amzn-errortype", error_type)
                .header("x-amzn-requestid", "injected")
                .body(Full::new(Bytes::from(body.to_string())))
                .map_err(io)?)
        }
        Some(Action::Hang) => {
            tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
            Err(io("hung"))
        }
        Some(Action::Drop) => Err(io("dropped on purpose")),
        Some(Action::ForwardThenDrop) => {
            forward(req, client, upstream).await?;
            Err(io("answer dropped on purpose"))
        }
        Some(Action::ForwardThenHang) => {
            forward(req, client, upstream).await?;
            tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
            Err(io("answer withheld"))
        }
        None => forward(req, client, upstream).await,
    }
}

/// Sends the request on to DynamoDB Local and returns its answer.
async fn forward(
    req: Request<Incoming>,
    client: &Upstream,
    upstream: &str,
) -> Result<Response<Full<Bytes>>, std::io::Error> {
    let (parts, body) = req.into_parts();
    let bytes = body.collect().await.map_err(io)?.to_bytes();
    let uri = format!("{upstream}{}", parts.uri.path());
    let mut out = Request::builder().method(parts.method).uri(uri);
    for (k, v) in &parts.headers {
        out = out.header(k, v);
    }
    let req = out.body(Full::new(bytes)).map_err(io)?;
    let resp = client.request(req).await.map_err(io)?;
    let (parts, body) = resp.into_parts();
    let bytes = body.collect().await.map_err(io)?.to_bytes();
    Ok(Response::from_parts(parts, Full::new(bytes)))
}

fn io(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(e.to_string())
}
