//! The whole path against a real moto server: SQS event -> envelope -> S3
//! GetObject -> decode -> parse -> Firehose PutRecordBatch -> records in the
//! destination bucket, and the partial batch response.

mod common;

use std::collections::BTreeSet;

use common::*;

const CLOUDTRAIL: &str = r#"{"Records":[
{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::111122223333:user/Alice","accountId":"111122223333","accessKeyId":"AKIAEXAMPLE","userName":"Alice"},"eventTime":"2026-11-22T10:00:00Z","eventSource":"ec2.amazonaws.com","eventName":"StartInstances","awsRegion":"us-east-2","sourceIPAddress":"198.51.100.7","userAgent":"aws-cli/2.13.5","requestParameters":{"instancesSet":{"items":[{"instanceId":"i-0abc"}]}},"responseElements":null,"requestID":"r-1","eventID":"e-1","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management"},
{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::111122223333:user/Bob","accountId":"111122223333","userName":"Bob"},"eventTime":"2026-11-22T10:01:00Z","eventSource":"s3.amazonaws.com","eventName":"DeleteBucket","awsRegion":"us-east-2","sourceIPAddress":"203.0.113.9","userAgent":"console.amazonaws.com","errorCode":"AccessDenied","errorMessage":"Access Denied","requestParameters":{"bucketName":"x"},"requestID":"r-2","eventID":"e-2","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management"},
{"eventVersion":"1.08","userIdentity":{"type":"AWSService","invokedBy":"cloudtrail.amazonaws.com"},"eventTime":"2026-11-22T10:02:00Z","eventSource":"kms.amazonaws.com","eventName":"Decrypt","awsRegion":"us-east-2","sourceIPAddress":"cloudtrail.amazonaws.com","userAgent":"cloudtrail.amazonaws.com","requestParameters":null,"responseElements":null,"requestID":"r-3","eventID":"e-3","readOnly":true,"eventType":"AwsServiceEvent","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management"}
]}"#;

const CT_KEY: &str = "AWSLogs/111122223333/CloudTrail/us-east-2/2026/11/22/111122223333_CloudTrail_us-east-2_20261122T1005Z_abc.json.gz";

async fn setup(moto: &Moto) -> (Stack, s3_log_forwarder::Config) {
    let sdk = moto.sdk_config().await;
    let stack = Stack::new(&sdk);
    stack.bucket("src-logs").await;
    stack.delivery_stream("logs", "dest").await;
    (stack, config(&[("DELIVERY_STREAM_NAME", "logs")]))
}

/// Puts the CloudTrail sample at `CT_KEY` and forwards its notification
/// with `cfg`; every message must succeed.
async fn forward_cloudtrail(
    stack: &Stack,
    cfg: s3_log_forwarder::Config,
) -> s3_log_forwarder::Outcome {
    stack
        .put("src-logs", CT_KEY, gzip(CLOUDTRAIL.as_bytes()))
        .await;
    let out = forwarder(&stack.sdk, cfg)
        .handle(
            sqs_event(&[s3_notification(&[("src-logs", CT_KEY)])]),
            far_deadline(),
        )
        .await;
    assert!(failed_ids(&out).is_empty(), "{:?}", out.failures);
    out
}

