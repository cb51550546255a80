//! Log formats: each turns a decompressed byte stream (`BufRead`) into parsed
//! events for the record writer. Pure code: no AWS types, no async, no I/O
//! other than reading the stream given.
//!
//! Where to look:
//! - [`FORMATS`], below: the format table, one row per format (names, dataset,
//!   key layouts, content sniffer, parser, AWS's documentation). Adding a
//!   format is one new file and one row; tests fail if the README, the
//!   configuration or detection drift from the table.
//! - `detect`: which row an object belongs to (key first, then content).
//! - `lines` (bytes to lines) and `framing` (the one loop every line format
//!   runs: blank lines, invalid UTF-8, headers, refused lines as error events).
//! - `json`, `time`, `fields`: helpers the formats share.
//!
//! A malformed event inside a good file becomes an event with `error` set
//! (its raw text kept), never a lost line; only a file that cannot be read as
//! its format at all is an error.

pub mod detect;
pub mod fields;
pub mod framing;
pub mod json;
pub mod lines;
pub mod time;

use std::io::BufRead;
use std::str::FromStr;

use thiserror::Error;

use crate::record::ParsedEvent;

/// One row of the format table: everything the rest of the program knows
/// about a format. Detection, configuration (`FORMAT`, `SOURCES`),
/// `replay --format`, the metrics dimension (`Events.<name>`) and the
/// README's table all read these rows; tests fail if any of them drifts.
#[derive(Debug)]
pub struct FormatDef {
    pub format: Format,
    /// The name in configuration, logs, metrics and `replay --format`.
    pub name: &'static str,
    /// Other names accepted in configuration.
    pub aliases: &'static [&'static str],
    /// What the README calls it.
    pub title: &'static str,
    /// `event.dataset` of its records.
    pub dataset: &'static str,
    /// The field paths its parser can set (the record writer adds its own,
    /// `filter::COMMON_FIELDS`); a path ending in `.*` holds members whose
    /// names are only known at run time. Filters (`FILTERS`) may name only
    /// these; a test runs every sample through its format and fails on a
    /// path missing here.
    pub fields: &'static [&'static str],
    /// Service folders under `AWSLogs/<account>/` that name it.
    pub key_services: &'static [&'static str],
    /// A file name that names it, when AWS's file names do.
    pub key_name: Option<fn(&str) -> bool>,
    /// How its content is recognised (the first 8 KiB, decompressed).
    pub sniff: Sniff,
    pub parse: ParseFn,
    /// AWS's documentation of the format.
    pub doc: &'static str,
    /// A key as AWS writes it (or as users commonly choose it).
    pub example_key: &'static str,
    /// Its OCSF mapping (`ocsf/<format>.rs`); `None`: OCSF Base Events.
    pub ocsf: Option<&'static crate::ocsf::Mapping>,
}

/// How a format is recognised by content. Rows are tried in table order
/// within their kind, so containers (CloudWatch Logs, Config) come before
/// the formats whose lines they may carry.
#[derive(Debug, Clone, Copy)]
pub enum Sniff {
    /// Tried on the start of a JSON document (`{` after whitespace).
    Document(fn(&[u8]) -> bool),
    /// Tried on a first line that is (the start of) a JSON object.
    JsonLine(fn(&[u8]) -> bool),
    /// Tried on a first line that is not JSON.
    TextLine(fn(&[u8]) -> bool),
    /// A line format that also comes as JSON lines: `text` as [`Sniff::TextLine`],
    /// `json` as [`Sniff::JsonLine`].
    TextOrJsonLine {
        text: fn(&[u8]) -> bool,
        json: fn(&[u8]) -> bool,
    },
    /// JSON that no row claims.
    OtherJson,
    /// Anything else.
    OtherText,
}

