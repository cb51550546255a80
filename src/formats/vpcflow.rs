//! AWS VPC Flow Logs (versions 2 to 8 and later) and Transit Gateway flow
//! logs, as delivered to S3: space-separated text, one flow per line.
//!
//! Files in S3 start with a header line naming the columns (`version
//! account-id interface-id srcaddr ...`); the column order comes from it, so
//! custom formats work. The header is turned once into a `Vec<Column>`, and
//! each line is then split on spaces over the borrowed line and mapped
//! column by column: no allocation per line beyond the event's `Fields`
//! (timestamps are formatted into buffers reused from line to line).
//!
//! Without a header (e.g. lines that came through CloudWatch Logs), the
//! layout is chosen by the number of fields, among the formats AWS
//! documents as defaults: 14 (default v2), 29 (all fields up to v5),
//! 36 (Transit Gateway default), 39 (up to v7, ECS) and 40 (up to v8).
//! Another count is an error event.
//!
//! Mapping (as Elastic's `aws.vpcflow` integration): `source.*`,
//! `destination.*`, `network.*` (transport from the IANA number),
//! `event.action/outcome/type/reason`, `event.start`/`event.end`, `@timestamp`
//! from `start` (the flow's own start; Elastic uses `end`), `cloud.*`, `orchestrator.*` and
//! `service.name` for ECS, the rest typed under `aws.vpcflow.*`. A column
//! with an ECS place is not written again under `aws.vpcflow.*`
//! (`account-id`, `instance-id`, `action`, `protocol`: the number as written
//! is `network.iana_number`). `-` means absent. A line whose field count does not match its layout, or with a
//! non-numeric number, becomes an error event with the line as original.
//!
//! Not done: `related.ip` and `network.community_id` (the destination can
//! derive them), GeoIP.

use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::{Mutex, OnceLock};

use super::detect::{self, has};
use super::framing::LineFormat;
use super::time::EpochText;
use crate::record::{FieldValue, Fields, ParsedEvent};

pub const DATASET: &str = "aws.vpcflow";

/// The field paths its events can have, besides the record writer's own
/// (see `FormatDef::fields`).
pub const FIELDS: &[&str] = &[
    "aws.vpcflow.ecs_container_id",
    "aws.vpcflow.ecs_second_container_id",
    "aws.vpcflow.ecs_task_arn",
    "aws.vpcflow.ecs_task_definition_arn",
    "aws.vpcflow.ecs_task_id",
    "aws.vpcflow.encryption_status",
    "aws.vpcflow.interface_id",
    "aws.vpcflow.log_status",
    "aws.vpcflow.packets_lost_blackhole",
    "aws.vpcflow.packets_lost_mtu_exceeded",
    "aws.vpcflow.packets_lost_no_route",
    "aws.vpcflow.packets_lost_ttl_expired",
    "aws.vpcflow.pkt_dst_service",
    "aws.vpcflow.pkt_dstaddr",
    "aws.vpcflow.pkt_src_service",
    "aws.vpcflow.pkt_srcaddr",
    "aws.vpcflow.resource_id",
    "aws.vpcflow.resource_type",
    "aws.vpcflow.sublocation.id",
    "aws.vpcflow.sublocation.type",
    "aws.vpcflow.subnet_id",
    "aws.vpcflow.tcp_flags",
    "aws.vpcflow.tcp_flags_array",
    "aws.vpcflow.tgw_attachment_id",
    "aws.vpcflow.tgw_dst_az_id",
    "aws.vpcflow.tgw_dst_eni",
    "aws.vpcflow.tgw_dst_subnet_id",
    "aws.vpcflow.tgw_dst_vpc_account_id",
    "aws.vpcflow.tgw_dst_vpc_id",
    "aws.vpcflow.tgw_id",
    "aws.vpcflow.tgw_pair_attachment_id",
    "aws.vpcflow.tgw_src_az_id",
    "aws.vpcflow.tgw_src_eni",
    "aws.vpcflow.tgw_src_subnet_id",
    "aws.vpcflow.tgw_src_vpc_account_id",
    "aws.vpcflow.tgw_src_vpc_id",
    "aws.vpcflow.traffic_path",
    "aws.vpcflow.type",
    "aws.vpcflow.version",
    "aws.vpcflow.vpc_id",
    "cloud.account.id",
    "cloud.availability_zone",
    "cloud.instance.id",
    "cloud.region",
    "destination.address",
    "destination.ip",
    "destination.port",
    "event.action",
    "event.category",
    "event.end",
    "event.kind",
    "event.outcome",
    "event.reason",
    "event.start",
    "event.type",
    "network.bytes",
    "network.direction",
    "network.iana_number",
    "network.packets",
    "network.transport",
    "network.type",
    "orchestrator.cluster.id",
    "orchestrator.cluster.name",
    "orchestrator.resource.id",
    "orchestrator.resource.name",
    "service.name",
    "source.address",
    "source.bytes",
    "source.ip",
    "source.packets",
    "source.port",
];

