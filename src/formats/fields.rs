//! Shared pieces for space-separated access logs with quoted fields (ELB,
//! S3 server access) and for the W3C logs of CloudFront: a borrowing
//! tokenizer, `-` handling, `ip:port` splitting, TLS version and HTTP
//! request-line splitting, URL parts (like Elastic's `uri_parts`), time
//! conversion, and small JSON arrays (and members with run-time names)
//! built in a reusable buffer.
//!
//! It does not know any format's column order; the format modules do.

use std::borrow::Cow;
use std::net::IpAddr;
use std::ops::Range;

use serde_json::value::RawValue;

use super::framing::Scratch;
use crate::record::{FieldValue, Fields};

/// One token of a log line. `quoted` tells whether it was written in `"..."`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token<'a> {
    pub text: Cow<'a, str>,
    pub quoted: bool,
}

impl<'a> Token<'a> {
    /// The text unless it is `-` (or empty), which the logs write for "absent".
    pub fn value(&self) -> Option<Cow<'a, str>> {
        present(&self.text).map(|_| self.text.clone())
    }

    /// The text borrowed from the line unless it is `-`/empty. Only a quoted
    /// token with escaped quotes is not borrowed (then `None`); use
    /// [`Token::value`] for quoted fields.
    pub fn str(&self) -> Option<&'a str> {
        match &self.text {
            Cow::Borrowed(s) => present(s),
            Cow::Owned(_) => None,
        }
    }
}

/// Splits a line at single or repeated spaces. A token that starts with `"`
/// runs to the next `"` that is not escaped (`\"`) and is followed by a space
/// or the end of the line; it may contain spaces, and its `\"` are unescaped.
/// A quote inside a token that is not followed by a space (`"h2","http/1.1"`)
/// does not end it. Brackets are only special in [`Tokens::next_bracketed`].
pub struct Tokens<'a> {
    rest: &'a str,
}

/// Why a line could not be split into tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    UnterminatedQuote,
    UnterminatedBracket,
}

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenError::UnterminatedQuote => f.write_str("a quoted field has no closing quote"),
            TokenError::UnterminatedBracket => {
                f.write_str("a [bracketed] field has no closing bracket")
            }
        }
    }
}

impl<'a> Tokens<'a> {
    pub fn new(line: &'a str) -> Self {
        Tokens { rest: line }
    }

    /// The next token, `None` at the end of the line.
    pub fn next_token(&mut self) -> Result<Option<Token<'a>>, TokenError> {
        let s = self.rest.trim_start_matches(' ');
        if s.is_empty() {
            self.rest = s;
            return Ok(None);
        }
        if let Some(body) = s.strip_prefix('"') {
            let end = closing(body, b'"', true).ok_or(TokenError::UnterminatedQuote)?;
            let raw = &body[..end];
            self.rest = &body[end + 1..];
            // A backslash is rare in logs: look for one before looking for `\"`.
            let text = if memchr::memchr(b'\\', raw.as_bytes()).is_some() && raw.contains("\\\"") {
                Cow::Owned(raw.replace("\\\"", "\""))
            } else {
                Cow::Borrowed(raw)
            };
            return Ok(Some(Token { text, quoted: true }));
        }
        let end = memchr::memchr(b' ', s.as_bytes()).unwrap_or(s.len());
        self.rest = &s[end..];
        Ok(Some(Token {
            text: Cow::Borrowed(&s[..end]),
            quoted: false,
        }))
    }

    /// The next token; its absence is an error naming the field.
    pub fn req(&mut self, name: &str) -> Result<Token<'a>, String> {
        self.opt()?
            .ok_or_else(|| format!("the line ends before the {name} field"))
    }

    /// The next token if there is one.
    pub fn opt(&mut self) -> Result<Option<Token<'a>>, String> {
        self.next_token().map_err(|e| e.to_string())
    }

    /// The next token as `[...]` (brackets removed), e.g. the time of an S3
    /// access log: `[06/Feb/2019:00:00:38 +0000]`. A token without the
    /// opening bracket is returned as a plain token.
    pub fn next_bracketed(&mut self) -> Result<Option<&'a str>, TokenError> {
        let s = self.rest.trim_start_matches(' ');
        match s.strip_prefix('[') {
            Some(body) => {
                let end = closing(body, b']', false).ok_or(TokenError::UnterminatedBracket)?;
                self.rest = &body[end + 1..];
                Ok(Some(&body[..end]))
            }
            None => {
                let end = memchr::memchr(b' ', s.as_bytes()).unwrap_or(s.len());
                self.rest = &s[end..];
                Ok((end > 0).then(|| &s[..end]))
            }
        }
    }
}

