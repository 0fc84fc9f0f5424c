//! `bench-harness <command> [--flag value]…`; see `scripts/bench.sh` for the full run.
//!
//! - `cold --out F --logs DIR --runs N [--probe-runs N] [--hello PATH]
//!   [--function NAME=PATH]… [--env-set LABEL:K=V,K=V]… [--tag T] [--no-store-cases]
//!   [--ddb-warmup ROUNDS]` (DynamoDB Local is warmed up first, 1,000 rounds by default)
//!   (each env set adds, per function, a subject `NAME[LABEL]` with those variables, and a
//!   probe series with them)
//! - `warm --out F --requests N --warmup N --max-secs S [--tag T]`
//! - `http --out F --url http://127.0.0.1:PORT --clients 1,16 --requests N --warmup N
//!   --max-secs S [--server-pid PID]`
//! - `sizes --out F [ARCH:NAME=PATH]…`
//! - `report --in F` (Markdown on stdout)
//! - `probe` (internal: one fresh process of the init probe)
//!
//! `cold` and `http` need `TABLE_NAME` and `AWS_ENDPOINT_URL_DYNAMODB` (DynamoDB Local).

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use bench_harness::cold::{self, Subject};
use bench_harness::event::v2_event;
use bench_harness::{load, probe, procfs, report, seed, warm};
use endpoints::Function;
use serde_json::{json, Value};
use shared::store::dynamodb::DynamoStore;

type Flags = HashMap<String, Vec<String>>;

fn parse(args: &[String]) -> (Flags, Vec<String>) {
    let mut flags: Flags = HashMap::new();
    let mut rest = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if let Some(name) = a.strip_prefix("--") {
            let takes_value = !matches!(name, "no-store-cases");
            let v = if takes_value {
                it.next().cloned().unwrap_or_default()
            } else {
                String::new()
            };
            flags.entry(name.to_owned()).or_default().push(v);
        } else {
            rest.push(a.clone());
        }
    }
    (flags, rest)
}

fn one<'a>(f: &'a Flags, name: &str) -> Result<&'a str, String> {
    f.get(name)
        .and_then(|v| v.last())
        .map(String::as_str)
        .ok_or_else(|| format!("--{name} is required"))
}

fn num(f: &Flags, name: &str, default: usize) -> Result<usize, String> {
    match f.get(name).and_then(|v| v.last()) {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|_| format!("--{name}: not a number: {v}")),
    }
}

fn append(out: &str, lines: &[Value]) -> Result<(), String> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(out)
        .map_err(|e| format!("{out}: {e}"))?;
    for l in lines {
        writeln!(f, "{l}").map_err(|e| format!("{out}: {e}"))?;
        println!("{l}");
    }
    Ok(())
}

fn runtime(threads: Option<usize>) -> Result<tokio::runtime::Runtime, String> {
    match threads {
        None => tokio::runtime::Builder::new_current_thread(),
        Some(n) => {
            let mut b = tokio::runtime::Builder::new_multi_thread();
            b.worker_threads(n);
            b
        }
    }
    .enable_all()
    .build()
    .map_err(|e| e.to_string())
}

async fn dynamo_store() -> Result<DynamoStore, String> {
    let table = std::env::var("TABLE_NAME").map_err(|_| "TABLE_NAME is not set")?;
    if std::env::var("AWS_ENDPOINT_URL_DYNAMODB").is_err() {
        return Err("AWS_ENDPOINT_URL_DYNAMODB is not set: start DynamoDB Local".into());
    }
    let store = DynamoStore::from_env(table)
        .await
        .map_err(|e| e.to_string())?;
    store
        .create_table()
        .await
        .map_err(|e| format!("create table: {e}"))?;
    Ok(store)
}

type EnvSet = (String, Vec<(String, String)>);