/// What to do with one column of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    /// A string under this path.
    Str(&'static str),
    /// An unsigned number under this path.
    Num(&'static str),
    AccountId,
    InstanceId,
    SrcAddr,
    DstAddr,
    SrcPort,
    DstPort,
    Protocol,
    Packets,
    Bytes,
    Start,
    End,
    Action,
    TcpFlags,
    /// A column we keep nowhere (an unknown name we could not intern).
    Skip,
}

/// Every documented field: VPC flow logs v2-v8 (and the later
/// resource-id/encryption-status), Transit Gateway flow logs.
const KNOWN: &[(&str, Column)] = &[
    ("version", Column::Num("aws.vpcflow.version")),
    ("account-id", Column::AccountId),
    ("interface-id", Column::Str("aws.vpcflow.interface_id")),
    ("srcaddr", Column::SrcAddr),
    ("dstaddr", Column::DstAddr),
    ("srcport", Column::SrcPort),
    ("dstport", Column::DstPort),
    ("protocol", Column::Protocol),
    ("packets", Column::Packets),
    ("bytes", Column::Bytes),
    ("start", Column::Start),
    ("end", Column::End),
    ("action", Column::Action),
    ("log-status", Column::Str("aws.vpcflow.log_status")),
    // v3
    ("vpc-id", Column::Str("aws.vpcflow.vpc_id")),
    ("subnet-id", Column::Str("aws.vpcflow.subnet_id")),
    ("instance-id", Column::InstanceId),
    ("tcp-flags", Column::TcpFlags),
    ("type", Column::Str("aws.vpcflow.type")),
    ("pkt-srcaddr", Column::Str("aws.vpcflow.pkt_srcaddr")),
    ("pkt-dstaddr", Column::Str("aws.vpcflow.pkt_dstaddr")),
    // v4
    ("region", Column::Str("cloud.region")),
    ("az-id", Column::Str("cloud.availability_zone")),
    (
        "sublocation-type",
        Column::Str("aws.vpcflow.sublocation.type"),
    ),
    ("sublocation-id", Column::Str("aws.vpcflow.sublocation.id")),
    // v5
    (
        "pkt-src-aws-service",
        Column::Str("aws.vpcflow.pkt_src_service"),
    ),
    (
        "pkt-dst-aws-service",
        Column::Str("aws.vpcflow.pkt_dst_service"),
    ),
    ("flow-direction", Column::Str("network.direction")),
    ("traffic-path", Column::Num("aws.vpcflow.traffic_path")),
    // v7 (ECS)
    ("ecs-cluster-arn", Column::Str("orchestrator.cluster.id")),
    ("ecs-cluster-name", Column::Str("orchestrator.cluster.name")),
    (
        "ecs-container-instance-arn",
        Column::Str("orchestrator.resource.name"),
    ),
    (
        "ecs-container-instance-id",
        Column::Str("orchestrator.resource.id"),
    ),
    (
        "ecs-container-id",
        Column::Str("aws.vpcflow.ecs_container_id"),
    ),
    (
        "ecs-second-container-id",
        Column::Str("aws.vpcflow.ecs_second_container_id"),
    ),
    ("ecs-service-name", Column::Str("service.name")),
    (
        "ecs-task-definition-arn",
        Column::Str("aws.vpcflow.ecs_task_definition_arn"),
    ),
    ("ecs-task-arn", Column::Str("aws.vpcflow.ecs_task_arn")),
    ("ecs-task-id", Column::Str("aws.vpcflow.ecs_task_id")),
    // v8
    ("reject-reason", Column::Str("event.reason")),
    // later
    ("resource-id", Column::Str("aws.vpcflow.resource_id")),
    (
        "encryption-status",
        Column::Num("aws.vpcflow.encryption_status"),
    ),
    // Transit Gateway
    ("resource-type", Column::Str("aws.vpcflow.resource_type")),
    ("tgw-id", Column::Str("aws.vpcflow.tgw_id")),
    (
        "tgw-attachment-id",
        Column::Str("aws.vpcflow.tgw_attachment_id"),
    ),
    (
        "tgw-src-vpc-account-id",
        Column::Str("aws.vpcflow.tgw_src_vpc_account_id"),
    ),
    (
        "tgw-dst-vpc-account-id",
        Column::Str("aws.vpcflow.tgw_dst_vpc_account_id"),
    ),
    ("tgw-src-vpc-id", Column::Str("aws.vpcflow.tgw_src_vpc_id")),
    ("tgw-dst-vpc-id", Column::Str("aws.vpcflow.tgw_dst_vpc_id")),
    (
        "tgw-src-subnet-id",
        Column::Str("aws.vpcflow.tgw_src_subnet_id"),
    ),
    (
        "tgw-dst-subnet-id",
        Column::Str("aws.vpcflow.tgw_dst_subnet_id"),
    ),
    ("tgw-src-eni", Column::Str("aws.vpcflow.tgw_src_eni")),
    ("tgw-dst-eni", Column::Str("aws.vpcflow.tgw_dst_eni")),
    ("tgw-src-az-id", Column::Str("aws.vpcflow.tgw_src_az_id")),
    ("tgw-dst-az-id", Column::Str("aws.vpcflow.tgw_dst_az_id")),
    (
        "tgw-pair-attachment-id",
        Column::Str("aws.vpcflow.tgw_pair_attachment_id"),
    ),
    (
        "packets-lost-no-route",
        Column::Num("aws.vpcflow.packets_lost_no_route"),
    ),
    (
        "packets-lost-blackhole",
        Column::Num("aws.vpcflow.packets_lost_blackhole"),
    ),
    (
        "packets-lost-mtu-exceeded",
        Column::Num("aws.vpcflow.packets_lost_mtu_exceeded"),
    ),
    (
        "packets-lost-ttl-expired",
        Column::Num("aws.vpcflow.packets_lost_ttl_expired"),
    ),
];

const DEFAULT_V2: &str =
    "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status";
const UP_TO_V5: &str = " vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id sublocation-type sublocation-id pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path";
const V7_ECS: &str = " ecs-cluster-arn ecs-cluster-name ecs-container-instance-arn ecs-container-instance-id ecs-container-id ecs-second-container-id ecs-service-name ecs-task-definition-arn ecs-task-arn ecs-task-id";
const TGW_DEFAULT: &str = "version resource-type account-id tgw-id tgw-attachment-id tgw-src-vpc-account-id tgw-dst-vpc-account-id tgw-src-vpc-id tgw-dst-vpc-id tgw-src-subnet-id tgw-dst-subnet-id tgw-src-eni tgw-dst-eni tgw-src-az-id tgw-dst-az-id tgw-pair-attachment-id srcaddr dstaddr srcport dstport protocol packets bytes start end log-status type packets-lost-no-route packets-lost-blackhole packets-lost-mtu-exceeded packets-lost-ttl-expired tcp-flags region flow-direction pkt-src-aws-service pkt-dst-aws-service";

/// Layouts for lines without a header, by field count.
struct Defaults {
    by_count: Vec<(usize, Vec<Column>)>,
}

impl Defaults {
    fn new() -> Self {
        let all_v5 = format!("{DEFAULT_V2}{UP_TO_V5}");
        let all_v7 = format!("{all_v5}{V7_ECS}");
        let all_v8 = format!("{all_v7} reject-reason");
        let by_count = [DEFAULT_V2, &all_v5, TGW_DEFAULT, &all_v7, &all_v8]
            .iter()
            .map(|names| {
                let cols: Vec<Column> = names.split(' ').map(column_for).collect();
                (cols.len(), cols)
            })
            .collect();
        Defaults { by_count }
    }

    fn for_count(&self, n: usize) -> Option<&[Column]> {
        self.by_count
            .iter()
            .find(|(len, _)| *len == n)
            .map(|(_, cols)| cols.as_slice())
    }
}

fn known(name: &str) -> Option<Column> {
    KNOWN.iter().find(|(n, _)| *n == name).map(|(_, c)| *c)
}

/// The column for a header name; unknown names keep their values as strings
/// under `aws.vpcflow.<snake_case>` (so that a field AWS adds is not lost).
fn column_for(name: &str) -> Column {
    let norm = name.to_ascii_lowercase().replace('_', "-");
    known(&norm)
        .or_else(|| intern_unknown(&norm).map(Column::Str))
        .unwrap_or(Column::Skip)
}

/// A `'static` path for an unknown column name. Field paths are
/// `&'static str`, so each distinct name is leaked once; the set is capped
/// so that hostile headers cannot grow memory without bound.
fn intern_unknown(name: &str) -> Option<&'static str> {
    const MAX_NAMES: usize = 64;
    static NAMES: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());
    if name.is_empty() || name.len() > 48 || !is_name(name) {
        return None;
    }
    let path = format!("aws.vpcflow.{}", name.replace('-', "_"));
    let mut names = NAMES.lock().ok()?;
    if let Some(p) = names.iter().find(|p| **p == path) {
        return Some(p);
    }
    if names.len() >= MAX_NAMES {
        return None;
    }
    let leaked: &'static str = Box::leak(path.into_boxed_str());
    names.push(leaked);
    Some(leaked)
}

