//! Routes: where an object's records go. A route names one or more delivery
//! streams and how its records are packed (`packing`, `pack_max_events`,
//! `compression`, as `RECORD_PACKING` & co. for the default route). An
//! object takes the route of its source (`SOURCES` entry's `"route"`), else
//! the route that lists its dataset, else the default route, which is
//! `DELIVERY_STREAM_NAME` with `RECORD_*`, or the `ROUTES` entry named
//! `default`.
//!
//! A route of several streams spreads its records over them by the first
//! event's identity (the object and the event's position in it: what
//! `event.id` is made of), so an event goes to the same stream every time it
//! is sent.
//!
//! This module only parses and chooses; the sink sends.

use std::sync::Arc;

use serde::Deserialize;

use crate::config::ConfigError;
use crate::formats::FORMATS;
use crate::ocsf::Schema;
use crate::sink::packing::{Packing, RecordCompression, DEFAULT_PACK_MAX_EVENTS};

/// The name of the route objects take when nothing else names one.
pub const DEFAULT_ROUTE: &str = "default";

/// Most streams one route may spread over.
pub const MAX_STREAMS_PER_ROUTE: usize = 16;

/// Most routes of a deployment.
pub const MAX_ROUTES: usize = 32;

/// One route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub name: Arc<str>,
    /// Its streams, as indexes into [`Routes::streams`].
    pub streams: Vec<usize>,
    pub packing: Packing,
    /// The records' schema (ECS, or OCSF).
    pub schema: Schema,
    /// Datasets (`event.dataset`) whose objects take this route.
    pub datasets: Vec<&'static str>,
}

impl Route {
    /// The stream (an index into [`Routes::streams`]) of the record whose
    /// first event is number `ordinal` of the object with `identity`
    /// ([`object_identity`]).
    pub fn stream_for(&self, identity: u64, ordinal: u64) -> usize {
        match self.streams.as_slice() {
            [only] => *only,
            streams => {
                let at = mix(identity ^ mix(ordinal)) % streams.len() as u64;
                streams[at as usize]
            }
        }
    }
}

/// Every route and every stream they name (each stream once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routes {
    /// The default route is first.
    routes: Vec<Route>,
    streams: Vec<String>,
}

impl Routes {
    /// One route to one stream: what `DELIVERY_STREAM_NAME` alone sets up.
    pub fn single(stream: impl Into<String>, packing: Packing) -> Routes {
        Routes {
            routes: vec![Route {
                name: DEFAULT_ROUTE.into(),
                streams: vec![0],
                packing,
                schema: Schema::Ecs,
                datasets: Vec::new(),
            }],
            streams: vec![stream.into()],
        }
    }

    pub fn all(&self) -> &[Route] {
        &self.routes
    }

    pub fn get(&self, index: usize) -> &Route {
        &self.routes[index.min(self.routes.len() - 1)]
    }

    pub fn default_route(&self) -> &Route {
        &self.routes[0]
    }

    /// Every stream, each once, in the order routes name them.
    pub fn streams(&self) -> &[String] {
        &self.streams
    }

