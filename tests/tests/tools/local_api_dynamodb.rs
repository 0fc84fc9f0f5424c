//! End to end, as an operator runs it: a table made by `poolctl table create`, keys and pools
//! seeded by the `poolctl` binary, the `local-api` binary on that table (`TABLE_NAME`) on
//! DynamoDB Local, both endpoints exercised over real HTTP, and then `poolctl check` finds the
//! table consistent. The table is this test's own, because the check reads all of it.

use pool_tests::http_client::HttpCall;
use pool_tests::processes::{poolctl, LocalApi};
use pool_tests::{assert_a_error, assert_common, assert_m_error, dynamo};
use serde_json::{json, Value};
use uuid::Uuid;

/// Runs `poolctl key create` and returns `(key, key_id)`.
fn key(table: &str, org: &str, scopes: &[&str], extra: &[&str]) -> (String, String) {
    let mut args = vec!["key", "create", "--org", org];
    for s in scopes {
        args.extend(["--scope", s]);
    }
    args.extend_from_slice(extra);
    let out = poolctl(table, &args).ok();
    assert_eq!(out["org_id"], org);
    (
        out["key"].as_str().unwrap().to_owned(),
        out["key_id"].as_str().unwrap().to_owned(),
    )
}

fn guardrail_pool(table: &str, org: &str, brand: &str, name: &str, slug: &str) -> Value {
    poolctl(
        table,
        &[
            "guardrail-pool",
            "create",
            "--org",
            org,
            "--brand",
            brand,
            "--name",
            name,
            "--slug",
            slug,
        ],
    )
    .ok()
}

fn id(v: &Value, field: &str) -> String {
    v[field].as_str().expect("an id").to_owned()
}

