//! OCSF 1.1.0 output (`OUTPUT_SCHEMA=ocsf`, or a route's `"schema"`): the
//! event a format parsed, with its ECS paths, becomes an event with OCSF
//! paths, which the record writer then writes like any other.
//!
//! Each format's mapping is one table ([`Mapping`], in `ocsf/<format>.rs`,
//! named by the format's row of `formats::FORMATS`): which OCSF attribute
//! each of its ECS fields becomes, and the rules that choose the class and
//! activity and set the enumerations. Every field the table does not name
//! goes under `unmapped` with its ECS path, so nothing is lost. A format
//! without a table (generic JSON lines, text, CloudWatch Logs, Config)
//! becomes a Base Event (class 0) with all its fields under `unmapped`.
//!
//! The writer adds what every record has: `metadata.uid` (the event's
//! deterministic id), `metadata.sequence`, `metadata.log_name` (the ECS
//! dataset), the object under `unmapped.aws.s3`, `raw_data` (the raw event,
//! as `INCLUDE_EVENT_ORIGINAL` says) and, for a line that did not parse,
//! `message`.

pub mod cloudfront;
pub mod cloudtrail;
pub mod elb;
pub mod firewall;
pub mod guardduty;
pub mod route53;
pub mod s3access;
pub mod vpcflow;
pub mod waf;

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use crate::record::{FieldValue, Fields, ParsedEvent};

/// The OCSF version records are written in (`metadata.version`).
pub const VERSION: &str = "1.1.0";

/// The schema of a route's records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Schema {
    /// Elastic Common Schema (the default).
    #[default]
    Ecs,
    /// Open Cybersecurity Schema Framework 1.1.0.
    Ocsf,
}

impl Schema {
    pub fn parse(v: &str) -> Option<Schema> {
        match v.trim().to_ascii_lowercase().as_str() {
            "ecs" => Some(Schema::Ecs),
            "ocsf" => Some(Schema::Ocsf),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Schema::Ecs => "ecs",
            Schema::Ocsf => "ocsf",
        }
    }
}

/// One OCSF class: its uid, caption, category, and activities as (id,
/// caption, `type_name`). Read from the 1.1.0 schema (a test checks them
/// against `tests/data/ocsf/schema`).
#[derive(Debug)]
pub struct Class {
    pub uid: u32,
    pub name: &'static str,
    pub category_uid: u32,
    pub category_name: &'static str,
    pub activities: &'static [(u32, &'static str, &'static str)],
}

