//! `s3-log-forwarder replay`: the real binary on local files.

use std::io::Write;
use std::process::Command;

fn replay(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_s3-log-forwarder"))
        .arg("replay")
        .args(args)
        .output()
        .expect("run the binary");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn sample(name: &str) -> String {
    format!("{}/events/objects/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn replay_writes_one_record_per_event_and_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("trail.json.gz");
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(&std::fs::read(sample("cloudtrail.json")).unwrap())
        .unwrap();
    std::fs::write(&gz, e.finish().unwrap()).unwrap();

    let key = "AWSLogs/111111111111/CloudTrail/us-east-1/2026/11/22/trail.json.gz";
    let (code, stdout, stderr) =
        replay(&["--key", key, gz.to_str().unwrap(), &sample("access.log")]);
    assert_eq!(code, 0, "{stderr}");
    let records: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(records.len(), 6);
    assert_eq!(records[0]["event"]["dataset"], "aws.cloudtrail");
    assert_eq!(records[0]["aws"]["s3"]["key"], key);
    assert_eq!(records[5]["event"]["dataset"], "text");
    assert!(
        stderr.contains("format=cloudtrail compression=gzip events=3"),
        "{stderr}"
    );
    assert!(
        stderr.contains("total: files=2 failed=0 events=6"),
        "{stderr}"
    );
}

#[test]
fn replay_format_override_and_errors() {
    let (code, stdout, _) = replay(&["--format", "text", "--no-original", &sample("orders.jsonl")]);
    assert_eq!(code, 0);
    let first: serde_json::Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    assert_eq!(first["event"]["dataset"], "text");
    assert!(first["event"].get("original").is_none());

    // Without a flag event.original is left out; --original adds it.
    let (code, stdout, _) = replay(&["--format", "text", &sample("orders.jsonl")]);
    assert_eq!(code, 0);
    let first: serde_json::Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    assert!(first["event"].get("original").is_none());
    let (code, stdout, _) = replay(&["--original", "--format", "text", &sample("orders.jsonl")]);
    assert_eq!(code, 0);
    let first: serde_json::Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    assert_eq!(first["event"]["original"], first["message"]);

    let (code, _, stderr) = replay(&["/no/such/file"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("cannot open /no/such/file"), "{stderr}");
    let (code, _, stderr) = replay(&["--format", "xml", "f"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("unknown format"), "{stderr}");
}
