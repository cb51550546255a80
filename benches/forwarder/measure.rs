//! One measurement, run in a child process of its own so that its peak RSS
//! is its own and its CPU affinity (the core count) applies to every thread
//! it starts. The parent passes a [`Job`] as JSON and reads a [`Measured`]
//! from the child's standard output.

use std::io::{self, BufRead, BufReader, Read};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use flate2::bufread::MultiGzDecoder;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use s3_log_forwarder::config::ReadTarget;
use s3_log_forwarder::envelope::ObjectRef;
use s3_log_forwarder::fakes::MemFirehose;
pub use s3_log_forwarder::fakes::BILLING_STEP;
use s3_log_forwarder::sink::Firehose;
use s3_log_forwarder::source::decode::BUF_BYTES;
use s3_log_forwarder::source::{ObjectStore, OpenedObject, SourceError};
use s3_log_forwarder::{Config, Forwarder};

/// What to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    /// Decompression alone, same decompressor and buffer size as ours.
    Decompress,
    /// Decompression plus the cheapest parse: JSON into `IgnoredAny`, or
    /// lines split on spaces.
    FloorParse,
    /// Our whole handler in process: objects from local files, records to a
    /// Firehose that counts them.
    InProcess,
    /// The same handler through the AWS SDK against the HTTP stand-in.
    Whole,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Job {
    pub stage: Stage,
    pub cores: usize,
    /// Where `<bucket>/<key>` files are.
    pub root: PathBuf,
    pub bucket: String,
    pub keys: Vec<String>,
    pub json: bool,
    /// Extra configuration variables (e.g. RECORD_PACKING).
    pub env: Vec<(String, String)>,
    /// The stand-in's address, for `Whole`.
    pub endpoint: Option<String>,
    /// Objects per invocation (SQS batch size).
    pub batch_size: usize,
}

/// What a child measured.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Measured {
    pub seconds: f64,
    pub uncompressed_bytes: u64,
    pub events: u64,
    pub peak_rss_kib: u64,
    pub firehose_calls: u64,
    pub records_sent: u64,
    pub bytes_sent: u64,
    /// Calls with 500 records, or with no room for one more record of the
    /// largest size seen (the 4 MiB limit binds).
    pub full_calls: u64,
    /// Sum over records of ceil(size / 5 KiB): what Firehose bills.
    pub billable_units: u64,
    pub failed_messages: usize,
}

/// Runs `job` in this process (the child) and returns what it measured.
pub fn run(job: &Job) -> io::Result<Measured> {
    pin_to_cores(job.cores)?;
    let mut m = match job.stage {
        Stage::Decompress | Stage::FloorParse => floor(job)?,
        Stage::InProcess | Stage::Whole => handler(job)?,
    };
    m.peak_rss_kib = peak_rss_kib();
    Ok(m)
}

