//! Amazon CloudFront standard logs (W3C, tab-separated): one event per data
//! line, mapped like Elastic's `aws.cloudfront_logs` integration.
//!
//! The `#Fields:` header decides which column is which (standard logging v2
//! lets users pick and order fields); without a header the 33 columns of the
//! legacy format are assumed. `#` lines are skipped. `-` means absent; a line
//! with fewer columns than the header is read as far as it goes, a line with
//! more is an error. `cs(User-Agent)` is URL-decoded, as Elastic does; other
//! values are kept as logged. Where ECS splits a value, the column is also
//! kept as written (`aws.cloudfront.ssl_protocol`, `protocol_version`, and
//! `x_forwarded_for` unless it is one IP); a column no mapping names is kept
//! as a string under its header's name (`aws.cloudfront.<name>`). No GeoIP, user-agent parsing or public-suffix
//! lookups (`url.registered_domain`).

use std::borrow::Cow;

use super::fields::{
    is_ip, num, present, put_tls_version, url_parts, JsonArrays,
};
use super::time::{epoch_seconds_utc};
use super::framing::LineFormat;
use crate::record::{FieldValue, Fields, ParsedEvent};

pub const DATASET: &str = "aws.cloudfront";

/// The field paths its events can have, besides the record writer's own
/// (see `FormatDef::fields`).
pub const FIELDS: &[&str] = &[
    "aws.cloudfront.*",
    "aws.cloudfront.cookies",
    "aws.cloudfront.domain",
    "aws.cloudfront.edge_detailed_result_type",
    "aws.cloudfront.edge_location",
    "aws.cloudfront.edge_response_result_type",
    "aws.cloudfront.edge_result_type",
    "aws.cloudfront.fle_encrypted_fields",
    "aws.cloudfront.fle_status",
    "aws.cloudfront.origin_fbl",
    "aws.cloudfront.origin_lbl",
    "aws.cloudfront.protocol_version",
    "aws.cloudfront.range_end",
    "aws.cloudfront.range_start",
    "aws.cloudfront.ssl_protocol",
    "aws.cloudfront.time_to_first_byte",
    "aws.cloudfront.x_forwarded_for",
    "destination.address",
    "destination.domain",
    "event.category",
    "event.duration",
    "event.kind",
    "event.outcome",
    "event.type",
    "http.request.bytes",
    "http.request.id",
    "http.request.method",
    "http.request.referrer",
    "http.response.body.bytes",
    "http.response.bytes",
    "http.response.mime_type",
    "http.response.status_code",
    "http.version",
    "network.forwarded_ip",
    "network.protocol",
    "network.type",
    "related.hosts",
    "related.ip",
    "source.address",
    "source.as.number",
    "source.geo.country_iso_code",
    "source.ip",
    "source.port",
    "tls.cipher",
    "tls.version",
    "tls.version_protocol",
    "url.domain",
    "url.extension",
    "url.full",
    "url.path",
    "url.query",
    "url.scheme",
    "user_agent.original",
];

/// A column of the log, from its `#Fields:` name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    Date,
    Time,
    EdgeLocation,
    ScBytes,
    CIp,
    CsMethod,
    CsHost,
    CsUriStem,
    ScStatus,
    CsReferer,
    CsUserAgent,
    CsUriQuery,
    CsCookie,
    EdgeResultType,
    EdgeRequestId,
    HostHeader,
    CsProtocol,
    CsBytes,
    TimeTaken,
    ForwardedFor,
    SslProtocol,
    SslCipher,
    EdgeResponseResultType,
    CsProtocolVersion,
    FleStatus,
    FleEncryptedFields,
    CPort,
    TimeToFirstByte,
    EdgeDetailedResultType,
    ScContentType,
    ScContentLen,
    ScRangeStart,
    ScRangeEnd,
    // Standard logging v2 additions.
    Timestamp,
    TimestampMs,
    CCountry,
    Asn,
    OriginFbl,
    OriginLbl,
    /// A column no mapping names: the index of its name in the header.
    Unknown(usize),
}

