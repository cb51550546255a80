//! Turns the measurements into figures, checks them against the targets,
//! and writes them: `bench/results.json`, Markdown tables, `BENCHMARKS.md`.

use std::fmt::Write as _;
use std::io;
use std::path::Path;

use serde::Serialize;

use crate::corpus::Corpus;
use crate::measure::Measured;

/// The raw runs of one corpus.
#[derive(Debug, Default, Clone, Serialize)]
pub struct CorpusRuns {
    pub name: String,
    pub decompress: Measured,
    pub floor_parse: Measured,
    /// (cores, run)
    pub in_process: Vec<(usize, Measured)>,
    pub whole: Vec<(usize, Measured)>,
    /// Each record setting of [`SETTINGS`], most cores.
    pub settings: Vec<SettingRuns>,
}

/// One way of making records, as configured.
pub struct Setting {
    pub name: &'static str,
    pub env: &'static [(&'static str, &'static str)],
}

/// The record settings the bench compares (billing, speed, cost).
pub const SETTINGS: [Setting; 6] = [
    Setting {
        name: "one event per record",
        env: &[],
    },
    Setting {
        name: "ndjson",
        env: &[("RECORD_PACKING", "ndjson")],
    },
    Setting {
        name: "ndjson + gzip",
        env: &[("RECORD_PACKING", "ndjson"), ("RECORD_COMPRESSION", "gzip")],
    },
    Setting {
        name: "ndjson + zstd",
        env: &[("RECORD_PACKING", "ndjson"), ("RECORD_COMPRESSION", "zstd")],
    },
    // The same events as OCSF 1.1.0 records (`OUTPUT_SCHEMA=ocsf`).
    Setting {
        name: "OCSF",
        env: &[("OUTPUT_SCHEMA", "ocsf")],
    },
    Setting {
        name: "OCSF ndjson + zstd",
        env: &[
            ("OUTPUT_SCHEMA", "ocsf"),
            ("RECORD_PACKING", "ndjson"),
            ("RECORD_COMPRESSION", "zstd"),
        ],
    },
];

/// Firehose Direct PUT ingestion, US East (N. Virginia), first 500 TB a
/// month, USD per GB billed (records rounded up to 5 KB).
pub const FIREHOSE_USD_PER_GB: f64 = 0.029;
/// Lambda on arm64, US East (N. Virginia), first tier, USD per GB-second.
pub const LAMBDA_ARM64_USD_PER_GB_S: f64 = 0.000_013_333_4;
/// Lambda gives one vCPU per 1,769 MB of memory.
pub const LAMBDA_MB_PER_VCPU: f64 = 1_769.0;
/// Where the prices come from and when they were read.
pub const PRICES_NOTE: &str = "AWS list prices for us-east-1 as published in 2025 (Firehose Direct PUT ingestion $0.029 per GB in 5 KB steps, first 500 TB a month; Lambda arm64 $0.0000133334 per GB-second), written down on 2026-12-05 without network access to re-check them";

#[derive(Debug, Default, Clone, Serialize)]
pub struct SettingRuns {
    pub setting: String,
    pub in_process: Measured,
    pub whole: Measured,
}

