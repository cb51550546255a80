//! Route 53 Resolver query logs -> OCSF DNS Activity (4003).
//!
//! Every record is activity 6 Traffic: a resolver query log line is the
//! query and its answer together. `rcode` becomes `rcode_id` with the
//! schema's caption (99 Other, with the source's word, for a code 1.1.0
//! does not list). The DNS Firewall action becomes `action_id` and
//! `disposition_id` (security control profile); without one, `action_id`
//! is 0 Unknown (required by the profile). The query name is written as
//! the source wrote it (with its final dot). The resolver endpoint and its
//! network interface are the destination; the querying instance and VPC
//! the source.
//!
//! The answers become OCSF's `answers`, an array of `{class, type,
//! rdata}` built from the ECS list (`dns.answers`, `{class, type, data}`).

use super::{enumerated, text, value, Activity, Conv, Mapping, Row, DNS_ACTIVITY};
use crate::record::{FieldValue, Fields, ParsedEvent};

pub static MAPPING: Mapping = Mapping {
    product: "Route 53",
    feature: "Resolver Query Logs",
    profiles: "[\"cloud\",\"security_control\"]",
    rows: ROWS,
    rules,
};

#[rustfmt::skip]
const ROWS: &[Row] = &[
    // ECS field of our record                   OCSF 1.1.0 attribute              how
    ("aws.route53.version",                      "metadata.product.version",       Conv::Text),
    ("cloud.account.id",                         "cloud.account.uid",              Conv::Same),
    ("cloud.region",                             "cloud.region",                   Conv::Same),
    ("aws.route53.vpc_id",                       "src_endpoint.vpc_uid",           Conv::Same),
    ("dns.question.type",                        "query.type",                     Conv::Same),
    ("dns.question.class",                       "query.class",                    Conv::Same),
    ("source.ip",                                "src_endpoint.ip",                Conv::Same),
    ("source.port",                              "src_endpoint.port",              Conv::Int),
    ("network.transport",                        "connection_info.protocol_name",  Conv::Same),
    ("network.iana_number",                      "connection_info.protocol_num",   Conv::Int),
    ("cloud.instance.id",                        "src_endpoint.instance_uid",      Conv::Same),
    ("aws.route53.resolver_endpoint_id",         "dst_endpoint.instance_uid",      Conv::Same),
    ("aws.route53.resolver_network_interface_id", "dst_endpoint.interface_uid",    Conv::Same),
    ("aws.route53.firewall.rule_group.id",       "firewall_rule.uid",              Conv::Same),
    // Set by the rules below.
    ("dns.question.name",                        "query.hostname (as written: aws.route53.query_name when there is one)", Conv::Rule),
    ("aws.route53.query_name",                   "query.hostname",                 Conv::Rule),
    ("dns.response_code",                        "rcode_id, rcode",                Conv::Rule),
    ("aws.route53.firewall.action",              "action_id, disposition_id",      Conv::Rule),
    ("dns.answers",                              "answers[].{class, type, rdata}", Conv::Rule),
    ("network.type",                             "connection_info.protocol_ver_id", Conv::Rule),
    // Repeat other fields: not written again.
    ("aws.route53.instance_id",                  "(= src_endpoint.instance_uid)",  Conv::Rule),
    ("network.protocol",                         "(dns: the class)",               Conv::Rule),
    ("event.kind",                               "(the class)",                    Conv::Rule),
    ("event.category",                           "(the class)",                    Conv::Rule),
    ("event.type",                               "(the class)",                    Conv::Rule),
    ("event.outcome",                            "(rcode_id)",                     Conv::Rule),
];

/// `rcode_id` / `rcode`, by the source's response code.
const RCODES: &[(u32, &str, &str)] = &[
    (0, "NOERROR", "NoError"),
    (1, "FORMERR", "FormError"),
    (2, "SERVFAIL", "ServError"),
    (3, "NXDOMAIN", "NXDomain"),
    (4, "NOTIMP", "NotImp"),
    (5, "REFUSED", "Refused"),
    (6, "YXDOMAIN", "YXDomain"),
    (7, "YXRRSET", "YXRRSet"),
    (8, "NXRRSET", "NXRRSet"),
    (9, "NOTAUTH", "NotAuth"),
    (10, "NOTZONE", "NotZone"),
    (11, "DSOTYPENI", "DSOTYPENI"),
    (16, "BADVERS", "BADSIG_VERS"),
    (16, "BADSIG", "BADSIG_VERS"),
    (17, "BADKEY", "BADKEY"),
    (18, "BADTIME", "BADTIME"),
    (19, "BADMODE", "BADMODE"),
    (20, "BADNAME", "BADNAME"),
    (21, "BADALG", "BADALG"),
    (22, "BADTRUNC", "BADTRUNC"),
    (23, "BADCOOKIE", "BADCOOKIE"),
];

/// `action_id` / `action` (security control profile).
const ACTIONS: &[(u32, &str)] = &[(0, "Unknown"), (1, "Allowed"), (2, "Denied")];
/// `disposition_id` / `disposition`.
const DISPOSITIONS: &[(u32, &str)] = &[(1, "Allowed"), (2, "Blocked"), (19, "Alert")];

/// (action_id, disposition_id) of a DNS Firewall rule action.
fn firewall_action(action: &str) -> Option<(u32, u32)> {
    match action {
        "ALLOW" => Some((1, 1)),
        "BLOCK" => Some((2, 2)),
        "ALERT" => Some((1, 19)),
        _ => None,
    }
}

