//! A minimal Lambda Runtime API on loopback, as the Lambda service offers it to a custom
//! runtime (`AWS_LAMBDA_RUNTIME_API`): `GET /2018-06-01/runtime/invocation/next` hands out the
//! one pending invocation, `POST …/invocation/<id>/response` and `…/error` take the answer, and
//! a `/next` with nothing pending is held open, as Lambda holds it while the function is idle.
//! Every arrival is timestamped when its head and body have been read.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::io::BufReader;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use crate::http1::{encode, read_message, write_all};

pub const NEXT: &str = "/2018-06-01/runtime/invocation/next";
const INVOCATION: &str = "/2018-06-01/runtime/invocation/";

/// The event to hand out at the next `/next`.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub request_id: String,
    pub payload: String,
}

/// What the function did, when.
#[derive(Debug)]
pub enum Arrival {
    /// A `/next` that received the pending invocation: arrived at `at`, the event was written
    /// to the socket by `sent`.
    Next { at: Instant, sent: Instant },
    /// A `/next` with nothing pending: the function is idle, waiting for work.
    Idle { at: Instant },
    Response {
        at: Instant,
        request_id: String,
        body: Vec<u8>,
    },
    /// `…/error` or `/runtime/init/error`.
    Error {
        at: Instant,
        path: String,
        body: Vec<u8>,
    },
}

struct State {
    pending: Mutex<Option<Invocation>>,
    arrivals: mpsc::UnboundedSender<Arrival>,
}

/// The server's handle: set the next invocation, receive arrivals.
pub struct RuntimeApi {
    /// `127.0.0.1:<port>`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub address: String,
    state: Arc<State>,
    arrivals: mpsc::UnboundedReceiver<Arrival>,
}

impl RuntimeApi {
    /// Binds a loopback port and serves in the background (on the current runtime).
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let address = listener.local_addr()?.to_string();
        let (tx, rx) = mpsc::unbounded_channel();
        let state = Arc::new(State {
            pending: Mutex::new(None),
            arrivals: tx,
        });
        let st = state.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                tokio::spawn(connection(stream, st.clone()));
            }
        });
        Ok(Self {
            address,
            state,
            arrivals: rx,
        })
    }

    /// Forgets whatever earlier processes left behind and queues `inv` for the next `/next`.
    pub fn prepare(&mut self, inv: Invocation) {
        while self.arrivals.try_recv().is_ok() {}
        *self.state.pending.lock().unwrap_or_else(|p| p.into_inner()) = Some(inv);
    }

    /// The next arrival, or `None` after `timeout`.
    pub async fn arrival(&mut self, timeout: Duration) -> Option<Arrival> {
        tokio::time::timeout(timeout, self.arrivals.recv())
            .await
            .ok()
            .flatten()
    }
}

async fn connection(stream: TcpStream, st: Arc<State>) {
    let (r, mut w) = stream.into_split();
    let mut r = BufReader::new(r);
    while let Ok(Some(msg)) = read_message(&mut r).await {
        let at = Instant::now();
        let (method, path) = msg.method_path();
        let (method, path) = (method.to_owned(), path.to_owned());
        if method == "GET" && path == NEXT {
            let pending = st.pending.lock().unwrap_or_else(|p| p.into_inner()).take();
            let Some(inv) = pending else {
                let _ = st.arrivals.send(Arrival::Idle { at });
                // Held, as Lambda holds it, until the process goes away.
                while let Ok(Some(_)) = read_message(&mut r).await {}
                return;
            };
            let deadline = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis() + 60_000)
                .unwrap_or(0)
                .to_string();
            let bytes = encode(
                "HTTP/1.1 200 OK",
                &[
                    ("content-type", "application/json"),
                    ("lambda-runtime-aws-request-id", &inv.request_id),
                    ("lambda-runtime-deadline-ms", &deadline),
                    (
                        "lambda-runtime-invoked-function-arn",
                        "arn:aws:lambda:us-east-1:123456789012:function:bench",
                    ),
                    (
                        "lambda-runtime-trace-id",
                        "Root=1-6740a1b2-3c4d5e6f7a8b9c0d1e2f3a4b;Sampled=0",
                    ),
                ],
                inv.payload.as_bytes(),
            );
            if write_all(&mut w, &bytes).await.is_err() {
                return;
            }
            let sent = Instant::now();
            let _ = st.arrivals.send(Arrival::Next { at, sent });
        } else if method == "POST" && path.starts_with(INVOCATION) && path.ends_with("/response") {
            let request_id = path[INVOCATION.len()..path.len() - "/response".len()].to_owned();
            let _ = st.arrivals.send(Arrival::Response {
                at,
                request_id,
                body: msg.body,
            });
            let ok = encode("HTTP/1.1 202 Accepted", &[], b"{\"status\":\"OK\"}");
            if write_all(&mut w, &ok).await.is_err() {
                return;
            }
        } else if method == "POST" && path.ends_with("/error") {
            let _ = st.arrivals.send(Arrival::Error {
                at,
                path,
                body: msg.body,
            });
            let ok = encode("HTTP/1.1 202 Accepted", &[], b"{\"status\":\"OK\"}");
            if write_all(&mut w, &ok).await.is_err() {
                return;
            }
        } else {
            let nf = encode("HTTP/1.1 404 Not Found", &[], b"");
            if write_all(&mut w, &nf).await.is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http1::Message;
    use tokio::io::AsyncWriteExt;

    async fn exchange(
        r: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
        w: &mut tokio::net::tcp::OwnedWriteHalf,
        start: &str,
        body: &[u8],
    ) -> Message {
        w.write_all(&encode(start, &[("host", "x")], body))
            .await
            .expect("write");
        read_message(r).await.expect("read").expect("a response")
    }

    #[test]
    fn hands_out_the_invocation_then_takes_the_response_then_holds_next() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let mut api = RuntimeApi::start().await.expect("bind");
            api.prepare(Invocation {
                request_id: "req-1".into(),
                payload: "{\"k\":1}".into(),
            });
            let (r, mut w) = TcpStream::connect(&api.address)
                .await
                .expect("connect")
                .into_split();
            let mut r = BufReader::new(r);
            let next = exchange(&mut r, &mut w, &format!("GET {NEXT} HTTP/1.1"), b"").await;
            assert_eq!(next.status(), 200);
            assert_eq!(next.header("lambda-runtime-aws-request-id"), Some("req-1"));
            assert!(next.header("lambda-runtime-deadline-ms").is_some());
            assert_eq!(next.body, b"{\"k\":1}");
            let t = Duration::from_secs(5);
            assert!(matches!(api.arrival(t).await, Some(Arrival::Next { .. })));

            let path = "/2018-06-01/runtime/invocation/req-1/response";
            let resp = exchange(&mut r, &mut w, &format!("POST {path} HTTP/1.1"), b"ok").await;
            assert_eq!(resp.status(), 202);
            match api.arrival(t).await {
                Some(Arrival::Response {
                    request_id, body, ..
                }) => assert_eq!(
                    (request_id.as_str(), body.as_slice()),
                    ("req-1", &b"ok"[..])
                ),
                other => panic!("expected the response, got {other:?}"),
            }

            w.write_all(&encode(&format!("GET {NEXT} HTTP/1.1"), &[], b""))
                .await
                .expect("write");
            assert!(matches!(api.arrival(t).await, Some(Arrival::Idle { .. })));
        });
    }
}
