//! Reading one object: the seam to the object store (`ObjectStore`), the S3
//! implementation, and the synchronous decoding chain (size limits,
//! decompression by magic bytes) that turns the raw body into a `BufRead` of
//! log text.
//!
//! It does not parse formats or decide whether a bucket is allowed.

pub mod deadline;
pub mod decode;
pub mod s3;

use std::future::Future;

use thiserror::Error;
use tokio::io::AsyncRead;

use crate::config::ReadTarget;
use crate::envelope::ObjectRef;
use crate::error::Disposition;

/// An object opened for streaming.
pub struct OpenedObject {
    pub body: Box<dyn AsyncRead + Send + Unpin>,
    /// ETag from the GET response, without quotes.
    pub etag: Option<String>,
    pub version_id: Option<String>,
    pub content_length: Option<u64>,
}

/// Why an object could not be opened (or read).
#[derive(Debug, Error)]
pub enum SourceError {
    /// The object is gone (deleted, or never existed): retrying cannot help.
    #[error("s3://{bucket}/{key}: no such key (deleted before it was read?)")]
    NotFound { bucket: String, key: String },
    /// The object was replaced after the notification (its ETag changed): the
    /// new version has a notification of its own, so nothing is lost.
    #[error("s3://{bucket}/{key}: replaced after the notification (ETag {etag} no longer matches); the new version's own notification brings it")]
    Replaced {
        bucket: String,
        key: String,
        etag: String,
    },
    /// A failure that may pass: throttling, 5xx, timeouts, credentials, access denied.
    #[error("s3://{bucket}/{key}: {message}")]
    Retryable {
        bucket: String,
        key: String,
        message: String,
    },
    /// The object can never be read as it is (e.g. larger than allowed).
    #[error("s3://{bucket}/{key}: {message}")]
    Permanent {
        bucket: String,
        key: String,
        message: String,
    },
}

impl SourceError {
    pub fn disposition(&self) -> Disposition {
        match self {
            SourceError::NotFound { .. } | SourceError::Replaced { .. } => Disposition::Skip,
            SourceError::Retryable { .. } => Disposition::Retry,
            SourceError::Permanent { .. } => Disposition::Poison,
        }
    }
}

/// The seam to the object store: "give me a byte stream for this object,
/// read as `target` says (credentials, region, owner check, access point)".
pub trait ObjectStore: Send + Sync + 'static {
    fn open(
        &self,
        obj: &ObjectRef,
        target: &ReadTarget,
    ) -> impl Future<Output = Result<OpenedObject, SourceError>> + Send;
}
