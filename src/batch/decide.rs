//! The deciding phases of an invocation, as pure functions over typed
//! states: decoding message bodies, settling object results, applying the
//! sink's report, choosing continuation or retry, the FIFO rule and the
//! partial batch response.
//!
//! Nothing here is async or talks to AWS: running objects, awaiting the
//! sink and sending continuations live in `run.rs` and `mod.rs`. The only
//! side effect is the log line each decision writes.

use std::collections::BTreeMap;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsMessage};
use tracing::{info, warn};

use super::InvocationReport;
use crate::envelope::{self, ObjectRef};
use crate::error::Disposition;
use crate::filter::DropCounts;
use crate::ordinals::OrdinalRanges;
use crate::process::{ObjectError, ObjectErrorKind, ObjectOutcome};
use crate::sink::batcher::SinkReport;
use crate::source::SourceError;

/// Why a message failed: what happens to it next, and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub disposition: Disposition,
    pub why: String,
}

/// One SQS message of the batch, from decoding to the response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MessageState {
    pub id: String,
    pub queue_arn: Option<String>,
    /// The first failure; later ones do not replace it.
    pub failure: Option<Failure>,
}

impl MessageState {
    pub fn new(id: String, queue_arn: Option<String>) -> Self {
        MessageState {
            id,
            queue_arn,
            failure: None,
        }
    }

    pub fn fail(&mut self, disposition: Disposition, why: String) {
        if self.failure.is_none() {
            self.failure = Some(Failure { disposition, why });
        }
    }

    pub fn failed(&self) -> bool {
        self.failure.is_some()
    }
}

/// An object to process, with the index of the message that named it. Its
/// position in the work list is its slot (the sink reports losses by slot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ObjectWork {
    pub message: usize,
    pub object: ObjectRef,
}

/// An object after processing.
#[derive(Debug)]
pub(crate) struct ObjectRun {
    pub message: usize,
    pub object: ObjectRef,
    pub result: Result<ObjectOutcome, ObjectError>,
}

/// An object that can go on in a later invocation from event `resume_at`,
/// sending again the events in `resend` before it (not accepted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unfinished {
    pub message: usize,
    pub object: ObjectRef,
    pub resume_at: u64,
    pub resend: OrdinalRanges,
    pub why: String,
}

impl Unfinished {
    /// Adds the events Firehose did not accept. Lost events that reach
    /// `resume_at` move it back instead: the continuation reads on from
    /// the first of them, and carries only the ranges before it.
    pub fn add_losses(&mut self, lost: &OrdinalRanges) {
        self.resend.extend(lost);
        while let Some(from) = self.resend.pop_reaching(self.resume_at) {
            self.resume_at = self.resume_at.min(from);
        }
    }

    /// Whether this invocation got anywhere with the object: what is left
    /// to send is less than what its message asked for (it goes on from a
    /// later event, or from the same one with fewer events to resend).
    /// Without progress a continuation would loop.
    pub fn made_progress(&self) -> bool {
        let asked = &self.object;
        self.resume_at > asked.skip_events
            || (self.resume_at == asked.skip_events && self.resend.count() < asked.resend.count())
    }
}

/// An object after settling, kept by slot to match the sink's report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Settled {
    pub message: usize,
    pub object: ObjectRef,
    /// Read to the end (or skipped) without error.
    pub parsed: bool,
    /// When parsed: the ordinal after the object's last event.
    pub end: u64,
}

/// The objects after settling: every one by slot, and those that can go on.
#[derive(Debug, Default)]
pub(crate) struct SettledObjects {
    pub by_slot: Vec<Settled>,
    pub unfinished: BTreeMap<usize, Unfinished>,
}

/// What the sink could not deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SinkLosses {
    /// The sink task ended abnormally: nothing is known to be delivered.
    AllLost { why: String },
    /// For each object slot with records not delivered, their events'
    /// ordinals (empty when everything was delivered).
    PerObject {
        lost: BTreeMap<usize, OrdinalRanges>,
        why: String,
    },
}

