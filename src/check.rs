//! `s3-log-forwarder check [--bucket B [--key K]]`: checks a set-up, step by
//! step, with the function's own configuration (the same variables) against
//! real AWS, and says for each step whether it passed and, if not, what to
//! fix: credentials found, the role assumed with the external id and session
//! name, the object readable (or the bucket listable), KMS decryption where
//! the object needs it, every delivery stream of every route active and
//! writable.
//!
//! Nothing is written anywhere: writability is probed with an empty
//! `PutRecordBatch`, which AWS authorizes before it validates.

use std::fmt;

use aws_config::SdkConfig;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use crate::config::{Config, ReadTarget, RoleConfig};
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
    let sts = aws_sdk_sts::Client::new(aws);
    let (credentials, caller) = check_credentials(&sts).await;
    let mut steps = vec![credentials];
    let Some(caller) = caller else {
        for name in ["role", "read", "kms", "delivery stream", "write"] {
            steps.push(skip(name, "needs credentials"));
        }
        return steps;
    };
    let (role, reader) = check_role(config, &sts, args, &caller).await;
    steps.push(role);
    let (read, kms) = check_read(config, aws, args, reader.as_ref()).await;
    steps.extend([read, kms]);
    let firehose = aws_sdk_firehose::Client::new(aws);
    // Every stream of every route: a step pair each.
    for stream in config.routes.streams() {
        steps.push(check_stream(&firehose, stream).await);
        steps.push(check_write(&firehose, stream, &caller).await);
    }
    steps
}

/// Step 1, credentials: who are we? The step, and the caller's name for later
/// advice when the credentials are usable.
async fn check_credentials(sts: &aws_sdk_sts::Client) -> (Step, Option<String>) {
    match sts.get_caller_identity().send().await {
        Ok(id) => {
            let arn = id.arn().unwrap_or("?").to_string();
            (
                pass("credentials", format!("found; calling as {arn}")),
                Some(arn),
            )
        }
        Err(e) => {
            let (code, text) = code_of(&e);
            if code == "AccessDenied" || code == "AccessDeniedException" {
                // The signature was accepted: the credentials are valid.
                let step = pass(
                    "credentials",
                    "found and accepted (sts:GetCallerIdentity is not allowed, so the identity is not shown)",
                );
                (step, Some("this identity".to_string()))
            } else {
                let step = fail(
                    "credentials",
                    text,
                    "no usable AWS credentials: run with a profile (AWS_PROFILE) or access keys of the account the function runs in, in its region (AWS_REGION)",
                );
                (step, None)
            }
        }
    }
}

/// Step 2, role: which role reads the object, and can we assume it? The step, and how
/// to read when reading is possible.
async fn check_role(
    config: &Config,
    sts: &aws_sdk_sts::Client,
    args: &CheckArgs,
    caller: &str,
) -> (Step, Option<ReadTarget>) {
    let target = match read_target(config, args) {
        Ok(t) => t,
        Err(refused) => return (refused, None),
    };
    let Some(role) = &target.role else {
        let step = skip(
            "role",
            "no role to assume: objects are read with the function's own credentials",
        );
        return (step, Some(target));
    };
    match assume_role(sts, role, caller).await {
        Ok(assumed) => (assumed, Some(target)),
        Err(failed) => (failed, None),
    }
}

/// How the function would read `--bucket`/`--key` (or, without a bucket,
/// any object with the configured role); a failed `role` step if it would
/// refuse them.
fn read_target(config: &Config, args: &CheckArgs) -> Result<ReadTarget, Step> {
    let Some(bucket) = &args.bucket else {
        return Ok(ReadTarget {
            role: config.role.clone(),
            ..ReadTarget::default()
        });
    };
    let key = args.key.as_deref().unwrap_or("");
    config.read_target(bucket, key, None).map_err(|reason| {
        fail(
            "role",
            format!("s3://{bucket}/{key} would be refused: {reason}"),
            "add the bucket to ALLOWED_BUCKETS (and its account to a SOURCES entry when ALLOWED_ACCOUNTS is set)",
        )
    })
}