/// The legacy format's columns, in order (used until a `#Fields:` header says otherwise).
const LEGACY: [Col; 33] = [
    Col::Date,
    Col::Time,
    Col::EdgeLocation,
    Col::ScBytes,
    Col::CIp,
    Col::CsMethod,
    Col::CsHost,
    Col::CsUriStem,
    Col::ScStatus,
    Col::CsReferer,
    Col::CsUserAgent,
    Col::CsUriQuery,
    Col::CsCookie,
    Col::EdgeResultType,
    Col::EdgeRequestId,
    Col::HostHeader,
    Col::CsProtocol,
    Col::CsBytes,
    Col::TimeTaken,
    Col::ForwardedFor,
    Col::SslProtocol,
    Col::SslCipher,
    Col::EdgeResponseResultType,
    Col::CsProtocolVersion,
    Col::FleStatus,
    Col::FleEncryptedFields,
    Col::CPort,
    Col::TimeToFirstByte,
    Col::EdgeDetailedResultType,
    Col::ScContentType,
    Col::ScContentLen,
    Col::ScRangeStart,
    Col::ScRangeEnd,
];

fn column(index: usize, name: &str) -> Col {
    match name.to_ascii_lowercase().as_str() {
        "date" => Col::Date,
        "time" => Col::Time,
        "x-edge-location" => Col::EdgeLocation,
        "sc-bytes" => Col::ScBytes,
        "c-ip" => Col::CIp,
        "cs-method" => Col::CsMethod,
        "cs(host)" => Col::CsHost,
        "cs-uri-stem" => Col::CsUriStem,
        "sc-status" => Col::ScStatus,
        "cs(referer)" => Col::CsReferer,
        "cs(user-agent)" => Col::CsUserAgent,
        "cs-uri-query" => Col::CsUriQuery,
        "cs(cookie)" => Col::CsCookie,
        "x-edge-result-type" => Col::EdgeResultType,
        "x-edge-request-id" => Col::EdgeRequestId,
        "x-host-header" => Col::HostHeader,
        "cs-protocol" => Col::CsProtocol,
        "cs-bytes" => Col::CsBytes,
        "time-taken" => Col::TimeTaken,
        "x-forwarded-for" => Col::ForwardedFor,
        "ssl-protocol" => Col::SslProtocol,
        "ssl-cipher" => Col::SslCipher,
        "x-edge-response-result-type" => Col::EdgeResponseResultType,
        "cs-protocol-version" => Col::CsProtocolVersion,
        "fle-status" => Col::FleStatus,
        "fle-encrypted-fields" => Col::FleEncryptedFields,
        "c-port" => Col::CPort,
        "time-to-first-byte" => Col::TimeToFirstByte,
        "x-edge-detailed-result-type" => Col::EdgeDetailedResultType,
        "sc-content-type" => Col::ScContentType,
        "sc-content-len" => Col::ScContentLen,
        "sc-range-start" => Col::ScRangeStart,
        "sc-range-end" => Col::ScRangeEnd,
        "timestamp" => Col::Timestamp,
        "timestamp(ms)" => Col::TimestampMs,
        "c-country" => Col::CCountry,
        "asn" => Col::Asn,
        "origin-fbl" => Col::OriginFbl,
        "origin-lbl" => Col::OriginLbl,
        _ => Col::Unknown(index),
    }
}

/// The leaves this module writes under `aws.cloudfront.`: a column no
/// mapping names by one of these names is renamed (see
/// [`super::json::keep`]).
const WRITTEN: &[&str] = &[
    "edge_location",
    "domain",
    "cookies",
    "edge_result_type",
    "edge_response_result_type",
    "ssl_protocol",
    "protocol_version",
    "x_forwarded_for",
    "fle_status",
    "fle_encrypted_fields",
    "time_to_first_byte",
    "edge_detailed_result_type",
    "range_start",
    "range_end",
    "origin_fbl",
    "origin_lbl",
];

/// The W3C header CloudFront writes first.
pub fn sniff(line: &[u8]) -> bool {
    line.starts_with(b"#Version:") || line.starts_with(b"#Fields: date time x-edge-location")
}

