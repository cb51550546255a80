//! `ObjectStore` on Amazon S3: a streamed `GetObject` with the credentials of
//! the object's source, and the classification of S3 errors into retry / skip
//! / poison.

use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::operation::get_object::GetObjectError;

use super::{ObjectStore, OpenedObject, SourceError};
use crate::config::{ReadTarget, RoleConfig};
use crate::credentials::{describe, S3Clients};
use crate::envelope::ObjectRef;
use crate::error::Disposition;

/// Reads objects from S3 with the credentials of each object's source.
pub struct S3Store {
    clients: S3Clients,
}

impl S3Store {
    pub fn new(clients: S3Clients) -> Self {
        S3Store { clients }
    }
}

impl ObjectStore for S3Store {
    async fn open(
        &self,
        obj: &ObjectRef,
        target: &ReadTarget,
    ) -> Result<OpenedObject, SourceError> {
        let role = target.role.as_ref();
        let client = self.clients.client(role, target.region.as_deref()).await;
        let resp = client
            .get_object()
            // An access point ARN or alias goes where the bucket name goes.
            .bucket(target.access_point.as_deref().unwrap_or(&obj.bucket))
            .key(&obj.key)
            .set_version_id(obj.version_id.clone())
            // Without a version id, read only the version the notification
            // announced: a replaced object has its own notification.
            .set_if_match(if_match(obj))
            .set_expected_bucket_owner(target.expected_owner.clone())
            .send()
            .await
            .map_err(|e| classify(obj, role, e))?;
        Ok(OpenedObject {
            etag: resp.e_tag().map(|t| t.trim_matches('"').to_string()),
            version_id: resp.version_id().map(str::to_string),
            content_length: resp.content_length().and_then(|n| u64::try_from(n).ok()),
            body: Box::new(resp.body.into_async_read()),
        })
    }
}

fn if_match(obj: &ObjectRef) -> Option<String> {
    if obj.version_id.is_some() {
        return None;
    }
    obj.etag
        .as_deref()
        .map(|e| e.trim_matches('"'))
        .filter(|e| !e.is_empty())
        .map(|e| format!("\"{e}\""))
}

/// What a `GetObject` error answer means for the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GetObjectVerdict {
    /// Gone before it was read: nothing to read and nothing lost.
    NotFound,
    /// The notified version was replaced; the new one has its own notification.
    Replaced,
    /// May pass on retry; the hint says what to check.
    Retry(Hint),
    /// Can never be read as it is; the text is the whole message.
    Permanent(&'static str),
}

/// The advice a retryable `GetObject` failure carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hint {
    /// Fixed text.
    Text(&'static str),
    /// Access denied: the text follows the credentials that were used.
    Denied(&'static str),
    /// Nothing more to say than the HTTP status.
    Status,
}

impl GetObjectVerdict {
    pub fn disposition(self) -> Disposition {
        match self {
            GetObjectVerdict::NotFound | GetObjectVerdict::Replaced => Disposition::Skip,
            GetObjectVerdict::Retry(_) => Disposition::Retry,
            GetObjectVerdict::Permanent(_) => Disposition::Poison,
        }
    }
}

impl Hint {
    /// The hint's text for a read with `role` answered with HTTP `status`.
    pub fn render(self, role: Option<&RoleConfig>, status: u16) -> String {
        match self {
            Hint::Text(text) => text.to_string(),
            Hint::Denied(text) => format!("access denied reading with {}: {text}", describe(role)),
            Hint::Status => format!("S3 answered HTTP {status}"),
        }
    }
}

/// `GetObject` error codes with a meaning of their own. Any other code is
/// retried with the HTTP status as its hint ([`get_object_verdict`]).
pub const GET_OBJECT_ERRORS: &[(&str, GetObjectVerdict)] = &[
    ("NoSuchKey", GetObjectVerdict::NotFound),
    // The notified version was deleted before it was read: like NoSuchKey,
    // nothing to read and nothing lost.
    ("NoSuchVersion", GetObjectVerdict::NotFound),
    ("PreconditionFailed", GetObjectVerdict::Replaced),
    (
        "AccessDenied",
        GetObjectVerdict::Retry(Hint::Denied(
            "check the role's s3:GetObject permission on this bucket and prefix, the bucket policy, and kms:Decrypt for SSE-KMS objects",
        )),
    ),
    (
        "NoSuchBucket",
        GetObjectVerdict::Retry(Hint::Text(
            "the bucket does not exist (or is in another partition)",
        )),
    ),
    (
        "InvalidObjectState",
        GetObjectVerdict::Permanent(
            "object is archived (Glacier/Deep Archive): restore it to forward it",
        ),
    ),
    ("SlowDown", GetObjectVerdict::Retry(Hint::Text("S3 is throttling (SlowDown)"))),
    (
        "ServiceUnavailable",
        GetObjectVerdict::Retry(Hint::Text("S3 is throttling (SlowDown)")),
    ),
];

/// What S3's error answer (`code`, HTTP `status`) means: the row of
/// [`GET_OBJECT_ERRORS`] for the code, except that a 412 is a failed
/// precondition (a replaced object) whatever its code unless the code says
/// the object is gone; an unknown code is retried.
pub fn get_object_verdict(code: &str, status: u16) -> GetObjectVerdict {
    let row = GET_OBJECT_ERRORS
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, verdict)| *verdict);
    match row {
        Some(GetObjectVerdict::NotFound) => GetObjectVerdict::NotFound,
        _ if status == 412 => GetObjectVerdict::Replaced,
        Some(verdict) => verdict,
        None => GetObjectVerdict::Retry(Hint::Status),
    }
}

