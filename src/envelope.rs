//! Decodes one SQS message body into the S3 objects it refers to.
//!
//! Understands direct S3 event notifications (one or many records, one or many
//! buckets), the same wrapped in an SNS `Notification`, EventBridge
//! `Object Created` events, and the `s3:TestEvent` S3 sends when notifications
//! are configured (acknowledged, no objects). Anything else is a poison message:
//! an error that says why, so the caller reports the message failed and SQS
//! eventually moves it to the dead-letter queue.
//!
//! It does not read objects or decide whether a bucket is allowed.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;
use thiserror::Error;

use crate::ordinals::OrdinalRanges;

/// How deep SNS wrapping may go (SNS of EventBridge of ...): guards against
/// pathological nesting.
const MAX_WRAPPING: usize = 3;

/// One S3 object a message refers to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ObjectRef {
    pub bucket: String,
    /// The key, decoded exactly once.
    pub key: String,
    pub size: Option<u64>,
    pub version_id: Option<String>,
    pub etag: Option<String>,
    pub sequencer: Option<String>,
    /// Region of the bucket, when the notification says.
    pub region: Option<String>,
    /// Account that owns the bucket, when the notification says (EventBridge).
    pub account: Option<String>,
    /// Events already delivered by earlier invocations (a continuation):
    /// parsed again for their ids, not sent again...
    pub skip_events: u64,
    /// ...except these, before `skip_events`, which Firehose did not accept.
    pub resend: OrdinalRanges,
}

/// What a message body decodes to.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Envelope {
    pub objects: Vec<ObjectRef>,
    /// Notification records that are not object creations (e.g. `ObjectRemoved:*`), ignored.
    pub ignored_records: usize,
    /// The body was an `s3:TestEvent`.
    pub test_event: bool,
}

/// Why a body cannot be decoded. Every variant is a poison message: retrying
/// the same body can never succeed.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum EnvelopeError {
    #[error("body is not JSON: {0}")]
    NotJson(String),
    #[error("unrecognized message shape: {0}")]
    UnknownShape(String),
    #[error("S3 notification record {index} is invalid: {reason}")]
    BadRecord { index: usize, reason: String },
    #[error("object key {key:?} cannot be URL-decoded to UTF-8")]
    BadKey { key: String },
}

/// The fields by which the known shapes are told apart. All optional: the
/// shape is decided from which are present.
#[derive(Deserialize)]
struct Probe<'a> {
    #[serde(rename = "Records", default)]
    records: Option<Vec<S3Record<'a>>>,
    #[serde(rename = "Type", borrow, default)]
    sns_type: Option<Cow<'a, str>>,
    #[serde(rename = "Message", borrow, default)]
    sns_message: Option<Cow<'a, str>>,
    #[serde(rename = "Event", borrow, default)]
    event: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    source: Option<Cow<'a, str>>,
    #[serde(rename = "detail-type", borrow, default)]
    detail_type: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    detail: Option<&'a RawValue>,
    #[serde(borrow, default)]
    account: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    region: Option<Cow<'a, str>>,
    #[serde(rename = "s3LogForwarderContinuation", default)]
    continuation: Option<Continuation>,
}

/// The message this function sends itself when an object could not be
/// finished (the deadline, or records Firehose did not accept): where to go
/// on (`skipEvents`), and the events before it still to send (`resend`,
/// `[[from, to), ...]`, at most `ordinals::MAX_RANGES` ranges; absent when
/// none, and in messages from versions before it). Keys are not encoded.
#[derive(serde::Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Continuation {
    pub bucket: String,
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    pub skip_events: u64,
    #[serde(default, skip_serializing_if = "OrdinalRanges::is_empty")]
    pub resend: OrdinalRanges,
}

/// The body of a continuation message for `obj`, to go on from
/// `skip_events` and send the events in `resend` before it again.
pub fn continuation_body(obj: &ObjectRef, skip_events: u64, resend: &OrdinalRanges) -> String {
    let c = Continuation {
        bucket: obj.bucket.clone(),
        key: obj.key.clone(),
        version_id: obj.version_id.clone(),
        etag: obj.etag.clone(),
        size: obj.size,
        region: obj.region.clone(),
        account: obj.account.clone(),
        skip_events,
        resend: resend.clone(),
    };
    serde_json::json!({ "s3LogForwarderContinuation": c }).to_string()
}