/// Index in `body` of the closing `close` that is followed by a space or the
/// end; with `escapes`, a `close` right after a backslash does not count.
fn closing(body: &str, close: u8, escapes: bool) -> Option<usize> {
    let b = body.as_bytes();
    let mut i = 0;
    while let Some(off) = memchr::memchr(close, &b[i..]) {
        let at = i + off;
        let escaped = escapes && at > 0 && b[at - 1] == b'\\';
        if !escaped && matches!(b.get(at + 1), None | Some(b' ')) {
            return Some(at);
        }
        i = at + 1;
    }
    None
}

/// `None` for the logs' "absent" markers (`-`, empty).
pub fn present(s: &str) -> Option<&str> {
    (!s.is_empty() && s != "-").then_some(s)
}

/// Splits `ip:port` (also `[v6]:port` and bare v6 `a:b::c:port`) at the last
/// colon. The port must be a number; the address is returned without brackets.
pub fn ip_port(s: &str) -> Option<(&str, u16)> {
    let (host, port) = s.rsplit_once(':')?;
    let port = port.parse().ok()?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    (!host.is_empty()).then_some((host, port))
}

pub fn is_ip(s: &str) -> bool {
    s.parse::<IpAddr>().is_ok()
}

/// `TLSv1.2` / `tlsv12` / `SSLv3` -> (`tls`, `1.2`) / (`tls`, `1.2`) / (`ssl`, `3.0`),
/// as Elastic writes `tls.version_protocol` and `tls.version`.
pub fn tls_version(s: &str) -> Option<(&'static str, Cow<'_, str>)> {
    let lower_prefix = |p: &str| s.len() > p.len() && s[..p.len()].eq_ignore_ascii_case(p);
    let (protocol, v) = if lower_prefix("tlsv") {
        ("tls", &s[4..])
    } else if lower_prefix("sslv") {
        ("ssl", &s[4..])
    } else {
        return None;
    };
    if !v.bytes().all(|b| b.is_ascii_digit() || b == b'.') || !v.as_bytes()[0].is_ascii_digit() {
        return None;
    }
    if v.contains('.') {
        Some((protocol, Cow::Borrowed(v)))
    } else if v.len() == 1 {
        Some((protocol, Cow::Owned(format!("{v}.0"))))
    } else {
        Some((protocol, Cow::Owned(format!("{}.{}", &v[..1], &v[1..]))))
    }
}

/// Adds `tls.version_protocol` and `tls.version` when `s` is a TLS/SSL version.
pub fn put_tls_version<'a>(fields: &mut Fields<'a>, s: &'a str) {
    if let Some((protocol, version)) = tls_version(s) {
        fields.str("tls.version_protocol", protocol);
        fields.str("tls.version", version);
    }
}

/// An HTTP request line as the access logs write it: `GET http://h:80/p?q HTTP/1.1`.
/// The URI may contain spaces; `-` parts are absent.
pub struct RequestLine<'a> {
    pub method: Option<&'a str>,
    pub uri: Option<&'a str>,
    /// Without `HTTP/`: `1.1`, `2.0`.
    pub version: Option<&'a str>,
}

pub fn request_line(s: &str) -> RequestLine<'_> {
    let s = s.trim_matches(' ');
    let Some((method, rest)) = s.split_once(' ') else {
        return RequestLine {
            method: present(s),
            uri: None,
            version: None,
        };
    };
    let rest = rest.trim_matches(' ');
    let (uri, version) = match rest.rsplit_once(' ') {
        Some((u, "-")) => (u, None),
        Some((u, v)) if v.len() > 5 && v[..5].eq_ignore_ascii_case("HTTP/") => (u, Some(&v[5..])),
        _ => (rest, None),
    };
    RequestLine {
        method: present(method),
        uri: present(uri.trim_matches(' ')),
        version,
    }
}

