//! One invocation: decode every message, process the objects with bounded
//! concurrency, send the records through one batcher shared by all messages,
//! watch the deadline, apply the FIFO rule, and build the SQS partial batch
//! response with exactly the messages that did not fully succeed.
//!
//! A message succeeds only when every object it names was processed (or
//! skipped for a reason that loses nothing) and every record of it was
//! accepted by Firehose.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tracing::{info, warn};

use crate::config::Config;
use crate::envelope::{self, ObjectRef};
use crate::error::Disposition;
use crate::process::{process_object, ObjectError, ObjectOutcome, ObjectSettings};
use crate::requeue::Requeue;
use crate::sink::batcher::{self, Chunk, SinkOptions};
use crate::sink::Firehose;
use crate::source::{ObjectStore, SourceError};

/// Chunks waiting for the sink; bounds memory between parsers and sink.
const SINK_CHANNEL_CHUNKS: usize = 16;

/// The forwarder: configuration and the two seams, built once per cold start.
pub struct Forwarder<S, F> {
    config: Arc<Config>,
    store: Arc<S>,
    firehose: Arc<F>,
    /// Where continuations go; without it, an unfinished object fails its message.
    requeue: Option<Arc<dyn Requeue>>,
}

/// Counters of one invocation, logged as its summary line.
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
    pub error_records: u64,
    pub truncated_events: u64,
    pub bytes_read: u64,
    pub bytes_decoded: u64,
    pub records_sent: u64,
    pub bytes_sent: u64,
    pub firehose_calls: u64,
    pub records_retried: u64,
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

struct MessageState {
    id: String,
    queue_arn: Option<String>,
    failure: Option<(Disposition, String)>,
}

impl MessageState {
    fn fail(&mut self, d: Disposition, why: String) {
        if self.failure.is_none() {
            self.failure = Some((d, why));
        }
    }
}

impl<S: ObjectStore, F: Firehose> Forwarder<S, F> {
    pub fn new(config: Config, store: S, firehose: F) -> Self {
        Forwarder {
            config: Arc::new(config),
            store: Arc::new(store),
            firehose: Arc::new(firehose),
            requeue: None,
        }
    }

