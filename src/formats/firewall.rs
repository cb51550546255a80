//! AWS Network Firewall logs (alert, flow and TLS logs): JSON lines, one
//! Suricata EVE event per line under `event`, wrapped with `firewall_name`,
//! `availability_zone` and `event_timestamp` (epoch seconds, a string).
//!
//! Mapped like Elastic's `aws.firewall_logs`: `@timestamp` from
//! `event.timestamp` (Suricata's `+0000` offset normalized to `Z`; else
//! `event_timestamp`), `source.*`/`destination.*`, `network.transport` in
//! lowercase, `network.protocol` = `app_proto`, `event.kind` (`alert`, or
//! `event` for netflow), `event.action` = the alert action, `rule.*`,
//! `event.severity`, `observer.*`, HTTP and TLS fields, and the flow under
//! `aws.firewall.flow.*` (also as `network.bytes`/`network.packets` and
//! `event.start`/`event.end`).
//!
//! TLS `subject`/`issuerdn` become `tls.server.subject`/`issuer` (Network
//! Firewall repeats those keys within one object, with the same value:
//! they count once). Where ECS changes a value, the source's is kept
//! beside it (`aws.firewall.proto`, `aws.firewall.http.protocol`,
//! `aws.firewall.tls.version`, `aws.firewall.tls.serial`, and
//! `aws.firewall.event_timestamp` when `event.timestamp` is @timestamp);
//! members no mapping names keep their names under `aws.firewall.*` (of
//! the wrapper and the EVE event) and `aws.firewall.<object>.*` (of
//! `alert`, `netflow` as `flow`, `http`, `tls`, `tcp`).

use std::borrow::Cow;
use std::net::IpAddr;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::detect::has;
use super::json::{self, Object, Num, OptText, Text, json_str, lowercase, opt_num, push_json};
use super::time::{iso8601_utc_cow, seconds_rfc3339};
use super::framing::LineRecord;
use crate::record::{FieldValue, Fields, ParsedEvent};

pub const DATASET: &str = "aws.firewall";

/// The field paths its events can have, besides the record writer's own
/// (see `FormatDef::fields`).
pub const FIELDS: &[&str] = &[
    "aws.firewall.*",
    "aws.firewall.alert",
    "aws.firewall.alert.*",
    "aws.firewall.alert.signature_id",
    "aws.firewall.app_proto",
    "aws.firewall.event_timestamp",
    "aws.firewall.event_type",
    "aws.firewall.flow",
    "aws.firewall.flow.*",
    "aws.firewall.flow.age",
    "aws.firewall.flow.bytes",
    "aws.firewall.flow.end",
    "aws.firewall.flow.id",
    "aws.firewall.flow.max_ttl",
    "aws.firewall.flow.min_ttl",
    "aws.firewall.flow.pkts",
    "aws.firewall.flow.start",
    "aws.firewall.http",
    "aws.firewall.http.*",
    "aws.firewall.http.protocol",
    "aws.firewall.proto",
    "aws.firewall.tcp",
    "aws.firewall.tcp.*",
    "aws.firewall.tcp_flags",
    "aws.firewall.tcp_flags_array",
    "aws.firewall.tls",
    "aws.firewall.tls.*",
    "aws.firewall.tls.ja3",
    "aws.firewall.tls.ja3.*",
    "aws.firewall.tls.ja3s",
    "aws.firewall.tls.ja3s.*",
    "aws.firewall.tls.notafter",
    "aws.firewall.tls.notbefore",
    "aws.firewall.tls.serial",
    "aws.firewall.tls.version",
    "cloud.availability_zone",
    "cloud.region",
    "destination.address",
    "destination.domain",
    "destination.ip",
    "destination.port",
    "event.action",
    "event.category",
    "event.end",
    "event.kind",
    "event.severity",
    "event.start",
    "event.type",
    "http.request.method",
    "http.response.status_code",
    "http.version",
    "network.bytes",
    "network.packets",
    "network.protocol",
    "network.transport",
    "network.type",
    "observer.name",
    "observer.product",
    "observer.type",
    "observer.vendor",
    "rule.category",
    "rule.id",
    "rule.name",
    "rule.version",
    "source.address",
    "source.ip",
    "source.port",
    "tls.client.ja3",
    "tls.client.server_name",
    "tls.server.issuer",
    "tls.server.ja3s",
    "tls.server.subject",
    "tls.server.x509.not_after",
    "tls.server.x509.not_before",
    "tls.server.x509.serial_number",
    "tls.version",
    "tls.version_protocol",
    "url.original",
    "url.path",
    "url.query",
    "user_agent.original",
];