/// Parts of a URL, like Elastic's `uri_parts` processor (`url.scheme`,
/// `url.domain`, `url.port`, `url.path`, `url.query`, `url.fragment`,
/// `url.extension`). Works on absolute URLs and on paths (`/a/b?x=1`).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct UrlParts<'a> {
    pub scheme: Option<&'a str>,
    pub domain: Option<&'a str>,
    pub port: Option<u16>,
    pub path: Option<&'a str>,
    pub query: Option<&'a str>,
    pub fragment: Option<&'a str>,
    pub extension: Option<&'a str>,
}

/// `None` when the URL is not one (e.g. a port that is not a number).
pub fn url_parts(url: &str) -> Option<UrlParts<'_>> {
    let mut parts = UrlParts::default();
    let (rest, fragment) = match url.split_once('#') {
        Some((r, f)) => (r, present(f)),
        None => (url, None),
    };
    parts.fragment = fragment;
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, (!q.is_empty()).then_some(q)),
        None => (rest, None),
    };
    parts.query = query;
    let path = if let Some((scheme, after)) = rest.split_once("://") {
        if scheme.is_empty()
            || !scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        {
            return None;
        }
        parts.scheme = Some(scheme);
        let (authority, path) = match after.find('/') {
            Some(i) => (&after[..i], &after[i..]),
            None => (after, ""),
        };
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        // `[v6]:port`, `[v6]`, `host:port`, `host`
        let (host, port) = if host_port.starts_with('[') {
            match host_port.find(']') {
                Some(i) => (&host_port[..=i], host_port[i + 1..].strip_prefix(':')),
                None => return None,
            }
        } else {
            match host_port.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (host_port, None),
            }
        };
        if let Some(p) = port {
            parts.port = Some(p.parse().ok()?);
        }
        parts.domain = (!host.is_empty()).then_some(host);
        path
    } else if rest.starts_with('/') {
        rest
    } else {
        return None;
    };
    if !path.is_empty() {
        parts.path = Some(path);
        let last = path.rsplit('/').next().unwrap_or("");
        parts.extension = last
            .rsplit_once('.')
            .map(|(_, e)| e)
            .filter(|e| !e.is_empty());
    }
    Some(parts)
}

/// Adds the `url.*` parts of `url` (not `url.original`).
pub fn put_url_parts<'a>(fields: &mut Fields<'a>, url: &'a str) {
    let Some(p) = url_parts(url) else { return };
    fields.opt_str("url.scheme", p.scheme);
    fields.opt_str("url.domain", p.domain);
    if let Some(port) = p.port {
        fields.u64("url.port", u64::from(port));
    }
    fields.opt_str("url.path", p.path);
    fields.opt_str("url.query", p.query);
    fields.opt_str("url.fragment", p.fragment);
    fields.opt_str("url.extension", p.extension);
}

/// Small JSON arrays of strings (`["forward","redirect"]`) for one event,
/// written into one buffer that is reused from line to line: fill it with
/// [`JsonArrays::push`], then hand the arrays to the event with
/// [`JsonArrays::put`] (which borrows the buffer for the event's life).
///
/// It also holds members with run-time names whose values are strings (a
/// column no mapping names, under the name its header gives it):
/// [`JsonArrays::member`], then [`JsonArrays::put_members`].
#[derive(Default)]
pub struct JsonArrays {
    buf: Vec<u8>,
    spans: Vec<(&'static str, Range<usize>)>,
    members: Vec<(String, Range<usize>)>,
}

impl Scratch for JsonArrays {
    fn clear(&mut self) {
        JsonArrays::clear(self)
    }
}

impl JsonArrays {
    pub fn clear(&mut self) {
        self.buf.clear();
        self.spans.clear();
        self.members.clear();
    }

    /// Adds the member `name` = `value` (a JSON string).
    pub fn member(&mut self, name: &str, value: &str) {
        let start = self.buf.len();
        // Writing a &str into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut self.buf, value);
        self.members.push((name.to_string(), start..self.buf.len()));
    }

