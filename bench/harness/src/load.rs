//! Over HTTP through `local-api` on DynamoDB Local: closed-loop clients, each on its own
//! keep-alive connection, one request at a time; latency from the request's first byte
//! written to the response's last byte read. Beside it, in the same run, the DynamoDB call the
//! same request makes (local-api keeps an auth cache, so a warm request is one `UpdateItem`),
//! sent with the SDK directly at the same concurrency, and one `GetItem`, so the share of the
//! function (and of local-api's HTTP) is what is left. Any answer but the endpoint's expected
//! status fails the run. The widest body (64 KiB of distinct unsupported keys, answered 422 with
//! every field named) is sent the same way, so it stands beside a typical request as a client
//! sees both.

use std::sync::Arc;
use std::time::{Duration, Instant};

use endpoints::Function;
use serde_json::{json, Value};
use shared::clock::{Clock, SystemClock};
use shared::domain::api_key::KeyHash;
use shared::domain::contact_pool::ContactPoolPatch;
use shared::domain::guardrail_pool::GuardrailPoolPatch;
use shared::domain::ids::PoolId;
use shared::store::dynamodb::DynamoStore;
use shared::store::{ApiKeys, ContactPools, GuardrailPools, Precondition};
use tokio::io::BufReader;
use tokio::net::TcpStream;

use crate::http1::{encode, read_message, write_all};
use crate::seed::Seeded;
use crate::stats::{summarize, us};

/// How long and how much each measurement may take.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// Requests per measurement, over all clients.
    pub requests: usize,
    pub max: Duration,
    pub warmup: usize,
}

/// What one client sends: an endpoint on its own pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    ContactPoolPut,
    GuardrailPatch,
    /// `PUT` of [`crate::warm::widest_body`]: the most expensive body under the limits (a 422).
    ContactPoolWidest,
}

impl Endpoint {
    pub fn name(self) -> &'static str {
        match self {
            Self::ContactPoolPut => "PUT /api/v1/pools/{uuid} (name)",
            Self::GuardrailPatch => "PATCH /v1/guardrails/pools/{id} (name)",
            Self::ContactPoolWidest => "PUT /api/v1/pools/{uuid} (64 KiB of distinct keys, 422)",
        }
    }

    /// The status every answer must have.
    fn expected(self) -> u16 {
        match self {
            Self::ContactPoolPut | Self::GuardrailPatch => 200,
            Self::ContactPoolWidest => 422,
        }
    }

    fn function(self) -> Function {
        match self {
            Self::ContactPoolPut | Self::ContactPoolWidest => Function::UpdateContactPool,
            Self::GuardrailPatch => Function::PatchGuardrailPool,
        }
    }

    fn request(self, pool: PoolId, key: &str, host: &str, i: usize) -> Vec<u8> {
        let body = match self {
            Self::ContactPoolWidest => crate::warm::widest_body(),
            _ => json!({ "name": format!("Bench name {}", i % 2) }).to_string(),
        };
        let route = self.function().route();
        let start = format!("{} {}{pool} HTTP/1.1", route.method, route.prefix);
        let auth = format!("Bearer {key}");
        encode(
            &start,
            &[
                ("host", host),
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            body.as_bytes(),
        )
    }
}

/// Latencies (µs), statuses, and the wall time of one measurement.
struct Run {
    latencies: Vec<f64>,
    /// Answers whose status was not the endpoint's expected one.
    unexpected: usize,
    wall: Duration,
}

fn report(name: &str, clients: usize, mut run: Run) -> Value {
    let n = run.latencies.len();
    json!({
        "name": name, "clients": clients,
        "latency": summarize(&mut run.latencies).to_json(),
        "requests_per_s": (n as f64 / run.wall.as_secs_f64() * 10.0).round() / 10.0,
        "unexpected_status": run.unexpected,
    })
}

/// `clients` connections to `addr`, each sending `endpoint` requests on its own pool.
async fn http_run(
    addr: &str,
    endpoint: Endpoint,
    seeded: &Seeded,
    clients: usize,
    b: Bounds,
) -> Result<Run, String> {
    let per_client = b.requests.div_ceil(clients);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let pool = match endpoint {
            Endpoint::ContactPoolPut | Endpoint::ContactPoolWidest => seeded.contact_pools[c],
            Endpoint::GuardrailPatch => seeded.guardrail_pools[c],
        };
        let key = seeded.key.clone();
        let addr = addr.to_owned();
        tasks.push(tokio::spawn(async move {
            let stream = TcpStream::connect(&addr)
                .await
                .map_err(|e| format!("connect {addr}: {e}"))?;
            stream.set_nodelay(true).map_err(|e| e.to_string())?;
            let (r, mut w) = stream.into_split();
            let mut r = BufReader::new(r);
            let mut lat = Vec::with_capacity(per_client);
            let mut unexpected = 0;
            for i in 0..b.warmup + per_client {
                let req = endpoint.request(pool, &key, &addr, i);
                let t = Instant::now();
                write_all(&mut w, &req).await.map_err(|e| e.to_string())?;
                let resp = read_message(&mut r)
                    .await
                    .map_err(|e| e.to_string())?
                    .ok_or("local-api closed the connection")?;
                let dt = us(t.elapsed());
                if i >= b.warmup {
                    lat.push(dt);
                    if resp.status() != endpoint.expected() {
                        unexpected += 1;
                    }
                }
                if started.elapsed() > b.max {
                    break;
                }
            }
            Ok::<_, String>((lat, unexpected))
        }));
    }
    let mut run = Run {
        latencies: Vec::new(),
        unexpected: 0,
        wall: Duration::ZERO,
    };
    for t in tasks {
        let (lat, bad) = t.await.map_err(|e| e.to_string())??;
        run.latencies.extend(lat);
        run.unexpected += bad;
    }
    run.wall = started.elapsed();
    Ok(run)
}

