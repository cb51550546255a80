//! Running the objects of an invocation: the sink task, the deadline alarm,
//! and the objects processed either concurrently (standard queue) or one at
//! a time in message order (FIFO).
//!
//! It decides nothing about messages: every object's result is returned as
//! an `ObjectRun` for the deciding phases in `decide.rs`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::decide::{MessageState, ObjectRun, ObjectWork};
use super::Forwarder;
use crate::process::{process_object, ObjectError, ObjectErrorKind, ObjectOutcome, ObjectSettings};
use crate::sink::batcher::{self, Chunk, SinkOptions, SinkReport};
use crate::sink::Firehose;
use crate::source::ObjectStore;

/// Chunks waiting for the sink; bounds memory between parsers and sink.
const SINK_CHANNEL_CHUNKS: usize = 16;

/// What running the objects produced: each object's result, in work order,
/// and the sink's report (`Err` says why the sink task ended abnormally).
pub(crate) struct RunResults {
    pub runs: Vec<ObjectRun>,
    pub sink: Result<SinkReport, String>,
}

impl<S: ObjectStore, F: Firehose> Forwarder<S, F> {
    /// Processes every object, sends their records through one sink, and
    /// waits for the sink to finish. Objects stop at `soft_deadline`; the
    /// sink gives up at `sink_deadline`.
    pub(crate) async fn run_objects(
        &self,
        work: Vec<ObjectWork>,
        states: &[MessageState],
        settings: &Arc<ObjectSettings>,
        fifo: bool,
        sink_deadline: Instant,
    ) -> RunResults {
        let cancel = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::channel::<Chunk>(SINK_CHANNEL_CHUNKS);
        let sink = tokio::spawn(batcher::run(
            self.firehose.clone(),
            rx,
            SinkOptions::for_routes(
                self.config.firehose_max_attempts,
                sink_deadline,
                &self.config.routes,
                &self.paces,
            ),
        ));
        let alarm = {
            let cancel = cancel.clone();
            let soft_deadline = settings.deadline;
            tokio::spawn(async move {
                tokio::time::sleep_until(soft_deadline).await;
                cancel.store(true, Ordering::Relaxed);
            })
        };
        let runs = if fifo {
            self.run_in_order(work, states, settings, &tx, &cancel)
                .await
        } else {
            self.run_concurrently(work, settings, &tx, &cancel).await
        };
        drop(tx);
        let sink = sink.await.map_err(|e| e.to_string());
        alarm.abort();
        RunResults { runs, sink }
    }

    /// Every object at once, bounded by `MAX_CONCURRENCY`.
    async fn run_concurrently(
        &self,
        work: Vec<ObjectWork>,
        settings: &Arc<ObjectSettings>,
        tx: &mpsc::Sender<Chunk>,
        cancel: &Arc<AtomicBool>,
    ) -> Vec<ObjectRun> {
        let permits = Arc::new(Semaphore::new(self.config.max_concurrency));
        let mut tasks = JoinSet::new();
        for (slot, item) in work.iter().cloned().enumerate() {
            let permits = permits.clone();
            let store = self.store.clone();
            let settings = settings.clone();
            let tx = tx.clone();
            let cancel = cancel.clone();
            tasks.spawn(async move {
                let ObjectWork { message, object } = item;
                let result = match permits.acquire_owned().await {
                    Ok(_permit) if !cancel.load(Ordering::Relaxed) => {
                        process_object(
                            store.as_ref(),
                            &object,
                            message,
                            slot,
                            &settings,
                            tx,
                            cancel,
                        )
                        .await
                    }
                    _ => Err(ObjectError::new(&object, ObjectErrorKind::NotStarted)),
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
            .map(|(ObjectWork { message, object }, result)| {
                let result = result.unwrap_or_else(|| {
                    Err(ObjectError::new(
                        &object,
                        ObjectErrorKind::Internal("object task ended abnormally".into()),
                    ))
                });
                ObjectRun {
                    message,
                    object,
                    result,
                }
            })
            .collect()
    }

    /// FIFO: one object at a time in message order; after the first failed
    /// message nothing more is started (it would be reported failed anyway).
    async fn run_in_order(
        &self,
        work: Vec<ObjectWork>,
        states: &[MessageState],
        settings: &Arc<ObjectSettings>,
        tx: &mpsc::Sender<Chunk>,
        cancel: &Arc<AtomicBool>,
    ) -> Vec<ObjectRun> {
        let mut failed_at: Option<usize> = states.iter().position(MessageState::failed);
        let mut runs = Vec::with_capacity(work.len());
        for (slot, ObjectWork { message, object }) in work.into_iter().enumerate() {
            let blocked = failed_at.is_some_and(|f| f <= message) || cancel.load(Ordering::Relaxed);
            let result = if blocked {
                Err(ObjectError::new(&object, ObjectErrorKind::NotStarted))
            } else {
                process_object(
                    self.store.as_ref(),
                    &object,
                    message,
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
                failed_at = Some(failed_at.map_or(message, |f| f.min(message)));
            }
            runs.push(ObjectRun {
                message,
                object,
                result,
            });
        }
        runs
    }
}
