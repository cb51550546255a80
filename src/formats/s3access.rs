//! Amazon S3 server access logs: one event per line, mapped like Elastic's
//! `aws.s3access` integration.
//!
//! `bucket_owner bucket [time] remote_ip requester request_id operation key
//! "request_uri" http_status error_code bytes_sent object_size total_time
//! turn_around_time "referrer" "user_agent"` are required; `version_id host_id
//! signature_version cipher_suite authentication_type host_header tls_version
//! access_point_arn acl_required source_region` are read when present (AWS
//! appends fields over time; unknown trailing fields are ignored). `-` means
//! absent. No GeoIP and no user-agent parsing.

use std::borrow::Cow;

use super::detect::tokens;
use super::fields::{
    is_ip, num, put_request, put_tls_version, JsonArrays, Token,
    Tokens,
};
use super::time::{http_date_utc};
use super::framing::LineRecord;
use crate::record::{FieldValue, Fields, ParsedEvent};

pub const DATASET: &str = "aws.s3access";

/// The field paths its events can have, besides the record writer's own
/// (see `FormatDef::fields`).
pub const FIELDS: &[&str] = &[
    "aws.s3access.access_point_arn",
    "aws.s3access.aclrequired",
    "aws.s3access.authentication_type",
    "aws.s3access.bucket",
    "aws.s3access.bucket_owner",
    "aws.s3access.bytes_sent",
    "aws.s3access.cipher_suite",
    "aws.s3access.error_code",
    "aws.s3access.host_header",
    "aws.s3access.host_id",
    "aws.s3access.http_status",
    "aws.s3access.key",
    "aws.s3access.object_size",
    "aws.s3access.operation",
    "aws.s3access.referrer",
    "aws.s3access.remote_ip",
    "aws.s3access.request_id",
    "aws.s3access.request_uri",
    "aws.s3access.requester",
    "aws.s3access.signature_version",
    "aws.s3access.source_region",
    "aws.s3access.tls_version",
    "aws.s3access.total_time",
    "aws.s3access.turn_around_time",
    "aws.s3access.user_agent",
    "aws.s3access.version_id",
    "client.address",
    "client.ip",
    "client.user.id",
    "cloud.region",
    "event.action",
    "event.category",
    "event.code",
    "event.duration",
    "event.kind",
    "event.outcome",
    "event.type",
    "http.request.method",
    "http.request.referrer",
    "http.response.body.bytes",
    "http.response.status_code",
    "http.version",
    "related.ip",
    "related.user",
    "tls.cipher",
    "tls.version",
    "tls.version_protocol",
    "url.domain",
    "url.extension",
    "url.fragment",
    "url.original",
    "url.path",
    "url.port",
    "url.query",
    "url.scheme",
    "user_agent.original",
];

/// `<64-hex owner> <bucket> [06/Feb/2019:00:00:38 +0000] ...`
pub fn sniff(line: &[u8]) -> bool {
    // The owner is a canonical user id (64 hex digits in AWS's files; other
    // lengths are seen in anonymized ones), the time `[06/Feb/2019:00:00:38`.
    let [owner, _bucket, time] = tokens(line);
    let is_time = time.len() > 12
        && time[0] == b'['
        && time[3] == b'/'
        && time[7] == b'/'
        && time[12] == b':';
    owner.len() >= 32 && owner.iter().all(u8::is_ascii_hexdigit) && is_time
}

/// One line of space-separated fields; JSON arrays are built in a buffer
/// the event borrows.
pub struct AccessLine;

impl LineRecord for AccessLine {
    const DATASET: &'static str = DATASET;
    const WHAT: &'static str = "an S3 server access log line";
    type Scratch = JsonArrays;

    fn map<'a>(
        line: &'a str,
        arrays: &'a mut JsonArrays,
        ev: &mut ParsedEvent<'a>,
    ) -> Result<(), String> {
        map_line(line, ev, arrays)?;
        let arrays: &'a JsonArrays = arrays;
        arrays.put(&mut ev.fields);
        Ok(())
    }
}