/// Figures of one record setting of one corpus.
#[derive(Debug, Clone, Serialize)]
pub struct SettingFigures {
    pub setting: String,
    /// Billed bytes (records rounded up to 5 KiB) per byte of log text.
    pub billable_gb_per_gb: f64,
    /// Bytes of records per byte of log text.
    pub record_bytes_per_byte: f64,
    pub records_per_10k_events: f64,
    pub in_process_mb_s: f64,
    pub whole_mb_s: f64,
    pub ratio_whole_to_in_process: f64,
    pub peak_rss_mib_in_process: f64,
    pub peak_rss_mib_whole: f64,
    /// Firehose ingestion, USD per TB of log text.
    pub firehose_usd_per_tb: f64,
    /// Lambda compute at the whole path's speed, USD per TB of log text.
    pub lambda_usd_per_tb: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct StreamSize {
    pub uncompressed_bytes: u64,
    pub expected_events: u64,
    pub measured: Measured,
}

#[derive(Debug, Clone, Serialize)]
pub struct StreamRun {
    pub sizes: Vec<StreamSize>,
}

/// Figures of one corpus, as reported.
#[derive(Debug, Clone, Serialize)]
pub struct Figures {
    pub corpus: String,
    pub objects: usize,
    pub uncompressed_mb: f64,
    pub compressed_mb: f64,
    pub events: u64,
    pub decompress_mb_s_1c: f64,
    pub floor_parse_mb_s_1c: f64,
    /// (cores, MB/s)
    pub in_process_mb_s: Vec<(usize, f64)>,
    pub in_process_events_s: Vec<(usize, f64)>,
    pub whole_mb_s: Vec<(usize, f64)>,
    pub ratio_in_process_to_decompress_1c: f64,
    pub ratio_in_process_to_floor_parse_1c: f64,
    /// (cores, whole / in-process)
    pub ratio_whole_to_in_process: Vec<(usize, f64)>,
    pub peak_rss_mib_in_process: f64,
    pub peak_rss_mib_whole: f64,
    pub calls_per_10k_events: f64,
    pub mean_bytes_per_call: f64,
    pub full_call_share: f64,
    pub billable_units_per_gb: f64,
    pub settings: Vec<SettingFigures>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Target {
    pub target: String,
    pub measured: String,
    pub met: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cpu: String,
    pub cpus: usize,
    pub memory_gib: f64,
    pub kernel: String,
    pub rustc: String,
    pub date: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub machine: Machine,
    pub seed: u64,
    pub core_counts: Vec<usize>,
    pub figures: Vec<Figures>,
    pub stream: StreamRun,
    pub init_ms: Vec<f64>,
    pub init_ms_median: f64,
    pub init_ms_max: f64,
    pub targets: Vec<Target>,
    pub runs: Vec<CorpusRuns>,
}

fn mb_s(m: &Measured) -> f64 {
    if m.seconds > 0.0 {
        m.uncompressed_bytes as f64 / 1e6 / m.seconds
    } else {
        0.0
    }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

impl Report {
    pub fn new(
        corpora: &[Corpus],
        runs: Vec<CorpusRuns>,
        stream: StreamRun,
        mut init_ms: Vec<f64>,
        core_counts: Vec<usize>,
    ) -> Report {
        let figures: Vec<Figures> = corpora
            .iter()
            .zip(&runs)
            .map(|(c, r)| figures(c, r))
            .collect();
        init_ms.sort_by(f64::total_cmp);
        let init_ms_median = init_ms.get(init_ms.len() / 2).copied().unwrap_or(0.0);
        let init_ms_max = init_ms.last().copied().unwrap_or(0.0);
        let mut report = Report {
            machine: machine(),
            seed: corpora.first().map_or(0, |c| c.seed),
            core_counts,
            figures,
            stream,
            init_ms,
            init_ms_median,
            init_ms_max,
            targets: Vec::new(),
            runs,
        };
        report.targets = report.targets();
        report
    }

    fn targets(&self) -> Vec<Target> {
        let mut t = Vec::new();
        for f in &self.figures {
            if f.corpus.starts_with("cloudtrail") || f.corpus.starts_with("vpcflow") {
                t.push(Target {
                    target: format!(
                        "{}: parse and normalize ≥ 0.5× the decompression floor, 1 core",
                        f.corpus
                    ),
                    measured: format!("{:.2}×", f.ratio_in_process_to_decompress_1c),
                    met: f.ratio_in_process_to_decompress_1c >= 0.5,
                });
            }
        }
        for f in &self.figures {
            for (cores, ratio) in &f.ratio_whole_to_in_process {
                t.push(Target {
                    target: format!(
                        "{}: whole path ≥ 0.8× in process, {cores} core(s)",
                        f.corpus
                    ),
                    measured: format!("{ratio:.2}×"),
                    met: *ratio >= 0.8,
                });
            }
        }
        for f in &self.figures {
            let by = |name: &str| f.settings.iter().find(|x| x.setting == name);
            let best = f
                .settings
                .iter()
                .filter(|x| x.setting.contains('+'))
                .min_by(|a, b| a.billable_gb_per_gb.total_cmp(&b.billable_gb_per_gb));
            if let Some(best) = best {
                let limit = if f.corpus.starts_with("cloudtrail") {
                    0.15
                } else {
                    1.0
                };
                t.push(Target {
                    target: format!(
                        "{}: billable GB per GB of log text ≤ {limit} with the best compression",
                        f.corpus
                    ),
                    measured: format!("{:.3} ({})", best.billable_gb_per_gb, best.setting),
                    met: best.billable_gb_per_gb <= limit,
                });
            }
            if let Some(plain) = by("ndjson").filter(|_| f.corpus.starts_with("cloudtrail")) {
                t.push(Target {
                    target: format!(
                        "{}: billable GB per GB ≤ 1.3 packed without compression",
                        f.corpus
                    ),
                    measured: format!("{:.3}", plain.billable_gb_per_gb),
                    met: plain.billable_gb_per_gb <= 1.3,
                });
            }
            if let Some(zstd) = by("ndjson + zstd") {
                t.push(Target {
                    target: format!(
                        "{}: whole path ≥ 0.8× in process with ndjson + zstd",
                        f.corpus
                    ),
                    measured: format!("{:.2}×", zstd.ratio_whole_to_in_process),
                    met: zstd.ratio_whole_to_in_process >= 0.8,
                });
                if let Some(plain) = by("ndjson") {
                    let ratio = if plain.in_process_mb_s > 0.0 {
                        zstd.in_process_mb_s / plain.in_process_mb_s
                    } else {
                        0.0
                    };
                    t.push(Target {
                        target: format!(
                            "{}: in process with zstd ≥ 0.7× the same packing without compression",
                            f.corpus
                        ),
                        measured: format!("{ratio:.2}×"),
                        met: ratio >= 0.7,
                    });
                }
                t.push(Target {
                    target: format!(
                        "{}: peak RSS with zstd < 64 MiB in process, < 100 MiB whole path",
                        f.corpus
                    ),
                    measured: format!(
                        "{:.1} / {:.1} MiB",
                        zstd.peak_rss_mib_in_process, zstd.peak_rss_mib_whole
                    ),
                    met: zstd.peak_rss_mib_in_process < 64.0 && zstd.peak_rss_mib_whole < 100.0,
                });
            }
        }
        if let (Some(small), Some(big)) = (self.stream.sizes.first(), self.stream.sizes.last()) {
            let big_mib = mib(big.measured.peak_rss_kib);
            let small_mib = mib(small.measured.peak_rss_kib);
            t.push(Target {
                target: format!(
                    "peak RSS < 64 MiB for one {:.2} GiB object, whole path",
                    big.uncompressed_bytes as f64 / (1u64 << 30) as f64
                ),
                measured: format!("{big_mib:.1} MiB"),
                met: big_mib < 64.0,
            });
            t.push(Target {
                target: format!(
                    "memory independent of object size ({:.0} MiB object vs {:.0} MiB)",
                    big.uncompressed_bytes as f64 / (1u64 << 20) as f64,
                    small.uncompressed_bytes as f64 / (1u64 << 20) as f64
                ),
                measured: format!("{big_mib:.1} vs {small_mib:.1} MiB"),
                met: big_mib <= small_mib + 8.0,
            });
        }
        t.push(Target {
            target: "init < 20 ms (median, process start to the first `next`)".into(),
            measured: format!(
                "{:.1} ms (max {:.1})",
                self.init_ms_median, self.init_ms_max
            ),
            met: self.init_ms_median < 20.0,
        });
        for f in &self.figures {
            t.push(Target {
                target: format!("{}: ≥ 95% of PutRecordBatch calls full", f.corpus),
                measured: format!("{:.1}%", f.full_call_share * 100.0),
                met: f.full_call_share >= 0.95,
            });
        }
        if let Some(&most) = self.core_counts.last().filter(|&&n| n > 1) {
            for f in &self.figures {
                let one = f.in_process_mb_s.first().map_or(0.0, |x| x.1);
                let all = f.in_process_mb_s.last().map_or(0.0, |x| x.1);
                let speedup = if one > 0.0 { all / one } else { 0.0 };
                t.push(Target {
                    target: format!(
                        "{}: {most} cores used (in process ≥ 1.5× the 1-core rate)",
                        f.corpus
                    ),
                    measured: format!("{speedup:.2}×"),
                    met: speedup >= 1.5,
                });
            }
        }
        t
    }

    pub fn markdown(&self) -> String {
        let mut s = String::new();
        let m = &self.machine;
        let _ = writeln!(
            s,
            "Run {} on {} ({} CPUs, {:.0} GiB, Linux {}), {}; seed {:#x}.\n",
            m.date, m.cpu, m.cpus, m.memory_gib, m.kernel, m.rustc, self.seed
        );
        let cores = &self.core_counts;
        let _ = writeln!(s, "#### Throughput (uncompressed MB/s; `Nc` = N cores)\n");
        let mut head = String::from("| corpus | MB | events | decompress 1c | floor parse 1c |");
        let mut rule = String::from("|---|---:|---:|---:|---:|");
        for n in cores {
            let _ = write!(head, " ours {n}c |");
            rule.push_str("---:|");
        }
        for n in cores {
            let _ = write!(head, " whole {n}c |");
            rule.push_str("---:|");
        }
        head.push_str(" ours ÷ decompress 1c | ours ÷ floor parse 1c |");
        rule.push_str("---:|---:|");
        for n in cores {
            let _ = write!(head, " whole ÷ ours {n}c |");
            rule.push_str("---:|");
        }
        let _ = write!(head, " events/s {}c |", cores.last().unwrap_or(&1));
        rule.push_str("---:|");
        let _ = writeln!(s, "{head}\n{rule}");
        for f in &self.figures {
            let mut row = format!(
                "| {} | {:.0} | {} | {:.0} | {:.0} |",
                f.corpus, f.uncompressed_mb, f.events, f.decompress_mb_s_1c, f.floor_parse_mb_s_1c
            );
            for (_, v) in &f.in_process_mb_s {
                let _ = write!(row, " {v:.0} |");
            }
            for (_, v) in &f.whole_mb_s {
                let _ = write!(row, " {v:.0} |");
            }
            let _ = write!(
                row,
                " {:.2} | {:.2} |",
                f.ratio_in_process_to_decompress_1c, f.ratio_in_process_to_floor_parse_1c
            );
            for (_, v) in &f.ratio_whole_to_in_process {
                let _ = write!(row, " {v:.2} |");
            }
            let _ = write!(
                row,
                " {:.0} |",
                f.in_process_events_s.last().map_or(0.0, |x| x.1)
            );
            let _ = writeln!(s, "{row}");
        }
        let most = cores.last().unwrap_or(&1);
        let _ = writeln!(s, "\n#### Memory, batching and billing ({most} cores)\n");
        let _ = writeln!(s, "| corpus | peak RSS in process MiB | peak RSS whole MiB | PutRecordBatch calls per 10,000 events | mean bytes per call | full calls |");
        let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|");
        for f in &self.figures {
            let _ = writeln!(
                s,
                "| {} | {:.1} | {:.1} | {:.1} | {:.0} | {:.1}% |",
                f.corpus,
                f.peak_rss_mib_in_process,
                f.peak_rss_mib_whole,
                f.calls_per_10k_events,
                f.mean_bytes_per_call,
                f.full_call_share * 100.0,
            );
        }
        let names: Vec<&str> = SETTINGS.iter().map(|x| x.name).collect();
        let _ = writeln!(
            s,
            "\n#### Bytes out: billable GB per GB of log text (records rounded up to 5 KiB), {most} cores\n"
        );
        let _ = writeln!(
            s,
            "| corpus | {} | record bytes per byte, {} |",
            names.join(" | "),
            names.join(" / ")
        );
        let _ = writeln!(s, "|---|{}---:|", "---:|".repeat(names.len()));
        for f in &self.figures {
            let cells: Vec<String> = f
                .settings
                .iter()
                .map(|x| format!("{:.3}", x.billable_gb_per_gb))
                .collect();
            let sizes: Vec<String> = f
                .settings
                .iter()
                .map(|x| format!("{:.2}", x.record_bytes_per_byte))
                .collect();
            let _ = writeln!(
                s,
                "| {} | {} | {} |",
                f.corpus,
                cells.join(" | "),
                sizes.join(" / ")
            );
        }
        let _ = writeln!(
            s,
            "\n#### Speed and memory per setting, {most} cores (MB/s of log text; peak RSS MiB)\n"
        );
        let _ = writeln!(s, "| corpus | setting | records per 10,000 events | in process MB/s | whole MB/s | whole ÷ in process | RSS in process | RSS whole |");
        let _ = writeln!(s, "|---|---|---:|---:|---:|---:|---:|---:|");
        for f in &self.figures {
            for x in &f.settings {
                let _ = writeln!(
                    s,
                    "| {} | {} | {:.1} | {:.0} | {:.0} | {:.2} | {:.1} | {:.1} |",
                    f.corpus,
                    x.setting,
                    x.records_per_10k_events,
                    x.in_process_mb_s,
                    x.whole_mb_s,
                    x.ratio_whole_to_in_process,
                    x.peak_rss_mib_in_process,
                    x.peak_rss_mib_whole
                );
            }
        }
        let _ = writeln!(
            s,
            "\n#### Cost: US dollars per TB of log text (Firehose ingestion + Lambda arm64 compute at the whole path's speed on {most} cores)\n"
        );
        let _ = writeln!(s, "| corpus | {} |", names.join(" | "));
        let _ = writeln!(s, "|---|{}", "---:|".repeat(names.len()));
        for f in &self.figures {
            let cells: Vec<String> = f
                .settings
                .iter()
                .map(|x| {
                    format!(
                        "{:.2} + {:.2} = **{:.2}**",
                        x.firehose_usd_per_tb,
                        x.lambda_usd_per_tb,
                        x.firehose_usd_per_tb + x.lambda_usd_per_tb
                    )
                })
                .collect();
            let _ = writeln!(s, "| {} | {} |", f.corpus, cells.join(" | "));
        }
        let _ = writeln!(
            s,
            "\nPrices: {PRICES_NOTE}. Lambda memory is {:.0} MB ({most} vCPUs at 1,769 MB each); the bench machine's x86-64 cores stand in for Graviton's.",
            *most as f64 * LAMBDA_MB_PER_VCPU
        );
        let _ = writeln!(
            s,
            "\n#### Streaming one large object (VPC Flow Logs, whole path, {most} cores)\n"
        );
        let _ = writeln!(s, "| uncompressed MiB | events | MB/s | peak RSS MiB |");
        let _ = writeln!(s, "|---:|---:|---:|---:|");
        for z in &self.stream.sizes {
            let _ = writeln!(
                s,
                "| {:.0} | {} | {:.0} | {:.1} |",
                z.uncompressed_bytes as f64 / (1u64 << 20) as f64,
                z.measured.events,
                mb_s(&z.measured),
                mib(z.measured.peak_rss_kib)
            );
        }
        let _ = writeln!(
            s,
            "\n#### Init\n\nProcess start to the runtime's first `next` request: median {:.1} ms, max {:.1} ms over {} runs.\n",
            self.init_ms_median,
            self.init_ms_max,
            self.init_ms.len()
        );
        let _ = writeln!(
            s,
            "#### Targets\n\n| target | measured | met |\n|---|---:|:---:|"
        );
        for t in &self.targets {
            let _ = writeln!(
                s,
                "| {} | {} | {} |",
                t.target,
                t.measured,
                if t.met { "yes" } else { "**no**" }
            );
        }
        s
    }

    /// The smoke run's checks: every stage saw every generated event, with
    /// no failure; figures are finite and positive.
    pub fn check_smoke(&self, corpora: &[Corpus]) -> Result<(), String> {
        for (c, r) in corpora.iter().zip(&self.runs) {
            let want = c.events();
            let mut all: Vec<(&str, &Measured)> = Vec::new();
            for x in &r.settings {
                all.push((x.setting.as_str(), &x.in_process));
                all.push((x.setting.as_str(), &x.whole));
            }
            all.extend(r.in_process.iter().map(|(_, m)| ("in-process", m)));
            all.extend(r.whole.iter().map(|(_, m)| ("whole", m)));
            for (what, m) in all {
                if m.events != want || m.failed_messages != 0 {
                    return Err(format!(
                        "{}: {what} saw {} events ({} failed messages), generated {want}",
                        c.spec.kind.name(),
                        m.events,
                        m.failed_messages
                    ));
                }
                if m.uncompressed_bytes != c.uncompressed() {
                    return Err(format!(
                        "{}: {what} decoded {} bytes, generated {}",
                        c.spec.kind.name(),
                        m.uncompressed_bytes,
                        c.uncompressed()
                    ));
                }
            }
            if r.settings.len() != SETTINGS.len() {
                return Err(format!("{}: settings not all run", c.spec.kind.name()));
            }
            // Packing sends fewer records than events; compression fewer
            // bytes (the ECS settings: 1-3).
            let packed = |x: &&SettingRuns| x.setting.contains("ndjson");
            for x in r.settings.iter().filter(packed) {
                if x.in_process.records_sent >= want || x.in_process.firehose_calls == 0 {
                    return Err(format!(
                        "{}: {} sent {} records for {want} events",
                        c.spec.kind.name(),
                        x.setting,
                        x.in_process.records_sent
                    ));
                }
            }
            for x in &r.settings[2..4] {
                if x.in_process.bytes_sent >= r.settings[1].in_process.bytes_sent {
                    return Err(format!(
                        "{}: {} sent {} bytes, plain packing {}",
                        c.spec.kind.name(),
                        x.setting,
                        x.in_process.bytes_sent,
                        r.settings[1].in_process.bytes_sent
                    ));
                }
            }
            for m in [&r.decompress, &r.floor_parse] {
                if m.uncompressed_bytes != c.uncompressed() {
                    return Err(format!(
                        "{}: the floor read {} bytes",
                        c.spec.kind.name(),
                        m.uncompressed_bytes
                    ));
                }
            }
        }
        for z in &self.stream.sizes {
            if z.measured.events != z.expected_events {
                return Err(format!(
                    "stream: {} events, expected {}",
                    z.measured.events, z.expected_events
                ));
            }
        }
        if self.init_ms.is_empty() || self.init_ms.iter().any(|t| !t.is_finite() || *t <= 0.0) {
            return Err(format!("init times {:?}", self.init_ms));
        }
        Ok(())
    }
}

fn figures(c: &Corpus, r: &CorpusRuns) -> Figures {
    let events = c.events();
    let gb = c.uncompressed() as f64 / 1e9;
    let (_, most) = r.in_process.last().cloned().unwrap_or_default();
    let (_, whole_most) = r.whole.last().cloned().unwrap_or_default();
    let one = r.in_process.first().map(|x| mb_s(&x.1)).unwrap_or(0.0);
    let per = |x: f64, y: f64| if y > 0.0 { x / y } else { 0.0 };
    Figures {
        corpus: c.spec.kind.name().to_string(),
        objects: c.objects.len(),
        uncompressed_mb: c.uncompressed() as f64 / 1e6,
        compressed_mb: c.compressed() as f64 / 1e6,
        events,
        decompress_mb_s_1c: mb_s(&r.decompress),
        floor_parse_mb_s_1c: mb_s(&r.floor_parse),
        in_process_mb_s: r.in_process.iter().map(|(n, m)| (*n, mb_s(m))).collect(),
        in_process_events_s: r
            .in_process
            .iter()
            .map(|(n, m)| (*n, per(m.events as f64, m.seconds)))
            .collect(),
        whole_mb_s: r.whole.iter().map(|(n, m)| (*n, mb_s(m))).collect(),
        ratio_in_process_to_decompress_1c: per(one, mb_s(&r.decompress)),
        ratio_in_process_to_floor_parse_1c: per(one, mb_s(&r.floor_parse)),
        ratio_whole_to_in_process: r
            .whole
            .iter()
            .zip(&r.in_process)
            .map(|((n, w), (_, i))| (*n, per(mb_s(w), mb_s(i))))
            .collect(),
        peak_rss_mib_in_process: mib(most.peak_rss_kib),
        peak_rss_mib_whole: mib(whole_most.peak_rss_kib),
        calls_per_10k_events: per(most.firehose_calls as f64 * 10_000.0, events as f64),
        mean_bytes_per_call: per(most.bytes_sent as f64, most.firehose_calls as f64),
        full_call_share: per(most.full_calls as f64, most.firehose_calls as f64),
        billable_units_per_gb: per(most.billable_units as f64, gb),
        settings: r
            .settings
            .iter()
            .map(|s| setting_figures(c, s, r.whole.last().map_or(1, |w| w.0)))
            .collect(),
    }
}

fn setting_figures(c: &Corpus, s: &SettingRuns, cores: usize) -> SettingFigures {
    let per = |x: f64, y: f64| if y > 0.0 { x / y } else { 0.0 };
    let text = c.uncompressed() as f64;
    let billable_gb_per_gb = per(
        (s.in_process.billable_units * crate::measure::BILLING_STEP) as f64,
        text,
    );
    let whole = mb_s(&s.whole);
    // Seconds for 1 TB (1e6 MB) at the whole path's speed, on a function
    // sized for the cores the bench used.
    let gb_memory = cores as f64 * LAMBDA_MB_PER_VCPU / 1024.0;
    SettingFigures {
        setting: s.setting.clone(),
        billable_gb_per_gb,
        record_bytes_per_byte: per(s.in_process.bytes_sent as f64, text),
        records_per_10k_events: per(
            s.in_process.records_sent as f64 * 10_000.0,
            s.in_process.events as f64,
        ),
        in_process_mb_s: mb_s(&s.in_process),
        whole_mb_s: whole,
        ratio_whole_to_in_process: per(whole, mb_s(&s.in_process)),
        peak_rss_mib_in_process: mib(s.in_process.peak_rss_kib),
        peak_rss_mib_whole: mib(s.whole.peak_rss_kib),
        firehose_usd_per_tb: billable_gb_per_gb * 1_000.0 * FIREHOSE_USD_PER_GB,
        lambda_usd_per_tb: per(1e6, whole) * gb_memory * LAMBDA_ARM64_USD_PER_GB_S,
    }
}

fn machine() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    let memory_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0 / 1024.0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .unwrap_or_default()
        .trim()
        .to_string();
    let rustc = std::process::Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let now = time::OffsetDateTime::now_utc();
    Machine {
        cpu,
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        memory_gib,
        kernel,
        rustc,
        date: format!(
            "{:04}-{:02}-{:02}",
            now.year(),
            now.month() as u8,
            now.day()
        ),
    }
}

const BEGIN: &str = "<!-- bench:begin (written by `make bench`) -->";
const END: &str = "<!-- bench:end -->";

/// Puts `table` between the markers of `BENCHMARKS.md`, keeping the prose
/// around them.
pub fn update_benchmarks_md(path: &Path, table: &str) -> io::Result<()> {
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let block = format!("{BEGIN}\n{table}\n{END}");
    let new = match (old.find(BEGIN), old.find(END)) {
        (Some(b), Some(e)) if b < e => format!("{}{block}{}", &old[..b], &old[e + END.len()..]),
        _ => format!("# Benchmarks\n\n{block}\n"),
    };
    std::fs::write(path, new)
}