/// Parses a whole decompressed stream, calling `emit` for every event.
pub type ParseFn = fn(&mut dyn BufRead, &Limits, &mut Emit<'_>) -> Result<ParseStats, FormatError>;

/// Declares the format modules, the `Format` enum and the table from one
/// list: adding a format is one file and one row here.
macro_rules! format_table {
    ($( $(#[doc = $doc:literal])* $variant:ident in $module:ident { $($field:ident: $value:expr),* $(,)? } )*) => {
        $( pub mod $module; )*

        /// The formats this build understands (see [`FORMATS`]).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Format { $( $(#[doc = $doc])* $variant, )* }

        impl Format {
            /// Every format, in table order.
            pub const ALL: &'static [Format] = &[$(Format::$variant),*];
        }

        /// The format table, one row per format, in `Format`'s order.
        pub static FORMATS: &[FormatDef] = &[
            $( FormatDef { format: Format::$variant, $($field: $value),* } ),*
        ];
    };
}

format_table! {
    /// CloudTrail log files, Insights included: one JSON document per
    /// file with a `Records` array.
    CloudTrail in cloudtrail {
        name: "cloudtrail",
        aliases: &[],
        title: "CloudTrail, incl. Insights",
        dataset: cloudtrail::DATASET,
        fields: cloudtrail::FIELDS,
        key_services: &["CloudTrail", "CloudTrail-Insight"],
        key_name: None,
        sniff: Sniff::Document(cloudtrail::sniff),
        parse: cloudtrail::parse,
        doc: "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-examples.html",
        example_key: "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/22/111122223333_CloudTrail_us-east-1_20261122T2055Z_a1b2c3d4e5f6g7h8.json.gz",
        ocsf: Some(&crate::ocsf::cloudtrail::MAPPING),
    }
    /// CloudWatch Logs delivered by a Firehose subscription: concatenated
    /// `DATA_MESSAGE` objects, one record per log event.
    CloudWatchLogs in cloudwatch {
        name: "cloudwatch",
        aliases: &["cloudwatchlogs"],
        title: "CloudWatch Logs via a Firehose subscription",
        dataset: cloudwatch::DATASET,
        fields: cloudwatch::FIELDS,
        key_services: &[],
        key_name: None,
        sniff: Sniff::JsonLine(cloudwatch::sniff),
        parse: cloudwatch::parse,
        doc: "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/SubscriptionFilters.html#FirehoseExample",
        example_key: "firehose/2026/11/22/20/cwl-stream-1-2026-11-22-20-55-04-1a2b3c4d",
        ocsf: None,
    }
    /// AWS Config configuration snapshots and history files: one record
    /// per configuration item.
    Config in config {
        name: "config",
        aliases: &[],
        title: "AWS Config snapshots and history",
        dataset: config::DATASET,
        fields: config::FIELDS,
        key_services: &["Config"],
        key_name: None,
        sniff: Sniff::JsonLine(config::sniff),
        parse: config::parse,
        doc: "https://docs.aws.amazon.com/config/latest/developerguide/deliver-snapshot-cli.html",
        example_key: "AWSLogs/111122223333/Config/us-east-1/2026/11/22/ConfigSnapshot/111122223333_Config_us-east-1_ConfigSnapshot_20261122T205504Z_1a2b3c4d.json.gz",
        ocsf: None,
    }
    /// VPC and Transit Gateway flow logs, versions 2 to 8, default or
    /// custom format (with its header line).
    VpcFlow in vpcflow {
        name: "vpcflow",
        aliases: &[],
        title: "VPC and Transit Gateway Flow Logs v2-v8",
        dataset: vpcflow::DATASET,
        fields: vpcflow::FIELDS,
        key_services: &["vpcflowlogs"],
        key_name: None,
        sniff: Sniff::TextLine(vpcflow::sniff),
        parse: framing::parse_lines::<vpcflow::FlowLines>,
        doc: "https://docs.aws.amazon.com/vpc/latest/userguide/flow-log-records.html",
        example_key: "AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/11/22/111122223333_vpcflowlogs_us-east-1_fl-0a1b2c3d4e5f67890_20261122T2055Z_1a2b3c4d.log.gz",
        ocsf: Some(&crate::ocsf::vpcflow::MAPPING),
    }
    /// Application, Network and Classic Load Balancer access logs.
    Elb in elb {
        name: "elb",
        aliases: &["alb", "nlb"],
        title: "ALB, NLB and Classic ELB access logs",
        dataset: elb::DATASET,
        fields: elb::FIELDS,
        key_services: &["elasticloadbalancing"],
        key_name: None,
        sniff: Sniff::TextLine(elb::sniff),
        parse: framing::parse_records::<elb::ElbLine>,
        doc: "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html",
        example_key: "AWSLogs/111122223333/elasticloadbalancing/us-east-1/2026/11/22/111122223333_elasticloadbalancing_us-east-1_app.my-alb.50dc6c495c0c9188_20261122T2055Z_10.0.0.1_2k8n5f3a.log.gz",
        ocsf: Some(&crate::ocsf::elb::MAPPING),
    }
    /// S3 server access logs, every vintage (later ones append fields).
    S3Access in s3access {
        name: "s3access",
        aliases: &[],
        title: "S3 server access logs",
        dataset: s3access::DATASET,
        fields: s3access::FIELDS,
        key_services: &[],
        key_name: None,
        sniff: Sniff::TextLine(s3access::sniff),
        parse: framing::parse_records::<s3access::AccessLine>,
        doc: "https://docs.aws.amazon.com/AmazonS3/latest/userguide/LogFormat.html",
        example_key: "s3-access-logs/2026-11-22-20-55-04-1A2B3C4D5E6F7A8B",
        ocsf: Some(&crate::ocsf::s3access::MAPPING),
    }
    /// CloudFront standard (access) logs in W3C format.
    CloudFront in cloudfront {
        name: "cloudfront",
        aliases: &[],
        title: "CloudFront standard logs",
        dataset: cloudfront::DATASET,
        fields: cloudfront::FIELDS,
        key_services: &[],
        key_name: Some(cloudfront::is_log_file_name),
        sniff: Sniff::TextOrJsonLine {
            text: cloudfront::sniff,
            json: cloudfront::sniff_json,
        },
        parse: framing::parse_lines::<cloudfront::CloudFrontLines>,
        doc: "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logs-reference.html",
        example_key: "cloudfront/E2K2LNFQNEXAMPLE.2026-11-22-20.a1b2c3d4.gz",
        ocsf: Some(&crate::ocsf::cloudfront::MAPPING),
    }
    /// GuardDuty findings exported to S3 (JSON lines, or JSON documents).
    GuardDuty in guardduty {
        name: "guardduty",
        aliases: &[],
        title: "GuardDuty findings",
        dataset: guardduty::DATASET,
        fields: guardduty::FIELDS,
        key_services: &["GuardDuty"],
        key_name: None,
        sniff: Sniff::JsonLine(guardduty::sniff),
        parse: guardduty::parse,
        doc: "https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_exportfindings.html",
        example_key: "AWSLogs/111122223333/GuardDuty/us-east-1/2026/11/22/1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d.jsonl.gz",
        ocsf: Some(&crate::ocsf::guardduty::MAPPING),
    }
    /// AWS WAF web ACL traffic logs.
    Waf in waf {
        name: "waf",
        aliases: &[],
        title: "AWS WAF",
        dataset: waf::DATASET,
        fields: waf::FIELDS,
        key_services: &["WAFLogs"],
        key_name: None,
        sniff: Sniff::JsonLine(waf::sniff),
        parse: framing::parse_records::<waf::WafRecord>,
        doc: "https://docs.aws.amazon.com/waf/latest/developerguide/logging-fields.html",
        example_key: "AWSLogs/111122223333/WAFLogs/us-east-1/my-web-acl/2026/11/22/20/55/111122223333_waflogs_us-east-1_my-web-acl_20261122T2055Z_1a2b3c4d.log.gz",
        ocsf: Some(&crate::ocsf::waf::MAPPING),
    }
    /// Route 53 Resolver query logs.
    Route53Resolver in route53 {
        name: "route53resolver",
        aliases: &["route53"],
        title: "Route 53 Resolver query logs",
        dataset: route53::DATASET,
        fields: route53::FIELDS,
        key_services: &["vpcdnsquerylogs"],
        key_name: None,
        sniff: Sniff::JsonLine(route53::sniff),
        parse: framing::parse_records::<route53::QueryRecord>,
        doc: "https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/resolver-query-logs-format.html",
        example_key: "AWSLogs/111122223333/vpcdnsquerylogs/vpc-0a1b2c3d/2026/11/22/vpc-0a1b2c3d.rqlc-1.20261122T2055Z.1a2b3c4d.log.gz",
        ocsf: Some(&crate::ocsf::route53::MAPPING),
    }
    /// AWS Network Firewall alert, flow and TLS logs.
    NetworkFirewall in firewall {
        name: "networkfirewall",
        aliases: &["firewall"],
        title: "AWS Network Firewall",
        dataset: firewall::DATASET,
        fields: firewall::FIELDS,
        key_services: &["network-firewall"],
        key_name: None,
        sniff: Sniff::JsonLine(firewall::sniff),
        parse: framing::parse_records::<firewall::FirewallRecord>,
        doc: "https://docs.aws.amazon.com/network-firewall/latest/developerguide/firewall-logging.html",
        example_key: "AWSLogs/111122223333/network-firewall/alert/us-east-1/my-firewall/2026/11/22/20/111122223333_network-firewall_alert_us-east-1_my-firewall_20261122T2055Z_1a2b3c4d.log.gz",
        ocsf: Some(&crate::ocsf::firewall::MAPPING),
    }
    /// Any other JSON lines: each object passes through as `json`.
    JsonLines in jsonlines {
        name: "json",
        aliases: &["jsonlines", "ndjson"],
        title: "JSON lines",
        dataset: jsonlines::DATASET,
        fields: jsonlines::FIELDS,
        key_services: &[],
        key_name: None,
        sniff: Sniff::OtherJson,
        parse: framing::parse_records::<jsonlines::JsonObject>,
        doc: "https://jsonlines.org/",
        example_key: "app/2026/11/22/events.jsonl.gz",
        ocsf: None,
    }
    /// Any other text: one record per non-blank line.
    Text in text {
        name: "text",
        aliases: &[],
        title: "text lines",
        dataset: text::DATASET,
        fields: text::FIELDS,
        key_services: &[],
        key_name: None,
        sniff: Sniff::OtherText,
        parse: framing::parse_records::<text::TextLine>,
        doc: "",
        example_key: "app/2026/11/22/app.log.gz",
        ocsf: None,
    }
}

impl Format {
    /// This format's row of the table.
    pub fn def(self) -> &'static FormatDef {
        &FORMATS[self as usize]
    }

    /// The name used in configuration (`FORMAT`), logs and `replay --format`.
    pub fn name(self) -> &'static str {
        self.def().name
    }

    /// `event.dataset` of its records.
    pub fn dataset(self) -> &'static str {
        self.def().dataset
    }

    /// Every name configuration accepts, for messages.
    pub fn names() -> String {
        Format::ALL
            .iter()
            .map(|f| f.name())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase();
        FORMATS
            .iter()
            .find(|d| d.name == s || d.aliases.contains(&s.as_str()))
            .map(|d| d.format)
            .ok_or_else(|| format!("unknown format {s:?} (known: {})", Format::names()))
    }
}