    /// Sends continuations for objects not finished before the deadline.
    pub fn with_requeue(mut self, requeue: impl Requeue) -> Self {
        self.requeue = Some(Arc::new(requeue));
        self
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
        let soft_deadline = deadline - margin;
        let sink_deadline = deadline - margin / 4;

        let fifo = event
            .records
            .first()
            .and_then(|m| m.event_source_arn.as_deref())
            .is_some_and(|arn| arn.ends_with(".fifo"));

        let settings = Arc::new(ObjectSettings {
            config: self.config.clone(),
            ingested: now_rfc3339(),
            deadline: soft_deadline,
        });

        let mut report = InvocationReport {
            messages: event.records.len(),
            ..InvocationReport::default()
        };
        let mut states: Vec<MessageState> = Vec::with_capacity(event.records.len());
        let mut work: Vec<(usize, ObjectRef)> = Vec::new();
        for (idx, msg) in event.records.into_iter().enumerate() {
            let id = msg.message_id.unwrap_or_default();
            let mut state = MessageState {
                id,
                queue_arn: msg.event_source_arn.clone(),
                failure: None,
            };
            if state.id.is_empty() {
                warn!(
                    index = idx,
                    "SQS message without messageId; it cannot be reported individually"
                );
            }
            match envelope::decode(msg.body.as_deref().unwrap_or("")) {
                Ok(env) => {
                    if env.test_event {
                        report.test_events += 1;
                        info!(message_id = %state.id, "s3:TestEvent acknowledged");
                    }
                    for obj in env.objects {
                        work.push((idx, obj));
                    }
                }
                Err(e) => {
                    report.poison_messages += 1;
                    warn!(message_id = %state.id, disposition = "poison", error = %e, "message body cannot be decoded; reporting it failed so that it reaches the dead-letter queue");
                    state.fail(Disposition::Poison, e.to_string());
                }
            }
            states.push(state);
        }
        report.objects = work.len();

        let cancel = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::channel::<Chunk>(SINK_CHANNEL_CHUNKS);
        let sink = tokio::spawn(batcher::run(
            self.firehose.clone(),
            rx,
            SinkOptions {
                pack: self.config.packing.event_limits(),
                ..SinkOptions::new(self.config.firehose_max_attempts, sink_deadline)
            },
        ));
        let alarm = {
            let cancel = cancel.clone();
            tokio::spawn(async move {
                tokio::time::sleep_until(soft_deadline).await;
                cancel.store(true, Ordering::Relaxed);
            })
        };

        let results = if fifo {
            self.run_in_order(work, &states, &settings, &tx, &cancel)
                .await
        } else {
            self.run_concurrently(work, &settings, &tx, &cancel).await
        };
        drop(tx);

        // Objects that can go on in a later invocation (continuation): those
        // stopped by the deadline after handing some events to the sink, and
        // those whose records the sink could not all deliver. Decided once the
        // sink is done: slot -> (message, object, resume point so far, why).
        let can_continue = !fifo && self.requeue.is_some();
        let mut unfinished: BTreeMap<usize, (usize, ObjectRef, u64, String)> = BTreeMap::new();
        let mut object_msg: Vec<(usize, ObjectRef, bool)> = Vec::with_capacity(results.len());
        for (slot, (msg, obj, result)) in results.into_iter().enumerate() {
            let state = &mut states[msg];
            let mut parsed_ok = false;
            match result {
                Err(
                    e @ ObjectError::Deadline {
                        resume_at: Some(n), ..
                    },
                ) if can_continue => {
                    unfinished.insert(slot, (msg, obj.clone(), n, e.to_string()));
                }
                Ok(outcome) => {
                    parsed_ok = true;
                    if let Some(reason) = outcome.skipped {
                        report.objects_skipped += 1;
                        *report.skipped_by_reason.entry(reason).or_default() += 1;
                        info!(message_id = %state.id, bucket = %obj.bucket, key = %obj.key, reason, "object skipped");
                    }
                    add_outcome(&mut report, &outcome);
                }
                Err(e) => {
                    let d = e.disposition();
                    if d == Disposition::Refused {
                        report.objects_refused += 1;
                        warn!(message_id = %state.id, bucket = %obj.bucket, key = %obj.key, disposition = d.as_str(), error = %e, "object refused");
                        state.fail(d, e.to_string());
                    } else if d == Disposition::Skip {
                        report.objects_not_found += 1;
                        let reason = match &e {
                            ObjectError::Source(SourceError::Replaced { .. }) => "replaced",
                            _ => "not-found",
                        };
                        *report.skipped_by_reason.entry(reason).or_default() += 1;
                        warn!(message_id = %state.id, bucket = %obj.bucket, key = %obj.key, disposition = d.as_str(), error = %e, "object skipped");
                    } else {
                        report.objects_failed += 1;
                        warn!(message_id = %state.id, bucket = %obj.bucket, key = %obj.key, disposition = d.as_str(), error = %e, "object failed");
                        state.fail(d, e.to_string());
                    }
                }
            }
            object_msg.push((msg, obj, parsed_ok));
        }

        let sink_report = match sink.await {
            Ok(r) => r,
            Err(e) => {
                let mut r = batcher::SinkReport::default();
                r.failed_messages.insert(usize::MAX);
                r.unaccepted.insert(usize::MAX, 0);
                r.last_error = Some(format!("sink task ended abnormally: {e}"));
                r
            }
        };
        alarm.abort();
        report.records_sent = sink_report.records_sent;
        report.bytes_sent = sink_report.bytes_sent;
        report.firehose_calls = sink_report.calls;
        report.records_retried = sink_report.records_retried;
        let sink_error = sink_report
            .last_error
            .clone()
            .unwrap_or_else(|| "records not accepted".into());
        let sink_why = format!("Firehose did not accept every record: {sink_error}");
        if sink_report.unaccepted.contains_key(&usize::MAX) {
            for state in states.iter_mut() {
                state.fail(Disposition::Retry, sink_why.clone());
            }
        }
        for (&slot, &lowest) in &sink_report.unaccepted {
            let Some((msg, obj, parsed_ok)) = object_msg.get(slot) else {
                continue;
            };
            match unfinished.get_mut(&slot) {
                // Go on from the first record not delivered.
                Some(entry) => entry.2 = entry.2.min(lowest),
                None if can_continue && *parsed_ok => {
                    unfinished.insert(slot, (*msg, obj.clone(), lowest, sink_why.clone()));
                }
                None => states[*msg].fail(Disposition::Retry, sink_why.clone()),
            }
        }

        for (msg, obj, resume_at, why) in unfinished.into_values() {
            let state = &mut states[msg];
            // Without progress a continuation would loop: retry the message.
            if state.failure.is_some() || resume_at <= obj.skip_events {
                report.objects_failed += 1;
                state.fail(Disposition::Retry, why);
                continue;
            }
            let (Some(requeue), Some(queue)) = (&self.requeue, state.queue_arn.clone()) else {
                report.objects_failed += 1;
                state.fail(Disposition::Retry, why);
                continue;
            };
            let body = envelope::continuation_body(&obj, resume_at);
            let sent = tokio::time::timeout_at(deadline, requeue.send(&queue, body)).await;
            match sent {
                Ok(Ok(())) => {
                    report.objects_continued += 1;
                    info!(message_id = %state.id, bucket = %obj.bucket, key = %obj.key, resume_at, reason = %why, "object not finished in this invocation; continuation sent, a later invocation goes on from event resume_at");
                }
                Ok(Err(e)) => {
                    report.objects_failed += 1;
                    state.fail(
                        Disposition::Retry,
                        format!("{why}; the continuation could not be sent: {e}"),
                    );
                }
                Err(_) => {
                    report.objects_failed += 1;
                    state.fail(
                        Disposition::Retry,
                        format!("{why}; no time left to send the continuation"),
                    );
                }
            }
        }

        if fifo {
            // Order is preserved only if nothing after a failure is acknowledged.
            if let Some(first) = states.iter().position(|s| s.failure.is_some()) {
                for state in states.iter_mut().skip(first + 1) {
                    state.fail(
                        Disposition::Retry,
                        "FIFO queue: an earlier message of the batch failed".into(),
                    );
                }
            }
        }

        let mut response = SqsBatchResponse::default();
        let mut failures = Vec::with_capacity(states.len());
        for state in &states {
            match &state.failure {
                Some((d, why)) => {
                    response.batch_item_failures.push(failure_item(&state.id));
                    if *d != Disposition::Poison && *d != Disposition::Refused {
                        warn!(message_id = %state.id, disposition = d.as_str(), reason = %why, "message failed; SQS will deliver it again");
                    }
                    failures.push(Some(why.clone()));
                }
                None => failures.push(None),
            }
        }
        report.failed_messages = response.batch_item_failures.len();
        report.duration_ms = started.elapsed().as_millis() as u64;
        info!(
            messages = report.messages,
            failed_messages = report.failed_messages,
            poison_messages = report.poison_messages,
            objects = report.objects,
            objects_failed = report.objects_failed,
            objects_skipped = report.objects_skipped,
            objects_refused = report.objects_refused,
            objects_not_found = report.objects_not_found,
            objects_continued = report.objects_continued,
            events = report.events,
            error_records = report.error_records,
            truncated_events = report.truncated_events,
            bytes_read = report.bytes_read,
            bytes_decoded = report.bytes_decoded,
            records_sent = report.records_sent,
            bytes_sent = report.bytes_sent,
            firehose_calls = report.firehose_calls,
            records_retried = report.records_retried,
            duration_ms = report.duration_ms,
            "invocation summary"
        );
        Outcome {
            response,
            report,
            failures,
        }
    }

