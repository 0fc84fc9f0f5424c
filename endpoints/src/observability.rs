//! `template.yaml`'s alarms and dashboard against the metrics that exist. Every metric an
//! `AWS::CloudWatch::Alarm` names (alone, or in its `Metrics` metric-math list) and every metric
//! of the dashboard's widgets (its `DashboardBody`, a `!Sub` JSON string, read after
//! substituting) is one that is actually published:
//!
//! - in our namespace (`!Ref MetricsNamespace`, never a literal, which would stop matching the
//!   functions' `METRICS_NAMESPACE` once the parameter changes): a name of
//!   `shared::metrics::METRICS`, with one of its `DIMENSION_SETS`, `Function` the name of one of
//!   [`Function::ALL`] (the binary's name, as the EMF document writes it) and `Status` a status
//!   that function answers (`openapi.yaml`'s statuses on its path, but API Gateway's own 429);
//! - in an AWS namespace: a metric of [`AWS_METRICS`], with one of the dimension sets AWS
//!   publishes it under, each dimension naming this stack's resource (`!Ref` of the function,
//!   the table, the API) or a value AWS uses (`$default` stage, the DynamoDB operations the
//!   functions send).
//!
//! And the other way: the alarms issue 13 asks for exist (a 5xx share per function over all the
//! 5xx its path declares, p99 latency per function, Lambda errors and throttles per function,
//! API Gateway 5xx, DynamoDB throttles and system errors over every operation the functions
//! send), each threshold is a parameter with a default, each alarm notifies the `AlarmEmail`
//! topic when there is one, and the dashboard shows what the issue lists. The checks return
//! their findings; the `drift` tests edit the template and see each kind of mistake caught.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value as Json;
use serde_yaml_ng::Value as Yaml;
use shared::metrics::{DIMENSION_FUNCTION, DIMENSION_SETS, DIMENSION_STATUS, METRICS};

use crate::Function;

/// The parameter holding our namespace (the functions' `METRICS_NAMESPACE`).
const NAMESPACE_PARAMETER: &str = "MetricsNamespace";
/// The condition under which the alarms' SNS topic exists.
const ALARM_CONDITION: &str = "HasAlarmEmail";
const ALARM_TOPIC: &str = "AlarmTopic";
const TABLE: &str = "PoolsTable";
const API: &str = "HttpApi";
const DASHBOARD: &str = "OperationsDashboard";
/// The stage SAM deploys an `AWS::Serverless::HttpApi` without `StageName` to.
const DEFAULT_STAGE: &str = "$default";
/// Statuses `openapi.yaml` declares that API Gateway answers, never the functions.
const GATEWAY_ONLY_STATUSES: [&str; 1] = ["429"];
/// The DynamoDB operations the functions send (`shared::store::dynamodb`): a key's record
/// (`GetItem`), a pool with its Idempotency-Key record (`BatchGetItem`), a change
/// (`UpdateItem`), a recorded change or a slug move (`TransactWriteItems`). `PutItem` and
/// `DeleteItem` happen only inside transactions; DynamoDB reports those as `TransactWriteItems`.
const DYNAMODB_OPERATIONS: [&str; 4] = [
    "GetItem",
    "BatchGetItem",
    "UpdateItem",
    "TransactWriteItems",
];

/// A namespace of AWS's, metric names in it, and the dimension sets each is published under.
type AwsMetrics = (
    &'static str,
    &'static [&'static str],
    &'static [&'static [&'static str]],
);

/// What AWS publishes, as far as this template uses it: namespace, metric names, and the
/// dimension sets each is published under (AWS documentation: "Monitor CloudWatch metrics for
/// HTTP APIs" — `4xx`, `5xx`, `Count`, `Latency`, `IntegrationLatency`, `DataProcessed` by
/// `ApiId` or `ApiId`+`Stage`, REST APIs' `5XXError` is not one of them; Lambda's function
/// metrics by `FunctionName`; DynamoDB's "Metrics and dimensions" — `ThrottledRequests` and
/// `SystemErrors` by `TableName`+`Operation` only, consumed capacity by `TableName`).
const AWS_METRICS: [AwsMetrics; 4] = [
    (
        "AWS/Lambda",
        &[
            "Errors",
            "Throttles",
            "Invocations",
            "Duration",
            "ConcurrentExecutions",
        ],
        &[&["FunctionName"]],
    ),
    (
        "AWS/ApiGateway",
        &[
            "4xx",
            "5xx",
            "Count",
            "Latency",
            "IntegrationLatency",
            "DataProcessed",
        ],
        &[&["ApiId"], &["ApiId", "Stage"]],
    ),
    (
        "AWS/DynamoDB",
        &["ThrottledRequests", "SystemErrors"],
        &[&["TableName", "Operation"]],
    ),
    (
        "AWS/DynamoDB",
        &[
            "ConsumedReadCapacityUnits",
            "ConsumedWriteCapacityUnits",
            "ReadThrottleEvents",
            "WriteThrottleEvents",
        ],
        &[&["TableName"]],
    ),
];

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn read_yaml(file: &str) -> Yaml {
    let text = std::fs::read_to_string(root().join(file)).expect("read the file");
    serde_yaml_ng::from_str(&text).expect("YAML")
}

fn template() -> Yaml {
    read_yaml("template.yaml")
}

fn openapi() -> Yaml {
    read_yaml("openapi.yaml")
}

/// A CloudFormation short tag's value (`!Ref X` → `X`), if `v` is that tag.
fn tagged<'a>(v: &'a Yaml, tag: &str) -> Option<&'a Yaml> {
    match v {
        Yaml::Tagged(t) if t.tag == tag => Some(&t.value),
        _ => None,
    }
}

