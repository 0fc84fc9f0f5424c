//! Logs: one JSON object per line (API.md §6).
//!
//! Each request writes one line (see [`crate::pipeline::serve`]) with its request id, the Lambda
//! request id, the X-Ray trace id, the cold-start flag, the function's name and version, the
//! route, status, latency and organization id.
//!
//! **Level.** `AWS_LAMBDA_LOG_LEVEL` (Lambda's logging controls: `TRACE` … `FATAL`) when set,
//! else `RUST_LOG` (any `EnvFilter` directives), else `info`.
//!
//! **No secrets, whatever the level.** Our code never logs headers or bodies, but the Lambda
//! runtime at `trace` logs the raw event (the `Authorization` header with it) and the AWS SDK
//! at `trace` logs each DynamoDB response (the key's hash in `GetItem`'s `pk`). So the subscriber
//! enforces it twice, for every filter a user can give:
//! - [`CAPS`]: the crates known to dump events, requests or bodies are held at `debug` (the
//!   HTTP stacks at `info`) on top of the user's filter, which can lower them but never raise them;
//! - [`Redacting`]: every formatted line is scanned before it is written, and any
//!   `Authorization` value, `Bearer` token, key-shaped string (`am_live_…`) and run of 64 or more
//!   hex digits (a SHA-256 hash, hence a key hash) is replaced by `[REDACTED]`.

use std::cell::RefCell;
use std::io::{self, Write};

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::EnvFilter;

/// Lambda's logging controls' level (`TRACE`, `DEBUG`, `INFO`, `WARN`, `ERROR`, `FATAL`).
pub const AWS_LEVEL_VAR: &str = "AWS_LAMBDA_LOG_LEVEL";

/// What replaces a secret in a line.
pub const REDACTED: &str = "[REDACTED]";

/// The most each of these targets (and every target under it) may log, whatever the filter.
/// `lambda_runtime` logs the raw event at `trace`; the AWS SDK (`aws_smithy_*`, `aws_sdk_*`,
/// `aws_config`) requests and responses at `trace`; the HTTP stacks their frames.
pub const CAPS: [(&str, LevelFilter); 10] = [
    ("lambda_runtime", LevelFilter::DEBUG),
    ("lambda_http", LevelFilter::DEBUG),
    ("aws_smithy", LevelFilter::DEBUG),
    ("aws_sdk", LevelFilter::DEBUG),
    ("aws_config", LevelFilter::DEBUG),
    ("aws_runtime", LevelFilter::DEBUG),
    ("hyper", LevelFilter::INFO),
    ("h2", LevelFilter::INFO),
    ("rustls", LevelFilter::INFO),
    ("tower", LevelFilter::INFO),
];

/// The filter directives: `AWS_LAMBDA_LOG_LEVEL` (as a level), else `RUST_LOG`, else `info`.
/// An `AWS_LAMBDA_LOG_LEVEL` that is not a level is ignored.
pub fn directives(aws_level: Option<&str>, rust_log: Option<&str>) -> String {
    let aws = aws_level
        .map(str::trim)
        .and_then(|l| match l.to_ascii_lowercase().as_str() {
            "trace" => Some("trace"),
            "debug" => Some("debug"),
            "info" => Some("info"),
            "warn" => Some("warn"),
            "error" | "fatal" => Some("error"),
            _ => None,
        });
    match (aws, rust_log.map(str::trim).filter(|r| !r.is_empty())) {
        (Some(level), _) => level.to_owned(),
        (None, Some(rust_log)) => rust_log.to_owned(),
        (None, None) => "info".to_owned(),
    }
}

/// The directives of this process's environment.
pub fn directives_from_env() -> String {
    directives(
        std::env::var(AWS_LEVEL_VAR).ok().as_deref(),
        std::env::var(EnvFilter::DEFAULT_ENV).ok().as_deref(),
    )
}

fn caps() -> Targets {
    CAPS.iter().fold(
        Targets::new().with_default(LevelFilter::TRACE),
        |t, (target, level)| t.with_target(*target, *level),
    )
}

/// The JSON subscriber at the environment's level, writing to `writer` (stdout for the
/// functions; a buffer in tests).
pub fn json_subscriber<W>(writer: W) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    json_subscriber_with(&directives_from_env(), writer)
}

/// The JSON subscriber with the filter `directives` (invalid ones are skipped), capped by
/// [`CAPS`], each line through [`Redacting`].
pub fn json_subscriber_with<W>(
    directives: &str,
    writer: W,
) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::builder()
        .with_default_directive(LevelFilter::INFO.into())
        .parse_lossy(directives);
    let format = tracing_subscriber::fmt::layer()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .with_writer(Redacting(writer));
    tracing_subscriber::registry()
        .with(filter)
        .with(caps())
        .with(format)
}

/// Installs the JSON log subscriber on stdout (once; later calls do nothing).
pub fn init() {
    let _ = tracing::subscriber::set_global_default(json_subscriber(io::stdout));
}

