//! The store contract: every case runs against the in-memory and the DynamoDB adapter
//! (`store_contract!` in `tests/store/`), so the two cannot drift.

use std::sync::Arc;

use shared::clock::Timestamp;
use shared::domain::api_key::{KeyHash, KeyStatus};
use shared::domain::contact_pool::{
    ContactPoolPatch, Description, MaxParallelItems, MaxRetries, PoolName, PoolType,
};
use shared::domain::guardrail_pool::{GuardrailName, GuardrailPoolPatch, Slug};
use shared::domain::idempotency::{
    Fingerprint, Idempotency, IdempotencyKey, Written, RECORD_TTL_SECS,
};
use shared::domain::ids::{OrgId, PoolId};
use shared::store::{Precondition, StoreAdmin, StoreError, StoreSnapshot};

use crate::seed;

pub type AnyStore = Arc<dyn StoreAdmin>;

/// Runs every contract case against the store that `$make` (an async expression giving an
/// `Arc<dyn StoreAdmin>`) builds, one `#[tokio::test]` each; with `if $ready`, each case returns
/// at once (and passes) when `$ready` is false (`dynamo::available()`).
#[macro_export]
macro_rules! store_contract {
    ($make:expr) => {
        $crate::store_contract!($make, if true);
    };
    ($make:expr, if $ready:expr) => {
        $crate::store_contract!(@cases $make; $ready;
            contact_update_applies_every_field_and_bumps_the_version,
            contact_update_with_null_description_clears_it,
            contact_update_of_missing_or_foreign_pool_is_not_found_and_changes_nothing,
            contact_update_honours_if_match,
            contact_update_checks_the_first_hundred_if_match_versions_only,
            contact_get_is_scoped_to_the_organization,
            keys_are_found_by_hash_and_revoked_by_id,
            guardrail_rename_is_one_write_and_keeps_the_slug,
            guardrail_slug_change_moves_the_claim,
            guardrail_slug_change_repairs_a_missing_claim,
            guardrail_taken_slug_is_refused_whole,
            guardrail_same_slug_writes_nothing,
            guardrail_released_slug_is_free_at_once,
            guardrail_slugs_are_per_organization,
            guardrail_foreign_pool_is_not_found_and_unchanged,
            guardrail_slug_change_honours_if_match,
            guardrail_create_refuses_a_taken_slug,
            a_keyed_contact_update_is_written_with_its_record_once,
            a_keyed_slug_change_is_written_with_its_record_once,
            a_keyed_change_that_fails_or_writes_nothing_records_nothing,
            an_expired_record_is_as_absent,
            records_are_scoped_by_organization_and_function
        );
    };
    (@cases $make:expr; $ready:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                if !$ready {
                    return;
                }
                $crate::contract::$case($make).await
            }
        )*
    };
}

fn now() -> Timestamp {
    Timestamp::parse("2026-11-22T10:15:00Z").expect("valid time")
}

fn versions(v: &[u64]) -> Precondition {
    Precondition::Versions(v.to_vec())
}

/// The snapshot's problems that concern one organization (other tests write concurrently).
pub async fn problems_of(store: &dyn StoreAdmin, org_id: OrgId) -> Vec<String> {
    let snap = store.snapshot().await.expect("snapshot");
    poolctl::problems(&StoreSnapshot {
        contact_pools: snap
            .contact_pools
            .into_iter()
            .filter(|p| p.org_id == org_id)
            .collect(),
        guardrail_pools: snap
            .guardrail_pools
            .into_iter()
            .filter(|p| p.org_id == org_id)
            .collect(),
        claims: snap
            .claims
            .into_iter()
            .filter(|c| c.org_id == org_id)
            .collect(),
        idempotency_records: snap
            .idempotency_records
            .into_iter()
            .filter(|r| r.org_id == org_id)
            .collect(),
        unreadable: Vec::new(),
    })
}

