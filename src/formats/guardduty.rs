//! Amazon GuardDuty findings exported to S3: JSON lines, one finding per line
//! (the export format). Also accepted, because findings reach S3 by other
//! routes too: several findings on one line (Firehose concatenation), a line
//! holding a JSON array of findings, `{"findings":[...]}` (the API's shape;
//! an empty list is skipped), an EventBridge envelope whose `detail` is the
//! finding, and a pretty-printed file (one or more objects, or an array).
//!
//! Mapped like Elastic's `aws.guardduty`: `@timestamp` = `updatedAt` (else
//! `createdAt`), `message` = `description`, severity as `event.severity`
//! plus `aws.guardduty.severity.{code,value}`, `rule.*` from the finding
//! type, network fields from the service action. The resource's detail
//! objects and the service's bulky members pass through as raw JSON.
//!
//! `shared` holds the small JSON helpers the other AWS JSON formats
//! (`waf`, `route53`, `firewall`, `cloudwatch`, `config`) use too.

use std::borrow::Cow;
use std::io::{BufRead, Read};

use serde::Deserialize;
use serde_json::value::RawValue;

use super::json::{self, Num, OptText, Text, opt_num, raw_nonempty};
use super::time::{iso8601_utc_cow};
use super::detect::has;
use super::lines::{is_blank, Lines};
use super::framing::utf8_or_lossy;
use super::{send, Emit, FormatError, Limits, ParseStats};
use crate::record::{Fields, ParsedEvent};

pub const DATASET: &str = "aws.guardduty";

