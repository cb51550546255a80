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
    /// JSON built at run time (an OCSF array made of several fields, ...),
    /// known to be one valid JSON value.
    JsonText(String),
    /// Members whose names are only known at run time (a source's members
    /// that no mapping names), written as members of the object that holds
    /// the path's leaf: the leaf itself (conventionally `*`, see
    /// [`Fields::members`]) is not written. Keeps the paths `&'static` and
    /// the writer's shape cache valid, whatever the names.
    Members(Vec<(Cow<'a, str>, &'a RawValue)>),
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

    #[inline]
    pub fn push(&mut self, path: &'static str, v: FieldValue<'a>) {
        self.entries.push((path, v));
    }

    #[inline]
    pub fn str(&mut self, path: &'static str, v: impl Into<Cow<'a, str>>) {
        self.push(path, FieldValue::Str(v.into()));
    }

    /// Adds the string if present and not empty.
    #[inline]
    pub fn opt_str(&mut self, path: &'static str, v: Option<&'a str>) {
        if let Some(v) = v.filter(|s| !s.is_empty()) {
            self.str(path, v);
        }
    }

    /// Adds the string if present and not empty.
    #[inline]
    pub fn opt_cow(&mut self, path: &'static str, v: Option<Cow<'a, str>>) {
        if let Some(v) = v.filter(|s| !s.is_empty()) {
            self.str(path, v);
        }
    }

    #[inline]
    pub fn u64(&mut self, path: &'static str, v: u64) {
        self.push(path, FieldValue::U64(v));
    }

    #[inline]
    pub fn i64(&mut self, path: &'static str, v: i64) {
        self.push(path, FieldValue::I64(v));
    }

    #[inline]
    pub fn f64(&mut self, path: &'static str, v: f64) {
        self.push(path, FieldValue::F64(v));
    }

    #[inline]
    pub fn bool(&mut self, path: &'static str, v: bool) {
        self.push(path, FieldValue::Bool(v));
    }

    #[inline]
    pub fn raw(&mut self, path: &'static str, v: &'a RawValue) {
        self.push(path, FieldValue::Raw(v));
    }

    #[inline]
    pub fn opt_raw(&mut self, path: &'static str, v: Option<&'a RawValue>) {
        if let Some(v) = v {
            self.raw(path, v);
        }
    }

    /// Adds `members` (if any) as members of the object `path` names
    /// without its last segment: `aws.cloudtrail.*` puts them beside the
    /// other `aws.cloudtrail.` fields. The caller keeps their names apart
    /// from the paths it writes itself (a duplicate key is not dropped).
    pub fn members(&mut self, path: &'static str, members: Vec<(Cow<'a, str>, &'a RawValue)>) {
        if !members.is_empty() {
            self.push(path, FieldValue::Members(members));
        }
    }
}

/// Fields an event is given room for at first (a flow log line has 20-30,
/// an access log line 30-50).
const FIELDS_HINT: usize = 32;

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
            // Room for the fields of most events: one allocation, not a
            // series of reallocations while a line's fields are pushed.
            fields: Fields {
                entries: Vec::with_capacity(FIELDS_HINT),
            },
            error: None,
        }
    }
}

/// The deterministic id of the event with `ordinal` in an object version:
/// 32 lowercase hex digits (128 bits of SHA-256).
pub fn event_id(bucket: &str, key: &str, version: &str, ordinal: u64) -> String {
    let mut buf = [0u8; 32];
    id_from(&id_prefix(bucket, key, version), ordinal, &mut buf).to_string()
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

/// The id in `buf` (no allocation per record).
fn id_from<'b>(prefix: &Sha256, ordinal: u64, buf: &'b mut [u8; 32]) -> &'b str {
    let mut h = prefix.clone();
    h.update(ordinal.to_le_bytes());
    // 16 bytes always fit 32 hex digits, and hex digits are ASCII.
    let _ = hex::encode_to_slice(&h.finalize()[..16], &mut buf[..]);
    std::str::from_utf8(&buf[..]).unwrap_or_default()
}

/// Writes normalized records for the events of one object.
///
/// Holds its scratch space, so that writing a record allocates nothing once
/// the buffers have grown: the list of paths, the sorted order of the last
/// event's paths (events of one format mostly repeat the same paths, so the
/// sort is usually skipped) and the stack of open objects.
pub struct RecordWriter {
    ctx: Arc<ObjectContext>,
    /// Where the writer's own fields go: ECS or OCSF paths.
    paths: &'static CommonPaths,
    id_prefix: Sha256,
    open: Vec<&'static str>,
    /// The layout of the current event's shape.
    cur: Shape,
    /// Layouts of other shapes seen recently (formats such as CloudTrail
    /// alternate between a few), so that switching back costs no sort.
    spare: Vec<Shape>,
    /// The next spare to give up when all are taken.
    evict: usize,
}

/// The paths of the writer's own fields in one schema (`None`: not written).
#[derive(Debug)]
pub struct CommonPaths {
    timestamp: Option<&'static str>,
    id: &'static str,
    sequence: &'static str,
    ingested: Option<&'static str>,
    dataset: &'static str,
    original: &'static str,
    bucket: &'static str,
    key: &'static str,
    offset: &'static str,
    error: &'static str,
    tags: &'static str,
    /// `cloud.provider`, added when the format sets any `cloud.*` field.
    cloud_provider: Option<&'static str>,
    /// Leaves a format may not write, because the writer's fields live in
    /// objects of those names.
    reserved: &'static [&'static str],
}

