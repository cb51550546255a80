//! One object, start to finish: skip rules, size limits, open the stream,
//! decode (decompress, limit), detect the format, parse, drop the events a
//! filter rule matches (counted), write normalized records, and hand them
//! to the sink in bounded chunks.
//!
//! Every event keeps its ordinal (its index in the object), dropped or not:
//! `event.id` derives from it, and a continuation resumes by it, so a
//! dropped event counts toward the object's progress like a sent one. A
//! continuation reads the object from the start again and sends only the
//! events its `Resume` wants (those not accepted before, and the rest).
//!
//! Parsing runs on a blocking thread fed by the async body through
//! `SyncIoBridge`, so CPU work does not stall the runtime and memory stays
//! bounded by the buffers and the sink channel, whatever the object's size.
//! Errors are classified here, once, near their cause.

use std::io::{self, BufRead, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use thiserror::Error;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::io::SyncIoBridge;

use crate::config::{Config, Limits};
use crate::envelope::ObjectRef;
use crate::error::Disposition;
use crate::filter::{DropCounts, Filters};
use crate::formats::{self, detect, Format, FormatError, ParseStats, Stop};
use crate::ocsf::{self, Schema};
use crate::ordinals::{OrdinalRanges, Resume};
use crate::record::{ObjectContext, RecordWriter, OCSF_PATHS};
use crate::sink::batcher::Chunk;
use crate::sink::packing::{Frame, FrameWriter};
use crate::sink::{MAX_BATCH_RECORDS, MAX_RECORD_BYTES};
use crate::source::deadline::{is_deadline, DeadlineReader};
use crate::source::decode::{self, limit_error, Compression, Counters};
use crate::source::{ObjectStore, SourceError};

/// How much of the decompressed start of an object format sniffing sees.
const SNIFF_BYTES: usize = 8 * 1024;

/// Hand records to the sink in chunks of about this many bytes.
const CHUNK_BYTES: usize = 256 * 1024;

/// After this many dropped events in a row, the records buffered before
/// them are sent: they would otherwise wait (and the object's progress with
/// them) for as long as a filter drops everything.
const FLUSH_AFTER_DROPS: u64 = 1000;

/// Settings shared by every object of an invocation.
#[derive(Debug, Clone)]
pub struct ObjectSettings {
    pub config: Arc<Config>,
    /// RFC 3339 time of the invocation, for `event.ingested`.
    pub ingested: String,
    /// No object is opened, and no body read, after this instant.
    pub deadline: Instant,
}

/// What happened to an object that did not fail.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ObjectOutcome {
    /// Why the object was skipped without reading it, if it was.
    pub skipped: Option<&'static str>,
    pub format: Option<Format>,
    pub compression: Option<&'static str>,
    pub events: u64,
    /// Malformed lines emitted as error records.
    pub error_records: u64,
    /// Events cut to fit the Firehose record limit.
    pub truncated: u64,
    /// Events dropped by filter rules, by rule (included in `events`).
    pub dropped: DropCounts,
    pub bytes_read: u64,
    pub bytes_decoded: u64,
}

/// Why an object failed: the object, and what went wrong with it.
#[derive(Debug)]
pub struct ObjectError {
    pub bucket: String,
    pub key: String,
    pub kind: ObjectErrorKind,
}

/// What went wrong with an object.
#[derive(Debug, Error)]
pub enum ObjectErrorKind {
    #[error("{0}")]
    Refused(String),
    /// Names the object itself; boxed to keep `ObjectError` small.
    #[error(transparent)]
    Source(Box<SourceError>),
    #[error("{0}")]
    Limit(String),
    #[error("{0}")]
    Unreadable(String),
    #[error("reading failed: {0}")]
    Interrupted(String),
    #[error("stopped before the end because the invocation's deadline is near{}", .resume_at.map(|n| format!(" (every event before {n} delivered, filtered out or still to resend)")).unwrap_or_default())]
    Deadline {
        /// Where a continuation goes on: every event before it was handed
        /// to the sink (or dropped by a filter), except those in `resend`;
        /// `None` when this invocation handed none.
        resume_at: Option<u64>,
        /// Events before `resume_at` still to send: the continued object's
        /// own ranges this invocation did not reach.
        resend: OrdinalRanges,
        /// Events before `resume_at` that filters dropped in this
        /// invocation, by rule: a continuation does not see them again.
        dropped: DropCounts,
    },
    #[error("not started because the invocation's deadline is near")]
    NotStarted,
    #[error("internal error: {0}")]
    Internal(String),
}

impl ObjectError {
    pub fn new(obj: &ObjectRef, kind: ObjectErrorKind) -> Self {
        ObjectError {
            bucket: obj.bucket.clone(),
            key: obj.key.clone(),
            kind,
        }
    }

