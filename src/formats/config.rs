//! AWS Config snapshot and history files delivered to S3:
//! `{"fileVersion":"1.0","configSnapshotId":"..","configurationItems":[{..},..]}`
//! (a history file has no `configSnapshotId`); one event per configuration
//! item.
//!
//! Streamed like `cloudtrail.rs`: serde's `SeqAccess` hands over one item at
//! a time (held as a `Box<RawValue>`), so memory is bounded by the largest
//! item. Mapped: `@timestamp` = `configurationItemCaptureTime`,
//! `cloud.account.id`, `cloud.region`, `event.action` =
//! `configurationItemStatus`, and the item under `aws.config.*` with
//! `configuration`, `supplementary_configuration`, `tags`, `relationships`
//! and `related_events` passed through as raw JSON, and members no mapping
//! names under their own names (`aws.config.<name>`). An item that does not
//! parse becomes an error event; a file that is not of this shape is
//! [`FormatError::Malformed`].

use std::borrow::Cow;
use std::fmt;
use std::io::BufRead;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::detect::has;
use super::json::{self, Num, OptText, opt_num, raw_nonempty};
use super::time::{iso8601_utc_cow};
use super::{send, Emit, FormatError, Limits, ParseStats};
use crate::record::{FieldValue, ParsedEvent};

pub const DATASET: &str = "aws.config";

/// The field paths its events can have, besides the record writer's own
/// (see `FormatDef::fields`).
pub const FIELDS: &[&str] = &[
    "aws.config.*",
    "aws.config.arn",
    "aws.config.availability_zone",
    "aws.config.capture_time",
    "aws.config.configuration",
    "aws.config.configuration_item_status",
    "aws.config.configuration_item_version",
    "aws.config.configuration_state_id",
    "aws.config.configuration_state_md5_hash",
    "aws.config.file_version",
    "aws.config.related_events",
    "aws.config.relationships",
    "aws.config.resource_creation_time",
    "aws.config.resource_id",
    "aws.config.resource_name",
    "aws.config.resource_type",
    "aws.config.snapshot_id",
    "aws.config.supplementary_configuration",
    "aws.config.tags",
    "cloud.account.id",
    "cloud.region",
    "event.action",
    "event.category",
    "event.kind",
];

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Item<'a> {
    #[serde(borrow, default)]
    configuration_item_version: OptText<'a>,
    #[serde(borrow, default)]
    configuration_item_capture_time: OptText<'a>,
    #[serde(default)]
    configuration_state_id: Option<Num>,
    #[serde(borrow, default)]
    aws_account_id: OptText<'a>,
    #[serde(borrow, default)]
    configuration_item_status: OptText<'a>,
    #[serde(borrow, default)]
    resource_type: OptText<'a>,
    #[serde(borrow, default)]
    resource_id: OptText<'a>,
    #[serde(borrow, default)]
    resource_name: OptText<'a>,
    #[serde(rename = "ARN", alias = "arn", borrow, default)]
    arn: OptText<'a>,
    #[serde(borrow, default)]
    aws_region: OptText<'a>,
    #[serde(borrow, default)]
    availability_zone: OptText<'a>,
    #[serde(borrow, default)]
    configuration_state_md5_hash: OptText<'a>,
    #[serde(borrow, default)]
    resource_creation_time: OptText<'a>,
    #[serde(borrow, default)]
    configuration: Option<&'a RawValue>,
    #[serde(borrow, default)]
    supplementary_configuration: Option<&'a RawValue>,
    #[serde(borrow, default)]
    tags: Option<&'a RawValue>,
    #[serde(borrow, default)]
    relationships: Option<&'a RawValue>,
    #[serde(borrow, default)]
    related_events: Option<&'a RawValue>,
}

/// The leaves this module writes under `aws.config.`: an unmapped member
/// by one of these names is renamed (see [`json::keep`]).
const WRITTEN: &[&str] = &[
    "configuration_item_status",
    "configuration_item_version",
    "capture_time",
    "configuration_state_id",
    "resource_type",
    "resource_id",
    "resource_name",
    "arn",
    "availability_zone",
    "configuration_state_md5_hash",
    "resource_creation_time",
    "configuration",
    "supplementary_configuration",
    "tags",
    "relationships",
    "related_events",
    "snapshot_id",
    "file_version",
];

