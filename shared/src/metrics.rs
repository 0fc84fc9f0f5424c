//! The CloudWatch Embedded Metric Format (EMF) document each request writes on stdout
//! (API.md §6): the names here are the only metric names the functions emit, and the template's
//! alarms and dashboard are checked against them.
//!
//! The `Function` dimension's value is [`crate::pipeline::Route::function`], the binary's name
//! (`update-contact-pool`, `patch-guardrail-pool`), not the deployed function's name: an alarm
//! names it without knowing what the stack called the function. The organization, the pool id
//! and the request ids are plain properties of the document, never dimensions (each value of a
//! dimension is a metric of its own).
//!
//! The counts of a request (store calls, auth cache hit or miss, slug retries) are kept in a
//! [`RequestCounters`] scoped to that request's task ([`counted`]): the store adapters and the
//! auth path add to whatever request they run in, so concurrent requests in one process
//! (local-api, the tests) never see each other's counts. Outside a request (tools, seeding)
//! nothing is counted.
//!
//! The document is written by hand into a reused per-thread buffer and handed to the sink in one
//! write: no `serde_json::Value`, no allocation once the buffer has grown, no network call
//! (CloudWatch reads it out of the log stream).

/// `METRICS_NAMESPACE` when unset or empty.
pub const DEFAULT_NAMESPACE: &str = "PoolsApi";

/// The dimension naming the function (its binary's name, as [`crate::pipeline::Route::function`]).
pub const DIMENSION_FUNCTION: &str = "Function";
/// The dimension holding the HTTP status as a string (`"200"`, `"503"`).
pub const DIMENSION_STATUS: &str = "Status";
/// The dimension sets of every document: `[Function]` and `[Function, Status]`.
pub const DIMENSION_SETS: [&[&str]; 2] = [
    &[DIMENSION_FUNCTION],
    &[DIMENSION_FUNCTION, DIMENSION_STATUS],
];

/// One metric: its name and its EMF unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metric {
    pub name: &'static str,
    pub unit: &'static str,
}

pub const REQUESTS: Metric = Metric {
    name: "Requests",
    unit: "Count",
};
pub const LATENCY: Metric = Metric {
    name: "Latency",
    unit: "Milliseconds",
};
pub const COLD_START: Metric = Metric {
    name: "ColdStart",
    unit: "Count",
};
pub const STORE_CALLS: Metric = Metric {
    name: "StoreCalls",
    unit: "Count",
};
pub const AUTH_CACHE_HIT: Metric = Metric {
    name: "AuthCacheHit",
    unit: "Count",
};
pub const AUTH_CACHE_MISS: Metric = Metric {
    name: "AuthCacheMiss",
    unit: "Count",
};
pub const TRANSACTION_RETRIES: Metric = Metric {
    name: "TransactionRetries",
    unit: "Count",
};
pub const IDEMPOTENT_REPLAYS: Metric = Metric {
    name: "IdempotentReplays",
    unit: "Count",
};

/// Every metric a function emits, in the order a document lists them.
pub const METRICS: [Metric; 8] = [
    REQUESTS,
    LATENCY,
    COLD_START,
    STORE_CALLS,
    AUTH_CACHE_HIT,
    AUTH_CACHE_MISS,
    TRANSACTION_RETRIES,
    IDEMPOTENT_REPLAYS,
];

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::io::Write;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// `METRICS_NAMESPACE`: where the documents' metrics go.
pub const NAMESPACE_VAR: &str = "METRICS_NAMESPACE";

/// What one request did, as its document reports it.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Store operations sent (the DynamoDB adapter's [`calls`](crate::store::dynamodb::DynamoStore::calls)).
    pub store_calls: u32,
    /// The key was served from the auth cache.
    pub auth_cache_hit: u32,
    /// The key was looked up in the store (cache disabled, cold, or stale).
    pub auth_cache_miss: u32,
    /// Attempts of a slug change (or a pinned rename) after the first.
    pub transaction_retries: u32,
}

/// The counters of the request running in this task.
#[derive(Debug, Default)]
pub struct RequestCounters {
    store_calls: Cell<u32>,
    auth_cache_hit: Cell<u32>,
    auth_cache_miss: Cell<u32>,
    transaction_retries: Cell<u32>,
}

