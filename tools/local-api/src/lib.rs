//! Every function of the endpoint list (`endpoints::Function`) on its real path over plain
//! HTTP, in one process: each request becomes the `lambda_http::Request` API Gateway's HTTP API
//! (payload v2) would hand the function, and the function's handler answers it, exactly as
//! deployed.
//!
//! | path | function |
//! |---|---|
//! | `/api/v1/pools/{uuid}` | `update-contact-pool` |
//! | `/v1/guardrails/pools/{id}` | `patch-guardrail-pool` |
//!
//! Every method on those paths reaches the function (which answers 405 itself, as behind an
//! `ANY` route); any other path gets API Gateway's own `404 {"message":"Not Found"}`.

pub mod demo;

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::{Buf, Bytes};
pub use endpoints::Function;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONNECTION, CONTENT_TYPE, COOKIE, HOST, USER_AGENT};
use hyper::server::conn::http1;
use hyper::{HeaderMap, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use lambda_http::aws_lambda_events::apigw::{
    ApiGatewayV2httpRequestContext, ApiGatewayV2httpRequestContextHttpDescription,
};
use lambda_http::aws_lambda_events::query_map::QueryMap;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Context, RequestExt};
use shared::pipeline::Services;
use tokio::net::TcpListener;

/// The port when `PORT` is not set.
pub const DEFAULT_PORT: u16 = 3000;

/// The most of a request body read into memory. Anything past the functions' own limit
/// (64 KiB) already gets their 413, so a bigger upload is cut here, still reaches the function
/// (too large), and the connection is closed instead of read to its end.
pub const MAX_READ_BYTES: usize = 1024 * 1024;

/// How long in-flight requests may take to finish once shutdown begins.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// The function a path belongs to, and its path parameter as sent (still percent-encoded):
/// the route's prefix followed by one non-empty segment, as API Gateway matches `{param}`.
pub fn route(path: &str) -> Option<(Function, &str)> {
    let f = Function::for_path(path)?;
    let rest = path.strip_prefix(f.route().prefix)?;
    (!rest.is_empty() && !rest.contains('/')).then_some((f, rest))
}

/// Accepts connections on `listener` and serves every request until `shutdown` completes;
/// then stops accepting and gives requests in flight a few seconds to finish.
pub async fn serve(
    listener: TcpListener,
    svc: Services,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let svc = svc.clone();
        let service = hyper::service::service_fn(move |req| {
            let svc = svc.clone();
            async move { Ok::<_, Infallible>(respond(req, peer, svc).await) }
        });
        let conn = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(Duration::from_secs(30))
            .serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still in flight at shutdown were cut off");
    }
    Ok(())
}

