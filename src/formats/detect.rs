//! Which format an object holds, and which objects are not logs at all.
//!
//! The key decides first (the `AWSLogs/<account>/<service>/...` layout AWS
//! services write), then the first bytes of the decompressed content. A
//! per-object override (configuration) wins over both; that is the caller's.

use super::{Format, Sniff, FORMATS};

/// The format a key names, if its path says: the `AWSLogs/<account>/<service>/`
/// layout AWS services write (organization trails add `<org-id>/` before the
/// account), or a file name of a shape a format claims (CloudFront's
/// `<distribution-id>.YYYY-MM-DD-HH.<id>.gz`). The rows of the format table
/// say which service folders and names are theirs.
pub fn from_key(key: &str) -> Option<Format> {
    let segs: Vec<&str> = key.split('/').collect();
    if let Some(at) = segs.iter().position(|s| *s == "AWSLogs") {
        let seg = |i: usize| segs.get(at + i).copied().unwrap_or("");
        let svc = if seg(1).starts_with("o-") {
            seg(3)
        } else {
            seg(2)
        };
        if let Some(def) = FORMATS.iter().find(|d| d.key_services.contains(&svc)) {
            return Some(def.format);
        }
    }
    let name = segs.last().copied().unwrap_or("");
    FORMATS
        .iter()
        .find(|d| d.key_name.is_some_and(|matches| matches(name)))
        .map(|d| d.format)
}

/// Why an object should not be read at all, if it should not.
pub fn is_skippable(key: &str) -> Option<&'static str> {
    if key.ends_with('/') {
        return Some("folder-marker");
    }
    // Digest files (hash chains for log file validation) sit under
    // `CloudTrail-Digest/` and are named `<acct>_CloudTrail-Digest_<region>_...`.
    if key.contains("/CloudTrail-Digest/")
        || key.contains("_CloudTrail-Digest_")
        || key.ends_with("-Digest.json.gz")
        || key.ends_with("-Digest.json")
    {
        return Some("cloudtrail-digest");
    }
    if key.contains("ConfigWritabilityCheckFile") {
        return Some("config-writability-check");
    }
    None
}

/// The format of content starting with `prefix` (decompressed): the rows'
/// sniffers, in table order, decide on the first line (or the start of the
/// JSON document); what none claims is JSON lines or text.
pub fn sniff(prefix: &[u8]) -> Format {
    let p = skip_ws(strip_bom(prefix));
    let first_line = match memchr::memchr(b'\n', p) {
        Some(i) => &p[..i],
        None => p,
    };
    let first =
        |pick: &dyn Fn(Sniff) -> bool| FORMATS.iter().find(|d| pick(d.sniff)).map(|d| d.format);
    // A JSON array of records (`[` then `{`, pretty-printed or not): judged
    // as JSON on the whole prefix; a text line that starts with `[` (a
    // bracketed time or level) has no `{` after it.
    if let Some(rest) = p.strip_prefix(b"[") {
        if skip_ws(rest).starts_with(b"{") {
            return first(&|s| match s {
                Sniff::Document(is)
                | Sniff::JsonLine(is)
                | Sniff::TextOrJsonLine { json: is, .. } => is(p),
                _ => false,
            })
            .unwrap_or_else(|| fallback(true));
        }
    }
    if p.starts_with(b"{") {
        if let Some(f) = first(&|s| matches!(s, Sniff::Document(is) if is(p))) {
            return f;
        }
        // A complete first line that is not JSON: a text log that happens to
        // start with a brace. (Only the first value: CloudWatch Logs via
        // Firehose concatenates objects without a separator.)
        // A first line that is an unfinished object (`{` alone: pretty-printed
        // JSON) is not text: the rows judge the whole prefix instead.
        let complete = first_line.len() < p.len();
        let first_value = serde_json::Deserializer::from_slice(first_line)
            .into_iter::<serde::de::IgnoredAny>()
            .next();
        let unfinished = matches!(&first_value, Some(Err(e)) if e.is_eof());
        if complete && !unfinished && !matches!(first_value, Some(Ok(_))) {
            return fallback(false);
        }
        let judged = if unfinished { p } else { first_line };
        return first(&|s| match s {
            Sniff::JsonLine(is) | Sniff::TextOrJsonLine { json: is, .. } => is(judged),
            _ => false,
        })
        .unwrap_or_else(|| fallback(true));
    }
    first(&|s| match s {
        Sniff::TextLine(is) | Sniff::TextOrJsonLine { text: is, .. } => is(first_line),
        _ => false,
    })
    .unwrap_or_else(|| fallback(false))
}

