//! `ObjectStore` on Amazon S3: a streamed `GetObject` with the credentials of
//! the object's source, and the classification of S3 errors into retry / skip
//! / poison.

use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::operation::get_object::GetObjectError;

use super::{ObjectStore, OpenedObject, SourceError};
use crate::config::{ReadTarget, RoleConfig};
use crate::credentials::{describe, S3Clients};
use crate::envelope::ObjectRef;

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

fn classify(
    obj: &ObjectRef,
    role: Option<&RoleConfig>,
    err: SdkError<GetObjectError>,
) -> SourceError {
    let bucket = obj.bucket.clone();
    let key = obj.key.clone();
    if let SdkError::ServiceError(se) = &err {
        if se.err().is_no_such_key() {
            return SourceError::NotFound { bucket, key };
        }
        let code = se.err().code().unwrap_or("");
        let status = se.raw().status().as_u16();
        // The notified version was deleted before it was read: like
        // NoSuchKey, nothing to read and nothing lost.
        if code == "NoSuchVersion" {
            return SourceError::NotFound { bucket, key };
        }
        if code == "PreconditionFailed" || status == 412 {
            return SourceError::Replaced {
                bucket,
                key,
                etag: obj.etag.clone().unwrap_or_default(),
            };
        }
        let hint = match code {
            "AccessDenied" => format!(
                "access denied reading with {}: check the role's s3:GetObject permission on this bucket and prefix, the bucket policy, and kms:Decrypt for SSE-KMS objects",
                describe(role)
            ),
            "NoSuchBucket" => "the bucket does not exist (or is in another partition)".to_string(),
            "InvalidObjectState" => {
                return SourceError::Permanent {
                    bucket,
                    key,
                    message: "object is archived (Glacier/Deep Archive): restore it to forward it".into(),
                }
            }
            "SlowDown" | "ServiceUnavailable" => "S3 is throttling (SlowDown)".to_string(),
            _ => format!("S3 answered HTTP {status}"),
        };
        return SourceError::Retryable {
            bucket,
            key,
            message: format!(
                "GetObject failed ({code}): {hint}: {}",
                DisplayErrorContext(&err)
            ),
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