/// The same on stderr, for tools whose stdout is for people or for JSON output.
pub fn init_stderr() {
    let _ = tracing::subscriber::set_global_default(json_subscriber(io::stderr));
}

/// Sends this thread's logs to `writer` until the guard drops (tests capture log lines so).
pub fn set_thread_default<W>(writer: W) -> tracing::subscriber::DefaultGuard
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    tracing::subscriber::set_default(json_subscriber(writer))
}

/// A writer maker whose writers redact secrets from what they are given (see [`redact`]).
/// The formatter hands over one whole line per write, so nothing is split across two.
pub struct Redacting<M>(pub M);

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for Redacting<M> {
    type Writer = RedactingWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        RedactingWriter(self.0.make_writer())
    }

    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> Self::Writer {
        RedactingWriter(self.0.make_writer_for(meta))
    }
}

pub struct RedactingWriter<W>(W);

thread_local! {
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

impl<W: Write> Write for RedactingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if !needs_redaction(buf) {
            self.0.write_all(buf)?;
            return Ok(buf.len());
        }
        SCRATCH.with(|s| match s.try_borrow_mut() {
            Ok(mut out) => {
                out.clear();
                redact(buf, &mut out);
                self.0.write_all(&out)
            }
            Err(_) => {
                let mut out = Vec::with_capacity(buf.len());
                redact(buf, &mut out);
                self.0.write_all(&out)
            }
        })?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// The key prefix of [`crate::auth::KEY_PREFIX`].
const KEY_PREFIX: &[u8] = crate::auth::KEY_PREFIX.as_bytes();
/// The shortest run of hex digits redacted: a SHA-256 digest.
const HASH_HEX: usize = 64;

fn starts_with_ci(s: &[u8], word: &[u8]) -> bool {
    s.len() >= word.len() && s[..word.len()].eq_ignore_ascii_case(word)
}

/// Whether `line` holds anything [`redact`] would change (the fast path: most lines do not).
pub fn needs_redaction(line: &[u8]) -> bool {
    let mut hex_run = 0;
    for (i, &b) in line.iter().enumerate() {
        if b.is_ascii_hexdigit() {
            hex_run += 1;
            if hex_run >= HASH_HEX {
                return true;
            }
        } else {
            hex_run = 0;
        }
        let rest = &line[i..];
        let found = match b {
            b'a' | b'A' => rest.starts_with(KEY_PREFIX) || authorization_value(rest).is_some(),
            b'b' | b'B' => bearer(rest, i == 0 || !line[i - 1].is_ascii_alphanumeric()).is_some(),
            _ => false,
        };
        if found {
            return true;
        }
    }
    false
}

/// A byte that ends a secret value: a quote, an escape, a separator, or a line's end.
fn ends_value(b: u8) -> bool {
    matches!(
        b,
        b'"' | b'\\' | b',' | b';' | b'}' | b']' | b'\n' | b'\r' | b'\''
    )
}

/// At `rest` = `authorization` + separators holding `:` or `=` + a value: the lengths of the
/// name and separators (kept) and of the value (redacted).
fn authorization_value(rest: &[u8]) -> Option<(usize, usize)> {
    const NAME: &[u8] = b"authorization";
    if !starts_with_ci(rest, NAME) {
        return None;
    }
    let mut i = NAME.len();
    let mut assigned = false;
    while i < rest.len() && i < NAME.len() + 8 {
        match rest[i] {
            b':' | b'=' => assigned = true,
            b'"' | b'\\' | b' ' | b'\t' => {}
            _ => break,
        }
        i += 1;
    }
    if !assigned {
        return None;
    }
    let value = rest[i..].iter().take_while(|b| !ends_value(**b)).count();
    (value > 0).then_some((i, value))
}

/// At `rest` = `bearer` (any case, as a word) + optional blanks and a token: its length.
fn bearer(rest: &[u8], word_start: bool) -> Option<usize> {
    const WORD: &[u8] = b"bearer";
    if !word_start || !starts_with_ci(rest, WORD) {
        return None;
    }
    if rest
        .get(WORD.len())
        .is_some_and(|b| b.is_ascii_alphanumeric())
    {
        return None;
    }
    let blanks = rest[WORD.len()..]
        .iter()
        .take_while(|b| **b == b' ' || **b == b'\t')
        .count();
    let token = rest[WORD.len() + blanks..]
        .iter()
        .take_while(|b| !ends_value(**b) && !b.is_ascii_whitespace())
        .count();
    Some(WORD.len() + blanks + token)
}

/// Copies `line` to `out` with every secret replaced by [`REDACTED`]: the value of an
/// `Authorization` (any case) set with `:` or `=`, the word `Bearer` with its token, whatever
/// follows `am_live_` of a key, and every run of 64 or more hex digits.
pub fn redact(line: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < line.len() {
        let rest = &line[i..];
        let b = rest[0];
        let word_start = i == 0 || !line[i - 1].is_ascii_alphanumeric();
        if b.is_ascii_hexdigit() && (i == 0 || !line[i - 1].is_ascii_hexdigit()) {
            let run = rest.iter().take_while(|c| c.is_ascii_hexdigit()).count();
            if run >= HASH_HEX {
                out.extend_from_slice(REDACTED.as_bytes());
                i += run;
                continue;
            }
        }
        if b == b'a' || b == b'A' {
            if let Some((kept, value)) = authorization_value(rest) {
                out.extend_from_slice(&rest[..kept]);
                out.extend_from_slice(REDACTED.as_bytes());
                i += kept + value;
                continue;
            }
            if rest.starts_with(KEY_PREFIX) {
                let tail = rest[KEY_PREFIX.len()..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric())
                    .count();
                out.extend_from_slice(KEY_PREFIX);
                out.extend_from_slice(REDACTED.as_bytes());
                i += KEY_PREFIX.len() + tail;
                continue;
            }
        }
        if b == b'b' || b == b'B' {
            if let Some(len) = bearer(rest, word_start) {
                out.extend_from_slice(REDACTED.as_bytes());
                i += len;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redacted(s: &str) -> String {
        let mut out = Vec::new();
        redact(s.as_bytes(), &mut out);
        assert_eq!(needs_redaction(s.as_bytes()), out != s.as_bytes(), "{s}");
        String::from_utf8(out).unwrap()
    }

    const KEY: &str = "am_live_0123456789abcdefABCDEF0123456789ab";
    const HASH: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    #[test]
    fn the_level_comes_from_lambda_then_rust_log_then_info() {
        assert_eq!(directives(Some("DEBUG"), Some("warn")), "debug");
        assert_eq!(directives(Some("FATAL"), None), "error");
        assert_eq!(directives(Some("Trace"), None), "trace");
        assert_eq!(
            directives(None, Some("shared=debug,info")),
            "shared=debug,info"
        );
        assert_eq!(directives(Some("loud"), Some("warn")), "warn");
        assert_eq!(directives(Some(""), None), "info");
        assert_eq!(directives(None, Some(" ")), "info");
        assert_eq!(directives(None, None), "info");
    }

    #[test]
    fn the_raw_event_loses_its_authorization_value() {
        let line = format!(
            r#"{{"body":"{{\"headers\":{{\"Authorization\":\"Bearer {KEY}\",\"content-type\":\"application/json\"}}}}"}}"#
        );
        let out = redacted(&line);
        assert!(!out.contains(KEY) && !out.contains(&KEY[8..]), "{out}");
        assert!(!out.to_ascii_lowercase().contains("bearer"), "{out}");
        assert!(out.contains("content-type"), "{out}");
    }

    #[test]
    fn a_bearer_token_a_key_and_a_hash_are_redacted_anywhere() {
        for line in [
            format!("token Bearer {KEY} sent"),
            format!("bearer\t{KEY}"),
            format!("key={KEY}."),
            format!("pk APIKEY#{HASH}"),
            format!("{{\"S\": \"APIKEY#{}\"}}", HASH.to_ascii_uppercase()),
            "authorization: Basic dXNlcjpwYXNz, next".to_owned(),
            format!("{{\"authorization\": \"AWS4-HMAC-SHA256 Credential=x/y, Signature={HASH}\"}}"),
        ] {
            let out = redacted(&line);
            for secret in [KEY, &KEY[8..], HASH, "dXNlcjpwYXNz"] {
                assert!(!out.contains(secret), "{line} -> {out}");
            }
            assert!(out.contains(REDACTED), "{line} -> {out}");
        }
    }

    #[test]
    fn a_clean_line_is_written_as_it_is_without_allocating() {
        let line = br#"{"request_id":"01JABCDEFGHJKMNPQRSTVWXYZ0","status":200,"org_id":"5b1f6a9e-2a8c-4f55-9b5e-3f1f7f8e9d10"}"#;
        let mut out = Vec::with_capacity(line.len());
        let before = crate::test_alloc::count();
        RedactingWriter(&mut out).write_all(line).unwrap();
        assert_eq!(crate::test_alloc::count() - before, 0);
        assert_eq!(out, line);
    }

    #[test]
    fn ordinary_lines_pass_unchanged() {
        for line in [
            r#"{"request_id":"01JABCDEFGHJKMNPQRSTVWXYZ0","org_id":"5b1f6a9e-2a8c-4f55-9b5e-3f1f7f8e9d10","status":401,"error":"authentication failed"}"#,
            "a hash-like but short run 9f86d081884c7d659a2feaa0c55ad015 stays",
            "the authorization step failed",
            "bearers and webearer stay",
            "xray_trace_id Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1",
        ] {
            assert_eq!(redacted(line), line);
        }
    }
}
