//! Elastic Load Balancing access logs -> OCSF HTTP Activity (4002) or
//! Network Activity (4001), with the load balancer profile.
//!
//! The class follows the line:
//! - ALB lines and Classic HTTP(S) lines: HTTP Activity, the activity from
//!   the request's method (1 Connect ... 8 Trace; another method is 99
//!   Other named by the method, none 0 Unknown).
//! - NLB (TLS listener) lines and Classic TCP/SSL lines: Network Activity
//!   6 Traffic.
//! - ALB connection logs: Network Activity 1 Open (a TLS connection made
//!   with the load balancer); `status_id` from the client certificate's
//!   verification (`Success` 1, `Failed` 2).
//!
//! `metadata.product.feature.name` says which load balancer wrote it
//! (Application, Network or Classic Load Balancer).
//!
//! The endpoints: the client is `src_endpoint`; the target the load
//! balancer sent the request to is `dst_endpoint` (and
//! `load_balancer.dst_endpoint`). A request that reached no target (a
//! redirect, a fixed response, a Lambda target) has the load balancer as
//! its destination: `dst_endpoint.name` = its name; a connection log line,
//! which names no load balancer, has `dst_endpoint.svc_name` "Application
//! Load Balancer" and the listener's port.
//!
//! A client address that is not an IP is `src_endpoint.name`, as written.
//!
//! `http_response.code` is required in HTTP Activity: the load balancer's
//! status code, 0 when it wrote none (`-`). `tls` is written only with a
//! TLS version (which `tls` requires); without one, the cipher and SNI
//! domain stay in `unmapped`. Processing times stay in `unmapped` in
//! seconds as written; the target's (`target_processing_time`) is also
//! `http_response.latency` in integer milliseconds when the request reached
//! a target.

use super::{
    enumerated, text, value, Activity, Conv, Mapping, Row, HTTP_ACTIVITY, NETWORK_ACTIVITY,
};
use crate::record::{FieldValue, Fields, ParsedEvent};

pub static MAPPING: Mapping = Mapping {
    product: "Elastic Load Balancing",
    // Set by the rules: the kind of load balancer.
    feature: "",
    profiles: "[\"cloud\",\"load_balancer\"]",
    rows: ROWS,
    rules,
};

#[rustfmt::skip]
const ROWS: &[Row] = &[
    // ECS field of our record              OCSF 1.1.0 attribute                 how
    ("aws.elb.version",                     "metadata.product.version",          Conv::Text),
    ("aws.elb.name",                        "load_balancer.name",                Conv::Same),
    ("event.start",                         "start_time",                        Conv::TimeMs),
    ("event.end",                           "end_time",                          Conv::TimeMs),
    ("source.ip",                           "src_endpoint.ip",                   Conv::Same),
    ("source.port",                         "src_endpoint.port",                 Conv::Same),
    ("client.ip",                           "src_endpoint.ip",                   Conv::Same),
    ("client.port",                         "src_endpoint.port",                 Conv::Same),
    ("http.request.method",                 "http_request.http_method",          Conv::Same),
    ("http.version",                        "http_request.version",              Conv::Same),
    ("trace.id",                            "http_request.uid",                  Conv::Same),
    ("user_agent.original",                 "http_request.user_agent",           Conv::Same),
    ("url.original",                        "http_request.url.url_string",       Conv::Same),
    ("url.scheme",                          "http_request.url.scheme",           Conv::Same),
    ("url.domain",                          "http_request.url.hostname",         Conv::Same),
    ("url.port",                            "http_request.url.port",             Conv::Same),
    ("url.path",                            "http_request.url.path",             Conv::Same),
    ("url.query",                           "http_request.url.query_string",     Conv::Same),
    ("http.response.status_code",           "http_response.code, load_balancer.code", Conv::Rule),
    ("http.request.body.bytes",             "traffic.bytes_in",                  Conv::Same),
    ("http.response.body.bytes",            "traffic.bytes_out",                 Conv::Same),
    ("source.bytes",                        "traffic.bytes_in",                  Conv::Same),
    ("destination.bytes",                   "traffic.bytes_out",                 Conv::Same),
    ("aws.elb.error.reason",                "load_balancer.error_message",       Conv::Same),
    ("aws.elb.classification",              "load_balancer.classification",      Conv::Same),
    // Set by the rules below.
    ("aws.elb.backend.ip",                  "dst_endpoint.ip, load_balancer.dst_endpoint.ip", Conv::Rule),
    ("aws.elb.backend.port",                "dst_endpoint.port, load_balancer.dst_endpoint.port", Conv::Rule),
    ("aws.elb.listener",                    "dst_endpoint.port (connection logs; else unmapped)", Conv::Rule),
    ("aws.elb.connection_time.ms",          "duration (integer ms)",             Conv::Rule),
    ("aws.elb.backend_processing_time.sec", "http_response.latency (ms, when >= 0; also unmapped)", Conv::Rule),
    ("aws.elb.ssl_protocol",                "tls.version",                       Conv::Rule),
    ("tls.cipher",                          "tls.cipher (with a TLS version)",   Conv::Rule),
    ("destination.domain",                  "tls.sni (with a TLS version)",      Conv::Rule),
    ("aws.elb.tls_handshake_time.ms",       "tls.handshake_dur (with a TLS version)", Conv::Rule),
    ("aws.elb.tls_handshake_latency",       "tls.handshake_dur (ms, with a TLS version)", Conv::Rule),
    ("aws.elb.tls_verify_status",           "status_id, status (connection logs)", Conv::Rule),
    ("event.outcome",                       "status_id, status",                 Conv::Rule),
    ("source.address",                      "src_endpoint.ip, or src_endpoint.name when not an IP", Conv::Rule),
    // Repeat other fields: not written again.
    ("aws.elb.trace_id",                    "(= http_request.uid)",              Conv::Rule),
    ("aws.elb.ssl_cipher",                  "(= tls.cipher)",                    Conv::Rule),
    ("tls.version",                         "(part of tls.version)",             Conv::Rule),
    ("tls.version_protocol",                "(part of tls.version)",             Conv::Rule),
    ("aws.elb.protocol",                    "(the class)",                       Conv::Rule),
    ("event.kind",                          "(the class)",                       Conv::Rule),
    ("event.category",                      "(the class)",                       Conv::Rule),
];