/// The classes the mappings use.
pub static CLASSES: &[Class] = &[
    Class {
        uid: 0,
        name: "Base Event",
        category_uid: 0,
        category_name: "Uncategorized",
        activities: &[
            (0, "Unknown", "Base Event: Unknown"),
            (99, "Other", "Base Event: Other"),
        ],
    },
    Class {
        uid: 2004,
        name: "Detection Finding",
        category_uid: 2,
        category_name: "Findings",
        activities: &[
            (0, "Unknown", "Detection Finding: Unknown"),
            (1, "Create", "Detection Finding: Create"),
            (2, "Update", "Detection Finding: Update"),
            (3, "Close", "Detection Finding: Close"),
            (99, "Other", "Detection Finding: Other"),
        ],
    },
    Class {
        uid: 3001,
        name: "Account Change",
        category_uid: 3,
        category_name: "Identity & Access Management",
        activities: &[
            (0, "Unknown", "Account Change: Unknown"),
            (1, "Create", "Account Change: Create"),
            (2, "Enable", "Account Change: Enable"),
            (3, "Password Change", "Account Change: Password Change"),
            (4, "Password Reset", "Account Change: Password Reset"),
            (5, "Disable", "Account Change: Disable"),
            (6, "Delete", "Account Change: Delete"),
            (7, "Attach Policy", "Account Change: Attach Policy"),
            (8, "Detach Policy", "Account Change: Detach Policy"),
            (9, "Lock", "Account Change: Lock"),
            (10, "MFA Factor Enable", "Account Change: MFA Factor Enable"),
            (
                11,
                "MFA Factor Disable",
                "Account Change: MFA Factor Disable",
            ),
            (99, "Other", "Account Change: Other"),
        ],
    },
    Class {
        uid: 3002,
        name: "Authentication",
        category_uid: 3,
        category_name: "Identity & Access Management",
        activities: &[
            (0, "Unknown", "Authentication: Unknown"),
            (1, "Logon", "Authentication: Logon"),
            (2, "Logoff", "Authentication: Logoff"),
            (
                3,
                "Authentication Ticket",
                "Authentication: Authentication Ticket",
            ),
            (
                4,
                "Service Ticket Request",
                "Authentication: Service Ticket Request",
            ),
            (
                5,
                "Service Ticket Renew",
                "Authentication: Service Ticket Renew",
            ),
            (99, "Other", "Authentication: Other"),
        ],
    },
    Class {
        uid: 4001,
        name: "Network Activity",
        category_uid: 4,
        category_name: "Network Activity",
        activities: &[
            (0, "Unknown", "Network Activity: Unknown"),
            (1, "Open", "Network Activity: Open"),
            (2, "Close", "Network Activity: Close"),
            (3, "Reset", "Network Activity: Reset"),
            (4, "Fail", "Network Activity: Fail"),
            (5, "Refuse", "Network Activity: Refuse"),
            (6, "Traffic", "Network Activity: Traffic"),
            (99, "Other", "Network Activity: Other"),
        ],
    },
    Class {
        uid: 4002,
        name: "HTTP Activity",
        category_uid: 4,
        category_name: "Network Activity",
        activities: &[
            (0, "Unknown", "HTTP Activity: Unknown"),
            (1, "Connect", "HTTP Activity: Connect"),
            (2, "Delete", "HTTP Activity: Delete"),
            (3, "Get", "HTTP Activity: Get"),
            (4, "Head", "HTTP Activity: Head"),
            (5, "Options", "HTTP Activity: Options"),
            (6, "Post", "HTTP Activity: Post"),
            (7, "Put", "HTTP Activity: Put"),
            (8, "Trace", "HTTP Activity: Trace"),
            (99, "Other", "HTTP Activity: Other"),
        ],
    },
    Class {
        uid: 4003,
        name: "DNS Activity",
        category_uid: 4,
        category_name: "Network Activity",
        activities: &[
            (0, "Unknown", "DNS Activity: Unknown"),
            (1, "Query", "DNS Activity: Query"),
            (2, "Response", "DNS Activity: Response"),
            (6, "Traffic", "DNS Activity: Traffic"),
            (99, "Other", "DNS Activity: Other"),
        ],
    },
    Class {
        uid: 6003,
        name: "API Activity",
        category_uid: 6,
        category_name: "Application Activity",
        activities: &[
            (0, "Unknown", "API Activity: Unknown"),
            (1, "Create", "API Activity: Create"),
            (2, "Read", "API Activity: Read"),
            (3, "Update", "API Activity: Update"),
            (4, "Delete", "API Activity: Delete"),
            (99, "Other", "API Activity: Other"),
        ],
    },
];

/// Class uids, by name, for the mappings.
pub const BASE_EVENT: u32 = 0;
pub const DETECTION_FINDING: u32 = 2004;
pub const ACCOUNT_CHANGE: u32 = 3001;
pub const AUTHENTICATION: u32 = 3002;
pub const NETWORK_ACTIVITY: u32 = 4001;
pub const HTTP_ACTIVITY: u32 = 4002;
pub const DNS_ACTIVITY: u32 = 4003;
pub const API_ACTIVITY: u32 = 6003;

/// `severity_id` captions.
pub const SEVERITIES: &[(u32, &str)] = &[
    (0, "Unknown"),
    (1, "Informational"),
    (2, "Low"),
    (3, "Medium"),
    (4, "High"),
    (5, "Critical"),
    (6, "Fatal"),
    (99, "Other"),
];

/// `status_id` captions (of the activity classes; findings have their own).
pub const STATUSES: &[(u32, &str)] = &[
    (0, "Unknown"),
    (1, "Success"),
    (2, "Failure"),
    (99, "Other"),
];

/// What an event is: its class and activity (and severity), chosen by a
/// mapping's rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity<'a> {
    pub class: u32,
    pub activity: u32,
    /// With activity 99 (Other): the source's own word for it.
    pub other_name: Option<Cow<'a, str>>,
    pub severity: u32,
}

impl<'a> Activity<'a> {
    /// `activity` of `class`, informational.
    pub fn of(class: u32, activity: u32) -> Self {
        Activity {
            class,
            activity,
            other_name: None,
            severity: 1,
        }
    }

    /// Activity 99 of `class`, named by the source.
    pub fn other(class: u32, name: impl Into<Cow<'a, str>>) -> Self {
        Activity {
            other_name: Some(name.into()),
            ..Activity::of(class, 99)
        }
    }
}

/// How an ECS value becomes the OCSF attribute's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conv {
    /// As it is.
    Same,
    /// An RFC 3339 time to integer milliseconds since the epoch (`timestamp_t`).
    TimeMs,
    /// Text holding an integer to the integer (left in `unmapped` if it is not one).
    Int,
    /// A number or boolean to its text (`string_t` attributes such as versions).
    Text,
    /// Handled by the mapping's rules (`Mapping::rules`), not copied.
    Rule,
}

