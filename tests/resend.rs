//! Records Firehose refuses in the middle of an object: the continuation
//! resends exactly those events (by ordinal ranges), not every event after
//! the first refused one, and an invocation that is itself resending and is
//! stopped (the deadline, more refusals) passes on exactly what is still
//! not accepted. Through the in-memory seams of `s3_log_forwarder::fakes`
//! (a Firehose that refuses chosen records, a queue that keeps what it is
//! sent); everything between them is the function's real code.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{config, failed_ids, s3_notification, sqs_event};
use s3_log_forwarder::fakes::{MemFirehose, MemObject, MemRequeue, MemStore, Reply};
use s3_log_forwarder::{Forwarder, Outcome};
use tokio::time::Instant;

const LINES: usize = 450;
const FILTER: &str =
    r#"[{"name": "noise", "dataset": "text", "when": {"message": {"prefix": "drop "}}}]"#;

/// Line `i` is noise the filter drops.
fn noise(i: usize) -> bool {
    i % 7 == 3
}

fn body() -> String {
    (0..LINES)
        .map(|i| {
            let word = if noise(i) { "drop" } else { "line" };
            format!("{word} {i:06} {}\n", "x".repeat(40))
        })
        .collect()
}

/// The notification for `b/big.log`, with its eTag (so that `event.id`
/// is the same whichever invocation reads it).
fn notification() -> String {
    let mut n: serde_json::Value =
        serde_json::from_str(&s3_notification(&[("b", "big.log")])).unwrap();
    n["Records"][0]["s3"]["object"]["eTag"] = "0123abcd".into();
    n.to_string()
}

/// One invocation over `object`, answering `message`, with `seconds` left.
async fn invoke(
    object: MemObject,
    vars: &[(&str, &str)],
    firehose: &MemFirehose,
    requeue: &MemRequeue,
    message: &str,
    seconds: u64,
) -> Outcome {
    let store = MemStore::new().with_object("b", "big.log", object);
    Forwarder::new(config(vars), store, firehose.clone())
        .with_requeue(requeue.clone())
        .handle(
            sqs_event(&[message.to_string()]),
            Instant::now() + Duration::from_secs(seconds),
        )
        .await
}

/// Refuses, in the next call, the records at `positions`, and again (all
/// of them) in the call that retries them: with two attempts, they are lost.
fn refuse(firehose: &MemFirehose, positions: &[usize]) {
    let _ = firehose
        .clone()
        .then(Reply::Partial(positions.to_vec()))
        .then(Reply::Partial((0..positions.len()).collect()));
}

/// `skipEvents` and `resend` of a continuation body.
fn continuation(body: &str) -> (u64, Vec<(u64, u64)>) {
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    let c = &v["s3LogForwarderContinuation"];
    let resend = serde_json::from_value(c["resend"].clone()).unwrap_or_default();
    (c["skipEvents"].as_u64().unwrap(), resend)
}

/// Every accepted event as (`event.id`, line number), one per event.
fn delivered(firehose: &MemFirehose) -> Vec<(String, usize)> {
    let mut events = Vec::new();
    for record in firehose.accepted() {
        for line in String::from_utf8_lossy(&record).lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let id = v["event"]["id"].as_str().unwrap().to_string();
            let text = v.to_string();
            let at = text.find("line ").expect("a kept line") + 5;
            events.push((id, text[at..at + 6].parse().unwrap()));
        }
    }
    events
}

