//! OCSF output (issue 14).
//!
//! - Schema validation: every event of every sample under `tests/data/`
//!   (see `support/corpus.rs`), written as OCSF, is checked against the
//!   OCSF 1.1.0 schema by `tests/ocsf_validate.py` (the schema's own export
//!   in `tests/data/ocsf/schema/`); the test fails on the first invalid
//!   record and names its sample file.
//! - Golden records: the OCSF project's raw-and-expected pairs for AWS
//!   sources (`tests/data/ocsf/`, SOURCES.md) are put through the function
//!   as the AWS log they come from; our record must agree with the expected
//!   one attribute by attribute, except the deliberate differences listed
//!   per pair, each with its reason.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use s3_log_forwarder::config::Limits;
use s3_log_forwarder::filter::Filters;
use s3_log_forwarder::formats::Format;
use s3_log_forwarder::ocsf::Schema;
use s3_log_forwarder::ordinals::Resume;
use s3_log_forwarder::process::{read_object, Emitted};
use s3_log_forwarder::record::ObjectContext;
use s3_log_forwarder::source::decode::Counters;
use serde_json::Value;

#[path = "support/corpus.rs"]
mod corpus;

/// The OCSF records of `data` read as `format` under `key`.
fn ocsf_records(data: Vec<u8>, key: &str, format: Format) -> Vec<Value> {
    let ctx = Arc::new(ObjectContext {
        bucket: "golden".into(),
        key: key.into(),
        version: String::new(),
        ingested: "2026-12-06T00:00:00.000Z".into(),
        include_original: false,
    });
    let mut out = Vec::new();
    read_object(
        std::io::Cursor::new(data),
        ctx,
        Some(format),
        &|_| Schema::Ocsf,
        &Limits::default(),
        &Filters::default(),
        &Resume::default(),
        &Counters::default(),
        &mut |e| {
            if let Emitted::Record { record, .. } = e {
                out.push(serde_json::from_slice(record).expect("a record is JSON"));
            }
            Ok(())
        },
    )
    .unwrap_or_else(|e| panic!("{key}: {e}"));
    out
}

/// The Python the tests have: the project's virtualenv's, else the system's.
fn python() -> PathBuf {
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    if venv.exists() {
        venv
    } else {
        PathBuf::from("python3")
    }
}

/// Runs the validator over `files`; `Err` is its report.
fn validate(files: &[PathBuf]) -> Result<String, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ocsf_validate.py");
    let out = Command::new(python())
        .arg(script)
        .arg("--quiet")
        .args(files)
        .output()
        .expect("run tests/ocsf_validate.py");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(text)
    } else {
        Err(text)
    }
}

#[test]
fn every_record_of_every_sample_is_valid_ocsf_1_1_0() {
    let dir = std::env::temp_dir().join(format!("ocsf-corpus-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    let mut by_class: BTreeMap<(String, u64), usize> = BTreeMap::new();
    for (rel, path) in corpus::corpus() {
        let format = corpus::expected(&rel);
        let records = ocsf_records(corpus::decoded(&path), corpus::KEY, format);
        let file = dir.join(format!("{}.jsonl", rel.replace('/', "__")));
        let mut w = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
        for r in &records {
            let class = r["class_uid"].as_u64().expect("class_uid");
            *by_class
                .entry((format.name().to_string(), class))
                .or_default() += 1;
            writeln!(w, "{r}").unwrap();
        }
        w.flush().unwrap();
        files.push(file);
    }
    println!("records by format and class: {by_class:?}");
    let report = validate(&files);
    let _ = std::fs::remove_dir_all(&dir);
    if let Err(report) = report {
        panic!("an OCSF record is not valid OCSF 1.1.0 (the file name is the sample's path):\n{report}");
    }
}

/// Every leaf of `v` by its dotted path (array items by index).
fn leaves(v: &Value, prefix: &str, out: &mut BTreeMap<String, Value>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                leaves(x, &p, out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                leaves(x, &format!("{prefix}[{i}]"), out);
            }
        }
        _ => {
            out.insert(prefix.to_string(), v.clone());
        }
    }
}

