//! CloudFront standard logs -> OCSF HTTP Activity (4002).
//!
//! Activity from the request's method (`cs-method`: 1 Connect ... 8 Trace;
//! another method is 99 Other named by the method, none 0 Unknown);
//! `status_id` from the status code (below 400 Success, else Failure).
//!
//! The destination, which the class requires, is the edge that served the
//! request: `x-edge-location` (the POP code) as `dst_endpoint.name` and the
//! distribution's domain (`cs(Host)`) as `dst_endpoint.hostname`; a line
//! with neither (a v2 log without those fields) names the service,
//! `dst_endpoint.svc_name` "CloudFront". `http_response.code` is required
//! too: `sc-status`, or 0 when the line has none (a v2 log without it).
//! A client address that is not an IP is `src_endpoint.name`; a line
//! without one (a v2 log without `c-ip`) has `src_endpoint.name` "-".
//! `tls` is written only with a TLS version (which `tls` requires).
//! `time-taken` is `http_response.latency` in milliseconds (CloudFront
//! writes it to the millisecond).

use super::elb::{http_activity, STATUSES};
use super::{enumerated, text, value, Activity, Conv, Mapping, Row};
use crate::record::{FieldValue, Fields, ParsedEvent};

pub static MAPPING: Mapping = Mapping {
    product: "Amazon CloudFront",
    feature: "Standard logs",
    profiles: "[\"cloud\"]",
    rows: ROWS,
    rules,
};

#[rustfmt::skip]
const ROWS: &[Row] = &[
    // ECS field of our record (CloudFront field)       OCSF 1.1.0 attribute              how
    ("aws.cloudfront.edge_location",   /* x-edge-location */  "dst_endpoint.name",        Conv::Same),
    ("aws.cloudfront.domain",          /* cs(Host) */         "dst_endpoint.hostname",    Conv::Same),
    ("source.ip",                      /* c-ip */             "src_endpoint.ip",          Conv::Same),
    ("source.port",                    /* c-port */           "src_endpoint.port",        Conv::Same),
    ("source.geo.country_iso_code",    /* c-country */        "src_endpoint.location.country", Conv::Same),
    ("http.request.method",            /* cs-method */        "http_request.http_method", Conv::Same),
    ("http.request.id",                /* x-edge-request-id */ "http_request.uid",        Conv::Same),
    ("http.request.referrer",          /* cs(Referer) */      "http_request.referrer",    Conv::Same),
    ("user_agent.original",            /* cs(User-Agent) */   "http_request.user_agent",  Conv::Same),
    ("http.version",                   /* cs-protocol-version */ "http_request.version",  Conv::Same),
    ("network.forwarded_ip",           /* x-forwarded-for */  "http_request.x_forwarded_for", Conv::Same),
    ("url.full",                       /* built */            "http_request.url.url_string", Conv::Same),
    ("url.path",                       /* cs-uri-stem */      "http_request.url.path",    Conv::Same),
    ("url.query",                      /* cs-uri-query */     "http_request.url.query_string", Conv::Same),
    ("destination.domain",             /* x-host-header */    "http_request.url.hostname", Conv::Same),
    ("http.response.mime_type",        /* sc-content-type */  "http_response.content_type", Conv::Same),
    ("http.response.body.bytes",       /* sc-content-len */   "http_response.length",     Conv::Same),
    ("http.request.bytes",             /* cs-bytes */         "traffic.bytes_in",         Conv::Same),
    ("http.response.bytes",            /* sc-bytes */         "traffic.bytes_out",        Conv::Same),
    // Set by the rules below.
    ("http.response.status_code",      /* sc-status */        "http_response.code (0 when absent)", Conv::Rule),
    ("event.outcome",                  /* sc-status */        "status_id, status",        Conv::Rule),
    ("network.protocol",               /* cs-protocol */      "http_request.url.scheme",  Conv::Rule),
    ("event.duration",                 /* time-taken */       "http_response.latency (ms)", Conv::Rule),
    ("aws.cloudfront.ssl_protocol",    /* ssl-protocol */     "tls.version",              Conv::Rule),
    ("tls.cipher",                     /* ssl-cipher */       "tls.cipher (with a TLS version)", Conv::Rule),
    ("aws.cloudfront.protocol_version", /* cs-protocol-version */ "(= http_request.version; unmapped without one)", Conv::Rule),
    ("source.address",                 /* c-ip */             "src_endpoint.ip, or src_endpoint.name when not an IP", Conv::Rule),
    // Repeat other fields: not written again.
    ("url.scheme",                     "(= cs-protocol)",                     Conv::Rule),
    ("url.domain",                     "(= x-host-header)",                   Conv::Rule),
    ("destination.address",            "(= x-host-header)",                   Conv::Rule),
    ("tls.version",                    "(part of tls.version)",               Conv::Rule),
    ("tls.version_protocol",           "(part of tls.version)",               Conv::Rule),
    ("network.type",                   "(the source IP's version)",           Conv::Rule),
    ("related.ip",                     "(= src_endpoint.ip, x_forwarded_for)", Conv::Rule),
    ("related.hosts",                  "(= the host names)",                  Conv::Rule),
    ("event.kind",                     "(the class)",                         Conv::Rule),
    ("event.category",                 "(the class)",                         Conv::Rule),
    ("event.type",                     "(the class)",                         Conv::Rule),
];

