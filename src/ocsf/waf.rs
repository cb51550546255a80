//! AWS WAF logs -> OCSF HTTP Activity (4002), with the security control
//! profile.
//!
//! Activity from the request's method (1 Connect ... 8 Trace; another
//! method is 99 Other named by the method, none 0 Unknown). WAF's `action`
//! becomes `action_id` and `disposition_id`: ALLOW 1 Allowed / 1 Allowed,
//! BLOCK 2 Denied / 2 Blocked, COUNT 1 Allowed / 20 Count, CAPTCHA and
//! CHALLENGE 99 Other / 22 Captcha, 23 Challenge.
//!
//! Two attributes the class requires have no field of their own:
//! - `dst_endpoint`: the resource WAF protects, where the request went
//!   (`httpSourceName` as `svc_name`, `httpSourceId` as `uid`, each left out
//!   when `-`); when neither names it, the request's host (`hostname`), else
//!   the source name as written.
//! - `http_response.code`: `responseCodeSent` when WAF wrote one; else 403
//!   for BLOCK (WAF's default block response); else 0: WAF passed the
//!   request on and does not log the response the resource sent.
//!
//! The terminating rule is `firewall_rule`, with its first match's details
//! (the list itself stays in `unmapped` when it has more than one).
//! WAF's `labels` (`[{name}]`) become `metadata.labels` (strings), the
//! `X-Forwarded-For` header's addresses `http_request.x_forwarded_for`.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::{enumerated, text, value, Activity, Conv, Mapping, Row};
use crate::record::{FieldValue, Fields, ParsedEvent};

pub static MAPPING: Mapping = Mapping {
    product: "AWS WAF",
    feature: "WAF",
    profiles: "[\"cloud\",\"security_control\"]",
    rows: ROWS,
    rules,
};

#[rustfmt::skip]
const ROWS: &[Row] = &[
    // ECS field of our record                OCSF 1.1.0 attribute               how
    ("aws.waf.format_version",                "metadata.product.version",        Conv::Text),
    ("aws.waf.labels",                        "metadata.labels (the names)",     Conv::Rule),
    ("aws.waf.arn",                           "metadata.product.feature.uid",    Conv::Same),
    ("cloud.account.id",                      "cloud.account.uid",               Conv::Same),
    ("cloud.region",                          "cloud.region",                    Conv::Same),
    ("source.ip",                             "src_endpoint.ip",                 Conv::Same),
    ("source.geo.country_iso_code",           "src_endpoint.location.country",   Conv::Same),
    ("http.request.method",                   "http_request.http_method",        Conv::Same),
    ("http.request.id",                       "http_request.uid",                Conv::Same),
    ("aws.waf.request.http_version",          "http_request.version",            Conv::Same),
    ("url.path",                              "http_request.url.path",           Conv::Same),
    ("url.query",                             "http_request.args",               Conv::Same),
    ("url.scheme",                            "http_request.url.scheme",         Conv::Same),
    ("url.domain",                            "http_request.url.hostname",       Conv::Same),
    ("user_agent.original",                   "http_request.user_agent",         Conv::Same),
    ("aws.waf.request.headers",               "http_request.http_headers",       Conv::Same),
    ("rule.id",                               "firewall_rule.uid",               Conv::Same),
    ("rule.ruleset",                          "firewall_rule.type",              Conv::Same),
    // Set by the rules below.
    ("event.action",                          "action_id, disposition_id",       Conv::Rule),
    ("aws.waf.source.name",                   "dst_endpoint.svc_name",           Conv::Rule),
    ("aws.waf.source.id",                     "dst_endpoint.uid",                Conv::Rule),
    ("aws.waf.response_code_sent",            "http_response.code",              Conv::Rule),
    ("aws.waf.terminating_rule_match_details", "firewall_rule.condition, match_location, match_details, sensitivity (the first match)", Conv::Rule),
    ("(header Host)",                         "http_request.url.hostname (without url.domain)", Conv::Rule),
    ("(header Referer)",                      "http_request.referrer",           Conv::Rule),
    // Repeat other fields: not written again.
    ("aws.waf.id",                            "(part of the web ACL ARN)",       Conv::Rule),
    ("cloud.service.name",                    "(part of the web ACL ARN)",       Conv::Rule),
    ("related.ip",                            "(= src_endpoint.ip)",             Conv::Rule),
    ("http.version",                          "(= http_request.version)",        Conv::Rule),
    ("network.protocol",                      "(http: the class)",               Conv::Rule),
    ("network.transport",                     "(tcp: the class)",                Conv::Rule),
    ("event.kind",                            "(the class)",                     Conv::Rule),
    ("event.category",                        "(the class)",                     Conv::Rule),
    ("event.type",                            "(action_id)",                     Conv::Rule),
];

