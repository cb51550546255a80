//! GuardDuty findings -> OCSF Detection Finding (2004).
//!
//! Activity: 3 Close for an archived finding, else 1 Create when it was
//! not updated since it was created (`createdAt` = `updatedAt`, as
//! written), else 2 Update (0 Unknown without both times). `severity_id` from GuardDuty's numeric severity: below 4 Low
//! (2), below 7 Medium (3), below 9 High (4), else Critical (5); none
//! Unknown (0). The number itself stays in `unmapped`.
//!
//! `finding_info`: `uid` the finding's ARN (its id without one), `title`
//! (the finding type without a title: both are required), `desc`, `types`
//! (the finding type), the created, modified, first and last seen times.
//!
//! `resources`: one per resource detail object that names its resource
//! (the instance, the access key, each S3 bucket, the EKS or ECS cluster,
//! the container, the RDS instance or user, the Lambda function, the EBS
//! volume, the Kubernetes workload), with its GuardDuty kind as `type`,
//! the detail object itself as `data` (without its `null` members), and
//! the finding's partition and region. A detail object that names nothing stays in `unmapped`.
//!
//! `evidences`: one, with what the service action says: the endpoints
//! (address, port, country, city, coordinates), the connection's protocol
//! and direction, the AWS API called, the DNS name asked, the user. The
//! action object itself stays in `unmapped` (it holds more).
//!
//! `metadata.product.feature`: GuardDuty's feature (`service.featureName`)
//! and detector id.

use serde_json::{json, Map, Value};

use super::{text, value, Activity, Conv, Mapping, Row, DETECTION_FINDING};
use crate::record::{FieldValue, Fields, ParsedEvent};

pub static MAPPING: Mapping = Mapping {
    product: "GuardDuty",
    // The finding's own feature, by the rows below.
    feature: "",
    profiles: "[\"cloud\"]",
    rows: ROWS,
    rules,
};

