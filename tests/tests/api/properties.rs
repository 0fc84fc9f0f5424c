//! Property tests: every validator against a reference model, both envelopes for any error,
//! and both handlers for any body, header set and path id: always a response in the right
//! dialect with a 2xx/4xx status, never a panic or a 5xx.

use std::sync::Arc;

use pool_tests::events::{Call, Gateway};
use pool_tests::{endpoint, seed, Reply};
use proptest::prelude::*;
use serde_json::{Map, Value};
use shared::auth::{SCOPE_ORG_ADMIN_WRITE, SCOPE_POOLS_WRITE};
use shared::domain::contact_pool::{self, ContactPoolPatch, Description};
use shared::domain::guardrail_pool::{self, GuardrailPoolPatch, Slug};
use shared::domain::ids::{OrgId, PoolId};
use shared::domain::text::{integer_from_json, is_control, is_invisible_format, parse_name};
use shared::domain::validation::FieldErrors;
use shared::envelope::Dialect;
use shared::error::{ApiError, MalformedBody};
use shared::pipeline::{Route, Services};
use shared::request_id::RequestId;
use shared::store::memory::MemoryStore;
use uuid::Uuid;

/// Any JSON value, favouring the shapes and keys the endpoints care about.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-200i64..200).prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,300}".prop_map(Value::String),
        "[a-z0-9-]{0,70}".prop_map(Value::String),
        prop_oneof![Just("FIFO"), Just("LIFO"), Just("Parallel")].prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "name",
            "description",
            "type",
            "max_parallel_items",
            "max_retries",
            "is_active",
            "slug",
            "brand_id",
            "uuid",
            "id",
            "org_id",
            "contacts_count",
            "created_at",
        ])
        .prop_map(String::from),
        ".{0,12}",
    ]
}

/// A body: usually an object of likely fields, sometimes any JSON, sometimes raw bytes.
fn body() -> impl Strategy<Value = Option<Vec<u8>>> {
    prop_oneof![
        4 => prop::collection::vec((key(), json_value()), 0..8).prop_map(|kv| {
            Some(Value::Object(kv.into_iter().collect::<Map<_, _>>()).to_string().into_bytes())
        }),
        2 => json_value().prop_map(|v| Some(v.to_string().into_bytes())),
        1 => prop::collection::vec(any::<u8>(), 0..200).prop_map(Some),
        1 => Just(None),
    ]
}

#[derive(Debug, Clone)]
enum Auth {
    Valid,
    Scopeless,
    None,
    Raw(String),
}

fn header_set() -> impl Strategy<Value = (Auth, Vec<(String, String)>)> {
    let auth = prop_oneof![
        4 => Just(Auth::Valid),
        1 => Just(Auth::Scopeless),
        1 => Just(Auth::None),
        1 => "[ -~]{0,60}".prop_map(Auth::Raw),
    ];
    let value = prop_oneof![
        Just("application/json".to_string()),
        Just("application/json; charset=utf-8".to_string()),
        Just("text/plain".to_string()),
        Just("\"1\"".to_string()),
        Just("*".to_string()),
        "[ -~]{0,40}",
    ];
    let name = prop_oneof![
        Just("Content-Type".to_string()),
        Just("If-Match".to_string()),
        Just("Authorization".to_string()),
        "x-[a-z]{1,10}",
    ];
    (auth, prop::collection::vec((name, value), 0..4))
}

fn path_id() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        3 => Just(None),
        1 => "[ -~]{0,40}".prop_map(Some),
        1 => any::<u128>().prop_map(|u| Some(Uuid::from_u128(u).to_string())),
    ]
}