/// One organization's claims, as (slug, pool), sorted.
pub async fn claims_of(store: &dyn StoreAdmin, org_id: OrgId) -> Vec<(String, PoolId)> {
    let mut c: Vec<_> = store
        .snapshot()
        .await
        .expect("snapshot")
        .claims
        .into_iter()
        .filter(|c| c.org_id == org_id)
        .map(|c| (c.slug.to_string(), c.pool_id))
        .collect();
    c.sort();
    c
}

pub async fn contact_update_applies_every_field_and_bumps_the_version(store: AnyStore) {
    let org = OrgId::new_v4();
    let before = seed::stored_contact_pool(store.as_ref(), org).await;
    let patch = ContactPoolPatch {
        name: Some(PoolName::parse("Cold leads").unwrap()),
        description: Some(Some(Description::parse("new").unwrap())),
        pool_type: Some(PoolType::Parallel),
        max_parallel_items: Some(MaxParallelItems::new(20).unwrap()),
        max_retries: Some(MaxRetries::new(5).unwrap()),
        is_active: Some(false),
    };
    let after = store
        .update_contact_pool(org, before.id, &patch, &Precondition::Any, now())
        .await
        .unwrap();
    assert_eq!(after.name, "Cold leads");
    assert_eq!(after.description.as_ref().map(|d| d.as_str()), Some("new"));
    assert_eq!(after.pool_type, PoolType::Parallel);
    assert_eq!(after.max_parallel_items.get(), 20);
    assert_eq!(after.max_retries.get(), 5);
    assert!(!after.is_active);
    assert_eq!(after.version, before.version + 1);
    assert_eq!(after.updated_at, now());
    assert_eq!(after.created_at, before.created_at);
    assert_eq!(after.contacts_count, before.contacts_count);
    assert_eq!(after.org_id, org);
    assert_eq!(store.get_contact_pool(org, before.id).await.unwrap(), after);
}

pub async fn contact_update_with_null_description_clears_it(store: AnyStore) {
    let org = OrgId::new_v4();
    let before = seed::stored_contact_pool(store.as_ref(), org).await;
    let patch = ContactPoolPatch {
        description: Some(None),
        ..Default::default()
    };
    let after = store
        .update_contact_pool(org, before.id, &patch, &Precondition::Any, now())
        .await
        .unwrap();
    assert_eq!(after.description, None);
    assert_eq!(after.name, before.name);
    assert_eq!(
        store
            .get_contact_pool(org, before.id)
            .await
            .unwrap()
            .description,
        None
    );
}

pub async fn contact_update_of_missing_or_foreign_pool_is_not_found_and_changes_nothing(
    store: AnyStore,
) {
    let org = OrgId::new_v4();
    let before = seed::stored_contact_pool(store.as_ref(), org).await;
    let patch = ContactPoolPatch {
        is_active: Some(false),
        ..Default::default()
    };
    let other_org = OrgId::new_v4();
    for pre in [
        Precondition::Any,
        versions(&[before.version]),
        versions(&[99]),
    ] {
        let r = store
            .update_contact_pool(other_org, before.id, &patch, &pre, now())
            .await;
        assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
        let r = store
            .update_contact_pool(org, PoolId::new_v4(), &patch, &pre, now())
            .await;
        assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
    }
    assert_eq!(
        store.get_contact_pool(org, before.id).await.unwrap(),
        before
    );
}

pub async fn contact_update_honours_if_match(store: AnyStore) {
    let org = OrgId::new_v4();
    let before = seed::stored_contact_pool(store.as_ref(), org).await;
    let patch = ContactPoolPatch {
        max_retries: Some(MaxRetries::new(9).unwrap()),
        ..Default::default()
    };
    for stale in [
        versions(&[before.version + 1]),
        versions(&[]),
        versions(&[0, 7]),
    ] {
        let r = store
            .update_contact_pool(org, before.id, &patch, &stale, now())
            .await;
        assert!(matches!(r, Err(StoreError::PreconditionFailed)), "{r:?}");
    }
    assert_eq!(
        store.get_contact_pool(org, before.id).await.unwrap(),
        before
    );
    let after = store
        .update_contact_pool(
            org,
            before.id,
            &patch,
            &versions(&[5, before.version]),
            now(),
        )
        .await
        .unwrap();
    assert_eq!(after.version, before.version + 1);
    assert_eq!(after.max_retries.get(), 9);
}

