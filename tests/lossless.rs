//! Records are lossless without `event.original`: for every sample of every
//! format (`tests/data/<format>/`, `tests/data/elastic/<format>/`, and the demo
//! objects in `events/objects/` for JSON lines and text), every value of every
//! source event is found in the record written with `include_original=false`.
//!
//! What counts as a value:
//! - JSON sources: every scalar leaf (string, number, boolean) at any depth.
//!   `null` and `""` mean "absent" and may be left out.
//! - Line sources: every column token other than `-` (the logs' "absent";
//!   CloudFront's `-` too). Quoted tokens are one token, quotes removed;
//!   so are bracketed ones (`[06/Feb/2019:00:00:38 +0000]`) except in ELB
//!   logs, which bracket nothing.
//!
//! Every format is held to this: one value missing fails the test.
//!
//! Where a value is found: verbatim as a string leaf of the record, or
//! through one of the conversions below, each allowed only for the formats
//! that list it in [`CASES`]:
//! - always: a number and its decimal text are the same value (`"443"` and
//!   `443`, `5` and `5.0`): numbers are typed;
//! - [`Conv::Time`]: a time in any of the source's notations (RFC 3339 with
//!   any offset, `+0000`, or no zone at all, which the formats that write it
//!   so mean as UTC: NLB times, Suricata's certificate validity; epoch
//!   seconds, with or without a fraction; epoch milliseconds; the access
//!   logs' `06/Feb/2019:00:00:38 +0000`) equals an RFC 3339 UTC time of the
//!   record at millisecond precision;
//! - [`Conv::DateTimeColumns`]: CloudFront's separate `date` and `time`
//!   columns are the date and time of `@timestamp`;
//! - [`Conv::IpPort`]: `ip:port` is split into an address and a port;
//! - [`Conv::RequestLine`]: `METHOD URI HTTP/x.y` is split into method, URL
//!   and version (`x.y`); the URI is what lies between the first and the
//!   last space, spaces and all;
//! - [`Conv::Pairs`]: ALB connection logs' two-part tokens are split into
//!   their values, the names becoming the fields' names:
//!   `NotBefore=<time>;NotAfter=<time>` (each time through [`Conv::Time`])
//!   and `<status>:<code>` (`Failed:ClientCertUntrusted`);
//! - [`Conv::List`]: a list written with `,` or ` ` between its items
//!   (`forward,redirect`) is the record's array of those items, in order;
//! - [`Conv::PercentDecoded`]: CloudFront's percent-encoded values
//!   (`Mozilla/5.0%20(...)`) are decoded.
//!
//! The test also prints, per sample file, the bytes of records per byte of
//! source text, with and without `event.original` (run with `--nocapture`).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use s3_log_forwarder::formats::{self, Format, Limits};
use s3_log_forwarder::record::{ObjectContext, RecordWriter};
use serde_json::Value;

#[path = "support/columns.rs"]
mod columns;
use columns::space_columns;

/// A documented conversion between a source value and the record's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Conv {
    Time,
    DateTimeColumns,
    IpPort,
    RequestLine,
    Pairs,
    List,
    PercentDecoded,
}

/// How source events are cut out of a sample file.
#[derive(Debug, Clone, Copy)]
enum Source {
    /// The parser's raw event is one JSON value (CloudTrail element, JSON line).
    JsonEvent,
    /// A CloudWatch Logs subscription message: each log event with its
    /// message's group, stream, owner and filters.
    CloudWatch,
    /// An AWS Config file: each configuration item with the file's version
    /// and snapshot id.
    Config,
    /// One line, split at spaces (quoted and bracketed tokens kept whole).
    SpaceColumns,
    /// One line, split at spaces, quoted tokens kept whole (ELB: no field
    /// is bracketed, so `[` is a character like any other).
    SpaceColumnsNoBrackets,
    /// One line, split at tabs.
    TabColumns,
    /// One line, one value.
    WholeLine,
}

struct Case {
    format: Format,
    /// Folders under `tests/data/` (and files elsewhere) holding samples.
    paths: &'static [&'static str],
    source: Source,
    convs: &'static [Conv],
}