#[derive(Deserialize)]
struct S3Record<'a> {
    #[serde(rename = "eventSource", borrow, default)]
    event_source: Option<Cow<'a, str>>,
    #[serde(rename = "eventName", borrow, default)]
    event_name: Option<Cow<'a, str>>,
    #[serde(rename = "awsRegion", borrow, default)]
    aws_region: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    s3: Option<S3Entity<'a>>,
}

#[derive(Deserialize)]
struct S3Entity<'a> {
    #[serde(borrow)]
    bucket: Named<'a>,
    #[serde(borrow)]
    object: S3Object<'a>,
}

#[derive(Deserialize)]
struct Named<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
}

#[derive(Deserialize)]
struct S3Object<'a> {
    #[serde(borrow)]
    key: Cow<'a, str>,
    #[serde(default)]
    size: Option<u64>,
    #[serde(rename = "eTag", alias = "etag", borrow, default)]
    etag: Option<Cow<'a, str>>,
    #[serde(rename = "versionId", alias = "version-id", borrow, default)]
    version_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    sequencer: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct EventBridgeDetail<'a> {
    #[serde(borrow)]
    bucket: Named<'a>,
    #[serde(borrow)]
    object: S3Object<'a>,
}

/// Decodes one message body.
pub fn decode(body: &str) -> Result<Envelope, EnvelopeError> {
    decode_at(body, 0)
}

fn decode_at(body: &str, depth: usize) -> Result<Envelope, EnvelopeError> {
    let probe: Probe<'_> = serde_json::from_str(body).map_err(|e| {
        if !body.trim_start().starts_with('{') {
            // serde reads an array as a struct too; say what the body is.
            match serde_json::from_str::<serde::de::IgnoredAny>(body) {
                Ok(_) => EnvelopeError::UnknownShape("the body is JSON but not an object".into()),
                Err(e) => EnvelopeError::NotJson(e.to_string()),
            }
        } else if e.is_data() {
            EnvelopeError::UnknownShape(format!(
                "a known field has the wrong type: {}",
                e.to_string()
                    .replace("struct Probe", "an S3, SNS or EventBridge message")
            ))
        } else {
            EnvelopeError::NotJson(e.to_string())
        }
    })?;

    if let Some(records) = probe.records {
        return decode_s3_records(records);
    }
    if let Some(c) = probe.continuation {
        return Ok(Envelope {
            objects: vec![ObjectRef {
                bucket: c.bucket,
                key: c.key,
                size: c.size,
                version_id: c.version_id,
                etag: c.etag,
                sequencer: None,
                region: c.region,
                account: c.account,
                skip_events: c.skip_events,
                resend: c.resend,
            }],
            ..Envelope::default()
        });
    }
    if probe.event.as_deref() == Some("s3:TestEvent") {
        return Ok(Envelope {
            test_event: true,
            ..Envelope::default()
        });
    }
    if let Some(kind) = probe.sns_type.as_deref() {
        return match (kind, probe.sns_message) {
            ("Notification", Some(message)) => {
                if depth >= MAX_WRAPPING {
                    Err(EnvelopeError::UnknownShape(format!(
                        "more than {MAX_WRAPPING} levels of SNS wrapping"
                    )))
                } else {
                    decode_at(&message, depth + 1).map_err(|e| match e {
                        EnvelopeError::NotJson(why) => {
                            EnvelopeError::NotJson(format!("the SNS notification's Message: {why}"))
                        }
                        EnvelopeError::UnknownShape(why) => EnvelopeError::UnknownShape(format!(
                            "the SNS notification's Message: {why}"
                        )),
                        other => other,
                    })
                }
            }
            ("Notification", None) => Err(EnvelopeError::UnknownShape(
                "SNS notification without a Message".into(),
            )),
            ("SubscriptionConfirmation", _) => Err(EnvelopeError::UnknownShape(
                "SNS SubscriptionConfirmation: confirm the subscription (SubscribeURL) or enable raw message delivery; this message carries no objects".into(),
            )),
            (other, _) => Err(EnvelopeError::UnknownShape(format!(
                "SNS message of Type {other:?}"
            ))),
        };
    }
    if probe.source.as_deref() == Some("aws.s3") {
        return decode_eventbridge(
            probe.detail_type.as_deref(),
            probe.detail,
            probe.account,
            probe.region,
        );
    }
    Err(EnvelopeError::UnknownShape(
        "not an S3 notification, SNS notification, EventBridge S3 event or s3:TestEvent".into(),
    ))
}

