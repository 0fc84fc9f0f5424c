//! DynamoDB Local, as the test command starts it: endpoint from `AWS_ENDPOINT_URL_DYNAMODB`,
//! table from `TABLE_NAME` (default `pools-test`), created once per test binary.

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::Client;
use shared::store::dynamodb::DynamoStore;
use tokio::sync::OnceCell;

static TABLE_READY: OnceCell<()> = OnceCell::const_new();

pub fn endpoint() -> String {
    std::env::var("AWS_ENDPOINT_URL_DYNAMODB").expect(
        "AWS_ENDPOINT_URL_DYNAMODB is not set: run the tests with `make test`, which starts \
         DynamoDB Local",
    )
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
