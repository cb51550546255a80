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
//! Not mapped: TLS `subject`/`issuerdn` (Network Firewall repeats those keys
//! within one object, which a strict reader would reject).

use std::borrow::Cow;
use std::io::BufRead;
use std::net::IpAddr;

use serde::Deserialize;

use super::guardduty::shared::{
    iso_utc, json_lines, json_str, lowercase, opt_num, push_json, seconds_rfc3339, Num, Str, S,
};
use super::{Emit, FormatError, Limits, ParseStats};
use crate::record::{FieldValue, Fields, ParsedEvent};

pub const DATASET: &str = "aws.firewall";

#[derive(Deserialize)]
struct Log<'a> {
    #[serde(borrow, default)]
    firewall_name: S<'a>,
    #[serde(borrow, default)]
    availability_zone: S<'a>,
    #[serde(default)]
    event_timestamp: Option<Num>,
    #[serde(borrow, default)]
    event: Option<Eve<'a>>,
}

#[derive(Deserialize)]
struct Eve<'a> {
    #[serde(borrow, default)]
    timestamp: S<'a>,
    #[serde(default)]
    flow_id: Option<Num>,
    #[serde(borrow, default)]
    event_type: S<'a>,
    #[serde(borrow, default)]
    src_ip: S<'a>,
    #[serde(default)]
    src_port: Option<Num>,
    #[serde(borrow, default)]
    dest_ip: S<'a>,
    #[serde(default)]
    dest_port: Option<Num>,
    #[serde(borrow, default)]
    proto: S<'a>,
    #[serde(borrow, default)]
    app_proto: S<'a>,
    #[serde(borrow, default)]
    alert: Option<Alert<'a>>,
    #[serde(borrow, default)]
    netflow: Option<Netflow<'a>>,
    #[serde(borrow, default)]
    http: Option<Http<'a>>,
    #[serde(borrow, default)]
    tls: Option<Tls<'a>>,
    #[serde(borrow, default)]
    tcp: Option<Tcp<'a>>,
}

#[derive(Deserialize)]
struct Alert<'a> {
    #[serde(borrow, default)]
    action: S<'a>,
    #[serde(default)]
    signature_id: Option<Num>,
    #[serde(default)]
    rev: Option<Num>,
    #[serde(borrow, default)]
    signature: S<'a>,
    #[serde(borrow, default)]
    category: S<'a>,
    #[serde(default)]
    severity: Option<Num>,
}

#[derive(Deserialize)]
struct Netflow<'a> {
    #[serde(default)]
    pkts: Option<Num>,
    #[serde(default)]
    bytes: Option<Num>,
    #[serde(borrow, default)]
    start: S<'a>,
    #[serde(borrow, default)]
    end: S<'a>,
    #[serde(default)]
    age: Option<Num>,
    #[serde(default)]
    min_ttl: Option<Num>,
    #[serde(default)]
    max_ttl: Option<Num>,
}

#[derive(Deserialize)]
struct Http<'a> {
    #[serde(borrow, default)]
    hostname: S<'a>,
    #[serde(borrow, default)]
    url: S<'a>,
    #[serde(borrow, default)]
    http_user_agent: S<'a>,
    #[serde(borrow, default)]
    http_method: S<'a>,
    #[serde(borrow, default)]
    protocol: S<'a>,
    #[serde(default)]
    status: Option<Num>,
}

#[derive(Deserialize)]
struct Tls<'a> {
    #[serde(borrow, default)]
    sni: S<'a>,
    #[serde(borrow, default)]
    version: S<'a>,
    #[serde(borrow, default)]
    serial: S<'a>,
    #[serde(borrow, default)]
    notbefore: S<'a>,
    #[serde(borrow, default)]
    notafter: S<'a>,
    #[serde(borrow, default)]
    ja3: Option<Ja3<'a>>,
    #[serde(borrow, default)]
    ja3s: Option<Ja3<'a>>,
}

#[derive(Deserialize)]
struct Ja3<'a> {
    #[serde(borrow, default)]
    hash: S<'a>,
}

#[derive(Deserialize)]
struct Tcp<'a> {
    #[serde(borrow, default)]
    tcp_flags: S<'a>,
}

pub fn parse(
    reader: &mut dyn BufRead,
    limits: &Limits,
    emit: &mut Emit<'_>,
) -> Result<ParseStats, FormatError> {
    json_lines(
        reader,
        limits,
        emit,
        DATASET,
        "Network Firewall log",
        map_line,
    )
}

