//! The normalized record: one nested, ECS-style JSON object per event, written
//! straight into a byte buffer (no `serde_json::Value`), with a deterministic
//! `event.id`.
//!
//! Formats hand over a [`ParsedEvent`] whose fields are dotted paths
//! (`source.ip`); the writer adds the fields every record has (`@timestamp`,
//! `event.id`, `aws.s3.*`, ...), sorts the paths and emits them as nested
//! objects. It also keeps every record within Firehose's per-record limit:
//! a larger event is cut (see [`RecordWriter::write`]), never dropped.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::sync::Arc;

use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

/// Firehose's limit for one record (1,000 KiB), newline included.
pub const MAX_RECORD_BYTES: usize = 1_024_000;

/// Per object, built once before parsing.
#[derive(Debug, Clone)]
pub struct ObjectContext {
    pub bucket: String,
    /// The decoded key.
    pub key: String,
    /// Version id if known, else the ETag without quotes, else empty.
    pub version: String,
    /// RFC 3339 UTC time of the invocation, for `event.ingested`.
    pub ingested: String,
    pub include_original: bool,
}

/// A field value. Borrowing where it can.
#[derive(Debug, Clone)]
pub enum FieldValue<'a> {
    Str(Cow<'a, str>),
    I64(i64),
    U64(u64),
    F64(f64),
    Bool(bool),
    /// Pass-through JSON.
    Raw(&'a RawValue),
    /// Text already known to be one valid JSON value (validated by the caller).
    Json(&'a str),
}

/// Format-specific fields as dotted paths, in any order.
#[derive(Debug, Default, Clone)]
pub struct Fields<'a> {
    entries: Vec<(&'static str, FieldValue<'a>)>,
}

impl<'a> Fields<'a> {
    pub fn new() -> Self {
        Fields::default()
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &(&'static str, FieldValue<'a>)> {
        self.entries.iter()
    }

    pub fn get(&self, path: &str) -> Option<&FieldValue<'a>> {
        self.entries
            .iter()
            .find(|(p, _)| *p == path)
            .map(|(_, v)| v)
    }

    pub fn push(&mut self, path: &'static str, v: FieldValue<'a>) {
        self.entries.push((path, v));
    }

    pub fn str(&mut self, path: &'static str, v: impl Into<Cow<'a, str>>) {
        self.push(path, FieldValue::Str(v.into()));
    }

    /// Adds the string if present and not empty.
    pub fn opt_str(&mut self, path: &'static str, v: Option<&'a str>) {
        if let Some(v) = v.filter(|s| !s.is_empty()) {
            self.str(path, v);
        }
    }

    /// Adds the string if present and not empty.
    pub fn opt_cow(&mut self, path: &'static str, v: Option<Cow<'a, str>>) {
        if let Some(v) = v.filter(|s| !s.is_empty()) {
            self.str(path, v);
        }
    }

    pub fn u64(&mut self, path: &'static str, v: u64) {
        self.push(path, FieldValue::U64(v));
    }

    pub fn i64(&mut self, path: &'static str, v: i64) {
        self.push(path, FieldValue::I64(v));
    }

    pub fn f64(&mut self, path: &'static str, v: f64) {
        self.push(path, FieldValue::F64(v));
    }

    pub fn bool(&mut self, path: &'static str, v: bool) {
        self.push(path, FieldValue::Bool(v));
    }

    pub fn raw(&mut self, path: &'static str, v: &'a RawValue) {
        self.push(path, FieldValue::Raw(v));
    }

    pub fn opt_raw(&mut self, path: &'static str, v: Option<&'a RawValue>) {
        if let Some(v) = v {
            self.raw(path, v);
        }
    }
}

/// One parsed event, as a format produces it.
#[derive(Debug, Clone)]
pub struct ParsedEvent<'a> {
    /// `aws.cloudtrail`, `json`, `text`, ...
    pub dataset: &'static str,
    /// The event's own time, RFC 3339 UTC; `None`: `@timestamp` is the ingest time.
    pub timestamp: Option<Cow<'a, str>>,
    /// The raw event, for `event.original`.
    pub original: &'a str,
    /// Byte offset of the line in the decompressed object (`log.offset`).
    pub offset: Option<u64>,
    pub fields: Fields<'a>,
    /// Set for a malformed event: becomes `error.message`; the record is still emitted.
    pub error: Option<Cow<'a, str>>,
}

