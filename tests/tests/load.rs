//! A bounded load run against `local-api` (in process, over real HTTP on loopback) on DynamoDB
//! Local: both endpoints, valid and invalid bodies, contended slugs, cross-organization
//! attempts, from 32 concurrent clients. Every response must be one the contract allows for its
//! request, in the endpoint's dialect, never a 5xx; afterwards `poolctl check` finds the table
//! clean. Counts go to `target/load-report.json`.
//!
//! `LOAD_REQUESTS` sets the size (default 2,000 here; `make load` runs 20,000).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use lambda_http::http::Request;
use pool_tests::{processes, seed};
use serde_json::{json, Value};
use shared::auth::{SCOPE_ORG_ADMIN_WRITE, SCOPE_POOLS_WRITE};
use shared::auth_cache::AuthCache;
use shared::domain::idempotency::IdempotencyKey;
use shared::domain::ids::{OrgId, PoolId};
use shared::pipeline::Services;
use shared::store::dynamodb::DynamoStore;
use shared::store::StoreAdmin;
use uuid::Uuid;

const CLIENTS: usize = 32;
const CONTENDED_SLUGS: [&str; 3] = ["hot-a", "hot-b", "hot-c"];

struct Fixture {
    base: String,
    key: String,
    scopeless: String,
    intruder: String,
    contact: Vec<PoolId>,
    guardrail: Vec<PoolId>,
}

/// One request of the mix and the statuses the contract allows for it.
struct Planned {
    kind: &'static str,
    url: String,
    method: &'static str,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    allowed: &'static [u16],
    /// The request's `Idempotency-Key`, if it sends one.
    key: Option<String>,
}

/// Requests with an `Idempotency-Key`: every 24th contact update and guardrail rename, each key
/// sent twice (by requests 24 apart, often at once) with the same body.
fn keyed(f: &Fixture, i: usize) -> Option<Planned> {
    if (i / 12).is_multiple_of(2) {
        return None;
    }
    let j = i / 48;
    let json_ct = ("content-type", "application/json".to_string());
    let auth = ("authorization", format!("Bearer {}", f.key));
    let (kind, url, method, body) = match i % 12 {
        0 => (
            "contact: keyed update",
            format!("{}/api/v1/pools/{}", f.base, f.contact[j % f.contact.len()]),
            "PUT",
            json!({"name": format!("Keyed {j}"), "max_retries": j % 1000}),
        ),
        5 => (
            "guardrail: keyed rename",
            format!(
                "{}/v1/guardrails/pools/{}",
                f.base,
                f.guardrail[j % f.guardrail.len()]
            ),
            "PATCH",
            json!({"name": format!("Keyed G {j}")}),
        ),
        _ => return None,
    };
    let key = format!("load-{}-{j}", i % 12);
    Some(Planned {
        kind,
        url,
        method,
        headers: vec![auth, json_ct, ("idempotency-key", key.clone())],
        body: body.to_string().into_bytes(),
        // Persistent contention (409) writes and records nothing; the retry then applies.
        allowed: &[200, 409],
        key: Some(key),
    })
}

fn request(f: &Fixture, i: usize) -> Planned {
    if let Some(p) = keyed(f, i) {
        return p;
    }
    let c = f.contact[i % f.contact.len()];
    let g = f.guardrail[i % f.guardrail.len()];
    let cu = format!("{}/api/v1/pools/{c}", f.base);
    let gu = format!("{}/v1/guardrails/pools/{g}", f.base);
    let auth = |k: &str| ("authorization", format!("Bearer {k}"));
    let json_ct = ("content-type", "application/json".to_string());
    let body = |v: Value| v.to_string().into_bytes();
    match i % 12 {
        0 => plan(
            "contact: update",
            cu,
            "PUT",
            vec![auth(&f.key), json_ct],
            body(
                json!({"name": format!("Pool {i}"), "max_retries": i % 1000, "is_active": i.is_multiple_of(2)}),
            ),
            &[200],
        ),
        1 => plan(
            "contact: stale if-match",
            cu,
            "PUT",
            vec![
                auth(&f.key),
                json_ct,
                ("if-match", format!("\"{}\"", i % 5)),
            ],
            body(json!({"type": "LIFO"})),
            &[200, 412],
        ),
        2 => plan(
            "contact: invalid fields",
            cu,
            "PUT",
            vec![auth(&f.key), json_ct],
            body(json!({"name": "x", "max_parallel_items": 0, "uuid": "nope"})),
            &[422],
        ),
        3 => plan(
            "contact: malformed",
            cu,
            "PUT",
            vec![auth(&f.key), json_ct],
            b"{\"name\":".to_vec(),
            &[400],
        ),
        4 => plan(
            "contact: other organization",
            cu,
            "PUT",
            vec![auth(&f.intruder), json_ct],
            body(json!({"name": "Hijack"})),
            &[404],
        ),
        5 => plan(
            "guardrail: rename",
            gu,
            "PATCH",
            vec![auth(&f.key), json_ct],
            body(json!({"name": format!("G {i}")})),
            &[200],
        ),
        6 | 7 => plan(
            "guardrail: contended slug",
            gu,
            "PATCH",
            vec![auth(&f.key), json_ct],
            body(json!({"slug": CONTENDED_SLUGS[i % 3], "name": format!("Claim {i}")})),
            &[200, 409],
        ),
        8 => plan(
            "guardrail: fresh slug",
            gu,
            "PATCH",
            vec![auth(&f.key), json_ct],
            body(json!({"slug": format!("s{i}-{}", i % 7)})),
            &[200, 409],
        ),
        9 => plan(
            "guardrail: other organization",
            gu,
            "PATCH",
            vec![auth(&f.intruder), json_ct],
            body(json!({"slug": "hot-a"})),
            &[404],
        ),
        10 => plan(
            "guardrail: immutable brand",
            gu,
            "PATCH",
            vec![auth(&f.key), json_ct],
            body(json!({"brand_id": Uuid::nil()})),
            &[400],
        ),
        _ => {
            if i % 24 == 11 {
                plan(
                    "contact: no scope",
                    cu,
                    "PUT",
                    vec![auth(&f.scopeless), json_ct],
                    body(json!({})),
                    &[403],
                )
            } else {
                plan(
                    "guardrail: bad key",
                    gu,
                    "PATCH",
                    vec![auth("am_live_wrong"), json_ct],
                    body(json!({})),
                    &[401],
                )
            }
        }
    }
}

