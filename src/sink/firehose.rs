//! `Firehose` on the AWS SDK: one `PutRecordBatch` call, its errors sorted
//! into retryable or not. Retrying itself is the batcher's job (the client is
//! built with SDK retries off so that one backoff policy governs, within the
//! invocation's deadline).

use aws_sdk_firehose::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_firehose::primitives::Blob;
use aws_sdk_firehose::types::Record;
use bytes::Bytes;

use super::{Firehose, PutError};

/// Sends to one delivery stream.
pub struct SdkFirehose {
    client: aws_sdk_firehose::Client,
    stream: String,
}

impl SdkFirehose {
    /// Builds the client from the shared SDK configuration, with SDK retries
    /// disabled (the batcher retries only the failed records).
    pub fn new(base: &aws_config::SdkConfig, stream: impl Into<String>) -> Self {
        let conf = aws_sdk_firehose::config::Builder::from(base)
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .build();
        SdkFirehose {
            client: aws_sdk_firehose::Client::from_conf(conf),
            stream: stream.into(),
        }
    }
}

impl Firehose for SdkFirehose {
    async fn put_record_batch(&self, records: Vec<Bytes>) -> Result<Vec<Option<String>>, PutError> {
        let n = records.len();
        let records: Vec<Record> = records
            .into_iter()
            .map(|data| Record::builder().data(Blob::new(Vec::from(data))).build())
            .collect::<Result<_, _>>()
            .map_err(|e| PutError {
                retryable: false,
                message: format!("cannot build a Firehose record: {e}"),
            })?;
        let out = self
            .client
            .put_record_batch()
            .delivery_stream_name(&self.stream)
            .set_records(Some(records))
            .send()
            .await
            .map_err(|e| classify(&self.stream, e))?;
        let responses = out.request_responses();
        if responses.len() != n {
            return Err(PutError {
                retryable: true,
                message: format!(
                    "PutRecordBatch to {} answered {} results for {n} records",
                    self.stream,
                    responses.len()
                ),
            });
        }
        Ok(responses
            .iter()
            .map(|r| r.error_code().map(str::to_string))
            .collect())
    }
}

fn classify<E>(stream: &str, err: SdkError<E>) -> PutError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let code = match &err {
        SdkError::ServiceError(se) => se.err().code().unwrap_or("").to_string(),
        _ => String::new(),
    };
    let (retryable, hint) = match code.as_str() {
        "ResourceNotFoundException" => (
            false,
            "the delivery stream does not exist: check DELIVERY_STREAM_NAME and the region",
        ),
        "AccessDeniedException" => (
            false,
            "the function may not write to the stream: check firehose:PutRecordBatch on its ARN",
        ),
        "InvalidArgumentException" | "InvalidKMSResourceException" | "InvalidSourceException" => {
            (false, "the stream refused the request")
        }
        "ServiceUnavailableException" | "LimitExceededException" | "ThrottlingException" => {
            (true, "Firehose is throttling")
        }
        "" => (true, "no answer (network or timeout)"),
        _ => (true, "unexpected error"),
    };
    PutError {
        retryable,
        message: format!(
            "PutRecordBatch to {stream} failed ({}): {hint}: {}",
            if code.is_empty() { "-" } else { &code },
            DisplayErrorContext(&err)
        ),
    }
}