/// The row that takes what no other claims: JSON or not.
fn fallback(json: bool) -> Format {
    FORMATS
        .iter()
        .find(|d| {
            matches!(
                (d.sniff, json),
                (Sniff::OtherJson, true) | (Sniff::OtherText, false)
            )
        })
        .map_or(Format::Text, |d| d.format)
}

/// Whether `line` contains `needle` (for sniffers).
pub fn has(line: &[u8], needle: &str) -> bool {
    memchr::memmem::find(line, needle.as_bytes()).is_some()
}

/// The first `n` space-separated tokens of a line (missing ones empty).
pub fn tokens<const N: usize>(line: &[u8]) -> [&[u8]; N] {
    let mut out: [&[u8]; N] = [b""; N];
    for (slot, tok) in out.iter_mut().zip(line.split(|b| *b == b' ')) {
        *slot = tok;
    }
    out
}

/// `2026-11-22T20:55:04...`: the start of an ISO 8601 time.
pub fn is_iso_time(t: &[u8]) -> bool {
    t.len() >= 19 && t[4] == b'-' && t[10] == b'T'
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
    fn keys_name_their_format() {
        let cases = [
            ("AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/22/x.json.gz", Some(Format::CloudTrail)),
            ("prefix/AWSLogs/111122223333/CloudTrail/eu-west-1/2026/01/01/x.json.gz", Some(Format::CloudTrail)),
            ("AWSLogs/o-abc123/111122223333/CloudTrail/us-east-1/2026/x.json.gz", Some(Format::CloudTrail)),
            ("AWSLogs/111122223333/CloudTrail-Insight/us-east-1/2026/x.json.gz", Some(Format::CloudTrail)),
            ("AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/x.json.gz", None),
            ("AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/11/22/111122223333_vpcflowlogs_us-east-1_fl-1_20261122T2055Z_h.log.gz", Some(Format::VpcFlow)),
            ("AWSLogs/111122223333/elasticloadbalancing/us-east-1/2026/11/22/111122223333_elasticloadbalancing_us-east-1_app.my-lb.x_20261122T2055Z_10.0.0.1_x.log.gz", Some(Format::Elb)),
            ("AWSLogs/111122223333/GuardDuty/us-east-1/2026/11/22/e1b2.jsonl.gz", Some(Format::GuardDuty)),
            ("AWSLogs/111122223333/WAFLogs/us-east-1/my-acl/2026/11/22/20/55/x.log.gz", Some(Format::Waf)),
            ("AWSLogs/111122223333/vpcdnsquerylogs/vpc-1/2026/11/22/x.log.gz", Some(Format::Route53Resolver)),
            ("AWSLogs/111122223333/network-firewall/alert/us-east-1/fw/2026/11/22/20/x.log.gz", Some(Format::NetworkFirewall)),
            ("AWSLogs/111122223333/Config/us-east-1/2026/11/22/ConfigSnapshot/x.json.gz", Some(Format::Config)),
            ("cf/E2K2LNFQNEXAMPLE.2026-11-22-20.a1b2c3d4.gz", Some(Format::CloudFront)),
            ("cf/E2K2LNFQNEXAMPLE.2026-11-22-20.a1b2c3d4.txt", None),
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
            is_skippable("archive/111122223333-Digest.json.gz"),
            Some("cloudtrail-digest")
        );
        assert_eq!(
            is_skippable("AWSLogs/1/CloudTrail/us-east-1/x.json.gz"),
            None
        );
        assert_eq!(
            is_skippable("logs/a%20b.log"),
            None,
            "keys are not decoded here"
        );
    }

    #[test]
    fn content_sniffing() {
        let cases: &[(&[u8], Format)] = &[
            (b"{\"Records\":[{\"eventVersion\":\"1.08\"}]}", Format::CloudTrail),
            (b"\xEF\xBB\xBF  {\n  \"Records\" : [ ", Format::CloudTrail),
            (b"{\"Records\":{}}", Format::JsonLines),
            (b"{\"a\":1}\n{\"a\":2}\n", Format::JsonLines),
            (b"  {\"a\":1}", Format::JsonLines),
            (b"{\"messageType\":\"DATA_MESSAGE\",\"owner\":\"1\",\"logGroup\":\"g\",\"logEvents\":[]}", Format::CloudWatchLogs),
            (b"{\"fileVersion\":\"1.0\",\"configurationItems\":[", Format::Config),
            (b"{\"timestamp\":1,\"webaclId\":\"arn\",\"httpRequest\":{}}", Format::Waf),
            (b"{\"version\":\"1.100000\",\"query_name\":\"a.\",\"srcaddr\":\"10.0.0.1\"}", Format::Route53Resolver),
            (b"{\"firewall_name\":\"fw\",\"event\":{}}", Format::NetworkFirewall),
            (b"{\"schemaVersion\":\"2.0\",\"arn\":\"arn:aws:guardduty:us-east-1:1:detector/d/finding/f\",\"severity\":5}", Format::GuardDuty),
            (b"version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n", Format::VpcFlow),
            (b"2 123456789012 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK", Format::VpcFlow),
            (b"http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366", Format::Elb),
            (b"tls 2.0 2018-12-20T02:59:40 net/my-network-loadbalancer/c6e77e28c25b2234 g3d4b5e8bb8464cd 72.21.218.154:51341", Format::Elb),
            (b"2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.000073 0.001048 0.000057 200 200 0 29", Format::Elb),
            (b"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be awsexamplebucket1 [06/Feb/2019:00:00:38 +0000] 192.0.2.3", Format::S3Access),
            (b"a888cc55f7777eee555d999b888888b8e66d0000000fff999d555a8effff2a000a b [07/Mar/2025:15:13:41 +0000] 88.88.88.88", Format::S3Access),
            (b"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be b [not a time] 192.0.2.3", Format::Text),
            (b"#Version: 1.0\n#Fields: date time x-edge-location sc-bytes\n", Format::CloudFront),
            (b"", Format::Text),
            (b"[1,2]", Format::Text),
            (b"{not json} but a text log\nsecond line\n", Format::Text),
            (b"{\"messageType\":\"DATA_MESSAGE\",\"logGroup\":\"g\"}{\"messageType\":\"DATA_MESSAGE\",\"logGroup\":\"g\"}\n", Format::CloudWatchLogs),
            (b"{\"cut\": \"a first line longer than the prefix", Format::JsonLines),
            (b"{\n  \"messageType\": \"DATA_MESSAGE\",\n  \"logGroup\": \"g\",\n  \"logEvents\": []\n}\n", Format::CloudWatchLogs),
            (b"{\n\t\"fileVersion\":\"1.0\",\n\t\"configurationItems\":[]}\n", Format::Config),
            (b"{\n  \"@timestamp\": \"2021-12-28T11:33:08.160Z\"\n}\n", Format::JsonLines),
            (b"\x00\x01binary", Format::Text),
            (b"Nov 22 20:55:04 host sshd[1]: Accepted publickey", Format::Text),
            (b"5 64111117617 eni-069xxxxxb7a490 89.160.20.156 10.200.0.0 50041 33004 17 52 1 164000066 1640000297 REJECT OK vpc-1", Format::VpcFlow),
            (b"3 - 748335378900 tgw-0a12bc34de56f7890 tgw-attach-0789ijkl - - vpc-0jkl5678 vpc-0ghi9012 - - eni-0cc3dd4ee5f66aa7b - - 1.128.0.0 OK", Format::VpcFlow),
            (b"5 apples and 3 pears are not a flow log OK", Format::Text),
        ];
        for (prefix, want) in cases {
            assert_eq!(
                sniff(prefix),
                *want,
                "{:?}",
                String::from_utf8_lossy(prefix)
            );
        }
    }
}
