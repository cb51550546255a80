//! Which format an object holds, and which objects are not logs at all.
//!
//! The key decides first (the `AWSLogs/<account>/<service>/...` layout AWS
//! services write), then the first bytes of the decompressed content. A
//! per-object override (configuration) wins over both; that is the caller's.

use super::Format;

/// The format a key names, if its path says: the `AWSLogs/<account>/<service>/`
/// layout AWS services write (organization trails add `<org-id>/` before the
/// account), and CloudFront's `<distribution-id>.YYYY-MM-DD-HH.<id>.gz` names.
pub fn from_key(key: &str) -> Option<Format> {
    let segs: Vec<&str> = key.split('/').collect();
    if let Some(at) = segs.iter().position(|s| *s == "AWSLogs") {
        let seg = |i: usize| segs.get(at + i).copied().unwrap_or("");
        let svc = if seg(1).starts_with("o-") {
            seg(3)
        } else {
            seg(2)
        };
        let format = match svc {
            "CloudTrail" | "CloudTrail-Insight" => Some(Format::CloudTrail),
            "vpcflowlogs" => Some(Format::VpcFlow),
            "elasticloadbalancing" => Some(Format::Elb),
            "GuardDuty" => Some(Format::GuardDuty),
            "WAFLogs" => Some(Format::Waf),
            "vpcdnsquerylogs" => Some(Format::Route53Resolver),
            "network-firewall" => Some(Format::NetworkFirewall),
            "Config" => Some(Format::Config),
            _ => None,
        };
        if format.is_some() {
            return format;
        }
    }
    let name = segs.last().copied().unwrap_or("");
    if is_cloudfront_name(name) {
        return Some(Format::CloudFront);
    }
    None
}

/// `E2K2LNFQNEXAMPLE.2026-11-22-20.a1b2c3d4.gz`
fn is_cloudfront_name(name: &str) -> bool {
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

/// The format of content starting with `prefix` (decompressed): the first
/// line's shape decides.
pub fn sniff(prefix: &[u8]) -> Format {
    let p = skip_ws(strip_bom(prefix));
    let first_line = match memchr::memchr(b'\n', p) {
        Some(i) => &p[..i],
        None => p,
    };
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
        // A complete first line that is not JSON: a text log that happens to
        // start with a brace.
        let complete = first_line.len() < p.len();
        // (Only the first value: CloudWatch Logs via Firehose concatenates
        // objects without a separator.)
        let first_value = serde_json::Deserializer::from_slice(first_line)
            .into_iter::<serde::de::IgnoredAny>()
            .next();
        if complete && !matches!(first_value, Some(Ok(_))) {
            return Format::Text;
        }
        return sniff_json(first_line);
    }
    sniff_text(first_line)
}

fn has(line: &[u8], needle: &str) -> bool {
    memchr::memmem::find(line, needle.as_bytes()).is_some()
}

fn sniff_json(line: &[u8]) -> Format {
    if has(line, "\"messageType\"") && has(line, "\"logGroup\"") {
        Format::CloudWatchLogs
    } else if has(line, "\"configurationItems\"") {
        Format::Config
    } else if has(line, "\"webaclId\"") && has(line, "\"httpRequest\"") {
        Format::Waf
    } else if has(line, "\"query_name\"") && has(line, "\"srcaddr\"") {
        Format::Route53Resolver
    } else if has(line, "\"firewall_name\"") && has(line, "\"event\"") {
        Format::NetworkFirewall
    } else if has(line, "arn:aws:guardduty:") && has(line, "\"severity\"") {
        Format::GuardDuty
    } else {
        Format::JsonLines
    }
}

fn sniff_text(line: &[u8]) -> Format {
    if line.starts_with(b"#Version:") || line.starts_with(b"#Fields: date time x-edge-location") {
        return Format::CloudFront;
    }
    if line.starts_with(b"version ") && (has(line, " srcaddr") || has(line, " resource-type")) {
        return Format::VpcFlow;
    }
    let tokens: Vec<&[u8]> = line.split(|b| *b == b' ').take(4).collect();
    let tok = |i: usize| tokens.get(i).copied().unwrap_or(b"");
    // A default-format flow log line: "2 123456789012 eni-0a1b2c3d ..."
    if tok(0).iter().all(u8::is_ascii_digit)
        && !tok(0).is_empty()
        && tok(1).len() == 12
        && tok(1).iter().all(u8::is_ascii_digit)
        && (tok(2).starts_with(b"eni-") || tok(2) == b"-")
    {
        return Format::VpcFlow;
    }
    let is_time = |t: &[u8]| t.len() >= 19 && t[4] == b'-' && t[10] == b'T';
    let is_endpoint = |t: &[u8]| t.contains(&b':') && t.iter().any(u8::is_ascii_digit);
    // ALB "http 2026-...Z app/..", NLB "tls 2.0 2026-..", Classic "2026-..Z name ip:port".
    if matches!(
        tok(0),
        b"http" | b"https" | b"h2" | b"grpcs" | b"ws" | b"wss"
    ) && is_time(tok(1))
    {
        return Format::Elb;
    }
    if tok(0) == b"tls" && is_time(tok(2)) {
        return Format::Elb;
    }
    if is_time(tok(0)) && is_endpoint(tok(2)) {
        return Format::Elb;
    }
    // S3 server access: "<64-hex owner> <bucket> [06/Feb/2019:00:00:38 +0000] ..."
    if tok(0).len() == 64 && tok(0).iter().all(u8::is_ascii_hexdigit) && tok(2).starts_with(b"[") {
        return Format::S3Access;
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
            (b"#Version: 1.0\n#Fields: date time x-edge-location sc-bytes\n", Format::CloudFront),
            (b"", Format::Text),
            (b"[1,2]", Format::Text),
            (b"{not json} but a text log\nsecond line\n", Format::Text),
            (b"{\"messageType\":\"DATA_MESSAGE\",\"logGroup\":\"g\"}{\"messageType\":\"DATA_MESSAGE\",\"logGroup\":\"g\"}\n", Format::CloudWatchLogs),
            (b"{\"cut\": \"a first line longer than the prefix", Format::JsonLines),
            (b"\x00\x01binary", Format::Text),
            (b"Nov 22 20:55:04 host sshd[1]: Accepted publickey", Format::Text),
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