    /// Every object at once, bounded by `MAX_CONCURRENCY`.
    async fn run_concurrently(
        &self,
        work: Vec<(usize, ObjectRef)>,
        settings: &Arc<ObjectSettings>,
        tx: &mpsc::Sender<Chunk>,
        cancel: &Arc<AtomicBool>,
    ) -> Vec<(usize, ObjectRef, Result<ObjectOutcome, ObjectError>)> {
        let permits = Arc::new(Semaphore::new(self.config.max_concurrency));
        let mut tasks = JoinSet::new();
        for (slot, (msg, obj)) in work.iter().cloned().enumerate() {
            let permits = permits.clone();
            let store = self.store.clone();
            let settings = settings.clone();
            let tx = tx.clone();
            let cancel = cancel.clone();
            tasks.spawn(async move {
                let result = match permits.acquire_owned().await {
                    Ok(_permit) if !cancel.load(Ordering::Relaxed) => {
                        process_object(store.as_ref(), &obj, msg, slot, &settings, tx, cancel).await
                    }
                    _ => Err(ObjectError::NotStarted {
                        bucket: obj.bucket.clone(),
                        key: obj.key.clone(),
                    }),
                };
                (slot, result)
            });
        }
        let mut results: Vec<Option<Result<ObjectOutcome, ObjectError>>> =
            (0..work.len()).map(|_| None).collect();
        while let Some(joined) = tasks.join_next().await {
            if let Ok((slot, result)) = joined {
                results[slot] = Some(result);
            }
        }
        work.into_iter()
            .zip(results)
            .map(|((msg, obj), result)| {
                let result = result.unwrap_or_else(|| {
                    Err(ObjectError::Internal {
                        bucket: obj.bucket.clone(),
                        key: obj.key.clone(),
                        detail: "object task ended abnormally".into(),
                    })
                });
                (msg, obj, result)
            })
            .collect()
    }

