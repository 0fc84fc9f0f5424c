//! Expressions: update and condition expressions assembled from fixed fragments and fixed
//! attribute names (`#name`); every value travels as an expression attribute value (`:value`).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};

use super::errors::internal;
use super::items::{n, s, Item};
use crate::clock::Timestamp;
use crate::domain::contact_pool::ContactPoolPatch;
use crate::domain::guardrail_pool::{GuardrailName, Slug};
use crate::domain::ids::OrgId;
use crate::store::{Precondition, StoreError};

/// DynamoDB's limit on the operands of `IN` (a [`Precondition`] never holds more).
pub(super) const MAX_IF_MATCH_VERSIONS: usize = crate::store::MAX_IF_MATCH_TAGS;

/// The condition of a create: the key is free.
pub(super) const IF_ABSENT: &str = "attribute_not_exists(#pk)";

/// The condition of a write to an existing item (a key's revocation).
pub(super) const IF_EXISTS: &str = "attribute_exists(#pk)";

/// The condition of a slug change's release of the old claim: the claim is this pool's, or it
/// is missing (a pool whose claim went missing can still move, and the move repairs the index);
/// a claim held by another pool is never deleted.
pub(super) const IF_CLAIM_OURS_OR_MISSING: &str =
    "attribute_not_exists(#pk) OR #pool_id = :pool_id";

/// A key's revocation; `:revoked` is the status.
pub(super) const REVOKE: &str = "SET #status = :revoked";

/// The pool attributes that keep recent write tokens, one string set per time window (DESIGN.md,
/// "Applied at most once").
pub(super) const WRITE_TOKEN_BUCKETS: [&str; 4] = ["wt0", "wt1", "wt2", "wt3"];

/// A write-token window, in seconds. A token outlives its write by at least one window, and every
/// write lands within one window of its request's time (the 8 s request budget). 11 s rather
/// than 10 s so that the 44 s cycle of the buckets is no divisor of any calendar period (a job
/// every hour or day does not keep landing in the same bucket, which would then never be
/// removed).
pub(super) const WRITE_TOKEN_WINDOW_SECS: i64 = 11;

/// An `UpdateExpression` with its attribute names and values. Names are the fixed attribute
/// names of this module; values are only ever placeholders.
#[derive(Default, Clone)]
pub(super) struct Expr {
    pub(super) names: HashMap<String, String>,
    pub(super) values: HashMap<String, AttributeValue>,
    sets: Vec<String>,
    removes: Vec<String>,
    adds: Vec<String>,
}

impl Expr {
    fn name(&mut self, attr: &'static str) -> String {
        let p = format!("#{attr}");
        self.names.insert(p.clone(), attr.to_owned());
        p
    }

    fn value(&mut self, placeholder: String, v: AttributeValue) -> String {
        self.values.insert(placeholder.clone(), v);
        placeholder
    }

    pub(super) fn set(&mut self, attr: &'static str, v: AttributeValue) {
        let n = self.name(attr);
        let val = self.value(format!(":{attr}"), v);
        self.sets.push(format!("{n} = {val}"));
    }

    pub(super) fn remove(&mut self, attr: &'static str) {
        let n = self.name(attr);
        self.removes.push(n);
    }

    fn add(&mut self, attr: &'static str, placeholder: &str, v: AttributeValue) {
        let n = self.name(attr);
        let val = self.value(placeholder.to_owned(), v);
        self.adds.push(format!("{n} {val}"));
    }

    pub(super) fn bump_version(&mut self) {
        let n = self.name("version");
        let one = self.value(":one".into(), AttributeValue::N("1".into()));
        self.sets.push(format!("{n} = {n} + {one}"));
    }

    pub(super) fn update_expression(&self) -> String {
        let mut s = format!("SET {}", self.sets.join(", "));
        if !self.removes.is_empty() {
            s.push_str(" REMOVE ");
            s.push_str(&self.removes.join(", "));
        }
        if !self.adds.is_empty() {
            s.push_str(" ADD ");
            s.push_str(&self.adds.join(", "));
        }
        s
    }
}

/// The write-token bucket of a request made at `now`: its window's number, modulo the buckets.
pub(super) fn token_bucket(now: Timestamp) -> usize {
    let window = now.unix().div_euclid(WRITE_TOKEN_WINDOW_SECS);
    window.rem_euclid(WRITE_TOKEN_BUCKETS.len() as i64) as usize
}

