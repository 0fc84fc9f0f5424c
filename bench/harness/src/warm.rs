//! Warm handlers in process: the function's `handle` on an in-memory store with the auth cache
//! hit, as a warm Lambda execution environment runs it, one request at a time.
//!
//! Each request is read from a real v2 event (`lambda_http::request::from_str`) outside the
//! timed section; the timed section is `handle(req, &svc)`, everything the function does
//! between the runtime handing it the request and it handing the response back. Alternating
//! bodies make every request a real write.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use endpoints::Function;
use serde_json::{json, Value};
use shared::auth_cache::AuthCache;
use shared::metrics::{Metrics, Sink, WriteDocument, DEFAULT_NAMESPACE};
use shared::pipeline::Services;
use shared::store::memory::MemoryStore;

use crate::event::{request, v2_event};
use crate::seed::{seed, Seeded};
use crate::stats::{summarize, us};

/// One kind of request.
pub struct Case {
    pub name: &'static str,
    pub function: Function,
    /// Bodies taken in turn.
    pub bodies: Vec<String>,
    pub pool: fn(&Seeded) -> String,
    /// The status class every request must get (2 for 2xx, 4 for 4xx).
    pub expect: usize,
}

pub fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "update-contact-pool: PUT name",
            function: Function::UpdateContactPool,
            bodies: vec![
                json!({"name": "Warm leads A"}).to_string(),
                json!({"name": "Warm leads B"}).to_string(),
            ],
            pool: |s| s.contact_pools[0].to_string(),
            expect: 2,
        },
        Case {
            name: "update-contact-pool: PUT all six fields",
            function: Function::UpdateContactPool,
            bodies: vec![
                json!({"name": "Warm leads A", "description": "Autumn", "type": "Parallel",
                       "max_parallel_items": 20, "max_retries": 5, "is_active": true})
                .to_string(),
                json!({"name": "Warm leads B", "description": null, "type": "FIFO",
                       "max_parallel_items": 10, "max_retries": 3, "is_active": false})
                .to_string(),
            ],
            pool: |s| s.contact_pools[0].to_string(),
            expect: 2,
        },
        Case {
            name: "patch-guardrail-pool: PATCH name",
            function: Function::PatchGuardrailPool,
            bodies: vec![
                json!({"name": "Outbound A"}).to_string(),
                json!({"name": "Outbound B"}).to_string(),
            ],
            pool: |s| s.guardrail_pools[0].to_string(),
            expect: 2,
        },
        Case {
            name: "patch-guardrail-pool: PATCH slug",
            function: Function::PatchGuardrailPool,
            bodies: vec![
                json!({"slug": "outbound-a"}).to_string(),
                json!({"slug": "outbound-b"}).to_string(),
            ],
            pool: |s| s.guardrail_pools[0].to_string(),
            expect: 2,
        },
        Case {
            name: "update-contact-pool: PUT 64 KiB of distinct keys (422)",
            function: Function::UpdateContactPool,
            bodies: vec![widest_body()],
            pool: |s| s.contact_pools[0].to_string(),
            expect: 4,
        },
    ]
}

/// The most expensive body under the limits: as many distinct one-character-value keys as fit in
/// 64 KiB (about 6,500), each an unsupported field, so the body is parsed, checked for
/// duplicates, and answered with a 422 that names every field.
pub fn widest_body() -> String {
    let mut body = String::from("{");
    for i in 0.. {
        let member = format!("{}\"k{i}\":1", if i == 0 { "" } else { "," });
        if body.len() + member.len() + 1 > shared::body::MAX_BODY_BYTES {
            break;
        }
        body.push_str(&member);
    }
    body.push('}');
    body
}

/// Steps of the fixed job [`reference`] times: about as long as a warm request (8.1 µs at the
/// median on the 2.45 GHz Zen 3 host of BENCHMARKS.md's run A).
pub const REFERENCE_STEPS: u32 = 4_000;

/// A job of fixed work: `steps` xorshift steps, each through `black_box` so none is folded
/// away; no allocation, no I/O, no lock.
fn fixed_work(steps: u32) -> u64 {
    let mut x = 0x9E37_79B9_7F4A_7C15_u64;
    for _ in 0..steps {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x = std::hint::black_box(x);
    }
    x
}