/// ECS: the record schema without `OUTPUT_SCHEMA`.
pub static ECS_PATHS: CommonPaths = CommonPaths {
    timestamp: Some("@timestamp"),
    id: "event.id",
    sequence: "event.sequence",
    ingested: Some("event.ingested"),
    dataset: "event.dataset",
    original: "event.original",
    bucket: "aws.s3.bucket",
    key: "aws.s3.key",
    offset: "log.offset",
    error: "error.message",
    tags: "tags",
    cloud_provider: Some("cloud.provider"),
    reserved: &["event", "aws", "aws.s3", "log", "error", "cloud"],
};

/// OCSF: the event's time, class and cloud are written by `ocsf::Converter`.
pub static OCSF_PATHS: CommonPaths = CommonPaths {
    timestamp: None,
    id: "metadata.uid",
    sequence: "metadata.sequence",
    ingested: None,
    dataset: "metadata.log_name",
    original: "raw_data",
    bucket: "unmapped.aws.s3.bucket",
    key: "unmapped.aws.s3.key",
    offset: "unmapped.log.offset",
    error: "message",
    tags: "unmapped.tags",
    cloud_provider: None,
    reserved: &[
        "metadata",
        "unmapped",
        "unmapped.aws",
        "unmapped.aws.s3",
        "unmapped.log",
    ],
};

/// Shapes kept besides the current one.
const SPARE_SHAPES: usize = 15;

/// Everything derived from one event shape (its field paths by address and
/// whether it has an offset and an error): the entries, their sorted
/// layout, the rendered keys. An event of the same shape reuses it as is.
#[derive(Default)]
struct Shape {
    entries: Vec<(&'static str, Src)>,
    sorted_paths: Vec<&'static str>,
    sorted_order: Vec<u32>,
    /// The entries in path order, each split into parent segments and leaf
    /// once (not per record); rebuilt when the sort order changes.
    layout: Vec<Slot>,
    /// Parent segments of the slots; equal segments of neighbouring slots
    /// share one pointer, so that comparing them is a pointer comparison.
    segments: Vec<&'static str>,
    /// Rendered keys of the slots.
    keys: Vec<u8>,
    shape: Vec<(usize, usize)>,
    shape_flags: (bool, bool),
    shape_valid: bool,
    /// The record compiled for this layout (see [`Skeleton`]); rebuilt
    /// with the layout.
    skeleton: Skeleton,
}

/// A layout compiled into the bytes between its values: each step says
/// which entry's value comes next and the bytes before it (commas, keys,
/// braces of the objects opened and closed), so that writing a record is
/// copying those bytes and writing the values, with no path handled.
/// It holds for records whose values are present where the record it was
/// compiled from had them (and of the same kind); any other record takes
/// the general path, which gives the same bytes.
#[derive(Default)]
struct Skeleton {
    compiled: bool,
    steps: Vec<Step>,
    bytes: Vec<u8>,
    /// Bytes after the last value: the closing braces.
    tail: (u32, u32),
}

#[derive(Debug, Clone, Copy)]
struct Step {
    entry: u32,
    /// Whether the value is written (an absent value must stay absent).
    present: bool,
    /// `Members`: written as members of the open object, not under a key.
    members: bool,
    /// For members: whether they open the object (no comma before the first).
    first: bool,
    before: (u32, u32),
}

impl Shape {
    /// Whether `ev` has this shape, so that the entries built for it apply.
    fn matches(&self, ev: &ParsedEvent<'_>) -> bool {
        self.shape_valid
            && self.shape_flags == (ev.offset.is_some(), ev.error.is_some())
            && self.shape.len() == ev.fields.len()
            && self
                .shape
                .iter()
                .zip(ev.fields.iter())
                .all(|(&(ptr, len), (p, _))| p.as_ptr() as usize == ptr && p.len() == len)
    }
}

/// One entry of the layout.
#[derive(Debug, Clone, Copy)]
struct Slot {
    /// Index into `entries` (whose source may change between events of the
    /// same paths).
    entry: u32,
    leaf: &'static str,
    /// `"leaf":`, rendered once, at `keys[key.0..key.1]`.
    key: (u32, u32),
    /// Whether an earlier entry's path equals this one or holds it (only
    /// then can the entry be a duplicate to drop).
    may_collide: bool,
    /// `segments[segs.0..segs.1]` are the parent objects, outermost first.
    segs: (u32, u32),
}

/// Where the value of an entry comes from: the writer's own fields, or the
/// format's field with that index.
#[derive(Debug, Clone, Copy)]
enum Src {
    Timestamp,
    Id,
    Sequence,
    Ingested,
    Dataset,
    Original,
    Bucket,
    Key,
    Offset,
    Error,
    CloudProvider,
    Tags,
    Field(u32),
}

impl Src {
    /// Whether the value is the same in every record of one writer (one
    /// object) and always present.
    fn is_constant(self) -> bool {
        matches!(
            self,
            Src::Bucket | Src::Key | Src::Ingested | Src::CloudProvider
        )
    }
}

/// The values the writer's own fields take for one record.
struct Common<'e> {
    ev: &'e ParsedEvent<'e>,
    ctx: &'e ObjectContext,
    id: &'e str,
    ordinal: u64,
    original: &'e str,
}

impl RecordWriter {
    pub fn new(ctx: Arc<ObjectContext>) -> Self {
        let id_prefix = id_prefix(&ctx.bucket, &ctx.key, &ctx.version);
        RecordWriter {
            ctx,
            paths: &ECS_PATHS,
            id_prefix,
            open: Vec::with_capacity(8),
            cur: Shape::default(),
            spare: Vec::new(),
            evict: 0,
        }
    }

    /// The same writer with its own fields at `paths` (OCSF's).
    pub fn with_paths(mut self, paths: &'static CommonPaths) -> Self {
        self.paths = paths;
        self
    }