    /// Adds the members (if any) at `path` (see [`Fields::members`]);
    /// a name among `taken` is renamed as [`super::json::keep`] does.
    pub fn put_members<'a>(&'a self, fields: &mut Fields<'a>, path: &'static str, taken: &[&str]) {
        let mut members = Vec::new();
        for (name, range) in &self.members {
            let raw = self
                .buf
                .get(range.clone())
                .and_then(|b| std::str::from_utf8(b).ok())
                .and_then(|text| serde_json::from_str::<&RawValue>(text).ok());
            if let Some(raw) = raw {
                super::json::keep(&mut members, Cow::Owned(name.clone()), raw, taken);
            }
        }
        fields.members(path, members);
    }

    /// Adds `path` = the items as a JSON array of strings; nothing if empty.
    pub fn push<'i>(&mut self, path: &'static str, items: impl IntoIterator<Item = &'i str>) {
        let start = self.buf.len();
        self.buf.push(b'[');
        let mut n = 0;
        for item in items {
            if n > 0 {
                self.buf.push(b',');
            }
            // Writing a &str into a Vec cannot fail.
            let _ = serde_json::to_writer(&mut self.buf, item);
            n += 1;
        }
        if n == 0 {
            self.buf.truncate(start);
            return;
        }
        self.buf.push(b']');
        self.spans.push((path, start..self.buf.len()));
    }

    /// Adds every array to `fields`.
    pub fn put<'a>(&'a self, fields: &mut Fields<'a>) {
        for (path, range) in &self.spans {
            if let Some(json) = self
                .buf
                .get(range.clone())
                .and_then(|b| std::str::from_utf8(b).ok())
            {
                fields.push(path, FieldValue::Json(json));
            }
        }
    }
}

/// Parses a number field: `-` or empty is `Ok(None)`, garbage is an error
/// naming the field.
pub fn num<T: std::str::FromStr>(s: &str, name: &str) -> Result<Option<T>, String> {
    match present(s) {
        None => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| format!("{name} {v:?} is not a number")),
    }
}