/// Marks a pool update with its write `token` (DESIGN.md, "Applied at most once"): adds it to
/// the bucket of `now`'s window and to `last_write`, and removes the bucket two windows away
/// (the one neither this window nor either neighbour uses). Returns the condition that the token
/// is in no bucket, i.e. that this write was not applied already.
pub(super) fn write_token(e: &mut Expr, token: &str, now: Timestamp) -> String {
    let bucket = token_bucket(now);
    let n = WRITE_TOKEN_BUCKETS.len();
    let t = e.value(":wt".into(), s(token));
    let last = e.name("last_write");
    e.sets.push(format!("{last} = {t}"));
    e.remove(WRITE_TOKEN_BUCKETS[(bucket + n / 2) % n]);
    e.add(
        WRITE_TOKEN_BUCKETS[bucket],
        ":wts",
        AttributeValue::Ss(vec![token.to_owned()]),
    );
    WRITE_TOKEN_BUCKETS
        .iter()
        .map(|&b| format!("NOT contains({}, {t})", e.name(b)))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// `attribute_exists(pk) AND org_id = :org [AND version IN (...)]`.
pub(super) fn owner_condition(e: &mut Expr, org_id: OrgId, pre: &Precondition) -> String {
    let pk = e.name("pk");
    let org = e.name("org_id");
    let org_v = e.value(":org_id".into(), s(org_id.to_string()));
    let mut c = format!("attribute_exists({pk}) AND {org} = {org_v}");
    if let Precondition::Versions(versions) = pre {
        let v = e.name("version");
        let mut list: Vec<String> = versions
            .iter()
            .take(MAX_IF_MATCH_VERSIONS)
            .enumerate()
            .map(|(i, ver)| e.value(format!(":v{i}"), n(*ver)))
            .collect();
        if list.is_empty() {
            // No admissible version: a value no item has, so the condition fails as a 412.
            list.push(e.value(":v0".into(), AttributeValue::N("-1".into())));
        }
        c.push_str(&format!(" AND {v} IN ({})", list.join(", ")));
    }
    c
}

/// The condition of a pool update `e` applied at most once, with its write token added to `e`
/// ([`write_token`]): the [`owner_condition`], and the token in no bucket.
pub(super) fn once_condition(
    e: &mut Expr,
    org_id: OrgId,
    pre: &Precondition,
    token: &str,
    now: Timestamp,
) -> String {
    let not_applied = write_token(e, token, now);
    format!("{} AND {not_applied}", owner_condition(e, org_id, pre))
}

/// A contact pool's patch as an update: the fields it names (a cleared description is
/// removed), `updated_at`, and the version bumped.
pub(super) fn contact_pool_update(patch: &ContactPoolPatch, now: Timestamp) -> Expr {
    let mut e = Expr::default();
    if let Some(n) = &patch.name {
        e.set("name", s(n.as_str()));
    }
    match &patch.description {
        Some(Some(d)) => e.set("description", s(d.as_str())),
        Some(None) => e.remove("description"),
        None => {}
    }
    if let Some(t) = patch.pool_type {
        e.set("type", s(t.as_str()));
    }
    if let Some(m) = patch.max_parallel_items {
        e.set("max_parallel_items", n(m.get()));
    }
    if let Some(m) = patch.max_retries {
        e.set("max_retries", n(m.get()));
    }
    if let Some(a) = patch.is_active {
        e.set("is_active", AttributeValue::Bool(a));
    }
    e.set("updated_at", s(now.to_string()));
    e.bump_version();
    e
}

/// A guardrail pool's rename: the name, `updated_at`, and the version bumped.
pub(super) fn rename(name: &GuardrailName, now: Timestamp) -> Expr {
    let mut e = Expr::default();
    e.set("name", s(name.as_str()));
    e.set("updated_at", s(now.to_string()));
    e.bump_version();
    e
}

/// A guardrail pool's slug change (with a rename if `new_name`): the pool's side of it.
pub(super) fn slug_change(
    new_slug: &Slug,
    new_name: Option<&GuardrailName>,
    now: Timestamp,
) -> Expr {
    let mut e = Expr::default();
    e.set("slug", s(new_slug.as_str()));
    if let Some(name) = new_name {
        e.set("name", s(name.as_str()));
    }
    e.set("updated_at", s(now.to_string()));
    e.bump_version();
    e
}

/// A transaction action that creates `item` only if its key is free.
pub(super) fn put_if_absent(table: &str, item: Item) -> Result<TransactWriteItem, StoreError> {
    Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression(IF_ABSENT)
        .expression_attribute_names("#pk", "pk")
        .build()
        .map(|p| TransactWriteItem::builder().put(p).build())
        .map_err(internal)
}