fn map_line<'a>(
    line: &'a str,
    ev: &mut ParsedEvent<'a>,
    arrays: &mut JsonArrays,
) -> Result<(), String> {
    let mut t = Tokens::new(line);
    let owner = t.req("bucket_owner")?;
    let bucket = t.req("bucket")?;
    let time = t
        .next_bracketed()
        .map_err(|e| e.to_string())?
        .ok_or("the line ends before the time field")?;
    let ts = http_date_utc(time)
        .ok_or_else(|| format!("time [{time}] is not dd/Mon/yyyy:HH:mm:ss +zzzz"))?;
    ev.timestamp = Some(Cow::Owned(ts));
    let f = &mut ev.fields;
    f.str("event.kind", "event");
    f.push("event.category", FieldValue::Json("[\"web\"]"));
    f.push("event.type", FieldValue::Json("[\"access\"]"));
    if let Some(o) = owner.str() {
        f.str("aws.s3access.bucket_owner", o);
        arrays.push("related.user", [o]);
    }
    put(f, "aws.s3access.bucket", &bucket);

    let remote_ip = t.req("remote_ip")?;
    if let Some(ip) = remote_ip.str() {
        f.str("aws.s3access.remote_ip", ip);
        f.str("client.address", ip);
        if is_ip(ip) {
            f.str("client.ip", ip);
            arrays.push("related.ip", [ip]);
        }
    }
    let requester = t.req("requester")?;
    if let Some(r) = requester.value() {
        f.str("client.user.id", r.clone());
        f.str("aws.s3access.requester", r);
    }
    put(f, "aws.s3access.request_id", &t.req("request_id")?);
    let operation = t.req("operation")?;
    if let Some(op) = operation.value() {
        f.str("event.action", op.clone());
        f.str("aws.s3access.operation", op);
    }
    put(f, "aws.s3access.key", &t.req("key")?);
    let request_uri = t.req("request_uri")?;
    if let Some(uri) = request_uri.value() {
        f.str("aws.s3access.request_uri", uri.clone());
        put_request(f, uri);
    }
    if let Some(status) = num::<u64>(&t.req("http_status")?.text, "http_status")? {
        f.u64("aws.s3access.http_status", status);
        f.u64("http.response.status_code", status);
    }
    let error_code = t.req("error_code")?;
    match error_code.value() {
        Some(code) => {
            f.str("event.code", code.clone());
            f.str("aws.s3access.error_code", code);
            f.str("event.outcome", "failure");
        }
        None => f.str("event.outcome", "success"),
    }
    if let Some(n) = num::<u64>(&t.req("bytes_sent")?.text, "bytes_sent")? {
        f.u64("aws.s3access.bytes_sent", n);
        f.u64("http.response.body.bytes", n);
    }
    if let Some(n) = num::<u64>(&t.req("object_size")?.text, "object_size")? {
        f.u64("aws.s3access.object_size", n);
    }
    if let Some(ms) = num::<u64>(&t.req("total_time")?.text, "total_time")? {
        f.u64("aws.s3access.total_time", ms);
        f.u64("event.duration", ms.saturating_mul(1_000_000));
    }
    if let Some(ms) = num::<u64>(&t.req("turn_around_time")?.text, "turn_around_time")? {
        f.u64("aws.s3access.turn_around_time", ms);
    }
    let referrer = t.req("referrer")?;
    if let Some(r) = referrer.value() {
        f.str("http.request.referrer", r.clone());
        f.str("aws.s3access.referrer", r);
    }
    let user_agent = t.req("user_agent")?;
    if let Some(ua) = user_agent.value() {
        f.str("user_agent.original", ua.clone());
        f.str("aws.s3access.user_agent", ua);
    }

    // Later additions, each optional.
    let Some(tok) = t.opt()? else { return Ok(()) };
    put(f, "aws.s3access.version_id", &tok);
    let Some(tok) = t.opt()? else { return Ok(()) };
    put(f, "aws.s3access.host_id", &tok);
    let Some(tok) = t.opt()? else { return Ok(()) };
    put(f, "aws.s3access.signature_version", &tok);
    let Some(tok) = t.opt()? else { return Ok(()) };
    if let Some(c) = tok.str() {
        f.str("aws.s3access.cipher_suite", c);
        f.str("tls.cipher", c);
    }
    let Some(tok) = t.opt()? else { return Ok(()) };
    put(f, "aws.s3access.authentication_type", &tok);
    let Some(tok) = t.opt()? else { return Ok(()) };
    if let Some(h) = tok.str() {
        f.str("aws.s3access.host_header", h);
        if let Some(region) = region_of_host(h) {
            f.str("cloud.region", region);
        }
    }
    let Some(tok) = t.opt()? else { return Ok(()) };
    if let Some(v) = tok.str() {
        f.str("aws.s3access.tls_version", v);
        put_tls_version(f, v);
    }
    let Some(tok) = t.opt()? else { return Ok(()) };
    put(f, "aws.s3access.access_point_arn", &tok);
    let Some(tok) = t.opt()? else { return Ok(()) };
    put(f, "aws.s3access.aclrequired", &tok);
    let Some(tok) = t.opt()? else { return Ok(()) };
    put(f, "aws.s3access.source_region", &tok);
    Ok(())
}

