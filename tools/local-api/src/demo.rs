//! The project's one set of demo data: one organization with keys of every scope combination
//! and pools of both kinds, a second organization whose pools the demo keys cannot see, and curl
//! commands that show the answers a caller meets first.
//!
//! The ids and keys are fixed so the README can show them, and the same everywhere: the
//! in-memory store of a `local-api` started without `TABLE_NAME` (`make run`), the DynamoDB
//! Local table of `make run-dynamodb` and of `sam local` (seeded by `pool-tests`'
//! `seed_demo` example), and the example events in `events/` (`pool_tests::demo`). The demo
//! keys are public: never seed them into a deployed table.

use std::fmt::Write;

use endpoints::Function;
use shared::auth::{SCOPE_ORG_ADMIN_WRITE, SCOPE_POOLS_WRITE};
use shared::clock::Timestamp;
use shared::domain::api_key::{ApiKeyRecord, KeyHash, KeyStatus};
use shared::domain::contact_pool::{
    ContactPool, Description, MaxParallelItems, MaxRetries, PoolName, PoolType,
};
use shared::domain::guardrail_pool::{GuardrailName, GuardrailPool, Slug};
use shared::domain::ids::{BrandId, OrgId, PoolId};
use shared::store::{StoreAdmin, StoreError};
use uuid::uuid;

pub const ORG_ID: OrgId = OrgId::from_uuid(uuid!("11111111-1111-4111-8111-111111111111"));
/// Another organization: its pools are "not found" to every demo key.
pub const OTHER_ORG_ID: OrgId = OrgId::from_uuid(uuid!("22222222-2222-4222-8222-222222222222"));
pub const BRAND_ID: BrandId = BrandId::from_uuid(uuid!("b0000000-0000-4000-8000-000000000001"));

pub const WARM_LEADS: PoolId = PoolId::from_uuid(uuid!("c0000000-0000-4000-8000-000000000001"));
pub const NIGHT_SHIFT: PoolId = PoolId::from_uuid(uuid!("c0000000-0000-4000-8000-000000000002"));
pub const OTHER_ORG_CONTACT_POOL: PoolId =
    PoolId::from_uuid(uuid!("c0000000-0000-4000-8000-000000000099"));
pub const OUTBOUND_US: PoolId = PoolId::from_uuid(uuid!("a0000000-0000-4000-8000-000000000001"));
pub const OUTBOUND_EU: PoolId = PoolId::from_uuid(uuid!("a0000000-0000-4000-8000-000000000002"));
pub const OTHER_ORG_GUARDRAIL_POOL: PoolId =
    PoolId::from_uuid(uuid!("a0000000-0000-4000-8000-000000000099"));

/// A demo API key of the demo organization.
#[derive(Debug, Clone, Copy)]
pub struct DemoKey {
    pub key: &'static str,
    pub key_id: &'static str,
    pub scopes: &'static [&'static str],
}

pub const KEY_POOLS_WRITE: DemoKey = DemoKey {
    key: "am_live_demoPoolsWrite000000000000000000",
    key_id: "key_demo_pools_write",
    scopes: &[SCOPE_POOLS_WRITE],
};
pub const KEY_ORG_ADMIN_WRITE: DemoKey = DemoKey {
    key: "am_live_demoOrgAdminWrite000000000000000",
    key_id: "key_demo_org_admin_write",
    scopes: &[SCOPE_ORG_ADMIN_WRITE],
};
pub const KEY_BOTH: DemoKey = DemoKey {
    key: "am_live_demoBothScopes000000000000000000",
    key_id: "key_demo_both_scopes",
    scopes: &[SCOPE_POOLS_WRITE, SCOPE_ORG_ADMIN_WRITE],
};
pub const KEY_NO_SCOPES: DemoKey = DemoKey {
    key: "am_live_demoNoScopes00000000000000000000",
    key_id: "key_demo_no_scopes",
    scopes: &[],
};
pub const KEYS: [DemoKey; 4] = [
    KEY_POOLS_WRITE,
    KEY_ORG_ADMIN_WRITE,
    KEY_BOTH,
    KEY_NO_SCOPES,
];

/// The demo's contact pools. Their fields go through the API's own checks, like any pool's.
pub fn contact_pools(now: Timestamp) -> Result<Vec<ContactPool>, String> {
    let pool = |id, org_id, name: &str, description: Option<&str>, pool_type, contacts| {
        Ok::<_, String>(ContactPool {
            id,
            org_id,
            name: PoolName::parse(name)?,
            description: description.map(Description::parse).transpose()?,
            pool_type,
            max_parallel_items: MaxParallelItems::new(10)?,
            max_retries: MaxRetries::new(3)?,
            is_active: true,
            contacts_count: contacts,
            created_at: now,
            updated_at: now,
            version: 1,
        })
    };
    [
        pool(
            WARM_LEADS,
            ORG_ID,
            "Warm leads",
            Some("From the autumn campaign"),
            PoolType::Fifo,
            42,
        ),
        pool(
            NIGHT_SHIFT,
            ORG_ID,
            "Night shift",
            None,
            PoolType::Parallel,
            7,
        ),
        pool(
            OTHER_ORG_CONTACT_POOL,
            OTHER_ORG_ID,
            "Someone else's pool",
            None,
            PoolType::Lifo,
            3,
        ),
    ]
    .into_iter()
    .collect()
}

