//! What happens next after a failure: the one question every error that
//! reaches `batch` answers.

/// The fate of a message (or object) after an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Disposition {
    /// Transient (throttling, 5xx, timeouts, access denied, deadline): the
    /// message is reported failed and SQS delivers it again.
    Retry,
    /// Nothing to do and nothing lost (object deleted, digest file, folder
    /// marker): the message may succeed.
    Skip,
    /// Can never succeed as it is (not JSON, unknown shape, over a limit): the
    /// message is reported failed so that SQS moves it to the dead-letter queue
    /// after `maxReceiveCount`.
    Poison,
    /// Not allowed by configuration (bucket not in `ALLOWED_BUCKETS`): never
    /// fetched, the message is reported failed.
    Refused,
}

impl Disposition {
    /// Whether the message carrying this failure is reported in `batchItemFailures`.
    pub fn fails_message(self) -> bool {
        !matches!(self, Disposition::Skip)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::Retry => "retry",
            Disposition::Skip => "skip",
            Disposition::Poison => "poison",
            Disposition::Refused => "refused",
        }
    }
}