#[rustfmt::skip]
const ROWS: &[Row] = &[
    // ECS field of our record                      OCSF 1.1.0 attribute                  how
    ("aws.guardduty.schema_version",                "metadata.log_version",               Conv::Text),
    ("aws.guardduty.service.detector_id",           "metadata.product.feature.uid",       Conv::Same),
    ("aws.guardduty.service.feature_name",          "metadata.product.feature.name",      Conv::Same),
    ("cloud.account.id",                            "cloud.account.uid",                  Conv::Same),
    ("cloud.region",                                "cloud.region",                       Conv::Same),
    ("cloud.availability_zone",                     "cloud.zone",                         Conv::Same),
    ("aws.guardduty.description",                   "finding_info.desc",                  Conv::Same),
    ("message",                                     "message",                            Conv::Same),
    ("event.created",                               "finding_info.created_time",          Conv::TimeMs),
    ("aws.guardduty.updated_at",                    "finding_info.modified_time",         Conv::TimeMs),
    ("event.start",                                 "finding_info.first_seen_time",       Conv::TimeMs),
    ("event.end",                                   "finding_info.last_seen_time",        Conv::TimeMs),
    ("aws.guardduty.service.count",                 "count",                              Conv::Int),
    // Set by the rules below.
    ("aws.guardduty.arn",                           "finding_info.uid",                   Conv::Rule),
    ("aws.guardduty.id",                            "finding_info.uid (without an ARN; else unmapped)", Conv::Rule),
    ("aws.guardduty.title",                         "finding_info.title",                 Conv::Rule),
    ("aws.guardduty.type",                          "finding_info.types[]",               Conv::Rule),
    ("aws.guardduty.confidence",                    "confidence_score (when an integer; else unmapped)", Conv::Rule),
    ("aws.guardduty.partition",                     "resources[].cloud_partition",        Conv::Rule),
    ("aws.guardduty.resource.instance_details",     "resources[] (AWS::EC2 instance)",    Conv::Rule),
    ("aws.guardduty.resource.access_key_details",   "resources[]",                        Conv::Rule),
    ("aws.guardduty.resource.s3_bucket_details",    "resources[] (one per bucket)",       Conv::Rule),
    ("aws.guardduty.resource.eks_cluster_details",  "resources[]",                        Conv::Rule),
    ("aws.guardduty.resource.kubernetes_details",   "resources[] (the workload)",         Conv::Rule),
    ("aws.guardduty.resource.container_details",    "resources[]",                        Conv::Rule),
    ("aws.guardduty.resource.ecs_cluster_details",  "resources[]",                        Conv::Rule),
    ("aws.guardduty.resource.ebs_volume_details",   "resources[]",                        Conv::Rule),
    ("aws.guardduty.resource.rds_db_instance_details", "resources[]",                     Conv::Rule),
    ("aws.guardduty.resource.rds_db_user_details",  "resources[]",                        Conv::Rule),
    ("aws.guardduty.resource.lambda_details",       "resources[]",                        Conv::Rule),
    ("source.ip",                                   "evidences[].src_endpoint.ip",        Conv::Rule),
    ("source.port",                                 "evidences[].src_endpoint.port",      Conv::Rule),
    ("source.geo.country_iso_code",                 "evidences[].src_endpoint.location.country", Conv::Rule),
    ("source.geo.city_name",                        "evidences[].src_endpoint.location.city", Conv::Rule),
    ("source.geo.location.lat",                     "evidences[].src_endpoint.location.coordinates[1]", Conv::Rule),
    ("source.geo.location.lon",                     "evidences[].src_endpoint.location.coordinates[0]", Conv::Rule),
    ("destination.ip",                              "evidences[].dst_endpoint.ip",        Conv::Rule),
    ("destination.port",                            "evidences[].dst_endpoint.port",      Conv::Rule),
    ("destination.geo.country_iso_code",            "evidences[].dst_endpoint.location.country", Conv::Rule),
    ("destination.geo.city_name",                   "evidences[].dst_endpoint.location.city", Conv::Rule),
    ("destination.geo.location.lat",                "evidences[].dst_endpoint.location.coordinates[1]", Conv::Rule),
    ("destination.geo.location.lon",                "evidences[].dst_endpoint.location.coordinates[0]", Conv::Rule),
    ("network.transport",                           "evidences[].connection_info.protocol_name", Conv::Rule),
    ("network.iana_number",                         "evidences[].connection_info.protocol_num", Conv::Rule),
    ("network.direction",                           "evidences[].connection_info.direction_id", Conv::Rule),
    ("aws.guardduty.action.api",                    "evidences[].api.operation",          Conv::Rule),
    ("event.provider",                              "evidences[].api.service.name",       Conv::Rule),
    ("dns.question.name",                           "evidences[].query.hostname",         Conv::Rule),
    ("user.name",                                   "evidences[].actor.user.name",        Conv::Rule),
    ("user.id",                                     "evidences[].actor.user.uid",         Conv::Rule),
    // Repeat other fields: not written again.
    ("aws.guardduty.severity.value",                "(severity)",                         Conv::Rule),
    ("event.severity",                              "(severity_id)",                      Conv::Rule),
    ("aws.guardduty.created_at",                    "(= finding_info.created_time; unmapped when not a time)", Conv::Rule),
    ("aws.guardduty.service.event.first_seen",      "(= finding_info.first_seen_time; unmapped when not a time)", Conv::Rule),
    ("aws.guardduty.service.event.last_seen",       "(= finding_info.last_seen_time; unmapped when not a time)", Conv::Rule),
    ("aws.guardduty.account_id",                    "(= cloud.account.uid)",              Conv::Rule),
    ("aws.guardduty.region",                        "(= cloud.region)",                   Conv::Rule),
    ("rule.name",                                   "(= finding_info.types)",             Conv::Rule),
    ("rule.ruleset",                                "(part of finding_info.types)",       Conv::Rule),
    ("rule.category",                               "(part of finding_info.types)",       Conv::Rule),
    ("cloud.instance.id",                           "(in resources[].data)",              Conv::Rule),
    ("cloud.machine.type",                          "(in resources[].data)",              Conv::Rule),
    ("cloud.image.id",                              "(in resources[].data)",              Conv::Rule),
    ("host.id",                                     "(in resources[].data)",              Conv::Rule),
    ("host.type",                                   "(in resources[].data)",              Conv::Rule),
    ("host.os.platform",                            "(in resources[].data)",              Conv::Rule),
    ("cloud.service.name",                          "(the product)",                      Conv::Rule),
    ("event.kind",                                  "(the class)",                        Conv::Rule),
];

/// GuardDuty's severity number -> `severity_id`.
fn severity(code: Option<f64>) -> u32 {
    match code {
        Some(c) if c.is_finite() && c < 4.0 => 2,
        Some(c) if c.is_finite() && c < 7.0 => 3,
        Some(c) if c.is_finite() && c < 9.0 => 4,
        Some(c) if c.is_finite() => 5,
        _ => 0,
    }
}

