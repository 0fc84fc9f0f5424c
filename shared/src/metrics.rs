//! The CloudWatch Embedded Metric Format (EMF) document each request writes on stdout
//! (API.md §6): the names here are the only metric names the functions emit, and the template's
//! alarms and dashboard are checked against them.

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