#[tokio::test]
async fn cloudtrail_object_becomes_normalized_records_in_the_destination() {
    let moto = Moto::start();
    let (stack, cfg) = setup(&moto).await;
    let out = forward_cloudtrail(&stack, cfg).await;

    let records = stack.delivered("dest").await;
    assert_eq!(records.len(), 3);
    let start = records
        .iter()
        .find(|r| field(r, "event.action") == "StartInstances")
        .expect("StartInstances record");
    assert_eq!(field(start, "@timestamp"), "2026-11-22T10:00:00Z");
    assert_eq!(field(start, "event.dataset"), "aws.cloudtrail");
    assert_eq!(field(start, "event.provider"), "ec2.amazonaws.com");
    assert_eq!(field(start, "event.outcome"), "success");
    assert_eq!(field(start, "cloud.account.id"), "111122223333");
    assert_eq!(field(start, "cloud.region"), "us-east-2");
    assert_eq!(field(start, "cloud.provider"), "aws");
    assert_eq!(field(start, "source.ip"), "198.51.100.7");
    assert_eq!(field(start, "user_agent.original"), "aws-cli/2.13.5");
    assert_eq!(field(start, "user.name"), "Alice");
    assert_eq!(field(start, "aws.s3.bucket"), "src-logs");
    assert_eq!(field(start, "aws.s3.key"), CT_KEY);
    // Lossless without event.original, which is off by default.
    assert_eq!(field(start, "aws.cloudtrail.event_id"), "e-1");
    assert!(start["event"].get("original").is_none());

    let denied = records
        .iter()
        .find(|r| field(r, "event.action") == "DeleteBucket")
        .unwrap();
    assert_eq!(field(denied, "event.outcome"), "failure");

    assert_eq!(out.report.events, 3);
    assert_eq!(out.report.events_by_dataset.get("cloudtrail"), Some(&3));
    assert_eq!(out.report.records_sent, 3);
    // The invocation's metrics document says the same.
    let emf: serde_json::Value = serde_json::from_str(&s3_log_forwarder::metrics::emf_document(
        &out.report,
        "fwd",
        0,
    ))
    .unwrap();
    assert_eq!(emf["Events.cloudtrail"], 3);
    assert_eq!(emf["Messages"], 1);
}

#[tokio::test]
async fn filters_drop_matching_events_before_sending_and_count_them_per_rule() {
    let moto = Moto::start();
    let (stack, _) = setup(&moto).await;
    let filters = r#"[
        {"name": "kms-read-only", "dataset": "aws.cloudtrail", "when": {
            "event.provider": {"one_of": ["kms.amazonaws.com"]},
            "event.action": {"prefix": ["Decrypt", "Describe", "List", "Get"]},
            "aws.cloudtrail.read_only": {"equals": true}}},
        {"name": "flow-accept", "dataset": "aws.vpcflow", "when": {
            "event.action": {"equals": "ACCEPT"}}}]"#;
    let cfg = config(&[("DELIVERY_STREAM_NAME", "logs"), ("FILTERS", filters)]);
    let out = forward_cloudtrail(&stack, cfg).await;

    // Firehose got exactly the events no rule matched.
    let records = stack.delivered("dest").await;
    let actions: BTreeSet<&str> = records
        .iter()
        .map(|r| field(r, "event.action").as_str().unwrap())
        .collect();
    assert_eq!(actions, BTreeSet::from(["DeleteBucket", "StartInstances"]));
    assert_eq!(records.len(), 2);

    // Every parsed event is counted; the dropped one under its rule.
    assert_eq!(out.report.events, 3);
    assert_eq!(out.report.records_sent, 2);
    assert_eq!(out.report.events_dropped, 1);
    assert_eq!(out.report.dropped_by_filter.get("kms-read-only"), Some(&1));
    assert!(!out.report.dropped_by_filter.contains_key("flow-accept"));
    let emf: serde_json::Value = serde_json::from_str(&s3_log_forwarder::metrics::emf_document(
        &out.report,
        "fwd",
        0,
    ))
    .unwrap();
    assert_eq!(emf["DroppedEvents"], 1);
    assert_eq!(emf["DroppedEvents.kms-read-only"], 1);
    assert!(emf.get("DroppedEvents.flow-accept").is_none());
}