/// Field-name syntax: a letter, then letters, digits, `-` or `_`.
fn is_name(token: &str) -> bool {
    let b = token.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphabetic()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'_')
}

/// The columns named by `line` if it is a header line: every token has the
/// syntax of a field name and at least one is a field we know.
fn header_columns(line: &str) -> Option<Vec<Column>> {
    let mut any_known = false;
    for tok in tokens(line) {
        if !is_name(tok) {
            return None;
        }
        any_known |= known(&tok.to_ascii_lowercase().replace('_', "-")).is_some();
    }
    if !any_known {
        return None;
    }
    Some(tokens(line).map(column_for).collect())
}

/// Whether a line after the first may be a header: cheap test on the first
/// token first (data values never equal field names).
fn may_be_header(line: &str) -> bool {
    match tokens(line).next() {
        Some(first) => {
            first
                .as_bytes()
                .first()
                .is_some_and(u8::is_ascii_alphabetic)
                && known(first).is_some()
        }
        None => false,
    }
}

fn tokens(line: &str) -> impl Iterator<Item = &str> {
    line.split(' ').filter(|t| !t.is_empty())
}

fn transport(protocol: u64) -> Option<&'static str> {
    Some(match protocol {
        0 => "hopopt",
        1 => "icmp",
        2 => "igmp",
        6 => "tcp",
        8 => "egp",
        17 => "udp",
        47 => "gre",
        50 => "esp",
        51 => "ah",
        58 => "ipv6-icmp",
        112 => "vrrp",
        132 => "sctp",
        _ => return None,
    })
}

/// `aws.vpcflow.tcp_flags_array` as JSON for the six low bits, built once.
fn tcp_flags_json(flags: u64) -> Option<&'static str> {
    static TABLE: OnceLock<Vec<String>> = OnceLock::new();
    let bits = (flags & 0x3f) as usize;
    if bits == 0 {
        return None;
    }
    let table = TABLE.get_or_init(|| {
        const NAMES: [&str; 6] = ["fin", "syn", "rst", "psh", "ack", "urg"];
        (0..64usize)
            .map(|b| {
                let names: Vec<String> = NAMES
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| b & (1 << i) != 0)
                    .map(|(_, n)| format!("\"{n}\""))
                    .collect();
                format!("[{}]", names.join(","))
            })
            .collect()
    });
    table.get(bits).map(String::as_str)
}



/// What the column loop found besides the fields.
#[derive(Default)]
struct LineInfo<'a> {
    count: usize,
    start: Option<&'a str>,
    end: Option<&'a str>,
    action: Option<&'a str>,
    /// First bad value: (column path, value, what was expected).
    bad: Option<(&'static str, &'a str, &'static str)>,
}

/// Maps the tokens of one line through `cols`.
fn map_columns<'a>(line: &'a str, cols: &[Column], f: &mut Fields<'a>) -> LineInfo<'a> {
    let mut info = LineInfo::default();
    let mut cols = cols.iter();
    for tok in tokens(line) {
        info.count += 1;
        let Some(col) = cols.next() else {
            continue; // counted, reported by the caller
        };
        if tok == "-" {
            continue;
        }
        let num = |path: &'static str, info: &mut LineInfo<'a>| match tok.parse::<u64>() {
            Ok(n) => Some(n),
            Err(_) => {
                info.bad.get_or_insert((path, tok, "a number"));
                None
            }
        };
        match *col {
            Column::Str(path) => f.str(path, tok),
            Column::Num(path) => {
                if let Some(n) = num(path, &mut info) {
                    f.u64(path, n);
                }
            }
            Column::AccountId => {
                f.str("cloud.account.id", tok);
            }
            Column::InstanceId => {
                f.str("cloud.instance.id", tok);
            }
            Column::SrcAddr => {
                f.str("source.address", tok);
                if tok.parse::<IpAddr>().is_ok() {
                    f.str("source.ip", tok);
                    let kind = if tok.contains(':') { "ipv6" } else { "ipv4" };
                    f.str("network.type", kind);
                }
            }
            Column::DstAddr => {
                f.str("destination.address", tok);
                if tok.parse::<IpAddr>().is_ok() {
                    f.str("destination.ip", tok);
                }
            }
            Column::SrcPort => {
                if let Some(n) = num("source.port", &mut info) {
                    f.u64("source.port", n);
                }
            }
            Column::DstPort => {
                if let Some(n) = num("destination.port", &mut info) {
                    f.u64("destination.port", n);
                }
            }
            Column::Protocol => {
                // network.iana_number holds the number as written.
                if let Some(n) = num("network.iana_number", &mut info) {
                    f.str("network.iana_number", tok);
                    if let Some(t) = transport(n) {
                        f.str("network.transport", t);
                    }
                }
            }
            Column::Packets => {
                if let Some(n) = num("network.packets", &mut info) {
                    f.u64("source.packets", n);
                    f.u64("network.packets", n);
                }
            }
            Column::Bytes => {
                if let Some(n) = num("network.bytes", &mut info) {
                    f.u64("source.bytes", n);
                    f.u64("network.bytes", n);
                }
            }
            Column::Start => info.start = Some(tok),
            Column::End => info.end = Some(tok),
            Column::Action => {
                info.action = Some(tok);
                f.str("event.action", tok);
            }
            Column::TcpFlags => {
                if let Some(n) = num("aws.vpcflow.tcp_flags", &mut info) {
                    f.u64("aws.vpcflow.tcp_flags", n);
                    if let Some(json) = tcp_flags_json(n) {
                        f.push("aws.vpcflow.tcp_flags_array", FieldValue::Json(json));
                    }
                }
            }
            Column::Skip => {}
        }
    }
    info
}

/// Where the column order comes from.
#[derive(Default)]
enum Layout {
    /// Nothing but blank lines seen yet.
    #[default]
    Unknown,
    Header(Vec<Column>),
    /// No header: chosen per line by the number of fields.
    Defaults(Defaults),
}

/// A header line (`version ... srcaddr`, or `resource-type` for Transit
/// Gateway; or a custom one in any order: three or more names, all flow
/// log fields, `srcaddr` or `interface-id` among them), or a default-format
/// line: `2 123456789012 eni-0a1b2c3d ...`.
pub fn sniff(line: &[u8]) -> bool {
    if line.starts_with(b"version ") && (has(line, " srcaddr") || has(line, " resource-type")) {
        return true;
    }
    if is_custom_header(line) {
        return true;
    }
    let [version, account, interface] = detect::tokens(line);
    let v2 = !version.is_empty()
        && version.iter().all(u8::is_ascii_digit)
        && account.len() == 12
        && account.iter().all(u8::is_ascii_digit)
        && (interface.starts_with(b"eni-") || interface == b"-");
    v2 || is_later_default_line(line)
}

