//! Unit tests of the adapter's pure parts, without DynamoDB: item mapping, expression strings,
//! the transactions' actions, and the reading of cancellation reasons. The store's behaviour
//! against a table is the contract suite's (`tests/` crate).

use std::collections::{BTreeSet, HashMap};

use aws_sdk_dynamodb::types::{AttributeValue, CancellationReason, TransactWriteItem};

use super::admin::{create_guardrail_actions, create_key_actions};
use super::errors::{
    holds_token, update_failure, Cancellation, CreateGuardrail, CreateKey, Reason, SlugChange,
    TxAction,
};
use super::expr::{
    self, once_condition, owner_condition, token_bucket, write_token, Expr, MAX_IF_MATCH_VERSIONS,
    WRITE_TOKEN_WINDOW_SECS,
};
use super::items::*;
use super::store::slug_change_actions;
use crate::clock::Timestamp;
use crate::domain::api_key::{ApiKeyRecord, KeyHash, KeyStatus};
use crate::domain::contact_pool::{
    ContactPool, ContactPoolPatch, Description, MaxParallelItems, MaxRetries, PoolName, PoolType,
};
use crate::domain::guardrail_pool::{GuardrailName, GuardrailPool, Slug};
use crate::domain::ids::{BrandId, OrgId, PoolId};
use crate::store::{Precondition, SlugClaim, StoreError};

const TABLE: &str = "pools";

fn at(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

fn org() -> OrgId {
    OrgId::parse("11111111-1111-4111-8111-111111111111").unwrap()
}

fn pool_id() -> PoolId {
    PoolId::parse("22222222-2222-4222-8222-222222222222").unwrap()
}

fn slug(s: &str) -> Slug {
    Slug::parse(s).unwrap()
}

fn gname(s: &str) -> GuardrailName {
    GuardrailName::parse(s).unwrap()
}

fn key_record(expires_at: Option<Timestamp>) -> ApiKeyRecord {
    ApiKeyRecord {
        key_id: "key_01".into(),
        org_id: org(),
        scopes: BTreeSet::from(["contact_pools:write".into(), "guardrail_pools:write".into()]),
        status: KeyStatus::Active,
        expires_at,
    }
}

fn contact_pool(description: Option<&str>) -> ContactPool {
    ContactPool {
        id: pool_id(),
        org_id: org(),
        name: PoolName::parse("Pool").unwrap(),
        description: description.map(|d| Description::parse(d).unwrap()),
        pool_type: PoolType::Lifo,
        max_parallel_items: MaxParallelItems::new(7).unwrap(),
        max_retries: MaxRetries::new(3).unwrap(),
        is_active: true,
        contacts_count: 42,
        created_at: at("2026-01-02T03:04:05Z"),
        updated_at: at("2026-02-03T04:05:06Z"),
        version: 9,
    }
}

fn guardrail() -> GuardrailPool {
    GuardrailPool {
        id: pool_id(),
        org_id: org(),
        brand_id: BrandId::parse("33333333-3333-4333-8333-333333333333").unwrap(),
        name: gname("Guard"),
        slug: slug("old-slug"),
        created_at: at("2026-01-02T03:04:05Z"),
        updated_at: at("2026-02-03T04:05:06Z"),
        version: 4,
    }
}

fn str_attr<'a>(item: &'a Item, k: &str) -> &'a str {
    item[k].as_s().unwrap()
}

