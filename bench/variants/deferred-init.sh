#!/usr/bin/env bash
# The SDK client and the rest of the services built by the first request instead of at init
# (update-contact-pool's main.rs only): what deferring moves from init to the first invocation.
set -euo pipefail
python3 "$(dirname "$0")/edit.py" functions/update-contact-pool/src/main.rs \
    '    let svc = shared::config::services_from_env().await?;
    let svc = &svc;
    run(service_fn(move |req: Request| async move {
        Ok::<_, Infallible>(handle(req, svc).await)
    }))
    .await' \
    '    static SVC: tokio::sync::OnceCell<shared::pipeline::Services> =
        tokio::sync::OnceCell::const_new();
    run(service_fn(move |req: Request| async move {
        let svc = SVC.get_or_try_init(shared::config::services_from_env).await?;
        Ok::<_, Error>(handle(req, svc).await)
    }))
    .await'
sed -i 's/^use std::convert::Infallible;$//' functions/update-contact-pool/src/main.rs
