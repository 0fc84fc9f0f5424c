//! Just enough HTTP/1.1 for loopback benchmarks: the fake Lambda Runtime API and the load
//! client. Bodies by `Content-Length` or chunked; keep-alive. Hand-rolled so that the harness
//! adds no crate feature the functions do not already build with.

use std::io;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Headers of a message this large are a bug of ours or theirs, not something to buffer.
const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 16 * 1024 * 1024;

/// A request or a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// `GET /path HTTP/1.1` or `HTTP/1.1 200 OK`.
    pub start: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Message {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A request's method and path.
    pub fn method_path(&self) -> (&str, &str) {
        let mut it = self.start.split(' ');
        (it.next().unwrap_or(""), it.next().unwrap_or(""))
    }

    /// A response's status code (0 if unreadable).
    pub fn status(&self) -> u16 {
        self.start
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

/// Reads one message; `None` when the peer closed the connection between messages.
pub async fn read_message<R>(r: &mut R) -> io::Result<Option<Message>>
where
    R: AsyncBufRead + Unpin,
{
    let mut line = String::new();
    // Tolerate empty lines between messages.
    loop {
        line.clear();
        if r.read_line(&mut line).await? == 0 {
            return Ok(None);
        }
        if !line.trim_end().is_empty() {
            break;
        }
    }
    let start = line.trim_end().to_owned();
    let mut headers = Vec::new();
    let mut head = start.len();
    loop {
        line.clear();
        if r.read_line(&mut line).await? == 0 {
            return Err(bad("connection closed inside a header"));
        }
        head += line.len();
        if head > MAX_HEAD {
            return Err(bad("header too large"));
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        let (k, v) = l
            .split_once(':')
            .ok_or_else(|| bad("header without a colon"))?;
        headers.push((k.trim().to_owned(), v.trim().to_owned()));
    }
    let mut msg = Message {
        start,
        headers,
        body: Vec::new(),
    };
    let chunked = msg
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    if chunked {
        msg.body = read_chunked(r).await?;
    } else if let Some(len) = msg.header("content-length") {
        let len: usize = len.parse().map_err(|_| bad("bad content-length"))?;
        if len > MAX_BODY {
            return Err(bad("body too large"));
        }
        let mut body = vec![0; len];
        r.read_exact(&mut body).await?;
        msg.body = body;
    }
    Ok(Some(msg))
}

async fn read_chunked<R>(r: &mut R) -> io::Result<Vec<u8>>
where
    R: AsyncBufRead + Unpin,
{
    let mut body = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        r.read_line(&mut line).await?;
        let size = line.trim_end().split(';').next().unwrap_or("");
        let size = usize::from_str_radix(size.trim(), 16).map_err(|_| bad("bad chunk size"))?;
        if body.len() + size > MAX_BODY {
            return Err(bad("body too large"));
        }
        if size == 0 {
            // Trailers, then the blank line.
            loop {
                line.clear();
                if r.read_line(&mut line).await? == 0 || line.trim_end().is_empty() {
                    return Ok(body);
                }
            }
        }
        let at = body.len();
        body.resize(at + size, 0);
        r.read_exact(&mut body[at..]).await?;
        line.clear();
        r.read_line(&mut line).await?;
    }
}

/// Serializes a message with a `Content-Length` (one buffer, one write).
pub fn encode(start: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(128 + body.len());
    out.extend_from_slice(start.as_bytes());
    out.extend_from_slice(b"\r\n");
    for (k, v) in headers {
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(v.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("content-length: {}\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(body);
    out
}

pub async fn write_all<W: AsyncWrite + Unpin>(w: &mut W, bytes: &[u8]) -> io::Result<()> {
    w.write_all(bytes).await?;
    w.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::BufReader;

    fn read_all(bytes: &[u8]) -> Vec<Message> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let mut r = BufReader::new(bytes);
            let mut out = Vec::new();
            while let Some(m) = read_message(&mut r).await.expect("valid messages") {
                out.push(m);
            }
            out
        })
    }

    #[test]
    fn reads_keep_alive_messages_by_length_and_chunks() {
        let mut wire = encode(
            "POST /2018-06-01/runtime/invocation/abc/response HTTP/1.1",
            &[("Host", "x")],
            b"{\"a\":1}",
        );
        wire.extend_from_slice(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n",
        );
        wire.extend_from_slice(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n\r\n");
        let msgs = read_all(&wire);
        assert_eq!(msgs.len(), 3);
        assert_eq!(
            msgs[0].method_path(),
            ("POST", "/2018-06-01/runtime/invocation/abc/response")
        );
        assert_eq!(msgs[0].header("HOST"), Some("x"));
        assert_eq!(msgs[0].body, b"{\"a\":1}");
        assert_eq!(msgs[1].status(), 200);
        assert_eq!(msgs[1].body, b"abcde");
        assert_eq!(
            msgs[2].method_path().1,
            "/2018-06-01/runtime/invocation/next"
        );
        assert!(msgs[2].body.is_empty());
    }

    #[test]
    fn a_cut_header_is_an_error() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let r = rt.block_on(async {
            read_message(&mut BufReader::new(&b"GET / HTTP/1.1\r\nHost: x\r\n"[..])).await
        });
        assert!(r.is_err());
    }
}
