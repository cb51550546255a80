//! The deadline with work in flight. moto cannot make a body stall, so these
//! tests use an in-memory object store whose bodies stall or trickle (the
//! hand-written fake DESIGN.md allows for faults moto cannot produce) and an
//! in-memory Firehose; everything between them is the function's real code.

mod common;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use common::{config, failed_ids, s3_notification, sqs_event};
use s3_log_forwarder::config::ReadTarget;
use s3_log_forwarder::envelope::ObjectRef;
use s3_log_forwarder::sink::{Firehose, PutError};
use s3_log_forwarder::source::{ObjectStore, OpenedObject, SourceError};
use s3_log_forwarder::Forwarder;
use tokio::io::AsyncWriteExt;
use tokio::time::Instant;

/// Bodies by key: `Ok(bytes)` is served at once; `Err(())` stalls forever
/// after a first line.
struct Store(HashMap<String, Result<Vec<u8>, ()>>);

impl ObjectStore for Store {
    async fn open(
        &self,
        obj: &ObjectRef,
        _target: &ReadTarget,
    ) -> Result<OpenedObject, SourceError> {
        let body: Box<dyn tokio::io::AsyncRead + Send + Unpin> = match self.0.get(&obj.key) {
            Some(Ok(bytes)) => Box::new(std::io::Cursor::new(bytes.clone())),
            Some(Err(())) => {
                let (mut writer, reader) = tokio::io::duplex(1024);
                tokio::spawn(async move {
                    let _ = writer.write_all(b"first line arrives\n").await;
                    // Keep the writer open, never write again: a stalled body.
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    drop(writer);
                });
                Box::new(reader)
            }
            None => {
                return Err(SourceError::NotFound {
                    bucket: obj.bucket.clone(),
                    key: obj.key.clone(),
                })
            }
        };
        Ok(OpenedObject {
            body,
            etag: Some("etag".into()),
            version_id: None,
            content_length: None,
        })
    }
}

#[derive(Default)]
struct Sink(Mutex<Vec<Bytes>>);

impl Firehose for Sink {
    async fn put_record_batch(&self, records: Vec<Bytes>) -> Result<Vec<Option<String>>, PutError> {
        let n = records.len();
        self.0.lock().unwrap().extend(records);
        Ok(vec![None; n])
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_object_is_abandoned_before_the_deadline_and_its_message_retried() {
    let store = Store(HashMap::from([
        ("fast.log".to_string(), Ok(b"one\ntwo\n".to_vec())),
        ("stalled.log".to_string(), Err(())),
    ]));
    let cfg = config(&[
        ("DELIVERY_STREAM_NAME", "logs"),
        ("DEADLINE_MARGIN_MS", "1000"),
    ]);
    let fwd = Forwarder::new(cfg, store, Sink::default());
    let event = sqs_event(&[
        s3_notification(&[("b", "fast.log")]),
        s3_notification(&[("b", "stalled.log")]),
    ]);

    let deadline = Instant::now() + Duration::from_secs(3);
    let out = fwd.handle(event, deadline).await;
    let finished = Instant::now();

    assert!(
        finished < deadline,
        "answered {:?} after the deadline",
        finished - deadline
    );
    assert_eq!(failed_ids(&out), vec!["msg-1"]);
    assert!(
        out.failures[1].as_deref().unwrap().contains("deadline"),
        "{:?}",
        out.failures
    );
    // The fast object's two events were sent. The stalled one's first line
    // was still in its parser's unsent chunk when reading stopped; its message
    // is retried as a whole (and would re-emit any sent event with the same id).
    assert_eq!(out.report.records_sent, 2);
}
