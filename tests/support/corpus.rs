//! The sample corpus under `tests/data/`: every AWS log file (the old
//! samples and the peers' files under `real/`, see their SOURCES.md), with
//! the format each one is, decompressed as the function reads it. Shared by
//! `real_world.rs` and `ocsf.rs`. (`tests/data/ocsf/` holds the OCSF
//! project's raw-and-expected pairs, which are not AWS log files: left out.)
#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};

use s3_log_forwarder::formats::Format;
use s3_log_forwarder::source::decode::{self, Counters};

/// A key that names no format: detection must go by content.
pub const KEY: &str = "logs/2025/03/07/part-0001";
pub const SNIFF_BYTES: usize = 8 * 1024;

/// Files whose expected format is not their folder's, with why.
const EXPECTED: &[(&str, Format, &str)] = &[
    (
        "elastic/cloudtrail/",
        Format::JsonLines,
        "Elastic's CloudTrail inputs are single records, one a line, not CloudTrail files",
    ),
    (
        "real/cloudwatch/datadog-cloudwatch-log-timeout.json",
        Format::CloudWatchLogs,
        "pretty-printed subscription message",
    ),
];

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

pub fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|d| d.path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            if path == root().join("ocsf") {
                continue;
            }
            walk(&path, out);
            continue;
        }
        let name = path.to_string_lossy();
        if name.ends_with(".md") || name.ends_with("-expected.json") {
            continue;
        }
        out.push(path);
    }
}

pub fn corpus() -> Vec<(String, PathBuf)> {
    let mut files = Vec::new();
    walk(&root(), &mut files);
    files
        .into_iter()
        .map(|p| {
            let rel = p
                .strip_prefix(root())
                .expect("under tests/data")
                .to_string_lossy()
                .replace('\\', "/");
            (rel, p)
        })
        .collect()
}

/// The format a folder name stands for.
pub fn folder_format(name: &str) -> Format {
    match name {
        "firewall" => Format::NetworkFirewall,
        "route53" => Format::Route53Resolver,
        other => other
            .parse()
            .unwrap_or_else(|e| panic!("folder {other}: {e}")),
    }
}

pub fn expected(rel: &str) -> Format {
    if let Some((_, f, _)) = EXPECTED.iter().find(|(p, _, _)| rel.starts_with(p)) {
        return *f;
    }
    let mut parts = rel.split('/');
    let first = parts.next().unwrap_or("");
    let folder = if first == "real" || first == "elastic" {
        parts.next().unwrap_or("")
    } else {
        first
    };
    folder_format(folder)
}

/// The file decompressed as the function does (by content).
pub fn decoded(path: &Path) -> Vec<u8> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (_, mut reader) = decode::open(file, u64::MAX, 1 << 30, &Counters::default())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    reader
        .read_to_end(&mut out)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    out
}