/// Assumes `role` as the function would: `Ok` with a passed step, or `Err`
/// with the failed one.
async fn assume_role(
    sts: &aws_sdk_sts::Client,
    role: &RoleConfig,
    caller: &str,
) -> Result<Step, Step> {
    let mut req = sts
        .assume_role()
        .role_arn(&role.arn)
        .role_session_name(&role.session_name);
    if let Some(id) = &role.external_id {
        req = req.external_id(id);
    }
    match req.send().await {
        Ok(out) => Ok(pass(
            "role",
            format!(
                "assumed {} as {}",
                describe(Some(role)),
                out.assumed_role_user().map(|u| u.arn()).unwrap_or("?")
            ),
        )),
        Err(e) => {
            let (_, text) = code_of(&e);
            Err(fail(
                "role",
                format!("could not assume {}: {text}", describe(Some(role))),
                format!(
                    "the role's trust policy must allow {caller} to sts:AssumeRole with sts:ExternalId equal to EXTERNAL_ID{} (template-source-account.yaml writes it); the caller's own policy must allow sts:AssumeRole on {}",
                    if role.external_id.is_none() { " (none is set here)" } else { "" },
                    role.arn
                ),
            ))
        }
    }
}

/// Step 3, read and kms: reading, and KMS where the object needs it: the `read` and `kms`
/// steps. `reader` is how to read, when the role step allows reading.
async fn check_read(
    config: &Config,
    aws: &SdkConfig,
    args: &CheckArgs,
    reader: Option<&ReadTarget>,
) -> (Step, Step) {
    let (bucket, t) = match (&args.bucket, reader) {
        (Some(bucket), Some(t)) => (bucket, t),
        (Some(_), None) => {
            return (
                skip("read", "needs the role"),
                skip("kms", "needs the role"),
            )
        }
        (None, _) => {
            return (
                skip("read", "give --bucket (and --key) to check reading"),
                skip("kms", "give --bucket and --key to check decrypting"),
            )
        }
    };
    let custom_endpoint =
        aws.endpoint_url().is_some() || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some();
    let s3 = S3Clients::new(aws, custom_endpoint)
        .client(t.role.as_ref(), t.region.as_deref())
        .await;
    let read_bucket = t.access_point.clone().unwrap_or_else(|| bucket.clone());
    match &args.key {
        Some(key) => check_object(&s3, &read_bucket, key, t).await,
        None => {
            let prefix = config
                .source_for(bucket, "")
                .map(|r| r.prefix.clone())
                .unwrap_or_default();
            let read = check_listing(&s3, bucket, &read_bucket, &prefix, t).await;
            (
                read,
                skip("kms", "give --key to check decrypting an object"),
            )
        }
    }
}

/// The `read` step without a key: can the first key under the prefix be listed?
async fn check_listing(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    read_bucket: &str,
    prefix: &str,
    t: &ReadTarget,
) -> Step {
    let out = s3
        .list_objects_v2()
        .bucket(read_bucket)
        .prefix(prefix)
        .max_keys(1)
        .set_expected_bucket_owner(t.expected_owner.clone())
        .send()
        .await;
    match out {
        Ok(o) => pass(
            "read",
            format!(
                "s3://{bucket}/{prefix} is listable{}; give --key to read an object",
                o.contents()
                    .first()
                    .and_then(|c| c.key())
                    .map(|k| format!(" (first key {k})"))
                    .unwrap_or_else(|| " (no objects yet)".into())
            ),
        ),
        Err(e) => {
            let (_, text) = code_of(&e);
            fail(
                "read",
                format!("cannot list s3://{bucket}/{prefix}: {text}"),
                "listing needs s3:ListBucket on the bucket (the function itself only needs s3:GetObject); check the bucket name and region, or give --key to check reading an object",
            )
        }
    }
}

