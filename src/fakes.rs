//! In-memory implementations of the three seams, for tests and the
//! benchmark: [`MemStore`] (`ObjectStore`), [`MemFirehose`] (`Firehose`) and
//! [`MemRequeue`] (`Requeue`). Everything between them is the function's real
//! code, so a test through them checks the pipeline without AWS or moto.
//!
//! Each fake can be scripted with the faults moto cannot produce (a body
//! that stalls or breaks mid-way, a throttled call, a partial
//! `FailedPutCount`). They are not used by the function itself; they are
//! compiled always because they are small and need no extra dependency.
//!
//! Each fake is a cheap `Clone` handle on shared state, so a test can hand
//! one to a `Forwarder` and still read what it saw afterwards.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncReadExt, ReadBuf};

use crate::config::ReadTarget;
use crate::envelope::ObjectRef;
use crate::requeue::Requeue;
use crate::sink::{Firehose, PutError, MAX_BATCH_BYTES, MAX_BATCH_RECORDS};
use crate::source::{ObjectStore, OpenedObject, SourceError};

/// Locks a fake's state; a test that panicked while holding it has already failed.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What [`MemStore`] answers for one object.
#[derive(Debug, Clone)]
pub enum MemObject {
    /// The whole body, at once.
    Body(Bytes),
    /// `first`, then nothing, ever: a connection that hangs.
    Stall { first: Bytes },
    /// `first`, then a read error of `kind`: a connection that breaks.
    Break { first: Bytes, kind: io::ErrorKind },
    /// `GetObject` itself fails.
    Fail(Fault),
}

/// A scripted `GetObject` failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Gone (deleted after the notification): skipped.
    NotFound,
    /// Fails with a message that may pass (throttling, 5xx): retried.
    Retryable(String),
    /// Can never be read (archived): poison.
    Permanent(String),
}

impl Fault {
    fn error(self, obj: &ObjectRef) -> SourceError {
        let (bucket, key) = (obj.bucket.clone(), obj.key.clone());
        match self {
            Fault::NotFound => SourceError::NotFound { bucket, key },
            Fault::Retryable(message) => SourceError::Retryable {
                bucket,
                key,
                message,
            },
            Fault::Permanent(message) => SourceError::Permanent {
                bucket,
                key,
                message,
            },
        }
    }
}

/// Objects in memory by bucket and key. An object it does not hold is
/// not found, as in S3.
#[derive(Clone, Default)]
pub struct MemStore {
    objects: Arc<Mutex<HashMap<(String, String), MemObject>>>,
    opens: Arc<AtomicU64>,
}

impl MemStore {
    pub fn new() -> Self {
        MemStore::default()
    }

    /// Stores `body` at `bucket`/`key`.
    pub fn with(self, bucket: &str, key: &str, body: impl Into<Bytes>) -> Self {
        self.with_object(bucket, key, MemObject::Body(body.into()))
    }

    /// Stores a scripted object (a stall, a break, a failure) at `bucket`/`key`.
    pub fn with_object(self, bucket: &str, key: &str, object: MemObject) -> Self {
        lock(&self.objects).insert((bucket.to_string(), key.to_string()), object);
        self
    }

    /// How many times `open` was called.
    pub fn opens(&self) -> u64 {
        self.opens.load(Ordering::Relaxed)
    }
}

impl ObjectStore for MemStore {
    async fn open(
        &self,
        obj: &ObjectRef,
        _target: &ReadTarget,
    ) -> Result<OpenedObject, SourceError> {
        self.opens.fetch_add(1, Ordering::Relaxed);
        let found = lock(&self.objects)
            .get(&(obj.bucket.clone(), obj.key.clone()))
            .cloned();
        let (body, etag, content_length): (Box<dyn AsyncRead + Send + Unpin>, _, _) = match found {
            None => return Err(Fault::NotFound.error(obj)),
            Some(MemObject::Fail(fault)) => return Err(fault.error(obj)),
            Some(MemObject::Body(bytes)) => {
                let etag = etag_of(&bytes);
                let len = bytes.len() as u64;
                (Box::new(io::Cursor::new(bytes)), etag, Some(len))
            }
            Some(MemObject::Stall { first }) => {
                let etag = etag_of(&first);
                (Box::new(io::Cursor::new(first).chain(Hang)), etag, None)
            }
            Some(MemObject::Break { first, kind }) => {
                let etag = etag_of(&first);
                (
                    Box::new(io::Cursor::new(first).chain(Broken(kind))),
                    etag,
                    None,
                )
            }
        };
        Ok(OpenedObject {
            body,
            etag: Some(etag),
            version_id: None,
            content_length,
        })
    }
}

