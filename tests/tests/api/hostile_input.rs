//! Hostile input, each row with its expected status, through both handlers. Decisions:
//! `1e400` is not a JSON number we can represent, so the body is malformed (400); integers past
//! i64 are out of range (422); bidi overrides and zero-width spaces are refused in names (422);
//! joiners (ZWJ/ZWNJ) are kept. Injection attempts are inert: values travel only as DynamoDB
//! expression attribute values, so they are stored exactly as sent.

use std::sync::Arc;

use pool_tests::events::{Call, Gateway, BOTH};
use pool_tests::{backends, endpoint, seed, store, Backend, Reply};
use serde_json::json;
use shared::auth::{SCOPE_ORG_ADMIN_WRITE, SCOPE_POOLS_WRITE};
use shared::domain::ids::{OrgId, PoolId};
use shared::pipeline::{Route, Services};
use shared::store::StoreAdmin;

struct Env {
    store: Arc<dyn StoreAdmin>,
    svc: Services,
    org: OrgId,
    key: String,
    contact: PoolId,
    guardrail: PoolId,
}

async fn env(b: Backend) -> Env {
    let store = store(b).await;
    let org = OrgId::new_v4();
    let key = seed::key(
        store.as_ref(),
        org,
        &[SCOPE_POOLS_WRITE, SCOPE_ORG_ADMIN_WRITE],
    )
    .await;
    let contact = seed::stored_contact_pool(store.as_ref(), org).await.id;
    let guardrail = seed::stored_guardrail_pool(store.as_ref(), org, &seed::fresh_slug("h"))
        .await
        .id;
    Env {
        svc: Services::new(store.clone()),
        store,
        org,
        key,
        contact,
        guardrail,
    }
}

