//! One endpoint under test, whichever it is: its route and handler, its key's scope, how to seed
//! and read back its pool, and its dialect's error assert ([`Endpoint`], for [`Contact`] and
//! [`Guardrail`]); an organization with a key and one pool on either store ([`Env`], run on every
//! store and gateway by [`Env::each`]); and the tests that are the same for every endpoint, with
//! the codes and messages of its dialect as arguments.

use std::fmt::Debug;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::Arc;

use endpoints::Function;
use lambda_http::{Body, Request, Response};
use serde_json::{json, Value};
use shared::auth::{SCOPE_ORG_ADMIN_WRITE, SCOPE_POOLS_WRITE};
use shared::clock::Timestamp;
use shared::domain::api_key::KeyStatus;
use shared::domain::contact_pool::ContactPool;
use shared::domain::guardrail_pool::GuardrailPool;
use shared::domain::ids::{OrgId, PoolId};
use shared::pipeline::{Route, Services};
use shared::store::faulty::{FailOn, Fault, FaultyStore};
use shared::store::memory::MemoryStore;
use shared::store::StoreAdmin;

use crate::events::{Call, Gateway, BOTH};
use crate::{assert_a_error, assert_m_error, backends, seed, store, Backend, Reply};

/// The handler of the function that serves `route`, for tests that take the route as data.
pub async fn handle(route: &Route, req: Request, svc: &Services) -> Response<Body> {
    let Some(f) = Function::for_path(route.prefix) else {
        panic!("no function serves {}", route.prefix)
    };
    f.handle(req, svc).await
}

/// What differs between the endpoints, for the fixture and the shared tests.
pub trait Endpoint: 'static {
    type Pool: Clone + Debug + PartialEq + Send + Sync;
    /// The function serving it: its route and handler.
    const FUNCTION: Function;
    /// The scope its keys are given (stated here, not read from the route, so that a route
    /// asking for another scope fails the tests).
    const SCOPE: &'static str;

    /// Stores a new pool of the organization.
    fn seed_pool(store: &dyn StoreAdmin, org: OrgId) -> impl Future<Output = Self::Pool> + Send;

    /// The stored pool.
    fn read_pool(
        store: &dyn StoreAdmin,
        org: OrgId,
        id: PoolId,
    ) -> impl Future<Output = Self::Pool> + Send;

    fn id(pool: &Self::Pool) -> PoolId;

    fn version(pool: &Self::Pool) -> u64;

    /// The dialect's error assert: [`assert_m_error`] or [`assert_a_error`].
    fn assert_error(r: &Reply, status: u16, code: &str, message: &str);
}

/// `PUT /api/v1/pools/{uuid}` (dialect M, scope `pools:write`).
pub struct Contact;

impl Endpoint for Contact {
    type Pool = ContactPool;
    const FUNCTION: Function = Function::UpdateContactPool;
    const SCOPE: &'static str = SCOPE_POOLS_WRITE;

    async fn seed_pool(store: &dyn StoreAdmin, org: OrgId) -> ContactPool {
        seed::stored_contact_pool(store, org).await
    }

    async fn read_pool(store: &dyn StoreAdmin, org: OrgId, id: PoolId) -> ContactPool {
        store.get_contact_pool(org, id).await.unwrap()
    }

    fn id(pool: &ContactPool) -> PoolId {
        pool.id
    }

    fn version(pool: &ContactPool) -> u64 {
        pool.version
    }

    fn assert_error(r: &Reply, status: u16, code: &str, message: &str) {
        assert_m_error(r, status, code, message);
    }
}

/// `PATCH /v1/guardrails/pools/{id}` (dialect A, scope `org:admin:write`).
pub struct Guardrail;

impl Endpoint for Guardrail {
    type Pool = GuardrailPool;
    const FUNCTION: Function = Function::PatchGuardrailPool;
    const SCOPE: &'static str = SCOPE_ORG_ADMIN_WRITE;

    async fn seed_pool(store: &dyn StoreAdmin, org: OrgId) -> GuardrailPool {
        seed::stored_guardrail_pool(store, org, &seed::fresh_slug("main")).await
    }

    async fn read_pool(store: &dyn StoreAdmin, org: OrgId, id: PoolId) -> GuardrailPool {
        store.get_guardrail_pool(org, id).await.unwrap()
    }

    fn id(pool: &GuardrailPool) -> PoolId {
        pool.id
    }

    fn version(pool: &GuardrailPool) -> u64 {
        pool.version
    }

    fn assert_error(r: &Reply, status: u16, code: &str, message: &str) {
        assert_a_error(r, status, code, message);
    }
}

/// A new organization on one store, with a key of the endpoint's scope, and the handler's
/// services on that store.
pub struct Tenant<E> {
    pub svc: Services,
    pub store: Arc<dyn StoreAdmin>,
    pub org: OrgId,
    pub key: String,
    endpoint: PhantomData<fn() -> E>,
}

