//! VPC and Transit Gateway flow logs -> OCSF Network Activity (4001).
//!
//! Activity from the action: `ACCEPT` 6 Traffic, `REJECT` 5 Refuse, none
//! (`NODATA`/`SKIPDATA` records) 0 Unknown. `action_id` and `disposition_id`
//! (security control profile) say the same: allowed or denied/blocked. The
//! interface, VPC, subnet and instance belong to the destination for
//! `ingress` flows and to the source for `egress` ones; without a
//! `flow-direction` column they stay in `unmapped`. Derived ECS fields that
//! repeat another (`source.bytes` = `network.bytes`, `event.type`, ...) are
//! not written again.

use super::{enumerated, text, value, Activity, Conv, Mapping, Row, NETWORK_ACTIVITY};
use crate::record::{FieldValue, Fields, ParsedEvent};

pub static MAPPING: Mapping = Mapping {
    product: "Amazon VPC",
    feature: "Flowlogs",
    profiles: "[\"cloud\",\"security_control\"]",
    rows: ROWS,
    rules,
};

#[rustfmt::skip]
const ROWS: &[Row] = &[
    // ECS field of our record          OCSF 1.1.0 attribute                  how
    ("aws.vpcflow.version",             "metadata.product.version",           Conv::Text),
    ("cloud.account.id",                "cloud.account.uid",                  Conv::Same),
    ("cloud.region",                    "cloud.region",                       Conv::Same),
    ("cloud.availability_zone",         "cloud.zone",                         Conv::Same),
    ("event.start",                     "start_time",                         Conv::TimeMs),
    ("event.end",                       "end_time",                           Conv::TimeMs),
    ("source.ip",                       "src_endpoint.ip",                    Conv::Same),
    ("source.port",                     "src_endpoint.port",                  Conv::Same),
    ("destination.ip",                  "dst_endpoint.ip",                    Conv::Same),
    ("destination.port",                "dst_endpoint.port",                  Conv::Same),
    ("network.iana_number",             "connection_info.protocol_num",       Conv::Int),
    ("network.transport",               "connection_info.protocol_name",      Conv::Same),
    ("aws.vpcflow.tcp_flags",           "connection_info.tcp_flags",          Conv::Same),
    ("network.packets",                 "traffic.packets",                    Conv::Same),
    ("network.bytes",                   "traffic.bytes",                      Conv::Same),
    ("aws.vpcflow.log_status",          "status_code",                        Conv::Same),
    ("aws.vpcflow.pkt_src_service",     "src_endpoint.svc_name",              Conv::Same),
    ("aws.vpcflow.pkt_dst_service",     "dst_endpoint.svc_name",              Conv::Same),
    ("event.reason",                    "status_detail",                      Conv::Same),
    ("aws.vpcflow.tgw_src_vpc_id",      "src_endpoint.vpc_uid",               Conv::Same),
    ("aws.vpcflow.tgw_dst_vpc_id",      "dst_endpoint.vpc_uid",               Conv::Same),
    ("aws.vpcflow.tgw_src_eni",         "src_endpoint.interface_uid",         Conv::Same),
    ("aws.vpcflow.tgw_dst_eni",         "dst_endpoint.interface_uid",         Conv::Same),
    ("aws.vpcflow.tgw_src_subnet_id",   "src_endpoint.subnet_uid",            Conv::Same),
    ("aws.vpcflow.tgw_dst_subnet_id",   "dst_endpoint.subnet_uid",            Conv::Same),
    ("aws.vpcflow.tgw_src_az_id",       "src_endpoint.zone",                  Conv::Same),
    ("aws.vpcflow.tgw_dst_az_id",       "dst_endpoint.zone",                  Conv::Same),
    // Set by the rules below.
    ("event.action",                    "action_id, disposition_id",          Conv::Rule),
    ("network.direction",               "connection_info.direction_id",       Conv::Rule),
    ("aws.vpcflow.traffic_path",        "connection_info.boundary_id",        Conv::Rule),
    ("network.type",                    "connection_info.protocol_ver_id",    Conv::Rule),
    ("aws.vpcflow.interface_id",        "(the interface's endpoint).interface_uid", Conv::Rule),
    ("aws.vpcflow.vpc_id",              "(the interface's endpoint).vpc_uid",  Conv::Rule),
    ("aws.vpcflow.subnet_id",           "(the interface's endpoint).subnet_uid", Conv::Rule),
    ("cloud.instance.id",               "(the interface's endpoint).instance_uid", Conv::Rule),
    ("source.address",                  "src_endpoint.ip (unmapped when not an IP)", Conv::Rule),
    ("destination.address",             "dst_endpoint.ip (unmapped when not an IP)", Conv::Rule),
    // Repeat other fields: not written again.
    ("source.bytes",                    "(= traffic.bytes)",                  Conv::Rule),
    ("source.packets",                  "(= traffic.packets)",                Conv::Rule),
    ("event.kind",                      "(the class)",                        Conv::Rule),
    ("event.category",                  "(the class)",                        Conv::Rule),
    ("event.type",                      "(activity_id)",                      Conv::Rule),
    ("event.outcome",                   "(action_id)",                        Conv::Rule),
];

