//! `make bench`: how fast and how lean the forwarder is, against the floor
//! set by decompression, on corpora generated from a fixed seed.
//!
//! `cargo bench --bench forwarder` runs the full benchmark, writes
//! `bench/results.json`, prints Markdown tables and puts them in
//! `BENCHMARKS.md`. Under `cargo test` (no `--bench` argument) the same code
//! runs on tiny corpora as a smoke test: it checks that every stage sees
//! every generated event and writes nothing outside `target/`.
//!
//! Every measurement runs in a child process (this binary, `child <job>`), so
//! that its peak RSS is its own and its CPU affinity sets the core count.

mod corpus;
mod measure;
mod report;
mod standin;

use std::io::{self, BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use corpus::{Corpus, Kind, Spec};
use measure::{Job, Measured, Stage};

const SEED: u64 = 0x5eed_2026;
const MIB: usize = 1024 * 1024;

/// How big the run is.
#[derive(Debug, Clone, Copy)]
struct Scale {
    full: bool,
    /// Objects and object size per corpus.
    specs: [Spec; 4],
    /// Uncompressed text of one gzip member, and how many members, of the
    /// streaming check's large object (and of its small twin).
    stream_member: usize,
    stream_copies: usize,
    stream_small_copies: usize,
    repeats: usize,
    init_runs: usize,
}

impl Scale {
    fn full() -> Scale {
        Scale {
            full: true,
            specs: [
                spec(Kind::Cloudtrail, 40, 5 * MIB),
                spec(Kind::VpcflowV2, 10, 10 * MIB),
                spec(Kind::VpcflowV5, 10, 10 * MIB),
                spec(Kind::Alb, 10, 10 * MIB),
            ],
            stream_member: 64 * MIB,
            stream_copies: 32,
            stream_small_copies: 2,
            repeats: 3,
            init_runs: 20,
        }
    }

    fn smoke() -> Scale {
        Scale {
            full: false,
            specs: [
                spec(Kind::Cloudtrail, 3, 200 * 1024),
                spec(Kind::VpcflowV2, 3, 200 * 1024),
                spec(Kind::VpcflowV5, 3, 200 * 1024),
                spec(Kind::Alb, 3, 200 * 1024),
            ],
            stream_member: MIB,
            stream_copies: 4,
            stream_small_copies: 1,
            repeats: 1,
            init_runs: 2,
        }
    }
}

fn spec(kind: Kind, objects: usize, object_bytes: usize) -> Spec {
    Spec {
        kind,
        objects,
        object_bytes,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("child") {
        let job: Job = serde_json::from_str(&args[1]).expect("a job");
        match measure::run(&job) {
            Ok(m) => println!("{}", serde_json::to_string(&m).expect("json")),
            Err(e) => {
                eprintln!("measurement failed: {e}");
                std::process::exit(1);
            }
        }
        return;
    }
    let scale = if args.iter().any(|a| a == "--bench") {
        Scale::full()
    } else {
        Scale::smoke()
    };
    if let Err(e) = parent(scale) {
        eprintln!("bench failed: {e}");
        std::process::exit(1);
    }
}

fn parent(scale: Scale) -> io::Result<()> {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let work = manifest_dir
        .join("target")
        .join(if scale.full { "bench" } else { "bench-smoke" });
    let root = work.join("corpus");
    std::fs::create_dir_all(&root)?;
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut core_counts = vec![1];
    if cpus >= 2 {
        core_counts.push(2);
    }
    if cpus > 2 {
        core_counts.push(cpus.min(6));
    }

    let corpora: Vec<Corpus> = scale
        .specs
        .iter()
        .map(|s| corpus::ensure(&root, SEED, *s))
        .collect::<io::Result<_>>()?;
    let standin = standin::start(root.clone())?;

    // BENCH_CORPORA=cloudtrail,alb measures only those (for a profile); the
    // tables and BENCHMARKS.md are written only by a run over all of them.
    let only: Option<Vec<String>> = std::env::var("BENCH_CORPORA")
        .ok()
        .map(|v| v.split(',').map(|s| s.trim().to_string()).collect());
    let corpora: Vec<Corpus> = corpora
        .into_iter()
        .filter(|c| {
            only.as_ref()
                .is_none_or(|o| o.iter().any(|n| n == c.spec.kind.name()))
        })
        .collect();
    let mut results = Vec::new();
    for c in &corpora {
        results.push(bench_corpus(
            &scale,
            &root,
            c,
            &core_counts,
            &standin.endpoint,
        )?);
    }
    let (stream, init) = if only.is_some() {
        (report::StreamRun { sizes: Vec::new() }, Vec::new())
    } else {
        (
            bench_stream(&scale, &root, &standin.endpoint)?,
            bench_init(scale.init_runs)?,
        )
    };
    let served = &standin.served;
    eprintln!(
        "the stand-in served {} GetObject and {} PutRecordBatch calls ({} records)",
        served.gets.load(std::sync::atomic::Ordering::Relaxed),
        served.puts.load(std::sync::atomic::Ordering::Relaxed),
        served.records.load(std::sync::atomic::Ordering::Relaxed)
    );

    let report = report::Report::new(&corpora, results, stream, init, core_counts);
    let markdown = report.markdown();
    println!("{markdown}");
    if scale.full && only.is_some() {
        eprintln!("BENCH_CORPORA is set: nothing written");
    } else if scale.full {
        let out = manifest_dir.join("bench");
        std::fs::create_dir_all(&out)?;
        std::fs::write(
            out.join("results.json"),
            serde_json::to_vec_pretty(&report).map_err(io::Error::other)?,
        )?;
        report::update_benchmarks_md(&manifest_dir.join("BENCHMARKS.md"), &markdown)?;
        eprintln!("wrote bench/results.json and BENCHMARKS.md");
    } else {
        std::fs::write(
            work.join("results.json"),
            serde_json::to_vec_pretty(&report).map_err(io::Error::other)?,
        )?;
        report.check_smoke(&corpora).map_err(io::Error::other)?;
        eprintln!("bench smoke run passed");
    }
    Ok(())
}

/// Every measurement of one corpus.
fn bench_corpus(
    scale: &Scale,
    root: &Path,
    c: &Corpus,
    cores: &[usize],
    endpoint: &str,
) -> io::Result<report::CorpusRuns> {
    let job = |stage: Stage, cores: usize, env: &[(&str, &str)]| Job {
        stage,
        cores,
        root: root.to_path_buf(),
        bucket: c.bucket.clone(),
        keys: c.objects.iter().map(|o| o.key.clone()).collect(),
        json: c.spec.kind.is_json(),
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        endpoint: Some(endpoint.to_string()),
        batch_size: 10,
    };
    let most = *cores.last().expect("one core at least");
    let name = c.spec.kind.name();
    let mut runs = report::CorpusRuns {
        name: name.to_string(),
        ..Default::default()
    };
    runs.decompress = median(scale.repeats, &job(Stage::Decompress, 1, &[]), name)?;
    runs.floor_parse = median(scale.repeats, &job(Stage::FloorParse, 1, &[]), name)?;
    for &n in cores {
        runs.in_process.push((
            n,
            median(scale.repeats, &job(Stage::InProcess, n, &[]), name)?,
        ));
        runs.whole
            .push((n, median(scale.repeats, &job(Stage::Whole, n, &[]), name)?));
    }
    for setting in report::SETTINGS {
        runs.settings.push(report::SettingRuns {
            setting: setting.name.to_string(),
            in_process: median(1, &job(Stage::InProcess, most, setting.env), name)?,
            whole: median(1, &job(Stage::Whole, most, setting.env), name)?,
        });
    }
    Ok(runs)
}

/// One 2 GiB (full scale) object through the whole path, and a smaller one
/// made the same way, to show memory does not grow with the object.
fn bench_stream(scale: &Scale, root: &Path, endpoint: &str) -> io::Result<report::StreamRun> {
    let bucket = "bench-stream";
    let member_spec = spec(Kind::VpcflowV2, 1, scale.stream_member);
    let member = corpus::ensure(&root.join("members"), SEED, member_spec)?;
    let text = read_gz(&member.path(&root.join("members"), &member.objects[0]))?;
    // Drop the header line: members after the first would repeat it.
    let body = &text[memchr::memchr(b'\n', &text).map_or(0, |i| i + 1)..];
    let member_events = member.objects[0].events;
    let mut sizes = Vec::new();
    for copies in [scale.stream_small_copies, scale.stream_copies] {
        let key = format!(
            "AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/22/123456789012_vpcflowlogs_us-east-1_fl-stream_20261122T0000Z_x{copies}.log.gz"
        );
        let path = root.join(bucket).join(&key);
        if !path.exists() {
            corpus::repeated_object(&path, body, copies)?;
        }
        let job = Job {
            stage: Stage::Whole,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get().min(2)),
            root: root.to_path_buf(),
            bucket: bucket.into(),
            keys: vec![key],
            json: false,
            env: vec![],
            endpoint: Some(endpoint.to_string()),
            batch_size: 1,
        };
        let m = child(&job, "stream")?;
        sizes.push(report::StreamSize {
            uncompressed_bytes: body.len() as u64 * copies as u64,
            expected_events: member_events * copies as u64,
            measured: m,
        });
    }
    Ok(report::StreamRun { sizes })
}

fn read_gz(path: &Path) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    io::Read::read_to_end(
        &mut flate2::read::MultiGzDecoder::new(std::fs::File::open(path)?),
        &mut out,
    )?;
    Ok(out)
}