impl RequestCounters {
    fn counts(&self) -> Counts {
        Counts {
            store_calls: self.store_calls.get(),
            auth_cache_hit: self.auth_cache_hit.get(),
            auth_cache_miss: self.auth_cache_miss.get(),
            transaction_retries: self.transaction_retries.get(),
        }
    }
}

tokio::task_local! {
    static COUNTERS: RequestCounters;
}

fn bump(field: impl FnOnce(&RequestCounters) -> &Cell<u32>) {
    // Outside a request's scope (tools, seeding, admin calls) there is nothing to count.
    let _ = COUNTERS.try_with(|c| {
        let cell = field(c);
        cell.set(cell.get().saturating_add(1));
    });
}

/// One store operation sent, by whichever adapter serves the request.
pub fn count_store_call() {
    bump(|c| &c.store_calls);
}

/// The key was served from the auth cache.
pub fn count_auth_cache_hit() {
    bump(|c| &c.auth_cache_hit);
}

/// The key was looked up in the store.
pub fn count_auth_cache_miss() {
    bump(|c| &c.auth_cache_miss);
}

/// Another attempt of a slug change after contention.
pub fn count_transaction_retry() {
    bump(|c| &c.transaction_retries);
}

/// Runs `fut` with fresh counters and returns what it counted.
pub async fn counted<F: Future>(fut: F) -> (F::Output, Counts) {
    COUNTERS
        .scope(RequestCounters::default(), async {
            let out = fut.await;
            let counts = COUNTERS
                .try_with(RequestCounters::counts)
                .unwrap_or_default();
            (out, counts)
        })
        .await
}

/// A sink of whole documents (the tests' capture, the benchmark's `/dev/null`).
pub type WriteDocument = Arc<dyn Fn(&[u8]) + Send + Sync>;

/// Where documents go: one call per document, the whole line (newline included).
#[derive(Clone, Default)]
pub enum Sink {
    /// Not written (handler tests that do not look at metrics).
    #[default]
    Off,
    /// The functions: Lambda sends stdout to CloudWatch Logs, which extracts the metrics.
    Stdout,
    /// `local-api`, whose stdout is for people.
    Stderr,
    /// Anything else (the tests' capture, the benchmark's `/dev/null`).
    To(WriteDocument),
}

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Sink::Off => "Off",
            Sink::Stdout => "Stdout",
            Sink::Stderr => "Stderr",
            Sink::To(_) => "To(..)",
        })
    }
}

/// The EMF writer of an execution environment: a namespace and a sink.
#[derive(Clone, Debug, Default)]
pub struct Metrics {
    namespace: Arc<str>,
    sink: Sink,
}

impl Metrics {
    pub fn new(namespace: &str, sink: Sink) -> Self {
        Self {
            namespace: Arc::from(namespace),
            sink,
        }
    }

    /// Writes nothing.
    pub fn off() -> Self {
        Self::new(DEFAULT_NAMESPACE, Sink::Off)
    }

    /// The namespace from `METRICS_NAMESPACE` (default [`DEFAULT_NAMESPACE`]), to `sink`.
    pub fn from_env(sink: Sink) -> Self {
        Self::new(
            &namespace_from(std::env::var(NAMESPACE_VAR).ok().as_deref()),
            sink,
        )
    }

    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    pub fn is_off(&self) -> bool {
        matches!(self.sink, Sink::Off)
    }

    /// Writes `doc`'s document to the sink. A failed write is dropped: metrics never fail a
    /// request.
    pub fn emit(&self, doc: &Document<'_>) {
        if self.is_off() {
            return;
        }
        BUFFER.with(|b| {
            let Ok(mut buf) = b.try_borrow_mut() else {
                return;
            };
            buf.clear();
            write_document(&mut buf, &self.namespace, doc, unix_millis());
            match &self.sink {
                Sink::Off => {}
                Sink::Stdout => {
                    let _ = std::io::stdout().lock().write_all(&buf);
                }
                Sink::Stderr => {
                    let _ = std::io::stderr().lock().write_all(&buf);
                }
                Sink::To(f) => f(&buf),
            }
        });
    }
}