/// The host's own spread: [`fixed_work`] timed exactly as `handle` is, as many times. Its
/// p50 → p99 gap is what interrupts, the scheduler and the hypervisor add to any job of that
/// length here, so the handlers' tails can be read against it.
pub fn reference(requests: usize, warmup: usize, max: Duration) -> Value {
    let mut work = Vec::with_capacity(requests);
    let started = Instant::now();
    for i in 0..warmup + requests {
        let t0 = Instant::now();
        std::hint::black_box(fixed_work(REFERENCE_STEPS));
        let t1 = Instant::now();
        if i >= warmup {
            work.push(us(t1 - t0));
        }
        if started.elapsed() > max {
            break;
        }
    }
    json!({
        "bench": "warm-reference",
        "case": format!("host reference: fixed CPU work ({REFERENCE_STEPS} xorshift steps; no allocation, I/O or lock)"),
        "work": summarize(&mut work).to_json(),
    })
}

/// Runs every case for `requests` requests or `max` time, whichever comes first, after
/// `warmup` unmeasured ones. With `logs`, the function's JSON log line of every request is
/// written, as on Lambda, to `/dev/null` instead of stdout; with `emf`, its EMF metrics
/// document too (`shared::metrics`), to `/dev/null` as well.
pub fn run(
    requests: usize,
    warmup: usize,
    max: Duration,
    logs: bool,
    emf: bool,
) -> Result<Vec<Value>, String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let _guard = if logs {
        let null = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/null")
            .map_err(|e| format!("/dev/null: {e}"))?;
        Some(shared::telemetry::set_thread_default(
            std::sync::Mutex::new(null),
        ))
    } else {
        None
    };
    rt.block_on(async {
        let store = Arc::new(MemoryStore::new());
        let seeded = seed(store.as_ref(), 1)
            .await
            .map_err(|e| format!("seed: {e}"))?;
        let mut svc = Services::new(store).with_auth_cache(AuthCache::new(30, 1024));
        if emf {
            let null = std::sync::Mutex::new(
                std::fs::OpenOptions::new()
                    .write(true)
                    .open("/dev/null")
                    .map_err(|e| format!("/dev/null: {e}"))?,
            );
            let write: WriteDocument = Arc::new(move |doc: &[u8]| {
                if let Ok(mut f) = null.lock() {
                    let _ = f.write_all(doc);
                }
            });
            svc = svc.with_metrics(Metrics::new(DEFAULT_NAMESPACE, Sink::To(write)));
        }
        let mut out = Vec::new();
        for case in cases() {
            let pool = (case.pool)(&seeded);
            let events: Vec<String> = case
                .bodies
                .iter()
                .map(|b| v2_event(case.function.route(), &pool, Some(&seeded.key), b))
                .collect();
            let mut parse = Vec::with_capacity(requests);
            let mut handle = Vec::with_capacity(requests);
            let started = Instant::now();
            let mut statuses = [0usize; 6];
            for i in 0..warmup + requests {
                let ev = &events[i % events.len()];
                let t0 = Instant::now();
                let req = request(ev)?;
                let t1 = Instant::now();
                let resp = case.function.handle(req, &svc).await;
                let t2 = Instant::now();
                let status = resp.status().as_u16();
                std::hint::black_box(resp);
                if i >= warmup {
                    parse.push(us(t1 - t0));
                    handle.push(us(t2 - t1));
                    statuses[usize::from(status / 100).min(5)] += 1;
                }
                if started.elapsed() > max {
                    break;
                }
            }
            let ok = statuses[case.expect];
            if ok != handle.len() {
                return Err(format!(
                    "{}: {} of {} requests were not {}xx",
                    case.name,
                    handle.len() - ok,
                    handle.len(),
                    case.expect
                ));
            }
            out.push(json!({
                "bench": "warm", "case": case.name, "logs": logs, "emf": emf,
                "handle": summarize(&mut handle).to_json(),
                "event_parse": summarize(&mut parse).to_json(),
                "seconds": started.elapsed().as_secs_f64(),
            }));
        }
        Ok(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_widest_body_fills_the_limit_with_distinct_keys() {
        let body = widest_body();
        assert!(body.len() <= shared::body::MAX_BODY_BYTES);
        assert!(body.len() > shared::body::MAX_BODY_BYTES - 16);
        let parsed = shared::body::parse_json_object(&body).unwrap();
        assert!(parsed.len() > 6_000, "{}", parsed.len());
    }

    #[test]
    fn the_fixed_work_depends_on_its_steps() {
        assert_ne!(fixed_work(1), fixed_work(2));
        assert_eq!(fixed_work(REFERENCE_STEPS), fixed_work(REFERENCE_STEPS));
    }

    #[test]
    fn the_reference_counts_only_measured_runs() {
        let r = reference(50, 5, Duration::from_secs(10));
        assert_eq!(r["bench"], "warm-reference");
        assert_eq!(r["work"]["n"], 50);
        assert!(r["work"]["p50_us"].as_f64().unwrap() > 0.0, "{r}");
    }
}