/// The field paths its events can have, besides the record writer's own
/// (see `FormatDef::fields`).
pub const FIELDS: &[&str] = &[
    "aws.guardduty.account_id",
    "aws.guardduty.action.api",
    "aws.guardduty.action.blocked",
    "aws.guardduty.arn",
    "aws.guardduty.confidence",
    "aws.guardduty.created_at",
    "aws.guardduty.description",
    "aws.guardduty.id",
    "aws.guardduty.partition",
    "aws.guardduty.region",
    "aws.guardduty.resource.access_key_details",
    "aws.guardduty.resource.container_details",
    "aws.guardduty.resource.ebs_volume_details",
    "aws.guardduty.resource.ecs_cluster_details",
    "aws.guardduty.resource.eks_cluster_details",
    "aws.guardduty.resource.instance_details",
    "aws.guardduty.resource.kubernetes_details",
    "aws.guardduty.resource.lambda_details",
    "aws.guardduty.resource.rds_db_instance_details",
    "aws.guardduty.resource.rds_db_user_details",
    "aws.guardduty.resource.s3_bucket_details",
    "aws.guardduty.resource.type",
    "aws.guardduty.schema_version",
    "aws.guardduty.service.action",
    "aws.guardduty.service.additional_info",
    "aws.guardduty.service.archived",
    "aws.guardduty.service.count",
    "aws.guardduty.service.detection",
    "aws.guardduty.service.detector_id",
    "aws.guardduty.service.ebs_volume_scan_details",
    "aws.guardduty.service.event.first_seen",
    "aws.guardduty.service.event.last_seen",
    "aws.guardduty.service.evidence",
    "aws.guardduty.service.feature_name",
    "aws.guardduty.service.resource_role",
    "aws.guardduty.service.runtime_details",
    "aws.guardduty.service.service_name",
    "aws.guardduty.service.user_feedback",
    "aws.guardduty.severity.code",
    "aws.guardduty.severity.value",
    "aws.guardduty.title",
    "aws.guardduty.type",
    "aws.guardduty.updated_at",
    "cloud.account.id",
    "cloud.availability_zone",
    "cloud.image.id",
    "cloud.instance.id",
    "cloud.machine.type",
    "cloud.region",
    "cloud.service.name",
    "destination.as.number",
    "destination.as.organization.name",
    "destination.geo.city_name",
    "destination.geo.country_iso_code",
    "destination.geo.country_name",
    "destination.geo.location.lat",
    "destination.geo.location.lon",
    "destination.ip",
    "destination.port",
    "dns.question.name",
    "event.action",
    "event.created",
    "event.end",
    "event.kind",
    "event.provider",
    "event.severity",
    "event.start",
    "host.id",
    "host.os.platform",
    "host.type",
    "message",
    "network.direction",
    "network.iana_number",
    "network.transport",
    "rule.category",
    "rule.name",
    "rule.ruleset",
    "source.as.number",
    "source.as.organization.name",
    "source.geo.city_name",
    "source.geo.country_iso_code",
    "source.geo.country_name",
    "source.geo.location.lat",
    "source.geo.location.lon",
    "source.ip",
    "source.port",
    "user.id",
    "user.name",
    "user_agent.original",
];

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Finding<'a> {
    /// `{"findings":[...]}` (API shape).
    #[serde(borrow, default)]
    findings: Option<&'a RawValue>,
    /// EventBridge envelope: the finding is `detail`.
    #[serde(borrow, default)]
    detail: Option<&'a RawValue>,
    #[serde(borrow, default)]
    schema_version: OptText<'a>,
    #[serde(borrow, default)]
    account_id: OptText<'a>,
    #[serde(borrow, default)]
    region: OptText<'a>,
    #[serde(borrow, default)]
    partition: OptText<'a>,
    #[serde(borrow, default)]
    id: OptText<'a>,
    #[serde(borrow, default)]
    arn: OptText<'a>,
    #[serde(rename = "type", borrow, default)]
    kind: OptText<'a>,
    #[serde(borrow, default)]
    title: OptText<'a>,
    #[serde(borrow, default)]
    description: OptText<'a>,
    #[serde(borrow, default)]
    created_at: OptText<'a>,
    #[serde(borrow, default)]
    updated_at: OptText<'a>,
    #[serde(default)]
    severity: Option<Num>,
    #[serde(default)]
    confidence: Option<Num>,
    #[serde(borrow, default)]
    resource: Option<Resource<'a>>,
    #[serde(borrow, default)]
    service: Option<Service<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Resource<'a> {
    #[serde(borrow, default)]
    resource_type: OptText<'a>,
    #[serde(borrow, default)]
    instance_details: Option<&'a RawValue>,
    #[serde(borrow, default)]
    access_key_details: Option<&'a RawValue>,
    #[serde(borrow, default)]
    s3_bucket_details: Option<&'a RawValue>,
    #[serde(borrow, default)]
    eks_cluster_details: Option<&'a RawValue>,
    #[serde(borrow, default)]
    kubernetes_details: Option<&'a RawValue>,
    #[serde(borrow, default)]
    container_details: Option<&'a RawValue>,
    #[serde(borrow, default)]
    ecs_cluster_details: Option<&'a RawValue>,
    #[serde(borrow, default)]
    ebs_volume_details: Option<&'a RawValue>,
    #[serde(borrow, default)]
    rds_db_instance_details: Option<&'a RawValue>,
    #[serde(borrow, default)]
    rds_db_user_details: Option<&'a RawValue>,
    #[serde(borrow, default)]
    lambda_details: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InstanceDetails<'a> {
    #[serde(borrow, default)]
    instance_id: OptText<'a>,
    #[serde(borrow, default)]
    instance_type: OptText<'a>,
    #[serde(borrow, default)]
    availability_zone: OptText<'a>,
    #[serde(borrow, default)]
    image_id: OptText<'a>,
    #[serde(borrow, default)]
    platform: OptText<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AccessKeyDetails<'a> {
    #[serde(borrow, default)]
    user_name: OptText<'a>,
    #[serde(borrow, default)]
    principal_id: OptText<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KubernetesDetails<'a> {
    #[serde(borrow, default)]
    kubernetes_user_details: Option<KubernetesUser<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KubernetesUser<'a> {
    #[serde(borrow, default)]
    username: OptText<'a>,
    #[serde(borrow, default)]
    uid: OptText<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Service<'a> {
    #[serde(borrow, default)]
    service_name: OptText<'a>,
    #[serde(borrow, default)]
    detector_id: OptText<'a>,
    #[serde(borrow, default)]
    resource_role: OptText<'a>,
    #[serde(borrow, default)]
    feature_name: OptText<'a>,
    #[serde(borrow, default)]
    user_feedback: OptText<'a>,
    #[serde(default)]
    archived: Option<bool>,
    #[serde(default)]
    count: Option<Num>,
    #[serde(borrow, default)]
    event_first_seen: OptText<'a>,
    #[serde(borrow, default)]
    event_last_seen: OptText<'a>,
    #[serde(borrow, default)]
    action: Option<&'a RawValue>,
    #[serde(borrow, default)]
    additional_info: Option<&'a RawValue>,
    #[serde(borrow, default)]
    evidence: Option<&'a RawValue>,
    #[serde(borrow, default)]
    runtime_details: Option<&'a RawValue>,
    #[serde(borrow, default)]
    ebs_volume_scan_details: Option<&'a RawValue>,
    #[serde(borrow, default)]
    detection: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Action<'a> {
    #[serde(borrow, default)]
    action_type: OptText<'a>,
    #[serde(borrow, default)]
    network_connection_action: Option<NetworkConnection<'a>>,
    #[serde(borrow, default)]
    dns_request_action: Option<DnsRequest<'a>>,
    #[serde(borrow, default)]
    aws_api_call_action: Option<ApiCall<'a>>,
    #[serde(borrow, default)]
    kubernetes_api_call_action: Option<ApiCall<'a>>,
    #[serde(borrow, default)]
    rds_login_attempt_action: Option<ApiCall<'a>>,
    #[serde(borrow, default)]
    port_probe_action: Option<PortProbe<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NetworkConnection<'a> {
    #[serde(borrow, default)]
    connection_direction: OptText<'a>,
    #[serde(borrow, default)]
    protocol: OptText<'a>,
    #[serde(default)]
    blocked: Option<bool>,
    #[serde(borrow, default)]
    local_ip_details: Option<IpDetails<'a>>,
    #[serde(borrow, default)]
    remote_ip_details: Option<IpDetails<'a>>,
    #[serde(default)]
    local_port_details: Option<PortDetails>,
    #[serde(default)]
    remote_port_details: Option<PortDetails>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IpDetails<'a> {
    #[serde(borrow, default)]
    ip_address_v4: OptText<'a>,
    #[serde(borrow, default)]
    ip_address_v6: OptText<'a>,
    #[serde(borrow, default)]
    organization: Option<Organization<'a>>,
    #[serde(borrow, default)]
    country: Option<Country<'a>>,
    #[serde(borrow, default)]
    city: Option<City<'a>>,
    #[serde(default)]
    geo_location: Option<GeoLocation>,
}