    /// Writes the event with `ordinal` (its 0-based index in the object) as
    /// one line of JSON ending in `\n` into `out` (cleared first).
    ///
    /// If the record would exceed [`MAX_RECORD_BYTES`], it is written again
    /// with only the common fields, `tags: ["truncated"]` and `event.original`
    /// cut to fit (even when `include_original` is off: the cut raw text is
    /// all that is left of the event); returns `true` then.
    pub fn write(&mut self, ordinal: u64, ev: &ParsedEvent<'_>, out: &mut Vec<u8>) -> bool {
        let mut id_buf = [0u8; 32];
        let id = id_from(&self.id_prefix, ordinal, &mut id_buf);
        let ctx = Arc::clone(&self.ctx);
        let common = Common {
            ev,
            ctx: &ctx,
            id,
            ordinal,
            original: ev.original,
        };
        out.clear();
        if !self.select_shape(ev) {
            self.common_entries(ev, false);
            if let Some(provider) = self.paths.cloud_provider {
                if ev.fields.iter().any(|(p, _)| p.starts_with("cloud.")) {
                    self.cur.entries.push((provider, Src::CloudProvider));
                }
            }
            for (i, (path, _)) in ev.fields.iter().enumerate() {
                // The writer's own fields win: a format's leaf may not take the
                // name of an object they live in (a leaf sorts first and would
                // otherwise hide them).
                if self.paths.reserved.contains(path) {
                    continue;
                }
                // More than u32::MAX fields cannot fit in a record anyway.
                self.cur.entries.push((path, Src::Field(i as u32)));
            }
            self.remember_shape(ev);
        }
        self.write_nested(out, &common);
        out.push(b'\n');
        if out.len() <= MAX_RECORD_BYTES {
            return false;
        }
        self.write_truncated(&common, out);
        true
    }

    /// Makes `ev`'s shape the current one: already current, or taken from
    /// the spares; returns false when it must be built (in fresh buffers or
    /// those of the oldest spare).
    fn select_shape(&mut self, ev: &ParsedEvent<'_>) -> bool {
        if self.cur.matches(ev) {
            return true;
        }
        if let Some(i) = self.spare.iter().position(|s| s.matches(ev)) {
            std::mem::swap(&mut self.cur, &mut self.spare[i]);
            return true;
        }
        let fresh = if self.spare.len() < SPARE_SHAPES {
            Shape::default()
        } else {
            self.evict = (self.evict + 1) % SPARE_SHAPES;
            std::mem::take(&mut self.spare[self.evict])
        };
        let old = std::mem::replace(&mut self.cur, fresh);
        if old.shape_valid {
            if self.spare.len() < SPARE_SHAPES {
                self.spare.push(old);
            } else {
                self.spare[self.evict] = old;
            }
        }
        false
    }

    fn remember_shape(&mut self, ev: &ParsedEvent<'_>) {
        self.cur.shape.clear();
        self.cur.shape.extend(
            ev.fields
                .iter()
                .map(|(p, _)| (p.as_ptr() as usize, p.len())),
        );
        self.cur.shape_flags = (ev.offset.is_some(), ev.error.is_some());
        self.cur.shape_valid = true;
    }

    fn common_entries(&mut self, ev: &ParsedEvent<'_>, keep_original: bool) {
        let p = self.paths;
        let e = &mut self.cur.entries;
        e.clear();
        if let Some(path) = p.timestamp {
            e.push((path, Src::Timestamp));
        }
        e.push((p.id, Src::Id));
        e.push((p.sequence, Src::Sequence));
        if let Some(path) = p.ingested {
            e.push((path, Src::Ingested));
        }
        e.push((p.dataset, Src::Dataset));
        // A malformed event has nothing but its raw text: always keep it.
        if keep_original || self.ctx.include_original || ev.error.is_some() {
            e.push((p.original, Src::Original));
        }
        e.push((p.bucket, Src::Bucket));
        e.push((p.key, Src::Key));
        if ev.offset.is_some() {
            e.push((p.offset, Src::Offset));
        }
        if ev.error.is_some() {
            e.push((p.error, Src::Error));
        }
    }

    fn write_truncated(&mut self, common: &Common<'_>, out: &mut Vec<u8>) {
        // The record without the original tells how much room is left; then
        // cut the original so that its escaped form fits. Every byte removed
        // shrinks the escaped text by at least one byte, so one cut suffices.
        let write = |this: &mut Self, original: &str, out: &mut Vec<u8>| {
            out.clear();
            this.cur.shape_valid = false;
            // The cut raw text is all that is left of the event's fields:
            // kept whatever INCLUDE_EVENT_ORIGINAL says.
            this.common_entries(common.ev, true);
            this.cur.entries.push((this.paths.tags, Src::Tags));
            let c = Common {
                original,
                ..*common
            };
            this.write_nested(out, &c);
            out.push(b'\n');
        };
        write(self, "", out);
        let room = MAX_RECORD_BYTES.saturating_sub(out.len());
        let original = common.original;
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
        write(self, &original[..keep], out);
    }

    /// The entries in path order, as indices into `self.cur.entries`: the order
    /// of the previous record when the paths are the same, else sorted anew
    /// (stably, so that of two equal paths the first pushed wins).
    fn sort_entries(&mut self) {
        let same = self.cur.sorted_paths.len() == self.cur.entries.len()
            && self
                .cur
                .sorted_paths
                .iter()
                .zip(&self.cur.entries)
                .all(|(a, (b, _))| same_path(a, b));
        if same {
            return;
        }
        self.cur.sorted_paths.clear();
        self.cur
            .sorted_paths
            .extend(self.cur.entries.iter().map(|(p, _)| *p));
        self.cur.sorted_order.clear();
        self.cur
            .sorted_order
            .extend(0..self.cur.entries.len() as u32);
        let paths = &self.cur.sorted_paths;
        self.cur
            .sorted_order
            .sort_by(|a, b| cmp_paths(paths[*a as usize], paths[*b as usize]));
        self.build_layout();
    }