/// A namespace or a dimension's value, as the template writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Val {
    /// A literal string.
    Lit(String),
    /// `!Ref X` (in YAML) or `${X}` (in the dashboard's `!Sub`).
    Ref(String),
    /// Anything else (another function, a number): a finding.
    Other(String),
}

impl Val {
    fn of_yaml(v: &Yaml) -> Val {
        match (v, tagged(v, "Ref").and_then(Yaml::as_str)) {
            (_, Some(id)) => Val::Ref(id.to_owned()),
            (Yaml::String(s), None) => Val::Lit(s.clone()),
            _ => Val::Other(format!("{v:?}")),
        }
    }

    fn lit(&self) -> Option<&str> {
        match self {
            Val::Lit(s) => Some(s),
            _ => None,
        }
    }
}

/// One metric an alarm or a widget names. A `SEARCH` names dimensions without values (`None`).
#[derive(Debug, Clone)]
struct Metric {
    at: String,
    namespace: Val,
    name: String,
    dims: Vec<(String, Option<Val>)>,
}

impl Metric {
    fn dim(&self, name: &str) -> Option<&Val> {
        self.dims
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.as_ref())
    }

    fn dim_names(&self) -> BTreeSet<&str> {
        self.dims.iter().map(|(n, _)| n.as_str()).collect()
    }

    fn is_ours(&self) -> bool {
        self.namespace == Val::Ref(NAMESPACE_PARAMETER.to_owned())
    }

    /// `namespace` (`None`: ours), `name`, and each `(dimension, value)` given.
    fn is(&self, namespace: Option<&str>, name: &str, dims: &[(&str, &Val)]) -> bool {
        let ns = match namespace {
            None => self.is_ours(),
            Some(ns) => self.namespace.lit() == Some(ns),
        };
        ns && self.name == name
            && self.dims.len() == dims.len()
            && dims.iter().all(|(n, v)| self.dim(n) == Some(*v))
    }
}

/// The statuses each function answers: those `openapi.yaml` declares on its path, on any
/// method (every method reaches the function), but API Gateway's own.
fn statuses(openapi: &Yaml) -> BTreeMap<Function, BTreeSet<String>> {
    let mut out = BTreeMap::new();
    for f in Function::ALL {
        let item = &openapi["paths"][f.path_template().as_str()];
        let mut set = BTreeSet::new();
        for op in item.as_mapping().into_iter().flat_map(|m| m.values()) {
            for code in op["responses"]
                .as_mapping()
                .into_iter()
                .flat_map(|m| m.keys())
            {
                let code = match code {
                    Yaml::String(s) => s.clone(),
                    Yaml::Number(n) => n.to_string(),
                    other => panic!("openapi.yaml: a response code {other:?}"),
                };
                if !GATEWAY_ONLY_STATUSES.contains(&code.as_str()) {
                    set.insert(code);
                }
            }
        }
        assert!(set.contains("200"), "openapi.yaml: {} has no 200", f.name());
        out.insert(f, set);
    }
    out
}

/// What is wrong with `m`, if anything: it is not a metric anyone publishes.
fn metric_problems(m: &Metric, statuses: &BTreeMap<Function, BTreeSet<String>>) -> Vec<String> {
    let mut problems = Vec::new();
    let at = &m.at;
    let names = m.dim_names();
    if names.len() != m.dims.len() {
        problems.push(format!("{at}: a dimension named twice: {:?}", m.dims));
    }
    match &m.namespace {
        Val::Ref(ns) if ns == NAMESPACE_PARAMETER => {
            if !METRICS.iter().any(|known| known.name == m.name) {
                problems.push(format!(
                    "{at}: {} is not a metric the functions emit (shared::metrics::METRICS)",
                    m.name
                ));
            }
            if !DIMENSION_SETS
                .iter()
                .any(|set| set.iter().copied().collect::<BTreeSet<_>>() == names)
            {
                problems.push(format!(
                    "{at}: dimensions {names:?} are not a dimension set the functions emit \
                     ({DIMENSION_SETS:?})"
                ));
            }
            let function = match m.dim(DIMENSION_FUNCTION) {
                None => None,
                Some(v) => match v.lit().and_then(Function::by_name) {
                    Some(f) => Some(f),
                    None => {
                        problems.push(format!(
                            "{at}: {DIMENSION_FUNCTION} {v:?} is not a function's name (the \
                             binary's, as endpoints::Function::name)"
                        ));
                        None
                    }
                },
            };
            if let (Some(v), Some(f)) = (m.dim(DIMENSION_STATUS), function) {
                if !v.lit().is_some_and(|s| statuses[&f].contains(s)) {
                    problems.push(format!(
                        "{at}: {DIMENSION_STATUS} {v:?} is not a status {} answers ({:?})",
                        f.name(),
                        statuses[&f]
                    ));
                }
            }
        }
        Val::Lit(ns) if ns.starts_with("AWS/") => {
            let entry = AWS_METRICS
                .iter()
                .find(|(n, metrics, _)| n == ns && metrics.contains(&m.name.as_str()));
            let Some((_, _, sets)) = entry else {
                problems.push(format!("{at}: {ns} publishes no metric {}", m.name));
                return problems;
            };
            if !sets
                .iter()
                .any(|set| set.iter().copied().collect::<BTreeSet<_>>() == names)
            {
                problems.push(format!(
                    "{at}: {ns} publishes {} by {sets:?}, not by {names:?}",
                    m.name
                ));
            }
            for (name, value) in &m.dims {
                let Some(value) = value else { continue };
                let ok = match name.as_str() {
                    "FunctionName" => Function::ALL
                        .iter()
                        .any(|f| *value == Val::Ref(f.logical_id().to_owned())),
                    "TableName" => *value == Val::Ref(TABLE.to_owned()),
                    "ApiId" => *value == Val::Ref(API.to_owned()),
                    "Stage" => value.lit() == Some(DEFAULT_STAGE),
                    "Operation" => value
                        .lit()
                        .is_some_and(|op| DYNAMODB_OPERATIONS.contains(&op)),
                    _ => false,
                };
                if !ok {
                    problems.push(format!(
                        "{at}: {name} {value:?} is not this stack's resource or a value AWS \
                         publishes it with"
                    ));
                }
            }
        }
        Val::Lit(ns) => problems.push(format!(
            "{at}: namespace {ns:?}: ours is !Ref {NAMESPACE_PARAMETER} (a literal stops \
             matching METRICS_NAMESPACE when the parameter changes), AWS's start with AWS/"
        )),
        other => problems.push(format!(
            "{at}: namespace {other:?} is not read by this check"
        )),
    }
    problems
}

