//! Which format an object holds, and which objects are not logs at all.
//!
//! The key decides first (the `AWSLogs/<account>/<service>/...` layout AWS
//! services write), then the first bytes of the decompressed content. A
//! per-object override (configuration) wins over both; that is the caller's.

use super::Format;

/// The format a key names, if its path says.
pub fn from_key(key: &str) -> Option<Format> {
    let segs: Vec<&str> = key.split('/').collect();
    let at = segs.iter().position(|s| *s == "AWSLogs")?;
    // AWSLogs/<account>/<service>/ or, for organization trails,
    // AWSLogs/<org-id>/<account>/<service>/.
    let service = |i: usize| segs.get(at + i).copied().unwrap_or("");
    let org = service(1).starts_with("o-");
    let svc = if org { service(3) } else { service(2) };
    match svc {
        "CloudTrail" | "CloudTrail-Insight" => Some(Format::CloudTrail),
        _ => None,
    }
}

/// Why an object should not be read at all, if it should not.
pub fn is_skippable(key: &str) -> Option<&'static str> {
    if key.ends_with('/') {
        return Some("folder-marker");
    }
    if key.contains("/CloudTrail-Digest/") || key.contains("_CloudTrail-Digest_") {
        return Some("cloudtrail-digest");
    }
    None
}

/// The format of content starting with `prefix` (decompressed).
pub fn sniff(prefix: &[u8]) -> Format {
    let p = skip_ws(strip_bom(prefix));
    if let Some(rest) = p.strip_prefix(b"{") {
        let rest = skip_ws(rest);
        if let Some(rest) = rest.strip_prefix(b"\"Records\"") {
            let rest = skip_ws(rest);
            if let Some(rest) = rest.strip_prefix(b":") {
                if skip_ws(rest).starts_with(b"[") {
                    return Format::CloudTrail;
                }
            }
        }
        return Format::JsonLines;
    }
    Format::Text
}

fn strip_bom(p: &[u8]) -> &[u8] {
    p.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(p)
}

fn skip_ws(p: &[u8]) -> &[u8] {
    let n = p.iter().take_while(|b| b.is_ascii_whitespace()).count();
    &p[n..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_cloudtrail() {
        let cases = [
            (
                "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/22/x.json.gz",
                Some(Format::CloudTrail),
            ),
            (
                "prefix/AWSLogs/111122223333/CloudTrail/eu-west-1/2026/01/01/x.json.gz",
                Some(Format::CloudTrail),
            ),
            (
                "AWSLogs/o-abc123/111122223333/CloudTrail/us-east-1/2026/x.json.gz",
                Some(Format::CloudTrail),
            ),
            (
                "AWSLogs/111122223333/CloudTrail-Insight/us-east-1/2026/x.json.gz",
                Some(Format::CloudTrail),
            ),
            (
                "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/x.json.gz",
                None,
            ),
            (
                "AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/x.log.gz",
                None,
            ),
            ("app/CloudTrail/x.json", None),
            ("", None),
        ];
        for (key, want) in cases {
            assert_eq!(from_key(key), want, "{key}");
        }
    }

    #[test]
    fn skippable_objects() {
        assert_eq!(is_skippable("logs/"), Some("folder-marker"));
        assert_eq!(
            is_skippable("AWSLogs/1/CloudTrail-Digest/us-east-1/2026/11/22/1_CloudTrail-Digest_us-east-1_t_us-east-1_20261122T000000Z.json.gz"),
            Some("cloudtrail-digest")
        );
        assert_eq!(
            is_skippable("AWSLogs/1/CloudTrail/us-east-1/x.json.gz"),
            None
        );
    }

    #[test]
    fn content_sniffing() {
        let cases: [(&[u8], Format); 9] = [
            (
                b"{\"Records\":[{\"eventVersion\":\"1.08\"}]}",
                Format::CloudTrail,
            ),
            (b"\xEF\xBB\xBF  {\n  \"Records\" : [ ", Format::CloudTrail),
            (b"{\"Records\":{}}", Format::JsonLines),
            (b"{\"a\":1}\n{\"a\":2}\n", Format::JsonLines),
            (b"  {\"a\":1}", Format::JsonLines),
            (b"2 123456789012 eni-1 10.0.0.1", Format::Text),
            (b"", Format::Text),
            (b"[1,2]", Format::Text),
            (b"\x00\x01binary", Format::Text),
        ];
        for (prefix, want) in cases {
            assert_eq!(sniff(prefix), want, "{:?}", String::from_utf8_lossy(prefix));
        }
    }
}