/// What a request costs DynamoDB, sent directly: the key's `GetItem` (local-api has no auth
/// cache, so every request reads the key) then the pool's `UpdateItem`.
/// `None`: one `GetItem` of the key (consistent, as authentication reads it); `Some(e)`: the
/// `UpdateItem` a warm `e` request sends.
async fn store_run(
    store: Arc<DynamoStore>,
    endpoint: Option<Endpoint>,
    seeded: &Seeded,
    clients: usize,
    b: Bounds,
) -> Result<Run, String> {
    let per_client = b.requests.div_ceil(clients);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let store = store.clone();
        let hash = KeyHash::of(&seeded.key);
        let org = seeded.org;
        let (cp, gp) = (seeded.contact_pools[c], seeded.guardrail_pools[c]);
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(per_client);
            for i in 0..b.warmup + per_client {
                let name = json!(format!("Bench name {}", i % 2));
                let fields = vec![("name".to_owned(), name)];
                let t = Instant::now();
                match endpoint {
                    None => {
                        store
                            .find_api_key(&hash)
                            .await
                            .map_err(|e| format!("GetItem: {e}"))?
                            .ok_or("the key is not in the table")?;
                    }
                    Some(Endpoint::ContactPoolPut) => {
                        let patch = ContactPoolPatch::try_from(fields.as_slice())
                            .map_err(|e| format!("{e:?}"))?;
                        store
                            .update_contact_pool(
                                org,
                                cp,
                                &patch,
                                &Precondition::default(),
                                SystemClock.now(),
                            )
                            .await
                            .map_err(|e| format!("UpdateItem: {e}"))?;
                    }
                    Some(Endpoint::ContactPoolWidest) => {
                        return Err("the widest body is answered before any store call".into());
                    }
                    Some(Endpoint::GuardrailPatch) => {
                        let patch = GuardrailPoolPatch::try_from(fields.as_slice())
                            .map_err(|e| format!("{e:?}"))?;
                        store
                            .update_guardrail_pool(
                                org,
                                gp,
                                &patch,
                                &Precondition::default(),
                                SystemClock.now(),
                            )
                            .await
                            .map_err(|e| format!("UpdateItem: {e}"))?;
                    }
                }
                let dt = us(t.elapsed());
                if i >= b.warmup {
                    lat.push(dt);
                }
                if started.elapsed() > b.max {
                    break;
                }
            }
            Ok::<_, String>(lat)
        }));
    }
    let mut run = Run {
        latencies: Vec::new(),
        unexpected: 0,
        wall: Duration::ZERO,
    };
    for t in tasks {
        run.latencies.extend(t.await.map_err(|e| e.to_string())??);
    }
    run.wall = started.elapsed();
    Ok(run)
}

/// `endpoint` over HTTP at `clients` connections, as a report line; an answer with another
/// status than the endpoint's fails the run.
async fn http_measurement(
    addr: &str,
    endpoint: Endpoint,
    seeded: &Seeded,
    clients: usize,
    b: Bounds,
) -> Result<Value, String> {
    let http = http_run(addr, endpoint, seeded, clients, b).await?;
    if http.unexpected > 0 {
        return Err(format!(
            "{}: {} of {} answers were not {} (is {addr} the local-api on this table?)",
            endpoint.name(),
            http.unexpected,
            http.latencies.len(),
            endpoint.expected()
        ));
    }
    Ok(json!({
        "bench": "http", "via": "HTTP through local-api", "what": endpoint.name(),
        "result": report(endpoint.name(), clients, http),
    }))
}

/// Every measurement, at every concurrency in `clients`.
pub async fn run(
    addr: &str,
    store: Arc<DynamoStore>,
    seeded: &Seeded,
    clients: &[usize],
    b: Bounds,
) -> Result<Vec<Value>, String> {
    let mut out = Vec::new();
    for &c in clients {
        if seeded.contact_pools.len() < c {
            return Err(format!("seed at least {c} pools"));
        }
        let direct = store_run(store.clone(), None, seeded, c, b).await?;
        out.push(json!({
            "bench": "http", "via": "SDK directly: GetItem", "what": "the key",
            "result": report("GetItem", c, direct),
        }));
        for e in [Endpoint::ContactPoolPut, Endpoint::GuardrailPatch] {
            let direct = store_run(store.clone(), Some(e), seeded, c, b).await?;
            out.push(json!({
                "bench": "http", "via": "SDK directly: UpdateItem", "what": e.name(),
                "result": report("UpdateItem", c, direct),
            }));
            out.push(http_measurement(addr, e, seeded, c, b).await?);
        }
        // The widest body beside them: no store call of its own to compare with.
        out.push(http_measurement(addr, Endpoint::ContactPoolWidest, seeded, c, b).await?);
    }
    Ok(out)
}