/// Compares `ours` with the public `expected` record: every attribute of
/// `expected` must be in `ours` with the same value, unless a deliberate
/// difference (a path prefix, with its reason) covers it. Fails on any other
/// difference, and on a deliberate one that no longer differs. Returns
/// (agreeing attributes, attributes compared).
fn agree(
    name: &str,
    ours: &Value,
    expected: &Value,
    deliberate: &[(&str, &str)],
) -> (usize, usize) {
    let (mut mine, mut theirs) = (BTreeMap::new(), BTreeMap::new());
    leaves(ours, "", &mut mine);
    leaves(expected, "", &mut theirs);
    let mut used = vec![false; deliberate.len()];
    let mut wrong = Vec::new();
    let mut same = 0;
    for (path, want) in &theirs {
        let got = mine.get(path);
        if got == Some(want) {
            same += 1;
            continue;
        }
        if COMMON_DIFFERENCES.iter().any(|(p, _)| path.starts_with(p)) {
            continue;
        }
        match deliberate.iter().position(|(p, _)| path.starts_with(p)) {
            Some(i) => used[i] = true,
            None => wrong.push(format!("{path}: expected {want}, ours {got:?}")),
        }
    }
    for (i, (p, why)) in deliberate.iter().enumerate() {
        if !used[i] {
            wrong.push(format!(
                "deliberate difference {p} ({why}) no longer differs: remove it"
            ));
        }
    }
    assert!(wrong.is_empty(), "{name}:\n{}", wrong.join("\n"));
    println!("{name}: {same} of {} attributes agree", theirs.len());
    (same, theirs.len())
}