/// `--env-set LABEL:K=V,K=V`.
fn env_sets(f: &Flags) -> Result<Vec<EnvSet>, String> {
    let mut out = Vec::new();
    for spec in f.get("env-set").into_iter().flatten() {
        let (label, vars) = spec
            .split_once(':')
            .ok_or_else(|| format!("--env-set LABEL:K=V,K=V, not {spec}"))?;
        let vars = vars
            .split(',')
            .map(|kv| {
                kv.split_once('=')
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .ok_or_else(|| format!("--env-set: {kv} is not K=V"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        out.push((label.to_owned(), vars));
    }
    Ok(out)
}

/// The first event a subject gets: `NAME` or `NAME@variant`, by the function's name.
fn subjects(
    f: &Flags,
    seeded: &seed::Seeded,
    store_cases: bool,
    sets: &[EnvSet],
) -> Result<Vec<Subject>, String> {
    let cp = seeded.contact_pools[0].to_string();
    let gp = seeded.guardrail_pools[0].to_string();
    let key = seeded.key.clone();
    let mut out = Vec::new();
    if let Some(hello) = f.get("hello").and_then(|v| v.last()) {
        let (cp, key) = (cp.clone(), key.clone());
        out.push(Subject {
            name: "hello".into(),
            case: "fixed 200 (the same PUT event)".into(),
            binary: PathBuf::from(hello),
            env: Vec::new(),
            payload: Box::new(move |run| {
                let body = json!({ "name": format!("Cold start {run}") }).to_string();
                v2_event(Function::UpdateContactPool.route(), &cp, Some(&key), &body)
            }),
            expect_status: None,
        });
    }
    for spec in f.get("function").into_iter().flatten() {
        let (name, path) = spec
            .split_once('=')
            .ok_or_else(|| format!("--function NAME=PATH, not {spec}"))?;
        let base = name.split('@').next().unwrap_or(name);
        let function = Function::by_name(base).ok_or_else(|| format!("unknown function {base}"))?;
        let route = function.route();
        let id = match function {
            Function::UpdateContactPool => cp.clone(),
            Function::PatchGuardrailPool => gp.clone(),
        };
        let verb = route.method.as_str();
        let plain: EnvSet = (String::new(), Vec::new());
        for (label, env) in std::iter::once(&plain).chain(sets) {
            let k = key.clone();
            let i = id.clone();
            out.push(Subject {
                name: if label.is_empty() {
                    name.to_owned()
                } else {
                    format!("{name}[{label}]")
                },
                case: format!("{verb} name, valid key: GetItem + UpdateItem"),
                binary: PathBuf::from(path),
                env: env.clone(),
                payload: Box::new(move |run| {
                    let body = json!({ "name": format!("Cold start {run}") }).to_string();
                    v2_event(route, &i, Some(&k), &body)
                }),
                expect_status: Some(200),
            });
        }
        if store_cases {
            out.push(Subject {
                name: format!("{name}#no-store"),
                case: format!("{verb} without Authorization: 401, no store call"),
                binary: PathBuf::from(path),
                env: Vec::new(),
                payload: Box::new(move |_| v2_event(route, &id, None, "{\"name\":\"x\"}")),
                expect_status: Some(401),
            });
        }
    }
    Ok(out)
}

fn cmd_cold(f: &Flags) -> Result<(), String> {
    let out = one(f, "out")?;
    let logs = PathBuf::from(one(f, "logs")?);
    let runs = num(f, "runs", 25)?;
    let probe_runs = num(f, "probe-runs", 0)?;
    let tag = f
        .get("tag")
        .and_then(|v| v.last())
        .cloned()
        .unwrap_or_default();
    let rt = runtime(None)?;
    rt.block_on(async {
        let store = dynamo_store().await?;
        let seeded = seed::seed(&store, 1)
            .await
            .map_err(|e| format!("seed: {e}"))?;
        let rounds = num(f, "ddb-warmup", 1_000)?;
        let done = seed::exercise(&store, &seeded, rounds, Duration::from_secs(60))
            .await
            .map_err(|e| format!("warming DynamoDB Local up: {e}"))?;
        eprintln!("bench-harness cold: {done} warm-up rounds on DynamoDB Local");
        let sets = env_sets(f)?;
        let subjects = subjects(f, &seeded, !f.contains_key("no-store-cases"), &sets)?;
        let outcomes = cold::run(&subjects, runs, &logs).await?;
        let mut lines: Vec<Value> = outcomes
            .iter()
            .map(|o| {
                let mut v = o.to_json();
                v["tag"] = json!(tag);
                v["runs"] = json!(runs);
                v
            })
            .collect();
        if probe_runs > 0 {
            let exe = std::env::current_exe().map_err(|e| e.to_string())?;
            let plain: EnvSet = (String::new(), Vec::new());
            for (label, env) in std::iter::once(&plain).chain(&sets) {
                let pool = seeded.contact_pools[0];
                let mut p = probe::outside(&exe, probe_runs, &seeded.key, pool, env)?;
                p["tag"] = json!(tag);
                p["env_set"] = json!(label);
                let vars: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
                p["env"] = json!(vars.join(" "));
                lines.push(p);
            }
        }
        append(out, &lines)
    })
}

fn cmd_probe() -> Result<(), String> {
    // The functions' runtime: tokio's multi-threaded one (`#[tokio::main]`).
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let v = rt.block_on(probe::inside())?;
    eprintln!("{v}");
    Ok(())
}

fn cmd_warm(f: &Flags) -> Result<(), String> {
    let out = one(f, "out")?;
    let requests = num(f, "requests", 20_000)?;
    let warmup = num(f, "warmup", 1_000)?;
    let max = Duration::from_secs(num(f, "max-secs", 60)? as u64);
    let tag = f
        .get("tag")
        .and_then(|v| v.last())
        .cloned()
        .unwrap_or_default();
    // No telemetry, the log line alone, and the log line with the EMF document (as deployed).
    let mut lines = warm::run(requests, warmup, max, false, false)?;
    lines.extend(warm::run(requests, warmup, max, true, false)?);
    lines.extend(warm::run(requests, warmup, max, true, true)?);
    lines.push(warm::reference(requests, warmup, max));
    lines.push(json!({"bench": "warm-rss", "peak_rss_kb": procfs::own_peak_rss_kb()}));
    for l in &mut lines {
        l["tag"] = json!(tag);
    }
    append(out, &lines)
}

fn cmd_http(f: &Flags) -> Result<(), String> {
    let out = one(f, "out")?;
    let url = one(f, "url")?;
    let addr = url
        .strip_prefix("http://")
        .ok_or("--url http://127.0.0.1:PORT")?
        .trim_end_matches('/')
        .to_owned();
    if !addr.starts_with("127.0.0.1:") && !addr.starts_with("localhost:") {
        return Err("loopback only: --url http://127.0.0.1:PORT".into());
    }
    let clients: Vec<usize> = one(f, "clients")?
        .split(',')
        .map(|c| c.trim().parse().map_err(|_| format!("--clients: {c}")))
        .collect::<Result<_, _>>()?;
    let bounds = load::Bounds {
        requests: num(f, "requests", 4_000)?,
        warmup: num(f, "warmup", 100)?,
        max: Duration::from_secs(num(f, "max-secs", 60)? as u64),
    };
    let most = clients.iter().copied().max().unwrap_or(1);
    // Client tasks on two threads: the harness must not be what limits 16 clients.
    let rt = runtime(Some(2))?;
    rt.block_on(async {
        let store = dynamo_store().await?;
        let seeded = seed::seed(&store, most)
            .await
            .map_err(|e| format!("seed: {e}"))?;
        let mut lines = load::run(&addr, Arc::new(store), &seeded, &clients, bounds).await?;
        if let Some(pid) = f.get("server-pid").and_then(|v| v.last()) {
            lines.push(json!({"bench": "http-rss", "process": "local-api",
                              "peak_rss_kb": procfs::status_kb(pid, "VmHWM")}));
        }
        append(out, &lines)
    })
}

fn cmd_sizes(f: &Flags, rest: &[String]) -> Result<(), String> {
    let out = one(f, "out")?;
    let mut lines = Vec::new();
    for spec in rest {
        let (label, path) = spec
            .split_once('=')
            .ok_or_else(|| format!("ARCH:NAME=PATH, not {spec}"))?;
        let (arch, name) = label.split_once(':').unwrap_or(("x86_64", label));
        let bytes = std::fs::metadata(Path::new(path))
            .map(|m| m.len())
            .map_err(|e| format!("{path}: {e}"))?;
        lines.push(json!({"bench": "size", "arch": arch, "name": name, "bytes": bytes}));
    }
    append(out, &lines)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((cmd, rest)) = args.split_first() else {
        eprintln!("usage: bench-harness cold|warm|http|sizes|report|probe [--flag value]…");
        return ExitCode::FAILURE;
    };
    let (flags, positional) = parse(rest);
    let known: &[&str] = match cmd.as_str() {
        "cold" => &[
            "out",
            "logs",
            "runs",
            "probe-runs",
            "hello",
            "function",
            "env-set",
            "ddb-warmup",
            "tag",
            "no-store-cases",
        ],
        "warm" => &["out", "requests", "warmup", "max-secs", "tag"],
        "http" => &[
            "out",
            "url",
            "clients",
            "requests",
            "warmup",
            "max-secs",
            "server-pid",
        ],
        "sizes" => &["out"],
        "report" => &["in"],
        _ => &[],
    };
    if let Some(unknown) = flags.keys().find(|k| !known.contains(&k.as_str())) {
        eprintln!("bench-harness {cmd}: unknown flag --{unknown}");
        return ExitCode::FAILURE;
    }
    let result = match cmd.as_str() {
        "cold" => cmd_cold(&flags),
        "probe" => cmd_probe(),
        "warm" => cmd_warm(&flags),
        "http" => cmd_http(&flags),
        "sizes" => cmd_sizes(&flags, &positional),
        "report" => one(&flags, "in").and_then(|p| {
            let md = report::markdown(Path::new(p))?;
            print!("{md}");
            Ok(())
        }),
        other => Err(format!("unknown command {other}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-harness {cmd}: {e}");
            ExitCode::FAILURE
        }
    }
}
