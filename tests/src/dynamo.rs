//! DynamoDB Local, as the test command starts it: endpoint from `AWS_ENDPOINT_URL_DYNAMODB`,
//! table from `TABLE_NAME` (default `pools-test`), created once per test binary.
//!
//! Without the endpoint (a plain `cargo test`), every test that needs DynamoDB Local returns
//! at its start ([`available`], [`require_dynamodb!`](crate::require_dynamodb)) after one line
//! on stderr per test binary, and the memory half runs alone. `REQUIRE_DYNAMODB=1` (set by
//! `scripts/test.sh`, so by CI) turns that skip into a failure.

use std::io::Write;
use std::sync::Once;

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::Client;
use shared::store::dynamodb::DynamoStore;
use tokio::sync::OnceCell;

static TABLE_READY: OnceCell<()> = OnceCell::const_new();

const ENDPOINT_VAR: &str = "AWS_ENDPOINT_URL_DYNAMODB";
const HOW: &str = "run `make test`, which starts DynamoDB Local";

fn configured_endpoint() -> Option<String> {
    std::env::var(ENDPOINT_VAR).ok().filter(|e| !e.is_empty())
}

/// Whether DynamoDB Local is there to test on. If not: panics when `REQUIRE_DYNAMODB=1`, else
/// says once (per test binary, straight to stderr, past the test harness's capture) that the
/// DynamoDB tests are skipped, and returns `false`.
pub fn available() -> bool {
    if configured_endpoint().is_some() {
        return true;
    }
    if std::env::var("REQUIRE_DYNAMODB").is_ok_and(|v| v == "1") {
        panic!("REQUIRE_DYNAMODB=1 but {ENDPOINT_VAR} is not set: {HOW}");
    }
    static SAID: Once = Once::new();
    SAID.call_once(|| {
        let _ = writeln!(
            std::io::stderr(),
            "DynamoDB Local tests skipped: {ENDPOINT_VAR} is not set; {HOW}"
        );
    });
    false
}

/// Returns from the enclosing test (which passes) when DynamoDB Local is not
/// [`available`](crate::dynamo::available).
#[macro_export]
macro_rules! require_dynamodb {
    () => {
        if !$crate::dynamo::available() {
            return;
        }
    };
}

pub fn endpoint() -> String {
    configured_endpoint().unwrap_or_else(|| panic!("{ENDPOINT_VAR} is not set: {HOW}"))
}

pub fn table_name() -> String {
    std::env::var("TABLE_NAME").unwrap_or_else(|_| "pools-test".into())
}

/// A client for DynamoDB Local (fixed local credentials and region).
pub fn client() -> Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "tests"))
        .build();
    Client::from_conf(config)
}

/// A store on the shared test table, which exists by the time this returns. Each test makes
/// its own client: clients must not outlive the runtime of the test that made them.
pub async fn store() -> DynamoStore {
    let store = DynamoStore::new(client(), table_name());
    TABLE_READY
        .get_or_init(|| async {
            DynamoStore::new(client(), table_name())
                .create_table()
                .await
                .expect("create the test table in DynamoDB Local");
        })
        .await;
    store
}
