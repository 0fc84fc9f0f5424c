//! openapi.yaml against the handlers: a real response for every row of API.md's two error tables
//! and the 200s, fed as API Gateway HTTP API (v2) events, each checked against what the document
//! declares for that path, method and status (the status is declared, the declared headers are
//! there and valid, the body validates). And the other way round: every status the document
//! declares is produced here, every example matches its schema, the request schemas accept what
//! the handlers accept and refuse what they refuse, and a document that drifts fails.

use std::collections::BTreeSet;
use std::sync::{Arc, LazyLock};

use endpoints::Function;
use lambda_http::{Body, Request, Response};
use pool_tests::events::{Call, Gateway};
use pool_tests::openapi::OpenApi;
use pool_tests::{seed, Reply};
use serde_json::{json, Value};
use shared::auth::{SCOPE_ORG_ADMIN_WRITE, SCOPE_POOLS_WRITE};
use shared::domain::idempotency::IdempotencyKey;
use shared::domain::ids::{OrgId, PoolId};
use shared::pipeline::{Route, Services};
use shared::store::faulty::{FailOn, Fault, FaultyStore};
use shared::store::memory::MemoryStore;
use shared::store::StoreAdmin;
use uuid::Uuid;

static SPEC: LazyLock<OpenApi> = LazyLock::new(OpenApi::load);

const CONTACT_PATH: &str = "/api/v1/pools/{uuid}";
const GUARDRAIL_PATH: &str = "/v1/guardrails/pools/{id}";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Contact,
    Guardrail,
}

impl Endpoint {
    fn function(self) -> Function {
        match self {
            Self::Contact => Function::UpdateContactPool,
            Self::Guardrail => Function::PatchGuardrailPool,
        }
    }

    fn route(self) -> &'static Route {
        self.function().route()
    }

    fn path(self) -> String {
        self.function().path_template()
    }

    fn scope(self) -> &'static str {
        match self {
            Self::Contact => SCOPE_POOLS_WRITE,
            Self::Guardrail => SCOPE_ORG_ADMIN_WRITE,
        }
    }

    async fn handle(self, req: Request, svc: &Services) -> Response<Body> {
        self.function().handle(req, svc).await
    }

    fn other_methods(self) -> [&'static str; 4] {
        match self {
            Self::Contact => ["GET", "POST", "PATCH", "DELETE"],
            Self::Guardrail => ["GET", "POST", "PUT", "DELETE"],
        }
    }
}

/// A store seeded for one case: a key with the endpoint's scope, one without, one of another
/// organization, a pool, and (guardrail) a second pool whose slug is taken.
struct Env {
    endpoint: Endpoint,
    svc: Services,
    key: String,
    unscoped_key: String,
    foreign_key: String,
    pool_id: PoolId,
    version: u64,
    taken_slug: String,
}

impl Env {
    async fn new(endpoint: Endpoint, fault: Option<Fault>) -> Self {
        let inner = MemoryStore::new();
        let org = OrgId::new_v4();
        let key = seed::key(&inner, org, &[endpoint.scope()]).await;
        let unscoped_key = seed::key(&inner, org, &[]).await;
        let foreign_key = seed::key(&inner, OrgId::new_v4(), &[endpoint.scope()]).await;
        let (pool_id, version, taken_slug) = match endpoint {
            Endpoint::Contact => {
                let p = seed::stored_contact_pool(&inner, org).await;
                (p.id, p.version, String::new())
            }
            Endpoint::Guardrail => {
                let p = seed::stored_guardrail_pool(&inner, org, &seed::fresh_slug("main")).await;
                let other =
                    seed::stored_guardrail_pool(&inner, org, &seed::fresh_slug("other")).await;
                (p.id, p.version, other.slug.to_string())
            }
        };
        let store: Arc<dyn StoreAdmin> = match fault {
            None => Arc::new(inner),
            Some(f) => Arc::new(FaultyStore::new(inner, FailOn::Pools, f)),
        };
        Self {
            endpoint,
            svc: Services::new(store),
            key,
            unscoped_key,
            foreign_key,
            pool_id,
            version,
            taken_slug,
        }
    }

