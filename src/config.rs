//! Every environment variable the function reads, parsed and validated once at
//! start-up, with defaults.
//!
//! Endpoints are deliberately *not* configured here: the AWS SDK's standard
//! variables (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_S3`, ...) do that, so the
//! same binary runs against AWS, moto or any other compatible server.

use std::time::Duration;

use thiserror::Error;

use crate::filter::Filters;
use crate::formats::Format;
use crate::ocsf::Schema;
use crate::routes::{self, Routes};
use crate::sink::packing::{Packing, RecordCompression, DEFAULT_PACK_MAX_EVENTS};

/// A configuration problem found at start-up. The message names the variable.
#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("{0} is required but not set")]
    Missing(&'static str),
    #[error("{var} has an invalid value {value:?}: {reason}")]
    Invalid {
        var: &'static str,
        value: String,
        reason: String,
    },
}

/// The cross-account role to assume before reading objects.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RoleConfig {
    pub arn: String,
    pub external_id: Option<String>,
    pub session_name: String,
}

/// One entry of the per-source mapping (`SOURCES` / `SOURCES_FILE`): objects
/// of `bucket` whose key starts with `prefix` get these settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRule {
    pub bucket: String,
    pub prefix: String,
    /// Format of these objects, instead of detecting it.
    pub format: Option<Format>,
    /// Role to read these objects with, instead of `ROLE_ARN`.
    pub role: Option<RoleConfig>,
    /// Account that owns the bucket: checked against `ALLOWED_ACCOUNTS` and
    /// sent as `ExpectedBucketOwner`, so S3 refuses a bucket of anyone else.
    pub account: Option<String>,
    /// Region of the bucket, when it differs from the function's.
    pub region: Option<String>,
    /// S3 access point (ARN or alias) to read through instead of the bucket.
    pub access_point: Option<String>,
    /// Route these objects' records take (index into `Config::routes`),
    /// instead of their dataset's.
    pub route: Option<usize>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceEntry {
    bucket: String,
    #[serde(default)]
    prefix: String,
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    role_arn: Option<String>,
    #[serde(default)]
    external_id: Option<String>,
    #[serde(default)]
    session_name: Option<String>,
    #[serde(default)]
    account: Option<String>,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    access_point: Option<String>,
    #[serde(default)]
    route: Option<String>,
}

/// How to read one object: the credentials, region, owner check and access
/// point that apply to it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadTarget {
    pub role: Option<RoleConfig>,
    pub region: Option<String>,
    pub expected_owner: Option<String>,
    pub access_point: Option<String>,
}

/// Size limits applied to every object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest object (as stored, compressed) we accept.
    pub max_object_bytes: u64,
    /// Largest decompressed size of one object (decompression-bomb guard).
    pub max_decompressed_bytes: u64,
    /// Longest line (or single event) of a line-based format.
    pub max_line_bytes: usize,
    /// Most events one object may hold.
    pub max_events_per_object: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_object_bytes: 5 * 1024 * 1024 * 1024,
            max_decompressed_bytes: 50 * 1024 * 1024 * 1024,
            max_line_bytes: 8 * 1024 * 1024,
            max_events_per_object: 100_000_000,
        }
    }
}

impl Limits {
    /// The limits from the environment (`MAX_*` variables), defaults for the rest.
    pub fn from_env() -> Result<Limits, ConfigError> {
        Limits::from_lookup(&|name: &str| {
            std::env::var(name)
                .ok()
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        })
    }

    fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> Result<Limits, ConfigError> {
        let d = Limits::default();
        Ok(Limits {
            max_object_bytes: parse_num(get, "MAX_OBJECT_BYTES", d.max_object_bytes)?,
            max_decompressed_bytes: parse_num(
                get,
                "MAX_DECOMPRESSED_BYTES",
                d.max_decompressed_bytes,
            )?,
            max_line_bytes: parse_num(get, "MAX_LINE_BYTES", d.max_line_bytes as u64)? as usize,
            max_events_per_object: parse_num(
                get,
                "MAX_EVENTS_PER_OBJECT",
                d.max_events_per_object,
            )?,
        })
    }
}