    /// FIFO: one object at a time in message order; after the first failed
    /// message nothing more is started (it would be reported failed anyway).
    async fn run_in_order(
        &self,
        work: Vec<(usize, ObjectRef)>,
        states: &[MessageState],
        settings: &Arc<ObjectSettings>,
        tx: &mpsc::Sender<Chunk>,
        cancel: &Arc<AtomicBool>,
    ) -> Vec<(usize, ObjectRef, Result<ObjectOutcome, ObjectError>)> {
        let first_bad_message = states.iter().position(|s| s.failure.is_some());
        let mut failed_at: Option<usize> = first_bad_message;
        let mut results = Vec::with_capacity(work.len());
        for (slot, (msg, obj)) in work.into_iter().enumerate() {
            let blocked = failed_at.is_some_and(|f| f <= msg) || cancel.load(Ordering::Relaxed);
            let result = if blocked {
                Err(ObjectError::NotStarted {
                    bucket: obj.bucket.clone(),
                    key: obj.key.clone(),
                })
            } else {
                process_object(
                    self.store.as_ref(),
                    &obj,
                    msg,
                    slot,
                    settings,
                    tx.clone(),
                    cancel.clone(),
                )
                .await
            };
            if result
                .as_ref()
                .is_err_and(|e| e.disposition().fails_message())
            {
                failed_at = Some(failed_at.map_or(msg, |f| f.min(msg)));
            }
            results.push((msg, obj, result));
        }
        results
    }
}

fn add_outcome(report: &mut InvocationReport, o: &ObjectOutcome) {
    report.events += o.events;
    if let Some(format) = o.format {
        *report.events_by_dataset.entry(format.name()).or_default() += o.events;
    }
    report.error_records += o.error_records;
    report.truncated_events += o.truncated;
    report.bytes_read += o.bytes_read;
    report.bytes_decoded += o.bytes_decoded;
}

fn failure_item(id: &str) -> BatchItemFailure {
    let mut item = BatchItemFailure::default();
    item.item_identifier = id.to_string();
    item
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
