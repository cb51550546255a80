//! `s3-log-forwarder check [--bucket B [--key K]]`: checks a set-up, step by
//! step, with the function's own configuration (the same variables) against
//! real AWS, and says for each step whether it passed and, if not, what to
//! fix: credentials found, the role assumed with the external id and session
//! name, the object readable (or the bucket listable), KMS decryption where
//! the object needs it, the delivery stream active and writable.
//!
//! Nothing is written anywhere: writability is probed with an empty
//! `PutRecordBatch`, which AWS authorizes before it validates.

use std::fmt;

use aws_config::SdkConfig;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use crate::config::{Config, ReadTarget};
use crate::credentials::{describe, S3Clients};

/// What `check` was asked to read.
#[derive(Debug, Clone, Default)]
pub struct CheckArgs {
    pub bucket: Option<String>,
    pub key: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pass,
    Fail,
    Skip,
}

/// One step's verdict.
#[derive(Debug, Clone)]
pub struct Step {
    pub name: &'static str,
    pub status: Status,
    pub detail: String,
    /// What to do about a failure.
    pub fix: Option<String>,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tag = match self.status {
            Status::Pass => "pass",
            Status::Fail => "FAIL",
            Status::Skip => "skip",
        };
        write!(f, "[{tag}] {}: {}", self.name, self.detail)?;
        if let Some(fix) = &self.fix {
            write!(f, "\n       fix: {fix}")?;
        }
        Ok(())
    }
}

fn pass(name: &'static str, detail: impl Into<String>) -> Step {
    Step {
        name,
        status: Status::Pass,
        detail: detail.into(),
        fix: None,
    }
}

fn skip(name: &'static str, detail: impl Into<String>) -> Step {
    Step {
        name,
        status: Status::Skip,
        detail: detail.into(),
        fix: None,
    }
}

fn fail(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Step {
    Step {
        name,
        status: Status::Fail,
        detail: detail.into(),
        fix: Some(fix.into()),
    }
}

/// The error code and a one-line description of an SDK error.
fn code_of<E>(e: &SdkError<E, aws_smithy_runtime_api::http::Response>) -> (String, String)
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let mut code = e.code().unwrap_or("").to_string();
    let mut message = e.message().map(str::to_string);
    // An error body the SDK could not read (an XML error where JSON was
    // expected, as some endpoints answer) still names its code; failing
    // that, 403 is a denial.
    if code.is_empty() {
        if let Some(raw) = e.raw_response() {
            let body = raw
                .body()
                .bytes()
                .map(String::from_utf8_lossy)
                .unwrap_or_default();
            let tag = |t: &str| {
                let open = format!("<{t}>");
                let start = body.find(&open)? + open.len();
                let end = body[start..].find(&format!("</{t}>"))? + start;
                Some(body[start..end].to_string())
            };
            code = tag("Code").unwrap_or_default();
            message = message.or_else(|| tag("Message"));
            if code.is_empty() && raw.status().as_u16() == 403 {
                code = "AccessDenied".into();
            }
        }
    }
    let text = match message {
        Some(m) => format!("{}: {m}", if code.is_empty() { "error" } else { &code }),
        None => DisplayErrorContext(e).to_string(),
    };
    (code, text)
}

