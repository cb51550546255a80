//! s3-log-forwarder: turns log files in S3 buckets (of this or other AWS
//! accounts) into normalized records in Kinesis Data Firehose.
//!
//! The crate is a library first; `main.rs` only wires it to the Lambda
//! runtime. Data flows one way, and the modules follow it:
//! `envelope` (SQS body -> object references) -> `credentials` + `source`
//! (streamed, decompressed, limited bytes) -> `formats` (events) -> `filter`
//! (events dropped by rule, counted) -> `record` (normalized JSON) -> `sink` (Firehose batches) -> `batch` (one invocation,
//! the SQS partial batch response).
//! `fakes` holds in-memory implementations of the seams (`ObjectStore`,
//! `Firehose`, `Requeue`) for tests and the benchmark.

pub mod batch;
pub mod check;
pub mod cli;
pub mod config;
pub mod credentials;
pub mod envelope;
pub mod error;
pub mod fakes;
pub mod filter;
pub mod formats;
pub mod metrics;
pub mod ocsf;
pub mod ordinals;
pub mod process;
pub mod record;
pub mod requeue;
pub mod routes;
pub mod sink;
pub mod source;
pub mod telemetry;

pub use batch::{Forwarder, InvocationReport, Outcome};
pub use config::Config;