/// `If-Match` with more than 100 tags: both adapters check the same first hundred versions
/// (DynamoDB's `IN` takes no more), so they give the same answer.
pub async fn contact_update_checks_the_first_hundred_if_match_versions_only(store: AnyStore) {
    use lambda_http::http::{header::IF_MATCH, HeaderMap, HeaderValue};
    let org = OrgId::new_v4();
    let before = seed::stored_contact_pool(store.as_ref(), org).await;
    let patch = ContactPoolPatch {
        max_retries: Some(MaxRetries::new(4).unwrap()),
        ..Default::default()
    };
    let if_match = |others: std::ops::Range<u64>| {
        let mut tags: Vec<String> = others.map(|v| format!("\"{v}\"")).collect();
        tags.push(format!("\"{}\"", before.version));
        let mut h = HeaderMap::new();
        h.insert(IF_MATCH, HeaderValue::from_str(&tags.join(", ")).unwrap());
        Precondition::from_headers(&h)
    };
    // The pool's version as the 101st tag: not checked, so a 412.
    let r = store
        .update_contact_pool(org, before.id, &patch, &if_match(1000..1100), now())
        .await;
    assert!(matches!(r, Err(StoreError::PreconditionFailed)), "{r:?}");
    assert_eq!(
        store.get_contact_pool(org, before.id).await.unwrap(),
        before
    );
    // As the 100th: admitted.
    let after = store
        .update_contact_pool(org, before.id, &patch, &if_match(1000..1099), now())
        .await
        .unwrap();
    assert_eq!(after.version, before.version + 1);
}

pub async fn contact_get_is_scoped_to_the_organization(store: AnyStore) {
    let org = OrgId::new_v4();
    let pool = seed::stored_contact_pool(store.as_ref(), org).await;
    assert_eq!(store.get_contact_pool(org, pool.id).await.unwrap(), pool);
    assert!(matches!(
        store.get_contact_pool(OrgId::new_v4(), pool.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.get_contact_pool(org, PoolId::new_v4()).await,
        Err(StoreError::NotFound)
    ));
    // Guardrail and contact pools are different kinds, even under one id.
    assert!(matches!(
        store.get_guardrail_pool(org, pool.id).await,
        Err(StoreError::NotFound)
    ));
}

pub async fn keys_are_found_by_hash_and_revoked_by_id(store: AnyStore) {
    let org = OrgId::new_v4();
    let key = seed::key(store.as_ref(), org, &["pools:write", "x"]).await;
    let found = store
        .find_api_key(&KeyHash::of(&key))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.org_id, org);
    assert_eq!(found.status, KeyStatus::Active);
    assert_eq!(found.scopes.len(), 2);
    assert!(store
        .find_api_key(&KeyHash::of("am_live_unknown"))
        .await
        .unwrap()
        .is_none());
    let again = store.create_api_key(&KeyHash::of(&key), &found).await;
    assert!(matches!(again, Err(StoreError::AlreadyExists)), "{again:?}");
    store.revoke_api_key(&found.key_id).await.unwrap();
    let revoked = store
        .find_api_key(&KeyHash::of(&key))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(revoked.status, KeyStatus::Revoked);
    assert!(matches!(
        store.revoke_api_key("key_does_not_exist").await,
        Err(StoreError::NotFound)
    ));
    let expiring = Timestamp::parse("2030-01-01T00:00:00Z");
    let k2 = seed::key_with(store.as_ref(), org, &[], KeyStatus::Active, expiring).await;
    let r = store
        .find_api_key(&KeyHash::of(&k2))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.expires_at, expiring);
    assert!(r.scopes.is_empty());
}

