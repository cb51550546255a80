//! JSON lines: one JSON object per non-empty line. The object is passed
//! through as `json`; `@timestamp` comes from its `@timestamp`, `timestamp`,
//! `time` or `ts` string when that is an RFC 3339 time, and `message` from its
//! `message` or `msg` string. A line that is not a JSON object becomes an
//! error event (the line kept), not a lost line.

use std::borrow::Cow;
use std::io::BufRead;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::lines::{is_blank, Lines};
use super::text::utf8_or_lossy;
use super::{send, Emit, FormatError, Limits, ParseStats};
use crate::record::{FieldValue, ParsedEvent};

pub const DATASET: &str = "json";

/// The few top-level fields we look at; everything else is validated and
/// skipped by serde without being built.
#[derive(Deserialize)]
struct Probe<'a> {
    #[serde(rename = "@timestamp", borrow, default)]
    at_timestamp: Option<&'a RawValue>,
    #[serde(borrow, default)]
    timestamp: Option<&'a RawValue>,
    #[serde(borrow, default)]
    time: Option<&'a RawValue>,
    #[serde(borrow, default)]
    ts: Option<&'a RawValue>,
    #[serde(borrow, default)]
    message: Option<&'a RawValue>,
    #[serde(borrow, default)]
    msg: Option<&'a RawValue>,
}

pub fn parse(
    reader: &mut dyn BufRead,
    limits: &Limits,
    emit: &mut Emit<'_>,
) -> Result<ParseStats, FormatError> {
    let mut stats = ParseStats::default();
    let mut lines = Lines::new(reader, limits.max_line_bytes);
    while let Some(line) = lines.next_line()? {
        if is_blank(line.bytes) {
            stats.skipped += 1;
            continue;
        }
        let (text, utf8_error) = utf8_or_lossy(line.bytes, line.number);
        let trimmed = text.trim();
        let mut ev = ParsedEvent::new(DATASET, trimmed);
        ev.offset = Some(line.offset);
        if let Some(e) = utf8_error {
            ev.error = Some(e);
        } else if !trimmed.starts_with('{') {
            ev.error = Some(Cow::Owned(format!(
                "line {} is not a JSON object",
                line.number
            )));
        } else {
            match serde_json::from_str::<Probe<'_>>(trimmed) {
                Ok(p) => {
                    ev.fields.push("json", FieldValue::Json(trimmed));
                    ev.timestamp = [p.at_timestamp, p.timestamp, p.time, p.ts]
                        .into_iter()
                        .flatten()
                        .find_map(|raw| as_str(raw).and_then(|s| rfc3339_utc(&s)));
                    if let Some(m) = p.message.or(p.msg).and_then(as_str) {
                        ev.fields.str("message", m);
                    }
                }
                Err(e) => {
                    ev.error = Some(Cow::Owned(format!(
                        "line {} is not valid JSON: {e}",
                        line.number
                    )));
                }
            }
        }
        send(emit, &mut stats, ev)?;
    }
    Ok(stats)
}

/// The string a raw JSON value holds, if it is a string.
fn as_str(raw: &RawValue) -> Option<Cow<'_, str>> {
    if raw.get().starts_with('"') {
        serde_json::from_str::<Cow<'_, str>>(raw.get()).ok()
    } else {
        None
    }
}

/// An RFC 3339 time as RFC 3339 UTC (`...Z`); kept as it is when it already is.
pub fn rfc3339_utc<'a>(s: &Cow<'a, str>) -> Option<Cow<'a, str>> {
    use time::format_description::well_known::Rfc3339;
    let t = time::OffsetDateTime::parse(s, &Rfc3339).ok()?;
    if t.offset().is_utc() && s.ends_with('Z') {
        return Some(s.clone());
    }
    t.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .ok()
        .map(Cow::Owned)
}

#[cfg(test)]
mod tests {
    use crate::formats::testing::run;
    use crate::formats::Format;

    #[test]
    fn objects_pass_through_with_time_and_message() {
        let input = b"{\"timestamp\":\"2026-11-22T10:00:00.5+02:00\",\"message\":\"hi \\\"x\\\"\",\"n\":1}\n\n{\"msg\":\"m\",\"time\":\"2026-11-22T10:00:00Z\"}\n{\"ts\":1700000000}\n";
        let (evs, stats) = run(Format::JsonLines, input, 1000).unwrap();
        assert_eq!(evs.len(), 3);
        assert_eq!(stats.skipped, 1);
        assert_eq!(evs[0].timestamp.as_deref(), Some("2026-11-22T08:00:00.5Z"));
        assert_eq!(evs[0].field("message"), Some("hi \"x\""));
        assert!(evs[0].field("json").unwrap().contains("\"n\":1"));
        assert_eq!(evs[1].timestamp.as_deref(), Some("2026-11-22T10:00:00Z"));
        assert_eq!(evs[1].field("message"), Some("m"));
        assert_eq!(evs[2].timestamp, None, "numbers are not taken as times");
        assert!(evs.iter().all(|e| e.error.is_none() && e.dataset == "json"));
    }

    #[test]
    fn malformed_lines_become_error_events() {
        let input =
            b"{\"ok\":1}\nnot json\n{\"broken\":\n[1,2]\n{\"a\":1} trailing\n{\"bad\":\"\xff\"}\n";
        let (evs, stats) = run(Format::JsonLines, input, 1000).unwrap();
        assert_eq!(evs.len(), 6);
        assert_eq!(stats.errors, 5);
        assert!(evs[0].error.is_none());
        for e in &evs[1..] {
            assert!(e.error.as_deref().unwrap().contains("line"), "{e:?}");
            assert!(e.field("json").is_none());
        }
        assert_eq!(evs[1].original, "not json");
    }

    #[test]
    fn deep_nesting_never_crashes() {
        let valid = format!("{{\"a\":{}1{}}}\n", "[".repeat(10_000), "]".repeat(10_000));
        let unclosed = format!("{{\"a\":{}1\n", "[".repeat(10_000));
        let input = format!("{valid}{unclosed}");
        let (evs, _) = run(Format::JsonLines, input.as_bytes(), 100_000).unwrap();
        assert_eq!(evs.len(), 2);
        assert!(evs[0].error.is_none(), "valid JSON passes through");
        assert!(evs[1].error.is_some());
    }
}