impl<'a> IpDetails<'a> {
    fn ip(&self) -> Option<Cow<'a, str>> {
        self.ip_address_v4
            .as_ref()
            .or(self.ip_address_v6.as_ref())
            .map(|s| s.0.clone())
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Organization<'a> {
    #[serde(default)]
    asn: Option<Num>,
    #[serde(borrow, default)]
    asn_org: OptText<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Country<'a> {
    #[serde(borrow, default)]
    country_code: OptText<'a>,
    #[serde(borrow, default)]
    country_name: OptText<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct City<'a> {
    #[serde(borrow, default)]
    city_name: OptText<'a>,
}

#[derive(Deserialize)]
struct GeoLocation {
    #[serde(default)]
    lat: Option<Num>,
    #[serde(default)]
    lon: Option<Num>,
}

#[derive(Deserialize)]
struct PortDetails {
    #[serde(default)]
    port: Option<Num>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DnsRequest<'a> {
    #[serde(borrow, default)]
    domain: OptText<'a>,
    #[serde(borrow, default)]
    protocol: OptText<'a>,
    #[serde(default)]
    blocked: Option<bool>,
}

/// AWS API calls, Kubernetes API calls and RDS logins share what we map.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiCall<'a> {
    #[serde(borrow, default)]
    api: OptText<'a>,
    #[serde(borrow, default)]
    service_name: OptText<'a>,
    #[serde(borrow, default)]
    user_agent: OptText<'a>,
    #[serde(borrow, default)]
    remote_ip_details: Option<IpDetails<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PortProbe<'a> {
    #[serde(default)]
    blocked: Option<bool>,
    #[serde(borrow, default)]
    port_probe_details: Option<Vec<PortProbeDetail<'a>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PortProbeDetail<'a> {
    #[serde(default)]
    local_port_details: Option<PortDetails>,
    #[serde(borrow, default)]
    remote_ip_details: Option<IpDetails<'a>>,
}

/// Where a parsed value came from, for error messages and `log.offset`.
#[derive(Clone, Copy)]
struct Origin {
    /// 1-based line number, 0 when the input is a multi-line document.
    line: u64,
    offset: Option<u64>,
}

struct Ctx<'e, 'f> {
    emit: &'e mut Emit<'f>,
    stats: ParseStats,
}

/// A finding has a GuardDuty ARN and a `severity`.
pub fn sniff(line: &[u8]) -> bool {
    has(line, "arn:aws:guardduty:") && has(line, "\"severity\"")
}

pub fn parse(
    reader: &mut dyn BufRead,
    limits: &Limits,
    emit: &mut Emit<'_>,
) -> Result<ParseStats, FormatError> {
    let mut ctx = Ctx {
        emit,
        stats: ParseStats::default(),
    };
    // Phase 1: JSON lines. Phase 2 (only if the first line is the start of
    // a multi-line JSON document): a stream of JSON values.
    let first_line = {
        let mut lines = Lines::new(&mut *reader, limits.max_line_bytes);
        let mut first = true;
        let mut switch = None;
        while let Some(line) = lines.next_line()? {
            if is_blank(line.bytes) {
                ctx.stats.skipped += 1;
                continue;
            }
            let origin = Origin {
                line: line.number,
                offset: Some(line.offset),
            };
            let (text, utf8_error) = utf8_or_lossy(line.bytes, line.number);
            let trimmed = text.trim();
            if let Some(e) = utf8_error {
                let mut ev = ParsedEvent::new(DATASET, trimmed);
                ev.offset = origin.offset;
                ev.error = Some(e);
                send(ctx.emit, &mut ctx.stats, ev)?;
                first = false;
                continue;
            }
            let mut values = serde_json::Deserializer::from_str(trimmed).into_iter::<&RawValue>();
            let mut seen = 0u32;
            loop {
                match values.next() {
                    None => break,
                    Some(Ok(v)) => {
                        seen += 1;
                        emit_value(v.get(), origin, &mut ctx)?;
                    }
                    Some(Err(e)) if first && seen == 0 && e.is_eof() => {
                        switch = Some(line.bytes.to_vec());
                        break;
                    }
                    Some(Err(e)) => {
                        let mut ev = ParsedEvent::new(DATASET, trimmed);
                        ev.offset = origin.offset;
                        ev.error = Some(Cow::Owned(format!(
                            "line {} is not valid JSON: {e}",
                            line.number
                        )));
                        send(ctx.emit, &mut ctx.stats, ev)?;
                        break;
                    }
                }
            }
            if switch.is_some() {
                break;
            }
            first = false;
        }
        switch
    };
    let Some(mut first_line) = first_line else {
        return Ok(ctx.stats);
    };
    first_line.push(b'\n');
    let chained = std::io::Cursor::new(first_line).chain(reader);
    let origin = Origin {
        line: 0,
        offset: None,
    };
    for value in serde_json::Deserializer::from_reader(chained).into_iter::<Box<RawValue>>() {
        match value {
            Ok(v) => emit_value(v.get(), origin, &mut ctx)?,
            Err(e) if e.is_io() => return Err(FormatError::Io(e.into())),
            Err(e) => {
                return Err(FormatError::Malformed(format!(
                    "the GuardDuty file is neither JSON lines nor valid JSON ({e}), after {} finding(s)",
                    ctx.stats.events
                )))
            }
        }
    }
    Ok(ctx.stats)
}

