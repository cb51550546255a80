//! `Firehose` on the AWS SDK: one `PutRecordBatch` call, its errors sorted
//! into retryable or not. Retrying itself is the batcher's job (the client is
//! built with SDK retries off so that one backoff policy governs, within the
//! invocation's deadline).
//!
//! The request body is written here in one pass (each record base64-encoded
//! straight into the body buffer) and handed to the SDK by an interceptor
//! before signing, so the SDK still signs, sends and parses the answer. The
//! SDK's own path would copy every record into a `Vec`, encode it into a
//! `String`, scan that for characters to escape and copy it into the body:
//! the profile in BENCHMARKS.md shows those copies beside the signature's
//! SHA-256, which no client can avoid.

use aws_sdk_firehose::config::interceptors::BeforeTransmitInterceptorContextMut;
use aws_sdk_firehose::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_firehose::error::{BoxError, DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_smithy_types::body::SdkBody;
use bytes::Bytes;

use super::{Firehose, PutError};

/// Sends to delivery streams.
pub struct SdkFirehose {
    client: aws_sdk_firehose::Client,
}

impl SdkFirehose {
    /// Builds the client from the shared SDK configuration, with SDK retries
    /// disabled (the batcher retries only the failed records).
    pub fn new(base: &aws_config::SdkConfig) -> Self {
        let conf = aws_sdk_firehose::config::Builder::from(base)
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .build();
        SdkFirehose {
            client: aws_sdk_firehose::Client::from_conf(conf),
        }
    }
}

impl Firehose for SdkFirehose {
    async fn put_record_batch(
        &self,
        stream: &str,
        records: Vec<Bytes>,
    ) -> Result<Vec<Option<String>>, PutError> {
        let n = records.len();
        let body = request_body(stream, &records);
        // The SDK serializes an empty list; the interceptor puts the real
        // body in its place before the request is signed.
        let out = self
            .client
            .put_record_batch()
            .delivery_stream_name(stream)
            .set_records(Some(Vec::new()))
            .customize()
            .interceptor(PrebuiltBody(body))
            .send()
            .await
            .map_err(|e| classify(stream, e))?;
        let responses = out.request_responses();
        if responses.len() != n {
            return Err(PutError {
                retryable: true,
                throttled: false,
                message: format!(
                    "PutRecordBatch to {} answered {} results for {n} records",
                    stream,
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

/// The JSON body of `PutRecordBatch` for `records`, written in one pass:
/// `{"DeliveryStreamName":"…","Records":[{"Data":"<base64>"},…]}`.
pub fn request_body(stream: &str, records: &[Bytes]) -> Bytes {
    const OPEN: &[u8] = b"{\"Data\":\"";
    const CLOSE: &[u8] = b"\"}";
    let b64 = base64_simd::STANDARD;
    let size = 64
        + 2 * stream.len()
        + records
            .iter()
            .map(|r| OPEN.len() + CLOSE.len() + 1 + b64.encoded_length(r.len()))
            .sum::<usize>();
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(b"{\"DeliveryStreamName\":");
    // A stream name is [a-zA-Z0-9_.-]; escaped anyway, so any string is valid JSON.
    out.extend_from_slice(serde_json::Value::from(stream).to_string().as_bytes());
    out.extend_from_slice(b",\"Records\":[");
    for (i, record) in records.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(OPEN);
        b64.encode_append(record, &mut out);
        out.extend_from_slice(CLOSE);
    }
    out.extend_from_slice(b"]}");
    Bytes::from(out)
}

/// Replaces the serialized request body with one written beforehand.
#[derive(Debug)]
struct PrebuiltBody(Bytes);

impl Intercept for PrebuiltBody {
    fn name(&self) -> &'static str {
        "PrebuiltPutRecordBatchBody"
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request_mut();
        *request.body_mut() = SdkBody::from(self.0.clone());
        request
            .headers_mut()
            .insert("Content-Length", self.0.len().to_string());
        Ok(())
    }
}

/// Whether a failed `PutRecordBatch` call may pass if repeated, and what to check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PutVerdict {
    pub retryable: bool,
    pub hint: &'static str,
}

const fn verdict(retryable: bool, hint: &'static str) -> PutVerdict {
    PutVerdict { retryable, hint }
}

const REFUSED: PutVerdict = verdict(false, "the stream refused the request");
const THROTTLED: PutVerdict = verdict(true, "Firehose is throttling");
/// No error code: the call got no answer.
const NO_ANSWER: PutVerdict = verdict(true, "no answer (network or timeout)");
/// Any code not in [`PUT_RECORD_BATCH_ERRORS`].
const UNEXPECTED: PutVerdict = verdict(true, "unexpected error");

/// `PutRecordBatch` error codes with a meaning of their own.
pub const PUT_RECORD_BATCH_ERRORS: &[(&str, PutVerdict)] = &[
    (
        "ResourceNotFoundException",
        verdict(
            false,
            "the delivery stream does not exist: check DELIVERY_STREAM_NAME and the region",
        ),
    ),
    (
        "AccessDeniedException",
        verdict(
            false,
            "the function may not write to the stream: check firehose:PutRecordBatch on its ARN",
        ),
    ),
    ("InvalidArgumentException", REFUSED),
    ("InvalidKMSResourceException", REFUSED),
    ("InvalidSourceException", REFUSED),
    ("ServiceUnavailableException", THROTTLED),
    ("LimitExceededException", THROTTLED),
    ("ThrottlingException", THROTTLED),
];

/// What a failed call's error `code` means: an empty code is no answer at
/// all, a code of the table its row, any other code a retryable surprise.
pub fn put_verdict(code: &str) -> PutVerdict {
    if code.is_empty() {
        return NO_ANSWER;
    }
    PUT_RECORD_BATCH_ERRORS
        .iter()
        .find(|(c, _)| *c == code)
        .map_or(UNEXPECTED, |(_, v)| *v)
}

/// Unpacks the SDK's error and applies [`put_verdict`].
fn classify<E>(stream: &str, err: SdkError<E>) -> PutError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let code = match &err {
        SdkError::ServiceError(se) => se.err().code().unwrap_or(""),
        _ => "",
    };
    let PutVerdict { retryable, hint } = put_verdict(code);
    PutError {
        retryable,
        throttled: super::is_throttle_code(code),
        message: format!(
            "PutRecordBatch to {stream} failed ({}): {hint}: {}",
            if code.is_empty() { "-" } else { code },
            DisplayErrorContext(&err)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    #[test]
    fn put_record_batch_error_codes_say_whether_to_retry() {
        let cases: &[(&str, bool, &str)] = &[
            (
                "ResourceNotFoundException",
                false,
                "the delivery stream does not exist: check DELIVERY_STREAM_NAME and the region",
            ),
            (
                "AccessDeniedException",
                false,
                "the function may not write to the stream: check firehose:PutRecordBatch on its ARN",
            ),
            ("InvalidArgumentException", false, "the stream refused the request"),
            ("InvalidKMSResourceException", false, "the stream refused the request"),
            ("InvalidSourceException", false, "the stream refused the request"),
            ("ThrottlingException", true, "Firehose is throttling"),
            ("ServiceUnavailableException", true, "Firehose is throttling"),
            ("LimitExceededException", true, "Firehose is throttling"),
            ("", true, "no answer (network or timeout)"),
            ("InternalFailure", true, "unexpected error"),
            ("SomethingNew", true, "unexpected error"),
        ];
        for (code, retryable, hint) in cases {
            let got = put_verdict(code);
            assert_eq!(got.retryable, *retryable, "{code:?}");
            assert_eq!(got.hint, *hint, "{code:?}");
        }
    }

    #[test]
    fn the_body_is_the_json_the_sdk_would_send() {
        let records = vec![
            Bytes::from_static(b"{\"a\":1}\n"),
            Bytes::new(),
            Bytes::from((0..=255u8).collect::<Vec<u8>>()),
        ];
        let body = request_body("logs-\"x\"", &records);
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["DeliveryStreamName"], "logs-\"x\"");
        let got: Vec<Vec<u8>> = v["Records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                base64::engine::general_purpose::STANDARD
                    .decode(r["Data"].as_str().unwrap())
                    .unwrap()
            })
            .collect();
        let want: Vec<Vec<u8>> = records.iter().map(|r| r.to_vec()).collect();
        assert_eq!(got, want);
    }
}
