//! Packs records from every message of one invocation into `PutRecordBatch`
//! calls (at most 500 records and 4 MiB each), keeps a bounded number of calls
//! in flight, and re-sends only the records that failed, with jittered
//! exponential backoff, until they are accepted, the attempts run out, or the
//! deadline nears. Every record carries the index of its SQS message, so that a
//! record that could not be delivered fails exactly its own message.
//!
//! Each chunk belongs to a route (see `routes`): the route says how its
//! events are cut into records and which of its streams each record goes
//! to. Every stream has its own batch, its own calls in flight and its own
//! pace.
//!
//! Memory is bounded: producers hand over records through a bounded channel,
//! and at most `MAX_IN_FLIGHT` batches per stream are being sent at once
//! (fewer while the stream throttles: see `pace`).

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::pace::Pace;
use super::{is_throttle_code, Firehose, MAX_BATCH_BYTES, MAX_BATCH_RECORDS};
use crate::ordinals::OrdinalRanges;
use crate::routes::{Route, Routes};

/// Records of one object of one message, in order, written back to back
/// in `data`; piece `i` ends at `ends[i]` (exclusive) and starts where the
/// previous one ended. Its first event's ordinal in the object is `first`
/// (or, when events before it were dropped by a filter, `first` is the
/// first ordinal it accounts for and `ordinals` has each piece's own).
#[derive(Debug, Clone)]
pub struct Chunk {
    pub msg: usize,
    /// The object's index in the invocation.
    pub object: usize,
    pub first: u64,
    pub data: Bytes,
    pub ends: Vec<usize>,
    pub pieces: Pieces,
    /// The ordinal of each piece when they are not `first`, `first + 1`,
    /// ... (a filter dropped events between them); empty when they are.
    /// So that a record that is not delivered names its own first event,
    /// and a continuation neither skips nor repeats one.
    pub ordinals: Vec<u64>,
    /// The route of the object (an index into the sink's routes).
    pub route: usize,
    /// The object's identity (`routes::object_identity`): with a record's
    /// first ordinal, it picks the route's stream.
    pub identity: u64,
}

/// What the pieces of a chunk are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pieces {
    /// One newline-terminated event each; the batcher makes them records
    /// (one each, or packed).
    Events,
    /// One finished record (a compressed frame) of `events` events, the
    /// last before ordinal `end` (events a filter dropped may lie between);
    /// the chunk holds exactly one piece.
    Frame { events: u32, end: u64 },
}

/// Where a record comes from: `events` events of one object, the first
/// with `ordinal`, the last before `end` (one event unless records are
/// packed; events between them that a filter dropped are in no record).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    pub msg: usize,
    pub object: usize,
    pub ordinal: u64,
    pub events: u32,
    pub end: u64,
    /// The route it takes.
    pub route: usize,
}

impl Origin {
    /// The ordinals the record accounts for.
    pub fn ordinals(&self) -> Range<u64> {
        self.ordinal..self.end
    }
}

/// How consecutive events are cut into records: at most `max_bytes` and
/// `max_events` per record (an event alone over `max_bytes` is a record
/// alone). One event per record is `max_events: 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackLimits {
    pub max_bytes: usize,
    pub max_events: usize,
}

impl PackLimits {
    pub const ONE_PER_RECORD: PackLimits = PackLimits {
        max_bytes: 0,
        max_events: 1,
    };
}

impl Chunk {
    /// Events newline-terminated back to back in `data`, one piece each.
    pub fn events(msg: usize, object: usize, first: u64, data: Bytes, ends: Vec<usize>) -> Self {
        Chunk {
            msg,
            object,
            first,
            data,
            ends,
            pieces: Pieces::Events,
            ordinals: Vec::new(),
            route: 0,
            identity: 0,
        }
    }

    /// The same records on route `route`, of the object with `identity`.
    pub fn on_route(mut self, route: usize, identity: u64) -> Self {
        self.route = route;
        self.identity = identity;
        self
    }

    /// The same events with their own ordinals (one per piece, ascending):
    /// some events between them were dropped.
    pub fn with_ordinals(mut self, ordinals: Vec<u64>) -> Self {
        debug_assert!(ordinals.is_empty() || ordinals.len() == self.ends.len());
        self.ordinals = ordinals;
        self
    }

    /// The ordinal of piece `i`.
    fn ordinal_of(&self, i: usize) -> u64 {
        match self.ordinals.get(i) {
            Some(&ordinal) => ordinal,
            None => self.first + i as u64,
        }
    }