/// One request: routed, turned into the function's event, answered by the function.
async fn respond(
    req: hyper::Request<Incoming>,
    peer: SocketAddr,
    svc: Services,
) -> hyper::Response<Full<Bytes>> {
    let Some((function, raw_param)) = route(req.uri().path()) else {
        return gateway_error(StatusCode::NOT_FOUND, "Not Found");
    };
    let param = percent_decode(raw_param);
    let (parts, body) = req.into_parts();
    let (body, cut) = match read_capped(body, MAX_READ_BYTES).await {
        Ok(read) => read,
        Err(e) => {
            tracing::debug!(error = %e, "request body could not be read");
            return gateway_error(StatusCode::BAD_REQUEST, "Bad Request");
        }
    };
    let event = lambda_request(function, parts, body, &param, peer);
    // A panicking handler would be a bug in the function; on Lambda it becomes API Gateway's
    // bare 500, so it does here too, and the server carries on.
    let answered = tokio::spawn(async move { function.handle(event, &svc).await }).await;
    let mut resp = match answered {
        Ok(resp) => http_response(resp),
        Err(e) => {
            tracing::error!(error = %e, function = function.name(), "the function failed");
            gateway_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
        }
    };
    if cut {
        // The rest of the upload is never read: the connection cannot be reused.
        resp.headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
    resp
}

/// Reads at most `cap + 1` bytes of a body; `true` when there was more than `cap` (the rest
/// is left unread).
pub async fn read_capped<B>(body: B, cap: usize) -> Result<(Vec<u8>, bool), B::Error>
where
    B: hyper::body::Body,
{
    let mut body = std::pin::pin!(body);
    let mut buf = Vec::new();
    while let Some(frame) = body.frame().await {
        if let Ok(mut data) = frame?.into_data() {
            let room = cap + 1 - buf.len();
            let take = data.remaining().min(room);
            buf.extend_from_slice(&data.copy_to_bytes(take));
            if buf.len() > cap {
                return Ok((buf, true));
            }
        }
    }
    Ok((buf, false))
}

/// The request API Gateway's HTTP API (v2) would hand `function`: path parameter, v2 request
/// context, raw path and query, headers (repeated ones joined with commas, as v2 does), and
/// the body as text when it is UTF-8, else binary.
pub fn lambda_request(
    function: Function,
    parts: hyper::http::request::Parts,
    body: Vec<u8>,
    param: &str,
    peer: SocketAddr,
) -> lambda_http::Request {
    let route = function.route();
    let path = parts.uri.path().to_owned();
    let query = parts.uri.query().unwrap_or("").to_owned();
    let headers = join_repeated(&parts.headers);
    let header = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .map(str::to_owned)
    };
    let request_id = uuid::Uuid::new_v4().to_string();
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);

    let mut http = ApiGatewayV2httpRequestContextHttpDescription::default();
    http.method = parts.method.clone();
    http.path = Some(path.clone());
    http.protocol = Some(format!("{:?}", parts.version));
    http.source_ip = Some(peer.ip().to_string());
    http.user_agent = header(USER_AGENT);
    let mut context = ApiGatewayV2httpRequestContext::default();
    context.route_key = Some(format!("ANY {}{{{}}}", route.prefix, route.param));
    context.account_id = Some("000000000000".into());
    context.stage = Some("$default".into());
    context.request_id = Some(request_id.clone());
    context.apiid = Some("local-api".into());
    context.domain_name = header(HOST);
    context.domain_prefix = context
        .domain_name
        .as_deref()
        .map(|d| d.split(['.', ':']).next().unwrap_or(d).to_owned());
    context.time_epoch = now_ms;
    context.http = http;

    let mut lambda_context = Context::default();
    lambda_context.request_id = request_id;
    lambda_context.invoked_function_arn = format!(
        "arn:aws:lambda:local:000000000000:function:{}",
        function.name()
    );

    let body = if body.is_empty() {
        Body::Empty
    } else {
        match String::from_utf8(body) {
            Ok(text) => Body::Text(text),
            Err(e) => Body::Binary(e.into_bytes()),
        }
    };
    let mut req = hyper::Request::from_parts(parts, body);
    *req.headers_mut() = headers;
    req.with_raw_http_path(path)
        .with_query_string_parameters(query.parse::<QueryMap>().unwrap_or_default())
        .with_path_parameters(HashMap::from([(route.param.to_owned(), param.to_owned())]))
        .with_request_context(RequestContext::ApiGatewayV2(context))
        .with_lambda_context(lambda_context)
}

/// Headers as API Gateway v2 passes them: one value per name, repeats joined with `,`
/// (cookies with `; `, as `lambda_http` rebuilds them from v2's `cookies`).
fn join_repeated(headers: &HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::with_capacity(headers.keys_len());
    for name in headers.keys() {
        let mut values = headers.get_all(name).iter();
        let Some(first) = values.next() else { continue };
        let sep: &[u8] = if name == COOKIE { b"; " } else { b"," };
        let mut joined = first.as_bytes().to_vec();
        for v in values {
            joined.extend_from_slice(sep);
            joined.extend_from_slice(v.as_bytes());
        }
        // Joined valid values with a visible separator are valid; keep the first otherwise.
        let value = HeaderValue::from_bytes(&joined).unwrap_or_else(|_| first.clone());
        out.insert(name.clone(), value);
    }
    out
}

/// `%XX` escapes decoded, as API Gateway decodes path parameters; left as sent if the result
/// would not be UTF-8.
pub fn percent_decode(s: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let decoded = (bytes[i] == b'%')
            .then(|| Some((hex(*bytes.get(i + 1)?)? << 4) | hex(*bytes.get(i + 2)?)?))
            .flatten();
        match decoded {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_owned())
}

fn http_response(resp: lambda_http::Response<Body>) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = resp.into_parts();
    let bytes = match body {
        Body::Text(t) => Bytes::from(t),
        Body::Binary(b) => Bytes::from(b),
        _ => Bytes::new(),
    };
    hyper::Response::from_parts(parts, Full::new(bytes))
}

