//! Compressed packed records (`RECORD_PACKING=ndjson`,
//! `RECORD_COMPRESSION=gzip|zstd`) through moto's Firehose to S3, read back
//! the way users read such a destination: DuckDB's `read_ndjson` (from the
//! project's virtualenv), `zcat` and `zstd -dc`. Every event must be there
//! exactly once, with the `event.id` derived from its object and ordinal.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::*;
use s3_log_forwarder::record::event_id;

const CT_KEY: &str =
    "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/22/111122223333_CloudTrail_us-east-1_20261122T1005Z_a.json.gz";
const VPC_KEY: &str =
    "AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/11/22/111122223333_vpcflowlogs_us-east-1_fl-1_20261122T1005Z_b.log.gz";
const BIG_KEY: &str = "app/2026/11/22/big.jsonl.gz";

/// Lines of the generated JSON-lines object: random text that compresses
/// poorly, so that the object needs several frames of 1,000 KiB.
const BIG_LINES: usize = 24_000;

fn read(path: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).expect("sample")
}

fn big_object() -> Vec<u8> {
    let mut rng = fastrand::Rng::with_seed(11);
    let mut out = Vec::new();
    for i in 0..BIG_LINES {
        let noise: String = (0..120).map(|_| rng.alphanumeric()).collect();
        out.extend_from_slice(format!("{{\"n\":{i},\"message\":\"{noise}\"}}\n").as_bytes());
    }
    out
}

/// Objects put into the source bucket: key, body and how many events each holds.
fn objects() -> Vec<(&'static str, Vec<u8>, u64)> {
    let ct = read("tests/data/cloudtrail/management-events.json");
    let ct_events = serde_json::from_slice::<serde_json::Value>(&ct).expect("CloudTrail sample")
        ["Records"]
        .as_array()
        .expect("Records")
        .len() as u64;
    let vpc = read("tests/data/vpcflow/v5-all-fields.log");
    // A header line, if any, names the fields.
    let vpc_events = vpc
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty() && !l.starts_with(b"version"))
        .count() as u64;
    vec![
        (CT_KEY, gzip(&ct), ct_events),
        (VPC_KEY, gzip(&vpc), vpc_events),
        (BIG_KEY, gzip(&big_object()), BIG_LINES as u64),
    ]
}

/// Every `event.id` the objects must produce, with how often (once).
fn expected_ids(etags: &[(&str, String, u64)]) -> BTreeMap<String, usize> {
    let mut want = BTreeMap::new();
    for (key, etag, events) in etags {
        for ordinal in 0..*events {
            want.insert(event_id("src-logs", key, etag, ordinal), 1);
        }
    }
    want
}

fn count(ids: impl IntoIterator<Item = String>) -> BTreeMap<String, usize> {
    let mut got = BTreeMap::new();
    for id in ids {
        *got.entry(id).or_insert(0) += 1;
    }
    got
}

fn ids_of_lines(text: &[u8]) -> Vec<String> {
    text.split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| {
            let v: serde_json::Value =
                serde_json::from_slice(l).expect("a line is one JSON record");
            field(&v, "event.id")
                .as_str()
                .expect("event.id")
                .to_string()
        })
        .collect()
}

/// DuckDB over every file in `dir`: `event.id` of each row, after checking
/// that a schema-detecting read sees the same number of rows.
fn duckdb_ids(dir: &Path, compression: &str) -> Vec<String> {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    let script = r#"
import sys, duckdb
path, compression = sys.argv[1] + "/*", sys.argv[2]
ids = duckdb.sql(f"select event.id from read_ndjson('{path}', compression='{compression}', columns={{'event': 'STRUCT(id VARCHAR)'}})").fetchall()
rows = duckdb.sql(f"select count(*) from read_ndjson('{path}', compression='{compression}', union_by_name=true, sample_size=-1)").fetchone()[0]
assert rows == len(ids), f"read_ndjson with schema detection saw {rows} rows, with a fixed column {len(ids)}"
for (i,) in ids:
    print(i)
"#;
    let out = Command::new(&python)
        .args(["-c", script, &dir.display().to_string(), compression])
        .output()
        .expect("run DuckDB from the virtualenv (make venv)");
    assert!(
        out.status.success(),
        "DuckDB failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("ids")
        .lines()
        .map(str::to_string)
        .collect()
}

/// `zcat` or `zstd -dc` over every file in `dir`.
fn cli_ids(dir: &Path, program: &str, args: &[&str]) -> Vec<String> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    let out = Command::new(program)
        .args(args)
        .args(&files)
        .output()
        .unwrap_or_else(|e| panic!("run {program}: {e}"));
    assert!(
        out.status.success(),
        "{program} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    ids_of_lines(&out.stdout)
}

async fn deliver(compression: &str) -> (tempfile::TempDir, BTreeMap<String, usize>, usize) {
    let moto = Moto::start();
    let stack = Stack::new(&moto.sdk_config().await);
    stack.bucket("src-logs").await;
    stack.delivery_stream("logs", "dest").await;
    let mut etags = Vec::new();
    for (key, body, events) in objects() {
        let etag = stack.put("src-logs", key, body).await;
        etags.push((key, etag, events));
    }
    let cfg = config(&[
        ("DELIVERY_STREAM_NAME", "logs"),
        ("RECORD_PACKING", "ndjson"),
        ("RECORD_COMPRESSION", compression),
    ]);
    let fwd = forwarder(&stack.sdk, cfg);
    let keys: Vec<(&str, &str)> = etags.iter().map(|(k, _, _)| ("src-logs", *k)).collect();
    let out = fwd
        .handle(sqs_event(&[s3_notification(&keys)]), far_deadline())
        .await;
    assert!(failed_ids(&out).is_empty(), "{:?}", out.failures);
    let want = expected_ids(&etags);
    assert_eq!(out.report.events as usize, want.len());
    // Several events share a record: far fewer records than events, and the
    // generated object alone needs more than one.
    assert!(
        out.report.records_sent >= 4 && (out.report.records_sent as usize) < want.len() / 100,
        "{} records for {} events",
        out.report.records_sent,
        want.len()
    );

    let magic: &[u8] = if compression == "gzip" {
        &[0x1f, 0x8b]
    } else {
        &[0x28, 0xb5, 0x2f, 0xfd]
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let objects = stack.delivered_objects("dest").await;
    assert!(!objects.is_empty());
    for (i, (key, body)) in objects.iter().enumerate() {
        assert!(body.starts_with(magic), "{key} is not a {compression} file");
        std::fs::write(dir.path().join(format!("part-{i:04}")), body).expect("write");
    }
    (dir, want, objects.len())
}

#[tokio::test]
async fn gzip_packed_records_read_back_by_duckdb_and_zcat_hold_every_event_once() {
    let (dir, want, _) = deliver("gzip").await;
    assert_eq!(count(duckdb_ids(dir.path(), "gzip")), want, "DuckDB");
    assert_eq!(count(cli_ids(dir.path(), "zcat", &[])), want, "zcat");
}

#[tokio::test]
async fn zstd_packed_records_read_back_by_duckdb_and_zstd_hold_every_event_once() {
    let (dir, want, _) = deliver("zstd").await;
    assert_eq!(count(duckdb_ids(dir.path(), "zstd")), want, "DuckDB");
    assert_eq!(
        count(cli_ids(dir.path(), "zstd", &["-dc", "-q"])),
        want,
        "zstd -dc"
    );
}