impl SinkLosses {
    /// The losses of a sink report, or all lost when the sink task died
    /// (`Err` carries why).
    pub fn from_sink(sink: Result<&SinkReport, String>) -> Self {
        match sink {
            Ok(report) => SinkLosses::PerObject {
                lost: report.unaccepted.clone(),
                why: sink_why(
                    report
                        .last_error
                        .as_deref()
                        .unwrap_or("records not accepted"),
                ),
            },
            Err(e) => SinkLosses::AllLost {
                why: sink_why(&format!("sink task ended abnormally: {e}")),
            },
        }
    }
}

fn sink_why(error: &str) -> String {
    format!("Firehose did not accept every record: {error}")
}

/// A continuation to send: the object goes on from `resume_at`, and its
/// `resend` ranges are sent again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Continuation {
    pub unfinished: Unfinished,
    pub queue_arn: String,
}

/// Whether the batch comes from a FIFO queue (its first message says).
pub(crate) fn is_fifo(messages: &[SqsMessage]) -> bool {
    messages
        .first()
        .and_then(|m| m.event_source_arn.as_deref())
        .is_some_and(|arn| arn.ends_with(".fifo"))
}

/// Decodes every message body into the objects it names. A body that cannot
/// be decoded fails its message as poison.
pub(crate) fn decode_messages(
    messages: Vec<SqsMessage>,
    report: &mut InvocationReport,
) -> (Vec<MessageState>, Vec<ObjectWork>) {
    let mut states = Vec::with_capacity(messages.len());
    let mut work = Vec::new();
    for (index, msg) in messages.into_iter().enumerate() {
        let mut state = MessageState::new(
            msg.message_id.unwrap_or_default(),
            msg.event_source_arn.clone(),
        );
        if state.id.is_empty() {
            warn!(
                index,
                "SQS message without messageId; it cannot be reported individually"
            );
        }
        match envelope::decode(msg.body.as_deref().unwrap_or("")) {
            Ok(env) => {
                if env.test_event {
                    report.test_events += 1;
                    info!(message_id = %state.id, "s3:TestEvent acknowledged");
                }
                work.extend(env.objects.into_iter().map(|object| ObjectWork {
                    message: index,
                    object,
                }));
            }
            Err(e) => {
                report.poison_messages += 1;
                warn!(message_id = %state.id, disposition = "poison", error = %e, "message body cannot be decoded; reporting it failed so that it reaches the dead-letter queue");
                state.fail(Disposition::Poison, e.to_string());
            }
        }
        states.push(state);
    }
    (states, work)
}

/// Counts every object result and fails the messages of failed objects.
/// An object stopped by the deadline after handing events to the sink is
/// unfinished when it `can_continue`.
pub(crate) fn settle_objects(
    runs: Vec<ObjectRun>,
    states: &mut [MessageState],
    report: &mut InvocationReport,
    can_continue: bool,
) -> SettledObjects {
    let mut settled = SettledObjects::default();
    for (slot, run) in runs.into_iter().enumerate() {
        let ObjectRun {
            message,
            object,
            result,
        } = run;
        let state = &mut states[message];
        let mut parsed = false;
        let mut end = 0;
        match result {
            Err(
                e @ ObjectError {
                    kind:
                        ObjectErrorKind::Deadline {
                            resume_at: Some(resume_at),
                            ..
                        },
                    ..
                },
            ) if can_continue => {
                let why = e.to_string();
                let mut resend = OrdinalRanges::new();
                // The continuation goes on after these drops: count them now.
                if let ObjectErrorKind::Deadline {
                    dropped,
                    resend: left,
                    ..
                } = e.kind
                {
                    add_dropped(report, &dropped);
                    resend = left;
                }
                let mut unfinished = Unfinished {
                    message,
                    object: object.clone(),
                    resume_at,
                    resend: OrdinalRanges::new(),
                    why,
                };
                // Ranges at or past `resume_at` (only a hand-written body
                // has them) are read from there anyway.
                unfinished.add_losses(&resend);
                settled.unfinished.insert(slot, unfinished);
            }
            Ok(outcome) => {
                parsed = true;
                end = object.skip_events + outcome.events;
                if let Some(reason) = outcome.skipped {
                    report.objects_skipped += 1;
                    *report.skipped_by_reason.entry(reason).or_default() += 1;
                    info!(message_id = %state.id, bucket = %object.bucket, key = %object.key, reason, "object skipped");
                }
                add_outcome(report, &outcome);
            }
            Err(e) => settle_error(&e, &object, state, report),
        }
        settled.by_slot.push(Settled {
            message,
            object,
            parsed,
            end,
        });
    }
    settled
}