#[derive(Deserialize)]
struct Log<'a> {
    #[serde(borrow, default)]
    firewall_name: OptText<'a>,
    #[serde(borrow, default)]
    availability_zone: OptText<'a>,
    #[serde(default)]
    event_timestamp: Option<Num>,
    #[serde(borrow, default)]
    event: Option<&'a RawValue>,
}

/// Suricata's EVE event; the nested objects are read member by member
/// ([`Object`]), so that members not named here are kept.
#[derive(Deserialize)]
struct Eve<'a> {
    #[serde(borrow, default)]
    timestamp: OptText<'a>,
    #[serde(default)]
    flow_id: Option<Num>,
    #[serde(borrow, default)]
    event_type: OptText<'a>,
    #[serde(borrow, default)]
    src_ip: OptText<'a>,
    #[serde(default)]
    src_port: Option<Num>,
    #[serde(borrow, default)]
    dest_ip: OptText<'a>,
    #[serde(default)]
    dest_port: Option<Num>,
    #[serde(borrow, default)]
    proto: OptText<'a>,
    #[serde(borrow, default)]
    app_proto: OptText<'a>,
    #[serde(borrow, default)]
    alert: Option<&'a RawValue>,
    #[serde(borrow, default)]
    netflow: Option<&'a RawValue>,
    #[serde(borrow, default)]
    http: Option<&'a RawValue>,
    #[serde(borrow, default)]
    tls: Option<&'a RawValue>,
    #[serde(borrow, default)]
    tcp: Option<&'a RawValue>,
}

/// The leaves this module writes under `aws.firewall.`: an unmapped member
/// (of the wrapper or of the EVE event) by one of these names is renamed
/// (see [`json::keep`]).
const WRITTEN: &[&str] = &[
    "event_timestamp",
    "event_type",
    "proto",
    "app_proto",
    "alert",
    "flow",
    "http",
    "tls",
    "tcp",
    "tcp_flags",
    "tcp_flags_array",
];

/// A Network Firewall entry has `firewall_name` and an `event`.
pub fn sniff(line: &[u8]) -> bool {
    has(line, "\"firewall_name\"") && has(line, "\"event\"")
}

/// One JSON object a line.
pub struct FirewallRecord;

impl LineRecord for FirewallRecord {
    const DATASET: &'static str = DATASET;
    const WHAT: &'static str = "a valid Network Firewall log record";
    const JSON_OBJECT: bool = true;
    type Scratch = Vec<u8>;

