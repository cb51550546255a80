//! AWS Network Firewall logs -> OCSF Network Activity (4001) for flow (and
//! TLS) logs, Detection Finding (2004) for alert logs.
//!
//! - Flow records (`event_type` `netflow`, and any other non-alert event):
//!   Network Activity, activity 6 Traffic. The flow log does not say
//!   whether the firewall passed or dropped the flow: `action_id` 0
//!   Unknown (required by the security control profile).
//! - Alerts (`event_type` `alert`): Detection Finding, activity 1 Create.
//!   `finding_info.uid` and `analytic.uid` are the signature id,
//!   `finding_info.title` and `analytic.name` the signature (the id when
//!   there is none); Suricata's severity 1/2/3 becomes `severity_id` 4
//!   High / 3 Medium / 2 Low; the alert's action `allowed`/`blocked`
//!   becomes `action_id` 1 Allowed / 2 Denied and `disposition_id` 1
//!   Allowed / 2 Blocked. A Detection Finding has no endpoints of its own:
//!   they belong in `evidences[]`, an array the mapping cannot build, so
//!   the addresses, ports and protocol stay in `unmapped` (by their ECS
//!   path) for alerts.
//!
//! The firewall's name is `metadata.product.feature.uid`, the log type
//! `metadata.product.feature.name` ("Flow logs", "Alert logs", "TLS logs").

use super::{enumerated, text, unmapped, value, Activity, Conv, Mapping, Row};
use super::{DETECTION_FINDING, NETWORK_ACTIVITY};
use crate::record::{FieldValue, Fields, ParsedEvent};

pub static MAPPING: Mapping = Mapping {
    product: "AWS Network Firewall",
    // Per log type, set by the rules.
    feature: "",
    profiles: "[\"cloud\",\"security_control\"]",
    rows: ROWS,
    rules,
};

#[rustfmt::skip]
const ROWS: &[Row] = &[
    // ECS field of our record          OCSF 1.1.0 attribute                   how
    ("observer.name",                   "metadata.product.feature.uid",        Conv::Same),
    ("cloud.availability_zone",         "cloud.zone",                          Conv::Same),
    ("cloud.region",                    "cloud.region",                        Conv::Same),
    ("event.start",                     "start_time",                          Conv::TimeMs),
    ("event.end",                       "end_time",                            Conv::TimeMs),
    // Set by the rules below: Network Activity (flows) | Detection Finding (alerts).
    ("aws.firewall.event_type",         "the class; metadata.product.feature.name", Conv::Rule),
    ("source.ip",                       "src_endpoint.ip | unmapped",          Conv::Rule),
    ("source.port",                     "src_endpoint.port | unmapped",        Conv::Rule),
    ("destination.ip",                  "dst_endpoint.ip | unmapped",          Conv::Rule),
    ("destination.port",                "dst_endpoint.port | unmapped",        Conv::Rule),
    ("network.transport",               "connection_info.protocol_name, protocol_num | unmapped", Conv::Rule),
    ("network.type",                    "connection_info.protocol_ver_id | (not written)", Conv::Rule),
    ("aws.firewall.flow.id",            "connection_info.uid | unmapped",      Conv::Rule),
    ("aws.firewall.tcp_flags",          "connection_info.tcp_flags (hex to integer) | unmapped", Conv::Rule),
    ("network.packets",                 "traffic.packets | unmapped",          Conv::Rule),
    ("network.bytes",                   "traffic.bytes | unmapped",            Conv::Rule),
    ("rule.id",                         "finding_info.uid, finding_info.analytic.uid", Conv::Rule),
    ("rule.name",                       "finding_info.title, finding_info.analytic.name", Conv::Rule),
    ("rule.category",                   "finding_info.analytic.category",      Conv::Rule),
    ("rule.version",                    "finding_info.analytic.version",       Conv::Rule),
    ("event.severity",                  "severity_id (1 -> 4 High, 2 -> 3 Medium, 3 -> 2 Low)", Conv::Rule),
    ("event.action",                    "action_id, disposition_id",           Conv::Rule),
    // Repeat other fields: not written again.
    ("aws.firewall.alert.signature_id", "(= rule.id)",                         Conv::Rule),
    ("aws.firewall.flow.pkts",          "(= network.packets)",                 Conv::Rule),
    ("aws.firewall.flow.bytes",         "(= network.bytes)",                   Conv::Rule),
    ("aws.firewall.flow.start",         "(= event.start, as written)",         Conv::Rule),
    ("aws.firewall.flow.end",           "(= event.end, as written)",           Conv::Rule),
    ("aws.firewall.tcp_flags_array",    "(= aws.firewall.tcp_flags)",          Conv::Rule),
    ("observer.type",                   "(firewall: the product)",             Conv::Rule),
    ("observer.vendor",                 "(metadata.product.vendor_name)",      Conv::Rule),
    ("observer.product",                "(metadata.product.name)",             Conv::Rule),
    ("event.kind",                      "(the class)",                         Conv::Rule),
    ("event.category",                  "(the class)",                         Conv::Rule),
    ("event.type",                      "(action_id)",                         Conv::Rule),
];