fn settle_error(
    e: &ObjectError,
    object: &ObjectRef,
    state: &mut MessageState,
    report: &mut InvocationReport,
) {
    let d = e.disposition();
    match d {
        Disposition::Refused => {
            report.objects_refused += 1;
            warn!(message_id = %state.id, bucket = %object.bucket, key = %object.key, disposition = d.as_str(), error = %e, "object refused");
            state.fail(d, e.to_string());
        }
        Disposition::Skip => {
            report.objects_not_found += 1;
            let reason = match &e.kind {
                ObjectErrorKind::Source(source)
                    if matches!(**source, SourceError::Replaced { .. }) =>
                {
                    "replaced"
                }
                _ => "not-found",
            };
            *report.skipped_by_reason.entry(reason).or_default() += 1;
            warn!(message_id = %state.id, bucket = %object.bucket, key = %object.key, disposition = d.as_str(), error = %e, "object skipped");
        }
        _ => {
            report.objects_failed += 1;
            warn!(message_id = %state.id, bucket = %object.bucket, key = %object.key, disposition = d.as_str(), error = %e, "object failed");
            state.fail(d, e.to_string());
        }
    }
}

fn add_outcome(report: &mut InvocationReport, o: &ObjectOutcome) {
    report.events += o.events;
    if let Some(format) = o.format {
        *report.events_by_dataset.entry(format.name()).or_default() += o.events;
        *report.bytes_by_dataset.entry(format.name()).or_default() += o.bytes_decoded;
    }
    report.error_records += o.error_records;
    report.truncated_events += o.truncated;
    add_dropped(report, &o.dropped);
    report.bytes_read += o.bytes_read;
    report.bytes_decoded += o.bytes_decoded;
}

fn add_dropped(report: &mut InvocationReport, dropped: &DropCounts) {
    for (rule, n) in dropped {
        report.events_dropped += n;
        *report.dropped_by_filter.entry(rule.clone()).or_default() += n;
    }
}

/// Applies what the sink could not deliver: an unfinished object resends
/// its lost events (and goes on from the first of them when they reach
/// where it stopped); a parsed object becomes unfinished, to resend them,
/// when it `can_continue`; otherwise its message is retried. All lost fails
/// every message.
pub(crate) fn apply_sink_losses(
    losses: &SinkLosses,
    settled: &mut SettledObjects,
    states: &mut [MessageState],
    can_continue: bool,
) {
    let (lost, why) = match losses {
        SinkLosses::AllLost { why } => {
            for state in states.iter_mut() {
                state.fail(Disposition::Retry, why.clone());
            }
            return;
        }
        SinkLosses::PerObject { lost, why } => (lost, why),
    };
    for (&slot, lost) in lost {
        let Some(object) = settled.by_slot.get(slot) else {
            continue;
        };
        match settled.unfinished.get_mut(&slot) {
            Some(unfinished) => unfinished.add_losses(lost),
            None if can_continue && object.parsed => {
                // Read to the end: nothing left to read, only to resend.
                let mut unfinished = Unfinished {
                    message: object.message,
                    object: object.object.clone(),
                    resume_at: object.end.max(object.object.skip_events),
                    resend: OrdinalRanges::new(),
                    why: why.clone(),
                };
                unfinished.add_losses(lost);
                settled.unfinished.insert(slot, unfinished);
            }
            None => states[object.message].fail(Disposition::Retry, why.clone()),
        }
    }
}

