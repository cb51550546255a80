//! S3 server access logs -> OCSF API Activity (6003), as CloudTrail's S3
//! data events are: both views of one request stay comparable.
//!
//! Activity from the operation's verb (`REST.GET.OBJECT`: `GET`): GET,
//! HEAD and OPTIONS 2 Read; PUT, POST and COPY 1 Create on an object, a
//! bucket, an upload or a part, else 3 Update (a bucket's ACL, policy,
//! tagging ...); DELETE 4 Delete; anything else (`S3.EXPIRE.OBJECT`,
//! `S3.TRANSITION_SIA.OBJECT` ...) 99 Other named by the operation.
//! `status_id`: 2 Failure with an error code, else 1 Success.
//!
//! The class requires `actor`, `api` and `src_endpoint`:
//! - `actor.user.uid`: the requester (an IAM ARN or a canonical user id);
//!   an anonymous request (`-`) is `actor.user.name` "anonymous".
//! - `api`: `operation` the S3 operation, `service.name`
//!   "s3.amazonaws.com", the request id and the response's code and error.
//! - `src_endpoint.ip`: the remote address; one that is not an IP is
//!   `src_endpoint.name`, none `src_endpoint.name` "-".
//!
//! `resources`: the bucket (`AWS::S3::Bucket`, its ARN, its owner's
//! canonical id), the object key (`AWS::S3::Object`, with its version id)
//! and the access point (`AWS::S3::AccessPoint`). The request line is
//! `http_request`. Bytes, times and TLS details have no attribute in API
//! Activity: they stay in `unmapped` with their S3 names.

use serde_json::{json, Map, Value};

use super::elb::STATUSES;
use super::{enumerated, text, value, Activity, Conv, Mapping, Row, API_ACTIVITY};
use crate::record::{FieldValue, Fields, ParsedEvent};

pub static MAPPING: Mapping = Mapping {
    product: "Amazon S3",
    feature: "Server access logs",
    profiles: "[\"cloud\"]",
    rows: ROWS,
    rules,
};

#[rustfmt::skip]
const ROWS: &[Row] = &[
    // ECS field of our record            OCSF 1.1.0 attribute                  how
    ("cloud.region",                      "cloud.region",                       Conv::Same),
    ("client.ip",                         "src_endpoint.ip",                    Conv::Same),
    ("client.user.id",                    "actor.user.uid",                     Conv::Same),
    ("aws.s3access.operation",            "api.operation",                      Conv::Same),
    ("aws.s3access.request_id",           "api.request.uid",                    Conv::Same),
    ("http.response.status_code",         "api.response.code",                  Conv::Same),
    ("aws.s3access.error_code",           "api.response.error",                 Conv::Same),
    ("http.request.method",               "http_request.http_method",           Conv::Same),
    ("http.version",                      "http_request.version",               Conv::Same),
    ("http.request.referrer",             "http_request.referrer",              Conv::Same),
    ("user_agent.original",               "http_request.user_agent",            Conv::Same),
    ("url.scheme",                        "http_request.url.scheme",            Conv::Same),
    ("url.domain",                        "http_request.url.hostname",          Conv::Same),
    ("url.port",                          "http_request.url.port",              Conv::Same),
    ("url.path",                          "http_request.url.path",              Conv::Same),
    ("url.query",                         "http_request.url.query_string",      Conv::Same),
    // Set by the rules below.
    ("aws.s3access.host_header",          "http_request.url.hostname (without a host in the request line)", Conv::Rule),
    ("aws.s3access.bucket",               "resources[] AWS::S3::Bucket name, uid (its ARN)", Conv::Rule),
    ("aws.s3access.bucket_owner",         "resources[] AWS::S3::Bucket owner.uid", Conv::Rule),
    ("aws.s3access.key",                  "resources[] AWS::S3::Object name",   Conv::Rule),
    ("aws.s3access.version_id",           "resources[] AWS::S3::Object version", Conv::Rule),
    ("aws.s3access.access_point_arn",     "resources[] AWS::S3::AccessPoint uid", Conv::Rule),
    ("event.outcome",                     "status_id, status",                  Conv::Rule),
    ("client.address",                    "src_endpoint.ip, or src_endpoint.name when not an IP", Conv::Rule),
    ("aws.s3access.request_uri",          "http_request (its parts; unmapped when it has none)", Conv::Rule),
    ("url.original",                      "(= url.path and query_string: a path, not the URL that url_string wants; unmapped without a path)", Conv::Rule),
    // Repeat other fields: not written again.
    ("aws.s3access.requester",            "(= actor.user.uid)",                 Conv::Rule),
    ("aws.s3access.remote_ip",            "(= src_endpoint)",                   Conv::Rule),
    ("aws.s3access.http_status",          "(= api.response.code)",              Conv::Rule),
    ("aws.s3access.referrer",             "(= http_request.referrer)",          Conv::Rule),
    ("aws.s3access.user_agent",           "(= http_request.user_agent)",        Conv::Rule),
    ("event.action",                      "(= api.operation)",                  Conv::Rule),
    ("event.code",                        "(= api.response.error)",             Conv::Rule),
    ("http.response.body.bytes",          "(= unmapped aws.s3access.bytes_sent)", Conv::Rule),
    ("event.duration",                    "(= unmapped aws.s3access.total_time)", Conv::Rule),
    ("tls.cipher",                        "(= unmapped aws.s3access.cipher_suite)", Conv::Rule),
    ("tls.version",                       "(= unmapped aws.s3access.tls_version)", Conv::Rule),
    ("tls.version_protocol",              "(= unmapped aws.s3access.tls_version)", Conv::Rule),
    ("related.ip",                        "(= src_endpoint.ip)",                Conv::Rule),
    ("related.user",                      "(= the bucket owner)",               Conv::Rule),
    ("event.kind",                        "(the class)",                        Conv::Rule),
    ("event.category",                    "(the class)",                        Conv::Rule),
    ("event.type",                        "(the class)",                        Conv::Rule),
];