/// An ETag that changes with the content, as S3's does.
fn etag_of(body: &[u8]) -> String {
    hex::encode(&Sha256::digest(body)[..16])
}

/// A read that never completes.
struct Hang;

impl AsyncRead for Hang {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        _buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Poll::Pending
    }
}

/// A read that fails with its error kind.
struct Broken(io::ErrorKind);

impl AsyncRead for Broken {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        _buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Poll::Ready(Err(io::Error::new(
            self.0,
            "the connection broke (scripted)",
        )))
    }
}

/// How [`MemFirehose`] answers one `PutRecordBatch` call.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Every record accepted.
    Accept,
    /// The records at these positions refused with `InternalFailure`, the
    /// others accepted (a partial `FailedPutCount`): a failed attempt.
    Partial(Vec<usize>),
    /// The records at these positions refused with
    /// `ServiceUnavailableException` ("Slow down."), the others accepted:
    /// the stream over its quota.
    SlowDown(Vec<usize>),
    /// The whole call fails.
    Fail(PutError),
}

impl Reply {
    /// The call is throttled (retryable).
    pub fn throttled() -> Self {
        Reply::Fail(PutError {
            retryable: true,
            throttled: true,
            message: "ServiceUnavailableException: Slow down. (scripted)".into(),
        })
    }

    /// The call is refused for good (the stream does not exist).
    pub fn no_stream() -> Self {
        Reply::Fail(PutError {
            retryable: false,
            throttled: false,
            message: "ResourceNotFoundException: stream not found (scripted)".into(),
        })
    }
}

/// Firehose bills each record rounded up to the next 5 KB.
pub const BILLING_STEP: u64 = 5 * 1024;

/// What [`MemFirehose`] counted over every call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub calls: u64,
    /// Records accepted.
    pub records: u64,
    /// Bytes of the accepted records.
    pub bytes: u64,
    /// Calls with 500 records, or with no room for one more record of the
    /// largest size in the call (the 4 MiB limit binds).
    pub full_calls: u64,
    /// Sum over accepted records of ceil(size / [`BILLING_STEP`]): what
    /// Firehose bills.
    pub billable_units: u64,
}

#[derive(Default)]
struct Counters {
    calls: AtomicU64,
    records: AtomicU64,
    bytes: AtomicU64,
    full_calls: AtomicU64,
    billable_units: AtomicU64,
}

#[derive(Default)]
struct FirehoseState {
    /// Keep the accepted records and call sizes (tests), or only count (bench).
    keep: bool,
    script: Mutex<VecDeque<Reply>>,
    /// Each accepted record with the stream it was sent to.
    accepted: Mutex<Vec<(Arc<str>, Bytes)>>,
    call_sizes: Mutex<Vec<usize>>,
    counters: Counters,
}

/// A delivery stream in memory. Calls answer as scripted ([`MemFirehose::then`]),
/// then accept everything. A call over the service limits panics: the
/// batcher must never make one.
#[derive(Clone)]
pub struct MemFirehose(Arc<FirehoseState>);

impl Default for MemFirehose {
    fn default() -> Self {
        MemFirehose::new()
    }
}

impl MemFirehose {
    /// Keeps every accepted record and the size of every call.
    pub fn new() -> Self {
        MemFirehose(Arc::new(FirehoseState {
            keep: true,
            ..FirehoseState::default()
        }))
    }

    /// Keeps nothing, only the [`Tally`]: for volumes (the benchmark).
    pub fn counting() -> Self {
        MemFirehose(Arc::new(FirehoseState::default()))
    }

    /// Answers the next unscripted call with `reply`.
    pub fn then(self, reply: Reply) -> Self {
        lock(&self.0.script).push_back(reply);
        self
    }

    /// Answers the next `n` unscripted calls with `reply`.
    pub fn then_times(self, n: usize, reply: Reply) -> Self {
        lock(&self.0.script).extend(std::iter::repeat_n(reply, n));
        self
    }

    /// The accepted records, in the order they were accepted (empty when counting).
    pub fn accepted(&self) -> Vec<Bytes> {
        lock(&self.0.accepted)
            .iter()
            .map(|(_, r)| r.clone())
            .collect()
    }