    /// The route called `name`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.routes.iter().position(|r| &*r.name == name)
    }

    /// The route of an object of `dataset` whose source names no route.
    pub fn for_dataset(&self, dataset: &str) -> usize {
        self.routes
            .iter()
            .position(|r| r.datasets.contains(&dataset))
            .unwrap_or(0)
    }

    /// The same routes with the default route's records in `schema`.
    pub fn with_default_schema(mut self, schema: Schema) -> Routes {
        self.routes[0].schema = schema;
        self
    }

    /// The route's streams by name.
    pub fn stream_names(&self, route: &Route) -> Vec<&str> {
        route
            .streams
            .iter()
            .map(|&s| self.streams[s].as_str())
            .collect()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteEntry {
    name: String,
    streams: Vec<String>,
    #[serde(default)]
    datasets: Vec<String>,
    #[serde(default)]
    packing: Option<String>,
    #[serde(default)]
    pack_max_events: Option<u64>,
    #[serde(default)]
    compression: Option<String>,
    #[serde(default)]
    schema: Option<String>,
}

/// The routes of `text` (`ROUTES` or the file of `ROUTES_FILE`, named by
/// `var`), with `default` (from `DELIVERY_STREAM_NAME` and `RECORD_*`)
/// unless `text` defines a route named `default` itself. Every error names
/// the route and the field.
pub fn parse(
    var: &'static str,
    text: &str,
    default: Option<(String, Packing)>,
) -> Result<Routes, ConfigError> {
    let invalid = |route: &str, reason: String| ConfigError::Invalid {
        var,
        value: route.to_string(),
        reason,
    };
    let entries: Vec<RouteEntry> = serde_json::from_str(text).map_err(|e| ConfigError::Invalid {
        var,
        value: text.chars().take(80).collect(),
        reason: format!(
            "expected a JSON array of {{\"name\", \"streams\", \"datasets\", \"packing\", \"pack_max_events\", \"compression\", \"schema\"}} objects: {e}"
        ),
    })?;
    if entries.len() > MAX_ROUTES {
        return Err(invalid(
            "",
            format!("{} routes, at most {MAX_ROUTES}", entries.len()),
        ));
    }
    let defines_default = entries.iter().any(|e| e.name == DEFAULT_ROUTE);
    let mut routes = Routes {
        routes: Vec::new(),
        streams: Vec::new(),
    };
    match (default, defines_default) {
        (Some((stream, packing)), false) => routes = Routes::single(stream, packing),
        (None, true) => {}
        (Some(_), true) => {
            return Err(invalid(
                DEFAULT_ROUTE,
                "route \"default\" is defined here and by DELIVERY_STREAM_NAME: unset DELIVERY_STREAM_NAME (and RECORD_PACKING, RECORD_COMPRESSION, PACK_MAX_EVENTS), or rename the route".into(),
            ))
        }
        (None, false) => {
            return Err(invalid(
                "",
                "no default route: set DELIVERY_STREAM_NAME, or define a route named \"default\""
                    .into(),
            ))
        }
    }
    // The default route first, whatever its place in the list.
    let mut ordered: Vec<&RouteEntry> =
        entries.iter().filter(|e| e.name == DEFAULT_ROUTE).collect();
    ordered.extend(entries.iter().filter(|e| e.name != DEFAULT_ROUTE));
    for entry in ordered {
        let name = entry.name.as_str();
        let ok_name = (1..=64).contains(&name.len())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'));
        if !ok_name {
            return Err(invalid(
                name,
                "field \"name\": a route name is 1-64 characters of [a-zA-Z0-9_-]".into(),
            ));
        }
        if routes.index_of(name).is_some() {
            return Err(invalid(name, "field \"name\": defined twice".into()));
        }
        if entry.streams.is_empty() || entry.streams.len() > MAX_STREAMS_PER_ROUTE {
            return Err(invalid(
                name,
                format!("field \"streams\": name 1 to {MAX_STREAMS_PER_ROUTE} delivery streams"),
            ));
        }
        let mut streams = Vec::with_capacity(entry.streams.len());
        for stream in &entry.streams {
            let stream = stream.trim();
            if !crate::config::is_stream_name(stream) {
                return Err(invalid(
                    name,
                    format!("field \"streams\": {stream:?} is not a delivery stream name (1-64 characters of [a-zA-Z0-9_.-])"),
                ));
            }
            let index = match routes.streams.iter().position(|s| s == stream) {
                Some(i) => i,
                None => {
                    routes.streams.push(stream.to_string());
                    routes.streams.len() - 1
                }
            };
            if streams.contains(&index) {
                return Err(invalid(
                    name,
                    format!("field \"streams\": {stream:?} is named twice"),
                ));
            }
            streams.push(index);
        }
        let mut datasets = Vec::with_capacity(entry.datasets.len());
        for d in &entry.datasets {
            let dataset = crate::filter::dataset_named(d.trim()).ok_or_else(|| {
                let known: Vec<&str> = FORMATS.iter().map(|f| f.dataset).collect();
                invalid(
                    name,
                    format!(
                        "field \"datasets\": unknown dataset {d:?} (known: {})",
                        known.join(", ")
                    ),
                )
            })?;
            if let Some(other) = routes.all().iter().find(|r| r.datasets.contains(&dataset)) {
                return Err(invalid(
                    name,
                    format!(
                        "field \"datasets\": {dataset} is already routed to {:?}; a dataset takes one route",
                        &*other.name
                    ),
                ));
            }
            if !datasets.contains(&dataset) {
                datasets.push(dataset);
            }
        }
        let packing = route_packing(entry).map_err(|reason| invalid(name, reason))?;
        let schema = match entry.schema.as_deref() {
            None => Schema::Ecs,
            Some(v) => Schema::parse(v).ok_or_else(|| {
                invalid(
                    name,
                    format!("field \"schema\": {v:?}, expected ecs or ocsf"),
                )
            })?,
        };
        routes.routes.push(Route {
            name: name.into(),
            streams,
            packing,
            schema,
            datasets,
        });
    }
    Ok(routes)
}

/// A route entry's packing, as `RECORD_PACKING`, `PACK_MAX_EVENTS` and
/// `RECORD_COMPRESSION` say it for the default route.
fn route_packing(entry: &RouteEntry) -> Result<Packing, String> {
    let packed = match entry.packing.as_deref().map(str::trim) {
        None | Some("none") | Some("") => false,
        Some("ndjson") => true,
        Some(other) => {
            return Err(format!(
                "field \"packing\": {other:?}, expected none or ndjson"
            ))
        }
    };
    let compression = match entry.compression.as_deref().map(str::trim) {
        None | Some("none") | Some("") => None,
        Some("gzip") => Some(RecordCompression::Gzip),
        Some("zstd") => Some(RecordCompression::Zstd),
        Some(other) => {
            return Err(format!(
                "field \"compression\": {other:?}, expected none, gzip or zstd"
            ))
        }
    };
    let max_events = entry
        .pack_max_events
        .unwrap_or(DEFAULT_PACK_MAX_EVENTS as u64);
    if max_events == 0 {
        return Err("field \"pack_max_events\": must be at least 1".into());
    }
    match (packed, compression) {
        (false, None) => Ok(Packing::OnePerRecord),
        (false, Some(_)) => Err(
            "field \"compression\": needs \"packing\": \"ndjson\" (a compressed record holds many events)"
                .into(),
        ),
        (true, None) => Ok(Packing::Ndjson {
            max_events: usize::try_from(max_events).unwrap_or(usize::MAX),
        }),
        (true, Some(c)) => Ok(Packing::Compressed(c)),
    }
}

/// A number standing for one object (bucket, key, version), from which
/// [`Route::stream_for`] spreads its events.
pub fn object_identity(bucket: &str, key: &str, version: &str) -> u64 {
    // FNV-1a: stable across runs and builds (unlike `DefaultHasher`).
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in [bucket, key, version] {
        for b in part.bytes().chain(std::iter::once(0)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// A 64-bit finalizer (splitmix64), so consecutive ordinals land on
/// streams evenly.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_with_default(text: &str) -> Result<Routes, String> {
        parse(
            "ROUTES",
            text,
            Some(("logs".to_string(), Packing::OnePerRecord)),
        )
        .map_err(|e| e.to_string())
    }

    #[test]
    fn without_routes_every_object_takes_the_default_stream() {
        let r = parse_with_default("[]").unwrap();
        assert_eq!(r.streams(), ["logs"]);
        assert_eq!(r.for_dataset("aws.cloudtrail"), 0);
        assert_eq!(&*r.default_route().name, "default");
    }

    #[test]
    fn a_dataset_takes_the_route_that_lists_it() {
        let r = parse_with_default(
            r#"[{"name": "siem", "streams": ["ct-a", "ct-b"], "datasets": ["aws.cloudtrail"]},
                {"name": "lake", "streams": ["flows"], "datasets": ["vpcflow", "aws.elb"],
                 "packing": "ndjson", "compression": "zstd", "schema": "ocsf"}]"#,
        )
        .unwrap();
        assert_eq!(r.streams(), ["logs", "ct-a", "ct-b", "flows"]);
        let siem = r.get(r.for_dataset("aws.cloudtrail"));
        assert_eq!(&*siem.name, "siem");
        assert_eq!(r.stream_names(siem), ["ct-a", "ct-b"]);
        let lake = r.get(r.for_dataset("aws.vpcflow"));
        assert_eq!(&*lake.name, "lake");
        assert_eq!(lake.schema, Schema::Ocsf);
        assert_eq!(siem.schema, Schema::Ecs);
        assert_eq!(lake.packing, Packing::Compressed(RecordCompression::Zstd));
        assert_eq!(r.get(r.for_dataset("aws.elb")).name, lake.name);
        assert_eq!(&*r.get(r.for_dataset("aws.waf")).name, "default");
    }

    #[test]
    fn routes_may_define_the_default_route_instead_of_delivery_stream_name() {
        let r = parse(
            "ROUTES",
            r#"[{"name": "x", "streams": ["b"]}, {"name": "default", "streams": ["a1", "a2"]}]"#,
            None,
        )
        .unwrap();
        assert_eq!(&*r.default_route().name, "default");
        assert_eq!(r.stream_names(r.default_route()), ["a1", "a2"]);
        let err = parse("ROUTES", r#"[{"name": "x", "streams": ["b"]}]"#, None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("no default route"), "{err}");
        let err = parse_with_default(r#"[{"name": "default", "streams": ["b"]}]"#).unwrap_err();
        assert!(err.contains("unset DELIVERY_STREAM_NAME"), "{err}");
    }

    #[test]
    fn every_mistake_names_its_route_and_field() {
        let cases = [
            (r#"{"name": "x"}"#, "expected a JSON array"),
            (
                r#"[{"name": "x", "streams": ["a"], "sink": 1}]"#,
                "unknown field",
            ),
            (r#"[{"name": "x y", "streams": ["a"]}]"#, "field \"name\""),
            (r#"[{"name": "x", "streams": []}]"#, "field \"streams\""),
            (
                r#"[{"name": "x", "streams": ["a b"]}]"#,
                "field \"streams\"",
            ),
            (r#"[{"name": "x", "streams": ["a", "a"]}]"#, "named twice"),
            (
                r#"[{"name": "x", "streams": ["a"], "datasets": ["aws.nope"]}]"#,
                "unknown dataset",
            ),
            (
                r#"[{"name": "x", "streams": ["a"], "datasets": ["aws.waf"]},
                    {"name": "y", "streams": ["b"], "datasets": ["waf"]}]"#,
                "already routed to \"x\"",
            ),
            (
                r#"[{"name": "x", "streams": ["a"]}, {"name": "x", "streams": ["b"]}]"#,
                "defined twice",
            ),
            (
                r#"[{"name": "x", "streams": ["a"], "packing": "csv"}]"#,
                "field \"packing\"",
            ),
            (
                r#"[{"name": "x", "streams": ["a"], "schema": "cef"}]"#,
                "field \"schema\"",
            ),
            (
                r#"[{"name": "x", "streams": ["a"], "compression": "zstd"}]"#,
                "needs \"packing\"",
            ),
            (
                r#"[{"name": "x", "streams": ["a"], "packing": "ndjson", "compression": "lz4"}]"#,
                "field \"compression\"",
            ),
            (
                r#"[{"name": "x", "streams": ["a"], "packing": "ndjson", "pack_max_events": 0}]"#,
                "pack_max_events",
            ),
        ];
        for (text, expected) in cases {
            let err = parse_with_default(text).unwrap_err();
            assert!(err.contains("ROUTES"), "{text}: {err}");
            assert!(err.contains(expected), "{text}: {err}");
            if text.contains("\"x\"")
                && !expected.contains("JSON array")
                && !expected.contains("unknown field")
            {
                assert!(err.contains("\"x"), "{text}: the route is named: {err}");
            }
        }
    }

    #[test]
    fn a_route_spreads_events_evenly_and_always_the_same_way() {
        let r = parse_with_default(r#"[{"name": "x", "streams": ["a", "b", "c"]}]"#).unwrap();
        let route = r.get(r.index_of("x").unwrap());
        let id = object_identity("bucket", "AWSLogs/1/x.gz", "v1");
        let mut counts = [0u32; 4];
        for ordinal in 0..30_000 {
            let s = route.stream_for(id, ordinal);
            assert_eq!(s, route.stream_for(id, ordinal), "deterministic");
            counts[s] += 1;
        }
        assert_eq!(counts[0], 0, "never the default route's stream");
        for &n in &counts[1..] {
            assert!((9_000..11_000).contains(&n), "{counts:?}");
        }
        // Another object spreads differently.
        let other = object_identity("bucket", "AWSLogs/1/y.gz", "v1");
        let differs = (0..100).any(|o| route.stream_for(id, o) != route.stream_for(other, o));
        assert!(differs);
        // One stream: always it.
        assert!((0..100).all(|o| r.default_route().stream_for(id, o) == 0));
    }
}