/// What API Gateway itself answers when no function does: `{"message": "..."}`.
fn gateway_error(status: StatusCode, message: &str) -> hyper::Response<Full<Bytes>> {
    let body = serde_json::json!({ "message": message }).to_string();
    let mut resp = hyper::Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_route_to_their_function_by_prefix_and_one_segment() {
        let id = "3c90c3cc-0d44-4b50-8888-8dd25736052a";
        assert_eq!(
            route(&format!("/api/v1/pools/{id}")),
            Some((Function::UpdateContactPool, id))
        );
        assert_eq!(
            route("/v1/guardrails/pools/abc"),
            Some((Function::PatchGuardrailPool, "abc"))
        );
        for none in [
            "/",
            "/api/v1/pools/",
            "/api/v1/pools",
            "/api/v1/pools/a/b",
            "/api/v1/pools/a/",
            "/x/api/v1/pools/a",
            "/v1/guardrails/pools/",
            "/v1/guardrails/pool/abc",
        ] {
            assert_eq!(route(none), None, "{none}");
        }
    }

    /// A body of the chunks an iterator yields.
    struct Chunks<I>(I);

    impl<I: Iterator<Item = Bytes> + Unpin> hyper::body::Body for Chunks<I> {
        type Data = Bytes;
        type Error = Infallible;

        fn poll_frame(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Infallible>>> {
            std::task::Poll::Ready(self.0.next().map(|b| Ok(hyper::body::Frame::data(b))))
        }
    }

    fn chunks(n: usize, size: usize) -> Chunks<impl Iterator<Item = Bytes> + Unpin> {
        Chunks((0..n).map(move |_| Bytes::from(vec![b'a'; size])))
    }

    #[tokio::test]
    async fn bodies_are_read_up_to_the_cap_and_one_byte_more() {
        let (b, cut) = read_capped(chunks(4, 10), 40).await.unwrap();
        assert_eq!((b.len(), cut), (40, false));
        let (b, cut) = read_capped(chunks(5, 10), 40).await.unwrap();
        assert_eq!((b.len(), cut), (41, true));
        let (b, cut) = read_capped(chunks(0, 10), 40).await.unwrap();
        assert_eq!((b.len(), cut), (0, false));
        // A body that never ends is cut, not read forever.
        let endless = Chunks(std::iter::repeat_with(|| Bytes::from(vec![0u8; 1000])));
        let (b, cut) = read_capped(endless, MAX_READ_BYTES).await.unwrap();
        assert_eq!((b.len(), cut), (MAX_READ_BYTES + 1, true));
    }

    #[test]
    fn percent_escapes_decode_and_bad_ones_stay() {
        assert_eq!(percent_decode("a%2Db"), "a-b");
        assert_eq!(percent_decode("a%2db%20c"), "a-b c");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("%ff"), "%ff");
        assert_eq!(percent_decode("caf%C3%A9"), "café");
    }

    #[test]
    fn repeated_headers_are_joined_as_api_gateway_v2_does() {
        let mut h = HeaderMap::new();
        h.append("if-match", HeaderValue::from_static("\"1\""));
        h.append("if-match", HeaderValue::from_static("\"2\""));
        h.append(COOKIE, HeaderValue::from_static("a=1"));
        h.append(COOKIE, HeaderValue::from_static("b=2"));
        h.append(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let j = join_repeated(&h);
        assert_eq!(j.get_all("if-match").iter().count(), 1);
        assert_eq!(j["if-match"], "\"1\",\"2\"");
        assert_eq!(j[COOKIE], "a=1; b=2");
        assert_eq!(j[CONTENT_TYPE], "application/json");
    }

    #[test]
    fn the_event_carries_what_api_gateway_v2_would() {
        let req = hyper::Request::builder()
            .method("PUT")
            .uri("/api/v1/pools/ab%2Dc?x=1&y=2")
            .header(HOST, "127.0.0.1:3000")
            .header(USER_AGENT, "curl/8")
            .body(())
            .unwrap();
        let (parts, ()) = req.into_parts();
        let peer: SocketAddr = "127.0.0.1:5555".parse().unwrap();
        let ev = lambda_request(
            Function::UpdateContactPool,
            parts,
            br#"{"a":1}"#.to_vec(),
            "ab-c",
            peer,
        );
        assert_eq!(ev.method(), "PUT");
        assert_eq!(ev.raw_http_path(), "/api/v1/pools/ab%2Dc");
        assert_eq!(ev.path_parameters().first("uuid"), Some("ab-c"));
        assert_eq!(ev.query_string_parameters().first("y"), Some("2"));
        assert!(matches!(ev.body(), Body::Text(t) if t == r#"{"a":1}"#));
        let Some(RequestContext::ApiGatewayV2(ctx)) = ev.request_context_ref() else {
            panic!("not a v2 context");
        };
        assert_eq!(ctx.http.method, "PUT");
        assert_eq!(ctx.http.source_ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(ctx.http.user_agent.as_deref(), Some("curl/8"));
        assert_eq!(ctx.stage.as_deref(), Some("$default"));
        assert!(ev.lambda_context_ref().is_some());

        let empty = lambda_request(
            Function::PatchGuardrailPool,
            hyper::Request::new(()).into_parts().0,
            Vec::new(),
            "x",
            peer,
        );
        assert!(matches!(empty.body(), Body::Empty));
        let binary = lambda_request(
            Function::PatchGuardrailPool,
            hyper::Request::new(()).into_parts().0,
            vec![0xff, 0xfe],
            "x",
            peer,
        );
        assert!(matches!(binary.body(), Body::Binary(b) if b == &[0xff, 0xfe]));
    }
}
