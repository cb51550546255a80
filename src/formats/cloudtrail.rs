//! CloudTrail log files: `{"Records":[{...},{...}]}`, one event per element.
//!
//! Streamed: the file is read through serde's `SeqAccess` one element at a
//! time (held as a `Box<RawValue>`), so memory is bounded by the largest
//! event, not the file. Each element is then parsed with a borrowing struct
//! and mapped to ECS fields the way Elastic's `aws.cloudtrail` integration
//! does; bulky members (`requestParameters`, `responseElements`, ...) pass
//! through as raw JSON under `aws.cloudtrail.*`. An element that does not
//! parse becomes an error event with its raw text.

use std::borrow::Cow;
use std::fmt;
use std::io::BufRead;
use std::net::IpAddr;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::jsonlines::rfc3339_utc;
use super::{send, Emit, FormatError, ParseStats};
use crate::record::ParsedEvent;

pub const DATASET: &str = "aws.cloudtrail";

type S<'a> = Option<Cow<'a, str>>;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Event<'a> {
    #[serde(borrow, default)]
    event_version: S<'a>,
    #[serde(borrow, default)]
    user_identity: Option<UserIdentity<'a>>,
    #[serde(borrow, default)]
    event_time: S<'a>,
    #[serde(borrow, default)]
    event_source: S<'a>,
    #[serde(borrow, default)]
    event_name: S<'a>,
    #[serde(borrow, default)]
    aws_region: S<'a>,
    #[serde(rename = "sourceIPAddress", borrow, default)]
    source_ip_address: S<'a>,
    #[serde(borrow, default)]
    user_agent: S<'a>,
    #[serde(borrow, default)]
    error_code: S<'a>,
    #[serde(borrow, default)]
    error_message: S<'a>,
    #[serde(borrow, default)]
    request_parameters: Option<&'a RawValue>,
    #[serde(borrow, default)]
    response_elements: Option<&'a RawValue>,
    #[serde(borrow, default)]
    additional_event_data: Option<&'a RawValue>,
    #[serde(rename = "requestID", borrow, default)]
    request_id: S<'a>,
    #[serde(rename = "eventID", borrow, default)]
    event_id: S<'a>,
    #[serde(default)]
    read_only: Option<bool>,
    #[serde(borrow, default)]
    resources: Option<&'a RawValue>,
    #[serde(borrow, default)]
    event_type: S<'a>,
    #[serde(default)]
    management_event: Option<bool>,
    #[serde(borrow, default)]
    recipient_account_id: S<'a>,
    #[serde(rename = "sharedEventID", borrow, default)]
    shared_event_id: S<'a>,
    #[serde(borrow, default)]
    vpc_endpoint_id: S<'a>,
    #[serde(borrow, default)]
    event_category: S<'a>,
    #[serde(borrow, default)]
    tls_details: Option<&'a RawValue>,
    #[serde(borrow, default)]
    insight_details: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserIdentity<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: S<'a>,
    #[serde(borrow, default)]
    principal_id: S<'a>,
    #[serde(borrow, default)]
    arn: S<'a>,
    #[serde(borrow, default)]
    account_id: S<'a>,
    #[serde(borrow, default)]
    access_key_id: S<'a>,
    #[serde(borrow, default)]
    user_name: S<'a>,
    #[serde(borrow, default)]
    invoked_by: S<'a>,
    #[serde(borrow, default)]
    session_context: Option<SessionContext<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionContext<'a> {
    #[serde(borrow, default)]
    session_issuer: Option<Issuer<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Issuer<'a> {
    #[serde(borrow, default)]
    user_name: S<'a>,
    #[serde(borrow, default)]
    arn: S<'a>,
}

/// Parses a whole CloudTrail file.
pub fn parse(reader: &mut dyn BufRead, emit: &mut Emit<'_>) -> Result<ParseStats, FormatError> {
    let mut state = State {
        emit,
        stats: ParseStats::default(),
        stopped: false,
        saw_records: false,
    };
    let mut de = serde_json::Deserializer::from_reader(reader);
    let result = FileSeed(&mut state)
        .deserialize(&mut de)
        .and_then(|()| de.end());
    match result {
        Ok(()) if state.saw_records => Ok(state.stats),
        Ok(()) => Err(FormatError::Malformed(
            "a CloudTrail file is {\"Records\":[...]}, and this one has no Records array".into(),
        )),
        Err(_) if state.stopped => Err(FormatError::Stopped),
        Err(e) if e.is_io() => Err(FormatError::Io(e.into())),
        Err(e) if e.is_eof() => Err(FormatError::Malformed(format!(
            "the CloudTrail file ends in the middle of its JSON ({e}), after {} event(s)",
            state.stats.events
        ))),
        Err(e) => Err(FormatError::Malformed(format!(
            "not a CloudTrail file ({e}), after {} event(s)",
            state.stats.events
        ))),
    }
}