/// Limits a parser enforces.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_line_bytes: usize,
}

/// Why a whole object could not be parsed.
#[derive(Debug, Error)]
pub enum FormatError {
    /// Reading failed (network, decompression, a byte limit): see the inner error.
    #[error("reading failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("line {line} is longer than {limit} bytes")]
    LineTooLong { line: u64, limit: usize },
    /// The object is not a file of its format at all.
    #[error("{0}")]
    Malformed(String),
    /// The caller asked to stop (deadline, sink gone).
    #[error("stopped by the caller")]
    Stopped,
}

/// Returned by the emit callback to make the parser stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stop;

/// Receives every parsed event.
pub type Emit<'f> = dyn FnMut(ParsedEvent<'_>) -> Result<(), Stop> + 'f;

/// What a parser saw.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ParseStats {
    /// Events emitted (error events included).
    pub events: u64,
    /// Malformed events emitted with `error` set.
    pub errors: u64,
    /// Empty lines skipped.
    pub skipped: u64,
}

/// Parses the whole stream as `format`, calling `emit` for every event.
pub fn parse(
    format: Format,
    reader: &mut dyn BufRead,
    limits: &Limits,
    emit: &mut Emit<'_>,
) -> Result<ParseStats, FormatError> {
    (format.def().parse)(reader, limits, emit)
}