    /// One finished record of `events` events, from ordinal `first` to
    /// before `end`.
    pub fn frame(
        msg: usize,
        object: usize,
        ordinals: Range<u64>,
        data: Bytes,
        events: u32,
    ) -> Self {
        Chunk {
            msg,
            object,
            first: ordinals.start,
            ends: vec![data.len()],
            data,
            pieces: Pieces::Frame {
                events,
                end: ordinals.end,
            },
            ordinals: Vec::new(),
            route: 0,
            identity: 0,
        }
    }

    /// Events in the chunk.
    pub fn event_count(&self) -> u64 {
        match self.pieces {
            Pieces::Events => self.ends.len() as u64,
            Pieces::Frame { events, .. } => u64::from(events),
        }
    }

    /// The chunk's records, one event each (a frame stays one record).
    pub fn records(&self) -> impl Iterator<Item = (Origin, Bytes)> + '_ {
        self.packed(PackLimits::ONE_PER_RECORD)
    }

    /// The chunk's records: a frame as it is; events packed into as few
    /// records as `limits` allow: consecutive newline-terminated events, back
    /// to back (slices of the chunk, no copy).
    pub fn packed(&self, limits: PackLimits) -> impl Iterator<Item = (Origin, Bytes)> + '_ {
        let (max_bytes, max_events) = match self.pieces {
            Pieces::Events => (limits.max_bytes, limits.max_events.max(1)),
            // A frame chunk has one piece: nothing to join.
            Pieces::Frame { .. } => (0, 1),
        };
        let mut i = 0;
        let mut start = 0;
        std::iter::from_fn(move || {
            if i == self.ends.len() {
                return None;
            }
            let first = i;
            i += 1;
            while i < self.ends.len() && i - first < max_events && self.ends[i] - start <= max_bytes
            {
                i += 1;
            }
            let end = self.ends[i - 1];
            let rec = self.data.slice(start..end);
            start = end;
            let (events, end) = match self.pieces {
                Pieces::Events => ((i - first) as u32, self.ordinal_of(i - 1) + 1),
                Pieces::Frame { events, end } => (events, end),
            };
            let origin = Origin {
                msg: self.msg,
                object: self.object,
                ordinal: self.ordinal_of(first),
                events,
                end,
                route: self.route,
            };
            Some((origin, rec))
        })
    }
}

/// How the batcher sends.
#[derive(Debug, Clone)]
pub struct SinkOptions {
    /// Attempts per record (the first send included).
    pub max_attempts: u32,
    /// No call is started (and none is waited for) after this instant.
    pub deadline: Instant,
    /// First backoff; doubles per attempt, with full jitter.
    pub base_backoff: Duration,
    pub max_backoff: Duration,
    /// Each route, by the index chunks name.
    pub routes: Arc<[RouteOut]>,
    /// Each stream the routes name, by the index routes use.
    pub streams: Arc<[StreamOut]>,
}

/// A route as the sink sees it.
#[derive(Debug, Clone)]
pub struct RouteOut {
    /// How events (not frames) are cut into records (its packing).
    pub pack: PackLimits,
    pub route: Route,
}

/// A delivery stream as the sink sees it.
#[derive(Debug, Clone)]
pub struct StreamOut {
    pub name: Arc<str>,
    /// How fast calls may start and how many may be in flight: learned
    /// from the stream's throttling, shared by every call to it and kept
    /// from one invocation to the next.
    pub pace: Arc<Pace>,
}

/// Calls in flight at most per stream (fewer while the stream throttles).
pub const MAX_IN_FLIGHT: usize = 4;

impl SinkOptions {
    /// One route of one stream (`stream`, a fresh pace), one event per record.
    pub fn new(max_attempts: u32, deadline: Instant) -> Self {
        let routes = Routes::single("stream", super::packing::Packing::OnePerRecord);
        let paces = [Arc::new(Pace::new(MAX_IN_FLIGHT))];
        SinkOptions::for_routes(max_attempts, deadline, &routes, &paces)
    }

    /// Sends by `routes`, the streams paced by `paces` (one per stream of
    /// `routes.streams()`, in order).
    pub fn for_routes(
        max_attempts: u32,
        deadline: Instant,
        routes: &Routes,
        paces: &[Arc<Pace>],
    ) -> Self {
        SinkOptions {
            max_attempts,
            deadline,
            base_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            routes: routes
                .all()
                .iter()
                .map(|r| RouteOut {
                    pack: r.packing.event_limits(),
                    route: r.clone(),
                })
                .collect(),
            streams: routes
                .streams()
                .iter()
                .zip(paces)
                .map(|(name, pace)| StreamOut {
                    name: name.as_str().into(),
                    pace: pace.clone(),
                })
                .collect(),
        }
    }

