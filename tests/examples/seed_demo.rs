//! Creates the table `TABLE_NAME` (if it is not there) on the DynamoDB at
//! `AWS_ENDPOINT_URL_DYNAMODB` and writes exactly the demo keys and pools that the events in
//! `events/` are written against (`pool_tests::demo`). Used by `scripts/cargo-lambda-check.sh`.
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
    Ok(())
}
