//! `local-api`: both functions at `http://127.0.0.1:$PORT` (default 3000). Without
//! `TABLE_NAME`, on an in-memory store seeded with demo data; with it, on that DynamoDB table
//! (endpoint from `AWS_ENDPOINT_URL_DYNAMODB`), seeding nothing. Each request's JSON log line
//! and EMF metrics document (API.md §6) go to stderr, as the functions write them to stdout.

use std::error::Error;
use std::net::Ipv4Addr;
use std::process::ExitCode;
use std::sync::Arc;

use local_api::{demo, serve, DEFAULT_PORT};
use shared::auth_cache::AuthCache;
use shared::clock::{Clock, SystemClock};
use shared::config::Config;
use shared::metrics::{Metrics, Sink};
use shared::pipeline::Services;
use shared::store::dynamodb::DynamoStore;
use shared::store::memory::MemoryStore;
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> ExitCode {
    // Logs and metrics go to stderr: stdout is the startup printout people copy curl commands
    // from.
    shared::telemetry::init_stderr();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("local-api: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn Error>> {
    let port = match std::env::var("PORT") {
        Ok(p) if !p.is_empty() => p
            .parse::<u16>()
            .map_err(|_| format!("PORT must be a port number, not {p:?}"))?,
        _ => DEFAULT_PORT,
    };
    let cache = AuthCache::from_env()?;
    // Loopback only: this is a development server.
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port))
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))?;
    let base_url = format!("http://{}", listener.local_addr()?);

    let metrics = Metrics::from_env(Sink::Stderr);
    let svc = match Config::from_env().table_name {
        Some(table) => {
            let endpoint = std::env::var("AWS_ENDPOINT_URL_DYNAMODB")
                .unwrap_or_else(|_| "the AWS configuration's endpoint".into());
            println!("local-api: DynamoDB table {table} at {endpoint}");
            Services::new(Arc::new(DynamoStore::from_env(table).await?)).with_auth_cache(cache)
        }
        None => {
            let store = MemoryStore::new();
            demo::seed(&store, SystemClock.now()).await?;
            print!("{}", demo::banner(&base_url));
            Services::new(Arc::new(store)).with_auth_cache(cache)
        }
    }
    .with_metrics(metrics);
    // Handlers go in before `listening on`: a signal sent as soon as that line shows must
    // stop the server cleanly, not kill it.
    let shutdown = shutdown_signal()?;
    println!("listening on {base_url}");
    serve(listener, svc, shutdown).await?;
    eprintln!("local-api: stopped");
    Ok(())
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM; the handlers are installed by this call.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}