    /// The route's own method on the seeded pool, with the scoped key.
    fn call(&self) -> Call {
        self.call_on(&self.pool_id.to_string())
    }

    fn call_on(&self, id: &str) -> Call {
        Call::to(self.endpoint.route(), id).bearer(&self.key)
    }

    async fn send(&self, call: &Call) -> Reply {
        let resp = self
            .endpoint
            .handle(call.request(Gateway::HttpV2), &self.svc)
            .await;
        Reply::from_response(resp)
    }
}

/// Builds a case's request on its seeded store.
type MakeCall = Box<dyn Fn(&Env) -> Call + Send + Sync>;

/// One request that must get `status`, after `first` (if any) got a 200.
struct Case {
    label: String,
    endpoint: Endpoint,
    fault: Option<Fault>,
    status: u16,
    first: Option<MakeCall>,
    make: MakeCall,
}

impl Case {
    /// Seeds its store, sends `first` (which must get 200), then the request; its reply.
    async fn run(&self) -> Reply {
        let env = Env::new(self.endpoint, self.fault).await;
        if let Some(first) = &self.first {
            let reply = env.send(&first(&env)).await;
            assert_eq!(
                reply.status, 200,
                "{:?} {}: the first request: {reply:?}",
                self.endpoint, self.label
            );
        }
        env.send(&(self.make)(&env)).await
    }
}

fn case(
    endpoint: Endpoint,
    status: u16,
    label: &str,
    make: impl Fn(&Env) -> Call + Send + Sync + 'static,
) -> Case {
    Case {
        label: label.to_owned(),
        endpoint,
        fault: None,
        status,
        first: None,
        make: Box::new(make),
    }
}

/// A request with the `Idempotency-Key` of a first request that changed `body`.
fn after_keyed(
    endpoint: Endpoint,
    status: u16,
    label: &str,
    body: Value,
    make: impl Fn(&Env) -> Call + Send + Sync + 'static,
) -> Case {
    Case {
        first: Some(Box::new(move |e| {
            e.call().header(IDEMPOTENCY_KEY, KEY).json(&body)
        })),
        ..case(endpoint, status, label, make)
    }
}

const IDEMPOTENCY_KEY: &str = "Idempotency-Key";
/// Each case has its own store, so one key value serves them all.
const KEY: &str = "conformance-key-1";

fn faulty(endpoint: Endpoint, status: u16, label: &str, fault: Fault, body: Value) -> Case {
    Case {
        fault: Some(fault),
        ..case(endpoint, status, label, move |e| e.call().json(&body))
    }
}

