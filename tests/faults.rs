//! Faults moto cannot make, injected by a proxy in front of it
//! (`common::faults`), with the function's real code: every class is
//! survived without losing an event, and the no-loss invariant holds under
//! random faults through a real SQS queue with a dead-letter queue.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use common::faults::{Fault, FaultProxy};
use common::*;

const ROLE: &str = "arn:aws:iam::123456789012:role/log-reader";

/// moto, a proxy in front of it, and SDK configuration through the proxy.
async fn stack_with_proxy(seed: u64) -> (Moto, FaultProxy, Stack, aws_config::SdkConfig) {
    let moto = Moto::start();
    let proxy = FaultProxy::start(moto.port, seed).await;
    let direct = Stack::new(&moto.sdk_config().await);
    let through_proxy = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(proxy.endpoint())
        .region(aws_config::Region::new(REGION))
        .credentials_provider(aws_credential_types::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        // Keep the SDK's own S3/STS retries quick so tests stay short.
        .retry_config(
            aws_config::retry::RetryConfig::standard()
                .with_initial_backoff(Duration::from_millis(10)),
        )
        .load()
        .await;
    direct.bucket("src").await;
    direct.delivery_stream("logs", "dest").await;
    (moto, proxy, direct, through_proxy)
}

fn lines(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix} event {i:05}")).collect()
}

/// Delivered `message` values (text records) with how often each arrived.
async fn delivered_counts(stack: &Stack) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for r in stack.delivered("dest").await {
        *counts
            .entry(field(&r, "message").as_str().unwrap_or("").to_string())
            .or_default() += 1;
    }
    counts
}

