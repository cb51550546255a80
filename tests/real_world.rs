//! Real-world variants (issue 12): every sample under `tests/data/` (the old
//! ones and the peers' files under `tests/data/real/`, see its SOURCES.md).
//!
//! - Detection by content: each file, decompressed as the function does, is
//!   sniffed under a key that names no format; the detected format must be
//!   the folder's (or the one [`EXPECTED`] gives). A confusion matrix is
//!   printed (`cargo test --test real_world -- --nocapture`).
//! - Every line kept: each real sample parses as its format without a
//!   whole-object error and without error events, unless [`ERRORS_ALLOWED`]
//!   says why.
//! - Appended fields kept: ALB `classification`, `classification_reason`,
//!   `conn_trace_id` (and later columns), VPC flow log fields beyond the v2
//!   default, S3 access log fields from `Access Point ARN` on are found in
//!   the record.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use s3_log_forwarder::formats::{self, detect, Format, Limits};
use s3_log_forwarder::record::{ObjectContext, RecordWriter};
use serde_json::Value;

#[path = "support/columns.rs"]
mod columns;
use columns::space_columns;
#[path = "support/corpus.rs"]
mod corpus;
use corpus::*;

/// Known detection failures not fixed yet: (file, detected), with why. The
/// test fails if any other file is misdetected, and also if one of these is
/// detected right (then remove it here).
const KNOWN_MISDETECTED: &[(&str, Format, &str)] = &[];

/// Known line losses not fixed yet: (file, error events), with why. The test
/// fails on any other loss, and if one of these no longer loses lines.
const KNOWN_LINE_LOSSES: &[(&str, usize, &str)] = &[
    (
        "real/vpcflow/beats-custom-transit-gateway.log",
        1,
        "17 fields and no header: the layout is not knowable without the flow log's format",
    ),
    (
        "real/route53/panther-vpcdns-crypto-domain.json",
        8,
        "Panther's test records give `answers` as one object, not the array AWS writes: \
         the record is refused whole",
    ),
];

/// Real samples allowed to have error events, with why.
const ERRORS_ALLOWED: &[(&str, &str)] = &[(
    "real/json/lnav-logfile_json_invalid.json",
    "lnav's test of invalid JSON lines: some lines really are not JSON",
)];

