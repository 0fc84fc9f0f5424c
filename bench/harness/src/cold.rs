//! Cold starts: each run starts a fresh process of a release binary against the loopback
//! Runtime API, with the environment Lambda gives a custom runtime, and times
//!
//! - process start (just before `spawn`) → its first `GET /2018-06-01/runtime/invocation/next`;
//! - the first invocation's round trip: event written → `POST …/invocation/<id>/response`;
//!
//! then, once the function is idle on its second `/next`, reads its peak RSS (`VmHWM`) and
//! kills it. Subjects take turns within each run, so drift on a shared machine spreads evenly.

use std::fs::OpenOptions;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::procfs::status_kb;
use crate::runtime_api::{Arrival, Invocation, RuntimeApi};
use crate::stats::{summarize, us, Summary};

/// The environment every started process gets (besides the Runtime API's address and the
/// function's name), as Lambda sets it for a `provided.al2023` function. Values not given by
/// the harness's own environment take the defaults below.
pub fn lambda_env(function_name: &str, runtime_api: &str) -> Vec<(String, String)> {
    let var = |k: &str, default: &str| std::env::var(k).unwrap_or_else(|_| default.to_owned());
    let mut env = vec![
        ("AWS_LAMBDA_RUNTIME_API", runtime_api.to_owned()),
        ("AWS_LAMBDA_FUNCTION_NAME", function_name.to_owned()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128".to_owned()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
        (
            "AWS_LAMBDA_LOG_STREAM_NAME",
            "2026/11/24/[$LATEST]0123456789abcdef0123456789abcdef".to_owned(),
        ),
        (
            "AWS_LAMBDA_LOG_GROUP_NAME",
            format!("/aws/lambda/{function_name}"),
        ),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_owned()),
        ("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023".to_owned()),
        ("AWS_REGION", var("AWS_REGION", "us-east-1")),
        ("AWS_DEFAULT_REGION", var("AWS_REGION", "us-east-1")),
        ("AWS_ACCESS_KEY_ID", var("AWS_ACCESS_KEY_ID", "local")),
        (
            "AWS_SECRET_ACCESS_KEY",
            var("AWS_SECRET_ACCESS_KEY", "local"),
        ),
        // Lambda's credentials are always temporary ones.
        (
            "AWS_SESSION_TOKEN",
            var("AWS_SESSION_TOKEN", "local-session"),
        ),
        ("TZ", ":UTC".to_owned()),
        ("LANG", "en_US.UTF-8".to_owned()),
        ("PATH", "/usr/local/bin:/usr/bin/:/bin".to_owned()),
    ];
    for k in [
        "TABLE_NAME",
        "AWS_ENDPOINT_URL_DYNAMODB",
        "AUTH_CACHE_TTL_SECS",
        "RUST_LOG",
    ] {
        if let Ok(v) = std::env::var(k) {
            env.push((k, v));
        }
    }
    env.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// One thing to start: a binary and the first event it gets.
pub struct Subject {
    /// Short name for the report: `hello`, `update-contact-pool`, …
    pub name: String,
    /// What the first invocation is, e.g. `PUT, valid key (GetItem + UpdateItem)`.
    pub case: String,
    pub binary: PathBuf,
    /// Variables set on top of [`lambda_env`].
    pub env: Vec<(String, String)>,
    /// The first event, per run (a fresh body each run, so every write changes something).
    pub payload: Box<dyn Fn(usize) -> String>,
    /// The `statusCode` the function must answer with.
    pub expect_status: Option<u16>,
}

/// One cold start.
#[derive(Debug, Clone)]
pub struct Sample {
    pub start_to_next: Duration,
    pub first_round_trip: Duration,
    pub peak_rss_kb: Option<u64>,
}

/// The runs of one subject.
pub struct Outcome {
    pub name: String,
    pub case: String,
    pub samples: Vec<Sample>,
}

impl Outcome {
    pub fn start_to_next(&self) -> Summary {
        summarize(
            &mut self
                .samples
                .iter()
                .map(|s| us(s.start_to_next))
                .collect::<Vec<_>>(),
        )
    }

    pub fn first_round_trip(&self) -> Summary {
        summarize(
            &mut self
                .samples
                .iter()
                .map(|s| us(s.first_round_trip))
                .collect::<Vec<_>>(),
        )
    }

    /// Peak RSS in kB: the median and the largest over the runs.
    pub fn peak_rss_kb(&self) -> (f64, f64) {
        let mut v: Vec<f64> = self
            .samples
            .iter()
            .filter_map(|s| s.peak_rss_kb)
            .map(|kb| kb as f64)
            .collect();
        let s = summarize(&mut v);
        (s.p50, s.max)
    }

    pub fn to_json(&self) -> Value {
        let (rss_p50, rss_max) = self.peak_rss_kb();
        json!({
            "bench": "cold", "name": self.name, "case": self.case,
            "start_to_next": self.start_to_next().to_json(),
            "first_round_trip": self.first_round_trip().to_json(),
            "peak_rss_kb_p50": rss_p50, "peak_rss_kb_max": rss_max,
        })
    }
}

const STEP_TIMEOUT: Duration = Duration::from_secs(15);

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `subject` once and measures it.
async fn once(
    api: &mut RuntimeApi,
    subject: &Subject,
    run: usize,
    logs: &std::path::Path,
) -> Result<Sample, String> {
    let request_id = format!("{:08x}-0000-4000-8000-{:012x}", run, std::process::id());
    api.prepare(Invocation {
        request_id: request_id.clone(),
        payload: (subject.payload)(run),
    });
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(logs.join(format!("{}.log", subject.name)))
        .map_err(|e| format!("log file: {e}"))?;
    let log2 = log.try_clone().map_err(|e| format!("log file: {e}"))?;
    let mut cmd = Command::new(&subject.binary);
    cmd.env_clear()
        .envs(lambda_env(&subject.name, &api.address))
        .envs(subject.env.iter().cloned())
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2);
    let started = Instant::now();
    let child = Killed(
        cmd.spawn()
            .map_err(|e| format!("cannot start {}: {e}", subject.binary.display()))?,
    );
    let pid = child.0.id().to_string();

    let (next_at, sent) = match api.arrival(STEP_TIMEOUT).await {
        Some(Arrival::Next { at, sent }) => (at, sent),
        other => return Err(format!("expected the first /next, got {other:?}")),
    };
    let (answered, body) = match api.arrival(STEP_TIMEOUT).await {
        Some(Arrival::Response {
            at,
            request_id: id,
            body,
        }) if id == request_id => (at, body),
        Some(Arrival::Error { path, body, .. }) => {
            return Err(format!(
                "the function reported an error at {path}: {}",
                String::from_utf8_lossy(&body)
            ))
        }
        other => return Err(format!("expected the response, got {other:?}")),
    };
    if let Some(want) = subject.expect_status {
        let got = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| v["statusCode"].as_u64());
        if got != Some(u64::from(want)) {
            return Err(format!(
                "{} answered {got:?}, not {want}: {}",
                subject.name,
                String::from_utf8_lossy(&body)
            ));
        }
    }
    // Idle again: whatever the first invocation allocated has been allocated.
    match api.arrival(STEP_TIMEOUT).await {
        Some(Arrival::Idle { .. }) => {}
        other => return Err(format!("expected the second /next, got {other:?}")),
    }
    let peak_rss_kb = status_kb(&pid, "VmHWM");
    drop(child);
    Ok(Sample {
        start_to_next: next_at - started,
        first_round_trip: answered - sent,
        peak_rss_kb,
    })
}

/// `runs` cold starts of every subject, taking turns.
pub async fn run(
    subjects: &[Subject],
    runs: usize,
    logs: &std::path::Path,
) -> Result<Vec<Outcome>, String> {
    std::fs::create_dir_all(logs).map_err(|e| format!("{}: {e}", logs.display()))?;
    let mut api = RuntimeApi::start()
        .await
        .map_err(|e| format!("runtime API: {e}"))?;
    let mut outcomes: Vec<Outcome> = subjects
        .iter()
        .map(|s| Outcome {
            name: s.name.clone(),
            case: s.case.clone(),
            samples: Vec::with_capacity(runs),
        })
        .collect();
    // One unmeasured start of each first: the page cache holds the binaries from then on, as
    // Lambda's worker holds the function's image.
    for s in subjects {
        once(&mut api, s, usize::MAX >> 1, logs).await?;
    }
    for run in 0..runs {
        for k in 0..subjects.len() {
            let i = (run + k) % subjects.len();
            let sample = once(&mut api, &subjects[i], run, logs).await?;
            outcomes[i].samples.push(sample);
        }
    }
    Ok(outcomes)
}