const CASES: &[Case] = &[
    Case {
        format: Format::CloudTrail,
        paths: &[
            "tests/data/cloudtrail",
            "tests/data/elastic/cloudtrail",
            "events/objects/cloudtrail.json",
        ],
        source: Source::JsonEvent,
        convs: &[Conv::Time],
    },
    Case {
        format: Format::VpcFlow,
        paths: &[
            "tests/data/vpcflow",
            "tests/data/elastic/vpcflow",
            "events/objects/vpcflow.log",
        ],
        source: Source::SpaceColumns,
        convs: &[Conv::Time],
    },
    Case {
        format: Format::Elb,
        paths: &["tests/data/elb", "tests/data/elastic/elb"],
        source: Source::SpaceColumnsNoBrackets,
        convs: &[
            Conv::Time,
            Conv::IpPort,
            Conv::RequestLine,
            Conv::Pairs,
            Conv::List,
        ],
    },
    Case {
        format: Format::S3Access,
        paths: &["tests/data/s3access", "tests/data/elastic/s3access"],
        source: Source::SpaceColumns,
        convs: &[Conv::Time, Conv::RequestLine],
    },
    Case {
        format: Format::CloudFront,
        paths: &["tests/data/cloudfront", "tests/data/elastic/cloudfront"],
        source: Source::TabColumns,
        convs: &[Conv::Time, Conv::DateTimeColumns, Conv::PercentDecoded],
    },
    Case {
        format: Format::GuardDuty,
        paths: &["tests/data/guardduty", "tests/data/elastic/guardduty"],
        source: Source::JsonEvent,
        convs: &[Conv::Time],
    },
    Case {
        format: Format::Waf,
        paths: &["tests/data/waf", "tests/data/elastic/waf"],
        source: Source::JsonEvent,
        convs: &[Conv::Time],
    },
    Case {
        format: Format::Route53Resolver,
        paths: &["tests/data/route53", "tests/data/elastic/route53resolver"],
        source: Source::JsonEvent,
        convs: &[Conv::Time],
    },
    Case {
        format: Format::NetworkFirewall,
        paths: &["tests/data/firewall", "tests/data/elastic/networkfirewall"],
        source: Source::JsonEvent,
        convs: &[Conv::Time],
    },
    Case {
        format: Format::CloudWatchLogs,
        paths: &["tests/data/cloudwatch", "events/objects/cloudwatch.json"],
        source: Source::CloudWatch,
        convs: &[Conv::Time],
    },
    Case {
        format: Format::Config,
        paths: &["tests/data/config", "events/objects/config.json"],
        source: Source::Config,
        convs: &[Conv::Time],
    },
    Case {
        format: Format::JsonLines,
        paths: &["events/objects/orders.jsonl"],
        source: Source::JsonEvent,
        convs: &[],
    },
    Case {
        format: Format::Text,
        paths: &["events/objects/access.log"],
        source: Source::WholeLine,
        convs: &[],
    },
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The sample files of a case: every file of its folders but notes and
/// Elastic's expected outputs.
fn sample_files(case: &Case) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for p in case.paths {
        let path = root().join(p);
        if path.is_file() {
            files.push(path);
            continue;
        }
        let mut found: Vec<PathBuf> = std::fs::read_dir(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .flatten()
            .map(|d| d.path())
            .filter(|f| {
                let name = f.to_string_lossy();
                !name.ends_with(".md") && !name.ends_with("-expected.json")
            })
            .collect();
        found.sort();
        files.extend(found);
    }
    assert!(!files.is_empty(), "{:?}: no samples", case.format);
    files
}

/// Elastic's CloudTrail test inputs are single events, one a line, which a
/// CloudTrail file wraps in `{"Records":[...]}`.
fn file_input(format: Format, path: &Path, raw: &str) -> String {
    let elastic = path.to_string_lossy().contains("/elastic/");
    match format {
        Format::CloudTrail if elastic => {
            let events: Vec<&str> = raw.lines().filter(|l| !l.trim().is_empty()).collect();
            format!("{{\"Records\":[{}]}}", events.join(","))
        }
        _ => raw.to_string(),
    }
}

struct Parsed {
    /// (raw event, record as JSON) per event.
    events: Vec<(String, Value)>,
    /// Bytes of the records without and with `event.original`.
    bytes: usize,
    bytes_with_original: usize,
}

fn write_records(format: Format, input: &[u8]) -> Parsed {
    let mut events = Vec::new();
    let mut bytes = 0;
    let mut bytes_with_original = 0;
    let ctx = |include_original| {
        Arc::new(ObjectContext {
            bucket: "lossless".into(),
            key: "sample".into(),
            version: String::new(),
            ingested: "2026-01-01T00:00:00.000Z".into(),
            include_original,
        })
    };
    let mut lean = RecordWriter::new(ctx(false));
    let mut full = RecordWriter::new(ctx(true));
    let mut out = Vec::new();
    let mut ordinal = 0;
    let limits = Limits {
        max_line_bytes: 1 << 20,
    };
    let mut reader = std::io::BufReader::new(input);
    let result = formats::parse(format, &mut reader, &limits, &mut |ev| {
        assert!(ev.error.is_none(), "{format:?}: {:?}", ev.error);
        full.write(ordinal, &ev, &mut out);
        bytes_with_original += out.len();
        lean.write(ordinal, &ev, &mut out);
        bytes += out.len();
        ordinal += 1;
        let record: Value = serde_json::from_slice(&out).expect("a record is JSON");
        events.push((ev.original.to_string(), record));
        Ok(())
    });
    if let Err(e) = result {
        panic!("{format:?}: {e}");
    }
    Parsed {
        events,
        bytes,
        bytes_with_original,
    }
}

/// The values of a record, indexed for the checks.
#[derive(Default)]
struct Index {
    strings: HashSet<String>,
    numbers: Vec<f64>,
    /// Milliseconds since the epoch of every RFC 3339 string.
    instants: HashSet<i128>,
    /// Every array of strings, joined by `,` and by ` `.
    lists: HashSet<(char, String)>,
}

impl Index {
    fn of(record: &Value) -> Index {
        let mut ix = Index::default();
        ix.add(record);
        ix
    }

    fn add(&mut self, v: &Value) {
        match v {
            Value::Object(m) => m.values().for_each(|v| self.add(v)),
            Value::Array(a) => {
                let items: Option<Vec<&str>> = a.iter().map(Value::as_str).collect();
                if let Some(items) = items.filter(|i| i.len() > 1) {
                    for sep in [',', ' '] {
                        self.lists.insert((sep, items.join(&sep.to_string())));
                    }
                }
                a.iter().for_each(|v| self.add(v))
            }
            Value::String(s) => {
                if let Some(t) = rfc3339_ms(s) {
                    self.instants.insert(t);
                }
                if let Ok(n) = s.parse::<f64>() {
                    self.numbers.push(n);
                }
                self.strings.insert(s.clone());
            }
            Value::Number(n) => {
                if let Some(n) = n.as_f64() {
                    self.numbers.push(n);
                }
                self.strings.insert(n.to_string());
            }
            Value::Bool(b) => {
                self.strings.insert(b.to_string());
            }
            Value::Null => {}
        }
    }

    fn has_number(&self, s: &str) -> bool {
        s.parse::<f64>()
            .is_ok_and(|n| n.is_finite() && self.numbers.contains(&n))
    }

    /// Whether `value` is in the record, verbatim or through one of `convs`.
    fn finds(&self, value: &str, convs: &[Conv]) -> bool {
        if self.strings.contains(value) || self.has_number(value) {
            return true;
        }
        convs.iter().any(|c| match c {
            Conv::Time => source_time_ms(value).is_some_and(|t| self.instants.contains(&t)),
            Conv::DateTimeColumns => self.strings.iter().any(|s| {
                rfc3339_ms(s).is_some()
                    && (s.starts_with(&format!("{value}T")) || s.contains(&format!("T{value}")))
            }),
            Conv::IpPort => value.rsplit_once(':').is_some_and(|(ip, port)| {
                self.finds(ip.trim_start_matches('[').trim_end_matches(']'), &[])
                    && self.has_number(port)
            }),
            Conv::RequestLine => {
                // Method up to the first space, version after the last, the
                // URI (spaces and all) between them.
                let value = value.trim_matches(' ');
                let (Some((method, rest)), Some((head, version))) =
                    (value.split_once(' '), value.rsplit_once(' '))
                else {
                    return false;
                };
                let uri = if head.len() > method.len() {
                    rest[..head.len() - method.len() - 1].trim_matches(' ')
                } else {
                    ""
                };
                let found = |p: &str| p.is_empty() || p == "-" || self.finds(p, &[]);
                found(method)
                    && found(uri)
                    && (found(version)
                        || version
                            .strip_prefix("HTTP/")
                            .is_some_and(|v| self.finds(v, &[])))
            }
            Conv::Pairs => {
                let values: Option<Vec<&str>> = if value.contains('=') {
                    value
                        .split(';')
                        .map(|p| p.split_once('=').map(|(_, v)| v))
                        .collect()
                } else {
                    value
                        .split_once(':')
                        .filter(|(status, _)| status.bytes().all(|b| b.is_ascii_alphabetic()))
                        .map(|(status, code)| vec![status, code])
                };
                values
                    .is_some_and(|v| v.len() == 2 && v.iter().all(|v| self.finds(v, &[Conv::Time])))
            }
            Conv::List => [',', ' ']
                .iter()
                .any(|sep| value.contains(*sep) && self.lists.contains(&(*sep, value.to_string()))),
            Conv::PercentDecoded => {
                let decoded = percent_decode(value);
                decoded != value && self.finds(&decoded, &[])
            }
        })
    }
}

fn rfc3339_ms(s: &str) -> Option<i128> {
    if !s.contains('T') {
        return None;
    }
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp_nanos() / 1_000_000)
}

