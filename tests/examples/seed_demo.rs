//! Creates the table `TABLE_NAME` (if it is not there) on the DynamoDB at
//! `AWS_ENDPOINT_URL_DYNAMODB` and writes the project's demo keys and pools
//! (`local_api::demo`, which the events in `events/` and the README's curl commands are written
//! against; what is already there is left as it is). Used by `scripts/cargo-lambda-check.sh`,
//! `scripts/sam-local-check.sh` and `scripts/run-dynamodb.sh`. With `--print <base url>` it
//! also prints the keys, the pools and the curl commands against that URL, as `make run` does.
//!
//! The demo keys are public, so this refuses any endpoint that is not on this machine.

use std::process::ExitCode;

use pool_tests::demo;
use shared::store::dynamodb::DynamoStore;

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("seed_demo: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let print = match args.as_slice() {
        [] => None,
        [flag, url] if flag == "--print" => Some(url.clone()),
        _ => return Err("usage: seed_demo [--print <base url>]".to_owned()),
    };
    let table = std::env::var("TABLE_NAME").map_err(|_| "TABLE_NAME is not set".to_owned())?;
    let endpoint = std::env::var("AWS_ENDPOINT_URL_DYNAMODB").unwrap_or_default();
    let local = ["http://127.0.0.1:", "http://localhost:", "http://[::1]:"]
        .iter()
        .any(|p| endpoint.starts_with(p));
    if !local {
        return Err(format!(
            "AWS_ENDPOINT_URL_DYNAMODB must be a local DynamoDB (http://127.0.0.1:<port>), not \
             {endpoint:?}: the demo keys are public"
        ));
    }
    let store = DynamoStore::from_env(table.clone())
        .await
        .map_err(|e| e.to_string())?;
    store
        .create_table()
        .await
        .map_err(|e| format!("create table {table}: {e}"))?;
    demo::seed(&store)
        .await
        .map_err(|e| format!("seed {table}: {e}"))?;
    println!(
        "seeded {table} at {endpoint}: org {}, contact pool {}, guardrail pools {} and {}",
        demo::ORG_ID,
        demo::CONTACT_POOL_ID,
        demo::GUARDRAIL_POOL_ID,
        demo::OTHER_GUARDRAIL_POOL_ID
    );
    if let Some(url) = print {
        print!("{}", local_api::demo::listing(&url));
    }
    Ok(())
}