fn rules<'a>(ev: &ParsedEvent<'a>, f: &mut Fields<'a>) -> Activity<'a> {
    if let Some(name) =
        value(ev, "aws.route53.query_name").or_else(|| value(ev, "dns.question.name"))
    {
        f.push("query.hostname", name);
    }
    if let Some(code) = text(ev, "dns.response_code") {
        match RCODES.iter().find(|r| r.1.eq_ignore_ascii_case(code)) {
            Some((id, _, caption)) => {
                f.u64("rcode_id", u64::from(*id));
                f.str("rcode", *caption);
            }
            None => {
                f.u64("rcode_id", 99);
                if let Some(v) = value(ev, "dns.response_code") {
                    f.push("rcode", v);
                }
            }
        }
    }
    match text(ev, "aws.route53.firewall.action") {
        None => enumerated(f, "action_id", "action", 0, ACTIONS),
        Some(a) => match firewall_action(a) {
            Some((action, disposition)) => {
                enumerated(f, "action_id", "action", action, ACTIONS);
                enumerated(
                    f,
                    "disposition_id",
                    "disposition",
                    disposition,
                    DISPOSITIONS,
                );
            }
            None => {
                let v = value(ev, "aws.route53.firewall.action");
                f.u64("action_id", 99);
                f.u64("disposition_id", 99);
                if let Some(v) = v {
                    f.push("action", v.clone());
                    f.push("disposition", v);
                }
            }
        },
    }
    // `direction_id` is required in `connection_info`: the log does not say.
    if ev.fields.get("network.transport").is_some() || ev.fields.get("network.type").is_some() {
        enumerated(
            f,
            "connection_info.direction_id",
            "connection_info.direction",
            0,
            &[(0, "Unknown")],
        );
    }
    match text(ev, "network.type") {
        Some("ipv4") => f.u64("connection_info.protocol_ver_id", 4),
        Some("ipv6") => f.u64("connection_info.protocol_ver_id", 6),
        _ => {}
    }
    if let Some(answers) = value(ev, "dns.answers") {
        match answers_of(&answers) {
            Some(json) => f.push("answers", FieldValue::JsonText(json)),
            None => f.push("unmapped.dns.answers", answers),
        }
    }
    Activity::of(DNS_ACTIVITY, 6)
}

/// OCSF `answers` (`[{"class", "type", "rdata"}]`) from the ECS list
/// (`[{"class", "type", "data"}]`); `None` if it is not that list.
fn answers_of(v: &FieldValue<'_>) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Answer<'a> {
        #[serde(borrow, default)]
        class: Option<std::borrow::Cow<'a, str>>,
        #[serde(borrow, default, rename = "type")]
        kind: Option<std::borrow::Cow<'a, str>>,
        #[serde(borrow)]
        data: std::borrow::Cow<'a, str>,
    }
    let text = match v {
        FieldValue::Json(s) => *s,
        FieldValue::Raw(r) => r.get(),
        FieldValue::JsonText(s) => s.as_str(),
        _ => return None,
    };
    let answers: Vec<Answer<'_>> = serde_json::from_str(text).ok()?;
    let out: Vec<serde_json::Value> = answers
        .into_iter()
        .map(|a| {
            let mut o = serde_json::Map::new();
            if let Some(c) = a.class {
                o.insert("class".into(), c.into());
            }
            if let Some(t) = a.kind {
                o.insert("type".into(), t.into());
            }
            o.insert("rdata".into(), a.data.into());
            serde_json::Value::Object(o)
        })
        .collect();
    serde_json::to_string(&out).ok()
}

#[cfg(test)]
mod tests {
    use crate::ocsf::testing::get;

    fn convert(fields: &[(&'static str, &'static str)]) -> Vec<(&'static str, String)> {
        crate::ocsf::testing::convert_text(crate::formats::Format::Route53Resolver, fields)
    }

    #[test]
    fn every_record_is_dns_traffic() {
        let out = convert(&[("dns.question.name", "example.com")]);
        assert_eq!(get(&out, "class_uid"), Some("U64(4003)"));
        assert_eq!(get(&out, "activity_id"), Some("U64(6)"));
        assert_eq!(get(&out, "query.hostname"), Some("Str(\"example.com\")"));
        // No firewall action: action Unknown (required by the profile).
        assert_eq!(get(&out, "action_id"), Some("U64(0)"));
        assert_eq!(get(&out, "disposition_id"), None);
    }

    #[test]
    fn firewall_actions_and_rcodes_choose_their_enumerations() {
        for (action, a, d) in [("ALLOW", 1, 1), ("BLOCK", 2, 2), ("ALERT", 1, 19)] {
            let out = convert(&[("aws.route53.firewall.action", action)]);
            assert_eq!(get(&out, "action_id"), Some(format!("U64({a})").as_str()));
            assert_eq!(
                get(&out, "disposition_id"),
                Some(format!("U64({d})").as_str())
            );
        }
        for (code, id, caption) in [
            ("NOERROR", 0, "NoError"),
            ("NXDOMAIN", 3, "NXDomain"),
            ("SERVFAIL", 2, "ServError"),
            ("WEIRD", 99, "WEIRD"),
        ] {
            let out = convert(&[("dns.response_code", code)]);
            assert_eq!(get(&out, "rcode_id"), Some(format!("U64({id})").as_str()));
            assert_eq!(
                get(&out, "rcode"),
                Some(format!("Str({caption:?})").as_str())
            );
        }
    }

    #[test]
    fn the_name_as_written_wins_and_fields_without_an_attribute_are_unmapped() {
        let out = convert(&[
            ("dns.question.name", "example.com"),
            ("aws.route53.query_name", "example.com."),
            ("aws.route53.firewall.domain_list.id", "rslvr-fdl-1"),
        ]);
        assert_eq!(get(&out, "query.hostname"), Some("Str(\"example.com.\")"));
        assert_eq!(
            get(&out, "unmapped.aws.route53.firewall.domain_list.id"),
            Some("Str(\"rslvr-fdl-1\")")
        );
    }
}
