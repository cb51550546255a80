//! Scale run (issue "Past one stream", short version): N function instances
//! drain one SQS queue (moto, with a dead-letter queue at MaxReceiveCount 5)
//! into one delivery stream that holds Firehose's default Direct PUT quota
//! (1 MiB/s, 1,000 requests/s, 100,000 records/s), and nothing is lost.
//!
//! The stream is a Firehose-compatible stand-in on loopback (moto enforces
//! no quota): `PutRecordBatch` through the AWS SDK, answered by
//! `fakes::QuotaFirehose`'s token buckets, a whole call refused with
//! `ServiceUnavailableException` or some records refused with "Slow down.".
//! It counts every accepted record by `event.id`, so duplicates and losses
//! are exact.
//!
//! `cargo test --test scale -- --nocapture` prints the table;
//! `SCALE_OBJECTS=200 SCALE_INSTANCES=1,4,16` makes it longer.

mod common;

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use bytes::Bytes;
use common::*;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use s3_log_forwarder::credentials::S3Clients;
use s3_log_forwarder::fakes::QuotaFirehose;
use s3_log_forwarder::sink::firehose::SdkFirehose;
use s3_log_forwarder::sink::Firehose;
use s3_log_forwarder::source::s3::S3Store;
use s3_log_forwarder::Forwarder;

const QUOTA_BYTES: u64 = 1 << 20;
const QUOTA_REQUESTS: u32 = 1000;
const QUOTA_RECORDS: u32 = 100_000;
/// Each invocation's time (the function's timeout; continuations carry on).
const INVOCATION_SECONDS: u64 = 30;
/// Flow log lines per object (~100 bytes each, ~900-byte records).
const LINES: usize = 400;

/// The stand-in: the quota, and every accepted `event.id` with its count.
struct Stream {
    quota: QuotaFirehose,
    ids: Mutex<HashMap<String, u32>>,
}

async fn serve(
    req: Request<Incoming>,
    stream: Arc<Stream>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let json = |status: u16, body: String| {
        Ok(Response::builder()
            .status(status)
            .header("content-type", "application/x-amz-json-1.1")
            .body(Full::new(Bytes::from(body)))
            .expect("a response"))
    };
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return json(400, r#"{"__type":"InvalidArgumentException"}"#.into()),
    };
    let put: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let records: Vec<Bytes> = put["Records"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|r| r["Data"].as_str())
                .map(|d| {
                    Bytes::from(
                        base64::engine::general_purpose::STANDARD
                            .decode(d)
                            .expect("base64"),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let name = put["DeliveryStreamName"].as_str().unwrap_or_default();
    let answer = match stream.quota.put_record_batch(name, records.clone()).await {
        Ok(codes) => codes,
        Err(_) => {
            return json(
                400,
                r#"{"__type":"ServiceUnavailableException","message":"Slow down."}"#.into(),
            )
        }
    };
    let mut responses = Vec::with_capacity(answer.len());
    let mut failed = 0;
    {
        let mut ids = stream.ids.lock().unwrap();
        for (record, code) in records.iter().zip(&answer) {
            match code {
                None => {
                    for line in record.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                        let v: serde_json::Value =
                            serde_json::from_slice(line).expect("a JSON record");
                        let id = v["event"]["id"].as_str().expect("event.id").to_string();
                        *ids.entry(id).or_default() += 1;
                    }
                    responses.push(serde_json::json!({"RecordId": "r"}));
                }
                Some(code) => {
                    failed += 1;
                    responses
                        .push(serde_json::json!({"ErrorCode": code, "ErrorMessage": "Slow down."}));
                }
            }
        }
    }
    json(
        200,
        serde_json::json!({"FailedPutCount": failed, "Encrypted": false, "RequestResponses": responses})
            .to_string(),
    )
}

async fn start_stream() -> (String, Arc<Stream>) {
    let stream = Arc::new(Stream {
        quota: QuotaFirehose::new(QUOTA_REQUESTS, QUOTA_RECORDS, QUOTA_BYTES),
        ids: Mutex::new(HashMap::new()),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let s = stream.clone();
    tokio::spawn(async move {
        loop {
            let Ok((conn, _)) = listener.accept().await else {
                continue;
            };
            let s = s.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req| serve(req, s.clone()));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(conn), svc)
                    .await;
            });
        }
    });
    (endpoint, stream)
}

struct Row {
    instances: usize,
    events: usize,
    seconds: f64,
    accepted_bytes: u64,
    share: f64,
    calls: u64,
    throttled_calls: u64,
    duplicates: u64,
    lost: usize,
    dead_lettered: usize,
}