impl<'a> ParsedEvent<'a> {
    /// An event with no fields yet.
    pub fn new(dataset: &'static str, original: &'a str) -> Self {
        ParsedEvent {
            dataset,
            timestamp: None,
            original,
            offset: None,
            fields: Fields::new(),
            error: None,
        }
    }
}

/// The deterministic id of the event with `ordinal` in an object version:
/// 32 lowercase hex digits (128 bits of SHA-256).
pub fn event_id(bucket: &str, key: &str, version: &str, ordinal: u64) -> String {
    id_from(&id_prefix(bucket, key, version), ordinal)
}

fn id_prefix(bucket: &str, key: &str, version: &str) -> Sha256 {
    let mut h = Sha256::new();
    // Lengths first, so that no two (bucket, key, version) triples share a prefix.
    for part in [bucket, key, version] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    h
}

fn id_from(prefix: &Sha256, ordinal: u64) -> String {
    let mut h = prefix.clone();
    h.update(ordinal.to_le_bytes());
    hex::encode(&h.finalize()[..16])
}

/// Writes normalized records for the events of one object.
pub struct RecordWriter {
    ctx: Arc<ObjectContext>,
    id_prefix: Sha256,
}

impl RecordWriter {
    pub fn new(ctx: Arc<ObjectContext>) -> Self {
        let id_prefix = id_prefix(&ctx.bucket, &ctx.key, &ctx.version);
        RecordWriter { ctx, id_prefix }
    }

    /// Writes the event with `ordinal` (its 0-based index in the object) as
    /// one line of JSON ending in `\n` into `out` (cleared first).
    ///
    /// If the record would exceed [`MAX_RECORD_BYTES`], it is written again
    /// with only the common fields, `tags: ["truncated"]` and `event.original`
    /// cut to fit; returns `true` then.
    pub fn write(&mut self, ordinal: u64, ev: &ParsedEvent<'_>, out: &mut Vec<u8>) -> bool {
        let id = id_from(&self.id_prefix, ordinal);
        out.clear();
        let mut entries = self.common(&id, ordinal, ev, ev.original, ev.fields.len() + 12);
        let has_cloud = ev.fields.iter().any(|(p, _)| p.starts_with("cloud."));
        if has_cloud {
            entries.push(("cloud.provider", FieldValue::Str(Cow::Borrowed("aws"))));
        }
        entries.extend(ev.fields.iter().cloned());
        write_nested(out, &mut entries);
        out.push(b'\n');
        if out.len() <= MAX_RECORD_BYTES {
            return false;
        }
        self.write_truncated(&id, ordinal, ev, out);
        true
    }