impl<E: Endpoint> Tenant<E> {
    pub async fn new(b: Backend) -> Self {
        let store = store(b).await;
        let (org, key) = Self::org_with_key(store.as_ref()).await;
        Self::with(store, org, key)
    }

    /// A new organization and a key of it with the endpoint's scope, stored in `store`.
    async fn org_with_key(store: &dyn StoreAdmin) -> (OrgId, String) {
        let org = OrgId::new_v4();
        (org, seed::key(store, org, &[E::SCOPE]).await)
    }

    fn with(store: Arc<dyn StoreAdmin>, org: OrgId, key: String) -> Self {
        Self {
            svc: Services::new(store.clone()),
            store,
            org,
            key,
            endpoint: PhantomData,
        }
    }

    /// A call of the route on pool `id`, with the tenant's key.
    pub fn call_on(&self, id: PoolId) -> Call {
        Call::to(E::FUNCTION.route(), &id.to_string()).bearer(&self.key)
    }

    /// The handler's reply to `call`, as `gw` delivers it.
    pub async fn send(&self, call: &Call, gw: Gateway) -> Reply {
        Reply::from_response(E::FUNCTION.handle(call.request(gw), &self.svc).await)
    }

    /// A key of the organization with these scopes, revoked or expired as asked.
    pub async fn key_with(
        &self,
        scopes: &[&str],
        status: KeyStatus,
        expires_at: Option<Timestamp>,
    ) -> String {
        seed::key_with(self.store.as_ref(), self.org, scopes, status, expires_at).await
    }

    /// The pool `id` as stored.
    pub async fn read(&self, id: PoolId) -> E::Pool {
        E::read_pool(self.store.as_ref(), self.org, id).await
    }
}

/// A [`Tenant`] with one pool (its fields are the tenant's, through `Deref`).
pub struct Env<E: Endpoint> {
    tenant: Tenant<E>,
    pub pool: E::Pool,
}

impl<E: Endpoint> Deref for Env<E> {
    type Target = Tenant<E>;

    fn deref(&self) -> &Tenant<E> {
        &self.tenant
    }
}

impl<E: Endpoint> Env<E> {
    pub async fn new(b: Backend) -> Self {
        let tenant = Tenant::new(b).await;
        let pool = E::seed_pool(tenant.store.as_ref(), tenant.org).await;
        Self { tenant, pool }
    }

    /// On a store (in memory) that answers `on` with `fault`, seeded before it fails.
    pub async fn faulty(on: FailOn, fault: Fault) -> Self {
        let store = FaultyStore::new(MemoryStore::new(), on, fault);
        let (org, key) = Tenant::<E>::org_with_key(store.inner()).await;
        let pool = E::seed_pool(store.inner(), org).await;
        Self {
            tenant: Tenant::with(Arc::new(store), org, key),
            pool,
        }
    }

    /// Every combination of store and gateway, each on a new `Env`.
    pub async fn each(mut f: impl AsyncFnMut(&Self, Gateway)) {
        for b in backends() {
            for gw in BOTH {
                let e = Self::new(b).await;
                f(&e, gw).await;
            }
        }
    }

    /// A call of the route on the pool, with the tenant's key.
    pub fn call(&self) -> Call {
        self.call_on(E::id(&self.pool))
    }

    /// A call of the route on the pool, with no credentials.
    pub fn call_without_key(&self) -> Call {
        Call::to(E::FUNCTION.route(), &E::id(&self.pool).to_string())
    }

    /// The pool as stored now.
    pub async fn stored(&self) -> E::Pool {
        self.read(E::id(&self.pool)).await
    }

    /// A revoked key and an expired key of the organization, with the endpoint's scope.
    pub async fn revoked_and_expired_keys(&self) -> [String; 2] {
        let past = Timestamp::parse("2020-01-01T00:00:00Z");
        [
            self.key_with(&[E::SCOPE], KeyStatus::Revoked, None).await,
            self.key_with(&[E::SCOPE], KeyStatus::Active, past).await,
        ]
    }

    /// Each body as `application/json`, then none at all: 400 with the dialect's `code` and
    /// `message`, the pool unchanged. The replies to `bodies`, for the dialect's own checks.
    pub async fn assert_malformed_bodies_refused(
        &self,
        gw: Gateway,
        bodies: &[&[u8]],
        code: &str,
        message: &str,
    ) -> Vec<Reply> {
        let json = || self.call().header("Content-Type", "application/json");
        let mut replies = Vec::new();
        for body in bodies {
            let r = self.send(&json().raw_body(*body), gw).await;
            E::assert_error(&r, 400, code, message);
            replies.push(r);
        }
        E::assert_error(&self.send(&json(), gw).await, 400, code, message);
        assert_eq!(self.stored().await, self.pool);
        replies
    }