/// A source time in any notation the formats use, as epoch milliseconds.
fn source_time_ms(s: &str) -> Option<i128> {
    if let Some(t) = rfc3339_ms(s) {
        return Some(t);
    }
    // `+0000` offsets (Network Firewall): RFC 3339 wants `+00:00`.
    if s.len() > 5 && s.contains('T') {
        let (head, tail) = s.split_at(s.len() - 5);
        if (tail.starts_with('+') || tail.starts_with('-'))
            && tail[1..].bytes().all(|b| b.is_ascii_digit())
        {
            if let Some(t) = rfc3339_ms(&format!("{head}{}:{}", &tail[..3], &tail[3..])) {
                return Some(t);
            }
        }
    }
    // No zone (Suricata's certificate validity, ALB's client certificate
    // validity): UTC.
    let b = s.as_bytes();
    if b.len() >= 19 && b[10] == b'T' && b[b.len() - 1].is_ascii_digit() {
        if let Some(t) = rfc3339_ms(&format!("{s}Z")) {
            return Some(t);
        }
    }
    if let Ok(n) = s.parse::<i128>() {
        return Some(if n >= 100_000_000_000 { n } else { n * 1000 });
    }
    // Epoch seconds with a fraction (CloudFront's `timestamp`).
    if let Some((secs, frac)) = s.split_once('.') {
        if let (Ok(secs), true) = (
            secs.parse::<i128>(),
            frac.bytes().all(|b| b.is_ascii_digit()),
        ) {
            let ms: String = frac.chars().chain(std::iter::repeat('0')).take(3).collect();
            return ms.parse::<i128>().ok().map(|ms| secs * 1000 + ms);
        }
    }
    let fmt = time::macros::format_description!(
        "[day]/[month repr:short]/[year]:[hour]:[minute]:[second] [offset_hour sign:mandatory][offset_minute]"
    );
    time::OffsetDateTime::parse(s, fmt)
        .ok()
        .map(|t| t.unix_timestamp_nanos() / 1_000_000)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The scalar leaves of a JSON value, `null` and `""` left out.
fn json_leaves(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => m.values().for_each(|v| json_leaves(v, out)),
        Value::Array(a) => a.iter().for_each(|v| json_leaves(v, out)),
        Value::String(s) if s.is_empty() => {}
        Value::String(s) => out.push(s.clone()),
        Value::Number(n) => out.push(n.to_string()),
        Value::Bool(b) => out.push(b.to_string()),
        Value::Null => {}
    }
}