/// Snapshots and history files hold `configurationItems`.
pub fn sniff(line: &[u8]) -> bool {
    has(line, "\"configurationItems\"")
}

pub fn parse(
    reader: &mut dyn BufRead,
    _limits: &Limits,
    emit: &mut Emit<'_>,
) -> Result<ParseStats, FormatError> {
    let mut state = State {
        emit,
        stats: ParseStats::default(),
        stopped: None,
        saw_items: false,
        snapshot_id: None,
        file_version: None,
    };
    let mut de = serde_json::Deserializer::from_reader(reader);
    let result = FileSeed(&mut state)
        .deserialize(&mut de)
        .and_then(|()| de.end());
    match result {
        Ok(()) if state.saw_items => Ok(state.stats),
        Ok(()) => Err(FormatError::Malformed(
            "an AWS Config file is {\"configurationItems\":[...]}, and this one has none".into(),
        )),
        Err(_) if state.stopped.is_some() => {
            Err(state.stopped.take().unwrap_or(FormatError::Stopped))
        }
        Err(e) if e.is_io() => Err(FormatError::Io(e.into())),
        Err(e) if e.is_eof() => Err(FormatError::Malformed(format!(
            "the AWS Config file ends in the middle of its JSON ({e}), after {} item(s)",
            state.stats.events
        ))),
        Err(e) => Err(FormatError::Malformed(format!(
            "not an AWS Config snapshot or history file ({e}), after {} item(s)",
            state.stats.events
        ))),
    }
}

struct State<'e, 'f> {
    emit: &'e mut Emit<'f>,
    stats: ParseStats,
    /// Why the emit side made us stop, if it did.
    stopped: Option<FormatError>,
    saw_items: bool,
    /// Seen before the items (AWS writes it first); added to every item.
    snapshot_id: Option<String>,
    file_version: Option<String>,
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
        f.write_str("an AWS Config file object {\"configurationItems\":[...]}")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match key.as_ref() {
                "configurationItems" if !self.0.saw_items => {
                    self.0.saw_items = true;
                    map.next_value_seed(ItemsSeed(&mut *self.0))?;
                }
                "configSnapshotId" => {
                    self.0.snapshot_id = map.next_value::<Option<String>>()?;
                }
                "fileVersion" => {
                    self.0.file_version = map.next_value::<Option<String>>()?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

struct ItemsSeed<'s, 'e, 'f>(&'s mut State<'e, 'f>);

impl<'de> DeserializeSeed<'de> for ItemsSeed<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ItemsSeed<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of AWS Config configuration items")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(raw) = seq.next_element::<Box<RawValue>>()? {
            if let Err(e) = emit_item(raw.get(), self.0) {
                self.0.stopped = Some(e);
                return Err(de::Error::custom("stopped"));
            }
        }
        Ok(())
    }
}

fn emit_item(raw: &str, state: &mut State<'_, '_>) -> Result<(), FormatError> {
    let number = state.stats.events + 1;
    let parsed = if raw.starts_with('{') {
        json::from_str_keeping::<Item<'_>>(raw, WRITTEN).map_err(|e| e.to_string())
    } else {
        Err("it is not a JSON object".to_string())
    };
    let mut ev = ParsedEvent::new(DATASET, raw);
    match parsed {
        Ok((item, unmapped)) => {
            map_item(item, &mut ev);
            ev.fields.members("aws.config.*", unmapped);
            if let Some(id) = state.snapshot_id.as_deref() {
                ev.fields.str("aws.config.snapshot_id", id);
            }
            if let Some(v) = state.file_version.as_deref() {
                ev.fields.str("aws.config.file_version", v);
            }
        }
        Err(why) => {
            ev.error = Some(Cow::Owned(format!(
                "configuration item {number} is not valid: {why}"
            )));
        }
    }
    send(state.emit, &mut state.stats, ev)
}

