//! Filters (`FILTERS`, `FILTERS_FILE`): rules that drop events before they
//! become records. A rule has a name, optionally a dataset, and conditions
//! on fields (`equals`, `one_of`, `prefix`, `absent`) that must all hold; an
//! event is dropped by the first rule that matches it, and counted under
//! that rule's name.
//!
//! Rules are checked once, at start-up: a rule may only name a dataset of
//! the format table and fields that dataset's events can have (the record
//! writer's own, [`COMMON_FIELDS`], and the format's row's `fields`), so
//! that a typo is an error instead of a rule that silently never (or, with
//! `absent`, always) matches. A rule without a dataset applies to every
//! dataset that has all of its fields.
//!
//! Events with `error.message` (lines that did not parse) are never dropped
//! by a rule that does not name `error.message` itself: their fields are
//! missing or partial, so `absent` (or a prefix of `event.original`) would
//! otherwise drop unparsed lines that no one meant to lose.
//!
//! This module only decides; it counts nothing and writes nothing. The
//! emitter in `process` counts each drop against its rule and the object's
//! progress (a dropped event still has its ordinal).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::formats::{FormatDef, FORMATS};
use crate::record::{FieldValue, Fields, ObjectContext, ParsedEvent};

/// The fields the record writer sets from the event and its object that a
/// rule can test, whatever the format.
pub const COMMON_FIELDS: &[&str] = &[
    "@timestamp",
    "event.dataset",
    "event.original",
    "aws.s3.bucket",
    "aws.s3.key",
    "log.offset",
    "error.message",
];

/// Fields every record has that a rule cannot test: they come from the
/// event's place in the object or from the invocation, not from the event.
const NOT_FILTERABLE: &[&str] = &[
    "event.id",
    "event.sequence",
    "event.ingested",
    "cloud.provider",
    "tags",
];

/// Most rules: each is a metric of its own (`DroppedEvents.<rule>`), and a
/// metrics document holds at most 100.
pub const MAX_RULES: usize = 50;

/// Events dropped, by rule name (only rules that dropped any).
pub type DropCounts = BTreeMap<Arc<str>, u64>;

/// What a condition asks of a field's value, compared as text: strings as
/// they are, numbers and booleans as their JSON text, other JSON as its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Test {
    Equals(String),
    OneOf(Vec<String>),
    Prefix(Vec<String>),
    /// `true`: the field is absent (or JSON `null`); `false`: it is present.
    Absent(bool),
}

impl Test {
    fn holds(&self, value: Option<&str>) -> bool {
        match (self, value) {
            (Test::Absent(absent), v) => v.is_none() == *absent,
            (_, None) => false,
            (Test::Equals(want), Some(v)) => v == want,
            (Test::OneOf(set), Some(v)) => set.iter().any(|s| s == v),
            (Test::Prefix(prefixes), Some(v)) => prefixes.iter().any(|p| v.starts_with(p.as_str())),
        }
    }
}

/// One condition of a rule: a field and what its value must be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub field: String,
    pub test: Test,
}

/// One rule: it matches an event of its dataset when every condition holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterRule {
    pub name: Arc<str>,
    /// The `event.dataset` it applies to; `None`: every dataset that has
    /// all of its fields.
    pub dataset: Option<&'static str>,
    pub conditions: Vec<Condition>,
}

impl FilterRule {
    fn names_error(&self) -> bool {
        self.conditions.iter().any(|c| c.field == "error.message")
    }

    /// Whether the rule applies to events of `dataset`.
    fn applies_to(&self, dataset: &str) -> bool {
        match self.dataset {
            Some(d) => d == dataset,
            None => {
                let def = FORMATS.iter().find(|d| d.dataset == dataset);
                self.conditions.iter().all(|c| known_field(def, &c.field))
            }
        }
    }

