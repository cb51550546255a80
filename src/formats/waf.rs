//! AWS WAF (v2) logs: JSON lines, one request per line.
//!
//! Mapped like Elastic's `aws.waf`: `@timestamp` from `timestamp` (epoch
//! milliseconds), `event.action` = `action`, the request as `source.*`,
//! `http.*`, `url.*`, `user_agent.original` (the `User-Agent` header, any
//! case), `rule.id`/`rule.ruleset` from the terminating rule, the web ACL ARN
//! as `aws.waf.arn` (and its account/region as `cloud.*`). Rule lists, labels
//! and match details pass through as raw JSON under `aws.waf.*`, and so do
//! the headers, as the source's list of `{name, value}` (names repeat and
//! their order matters, which an object name -> value would lose), at
//! `aws.waf.request.headers`. The HTTP version is also kept as written
//! (`aws.waf.request.http_version`); members no mapping names keep their
//! names under `aws.waf.*` and, of `httpRequest`, `aws.waf.request.*`.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::detect::has;
use super::json::{self, Object, Num, OptText, Text, lowercase, opt_num, raw_nonempty};
use super::time::millis_time;
use super::framing::LineRecord;
use crate::record::{FieldValue, ParsedEvent};

pub const DATASET: &str = "aws.waf";

/// The field paths its events can have, besides the record writer's own
/// (see `FormatDef::fields`).
pub const FIELDS: &[&str] = &[
    "aws.waf.*",
    "aws.waf.arn",
    "aws.waf.captcha_response",
    "aws.waf.challenge_response",
    "aws.waf.format_version",
    "aws.waf.id",
    "aws.waf.ja4_fingerprint",
    "aws.waf.labels",
    "aws.waf.non_terminating_matching_rules",
    "aws.waf.oversize_fields",
    "aws.waf.rate_based_rule_list",
    "aws.waf.request",
    "aws.waf.request.*",
    "aws.waf.request.headers",
    "aws.waf.request.http_version",
    "aws.waf.request_body_size",
    "aws.waf.request_body_size_inspected_by_waf",
    "aws.waf.request_headers_inserted",
    "aws.waf.response_code_sent",
    "aws.waf.rule_group_list",
    "aws.waf.source.id",
    "aws.waf.source.name",
    "aws.waf.terminating_rule_match_details",
    "cloud.account.id",
    "cloud.region",
    "cloud.service.name",
    "event.action",
    "event.category",
    "event.kind",
    "event.type",
    "http.request.id",
    "http.request.method",
    "http.version",
    "network.protocol",
    "network.transport",
    "related.ip",
    "rule.id",
    "rule.ruleset",
    "source.geo.country_iso_code",
    "source.ip",
    "tls.client.ja3",
    "url.domain",
    "url.fragment",
    "url.path",
    "url.query",
    "url.scheme",
    "user_agent.original",
];

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Waf<'a> {
    #[serde(default)]
    timestamp: Option<Num>,
    #[serde(borrow, default)]
    format_version: OptText<'a>,
    #[serde(borrow, default)]
    webacl_id: OptText<'a>,
    #[serde(borrow, default)]
    terminating_rule_id: OptText<'a>,
    #[serde(borrow, default)]
    terminating_rule_type: OptText<'a>,
    #[serde(borrow, default)]
    action: OptText<'a>,
    #[serde(borrow, default)]
    terminating_rule_match_details: Option<&'a RawValue>,
    #[serde(borrow, default)]
    http_source_name: OptText<'a>,
    #[serde(borrow, default)]
    http_source_id: OptText<'a>,
    #[serde(borrow, default)]
    rule_group_list: Option<&'a RawValue>,
    #[serde(borrow, default)]
    rate_based_rule_list: Option<&'a RawValue>,
    #[serde(borrow, default)]
    non_terminating_matching_rules: Option<&'a RawValue>,
    #[serde(borrow, default)]
    request_headers_inserted: Option<&'a RawValue>,
    #[serde(default)]
    response_code_sent: Option<Num>,
    #[serde(borrow, default)]
    http_request: Option<&'a RawValue>,
    #[serde(borrow, default)]
    labels: Option<&'a RawValue>,
    #[serde(borrow, default)]
    captcha_response: Option<&'a RawValue>,
    #[serde(borrow, default)]
    challenge_response: Option<&'a RawValue>,
    #[serde(borrow, default)]
    ja3_fingerprint: OptText<'a>,
    #[serde(borrow, default)]
    ja4_fingerprint: OptText<'a>,
    #[serde(default)]
    request_body_size: Option<Num>,
    #[serde(rename = "requestBodySizeInspectedByWAF", default)]
    request_body_size_inspected_by_waf: Option<Num>,
    #[serde(borrow, default)]
    oversize_fields: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Header<'a> {
    #[serde(borrow, default)]
    name: OptText<'a>,
    #[serde(borrow, default)]
    value: OptText<'a>,
}