    /// The same with the first route's events cut by `pack`.
    pub fn with_pack(mut self, pack: PackLimits) -> Self {
        let mut routes = self.routes.to_vec();
        routes[0].pack = pack;
        self.routes = routes.into();
        self
    }

    /// The first stream's pace.
    pub fn pace(&self) -> &Arc<Pace> {
        &self.streams[0].pace
    }

    fn route(&self, index: usize) -> &RouteOut {
        &self.routes[index.min(self.routes.len() - 1)]
    }
}

/// What the sink did in one invocation.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SinkReport {
    /// Messages with at least one record that was not delivered.
    pub failed_messages: BTreeSet<usize>,
    /// For each object (by slot) with records not delivered, the ordinals
    /// of their events (bounded: a few more when there are many ranges).
    pub unaccepted: BTreeMap<usize, OrdinalRanges>,
    pub records_sent: u64,
    pub records_failed: u64,
    pub bytes_sent: u64,
    pub calls: u64,
    /// Events in the records sent (more than `records_sent` when packed).
    pub events_sent: u64,
    /// Records sent again after a partial or whole-call failure.
    pub records_retried: u64,
    /// Calls the stream answered, wholly or in part, with throttling.
    pub throttled_calls: u64,
    /// Bytes accepted, by route index.
    pub bytes_by_route: BTreeMap<usize, u64>,
    /// The last error seen, for the log.
    pub last_error: Option<String>,
}

impl SinkReport {
    /// Counts a record that was not delivered.
    pub fn lose(&mut self, origin: Origin) {
        self.failed_messages.insert(origin.msg);
        self.unaccepted
            .entry(origin.object)
            .or_default()
            .insert(origin.ordinals());
        self.records_failed += 1;
    }

    fn merge(&mut self, other: SinkReport) {
        self.failed_messages.extend(other.failed_messages);
        for (object, lost) in other.unaccepted {
            self.unaccepted.entry(object).or_default().extend(&lost);
        }
        self.records_sent += other.records_sent;
        self.events_sent += other.events_sent;
        self.records_failed += other.records_failed;
        self.bytes_sent += other.bytes_sent;
        self.calls += other.calls;
        self.records_retried += other.records_retried;
        self.throttled_calls += other.throttled_calls;
        for (route, n) in other.bytes_by_route {
            *self.bytes_by_route.entry(route).or_default() += n;
        }
        if other.last_error.is_some() {
            self.last_error = other.last_error;
        }
    }
}

type Batch = Vec<(Origin, Bytes)>;

/// One stream's records waiting to be sent, and its calls in flight.
#[derive(Default)]
struct Lane {
    batch: Batch,
    bytes: usize,
    in_flight: JoinSet<SinkReport>,
}

/// Receives chunks until every sender is dropped, sends them, and reports.
pub async fn run<F: Firehose>(
    firehose: Arc<F>,
    mut rx: mpsc::Receiver<Chunk>,
    opts: SinkOptions,
) -> SinkReport {
    let mut report = SinkReport::default();
    let mut lanes: Vec<Lane> = (0..opts.streams.len()).map(|_| Lane::default()).collect();

    loop {
        let chunk = match tokio::time::timeout_at(opts.deadline, rx.recv()).await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(_) => {
                // Out of time: whatever has not been sent fails its message.
                rx.close();
                while let Ok(chunk) = rx.try_recv() {
                    for (origin, _) in chunk.records() {
                        report.lose(origin);
                    }
                }
                for lane in &mut lanes {
                    for (origin, _) in lane.batch.drain(..) {
                        report.lose(origin);
                    }
                }
                report.last_error =
                    Some("the invocation's deadline came before every record was sent".into());
                break;
            }
        };
        let route = opts.route(chunk.route);
        for (origin, record) in chunk.packed(route.pack) {
            let stream = route.route.stream_for(chunk.identity, origin.ordinal);
            let lane = &mut lanes[stream];
            if lane.batch.len() == MAX_BATCH_RECORDS || lane.bytes + record.len() > MAX_BATCH_BYTES
            {
                let full =
                    std::mem::replace(&mut lane.batch, Vec::with_capacity(MAX_BATCH_RECORDS));
                lane.bytes = 0;
                let to = &opts.streams[stream];
                spawn_send(&mut lane.in_flight, &mut report, &firehose, to, full, &opts).await;
            }
            lane.bytes += record.len();
            lane.batch.push((origin, record));
        }
    }
    for (lane, to) in lanes.iter_mut().zip(opts.streams.iter()) {
        if !lane.batch.is_empty() {
            let last = std::mem::take(&mut lane.batch);
            spawn_send(&mut lane.in_flight, &mut report, &firehose, to, last, &opts).await;
        }
    }
    for lane in &mut lanes {
        while let Some(done) = lane.in_flight.join_next().await {
            collect(&mut report, done);
        }
    }
    report
}