fn rename(name: &str) -> GuardrailPoolPatch {
    GuardrailPoolPatch {
        name: Some(GuardrailName::parse(name).unwrap()),
        slug: None,
    }
}

fn reslug(slug: impl AsRef<str>) -> GuardrailPoolPatch {
    GuardrailPoolPatch {
        name: None,
        slug: Some(Slug::parse(slug.as_ref()).unwrap()),
    }
}

pub async fn guardrail_rename_is_one_write_and_keeps_the_slug(store: AnyStore) {
    let org = OrgId::new_v4();
    let pool = seed::stored_guardrail_pool(store.as_ref(), org, &seed::fresh_slug("r")).await;
    let after = store
        .update_guardrail_pool(
            org,
            pool.id,
            &rename("  New name "),
            &Precondition::Any,
            now(),
        )
        .await
        .unwrap();
    assert_eq!(after.name, "New name");
    assert_eq!(after.slug, pool.slug);
    assert_eq!(after.brand_id, pool.brand_id);
    assert_eq!(after.created_at, pool.created_at);
    assert_eq!(after.updated_at, now());
    assert_eq!(after.version, pool.version + 1);
    assert_eq!(store.get_guardrail_pool(org, pool.id).await.unwrap(), after);
    assert_eq!(
        claims_of(store.as_ref(), org).await,
        vec![(pool.slug.to_string(), pool.id)]
    );
}

pub async fn guardrail_slug_change_moves_the_claim(store: AnyStore) {
    let org = OrgId::new_v4();
    let pool = seed::stored_guardrail_pool(store.as_ref(), org, &seed::fresh_slug("a")).await;
    let new_slug = seed::fresh_slug("b");
    let patch = GuardrailPoolPatch {
        name: Some(GuardrailName::parse("Both").unwrap()),
        slug: Some(Slug::parse(&new_slug).unwrap()),
    };
    let after = store
        .update_guardrail_pool(org, pool.id, &patch, &Precondition::Any, now())
        .await
        .unwrap();
    assert_eq!(
        (after.slug.as_str(), after.name.as_str()),
        (new_slug.as_str(), "Both")
    );
    assert_eq!(after.version, pool.version + 1);
    assert_eq!(store.get_guardrail_pool(org, pool.id).await.unwrap(), after);
    assert_eq!(
        claims_of(store.as_ref(), org).await,
        vec![(new_slug, pool.id)]
    );
    assert!(problems_of(store.as_ref(), org).await.is_empty());
}

/// A pool whose claim went missing (invariant 3 broken behind the store's back) can still move
/// to another slug, and the move leaves the index whole again.
pub async fn guardrail_slug_change_repairs_a_missing_claim(store: AnyStore) {
    let org = OrgId::new_v4();
    let pool = seed::stored_guardrail_pool(store.as_ref(), org, &seed::fresh_slug("lost")).await;
    store.remove_claim_unchecked(org, &pool.slug).await.unwrap();
    assert_eq!(problems_of(store.as_ref(), org).await.len(), 1);
    let new_slug = seed::fresh_slug("found");
    let after = store
        .update_guardrail_pool(org, pool.id, &reslug(&new_slug), &Precondition::Any, now())
        .await
        .unwrap();
    assert_eq!(after.slug, new_slug);
    assert_eq!(after.version, pool.version + 1);
    assert_eq!(
        claims_of(store.as_ref(), org).await,
        vec![(new_slug, pool.id)]
    );
    assert!(problems_of(store.as_ref(), org).await.is_empty());
}

