//! Every sample event in `events/` against moto with the demo's objects, so
//! that the samples (and events/README.md's expected responses) stay true.

mod common;

use aws_lambda_events::event::sqs::SqsEvent;
use common::*;

const BUCKET: &str = "demo-source-logs";

/// `events/objects/manifest.json`: (file, key, gzip, format).
fn manifest() -> Vec<(String, String, bool, String)> {
    let path = format!(
        "{}/events/objects/manifest.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let entries: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    entries
        .iter()
        .map(|e| {
            (
                e["file"].as_str().unwrap().to_string(),
                e["key"].as_str().unwrap().to_string(),
                e["gzip"].as_bool().unwrap(),
                e["format"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

async fn upload_samples(stack: &Stack) {
    stack.bucket(BUCKET).await;
    for (file, key, compress, _) in manifest() {
        let body = std::fs::read(format!(
            "{}/events/objects/{file}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        stack
            .put(BUCKET, &key, if compress { gzip(&body) } else { body })
            .await;
    }
}

fn load(name: &str) -> SqsEvent {
    let path = format!("{}/events/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("sample event");
    serde_json::from_str(&text).expect("sample event is an SQS event")
}

#[tokio::test]
async fn every_sample_event_gives_its_documented_response() {
    let moto = Moto::start();
    let stack = Stack::new(&moto.sdk_config().await);
    upload_samples(&stack).await;
    stack.delivery_stream("logs", "dest").await;
    let fwd = forwarder(
        &stack.sdk,
        config(&[
            ("DELIVERY_STREAM_NAME", "logs"),
            ("ALLOWED_BUCKETS", BUCKET),
        ]),
    );

    // (file, how many messages fail, events emitted)
    let cases = [
        ("sqs-s3-notification.json", 0, 3),
        ("sqs-s3-multi-record.json", 0, 3 + 3),
        ("sqs-sns-wrapped.json", 0, 3),
        ("sqs-eventbridge.json", 0, 3),
        ("sqs-test-event.json", 0, 0),
        ("sqs-poison.json", 2, 0),
        ("sqs-mixed-batch.json", 2, 3 + 6 + 3 + 3),
    ];
    for (file, failures, events) in cases {
        let event = load(file);
        let out = fwd.handle(event, far_deadline()).await;
        assert_eq!(
            out.response.batch_item_failures.len(),
            failures,
            "{file}: {:?}",
            out.failures
        );
        assert_eq!(out.report.events, events, "{file}");
        assert_eq!(out.report.records_sent, events, "{file}");
    }

    // FIFO: messages 1-5 succeed; the first poison message (6th) and the 7th fail.
    let fifo = load("sqs-fifo-batch.json");
    let ids: Vec<String> = fifo
        .records
        .iter()
        .map(|m| m.message_id.clone().unwrap())
        .collect();
    let out = fwd.handle(fifo, far_deadline()).await;
    let mut failed: Vec<String> = out
        .response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    failed.sort();
    assert_eq!(failed, ids[5..].to_vec());
}

#[tokio::test]
async fn every_format_sample_is_detected_and_parsed_without_errors() {
    let moto = Moto::start();
    let stack = Stack::new(&moto.sdk_config().await);
    upload_samples(&stack).await;
    stack.delivery_stream("logs", "dest").await;
    let fwd = forwarder(&stack.sdk, config(&[("DELIVERY_STREAM_NAME", "logs")]));

    let out = fwd.handle(load("sqs-formats.json"), far_deadline()).await;
    assert!(
        out.response.batch_item_failures.is_empty(),
        "{:?}",
        out.failures
    );
    assert_eq!(out.report.error_records, 0);
    let records = stack.delivered("dest").await;
    for (file, key, _, format) in manifest() {
        let mine: Vec<_> = records
            .iter()
            .filter(|r| field(r, "aws.s3.key") == key.as_str())
            .collect();
        assert!(!mine.is_empty(), "{file}: no records");
        let dataset = field(mine[0], "event.dataset")
            .as_str()
            .unwrap()
            .to_string();
        let want = match format.as_str() {
            "json" | "text" => format.clone(),
            "route53resolver" => "aws.route53_resolver".into(),
            "networkfirewall" => "aws.firewall".into(),
            "cloudwatch" => "aws.cloudwatch_logs".into(),
            other => format!("aws.{other}"),
        };
        assert_eq!(dataset, want, "{file} read as {dataset}");
        assert!(
            mine.iter().all(|r| field(r, "error.message").is_null()),
            "{file}"
        );
    }
}
