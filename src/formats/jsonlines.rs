//! JSON lines: one JSON object per non-empty line. The object is passed
//! through as `json`; `@timestamp` comes from its `@timestamp`, `timestamp`,
//! `time` or `ts` string when that is an RFC 3339 time, and `message` from its
//! `message` or `msg` string. A line that is not a JSON object becomes an
//! error event (the line kept), not a lost line. Nested fields are not
//! lifted into ECS fields: the object passes through whole, unparsed beyond
//! validation.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::framing::LineRecord;
use super::time::rfc3339_utc;
use crate::record::{FieldValue, ParsedEvent};

pub const DATASET: &str = "json";

/// The field paths its events can have, besides the record writer's own
/// (see `FormatDef::fields`).
pub const FIELDS: &[&str] = &[
    "json",
    "message",
];

/// The few top-level fields we look at; everything else is validated and
/// skipped by serde without being built. Written by hand rather than derived
/// so that a repeated key (valid JSON, seen in real logs) is not an error:
/// the first occurrence wins.
#[derive(Default)]
struct Probe<'a> {
    /// `@timestamp`, `timestamp`, `time`, `ts`, in order of preference.
    times: [Option<&'a RawValue>; 4],
    /// `message`, `msg`.
    messages: [Option<&'a RawValue>; 2],
}

impl<'de> Deserialize<'de> for Probe<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Probe<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Probe<'de>, A::Error> {
                let mut p = Probe::default();
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    let slot = match &*key {
                        "@timestamp" => &mut p.times[0],
                        "timestamp" => &mut p.times[1],
                        "time" => &mut p.times[2],
                        "ts" => &mut p.times[3],
                        "message" => &mut p.messages[0],
                        "msg" => &mut p.messages[1],
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                            continue;
                        }
                    };
                    let v: &'de RawValue = map.next_value()?;
                    slot.get_or_insert(v);
                }
                Ok(p)
            }
        }
        d.deserialize_map(V)
    }
}

/// Any JSON object a line, passed through whole.
pub struct JsonObject;

impl LineRecord for JsonObject {
    const DATASET: &'static str = DATASET;
    const WHAT: &'static str = "a JSON object";
    const JSON_OBJECT: bool = true;
    type Scratch = ();

    fn map<'a>(line: &'a str, _: &'a mut (), ev: &mut ParsedEvent<'a>) -> Result<(), String> {
        let probe = serde_json::from_str::<Probe<'_>>(line).map_err(|e| e.to_string())?;
        if nests_deeper_than(line.as_bytes(), MAX_DEPTH) {
            // Valid JSON, but no destination could index it (and a reader
            // with serde_json's defaults could not parse the record): keep
            // it as the original of an error record.
            return Err(format!(
                "it nests deeper than {MAX_DEPTH} levels; kept only as event.original"
            ));
        }
        ev.fields.push("json", FieldValue::Json(line));
        ev.timestamp = probe
            .times
            .into_iter()
            .flatten()
            .find_map(|raw| as_str(raw).and_then(|s| rfc3339_utc(&s)));
        if let Some(m) = probe.messages.into_iter().flatten().find_map(as_str) {
            ev.fields.str("message", m);
        }
        Ok(())
    }
}


/// Deepest nesting passed through as `json` (serde_json's own default limit).
pub const MAX_DEPTH: usize = 128;

