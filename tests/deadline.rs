//! The deadline with work in flight. moto cannot make a body stall, so these
//! tests use the in-memory seams of `s3_log_forwarder::fakes` (an object store
//! whose bodies can stall, a Firehose that keeps what it accepts); everything
//! between them is the function's real code.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{config, failed_ids, s3_notification, sqs_event, ACCOUNT, REGION};
use s3_log_forwarder::fakes::{MemFirehose, MemObject, MemRequeue, MemStore};
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

/// The line numbers in `records`, each as often as it was delivered.
fn delivered_lines(records: &[bytes::Bytes]) -> BTreeMap<usize, usize> {
    let mut seen = BTreeMap::new();
    for record in records {
        let text = String::from_utf8_lossy(record);
        for (at, _) in text.match_indices("line ") {
            let digits = text.get(at + 5..at + 11).unwrap_or("");
            if let Ok(n) = digits.parse::<usize>() {
                *seen.entry(n).or_insert(0) += 1;
            }
        }
    }
    seen
}

/// Two invocations over `big.log` (`body`) with the configuration `vars`:
/// the first reads through a connection that hangs half-way (3 s left), the
/// second, when the first sent a continuation, reads the whole body.
struct StallThenContinue {
    first: s3_log_forwarder::Outcome,
    /// The continuations sent by the first invocation.
    sent: Vec<(String, String)>,
    /// Records Firehose accepted during the first invocation.
    delivered_first: usize,
    second: Option<s3_log_forwarder::Outcome>,
    firehose: MemFirehose,
    requeue: MemRequeue,
}

async fn stall_then_continue(body: &str, vars: &[(&str, &str)]) -> StallThenContinue {
    let firehose = MemFirehose::new();
    let requeue = MemRequeue::new();
    let half = body.len() / 2;
    let stalled = MemStore::new().with_object(
        "b",
        "big.log",
        MemObject::Stall {
            first: body[..half].to_string().into(),
        },
    );
    let fwd = Forwarder::new(config(vars), stalled, firehose.clone()).with_requeue(requeue.clone());
    let first = fwd
        .handle(
            sqs_event(&[s3_notification(&[("b", "big.log")])]),
            Instant::now() + Duration::from_secs(3),
        )
        .await;
    let sent = requeue.sent();
    let delivered_first = firehose.accepted().len();
    let mut second = None;
    if let Some((_, continuation)) = sent.first() {
        let whole = MemStore::new().with("b", "big.log", body.to_string());
        let fwd =
            Forwarder::new(config(vars), whole, firehose.clone()).with_requeue(requeue.clone());
        second = Some(
            fwd.handle(
                sqs_event(std::slice::from_ref(continuation)),
                Instant::now() + Duration::from_secs(30),
            )
            .await,
        );
    }
    StallThenContinue {
        first,
        sent,
        delivered_first,
        second,
        firehose,
        requeue,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_stalled_after_delivering_events_is_continued_from_where_it_stopped() {
    const LINES: usize = 20_000;
    // Enough lines to fill several sink chunks before the body stalls.
    let body: String = (0..LINES)
        .map(|i| format!("line {i:06} {}\n", "x".repeat(40)))
        .collect();
    let run = stall_then_continue(
        &body,
        &[
            ("DELIVERY_STREAM_NAME", "logs"),
            ("DEADLINE_MARGIN_MS", "1000"),
        ],
    )
    .await;
    let first = &run.first;

    // The message is acknowledged and the object continued by a new message.
    assert!(failed_ids(first).is_empty(), "{:?}", first.failures);
    assert_eq!(first.report.objects_continued, 1);
    let sent = &run.sent;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].0, format!("arn:aws:sqs:{REGION}:{ACCOUNT}:logs"));
    let delivered = run.delivered_first;
    assert!(
        delivered > 0 && delivered <= LINES / 2,
        "{delivered} delivered"
    );

    // The continuation, read in full, delivers the rest and nothing twice.
    let second = run.second.as_ref().expect("the continuation ran");
    assert!(failed_ids(second).is_empty(), "{:?}", second.failures);
    assert_eq!(run.requeue.sent().len(), 1, "no second continuation");
    let seen = delivered_lines(&run.firehose.accepted());
    assert_eq!(seen.len(), LINES, "every line delivered");
    assert!(seen.values().all(|&n| n == 1), "a line delivered twice");
}

/// Line `i` of the filtered object: a stretch in the middle and every
/// seventh line elsewhere are noise that the filter drops.
fn noise(i: usize) -> bool {
    (8_000..12_000).contains(&i) || i % 7 == 3
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_with_filtered_events_is_continued_without_resending_or_skipping_any() {
    const LINES: usize = 20_000;
    const FILTER: &str =
        r#"[{"name": "noise", "dataset": "text", "when": {"message": {"prefix": "drop "}}}]"#;
    let body: String = (0..LINES)
        .map(|i| {
            let word = if noise(i) { "drop" } else { "line" };
            format!("{word} {i:06} {}\n", "x".repeat(40))
        })
        .collect();
    let kept: Vec<usize> = (0..LINES).filter(|&i| !noise(i)).collect();
    let dropped = (LINES - kept.len()) as u64;
    for packing in ["none", "ndjson"] {
        // The connection hangs half-way, inside the stretch of noise: the
        // events dropped since the last record sent are progress too.
        let run = stall_then_continue(
            &body,
            &[
                ("DELIVERY_STREAM_NAME", "logs"),
                ("DEADLINE_MARGIN_MS", "1000"),
                ("RECORD_PACKING", packing),
                ("FILTERS", FILTER),
            ],
        )
        .await;
        let (first, firehose, requeue) = (&run.first, &run.firehose, &run.requeue);
        assert!(
            failed_ids(first).is_empty(),
            "{packing}: {:?}",
            first.failures
        );
        assert_eq!(first.report.objects_continued, 1, "{packing}");
        let sent = &run.sent;
        assert_eq!(sent.len(), 1, "{packing}: {sent:?}");
        // It resumes after the last event accounted for, which is past the
        // last record sent (the noise after it counts).
        let resume_at: u64 = {
            let body: serde_json::Value = serde_json::from_str(&sent[0].1).unwrap();
            body["s3LogForwarderContinuation"]["skipEvents"]
                .as_u64()
                .unwrap()
        };
        assert!(resume_at > 8_000, "{packing}: resumes at {resume_at}");
        assert!(first.report.events_dropped > 0, "{packing}");

        let second = run.second.as_ref().expect("the continuation ran");
        assert!(
            failed_ids(second).is_empty(),
            "{packing}: {:?}",
            second.failures
        );
        assert_eq!(requeue.sent().len(), 1, "{packing}: no second continuation");

        // Every kept line exactly once, no noise; every drop counted once.
        let seen = delivered_lines(&firehose.accepted());
        assert_eq!(seen.keys().copied().collect::<Vec<_>>(), kept, "{packing}");
        assert!(
            seen.values().all(|&n| n == 1),
            "{packing}: a line delivered twice"
        );
        assert!(
            firehose
                .accepted()
                .iter()
                .all(|r| !String::from_utf8_lossy(r).contains("drop ")),
            "{packing}: noise delivered"
        );
        let total = first.report.events_dropped + second.report.events_dropped;
        assert_eq!(total, dropped, "{packing}");
        let by_rule = first
            .report
            .dropped_by_filter
            .get("noise")
            .copied()
            .unwrap_or(0)
            + second
                .report
                .dropped_by_filter
                .get("noise")
                .copied()
                .unwrap_or(0);
        assert_eq!(by_rule, dropped, "{packing}");
    }
}
