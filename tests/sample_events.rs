//! Every sample event in `events/` against moto with the demo's objects, so
//! that the samples (and events/README.md's expected responses) stay true.

mod common;

use aws_lambda_events::event::sqs::SqsEvent;
use common::*;

const BUCKET: &str = "demo-source-logs";
const OBJECTS: [(&str, &str, bool); 3] = [
    ("cloudtrail.json", "AWSLogs/111111111111/CloudTrail/us-east-1/2026/11/22/111111111111_CloudTrail_us-east-1_20261122T2055Z_demo.json.gz", true),
    ("orders.jsonl", "app/orders/2026/11/22/orders log.jsonl", false),
    ("access.log", "app/web/2026/11/22/access.log", false),
];

fn load(name: &str) -> SqsEvent {
    let path = format!("{}/events/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("sample event");
    serde_json::from_str(&text).expect("sample event is an SQS event")
}

#[tokio::test]
async fn every_sample_event_gives_its_documented_response() {
    let moto = Moto::start();
    let stack = Stack::new(&moto.sdk_config().await);
    stack.bucket(BUCKET).await;
    for (file, key, compress) in OBJECTS {
        let body = std::fs::read(format!(
            "{}/events/objects/{file}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        stack
            .put(BUCKET, key, if compress { gzip(&body) } else { body })
            .await;
    }
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