#[tokio::test]
async fn several_buckets_and_formats_in_one_message() {
    let moto = Moto::start();
    let (stack, cfg) = setup(&moto).await;
    stack.bucket("app-logs").await;
    stack
        .put(
            "src-logs",
            "app/orders log.jsonl",
            "{\"timestamp\":\"2026-11-22T09:00:00Z\",\"message\":\"created\",\"order\":1}\n\n{\"message\":\"paid\",\"order\":1}\n",
        )
        .await;
    stack
        .put(
            "app-logs",
            "web/access.log",
            gzip(b"GET / 200\nGET /favicon.ico 404\n"),
        )
        .await;
    let fwd = forwarder(&stack.sdk, cfg);

    let body = s3_notification(&[
        ("src-logs", "app/orders+log.jsonl"),
        ("app-logs", "web%2Faccess.log"),
    ]);
    let out = fwd.handle(sqs_event(&[body]), far_deadline()).await;
    assert!(failed_ids(&out).is_empty(), "{:?}", out.failures);

    let records = stack.delivered("dest").await;
    assert_eq!(records.len(), 4, "{records:#?}");
    let json: Vec<_> = records
        .iter()
        .filter(|r| field(r, "event.dataset") == "json")
        .collect();
    let text: Vec<_> = records
        .iter()
        .filter(|r| field(r, "event.dataset") == "text")
        .collect();
    assert_eq!(json.len(), 2);
    assert_eq!(text.len(), 2);
    assert!(json
        .iter()
        .all(|r| field(r, "aws.s3.key") == "app/orders log.jsonl"));
    assert!(text
        .iter()
        .all(|r| field(r, "aws.s3.key") == "web/access.log"));
    let created = json
        .iter()
        .find(|r| field(r, "message") == "created")
        .unwrap();
    assert_eq!(field(created, "@timestamp"), "2026-11-22T09:00:00Z");
    let messages: BTreeSet<_> = text
        .iter()
        .map(|r| field(r, "message").as_str().unwrap())
        .collect();
    assert_eq!(
        messages,
        BTreeSet::from(["GET / 200", "GET /favicon.ico 404"])
    );
}

#[tokio::test]
async fn sns_wrapped_and_eventbridge_messages_decode_keys_correctly() {
    let moto = Moto::start();
    let (stack, cfg) = setup(&moto).await;
    stack.put("src-logs", "a b+c.log", "one\n").await;
    let etag = stack.put("src-logs", "x+y z.log", "two\n").await;
    let fwd = forwarder(&stack.sdk, cfg);

    let sns = serde_json::json!({
        "Type": "Notification",
        "MessageId": "sns-1",
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:logs",
        "Message": s3_notification(&[("src-logs", "a+b%2Bc.log")]),
    })
    .to_string();
    let eventbridge = serde_json::json!({
        "version": "0", "id": "eb-1", "detail-type": "Object Created", "source": "aws.s3",
        "account": "123456789012", "time": "2026-11-22T10:00:00Z", "region": "us-east-1",
        "resources": ["arn:aws:s3:::src-logs"],
        "detail": {"version": "0", "bucket": {"name": "src-logs"},
                   "object": {"key": "x+y z.log", "size": 4, "etag": etag},
                   "request-id": "r", "requester": "123456789012", "reason": "PutObject"}
    })
    .to_string();
    let out = fwd
        .handle(sqs_event(&[sns, eventbridge]), far_deadline())
        .await;
    assert!(failed_ids(&out).is_empty(), "{:?}", out.failures);
    let keys: BTreeSet<String> = stack
        .delivered("dest")
        .await
        .iter()
        .map(|r| field(r, "aws.s3.key").as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from(["a b+c.log".to_string(), "x+y z.log".to_string()])
    );
}

#[tokio::test]
async fn poison_and_test_events_do_not_affect_the_rest_of_the_batch() {
    let moto = Moto::start();
    let (stack, cfg) = setup(&moto).await;
    stack.put("src-logs", "ok.log", "fine\n").await;
    let fwd = forwarder(&stack.sdk, cfg);

    let test_event = r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-11-22T10:00:00.000Z","Bucket":"src-logs","RequestId":"r","HostId":"h"}"#.to_string();
    let bodies = [
        "this is not json".to_string(),
        s3_notification(&[("src-logs", "ok.log")]),
        test_event,
        r#"{"hello":"world"}"#.to_string(),
    ];
    let out = fwd.handle(sqs_event(&bodies), far_deadline()).await;
    assert_eq!(failed_ids(&out), vec!["msg-0", "msg-3"]);
    assert!(out.failures[0].as_deref().unwrap().contains("not JSON"));
    assert!(out.failures[3].as_deref().unwrap().contains("unrecognized"));
    assert_eq!(out.report.test_events, 1);
    assert_eq!(stack.delivered("dest").await.len(), 1);
}