/// A standard logging v2 record delivered as JSON lines: an object whose
/// first members are CloudFront field names (`date`/`timestamp` with
/// `x-edge-location`, or `x-edge-request-id`).
pub fn sniff_json(line: &[u8]) -> bool {
    let head = &line[..line.len().min(512)];
    let has = |n: &[u8]| head.windows(n.len()).any(|w| w == n);
    has(b"\"x-edge-location\"") || has(b"\"x-edge-request-id\"")
}

/// CloudFront's log file names: `E2K2LNFQNEXAMPLE.2026-11-22-20.a1b2c3d4.gz`.
pub fn is_log_file_name(name: &str) -> bool {
    let mut parts = name.split('.');
    let (Some(dist), Some(hour), Some(id)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let rest: Vec<&str> = parts.collect();
    dist.len() >= 8
        && dist.starts_with('E')
        && dist
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        && hour.len() == 13
        && hour.bytes().enumerate().all(|(i, b)| {
            if matches!(i, 4 | 7 | 10) {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        })
        && !id.is_empty()
        && id.bytes().all(|b| b.is_ascii_alphanumeric())
        && (rest.is_empty() || rest == ["gz"])
}

/// CloudFront's W3C lines: the `#Fields:` header sets the columns (the
/// legacy list until one is seen); other `#` lines are comments.
pub struct CloudFrontLines {
    columns: Vec<Col>,
    names: Vec<String>,
    arrays: JsonArrays,
    /// A JSON line (standard logging v2 JSON output) rewritten as a W3C
    /// line, with its own columns.
    json_line: String,
    json_columns: Vec<Col>,
    json_names: Vec<String>,
}

impl LineFormat for CloudFrontLines {
    const DATASET: &'static str = DATASET;
    const WHAT: &'static str = "a CloudFront log line";

    fn header(&mut self, line: &str) -> bool {
        let Some(header) = line.strip_prefix('#') else {
            return false;
        };
        if let Some(header_names) = header.strip_prefix("Fields:") {
            self.names = header_names
                .split_whitespace()
                .map(str::to_string)
                .collect();
            self.columns = self
                .names
                .iter()
                .enumerate()
                .map(|(i, name)| column(i, name))
                .collect();
        }
        true
    }

    fn map<'a>(
        &'a mut self,
        line: &'a str,
        ev: &mut ParsedEvent<'a>,
    ) -> Result<Option<String>, String> {
        self.arrays.clear();
        if line.trim_start().starts_with('{') {
            return self.map_json(line, ev);
        }
        map_line(line, &self.columns, &self.names, ev, &mut self.arrays)?;
        let this: &'a Self = self;
        this.arrays.put(&mut ev.fields);
        this.arrays
            .put_members(&mut ev.fields, "aws.cloudfront.*", WRITTEN);
        Ok(None)
    }
}

impl CloudFrontLines {
    /// A JSON line: its members (field name -> value) become a W3C line
    /// and the columns its names give; a tab inside a value becomes a space.
    fn map_json<'a>(
        &'a mut self,
        line: &'a str,
        ev: &mut ParsedEvent<'a>,
    ) -> Result<Option<String>, String> {
        let obj: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(line).map_err(|e| format!("not a JSON object: {e}"))?;
        self.json_line.clear();
        self.json_names.clear();
        for (name, value) in obj {
            if !self.json_names.is_empty() {
                self.json_line.push('\t');
            }
            match value {
                serde_json::Value::String(s) => self.json_line.push_str(&s.replace('\t', " ")),
                serde_json::Value::Null => self.json_line.push('-'),
                other => self.json_line.push_str(&other.to_string()),
            }
            self.json_names.push(name);
        }
        self.json_columns = self
            .json_names
            .iter()
            .enumerate()
            .map(|(i, name)| column(i, name))
            .collect();
        let Self {
            json_line,
            json_columns,
            json_names,
            arrays,
            ..
        } = self;
        let json_line: &'a str = json_line;
        map_line(json_line, json_columns, json_names, ev, arrays)?;
        let arrays: &'a JsonArrays = arrays;
        arrays.put(&mut ev.fields);
        arrays.put_members(&mut ev.fields, "aws.cloudfront.*", WRITTEN);
        Ok(None)
    }
}

impl Default for CloudFrontLines {
    fn default() -> Self {
        CloudFrontLines {
            columns: LEGACY.to_vec(),
            names: Vec::new(),
            arrays: JsonArrays::default(),
            json_line: String::new(),
            json_columns: Vec::new(),
            json_names: Vec::new(),
        }
    }
}