async fn spawn_send<F: Firehose>(
    in_flight: &mut JoinSet<SinkReport>,
    report: &mut SinkReport,
    firehose: &Arc<F>,
    stream: &StreamOut,
    batch: Batch,
    opts: &SinkOptions,
) {
    while in_flight.len() >= stream.pace.window() {
        match in_flight.join_next().await {
            Some(done) => collect(report, done),
            None => break,
        }
    }
    let (firehose, stream, opts) = (firehose.clone(), stream.clone(), opts.clone());
    in_flight.spawn(async move { send_with_retry(firehose.as_ref(), &stream, batch, &opts).await });
}

fn collect(report: &mut SinkReport, done: Result<SinkReport, tokio::task::JoinError>) {
    match done {
        Ok(r) => report.merge(r),
        // A send task cannot panic by design; if one did, its records are
        // unaccounted for, so the invocation must not claim success for any
        // message. There is no message index to blame, hence usize::MAX.
        Err(e) => {
            report.failed_messages.insert(usize::MAX);
            report
                .unaccepted
                .insert(usize::MAX, OrdinalRanges::from(0..u64::MAX));
            report.last_error = Some(format!("a Firehose send task failed: {e}"));
        }
    }
}

/// Sends one batch, re-sending only the failed records. Each call waits
/// for its turn with the stream's [`Pace`] and reports back to it; while the
/// stream is paced, a call carries only as many bytes as the pace allows and
/// the rest of the batch follows in later calls. A throttled answer (the
/// stream over its quota) is not a failed attempt: the pace slows the calls
/// down and the records are sent again until the deadline. Other failures
/// count against `max_attempts`, with backoff; records that use them up are
/// lost (their messages fail) and the rest of the batch goes on.
pub async fn send_with_retry<F: Firehose + ?Sized>(
    firehose: &F,
    stream: &StreamOut,
    mut todo: Batch,
    opts: &SinkOptions,
) -> SinkReport {
    let pace = &stream.pace;
    let mut report = SinkReport::default();
    let mut later: Batch = Vec::new();
    let mut lost: Batch = Vec::new();
    let mut attempt = 0u32;
    let mut retrying = 0usize;
    loop {
        todo.append(&mut later);
        if todo.is_empty() {
            break;
        }
        if let Some(limit) = pace.call_limit() {
            let (mut n, mut size) = (0, 0);
            for (_, r) in &todo {
                if n > 0 && size + r.len() > limit {
                    break;
                }
                size += r.len();
                n += 1;
            }
            later = todo.split_off(n);
        }
        let bytes: usize = todo.iter().map(|(_, r)| r.len()).sum();
        if tokio::time::timeout_at(opts.deadline, pace.turn(bytes))
            .await
            .is_err()
        {
            report.last_error = Some(
                "the stream's throttling left no time to send every record before the invocation's deadline"
                    .into(),
            );
            break;
        }
        report.records_retried += retrying.min(todo.len()) as u64;
        report.calls += 1;
        let data: Vec<Bytes> = todo.iter().map(|(_, r)| r.clone()).collect();
        let answer =
            tokio::time::timeout_at(opts.deadline, firehose.put_record_batch(&stream.name, data))
                .await;
        let throttled = match answer {
            Err(_) => {
                report.last_error =
                    Some("PutRecordBatch did not answer before the invocation's deadline".into());
                break;
            }
            Ok(Err(e)) => {
                pace.observe(0, e.throttled);
                report.last_error = Some(e.message.clone());
                if !e.retryable {
                    break;
                }
                e.throttled
            }
            Ok(Ok(codes)) => {
                let mut failed = Vec::new();
                let mut first_code = None;
                let mut accepted = 0u64;
                let mut only_throttles = true;
                for ((origin, rec), code) in todo.drain(..).zip(codes) {
                    match code {
                        None => {
                            report.records_sent += 1;
                            report.events_sent += u64::from(origin.events);
                            report.bytes_sent += rec.len() as u64;
                            *report.bytes_by_route.entry(origin.route).or_default() +=
                                rec.len() as u64;
                            accepted += rec.len() as u64;
                        }
                        Some(code) => {
                            only_throttles &= is_throttle_code(&code);
                            first_code.get_or_insert(code);
                            failed.push((origin, rec));
                        }
                    }
                }
                let throttled = !failed.is_empty() && only_throttles;
                pace.observe(accepted, throttled);
                if let Some(code) = first_code {
                    report.last_error = Some(format!(
                        "PutRecordBatch rejected {} record(s), first error code {code}",
                        failed.len()
                    ));
                }
                todo = failed;
                throttled
            }
        };
        retrying = todo.len();
        if todo.is_empty() {
            attempt = 0;
            continue;
        }
        if throttled {
            report.throttled_calls += 1;
            continue;
        }
        attempt += 1;
        if attempt >= opts.max_attempts {
            lost.append(&mut todo);
            attempt = 0;
            retrying = 0;
            continue;
        }
        let pause = backoff(opts, attempt);
        if Instant::now() + pause >= opts.deadline {
            break;
        }
        tokio::time::sleep(pause).await;
    }
    todo.append(&mut later);
    lost.append(&mut todo);
    for (origin, _) in &lost {
        report.lose(*origin);
    }
    report
}