/// One row of a mapping: the ECS field, the OCSF attribute, how.
pub type Row = (&'static str, &'static str, Conv);

/// A format's OCSF mapping.
pub struct Mapping {
    /// `metadata.product.name` and `metadata.product.feature.name`.
    pub product: &'static str,
    pub feature: &'static str,
    /// `metadata.profiles`, as a JSON array (`["cloud"]`, ...).
    pub profiles: &'static str,
    /// ECS field -> OCSF attribute. Fields not listed go to `unmapped`.
    pub rows: &'static [Row],
    /// Chooses the class and activity, and sets what the rows cannot
    /// (enumerations with their captions, fields whose place depends on
    /// another), reading the ECS event. An event that cannot fill its
    /// class's required attributes may be made a Base Event: the rules then
    /// set nothing, and every field goes to `unmapped` (see [`BASE`]).
    pub rules: for<'a> fn(&ParsedEvent<'a>, &mut Fields<'a>) -> Activity<'a>,
}

impl std::fmt::Debug for Mapping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mapping")
            .field("product", &self.product)
            .field("rows", &self.rows.len())
            .finish()
    }
}

/// The mapping of formats without a table: a Base Event, everything in
/// `unmapped`.
pub static BASE: Mapping = Mapping {
    product: "",
    feature: "",
    profiles: "[\"cloud\"]",
    rows: &[("message", "message", Conv::Same)],
    rules: |_, _| Activity::of(BASE_EVENT, 0),
};

/// The class with `uid`.
pub fn class(uid: u32) -> &'static Class {
    CLASSES.iter().find(|c| c.uid == uid).unwrap_or(&CLASSES[0])
}

/// Turns ECS events into OCSF events with one format's mapping; one per
/// object.
pub struct Converter {
    mapping: &'static Mapping,
    /// `metadata.product.name` when the mapping has none (Base Events):
    /// the format's title.
    product: &'static str,
    /// `metadata.product.vendor_name`.
    vendor: &'static str,
    /// The ingest time in milliseconds: `time` of events without their own.
    ingested_ms: i64,
    /// `unmapped.<path>` of the paths seen, by the path's address: the
    /// shared table (behind a lock) is asked once per path per object.
    unmapped: std::cell::RefCell<HashMap<(usize, usize), &'static str>>,
}

impl Converter {
    /// The converter of `format`'s events (its mapping, else Base Events).
    pub fn new(format: crate::formats::Format, ingested_rfc3339: &str) -> Self {
        let def = format.def();
        Converter {
            mapping: def.ocsf.unwrap_or(&BASE),
            product: def.title,
            vendor: "AWS",
            ingested_ms: rfc3339_ms(ingested_rfc3339).unwrap_or(0),
            unmapped: Default::default(),
        }
    }

    /// The OCSF event of `ev` (same raw text, offset and error).
    pub fn convert<'a>(&self, ev: &ParsedEvent<'a>) -> ParsedEvent<'a> {
        let mut out = ParsedEvent::new(ev.dataset, ev.original);
        out.timestamp = ev.timestamp.clone();
        out.offset = ev.offset;
        out.error = ev.error.clone();
        let f = &mut out.fields;
        // A line that did not parse has no class: a Base Event with its text.
        let mapping = if ev.error.is_some() {
            &BASE
        } else {
            self.mapping
        };
        let activity = (mapping.rules)(ev, f);
        let class = class(activity.class);
        f.u64("class_uid", u64::from(class.uid));
        f.str("class_name", class.name);
        f.u64("category_uid", u64::from(class.category_uid));
        f.str("category_name", class.category_name);
        let (id, caption, type_name) = class
            .activities
            .iter()
            .find(|a| a.0 == activity.activity)
            .copied()
            .unwrap_or((0, "Unknown", ""));
        f.u64("activity_id", u64::from(id));
        match activity.other_name {
            Some(name) if id == 99 => f.str("activity_name", name),
            _ => f.str("activity_name", caption),
        }
        f.u64("type_uid", u64::from(class.uid) * 100 + u64::from(id));
        if !type_name.is_empty() {
            f.str("type_name", type_name);
        }
        let severity = SEVERITIES
            .iter()
            .find(|s| s.0 == activity.severity)
            .copied()
            .unwrap_or((1, "Informational"));
        f.u64("severity_id", u64::from(severity.0));
        f.str("severity", severity.1);
        let time = ev
            .timestamp
            .as_deref()
            .and_then(rfc3339_ms)
            .unwrap_or(self.ingested_ms);
        f.i64("time", time);
        f.str("metadata.version", VERSION);
        f.str("metadata.product.vendor_name", self.vendor);
        if mapping.product.is_empty() {
            f.str("metadata.product.name", self.product);
        } else {
            f.str("metadata.product.name", mapping.product);
        }
        if !mapping.feature.is_empty() {
            f.str("metadata.product.feature.name", mapping.feature);
        }
        f.push("metadata.profiles", FieldValue::Json(mapping.profiles));
        f.str("cloud.provider", "AWS");
        // A Base Event defines none of the class attributes the rows name.
        let rows = if activity.class == BASE_EVENT {
            BASE.rows
        } else {
            mapping.rows
        };
        for (path, value) in ev.fields.iter() {
            match rows.iter().find(|r| r.0 == *path) {
                Some((_, _, Conv::Rule)) => {}
                Some((_, to, conv)) => match convert(value, *conv) {
                    Some(v) => f.push(to, v),
                    None => f.push(self.unmapped(path), value.clone()),
                },
                None => f.push(self.unmapped(path), value.clone()),
            }
        }
        out
    }
}

