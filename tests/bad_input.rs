//! A catalogue of hostile and broken inputs, each run end to end through the
//! real `Forwarder` against one moto server: SQS message bodies that are not
//! notifications, keys with every encoding hazard, objects that are empty,
//! corrupt, truncated, too large, decompression bombs, not of their format,
//! and lines that are too long, not UTF-8 or far out of range.
//!
//! Every case runs in a batch of its own together with one good message (a
//! small text object in another bucket), in alternating order, and asserts:
//! - the hostile message succeeds or fails as the design says, and where it
//!   fails, the reason names the object (`s3://bucket/key`) and the cause;
//! - the records (or none) that reach Firehose for the hostile object, and
//!   the `error.message` of error records;
//! - the good message succeeds and all of its records arrive;
//! - nothing panics (the invocation runs in a task of its own).
//!
//! Each case has its own source bucket and its own delivery stream (whose
//! destination bucket then holds only that case's records). All mismatches
//! are collected and reported together, with a table of every case's outcome
//! (`cargo test --test bad_input -- --nocapture` prints it).

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::Arc;
use std::time::Instant;

use common::*;
use s3_log_forwarder::InvocationReport;
use serde_json::{json, Value};

/// The bucket of the good message that rides along in every batch.
const GOOD_BUCKET: &str = "bad-input-good";
const GOOD_KEY: &str = "good.log";
const GOOD_BODY: &str = "good line 1\ngood line 2\n";
const GOOD_RECORDS: usize = 2;

const CT_ACCOUNT: &str = "111122223333";

type BodyFn = Box<dyn Fn(&str) -> String>;
type Check = Box<dyn Fn(&[Value]) -> Result<(), String>>;