/// Runs every step; later steps that depend on a failed one are skipped.
pub async fn run(config: &Config, aws: &SdkConfig, args: &CheckArgs) -> Vec<Step> {
    let mut steps = Vec::new();

    // 1. Credentials: who are we?
    let sts = aws_sdk_sts::Client::new(aws);
    let caller = match sts.get_caller_identity().send().await {
        Ok(id) => {
            let arn = id.arn().unwrap_or("?").to_string();
            steps.push(pass("credentials", format!("found; calling as {arn}")));
            Some(arn)
        }
        Err(e) => {
            let (code, text) = code_of(&e);
            if code == "AccessDenied" || code == "AccessDeniedException" {
                // The signature was accepted: the credentials are valid.
                steps.push(pass(
                    "credentials",
                    "found and accepted (sts:GetCallerIdentity is not allowed, so the identity is not shown)",
                ));
                Some("this identity".to_string())
            } else {
                steps.push(fail(
                    "credentials",
                    text,
                    "no usable AWS credentials: run with a profile (AWS_PROFILE) or access keys of the account the function runs in, in its region (AWS_REGION)",
                ));
                None
            }
        }
    };
    if caller.is_none() {
        for name in ["role", "read", "kms", "delivery stream", "write"] {
            steps.push(skip(name, "needs credentials"));
        }
        return steps;
    }
    let caller = caller.unwrap_or_default();

    // 2. Which role reads the object, and can we assume it?
    let target = match &args.bucket {
        Some(bucket) => {
            let key = args.key.as_deref().unwrap_or("");
            match config.read_target(bucket, key, None) {
                Ok(t) => Some(t),
                Err(reason) => {
                    steps.push(fail(
                        "role",
                        format!("s3://{bucket}/{key} would be refused: {reason}"),
                        "add the bucket to ALLOWED_BUCKETS (and its account to a SOURCES entry when ALLOWED_ACCOUNTS is set)",
                    ));
                    None
                }
            }
        }
        None => Some(ReadTarget {
            role: config.role.clone(),
            ..ReadTarget::default()
        }),
    };
    let mut can_read = target.is_some();
    if let Some(t) = &target {
        match &t.role {
            None => steps.push(skip(
                "role",
                "no role to assume: objects are read with the function's own credentials",
            )),
            Some(role) => {
                let mut req = sts
                    .assume_role()
                    .role_arn(&role.arn)
                    .role_session_name(&role.session_name);
                if let Some(id) = &role.external_id {
                    req = req.external_id(id);
                }
                match req.send().await {
                    Ok(out) => steps.push(pass(
                        "role",
                        format!(
                            "assumed {} as {}",
                            describe(Some(role)),
                            out.assumed_role_user().map(|u| u.arn()).unwrap_or("?")
                        ),
                    )),
                    Err(e) => {
                        let (_, text) = code_of(&e);
                        can_read = false;
                        steps.push(fail(
                            "role",
                            format!("could not assume {}: {text}", describe(Some(role))),
                            format!(
                                "the role's trust policy must allow {caller} to sts:AssumeRole with sts:ExternalId equal to EXTERNAL_ID{} (template-source-account.yaml writes it); the caller's own policy must allow sts:AssumeRole on {}",
                                if role.external_id.is_none() { " (none is set here)" } else { "" },
                                role.arn
                            ),
                        ));
                    }
                }
            }
        }
    }

    // 3. Reading, and KMS where the object needs it.
    match (&args.bucket, &target) {
        (Some(bucket), Some(t)) if can_read => {
            let custom_endpoint =
                aws.endpoint_url().is_some() || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some();
            let s3 = S3Clients::new(aws, custom_endpoint)
                .client(t.role.as_ref(), t.region.as_deref())
                .await;
            let read_bucket = t.access_point.clone().unwrap_or_else(|| bucket.clone());
            match &args.key {
                Some(key) => check_object(&s3, &read_bucket, key, t, &mut steps).await,
                None => {
                    let prefix = config
                        .source_for(bucket, "")
                        .map(|r| r.prefix.clone())
                        .unwrap_or_default();
                    let out = s3
                        .list_objects_v2()
                        .bucket(&read_bucket)
                        .prefix(&prefix)
                        .max_keys(1)
                        .set_expected_bucket_owner(t.expected_owner.clone())
                        .send()
                        .await;
                    match out {
                        Ok(o) => steps.push(pass(
                            "read",
                            format!(
                                "s3://{bucket}/{prefix} is listable{}; give --key to read an object",
                                o.contents()
                                    .first()
                                    .and_then(|c| c.key())
                                    .map(|k| format!(" (first key {k})"))
                                    .unwrap_or_else(|| " (no objects yet)".into())
                            ),
                        )),
                        Err(e) => {
                            let (_, text) = code_of(&e);
                            steps.push(fail(
                                "read",
                                format!("cannot list s3://{bucket}/{prefix}: {text}"),
                                "listing needs s3:ListBucket on the bucket (the function itself only needs s3:GetObject); check the bucket name and region, or give --key to check reading an object",
                            ));
                        }
                    }
                    steps.push(skip("kms", "give --key to check decrypting an object"));
                }
            }
        }
        (Some(_), _) => {
            steps.push(skip("read", "needs the role"));
            steps.push(skip("kms", "needs the role"));
        }
        (None, _) => {
            steps.push(skip("read", "give --bucket (and --key) to check reading"));
            steps.push(skip("kms", "give --bucket and --key to check decrypting"));
        }
    }

    // 4. The delivery stream: active, and may we write to it?
    let firehose = aws_sdk_firehose::Client::new(aws);
    let stream = &config.delivery_stream_name;
    match firehose
        .describe_delivery_stream()
        .delivery_stream_name(stream)
        .send()
        .await
    {
        Ok(out) => match out.delivery_stream_description() {
            Some(d) if d.delivery_stream_status().as_str() == "ACTIVE" => {
                steps.push(pass("delivery stream", format!("{stream} is ACTIVE")))
            }
            Some(d) => steps.push(fail(
                "delivery stream",
                format!("{stream} is {}", d.delivery_stream_status().as_str()),
                "wait until the stream is ACTIVE, or fix the error the Firehose console shows for it",
            )),
            None => steps.push(fail(
                "delivery stream",
                format!("{stream}: no description returned"),
                "check DELIVERY_STREAM_NAME",
            )),
        },
        Err(e) => {
            let (code, text) = code_of(&e);
            if code.contains("AccessDenied") {
                steps.push(skip(
                    "delivery stream",
                    format!("{stream}: not allowed to describe it ({text}); the write probe decides"),
                ));
            } else {
                steps.push(fail(
                    "delivery stream",
                    format!("{stream}: {text}"),
                    "check DELIVERY_STREAM_NAME and that the stream is in the function's region (AWS_REGION)",
                ));
            }
        }
    }
    let probe = firehose
        .put_record_batch()
        .delivery_stream_name(stream)
        .set_records(Some(Vec::new()))
        .send()
        .await;
    match probe {
        Ok(_) => steps.push(pass(
            "write",
            format!("allowed to PutRecordBatch to {stream} (probed with an empty batch; nothing was written)"),
        )),
        Err(e) => {
            let (code, text) = code_of(&e);
            if code == "ResourceNotFoundException" {
                steps.push(fail(
                    "write",
                    format!("PutRecordBatch to {stream}: {text}"),
                    "the stream does not exist in this account and region: check DELIVERY_STREAM_NAME and AWS_REGION",
                ));
            } else if code.contains("AccessDenied") {
                steps.push(fail(
                    "write",
                    format!("PutRecordBatch to {stream}: {text}"),
                    format!(
                        "{caller} needs firehose:PutRecordBatch on the stream's ARN (template.yaml's FunctionRole has it)"
                    ),
                ));
            } else if matches!(e, SdkError::ServiceError(_)) {
                // Authorized, then refused for the empty batch: writable.
                steps.push(pass(
                    "write",
                    format!("allowed to PutRecordBatch to {stream} (an empty probe batch was refused after authorization: {code})"),
                ));
            } else {
                steps.push(fail(
                    "write",
                    format!("PutRecordBatch to {stream}: {text}"),
                    "no answer from Firehose: check the network path (VPC endpoints or NAT) and the region",
                ));
            }
        }
    }
    steps
}