/// Values that several fields are built from.
#[derive(Default)]
struct Parts<'a> {
    date: Option<&'a str>,
    time: Option<&'a str>,
    epoch: Option<f64>,
    source_ip: Option<&'a str>,
    forwarded_for: Option<&'a str>,
    scheme: Option<&'a str>,
    host_header: Option<&'a str>,
    cs_host: Option<&'a str>,
    path: Option<&'a str>,
    query: Option<&'a str>,
}

fn map_line<'a>(
    line: &'a str,
    columns: &[Col],
    names: &[String],
    ev: &mut ParsedEvent<'a>,
    arrays: &mut JsonArrays,
) -> Result<(), String> {
    if !line.contains('\t') {
        return Err("no tab-separated fields".into());
    }
    let f = &mut ev.fields;
    let mut p = Parts::default();
    let mut n = 0;
    for value in line.split('\t') {
        n += 1;
        let Some(&col) = columns.get(n - 1) else {
            return Err(format!(
                "{} fields, but the #Fields header names {}",
                line.split('\t').count(),
                columns.len()
            ));
        };
        let Some(v) = present(value) else { continue };
        if let Col::Unknown(i) = col {
            if let Some(name) = names.get(i) {
                arrays.member(name, v);
            }
            continue;
        }
        put(f, &mut p, col, v)?;
    }

    ev.timestamp = Some(Cow::Owned(timestamp(&p)?));
    f.str("event.kind", "event");
    f.push("event.category", FieldValue::Json("[\"web\"]"));
    f.push("event.type", FieldValue::Json("[\"access\"]"));
    if let Some(ip) = p.source_ip {
        f.str(
            "network.type",
            if ip.contains(':') { "ipv6" } else { "ipv4" },
        );
    }
    if let Some(path) = p.path {
        if let Some(ext) = url_parts(path).and_then(|u| u.extension) {
            f.str("url.extension", ext);
        }
    }
    // url.full as Elastic builds it, when there is a scheme and a host to make it full.
    if let (Some(scheme), Some(host)) = (p.scheme, p.host_header) {
        f.str("url.scheme", scheme);
        f.str("url.domain", host);
        let mut full = format!("{scheme}://{host}{}", p.path.unwrap_or(""));
        if let Some(q) = p.query {
            full.push('?');
            full.push_str(q);
        }
        f.str("url.full", full);
    }
    let forwarded = || {
        p.forwarded_for
            .into_iter()
            .flat_map(|x| x.split(','))
            .filter_map(forwarded_ip)
    };
    // A list, or an entry that is not an IP as written: the column as
    // written too.
    if let Some(x) = p.forwarded_for {
        if forwarded().ne(std::iter::once(x)) {
            f.str("aws.cloudfront.x_forwarded_for", x);
        }
    }
    arrays.push("network.forwarded_ip", forwarded());
    arrays.push("related.ip", p.source_ip.into_iter().chain(forwarded()));
    let mut hosts = [p.host_header, p.cs_host];
    if hosts[0] == hosts[1] {
        hosts[1] = None;
    }
    arrays.push("related.hosts", hosts.into_iter().flatten());
    Ok(())
}

