//! The function role's policy exactly as `template.yaml` writes it (rendered
//! by `scripts/render_policy.py` for this stack's names), loaded into moto
//! with IAM enforcement: the function and its event source mapping work with
//! those permissions, and nothing beyond them.
//!
//! One adjustment, for moto: it checks Firehose actions only against the
//! resource "*", so the delivery stream statement's Resource is widened to
//! "*" here (its actions stay exactly the template's). S3, STS and SQS are
//! checked against the template's own ARNs.

mod common;

use std::collections::BTreeSet;

use common::*;

const READER: &str = "arn:aws:iam::123456789012:role/log-reader";
const FUNCTION_ROLE: &str = "arn:aws:iam::123456789012:role/forwarder-function";
const EXTERNAL_ID: &str = "ext-template-1";

fn render(parameters: serde_json::Value, queue_arn: &str) -> serde_json::Value {
    let env = serde_json::json!({
        "Parameters": parameters,
        "Resources": {
            "Queue": {"Ref": "queue-url", "Arn": queue_arn},
            "FunctionLogGroup": {"Ref": "/aws/lambda/forwarder"},
            "DeliveryStream": {"Ref": "logs"},
        },
    });
    let mut policy = render_policy("template.yaml", env, None);
    for st in policy["Statement"].as_array_mut().unwrap() {
        if st["Sid"] == "PutOnlyToTheDeliveryStream" {
            st["Resource"] = serde_json::json!("*");
        }
    }
    policy
}