    pub fn disposition(&self) -> Disposition {
        match &self.kind {
            ObjectErrorKind::Refused(_) => Disposition::Refused,
            ObjectErrorKind::Source(e) => e.disposition(),
            ObjectErrorKind::Limit(_) | ObjectErrorKind::Unreadable(_) => Disposition::Poison,
            ObjectErrorKind::Interrupted(_)
            | ObjectErrorKind::Deadline { .. }
            | ObjectErrorKind::NotStarted
            | ObjectErrorKind::Internal(_) => Disposition::Retry,
        }
    }
}

impl std::fmt::Display for ObjectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            // A source error already names the object.
            ObjectErrorKind::Source(e) => e.fmt(f),
            kind => write!(f, "s3://{}/{}: {kind}", self.bucket, self.key),
        }
    }
}

impl std::error::Error for ObjectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ObjectErrorKind::Source(e) => Some(e.as_ref()),
            _ => None,
        }
    }
}

/// Processes object number `object` of the invocation (in message `msg`),
/// sending its records to `tx`. `cancel` is raised when the deadline nears.
#[allow(clippy::too_many_arguments)]
pub async fn process_object<S: ObjectStore>(
    store: &S,
    obj: &ObjectRef,
    msg: usize,
    object: usize,
    settings: &ObjectSettings,
    tx: mpsc::Sender<Chunk>,
    cancel: Arc<AtomicBool>,
) -> Result<ObjectOutcome, ObjectError> {
    // Refused objects are never fetched (confused deputy).
    let target = settings
        .config
        .read_target(&obj.bucket, &obj.key, obj.account.as_deref())
        .map_err(|reason| ObjectError::new(obj, ObjectErrorKind::Refused(reason)))?;
    if let Some(reason) = detect::is_skippable(&obj.key) {
        return Ok(ObjectOutcome {
            skipped: Some(reason),
            ..ObjectOutcome::default()
        });
    }
    let too_big = |size: u64| {
        let detail = format!(
            "object is {size} bytes, over MAX_OBJECT_BYTES ({})",
            settings.config.limits.max_object_bytes
        );
        ObjectError::new(obj, ObjectErrorKind::Limit(detail))
    };
    if let Some(size) = obj
        .size
        .filter(|s| *s > settings.config.limits.max_object_bytes)
    {
        return Err(too_big(size));
    }

    let opened = tokio::time::timeout_at(settings.deadline, store.open(obj, &target))
        .await
        .map_err(|_| {
            let kind = ObjectErrorKind::Deadline {
                resume_at: None,
                resend: OrdinalRanges::new(),
                dropped: DropCounts::new(),
            };
            ObjectError::new(obj, kind)
        })?
        .map_err(|e| ObjectError::new(obj, ObjectErrorKind::Source(Box::new(e))))?;
    if let Some(size) = opened
        .content_length
        .filter(|s| *s > settings.config.limits.max_object_bytes)
    {
        return Err(too_big(size));
    }

    let version = obj
        .version_id
        .clone()
        .or_else(|| opened.version_id.clone())
        .or_else(|| obj.etag.as_deref().map(|e| e.trim_matches('"').to_string()))
        .or_else(|| opened.etag.clone())
        .unwrap_or_default();
    let ctx = Arc::new(ObjectContext {
        bucket: obj.bucket.clone(),
        key: obj.key.clone(),
        version,
        ingested: settings.ingested.clone(),
        include_original: settings.config.include_original,
    });
    let content_length = opened.content_length;
    // A body that stalls must not outlive the invocation: past the deadline
    // every read fails, which ends the parser.
    let body = SyncIoBridge::new(DeadlineReader::new(opened.body, settings.deadline));
    let settings = settings.clone();

    let resume = Resume {
        skip: obj.skip_events,
        resend: obj.resend.clone(),
    };
    let place = EmitterPlace {
        msg,
        object,
        skip: obj.skip_events,
        first: resume.first(),
    };
    let job = tokio::task::spawn_blocking(move || {
        let emitter = Emitter::new(place, tx, cancel, &settings.config.filters);
        parse_blocking(body, ctx, &resume, &settings, emitter)
    });
    let result = job.await.map_err(|e| {
        let detail = format!("parser task ended abnormally: {e}");
        ObjectError::new(obj, ObjectErrorKind::Internal(detail))
    })?;

    result.map_err(|(failure, counters, progress)| {
        let resume_at = progress.any.then_some(progress.upto.max(obj.skip_events));
        let deadline = || ObjectErrorKind::Deadline {
            resume_at,
            // The ranges to resend this invocation did not reach.
            resend: obj.resend.at_or_after(progress.upto),
            dropped: progress.dropped.clone(),
        };
        let kind = match failure {
            Failure::Stopped(StopReason::Cancelled) => deadline(),
            Failure::Stopped(StopReason::SinkGone) => {
                ObjectErrorKind::Internal("the record sink stopped early".into())
            }
            Failure::Stopped(StopReason::Compression(why)) => {
                ObjectErrorKind::Internal(format!("compressing a packed record failed: {why}"))
            }
            Failure::Format(FormatError::Io(e)) if is_deadline(&e) => deadline(),
            Failure::Format(FormatError::Io(e)) => io_failure(&e, &counters, content_length),
            Failure::Format(FormatError::LineTooLong { line, limit }) => ObjectErrorKind::Limit(
                format!("line {line} is longer than MAX_LINE_BYTES ({limit})"),
            ),
            Failure::Format(FormatError::Malformed(why)) => {
                ObjectErrorKind::Unreadable(format!("not a valid log file of its format: {why}"))
            }
            Failure::Format(FormatError::Stopped) => deadline(),
        };
        ObjectError::new(obj, kind)
    })
}