/// One alarm as far as these checks read it.
#[derive(Debug, Default)]
struct Alarm {
    id: String,
    /// Each metric with its query id (metric math) and its statistic.
    metrics: Vec<(Option<String>, Metric, Option<String>)>,
    /// The metric-math expressions (a watched `MetricStat` counts as the expression of its id),
    /// with whether each is the one the alarm watches.
    expressions: Vec<(String, bool)>,
}

fn yaml_metric(at: String, m: &Yaml) -> Metric {
    let dims = m["Dimensions"]
        .as_sequence()
        .into_iter()
        .flatten()
        .map(|d| {
            (
                d["Name"].as_str().unwrap_or("<no Name>").to_owned(),
                Some(Val::of_yaml(&d["Value"])),
            )
        })
        .collect();
    Metric {
        at,
        namespace: Val::of_yaml(&m["Namespace"]),
        name: m["MetricName"]
            .as_str()
            .unwrap_or("<no MetricName>")
            .to_owned(),
        dims,
    }
}

/// Every alarm, and what makes one unreadable here (a finding).
fn alarms(template: &Yaml) -> (Vec<Alarm>, Vec<String>) {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let resources = template["Resources"].as_mapping().expect("Resources");
    for (id, res) in resources {
        if res["Type"].as_str() != Some("AWS::CloudWatch::Alarm") {
            continue;
        }
        let id = id.as_str().expect("a string id").to_owned();
        let p = &res["Properties"];
        let mut alarm = Alarm {
            id: id.clone(),
            ..Alarm::default()
        };
        match (p.get("MetricName"), p["Metrics"].as_sequence()) {
            (Some(_), None) => {
                let stat = p["ExtendedStatistic"]
                    .as_str()
                    .or(p["Statistic"].as_str())
                    .map(str::to_owned);
                alarm.metrics.push((None, yaml_metric(id.clone(), p), stat));
            }
            (None, Some(queries)) => {
                for q in queries {
                    let qid = q["Id"].as_str().unwrap_or("<no Id>").to_owned();
                    let at = format!("{id} {qid}");
                    let returned = q["ReturnData"].as_bool() == Some(true);
                    if let Some(expr) = q["Expression"].as_str().map(str::to_owned).or_else(|| {
                        // `!Sub` of a string: its text (parameters are not metrics).
                        tagged(&q["Expression"], "Sub")
                            .and_then(Yaml::as_str)
                            .map(str::to_owned)
                    }) {
                        if expr.to_ascii_uppercase().contains("SEARCH") {
                            problems.push(format!("{at}: an alarm's metric math cannot SEARCH"));
                        }
                        alarm.expressions.push((expr, returned));
                    } else if q["MetricStat"].is_mapping() {
                        let stat = q["MetricStat"]["Stat"].as_str().map(str::to_owned);
                        let metric = yaml_metric(at.clone(), &q["MetricStat"]["Metric"]);
                        alarm.metrics.push((Some(qid), metric, stat));
                        if returned {
                            alarm
                                .expressions
                                .push((q["Id"].as_str().unwrap_or("").to_owned(), true));
                        }
                    } else {
                        problems.push(format!("{at}: neither an Expression nor a MetricStat"));
                    }
                }
                let watched = alarm.expressions.iter().filter(|(_, r)| *r).count();
                if watched != 1 {
                    problems.push(format!(
                        "{id}: {watched} queries have ReturnData: true (an alarm watches one)"
                    ));
                }
            }
            _ => problems.push(format!(
                "{id}: neither a single MetricName nor a Metrics list (exactly one of them)"
            )),
        }
        out.push(alarm);
    }
    (out, problems)
}

/// Every metric every alarm names is published (see [`metric_problems`]).
fn alarm_metric_problems(template: &Yaml, openapi: &Yaml) -> Vec<String> {
    let statuses = statuses(openapi);
    let (alarms, mut problems) = alarms(template);
    for a in &alarms {
        if a.metrics.is_empty() {
            problems.push(format!("{}: names no metric", a.id));
        }
        for (_, m, _) in &a.metrics {
            problems.extend(metric_problems(m, &statuses));
        }
    }
    problems
}

