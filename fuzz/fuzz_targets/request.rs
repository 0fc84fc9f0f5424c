//! The whole request path (route, method, path id, headers, body → response) of both handlers
//! on the in-memory store. Any panic, 5xx, or response outside the dialect is a finding.
//!
//! Input layout: byte 0 chooses the route, the method and how the key is sent; the rest is
//! split at 0xFF into the path id, header lines (`name: value`, one per line) and the body.

#![no_main]

use std::sync::OnceLock;

use endpoints::Function;
use lambda_http::http::{HeaderName, HeaderValue, Method};
use lambda_http::{Body, Request, RequestExt};
use libfuzzer_sys::fuzz_target;
use shared::clock::Timestamp;
use shared::domain::api_key::{ApiKeyRecord, KeyHash, KeyStatus};
use shared::domain::contact_pool::{
    ContactPool, MaxParallelItems, MaxRetries, PoolName, PoolType,
};
use shared::domain::guardrail_pool::{GuardrailName, GuardrailPool, Slug};
use shared::domain::ids::{BrandId, OrgId, PoolId};
use shared::pipeline::Services;
use shared::store::memory::MemoryStore;
use shared::store::StoreAdmin;
use uuid::Uuid;

const KEY: &str = "am_live_fuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzz";
const CONTACT: &str = "3c90c3cc-0d44-4b50-8888-8dd25736052a";
const GUARDRAIL: &str = "497f6eca-6276-4993-bfeb-53cbbbba6f08";

struct World {
    rt: tokio::runtime::Runtime,
    svc: Services,
}

fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime");
        let store = MemoryStore::new();
        let org = OrgId::from_uuid(Uuid::from_u128(1));
        store.insert_api_key(
            &KeyHash::of(KEY),
            ApiKeyRecord {
                key_id: "key_fuzz".into(),
                org_id: org,
                scopes: ["pools:write".to_string(), "org:admin:write".to_string()].into(),
                status: KeyStatus::Active,
                expires_at: None,
            },
        );
        let t = Timestamp::from_unix(1_790_000_000).expect("time");
        rt.block_on(async {
            store
                .create_contact_pool(&ContactPool {
                    id: CONTACT.parse().expect("uuid"),
                    org_id: org,
                    name: PoolName::parse("Fuzz").expect("name"),
                    description: None,
                    pool_type: PoolType::Fifo,
                    max_parallel_items: MaxParallelItems::new(10).expect("max"),
                    max_retries: MaxRetries::new(3).expect("retries"),
                    is_active: true,
                    contacts_count: 0,
                    created_at: t,
                    updated_at: t,
                    version: 1,
                })
                .await
                .expect("pool");
            for (i, slug) in ["alpha", "beta"].iter().enumerate() {
                let id = if i == 0 {
                    GUARDRAIL.parse().expect("uuid")
                } else {
                    PoolId::from_uuid(Uuid::from_u128(2))
                };
                store
                    .create_guardrail_pool(&GuardrailPool {
                        id,
                        org_id: org,
                        brand_id: BrandId::from_uuid(Uuid::from_u128(3)),
                        name: GuardrailName::parse("Fuzz").expect("name"),
                        slug: Slug::parse(slug).expect("slug"),
                        created_at: t,
                        updated_at: t,
                        version: 1,
                    })
                    .await
                    .expect("pool");
            }
        });
        World {
            rt,
            svc: Services::new(std::sync::Arc::new(store)),
        }
    })
}

fn request(f: Function, flags: u8, parts: &[&[u8]]) -> Option<Request> {
    let route = f.route();
    let methods = [Method::PUT, Method::PATCH, Method::GET, Method::POST];
    let method = if flags & 0x0c == 0 {
        route.method.clone()
    } else {
        methods[usize::from((flags >> 2) & 3)].clone()
    };
    let id = String::from_utf8_lossy(parts.first().copied().unwrap_or(b""));
    let default_id = match f {
        Function::UpdateContactPool => CONTACT,
        Function::PatchGuardrailPool => GUARDRAIL,
    };
    let id = if id.is_empty() {
        default_id.to_string()
    } else {
        id.into_owned()
    };
    let mut builder = lambda_http::http::Request::builder()
        .method(method)
        .uri(format!("https://api.example.com{}x", route.prefix));
    if flags & 0x10 != 0 {
        builder = builder.header("authorization", format!("Bearer {KEY}"));
    }
    if flags & 0x20 != 0 {
        builder = builder.header("content-type", "application/json");
    }
    for line in parts.get(1).copied().unwrap_or(b"").split(|b| *b == b'\n') {
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(&line[..colon]),
            HeaderValue::from_bytes(line[colon + 1..].trim_ascii()),
        ) else {
            continue;
        };
        builder = builder.header(name, value);
    }
    let body = parts.get(2).copied().unwrap_or(b"");
    let body = if body.is_empty() {
        Body::Empty
    } else {
        match std::str::from_utf8(body) {
            Ok(s) => Body::Text(s.to_owned()),
            Err(_) => Body::Binary(body.to_vec()),
        }
    };
    let req = builder.body(body).ok()?;
    let req = if flags & 0x40 != 0 {
        // As under function URLs: no path parameters, the id only in the raw path.
        req.with_raw_http_path(format!("{}{}", route.prefix, id))
    } else {
        req.with_path_parameters(
            [(route.param.to_string(), vec![id])]
                .into_iter()
                .collect::<std::collections::HashMap<_, _>>(),
        )
    };
    Some(req)
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let parts: Vec<&[u8]> = rest.splitn(3, |b| *b == 0xff).collect();
    let w = world();
    // Bit 0 picks the function (the corpus was recorded with 0 = update-contact-pool).
    let f = Function::ALL[usize::from(flags & 1)];
    let Some(req) = request(f, flags, &parts) else {
        return;
    };
    let resp = w.rt.block_on(f.handle(req, &w.svc));
    let status = resp.status().as_u16();
    assert!(
        status == 200 || (400..500).contains(&status),
        "status {status}"
    );
    let body: serde_json::Value = match resp.body() {
        Body::Text(t) => serde_json::from_str(t).expect("JSON body"),
        _ => panic!("not a text body"),
    };
    assert_eq!(body["success"], status == 200);
    assert_eq!(resp.headers()["x-request-id"].len(), 26);
});
