//! The Markdown tables of BENCHMARKS.md, from the results file (one JSON object a line).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use serde_json::Value;

/// The `n | p50 | p90 | p99 | max` cells of a warm-table row, from a summary's JSON.
fn warm_cells(d: &Value) -> String {
    format!(
        "{} | {:.1} µs | {:.1} µs | {:.1} µs | {:.1} µs",
        d["n"],
        f(&d["p50_us"]),
        f(&d["p90_us"]),
        f(&d["p99_us"]),
        f(&d["max_us"]),
    )
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

fn ms(us: f64) -> String {
    format!("{:.2} ms", us / 1000.0)
}

fn mb(kb: f64) -> String {
    format!("{:.1} MiB", kb / 1024.0)
}

/// Binary sizes in MB (10^6 bytes), the unit of the size target; memory is in MiB.
fn mb_bytes(b: f64) -> String {
    format!("{:.2} MB", b / 1e6)
}

fn ratio(x: f64, floor: f64) -> String {
    if floor.is_nan() || floor == 0.0 {
        "–".into()
    } else {
        format!("{:.2}×", x / floor)
    }
}

/// The size in bytes of `name` (`update-contact-pool` or `update-contact-pool@variant`).
fn sizes_of(lines: &[Value], arch: &str, name: &str) -> Option<f64> {
    lines
        .iter()
        .find(|l| l["bench"] == "size" && l["arch"] == arch && l["name"] == name)
        .and_then(|l| l["bytes"].as_f64())
}

pub fn markdown(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let lines: Vec<Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let by =
        |bench: &str| -> Vec<&Value> { lines.iter().filter(|l| l["bench"] == bench).collect() };
    let mut md = String::new();

    // Cold starts, grouped by tag (the default build first).
    let cold = by("cold");
    let mut tags: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for c in &cold {
        tags.entry(c["tag"].as_str().unwrap_or("").to_owned())
            .or_default()
            .push(c);
    }
    for (tag, rows) in &tags {
        let floor = rows.iter().find(|r| r["name"] == "hello");
        let floor_next = floor.map_or(f64::NAN, |r| f(&r["start_to_next"]["p50_us"]));
        let floor_rt = floor.map_or(f64::NAN, |r| f(&r["first_round_trip"]["p50_us"]));
        let runs = rows.first().map_or(0, |r| r["runs"].as_u64().unwrap_or(0));
        let title = if tag.is_empty() {
            "release profile"
        } else {
            tag
        };
        let _ = writeln!(
            md,
            "#### Cold start: {title} ({runs} runs each, medians; p90 in brackets)\n"
        );
        let _ = writeln!(
            md,
            "| binary | first invocation | start → first `/next` | × floor | first round trip | × floor | peak RSS (median / max) |"
        );
        let _ = writeln!(md, "|---|---|---|---|---|---|---|");
        for r in rows {
            let n = f(&r["start_to_next"]["p50_us"]);
            let t = f(&r["first_round_trip"]["p50_us"]);
            let _ = writeln!(
                md,
                "| {} | {} | {} ({}) | {} | {} ({}) | {} | {} / {} |",
                r["name"].as_str().unwrap_or(""),
                r["case"].as_str().unwrap_or(""),
                ms(n),
                ms(f(&r["start_to_next"]["p90_us"])),
                ratio(n, floor_next),
                ms(t),
                ms(f(&r["first_round_trip"]["p90_us"])),
                ratio(t, floor_rt),
                mb(f(&r["peak_rss_kb_p50"])),
                mb(f(&r["peak_rss_kb_max"])),
            );
        }
        md.push('\n');
    }

    for p in by("init-probe") {
        let env = p["env"].as_str().unwrap_or("");
        let _ = writeln!(
            md,
            "#### Inside a fresh process{}: {} runs\n",
            if env.is_empty() {
                String::new()
            } else {
                format!(", with `{env}`")
            },
            p["runs"]
        );
        let _ = writeln!(md, "| section | median | p90 |\n|---|---|---|");
        if let Some(s) = p["sections"].as_object() {
            for name in crate::probe::SECTIONS {
                let v = &s[name];
                let _ = writeln!(
                    md,
                    "| `{name}` | {} | {} |",
                    ms(f(&v["p50_us"])),
                    ms(f(&v["p90_us"]))
                );
            }
        }
        md.push('\n');
    }

    let warm = by("warm");
    let mut warm_tags: Vec<&str> = warm
        .iter()
        .map(|w| w["tag"].as_str().unwrap_or(""))
        .collect();
    warm_tags.dedup();
    for tag in warm_tags {
        let tagged = |bench: &str| -> Vec<&Value> {
            by(bench)
                .into_iter()
                .filter(|r| r["tag"].as_str().unwrap_or("") == tag)
                .collect()
        };
        let title = if tag.is_empty() {
            String::new()
        } else {
            format!(", {tag}")
        };
        let _ = writeln!(
            md,
            "#### Warm, in process (memory store, auth cache hit{title})\n"
        );
        let _ = writeln!(
            md,
            "| request | telemetry | n | `handle` p50 | p90 | p99 | max | event parse p50 |"
        );
        let _ = writeln!(md, "|---|---|---|---|---|---|---|---|");
        for w in tagged("warm") {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {:.1} µs |",
                w["case"].as_str().unwrap_or(""),
                match (w["logs"] == true, w["emf"] == true) {
                    (true, true) => "log line + EMF (/dev/null)",
                    (true, false) => "log line (/dev/null)",
                    (false, true) => "EMF (/dev/null)",
                    (false, false) => "off",
                },
                warm_cells(&w["handle"]),
                f(&w["event_parse"]["p50_us"]),
            );
        }
        for r in tagged("warm-reference") {
            let _ = writeln!(
                md,
                "| {} | – | {} | – |",
                r["case"].as_str().unwrap_or(""),
                warm_cells(&r["work"]),
            );
        }
        for r in tagged("warm-rss") {
            let _ = writeln!(
                md,
                "\nPeak RSS of the warm benchmark process: {}.",
                mb(f(&r["peak_rss_kb"]))
            );
        }
        md.push('\n');
    }

    let http = by("http");
    if !http.is_empty() {
        let _ = writeln!(
            md,
            "#### Over HTTP (local-api → handler → DynamoDB Local), closed loop\n"
        );
        let _ = writeln!(
            md,
            "| clients | request | measured | n | p50 | p99 | requests/s |"
        );
        let _ = writeln!(md, "|---|---|---|---|---|---|---|");
        for h in http {
            let r = &h["result"];
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} |",
                r["clients"],
                h["what"].as_str().unwrap_or(""),
                h["via"].as_str().unwrap_or(""),
                r["latency"]["n"],
                ms(f(&r["latency"]["p50_us"])),
                ms(f(&r["latency"]["p99_us"])),
                r["requests_per_s"],
            );
        }
        for r in by("http-rss") {
            let _ = writeln!(
                md,
                "\nPeak RSS of local-api after the HTTP runs: {}.",
                mb(f(&r["peak_rss_kb"]))
            );
        }
        md.push('\n');
    }

    // One row per build variant: the cold-start variants run, the sizes, and (profiles only)
    // the warm run of the harness built with that profile.
    let variants: Vec<&Value> = cold
        .iter()
        .copied()
        .filter(|c| c["tag"] == "variants" && c["name"] != "hello")
        .collect();
    if !variants.is_empty() {
        let floor = cold
            .iter()
            .find(|c| c["tag"] == "variants" && c["name"] == "hello")
            .map_or(f64::NAN, |r| f(&r["start_to_next"]["p50_us"]));
        let _ = writeln!(
            md,
            "#### Build variants of update-contact-pool, side by side\n\n\
             Cold start: the variants run above (medians). Warm: `PUT name` with its log line, \
             in the harness built with the same profile (profiles only).\n"
        );
        let _ = writeln!(
            md,
            "| variant | size | start → first `/next` | × floor | first round trip | peak RSS | warm p50 | warm p99 |"
        );
        let _ = writeln!(md, "|---|---|---|---|---|---|---|---|");
        for v in variants {
            let name = v["name"].as_str().unwrap_or("");
            let variant = name.split_once('@').map_or("release", |(_, b)| b);
            let size = sizes_of(&lines, "x86_64", name);
            let warm_tag = if variant == "release" {
                String::new()
            } else {
                format!("profile {variant} (")
            };
            let w = lines.iter().find(|l| {
                l["bench"] == "warm"
                    && l["logs"] == true
                    // Telemetry as deployed: with the EMF document where the run measured it.
                    && l["emf"] != false
                    && l["case"] == "update-contact-pool: PUT name"
                    && if warm_tag.is_empty() {
                        l["tag"] == ""
                    } else {
                        l["tag"].as_str().unwrap_or("").starts_with(&warm_tag)
                    }
            });
            let (wp50, wp99) = w.map_or(("–".to_owned(), "–".to_owned()), |w| {
                (
                    format!("{:.1} µs", f(&w["handle"]["p50_us"])),
                    format!("{:.1} µs", f(&w["handle"]["p99_us"])),
                )
            });
            let n = f(&v["start_to_next"]["p50_us"]);
            let _ = writeln!(
                md,
                "| {variant} | {} | {} | {} | {} | {} | {wp50} | {wp99} |",
                size.map_or("–".to_owned(), mb_bytes),
                ms(n),
                ratio(n, floor),
                ms(f(&v["first_round_trip"]["p50_us"])),
                mb(f(&v["peak_rss_kb_p50"])),
            );
        }
        md.push('\n');
    }

    let sizes = by("size");
    if !sizes.is_empty() {
        let _ = writeln!(
            md,
            "#### Stripped binaries\n\n| binary | arch | size |\n|---|---|---|"
        );
        for s in sizes {
            let _ = writeln!(
                md,
                "| {} | {} | {} ({} bytes) |",
                s["name"].as_str().unwrap_or(""),
                s["arch"].as_str().unwrap_or(""),
                mb_bytes(f(&s["bytes"])),
                s["bytes"]
            );
        }
        md.push('\n');
    }
    Ok(md)
}
