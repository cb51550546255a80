//! The reader role exactly as `template-source-account.yaml` writes it (trust
//! policy and permissions rendered by `scripts/render_policy.py`), loaded into
//! moto with IAM enforcement and exercised through `check`: the forwarder
//! assumes it only with the external id and reads only under the prefix; a
//! session name, when given, is a condition of the trust policy.
//!
//! One adjustment, for moto: the trusted principal is the forwarder's IAM
//! user (moto's callers here are users), not a role ARN.

mod common;

use common::*;
use s3_log_forwarder::check::{self, CheckArgs, Status, Step};

const FORWARDER: &str = "arn:aws:iam::123456789012:user/forwarder";
const READER: &str = "arn:aws:iam::123456789012:role/s3-log-forwarder-reader";
const EXTERNAL_ID: &str = "ext-source-9b2c";

fn render(params: &serde_json::Value, path: &str) -> String {
    render_policy(
        "template-source-account.yaml",
        serde_json::json!({ "Parameters": params }),
        Some(("ReaderRole", path)),
    )
    .to_string()
}

/// moto with the rendered reader role, a bucket with objects in and out of
/// the prefix, a stream, and the forwarder's SDK configuration.
async fn deploy(session_name: &str) -> (Moto, aws_config::SdkConfig) {
    let params = serde_json::json!({
        "ForwarderRoleArn": FORWARDER,
        "ExternalId": EXTERNAL_ID,
        "RoleSessionName": session_name,
        "BucketName": "src-logs",
        "Prefix": "AWSLogs/",
    });
    let (moto, admin_sdk) = moto_with_iam().await;
    let admin = Stack::new(&admin_sdk);
    let iam = aws_sdk_iam::Client::new(&admin_sdk);
    role_with_policy(
        &iam,
        "s3-log-forwarder-reader",
        render(&params, "AssumeRolePolicyDocument"),
        render(&params, "Policies.0.PolicyDocument"),
    )
    .await;
    let sdk = user_with_policy(
        &moto,
        &iam,
        "forwarder",
        serde_json::json!([{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": READER}]),
    )
    .await;
    admin.bucket("src-logs").await;
    admin
        .put(
            "src-logs",
            "AWSLogs/111122223333/app.log",
            "in the prefix\n",
        )
        .await;
    admin.put("src-logs", "private/p.log", "outside it\n").await;
    (moto, sdk)
}

async fn run(
    sdk: &aws_config::SdkConfig,
    external_id: &str,
    session: &str,
    key: &str,
) -> Vec<Step> {
    let config = config(&[
        ("DELIVERY_STREAM_NAME", "logs"),
        ("ROLE_ARN", READER),
        ("EXTERNAL_ID", external_id),
        ("ROLE_SESSION_NAME", session),
    ]);
    let args = CheckArgs {
        bucket: Some("src-logs".into()),
        key: Some(key.into()),
    };
    check::run(&config, sdk, &args).await
}

fn status(steps: &[Step], name: &str) -> Status {
    steps
        .iter()
        .find(|s| s.name == name)
        .map(|s| s.status)
        .unwrap_or_else(|| panic!("no step {name}"))
}

fn show(steps: &[Step]) -> String {
    steps.iter().map(|s| format!("{s}\n")).collect()
}

#[tokio::test]
async fn the_reader_role_admits_the_forwarder_with_the_external_id_and_reads_only_the_prefix() {
    let (_moto, sdk) = deploy("").await;
    let key = "AWSLogs/111122223333/app.log";

    let ok = run(&sdk, EXTERNAL_ID, "any-session", key).await;
    assert_eq!(status(&ok, "role"), Status::Pass, "{}", show(&ok));
    assert_eq!(status(&ok, "read"), Status::Pass, "{}", show(&ok));

    let wrong_id = run(&sdk, "guessed", "any-session", key).await;
    assert_eq!(
        status(&wrong_id, "role"),
        Status::Fail,
        "{}",
        show(&wrong_id)
    );

    // The forwarder user here has no Firehose permission: check says so.
    assert_eq!(status(&ok, "write"), Status::Fail, "{}", show(&ok));
    let write = ok.iter().find(|s| s.name == "write").unwrap();
    assert!(
        write
            .fix
            .as_deref()
            .unwrap()
            .contains("firehose:PutRecordBatch"),
        "{}",
        show(&ok)
    );

    let outside = run(&sdk, EXTERNAL_ID, "any-session", "private/p.log").await;
    assert_eq!(status(&outside, "role"), Status::Pass, "{}", show(&outside));
    assert_eq!(status(&outside, "read"), Status::Fail, "{}", show(&outside));
}

/// moto does not evaluate `sts:RoleSessionName` (a trust policy requiring
/// one admits any session there), so this checks the rendered condition.
#[test]
fn a_session_name_when_given_is_required_by_the_trust_policy() {
    let params = |session: &str| {
        serde_json::json!({
            "ForwarderRoleArn": FORWARDER,
            "ExternalId": EXTERNAL_ID,
            "RoleSessionName": session,
            "BucketName": "src-logs",
        })
    };
    let trust: serde_json::Value =
        serde_json::from_str(&render(&params("fwd-prod"), "AssumeRolePolicyDocument")).unwrap();
    let cond = &trust["Statement"][0]["Condition"]["StringEquals"];
    assert_eq!(cond["sts:RoleSessionName"], "fwd-prod");
    assert_eq!(cond["sts:ExternalId"], EXTERNAL_ID);
    let trust: serde_json::Value =
        serde_json::from_str(&render(&params(""), "AssumeRolePolicyDocument")).unwrap();
    let cond = &trust["Statement"][0]["Condition"]["StringEquals"];
    assert!(cond.get("sts:RoleSessionName").is_none(), "{trust}");
    assert_eq!(trust["Statement"][0]["Principal"]["AWS"], FORWARDER);
}