/// `status_id` / `status`.
pub(super) const STATUSES: &[(u32, &str)] = &[(0, "Unknown"), (1, "Success"), (2, "Failure")];

/// `activity_id` of HTTP Activity by HTTP method.
const METHODS: &[(&str, u32)] = &[
    ("CONNECT", 1),
    ("DELETE", 2),
    ("GET", 3),
    ("HEAD", 4),
    ("OPTIONS", 5),
    ("POST", 6),
    ("PUT", 7),
    ("TRACE", 8),
];

/// The HTTP Activity of a request with `method`.
pub(super) fn http_activity<'a>(method: Option<&str>) -> Activity<'a> {
    match method {
        None => Activity::of(HTTP_ACTIVITY, 0),
        Some(m) => match METHODS.iter().find(|x| x.0.eq_ignore_ascii_case(m)) {
            Some((_, id)) => Activity::of(HTTP_ACTIVITY, *id),
            None => Activity::other(HTTP_ACTIVITY, title_case(m)),
        },
    }
}

/// `PATCH` -> `Patch`.
fn title_case(m: &str) -> String {
    let mut out = String::with_capacity(m.len());
    for (i, c) in m.chars().enumerate() {
        if i == 0 {
            out.extend(c.to_uppercase());
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// A number of seconds (or milliseconds, with `scale` 1) as integer
/// milliseconds, when it is one and not negative.
fn ms(v: Option<&FieldValue<'_>>, scale: f64) -> Option<u64> {
    let n = match v? {
        FieldValue::F64(n) => *n,
        FieldValue::U64(n) => *n as f64,
        FieldValue::I64(n) => *n as f64,
        FieldValue::Str(s) => s.parse().ok()?,
        _ => return None,
    };
    (n.is_finite() && n >= 0.0).then(|| (n * scale).round() as u64)
}

/// Whether `s` is an IP address.
fn is_ip(s: &str) -> bool {
    s.parse::<std::net::IpAddr>().is_ok()
}

/// The kind of load balancer that wrote a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Application,
    Network,
    Classic,
    /// ALB connection log.
    Connection,
}

fn kind(ev: &ParsedEvent<'_>) -> Kind {
    match text(ev, "aws.elb.type") {
        Some("tls" | "tcp" | "udp" | "tcp_udp") => Kind::Network,
        Some(_) => Kind::Application,
        None if ev.fields.get("client.ip").is_some() => Kind::Connection,
        None => Kind::Classic,
    }
}

fn rules<'a>(ev: &ParsedEvent<'a>, f: &mut Fields<'a>) -> Activity<'a> {
    let kind = kind(ev);
    f.str(
        "metadata.product.feature.name",
        match kind {
            Kind::Application | Kind::Connection => "Application Load Balancer",
            Kind::Network => "Network Load Balancer",
            Kind::Classic => "Classic Load Balancer",
        },
    );
    let http = text(ev, "aws.elb.protocol") == Some("http");

    // The target, else the load balancer.
    let mut dst = false;
    match value(ev, "aws.elb.backend.ip") {
        Some(FieldValue::Str(ip)) if is_ip(&ip) => {
            f.push("dst_endpoint.ip", FieldValue::Str(ip.clone()));
            f.push("load_balancer.dst_endpoint.ip", FieldValue::Str(ip));
            if let Some(port) = value(ev, "aws.elb.backend.port") {
                f.push("dst_endpoint.port", port.clone());
                f.push("load_balancer.dst_endpoint.port", port);
            }
            dst = true;
        }
        other => {
            if let Some(v) = other {
                f.push("unmapped.aws.elb.backend.ip", v);
            }
            if let Some(v) = value(ev, "aws.elb.backend.port") {
                f.push("unmapped.aws.elb.backend.port", v);
            }
        }
    }
    let listener = value(ev, "aws.elb.listener");
    if kind == Kind::Connection {
        f.str("dst_endpoint.svc_name", "Application Load Balancer");
        match listener.as_ref().and_then(|l| match l {
            FieldValue::Str(s) => s.parse::<u16>().ok(),
            _ => None,
        }) {
            Some(port) => f.u64("dst_endpoint.port", u64::from(port)),
            None => {
                if let Some(v) = listener {
                    f.push("unmapped.aws.elb.listener", v);
                }
            }
        }
    } else {
        if let Some(v) = listener {
            f.push("unmapped.aws.elb.listener", v);
        }
        if !dst {
            match value(ev, "aws.elb.name") {
                Some(name) => f.push("dst_endpoint.name", name),
                None => f.str("dst_endpoint.svc_name", "Elastic Load Balancing"),
            }
        }
    }
    // A client address that is not an IP (an anonymised log) still names
    // the client, as written.
    if ev.fields.get("source.ip").is_none() {
        if let Some(v) = value(ev, "source.address") {
            f.push("src_endpoint.name", v);
        }
    }

    // TLS, when there is a version to make `tls` valid.
    match value(ev, "aws.elb.ssl_protocol") {
        Some(version) => {
            f.push("tls.version", version);
            if let Some(v) = value(ev, "tls.cipher") {
                f.push("tls.cipher", v);
            }
            if let Some(v) = value(ev, "destination.domain") {
                f.push("tls.sni", v);
            }
            let handshake = ms(ev.fields.get("aws.elb.tls_handshake_time.ms"), 1.0)
                .or(ms(ev.fields.get("aws.elb.tls_handshake_latency"), 1000.0));
            if let Some(n) = handshake {
                f.u64("tls.handshake_dur", n);
            }
        }
        None => {
            for (from, to) in [
                ("tls.cipher", "unmapped.tls.cipher"),
                ("destination.domain", "unmapped.destination.domain"),
            ] {
                if let Some(v) = value(ev, from) {
                    f.push(to, v);
                }
            }
        }
    }
    // Seconds as written, and milliseconds where OCSF has a place.
    for (from, to) in [
        (
            "aws.elb.backend_processing_time.sec",
            "unmapped.aws.elb.backend_processing_time.sec",
        ),
        (
            "aws.elb.tls_handshake_time.ms",
            "unmapped.aws.elb.tls_handshake_time.ms",
        ),
        (
            "aws.elb.tls_handshake_latency",
            "unmapped.aws.elb.tls_handshake_latency",
        ),
        (
            "aws.elb.connection_time.ms",
            "unmapped.aws.elb.connection_time.ms",
        ),
    ] {
        if let Some(v) = value(ev, from) {
            f.push(to, v);
        }
    }
    if let Some(n) = ms(ev.fields.get("aws.elb.connection_time.ms"), 1.0) {
        f.u64("duration", n);
    }

    // Status: the outcome (HTTP status, or the client certificate check).
    let status = match text(ev, "event.outcome") {
        Some("success") => Some(1),
        Some("failure") => Some(2),
        _ => None,
    };
    if let Some(s) = status {
        enumerated(f, "status_id", "status", s, STATUSES);
    }
    if let Some(v) = value(ev, "aws.elb.tls_verify_status") {
        f.push("status_detail", v);
    }

    if http {
        let code = value(ev, "http.response.status_code");
        match code {
            Some(c) => {
                f.push("http_response.code", c.clone());
                f.push("load_balancer.code", c);
            }
            None => f.u64("http_response.code", 0),
        }
        if let Some(n) = ms(ev.fields.get("aws.elb.backend_processing_time.sec"), 1000.0) {
            f.u64("http_response.latency", n);
        }
        // `http_request` is required: a request line of dashes still has
        // its (unknown) version.
        let any_request = [
            "http.request.method",
            "http.version",
            "trace.id",
            "user_agent.original",
            "url.original",
        ]
        .iter()
        .any(|p| ev.fields.get(p).is_some());
        if !any_request {
            f.push("http_request", FieldValue::Json("{}"));
        }
        http_activity(text(ev, "http.request.method"))
    } else if kind == Kind::Connection {
        Activity::of(NETWORK_ACTIVITY, 1)
    } else {
        if let Some(v) = value(ev, "http.response.status_code") {
            f.push("load_balancer.code", v);
        }
        Activity::of(NETWORK_ACTIVITY, 6)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::formats::Format;
    use crate::ocsf::testing::{get, ocsf};

    const ALB: &[u8] = br#"http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337262-36d228ad5d99923122bbe354" "-" "-" 0 2018-07-02T22:22:48.364000Z "forward,redirect" "-" "-" "10.0.0.1:80" "200" "-" "-"
"#;
    const NLB: &[u8] = b"tls 2.0 2018-12-20T02:59:40 net/my-network-loadbalancer/c6e77e28c25b2234 g3d4b5e8bb8464cd 192.168.131.39:2817 10.0.0.1:80 5 2 98 246 - arn:aws:acm:us-east-2:671290407336:certificate/2a108f19-aded-46b0-8493-c63eb1ef4a99 - ECDHE-RSA-AES128-SHA tlsv12 - my-network-loadbalancer-c6e77e28c25b2234.elb.us-east-2.amazonaws.com - - - 2018-12-20T02:59:30\n";
    const CLASSIC_TCP: &[u8] = b"2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.001069 0.000028 0.000041 - - 82 305 \"- - - \" \"-\" - -\n";

    #[test]
    fn an_alb_request_is_http_activity() {
        let out = ocsf(Format::Elb, ALB);
        assert_eq!(get(&out, "class_uid"), Some("U64(4002)"));
        assert_eq!(get(&out, "activity_id"), Some("U64(3)"));
        assert_eq!(get(&out, "activity_name"), Some("Str(\"Get\")"));
        assert_eq!(
            get(&out, "metadata.product.feature.name"),
            Some("Str(\"Application Load Balancer\")")
        );
        assert_eq!(
            get(&out, "load_balancer.name"),
            Some("Str(\"app/my-loadbalancer/50dc6c495c0c9188\")")
        );
        assert_eq!(get(&out, "http_response.code"), Some("U64(200)"));
        assert_eq!(get(&out, "http_response.latency"), Some("U64(1)"));
        assert_eq!(get(&out, "dst_endpoint.ip"), Some("Str(\"10.0.0.1\")"));
        assert_eq!(get(&out, "src_endpoint.port"), Some("U64(2817)"));
        assert_eq!(get(&out, "traffic.bytes_in"), Some("U64(34)"));
        assert_eq!(get(&out, "status_id"), Some("U64(1)"));
        assert_eq!(
            get(&out, "http_request.uid"),
            Some("Str(\"Root=1-58337262-36d228ad5d99923122bbe354\")")
        );
        assert!(get(&out, "unmapped.aws.elb.target_group.arn").is_some());
        assert!(get(&out, "tls.version").is_none());
    }

    #[test]
    fn an_nlb_connection_is_network_traffic() {
        let out = ocsf(Format::Elb, NLB);
        assert_eq!(get(&out, "class_uid"), Some("U64(4001)"));
        assert_eq!(get(&out, "activity_id"), Some("U64(6)"));
        assert_eq!(
            get(&out, "metadata.product.feature.name"),
            Some("Str(\"Network Load Balancer\")")
        );
        assert_eq!(get(&out, "tls.version"), Some("Str(\"tlsv12\")"));
        assert_eq!(get(&out, "tls.handshake_dur"), Some("U64(2)"));
        assert_eq!(get(&out, "duration"), Some("U64(5)"));
        assert_eq!(get(&out, "traffic.bytes_out"), Some("U64(246)"));
        assert_eq!(get(&out, "metadata.product.version"), Some("Str(\"2.0\")"));
        assert!(get(&out, "http_response.code").is_none());
    }

    #[test]
    fn a_classic_tcp_line_is_network_traffic_to_its_backend() {
        let out = ocsf(Format::Elb, CLASSIC_TCP);
        assert_eq!(get(&out, "class_uid"), Some("U64(4001)"));
        assert_eq!(
            get(&out, "metadata.product.feature.name"),
            Some("Str(\"Classic Load Balancer\")")
        );
        assert_eq!(get(&out, "dst_endpoint.port"), Some("U64(80)"));
        assert_eq!(get(&out, "traffic.bytes_in"), Some("U64(82)"));
    }
}