    /// The records `stream` accepted, in order (empty when counting).
    pub fn accepted_on(&self, stream: &str) -> Vec<Bytes> {
        lock(&self.0.accepted)
            .iter()
            .filter(|(s, _)| &**s == stream)
            .map(|(_, r)| r.clone())
            .collect()
    }

    /// The number of records of every call, in order (empty when counting).
    pub fn call_sizes(&self) -> Vec<usize> {
        lock(&self.0.call_sizes).clone()
    }

    pub fn tally(&self) -> Tally {
        let c = &self.0.counters;
        Tally {
            calls: c.calls.load(Ordering::Relaxed),
            records: c.records.load(Ordering::Relaxed),
            bytes: c.bytes.load(Ordering::Relaxed),
            full_calls: c.full_calls.load(Ordering::Relaxed),
            billable_units: c.billable_units.load(Ordering::Relaxed),
        }
    }
}

impl Firehose for MemFirehose {
    async fn put_record_batch(
        &self,
        stream: &str,
        records: Vec<Bytes>,
    ) -> Result<Vec<Option<String>>, PutError> {
        let state = &self.0;
        let bytes: usize = records.iter().map(Bytes::len).sum();
        assert!(
            records.len() <= MAX_BATCH_RECORDS,
            "{} records in one call",
            records.len()
        );
        assert!(bytes <= MAX_BATCH_BYTES, "{bytes} bytes in one call");
        let c = &state.counters;
        c.calls.fetch_add(1, Ordering::Relaxed);
        let largest = records.iter().map(Bytes::len).max().unwrap_or(0);
        let full = records.len() == MAX_BATCH_RECORDS || bytes + largest > MAX_BATCH_BYTES;
        c.full_calls.fetch_add(u64::from(full), Ordering::Relaxed);
        if state.keep {
            lock(&state.call_sizes).push(records.len());
        }
        let reply = lock(&state.script).pop_front().unwrap_or(Reply::Accept);
        let (refused, code) = match reply {
            Reply::Fail(e) => return Err(e),
            Reply::Accept => (Vec::new(), ""),
            Reply::Partial(positions) => (positions, "InternalFailure"),
            Reply::SlowDown(positions) => (positions, "ServiceUnavailableException"),
        };
        let mut out = Vec::with_capacity(records.len());
        let (mut n, mut size, mut units) = (0u64, 0u64, 0u64);
        let mut kept = Vec::new();
        for (i, record) in records.into_iter().enumerate() {
            if refused.contains(&i) {
                out.push(Some(code.to_string()));
                continue;
            }
            n += 1;
            size += record.len() as u64;
            units += (record.len() as u64).div_ceil(BILLING_STEP).max(1);
            if state.keep {
                kept.push(record);
            }
            out.push(None);
        }
        c.records.fetch_add(n, Ordering::Relaxed);
        c.bytes.fetch_add(size, Ordering::Relaxed);
        c.billable_units.fetch_add(units, Ordering::Relaxed);
        if state.keep {
            let stream: Arc<str> = stream.into();
            lock(&state.accepted).extend(kept.into_iter().map(|r| (stream.clone(), r)));
        }
        Ok(out)
    }
}

/// A queue in memory: keeps every message sent, or refuses them all.
#[derive(Clone, Default)]
pub struct MemRequeue {
    sent: Arc<Mutex<Vec<(String, String)>>>,
    refuse: Option<String>,
}

impl MemRequeue {
    pub fn new() -> Self {
        MemRequeue::default()
    }

    /// Every send fails with `reason` (and nothing is kept).
    pub fn refusing(reason: impl Into<String>) -> Self {
        MemRequeue {
            refuse: Some(reason.into()),
            ..MemRequeue::default()
        }
    }

    /// The messages sent, as (queue ARN, body), in order.
    pub fn sent(&self) -> Vec<(String, String)> {
        lock(&self.sent).clone()
    }
}