/// One hostile input and what must come of it.
struct Case {
    name: &'static str,
    /// Objects put into the case's bucket before the run: (key, body).
    objects: Vec<(String, Vec<u8>)>,
    /// The case's source bucket is not created.
    no_bucket: bool,
    /// The hostile message's body, given the case's bucket name.
    body: BodyFn,
    /// Extra configuration (besides `DELIVERY_STREAM_NAME`).
    env: Vec<(&'static str, String)>,
    /// Whether the hostile message is in `batchItemFailures`.
    fails: bool,
    /// Substrings of the hostile message's failure reason.
    failure_has: Vec<String>,
    /// The failure names this object (decoded key) of the case's bucket.
    names_key: Option<String>,
    /// How many records of the hostile message reach Firehose (`None`: see `check`).
    records: Option<usize>,
    /// Further conditions on the hostile message's records.
    checks: Vec<Check>,
    /// A substring of the `error.message` of at least one hostile record.
    record_error: Option<&'static str>,
    /// Invocation counters that must have exactly these values.
    counters: Vec<(&'static str, u64)>,
    /// How many hostile records are not parseable by serde_json (defaults).
    unparseable: usize,
    /// What was observed that deserves a note (bugs, surprises); printed.
    note: Option<&'static str>,
}

impl Case {
    fn new(name: &'static str, body: impl Fn(&str) -> String + 'static) -> Case {
        Case {
            name,
            objects: Vec::new(),
            no_bucket: false,
            body: Box::new(body),
            env: Vec::new(),
            fails: false,
            failure_has: Vec::new(),
            names_key: None,
            records: Some(0),
            checks: Vec::new(),
            record_error: None,
            counters: Vec::new(),
            unparseable: 0,
            note: None,
        }
    }

    /// A message whose body is exactly `body`.
    fn raw(name: &'static str, body: impl Into<String>) -> Case {
        let body = body.into();
        Case::new(name, move |_| body.clone())
    }

    /// An S3 notification for `raw_key` (as S3 encodes it) in the case's bucket.
    fn notify(name: &'static str, raw_key: &str) -> Case {
        let raw_key = raw_key.to_string();
        Case::new(name, move |b| s3_notification(&[(b, &raw_key)]))
    }

    /// An S3 notification for `key` with `body` put under that key (the key
    /// needs no encoding).
    fn object(name: &'static str, key: &str, body: impl Into<Vec<u8>>) -> Case {
        Case::notify(name, key).put(key, body)
    }

    fn put(mut self, key: &str, body: impl Into<Vec<u8>>) -> Case {
        self.objects.push((key.to_string(), body.into()));
        self
    }

    fn env(mut self, k: &'static str, v: impl Into<String>) -> Case {
        self.env.push((k, v.into()));
        self
    }

    fn no_bucket(mut self) -> Case {
        self.no_bucket = true;
        self
    }

    /// The message fails with `why` in its reason (no object to name).
    fn poison(mut self, why: &str) -> Case {
        self.fails = true;
        self.failure_has.push(why.to_string());
        self
    }

    /// The message fails with a reason naming `key` (decoded) and saying `why`.
    fn fails(mut self, key: &str, why: &str) -> Case {
        self.fails = true;
        self.names_key = Some(key.to_string());
        self.failure_has.push(why.to_string());
        self
    }

    fn also(mut self, why: &str) -> Case {
        self.failure_has.push(why.to_string());
        self
    }

    fn records(mut self, n: usize) -> Case {
        self.records = Some(n);
        self
    }

    fn any_records(mut self) -> Case {
        self.records = None;
        self
    }

    fn check(mut self, f: impl Fn(&[Value]) -> Result<(), String> + 'static) -> Case {
        self.checks.push(Box::new(f));
        self
    }

    /// Every hostile record carries `key` as `aws.s3.key`.
    fn key_is(self, key: &str) -> Case {
        let key = key.to_string();
        self.check(move |recs| {
            match recs
                .iter()
                .find(|r| field(r, "aws.s3.key").as_str() != Some(&key))
            {
                Some(r) => Err(format!(
                    "aws.s3.key {} instead of {key:?}",
                    field(r, "aws.s3.key")
                )),
                None => Ok(()),
            }
        })
    }

    fn record_error(mut self, s: &'static str) -> Case {
        self.record_error = Some(s);
        self
    }

    fn counter(mut self, name: &'static str, n: u64) -> Case {
        self.counters.push((name, n));
        self
    }

    fn unparseable(mut self, n: usize) -> Case {
        self.unparseable = n;
        self
    }

    fn note(mut self, note: &'static str) -> Case {
        self.note = Some(note);
        self
    }
}

fn counter(r: &InvocationReport, name: &str) -> u64 {
    match name {
        "poison_messages" => r.poison_messages as u64,
        "test_events" => r.test_events as u64,
        "objects" => r.objects as u64,
        "objects_failed" => r.objects_failed as u64,
        "objects_skipped" => r.objects_skipped as u64,
        "objects_refused" => r.objects_refused as u64,
        "objects_not_found" => r.objects_not_found as u64,
        "error_records" => r.error_records,
        "truncated_events" => r.truncated_events,
        other => panic!("unknown counter {other}"),
    }
}

// ---------------------------------------------------------------- inputs

fn gz(data: &[u8]) -> Vec<u8> {
    gzip(data)
}

fn zstd_of(data: &[u8]) -> Vec<u8> {
    zstd::stream::encode_all(data, 3).expect("zstd")
}

/// zstd with a content checksum in the frame.
fn zstd_checked(data: &[u8]) -> Vec<u8> {
    let mut e = zstd::stream::Encoder::new(Vec::new(), 3).expect("zstd");
    e.include_checksum(true).expect("zstd checksum");
    e.write_all(data).expect("zstd");
    e.finish().expect("zstd")
}

/// `n` numbered text lines.
fn lines(n: usize) -> String {
    (0..n)
        .map(|i| format!("line {i} of a text log\n"))
        .collect()
}

/// Deterministic junk bytes that do not start like a compression magic.
fn junk(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out: Vec<u8> = (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    out[0] = b'J';
    out
}

fn ct_key(tag: &str) -> String {
    format!("AWSLogs/{CT_ACCOUNT}/CloudTrail/us-east-2/2026/11/22/{CT_ACCOUNT}_CloudTrail_us-east-2_20261122T1005Z_{tag}.json.gz")
}

/// One CloudTrail event of about 1.2 KB.
fn ct_event(i: usize) -> String {
    let pad = "p".repeat(600);
    format!(
        r#"{{"eventVersion":"1.08","userIdentity":{{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::{CT_ACCOUNT}:user/u{i}","accountId":"{CT_ACCOUNT}","userName":"u{i}"}},"eventTime":"2026-11-22T10:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-2","sourceIPAddress":"198.51.100.7","userAgent":"aws-cli/2.13.5","requestParameters":{{"bucketName":"b","key":"k{i}"}},"additionalEventData":{{"pad":"{pad}"}},"responseElements":null,"requestID":"r-{i}","eventID":"e-{i}","readOnly":true,"eventType":"AwsApiCall","managementEvent":false,"recipientAccountId":"{CT_ACCOUNT}","eventCategory":"Data"}}"#
    )
}

/// A CloudTrail file of `n` events, all on one line.
fn ct_file(n: usize) -> String {
    let events: Vec<String> = (0..n).map(ct_event).collect();
    format!(r#"{{"Records":[{}]}}"#, events.join(","))
}

/// One S3 notification record as JSON, for hand-made variants.
fn s3_record(bucket: &str, key: Value, size: Value) -> Value {
    json!({
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": REGION,
        "eventTime": "2026-11-22T20:55:04.000Z",
        "eventName": "ObjectCreated:Put",
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "logs",
            "bucket": {"name": bucket, "arn": format!("arn:aws:s3:::{bucket}")},
            "object": {"key": key, "size": size}
        }
    })
}

fn eventbridge(detail_type: Option<&str>, detail: Option<Value>) -> String {
    let mut v = json!({
        "version": "0", "id": "eb-1", "source": "aws.s3",
        "account": ACCOUNT, "time": "2026-11-22T10:00:00Z", "region": REGION,
        "resources": [],
    });
    if let Some(t) = detail_type {
        v["detail-type"] = json!(t);
    }
    if let Some(d) = detail {
        v["detail"] = d;
    }
    v.to_string()
}

fn sns(message: Value) -> String {
    json!({
        "Type": "Notification",
        "MessageId": "sns-1",
        "TopicArn": format!("arn:aws:sns:{REGION}:{ACCOUNT}:logs"),
        "Message": message,
    })
    .to_string()
}

// ----------------------------------------------------------------- cases

fn cases() -> Vec<Case> {
    vec![
        // ---- message bodies that are not notifications (poison) ----
        Case::raw("body: not JSON", "this is not json")
            .poison("body is not JSON")
            .counter("poison_messages", 1),
        Case::raw("body: empty", "")
            .poison("body is not JSON")
            .also("EOF"),
        Case::raw("body: whitespace only", " \n\t ").poison("body is not JSON"),
        Case::raw("body: JSON array of numbers", "[1,2,3]").poison("unrecognized message shape"),
        Case::raw("body: empty JSON array", "[]").poison("unrecognized message shape"),
        Case::raw("body: JSON number", "42")
            .poison("unrecognized message shape")
            .also("JSON but not an object"),
        Case::raw("body: JSON string", r#""{\"Records\":[]}""#)
            .poison("unrecognized message shape"),
        Case::raw("body: JSON null", "null").poison("unrecognized message shape"),
        Case::raw("body: unknown JSON object", r#"{"hello":"world"}"#)
            .poison("unrecognized message shape")
            .also("not an S3 notification"),
        Case::raw("body: {\"Records\": 5}", r#"{"Records": 5}"#)
            .poison("unrecognized message shape")
            .also("wrong type"),
        Case::raw("body: {\"Records\":[{}]}", r#"{"Records":[{}]}"#)
            .poison("S3 notification record 0 is invalid: no eventSource"),
        Case::raw("body: {\"Records\":[]} (nothing named)", r#"{"Records":[]}"#),
        Case::new("body: S3 record without s3 entity", |_| {
            json!({"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put"}]})
                .to_string()
        })
        .poison("S3 notification record 0 is invalid: no s3 entity"),
        Case::new("body: record with eventSource aws:sqs", |b| {
            let mut r = s3_record(b, json!("x.log"), json!(1));
            r["eventSource"] = json!("aws:sqs");
            json!({ "Records": [r] }).to_string()
        })
        .poison("eventSource is \"aws:sqs\""),
        Case::new("body: good record then a bad one", |b| {
            let mut bad = s3_record(b, json!("x.log"), json!(1));
            bad["eventSource"] = json!("aws:sqs");
            json!({ "Records": [s3_record(b, json!("ok.log"), json!(1)), bad] }).to_string()
        })
        .put("ok.log", "never read\n")
        .poison("S3 notification record 1 is invalid"),
        Case::raw(
            "body: 1 MB of junk",
            "junk\u{1}é{[\"".repeat(1_000_000 / 10),
        )
        .poison("body is not JSON"),
        Case::raw("body: 100k nested brackets", "[".repeat(100_000)).poison("body is not JSON"),
        Case::raw("body: 100k nested braces", "{".repeat(100_000)).poison("body is not JSON"),
        Case::raw(
            "body: valid JSON nested 100k deep in an unknown member",
            format!("{{\"x\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000)),
        )
        .poison("unrecognized message shape"),
        Case::raw(
            "body: Records of 100k nested brackets",
            format!("{{\"Records\":{}", "[".repeat(100_000)),
        )
        .poison("unrecognized message shape"),
        Case::new("body: size as a string", |b| {
            json!({ "Records": [s3_record(b, json!("x.log"), json!("12"))] }).to_string()
        })
        .poison("unrecognized message shape")
        .also("invalid type: string \"12\""),
        Case::new("body: key as a number", |b| {
            json!({ "Records": [s3_record(b, json!(12345), json!(1))] }).to_string()
        })
        .poison("unrecognized message shape")
        .also("invalid type: integer"),
        Case::new("body: negative size", |b| {
            json!({ "Records": [s3_record(b, json!("x.log"), json!(-1))] }).to_string()
        })
        .poison("unrecognized message shape"),
        Case::new("body: bucket without a name", |b| {
            let mut r = s3_record(b, json!("x.log"), json!(1));
            r["s3"]["bucket"] = json!({"arn": "arn:aws:s3:::x"});
            json!({ "Records": [r] }).to_string()
        })
        .poison("unrecognized message shape")
        .also("missing field `name`"),
        Case::new("body: trailing garbage after a notification", |b| {
            s3_notification(&[(b, "x.log")]) + " trailing"
        })
        .put("x.log", "never read\n")
        .poison("body is not JSON")
        .also("trailing characters"),
        Case::new("body: byte order mark before the JSON", |b| {
            format!("\u{feff}{}", s3_notification(&[(b, "x.log")]))
        })
        .put("x.log", "never read\n")
        .poison("body is not JSON"),
        Case::new("body: record without eventName", |b| {
            let mut r = s3_record(b, json!("x.log"), json!(1));
            r.as_object_mut().unwrap().remove("eventName");
            json!({ "Records": [r] }).to_string()
        })
        .put("x.log", "would be forwarded\n")
        .note("a record with eventSource aws:s3 and an s3 entity but no eventName is ignored (acknowledged, nothing read, not even logged as odd); S3 always sends eventName, so this is tolerable"),
        Case::new("body: ObjectRemoved:Delete", |b| {
            let mut r = s3_record(b, json!("x.log"), json!(1));
            r["eventName"] = json!("ObjectRemoved:Delete");
            json!({ "Records": [r] }).to_string()
        }),
        Case::new("body: duplicate Records member", |b| {
            let r = s3_record(b, json!("x.log"), json!(1));
            format!(r#"{{"Records":[{r}],"Records":[{r}]}}"#)
        })
        .put("x.log", "never read\n")
        .poison("unrecognized message shape")
        .also("duplicate field"),
        Case::new("body: array wrapping a Records array", |b| {
            json!([[s3_record(b, json!("x.log"), json!(1))]]).to_string()
        })
        .put("x.log", "read anyway\n")
        .records(1)
        .note("a JSON array whose first element is an array of S3 records is accepted as a notification (serde's derived struct also reads sequences); harmless but lenient: the body is not an S3 notification"),
        // ---- SNS, EventBridge, s3:TestEvent ----
        Case::raw("SNS: wrapping junk", sns(json!("junk, not a notification")))
            .poison("body is not JSON")
            .note("the reason says `body is not JSON` although the body is JSON: it is the SNS Message inside that is not; the text does not mention the SNS layer"),
        Case::raw("SNS: Message is an object, not a string", sns(json!({"Records": []})))
            .poison("unrecognized message shape")
            .also("wrong type"),
        Case::raw(
            "SNS: Notification without Message",
            json!({"Type": "Notification", "MessageId": "m"}).to_string(),
        )
        .poison("SNS notification without a Message"),
        Case::raw(
            "SNS: SubscriptionConfirmation",
            json!({"Type": "SubscriptionConfirmation", "Message": "You have chosen to subscribe", "SubscribeURL": "https://sns.example/confirm"}).to_string(),
        )
        .poison("SubscriptionConfirmation"),
        Case::new("SNS: wrapped five times", |b| {
            let mut body = s3_notification(&[(b, "x.log")]);
            for _ in 0..5 {
                body = sns(json!(body));
            }
            body
        })
        .put("x.log", "never read\n")
        .poison("levels of SNS wrapping"),
        Case::raw(
            "EventBridge: Object Created without detail",
            eventbridge(Some("Object Created"), None),
        )
        .poison("EventBridge Object Created event without detail"),
        Case::raw(
            "EventBridge: detail without object",
            eventbridge(Some("Object Created"), Some(json!({"bucket": {"name": "b"}}))),
        )
        .poison("EventBridge detail is not an S3 object"),
        Case::raw(
            "EventBridge: no detail-type",
            eventbridge(None, Some(json!({"bucket": {"name": "b"}, "object": {"key": "k"}}))),
        )
        .poison("EventBridge event without detail-type"),
        Case::new("EventBridge: Object Deleted", |b| {
            eventbridge(
                Some("Object Deleted"),
                Some(json!({"bucket": {"name": b}, "object": {"key": "x.log"}})),
            )
        })
        .put("x.log", "never read\n"),
        Case::new("EventBridge: key is used as is (a+b%2F.log)", |b| {
            eventbridge(
                Some("Object Created"),
                Some(json!({"bucket": {"name": b}, "object": {"key": "a+b%2F.log", "size": 5}})),
            )
        })
        .put("a+b%2F.log", "eb\n")
        .records(1)
        .key_is("a+b%2F.log"),
        Case::new("s3:TestEvent", |b| {
            json!({"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": "2026-11-22T10:00:00.000Z", "Bucket": b, "RequestId": "r", "HostId": "h"}).to_string()
        })
        .counter("test_events", 1),
        // ---- keys with every encoding hazard ----
        Case::notify("key: + is a space", "logs/with+space.log")
            .put("logs/with space.log", "x\n")
            .records(1)
            .key_is("logs/with space.log"),
        Case::notify("key: %2B is a plus", "a%2Bb.log")
            .put("a+b.log", "x\n")
            .records(1)
            .key_is("a+b.log"),
        Case::notify("key: %25 is a percent sign", "100%25.log")
            .put("100%.log", "x\n")
            .records(1)
            .key_is("100%.log"),
        Case::notify("key: %C3%A9 is é", "caf%C3%A9.log")
            .put("café.log", "x\n")
            .records(1)
            .key_is("café.log"),
        Case::notify("key: emoji", "fire-%F0%9F%94%A5.log")
            .put("fire-🔥.log", "x\n")
            .records(1)
            .key_is("fire-🔥.log"),
        Case::notify("key: %2F slashes", "dir%2Fsub%2Ffile.log")
            .put("dir/sub/file.log", "x\n")
            .records(1)
            .key_is("dir/sub/file.log"),
        Case::notify("key: %252F decodes once to %2F", "double%252F.log")
            .put("double%2F.log", "x\n")
            .put("double/.log", "wrong object\n")
            .records(1)
            .key_is("double%2F.log"),
        Case::notify("key: ends in / (folder marker)", "folder%2F")
            .put("folder/", "never read\n")
            .counter("objects_skipped", 1),
        Case::notify("key: invalid escape %ZZ kept as is", "bad%ZZ.log")
            .put("bad%ZZ.log", "x\n")
            .records(1)
            .key_is("bad%ZZ.log"),
        Case::notify("key: trailing lone %", "trail%")
            .put("trail%", "x\n")
            .records(1)
            .key_is("trail%"),
        Case::notify("key: lone %FF (not UTF-8)", "lone%FF.log")
            .put("lone\u{FFFD}.log", "never read\n")
            .poison("object key \"lone%FF.log\" cannot be URL-decoded to UTF-8")
            .note("poison, as it should be; the reason names the key but not the bucket (an envelope error has no s3:// form)"),
        Case::notify("key: unencoded non-ASCII from a lax producer", "raw-é.log")
            .put("raw-é.log", "x\n")
            .records(1)
            .key_is("raw-é.log"),
        // ---- objects that are empty, compressed wrongly, too large ----
        Case::object("object: empty (0 bytes)", "empty.log", Vec::new()),
        Case::object("object: gzip of an empty stream", "empty.log.gz", gz(b"")),
        Case::object(
            "object: gzip header only",
            "header.log.gz",
            gz(b"")[..10].to_vec(),
        )
        .fails("header.log.gz", "compressed data is truncated"),
        Case::object("object: truncated gzip", "cut.log.gz", {
            let full = gz(lines(2000).as_bytes());
            full[..full.len() / 2].to_vec()
        })
        .fails("cut.log.gz", "compressed data is truncated")
        .any_records()
        .check(|recs| {
            if recs.len() < 2000 {
                Ok(())
            } else {
                Err(format!("{} records from a truncated file", recs.len()))
            }
        })
        .note("the lines before the cut are delivered, then the message fails (poison, so it ends in the dead-letter queue); a redrive re-sends them with the same event.id"),
        Case::object("object: corrupt gzip (flipped bytes)", "flipped.log.gz", {
            let mut b = gz(lines(2000).as_bytes());
            let mid = b.len() / 2;
            for x in &mut b[mid..mid + 16] {
                *x ^= 0xA5;
            }
            b
        })
        .fails("flipped.log.gz", "corrupt compressed data")
        .any_records()
        .note("zlib-rs finds the corrupt deflate block itself (here before any record); lines decoded before the point of corruption may be delivered, garbled or not, and the message fails (poison): inherent to streaming"),
        Case::object("object: gzip with a bad CRC", "crc.log.gz", {
            let mut b = gz(b"all\nlines\nreadable\n");
            let n = b.len();
            b[n - 8] ^= 0xFF;
            b
        })
        .fails("crc.log.gz", "corrupt compressed data")
        .any_records(),
        Case::object("object: gzip inside gzip", "double.log.gz", gz(&gz(b"inner\n")))
            .any_records()
            .record_error("not valid UTF-8")
            .note("a doubly compressed file is decompressed once and forwarded as lossy binary text with error records; the message succeeds"),
        Case::object("object: corrupt zstd with a checksum", "bad.log.zst", {
            let mut z = zstd_checked(lines(500).as_bytes());
            let mid = z.len() / 2;
            for x in &mut z[mid..mid + 16] {
                *x ^= 0x5A;
            }
            z
        })
        .fails("bad.log.zst", "corrupt compressed data")
        .any_records()
        .note("was a bug: a zstd checksum mismatch was taken for a network error and retried; now corrupt data, poison"),
        Case::object("object: corrupt zstd without a checksum", "nosum.log.zst", {
            let mut z = zstd_of(lines(500).as_bytes());
            let mid = z.len() / 2;
            for x in &mut z[mid..mid + 16] {
                *x ^= 0x5A;
            }
            z
        })
        .any_records()
        .check(|recs| {
            let want: Vec<String> = (0..500).map(|i| format!("line {i} of a text log")).collect();
            let got: Vec<String> = recs
                .iter()
                .map(|r| field(r, "message").as_str().unwrap_or("").to_string())
                .collect();
            let same = got.iter().filter(|g| want.contains(g)).count();
            if same < want.len() {
                Ok(())
            } else {
                Err("expected the corruption to show in the delivered lines".into())
            }
        })
        .note("a zstd frame without a content checksum cannot tell flipped bytes from data: garbled lines (about a fifth here) are forwarded and the message succeeds (inherent to the file format, not the forwarder's fault)"),
        Case::object("object: truncated zstd", "cut.log.zst", {
            let z = zstd_of(lines(2000).as_bytes());
            z[..z.len() / 2].to_vec()
        })
        .fails("cut.log.zst", "truncated")
        .any_records(),
        Case::object("object: bzip2 magic then junk", "bad.log.bz2", {
            let mut b = b"BZh9".to_vec();
            b.extend(junk(2000, 7));
            b
        })
        .fails("bad.log.bz2", "corrupt compressed data"),
        Case::object("object: decompression bomb (200 MB of zeros)", "bomb.log.gz", {
            // 200 gzip members of 1 MB of zeros each: 200 MB decompressed.
            let member = gz(&vec![0u8; 1 << 20]);
            member.repeat(200)
        })
        .env("MAX_DECOMPRESSED_BYTES", "10000000")
        .env("MAX_LINE_BYTES", "50000000")
        .fails("bomb.log.gz", "MAX_DECOMPRESSED_BYTES")
        .also("10000000"),
        Case::object(
            "object: bomb of blank lines",
            "newlines.log.gz",
            gz(&vec![b'\n'; 1 << 20]).repeat(50),
        )
        .env("MAX_DECOMPRESSED_BYTES", "10000000")
        .fails("newlines.log.gz", "MAX_DECOMPRESSED_BYTES"),
        Case::object("object: over MAX_OBJECT_BYTES", "big.log", lines(200))
            .env("MAX_OBJECT_BYTES", "1000")
            .fails("big.log", "over MAX_OBJECT_BYTES (1000)"),
        Case::new("object: declared size over MAX_OBJECT_BYTES", |b| {
            json!({ "Records": [s3_record(b, json!("huge.log"), json!(999_999_999_999u64))] })
                .to_string()
        })
        .env("MAX_OBJECT_BYTES", "1000")
        .fails("huge.log", "object is 999999999999 bytes, over MAX_OBJECT_BYTES (1000)"),
        Case::object("object: a line over MAX_LINE_BYTES", "long.log", {
            format!("short\n{}\nafter\n", "x".repeat(5000))
        })
        .env("MAX_LINE_BYTES", "1000")
        .fails("long.log", "line 2 is longer than MAX_LINE_BYTES (1000)"),
        // ---- lines ----
        Case::object(
            "lines: invalid UTF-8",
            "utf8.log",
            b"ok\nbad \xff\xfe bytes\nok again\n".to_vec(),
        )
        .records(3)
        .record_error("line 2 is not valid UTF-8")
        .counter("error_records", 1),
        Case::object("lines: NUL bytes", "nul.log", b"a\x00b\n\x00\x00\x00\n".to_vec())
            .records(2)
            .check(|recs| {
                let msgs: Vec<_> = recs.iter().map(|r| field(r, "message").clone()).collect();
                if msgs == [json!("a\u{0}b"), json!("\u{0}\u{0}\u{0}")] {
                    Ok(())
                } else {
                    Err(format!("messages {msgs:?}"))
                }
            }),
        Case::object("lines: binary junk", "junk.bin", junk(4096, 42))
            .any_records()
            .record_error("not valid UTF-8"),
        Case::object(
            "lines: JSON lines mixed with text",
            "mixed.log",
            "{\"message\":\"one\"}\nplain text\n{\"message\":\"two\"}\n{broken\n",
        )
        .records(4)
        .record_error("not a JSON object")
        .counter("error_records", 2)
        .check(|recs| {
            let datasets: Vec<_> = recs.iter().map(|r| field(r, "event.dataset").clone()).collect();
            if datasets.iter().all(|d| d == "json") {
                Ok(())
            } else {
                Err(format!("datasets {datasets:?}"))
            }
        }),
        Case::object(
            "lines: text first, then JSON lines",
            "mixed2.log",
            "plain text\n{\"message\":\"one\"}\n",
        )
        .records(2)
        .counter("error_records", 0)
        .check(|recs| {
            if recs.iter().all(|r| field(r, "event.dataset") == "text") {
                Ok(())
            } else {
                Err("not all text".into())
            }
        }),
        Case::object(
            "lines: timestamps in 9999 and 1970 pass through",
            "times.jsonl",
            "{\"@timestamp\":\"9999-12-31T23:59:59Z\",\"n\":1}\n{\"@timestamp\":\"1970-01-01T00:00:00Z\",\"n\":2}\n{\"@timestamp\":\"0001-01-01T00:00:00Z\",\"n\":3}\n{\"@timestamp\":\"2026-13-45T99:99:99Z\",\"n\":4}\n",
        )
        .records(4)
        .check(|recs| {
            let by_n: BTreeMap<i64, String> = recs
                .iter()
                .map(|r| {
                    (
                        field(r, "json.n").as_i64().unwrap_or(-1),
                        field(r, "@timestamp").as_str().unwrap_or("").to_string(),
                    )
                })
                .collect();
            let ingested = recs
                .iter()
                .find(|r| field(r, "json.n") == 4)
                .map(|r| field(r, "event.ingested").clone());
            let want = [
                (1, "9999-12-31T23:59:59Z"),
                (2, "1970-01-01T00:00:00Z"),
                (3, "0001-01-01T00:00:00Z"),
            ];
            for (n, t) in want {
                if by_n.get(&n).map(String::as_str) != Some(t) {
                    return Err(format!("@timestamp of {n}: {:?}", by_n.get(&n)));
                }
            }
            if ingested.as_ref().and_then(Value::as_str) != by_n.get(&4).map(String::as_str) {
                return Err(format!("invalid time not replaced by event.ingested: {by_n:?}"));
            }
            Ok(())
        }),
        Case::object(
            "lines: a 2 MB JSON line is truncated",
            "big.jsonl",
            format!("{{\"message\":\"{}\"}}\n", "y".repeat(2 << 20)),
        )
        .records(1)
        .counter("truncated_events", 1)
        .check(truncated_record),
        Case::object(
            "lines: a 2 MB text line is truncated",
            "big.txt",
            format!("{}\n", "z".repeat(2 << 20)),
        )
        .records(1)
        .counter("truncated_events", 1)
        .check(truncated_record),
        Case::object("lines: CRLF", "crlf.log", "one\r\ntwo\r\n\r\nthree\r\n")
            .records(3)
            .check(|recs| {
                let msgs: Vec<_> = recs.iter().map(|r| field(r, "message").clone()).collect();
                if msgs == [json!("one"), json!("two"), json!("three")] {
                    Ok(())
                } else {
                    Err(format!("messages {msgs:?}"))
                }
            }),
        Case::object("lines: only blank lines", "blank.log", "\n\n   \r\n\t\n\n"),
        Case::object("lines: lone CR line ends", "cr.log", "a\rb\rc\r")
            .records(1)
            .note("only \\n ends a line: an old-Mac file becomes one record"),
        Case::object(
            "lines: byte order mark before JSON lines",
            "bom.jsonl",
            "\u{feff}{\"message\":\"first\"}\n{\"message\":\"second\"}\n",
        )
        .records(2)
        .counter("error_records", 0),
        Case::object(
            "lines: JSON line nested 100k deep",
            "deep.jsonl",
            format!("{{\"a\":{}1{}}}\n", "[".repeat(100_000), "]".repeat(100_000)),
        )
        .records(1)
        .record_error("deeper than 128")
        .unparseable(0)
        .counter("error_records", 1)
        .note("was a bug: 100k-deep JSON passed through under `json`; now an error record with the line in event.original"),
        // ---- CloudTrail ----
        Case::object(
            "CloudTrail: 4,000 events on one 5 MB line",
            &ct_key("giant"),
            gz(ct_file(4000).as_bytes()),
        )
        .records(4000)
        .counter("error_records", 0)
        .check(|recs| {
            if recs
                .iter()
                .all(|r| field(r, "event.dataset") == "aws.cloudtrail" && field(r, "event.action") == "GetObject")
            {
                Ok(())
            } else {
                Err("not all CloudTrail GetObject records".into())
            }
        }),
        Case::object("CloudTrail: truncated mid-way", &ct_key("cut"), {
            let f = ct_file(100);
            gz(&f.as_bytes()[..f.len() / 2])
        })
        .fails(&ct_key("cut"), "not a valid log file of its format")
        .also("it ends in the middle of its JSON")
        .any_records()
        .check(|recs| {
            if recs.len() < 100 {
                Ok(())
            } else {
                Err(format!("{} records", recs.len()))
            }
        })
        .note("the events before the cut are delivered, then the message fails (poison)"),
        Case::object(
            "CloudTrail: Records is not an array",
            &ct_key("notarray"),
            gz(br#"{"Records":{"eventName":"A"}}"#),
        )
        .fails(&ct_key("notarray"), "\"Records\" is not an array"),
        Case::object(
            "CloudTrail: no Records member",
            &ct_key("norecords"),
            gz(br#"{"events":[]}"#),
        )
        .fails(&ct_key("norecords"), "no \"Records\" member"),
        Case::object(
            "CloudTrail: key says CloudTrail, content is text",
            &ct_key("text"),
            "just a text line\n",
        )
        .fails(&ct_key("text"), "does not start with '{'"),
        Case::object(
            "CloudTrail: elements that are not events",
            &ct_key("elements"),
            format!(r#"{{"Records":[{},42,"x",null,{}]}}"#, ct_event(1), ct_event(2)),
        )
        .records(5)
        .counter("error_records", 3)
        .record_error("not an event object"),
        Case::object(
            "CloudTrail: one event over MAX_LINE_BYTES",
            &ct_key("bigevent"),
            format!(r#"{{"Records":[{},{}]}}"#, ct_event(1), ct_event(2).replace(&"p".repeat(600), &"q".repeat(5000))),
        )
        .env("MAX_LINE_BYTES", "2000")
        .records(2)
        .counter("error_records", 1)
        .record_error("CloudTrail record 2 is larger than 2000 bytes (MAX_LINE_BYTES)"),
        Case::object(
            "CloudTrail: eventTime in 9999",
            &ct_key("future"),
            ct_file(1).replace("2026-11-22T10:00:00Z", "9999-12-31T23:59:59Z"),
        )
        .records(1)
        .check(|recs| {
            if field(&recs[0], "@timestamp") == "9999-12-31T23:59:59Z" {
                Ok(())
            } else {
                Err(format!("@timestamp {}", field(&recs[0], "@timestamp")))
            }
        }),
        // ---- buckets and objects that are not there or not allowed ----
        Case::object("source: bucket not in ALLOWED_BUCKETS", "secret.log", "do not read\n")
            .env("ALLOWED_BUCKETS", GOOD_BUCKET)
            .fails("secret.log", "bucket is not in ALLOWED_BUCKETS")
            .counter("objects_refused", 1),
        Case::notify("source: NoSuchKey", "gone.log").counter("objects_not_found", 1),
        Case::notify("source: NoSuchBucket", "x.log")
            .no_bucket()
            .fails("x.log", "NoSuchBucket"),
        Case::new("source: missing and present objects in one message", |b| {
            s3_notification(&[(b, "gone.log"), (b, "here.log")])
        })
        .put("here.log", "here\n")
        .records(1)
        .counter("objects_not_found", 1),
        Case::new("source: good and corrupt objects in one message", |b| {
            s3_notification(&[(b, "fine.log"), (b, "broken.log.gz")])
        })
        .put("fine.log", "fine 1\nfine 2\n")
        .put("broken.log.gz", gz(b"broken\n")[..12].to_vec())
        .fails("broken.log.gz", "compressed data is truncated")
        .records(2)
        .key_is("fine.log")
        .note("the good object's records are delivered and the message fails for the corrupt one; a redrive re-sends them with the same event.id"),
        Case::new("source: the same object twice in one message", |b| {
            s3_notification(&[(b, "twice.log"), (b, "twice.log")])
        })
        .put("twice.log", "a\nb\n")
        .records(4)
        .check(|recs| {
            let mut ids: Vec<_> = recs.iter().map(|r| field(r, "event.id").to_string()).collect();
            ids.sort();
            ids.dedup();
            if ids.len() == 2 {
                Ok(())
            } else {
                Err(format!("{} distinct ids for 2 events read twice", ids.len()))
            }
        }),
        Case::new("source: versionId that does not exist", |b| {
            let mut r = s3_record(b, json!("v.log"), json!(2));
            r["s3"]["object"]["versionId"] = json!("3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY");
            json!({ "Records": [r] }).to_string()
        })
        .put("v.log", "v\n")
        .records(0)
        .counter("objects_not_found", 1)
        .note("was a bug: NoSuchVersion was retried; like NoSuchKey it is now skipped and counted"),
        Case::notify("source: empty key", "")
            .poison("the object key is empty")
            .note("was a bug: an empty key reached GetObject and was retried with a misleading reason; now poison at the envelope"),
        Case::notify("source: key with ../", "a%2F..%2Fb.log")
            .put("a/../b.log", "the named object\n")
            .put("b.log", "another object\n")
            .records(1)
            .key_is("a/../b.log")
            .check(|recs| {
                if field(&recs[0], "message") == "the named object" {
                    Ok(())
                } else {
                    Err(format!("read {} instead of a/../b.log", field(&recs[0], "message")))
                }
            }),
    ]
}

/// The one record of a truncated event: tagged, within Firehose's limit.
fn truncated_record(recs: &[Value]) -> Result<(), String> {
    let r = &recs[0];
    if field(r, "tags") != &json!(["truncated"]) {
        return Err(format!("tags {}", field(r, "tags")));
    }
    let len = r.to_string().len();
    if len > 1_024_000 {
        return Err(format!("record of {len} bytes"));
    }
    let original = field(r, "event.original").as_str().unwrap_or("").len();
    if original < 900_000 {
        return Err(format!("event.original cut to {original} bytes"));
    }
    Ok(())
}

// ------------------------------------------------------------------ run

/// Every line that reached `dest`, parsed; a line that is not JSON (or is
/// too deep for serde_json's default limit) becomes `{"unparseable": ...}`.
async fn delivered_all(stack: &Stack, dest: &str) -> Vec<Value> {
    stack
        .delivered_lines(dest)
        .await
        .iter()
        .map(|line| {
            serde_json::from_slice(line).unwrap_or_else(|e| {
                json!({"unparseable": e.to_string(), "bytes": line.len(),
                       "start": String::from_utf8_lossy(&line[..line.len().min(200)])})
            })
        })
        .collect()
}

struct Observed {
    name: &'static str,
    outcome: String,
    problems: Vec<String>,
    note: Option<&'static str>,
    millis: u128,
}

async fn run_case(moto: &Moto, stack: &Stack, i: usize, case: &Case) -> Observed {
    let started = Instant::now();
    let bucket = format!("bad-{i:03}");
    let stream = format!("bad-stream-{i:03}");
    let dest = format!("bad-dest-{i:03}");
    if !case.no_bucket {
        stack.bucket(&bucket).await;
    }
    for (key, body) in &case.objects {
        stack.put(&bucket, key, body.clone()).await;
    }
    stack.delivery_stream(&stream, &dest).await;

    let mut vars: Vec<(&str, &str)> = vec![("DELIVERY_STREAM_NAME", &stream)];
    vars.extend(case.env.iter().map(|(k, v)| (*k, v.as_str())));
    let fwd = Arc::new(forwarder(&moto.sdk_config().await, config(&vars)));

    let hostile_at = i % 2;
    let good_at = 1 - hostile_at;
    let mut bodies = vec![String::new(), String::new()];
    bodies[hostile_at] = (case.body)(&bucket);
    bodies[good_at] = s3_notification(&[(GOOD_BUCKET, GOOD_KEY)]);
    let event = sqs_event(&bodies);

    let mut problems = Vec::new();
    let task = tokio::spawn(async move { fwd.handle(event, far_deadline()).await });
    let out = match task.await {
        Ok(out) => out,
        Err(e) => {
            return Observed {
                name: case.name,
                outcome: "PANIC".into(),
                problems: vec![format!("the invocation panicked: {e}")],
                note: case.note,
                millis: started.elapsed().as_millis(),
            }
        }
    };

    let failed = failed_ids(&out);
    let hostile_id = format!("msg-{hostile_at}");
    let good_id = format!("msg-{good_at}");
    let failure = out.failures.get(hostile_at).cloned().flatten();

    // The good message is never affected.
    if failed.contains(&good_id) {
        problems.push(format!(
            "the good message failed: {:?}",
            out.failures.get(good_at)
        ));
    }
    for f in out.failures.iter().flatten() {
        if f.contains("ended abnormally") || f.contains("internal error") {
            problems.push(format!("a task panicked or ended abnormally: {f}"));
        }
    }

    // The hostile message's fate and reason.
    match (&failure, case.fails) {
        (Some(why), true) => {
            if !failed.contains(&hostile_id) {
                problems.push("failure reason but not in batchItemFailures".into());
            }
            for want in &case.failure_has {
                if !why.contains(want.as_str()) {
                    problems.push(format!("reason lacks {want:?}: {why}"));
                }
            }
            if let Some(key) = &case.names_key {
                let name = format!("s3://{bucket}/{key}");
                if !why.contains(&name) {
                    problems.push(format!("reason does not name {name}: {why}"));
                }
            }
        }
        (Some(why), false) => problems.push(format!("expected success, failed: {why}")),
        (None, true) => problems.push("expected failure, succeeded".into()),
        (None, false) => {}
    }

    // Records.
    let records = delivered_all(stack, &dest).await;
    let (good, hostile): (Vec<Value>, Vec<Value>) = records
        .into_iter()
        .partition(|r| field(r, "aws.s3.bucket") == GOOD_BUCKET);
    if good.len() != GOOD_RECORDS {
        problems.push(format!(
            "{} records of the good message arrived, not {GOOD_RECORDS}",
            good.len()
        ));
    }
    let unparseable = hostile
        .iter()
        .filter(|r| r.get("unparseable").is_some())
        .count();
    if unparseable != case.unparseable {
        problems.push(format!(
            "{unparseable} delivered record(s) not parseable by serde_json, expected {}",
            case.unparseable
        ));
    }
    if let Some(n) = case.records {
        if hostile.len() != n {
            problems.push(format!("{} records delivered, expected {n}", hostile.len()));
        }
    }
    for check in &case.checks {
        if let Err(e) = check(&hostile) {
            problems.push(format!("records: {e}"));
        }
    }
    if let Some(want) = case.record_error {
        let found = hostile.iter().any(|r| {
            field(r, "error.message")
                .as_str()
                .is_some_and(|m| m.contains(want))
        });
        if !found {
            problems.push(format!("no record has error.message with {want:?}"));
        }
    }
    for (name, want) in &case.counters {
        let got = counter(&out.report, name);
        if got != *want {
            problems.push(format!("{name} = {got}, expected {want}"));
        }
    }

    // moto allows 50 delivery streams at a time.
    stack
        .firehose
        .delete_delivery_stream()
        .delivery_stream_name(&stream)
        .send()
        .await
        .expect("delete delivery stream");

    let errors = hostile
        .iter()
        .filter(|r| !field(r, "error.message").is_null())
        .count();
    let mut outcome = match &failure {
        Some(why) => format!("message failed: {}", shorten(why, 160)),
        None => "ok".to_string(),
    };
    let _ = write!(outcome, "; {} record(s)", hostile.len());
    if errors > 0 {
        let _ = write!(outcome, ", {errors} with error.message");
    }
    if let Some(r) = hostile.iter().find(|r| r.get("unparseable").is_some()) {
        let _ = write!(
            outcome,
            ", UNPARSEABLE record of {} bytes ({})",
            r["bytes"], r["unparseable"]
        );
    }
    Observed {
        name: case.name,
        outcome,
        problems,
        note: case.note,
        millis: started.elapsed().as_millis(),
    }
}

fn shorten(s: &str, n: usize) -> String {
    if s.len() <= n {
        return s.to_string();
    }
    let mut end = n;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hostile_inputs_are_handled_case_by_case() {
    let moto = Moto::start();
    let sdk = moto.sdk_config().await;
    let stack = Stack::new(&sdk);
    stack.bucket(GOOD_BUCKET).await;
    stack.put(GOOD_BUCKET, GOOD_KEY, GOOD_BODY).await;

    let cases = cases();
    assert!(cases.len() >= 40, "{} cases", cases.len());
    let mut observed = Vec::with_capacity(cases.len());
    for (i, case) in cases.iter().enumerate() {
        observed.push(run_case(&moto, &stack, i, case).await);
    }

    let mut table = String::new();
    let mut failures = 0;
    for (i, o) in observed.iter().enumerate() {
        let mark = if o.problems.is_empty() {
            "pass"
        } else {
            "FAIL"
        };
        let _ = writeln!(
            table,
            "{i:3} {mark} {:<52} {:>6} ms  {}",
            o.name, o.millis, o.outcome
        );
        if let Some(note) = o.note {
            let _ = writeln!(table, "           note: {note}");
        }
        for p in &o.problems {
            failures += 1;
            let _ = writeln!(table, "           !! {p}");
        }
    }
    // Captured by the test harness; `-- --nocapture` shows it.
    println!("\n{} hostile inputs:\n{table}", observed.len());
    assert_eq!(failures, 0, "cases with unexpected outcomes:\n{table}");
}
