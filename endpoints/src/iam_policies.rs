//! `template.yaml`'s IAM policies against DESIGN.md's "What each function may touch" table, both
//! ways: every (action, key prefix) a function's policy allows is a row of that function, and
//! every row is allowed. Plus what no edit may undo: every statement is limited by
//! `dynamodb:LeadingKeys`, no function can write an API key, no statement lets a keyless request
//! through `ForAllValues`; and the deployment the `Idempotency-Key` needs (the table's TTL,
//! CORS). The checks return their findings, so the tests below also edit the documents and see
//! each kind of drift caught.
//!
//! `template.yaml` is read with serde_yaml_ng like the rest of this crate's tests: CloudFormation's
//! short tags (`!GetAtt`, `!If`, …) come back as tagged values and are read as such.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_yaml_ng::Value as Yaml;
use shared::domain::guardrail_pool::Slug;
use shared::domain::idempotency;
use shared::domain::ids::{OrgId, PoolId};
use shared::store::dynamodb::{keys, TTL_ATTRIBUTE};

use crate::Function;

/// The table whose rows are the grants.
const DESIGN_HEADING: &str = "### What each function may touch";
const LEADING_KEYS: &str = "dynamodb:LeadingKeys";
const WRITE_ACTIONS: [&str; 4] = [
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
];
/// Actions whose requests always name at least one key, so `dynamodb:LeadingKeys` is never
/// empty for them. `ForAllValues` holds for an empty set: any other action (a `Scan`) would pass
/// a statement without a `Null` check on the key.
const KEYED_ACTIONS: [&str; 8] = [
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:Query",
];
/// Items no function may write: API keys and their id pointers.
const API_KEY_PREFIX: &str = "APIKEY";

/// (IAM action, key prefix): one thing a function may do.
type Grant = (String, String);

/// One `Allow` statement as far as these checks read it.
#[derive(Debug, Default)]
struct Statement {
    sid: String,
    actions: Vec<String>,
    /// The prefixes of `ForAllValues:StringLike` `dynamodb:LeadingKeys` (each `<prefix>*`);
    /// `None` without that condition.
    prefixes: Option<Vec<String>>,
    /// `Null: {dynamodb:LeadingKeys: false}`: the request must name keys.
    requires_keys: bool,
}

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn template() -> Yaml {
    let text = std::fs::read_to_string(root().join("template.yaml")).expect("template.yaml");
    serde_yaml_ng::from_str(&text).expect("template.yaml is YAML")
}

fn design() -> String {
    std::fs::read_to_string(root().join("DESIGN.md")).expect("DESIGN.md")
}

/// A CloudFormation short tag's value (`!GetAtt X.Arn` → `X.Arn`), if `v` is that tag.
fn tagged<'a>(v: &'a Yaml, tag: &str) -> Option<&'a Yaml> {
    match v {
        Yaml::Tagged(t) if t.tag == tag => Some(&t.value),
        _ => None,
    }
}

/// A string or a list of strings, as IAM writes `Action` and condition values.
fn strings(v: &Yaml) -> Option<Vec<String>> {
    match v {
        Yaml::String(s) => Some(vec![s.clone()]),
        Yaml::Sequence(items) => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned))
            .collect(),
        _ => None,
    }
}

fn is_table_arn(v: &Yaml) -> bool {
    match v {
        Yaml::Sequence(items) => items.len() == 1 && is_table_arn(&items[0]),
        _ => tagged(v, "GetAtt").and_then(Yaml::as_str) == Some("PoolsTable.Arn"),
    }
}