fn error_event(
    raw: &str,
    origin: Origin,
    why: String,
    ctx: &mut Ctx<'_, '_>,
) -> Result<(), FormatError> {
    let mut ev = ParsedEvent::new(DATASET, raw);
    ev.offset = origin.offset;
    ev.error = Some(Cow::Owned(if origin.line > 0 {
        format!("line {}: {why}", origin.line)
    } else {
        format!("finding {}: {why}", ctx.stats.events + 1)
    }));
    send(ctx.emit, &mut ctx.stats, ev)
}

/// One top-level JSON value: a finding, a wrapper of findings, or an array.
fn emit_value(raw: &str, origin: Origin, ctx: &mut Ctx<'_, '_>) -> Result<(), FormatError> {
    if raw.starts_with('[') {
        match serde_json::from_str::<Vec<&RawValue>>(raw) {
            Ok(items) if items.is_empty() => ctx.stats.skipped += 1,
            Ok(items) => {
                for item in items {
                    emit_finding(item.get(), origin, ctx, 0)?;
                }
            }
            Err(e) => error_event(raw, origin, format!("not a list of findings: {e}"), ctx)?,
        }
        return Ok(());
    }
    emit_finding(raw, origin, ctx, 0)
}

fn emit_finding(
    raw: &str,
    origin: Origin,
    ctx: &mut Ctx<'_, '_>,
    depth: u8,
) -> Result<(), FormatError> {
    if !raw.starts_with('{') {
        return error_event(raw, origin, "a finding must be a JSON object".into(), ctx);
    }
    let finding = match serde_json::from_str::<Finding<'_>>(raw) {
        Ok(f) => f,
        Err(e) => {
            return error_event(
                raw,
                origin,
                format!("not a valid GuardDuty finding: {e}"),
                ctx,
            )
        }
    };
    if depth == 0 {
        if let Some(list) = finding.findings {
            return match serde_json::from_str::<Vec<&RawValue>>(list.get()) {
                Ok(items) if items.is_empty() => {
                    ctx.stats.skipped += 1;
                    Ok(())
                }
                Ok(items) => {
                    for item in items {
                        emit_finding(item.get(), origin, ctx, 1)?;
                    }
                    Ok(())
                }
                Err(e) => error_event(raw, origin, format!("\"findings\" is not a list: {e}"), ctx),
            };
        }
        if let (Some(detail), None) = (finding.detail, &finding.id) {
            return emit_finding(detail.get(), origin, ctx, 1);
        }
    }
    let mut ev = ParsedEvent::new(DATASET, raw);
    ev.offset = origin.offset;
    map_finding(finding, &mut ev);
    send(ctx.emit, &mut ctx.stats, ev)
}

/// GuardDuty's severity bands (Low 1.0–3.9, Medium 4.0–6.9, High 7.0–8.9,
/// Critical 9.0–10.0).
fn severity_label(code: f64) -> Option<&'static str> {
    match code {
        c if (1.0..4.0).contains(&c) => Some("Low"),
        c if (4.0..7.0).contains(&c) => Some("Medium"),
        c if (7.0..9.0).contains(&c) => Some("High"),
        c if (9.0..=10.0).contains(&c) => Some("Critical"),
        _ => None,
    }
}

fn map_finding<'a>(g: Finding<'a>, ev: &mut ParsedEvent<'a>) {
    ev.timestamp = g
        .updated_at
        .as_ref()
        .or(g.created_at.as_ref())
        .and_then(|t| iso8601_utc_cow(&t.0));
    let f = &mut ev.fields;
    f.str("event.kind", "alert");
    if let Some(sev) = g.severity.as_ref().and_then(Num::as_f64) {
        if sev.is_finite() {
            f.i64("event.severity", sev as i64);
            f.f64("aws.guardduty.severity.code", sev);
            if let Some(label) = severity_label(sev) {
                f.str("aws.guardduty.severity.value", label);
            }
        }
    }
    if let Some(c) = g.created_at.as_ref() {
        f.opt_cow("event.created", iso8601_utc_cow(&c.0));
        f.str("aws.guardduty.created_at", c.0.clone());
    }
    f.opt_cow("aws.guardduty.updated_at", json::present_ref(&g.updated_at));
    if let Some(t) = g.kind.as_ref() {
        let t = &t.0;
        f.str("rule.name", t.clone());
        // "Trojan:EC2/BlackholeTraffic!DNS": category "Trojan", ruleset "Trojan:EC2".
        if let Some((category, rest)) = t.split_once(':') {
            if let Some((platform, _)) = rest.split_once('/') {
                f.str(
                    "rule.ruleset",
                    sub(t, 0, category.len() + 1 + platform.len()),
                );
            }
            f.str("rule.category", sub(t, 0, category.len()));
        }
        f.str("aws.guardduty.type", t.clone());
    }
    f.opt_cow("message", json::present_ref(&g.description));
    f.opt_cow("cloud.account.id", json::present_ref(&g.account_id));
    f.opt_cow("cloud.region", json::present_ref(&g.region));
    f.opt_cow("aws.guardduty.account_id", json::present(g.account_id));
    f.opt_cow("aws.guardduty.region", json::present(g.region));
    f.opt_cow("aws.guardduty.partition", json::present(g.partition));
    f.opt_cow("aws.guardduty.id", json::present(g.id));
    f.opt_cow("aws.guardduty.arn", json::present(g.arn));
    f.opt_cow("aws.guardduty.title", json::present(g.title));
    f.opt_cow("aws.guardduty.description", json::present(g.description));
    f.opt_cow("aws.guardduty.schema_version", json::present(g.schema_version));
    opt_num(f, "aws.guardduty.confidence", g.confidence);
    if let Some(r) = g.resource {
        map_resource(r, f);
    }
    if let Some(s) = g.service {
        map_service(s, f);
    }
}