    fn common<'e>(
        &'e self,
        id: &'e str,
        ordinal: u64,
        ev: &'e ParsedEvent<'_>,
        original: &'e str,
        capacity: usize,
    ) -> Vec<(&'static str, FieldValue<'e>)> {
        let mut entries: Vec<(&'static str, FieldValue<'e>)> = Vec::with_capacity(capacity);
        let ts = ev.timestamp.as_deref().unwrap_or(&self.ctx.ingested);
        entries.push(("@timestamp", FieldValue::Str(Cow::Borrowed(ts))));
        entries.push(("event.id", FieldValue::Str(Cow::Borrowed(id))));
        entries.push(("event.sequence", FieldValue::U64(ordinal)));
        entries.push((
            "event.ingested",
            FieldValue::Str(Cow::Borrowed(&self.ctx.ingested)),
        ));
        entries.push(("event.dataset", FieldValue::Str(Cow::Borrowed(ev.dataset))));
        if self.ctx.include_original {
            entries.push(("event.original", FieldValue::Str(Cow::Borrowed(original))));
        }
        entries.push((
            "aws.s3.bucket",
            FieldValue::Str(Cow::Borrowed(&self.ctx.bucket)),
        ));
        entries.push(("aws.s3.key", FieldValue::Str(Cow::Borrowed(&self.ctx.key))));
        if let Some(offset) = ev.offset {
            entries.push(("log.offset", FieldValue::U64(offset)));
        }
        if let Some(err) = ev.error.as_deref() {
            entries.push(("error.message", FieldValue::Str(Cow::Borrowed(err))));
        }
        entries
    }

    fn write_truncated(&self, id: &str, ordinal: u64, ev: &ParsedEvent<'_>, out: &mut Vec<u8>) {
        // The record without the original tells how much room is left; then
        // cut the original so that its escaped form fits. Every byte removed
        // shrinks the escaped text by at least one byte, so one cut suffices.
        let write = |original: &str, out: &mut Vec<u8>| {
            out.clear();
            let mut entries = self.common(id, ordinal, ev, original, 12);
            entries.push(("tags", FieldValue::Json("[\"truncated\"]")));
            write_nested(out, &mut entries);
            out.push(b'\n');
        };
        write("", out);
        if !self.ctx.include_original {
            return;
        }
        let room = MAX_RECORD_BYTES.saturating_sub(out.len());
        let original = ev.original;
        let mut keep = floor_char_boundary(original, room);
        // A few proportional steps get close to the room; the last step
        // always shrinks, so the result fits.
        for step in 0..6 {
            let escaped = escaped_len(&original[..keep]) - 2;
            if escaped > room {
                keep = floor_char_boundary(original, keep.saturating_sub(escaped - room));
            } else if step < 5 && keep < original.len() && room - escaped > room / 200 {
                let grow = (room - escaped) * keep / escaped.max(1);
                keep = floor_char_boundary(original, keep + grow.max(1));
            } else {
                break;
            }
        }
        write(&original[..keep], out);
    }
}

/// Length of `s` as a JSON string, quotes included.
fn escaped_len(s: &str) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut c = Count(0);
    let _ = serde_json::to_writer(&mut c, s);
    c.0
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Compares dotted paths segment by segment, so that `a.b` and `a.c` sort
/// together even when `a_x` exists.
fn cmp_paths(a: &str, b: &str) -> Ordering {
    a.split('.').cmp(b.split('.'))
}

