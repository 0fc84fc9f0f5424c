//! `PATCH /v1/guardrails/pools/{id}` through its handler, fed real API Gateway REST (v1) and
//! HTTP API (v2) events, on the in-memory store and on DynamoDB Local: every row of API.md §3's
//! error table, the field rules at their bounds, and the success paths.

use std::sync::Arc;

use patch_guardrail_pool::{handle, ROUTE};
use pool_tests::contract::{claims_of, problems_of};
use pool_tests::events::{Call, Gateway, BOTH};
use pool_tests::{assert_a_error, assert_common, seed, store, Backend, Reply, BACKENDS};
use serde_json::{json, Value};
use shared::auth::{KeyStatus, SCOPE_ORG_ADMIN_WRITE, SCOPE_POOLS_WRITE};
use shared::clock::Timestamp;
use shared::domain::guardrail_pool::GuardrailPool;
use shared::pipeline::Services;
use shared::store::faulty::{FailOn, Fault, FaultyStore};
use shared::store::memory::MemoryStore;
use shared::store::Store;
use uuid::Uuid;

struct Env {
    svc: Services,
    store: Arc<dyn Store>,
    org: Uuid,
    key: String,
    pool: GuardrailPool,
}

async fn env(b: Backend) -> Env {
    let store = store(b).await;
    let org = Uuid::new_v4();
    let key = seed::key(store.as_ref(), org, &[SCOPE_ORG_ADMIN_WRITE]).await;
    let pool = seed::stored_guardrail_pool(store.as_ref(), org, &seed::fresh_slug("main")).await;
    Env {
        svc: Services::new(store.clone()),
        store,
        org,
        key,
        pool,
    }
}

impl Env {
    fn call(&self) -> Call {
        self.call_on(self.pool.id)
    }

    fn call_on(&self, id: Uuid) -> Call {
        Call::to(&ROUTE, &id.to_string()).bearer(&self.key)
    }

    async fn send(&self, call: &Call, gw: Gateway) -> Reply {
        Reply::from_response(handle(call.request(gw), &self.svc).await)
    }

    async fn stored(&self) -> GuardrailPool {
        self.store
            .get_guardrail_pool(self.org, self.pool.id)
            .await
            .unwrap()
    }

    async fn another_pool(&self, prefix: &str) -> GuardrailPool {
        seed::stored_guardrail_pool(self.store.as_ref(), self.org, &seed::fresh_slug(prefix)).await
    }
}

async fn each(mut f: impl AsyncFnMut(&Env, Gateway)) {
    for b in BACKENDS {
        for gw in BOTH {
            let e = env(b).await;
            f(&e, gw).await;
        }
    }
}

fn assert_data_is(r: &Reply, p: &GuardrailPool) {
    assert_eq!(r.status, 200, "{r:?}");
    assert_common(r);
    assert_eq!(
        r.body,
        json!({"success": true, "data": {"id": p.id, "org_id": p.org_id, "brand_id": p.brand_id,
            "name": p.name, "slug": p.slug, "created_at": p.created_at.to_string(),
            "updated_at": p.updated_at.to_string()}})
    );
    assert_eq!(r.version(), p.version);
}

#[tokio::test]
async fn a_rename_changes_only_the_name() {
    each(async |e, gw| {
        let r = e
            .send(&e.call().json(&json!({"name": "  Renamed pool "})), gw)
            .await;
        let stored = e.stored().await;
        assert_data_is(&r, &stored);
        assert_eq!(stored.name, "Renamed pool");
        assert_eq!(stored.slug, e.pool.slug);
        assert_eq!(stored.brand_id, e.pool.brand_id);
        assert_eq!(stored.created_at, e.pool.created_at);
        assert_ne!(stored.updated_at, e.pool.updated_at);
        assert_eq!(stored.version, e.pool.version + 1);
        assert_eq!(
            claims_of(e.store.as_ref(), e.org).await,
            vec![(e.pool.slug.clone(), e.pool.id)]
        );
    })
    .await;
}