/// `action_id` / `action` (security control profile).
const ACTIONS: &[(u32, &str)] = &[(0, "Unknown"), (1, "Allowed"), (2, "Denied")];
/// `disposition_id` / `disposition`.
const DISPOSITIONS: &[(u32, &str)] = &[
    (1, "Allowed"),
    (2, "Blocked"),
    (20, "Count"),
    (22, "Captcha"),
    (23, "Challenge"),
];

/// (action_id, disposition_id) of a WAF action.
fn waf_action(action: &str) -> Option<(u32, u32)> {
    match action {
        "ALLOW" => Some((1, 1)),
        "BLOCK" => Some((2, 2)),
        "COUNT" => Some((1, 20)),
        "CAPTCHA" => Some((99, 22)),
        "CHALLENGE" => Some((99, 23)),
        _ => None,
    }
}

#[derive(Deserialize)]
struct Header<'a> {
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    value: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MatchDetail<'a> {
    #[serde(borrow, default)]
    condition_type: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    location: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    sensitivity_level: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    matched_data: Option<&'a RawValue>,
}

/// Whether a JSON array has exactly one item.
fn raw_len_one(raw: &RawValue) -> bool {
    serde_json::from_str::<Vec<&RawValue>>(raw.get()).is_ok_and(|v| v.len() == 1)
}

/// The text of a field unless it is WAF's `-` (not known).
fn known<'a>(ev: &ParsedEvent<'a>, path: &str) -> Option<FieldValue<'a>> {
    match ev.fields.get(path)? {
        FieldValue::Str(s) if s.is_empty() || s == "-" => None,
        v => Some(v.clone()),
    }
}

