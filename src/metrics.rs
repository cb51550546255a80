//! The counters of an invocation, defined once in `COUNTERS`, and the two
//! places that read them: the `invocation summary` log line
//! (`log_summary`, one field per counter, named by `log_name`) and the
//! metrics document in CloudWatch Embedded Metric Format (`emf_document`,
//! one metric per counter, named by `metric_name`), printed on its own line
//! to standard output, which Lambda sends to the function's log group,
//! where CloudWatch extracts the metrics (namespace `S3LogForwarder`,
//! dimension `FunctionName`). No API call, no agent, nothing in the hot
//! path.
//!
//! Counts by dataset, route and skip reason are metrics of their own, named
//! `Events.<format>`, `BytesDecoded.<format>`, `BytesSent.<route>` and
//! `SkippedObjects.<reason>`, so that one document
//! carries them all; they are not in the summary line. Events dropped by
//! filter rules are counted per rule both ways: `DroppedEvents.<rule>`
//! metrics, and the summary line's `dropped_by_filter` field
//! (`rule=count,...`, empty when nothing was dropped). This module does not
//! count anything: the invocation fills the `InvocationReport`.

use serde_json::{json, Map, Value};

use crate::batch::InvocationReport;

pub const NAMESPACE: &str = "S3LogForwarder";

/// One counter of an invocation: its field in the summary line, its metric
/// and unit, what it means (the README's metrics table), and its value.
pub struct Counter {
    pub log_name: &'static str,
    pub metric_name: &'static str,
    pub unit: &'static str,
    pub meaning: &'static str,
    pub get: fn(&InvocationReport) -> u64,
}

/// Defines `COUNTERS` and `log_summary` from one list, so that the log line
/// and the metrics cannot drift apart (a log field name must be an
/// identifier known when compiling, hence the macro).
macro_rules! counters {
    ($($log:ident => $metric:literal, $unit:literal, $meaning:literal, |$r:ident| $get:expr;)*) => {
        /// Every counter of an invocation, in the order of the summary line
        /// and of the metrics document.
        pub const COUNTERS: &[Counter] = &[$(Counter {
            log_name: stringify!($log),
            metric_name: $metric,
            unit: $unit,
            meaning: $meaning,
            get: |$r: &InvocationReport| $get,
        },)*];

        /// Logs the `invocation summary` line: one field per counter, and
        /// the drops by filter rule.
        pub fn log_summary(report: &InvocationReport) {
            tracing::info!(
                $($log = { let $r = report; $get },)*
                dropped_by_filter = %by_rule(&report.dropped_by_filter),
                "invocation summary"
            );
        }
    };
}