/// The activity of an S3 operation (`REST.GET.OBJECT`).
fn activity(operation: &str) -> Option<u32> {
    let mut parts = operation.splitn(3, '.');
    let (_, verb, resource) = (parts.next()?, parts.next()?, parts.next().unwrap_or(""));
    Some(match verb {
        "GET" | "HEAD" | "OPTIONS" => 2,
        "PUT" | "POST" | "COPY" => {
            if resource.starts_with("OBJECT")
                || matches!(resource, "BUCKET" | "UPLOAD" | "UPLOADS" | "PART")
            {
                1
            } else {
                3
            }
        }
        "DELETE" => 4,
        _ => return None,
    })
}

fn resources<'a>(ev: &ParsedEvent<'a>, f: &mut Fields<'a>) {
    let mut out = Vec::new();
    if let Some(bucket) = text(ev, "aws.s3access.bucket") {
        let mut r = Map::new();
        r.insert("type".into(), json!("AWS::S3::Bucket"));
        r.insert("name".into(), json!(bucket));
        r.insert("uid".into(), json!(format!("arn:aws:s3:::{bucket}")));
        if let Some(owner) = text(ev, "aws.s3access.bucket_owner") {
            r.insert("owner".into(), json!({ "uid": owner }));
        }
        out.push(Value::Object(r));
    }
    if let Some(key) = text(ev, "aws.s3access.key") {
        let mut r = Map::new();
        r.insert("type".into(), json!("AWS::S3::Object"));
        r.insert("name".into(), json!(key));
        if let Some(v) = text(ev, "aws.s3access.version_id") {
            r.insert("version".into(), json!(v));
        }
        out.push(Value::Object(r));
    }
    if let Some(ap) = text(ev, "aws.s3access.access_point_arn") {
        out.push(json!({ "type": "AWS::S3::AccessPoint", "uid": ap }));
    }
    // What no resource holds stays as it was.
    for (path, holder, to) in [
        (
            "aws.s3access.bucket_owner",
            "aws.s3access.bucket",
            "unmapped.aws.s3access.bucket_owner",
        ),
        (
            "aws.s3access.version_id",
            "aws.s3access.key",
            "unmapped.aws.s3access.version_id",
        ),
    ] {
        if ev.fields.get(holder).is_none() {
            if let Some(v) = value(ev, path) {
                f.push(to, v);
            }
        }
    }
    if !out.is_empty() {
        if let Ok(json) = serde_json::to_string(&out) {
            f.push("resources", FieldValue::JsonText(json));
        }
    }
}