impl Converter {
    /// [`unmapped`], remembered for this object.
    fn unmapped(&self, path: &'static str) -> &'static str {
        let mut seen = self.unmapped.borrow_mut();
        let known = seen
            .entry((path.as_ptr() as usize, path.len()))
            .or_insert_with(|| unmapped(path));
        known
    }
}

fn convert<'a>(v: &FieldValue<'a>, conv: Conv) -> Option<FieldValue<'a>> {
    match (conv, v) {
        (Conv::Same, v) => Some(v.clone()),
        (Conv::TimeMs, FieldValue::Str(s)) => rfc3339_ms(s).map(FieldValue::I64),
        (Conv::TimeMs, FieldValue::I64(_) | FieldValue::U64(_)) => Some(v.clone()),
        (Conv::Int, FieldValue::Str(s)) => s.parse::<i64>().ok().map(FieldValue::I64),
        (Conv::Int, FieldValue::I64(_) | FieldValue::U64(_)) => Some(v.clone()),
        (Conv::Text, FieldValue::Str(_)) => Some(v.clone()),
        (Conv::Text, FieldValue::I64(n)) => Some(FieldValue::Str(Cow::Owned(n.to_string()))),
        (Conv::Text, FieldValue::U64(n)) => Some(FieldValue::Str(Cow::Owned(n.to_string()))),
        (Conv::Text, FieldValue::Bool(b)) => Some(FieldValue::Str(Cow::Borrowed(if *b {
            "true"
        } else {
            "false"
        }))),
        _ => None,
    }
}

/// Milliseconds since the epoch of an RFC 3339 time.
pub fn rfc3339_ms(s: &str) -> Option<i64> {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// `unmapped.<path>`, the same `&'static str` every time for one path
/// (paths are the formats' literals, a bounded set, so the interned
/// strings are too).
pub fn unmapped(path: &'static str) -> &'static str {
    static PATHS: OnceLock<Mutex<HashMap<&'static str, &'static str>>> = OnceLock::new();
    let mut paths = PATHS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    paths
        .entry(path)
        .or_insert_with(|| Box::leak(format!("unmapped.{path}").into_boxed_str()))
}

/// Sets an enumeration and its caption: `id_path` to `id`, `name_path`
/// to the caption of `id` in `captions`.
pub fn enumerated<'a>(
    f: &mut Fields<'a>,
    id_path: &'static str,
    name_path: &'static str,
    id: u32,
    captions: &'static [(u32, &'static str)],
) {
    f.u64(id_path, u64::from(id));
    if let Some((_, caption)) = captions.iter().find(|c| c.0 == id) {
        f.str(name_path, *caption);
    }
}

/// The text of a field of `ev`, if it is text.
pub fn text<'e>(ev: &'e ParsedEvent<'_>, path: &str) -> Option<&'e str> {
    match ev.fields.get(path)? {
        FieldValue::Str(s) => Some(s),
        _ => None,
    }
}

/// The value of a field of `ev`, cloned for the OCSF event.
pub fn value<'a>(ev: &ParsedEvent<'a>, path: &str) -> Option<FieldValue<'a>> {
    ev.fields.get(path).cloned()
}

