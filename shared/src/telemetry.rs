//! Logs: one JSON object per line, level from `RUST_LOG` (default `info`).
//!
//! Each request writes one line (see [`crate::pipeline::serve`]) with its request id, the Lambda
//! request id, the route, status, latency and organization id. Nothing logs headers or bodies,
//! so the key, its hash and the `Authorization` header never reach a log line.

use tracing_subscriber::fmt::MakeWriter;

/// The JSON subscriber, writing to `writer` (stdout for the functions; a buffer in tests).
pub fn json_subscriber<W>(writer: W) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .with_env_filter(filter)
        .with_writer(writer)
        .finish()
}

/// Installs the JSON log subscriber on stdout (once; later calls do nothing).
pub fn init() {
    let _ = tracing::subscriber::set_global_default(json_subscriber(std::io::stdout));
}

/// The same on stderr, for tools whose stdout is for people or for JSON output.
pub fn init_stderr() {
    let _ = tracing::subscriber::set_global_default(json_subscriber(std::io::stderr));
}

/// Sends this thread's logs to `writer` until the guard drops (tests capture log lines so).
pub fn set_thread_default<W>(writer: W) -> tracing::subscriber::DefaultGuard
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    tracing::subscriber::set_default(json_subscriber(writer))
}
