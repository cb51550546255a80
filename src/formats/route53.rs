//! Route 53 Resolver query logs: JSON lines, one DNS query per line
//! (`version`, `account_id`, `region`, `vpc_id`, `query_timestamp`,
//! `query_name`, `query_type`, `query_class`, `rcode`, `answers`, `srcaddr`,
//! `srcport`, `transport`, `srcids`, and the DNS Firewall fields).
//!
//! Mapped like Elastic's `aws.route53_resolver_logs`: `dns.question.*`
//! (name without the trailing dot), `dns.response_code`, `dns.answers` in
//! ECS shape (`data`, `type`, `class`, and `name` for a CNAME),
//! `source.ip`/`source.port`, `network.transport` in lowercase,
//! `event.outcome` (success only for NOERROR), `cloud.*`, and the rest
//! under `aws.route53.*`. Where ECS changes a value, the source's is kept
//! beside it: `aws.route53.query_name` and `aws.route53.rdata` (every
//! answer's Rdata, in order) with their final dots, `aws.route53.transport`
//! in its case. Members no mapping names keep their names under
//! `aws.route53.*`.

use std::borrow::Cow;
use std::net::IpAddr;

use serde::Deserialize;

use super::detect::has;
use super::json::{self, Num, OptText, json_str, lowercase, opt_num, push_json};
use super::time::{iso8601_utc_cow};
use super::framing::LineRecord;
use crate::record::{FieldValue, ParsedEvent};

pub const DATASET: &str = "aws.route53_resolver";

/// The field paths its events can have, besides the record writer's own
/// (see `FormatDef::fields`).
pub const FIELDS: &[&str] = &[
    "aws.route53.*",
    "aws.route53.firewall.action",
    "aws.route53.firewall.domain_list.id",
    "aws.route53.firewall.protection",
    "aws.route53.firewall.rule_group.id",
    "aws.route53.instance_id",
    "aws.route53.query_name",
    "aws.route53.rdata",
    "aws.route53.resolver_endpoint_id",
    "aws.route53.resolver_network_interface_id",
    "aws.route53.transport",
    "aws.route53.version",
    "aws.route53.vpc_id",
    "cloud.account.id",
    "cloud.instance.id",
    "cloud.region",
    "dns.answers",
    "dns.question.class",
    "dns.question.name",
    "dns.question.type",
    "dns.response_code",
    "event.category",
    "event.kind",
    "event.outcome",
    "event.type",
    "network.iana_number",
    "network.protocol",
    "network.transport",
    "network.type",
    "source.address",
    "source.ip",
    "source.port",
];

#[derive(Deserialize)]
struct Query<'a> {
    #[serde(borrow, default)]
    version: OptText<'a>,
    #[serde(borrow, default)]
    account_id: OptText<'a>,
    #[serde(borrow, default)]
    region: OptText<'a>,
    #[serde(borrow, default)]
    vpc_id: OptText<'a>,
    #[serde(borrow, default)]
    query_timestamp: OptText<'a>,
    #[serde(borrow, default)]
    query_name: OptText<'a>,
    #[serde(borrow, default)]
    query_type: OptText<'a>,
    #[serde(borrow, default)]
    query_class: OptText<'a>,
    #[serde(borrow, default)]
    rcode: OptText<'a>,
    #[serde(borrow, default)]
    answers: Option<Vec<Answer<'a>>>,
    #[serde(borrow, default)]
    srcaddr: OptText<'a>,
    #[serde(default)]
    srcport: Option<Num>,
    #[serde(borrow, default)]
    transport: OptText<'a>,
    #[serde(borrow, default)]
    srcids: Option<SrcIds<'a>>,
    #[serde(borrow, default)]
    firewall_rule_action: OptText<'a>,
    #[serde(borrow, default)]
    firewall_rule_group_id: OptText<'a>,
    #[serde(borrow, default)]
    firewall_domain_list_id: OptText<'a>,
    #[serde(borrow, default)]
    firewall_protection: OptText<'a>,
}

#[derive(Deserialize)]
struct Answer<'a> {
    #[serde(rename = "Rdata", borrow, default)]
    rdata: OptText<'a>,
    #[serde(rename = "Type", borrow, default)]
    kind: OptText<'a>,
    #[serde(rename = "Class", borrow, default)]
    class: OptText<'a>,
}

#[derive(Deserialize)]
struct SrcIds<'a> {
    #[serde(borrow, default)]
    instance: OptText<'a>,
    #[serde(borrow, default)]
    resolver_endpoint: OptText<'a>,
    #[serde(borrow, default)]
    resolver_network_interface: OptText<'a>,
}

