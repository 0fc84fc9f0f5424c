//! What a function's cold start spends where, timed inside a fresh process that does what the
//! functions' `main.rs` does (telemetry, then `services_from_env`), then the store calls of the
//! first contact-pool update (auth-cache miss: `GetItem` of the key, `UpdateItem` of the pool),
//! then the same calls again on the now warm client.

use std::process::{Command, Stdio};
use std::time::Instant;

use serde_json::{json, Value};
use shared::clock::{Clock, SystemClock};
use shared::domain::api_key::KeyHash;
use shared::domain::contact_pool::ContactPoolPatch;
use shared::domain::ids::PoolId;
use shared::store::Precondition;
use uuid::Uuid;

use crate::stats::{summarize, us};

/// The sections, in microseconds, in the order they ran.
pub const SECTIONS: [&str; 6] = [
    "telemetry_init",
    "services_from_env",
    "first_get_item",
    "first_update_item",
    "second_get_item",
    "second_update_item",
];

/// Runs in the probe process: `BENCH_KEY`, `BENCH_POOL` name what to touch.
pub async fn inside() -> Result<Value, String> {
    let key = std::env::var("BENCH_KEY").map_err(|_| "BENCH_KEY is not set")?;
    let pool: PoolId = std::env::var("BENCH_POOL")
        .ok()
        .and_then(|p| p.parse().ok())
        .ok_or("BENCH_POOL is not a UUID")?;
    let mut out = serde_json::Map::new();
    let t = Instant::now();
    shared::telemetry::init();
    out.insert("telemetry_init".into(), json!(us(t.elapsed())));
    let t = Instant::now();
    let svc = shared::config::services_from_env()
        .await
        .map_err(|e| e.to_string())?;
    out.insert("services_from_env".into(), json!(us(t.elapsed())));
    let hash = KeyHash::of(&key);
    for round in ["first", "second"] {
        let t = Instant::now();
        let record = svc
            .store
            .find_api_key(&hash)
            .await
            .map_err(|e| format!("GetItem: {e}"))?
            .ok_or("the key is not in the table")?;
        out.insert(format!("{round}_get_item"), json!(us(t.elapsed())));
        let name = format!("Probe {round} {}", Uuid::new_v4().simple());
        let fields = vec![("name".to_owned(), json!(name))];
        let patch =
            ContactPoolPatch::try_from(fields.as_slice()).map_err(|e| format!("patch: {e:?}"))?;
        let t = Instant::now();
        svc.store
            .update_contact_pool(
                record.org_id,
                pool,
                &patch,
                &Precondition::default(),
                SystemClock.now(),
            )
            .await
            .map_err(|e| format!("UpdateItem: {e}"))?;
        out.insert(format!("{round}_update_item"), json!(us(t.elapsed())));
    }
    Ok(Value::Object(out))
}

/// Starts `runs` probe processes (this binary, `probe`) with the Lambda environment; the
/// median and spread of every section.
pub fn outside(
    exe: &std::path::Path,
    runs: usize,
    key: &str,
    pool: PoolId,
    env: &[(String, String)],
) -> Result<Value, String> {
    let mut per_section: Vec<Vec<f64>> = vec![Vec::new(); SECTIONS.len()];
    for _ in 0..runs {
        let out = Command::new(exe)
            .arg("probe")
            .env_clear()
            .envs(crate::cold::lambda_env("probe", "127.0.0.1:9"))
            .env("BENCH_KEY", key)
            .env("BENCH_POOL", pool.to_string())
            .envs(env.iter().cloned())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| format!("probe: {e}"))?;
        let text = String::from_utf8_lossy(&out.stderr);
        let line = text
            .lines()
            .rev()
            .find(|l| l.starts_with('{'))
            .ok_or_else(|| format!("probe said nothing usable: {text}"))?;
        let v: Value = serde_json::from_str(line).map_err(|e| format!("probe: {e}: {line}"))?;
        for (i, s) in SECTIONS.iter().enumerate() {
            let x = v[*s]
                .as_f64()
                .ok_or_else(|| format!("probe lacks {s}: {line}"))?;
            per_section[i].push(x);
        }
    }
    let mut sections = serde_json::Map::new();
    for (i, s) in SECTIONS.iter().enumerate() {
        sections.insert((*s).into(), summarize(&mut per_section[i]).to_json());
    }
    Ok(json!({ "bench": "init-probe", "runs": runs, "sections": sections }))
}