/// Sorts an I/O error into limit, corrupt data (poison) or interrupted read (retry).
fn io_failure(e: &io::Error, counters: &Counters, content_length: Option<u64>) -> ObjectErrorKind {
    if is_deadline(e) {
        return ObjectErrorKind::Deadline {
            resume_at: None,
            resend: OrdinalRanges::new(),
            dropped: DropCounts::new(),
        };
    }
    if let Some(limit) = limit_error(e) {
        return ObjectErrorKind::Limit(limit.to_string());
    }
    let read_all = content_length.is_some_and(|len| counters.raw.load(Ordering::Relaxed) >= len);
    match read_verdict(e.kind(), read_all) {
        ReadVerdict::Corrupt => {
            ObjectErrorKind::Unreadable(format!("corrupt compressed data: {e}"))
        }
        ReadVerdict::Truncated => {
            ObjectErrorKind::Unreadable(format!("compressed data is truncated: {e}"))
        }
        ReadVerdict::Interrupted => ObjectErrorKind::Interrupted(e.to_string()),
    }
}

/// What a failed read of a body (raw or decompressed) means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadVerdict {
    /// The data is not valid for its compression: poison.
    Corrupt,
    /// The whole body arrived and still ended early: a truncated file, which
    /// no retry can mend (poison).
    Truncated,
    /// The read itself failed (connection reset, timeout, ...): retry.
    Interrupted,
}

impl ReadVerdict {
    pub fn disposition(self) -> Disposition {
        match self {
            ReadVerdict::Corrupt | ReadVerdict::Truncated => Disposition::Poison,
            ReadVerdict::Interrupted => Disposition::Retry,
        }
    }
}

/// Read errors that mean the data is bad: (kind, only once the whole body
/// was read, verdict). Any other error is an interrupted read.
const BAD_DATA_READS: &[(io::ErrorKind, bool, ReadVerdict)] = &[
    (io::ErrorKind::InvalidData, false, ReadVerdict::Corrupt),
    (io::ErrorKind::InvalidInput, false, ReadVerdict::Corrupt),
    (io::ErrorKind::UnexpectedEof, true, ReadVerdict::Truncated),
];