/// From process start to the runtime's first `next` request, with the
/// function's own binary and a stand-in Lambda runtime API on loopback.
fn bench_init(runs: usize) -> io::Result<Vec<f64>> {
    let exe = env!("CARGO_BIN_EXE_s3-log-forwarder");
    let mut times = Vec::new();
    for _ in 0..runs {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let api = listener.local_addr()?.to_string();
        let started = Instant::now();
        let mut proc = Command::new(exe)
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", &api)
            .env("AWS_LAMBDA_FUNCTION_NAME", "s3-log-forwarder")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/s3-log-forwarder")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "AKIDBENCH")
            .env("AWS_SECRET_ACCESS_KEY", "bench-secret")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("DELIVERY_STREAM_NAME", "bench")
            .env("ROLE_ARN", "arn:aws:iam::111122223333:role/log-reader")
            .env("EXTERNAL_ID", "bench-external-id")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        listener.set_nonblocking(false)?;
        let (stream, _) = listener.accept()?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        let mut line = String::new();
        BufReader::new(&stream).read_line(&mut line)?;
        let elapsed = started.elapsed().as_secs_f64() * 1000.0;
        let _ = proc.kill();
        let _ = proc.wait();
        if !line.contains("/runtime/invocation/next") {
            return Err(io::Error::other(format!(
                "the function's first request was not `next`: {line:?}"
            )));
        }
        times.push(elapsed);
    }
    Ok(times)
}