    /// Splits every sorted entry into parent segments and leaf.
    fn build_layout(&mut self) {
        self.cur.skeleton.compiled = false;
        self.cur.layout.clear();
        self.cur.segments.clear();
        self.cur.keys.clear();
        let mut prev: (u32, u32) = (0, 0);
        for &i in &self.cur.sorted_order {
            let path = self.cur.entries[i as usize].0;
            let (parent, leaf) = match path.rsplit_once('.') {
                Some((p, l)) => (p, l),
                None => ("", path),
            };
            let start = self.cur.segments.len() as u32;
            if !parent.is_empty() {
                for (d, seg) in parent.split('.').enumerate() {
                    // Reuse the neighbour's pointer for an equal segment at
                    // the same depth under equal parents.
                    let same_prefix = (d as u32) < prev.1 - prev.0
                        && (d == 0
                            || std::ptr::eq(
                                self.cur.segments[(prev.0 as usize) + d - 1],
                                self.cur.segments[start as usize + d - 1],
                            ));
                    let candidate = same_prefix.then(|| self.cur.segments[prev.0 as usize + d]);
                    match candidate {
                        Some(c) if c == seg => self.cur.segments.push(c),
                        _ => self.cur.segments.push(seg),
                    }
                }
            }
            let segs = (start, self.cur.segments.len() as u32);
            let key_start = self.cur.keys.len() as u32;
            write_key(&mut self.cur.keys, leaf);
            let key = (key_start, self.cur.keys.len() as u32);
            let may_collide = self.cur.layout.iter().any(|earlier| {
                let p = self.cur.entries[earlier.entry as usize].0;
                path == p || (path.starts_with(p) && path.as_bytes().get(p.len()) == Some(&b'.'))
            });
            self.cur.layout.push(Slot {
                entry: i,
                leaf,
                key,
                may_collide,
                segs,
            });
            prev = segs;
        }
    }

    /// Writes the entries as one nested JSON object: through the layout's
    /// compiled skeleton when the record fits it, else by
    /// [`RecordWriter::write_general`] (which also compiles the skeleton the
    /// first time a layout is written).
    fn write_nested(&mut self, out: &mut Vec<u8>, c: &Common<'_>) {
        self.sort_entries();
        if self.cur.skeleton.compiled && self.write_skeleton(out, c) {
            return;
        }
        let compile = !self.cur.skeleton.compiled;
        self.write_general(out, c, compile);
    }

    /// Writes the record by the compiled skeleton; `false` (and nothing
    /// written) when a value's presence or kind differs from the record
    /// the skeleton was compiled from.
    fn write_skeleton(&mut self, out: &mut Vec<u8>, c: &Common<'_>) -> bool {
        let sk = &self.cur.skeleton;
        let start = out.len();
        for step in &sk.steps {
            let (_, src) = self.cur.entries[step.entry as usize];
            let mut owned = None;
            let value = present_value(src, c, &mut owned);
            let fits = match value {
                None => !step.present,
                Some(FieldValue::Members(_)) => step.present && step.members,
                Some(_) => step.present && !step.members,
            };
            if !fits {
                out.truncate(start);
                return false;
            }
            let Some(value) = value else { continue };
            out.extend_from_slice(&sk.bytes[step.before.0 as usize..step.before.1 as usize]);
            match value {
                FieldValue::Members(members) => {
                    for (i, (name, raw)) in members.iter().enumerate() {
                        if i > 0 || !step.first {
                            out.push(b',');
                        }
                        write_key(out, name);
                        write_json(out, raw.get());
                    }
                }
                v => write_value(out, v),
            }
        }
        out.extend_from_slice(&sk.bytes[sk.tail.0 as usize..sk.tail.1 as usize]);
        true
    }