/// The verdict on a read error of `kind`; `read_all` says whether every
/// byte of the body had arrived when it happened. (Deadline and limit errors
/// are told apart before this, by their payload.)
pub fn read_verdict(kind: io::ErrorKind, read_all: bool) -> ReadVerdict {
    BAD_DATA_READS
        .iter()
        .find(|(k, needs_all, _)| *k == kind && (read_all || !needs_all))
        .map_or(ReadVerdict::Interrupted, |(_, _, verdict)| *verdict)
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum StopReason {
    Cancelled,
    SinkGone,
    /// Compressing a packed record failed (or made one over the record limit).
    Compression(String),
}

enum Failure {
    Stopped(StopReason),
    Format(FormatError),
}

/// What reading one object produced.
#[derive(Debug, Clone, Copy)]
pub struct ReadOutcome {
    pub format: Format,
    pub compression: Compression,
    pub stats: ParseStats,
    /// Records cut to fit the Firehose record limit.
    pub truncated: u64,
}

/// What reading an object hands on, for each event its `Resume` wants, in
/// ordinal order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Emitted<'a> {
    /// The object's format is known; its events follow (sent once, first).
    Start { format: Format },
    /// The event's normalized record (one JSON line).
    Record { ordinal: u64, record: &'a [u8] },
    /// The event was dropped by the filter rule with this index (in
    /// `Filters::rules`); no record was written.
    Dropped { ordinal: u64, rule: usize },
}

/// The synchronous core shared by the function and `replay`: decode `body`
/// (limits, decompression), pick the format (`format_override`, else the key,
/// else the content), parse, drop what `filters` match, and hand every
/// normalized record (or drop) of the events `resume` wants to `sink`, in
/// order, in the schema `schema_for` gives the object's format.
#[allow(clippy::too_many_arguments)]
pub fn read_object<R: io::Read + Send + 'static>(
    body: R,
    ctx: Arc<ObjectContext>,
    format_override: Option<Format>,
    schema_for: &dyn Fn(Format) -> Schema,
    limits: &Limits,
    filters: &Filters,
    resume: &Resume,
    counters: &Counters,
    sink: &mut dyn FnMut(Emitted<'_>) -> Result<(), Stop>,
) -> Result<ReadOutcome, FormatError> {
    let (compression, reader) = decode::open(
        body,
        limits.max_object_bytes,
        limits.max_decompressed_bytes,
        counters,
    )?;
    let (format, mut reader): (Format, Box<dyn BufRead + Send>) =
        match format_override.or_else(|| detect::from_key(&ctx.key)) {
            Some(f) => (f, reader),
            None => {
                // Read the first bytes however the stream splits them, sniff,
                // and put them back in front.
                let mut prefix = Vec::with_capacity(SNIFF_BYTES);
                let mut reader = reader;
                (&mut reader)
                    .take(SNIFF_BYTES as u64)
                    .read_to_end(&mut prefix)?;
                let format = detect::sniff(&prefix);
                (format, Box::new(io::Cursor::new(prefix).chain(reader)))
            }
        };
    sink(Emitted::Start { format }).map_err(|Stop| FormatError::Stopped)?;
    // The rules of the object's dataset, compiled once (again only if a
    // format's events ever named another dataset).
    let mut filter = filters.for_dataset(format.dataset());
    let filter_ctx = ctx.clone();
    // OCSF: each event is converted by the format's mapping, then written.
    let ocsf =
        (schema_for(format) == Schema::Ocsf).then(|| ocsf::Converter::new(format, &ctx.ingested));
    let mut writer = RecordWriter::new(ctx);
    if ocsf.is_some() {
        writer = writer.with_paths(&OCSF_PATHS);
    }
    let mut record = Vec::with_capacity(4096);
    let mut ordinal = 0u64;
    let mut truncated = 0u64;
    let format_limits = formats::Limits {
        max_line_bytes: limits.max_line_bytes,
    };
    let mut too_many = false;
    let parsed = formats::parse(format, &mut reader, &format_limits, &mut |ev| {
        if ordinal >= limits.max_events_per_object {
            too_many = true;
            return Err(Stop);
        }
        // Delivered by an earlier invocation: parsed again (to count), not sent.
        if !resume.wants(ordinal) {
            ordinal += 1;
            return Ok(());
        }
        let at = ordinal;
        ordinal += 1;
        if !filters.is_empty() {
            if filter.dataset() != ev.dataset {
                filter = filters.for_dataset(ev.dataset);
            }
            if let Some(rule) = filter.matching(&ev, &filter_ctx) {
                return sink(Emitted::Dropped { ordinal: at, rule });
            }
        }
        let cut = match &ocsf {
            Some(converter) => writer.write(at, &converter.convert(&ev), &mut record),
            None => writer.write(at, &ev, &mut record),
        };
        if cut {
            truncated += 1;
        }
        sink(Emitted::Record {
            ordinal: at,
            record: &record,
        })
    });
    let stats = match parsed {
        Err(FormatError::Stopped) if too_many => {
            return Err(FormatError::Io(io::Error::other(decode::LimitExceeded {
                what: "event count",
                limit: limits.max_events_per_object,
                variable: "MAX_EVENTS_PER_OBJECT",
            })))
        }
        other => other?,
    };
    Ok(ReadOutcome {
        format,
        compression,
        stats,
        truncated,
    })
}

fn parse_blocking<R: io::Read + Send + 'static>(
    body: R,
    ctx: Arc<ObjectContext>,
    resume: &Resume,
    settings: &ObjectSettings,
    mut emitter: Emitter,
) -> Result<ObjectOutcome, (Failure, Counters, Progress)> {
    let counters = Counters::default();
    let format = settings.config.format_for(&ctx.bucket, &ctx.key);
    // Bucket, key and the object's identity, for its route and streams.
    let identity = (
        ctx.bucket.clone(),
        ctx.key.clone(),
        crate::routes::object_identity(&ctx.bucket, &ctx.key, &ctx.version),
    );
    let read = read_object(
        body,
        ctx,
        format,
        &|format| {
            let config = &settings.config;
            let route = config.route_for(&identity.0, &identity.1, format.dataset());
            config.routes.get(route).schema
        },
        &settings.config.limits,
        &settings.config.filters,
        resume,
        &counters,
        &mut |emitted| match emitted {
            Emitted::Start { format } => {
                let config = &settings.config;
                let route = config.route_for(&identity.0, &identity.1, format.dataset());
                let frames = config
                    .routes
                    .get(route)
                    .packing
                    .compression()
                    .map(|c| FrameWriter::new(c, MAX_RECORD_BYTES));
                emitter.start(route, identity.2, frames);
                Ok(())
            }
            Emitted::Record { ordinal, record } => emitter.push(ordinal, record),
            Emitted::Dropped { ordinal, rule } => emitter.drop_event(ordinal, rule),
        },
    );
    let read = match read {
        Ok(read) => read,
        Err(FormatError::Stopped) => {
            let reason = emitter.stopped.take().unwrap_or(StopReason::Cancelled);
            return Err((Failure::Stopped(reason), counters, emitter.progress()));
        }
        Err(e) => return Err((Failure::Format(e), counters, emitter.progress())),
    };
    if emitter.flush().is_err() {
        let reason = emitter.stopped.take().unwrap_or(StopReason::SinkGone);
        return Err((Failure::Stopped(reason), counters, emitter.progress()));
    }
    Ok(ObjectOutcome {
        skipped: None,
        format: Some(read.format),
        compression: Some(read.compression.name()),
        events: read.stats.events.saturating_sub(resume.skip),
        error_records: read.stats.errors,
        truncated: read.truncated,
        dropped: emitter.progress().dropped,
        bytes_read: counters.raw.load(Ordering::Relaxed),
        bytes_decoded: counters.decoded.load(Ordering::Relaxed),
    })
}