/// `action_id` / `action` (security control profile).
const ACTIONS: &[(u32, &str)] = &[(0, "Unknown"), (1, "Allowed"), (2, "Denied")];
/// `disposition_id` / `disposition`.
const DISPOSITIONS: &[(u32, &str)] = &[(0, "Unknown"), (1, "Allowed"), (2, "Blocked")];
/// `connection_info.direction_id` / `direction`.
const DIRECTIONS: &[(u32, &str)] = &[(0, "Unknown")];
/// `finding_info.analytic.type_id` / `type`.
const ANALYTIC_TYPES: &[(u32, &str)] = &[(1, "Rule")];

/// The class of an event of `event_type`, and its log's name.
fn class_of(event_type: Option<&str>) -> (u32, &'static str) {
    match event_type {
        Some("alert") => (DETECTION_FINDING, "Alert logs"),
        Some("tls") => (NETWORK_ACTIVITY, "TLS logs"),
        _ => (NETWORK_ACTIVITY, "Flow logs"),
    }
}

/// `severity_id` of Suricata's severity (1 highest).
fn severity(suricata: Option<&FieldValue<'_>>) -> u32 {
    let n = match suricata {
        Some(FieldValue::I64(n)) => *n,
        Some(FieldValue::U64(n)) => i64::try_from(*n).unwrap_or(0),
        _ => 0,
    };
    match n {
        1 => 4,
        2 => 3,
        3 => 2,
        _ => 0,
    }
}

/// IANA number of a (lower-case) transport.
fn protocol_num(transport: &str) -> Option<u64> {
    match transport {
        "icmp" => Some(1),
        "igmp" => Some(2),
        "tcp" => Some(6),
        "udp" => Some(17),
        "gre" => Some(47),
        "esp" => Some(50),
        "ipv6-icmp" => Some(58),
        "sctp" => Some(132),
        _ => None,
    }
}

/// The network fields' places: (ECS field, Network Activity attribute).
const NETWORK: &[(&str, &str)] = &[
    ("source.ip", "src_endpoint.ip"),
    ("source.port", "src_endpoint.port"),
    ("destination.ip", "dst_endpoint.ip"),
    ("destination.port", "dst_endpoint.port"),
    ("network.transport", "connection_info.protocol_name"),
    ("aws.firewall.flow.id", "connection_info.uid"),
    ("network.packets", "traffic.packets"),
    ("network.bytes", "traffic.bytes"),
];

fn rules<'a>(ev: &ParsedEvent<'a>, f: &mut Fields<'a>) -> Activity<'a> {
    let event_type = text(ev, "aws.firewall.event_type");
    let (class, feature) = class_of(event_type);
    f.str("metadata.product.feature.name", feature);
    if let Some(v) = value(ev, "aws.firewall.event_type") {
        f.push("unmapped.aws.firewall.event_type", v);
    }
    if class == DETECTION_FINDING {
        return finding(ev, f);
    }
    for (from, to) in NETWORK {
        if let Some(v) = value(ev, from) {
            f.push(to, v);
        }
    }
    let transport = text(ev, "network.transport");
    if let Some(n) = transport.and_then(protocol_num) {
        f.u64("connection_info.protocol_num", n);
    }
    match text(ev, "network.type") {
        Some("ipv4") => f.u64("connection_info.protocol_ver_id", 4),
        Some("ipv6") => f.u64("connection_info.protocol_ver_id", 6),
        _ => {}
    }
    // Required in `connection_info`: the flow log does not say.
    enumerated(
        f,
        "connection_info.direction_id",
        "connection_info.direction",
        0,
        DIRECTIONS,
    );
    if let Some(flags) = text(ev, "aws.firewall.tcp_flags") {
        match u64::from_str_radix(flags, 16) {
            Ok(bits) => f.u64("connection_info.tcp_flags", bits),
            Err(_) => f.str("unmapped.aws.firewall.tcp_flags", flags.to_string()),
        }
    }
    // Both endpoints are required: an address that is not an IP names it.
    for (ip, address, name) in [
        ("source.ip", "source.address", "src_endpoint.name"),
        ("destination.ip", "destination.address", "dst_endpoint.name"),
    ] {
        if ev.fields.get(ip).is_none() {
            match value(ev, address) {
                Some(v) => f.push(name, v),
                None => f.str(name, "-"),
            }
        }
    }
    // Unknown: passed or dropped, the flow log does not say.
    enumerated(f, "action_id", "action", 0, ACTIONS);
    Activity::of(NETWORK_ACTIVITY, 6)
}

