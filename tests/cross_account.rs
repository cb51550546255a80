//! Cross-account reading against moto with IAM enforcement on: signatures,
//! identity policies, the role's permissions and the `sts:ExternalId`
//! condition of its trust policy are all checked by the server.
//!
//! Set-up: the first three unauthenticated calls create an administrator;
//! everything else is signed. The forwarder runs as an IAM user that may only
//! assume the reader role and put to the stream; the reader role may only get
//! objects from `src-logs`.

mod common;

use common::*;

const EXTERNAL_ID: &str = "ext-7f3a9c";
const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/log-reader";
const ROLE_B_ARN: &str = "arn:aws:iam::123456789012:role/log-reader-b";
const EXTERNAL_ID_B: &str = "ext-b-41d2";

struct Fixture {
    moto: Moto,
    admin: Stack,
    forwarder_sdk: aws_config::SdkConfig,
}

async fn fixture() -> Fixture {
    let (moto, admin_sdk) = moto_with_iam().await;
    let admin = Stack::new(&admin_sdk);
    let iam = aws_sdk_iam::Client::new(&admin_sdk);

    // The forwarder's own identity: assume the reader role, put to the stream. Nothing else.
    let forwarder_sdk = user_with_policy(
        &moto,
        &iam,
        "forwarder",
        serde_json::json!([
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": [ROLE_ARN, ROLE_B_ARN]},
            // moto checks Firehose actions against the resource "*" only (it has
            // resource-level checks for S3, STS, SQS and IAM), so the stream ARN
            // cannot be named here; the action is still the only one allowed.
            {"Effect": "Allow", "Action": ["firehose:PutRecordBatch"], "Resource": "*"}
        ]),
    )
    .await;

    // The source account's role: trusts the forwarder with the external id, reads one bucket.
    role_with_policy(
        &iam,
        "log-reader",
        policy(serde_json::json!([{
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:user/forwarder"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": EXTERNAL_ID}}
        }])),
        policy(serde_json::json!([
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::src-logs/*"}
        ])),
    )
    .await;

    // A second source: its own role, external id and bucket.
    role_with_policy(
        &iam,
        "log-reader-b",
        policy(serde_json::json!([{
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:user/forwarder"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": EXTERNAL_ID_B}}
        }])),
        policy(serde_json::json!([
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::other-logs/*"}
        ])),
    )
    .await;

    admin.bucket("src-logs").await;
    admin.bucket("other-logs").await;
    admin
        .put("src-logs", "app/a.log", "from the allowed bucket\n")
        .await;
    admin
        .put(
            "other-logs",
            "app/b.log",
            "from a bucket the role may not read\n",
        )
        .await;
    admin.delivery_stream("logs", "dest").await;

    Fixture {
        moto,
        admin,
        forwarder_sdk,
    }
}

fn role_config(external_id: &str) -> s3_log_forwarder::Config {
    config(&[
        ("DELIVERY_STREAM_NAME", "logs"),
        ("ROLE_ARN", ROLE_ARN),
        ("EXTERNAL_ID", external_id),
        ("ROLE_SESSION_NAME", "s3-log-forwarder-test"),
    ])
}

#[tokio::test]
async fn objects_are_read_through_the_assumed_role_with_external_id() {
    let f = fixture().await;
    let fwd = forwarder(&f.forwarder_sdk, role_config(EXTERNAL_ID));
    let out = fwd
        .handle(
            sqs_event(&[s3_notification(&[("src-logs", "app/a.log")])]),
            far_deadline(),
        )
        .await;
    assert!(failed_ids(&out).is_empty(), "{:?}", out.failures);
    let records = f.admin.delivered("dest").await;
    assert_eq!(records.len(), 1);
    assert_eq!(field(&records[0], "message"), "from the allowed bucket");
    drop(f.moto);
}

#[tokio::test]
async fn a_wrong_external_id_is_denied_and_the_message_retried() {
    let f = fixture().await;
    let fwd = forwarder(&f.forwarder_sdk, role_config("not-the-right-one"));
    let out = fwd
        .handle(
            sqs_event(&[s3_notification(&[("src-logs", "app/a.log")])]),
            far_deadline(),
        )
        .await;
    assert_eq!(failed_ids(&out), vec!["msg-0"]);
    let why = out.failures[0].as_deref().unwrap();
    assert!(why.contains("trust policy"), "{why}");
    assert!(why.contains(ROLE_ARN), "{why}");
    assert!(
        !why.contains("not-the-right-one"),
        "the external id must not be echoed: {why}"
    );
    assert!(f.admin.delivered("dest").await.is_empty());
}

#[tokio::test]
async fn the_role_cannot_read_a_bucket_outside_its_policy() {
    let f = fixture().await;
    let fwd = forwarder(&f.forwarder_sdk, role_config(EXTERNAL_ID));
    let out = fwd
        .handle(
            sqs_event(&[
                s3_notification(&[("other-logs", "app/b.log")]),
                s3_notification(&[("src-logs", "app/a.log")]),
            ]),
            far_deadline(),
        )
        .await;
    assert_eq!(failed_ids(&out), vec!["msg-0"]);
    assert!(
        out.failures[0].as_deref().unwrap().contains("AccessDenied"),
        "{:?}",
        out.failures
    );
    assert_eq!(f.admin.delivered("dest").await.len(), 1);
}

#[tokio::test]
async fn without_a_role_the_functions_own_credentials_are_used() {
    let f = fixture().await;
    // The forwarder user itself has no s3:GetObject: reading must be denied,
    // which proves the object was requested with its own credentials.
    let fwd = forwarder(
        &f.forwarder_sdk,
        config(&[("DELIVERY_STREAM_NAME", "logs")]),
    );
    let out = fwd
        .handle(
            sqs_event(&[s3_notification(&[("src-logs", "app/a.log")])]),
            far_deadline(),
        )
        .await;
    assert_eq!(failed_ids(&out), vec!["msg-0"]);
    assert!(
        out.failures[0].as_deref().unwrap().contains("AccessDenied"),
        "{:?}",
        out.failures
    );
}

#[tokio::test]
async fn the_role_is_assumed_once_for_many_objects_and_invocations() {
    let f = fixture().await;
    f.admin.put("src-logs", "app/c.log", "another\n").await;
    let fwd = forwarder(&f.forwarder_sdk, role_config(EXTERNAL_ID));
    for _ in 0..2 {
        let out = fwd
            .handle(
                sqs_event(&[
                    s3_notification(&[("src-logs", "app/a.log")]),
                    s3_notification(&[("src-logs", "app/c.log")]),
                ]),
                far_deadline(),
            )
            .await;
        assert!(failed_ids(&out).is_empty(), "{:?}", out.failures);
    }
    assert_eq!(f.admin.delivered("dest").await.len(), 4);
    let state = f.moto.state();
    let assumed = state["sts"]["AssumedRole"]
        .as_array()
        .expect("assumed roles");
    assert_eq!(
        assumed.len(),
        1,
        "credentials are cached per role: {assumed:#?}"
    );
    assert_eq!(assumed[0]["role_arn"], ROLE_ARN);
    assert_eq!(assumed[0]["session_name"], "s3-log-forwarder-test");
    assert_eq!(assumed[0]["external_id"], EXTERNAL_ID);
}

/// Everything logged by this test binary (all its tests), as the function
/// logs on Lambda (JSON, default level).
fn captured_logs() -> &'static std::sync::Arc<std::sync::Mutex<Vec<u8>>> {
    static LOGS: std::sync::OnceLock<std::sync::Arc<std::sync::Mutex<Vec<u8>>>> =
        std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let buf = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = buf.clone();
        s3_log_forwarder::telemetry::init_with_writer(true, move || Capture(sink.clone()), false);
        buf
    })
}

struct Capture(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn credentials_and_the_external_id_never_reach_the_logs() {
    let logs = captured_logs();
    let f = fixture().await;
    let creds = aws_credential_types::provider::ProvideCredentials::provide_credentials(
        f.forwarder_sdk.credentials_provider().unwrap().as_ref(),
    )
    .await
    .unwrap();
    // A success, a wrong external id and a denied bucket: the paths that log most.
    for (external_id, bucket, key) in [
        (EXTERNAL_ID, "src-logs", "app/a.log"),
        ("wrong-external-id-value", "src-logs", "app/a.log"),
        (EXTERNAL_ID, "other-logs", "app/b.log"),
    ] {
        let fwd = forwarder(&f.forwarder_sdk, role_config(external_id));
        fwd.handle(
            sqs_event(&[s3_notification(&[(bucket, key)])]),
            far_deadline(),
        )
        .await;
    }
    let state = f.moto.state();
    let mut secrets = vec![
        creds.secret_access_key().to_string(),
        EXTERNAL_ID.to_string(),
        "wrong-external-id-value".to_string(),
    ];
    for role in state["sts"]["AssumedRole"].as_array().unwrap() {
        secrets.push(role["secret_access_key"].as_str().unwrap().to_string());
        secrets.push(role["session_token"].as_str().unwrap().to_string());
    }
    let text = String::from_utf8_lossy(&logs.lock().unwrap()).to_string();
    assert!(text.contains("invocation summary"), "logs were captured");
    assert!(text.contains("AccessDenied"), "the failures were logged");
    for secret in &secrets {
        assert!(!text.contains(secret.as_str()), "a secret reached the logs");
    }
}

fn sources_config(sources: serde_json::Value) -> s3_log_forwarder::Config {
    config(&[
        ("DELIVERY_STREAM_NAME", "logs"),
        ("ROLE_SESSION_NAME", "s3-log-forwarder-test"),
        ("SOURCES", &sources.to_string()),
    ])
}

#[tokio::test]
async fn each_source_is_read_with_its_own_role_and_only_its_own() {
    let f = fixture().await;
    let both = || {
        sqs_event(&[
            s3_notification(&[("src-logs", "app/a.log")]),
            s3_notification(&[("other-logs", "app/b.log")]),
        ])
    };
    let right = sources_config(serde_json::json!([
        {"bucket": "src-logs", "role_arn": ROLE_ARN, "external_id": EXTERNAL_ID},
        {"bucket": "other-logs", "role_arn": ROLE_B_ARN, "external_id": EXTERNAL_ID_B},
    ]));
    let out = forwarder(&f.forwarder_sdk, right)
        .handle(both(), far_deadline())
        .await;
    assert!(failed_ids(&out).is_empty(), "{:?}", out.failures);
    assert_eq!(f.admin.delivered("dest").await.len(), 2);

    // Source B's role may not read source A's bucket: a mapping that points
    // A's bucket at B's role is denied by S3 (the roles' policies are real).
    let swapped = sources_config(serde_json::json!([
        {"bucket": "src-logs", "role_arn": ROLE_B_ARN, "external_id": EXTERNAL_ID_B},
        {"bucket": "other-logs", "role_arn": ROLE_B_ARN, "external_id": EXTERNAL_ID_B},
    ]));
    let out = forwarder(&f.forwarder_sdk, swapped)
        .handle(both(), far_deadline())
        .await;
    assert_eq!(failed_ids(&out), vec!["msg-0"]);
    assert!(
        out.failures[0].as_deref().unwrap().contains("AccessDenied"),
        "{:?}",
        out.failures
    );
    assert!(
        out.failures[0].as_deref().unwrap().contains(ROLE_B_ARN),
        "{:?}",
        out.failures
    );

    let state = f.moto.state();
    let sessions: Vec<(String, String)> = state["sts"]["AssumedRole"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["role_arn"].as_str().unwrap().to_string(),
                r["external_id"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert!(sessions.contains(&(ROLE_ARN.to_string(), EXTERNAL_ID.to_string())));
    assert!(sessions.contains(&(ROLE_B_ARN.to_string(), EXTERNAL_ID_B.to_string())));
}

#[tokio::test]
async fn accounts_outside_allowed_accounts_are_refused_unread() {
    let f = fixture().await;
    let cfg = config(&[
        ("DELIVERY_STREAM_NAME", "logs"),
        ("ALLOWED_ACCOUNTS", "123456789012"),
        ("SOURCES", &serde_json::json!([
            {"bucket": "src-logs", "account": "123456789012", "role_arn": ROLE_ARN, "external_id": EXTERNAL_ID},
            {"bucket": "other-logs", "account": "210987654321", "role_arn": ROLE_B_ARN, "external_id": EXTERNAL_ID_B},
        ]).to_string()),
    ]);
    let out = forwarder(&f.forwarder_sdk, cfg)
        .handle(
            sqs_event(&[
                s3_notification(&[("src-logs", "app/a.log")]),
                s3_notification(&[("other-logs", "app/b.log")]),
            ]),
            far_deadline(),
        )
        .await;
    assert_eq!(failed_ids(&out), vec!["msg-1"]);
    assert!(
        out.failures[1]
            .as_deref()
            .unwrap()
            .contains("ALLOWED_ACCOUNTS"),
        "{:?}",
        out.failures
    );
    assert_eq!(out.report.objects_refused, 1);
    assert_eq!(f.admin.delivered("dest").await.len(), 1);
}