fn decode_s3_records(records: Vec<S3Record<'_>>) -> Result<Envelope, EnvelopeError> {
    let mut out = Envelope::default();
    for (index, record) in records.into_iter().enumerate() {
        let bad = |reason: &str| EnvelopeError::BadRecord {
            index,
            reason: reason.to_string(),
        };
        match record.event_source.as_deref() {
            Some("aws:s3") => {}
            Some(other) => return Err(bad(&format!("eventSource is {other:?}, not \"aws:s3\""))),
            None => return Err(bad("no eventSource")),
        }
        let name = record.event_name.as_deref().unwrap_or_default();
        if !name.starts_with("ObjectCreated:") {
            out.ignored_records += 1;
            continue;
        }
        let s3 = record.s3.ok_or_else(|| bad("no s3 entity"))?;
        let key = decode_key(&s3.object.key)?;
        if key.is_empty() {
            return Err(bad("the object key is empty"));
        }
        out.objects.push(ObjectRef {
            bucket: s3.bucket.name.into_owned(),
            key,
            size: s3.object.size,
            version_id: non_empty(s3.object.version_id),
            etag: non_empty(s3.object.etag),
            sequencer: non_empty(s3.object.sequencer),
            region: non_empty(record.aws_region),
            account: None,
            skip_events: 0,
            resend: OrdinalRanges::new(),
        });
    }
    Ok(out)
}

fn decode_eventbridge(
    detail_type: Option<&str>,
    detail: Option<&RawValue>,
    account: Option<Cow<'_, str>>,
    region: Option<Cow<'_, str>>,
) -> Result<Envelope, EnvelopeError> {
    match detail_type {
        Some("Object Created") => {}
        // Other S3 events (Object Deleted, ...) carry nothing to forward.
        Some(_) => {
            return Ok(Envelope {
                ignored_records: 1,
                ..Envelope::default()
            })
        }
        None => {
            return Err(EnvelopeError::UnknownShape(
                "EventBridge event without detail-type".into(),
            ))
        }
    }
    let detail = detail.ok_or_else(|| {
        EnvelopeError::UnknownShape("EventBridge Object Created event without detail".into())
    })?;
    let detail: EventBridgeDetail<'_> = serde_json::from_str(detail.get()).map_err(|e| {
        EnvelopeError::UnknownShape(format!("EventBridge detail is not an S3 object: {e}"))
    })?;
    if detail.object.key.is_empty() {
        return Err(EnvelopeError::UnknownShape(
            "EventBridge Object Created event with an empty object key".into(),
        ));
    }
    Ok(Envelope {
        objects: vec![ObjectRef {
            bucket: detail.bucket.name.into_owned(),
            // EventBridge keys are not URL-encoded.
            key: detail.object.key.into_owned(),
            size: detail.object.size,
            version_id: non_empty(detail.object.version_id),
            etag: non_empty(detail.object.etag),
            sequencer: non_empty(detail.object.sequencer),
            region: non_empty(region),
            account: non_empty(account),
            skip_events: 0,
            resend: OrdinalRanges::new(),
        }],
        ..Envelope::default()
    })
}

/// S3 notifications encode keys as `application/x-www-form-urlencoded`: `+` is
/// a space and everything else is percent-encoded. Decoded exactly once.
pub fn decode_key(raw: &str) -> Result<String, EnvelopeError> {
    let spaced: Cow<'_, str> = if raw.contains('+') {
        Cow::Owned(raw.replace('+', " "))
    } else {
        Cow::Borrowed(raw)
    };
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map(Cow::into_owned)
        .map_err(|_| EnvelopeError::BadKey {
            key: raw.to_string(),
        })
}

