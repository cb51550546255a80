//! CloudTrail log files: `{"Records":[{...},{...}]}`, one event per element.
//!
//! Streamed: the file's outer structure is walked by hand over the
//! `BufRead` (strings, escapes and nesting only), one element at a time is
//! copied into a reused buffer, and only that element is parsed, with a
//! borrowing struct. Memory is bounded by one event (and by the line limit),
//! never by the file. This replaces `serde_json::from_reader`, which reads
//! byte by byte and was the slowest step of the pipeline (about 150 MB/s
//! against over 1 GB/s for `from_slice`).
//!
//! Events are mapped to ECS fields the way Elastic's `aws.cloudtrail`
//! integration does, and nothing is dropped: a member with an ECS place is
//! written there only (`eventName` is `event.action`, `recipientAccountId`
//! `cloud.account.id`, `principalId` `user.id`, ...; `eventTime` is also
//! kept under `aws.cloudtrail.event_time` when `@timestamp` had to convert
//! it), the other known members go under `aws.cloudtrail.*` in Elastic's
//! snake_case names, bulky ones (`requestParameters`, `responseElements`,
//! `sessionContext`, ...) as raw JSON, and any member we do not know
//! (whatever AWS adds next) as raw JSON under its own name, in
//! `aws.cloudtrail.<name>` or `aws.cloudtrail.user_identity.<name>`. An element that is
//! not an event object, is not valid JSON or UTF-8, or is larger than the
//! line limit becomes an error event with its raw text (cut to the limit).
//! A file that is not `{"Records":[...]}` at all, or whose structure breaks
//! off, is [`FormatError::Malformed`]; events before the break were emitted.
//! Other top-level members are checked for validity and ignored. Keys are not
//! decoded here (that is the caller's); nor are digest files read (`detect`).

use std::borrow::Cow;
use std::io::BufRead;
use std::net::IpAddr;

use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::json::{self, Text, Unmapped};
use super::time::rfc3339_utc;
use super::{send, Emit, FormatError, Limits, ParseStats};
use crate::record::ParsedEvent;

pub const DATASET: &str = "aws.cloudtrail";

/// The field paths its events can have, besides the record writer's own
/// (see `FormatDef::fields`).
pub const FIELDS: &[&str] = &[
    "aws.cloudtrail.*",
    "aws.cloudtrail.addendum",
    "aws.cloudtrail.additional_eventdata",
    "aws.cloudtrail.api_version",
    "aws.cloudtrail.edge_device_details",
    "aws.cloudtrail.error_code",
    "aws.cloudtrail.error_message",
    "aws.cloudtrail.event_category",
    "aws.cloudtrail.event_id",
    "aws.cloudtrail.event_time",
    "aws.cloudtrail.event_type",
    "aws.cloudtrail.event_version",
    "aws.cloudtrail.insight_details",
    "aws.cloudtrail.management_event",
    "aws.cloudtrail.read_only",
    "aws.cloudtrail.request_id",
    "aws.cloudtrail.request_parameters",
    "aws.cloudtrail.resources",
    "aws.cloudtrail.response_elements",
    "aws.cloudtrail.service_event_details",
    "aws.cloudtrail.session_credential_from_console",
    "aws.cloudtrail.shared_event_id",
    "aws.cloudtrail.tls_details",
    "aws.cloudtrail.user_identity.*",
    "aws.cloudtrail.user_identity.access_key_id",
    "aws.cloudtrail.user_identity.account_id",
    "aws.cloudtrail.user_identity.arn",
    "aws.cloudtrail.user_identity.invoked_by",
    "aws.cloudtrail.user_identity.session_context",
    "aws.cloudtrail.user_identity.type",
    "aws.cloudtrail.vpc_endpoint_account_id",
    "aws.cloudtrail.vpc_endpoint_id",
    "cloud.account.id",
    "cloud.region",
    "event.action",
    "event.kind",
    "event.outcome",
    "event.provider",
    "source.address",
    "source.ip",
    "user.id",
    "user.name",
    "user_agent.original",
];

/// One event. Read by a hand-written map visitor (not `#[serde(flatten)]`,
/// which buffers every member into a generic map): the members we map are
/// matched by name, everything else is kept as raw JSON under its own name,
/// so that a member AWS adds later reaches the record unchanged.
#[derive(Default)]
struct Event<'a> {
    event_version: Option<Cow<'a, str>>,
    user_identity: Option<UserIdentity<'a>>,
    event_time: Option<Cow<'a, str>>,
    event_source: Option<Cow<'a, str>>,
    event_name: Option<Cow<'a, str>>,
    aws_region: Option<Cow<'a, str>>,
    source_ip_address: Option<Cow<'a, str>>,
    user_agent: Option<Cow<'a, str>>,
    error_code: Option<Cow<'a, str>>,
    error_message: Option<Cow<'a, str>>,
    request_id: Option<Cow<'a, str>>,
    event_id: Option<Cow<'a, str>>,
    read_only: Option<bool>,
    event_type: Option<Cow<'a, str>>,
    management_event: Option<bool>,
    recipient_account_id: Option<Cow<'a, str>>,
    shared_event_id: Option<Cow<'a, str>>,
    vpc_endpoint_id: Option<Cow<'a, str>>,
    vpc_endpoint_account_id: Option<Cow<'a, str>>,
    event_category: Option<Cow<'a, str>>,
    api_version: Option<Cow<'a, str>>,
    /// Members passed through as raw JSON under a snake_case name.
    raw: [Option<&'a RawValue>; RAW_MEMBERS.len()],
    /// Members no mapping names, under their own names.
    unmapped: Unmapped<'a>,
}

/// Members kept as raw JSON: (source name, path). Their content varies by
/// service (or, for the last ones, their type is not documented firmly
/// enough to read them as one).
const RAW_MEMBERS: [(&str, &str); 10] = [
    ("requestParameters", "aws.cloudtrail.request_parameters"),
    ("responseElements", "aws.cloudtrail.response_elements"),
    // Elastic's name.
    ("additionalEventData", "aws.cloudtrail.additional_eventdata"),
    ("resources", "aws.cloudtrail.resources"),
    (
        "serviceEventDetails",
        "aws.cloudtrail.service_event_details",
    ),
    ("tlsDetails", "aws.cloudtrail.tls_details"),
    ("insightDetails", "aws.cloudtrail.insight_details"),
    ("edgeDeviceDetails", "aws.cloudtrail.edge_device_details"),
    ("addendum", "aws.cloudtrail.addendum"),
    (
        "sessionCredentialFromConsole",
        "aws.cloudtrail.session_credential_from_console",
    ),
];