fn golden(path: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/ocsf")
        .join(path);
    serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// What any pair may differ in, by our choice.
const COMMON_DIFFERENCES: &[(&str, &str)] = &[
    ("metadata.uid", "our deterministic event id (the same every time an event is sent, the key to drop duplicates); the source's own id is in its class attribute or in unmapped"),
    ("metadata.profiles", "we declare the profiles whose attributes we write: not `datetime`, whose *_dt strings repeat the times"),
    ("observables", "optional and derived from the record's own attributes: not written, to keep records small"),
    ("unmapped", "our unmapped holds every source field without an OCSF attribute under its ECS path, as the ECS record names it"),
];

#[test]
fn vpc_flow_log_agrees_with_the_public_example() {
    // The OCSF project's raw is one flow record as named fields (JSON); the
    // same record as VPC writes it: a custom-format log with its header.
    let raw = golden("vpcflow/vpcflowlog.raw.json");
    let record = raw.as_array().map_or(&raw, |a| &a[0]);
    let fields = record.as_object().unwrap();
    let header: Vec<String> = fields.keys().map(|k| k.replace('_', "-")).collect();
    let values: Vec<String> = fields
        .values()
        .map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect();
    let log = format!("{}\n{}\n", header.join(" "), values.join(" "));
    let ours = ocsf_records(
        log.into_bytes(),
        "AWSLogs/123456789012/vpcflowlogs/x.log",
        Format::VpcFlow,
    );
    assert_eq!(ours.len(), 1);
    let expected = golden("vpcflow/vpcflowlog.ocsf.json");
    let deliberate = [
        (
            "connection_info.boundary",
            "traffic-path `-` (absent): no boundary; the example writes 99 and \"-\"",
        ),
        (
            "dst_endpoint.svc_name",
            "pkt-dst-aws-service `-` (absent) is left out; the example keeps \"-\"",
        ),
        (
            "src_endpoint.svc_name",
            "pkt-src-aws-service `-` is left out, as above",
        ),
        (
            "connection_info.protocol_ver",
            "written as protocol_ver_id 4, the enumeration (the caption is optional)",
        ),
        ("end_time_dt", "datetime profile not written"),
        ("start_time_dt", "datetime profile not written"),
        ("time_dt", "datetime profile not written"),
    ];
    agree("vpcflow", &ours[0], &expected, &deliberate);
}

/// One pretty-printed JSON record of the OCSF project's pairs, as the
/// service writes it: one compact line.
fn one_line(path: &str) -> Vec<u8> {
    let mut line = serde_json::to_vec(&golden(path)).unwrap();
    line.push(b'\n');
    line
}

#[test]
fn route53_resolver_query_log_agrees_with_the_public_example() {
    let ours = ocsf_records(
        one_line("route53resolver/route53.raw.json"),
        "AWSLogs/123456789012/vpcdnsquerylogs/vpc-00000000000000000/x.log",
        Format::Route53Resolver,
    );
    assert_eq!(ours.len(), 1);
    let expected = golden("route53resolver/route53.ocsf.json");
    let deliberate = [
        (
            "connection_info.protocol_name",
            "the schema asks for the IANA name in lower case (\"udp\"); the example keeps the log's \"UDP\"",
        ),
        ("time_dt", "datetime profile not written"),
    ];
    let (same, all) = agree("route53", &ours[0], &expected, &deliberate);
    assert!(same * 10 >= all * 6, "{same} of {all}");
}

#[test]
fn waf_log_agrees_with_the_public_example() {
    let ours = ocsf_records(
        one_line("waf/waf.raw.json"),
        "AWSLogs/123456789012/WAFLogs/us-east-1/captcha-web-acl/x.log",
        Format::Waf,
    );
    assert_eq!(ours.len(), 1);
    // The example is not valid OCSF 1.1.0 (tests/data/ocsf/SOURCES.md): it
    // lacks the required http_response and dst_endpoint, writes nulls and a
    // time_dt without a zone. Ours is valid, so it differs there.
    let expected = golden("waf/waf.ocsf.json");
    let deliberate = [
        (
            "http_status",
            "deprecated in 1.1.0: written as the required http_response.code (405, responseCodeSent)",
        ),
        (
            "src_endpoint.svc_name",
            "httpSourceName names the resource WAF protects, where the request went: dst_endpoint.svc_name (dst_endpoint is required and the log has no other destination); src_endpoint is the client",
        ),
        (
            "src_endpoint.uid",
            "httpSourceId is the protected resource too: dst_endpoint.uid",
        ),
        (
            "http_request.args",
            "an empty query string is absent (ECS url.query, OCSF args), not \"\"",
        ),
        (
            "http_request.referrer",
            "the example writes null (invalid): there is no Referer header, so no referrer",
        ),
        (
            "metadata.labels",
            "the example writes null (invalid): the record has no labels (WAF's labels, [{name}], stay in unmapped when present)",
        ),
        (
            "firewall_rule.rate_limit",
            "the rate-based rule list names a rule that did not terminate the request (terminatingRuleType REGULAR): its maxRateAllowed is not the terminating rule's limit; the list stays in unmapped",
        ),
        (
            "time_dt",
            "datetime profile not written (and the example's \"2021-09-23 18:06:56.512000\" has no zone: not a datetime_t)",
        ),
    ];
    let (same, all) = agree("waf", &ours[0], &expected, &deliberate);
    assert!(same * 10 >= all * 6, "{same} of {all}");
}

/// The OCSF record of a CloudTrail pair's raw: one CloudTrail record, put in
/// a log file's `{"Records":[...]}` as CloudTrail delivers it (its text as
/// it is, pretty-printing included).
fn cloudtrail_record(pair: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/ocsf/cloudtrail")
        .join(format!("{pair}.raw.json"));
    let raw = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{pair}: {e}"));
    let file = format!("{{\"Records\":[{}]}}", raw.trim());
    let ours = ocsf_records(
        file.into_bytes(),
        "AWSLogs/111122223333/CloudTrail/us-east-1/2023/11/10/x.json",
        Format::CloudTrail,
    );
    assert_eq!(ours.len(), 1, "{pair}");
    ours.into_iter().next().unwrap()
}

const DATETIME: &str = "datetime profile not written: the *_dt strings repeat the times (the example's also carry the mapper's local offset)";

#[test]
fn cloudtrail_api_activity_agrees_with_the_public_example() {
    let ours = cloudtrail_record("api_activity");
    let expected = golden("cloudtrail/api_activity.ocsf.json");
    let deliberate = [
        (
            "metadata.product.feature.name",
            "the record has no eventCategory (eventVersion 1.05): no feature; the example's \"Management, Data, and Insights\" is no CloudTrail category",
        ),
        ("time_dt", DATETIME),
    ];
    agree("cloudtrail api_activity", &ours, &expected, &deliberate);
    // What the example keeps in unmapped has a class attribute here.
    assert_eq!(ours["cloud"]["account"]["uid"], "1111111111111");
    assert_eq!(ours["status_id"], 1);
    assert!(
        ours["api"]
            .get("request")
            .is_some_and(|r| r.get("data").is_none()),
        "requestParameters null: no data"
    );
}

#[test]
fn cloudtrail_account_change_agrees_with_the_public_example() {
    let ours = cloudtrail_record("account_change");
    let expected = golden("cloudtrail/account_change.ocsf.json");
    let deliberate = [
        (
            "actor.session.created_time_dt",
            "datetime profile not written: actor.session.created_time holds the time (milliseconds)",
        ),
        ("time_dt", DATETIME),
    ];
    agree("cloudtrail account_change", &ours, &expected, &deliberate);
    assert_eq!(
        ours["actor"]["session"]["created_time"],
        1_700_239_437_000_i64
    );
    // The session issuer's other members stay, under the ECS path.
    let issuer =
        &ours["unmapped"]["aws"]["cloudtrail"]["user_identity"]["session_context"]["sessionIssuer"];
    assert_eq!(issuer["type"], "Role");
    assert!(issuer.get("arn").is_none(), "mapped: actor.session.issuer");
}

#[test]
fn cloudtrail_authentication_agrees_with_the_public_example() {
    let ours = cloudtrail_record("authentication");
    let expected = golden("cloudtrail/authentication.ocsf.json");
    let deliberate = [
        (
            "api.request.uid",
            "a console sign-in has no requestID; api.request requires its uid, so there is no api.request (the example writes the placeholder \"''\")",
        ),
        ("time_dt", DATETIME),
    ];
    agree("cloudtrail authentication", &ours, &expected, &deliberate);
    assert_eq!(ours["status_id"], 1);
    assert_eq!(ours["service"]["name"], "signin.amazonaws.com");
    let extra = &ours["unmapped"]["aws"]["cloudtrail"]["additional_eventdata"];
    assert_eq!(extra["MobileVersion"], "No");
    assert!(extra.get("LoginTo").is_none() && extra.get("MFAUsed").is_none());
}

/// CloudTrail records the public examples do not cover, each valid OCSF
/// 1.1.0 and mapped as `src/ocsf/cloudtrail.rs` says.
#[test]
fn cloudtrail_records_beyond_the_examples_are_valid_and_mapped() {
    let events = [
        // A failed console sign-in: no errorCode, pretty-printed response.
        r#"{"eventVersion": "1.08", "eventTime": "2023-11-10T16:24:34Z", "eventSource": "signin.amazonaws.com",
            "eventName": "ConsoleLogin", "eventType": "AwsConsoleSignIn", "awsRegion": "us-east-1",
            "recipientAccountId": "111122223333", "sourceIPAddress": "192.0.2.1",
            "userIdentity": {"type": "IAMUser", "principalId": "AIDACKCEVSQ6C2EXAMPLE", "accountId": "111122223333",
                             "accessKeyId": "", "userName": "HIDDEN_DUE_TO_SECURITY_REASONS"},
            "responseElements": {"ConsoleLogin": "Failure"}, "errorMessage": "Failed authentication",
            "additionalEventData": {"LoginTo": "https://console.aws.amazon.com/", "MobileVersion": "No", "MFAUsed": "No"}}"#,
        // An account-wide change: the account is the user.
        r#"{"eventTime": "2023-11-10T16:24:35Z", "eventSource": "iam.amazonaws.com", "eventName": "UpdateAccountPasswordPolicy",
            "recipientAccountId": "111122223333", "sourceIPAddress": "192.0.2.1", "requestID": "r-1",
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/admin", "accountId": "111122223333", "userName": "admin"},
            "requestParameters": {"minimumPasswordLength": 14}, "responseElements": null}"#,
        // One's own password: the caller is the user.
        r#"{"eventTime": "2023-11-10T16:24:36Z", "eventSource": "iam.amazonaws.com", "eventName": "ChangePassword",
            "recipientAccountId": "111122223333", "sourceIPAddress": "192.0.2.1", "requestID": "r-2",
            "userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLE", "arn": "arn:aws:iam::111122223333:user/anaya", "accountId": "111122223333", "userName": "anaya"},
            "requestParameters": null}"#,
        // A key disabled: Disable, the user named by the request.
        r#"{"eventTime": "2023-11-10T16:24:37Z", "eventSource": "iam.amazonaws.com", "eventName": "UpdateAccessKey",
            "recipientAccountId": "111122223333", "sourceIPAddress": "192.0.2.1", "requestID": "r-3", "errorCode": "AccessDenied",
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/admin", "accountId": "111122223333", "userName": "admin"},
            "requestParameters": {"userName": "bob", "accessKeyId": "AKIAEXAMPLE", "status": "Inactive"}}"#,
        // A web identity assumes a role.
        r#"{"eventTime": "2023-11-10T16:24:38Z", "eventSource": "sts.amazonaws.com", "eventName": "AssumeRoleWithWebIdentity",
            "recipientAccountId": "111122223333", "sourceIPAddress": "192.0.2.2", "requestID": "r-4",
            "userIdentity": {"type": "WebIdentityUser", "principalId": "accounts.google.com:app:sub", "userName": "sub",
                             "identityProvider": "accounts.google.com"},
            "requestParameters": {"roleArn": "arn:aws:iam::111122223333:role/web", "roleSessionName": "app-session"},
            "responseElements": {"credentials": {"accessKeyId": "ASIAEXAMPLE", "expiration": "Nov 10, 2023, 5:24:38 PM"},
                                 "assumedRoleUser": {"assumedRoleId": "AROAEXAMPLE:app-session", "arn": "arn:aws:sts::111122223333:assumed-role/web/app-session"}}}"#,
        // Identity Center: onBehalfOf and credentialId.
        r#"{"eventTime": "2023-11-10T16:24:39Z", "eventSource": "sso.amazonaws.com", "eventName": "ListApplications",
            "recipientAccountId": "111122223333", "sourceIPAddress": "192.0.2.3", "requestID": "r-5",
            "userIdentity": {"type": "IdentityCenterUser", "accountId": "111122223333", "credentialId": "cred-1",
                             "onBehalfOf": {"userId": "9067-user", "identityStoreArn": "arn:aws:identitystore::111122223333:identitystore/d-1"}}}"#,
        // A data event with its resources; one element without an ARN.
        r#"{"eventTime": "2023-11-10T16:24:40Z", "eventSource": "s3.amazonaws.com", "eventName": "GetObject", "eventCategory": "Data",
            "recipientAccountId": "111122223333", "sourceIPAddress": "192.0.2.4", "requestID": "r-6", "awsRegion": "us-east-1",
            "userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/r/s", "accountId": "111122223333",
                             "sessionContext": {"attributes": {"creationDate": "not a time", "mfaAuthenticated": "true"},
                                                "webIdFederationData": {"federatedProvider": "arn:aws:iam::111122223333:oidc-provider/x", "attributes": {}}}},
            "resources": [{"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::bucket/key"},
                          {"accountId": "111122223333", "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::bucket"},
                          {"type": "AWS::S3::AccessPoint"}]}"#,
        // A service event with no source address: the invoking service.
        r#"{"eventTime": "2023-11-10T16:24:41Z", "eventSource": "kms.amazonaws.com", "eventName": "RotateKey", "eventType": "AwsServiceEvent",
            "recipientAccountId": "111122223333", "userIdentity": {"accountId": "111122223333", "invokedBy": "kms.amazonaws.com"}}"#,
        // Neither caller nor source: a Base Event.
        r#"{"eventTime": "2023-11-10T16:24:42Z", "eventSource": "health.amazonaws.com", "eventName": "AWSHealthEvent",
            "recipientAccountId": "111122223333"}"#,
    ];
    let file = format!("{{\"Records\":[{}]}}", events.join(","));
    let ours = ocsf_records(
        file.into_bytes(),
        "AWSLogs/111122223333/CloudTrail/us-east-1/2023/11/10/y.json",
        Format::CloudTrail,
    );
    assert_eq!(ours.len(), events.len());
    let path = std::env::temp_dir().join(format!("ocsf-cloudtrail-{}.jsonl", std::process::id()));
    let lines: Vec<String> = ours.iter().map(|r| r.to_string()).collect();
    std::fs::write(&path, lines.join("\n")).unwrap();
    let report = validate(std::slice::from_ref(&path));
    let _ = std::fs::remove_file(&path);
    if let Err(report) = report {
        panic!("not valid OCSF 1.1.0:\n{report}");
    }
    let (login, policy, password, key, web, sso, data, service, none) = (
        &ours[0], &ours[1], &ours[2], &ours[3], &ours[4], &ours[5], &ours[6], &ours[7], &ours[8],
    );
    assert_eq!(
        (login["class_uid"].as_u64(), login["activity_id"].as_u64()),
        (Some(3002), Some(1))
    );
    assert_eq!(
        (login["status_id"].as_u64(), login["status"].as_str()),
        (Some(2), Some("Failure"))
    );
    assert_eq!(login["is_mfa"], false);
    assert_eq!(login["api"]["response"]["message"], "Failed authentication");
    assert_eq!(login["user"]["name"], "HIDDEN_DUE_TO_SECURITY_REASONS");

    assert_eq!(
        (policy["class_uid"].as_u64(), policy["activity_id"].as_u64()),
        (Some(3001), Some(99))
    );
    assert_eq!(policy["activity_name"], "UpdateAccountPasswordPolicy");
    assert_eq!(policy["user"]["account"]["uid"], "111122223333");
    assert_eq!(
        policy["api"]["request"]["data"],
        r#"{"minimumPasswordLength":14}"#
    );

    assert_eq!(password["activity_name"], "Password Change");
    assert_eq!(
        password["user"]["uid"],
        "arn:aws:iam::111122223333:user/anaya"
    );

    assert_eq!(
        (key["activity_name"].as_str(), key["status_id"].as_u64()),
        (Some("Disable"), Some(2))
    );
    assert_eq!(key["user"]["name"], "bob");
    assert_eq!(key["api"]["response"]["error"], "AccessDenied");

    assert_eq!(web["class_uid"], 3002);
    assert_eq!(
        (
            web["auth_protocol_id"].as_u64(),
            web["auth_protocol"].as_str()
        ),
        (Some(4), Some("OpenID"))
    );
    assert_eq!(web["actor"]["idp"]["name"], "accounts.google.com");
    assert_eq!(web["user"]["uid"], "arn:aws:iam::111122223333:role/web");
    assert_eq!(web["user"]["name"], "app-session");
    assert_eq!(web["user"]["uid_alt"], "AROAEXAMPLE:app-session");
    assert_eq!(web["user"]["credential_uid"], "ASIAEXAMPLE");

    assert_eq!(sso["actor"]["user"]["credential_uid"], "cred-1");
    assert_eq!(sso["actor"]["user"]["uid_alt"], "9067-user");
    assert_eq!(
        sso["actor"]["idp"]["uid"],
        "arn:aws:identitystore::111122223333:identitystore/d-1"
    );

    assert_eq!(
        (data["class_uid"].as_u64(), data["activity_name"].as_str()),
        (Some(6003), Some("Read"))
    );
    assert_eq!(data["metadata"]["product"]["feature"]["name"], "Data");
    assert_eq!(data["resources"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        data["resources"][1]["owner"]["account"]["uid"],
        "111122223333"
    );
    let kept = &data["unmapped"]["aws"]["cloudtrail"];
    assert_eq!(
        kept["resources"].as_array().map(Vec::len),
        Some(3),
        "an element without an ARN keeps the source"
    );
    assert_eq!(data["actor"]["session"]["is_mfa"], true);
    assert_eq!(
        kept["user_identity"]["session_context"]["attributes"]["creationDate"],
        "not a time"
    );
    assert_eq!(
        data["actor"]["idp"]["name"],
        "arn:aws:iam::111122223333:oidc-provider/x"
    );

    assert_eq!(service["src_endpoint"]["svc_name"], "kms.amazonaws.com");
    assert_eq!(service["actor"]["invoked_by"], "kms.amazonaws.com");
    assert_eq!(service["actor"]["user"]["account"]["uid"], "111122223333");

    assert_eq!(none["class_uid"], 0);
    assert_eq!(none["unmapped"]["event"]["action"], "AWSHealthEvent");
}
