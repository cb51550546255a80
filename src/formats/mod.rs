//! Log formats: each turns a decompressed byte stream (`BufRead`) into parsed
//! events for the record writer. Pure code: no AWS types, no async, no I/O
//! other than reading the stream given.
//!
//! `detect` decides the format of an object (key first, then content). A
//! malformed event inside a good file becomes an event with `error` set (its
//! raw text kept), never a lost line; only a file that cannot be read as its
//! format at all is an error.

pub mod cloudfront;
pub mod cloudtrail;
pub mod cloudwatch;
pub mod config;
pub mod detect;
pub mod elb;
pub mod fields;
pub mod firewall;
pub mod guardduty;
pub mod json;
pub mod jsonlines;
pub mod lines;
pub mod route53;
pub mod s3access;
pub mod text;
pub mod vpcflow;
pub mod waf;

use std::io::BufRead;
use std::str::FromStr;

use thiserror::Error;

use crate::record::ParsedEvent;

/// The formats this build understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    CloudTrail,
    VpcFlow,
    Elb,
    S3Access,
    CloudFront,
    GuardDuty,
    Waf,
    Route53Resolver,
    NetworkFirewall,
    CloudWatchLogs,
    Config,
    JsonLines,
    Text,
}

impl Format {
    pub const ALL: [Format; 13] = [
        Format::CloudTrail,
        Format::VpcFlow,
        Format::Elb,
        Format::S3Access,
        Format::CloudFront,
        Format::GuardDuty,
        Format::Waf,
        Format::Route53Resolver,
        Format::NetworkFirewall,
        Format::CloudWatchLogs,
        Format::Config,
        Format::JsonLines,
        Format::Text,
    ];

    /// The name used in configuration (`FORMAT`), logs and `replay --format`.
    pub fn name(self) -> &'static str {
        match self {
            Format::CloudTrail => "cloudtrail",
            Format::VpcFlow => "vpcflow",
            Format::Elb => "elb",
            Format::S3Access => "s3access",
            Format::CloudFront => "cloudfront",
            Format::GuardDuty => "guardduty",
            Format::Waf => "waf",
            Format::Route53Resolver => "route53resolver",
            Format::NetworkFirewall => "networkfirewall",
            Format::CloudWatchLogs => "cloudwatch",
            Format::Config => "config",
            Format::JsonLines => "json",
            Format::Text => "text",
        }
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase();
        Format::ALL
            .into_iter()
            .find(|f| f.name() == s || (s == "jsonlines" && *f == Format::JsonLines))
            .ok_or_else(|| format!("unknown format {s:?}"))
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
    match format {
        Format::CloudTrail => cloudtrail::parse(reader, limits, emit),
        Format::VpcFlow => vpcflow::parse(reader, limits, emit),
        Format::Elb => elb::parse(reader, limits, emit),
        Format::S3Access => s3access::parse(reader, limits, emit),
        Format::CloudFront => cloudfront::parse(reader, limits, emit),
        Format::GuardDuty => guardduty::parse(reader, limits, emit),
        Format::Waf => waf::parse(reader, limits, emit),
        Format::Route53Resolver => route53::parse(reader, limits, emit),
        Format::NetworkFirewall => firewall::parse(reader, limits, emit),
        Format::CloudWatchLogs => cloudwatch::parse(reader, limits, emit),
        Format::Config => config::parse(reader, limits, emit),
        Format::JsonLines => jsonlines::parse(reader, limits, emit),
        Format::Text => text::parse(reader, limits, emit),
    }
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
            for format in Format::ALL {
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