/// The leaves this module writes under `aws.cloudtrail.`: an unmapped
/// member by one of these names is renamed (see [`json::keep`]).
const WRITTEN: &[&str] = &[
    "event_version",
    "event_time",
    "error_code",
    "error_message",
    "request_id",
    "event_id",
    "read_only",
    "event_type",
    "management_event",
    "shared_event_id",
    "vpc_endpoint_id",
    "vpc_endpoint_account_id",
    "event_category",
    "api_version",
    "user_identity",
    "request_parameters",
    "response_elements",
    "additional_eventdata",
    "resources",
    "service_event_details",
    "tls_details",
    "insight_details",
    "edge_device_details",
    "addendum",
    "session_credential_from_console",
];

impl<'de> Deserialize<'de> for Event<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Event<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a CloudTrail event object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Event<'de>, A::Error> {
                let mut e = Event::default();
                while let Some(Text(key)) = map.next_key::<Text<'de>>()? {
                    let slot = match &*key {
                        "eventVersion" => &mut e.event_version,
                        "eventTime" => &mut e.event_time,
                        "eventSource" => &mut e.event_source,
                        "eventName" => &mut e.event_name,
                        "awsRegion" => &mut e.aws_region,
                        "sourceIPAddress" => &mut e.source_ip_address,
                        "userAgent" => &mut e.user_agent,
                        "errorCode" => &mut e.error_code,
                        "errorMessage" => &mut e.error_message,
                        "requestID" => &mut e.request_id,
                        "eventID" => &mut e.event_id,
                        "eventType" => &mut e.event_type,
                        "recipientAccountId" => &mut e.recipient_account_id,
                        "sharedEventID" => &mut e.shared_event_id,
                        "vpcEndpointId" => &mut e.vpc_endpoint_id,
                        "vpcEndpointAccountId" => &mut e.vpc_endpoint_account_id,
                        "eventCategory" => &mut e.event_category,
                        "apiVersion" => &mut e.api_version,
                        "userIdentity" => {
                            json::once(&mut e.user_identity, &key, &mut map)?;
                            continue;
                        }
                        "readOnly" => {
                            json::once(&mut e.read_only, &key, &mut map)?;
                            continue;
                        }
                        "managementEvent" => {
                            json::once(&mut e.management_event, &key, &mut map)?;
                            continue;
                        }
                        name => {
                            match RAW_MEMBERS.iter().position(|(n, _)| *n == name) {
                                Some(i) => json::once(&mut e.raw[i], &key, &mut map)?,
                                None => {
                                    let value: &'de RawValue = map.next_value()?;
                                    json::keep(&mut e.unmapped, key, value, WRITTEN);
                                }
                            }
                            continue;
                        }
                    };
                    let mut text: Option<Text<'de>> = None;
                    json::once(&mut text, &key, &mut map)?;
                    if slot.is_some() {
                        return Err(de::Error::custom(format_args!("duplicate field `{key}`")));
                    }
                    *slot = text.map(|t| t.0);
                }
                Ok(e)
            }
        }
        d.deserialize_map(V)
    }
}

/// `userIdentity`: the members Elastic maps, by name; `sessionContext`
/// whole (raw); anything else (`webIdFederationData`, `onBehalfOf`,
/// `credentialId`, ...) under its own name.
#[derive(Default)]
struct UserIdentity<'a> {
    kind: Option<Cow<'a, str>>,
    principal_id: Option<Cow<'a, str>>,
    arn: Option<Cow<'a, str>>,
    account_id: Option<Cow<'a, str>>,
    access_key_id: Option<Cow<'a, str>>,
    user_name: Option<Cow<'a, str>>,
    invoked_by: Option<Cow<'a, str>>,
    session_context: Option<&'a RawValue>,
    unmapped: Unmapped<'a>,
}

/// The leaves written under `aws.cloudtrail.user_identity.`.
const IDENTITY_WRITTEN: &[&str] = &[
    "type",
    "arn",
    "account_id",
    "access_key_id",
    "invoked_by",
    "session_context",
];

impl<'de> Deserialize<'de> for UserIdentity<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = UserIdentity<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a userIdentity object")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<UserIdentity<'de>, A::Error> {
                let mut u = UserIdentity::default();
                while let Some(Text(key)) = map.next_key::<Text<'de>>()? {
                    let slot = match &*key {
                        "type" => &mut u.kind,
                        "principalId" => &mut u.principal_id,
                        "arn" => &mut u.arn,
                        "accountId" => &mut u.account_id,
                        "accessKeyId" => &mut u.access_key_id,
                        "userName" => &mut u.user_name,
                        "invokedBy" => &mut u.invoked_by,
                        "sessionContext" => {
                            json::once(&mut u.session_context, &key, &mut map)?;
                            continue;
                        }
                        _ => {
                            let value: &'de RawValue = map.next_value()?;
                            json::keep(&mut u.unmapped, key, value, IDENTITY_WRITTEN);
                            continue;
                        }
                    };
                    let mut text: Option<Text<'de>> = None;
                    json::once(&mut text, &key, &mut map)?;
                    if slot.is_some() {
                        return Err(de::Error::custom(format_args!("duplicate field `{key}`")));
                    }
                    *slot = text.map(|t| t.0);
                }
                Ok(u)
            }
        }
        d.deserialize_map(V)
    }
}

/// The part of `sessionContext` that names the user when `userName` is
/// absent (read from the raw member, which is kept whole).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionContext<'a> {
    #[serde(borrow, default)]
    session_issuer: Option<Issuer<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Issuer<'a> {
    #[serde(borrow, default)]
    user_name: Option<Cow<'a, str>>,
}

/// Parses a whole CloudTrail file.
/// A CloudTrail file starts `{"Records":[` (whitespace allowed).
pub fn sniff(doc: &[u8]) -> bool {
    let after = |p: &[u8], token: &[u8]| -> Option<usize> {
        let ws = p.iter().take_while(|b| b.is_ascii_whitespace()).count();
        p[ws..].starts_with(token).then_some(ws + token.len())
    };
    let mut at = 0;
    for token in [&b"{"[..], b"\"Records\"", b":", b"["] {
        match after(&doc[at..], token) {
            Some(n) => at += n,
            None => return false,
        }
    }
    true
}