impl Env {
    fn routes(&self) -> [(&'static Route, PoolId); 2] {
        [
            (&update_contact_pool::ROUTE, self.contact),
            (&patch_guardrail_pool::ROUTE, self.guardrail),
        ]
    }

    async fn send(&self, route: &Route, call: &Call, gw: Gateway) -> Reply {
        let req = call.request(gw);
        let resp = endpoint::handle(route, req, &self.svc).await;
        Reply::from_response(resp)
    }
}

fn raw(e: &Env, route: &Route, id: PoolId, body: Vec<u8>) -> Call {
    Call::to(route, &id.to_string())
        .bearer(&e.key)
        .header("Content-Type", "application/json")
        .raw_body(body)
}

#[tokio::test]
async fn hostile_bodies_get_their_documented_status() {
    let deep = |n: usize| format!("{{\"name\":{}{}}}", "[".repeat(n), "]".repeat(n)).into_bytes();
    let rows: Vec<(&str, Vec<u8>, u16)> = vec![
        ("nested 5,000 deep", deep(5_000), 400),
        ("nested 30,000 deep", deep(30_000), 400),
        ("nested past the size limit", deep(40_000), 413),
        (
            "integer past i64",
            br#"{"name":99999999999999999999}"#.to_vec(),
            422,
        ),
        ("1e400", br#"{"name":1e400}"#.to_vec(), 400),
        ("lone surrogate", br#"{"name":"\ud800"}"#.to_vec(), 400),
        ("invalid UTF-8", b"{\"name\":\"\xc3\x28\"}".to_vec(), 400),
        (
            "raw NUL outside a string",
            b"{\"name\":\"abc\"}\x00".to_vec(),
            400,
        ),
        (
            "raw NUL inside a string",
            b"{\"name\":\"ab\x00c\"}".to_vec(),
            400,
        ),
        (
            "escaped NUL in a name",
            br#"{"name":"ab\u0000c"}"#.to_vec(),
            422,
        ),
        (
            "BOM before the object",
            b"\xef\xbb\xbf{\"name\":\"abc\"}".to_vec(),
            400,
        ),
        ("trailing garbage", br#"{"name":"abc"} x"#.to_vec(), 400),
        (
            "two objects",
            br#"{"name":"abc"}{"name":"abd"}"#.to_vec(),
            400,
        ),
        (
            "right-to-left override in a name",
            "{\"name\":\"abc\u{202E}fed\"}".into(),
            422,
        ),
        (
            "zero-width space in a name",
            "{\"name\":\"ab\u{200B}c\"}".into(),
            422,
        ),
        (
            "ZWJ emoji name",
            "{\"name\":\"👩\u{200D}💻 team\"}".into(),
            200,
        ),
        (
            "duplicate key deep inside",
            br#"{"x":{"a":1,"a":2}}"#.to_vec(),
            400,
        ),
    ];
    for b in backends() {
        let e = env(b).await;
        for gw in BOTH {
            for (route, id) in e.routes() {
                for (what, body, status) in &rows {
                    let r = e.send(route, &raw(&e, route, id, body.clone()), gw).await;
                    assert_eq!(
                        r.status, *status,
                        "{b:?} {gw:?} {}: {what}: {r:?}",
                        route.name
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn hostile_headers_get_their_documented_status() {
    let e = env(Backend::Memory).await;
    for gw in BOTH {
        for (route, id) in e.routes() {
            let base = || Call::to(route, &id.to_string()).json(&json!({}));
            // HTTP APIs (v2, what template.yaml deploys) join repeated headers with commas: two
            // keys are not one token, so 401. lambda_http reads a REST (v1) event's single-value
            // `headers` over `multiValueHeaders`, so there the last value is the one seen.
            let two_keys = base().bearer("am_live_other").bearer(&e.key);
            let expect = if gw == Gateway::HttpV2 { 401 } else { 200 };
            assert_eq!(
                e.send(route, &two_keys, gw).await.status,
                expect,
                "{gw:?} two keys"
            );
            let two_keys = base().bearer(&e.key).bearer("am_live_other");
            assert_eq!(
                e.send(route, &two_keys, gw).await.status,
                401,
                "{gw:?} two keys"
            );
            let padded = base()
                .bearer(&e.key)
                .header("X-Padding", &"p".repeat(8 * 1024));
            assert_eq!(
                e.send(route, &padded, gw).await.status,
                200,
                "an 8 KB header"
            );
            let huge_key = base().bearer(&"k".repeat(8 * 1024));
            assert_eq!(
                e.send(route, &huge_key, gw).await.status,
                401,
                "an 8 KB key"
            );
            let ctl = base().header("Authorization", &format!("Bearer {}\t", e.key));
            assert_eq!(
                e.send(route, &ctl, gw).await.status,
                401,
                "a tab after the key"
            );
            let two_types = base()
                .bearer(&e.key)
                .header("Content-Type", "application/json");
            let r = e.send(route, &two_types, gw).await;
            // Joined by an HTTP API into one value that is not a media type: 415. A REST
            // event's last value wins (see above).
            let expect = if gw == Gateway::HttpV2 { 415 } else { 200 };
            assert_eq!(r.status, expect, "{gw:?} two Content-Type headers");
        }
    }
}

#[tokio::test]
async fn hostile_path_ids_are_404() {
    let e = env(Backend::Memory).await;
    let ids = [
        "%2F".to_string(),
        "..".into(),
        "%00".into(),
        format!("{}%2F..", e.contact),
        format!("{}%00", e.contact),
        format!("{}..", e.contact),
        "..%2F..%2Fetc%2Fpasswd".into(),
        "' OR '1'='1".into(),
        "*".into(),
    ];
    for gw in BOTH {
        for (route, _) in e.routes() {
            for id in &ids {
                for call in [
                    Call::to(route, id).bearer(&e.key).json(&json!({})),
                    Call::to(route, id)
                        .bearer(&e.key)
                        .json(&json!({}))
                        .without_path_parameters(),
                ] {
                    let r = e.send(route, &call, gw).await;
                    assert_eq!(r.status, 404, "{gw:?} {}: {id:?}: {r:?}", route.name);
                }
            }
        }
    }
}

const INJECTIONS: [&str; 8] = [
    "x' OR '1'='1",
    "\"); DROP TABLE pools; --",
    "#pk = :org_id",
    ":org_id",
    "attribute_exists(pk) OR attribute_not_exists(pk)",
    "SET version = :one REMOVE org_id",
    "${jndi:ldap://127.0.0.1/a}",
    "<script>alert(1)</script>",
];

#[tokio::test]
async fn injection_attempts_are_stored_verbatim_and_change_nothing_else() {
    for b in backends() {
        let e = env(b).await;
        let c_route = &update_contact_pool::ROUTE;
        let g_route = &patch_guardrail_pool::ROUTE;
        for (i, text) in INJECTIONS.iter().enumerate() {
            let before = e.store.get_contact_pool(e.org, e.contact).await.unwrap();
            let call = Call::to(c_route, &e.contact.to_string())
                .bearer(&e.key)
                .json(&json!({"name": text, "description": text}));
            let r = e.send(c_route, &call, Gateway::HttpV2).await;
            assert_eq!(r.status, 200, "{b:?} {text}: {r:?}");
            let after = e.store.get_contact_pool(e.org, e.contact).await.unwrap();
            assert_eq!(
                (after.name.as_str(), after.description.as_deref()),
                (*text, Some(*text))
            );
            assert_eq!(after.version, before.version + 1);
            assert_eq!(
                (after.org_id, after.contacts_count),
                (before.org_id, before.contacts_count)
            );
            // Enumerated and patterned fields refuse them outright.
            let call = Call::to(c_route, &e.contact.to_string())
                .bearer(&e.key)
                .json(&json!({"type": text}));
            assert_eq!(e.send(c_route, &call, Gateway::HttpV2).await.status, 422);
            let call = Call::to(g_route, &e.guardrail.to_string())
                .bearer(&e.key)
                .json(&json!({"slug": text}));
            assert_eq!(e.send(g_route, &call, Gateway::HttpV2).await.status, 422);
            let call = Call::to(g_route, &e.guardrail.to_string())
                .bearer(&e.key)
                .json(&json!({"name": format!("{text} {i}")}));
            let r = e.send(g_route, &call, Gateway::HttpV2).await;
            assert_eq!(r.status, 200, "{b:?} {text}: {r:?}");
            let g = e
                .store
                .get_guardrail_pool(e.org, e.guardrail)
                .await
                .unwrap();
            assert_eq!(g.name, format!("{text} {i}"));
            assert_eq!(g.org_id, e.org);
        }
    }
}