/// Invokes until the message succeeds (at most `tries`); returns the attempts.
async fn until_success(
    fwd: &s3_log_forwarder::Forwarder<
        s3_log_forwarder::source::s3::S3Store,
        s3_log_forwarder::sink::firehose::SdkFirehose,
    >,
    body: &str,
    tries: usize,
) -> (usize, Vec<String>) {
    let mut reasons = Vec::new();
    for attempt in 1..=tries {
        let out = fwd
            .handle(
                sqs_event(&[body.to_string()]),
                tokio::time::Instant::now() + Duration::from_secs(8),
            )
            .await;
        if out.response.batch_item_failures.is_empty() {
            return (attempt, reasons);
        }
        reasons.push(out.failures[0].clone().unwrap_or_default());
    }
    panic!("still failing after {tries} invocations: {reasons:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_class_is_survived_without_losing_an_event() {
    let cases: Vec<(Fault, Vec<Fault>)> = vec![
        (Fault::S3SlowDown, vec![Fault::S3SlowDown]),
        (
            Fault::S3InternalError,
            vec![Fault::S3InternalError, Fault::S3InternalError],
        ),
        // Three 503s outlast the SDK's own retries: the message must fail and come back.
        (Fault::S3SlowDown, vec![Fault::S3SlowDown; 3]),
        (Fault::S3ResetMidBody, vec![Fault::S3ResetMidBody]),
        (
            Fault::S3Stall(Duration::from_secs(30)),
            vec![Fault::S3Stall(Duration::from_secs(30))],
        ),
        (
            Fault::FirehosePartial(0.5),
            vec![Fault::FirehosePartial(0.5), Fault::FirehosePartial(0.5)],
        ),
        (
            Fault::FirehoseThrottle,
            vec![Fault::FirehoseThrottle, Fault::FirehoseThrottle],
        ),
        (
            Fault::FirehoseInternalError,
            vec![Fault::FirehoseInternalError],
        ),
        (
            Fault::FirehoseSlow(Duration::from_millis(700)),
            vec![Fault::FirehoseSlow(Duration::from_millis(700))],
        ),
        (Fault::StsThrottle, vec![Fault::StsThrottle]),
        (Fault::StsInternalError, vec![Fault::StsInternalError; 4]),
    ];
    let mut summary = Vec::new();
    for (i, (class, script)) in cases.into_iter().enumerate() {
        let (_moto, proxy, direct, sdk) = stack_with_proxy(i as u64).await;
        let want = lines(&format!("case{i}"), 300);
        let key = format!("case-{i}.log.gz");
        direct
            .put("src", &key, gzip(want.join("\n").as_bytes()))
            .await;
        let cfg = config(&[
            ("DELIVERY_STREAM_NAME", "logs"),
            ("ROLE_ARN", ROLE),
            ("DEADLINE_MARGIN_MS", "4000"),
        ]);
        let fwd = forwarder(&sdk, cfg);
        for f in &script {
            proxy.push(*f);
        }
        let body = s3_notification(&[("src", &key)]);
        let (attempts, reasons) = until_success(&fwd, &body, 4).await;
        let got = delivered_counts(&direct).await;
        let missing: Vec<&String> = want.iter().filter(|l| !got.contains_key(*l)).collect();
        assert!(
            missing.is_empty(),
            "{}: {} events lost",
            class.name(),
            missing.len()
        );
        assert!(
            got.keys().all(|k| want.contains(k)),
            "{}: foreign records",
            class.name()
        );
        let injected: u64 = proxy.injected().values().sum();
        assert_eq!(
            injected as usize,
            script.len(),
            "{}: every scripted fault was injected",
            class.name()
        );
        let duplicates: usize = got.values().map(|n| n - 1).sum();
        summary.push(format!(
            "| {} | {} | {attempts} | {duplicates} | {} |",
            class.name(),
            script.len(),
            reasons
                .first()
                .map(|r| r.chars().take(90).collect::<String>())
                .unwrap_or_else(|| "-".into())
        ));
    }
    println!("\n| fault | injected | invocations to succeed | duplicate records | first failure reason |");
    println!("|---|---|---|---|---|");
    for row in summary {
        println!("{row}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_event_is_lost_under_random_faults_through_a_real_queue() {
    const OBJECTS: usize = 60;
    const EVENTS_PER_OBJECT: usize = 100;
    const FAULT_RATE: f64 = 0.3;
    const POISON: usize = 3;
    let (_moto, proxy, direct, sdk) = stack_with_proxy(42).await;

    // Source: objects of known events.
    let mut source: BTreeSet<String> = BTreeSet::new();
    let mut bodies = Vec::new();
    for o in 0..OBJECTS {
        let events = lines(&format!("obj{o:02}"), EVENTS_PER_OBJECT);
        source.extend(events.iter().cloned());
        let key = format!("logs/{o:02}/part {o}.log.gz");
        direct
            .put("src", &key, gzip(events.join("\n").as_bytes()))
            .await;
        bodies.push(s3_notification(&[("src", &key.replace(' ', "+"))]));
    }
    for p in 0..POISON {
        bodies.push(format!("poison message {p}: not an S3 notification"));
    }

    // A queue with a dead-letter queue, as the template creates it.
    let sqs = &direct.sqs;
    // Ten receives: at this fault rate a good message failing ten times in
    // a row (and so going to the dead-letter queue, not lost, but not
    // delivered either) is vanishingly unlikely; with three it happened
    // about once in ten runs.
    let Queues {
        url: queue_url,
        arn: queue_arn,
        dlq_url,
    } = direct.queue_with_dead_letters(10, 30).await;
    for b in &bodies {
        sqs.send_message()
            .queue_url(&queue_url)
            .message_body(b)
            .send()
            .await
            .unwrap();
    }

    proxy.random(
        FAULT_RATE,
        &[
            Fault::S3SlowDown,
            Fault::S3InternalError,
            Fault::S3ResetMidBody,
            Fault::FirehosePartial(0.3),
            Fault::FirehoseThrottle,
            Fault::FirehoseInternalError,
            Fault::StsThrottle,
            Fault::StsInternalError,
        ],
    );
    let cfg = config(&[
        ("DELIVERY_STREAM_NAME", "logs"),
        ("ROLE_ARN", ROLE),
        ("FIREHOSE_MAX_ATTEMPTS", "3"),
    ]);
    let fwd = forwarder(&sdk, cfg);

    // The event source mapping, with failures visible again at once.
    let (invocations, _) = drain_queue(
        sqs,
        &queue_url,
        &queue_arn,
        &fwd,
        Duration::from_secs(20),
        400,
    )
    .await;

    let delivered = delivered_counts(&direct).await;
    let lost: Vec<&String> = source
        .iter()
        .filter(|e| !delivered.contains_key(*e))
        .collect();
    let foreign: Vec<&String> = delivered.keys().filter(|e| !source.contains(*e)).collect();
    let total: usize = delivered.values().sum();
    let duplicates = total - delivered.len();

    let dead = sqs
        .receive_message()
        .queue_url(&dlq_url)
        .max_number_of_messages(10)
        .send()
        .await
        .unwrap();
    let dead_bodies: BTreeSet<String> = dead
        .messages()
        .iter()
        .filter_map(|m| m.body().map(str::to_string))
        .collect();

    println!(
        "\nno-loss run: {} events in {OBJECTS} objects, fault rate {FAULT_RATE}",
        source.len()
    );
    println!("faults injected: {:?}", proxy.injected());
    println!("requests seen: {:?}", proxy.requests());
    println!(
        "invocations {invocations}, records delivered {total}, duplicates {duplicates} ({:.2}%), lost {}, foreign {}, dead-lettered {}",
        100.0 * duplicates as f64 / source.len() as f64,
        lost.len(),
        foreign.len(),
        dead_bodies.len()
    );
    assert!(
        proxy.injected().values().sum::<u64>() > 20,
        "faults were injected"
    );
    assert!(
        lost.is_empty(),
        "{} events not delivered, e.g. {:?}; dead-lettered bodies: {:?}",
        lost.len(),
        lost.first(),
        dead_bodies
    );
    assert!(
        foreign.is_empty(),
        "records not in the source: {:?}",
        foreign.first()
    );
    let poison: BTreeSet<String> = bodies
        .iter()
        .filter(|b| b.starts_with("poison"))
        .cloned()
        .collect();
    assert_eq!(
        dead_bodies, poison,
        "exactly the poison messages end in the dead-letter queue"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_expiring_during_an_invocation_are_refreshed_not_used_stale() {
    let (moto, proxy, direct, sdk) = stack_with_proxy(99).await;
    let mut want = Vec::new();
    let mut bodies = Vec::new();
    for o in 0..6 {
        let events = lines(&format!("short{o}"), 50);
        want.extend(events.clone());
        let key = format!("short/{o}.log");
        direct.put("src", &key, events.join("\n")).await;
        bodies.push(s3_notification(&[("src", &key)]));
    }
    // Every AssumeRole answer says the credentials expire in one second:
    // inside the refresh buffer, so every use must fetch fresh ones.
    proxy.random(1.0, &[Fault::StsShortLived(Duration::from_secs(1))]);
    let cfg = config(&[
        ("DELIVERY_STREAM_NAME", "logs"),
        ("ROLE_ARN", ROLE),
        ("MAX_CONCURRENCY", "1"),
    ]);
    let fwd = forwarder(&sdk, cfg);
    for body in &bodies {
        let out = fwd
            .handle(
                sqs_event(std::slice::from_ref(body)),
                tokio::time::Instant::now() + Duration::from_secs(20),
            )
            .await;
        assert!(
            out.response.batch_item_failures.is_empty(),
            "{:?}",
            out.failures
        );
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    let got = delivered_counts(&direct).await;
    assert!(
        want.iter().all(|w| got.contains_key(w)),
        "every event delivered"
    );
    let sts_calls = proxy.requests().get("sts").copied().unwrap_or(0);
    let assumed = moto.state()["sts"]["AssumedRole"]
        .as_array()
        .map(Vec::len)
        .unwrap_or(0);
    println!(
        "short-lived credentials: {sts_calls} AssumeRole calls for {} objects, {assumed} sessions",
        bodies.len()
    );
    assert!(
        sts_calls >= 2,
        "expired credentials were refreshed ({sts_calls} AssumeRole calls)"
    );
}
