//! `PUT /api/v1/pools/{uuid}` through its handler, fed real API Gateway REST (v1) and HTTP API
//! (v2) events, on the in-memory store and on DynamoDB Local: every row of API.md §2's error
//! table, the order of checks, and the success paths.

use std::sync::Arc;

use pool_tests::endpoint::{self, Contact};
use pool_tests::events::{Call, Gateway};
use pool_tests::{assert_common, assert_m_error, backends, seed};
use serde_json::{json, Value};
use shared::auth::{SCOPE_ORG_ADMIN_WRITE, SCOPE_POOLS_WRITE};
use shared::clock::Timestamp;
use shared::domain::ids::{OrgId, PoolId};
use shared::store::faulty::{FailOn, Fault};
use update_contact_pool::ROUTE;
use uuid::Uuid;

type Env = endpoint::Env<Contact>;

#[tokio::test]
async fn a_full_update_answers_200_with_the_new_pool() {
    Env::each(async |e, gw| {
        let body = json!({"name": "  Gold leads  ", "description": "VIP", "type": "Parallel",
            "max_parallel_items": 20, "max_retries": 5, "is_active": false});
        let r = e.send(&e.call().json(&body), gw).await;
        assert_eq!(r.status, 200, "{r:?}");
        assert_common(&r);
        assert_eq!(r.body["message"], "Pool updated successfully");
        // API.md §2: the members in the order the contract shows them.
        r.assert_member_order(&[
            "success",
            "message",
            "data",
            "uuid",
            "name",
            "description",
            "type",
            "max_parallel_items",
            "max_retries",
            "is_active",
            "contacts_count",
            "created_at",
            "updated_at",
        ]);
        let data = &r.body["data"];
        assert_eq!(data["uuid"], e.pool.id.to_string());
        assert_eq!(data["name"], "Gold leads");
        assert_eq!(data["description"], "VIP");
        assert_eq!(data["type"], "Parallel");
        assert_eq!(data["max_parallel_items"], 20);
        assert_eq!(data["max_retries"], 5);
        assert_eq!(data["is_active"], false);
        assert_eq!(data["contacts_count"], 42);
        assert_eq!(data["created_at"], "2026-01-02T03:04:05Z");
        let updated = data["updated_at"].as_str().unwrap();
        assert!(
            Timestamp::parse(updated).is_some() && updated.ends_with('Z') && updated.len() == 20
        );
        assert_ne!(updated, "2026-01-02T03:04:05Z");
        let keys: Vec<_> = data.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys.len(), 10, "{keys:?}");
        assert_eq!(r.version(), e.pool.version + 1);
        let stored = e.stored().await;
        assert_eq!(stored.name, "Gold leads");
        assert_eq!(stored.version, e.pool.version + 1);
    })
    .await;
}

#[tokio::test]
async fn an_empty_object_returns_the_pool_unchanged() {
    Env::each(async |e, gw| {
        let r = e.send(&e.call().json(&json!({})), gw).await;
        assert_eq!(r.status, 200, "{r:?}");
        assert_eq!(r.body["data"]["updated_at"], "2026-01-02T03:04:05Z");
        assert_eq!(r.body["data"]["name"], e.pool.name.as_str());
        assert_eq!(r.version(), e.pool.version);
        assert_eq!(e.stored().await, e.pool);
    })
    .await;
}

#[tokio::test]
async fn null_description_clears_it() {
    Env::each(async |e, gw| {
        let r = e
            .send(&e.call().json(&json!({"description": null})), gw)
            .await;
        assert_eq!(r.status, 200, "{r:?}");
        assert_eq!(r.body["data"]["description"], Value::Null);
        assert_eq!(e.stored().await.description, None);
    })
    .await;
}

#[tokio::test]
async fn malformed_bodies_are_400_invalid_json() {
    Env::each(async |e, gw| {
        let bodies = [
            &b"{"[..],
            b"[1,2]",
            b"\"text\"",
            b"null",
            b"{\"name\":\"abc\",\"name\":\"abd\"}",
            b"{} trailing",
            b"\xef\xbb\xbf{}",
            b"{\"name\":\"\xff\xfe\"}",
            b"",
        ];
        e.assert_malformed_bodies_refused(gw, &bodies, "INVALID_JSON", "Malformed JSON body")
            .await;
    })
    .await;
}