/// Where an emitter's records go: the message, the object's slot, the
/// ordinal from which every event is new to this invocation
/// (`skipEvents`), and the first ordinal it is given (a resent one, or
/// `skip`).
struct EmitterPlace {
    msg: usize,
    object: usize,
    skip: u64,
    first: u64,
}

/// How far an object got: every event it was given before `upto` is
/// accounted for (handed to the sink, or dropped by a filter with every
/// event before it handed); `any` when at least one was; the drops counted
/// among them, by rule.
struct Progress {
    upto: u64,
    any: bool,
    dropped: DropCounts,
}

/// Writes records back to back into a chunk and sends full chunks; with
/// compressed packing, writes them into compressed frames and sends each
/// finished frame as a chunk of its own.
///
/// Dropped events are progress too: a chunk accounts for the dropped events
/// before its last record (its pieces then carry their own ordinals), and a
/// drop with nothing buffered is accounted for at once. So a stopped object
/// resumes after every event that was sent or dropped, and its drops are
/// counted exactly once across invocations.
///
/// A continuation that resends ranges gives it events with gaps in their
/// ordinals (events sent before, not wanted again). A gap closes the open
/// chunk or frame, so a record never spans one and a lost record names
/// only events that were given here; the accounted point then jumps over
/// the gap. A resent event a filter drops is progress, but its drop was
/// counted when it was first read (it lies before `skip`), so it is not
/// counted again.
struct Emitter {
    msg: usize,
    object: usize,
    /// Events from this ordinal on are read for the first time; drops
    /// before it were counted by an earlier invocation.
    skip: u64,
    /// The first ordinal this invocation emits.
    first: u64,
    tx: mpsc::Sender<Chunk>,
    cancel: Arc<AtomicBool>,
    data: Vec<u8>,
    ends: Vec<usize>,
    /// Ordinals of the buffered pieces once they are not consecutive (an
    /// event between them was dropped); empty while they are.
    ordinals: Vec<u64>,
    /// The compressing packer (the route's compression), if records are
    /// compressed.
    frames: Option<FrameWriter>,
    /// The object's route, and its identity (which picks the route's
    /// stream for each record), once its format is known.
    route: usize,
    identity: u64,
    stopped: Option<StopReason>,
    /// Every event given before this ordinal is accounted for: in chunks
    /// handed to the sink, or dropped.
    upto: u64,
    /// Ordinal after the last event seen (sent or dropped).
    seen: u64,
    /// Ordinal of the last record written into the open frame.
    frame_last: u64,
    /// Events dropped since the last record.
    drop_run: u64,
    /// Rule names, by index in `Filters::rules`.
    rule_names: Vec<Arc<str>>,
    /// Drops by rule index: not yet accounted for (buffered records come
    /// before them), and accounted for.
    drops_pending: Vec<u64>,
    drops_handed: Vec<u64>,
}

impl Emitter {
    fn new(
        place: EmitterPlace,
        tx: mpsc::Sender<Chunk>,
        cancel: Arc<AtomicBool>,
        filters: &Filters,
    ) -> Self {
        let rule_names: Vec<Arc<str>> = filters.rules().iter().map(|r| r.name.clone()).collect();
        Emitter {
            msg: place.msg,
            object: place.object,
            skip: place.skip,
            first: place.first,
            tx,
            cancel,
            data: Vec::new(),
            ends: Vec::new(),
            ordinals: Vec::new(),
            frames: None,
            route: 0,
            identity: 0,
            stopped: None,
            upto: place.first,
            seen: place.first,
            frame_last: place.first,
            drop_run: 0,
            drops_pending: vec![0; rule_names.len()],
            drops_handed: vec![0; rule_names.len()],
            rule_names,
        }
    }

    /// The object's format is known: its records take route `route`, of
    /// the object with `identity`, compressed by `frames` if the route
    /// compresses.
    fn start(&mut self, route: usize, identity: u64, frames: Option<FrameWriter>) {
        self.route = route;
        self.identity = identity;
        if frames.is_none() {
            self.data.reserve(CHUNK_BYTES + 4096);
            self.ends.reserve(MAX_BATCH_RECORDS);
        }
        self.frames = frames;
    }