counters! {
    messages => "Messages", "Count", "SQS messages in the invocation",
        |r| r.messages as u64;
    failed_messages => "FailedMessages", "Count", "messages returned in `batchItemFailures` (retried by SQS, or sent to the dead-letter queue)",
        |r| r.failed_messages as u64;
    poison_messages => "PoisonMessages", "Count", "messages whose body cannot be decoded (failed, so that they reach the dead-letter queue)",
        |r| r.poison_messages as u64;
    test_events => "TestEvents", "Count", "`s3:TestEvent` messages, acknowledged",
        |r| r.test_events as u64;
    objects => "Objects", "Count", "objects named by the messages",
        |r| r.objects as u64;
    objects_skipped => "SkippedObjects", "Count", "objects skipped without loss, total (by reason in `SkippedObjects.<reason>`)",
        |r| (r.objects_skipped + r.objects_not_found) as u64;
    objects_not_found => "NotFoundObjects", "Count", "of those, objects deleted or replaced by a newer version before they were read",
        |r| r.objects_not_found as u64;
    objects_refused => "RefusedObjects", "Count", "objects outside `ALLOWED_BUCKETS` / `ALLOWED_ACCOUNTS`, never fetched",
        |r| r.objects_refused as u64;
    objects_failed => "FailedObjects", "Count", "objects that could not be read, parsed or delivered (their message is retried)",
        |r| r.objects_failed as u64;
    objects_continued => "ContinuedObjects", "Count", "objects not finished in time, continued by a message to the queue",
        |r| r.objects_continued as u64;
    events => "Events", "Count", "events parsed, total (by format in `Events.<format>`)",
        |r| r.events;
    error_records => "ErrorRecords", "Count", "malformed lines sent as records with `error.message`",
        |r| r.error_records;
    events_dropped => "DroppedEvents", "Count", "events dropped by a filter rule (`FILTERS`), total (by rule in `DroppedEvents.<rule>`); included in `Events`",
        |r| r.events_dropped;
    truncated_events => "OversizeEvents", "Count", "events cut to fit Firehose's 1,000 KiB record limit (`tags: [\"truncated\"]`)",
        |r| r.truncated_events;
    bytes_read => "BytesRead", "Bytes", "bytes read from S3",
        |r| r.bytes_read;
    bytes_decoded => "BytesDecoded", "Bytes", "bytes after decompression (by format in `BytesDecoded.<format>`)",
        |r| r.bytes_decoded;
    records_sent => "RecordsSent", "Count", "records Firehose accepted",
        |r| r.records_sent;
    bytes_sent => "BytesSent", "Bytes", "bytes Firehose accepted (by route in `BytesSent.<route>`)",
        |r| r.bytes_sent;
    firehose_calls => "FirehoseCalls", "Count", "`PutRecordBatch` calls",
        |r| r.firehose_calls;
    records_retried => "FirehoseRetries", "Count", "records sent again after throttling or partial failure",
        |r| r.records_retried;
    throttled_calls => "FirehoseThrottles", "Count", "`PutRecordBatch` calls the stream answered with throttling, wholly or in part (the function slows down)",
        |r| r.throttled_calls;
    duration_ms => "Duration", "Milliseconds", "the invocation's own time",
        |r| r.duration_ms;
}

/// The EMF document of one invocation of `function`, stamped `timestamp_ms`.
pub fn emf_document(report: &InvocationReport, function: &str, timestamp_ms: u64) -> String {
    let mut values: Vec<(String, u64, &'static str)> = COUNTERS
        .iter()
        .map(|c| (c.metric_name.to_string(), (c.get)(report), c.unit))
        .collect();
    for (dataset, n) in &report.events_by_dataset {
        values.push((format!("Events.{dataset}"), *n, "Count"));
    }
    for (dataset, n) in &report.bytes_by_dataset {
        values.push((format!("BytesDecoded.{dataset}"), *n, "Bytes"));
    }
    for (route, n) in &report.bytes_by_route {
        values.push((format!("BytesSent.{route}"), *n, "Bytes"));
    }
    for (reason, n) in &report.skipped_by_reason {
        values.push((format!("SkippedObjects.{reason}"), *n, "Count"));
    }
    for (rule, n) in &report.dropped_by_filter {
        values.push((format!("DroppedEvents.{rule}"), *n, "Count"));
    }

    let mut doc = Map::new();
    let definitions: Vec<Value> = values
        .iter()
        .map(|(name, _, unit)| json!({"Name": name, "Unit": unit}))
        .collect();
    doc.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["FunctionName"]],
                "Metrics": definitions,
            }]
        }),
    );
    doc.insert("FunctionName".into(), Value::from(function));
    for (name, value, _) in values {
        doc.insert(name, Value::from(value));
    }
    Value::Object(doc).to_string()
}

/// The drops by rule as the summary line's `dropped_by_filter`:
/// `rule=count,rule=count`.
fn by_rule(dropped: &crate::filter::DropCounts) -> String {
    let parts: Vec<String> = dropped
        .iter()
        .map(|(rule, n)| format!("{rule}={n}"))
        .collect();
    parts.join(",")
}