/// Each alarm's threshold is a parameter with a default, and it notifies the topic when there
/// is one (`!If [HasAlarmEmail, [!Ref AlarmTopic], !Ref AWS::NoValue]`).
fn alarm_setting_problems(template: &Yaml) -> Vec<String> {
    let expected: Yaml = serde_yaml_ng::from_str(&format!(
        "!If [{ALARM_CONDITION}, [!Ref {ALARM_TOPIC}], !Ref AWS::NoValue]"
    ))
    .expect("YAML");
    let mut problems = Vec::new();
    let topic = &template["Resources"][ALARM_TOPIC];
    if topic["Type"].as_str() != Some("AWS::SNS::Topic")
        || topic["Condition"].as_str() != Some(ALARM_CONDITION)
    {
        problems.push(format!(
            "{ALARM_TOPIC}: not an AWS::SNS::Topic with Condition {ALARM_CONDITION}"
        ));
    }
    let resources = template["Resources"].as_mapping().expect("Resources");
    for (id, res) in resources {
        if res["Type"].as_str() != Some("AWS::CloudWatch::Alarm") {
            continue;
        }
        let id = id.as_str().expect("a string id");
        let p = &res["Properties"];
        match tagged(&p["Threshold"], "Ref").and_then(Yaml::as_str) {
            Some(param) => {
                let param = &template["Parameters"][param];
                if param["Type"].as_str() != Some("Number") || param.get("Default").is_none() {
                    problems.push(format!(
                        "{id}: Threshold's parameter is not a Number with a Default"
                    ));
                }
            }
            None => problems.push(format!("{id}: Threshold is not !Ref of a parameter")),
        }
        for actions in ["AlarmActions", "OKActions"] {
            if p[actions] != expected {
                problems.push(format!(
                    "{id}: {actions} is not !If [{ALARM_CONDITION}, [!Ref {ALARM_TOPIC}], \
                     !Ref AWS::NoValue]"
                ));
            }
        }
    }
    problems
}

/// The names of a metric-math expression (query ids, functions).
fn words(expr: &str) -> BTreeSet<&str> {
    expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect()
}

/// The alarms issue 13 asks for are all there.
fn coverage_problems(template: &Yaml, openapi: &Yaml) -> Vec<String> {
    let statuses = statuses(openapi);
    let (alarms, _) = alarms(template);
    let mut problems = Vec::new();
    let lit = |s: &str| Val::Lit(s.to_owned());
    let reference = |s: &str| Val::Ref(s.to_owned());
    let has = |what: &str, pred: &dyn Fn(&Alarm) -> bool, problems: &mut Vec<String>| {
        if !alarms.iter().any(pred) {
            problems.push(format!("no alarm on {what}"));
        }
    };
    for f in Function::ALL {
        let name = lit(f.name());
        // The 5xx share: the function's requests, and each 5xx it answers, in the expression
        // the alarm watches.
        let errors: Vec<&String> = statuses[&f].iter().filter(|s| s.starts_with('5')).collect();
        assert!(!errors.is_empty(), "{}: no 5xx in openapi.yaml", f.name());
        has(
            &format!("{}'s share of {errors:?}", f.name()),
            &|a| {
                let Some((expr, _)) = a.expressions.iter().find(|(_, r)| *r) else {
                    return false;
                };
                let used = words(expr);
                let id_of = |dims: &[(&str, &Val)]| {
                    a.metrics.iter().find_map(|(id, m, stat)| {
                        (m.is(None, "Requests", dims) && stat.as_deref() == Some("Sum"))
                            .then_some(id.as_deref())
                            .flatten()
                    })
                };
                let total = id_of(&[(DIMENSION_FUNCTION, &name)]);
                total.is_some_and(|t| used.contains(t))
                    && errors.iter().all(|s| {
                        id_of(&[
                            (DIMENSION_FUNCTION, &name),
                            (DIMENSION_STATUS, &lit(s.as_str())),
                        ])
                        .is_some_and(|id| used.contains(id))
                    })
            },
            &mut problems,
        );
        has(
            &format!("{}'s p99 Latency", f.name()),
            &|a| {
                a.metrics.iter().any(|(_, m, stat)| {
                    m.is(None, "Latency", &[(DIMENSION_FUNCTION, &name)])
                        && stat.as_deref() == Some("p99")
                })
            },
            &mut problems,
        );
        for metric in ["Errors", "Throttles"] {
            has(
                &format!("{}'s Lambda {metric}", f.name()),
                &|a| {
                    a.metrics.iter().any(|(_, m, _)| {
                        m.is(
                            Some("AWS/Lambda"),
                            metric,
                            &[("FunctionName", &reference(f.logical_id()))],
                        )
                    })
                },
                &mut problems,
            );
        }
    }
    has(
        "the HTTP API's 5xx",
        &|a| {
            a.metrics.iter().any(|(_, m, _)| {
                m.namespace.lit() == Some("AWS/ApiGateway")
                    && m.name == "5xx"
                    && m.dim("ApiId") == Some(&reference(API))
            })
        },
        &mut problems,
    );
    for metric in ["ThrottledRequests", "SystemErrors"] {
        has(
            &format!("the table's {metric} on every operation {DYNAMODB_OPERATIONS:?}"),
            &|a| {
                let Some((expr, _)) = a.expressions.iter().find(|(_, r)| *r) else {
                    return false;
                };
                let used = words(expr);
                DYNAMODB_OPERATIONS.iter().all(|op| {
                    a.metrics.iter().any(|(id, m, _)| {
                        m.is(
                            Some("AWS/DynamoDB"),
                            metric,
                            &[("TableName", &reference(TABLE)), ("Operation", &lit(op))],
                        ) && id.as_deref().is_some_and(|id| used.contains(id))
                    })
                })
            },
            &mut problems,
        );
    }
    problems
}