/// What the mappings' unit tests share: the schema, and an event
/// converted with a format's mapping as (path, value) pairs.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use crate::formats::Format;

    /// The OCSF 1.1.0 schema (the server's export, `tests/data/ocsf/schema`).
    pub fn schema() -> serde_json::Value {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/ocsf/schema/ocsf-1.1.0.json.gz"
        );
        let file = std::fs::File::open(path).unwrap();
        serde_json::from_reader(flate2::read::GzDecoder::new(file)).unwrap()
    }

    /// The OCSF fields of an ECS event of `format` with `fields`, each
    /// value as its `Debug` text.
    pub fn convert(
        format: Format,
        fields: &[(&'static str, FieldValue<'static>)],
    ) -> Vec<(&'static str, String)> {
        let mut ev = ParsedEvent::new(format.dataset(), "");
        for (k, v) in fields {
            ev.fields.push(k, v.clone());
        }
        Converter::new(format, "2026-01-01T00:00:00Z")
            .convert(&ev)
            .fields
            .iter()
            .map(|(k, v)| (*k, format!("{v:?}")))
            .collect()
    }

    /// The same with text values.
    pub fn convert_text(
        format: Format,
        fields: &[(&'static str, &'static str)],
    ) -> Vec<(&'static str, String)> {
        let fields: Vec<(&'static str, FieldValue<'static>)> = fields
            .iter()
            .map(|(k, v)| (*k, FieldValue::Str(Cow::Borrowed(*v))))
            .collect();
        convert(format, &fields)
    }

    /// The OCSF fields (path, value as debug text) of the first event of
    /// `line` read as `format`.
    pub fn ocsf(format: Format, line: &[u8]) -> Vec<(&'static str, String)> {
        let mut reader = std::io::BufReader::new(line);
        let limits = crate::formats::Limits {
            max_line_bytes: 64 * 1024,
        };
        let c = Converter::new(format, "2026-01-01T00:00:00Z");
        let mut out = None;
        crate::formats::parse(format, &mut reader, &limits, &mut |ev| {
            if out.is_none() {
                assert!(ev.error.is_none(), "{:?}", ev.error);
                out = Some(
                    c.convert(&ev)
                        .fields
                        .iter()
                        .map(|(k, v)| (*k, format!("{v:?}")))
                        .collect(),
                );
            }
            Ok(())
        })
        .unwrap();
        out.expect("one event")
    }

    /// The value at `path` of a [`convert`]ed event.
    pub fn get<'v>(out: &'v [(&'static str, String)], path: &str) -> Option<&'v str> {
        out.iter()
            .find(|(k, _)| *k == path)
            .map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_class_table_agrees_with_the_ocsf_schema() {
        let schema = testing::schema();
        assert_eq!(schema["version"], VERSION);
        for class in CLASSES {
            let def = if class.uid == 0 {
                &schema["base_event"]
            } else {
                schema["classes"]
                    .as_object()
                    .unwrap()
                    .values()
                    .find(|c| c["uid"] == class.uid)
                    .unwrap_or_else(|| panic!("class {} not in the schema", class.uid))
            };
            assert_eq!(def["caption"], class.name);
            let attrs = &def["attributes"];
            let cat = &attrs["category_uid"]["enum"][class.category_uid.to_string()];
            assert_eq!(cat["caption"], class.category_name, "{}", class.name);
            let acts = attrs["activity_id"]["enum"].as_object().unwrap();
            assert_eq!(acts.len(), class.activities.len(), "{}", class.name);
            for (id, caption, type_name) in class.activities {
                assert_eq!(acts[&id.to_string()]["caption"], *caption, "{}", class.name);
                assert_eq!(*type_name, format!("{}: {caption}", class.name));
            }
            let sev = attrs["severity_id"]["enum"].as_object().unwrap();
            for (id, caption) in SEVERITIES {
                assert_eq!(sev[&id.to_string()]["caption"], *caption);
            }
            // Findings have statuses of their own (New, In Progress, ...).
            if class.category_uid != 2 {
                let status = attrs["status_id"]["enum"].as_object().unwrap();
                assert_eq!(status.len(), STATUSES.len(), "{}", class.name);
                for (id, caption) in STATUSES {
                    assert_eq!(status[&id.to_string()]["caption"], *caption);
                }
            }
        }
    }

    #[test]
    fn unmapped_paths_are_interned() {
        let a = unmapped("aws.vpcflow.tcp_flags");
        assert_eq!(a, "unmapped.aws.vpcflow.tcp_flags");
        assert!(std::ptr::eq(a, unmapped("aws.vpcflow.tcp_flags")));
    }

    #[test]
    fn times_become_milliseconds() {
        assert_eq!(rfc3339_ms("1970-01-01T00:00:01.5Z"), Some(1500));
        assert_eq!(rfc3339_ms("2026-11-22T10:00:00Z"), Some(1_795_341_600_000));
        assert_eq!(rfc3339_ms("yesterday"), None);
    }
}