impl Requeue for MemRequeue {
    fn send<'a>(
        &'a self,
        queue_arn: &'a str,
        body: String,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async move {
            if let Some(reason) = &self.refuse {
                return Err(format!("SendMessage to {queue_arn}: {reason}"));
            }
            lock(&self.sent).push((queue_arn.to_string(), body));
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn obj(bucket: &str, key: &str) -> ObjectRef {
        ObjectRef {
            bucket: bucket.into(),
            key: key.into(),
            ..ObjectRef::default()
        }
    }

    async fn read(store: &MemStore, key: &str) -> Result<io::Result<Vec<u8>>, SourceError> {
        let mut opened = store.open(&obj("b", key), &ReadTarget::default()).await?;
        let mut out = Vec::new();
        let read =
            tokio::time::timeout(Duration::from_millis(50), opened.body.read_to_end(&mut out))
                .await
                .unwrap_or_else(|_| Err(io::Error::new(io::ErrorKind::TimedOut, "hung")));
        Ok(read.map(|_| out))
    }

    #[tokio::test]
    async fn the_store_serves_bodies_and_scripted_faults() {
        let store = MemStore::new()
            .with("b", "k", "one\ntwo\n")
            .with_object(
                "b",
                "stall",
                MemObject::Stall {
                    first: "x\n".into(),
                },
            )
            .with_object(
                "b",
                "reset",
                MemObject::Break {
                    first: "x\n".into(),
                    kind: io::ErrorKind::ConnectionReset,
                },
            );
        assert_eq!(read(&store, "k").await.unwrap().unwrap(), b"one\ntwo\n");
        let hung = read(&store, "stall").await.unwrap().unwrap_err();
        assert_eq!(hung.kind(), io::ErrorKind::TimedOut);
        let broke = read(&store, "reset").await.unwrap().unwrap_err();
        assert_eq!(broke.kind(), io::ErrorKind::ConnectionReset);
        assert!(matches!(
            read(&store, "missing").await,
            Err(SourceError::NotFound { .. })
        ));
        let store = store.with_object(
            "b",
            "slow",
            MemObject::Fail(Fault::Retryable("SlowDown".into())),
        );
        match read(&store, "slow").await {
            Err(e @ SourceError::Retryable { .. }) => {
                assert_eq!(e.to_string(), "s3://b/slow: SlowDown")
            }
            other => panic!("{:?}", other.map(|_| ())),
        }
        assert_eq!(store.opens(), 5);
    }

    #[tokio::test]
    async fn the_firehose_answers_as_scripted_then_accepts() {
        let fh = MemFirehose::new()
            .then(Reply::throttled())
            .then(Reply::Partial(vec![1]))
            .then(Reply::SlowDown(vec![0]));
        let recs = || vec![Bytes::from("a"), Bytes::from("b")];
        let e = fh.put_record_batch("s", recs()).await.unwrap_err();
        assert!(e.retryable && e.throttled);
        let codes = fh.put_record_batch("s", recs()).await.unwrap();
        assert_eq!(codes, vec![None, Some("InternalFailure".into())]);
        let codes = fh.put_record_batch("s", recs()).await.unwrap();
        assert_eq!(
            codes,
            vec![Some("ServiceUnavailableException".into()), None]
        );
        assert_eq!(
            fh.put_record_batch("s", recs()).await.unwrap(),
            vec![None, None]
        );
        assert_eq!(fh.accepted(), vec!["a", "b", "a", "b"]);
        assert_eq!(fh.call_sizes(), vec![2, 2, 2, 2]);
        let t = fh.tally();
        assert_eq!(
            (t.calls, t.records, t.bytes, t.billable_units),
            (4, 4, 4, 4)
        );
    }

    #[tokio::test]
    async fn a_counting_firehose_keeps_nothing() {
        let fh = MemFirehose::counting();
        let big = Bytes::from(vec![b'x'; 6 * 1024]);
        fh.put_record_batch("s", vec![big, Bytes::from("a")])
            .await
            .unwrap();
        assert!(fh.accepted().is_empty() && fh.call_sizes().is_empty());
        let t = fh.tally();
        assert_eq!((t.records, t.billable_units, t.full_calls), (2, 3, 0));
    }

    #[tokio::test]
    async fn the_queue_keeps_or_refuses_messages() {
        let q = MemRequeue::new();
        q.send("arn:q", "m".into()).await.unwrap();
        assert_eq!(q.sent(), vec![("arn:q".to_string(), "m".to_string())]);
        let refusing = MemRequeue::refusing("AccessDenied");
        assert!(refusing
            .send("arn:q", "m".into())
            .await
            .unwrap_err()
            .contains("AccessDenied"));
        assert!(refusing.sent().is_empty());
    }
}

/// A delivery stream that holds a quota as Firehose does: token buckets
/// for requests, records and bytes per second (each holding at most one
/// second's worth), refilled continuously. A call when no request is left
/// fails whole with `ServiceUnavailableException`; otherwise its records are
/// taken in order while records and bytes last, and the rest come back with
/// `ServiceUnavailableException` ("Slow down."), as a partial
/// `FailedPutCount`. Time is tokio's, so a test with paused time runs a
/// minute of quota in milliseconds. Moto enforces no quota; this stands in.
#[derive(Clone)]
pub struct QuotaFirehose(Arc<Mutex<Quota>>);

/// What a [`QuotaFirehose`] saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuotaTally {
    pub calls: u64,
    /// Calls refused whole for want of a request.
    pub refused_calls: u64,
    /// Calls with some records refused.
    pub partial_calls: u64,
    pub records_accepted: u64,
    pub records_refused: u64,
    pub bytes_accepted: u64,
    /// Records accepted more than once (same bytes).
    pub duplicates: u64,
}