fn dropped(outcome: &Outcome) -> u64 {
    outcome.report.events_dropped
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_records_in_the_middle_are_resent_alone_and_every_event_arrives_once() {
    let body = body();
    let kept: Vec<usize> = (0..LINES).filter(|&i| !noise(i)).collect();
    let noise_lines = (LINES - kept.len()) as u64;
    // (packing, records refused in the first invocation: three together,
    // one before the middle of the object, one after it)
    let cases: [(&str, [usize; 5]); 2] = [
        ("none", [5, 6, 7, 20, 300]),
        // Ten events a record: 39 records.
        ("ndjson", [5, 6, 7, 15, 33]),
    ];
    for (packing, refused) in cases {
        let vars = [
            ("DELIVERY_STREAM_NAME", "logs"),
            ("DEADLINE_MARGIN_MS", "1000"),
            ("FIREHOSE_MAX_ATTEMPTS", "2"),
            ("RECORD_PACKING", packing),
            ("PACK_MAX_EVENTS", "10"),
            ("FILTERS", FILTER),
        ];
        let firehose = MemFirehose::new();
        let requeue = MemRequeue::new();
        let whole = || MemObject::Body(body.clone().into());

        // 1. The whole object is read; five records are refused.
        refuse(&firehose, &refused);
        let first = invoke(whole(), &vars, &firehose, &requeue, &notification(), 30).await;
        assert!(
            failed_ids(&first).is_empty(),
            "{packing}: {:?}",
            first.failures
        );
        assert_eq!(first.report.objects_continued, 1, "{packing}");
        let accepted_first = delivered(&firehose).len();
        let sent = requeue.sent();
        let (skip, resend) = continuation(&sent[0].1);
        // Read to the end: nothing left to read, only the refused to resend.
        assert_eq!(skip, LINES as u64, "{packing}");
        let resent_events = |ranges: &[(u64, u64)]| -> usize {
            ranges
                .iter()
                .map(|&(from, to)| (from..to).filter(|&o| !noise(o as usize)).count())
                .sum()
        };
        let per_record = if packing == "none" { 1 } else { 10 };
        assert_eq!(
            resent_events(&resend),
            5 * per_record,
            "{packing}: {resend:?}"
        );
        assert_eq!(accepted_first, kept.len() - 5 * per_record, "{packing}");

        // 2. The continuation resends them, but the body stalls half-way
        // (before the last refused record) and the first record it resends
        // is refused again.
        refuse(&firehose, &[0]);
        let half = body.len() / 2;
        let stalled = MemObject::Stall {
            first: body[..half].to_string().into(),
        };
        let second = invoke(stalled, &vars, &firehose, &requeue, &sent[0].1, 3).await;
        assert!(
            failed_ids(&second).is_empty(),
            "{packing}: {:?}",
            second.failures
        );
        assert_eq!(second.report.objects_continued, 1, "{packing}");
        let sent = requeue.sent();
        assert_eq!(sent.len(), 2, "{packing}");
        let (skip2, resend2) = continuation(&sent[1].1);
        assert_eq!(skip2, LINES as u64, "{packing}");
        // Two of the three records read before the stall were accepted; the
        // refused one, the one still buffered at the stall and the one
        // after the stall are left.
        assert_eq!(
            resent_events(&resend2),
            3 * per_record,
            "{packing}: {resend2:?}"
        );
        assert_eq!(
            delivered(&firehose).len(),
            accepted_first + 2 * per_record,
            "{packing}"
        );

        // 3. The next one finishes: no further continuation.
        let third = invoke(whole(), &vars, &firehose, &requeue, &sent[1].1, 30).await;
        assert!(
            failed_ids(&third).is_empty(),
            "{packing}: {:?}",
            third.failures
        );
        assert_eq!(requeue.sent().len(), 2, "{packing}: no third continuation");

        // Every kept line exactly once, by event.id and by line.
        let events = delivered(&firehose);
        let mut by_id: BTreeMap<String, usize> = BTreeMap::new();
        for (id, _) in &events {
            *by_id.entry(id.clone()).or_default() += 1;
        }
        assert!(by_id.values().all(|&n| n == 1), "{packing}: an event twice");
        let mut lines: Vec<usize> = events.iter().map(|(_, line)| *line).collect();
        lines.sort_unstable();
        assert_eq!(lines, kept, "{packing}");
        // Each drop counted once, though resent ranges hold dropped events.
        let drops = dropped(&first) + dropped(&second) + dropped(&third);
        assert_eq!(drops, noise_lines, "{packing}");
    }
}