/// `s[from..to]` as a Cow borrowing when `s` does.
fn sub<'a>(s: &Cow<'a, str>, from: usize, to: usize) -> Cow<'a, str> {
    match s {
        Cow::Borrowed(b) => Cow::Borrowed(b.get(from..to).unwrap_or("")),
        Cow::Owned(o) => Cow::Owned(o.get(from..to).unwrap_or("").to_string()),
    }
}

fn map_resource<'a>(r: Resource<'a>, f: &mut Fields<'a>) {
    f.opt_cow("aws.guardduty.resource.type", json::present(r.resource_type));
    if let Some(raw) = r.instance_details {
        if let Ok(i) = serde_json::from_str::<InstanceDetails<'a>>(raw.get()) {
            f.opt_cow("cloud.instance.id", json::present_ref(&i.instance_id));
            f.opt_cow("host.id", json::present(i.instance_id));
            f.opt_cow("cloud.machine.type", json::present_ref(&i.instance_type));
            f.opt_cow("host.type", json::present(i.instance_type));
            f.opt_cow("cloud.availability_zone", json::present(i.availability_zone));
            f.opt_cow("cloud.image.id", json::present(i.image_id));
            f.opt_cow("host.os.platform", json::present(i.platform));
        }
    }
    let mut named_user = false;
    if let Some(raw) = r.access_key_details {
        if let Ok(a) = serde_json::from_str::<AccessKeyDetails<'a>>(raw.get()) {
            named_user = a.user_name.is_some();
            f.opt_cow("user.name", json::present(a.user_name));
            f.opt_cow("user.id", json::present(a.principal_id));
        }
    }
    if let Some(raw) = r.kubernetes_details {
        if !named_user {
            if let Ok(k) = serde_json::from_str::<KubernetesDetails<'a>>(raw.get()) {
                if let Some(u) = k.kubernetes_user_details {
                    f.opt_cow("user.name", json::present(u.username));
                    f.opt_cow("user.id", json::present(u.uid));
                }
            }
        }
    }
    let raws = [
        (
            "aws.guardduty.resource.instance_details",
            r.instance_details,
        ),
        (
            "aws.guardduty.resource.access_key_details",
            r.access_key_details,
        ),
        (
            "aws.guardduty.resource.s3_bucket_details",
            r.s3_bucket_details,
        ),
        (
            "aws.guardduty.resource.eks_cluster_details",
            r.eks_cluster_details,
        ),
        (
            "aws.guardduty.resource.kubernetes_details",
            r.kubernetes_details,
        ),
        (
            "aws.guardduty.resource.container_details",
            r.container_details,
        ),
        (
            "aws.guardduty.resource.ecs_cluster_details",
            r.ecs_cluster_details,
        ),
        (
            "aws.guardduty.resource.ebs_volume_details",
            r.ebs_volume_details,
        ),
        (
            "aws.guardduty.resource.rds_db_instance_details",
            r.rds_db_instance_details,
        ),
        (
            "aws.guardduty.resource.rds_db_user_details",
            r.rds_db_user_details,
        ),
        ("aws.guardduty.resource.lambda_details", r.lambda_details),
    ];
    for (path, raw) in raws {
        f.opt_raw(path, raw_nonempty(raw));
    }
}

fn map_service<'a>(s: Service<'a>, f: &mut Fields<'a>) {
    f.opt_cow("cloud.service.name", json::present_ref(&s.service_name));
    f.opt_cow(
        "aws.guardduty.service.service_name",
        json::present(s.service_name),
    );
    f.opt_cow(
        "aws.guardduty.service.detector_id",
        json::present(s.detector_id),
    );
    f.opt_cow(
        "aws.guardduty.service.resource_role",
        json::present(s.resource_role),
    );
    f.opt_cow(
        "aws.guardduty.service.feature_name",
        json::present(s.feature_name),
    );
    f.opt_cow(
        "aws.guardduty.service.user_feedback",
        json::present(s.user_feedback),
    );
    if let Some(a) = s.archived {
        f.bool("aws.guardduty.service.archived", a);
    }
    opt_num(f, "aws.guardduty.service.count", s.count);
    if let Some(t) = s.event_first_seen.as_ref() {
        f.opt_cow("event.start", iso8601_utc_cow(&t.0));
        f.str("aws.guardduty.service.event.first_seen", t.0.clone());
    }
    if let Some(t) = s.event_last_seen.as_ref() {
        f.opt_cow("event.end", iso8601_utc_cow(&t.0));
        f.str("aws.guardduty.service.event.last_seen", t.0.clone());
    }
    let raws = [
        ("aws.guardduty.service.action", s.action),
        ("aws.guardduty.service.additional_info", s.additional_info),
        ("aws.guardduty.service.evidence", s.evidence),
        ("aws.guardduty.service.runtime_details", s.runtime_details),
        (
            "aws.guardduty.service.ebs_volume_scan_details",
            s.ebs_volume_scan_details,
        ),
        ("aws.guardduty.service.detection", s.detection),
    ];
    for (path, raw) in raws {
        f.opt_raw(path, raw_nonempty(raw));
    }
    if let Some(raw) = s.action {
        if let Ok(a) = serde_json::from_str::<Action<'a>>(raw.get()) {
            map_action(a, f);
        }
    }
}