fn method() -> impl Strategy<Value = Option<&'static str>> {
    prop_oneof![
        6 => Just(None),
        1 => prop::sample::select(vec!["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]).prop_map(Some),
    ]
}

fn encode_path_segment(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

struct World {
    rt: tokio::runtime::Runtime,
    svc: Services,
    key: String,
    scopeless: String,
    contact: PoolId,
    guardrail: PoolId,
}

fn world() -> World {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let store = Arc::new(MemoryStore::new());
    let org = OrgId::new_v4();
    let (key, scopeless, contact, guardrail) = rt.block_on(async {
        (
            seed::key(
                store.as_ref(),
                org,
                &[SCOPE_POOLS_WRITE, SCOPE_ORG_ADMIN_WRITE],
            )
            .await,
            seed::key(store.as_ref(), org, &[]).await,
            seed::stored_contact_pool(store.as_ref(), org).await.id,
            seed::stored_guardrail_pool(store.as_ref(), org, "prop")
                .await
                .id,
        )
    });
    World {
        rt,
        svc: Services::new(store),
        key,
        scopeless,
        contact,
        guardrail,
    }
}

fn run_request(
    w: &World,
    route: &Route,
    gw: Gateway,
    method: Option<&str>,
    id: Option<String>,
    (auth, headers): (Auth, Vec<(String, String)>),
    body: Option<Vec<u8>>,
) -> Reply {
    let default_id = if route.prefix == update_contact_pool::ROUTE.prefix {
        w.contact
    } else {
        w.guardrail
    };
    let id = id.unwrap_or_else(|| default_id.to_string());
    let mut call =
        Call::to(route, &id).path(&format!("{}{}", route.prefix, encode_path_segment(&id)));
    if let Some(m) = method {
        call = call.method(m);
    }
    call = match auth {
        Auth::Valid => call.bearer(&w.key),
        Auth::Scopeless => call.bearer(&w.scopeless),
        Auth::None => call,
        Auth::Raw(v) => call.header("Authorization", &v),
    };
    if !headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        call = call.header("Content-Type", "application/json");
    }
    for (k, v) in headers {
        call = call.header(&k, &v);
    }
    if let Some(b) = body {
        call = call.raw_body(b);
    }
    let req = call.request(gw);
    let resp =
        w.rt.block_on(async { endpoint::handle(route, req, &w.svc).await });
    Reply::from_response(resp)
}

fn assert_dialect(route: &Route, r: &Reply) {
    assert!(r.status == 200 || (400..500).contains(&r.status), "{r:?}");
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("x-request-id").map(str::len), Some(26));
    let ok = r.status == 200;
    assert_eq!(r.body["success"], ok, "{r:?}");
    match route.dialect {
        Dialect::Mindhunters => {
            assert!(r.body["message"].is_string(), "{r:?}");
            if !ok {
                assert!(
                    r.body["error"]["code"].is_string() && r.body["error"]["details"].is_string()
                );
            }
        }
        Dialect::AgentMessage => {
            assert!(r.body.get("message").is_none(), "{r:?}");
            if !ok {
                assert!(
                    r.body["error"]["code"].is_string() && r.body["error"]["message"].is_string()
                );
                assert!(r.body.get("data").is_none());
            }
        }
    }
    if ok {
        assert!(r.body["data"].is_object());
        assert!(r.header("etag").is_some());
    } else {
        assert_eq!(
            r.body["error"]["request_id"],
            r.header("x-request-id").unwrap()
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn any_request_to_either_handler_gets_a_2xx_or_4xx_in_its_dialect(
        guardrail in any::<bool>(),
        v1 in any::<bool>(),
        method in method(),
        id in path_id(),
        headers in header_set(),
        body in body(),
    ) {
        thread_local! { static W: World = world(); }
        let route = if guardrail { &patch_guardrail_pool::ROUTE } else { &update_contact_pool::ROUTE };
        let gw = if v1 { Gateway::RestV1 } else { Gateway::HttpV2 };
        W.with(|w| {
            let r = run_request(w, route, gw, method, id, headers, body);
            assert_dialect(route, &r);
        });
    }

    #[test]
    fn names_follow_the_model(s in ".{0,300}", min in 0usize..5, max in 0usize..300) {
        let t = s.trim();
        let n = t.chars().count();
        let want = !t.chars().any(is_control) && !t.chars().any(is_invisible_format) && n >= min && n <= max;
        match parse_name(&s, min, max) {
            Ok(out) => { prop_assert!(want); prop_assert_eq!(out, t); }
            Err(_) => prop_assert!(!want),
        }
    }

    #[test]
    fn slugs_follow_the_pattern(s in "[a-z0-9-]{0,70}|.{0,10}") {
        // The model: a state machine over ^[a-z0-9]+(-[a-z0-9]+)*$ within 1..=63.
        let mut ok = !s.is_empty() && s.chars().count() <= 63;
        let mut prev_hyphen = true;
        for c in s.chars() {
            match c {
                'a'..='z' | '0'..='9' => prev_hyphen = false,
                '-' if !prev_hyphen => prev_hyphen = true,
                _ => { ok = false; break; }
            }
        }
        ok &= !prev_hyphen;
        prop_assert_eq!(Slug::parse(&s).is_ok(), ok, "{:?}", s);
    }

    #[test]
    fn integers_follow_their_ranges(n in any::<i64>(), f in any::<f64>()) {
        let in_range = (contact_pool::MAX_PARALLEL_MIN..=contact_pool::MAX_PARALLEL_MAX).contains(&n);
        prop_assert_eq!(integer_from_json(&Value::from(n), 1, 100).is_ok(), in_range);
        prop_assert_eq!(integer_from_json(&Value::from(n), 0, contact_pool::MAX_RETRIES_MAX).is_ok(), (0..=2_147_483_647).contains(&n));
        let float = serde_json::Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null);
        prop_assert!(integer_from_json(&float, i64::MIN, i64::MAX).is_err());
    }

    #[test]
    fn descriptions_follow_the_model(s in ".{0,5100}") {
        let want = s.chars().count() <= contact_pool::DESCRIPTION_MAX
            && !s.chars().any(|c| is_control(c) && !matches!(c, '\t' | '\n' | '\r'));
        prop_assert_eq!(Description::parse(&s).is_ok(), want);
    }

    #[test]
    fn patches_report_every_bad_field_and_only_those(kv in prop::collection::vec((key(), json_value()), 0..10)) {
        let mut body: Vec<(String, Value)> = Vec::new();
        for (k, v) in kv {
            if !body.iter().any(|(k2, _)| *k2 == k) { body.push((k, v)); }
        }
        let unsupported = |fields: &[&str]| body.iter().filter(|(k, _)| !fields.contains(&k.as_str())).count();
        if let Err(e) = ContactPoolPatch::try_from(body.as_slice()) {
            let refused = e.iter().filter(|f| f.message == "is not a supported field").count();
            prop_assert_eq!(refused, unsupported(&contact_pool::FIELDS));
            prop_assert!(e.iter().all(|f| body.iter().any(|(k, _)| *k == f.field)));
        } else {
            prop_assert_eq!(unsupported(&contact_pool::FIELDS), 0);
        }
        if let Err(e) = GuardrailPoolPatch::try_from(body.as_slice()) {
            prop_assert!(e.iter().all(|f| body.iter().any(|(k, _)| *k == f.field)));
            let refused = e.iter().filter(|f| f.message == "is not a supported field" || f.message == "is immutable").count();
            prop_assert_eq!(refused, unsupported(&guardrail_pool::FIELDS));
        }
    }

    #[test]
    fn any_error_renders_in_both_dialects(which in 0usize..16, field in "[a-z_]{1,10}", msg in ".{0,40}", secret in "secret-[a-z]{12}") {
        let mut f = FieldErrors::new();
        f.invalid(&field, msg.clone());
        let errors = [
            ApiError::RouteNotFound, ApiError::MethodNotAllowed { allow: "PUT" },
            ApiError::MissingCredentials, ApiError::InvalidCredentials, ApiError::MissingScope,
            ApiError::NotFound, ApiError::PayloadTooLarge, ApiError::UnsupportedMediaType,
            ApiError::MalformedBody(MalformedBody::Syntax), ApiError::Fields(f),
            ApiError::SlugTaken, ApiError::Conflict, ApiError::PreconditionFailed,
            ApiError::Unavailable(secret.clone().into()), ApiError::Internal(secret.clone().into()),
            ApiError::MalformedBody(MalformedBody::DuplicateKey),
        ];
        let e = &errors[which];
        for d in [Dialect::Mindhunters, Dialect::AgentMessage] {
            let rid = RequestId::new();
            let (status, text) = d.error_body(e, rid);
            let body: Value = serde_json::from_str(&text).unwrap();
            prop_assert!([400, 401, 403, 404, 405, 409, 412, 413, 415, 422, 500, 503].contains(&status));
            prop_assert_eq!(&body["success"], &Value::Bool(false));
            prop_assert_eq!(&body["error"]["request_id"], &Value::from(rid.to_string()));
            prop_assert!(body["error"]["code"].is_string());
            if status >= 500 {
                // Internal detail never leaks, whatever it says.
                let leaked = body.to_string().contains(&secret);
                prop_assert!(!leaked);
            }
            match d {
                Dialect::Mindhunters => prop_assert!(body["message"].is_string() && body["error"]["details"].is_string()),
                Dialect::AgentMessage => prop_assert!(body["error"]["message"].is_string() && body.get("message").is_none()),
            }
        }
    }
}