/// `action_id` / `action` (security control profile).
const ACTIONS: &[(u32, &str)] = &[(0, "Unknown"), (1, "Allowed"), (2, "Denied")];
/// `disposition_id` / `disposition`.
const DISPOSITIONS: &[(u32, &str)] = &[(0, "Unknown"), (1, "Allowed"), (2, "Blocked")];
/// `connection_info.direction_id` / `direction`.
const DIRECTIONS: &[(u32, &str)] = &[(0, "Unknown"), (1, "Inbound"), (2, "Outbound")];
/// `connection_info.boundary_id` / `boundary`, by the flow log's
/// `traffic-path` (1-8).
const BOUNDARIES: &[(u32, &str)] = &[
    (4, "Same VPC"),
    (5, "Internet/VPC Gateway"),
    (6, "Virtual Private Gateway"),
    (7, "Intra-region VPC"),
    (8, "Inter-region VPC"),
    (9, "Local Gateway"),
    (10, "Gateway VPC"),
    (11, "Internet Gateway"),
];

fn rules<'a>(ev: &ParsedEvent<'a>, f: &mut Fields<'a>) -> Activity<'a> {
    let (activity, action) = match text(ev, "event.action") {
        Some("ACCEPT") => (6, 1),
        Some("REJECT") => (5, 2),
        _ => (0, 0),
    };
    enumerated(f, "action_id", "action", action, ACTIONS);
    enumerated(f, "disposition_id", "disposition", action, DISPOSITIONS);
    if let Some(raw) = value(ev, "event.action") {
        f.push("unmapped.aws.vpcflow.action", raw);
    }
    let direction = match text(ev, "network.direction") {
        Some("ingress") => 1,
        Some("egress") => 2,
        _ => 0,
    };
    // Required in `connection_info`: 0 Unknown without a flow-direction.
    enumerated(
        f,
        "connection_info.direction_id",
        "connection_info.direction",
        direction,
        DIRECTIONS,
    );
    if let Some(FieldValue::U64(path @ 1..=8)) = ev.fields.get("aws.vpcflow.traffic_path") {
        let id = *path as u32 + 3;
        enumerated(
            f,
            "connection_info.boundary_id",
            "connection_info.boundary",
            id,
            BOUNDARIES,
        );
    } else if let Some(v) = value(ev, "aws.vpcflow.traffic_path") {
        f.push("unmapped.aws.vpcflow.traffic_path", v);
    }
    match text(ev, "network.type") {
        Some("ipv4") => f.u64("connection_info.protocol_ver_id", 4),
        Some("ipv6") => f.u64("connection_info.protocol_ver_id", 6),
        _ => {}
    }
    // The interface's side.
    let side: [(&str, &'static str, &'static str, &'static str); 4] = [
        (
            "aws.vpcflow.interface_id",
            "dst_endpoint.interface_uid",
            "src_endpoint.interface_uid",
            "unmapped.aws.vpcflow.interface_id",
        ),
        (
            "aws.vpcflow.vpc_id",
            "dst_endpoint.vpc_uid",
            "src_endpoint.vpc_uid",
            "unmapped.aws.vpcflow.vpc_id",
        ),
        (
            "aws.vpcflow.subnet_id",
            "dst_endpoint.subnet_uid",
            "src_endpoint.subnet_uid",
            "unmapped.aws.vpcflow.subnet_id",
        ),
        (
            "cloud.instance.id",
            "dst_endpoint.instance_uid",
            "src_endpoint.instance_uid",
            "unmapped.cloud.instance.id",
        ),
    ];
    for (from, inbound, outbound, neither) in side {
        if let Some(v) = value(ev, from) {
            let to = match direction {
                1 => inbound,
                2 => outbound,
                _ => neither,
            };
            f.push(to, v);
        }
    }
    // A record without addresses (`NODATA`, `SKIPDATA`) still names its
    // endpoints: by the interface, when its side is unknown.
    if direction == 0 {
        if let Some(v) = value(ev, "aws.vpcflow.interface_id") {
            if ev.fields.get("source.ip").is_none() {
                f.push("src_endpoint.interface_uid", v.clone());
            }
            if ev.fields.get("destination.ip").is_none() {
                f.push("dst_endpoint.interface_uid", v);
            }
        }
    }
    // An address that is not an IP (`-`) stays as it was written.
    for (ip, address, unmapped) in [
        ("source.ip", "source.address", "unmapped.source.address"),
        (
            "destination.ip",
            "destination.address",
            "unmapped.destination.address",
        ),
    ] {
        if ev.fields.get(ip).is_none() {
            if let Some(v) = value(ev, address) {
                f.push(unmapped, v);
            }
        }
    }
    Activity::of(NETWORK_ACTIVITY, activity)
}