pub async fn guardrail_taken_slug_is_refused_whole(store: AnyStore) {
    let org = OrgId::new_v4();
    let a = seed::stored_guardrail_pool(store.as_ref(), org, &seed::fresh_slug("a")).await;
    let b = seed::stored_guardrail_pool(store.as_ref(), org, &seed::fresh_slug("b")).await;
    let patch = GuardrailPoolPatch {
        name: Some(GuardrailName::parse("Should not stick").unwrap()),
        slug: Some(a.slug.clone()),
    };
    let r = store
        .update_guardrail_pool(org, b.id, &patch, &Precondition::Any, now())
        .await;
    assert!(matches!(r, Err(StoreError::SlugTaken)), "{r:?}");
    assert_eq!(store.get_guardrail_pool(org, a.id).await.unwrap(), a);
    assert_eq!(store.get_guardrail_pool(org, b.id).await.unwrap(), b);
    assert!(problems_of(store.as_ref(), org).await.is_empty());
}

pub async fn guardrail_same_slug_writes_nothing(store: AnyStore) {
    let org = OrgId::new_v4();
    let pool = seed::stored_guardrail_pool(store.as_ref(), org, &seed::fresh_slug("s")).await;
    let same = store
        .update_guardrail_pool(org, pool.id, &reslug(&pool.slug), &Precondition::Any, now())
        .await
        .unwrap();
    assert_eq!(same, pool);
    let patch = GuardrailPoolPatch {
        name: Some(GuardrailName::parse("Renamed").unwrap()),
        slug: Some(pool.slug.clone()),
    };
    let renamed = store
        .update_guardrail_pool(org, pool.id, &patch, &Precondition::Any, now())
        .await
        .unwrap();
    assert_eq!(renamed.name, "Renamed");
    assert_eq!(renamed.version, pool.version + 1);
    assert_eq!(
        claims_of(store.as_ref(), org).await,
        vec![(pool.slug.to_string(), pool.id)]
    );
}

pub async fn guardrail_released_slug_is_free_at_once(store: AnyStore) {
    let org = OrgId::new_v4();
    let first = seed::fresh_slug("first");
    let a = seed::stored_guardrail_pool(store.as_ref(), org, &first).await;
    let b = seed::stored_guardrail_pool(store.as_ref(), org, &seed::fresh_slug("b")).await;
    store
        .update_guardrail_pool(
            org,
            a.id,
            &reslug(seed::fresh_slug("moved")),
            &Precondition::Any,
            now(),
        )
        .await
        .unwrap();
    let b2 = store
        .update_guardrail_pool(org, b.id, &reslug(&first), &Precondition::Any, now())
        .await
        .unwrap();
    assert_eq!(b2.slug, first);
    assert!(problems_of(store.as_ref(), org).await.is_empty());
}

pub async fn guardrail_slugs_are_per_organization(store: AnyStore) {
    let slug = seed::fresh_slug("shared");
    let (org1, org2) = (OrgId::new_v4(), OrgId::new_v4());
    seed::stored_guardrail_pool(store.as_ref(), org1, &slug).await;
    seed::stored_guardrail_pool(store.as_ref(), org2, &slug).await;
    let p = seed::stored_guardrail_pool(store.as_ref(), org2, &seed::fresh_slug("x")).await;
    let r = store
        .update_guardrail_pool(org2, p.id, &reslug(&slug), &Precondition::Any, now())
        .await;
    assert!(matches!(r, Err(StoreError::SlugTaken)), "{r:?}");
    let q =
        seed::stored_guardrail_pool(store.as_ref(), OrgId::new_v4(), &seed::fresh_slug("y")).await;
    let moved = store
        .update_guardrail_pool(q.org_id, q.id, &reslug(&slug), &Precondition::Any, now())
        .await
        .unwrap();
    assert_eq!(moved.slug, slug);
}