fn map_item<'a>(i: Item<'a>, ev: &mut ParsedEvent<'a>) {
    ev.timestamp = i
        .configuration_item_capture_time
        .as_ref()
        .and_then(|t| iso8601_utc_cow(&t.0));
    let f = &mut ev.fields;
    f.str("event.kind", "event");
    f.push("event.category", FieldValue::Json(r#"["configuration"]"#));
    f.opt_cow("event.action", json::present_ref(&i.configuration_item_status));
    f.opt_cow("cloud.account.id", json::present(i.aws_account_id));
    f.opt_cow("cloud.region", json::present(i.aws_region));
    f.opt_cow(
        "aws.config.configuration_item_status",
        json::present(i.configuration_item_status),
    );
    f.opt_cow(
        "aws.config.configuration_item_version",
        json::present(i.configuration_item_version),
    );
    f.opt_cow(
        "aws.config.capture_time",
        json::present(i.configuration_item_capture_time),
    );
    opt_num(
        f,
        "aws.config.configuration_state_id",
        i.configuration_state_id,
    );
    f.opt_cow("aws.config.resource_type", json::present(i.resource_type));
    f.opt_cow("aws.config.resource_id", json::present(i.resource_id));
    f.opt_cow("aws.config.resource_name", json::present(i.resource_name));
    f.opt_cow("aws.config.arn", json::present(i.arn));
    // Kept as written, "Not Applicable" too: it is not an ECS zone, so it
    // has no ECS field to leave out of.
    f.opt_cow(
        "aws.config.availability_zone",
        json::present(i.availability_zone),
    );
    f.opt_cow(
        "aws.config.configuration_state_md5_hash",
        json::present(i.configuration_state_md5_hash),
    );
    if let Some(t) = json::present(i.resource_creation_time) {
        f.opt_cow("aws.config.resource_creation_time", iso8601_utc_cow(&t).or(Some(t)));
    }
    let raws = [
        ("aws.config.configuration", i.configuration),
        (
            "aws.config.supplementary_configuration",
            i.supplementary_configuration,
        ),
        ("aws.config.tags", i.tags),
        ("aws.config.relationships", i.relationships),
        ("aws.config.related_events", i.related_events),
    ];
    for (path, raw) in raws {
        f.opt_raw(path, raw_nonempty(raw));
    }
}

#[cfg(test)]
mod tests {
    use crate::formats::testing::run;
    use crate::formats::{Format, FormatError};

    /// A snapshot file with two items (tests/data/config/SOURCES.md).
    const SNAPSHOT: &str = include_str!("../../tests/data/config/snapshot.json");

    #[test]
    fn snapshot_items_become_mapped_events() {
        let (evs, stats) = run(Format::Config, SNAPSHOT.as_bytes(), 64).unwrap();
        assert_eq!((stats.events, stats.errors), (2, 0));
        let sg = &evs[0];
        assert_eq!(sg.dataset, "aws.config");
        assert_eq!(sg.timestamp.as_deref(), Some("2018-09-07T05:26:45.866Z"));
        let want = [
            ("event.action", "OK"),
            ("cloud.account.id", "970012433126"),
            ("cloud.region", "ap-south-1"),
            ("aws.config.resource_type", "AWS::EC2::SecurityGroup"),
            ("aws.config.resource_id", "sg-01"),
            ("aws.config.resource_name", "testconfig"),
            (
                "aws.config.arn",
                "arn:aws:ec2:ap-south-1:970012433126:security-group/sg-005ce5b72094fba04",
            ),
            ("aws.config.configuration_state_id", "1536298470560"),
            ("aws.config.configuration_item_version", "1.3"),
            (
                "aws.config.snapshot_id",
                "16da64e4-cb65-4846-b061-e6c3ba43cb96",
            ),
            ("aws.config.file_version", "1.0"),
            (
                "aws.config.relationships",
                r#"[{"resourceId":"vpc-4540bc2d","resourceName":null,"resourceType":"AWS::EC2::VPC","name":"Is contained in Vpc"}]"#,
            ),
        ];
        for (path, value) in want {
            assert_eq!(sg.field(path), Some(value), "{path}");
        }
        assert!(sg
            .field("aws.config.configuration")
            .unwrap()
            .contains("\"groupName\":\"testconfig\""));
        assert_eq!(
            sg.field("aws.config.availability_zone"),
            Some("Not Applicable")
        );
        for absent in [
            "aws.config.configuration_state_md5_hash",
            "aws.config.tags",
            "aws.config.related_events",
            "aws.config.supplementary_configuration",
            "aws.config.resource_creation_time",
        ] {
            assert_eq!(sg.field(absent), None, "{absent}");
        }
        let deleted = &evs[1];
        assert_eq!(deleted.field("event.action"), Some("ResourceDeleted"));
        assert_eq!(
            deleted.field("aws.config.availability_zone"),
            Some("ap-south-1a")
        );
        assert_eq!(deleted.field("aws.config.tags"), Some(r#"{"Name":"web"}"#));
        assert_eq!(deleted.field("aws.config.configuration"), None, "null");
        assert_eq!(
            deleted.field("aws.config.resource_creation_time"),
            Some("2018-07-01T10:00:00.000Z")
        );
    }

    #[test]
    fn members_no_mapping_names_keep_their_names() {
        let file = r#"{"fileVersion":"1.0","configurationItems":[{"awsAccountId":"1","newMember":{"a":1},"arn":"x","tags":{"k":"v"},"resourceType":"AWS::S3::Bucket"}]}"#;
        let (evs, _) = run(Format::Config, file.as_bytes(), 1 << 20).unwrap();
        let e = &evs[0];
        assert_eq!(e.field("aws.config.*"), Some(r#"{"newMember":{"a":1}}"#));
        assert_eq!(e.field("aws.config.arn"), Some("x"));
        assert_eq!(e.field("aws.config.tags"), Some(r#"{"k":"v"}"#));
        assert_eq!(e.field("aws.config.resource_type"), Some("AWS::S3::Bucket"));
    }

    #[test]
    fn history_files_and_lowercase_arn_are_accepted() {
        let input = br#"{"fileVersion":"1.0","configurationItems":[{"arn":"arn:x","configurationItemCaptureTime":"2026-01-01T01:00:00+01:00","configurationStateId":"17"}]}"#;
        let (evs, _) = run(Format::Config, input, 64).unwrap();
        assert_eq!(evs[0].field("aws.config.arn"), Some("arn:x"));
        assert_eq!(evs[0].timestamp.as_deref(), Some("2026-01-01T00:00:00Z"));
        assert_eq!(
            evs[0].field("aws.config.configuration_state_id"),
            Some("17")
        );
        assert_eq!(evs[0].field("aws.config.snapshot_id"), None);
    }

    #[test]
    fn bad_items_become_error_events_and_the_rest_is_kept() {
        let input = br#"{"configurationItems":[{"resourceId":"a"}, 7, {"resourceId":{"x":1}}, {"resourceId":"b"}]}"#;
        let (evs, stats) = run(Format::Config, input, 64).unwrap();
        assert_eq!(evs.len(), 4);
        assert_eq!(stats.errors, 2);
        assert_eq!(evs[1].original, "7");
        assert!(evs[1].error.as_deref().unwrap().contains("item 2"));
        assert!(evs[2].error.as_deref().unwrap().contains("item 3"));
        assert_eq!(evs[3].field("aws.config.resource_id"), Some("b"));
    }

    #[test]
    fn files_of_another_shape_are_malformed() {
        let cases: [&[u8]; 7] = [
            b"",
            b"[]",
            b"{\"fileVersion\":\"1.0\"}",
            b"{\"configurationItems\":{}}",
            b"not json",
            b"{\"configurationItems\":[]} trailing",
            b"{\"configurationItems\":[{\"resourceId\":\"\xff\"}]}",
        ];
        for input in cases {
            assert!(
                matches!(
                    run(Format::Config, input, 64),
                    Err(FormatError::Malformed(_))
                ),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
        let cut = &SNAPSHOT.as_bytes()[..SNAPSHOT.len() - 40];
        match run(Format::Config, cut, 64) {
            Err(FormatError::Malformed(m)) => assert!(m.contains("ends in the middle"), "{m}"),
            other => panic!("{:?}", other.map(|(e, _)| e.len())),
        }
        let (evs, _) = run(Format::Config, b"{\"configurationItems\":[]}", 64).unwrap();
        assert!(evs.is_empty());
    }

    #[test]
    fn the_caller_can_stop_the_stream() {
        let mut reader = std::io::BufReader::new(SNAPSHOT.as_bytes());
        let mut seen = 0;
        let got = super::parse(
            &mut reader,
            &crate::formats::Limits { max_line_bytes: 64 },
            &mut |_ev| {
                seen += 1;
                Err(crate::formats::Stop)
            },
        );
        assert!(matches!(got, Err(FormatError::Stopped)));
        assert_eq!(seen, 1);
    }
}