    /// Whether the rule drops `ev`.
    fn matches(&self, ev: &ParsedEvent<'_>, ctx: &ObjectContext) -> bool {
        if ev.error.is_some() && !self.names_error() {
            return false;
        }
        self.conditions
            .iter()
            .all(|c| c.test.holds(lookup(&c.field, ev, ctx).as_deref()))
    }
}

/// Every rule, in configuration order (the first matching rule drops an event).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    rules: Vec<FilterRule>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleEntry {
    name: String,
    #[serde(default)]
    dataset: Option<String>,
    when: Map<String, Value>,
}

impl Filters {
    /// Parses and checks the rules (a JSON array); the error names the rule
    /// (its position and name) and the field.
    pub fn parse(text: &str) -> Result<Filters, String> {
        let entries: Vec<RuleEntry> = serde_json::from_str(text).map_err(|e| {
            format!("expected a JSON array of {{\"name\", \"dataset\", \"when\"}} objects: {e}")
        })?;
        if entries.len() > MAX_RULES {
            return Err(format!(
                "{} rules; at most {MAX_RULES} (each is a metric of its own)",
                entries.len()
            ));
        }
        let mut rules: Vec<FilterRule> = Vec::with_capacity(entries.len());
        for (i, entry) in entries.into_iter().enumerate() {
            let rule =
                parse_rule(&entry).map_err(|why| format!("rule {i} ({}): {why}", entry.name))?;
            if let Some(j) = rules.iter().position(|r| r.name == rule.name) {
                return Err(format!(
                    "rule {i} ({}): the name is already used by rule {j}",
                    rule.name
                ));
            }
            rules.push(rule);
        }
        Ok(Filters { rules })
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    pub fn rules(&self) -> &[FilterRule] {
        &self.rules
    }

    /// The rules that apply to events of `dataset`, ready to test them.
    pub fn for_dataset(&self, dataset: &'static str) -> DatasetFilter<'_> {
        DatasetFilter {
            dataset,
            rules: self
                .rules
                .iter()
                .enumerate()
                .filter(|(_, r)| r.applies_to(dataset))
                .collect(),
        }
    }
}

/// The rules of one dataset, with their index in [`Filters::rules`].
#[derive(Debug, Clone)]
pub struct DatasetFilter<'f> {
    dataset: &'static str,
    rules: Vec<(usize, &'f FilterRule)>,
}

impl DatasetFilter<'_> {
    pub fn dataset(&self) -> &'static str {
        self.dataset
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The index (in [`Filters::rules`]) of the first rule that drops `ev`.
    pub fn matching(&self, ev: &ParsedEvent<'_>, ctx: &ObjectContext) -> Option<usize> {
        self.rules
            .iter()
            .find(|(_, rule)| rule.matches(ev, ctx))
            .map(|(i, _)| *i)
    }
}

fn parse_rule(entry: &RuleEntry) -> Result<FilterRule, String> {
    let name = entry.name.as_str();
    let name_ok = (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if !name_ok {
        return Err(
            "a rule's name is 1-64 characters of [A-Za-z0-9_.-] (it names a metric)".into(),
        );
    }
    let dataset = match &entry.dataset {
        None => None,
        Some(d) => Some(dataset_named(d).ok_or_else(|| {
            let known: Vec<&str> = FORMATS.iter().map(|f| f.dataset).collect();
            format!("unknown dataset {d:?} (known: {})", known.join(", "))
        })?),
    };
    if entry.when.is_empty() {
        return Err("\"when\" has no condition (a rule without one would drop every event)".into());
    }
    let def = dataset.and_then(|d| FORMATS.iter().find(|f| f.dataset == d));
    let mut conditions = Vec::with_capacity(entry.when.len());
    for (field, spec) in &entry.when {
        if NOT_FILTERABLE.contains(&field.as_str()) {
            return Err(format!(
                "field {field:?} is set per record or per invocation, not by the event; it cannot be filtered on"
            ));
        }
        let known = match (dataset, def) {
            (Some(_), def) => known_field(def, field),
            (None, _) => {
                COMMON_FIELDS.contains(&field.as_str())
                    || FORMATS.iter().any(|d| known_field(Some(d), field))
            }
        };
        if !known {
            let of = dataset.map_or("any dataset".to_string(), |d| d.to_string());
            return Err(format!(
                "unknown field {field:?}: not a field of {of} (see the Records section of the README)"
            ));
        }
        let test = parse_test(spec).map_err(|why| format!("field {field:?}: {why}"))?;
        conditions.push(Condition {
            field: field.clone(),
            test,
        });
    }
    let rule = FilterRule {
        name: Arc::from(name),
        dataset,
        conditions,
    };
    if dataset.is_none() && !FORMATS.iter().any(|d| rule.applies_to(d.dataset)) {
        return Err(
            "no dataset has all of its fields, so it would never apply; name its \"dataset\""
                .into(),
        );
    }
    Ok(rule)
}

/// The dataset named `name`: a dataset of the format table, or a format's
/// name (or alias) for its dataset.
pub(crate) fn dataset_named(name: &str) -> Option<&'static str> {
    FORMATS
        .iter()
        .find(|d| d.dataset == name)
        .map(|d| d.dataset)
        .or_else(|| {
            name.parse::<crate::formats::Format>()
                .ok()
                .map(|f| f.dataset())
        })
}

/// Whether events of the format `def` (unknown: none) can have `field`: a
/// common field, a path of the format's list, a member of one of its
/// `.*` paths, or a path inside one of its fields (looked up in the JSON
/// the field holds).
fn known_field(def: Option<&FormatDef>, field: &str) -> bool {
    if COMMON_FIELDS.contains(&field) {
        return true;
    }
    let Some(def) = def else { return false };
    def.fields.iter().any(|&f| match f.strip_suffix('*') {
        Some(parent) => field.len() > parent.len() && field.starts_with(parent),
        None => field
            .strip_prefix(f)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('.')),
    })
}