    /// Writes the entries as one nested JSON object, path by path. A path
    /// that repeats, or that lies under a path already written as a leaf,
    /// is dropped, so keys are never duplicated: of two equal paths the
    /// writer's own (pushed first) is kept, and of a leaf and a longer path
    /// under it, the leaf. With `compile`, the bytes between the values are
    /// also kept as the layout's skeleton.
    fn write_general(&mut self, out: &mut Vec<u8>, c: &Common<'_>, compile: bool) {
        let open = &mut self.open;
        open.clear();
        let sk = &mut self.cur.skeleton;
        if compile {
            sk.steps.clear();
            sk.bytes.clear();
        }
        let start = out.len();
        // Start of the bytes not yet given to a step.
        let mut mark = start;
        let cut = |out: &Vec<u8>, sk: &mut Skeleton, mark: usize, step: Step| {
            if compile {
                let from = sk.bytes.len() as u32;
                sk.bytes.extend_from_slice(&out[mark..]);
                sk.steps.push(Step {
                    before: (from, sk.bytes.len() as u32),
                    ..step
                });
            }
        };
        out.push(b'{');
        let mut first = true; // first member of the innermost open object
        let mut last_leaf: &str = "";
        for slot in &self.cur.layout {
            let (path, src) = self.cur.entries[slot.entry as usize];
            if slot.may_collide
                && !last_leaf.is_empty()
                && (path == last_leaf
                    || (path.starts_with(last_leaf)
                        && path.as_bytes().get(last_leaf.len()) == Some(&b'.')))
            {
                continue;
            }
            let mut owned = None;
            let absent = Step {
                entry: slot.entry,
                present: false,
                members: false,
                first: false,
                before: (0, 0),
            };
            let Some(value) = present_value(src, c, &mut owned) else {
                if compile {
                    let at = sk.bytes.len() as u32;
                    sk.steps.push(Step {
                        before: (at, at),
                        ..absent
                    });
                }
                continue;
            };
            let leaf = slot.leaf;
            let parents = &self.cur.segments[slot.segs.0 as usize..slot.segs.1 as usize];
            let depth = parents.len();
            let common = open
                .iter()
                .zip(parents)
                .take_while(|(a, b)| same_path(a, b))
                .count();
            // A leaf may not take the name of an object already open.
            if common == depth && open.len() > depth && open[depth] == leaf {
                continue;
            }
            while open.len() > common {
                open.pop();
                out.push(b'}');
                first = false;
            }
            for &seg in &parents[common..] {
                if !first {
                    out.push(b',');
                }
                write_key(out, seg);
                out.push(b'{');
                open.push(seg);
                first = true;
            }
            if let FieldValue::Members(members) = value {
                cut(
                    out,
                    sk,
                    mark,
                    Step {
                        present: true,
                        members: true,
                        first,
                        ..absent
                    },
                );
                for (name, raw) in members.iter() {
                    if !first {
                        out.push(b',');
                    }
                    write_key(out, name);
                    write_json(out, raw.get());
                    first = false;
                }
            } else {
                if !first {
                    out.push(b',');
                }
                out.extend_from_slice(&self.cur.keys[slot.key.0 as usize..slot.key.1 as usize]);
                // A value that is the same in every record of the object
                // (bucket, key, ingest time) becomes part of the skeleton's
                // bytes: no step, so it is never escaped again.
                if src.is_constant() {
                    write_value(out, value);
                    first = false;
                    last_leaf = path;
                    continue;
                }
                cut(
                    out,
                    sk,
                    mark,
                    Step {
                        present: true,
                        ..absent
                    },
                );
                write_value(out, value);
                first = false;
            }
            mark = out.len();
            last_leaf = path;
        }
        for _ in open.iter() {
            out.push(b'}');
        }
        out.push(b'}');
        if compile {
            let from = sk.bytes.len() as u32;
            sk.bytes.extend_from_slice(&out[mark..]);
            sk.tail = (from, sk.bytes.len() as u32);
            sk.compiled = true;
        }
    }
}

/// The value an entry writes, `None` when it writes nothing (absent, a
/// number JSON cannot hold, no members): a format's value by reference
/// (never cloned), the writer's own in `owned`.
fn present_value<'v>(
    src: Src,
    c: &'v Common<'v>,
    owned: &'v mut Option<FieldValue<'v>>,
) -> Option<&'v FieldValue<'v>> {
    let value: &FieldValue<'_> = match src {
        Src::Field(i) => &c.ev.fields.entries.get(i as usize)?.1,
        _ => owned.insert(value_of(src, c)?),
    };
    match value {
        FieldValue::F64(f) if !f.is_finite() => None,
        FieldValue::Members(m) if m.is_empty() => None,
        v => Some(v),
    }
}

fn same_path(a: &str, b: &str) -> bool {
    // Paths are mostly the very same literals: compare pointers first.
    (a.as_ptr() == b.as_ptr() && a.len() == b.len()) || a == b
}

fn value_of<'e>(src: Src, c: &'e Common<'e>) -> Option<FieldValue<'e>> {
    let s = |s: &'e str| Some(FieldValue::Str(Cow::Borrowed(s)));
    match src {
        Src::Timestamp => s(c.ev.timestamp.as_deref().unwrap_or(&c.ctx.ingested)),
        Src::Id => s(c.id),
        Src::Sequence => Some(FieldValue::U64(c.ordinal)),
        Src::Ingested => s(&c.ctx.ingested),
        Src::Dataset => s(c.ev.dataset),
        Src::Original => s(c.original),
        Src::Bucket => s(&c.ctx.bucket),
        Src::Key => s(&c.ctx.key),
        Src::Offset => c.ev.offset.map(FieldValue::U64),
        Src::Error => c.ev.error.as_deref().and_then(s),
        Src::CloudProvider => s("aws"),
        Src::Tags => Some(FieldValue::Json("[\"truncated\"]")),
        // Written by reference (see `write_nested`).
        Src::Field(_) => None,
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
/// together even when `a_x` exists: the same as comparing the bytes with
/// the dot below every other byte.
fn cmp_paths(a: &str, b: &str) -> Ordering {
    let key = |c: u8| if c == b'.' { 0u16 } else { c as u16 + 1 };
    a.bytes().map(key).cmp(b.bytes().map(key))
}

/// `"key":`. Keys are path segments from the code, plain ASCII in practice,
/// written without the escaper when they need no escaping.
fn write_key(out: &mut Vec<u8>, key: &str) {
    if key
        .bytes()
        .all(|b| b >= 0x20 && b != b'"' && b != b'\\' && b < 0x7f)
    {
        out.push(b'"');
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(b"\":");
    } else {
        write_str(out, key);
        out.push(b':');
    }
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    let b = s.as_bytes();
    // Most values need no escaping: one branch-free pass finds out (it
    // vectorizes), then one copy.
    let plain = !b.iter().fold(false, |acc, &c| {
        acc | (c < 0x20) | (c == b'"') | (c == b'\\')
    });
    if plain {
        out.reserve(b.len() + 2);
        out.push(b'"');
        out.extend_from_slice(b);
        out.push(b'"');
    } else {
        // Writing a &str into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, s);
    }
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
        FieldValue::Raw(r) => write_json(out, r.get()),
        FieldValue::Json(s) => write_json(out, s),
        FieldValue::JsonText(s) => write_json(out, s),
        FieldValue::Members(members) => {
            // Only reached outside `write_nested`: as an object.
            out.push(b'{');
            for (i, (name, raw)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_key(out, name);
                write_json(out, raw.get());
            }
            out.push(b'}');
        }
    }
}

/// Valid JSON text without whitespace between tokens, as [`write_json`]
/// writes it: borrowed when it already is compact.
pub fn compact_json(json: &str) -> Cow<'_, str> {
    if is_compact(json.as_bytes()) {
        return Cow::Borrowed(json);
    }
    let mut out = Vec::with_capacity(json.len());
    write_json(&mut out, json);
    // Only ASCII whitespace between tokens was left out: still UTF-8.
    match String::from_utf8(out) {
        Ok(s) => Cow::Owned(s),
        Err(_) => Cow::Borrowed(json),
    }
}