fn finding<'a>(ev: &ParsedEvent<'a>, f: &mut Fields<'a>) -> Activity<'a> {
    for (from, _) in NETWORK {
        if let Some(v) = value(ev, from) {
            f.push(unmapped(from), v);
        }
    }
    for from in ["network.type", "aws.firewall.tcp_flags"] {
        if let Some(v) = value(ev, from) {
            f.push(unmapped(from), v);
        }
    }
    let id = value(ev, "rule.id");
    let name = value(ev, "rule.name");
    match (&id, &name) {
        (Some(id), Some(name)) => {
            f.push("finding_info.uid", id.clone());
            f.push("finding_info.title", name.clone());
        }
        (Some(id), None) => {
            f.push("finding_info.uid", id.clone());
            f.push("finding_info.title", id.clone());
        }
        (None, Some(name)) => {
            f.push("finding_info.uid", name.clone());
            f.push("finding_info.title", name.clone());
        }
        (None, None) => {
            f.str("finding_info.uid", "-");
            f.str("finding_info.title", "-");
        }
    }
    enumerated(
        f,
        "finding_info.analytic.type_id",
        "finding_info.analytic.type",
        1,
        ANALYTIC_TYPES,
    );
    match (id, name) {
        (id, name) if id.is_some() || name.is_some() => {
            if let Some(id) = id {
                f.push("finding_info.analytic.uid", id);
            }
            if let Some(name) = name {
                f.push("finding_info.analytic.name", name);
            }
        }
        _ => f.str("finding_info.analytic.name", "-"),
    }
    if let Some(v) = value(ev, "rule.category") {
        f.push("finding_info.analytic.category", v);
    }
    if let Some(v) = value(ev, "rule.version") {
        f.push("finding_info.analytic.version", v);
    }
    let action = match text(ev, "event.action") {
        Some("allowed") => 1,
        Some("blocked") => 2,
        _ => 0,
    };
    enumerated(f, "action_id", "action", action, ACTIONS);
    enumerated(f, "disposition_id", "disposition", action, DISPOSITIONS);
    if let Some(v) = value(ev, "event.action") {
        f.push("unmapped.aws.firewall.alert.action", v);
    }
    if let Some(v) = value(ev, "event.severity") {
        f.push("unmapped.aws.firewall.alert.severity", v);
    }
    let mut act = Activity::of(DETECTION_FINDING, 1);
    act.severity = severity(ev.fields.get("event.severity"));
    act
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ocsf::testing::get;

    fn convert(fields: &[(&'static str, FieldValue<'static>)]) -> Vec<(&'static str, String)> {
        crate::ocsf::testing::convert(crate::formats::Format::NetworkFirewall, fields)
    }

    fn s(v: &'static str) -> FieldValue<'static> {
        FieldValue::Str(v.into())
    }

    #[test]
    fn the_event_type_chooses_the_class() {
        for (event_type, class, activity, feature) in [
            ("netflow", 4001, 6, "Flow logs"),
            ("tls", 4001, 6, "TLS logs"),
            ("alert", 2004, 1, "Alert logs"),
        ] {
            let out = convert(&[("aws.firewall.event_type", s(event_type))]);
            assert_eq!(
                get(&out, "class_uid"),
                Some(format!("U64({class})").as_str())
            );
            assert_eq!(
                get(&out, "activity_id"),
                Some(format!("U64({activity})").as_str())
            );
            assert_eq!(
                get(&out, "metadata.product.feature.name"),
                Some(format!("Str({feature:?})").as_str())
            );
        }
    }

    #[test]
    fn an_alert_is_a_finding_named_by_its_signature() {
        let out = convert(&[
            ("aws.firewall.event_type", s("alert")),
            ("rule.id", s("2024897")),
            ("rule.name", s("ET USER_AGENTS Go HTTP Client User-Agent")),
            ("event.action", s("blocked")),
            ("event.severity", FieldValue::I64(1)),
            ("source.ip", s("10.0.0.1")),
        ]);
        assert_eq!(get(&out, "finding_info.uid"), Some("Str(\"2024897\")"));
        assert_eq!(
            get(&out, "finding_info.title"),
            Some("Str(\"ET USER_AGENTS Go HTTP Client User-Agent\")")
        );
        assert_eq!(get(&out, "finding_info.analytic.type_id"), Some("U64(1)"));
        assert_eq!(get(&out, "severity_id"), Some("U64(4)"));
        assert_eq!(get(&out, "action_id"), Some("U64(2)"));
        assert_eq!(get(&out, "disposition_id"), Some("U64(2)"));
        // A finding has no endpoints of its own.
        assert_eq!(get(&out, "src_endpoint.ip"), None);
        assert_eq!(get(&out, "unmapped.source.ip"), Some("Str(\"10.0.0.1\")"));
    }

    #[test]
    fn a_flow_is_network_traffic_and_unknown_fields_are_unmapped() {
        let out = convert(&[
            ("aws.firewall.event_type", s("netflow")),
            ("source.ip", s("10.0.0.1")),
            ("destination.ip", s("10.0.0.2")),
            ("network.transport", s("tcp")),
            ("aws.firewall.tcp_flags", s("1b")),
            ("aws.firewall.flow.age", FieldValue::U64(3)),
        ]);
        assert_eq!(get(&out, "src_endpoint.ip"), Some("Str(\"10.0.0.1\")"));
        assert_eq!(get(&out, "connection_info.protocol_num"), Some("U64(6)"));
        assert_eq!(get(&out, "connection_info.tcp_flags"), Some("U64(27)"));
        assert_eq!(get(&out, "action_id"), Some("U64(0)"));
        assert_eq!(get(&out, "unmapped.aws.firewall.flow.age"), Some("U64(3)"));
    }
}