#[tokio::test]
async fn missing_object_is_skipped_but_other_failures_are_retried() {
    let moto = Moto::start();
    let (stack, cfg) = setup(&moto).await;
    stack.put("src-logs", "present.log", "here\n").await;
    let fwd = forwarder(&stack.sdk, cfg);

    let bodies = [
        // Deleted before we read it: nothing to lose, the message succeeds.
        s3_notification(&[("src-logs", "gone.log"), ("src-logs", "present.log")]),
        // A bucket that does not exist: an error that may pass, so retried.
        s3_notification(&[("no-such-bucket", "x.log")]),
    ];
    let out = fwd.handle(sqs_event(&bodies), far_deadline()).await;
    assert_eq!(failed_ids(&out), vec!["msg-1"]);
    assert_eq!(out.report.objects_not_found, 1);
    assert_eq!(out.report.skipped_by_reason.get("not-found"), Some(&1));
    assert_eq!(stack.delivered("dest").await.len(), 1);
}

#[tokio::test]
async fn objects_outside_allowed_buckets_are_refused() {
    let moto = Moto::start();
    let (stack, _) = setup(&moto).await;
    stack.bucket("other").await;
    stack.put("other", "secret.log", "do not read\n").await;
    stack.put("src-logs", "ok.log", "fine\n").await;
    let cfg = config(&[
        ("DELIVERY_STREAM_NAME", "logs"),
        ("ALLOWED_BUCKETS", "src-logs"),
    ]);
    let fwd = forwarder(&stack.sdk, cfg);

    let bodies = [
        s3_notification(&[("other", "secret.log")]),
        s3_notification(&[("src-logs", "ok.log")]),
    ];
    let out = fwd.handle(sqs_event(&bodies), far_deadline()).await;
    assert_eq!(failed_ids(&out), vec!["msg-0"]);
    assert!(out.failures[0]
        .as_deref()
        .unwrap()
        .contains("ALLOWED_BUCKETS"));
    assert_eq!(out.report.objects_refused, 1);
    let records = stack.delivered("dest").await;
    assert_eq!(records.len(), 1);
    assert_eq!(field(&records[0], "aws.s3.bucket"), "src-logs");
}

#[tokio::test]
async fn digest_files_and_folder_markers_are_skipped() {
    let moto = Moto::start();
    let (stack, cfg) = setup(&moto).await;
    let digest = "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2026/11/22/111122223333_CloudTrail-Digest_us-east-2_x_20261122T100000Z.json.gz";
    stack
        .put("src-logs", digest, gzip(b"{\"digest\":true}"))
        .await;
    stack.put("src-logs", "folder/", "").await;
    let fwd = forwarder(&stack.sdk, cfg);
    let out = fwd
        .handle(
            sqs_event(&[s3_notification(&[
                ("src-logs", digest),
                ("src-logs", "folder/"),
            ])]),
            far_deadline(),
        )
        .await;
    assert!(failed_ids(&out).is_empty(), "{:?}", out.failures);
    assert_eq!(out.report.objects_skipped, 2);
    assert_eq!(
        out.report.skipped_by_reason.get("cloudtrail-digest"),
        Some(&1)
    );
    assert_eq!(out.report.skipped_by_reason.get("folder-marker"), Some(&1));
    assert!(stack.delivered("dest").await.is_empty());
}

#[tokio::test]
async fn event_ids_are_the_same_when_an_object_is_read_again() {
    let moto = Moto::start();
    let (stack, cfg) = setup(&moto).await;
    stack
        .put("src-logs", CT_KEY, gzip(CLOUDTRAIL.as_bytes()))
        .await;
    stack.put("src-logs", "app.log", "a\nb\n").await;
    let fwd = forwarder(&stack.sdk, cfg);
    let event = || {
        sqs_event(&[s3_notification(&[
            ("src-logs", CT_KEY),
            ("src-logs", "app.log"),
        ])])
    };

    fwd.handle(event(), far_deadline()).await;
    fwd.handle(event(), far_deadline()).await;
    let records = stack.delivered("dest").await;
    assert_eq!(records.len(), 10);
    let ids: Vec<String> = records
        .iter()
        .map(|r| field(r, "event.id").as_str().unwrap().to_string())
        .collect();
    let unique: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), 5, "each event twice, with the same id");
}