/// Writes valid JSON text compact: whitespace between tokens (a source's
/// pretty-printing, CRLF line ends, tabs) is left out, so that a record is
/// always one line. Text with no such whitespace, the rule for machine-written
/// logs, is copied as it is after one scan.
fn write_json(out: &mut Vec<u8>, json: &str) {
    let b = json.as_bytes();
    if is_compact(b) {
        out.extend_from_slice(b);
        return;
    }
    out.reserve(b.len());
    let mut i = 0;
    let mut run = 0; // start of the bytes not yet copied
    while i < b.len() {
        match b[i] {
            b'"' => {
                // Jump over the string: to its closing quote, past escapes.
                i += 1;
                while let Some(j) = memchr::memchr2(b'"', b'\\', &b[i..]) {
                    i += j;
                    if b[i] == b'\\' {
                        i += 2;
                    } else {
                        break;
                    }
                }
                i += 1;
            }
            b' ' | b'\n' | b'\r' | b'\t' => {
                out.extend_from_slice(&b[run..i]);
                while i < b.len() && matches!(b[i], b' ' | b'\n' | b'\r' | b'\t') {
                    i += 1;
                }
                run = i;
            }
            _ => i += 1,
        }
    }
    out.extend_from_slice(&b[run.min(b.len())..]);
}

