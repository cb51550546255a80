//! Shared helpers for the integration tests: a real moto server on a free
//! loopback port (one per test, killed on drop), SDK configuration pointed at
//! it, and builders for buckets, delivery streams, objects and SQS events.
//!
//! moto comes from the project's virtualenv (`make venv`); set `MOTO_SERVER`
//! to use another binary.

#![allow(dead_code)]

pub mod faults;

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use s3_log_forwarder::config::Config;
use s3_log_forwarder::credentials::S3Clients;
use s3_log_forwarder::sink::firehose::SdkFirehose;
use s3_log_forwarder::source::s3::S3Store;
use s3_log_forwarder::{Forwarder, Outcome};

pub const REGION: &str = "us-east-1";
pub const ACCOUNT: &str = "123456789012";

/// A moto server process on 127.0.0.1.
pub struct Moto {
    child: Child,
    pub port: u16,
}

impl Moto {
    /// Starts moto without IAM enforcement.
    pub fn start() -> Moto {
        Moto::start_with(&[])
    }

    /// Starts moto with extra environment (e.g. `INITIAL_NO_AUTH_ACTION_COUNT`).
    pub fn start_with(env: &[(&str, &str)]) -> Moto {
        let bin = std::env::var("MOTO_SERVER")
            .map(PathBuf::from)
            .unwrap_or_else(|_| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/moto_server")
            });
        assert!(
            bin.exists(),
            "moto_server not found at {}: run `make venv` (or set MOTO_SERVER)",
            bin.display()
        );
        let port = free_port();
        let mut cmd = Command::new(&bin);
        cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("start moto_server");
        let moto = Moto { child, port };
        moto.wait_ready();
        moto
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn wait_ready(&self) {
        let until = Instant::now() + Duration::from_secs(60);
        while Instant::now() < until {
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) {
                let req = "GET /moto-api/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
                if s.write_all(req.as_bytes()).is_ok() {
                    let mut buf = [0u8; 12];
                    if std::io::Read::read(&mut s, &mut buf).unwrap_or(0) > 0 {
                        return;
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("moto_server did not start on port {}", self.port);
    }

    /// moto's whole backend state (`/moto-api/data.json`), e.g. the roles
    /// assumed so far under `sts.AssumedRole`.
    pub fn state(&self) -> serde_json::Value {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to moto");
        let req = "GET /moto-api/data.json HTTP/1.0\r\nHost: localhost\r\n\r\n";
        s.write_all(req.as_bytes()).expect("ask moto");
        let mut resp = Vec::new();
        std::io::Read::read_to_end(&mut s, &mut resp).expect("read moto");
        let body = resp
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map(|i| &resp[i + 4..])
            .expect("an HTTP response");
        serde_json::from_slice(body).expect("moto state is JSON")
    }

    /// SDK configuration for moto with the given static credentials.
    pub async fn sdk_config_with(&self, key: &str, secret: &str, token: Option<&str>) -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(self.endpoint())
            .region(Region::new(REGION))
            .credentials_provider(Credentials::new(
                key,
                secret,
                token.map(str::to_string),
                None,
                "test",
            ))
            .load()
            .await
    }

    pub async fn sdk_config(&self) -> SdkConfig {
        self.sdk_config_with("testing", "testing", None).await
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// An IAM policy document with these statements.
pub fn policy(statements: serde_json::Value) -> String {
    serde_json::json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

/// moto with IAM enforcement on, and the SDK configuration of an
/// administrator created with its first three (unauthenticated) calls.
pub async fn moto_with_iam() -> (Moto, SdkConfig) {
    let moto = Moto::start_with(&[("INITIAL_NO_AUTH_ACTION_COUNT", "3")]);
    let bootstrap = moto.sdk_config().await;
    let iam = aws_sdk_iam::Client::new(&bootstrap);
    iam.create_user()
        .user_name("admin")
        .send()
        .await
        .expect("admin user");
    iam.put_user_policy()
        .user_name("admin")
        .policy_name("all")
        .policy_document(policy(
            serde_json::json!([{"Effect": "Allow", "Action": "*", "Resource": "*"}]),
        ))
        .send()
        .await
        .expect("admin policy");
    let key = iam
        .create_access_key()
        .user_name("admin")
        .send()
        .await
        .expect("admin key");
    let key = key.access_key().expect("admin key");
    let admin = moto
        .sdk_config_with(key.access_key_id(), key.secret_access_key(), None)
        .await;
    (moto, admin)
}

/// An IAM role `name` with the trust policy `trust` and the inline policy
/// `permissions` (both JSON documents), which is named `name` too.
pub async fn role_with_policy(
    iam: &aws_sdk_iam::Client,
    name: &str,
    trust: impl Into<String>,
    permissions: impl Into<String>,
) {
    iam.create_role()
        .role_name(name)
        .assume_role_policy_document(trust)
        .send()
        .await
        .expect("role");
    iam.put_role_policy()
        .role_name(name)
        .policy_name(name)
        .policy_document(permissions)
        .send()
        .await
        .expect("role policy");
}

/// A policy document of `template` (a file at the crate's root) as
/// `scripts/render_policy.py` renders it for `env` (parameters, resource
/// names): `property` of the role `resource`, by default the function role's
/// policy.
pub fn render_policy(
    template: &str,
    env: serde_json::Value,
    resource_property: Option<(&str, &str)>,
) -> serde_json::Value {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut cmd = std::process::Command::new(format!("{root}/.venv/bin/python"));
    cmd.arg(format!("{root}/scripts/render_policy.py"))
        .arg(format!("{root}/{template}"))
        .arg(env.to_string());
    if let Some((resource, property)) = resource_property {
        cmd.arg(resource).arg(property);
    }
    let out = cmd.output().expect("run render_policy.py (make venv)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("policy JSON")
}

/// An IAM user `name` with an inline policy of `statements`, and the SDK
/// configuration that signs as it.
pub async fn user_with_policy(
    moto: &Moto,
    iam: &aws_sdk_iam::Client,
    name: &str,
    statements: serde_json::Value,
) -> SdkConfig {
    iam.create_user()
        .user_name(name)
        .send()
        .await
        .expect("user");
    iam.put_user_policy()
        .user_name(name)
        .policy_name(name)
        .policy_document(policy(statements))
        .send()
        .await
        .expect("user policy");
    let key = iam
        .create_access_key()
        .user_name(name)
        .send()
        .await
        .expect("access key");
    let key = key.access_key().expect("access key");
    moto.sdk_config_with(key.access_key_id(), key.secret_access_key(), None)
        .await
}

/// The event source mapping: receive up to 10 messages, invoke, delete the
/// ones not in `batchItemFailures`, make the failed ones visible again at
/// once; until the queue is empty. Returns (invocations, objects continued).
pub async fn drain_queue<S, F>(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    queue_arn: &str,
    fwd: &Forwarder<S, F>,
    budget: Duration,
    max_invocations: usize,
) -> (usize, usize)
where
    S: s3_log_forwarder::source::ObjectStore,
    F: s3_log_forwarder::sink::Firehose,
{
    let mut invocations = 0;
    let mut continued = 0;
    let mut empty_polls = 0;
    while empty_polls < 2 {
        assert!(invocations < max_invocations, "the queue never drained");
        let got = sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .send()
            .await
            .expect("receive");
        let messages = got.messages().to_vec();
        if messages.is_empty() {
            empty_polls += 1;
            continue;
        }
        empty_polls = 0;
        invocations += 1;
        let mut event = SqsEvent::default();
        for m in &messages {
            let mut msg = SqsMessage::default();
            msg.message_id = m.message_id().map(str::to_string);
            msg.receipt_handle = m.receipt_handle().map(str::to_string);
            msg.body = m.body().map(str::to_string);
            msg.event_source = Some("aws:sqs".into());
            msg.event_source_arn = Some(queue_arn.to_string());
            msg.aws_region = Some(REGION.into());
            event.records.push(msg);
        }
        let out = fwd
            .handle(event, tokio::time::Instant::now() + budget)
            .await;
        continued += out.report.objects_continued;
        let failed: std::collections::BTreeSet<String> = out
            .response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.clone())
            .collect();
        for m in &messages {
            let handle = m.receipt_handle().unwrap_or_default();
            if failed.contains(m.message_id().unwrap_or_default()) {
                sqs.change_message_visibility()
                    .queue_url(queue_url)
                    .receipt_handle(handle)
                    .visibility_timeout(0)
                    .send()
                    .await
                    .expect("make visible");
            } else {
                sqs.delete_message()
                    .queue_url(queue_url)
                    .receipt_handle(handle)
                    .send()
                    .await
                    .expect("delete");
            }
        }
    }
    (invocations, continued)
}

/// AWS clients for setting up and inspecting the local stack.
pub struct Stack {
    pub sdk: SdkConfig,
    pub s3: aws_sdk_s3::Client,
    pub firehose: aws_sdk_firehose::Client,
    pub sqs: aws_sdk_sqs::Client,
}

impl Stack {
    pub fn new(sdk: &SdkConfig) -> Stack {
        Stack {
            sdk: sdk.clone(),
            s3: aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(sdk)
                    .force_path_style(true)
                    .build(),
            ),
            firehose: aws_sdk_firehose::Client::new(sdk),
            sqs: aws_sdk_sqs::Client::new(sdk),
        }
    }

    pub async fn bucket(&self, name: &str) {
        self.s3
            .create_bucket()
            .bucket(name)
            .send()
            .await
            .expect("create bucket");
    }

    pub async fn put(&self, bucket: &str, key: &str, body: impl Into<Vec<u8>>) -> String {
        let out = self
            .s3
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(body.into().into())
            .send()
            .await
            .expect("put object");
        out.e_tag()
            .unwrap_or_default()
            .trim_matches('"')
            .to_string()
    }

    /// A DirectPut delivery stream writing to `dest_bucket` (created here).
    pub async fn delivery_stream(&self, name: &str, dest_bucket: &str) {
        self.bucket(dest_bucket).await;
        let dest = aws_sdk_firehose::types::ExtendedS3DestinationConfiguration::builder()
            .role_arn(format!("arn:aws:iam::{ACCOUNT}:role/firehose-delivery"))
            .bucket_arn(format!("arn:aws:s3:::{dest_bucket}"))
            .prefix("records/")
            // Given explicitly so that moto's DescribeDeliveryStream answer
            // has every field the SDK requires (used by the check tests).
            .compression_format(aws_sdk_firehose::types::CompressionFormat::Uncompressed)
            .buffering_hints(
                aws_sdk_firehose::types::BufferingHints::builder()
                    .size_in_mbs(5)
                    .interval_in_seconds(300)
                    .build(),
            )
            .encryption_configuration(
                aws_sdk_firehose::types::EncryptionConfiguration::builder()
                    .no_encryption_config(aws_sdk_firehose::types::NoEncryptionConfig::NoEncryption)
                    .build(),
            )
            .build()
            .expect("destination");
        self.firehose
            .create_delivery_stream()
            .delivery_stream_name(name)
            .delivery_stream_type(aws_sdk_firehose::types::DeliveryStreamType::DirectPut)
            .extended_s3_destination_configuration(dest)
            .send()
            .await
            .expect("create delivery stream");
    }

    /// Every object in the destination bucket as stored (key, bytes), all pages.
    pub async fn delivered_objects(&self, dest_bucket: &str) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let list = self
                .s3
                .list_objects_v2()
                .bucket(dest_bucket)
                .set_continuation_token(token)
                .send()
                .await
                .expect("list destination");
            for obj in list.contents() {
                let key = obj.key().unwrap_or_default().to_string();
                let body = self
                    .s3
                    .get_object()
                    .bucket(dest_bucket)
                    .key(&key)
                    .send()
                    .await
                    .expect("get delivered object")
                    .body
                    .collect()
                    .await
                    .expect("read delivered object")
                    .into_bytes();
                out.push((key, body.to_vec()));
            }
            token = list.next_continuation_token().map(str::to_string);
            if token.is_none() {
                return out;
            }
        }
    }

    /// Every record line that reached the destination bucket, all pages;
    /// objects written from compressed records (multi-member gzip or zstd)
    /// are decompressed first.
    pub async fn delivered_lines(&self, dest_bucket: &str) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for (key, body) in self.delivered_objects(dest_bucket).await {
            let text = decompressed(&body).unwrap_or_else(|e| panic!("{key}: {e}"));
            out.extend(
                text.split(|b| *b == b'\n')
                    .filter(|l| !l.is_empty())
                    .map(<[u8]>::to_vec),
            );
        }
        out
    }

    /// Every record that reached the destination bucket, parsed.
    pub async fn delivered(&self, dest_bucket: &str) -> Vec<serde_json::Value> {
        self.delivered_lines(dest_bucket)
            .await
            .iter()
            .map(|l| serde_json::from_slice(l).expect("delivered record is JSON"))
            .collect()
    }
}

/// The queue `notifications` and its dead-letter queue `dlq`, as the
/// template creates them.
pub struct Queues {
    pub url: String,
    pub arn: String,
    pub dlq_url: String,
}

impl Stack {
    /// Creates `notifications`, moving a message to `dlq` after
    /// `max_receive` receives, with `visibility` seconds of visibility timeout.
    pub async fn queue_with_dead_letters(&self, max_receive: u32, visibility: u64) -> Queues {
        let dlq = self
            .sqs
            .create_queue()
            .queue_name("dlq")
            .send()
            .await
            .expect("create dlq");
        let queue = self
            .sqs
            .create_queue()
            .queue_name("notifications")
            .attributes(
                aws_sdk_sqs::types::QueueAttributeName::RedrivePolicy,
                format!(
                    r#"{{"deadLetterTargetArn":"arn:aws:sqs:{REGION}:{ACCOUNT}:dlq","maxReceiveCount":"{max_receive}"}}"#
                ),
            )
            .attributes(
                aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout,
                visibility.to_string(),
            )
            .send()
            .await
            .expect("create queue");
        Queues {
            url: queue.queue_url().unwrap_or_default().to_string(),
            arn: format!("arn:aws:sqs:{REGION}:{ACCOUNT}:notifications"),
            dlq_url: dlq.queue_url().unwrap_or_default().to_string(),
        }
    }
}

/// A forwarder wired to the stack like `main.rs` wires it to AWS.
pub fn forwarder(sdk: &SdkConfig, config: Config) -> Forwarder<S3Store, SdkFirehose> {
    let store = S3Store::new(S3Clients::new(sdk, true));
    let firehose = SdkFirehose::new(sdk);
    Forwarder::new(config, store, firehose)
        .with_requeue(s3_log_forwarder::requeue::SqsRequeue::new(sdk))
}

/// Configuration from `vars` (as if they were the environment).
pub fn config(vars: &[(&str, &str)]) -> Config {
    let map: std::collections::HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_lookup(|k| map.get(k).cloned()).expect("valid test configuration")
}

/// An S3 event notification body for objects `(bucket, raw key as S3 encodes it)`.
pub fn s3_notification(objects: &[(&str, &str)]) -> String {
    let records: Vec<serde_json::Value> = objects
        .iter()
        .map(|(bucket, key)| {
            serde_json::json!({
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": REGION,
                "eventTime": "2026-11-22T20:55:04.000Z",
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "logs",
                    "bucket": {"name": bucket, "arn": format!("arn:aws:s3:::{bucket}")},
                    "object": {"key": key, "size": 1}
                }
            })
        })
        .collect();
    serde_json::json!({ "Records": records }).to_string()
}