/// Restricts this process (and every thread it starts later) to the first
/// `cores` CPUs.
fn pin_to_cores(cores: usize) -> io::Result<()> {
    // SAFETY: cpu_set_t is plain data; CPU_SET writes inside it; the call
    // only reads it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for cpu in 0..cores {
            libc::CPU_SET(cpu, &mut set);
        }
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// VmHWM of this process, in KiB.
pub fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn floor(job: &Job) -> io::Result<Measured> {
    let next = AtomicUsize::new(0);
    let bytes = AtomicU64::new(0);
    let events = AtomicU64::new(0);
    let started = std::time::Instant::now();
    std::thread::scope(|s| -> io::Result<()> {
        let workers: Vec<_> = (0..job.cores)
            .map(|_| {
                s.spawn(|| -> io::Result<()> {
                    let mut buf = vec![0u8; BUF_BYTES];
                    let mut doc = Vec::new();
                    let mut line = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(key) = job.keys.get(i) else {
                            return Ok(());
                        };
                        let file = std::fs::File::open(job.root.join(&job.bucket).join(key))?;
                        let mut gz = MultiGzDecoder::new(BufReader::with_capacity(BUF_BYTES, file));
                        let (n, e) = match (job.stage, job.json) {
                            (Stage::Decompress, _) => {
                                let mut n = 0u64;
                                loop {
                                    let got = gz.read(&mut buf)?;
                                    if got == 0 {
                                        break;
                                    }
                                    n += got as u64;
                                }
                                (n, 0)
                            }
                            (_, true) => {
                                doc.clear();
                                gz.read_to_end(&mut doc)?;
                                // The cheapest full JSON parse; the event count
                                // comes from the manifest for this stage.
                                serde_json::from_slice::<serde::de::IgnoredAny>(&doc)
                                    .map_err(io::Error::other)?;
                                (doc.len() as u64, 0)
                            }
                            (_, false) => {
                                let mut r = BufReader::with_capacity(BUF_BYTES, gz);
                                let (mut n, mut lines, mut fields) = (0u64, 0u64, 0u64);
                                loop {
                                    line.clear();
                                    let got = r.read_until(b'\n', &mut line)?;
                                    if got == 0 {
                                        break;
                                    }
                                    n += got as u64;
                                    lines += 1;
                                    fields += line.split(|b| *b == b' ').count() as u64;
                                }
                                std::hint::black_box(fields);
                                (n, lines)
                            }
                        };
                        bytes.fetch_add(n, Ordering::Relaxed);
                        events.fetch_add(e, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().expect("floor worker")?;
        }
        Ok(())
    })?;
    Ok(Measured {
        seconds: started.elapsed().as_secs_f64(),
        uncompressed_bytes: bytes.into_inner(),
        events: events.into_inner(),
        ..Measured::default()
    })
}

fn handler(job: &Job) -> io::Result<Measured> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(job.cores)
        .enable_all()
        .build()?;
    let mut vars: Vec<(String, String)> = vec![("DELIVERY_STREAM_NAME".into(), "bench".into())];
    vars.extend(job.env.iter().cloned());
    let config = Config::from_lookup(|name| {
        vars.iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    })
    .map_err(io::Error::other)?;
    rt.block_on(async {
        match job.stage {
            Stage::InProcess => {
                // Counts what a real stream would bill; keeps no record.
                let counting = MemFirehose::counting();
                let fwd = Forwarder::new(
                    config,
                    FileStore {
                        root: job.root.clone(),
                    },
                    counting.clone(),
                );
                let mut m = invoke_all(&fwd, job).await;
                let tally = counting.tally();
                m.full_calls = tally.full_calls;
                m.billable_units = tally.billable_units;
                Ok(m)
            }
            _ => {
                let endpoint = job.endpoint.clone().expect("Whole needs the stand-in");
                let aws = aws_config::defaults(aws_config::BehaviorVersion::latest())
                    .endpoint_url(endpoint)
                    .region(aws_config::Region::new("us-east-1"))
                    .credentials_provider(aws_credential_types::Credentials::new(
                        "AKIDBENCH",
                        "bench-secret",
                        None,
                        None,
                        "bench",
                    ))
                    .load()
                    .await;
                let store = s3_log_forwarder::source::s3::S3Store::new(
                    s3_log_forwarder::credentials::S3Clients::new(&aws, true),
                );
                let firehose = s3_log_forwarder::sink::firehose::SdkFirehose::new(&aws);
                let fwd = Forwarder::new(config, store, firehose);
                Ok(invoke_all(&fwd, job).await)
            }
        }
    })
}

/// Sends every key through the handler, `batch_size` objects (messages) per
/// invocation, one invocation after another as one Lambda instance would.
async fn invoke_all<S: ObjectStore, F: Firehose>(fwd: &Forwarder<S, F>, job: &Job) -> Measured {
    let mut m = Measured::default();
    let started = Instant::now();
    for (n, keys) in job.keys.chunks(job.batch_size.max(1)).enumerate() {
        let event = sqs_event(&job.bucket, keys, n);
        let outcome = fwd
            .handle(event, Instant::now() + Duration::from_secs(900))
            .await;
        for (i, f) in outcome.failures.iter().enumerate() {
            if let Some(why) = f {
                eprintln!("message {i} of invocation {n} failed: {why}");
            }
        }
        let r = outcome.report;
        m.failed_messages += r.failed_messages;
        m.events += r.events;
        m.uncompressed_bytes += r.bytes_decoded;
        m.firehose_calls += r.firehose_calls;
        m.records_sent += r.records_sent;
        m.bytes_sent += r.bytes_sent;
    }
    m.seconds = started.elapsed().as_secs_f64();
    m
}

fn sqs_event(bucket: &str, keys: &[String], invocation: usize) -> SqsEvent {
    let mut event = SqsEvent::default();
    for (i, key) in keys.iter().enumerate() {
        // Keys in notifications are form-encoded; ours have no special characters.
        let body = serde_json::json!({"Records": [{
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "awsRegion": "us-east-1",
            "eventTime": "2026-11-22T00:05:00.000Z",
            "eventName": "ObjectCreated:Put",
            "s3": {
                "s3SchemaVersion": "1.0",
                "bucket": {"name": bucket, "arn": format!("arn:aws:s3:::{bucket}")},
                "object": {"key": key}
            }
        }]});
        let mut m = SqsMessage::default();
        m.message_id = Some(format!("bench-{invocation}-{i}"));
        m.receipt_handle = Some(format!("rh-{invocation}-{i}"));
        m.body = Some(body.to_string());
        m.event_source = Some("aws:sqs".into());
        m.event_source_arn = Some("arn:aws:sqs:us-east-1:123456789012:logs".into());
        m.aws_region = Some("us-east-1".into());
        event.records.push(m);
    }
    event
}

/// Objects from local files, streamed (never read whole): unlike
/// `fakes::MemStore`, which holds every body in memory and so would count
/// the corpus in the measured peak RSS.
struct FileStore {
    root: PathBuf,
}

impl ObjectStore for FileStore {
    async fn open(
        &self,
        obj: &ObjectRef,
        _target: &ReadTarget,
    ) -> Result<OpenedObject, SourceError> {
        let path = self.root.join(&obj.bucket).join(&obj.key);
        let file = tokio::fs::File::open(&path)
            .await
            .map_err(|e| SourceError::Permanent {
                bucket: obj.bucket.clone(),
                key: obj.key.clone(),
                message: e.to_string(),
            })?;
        let len = file.metadata().await.ok().map(|m| m.len());
        Ok(OpenedObject {
            body: Box::new(tokio::io::BufReader::with_capacity(BUF_BYTES, file)),
            etag: Some("bench".into()),
            version_id: None,
            content_length: len,
        })
    }
}