fn ip_field<'a>(f: &mut Fields<'a>, ip: &'static str, address: &'static str, v: S<'a>) -> bool {
    match Str::into(v) {
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

fn map_line<'a>(
    line: &'a str,
    scratch: &'a mut Vec<u8>,
    ev: &mut ParsedEvent<'a>,
) -> Result<(), String> {
    let log: Log<'a> = serde_json::from_str(line).map_err(|e| e.to_string())?;
    let f = &mut ev.fields;
    f.str("observer.type", "firewall");
    f.str("observer.vendor", "AWS");
    f.str("observer.product", "Network Firewall");
    f.opt_cow("observer.name", Str::into(log.firewall_name));
    if let Some(az) = Str::into(log.availability_zone) {
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
    let Some(e) = log.event else {
        ev.timestamp = fallback_time;
        return Ok(());
    };
    ev.timestamp = e
        .timestamp
        .as_ref()
        .and_then(|t| iso_utc(&t.0))
        .or(fallback_time);
    let f = &mut ev.fields;
    f.push("event.category", FieldValue::Json(r#"["network"]"#));
    let event_type = Str::into(e.event_type);
    let kind = match event_type.as_deref() {
        Some("alert") => "alert",
        _ => "event",
    };
    f.str("event.kind", kind);
    if let Some(a) = e.alert {
        let action = Str::into(a.action);
        f.push(
            "event.type",
            FieldValue::Json(match action.as_deref() {
                Some("blocked") => r#"["connection","denied"]"#,
                Some("allowed") => r#"["connection","allowed"]"#,
                _ => r#"["connection"]"#,
            }),
        );
        f.opt_cow("event.action", action);
        if let Some(id) = a.signature_id {
            opt_num(f, "aws.firewall.alert.signature_id", Some(id));
            let id = match id {
                Num::U(n) => n.to_string(),
                Num::I(n) => n.to_string(),
                Num::F(n) => n.to_string(),
            };
            f.str("rule.id", id);
        }
        f.opt_cow("rule.name", Str::into(a.signature));
        f.opt_cow("rule.category", Str::into(a.category));
        if let Some(rev) = a.rev.as_ref().and_then(Num::as_u64) {
            f.str("rule.version", rev.to_string());
        }
        if let Some(sev) = a.severity.as_ref().and_then(Num::as_i64) {
            f.i64("event.severity", sev);
        }
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
    if let Some(p) = Str::into(e.proto) {
        f.str("network.transport", lowercase(p));
    }
    if let Some(p) = Str::into(e.app_proto).filter(|p| p != "failed") {
        f.str("network.protocol", p);
    }
    if let Some(id) = e.flow_id.as_ref().and_then(Num::as_u64) {
        f.str("aws.firewall.flow.id", id.to_string());
    }
    if let Some(n) = e.netflow {
        opt_num(f, "network.packets", n.pkts);
        opt_num(f, "network.bytes", n.bytes);
        opt_num(f, "aws.firewall.flow.pkts", n.pkts);
        opt_num(f, "aws.firewall.flow.bytes", n.bytes);
        opt_num(f, "aws.firewall.flow.age", n.age);
        opt_num(f, "aws.firewall.flow.min_ttl", n.min_ttl);
        opt_num(f, "aws.firewall.flow.max_ttl", n.max_ttl);
        if let Some(s) = n.start {
            f.opt_cow("event.start", iso_utc(&s.0));
            f.str("aws.firewall.flow.start", s.0);
        }
        if let Some(s) = n.end {
            f.opt_cow("event.end", iso_utc(&s.0));
            f.str("aws.firewall.flow.end", s.0);
        }
    }
    if let Some(h) = e.http {
        f.opt_cow("destination.domain", Str::into(h.hostname));
        if let Some(url) = Str::into(h.url) {
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
        f.opt_cow("http.request.method", Str::into(h.http_method));
        f.opt_cow("user_agent.original", Str::into(h.http_user_agent));
        if let Some(p) = Str::into(h.protocol) {
            if let Some(v) = p.strip_prefix("HTTP/") {
                f.str("http.version", v.to_string());
            }
        }
        opt_num(f, "http.response.status_code", h.status);
    }
    if let Some(t) = e.tls {
        if let Some(sni) = Str::into(t.sni) {
            f.str("destination.domain", sni.clone());
            f.str("tls.client.server_name", sni);
        }
        if let Some(v) = Str::into(t.version).filter(|v| v != "UNDETERMINED") {
            // "TLS 1.2" -> tls.version_protocol "tls", tls.version "1.2".
            if let Some((proto, version)) = v.split_once(' ') {
                f.str("tls.version_protocol", proto.to_ascii_lowercase());
                f.str("tls.version", version.to_string());
            }
        }
        if let Some(serial) = Str::into(t.serial) {
            f.str("tls.server.x509.serial_number", serial.replace(':', ""));
        }
        if let Some(t) = t.notbefore {
            f.opt_cow("tls.server.x509.not_before", iso_utc(&t.0));
        }
        if let Some(t) = t.notafter {
            f.opt_cow("tls.server.x509.not_after", iso_utc(&t.0));
        }
        f.opt_cow("tls.client.ja3", t.ja3.and_then(|j| Str::into(j.hash)));
        f.opt_cow("tls.server.ja3s", t.ja3s.and_then(|j| Str::into(j.hash)));
    }
    if let Some(flags) = e.tcp.and_then(|t| Str::into(t.tcp_flags)) {
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