#[tokio::test]
async fn a_slug_change_moves_the_claim() {
    each(async |e, gw| {
        let slug = seed::fresh_slug("new");
        let r = e
            .send(&e.call().json(&json!({"slug": slug, "name": "Both"})), gw)
            .await;
        let stored = e.stored().await;
        assert_data_is(&r, &stored);
        assert_eq!(
            (stored.slug.as_str(), stored.name.as_str()),
            (slug.as_str(), "Both")
        );
        assert_eq!(
            claims_of(e.store.as_ref(), e.org).await,
            vec![(slug, e.pool.id)]
        );
        assert!(problems_of(e.store.as_ref(), e.org).await.is_empty());
    })
    .await;
}

#[tokio::test]
async fn an_empty_object_or_the_same_slug_writes_nothing() {
    each(async |e, gw| {
        for body in [json!({}), json!({"slug": e.pool.slug})] {
            let r = e.send(&e.call().json(&body), gw).await;
            assert_data_is(&r, &e.pool);
            assert_eq!(e.stored().await, e.pool);
        }
    })
    .await;
}

#[tokio::test]
async fn a_slug_given_up_is_claimable_at_once_and_other_organizations_may_share_it() {
    each(async |e, gw| {
        let other = e.another_pool("other").await;
        let moved = e
            .send(
                &e.call().json(&json!({"slug": seed::fresh_slug("moved")})),
                gw,
            )
            .await;
        assert_eq!(moved.status, 200, "{moved:?}");
        let r = e
            .send(&e.call_on(other.id).json(&json!({"slug": e.pool.slug})), gw)
            .await;
        assert_eq!(r.status, 200, "{r:?}");
        assert_eq!(r.body["data"]["slug"], e.pool.slug);
        // Another organization takes the same slug for its own pool.
        let org2 = Uuid::new_v4();
        let key2 = seed::key(e.store.as_ref(), org2, &[SCOPE_ORG_ADMIN_WRITE]).await;
        let theirs =
            seed::stored_guardrail_pool(e.store.as_ref(), org2, &seed::fresh_slug("t")).await;
        let call = Call::to(&ROUTE, &theirs.id.to_string())
            .bearer(&key2)
            .json(&json!({"slug": e.pool.slug}));
        let r = e.send(&call, gw).await;
        assert_eq!(r.status, 200, "{r:?}");
        assert!(problems_of(e.store.as_ref(), e.org).await.is_empty());
        assert!(problems_of(e.store.as_ref(), org2).await.is_empty());
    })
    .await;
}

#[tokio::test]
async fn malformed_bodies_are_400_invalid_input() {
    each(async |e, gw| {
        for body in [
            &b"{"[..],
            b"[]",
            b"42",
            b"{\"slug\":\"a\",\"slug\":\"b\"}",
            b"{}{}",
        ] {
            let call = e
                .call()
                .header("Content-Type", "application/json")
                .raw_body(body);
            let r = e.send(&call, gw).await;
            assert_a_error(&r, 400, "INVALID_INPUT", "invalid input");
            assert!(r.body["error"]["details"].is_object(), "{r:?}");
        }
        let empty = e.call().header("Content-Type", "application/json");
        assert_a_error(
            &e.send(&empty, gw).await,
            400,
            "INVALID_INPUT",
            "invalid input",
        );
        assert_eq!(e.stored().await, e.pool);
    })
    .await;
}

