//! A fast local stand-in for S3 (`GetObject`, path style, from files) and
//! Firehose (`PutRecordBatch`, accepting every record), on loopback, so that
//! the whole function path through the AWS SDK can be measured without the
//! server being the bottleneck (moto is far too slow for this).
//!
//! It runs in the benchmark's parent process, on threads of its own.

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

/// What the stand-in has served.
#[derive(Debug, Default)]
pub struct Served {
    pub gets: AtomicU64,
    pub puts: AtomicU64,
    pub records: AtomicU64,
}

pub struct StandIn {
    pub endpoint: String,
    pub served: Arc<Served>,
    _runtime: tokio::runtime::Runtime,
}

/// Starts the stand-in serving `<root>/<bucket>/<key>` files.
pub fn start(root: PathBuf) -> std::io::Result<StandIn> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("standin")
        .enable_all()
        .build()?;
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let endpoint = format!("http://{}", listener.local_addr()?);
    let served = Arc::new(Served::default());
    let root = Arc::new(root);
    {
        let served = served.clone();
        runtime.spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let served = served.clone();
                let root = root.clone();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| {
                        handle(req, root.clone(), served.clone())
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
    }
    Ok(StandIn {
        endpoint,
        served,
        _runtime: runtime,
    })
}

async fn handle(
    req: Request<Incoming>,
    root: Arc<PathBuf>,
    served: Arc<Served>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let target = req
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    if req.method() == hyper::Method::GET {
        let path = percent_encoding::percent_decode_str(req.uri().path().trim_start_matches('/'))
            .decode_utf8_lossy()
            .into_owned();
        if path.contains("..") {
            return Ok(status(400, "bad path"));
        }
        return Ok(match tokio::fs::read(root.join(&path)).await {
            Ok(data) => {
                served.gets.fetch_add(1, Ordering::Relaxed);
                Response::builder()
                    .header("content-type", "application/octet-stream")
                    .header("content-length", data.len())
                    .header("etag", "\"bench\"")
                    .header("last-modified", "Sun, 22 Nov 2026 00:05:00 GMT")
                    .body(Full::new(Bytes::from(data)))
                    .expect("a valid response")
            }
            Err(_) => Response::builder()
                .status(404)
                .header("content-type", "application/xml")
                .body(Full::new(Bytes::from_static(
                    b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>",
                )))
                .expect("a valid response"),
        });
    }
    if target.ends_with("PutRecordBatch") {
        let body = match req.into_body().collect().await {
            Ok(b) => b.to_bytes(),
            Err(_) => return Ok(status(400, "unreadable body")),
        };
        // Counting the records is all the stand-in must do to answer.
        let n = memchr::memmem::find_iter(&body, b"\"Data\"").count();
        served.puts.fetch_add(1, Ordering::Relaxed);
        served.records.fetch_add(n as u64, Ordering::Relaxed);
        let mut out = String::with_capacity(64 + n * 20);
        out.push_str("{\"FailedPutCount\":0,\"Encrypted\":false,\"RequestResponses\":[");
        for i in 0..n {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"RecordId\":\"r\"}");
        }
        out.push_str("]}");
        return Ok(Response::builder()
            .header("content-type", "application/x-amz-json-1.1")
            .body(Full::new(Bytes::from(out)))
            .expect("a valid response"));
    }
    Ok(status(
        400,
        "the stand-in serves GetObject and PutRecordBatch only",
    ))
}

fn status(code: u16, msg: &'static str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(code)
        .body(Full::new(Bytes::from_static(msg.as_bytes())))
        .expect("a valid response")
}