#[tokio::test]
async fn missing_credentials_are_401_missing_auth_token() {
    Env::each(async |e, gw| {
        let calls = [e.call_without_key()];
        e.assert_unauthenticated(gw, calls, "MISSING_AUTH_TOKEN", "Authentication required")
            .await;
    })
    .await;
}

#[tokio::test]
async fn bad_unknown_revoked_and_expired_keys_are_401_invalid_auth_token() {
    Env::each(async |e, gw| {
        let [revoked, expired] = e.revoked_and_expired_keys().await;
        let id = e.pool.id.to_string();
        let calls = [
            Call::to(&ROUTE, &id).bearer(&revoked),
            Call::to(&ROUTE, &id).bearer(&expired),
            Call::to(&ROUTE, &id).bearer("am_live_00000000000000000000000000000000"),
            Call::to(&ROUTE, &id).header("Authorization", &format!("Basic {}", e.key)),
            Call::to(&ROUTE, &id).header("Authorization", "Bearer"),
            Call::to(&ROUTE, &id).header("Authorization", &format!("Bearer {} extra", e.key)),
        ];
        let replies = e
            .assert_unauthenticated(
                gw,
                calls,
                "INVALID_AUTH_TOKEN",
                "Invalid authentication token",
            )
            .await;
        for r in replies {
            assert!(
                !r.body.to_string().contains("revoked") && !r.body.to_string().contains("expired")
            );
        }
    })
    .await;
}

#[tokio::test]
async fn a_key_without_the_scope_is_403() {
    endpoint::a_key_without_the_scope_is_403::<Contact>(
        SCOPE_ORG_ADMIN_WRITE,
        "INSUFFICIENT_PERMISSIONS",
        "Insufficient permissions",
    )
    .await;
}

#[tokio::test]
async fn unknown_ids_and_non_uuid_paths_are_404() {
    Env::each(async |e, gw| {
        for id in [
            Uuid::new_v4().to_string(),
            "not-a-uuid".into(),
            "123".into(),
        ] {
            let call = Call::to(&ROUTE, &id)
                .bearer(&e.key)
                .json(&json!({"name": "Nope"}));
            let r = e.send(&call, gw).await;
            assert_m_error(&r, 404, "NOT_FOUND", "Pool not found");
        }
    })
    .await;
}

#[tokio::test]
async fn another_organizations_pool_is_404_and_unchanged() {
    Env::each(async |e, gw| {
        let intruder = seed::key(e.store.as_ref(), OrgId::new_v4(), &[SCOPE_POOLS_WRITE]).await;
        for body in [json!({"name": "Hijacked"}), json!({})] {
            let call = Call::to(&ROUTE, &e.pool.id.to_string())
                .bearer(&intruder)
                .json(&body);
            let r = e.send(&call, gw).await;
            assert_m_error(&r, 404, "NOT_FOUND", "Pool not found");
            let unknown = Call::to(&ROUTE, &PoolId::new_v4().to_string())
                .bearer(&intruder)
                .json(&body);
            let r2 = e.send(&unknown, gw).await;
            // Indistinguishable from a pool that does not exist.
            assert_eq!(r.body["error"]["details"], r2.body["error"]["details"]);
            assert_eq!(r.body["message"], r2.body["message"]);
        }
        assert_eq!(e.stored().await, e.pool);
    })
    .await;
}

#[tokio::test]
async fn other_methods_are_405_with_allow() {
    endpoint::other_methods_are_405_with_allow::<Contact>("PUT", "Method not allowed").await;
}

#[tokio::test]
async fn a_stale_if_match_is_412_and_changes_nothing() {
    Env::each(async |e, gw| {
        let stale = [
            format!("\"{}\"", e.pool.version + 1),
            format!("W/\"{}\"", e.pool.version),
            "garbage".into(),
        ];
        let bodies = [json!({"name": "Stale"}), json!({})];
        let fresh = json!({"name": "Fresh"});
        e.assert_if_match_checked(
            gw,
            &stale,
            &bodies,
            &fresh,
            "Pool has changed since it was read",
        )
        .await;
        let star = e
            .send(
                &e.call()
                    .header("If-Match", "*")
                    .json(&json!({"name": "Star"})),
                gw,
            )
            .await;
        assert_eq!(star.status, 200, "{star:?}");
        assert_eq!(star.version(), e.pool.version + 2);
    })
    .await;
}