/// The README rows of the per-dataset, per-reason and per-rule metrics (not counters).
pub const EVENTS_BY_FORMAT_ROW: &str = "| `Events.<format>` | Count | events parsed by format (`Events.cloudtrail`, `Events.vpcflow`, ...) |";
pub const BYTES_BY_FORMAT_ROW: &str = "| `BytesDecoded.<format>` | Bytes | bytes after decompression by format: what each dataset weighs |";
pub const BYTES_BY_ROUTE_ROW: &str = "| `BytesSent.<route>` | Bytes | bytes Firehose accepted by route (`ROUTES`; `default` without them): what each route costs and how near its streams are to their quota |";
pub const SKIPPED_BY_REASON_ROW: &str = "| `SkippedObjects.<reason>` | Count | objects skipped without loss by reason: `folder-marker`, `cloudtrail-digest`, `not-found` (deleted before it was read), `replaced` (a newer version has its own notification), ... |";
pub const DROPPED_BY_RULE_ROW: &str = "| `DroppedEvents.<rule>` | Count | events dropped by each filter rule, named by the rule's `name` (only rules that dropped any) |";

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> InvocationReport {
        let mut r = InvocationReport {
            messages: 10,
            failed_messages: 2,
            objects: 12,
            objects_skipped: 1,
            objects_not_found: 1,
            objects_refused: 1,
            events: 1500,
            truncated_events: 3,
            bytes_read: 1000,
            bytes_sent: 9000,
            records_retried: 7,
            duration_ms: 420,
            ..InvocationReport::default()
        };
        r.events_by_dataset.insert("cloudtrail", 1000);
        r.events_by_dataset.insert("vpcflow", 500);
        r.bytes_by_dataset.insert("cloudtrail", 700);
        r.bytes_by_route.insert("siem".into(), 6000);
        r.bytes_by_route.insert("default".into(), 3000);
        r.skipped_by_reason.insert("folder-marker", 1);
        r.skipped_by_reason.insert("not-found", 1);
        r.events_dropped = 7;
        r.dropped_by_filter.insert("ct-read-only".into(), 5);
        r.dropped_by_filter.insert("flow-accept".into(), 2);
        r
    }

    #[test]
    fn every_declared_metric_has_a_value_and_every_count_is_there() {
        let doc: Value =
            serde_json::from_str(&emf_document(&report(), "fwd", 1_700_000_000_000)).unwrap();
        let cw = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(cw["Namespace"], NAMESPACE);
        assert_eq!(cw["Dimensions"], json!([["FunctionName"]]));
        assert_eq!(doc["_aws"]["Timestamp"], 1_700_000_000_000u64);
        assert_eq!(doc["FunctionName"], "fwd");
        let names: Vec<&str> = cw["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["Name"].as_str().unwrap())
            .collect();
        for name in &names {
            assert!(doc[name].is_u64(), "{name} has no value");
        }
        assert_eq!(doc["Messages"], 10);
        assert_eq!(doc["FailedMessages"], 2);
        assert_eq!(doc["SkippedObjects"], 2);
        assert_eq!(doc["RefusedObjects"], 1);
        assert_eq!(doc["Events"], 1500);
        assert_eq!(doc["Events.cloudtrail"], 1000);
        assert_eq!(doc["Events.vpcflow"], 500);
        assert_eq!(doc["BytesDecoded.cloudtrail"], 700);
        assert_eq!(doc["BytesSent.siem"], 6000);
        assert_eq!(doc["BytesSent.default"], 3000);
        assert_eq!(doc["SkippedObjects.folder-marker"], 1);
        assert_eq!(doc["SkippedObjects.not-found"], 1);
        assert_eq!(doc["DroppedEvents"], 7);
        assert_eq!(doc["DroppedEvents.ct-read-only"], 5);
        assert_eq!(doc["DroppedEvents.flow-accept"], 2);
        assert_eq!(doc["OversizeEvents"], 3);
        assert_eq!(doc["FirehoseRetries"], 7);
        assert_eq!(doc["BytesSent"], 9000);
        assert_eq!(doc["Duration"], 420);
        // EMF allows at most 100 metrics per document.
        assert!(names.len() <= 100);
    }

    #[test]
    fn the_document_is_one_line() {
        assert!(!emf_document(&report(), "fwd", 0).contains('\n'));
    }

    /// A report where every counter has a value of its own.
    fn distinct_report() -> InvocationReport {
        InvocationReport {
            messages: 101,
            failed_messages: 102,
            poison_messages: 103,
            test_events: 104,
            objects: 105,
            objects_failed: 106,
            objects_skipped: 107,
            objects_refused: 108,
            objects_not_found: 109,
            objects_continued: 110,
            events: 111,
            error_records: 112,
            truncated_events: 113,
            bytes_read: 114,
            bytes_decoded: 115,
            records_sent: 116,
            bytes_sent: 117,
            firehose_calls: 118,
            records_retried: 119,
            throttled_calls: 121,
            duration_ms: 120,
            events_dropped: 121,
            ..InvocationReport::default()
        }
    }

    #[derive(Clone, Default)]
    struct Buffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_counter_reaches_the_summary_line_and_the_metrics() {
        let report = distinct_report();
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || log_summary(&report));
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        let line: Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(line["message"], "invocation summary");
        let doc: Value = serde_json::from_str(&emf_document(&report, "fwd", 0)).unwrap();
        let declared = &doc["_aws"]["CloudWatchMetrics"][0]["Metrics"];
        for counter in COUNTERS {
            let value = (counter.get)(&report);
            assert_eq!(
                line[counter.log_name], value,
                "{} in the log",
                counter.log_name
            );
            assert_eq!(
                doc[counter.metric_name], value,
                "{} in the metrics",
                counter.metric_name
            );
            let unit = json!({"Name": counter.metric_name, "Unit": counter.unit});
            assert!(
                declared.as_array().unwrap().contains(&unit),
                "{} declared",
                counter.metric_name
            );
        }
        // Nothing in the summary line that is not a counter (or the drops by rule).
        assert_eq!(line["dropped_by_filter"], "");
        let fields = line.as_object().unwrap().keys();
        let extra: Vec<_> = fields
            .filter(|k| {
                ![
                    "message",
                    "level",
                    "target",
                    "timestamp",
                    "dropped_by_filter",
                ]
                .contains(&k.as_str())
            })
            .filter(|k| !COUNTERS.iter().any(|c| c.log_name == k.as_str()))
            .collect();
        assert!(extra.is_empty(), "{extra:?}");
        // Every report field is some counter's value (`objects_skipped`,
        // 107, only inside the skipped total).
        let values: Vec<u64> = COUNTERS.iter().map(|c| (c.get)(&report)).collect();
        for field in 101..=121u64 {
            assert!(
                values.contains(&field) || field == 107,
                "report field with value {field} is no counter"
            );
        }
    }

    #[test]
    fn the_summary_line_names_the_drops_by_rule() {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || log_summary(&report()));
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        let line: Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(line["events_dropped"], 7);
        assert_eq!(line["dropped_by_filter"], "ct-read-only=5,flow-accept=2");
    }

    #[test]
    fn counter_names_are_unique() {
        for (i, a) in COUNTERS.iter().enumerate() {
            for b in &COUNTERS[i + 1..] {
                assert_ne!(a.log_name, b.log_name);
                assert_ne!(a.metric_name, b.metric_name);
            }
        }
    }

    #[test]
    fn the_readme_metrics_table_lists_exactly_the_counters() {
        let readme = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"));
        let start = readme.find("| metric | unit | meaning |").unwrap();
        let rows: Vec<&str> = readme[start..]
            .lines()
            .skip(2)
            .take_while(|l| l.starts_with('|'))
            .collect();
        let mut want: Vec<String> = COUNTERS
            .iter()
            .map(|c| format!("| `{}` | {} | {} |", c.metric_name, c.unit, c.meaning))
            .collect();
        want.push(EVENTS_BY_FORMAT_ROW.into());
        want.push(BYTES_BY_FORMAT_ROW.into());
        want.push(BYTES_BY_ROUTE_ROW.into());
        want.push(SKIPPED_BY_REASON_ROW.into());
        want.push(DROPPED_BY_RULE_ROW.into());
        assert_eq!(rows, want, "README metrics table");
    }
}
