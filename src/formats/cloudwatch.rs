//! CloudWatch Logs delivered to S3 by a subscription filter through
//! Firehose: the (decompressed) object is a run of JSON objects with no
//! separator, each a subscription message
//! `{"messageType":"DATA_MESSAGE","owner":..,"logGroup":..,"logStream":..,
//! "subscriptionFilters":[..],"logEvents":[{"id":..,"timestamp":..,"message":..}]}`.
//!
//! Streamed: one message at a time (memory bounded by the largest message,
//! not the object). A DATA_MESSAGE becomes one event per log event, with
//! `message` and `event.original` the log event's message, `@timestamp` its
//! time (epoch milliseconds), `cloud.account.id` the owner and the group,
//! stream, event id and filters under `aws.cloudwatch.*`. CONTROL_MESSAGEs
//! (CloudWatch's health checks) are skipped and counted. A message that is
//! JSON but not of this shape becomes an error event; JSON that breaks off
//! mid-stream makes the object [`FormatError::Malformed`] (events before the
//! break were already emitted).

use std::borrow::Cow;
use std::io::BufRead;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::detect::has;
use super::json::{self, Num, OptText, raw_nonempty};
use super::time::millis_time;
use super::{send, Emit, FormatError, Limits, ParseStats};
use crate::record::ParsedEvent;

pub const DATASET: &str = "aws.cloudwatch_logs";

/// The field paths its events can have, besides the record writer's own
/// (see `FormatDef::fields`).
pub const FIELDS: &[&str] = &[
    "aws.cloudwatch.id",
    "aws.cloudwatch.log_group",
    "aws.cloudwatch.log_stream",
    "aws.cloudwatch.subscription_filters",
    "cloud.account.id",
    "event.kind",
    "message",
];

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Message<'a> {
    #[serde(borrow, default)]
    message_type: OptText<'a>,
    #[serde(borrow, default)]
    owner: OptText<'a>,
    #[serde(borrow, default)]
    log_group: OptText<'a>,
    #[serde(borrow, default)]
    log_stream: OptText<'a>,
    #[serde(borrow, default)]
    subscription_filters: Option<&'a RawValue>,
    #[serde(borrow, default)]
    log_events: Option<Vec<LogEvent<'a>>>,
}

#[derive(Deserialize)]
struct LogEvent<'a> {
    #[serde(borrow, default)]
    id: OptText<'a>,
    #[serde(default)]
    timestamp: Option<Num>,
    #[serde(borrow, default)]
    message: OptText<'a>,
}

/// A subscription payload names its `messageType` and `logGroup`.
pub fn sniff(line: &[u8]) -> bool {
    has(line, "\"messageType\"") && has(line, "\"logGroup\"")
}

pub fn parse(
    reader: &mut dyn BufRead,
    _limits: &Limits,
    emit: &mut Emit<'_>,
) -> Result<ParseStats, FormatError> {
    let mut stats = ParseStats::default();
    let mut messages = 0u64;
    for value in serde_json::Deserializer::from_reader(reader).into_iter::<Box<RawValue>>() {
        match value {
            Ok(raw) => {
                messages += 1;
                emit_message(raw.get(), messages, emit, &mut stats)?;
            }
            Err(e) if e.is_io() => return Err(FormatError::Io(e.into())),
            Err(e) => {
                return Err(FormatError::Malformed(format!(
                    "not a stream of CloudWatch Logs messages ({e}), after {messages} message(s) and {} event(s)",
                    stats.events
                )))
            }
        }
    }
    Ok(stats)
}