#[tokio::test]
async fn multi_member_gzip_is_read_completely() {
    let moto = Moto::start();
    let (stack, cfg) = setup(&moto).await;
    let mut body = gzip(b"first\n");
    body.extend(gzip(b"second\nthird\n"));
    stack.put("src-logs", "multi.log.gz", body).await;
    let fwd = forwarder(&stack.sdk, cfg);
    let out = fwd
        .handle(
            sqs_event(&[s3_notification(&[("src-logs", "multi.log.gz")])]),
            far_deadline(),
        )
        .await;
    assert!(failed_ids(&out).is_empty());
    assert_eq!(stack.delivered("dest").await.len(), 3);
}

#[tokio::test]
async fn a_missing_delivery_stream_fails_the_messages_with_records() {
    let moto = Moto::start();
    let (stack, _) = setup(&moto).await;
    stack.put("src-logs", "a.log", "x\n").await;
    let cfg = config(&[("DELIVERY_STREAM_NAME", "no-such-stream")]);
    let fwd = forwarder(&stack.sdk, cfg);
    let test_event =
        r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"src-logs"}"#.to_string();
    let out = fwd
        .handle(
            sqs_event(&[s3_notification(&[("src-logs", "a.log")]), test_event]),
            far_deadline(),
        )
        .await;
    assert_eq!(failed_ids(&out), vec!["msg-0"]);
    assert!(
        out.failures[0]
            .as_deref()
            .unwrap()
            .contains("no-such-stream"),
        "{:?}",
        out.failures
    );
}

#[tokio::test]
async fn fifo_queue_fails_everything_after_the_first_failure() {
    let moto = Moto::start();
    let (stack, cfg) = setup(&moto).await;
    stack.put("src-logs", "a.log", "a\n").await;
    stack.put("src-logs", "c.log", "c\n").await;
    let fwd = forwarder(&stack.sdk, cfg);
    let bodies = [
        s3_notification(&[("src-logs", "a.log")]),
        "poison".to_string(),
        s3_notification(&[("src-logs", "c.log")]),
    ];
    let arn = format!("arn:aws:sqs:{REGION}:{ACCOUNT}:logs.fifo");
    let out = fwd
        .handle(sqs_event_from(&bodies, &arn), far_deadline())
        .await;
    assert_eq!(failed_ids(&out), vec!["msg-1", "msg-2"]);
    // The message after the failure was not even read.
    let records = stack.delivered("dest").await;
    assert_eq!(records.len(), 1);
    assert_eq!(field(&records[0], "aws.s3.key"), "a.log");
}

#[tokio::test]
async fn an_invocation_out_of_time_reports_unstarted_work_failed() {
    let moto = Moto::start();
    let (stack, cfg) = setup(&moto).await;
    stack.put("src-logs", "a.log", "a\n").await;
    let fwd = forwarder(&stack.sdk, cfg);
    // Already past the deadline: nothing may start, everything is retried.
    let out = fwd
        .handle(
            sqs_event(&[s3_notification(&[("src-logs", "a.log")])]),
            tokio::time::Instant::now(),
        )
        .await;
    assert_eq!(failed_ids(&out), vec!["msg-0"]);
    assert!(
        out.failures[0].as_deref().unwrap().contains("deadline"),
        "{:?}",
        out.failures
    );
}

