//! Routes against a real moto server: records of each dataset reach the
//! streams of their route, with the route's packing; a source's route wins
//! over its dataset's; a route of several streams spreads its events over
//! them and sends each event to the same stream every time.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;

const FLOW_KEY: &str = "AWSLogs/111122223333/vpcflowlogs/us-east-2/2026/11/22/111122223333_vpcflowlogs_us-east-2_fl-1_20261122T1005Z_abc.log.gz";
const CT_KEY: &str = "AWSLogs/111122223333/CloudTrail/us-east-2/2026/11/22/111122223333_CloudTrail_us-east-2_20261122T1005Z_abc.json.gz";
const APP_KEY: &str = "app/2026/11/22/service.log";

fn cloudtrail(n: usize) -> String {
    let records: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#"{{"eventVersion":"1.08","eventTime":"2026-11-22T10:00:{:02}Z","eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","awsRegion":"us-east-2","sourceIPAddress":"198.51.100.7","requestID":"r-{i}","eventID":"e-{i}","readOnly":true,"eventType":"AwsApiCall","recipientAccountId":"111122223333"}}"#,
                i % 60
            )
        })
        .collect();
    format!(r#"{{"Records":[{}]}}"#, records.join(","))
}

fn flow_log(n: usize) -> String {
    let mut text = String::from("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n");
    for i in 0..n {
        text.push_str(&format!(
            "2 111122223333 eni-0a1 10.0.0.{} 10.0.1.9 {} 443 6 10 840 1763805600 1763805660 ACCEPT OK\n",
            i % 250,
            40000 + i
        ));
    }
    text
}

/// The `event.id` of every record that reached `dest`, with how many times.
async fn ids(stack: &Stack, dest: &str) -> BTreeMap<String, usize> {
    let mut seen = BTreeMap::new();
    for r in stack.delivered(dest).await {
        *seen
            .entry(field(&r, "event.id").as_str().unwrap().to_string())
            .or_default() += 1;
    }
    seen
}