/// The function's statements, or what makes one unreadable here (which is a finding: a
/// statement this check cannot read is a statement it cannot vouch for).
fn statements(template: &Yaml, f: Function) -> Result<Vec<Statement>, Vec<String>> {
    let id = f.logical_id();
    let Some(policies) = template["Resources"][id]["Properties"]["Policies"].as_sequence() else {
        return Err(vec![format!("{id}: no Policies list")]);
    };
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for policy in policies {
        // SAM also takes policy templates (`DynamoDBCrudPolicy: …`) and managed policy names:
        // neither says which keys it allows.
        let Some(list) = policy["Statement"].as_sequence() else {
            problems.push(format!(
                "{id}: {policy:?} is not an inline policy document with a Statement list"
            ));
            continue;
        };
        for (i, s) in list.iter().enumerate() {
            let sid = s["Sid"]
                .as_str()
                .map_or_else(|| format!("#{i}"), str::to_owned);
            let at = format!("{id} {sid}");
            let Some(map) = s.as_mapping() else {
                problems.push(format!("{at}: not a mapping"));
                continue;
            };
            for key in map.keys().filter_map(Yaml::as_str) {
                if !["Sid", "Effect", "Action", "Resource", "Condition"].contains(&key) {
                    problems.push(format!("{at}: {key} is not read by this check"));
                }
            }
            if s["Effect"].as_str() != Some("Allow") {
                problems.push(format!("{at}: only Allow statements are expected"));
            }
            if !is_table_arn(&s["Resource"]) {
                problems.push(format!("{at}: Resource is not !GetAtt PoolsTable.Arn"));
            }
            let actions = strings(&s["Action"]).unwrap_or_default();
            if actions.is_empty() {
                problems.push(format!("{at}: no Action"));
            }
            for a in &actions {
                if !a.starts_with("dynamodb:") || a.contains(['*', '?']) {
                    problems.push(format!("{at}: {a} is not one named DynamoDB action"));
                }
            }
            let mut statement = Statement {
                sid: at.clone(),
                actions,
                ..Statement::default()
            };
            if let Some(conditions) = s["Condition"].as_mapping() {
                for (op, keys) in conditions {
                    let op = op.as_str().unwrap_or_default();
                    let Some(keys) = keys.as_mapping() else {
                        problems.push(format!("{at}: {op} is not a mapping"));
                        continue;
                    };
                    for (key, value) in keys {
                        let key = key.as_str().unwrap_or_default();
                        match (op, key) {
                            ("ForAllValues:StringLike", LEADING_KEYS) => {
                                let patterns = strings(value).unwrap_or_default();
                                let mut prefixes = Vec::new();
                                for p in &patterns {
                                    match p.strip_suffix('*') {
                                        Some(prefix) if !prefix.contains(['*', '?']) => {
                                            prefixes.push(prefix.to_owned());
                                        }
                                        _ => problems.push(format!(
                                            "{at}: {p:?} is not a literal key prefix and `*`"
                                        )),
                                    }
                                }
                                if prefixes.is_empty() {
                                    problems.push(format!("{at}: {LEADING_KEYS} names no prefix"));
                                }
                                statement.prefixes = Some(prefixes);
                            }
                            ("Null", LEADING_KEYS) => {
                                statement.requires_keys = matches!(value, Yaml::Bool(false))
                                    || value.as_str() == Some("false");
                            }
                            _ => problems.push(format!(
                                "{at}: condition {op} {key} is not read by this check"
                            )),
                        }
                    }
                }
            }
            out.push(statement);
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// What must hold of every statement, whatever DESIGN.md says.
fn statement_problems(template: &Yaml) -> Vec<String> {
    let mut problems = Vec::new();
    for f in Function::ALL {
        let statements = match statements(template, f) {
            Ok(s) => s,
            Err(mut p) => {
                problems.append(&mut p);
                continue;
            }
        };
        for s in statements {
            let Some(prefixes) = &s.prefixes else {
                problems.push(format!(
                    "{}: no ForAllValues:StringLike {LEADING_KEYS} condition: it allows {:?} on \
                     every item of the table",
                    s.sid, s.actions
                ));
                continue;
            };
            for a in &s.actions {
                if !s.requires_keys && !KEYED_ACTIONS.contains(&a.as_str()) {
                    problems.push(format!(
                        "{}: {a} can send no key, and ForAllValues holds for no keys: add \
                         Null: {{{LEADING_KEYS}: \"false\"}}",
                        s.sid
                    ));
                }
                if WRITE_ACTIONS.contains(&a.as_str()) {
                    for p in prefixes {
                        // `p*` reaches an API key's item if either prefix starts the other.
                        if p.starts_with(API_KEY_PREFIX) || API_KEY_PREFIX.starts_with(p.as_str()) {
                            problems.push(format!(
                                "{}: {a} on {p:?}* can write an API key's item",
                                s.sid
                            ));
                        }
                    }
                }
            }
        }
    }
    problems
}

/// Every (action, prefix) the function's policy allows.
fn grants(template: &Yaml, f: Function) -> BTreeSet<Grant> {
    let statements = statements(template, f).unwrap_or_else(|p| panic!("{}", p.join("\n")));
    let mut out = BTreeSet::new();
    for s in statements {
        for a in &s.actions {
            for p in s.prefixes.iter().flatten() {
                out.insert((a.clone(), p.clone()));
            }
        }
    }
    out
}

/// DESIGN.md's table, by function.
fn design_rows(design: &str) -> BTreeMap<Function, BTreeSet<Grant>> {
    let section = design
        .split_once(DESIGN_HEADING)
        .unwrap_or_else(|| panic!("DESIGN.md has no {DESIGN_HEADING:?}"))
        .1;
    let mut lines = section
        .lines()
        .map(str::trim)
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'));
    let cells = |line: &str| -> Vec<String> {
        line.trim_matches('|')
            .split('|')
            .map(|c| c.trim().trim_matches('`').to_owned())
            .collect()
    };
    let header = cells(lines.next().expect("the table's header"));
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("the table has no {name:?} column: {header:?}"))
    };
    let (fc, ac, pc) = (
        column("function"),
        column("IAM action"),
        column("key prefix"),
    );
    let mut out: BTreeMap<Function, BTreeSet<Grant>> = BTreeMap::new();
    for line in lines.skip(1) {
        let row = cells(line);
        let f = Function::by_name(&row[fc])
            .unwrap_or_else(|| panic!("DESIGN.md: {:?} is not a function", row[fc]));
        let grant = (row[ac].clone(), row[pc].clone());
        assert!(
            grant.0.starts_with("dynamodb:") && !grant.1.is_empty(),
            "DESIGN.md: {line}"
        );
        assert!(
            out.entry(f).or_default().insert(grant),
            "DESIGN.md lists twice: {line}"
        );
    }
    out
}

/// The rows and the grants, compared both ways.
fn design_mismatches(template: &Yaml, design: &str) -> Vec<String> {
    let rows = design_rows(design);
    let mut problems = Vec::new();
    for f in Function::ALL {
        let allowed = grants(template, f);
        let documented = rows.get(&f).cloned().unwrap_or_default();
        for (a, p) in allowed.difference(&documented) {
            problems.push(format!(
                "{}: template.yaml allows {a} on {p}*, DESIGN.md has no such row",
                f.name()
            ));
        }
        for (a, p) in documented.difference(&allowed) {
            problems.push(format!(
                "{}: DESIGN.md lists {a} on {p}, template.yaml does not allow it",
                f.name()
            ));
        }
    }
    problems
}

#[test]
fn every_grant_of_template_yaml_is_a_row_of_design_md_and_every_row_a_grant() {
    let problems = design_mismatches(&template(), &design());
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
    // Each function has rows: the comparison above cannot pass on an empty table.
    let rows = design_rows(&design());
    for f in Function::ALL {
        assert!(rows.get(&f).is_some_and(|r| r.len() >= 5), "{}", f.name());
    }
}

#[test]
fn every_statement_is_limited_by_leading_keys_and_none_writes_an_api_key() {
    let problems = statement_problems(&template());
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

/// The prefixes in DESIGN.md are the code's own (`shared::store::dynamodb::keys`), and a
/// function's idempotency records are its own.
#[test]
fn design_md_s_prefixes_are_the_prefixes_of_the_code_s_keys() {
    let (org, pool) = (OrgId::new_v4(), PoolId::new_v4());
    let slug = Slug::parse("a-slug").expect("a slug");
    for (f, rows) in design_rows(&design()) {
        let own_record = keys::idempotency_record(f.name(), org, &"0".repeat(64));
        let made = [
            keys::api_key(&"0".repeat(64)),
            keys::contact_pool(pool),
            keys::guardrail_pool(pool),
            keys::slug_claim(org, &slug),
            own_record.clone(),
        ];
        for (action, prefix) in rows {
            assert!(
                made.iter().any(|k| k.starts_with(&prefix)),
                "{} {action}: {prefix} starts none of the code's keys {made:?}",
                f.name()
            );
            if prefix.starts_with("IDEMPOTENCY#") {
                assert!(
                    own_record.starts_with(&prefix) && prefix.len() > "IDEMPOTENCY#".len(),
                    "{} {action}: {prefix} is not (only) its own records' prefix",
                    f.name()
                );
            }
        }
    }
}

#[test]
fn the_table_expires_idempotency_records_by_their_ttl_attribute() {
    let t = template();
    let ttl = &t["Resources"]["PoolsTable"]["Properties"]["TimeToLiveSpecification"];
    assert_eq!(
        ttl["AttributeName"].as_str(),
        Some(TTL_ATTRIBUTE),
        "{ttl:?}"
    );
    assert_eq!(ttl["Enabled"].as_bool(), Some(true), "{ttl:?}");
}

#[test]
fn cors_lets_browsers_send_an_idempotency_key_and_read_the_replay_header() {
    let t = template();
    // `!If [HasCors, {…}, !Ref AWS::NoValue]`
    let cors = tagged(
        &t["Resources"]["HttpApi"]["Properties"]["CorsConfiguration"],
        "If",
    )
    .and_then(|branches| branches.get(1))
    .expect("CorsConfiguration: !If [HasCors, {…}, …]");
    let lower = |list: &Yaml| -> Vec<String> {
        strings(list)
            .unwrap_or_default()
            .iter()
            .map(|h| h.to_ascii_lowercase())
            .collect()
    };
    let allow = lower(&cors["AllowHeaders"]);
    for h in [
        "authorization",
        "content-type",
        "if-match",
        idempotency::HEADER,
    ] {
        assert!(allow.iter().any(|a| a == h), "AllowHeaders {allow:?}: {h}");
    }
    let expose = lower(&cors["ExposeHeaders"]);
    for h in ["etag", "x-request-id", idempotency::REPLAYED_HEADER] {
        assert!(
            expose.iter().any(|e| e == h),
            "ExposeHeaders {expose:?}: {h}"
        );
    }
}

/// Each kind of drift is caught: the checks above are not vacuous.
mod drift {
    use super::*;

    /// The template with `edit` applied to the statement `sid` of `f`.
    fn edited(f: Function, sid: &str, edit: impl FnOnce(&mut Yaml)) -> Yaml {
        let mut t = template();
        let statement = t["Resources"][f.logical_id()]["Properties"]["Policies"][0]["Statement"]
            .as_sequence_mut()
            .expect("statements")
            .iter_mut()
            .find(|s| s["Sid"].as_str() == Some(sid))
            .unwrap_or_else(|| panic!("{sid}"));
        edit(statement);
        t
    }

    fn add_action(s: &mut Yaml, action: &str) {
        s["Action"]
            .as_sequence_mut()
            .expect("an Action list")
            .push(Yaml::from(action));
    }

    fn mentions(problems: &[String], what: &str) -> bool {
        problems.iter().any(|p| p.contains(what))
    }

    #[test]
    fn a_write_on_api_keys_is_caught() {
        let t = edited(Function::UpdateContactPool, "ReadApiKeys", |s| {
            add_action(s, "dynamodb:UpdateItem")
        });
        assert!(mentions(&statement_problems(&t), "can write an API key"));
        assert!(mentions(
            &design_mismatches(&t, &design()),
            "allows dynamodb:UpdateItem on APIKEY#*"
        ));
    }

    #[test]
    fn a_prefix_wide_enough_to_reach_api_keys_is_caught() {
        let t = edited(Function::PatchGuardrailPool, "DeleteSlugClaims", |s| {
            s["Condition"]["ForAllValues:StringLike"][LEADING_KEYS] =
                Yaml::Sequence(vec![Yaml::from("SLUG#*"), Yaml::from("A*")]);
        });
        assert!(mentions(&statement_problems(&t), "can write an API key"));
    }

    #[test]
    fn a_statement_without_leading_keys_is_caught() {
        let t = edited(Function::PatchGuardrailPool, "UpdateGuardrailPools", |s| {
            s.as_mapping_mut().expect("a mapping").remove("Condition");
        });
        assert!(mentions(
            &statement_problems(&t),
            "no ForAllValues:StringLike"
        ));
    }

    #[test]
    fn a_keyless_action_without_a_null_check_is_caught() {
        let t = edited(
            Function::UpdateContactPool,
            "ReadContactPoolsAndRecords",
            |s| add_action(s, "dynamodb:Scan"),
        );
        assert!(mentions(
            &statement_problems(&t),
            "dynamodb:Scan can send no key"
        ));
        let guarded = edited(
            Function::UpdateContactPool,
            "ReadContactPoolsAndRecords",
            |s| {
                add_action(s, "dynamodb:Scan");
                s["Condition"]["Null"] =
                    serde_yaml_ng::from_str("{dynamodb:LeadingKeys: \"false\"}").expect("YAML");
            },
        );
        assert!(!mentions(&statement_problems(&guarded), "can send no key"));
    }

    #[test]
    fn another_function_s_records_are_caught() {
        let t = edited(Function::UpdateContactPool, "PutContactPoolRecords", |s| {
            s["Condition"]["ForAllValues:StringLike"][LEADING_KEYS] =
                Yaml::Sequence(vec![Yaml::from("IDEMPOTENCY#*")]);
        });
        assert!(mentions(
            &design_mismatches(&t, &design()),
            "allows dynamodb:PutItem on IDEMPOTENCY#*"
        ));
    }

    #[test]
    fn a_row_the_template_does_not_allow_is_caught() {
        let d = design().replace(
            "| patch-guardrail-pool | `dynamodb:DeleteItem` | `SLUG#` |",
            "| patch-guardrail-pool | `dynamodb:DeleteItem` | `GUARDRAILPOOL#` |",
        );
        let problems = design_mismatches(&template(), &d);
        assert!(mentions(
            &problems,
            "DESIGN.md lists dynamodb:DeleteItem on GUARDRAILPOOL#"
        ));
        assert!(mentions(&problems, "allows dynamodb:DeleteItem on SLUG#*"));
    }

    #[test]
    fn a_policy_template_is_not_taken_on_trust() {
        let mut t = template();
        t["Resources"][Function::PatchGuardrailPool.logical_id()]["Properties"]["Policies"]
            .as_sequence_mut()
            .expect("policies")
            .push(serde_yaml_ng::from_str("DynamoDBCrudPolicy: {TableName: x}").expect("YAML"));
        assert!(mentions(
            &statement_problems(&t),
            "not an inline policy document"
        ));
    }
}