/// Chooses, for each unfinished object, a continuation or a retry of its
/// message: a failed message, a continuation without progress (nothing of
/// the object accepted: it would loop), no requeue or no queue to send to
/// all mean retry.
pub(crate) fn choose_continuations(
    unfinished: BTreeMap<usize, Unfinished>,
    states: &mut [MessageState],
    report: &mut InvocationReport,
    can_requeue: bool,
) -> Vec<Continuation> {
    let mut continuations = Vec::new();
    for unfinished in unfinished.into_values() {
        let state = &mut states[unfinished.message];
        match state.queue_arn.clone() {
            Some(queue_arn) if !state.failed() && unfinished.made_progress() && can_requeue => {
                continuations.push(Continuation {
                    unfinished,
                    queue_arn,
                });
            }
            _ => {
                report.objects_failed += 1;
                state.fail(Disposition::Retry, unfinished.why);
            }
        }
    }
    continuations
}

/// FIFO: order is preserved only if nothing after a failure is acknowledged.
pub(crate) fn apply_fifo_rule(states: &mut [MessageState]) {
    if let Some(first) = states.iter().position(MessageState::failed) {
        for state in states.iter_mut().skip(first + 1) {
            state.fail(
                Disposition::Retry,
                "FIFO queue: an earlier message of the batch failed".into(),
            );
        }
    }
}

/// The partial batch response (every failed message) and, per message, why
/// it failed.
pub(crate) fn respond(states: &[MessageState]) -> (SqsBatchResponse, Vec<Option<String>>) {
    let mut response = SqsBatchResponse::default();
    let mut failures = Vec::with_capacity(states.len());
    for state in states {
        match &state.failure {
            Some(Failure { disposition, why }) => {
                response.batch_item_failures.push(failure_item(&state.id));
                if *disposition != Disposition::Poison && *disposition != Disposition::Refused {
                    warn!(message_id = %state.id, disposition = disposition.as_str(), reason = %why, "message failed; SQS will deliver it again");
                }
                failures.push(Some(why.clone()));
            }
            None => failures.push(None),
        }
    }
    (response, failures)
}