/// `METRICS_NAMESPACE`'s value, or the default when unset or blank.
pub fn namespace_from(value: Option<&str>) -> String {
    match value.map(str::trim) {
        Some(v) if !v.is_empty() => v.to_owned(),
        _ => DEFAULT_NAMESPACE.to_owned(),
    }
}

thread_local! {
    static BUFFER: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(1024));
}

fn unix_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// One request, as its document reports it.
#[derive(Debug, Clone, Copy)]
pub struct Document<'a> {
    /// The `Function` dimension: [`crate::pipeline::Route::function`].
    pub function: &'a str,
    pub status: u16,
    pub latency_us: u64,
    pub cold_start: bool,
    pub counts: Counts,
    pub replayed: bool,
    pub request_id: &'a str,
    pub lambda_request_id: &'a str,
    pub xray_trace_id: Option<&'a str>,
    pub org_id: Option<&'a str>,
    pub pool_id: Option<&'a str>,
}

/// Appends `doc` as one EMF line (with its newline) to `out`, stamped `timestamp_ms`.
pub fn write_document(out: &mut Vec<u8>, namespace: &str, doc: &Document<'_>, timestamp_ms: u64) {
    // Writes to a Vec cannot fail; the results are ignored on that ground.
    let _ = write!(
        out,
        "{{\"_aws\":{{\"Timestamp\":{timestamp_ms},\"CloudWatchMetrics\":[{{\"Namespace\":"
    );
    json_str(out, namespace);
    out.extend_from_slice(b",\"Dimensions\":[");
    for (i, set) in DIMENSION_SETS.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'[');
        for (j, d) in set.iter().enumerate() {
            if j > 0 {
                out.push(b',');
            }
            json_str(out, d);
        }
        out.push(b']');
    }
    out.extend_from_slice(b"],\"Metrics\":[");
    for (i, m) in METRICS.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"Name\":");
        json_str(out, m.name);
        out.extend_from_slice(b",\"Unit\":");
        json_str(out, m.unit);
        out.push(b'}');
    }
    out.extend_from_slice(b"]}]},");
    member(out, DIMENSION_FUNCTION);
    json_str(out, doc.function);
    out.push(b',');
    member(out, DIMENSION_STATUS);
    let _ = write!(out, "\"{}\"", doc.status);
    let c = &doc.counts;
    let values = [
        (REQUESTS, 1),
        (COLD_START, u32::from(doc.cold_start)),
        (STORE_CALLS, c.store_calls),
        (AUTH_CACHE_HIT, c.auth_cache_hit),
        (AUTH_CACHE_MISS, c.auth_cache_miss),
        (TRANSACTION_RETRIES, c.transaction_retries),
        (IDEMPOTENT_REPLAYS, u32::from(doc.replayed)),
    ];
    for (m, v) in values {
        out.push(b',');
        member(out, m.name);
        let _ = write!(out, "{v}");
    }
    out.push(b',');
    member(out, LATENCY.name);
    let _ = write!(
        out,
        "{}.{:03}",
        doc.latency_us / 1000,
        doc.latency_us % 1000
    );
    let props = [
        ("request_id", Some(doc.request_id)),
        ("lambda_request_id", Some(doc.lambda_request_id)),
        ("xray_trace_id", doc.xray_trace_id),
        ("org_id", doc.org_id),
        ("pool_id", doc.pool_id),
    ];
    for (name, value) in props {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            out.push(b',');
            member(out, name);
            json_str(out, v);
        }
    }
    out.extend_from_slice(b"}\n");
}

fn member(out: &mut Vec<u8>, name: &str) {
    json_str(out, name);
    out.push(b':');
}