/// Calls `emit` and counts; shared by the parsers.
pub(crate) fn send(
    emit: &mut Emit<'_>,
    stats: &mut ParseStats,
    ev: ParsedEvent<'_>,
) -> Result<(), FormatError> {
    stats.events += 1;
    if ev.error.is_some() {
        stats.errors += 1;
    }
    emit(ev).map_err(|Stop| FormatError::Stopped)
}

#[cfg(test)]
mod table {
    use super::*;

    #[test]
    fn rows_are_in_enum_order_with_unique_names() {
        assert_eq!(FORMATS.len(), Format::ALL.len());
        let mut names = std::collections::HashSet::new();
        for (i, def) in FORMATS.iter().enumerate() {
            assert_eq!(
                def.format as usize, i,
                "{} is not at its enum position",
                def.name
            );
            assert_eq!(def.format.def().name, def.name);
            for name in std::iter::once(&def.name).chain(def.aliases) {
                assert!(names.insert(*name), "{name} names two formats");
                assert_eq!(name.parse::<Format>(), Ok(def.format), "{name}");
            }
            assert!(!def.title.is_empty() && !def.example_key.is_empty());
        }
        assert!("nope"
            .parse::<Format>()
            .unwrap_err()
            .contains("cloudtrail, cloudwatch"));
    }