fn put<'a>(f: &mut Fields<'a>, p: &mut Parts<'a>, col: Col, v: &'a str) -> Result<(), String> {
    match col {
        Col::Date => p.date = Some(v),
        Col::Time => p.time = Some(v),
        Col::Timestamp => p.epoch = p.epoch.or(num::<f64>(v, "timestamp")?),
        Col::TimestampMs => {
            p.epoch = p
                .epoch
                .or(num::<f64>(v, "timestamp(ms)")?.map(|ms| ms / 1000.0))
        }
        Col::EdgeLocation => f.str("aws.cloudfront.edge_location", v),
        Col::ScBytes => f.u64("http.response.bytes", number(v, "sc-bytes")?),
        Col::CIp => {
            f.str("source.address", v);
            if is_ip(v) {
                f.str("source.ip", v);
                p.source_ip = Some(v);
            }
        }
        Col::CsMethod => f.str("http.request.method", v),
        Col::CsHost => {
            f.str("aws.cloudfront.domain", v);
            p.cs_host = Some(v);
        }
        Col::CsUriStem => {
            f.str("url.path", v);
            p.path = Some(v);
        }
        Col::ScStatus => {
            let status: u64 = number(v, "sc-status")?;
            f.u64("http.response.status_code", status);
            let ok = status > 0 && status < 400;
            f.str("event.outcome", if ok { "success" } else { "failure" });
        }
        Col::CsReferer => f.str("http.request.referrer", v),
        Col::CsUserAgent => {
            let decoded = percent_encoding::percent_decode_str(v);
            let ua = decoded
                .clone()
                .decode_utf8()
                .unwrap_or_else(|_| decoded.decode_utf8_lossy());
            f.str("user_agent.original", ua);
        }
        Col::CsUriQuery => {
            f.str("url.query", v);
            p.query = Some(v);
        }
        Col::CsCookie => f.str("aws.cloudfront.cookies", v),
        Col::EdgeResultType => f.str("aws.cloudfront.edge_result_type", v),
        Col::EdgeRequestId => f.str("http.request.id", v),
        Col::HostHeader => {
            f.str("destination.address", v);
            f.str("destination.domain", v);
            p.host_header = Some(v);
        }
        Col::CsProtocol => {
            f.str("network.protocol", v);
            p.scheme = Some(v);
        }
        Col::CsBytes => f.u64("http.request.bytes", number(v, "cs-bytes")?),
        Col::TimeTaken => {
            let secs: f64 = number(v, "time-taken")?;
            if secs.is_finite() && secs >= 0.0 {
                f.u64("event.duration", (secs * 1e9).round() as u64);
            }
        }
        Col::ForwardedFor => p.forwarded_for = Some(v),
        Col::SslProtocol => {
            // "TLSv1.2" -> tls.version_protocol "tls", tls.version "1.2".
            f.str("aws.cloudfront.ssl_protocol", v);
            put_tls_version(f, v);
        }
        Col::SslCipher => f.str("tls.cipher", v),
        Col::EdgeResponseResultType => f.str("aws.cloudfront.edge_response_result_type", v),
        Col::CsProtocolVersion => {
            // "HTTP/2.0" -> http.version "2.0".
            f.str("aws.cloudfront.protocol_version", v);
            if let Some((_, version)) = v.split_once('/') {
                f.opt_str("http.version", Some(version));
            }
        }
        Col::FleStatus => f.str("aws.cloudfront.fle_status", v),
        Col::FleEncryptedFields => f.u64(
            "aws.cloudfront.fle_encrypted_fields",
            number(v, "fle-encrypted-fields")?,
        ),
        Col::CPort => f.u64("source.port", number(v, "c-port")?),
        Col::TimeToFirstByte => f.f64(
            "aws.cloudfront.time_to_first_byte",
            number(v, "time-to-first-byte")?,
        ),
        Col::EdgeDetailedResultType => f.str("aws.cloudfront.edge_detailed_result_type", v),
        Col::ScContentType => f.str("http.response.mime_type", v),
        Col::ScContentLen => f.u64("http.response.body.bytes", number(v, "sc-content-len")?),
        Col::ScRangeStart => f.i64("aws.cloudfront.range_start", number(v, "sc-range-start")?),
        Col::ScRangeEnd => f.i64("aws.cloudfront.range_end", number(v, "sc-range-end")?),
        Col::CCountry => f.str("source.geo.country_iso_code", v),
        Col::Asn => f.u64("source.as.number", number(v, "asn")?),
        Col::OriginFbl => f.f64("aws.cloudfront.origin_fbl", number(v, "origin-fbl")?),
        Col::OriginLbl => f.f64("aws.cloudfront.origin_lbl", number(v, "origin-lbl")?),
        Col::Unknown(_) => {}
    }
    Ok(())
}

fn number<T: std::str::FromStr>(v: &str, name: &str) -> Result<T, String> {
    num::<T>(v, name)?.ok_or_else(|| format!("{name} is empty"))
}

