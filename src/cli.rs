//! The binary's command-line mode: `s3-log-forwarder replay FILE...` reads
//! local files exactly as the function reads objects (same decoding, limits,
//! detection, parsers and record writer) and prints the normalized records as
//! newline-delimited JSON on stdout, with a summary on stderr.
//!
//! `s3-log-forwarder check [--bucket B [--key K]]` checks a set-up against
//! AWS with the function's configuration (see `check`).
//!
//! Without arguments the binary is the Lambda function; this module is only
//! reached when it is given some.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};

use crate::config::Limits;
use crate::filter::Filters;
use crate::formats::{Format, Stop};
use crate::ocsf::Schema;
use crate::process::{read_object, Emitted};
use crate::record::ObjectContext;
use crate::source::decode::Counters;

/// The help text, with the format names from the format table.
pub fn usage() -> String {
    USAGE.replace("FORMAT_NAMES", &Format::names())
}

const USAGE: &str = "\
usage: s3-log-forwarder check [--bucket NAME [--key KEY]]
       s3-log-forwarder replay [--format NAME] [--schema ecs|ocsf] [--bucket NAME] [--original] [--key KEY] FILE...

Reads FILEs (gzip, zstd, bzip2 or plain) the way the function reads S3
objects and writes the normalized records to stdout, one JSON object a line.
A summary goes to stderr.

  --key KEY       the S3 key of the FILE that follows, used for format
                  detection and aws.s3.key (default: the file's path)
  --format NAME   force a format: FORMAT_NAMES
  --schema NAME   ecs (default) or ocsf: write OCSF 1.1.0 records, as a
                  route with \"schema\": \"ocsf\" does
  --bucket NAME   aws.s3.bucket of the records (default: local)
  --original      also write the raw event as event.original (records are
                  lossless without it; --no-original, the default, is
                  still accepted)

Limits come from the same variables as the function (MAX_OBJECT_BYTES,
MAX_DECOMPRESSED_BYTES, MAX_LINE_BYTES, MAX_EVENTS_PER_OBJECT).

check runs with the function's variables (DELIVERY_STREAM_NAME, ROLE_ARN,
EXTERNAL_ID, ROLE_SESSION_NAME, SOURCES, ...) and the AWS credentials and
region of the environment, and reports step by step, with a fix for each
failure: credentials, the role assumed, the object readable (or, with
--bucket alone, the bucket listable), KMS decryption, the delivery stream
active and writable (probed with an empty batch: nothing is written).
Exit status 0 when nothing failed, 1 otherwise.

Without arguments the binary runs as the AWS Lambda function.";

/// Runs the command line `args` (without the program name); returns the exit code.
pub fn run(args: &[String]) -> i32 {
    let result = match args.first().map(String::as_str) {
        Some("replay") => replay(&args[1..]),
        Some("check") => return check(&args[1..]),
        Some("-h" | "--help" | "help") => {
            println!("{}", usage());
            Ok(())
        }
        Some(other) => Err(anyhow::anyhow!("unknown command {other:?}\n\n{}", usage())),
        None => Ok(()),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e:#}");
            2
        }
    }
}

/// `check`: 0 when every step passed or was skipped, 1 when one failed,
/// 2 for bad usage or configuration.
fn check(args: &[String]) -> i32 {
    let mut a = crate::check::CheckArgs::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let slot = match arg.as_str() {
            "--bucket" => &mut a.bucket,
            "--key" => &mut a.key,
            other => {
                eprintln!("error: unknown option {other:?}\n\n{}", usage());
                return 2;
            }
        };
        match it.next() {
            Some(v) => *slot = Some(v.clone()),
            None => {
                eprintln!("error: {arg} needs a value");
                return 2;
            }
        }
    }
    if a.key.is_some() && a.bucket.is_none() {
        eprintln!("error: --key needs --bucket");
        return 2;
    }
    let config = match crate::Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            println!("[FAIL] configuration: {e}\n       fix: set the variable as the README's configuration table says");
            return 1;
        }
    };
    println!(
        "[pass] configuration: {}, {}, {} source rule(s)",
        describe_routes(&config.routes),
        crate::credentials::describe(config.role.as_ref()),
        config.sources.len()
    );
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let steps = rt.block_on(async {
        let aws = aws_config::load_from_env().await;
        crate::check::run(&config, &aws, &a).await
    });
    for s in &steps {
        println!("{s}");
    }
    if crate::check::all_passed(&steps) {
        0
    } else {
        1
    }
}

struct Options {
    format: Option<Format>,
    schema: Schema,
    bucket: String,
    include_original: bool,
    /// Each file with the key it is read as.
    files: Vec<(String, String)>,
}