#[tokio::test]
async fn the_template_policy_is_enough_and_no_more() {
    let (moto, admin_sdk) = moto_with_iam().await;
    let admin = Stack::new(&admin_sdk);
    let iam = aws_sdk_iam::Client::new(&admin_sdk);

    admin.bucket("src-logs").await;
    admin.put("src-logs", "app/a.log", "one\ntwo\n").await;
    admin.bucket("not-a-source").await;
    admin.put("not-a-source", "secret.log", "no\n").await;
    admin.delivery_stream("logs", "dest").await;
    let queue = admin
        .sqs
        .create_queue()
        .queue_name("notifications")
        .send()
        .await
        .unwrap();
    let queue_url = queue.queue_url().unwrap().to_string();
    let other = admin
        .sqs
        .create_queue()
        .queue_name("someone-elses")
        .send()
        .await
        .unwrap();
    let other_url = other.queue_url().unwrap().to_string();
    let queue_arn = format!("arn:aws:sqs:{REGION}:{ACCOUNT}:notifications");
    admin
        .sqs
        .send_message()
        .queue_url(&queue_url)
        .message_body(s3_notification(&[("src-logs", "app/a.log")]))
        .send()
        .await
        .unwrap();

    // The source account's reader role trusts the function role. AWS matches
    // a role ARN principal against every session of the role; moto compares
    // principals literally, so the session's ARN is listed too.
    role_with_policy(&iam, "log-reader", policy(serde_json::json!([{
            "Effect": "Allow",
            "Principal": {"AWS": [FUNCTION_ROLE, "arn:aws:sts::123456789012:assumed-role/forwarder-function/forwarder"]},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": EXTERNAL_ID}}
        }])), policy(serde_json::json!([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::src-logs/*"}]))).await;

    // The function role with the template's policy; Lambda would hand the
    // function these credentials. Here a user that may assume it stands in.
    let rendered = render(
        serde_json::json!({"RoleArn": READER, "ExistingDeliveryStreamName": "logs"}),
        &queue_arn,
    );
    let sids: BTreeSet<String> = rendered["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["Sid"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(
        sids.contains("AssumeOnlyTheSourceRole") && !sids.contains("ReadOnlyTheAllowedBuckets"),
        "{sids:?}"
    );
    iam.create_user().user_name("lambda").send().await.unwrap();
    iam.put_user_policy()
        .user_name("lambda")
        .policy_name("assume")
        .policy_document(policy(serde_json::json!([{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": FUNCTION_ROLE}])))
        .send()
        .await
        .unwrap();
    role_with_policy(&iam, "forwarder-function", policy(serde_json::json!([{
            "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/lambda"}, "Action": "sts:AssumeRole"
        }])), rendered.to_string()).await;
    let lambda_key = iam
        .create_access_key()
        .user_name("lambda")
        .send()
        .await
        .unwrap();
    let lambda_key = lambda_key.access_key().unwrap();
    let lambda_sdk = moto
        .sdk_config_with(
            lambda_key.access_key_id(),
            lambda_key.secret_access_key(),
            None,
        )
        .await;
    let creds = aws_sdk_sts::Client::new(&lambda_sdk)
        .assume_role()
        .role_arn(FUNCTION_ROLE)
        .role_session_name("forwarder")
        .send()
        .await
        .unwrap();
    let c = creds.credentials().unwrap();
    let function_sdk = moto
        .sdk_config_with(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token()),
        )
        .await;
    let as_function = Stack::new(&function_sdk);

    // The event source mapping polls with the function role...
    let got = as_function
        .sqs
        .receive_message()
        .queue_url(&queue_url)
        .send()
        .await
        .unwrap();
    let messages = got.messages().to_vec();
    assert_eq!(messages.len(), 1);
    // ...and the function reads through the source role and puts to the stream.
    let fwd = forwarder(
        &function_sdk,
        config(&[
            ("DELIVERY_STREAM_NAME", "logs"),
            ("ROLE_ARN", READER),
            ("EXTERNAL_ID", EXTERNAL_ID),
            ("ROLE_SESSION_NAME", "s3-log-forwarder"),
        ]),
    );
    let body = messages[0].body().unwrap().to_string();
    let out = fwd.handle(sqs_event(&[body]), far_deadline()).await;
    assert!(failed_ids(&out).is_empty(), "{:?}", out.failures);
    as_function
        .sqs
        .delete_message()
        .queue_url(&queue_url)
        .receipt_handle(messages[0].receipt_handle().unwrap())
        .send()
        .await
        .expect("the function role may delete from its queue");
    assert_eq!(admin.delivered("dest").await.len(), 2);

    // Nothing beyond: no other queue, no direct bucket reads, no other role.
    let denied = |r: Result<(), String>, what: &str| {
        let e = r.expect_err(what);
        assert!(
            e.contains("AccessDenied") || e.contains("not authorized"),
            "{what}: {e}"
        );
    };
    denied(
        as_function
            .sqs
            .receive_message()
            .queue_url(&other_url)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| format!("{:?}", e)),
        "receive from another queue",
    );
    denied(
        as_function
            .s3
            .get_object()
            .bucket("src-logs")
            .key("app/a.log")
            .send()
            .await
            .map(|_| ())
            .map_err(|e| format!("{:?}", e)),
        "read a source bucket without the source role",
    );
    denied(
        aws_sdk_sts::Client::new(&function_sdk)
            .assume_role()
            .role_arn("arn:aws:iam::123456789012:role/admin-ish")
            .role_session_name("x")
            .send()
            .await
            .map(|_| ())
            .map_err(|e| format!("{:?}", e)),
        "assume a role other than RoleArn",
    );

    // Without RoleArn, the template gives the function s3:GetObject on
    // exactly AllowedBuckets.
    let own = render(
        serde_json::json!({"AllowedBuckets": "src-logs,other-source", "ExistingDeliveryStreamName": "logs"}),
        &queue_arn,
    );
    // Replaces the policy `role_with_policy` gave (named after the role).
    iam.put_role_policy()
        .role_name("forwarder-function")
        .policy_name("forwarder-function")
        .policy_document(own.to_string())
        .send()
        .await
        .unwrap();
    let fwd = forwarder(&function_sdk, config(&[("DELIVERY_STREAM_NAME", "logs")]));
    let out = fwd
        .handle(
            sqs_event(&[
                s3_notification(&[("src-logs", "app/a.log")]),
                s3_notification(&[("not-a-source", "secret.log")]),
            ]),
            far_deadline(),
        )
        .await;
    assert_eq!(failed_ids(&out), vec!["msg-1"], "{:?}", out.failures);
    assert!(
        out.failures[1].as_deref().unwrap().contains("AccessDenied"),
        "{:?}",
        out.failures
    );
    assert_eq!(admin.delivered("dest").await.len(), 4);
}

/// The Firehose resources of the rendered policy, statement by statement.
fn firehose_resources(parameters: serde_json::Value) -> Vec<(String, serde_json::Value)> {
    let env = serde_json::json!({
        "Parameters": parameters,
        "Resources": {
            "Queue": {"Ref": "queue-url", "Arn": "arn:aws:sqs:us-east-1:123456789012:q"},
            "FunctionLogGroup": {"Ref": "/aws/lambda/forwarder"},
            "DeliveryStream": {"Ref": "logs"},
            "SecurityLakeDeliveryStream": {
                "Ref": "stack-security-lake",
                "Arn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/stack-security-lake",
            },
        },
    });
    render_policy("template.yaml", env, None)["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| {
            s["Action"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x == "firehose:PutRecordBatch"))
        })
        .map(|s| {
            (
                s["Sid"].as_str().unwrap().to_string(),
                s["Resource"].clone(),
            )
        })
        .collect()
}

#[test]
fn the_policy_names_exactly_the_default_and_route_streams() {
    let arn = |name: &str| format!("arn:aws:firehose:us-east-1:123456789012:deliverystream/{name}");
    // Without routes: the default stream alone.
    let only = firehose_resources(serde_json::json!({"ExistingDeliveryStreamName": "logs"}));
    assert_eq!(only.len(), 1, "{only:?}");
    assert_eq!(only[0].1, serde_json::json!(arn("logs")));
    // With routes: their streams, each by its ARN, and nothing else.
    let names: Vec<String> = (1..=8).map(|i| format!("route-{i}")).collect();
    for n in [1, 3, 8] {
        let listed = names[..n].join(",");
        let got = firehose_resources(serde_json::json!({
            "ExistingDeliveryStreamName": "logs",
            "RouteStreamNames": listed,
        }));
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0].1, serde_json::json!(arn("logs")));
        assert_eq!(got[1].0, "PutOnlyToTheRouteStreams");
        let want: Vec<String> = names[..n].iter().map(|s| arn(s)).collect();
        assert_eq!(got[1].1, serde_json::json!(want), "{n} route streams");
    }
}

#[test]
fn a_security_lake_dataset_adds_exactly_its_stream() {
    let got = firehose_resources(serde_json::json!({
        "ExistingDeliveryStreamName": "logs",
        "SecurityLakeDataset": "aws.vpcflow",
    }));
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[1].0, "PutOnlyToTheSecurityLakeStream");
    assert_eq!(
        got[1].1,
        serde_json::json!(
            "arn:aws:firehose:us-east-1:123456789012:deliverystream/stack-security-lake"
        )
    );
}