/// Unpacks the SDK's error and applies [`get_object_verdict`].
fn classify(
    obj: &ObjectRef,
    role: Option<&RoleConfig>,
    err: SdkError<GetObjectError>,
) -> SourceError {
    let bucket = obj.bucket.clone();
    let key = obj.key.clone();
    if let SdkError::ServiceError(se) = &err {
        let code = if se.err().is_no_such_key() {
            "NoSuchKey"
        } else {
            se.err().code().unwrap_or("")
        };
        let status = se.raw().status().as_u16();
        return match get_object_verdict(code, status) {
            GetObjectVerdict::NotFound => SourceError::NotFound { bucket, key },
            GetObjectVerdict::Replaced => SourceError::Replaced {
                bucket,
                key,
                etag: obj.etag.clone().unwrap_or_default(),
            },
            GetObjectVerdict::Permanent(message) => SourceError::Permanent {
                bucket,
                key,
                message: message.into(),
            },
            GetObjectVerdict::Retry(hint) => SourceError::Retryable {
                bucket,
                key,
                message: format!(
                    "GetObject failed ({code}): {}: {}",
                    hint.render(role, status),
                    DisplayErrorContext(&err)
                ),
            },
        };
    }
    // Dispatch failures, timeouts and credential errors (including a failed
    // AssumeRole, whose STS error is in the context chain) land here; all may
    // pass on retry.
    let message = format!(
        "GetObject did not complete reading with {} (network, timeout or credentials; for AssumeRole AccessDenied check the role's trust policy: principal, sts:ExternalId condition, session name): {}",
        describe(role),
        DisplayErrorContext(&err)
    );
    SourceError::Retryable {
        bucket,
        key,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role() -> RoleConfig {
        RoleConfig {
            arn: "arn:aws:iam::111122223333:role/reader".into(),
            session_name: "forwarder".into(),
            external_id: Some("x".into()),
        }
    }

    #[test]
    fn get_object_error_codes_map_to_their_disposition() {
        use Disposition::*;
        let cases: &[(&str, u16, Disposition)] = &[
            ("NoSuchKey", 404, Skip),
            ("NoSuchVersion", 404, Skip),
            ("PreconditionFailed", 412, Skip),
            ("", 412, Skip),
            ("AccessDenied", 403, Retry),
            ("NoSuchBucket", 404, Retry),
            ("InvalidObjectState", 403, Poison),
            ("SlowDown", 503, Retry),
            ("ServiceUnavailable", 503, Retry),
            ("InternalError", 500, Retry),
            ("", 500, Retry),
            ("SomethingNew", 400, Retry),
        ];
        for (code, status, want) in cases {
            let got = get_object_verdict(code, *status).disposition();
            assert_eq!(got, *want, "{code:?} / HTTP {status}");
        }
    }

    #[test]
    fn gone_and_replaced_objects_are_told_apart() {
        assert_eq!(
            get_object_verdict("NoSuchKey", 404),
            GetObjectVerdict::NotFound
        );
        assert_eq!(
            get_object_verdict("NoSuchVersion", 404),
            GetObjectVerdict::NotFound
        );
        // A code that says the object is gone wins over the status.
        assert_eq!(
            get_object_verdict("NoSuchKey", 412),
            GetObjectVerdict::NotFound
        );
        assert_eq!(
            get_object_verdict("PreconditionFailed", 412),
            GetObjectVerdict::Replaced
        );
        // A 412 without a code of its own (as to a HEAD) is a failed precondition too.
        assert_eq!(get_object_verdict("", 412), GetObjectVerdict::Replaced);
        assert_eq!(
            get_object_verdict("AccessDenied", 412),
            GetObjectVerdict::Replaced
        );
    }

    #[test]
    fn retry_hints_say_what_to_check() {
        let r = role();
        let hint = |code: &str, status: u16, role: Option<&RoleConfig>| match get_object_verdict(
            code, status,
        ) {
            GetObjectVerdict::Retry(h) => h.render(role, status),
            other => panic!("{code}: {other:?} is not a retry"),
        };
        assert_eq!(
            hint("AccessDenied", 403, Some(&r)),
            "access denied reading with role arn:aws:iam::111122223333:role/reader (session forwarder, with external id): check the role's s3:GetObject permission on this bucket and prefix, the bucket policy, and kms:Decrypt for SSE-KMS objects"
        );
        assert!(hint("AccessDenied", 403, None)
            .starts_with("access denied reading with the function's own credentials: "));
        assert_eq!(hint("SlowDown", 503, None), "S3 is throttling (SlowDown)");
        assert_eq!(
            hint("ServiceUnavailable", 503, None),
            "S3 is throttling (SlowDown)"
        );
        assert_eq!(
            hint("NoSuchBucket", 404, None),
            "the bucket does not exist (or is in another partition)"
        );
        assert_eq!(hint("InternalError", 500, None), "S3 answered HTTP 500");
        assert_eq!(hint("", 500, None), "S3 answered HTTP 500");
        assert_eq!(hint("SomethingNew", 400, None), "S3 answered HTTP 400");
    }

    #[test]
    fn archived_objects_are_poison_with_a_restore_hint() {
        assert_eq!(
            get_object_verdict("InvalidObjectState", 403),
            GetObjectVerdict::Permanent(
                "object is archived (Glacier/Deep Archive): restore it to forward it"
            )
        );
    }

    #[test]
    fn every_code_in_the_table_is_listed_once() {
        for (i, (code, _)) in GET_OBJECT_ERRORS.iter().enumerate() {
            assert!(
                GET_OBJECT_ERRORS[i + 1..].iter().all(|(c, _)| c != code),
                "{code} twice"
            );
        }
    }
}