/// An SQS event as Lambda delivers it, one message per body.
pub fn sqs_event(bodies: &[String]) -> SqsEvent {
    sqs_event_from(bodies, &format!("arn:aws:sqs:{REGION}:{ACCOUNT}:logs"))
}

pub fn sqs_event_from(bodies: &[String], queue_arn: &str) -> SqsEvent {
    let mut event = SqsEvent::default();
    for (i, body) in bodies.iter().enumerate() {
        let mut m = SqsMessage::default();
        m.message_id = Some(format!("msg-{i}"));
        m.receipt_handle = Some(format!("rh-{i}"));
        m.body = Some(body.clone());
        m.event_source = Some("aws:sqs".into());
        m.event_source_arn = Some(queue_arn.to_string());
        m.aws_region = Some(REGION.into());
        event.records.push(m);
    }
    event
}

/// Message ids in `batchItemFailures`, sorted.
pub fn failed_ids(outcome: &Outcome) -> Vec<String> {
    let mut ids: Vec<String> = outcome
        .response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    ids.sort();
    ids
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip")
}

/// `data` decompressed the way the function reads objects (gzip of any
/// number of members, zstd of any number of frames, bzip2, or as is).
pub fn decompressed(data: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let counters = s3_log_forwarder::source::decode::Counters::default();
    let (_, mut reader) = s3_log_forwarder::source::decode::open(
        std::io::Cursor::new(data.to_vec()),
        u64::MAX,
        u64::MAX,
        &counters,
    )?;
    let mut out = Vec::new();
    reader.read_to_end(&mut out)?;
    Ok(out)
}

/// A deadline far enough away for any test.
pub fn far_deadline() -> tokio::time::Instant {
    tokio::time::Instant::now() + Duration::from_secs(120)
}

/// Field at a dotted path of a nested record.
pub fn field<'a>(record: &'a serde_json::Value, path: &str) -> &'a serde_json::Value {
    let mut v = record;
    for seg in path.split('.') {
        v = &v[seg];
    }
    v
}