#[tokio::test]
async fn notifications_produced_by_s3_itself_are_understood() {
    let moto = Moto::start();
    let (stack, cfg) = setup(&moto).await;
    let queue = stack
        .sqs
        .create_queue()
        .queue_name("notifications")
        .send()
        .await
        .unwrap();
    let queue_url = queue.queue_url().unwrap().to_string();
    let queue_arn = format!("arn:aws:sqs:{REGION}:{ACCOUNT}:notifications");
    let conf = aws_sdk_s3::types::NotificationConfiguration::builder()
        .queue_configurations(
            aws_sdk_s3::types::QueueConfiguration::builder()
                .queue_arn(&queue_arn)
                .events(aws_sdk_s3::types::Event::S3ObjectCreated)
                .build()
                .unwrap(),
        )
        .build();
    stack
        .s3
        .put_bucket_notification_configuration()
        .bucket("src-logs")
        .notification_configuration(conf)
        .send()
        .await
        .unwrap();
    let key = "AWSLogs/111122223333/CloudTrail/us-east-2/2026/11/22/with space+plus.json.gz";
    stack
        .put("src-logs", key, gzip(CLOUDTRAIL.as_bytes()))
        .await;

    let mut bodies = Vec::new();
    for _ in 0..10 {
        let got = stack
            .sqs
            .receive_message()
            .queue_url(&queue_url)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        bodies.extend(
            got.messages()
                .iter()
                .filter_map(|m| m.body().map(str::to_string)),
        );
        if bodies.iter().any(|b| b.contains("ObjectCreated")) {
            break;
        }
    }
    assert!(!bodies.is_empty(), "moto sent no notification");
    let fwd = forwarder(&stack.sdk, cfg);
    let out = fwd.handle(sqs_event(&bodies), far_deadline()).await;
    assert!(
        failed_ids(&out).is_empty(),
        "{:?} for {bodies:?}",
        out.failures
    );
    let records = stack.delivered("dest").await;
    assert_eq!(records.len(), 3);
    assert!(records.iter().all(|r| field(r, "aws.s3.key") == key));
}

#[tokio::test]
async fn limits_fail_the_object_with_the_variable_named() {
    let moto = Moto::start();
    let (stack, _) = setup(&moto).await;
    let ten: String = (0..10).map(|i| format!("line {i}\n")).collect();
    stack.put("src-logs", "ten.log", ten.as_str()).await;
    stack
        .put("src-logs", "bomb.log.gz", gzip(&vec![b'a'; 2_000_000]))
        .await;
    stack.put("src-logs", "ok.log", "fine\n").await;
    let cfg = config(&[
        ("DELIVERY_STREAM_NAME", "logs"),
        ("MAX_EVENTS_PER_OBJECT", "5"),
        ("MAX_DECOMPRESSED_BYTES", "100000"),
        ("MAX_LINE_BYTES", "3000000"),
    ]);
    let fwd = forwarder(&stack.sdk, cfg);
    let out = fwd
        .handle(
            sqs_event(&[
                s3_notification(&[("src-logs", "ten.log")]),
                s3_notification(&[("src-logs", "bomb.log.gz")]),
                s3_notification(&[("src-logs", "ok.log")]),
            ]),
            far_deadline(),
        )
        .await;
    assert_eq!(failed_ids(&out), vec!["msg-0", "msg-1"]);
    let why = |i: usize| out.failures[i].clone().unwrap_or_default();
    assert!(
        why(0).contains("MAX_EVENTS_PER_OBJECT") && why(0).contains("s3://src-logs/ten.log"),
        "{}",
        why(0)
    );
    assert!(
        why(1).contains("MAX_DECOMPRESSED_BYTES") && why(1).contains("bomb.log.gz"),
        "{}",
        why(1)
    );
}

#[tokio::test]
async fn an_object_replaced_after_its_notification_is_skipped_not_retried() {
    let moto = Moto::start();
    let (stack, cfg) = setup(&moto).await;
    let first = stack.put("src-logs", "rolling.log", "version one\n").await;
    let second = stack.put("src-logs", "rolling.log", "version two\n").await;
    let fwd = forwarder(&stack.sdk, cfg);
    let notify = |etag: &str| {
        let mut body: serde_json::Value =
            serde_json::from_str(&s3_notification(&[("src-logs", "rolling.log")])).unwrap();
        body["Records"][0]["s3"]["object"]["eTag"] = serde_json::json!(etag);
        body.to_string()
    };
    let out = fwd
        .handle(
            sqs_event(&[notify(&first), notify(&second)]),
            far_deadline(),
        )
        .await;
    assert!(failed_ids(&out).is_empty(), "{:?}", out.failures);
    assert_eq!(
        out.report.objects_not_found, 1,
        "the first notification's version is gone"
    );
    let records = stack.delivered("dest").await;
    assert_eq!(records.len(), 1);
    assert_eq!(field(&records[0], "message"), "version two");
}