    #[test]
    fn example_keys_are_detected_by_their_rows_key_rules() {
        for def in FORMATS {
            let by_key = def.key_services.len() + usize::from(def.key_name.is_some()) > 0;
            let want = by_key.then_some(def.format);
            assert_eq!(
                detect::from_key(def.example_key),
                want,
                "{}",
                def.example_key
            );
        }
    }

    #[test]
    fn one_row_takes_other_json_and_one_other_text() {
        let count = |f: fn(&Sniff) -> bool| FORMATS.iter().filter(|d| f(&d.sniff)).count();
        assert_eq!(count(|s| matches!(s, Sniff::OtherJson)), 1);
        assert_eq!(count(|s| matches!(s, Sniff::OtherText)), 1);
    }

    /// Every field path the samples' events have is in their row's
    /// `fields` (so that filters may name it, and the lists cannot go
    /// stale): every file under `tests/data` (its format named by the
    /// nearest directory that is a format's name) and `events/objects` (by
    /// its manifest), decompressed as objects are.
    #[test]
    fn every_field_of_every_sample_is_in_its_rows_field_list() {
        use std::collections::{BTreeSet, HashSet};
        use std::path::{Path, PathBuf};
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut samples: Vec<(PathBuf, Format)> = Vec::new();
        let mut dirs = vec![root.join("tests/data")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                if path.extension().is_some_and(|e| e == "md") {
                    continue;
                }
                let relative = path.strip_prefix(root).unwrap().to_path_buf();
                let format = relative
                    .ancestors()
                    .skip(1)
                    .find_map(|a| a.file_name()?.to_str()?.parse::<Format>().ok());
                if let Some(format) = format {
                    samples.push((path, format));
                }
            }
        }
        let objects = root.join("events/objects");
        let manifest: Vec<serde_json::Value> =
            serde_json::from_str(&std::fs::read_to_string(objects.join("manifest.json")).unwrap())
                .unwrap();
        for m in &manifest {
            let format = m["format"].as_str().unwrap().parse::<Format>().unwrap();
            samples.push((objects.join(m["file"].as_str().unwrap()), format));
        }
        assert!(samples.len() > 40, "{} samples", samples.len());