/// The leaves this module writes under `aws.route53.`: an unmapped member
/// by one of these names is renamed (see [`json::keep`]).
const WRITTEN: &[&str] = &[
    "query_name",
    "transport",
    "version",
    "vpc_id",
    "instance_id",
    "resolver_endpoint_id",
    "resolver_network_interface_id",
    "firewall",
    "rdata",
];

/// A resolver query log entry has `query_name` and `srcaddr`.
pub fn sniff(line: &[u8]) -> bool {
    has(line, "\"query_name\"") && has(line, "\"srcaddr\"")
}

/// One JSON object a line.
pub struct QueryRecord;

impl LineRecord for QueryRecord {
    const DATASET: &'static str = DATASET;
    const WHAT: &'static str = "a valid Route 53 Resolver query log record";
    const JSON_OBJECT: bool = true;
    type Scratch = Vec<u8>;

    fn map<'a>(
        line: &'a str,
        scratch: &'a mut Vec<u8>,
        ev: &mut ParsedEvent<'a>,
    ) -> Result<(), String> {
        let (q, unmapped): (Query<'a>, _) =
            json::from_str_keeping(line, WRITTEN).map_err(|e| e.to_string())?;
        ev.timestamp = q.query_timestamp.as_ref().and_then(|t| iso8601_utc_cow(&t.0));
        let f = &mut ev.fields;
        f.str("event.kind", "event");
        f.push("event.category", FieldValue::Json(r#"["network"]"#));
        f.push("event.type", FieldValue::Json(r#"["protocol"]"#));
        f.str("network.protocol", "dns");
        f.opt_cow("cloud.account.id", json::present(q.account_id));
        f.opt_cow("cloud.region", json::present(q.region));
        // ECS wants the name without its final dot: a name that loses it is
        // also kept as written.
        if let Some(name) = json::present(q.query_name) {
            let short = without_dot(name.clone());
            if short.len() != name.len() {
                f.str("aws.route53.query_name", name);
            }
            f.opt_cow("dns.question.name", Some(short));
        }
        f.opt_cow("dns.question.type", json::present(q.query_type));
        f.opt_cow("dns.question.class", json::present(q.query_class));
        if let Some(rcode) = json::present(q.rcode) {
            f.str(
                "event.outcome",
                if rcode == "NOERROR" {
                    "success"
                } else {
                    "failure"
                },
            );
            f.str("dns.response_code", rcode);
        }
        if let Some(addr) = json::present(q.srcaddr) {
            match addr.parse::<IpAddr>() {
                Ok(ip) => {
                    f.str("network.type", if ip.is_ipv4() { "ipv4" } else { "ipv6" });
                    f.str("source.ip", addr);
                }
                Err(_) => f.str("source.address", addr),
            }
        }
        opt_num(f, "source.port", q.srcport);
        if let Some(written) = json::present(q.transport) {
            let t = lowercase(written.clone());
            if t != written {
                f.str("aws.route53.transport", written);
            }
            match t.as_ref() {
                "tcp" => f.u64("network.iana_number", 6),
                "udp" => f.u64("network.iana_number", 17),
                _ => {}
            }
            f.str("network.transport", t);
        }
        f.opt_cow("aws.route53.version", json::present(q.version));
        f.opt_cow("aws.route53.vpc_id", json::present(q.vpc_id));
        if let Some(ids) = q.srcids {
            f.opt_cow("cloud.instance.id", json::present_ref(&ids.instance));
            f.opt_cow("aws.route53.instance_id", json::present(ids.instance));
            f.opt_cow(
                "aws.route53.resolver_endpoint_id",
                json::present(ids.resolver_endpoint),
            );
            f.opt_cow(
                "aws.route53.resolver_network_interface_id",
                json::present(ids.resolver_network_interface),
            );
        }
        f.opt_cow(
            "aws.route53.firewall.action",
            json::present(q.firewall_rule_action),
        );
        f.opt_cow(
            "aws.route53.firewall.rule_group.id",
            json::present(q.firewall_rule_group_id),
        );
        f.opt_cow(
            "aws.route53.firewall.domain_list.id",
            json::present(q.firewall_domain_list_id),
        );
        f.opt_cow(
            "aws.route53.firewall.protection",
            json::present(q.firewall_protection),
        );
        f.members("aws.route53.*", unmapped);
        if let Some(answers) = q.answers.filter(|a| !a.is_empty()) {
            // ECS's data has no final dot: when an Rdata loses one, every
            // answer's Rdata is also kept as written, in the answers' order.
            let rdata_lost_dot = answers
                .iter()
                .any(|a| json::present_ref(&a.rdata).is_some_and(|d| d.ends_with('.')));
            if rdata_lost_dot {
                scratch.push(b'[');
                for (i, a) in answers.iter().enumerate() {
                    if i > 0 {
                        scratch.push(b',');
                    }
                    match &a.rdata {
                        Some(d) => json_str(scratch, &d.0),
                        None => scratch.extend_from_slice(b"null"),
                    }
                }
                scratch.push(b']');
            }
            let rdata_end = scratch.len();
            scratch.push(b'[');
            for (i, a) in answers.iter().enumerate() {
                if i > 0 {
                    scratch.push(b',');
                }
                scratch.push(b'{');
                let mut sep = "";
                let data = json::present_ref(&a.rdata).map(without_dot);
                let kind = json::present_ref(&a.kind);
                let members = [
                    ("class", json::present_ref(&a.class)),
                    ("type", kind.clone()),
                    ("data", data.clone()),
                    ("name", data.filter(|_| kind.as_deref() == Some("CNAME"))),
                ];
                for (key, value) in members {
                    if let Some(v) = value {
                        scratch.extend_from_slice(sep.as_bytes());
                        json_str(scratch, key);
                        scratch.push(b':');
                        json_str(scratch, &v);
                        sep = ",";
                    }
                }
                scratch.push(b'}');
            }
            scratch.push(b']');
            let scratch: &'a Vec<u8> = scratch;
            let (rdata, answers) = scratch.split_at(rdata_end);
            if !rdata.is_empty() {
                push_json(f, "aws.route53.rdata", rdata);
            }
            push_json(f, "dns.answers", answers);
        }
        Ok(())
    }
}


/// A domain name without its final dot, borrowing when it can.
fn without_dot(s: Cow<'_, str>) -> Cow<'_, str> {
    match s {
        Cow::Borrowed(b) => Cow::Borrowed(b.strip_suffix('.').unwrap_or(b)),
        Cow::Owned(mut o) => {
            if o.ends_with('.') {
                o.pop();
            }
            Cow::Owned(o)
        }
    }
}


#[cfg(test)]
mod tests {
    use crate::formats::testing::{bad_line_between_good_ones, run};
    use crate::formats::Format;

    /// Five query-log lines from elastic/integrations (tests/data/route53/SOURCES.md).
    const ELASTIC: &str = include_str!("../../tests/data/route53/elastic-test-route53.log");

    #[test]
    fn elastic_samples_map_to_elastics_fields() {
        let (evs, stats) = run(Format::Route53Resolver, ELASTIC.as_bytes(), 1 << 20).unwrap();
        assert_eq!((stats.events, stats.errors), (5, 0));
        let e = &evs[0];
        let want = [
            ("cloud.account.id", "626345947581"),
            ("cloud.region", "us-east-1"),
            ("dns.question.name", "does-not-exist.abc.com"),
            ("dns.question.type", "A"),
            ("dns.question.class", "IN"),
            ("dns.response_code", "NXDOMAIN"),
            ("event.outcome", "failure"),
            ("event.kind", "event"),
            ("network.transport", "udp"),
            ("network.iana_number", "17"),
            ("network.protocol", "dns"),
            ("network.type", "ipv4"),
            ("source.ip", "172.31.86.159"),
            ("source.port", "48701"),
            ("aws.route53.vpc_id", "vpc-01e31a7c"),
            ("aws.route53.version", "1.100000"),
        ];
        for (path, value) in want {
            assert_eq!(e.field(path), Some(value), "{path}");
        }
        assert_eq!(e.timestamp.as_deref(), Some("2021-12-11T22:46:23Z"));
        assert_eq!(e.field("dns.answers"), None, "empty answers");
        assert_eq!(e.field("cloud.instance.id"), None, "empty srcids");

        let ptr = &evs[1];
        assert_eq!(ptr.field("event.outcome"), Some("success"));
        assert_eq!(
            ptr.field("dns.answers"),
            Some(r#"[{"class":"IN","type":"PTR","data":"ip-172-31-86-159.ec2.internal"}]"#)
        );

        let cname = &evs[2];
        assert_eq!(
            cname.field("dns.answers"),
            Some(
                r#"[{"class":"IN","type":"CNAME","data":"test.example.com","name":"test.example.com"},{"class":"IN","type":"A","data":"1.128.3.4"}]"#
            )
        );
        assert_eq!(
            cname.field("cloud.instance.id"),
            Some("i-079c44232510ca8ff")
        );
        assert_eq!(
            cname.field("aws.route53.instance_id"),
            Some("i-079c44232510ca8ff")
        );

        let firewall = &evs[3];
        assert_eq!(firewall.field("aws.route53.firewall.action"), Some("BLOCK"));
        assert_eq!(
            firewall.field("aws.route53.firewall.rule_group.id"),
            Some("rslvr-frg-01234567890abcdef")
        );
        assert_eq!(
            firewall.field("aws.route53.firewall.domain_list.id"),
            Some("rslvr-fdl-01234567890abcdef")
        );
        assert_eq!(firewall.timestamp.as_deref(), Some("2021-02-04T17:51:55Z"));

        let ip6 = &evs[4];
        assert_eq!(
            ip6.field("dns.question.name"),
            Some("6.c.f.6.a.9.0.e.2.b.9.a.2.f.1.9.2.0.0.4.d.d.a.0.0.4.f.c.2.0.a.2.ip6.arpa")
        );
        for e in &evs {
            serde_json::from_str::<serde_json::Value>(e.field("dns.answers").unwrap_or("[]"))
                .unwrap();
        }
    }

    #[test]
    fn field_variants_are_typed_and_dashes_are_absent() {
        let line = r#"{"query_timestamp":"2026-01-01T00:00:00+02:00","query_name":"a\u002eb.","srcaddr":"2001:db8::5","srcport":53,"transport":"TCP","rcode":"-","srcids":{"resolver_endpoint":"rslvr-in-1","resolver_network_interface":"rni-1"},"account_id":"-","answers":[{"Rdata":"x.","Type":"NS"}]}"#;
        let (evs, _) = run(Format::Route53Resolver, line.as_bytes(), 1 << 20).unwrap();
        let e = &evs[0];
        assert_eq!(e.error, None);
        assert_eq!(e.timestamp.as_deref(), Some("2025-12-31T22:00:00Z"));
        assert_eq!(e.field("dns.question.name"), Some("a.b"));
        assert_eq!(e.field("source.ip"), Some("2001:db8::5"));
        assert_eq!(e.field("network.type"), Some("ipv6"));
        assert_eq!(e.field("source.port"), Some("53"));
        assert_eq!(e.field("network.transport"), Some("tcp"));
        assert_eq!(e.field("network.iana_number"), Some("6"));
        assert_eq!(e.field("dns.response_code"), None);
        assert_eq!(e.field("event.outcome"), None);
        assert_eq!(e.field("cloud.account.id"), None);
        assert_eq!(
            e.field("aws.route53.resolver_endpoint_id"),
            Some("rslvr-in-1")
        );
        assert_eq!(
            e.field("aws.route53.resolver_network_interface_id"),
            Some("rni-1")
        );
        assert_eq!(
            e.field("dns.answers"),
            Some(r#"[{"type":"NS","data":"x"}]"#)
        );
    }

    #[test]
    fn rdata_that_loses_its_dot_and_unnamed_members_are_kept_as_written() {
        let line = r#"{"rcode":"NOERROR","answers":[{"Rdata":"a.example.","Type":"CNAME","Class":"IN"},{"Rdata":"192.0.2.1","Type":"A","Class":"IN"}],"new_member":{"x":1},"version":"1.1"}"#;
        let (evs, _) = run(Format::Route53Resolver, line.as_bytes(), 1 << 20).unwrap();
        let e = &evs[0];
        assert_eq!(
            e.field("aws.route53.rdata"),
            Some(r#"["a.example.","192.0.2.1"]"#)
        );
        assert!(e
            .field("dns.answers")
            .unwrap()
            .contains(r#""data":"a.example""#));
        assert_eq!(e.field("aws.route53.*"), Some(r#"{"new_member":{"x":1}}"#));
        let line = r#"{"answers":[{"Rdata":"192.0.2.1","Type":"A","Class":"IN"}]}"#;
        let (evs, _) = run(Format::Route53Resolver, line.as_bytes(), 1 << 20).unwrap();
        assert_eq!(evs[0].field("aws.route53.rdata"), None, "nothing lost");
    }

    #[test]
    fn malformed_lines_become_error_events_and_the_rest_is_kept() {
        let good = r#"{"query_name":"ok.","rcode":"NOERROR"}"#;
        let cases: [(&str, &[u8], &str); 5] = [
            ("not json", b"# comment", "not a JSON object"),
            ("truncated", br#"{"query_name":"cu"#, "not a valid Route 53"),
            ("bad port", br#"{"srcport":"http"}"#, "not a valid Route 53"),
            (
                "answers not a list",
                br#"{"answers":{}}"#,
                "not a valid Route 53",
            ),
            (
                "invalid utf-8",
                b"{\"query_name\":\"\xfe\"}",
                "not valid UTF-8",
            ),
        ];
        for (name, bad, why) in cases {
            let evs = bad_line_between_good_ones(Format::Route53Resolver, good, bad, why, name);
            assert_eq!(evs[1].offset, Some(good.len() as u64 + 1), "{name}");
            assert_eq!(evs[2].field("dns.question.name"), Some("ok"), "{name}");
        }
    }
}
