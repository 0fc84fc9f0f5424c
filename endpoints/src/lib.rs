//! The one list of endpoints. Each [`Function`] is one Lambda function: its crate (and binary)
//! name, its resource in `template.yaml`, its [`Route`], its handler and its example events.
//! Everything that needs to know which functions exist reads it from here: `local-api`'s
//! routing, the tests, the fuzz target and the benchmark harness. (`shared` cannot hold it:
//! the function crates depend on `shared`.)
//!
//! Adding an endpoint means:
//!
//! 1. a function crate `functions/<verb-noun>/` (package and binary named for its folder) that
//!    exports `pub const ROUTE: Route` and
//!    `pub async fn handle(req: Request, svc: &Services) -> Response<Body>`, in the workspace's
//!    `members`, `default-members` and `[workspace.dependencies]`;
//! 2. its domain module in `shared/src/domain/` (the validated patch and the view);
//! 3. its store methods on the port (`shared/src/store/mod.rs`) and in every adapter (DynamoDB,
//!    memory, faulty), with the contract suite extended to them;
//! 4. one entry here: a variant of [`Function`], in [`Function::ALL`] and in each `match`
//!    below (the compiler points at every one), and the crate in this crate's `Cargo.toml`;
//! 5. its resource in `template.yaml` (`BuildMethod: rust-cargolambda`, `Binary: <name>`, an
//!    `HttpApi` event on `ANY <prefix>{<param>}`), its path in `openapi.yaml`, and its events in
//!    `events/<name>/` (named `<status>-<what>.json`, with a `200-rename.json`).
//!
//! This crate's tests check that the list, the folders under `functions/`, `template.yaml`,
//! `openapi.yaml` and `events/` agree, in both directions where there is one, and that each
//! function's IAM policy in `template.yaml` is DESIGN.md's table of what it may touch
//! (`iam_policies`), and that every metric the template's alarms and dashboard watch is one the
//! functions (`shared::metrics`) or AWS publish (`observability`).

use std::path::Path;

use lambda_http::{Body, Request, Response};
use shared::pipeline::{Route, Services};

#[cfg(test)]
mod iam_policies;
#[cfg(test)]
mod observability;

/// One Lambda function, and the endpoint it serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Function {
    /// `PUT /api/v1/pools/{uuid}`: update a contact pool.
    UpdateContactPool,
    /// `PATCH /v1/guardrails/pools/{id}`: update a guardrail pool.
    PatchGuardrailPool,
}

impl Function {
    /// Every function, each once.
    pub const ALL: [Function; 2] = [Function::UpdateContactPool, Function::PatchGuardrailPool];

