//! A checker of CloudWatch Embedded Metric Format documents, after AWS's specification
//! ("Specification: Embedded metric format", CloudWatch User Guide), and of what API.md §6 adds.
//!
//! The specification's rules checked here:
//! - the log event is one JSON object (no text before or after it), at most 256 KB (the older,
//!   smaller of the limits the guide has stated);
//! - the root has `_aws`, an object with `Timestamp` (a number: milliseconds since the epoch)
//!   and `CloudWatchMetrics`, an array of MetricDirectives;
//! - a MetricDirective has `Namespace` (a string of 1–255 characters), `Dimensions` (an array of
//!   DimensionSets, each an array of at most 30 strings, each naming a root member) and
//!   `Metrics` (at most 100 MetricDefinitions), and nothing else;
//! - a MetricDefinition has `Name` (naming a root member), an optional `Unit` from the
//!   specification's list and an optional `StorageResolution` (1 or 60), and nothing else;
//! - each dimension's root member is a string (ASCII, 1–1024 characters, not only blanks), each
//!   metric's a number or an array of at most 100 numbers.
//!
//! API.md §6 adds: the namespace, exactly the dimension sets `[Function]` and
//! `[Function, Status]`, exactly the metrics and units of `shared::metrics::METRICS`, `Status`
//! an HTTP status as text, and no organization or pool id among the dimensions.

use serde_json::{Map, Value};
use shared::metrics::{DIMENSION_FUNCTION, DIMENSION_SETS, DIMENSION_STATUS, METRICS};

/// The units the specification allows.
pub const UNITS: [&str; 27] = [
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

pub const MAX_DIMENSIONS_PER_SET: usize = 30;
pub const MAX_METRICS_PER_DIRECTIVE: usize = 100;
pub const MAX_VALUES_PER_METRIC: usize = 100;
pub const MAX_EVENT_BYTES: usize = 256 * 1024;

/// Whether `line` is an EMF document (has `_aws`); other lines are logs.
pub fn is_document(line: &str) -> bool {
    serde_json::from_str::<Value>(line).is_ok_and(|v| v.get("_aws").is_some())
}

fn object<'a>(v: &'a Value, what: &str) -> Result<&'a Map<String, Value>, String> {
    v.as_object()
        .ok_or_else(|| format!("{what} is not an object: {v}"))
}

fn only_members(o: &Map<String, Value>, allowed: &[&str], what: &str) -> Result<(), String> {
    match o.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(format!(
            "{what} has a member the specification does not define: {k}"
        )),
        None => Ok(()),
    }
}

