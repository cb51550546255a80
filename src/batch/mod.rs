//! One invocation as named phases: decode the messages, run the objects,
//! settle their results, apply the sink's report, continue unfinished
//! objects, apply the FIFO rule, respond with the SQS partial batch
//! response listing exactly the messages that did not fully succeed.
//!
//! A message succeeds only when every object it names was processed (or
//! skipped for a reason that loses nothing) and every record of it was
//! accepted by Firehose. This module only sequences the phases and sends
//! continuations; the decisions are pure functions in `decide.rs`, the
//! running of objects and the sink in `run.rs`. It does not parse, read S3
//! or call Firehose itself.

mod decide;
mod run;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use tokio::time::Instant;
use tracing::info;

use crate::config::Config;
use crate::envelope;
use crate::error::Disposition;
use crate::process::ObjectSettings;
use crate::requeue::Requeue;
use crate::sink::batcher::MAX_IN_FLIGHT;
use crate::sink::pace::Pace;
use crate::sink::Firehose;
use crate::source::ObjectStore;
use decide::{Continuation, MessageState, SinkLosses};

/// The forwarder: configuration and the two seams, built once per cold start.
pub struct Forwarder<S, F> {
    config: Arc<Config>,
    store: Arc<S>,
    firehose: Arc<F>,
    /// Where continuations go; without it, an unfinished object fails its message.
    requeue: Option<Arc<dyn Requeue>>,
    /// Each delivery stream's pace (as `config.routes.streams()`), learned
    /// from its throttling; kept for the life of the function instance.
    paces: Vec<Arc<Pace>>,
}

/// Counters of one invocation; `metrics::COUNTERS` says which go to the
/// summary line and the metrics document.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct InvocationReport {
    pub messages: usize,
    pub failed_messages: usize,
    pub poison_messages: usize,
    pub test_events: usize,
    pub objects: usize,
    pub objects_failed: usize,
    pub objects_skipped: usize,
    /// Skipped objects by reason (`folder-marker`, `cloudtrail-digest`, ...,
    /// `not-found`, `replaced`).
    pub skipped_by_reason: BTreeMap<&'static str, u64>,
    pub objects_refused: usize,
    pub objects_not_found: usize,
    /// Objects not finished in time, continued by a message to the queue.
    pub objects_continued: usize,
    pub events: u64,
    /// Events by format name.
    pub events_by_dataset: BTreeMap<&'static str, u64>,
    /// Bytes after decompression by format name.
    pub bytes_by_dataset: BTreeMap<&'static str, u64>,
    /// Bytes Firehose accepted by route name.
    pub bytes_by_route: BTreeMap<Arc<str>, u64>,
    pub error_records: u64,
    pub truncated_events: u64,
    /// Events dropped by filter rules (`FILTERS`), total and by rule name.
    pub events_dropped: u64,
    pub dropped_by_filter: crate::filter::DropCounts,
    pub bytes_read: u64,
    pub bytes_decoded: u64,
    pub records_sent: u64,
    pub bytes_sent: u64,
    pub firehose_calls: u64,
    pub records_retried: u64,
    /// `PutRecordBatch` calls answered with throttling.
    pub throttled_calls: u64,
    pub duration_ms: u64,
}

/// The response and what it took.
#[derive(Debug)]
pub struct Outcome {
    pub response: SqsBatchResponse,
    pub report: InvocationReport,
    /// For each message, in order: `None` if it succeeded, else why it failed.
    pub failures: Vec<Option<String>>,
}

impl<S: ObjectStore, F: Firehose> Forwarder<S, F> {
    pub fn new(config: Config, store: S, firehose: F) -> Self {
        let paces = config
            .routes
            .streams()
            .iter()
            .map(|_| Arc::new(Pace::new(MAX_IN_FLIGHT)))
            .collect();
        Forwarder {
            config: Arc::new(config),
            store: Arc::new(store),
            firehose: Arc::new(firehose),
            requeue: None,
            paces,
        }
    }

    /// Sends continuations for objects not finished before the deadline.
    pub fn with_requeue(mut self, requeue: impl Requeue) -> Self {
        self.requeue = Some(Arc::new(requeue));
        self
    }