/// A custom-format header that does not start with `version`
/// (`instance-id interface-id srcaddr dstaddr ...`): every token a known
/// field name, at least three, one of them `srcaddr` or `interface-id`.
fn is_custom_header(line: &[u8]) -> bool {
    let Ok(line) = std::str::from_utf8(line) else {
        return false;
    };
    let names: Vec<String> = tokens(line)
        .map(|t| t.to_ascii_lowercase().replace('_', "-"))
        .collect();
    names.len() >= 3
        && names.iter().all(|n| known(n).is_some())
        && names.iter().any(|n| n == "srcaddr" || n == "interface-id")
}

/// A headerless line of a later default layout (v3-v8, Transit Gateway):
/// a version 3-8 first, at least 14 fields, an interface or gateway id and
/// a log status among them.
fn is_later_default_line(line: &[u8]) -> bool {
    let fields: Vec<&[u8]> = line.split(|b| *b == b' ').collect();
    let version_ok = matches!(fields.first(), Some([b'3'..=b'8']));
    version_ok
        && fields.len() >= 14
        && fields
            .iter()
            .any(|f| f.starts_with(b"eni-") || f.starts_with(b"tgw-"))
        && fields
            .iter()
            .any(|f| matches!(*f, b"OK" | b"NODATA" | b"SKIPDATA"))
}

/// Flow log lines: the header (when there is one) sets the columns, kept
/// here with the last formatted times.
#[derive(Default)]
pub struct FlowLines {
    layout: Layout,
    start: EpochText,
    end: EpochText,
}

impl LineFormat for FlowLines {
    const DATASET: &'static str = DATASET;
    const WHAT: &'static str = "a flow log record";

    fn header(&mut self, line: &str) -> bool {
        let header = match self.layout {
            Layout::Unknown => header_columns(line),
            _ if may_be_header(line) => header_columns(line),
            _ => None,
        };
        if let Some(cols) = header {
            self.layout = Layout::Header(cols);
            return true;
        }
        if matches!(self.layout, Layout::Unknown) {
            self.layout = Layout::Defaults(Defaults::new());
        }
        false
    }

    fn map<'a>(
        &'a mut self,
        line: &'a str,
        ev: &mut ParsedEvent<'a>,
    ) -> Result<Option<String>, String> {
        let cols = match &self.layout {
            Layout::Header(cols) => cols.as_slice(),
            Layout::Defaults(d) => {
                let n = tokens(line).count();
                d.for_count(n).ok_or_else(|| {
                    format!(
                        "{n} fields and no header line; without a header only the \
                         default formats of 14, 29, 36 (Transit Gateway), 39 or 40 fields are known"
                    )
                })?
            }
            Layout::Unknown => return Err("no header line".into()),
        };
        let fields = &mut ev.fields;
        let info = map_columns(line, cols, fields);
        if info.count != cols.len() {
            return Err(format!(
                "{} fields where the header names {}",
                info.count,
                cols.len()
            ));
        }
        let mut note = None;
        let mut bad = info.bad;
        let mut times = (false, false);
        for (tok, buf, slot, path) in [
            (info.start, &mut self.start, &mut times.0, "event.start"),
            (info.end, &mut self.end, &mut times.1, "event.end"),
        ] {
            if let Some(tok) = tok {
                *slot = tok.parse::<u64>().is_ok_and(|n| buf.set(n));
                if !*slot {
                    bad.get_or_insert((path, tok, "an epoch time"));
                }
            }
        }
        if let Some((path, value, expected)) = bad {
            note = Some(format!(
                "{path}: {value:?} is not {expected}; the field is left out"
            ));
        }
        fields.str("event.kind", "event");
        fields.push("event.category", FieldValue::Json("[\"network\"]"));
        let (outcome, event_type) = match info.action {
            Some("ACCEPT") => (Some("success"), "[\"connection\",\"allowed\"]"),
            Some("REJECT") => (Some("failure"), "[\"connection\",\"denied\"]"),
            _ => (None, "[\"connection\"]"),
        };
        fields.opt_str("event.outcome", outcome);
        fields.push("event.type", FieldValue::Json(event_type));
        // @timestamp is when the flow started (the choice; Elastic
        // uses the end: both are in event.start / event.end).
        if times.1 {
            fields.str("event.end", self.end.as_str());
            ev.timestamp = Some(Cow::Borrowed(self.end.as_str()));
        }
        if times.0 {
            ev.fields.str("event.start", self.start.as_str());
            ev.timestamp = Some(Cow::Borrowed(self.start.as_str()));
        }
        Ok(note)
    }
}