/// The demo's guardrail pools, checked like [`contact_pools`].
pub fn guardrail_pools(now: Timestamp) -> Result<Vec<GuardrailPool>, String> {
    let pool = |id, org_id, name: &str, slug: &str| {
        Ok::<_, String>(GuardrailPool {
            id,
            org_id,
            brand_id: BRAND_ID,
            name: GuardrailName::parse(name)?,
            slug: Slug::parse(slug)?,
            created_at: now,
            updated_at: now,
            version: 1,
        })
    };
    [
        pool(OUTBOUND_US, ORG_ID, "Outbound US", "outbound-us"),
        pool(OUTBOUND_EU, ORG_ID, "Outbound EU", "outbound-eu"),
        // The same slug in another organization: slugs are unique per organization only.
        pool(
            OTHER_ORG_GUARDRAIL_POOL,
            OTHER_ORG_ID,
            "Theirs",
            "outbound-us",
        ),
    ]
    .into_iter()
    .collect()
}

/// Stores the demo keys and pools. What is already there (a table seeded before) is left as it
/// is, so seeding twice is fine.
pub async fn seed(store: &dyn StoreAdmin, now: Timestamp) -> Result<(), StoreError> {
    let existing_is_fine = |r: Result<(), StoreError>| match r {
        Err(StoreError::AlreadyExists) => Ok(()),
        other => other,
    };
    for k in KEYS {
        let record = ApiKeyRecord {
            key_id: k.key_id.into(),
            org_id: ORG_ID,
            scopes: k.scopes.iter().map(|s| s.to_string()).collect(),
            status: KeyStatus::Active,
            expires_at: None,
        };
        existing_is_fine(store.create_api_key(&KeyHash::of(k.key), &record).await)?;
    }
    let bad_demo = |e: String| StoreError::Internal(format!("demo data: {e}").into());
    for p in contact_pools(now).map_err(bad_demo)? {
        existing_is_fine(store.create_contact_pool(&p).await)?;
    }
    for p in guardrail_pools(now).map_err(bad_demo)? {
        match store.create_guardrail_pool(&p).await {
            // Seeded before: the pool (or one renamed to its slug) holds the slug already.
            Err(StoreError::SlugTaken) => {}
            other => existing_is_fine(other)?,
        }
    }
    Ok(())
}

/// One request worth trying, and the status it gets. Each gets the same status however many
/// times it is repeated (none changes a slug another one relies on).
#[derive(Debug, Clone)]
pub struct Example {
    pub status: u16,
    pub what: &'static str,
    pub method: &'static str,
    pub path: String,
    pub key: Option<&'static str>,
    pub if_match: Option<&'static str>,
    pub idempotency_key: Option<&'static str>,
    pub body: Option<&'static str>,
}

impl Example {
    /// A command to paste into a shell: `curl -i`, so the status and headers show.
    pub fn curl(&self, base_url: &str) -> String {
        let mut c = format!("curl -i -X {} {base_url}{}", self.method, self.path);
        if let Some(k) = self.key {
            let _ = write!(c, " -H 'Authorization: Bearer {k}'");
        }
        if let Some(v) = self.if_match {
            let _ = write!(c, " -H 'If-Match: \"{v}\"'");
        }
        if let Some(k) = self.idempotency_key {
            let _ = write!(c, " -H 'Idempotency-Key: {k}'");
        }
        if let Some(b) = self.body {
            let _ = write!(c, " -H 'Content-Type: application/json' -d '{b}'");
        }
        c
    }
}