pub fn parse(
    reader: &mut dyn BufRead,
    limits: &Limits,
    emit: &mut Emit<'_>,
) -> Result<ParseStats, FormatError> {
    let mut p = Walker {
        r: reader,
        buf: Vec::with_capacity(16 * 1024),
        stack: Vec::with_capacity(16),
        max: limits.max_line_bytes,
    };
    let mut stats = ParseStats::default();
    let malformed = |what: &str, stats: &ParseStats| {
        FormatError::Malformed(format!(
            "not a CloudTrail file {{\"Records\":[...]}}: {what} (after {} event(s))",
            stats.events
        ))
    };
    p.skip_bom()?;
    if p.skip_ws()? != Some(b'{') {
        return Err(malformed("it does not start with '{'", &stats));
    }
    p.bump();
    let mut saw_records = false;
    let mut first = true;
    loop {
        match p.skip_ws()? {
            Some(b'}') if first => {
                p.bump();
                break;
            }
            Some(b'"') => {}
            Some(_) => return Err(malformed("expected a member name", &stats)),
            None => return Err(malformed("it ends in the middle of its JSON", &stats)),
        }
        first = false;
        let is_records = match p.value()? {
            Value::Complete => p.key_is_records(),
            _ => return Err(malformed("a member name is cut off or too long", &stats)),
        };
        if p.skip_ws()? != Some(b':') {
            return Err(malformed("expected ':' after a member name", &stats));
        }
        p.bump();
        if is_records && !saw_records {
            saw_records = true;
            p.records(emit, &mut stats, &malformed)?;
        } else {
            p.skip_ws()?;
            match p.value()? {
                Value::Complete => {
                    if serde_json::from_slice::<IgnoredAny>(&p.buf).is_err() {
                        return Err(malformed("a top-level member is not valid JSON", &stats));
                    }
                }
                // Too large to check; skipped unread, like any member we ignore.
                Value::Cut => {}
                Value::Incomplete => {
                    return Err(malformed("it ends in the middle of its JSON", &stats))
                }
                Value::Mismatched => return Err(malformed("brackets do not match", &stats)),
            }
        }
        match p.skip_ws()? {
            Some(b',') => p.bump(),
            Some(b'}') => {
                p.bump();
                break;
            }
            Some(_) => return Err(malformed("expected ',' or '}' after a member", &stats)),
            None => return Err(malformed("it ends in the middle of its JSON", &stats)),
        }
    }
    if p.skip_ws()?.is_some() {
        return Err(malformed("there is more data after the object", &stats));
    }
    if !saw_records {
        return Err(malformed("it has no \"Records\" member", &stats));
    }
    Ok(stats)
}

/// How reading one JSON value ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Value {
    /// The whole value is in the buffer.
    Complete,
    /// The value was read to its end, but only its first `max` bytes kept.
    Cut,
    /// The stream ended inside the value.
    Incomplete,
    /// A closing bracket did not match the open one: the structure is lost.
    Mismatched,
}

/// Walks the outer structure of the file over the reader.
struct Walker<'r> {
    r: &'r mut dyn BufRead,
    /// The current value (member name, element, ignored member).
    buf: Vec<u8>,
    /// The closing brackets expected, innermost last.
    stack: Vec<u8>,
    max: usize,
}