/// Marks no template writes, around a `${X}` of the dashboard's `!Sub` (JSON takes them in a
/// string).
const OPEN: char = '⟦';
const CLOSE: char = '⟧';

/// The dashboard's body with its `${X}` substituted: a Number parameter by its default (it
/// stands where JSON wants a number), anything else by `⟦X⟧` (a reference, read back
/// by [`val_of_json`]); `${!X}` is CloudFormation's literal `${X}`.
fn dashboard_body(template: &Yaml) -> Result<Json, String> {
    let body = &template["Resources"][DASHBOARD]["Properties"]["DashboardBody"];
    let Some(text) = tagged(body, "Sub").and_then(Yaml::as_str) else {
        return Err(format!(
            "{DASHBOARD}: DashboardBody is not !Sub of a string"
        ));
    };
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| format!("{DASHBOARD}: an unclosed ${{"))?;
        let name = &after[..end];
        if let Some(literal) = name.strip_prefix('!') {
            out.push_str(&format!("${{{literal}}}"));
        } else {
            let param = &template["Parameters"][name];
            match (param["Type"].as_str(), &param["Default"]) {
                (Some("Number"), Yaml::Number(n)) => out.push_str(&n.to_string()),
                _ => out.push_str(&format!("{OPEN}{name}{CLOSE}")),
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    serde_json::from_str(&out).map_err(|e| format!("{DASHBOARD}: the body is not JSON: {e}"))
}

fn val_of_json(v: &Json) -> Val {
    match v.as_str() {
        Some(s) => match s
            .strip_prefix(OPEN)
            .and_then(|s| s.strip_suffix(CLOSE))
            .filter(|inner| !inner.contains([OPEN, CLOSE]))
        {
            Some(name) => Val::Ref(name.to_owned()),
            None if s.contains([OPEN, CLOSE]) => {
                Val::Other(s.replace(OPEN, "${").replace(CLOSE, "}"))
            }
            None => Val::Lit(s.to_owned()),
        },
        None => Val::Other(v.to_string()),
    }
}

/// `SEARCH('{Namespace,Dim1,Dim2} MetricName="X"', …)`: the metric it searches, with the
/// schema's dimensions (no values).
fn search_metric(at: String, expr: &str) -> Result<Metric, String> {
    let schema = expr
        .split_once('{')
        .and_then(|(_, rest)| rest.split_once('}'))
        .map(|(schema, _)| schema)
        .ok_or_else(|| format!("{at}: a SEARCH without a {{namespace,dimensions}} schema"))?;
    let mut parts = schema.split(',').map(str::trim);
    let namespace = val_of_json(&Json::from(parts.next().unwrap_or_default()));
    let dims = parts
        .map(|d| (d.trim_matches('"').to_owned(), None))
        .collect();
    let name = expr
        .split_once("MetricName=")
        .map(|(_, rest)| rest.trim_start_matches('"'))
        .and_then(|rest| rest.split(['"', '\'', ' ']).next())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| format!("{at}: a SEARCH without MetricName=\"…\": {expr}"))?;
    Ok(Metric {
        at,
        namespace,
        name: name.to_owned(),
        dims,
    })
}

/// Every metric of the dashboard's metric widgets, with its statistic, and the alarms its
/// alarm widgets list; or what makes them unreadable here (a finding).
#[derive(Debug, Default)]
struct Dashboard {
    metrics: Vec<(Metric, Option<String>)>,
    alarms: BTreeSet<String>,
}