#[derive(Clone, Copy)]
enum Side {
    Source,
    Destination,
}

impl Side {
    fn ip(self) -> &'static str {
        match self {
            Side::Source => "source.ip",
            Side::Destination => "destination.ip",
        }
    }
    fn port(self) -> &'static str {
        match self {
            Side::Source => "source.port",
            Side::Destination => "destination.port",
        }
    }
}

/// The remote side's address, AS and geo (GuardDuty resolves them).
fn remote_fields<'a>(side: Side, r: IpDetails<'a>, f: &mut Fields<'a>) {
    f.opt_cow(side.ip(), r.ip());
    let (asn, org, country, country_name, city, lat, lon) = match side {
        Side::Source => (
            "source.as.number",
            "source.as.organization.name",
            "source.geo.country_iso_code",
            "source.geo.country_name",
            "source.geo.city_name",
            "source.geo.location.lat",
            "source.geo.location.lon",
        ),
        Side::Destination => (
            "destination.as.number",
            "destination.as.organization.name",
            "destination.geo.country_iso_code",
            "destination.geo.country_name",
            "destination.geo.city_name",
            "destination.geo.location.lat",
            "destination.geo.location.lon",
        ),
    };
    if let Some(o) = r.organization {
        opt_num(f, asn, o.asn);
        f.opt_cow(org, json::present(o.asn_org));
    }
    if let Some(c) = r.country {
        f.opt_cow(country, json::present(c.country_code));
        f.opt_cow(country_name, json::present(c.country_name));
    }
    if let Some(c) = r.city {
        f.opt_cow(city, json::present(c.city_name));
    }
    if let Some(g) = r.geo_location {
        if let (Some(la), Some(lo)) = (
            g.lat.as_ref().and_then(Num::as_f64),
            g.lon.as_ref().and_then(Num::as_f64),
        ) {
            f.f64(lat, la);
            f.f64(lon, lo);
        }
    }
}

fn transport<'a>(protocol: Option<Text<'a>>, f: &mut Fields<'a>) {
    if let Some(p) = protocol {
        if !p.0.is_empty() && p.0.bytes().all(|b| b.is_ascii_digit()) {
            if let Ok(n) = p.0.parse::<u64>() {
                f.u64("network.iana_number", n);
            }
        } else {
            f.opt_cow("network.transport", Some(json::lowercase(p.0)));
        }
    }
}