#[tokio::test]
async fn the_brand_is_immutable_and_other_fields_unsupported() {
    each(async |e, gw| {
        let r = e
            .send(
                &e.call()
                    .json(&json!({"brand_id": Uuid::new_v4(), "name": "Fine"})),
                gw,
            )
            .await;
        assert_a_error(&r, 400, "INVALID_INPUT", "invalid input");
        assert_eq!(
            r.body["error"]["details"],
            json!({"brand_id": "is immutable"})
        );
        for field in ["id", "org_id", "created_at", "updated_at", "color"] {
            let r = e
                .send(&e.call().json(&json!({ field: "x", "slug": "ok" })), gw)
                .await;
            assert_a_error(&r, 400, "INVALID_INPUT", "invalid input");
            assert_eq!(
                r.body["error"]["details"],
                json!({ field: "is not a supported field" })
            );
        }
        // Refused fields win over invalid values: 400 naming only them.
        let r = e
            .send(&e.call().json(&json!({"org_id": 1, "name": ""})), gw)
            .await;
        assert_a_error(&r, 400, "INVALID_INPUT", "invalid input");
        assert_eq!(
            r.body["error"]["details"],
            json!({"org_id": "is not a supported field"})
        );
        assert_eq!(e.stored().await, e.pool);
    })
    .await;
}

#[tokio::test]
async fn missing_or_bad_credentials_are_401() {
    each(async |e, gw| {
        let past = Timestamp::parse("2020-01-01T00:00:00Z");
        let scopes = [SCOPE_ORG_ADMIN_WRITE];
        let revoked =
            seed::key_with(e.store.as_ref(), e.org, &scopes, KeyStatus::Revoked, None).await;
        let expired =
            seed::key_with(e.store.as_ref(), e.org, &scopes, KeyStatus::Active, past).await;
        let id = e.pool.id.to_string();
        for call in [
            Call::to(&ROUTE, &id),
            Call::to(&ROUTE, &id).bearer(&revoked),
            Call::to(&ROUTE, &id).bearer(&expired),
            Call::to(&ROUTE, &id).bearer("am_live_unknown"),
            Call::to(&ROUTE, &id).header("Authorization", "Token abc"),
        ] {
            let r = e.send(&call.json(&json!({"name": "Nope"})), gw).await;
            assert_a_error(&r, 401, "UNAUTHORIZED", "authentication failed");
            assert_eq!(r.header("www-authenticate"), Some("Bearer"));
            assert!(r.body["error"].get("details").is_none());
        }
        assert_eq!(e.stored().await, e.pool);
    })
    .await;
}

#[tokio::test]
async fn a_key_without_the_scope_is_403() {
    each(async |e, gw| {
        let key = seed::key(e.store.as_ref(), e.org, &[SCOPE_POOLS_WRITE]).await;
        let call = Call::to(&ROUTE, &e.pool.id.to_string())
            .bearer(&key)
            .json(&json!({"name": "Nope"}));
        let r = e.send(&call, gw).await;
        assert_a_error(&r, 403, "FORBIDDEN", "missing required scope");
        assert_eq!(e.stored().await, e.pool);
    })
    .await;
}

#[tokio::test]
async fn unknown_ids_non_uuids_and_other_organizations_are_404_and_change_nothing() {
    each(async |e, gw| {
        for id in [Uuid::new_v4().to_string(), "pool-1".into()] {
            let call = Call::to(&ROUTE, &id)
                .bearer(&e.key)
                .json(&json!({"name": "Nope"}));
            assert_a_error(&e.send(&call, gw).await, 404, "NOT_FOUND", "not found");
        }
        let intruder = seed::key(e.store.as_ref(), Uuid::new_v4(), &[SCOPE_ORG_ADMIN_WRITE]).await;
        let slug = seed::fresh_slug("stolen");
        for body in [
            json!({"name": "Hijacked"}),
            json!({"slug": slug}),
            json!({"slug": e.pool.slug, "name": "Hijacked"}),
            json!({}),
        ] {
            let call = Call::to(&ROUTE, &e.pool.id.to_string())
                .bearer(&intruder)
                .json(&body);
            assert_a_error(&e.send(&call, gw).await, 404, "NOT_FOUND", "not found");
        }
        assert_eq!(e.stored().await, e.pool);
        assert_eq!(
            claims_of(e.store.as_ref(), e.org).await,
            vec![(e.pool.slug.clone(), e.pool.id)]
        );
    })
    .await;
}