#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::{Format, FormatError, Limits, ParseStats};
    use crate::record::{ObjectContext, RecordWriter};
    use std::sync::Arc;

    #[derive(Debug, Clone, PartialEq)]
    enum V {
        S(String),
        N(u64),
        J(String),
    }

    #[derive(Debug)]
    struct Ev {
        ts: Option<String>,
        original: String,
        offset: Option<u64>,
        error: Option<String>,
        fields: Vec<(&'static str, V)>,
    }

    impl Ev {
        fn get(&self, path: &str) -> Option<&V> {
            self.fields.iter().find(|(p, _)| *p == path).map(|(_, v)| v)
        }
        fn s(&self, path: &str) -> Option<&str> {
            match self.get(path) {
                Some(V::S(s)) => Some(s),
                Some(other) => panic!("{path} is not a string: {other:?}"),
                None => None,
            }
        }
        fn n(&self, path: &str) -> Option<u64> {
            match self.get(path) {
                Some(V::N(n)) => Some(*n),
                Some(other) => panic!("{path} is not a number: {other:?}"),
                None => None,
            }
        }
        fn j(&self, path: &str) -> Option<&str> {
            match self.get(path) {
                Some(V::J(s)) => Some(s),
                Some(other) => panic!("{path} is not JSON: {other:?}"),
                None => None,
            }
        }
    }

    fn run(input: &[u8]) -> (Vec<Ev>, ParseStats) {
        try_run(input, 10_000).expect("parses")
    }

    fn try_run(input: &[u8], max: usize) -> Result<(Vec<Ev>, ParseStats), FormatError> {
        let mut out = Vec::new();
        let mut reader = std::io::BufReader::with_capacity(7, input);
        let limits = Limits {
            max_line_bytes: max,
        };
        let stats = crate::formats::parse(Format::VpcFlow, &mut reader, &limits, &mut |ev: ParsedEvent<'_>| {
            assert_eq!(ev.dataset, DATASET);
            out.push(Ev {
                ts: ev.timestamp.map(|t| t.into_owned()),
                original: ev.original.to_string(),
                offset: ev.offset,
                error: ev.error.map(|e| e.into_owned()),
                fields: ev
                    .fields
                    .iter()
                    .map(|(p, v)| {
                        let v = match v {
                            FieldValue::Str(s) => V::S(s.to_string()),
                            FieldValue::U64(n) => V::N(*n),
                            FieldValue::Json(j) => V::J(j.to_string()),
                            other => panic!("{p}: unexpected value kind {other:?}"),
                        };
                        (*p, v)
                    })
                    .collect(),
            });
            Ok(())
        })?;
        Ok((out, stats))
    }

    const EXTRA: &[u8] = include_bytes!("../../tests/data/vpcflow/extra-samples.log");
    const V5: &[u8] = include_bytes!("../../tests/data/vpcflow/v5-all-fields.log");
    const V8: &[u8] = include_bytes!("../../tests/data/vpcflow/v8-samples.log");
    const TGW: &[u8] = include_bytes!("../../tests/data/vpcflow/tgw-samples.log");
    const ECS: &[u8] = include_bytes!("../../tests/data/vpcflow/ecs-samples.log");
    const TCP_FLAGS: &[u8] = include_bytes!("../../tests/data/vpcflow/tcp-flag-sequence.log");

    /// What Elastic's pipeline tests expect for a line (from the
    /// `*-expected.json` files named in tests/data/vpcflow/SOURCES.md):
    /// source (ip, port), destination (ip, port), transport, action, outcome,
    /// @timestamp (= event.end), event.start, cloud.account.id.
    type Want = (
        Option<(&'static str, u64)>,
        Option<(&'static str, u64)>,
        Option<&'static str>,
        Option<&'static str>,
        Option<&'static str>,
        &'static str,
        &'static str,
        &'static str,
    );

    const V6A: &str = "2a02:cf40:add:4002:91f2:a9b2:e09a:6fc6";
    const IP1: &str = "89.160.20.156";
    const ACC: &str = "123456789010";

    fn expected_by_fixture() -> Vec<(&'static str, &'static [u8], Vec<Want>)> {
        let (a, r) = (Some("ACCEPT"), Some("REJECT"));
        let (ok, ko) = (Some("success"), Some("failure"));
        let (tcp, udp, icmp) = (Some("tcp"), Some("udp"), Some("icmp"));
        vec![
            (
                "extra-samples",
                EXTRA,
                vec![
                    (
                        Some((V6A, 34892)),
                        Some((V6A, 22)),
                        tcp,
                        a,
                        ok,
                        "2016-10-31T11:37:00.000Z",
                        "2016-10-31T11:35:08.000Z",
                        ACC,
                    ),
                    (
                        None,
                        None,
                        None,
                        None,
                        None,
                        "2015-05-10T18:02:14.000Z",
                        "2015-05-10T18:01:16.000Z",
                        ACC,
                    ),
                    (
                        None,
                        None,
                        None,
                        None,
                        None,
                        "2015-05-10T18:02:14.000Z",
                        "2015-05-10T18:01:16.000Z",
                        ACC,
                    ),
                    (
                        Some((IP1, 20641)),
                        Some((IP1, 22)),
                        tcp,
                        a,
                        ok,
                        "2014-12-14T04:07:50.000Z",
                        "2014-12-14T04:06:50.000Z",
                        ACC,
                    ),
                    (
                        Some((IP1, 49761)),
                        Some((IP1, 3389)),
                        tcp,
                        r,
                        ko,
                        "2014-12-14T04:07:50.000Z",
                        "2014-12-14T04:06:50.000Z",
                        ACC,
                    ),
                    (
                        Some((IP1, 0)),
                        Some(("172.31.16.139", 0)),
                        icmp,
                        a,
                        ok,
                        "2015-05-29T16:32:22.000Z",
                        "2015-05-29T16:30:27.000Z",
                        ACC,
                    ),
                    (
                        Some(("172.31.16.139", 0)),
                        Some((IP1, 0)),
                        icmp,
                        r,
                        ko,
                        "2015-05-29T16:32:22.000Z",
                        "2015-05-29T16:31:34.000Z",
                        ACC,
                    ),
                ],
            ),
            (
                "v5-all-fields",
                V5,
                vec![(
                    Some((IP1, 50041)),
                    Some(("10.200.0.0", 33004)),
                    udp,
                    r,
                    ko,
                    "2021-12-20T11:38:17.000Z",
                    "1975-03-14T03:34:26.000Z",
                    "64111117617",
                )],
            ),
            (
                "v8-samples",
                V8,
                vec![(
                    Some(("2a02:cf40::", 42910)),
                    Some(("1.128.0.0", 80)),
                    udp,
                    r,
                    ko,
                    "2025-08-20T08:32:55.000Z",
                    "2025-08-20T08:32:34.000Z",
                    "000000000000",
                )],
            ),
            (
                "ecs-samples",
                ECS,
                vec![
                    (
                        Some(("1.128.0.0", 64072)),
                        Some(("2a02:cf40::", 22)),
                        udp,
                        r,
                        ko,
                        "2025-08-20T08:30:41.000Z",
                        "2025-08-20T08:30:19.000Z",
                        "000000000000",
                    ),
                    (
                        Some(("175.16.199.0", 63715)),
                        Some(("67.43.156.0", 3306)),
                        tcp,
                        a,
                        ok,
                        "2025-08-20T08:31:02.000Z",
                        "2025-08-20T08:30:34.000Z",
                        "000000000000",
                    ),
                ],
            ),
            (
                "tgw-samples (first five)",
                TGW,
                vec![
                    (
                        Some(("1.128.0.0", 39464)),
                        Some(("2a02:cf40::", 22)),
                        tcp,
                        None,
                        None,
                        "2025-08-19T08:35:58.000Z",
                        "2025-08-19T08:35:33.000Z",
                        "748335378900",
                    ),
                    (
                        Some(("175.16.199.0", 56846)),
                        Some(("67.43.156.0", 80)),
                        udp,
                        None,
                        None,
                        "2025-08-19T08:36:38.000Z",
                        "2025-08-19T08:35:43.000Z",
                        "748335378900",
                    ),
                    (
                        Some(("216.160.83.56", 36721)),
                        Some(("89.160.20.128", 8080)),
                        udp,
                        None,
                        None,
                        "2025-08-19T08:36:20.000Z",
                        "2025-08-19T08:35:53.000Z",
                        "748335378900",
                    ),
                    (
                        Some(("81.2.69.142", 3147)),
                        Some(("1.128.0.0", 3389)),
                        udp,
                        None,
                        None,
                        "2025-08-19T08:36:53.000Z",
                        "2025-08-19T08:36:03.000Z",
                        "748335378900",
                    ),
                    (
                        Some(("81.2.69.144", 59410)),
                        Some(("89.160.20.112", 80)),
                        udp,
                        None,
                        None,
                        "2025-08-19T08:36:57.000Z",
                        "2025-08-19T08:36:13.000Z",
                        "748335378900",
                    ),
                ],
            ),
        ]
    }

    #[test]
    fn elastic_samples_map_like_the_elastic_pipeline() {
        for (name, input, wants) in expected_by_fixture() {
            let (evs, stats) = run(input);
            assert_eq!(
                stats.errors,
                0,
                "{name}: {:?}",
                evs.iter().find(|e| e.error.is_some())
            );
            assert!(evs.len() >= wants.len(), "{name}");
            for (i, (ev, want)) in evs.iter().zip(&wants).enumerate() {
                let at = format!("{name} line {}", i + 1);
                let (src, dst, transport, action, outcome, timestamp, start, account) = *want;
                assert_eq!(ev.s("source.ip"), src.map(|s| s.0), "{at}");
                assert_eq!(ev.s("source.address"), src.map(|s| s.0), "{at}");
                assert_eq!(ev.n("source.port"), src.map(|s| s.1), "{at}");
                assert_eq!(ev.s("destination.ip"), dst.map(|d| d.0), "{at}");
                assert_eq!(ev.n("destination.port"), dst.map(|d| d.1), "{at}");
                assert_eq!(ev.s("network.transport"), transport, "{at}");
                assert_eq!(ev.s("event.action"), action, "{at}");
                assert_eq!(
                    ev.get("aws.vpcflow.action"),
                    None,
                    "{at}: event.action only"
                );
                assert_eq!(ev.s("event.outcome"), outcome, "{at}");
                assert_eq!(ev.ts.as_deref(), Some(start), "{at}");
                assert_eq!(ev.s("event.end"), Some(timestamp), "{at}");
                assert_eq!(ev.s("event.start"), Some(start), "{at}");
                assert_eq!(ev.s("cloud.account.id"), Some(account), "{at}");
                assert_eq!(ev.s("event.kind"), Some("event"), "{at}");
                assert_eq!(ev.j("event.category"), Some("[\"network\"]"), "{at}");
                let want_type = match action {
                    Some("ACCEPT") => "[\"connection\",\"allowed\"]",
                    Some("REJECT") => "[\"connection\",\"denied\"]",
                    _ => "[\"connection\"]",
                };
                assert_eq!(ev.j("event.type"), Some(want_type), "{at}");
                assert!(ev.error.is_none(), "{at}");
            }
        }
    }

    #[test]
    fn numbers_are_numbers_and_iana_number_is_kept_as_elastic_does() {
        let (evs, _) = run(EXTRA);
        let ev = &evs[0];
        assert_eq!(ev.n("aws.vpcflow.version"), Some(2));
        assert_eq!(ev.n("source.packets"), Some(54));
        assert_eq!(ev.n("network.packets"), Some(54));
        assert_eq!(ev.n("source.bytes"), Some(8855));
        assert_eq!(ev.n("network.bytes"), Some(8855));
        assert!(
            ev.get("aws.vpcflow.protocol").is_none(),
            "network.iana_number only"
        );
        assert_eq!(ev.s("network.iana_number"), Some("6"));
        assert_eq!(ev.s("network.type"), Some("ipv6"));
        assert_eq!(
            ev.s("aws.vpcflow.interface_id"),
            Some("eni-1235b8ca123456789")
        );
        assert_eq!(ev.s("aws.vpcflow.log_status"), Some("OK"));
        assert_eq!(evs[3].s("network.type"), Some("ipv4"));
    }

    #[test]
    fn dash_fields_are_absent() {
        let (evs, _) = run(EXTRA);
        let nodata = &evs[1];
        for path in [
            "source.address",
            "source.ip",
            "source.port",
            "destination.ip",
            "destination.port",
            "network.transport",
            "network.iana_number",
            "network.bytes",
            "network.packets",
            "event.action",
            "event.outcome",
            "aws.vpcflow.action",
        ] {
            assert!(nodata.get(path).is_none(), "{path} should be absent");
        }
        assert_eq!(nodata.s("aws.vpcflow.log_status"), Some("NODATA"));
        assert!(nodata.fields.iter().all(|(_, v)| *v != V::S("-".into())));
    }

    #[test]
    fn v5_fields_map_to_cloud_network_and_aws_vpcflow() {
        let (evs, _) = run(V5);
        let ev = &evs[0];
        assert_eq!(ev.s("cloud.region"), Some("us-east-1"));
        assert_eq!(ev.s("cloud.availability_zone"), Some("use1-az5"));
        assert_eq!(ev.s("cloud.instance.id"), Some("i-0axxxxxx1ad77"));
        assert!(
            ev.get("aws.vpcflow.instance_id").is_none(),
            "cloud.instance.id only"
        );
        assert_eq!(ev.s("aws.vpcflow.vpc_id"), Some("vpc-09676f97xxxxxb8a7"));
        assert_eq!(
            ev.s("aws.vpcflow.subnet_id"),
            Some("subnet-02d645xxxxxxxdbc0")
        );
        assert_eq!(ev.n("aws.vpcflow.tcp_flags"), Some(1));
        assert_eq!(ev.j("aws.vpcflow.tcp_flags_array"), Some("[\"fin\"]"));
        assert_eq!(ev.s("aws.vpcflow.type"), Some("IPv4"));
        assert_eq!(ev.s("aws.vpcflow.pkt_srcaddr"), Some("89.160.20.156"));
        assert_eq!(ev.s("aws.vpcflow.pkt_dstaddr"), Some("10.200.0.80"));
        assert_eq!(ev.s("aws.vpcflow.pkt_src_service"), Some("AMAZON"));
        assert_eq!(ev.s("aws.vpcflow.pkt_dst_service"), Some("CLOUDFRONT"));
        assert_eq!(ev.s("network.direction"), Some("ingress"));
        assert_eq!(ev.n("aws.vpcflow.traffic_path"), Some(1));
        assert!(ev.get("aws.vpcflow.sublocation.type").is_none());
    }

    #[test]
    fn v7_ecs_and_v8_reject_reason_map_to_orchestrator_service_and_event_reason() {
        let (evs, _) = run(V8);
        let ev = &evs[0];
        assert_eq!(ev.s("event.reason"), Some("BPA"));
        assert_eq!(
            ev.s("orchestrator.cluster.id"),
            Some("arn:aws:ecs:us-east-1:000000000000:cluster/backend-cluster")
        );
        assert_eq!(ev.s("orchestrator.cluster.name"), Some("backend-cluster"));
        assert_eq!(
            ev.s("orchestrator.resource.id"),
            Some("i-18de3682c033431da")
        );
        assert_eq!(
            ev.s("orchestrator.resource.name"),
            Some("arn:aws:ecs:us-east-1:000000000000:container-instance/backend-cluster/i-18de3682c033431da")
        );
        assert_eq!(ev.s("service.name"), Some("payments-service"));
        assert_eq!(ev.s("aws.vpcflow.ecs_container_id"), Some("601a6500-efa"));
        assert_eq!(
            ev.s("aws.vpcflow.ecs_second_container_id"),
            Some("dea79277-480")
        );
        assert_eq!(ev.s("aws.vpcflow.ecs_task_id"), Some("e504f037-35c"));
        assert_eq!(
            ev.s("aws.vpcflow.ecs_task_definition_arn"),
            Some("arn:aws:ecs:us-east-1:000000000000:task-definition/orders:12")
        );
        assert_eq!(ev.s("network.type"), Some("ipv6"));
        assert!(ev.get("cloud.region").is_none(), "'-' region is omitted");
        assert!(ev.get("aws.vpcflow.interface_id").is_none());
    }

    #[test]
    fn transit_gateway_lines_keep_their_tgw_fields() {
        let (evs, stats) = run(TGW);
        assert_eq!((evs.len(), stats.errors), (10, 0));
        let ev = &evs[0];
        assert_eq!(ev.s("aws.vpcflow.tgw_id"), Some("tgw-0a12bc34de56f7890"));
        assert_eq!(
            ev.s("aws.vpcflow.tgw_attachment_id"),
            Some("tgw-attach-0789ijkl")
        );
        assert_eq!(ev.s("aws.vpcflow.tgw_src_vpc_id"), Some("vpc-0jkl5678"));
        assert_eq!(ev.s("aws.vpcflow.tgw_dst_vpc_id"), Some("vpc-0ghi9012"));
        assert_eq!(
            ev.s("aws.vpcflow.tgw_src_eni"),
            Some("eni-0cc3dd4ee5f66aa7b")
        );
        assert_eq!(
            ev.s("aws.vpcflow.tgw_dst_eni"),
            Some("eni-0cc3dd4ee5f66aa7b")
        );
        assert_eq!(ev.s("aws.vpcflow.log_status"), Some("SKIPDATA"));
        assert_eq!(ev.s("network.direction"), Some("ingress"));
        assert_eq!(ev.n("aws.vpcflow.version"), Some(3));
        assert!(ev.get("aws.vpcflow.resource_type").is_none());
    }

    #[test]
    fn transit_gateway_file_with_header_and_packet_loss_counters() {
        let input = format!(
            "{TGW_DEFAULT}\n6 TransitGatewayAttachment 123456789012 tgw-0a1 tgw-attach-0b2 111122223333 444455556666 vpc-1 vpc-2 subnet-1 subnet-2 eni-1 eni-2 use1-az1 use1-az2 tgw-attach-0c3 10.0.0.1 10.1.0.1 443 51000 6 10 840 1700000000 1700000060 OK IPv4 0 2 0 1 19 us-east-1 egress - S3\n"
        );
        let (evs, stats) = run(input.as_bytes());
        assert_eq!((evs.len(), stats.skipped, stats.errors), (1, 1, 0));
        let ev = &evs[0];
        assert_eq!(
            ev.s("aws.vpcflow.resource_type"),
            Some("TransitGatewayAttachment")
        );
        assert_eq!(
            ev.s("aws.vpcflow.tgw_pair_attachment_id"),
            Some("tgw-attach-0c3")
        );
        assert_eq!(ev.s("aws.vpcflow.tgw_src_az_id"), Some("use1-az1"));
        assert_eq!(
            ev.s("aws.vpcflow.tgw_src_vpc_account_id"),
            Some("111122223333")
        );
        assert_eq!(ev.n("aws.vpcflow.packets_lost_no_route"), Some(0));
        assert_eq!(ev.n("aws.vpcflow.packets_lost_blackhole"), Some(2));
        assert_eq!(ev.n("aws.vpcflow.packets_lost_mtu_exceeded"), Some(0));
        assert_eq!(ev.n("aws.vpcflow.packets_lost_ttl_expired"), Some(1));
        assert_eq!(
            ev.j("aws.vpcflow.tcp_flags_array"),
            Some("[\"fin\",\"syn\",\"ack\"]")
        );
        assert_eq!(ev.s("cloud.region"), Some("us-east-1"));
        assert_eq!(ev.s("aws.vpcflow.pkt_dst_service"), Some("S3"));
        assert_eq!(ev.s("source.ip"), Some("10.0.0.1"));
        assert_eq!(ev.n("destination.port"), Some(51000));
        assert_eq!(ev.ts.as_deref(), Some("2023-11-14T22:13:20.000Z"));
    }

    #[test]
    fn custom_header_without_version_is_sniffed() {
        assert!(sniff(b"instance-id interface-id srcaddr dstaddr pkt-srcaddr pkt-dstaddr"));
        assert!(!sniff(b"instance-id interface-id"));
        assert!(!sniff(b"the source srcaddr was here"));
    }

    #[test]
    fn header_line_sets_a_custom_column_order_and_is_skipped() {
        let (evs, stats) = run(TCP_FLAGS);
        assert_eq!((evs.len(), stats.skipped, stats.errors), (3, 1, 0));
        let ev = &evs[0];
        assert_eq!(ev.s("aws.vpcflow.vpc_id"), Some("vpc-abcdefab012345678"));
        assert_eq!(ev.s("cloud.instance.id"), Some("i-01234567890123456"));
        assert_eq!(ev.s("source.ip"), Some("89.160.20.156"));
        assert_eq!(ev.n("source.port"), Some(43416));
        assert_eq!(ev.s("destination.ip"), Some("10.0.0.62"));
        assert_eq!(ev.n("destination.port"), Some(5001));
        // bytes come before packets in this order
        assert_eq!(ev.n("network.bytes"), Some(568));
        assert_eq!(ev.n("network.packets"), Some(8));
        assert_eq!(ev.n("aws.vpcflow.tcp_flags"), Some(2));
        assert_eq!(ev.j("aws.vpcflow.tcp_flags_array"), Some("[\"syn\"]"));
        assert_eq!(ev.s("event.action"), Some("ACCEPT"));
        assert_eq!(ev.ts.as_deref(), Some("2019-08-26T19:47:55.000Z"));
        assert_eq!(evs[1].s("aws.vpcflow.log_status"), Some("SKIPDATA"));
        assert_eq!(
            evs[0].offset,
            Some(TCP_FLAGS.iter().position(|b| *b == b'\n').unwrap() as u64 + 1)
        );
    }

    #[test]
    fn s3_file_with_default_header_crlf_and_no_final_newline() {
        let input = format!(
            "{DEFAULT_V2}\r\n2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 17 3 4 1600000000 1600000060 ACCEPT OK\r\n\r\n2 123456789010 eni-1 10.0.0.2 10.0.0.1 2 1 58 3 4 1600000000 1600000060 REJECT OK"
        );
        let (evs, stats) = run(input.as_bytes());
        assert_eq!((evs.len(), stats.skipped, stats.errors), (2, 2, 0));
        assert_eq!(evs[0].s("network.transport"), Some("udp"));
        assert_eq!(evs[1].s("network.transport"), Some("ipv6-icmp"));
        assert_eq!(evs[1].s("event.outcome"), Some("failure"));
        assert!(evs[0].original.ends_with("ACCEPT OK"));
    }

    #[test]
    fn protocols_map_to_iana_names_and_unknown_numbers_keep_only_the_number() {
        for (proto, want) in [
            ("0", Some("hopopt")),
            ("1", Some("icmp")),
            ("2", Some("igmp")),
            ("6", Some("tcp")),
            ("8", Some("egp")),
            ("17", Some("udp")),
            ("47", Some("gre")),
            ("50", Some("esp")),
            ("58", Some("ipv6-icmp")),
            ("112", Some("vrrp")),
            ("132", Some("sctp")),
            ("253", None),
        ] {
            let line = format!(
                "2 1 eni-1 10.0.0.1 10.0.0.2 1 2 {proto} 3 4 1600000000 1600000060 ACCEPT OK\n"
            );
            let (evs, _) = run(line.as_bytes());
            assert_eq!(evs[0].s("network.transport"), want, "protocol {proto}");
            assert_eq!(evs[0].s("network.iana_number"), Some(proto));
        }
    }

    #[test]
    fn millisecond_times_are_recognised() {
        let (evs, _) = run(b"2 1 eni-1 - - - - - - - 1600000000123 1600000060999 - NODATA\n");
        assert_eq!(evs[0].s("event.start"), Some("2020-09-13T12:26:40.123Z"));
        assert_eq!(evs[0].ts.as_deref(), Some("2020-09-13T12:26:40.123Z"));
    }

    #[test]
    fn unknown_header_columns_are_kept_as_strings() {
        let input = b"version srcaddr future-field\n9 10.0.0.1 hello\n";
        let (evs, stats) = run(input);
        assert_eq!((evs.len(), stats.skipped), (1, 1));
        assert_eq!(evs[0].s("aws.vpcflow.future_field"), Some("hello"));
        assert_eq!(evs[0].n("aws.vpcflow.version"), Some(9));
        assert!(evs[0].ts.is_none());
    }

    #[test]
    fn a_later_header_line_switches_the_layout() {
        let input = b"2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 3 4 1600000000 1600000060 ACCEPT OK\nsrcport dstport\n80 443\n";
        let (evs, stats) = run(input);
        assert_eq!((evs.len(), stats.skipped, stats.errors), (2, 1, 0));
        assert_eq!(evs[1].n("source.port"), Some(80));
        assert_eq!(evs[1].n("destination.port"), Some(443));
    }

    #[test]
    fn malformed_lines_become_error_events_with_the_line() {
        let header = format!("{DEFAULT_V2}\n");
        let cases: &[(&str, &str, &str)] = &[
            (
                "truncated line",
                "2 123 eni-1 10.0.0.1 10.0.0.2 1 2 6",
                "8 fields where the header names 14",
            ),
            (
                "extra field",
                "2 123 eni-1 10.0.0.1 10.0.0.2 1 2 6 3 4 1 2 ACCEPT OK extra",
                "15 fields",
            ),
            (
                "bad port",
                "2 123 eni-1 10.0.0.1 10.0.0.2 http 2 6 3 4 1600000000 1600000060 ACCEPT OK",
                "source.port: \"http\"",
            ),
            (
                "bad time",
                "2 123 eni-1 10.0.0.1 10.0.0.2 1 2 6 3 4 soon 1600000060 ACCEPT OK",
                "event.start: \"soon\"",
            ),
            (
                "time out of range",
                "2 123 eni-1 10.0.0.1 10.0.0.2 1 2 6 3 4 1 99999999999999999 ACCEPT OK",
                "event.end",
            ),
        ];
        for (name, line, want) in cases {
            let input = format!("{header}{line}\n");
            let (evs, stats) = run(input.as_bytes());
            assert_eq!((evs.len(), stats.errors), (1, 1), "{name}");
            let err = evs[0].error.as_deref().unwrap_or_default();
            assert!(
                err.contains("line 2") && err.contains(want),
                "{name}: {err}"
            );
            assert_eq!(evs[0].original, *line, "{name}");
        }
        // A bad value keeps the other fields; a wrong count keeps none.
        let (evs, _) = run(format!("{header}{}\n", cases[2].1).as_bytes());
        assert_eq!(evs[0].s("source.ip"), Some("10.0.0.1"));
        assert!(evs[0].get("source.port").is_none());
        let (evs, _) = run(format!("{header}{}\n", cases[0].1).as_bytes());
        assert!(evs[0].fields.is_empty());
    }

    #[test]
    fn headerless_line_with_an_unknown_field_count_is_an_error_event() {
        let (evs, stats) = run(b"2 123 eni-1 10.0.0.1\n");
        assert_eq!(stats.errors, 1);
        assert!(evs[0]
            .error
            .as_deref()
            .unwrap()
            .contains("4 fields and no header line"));
        assert!(evs[0].fields.is_empty());
    }

    #[test]
    fn invalid_utf8_is_kept_lossily_with_an_error_and_still_mapped() {
        let (evs, stats) =
            run(b"2 123 eni-\xff 10.0.0.1 10.0.0.2 1 2 6 3 4 1600000000 1600000060 ACCEPT OK\n");
        assert_eq!((evs.len(), stats.errors), (1, 1));
        assert!(evs[0].error.as_deref().unwrap().contains("UTF-8"));
        assert!(evs[0].original.contains('\u{FFFD}'));
        assert_eq!(evs[0].s("source.ip"), Some("10.0.0.1"));
    }

    #[test]
    fn non_ip_address_keeps_address_but_not_ip() {
        let (evs, _) =
            run(b"2 123 eni-1 not-an-ip 10.0.0.2 1 2 6 3 4 1600000000 1600000060 ACCEPT OK\n");
        assert_eq!(evs[0].s("source.address"), Some("not-an-ip"));
        assert!(evs[0].get("source.ip").is_none());
        assert!(evs[0].get("network.type").is_none());
    }

    #[test]
    fn blank_lines_are_skipped_and_too_long_lines_fail() {
        let (evs, stats) = run(b"\n   \n");
        assert_eq!((evs.len(), stats.skipped), (0, 2));
        assert!(matches!(
            try_run(EXTRA, 20),
            Err(FormatError::LineTooLong { line: 1, .. })
        ));
    }

    #[test]
    fn record_nests_fields_and_adds_cloud_provider() {
        let mut reader = std::io::BufReader::new(V5);
        let mut writer = RecordWriter::new(Arc::new(ObjectContext {
            bucket: "b".into(),
            key: "AWSLogs/1/vpcflowlogs/us-east-1/x.log.gz".into(),
            version: String::new(),
            ingested: "2026-01-01T00:00:00.000Z".into(),
            include_original: true,
        }));
        let mut out = Vec::new();
        let mut records = Vec::new();
        crate::formats::parse(Format::VpcFlow, 
            &mut reader,
            &Limits {
                max_line_bytes: 10_000,
            },
            &mut |ev| {
                writer.write(0, &ev, &mut out);
                records.push(serde_json::from_slice::<serde_json::Value>(&out).expect("JSON"));
                Ok(())
            },
        )
        .unwrap();
        let r = &records[0];
        assert_eq!(r["@timestamp"], r["event"]["start"]);
        assert_eq!(r["cloud"]["provider"], "aws");
        assert_eq!(r["source"]["port"], 50041);
        assert_eq!(r["event"]["category"][0], "network");
        assert_eq!(r["event"]["type"][1], "denied");
        assert_eq!(r["event"]["dataset"], "aws.vpcflow");
        assert_eq!(r["aws"]["vpcflow"]["tcp_flags_array"][0], "fin");
        assert_eq!(r["cloud"]["account"]["id"], "64111117617");
        assert!(
            r["aws"]["vpcflow"].get("account_id").is_none(),
            "not written twice"
        );
    }
}