/// `s` as a JSON string.
fn json_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    for &b in s.as_bytes() {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0..=0x1f | 0x7f => {
                let _ = write!(out, "\\u{b:04x}");
            }
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Document<'static> {
        Document {
            function: "update-contact-pool",
            status: 503,
            latency_us: 12_345,
            cold_start: true,
            counts: Counts {
                store_calls: 3,
                auth_cache_hit: 0,
                auth_cache_miss: 1,
                transaction_retries: 2,
            },
            replayed: false,
            request_id: "01JABCDEFGHJKMNPQRSTVWXYZ0",
            lambda_request_id: "lambda-1",
            xray_trace_id: Some("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"),
            org_id: Some("5b1f6a9e-2a8c-4f55-9b5e-3f1f7f8e9d10"),
            pool_id: None,
        }
    }

    #[test]
    fn a_document_is_one_json_line_with_every_metric_as_a_member() {
        let mut out = Vec::new();
        write_document(&mut out, "Pools \"Api\"", &doc(), 1_800_000_000_123);
        assert_eq!(out.iter().filter(|b| **b == b'\n').count(), 1);
        assert!(out.ends_with(b"\n"));
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let aws = &v["_aws"];
        assert_eq!(aws["Timestamp"], 1_800_000_000_123u64);
        let cw = &aws["CloudWatchMetrics"][0];
        assert_eq!(cw["Namespace"], "Pools \"Api\"");
        assert_eq!(
            cw["Dimensions"],
            serde_json::json!([["Function"], ["Function", "Status"]])
        );
        let names: Vec<&str> = cw["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["Name"].as_str().unwrap())
            .collect();
        assert_eq!(names, METRICS.map(|m| m.name));
        assert_eq!(v["Function"], "update-contact-pool");
        assert_eq!(v["Status"], "503");
        assert_eq!(v["Requests"], 1);
        assert_eq!(v["ColdStart"], 1);
        assert_eq!(v["StoreCalls"], 3);
        assert_eq!(v["AuthCacheMiss"], 1);
        assert_eq!(v["TransactionRetries"], 2);
        assert_eq!(v["IdempotentReplays"], 0);
        assert_eq!(v["Latency"].as_f64(), Some(12.345));
        assert_eq!(v["org_id"], "5b1f6a9e-2a8c-4f55-9b5e-3f1f7f8e9d10");
        assert!(v.get("pool_id").is_none());
    }

    #[test]
    fn a_sub_millisecond_latency_keeps_its_leading_zeros() {
        let mut out = Vec::new();
        let d = Document {
            latency_us: 7,
            ..doc()
        };
        write_document(&mut out, DEFAULT_NAMESPACE, &d, 0);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["Latency"].as_f64(), Some(0.007));
    }

    #[tokio::test]
    async fn counts_belong_to_the_task_that_made_them() {
        let one = counted(async {
            count_store_call();
            tokio::task::yield_now().await;
            count_store_call();
            count_auth_cache_miss();
        });
        let two = counted(async {
            count_auth_cache_hit();
            tokio::task::yield_now().await;
            count_transaction_retry();
        });
        let ((_, a), (_, b)) = tokio::join!(one, two);
        assert_eq!(
            (a.store_calls, a.auth_cache_miss, a.auth_cache_hit),
            (2, 1, 0)
        );
        assert_eq!(
            (b.store_calls, b.auth_cache_hit, b.transaction_retries),
            (0, 1, 1)
        );
        // Outside a scope: nothing, and no panic.
        count_store_call();
    }

    #[test]
    fn writing_a_document_allocates_nothing_once_warm() {
        let metrics = Metrics::new(DEFAULT_NAMESPACE, Sink::To(Arc::new(|_: &[u8]| {})));
        let d = doc();
        // The first document grows this thread's buffer; every later one reuses it.
        metrics.emit(&d);
        let before = crate::test_alloc::count();
        for _ in 0..100 {
            metrics.emit(&d);
        }
        assert_eq!(crate::test_alloc::count() - before, 0);
        // The counter counts: one allocation is seen.
        let v = std::hint::black_box(vec![0u8; 8]);
        assert_eq!(crate::test_alloc::count() - before, 1, "{v:?}");
    }

    #[test]
    fn the_namespace_defaults_when_unset_or_blank() {
        assert_eq!(namespace_from(None), DEFAULT_NAMESPACE);
        assert_eq!(namespace_from(Some("  ")), DEFAULT_NAMESPACE);
        assert_eq!(namespace_from(Some("Prod")), "Prod");
    }
}
