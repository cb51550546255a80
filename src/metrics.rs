//! Metrics in CloudWatch Embedded Metric Format: one JSON document per
//! invocation, printed on its own line to standard output, which Lambda
//! sends to the function's log group, where CloudWatch extracts the metrics
//! (namespace `S3LogForwarder`, dimension `FunctionName`). No API call, no
//! agent, nothing in the hot path.
//!
//! Counts by dataset and by skip reason are metrics of their own, named
//! `Events.<format>` and `SkippedObjects.<reason>`, so that one document
//! carries them all.

use serde_json::{json, Map, Value};

use crate::batch::InvocationReport;

pub const NAMESPACE: &str = "S3LogForwarder";

/// The EMF document of one invocation of `function`, stamped `timestamp_ms`.
pub fn emf_document(report: &InvocationReport, function: &str, timestamp_ms: u64) -> String {
    let mut values: Vec<(String, u64, &'static str)> = vec![
        ("Messages".into(), report.messages as u64, "Count"),
        (
            "FailedMessages".into(),
            report.failed_messages as u64,
            "Count",
        ),
        ("Objects".into(), report.objects as u64, "Count"),
        (
            "SkippedObjects".into(),
            (report.objects_skipped + report.objects_not_found) as u64,
            "Count",
        ),
        (
            "RefusedObjects".into(),
            report.objects_refused as u64,
            "Count",
        ),
        (
            "FailedObjects".into(),
            report.objects_failed as u64,
            "Count",
        ),
        ("Events".into(), report.events, "Count"),
        ("ErrorRecords".into(), report.error_records, "Count"),
        ("OversizeEvents".into(), report.truncated_events, "Count"),
        ("BytesRead".into(), report.bytes_read, "Bytes"),
        ("BytesDecoded".into(), report.bytes_decoded, "Bytes"),
        ("BytesSent".into(), report.bytes_sent, "Bytes"),
        ("RecordsSent".into(), report.records_sent, "Count"),
        ("FirehoseCalls".into(), report.firehose_calls, "Count"),
        ("FirehoseRetries".into(), report.records_retried, "Count"),
        ("Duration".into(), report.duration_ms, "Milliseconds"),
    ];
    for (dataset, n) in &report.events_by_dataset {
        values.push((format!("Events.{dataset}"), *n, "Count"));
    }
    for (reason, n) in &report.skipped_by_reason {
        values.push((format!("SkippedObjects.{reason}"), *n, "Count"));
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
        r.skipped_by_reason.insert("folder-marker", 1);
        r.skipped_by_reason.insert("not-found", 1);
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
        assert_eq!(doc["SkippedObjects.folder-marker"], 1);
        assert_eq!(doc["SkippedObjects.not-found"], 1);
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
}