/// A quoted request line (`"GET http://host:80/path?q HTTP/1.1"`, or S3's
/// `GET /bucket/key?x HTTP/1.1`) -> `http.request.method`, `url.original` and
/// its parts, `http.version`.
pub fn put_request<'a>(f: &mut Fields<'a>, request: Cow<'a, str>) {
    match request {
        Cow::Borrowed(s) => {
            let r = request_line(s);
            f.opt_str("http.request.method", r.method);
            f.opt_str("http.version", r.version);
            if let Some(uri) = r.uri {
                f.str("url.original", uri);
                put_url_parts(f, uri);
            }
        }
        // Escaped quotes in the request line: rare; keep the parts, owned.
        Cow::Owned(s) => {
            let r = request_line(&s);
            let own = |v: Option<&str>| v.map(|v| Cow::Owned(v.to_string()));
            f.opt_cow("http.request.method", own(r.method));
            f.opt_cow("http.version", own(r.version));
            f.opt_cow("url.original", own(r.uri));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(line: &str) -> Result<Vec<(String, bool)>, TokenError> {
        let mut t = Tokens::new(line);
        let mut out = Vec::new();
        while let Some(tok) = t.next_token()? {
            out.push((tok.text.into_owned(), tok.quoted));
        }
        Ok(out)
    }

    #[test]
    fn tokens_split_at_spaces_and_keep_quoted_spaces() {
        let got = all(r#"http  a "GET http://x/ a b HTTP/1.1" "-" - "" x"#).unwrap();
        let want = [
            ("http", false),
            ("a", false),
            ("GET http://x/ a b HTTP/1.1", true),
            ("-", true),
            ("-", false),
            ("", true),
            ("x", false),
        ];
        let want: Vec<(String, bool)> = want.iter().map(|(s, q)| (s.to_string(), *q)).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn escaped_quotes_stay_inside_and_are_unescaped() {
        let got = all(r#"a "say \"hi\" now" b"#).unwrap();
        assert_eq!(got[1], ("say \"hi\" now".to_string(), true));
        assert_eq!(got[2].0, "b");
    }

    #[test]
    fn quote_not_followed_by_space_does_not_end_the_token() {
        let got = all(r#"h2 "h2","http/1.1" 2020"#).unwrap();
        assert_eq!(got[1].0, "h2\",\"http/1.1");
        assert_eq!(got[2].0, "2020");
    }

    #[test]
    fn unterminated_quote_is_an_error() {
        assert_eq!(all(r#"a "bc d"#), Err(TokenError::UnterminatedQuote));
    }

    #[test]
    fn bracketed_token_may_contain_spaces() {
        let mut t = Tokens::new("owner bucket [06/Feb/2019:00:00:38 +0000] 1.2.3.4");
        t.next_token().unwrap();
        t.next_token().unwrap();
        assert_eq!(
            t.next_bracketed().unwrap(),
            Some("06/Feb/2019:00:00:38 +0000")
        );
        assert_eq!(t.next_token().unwrap().unwrap().text, "1.2.3.4");
        let mut t = Tokens::new("[open only");
        assert_eq!(t.next_bracketed(), Err(TokenError::UnterminatedBracket));
    }

    #[test]
    fn ip_port_splits_v4_v6_and_bracketed() {
        let cases = [
            ("192.168.1.1:2817", Some(("192.168.1.1", 2817))),
            ("[2001:db8::1]:443", Some(("2001:db8::1", 443))),
            ("2001:db8::1:443", Some(("2001:db8::1", 443))),
            ("-", None),
            ("1.2.3.4:x", None),
            (":80", None),
        ];
        for (input, want) in cases {
            assert_eq!(ip_port(input), want, "{input}");
        }
    }

    #[test]
    fn tls_versions_like_elastic() {
        let cases = [
            ("TLSv1.2", Some(("tls", "1.2"))),
            ("tlsv12", Some(("tls", "1.2"))),
            ("tlsv13", Some(("tls", "1.3"))),
            ("SSLv3", Some(("ssl", "3.0"))),
            ("-", None),
            ("TLSvx", None),
            ("TLSv", None),
        ];
        for (input, want) in cases {
            let got = tls_version(input);
            assert_eq!(got.as_ref().map(|(p, v)| (*p, v.as_ref())), want, "{input}");
        }
    }

    #[test]
    fn request_lines_with_spaces_dashes_and_no_version() {
        let r = request_line("GET http://h:80/shell?cd+/tmp;rm+ a.b/jaws HTTP/1.1");
        assert_eq!(
            (r.method, r.uri, r.version),
            (
                Some("GET"),
                Some("http://h:80/shell?cd+/tmp;rm+ a.b/jaws"),
                Some("1.1")
            )
        );
        let r = request_line("- - - ");
        assert_eq!((r.method, r.uri, r.version), (None, None, None));
        let r = request_line("- http://h:80-/ ");
        assert_eq!(
            (r.method, r.uri, r.version),
            (None, Some("http://h:80-/"), None)
        );
    }

    #[test]
    fn url_parts_of_absolute_and_relative_urls() {
        let p = url_parts("http://www.example.com:80/a/b.html?x=1#f").unwrap();
        assert_eq!(
            p,
            UrlParts {
                scheme: Some("http"),
                domain: Some("www.example.com"),
                port: Some(80),
                path: Some("/a/b.html"),
                query: Some("x=1"),
                fragment: Some("f"),
                extension: Some("html"),
            }
        );
        let p = url_parts("/test-s3-ks/?location&aws-account=1").unwrap();
        assert_eq!(p.path, Some("/test-s3-ks/"));
        assert_eq!(p.query, Some("location&aws-account=1"));
        assert_eq!(p.extension, None);
        let p = url_parts("https://[::1]:8443").unwrap();
        assert_eq!(
            (p.domain, p.port, p.path),
            (Some("[::1]"), Some(8443), None)
        );
        assert!(url_parts("http://h:80-/").is_none());
        assert!(url_parts("not a url").is_none());
    }

    #[test]
    fn json_arrays_are_valid_json_and_skip_empty() {
        let mut a = JsonArrays::default();
        a.push("x.list", "forward,re\"direct".split(','));
        a.push("x.none", std::iter::empty());
        let mut f = Fields::new();
        a.put(&mut f);
        assert_eq!(f.len(), 1);
        match f.get("x.list") {
            Some(FieldValue::Json(j)) => {
                let v: Vec<String> = serde_json::from_str(j).unwrap();
                assert_eq!(v, ["forward", "re\"direct"]);
            }
            other => panic!("{other:?}"),
        }
    }
}
