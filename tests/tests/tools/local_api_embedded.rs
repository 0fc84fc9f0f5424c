//! The embedded default as a newcomer meets it: the `local-api` binary started without
//! `TABLE_NAME` prints its demo keys and curl commands, each under the status it promises; run
//! as printed, every command gets that status. It stops cleanly on SIGTERM and SIGINT, and
//! refuses to start on an `AUTH_CACHE_TTL_SECS` that is not a whole number of seconds.

use std::collections::BTreeSet;
use std::process::Command;

use pool_tests::processes::LocalApi;

/// A printed example: the status promised, what it shows, the command.
#[derive(Debug)]
struct Example {
    status: u16,
    what: String,
    command: String,
}

/// `# <status>: <what>` followed by a `curl ...` line.
fn examples(banner: &[String]) -> Vec<Example> {
    banner
        .windows(2)
        .filter_map(|w| {
            let (status, what) = w[0].strip_prefix("# ")?.split_once(": ")?;
            let status = status.parse().ok()?;
            w[1].starts_with("curl ").then(|| Example {
                status,
                what: what.to_owned(),
                command: w[1].clone(),
            })
        })
        .collect()
}

/// Runs a printed command as a shell would, and reads the status line `curl -i` prints.
fn run(example: &Example) -> (u16, String) {
    let out = Command::new("sh")
        .arg("-c")
        .arg(&example.command)
        .output()
        .expect("run sh");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{example:?}: {out:?}");
    // `HTTP/1.1 200 OK`
    let status = stdout
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {stdout}"));
    (status, stdout)
}

#[test]
fn the_embedded_default_prints_curl_commands_that_get_the_statuses_they_promise() {
    let api = LocalApi::start(None);
    assert!(
        api.base_url.starts_with("http://127.0.0.1:"),
        "{}",
        api.base_url
    );
    let banner = api.banner.join("\n");
    for k in local_api::demo::KEYS {
        let scopes = if k.scopes.is_empty() {
            "(no scopes)".to_owned()
        } else {
            k.scopes.join(" ")
        };
        assert!(
            api.banner
                .iter()
                .any(|l| l.contains(k.key) && l.trim_end().ends_with(&scopes)),
            "key {} with {scopes} not printed:\n{banner}",
            k.key
        );
    }

    let examples = examples(&api.banner);
    let promised: BTreeSet<u16> = examples.iter().map(|e| e.status).collect();
    for status in [200, 401, 403, 404, 409, 422] {
        assert!(
            promised.contains(&status),
            "no example for {status}:\n{banner}"
        );
    }
    assert!(
        examples
            .iter()
            .all(|e| e.command.contains(&format!("{}/", api.base_url))),
        "commands must use the address it listens on:\n{banner}"
    );
    // Twice: each keeps its promise when pasted again.
    for round in 1..=2 {
        for e in &examples {
            let (status, output) = run(e);
            assert_eq!(
                status, e.status,
                "round {round}, {}: {}\n{output}",
                e.what, e.command
            );
            let body = output.split("\r\n\r\n").nth(1).unwrap_or("");
            let json: serde_json::Value =
                serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {output}"));
            assert_eq!(json["success"], e.status == 200, "{output}");
        }
    }

    let stopped = api.stop("TERM");
    assert!(stopped.status.success(), "after SIGTERM: {stopped:?}");
    assert!(stopped.stderr.contains("local-api: stopped"), "{stopped:?}");
}

#[test]
fn the_embedded_default_stops_cleanly_on_sigint() {
    let api = LocalApi::start(None);
    let stderr_before = api.stderr();
    assert!(!stderr_before.contains("stopped"), "{stderr_before}");
    let stopped = api.stop("INT");
    assert!(stopped.status.success(), "after SIGINT: {stopped:?}");
    assert!(stopped.stderr.contains("local-api: stopped"), "{stopped:?}");
}

#[test]
fn the_readme_shows_commands_the_embedded_default_prints() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md");
    let section = readme
        .split("\n## Run it locally")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("a `## Run it locally` section");
    let lines: Vec<String> = section
        .replace(" \\\n  ", " ")
        .lines()
        .map(str::to_owned)
        .collect();
    let shown: Vec<Example> = examples(&lines)
        .into_iter()
        .filter(|e| e.command.contains("http://127.0.0.1:3000/"))
        .collect();
    let printed: Vec<(u16, String)> = local_api::demo::examples()
        .iter()
        .map(|e| (e.status, e.curl("http://127.0.0.1:3000")))
        .collect();
    let statuses: BTreeSet<u16> = shown.iter().map(|e| e.status).collect();
    assert_eq!(
        statuses,
        BTreeSet::from([200, 401, 403, 404, 409, 422]),
        "{shown:?}"
    );
    for e in &shown {
        assert!(
            printed.contains(&(e.status, e.command.clone())),
            "the README shows a command local-api does not print: {e:?}\nit prints: {printed:#?}"
        );
    }
}

#[test]
fn an_auth_cache_ttl_that_is_not_a_number_of_seconds_stops_it_at_startup() {
    for bad in ["thirty", "-1", "1.5"] {
        let (run, _) = pool_tests::processes::run("local-api", &[], |cmd| {
            cmd.env("PORT", "0")
                .env_remove("TABLE_NAME")
                .env("AUTH_CACHE_TTL_SECS", bad);
        });
        assert!(!run.status.success(), "{bad}: {run:?}");
        assert!(
            run.stderr
                .contains(&format!("local-api: AUTH_CACHE_TTL_SECS is {bad:?}")),
            "{bad}: {run:?}"
        );
        assert!(!run.stdout.contains("listening on"), "{bad}: {run:?}");
    }
}
