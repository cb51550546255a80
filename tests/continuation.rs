//! An object too large for one invocation: with a small time budget and a
//! slow Firehose (through the fault proxy), the function delivers what it can,
//! sends its queue a continuation, acknowledges the original, and the next
//! invocations go on from there until every event is delivered: no endless
//! redelivery, nothing lost, nothing in the dead-letter queue.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::faults::{Fault, FaultProxy};
use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_object_is_finished_over_several_invocations_by_continuations() {
    const LINES: usize = 60_000;
    let moto = Moto::start();
    let proxy = FaultProxy::start(moto.port, 7).await;
    let direct = Stack::new(&moto.sdk_config().await);
    direct.bucket("src").await;
    direct.delivery_stream("logs", "dest").await;
    let lines: Vec<String> = (0..LINES)
        .map(|i| format!("big object line {i:06} {}", "x".repeat(60)))
        .collect();
    direct
        .put("src", "big/huge.log.gz", gzip(lines.join("\n").as_bytes()))
        .await;

    let sqs = &direct.sqs;
    // moto's default visibility timeout, 30 s.
    let Queues {
        url: queue_url,
        arn: queue_arn,
        dlq_url,
    } = direct.queue_with_dead_letters(3, 30).await;
    sqs.send_message()
        .queue_url(&queue_url)
        .message_body(s3_notification(&[("src", "big/huge.log.gz")]))
        .send()
        .await
        .unwrap();

    // Every PutRecordBatch takes 250 ms: far more than one 2.5 s invocation.
    proxy.random(1.0, &[Fault::FirehoseSlow(Duration::from_millis(250))]);
    let through_proxy = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(proxy.endpoint())
        .region(aws_config::Region::new(REGION))
        .credentials_provider(aws_credential_types::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .load()
        .await;
    let fwd = forwarder(
        &through_proxy,
        config(&[
            ("DELIVERY_STREAM_NAME", "logs"),
            ("DEADLINE_MARGIN_MS", "1200"),
        ]),
    );

    let (invocations, continued) = drain_queue(
        sqs,
        &queue_url,
        &queue_arn,
        &fwd,
        Duration::from_millis(2500),
        60,
    )
    .await;

    let delivered = direct.delivered("dest").await;
    let messages: BTreeSet<&str> = delivered
        .iter()
        .filter_map(|r| field(r, "message").as_str())
        .collect();
    let ids: BTreeSet<&str> = delivered
        .iter()
        .filter_map(|r| field(r, "event.id").as_str())
        .collect();
    let dead = sqs
        .receive_message()
        .queue_url(&dlq_url)
        .send()
        .await
        .unwrap();
    println!(
        "\n{LINES} events, {invocations} invocations, {continued} continuations, {} records delivered ({} distinct ids, {} duplicates), {} in the dead-letter queue",
        delivered.len(),
        ids.len(),
        delivered.len() - ids.len(),
        dead.messages().len()
    );
    assert!(
        continued >= 2,
        "the object needed continuations: {continued}"
    );
    assert_eq!(messages.len(), LINES, "every event delivered");
    assert_eq!(ids.len(), LINES, "one id per event across invocations");
    assert!(dead.messages().is_empty());
}