fn parse_test(spec: &Value) -> Result<Test, String> {
    const SHAPE: &str = "expected an object with one of \"equals\", \"one_of\", \"prefix\", \"absent\" (for example {\"equals\": \"ACCEPT\"})";
    let Some(obj) = spec.as_object() else {
        return Err(SHAPE.into());
    };
    let mut ops = obj.iter();
    let (Some((op, value)), None) = (ops.next(), ops.next()) else {
        return Err(SHAPE.into());
    };
    match op.as_str() {
        "equals" => scalar_text(value)
            .map(Test::Equals)
            .ok_or_else(|| "\"equals\" takes a string, number or boolean".into()),
        "one_of" => {
            let items = value
                .as_array()
                .filter(|a| !a.is_empty())
                .ok_or("\"one_of\" takes a non-empty list of strings, numbers or booleans")?;
            items
                .iter()
                .map(|v| {
                    scalar_text(v).ok_or_else(|| {
                        "\"one_of\" takes a non-empty list of strings, numbers or booleans"
                            .to_string()
                    })
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Test::OneOf)
        }
        "prefix" => {
            const WHAT: &str = "\"prefix\" takes a non-empty string or a non-empty list of them";
            let prefixes: Vec<String> = match value {
                Value::String(s) => vec![s.clone()],
                Value::Array(items) if !items.is_empty() => items
                    .iter()
                    .map(|v| v.as_str().map(str::to_string).ok_or(WHAT))
                    .collect::<Result<_, _>>()?,
                _ => return Err(WHAT.into()),
            };
            if prefixes.iter().any(String::is_empty) {
                return Err(format!("{WHAT} (an empty prefix matches every value)"));
            }
            Ok(Test::Prefix(prefixes))
        }
        "absent" => value
            .as_bool()
            .map(Test::Absent)
            .ok_or_else(|| "\"absent\" takes true or false".into()),
        other => Err(format!("unknown condition {other:?}; {SHAPE}")),
    }
}

/// A configured value as the text it is compared as.
fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The value of `field` in the record `ev` becomes, as text; `None` when
/// the record will not have it.
fn lookup<'e>(
    field: &str,
    ev: &'e ParsedEvent<'_>,
    ctx: &'e ObjectContext,
) -> Option<Cow<'e, str>> {
    match field {
        "@timestamp" => Some(Cow::Borrowed(
            ev.timestamp.as_deref().unwrap_or(ctx.ingested.as_str()),
        )),
        "event.dataset" => Some(Cow::Borrowed(ev.dataset)),
        "event.original" => Some(Cow::Borrowed(ev.original)),
        "aws.s3.bucket" => Some(Cow::Borrowed(ctx.bucket.as_str())),
        "aws.s3.key" => Some(Cow::Borrowed(ctx.key.as_str())),
        "log.offset" => ev.offset.map(|o| Cow::Owned(o.to_string())),
        "error.message" => ev.error.as_deref().map(Cow::Borrowed),
        _ => field_lookup(&ev.fields, field),
    }
}

