//! A fake Lambda Runtime API on loopback, for running a real function binary as Lambda runs it
//! (`AWS_LAMBDA_RUNTIME_API=127.0.0.1:<port>`): `GET /2018-06-01/runtime/invocation/next` hands
//! out the next queued invocation (held open while there is none, as Lambda holds it) with the
//! headers Lambda sends (`Lambda-Runtime-Aws-Request-Id`, `-Deadline-Ms`,
//! `-Invoked-Function-Arn`, `-Trace-Id`), and `POST …/invocation/{id}/response`, `…/{id}/error`
//! and `/runtime/init/error` take the function's answers.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, Mutex};

const NEXT: &str = "/2018-06-01/runtime/invocation/next";
const INVOCATION: &str = "/2018-06-01/runtime/invocation/";

/// One invocation: the event and the context Lambda gives with it.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub request_id: String,
    /// `Lambda-Runtime-Trace-Id` (X-Ray), if any.
    pub trace_id: Option<String>,
    pub function_arn: String,
    /// The event's JSON.
    pub event: String,
}

/// What the function answered.
#[derive(Debug, Clone)]
pub enum Answer {
    /// `POST …/{id}/response`: the request id and the body (API Gateway's response JSON).
    Response { request_id: String, body: String },
    /// `POST …/{id}/error`.
    Error { request_id: String, body: String },
    /// `POST /2018-06-01/runtime/init/error`: the function failed to start.
    InitError { body: String },
}

struct State {
    queue: Mutex<mpsc::UnboundedReceiver<Invocation>>,
    answers: mpsc::UnboundedSender<Answer>,
}

/// The server: queue invocations, read answers.
pub struct FakeRuntimeApi {
    /// `127.0.0.1:<port>`: the value of `AWS_LAMBDA_RUNTIME_API`.
    pub address: String,
    queue: mpsc::UnboundedSender<Invocation>,
    answers: mpsc::UnboundedReceiver<Answer>,
}

impl FakeRuntimeApi {
    /// Binds a loopback port and serves on the current runtime until it ends.
    pub async fn start() -> Self {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("bind the fake Runtime API");
        let address = listener.local_addr().expect("its address").to_string();
        let (queue_tx, queue_rx) = mpsc::unbounded_channel();
        let (answers_tx, answers_rx) = mpsc::unbounded_channel();
        let state = Arc::new(State {
            queue: Mutex::new(queue_rx),
            answers: answers_tx,
        });
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = state.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| handle(req, state.clone()));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self {
            address,
            queue: queue_tx,
            answers: answers_rx,
        }
    }

    /// Queues `inv` and waits (at most `patience`) for the function's answer to it.
    pub async fn invoke(&mut self, inv: Invocation, patience: Duration) -> Answer {
        let id = inv.request_id.clone();
        self.queue.send(inv).expect("the server is running");
        let wait = async {
            loop {
                match self.answers.recv().await.expect("the server is running") {
                    Answer::Response { request_id, .. } | Answer::Error { request_id, .. }
                        if request_id != id => {}
                    answer => return answer,
                }
            }
        };
        tokio::time::timeout(patience, wait)
            .await
            .unwrap_or_else(|_| panic!("no answer to invocation {id} within {patience:?}"))
    }
}

fn reply(status: u16, body: &str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_owned())))
        .expect("a valid response")
}

async fn handle(
    req: Request<Incoming>,
    state: Arc<State>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let path = req.uri().path().to_owned();
    if req.method() == Method::GET && path == NEXT {
        let next = state.queue.lock().await.recv().await;
        let Some(inv) = next else {
            return Ok(reply(410, "{}"));
        };
        let deadline = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() + 60_000)
            .unwrap_or(0);
        let mut resp = Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .header("lambda-runtime-aws-request-id", &inv.request_id)
            .header("lambda-runtime-deadline-ms", deadline.to_string())
            .header("lambda-runtime-invoked-function-arn", &inv.function_arn);
        if let Some(t) = &inv.trace_id {
            resp = resp.header("lambda-runtime-trace-id", t);
        }
        return Ok(resp
            .body(Full::new(Bytes::from(inv.event)))
            .expect("a valid response"));
    }
    let body = req.into_body().collect().await?.to_bytes();
    let body = String::from_utf8_lossy(&body).into_owned();
    let answer = if path == "/2018-06-01/runtime/init/error" {
        Some(Answer::InitError { body })
    } else if let Some(rest) = path.strip_prefix(INVOCATION) {
        match rest.rsplit_once('/') {
            Some((id, "response")) => Some(Answer::Response {
                request_id: id.to_owned(),
                body,
            }),
            Some((id, "error")) => Some(Answer::Error {
                request_id: id.to_owned(),
                body,
            }),
            _ => None,
        }
    } else {
        None
    };
    Ok(match answer {
        Some(a) => {
            let _ = state.answers.send(a);
            reply(202, r#"{"status":"OK"}"#)
        }
        None => reply(404, r#"{"errorMessage":"unknown path"}"#),
    })
}