#[tokio::test]
async fn other_methods_are_405_with_allow() {
    each(async |e, gw| {
        for m in ["GET", "PUT", "POST", "DELETE"] {
            let r = e.send(&e.call().method(m).json(&json!({})), gw).await;
            assert_a_error(&r, 405, "METHOD_NOT_ALLOWED", "method not allowed");
            assert_eq!(r.header("allow"), Some("PATCH"));
        }
    })
    .await;
}

#[tokio::test]
async fn a_taken_slug_is_409_and_nothing_of_the_request_is_applied() {
    each(async |e, gw| {
        let other = e.another_pool("taken").await;
        let r = e
            .send(
                &e.call()
                    .json(&json!({"slug": other.slug, "name": "Must not stick"})),
                gw,
            )
            .await;
        assert_a_error(&r, 409, "CONFLICT", "slug already in use");
        assert_eq!(
            r.body["error"]["details"],
            json!({"slug": "already in use"})
        );
        assert_eq!(e.stored().await, e.pool);
        assert_eq!(
            e.store.get_guardrail_pool(e.org, other.id).await.unwrap(),
            other
        );
        assert!(problems_of(e.store.as_ref(), e.org).await.is_empty());
    })
    .await;
}

#[tokio::test]
async fn a_stale_if_match_is_412_and_changes_nothing() {
    each(async |e, gw| {
        let stale = format!("\"{}\"", e.pool.version + 1);
        for body in [
            json!({"name": "Stale"}),
            json!({"slug": seed::fresh_slug("s")}),
            json!({}),
        ] {
            let r = e
                .send(&e.call().header("If-Match", &stale).json(&body), gw)
                .await;
            assert_a_error(
                &r,
                412,
                "PRECONDITION_FAILED",
                "pool has changed since it was read",
            );
        }
        assert_eq!(e.stored().await, e.pool);
        let fresh = format!("\"{}\"", e.pool.version);
        let r = e
            .send(
                &e.call()
                    .header("If-Match", &fresh)
                    .json(&json!({"slug": seed::fresh_slug("f")})),
                gw,
            )
            .await;
        assert_eq!(r.status, 200, "{r:?}");
    })
    .await;
}

#[tokio::test]
async fn a_body_over_64_kib_is_413_and_a_non_json_type_415() {
    each(async |e, gw| {
        let big = json!({"name": "x".repeat(70_000)});
        let r = e.send(&e.call().json(&big), gw).await;
        assert_a_error(&r, 413, "PAYLOAD_TOO_LARGE", "request body too large");
        let plain = e.call().header("Content-Type", "text/plain").raw_body("{}");
        let r = e.send(&plain, gw).await;
        assert_a_error(
            &r,
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            "content type must be application/json",
        );
        assert_eq!(e.stored().await, e.pool);
    })
    .await;
}

#[tokio::test]
async fn names_and_slugs_are_checked_at_their_bounds() {
    each(async |e, gw| {
        let ok: [Value; 6] = [
            json!({"name": "x"}),
            json!({"name": "é".repeat(255)}),
            json!({"name": format!("  {}  ", "y".repeat(255))}),
            json!({"slug": "a"}),
            json!({"slug": format!("{}", "b".repeat(63))}),
            json!({"slug": "tier-1-a9"}),
        ];
        for body in ok {
            let r = e.send(&e.call().json(&body), gw).await;
            assert_eq!(r.status, 200, "{body} -> {r:?}");
        }
        let bad: [(Value, Value); 10] = [
            (json!({"name": ""}), json!({"name": "must be between 1 and 255 characters"})),
            (json!({"name": "   "}), json!({"name": "must be between 1 and 255 characters"})),
            (json!({"name": "z".repeat(256)}), json!({"name": "must be between 1 and 255 characters"})),
            (json!({"name": null}), json!({"name": "must be a string"})),
            (json!({"name": "a\u{1}b"}), json!({"name": "must not contain control characters"})),
            (json!({"slug": ""}), json!({"slug": "must be between 1 and 63 characters"})),
            (json!({"slug": "c".repeat(64)}), json!({"slug": "must be between 1 and 63 characters"})),
            (json!({"slug": null}), json!({"slug": "must be a string"})),
            (json!({"slug": 5}), json!({"slug": "must be a string"})),
            (
                json!({"slug": "Bad--Slug", "name": ""}),
                json!({"slug": "must be lowercase letters and digits, in groups joined by single hyphens",
                    "name": "must be between 1 and 255 characters"}),
            ),
        ];
        let before = e.stored().await;
        for (body, details) in bad {
            let r = e.send(&e.call().json(&body), gw).await;
            assert_a_error(&r, 422, "VALIDATION_FAILED", "validation failed");
            assert_eq!(r.body["error"]["details"], details, "{body}");
        }
        for slug in ["-a", "a-", "a_b", "A", "a b", "ü"] {
            let r = e.send(&e.call().json(&json!({ "slug": slug })), gw).await;
            assert_eq!((r.status, r.code()), (422, "VALIDATION_FAILED"), "{slug}");
        }
        assert_eq!(e.stored().await, before);
    })
    .await;
}