#[tokio::test]
async fn local_api_on_a_poolctl_seeded_table_serves_both_endpoints_and_leaves_it_consistent() {
    pool_tests::require_dynamodb!();
    let table = format!(
        "{}-e2e-{}",
        dynamo::table_name(),
        &Uuid::new_v4().simple().to_string()[..8]
    );
    assert_eq!(
        poolctl(&table, &["table", "create"]).ok()["table"],
        table.as_str()
    );
    // Idempotent.
    poolctl(&table, &["table", "create"]).ok();

    // Seed with the binary.
    let org = Uuid::new_v4().to_string();
    let other_org = Uuid::new_v4().to_string();
    let brand = Uuid::new_v4().to_string();
    let (pools_key, _) = key(&table, &org, &["pools:write"], &[]);
    let (admin_key, _) = key(&table, &org, &["org:admin:write"], &[]);
    let (no_scope_key, _) = key(&table, &org, &[], &[]);
    let (revoked_key, revoked_id) = key(&table, &org, &["pools:write"], &[]);
    poolctl(&table, &["key", "revoke", &revoked_id]).ok();
    let (expired_key, _) = key(
        &table,
        &org,
        &["pools:write"],
        &["--expires-at", "2020-01-01T00:00:00Z"],
    );
    let contact = poolctl(
        &table,
        &[
            "contact-pool",
            "create",
            "--org",
            &org,
            "--name",
            "Warm leads",
            "--contacts-count",
            "42",
        ],
    )
    .ok();
    let theirs = poolctl(
        &table,
        &[
            "contact-pool",
            "create",
            "--org",
            &other_org,
            "--name",
            "Theirs",
        ],
    )
    .ok();
    let alpha = guardrail_pool(&table, &org, &brand, "Alpha", "alpha");
    let beta = guardrail_pool(&table, &org, &brand, "Beta", "beta");
    // Slugs are unique per organization only.
    let their_alpha = guardrail_pool(&table, &other_org, &brand, "Their alpha", "alpha");
    let taken = poolctl(
        &table,
        &[
            "guardrail-pool",
            "create",
            "--org",
            &org,
            "--brand",
            &brand,
            "--name",
            "Dup",
            "--slug",
            "alpha",
        ],
    );
    assert!(!taken.status.success(), "{taken:?}");

    let api = LocalApi::start(Some(&table));
    assert!(
        api.banner.iter().any(|l| l.contains(&table)),
        "{:?}",
        api.banner
    );
    // Nothing seeded: no demo key, no curl examples.
    assert!(
        !api.banner.iter().any(|l| l.starts_with("curl ")),
        "{:?}",
        api.banner
    );
    let base = api.base_url.clone();
    let put = |pool_id: &str| HttpCall::new("PUT", format!("{base}/api/v1/pools/{pool_id}"));
    let patch =
        |pool_id: &str| HttpCall::new("PATCH", format!("{base}/v1/guardrails/pools/{pool_id}"));
    let contact_id = id(&contact, "uuid");

    // PUT /api/v1/pools/{uuid}
    let r = put(&contact_id)
        .bearer(&pools_key)
        .json(
            &json!({"name": "  Hot leads ", "type": "Parallel", "max_parallel_items": 20,
                      "max_retries": 5, "description": null}),
        )
        .send()
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_common(&r);
    assert_eq!(r.header("etag"), Some("\"2\""));
    let data = &r.body["data"];
    assert_eq!(
        (
            &data["uuid"],
            &data["name"],
            &data["type"],
            &data["max_parallel_items"]
        ),
        (
            &json!(contact_id),
            &json!("Hot leads"),
            &json!("Parallel"),
            &json!(20)
        )
    );
    assert_eq!(data["contacts_count"], 42);
    assert_eq!(data["created_at"], contact["created_at"]);

    let r = put(&contact_id)
        .bearer(&pools_key)
        .if_match(1)
        .json(&json!({"is_active": false}))
        .send()
        .await;
    assert_m_error(
        &r,
        412,
        "PRECONDITION_FAILED",
        "Pool has changed since it was read",
    );
    let r = put(&contact_id)
        .bearer(&pools_key)
        .if_match(2)
        .json(&json!({"is_active": false}))
        .send()
        .await;
    assert_eq!((r.status, r.header("etag")), (200, Some("\"3\"")), "{r:?}");
    assert_eq!(r.body["data"]["is_active"], false);

    let r = put(&contact_id).json(&json!({})).send().await;
    assert_m_error(&r, 401, "MISSING_AUTH_TOKEN", "Authentication required");
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    for k in [
        &revoked_key,
        &expired_key,
        &"am_live_unknown0000000000000000000000".to_owned(),
    ] {
        let r = put(&contact_id).bearer(k).json(&json!({})).send().await;
        assert_m_error(
            &r,
            401,
            "INVALID_AUTH_TOKEN",
            "Invalid authentication token",
        );
    }
    for k in [&no_scope_key, &admin_key] {
        let r = put(&contact_id).bearer(k).json(&json!({})).send().await;
        assert_m_error(
            &r,
            403,
            "INSUFFICIENT_PERMISSIONS",
            "Insufficient permissions",
        );
    }
    for other in [
        id(&theirs, "uuid"),
        Uuid::new_v4().to_string(),
        "nope".into(),
    ] {
        let r = put(&other)
            .bearer(&pools_key)
            .json(&json!({"max_retries": 1}))
            .send()
            .await;
        assert_m_error(&r, 404, "NOT_FOUND", "Pool not found");
    }
    let r = put(&contact_id)
        .bearer(&pools_key)
        .json(&json!({"name": "x", "max_retries": -1, "contacts_count": 0}))
        .send()
        .await;
    assert_m_error(&r, 422, "VALIDATION_ERROR", "Validation failed");
    let fields = r.body["error"]["fields"].as_object().unwrap();
    let mut names: Vec<&str> = fields.keys().map(|k| k.as_str()).collect();
    names.sort();
    assert_eq!(names, ["contacts_count", "max_retries", "name"]);

    // PATCH /v1/guardrails/pools/{id}
    let (alpha_id, beta_id) = (id(&alpha, "id"), id(&beta, "id"));
    let r = patch(&beta_id)
        .bearer(&admin_key)
        .json(&json!({"name": "Renamed", "slug": "alpha"}))
        .send()
        .await;
    assert_a_error(&r, 409, "CONFLICT", "slug already in use");
    assert_eq!(
        r.body["error"]["details"],
        json!({"slug": "already in use"})
    );
    // Nothing of the request applied, not the name either.
    let r = patch(&beta_id)
        .bearer(&admin_key)
        .json(&json!({}))
        .send()
        .await;
    assert_eq!((r.status, r.header("etag")), (200, Some("\"1\"")), "{r:?}");
    assert_eq!(
        (&r.body["data"]["name"], &r.body["data"]["slug"]),
        (&json!("Beta"), &json!("beta"))
    );

    let r = patch(&beta_id)
        .bearer(&admin_key)
        .json(&json!({"name": "Gamma", "slug": "gamma"}))
        .send()
        .await;
    assert_eq!((r.status, r.header("etag")), (200, Some("\"2\"")), "{r:?}");
    assert_common(&r);
    assert_eq!(r.body["data"]["slug"], "gamma");
    assert_eq!(r.body["data"]["brand_id"], brand.as_str());
    // The slug beta gave up is free at once.
    let r = patch(&alpha_id)
        .bearer(&admin_key)
        .if_match(1)
        .json(&json!({"slug": "beta"}))
        .send()
        .await;
    assert_eq!((r.status, r.header("etag")), (200, Some("\"2\"")), "{r:?}");
    let r = patch(&alpha_id)
        .bearer(&admin_key)
        .if_match(1)
        .json(&json!({"name": "Stale"}))
        .send()
        .await;
    assert_a_error(
        &r,
        412,
        "PRECONDITION_FAILED",
        "pool has changed since it was read",
    );
    let r = patch(&alpha_id).json(&json!({"name": "x"})).send().await;
    assert_a_error(&r, 401, "UNAUTHORIZED", "authentication failed");
    let r = patch(&alpha_id)
        .bearer(&pools_key)
        .json(&json!({"name": "x"}))
        .send()
        .await;
    assert_a_error(&r, 403, "FORBIDDEN", "missing required scope");
    let r = patch(&id(&their_alpha, "id"))
        .bearer(&admin_key)
        .json(&json!({"name": "Mine now"}))
        .send()
        .await;
    assert_a_error(&r, 404, "NOT_FOUND", "not found");
    let r = patch(&alpha_id)
        .bearer(&admin_key)
        .json(&json!({"slug": "Not A Slug", "name": ""}))
        .send()
        .await;
    assert_a_error(&r, 422, "VALIDATION_FAILED", "validation failed");

    let stopped = api.stop("TERM");
    assert!(stopped.status.success(), "{stopped:?}");

    // What the requests left behind: every pool once, every claim its pool's.
    let report = poolctl(&table, &["check"]).ok();
    assert_eq!(
        report,
        json!({"pools": 5, "claims": 3, "idempotency_records": 0, "problems": []}),
        "{report}"
    );
}