    fn check_cancel(&mut self) -> Result<(), Stop> {
        if self.cancel.load(Ordering::Relaxed) {
            self.stopped = Some(StopReason::Cancelled);
            return Err(Stop);
        }
        Ok(())
    }

    fn push(&mut self, ordinal: u64, record: &[u8]) -> Result<(), Stop> {
        self.check_cancel()?;
        self.jump_to(ordinal)?;
        self.seen = ordinal + 1;
        self.drop_run = 0;
        if let Some(frames) = &mut self.frames {
            // A frame closed by this record holds the records before it:
            // it accounts for every event before this one.
            let closed = frames.push(record);
            let end = self.frame_last + 1;
            self.frame_last = ordinal;
            return self.hand_over(closed, ordinal, end);
        }
        let first = self.upto;
        let next = first + self.ends.len() as u64;
        if self.ordinals.is_empty() && ordinal != next {
            self.ordinals.extend(first..next);
        }
        if !self.ordinals.is_empty() {
            self.ordinals.push(ordinal);
        }
        self.data.extend_from_slice(record);
        self.ends.push(self.data.len());
        if self.data.len() >= CHUNK_BYTES || self.ends.len() >= MAX_BATCH_RECORDS {
            self.flush()?;
        }
        Ok(())
    }

    /// Counts the event with `ordinal` as dropped by rule `rule`.
    fn drop_event(&mut self, ordinal: u64, rule: usize) -> Result<(), Stop> {
        self.check_cancel()?;
        self.jump_to(ordinal)?;
        self.seen = ordinal + 1;
        self.drop_run += 1;
        if ordinal >= self.skip {
            if let Some(n) = self.drops_pending.get_mut(rule) {
                *n += 1;
            }
        }
        let buffered = match &self.frames {
            Some(frames) => frames.events() > 0,
            None => !self.ends.is_empty(),
        };
        if !buffered {
            // Everything before it is in the sink's hands already.
            self.account(self.seen);
        } else if self.drop_run >= FLUSH_AFTER_DROPS {
            self.flush()?;
        }
        Ok(())
    }

    /// Before the event with `ordinal`: when events before it were not
    /// given (sent by an earlier invocation), sends what is buffered and
    /// accounts for the gap, which holds nothing to send.
    fn jump_to(&mut self, ordinal: u64) -> Result<(), Stop> {
        if ordinal > self.seen {
            self.flush()?;
            self.upto = self.upto.max(ordinal);
            self.seen = ordinal;
        }
        Ok(())
    }

    /// Sends what is buffered: the open chunk, or the open frame.
    fn flush(&mut self) -> Result<(), Stop> {
        if let Some(frames) = &mut self.frames {
            let closed = frames.finish();
            return self.hand_over(closed, self.seen, self.frame_last + 1);
        }
        if self.ends.is_empty() {
            self.account(self.seen);
            return Ok(());
        }
        let chunk = Chunk::events(
            self.msg,
            self.object,
            self.upto,
            Bytes::from(std::mem::replace(
                &mut self.data,
                Vec::with_capacity(CHUNK_BYTES + 4096),
            )),
            std::mem::replace(&mut self.ends, Vec::with_capacity(MAX_BATCH_RECORDS)),
        )
        .with_ordinals(std::mem::take(&mut self.ordinals))
        .on_route(self.route, self.identity);
        self.send(chunk, self.seen)
    }

    /// Sends the frame the frame writer closed, if any (its last event is
    /// before `end`; accounting for the events before `upto`). A
    /// compression error, or a frame over the record limit (one event that
    /// did not compress), stops the object.
    fn hand_over(
        &mut self,
        closed: io::Result<Option<Frame>>,
        upto: u64,
        end: u64,
    ) -> Result<(), Stop> {
        let why = match closed {
            Ok(Some(frame)) if frame.data.len() > MAX_RECORD_BYTES => format!(
                "a frame of {} event(s) is {} bytes compressed, over the record limit of {MAX_RECORD_BYTES}",
                frame.events,
                frame.data.len()
            ),
            Ok(Some(frame)) => {
                let chunk = Chunk::frame(
                    self.msg,
                    self.object,
                    self.upto..end,
                    Bytes::from(frame.data),
                    frame.events,
                )
                .on_route(self.route, self.identity);
                return self.send(chunk, upto);
            }
            Ok(None) => {
                // Nothing was open (a flush) or the frame stays open (a push).
                if self.frames.as_ref().is_some_and(|f| f.events() == 0) {
                    self.account(upto);
                }
                return Ok(());
            }
            Err(e) => e.to_string(),
        };
        self.stopped = Some(StopReason::Compression(why));
        Err(Stop)
    }

    /// Hands `chunk` to the sink; it accounts for the events before `upto`.
    fn send(&mut self, chunk: Chunk, upto: u64) -> Result<(), Stop> {
        self.tx.blocking_send(chunk).map_err(|_| {
            self.stopped = Some(StopReason::SinkGone);
            Stop
        })?;
        self.account(upto);
        Ok(())
    }