pub async fn guardrail_foreign_pool_is_not_found_and_unchanged(store: AnyStore) {
    let org = OrgId::new_v4();
    let pool = seed::stored_guardrail_pool(store.as_ref(), org, &seed::fresh_slug("f")).await;
    let intruder = OrgId::new_v4();
    for patch in [rename("Hijacked"), reslug(seed::fresh_slug("hijacked"))] {
        for pre in [Precondition::Any, versions(&[pool.version])] {
            let r = store
                .update_guardrail_pool(intruder, pool.id, &patch, &pre, now())
                .await;
            assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
        }
    }
    assert!(matches!(
        store.get_guardrail_pool(intruder, pool.id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.get_guardrail_pool(org, pool.id).await.unwrap(), pool);
    assert!(claims_of(store.as_ref(), intruder).await.is_empty());
    assert_eq!(
        claims_of(store.as_ref(), org).await,
        vec![(pool.slug.to_string(), pool.id)]
    );
}

pub async fn guardrail_slug_change_honours_if_match(store: AnyStore) {
    let org = OrgId::new_v4();
    let pool = seed::stored_guardrail_pool(store.as_ref(), org, &seed::fresh_slug("m")).await;
    for patch in [reslug(seed::fresh_slug("n")), rename("Other")] {
        let r = store
            .update_guardrail_pool(org, pool.id, &patch, &versions(&[pool.version + 1]), now())
            .await;
        assert!(matches!(r, Err(StoreError::PreconditionFailed)), "{r:?}");
    }
    assert_eq!(store.get_guardrail_pool(org, pool.id).await.unwrap(), pool);
    let ok = store
        .update_guardrail_pool(
            org,
            pool.id,
            &reslug(seed::fresh_slug("n")),
            &versions(&[pool.version]),
            now(),
        )
        .await
        .unwrap();
    assert_eq!(ok.version, pool.version + 1);
}

pub async fn guardrail_create_refuses_a_taken_slug(store: AnyStore) {
    let org = OrgId::new_v4();
    let slug = seed::fresh_slug("c");
    let a = seed::stored_guardrail_pool(store.as_ref(), org, &slug).await;
    let b = seed::guardrail_pool(org, &slug);
    let r = store.create_guardrail_pool(&b).await;
    assert!(matches!(r, Err(StoreError::SlugTaken)), "{r:?}");
    assert!(matches!(
        store.get_guardrail_pool(org, b.id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(claims_of(store.as_ref(), org).await, vec![(slug, a.id)]);
}

// ---- Idempotency-Key (API.md §5, invariant 6) ------------------------------------------------

fn keyed(org_id: OrgId, function: &'static str, key: &str, fingerprint: &str) -> Idempotency {
    Idempotency {
        org_id,
        function,
        key: IdempotencyKey::parse(key).unwrap(),
        fingerprint: Fingerprint::from_hex(fingerprint.to_owned()),
    }
}

const CONTACT_FN: &str = "update-contact-pool";
const GUARDRAIL_FN: &str = "patch-guardrail-pool";

pub async fn a_keyed_contact_update_is_written_with_its_record_once(store: AnyStore) {
    let org = OrgId::new_v4();
    let before = seed::stored_contact_pool(store.as_ref(), org).await;
    let key = keyed(org, CONTACT_FN, "k-1", "f1");
    let patch = ContactPoolPatch {
        max_retries: Some(MaxRetries::new(8).unwrap()),
        ..Default::default()
    };
    let first = store
        .update_contact_pool_recorded(org, before.id, &patch, &Precondition::Any, now(), &key)
        .await
        .unwrap();
    let Written::Applied(after) = first else {
        panic!("first use applies: {first:?}")
    };
    assert_eq!(after.version, before.version + 1);
    assert_eq!(after.max_retries.get(), 8);
    assert_eq!(store.get_contact_pool(org, before.id).await.unwrap(), after);
    // Again, even with a precondition that no longer holds: the record, nothing written.
    let again = store
        .update_contact_pool_recorded(
            org,
            before.id,
            &patch,
            &versions(&[before.version]),
            now(),
            &key,
        )
        .await
        .unwrap();
    let Written::Recorded(record) = again else {
        panic!("second use is recorded: {again:?}")
    };
    assert_eq!(record.version, after.version);
    assert_eq!(record.pool_id, before.id);
    assert_eq!(record.fingerprint, key.fingerprint);
    assert_eq!(
        record.data,
        serde_json::to_string(&after.view()).unwrap(),
        "the response as written"
    );
    assert_eq!(store.get_contact_pool(org, before.id).await.unwrap(), after);
    assert_eq!(
        store.find_idempotency_record(&key, now()).await.unwrap(),
        Some(record)
    );
    assert!(problems_of(store.as_ref(), org).await.is_empty());
}

pub async fn a_keyed_slug_change_is_written_with_its_record_once(store: AnyStore) {
    let org = OrgId::new_v4();
    let pool = seed::stored_guardrail_pool(store.as_ref(), org, &seed::fresh_slug("k")).await;
    let key = keyed(org, GUARDRAIL_FN, "slug-1", "f2");
    let new_slug = seed::fresh_slug("kk");
    let first = store
        .update_guardrail_pool_recorded(
            org,
            pool.id,
            &reslug(&new_slug),
            &Precondition::Any,
            now(),
            &key,
        )
        .await
        .unwrap();
    let Written::Applied(after) = first else {
        panic!("{first:?}")
    };
    assert_eq!(
        (after.slug.as_str(), after.version),
        (new_slug.as_str(), pool.version + 1)
    );
    let again = store
        .update_guardrail_pool_recorded(
            org,
            pool.id,
            &reslug(seed::fresh_slug("other")),
            &Precondition::Any,
            now(),
            &key,
        )
        .await
        .unwrap();
    assert!(
        matches!(again, Written::Recorded(ref r) if r.version == after.version),
        "{again:?}"
    );
    assert_eq!(store.get_guardrail_pool(org, pool.id).await.unwrap(), after);
    assert_eq!(
        claims_of(store.as_ref(), org).await,
        vec![(new_slug, pool.id)]
    );
    // A rename with another key: one write, its own record.
    let rename_key = keyed(org, GUARDRAIL_FN, "rename-1", "f3");
    let renamed = store
        .update_guardrail_pool_recorded(
            org,
            pool.id,
            &rename("Keyed"),
            &Precondition::Any,
            now(),
            &rename_key,
        )
        .await
        .unwrap();
    assert!(
        matches!(renamed, Written::Applied(ref p) if p.name == "Keyed" && p.version == after.version + 1)
    );
    assert!(problems_of(store.as_ref(), org).await.is_empty());
}

pub async fn a_keyed_change_that_fails_or_writes_nothing_records_nothing(store: AnyStore) {
    let org = OrgId::new_v4();
    let pool = seed::stored_guardrail_pool(store.as_ref(), org, &seed::fresh_slug("n")).await;
    let other = seed::stored_guardrail_pool(store.as_ref(), org, &seed::fresh_slug("o")).await;
    let key = keyed(org, GUARDRAIL_FN, "nothing", "f4");
    // The slug it has: nothing written, nothing recorded.
    let same = store
        .update_guardrail_pool_recorded(
            org,
            pool.id,
            &reslug(&pool.slug),
            &Precondition::Any,
            now(),
            &key,
        )
        .await
        .unwrap();
    assert_eq!(same, Written::Applied(pool.clone()));
    // A taken slug, a stale If-Match, another organization's pool: errors, nothing recorded.
    let taken = store
        .update_guardrail_pool_recorded(
            org,
            pool.id,
            &reslug(&other.slug),
            &Precondition::Any,
            now(),
            &key,
        )
        .await;
    assert!(matches!(taken, Err(StoreError::SlugTaken)), "{taken:?}");
    let stale = store
        .update_guardrail_pool_recorded(
            org,
            pool.id,
            &rename("Late"),
            &versions(&[pool.version + 5]),
            now(),
            &key,
        )
        .await;
    assert!(
        matches!(stale, Err(StoreError::PreconditionFailed)),
        "{stale:?}"
    );
    let foreign = store
        .update_guardrail_pool_recorded(
            OrgId::new_v4(),
            pool.id,
            &rename("Theirs"),
            &Precondition::Any,
            now(),
            &keyed(OrgId::new_v4(), GUARDRAIL_FN, "nothing", "f4"),
        )
        .await;
    assert!(matches!(foreign, Err(StoreError::NotFound)), "{foreign:?}");
    assert_eq!(
        store.find_idempotency_record(&key, now()).await.unwrap(),
        None
    );
    assert_eq!(store.get_guardrail_pool(org, pool.id).await.unwrap(), pool);
    // The key is still free: its first write applies.
    let later = store
        .update_guardrail_pool_recorded(
            org,
            pool.id,
            &rename("Now"),
            &Precondition::Any,
            now(),
            &key,
        )
        .await
        .unwrap();
    assert!(
        matches!(later, Written::Applied(ref p) if p.version == pool.version + 1),
        "{later:?}"
    );
}

pub async fn an_expired_record_is_as_absent(store: AnyStore) {
    let org = OrgId::new_v4();
    let before = seed::stored_contact_pool(store.as_ref(), org).await;
    let key = keyed(org, CONTACT_FN, "expiring", "f5");
    let patch = ContactPoolPatch {
        is_active: Some(false),
        ..Default::default()
    };
    store
        .update_contact_pool_recorded(org, before.id, &patch, &Precondition::Any, now(), &key)
        .await
        .unwrap();
    let almost = Timestamp::from_unix(now().unix() + RECORD_TTL_SECS - 1).unwrap();
    let day_later = Timestamp::from_unix(now().unix() + RECORD_TTL_SECS).unwrap();
    assert!(store
        .find_idempotency_record(&key, almost)
        .await
        .unwrap()
        .is_some());
    assert_eq!(
        store
            .find_idempotency_record(&key, day_later)
            .await
            .unwrap(),
        None
    );
    let again = store
        .update_contact_pool_recorded(org, before.id, &patch, &Precondition::Any, day_later, &key)
        .await
        .unwrap();
    assert!(
        matches!(again, Written::Applied(ref p) if p.version == before.version + 2),
        "after 24 hours the key is free: {again:?}"
    );
    let record = store
        .find_idempotency_record(&key, day_later)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.version, before.version + 2);
}

pub async fn records_are_scoped_by_organization_and_function(store: AnyStore) {
    let (org1, org2) = (OrgId::new_v4(), OrgId::new_v4());
    let p1 = seed::stored_contact_pool(store.as_ref(), org1).await;
    let p2 = seed::stored_contact_pool(store.as_ref(), org2).await;
    let g1 = seed::stored_guardrail_pool(store.as_ref(), org1, &seed::fresh_slug("g")).await;
    let patch = ContactPoolPatch {
        max_retries: Some(MaxRetries::new(2).unwrap()),
        ..Default::default()
    };
    for (org, id) in [(org1, p1.id), (org2, p2.id)] {
        let w = store
            .update_contact_pool_recorded(
                org,
                id,
                &patch,
                &Precondition::Any,
                now(),
                &keyed(org, CONTACT_FN, "shared", "f6"),
            )
            .await
            .unwrap();
        assert!(matches!(w, Written::Applied(_)), "{w:?}");
    }
    let w = store
        .update_guardrail_pool_recorded(
            org1,
            g1.id,
            &rename("Shared key"),
            &Precondition::Any,
            now(),
            &keyed(org1, GUARDRAIL_FN, "shared", "f6"),
        )
        .await
        .unwrap();
    assert!(matches!(w, Written::Applied(_)), "{w:?}");
}