fn put<'a>(f: &mut Fields<'a>, path: &'static str, tok: &Token<'a>) {
    f.opt_cow(path, tok.value());
}

/// The region in an S3 endpoint host: `s3.eu-west-1.amazonaws.com`,
/// `bucket.s3.us-gov-west-1.amazonaws.com`, `s3-ap-southeast-1.amazonaws.com`,
/// `bucket.s3.dualstack.us-east-1.amazonaws.com`, `ap-123.s3-accesspoint.eu-west-1...`.
/// `None` for the global endpoint (`s3.amazonaws.com`) and other hosts.
fn region_of_host(host: &str) -> Option<&str> {
    let mut labels = host.split('.').peekable();
    while let Some(label) = labels.next() {
        let after = if label == "s3" || label == "s3-accesspoint" || label == "s3-control" {
            let mut next = labels.next()?;
            if next == "dualstack" {
                next = labels.next()?;
            }
            next
        } else if let Some(r) = label.strip_prefix("s3-") {
            r
        } else {
            continue;
        };
        return looks_like_region(after).then_some(after);
    }
    None
}

/// `us-east-1`, `us-gov-west-1`, `ap-southeast-2`: letters-...-digits.
fn looks_like_region(s: &str) -> bool {
    let mut parts = s.split('-');
    let first_ok = parts
        .next()
        .is_some_and(|p| p.len() >= 2 && p.bytes().all(|b| b.is_ascii_lowercase()));
    let rest: Vec<&str> = parts.collect();
    first_ok
        && rest.len() >= 2
        && rest
            .last()
            .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        && rest[..rest.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::region_of_host;
    use crate::formats::testing::{absent, check, run, Owned};
    use crate::formats::Format;

    const ELASTIC: &[u8] = include_bytes!("../../tests/data/s3access/test-s3-server-access.log");
    const DOCS: &[u8] = include_bytes!("../../tests/data/s3access/aws-docs.log");

    fn events(input: &[u8]) -> Vec<Owned> {
        let (evs, stats) = run(Format::S3Access, input, 64 * 1024).expect("parses");
        assert_eq!(stats.events, evs.len() as u64);
        evs
    }

    const UA: &str = "AWS-Support-TrustedAdvisor, aws-internal/3 aws-sdk-java/1.11.590 Linux/4.9.137-0.1.ac.218.74.329.metal1.x86_64 OpenJDK_64-Bit_Server_VM/25.212-b03 java/1.8.0_212 vendor/Oracle_Corporation";

    #[test]
    fn elastic_samples_map_like_the_expected_json() {
        let evs = events(ELASTIC);
        assert_eq!(evs.len(), 10);
        assert!(evs
            .iter()
            .all(|e| e.error.is_none() && e.dataset == "aws.s3access"));
        // Values from test-s3-server-access.log-expected.json (elastic/integrations).
        assert_eq!(evs[0].timestamp.as_deref(), Some("2019-08-01T00:24:41Z"));
        check(
            &evs[0],
            &[
                ("aws.s3access.bucket_owner", "36c1f05b76016b78528454e6e0c60e2b7ff7aa20c0a5e4c748276e5b0a2debd2"),
                ("related.user", r#"["36c1f05b76016b78528454e6e0c60e2b7ff7aa20c0a5e4c748276e5b0a2debd2"]"#),
                ("aws.s3access.bucket", "test-s3-ks"),
                ("aws.s3access.remote_ip", "89.160.20.156"),
                ("client.ip", "89.160.20.156"),
                ("client.address", "89.160.20.156"),
                ("related.ip", r#"["89.160.20.156"]"#),
                ("client.user.id", "arn:aws:sts::123456:assumed-role/AWSServiceRoleForTrustedAdvisor/TrustedAdvisor_627959692251_784ab70b-8cc9-4d37-a2ec-2ff4d0c08af9"),
                ("aws.s3access.request_id", "44EE8651683CB4DA"),
                ("aws.s3access.operation", "REST.GET.LOCATION"),
                ("event.action", "REST.GET.LOCATION"),
                ("aws.s3access.request_uri", "GET /test-s3-ks/?location&aws-account=627959692251 HTTP/1.1"),
                ("http.request.method", "GET"),
                ("http.version", "1.1"),
                ("url.original", "/test-s3-ks/?location&aws-account=627959692251"),
                ("url.path", "/test-s3-ks/"),
                ("url.query", "location&aws-account=627959692251"),
                ("aws.s3access.http_status", "200"),
                ("http.response.status_code", "200"),
                ("aws.s3access.bytes_sent", "142"),
                ("http.response.body.bytes", "142"),
                ("aws.s3access.total_time", "17"),
                ("event.duration", "17000000"),
                ("user_agent.original", UA),
                ("aws.s3access.user_agent", UA),
                ("aws.s3access.host_id", "BsCfJedfuSnds2QFoxi+E/O7M6OEWzJnw4dUaes/2hyA363sONRJKzB7EOY+Bt9DTHYUn+HoHxI="),
                ("aws.s3access.signature_version", "SigV4"),
                ("aws.s3access.cipher_suite", "ECDHE-RSA-AES128-SHA"),
                ("tls.cipher", "ECDHE-RSA-AES128-SHA"),
                ("aws.s3access.authentication_type", "AuthHeader"),
                ("aws.s3access.host_header", "s3.ap-southeast-1.amazonaws.com"),
                ("cloud.region", "ap-southeast-1"),
                ("aws.s3access.tls_version", "TLSv1.2"),
                ("tls.version", "1.2"),
                ("tls.version_protocol", "tls"),
                ("event.outcome", "success"),
                ("event.kind", "event"),
                ("event.category", r#"["web"]"#),
                ("event.type", r#"["access"]"#),
            ],
        );
        absent(
            &evs[0],
            &[
                "aws.s3access.key",
                "aws.s3access.error_code",
                "aws.s3access.object_size",
                "aws.s3access.turn_around_time",
                "aws.s3access.referrer",
                "http.request.referrer",
                "aws.s3access.version_id",
                "event.id",
            ],
        );
        check(
            &evs[2],
            &[
                ("aws.s3access.turn_around_time", "1"),
                (
                    "url.query",
                    "max-keys=0&encoding-type=url&aws-account=627959692251",
                ),
            ],
        );
        // BATCH.DELETE.OBJECT: no request URI, object size, key
        check(
            &evs[4],
            &[
                ("aws.s3access.key", "jolokia-war-1.5.0.war"),
                ("aws.s3access.object_size", "344017"),
                ("http.response.status_code", "204"),
                ("client.user.id", "arn:aws:iam::123456:user/test@elastic.co"),
                ("cloud.region", "eu-central-1"),
            ],
        );
        absent(
            &evs[4],
            &[
                "http.request.method",
                "url.original",
                "http.response.body.bytes",
                "event.duration",
                "user_agent.original",
            ],
        );
        check(
            &evs[5],
            &[(
                "aws.s3access.key",
                "Screen+Shot+2019-09-09+at+9.08.44+AM.png",
            )],
        );
    }

    #[test]
    fn service_requester_access_point_acl_and_expiry_lines() {
        let evs = events(ELASTIC);
        check(
            &evs[6],
            &[
                ("client.user.id", "svc:delivery.logs.amazonaws.com"),
                ("http.request.method", "PUT"),
                ("url.extension", "gz"),
                ("aws.s3access.object_size", "773"),
                ("aws.s3access.total_time", "103"),
                ("aws.s3access.turn_around_time", "13"),
                ("tls.cipher", "ECDHE-RSA-AES128-GCM-SHA256"),
                (
                    "aws.s3access.host_header",
                    "flow-log-test.s3.us-gov-west-1.amazonaws.com",
                ),
                ("cloud.region", "us-gov-west-1"),
            ],
        );
        absent(
            &evs[6],
            &[
                "client.ip",
                "client.address",
                "related.ip",
                "user_agent.original",
                "aws.s3access.access_point_arn",
            ],
        );
        check(
            &evs[7],
            &[
                (
                    "aws.s3access.access_point_arn",
                    "arn:aws:s3:us-west-1:123456789012:accesspoint/example-AP",
                ),
                ("aws.s3access.aclrequired", "Yes"),
            ],
        );
        absent(
            &evs[8],
            &["http.response.status_code", "aws.s3access.aclrequired"],
        );
        check(
            &evs[9],
            &[
                ("event.action", "S3.EXPIRE.OBJECT"),
                ("client.user.id", "AmazonS3"),
                ("aws.s3access.object_size", "317"),
                (
                    "aws.s3access.version_id",
                    "qsEq9bDa2VyxyZ4cz0c7oBnF67VYTTij",
                ),
                (
                    "aws.s3access.host_id",
                    "DMlPb9al4CvVBck150CgpEIIYgtSI3HC/atetNVYwPtHZffW6jfpg+BrffhbT9/B",
                ),
            ],
        );
        absent(
            &evs[9],
            &[
                "aws.s3access.request_uri",
                "url.original",
                "aws.s3access.http_status",
                "tls.cipher",
                "cloud.region",
                "aws.s3access.signature_version",
            ],
        );
    }

    #[test]
    fn aws_docs_examples_with_errors_and_new_fields() {
        let evs = events(DOCS);
        assert!(evs.iter().all(|e| e.error.is_none()));
        assert_eq!(evs[0].timestamp.as_deref(), Some("2019-02-06T00:00:38Z"));
        check(
            &evs[0],
            &[
                ("aws.s3access.bucket", "awsrandombucket43"),
                ("event.action", "REST.PUT.OBJECT"),
                ("aws.s3access.key", "/photos/2019/08/puppy.jpg"),
                ("url.path", "/awsrandombucket43/photos/2019/08/puppy.jpg"),
                ("url.extension", "jpg"),
                (
                    "aws.s3access.access_point_arn",
                    "arn:aws:s3:us-east-1:123456789012:accesspoint/example-AP",
                ),
                ("aws.s3access.aclrequired", "Yes"),
                ("cloud.region", "us-east-1"),
                ("tls.version", "1.2"),
            ],
        );
        check(
            &evs[1],
            &[
                ("aws.s3access.error_code", "NoSuchKey"),
                ("event.code", "NoSuchKey"),
                ("event.outcome", "failure"),
                ("http.response.status_code", "404"),
                ("http.request.referrer", "https://example.com/page"),
                ("aws.s3access.source_region", "eu-west-1"),
                ("user_agent.original", "curl/8.0 \"quoted\""),
            ],
        );
        absent(
            &evs[1],
            &["aws.s3access.access_point_arn", "aws.s3access.aclrequired"],
        );
        // The global endpoint names no region.
        absent(&evs[2], &["cloud.region", "aws.s3access.version_id"]);
        check(
            &evs[2],
            &[
                ("client.ip", "2001:db8::1"),
                ("related.ip", r#"["2001:db8::1"]"#),
            ],
        );
    }

    #[test]
    fn regions_from_host_headers() {
        let cases = [
            ("s3.ap-southeast-1.amazonaws.com", Some("ap-southeast-1")),
            ("s3-ap-southeast-1.amazonaws.com", Some("ap-southeast-1")),
            ("b.s3.us-gov-west-1.amazonaws.com", Some("us-gov-west-1")),
            ("b.s3.dualstack.us-east-2.amazonaws.com", Some("us-east-2")),
            (
                "ap-1234.s3-accesspoint.eu-west-1.amazonaws.com",
                Some("eu-west-1"),
            ),
            ("s3.amazonaws.com", None),
            ("b.s3.amazonaws.com", None),
            ("example.com", None),
            ("s3-external-1.amazonaws.com", None),
        ];
        for (host, want) in cases {
            assert_eq!(region_of_host(host), want, "{host}");
        }
    }

    #[test]
    fn malformed_lines_become_error_events() {
        let cases: &[(&str, &str)] = &[
            ("owner bucket", "ends before the time"),
            ("owner bucket 06/Feb/2019:00:00:38", "is not dd/Mon"),
            ("owner bucket [06/Feb/2019:00:00:38 +0000", "closing bracket"),
            ("owner bucket [06/Feb/2019:00:00:38 +0000] 1.2.3.4 req id REST.GET.OBJECT k \"GET /k HTTP/1.1\" 200 - 1 1 1", "ends before the turn_around_time"),
            ("owner bucket [06/Feb/2019:00:00:38 +0000] 1.2.3.4 req id REST.GET.OBJECT k \"GET /k HTTP/1.1\" OK - 1 1 1 1 \"-\" \"-\"", "http_status \"OK\""),
            ("owner bucket [06/Feb/2019:00:00:38 +0000] 1.2.3.4 req id REST.GET.OBJECT k \"GET /k HTTP/1.1\" 200 - 1 1 1 1 \"-\" \"ua", "closing quote"),
        ];
        let mut input = Vec::new();
        for (line, _) in cases {
            input.extend_from_slice(line.as_bytes());
            input.push(b'\n');
        }
        let (evs, stats) = run(Format::S3Access, &input, 4096).unwrap();
        assert_eq!(stats.errors, cases.len() as u64);
        for (i, (ev, (line, reason))) in evs.iter().zip(cases).enumerate() {
            let err = ev.error.as_deref().unwrap();
            assert!(err.contains(&format!("line {}:", i + 1)), "{err}");
            assert!(err.contains(reason), "{err} should say {reason}");
            assert_eq!(ev.original, *line);
            assert!(ev.fields.is_empty() && ev.timestamp.is_none());
        }
    }

    #[test]
    fn invalid_utf8_blank_lines_and_crlf() {
        let input = b"\n   \nowner bucket [06/Feb/2019:00:00:38 +0000] 1.2.3.4 req id REST.GET.OBJECT k\xff \"GET /k HTTP/1.1\" 200 - 1 1 1 1 \"-\" \"-\"\r\n";
        let (evs, stats) = run(Format::S3Access, input, 4096).unwrap();
        assert_eq!((evs.len(), stats.skipped, stats.errors), (1, 2, 1));
        assert!(evs[0]
            .error
            .as_deref()
            .unwrap()
            .contains("line 3 is not valid UTF-8"));
        assert_eq!(evs[0].field("aws.s3access.key"), Some("k\u{FFFD}"));
        assert_eq!(evs[0].offset, Some(5));
    }

    #[test]
    fn line_over_the_limit_is_an_error_for_the_object() {
        assert!(matches!(
            run(Format::S3Access, ELASTIC, 200),
            Err(crate::formats::FormatError::LineTooLong {
                line: 1,
                limit: 200
            })
        ));
    }
}