impl Walker<'_> {
    fn fill(&mut self) -> Result<&[u8], FormatError> {
        loop {
            match self.r.fill_buf() {
                Ok(_) => break,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                // Kept as it is: the caller tells a deadline or a size limit
                // from the inner error.
                Err(e) => return Err(FormatError::Io(e)),
            }
        }
        // Already buffered: this second call only hands the bytes out (the
        // borrow checker cannot return them from inside the loop).
        self.r.fill_buf().map_err(FormatError::Io)
    }

    fn bump(&mut self) {
        self.r.consume(1);
    }

    fn skip_bom(&mut self) -> Result<(), FormatError> {
        // Only a complete BOM at the start counts; fill_buf gives at least
        // 3 bytes unless the stream is shorter, in which case it is no BOM.
        if self.fill()?.starts_with(b"\xEF\xBB\xBF") {
            self.r.consume(3);
        }
        Ok(())
    }

    /// Skips JSON whitespace; the next byte, not consumed.
    fn skip_ws(&mut self) -> Result<Option<u8>, FormatError> {
        loop {
            let b = self.fill()?;
            if b.is_empty() {
                return Ok(None);
            }
            match b
                .iter()
                .position(|c| !matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
            {
                Some(i) => {
                    let c = b[i];
                    self.r.consume(i);
                    return Ok(Some(c));
                }
                None => {
                    let n = b.len();
                    self.r.consume(n);
                }
            }
        }
    }

    /// Reads one JSON value starting at the next byte (whitespace already
    /// skipped) into `buf`, keeping at most `max` bytes. Only strings,
    /// escapes and brackets are followed: validity is the parser's job.
    fn value(&mut self) -> Result<Value, FormatError> {
        self.buf.clear();
        self.stack.clear();
        let mut in_str = false;
        let mut escaped = false;
        let mut scalar = false;
        let mut started = false;
        let mut cut = false;
        loop {
            let max = self.max;
            let b = match self.r.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(FormatError::Io(e)),
            };
            if b.is_empty() {
                return Ok(if scalar && started {
                    if cut {
                        Value::Cut
                    } else {
                        Value::Complete
                    }
                } else {
                    Value::Incomplete
                });
            }
            let n = b.len();
            let mut i = 0;
            let mut done = false;
            while i < n {
                if escaped {
                    escaped = false;
                    i += 1;
                    continue;
                }
                if in_str {
                    match memchr::memchr2(b'"', b'\\', &b[i..]) {
                        None => i = n,
                        Some(j) => {
                            i += j + 1;
                            if b[i - 1] == b'\\' {
                                escaped = true;
                            } else {
                                in_str = false;
                                if self.stack.is_empty() {
                                    done = true;
                                    break;
                                }
                            }
                        }
                    }
                    continue;
                }
                let c = b[i];
                if scalar {
                    // A number or literal ends before a delimiter.
                    if matches!(c, b',' | b']' | b'}' | b':' | b' ' | b'\t' | b'\n' | b'\r') {
                        done = true;
                        break;
                    }
                    i += 1;
                    continue;
                }
                match c {
                    b'"' => in_str = true,
                    b'{' => self.stack.push(b'}'),
                    b'[' => self.stack.push(b']'),
                    b'}' | b']' => {
                        if self.stack.pop() != Some(c) {
                            return Ok(Value::Mismatched);
                        }
                        if self.stack.is_empty() {
                            i += 1;
                            done = true;
                            break;
                        }
                    }
                    _ if !started => scalar = true,
                    _ => {}
                }
                started = true;
                i += 1;
            }
            let keep = i.min(max.saturating_sub(self.buf.len()));
            cut |= keep < i;
            self.buf.extend_from_slice(&b[..keep]);
            self.r.consume(i);
            if done {
                return Ok(if cut { Value::Cut } else { Value::Complete });
            }
        }
    }

    /// Whether the member name in `buf` is `Records` (escapes decoded).
    fn key_is_records(&self) -> bool {
        matches!(serde_json::from_slice::<Cow<'_, str>>(&self.buf), Ok(k) if k == "Records")
    }

    /// Reads the `Records` array, emitting each element.
    fn records(
        &mut self,
        emit: &mut Emit<'_>,
        stats: &mut ParseStats,
        malformed: &dyn Fn(&str, &ParseStats) -> FormatError,
    ) -> Result<(), FormatError> {
        match self.skip_ws()? {
            Some(b'[') => self.bump(),
            _ => return Err(malformed("\"Records\" is not an array", stats)),
        }
        if self.skip_ws()? == Some(b']') {
            self.bump();
            return Ok(());
        }
        loop {
            match self.skip_ws()? {
                Some(b',' | b']' | b'}' | b':') => {
                    return Err(malformed("expected an element in \"Records\"", stats))
                }
                None => return Err(malformed("it ends in the middle of its JSON", stats)),
                Some(_) => {}
            }
            match self.value()? {
                Value::Complete => emit_event(&self.buf, None, emit, stats)?,
                Value::Cut => emit_event(&self.buf, Some(self.max), emit, stats)?,
                Value::Incomplete => {
                    return Err(malformed("it ends in the middle of its JSON", stats))
                }
                Value::Mismatched => return Err(malformed("brackets do not match", stats)),
            }
            match self.skip_ws()? {
                Some(b',') => self.bump(),
                Some(b']') => {
                    self.bump();
                    return Ok(());
                }
                Some(_) => {
                    return Err(malformed(
                        "expected ',' or ']' after an element of \"Records\"",
                        stats,
                    ))
                }
                None => return Err(malformed("it ends in the middle of its JSON", stats)),
            }
        }
    }
}

/// Parses one element and emits it; `cut` is the limit when only the first
/// bytes of the element were kept.
fn emit_event(
    bytes: &[u8],
    cut: Option<usize>,
    emit: &mut Emit<'_>,
    stats: &mut ParseStats,
) -> Result<(), FormatError> {
    let n = stats.events + 1;
    // Valid UTF-8 is the rule: check it with SIMD, and only a bad event
    // pays for the lossy conversion.
    let text = match simdutf8::basic::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(bytes),
    };
    let error = if let Some(limit) = cut {
        format!("CloudTrail record {n} is larger than {limit} bytes (MAX_LINE_BYTES); only its start is kept")
    } else if matches!(text, Cow::Owned(_)) {
        format!("CloudTrail record {n} is not valid UTF-8; invalid bytes replaced by U+FFFD")
    } else if !text.starts_with('{') {
        // Checked here because serde would also fill the struct from an array.
        let what = match text.as_bytes().first() {
            Some(b'[') => "an array",
            Some(b'"') => "a string",
            Some(b'n') => "null",
            Some(b't' | b'f') => "a boolean",
            _ => "a number or not JSON",
        };
        format!("CloudTrail record {n} is {what}, not an event object")
    } else {
        match serde_json::from_str::<Event<'_>>(&text) {
            Ok(event) => return send(emit, stats, map_event(&text, event)),
            Err(e) => format!("CloudTrail record {n} is not a valid event: {e}"),
        }
    };
    let mut ev = ParsedEvent::new(DATASET, &text);
    ev.error = Some(Cow::Owned(error));
    send(emit, stats, ev)
}

fn map_event<'a>(raw: &'a str, e: Event<'a>) -> ParsedEvent<'a> {
    let mut ev = ParsedEvent::new(DATASET, raw);
    let f = &mut ev.fields;
    if let Some(t) = e.event_time {
        match rfc3339_utc(&t) {
            // Already RFC 3339 UTC: @timestamp holds it as it is.
            Some(Cow::Borrowed(_)) => ev.timestamp = Some(t),
            // Converted (another offset) or not a time: keep the source too.
            converted => {
                ev.timestamp = converted;
                f.str("aws.cloudtrail.event_time", t);
            }
        }
    }
    f.str("event.kind", "event");
    f.opt_cow("event.action", e.event_name);
    f.opt_cow("event.provider", e.event_source);
    // Failed console sign-ins carry no errorCode, only
    // responseElements.ConsoleLogin = "Failure".
    let response_elements = e.raw[1];
    let console_failure =
        response_elements.is_some_and(|r| r.get().contains("\"ConsoleLogin\":\"Failure\""));
    f.str(
        "event.outcome",
        if e.error_code.is_some() || console_failure {
            "failure"
        } else {
            "success"
        },
    );
    // recipientAccountId is cloud.account.id (not written twice).
    f.opt_cow("cloud.account.id", e.recipient_account_id);
    f.opt_cow("cloud.region", e.aws_region);
    if let Some(ip) = e.source_ip_address {
        if ip.parse::<IpAddr>().is_ok() {
            f.str("source.ip", ip);
        } else {
            f.str("source.address", ip);
        }
    }
    f.opt_cow("user_agent.original", e.user_agent);

    f.opt_cow("aws.cloudtrail.event_version", e.event_version);
    f.opt_cow("aws.cloudtrail.event_type", e.event_type);
    f.opt_cow("aws.cloudtrail.event_category", e.event_category);
    f.opt_cow("aws.cloudtrail.request_id", e.request_id);
    f.opt_cow("aws.cloudtrail.event_id", e.event_id);
    f.opt_cow("aws.cloudtrail.shared_event_id", e.shared_event_id);
    f.opt_cow("aws.cloudtrail.vpc_endpoint_id", e.vpc_endpoint_id);
    f.opt_cow(
        "aws.cloudtrail.vpc_endpoint_account_id",
        e.vpc_endpoint_account_id,
    );
    f.opt_cow("aws.cloudtrail.api_version", e.api_version);
    f.opt_cow("aws.cloudtrail.error_code", e.error_code);
    f.opt_cow("aws.cloudtrail.error_message", e.error_message);
    if let Some(v) = e.read_only {
        f.bool("aws.cloudtrail.read_only", v);
    }
    if let Some(v) = e.management_event {
        f.bool("aws.cloudtrail.management_event", v);
    }
    for ((_, path), raw) in RAW_MEMBERS.iter().zip(e.raw) {
        f.opt_raw(path, raw);
    }
    f.members("aws.cloudtrail.*", e.unmapped);
    if let Some(u) = e.user_identity {
        map_identity(u, f);
    }
    ev
}