        let mut missing = BTreeSet::new();
        let mut formats_seen = HashSet::new();
        for (path, format) in &samples {
            let def = format.def();
            let counters = crate::source::decode::Counters::default();
            let file = std::fs::File::open(path).unwrap();
            let Ok((_, mut reader)) =
                crate::source::decode::open(file, u64::MAX, u64::MAX, &counters)
            else {
                continue;
            };
            let limits = Limits {
                max_line_bytes: 64 << 20,
            };
            let mut events = 0;
            let _ = parse(*format, &mut reader, &limits, &mut |ev| {
                events += 1;
                for (p, _) in ev.fields.iter() {
                    if !def.fields.contains(p) {
                        missing.insert((def.name, *p));
                    }
                }
                Ok(())
            });
            if events > 0 {
                formats_seen.insert(def.name);
            }
        }
        assert!(
            missing.is_empty(),
            "paths missing from their format's FIELDS: {missing:#?}"
        );
        assert_eq!(formats_seen.len(), FORMATS.len(), "{formats_seen:?}");
    }

    /// The README's format table lists the rows, in order, with their
    /// names, aliases and datasets.
    #[test]
    fn the_readme_table_is_the_format_table() {
        let readme = include_str!("../../README.md");
        let start = readme
            .find("| format (`FORMAT` name)")
            .expect("README has the formats table");
        let rows: Vec<&str> = readme[start..]
            .lines()
            .skip(2)
            .take_while(|l| l.starts_with('|'))
            .collect();
        assert_eq!(rows.len(), FORMATS.len(), "README rows: {rows:#?}");
        for (row, def) in rows.iter().zip(FORMATS) {
            let cols: Vec<&str> = row.split(" | ").collect();
            let mut names = vec![def.name];
            names.extend(def.aliases);
            let want = format!(
                "| {} ({})",
                def.title,
                names
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            assert_eq!(cols[0], want, "README row for {}", def.name);
            assert_eq!(
                cols[1],
                format!("`{}`", def.dataset),
                "README row for {}",
                def.name
            );
            for svc in def.key_services {
                assert!(
                    cols[2].contains(&format!("/{svc}/")),
                    "README row for {} lacks {svc}",
                    def.name
                );
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Runs a parser over bytes and collects the events as owned JSON-ish tuples.
    use super::*;
    use crate::record::FieldValue;

    #[derive(Debug, Clone, PartialEq)]
    pub struct Owned {
        pub dataset: &'static str,
        pub timestamp: Option<String>,
        pub original: String,
        pub offset: Option<u64>,
        pub error: Option<String>,
        pub fields: Vec<(&'static str, String)>,
    }

    impl Owned {
        pub fn field(&self, path: &str) -> Option<&str> {
            self.fields
                .iter()
                .find(|(p, _)| *p == path)
                .map(|(_, v)| v.as_str())
        }
    }

    /// Asserts each (path, value) of `want` is in the event.
    pub fn check(ev: &Owned, want: &[(&str, &str)]) {
        for (path, value) in want {
            assert_eq!(ev.field(path), Some(*value), "{path} in {}", ev.original);
        }
    }

    /// Asserts none of `paths` is in the event.
    pub fn absent(ev: &Owned, paths: &[&str]) {
        for path in paths {
            assert_eq!(
                ev.field(path),
                None,
                "{path} should be absent in {}",
                ev.original
            );
        }
    }

    /// Runs `format` over `good`, `bad`, `good` (one a line), and checks that
    /// exactly the middle line became an error event naming line 2 and `why`.
    pub fn bad_line_between_good_ones(
        format: Format,
        good: &str,
        bad: &[u8],
        why: &str,
        name: &str,
    ) -> Vec<Owned> {
        let mut input = format!("{good}\n").into_bytes();
        input.extend_from_slice(bad);
        input.extend_from_slice(format!("\n{good}\n").as_bytes());
        let (evs, stats) = run(format, &input, 1 << 20).unwrap();
        assert_eq!(evs.len(), 3, "{name}: {evs:?}");
        assert_eq!(stats.errors, 1, "{name}");
        let err = evs[1].error.as_deref().unwrap_or_default();
        assert!(err.contains("line 2") && err.contains(why), "{name}: {err}");
        evs
    }

    pub fn run(
        format: Format,
        input: &[u8],
        max_line_bytes: usize,
    ) -> Result<(Vec<Owned>, ParseStats), FormatError> {
        let mut out = Vec::new();
        let mut reader = std::io::BufReader::with_capacity(7, input);
        let stats = parse(format, &mut reader, &Limits { max_line_bytes }, &mut |ev| {
            out.push(Owned {
                dataset: ev.dataset,
                timestamp: ev.timestamp.map(|t| t.into_owned()),
                original: ev.original.to_string(),
                offset: ev.offset,
                error: ev.error.map(|e| e.into_owned()),
                fields: ev
                    .fields
                    .iter()
                    .map(|(p, v)| {
                        let s = match v {
                            FieldValue::Str(s) => s.to_string(),
                            FieldValue::I64(n) => n.to_string(),
                            FieldValue::U64(n) => n.to_string(),
                            FieldValue::F64(n) => n.to_string(),
                            FieldValue::Bool(b) => b.to_string(),
                            FieldValue::Raw(r) => r.get().to_string(),
                            FieldValue::Json(j) => j.to_string(),
                            FieldValue::JsonText(j) => j.clone(),
                            FieldValue::Members(m) => {
                                let members: Vec<String> = m
                                    .iter()
                                    .map(|(k, v)| format!("{}:{}", serde_json::json!(k), v.get()))
                                    .collect();
                                format!("{{{}}}", members.join(","))
                            }
                        };
                        (*p, s)
                    })
                    .collect(),
            });
            Ok(())
        })?;
        Ok((out, stats))
    }
}

#[cfg(test)]
mod properties {
    use super::testing::run;
    use super::*;
    use proptest::prelude::*;

    fn interesting_bytes() -> impl Strategy<Value = Vec<u8>> {
        let pieces = prop::sample::select(vec![
            &b"{"[..],
            b"}",
            b"[",
            b"]",
            b"\"",
            b"\\",
            b":",
            b",",
            b"\n",
            b"\r\n",
            b" ",
            b"\"Records\"",
            b"\"eventTime\"",
            b"\"2026-01-01T00:00:00Z\"",
            b"null",
            b"1e999",
            b"\xff",
            b"\x00",
            b"\xc3",
            b"true",
            b"{\"Records\":[",
        ]);
        prop_oneof![
            prop::collection::vec(any::<u8>(), 0..512),
            prop::collection::vec(pieces, 0..64).prop_map(|v| v.concat()),
        ]
    }

    proptest! {
        #[test]
        fn no_parser_panics_on_any_input(input in interesting_bytes()) {
            for &format in Format::ALL {
                match run(format, &input, 64) {
                    Ok((events, stats)) => {
                        prop_assert_eq!(events.len() as u64, stats.events);
                        prop_assert_eq!(events.iter().filter(|e| e.error.is_some()).count() as u64, stats.errors);
                    }
                    Err(FormatError::Malformed(_)) | Err(FormatError::LineTooLong { .. }) => {}
                    Err(e) => prop_assert!(false, "{format:?}: unexpected {e}"),
                }
            }
        }

        #[test]
        fn text_keeps_every_non_blank_line(lines in prop::collection::vec("[^\r\n]{0,40}", 0..20)) {
            let input = lines.join("\n");
            let (events, _) = run(Format::Text, input.as_bytes(), 1000).unwrap();
            // A byte order mark opening the stream is not part of the first line.
            let want: Vec<&str> = lines.iter().enumerate().map(|(i, l)| if i == 0 { l.strip_prefix('\u{feff}').unwrap_or(l) } else { l }).filter(|l| !l.bytes().all(|b| b.is_ascii_whitespace())).collect();
            let got: Vec<&str> = events.iter().map(|e| e.original.as_str()).collect();
            prop_assert_eq!(got, want);
        }
    }
}