fn names(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

// ---- items -------------------------------------------------------------------------------

#[test]
fn an_api_key_record_round_trips_with_and_without_expiry() {
    for expires_at in [None, Some(at("2027-05-06T07:08:09Z"))] {
        let record = key_record(expires_at);
        let item = api_key_item(&record);
        assert_eq!(api_key_from_item(&item).unwrap(), record);
        assert_eq!(str_attr(&item, "kind"), "api_key");
        assert_eq!(item.contains_key("expires_at"), expires_at.is_some());
        assert_eq!(
            item["scopes"],
            AttributeValue::L(vec![
                AttributeValue::S("contact_pools:write".into()),
                AttributeValue::S("guardrail_pools:write".into()),
            ])
        );
    }
}

#[test]
fn an_api_key_is_stored_under_its_hash_with_a_pointer_from_its_id() {
    let hash = KeyHash::from_hex("ab12".into());
    let record = key_record(None);
    let item = api_key_record_item(&hash, &record);
    assert_eq!(str_attr(&item, "pk"), "APIKEY#ab12");
    assert_eq!(str_attr(&item, "kind"), "api_key");
    assert_eq!(api_key_from_item(&item).unwrap(), record);
    let pointer = api_key_pointer_item(&hash, &record.key_id);
    assert_eq!(str_attr(&pointer, "pk"), "APIKEYID#key_01");
    assert_eq!(str_attr(&pointer, "kind"), "api_key_id");
    assert_eq!(str_attr(&pointer, "key_hash"), "ab12");
    assert_eq!(pointer.len(), 3);
}

#[test]
fn a_contact_pool_round_trips_with_and_without_description() {
    for description in [None, Some("line one\nline two")] {
        let pool = contact_pool(description);
        let item = contact_pool_item(&pool);
        assert_eq!(contact_pool_from_item(&item).unwrap(), pool);
        assert_eq!(str_attr(&item, "pk"), format!("CONTACTPOOL#{}", pool_id()));
        assert_eq!(str_attr(&item, "kind"), "contact_pool");
        assert_eq!(item.contains_key("description"), description.is_some());
    }
}

#[test]
fn a_null_description_reads_as_none() {
    let mut item = contact_pool_item(&contact_pool(Some("d")));
    item.insert("description".into(), AttributeValue::Null(true));
    assert_eq!(contact_pool_from_item(&item).unwrap().description, None);
}

#[test]
fn a_guardrail_pool_round_trips() {
    let pool = guardrail();
    let item = guardrail_item(&pool);
    assert_eq!(guardrail_from_item(&item).unwrap(), pool);
    assert_eq!(
        str_attr(&item, "pk"),
        format!("GUARDRAILPOOL#{}", pool_id())
    );
    assert_eq!(str_attr(&item, "kind"), "guardrail_pool");
}

#[test]
fn a_slug_claim_round_trips() {
    let item = claim_item(org(), &slug("my-slug"), pool_id());
    let claim = SlugClaim {
        org_id: org(),
        slug: slug("my-slug"),
        pool_id: pool_id(),
    };
    assert_eq!(claim_from_item(&item).unwrap(), claim);
    assert_eq!(str_attr(&item, "pk"), format!("SLUG#{}#my-slug", org()));
    assert_eq!(str_attr(&item, "kind"), "slug_claim");
}

/// An item kind: a good item, its decoder, the attributes the decoder requires, and those it
/// reads only when they are there.
struct Kind {
    name: &'static str,
    item: Item,
    decode: fn(&Item) -> Result<(), StoreError>,
    required: Vec<&'static str>,
    optional: Vec<&'static str>,
}

fn kinds() -> Vec<Kind> {
    vec![
        Kind {
            name: "api key",
            item: api_key_item(&key_record(Some(at("2027-05-06T07:08:09Z")))),
            decode: |i| api_key_from_item(i).map(drop),
            required: vec!["key_id", "org_id", "status"],
            optional: vec!["expires_at"],
        },
        Kind {
            name: "contact pool",
            item: contact_pool_item(&contact_pool(Some("d"))),
            decode: |i| contact_pool_from_item(i).map(drop),
            required: vec![
                "id",
                "org_id",
                "name",
                "type",
                "max_parallel_items",
                "max_retries",
                "is_active",
                "contacts_count",
                "created_at",
                "updated_at",
                "version",
            ],
            optional: vec!["description"],
        },
        Kind {
            name: "guardrail pool",
            item: guardrail_item(&guardrail()),
            decode: |i| guardrail_from_item(i).map(drop),
            required: vec![
                "id",
                "org_id",
                "brand_id",
                "name",
                "slug",
                "created_at",
                "updated_at",
                "version",
            ],
            optional: vec![],
        },
        Kind {
            name: "slug claim",
            item: claim_item(org(), &slug("s"), pool_id()),
            decode: |i| claim_from_item(i).map(drop),
            required: vec!["org_id", "slug", "pool_id"],
            optional: vec![],
        },
    ]
}

#[test]
fn an_item_missing_a_required_attribute_is_an_internal_error() {
    for k in kinds() {
        assert!((k.decode)(&k.item).is_ok(), "{}", k.name);
        for attr in k.required {
            let mut broken = k.item.clone();
            broken.remove(attr);
            assert!(
                matches!((k.decode)(&broken), Err(StoreError::Internal(_))),
                "{} without {attr}",
                k.name
            );
        }
    }
}

#[test]
fn an_item_with_a_wrongly_typed_attribute_is_an_internal_error() {
    for k in kinds() {
        for attr in k.required.into_iter().chain(k.optional) {
            let mut broken = k.item.clone();
            let wrong = match &k.item[attr] {
                AttributeValue::Bool(_) => AttributeValue::S("true".into()),
                AttributeValue::N(v) => AttributeValue::S(v.clone()),
                _ => AttributeValue::N("1".into()),
            };
            broken.insert(attr.into(), wrong);
            assert!(
                matches!((k.decode)(&broken), Err(StoreError::Internal(_))),
                "{} with a wrongly typed {attr}",
                k.name
            );
        }
    }
}

#[test]
fn an_item_with_an_unparsable_value_is_an_internal_error() {
    let pool = contact_pool(None);
    for (attr, value) in [
        ("max_parallel_items", AttributeValue::N("300".into())),
        ("version", AttributeValue::N("-1".into())),
        ("type", AttributeValue::S("STACK".into())),
        ("id", AttributeValue::S("not-a-uuid".into())),
        ("created_at", AttributeValue::S("yesterday".into())),
    ] {
        let mut item = contact_pool_item(&pool);
        item.insert(attr.into(), value);
        assert!(
            matches!(contact_pool_from_item(&item), Err(StoreError::Internal(_))),
            "{attr}"
        );
    }
    let mut key = api_key_item(&key_record(None));
    key.insert("status".into(), AttributeValue::S("paused".into()));
    assert!(matches!(
        api_key_from_item(&key),
        Err(StoreError::Internal(_))
    ));
}

// ---- expressions -------------------------------------------------------------------------

#[test]
fn a_full_contact_pool_patch_sets_every_field_in_a_fixed_order() {
    let patch = ContactPoolPatch {
        name: Some(PoolName::parse("New").unwrap()),
        description: Some(Some(Description::parse("desc").unwrap())),
        pool_type: Some(PoolType::Fifo),
        max_parallel_items: Some(MaxParallelItems::new(5).unwrap()),
        max_retries: Some(MaxRetries::new(2).unwrap()),
        is_active: Some(false),
    };
    let e = expr::contact_pool_update(&patch, at("2026-03-04T05:06:07Z"));
    assert_eq!(
        e.update_expression(),
        "SET #name = :name, #description = :description, #type = :type, \
         #max_parallel_items = :max_parallel_items, #max_retries = :max_retries, \
         #is_active = :is_active, #updated_at = :updated_at, #version = #version + :one"
    );
    assert_eq!(
        e.names,
        names(&[
            ("#name", "name"),
            ("#description", "description"),
            ("#type", "type"),
            ("#max_parallel_items", "max_parallel_items"),
            ("#max_retries", "max_retries"),
            ("#is_active", "is_active"),
            ("#updated_at", "updated_at"),
            ("#version", "version"),
        ])
    );
    let s = |v: &str| AttributeValue::S(v.into());
    let n = |v: &str| AttributeValue::N(v.into());
    assert_eq!(
        e.values,
        HashMap::from([
            (":name".to_owned(), s("New")),
            (":description".to_owned(), s("desc")),
            (":type".to_owned(), s("FIFO")),
            (":max_parallel_items".to_owned(), n("5")),
            (":max_retries".to_owned(), n("2")),
            (":is_active".to_owned(), AttributeValue::Bool(false)),
            (":updated_at".to_owned(), s("2026-03-04T05:06:07Z")),
            (":one".to_owned(), n("1")),
        ])
    );
}

#[test]
fn a_cleared_description_is_removed() {
    let patch = ContactPoolPatch {
        description: Some(None),
        ..ContactPoolPatch::default()
    };
    let e = expr::contact_pool_update(&patch, at("2026-03-04T05:06:07Z"));
    assert_eq!(
        e.update_expression(),
        "SET #updated_at = :updated_at, #version = #version + :one REMOVE #description"
    );
    assert_eq!(e.names["#description"], "description");
    assert!(!e.values.contains_key(":description"));
}

#[test]
fn a_rename_sets_the_name_time_and_version() {
    let e = expr::rename(&gname("Renamed"), at("2026-03-04T05:06:07Z"));
    assert_eq!(
        e.update_expression(),
        "SET #name = :name, #updated_at = :updated_at, #version = #version + :one"
    );
    assert_eq!(e.values[":name"], AttributeValue::S("Renamed".into()));
}

#[test]
fn the_owner_condition_without_if_match_checks_existence_and_organization() {
    let mut e = Expr::default();
    let c = owner_condition(&mut e, org(), &Precondition::Any);
    assert_eq!(c, "attribute_exists(#pk) AND #org_id = :org_id");
    assert_eq!(e.names, names(&[("#pk", "pk"), ("#org_id", "org_id")]));
    assert_eq!(
        e.values,
        HashMap::from([(":org_id".to_owned(), AttributeValue::S(org().to_string()))])
    );
}

#[test]
fn the_owner_condition_admits_the_if_match_versions() {
    let mut e = Expr::default();
    let c = owner_condition(&mut e, org(), &Precondition::Versions(vec![3, 5]));
    assert_eq!(
        c,
        "attribute_exists(#pk) AND #org_id = :org_id AND #version IN (:v0, :v1)"
    );
    assert_eq!(e.names["#version"], "version");
    assert_eq!(e.values[":v0"], AttributeValue::N("3".into()));
    assert_eq!(e.values[":v1"], AttributeValue::N("5".into()));
    assert_eq!(e.values.len(), 3);
}

#[test]
fn an_empty_version_list_admits_no_version() {
    let mut e = Expr::default();
    let c = owner_condition(&mut e, org(), &Precondition::Versions(vec![]));
    assert_eq!(
        c,
        "attribute_exists(#pk) AND #org_id = :org_id AND #version IN (:v0)"
    );
    assert_eq!(e.values[":v0"], AttributeValue::N("-1".into()));
}

#[test]
fn more_than_a_hundred_versions_are_capped_at_dynamodbs_in_limit() {
    let mut e = Expr::default();
    let versions: Vec<u64> = (0..150).collect();
    let c = owner_condition(&mut e, org(), &Precondition::Versions(versions));
    let list: Vec<String> = (0..MAX_IF_MATCH_VERSIONS)
        .map(|i| format!(":v{i}"))
        .collect();
    assert_eq!(MAX_IF_MATCH_VERSIONS, 100);
    assert_eq!(
        c,
        format!(
            "attribute_exists(#pk) AND #org_id = :org_id AND #version IN ({})",
            list.join(", ")
        )
    );
    assert_eq!(e.values[":v99"], AttributeValue::N("99".into()));
    assert!(!e.values.contains_key(":v100"));
    assert_eq!(e.values.len(), 101);
}

// ---- write tokens (applied at most once) -------------------------------------------------

const TOKEN: &str = "0123456789abcdef0123456789abcdef";

/// 2026-03-04T05:06:07Z is 3 s into window 161_145_524 (× 11 s), bucket 0.
fn in_bucket_0() -> Timestamp {
    at("2026-03-04T05:06:07Z")
}

#[test]
fn the_bucket_is_the_window_number_modulo_four() {
    let t = in_bucket_0().unix();
    assert_eq!(t.div_euclid(WRITE_TOKEN_WINDOW_SECS), 161_145_524);
    assert_eq!(t.rem_euclid(WRITE_TOKEN_WINDOW_SECS), 3);
    assert_eq!(token_bucket(in_bucket_0()), 0);
    let window_start = t - 3;
    for (offset, bucket) in [(0, 0), (10, 0), (11, 1), (22, 2), (33, 3), (44, 0), (-1, 3)] {
        let now = Timestamp::from_unix(window_start + offset).unwrap();
        assert_eq!(token_bucket(now), bucket, "{offset}");
    }
    assert_eq!(token_bucket(Timestamp::from_unix(-1).unwrap()), 3);
}

#[test]
fn a_full_contact_pool_update_carries_its_write_token() {
    let patch = ContactPoolPatch {
        name: Some(PoolName::parse("New").unwrap()),
        description: Some(Some(Description::parse("desc").unwrap())),
        pool_type: Some(PoolType::Fifo),
        max_parallel_items: Some(MaxParallelItems::new(5).unwrap()),
        max_retries: Some(MaxRetries::new(2).unwrap()),
        is_active: Some(false),
    };
    let mut e = expr::contact_pool_update(&patch, in_bucket_0());
    let condition = once_condition(
        &mut e,
        org(),
        &Precondition::Versions(vec![9]),
        TOKEN,
        in_bucket_0(),
    );
    assert_eq!(
        e.update_expression(),
        "SET #name = :name, #description = :description, #type = :type, \
         #max_parallel_items = :max_parallel_items, #max_retries = :max_retries, \
         #is_active = :is_active, #updated_at = :updated_at, #version = #version + :one, \
         #last_write = :wt REMOVE #wt2 ADD #wt0 :wts"
    );
    assert_eq!(
        condition,
        "attribute_exists(#pk) AND #org_id = :org_id AND #version IN (:v0) AND \
         NOT contains(#wt0, :wt) AND NOT contains(#wt1, :wt) AND \
         NOT contains(#wt2, :wt) AND NOT contains(#wt3, :wt)"
    );
    for b in ["wt0", "wt1", "wt2", "wt3", "last_write"] {
        assert_eq!(e.names[&format!("#{b}")], b);
    }
    assert_eq!(e.values[":wt"], AttributeValue::S(TOKEN.into()));
    assert_eq!(e.values[":wts"], AttributeValue::Ss(vec![TOKEN.into()]));
    // The patch's 8, the token as a value and as a set, the organization and the version.
    assert_eq!(e.values.len(), 8 + 2 + 2);
}

#[test]
fn a_cleared_description_is_removed_with_the_oldest_bucket() {
    let patch = ContactPoolPatch {
        description: Some(None),
        ..ContactPoolPatch::default()
    };
    let mut e = expr::contact_pool_update(&patch, in_bucket_0());
    write_token(&mut e, TOKEN, in_bucket_0());
    assert_eq!(
        e.update_expression(),
        "SET #updated_at = :updated_at, #version = #version + :one, #last_write = :wt \
         REMOVE #description, #wt2 ADD #wt0 :wts"
    );
}

#[test]
fn each_bucket_removes_the_one_two_windows_away() {
    let start = in_bucket_0().unix() - in_bucket_0().unix().rem_euclid(WRITE_TOKEN_WINDOW_SECS);
    for (windows, add, remove) in [(0, 0, 2), (1, 1, 3), (2, 2, 0), (3, 3, 1)] {
        let now = Timestamp::from_unix(start + windows * WRITE_TOKEN_WINDOW_SECS).unwrap();
        let mut e = expr::rename(&gname("Renamed"), now);
        write_token(&mut e, TOKEN, now);
        assert_eq!(
            e.update_expression(),
            format!(
                "SET #name = :name, #updated_at = :updated_at, #version = #version + :one, \
                 #last_write = :wt REMOVE #wt{remove} ADD #wt{add} :wts"
            )
        );
    }
}

fn with_tokens(mut item: Item, buckets: &[(&str, &[&str])]) -> Item {
    for (b, tokens) in buckets {
        item.insert(
            b.to_string(),
            AttributeValue::Ss(tokens.iter().map(|t| t.to_string()).collect()),
        );
    }
    item
}

#[test]
fn the_write_token_is_found_in_any_bucket() {
    let pool = contact_pool_item(&contact_pool(None));
    assert!(!holds_token(&pool, TOKEN));
    for b in ["wt0", "wt1", "wt2", "wt3"] {
        let item = with_tokens(pool.clone(), &[(b, &["other", TOKEN])]);
        assert!(holds_token(&item, TOKEN), "{b}");
        assert!(!holds_token(&item, "another"), "{b}");
    }
    // last_write alone is not a bucket.
    let mut item = pool.clone();
    item.insert("last_write".into(), AttributeValue::S(TOKEN.into()));
    assert!(!holds_token(&item, TOKEN));
}

#[test]
fn a_failed_condition_with_the_token_in_the_item_is_this_write_applied() {
    let old = with_tokens(contact_pool_item(&contact_pool(None)), &[("wt2", &[TOKEN])]);
    for pre in [Precondition::Any, Precondition::Versions(vec![8])] {
        assert_eq!(update_failure(Some(&old), TOKEN, org(), &pre).unwrap(), old);
    }
}

#[test]
fn a_failed_condition_without_the_token_is_classified_as_before() {
    let pool = contact_pool(None);
    let old = with_tokens(contact_pool_item(&pool), &[("wt2", &["someone-else"])]);
    let other_org = OrgId::parse("44444444-4444-4444-8444-444444444444").unwrap();
    let cases = [
        (None, org(), Precondition::Any, "NotFound"),
        (Some(&old), other_org, Precondition::Any, "NotFound"),
        (
            Some(&old),
            other_org,
            Precondition::Versions(vec![9]),
            "NotFound",
        ),
        (
            Some(&old),
            org(),
            Precondition::Versions(vec![8]),
            "PreconditionFailed",
        ),
        (Some(&old), org(), Precondition::Any, "Conflict"),
    ];
    for (item, org_id, pre, expected) in cases {
        let got = match update_failure(item, TOKEN, org_id, &pre) {
            Ok(_) => "Ok",
            Err(StoreError::NotFound) => "NotFound",
            Err(StoreError::PreconditionFailed) => "PreconditionFailed",
            Err(StoreError::Conflict) => "Conflict",
            Err(_) => "other",
        };
        assert_eq!(got, expected, "{org_id} {pre:?}");
    }
}

#[test]
fn pools_read_the_same_with_write_tokens() {
    let tokens: &[(&str, &[&str])] = &[("wt0", &[TOKEN]), ("wt1", &["a", "b"])];
    let pool = contact_pool(Some("d"));
    let mut item = with_tokens(contact_pool_item(&pool), tokens);
    item.insert("last_write".into(), AttributeValue::S(TOKEN.into()));
    assert_eq!(contact_pool_from_item(&item).unwrap(), pool);
    let pool = guardrail();
    let mut item = with_tokens(guardrail_item(&pool), tokens);
    item.insert("last_write".into(), AttributeValue::S(TOKEN.into()));
    assert_eq!(guardrail_from_item(&item).unwrap(), pool);
}

// ---- transactions ------------------------------------------------------------------------

fn position_matches_order<A: TxAction + std::fmt::Debug>() {
    for (i, a) in A::ORDER.iter().enumerate() {
        assert_eq!(a.position(), i, "{a:?}");
    }
}

#[test]
fn each_named_action_stands_at_its_position() {
    position_matches_order::<SlugChange>();
    position_matches_order::<CreateGuardrail>();
    position_matches_order::<CreateKey>();
    assert_eq!(SlugChange::ORDER.len(), 3);
    assert_eq!(CreateGuardrail::ORDER.len(), 2);
    assert_eq!(CreateKey::ORDER.len(), 2);
}

#[test]
fn a_slug_change_updates_the_pool_puts_the_new_claim_and_deletes_the_old() {
    let pool = guardrail();
    let now = at("2026-03-04T05:06:07Z");
    let actions = slug_change_actions(
        TABLE,
        &pool,
        &slug("new-slug"),
        Some(&gname("New name")),
        now,
    )
    .unwrap();
    assert_eq!(actions.len(), SlugChange::ORDER.len());

    let update = actions[SlugChange::Pool as usize].update().unwrap();
    assert!(actions[SlugChange::Pool as usize].put().is_none());
    assert_eq!(update.table_name(), TABLE);
    assert_eq!(
        update.key(),
        &HashMap::from([(
            "pk".to_owned(),
            AttributeValue::S(format!("GUARDRAILPOOL#{}", pool_id()))
        )])
    );
    assert_eq!(
        update.update_expression(),
        "SET #slug = :slug, #name = :name, #updated_at = :updated_at, #version = #version + :one"
    );
    assert_eq!(
        update.condition_expression(),
        Some("attribute_exists(#pk) AND #org_id = :org_id AND #version IN (:v0)")
    );
    assert_eq!(
        update.expression_attribute_names(),
        Some(&names(&[
            ("#slug", "slug"),
            ("#name", "name"),
            ("#updated_at", "updated_at"),
            ("#version", "version"),
            ("#pk", "pk"),
            ("#org_id", "org_id"),
        ]))
    );
    let values = update.expression_attribute_values().unwrap();
    assert_eq!(values[":v0"], AttributeValue::N("4".into()));
    assert_eq!(values[":slug"], AttributeValue::S("new-slug".into()));
    assert_eq!(values[":org_id"], AttributeValue::S(org().to_string()));

    let put = actions[SlugChange::NewClaim as usize].put().unwrap();
    assert_eq!(put.table_name(), TABLE);
    assert_eq!(put.item(), &claim_item(org(), &slug("new-slug"), pool_id()));
    assert_eq!(
        put.condition_expression(),
        Some("attribute_not_exists(#pk)")
    );
    assert_eq!(
        put.expression_attribute_names(),
        Some(&names(&[("#pk", "pk")]))
    );

    let delete = actions[SlugChange::OldClaim as usize].delete().unwrap();
    assert_eq!(delete.table_name(), TABLE);
    assert_eq!(
        delete.key(),
        &HashMap::from([(
            "pk".to_owned(),
            AttributeValue::S(format!("SLUG#{}#old-slug", org()))
        )])
    );
    assert_eq!(
        delete.condition_expression(),
        Some("attribute_not_exists(#pk) OR #pool_id = :pool_id")
    );
    assert_eq!(
        delete.expression_attribute_names(),
        Some(&names(&[("#pk", "pk"), ("#pool_id", "pool_id")]))
    );
    assert_eq!(
        delete.expression_attribute_values(),
        Some(&HashMap::from([(
            ":pool_id".to_owned(),
            AttributeValue::S(pool_id().to_string())
        )]))
    );
}

#[test]
fn a_slug_change_without_a_name_leaves_the_name_alone() {
    let actions = slug_change_actions(
        TABLE,
        &guardrail(),
        &slug("new-slug"),
        None,
        at("2026-03-04T05:06:07Z"),
    )
    .unwrap();
    let update = actions[SlugChange::Pool as usize].update().unwrap();
    assert_eq!(
        update.update_expression(),
        "SET #slug = :slug, #updated_at = :updated_at, #version = #version + :one"
    );
    assert!(!update
        .expression_attribute_names()
        .unwrap()
        .contains_key("#name"));
}

fn put_pk(action: &TransactWriteItem) -> &str {
    let put = action.put().unwrap();
    assert_eq!(
        put.condition_expression(),
        Some("attribute_not_exists(#pk)")
    );
    put.item()["pk"].as_s().unwrap()
}

#[test]
fn a_guardrail_pool_is_created_with_its_claim() {
    let pool = guardrail();
    let actions = create_guardrail_actions(TABLE, &pool).unwrap();
    assert_eq!(actions.len(), 2);
    assert_eq!(
        put_pk(&actions[CreateGuardrail::Pool as usize]),
        format!("GUARDRAILPOOL#{}", pool_id())
    );
    assert_eq!(
        put_pk(&actions[CreateGuardrail::Claim as usize]),
        format!("SLUG#{}#old-slug", org())
    );
}

#[test]
fn an_api_key_is_created_with_its_pointer() {
    let hash = KeyHash::from_hex("ab12".into());
    let actions = create_key_actions(TABLE, &hash, &key_record(None)).unwrap();
    assert_eq!(actions.len(), 2);
    assert_eq!(put_pk(&actions[CreateKey::Record as usize]), "APIKEY#ab12");
    assert_eq!(
        put_pk(&actions[CreateKey::Pointer as usize]),
        "APIKEYID#key_01"
    );
}

// ---- cancellation reasons ----------------------------------------------------------------

fn cancellation(codes: &[Option<&str>]) -> Cancellation {
    let reasons: Vec<CancellationReason> = codes
        .iter()
        .map(|c| {
            CancellationReason::builder()
                .set_code(c.map(str::to_owned))
                .build()
        })
        .collect();
    Cancellation::from_reasons(&reasons)
}

#[test]
fn cancellation_reasons_belong_to_the_actions_in_order() {
    let c = cancellation(&[Some("None"), Some("ConditionalCheckFailed"), Some("None")]);
    assert!(!c.failed(SlugChange::Pool));
    assert!(c.failed(SlugChange::NewClaim));
    assert!(!c.failed(SlugChange::OldClaim));

    let c = cancellation(&[
        Some("TransactionConflict"),
        Some("None"),
        Some("ConditionalCheckFailed"),
    ]);
    assert_eq!(c.reason(SlugChange::Pool), &Reason::TransactionConflict);
    assert_eq!(c.reason(SlugChange::NewClaim), &Reason::None);
    assert!(c.failed(SlugChange::OldClaim));

    let c = cancellation(&[Some("ConditionalCheckFailed"), Some("None")]);
    assert!(c.failed(CreateGuardrail::Pool));
    assert!(!c.failed(CreateGuardrail::Claim));
    assert!(c.failed(CreateKey::Record));
    assert!(!c.failed(CreateKey::Pointer));
}

#[test]
fn every_reason_code_is_named() {
    for (code, reason) in [
        (Some("None"), Reason::None),
        (None, Reason::None),
        (
            Some("ConditionalCheckFailed"),
            Reason::ConditionalCheckFailed,
        ),
        (Some("TransactionConflict"), Reason::TransactionConflict),
        (Some("ThrottlingError"), Reason::ThrottlingError),
        (
            Some("ProvisionedThroughputExceeded"),
            Reason::ProvisionedThroughputExceeded,
        ),
        (Some("ValidationError"), Reason::ValidationError),
        (
            Some("ItemCollectionSizeLimitExceeded"),
            Reason::Other("ItemCollectionSizeLimitExceeded".into()),
        ),
    ] {
        let c = cancellation(&[code]);
        assert_eq!(c.reason(CreateKey::Record), &reason, "{code:?}");
        assert_eq!(c.codes(), vec![code.unwrap_or("None")]);
    }
}

#[test]
fn an_action_without_a_reason_did_not_fail() {
    let c = cancellation(&[Some("TransactionConflict")]);
    assert_eq!(c.reason(SlugChange::NewClaim), &Reason::None);
    assert!(!c.failed(SlugChange::OldClaim));
    assert_eq!(
        Cancellation::default().reason(SlugChange::Pool),
        &Reason::None
    );
}

#[test]
fn throttling_in_a_cancellation_is_unavailable_and_a_validation_error_internal() {
    let c = |codes: &[&str]| {
        let reasons: Vec<CancellationReason> = codes
            .iter()
            .map(|code| CancellationReason::builder().code(*code).build())
            .collect();
        Cancellation::from_reasons(&reasons)
    };
    for throttled in [
        ["None", "ThrottlingError", "None"],
        ["ProvisionedThroughputExceeded", "None", "None"],
        ["ConditionalCheckFailed", "None", "ThrottlingError"],
    ] {
        assert!(
            matches!(
                c(&throttled).store_error(),
                Some(StoreError::Unavailable(_))
            ),
            "{throttled:?}"
        );
    }
    for refused in [
        ["None", "ValidationError", "None"],
        ["ItemCollectionSizeLimitExceeded", "None", "None"],
    ] {
        assert!(
            matches!(c(&refused).store_error(), Some(StoreError::Internal(_))),
            "{refused:?}"
        );
    }
    for about_the_items in [
        ["None", "TransactionConflict", "None"],
        ["ConditionalCheckFailed", "None", "None"],
        ["None", "ConditionalCheckFailed", "None"],
        ["None", "None", "None"],
    ] {
        assert!(
            c(&about_the_items).store_error().is_none(),
            "{about_the_items:?}"
        );
    }
}