fn plan(
    kind: &'static str,
    url: String,
    method: &'static str,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    allowed: &'static [u16],
) -> Planned {
    Planned {
        kind,
        url,
        method,
        headers,
        body,
        allowed,
        key: None,
    }
}

fn dialect_ok(path: &str, status: u16, body: &Value) -> bool {
    let success = body["success"] == (status == 200);
    if path.contains("/api/v1/pools/") {
        success && body["message"].is_string()
    } else {
        success && body.get("message").is_none()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn load_with_invariants() {
    pool_tests::require_dynamodb!();
    let total: usize = std::env::var("LOAD_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let table = format!("load-{}", Uuid::new_v4().simple());
    let store = DynamoStore::from_env(table.clone())
        .await
        .expect("DynamoDB client from the environment");
    store.create_table().await.expect("create the load table");
    let org = OrgId::new_v4();
    let fixture = {
        let key = seed::key(&store, org, &[SCOPE_POOLS_WRITE, SCOPE_ORG_ADMIN_WRITE]).await;
        let scopeless = seed::key(&store, org, &[]).await;
        let intruder = seed::key(
            &store,
            OrgId::new_v4(),
            &[SCOPE_POOLS_WRITE, SCOPE_ORG_ADMIN_WRITE],
        )
        .await;
        let mut contact = Vec::new();
        let mut guardrail = Vec::new();
        for i in 0..8 {
            contact.push(seed::stored_contact_pool(&store, org).await.id);
            guardrail.push(
                seed::stored_guardrail_pool(&store, org, &format!("pool-{i}"))
                    .await
                    .id,
            );
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let svc = Services::new(Arc::new(store.clone()))
            .with_auth_cache(AuthCache::from_env().expect("AUTH_CACHE_TTL_SECS"));
        tokio::spawn(local_api::serve(listener, svc, std::future::pending()));
        Arc::new(Fixture {
            base,
            key,
            scopeless,
            intruder,
            contact,
            guardrail,
        })
    };

    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    let next = Arc::new(AtomicUsize::new(0));
    let counts: Arc<Mutex<BTreeMap<String, BTreeMap<u16, usize>>>> = Arc::default();
    let violations: Arc<Mutex<Vec<String>>> = Arc::default();
    // Per Idempotency-Key: (status, ETag, replayed) of each request that sent it.
    type KeyedReplies = BTreeMap<String, Vec<(u16, Option<String>, bool)>>;
    let keyed_replies: Arc<Mutex<KeyedReplies>> = Arc::default();
    let deadline = Instant::now() + Duration::from_secs(600);
    let started = Instant::now();
    let workers: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (f, client, next, counts, violations, keyed_replies) = (
                fixture.clone(),
                client.clone(),
                next.clone(),
                counts.clone(),
                violations.clone(),
                keyed_replies.clone(),
            );
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total || Instant::now() > deadline {
                        return;
                    }
                    let Planned {
                        kind,
                        url,
                        method,
                        headers,
                        body,
                        allowed,
                        key,
                    } = request(&f, i);
                    let mut req = Request::builder().method(method).uri(&url);
                    for (k, v) in &headers {
                        req = req.header(*k, v);
                    }
                    let req = req.body(Full::new(Bytes::from(body))).unwrap();
                    let (status, body) = match client.request(req).await {
                        Ok(resp) => {
                            let status = resp.status().as_u16();
                            if let Some(key) = &key {
                                let header = |n: &str| {
                                    resp.headers()
                                        .get(n)
                                        .and_then(|v| v.to_str().ok())
                                        .map(str::to_owned)
                                };
                                keyed_replies
                                    .lock()
                                    .unwrap()
                                    .entry(key.clone())
                                    .or_default()
                                    .push((
                                        status,
                                        header("etag"),
                                        header("idempotent-replayed").is_some(),
                                    ));
                            }
                            let bytes = resp
                                .into_body()
                                .collect()
                                .await
                                .map(|b| b.to_bytes())
                                .unwrap_or_default();
                            (
                                status,
                                serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null),
                            )
                        }
                        Err(e) => {
                            violations
                                .lock()
                                .unwrap()
                                .push(format!("{kind}: transport error {e}"));
                            continue;
                        }
                    };
                    *counts
                        .lock()
                        .unwrap()
                        .entry(kind.to_string())
                        .or_default()
                        .entry(status)
                        .or_default() += 1;
                    if !allowed.contains(&status) || !dialect_ok(&url, status, &body) {
                        violations
                            .lock()
                            .unwrap()
                            .push(format!("{kind}: {status} {body}"));
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.await.unwrap();
    }
    let elapsed = started.elapsed();

    let check = processes::poolctl(&table, &["check"]);
    let snapshot = store.snapshot().await.unwrap();
    let counts = counts.lock().unwrap().clone();
    let violations = violations.lock().unwrap().clone();
    let sent: usize = counts.values().flat_map(|m| m.values()).sum();
    let five_xx: usize = counts
        .values()
        .flat_map(|m| m.iter())
        .filter(|(s, _)| **s >= 500)
        .map(|(_, n)| n)
        .sum();
    let report = json!({
        "requests": sent,
        "clients": CLIENTS,
        "seconds": elapsed.as_secs_f64(),
        "requests_per_second": sent as f64 / elapsed.as_secs_f64(),
        "five_xx": five_xx,
        "violations": violations.len(),
        "by_kind_and_status": counts,
        "poolctl_check": check.json(),
    });
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/load-report.json");
    std::fs::write(&path, serde_json::to_string_pretty(&report).unwrap()).unwrap();
    println!("{}", serde_json::to_string_pretty(&report).unwrap());

    assert_eq!(sent, total, "every request was answered");
    assert_eq!(five_xx, 0);
    assert!(violations.is_empty(), "{violations:#?}");
    assert!(check.status.success(), "poolctl check: {check:?}");
    assert_eq!(check.json()["problems"], json!([]));
    assert!(poolctl::problems(&snapshot).is_empty());
    // Every Idempotency-Key maps to exactly one applied version: its 200s all carry one ETag,
    // at most one of them is not a replay, and the table holds one record of that version.
    let keyed_replies = keyed_replies.lock().unwrap().clone();
    assert!(!keyed_replies.is_empty(), "the mix sent keys");
    let mut repeats = 0;
    for (key, replies) in &keyed_replies {
        let ok: Vec<_> = replies.iter().filter(|(s, _, _)| *s == 200).collect();
        let digest = IdempotencyKey::parse(key).unwrap().digest();
        let records: Vec<_> = snapshot
            .idempotency_records
            .iter()
            .filter(|r| r.key_digest == digest)
            .collect();
        if ok.is_empty() {
            assert!(records.is_empty(), "{key}: no 200, yet {records:?}");
            continue;
        }
        assert_eq!(
            ok.iter().filter(|(_, _, replayed)| !replayed).count(),
            1,
            "{key}: {replies:?}"
        );
        let etags: std::collections::BTreeSet<_> = ok.iter().map(|(_, e, _)| e.clone()).collect();
        assert_eq!(etags.len(), 1, "{key}: {replies:?}");
        assert_eq!(records.len(), 1, "{key}: {records:?}");
        let etag = format!("\"{}\"", records[0].version);
        assert_eq!(etags.into_iter().next().flatten(), Some(etag), "{key}");
        repeats += usize::from(ok.len() > 1);
    }
    assert!(repeats > 0, "some keys were sent again and replayed");
    // The contended slugs each ended with exactly one holder, and they were contended.
    for slug in CONTENDED_SLUGS {
        let holders = snapshot
            .guardrail_pools
            .iter()
            .filter(|p| p.slug == slug)
            .count();
        assert!(holders <= 1, "{slug} held by {holders}");
    }
    let contended = &counts["guardrail: contended slug"];
    assert!(
        contended.get(&409).copied().unwrap_or(0) > 0,
        "{contended:?}"
    );
}