    /// Each call, with a valid body: 401 with the dialect's `code` and `message` and
    /// `WWW-Authenticate: Bearer`, the pool unchanged. The replies, for the dialect's own checks.
    pub async fn assert_unauthenticated(
        &self,
        gw: Gateway,
        calls: impl IntoIterator<Item = Call>,
        code: &str,
        message: &str,
    ) -> Vec<Reply> {
        let mut replies = Vec::new();
        for call in calls {
            let r = self.send(&call.json(&json!({"name": "Nope"})), gw).await;
            E::assert_error(&r, 401, code, message);
            assert_eq!(r.header("www-authenticate"), Some("Bearer"));
            replies.push(r);
        }
        assert_eq!(self.stored().await, self.pool);
        replies
    }

    /// `If-Match` with each stale tag and each body: 412 with the dialect's `message`, the pool
    /// unchanged; then with the pool's own version and `fresh`: 200.
    pub async fn assert_if_match_checked(
        &self,
        gw: Gateway,
        stale: &[String],
        bodies: &[Value],
        fresh: &Value,
        message: &str,
    ) {
        for tag in stale {
            for body in bodies {
                let r = self
                    .send(&self.call().header("If-Match", tag).json(body), gw)
                    .await;
                E::assert_error(&r, 412, "PRECONDITION_FAILED", message);
            }
        }
        assert_eq!(self.stored().await, self.pool);
        let current = format!("\"{}\"", E::version(&self.pool));
        let r = self
            .send(&self.call().header("If-Match", &current).json(fresh), gw)
            .await;
        assert_eq!(r.status, 200, "{r:?}");
    }
}

/// Every method but `allow`, on every store and gateway: 405 naming `allow`.
pub async fn other_methods_are_405_with_allow<E: Endpoint>(allow: &str, message: &str) {
    Env::<E>::each(async |e, gw| {
        for m in ["GET", "PUT", "POST", "PATCH", "DELETE"] {
            if m == allow {
                continue;
            }
            let r = e.send(&e.call().method(m).json(&json!({})), gw).await;
            E::assert_error(&r, 405, "METHOD_NOT_ALLOWED", message);
            assert_eq!(r.header("allow"), Some(allow));
        }
    })
    .await;
}

/// A valid key of the organization with only `scope` (not the endpoint's): 403, no change.
pub async fn a_key_without_the_scope_is_403<E: Endpoint>(scope: &str, code: &str, message: &str) {
    Env::<E>::each(async |e, gw| {
        let key = seed::key(e.store.as_ref(), e.org, &[scope]).await;
        let call = e
            .call_without_key()
            .bearer(&key)
            .json(&json!({"name": "Nope"}));
        let r = e.send(&call, gw).await;
        E::assert_error(&r, 403, code, message);
        assert_eq!(e.stored().await, e.pool);
    })
    .await;
}

/// A store that always reports contention: 409 on both gateways. The replies, for the
/// dialect's own checks.
pub async fn persistent_contention_is_409<E: Endpoint>(
    body: Value,
    code: &str,
    message: &str,
) -> Vec<Reply> {
    let mut replies = Vec::new();
    for gw in BOTH {
        let e = Env::<E>::faulty(FailOn::Pools, Fault::Conflict).await;
        let r = e.send(&e.call().json(&body), gw).await;
        E::assert_error(&r, 409, code, message);
        replies.push(r);
    }
    replies
}

/// Key lookups or pool operations failing unexpectedly: 500, the store's words not shown.
pub async fn an_unexpected_store_failure_is_500_without_detail<E: Endpoint>(
    bodies: &[Value],
    code: &str,
    message: &str,
) {
    for gw in BOTH {
        for on in [FailOn::Auth, FailOn::Pools] {
            let e = Env::<E>::faulty(on, Fault::Internal).await;
            for body in bodies {
                let r = e.send(&e.call().json(body), gw).await;
                E::assert_error(&r, 500, code, message);
                assert!(!r.body.to_string().contains("secret"), "{r:?}");
            }
        }
    }
}

/// Key lookups or pool operations unavailable: 503 with `Retry-After: 1`.
pub async fn an_unavailable_store_is_503_with_retry_after<E: Endpoint>(
    body: Value,
    code: &str,
    message: &str,
) {
    for gw in BOTH {
        for on in [FailOn::Auth, FailOn::Pools] {
            let e = Env::<E>::faulty(on, Fault::Unavailable).await;
            let r = e.send(&e.call().json(&body), gw).await;
            E::assert_error(&r, 503, code, message);
            assert_eq!(r.header("retry-after"), Some("1"));
        }
    }
}