async fn check_object(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    t: &ReadTarget,
    steps: &mut Vec<Step>,
) {
    let out = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .range("bytes=0-1023")
        .set_expected_bucket_owner(t.expected_owner.clone())
        .send()
        .await;
    match out {
        Ok(o) => {
            let sse = o.server_side_encryption().map(|s| s.as_str().to_string());
            let kms_key = o.ssekms_key_id().map(str::to_string);
            // Read the first bytes: with SSE-KMS, this is where decryption happens.
            let first = o.body.collect().await.map(|b| b.into_bytes().len());
            match first {
                Ok(n) => {
                    steps.push(pass(
                        "read",
                        format!("s3://{bucket}/{key} is readable (first {n} bytes read)"),
                    ));
                    match sse.as_deref() {
                        Some(s) if s.starts_with("aws:kms") => steps.push(pass(
                            "kms",
                            format!("decrypted ({s}, key {})", kms_key.as_deref().unwrap_or("?")),
                        )),
                        other => steps.push(skip(
                            "kms",
                            format!(
                                "the object is not SSE-KMS encrypted ({})",
                                other.unwrap_or("no server-side encryption reported")
                            ),
                        )),
                    }
                }
                Err(e) => {
                    steps.push(fail(
                        "read",
                        format!("s3://{bucket}/{key}: the body could not be read: {e}"),
                        "a network problem between the function and S3 (VPC endpoint policy, NAT)",
                    ));
                    steps.push(skip("kms", "needs the object"));
                }
            }
        }
        Err(e) => {
            let (code, text) = code_of(&e);
            let (read, kms) = classify_read_error(&code, &text, bucket, key);
            steps.push(read);
            steps.push(kms);
        }
    }
}