/// A format's field: the path itself, else a run-time member of a `.*`
/// path, else a member inside the JSON a field holds.
fn field_lookup<'e>(fields: &'e Fields<'_>, path: &str) -> Option<Cow<'e, str>> {
    if let Some(v) = fields.get(path) {
        return value_text(v);
    }
    for (p, v) in fields.iter() {
        match v {
            FieldValue::Members(members) => {
                let Some(rest) = p
                    .strip_suffix('*')
                    .and_then(|parent| path.strip_prefix(parent))
                else {
                    continue;
                };
                for (name, raw) in members {
                    let Some(sub) = rest.strip_prefix(&**name) else {
                        continue;
                    };
                    if sub.is_empty() {
                        return json_text(raw.get());
                    }
                    if let Some(sub) = sub.strip_prefix('.') {
                        return json_lookup(raw.get(), sub);
                    }
                }
            }
            FieldValue::Raw(_) | FieldValue::Json(_) | FieldValue::JsonOwned(_) => {
                let Some(rest) = path.strip_prefix(*p).and_then(|r| r.strip_prefix('.')) else {
                    continue;
                };
                let text = match v {
                    FieldValue::Raw(r) => r.get(),
                    FieldValue::Json(s) => s,
                    FieldValue::JsonOwned(s) => s,
                    _ => continue,
                };
                return json_lookup(text, rest);
            }
            _ => {}
        }
    }
    None
}

fn value_text<'e>(v: &'e FieldValue<'_>) -> Option<Cow<'e, str>> {
    match v {
        FieldValue::Str(s) => Some(Cow::Borrowed(&**s)),
        FieldValue::I64(n) => Some(Cow::Owned(itoa::Buffer::new().format(*n).to_string())),
        FieldValue::U64(n) => Some(Cow::Owned(itoa::Buffer::new().format(*n).to_string())),
        // As the record writer writes it (serde_json), so that `equals`
        // compares with what the destination sees.
        FieldValue::F64(f) => serde_json::to_string(f)
            .ok()
            .filter(|t| t != "null")
            .map(Cow::Owned),
        FieldValue::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        FieldValue::Raw(r) => json_text(r.get()),
        FieldValue::Json(s) => json_text(s),
        FieldValue::JsonOwned(s) => json_text(s),
        FieldValue::Members(_) => None,
    }
}

/// JSON as compared text: a string unquoted (and unescaped), `null` absent,
/// anything else its text.
fn json_text(text: &str) -> Option<Cow<'_, str>> {
    let t = text.trim();
    if t == "null" {
        return None;
    }
    if let Some(inner) = t.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        if !inner.contains('\\') {
            return Some(Cow::Borrowed(inner));
        }
        return serde_json::from_str::<String>(t).ok().map(Cow::Owned);
    }
    Some(Cow::Borrowed(t))
}