#[test]
fn every_sample_is_detected_by_content() {
    assert!(detect::from_key(KEY).is_none());
    let mut matrix: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    let mut wrong = Vec::new();
    for (rel, path) in corpus() {
        let data = decoded(&path);
        let got = detect::sniff(&data[..data.len().min(SNIFF_BYTES)]);
        let want = expected(&rel);
        *matrix.entry((want.name(), got.name())).or_default() += 1;
        let known = KNOWN_MISDETECTED.iter().find(|(p, _, _)| *p == rel);
        if let Some((_, as_known, _)) = known {
            if got == want {
                wrong.push(format!(
                    "{rel}: now detected right: remove it from KNOWN_MISDETECTED"
                ));
            } else if got != *as_known {
                wrong.push(format!(
                    "{rel}: known misdetected as {}, now detected {}",
                    as_known.name(),
                    got.name()
                ));
            }
        } else if got != want {
            wrong.push(format!(
                "{rel}: expected {}, detected {}",
                want.name(),
                got.name()
            ));
        }
    }
    let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
    println!("\nconfusion matrix (rows expected, columns detected)");
    print!("{:>16}", "");
    for n in &names {
        print!(" {:>6}", &n[..n.len().min(6)]);
    }
    println!();
    for row in &names {
        if !matrix.keys().any(|(w, _)| w == row) {
            continue;
        }
        print!("{row:>16}");
        for col in &names {
            let n = matrix.get(&(*row, *col)).copied().unwrap_or(0);
            if n == 0 {
                print!(" {:>6}", ".");
            } else {
                print!(" {n:>6}");
            }
        }
        println!();
    }
    assert!(
        wrong.is_empty(),
        "{} file(s) misdetected:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

struct Parsed {
    /// (raw event, record) per event.
    events: Vec<(String, Value)>,
    errors: Vec<String>,
}

fn parse(format: Format, data: &[u8]) -> Result<Parsed, String> {
    let ctx = Arc::new(ObjectContext {
        bucket: "real-world".into(),
        key: KEY.into(),
        version: String::new(),
        ingested: "2026-01-01T00:00:00.000Z".into(),
        include_original: false,
    });
    let mut writer = RecordWriter::new(ctx);
    let mut out = Vec::new();
    let mut parsed = Parsed {
        events: Vec::new(),
        errors: Vec::new(),
    };
    let limits = Limits {
        max_line_bytes: 1 << 20,
    };
    let mut reader = std::io::BufReader::new(data);
    let mut ordinal = 0;
    formats::parse(format, &mut reader, &limits, &mut |ev| {
        if let Some(e) = &ev.error {
            parsed.errors.push(format!("{e} in {:?}", ev.original));
        }
        writer.write(ordinal, &ev, &mut out);
        ordinal += 1;
        let record: Value = serde_json::from_slice(&out).unwrap_or(Value::Null);
        parsed.events.push((ev.original.to_string(), record));
        Ok(())
    })
    .map_err(|e| e.to_string())?;
    Ok(parsed)
}

fn real_samples() -> Vec<(String, PathBuf)> {
    corpus()
        .into_iter()
        .filter(|(rel, _)| rel.starts_with("real/"))
        .collect()
}

#[test]
fn every_line_of_every_real_sample_is_kept() {
    let mut failures = Vec::new();
    println!("\n| sample | format | events | error events |");
    println!("|---|---|---:|---:|");
    for (rel, path) in real_samples() {
        let format = expected(&rel);
        let data = decoded(&path);
        match parse(format, &data) {
            Err(e) => failures.push(format!(
                "{rel}: whole object refused as {}: {e}",
                format.name()
            )),
            Ok(parsed) => {
                println!(
                    "| {rel} | {} | {} | {} |",
                    format.name(),
                    parsed.events.len(),
                    parsed.errors.len()
                );
                if parsed.events.is_empty() {
                    failures.push(format!("{rel}: no events"));
                }
                let allowed = ERRORS_ALLOWED.iter().any(|(p, _)| *p == rel);
                let known = KNOWN_LINE_LOSSES.iter().find(|(p, _, _)| *p == rel);
                if let Some((_, n, _)) = known {
                    if parsed.errors.len() != *n {
                        failures.push(format!(
                            "{rel}: known to lose {n} line(s), now {} error event(s): update KNOWN_LINE_LOSSES",
                            parsed.errors.len()
                        ));
                    }
                } else if !parsed.errors.is_empty() && !allowed {
                    failures.push(format!(
                        "{rel}: {} error event(s), first: {}",
                        parsed.errors.len(),
                        parsed.errors[0]
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} sample(s) lose lines:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Every string, number and boolean of a record, as text.
fn leaves(v: &Value, out: &mut HashSet<String>) {
    match v {
        Value::Object(m) => m.values().for_each(|v| leaves(v, out)),
        Value::Array(a) => a.iter().for_each(|v| leaves(v, out)),
        Value::String(s) => {
            out.insert(s.clone());
        }
        Value::Number(n) => {
            out.insert(n.to_string());
            if let Some(f) = n.as_f64() {
                out.insert(f.to_string());
            }
        }
        Value::Bool(b) => {
            out.insert(b.to_string());
        }
        Value::Null => {}
    }
}

fn found(value: &str, record: &HashSet<String>) -> bool {
    record.contains(value)
        || value
            .parse::<f64>()
            .is_ok_and(|n| record.contains(&n.to_string()))
        || (value.eq_ignore_ascii_case("yes") && record.contains("true"))
        || (value.eq_ignore_ascii_case("no") && record.contains("false"))
}

/// VPC flow log v2 default fields; any other header field was added later.
const VPC_V2: &[&str] = &[
    "version",
    "account-id",
    "interface-id",
    "srcaddr",
    "dstaddr",
    "srcport",
    "dstport",
    "protocol",
    "packets",
    "bytes",
    "start",
    "end",
    "action",
    "log-status",
];

/// (column name, value) of the appended fields of one raw event.
fn appended(format: Format, header: Option<&[String]>, raw: &str) -> Vec<(String, String)> {
    let present = |(_, v): &(String, String)| !v.is_empty() && v != "-";
    match format {
        Format::Elb => {
            let cols = space_columns(raw, false);
            let alb = matches!(
                cols.first().map(String::as_str),
                Some("http" | "https" | "h2" | "grpcs" | "ws" | "wss")
            );
            if !alb {
                return Vec::new();
            }
            const NAMES: &[&str] = &[
                "classification",
                "classification_reason",
                "conn_trace_id",
                "transformed_host",
                "transformed_uri",
                "request_transform_status",
            ];
            cols.into_iter()
                .enumerate()
                .skip(27)
                .map(|(i, v)| {
                    let name = NAMES.get(i - 27).copied().unwrap_or("later field");
                    (name.to_string(), v)
                })
                .filter(present)
                .collect()
        }
        Format::S3Access => {
            const NAMES: &[&str] = &["access_point_arn", "acl_required", "source_region"];
            space_columns(raw, true)
                .into_iter()
                .enumerate()
                .skip(24)
                .map(|(i, v)| {
                    let name = NAMES.get(i - 24).copied().unwrap_or("later field");
                    (name.to_string(), v)
                })
                .filter(present)
                .collect()
        }
        Format::VpcFlow => {
            let Some(header) = header else {
                return Vec::new();
            };
            header
                .iter()
                .zip(raw.split(' '))
                .filter(|(name, _)| !VPC_V2.contains(&name.as_str()))
                .map(|(n, v)| (n.clone(), v.to_string()))
                .filter(present)
                .collect()
        }
        _ => Vec::new(),
    }
}

#[test]
fn appended_fields_are_in_the_record() {
    let mut missing = Vec::new();
    let mut checked = 0;
    for (rel, path) in corpus() {
        let format = expected(&rel);
        if !matches!(format, Format::Elb | Format::S3Access | Format::VpcFlow) {
            continue;
        }
        let data = decoded(&path);
        let text = String::from_utf8_lossy(&data);
        let header: Option<Vec<String>> = text
            .lines()
            .next()
            .filter(|l| format == Format::VpcFlow && l.contains("srcaddr"))
            .map(|l| l.split(' ').map(str::to_string).collect());
        let Ok(parsed) = parse(format, &data) else {
            continue;
        };
        for (n, (raw, record)) in parsed.events.iter().enumerate() {
            let mut values = HashSet::new();
            leaves(record, &mut values);
            for (name, value) in appended(format, header.as_deref(), raw) {
                checked += 1;
                if !found(&value, &values) {
                    missing.push(format!(
                        "{rel} event {}: {name} = {value:?} is not in the record",
                        n + 1
                    ));
                }
            }
        }
    }
    println!("\nappended field values checked: {checked}");
    assert!(checked > 0, "no appended field found in the corpus");
    assert!(
        missing.is_empty(),
        "{} appended value(s) missing:\n{}",
        missing.len(),
        missing.join("\n")
    );
}