/// A field as JSON.
fn json_of(v: &FieldValue<'_>) -> Option<Value> {
    Some(match v {
        FieldValue::Str(s) => Value::String(s.to_string()),
        FieldValue::U64(n) => json!(n),
        FieldValue::I64(n) => json!(n),
        FieldValue::F64(n) => json!(n),
        FieldValue::Bool(b) => json!(b),
        FieldValue::Raw(r) => serde_json::from_str(r.get()).ok()?,
        FieldValue::Json(s) => serde_json::from_str(s).ok()?,
        FieldValue::JsonText(s) => serde_json::from_str(s).ok()?,
        FieldValue::Members(_) => return None,
    })
}

fn number(v: Option<&FieldValue<'_>>) -> Option<f64> {
    match v? {
        FieldValue::F64(n) => Some(*n),
        FieldValue::U64(n) => Some(*n as f64),
        FieldValue::I64(n) => Some(*n as f64),
        FieldValue::Str(s) => s.parse().ok(),
        _ => None,
    }
}

/// Sets `key` of `obj` to the field at `path`, when there is one.
fn put(obj: &mut Map<String, Value>, key: &str, ev: &ParsedEvent<'_>, path: &str) {
    if let Some(v) = ev.fields.get(path).and_then(json_of) {
        obj.insert(key.to_string(), v);
    }
}

/// An endpoint of the evidence, from `source` or `destination` fields.
fn endpoint(ev: &ParsedEvent<'_>, side: &str) -> Option<Value> {
    let path = |leaf: &str| format!("{side}.{leaf}");
    let mut ep = Map::new();
    match text(ev, &path("ip")) {
        Some(ip) if ip.parse::<std::net::IpAddr>().is_ok() => {
            ep.insert("ip".into(), json!(ip));
        }
        _ => {}
    }
    if ep.is_empty() {
        // `network_endpoint` needs an address (or a name): a port alone
        // stays in `unmapped`.
        return None;
    }
    if let Some(FieldValue::U64(p)) = ev.fields.get(path("port").as_str()) {
        if *p <= 65535 {
            ep.insert("port".into(), json!(p));
        }
    }
    let mut loc = Map::new();
    put(&mut loc, "country", ev, &path("geo.country_iso_code"));
    put(&mut loc, "city", ev, &path("geo.city_name"));
    if let (Some(lat), Some(lon)) = (
        number(ev.fields.get(path("geo.location.lat").as_str())),
        number(ev.fields.get(path("geo.location.lon").as_str())),
    ) {
        loc.insert("coordinates".into(), json!([lon, lat]));
    }
    if !loc.is_empty() {
        ep.insert("location".into(), Value::Object(loc));
    }
    Some(Value::Object(ep))
}

/// The resource kinds GuardDuty describes, with the keys that name one:
/// (detail field, `type`, uid keys, name keys).
#[rustfmt::skip]
const RESOURCES: &[(&str, &str, &[&str], &[&str])] = &[
    ("aws.guardduty.resource.instance_details", "Instance", &["instanceId"], &[]),
    ("aws.guardduty.resource.access_key_details", "AccessKey", &["accessKeyId"], &["userName"]),
    ("aws.guardduty.resource.s3_bucket_details", "S3Bucket", &["arn"], &["name"]),
    ("aws.guardduty.resource.eks_cluster_details", "EKSCluster", &["arn"], &["name"]),
    ("aws.guardduty.resource.kubernetes_details", "KubernetesWorkload", &["kubernetesWorkloadDetails.uid"], &["kubernetesWorkloadDetails.name"]),
    ("aws.guardduty.resource.container_details", "Container", &["id"], &["name"]),
    ("aws.guardduty.resource.ecs_cluster_details", "ECSCluster", &["arn"], &["name"]),
    ("aws.guardduty.resource.ebs_volume_details", "EBSVolume", &[], &[]),
    ("aws.guardduty.resource.rds_db_instance_details", "RDSDBInstance", &["dbInstanceArn", "dbInstanceIdentifier"], &["dbInstanceIdentifier"]),
    ("aws.guardduty.resource.rds_db_user_details", "RDSDBUser", &[], &["user"]),
    ("aws.guardduty.resource.lambda_details", "Lambda", &["functionArn"], &["functionName"]),
];

/// `v` without its `null` members and items (OCSF records have none).
fn without_nulls(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, without_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(
            a.into_iter()
                .filter(|v| !v.is_null())
                .map(without_nulls)
                .collect(),
        ),
        v => v,
    }
}