    /// What this instance has learned of its first delivery stream's quota.
    pub fn pace(&self) -> crate::sink::pace::PaceState {
        self.paces[0].state()
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Handles one SQS batch that must be answered before `deadline`.
    pub async fn handle(&self, event: SqsEvent, deadline: Instant) -> Outcome {
        let started = Instant::now();
        let remaining = deadline.saturating_duration_since(started);
        tracing::debug!(
            remaining_ms = remaining.as_millis() as u64,
            "invocation started"
        );
        // Keep the configured margin, but never more than half the time left,
        // so that a short invocation still does some work.
        let margin = self.config.deadline_margin.min(remaining / 2);
        let settings = Arc::new(ObjectSettings {
            config: self.config.clone(),
            ingested: now_rfc3339(),
            deadline: deadline - margin,
        });
        let fifo = decide::is_fifo(&event.records);
        let can_continue = !fifo && self.requeue.is_some();
        let mut report = InvocationReport {
            messages: event.records.len(),
            ..InvocationReport::default()
        };

        let (mut states, work) = decide::decode_messages(event.records, &mut report);
        report.objects = work.len();
        let ran = self
            .run_objects(work, &states, &settings, fifo, deadline - margin / 4)
            .await;
        let mut settled = decide::settle_objects(ran.runs, &mut states, &mut report, can_continue);
        let losses = SinkLosses::from_sink(ran.sink.as_ref().map_err(Clone::clone));
        add_sink_counters(&mut report, ran.sink.as_ref().ok(), &self.config.routes);
        decide::apply_sink_losses(&losses, &mut settled, &mut states, can_continue);
        let continuations = decide::choose_continuations(
            settled.unfinished,
            &mut states,
            &mut report,
            self.requeue.is_some(),
        );
        self.send_continuations(continuations, &mut states, &mut report, deadline)
            .await;
        if fifo {
            decide::apply_fifo_rule(&mut states);
        }
        let (response, failures) = decide::respond(&states);
        report.failed_messages = response.batch_item_failures.len();
        report.duration_ms = started.elapsed().as_millis() as u64;
        crate::metrics::log_summary(&report);
        Outcome {
            response,
            report,
            failures,
        }
    }

    /// Sends each continuation before `deadline`; one that cannot be sent
    /// fails its message for a retry.
    async fn send_continuations(
        &self,
        continuations: Vec<Continuation>,
        states: &mut [MessageState],
        report: &mut InvocationReport,
        deadline: Instant,
    ) {
        let Some(requeue) = &self.requeue else {
            return;
        };
        for Continuation {
            unfinished,
            queue_arn,
        } in continuations
        {
            let state = &mut states[unfinished.message];
            let (obj, resume_at, why) = (&unfinished.object, unfinished.resume_at, unfinished.why);
            let resend = &unfinished.resend;
            let body = envelope::continuation_body(obj, resume_at, resend);
            let resend_events = resend.count();
            let sent = tokio::time::timeout_at(deadline, requeue.send(&queue_arn, body)).await;
            let failed = match sent {
                Ok(Ok(())) => {
                    report.objects_continued += 1;
                    info!(message_id = %state.id, bucket = %obj.bucket, key = %obj.key, resume_at, resend_events, reason = %why, "object not finished in this invocation; continuation sent, a later invocation goes on from event resume_at and sends again the resend_events events before it that were not accepted");
                    continue;
                }
                Ok(Err(e)) => format!("{why}; the continuation could not be sent: {e}"),
                Err(_) => format!("{why}; no time left to send the continuation"),
            };
            report.objects_failed += 1;
            state.fail(Disposition::Retry, failed);
        }
    }
}

fn add_sink_counters(
    report: &mut InvocationReport,
    sink: Option<&crate::sink::batcher::SinkReport>,
    routes: &crate::routes::Routes,
) {
    if let Some(sink) = sink {
        report.records_sent = sink.records_sent;
        report.bytes_sent = sink.bytes_sent;
        report.firehose_calls = sink.calls;
        report.records_retried = sink.records_retried;
        report.throttled_calls = sink.throttled_calls;
        for (&route, &n) in &sink.bytes_by_route {
            let name = routes.get(route).name.clone();
            *report.bytes_by_route.entry(name).or_default() += n;
        }
    }
}

/// The deadline of a Lambda invocation (milliseconds since the epoch) as an
/// `Instant`. Values before the year 2000 cannot be epoch times: cargo
/// lambda's runtime emulator sends the timeout itself (`600000`), so such a
/// value is taken as a duration from now.
pub fn deadline_from_epoch_ms(deadline_ms: u64) -> Instant {
    const YEAR_2000_MS: u64 = 946_684_800_000;
    if deadline_ms < YEAR_2000_MS {
        return Instant::now() + Duration::from_millis(deadline_ms);
    }
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    Instant::now() + Duration::from_millis(deadline_ms.saturating_sub(now_ms))
}

/// Now, as RFC 3339 UTC with milliseconds (`event.ingested`).
pub fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc();
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    now.format(&fmt)
        .unwrap_or_else(|_| "1970-01-01T00:00:00.000Z".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_from_lambda_and_from_the_emulator() {
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        let in_30s = deadline_from_epoch_ms(now_ms + 30_000) - Instant::now();
        assert!(in_30s > Duration::from_secs(29) && in_30s <= Duration::from_secs(30));
        let past = deadline_from_epoch_ms(now_ms - 5_000);
        assert!(past <= Instant::now());
        let emulator = deadline_from_epoch_ms(600_000) - Instant::now();
        assert!(emulator > Duration::from_secs(599) && emulator <= Duration::from_secs(600));
    }
}