#[tokio::test]
async fn the_raw_path_names_the_pool_when_path_parameters_are_absent() {
    each(async |e, gw| {
        let call = e
            .call()
            .without_path_parameters()
            .json(&json!({"name": "Via raw path"}));
        let r = e.send(&call, gw).await;
        assert_eq!(r.status, 200, "{r:?}");
        let wrong = e
            .call()
            .without_path_parameters()
            .path("/v1/guardrails/pools")
            .json(&json!({}));
        assert_a_error(&e.send(&wrong, gw).await, 404, "NOT_FOUND", "not found");
    })
    .await;
}

async fn faulty(on: FailOn, fault: Fault) -> (Services, String, Uuid) {
    let inner = MemoryStore::new();
    let org = Uuid::new_v4();
    let key = seed::key(&inner, org, &[SCOPE_ORG_ADMIN_WRITE]).await;
    let pool = seed::stored_guardrail_pool(&inner, org, "faulty").await;
    (
        Services::new(Arc::new(FaultyStore::new(inner, on, fault))),
        key,
        pool.id,
    )
}

async fn send_to(svc: &Services, key: &str, id: Uuid, body: Value, gw: Gateway) -> Reply {
    let call = Call::to(&ROUTE, &id.to_string()).bearer(key).json(&body);
    Reply::from_response(handle(call.request(gw), svc).await)
}

#[tokio::test]
async fn persistent_contention_is_409() {
    for gw in BOTH {
        let (svc, key, id) = faulty(FailOn::Pools, Fault::Conflict).await;
        let r = send_to(&svc, &key, id, json!({"slug": "busy"}), gw).await;
        assert_a_error(&r, 409, "CONFLICT", "pool was modified concurrently; retry");
        assert!(r.body["error"]["details"].is_object());
    }
}

#[tokio::test]
async fn an_unexpected_store_failure_is_500_without_detail() {
    for gw in BOTH {
        for on in [FailOn::Auth, FailOn::Pools] {
            let (svc, key, id) = faulty(on, Fault::Internal).await;
            let r = send_to(&svc, &key, id, json!({"name": "Boom"}), gw).await;
            assert_a_error(&r, 500, "INTERNAL", "internal error");
            assert!(!r.body.to_string().contains("secret"), "{r:?}");
        }
    }
}

#[tokio::test]
async fn an_unavailable_store_is_503_with_retry_after() {
    for gw in BOTH {
        for on in [FailOn::Auth, FailOn::Pools] {
            let (svc, key, id) = faulty(on, Fault::Unavailable).await;
            let r = send_to(&svc, &key, id, json!({"slug": "later"}), gw).await;
            assert_a_error(&r, 503, "UNAVAILABLE", "service temporarily unavailable");
            assert_eq!(r.header("retry-after"), Some("1"));
        }
    }
}
