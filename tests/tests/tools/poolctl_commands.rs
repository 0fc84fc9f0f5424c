//! `poolctl`'s commands: the library functions on both stores, and the binary's command line
//! (help on every command, arguments checked by the API's own rules, JSON on stdout, errors on
//! stderr with a non-zero exit).

use std::process::Command;

use aws_sdk_dynamodb::types::AttributeValue;
use pool_tests::events::{Call, Gateway};
use pool_tests::processes::{bin, poolctl};
use pool_tests::{backends, dynamo, seed, store, Backend, Reply};
use poolctl::{ContactPoolCreate, GuardrailPoolCreate, KeyCreate};
use serde_json::{json, Value};
use shared::clock::Timestamp;
use shared::domain::api_key::{KeyHash, KeyStatus};
use shared::domain::contact_pool::{Description, MaxParallelItems, MaxRetries, PoolName, PoolType};
use shared::domain::guardrail_pool::{GuardrailName, Slug};
use shared::domain::ids::{BrandId, OrgId, PoolId};
use shared::pipeline::Services;
use shared::store::dynamodb::keys;
use shared::store::{ApiKeys, ContactPools};
use uuid::Uuid;

fn now() -> Timestamp {
    Timestamp::parse("2026-11-22T10:15:00Z").unwrap()
}

fn key_args(org: OrgId, scopes: &[&str], expires_at: Option<&str>) -> KeyCreate {
    KeyCreate {
        org,
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        expires_at: expires_at.map(|t| Timestamp::parse(t).unwrap()),
    }
}

fn contact_args(org: OrgId) -> ContactPoolCreate {
    ContactPoolCreate {
        org,
        name: PoolName::parse("  Warm leads ").unwrap(),
        description: None,
        pool_type: PoolType::Fifo,
        max_parallel_items: MaxParallelItems::new(10).unwrap(),
        max_retries: MaxRetries::new(3).unwrap(),
        inactive: false,
        contacts_count: 0,
    }
}

fn guardrail_args(org: OrgId, name: &str, slug: &str) -> GuardrailPoolCreate {
    GuardrailPoolCreate {
        org,
        brand: BrandId::new_v4(),
        name: GuardrailName::parse(name).unwrap(),
        slug: Slug::parse(slug).unwrap(),
    }
}

#[tokio::test]
async fn key_create_shows_the_key_once_and_the_store_keeps_only_its_hash() {
    for b in backends() {
        let store = store(b).await;
        let org = OrgId::new_v4();
        let out = poolctl::key_create(
            store.as_ref(),
            &key_args(
                org,
                &["org:admin:write", "pools:write"],
                Some("2030-01-01T02:00:00+02:00"),
            ),
        )
        .await
        .unwrap();
        let fields: Vec<&str> = out
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        assert_eq!(fields, ["expires_at", "key", "key_id", "org_id", "scopes"]);
        let key = out["key"].as_str().unwrap();
        assert!(key.starts_with("am_live_") && key.len() >= 40, "{key}");
        assert_eq!(out["org_id"], org.to_string());
        assert_eq!(out["scopes"], json!(["org:admin:write", "pools:write"]));
        assert_eq!(out["expires_at"], "2030-01-01T00:00:00Z");

        let record = store
            .find_api_key(&KeyHash::of(key))
            .await
            .unwrap()
            .expect("the key's hash is stored");
        assert_eq!(record.key_id, out["key_id"].as_str().unwrap());
        assert_eq!(record.org_id, org);
        assert_eq!(record.status, KeyStatus::Active);

        if b == Backend::Dynamo {
            // Neither item names the key itself.
            let hash = KeyHash::of(key);
            for pk in [
                keys::api_key(hash.expose()),
                keys::api_key_id(&record.key_id),
            ] {
                let item = dynamo::client()
                    .get_item()
                    .table_name(dynamo::table_name())
                    .key("pk", AttributeValue::S(pk.clone()))
                    .send()
                    .await
                    .unwrap()
                    .item
                    .unwrap_or_else(|| panic!("{pk} exists"));
                assert!(!format!("{item:?}").contains(key), "{pk}: {item:?}");
            }
        }
    }
}