/// `date` + `time` (UTC), else the v2 epoch `timestamp`.
fn timestamp(p: &Parts<'_>) -> Result<String, String> {
    use time::format_description::well_known::Rfc3339;
    match (p.date, p.time, p.epoch) {
        (Some(d), Some(t), _) => {
            let ts = format!("{d}T{t}Z");
            time::OffsetDateTime::parse(&ts, &Rfc3339)
                .map(|_| ts)
                .map_err(|_| format!("date {d:?} and time {t:?} are not a valid time"))
        }
        (_, _, Some(secs)) => {
            epoch_seconds_utc(secs).ok_or_else(|| format!("timestamp {secs} is out of range"))
        }
        _ => Err("no date and time".into()),
    }
}

/// One `x-forwarded-for` entry as an IP (Elastic keeps valid IPs and maps
/// `localhost...` to 127.0.0.1).
fn forwarded_ip(s: &str) -> Option<&str> {
    let s = s.trim();
    if s.starts_with("localhost") {
        return Some("127.0.0.1");
    }
    let s = s
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .unwrap_or(s);
    is_ip(s).then_some(s)
}

#[cfg(test)]
mod tests {
    use crate::formats::testing::{absent, check, run, Owned};
    use crate::formats::Format;

    const ELASTIC: &[u8] = include_bytes!("../../tests/data/cloudfront/test-cloudfront.log");
    const V2: &[u8] = include_bytes!("../../tests/data/cloudfront/v2-reordered.log");

    fn events(input: &[u8]) -> (Vec<Owned>, crate::formats::ParseStats) {
        run(Format::CloudFront, input, 64 * 1024).expect("parses")
    }

    const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/78.0.3904.108 Safari/537.36";