/// Full-jitter exponential backoff: uniform in [0, min(max, base * 2^(attempt-1))].
fn backoff(opts: &SinkOptions, attempt: u32) -> Duration {
    let exp = opts
        .base_backoff
        .saturating_mul(1u32 << (attempt - 1).min(16))
        .min(opts.max_backoff);
    let millis = exp.as_millis() as u64;
    Duration::from_millis(fastrand::u64(0..=millis))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fakes::{MemFirehose, Reply};
    use crate::sink::PutError;

    #[tokio::test]
    async fn records_still_queued_at_the_deadline_fail_their_messages() {
        let fh = Arc::new(MemFirehose::new());
        let (tx, rx) = mpsc::channel(4);
        let mut o = opts();
        o.deadline = Instant::now() + Duration::from_millis(100);
        let sink = tokio::spawn(run(fh.clone(), rx, o));
        tx.send(chunk(2, &[b"a\n"])).await.unwrap();
        // The producer never closes the channel: the sink must stop by itself.
        let report = tokio::time::timeout(Duration::from_secs(5), sink)
            .await
            .expect("the sink stops at its deadline")
            .unwrap();
        assert!(report.failed_messages.contains(&2));
        assert!(fh.call_sizes().is_empty());
        drop(tx);
    }
    fn opts() -> SinkOptions {
        let mut o = SinkOptions::new(5, Instant::now() + Duration::from_secs(30));
        o.base_backoff = Duration::from_millis(1);
        o.max_backoff = Duration::from_millis(2);
        o
    }

    fn chunk(msg: usize, records: &[&[u8]]) -> Chunk {
        let mut data = Vec::new();
        let mut ends = Vec::new();
        for r in records {
            data.extend_from_slice(r);
            ends.push(data.len());
        }
        Chunk::events(msg, msg, 0, data.into(), ends)
    }

    async fn run_with(fh: Arc<MemFirehose>, chunks: Vec<Chunk>, opts: SinkOptions) -> SinkReport {
        let (tx, rx) = mpsc::channel(4);
        let sink = tokio::spawn(run(fh, rx, opts));
        for c in chunks {
            tx.send(c).await.unwrap();
        }
        drop(tx);
        sink.await.unwrap()
    }

    #[tokio::test]
    async fn batches_respect_the_record_count_limit() {
        let fh = Arc::new(MemFirehose::new());
        let recs: Vec<Vec<u8>> = (0..1234).map(|i| format!("{i}\n").into_bytes()).collect();
        let refs: Vec<&[u8]> = recs.iter().map(|r| r.as_slice()).collect();
        let report = run_with(fh.clone(), vec![chunk(0, &refs)], opts()).await;
        assert_eq!(report.records_sent, 1234);
        assert_eq!(fh.call_sizes(), vec![500, 500, 234]);
        assert!(report.failed_messages.is_empty());
    }

    #[tokio::test]
    async fn batches_respect_the_byte_limit() {
        let fh = Arc::new(MemFirehose::new());
        let big = vec![b'x'; 1_000_000];
        let refs: Vec<&[u8]> = (0..9).map(|_| big.as_slice()).collect();
        let report = run_with(fh.clone(), vec![chunk(0, &refs)], opts()).await;
        assert_eq!(report.records_sent, 9);
        assert_eq!(fh.call_sizes(), vec![4, 4, 1]);
    }

    #[tokio::test]
    async fn packing_joins_consecutive_events_up_to_the_record_limit() {
        let fh = Arc::new(MemFirehose::new());
        let recs: Vec<Vec<u8>> = (0..10)
            .map(|i| format!("event {i}\n").into_bytes())
            .collect();
        let refs: Vec<&[u8]> = recs.iter().map(|r| r.as_slice()).collect();
        let mut o = opts();
        // Room for three 8-byte events per record.
        o = o.with_pack(PackLimits {
            max_bytes: 26,
            max_events: 500,
        });
        let report = run_with(fh.clone(), vec![chunk(0, &refs)], o).await;
        let got = fh.accepted();
        assert_eq!(got.len(), 4);
        assert_eq!(got[0], "event 0\nevent 1\nevent 2\n");
        assert_eq!(got[3], "event 9\n");
        assert_eq!(got.concat(), recs.concat(), "every event once, in order");
        assert_eq!(report.records_sent, 4);
        assert_eq!(report.events_sent, 10);
    }

    #[test]
    fn an_event_over_the_pack_limit_is_a_record_alone() {
        let c = chunk(0, &[b"a\n", &[b'x'; 40], b"b\n", b"c\n"]);
        let packed: Vec<(Origin, Bytes)> = c
            .packed(PackLimits {
                max_bytes: 10,
                max_events: 500,
            })
            .collect();
        let sizes: Vec<(u64, u32, usize)> = packed
            .iter()
            .map(|(o, r)| (o.ordinal, o.events, r.len()))
            .collect();
        assert_eq!(sizes, vec![(0, 1, 2), (1, 1, 40), (2, 2, 4)]);
    }

    #[test]
    fn packed_records_hold_at_most_max_events() {
        let recs: Vec<Vec<u8>> = (0..7).map(|i| format!("{i}\n").into_bytes()).collect();
        let refs: Vec<&[u8]> = recs.iter().map(|r| r.as_slice()).collect();
        let mut c = chunk(0, &refs);
        c.first = 10;
        let got: Vec<(u64, u32, Bytes)> = c
            .packed(PackLimits {
                max_bytes: 1_000,
                max_events: 3,
            })
            .map(|(o, r)| (o.ordinal, o.events, r))
            .collect();
        assert_eq!(
            got,
            vec![
                (10, 3, Bytes::from("0\n1\n2\n")),
                (13, 3, Bytes::from("3\n4\n5\n")),
                (16, 1, Bytes::from("6\n")),
            ]
        );
    }

    #[test]
    fn records_name_their_own_first_event_when_events_were_dropped_between() {
        // Pieces are events 10, 12 and 15 (11, 13 and 14 were dropped).
        let c = chunk(0, &[b"a\n", b"b\n", b"c\n"]).with_ordinals(vec![10, 12, 15]);
        let origins = |limits| -> Vec<(u64, u32, u64)> {
            c.packed(limits)
                .map(|(o, _)| (o.ordinal, o.events, o.end))
                .collect()
        };
        assert_eq!(
            origins(PackLimits::ONE_PER_RECORD),
            vec![(10, 1, 11), (12, 1, 13), (15, 1, 16)]
        );
        let two = PackLimits {
            max_bytes: 1_000,
            max_events: 2,
        };
        // The first record holds events 10 and 12: it accounts for 10 to 12.
        assert_eq!(origins(two), vec![(10, 2, 13), (15, 1, 16)]);
    }

    #[tokio::test]
    async fn a_frame_is_sent_as_one_record_and_counts_its_events() {
        let fh = Arc::new(MemFirehose::new().then(Reply::Partial(vec![1])));
        let frames = vec![
            Chunk::frame(2, 5, 0..40, Bytes::from_static(b"frame-a"), 40),
            // Seven events, and three a filter dropped among them.
            Chunk::frame(2, 5, 40..50, Bytes::from_static(b"frame-b"), 7),
        ];
        let mut o = opts();
        o.max_attempts = 1;
        o = o.with_pack(PackLimits {
            max_bytes: 1_000_000,
            max_events: 500,
        });
        let report = run_with(fh.clone(), frames, o).await;
        assert_eq!(fh.call_sizes(), vec![2]);
        // The second frame (events 40-49) was rejected: its ordinals are reported.
        assert_eq!(
            report.unaccepted.get(&5),
            Some(&OrdinalRanges::from(40..50))
        );
        assert_eq!(report.events_sent, 40);
        assert_eq!(report.records_sent, 1);
    }

    #[tokio::test]
    async fn a_packed_record_that_fails_reports_its_first_event() {
        let fh = Arc::new(
            MemFirehose::new()
                .then(Reply::Partial(vec![1]))
                .then_times(4, Reply::Partial(vec![0])),
        );
        let mut c = chunk(4, &[b"a\n", b"b\n", b"c\n", b"d\n"]);
        c.first = 100;
        let mut o = opts();
        o = o.with_pack(PackLimits {
            max_bytes: 4,
            max_events: 500,
        });
        let report = run_with(fh.clone(), vec![c], o).await;
        // Records are "a\nb\n" (events 100-101) and "c\nd\n" (102-103); the second fails.
        assert_eq!(
            report.unaccepted.get(&4),
            Some(&OrdinalRanges::from(102..104))
        );
        assert!(report.failed_messages.contains(&4));
        assert_eq!(report.events_sent, 2);
    }

    #[tokio::test]
    async fn every_refused_record_is_reported_not_only_the_first() {
        // Records 1, 2 and 4 of six are refused on every attempt.
        let fh = Arc::new(
            MemFirehose::new()
                .then(Reply::Partial(vec![1, 2, 4]))
                .then_times(4, Reply::Partial(vec![0, 1, 2])),
        );
        let mut c = chunk(3, &[b"a\n", b"b\n", b"c\n", b"d\n", b"e\n", b"f\n"]);
        c.first = 20;
        let report = run_with(fh.clone(), vec![c], opts()).await;
        let mut want = OrdinalRanges::from(21..23);
        want.insert(24..25);
        assert_eq!(report.unaccepted.get(&3), Some(&want));
        assert_eq!(report.records_failed, 3);
        assert_eq!(report.records_sent, 3);
    }

    #[tokio::test]
    async fn firehose_partial_failure_resends_only_failed_records() {
        let fh = Arc::new(MemFirehose::new().then(Reply::Partial(vec![1, 3])));
        let report = run_with(
            fh.clone(),
            vec![chunk(0, &[b"a\n", b"b\n", b"c\n", b"d\n"])],
            opts(),
        )
        .await;
        assert_eq!(fh.call_sizes(), vec![4, 2]);
        let mut got: Vec<Bytes> = fh.accepted();
        got.sort();
        assert_eq!(got, vec!["a\n", "b\n", "c\n", "d\n"]);
        assert_eq!(report.records_retried, 2);
        assert!(report.failed_messages.is_empty());
    }

    #[tokio::test]
    async fn records_failing_every_attempt_fail_only_their_message() {
        // Message 7's record (position 1 of the first call, then alone) fails
        // every time; message 3's record passes at once.
        let fh = Arc::new(
            MemFirehose::new()
                .then(Reply::Partial(vec![1]))
                .then_times(4, Reply::Partial(vec![0])),
        );
        let report = run_with(
            fh.clone(),
            vec![chunk(3, &[b"a\n"]), chunk(7, &[b"b\n"])],
            opts(),
        )
        .await;
        assert_eq!(
            report.failed_messages.into_iter().collect::<Vec<_>>(),
            vec![7]
        );
        assert_eq!(report.records_failed, 1);
        assert_eq!(fh.call_sizes().len(), 5);
    }

    #[tokio::test]
    async fn non_retryable_call_errors_stop_at_once() {
        let fh = Arc::new(MemFirehose::new().then(Reply::Fail(PutError {
            retryable: false,
            throttled: false,
            message: "ResourceNotFoundException".into(),
        })));
        let report = run_with(fh.clone(), vec![chunk(0, &[b"a\n"])], opts()).await;
        assert_eq!(fh.call_sizes().len(), 1);
        assert!(report.failed_messages.contains(&0));
        assert!(report.last_error.unwrap().contains("ResourceNotFound"));
    }

    #[tokio::test]
    async fn throttled_calls_are_retried_then_succeed() {
        let fh = Arc::new(MemFirehose::new().then_times(
            2,
            Reply::Fail(PutError {
                retryable: true,
                throttled: true,
                message: "ServiceUnavailableException".into(),
            }),
        ));
        let report = run_with(fh.clone(), vec![chunk(0, &[b"a\n", b"b\n"])], opts()).await;
        assert_eq!(fh.call_sizes().len(), 3);
        assert_eq!(report.records_sent, 2);
        assert!(report.failed_messages.is_empty());
    }

    #[tokio::test]
    async fn no_retry_past_the_deadline() {
        let fh = Arc::new(MemFirehose::new().then_times(5, Reply::Partial(vec![0])));
        let mut o = opts();
        o.base_backoff = Duration::from_secs(10);
        o.max_backoff = Duration::from_secs(10);
        o.deadline = Instant::now() + Duration::from_millis(200);
        // Jitter may pick a short pause, so allow a few calls, but never all five.
        let report = run_with(fh.clone(), vec![chunk(0, &[b"a\n"])], o).await;
        assert!(report.failed_messages.contains(&0));
        assert!(fh.call_sizes().len() < 5);
    }

    /// Records of `size` bytes, distinct, newline-terminated.
    fn distinct_records(n: usize, size: usize) -> Vec<Vec<u8>> {
        (0..n)
            .map(|i| {
                let mut r = format!("{i:08}").into_bytes();
                r.resize(size - 1, b'x');
                r.push(b'\n');
                r
            })
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn a_stream_quota_is_held_without_loss_or_duplicates() {
        fastrand::seed(7);
        // Firehose's default quota in most regions; 8 MiB of records, sent
        // by 8 messages at once as an invocation does.
        let mib = 1024 * 1024;
        let fh = Arc::new(crate::fakes::QuotaFirehose::new(1000, 100_000, mib as u64));
        let recs = distinct_records(8 * 1024, 1024);
        let refs: Vec<&[u8]> = recs.iter().map(|r| r.as_slice()).collect();
        let chunks: Vec<Chunk> = refs
            .chunks(1024)
            .enumerate()
            .map(|(msg, part)| chunk(msg, part))
            .collect();
        let t0 = Instant::now();
        let mut o = SinkOptions::new(6, t0 + Duration::from_secs(120));
        o.base_backoff = Duration::from_millis(100);
        let pace = o.pace().clone();
        let (tx, rx) = mpsc::channel(4);
        let sink = tokio::spawn(run(fh.clone(), rx, o));
        for c in chunks {
            tx.send(c).await.unwrap();
        }
        drop(tx);
        let report = sink.await.unwrap();
        let took = (Instant::now() - t0).as_secs_f64();
        let tally = fh.tally();
        assert!(report.failed_messages.is_empty(), "{report:?}");
        assert_eq!(report.records_sent, recs.len() as u64);
        assert_eq!(tally.records_accepted, recs.len() as u64);
        assert_eq!(tally.duplicates, 0);
        assert!(report.throttled_calls > 0, "the quota was reached");
        assert!(pace.state().rate.is_some());
        println!("quota held: {}", fh.summary(took));
        assert!(fh.share_used(took) > 0.6, "{}", fh.summary(took));
    }

    #[tokio::test(start_paused = true)]
    async fn throttled_answers_do_not_use_up_the_attempts() {
        // Ten throttled calls in a row, with two attempts allowed: the
        // records still go in, because pushback is not failure.
        let fh = Arc::new(MemFirehose::new().then_times(10, Reply::throttled()));
        let mut o = opts();
        o.max_attempts = 2;
        let report = run_with(fh.clone(), vec![chunk(0, &[b"a\n", b"b\n"])], o).await;
        assert!(report.failed_messages.is_empty(), "{report:?}");
        assert_eq!(report.records_sent, 2);
        assert_eq!(report.throttled_calls, 10);
        assert_eq!(fh.call_sizes().len(), 11);
    }

    #[tokio::test(start_paused = true)]
    async fn instances_sharing_one_stream_share_its_quota_without_loss() {
        fastrand::seed(11);
        // Sixteen function instances (each its own pace) send 1 MiB each
        // to one stream of 1 MiB/s at the same moment.
        let mib = 1024 * 1024;
        let fh = Arc::new(crate::fakes::QuotaFirehose::new(1000, 100_000, mib as u64));
        let t0 = Instant::now();
        let mut sinks = Vec::new();
        let mut total = 0u64;
        for instance in 0..16 {
            let recs: Vec<Vec<u8>> = distinct_records(1024, 1024)
                .into_iter()
                .map(|mut r| {
                    r[..2].copy_from_slice(format!("{instance:02}").as_bytes());
                    r
                })
                .collect();
            total += recs.len() as u64;
            let refs: Vec<&[u8]> = recs.iter().map(|r| r.as_slice()).collect();
            let c = chunk(instance, &refs);
            let o = SinkOptions::new(6, t0 + Duration::from_secs(120));
            let (tx, rx) = mpsc::channel(4);
            sinks.push(tokio::spawn(run(fh.clone(), rx, o)));
            tx.send(c).await.unwrap();
        }
        let mut throttled = 0;
        for sink in sinks {
            let report = sink.await.unwrap();
            assert!(report.failed_messages.is_empty(), "{report:?}");
            throttled += report.throttled_calls;
        }
        let took = (Instant::now() - t0).as_secs_f64();
        let tally = fh.tally();
        assert_eq!(tally.records_accepted, total);
        assert_eq!(tally.duplicates, 0);
        assert!(throttled > 0);
        println!("16 instances: {}", fh.summary(took));
        assert!(fh.share_used(took) > 0.6, "{}", fh.summary(took));
    }
}