fn non_empty(v: Option<Cow<'_, str>>) -> Option<String> {
    v.filter(|s| !s.is_empty()).map(Cow::into_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s3_body(records: &[(&str, &str)]) -> String {
        let recs: Vec<String> = records
            .iter()
            .map(|(bucket, key)| {
                format!(
                    r#"{{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1","eventName":"ObjectCreated:Put","s3":{{"s3SchemaVersion":"1.0","bucket":{{"name":"{bucket}","arn":"arn:aws:s3:::{bucket}"}},"object":{{"key":"{key}","size":42,"eTag":"abc","sequencer":"0A1B"}}}}}}"#
                )
            })
            .collect();
        format!(r#"{{"Records":[{}]}}"#, recs.join(","))
    }

    #[test]
    fn direct_notification_with_several_buckets() {
        let env = decode(&s3_body(&[("a", "x/1.gz"), ("b", "y/2.gz")])).unwrap();
        assert_eq!(env.objects.len(), 2);
        assert_eq!(env.objects[0].bucket, "a");
        assert_eq!(env.objects[1].key, "y/2.gz");
        assert_eq!(env.objects[0].size, Some(42));
        assert_eq!(env.objects[0].etag.as_deref(), Some("abc"));
        assert_eq!(env.objects[0].sequencer.as_deref(), Some("0A1B"));
        assert_eq!(env.objects[0].region.as_deref(), Some("us-east-1"));
    }

    #[test]
    fn keys_are_form_url_decoded_exactly_once() {
        let cases = [
            ("a+b", "a b"),
            ("a%2Bb", "a+b"),
            ("dir%2Ffile.gz", "dir/file.gz"),
            ("100%2525", "100%25"),
            ("caf%C3%A9", "café"),
            ("plain/key.json", "plain/key.json"),
        ];
        for (raw, want) in cases {
            let env = decode(&s3_body(&[("b", raw)])).unwrap();
            assert_eq!(env.objects[0].key, want, "{raw}");
        }
    }

    #[test]
    fn key_that_decodes_to_invalid_utf8_is_poison() {
        let err = decode(&s3_body(&[("b", "%FF%FE")])).unwrap_err();
        assert!(matches!(err, EnvelopeError::BadKey { .. }), "{err}");
    }

    #[test]
    fn moto_style_record_without_optional_fields() {
        let body = r#"{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1","eventTime":"2026-01-01T00:00:00.000Z","eventName":"ObjectCreated:Put","s3":{"s3SchemaVersion":"1.0","configurationId":"c","bucket":{"name":"b","arn":"arn:aws:s3:::b"},"object":{"key":"logs%2Fa.gz","size":10,"eTag":"e"}}}]}"#;
        let env = decode(body).unwrap();
        assert_eq!(env.objects[0].key, "logs/a.gz");
        assert_eq!(env.objects[0].version_id, None);
        assert_eq!(env.objects[0].sequencer, None);
    }

    #[test]
    fn non_create_records_are_ignored() {
        let body = s3_body(&[("b", "k")]).replace("ObjectCreated:Put", "ObjectRemoved:Delete");
        let env = decode(&body).unwrap();
        assert!(env.objects.is_empty());
        assert_eq!(env.ignored_records, 1);
    }

    #[test]
    fn sns_wrapped_notification_is_unwrapped() {
        let inner = s3_body(&[("b", "a+b.log")]);
        let body = serde_json::json!({"Type":"Notification","MessageId":"m","TopicArn":"arn:aws:sns:us-east-1:1:t","Message": inner}).to_string();
        let env = decode(&body).unwrap();
        assert_eq!(env.objects[0].key, "a b.log");
    }

    #[test]
    fn eventbridge_object_created_keys_are_not_decoded() {
        let body = r#"{"version":"0","id":"i","detail-type":"Object Created","source":"aws.s3","account":"111122223333","time":"2026-01-01T00:00:00Z","region":"eu-west-1","resources":["arn:aws:s3:::b"],"detail":{"version":"0","bucket":{"name":"b"},"object":{"key":"a+b%2F.log","size":5,"etag":"e1","version-id":"v1","sequencer":"s"},"request-id":"r","requester":"x","reason":"PutObject"}}"#;
        let env = decode(body).unwrap();
        let o = &env.objects[0];
        assert_eq!(o.key, "a+b%2F.log");
        assert_eq!(o.version_id.as_deref(), Some("v1"));
        assert_eq!(o.etag.as_deref(), Some("e1"));
        assert_eq!(o.account.as_deref(), Some("111122223333"));
        assert_eq!(o.region.as_deref(), Some("eu-west-1"));
    }

    #[test]
    fn continuations_round_trip_with_raw_keys() {
        let obj = ObjectRef {
            bucket: "b".into(),
            key: "a b+c%2F.log".into(),
            size: Some(9),
            version_id: Some("v".into()),
            etag: None,
            sequencer: None,
            region: None,
            account: Some("111122223333".into()),
            ..ObjectRef::default()
        };
        let body = continuation_body(&obj, 1234, &OrdinalRanges::new());
        assert!(!body.contains("resend"), "{body}");
        let env = decode(&body).unwrap();
        let got = &env.objects[0];
        assert_eq!(got.key, "a b+c%2F.log");
        assert_eq!(got.skip_events, 1234);
        assert!(got.resend.is_empty());
        assert_eq!(got.version_id.as_deref(), Some("v"));
        assert_eq!(got.account.as_deref(), Some("111122223333"));
    }

    #[test]
    fn continuations_carry_the_ranges_to_send_again() {
        let obj = ObjectRef {
            bucket: "b".into(),
            key: "k.log".into(),
            ..ObjectRef::default()
        };
        let mut resend = OrdinalRanges::from(10..12);
        resend.insert(40..45);
        let body = continuation_body(&obj, 900, &resend);
        assert!(body.contains(r#""resend":[[10,12],[40,45]]"#), "{body}");
        let got = &decode(&body).unwrap().objects[0];
        assert_eq!((got.skip_events, &got.resend), (900, &resend));

        // A continuation from a version without ranges still decodes.
        let old = r#"{"s3LogForwarderContinuation":{"bucket":"b","key":"k.log","skipEvents":7}}"#;
        let got = &decode(old).unwrap().objects[0];
        assert_eq!((got.skip_events, got.resend.is_empty()), (7, true));

        // The most ranges a continuation carries, at the largest ordinals,
        // with the longest key S3 allows: a few KiB, far under SQS's 256 KiB.
        let mut many = OrdinalRanges::new();
        for i in 0..crate::ordinals::MAX_RANGES as u64 * 2 {
            let at = u64::MAX / 2 + i * 3;
            many.insert(at..at + 1);
        }
        let long = ObjectRef {
            key: "k".repeat(1024),
            ..obj
        };
        let body = continuation_body(&long, u64::MAX - 1, &many);
        assert!(body.len() < 8 * 1024, "{} bytes", body.len());
        assert_eq!(decode(&body).unwrap().objects[0].resend, many);
    }

    #[test]
    fn test_event_is_acknowledged_with_no_objects() {
        let body = r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-01-01T00:00:00.000Z","Bucket":"b","RequestId":"r","HostId":"h"}"#;
        let env = decode(body).unwrap();
        assert!(env.test_event);
        assert!(env.objects.is_empty());
    }

    #[test]
    fn poison_bodies_say_why() {
        let cases = [
            ("not json at all", "not JSON"),
            ("", "not JSON"),
            ("[1,2,3]", "JSON but not an object"),
            ("42", "JSON but not an object"),
            ("[[[[", "not JSON"),
            (r#"{"hello":"world"}"#, "unrecognized"),
            (r#"{"Records":"nope"}"#, "wrong type"),
            (r#"{"Records":[{"eventSource":"aws:sqs"}]}"#, "aws:sqs"),
            (
                r#"{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put"}]}"#,
                "no s3 entity",
            ),
            (
                r#"{"Type":"SubscriptionConfirmation","Message":"x"}"#,
                "SubscriptionConfirmation",
            ),
            (
                r#"{"Type":"Notification","Message":"not json"}"#,
                "not JSON",
            ),
            (
                r#"{"source":"aws.s3","detail-type":"Object Created","detail":{"x":1}}"#,
                "EventBridge detail",
            ),
        ];
        for (body, want) in cases {
            let err = decode(body).unwrap_err().to_string();
            assert!(err.contains(want), "{body:?}: {err}");
        }
    }

    #[test]
    fn deep_sns_wrapping_is_refused() {
        let mut body = s3_body(&[("b", "k")]);
        for _ in 0..5 {
            body = serde_json::json!({"Type":"Notification","Message": body}).to_string();
        }
        assert!(decode(&body).unwrap_err().to_string().contains("wrapping"));
    }
}