/// Whether valid JSON `text` nests objects/arrays deeper than `max`.
pub fn nests_deeper_than(text: &[u8], max: usize) -> bool {
    // Fewer brackets than the limit cannot nest deeper than it.
    if text.len() <= max * 2 {
        return false;
    }
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in text {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// The string a raw JSON value holds, if it is a string.
fn as_str(raw: &RawValue) -> Option<Cow<'_, str>> {
    if raw.get().starts_with('"') {
        serde_json::from_str::<Cow<'_, str>>(raw.get()).ok()
    } else {
        None
    }
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
    fn a_json_array_of_records_is_its_records() {
        // Pretty-printed, with nested objects ending in `},` inside a record,
        // and compact, one record a line.
        let pretty = b"[\n  {\n    \"a\": {\"x\": 1},\n    \"b\": 2\n  },\n  {\n    \"a\": 3\n  }\n]\n";
        let (evs, stats) = run(Format::JsonLines, pretty, 1000).unwrap();
        assert_eq!(evs.len(), 2, "{evs:?}");
        assert!(evs.iter().all(|e| e.error.is_none()), "{evs:?}");
        assert!(evs[0].original.ends_with('}'), "the separating comma is not part of the record");
        assert_eq!(stats.skipped, 2, "the brackets");
        let compact = b"[\n{\"a\":1},\n{\"a\":2}\n]\n";
        let (evs, _) = run(Format::JsonLines, compact, 1000).unwrap();
        assert_eq!(evs.len(), 2);
        assert!(evs.iter().all(|e| e.error.is_none()));
        assert_eq!(crate::formats::detect::sniff(pretty), Format::JsonLines);
        // A text line that starts with a bracket stays text.
        assert_eq!(
            crate::formats::detect::sniff(b"[2026-11-22 10:00:00] INFO {started}\n"),
            Format::Text
        );
    }

    #[test]
    fn a_pretty_printed_object_is_one_event() {
        let input = b"{\n  \"a\": 1,\n  \"b\": {\"c\": 2}\n}\n{\"d\":3}\n{\n  \"cut\":\n";
        let (evs, stats) = run(Format::JsonLines, input, 1000).unwrap();
        assert_eq!(evs.len(), 3);
        assert!(evs[0].error.is_none() && evs[1].error.is_none());
        assert!(evs[0].original.contains("\"c\": 2"));
        assert_eq!(stats.errors, 1, "the object cut short at the end is an error event");
    }

    #[test]
    fn malformed_lines_become_error_events() {
        let input =
            b"{\"ok\":1}\nnot json\n{\"broken\":\n[1,2]\n{\"a\":1} trailing\n{\"bad\":\"\xff\"}\n";
        let (evs, stats) = run(Format::JsonLines, input, 1000).unwrap();
        assert_eq!(evs.len(), 6);
        assert_eq!(stats.errors, 5);
        assert!(evs[0].error.is_none());
        for e in &evs[1..5] {
            assert!(e.error.as_deref().unwrap().contains("line"), "{e:?}");
            assert!(e.field("json").is_none());
        }
        // Invalid UTF-8 is replaced and reported; the object still passes.
        assert!(evs[5].error.as_deref().unwrap().contains("not valid UTF-8"));
        assert_eq!(evs[5].field("json"), Some("{\"bad\":\"\u{fffd}\"}"));
        assert_eq!(evs[1].original, "not json");
    }

    #[test]
    fn repeated_keys_and_a_leading_bom_are_accepted() {
        let input = "\u{feff}{\"message\":\"first\",\"message\":\"second\",\"ts\":\"bad\",\"time\":\"2026-01-01T00:00:00-01:00\"}\r\n";
        let (evs, stats) = run(Format::JsonLines, input.as_bytes(), 1000).unwrap();
        assert_eq!(stats.errors, 0, "{evs:?}");
        assert_eq!(evs[0].field("message"), Some("first"));
        assert_eq!(evs[0].timestamp.as_deref(), Some("2026-01-01T01:00:00Z"));
        assert!(evs[0].original.starts_with('{'));
    }

    #[test]
    fn json_field_is_the_line_and_writes_back_as_an_object() {
        use crate::record::{ObjectContext, RecordWriter};
        let input = b"  {\"a\":{\"b\":[1,2]},\"message\":\"m\\u00e9\"}  \n";
        let mut out = Vec::new();
        let mut w = RecordWriter::new(std::sync::Arc::new(ObjectContext {
            bucket: "b".into(),
            key: "k".into(),
            version: String::new(),
            ingested: "2026-11-22T20:55:04.123Z".into(),
            include_original: true,
        }));
        let mut r = &input[..];
        crate::formats::parse(
            Format::JsonLines,
            &mut r,
            &crate::formats::Limits {
                max_line_bytes: 100,
            },
            &mut |ev| {
                w.write(0, &ev, &mut out);
                Ok(())
            },
        )
        .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["json"]["a"]["b"][1], 2);
        assert_eq!(v["message"], "m\u{e9}");
        assert_eq!(v["event"]["dataset"], "json");
        assert_eq!(v["@timestamp"], "2026-11-22T20:55:04.123Z");
        assert_eq!(v["log"]["offset"], 0);
    }

    #[test]
    fn deep_nesting_becomes_an_error_record_never_a_crash() {
        let deep = format!("{{\"a\":{}1{}}}\n", "[".repeat(10_000), "]".repeat(10_000));
        let unclosed = format!("{{\"a\":{}1\n", "[".repeat(10_000));
        let at_limit = format!("{{\"a\":{}1{}}}\n", "[".repeat(127), "]".repeat(127));
        let in_strings = format!("{{\"a\":\"{}\"}}\n", "[{".repeat(1000));
        let input = format!("{deep}{unclosed}{at_limit}{in_strings}");
        let (evs, _) = run(Format::JsonLines, input.as_bytes(), 100_000).unwrap();
        assert_eq!(evs.len(), 4);
        assert!(evs[0].error.as_deref().unwrap().contains("deeper than 128"));
        assert!(evs[0].field("json").is_none());
        assert!(evs[1].error.is_some());
        assert!(evs[2].error.is_none(), "128 levels pass");
        assert!(
            evs[3].error.is_none(),
            "brackets inside strings do not count"
        );
    }
}