/// The `read` and `kms` steps for a failed `GetObject`.
fn classify_read_error(code: &str, text: &str, bucket: &str, key: &str) -> (Step, Step) {
    let what = format!("s3://{bucket}/{key}: {text}");
    let is_kms = code.starts_with("KMS")
        || text.contains("KMS")
        || text.contains("kms:")
        || code == "KMS.AccessDeniedException";
    if is_kms {
        return (
            skip("read", format!("s3://{bucket}/{key}: allowed, but decryption failed")),
            fail(
                "kms",
                what,
                "the reading role needs kms:Decrypt on the bucket's KMS key (KmsKeyArn of template-source-account.yaml), and the key's policy must allow it",
            ),
        );
    }
    let read = match code {
        "NoSuchKey" => fail(
            "read",
            what,
            "no object has that key: check --key (keys are case-sensitive; copy it from the S3 console)",
        ),
        "NoSuchBucket" => fail("read", what, "check --bucket and the region"),
        "AccessDenied" | "Forbidden" | "403" => fail(
            "read",
            what,
            format!(
                "the reading role needs s3:GetObject on arn:aws:s3:::{bucket}/{key} (template-source-account.yaml grants it for BucketName and Prefix), and the bucket policy must not deny it; with SSE-KMS, kms:Decrypt too"
            ),
        ),
        _ => fail(
            "read",
            what,
            "see the error above; a 301/PermanentRedirect means the bucket is in another region (set region in a SOURCES entry)",
        ),
    };
    (read, skip("kms", "needs the object"))
}

/// Whether every step passed or was skipped.
pub fn all_passed(steps: &[Step]) -> bool {
    steps.iter().all(|s| s.status != Status::Fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kms_errors_blame_kms_not_s3() {
        let (read, kms) = classify_read_error(
            "AccessDenied",
            "AccessDenied: User is not authorized to perform kms:Decrypt",
            "b",
            "k",
        );
        assert_eq!(read.status, Status::Skip);
        assert_eq!(kms.status, Status::Fail);
        assert!(kms.fix.unwrap().contains("kms:Decrypt"));
    }

    #[test]
    fn access_denied_names_the_permission_and_the_object() {
        let (read, _) =
            classify_read_error("AccessDenied", "AccessDenied: Access Denied", "b", "x/k");
        assert_eq!(read.status, Status::Fail);
        let fix = read.fix.unwrap();
        assert!(fix.contains("s3:GetObject on arn:aws:s3:::b/x/k"), "{fix}");
    }

    #[test]
    fn a_step_prints_its_fix_under_it() {
        let s = fail("write", "denied", "allow it");
        assert_eq!(s.to_string(), "[FAIL] write: denied\n       fix: allow it");
        assert!(all_passed(&[pass("a", "ok"), skip("b", "n/a")]));
        assert!(!all_passed(&[pass("a", "ok"), s]));
    }
}
