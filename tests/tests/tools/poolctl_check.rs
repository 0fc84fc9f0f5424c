//! `poolctl check` finds what API.md §4 forbids when it is planted behind the store's back with
//! the raw SDK client: a claim without its pool, a pool without its claim, a claim pointing at
//! a pool that holds another slug, an item that cannot be read. Each test has its own table,
//! because the check reads a whole table.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use pool_tests::dynamo;
use pool_tests::processes::poolctl;
use serde_json::Value;
use shared::domain::guardrail_pool::Slug;
use shared::domain::ids::{OrgId, PoolId};
use shared::store::dynamodb::{keys, DynamoStore};
use shared::store::memory::MemoryStore;
use shared::store::StoreAdmin;
use uuid::Uuid;

/// A fresh table, created by `poolctl table create`.
fn own_table(purpose: &str) -> String {
    let table = format!(
        "{}-{purpose}-{}",
        dynamo::table_name(),
        &Uuid::new_v4().simple().to_string()[..8]
    );
    let out = poolctl(&table, &["table", "create"]).ok();
    assert_eq!(out["table"], table.as_str());
    table
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

async fn put(table: &str, item: HashMap<String, AttributeValue>) {
    dynamo::client()
        .put_item()
        .table_name(table)
        .set_item(Some(item))
        .send()
        .await
        .expect("plant an item");
}

/// A claim item as the DynamoDB adapter writes one (DESIGN.md).
async fn plant_claim(table: &str, org: OrgId, slug: &str, pool_id: PoolId) {
    let claimed = Slug::parse(slug).expect("a valid slug");
    put(
        table,
        HashMap::from([
            ("pk".to_owned(), s(keys::slug_claim(org, &claimed))),
            ("kind".to_owned(), s("slug_claim")),
            ("org_id".to_owned(), s(org.to_string())),
            ("slug".to_owned(), s(slug)),
            ("pool_id".to_owned(), s(pool_id.to_string())),
        ]),
    )
    .await;
}

/// A guardrail pool item as the adapter writes one, without its claim.
async fn plant_pool(table: &str, org: OrgId, id: PoolId, slug: &str) {
    put(
        table,
        HashMap::from([
            ("pk".to_owned(), s(keys::guardrail_pool(id))),
            ("kind".to_owned(), s("guardrail_pool")),
            ("id".to_owned(), s(id.to_string())),
            ("org_id".to_owned(), s(org.to_string())),
            ("brand_id".to_owned(), s(Uuid::new_v4().to_string())),
            ("name".to_owned(), s("Planted")),
            ("slug".to_owned(), s(slug)),
            ("created_at".to_owned(), s("2026-01-02T03:04:05Z")),
            ("updated_at".to_owned(), s("2026-01-02T03:04:05Z")),
            ("version".to_owned(), AttributeValue::N("1".into())),
        ]),
    )
    .await;
}

fn problems(report: &Value) -> Vec<String> {
    report["problems"]
        .as_array()
        .expect("problems is a list")
        .iter()
        .map(|p| p.as_str().expect("a problem is a string").to_owned())
        .collect()
}

/// A consistent start: one guardrail pool with its claim and one contact pool, via poolctl.
fn seed_consistent(table: &str, org: OrgId) -> Value {
    let org = org.to_string();
    let brand = Uuid::new_v4().to_string();
    poolctl(
        table,
        &["contact-pool", "create", "--org", &org, "--name", "Leads"],
    )
    .ok();
    let pool = poolctl(
        table,
        &[
            "guardrail-pool",
            "create",
            "--org",
            &org,
            "--brand",
            &brand,
            "--name",
            "Good",
            "--slug",
            "good",
        ],
    )
    .ok();
    let clean = poolctl(table, &["check"]);
    assert_eq!(
        clean.ok(),
        serde_json::json!({"pools": 2, "claims": 1, "idempotency_records": 0, "problems": []}),
        "{clean:?}"
    );
    pool
}

#[tokio::test]
async fn check_finds_a_claim_without_its_pool_and_a_pool_without_its_claim() {
    pool_tests::require_dynamodb!();
    let table = own_table("check-orphans");
    let org = OrgId::new_v4();
    seed_consistent(&table, org);

    let missing_pool = PoolId::new_v4();
    plant_claim(&table, org, "orphan-claim", missing_pool).await;
    let unclaimed = PoolId::new_v4();
    plant_pool(&table, org, unclaimed, "unclaimed").await;

    let run = poolctl(&table, &["check"]);
    assert!(!run.status.success(), "{run:?}");
    assert!(run.stderr.contains("problems"), "{run:?}");
    let report = run.json();
    assert_eq!(
        (report["pools"].as_u64(), report["claims"].as_u64()),
        (Some(3), Some(2))
    );
    let found = problems(&report);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found.iter().any(|p| p.contains("orphan-claim")
            && p.contains(&missing_pool.to_string())
            && p.contains("missing pool")),
        "{found:?}"
    );
    assert!(
        found.iter().any(|p| p.contains(&unclaimed.to_string())
            && p.contains("unclaimed")
            && p.contains("without its claim")),
        "{found:?}"
    );

    // The library function sees the same.
    let store = DynamoStore::new(dynamo::client(), table.clone());
    let lib = poolctl::check(&store).await.expect("check");
    assert_eq!((lib.pools, lib.claims), (3, 2));
    assert_eq!(lib.problems, found);
}

#[tokio::test]
async fn check_finds_a_claim_pointing_at_a_pool_that_holds_another_slug_and_an_unreadable_item() {
    pool_tests::require_dynamodb!();
    let table = own_table("check-mismatch");
    let org = OrgId::new_v4();
    let good = seed_consistent(&table, org);
    let good_id: PoolId = good["id"].as_str().unwrap().parse().unwrap();

    // A second claim for the good pool, under a slug it does not hold.
    plant_claim(&table, org, "stale-slug", good_id).await;
    // A pool item missing most of its attributes.
    let broken = PoolId::new_v4();
    put(
        &table,
        HashMap::from([
            ("pk".to_owned(), s(keys::guardrail_pool(broken))),
            ("kind".to_owned(), s("guardrail_pool")),
        ]),
    )
    .await;

    let run = poolctl(&table, &["check"]);
    assert!(!run.status.success(), "{run:?}");
    let found = problems(&run.json());
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found
            .iter()
            .any(|p| p.contains("stale-slug") && p.contains("which holds") && p.contains("good")),
        "{found:?}"
    );
    assert!(
        found.iter().any(|p| p.contains(&broken.to_string())),
        "{found:?}"
    );
}

#[tokio::test]
async fn check_on_the_in_memory_store_finds_a_removed_claim() {
    let store = MemoryStore::new();
    let org = OrgId::new_v4();
    let pool = pool_tests::seed::stored_guardrail_pool(&store, org, "kept").await;
    assert!(poolctl::check(&store).await.unwrap().problems.is_empty());
    store
        .remove_claim_unchecked(org, &Slug::parse("kept").unwrap())
        .await
        .unwrap();
    let report = poolctl::check(&store).await.unwrap();
    assert_eq!((report.pools, report.claims), (1, 0));
    assert_eq!(report.problems.len(), 1, "{report:?}");
    assert!(report.problems[0].contains(&pool.id.to_string()));
    assert!(
        !poolctl::execute(&poolctl::Command::Check, &store, pool.created_at)
            .await
            .unwrap()
            .ok
    );
}