    #[test]
    fn elastic_samples_map_like_the_expected_json() {
        let (evs, stats) = events(ELASTIC);
        assert_eq!((evs.len(), stats.skipped, stats.errors), (12, 2, 0));
        assert!(evs
            .iter()
            .all(|e| e.dataset == "aws.cloudfront" && e.error.is_none()));
        // Values from test-cloudfront.log-expected.json (elastic/integrations).
        assert_eq!(evs[0].timestamp.as_deref(), Some("2019-12-04T21:02:31Z"));
        check(
            &evs[0],
            &[
                ("aws.cloudfront.edge_location", "LAX1"),
                ("http.response.bytes", "392"),
                ("source.address", "89.160.20.112"),
                ("source.ip", "89.160.20.112"),
                ("network.type", "ipv4"),
                ("http.request.method", "GET"),
                ("aws.cloudfront.domain", "d111111abcdef8.cloudfront.net"),
                ("url.path", "/index.html"),
                ("url.extension", "html"),
                ("http.response.status_code", "200"),
                ("user_agent.original", CHROME),
                ("aws.cloudfront.edge_result_type", "Hit"),
                (
                    "http.request.id",
                    "SOX4xwn4XV6Q4rgb7XiVGOHms_BGlTAC4KyHmureZmBNrjGdRLiNIQ==",
                ),
                ("destination.address", "d111111abcdef8.cloudfront.net"),
                ("destination.domain", "d111111abcdef8.cloudfront.net"),
                ("network.protocol", "https"),
                ("http.request.bytes", "23"),
                ("event.duration", "1000000"),
                ("tls.version", "1.2"),
                ("tls.version_protocol", "tls"),
                ("tls.cipher", "ECDHE-RSA-AES128-GCM-SHA256"),
                ("aws.cloudfront.edge_response_result_type", "Hit"),
                ("http.version", "2.0"),
                ("source.port", "11040"),
                ("aws.cloudfront.time_to_first_byte", "0.001"),
                ("aws.cloudfront.edge_detailed_result_type", "Hit"),
                ("http.response.mime_type", "text/html"),
                ("http.response.body.bytes", "78"),
                (
                    "url.full",
                    "https://d111111abcdef8.cloudfront.net/index.html",
                ),
                ("url.scheme", "https"),
                ("url.domain", "d111111abcdef8.cloudfront.net"),
                ("related.ip", r#"["89.160.20.112"]"#),
                ("related.hosts", r#"["d111111abcdef8.cloudfront.net"]"#),
                ("event.outcome", "success"),
                ("event.kind", "event"),
                ("event.category", r#"["web"]"#),
                ("event.type", r#"["access"]"#),
            ],
        );
        absent(
            &evs[0],
            &[
                "http.request.referrer",
                "url.query",
                "aws.cloudfront.cookies",
                "network.forwarded_ip",
                "aws.cloudfront.fle_status",
                "aws.cloudfront.range_start",
                "event.id",
            ],
        );
        check(
            &evs[1],
            &[("network.type", "ipv6"), ("event.duration", "0")],
        );
        // Error from the origin: referrer, different host header, failure
        check(
            &evs[3],
            &[
                ("http.response.status_code", "502"),
                ("event.outcome", "failure"),
                ("http.request.referrer", "http://www.example.com/"),
                ("destination.domain", "www.example.com"),
                (
                    "related.hosts",
                    r#"["www.example.com","d111111abcdef8.cloudfront.net"]"#,
                ),
                ("url.full", "http://www.example.com/favicon.ico"),
                ("aws.cloudfront.edge_detailed_result_type", "OriginDnsError"),
                ("http.version", "1.1"),
            ],
        );
        absent(&evs[3], &["tls.cipher", "tls.version"]);
        check(&evs[5], &[("user_agent.original", "curl/7.55.1")]);
        // POST with a query; status 000 is a failure
        check(
            &evs[6],
            &[
                ("http.request.method", "POST"),
                ("url.query", "source=global"),
                ("url.full", "https://test.com/getApplications?source=global"),
                ("tls.version", "1.3"),
                ("http.response.mime_type", "application/json;charset=UTF-8"),
                ("event.outcome", "success"),
            ],
        );
        check(
            &evs[7],
            &[
                ("http.response.status_code", "0"),
                ("event.outcome", "failure"),
            ],
        );
        // x-forwarded-for, with and without spaces, and localhost
        for ev in &evs[8..10] {
            check(
                ev,
                &[
                    ("network.forwarded_ip", r#"["81.2.69.142","216.160.83.56"]"#),
                    (
                        "related.ip",
                        r#"["81.2.69.143","81.2.69.142","216.160.83.56"]"#,
                    ),
                ],
            );
        }
        check(&evs[10], &[("network.forwarded_ip", r#"["127.0.0.1"]"#)]);
        // A short line (31 of 33 fields), a cookie, an encoded "User-Agent:" prefix
        check(
            &evs[11],
            &[
                ("url.path", "/en(test)"),
                ("aws.cloudfront.cookies", "cookie"),
                (
                    "user_agent.original",
                    "User-Agent: Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 5.1; 360SE)",
                ),
                ("http.response.status_code", "404"),
                ("source.port", "50294"),
            ],
        );
        absent(
            &evs[11],
            &["http.response.body.bytes", "aws.cloudfront.range_end"],
        );
    }

    #[test]
    fn fields_header_decides_the_columns_and_v2_fields_are_read() {
        let (evs, stats) = events(V2);
        assert_eq!((evs.len(), stats.skipped, stats.errors), (2, 3, 0));
        check(
            &evs[0],
            &[
                ("source.ip", "192.0.2.10"),
                ("http.response.status_code", "200"),
                ("url.path", "/img/logo.png"),
                ("url.extension", "png"),
                ("source.geo.country_iso_code", "DE"),
                ("source.as.number", "3320"),
                ("aws.cloudfront.origin_fbl", "0.021"),
                ("aws.cloudfront.edge_location", "FRA56-P1"),
                // A column no mapping names, under its header's name.
                ("aws.cloudfront.*", r#"{"some-future-field":"x"}"#),
            ],
        );
        assert_eq!(evs[0].timestamp.as_deref(), Some("2024-05-01T12:00:01Z"));
        // No date/time columns: the epoch timestamp is used.
        assert_eq!(evs[1].timestamp.as_deref(), Some("2024-05-01T12:00:02.5Z"));
    }

    #[test]
    fn columns_ecs_splits_are_also_kept_as_written() {
        let (evs, _) = events(ELASTIC);
        check(
            &evs[0],
            &[
                ("aws.cloudfront.ssl_protocol", "TLSv1.2"),
                ("tls.version", "1.2"),
                ("aws.cloudfront.protocol_version", "HTTP/2.0"),
                ("http.version", "2.0"),
            ],
        );
        absent(&evs[0], &["aws.cloudfront.x_forwarded_for"]);
        check(
            &evs[9],
            &[(
                "aws.cloudfront.x_forwarded_for",
                "81.2.69.142, 216.160.83.56",
            )],
        );
        check(
            &evs[10],
            &[("aws.cloudfront.x_forwarded_for", "localhost:8080")],
        );
    }

    #[test]
    fn json_lines_of_standard_logging_v2_are_read() {
        assert!(super::sniff_json(br#"{"date": "2023-04-26", "time": "07:25:11", "x-edge-location": "ABC11-C1"}"#));
        let line = br#"{"date": "2023-04-26", "time": "07:25:11", "x-edge-location": "ABC11-C1", "sc-status": "200", "cs-method": "GET", "new-field": "x"}"#;
        let (evs, _) = events(line);
        assert_eq!(evs.len(), 1);
        assert!(evs[0].error.is_none(), "{:?}", evs[0].error);
    }

    #[test]
    fn no_header_means_the_legacy_columns() {
        let line = "2019-12-04\t21:02:31\tLAX1\t392\t192.0.2.1\tGET\td1.cloudfront.net\t/\t304\n";
        let (evs, _) = events(line.as_bytes());
        check(
            &evs[0],
            &[
                ("source.ip", "192.0.2.1"),
                ("http.response.status_code", "304"),
                ("url.path", "/"),
            ],
        );
        absent(&evs[0], &["url.extension", "url.full"]);
    }

    #[test]
    fn malformed_lines_become_error_events() {
        let header = "#Fields: date time c-ip sc-status time-taken\n";
        let cases: &[(&str, &str)] = &[
            ("just text", "no tab-separated fields"),
            (
                "2019-12-04\t21:02:31\t1.2.3.4\t200\t0.1\textra",
                "6 fields, but the #Fields header names 5",
            ),
            (
                "2019-13-04\t21:02:31\t1.2.3.4\t200\t0.1",
                "not a valid time",
            ),
            ("-\t21:02:31\t1.2.3.4\t200\t0.1", "no date and time"),
            (
                "2019-12-04\t21:02:31\t1.2.3.4\tOK\t0.1",
                "sc-status \"OK\" is not a number",
            ),
            (
                "2019-12-04\t21:02:31\t1.2.3.4\t200\tfast",
                "time-taken \"fast\"",
            ),
        ];
        let mut input = header.as_bytes().to_vec();
        for (line, _) in cases {
            input.extend_from_slice(line.as_bytes());
            input.push(b'\n');
        }
        let (evs, stats) = events(&input);
        assert_eq!(
            (evs.len() as u64, stats.errors, stats.skipped),
            (cases.len() as u64, cases.len() as u64, 1)
        );
        for (i, (ev, (line, reason))) in evs.iter().zip(cases).enumerate() {
            let err = ev.error.as_deref().unwrap();
            assert!(err.contains(&format!("line {}:", i + 2)), "{err}");
            assert!(err.contains(reason), "{err} should say {reason}");
            assert_eq!(ev.original, *line);
            assert!(ev.fields.is_empty());
        }
    }

    #[test]
    fn invalid_utf8_and_bad_percent_encoding_are_kept() {
        let input = b"#Fields: date time cs(User-Agent) cs-uri-stem\n2019-12-04\t21:02:31\tbad%FF%20ua%zz\t/\xff\r\n";
        let (evs, stats) = events(input);
        assert_eq!((evs.len(), stats.errors), (1, 1));
        assert!(evs[0]
            .error
            .as_deref()
            .unwrap()
            .contains("line 2 is not valid UTF-8"));
        assert_eq!(
            evs[0].field("user_agent.original"),
            Some("bad\u{FFFD} ua%zz")
        );
        assert_eq!(evs[0].field("url.path"), Some("/\u{FFFD}"));
    }

    #[test]
    fn line_over_the_limit_is_an_error_for_the_object() {
        assert!(matches!(
            run(Format::CloudFront, ELASTIC, 300),
            Err(crate::formats::FormatError::LineTooLong {
                line: 2,
                limit: 300
            })
        ));
    }
}