/// The text at a dotted key of a JSON object.
fn key_text<'v>(obj: &'v Value, key: &str) -> Option<&'v str> {
    let mut cur = obj;
    for part in key.split('.') {
        cur = cur.get(part)?;
    }
    cur.as_str().filter(|s| !s.is_empty())
}

fn resources<'a>(ev: &ParsedEvent<'a>, f: &mut Fields<'a>) {
    let mut out = Vec::new();
    for (path, kind, uids, names) in RESOURCES {
        let Some(raw) = ev.fields.get(path) else {
            continue;
        };
        let detail = json_of(raw);
        let items: Vec<Value> = match detail {
            Some(Value::Array(items)) => items,
            Some(v @ Value::Object(_)) => vec![v],
            _ => Vec::new(),
        };
        let before = out.len();
        for item in items {
            let uid = uids.iter().find_map(|k| key_text(&item, k));
            let name = names.iter().find_map(|k| key_text(&item, k));
            if uid.is_none() && name.is_none() {
                continue;
            }
            let mut r = Map::new();
            r.insert("type".into(), json!(kind));
            if let Some(u) = uid {
                r.insert("uid".into(), json!(u));
            }
            if let Some(n) = name {
                r.insert("name".into(), json!(n));
            }
            put(&mut r, "cloud_partition", ev, "aws.guardduty.partition");
            put(&mut r, "region", ev, "cloud.region");
            r.insert("data".into(), without_nulls(item));
            out.push(Value::Object(r));
        }
        if out.len() == before {
            // Left as it is, without its `null`s.
            match json_of(raw).map(without_nulls) {
                Some(v) => match serde_json::to_string(&v) {
                    Ok(json) => f.push(super::unmapped(path), FieldValue::JsonText(json)),
                    Err(_) => f.push(super::unmapped(path), raw.clone()),
                },
                None => f.push(super::unmapped(path), raw.clone()),
            }
        }
    }
    if out.is_empty() {
        if let Some(v) = value(ev, "aws.guardduty.partition") {
            f.push("unmapped.aws.guardduty.partition", v);
        }
    } else if let Ok(json) = serde_json::to_string(&out) {
        f.push("resources", FieldValue::JsonText(json));
    }
}

fn evidences<'a>(ev: &ParsedEvent<'a>, f: &mut Fields<'a>) {
    let mut e = Map::new();
    // What the evidence could not hold stays in `unmapped`.
    let mut leftover: Vec<&'static str> = Vec::new();
    for side in ["source", "destination"] {
        let key = if side == "source" {
            "src_endpoint"
        } else {
            "dst_endpoint"
        };
        match endpoint(ev, side) {
            Some(ep) => {
                e.insert(key.into(), ep);
            }
            None => leftover.extend(if side == "source" {
                [
                    "source.ip",
                    "source.port",
                    "source.geo.country_iso_code",
                    "source.geo.city_name",
                    "source.geo.location.lat",
                    "source.geo.location.lon",
                ]
            } else {
                [
                    "destination.ip",
                    "destination.port",
                    "destination.geo.country_iso_code",
                    "destination.geo.city_name",
                    "destination.geo.location.lat",
                    "destination.geo.location.lon",
                ]
            }),
        }
    }
    let direction = text(ev, "network.direction");
    if direction.is_some()
        || ev.fields.get("network.transport").is_some()
        || ev.fields.get("network.iana_number").is_some()
    {
        let mut c = Map::new();
        put(&mut c, "protocol_name", ev, "network.transport");
        put(&mut c, "protocol_num", ev, "network.iana_number");
        let (id, caption) = match direction {
            Some("inbound") => (1, "Inbound"),
            Some("outbound") => (2, "Outbound"),
            _ => (0, "Unknown"),
        };
        c.insert("direction_id".into(), json!(id));
        c.insert("direction".into(), json!(caption));
        if id == 0 {
            leftover.push("network.direction");
        }
        e.insert("connection_info".into(), Value::Object(c));
    }
    if let Some(op) = text(ev, "aws.guardduty.action.api") {
        let mut api = Map::new();
        api.insert("operation".into(), json!(op));
        if let Some(s) = text(ev, "event.provider") {
            api.insert("service".into(), json!({ "name": s }));
        }
        e.insert("api".into(), Value::Object(api));
    } else {
        leftover.push("event.provider");
    }
    if let Some(name) = text(ev, "dns.question.name") {
        e.insert("query".into(), json!({ "hostname": name }));
    }
    let mut user = Map::new();
    put(&mut user, "name", ev, "user.name");
    put(&mut user, "uid", ev, "user.id");
    if !user.is_empty() {
        e.insert("actor".into(), json!({ "user": user }));
    }
    for path in leftover {
        if let Some(v) = value(ev, path) {
            f.push(super::unmapped(path), v);
        }
    }
    if !e.is_empty() {
        if let Ok(json) = serde_json::to_string(&[Value::Object(e)]) {
            f.push("evidences", FieldValue::JsonText(json));
        }
    }
}