async fn run(instances: usize, objects: usize) -> Row {
    let moto = Moto::start();
    let stack = Stack::new(&moto.sdk_config().await);
    stack.bucket("src").await;
    let sqs = &stack.sqs;
    // Visibility six times the function's timeout, as template.yaml sets it.
    let Queues {
        url: queue_url,
        arn: queue_arn,
        dlq_url,
    } = stack
        .queue_with_dead_letters(5, 6 * INVOCATION_SECONDS)
        .await;
    for o in 0..objects {
        let mut text = String::from("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n");
        for i in 0..LINES {
            text.push_str(&format!(
                "2 123456789012 eni-{o:08x}{i:09x} 10.0.{}.{} 10.1.{}.{} {} 443 6 {} {} 1795380780 1795380840 ACCEPT OK\n",
                o % 250,
                i % 250,
                i % 200,
                o % 200,
                1024 + i,
                i + 1,
                (i + 1) * 97
            ));
        }
        let key =
            format!("AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/22/flow-{o:05}.log.gz");
        stack.put("src", &key, gzip(text.as_bytes())).await;
        sqs.send_message()
            .queue_url(&queue_url)
            .message_body(s3_notification(&[("src", &key)]))
            .send()
            .await
            .unwrap();
    }

    let (endpoint, stream) = start_stream().await;
    let to_stream = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new(REGION))
        .credentials_provider(aws_credential_types::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .load()
        .await;
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..instances {
        let fwd = Forwarder::new(
            config(&[("DELIVERY_STREAM_NAME", "logs")]),
            S3Store::new(S3Clients::new(&stack.sdk, true)),
            SdkFirehose::new(&to_stream),
        )
        .with_requeue(s3_log_forwarder::requeue::SqsRequeue::new(&stack.sdk));
        let sqs = sqs.clone();
        let (queue_url, queue_arn) = (queue_url.clone(), queue_arn.clone());
        workers.push(tokio::spawn(async move {
            let fwd = fwd;
            let (invocations, _) = drain_queue(
                &sqs,
                &queue_url,
                &queue_arn,
                &fwd,
                Duration::from_secs(INVOCATION_SECONDS),
                10_000,
            )
            .await;
            let pace = fwd.pace();
            eprintln!(
                "instance: {invocations} invocations, rate {:.0} KiB/s, window {}, {} throttled answers",
                pace.rate.unwrap_or(0.0) / 1024.0,
                pace.window,
                pace.throttled
            );
            invocations
        }));
    }
    for w in workers {
        w.await.unwrap();
    }
    let seconds = started.elapsed().as_secs_f64();
    let dead = sqs
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .unwrap();
    let dead_lettered = dead
        .attributes()
        .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let tally = stream.quota.tally();
    let ids = stream.ids.lock().unwrap();
    let events = objects * LINES;
    Row {
        instances,
        events,
        seconds,
        accepted_bytes: tally.bytes_accepted,
        share: stream.quota.share_used(seconds),
        calls: tally.calls,
        throttled_calls: tally.refused_calls + tally.partial_calls,
        duplicates: ids.values().map(|n| u64::from(*n) - 1).sum(),
        lost: events - ids.len(),
        dead_lettered,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_sharing_a_stream_hold_its_quota_and_lose_nothing() {
    let objects: usize = std::env::var("SCALE_OBJECTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24);
    let counts: Vec<usize> = std::env::var("SCALE_INSTANCES")
        .ok()
        .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![4]);
    let mut table = String::from("| instances | events | seconds to drain | accepted events/s | accepted MiB/s | share of the quota | calls | throttled calls | duplicates | lost | dead-lettered |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for n in counts {
        let r = run(n, objects).await;
        let row = format!(
            "| {} | {} | {:.1} | {:.0} | {:.2} | {:.0}% | {} | {} | {} ({:.1}%) | {} | {} |\n",
            r.instances,
            r.events,
            r.seconds,
            (r.events as u64 + r.duplicates) as f64 / r.seconds,
            r.accepted_bytes as f64 / r.seconds / QUOTA_BYTES as f64,
            r.share * 100.0,
            r.calls,
            r.throttled_calls,
            r.duplicates,
            r.duplicates as f64 * 100.0 / r.events as f64,
            r.lost,
            r.dead_lettered
        );
        print!("{row}");
        table.push_str(&row);
        assert_eq!(r.lost, 0, "events lost with {} instances", r.instances);
        assert_eq!(
            r.dead_lettered, 0,
            "messages dead-lettered with {} instances",
            r.instances
        );
        assert!(r.throttled_calls > 0, "the quota was reached");
    }
    println!("\n{table}");
    // `make bench-scale` keeps the table in BENCHMARKS.md.
    if let Ok(path) = std::env::var("SCALE_WRITE") {
        let text = format!(
            "{objects} objects of {LINES} VPC flow log lines, `SCALE_OBJECTS={objects} SCALE_INSTANCES=... cargo test --release --test scale`, {}:\n\n{table}",
            s3_log_forwarder::batch::now_rfc3339()
        );
        write_between_markers(std::path::Path::new(&path), &text).expect("write the scale table");
        println!("wrote the table into {path}");
    }
}

const BEGIN: &str = "<!-- scale:begin (written by `make bench-scale`) -->";
const END: &str = "<!-- scale:end -->";

/// Puts `text` between the scale markers of `path` (appended with them
/// when they are missing), keeping everything else.
fn write_between_markers(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let block = format!("{BEGIN}\n{text}{END}");
    let new = match (old.find(BEGIN), old.find(END)) {
        (Some(b), Some(e)) if b < e => format!("{}{block}{}", &old[..b], &old[e + END.len()..]),
        _ => format!("{old}\n{block}\n"),
    };
    std::fs::write(path, new)
}