    fn map<'a>(
        line: &'a str,
        scratch: &'a mut Vec<u8>,
        ev: &mut ParsedEvent<'a>,
    ) -> Result<(), String> {
        let (log, mut unmapped): (Log<'a>, _) =
            json::from_str_keeping(line, WRITTEN).map_err(|e| e.to_string())?;
        let f = &mut ev.fields;
        f.str("observer.type", "firewall");
        f.str("observer.vendor", "AWS");
        f.str("observer.product", "Network Firewall");
        f.opt_cow("observer.name", json::present(log.firewall_name));
        if let Some(az) = json::present(log.availability_zone) {
            // "us-east-2a" -> region "us-east-2".
            let region = az.trim_end_matches(|c: char| c.is_ascii_lowercase());
            if region.len() < az.len() && region.ends_with(|c: char| c.is_ascii_digit()) {
                f.str("cloud.region", region.to_string());
            }
            f.str("cloud.availability_zone", az);
        }
        let fallback_time = log
            .event_timestamp
            .as_ref()
            .and_then(Num::as_i64)
            .and_then(seconds_rfc3339)
            .map(Cow::Owned);
        let Some(event) = log.event else {
            ev.timestamp = fallback_time;
            ev.fields.members("aws.firewall.*", unmapped);
            return Ok(());
        };
        let (e, eve_unmapped): (Eve<'a>, _) =
            json::from_str_keeping(event.get(), WRITTEN).map_err(|e| format!("event: {e}"))?;
        for (name, value) in eve_unmapped {
            json::keep(&mut unmapped, name, value, WRITTEN);
        }
        ev.timestamp = match e.timestamp.as_ref().and_then(|t| iso8601_utc_cow(&t.0)) {
            Some(t) => {
                // The wrapper's time is not @timestamp then: kept as written.
                opt_num(
                    &mut ev.fields,
                    "aws.firewall.event_timestamp",
                    log.event_timestamp,
                );
                Some(t)
            }
            None => fallback_time,
        };
        let f = &mut ev.fields;
        f.members("aws.firewall.*", unmapped);
        f.push("event.category", FieldValue::Json(r#"["network"]"#));
        let event_type = json::present(e.event_type);
        let kind = match event_type.as_deref() {
            Some("alert") => "alert",
            _ => "event",
        };
        f.str("event.kind", kind);
        if let Some(mut a) = object(f, "aws.firewall.alert", e.alert) {
            let action = json::present(a.take("action"));
            f.push(
                "event.type",
                FieldValue::Json(match action.as_deref() {
                    Some("blocked") => r#"["connection","denied"]"#,
                    Some("allowed") => r#"["connection","allowed"]"#,
                    _ => r#"["connection"]"#,
                }),
            );
            f.opt_cow("event.action", action);
            if let Some(id) = a.take::<Num>("signature_id") {
                opt_num(f, "aws.firewall.alert.signature_id", Some(id));
                let id = match id {
                    Num::U(n) => n.to_string(),
                    Num::I(n) => n.to_string(),
                    Num::F(n) => n.to_string(),
                };
                f.str("rule.id", id);
            }
            f.opt_cow("rule.name", json::present(a.take("signature")));
            f.opt_cow("rule.category", json::present(a.take("category")));
            if let Some(rev) = a.take::<Num>("rev").as_ref().and_then(Num::as_u64) {
                f.str("rule.version", rev.to_string());
            }
            if let Some(sev) = a.take::<Num>("severity").as_ref().and_then(Num::as_i64) {
                f.i64("event.severity", sev);
            }
            f.members("aws.firewall.alert.*", a.rest());
        } else {
            f.push("event.type", FieldValue::Json(r#"["connection"]"#));
        }
        f.opt_cow("aws.firewall.event_type", event_type);
        let src_is_ip = ip_field(f, "source.ip", "source.address", e.src_ip);
        ip_field(f, "destination.ip", "destination.address", e.dest_ip);
        if src_is_ip {
            let v6 = matches!(f.get("source.ip"), Some(FieldValue::Str(s)) if s.contains(':'));
            f.str("network.type", if v6 { "ipv6" } else { "ipv4" });
        }
        opt_num(f, "source.port", e.src_port);
        opt_num(f, "destination.port", e.dest_port);
        if let Some(p) = json::present(e.proto) {
            let lower = lowercase(p.clone());
            if lower != p {
                f.str("aws.firewall.proto", p);
            }
            f.str("network.transport", lower);
        }
        match json::present(e.app_proto) {
            // Suricata could not tell: no protocol, but the word is kept.
            Some(p) if p == "failed" => f.str("aws.firewall.app_proto", p),
            Some(p) => f.str("network.protocol", p),
            None => {}
        }
        if let Some(id) = e.flow_id.as_ref().and_then(Num::as_u64) {
            f.str("aws.firewall.flow.id", id.to_string());
        }
        if let Some(mut n) = object(f, "aws.firewall.flow", e.netflow) {
            let (pkts, bytes) = (n.take::<Num>("pkts"), n.take::<Num>("bytes"));
            opt_num(f, "network.packets", pkts);
            opt_num(f, "network.bytes", bytes);
            opt_num(f, "aws.firewall.flow.pkts", pkts);
            opt_num(f, "aws.firewall.flow.bytes", bytes);
            opt_num(f, "aws.firewall.flow.age", n.take("age"));
            opt_num(f, "aws.firewall.flow.min_ttl", n.take("min_ttl"));
            opt_num(f, "aws.firewall.flow.max_ttl", n.take("max_ttl"));
            if let Some(s) = n.take::<Text>("start") {
                f.opt_cow("event.start", iso8601_utc_cow(&s.0));
                f.str("aws.firewall.flow.start", s.0);
            }
            if let Some(s) = n.take::<Text>("end") {
                f.opt_cow("event.end", iso8601_utc_cow(&s.0));
                f.str("aws.firewall.flow.end", s.0);
            }
            f.members("aws.firewall.flow.*", n.rest());
        }
        if let Some(mut h) = object(f, "aws.firewall.http", e.http) {
            f.opt_cow("destination.domain", json::present(h.take("hostname")));
            if let Some(url) = json::present(h.take("url")) {
                let path = url.split(['?', '#']).next().unwrap_or("").to_string();
                if let Some((_, query)) = url.split_once('?') {
                    let query = query.split('#').next().unwrap_or("");
                    if !query.is_empty() {
                        f.str("url.query", query.to_string());
                    }
                }
                if !path.is_empty() {
                    f.str("url.path", path);
                }
                f.str("url.original", url);
            }
            f.opt_cow("http.request.method", json::present(h.take("http_method")));
            f.opt_cow("user_agent.original", json::present(h.take("http_user_agent")));
            if let Some(p) = json::present(h.take("protocol")) {
                // "HTTP/1.1" -> http.version "1.1"; the protocol kept as written.
                if let Some(v) = p.strip_prefix("HTTP/") {
                    f.str("http.version", v.to_string());
                }
                f.str("aws.firewall.http.protocol", p);
            }
            opt_num(f, "http.response.status_code", h.take("status"));
            f.members("aws.firewall.http.*", h.rest());
        }
        if let Some(mut t) = object(f, "aws.firewall.tls", e.tls) {
            if let Some(sni) = json::present(t.take("sni")) {
                f.str("destination.domain", sni.clone());
                f.str("tls.client.server_name", sni);
            }
            f.opt_cow("tls.server.subject", json::present(t.take("subject")));
            f.opt_cow("tls.server.issuer", json::present(t.take("issuerdn")));
            if let Some(v) = json::present(t.take("version")) {
                // "TLS 1.2" -> tls.version_protocol "tls", tls.version "1.2";
                // the version kept as written.
                if let Some((proto, version)) = v.split_once(' ').filter(|_| v != "UNDETERMINED") {
                    f.str("tls.version_protocol", proto.to_ascii_lowercase());
                    f.str("tls.version", version.to_string());
                }
                f.str("aws.firewall.tls.version", v);
            }
            if let Some(serial) = json::present(t.take("serial")) {
                // ECS's serial is hex without colons; kept as written too.
                f.str("tls.server.x509.serial_number", serial.replace(':', ""));
                f.str("aws.firewall.tls.serial", serial);
            }
            // Suricata's validity times have no zone; they are UTC.
            if let Some(time) = t.take::<Text>("notbefore") {
                match iso8601_utc_cow(&time.0) {
                    Some(utc) => f.str("tls.server.x509.not_before", utc),
                    None => f.str("aws.firewall.tls.notbefore", time.0),
                }
            }
            if let Some(time) = t.take::<Text>("notafter") {
                match iso8601_utc_cow(&time.0) {
                    Some(utc) => f.str("tls.server.x509.not_after", utc),
                    None => f.str("aws.firewall.tls.notafter", time.0),
                }
            }
            if let Some(mut ja3) = object(f, "aws.firewall.tls.ja3", t.take("ja3")) {
                f.opt_cow("tls.client.ja3", json::present(ja3.take("hash")));
                f.members("aws.firewall.tls.ja3.*", ja3.rest());
            }
            if let Some(mut ja3s) = object(f, "aws.firewall.tls.ja3s", t.take("ja3s")) {
                f.opt_cow("tls.server.ja3s", json::present(ja3s.take("hash")));
                f.members("aws.firewall.tls.ja3s.*", ja3s.rest());
            }
            f.members("aws.firewall.tls.*", t.rest());
        }
        let mut tcp = object(f, "aws.firewall.tcp", e.tcp).unwrap_or_default();
        let tcp_flags = json::present(tcp.take("tcp_flags"));
        f.members("aws.firewall.tcp.*", tcp.rest());
        if let Some(flags) = tcp_flags {
            // Suricata writes the flags as hex ("1b").
            if let Ok(bits) = u8::from_str_radix(&flags, 16) {
                const NAMES: [&str; 8] = ["fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr"];
                scratch.push(b'[');
                let mut first = true;
                for (i, name) in NAMES.iter().enumerate() {
                    if bits & (1 << i) != 0 {
                        if !first {
                            scratch.push(b',');
                        }
                        first = false;
                        json_str(scratch, name);
                    }
                }
                scratch.push(b']');
                let scratch: &'a Vec<u8> = scratch;
                push_json(f, "aws.firewall.tcp_flags_array", scratch);
            }
            f.str("aws.firewall.tcp_flags", flags);
        }
        Ok(())
    }
}


fn ip_field<'a>(f: &mut Fields<'a>, ip: &'static str, address: &'static str, v: OptText<'a>) -> bool {
    match json::present(v) {
        Some(a) if a.parse::<IpAddr>().is_ok() => {
            f.str(ip, a);
            true
        }
        Some(a) => {
            f.str(address, a);
            false
        }
        None => false,
    }
}

/// A nested object to read member by member; a value that is not an
/// object is kept whole at `path`.
fn object<'a>(
    f: &mut Fields<'a>,
    path: &'static str,
    raw: Option<&'a RawValue>,
) -> Option<Object<'a>> {
    let raw = raw?;
    let members = Object::of(raw);
    if members.is_none() {
        f.raw(path, raw);
    }
    members
}


#[cfg(test)]
mod tests {
    use crate::formats::testing::{bad_line_between_good_ones, run};
    use crate::formats::Format;

    /// Alert (HTTP), netflow and alert (TLS) lines from elastic/integrations
    /// (tests/data/firewall/SOURCES.md).
    const ELASTIC: &str = include_str!("../../tests/data/firewall/elastic-test-firewall.log");

    #[test]
    fn elastic_samples_map_to_elastics_fields() {
        let (evs, stats) = run(Format::NetworkFirewall, ELASTIC.as_bytes(), 1 << 20).unwrap();
        assert_eq!((stats.events, stats.errors), (3, 0), "{evs:?}");
        let alert = &evs[0];
        // From test-firewall.log-expected.json (Elastic cuts to milliseconds; we keep microseconds).
        let want = [
            ("source.ip", "81.2.69.143"),
            ("source.port", "51254"),
            ("destination.ip", "216.160.83.57"),
            ("destination.port", "80"),
            ("destination.domain", "216.160.83.57"),
            ("rule.id", "1000003"),
            ("rule.name", "Deny all other TCP traffic"),
            ("event.severity", "3"),
            ("event.kind", "alert"),
            ("event.action", "blocked"),
            ("event.type", r#"["connection","denied"]"#),
            ("network.transport", "tcp"),
            ("network.protocol", "http"),
            ("network.type", "ipv4"),
            ("cloud.availability_zone", "us-east-2a"),
            ("cloud.region", "us-east-2"),
            ("observer.name", "AWSNetworkFirewall"),
            ("observer.product", "Network Firewall"),
            ("http.request.method", "GET"),
            ("http.version", "1.1"),
            ("url.path", "/"),
            ("url.original", "/"),
            ("aws.firewall.flow.id", "706471429191862"),
        ];
        for (path, value) in want {
            assert_eq!(alert.field(path), Some(value), "{path}");
        }
        assert!(alert
            .field("user_agent.original")
            .unwrap()
            .contains("Chrome/95.0.4638.69"));
        assert_eq!(alert.field("rule.category"), None, "empty category");
        assert_eq!(
            alert.timestamp.as_deref(),
            Some("2021-11-08T14:22:12.637611Z")
        );

        let flow = &evs[1];
        let want = [
            ("event.kind", "event"),
            ("event.type", r#"["connection"]"#),
            ("network.packets", "1"),
            ("network.bytes", "40"),
            ("aws.firewall.flow.pkts", "1"),
            ("aws.firewall.flow.bytes", "40"),
            ("aws.firewall.flow.age", "0"),
            ("aws.firewall.flow.min_ttl", "221"),
            ("aws.firewall.flow.max_ttl", "221"),
            ("aws.firewall.flow.start", "2021-11-08T18:18:11.990632+0000"),
            ("aws.firewall.flow.id", "625409144331688"),
            ("aws.firewall.tcp_flags", "02"),
            ("aws.firewall.tcp_flags_array", r#"["syn"]"#),
            ("event.start", "2021-11-08T18:18:11.990632Z"),
            ("destination.port", "5060"),
        ];
        for (path, value) in want {
            assert_eq!(flow.field(path), Some(value), "{path}");
        }
        assert_eq!(flow.field("event.action"), None);
        assert_eq!(flow.field("network.protocol"), None);

        let tls = &evs[2];
        let want = [
            ("event.action", "allowed"),
            ("event.type", r#"["connection","allowed"]"#),
            ("tls.client.server_name", "sqs.eu-central-1.amazonaws.com"),
            ("destination.domain", "sqs.eu-central-1.amazonaws.com"),
            ("tls.version", "1.2"),
            ("tls.version_protocol", "tls"),
            (
                "tls.server.x509.serial_number",
                "08C97668CB30311CB224A4B322F01629",
            ),
            ("tls.server.x509.not_before", "2022-11-03T00:00:00Z"),
            ("tls.server.x509.not_after", "2023-10-16T23:59:59Z"),
            ("network.protocol", "tls"),
            ("cloud.region", "eu-central-1"),
            ("rule.id", "4"),
            ("rule.version", "0"),
        ];
        for (path, value) in want {
            assert_eq!(tls.field(path), Some(value), "{path}");
        }
        assert_eq!(
            tls.timestamp.as_deref(),
            Some("2023-01-20T14:35:18.307095Z")
        );
    }

    #[test]
    fn source_values_ecs_changes_and_unnamed_members_are_kept() {
        let (evs, _) = run(Format::NetworkFirewall, ELASTIC.as_bytes(), 1 << 20).unwrap();
        let want = [
            ("aws.firewall.proto", "TCP"),
            ("aws.firewall.event_timestamp", "1636381332"),
            ("aws.firewall.http.protocol", "HTTP/1.1"),
            ("aws.firewall.http.*", r#"{"length":0}"#),
        ];
        for (path, value) in want {
            assert_eq!(evs[0].field(path), Some(value), "{path}");
        }
        assert_eq!(evs[1].field("aws.firewall.tcp.*"), Some(r#"{"syn":true}"#));
        let tls = &evs[2];
        let want = [
            // Repeated with the same value in the source: once here.
            ("tls.server.subject", "CN=sqs.eu-central-1.amazonaws.com"),
            (
                "tls.server.issuer",
                "C=US, O=Amazon, OU=Server CA 1B, CN=Amazon",
            ),
            ("aws.firewall.tls.version", "TLS 1.2"),
            (
                "aws.firewall.tls.serial",
                "08:C9:76:68:CB:30:31:1C:B2:24:A4:B3:22:F0:16:29",
            ),
            (
                "aws.firewall.tls.*",
                r#"{"fingerprint":"34:36:32:fb:05:65:83:55:a0:8e:24:7b:41:52:bf:98:88:3b:bf:9b"}"#,
            ),
        ];
        for (path, value) in want {
            assert_eq!(tls.field(path), Some(value), "{path}");
        }
        let line = r#"{"firewall_name":"fw","new":1,"event":{"event_type":"alert","alert":"odd","pkt_src":"wire","new":2}}"#;
        let (evs, _) = run(Format::NetworkFirewall, line.as_bytes(), 1 << 20).unwrap();
        assert_eq!(evs[0].field("aws.firewall.alert"), Some(r#""odd""#));
        assert_eq!(
            evs[0].field("aws.firewall.*"),
            Some(r#"{"new":1,"pkt_src":"wire","new_":2}"#)
        );
    }

    #[test]
    fn event_timestamp_is_the_fallback_time_and_ipv6_is_typed() {
        let line = r#"{"firewall_name":"fw","availability_zone":"us-west-2b","event_timestamp":"1636381332","event":{"event_type":"netflow","src_ip":"2001:db8::1","dest_ip":"not-an-ip","proto":"ICMP","tcp":{"tcp_flags":"1b"}}}"#;
        let (evs, _) = run(Format::NetworkFirewall, line.as_bytes(), 1 << 20).unwrap();
        let e = &evs[0];
        assert_eq!(e.timestamp.as_deref(), Some("2021-11-08T14:22:12Z"));
        assert_eq!(e.field("network.type"), Some("ipv6"));
        assert_eq!(e.field("destination.address"), Some("not-an-ip"));
        assert_eq!(e.field("destination.ip"), None);
        assert_eq!(e.field("network.transport"), Some("icmp"));
        assert_eq!(
            e.field("aws.firewall.tcp_flags_array"),
            Some(r#"["fin","syn","psh","ack"]"#)
        );
    }

    #[test]
    fn malformed_lines_become_error_events_and_the_rest_is_kept() {
        let good = r#"{"firewall_name":"fw","event":{"event_type":"alert"}}"#;
        let cases: [(&str, &[u8], &str); 5] = [
            ("not json", b"[1,2]", "not a JSON object"),
            (
                "truncated",
                br#"{"firewall_name":"f"#,
                "not a valid Network Firewall",
            ),
            (
                "event not an object",
                br#"{"event":"x"}"#,
                "not a valid Network Firewall",
            ),
            (
                "bad port",
                br#"{"event":{"src_port":"x"}}"#,
                "not a valid Network Firewall",
            ),
            (
                "invalid utf-8",
                b"{\"firewall_name\":\"\x80\"}",
                "not valid UTF-8",
            ),
        ];
        for (name, bad, why) in cases {
            let evs = bad_line_between_good_ones(Format::NetworkFirewall, good, bad, why, name);
            assert_eq!(evs[2].field("observer.name"), Some("fw"), "{name}");
        }
    }
}