/// Checks `line` against the specification; returns the document.
pub fn check_spec(line: &str) -> Result<Value, String> {
    if line.len() > MAX_EVENT_BYTES {
        return Err(format!("{} bytes: over {MAX_EVENT_BYTES}", line.len()));
    }
    let doc: Value =
        serde_json::from_str(line).map_err(|e| format!("not one JSON value: {e}: {line}"))?;
    let root = object(&doc, "the root")?;
    let aws = object(root.get("_aws").ok_or("no _aws")?, "_aws")?;
    let ts = aws.get("Timestamp").ok_or("no _aws.Timestamp")?;
    if !ts.is_u64() {
        return Err(format!("_aws.Timestamp is not a whole number of ms: {ts}"));
    }
    let directives = aws
        .get("CloudWatchMetrics")
        .and_then(Value::as_array)
        .ok_or("no _aws.CloudWatchMetrics array")?;
    if directives.is_empty() {
        return Err("_aws.CloudWatchMetrics is empty".into());
    }
    for d in directives {
        let d = object(d, "a MetricDirective")?;
        only_members(
            d,
            &["Namespace", "Dimensions", "Metrics"],
            "a MetricDirective",
        )?;
        let ns = d
            .get("Namespace")
            .and_then(Value::as_str)
            .ok_or("a MetricDirective without a Namespace string")?;
        if ns.is_empty() || ns.chars().count() > 255 {
            return Err(format!("Namespace {ns:?} is not 1–255 characters"));
        }
        let sets = d
            .get("Dimensions")
            .and_then(Value::as_array)
            .ok_or("a MetricDirective without a Dimensions array")?;
        for set in sets {
            let set = set.as_array().ok_or("a DimensionSet is not an array")?;
            if set.len() > MAX_DIMENSIONS_PER_SET {
                return Err(format!("a DimensionSet of {} keys", set.len()));
            }
            for key in set {
                let key = key.as_str().ok_or("a dimension key is not a string")?;
                let value = root
                    .get(key)
                    .ok_or_else(|| format!("dimension {key} has no root member"))?;
                let value = value
                    .as_str()
                    .ok_or_else(|| format!("dimension {key}'s value is not a string: {value}"))?;
                if value.trim().is_empty() || value.len() > 1024 || !value.is_ascii() {
                    return Err(format!("dimension {key}'s value {value:?} is not allowed"));
                }
            }
        }
        let metrics = d
            .get("Metrics")
            .and_then(Value::as_array)
            .ok_or("a MetricDirective without a Metrics array")?;
        if metrics.len() > MAX_METRICS_PER_DIRECTIVE {
            return Err(format!("{} MetricDefinitions", metrics.len()));
        }
        for m in metrics {
            let m = object(m, "a MetricDefinition")?;
            only_members(
                m,
                &["Name", "Unit", "StorageResolution"],
                "a MetricDefinition",
            )?;
            let name = m
                .get("Name")
                .and_then(Value::as_str)
                .ok_or("a MetricDefinition without a Name string")?;
            if let Some(unit) = m.get("Unit") {
                let unit = unit.as_str().ok_or("a Unit is not a string")?;
                if !UNITS.contains(&unit) {
                    return Err(format!(
                        "{name}'s unit {unit} is not one the specification lists"
                    ));
                }
            }
            if let Some(r) = m.get("StorageResolution") {
                if r != 1 && r != 60 {
                    return Err(format!("{name}'s StorageResolution {r} is not 1 or 60"));
                }
            }
            let value = root
                .get(name)
                .ok_or_else(|| format!("metric {name} has no root member"))?;
            let numbers_ok = match value {
                Value::Number(_) => true,
                Value::Array(a) => {
                    a.len() <= MAX_VALUES_PER_METRIC && a.iter().all(Value::is_number)
                }
                _ => false,
            };
            if !numbers_ok {
                return Err(format!("metric {name}'s value is not a number: {value}"));
            }
        }
    }
    Ok(doc)
}

/// Checks `line` against the specification and API.md §6, with namespace `namespace`.
pub fn check(line: &str, namespace: &str) -> Result<Value, String> {
    let doc = check_spec(line)?;
    let directives = doc["_aws"]["CloudWatchMetrics"]
        .as_array()
        .ok_or("no directives")?;
    if directives.len() != 1 {
        return Err(format!("{} directives, not one", directives.len()));
    }
    let d = &directives[0];
    if d["Namespace"] != namespace {
        return Err(format!("namespace {} is not {namespace}", d["Namespace"]));
    }
    let want_sets: Vec<Vec<&str>> = DIMENSION_SETS.iter().map(|s| s.to_vec()).collect();
    let sets: Vec<Vec<&str>> = d["Dimensions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            s.as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect()
        })
        .collect();
    if sets != want_sets {
        return Err(format!("dimension sets {sets:?}, not {want_sets:?}"));
    }
    for forbidden in ["org_id", "pool_id", "request_id", "lambda_request_id"] {
        if sets.iter().flatten().any(|k| *k == forbidden) {
            return Err(format!("{forbidden} is a dimension"));
        }
    }
    let metrics: Vec<(&str, &str)> = d["Metrics"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            (
                m["Name"].as_str().unwrap_or(""),
                m["Unit"].as_str().unwrap_or(""),
            )
        })
        .collect();
    let want: Vec<(&str, &str)> = METRICS.iter().map(|m| (m.name, m.unit)).collect();
    if metrics != want {
        return Err(format!("metrics {metrics:?}, not {want:?}"));
    }
    let status = doc[DIMENSION_STATUS].as_str().unwrap_or("");
    if !(status.len() == 3 && status.parse::<u16>().is_ok_and(|s| (100..600).contains(&s))) {
        return Err(format!("Status {status:?} is not an HTTP status"));
    }
    if doc[DIMENSION_FUNCTION].as_str().is_none_or(str::is_empty) {
        return Err("no Function".into());
    }
    Ok(doc)
}