struct State<'e, 'f> {
    emit: &'e mut Emit<'f>,
    stats: ParseStats,
    stopped: bool,
    saw_records: bool,
}

struct FileSeed<'s, 'e, 'f>(&'s mut State<'e, 'f>);

impl<'de> DeserializeSeed<'de> for FileSeed<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FileSeed<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a CloudTrail file object {\"Records\":[...]}")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if key == "Records" && !self.0.saw_records {
                self.0.saw_records = true;
                map.next_value_seed(RecordsSeed(&mut *self.0))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

struct RecordsSeed<'s, 'e, 'f>(&'s mut State<'e, 'f>);

impl<'de> DeserializeSeed<'de> for RecordsSeed<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for RecordsSeed<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of CloudTrail events")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(raw) = seq.next_element::<Box<RawValue>>()? {
            if emit_event(raw.get(), self.0.emit, &mut self.0.stats).is_err() {
                self.0.stopped = true;
                return Err(de::Error::custom("stopped"));
            }
        }
        Ok(())
    }
}

fn emit_event(raw: &str, emit: &mut Emit<'_>, stats: &mut ParseStats) -> Result<(), FormatError> {
    match serde_json::from_str::<Event<'_>>(raw) {
        Ok(event) => {
            let ev = map_event(raw, &event);
            send(emit, stats, ev)
        }
        Err(e) => {
            let mut ev = ParsedEvent::new(DATASET, raw);
            ev.error = Some(Cow::Owned(format!(
                "CloudTrail record {} is not a valid event: {e}",
                stats.events + 1
            )));
            send(emit, stats, ev)
        }
    }
}

fn map_event<'a>(raw: &'a str, e: &'a Event<'a>) -> ParsedEvent<'a> {
    let mut ev = ParsedEvent::new(DATASET, raw);
    ev.timestamp = e.event_time.as_ref().and_then(rfc3339_utc);
    let f = &mut ev.fields;
    f.str("event.kind", "event");
    f.opt_str("event.action", e.event_name.as_deref());
    f.opt_str("event.provider", e.event_source.as_deref());
    f.str(
        "event.outcome",
        if e.error_code.is_some() {
            "failure"
        } else {
            "success"
        },
    );
    f.opt_str("cloud.account.id", e.recipient_account_id.as_deref());
    f.opt_str("cloud.region", e.aws_region.as_deref());
    if let Some(ip) = e.source_ip_address.as_deref() {
        if ip.parse::<IpAddr>().is_ok() {
            f.str("source.ip", ip);
        } else {
            f.str("source.address", ip);
        }
    }
    f.opt_str("user_agent.original", e.user_agent.as_deref());

    f.opt_str("aws.cloudtrail.event_version", e.event_version.as_deref());
    f.opt_str("aws.cloudtrail.event_type", e.event_type.as_deref());
    f.opt_str("aws.cloudtrail.event_category", e.event_category.as_deref());
    f.opt_str("aws.cloudtrail.request_id", e.request_id.as_deref());
    f.opt_str("aws.cloudtrail.event_id", e.event_id.as_deref());
    f.opt_str(
        "aws.cloudtrail.recipient_account_id",
        e.recipient_account_id.as_deref(),
    );
    f.opt_str(
        "aws.cloudtrail.shared_event_id",
        e.shared_event_id.as_deref(),
    );
    f.opt_str(
        "aws.cloudtrail.vpc_endpoint_id",
        e.vpc_endpoint_id.as_deref(),
    );
    f.opt_str("aws.cloudtrail.error_code", e.error_code.as_deref());
    f.opt_str("aws.cloudtrail.error_message", e.error_message.as_deref());
    if let Some(v) = e.read_only {
        f.bool("aws.cloudtrail.read_only", v);
    }
    if let Some(v) = e.management_event {
        f.bool("aws.cloudtrail.management_event", v);
    }
    f.opt_raw("aws.cloudtrail.request_parameters", e.request_parameters);
    f.opt_raw("aws.cloudtrail.response_elements", e.response_elements);
    f.opt_raw(
        "aws.cloudtrail.additional_eventdata",
        e.additional_event_data,
    );
    f.opt_raw("aws.cloudtrail.resources", e.resources);
    f.opt_raw("aws.cloudtrail.tls_details", e.tls_details);
    f.opt_raw("aws.cloudtrail.insight_details", e.insight_details);

    if let Some(u) = &e.user_identity {
        f.opt_str("aws.cloudtrail.user_identity.type", u.kind.as_deref());
        f.opt_str("aws.cloudtrail.user_identity.arn", u.arn.as_deref());
        f.opt_str(
            "aws.cloudtrail.user_identity.account_id",
            u.account_id.as_deref(),
        );
        f.opt_str(
            "aws.cloudtrail.user_identity.access_key_id",
            u.access_key_id.as_deref(),
        );
        f.opt_str(
            "aws.cloudtrail.user_identity.invoked_by",
            u.invoked_by.as_deref(),
        );
        f.opt_str("user.id", u.principal_id.as_deref());
        let issuer = u
            .session_context
            .as_ref()
            .and_then(|s| s.session_issuer.as_ref());
        if let Some(i) = issuer {
            f.opt_str(
                "aws.cloudtrail.user_identity.session_context.session_issuer.arn",
                i.arn.as_deref(),
            );
        }
        let name = u
            .user_name
            .as_deref()
            .or_else(|| issuer.and_then(|i| i.user_name.as_deref()))
            .or_else(|| {
                u.arn
                    .as_deref()
                    .and_then(|a| a.rsplit('/').next())
                    .filter(|n| !n.is_empty() && !n.starts_with("arn:"))
            });
        f.opt_str("user.name", name);
    }
    ev
}