    /// Every event before `upto` is sent or dropped: progress, and its
    /// drops counted.
    fn account(&mut self, upto: u64) {
        self.upto = self.upto.max(upto);
        for (handed, pending) in self.drops_handed.iter_mut().zip(&mut self.drops_pending) {
            *handed += std::mem::take(pending);
        }
    }

    fn progress(&self) -> Progress {
        let dropped = self
            .rule_names
            .iter()
            .zip(&self.drops_handed)
            .filter(|(_, n)| **n > 0)
            .map(|(name, &n)| (name.clone(), n))
            .collect();
        Progress {
            upto: self.upto,
            any: self.upto > self.first,
            dropped,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sink::packing::RecordCompression;

    fn emitter(frames: bool) -> (Emitter, mpsc::Receiver<Chunk>) {
        emitter_from(frames, 10, 10)
    }

    /// An emitter for events from `skip` on, given resent ones from `first`.
    fn emitter_from(frames: bool, skip: u64, first: u64) -> (Emitter, mpsc::Receiver<Chunk>) {
        let filters = Filters::parse(
            r#"[{"name": "r", "dataset": "text", "when": {"message": {"equals": "x"}}}]"#,
        )
        .unwrap();
        let (tx, rx) = mpsc::channel(64);
        let frames = frames.then(|| FrameWriter::new(RecordCompression::Zstd, MAX_RECORD_BYTES));
        let place = EmitterPlace {
            msg: 0,
            object: 0,
            skip,
            first,
        };
        let cancel = Arc::new(AtomicBool::new(false));
        let mut e = Emitter::new(place, tx, cancel, &filters);
        e.start(0, 0, frames);
        (e, rx)
    }

    fn dropped(e: &Emitter) -> u64 {
        e.progress().dropped.get("r").copied().unwrap_or(0)
    }

    /// Events accounted for since ordinal 10.
    fn handed(e: &Emitter) -> u64 {
        e.progress().upto - 10
    }

    #[test]
    fn drops_between_records_are_accounted_with_the_chunk_that_follows_them() {
        let (mut e, mut rx) = emitter(false);
        e.push(10, b"a\n").unwrap();
        e.drop_event(11, 0).unwrap();
        e.push(12, b"b\n").unwrap();
        e.drop_event(13, 0).unwrap();
        // Buffered records come before the drops: nothing accounted yet.
        assert_eq!((handed(&e), dropped(&e)), (0, 0));
        e.flush().unwrap();
        let chunk = rx.try_recv().unwrap();
        assert_eq!(chunk.first, 10);
        assert_eq!(chunk.ordinals, vec![10, 12]);
        let origins: Vec<u64> = chunk.records().map(|(o, _)| o.ordinal).collect();
        assert_eq!(origins, vec![10, 12]);
        assert_eq!((handed(&e), dropped(&e)), (4, 2));
    }

    #[test]
    fn drops_with_nothing_buffered_are_progress_at_once() {
        let (mut e, mut rx) = emitter(false);
        e.drop_event(10, 0).unwrap();
        e.drop_event(11, 0).unwrap();
        assert_eq!((handed(&e), dropped(&e)), (2, 2));
        // The next record starts a chunk of consecutive ordinals.
        e.push(12, b"a\n").unwrap();
        e.push(13, b"b\n").unwrap();
        e.flush().unwrap();
        let chunk = rx.try_recv().unwrap();
        assert_eq!((chunk.first, chunk.ordinals.len()), (12, 0));
        assert_eq!(handed(&e), 4);
    }

    #[test]
    fn a_long_run_of_drops_sends_the_records_before_it() {
        let (mut e, mut rx) = emitter(false);
        e.push(10, b"a\n").unwrap();
        for ordinal in 11..11 + FLUSH_AFTER_DROPS {
            e.drop_event(ordinal, 0).unwrap();
        }
        let chunk = rx.try_recv().expect("the buffered record was sent");
        assert_eq!(chunk.event_count(), 1);
        assert_eq!(handed(&e), 1 + FLUSH_AFTER_DROPS);
        assert_eq!(dropped(&e), FLUSH_AFTER_DROPS);
    }

    #[test]
    fn a_frame_accounts_for_the_drops_before_its_end() {
        let (mut e, mut rx) = emitter(true);
        e.push(10, b"a\n").unwrap();
        e.drop_event(11, 0).unwrap();
        assert_eq!(handed(&e), 0);
        e.flush().unwrap();
        let chunk = rx.try_recv().unwrap();
        assert_eq!((chunk.first, chunk.event_count()), (10, 1));
        assert_eq!((handed(&e), dropped(&e)), (2, 1));
        e.drop_event(12, 0).unwrap();
        assert_eq!((handed(&e), dropped(&e)), (3, 2));
    }

    #[test]
    fn resent_ranges_never_share_a_chunk_and_their_drops_are_not_counted_again() {
        // Resending 10..13 and 20..22, then everything from 100.
        let (mut e, mut rx) = emitter_from(false, 100, 10);
        e.push(10, b"a\n").unwrap();
        e.drop_event(11, 0).unwrap();
        e.push(12, b"b\n").unwrap();
        e.push(20, b"c\n").unwrap();
        let chunk = rx.try_recv().expect("the gap closed the first chunk");
        assert_eq!((chunk.first, chunk.ordinals.clone()), (10, vec![10, 12]));
        // Event 11 was dropped and counted when it was first read.
        assert_eq!((e.progress().upto, dropped(&e)), (20, 0));
        e.push(21, b"d\n").unwrap();
        e.push(100, b"e\n").unwrap();
        let chunk = rx.try_recv().unwrap();
        assert_eq!((chunk.first, chunk.event_count()), (20, 2));
        assert!(chunk.ordinals.is_empty());
        let ends: Vec<u64> = chunk.records().map(|(o, _)| o.end).collect();
        assert_eq!(ends, [21, 22]);
        assert_eq!(e.progress().upto, 100);
        e.drop_event(101, 0).unwrap();
        e.push(102, b"f\n").unwrap();
        // Stopped here, 100 and 102 are still buffered.
        assert_eq!((e.progress().upto, dropped(&e)), (100, 0));
        e.flush().unwrap();
        let chunk = rx.try_recv().unwrap();
        assert_eq!((chunk.first, chunk.ordinals.clone()), (100, vec![100, 102]));
        assert_eq!((e.progress().upto, dropped(&e)), (103, 1));
        assert!(e.progress().any);
    }

    #[test]
    fn a_frame_ends_at_a_gap_and_names_the_ordinals_it_covers() {
        let (mut e, mut rx) = emitter_from(true, 100, 10);
        assert!(!e.progress().any);
        e.push(10, b"a\n").unwrap();
        e.drop_event(11, 0).unwrap();
        e.push(12, b"b\n").unwrap();
        e.push(100, b"c\n").unwrap();
        let chunk = rx.try_recv().expect("the gap closed the frame");
        let origins: Vec<_> = chunk
            .records()
            .map(|(o, _)| (o.ordinals(), o.events))
            .collect();
        assert_eq!(origins, [(10..13, 2)]);
        assert_eq!((e.progress().upto, dropped(&e)), (100, 0));
        e.flush().unwrap();
        let chunk = rx.try_recv().unwrap();
        let origins: Vec<_> = chunk
            .records()
            .map(|(o, _)| (o.ordinals(), o.events))
            .collect();
        assert_eq!(origins, [(100..101, 1)]);
        assert_eq!(e.progress().upto, 101);
    }

    #[test]
    fn read_errors_map_to_their_disposition() {
        use io::ErrorKind::*;
        use ReadVerdict::{Corrupt, Truncated};
        let interrupted = ReadVerdict::Interrupted;
        // (kind, whole body read, verdict)
        let cases = [
            (InvalidData, false, Corrupt),
            (InvalidData, true, Corrupt),
            (InvalidInput, false, Corrupt),
            (UnexpectedEof, true, Truncated),
            // Ended early before the whole body arrived: the connection, not the file.
            (UnexpectedEof, false, interrupted),
            (ConnectionReset, false, interrupted),
            (ConnectionReset, true, interrupted),
            (ConnectionAborted, false, interrupted),
            (BrokenPipe, false, interrupted),
            (TimedOut, false, interrupted),
            (Other, false, interrupted),
        ];
        for (kind, read_all, want) in cases {
            assert_eq!(
                read_verdict(kind, read_all),
                want,
                "{kind:?}, read_all={read_all}"
            );
        }
        assert_eq!(Corrupt.disposition(), Disposition::Poison);
        assert_eq!(Truncated.disposition(), Disposition::Poison);
        assert_eq!(interrupted.disposition(), Disposition::Retry);
    }

    #[test]
    fn io_failure_names_what_went_wrong() {
        let counters = Counters::default();
        counters.raw.store(10, Ordering::Relaxed);
        let eof = io::Error::new(io::ErrorKind::UnexpectedEof, "early eof");
        let kind = io_failure(&eof, &counters, Some(10));
        assert_eq!(kind.to_string(), "compressed data is truncated: early eof");
        let kind = io_failure(&eof, &counters, Some(11));
        assert_eq!(kind.to_string(), "reading failed: early eof");
        let bad = io::Error::new(io::ErrorKind::InvalidData, "bad block");
        let kind = io_failure(&bad, &counters, None);
        assert_eq!(kind.to_string(), "corrupt compressed data: bad block");
        let reset = io::Error::new(io::ErrorKind::ConnectionReset, "reset by peer");
        assert!(matches!(
            io_failure(&reset, &counters, Some(10)),
            ObjectErrorKind::Interrupted(_)
        ));
    }
}