fn parse_options(args: &[String]) -> Result<Options> {
    let mut pending_key: Option<String> = None;
    let mut o = Options {
        format: None,
        schema: Schema::Ecs,
        bucket: "local".into(),
        include_original: false,
        files: Vec::new(),
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .with_context(|| format!("{name} needs a value"))
        };
        match arg.as_str() {
            "--key" => pending_key = Some(value("--key")?),
            "--format" => {
                let v = value("--format")?;
                o.format = Some(v.parse().map_err(|e: String| anyhow::anyhow!(e))?);
            }
            "--schema" => {
                let v = value("--schema")?;
                o.schema = Schema::parse(&v)
                    .with_context(|| format!("--schema {v:?}: expected ecs or ocsf"))?;
            }
            "--bucket" => o.bucket = value("--bucket")?,
            "--original" => o.include_original = true,
            // The default since records are lossless; kept for old scripts.
            "--no-original" => o.include_original = false,
            "-h" | "--help" => bail!("{}", usage()),
            flag if flag.starts_with("--") => bail!("unknown option {flag}\n\n{}", usage()),
            file => {
                let key = pending_key.take().unwrap_or_else(|| file.to_string());
                o.files.push((file.to_string(), key));
            }
        }
    }
    if pending_key.is_some() {
        bail!("--key must come before the FILE it names\n\n{}", usage());
    }
    if o.files.is_empty() {
        bail!("no FILE given\n\n{}", usage());
    }
    Ok(o)
}

#[derive(Default)]
struct Totals {
    files: u64,
    events: u64,
    errors: u64,
    skipped: u64,
    truncated: u64,
    bytes: u64,
}

fn replay(args: &[String]) -> Result<()> {
    let o = parse_options(args)?;
    let limits = Limits::from_env()?;
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 20, stdout.lock());
    let mut by_format: BTreeMap<&'static str, Totals> = BTreeMap::new();
    let started = Instant::now();
    let mut failed = 0;
    for (path, key) in &o.files {
        let file = File::open(path).with_context(|| format!("cannot open {path}"))?;
        let key = key.clone();
        let ctx = Arc::new(ObjectContext {
            bucket: o.bucket.clone(),
            key,
            version: String::new(),
            ingested: crate::batch::now_rfc3339(),
            include_original: o.include_original,
        });
        let counters = Counters::default();
        let file_started = Instant::now();
        let mut write_error = None;
        // Filters are the function's (`FILTERS`); replay shows every event.
        let no_filters = Filters::default();
        let read = read_object(
            file,
            ctx,
            o.format,
            &|_| o.schema,
            &limits,
            &no_filters,
            &crate::ordinals::Resume::default(),
            &counters,
            &mut |emitted| match emitted {
                Emitted::Record { record, .. } => out.write_all(record).map_err(|e| {
                    write_error = Some(e);
                    Stop
                }),
                Emitted::Start { .. } | Emitted::Dropped { .. } => Ok(()),
            },
        );
        if let Some(e) = write_error {
            return Err(e).context("writing to stdout");
        }
        let decoded = counters.decoded.load(std::sync::atomic::Ordering::Relaxed);
        match read {
            Ok(r) => {
                let secs = file_started.elapsed().as_secs_f64().max(1e-9);
                eprintln!(
                    "{path}: format={} compression={} events={} errors={} skipped={} truncated={} bytes={} {:.1} MB/s",
                    r.format.name(),
                    r.compression.name(),
                    r.stats.events,
                    r.stats.errors,
                    r.stats.skipped,
                    r.truncated,
                    decoded,
                    decoded as f64 / 1e6 / secs
                );
                let t = by_format.entry(r.format.name()).or_default();
                t.files += 1;
                t.events += r.stats.events;
                t.errors += r.stats.errors;
                t.skipped += r.stats.skipped;
                t.truncated += r.truncated;
                t.bytes += decoded;
            }
            Err(e) => {
                failed += 1;
                eprintln!("{path}: FAILED: {e}");
            }
        }
    }
    out.flush().context("writing to stdout")?;
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    let mut all = Totals::default();
    for (format, t) in &by_format {
        eprintln!(
            "total {format}: files={} events={} errors={} skipped={} truncated={} bytes={}",
            t.files, t.events, t.errors, t.skipped, t.truncated, t.bytes
        );
        all.events += t.events;
        all.bytes += t.bytes;
    }
    eprintln!(
        "total: files={} failed={failed} events={} bytes={} {:.2}s {:.1} MB/s",
        o.files.len(),
        all.events,
        all.bytes,
        secs,
        all.bytes as f64 / 1e6 / secs
    );
    if failed > 0 {
        bail!("{failed} file(s) could not be read");
    }
    Ok(())
}

/// The routes in one phrase: `delivery stream logs` for one route of one
/// stream, else each route with its streams.
fn describe_routes(routes: &crate::routes::Routes) -> String {
    match (routes.all(), routes.streams()) {
        ([_], [stream]) => format!("delivery stream {stream}"),
        (all, _) => {
            let each: Vec<String> = all
                .iter()
                .map(|r| format!("{} -> {}", r.name, routes.stream_names(r).join("+")))
                .collect();
            format!("{} route(s): {}", all.len(), each.join(", "))
        }
    }
}