pub fn examples() -> Vec<Example> {
    let contact = |id: PoolId| format!("{}{id}", Function::UpdateContactPool.route().prefix);
    let guardrail = |id: PoolId| format!("{}{id}", Function::PatchGuardrailPool.route().prefix);
    let ex = |status, what, method, path, key: Option<DemoKey>, body| Example {
        status,
        what,
        method,
        path,
        key: key.map(|k| k.key),
        if_match: None,
        idempotency_key: None,
        body,
    };
    vec![
        ex(
            200,
            "update a contact pool (key with pools:write)",
            "PUT",
            contact(WARM_LEADS),
            Some(KEY_POOLS_WRITE),
            Some(
                r#"{"name": "Warm leads (EU)", "type": "Parallel", "max_parallel_items": 20, "max_retries": 5}"#,
            ),
        ),
        ex(
            200,
            "rename a guardrail pool (key with org:admin:write)",
            "PATCH",
            guardrail(OUTBOUND_US),
            Some(KEY_ORG_ADMIN_WRITE),
            Some(r#"{"name": "Outbound United States"}"#),
        ),
        ex(
            200,
            "change a guardrail pool's slug (key with both scopes)",
            "PATCH",
            guardrail(OUTBOUND_EU),
            Some(KEY_BOTH),
            Some(r#"{"slug": "outbound-europe"}"#),
        ),
        ex(
            401,
            "no API key",
            "PUT",
            contact(WARM_LEADS),
            None,
            Some(r#"{"max_retries": 5}"#),
        ),
        ex(
            403,
            "a key without the endpoint's scope",
            "PUT",
            contact(WARM_LEADS),
            Some(KEY_NO_SCOPES),
            Some(r#"{"max_retries": 5}"#),
        ),
        ex(
            404,
            "a pool of another organization",
            "PUT",
            contact(OTHER_ORG_CONTACT_POOL),
            Some(KEY_POOLS_WRITE),
            Some(r#"{"max_retries": 5}"#),
        ),
        ex(
            409,
            "a slug another pool of the organization holds",
            "PATCH",
            guardrail(OUTBOUND_EU),
            Some(KEY_ORG_ADMIN_WRITE),
            Some(r#"{"slug": "outbound-us"}"#),
        ),
        Example {
            if_match: Some("0"),
            ..ex(
                412,
                "If-Match with a version the pool no longer has",
                "PUT",
                contact(NIGHT_SHIFT),
                Some(KEY_POOLS_WRITE),
                Some(r#"{"is_active": false}"#),
            )
        },
        Example {
            idempotency_key: Some("demo-retry-1"),
            ..ex(
                200,
                "a retry with the same Idempotency-Key replays the first answer (Idempotent-Replayed: true)",
                "PUT",
                contact(NIGHT_SHIFT),
                Some(KEY_POOLS_WRITE),
                Some(r#"{"max_retries": 7}"#),
            )
        },
        ex(
            422,
            "invalid fields, all reported at once",
            "PUT",
            contact(NIGHT_SHIFT),
            Some(KEY_POOLS_WRITE),
            Some(r#"{"name": "x", "type": "Random", "max_parallel_items": 0}"#),
        ),
    ]
}

/// What the embedded default prints before it listens: a line saying so, then [`listing`].
pub fn banner(base_url: &str) -> String {
    format!(
        "local-api: embedded in-memory store with demo data (gone when it stops; set TABLE_NAME to use DynamoDB)\n{}",
        listing(base_url)
    )
}

/// The data, the keys with their scopes, and the examples as curl commands against
/// `base_url`, each under a `# <status>: <what>` line (also printed by `make run-dynamodb`).
pub fn listing(base_url: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "\norganization {ORG_ID}");
    let _ = writeln!(out, "  API keys (Authorization: Bearer <key>):");
    for k in KEYS {
        let scopes = if k.scopes.is_empty() {
            "(no scopes)".to_owned()
        } else {
            k.scopes.join(" ")
        };
        let _ = writeln!(out, "    {}  {scopes}", k.key);
    }
    let _ = writeln!(out, "  contact pools (PUT {base_url}/api/v1/pools/<uuid>):");
    for id in [WARM_LEADS, NIGHT_SHIFT] {
        let _ = writeln!(out, "    {id}");
    }
    let _ = writeln!(
        out,
        "  guardrail pools (PATCH {base_url}/v1/guardrails/pools/<id>):"
    );
    for (id, slug) in [(OUTBOUND_US, "outbound-us"), (OUTBOUND_EU, "outbound-eu")] {
        let _ = writeln!(out, "    {id}  slug {slug}");
    }
    let _ = writeln!(
        out,
        "organization {OTHER_ORG_ID} (not found to the keys above)"
    );
    let _ = writeln!(out, "    contact pool {OTHER_ORG_CONTACT_POOL}");
    let _ = writeln!(
        out,
        "    guardrail pool {OTHER_ORG_GUARDRAIL_POOL}  slug outbound-us"
    );
    let _ = writeln!(out, "\ntry:");
    for e in examples() {
        let _ = writeln!(out, "# {}: {}", e.status, e.what);
        let _ = writeln!(out, "{}", e.curl(base_url));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::auth::KEY_PREFIX;

    #[test]
    fn demo_keys_have_the_shape_of_issued_keys_and_differ() {
        for k in KEYS {
            let rest = k.key.strip_prefix(KEY_PREFIX).expect(k.key);
            assert!(rest.len() >= 32, "{}", k.key);
            assert!(rest.bytes().all(|b| b.is_ascii_alphanumeric()), "{}", k.key);
        }
        let distinct: std::collections::BTreeSet<_> = KEYS.iter().map(|k| k.key).collect();
        assert_eq!(distinct.len(), KEYS.len());
    }
}