fn emit_message(
    raw: &str,
    number: u64,
    emit: &mut Emit<'_>,
    stats: &mut ParseStats,
) -> Result<(), FormatError> {
    let parsed = if raw.starts_with('{') {
        serde_json::from_str::<Message<'_>>(raw).map_err(|e| e.to_string())
    } else {
        Err("it is not a JSON object".to_string())
    };
    let msg = match parsed {
        Ok(m) => m,
        Err(why) => {
            let mut ev = ParsedEvent::new(DATASET, raw);
            ev.error = Some(Cow::Owned(format!(
                "message {number} is not a CloudWatch Logs subscription message: {why}"
            )));
            return send(emit, stats, ev);
        }
    };
    let kind = msg.message_type.as_ref().map(|t| t.0.as_ref());
    if kind == Some("CONTROL_MESSAGE") {
        stats.skipped += 1;
        return Ok(());
    }
    let events = match (&msg.log_events, kind) {
        (Some(events), None | Some("DATA_MESSAGE")) => events,
        (_, kind) => {
            let mut ev = ParsedEvent::new(DATASET, raw);
            ev.error = Some(Cow::Owned(match kind {
                Some(k) => format!("message {number} has an unknown messageType {k:?}"),
                None => format!("message {number} has no logEvents"),
            }));
            return send(emit, stats, ev);
        }
    };
    if events.is_empty() {
        stats.skipped += 1;
    }
    let filters = raw_nonempty(msg.subscription_filters);
    for le in events {
        let message = le.message.as_ref().map(|m| m.0.as_ref()).unwrap_or("");
        let mut ev = ParsedEvent::new(DATASET, message);
        ev.timestamp = millis_time(le.timestamp.as_ref());
        let f = &mut ev.fields;
        f.str("event.kind", "event");
        f.opt_str("message", Some(message));
        f.opt_cow("cloud.account.id", json::present_ref(&msg.owner));
        f.opt_cow("aws.cloudwatch.log_group", json::present_ref(&msg.log_group));
        f.opt_cow("aws.cloudwatch.log_stream", json::present_ref(&msg.log_stream));
        f.opt_cow("aws.cloudwatch.id", json::present_ref(&le.id));
        f.opt_raw("aws.cloudwatch.subscription_filters", filters);
        send(emit, stats, ev)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::formats::testing::run;
    use crate::formats::{Format, FormatError};

    /// Concatenated messages as Firehose writes them (tests/data/cloudwatch/SOURCES.md).
    const SAMPLE: &str = include_str!("../../tests/data/cloudwatch/firehose-concatenated.json");

    #[test]
    fn data_messages_expand_to_one_event_per_log_event() {
        let (evs, stats) = run(Format::CloudWatchLogs, SAMPLE.as_bytes(), 64).unwrap();
        assert_eq!(stats.events, 5);
        assert_eq!(stats.errors, 0);
        assert_eq!(stats.skipped, 1, "the control message");
        let e = &evs[0];
        assert_eq!(e.dataset, "aws.cloudwatch_logs");
        assert_eq!(e.timestamp.as_deref(), Some("2015-05-28T15:27:35.000Z"));
        assert_eq!(
            e.original,
            r#"{"eventVersion":"1.03","userIdentity":{"type":"Root"}"#
        );
        assert_eq!(e.field("message"), Some(e.original.as_str()));
        assert_eq!(e.field("cloud.account.id"), Some("111111111111"));
        assert_eq!(e.field("aws.cloudwatch.log_group"), Some("CloudTrail/logs"));
        assert_eq!(
            e.field("aws.cloudwatch.log_stream"),
            Some("111111111111_CloudTrail/logs_us-east-1")
        );
        assert_eq!(
            e.field("aws.cloudwatch.id"),
            Some("31953106606966983378809025079804211143289615424298221568")
        );
        assert_eq!(
            e.field("aws.cloudwatch.subscription_filters"),
            Some(r#"["Destination"]"#)
        );
        assert_eq!(e.offset, None);
        let lambda = &evs[3];
        assert_eq!(
            lambda.field("aws.cloudwatch.log_group"),
            Some("/aws/lambda/x")
        );
        assert_eq!(
            lambda.timestamp.as_deref(),
            Some("2017-11-08T02:46:48.016Z")
        );
        assert_eq!(lambda.original, "START RequestId: 1 Version: $LATEST\n");
        assert_eq!(evs[4].original, "tab\there \u{e9} \"quoted\"");
    }

    #[test]
    fn bad_messages_become_error_events_and_the_stream_goes_on() {
        let input = br#"{"messageType":"DATA_MESSAGE","owner":"1","logEvents":[{"id":"a","timestamp":1,"message":"m"}]}
42
{"messageType":"DATA_MESSAGE","logEvents":"nope"}
{"messageType":"SURPRISE","logEvents":[]}
{"owner":"1"}
{"messageType":"DATA_MESSAGE","logEvents":[]}{"logEvents":[{"message":"no type, still data"}]}"#;
        let (evs, stats) = run(Format::CloudWatchLogs, input, 64).unwrap();
        assert_eq!(evs.len(), 6);
        assert_eq!(stats.errors, 4);
        assert_eq!(stats.skipped, 1, "empty logEvents");
        assert_eq!(evs[0].field("message"), Some("m"));
        assert_eq!(evs[1].original, "42");
        assert!(evs[1].error.as_deref().unwrap().contains("message 2"));
        assert!(evs[2].error.as_deref().unwrap().contains("message 3"));
        assert!(evs[3].error.as_deref().unwrap().contains("SURPRISE"));
        assert!(evs[4].error.as_deref().unwrap().contains("no logEvents"));
        assert_eq!(evs[5].field("message"), Some("no type, still data"));
        assert_eq!(evs[5].timestamp, None);
    }

    #[test]
    fn a_broken_stream_is_malformed_and_says_how_far_it_got() {
        let cut = &SAMPLE.as_bytes()[..SAMPLE.len() - 30];
        match run(Format::CloudWatchLogs, cut, 64) {
            Err(FormatError::Malformed(m)) => assert!(m.contains("event(s)"), "{m}"),
            other => panic!("{:?}", other.map(|(e, _)| e.len())),
        }
        let cases: [&[u8]; 3] = [
            b"{\"a\":1} garbage",
            b"\xff\xfe",
            b"{\"logEvents\":[{\"message\":\"\xff\"}]}",
        ];
        for input in cases {
            assert!(
                matches!(
                    run(Format::CloudWatchLogs, input, 64),
                    Err(FormatError::Malformed(_))
                ),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn empty_input_has_no_events() {
        let (evs, stats) = run(Format::CloudWatchLogs, b" \n", 64).unwrap();
        assert!(evs.is_empty());
        assert_eq!(stats.events, 0);
    }
}