fn rules<'a>(ev: &ParsedEvent<'a>, f: &mut Fields<'a>) -> Activity<'a> {
    f.str("api.service.name", "s3.amazonaws.com");
    let operation = text(ev, "aws.s3access.operation");
    if operation.is_none() {
        // Required.
        f.str("api.operation", "-");
    }
    if ev.fields.get("client.user.id").is_none() {
        f.str("actor.user.name", "anonymous");
    }
    if ev.fields.get("client.ip").is_none() {
        match value(ev, "client.address") {
            Some(v) => f.push("src_endpoint.name", v),
            None => f.str("src_endpoint.name", "-"),
        }
    }
    let status = match text(ev, "event.outcome") {
        Some("success") => Some(1),
        Some("failure") => Some(2),
        _ => None,
    };
    if let Some(s) = status {
        enumerated(f, "status_id", "status", s, STATUSES);
    }
    resources(ev, f);
    // The request line's host, else the Host header.
    let host = ev.fields.get("url.domain").is_some();
    if !host {
        if let Some(h) = value(ev, "aws.s3access.host_header") {
            f.push("http_request.url.hostname", h);
        }
    }
    if ev.fields.get("url.path").is_none() {
        for (from, to) in [
            (
                "aws.s3access.request_uri",
                "unmapped.aws.s3access.request_uri",
            ),
            ("url.original", "unmapped.url.original"),
        ] {
            if let Some(v) = value(ev, from) {
                f.push(to, v);
            }
        }
        // `url` needs a path (or the whole URL).
        if !host && ev.fields.get("aws.s3access.host_header").is_some() {
            f.str("http_request.url.path", "");
        }
    }
    match operation.map(|op| (op, activity(op))) {
        Some((_, Some(id))) => Activity::of(API_ACTIVITY, id),
        Some((op, None)) => Activity::other(API_ACTIVITY, op.to_string()),
        None => Activity::of(API_ACTIVITY, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::activity;
    use crate::formats::Format;
    use crate::ocsf::testing::{get, ocsf};

    #[test]
    fn the_operation_chooses_the_activity() {
        assert_eq!(activity("REST.GET.OBJECT"), Some(2));
        assert_eq!(activity("REST.PUT.OBJECT"), Some(1));
        assert_eq!(activity("REST.PUT.BUCKETPOLICY"), Some(3));
        assert_eq!(activity("REST.DELETE.OBJECT"), Some(4));
        assert_eq!(activity("S3.EXPIRE.OBJECT"), None);
    }

    #[test]
    fn a_request_is_api_activity() {
        let line = br#"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be awsrandombucket43 [06/Feb/2019:00:01:00 +0000] 192.0.2.3 arn:aws:iam::123456789012:user/alice 891CE47D2EXAMPLE REST.GET.OBJECT photos/missing.jpg "GET /photos/missing.jpg HTTP/1.1" 404 NoSuchKey 243 - 12 - "https://example.com/page" "curl/8.0" - Ag8i0lA9bSAHLa4pT5iN7R5S4bCiHx0fwnRhXLf3yiMq6oKVYBcFhJf1D1mXKWIQNhk6NdBvY+g= SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader awsrandombucket43.s3.eu-west-1.amazonaws.com TLSv1.3 - - eu-west-1
"#;
        let out = ocsf(Format::S3Access, line);
        assert_eq!(get(&out, "class_uid"), Some("U64(6003)"));
        assert_eq!(get(&out, "activity_id"), Some("U64(2)"));
        assert_eq!(get(&out, "api.operation"), Some("Str(\"REST.GET.OBJECT\")"));
        assert_eq!(get(&out, "api.response.error"), Some("Str(\"NoSuchKey\")"));
        assert_eq!(get(&out, "api.response.code"), Some("U64(404)"));
        assert_eq!(get(&out, "status_id"), Some("U64(2)"));
        assert_eq!(
            get(&out, "actor.user.uid"),
            Some("Str(\"arn:aws:iam::123456789012:user/alice\")")
        );
        assert_eq!(get(&out, "src_endpoint.ip"), Some("Str(\"192.0.2.3\")"));
        assert!(
            get(&out, "resources").is_some_and(|r| r.contains("arn:aws:s3:::awsrandombucket43"))
        );
        assert!(get(&out, "unmapped.aws.s3access.bytes_sent").is_some());
    }
}