/// Step 4, delivery stream: is it active?
async fn check_stream(firehose: &aws_sdk_firehose::Client, stream: &str) -> Step {
    let out = firehose
        .describe_delivery_stream()
        .delivery_stream_name(stream)
        .send()
        .await;
    match out {
        Ok(out) => match out.delivery_stream_description() {
            Some(d) if d.delivery_stream_status().as_str() == "ACTIVE" => {
                pass("delivery stream", format!("{stream} is ACTIVE"))
            }
            Some(d) => fail(
                "delivery stream",
                format!("{stream} is {}", d.delivery_stream_status().as_str()),
                "wait until the stream is ACTIVE, or fix the error the Firehose console shows for it",
            ),
            None => fail(
                "delivery stream",
                format!("{stream}: no description returned"),
                "check DELIVERY_STREAM_NAME",
            ),
        },
        Err(e) => {
            let (code, text) = code_of(&e);
            if code.contains("AccessDenied") {
                skip(
                    "delivery stream",
                    format!("{stream}: not allowed to describe it ({text}); the write probe decides"),
                )
            } else {
                fail(
                    "delivery stream",
                    format!("{stream}: {text}"),
                    "check DELIVERY_STREAM_NAME (or ROUTES) and that the stream is in the function's region (AWS_REGION)",
                )
            }
        }
    }
}

/// Step 5, write: may we write to the stream? Probed with an empty batch.
async fn check_write(firehose: &aws_sdk_firehose::Client, stream: &str, caller: &str) -> Step {
    let probe = firehose
        .put_record_batch()
        .delivery_stream_name(stream)
        .set_records(Some(Vec::new()))
        .send()
        .await;
    let e = match probe {
        Ok(_) => {
            return pass(
                "write",
                format!("allowed to PutRecordBatch to {stream} (probed with an empty batch; nothing was written)"),
            )
        }
        Err(e) => e,
    };
    let (code, text) = code_of(&e);
    if code == "ResourceNotFoundException" {
        fail(
            "write",
            format!("PutRecordBatch to {stream}: {text}"),
            "the stream does not exist in this account and region: check DELIVERY_STREAM_NAME (or ROUTES) and AWS_REGION",
        )
    } else if code.contains("AccessDenied") {
        fail(
            "write",
            format!("PutRecordBatch to {stream}: {text}"),
            format!(
                "{caller} needs firehose:PutRecordBatch on the stream's ARN (template.yaml's FunctionRole has it)"
            ),
        )
    } else if matches!(e, SdkError::ServiceError(_)) {
        // Authorized, then refused for the empty batch: writable.
        pass(
            "write",
            format!("allowed to PutRecordBatch to {stream} (an empty probe batch was refused after authorization: {code})"),
        )
    } else {
        fail(
            "write",
            format!("PutRecordBatch to {stream}: {text}"),
            "no answer from Firehose: check the network path (VPC endpoints or NAT) and the region",
        )
    }
}

/// The `read` and `kms` steps with a key: read the object's first bytes,
/// which is where SSE-KMS decryption happens.
async fn check_object(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    t: &ReadTarget,
) -> (Step, Step) {
    let out = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .range("bytes=0-1023")
        .set_expected_bucket_owner(t.expected_owner.clone())
        .send()
        .await;
    let o = match out {
        Ok(o) => o,
        Err(e) => {
            let (code, text) = code_of(&e);
            return classify_read_error(&code, &text, bucket, key);
        }
    };
    let sse = o.server_side_encryption().map(|s| s.as_str().to_string());
    let kms_key = o.ssekms_key_id().map(str::to_string);
    // Read the first bytes: with SSE-KMS, this is where decryption happens.
    let n = match o.body.collect().await.map(|b| b.into_bytes().len()) {
        Ok(n) => n,
        Err(e) => {
            return (
                fail(
                    "read",
                    format!("s3://{bucket}/{key}: the body could not be read: {e}"),
                    "a network problem between the function and S3 (VPC endpoint policy, NAT)",
                ),
                skip("kms", "needs the object"),
            )
        }
    };
    let read = pass(
        "read",
        format!("s3://{bucket}/{key} is readable (first {n} bytes read)"),
    );
    let kms = match sse.as_deref() {
        Some(s) if s.starts_with("aws:kms") => pass(
            "kms",
            format!("decrypted ({s}, key {})", kms_key.as_deref().unwrap_or("?")),
        ),
        other => skip(
            "kms",
            format!(
                "the object is not SSE-KMS encrypted ({})",
                other.unwrap_or("no server-side encryption reported")
            ),
        ),
    };
    (read, kms)
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