/// Whether valid JSON text has no whitespace between tokens. Inside strings
/// only spaces may appear (control characters are escaped), and whitespace
/// between tokens always touches a structural character, a quote or more
/// whitespace: so text whose spaces all sit between other bytes is compact.
/// May answer `false` for compact text (a space next to a quote inside a
/// string); never `true` for text that is not.
fn is_compact(b: &[u8]) -> bool {
    if memchr::memchr3(b'\n', b'\r', b'\t', b).is_some() {
        return false;
    }
    let loose = |c: u8| matches!(c, b' ' | b'{' | b'}' | b'[' | b']' | b',' | b':' | b'"');
    memchr::memchr_iter(b' ', b)
        .all(|i| i > 0 && i + 1 < b.len() && !loose(b[i - 1]) && !loose(b[i + 1]))
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

    #[test]
    fn compact_json_borrows_compact_text_and_keeps_strings() {
        assert!(matches!(compact_json(r#"{"a":[1,2]}"#), Cow::Borrowed(_)));
        let pretty = "{\n\t\"a b\": [ 1, \"x : y\" ],\r\n \"c\": {} }";
        assert_eq!(compact_json(pretty), r#"{"a b":[1,"x : y"],"c":{}}"#);
    }

    /// A writer reused over events of one shape (the skeleton path) writes
    /// the same bytes as a fresh writer per event (the general path), when
    /// values come and go, change kind, or collide.
    #[test]
    fn the_compiled_skeleton_writes_what_the_general_path_writes() {
        let raw: Vec<Box<RawValue>> = ["1", "\"x\"", "{\"a\":[1]}"]
            .iter()
            .map(|j| RawValue::from_string(j.to_string()).unwrap())
            .collect();
        let mut reused = RecordWriter::new(ctx(false));
        for round in 0..24u64 {
            let mut ev = ParsedEvent::new("aws.test", "line");
            ev.timestamp = (round % 3 != 0).then_some(Cow::Borrowed("2026-11-22T20:55:04Z"));
            ev.offset = (round % 4 != 1).then_some(round * 10);
            ev.fields.str("source.ip", "10.0.0.1");
            ev.fields.f64(
                "aws.test.ratio",
                if round % 5 == 2 { f64::NAN } else { 0.5 },
            );
            ev.fields.u64("source.port", 443);
            // A leaf and a longer path under it: the leaf wins.
            ev.fields.str("aws.test.nested", "leaf");
            ev.fields.str("aws.test.nested.inner", "dropped");
            let members: Vec<(Cow<'_, str>, &RawValue)> = raw
                .iter()
                .take((round % 4) as usize)
                .enumerate()
                .map(|(i, r)| (Cow::Owned(format!("m{i}")), &**r))
                .collect();
            ev.fields.members("aws.test.*", members);
            if round % 6 == 5 {
                ev.fields.str("aws.test.ratio", "now a string");
            }
            ev.fields.str("destination.ip", "10.0.0.2");
            let mut fast = Vec::new();
            reused.write(round, &ev, &mut fast);
            let mut general = Vec::new();
            RecordWriter::new(ctx(false)).write(round, &ev, &mut general);
            assert_eq!(
                String::from_utf8_lossy(&fast),
                String::from_utf8_lossy(&general),
                "round {round}"
            );
        }
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

    /// One writer over events of many shapes, switching back and forth and
    /// past the number of spare shapes, writes exactly what a fresh writer
    /// writes for each event.
    #[test]
    fn switching_between_event_shapes_changes_nothing_in_the_records() {
        const PATHS: [&str; 6] = [
            "source.ip",
            "source.port",
            "event.action",
            "aws.test.a",
            "aws.test.b.c",
            "destination.ip",
        ];
        let mut w = RecordWriter::new(ctx(true));
        let mut shared = Vec::new();
        let mut fresh = Vec::new();
        for n in 0..400u64 {
            // A shape per subset of the paths and offset or not: first few
            // enough to stay among the spares, then more than there are
            // spares, so that shapes are given up and built again.
            let mask = if n < 200 { n * 5 % 8 } else { n * 37 % 64 } as usize;
            let mut ev = ParsedEvent::new("aws.test", "line");
            if n % 3 == 0 {
                ev.offset = Some(n);
            }
            for (i, p) in PATHS.iter().enumerate() {
                if mask & (1 << i) != 0 {
                    ev.fields.u64(p, n + i as u64);
                }
            }
            w.write(n, &ev, &mut shared);
            RecordWriter::new(ctx(true)).write(n, &ev, &mut fresh);
            assert_eq!(
                String::from_utf8_lossy(&shared),
                String::from_utf8_lossy(&fresh),
                "event {n}"
            );
        }
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
    fn oversize_without_original_keeps_common_fields_and_the_cut_original() {
        let big = "x".repeat(1_100_000);
        let mut ev = ParsedEvent::new("text", "short");
        ev.fields.str("message", big.as_str());
        let (v, truncated, len) = write(&ev, false);
        assert!(truncated);
        assert!(len < 1000);
        assert_eq!(v["aws"]["s3"]["key"], "k/x.log");
        assert_eq!(v["event"]["original"], "short");
        let mut ev = ParsedEvent::new("text", &big);
        ev.fields.str("message", big.as_str());
        let (v, truncated, len) = write(&ev, false);
        assert!(truncated && len <= MAX_RECORD_BYTES);
        assert!(v["event"]["original"].as_str().unwrap().len() > 900_000);
    }

    /// Parses JSON and fails on a key that repeats within one object
    /// (`serde_json::Value` would silently keep the last).
    fn assert_no_duplicate_keys(json: &[u8]) {
        use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
        struct Check;
        impl<'de> Deserialize<'de> for Check {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_any(Check)
            }
        }
        impl<'de> Visitor<'de> for Check {
            type Value = Check;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("JSON")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Check, A::Error> {
                let mut seen = std::collections::HashSet::new();
                while let Some(k) = m.next_key::<String>()? {
                    if !seen.insert(k.clone()) {
                        return Err(serde::de::Error::custom(format!("duplicate key {k}")));
                    }
                    m.next_value::<Check>()?;
                }
                Ok(Check)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Check, A::Error> {
                while s.next_element::<Check>()?.is_some() {}
                Ok(Check)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Check, E> {
                Ok(Check)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Check, E> {
                Ok(Check)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Check, E> {
                Ok(Check)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Check, E> {
                Ok(Check)
            }
            fn visit_str<E>(self, _: &str) -> Result<Check, E> {
                Ok(Check)
            }
            fn visit_unit<E>(self) -> Result<Check, E> {
                Ok(Check)
            }
        }
        if let Err(e) = serde_json::from_slice::<Check>(json) {
            panic!("{e}: {}", String::from_utf8_lossy(json));
        }
    }

    #[test]
    fn the_same_writer_keeps_records_apart() {
        // The sort order is reused between records with the same paths: a
        // record with other paths must not inherit it.
        let mut w = RecordWriter::new(ctx(false));
        let mut out = Vec::new();
        let mut a = ParsedEvent::new("x", "");
        a.fields.str("z.last", "1");
        a.fields.str("a.first", "2");
        let mut b = ParsedEvent::new("x", "");
        b.fields.str("a.first", "3");
        b.fields.str("z.last", "4");
        b.error = Some("bad".into());
        for (ev, want) in [(&a, "1"), (&a, "1"), (&b, "4"), (&a, "1")] {
            w.write(0, ev, &mut out);
            assert_no_duplicate_keys(&out);
            let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
            assert_eq!(v["z"]["last"], want);
            assert_eq!(v.get("error").is_some(), ev.error.is_some());
        }
    }

    #[test]
    fn pass_through_json_is_written_compact() {
        let cases = [
            (
                "{\r\n\t\"a\" : [ 1 , 2 ],\n  \"b c\": \" x \\\" y \"\n}",
                r#"{"a":[1,2],"b c":" x \" y "}"#,
            ),
            (
                r#"{"ua":"aws-cli/2 Python/3","n":1}"#,
                r#"{"ua":"aws-cli/2 Python/3","n":1}"#,
            ),
            ("[ ]", "[]"),
            (" \"s\" ", r#""s""#),
        ];
        for (input, want) in cases {
            let mut out = Vec::new();
            write_json(&mut out, input);
            assert_eq!(String::from_utf8_lossy(&out), want, "{input:?}");
        }
    }

    #[test]
    fn members_with_run_time_names_join_their_object() {
        let a: Box<RawValue> = serde_json::from_str("{\n \"x\": 1\n}").unwrap();
        let b: Box<RawValue> = serde_json::from_str("\"v\"").unwrap();
        let mut ev = ParsedEvent::new("x", "");
        ev.fields.str("aws.x.known", "k");
        ev.fields.members(
            "aws.x.*",
            vec![("newMember".into(), &a), ("we\"ird".into(), &b)],
        );
        ev.fields.members("aws.y.*", Vec::new());
        ev.fields.str("aws.x.z", "z");
        let mut w = RecordWriter::new(ctx(false));
        let mut out = Vec::new();
        for _ in 0..2 {
            w.write(0, &ev, &mut out);
            assert_no_duplicate_keys(&out);
            let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
            assert_eq!(v["aws"]["x"]["known"], "k");
            assert_eq!(v["aws"]["x"]["z"], "z");
            assert_eq!(v["aws"]["x"]["newMember"]["x"], 1);
            assert_eq!(v["aws"]["x"]["we\"ird"], "v");
            assert!(v["aws"].get("y").is_none());
            assert_eq!(out.iter().filter(|b| **b == b'\n').count(), 1);
        }
    }

    #[test]
    fn a_malformed_event_keeps_its_original_without_include_original() {
        let mut ev = ParsedEvent::new("x", "broken line");
        ev.error = Some("bad".into());
        let (v, _, _) = write(&ev, false);
        assert_eq!(v["event"]["original"], "broken line");
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        const PATHS: &[&str] = &[
            "message",
            "event",
            "event.action",
            "event.id",
            "event.original",
            "source.ip",
            "source",
            "source.ip.x",
            "a.b.c",
            "a.b",
            "a",
            "a_b",
            "a.b_c",
            "cloud.region",
            "aws.s3",
            "aws.s3.key.x",
            "log.offset",
            "tags",
            "error.message",
            "@timestamp",
            "weird\"key.x",
            "ünï.cøde",
        ];

        fn json_value() -> impl Strategy<Value = serde_json::Value> {
            use serde_json::Value;
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                any::<i64>().prop_map(Value::from),
                "[ a\t\n\"\\\\{}:,\\[\\]é\u{0}-\u{1f}]{0,12}".prop_map(Value::String),
            ];
            leaf.prop_recursive(4, 32, 6, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                    prop::collection::vec(("[a-z \"]{0,6}", inner), 0..5)
                        .prop_map(|kv| Value::Object(kv.into_iter().collect())),
                ]
            })
        }

        fn value() -> impl Strategy<Value = (u8, String, i64, f64)> {
            (0u8..6, ".{0,24}", any::<i64>(), any::<f64>())
        }

        proptest! {
            #[test]
            fn any_event_writes_one_valid_line_with_unique_keys(
                fields in prop::collection::vec((prop::sample::select(PATHS), value()), 0..16),
                original in ".{0,64}",
                timestamp in proptest::option::of("[0-9TZ:.-]{0,24}"),
                error in proptest::option::of(".{0,16}"),
                offset in proptest::option::of(any::<u64>()),
                include_original in any::<bool>(),
                ordinal in any::<u64>(),
            ) {
                let mut ev = ParsedEvent::new("prop", &original);
                ev.timestamp = timestamp.map(Cow::Owned);
                ev.error = error.map(Cow::Owned);
                ev.offset = offset;
                let raw: Box<RawValue> = serde_json::from_str(r#"{"k":[1,"v"]}"#).unwrap();
                for (path, (kind, s, i, f)) in &fields {
                    match kind {
                        0 => ev.fields.str(path, s.as_str()),
                        1 => ev.fields.i64(path, *i),
                        2 => ev.fields.f64(path, *f),
                        3 => ev.fields.bool(path, *i > 0),
                        4 => ev.fields.raw(path, &raw),
                        _ => ev.fields.u64(path, *i as u64),
                    }
                }
                let mut w = RecordWriter::new(ctx(include_original));
                let mut out = Vec::new();
                prop_assert!(!w.write(ordinal, &ev, &mut out));
                prop_assert_eq!(out.iter().filter(|b| **b == b'\n').count(), 1);
                prop_assert_eq!(out.last(), Some(&b'\n'));
                assert_no_duplicate_keys(&out);
                let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
                let id = event_id("b", "k/x.log", "v1", ordinal);
                prop_assert_eq!(v["event"]["id"].as_str(), Some(id.as_str()));
                prop_assert_eq!(v["event"]["sequence"].as_u64(), Some(ordinal));
                prop_assert_eq!(v["aws"]["s3"]["bucket"].as_str(), Some("b"));
                prop_assert!(v["@timestamp"].is_string());
                if include_original {
                    prop_assert_eq!(v["event"]["original"].as_str(), Some(original.as_str()));
                }
            }

            /// Pass-through JSON in any layout is written as the compact
            /// text serde_json writes.
            #[test]
            fn pass_through_json_loses_only_its_whitespace(
                v in json_value(),
                pretty in any::<bool>(),
                crlf in any::<bool>(),
                tabs in any::<bool>(),
            ) {
                let mut text = if pretty { serde_json::to_string_pretty(&v) } else { serde_json::to_string(&v) }.unwrap();
                if crlf { text = text.replace('\n', "\r\n"); }
                // Indentation only: raw newlines never occur inside strings.
                while tabs && text.contains("\n  ") { text = text.replace("\n  ", "\n\t"); }
                let mut out = Vec::new();
                write_json(&mut out, &text);
                prop_assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(&v).unwrap());
            }

            #[test]
            fn oversize_records_always_fit(len in 1_000_000usize..1_300_000, ch in prop::sample::select(vec!["a", "\"", "\u{1}", "é", "😀"])) {
                let big = ch.repeat(len / ch.len());
                let mut ev = ParsedEvent::new("prop", &big);
                ev.fields.str("message", big.as_str());
                let mut w = RecordWriter::new(ctx(true));
                let mut out = Vec::new();
                prop_assert!(w.write(0, &ev, &mut out));
                prop_assert!(out.len() <= MAX_RECORD_BYTES);
                let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
                prop_assert!(big.starts_with(v["event"]["original"].as_str().unwrap()));
                prop_assert_eq!(&v["tags"][0], "truncated");
            }
        }
    }
}