    /// The crate and binary name, which is also its folder under `functions/`, its folder
    /// under `events/` and the `Binary` SAM builds.
    pub const fn name(self) -> &'static str {
        match self {
            Self::UpdateContactPool => "update-contact-pool",
            Self::PatchGuardrailPool => "patch-guardrail-pool",
        }
    }

    /// The function's logical id (resource name) in `template.yaml`.
    pub const fn logical_id(self) -> &'static str {
        match self {
            Self::UpdateContactPool => "UpdateContactPoolFunction",
            Self::PatchGuardrailPool => "PatchGuardrailPoolFunction",
        }
    }

    /// The route the function serves, as its crate declares it.
    pub const fn route(self) -> &'static Route {
        match self {
            Self::UpdateContactPool => &update_contact_pool::ROUTE,
            Self::PatchGuardrailPool => &patch_guardrail_pool::ROUTE,
        }
    }

    /// The route's path as API Gateway and `openapi.yaml` write it: `/api/v1/pools/{uuid}`.
    pub fn path_template(self) -> String {
        let route = self.route();
        format!("{}{{{}}}", route.prefix, route.param)
    }

    /// The function's handler. Never fails: every error is a response in its dialect.
    pub async fn handle(self, req: Request, svc: &Services) -> Response<Body> {
        match self {
            Self::UpdateContactPool => update_contact_pool::handle(req, svc).await,
            Self::PatchGuardrailPool => patch_guardrail_pool::handle(req, svc).await,
        }
    }

    /// `events/<name>/`: its API Gateway HTTP API (v2) events, named `<status>-<what>.json`.
    /// The path is where the source tree was when this crate was built.
    pub fn events_dir(self) -> &'static Path {
        Path::new(match self {
            Self::UpdateContactPool => {
                concat!(env!("CARGO_MANIFEST_DIR"), "/../events/update-contact-pool")
            }
            Self::PatchGuardrailPool => {
                concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../events/patch-guardrail-pool"
                )
            }
        })
    }

    /// A successful request's event (`events/<name>/200-rename.json`), built into the binary.
    pub const fn sample_event(self) -> &'static str {
        match self {
            Self::UpdateContactPool => include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../events/update-contact-pool/200-rename.json"
            )),
            Self::PatchGuardrailPool => include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../events/patch-guardrail-pool/200-rename.json"
            )),
        }
    }

    /// The function whose route prefix `path` starts with. The rest of the path is not looked
    /// at: whether it is one valid id segment is for the caller (local-api) or the handler.
    pub fn for_path(path: &str) -> Option<Function> {
        Self::ALL
            .into_iter()
            .find(|f| path.starts_with(f.route().prefix))
    }

    /// The function named `name` ([`Function::name`]).
    pub fn by_name(name: &str) -> Option<Function> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::PathBuf;

    use serde_yaml_ng::Value as Yaml;

    use super::*;

    fn root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    fn yaml(file: &str) -> Yaml {
        let text = std::fs::read_to_string(root().join(file)).expect("read the file");
        serde_yaml_ng::from_str(&text).expect("YAML")
    }

    /// The `name` of a Cargo.toml's `[package]`. A line scan, not a TOML parser: the
    /// workspace's manifests write it as `name = "..."`, and a manifest written otherwise fails
    /// this test loudly rather than passing it.
    fn package_name(manifest: &str) -> Option<String> {
        let mut in_package = false;
        for line in manifest.lines().map(str::trim) {
            if line.starts_with('[') {
                in_package = line == "[package]";
            } else if in_package {
                if let Some(value) = line.strip_prefix("name") {
                    let value = value.trim_start().strip_prefix('=')?.trim();
                    return Some(value.trim_matches('"').to_owned());
                }
            }
        }
        None
    }

    #[test]
    fn all_lists_each_function_once() {
        let set: BTreeSet<Function> = Function::ALL.into_iter().collect();
        assert_eq!(set.len(), Function::ALL.len());
        let names: BTreeSet<&str> = Function::ALL.into_iter().map(Function::name).collect();
        assert_eq!(names.len(), Function::ALL.len());
        // The route names its function (the scope of an Idempotency-Key, API.md §5).
        for f in Function::ALL {
            assert_eq!(f.route().function, f.name());
        }
    }

    #[test]
    fn the_functions_are_exactly_the_crates_under_functions() {
        for f in Function::ALL {
            let manifest = root().join("functions").join(f.name()).join("Cargo.toml");
            let text = std::fs::read_to_string(&manifest)
                .unwrap_or_else(|e| panic!("{}: {e}", manifest.display()));
            assert_eq!(
                package_name(&text).as_deref(),
                Some(f.name()),
                "{}",
                manifest.display()
            );
        }
        for entry in std::fs::read_dir(root().join("functions")).expect("functions/") {
            let entry = entry.expect("dir entry");
            if !entry.file_type().expect("file type").is_dir() {
                continue;
            }
            let folder = entry.file_name().to_string_lossy().into_owned();
            assert!(
                Function::by_name(&folder).is_some(),
                "functions/{folder} is not in endpoints::Function"
            );
        }
    }

    #[test]
    fn the_functions_are_exactly_the_functions_of_template_yaml() {
        let template = yaml("template.yaml");
        let global_code_uri = &template["Globals"]["Function"]["CodeUri"];
        for f in Function::ALL {
            let id = f.logical_id();
            let res = &template["Resources"][id];
            assert_eq!(
                res["Type"].as_str(),
                Some("AWS::Serverless::Function"),
                "{id}"
            );
            // SAM builds the workspace root's binary named for the function.
            let code_uri = match &res["Properties"]["CodeUri"] {
                Yaml::Null => global_code_uri,
                own => own,
            };
            assert_eq!(code_uri.as_str(), Some("."), "{id}: CodeUri");
            assert_eq!(
                res["Metadata"]["BuildMethod"].as_str(),
                Some("rust-cargolambda"),
                "{id}"
            );
            assert_eq!(
                res["Metadata"]["BuildProperties"]["Binary"].as_str(),
                Some(f.name()),
                "{id}"
            );
            let events = res["Properties"]["Events"]
                .as_mapping()
                .unwrap_or_else(|| panic!("{id} has Events"));
            let paths: Vec<&str> = events
                .values()
                .filter(|e| e["Type"].as_str() == Some("HttpApi"))
                .filter_map(|e| e["Properties"]["Path"].as_str())
                .collect();
            assert_eq!(paths, [f.path_template()], "{id}: HttpApi paths");
        }
        let resources = template["Resources"].as_mapping().expect("Resources");
        for (id, res) in resources {
            if res["Type"].as_str() == Some("AWS::Serverless::Function") {
                let id = id.as_str().expect("a string id");
                assert!(
                    Function::ALL.iter().any(|f| f.logical_id() == id),
                    "template.yaml's {id} is not in endpoints::Function"
                );
            }
        }
    }

    #[test]
    fn the_routes_are_exactly_the_paths_of_openapi_yaml() {
        let spec = yaml("openapi.yaml");
        let paths = spec["paths"].as_mapping().expect("paths");
        for f in Function::ALL {
            let route = f.route();
            let path = f.path_template();
            let item = &paths
                .get(path.as_str())
                .unwrap_or_else(|| panic!("openapi.yaml has no path {path}"));
            let method = route.method.as_str().to_ascii_lowercase();
            assert!(
                item.get(method.as_str()).is_some(),
                "openapi.yaml has no {method} on {path}"
            );
            let params: Vec<&str> = item["parameters"]
                .as_sequence()
                .into_iter()
                .flatten()
                .filter(|p| p["in"].as_str() == Some("path"))
                .filter_map(|p| p["name"].as_str())
                .collect();
            assert_eq!(params, [route.param], "{path}: path parameters");
        }
        for path in paths.keys() {
            let path = path.as_str().expect("a string path");
            let f = Function::for_path(path)
                .unwrap_or_else(|| panic!("openapi.yaml's {path} is no function's route"));
            assert_eq!(path, f.path_template());
        }
    }

    #[test]
    fn each_sample_event_is_a_successful_request_of_its_own_route() {
        for f in Function::ALL {
            let on_disk = std::fs::read_to_string(f.events_dir().join("200-rename.json"))
                .expect("events/<name>/200-rename.json");
            assert_eq!(f.sample_event(), on_disk, "{}", f.name());
            assert!(f.events_dir().ends_with(Path::new("events").join(f.name())));

            let req = lambda_http::request::from_str(f.sample_event())
                .unwrap_or_else(|e| panic!("{}: lambda_http reads the event: {e}", f.name()));
            assert_eq!(req.method(), f.route().method, "{}", f.name());
            assert_eq!(
                Function::for_path(req.uri().path()),
                Some(f),
                "{}",
                f.name()
            );
            let event: serde_json::Value =
                serde_json::from_str(f.sample_event()).expect("the event is JSON");
            assert_eq!(event["routeKey"], format!("ANY {}", f.path_template()));
        }
    }

    #[test]
    fn names_and_paths_lead_back_to_their_function() {
        for f in Function::ALL {
            assert_eq!(Function::by_name(f.name()), Some(f));
            let prefix = f.route().prefix;
            assert_eq!(Function::for_path(prefix), Some(f));
            assert_eq!(Function::for_path(&format!("{prefix}some-id")), Some(f));
            assert_eq!(Function::for_path(&f.path_template()), Some(f));
            // A prefix, not a substring: the route somewhere inside another path is no match.
            assert_eq!(Function::for_path(&format!("/x{prefix}id")), None);
        }
        for none in [
            "",
            "update",
            "Update-Contact-Pool",
            "functions/update-contact-pool",
        ] {
            assert_eq!(Function::by_name(none), None, "{none}");
        }
        for none in [
            "",
            "/",
            "/api/v1/pools",
            "/v1/guardrails/pool/x",
            "api/v1/pools/x",
        ] {
            assert_eq!(Function::for_path(none), None, "{none}");
        }
    }
}