struct Quota {
    per_second: [f64; 3],
    tokens: [f64; 3],
    at: tokio::time::Instant,
    tally: QuotaTally,
    seen: std::collections::HashSet<Bytes>,
}

impl QuotaFirehose {
    /// A stream with these quotas per second (Firehose's Direct PUT default
    /// in most regions: 1,000 requests, 100,000 records, 1 MiB).
    pub fn new(requests: u32, records: u32, bytes: u64) -> Self {
        let per_second = [f64::from(requests), f64::from(records), bytes as f64];
        QuotaFirehose(Arc::new(Mutex::new(Quota {
            per_second,
            tokens: per_second,
            at: tokio::time::Instant::now(),
            tally: QuotaTally::default(),
            seen: std::collections::HashSet::new(),
        })))
    }

    pub fn tally(&self) -> QuotaTally {
        lock(&self.0).tally.clone()
    }

    /// The share of the byte quota used over a run of `seconds` from the
    /// stream's creation: accepted bytes ÷ (the first second's burst plus
    /// a second's worth for every second of the run).
    pub fn share_used(&self, seconds: f64) -> f64 {
        let q = lock(&self.0);
        q.tally.bytes_accepted as f64 / ((1.0 + seconds) * q.per_second[2])
    }

    /// One line for a test's output: calls, throttling, time and share used.
    pub fn summary(&self, seconds: f64) -> String {
        let t = self.tally();
        format!(
            "{} calls ({} refused whole, {} partial), {seconds:.1} s, {:.0}% of the quota used",
            t.calls,
            t.refused_calls,
            t.partial_calls,
            self.share_used(seconds) * 100.0
        )
    }
}

/// The quota is the one stream's: calls to any stream name share it.
impl Firehose for QuotaFirehose {
    async fn put_record_batch(
        &self,
        _stream: &str,
        records: Vec<Bytes>,
    ) -> Result<Vec<Option<String>>, PutError> {
        let bytes: usize = records.iter().map(Bytes::len).sum();
        assert!(records.len() <= MAX_BATCH_RECORDS && bytes <= MAX_BATCH_BYTES);
        let mut q = lock(&self.0);
        let now = tokio::time::Instant::now();
        let elapsed = now.duration_since(q.at).as_secs_f64();
        q.at = now;
        for i in 0..3 {
            q.tokens[i] = (q.tokens[i] + elapsed * q.per_second[i]).min(q.per_second[i]);
        }
        q.tally.calls += 1;
        if q.tokens[0] < 1.0 {
            q.tally.refused_calls += 1;
            return Err(PutError {
                retryable: true,
                throttled: true,
                message: "ServiceUnavailableException: Slow down. (quota stand-in)".into(),
            });
        }
        q.tokens[0] -= 1.0;
        let mut out = Vec::with_capacity(records.len());
        let mut refused = 0u64;
        for r in records {
            let size = r.len() as f64;
            if q.tokens[1] >= 1.0 && q.tokens[2] >= size {
                q.tokens[1] -= 1.0;
                q.tokens[2] -= size;
                q.tally.records_accepted += 1;
                q.tally.bytes_accepted += r.len() as u64;
                if !q.seen.insert(r) {
                    q.tally.duplicates += 1;
                }
                out.push(None);
            } else {
                refused += 1;
                out.push(Some("ServiceUnavailableException".to_string()));
            }
        }
        if refused > 0 {
            q.tally.partial_calls += 1;
            q.tally.records_refused += refused;
        }
        Ok(out)
    }
}
