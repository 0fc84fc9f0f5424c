//! Slug uniqueness under concurrency, against DynamoDB Local (and the in-memory store, which
//! must keep the same invariants). These must hold on every run.

use std::sync::Arc;

use pool_tests::contract::{claims_of, problems_of};
use pool_tests::endpoint::{Guardrail, Tenant};
use pool_tests::events::Gateway;
use pool_tests::{backends, seed, Reply};
use serde_json::json;
use shared::domain::guardrail_pool::GuardrailPool;
use shared::domain::ids::PoolId;

/// A new organization with a key for `PATCH /v1/guardrails/pools/{id}`, shared by the tasks.
type Org = Arc<Tenant<Guardrail>>;

async fn patch(t: &Org, id: PoolId, body: serde_json::Value) -> Reply {
    t.send(&t.call_on(id).json(&body), Gateway::HttpV2).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_pools_claiming_one_slug_yield_one_winner_and_forty_nine_conflicts() {
    for b in backends() {
        let t: Org = Arc::new(Tenant::new(b).await);
        let (store, org) = (&t.store, t.org);
        let mut pools = Vec::new();
        for i in 0..50 {
            pools.push(
                seed::stored_guardrail_pool(
                    store.as_ref(),
                    org,
                    &seed::fresh_slug(&format!("p{i}")),
                )
                .await,
            );
        }
        let wanted = seed::fresh_slug("wanted");
        let tasks: Vec<_> = pools
            .iter()
            .map(|p| {
                let (t, id) = (t.clone(), p.id);
                let body = json!({"slug": wanted, "name": format!("winner {id}")});
                tokio::spawn(async move { patch(&t, id, body).await })
            })
            .collect();
        let mut winners = Vec::new();
        let mut conflicts = 0;
        for (task, p) in tasks.into_iter().zip(&pools) {
            let r = task.await.unwrap();
            match r.status {
                200 => winners.push(p.id),
                409 => {
                    assert_eq!(r.code(), "CONFLICT");
                    assert_eq!(
                        r.body["error"]["details"],
                        json!({"slug": "already in use"}),
                        "{r:?}"
                    );
                    conflicts += 1;
                }
                s => panic!("{b:?}: unexpected {s}: {r:?}"),
            }
        }
        assert_eq!((winners.len(), conflicts), (1, 49), "{b:?}");
        let winner = winners[0];
        for p in &pools {
            let now = t.read(p.id).await;
            if p.id == winner {
                assert_eq!(now.slug, wanted);
                assert_eq!(now.name, format!("winner {}", p.id));
                assert_eq!(now.version, p.version + 1);
            } else {
                assert_eq!(&now, p, "a loser changed");
            }
        }
        assert!(problems_of(store.as_ref(), org).await.is_empty());
        let claims = claims_of(store.as_ref(), org).await;
        assert_eq!(claims.len(), 50);
        assert!(claims.contains(&(wanted.clone(), winner)));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_slug_swaps_never_break_the_slug_index() {
    for b in backends() {
        let t: Org = Arc::new(Tenant::new(b).await);
        let (store, org) = (&t.store, t.org);
        let slugs = [
            seed::fresh_slug("x"),
            seed::fresh_slug("y"),
            seed::fresh_slug("z"),
        ];
        let a = seed::stored_guardrail_pool(store.as_ref(), org, &slugs[0]).await;
        let b_pool = seed::stored_guardrail_pool(store.as_ref(), org, &slugs[1]).await;
        for round in 0..40usize {
            let before: Vec<GuardrailPool> = read_both(&t, [a.id, b_pool.id]).await;
            // Each round, both pools reach for a slug at once: often each other's (a swap),
            // sometimes the free one, sometimes their own.
            let targets = [
                slugs[(round + 1) % 3].clone(),
                slugs[if round % 4 == 0 {
                    (round + 2) % 3
                } else {
                    round % 3
                }]
                .clone(),
            ];
            let tasks: Vec<_> = [a.id, b_pool.id]
                .into_iter()
                .zip(targets.clone())
                .enumerate()
                .map(|(i, (id, slug))| {
                    let t = t.clone();
                    let body = json!({"slug": slug, "name": format!("round {round} pool {i}")});
                    tokio::spawn(async move { patch(&t, id, body).await })
                })
                .collect();
            let mut replies = Vec::new();
            for task in tasks {
                replies.push(task.await.unwrap());
            }
            let after: Vec<GuardrailPool> = read_both(&t, [a.id, b_pool.id]).await;
            for i in 0..2 {
                let r = &replies[i];
                match r.status {
                    // Applied whole: the slug and the name of this request, one version later.
                    200 => {
                        assert_eq!(r.body["data"]["slug"], targets[i]);
                        assert_eq!(r.body["data"]["name"], format!("round {round} pool {i}"));
                        assert_eq!(after[i].version, before[i].version + 1);
                    }
                    // Rejected whole: this pool is as it was.
                    409 => assert_eq!(after[i], before[i], "{b:?} round {round}: {r:?}"),
                    s => panic!("{b:?} round {round}: unexpected {s}: {r:?}"),
                }
            }
            assert_ne!(
                after[0].slug, after[1].slug,
                "{b:?} round {round}: two pools, one slug"
            );
            let problems = problems_of(store.as_ref(), org).await;
            assert!(problems.is_empty(), "{b:?} round {round}: {problems:?}");
            let claims = claims_of(store.as_ref(), org).await;
            let mut expected = vec![
                (after[0].slug.to_string(), a.id),
                (after[1].slug.to_string(), b_pool.id),
            ];
            expected.sort();
            assert_eq!(claims, expected, "{b:?} round {round}");
        }
    }
}

async fn read_both(t: &Org, ids: [PoolId; 2]) -> Vec<GuardrailPool> {
    let mut out = Vec::new();
    for id in ids {
        out.push(t.read(id).await);
    }
    out
}