/// `userIdentity`: `principalId` is `user.id`, `userName` (else the
/// session issuer's, else the ARN's last part) `user.name`; the rest under
/// `aws.cloudtrail.user_identity.*`.
fn map_identity<'a>(u: UserIdentity<'a>, f: &mut crate::record::Fields<'a>) {
    f.opt_cow("aws.cloudtrail.user_identity.type", u.kind);
    f.opt_cow("aws.cloudtrail.user_identity.account_id", u.account_id);
    f.opt_cow(
        "aws.cloudtrail.user_identity.access_key_id",
        u.access_key_id,
    );
    f.opt_cow("aws.cloudtrail.user_identity.invoked_by", u.invoked_by);
    f.opt_cow("user.id", u.principal_id);
    f.opt_raw(
        "aws.cloudtrail.user_identity.session_context",
        u.session_context,
    );
    f.members("aws.cloudtrail.user_identity.*", u.unmapped);
    let name = match u.user_name {
        Some(n) => Some(n),
        None => u
            .session_context
            .and_then(|raw| serde_json::from_str::<SessionContext<'a>>(raw.get()).ok())
            .and_then(|s| s.session_issuer)
            .and_then(|i| i.user_name)
            .or_else(|| {
                u.arn
                    .as_deref()
                    .and_then(|a| a.rsplit('/').next())
                    .filter(|n| !n.is_empty() && !n.starts_with("arn:"))
                    .map(|n| Cow::Owned(n.to_owned()))
            }),
    };
    f.opt_cow("user.name", name);
    f.opt_cow("aws.cloudtrail.user_identity.arn", u.arn);
}

#[cfg(test)]
mod tests {
    use crate::formats::testing::run;
    use crate::formats::{Format, FormatError};

    // Shaped like the examples in the AWS CloudTrail User Guide ("CloudTrail
    // log file examples"): an IAM user's API call, an assumed role's failed
    // call, and a service event.
    const SAMPLE: &str = include_str!("../../events/objects/cloudtrail.json");

    #[test]
    fn a_failed_console_login_is_a_failure_without_an_error_code() {
        let input = br#"{"Records":[{"eventName":"ConsoleLogin","responseElements":{"ConsoleLogin":"Failure"},"errorMessage":"Failed authentication"},{"eventName":"ConsoleLogin","responseElements":{"ConsoleLogin":"Success"}}]}"#;
        let (evs, _) = run(Format::CloudTrail, input, 1 << 20).unwrap();
        assert_eq!(evs[0].field("event.outcome"), Some("failure"));
        assert_eq!(evs[1].field("event.outcome"), Some("success"));
    }

