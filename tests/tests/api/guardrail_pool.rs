//! `PATCH /v1/guardrails/pools/{id}` through its handler, fed real API Gateway REST (v1) and
//! HTTP API (v2) events, on the in-memory store and on DynamoDB Local: every row of API.md §3's
//! error table, the field rules at their bounds, and the success paths.

use patch_guardrail_pool::ROUTE;
use pool_tests::contract::{claims_of, problems_of};
use pool_tests::endpoint::{self, Guardrail};
use pool_tests::events::Call;
use pool_tests::{assert_a_error, assert_common, seed, Reply};
use serde_json::{json, Value};
use shared::auth::{SCOPE_ORG_ADMIN_WRITE, SCOPE_POOLS_WRITE};
use shared::domain::guardrail_pool::GuardrailPool;
use shared::domain::ids::OrgId;
use uuid::Uuid;

type Env = endpoint::Env<Guardrail>;

/// Another pool of the organization, its slug starting with `prefix`.
async fn another_pool(e: &Env, prefix: &str) -> GuardrailPool {
    seed::stored_guardrail_pool(e.store.as_ref(), e.org, &seed::fresh_slug(prefix)).await
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
    // API.md §3: the members in the order the contract shows them.
    r.assert_member_order(&[
        "success",
        "data",
        "id",
        "org_id",
        "brand_id",
        "name",
        "slug",
        "created_at",
        "updated_at",
    ]);
    assert_eq!(r.version(), p.version);
}

#[tokio::test]
async fn a_rename_changes_only_the_name() {
    Env::each(async |e, gw| {
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
            vec![(e.pool.slug.to_string(), e.pool.id)]
        );
    })
    .await;
}

#[tokio::test]
async fn a_slug_change_moves_the_claim() {
    Env::each(async |e, gw| {
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
    Env::each(async |e, gw| {
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
    Env::each(async |e, gw| {
        let other = another_pool(e, "other").await;
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
        assert_eq!(r.body["data"]["slug"], e.pool.slug.as_str());
        // Another organization takes the same slug for its own pool.
        let org2 = OrgId::new_v4();
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
    Env::each(async |e, gw| {
        let bodies = [
            &b"{"[..],
            b"[]",
            b"42",
            b"{\"slug\":\"a\",\"slug\":\"b\"}",
            b"{}{}",
        ];
        let replies = e
            .assert_malformed_bodies_refused(gw, &bodies, "INVALID_INPUT", "invalid input")
            .await;
        for r in replies {
            assert!(r.body["error"]["details"].is_object(), "{r:?}");
        }
    })
    .await;
}

#[tokio::test]
async fn the_brand_is_immutable_and_other_fields_unsupported() {
    Env::each(async |e, gw| {
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
    Env::each(async |e, gw| {
        let [revoked, expired] = e.revoked_and_expired_keys().await;
        let id = e.pool.id.to_string();
        let calls = [
            Call::to(&ROUTE, &id),
            Call::to(&ROUTE, &id).bearer(&revoked),
            Call::to(&ROUTE, &id).bearer(&expired),
            Call::to(&ROUTE, &id).bearer("am_live_unknown"),
            Call::to(&ROUTE, &id).header("Authorization", "Token abc"),
        ];
        let replies = e
            .assert_unauthenticated(gw, calls, "UNAUTHORIZED", "authentication failed")
            .await;
        for r in replies {
            assert!(r.body["error"].get("details").is_none());
        }
    })
    .await;
}

#[tokio::test]
async fn a_key_without_the_scope_is_403() {
    endpoint::a_key_without_the_scope_is_403::<Guardrail>(
        SCOPE_POOLS_WRITE,
        "FORBIDDEN",
        "missing required scope",
    )
    .await;
}

#[tokio::test]
async fn unknown_ids_non_uuids_and_other_organizations_are_404_and_change_nothing() {
    Env::each(async |e, gw| {
        for id in [Uuid::new_v4().to_string(), "pool-1".into()] {
            let call = Call::to(&ROUTE, &id)
                .bearer(&e.key)
                .json(&json!({"name": "Nope"}));
            assert_a_error(&e.send(&call, gw).await, 404, "NOT_FOUND", "not found");
        }
        let intruder = seed::key(e.store.as_ref(), OrgId::new_v4(), &[SCOPE_ORG_ADMIN_WRITE]).await;
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
            vec![(e.pool.slug.to_string(), e.pool.id)]
        );
    })
    .await;
}

#[tokio::test]
async fn other_methods_are_405_with_allow() {
    endpoint::other_methods_are_405_with_allow::<Guardrail>("PATCH", "method not allowed").await;
}

#[tokio::test]
async fn a_taken_slug_is_409_and_nothing_of_the_request_is_applied() {
    Env::each(async |e, gw| {
        let other = another_pool(e, "taken").await;
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
    Env::each(async |e, gw| {
        let stale = [format!("\"{}\"", e.pool.version + 1)];
        let bodies = [
            json!({"name": "Stale"}),
            json!({"slug": seed::fresh_slug("s")}),
            json!({}),
        ];
        let fresh = json!({"slug": seed::fresh_slug("f")});
        e.assert_if_match_checked(
            gw,
            &stale,
            &bodies,
            &fresh,
            "pool has changed since it was read",
        )
        .await;
    })
    .await;
}

#[tokio::test]
async fn a_body_over_64_kib_is_413_and_a_non_json_type_415() {
    Env::each(async |e, gw| {
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
    Env::each(async |e, gw| {
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
    Env::each(async |e, gw| {
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
        // The route's prefix must start the path: found further in, it names nothing.
        let elsewhere = e
            .call()
            .without_path_parameters()
            .path(&format!("/other/v1/guardrails/pools/{}", e.pool.id))
            .json(&json!({"name": "Not via another path"}));
        assert_a_error(&e.send(&elsewhere, gw).await, 404, "NOT_FOUND", "not found");
        assert_eq!(e.stored().await.name, "Via raw path");
    })
    .await;
}

#[tokio::test]
async fn persistent_contention_is_409() {
    let replies = endpoint::persistent_contention_is_409::<Guardrail>(
        json!({"slug": "busy"}),
        "CONFLICT",
        "pool was modified concurrently; retry",
    )
    .await;
    for r in replies {
        assert!(r.body["error"]["details"].is_object());
    }
}

#[tokio::test]
async fn an_unexpected_store_failure_is_500_without_detail() {
    endpoint::an_unexpected_store_failure_is_500_without_detail::<Guardrail>(
        &[json!({"name": "Boom"})],
        "INTERNAL",
        "internal error",
    )
    .await;
}

#[tokio::test]
async fn an_unavailable_store_is_503_with_retry_after() {
    endpoint::an_unavailable_store_is_503_with_retry_after::<Guardrail>(
        json!({"slug": "later"}),
        "UNAVAILABLE",
        "service temporarily unavailable",
    )
    .await;
}
