//! Delivery to Kinesis Data Firehose: the seam (`Firehose`: "deliver these
//! records, tell me which failed"), the SDK implementation, and the batcher
//! that packs records from every message of an invocation into
//! `PutRecordBatch` calls within the service limits and re-sends only the
//! records that failed.

pub mod batcher;
pub mod firehose;
pub mod pace;
pub mod packing;

use std::future::Future;

use bytes::Bytes;

/// Firehose `PutRecordBatch` limits: records per call.
pub const MAX_BATCH_RECORDS: usize = 500;
/// Firehose `PutRecordBatch` limits: bytes per call (sum of record data).
pub const MAX_BATCH_BYTES: usize = 4 * 1024 * 1024;
/// Firehose limit per record (1,000 KiB); enforced where records are written.
pub use crate::record::MAX_RECORD_BYTES;

/// A whole `PutRecordBatch` call failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct PutError {
    /// Whether the same call may succeed if repeated (throttling, 5xx, network).
    pub retryable: bool,
    /// Whether the stream pushed back (over its quota): the sender slows down.
    pub throttled: bool,
    pub message: String,
}

/// Whether a per-record error code of `PutRecordBatch` means the stream is
/// over its quota (Firehose answers `ServiceUnavailableException`, "Slow
/// down.").
pub fn is_throttle_code(code: &str) -> bool {
    matches!(
        code,
        "ServiceUnavailableException" | "ThrottlingException" | "LimitExceededException"
    )
}

/// The seam to the delivery streams.
pub trait Firehose: Send + Sync + 'static {
    /// Sends one batch to `stream` (at most [`MAX_BATCH_RECORDS`] records and
    /// [`MAX_BATCH_BYTES`] bytes). On success returns, for each record in
    /// order, `None` if it was accepted or its error code if it was not.
    fn put_record_batch(
        &self,
        stream: &str,
        records: Vec<Bytes>,
    ) -> impl Future<Output = Result<Vec<Option<String>>, PutError>> + Send;
}
