//! The deadline with work in flight. moto cannot make a body stall, so these
//! tests use the in-memory seams of `s3_log_forwarder::fakes` (an object store
//! whose bodies can stall, a Firehose that keeps what it accepts); everything
//! between them is the function's real code.

mod common;

use std::time::Duration;

use common::{config, failed_ids, s3_notification, sqs_event};
use s3_log_forwarder::fakes::{MemFirehose, MemObject, MemStore};
use s3_log_forwarder::Forwarder;
use tokio::time::Instant;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_object_is_abandoned_before_the_deadline_and_its_message_retried() {
    let store = MemStore::new()
        .with("b", "fast.log", "one\ntwo\n")
        .with_object(
            "b",
            "stalled.log",
            MemObject::Stall {
                first: "first line arrives\n".into(),
            },
        );
    let firehose = MemFirehose::new();
    let cfg = config(&[
        ("DELIVERY_STREAM_NAME", "logs"),
        ("DEADLINE_MARGIN_MS", "1000"),
    ]);
    let fwd = Forwarder::new(cfg, store, firehose.clone());
    let event = sqs_event(&[
        s3_notification(&[("b", "fast.log")]),
        s3_notification(&[("b", "stalled.log")]),
    ]);

    let deadline = Instant::now() + Duration::from_secs(3);
    let out = fwd.handle(event, deadline).await;
    let finished = Instant::now();

    assert!(
        finished < deadline,
        "answered {:?} after the deadline",
        finished - deadline
    );
    assert_eq!(failed_ids(&out), vec!["msg-1"]);
    assert!(
        out.failures[1].as_deref().unwrap().contains("deadline"),
        "{:?}",
        out.failures
    );
    // The fast object's two events were sent. The stalled one's first line
    // was still in its parser's unsent chunk when reading stopped; its message
    // is retried as a whole (and would re-emit any sent event with the same id).
    assert_eq!(out.report.records_sent, 2);
    assert_eq!(firehose.accepted().len(), 2);
}
