//! `s3-log-forwarder check` against moto with IAM enforcement on: a correct
//! set-up passes every step, and each way of breaking it fails exactly the
//! step that names the cause, with a fix.
//!
//! The forwarder runs as an IAM user that may assume the reader role,
//! describe and put to the stream; the reader role trusts it with an external
//! id and may read `src-logs/app/*` only.

mod common;

use common::*;
use s3_log_forwarder::check::{self, CheckArgs, Status, Step};

const EXTERNAL_ID: &str = "ext-check-5e1f";
const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/check-reader";

struct Fixture {
    _moto: Moto,
    forwarder_sdk: aws_config::SdkConfig,
    moto_endpoint: String,
}

async fn fixture() -> Fixture {
    let (moto, admin_sdk) = moto_with_iam().await;
    let admin = Stack::new(&admin_sdk);
    let iam = aws_sdk_iam::Client::new(&admin_sdk);
    let forwarder_sdk = user_with_policy(
        &moto,
        &iam,
        "forwarder",
        serde_json::json!([
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": ROLE_ARN},
            {"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"},
            // moto checks Firehose actions against "*" only.
            {"Effect": "Allow", "Action": ["firehose:PutRecordBatch", "firehose:DescribeDeliveryStream"], "Resource": "*"}
        ]),
    )
    .await;
    role_with_policy(&iam, "check-reader", policy(serde_json::json!([{
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:user/forwarder"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": EXTERNAL_ID}}
        }])), policy(serde_json::json!([
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::src-logs/app/*"},
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::src-logs"}
        ]))).await;
    admin.bucket("src-logs").await;
    admin.put("src-logs", "app/a.log", "a line\n").await;
    admin
        .put("src-logs", "private/p.log", "not for the role\n")
        .await;
    admin.delivery_stream("logs", "dest").await;
    let moto_endpoint = moto.endpoint();
    Fixture {
        _moto: moto,
        forwarder_sdk,
        moto_endpoint,
    }
}

fn cfg(external_id: &str, stream: &str) -> s3_log_forwarder::Config {
    config(&[
        ("DELIVERY_STREAM_NAME", stream),
        ("ROLE_ARN", ROLE_ARN),
        ("EXTERNAL_ID", external_id),
        ("ROLE_SESSION_NAME", "check-test"),
    ])
}

fn args(bucket: &str, key: Option<&str>) -> CheckArgs {
    CheckArgs {
        bucket: Some(bucket.into()),
        key: key.map(str::to_string),
    }
}

fn step<'a>(steps: &'a [Step], name: &str) -> &'a Step {
    steps
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no step {name} in {steps:#?}"))
}

fn show(steps: &[Step]) -> String {
    steps.iter().map(|s| format!("{s}\n")).collect()
}

#[tokio::test]
async fn a_correct_setup_passes_every_step() {
    let f = fixture().await;
    let steps = check::run(
        &cfg(EXTERNAL_ID, "logs"),
        &f.forwarder_sdk,
        &args("src-logs", Some("app/a.log")),
    )
    .await;
    let out = show(&steps);
    for name in ["credentials", "role", "read", "delivery stream", "write"] {
        assert_eq!(step(&steps, name).status, Status::Pass, "{out}");
    }
    assert!(check::all_passed(&steps), "{out}");
    assert!(
        step(&steps, "credentials")
            .detail
            .contains("user/forwarder"),
        "{out}"
    );
    assert!(step(&steps, "role").detail.contains("check-test"), "{out}");
    // Without --key, the bucket is listed instead.
    let steps = check::run(
        &cfg(EXTERNAL_ID, "logs"),
        &f.forwarder_sdk,
        &args("src-logs", None),
    )
    .await;
    assert_eq!(
        step(&steps, "read").status,
        Status::Pass,
        "{}",
        show(&steps)
    );
    assert!(step(&steps, "read").detail.contains("listable"));
}

#[tokio::test]
async fn a_wrong_external_id_fails_the_role_step_and_says_what_to_fix() {
    let f = fixture().await;
    let steps = check::run(
        &cfg("not-the-id", "logs"),
        &f.forwarder_sdk,
        &args("src-logs", Some("app/a.log")),
    )
    .await;
    let out = show(&steps);
    let role = step(&steps, "role");
    assert_eq!(role.status, Status::Fail, "{out}");
    let fix = role.fix.as_deref().unwrap();
    assert!(fix.contains("sts:ExternalId"), "{fix}");
    assert!(
        fix.contains("user/forwarder"),
        "names the caller to trust: {fix}"
    );
    assert!(
        !out.contains("not-the-id"),
        "the external id is never printed"
    );
    // What depends on the role is skipped, not failed a second time.
    assert_eq!(step(&steps, "read").status, Status::Skip, "{out}");
    assert!(!check::all_passed(&steps));
}

#[tokio::test]
async fn an_object_outside_the_roles_policy_fails_the_read_step() {
    let f = fixture().await;
    let steps = check::run(
        &cfg(EXTERNAL_ID, "logs"),
        &f.forwarder_sdk,
        &args("src-logs", Some("private/p.log")),
    )
    .await;
    let out = show(&steps);
    let read = step(&steps, "read");
    assert_eq!(read.status, Status::Fail, "{out}");
    assert!(
        read.fix
            .as_deref()
            .unwrap()
            .contains("s3:GetObject on arn:aws:s3:::src-logs/private/p.log"),
        "{out}"
    );
    assert_eq!(step(&steps, "role").status, Status::Pass, "{out}");
}

#[tokio::test]
async fn a_missing_object_fails_the_read_step() {
    let f = fixture().await;
    let steps = check::run(
        &cfg(EXTERNAL_ID, "logs"),
        &f.forwarder_sdk,
        &args("src-logs", Some("app/nope.log")),
    )
    .await;
    let read = step(&steps, "read");
    assert_eq!(read.status, Status::Fail, "{}", show(&steps));
    assert!(read
        .fix
        .as_deref()
        .unwrap()
        .contains("no object has that key"));
}

#[tokio::test]
async fn a_missing_delivery_stream_fails_the_stream_steps() {
    let f = fixture().await;
    let steps = check::run(
        &cfg(EXTERNAL_ID, "no-such-stream"),
        &f.forwarder_sdk,
        &args("src-logs", Some("app/a.log")),
    )
    .await;
    let out = show(&steps);
    let stream = step(&steps, "delivery stream");
    assert_eq!(stream.status, Status::Fail, "{out}");
    assert!(stream
        .fix
        .as_deref()
        .unwrap()
        .contains("DELIVERY_STREAM_NAME"));
    assert_eq!(step(&steps, "read").status, Status::Pass, "{out}");
}

#[tokio::test]
async fn unknown_credentials_fail_the_first_step_and_skip_the_rest() {
    let f = fixture().await;
    let stranger = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(&f.moto_endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_credential_types::Credentials::new(
            "AKIDUNKNOWN00000000",
            "not-a-secret",
            None,
            None,
            "test",
        ))
        .load()
        .await;
    let steps = check::run(
        &cfg(EXTERNAL_ID, "logs"),
        &stranger,
        &args("src-logs", Some("app/a.log")),
    )
    .await;
    let out = show(&steps);
    assert_eq!(step(&steps, "credentials").status, Status::Fail, "{out}");
    for name in ["role", "read", "delivery stream", "write"] {
        assert_eq!(step(&steps, name).status, Status::Skip, "{out}");
    }
}

#[tokio::test]
async fn a_bucket_outside_allowed_buckets_is_reported_before_any_call() {
    let f = fixture().await;
    let config = config(&[
        ("DELIVERY_STREAM_NAME", "logs"),
        ("ROLE_ARN", ROLE_ARN),
        ("EXTERNAL_ID", EXTERNAL_ID),
        ("ALLOWED_BUCKETS", "other-bucket"),
    ]);
    let steps = check::run(
        &config,
        &f.forwarder_sdk,
        &args("src-logs", Some("app/a.log")),
    )
    .await;
    let role = step(&steps, "role");
    assert_eq!(role.status, Status::Fail, "{}", show(&steps));
    assert!(role.fix.as_deref().unwrap().contains("ALLOWED_BUCKETS"));
}