/// Runs `job` `repeats` times, each in a fresh child, and keeps the run with
/// the median time.
fn median(repeats: usize, job: &Job, label: &str) -> io::Result<Measured> {
    let mut runs = (0..repeats.max(1))
        .map(|_| child(job, label))
        .collect::<io::Result<Vec<_>>>()?;
    runs.sort_by(|a, b| a.seconds.total_cmp(&b.seconds));
    Ok(runs.swap_remove(runs.len() / 2))
}

fn child(job: &Job, label: &str) -> io::Result<Measured> {
    let out = Command::new(std::env::current_exe()?)
        .arg("child")
        .arg(serde_json::to_string(job).map_err(io::Error::other)?)
        .stderr(Stdio::inherit())
        .output()?;
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "{label} {:?} on {} core(s) failed ({})",
            job.stage, job.cores, out.status
        )));
    }
    let m: Measured = serde_json::from_slice(&out.stdout).map_err(io::Error::other)?;
    eprintln!(
        "{label:>12} {:<12} {} core(s): {:>8.1} MB/s, {:>6} MiB peak",
        format!("{:?}", job.stage),
        job.cores,
        m.uncompressed_bytes as f64 / 1e6 / m.seconds,
        m.peak_rss_kib / 1024
    );
    io::stderr().flush()?;
    Ok(m)
}