fn failure_item(id: &str) -> BatchItemFailure {
    let mut item = BatchItemFailure::default();
    item.item_identifier = id.to_string();
    item
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUEUE: &str = "arn:aws:sqs:us-east-1:123456789012:logs";

    fn object(key: &str, skip_events: u64) -> ObjectRef {
        ObjectRef {
            bucket: "b".into(),
            key: key.into(),
            skip_events,
            ..ObjectRef::default()
        }
    }

    fn states(n: usize) -> Vec<MessageState> {
        (0..n)
            .map(|i| MessageState::new(format!("m{i}"), Some(QUEUE.into())))
            .collect()
    }

    fn dispositions(states: &[MessageState]) -> Vec<Option<Disposition>> {
        states
            .iter()
            .map(|s| s.failure.as_ref().map(|f| f.disposition))
            .collect()
    }

    type Pairs = &'static [(u64, u64)];
    /// (skip_events, resend asked, resume_at, resend left, message already
    /// failed, requeue, queue known, continued)
    type ContinuationCase = (u64, Pairs, u64, Pairs, bool, bool, bool, bool);
    /// (parsed, unfinished at, can continue, lost, resume at, resend,
    /// message failed)
    type LossCase = (bool, Option<u64>, bool, Pairs, Option<u64>, Pairs, bool);

    fn ranges(pairs: &[(u64, u64)]) -> OrdinalRanges {
        let mut set = OrdinalRanges::new();
        for &(from, to) in pairs {
            set.insert(from..to);
        }
        set
    }

    fn unfinished(message: usize, skip_events: u64, resume_at: u64) -> Unfinished {
        Unfinished {
            message,
            object: object("k", skip_events),
            resume_at,
            resend: OrdinalRanges::new(),
            why: "deadline".into(),
        }
    }

    /// Parsed objects end at event 20.
    const END: u64 = 20;

    fn settled(parsed: bool, unfinished_at: Option<u64>) -> SettledObjects {
        let mut settled = SettledObjects {
            by_slot: vec![Settled {
                message: 0,
                object: object("k", 0),
                parsed,
                end: if parsed { END } else { 0 },
            }],
            unfinished: BTreeMap::new(),
        };
        if let Some(resume_at) = unfinished_at {
            settled.unfinished.insert(0, unfinished(0, 0, resume_at));
        }
        settled
    }

    fn lost(slot: usize, lost: &[(u64, u64)]) -> SinkLosses {
        SinkLosses::PerObject {
            lost: BTreeMap::from([(slot, ranges(lost))]),
            why: "throttled".into(),
        }
    }

    #[test]
    fn fifo_fails_every_message_after_the_first_failure() {
        let mut s = states(4);
        s[1].fail(Disposition::Poison, "bad body".into());
        apply_fifo_rule(&mut s);
        assert_eq!(
            dispositions(&s),
            [
                None,
                Some(Disposition::Poison),
                Some(Disposition::Retry),
                Some(Disposition::Retry)
            ]
        );
        let mut all_ok = states(3);
        apply_fifo_rule(&mut all_ok);
        assert_eq!(dispositions(&all_ok), [None, None, None]);
    }

    #[test]
    fn continuation_or_retry() {
        const NONE: Pairs = &[];
        // (skip_events, resend asked, resume_at, resend left, message
        // already failed, requeue, queue known) -> continued
        let table: [ContinuationCase; 12] = [
            (0, NONE, 10, NONE, false, true, true, true),
            (5, NONE, 10, NONE, false, true, true, true),
            // Without progress a continuation would loop.
            (5, NONE, 5, NONE, false, true, true, false),
            (5, NONE, 3, NONE, false, true, true, false),
            // Resending: fewer events left to resend is progress...
            (5, &[(1, 3)], 5, &[(2, 3)], false, true, true, true),
            // ...the same, or more (ranges joined), is not...
            (5, &[(1, 3)], 5, &[(1, 3)], false, true, true, false),
            (5, &[(1, 3)], 5, &[(0, 4)], false, true, true, false),
            // ...unless it went on past where it was asked to.
            (5, &[(1, 3)], 9, &[(0, 4)], false, true, true, true),
            (5, &[(1, 3)], 9, &[(1, 3)], false, true, true, true),
            (0, NONE, 10, NONE, true, true, true, false),
            (0, NONE, 10, NONE, false, false, true, false),
            (0, NONE, 10, NONE, false, true, false, false),
        ];
        for (skip, asked, resume_at, left, failed, requeue, queue, continued) in table {
            let mut s = states(1);
            if failed {
                s[0].fail(Disposition::Poison, "earlier".into());
            }
            if !queue {
                s[0].queue_arn = None;
            }
            let mut report = InvocationReport::default();
            let mut item = unfinished(0, skip, resume_at);
            item.object.resend = ranges(asked);
            item.resend = ranges(left);
            let chosen =
                choose_continuations(BTreeMap::from([(0, item)]), &mut s, &mut report, requeue);
            let case = (skip, asked, resume_at, left, failed, requeue, queue);
            assert_eq!(chosen.len() == 1, continued, "{case:?}");
            assert_eq!(s[0].failed(), !continued || failed, "{case:?}");
            assert_eq!(report.objects_failed, usize::from(!continued), "{case:?}");
            if continued {
                assert_eq!(chosen[0].unfinished.resume_at, resume_at);
                assert_eq!(chosen[0].queue_arn, QUEUE);
            } else if !failed {
                assert_eq!(
                    s[0].failure.as_ref().map(|f| f.disposition),
                    Some(Disposition::Retry)
                );
            }
        }
    }

    #[test]
    fn sink_losses() {
        // (parsed, unfinished at, can continue, lost) -> (resume at, resend, message failed)
        let table: [LossCase; 9] = [
            // A continued object goes on where it stopped and resends only
            // what was lost...
            (false, Some(10), true, &[(4, 5)], Some(10), &[(4, 5)], false),
            (
                false,
                Some(10),
                true,
                &[(1, 2), (4, 6)],
                Some(10),
                &[(1, 2), (4, 6)],
                false,
            ),
            // ...or from the first lost event when the losses reach where
            // it stopped.
            (
                false,
                Some(10),
                true,
                &[(4, 5), (8, 10)],
                Some(8),
                &[(4, 5)],
                false,
            ),
            (false, Some(3), true, &[(8, 9)], Some(3), &[], false),
            // A finished object is continued to resend its lost events...
            (true, None, true, &[(6, 7)], Some(END), &[(6, 7)], false),
            (
                true,
                None,
                true,
                &[(6, 7), (15, END)],
                Some(15),
                &[(6, 7)],
                false,
            ),
            (true, None, true, &[(0, END)], Some(0), &[], false),
            // ...or its message retried when it cannot continue.
            (true, None, false, &[(6, 7)], None, &[], true),
            // An object that failed is not continued.
            (false, None, true, &[(6, 7)], None, &[], true),
        ];
        for (parsed, unfinished_at, can_continue, lost_ranges, resume_at, resend, failed) in table {
            let mut s = states(1);
            let mut objects = settled(parsed, unfinished_at);
            apply_sink_losses(&lost(0, lost_ranges), &mut objects, &mut s, can_continue);
            let case = (parsed, unfinished_at, can_continue, lost_ranges);
            let got = objects.unfinished.get(&0);
            assert_eq!(got.map(|u| u.resume_at), resume_at, "{case:?}");
            assert_eq!(
                got.map(|u| u.resend.clone()).unwrap_or_default(),
                ranges(resend),
                "{case:?}"
            );
            assert_eq!(s[0].failed(), failed, "{case:?}");
        }
    }

    #[test]
    fn a_continuation_whose_every_event_was_lost_is_retried_not_continued() {
        // Asked to resend 10..20 and go on from 100; it stopped at 150 with
        // the ranges sent, and Firehose accepted none of it.
        let asked = ObjectRef {
            resend: ranges(&[(10, 20)]),
            ..object("k", 100)
        };
        let mut objects = SettledObjects::default();
        objects.by_slot.push(Settled {
            message: 0,
            object: asked.clone(),
            parsed: false,
            end: 0,
        });
        let stopped = Unfinished {
            object: asked,
            resume_at: 150,
            ..unfinished(0, 100, 150)
        };
        objects.unfinished.insert(0, stopped);
        let mut s = states(1);
        let losses = lost(0, &[(10, 20), (100, 150)]);
        apply_sink_losses(&losses, &mut objects, &mut s, true);
        let left = &objects.unfinished[&0];
        assert_eq!((left.resume_at, &left.resend), (100, &ranges(&[(10, 20)])));
        let mut report = InvocationReport::default();
        let chosen = choose_continuations(objects.unfinished.clone(), &mut s, &mut report, true);
        assert!(chosen.is_empty());
        assert_eq!(
            s[0].failure.as_ref().map(|f| f.disposition),
            Some(Disposition::Retry)
        );

        // One event of the resent range accepted is progress.
        let mut s = states(1);
        let left = objects.unfinished.get_mut(&0).unwrap();
        left.resume_at = 150;
        left.resend = OrdinalRanges::new();
        left.add_losses(&ranges(&[(10, 19), (100, 150)]));
        let chosen = choose_continuations(objects.unfinished, &mut s, &mut report, true);
        assert_eq!(chosen.len(), 1);
        assert_eq!(chosen[0].unfinished.resend, ranges(&[(10, 19)]));
    }

    #[test]
    fn sink_loss_of_an_unknown_slot_changes_nothing() {
        let mut s = states(1);
        let mut objects = settled(true, None);
        apply_sink_losses(&lost(7, &[(0, 1)]), &mut objects, &mut s, true);
        assert!(objects.unfinished.is_empty());
        assert!(!s[0].failed());
    }

    #[test]
    fn sink_task_ended_abnormally_fails_every_message() {
        let mut s = states(3);
        let mut objects = settled(true, Some(5));
        let losses = SinkLosses::from_sink(Err("panicked".into()));
        apply_sink_losses(&losses, &mut objects, &mut s, true);
        assert_eq!(dispositions(&s), [Some(Disposition::Retry); 3]);
        let why = &s[2]
            .failure
            .as_ref()
            .map(|f| f.why.clone())
            .unwrap_or_default();
        assert!(
            why.contains("sink task ended abnormally: panicked"),
            "{why}"
        );
        // The unfinished object's message has failed: it is retried, not continued.
        let mut report = InvocationReport::default();
        let chosen = choose_continuations(objects.unfinished, &mut s, &mut report, true);
        assert!(chosen.is_empty());
        assert_eq!(report.objects_failed, 1);
    }

    #[test]
    fn poison_message_is_reported_failed_and_others_decode() {
        let good = r#"{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1","eventTime":"2026-01-01T00:00:00.000Z","eventName":"ObjectCreated:Put","s3":{"s3SchemaVersion":"1.0","configurationId":"c","bucket":{"name":"b","arn":"arn:aws:s3:::b"},"object":{"key":"logs%2Fa.gz","size":10,"eTag":"e"}}}]}"#;
        let message = |id: &str, body: &str| {
            let mut m = SqsMessage::default();
            m.message_id = Some(id.into());
            m.body = Some(body.into());
            m.event_source_arn = Some(QUEUE.into());
            m
        };
        let mut report = InvocationReport::default();
        let (s, work) = decode_messages(
            vec![message("a", "not json"), message("b", good)],
            &mut report,
        );
        assert_eq!(report.poison_messages, 1);
        assert_eq!(dispositions(&s), [Some(Disposition::Poison), None]);
        assert_eq!(work.len(), 1);
        assert_eq!(
            (work[0].message, work[0].object.key.as_str()),
            (1, "logs/a.gz")
        );
        let (response, failures) = respond(&s);
        let ids: Vec<_> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        assert_eq!(ids, ["a"]);
        assert!(failures[0].is_some() && failures[1].is_none());
    }

    #[test]
    fn settling_counts_results_and_fails_their_messages() {
        let run = |message, result| ObjectRun {
            message,
            object: object("k", 0),
            result,
        };
        let dropped = |n| DropCounts::from([(std::sync::Arc::from("rule"), n)]);
        let deadline = |resume_at, n| {
            let kind = ObjectErrorKind::Deadline {
                resume_at,
                resend: ranges(&[(0, 1)]),
                dropped: dropped(n),
            };
            ObjectError::new(&object("k", 0), kind)
        };
        let runs = vec![
            run(
                0,
                Ok(ObjectOutcome {
                    events: 3,
                    dropped: dropped(1),
                    ..ObjectOutcome::default()
                }),
            ),
            run(1, Err(deadline(Some(2), 4))),
            // Not continued: its drops are counted when it is read again.
            run(2, Err(deadline(None, 0))),
            run(
                3,
                Err(ObjectError::new(
                    &object("k", 0),
                    ObjectErrorKind::Source(Box::new(SourceError::NotFound {
                        bucket: "b".into(),
                        key: "k".into(),
                    })),
                )),
            ),
        ];
        let mut s = states(4);
        let mut report = InvocationReport::default();
        let settled = settle_objects(runs, &mut s, &mut report, true);
        assert_eq!(report.events, 3);
        // The finished object's drop and the continued one's.
        assert_eq!(report.events_dropped, 5);
        assert_eq!(report.dropped_by_filter.get("rule"), Some(&5));
        assert_eq!(report.objects_failed, 1);
        assert_eq!(report.objects_not_found, 1);
        assert_eq!(settled.unfinished.keys().copied().collect::<Vec<_>>(), [1]);
        // The ranges it did not reach are still to send.
        assert_eq!(settled.unfinished[&1].resend, ranges(&[(0, 1)]));
        assert_eq!(settled.by_slot[0].end, 3);
        assert_eq!(
            dispositions(&s),
            [None, None, Some(Disposition::Retry), None]
        );
        assert_eq!(
            settled.by_slot.iter().map(|o| o.parsed).collect::<Vec<_>>(),
            [true, false, false, false]
        );
    }
}