fn rules<'a>(ev: &ParsedEvent<'a>, f: &mut Fields<'a>) -> Activity<'a> {
    // The client.
    if ev.fields.get("source.ip").is_none() {
        match value(ev, "source.address") {
            Some(v) => f.push("src_endpoint.name", v),
            // `src_endpoint` is required: a v2 log may leave the client out.
            None => f.str("src_endpoint.name", "-"),
        }
    }
    // The edge.
    if ev.fields.get("aws.cloudfront.edge_location").is_none()
        && ev.fields.get("aws.cloudfront.domain").is_none()
    {
        f.str("dst_endpoint.svc_name", "CloudFront");
    }
    // The URL: `url` needs a path or the whole URL.
    if let Some(scheme) = value(ev, "network.protocol") {
        f.push("http_request.url.scheme", scheme);
    }
    let has_url = ev.fields.get("url.path").is_some() || ev.fields.get("url.full").is_some();
    let has_parts = ["network.protocol", "url.query", "destination.domain"]
        .iter()
        .any(|p| ev.fields.get(p).is_some());
    if has_parts && !has_url {
        f.str("http_request.url.path", "");
    }
    // `http_request` is required.
    let any_request = [
        "http.request.method",
        "http.request.id",
        "http.request.referrer",
        "user_agent.original",
        "http.version",
        "network.forwarded_ip",
    ]
    .iter()
    .any(|p| ev.fields.get(p).is_some());
    if !any_request && !has_url && !has_parts {
        f.push("http_request", FieldValue::Json("{}"));
    }
    if ev.fields.get("http.version").is_none() {
        if let Some(v) = value(ev, "aws.cloudfront.protocol_version") {
            f.push("unmapped.aws.cloudfront.protocol_version", v);
        }
    }
    // The response.
    match value(ev, "http.response.status_code") {
        Some(code) => f.push("http_response.code", code),
        None => f.u64("http_response.code", 0),
    }
    if let Some(FieldValue::U64(ns)) = ev.fields.get("event.duration") {
        f.u64("http_response.latency", (ns + 500_000) / 1_000_000);
    }
    let status = match text(ev, "event.outcome") {
        Some("success") => Some(1),
        Some("failure") => Some(2),
        _ => None,
    };
    if let Some(s) = status {
        enumerated(f, "status_id", "status", s, STATUSES);
    }
    // TLS, when there is a version to make `tls` valid.
    match value(ev, "aws.cloudfront.ssl_protocol") {
        Some(version) => {
            f.push("tls.version", version);
            if let Some(v) = value(ev, "tls.cipher") {
                f.push("tls.cipher", v);
            }
        }
        None => {
            if let Some(v) = value(ev, "tls.cipher") {
                f.push("unmapped.tls.cipher", v);
            }
        }
    }
    http_activity(text(ev, "http.request.method"))
}

#[cfg(test)]
mod tests {
    use crate::formats::Format;
    use crate::ocsf::testing::{get, ocsf};

    const LOG: &[u8] = b"#Version: 1.0
#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type cs-protocol-version fle-status fle-encrypted-fields c-port time-to-first-byte x-edge-detailed-result-type sc-content-type sc-content-len sc-range-start sc-range-end
2019-12-04\t21:02:31\tLAX1\t392\t89.160.20.112\tGET\td111111abcdef8.cloudfront.net\t/index.html\t200\t-\tMozilla/5.0%20(Windows%20NT%2010.0)\t-\t-\tHit\tSOX4xwn4XV6Q4rgb7XiVGOHms_BGlTAC4KyHmureZmBNrjGdRLiNIQ==\td111111abcdef8.cloudfront.net\thttps\t23\t0.001\t-\tTLSv1.2\tECDHE-RSA-AES128-GCM-SHA256\tHit\tHTTP/2.0\t-\t-\t11040\t0.001\tHit\ttext/html\t78\t-\t-
";

    #[test]
    fn a_request_is_http_activity_served_by_the_edge() {
        let out = ocsf(Format::CloudFront, LOG);
        assert_eq!(get(&out, "class_uid"), Some("U64(4002)"));
        assert_eq!(get(&out, "activity_id"), Some("U64(3)"));
        assert_eq!(get(&out, "dst_endpoint.name"), Some("Str(\"LAX1\")"));
        assert_eq!(
            get(&out, "dst_endpoint.hostname"),
            Some("Str(\"d111111abcdef8.cloudfront.net\")")
        );
        assert_eq!(get(&out, "http_response.code"), Some("U64(200)"));
        assert_eq!(get(&out, "http_response.latency"), Some("U64(1)"));
        assert_eq!(get(&out, "http_request.url.scheme"), Some("Str(\"https\")"));
        assert_eq!(get(&out, "http_request.version"), Some("Str(\"2.0\")"));
        assert_eq!(get(&out, "tls.version"), Some("Str(\"TLSv1.2\")"));
        assert_eq!(get(&out, "traffic.bytes_out"), Some("U64(392)"));
        assert_eq!(get(&out, "src_endpoint.port"), Some("U64(11040)"));
        assert_eq!(get(&out, "status_id"), Some("U64(1)"));
        assert!(get(&out, "unmapped.aws.cloudfront.edge_result_type").is_some());
    }
}