/// The whole configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where records go: the default route (`DELIVERY_STREAM_NAME`,
    /// `RECORD_PACKING`, `PACK_MAX_EVENTS`, `RECORD_COMPRESSION`) and the
    /// routes of `ROUTES` / `ROUTES_FILE`.
    pub routes: Routes,
    /// Role to assume for reading objects; `None` means the function's own credentials.
    pub role: Option<RoleConfig>,
    /// Buckets we may read from; empty means any bucket (`ALLOWED_BUCKETS`).
    pub allowed_buckets: Vec<String>,
    /// Accounts whose buckets we may read from; empty means any (`ALLOWED_ACCOUNTS`).
    pub allowed_accounts: Vec<String>,
    /// Forces one format for every object instead of detecting it (`FORMAT`).
    pub format_override: Option<Format>,
    /// Per-source settings; the longest matching prefix wins (`SOURCES`, `SOURCES_FILE`).
    pub sources: Vec<SourceRule>,
    /// Keep the raw event in `event.original` (`INCLUDE_EVENT_ORIGINAL`, off
    /// by default: records are lossless without it).
    pub include_original: bool,
    /// How many objects are read and parsed at once (`MAX_CONCURRENCY`).
    pub max_concurrency: usize,
    /// Stop starting new work this long before the invocation's deadline (`DEADLINE_MARGIN_MS`).
    pub deadline_margin: Duration,
    /// Attempts per `PutRecordBatch` record before its message is reported failed (`FIREHOSE_MAX_ATTEMPTS`).
    pub firehose_max_attempts: u32,
    /// Size limits.
    pub limits: Limits,
    /// Rules that drop events before they are sent (`FILTERS`, `FILTERS_FILE`).
    pub filters: Filters,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup` (the environment in production, a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };

        let routes = parse_routes(&get)?;

        let external_id = get("EXTERNAL_ID");
        let session_name_var = get("ROLE_SESSION_NAME");
        let role = match get("ROLE_ARN") {
            Some(arn) => {
                validate_role_arn(&arn)?;
                let session_name = session_name_var
                    .or_else(|| get("AWS_LAMBDA_FUNCTION_NAME"))
                    .unwrap_or_else(|| "s3-log-forwarder".to_string());
                validate_session_name(&session_name)?;
                if let Some(id) = &external_id {
                    validate_external_id(id)?;
                }
                Some(RoleConfig {
                    arn,
                    external_id,
                    session_name,
                })
            }
            None => {
                if external_id.is_some() {
                    return Err(ConfigError::Invalid {
                        var: "EXTERNAL_ID",
                        value: "<set>".into(),
                        reason: "an external id needs ROLE_ARN".into(),
                    });
                }
                None
            }
        };

        let allowed_buckets = get("ALLOWED_BUCKETS")
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|b| !b.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();

        let allowed_accounts: Vec<String> = get("ALLOWED_ACCOUNTS")
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|a| !a.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        if let Some(bad) = allowed_accounts.iter().find(|a| !is_account_id(a)) {
            return Err(invalid(
                "ALLOWED_ACCOUNTS",
                bad,
                "account ids are 12 digits",
            ));
        }

        let format_override = match get("FORMAT") {
            Some(v) => Some(v.parse::<Format>().map_err(|_| ConfigError::Invalid {
                var: "FORMAT",
                value: v.clone(),
                reason: format!("expected one of {}", Format::names()),
            })?),
            None => None,
        };

        let default_session = role
            .as_ref()
            .map(|r| r.session_name.clone())
            .or_else(|| get("ROLE_SESSION_NAME"))
            .or_else(|| get("AWS_LAMBDA_FUNCTION_NAME"))
            .unwrap_or_else(|| "s3-log-forwarder".to_string());
        let sources = match (get("SOURCES"), get("SOURCES_FILE")) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "SOURCES_FILE",
                    "<set>",
                    "set SOURCES or SOURCES_FILE, not both",
                ))
            }
            (Some(inline), None) => parse_sources("SOURCES", &inline, &default_session, &routes)?,
            (None, Some(path)) => {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| invalid("SOURCES_FILE", &path, &format!("cannot read it: {e}")))?;
                parse_sources("SOURCES_FILE", &text, &default_session, &routes)?
            }
            (None, None) => Vec::new(),
        };

        let filters = match (get("FILTERS"), get("FILTERS_FILE")) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "FILTERS_FILE",
                    "<set>",
                    "set FILTERS or FILTERS_FILE, not both",
                ))
            }
            (Some(inline), None) => parse_filters("FILTERS", &inline)?,
            (None, Some(path)) => {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| invalid("FILTERS_FILE", &path, &format!("cannot read it: {e}")))?;
                parse_filters("FILTERS_FILE", &text)?
            }
            (None, None) => Filters::default(),
        };

        let limits = Limits::from_lookup(&get)?;

        let max_concurrency = parse_num(&get, "MAX_CONCURRENCY", 8)? as usize;
        if max_concurrency == 0 {
            return Err(invalid("MAX_CONCURRENCY", "0", "must be at least 1"));
        }
        let firehose_max_attempts = parse_num(&get, "FIREHOSE_MAX_ATTEMPTS", 6)? as u32;
        if firehose_max_attempts == 0 {
            return Err(invalid("FIREHOSE_MAX_ATTEMPTS", "0", "must be at least 1"));
        }

        Ok(Config {
            routes,
            role,
            allowed_buckets,
            allowed_accounts,
            format_override,
            sources,
            include_original: parse_bool(&get, "INCLUDE_EVENT_ORIGINAL", false)?,
            max_concurrency,
            deadline_margin: Duration::from_millis(parse_num(&get, "DEADLINE_MARGIN_MS", 10_000)?),
            firehose_max_attempts,
            limits,
            filters,
        })
    }

    /// The format to use for an object instead of detecting it: the most
    /// specific matching source's, else `FORMAT`'s.
    pub fn format_for(&self, bucket: &str, key: &str) -> Option<Format> {
        self.sources
            .iter()
            .filter(|r| r.bucket == bucket && key.starts_with(&r.prefix) && r.format.is_some())
            .max_by_key(|r| r.prefix.len())
            .and_then(|r| r.format)
            .or(self.format_override)
    }

    /// The most specific source rule for an object, if any.
    pub fn source_for(&self, bucket: &str, key: &str) -> Option<&SourceRule> {
        self.sources
            .iter()
            .filter(|r| r.bucket == bucket && key.starts_with(&r.prefix))
            .max_by_key(|r| r.prefix.len())
    }

    /// How to read an object of `bucket` at `key` whose notification named
    /// `account` (EventBridge does): the source rule's settings, else the
    /// global role. `Err` says why the object may not be read at all.
    pub fn read_target(
        &self,
        bucket: &str,
        key: &str,
        account: Option<&str>,
    ) -> Result<ReadTarget, String> {
        if !self.bucket_allowed(bucket) {
            return Err("bucket is not in ALLOWED_BUCKETS; refused, not fetched".into());
        }
        let rule = self.source_for(bucket, key);
        let owner = rule
            .and_then(|r| r.account.clone())
            .or_else(|| account.map(str::to_string));
        if let (Some(rule_account), Some(event_account)) =
            (rule.and_then(|r| r.account.as_deref()), account)
        {
            if rule_account != event_account {
                return Err(format!(
                    "the notification says the bucket belongs to account {event_account}, SOURCES says {rule_account}; refused, not fetched"
                ));
            }
        }
        if !self.allowed_accounts.is_empty() {
            match &owner {
                Some(a) if self.allowed_accounts.contains(a) => {}
                Some(a) => {
                    return Err(format!(
                        "account {a} is not in ALLOWED_ACCOUNTS; refused, not fetched"
                    ))
                }
                None => {
                    return Err("the bucket's account is unknown and ALLOWED_ACCOUNTS is set: name the bucket's \"account\" in SOURCES; refused, not fetched".into())
                }
            }
        }
        Ok(ReadTarget {
            role: rule
                .and_then(|r| r.role.clone())
                .or_else(|| self.role.clone()),
            region: rule.and_then(|r| r.region.clone()),
            expected_owner: owner,
            access_point: rule.and_then(|r| r.access_point.clone()),
        })
    }

    /// The route (an index into `routes`) of an object of `bucket` at `key`
    /// in `dataset`: its source's, else its dataset's, else the default.
    pub fn route_for(&self, bucket: &str, key: &str, dataset: &str) -> usize {
        self.sources
            .iter()
            .filter(|r| r.bucket == bucket && key.starts_with(&r.prefix) && r.route.is_some())
            .max_by_key(|r| r.prefix.len())
            .and_then(|r| r.route)
            .unwrap_or_else(|| self.routes.for_dataset(dataset))
    }

    /// Whether objects of `bucket` may be read.
    pub fn bucket_allowed(&self, bucket: &str) -> bool {
        self.allowed_buckets.is_empty() || self.allowed_buckets.iter().any(|b| b == bucket)
    }
}

/// The routes: `ROUTES` or `ROUTES_FILE`, and the default route of
/// `DELIVERY_STREAM_NAME` with `RECORD_*` (required unless the routes
/// define `default`).
fn parse_routes(get: &impl Fn(&str) -> Option<String>) -> Result<Routes, ConfigError> {
    let schema = match get("OUTPUT_SCHEMA") {
        None => Schema::Ecs,
        Some(v) => {
            Schema::parse(&v).ok_or_else(|| invalid("OUTPUT_SCHEMA", &v, "expected ecs or ocsf"))?
        }
    };
    let default = match get("DELIVERY_STREAM_NAME") {
        Some(name) => {
            validate_stream_name(&name)?;
            Some((name, parse_packing(get)?))
        }
        None => None,
    };
    let (var, text) = match (get("ROUTES"), get("ROUTES_FILE")) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                "ROUTES_FILE",
                "<set>",
                "set ROUTES or ROUTES_FILE, not both",
            ))
        }
        (Some(inline), None) => ("ROUTES", inline),
        (None, Some(path)) => (
            "ROUTES_FILE",
            std::fs::read_to_string(&path)
                .map_err(|e| invalid("ROUTES_FILE", &path, &format!("cannot read it: {e}")))?,
        ),
        (None, None) => {
            let (stream, packing) = default.ok_or(ConfigError::Missing("DELIVERY_STREAM_NAME"))?;
            return Ok(Routes::single(stream, packing).with_default_schema(schema));
        }
    };
    if default.is_none() {
        for var in [
            "RECORD_PACKING",
            "RECORD_COMPRESSION",
            "PACK_MAX_EVENTS",
            "OUTPUT_SCHEMA",
        ] {
            if get(var).is_some() {
                return Err(invalid(
                    var,
                    "<set>",
                    "applies to the default route of DELIVERY_STREAM_NAME, which is not set: give the route \"default\" of ROUTES its \"packing\", \"compression\", \"pack_max_events\" and \"schema\" instead",
                ));
            }
        }
    }
    let has_default = default.is_some();
    let routes = routes::parse(var, &text, default)?;
    Ok(if has_default {
        routes.with_default_schema(schema)
    } else {
        routes
    })
}

fn parse_sources(
    var: &'static str,
    text: &str,
    default_session: &str,
    routes: &Routes,
) -> Result<Vec<SourceRule>, ConfigError> {
    let entries: Vec<SourceEntry> = serde_json::from_str(text).map_err(|e| {
        invalid(
            var,
            "<json>",
            &format!(
                "expected a JSON array of {{\"bucket\", \"prefix\", \"format\", \"role_arn\", \"external_id\", \"session_name\", \"account\", \"region\", \"access_point\", \"route\"}} objects: {e}"
            ),
        )
    })?;
    entries
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            let bad =
                |what: String| invalid(var, "<json>", &format!("entry {i} ({}): {what}", e.bucket));
            if e.bucket.is_empty() {
                return Err(invalid(
                    var,
                    "<json>",
                    &format!("entry {i} has an empty bucket"),
                ));
            }
            let format = match &e.format {
                Some(f) => Some(f.parse::<Format>().map_err(bad)?),
                None => None,
            };
            let role = match &e.role_arn {
                Some(arn) => {
                    validate_role_arn(arn)
                        .map_err(|_| bad(format!("role_arn {arn:?} is not a role ARN")))?;
                    let session_name = e
                        .session_name
                        .clone()
                        .unwrap_or_else(|| default_session.to_string());
                    validate_session_name(&session_name).map_err(|_| {
                        bad("session_name is 2-64 characters of [\\w+=,.@-]".into())
                    })?;
                    if let Some(id) = &e.external_id {
                        validate_external_id(id).map_err(|_| {
                            bad("external_id is 2-1224 characters of [\\w+=,.@:/-]".into())
                        })?;
                    }
                    Some(RoleConfig {
                        arn: arn.clone(),
                        external_id: e.external_id.clone(),
                        session_name,
                    })
                }
                None if e.external_id.is_some() || e.session_name.is_some() => {
                    return Err(bad("external_id and session_name need role_arn".into()))
                }
                None => None,
            };
            if let Some(a) = e.account.as_deref().filter(|a| !is_account_id(a)) {
                return Err(bad(format!("account {a:?} is not 12 digits")));
            }
            let route = match e.route.as_deref().map(str::trim) {
                Some(name) => Some(routes.index_of(name).ok_or_else(|| {
                    let known: Vec<&str> = routes.all().iter().map(|r| &*r.name).collect();
                    bad(format!(
                        "route {name:?} is not defined (routes: {})",
                        known.join(", ")
                    ))
                })?),
                None => None,
            };
            Ok(SourceRule {
                bucket: e.bucket,
                prefix: e.prefix,
                format,
                role,
                account: e.account,
                region: e.region,
                access_point: e.access_point,
                route,
            })
        })
        .collect()
}

/// `FILTERS` / `FILTERS_FILE`: a JSON array of rules (see `filter`); the
/// message names the rule and the field.
fn parse_filters(var: &'static str, text: &str) -> Result<Filters, ConfigError> {
    Filters::parse(text).map_err(|why| invalid(var, "<json>", &why))
}

fn is_account_id(a: &str) -> bool {
    a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit())
}

fn invalid(var: &'static str, value: &str, reason: &str) -> ConfigError {
    ConfigError::Invalid {
        var,
        value: value.to_string(),
        reason: reason.to_string(),
    }
}

fn parse_num(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: u64,
) -> Result<u64, ConfigError> {
    match get(var) {
        None => Ok(default),
        Some(v) => v
            .replace('_', "")
            .parse::<u64>()
            .map_err(|e| invalid(var, &v, &format!("expected a whole number ({e})"))),
    }
}

/// `RECORD_PACKING`: `none` (one event per Firehose record, the default) or
/// `ndjson` (consecutive events of one object, newline-delimited, share a
/// record); `PACK_MAX_EVENTS` (default 500) bounds the events of a plain
/// packed record; `RECORD_COMPRESSION`: `none` (default), `gzip` or `zstd`
/// makes each packed record one compressed frame, filled up to the record
/// limit after compression (needs `ndjson`).
fn parse_packing(get: &impl Fn(&str) -> Option<String>) -> Result<Packing, ConfigError> {
    let packed = match get("RECORD_PACKING").map(|v| v.trim().to_ascii_lowercase()) {
        None => false,
        Some(v) => match v.as_str() {
            "none" | "" => false,
            "ndjson" => true,
            _ => return Err(invalid("RECORD_PACKING", &v, "expected none or ndjson")),
        },
    };
    let compression = match get("RECORD_COMPRESSION").map(|v| v.trim().to_ascii_lowercase()) {
        None => None,
        Some(v) => match v.as_str() {
            "none" | "" => None,
            "gzip" => Some(RecordCompression::Gzip),
            "zstd" => Some(RecordCompression::Zstd),
            _ => {
                return Err(invalid(
                    "RECORD_COMPRESSION",
                    &v,
                    "expected none, gzip or zstd",
                ))
            }
        },
    };
    let max_events = parse_num(&get, "PACK_MAX_EVENTS", DEFAULT_PACK_MAX_EVENTS as u64)?;
    if max_events == 0 {
        return Err(invalid("PACK_MAX_EVENTS", "0", "must be at least 1"));
    }
    match (packed, compression) {
        (false, None) => Ok(Packing::OnePerRecord),
        (false, Some(c)) => Err(invalid(
            "RECORD_COMPRESSION",
            c.name(),
            "needs RECORD_PACKING=ndjson: a compressed record holds many events (set RECORD_PACKING=ndjson, or RECORD_COMPRESSION=none)",
        )),
        (true, None) => Ok(Packing::Ndjson {
            max_events: usize::try_from(max_events).unwrap_or(usize::MAX),
        }),
        (true, Some(c)) => Ok(Packing::Compressed(c)),
    }
}

fn parse_bool(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: bool,
) -> Result<bool, ConfigError> {
    match get(var).map(|v| v.to_ascii_lowercase()) {
        None => Ok(default),
        Some(v) => match v.as_str() {
            "1" | "true" | "yes" | "on" => Ok(true),
            "0" | "false" | "no" | "off" => Ok(false),
            _ => Err(invalid(var, &v, "expected true or false")),
        },
    }
}

/// Whether `name` can be a delivery stream's name.
pub(crate) fn is_stream_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

fn validate_stream_name(name: &str) -> Result<(), ConfigError> {
    if is_stream_name(name) {
        Ok(())
    } else {
        Err(invalid(
            "DELIVERY_STREAM_NAME",
            name,
            "a delivery stream name is 1-64 characters of [a-zA-Z0-9_.-]",
        ))
    }
}

fn validate_role_arn(arn: &str) -> Result<(), ConfigError> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && parts[2] == "iam"
        && parts[4].len() == 12
        && parts[4].chars().all(|c| c.is_ascii_digit())
        && parts[5].starts_with("role/")
        && parts[5].len() > "role/".len();
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "ROLE_ARN",
            arn,
            "expected arn:<partition>:iam::<12-digit account>:role/<name>",
        ))
    }
}

fn validate_session_name(name: &str) -> Result<(), ConfigError> {
    let ok = (2..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@-_".contains(c));
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "ROLE_SESSION_NAME",
            name,
            "a session name is 2-64 characters of [\\w+=,.@-]",
        ))
    }
}

fn validate_external_id(id: &str) -> Result<(), ConfigError> {
    let ok = (2..=1224).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@:/-_".contains(c));
    if ok {
        Ok(())
    } else {
        // Never echo the external id itself: it is a shared secret of sorts.
        Err(invalid(
            "EXTERNAL_ID",
            "<hidden>",
            "an external id is 2-1224 characters of [\\w+=,.@:/-]",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn delivery_stream_is_required_and_named_in_the_error() {
        let err = cfg(&[]).unwrap_err().to_string();
        assert!(err.contains("DELIVERY_STREAM_NAME"), "{err}");
    }

    #[test]
    fn an_object_takes_its_sources_route_else_its_datasets_else_the_default() {
        let routes = r#"[{"name": "siem", "streams": ["ct"], "datasets": ["aws.cloudtrail"]},
                         {"name": "lake", "streams": ["lake-1", "lake-2"]}]"#;
        let sources = r#"[{"bucket": "b", "prefix": "archive/", "route": "lake"},
                          {"bucket": "b", "prefix": "archive/keep/", "format": "text"}]"#;
        let c = cfg(&[
            ("DELIVERY_STREAM_NAME", "logs"),
            ("ROUTES", routes),
            ("SOURCES", sources),
        ])
        .unwrap();
        let name = |bucket: &str, key: &str, dataset: &str| {
            c.routes
                .get(c.route_for(bucket, key, dataset))
                .name
                .to_string()
        };
        assert_eq!(name("b", "AWSLogs/x", "aws.cloudtrail"), "siem");
        assert_eq!(name("b", "AWSLogs/x", "aws.vpcflow"), "default");
        assert_eq!(name("b", "archive/x", "aws.cloudtrail"), "lake");
        // A more specific rule without a route leaves the route to the less specific one.
        assert_eq!(name("b", "archive/keep/x", "aws.cloudtrail"), "lake");
        assert_eq!(name("other", "archive/x", "aws.cloudtrail"), "siem");
        assert_eq!(c.routes.streams(), ["logs", "ct", "lake-1", "lake-2"]);
    }

    #[test]
    fn route_mistakes_are_start_up_errors_that_name_them() {
        let with = |vars: &[(&str, &str)]| cfg(vars).unwrap_err().to_string();
        let err = with(&[
            ("DELIVERY_STREAM_NAME", "logs"),
            ("SOURCES", r#"[{"bucket": "b", "route": "nope"}]"#),
        ]);
        assert!(
            err.contains("SOURCES") && err.contains("\"nope\" is not defined"),
            "{err}"
        );
        let err = with(&[("ROUTES", r#"[{"name": "x", "streams": ["a"]}]"#)]);
        assert!(err.contains("no default route"), "{err}");
        let err = with(&[
            ("ROUTES", r#"[{"name": "default", "streams": ["a"]}]"#),
            ("RECORD_PACKING", "ndjson"),
        ]);
        assert!(
            err.contains("RECORD_PACKING") && err.contains("\"default\""),
            "{err}"
        );
        let err = with(&[
            ("DELIVERY_STREAM_NAME", "logs"),
            ("ROUTES", "[]"),
            ("ROUTES_FILE", "/x"),
        ]);
        assert!(err.contains("not both"), "{err}");
        // The default route may come from ROUTES alone.
        let c = cfg(&[(
            "ROUTES",
            r#"[{"name": "default", "streams": ["a", "b"], "packing": "ndjson"}]"#,
        )])
        .unwrap();
        assert_eq!(c.routes.streams(), ["a", "b"]);
        assert_eq!(
            c.routes.default_route().packing,
            Packing::Ndjson {
                max_events: DEFAULT_PACK_MAX_EVENTS
            }
        );
    }

    #[test]
    fn defaults_apply_without_role() {
        let c = cfg(&[("DELIVERY_STREAM_NAME", "logs")]).unwrap();
        assert!(c.role.is_none());
        assert!(c.allowed_buckets.is_empty());
        assert!(c.bucket_allowed("anything"));
        assert!(!c.include_original, "records are lossless without it");
        assert_eq!(c.limits, Limits::default());
        assert_eq!(c.routes.default_route().packing, Packing::OnePerRecord);
    }

    #[test]
    fn record_packing_is_none_or_ndjson() {
        let with = |v: &str| cfg(&[("DELIVERY_STREAM_NAME", "logs"), ("RECORD_PACKING", v)]);
        let ndjson = Packing::Ndjson {
            max_events: DEFAULT_PACK_MAX_EVENTS,
        };
        assert_eq!(
            with("ndjson").unwrap().routes.default_route().packing,
            ndjson
        );
        assert_eq!(
            with("NDJSON").unwrap().routes.default_route().packing,
            ndjson
        );
        assert_eq!(
            with("none").unwrap().routes.default_route().packing,
            Packing::OnePerRecord
        );
        let err = with("gzip").unwrap_err().to_string();
        assert!(err.contains("RECORD_PACKING"), "{err}");
    }

    #[test]
    fn record_compression_needs_packing_and_a_known_name() {
        let with = |vars: &[(&str, &str)]| {
            let mut all = vec![("DELIVERY_STREAM_NAME", "logs")];
            all.extend_from_slice(vars);
            cfg(&all)
        };
        let packed = |c: &str| with(&[("RECORD_PACKING", "ndjson"), ("RECORD_COMPRESSION", c)]);
        assert_eq!(
            packed("zstd").unwrap().routes.default_route().packing,
            Packing::Compressed(RecordCompression::Zstd)
        );
        assert_eq!(
            packed("GZIP").unwrap().routes.default_route().packing,
            Packing::Compressed(RecordCompression::Gzip)
        );
        assert_eq!(
            packed("none").unwrap().routes.default_route().packing,
            Packing::Ndjson {
                max_events: DEFAULT_PACK_MAX_EVENTS
            }
        );
        let err = packed("lz4").unwrap_err().to_string();
        assert!(
            err.contains("RECORD_COMPRESSION") && err.contains("lz4"),
            "{err}"
        );
        let err = with(&[("RECORD_COMPRESSION", "gzip")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("RECORD_COMPRESSION") && err.contains("RECORD_PACKING=ndjson"),
            "{err}"
        );
    }

    #[test]
    fn pack_max_events_bounds_plain_packed_records() {
        let with = |n: &str| {
            cfg(&[
                ("DELIVERY_STREAM_NAME", "logs"),
                ("RECORD_PACKING", "ndjson"),
                ("PACK_MAX_EVENTS", n),
            ])
        };
        assert_eq!(
            with("100").unwrap().routes.default_route().packing,
            Packing::Ndjson { max_events: 100 }
        );
        let err = with("0").unwrap_err().to_string();
        assert!(err.contains("PACK_MAX_EVENTS"), "{err}");
        let err = with("many").unwrap_err().to_string();
        assert!(err.contains("PACK_MAX_EVENTS"), "{err}");
    }

    #[test]
    fn role_session_name_defaults_to_function_name() {
        let c = cfg(&[
            ("DELIVERY_STREAM_NAME", "logs"),
            ("ROLE_ARN", "arn:aws:iam::123456789012:role/reader"),
            ("AWS_LAMBDA_FUNCTION_NAME", "my-forwarder"),
        ])
        .unwrap();
        let role = c.role.unwrap();
        assert_eq!(role.session_name, "my-forwarder");
        assert_eq!(role.external_id, None);
    }

    #[test]
    fn allowed_buckets_are_split_and_trimmed() {
        let c = cfg(&[
            ("DELIVERY_STREAM_NAME", "logs"),
            ("ALLOWED_BUCKETS", " a , b,,c "),
        ])
        .unwrap();
        assert_eq!(c.allowed_buckets, vec!["a", "b", "c"]);
        assert!(c.bucket_allowed("b"));
        assert!(!c.bucket_allowed("d"));
    }

    #[test]
    fn invalid_values_name_the_variable() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (
                &[("DELIVERY_STREAM_NAME", "bad name")],
                "DELIVERY_STREAM_NAME",
            ),
            (
                &[
                    ("DELIVERY_STREAM_NAME", "s"),
                    ("ROLE_ARN", "arn:aws:s3:::bucket"),
                ],
                "ROLE_ARN",
            ),
            (
                &[
                    ("DELIVERY_STREAM_NAME", "s"),
                    ("ROLE_ARN", "arn:aws:iam::123456789012:role/r"),
                    ("ROLE_SESSION_NAME", "has space"),
                ],
                "ROLE_SESSION_NAME",
            ),
            (
                &[("DELIVERY_STREAM_NAME", "s"), ("EXTERNAL_ID", "abc")],
                "EXTERNAL_ID",
            ),
            (
                &[("DELIVERY_STREAM_NAME", "s"), ("MAX_OBJECT_BYTES", "10GB")],
                "MAX_OBJECT_BYTES",
            ),
            (
                &[("DELIVERY_STREAM_NAME", "s"), ("MAX_CONCURRENCY", "0")],
                "MAX_CONCURRENCY",
            ),
            (
                &[
                    ("DELIVERY_STREAM_NAME", "s"),
                    ("INCLUDE_EVENT_ORIGINAL", "maybe"),
                ],
                "INCLUDE_EVENT_ORIGINAL",
            ),
            (
                &[("DELIVERY_STREAM_NAME", "s"), ("FORMAT", "xml")],
                "FORMAT",
            ),
        ];
        for (vars, var) in cases {
            let err = cfg(vars).unwrap_err().to_string();
            assert!(err.contains(var), "{vars:?}: {err}");
        }
    }

    #[test]
    fn per_source_format_longest_prefix_wins_over_global() {
        let c = cfg(&[
            ("DELIVERY_STREAM_NAME", "s"),
            ("FORMAT", "text"),
            (
                "SOURCES",
                r#"[{"bucket":"b","format":"json"},{"bucket":"b","prefix":"flows/","format":"cloudtrail"},{"bucket":"c","prefix":"x/"}]"#,
            ),
        ])
        .unwrap();
        assert_eq!(c.format_for("b", "flows/a.log"), Some(Format::CloudTrail));
        assert_eq!(c.format_for("b", "other/a.log"), Some(Format::JsonLines));
        assert_eq!(c.format_for("c", "x/a.log"), Some(Format::Text));
        assert_eq!(c.format_for("z", "a.log"), Some(Format::Text));
    }

    #[test]
    fn bad_sources_are_reported_with_the_variable() {
        for bad in [
            "not json",
            r#"[{"bucket":""}]"#,
            r#"[{"bucket":"b","format":"xml"}]"#,
            r#"[{"bucket":"b","unknown":1}]"#,
        ] {
            let err = cfg(&[("DELIVERY_STREAM_NAME", "s"), ("SOURCES", bad)])
                .unwrap_err()
                .to_string();
            assert!(err.contains("SOURCES"), "{bad}: {err}");
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sources.json");
        std::fs::write(
            &path,
            r#"[{"bucket":"b","prefix":"p/","format":"cloudtrail"}]"#,
        )
        .unwrap();
        let c = cfg(&[
            ("DELIVERY_STREAM_NAME", "s"),
            ("SOURCES_FILE", path.to_str().unwrap()),
        ])
        .unwrap();
        assert_eq!(c.format_for("b", "p/x"), Some(Format::CloudTrail));
    }

    #[test]
    fn read_target_applies_sources_and_refuses_unknown_or_foreign_accounts() {
        let c = cfg(&[
            ("DELIVERY_STREAM_NAME", "s"),
            ("ROLE_ARN", "arn:aws:iam::123456789012:role/global"),
            ("ALLOWED_ACCOUNTS", "111111111111,222222222222"),
            (
                "SOURCES",
                r#"[{"bucket":"a","account":"111111111111","role_arn":"arn:aws:iam::111111111111:role/ra","external_id":"ext-a","region":"eu-west-1","access_point":"ap-alias-s3alias"},
                    {"bucket":"b","prefix":"x/","account":"222222222222"}]"#,
            ),
        ])
        .unwrap();
        let t = c.read_target("a", "k", None).unwrap();
        let role = t.role.unwrap();
        assert_eq!(role.arn, "arn:aws:iam::111111111111:role/ra");
        assert_eq!(role.external_id.as_deref(), Some("ext-a"));
        assert_eq!(role.session_name, "s3-log-forwarder");
        assert_eq!(t.region.as_deref(), Some("eu-west-1"));
        assert_eq!(t.expected_owner.as_deref(), Some("111111111111"));
        assert_eq!(t.access_point.as_deref(), Some("ap-alias-s3alias"));
        // Falls back to the global role.
        let t = c.read_target("b", "x/k", None).unwrap();
        assert_eq!(t.role.unwrap().arn, "arn:aws:iam::123456789012:role/global");
        // Unknown account with ALLOWED_ACCOUNTS set; a foreign one; a contradiction.
        assert!(c
            .read_target("b", "other/k", None)
            .unwrap_err()
            .contains("unknown"));
        assert!(c
            .read_target("z", "k", Some("333333333333"))
            .unwrap_err()
            .contains("ALLOWED_ACCOUNTS"));
        assert!(c
            .read_target("a", "k", Some("222222222222"))
            .unwrap_err()
            .contains("SOURCES says"));
        assert!(c.read_target("z", "k", Some("222222222222")).is_ok());
    }

    #[test]
    fn filters_come_from_the_variable_or_a_file_and_errors_name_the_rule() {
        let rule = r#"[{"name": "ct-read-only", "dataset": "aws.cloudtrail", "when": {"event.action": {"prefix": ["Describe", "List", "Get"]}}}]"#;
        let c = cfg(&[("DELIVERY_STREAM_NAME", "s"), ("FILTERS", rule)]).unwrap();
        assert_eq!(c.filters.rules().len(), 1);
        assert!(cfg(&[("DELIVERY_STREAM_NAME", "s")])
            .unwrap()
            .filters
            .is_empty());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("filters.json");
        std::fs::write(&path, rule).unwrap();
        let file = path.to_str().unwrap();
        let c = cfg(&[("DELIVERY_STREAM_NAME", "s"), ("FILTERS_FILE", file)]).unwrap();
        assert_eq!(&*c.filters.rules()[0].name, "ct-read-only");
        let err = cfg(&[
            ("DELIVERY_STREAM_NAME", "s"),
            ("FILTERS", rule),
            ("FILTERS_FILE", file),
        ])
        .unwrap_err()
        .to_string();
        assert!(err.contains("not both"), "{err}");
        let bad = r#"[{"name": "typo", "dataset": "aws.cloudtrail", "when": {"event.actoin": {"equals": "x"}}}]"#;
        let err = cfg(&[("DELIVERY_STREAM_NAME", "s"), ("FILTERS", bad)])
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("FILTERS has an invalid value")
                && err.contains("rule 0 (typo)")
                && err.contains("event.actoin"),
            "{err}"
        );
        let err = cfg(&[
            ("DELIVERY_STREAM_NAME", "s"),
            ("FILTERS_FILE", "/nonexistent/filters.json"),
        ])
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("FILTERS_FILE") && err.contains("cannot read"),
            "{err}"
        );
    }

    #[test]
    fn external_id_is_never_echoed_in_errors() {
        let err = cfg(&[
            ("DELIVERY_STREAM_NAME", "s"),
            ("ROLE_ARN", "arn:aws:iam::123456789012:role/r"),
            ("EXTERNAL_ID", "secret value with spaces"),
        ])
        .unwrap_err()
        .to_string();
        assert!(!err.contains("secret"), "{err}");
    }
}