fn dashboard(template: &Yaml) -> Result<Dashboard, Vec<String>> {
    let body = dashboard_body(template).map_err(|e| vec![e])?;
    let mut out = Dashboard::default();
    let mut problems = Vec::new();
    let widgets = body["widgets"].as_array().cloned().unwrap_or_default();
    if widgets.is_empty() {
        problems.push(format!("{DASHBOARD}: no widgets"));
    }
    for (i, w) in widgets.iter().enumerate() {
        let props = &w["properties"];
        let title = props["title"].as_str().unwrap_or("");
        let at = format!("{DASHBOARD} widget {i} ({title})");
        match w["type"].as_str() {
            Some("metric") => {}
            Some("alarm") => {
                for a in props["alarms"].as_array().into_iter().flatten() {
                    match val_of_json(a) {
                        Val::Ref(r) if r.ends_with(".Arn") => {
                            out.alarms.insert(r.trim_end_matches(".Arn").to_owned());
                        }
                        other => problems.push(format!("{at}: alarm {other:?} is not ${{X.Arn}}")),
                    }
                }
                continue;
            }
            Some("text") => continue,
            other => {
                problems.push(format!("{at}: type {other:?} is not read by this check"));
                continue;
            }
        }
        let widget_stat = props["stat"].as_str();
        let lines = props["metrics"].as_array().cloned().unwrap_or_default();
        if lines.is_empty() {
            problems.push(format!("{at}: no metrics"));
        }
        for (j, line) in lines.iter().enumerate() {
            let at = format!("{at} metric {j}");
            let Some(items) = line.as_array() else {
                problems.push(format!("{at}: not an array"));
                continue;
            };
            let (strings, options): (Vec<&Json>, Vec<&Json>) =
                items.iter().partition(|v| !v.is_object());
            let options = options.first().copied().cloned().unwrap_or(Json::Null);
            if let Some(expr) = options["expression"].as_str() {
                if !strings.is_empty() {
                    problems.push(format!("{at}: an expression line with a metric in it"));
                }
                if expr.contains("SEARCH") {
                    match search_metric(at.clone(), expr) {
                        Ok(m) => out.metrics.push((m, None)),
                        Err(e) => problems.push(e),
                    }
                }
                continue;
            }
            if strings.len() < 2 || strings.len() % 2 != 0 {
                problems.push(format!(
                    "{at}: not [namespace, name, (dimension, value)…, {{options}}]"
                ));
                continue;
            }
            if strings
                .iter()
                .any(|s| s.as_str().is_some_and(|s| s == "." || s == "..."))
            {
                problems.push(format!("{at}: write each metric in full (no . or ...)"));
                continue;
            }
            let text = |v: &Json| v.as_str().unwrap_or("<not a string>").to_owned();
            let metric = Metric {
                at: at.clone(),
                namespace: val_of_json(strings[0]),
                name: text(strings[1]),
                dims: strings[2..]
                    .chunks(2)
                    .map(|pair| (text(pair[0]), Some(val_of_json(pair[1]))))
                    .collect(),
            };
            let stat = options["stat"].as_str().or(widget_stat).map(str::to_owned);
            out.metrics.push((metric, stat));
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// Every metric of the dashboard is published, every alarm is on it, and it shows what the
/// issue lists: requests by status, latency p50 and p99, cold starts, the auth cache's hits and
/// misses, store calls and DynamoDB's consumed capacity.
fn dashboard_problems(template: &Yaml, openapi: &Yaml) -> Vec<String> {
    let statuses = statuses(openapi);
    let d = match dashboard(template) {
        Ok(d) => d,
        Err(p) => return p,
    };
    let mut problems: Vec<String> = d
        .metrics
        .iter()
        .flat_map(|(m, _)| metric_problems(m, &statuses))
        .collect();
    let (alarms, _) = alarms(template);
    for a in &alarms {
        if !d.alarms.contains(&a.id) {
            problems.push(format!("{DASHBOARD}: no alarm widget lists {}", a.id));
        }
    }
    for id in &d.alarms {
        if !alarms.iter().any(|a| &a.id == id) {
            problems.push(format!("{DASHBOARD}: lists {id}, which is no alarm"));
        }
    }
    let shows = |pred: &dyn Fn(&Metric, Option<&str>) -> bool| {
        d.metrics.iter().any(|(m, s)| pred(m, s.as_deref()))
    };
    let table = Val::Ref(TABLE.to_owned());
    let mut want = |what: String, ok: bool| {
        if !ok {
            problems.push(format!("{DASHBOARD} does not show {what}"));
        }
    };
    want(
        "Requests by Function and Status".to_owned(),
        shows(&|m, _| {
            m.is_ours()
                && m.name == "Requests"
                && m.dim_names() == BTreeSet::from([DIMENSION_FUNCTION, DIMENSION_STATUS])
        }),
    );
    for f in Function::ALL {
        let name = Val::Lit(f.name().to_owned());
        let per_function = [(DIMENSION_FUNCTION, &name)];
        for stat in ["p50", "p99"] {
            want(
                format!("{}'s Latency {stat}", f.name()),
                shows(&|m, s| m.is(None, "Latency", &per_function) && s == Some(stat)),
            );
        }
        for metric in ["ColdStart", "AuthCacheHit", "AuthCacheMiss", "StoreCalls"] {
            want(
                format!("{}'s {metric}", f.name()),
                shows(&|m, _| m.is(None, metric, &per_function)),
            );
        }
    }
    for metric in ["ConsumedReadCapacityUnits", "ConsumedWriteCapacityUnits"] {
        want(
            format!("the table's {metric}"),
            shows(&|m, _| m.is(Some("AWS/DynamoDB"), metric, &[("TableName", &table)])),
        );
    }
    problems
}

#[test]
fn every_alarm_s_metric_is_one_the_functions_or_aws_publish() {
    let problems = alarm_metric_problems(&template(), &openapi());
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
    // Not vacuous: the template has alarms on both kinds of metric.
    let (alarms, _) = alarms(&template());
    let metrics: Vec<&Metric> = alarms
        .iter()
        .flat_map(|a| a.metrics.iter().map(|(_, m, _)| m))
        .collect();
    assert!(metrics.iter().any(|m| m.is_ours()));
    assert!(metrics.iter().any(|m| !m.is_ours()));
}

#[test]
fn the_alarms_of_issue_13_are_all_there() {
    let problems = coverage_problems(&template(), &openapi());
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn each_threshold_is_a_parameter_and_each_alarm_notifies_the_topic_if_any() {
    let problems = alarm_setting_problems(&template());
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn the_dashboard_shows_published_metrics_and_every_alarm() {
    let problems = dashboard_problems(&template(), &openapi());
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

/// The functions get the namespace the alarms read, and Lambda's log level
/// (`AWS_LAMBDA_LOG_LEVEL`, which they read before `RUST_LOG`).
#[test]
fn the_functions_get_the_namespace_and_the_log_level() {
    let t = template();
    let env = &t["Globals"]["Function"]["Environment"]["Variables"];
    assert_eq!(
        Val::of_yaml(&env["METRICS_NAMESPACE"]),
        Val::Ref(NAMESPACE_PARAMETER.to_owned())
    );
    assert_eq!(
        t["Parameters"][NAMESPACE_PARAMETER]["Default"].as_str(),
        Some(shared::metrics::DEFAULT_NAMESPACE)
    );
    let levels = t["Parameters"]["LogLevel"]["AllowedValues"]
        .as_sequence()
        .expect("LogLevel's AllowedValues");
    for f in Function::ALL {
        let logging = &t["Resources"][f.logical_id()]["Properties"]["LoggingConfig"];
        assert_eq!(logging["LogFormat"].as_str(), Some("JSON"), "{}", f.name());
        let find = tagged(&logging["ApplicationLogLevel"], "FindInMap")
            .and_then(Yaml::as_sequence)
            .unwrap_or_else(|| panic!("{}: ApplicationLogLevel: !FindInMap", f.name()));
        let map = find[0].as_str().expect("a map name");
        assert_eq!(
            tagged(&find[1], "Ref").and_then(Yaml::as_str),
            Some("LogLevel")
        );
        let key = find[2].as_str().expect("a key");
        // Every allowed LogLevel maps to a level Lambda takes.
        for level in levels {
            let level = level.as_str().expect("a string level");
            let lambda = t["Mappings"][map][level][key].as_str();
            assert_eq!(
                lambda,
                Some(level.to_ascii_uppercase().as_str()),
                "{map}.{level}"
            );
        }
    }
}

/// Each kind of mistake is caught: the checks above are not vacuous.
mod drift {
    use super::*;

    fn alarm_props<'a>(t: &'a mut Yaml, id: &str) -> &'a mut Yaml {
        let p = &mut t["Resources"][id]["Properties"];
        assert!(p.is_mapping(), "{id}");
        p
    }

    /// The `MetricStat.Metric` of query `qid` of alarm `id`.
    fn query_metric<'a>(t: &'a mut Yaml, id: &str, qid: &str) -> &'a mut Yaml {
        let query = alarm_props(t, id)["Metrics"]
            .as_sequence_mut()
            .expect("Metrics")
            .iter_mut()
            .find(|q| q["Id"].as_str() == Some(qid))
            .unwrap_or_else(|| panic!("{id} {qid}"));
        &mut query["MetricStat"]["Metric"]
    }

    fn set_dim(metric: &mut Yaml, name: &str, value: Yaml) {
        let dims = metric["Dimensions"].as_sequence_mut().expect("Dimensions");
        let dim = dims
            .iter_mut()
            .find(|d| d["Name"].as_str() == Some(name))
            .unwrap_or_else(|| panic!("{name}"));
        dim["Value"] = value;
    }

    fn yaml(text: &str) -> Yaml {
        serde_yaml_ng::from_str(text).expect("YAML")
    }

    fn mentions(problems: &[String], what: &str) -> bool {
        problems.iter().any(|p| p.contains(what))
    }

    fn metric_findings(t: &Yaml) -> Vec<String> {
        alarm_metric_problems(t, &openapi())
    }

    #[test]
    fn a_name_the_functions_do_not_emit_is_caught() {
        let mut t = template();
        query_metric(&mut t, "UpdateContactPool5xxShareAlarm", "s503")["MetricName"] =
            Yaml::from("Request");
        assert!(mentions(&metric_findings(&t), "Request is not a metric"));
        // and the share no longer counts 503s
        assert!(mentions(
            &coverage_problems(&t, &openapi()),
            "update-contact-pool's share"
        ));
    }

    #[test]
    fn a_deployed_function_name_as_function_is_caught() {
        let mut t = template();
        let m = query_metric(&mut t, "PatchGuardrailPool5xxShareAlarm", "total");
        set_dim(m, "Function", yaml("!Ref PatchGuardrailPoolFunction"));
        assert!(mentions(&metric_findings(&t), "is not a function's name"));
        let mut t = template();
        set_dim(
            alarm_props(&mut t, "UpdateContactPoolLatencyP99Alarm"),
            "Function",
            Yaml::from("update-contact-pools"),
        );
        assert!(mentions(&metric_findings(&t), "\"update-contact-pools\""));
    }

    #[test]
    fn a_status_the_function_never_answers_is_caught() {
        for status in ["501", "429", "5xx"] {
            let mut t = template();
            let m = query_metric(&mut t, "UpdateContactPool5xxShareAlarm", "s500");
            set_dim(m, "Status", Yaml::from(status));
            assert!(
                mentions(&metric_findings(&t), "is not a status update-contact-pool"),
                "{status}"
            );
        }
    }

    #[test]
    fn an_undeclared_dimension_set_is_caught() {
        let mut t = template();
        alarm_props(&mut t, "PatchGuardrailPoolLatencyP99Alarm")["Dimensions"] =
            yaml("[{Name: Status, Value: \"200\"}]");
        assert!(mentions(&metric_findings(&t), "not a dimension set"));
        let mut t = template();
        alarm_props(&mut t, "PatchGuardrailPoolLatencyP99Alarm")["Dimensions"] =
            yaml("[{Name: Function, Value: patch-guardrail-pool}, {Name: OrgId, Value: x}]");
        assert!(mentions(&metric_findings(&t), "not a dimension set"));
    }

    #[test]
    fn a_literal_namespace_is_caught() {
        let mut t = template();
        alarm_props(&mut t, "UpdateContactPoolLatencyP99Alarm")["Namespace"] =
            Yaml::from(shared::metrics::DEFAULT_NAMESPACE);
        assert!(mentions(
            &metric_findings(&t),
            "ours is !Ref MetricsNamespace"
        ));
    }

    #[test]
    fn a_rest_api_metric_on_an_http_api_is_caught() {
        let mut t = template();
        alarm_props(&mut t, "Api5xxAlarm")["MetricName"] = Yaml::from("5XXError");
        assert!(mentions(
            &metric_findings(&t),
            "AWS/ApiGateway publishes no metric 5XXError"
        ));
        assert!(mentions(
            &coverage_problems(&t, &openapi()),
            "HTTP API's 5xx"
        ));
    }

    #[test]
    fn dynamodb_errors_without_an_operation_are_caught() {
        let mut t = template();
        query_metric(&mut t, "TableThrottledRequestsAlarm", "get")["Dimensions"] =
            yaml("[{Name: TableName, Value: !Ref PoolsTable}]");
        assert!(mentions(&metric_findings(&t), "not by {\"TableName\"}"));
        assert!(mentions(
            &coverage_problems(&t, &openapi()),
            "ThrottledRequests on every operation"
        ));
        // An operation left out of the expression is not watched either.
        let mut t = template();
        alarm_props(&mut t, "TableSystemErrorsAlarm")["Metrics"][0]["Expression"] =
            Yaml::from("FILL(get, 0) + FILL(batchget, 0) + FILL(update, 0)");
        assert!(mentions(
            &coverage_problems(&t, &openapi()),
            "SystemErrors on every operation"
        ));
    }

    #[test]
    fn another_resource_s_dimension_is_caught() {
        let mut t = template();
        set_dim(
            alarm_props(&mut t, "UpdateContactPoolErrorsAlarm"),
            "FunctionName",
            Yaml::from("update-contact-pool"),
        );
        assert!(mentions(
            &metric_findings(&t),
            "FunctionName Lit(\"update-contact-pool\")"
        ));
        let mut t = template();
        set_dim(
            query_metric(&mut t, "TableSystemErrorsAlarm", "update"),
            "TableName",
            yaml("!Ref HttpApi"),
        );
        assert!(mentions(&metric_findings(&t), "TableName Ref(\"HttpApi\")"));
    }

    #[test]
    fn search_in_an_alarm_is_caught() {
        let mut t = template();
        alarm_props(&mut t, "TableSystemErrorsAlarm")["Metrics"][0]["Expression"] = Yaml::from(
            "SUM(SEARCH('{AWS/DynamoDB,TableName,Operation} MetricName=\"SystemErrors\"', 'Sum', 300))",
        );
        assert!(mentions(&metric_findings(&t), "cannot SEARCH"));
    }

    #[test]
    fn a_missing_alarm_and_a_fixed_threshold_are_caught() {
        let mut t = template();
        t["Resources"]
            .as_mapping_mut()
            .expect("Resources")
            .remove("PatchGuardrailPoolThrottlesAlarm");
        assert!(mentions(
            &coverage_problems(&t, &openapi()),
            "patch-guardrail-pool's Lambda Throttles"
        ));
        assert!(mentions(
            &dashboard_problems(&t, &openapi()),
            "lists PatchGuardrailPoolThrottlesAlarm, which is no alarm"
        ));
        let mut t = template();
        alarm_props(&mut t, "Api5xxAlarm")["Threshold"] = Yaml::from(5);
        assert!(mentions(
            &alarm_setting_problems(&t),
            "Api5xxAlarm: Threshold"
        ));
        let mut t = template();
        alarm_props(&mut t, "Api5xxAlarm")
            .as_mapping_mut()
            .expect("Properties")
            .remove("OKActions");
        assert!(mentions(
            &alarm_setting_problems(&t),
            "Api5xxAlarm: OKActions"
        ));
    }

    /// The dashboard's body, edited as text.
    fn with_body(edit: impl FnOnce(&str) -> String) -> Yaml {
        let mut t = template();
        let body = &mut t["Resources"][DASHBOARD]["Properties"]["DashboardBody"];
        let Yaml::Tagged(sub) = body else {
            panic!("DashboardBody: !Sub")
        };
        let text = sub.value.as_str().expect("a string").to_owned();
        let edited = edit(&text);
        assert_ne!(edited, text, "the edit changed nothing");
        sub.value = Yaml::from(edited);
        t
    }

    #[test]
    fn a_dashboard_metric_nobody_publishes_is_caught() {
        let t = with_body(|b| b.replace("\"ColdStart\"", "\"ColdStarts\""));
        let problems = dashboard_problems(&t, &openapi());
        assert!(mentions(&problems, "ColdStarts is not a metric"));
        assert!(mentions(&problems, "update-contact-pool's ColdStart"));
        let t =
            with_body(|b| b.replace("MetricName=\\\"Requests\\\"", "MetricName=\\\"Request\\\""));
        assert!(mentions(
            &dashboard_problems(&t, &openapi()),
            "Request is not a metric"
        ));
        let t = with_body(|b| b.replacen("\"${MetricsNamespace}\"", "\"PoolsApi\"", 1));
        assert!(mentions(
            &dashboard_problems(&t, &openapi()),
            "ours is !Ref MetricsNamespace"
        ));
        let t = with_body(|b| {
            b.replace(
                "\"TableName\", \"${PoolsTable}\"",
                "\"TableName\", \"pools\"",
            )
        });
        assert!(mentions(
            &dashboard_problems(&t, &openapi()),
            "TableName Lit(\"pools\")"
        ));
        let t = with_body(|b| {
            b.replace(
                "\"Function\", \"patch-guardrail-pool\"",
                "\"Function\", \"${PatchGuardrailPoolFunction}\"",
            )
        });
        assert!(mentions(
            &dashboard_problems(&t, &openapi()),
            "is not a function's name"
        ));
    }

    #[test]
    fn a_dashboard_without_what_the_issue_lists_is_caught() {
        let t = with_body(|b| b.replace("\"stat\": \"p99\"", "\"stat\": \"p90\""));
        assert!(mentions(
            &dashboard_problems(&t, &openapi()),
            "update-contact-pool's Latency p99"
        ));
        let t = with_body(|b| b.replace("\"${Api5xxAlarm.Arn}\",", ""));
        assert!(mentions(
            &dashboard_problems(&t, &openapi()),
            "no alarm widget lists Api5xxAlarm"
        ));
    }
}
