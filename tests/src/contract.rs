//! The store contract: every case runs against the in-memory and the DynamoDB adapter
//! (`store_contract!` in `tests/store/`), so the two cannot drift.

use std::sync::Arc;

use shared::clock::Timestamp;
use shared::domain::api_key::{KeyHash, KeyStatus};
use shared::domain::contact_pool::{
    ContactPoolPatch, Description, MaxParallelItems, MaxRetries, PoolName, PoolType,
};
use shared::domain::guardrail_pool::{GuardrailName, GuardrailPoolPatch, Slug};
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
            contact_get_is_scoped_to_the_organization,
            keys_are_found_by_hash_and_revoked_by_id,
            guardrail_rename_is_one_write_and_keeps_the_slug,
            guardrail_slug_change_moves_the_claim,
            guardrail_taken_slug_is_refused_whole,
            guardrail_same_slug_writes_nothing,
            guardrail_released_slug_is_free_at_once,
            guardrail_slugs_are_per_organization,
            guardrail_foreign_pool_is_not_found_and_unchanged,
            guardrail_slug_change_honours_if_match,
            guardrail_create_refuses_a_taken_slug
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
        contact_pools: Vec::new(),
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