/// The source events of a file, as lists of values, in record order.
fn source_values(case: &Case, input: &str, parsed: &Parsed) -> Vec<Vec<String>> {
    let present = |v: &String| !v.is_empty() && v != "-";
    match case.source {
        Source::JsonEvent => parsed
            .events
            .iter()
            .map(|(raw, _)| {
                let v: Value = serde_json::from_str(raw).expect("a JSON event");
                let mut out = Vec::new();
                json_leaves(&v, &mut out);
                out
            })
            .collect(),
        Source::CloudWatch => serde_json::Deserializer::from_str(input)
            .into_iter::<Value>()
            .map(|m| m.expect("a JSON message"))
            .filter(|m| m["messageType"] == "DATA_MESSAGE")
            .flat_map(|m| {
                let mut envelope = Vec::new();
                for key in ["owner", "logGroup", "logStream", "subscriptionFilters"] {
                    json_leaves(&m[key], &mut envelope);
                }
                let events = m["logEvents"].as_array().cloned().unwrap_or_default();
                events.into_iter().map(move |e| {
                    let mut out = envelope.clone();
                    json_leaves(&e, &mut out);
                    out
                })
            })
            .collect(),
        Source::Config => {
            let file: Value = serde_json::from_str(input).expect("a Config file");
            let mut envelope = Vec::new();
            for key in ["fileVersion", "configSnapshotId"] {
                json_leaves(&file[key], &mut envelope);
            }
            file["configurationItems"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(|item| {
                    let mut out = envelope.clone();
                    json_leaves(item, &mut out);
                    out
                })
                .collect()
        }
        Source::SpaceColumns | Source::SpaceColumnsNoBrackets => {
            let brackets = matches!(case.source, Source::SpaceColumns);
            parsed
                .events
                .iter()
                .map(|(raw, _)| {
                    space_columns(raw, brackets)
                        .into_iter()
                        .filter(present)
                        .collect()
                })
                .collect()
        }
        Source::TabColumns => parsed
            .events
            .iter()
            .map(|(raw, _)| {
                raw.split('\t')
                    .map(str::to_string)
                    .filter(present)
                    .collect()
            })
            .collect(),
        Source::WholeLine => parsed
            .events
            .iter()
            .map(|(raw, _)| vec![raw.clone()])
            .collect(),
    }
}

#[test]
fn every_source_value_is_in_the_record_without_event_original() {
    let mut missing = Vec::new();
    let mut table = Vec::new();
    for case in CASES {
        for path in sample_files(case) {
            let raw = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let input = file_input(case.format, &path, &raw);
            let parsed = write_records(case.format, input.as_bytes());
            let sources = source_values(case, &input, &parsed);
            let name = path
                .strip_prefix(root())
                .unwrap_or(&path)
                .display()
                .to_string();
            assert_eq!(
                sources.len(),
                parsed.events.len(),
                "{:?} {name}: source events and records differ in number",
                case.format
            );
            assert!(!sources.is_empty(), "{:?} {name}: no events", case.format);
            for (n, (values, (_, record))) in sources.iter().zip(&parsed.events).enumerate() {
                let ix = Index::of(record);
                for v in values {
                    if !ix.finds(v, case.convs) {
                        missing.push(format!(
                            "{:?} {name} event {}: {v:?} is not in the record",
                            case.format,
                            n + 1
                        ));
                    }
                }
            }
            table.push(format!(
                "| {} | {name} | {} | {} | {:.2} | {:.2} |",
                case.format.name(),
                parsed.events.len(),
                raw.len(),
                parsed.bytes as f64 / raw.len() as f64,
                parsed.bytes_with_original as f64 / raw.len() as f64,
            ));
        }
    }
    println!("\n| format | sample | events | source bytes | record bytes per source byte | with event.original |");
    println!("|---|---|---:|---:|---:|---:|");
    for row in &table {
        println!("{row}");
    }
    assert!(
        missing.is_empty(),
        "{} source value(s) missing from records:\n{}",
        missing.len(),
        missing.join("\n")
    );
}

/// Inserts whitespace after every `{ [ , :` outside strings of JSON text,
/// taking each piece from `ws` in turn by `picks`.
fn loosen(json: &str, ws: &[&str], picks: &[u8]) -> String {
    let mut out = String::with_capacity(json.len() * 2);
    let (mut in_str, mut escaped, mut n) = (false, false, 0usize);
    for c in json.chars() {
        out.push(c);
        if in_str {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '{' | '[' | ',' | ':' => {
                let pick = picks.get(n % picks.len().max(1)).copied().unwrap_or(0);
                out.push_str(ws[pick as usize % ws.len()]);
                n += 1;
            }
            _ => {}
        }
    }
    out
}

/// A sample rewritten with other whitespace: JSON loosened (over several
/// lines where the format allows a value to span lines, within the line
/// otherwise), line ends as CRLF.
fn rewrite(case: &Case, input: &str, picks: &[u8], crlf: bool) -> String {
    const MULTI_LINE: &[&str] = &["", " ", "\t", "\n", "\r\n  ", "\n\t\t"];
    const ONE_LINE: &[&str] = &["", " ", "\t", " \t "];
    let text = match (case.source, case.format) {
        // Whole files of JSON: any whitespace anywhere.
        (Source::JsonEvent, Format::CloudTrail) | (Source::Config, _) => {
            loosen(input, MULTI_LINE, picks)
        }
        (Source::CloudWatch, _) => serde_json::Deserializer::from_str(input)
            .into_iter::<Value>()
            .map(|m| loosen(&m.expect("JSON").to_string(), MULTI_LINE, picks))
            .collect::<Vec<_>>()
            .join("\n"),
        // One JSON value a line: whitespace within the line.
        (Source::JsonEvent, _) => input
            .lines()
            .map(|l| loosen(l, ONE_LINE, picks))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => input.to_string(),
    };
    if crlf {
        text.replace("\r\n", "\n").replace('\n', "\r\n")
    } else {
        text
    }
}

mod one_line {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Whatever the source's whitespace (pretty-printed JSON, CRLF line
        /// ends, tabs), every record of every format is exactly one line of
        /// valid JSON ending in one `\n`, and the events are the same.
        #[test]
        fn every_record_is_one_line_of_json(
            picks in prop::collection::vec(any::<u8>(), 1..16),
            crlf in any::<bool>(),
        ) {
            for case in CASES {
                for path in sample_files(case) {
                    let raw = std::fs::read_to_string(&path).unwrap();
                    let input = file_input(case.format, &path, &raw);
                    let text = rewrite(case, &input, &picks, crlf);
                    let ctx = Arc::new(ObjectContext {
                        bucket: "b".into(),
                        key: "k".into(),
                        version: String::new(),
                        ingested: "2026-01-01T00:00:00Z".into(),
                        include_original: false,
                    });
                    let mut writer = RecordWriter::new(ctx);
                    let mut out = Vec::new();
                    let mut records = 0;
                    let mut bad = None;
                    let mut reader = std::io::BufReader::new(text.as_bytes());
                    let limits = Limits { max_line_bytes: 1 << 20 };
                    let got = formats::parse(case.format, &mut reader, &limits, &mut |ev| {
                        writer.write(records, &ev, &mut out);
                        records += 1;
                        let lines = out.iter().filter(|b| **b == b'\n').count();
                        let valid = serde_json::from_slice::<Value>(&out).is_ok();
                        if lines != 1 || out.last() != Some(&b'\n') || out.contains(&b'\r') || !valid || ev.error.is_some() {
                            bad.get_or_insert(String::from_utf8_lossy(&out).into_owned());
                        }
                        Ok(())
                    });
                    let name = path.display();
                    prop_assert!(got.is_ok(), "{:?} {}: {:?}", case.format, name, got.err());
                    prop_assert!(bad.is_none(), "{:?} {}: {}", case.format, name, bad.unwrap_or_default());
                    let plain = write_records(case.format, input.as_bytes()).events.len() as u64;
                    prop_assert_eq!(records, plain, "{:?} {}", case.format, name);
                }
            }
        }
    }
}