fn rules<'a>(ev: &ParsedEvent<'a>, f: &mut Fields<'a>) -> Activity<'a> {
    let action = text(ev, "event.action");
    match action.map(|a| (a, waf_action(a))) {
        None => enumerated(f, "action_id", "action", 0, ACTIONS),
        Some((_, Some((a, d)))) => {
            if a == 99 {
                f.u64("action_id", 99);
                if let Some(v) = value(ev, "event.action") {
                    f.push("action", v);
                }
            } else {
                enumerated(f, "action_id", "action", a, ACTIONS);
            }
            enumerated(f, "disposition_id", "disposition", d, DISPOSITIONS);
        }
        Some((_, None)) => {
            f.u64("action_id", 99);
            f.u64("disposition_id", 99);
            if let Some(v) = value(ev, "event.action") {
                f.push("action", v.clone());
                f.push("disposition", v);
            }
        }
    }
    // The resource WAF protects.
    let mut dst = false;
    if let Some(v) = known(ev, "aws.waf.source.name") {
        f.push("dst_endpoint.svc_name", v);
        dst = true;
    } else if let Some(v) = value(ev, "aws.waf.source.name") {
        f.push("unmapped.aws.waf.source.name", v);
    }
    if let Some(v) = known(ev, "aws.waf.source.id") {
        f.push("dst_endpoint.uid", v);
        dst = true;
    } else if let Some(v) = value(ev, "aws.waf.source.id") {
        f.push("unmapped.aws.waf.source.id", v);
    }
    // Headers: the host (when the request has no `host` of its own) and
    // the referrer.
    let mut host = None;
    if let Some(FieldValue::Raw(raw)) = ev.fields.get("aws.waf.request.headers") {
        let raw: &'a RawValue = raw;
        if let Ok(headers) = serde_json::from_str::<Vec<Header<'a>>>(raw.get()) {
            for h in headers {
                let (Some(name), Some(v)) = (h.name, h.value) else {
                    continue;
                };
                if name.eq_ignore_ascii_case("host") && host.is_none() {
                    host = Some(v);
                } else if name.eq_ignore_ascii_case("referer") {
                    f.push("http_request.referrer", FieldValue::Str(v));
                } else if name.eq_ignore_ascii_case("x-forwarded-for") {
                    // `ip_t` each: what is not an address is left out (the
                    // header stays whole in `http_headers`).
                    let ips: Vec<&str> = v
                        .split(',')
                        .map(str::trim)
                        .filter(|a| a.parse::<std::net::IpAddr>().is_ok())
                        .collect();
                    if !ips.is_empty() {
                        if let Ok(json) = serde_json::to_string(&ips) {
                            f.push("http_request.x_forwarded_for", FieldValue::JsonText(json));
                        }
                    }
                }
            }
        }
    }
    if let Some(FieldValue::Raw(raw)) = ev.fields.get("aws.waf.labels") {
        #[derive(Deserialize)]
        struct Label<'l> {
            #[serde(borrow)]
            name: Cow<'l, str>,
        }
        match serde_json::from_str::<Vec<Label<'_>>>(raw.get()) {
            Ok(labels) if !labels.is_empty() => {
                let names: Vec<&str> = labels.iter().map(|l| &*l.name).collect();
                if let Ok(json) = serde_json::to_string(&names) {
                    f.push("metadata.labels", FieldValue::JsonText(json));
                }
            }
            Ok(_) => {}
            Err(_) => f.push("unmapped.aws.waf.labels", FieldValue::Raw(raw)),
        }
    }
    let url_host = value(ev, "url.domain");
    if url_host.is_none() {
        if let Some(h) = &host {
            f.push("http_request.url.hostname", FieldValue::Str(h.clone()));
        }
    }
    // `url` needs a path (or the whole URL).
    if ev.fields.get("url.path").is_none()
        && (url_host.is_some() || host.is_some() || ev.fields.get("url.scheme").is_some())
    {
        f.str("http_request.url.path", "");
    }
    if !dst {
        match url_host.or(host.map(FieldValue::Str)) {
            Some(h) => f.push("dst_endpoint.hostname", h),
            None => f.str("dst_endpoint.svc_name", "-"),
        }
    }
    match ev.fields.get("aws.waf.response_code_sent") {
        Some(v @ (FieldValue::U64(_) | FieldValue::I64(_))) => {
            f.push("http_response.code", v.clone())
        }
        other => {
            if let Some(v) = other {
                f.push("unmapped.aws.waf.response_code_sent", v.clone());
            }
            f.u64(
                "http_response.code",
                if action == Some("BLOCK") { 403 } else { 0 },
            );
        }
    }
    // The terminating rule's first match, when there is a rule to hold it.
    if let Some(FieldValue::Raw(raw)) = ev.fields.get("aws.waf.terminating_rule_match_details") {
        let raw: &'a RawValue = raw;
        let details = serde_json::from_str::<Vec<MatchDetail<'a>>>(raw.get()).unwrap_or_default();
        let first = details
            .into_iter()
            .next()
            .filter(|_| ev.fields.get("rule.id").is_some());
        let mut all_mapped = false;
        if let Some(d) = first {
            all_mapped = raw_len_one(raw);
            if let Some(v) = d.condition_type {
                f.push("firewall_rule.condition", FieldValue::Str(v));
            }
            if let Some(v) = d.location {
                f.push("firewall_rule.match_location", FieldValue::Str(v));
            }
            if let Some(v) = d.sensitivity_level {
                f.push("firewall_rule.sensitivity", FieldValue::Str(v));
            }
            // An array of strings (`string_t` items), else left as it is.
            match d.matched_data {
                Some(v) if serde_json::from_str::<Vec<Cow<'a, str>>>(v.get()).is_ok() => {
                    f.push("firewall_rule.match_details", FieldValue::Raw(v));
                }
                Some(_) => all_mapped = false,
                None => {}
            }
        }
        if !all_mapped {
            f.push(
                "unmapped.aws.waf.terminating_rule_match_details",
                FieldValue::Raw(raw),
            );
        }
    }
    super::elb::http_activity(text(ev, "http.request.method"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ocsf::testing::get;

    fn convert(fields: &[(&'static str, &'static str)]) -> Vec<(&'static str, String)> {
        crate::ocsf::testing::convert_text(crate::formats::Format::Waf, fields)
    }

    #[test]
    fn the_method_chooses_the_activity() {
        for (method, id, name) in [
            ("GET", 3, "Get"),
            ("POST", 6, "Post"),
            ("CONNECT", 1, "Connect"),
            ("PATCH", 99, "Patch"),
        ] {
            let out = convert(&[("http.request.method", method)]);
            assert_eq!(get(&out, "class_uid"), Some("U64(4002)"));
            assert_eq!(
                get(&out, "activity_id"),
                Some(format!("U64({id})").as_str())
            );
            assert_eq!(
                get(&out, "activity_name"),
                Some(format!("Str({name:?})").as_str())
            );
        }
        let out = convert(&[]);
        assert_eq!(get(&out, "activity_id"), Some("U64(0)"));
    }

    #[test]
    fn the_waf_action_chooses_action_and_disposition() {
        for (a, action, disposition, code) in [
            ("ALLOW", 1, 1, 0),
            ("BLOCK", 2, 2, 403),
            ("COUNT", 1, 20, 0),
            ("CAPTCHA", 99, 22, 0),
            ("CHALLENGE", 99, 23, 0),
        ] {
            let out = convert(&[("event.action", a)]);
            assert_eq!(
                get(&out, "action_id"),
                Some(format!("U64({action})").as_str()),
                "{a}"
            );
            assert_eq!(
                get(&out, "disposition_id"),
                Some(format!("U64({disposition})").as_str())
            );
            assert_eq!(
                get(&out, "http_response.code"),
                Some(format!("U64({code})").as_str())
            );
        }
    }

    #[test]
    fn the_protected_resource_is_the_destination() {
        let out = convert(&[("aws.waf.source.name", "ALB"), ("aws.waf.source.id", "-")]);
        assert_eq!(get(&out, "dst_endpoint.svc_name"), Some("Str(\"ALB\")"));
        assert_eq!(get(&out, "unmapped.aws.waf.source.id"), Some("Str(\"-\")"));
        let out = convert(&[("aws.waf.source.name", "-"), ("url.domain", "example.com")]);
        assert_eq!(
            get(&out, "dst_endpoint.hostname"),
            Some("Str(\"example.com\")")
        );
    }

    #[test]
    fn the_first_match_details_the_terminating_rule() {
        let details: &'static RawValue = serde_json::from_str(
            r#"[{"conditionType":"XSS","location":"BODY","matchedData":["<",">"]},{"conditionType":"SQL_INJECTION"}]"#,
        )
        .unwrap();
        let mut ev = ParsedEvent::new("aws.waf", "");
        ev.fields.str("rule.id", "r1");
        ev.fields
            .raw("aws.waf.terminating_rule_match_details", details);
        let c = crate::ocsf::Converter::new(crate::formats::Format::Waf, "2026-01-01T00:00:00Z");
        let out: Vec<_> = c
            .convert(&ev)
            .fields
            .iter()
            .map(|(k, v)| (*k, format!("{v:?}")))
            .collect();
        assert_eq!(get(&out, "firewall_rule.condition"), Some("Str(\"XSS\")"));
        assert_eq!(
            get(&out, "firewall_rule.match_location"),
            Some("Str(\"BODY\")")
        );
        assert!(get(&out, "firewall_rule.match_details").is_some());
        // Two matches: the list is kept whole as well.
        assert!(get(&out, "unmapped.aws.waf.terminating_rule_match_details").is_some());
    }

    #[test]
    fn fields_without_an_attribute_are_unmapped() {
        let out = convert(&[("tls.client.ja3", "abc")]);
        assert_eq!(get(&out, "unmapped.tls.client.ja3"), Some("Str(\"abc\")"));
    }
}