/// The member at the dotted `path` inside the JSON object `text`. A key
/// that itself holds dots is found when it is the rest of the path.
fn json_lookup<'t>(text: &'t str, path: &str) -> Option<Cow<'t, str>> {
    let mut current = text;
    let mut rest = path;
    loop {
        let object: HashMap<String, &'t RawValue> = serde_json::from_str(current).ok()?;
        if let Some(v) = object.get(rest) {
            return json_text(v.get());
        }
        let (key, tail) = rest.split_once('.')?;
        current = object.get(key)?.get();
        rest = tail;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Filters, String> {
        Filters::parse(json)
    }

    fn err(json: &str) -> String {
        parse(json).unwrap_err()
    }

    fn ctx() -> ObjectContext {
        ObjectContext {
            bucket: "logs".into(),
            key: "AWSLogs/1/CloudTrail/x.json.gz".into(),
            version: String::new(),
            ingested: "2026-12-06T00:00:00.000Z".into(),
            include_original: false,
        }
    }

    const READ_ONLY: &str = r#"[{"name": "ct-read-only", "dataset": "aws.cloudtrail", "when": {
        "event.action": {"prefix": ["Describe", "List", "Get"]},
        "event.provider": {"one_of": ["ec2.amazonaws.com", "s3.amazonaws.com"]},
        "aws.cloudtrail.read_only": {"equals": true}}}]"#;

    fn cloudtrail<'a>(action: &'a str, provider: &'a str, read_only: bool) -> ParsedEvent<'a> {
        let mut ev = ParsedEvent::new("aws.cloudtrail", "{}");
        ev.fields.str("event.action", action);
        ev.fields.str("event.provider", provider);
        ev.fields.bool("aws.cloudtrail.read_only", read_only);
        ev
    }

    fn drops(filters: &Filters, ev: &ParsedEvent<'_>) -> Option<usize> {
        filters.for_dataset(ev.dataset).matching(ev, &ctx())
    }

    #[test]
    fn the_readme_examples_parse() {
        let f = parse(READ_ONLY).unwrap();
        assert_eq!(f.rules().len(), 1);
        assert_eq!(&*f.rules()[0].name, "ct-read-only");
        assert_eq!(f.rules()[0].dataset, Some("aws.cloudtrail"));
        let f = parse(
            r#"[{"name": "flow-accept", "dataset": "vpcflow", "when": {
            "event.action": {"equals": "ACCEPT"},
            "aws.vpcflow.interface_id": {"one_of": ["eni-1", "eni-2"]}}}]"#,
        )
        .unwrap();
        // A format's name stands for its dataset.
        assert_eq!(f.rules()[0].dataset, Some("aws.vpcflow"));
        assert!(parse("[]").unwrap().is_empty());
    }

    #[test]
    fn every_mistake_is_named() {
        let rule = |name: &str, dataset: &str, when: &str| {
            format!(r#"[{{"name": "{name}", "dataset": "{dataset}", "when": {when}}}]"#)
        };
        let cases = [
            ("not json".to_string(), "expected a JSON array"),
            (r#"[{"name": "a", "when": {}, "other": 1}]"#.into(), "unknown field `other`"),
            (rule("a", "aws.nothing", r#"{"message": {"equals": "x"}}"#), "rule 0 (a): unknown dataset \"aws.nothing\""),
            (rule("a", "aws.cloudtrail", r#"{"event.actoin": {"equals": "x"}}"#), "rule 0 (a): unknown field \"event.actoin\": not a field of aws.cloudtrail"),
            (rule("a", "aws.vpcflow", r#"{"aws.cloudtrail.read_only": {"equals": true}}"#), "unknown field \"aws.cloudtrail.read_only\""),
            (r#"[{"name": "a", "when": {"no.such.field": {"absent": true}}}]"#.into(), "unknown field \"no.such.field\": not a field of any dataset"),
            (r#"[{"name": "a", "when": {"aws.cloudtrail.read_only": {"equals": true}, "aws.vpcflow.interface_id": {"equals": "eni-1"}}}]"#.into(), "no dataset has all of its fields"),
            (rule("a", "text", "{}"), "rule 0 (a): \"when\" has no condition"),
            (rule("a", "text", r#"{"event.id": {"equals": "x"}}"#), "\"event.id\" is set per record"),
            (rule("a", "text", r#"{"message": "x"}"#), "field \"message\": expected an object with one of"),
            (rule("a", "text", r#"{"message": {}}"#), "field \"message\": expected an object"),
            (rule("a", "text", r#"{"message": {"equals": "x", "prefix": "y"}}"#), "expected an object with one of"),
            (rule("a", "text", r#"{"message": {"like": "x"}}"#), "unknown condition \"like\""),
            (rule("a", "text", r#"{"message": {"equals": ["x"]}}"#), "\"equals\" takes a string, number or boolean"),
            (rule("a", "text", r#"{"message": {"one_of": []}}"#), "\"one_of\" takes a non-empty list"),
            (rule("a", "text", r#"{"message": {"one_of": [{}]}}"#), "\"one_of\" takes a non-empty list"),
            (rule("a", "text", r#"{"message": {"prefix": ""}}"#), "an empty prefix matches every value"),
            (rule("a", "text", r#"{"message": {"prefix": [1]}}"#), "\"prefix\" takes a non-empty string"),
            (rule("a", "text", r#"{"message": {"absent": "yes"}}"#), "\"absent\" takes true or false"),
            (rule("has space", "text", r#"{"message": {"absent": true}}"#), "rule 0 (has space): a rule's name is 1-64 characters"),
            (rule("", "text", r#"{"message": {"absent": true}}"#), "a rule's name is 1-64"),
            (r#"[{"name": "a", "dataset": "text", "when": {"message": {"equals": "x"}}},
                 {"name": "a", "dataset": "json", "when": {"message": {"equals": "y"}}}]"#.into(), "rule 1 (a): the name is already used by rule 0"),
        ];
        for (json, want) in cases {
            let got = err(&json);
            assert!(got.contains(want), "{json}\n  got: {got}\n want: {want}");
        }
        let many: Vec<String> = (0..=MAX_RULES)
            .map(|i| format!(r#"{{"name": "r{i}", "dataset": "text", "when": {{"message": {{"equals": "{i}"}}}}}}"#))
            .collect();
        assert!(err(&format!("[{}]", many.join(","))).contains("at most 50"));
    }

    #[test]
    fn a_rule_matches_when_every_condition_holds() {
        let f = parse(READ_ONLY).unwrap();
        assert_eq!(
            drops(
                &f,
                &cloudtrail("DescribeInstances", "ec2.amazonaws.com", true)
            ),
            Some(0)
        );
        assert_eq!(
            drops(&f, &cloudtrail("ListBuckets", "s3.amazonaws.com", true)),
            Some(0)
        );
        // Each condition alone failing keeps the event.
        assert_eq!(
            drops(&f, &cloudtrail("RunInstances", "ec2.amazonaws.com", true)),
            None
        );
        assert_eq!(
            drops(&f, &cloudtrail("DescribeKey", "kms.amazonaws.com", true)),
            None
        );
        assert_eq!(
            drops(
                &f,
                &cloudtrail("DescribeInstances", "ec2.amazonaws.com", false)
            ),
            None
        );
        // A missing field is not equal to anything.
        let mut ev = ParsedEvent::new("aws.cloudtrail", "{}");
        ev.fields.str("event.action", "GetObject");
        ev.fields.str("event.provider", "s3.amazonaws.com");
        assert_eq!(drops(&f, &ev), None);
    }

    #[test]
    fn numbers_compare_by_their_json_text() {
        let f = parse(
            r#"[{"name": "https", "dataset": "vpcflow", "when": {
            "destination.port": {"one_of": [443, "8443"]}, "network.bytes": {"equals": 1.5}}}]"#,
        )
        .unwrap();
        let ev = |port: u64, bytes: f64| {
            let mut ev = ParsedEvent::new("aws.vpcflow", "");
            ev.fields.u64("destination.port", port);
            ev.fields.f64("network.bytes", bytes);
            ev
        };
        assert_eq!(drops(&f, &ev(443, 1.5)), Some(0));
        assert_eq!(drops(&f, &ev(8443, 1.5)), Some(0));
        assert_eq!(drops(&f, &ev(80, 1.5)), None);
        assert_eq!(drops(&f, &ev(443, 2.0)), None);
        let f = parse(
            r#"[{"name": "neg", "dataset": "vpcflow", "when": {"source.port": {"equals": -1}}}]"#,
        )
        .unwrap();
        let mut e = ParsedEvent::new("aws.vpcflow", "");
        e.fields.i64("source.port", -1);
        assert_eq!(drops(&f, &e), Some(0));
    }

    #[test]
    fn absent_and_present() {
        let f = parse(r#"[{"name": "no-error-code", "dataset": "aws.cloudtrail", "when": {
            "event.action": {"prefix": "Get"}, "aws.cloudtrail.error_code": {"absent": true}}},
            {"name": "with-user", "dataset": "aws.cloudtrail", "when": {"user.name": {"absent": false}}}]"#)
        .unwrap();
        let mut ev = ParsedEvent::new("aws.cloudtrail", "");
        ev.fields.str("event.action", "GetObject");
        assert_eq!(drops(&f, &ev), Some(0));
        ev.fields.str("aws.cloudtrail.error_code", "AccessDenied");
        assert_eq!(drops(&f, &ev), None);
        ev.fields.str("user.name", "alice");
        assert_eq!(drops(&f, &ev), Some(1), "the second rule drops it");
        // JSON null counts as absent.
        let null = RawValue::from_string("null".into()).unwrap();
        let mut ev = ParsedEvent::new("aws.cloudtrail", "");
        ev.fields.str("event.action", "GetObject");
        ev.fields.raw("aws.cloudtrail.error_code", &null);
        assert_eq!(drops(&f, &ev), Some(0));
    }

    #[test]
    fn the_first_matching_rule_takes_the_event() {
        let f = parse(
            r#"[
            {"name": "one", "dataset": "text", "when": {"message": {"prefix": "a"}}},
            {"name": "two", "dataset": "text", "when": {"message": {"prefix": "ab"}}}]"#,
        )
        .unwrap();
        let mut ev = ParsedEvent::new("text", "abc");
        ev.fields.str("message", "abc");
        assert_eq!(drops(&f, &ev), Some(0));
    }

    #[test]
    fn rules_apply_to_their_dataset_only() {
        let f = parse(r#"[
            {"name": "flows", "dataset": "aws.vpcflow", "when": {"source.ip": {"equals": "10.0.0.1"}}},
            {"name": "any", "when": {"source.ip": {"equals": "10.0.0.2"}}},
            {"name": "objects", "when": {"aws.s3.key": {"prefix": "tmp/"}}}]"#)
        .unwrap();
        let ev = |dataset: &'static str, ip: &'static str| {
            let mut ev = ParsedEvent::new(dataset, "");
            ev.fields.str("source.ip", ip);
            ev
        };
        assert_eq!(drops(&f, &ev("aws.vpcflow", "10.0.0.1")), Some(0));
        assert_eq!(drops(&f, &ev("aws.cloudtrail", "10.0.0.1")), None);
        // Without a dataset: every dataset that has source.ip...
        assert_eq!(drops(&f, &ev("aws.cloudtrail", "10.0.0.2")), Some(1));
        assert_eq!(drops(&f, &ev("aws.vpcflow", "10.0.0.2")), Some(1));
        let names = |d: &'static str| -> Vec<String> {
            f.for_dataset(d)
                .rules
                .iter()
                .map(|(_, r)| r.name.to_string())
                .collect()
        };
        // ...but not text, which has no such field; common fields apply everywhere.
        assert_eq!(names("text"), ["objects"]);
        assert_eq!(names("aws.vpcflow"), ["flows", "any", "objects"]);
        let mut ctx = ctx();
        ctx.key = "tmp/x.log".into();
        let line = ParsedEvent::new("text", "hello");
        assert_eq!(f.for_dataset("text").matching(&line, &ctx), Some(2));
    }

    #[test]
    fn error_events_are_kept_unless_the_rule_names_error_message() {
        let f = parse(r#"[{"name": "no-action", "dataset": "aws.vpcflow", "when": {"event.action": {"absent": true}}}]"#).unwrap();
        let mut bad = ParsedEvent::new("aws.vpcflow", "garbage");
        bad.error = Some("line 3: not a flow log record".into());
        assert_eq!(
            drops(&f, &bad),
            None,
            "an unparsed line is never dropped by accident"
        );
        let f = parse(
            r#"[{"name": "known-junk", "dataset": "aws.vpcflow", "when": {
            "error.message": {"absent": false}, "event.original": {"prefix": "garbage"}}}]"#,
        )
        .unwrap();
        assert_eq!(drops(&f, &bad), Some(0));
        let good = ParsedEvent::new("aws.vpcflow", "garbage but parsed");
        assert_eq!(drops(&f, &good), None);
    }

    #[test]
    fn members_and_nested_json_are_looked_up() {
        let f = parse(r#"[
            {"name": "bucket", "dataset": "aws.cloudtrail", "when": {"aws.cloudtrail.request_parameters.bucketName": {"equals": "tmp"}}},
            {"name": "new-member", "dataset": "aws.cloudtrail", "when": {"aws.cloudtrail.brand_new.kind": {"one_of": ["x", 2]}}},
            {"name": "debug", "dataset": "json", "when": {"json.level": {"equals": "debug"}, "json.ctx.env": {"equals": "dev"}}}]"#)
        .unwrap();
        let params = RawValue::from_string(r#"{"bucketName": "tmp", "key": "a"}"#.into()).unwrap();
        let mut ev = ParsedEvent::new("aws.cloudtrail", "");
        ev.fields.raw("aws.cloudtrail.request_parameters", &params);
        assert_eq!(drops(&f, &ev), Some(0));
        let member = RawValue::from_string(r#"{"kind": 2}"#.into()).unwrap();
        let mut ev = ParsedEvent::new("aws.cloudtrail", "");
        ev.fields
            .members("aws.cloudtrail.*", vec![("brand_new".into(), &*member)]);
        assert_eq!(drops(&f, &ev), Some(1));
        let line = r#"{"level": "debug", "ctx": {"env": "dev"}}"#;
        let mut ev = ParsedEvent::new("json", line);
        ev.fields.push("json", FieldValue::Json(line));
        assert_eq!(drops(&f, &ev), Some(2));
        let line = r#"{"level": "debug", "ctx": {"env": "prod"}}"#;
        let mut ev = ParsedEvent::new("json", line);
        ev.fields.push("json", FieldValue::Json(line));
        assert_eq!(drops(&f, &ev), None);
    }

    #[test]
    fn json_text_unquotes_strings() {
        assert_eq!(json_text(r#""a\"b""#).as_deref(), Some("a\"b"));
        assert_eq!(json_text(r#""plain""#).as_deref(), Some("plain"));
        assert_eq!(json_text("12").as_deref(), Some("12"));
        assert_eq!(json_text("true").as_deref(), Some("true"));
        assert_eq!(json_text(" null ").as_deref(), None);
        assert_eq!(json_lookup(r#"{"a.b": 1}"#, "a.b").as_deref(), Some("1"));
    }
}