    #[test]
    fn every_member_reaches_the_record_and_unknown_ones_keep_their_names() {
        use crate::record::{ObjectContext, RecordWriter};
        let input = br#"{"Records":[{
            "eventVersion": "1.11", "eventTime": "2026-01-01T01:00:00+01:00",
            "userIdentity": {"type": "WebIdentityUser", "principalId": "p", "userName": "u",
                "webIdFederationData": {"federatedProvider": "x"}, "event_type": 1},
            "sharedEventID": "s", "vpcEndpointId": "vpce-1", "apiVersion": "2012-01-01",
            "sessionCredentialFromConsole": "true", "edgeDeviceDetails": {"d": [1, 2]},
            "serviceEventDetails": {"k": "v"}, "tlsDetails": {"tlsVersion": "TLSv1.3"},
            "recipientAccountId": "123456789012",
            "brandNewMember": {"nested": [true, null, 2.5]}, "event_type": "clash", "gone": null
        }]}"#;
        let mut w = RecordWriter::new(std::sync::Arc::new(ObjectContext {
            bucket: "b".into(),
            key: "k".into(),
            version: String::new(),
            ingested: "2026-01-01T00:00:00Z".into(),
            include_original: false,
        }));
        let mut out = Vec::new();
        super::parse(&mut &input[..], &limits(1 << 20), &mut |ev| {
            assert!(ev.error.is_none(), "{:?}", ev.error);
            w.write(0, &ev, &mut out);
            Ok(())
        })
        .unwrap();
        assert_eq!(out.iter().filter(|b| **b == b'\n').count(), 1, "one line");
        let r: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let ct = &r["aws"]["cloudtrail"];
        assert_eq!(r["@timestamp"], "2026-01-01T00:00:00Z");
        assert_eq!(
            ct["event_time"], "2026-01-01T01:00:00+01:00",
            "converted: source kept"
        );
        assert_eq!(ct["shared_event_id"], "s");
        assert_eq!(ct["vpc_endpoint_id"], "vpce-1");
        assert_eq!(ct["api_version"], "2012-01-01");
        assert_eq!(ct["session_credential_from_console"], "true");
        assert_eq!(ct["edge_device_details"]["d"][1], 2);
        assert_eq!(ct["service_event_details"]["k"], "v");
        assert_eq!(ct["tls_details"]["tlsVersion"], "TLSv1.3");
        assert_eq!(ct["brandNewMember"]["nested"][2], 2.5);
        assert_eq!(
            ct["event_type_"], "clash",
            "renamed, not a second event_type"
        );
        assert!(ct.get("gone").is_none(), "null is absent");
        assert!(
            ct.get("recipient_account_id").is_none(),
            "it is cloud.account.id"
        );
        assert_eq!(r["cloud"]["account"]["id"], "123456789012");
        let id = &ct["user_identity"];
        assert_eq!(id["type"], "WebIdentityUser");
        assert_eq!(id["webIdFederationData"]["federatedProvider"], "x");
        assert_eq!(id["event_type"], 1);
        assert_eq!(r["user"]["name"], "u");
        assert_eq!(r["user"]["id"], "p");
        assert!(r["event"].get("original").is_none());
    }

    #[test]
    fn a_member_given_twice_makes_an_error_event_that_keeps_the_text() {
        let input = br#"{"Records":[{"eventName":"A","eventName":"B"}]}"#;
        let (evs, stats) = run(Format::CloudTrail, input, 1 << 20).unwrap();
        assert_eq!(stats.errors, 1);
        assert!(evs[0]
            .error
            .as_deref()
            .unwrap()
            .contains("duplicate field `eventName`"));
    }

    #[test]
    fn records_become_mapped_events() {
        let (evs, stats) = run(Format::CloudTrail, SAMPLE.as_bytes(), 1 << 20).unwrap();
        assert_eq!(stats.events, 3);
        assert_eq!(stats.errors, 0);
        let e = &evs[0];
        assert_eq!(e.dataset, "aws.cloudtrail");
        assert_eq!(e.timestamp.as_deref(), Some("2026-11-22T20:50:11Z"));
        assert_eq!(e.field("event.action"), Some("StartInstances"));
        assert_eq!(e.field("event.provider"), Some("ec2.amazonaws.com"));
        assert_eq!(e.field("event.outcome"), Some("success"));
        assert_eq!(e.field("cloud.account.id"), Some("111111111111"));
        assert_eq!(e.field("cloud.region"), Some("us-east-1"));
        assert_eq!(e.field("source.ip"), Some("198.51.100.1"));
        assert_eq!(e.field("user.name"), Some("Mary_Major"));
        assert_eq!(e.field("aws.cloudtrail.read_only"), Some("false"));
        assert!(e
            .field("aws.cloudtrail.request_parameters")
            .unwrap()
            .contains("i-EXAMPLE56126103cb"));
        let parsed: serde_json::Value = serde_json::from_str(&e.original).unwrap();
        assert_eq!(parsed["eventID"], "e755e09c-42f9-4c5c-9064-EXAMPLE228c7");

        let assumed = &evs[1];
        assert_eq!(assumed.field("user.name"), Some("Deployer"));
        assert_eq!(assumed.field("event.outcome"), Some("failure"));
        assert_eq!(
            assumed.field("aws.cloudtrail.error_code"),
            Some("AccessDenied")
        );

        let service = &evs[2];
        assert_eq!(
            service.field("source.address"),
            Some("cloudtrail.amazonaws.com")
        );
        assert_eq!(service.field("source.ip"), None);
        assert_eq!(
            service.field("aws.cloudtrail.user_identity.invoked_by"),
            Some("cloudtrail.amazonaws.com")
        );
    }

    #[test]
    fn bad_elements_become_error_events_and_the_rest_is_kept() {
        let input = br#"{"Records":[{"eventName":"A","eventTime":"2026-01-01T00:00:00Z"}, 42, {"eventName":{"x":1}}, {"eventName":"B"}], "extra": true}"#;
        let (evs, stats) = run(Format::CloudTrail, input, 1 << 20).unwrap();
        assert_eq!(evs.len(), 4);
        assert_eq!(stats.errors, 2);
        assert_eq!(evs[1].original, "42");
        assert!(evs[1].error.as_deref().unwrap().contains("record 2"));
        assert_eq!(evs[3].field("event.action"), Some("B"));
    }

    #[test]
    fn not_a_cloudtrail_file_is_malformed() {
        let cases: [&[u8]; 6] = [
            b"[1,2]",
            b"{\"other\":1}",
            b"{\"Records\":{}}",
            b"not json",
            b"",
            b"{\"Records\":[]} trailing",
        ];
        for input in cases {
            let got = run(Format::CloudTrail, input, 1 << 20);
            assert!(
                matches!(got, Err(FormatError::Malformed(_))),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn truncated_file_keeps_events_before_the_cut_and_fails() {
        let cut = &SAMPLE.as_bytes()[..SAMPLE.len() - 200];
        match run(Format::CloudTrail, cut, 1 << 20) {
            Err(FormatError::Malformed(m)) => assert!(m.contains("ends in the middle"), "{m}"),
            other => panic!("{:?}", other.map(|(e, _)| e.len())),
        }
    }

    #[test]
    fn empty_records_is_a_valid_file() {
        let (evs, _) = run(Format::CloudTrail, b" {\"Records\": [ ] }\n", 1 << 20).unwrap();
        assert!(evs.is_empty());
    }

    // Hand-written after the examples in the AWS CloudTrail User Guide; see
    // tests/data/cloudtrail/README.md for which example each follows.
    const DOCS: &str = include_str!("../../tests/data/cloudtrail/management-events.json");
    const INSIGHTS: &str = include_str!("../../tests/data/cloudtrail/insights.json");

    fn limits(max: usize) -> crate::formats::Limits {
        crate::formats::Limits {
            max_line_bytes: max,
        }
    }

    #[test]
    fn documented_examples_map_to_ecs_fields() {
        let (evs, stats) = run(Format::CloudTrail, DOCS.as_bytes(), 1 << 20).unwrap();
        assert_eq!((stats.events, stats.errors), (4, 0));
        let cases: [&[(&str, Option<&str>)]; 4] = [
            &[
                ("event.action", Some("StartInstances")),
                ("user.name", Some("Mateo")),
                ("user.id", Some("AIDAEXAMPLEPRINCIPAL1")),
                ("source.ip", Some("192.0.2.10")),
                ("cloud.region", Some("us-east-2")),
                ("aws.cloudtrail.user_identity.type", Some("IAMUser")),
                ("aws.cloudtrail.user_identity.access_key_id", Some("AKIAIOSFODNN7EXAMPLE")),
                ("aws.cloudtrail.event_category", Some("Management")),
                ("aws.cloudtrail.management_event", Some("true")),
                ("event.outcome", Some("success")),
            ],
            &[
                ("user.name", Some("Admin")),
                ("source.ip", Some("2001:db8::1f")),
                ("aws.cloudtrail.event_version", Some("1.09")),
            ],
            &[
                ("event.outcome", Some("failure")),
                ("aws.cloudtrail.error_code", Some("Client.UnauthorizedOperation")),
                (
                    "aws.cloudtrail.error_message",
                    Some("You are not authorized to perform this operation. Encoded authorization failure message: \"EXAMPLE&more\""),
                ),
                ("aws.cloudtrail.response_elements", None), // null is left out
            ],
            &[
                ("source.address", Some("cloudtrail.amazonaws.com")),
                ("source.ip", None),
                ("user.name", None),
                ("aws.cloudtrail.user_identity.invoked_by", Some("cloudtrail.amazonaws.com")),
                ("aws.cloudtrail.shared_event_id", Some("5f6e7d8c-EXAMPLE")),
                ("aws.cloudtrail.read_only", Some("true")),
            ],
        ];
        for (ev, fields) in evs.iter().zip(cases) {
            assert_eq!(ev.dataset, "aws.cloudtrail");
            assert_eq!(ev.field("event.kind"), Some("event"));
            assert_eq!(ev.field("cloud.account.id"), Some("123456789012"));
            for (path, want) in fields {
                assert_eq!(ev.field(path), *want, "{path} in {}", ev.original);
            }
            // The original is exactly the element's text, pretty-printing included.
            assert!(DOCS.contains(&ev.original));
        }
        // sessionContext is kept whole, as the source writes it.
        let context = evs[1]
            .field("aws.cloudtrail.user_identity.session_context")
            .unwrap();
        assert!(context.contains(r#""arn": "arn:aws:iam::123456789012:role/Admin""#));
        assert_eq!(evs[2].timestamp.as_deref(), Some("2026-11-22T10:02:44Z"));
        // Pass-through members keep their text, whitespace included.
        let response = evs[1].field("aws.cloudtrail.response_elements").unwrap();
        assert!(response.starts_with("{\n") && response.contains(r#""userName": "Richard""#));
    }

    #[test]
    fn insights_events_keep_their_details() {
        let (evs, _) = run(Format::CloudTrail, INSIGHTS.as_bytes(), 1 << 20).unwrap();
        assert_eq!(evs.len(), 2);
        for e in &evs {
            assert_eq!(
                e.field("aws.cloudtrail.event_type"),
                Some("AwsCloudTrailInsight")
            );
            assert_eq!(
                e.field("aws.cloudtrail.shared_event_id"),
                Some("12edc982-EXAMPLE")
            );
            assert!(e
                .field("aws.cloudtrail.insight_details")
                .unwrap()
                .contains("ApiCallRateInsight"));
        }
        assert_eq!(evs[1].timestamp.as_deref(), Some("2026-11-22T11:05:00Z"));
    }

    #[test]
    fn records_are_written_as_nested_json() {
        use crate::record::{ObjectContext, RecordWriter};
        let mut w = RecordWriter::new(std::sync::Arc::new(ObjectContext {
            bucket: "trail-bucket".into(),
            key: "AWSLogs/123456789012/CloudTrail/us-east-2/2026/11/22/x.json.gz".into(),
            version: "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY".into(),
            ingested: "2026-11-22T20:55:04.123Z".into(),
            include_original: true,
        }));
        let mut out = Vec::new();
        let mut records = Vec::new();
        let mut n = 0;
        super::parse(&mut DOCS.as_bytes(), &limits(1 << 20), &mut |ev| {
            w.write(n, &ev, &mut out);
            n += 1;
            records.push(
                serde_json::from_slice::<serde_json::Value>(&out)
                    .map_err(|_| crate::formats::Stop)?,
            );
            Ok(())
        })
        .unwrap();
        assert_eq!(records.len(), 4);
        let r = &records[0];
        assert_eq!(r["@timestamp"], "2026-11-22T09:14:27Z");
        assert_eq!(r["event"]["action"], "StartInstances");
        assert_eq!(r["event"]["dataset"], "aws.cloudtrail");
        assert_eq!(r["event"]["sequence"], 0);
        assert_eq!(r["cloud"]["provider"], "aws");
        assert_eq!(r["cloud"]["region"], "us-east-2");
        assert_eq!(r["aws"]["s3"]["bucket"], "trail-bucket");
        assert_eq!(r["aws"]["cloudtrail"]["user_identity"]["type"], "IAMUser");
        assert_eq!(
            r["aws"]["cloudtrail"]["request_parameters"]["instancesSet"]["items"][1]["instanceId"],
            "i-EXAMPLEaff4840c22"
        );
        let original: serde_json::Value =
            serde_json::from_str(r["event"]["original"].as_str().unwrap()).unwrap();
        assert_eq!(original["eventName"], "StartInstances");
        assert!(r.get("log").is_none(), "no line offsets in CloudTrail");
    }

    #[test]
    fn the_outer_structure_is_followed_exactly() {
        // (input, events, errors)
        let cases: &[(&[u8], u64, u64)] = &[
            // Other members before and after, with brackets, quotes and a
            // "Records" key of their own inside strings and objects.
            (br#"{"x":{"Records":[1]},"s":"]}\"[{","Records":[{"eventName":"A"}],"y":[[]]}"#, 1, 0),
            // Only the first Records member counts.
            (br#"{"Records":[{"eventName":"A"}],"Records":[{"eventName":"B"},{}]}"#, 1, 0),
            // A byte order mark and whitespace everywhere.
            (b"\xEF\xBB\xBF \r\n{ \"Records\" :\n[ {\"eventName\":\"A\"} ,\t{\"eventName\":\"B\"} ] } \n", 2, 0),
            // Escaped key.
            (br#"{"Rec\u006frds":[{}]}"#, 1, 0),
            // Elements that are not events: kept as errors.
            (br#"{"Records":[null,"x",1.5e3,true,[],{"eventName":"A"}]}"#, 6, 5),
            // Invalid JSON inside an element whose brackets still match.
            (br#"{"Records":[{"eventName":A},{"eventName":"B"}]}"#, 2, 1),
            // Invalid UTF-8 inside a string.
            (b"{\"Records\":[{\"eventName\":\"\xff\"},{}]}", 2, 1),
        ];
        for (input, events, errors) in cases {
            let (evs, stats) = run(Format::CloudTrail, input, 1 << 20)
                .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(input)));
            assert_eq!((stats.events, stats.errors), (*events, *errors), "{evs:?}");
        }
    }

    #[test]
    fn broken_structure_is_malformed() {
        let cases: [&[u8]; 10] = [
            br#"{"Records":[{}],}"#,
            br#"{"Records":[{},]}"#,
            br#"{"Records":[{}}]}"#,
            br#"{"Records":[{"a":[}]}"#,
            br#"{"Records":[{}] "x":1}"#,
            br#"{"Records":[{}],"x":tru}"#,
            br#"{"Records":[{}"#,
            br#"{"Records":[{"a":"unterminated}]}"#,
            br#"{"Records"[]}"#,
            br#"{Records:[]}"#,
        ];
        for input in cases {
            let got = run(Format::CloudTrail, input, 1 << 20);
            assert!(
                matches!(got, Err(FormatError::Malformed(_))),
                "{}: {:?}",
                String::from_utf8_lossy(input),
                got.map(|(e, _)| e)
            );
        }
    }

    #[test]
    fn an_event_over_the_limit_is_kept_cut_and_the_rest_is_read() {
        let big = format!(
            r#"{{"eventName":"Big","requestParameters":{{"p":"{}"}}}}"#,
            "é".repeat(5000)
        );
        let input = format!(r#"{{"Records":[{big},{{"eventName":"After"}}]}}"#);
        let (evs, stats) = run(Format::CloudTrail, input.as_bytes(), 1001).unwrap();
        assert_eq!((stats.events, stats.errors), (2, 1));
        assert!(evs[0]
            .error
            .as_deref()
            .unwrap()
            .contains("larger than 1001 bytes"));
        assert!(evs[0].original.len() <= 1001 + 2, "cut, lossy at the end");
        assert!(big.starts_with(evs[0].original.trim_end_matches('\u{fffd}')));
        assert_eq!(evs[1].field("event.action"), Some("After"));
    }

    #[test]
    fn a_read_error_is_returned_as_it_is() {
        struct Failing(&'static [u8]);
        impl std::io::Read for Failing {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                if self.0.is_empty() {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "deadline",
                    ));
                }
                let n = buf.len().min(self.0.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        for format in [Format::CloudTrail, Format::JsonLines, Format::Text] {
            let mut r = std::io::BufReader::new(Failing(b"{\"Records\":[{\"eventName\":\"A\"},"));
            let mut seen = 0;
            let got = crate::formats::parse(format, &mut r, &limits(1000), &mut |_| {
                seen += 1;
                Ok(())
            });
            match got {
                Err(FormatError::Io(e)) => {
                    assert_eq!(e.kind(), std::io::ErrorKind::TimedOut, "{format:?}");
                    assert_eq!(e.to_string(), "deadline");
                }
                other => panic!("{format:?}: {other:?}"),
            }
            if format == Format::CloudTrail {
                assert_eq!(seen, 1, "the event before the error was emitted");
            }
        }
    }

    #[test]
    fn the_caller_can_stop_every_parser() {
        let inputs: [(Format, &[u8]); 3] = [
            (Format::CloudTrail, br#"{"Records":[{},{},{}]}"#),
            (Format::JsonLines, b"{}\n{}\n{}\n"),
            (Format::Text, b"a\nb\nc\n"),
        ];
        for (format, input) in inputs {
            let mut seen = 0;
            let got = crate::formats::parse(format, &mut &input[..], &limits(1000), &mut |_| {
                seen += 1;
                if seen == 2 {
                    Err(crate::formats::Stop)
                } else {
                    Ok(())
                }
            });
            assert!(matches!(got, Err(FormatError::Stopped)), "{format:?}");
            assert_eq!(seen, 2, "{format:?}");
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn json() -> impl Strategy<Value = serde_json::Value> {
            use serde_json::Value;
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                any::<i64>().prop_map(Value::from),
                "[a-z\"\\\\{}\\[\\]é\u{0}-\u{1f}]{0,12}".prop_map(Value::String),
            ];
            leaf.prop_recursive(4, 32, 6, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
                    prop::collection::vec(
                        ("(eventName|eventTime|[a-zA-Z\"\\\\]{1,8})", inner),
                        0..5
                    )
                    .prop_map(|kv| serde_json::Value::Object(kv.into_iter().collect())),
                ]
            })
        }

        proptest! {
            // The hand-written walker finds exactly the elements serde_json
            // finds, compact or pretty, and never more or fewer.
            #[test]
            fn elements_match_serde_json(records in prop::collection::vec(json(), 0..8), pretty in any::<bool>()) {
                let file = serde_json::json!({"before": records.first(), "Records": records, "after": 1});
                let text = if pretty { serde_json::to_string_pretty(&file) } else { serde_json::to_string(&file) }.unwrap();
                let (evs, stats) = run(Format::CloudTrail, text.as_bytes(), 1 << 20).unwrap();
                prop_assert_eq!(evs.len(), records.len());
                for (ev, want) in evs.iter().zip(&records) {
                    let got: serde_json::Value = serde_json::from_str(&ev.original).unwrap();
                    prop_assert_eq!(&got, want);
                    // An object can still fail on a member of the wrong type.
                    if !want.is_object() {
                        prop_assert!(ev.error.is_some());
                    }
                }
                prop_assert_eq!(stats.events as usize, records.len());
            }

            // Cutting a valid file anywhere never panics and never invents events.
            #[test]
            fn a_cut_file_is_malformed_or_fewer_events(records in prop::collection::vec(json(), 1..6), cut in any::<prop::sample::Index>()) {
                let text = serde_json::to_string(&serde_json::json!({"Records": records})).unwrap();
                let at = cut.index(text.len());
                match run(Format::CloudTrail, &text.as_bytes()[..at], 1 << 20) {
                    Ok((evs, _)) => prop_assert!(evs.len() <= records.len()),
                    Err(FormatError::Malformed(_)) => {}
                    Err(e) => prop_assert!(false, "unexpected {}", e),
                }
            }
        }
    }
}