#[tokio::test]
async fn a_created_key_works_on_the_api_until_it_is_revoked() {
    for b in backends() {
        let store = store(b).await;
        let svc = Services::new(store.clone());
        let org = OrgId::new_v4();
        let key = poolctl::key_create(store.as_ref(), &key_args(org, &["pools:write"], None))
            .await
            .unwrap();
        let pool = poolctl::contact_pool_create(store.as_ref(), &contact_args(org), now())
            .await
            .unwrap();
        let call = Call::to(&update_contact_pool::ROUTE, pool["uuid"].as_str().unwrap())
            .bearer(key["key"].as_str().unwrap())
            .json(&json!({"max_retries": 4}));
        let send = || async {
            Reply::from_response(
                update_contact_pool::handle(call.request(Gateway::HttpV2), &svc).await,
            )
        };
        assert_eq!(send().await.status, 200, "{b:?}");

        let key_id = key["key_id"].as_str().unwrap();
        let out = poolctl::key_revoke(store.as_ref(), key_id).await.unwrap();
        assert_eq!(out, json!({"key_id": key_id, "status": "revoked"}));
        assert_eq!(send().await.status, 401, "{b:?}");
        // Again: still revoked, still fine.
        assert!(poolctl::key_revoke(store.as_ref(), key_id).await.is_ok());

        let unknown = format!("key_{}", Uuid::new_v4().simple());
        let err = poolctl::key_revoke(store.as_ref(), &unknown)
            .await
            .unwrap_err();
        assert!(err.to_string().contains(&unknown), "{err}");
    }
}

#[tokio::test]
async fn contact_pool_create_prints_the_api_s_data_object_of_a_version_1_pool() {
    for b in backends() {
        let store = store(b).await;
        let org = OrgId::new_v4();
        let out = poolctl::contact_pool_create(store.as_ref(), &contact_args(org), now())
            .await
            .unwrap();
        let id: PoolId = out["uuid"].as_str().unwrap().parse().unwrap();
        let stored = store.get_contact_pool(org, id).await.unwrap();
        assert_eq!(out, stored.to_json(), "{b:?}");
        assert_eq!(stored.version, 1);
        assert_eq!(
            out,
            json!({"uuid": id.to_string(), "name": "Warm leads", "description": null,
                   "type": "FIFO", "max_parallel_items": 10, "max_retries": 3,
                   "is_active": true, "contacts_count": 0,
                   "created_at": "2026-11-22T10:15:00Z", "updated_at": "2026-11-22T10:15:00Z"})
        );

        let all = ContactPoolCreate {
            description: Some(Description::parse("Night\nshift").unwrap()),
            pool_type: PoolType::Parallel,
            max_parallel_items: MaxParallelItems::new(100).unwrap(),
            max_retries: MaxRetries::new(2_147_483_647).unwrap(),
            inactive: true,
            contacts_count: 12,
            ..contact_args(org)
        };
        let out = poolctl::contact_pool_create(store.as_ref(), &all, now())
            .await
            .unwrap();
        let id: PoolId = out["uuid"].as_str().unwrap().parse().unwrap();
        let stored = store.get_contact_pool(org, id).await.unwrap();
        assert_eq!(out, stored.to_json());
        assert_eq!(out["type"], "Parallel");
        assert_eq!(out["is_active"], false);
        assert_eq!(out["contacts_count"], 12);
        assert_eq!(out["max_retries"], 2_147_483_647);
        assert_eq!(out["description"], "Night\nshift");
    }
}

#[tokio::test]
async fn guardrail_pool_create_refuses_a_slug_taken_in_the_organization_and_writes_nothing() {
    for b in backends() {
        let store = store(b).await;
        let org = OrgId::new_v4();
        let slug = seed::fresh_slug("taken");
        let out = poolctl::guardrail_pool_create(
            store.as_ref(),
            &guardrail_args(org, "First", &slug),
            now(),
        )
        .await
        .unwrap();
        let id: PoolId = out["id"].as_str().unwrap().parse().unwrap();
        assert_eq!(
            out,
            store.get_guardrail_pool(org, id).await.unwrap().to_json()
        );

        let err = poolctl::guardrail_pool_create(
            store.as_ref(),
            &guardrail_args(org, "Second", &slug),
            now(),
        )
        .await
        .unwrap_err();
        assert!(err.to_string().contains("already in use"), "{err}");
        let snap = store.snapshot().await.unwrap();
        let pools: Vec<_> = snap
            .guardrail_pools
            .iter()
            .filter(|p| p.org_id == org)
            .collect();
        assert_eq!(pools.len(), 1, "{b:?}: {pools:?}");
        assert_eq!(pools[0].name, "First");
        assert_eq!(
            pool_tests::contract::claims_of(store.as_ref(), org).await,
            vec![(slug.clone(), id)]
        );

        // Another organization may hold the same slug.
        let other = OrgId::new_v4();
        assert!(poolctl::guardrail_pool_create(
            store.as_ref(),
            &guardrail_args(other, "Theirs", &slug),
            now()
        )
        .await
        .is_ok());
    }
}

/// Every command and command group.
const COMMANDS: &[&[&str]] = &[
    &[],
    &["table"],
    &["table", "create"],
    &["key"],
    &["key", "create"],
    &["key", "revoke"],
    &["contact-pool"],
    &["contact-pool", "create"],
    &["guardrail-pool"],
    &["guardrail-pool", "create"],
    &["check"],
];

#[test]
fn every_command_has_help() {
    for c in COMMANDS {
        let out = Command::new(bin("poolctl"))
            .args(*c)
            .arg("--help")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{c:?}: {out:?}");
        assert!(stdout.contains("Usage: poolctl"), "{c:?}: {stdout}");
    }
}