/// Writes the entries as one nested JSON object. Entries are sorted
/// (stably: of two equal paths the first pushed wins); a path that repeats,
/// or that lies under a path already written as a leaf, is dropped, so keys
/// are never duplicated.
fn write_nested(out: &mut Vec<u8>, entries: &mut [(&'static str, FieldValue<'_>)]) {
    entries.sort_by(|a, b| cmp_paths(a.0, b.0));
    out.push(b'{');
    let mut open: Vec<&str> = Vec::with_capacity(4);
    let mut first = true; // first member of the innermost open object
    let mut last_leaf: &str = "";
    for (path, value) in entries.iter() {
        if !last_leaf.is_empty()
            && (*path == last_leaf
                || (path.starts_with(last_leaf)
                    && path.as_bytes().get(last_leaf.len()) == Some(&b'.')))
        {
            continue;
        }
        if matches!(value, FieldValue::F64(f) if !f.is_finite()) {
            continue;
        }
        let segs: Vec<&str> = path.split('.').collect();
        let (parents, leaf) = segs.split_at(segs.len() - 1);
        // A leaf may not take the name of an object already open.
        if open.len() > parents.len()
            && open[..parents.len()] == *parents
            && open[parents.len()] == leaf[0]
        {
            continue;
        }
        let common = open
            .iter()
            .zip(parents.iter())
            .take_while(|(a, b)| a == b)
            .count();
        while open.len() > common {
            open.pop();
            out.push(b'}');
            first = false;
        }
        for seg in &parents[common..] {
            if !first {
                out.push(b',');
            }
            write_str(out, seg);
            out.extend_from_slice(b":{");
            open.push(seg);
            first = true;
        }
        if !first {
            out.push(b',');
        }
        write_str(out, leaf[0]);
        out.push(b':');
        write_value(out, value);
        first = false;
        last_leaf = path;
    }
    for _ in open {
        out.push(b'}');
    }
    out.push(b'}');
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    // Writing a &str into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

fn write_value(out: &mut Vec<u8>, v: &FieldValue<'_>) {
    match v {
        FieldValue::Str(s) => write_str(out, s),
        FieldValue::I64(n) => out.extend_from_slice(itoa::Buffer::new().format(*n).as_bytes()),
        FieldValue::U64(n) => out.extend_from_slice(itoa::Buffer::new().format(*n).as_bytes()),
        FieldValue::F64(f) => {
            let _ = serde_json::to_writer(&mut *out, f);
        }
        FieldValue::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        FieldValue::Raw(r) => out.extend_from_slice(r.get().as_bytes()),
        FieldValue::Json(s) => out.extend_from_slice(s.as_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(include_original: bool) -> Arc<ObjectContext> {
        Arc::new(ObjectContext {
            bucket: "b".into(),
            key: "k/x.log".into(),
            version: "v1".into(),
            ingested: "2026-11-22T20:00:00.000Z".into(),
            include_original,
        })
    }

    fn write(ev: &ParsedEvent<'_>, include_original: bool) -> (serde_json::Value, bool, usize) {
        let mut w = RecordWriter::new(ctx(include_original));
        let mut out = Vec::new();
        let truncated = w.write(3, ev, &mut out);
        assert_eq!(out.last(), Some(&b'\n'));
        assert_eq!(out.iter().filter(|b| **b == b'\n').count(), 1, "one line");
        let v = serde_json::from_slice(&out).expect("valid JSON");
        (v, truncated, out.len())
    }

    #[test]
    fn common_and_format_fields_nest_together() {
        let mut ev = ParsedEvent::new("aws.test", "raw line");
        ev.timestamp = Some("2026-01-01T00:00:00Z".into());
        ev.offset = Some(17);
        ev.fields.str("event.action", "Get");
        ev.fields.str("source.ip", "10.0.0.1");
        ev.fields.u64("source.port", 443);
        ev.fields.str("cloud.account.id", "123");
        ev.fields.bool("aws.test.flag", true);
        ev.fields.f64("aws.test.ratio", 0.5);
        ev.fields.i64("aws.test.neg", -4);
        let raw: Box<RawValue> = serde_json::from_str(r#"{"a":[1,2]}"#).unwrap();
        ev.fields.raw("aws.test.params", &raw);
        let (v, truncated, _) = write(&ev, true);
        assert!(!truncated);
        assert_eq!(v["@timestamp"], "2026-01-01T00:00:00Z");
        assert_eq!(v["event"]["action"], "Get");
        assert_eq!(v["event"]["dataset"], "aws.test");
        assert_eq!(v["event"]["sequence"], 3);
        assert_eq!(v["event"]["original"], "raw line");
        assert_eq!(v["event"]["ingested"], "2026-11-22T20:00:00.000Z");
        assert_eq!(v["event"]["id"], event_id("b", "k/x.log", "v1", 3));
        assert_eq!(v["source"]["ip"], "10.0.0.1");
        assert_eq!(v["source"]["port"], 443);
        assert_eq!(v["cloud"]["provider"], "aws");
        assert_eq!(v["cloud"]["account"]["id"], "123");
        assert_eq!(v["aws"]["s3"]["bucket"], "b");
        assert_eq!(v["aws"]["s3"]["key"], "k/x.log");
        assert_eq!(v["aws"]["test"]["flag"], true);
        assert_eq!(v["aws"]["test"]["ratio"], 0.5);
        assert_eq!(v["aws"]["test"]["neg"], -4);
        assert_eq!(v["aws"]["test"]["params"]["a"][1], 2);
        assert_eq!(v["log"]["offset"], 17);
    }

    #[test]
    fn timestamp_defaults_to_ingest_time_and_original_can_be_dropped() {
        let ev = ParsedEvent::new("text", "hello");
        let (v, _, _) = write(&ev, false);
        assert_eq!(v["@timestamp"], "2026-11-22T20:00:00.000Z");
        assert!(v["event"].get("original").is_none());
        assert!(
            v.get("cloud").is_none(),
            "no cloud.provider without cloud fields"
        );
    }

    #[test]
    fn duplicate_and_conflicting_paths_never_duplicate_keys() {
        let mut ev = ParsedEvent::new("x", "o");
        ev.fields.str("event.dataset", "overridden?");
        ev.fields.str("user", "leaf");
        ev.fields.str("user.name", "nested");
        ev.fields.str("a.bee.c", "1");
        ev.fields.str("a.bee", "2");
        ev.fields.f64("n.nan", f64::NAN);
        let mut w = RecordWriter::new(ctx(true));
        let mut out = Vec::new();
        w.write(0, &ev, &mut out);
        let text = String::from_utf8(out).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["event"]["dataset"], "x", "the writer's own field wins");
        assert_eq!(v["user"], "leaf");
        assert_eq!(text.matches("\"user\"").count(), 1);
        assert_eq!(text.matches("\"dataset\"").count(), 1);
        assert_eq!(text.matches("\"bee\"").count(), 1);
        assert!(v["n"].get("nan").is_none());
    }

    #[test]
    fn strings_are_escaped() {
        let original = "quote \" backslash \\ newline \n tab \t nul \u{0} é 😀";
        let mut ev = ParsedEvent::new("text", original);
        ev.fields.str("message", original);
        let (v, _, _) = write(&ev, true);
        assert_eq!(v["message"], original);
        assert_eq!(v["event"]["original"], original);
    }

    #[test]
    fn ids_are_deterministic_and_distinct() {
        let a = event_id("b", "k", "v", 0);
        assert_eq!(a, event_id("b", "k", "v", 0));
        assert_eq!(a.len(), 32);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        let others = [
            event_id("b", "k", "v", 1),
            event_id("b", "k", "v2", 0),
            event_id("b", "k2", "v", 0),
            event_id("b2", "k", "v", 0),
            event_id("bk", "", "v", 0),
        ];
        for o in others {
            assert_ne!(a, o);
        }
    }

    #[test]
    fn oversize_events_are_truncated_to_fit() {
        let big = "é\"".repeat(600_000); // 1.8 MB of text, escaping grows it further
        let mut ev = ParsedEvent::new("text", &big);
        ev.fields.str("message", big.as_str());
        let (v, truncated, len) = write(&ev, true);
        assert!(truncated);
        assert!(len <= MAX_RECORD_BYTES, "{len}");
        assert!(
            len > MAX_RECORD_BYTES - 64 * 1024,
            "keeps most of the event: {len}"
        );
        assert_eq!(v["tags"][0], "truncated");
        assert!(v.get("message").is_none());
        let kept = v["event"]["original"].as_str().unwrap();
        assert!(big.starts_with(kept));
    }

    #[test]
    fn oversize_without_original_keeps_common_fields() {
        let big = "x".repeat(1_100_000);
        let mut ev = ParsedEvent::new("text", "short");
        ev.fields.str("message", big.as_str());
        let (v, truncated, len) = write(&ev, false);
        assert!(truncated);
        assert!(len < 1000);
        assert_eq!(v["aws"]["s3"]["key"], "k/x.log");
    }
}