#[cfg(test)]
mod tests {
    use crate::formats::testing::run;
    use crate::formats::{Format, FormatError};

    // Shaped like the examples in the AWS CloudTrail User Guide ("CloudTrail
    // log file examples"): an IAM user's API call, an assumed role's failed
    // call, and a service event.
    const SAMPLE: &str = include_str!("../../events/objects/cloudtrail.json");

    #[test]
    fn records_become_mapped_events() {
        let (evs, stats) = run(Format::CloudTrail, SAMPLE.as_bytes(), 0).unwrap();
        assert_eq!(stats.events, 3);
        assert_eq!(stats.errors, 0);
        let e = &evs[0];
        assert_eq!(e.dataset, "aws.cloudtrail");
        assert_eq!(e.timestamp.as_deref(), Some("2026-11-22T20:50:11Z"));
        assert_eq!(e.field("event.action"), Some("StartInstances"));
        assert_eq!(e.field("event.provider"), Some("ec2.amazonaws.com"));
        assert_eq!(e.field("event.outcome"), Some("success"));
        assert_eq!(e.field("cloud.account.id"), Some("111111111111"));
        assert_eq!(e.field("cloud.region"), Some("us-east-1"));
        assert_eq!(e.field("source.ip"), Some("198.51.100.1"));
        assert_eq!(e.field("user.name"), Some("Mary_Major"));
        assert_eq!(e.field("aws.cloudtrail.read_only"), Some("false"));
        assert!(e
            .field("aws.cloudtrail.request_parameters")
            .unwrap()
            .contains("i-EXAMPLE56126103cb"));
        let parsed: serde_json::Value = serde_json::from_str(&e.original).unwrap();
        assert_eq!(parsed["eventID"], "e755e09c-42f9-4c5c-9064-EXAMPLE228c7");

        let assumed = &evs[1];
        assert_eq!(assumed.field("user.name"), Some("Deployer"));
        assert_eq!(assumed.field("event.outcome"), Some("failure"));
        assert_eq!(
            assumed.field("aws.cloudtrail.error_code"),
            Some("AccessDenied")
        );

        let service = &evs[2];
        assert_eq!(
            service.field("source.address"),
            Some("cloudtrail.amazonaws.com")
        );
        assert_eq!(service.field("source.ip"), None);
        assert_eq!(
            service.field("aws.cloudtrail.user_identity.invoked_by"),
            Some("cloudtrail.amazonaws.com")
        );
    }

    #[test]
    fn bad_elements_become_error_events_and_the_rest_is_kept() {
        let input = br#"{"Records":[{"eventName":"A","eventTime":"2026-01-01T00:00:00Z"}, 42, {"eventName":{"x":1}}, {"eventName":"B"}], "extra": true}"#;
        let (evs, stats) = run(Format::CloudTrail, input, 0).unwrap();
        assert_eq!(evs.len(), 4);
        assert_eq!(stats.errors, 2);
        assert_eq!(evs[1].original, "42");
        assert!(evs[1].error.as_deref().unwrap().contains("record 2"));
        assert_eq!(evs[3].field("event.action"), Some("B"));
    }

    #[test]
    fn not_a_cloudtrail_file_is_malformed() {
        let cases: [&[u8]; 6] = [
            b"[1,2]",
            b"{\"other\":1}",
            b"{\"Records\":{}}",
            b"not json",
            b"",
            b"{\"Records\":[]} trailing",
        ];
        for input in cases {
            let got = run(Format::CloudTrail, input, 0);
            assert!(
                matches!(got, Err(FormatError::Malformed(_))),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn truncated_file_keeps_events_before_the_cut_and_fails() {
        let cut = &SAMPLE.as_bytes()[..SAMPLE.len() - 200];
        match run(Format::CloudTrail, cut, 0) {
            Err(FormatError::Malformed(m)) => assert!(m.contains("ends in the middle"), "{m}"),
            other => panic!("{:?}", other.map(|(e, _)| e.len())),
        }
    }

    #[test]
    fn empty_records_is_a_valid_file() {
        let (evs, _) = run(Format::CloudTrail, b" {\"Records\": [ ] }\n", 0).unwrap();
        assert!(evs.is_empty());
    }
}