#[tokio::test]
async fn a_body_over_64_kib_is_413() {
    Env::each(async |e, gw| {
        let big = json!({"description": "x".repeat(64 * 1024)});
        let r = e.send(&e.call().json(&big), gw).await;
        assert_m_error(&r, 413, "PAYLOAD_TOO_LARGE", "Request body too large");
        assert_eq!(e.stored().await, e.pool);
    })
    .await;
}

#[tokio::test]
async fn a_non_json_content_type_is_415() {
    Env::each(async |e, gw| {
        for ct in [
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            None,
        ] {
            let mut call = e.call().raw_body(r#"{"name":"Plain"}"#);
            if let Some(ct) = ct {
                call = call.header("Content-Type", ct);
            }
            let r = e.send(&call, gw).await;
            assert_m_error(
                &r,
                415,
                "UNSUPPORTED_MEDIA_TYPE",
                "Content-Type must be application/json",
            );
        }
        let ok = e
            .call()
            .header("Content-Type", "application/json; charset=UTF-8")
            .raw_body("{}");
        assert_eq!(e.send(&ok, gw).await.status, 200);
        assert_eq!(e.stored().await, e.pool);
    })
    .await;
}

#[tokio::test]
async fn every_validation_error_is_reported_at_once_as_422() {
    Env::each(async |e, gw| {
        let body = json!({"is_active": "yes", "uuid": "x", "name": "ab", "max_parallel_items": 101,
            "type": "fifo", "max_retries": 1.5, "description": 7, "contacts_count": 0,
            "created_at": "x", "updated_at": "y"});
        let r = e.send(&e.call().json(&body), gw).await;
        assert_m_error(&r, 422, "VALIDATION_ERROR", "Validation failed");
        let err = &r.body["error"];
        assert_eq!(err["field"], "name");
        assert_eq!(err["details"], "name must be between 3 and 255 characters");
        assert_eq!(
            err["fields"],
            json!({
                "name": "must be between 3 and 255 characters",
                "description": "must be a string or null",
                "type": "must be one of FIFO, LIFO, Parallel",
                "max_parallel_items": "must be an integer between 1 and 100",
                "max_retries": "must be an integer between 0 and 2147483647",
                "is_active": "must be a boolean",
                "uuid": "is not a supported field",
                "contacts_count": "is not a supported field",
                "created_at": "is not a supported field",
                "updated_at": "is not a supported field",
            })
        );
        assert_eq!(e.stored().await, e.pool);
    })
    .await;
}

#[tokio::test]
async fn checks_run_in_the_contracts_order() {
    Env::each(async |e, gw| {
        let id = e.pool.id.to_string();
        let no_scope = seed::key(e.store.as_ref(), e.org, &[]).await;
        let cases: Vec<(Call, u16)> = vec![
            // method before auth
            (Call::to(&ROUTE, &id).method("GET"), 405),
            // auth before scope, id and body
            (
                Call::to(&ROUTE, "nope").bearer("am_live_x").raw_body("{"),
                401,
            ),
            // scope before id and body
            (
                Call::to(&ROUTE, "nope").bearer(&no_scope).raw_body("{"),
                403,
            ),
            // id before body
            (
                Call::to(&ROUTE, "nope")
                    .bearer(&e.key)
                    .raw_body(vec![b'x'; 70_000]),
                404,
            ),
            // size before content type
            (
                e.call()
                    .header("Content-Type", "text/plain")
                    .raw_body(vec![b'x'; 70_000]),
                413,
            ),
            // content type before syntax
            (
                e.call().header("Content-Type", "text/plain").raw_body("{"),
                415,
            ),
            // syntax before fields
            (
                e.call()
                    .header("Content-Type", "application/json")
                    .raw_body("[{\"name\":1}]"),
                400,
            ),
            // fields before the store
            (
                Call::to(&ROUTE, &PoolId::new_v4().to_string())
                    .bearer(&e.key)
                    .json(&json!({"name": 1})),
                422,
            ),
        ];
        for (call, status) in cases {
            let r = e.send(&call, gw).await;
            assert_eq!(r.status, status, "{call:?} -> {r:?}");
        }
    })
    .await;
}

#[tokio::test]
async fn the_raw_path_names_the_pool_when_path_parameters_are_absent() {
    Env::each(async |e, gw| {
        let id = e.pool.id.to_string();
        let direct = e
            .call()
            .without_path_parameters()
            .json(&json!({"max_retries": 7}));
        let r = e.send(&direct, gw).await;
        assert_eq!(r.status, 200, "{r:?}");
        assert_eq!(r.body["data"]["max_retries"], 7);
        let staged = e
            .call()
            .without_path_parameters()
            .path(&format!(
                "/lambda-url/update-contact-pool/api/v1/pools/{id}"
            ))
            .json(&json!({}));
        assert_eq!(e.send(&staged, gw).await.status, 200);
        for path in [
            "/api/v1/pools/",
            "/api/v1/pools",
            "/elsewhere",
            &format!("/api/v1/pools/{id}/x"),
        ] {
            let r = e
                .send(
                    &e.call()
                        .without_path_parameters()
                        .path(path)
                        .json(&json!({})),
                    gw,
                )
                .await;
            assert_m_error(&r, 404, "NOT_FOUND", "Pool not found");
        }
    })
    .await;
}

#[tokio::test]
async fn base64_encoded_bodies_are_read() {
    Env::each(async |e, gw| {
        // Not UTF-8, so the event carries it base64-encoded: a 400, not a crash.
        let call = e
            .call()
            .header("Content-Type", "application/json")
            .raw_body(vec![0xff, 0xfe, b'{']);
        let r = e.send(&call, gw).await;
        assert_m_error(&r, 400, "INVALID_JSON", "Malformed JSON body");
    })
    .await;
}

#[tokio::test]
async fn persistent_contention_is_409_conflict() {
    endpoint::persistent_contention_is_409::<Contact>(
        json!({"name": "Busy"}),
        "CONFLICT",
        "Pool was modified concurrently; retry",
    )
    .await;
}

#[tokio::test]
async fn an_unexpected_store_failure_is_500_without_detail() {
    endpoint::an_unexpected_store_failure_is_500_without_detail::<Contact>(
        &[json!({"name": "Boom"}), json!({})],
        "INTERNAL_ERROR",
        "Internal server error",
    )
    .await;
}

#[tokio::test]
async fn an_unavailable_store_is_503_with_retry_after() {
    endpoint::an_unavailable_store_is_503_with_retry_after::<Contact>(
        json!({"name": "Later"}),
        "SERVICE_UNAVAILABLE",
        "Service temporarily unavailable",
    )
    .await;
}

#[tokio::test]
async fn a_non_uuid_id_is_404_without_a_store_call() {
    // Pool reads fail on purpose: a 404 (not a 503) proves none was made.
    let e = Env::faulty(FailOn::Pools, Fault::Unavailable).await;
    let r = e
        .send(
            &e.call_on(PoolId::from_uuid(uuid::Uuid::nil()))
                .json(&json!({})),
            Gateway::HttpV2,
        )
        .await;
    assert_eq!(r.status, 503, "a UUID does reach the store");
    let call = Call::to(&ROUTE, "not-a-uuid")
        .bearer(&e.key)
        .json(&json!({}));
    let r = e.send(&call, Gateway::HttpV2).await;
    assert_m_error(&r, 404, "NOT_FOUND", "Pool not found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_updates_with_one_if_match_let_exactly_one_through() {
    for b in backends() {
        let e = Arc::new(Env::new(b).await);
        let tag = format!("\"{}\"", e.pool.version);
        let tasks: Vec<_> = (0..20)
            .map(|i| {
                let e = e.clone();
                let call = e
                    .call()
                    .header("If-Match", &tag)
                    .json(&json!({"name": format!("Writer {i}")}));
                tokio::spawn(async move { e.send(&call, Gateway::HttpV2).await })
            })
            .collect();
        let mut ok = Vec::new();
        let mut failed = 0;
        for t in tasks {
            let r = t.await.unwrap();
            match r.status {
                200 => ok.push(r),
                412 => failed += 1,
                other => panic!("{b:?}: unexpected {other}: {r:?}"),
            }
        }
        assert_eq!((ok.len(), failed), (1, 19), "{b:?}");
        let stored = e.stored().await;
        assert_eq!(stored.version, e.pool.version + 1);
        assert_eq!(serde_json::json!(stored.name), ok[0].body["data"]["name"]);
    }
}