fn map_action<'a>(a: Action<'a>, f: &mut Fields<'a>) {
    f.opt_cow("event.action", json::present(a.action_type));
    if let Some(n) = a.network_connection_action {
        let direction = n.connection_direction.map(|d| json::lowercase(d.0));
        let (local, remote) = match direction.as_deref() {
            Some("inbound") => (Some(Side::Destination), Some(Side::Source)),
            Some("outbound") => (Some(Side::Source), Some(Side::Destination)),
            _ => (None, None),
        };
        f.opt_cow("network.direction", direction);
        if let (Some(side), Some(ip)) = (local, n.local_ip_details) {
            f.opt_cow(side.ip(), ip.ip());
        }
        if let (Some(side), Some(ip)) = (remote, n.remote_ip_details) {
            remote_fields(side, ip, f);
        }
        if let (Some(side), Some(p)) = (local, n.local_port_details.and_then(|p| p.port)) {
            opt_num(f, side.port(), Some(p));
        }
        if let (Some(side), Some(p)) = (remote, n.remote_port_details.and_then(|p| p.port)) {
            opt_num(f, side.port(), Some(p));
        }
        transport(n.protocol, f);
        if let Some(b) = n.blocked {
            f.bool("aws.guardduty.action.blocked", b);
        }
    }
    if let Some(d) = a.dns_request_action {
        f.opt_cow("dns.question.name", json::present(d.domain));
        transport(d.protocol, f);
        if let Some(b) = d.blocked {
            f.bool("aws.guardduty.action.blocked", b);
        }
    }
    if let Some(c) = a.aws_api_call_action {
        f.opt_cow("event.provider", json::present(c.service_name));
        f.opt_cow("aws.guardduty.action.api", json::present(c.api));
        f.opt_cow("user_agent.original", json::present(c.user_agent));
        if let Some(r) = c.remote_ip_details {
            remote_fields(Side::Source, r, f);
        }
    }
    for c in [a.kubernetes_api_call_action, a.rds_login_attempt_action]
        .into_iter()
        .flatten()
    {
        f.opt_cow("user_agent.original", json::present(c.user_agent));
        if let Some(r) = c.remote_ip_details {
            remote_fields(Side::Source, r, f);
        }
    }
    if let Some(p) = a.port_probe_action {
        if let Some(b) = p.blocked {
            f.bool("aws.guardduty.action.blocked", b);
        }
        // The first probe stands for the finding; all of them are in
        // aws.guardduty.service.action.
        if let Some(d) = p.port_probe_details.and_then(|v| v.into_iter().next()) {
            if let Some(r) = d.remote_ip_details {
                remote_fields(Side::Source, r, f);
            }
            opt_num(
                f,
                "destination.port",
                d.local_port_details.and_then(|p| p.port),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::formats::testing::{bad_line_between_good_ones, run, Owned};
    use crate::formats::{Format, FormatError};

    /// Five findings and an empty `{"findings":[]}` from elastic/integrations
    /// (see tests/data/guardduty/SOURCES.md).
    const ELASTIC: &str = include_str!("../../tests/data/guardduty/elastic-test-guardduty.log");
    /// An outbound NetworkConnectionAction sample finding (same source).
    const NETWORK: &str = include_str!("../../tests/data/guardduty/network-connection.log");

    fn one(input: &str) -> Owned {
        let (evs, _) = run(Format::GuardDuty, input.as_bytes(), 1 << 20).unwrap();
        assert_eq!(evs.len(), 1, "{evs:?}");
        evs.into_iter().next().unwrap()
    }

    #[test]
    fn elastic_samples_match_elastics_key_fields() {
        let (evs, stats) = run(Format::GuardDuty, ELASTIC.as_bytes(), 1 << 20).unwrap();
        assert_eq!(stats.events, 5);
        assert_eq!(stats.errors, 0);
        assert_eq!(stats.skipped, 1, "the empty findings list");
        let e = &evs[0];
        // Expected values from test-guardduty.log-expected.json.
        let want = [
            ("event.kind", "alert"),
            ("event.severity", "5"),
            ("event.action", "DNS_REQUEST"),
            ("event.created", "2022-11-17T09:33:19.224Z"),
            ("event.start", "2022-11-17T09:33:19.000Z"),
            ("event.end", "2022-11-22T12:22:20.000Z"),
            ("aws.guardduty.severity.code", "5"),
            ("aws.guardduty.severity.value", "Medium"),
            ("aws.guardduty.id", "d6012345678912345678912349f831b8f"),
            ("aws.guardduty.type", "Trojan:EC2/BlackholeTraffic!DNS"),
            ("aws.guardduty.resource.type", "Instance"),
            (
                "aws.guardduty.service.detector_id",
                "d60123456789e5461eabcd1234abcd1234",
            ),
            ("aws.guardduty.service.count", "2"),
            ("aws.guardduty.service.archived", "false"),
            ("aws.guardduty.action.blocked", "true"),
            (
                "aws.guardduty.title",
                "Blackholed domain name queried by EC2 instance i-99999999.",
            ),
            (
                "message",
                "EC2 instance i-99999999 is querying a domain name of a blackholed domain.",
            ),
            ("rule.name", "Trojan:EC2/BlackholeTraffic!DNS"),
            ("rule.ruleset", "Trojan:EC2"),
            ("rule.category", "Trojan"),
            ("cloud.account.id", "123412341234"),
            ("cloud.region", "us-east-1"),
            ("cloud.instance.id", "i-99999999"),
            ("cloud.machine.type", "m3.xlarge"),
            ("cloud.service.name", "guardduty"),
            ("host.id", "i-99999999"),
            ("dns.question.name", "GeneratedFindingDomainName"),
            ("network.transport", "udp"),
        ];
        for (path, value) in want {
            assert_eq!(e.field(path), Some(value), "{path}");
        }
        assert_eq!(e.timestamp.as_deref(), Some("2022-11-22T12:22:20.934Z"));
        assert!(e
            .field("aws.guardduty.resource.instance_details")
            .unwrap()
            .contains("eni-abcdef888"));
        assert!(e.field("aws.guardduty.service.evidence").is_some());

        let k8s = &evs[1];
        assert_eq!(k8s.field("event.severity"), Some("8"));
        assert_eq!(k8s.field("aws.guardduty.severity.value"), Some("High"));
        assert_eq!(k8s.field("user.name"), Some("system:anonymous"));
        assert_eq!(k8s.field("user.id"), Some("GeneratedFindingUID"));
        assert_eq!(k8s.field("source.ip"), Some("175.16.199.1"));
        assert_eq!(k8s.field("source.as.number"), Some("0"));
        assert_eq!(
            k8s.field("source.geo.country_name"),
            Some("GeneratedFindingCountryName")
        );
        assert_eq!(k8s.field("rule.ruleset"), Some("Persistence:Kubernetes"));
        assert_eq!(
            k8s.field("aws.guardduty.service.evidence"),
            None,
            "null is absent"
        );

        let access_key = &evs[2];
        assert_eq!(
            access_key.field("user.name"),
            Some("GeneratedFindingUserName")
        );
        assert_eq!(
            access_key.field("user.id"),
            Some("GeneratedFindingPrincipalId")
        );

        let rds = &evs[3];
        assert_eq!(rds.field("event.action"), Some("RDS_LOGIN_ATTEMPT"));
        assert!(rds
            .field("aws.guardduty.resource.rds_db_user_details")
            .is_some());

        let runtime = &evs[4];
        assert_eq!(runtime.field("event.action"), None, "empty action");
        assert_eq!(runtime.field("aws.guardduty.service.action"), None);
        assert!(runtime
            .field("aws.guardduty.service.runtime_details")
            .is_some());
        assert_eq!(runtime.field("cloud.availability_zone"), Some("us-west-1b"));
        assert!(evs
            .iter()
            .all(|e| e.dataset == "aws.guardduty" && e.offset.is_some()));
    }

    #[test]
    fn network_connection_sides_follow_the_direction() {
        // Outbound: the real sample finding (the instance connects out).
        let out = one(NETWORK);
        let want = [
            ("network.direction", "outbound"),
            ("source.ip", "10.0.0.23"),
            ("source.port", "32794"),
            ("destination.ip", "81.2.69.144"),
            ("destination.port", "5985"),
            ("destination.as.number", "-1"),
            ("destination.geo.city_name", "GeneratedFindingCityName"),
            ("network.transport", "tcp"),
            ("event.action", "NETWORK_CONNECTION"),
            ("aws.guardduty.action.blocked", "false"),
            ("aws.guardduty.severity.value", "Low"),
        ];
        for (path, value) in want {
            assert_eq!(out.field(path), Some(value), "{path}");
        }
        // Inbound (hand-made, shaped like the sample): the remote side is the source.
        let inbound = one(
            r#"{"id":"in","severity":9.5,"service":{"action":{"actionType":"NETWORK_CONNECTION","networkConnectionAction":{"connectionDirection":"INBOUND","localIpDetails":{"ipAddressV4":"10.0.0.23"},"remoteIpDetails":{"ipAddressV4":"198.51.100.7","country":{"countryCode":"SE"}},"localPortDetails":{"port":22},"remotePortDetails":{"port":40000},"protocol":"6"}}}}"#,
        );
        let want = [
            ("network.direction", "inbound"),
            ("source.ip", "198.51.100.7"),
            ("source.port", "40000"),
            ("source.geo.country_iso_code", "SE"),
            ("destination.ip", "10.0.0.23"),
            ("destination.port", "22"),
            ("network.iana_number", "6"),
            ("aws.guardduty.severity.value", "Critical"),
            ("event.severity", "9"),
        ];
        for (path, value) in want {
            assert_eq!(inbound.field(path), Some(value), "{path}");
        }
        assert_eq!(inbound.field("network.transport"), None);
    }

    #[test]
    fn other_shapes_of_findings_are_accepted() {
        let finding = r#"{"id":"a","type":"Recon:EC2/PortProbeUnprotectedPort","severity":2,"updatedAt":"2026-01-02T03:04:05.5+01:00"}"#;
        let cases = [
            ("json lines", format!("{finding}\n{finding}\n"), 2),
            ("concatenated", format!("{finding}{finding}\n"), 2),
            ("array on one line", format!("[{finding},{finding}]"), 2),
            ("api wrapper", format!("{{\"findings\":[{finding},{finding}]}}"), 2),
            (
                "eventbridge",
                format!("{{\"version\":\"0\",\"detail-type\":\"GuardDuty Finding\",\"source\":\"aws.guardduty\",\"detail\":{finding}}}"),
                1,
            ),
            ("pretty printed", serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(finding).unwrap()).unwrap(), 1),
            (
                "pretty printed array",
                format!("[\n  {finding},\n  {finding}\n]\n"),
                2,
            ),
        ];
        for (name, input, n) in cases {
            let (evs, stats) = run(Format::GuardDuty, input.as_bytes(), 1 << 20).unwrap();
            assert_eq!(evs.len(), n, "{name}");
            assert_eq!(stats.errors, 0, "{name}: {evs:?}");
            for e in &evs {
                assert_eq!(e.field("aws.guardduty.id"), Some("a"), "{name}");
                assert_eq!(
                    e.timestamp.as_deref(),
                    Some("2026-01-02T02:04:05.5Z"),
                    "{name}"
                );
                assert_eq!(
                    e.field("aws.guardduty.severity.value"),
                    Some("Low"),
                    "{name}"
                );
                assert_eq!(e.field("rule.ruleset"), Some("Recon:EC2"), "{name}");
            }
        }
    }

    #[test]
    fn created_at_is_the_time_when_updated_at_is_missing() {
        let e = one(r#"{"id":"x","createdAt":"2026-03-01T00:00:00Z","severity":"7.5"}"#);
        assert_eq!(e.timestamp.as_deref(), Some("2026-03-01T00:00:00Z"));
        assert_eq!(e.field("event.severity"), Some("7"));
        assert_eq!(e.field("aws.guardduty.severity.code"), Some("7.5"));
    }

    #[test]
    fn malformed_lines_become_error_events_and_the_rest_is_kept() {
        let good = r#"{"id":"ok","severity":1}"#;
        let cases: [(&str, &[u8], &str); 6] = [
            ("not json", b"not json", "not valid JSON"),
            ("truncated", br#"{"id":"cut","seve"#, "not valid JSON"),
            (
                "wrong type",
                br#"{"id":{"nested":1}}"#,
                "not a valid GuardDuty finding",
            ),
            ("not an object", b"42", "must be a JSON object"),
            ("invalid utf-8", b"{\"id\":\"\xff\"}", "not valid UTF-8"),
            ("findings not a list", br#"{"findings":3}"#, "not a list"),
        ];
        for (name, bad, why) in cases {
            let evs = bad_line_between_good_ones(Format::GuardDuty, good, bad, why, name);
            assert!(!evs[1].original.is_empty(), "{name}");
            assert_eq!(evs[2].field("aws.guardduty.id"), Some("ok"), "{name}");
        }
    }

    #[test]
    fn a_broken_pretty_printed_file_is_malformed() {
        let input = "{\n  \"id\": \"a\",\n  \"severity\": \n";
        assert!(matches!(
            run(Format::GuardDuty, input.as_bytes(), 1 << 20),
            Err(FormatError::Malformed(_))
        ));
    }

    #[test]
    fn line_too_long_bubbles_up() {
        let input = format!("{{\"id\":\"{}\"}}\n", "x".repeat(100));
        assert!(matches!(
            run(Format::GuardDuty, input.as_bytes(), 50),
            Err(FormatError::LineTooLong { line: 1, .. })
        ));
    }

}