/// Every EMF document among `text`'s lines, each checked ([`check`]); panics on the first that
/// fails, naming it.
pub fn documents(text: &str, namespace: &str) -> Vec<Value> {
    text.lines()
        .filter(|l| is_document(l))
        .map(|l| check(l, namespace).unwrap_or_else(|e| panic!("EMF document refused: {e}\n{l}")))
        .collect()
}

/// A metric's value in a document, as a number.
pub fn value(doc: &Value, metric: &str) -> f64 {
    doc[metric]
        .as_f64()
        .unwrap_or_else(|| panic!("{metric} is not a number in {doc}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn good() -> Value {
        json!({
            "_aws": {"Timestamp": 1_800_000_000_000u64, "CloudWatchMetrics": [{
                "Namespace": "PoolsApi",
                "Dimensions": [["Function"], ["Function", "Status"]],
                "Metrics": METRICS.iter().map(|m| json!({"Name": m.name, "Unit": m.unit})).collect::<Vec<_>>(),
            }]},
            "Function": "update-contact-pool", "Status": "200",
            "Requests": 1, "Latency": 0.5, "ColdStart": 0, "StoreCalls": 2, "AuthCacheHit": 0,
            "AuthCacheMiss": 1, "TransactionRetries": 0, "IdempotentReplays": 0,
            "org_id": "x",
        })
    }

    #[test]
    fn the_checker_accepts_a_conforming_document_and_refuses_each_breach() {
        assert!(check(&good().to_string(), "PoolsApi").is_ok());
        type Breach = Box<dyn Fn(&mut Value)>;
        let breaches: Vec<(&str, Breach)> = vec![
            (
                "no timestamp",
                Box::new(|v| {
                    v["_aws"].as_object_mut().unwrap().remove("Timestamp");
                }),
            ),
            (
                "a bad unit",
                Box::new(|v| {
                    v["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"] = json!("Things")
                }),
            ),
            (
                "a missing value",
                Box::new(|v| {
                    v.as_object_mut().unwrap().remove("Latency");
                }),
            ),
            (
                "a numeric dimension",
                Box::new(|v| v["Status"] = json!(200)),
            ),
            ("a string metric", Box::new(|v| v["Requests"] = json!("1"))),
            (
                "31 dimensions",
                Box::new(|v| {
                    let set: Vec<String> = (0..31).map(|i| format!("D{i}")).collect();
                    for d in &set {
                        v[d.as_str()] = json!("x");
                    }
                    v["_aws"]["CloudWatchMetrics"][0]["Dimensions"] = json!([set]);
                }),
            ),
            (
                "org as a dimension",
                Box::new(|v| {
                    v["_aws"]["CloudWatchMetrics"][0]["Dimensions"] =
                        json!([["Function"], ["Function", "org_id"]])
                }),
            ),
            (
                "an extra directive member",
                Box::new(|v| v["_aws"]["CloudWatchMetrics"][0]["Extra"] = json!(1)),
            ),
        ];
        for (what, breach) in breaches {
            let mut v = good();
            breach(&mut v);
            assert!(
                check(&v.to_string(), "PoolsApi").is_err(),
                "{what} was accepted"
            );
        }
        assert!(check(&good().to_string(), "Other").is_err());
        assert!(check_spec("x{}").is_err());
    }
}