/// The leaves this module writes under `aws.waf.`: an unmapped member by
/// one of these names is renamed (see [`json::keep`]).
const WRITTEN: &[&str] = &[
    "id",
    "arn",
    "format_version",
    "source",
    "response_code_sent",
    "request_body_size",
    "request_body_size_inspected_by_waf",
    "ja4_fingerprint",
    "terminating_rule_match_details",
    "rule_group_list",
    "rate_based_rule_list",
    "non_terminating_matching_rules",
    "request_headers_inserted",
    "labels",
    "captcha_response",
    "challenge_response",
    "oversize_fields",
    "request",
];

/// A WAF log entry names its `webaclId` and `httpRequest`.
pub fn sniff(line: &[u8]) -> bool {
    has(line, "\"webaclId\"") && has(line, "\"httpRequest\"")
}

/// One JSON object a line.
pub struct WafRecord;

impl LineRecord for WafRecord {
    const DATASET: &'static str = DATASET;
    const WHAT: &'static str = "a valid WAF log record";
    const JSON_OBJECT: bool = true;
    type Scratch = Vec<u8>;

    fn map<'a>(
        line: &'a str,
        _scratch: &'a mut Vec<u8>,
        ev: &mut ParsedEvent<'a>,
    ) -> Result<(), String> {
        let (w, unmapped): (Waf<'a>, _) =
            json::from_str_keeping(line, WRITTEN).map_err(|e| e.to_string())?;
        ev.timestamp = millis_time(w.timestamp.as_ref());
        let f = &mut ev.fields;
        f.str("event.kind", "alert");
        f.push("event.category", FieldValue::Json(r#"["web","network"]"#));
        let action = json::present(w.action);
        let kind = match action.as_deref() {
            Some("ALLOW") => r#"["access","allowed"]"#,
            Some("BLOCK") => r#"["access","denied"]"#,
            _ => r#"["access"]"#,
        };
        f.push("event.type", FieldValue::Json(kind));
        f.opt_cow("event.action", action);
        f.opt_cow("rule.id", json::present(w.terminating_rule_id));
        f.opt_cow("rule.ruleset", json::present(w.terminating_rule_type));
        if let Some(arn) = json::present(w.webacl_id) {
            // arn:aws:wafv2:<region>:<account>:<scope>/webacl/<name>/<id>
            let parts: Vec<&str> = arn.splitn(6, ':').collect();
            if let [_, _, service, region, account, id] = parts[..] {
                let (service, region, account, id) = (
                    service.to_string(),
                    region.to_string(),
                    account.to_string(),
                    id.to_string(),
                );
                f.opt_cow("cloud.service.name", Some(Cow::Owned(service)));
                f.opt_cow("cloud.region", Some(Cow::Owned(region)));
                f.opt_cow("cloud.account.id", Some(Cow::Owned(account)));
                f.opt_cow("aws.waf.id", Some(Cow::Owned(id)));
            }
            f.str("aws.waf.arn", arn);
        }
        f.opt_cow("aws.waf.format_version", json::present(w.format_version));
        // "-" when the source is not known: kept as written all the same.
        f.opt_cow("aws.waf.source.name", w.http_source_name.map(|s| s.0));
        f.opt_cow("aws.waf.source.id", w.http_source_id.map(|s| s.0));
        opt_num(f, "aws.waf.response_code_sent", w.response_code_sent);
        opt_num(f, "aws.waf.request_body_size", w.request_body_size);
        opt_num(
            f,
            "aws.waf.request_body_size_inspected_by_waf",
            w.request_body_size_inspected_by_waf,
        );
        f.opt_cow("tls.client.ja3", json::present(w.ja3_fingerprint));
        f.opt_cow("aws.waf.ja4_fingerprint", json::present(w.ja4_fingerprint));
        let raws = [
            (
                "aws.waf.terminating_rule_match_details",
                w.terminating_rule_match_details,
            ),
            ("aws.waf.rule_group_list", w.rule_group_list),
            ("aws.waf.rate_based_rule_list", w.rate_based_rule_list),
            (
                "aws.waf.non_terminating_matching_rules",
                w.non_terminating_matching_rules,
            ),
            (
                "aws.waf.request_headers_inserted",
                w.request_headers_inserted,
            ),
            ("aws.waf.labels", w.labels),
            ("aws.waf.captcha_response", w.captcha_response),
            ("aws.waf.challenge_response", w.challenge_response),
            ("aws.waf.oversize_fields", w.oversize_fields),
        ];
        for (path, raw) in raws {
            f.opt_raw(path, raw_nonempty(raw));
        }
        f.members("aws.waf.*", unmapped);
        let Some(raw) = w.http_request else {
            return Ok(());
        };
        let Some(mut r) = Object::of(raw) else {
            f.raw("aws.waf.request", raw);
            return Ok(());
        };
        let client_ip = r.take::<Text>("clientIp");
        f.opt_cow("source.ip", json::present_ref(&client_ip));
        f.opt_cow("related.ip", json::present(client_ip));
        f.opt_cow("source.geo.country_iso_code", json::present(r.take("country")));
        f.opt_cow("http.request.method", json::present(r.take("httpMethod")));
        // Kept as written, "null" too (WAF writes it when it has no id).
        f.opt_cow("http.request.id", json::present(r.take("requestId")));
        f.opt_cow("url.path", json::present(r.take("uri")));
        f.opt_cow("url.query", json::present(r.take("args")));
        f.opt_cow("url.fragment", json::present(r.take("fragment")));
        f.opt_cow("url.scheme", json::present(r.take("scheme")));
        f.opt_cow("url.domain", json::present(r.take("host")));
        if let Some(v) = json::present(r.take("httpVersion")) {
            // "HTTP/1.1" -> network.protocol "http", http.version "1.1"; the
            // version also kept as written.
            if let Some((proto, version)) = v.split_once('/') {
                let proto = lowercase(Cow::Owned(proto.to_string()));
                if proto == "http" {
                    f.str("network.transport", "tcp");
                }
                f.str("http.version", version.to_string());
                f.str("network.protocol", proto);
            }
            f.str("aws.waf.request.http_version", v);
        }
        if let Some(raw) = r.take::<&RawValue>("headers") {
            // The list as written (names repeat, order matters); the user
            // agent, any case, also as user_agent.original.
            if let Ok(headers) = serde_json::from_str::<Vec<Header<'a>>>(raw.get()) {
                let ua = headers
                    .iter()
                    .find(|h| {
                        h.name
                            .as_ref()
                            .is_some_and(|n| n.0.eq_ignore_ascii_case("user-agent"))
                    })
                    .and_then(|h| json::present_ref(&h.value));
                f.opt_cow("user_agent.original", ua);
            }
            f.opt_raw("aws.waf.request.headers", raw_nonempty(Some(raw)));
        }
        f.members("aws.waf.request.*", r.rest());
        Ok(())
    }
}



#[cfg(test)]
mod tests {
    use crate::formats::testing::run;
    use crate::formats::Format;

    /// Four WAF log lines from elastic/integrations (tests/data/waf/SOURCES.md).
    const ELASTIC: &str = include_str!("../../tests/data/waf/elastic-test-waf.log");

    #[test]
    fn elastic_samples_map_to_elastics_fields() {
        let (evs, stats) = run(Format::Waf, ELASTIC.as_bytes(), 1 << 20).unwrap();
        assert_eq!((stats.events, stats.errors), (4, 0));
        let e = &evs[0];
        let want = [
            ("event.action", "BLOCK"),
            ("event.kind", "alert"),
            ("event.type", r#"["access","denied"]"#),
            ("source.ip", "89.160.20.156"),
            ("source.geo.country_iso_code", "AU"),
            ("http.request.method", "GET"),
            ("http.request.id", "rid"),
            ("http.version", "1.1"),
            ("network.protocol", "http"),
            ("network.transport", "tcp"),
            ("url.path", "/foo"),
            ("user_agent.original", "curl/7.61.1"),
            ("rule.id", "STMTest_SQLi_XSS"),
            ("rule.ruleset", "REGULAR"),
            ("cloud.region", "ap-southeast-2"),
            ("cloud.account.id", "EXAMPLE12345"),
            ("cloud.service.name", "wafv2"),
            (
                "aws.waf.arn",
                "arn:aws:wafv2:ap-southeast-2:EXAMPLE12345:regional/webacl/STMTest/1EXAMPLE-2ARN-3ARN-4ARN-123456EXAMPLE",
            ),
            (
                "aws.waf.id",
                "regional/webacl/STMTest/1EXAMPLE-2ARN-3ARN-4ARN-123456EXAMPLE",
            ),
            ("aws.waf.format_version", "1"),
            (
                "aws.waf.request.headers",
                r#"[{"name":"Host","value":"localhost:1989"},{"name":"User-Agent","value":"curl/7.61.1"},{"name":"Accept","value":"*/*"},{"name":"x-stm-test","value":"10 AND 1=1"}]"#,
            ),
            ("aws.waf.request.http_version", "HTTP/1.1"),
            ("aws.waf.source.name", "-"),
            ("aws.waf.labels", r#"[{"name":"value"}]"#),
        ];
        for (path, value) in want {
            assert_eq!(e.field(path), Some(value), "{path}");
        }
        // Elastic: "@timestamp": "2019-12-13T23:40:12.771Z".
        assert_eq!(e.timestamp.as_deref(), Some("2019-12-13T23:40:12.771Z"));
        assert!(e
            .field("aws.waf.terminating_rule_match_details")
            .unwrap()
            .contains("SQL_INJECTION"));
        for absent in [
            "url.query",
            "aws.waf.rule_group_list",
            "aws.waf.non_terminating_matching_rules",
        ] {
            assert_eq!(e.field(absent), None, "{absent} is empty");
        }

        let allowed = &evs[1];
        assert_eq!(allowed.field("event.action"), Some("ALLOW"));
        assert_eq!(allowed.field("event.type"), Some(r#"["access","allowed"]"#));
        assert!(allowed
            .field("aws.waf.non_terminating_matching_rules")
            .unwrap()
            .contains("TestRule"));
        assert!(evs[2]
            .field("aws.waf.rule_group_list")
            .unwrap()
            .contains("RuleA-XSS"));

        let alb = &evs[3];
        assert_eq!(alb.field("aws.waf.source.name"), Some("ALB"));
        assert_eq!(alb.field("aws.waf.source.id"), Some("alb"));
        assert_eq!(alb.field("http.request.id"), Some("null"), "as written");
        assert_eq!(alb.field("url.path"), None);
        assert_eq!(alb.field("aws.waf.request.headers"), None);
        assert_eq!(alb.field("user_agent.original"), None);
    }

    #[test]
    fn user_agent_header_is_found_in_any_case_and_headers_are_kept_as_written() {
        let line = r#"{"timestamp":1,"action":"CAPTCHA","httpRequest":{"clientIp":"2001:db8::1","headers":[{"name":"user-agent","value":"ua \"quoted\""},{"name":"x","value":"1"},{"name":"x","value":"2"}],"args":"a=1&b=2","httpVersion":"HTTP/2.0","host":"example.com","scheme":"https"},"captchaResponse":{"responseCode":405,"failureReason":"TOKEN_MISSING"},"responseCodeSent":403,"requestBodySize":12}"#;
        let (evs, _) = run(Format::Waf, line.as_bytes(), 1 << 20).unwrap();
        let e = &evs[0];
        assert_eq!(e.field("user_agent.original"), Some("ua \"quoted\""));
        assert_eq!(
            e.field("aws.waf.request.headers"),
            Some(
                r#"[{"name":"user-agent","value":"ua \"quoted\""},{"name":"x","value":"1"},{"name":"x","value":"2"}]"#
            )
        );
        assert_eq!(e.field("event.action"), Some("CAPTCHA"));
        assert_eq!(e.field("event.type"), Some(r#"["access"]"#));
        assert_eq!(e.field("url.query"), Some("a=1&b=2"));
        assert_eq!(e.field("url.domain"), Some("example.com"));
        assert_eq!(e.field("url.scheme"), Some("https"));
        assert_eq!(e.field("http.version"), Some("2.0"));
        assert_eq!(e.field("source.ip"), Some("2001:db8::1"));
        assert_eq!(e.field("aws.waf.response_code_sent"), Some("403"));
        assert_eq!(e.field("aws.waf.request_body_size"), Some("12"));
        assert!(e
            .field("aws.waf.captcha_response")
            .unwrap()
            .contains("TOKEN_MISSING"));
        assert_eq!(e.timestamp.as_deref(), Some("1970-01-01T00:00:00.001Z"));
    }

    #[test]
    fn members_no_mapping_names_keep_their_names() {
        let line = r#"{"timestamp":1,"newTop":{"a":[1]},"request":"clash","httpRequest":{"uri":"/","newInner":true}}"#;
        let (evs, _) = run(Format::Waf, line.as_bytes(), 1 << 20).unwrap();
        let e = &evs[0];
        assert_eq!(
            e.field("aws.waf.*"),
            Some(r#"{"newTop":{"a":[1]},"request_":"clash"}"#)
        );
        assert_eq!(e.field("aws.waf.request.*"), Some(r#"{"newInner":true}"#));
        let line = r#"{"timestamp":1,"httpRequest":"odd"}"#;
        let (evs, _) = run(Format::Waf, line.as_bytes(), 1 << 20).unwrap();
        assert_eq!(evs[0].field("aws.waf.request"), Some(r#""odd""#));
    }

    #[test]
    fn malformed_lines_become_error_events_and_the_rest_is_kept() {
        let good = r#"{"timestamp":1576280412771,"action":"ALLOW"}"#;
        let cases: [(&str, &[u8], &str); 5] = [
            ("not json", b"hello", "not a JSON object"),
            (
                "truncated",
                br#"{"timestamp":157628"#,
                "not a valid WAF log record",
            ),
            (
                "wrong type",
                br#"{"formatVersion":[1]}"#,
                "not a valid WAF log record",
            ),
            (
                "bad timestamp",
                br#"{"timestamp":"soon"}"#,
                "not a valid WAF log record",
            ),
            ("invalid utf-8", b"{\"action\":\"\xc3\"}", "not valid UTF-8"),
        ];
        for (name, bad, why) in cases {
            let mut input = format!("{good}\r\n\n").into_bytes();
            input.extend_from_slice(bad);
            input.extend_from_slice(format!("\n{good}").as_bytes());
            let (evs, stats) = run(Format::Waf, &input, 1 << 20).unwrap();
            assert_eq!(evs.len(), 3, "{name}");
            assert_eq!((stats.errors, stats.skipped), (1, 1), "{name}");
            let err = evs[1].error.as_deref().unwrap();
            assert!(err.contains("line 3") && err.contains(why), "{name}: {err}");
            // A line with invalid UTF-8 is still mapped (bytes replaced).
            assert!(
                evs[1].fields.is_empty() == (name != "invalid utf-8"),
                "{name}"
            );
            assert!(!evs[1].original.is_empty(), "{name}");
            assert_eq!(evs[2].field("event.action"), Some("ALLOW"), "{name}");
        }
    }
}