/// The rows both endpoints share, then each endpoint's own.
fn cases() -> Vec<Case> {
    let mut all = Vec::new();
    for ep in [Endpoint::Contact, Endpoint::Guardrail] {
        all.extend([
            case(ep, 200, "{} returns the pool", |e| {
                e.call().json(&json!({}))
            }),
            case(ep, 400, "malformed JSON", |e| {
                e.call()
                    .header("Content-Type", "application/json")
                    .raw_body("{")
            }),
            case(ep, 400, "empty body", |e| {
                e.call().header("Content-Type", "application/json")
            }),
            case(ep, 401, "no Authorization header", |e| {
                Call::to(e.endpoint.route(), &e.pool_id.to_string()).json(&json!({}))
            }),
            case(ep, 401, "unknown key", |e| {
                Call::to(e.endpoint.route(), &e.pool_id.to_string())
                    .bearer("am_live_00000000000000000000000000000000")
                    .json(&json!({}))
            }),
            case(ep, 403, "key without the scope", |e| {
                Call::to(e.endpoint.route(), &e.pool_id.to_string())
                    .bearer(&e.unscoped_key)
                    .json(&json!({}))
            }),
            case(ep, 404, "unknown pool", |e| {
                e.call_on(&PoolId::new_v4().to_string()).json(&json!({}))
            }),
            case(ep, 404, "id that is not a UUID", |e| {
                e.call_on("not-a-uuid").json(&json!({}))
            }),
            case(ep, 404, "pool of another organization", |e| {
                Call::to(e.endpoint.route(), &e.pool_id.to_string())
                    .bearer(&e.foreign_key)
                    .json(&json!({}))
            }),
            case(ep, 412, "stale If-Match", |e| {
                e.call()
                    .header("If-Match", &format!("\"{}\"", e.version + 1))
                    .json(&json!({}))
            }),
            case(ep, 413, "body over 64 KiB", |e| {
                e.call().json(&json!({"name": "x".repeat(70_000)}))
            }),
            case(ep, 415, "text/plain body", |e| {
                e.call().header("Content-Type", "text/plain").raw_body("{}")
            }),
            faulty(
                ep,
                500,
                "store failure",
                Fault::Internal,
                json!({"name": "Boom"}),
            ),
            faulty(
                ep,
                503,
                "store unavailable",
                Fault::Unavailable,
                json!({"name": "Later"}),
            ),
        ]);
        let first = json!({"name": "Named once"});
        all.extend([
            case(ep, 400, "malformed Idempotency-Key", |e| {
                e.call()
                    .header(IDEMPOTENCY_KEY, "a,b")
                    .json(&json!({"name": "Not applied"}))
            }),
            after_keyed(ep, 200, "replay with Idempotency-Key", first.clone(), |e| {
                e.call()
                    .header(IDEMPOTENCY_KEY, KEY)
                    .json(&json!({"name": "Named once"}))
            }),
            after_keyed(
                ep,
                422,
                "Idempotency-Key reused with another body",
                first,
                |e| {
                    e.call()
                        .header(IDEMPOTENCY_KEY, KEY)
                        .json(&json!({"name": "Named twice"}))
                },
            ),
        ]);
        for m in ep.other_methods() {
            all.push(case(ep, 405, m, move |e| {
                e.call().method(m).json(&json!({}))
            }));
        }
    }
    let c = Endpoint::Contact;
    all.extend([
        case(c, 200, "every field", |e| {
            e.call()
                .json(&json!({"name": "  Gold leads ", "description": "VIP",
                "type": "Parallel", "max_parallel_items": 20, "max_retries": 5,
                "is_active": false}))
        }),
        case(c, 200, "null description clears it", |e| {
            e.call().json(&json!({"description": null}))
        }),
        case(c, 400, "duplicate key", |e| {
            e.call()
                .header("Content-Type", "application/json")
                .raw_body(r#"{"name":"abc","name":"abd"}"#)
        }),
        case(c, 422, "every field invalid, and read-only ones", |e| {
            e.call()
                .json(&json!({"name": "ab", "description": 7, "type": "fifo",
                "max_parallel_items": 101, "max_retries": -1, "is_active": "yes",
                "uuid": "x", "contacts_count": 0}))
        }),
        faulty(
            c,
            409,
            "contention past the retries",
            Fault::Conflict,
            json!({"name": "Busy"}),
        ),
    ]);
    let g = Endpoint::Guardrail;
    all.extend([
        case(g, 200, "rename", |e| {
            e.call().json(&json!({"name": "Outbound numbers (EU)"}))
        }),
        case(g, 200, "slug change", |e| {
            e.call().json(&json!({"slug": seed::fresh_slug("new")}))
        }),
        case(g, 400, "brand_id is immutable", |e| {
            e.call().json(&json!({"brand_id": Uuid::new_v4()}))
        }),
        case(g, 400, "unsupported field", |e| {
            e.call()
                .json(&json!({"org_id": Uuid::new_v4(), "name": "x"}))
        }),
        case(g, 409, "slug held by another pool", |e| {
            e.call()
                .json(&json!({"slug": e.taken_slug, "name": "Not applied"}))
        }),
        faulty(
            g,
            409,
            "contention past the retries",
            Fault::Conflict,
            json!({"slug": "busy"}),
        ),
        case(g, 422, "invalid name and slug", |e| {
            e.call().json(&json!({"name": "   ", "slug": "Not A Slug"}))
        }),
    ]);
    all
}

/// Runs every case; returns, per case, its reply or why it did not get its status.
async fn run_cases() -> Vec<(Case, Reply)> {
    let mut out = Vec::new();
    for c in cases() {
        let reply = c.run().await;
        assert_eq!(
            reply.status, c.status,
            "{:?} {}: expected {}, got {reply:?}",
            c.endpoint, c.label, c.status
        );
        out.push((c, reply));
    }
    out
}

fn method_of(c: &Case, env_route: &Route) -> String {
    // The label of a 405 case is its method; every other case uses the route's own.
    if c.status == 405 {
        c.label.clone()
    } else {
        env_route.method.as_str().to_owned()
    }
}

#[tokio::test]
async fn every_response_conforms_to_what_openapi_declares() {
    let mut failures = Vec::new();
    for (c, reply) in run_cases().await {
        let method = method_of(&c, c.endpoint.route());
        if let Err(e) = SPEC.check(&c.endpoint.path(), &method, &reply) {
            failures.push(format!(
                "{method} {} ({}, {}):\n  {e}\n  reply: {reply:?}",
                c.endpoint.path(),
                c.status,
                c.label
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

/// The header is optional in the document, so the check above passes without it: a replay must
/// carry it, and nothing else may.
#[tokio::test]
async fn only_replays_carry_idempotent_replayed() {
    let mut replays = 0;
    for (c, reply) in run_cases().await {
        let replayed = reply.header("idempotent-replayed");
        if c.label == "replay with Idempotency-Key" {
            replays += 1;
            assert_eq!(replayed, Some("true"), "{:?} {}", c.endpoint, c.label);
        } else {
            assert_eq!(replayed, None, "{:?} {}", c.endpoint, c.label);
        }
    }
    assert_eq!(replays, 2);
}

#[tokio::test]
async fn every_status_openapi_declares_is_produced_by_a_handler() {
    let produced: BTreeSet<(String, String, u16)> = run_cases()
        .await
        .iter()
        .map(|(c, r)| {
            (
                c.endpoint.path(),
                method_of(c, c.endpoint.route()).to_ascii_lowercase(),
                r.status,
            )
        })
        .collect();
    let mut declared = BTreeSet::new();
    let paths = SPEC.doc()["paths"].as_object().expect("paths");
    assert_eq!(
        paths.keys().collect::<BTreeSet<_>>(),
        BTreeSet::from([&CONTACT_PATH.to_owned(), &GUARDRAIL_PATH.to_owned()]),
        "openapi.yaml documents exactly the two routes"
    );
    for (path, item) in paths {
        for method in [
            "get", "put", "post", "delete", "options", "head", "patch", "trace",
        ] {
            if item.get(method).is_none() {
                continue;
            }
            for status in SPEC.statuses(path, method) {
                if !SPEC.answered_by_gateway(path, method, status) {
                    declared.insert((path.clone(), method.to_owned(), status));
                }
            }
        }
    }
    let never: Vec<_> = declared.difference(&produced).collect();
    assert!(never.is_empty(), "declared, never produced: {never:?}");
    let undeclared: Vec<_> = produced.difference(&declared).collect();
    assert!(
        undeclared.is_empty(),
        "produced, not declared: {undeclared:?}"
    );
}

#[test]
fn every_example_matches_its_schema() {
    let examples = SPEC.examples();
    assert!(
        examples.len() > 30,
        "only {} examples found",
        examples.len()
    );
    let failures: Vec<String> = examples
        .iter()
        .filter_map(|(at, schema, value)| {
            SPEC.validate(schema, value)
                .err()
                .map(|e| format!("{at}: {e}"))
        })
        .collect();
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// The request schemas agree with the handlers, on bodies whose fate a JSON schema can tell
/// (not, say, a name that only trimming makes too short, or `20.0`, which JSON Schema counts
/// as an integer and the handlers do not).
#[tokio::test]
async fn request_schemas_accept_what_the_handlers_accept_and_refuse_what_they_refuse() {
    let contact = [
        (json!({}), 200),
        (
            json!({"name": "Gold", "description": "a\tb\nc\r", "type": "LIFO",
            "max_parallel_items": 1, "max_retries": 0, "is_active": true}),
            200,
        ),
        (json!({"name": "  Gold  ", "description": null}), 200),
        (
            json!({"name": "x".repeat(255), "max_parallel_items": 100}),
            200,
        ),
        (
            json!({"name": "é".repeat(3), "max_retries": 2_147_483_647_i64}),
            200,
        ),
        (json!({"name": "\n Gold \t"}), 200),
        (json!({"name": "ab"}), 422),
        (json!({"name": "     "}), 422),
        (json!({"name": "\u{FEFF}abc"}), 422),
        (json!({"name": "ab\ncd"}), 422),
        (json!({"name": "x".repeat(256)}), 422),
        (json!({"name": null}), 422),
        (json!({"name": "ab\u{0}c"}), 422),
        (json!({"name": "abc\u{202E}def"}), 422),
        (json!({"description": "x".repeat(5001)}), 422),
        (json!({"description": "bell\u{7}"}), 422),
        (json!({"description": 5}), 422),
        (json!({"type": "fifo"}), 422),
        (json!({"type": null}), 422),
        (json!({"max_parallel_items": 0}), 422),
        (json!({"max_parallel_items": 101}), 422),
        (json!({"max_parallel_items": "20"}), 422),
        (json!({"max_retries": -1}), 422),
        (json!({"max_retries": 2_147_483_648_i64}), 422),
        (json!({"is_active": null}), 422),
        (json!({"is_active": "true"}), 422),
        (json!({"contacts_count": 1}), 422),
        (json!({"uuid": "x"}), 422),
    ];
    let guardrail = [
        (json!({}), 200),
        (json!({"name": "x"}), 200),
        (json!({"name": "y".repeat(255), "slug": "a"}), 200),
        (json!({"slug": "tier-1-a"}), 200),
        (json!({"slug": "a".repeat(63)}), 200),
        (json!({"name": ""}), 422),
        (json!({"name": "   "}), 422),
        (json!({"name": "\u{3000}x\u{3000}"}), 200),
        (json!({"name": "y".repeat(256)}), 422),
        (json!({"name": null}), 422),
        (json!({"name": "a\u{200B}b"}), 422),
        (json!({"slug": ""}), 422),
        (json!({"slug": "a".repeat(64)}), 422),
        (json!({"slug": "-a"}), 422),
        (json!({"slug": "a--b"}), 422),
        (json!({"slug": "A"}), 422),
        (json!({"slug": null}), 422),
        (json!({"brand_id": "x"}), 400),
        (json!({"id": "x"}), 400),
    ];
    let mut failures = Vec::new();
    for (ep, table, schema) in [
        (
            Endpoint::Contact,
            &contact[..],
            "/components/schemas/ContactPoolUpdate",
        ),
        (
            Endpoint::Guardrail,
            &guardrail[..],
            "/components/schemas/GuardrailPoolUpdate",
        ),
    ] {
        for (body, status) in table {
            let env = Env::new(ep, None).await;
            let reply = env.send(&env.call().json(body)).await;
            let valid = SPEC.validate(schema, body);
            let agree = (reply.status == 200) == valid.is_ok();
            if reply.status != *status || !agree {
                failures.push(format!(
                    "{ep:?} {body}: handler {} (table says {status}), schema {valid:?}",
                    reply.status
                ));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// The operation's request body is the schema the previous test checks.
#[test]
fn each_operation_names_its_request_schema_and_scope() {
    for (path, method, schema, scope) in [
        (
            CONTACT_PATH,
            "put",
            "/components/schemas/ContactPoolUpdate",
            SCOPE_POOLS_WRITE,
        ),
        (
            GUARDRAIL_PATH,
            "patch",
            "/components/schemas/GuardrailPoolUpdate",
            SCOPE_ORG_ADMIN_WRITE,
        ),
    ] {
        let op = OpenApi::operation(path, method);
        let (_, body) = SPEC
            .resolve(&format!("{op}/requestBody"))
            .expect("request body");
        assert_eq!(body["required"], true);
        assert_eq!(
            body["content"]["application/json"]["schema"]["$ref"],
            format!("#{schema}")
        );
        assert_eq!(
            SPEC.doc().pointer(&format!("{op}/security/0/apiKey/0")),
            Some(&json!(scope))
        );
        let scheme = &SPEC.doc()["components"]["securitySchemes"]["apiKey"];
        assert_eq!(
            (&scheme["type"], &scheme["scheme"]),
            (&json!("http"), &json!("bearer"))
        );
    }
}

/// The `Idempotency-Key` parameter's schema accepts exactly the values the handlers take.
#[test]
fn the_idempotency_key_schema_accepts_what_the_parser_accepts() {
    let x = |n: usize| "x".repeat(n);
    let values = [
        "a".to_owned(),
        x(255),
        x(256),
        format!("\"{}\"", x(255)),
        format!("\"{}\"", x(256)),
        "\"quoted\"".to_owned(),
        "\"".to_owned(),
        "\"\"".to_owned(),
        "\"\"\"".to_owned(),
        "\"a".to_owned(),
        "a\"".to_owned(),
        "!~#$%&'()*+-./:;<=>?@[]^_`{|}".to_owned(),
        String::new(),
        "a,b".to_owned(),
        "a b".to_owned(),
        "a\tb".to_owned(),
        "é".to_owned(),
        "\u{7f}".to_owned(),
    ];
    let schema = "/components/parameters/IdempotencyKey/schema";
    let mut accepted = 0;
    for v in &values {
        let parsed = IdempotencyKey::parse(v).is_ok();
        let valid = SPEC.validate(schema, &json!(v));
        assert_eq!(
            parsed,
            valid.is_ok(),
            "{v:?}: parser {parsed}, schema {valid:?}"
        );
        accepted += usize::from(parsed);
    }
    assert!(accepted >= 5 && accepted < values.len(), "{accepted}");
}

/// A document that drifts from the handlers fails the conformance check.
mod drift {
    use super::*;

    async fn reply_for(ep: Endpoint, status: u16, label: &str) -> (Case, Reply) {
        let c = cases()
            .into_iter()
            .find(|c| c.endpoint == ep && c.status == status && c.label == label)
            .expect("case");
        let reply = c.run().await;
        (c, reply)
    }

    fn edited(f: impl FnOnce(&mut Value)) -> OpenApi {
        let mut doc = SPEC.doc().clone();
        f(&mut doc);
        OpenApi::new(doc)
    }

    #[tokio::test]
    async fn a_status_missing_from_the_document_is_caught() {
        let (c, reply) = reply_for(Endpoint::Contact, 412, "stale If-Match").await;
        assert!(SPEC.check(CONTACT_PATH, "PUT", &reply).is_ok());
        let op = OpenApi::operation(CONTACT_PATH, "put");
        let spec = edited(|d| {
            d.pointer_mut(&format!("{op}/responses"))
                .and_then(Value::as_object_mut)
                .expect("responses")
                .remove("412");
        });
        let e = spec
            .check(CONTACT_PATH, "PUT", &reply)
            .expect_err("412 is gone");
        assert!(e.contains("not declared"), "{}: {e}", c.label);
    }

    #[tokio::test]
    async fn a_changed_error_code_is_caught() {
        let (_, reply) = reply_for(Endpoint::Guardrail, 404, "unknown pool").await;
        let spec = edited(|d| {
            let s = d
                .pointer_mut(
                    "/components/responses/ANotFound/content/application~1json/schema/allOf/1\
                     /properties/error/properties/code",
                )
                .expect("code schema");
            *s = json!({"const": "POOL_NOT_FOUND"});
        });
        let e = spec
            .check(GUARDRAIL_PATH, "PATCH", &reply)
            .expect_err("code drifted");
        assert!(e.contains("POOL_NOT_FOUND"), "{e}");
    }

    #[tokio::test]
    async fn a_field_the_document_does_not_know_is_caught() {
        let (_, reply) = reply_for(Endpoint::Contact, 200, "every field").await;
        let spec = edited(|d| {
            d["components"]["schemas"]["ContactPool"]["properties"]
                .as_object_mut()
                .expect("properties")
                .remove("contacts_count");
        });
        let e = spec
            .check(CONTACT_PATH, "PUT", &reply)
            .expect_err("contacts_count is not declared");
        assert!(e.contains("contacts_count"), "{e}");
    }

    #[tokio::test]
    async fn a_declared_header_the_reply_lacks_is_caught() {
        let (_, mut reply) = reply_for(Endpoint::Guardrail, 503, "store unavailable").await;
        assert!(SPEC.check(GUARDRAIL_PATH, "PATCH", &reply).is_ok());
        reply.headers.remove("retry-after");
        let e = SPEC
            .check(GUARDRAIL_PATH, "PATCH", &reply)
            .expect_err("Retry-After is required");
        assert!(e.contains("Retry-After"), "{e}");
    }

    #[tokio::test]
    async fn a_replay_header_out_of_its_schema_is_caught() {
        let (_, mut reply) =
            reply_for(Endpoint::Guardrail, 200, "replay with Idempotency-Key").await;
        assert!(SPEC.check(GUARDRAIL_PATH, "PATCH", &reply).is_ok());
        reply
            .headers
            .insert("idempotent-replayed", "yes".parse().expect("header value"));
        let e = SPEC
            .check(GUARDRAIL_PATH, "PATCH", &reply)
            .expect_err("the value is \"true\"");
        assert!(e.contains("Idempotent-Replayed"), "{e}");
    }

    #[tokio::test]
    async fn a_code_missing_from_a_status_is_caught() {
        let (_, reply) = reply_for(
            Endpoint::Contact,
            422,
            "Idempotency-Key reused with another body",
        )
        .await;
        assert!(SPEC.check(CONTACT_PATH, "PUT", &reply).is_ok());
        let spec = edited(|d| {
            d.pointer_mut(
                "/components/responses/MValidationFailed/content/application~1json/schema/allOf/1\
                 /oneOf",
            )
            .and_then(Value::as_array_mut)
            .expect("the 422's shapes")
            .truncate(1);
        });
        let e = spec
            .check(CONTACT_PATH, "PUT", &reply)
            .expect_err("only VALIDATION_ERROR is left");
        assert!(e.contains("IDEMPOTENCY_KEY_REUSED"), "{e}");
    }

    #[tokio::test]
    async fn a_header_value_out_of_its_schema_is_caught() {
        let (_, mut reply) = reply_for(Endpoint::Contact, 405, "GET").await;
        reply
            .headers
            .insert("allow", "GET, PUT".parse().expect("header value"));
        let e = SPEC
            .check(CONTACT_PATH, "GET", &reply)
            .expect_err("Allow is PUT");
        assert!(e.contains("Allow"), "{e}");
    }
}