#[tokio::test]
async fn each_dataset_reaches_its_routes_streams_with_the_routes_packing() {
    let moto = Moto::start();
    let sdk = moto.sdk_config().await;
    let stack = Stack::new(&sdk);
    stack.bucket("src-logs").await;
    for (stream, dest) in [
        ("logs", "dest-default"),
        ("siem-a", "dest-siem-a"),
        ("siem-b", "dest-siem-b"),
        ("lake", "dest-lake"),
    ] {
        stack.delivery_stream(stream, dest).await;
    }
    let routes = r#"[
        {"name": "siem", "streams": ["siem-a", "siem-b"], "datasets": ["aws.cloudtrail"]},
        {"name": "lake", "streams": ["lake"], "datasets": ["aws.vpcflow"],
         "packing": "ndjson", "compression": "gzip"}
    ]"#;
    // CloudTrail under `archive/` is sent to the lake by its source.
    let sources = r#"[{"bucket": "src-logs", "prefix": "archive/", "route": "lake"}]"#;
    let cfg = config(&[
        ("DELIVERY_STREAM_NAME", "logs"),
        ("ROUTES", routes),
        ("SOURCES", sources),
    ]);
    let archived = format!("archive/{CT_KEY}");
    stack
        .put("src-logs", CT_KEY, gzip(cloudtrail(200).as_bytes()))
        .await;
    stack
        .put("src-logs", &archived, gzip(cloudtrail(5).as_bytes()))
        .await;
    stack
        .put("src-logs", FLOW_KEY, gzip(flow_log(50).as_bytes()))
        .await;
    stack
        .put("src-logs", APP_KEY, "one line\nanother line\n")
        .await;
    let event = sqs_event(&[s3_notification(&[
        ("src-logs", CT_KEY),
        ("src-logs", &archived),
        ("src-logs", FLOW_KEY),
        ("src-logs", APP_KEY),
    ])]);
    let fwd = forwarder(&sdk, cfg);
    let out = fwd.handle(event.clone(), far_deadline()).await;
    assert!(failed_ids(&out).is_empty(), "{:?}", out.failures);

    // CloudTrail: spread over both streams of `siem`, each event once.
    let (a, b) = (
        ids(&stack, "dest-siem-a").await,
        ids(&stack, "dest-siem-b").await,
    );
    assert_eq!(a.len() + b.len(), 200);
    assert!(
        a.len() > 60 && b.len() > 60,
        "spread: {} and {}",
        a.len(),
        b.len()
    );
    assert!(
        a.keys().all(|id| !b.contains_key(id)),
        "an event in both streams"
    );
    assert!(a.values().chain(b.values()).all(|&n| n == 1));
    for r in stack.delivered("dest-siem-a").await {
        assert_eq!(field(&r, "event.dataset"), "aws.cloudtrail");
    }

    // The lake: flow logs and the archived CloudTrail, in gzip frames of
    // many events each.
    let lake_objects = stack.delivered_objects("dest-lake").await;
    assert!(!lake_objects.is_empty());
    assert!(
        lake_objects
            .iter()
            .all(|(_, body)| body.starts_with(&[0x1f, 0x8b])),
        "the lake's records are gzip frames"
    );
    let lake = stack.delivered("dest-lake").await;
    let datasets: BTreeMap<String, usize> = lake.iter().fold(BTreeMap::new(), |mut m, r| {
        *m.entry(field(r, "event.dataset").as_str().unwrap().to_string())
            .or_default() += 1;
        m
    });
    assert_eq!(datasets.get("aws.vpcflow"), Some(&50), "{datasets:?}");
    assert_eq!(datasets.get("aws.cloudtrail"), Some(&5), "{datasets:?}");

    // Everything else: the default route, one event a record.
    let default = stack.delivered("dest-default").await;
    assert_eq!(default.len(), 2);
    assert!(default.iter().all(|r| field(r, "aws.s3.key") == APP_KEY));

    // Bytes by route, in the report and the metrics document.
    let by_route: BTreeSet<&str> = out.report.bytes_by_route.keys().map(|k| &**k).collect();
    assert_eq!(by_route, BTreeSet::from(["default", "lake", "siem"]));
    let total: u64 = out.report.bytes_by_route.values().sum();
    assert_eq!(total, out.report.bytes_sent);
    let emf: serde_json::Value = serde_json::from_str(&s3_log_forwarder::metrics::emf_document(
        &out.report,
        "f",
        0,
    ))
    .unwrap();
    assert_eq!(emf["BytesSent.siem"], out.report.bytes_by_route["siem"]);
    assert!(emf["BytesDecoded.vpcflow"].as_u64().unwrap() > 0);

    // Sent again (a retried message): every event goes to the same stream.
    let again = fwd.handle(event, far_deadline()).await;
    assert!(failed_ids(&again).is_empty(), "{:?}", again.failures);
    let (a2, b2) = (
        ids(&stack, "dest-siem-a").await,
        ids(&stack, "dest-siem-b").await,
    );
    assert_eq!(a2.keys().collect::<Vec<_>>(), a.keys().collect::<Vec<_>>());
    assert_eq!(b2.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    assert!(a2.values().chain(b2.values()).all(|&n| n == 2));
}

#[tokio::test]
async fn a_route_stream_that_does_not_exist_fails_only_the_messages_routed_to_it() {
    let moto = Moto::start();
    let sdk = moto.sdk_config().await;
    let stack = Stack::new(&sdk);
    stack.bucket("src-logs").await;
    stack.delivery_stream("logs", "dest-default").await;
    // The route names a stream nobody created.
    let routes = r#"[{"name": "siem", "streams": ["missing"], "datasets": ["cloudtrail"]}]"#;
    let cfg = config(&[("DELIVERY_STREAM_NAME", "logs"), ("ROUTES", routes)]);
    stack
        .put("src-logs", CT_KEY, gzip(cloudtrail(3).as_bytes()))
        .await;
    stack.put("src-logs", APP_KEY, "hello\n").await;
    let event = sqs_event(&[
        s3_notification(&[("src-logs", CT_KEY)]),
        s3_notification(&[("src-logs", APP_KEY)]),
    ]);
    let out = forwarder(&sdk, cfg).handle(event, far_deadline()).await;
    assert_eq!(
        failed_ids(&out),
        vec!["msg-0".to_string()],
        "{:?}",
        out.failures
    );
    let why = out.failures[0].as_deref().unwrap_or_default();
    assert!(
        why.contains("missing"),
        "the failure names the stream: {why}"
    );
    assert_eq!(stack.delivered("dest-default").await.len(), 1);
}