#[test]
fn invalid_arguments_fail_on_stderr_with_the_api_s_rule_and_print_nothing() {
    let org = Uuid::new_v4().to_string();
    let brand = Uuid::new_v4().to_string();
    let table = dynamo::table_name();
    let cases: &[(&[&str], &str)] = &[
        (
            &["contact-pool", "create", "--org", &org, "--name", "ab"],
            "between 3 and 255",
        ),
        (
            &[
                "contact-pool",
                "create",
                "--org",
                &org,
                "--name",
                "abc",
                "--type",
                "fifo",
            ],
            "FIFO, LIFO, Parallel",
        ),
        (
            &[
                "contact-pool",
                "create",
                "--org",
                &org,
                "--name",
                "abc",
                "--max-parallel-items",
                "101",
            ],
            "between 1 and 100",
        ),
        (
            &["contact-pool", "create", "--org", "acme", "--name", "abc"],
            "--org",
        ),
        (
            &[
                "guardrail-pool",
                "create",
                "--org",
                &org,
                "--brand",
                &brand,
                "--name",
                "G",
                "--slug",
                "Not-A-Slug",
            ],
            "lowercase letters and digits",
        ),
        (
            &["key", "create", "--org", &org, "--scope", "pools:delete"],
            "pools:delete",
        ),
        (
            &["key", "create", "--org", &org, "--expires-at", "soon"],
            "RFC 3339",
        ),
        (&["key", "revoke"], "<KEY_ID>"),
        (&["pools"], "unrecognized subcommand"),
    ];
    for (args, message) in cases {
        let run = poolctl(&table, args);
        assert!(!run.status.success(), "{args:?}: {run:?}");
        assert_eq!(run.stdout, "", "{args:?}");
        assert!(run.stderr.contains(message), "{args:?}: {}", run.stderr);
    }
}

#[test]
fn without_a_table_it_says_so_and_fails() {
    let out = Command::new(bin("poolctl"))
        .args(["check"])
        .env_remove("TABLE_NAME")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("TABLE_NAME"));
}

#[tokio::test]
async fn the_binary_creates_and_revokes_keys_and_creates_pools_in_the_table() {
    pool_tests::require_dynamodb!();
    // The shared test table: exists once `dynamo::store()` returns.
    let store = dynamo::store().await;
    let table = dynamo::table_name();
    let org = Uuid::new_v4().to_string();

    let key = poolctl(
        &table,
        &["key", "create", "--org", &org, "--scope", "pools:write"],
    )
    .ok();
    assert_eq!(key["scopes"], json!(["pools:write"]));
    assert_eq!(key["expires_at"], Value::Null);
    let record = ApiKeys::find_api_key(&store, &KeyHash::of(key["key"].as_str().unwrap()))
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(record.org_id.to_string(), org);

    let key_id = key["key_id"].as_str().unwrap();
    assert_eq!(
        poolctl(&table, &["key", "revoke", key_id]).ok(),
        json!({"key_id": key_id, "status": "revoked"})
    );
    let unknown = poolctl(&table, &["key", "revoke", "key_nobody"]);
    assert!(!unknown.status.success());
    assert!(unknown.stderr.contains("key_nobody"), "{unknown:?}");

    let pool = poolctl(
        &table,
        &[
            "contact-pool",
            "create",
            "--org",
            &org,
            "--name",
            "From the CLI",
            "--description",
            "made by poolctl",
            "--type",
            "LIFO",
            "--max-parallel-items",
            "5",
            "--max-retries",
            "0",
            "--inactive",
            "--contacts-count",
            "9",
        ],
    )
    .ok();
    let id: PoolId = pool["uuid"].as_str().unwrap().parse().unwrap();
    let stored = ContactPools::get_contact_pool(&store, org.parse().unwrap(), id)
        .await
        .unwrap();
    assert_eq!(pool, stored.to_json());
    assert_eq!(stored.version, 1);
    assert_eq!(
        (
            pool["type"].clone(),
            pool["is_active"].clone(),
            pool["contacts_count"].clone()
        ),
        (json!("LIFO"), json!(false), json!(9))
    );

    let slug = seed::fresh_slug("cli");
    let brand = Uuid::new_v4().to_string();
    let create = |name: &str| {
        poolctl(
            &table,
            &[
                "guardrail-pool",
                "create",
                "--org",
                &org,
                "--brand",
                &brand,
                "--name",
                name,
                "--slug",
                &slug,
            ],
        )
    };
    let g = create("First").ok();
    assert_eq!(g["slug"], slug.as_str());
    let taken = create("Second");
    assert!(!taken.status.success(), "{taken:?}");
    assert_eq!(taken.stdout, "");
    assert!(taken.stderr.contains("already in use"), "{taken:?}");
}