fn rules<'a>(ev: &ParsedEvent<'a>, f: &mut Fields<'a>) -> Activity<'a> {
    // finding_info: uid and title are required.
    let arn = value(ev, "aws.guardduty.arn");
    let id = value(ev, "aws.guardduty.id");
    match (arn, id) {
        (Some(arn), id) => {
            f.push("finding_info.uid", arn);
            if let Some(id) = id {
                f.push("unmapped.aws.guardduty.id", id);
            }
        }
        (None, Some(id)) => f.push("finding_info.uid", id),
        (None, None) => f.str("finding_info.uid", "-"),
    }
    match value(ev, "aws.guardduty.title").or(value(ev, "aws.guardduty.type")) {
        Some(t) => f.push("finding_info.title", t),
        None => f.str("finding_info.title", "GuardDuty finding"),
    }
    if let Some(t) = text(ev, "aws.guardduty.type") {
        if let Ok(json) = serde_json::to_string(&[t]) {
            f.push("finding_info.types", FieldValue::JsonText(json));
        }
    }
    // Times kept as written when they are not times.
    for (normal, raw) in [
        ("event.created", "aws.guardduty.created_at"),
        ("event.start", "aws.guardduty.service.event.first_seen"),
        ("event.end", "aws.guardduty.service.event.last_seen"),
    ] {
        if ev.fields.get(normal).is_none() {
            if let Some(v) = value(ev, raw) {
                f.push(super::unmapped(raw), v);
            }
        }
    }
    match ev.fields.get("aws.guardduty.confidence") {
        Some(FieldValue::U64(n)) if *n <= i32::MAX as u64 => f.u64("confidence_score", *n),
        Some(FieldValue::F64(n)) if n.fract() == 0.0 && (0.0..=i32::MAX as f64).contains(n) => {
            f.u64("confidence_score", *n as u64)
        }
        Some(v) => f.push("unmapped.aws.guardduty.confidence", v.clone()),
        None => {}
    }
    resources(ev, f);
    evidences(ev, f);

    let code = number(ev.fields.get("aws.guardduty.severity.code"));
    let archived = matches!(
        ev.fields.get("aws.guardduty.service.archived"),
        Some(FieldValue::Bool(true))
    );
    // As written: a time this reader cannot parse still compares.
    let created = text(ev, "aws.guardduty.created_at");
    let updated = text(ev, "aws.guardduty.updated_at");
    let activity = if archived {
        3
    } else if created.is_some() && created == updated {
        1
    } else if created.is_some() && updated.is_some() {
        2
    } else {
        0
    };
    Activity {
        severity: severity(code),
        ..Activity::of(DETECTION_FINDING, activity)
    }
}

#[cfg(test)]
mod tests {
    use super::severity;
    use crate::formats::Format;
    use crate::ocsf::testing::{get, ocsf};

    #[test]
    fn guardduty_severity_bands() {
        assert_eq!(severity(Some(2.0)), 2);
        assert_eq!(severity(Some(5.0)), 3);
        assert_eq!(severity(Some(8.9)), 4);
        assert_eq!(severity(Some(9.0)), 5);
        assert_eq!(severity(None), 0);
    }

    #[test]
    fn a_finding_is_a_detection_finding() {
        let line = include_bytes!("../../tests/data/guardduty/network-connection.log");
        let out = ocsf(Format::GuardDuty, line);
        assert_eq!(get(&out, "class_uid"), Some("U64(2004)"));
        // Updated after it was created; severity 2 is Low.
        assert_eq!(get(&out, "activity_id"), Some("U64(2)"));
        assert_eq!(get(&out, "severity_id"), Some("U64(2)"));
        assert!(get(&out, "finding_info.uid").is_some_and(|u| u.contains("arn:aws:guardduty:")));
        assert!(get(&out, "finding_info.title").is_some());
        assert!(get(&out, "finding_info.types").is_some());
        assert!(get(&out, "resources").is_some_and(|r| r.contains("\\\"type\\\":\\\"Instance\\\"")));
        assert!(get(&out, "evidences").is_some_and(|r| r.contains("direction_id")));
        assert!(get(&out, "cloud.account.uid").is_some());
    }
}
