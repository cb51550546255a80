//! A fault-injecting HTTP proxy in front of moto, for the faults moto cannot
//! produce: S3 throttling (503 SlowDown), 500s, a connection reset in the
//! middle of a body, a body that stalls; Firehose partial failures
//! (`FailedPutCount` with per-record `ErrorCode`), throttling, 500s and slow
//! answers; STS `AssumeRole` throttling and 500s.
//!
//! Everything that is not faulted is forwarded to moto unchanged, so the
//! function's real code talks to a real (local) AWS through it. Faults are
//! either scripted (`push`: the next matching request gets it) or random at a
//! set rate, from a seeded generator.

#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};

type Body = BoxBody<Bytes, std::io::Error>;

/// A fault, by the service it applies to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fault {
    /// S3 GetObject answers 503 SlowDown.
    S3SlowDown,
    /// S3 GetObject answers 500 InternalError.
    S3InternalError,
    /// S3 GetObject sends half the body, then the connection is reset.
    S3ResetMidBody,
    /// S3 GetObject sends half the body, then nothing for this long.
    S3Stall(Duration),
    /// Firehose accepts the call but rejects this share of its records.
    FirehosePartial(f64),
    /// Firehose answers ServiceUnavailableException.
    FirehoseThrottle,
    /// Firehose answers 500.
    FirehoseInternalError,
    /// Firehose answers correctly, after this long.
    FirehoseSlow(Duration),
    /// STS AssumeRole answers Throttling.
    StsThrottle,
    /// STS AssumeRole answers 500.
    StsInternalError,
    /// STS AssumeRole answers normally, but the credentials expire this
    /// soon (`Expiration` rewritten).
    StsShortLived(Duration),
}

impl Fault {
    fn service(&self) -> Service {
        match self {
            Fault::S3SlowDown
            | Fault::S3InternalError
            | Fault::S3ResetMidBody
            | Fault::S3Stall(_) => Service::S3Get,
            Fault::FirehosePartial(_)
            | Fault::FirehoseThrottle
            | Fault::FirehoseInternalError
            | Fault::FirehoseSlow(_) => Service::Firehose,
            Fault::StsThrottle | Fault::StsInternalError | Fault::StsShortLived(_) => Service::Sts,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Fault::S3SlowDown => "s3 503 SlowDown",
            Fault::S3InternalError => "s3 500",
            Fault::S3ResetMidBody => "s3 reset mid-body",
            Fault::S3Stall(_) => "s3 stalled body",
            Fault::FirehosePartial(_) => "firehose partial FailedPutCount",
            Fault::FirehoseThrottle => "firehose ServiceUnavailableException",
            Fault::FirehoseInternalError => "firehose 500",
            Fault::FirehoseSlow(_) => "firehose slow answer",
            Fault::StsThrottle => "sts Throttling",
            Fault::StsInternalError => "sts 500",
            Fault::StsShortLived(_) => "sts credentials expiring at once",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Service {
    S3Get,
    Firehose,
    Sts,
    Other,
}

/// What the proxy does.
pub struct Plan {
    /// Faults for the next matching requests, in order.
    pub scripted: VecDeque<Fault>,
    /// Probability that a request of a service gets one of `random`'s faults for it.
    pub rate: f64,
    pub random: Vec<Fault>,
    rng: fastrand::Rng,
    /// Faults injected so far, by name.
    pub injected: BTreeMap<&'static str, u64>,
    /// Requests seen, by service.
    pub requests: BTreeMap<&'static str, u64>,
}

impl Plan {
    fn pick(&mut self, service: Service) -> Option<Fault> {
        let name = match service {
            Service::S3Get => "s3 GetObject",
            Service::Firehose => "firehose",
            Service::Sts => "sts",
            Service::Other => "other",
        };
        *self.requests.entry(name).or_default() += 1;
        if service == Service::Other {
            return None;
        }
        let fault = if let Some(i) = self.scripted.iter().position(|f| f.service() == service) {
            self.scripted.remove(i)
        } else {
            let candidates: Vec<Fault> = self
                .random
                .iter()
                .copied()
                .filter(|f| f.service() == service)
                .collect();
            if !candidates.is_empty() && self.rng.f64() < self.rate {
                Some(candidates[self.rng.usize(..candidates.len())])
            } else {
                None
            }
        };
        if let Some(f) = fault {
            *self.injected.entry(f.name()).or_default() += 1;
        }
        fault
    }
}

/// The proxy: listens on 127.0.0.1, forwards to moto.
pub struct FaultProxy {
    pub port: u16,
    pub plan: Arc<Mutex<Plan>>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    pub async fn start(upstream_port: u16, seed: u64) -> FaultProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let plan = Arc::new(Mutex::new(Plan {
            scripted: VecDeque::new(),
            rate: 0.0,
            random: Vec::new(),
            rng: fastrand::Rng::with_seed(seed),
            injected: BTreeMap::new(),
            requests: BTreeMap::new(),
        }));
        let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
        let state = Arc::new(State {
            plan: plan.clone(),
            client,
            upstream: format!("http://127.0.0.1:{upstream_port}"),
        });
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let state = state.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let state = state.clone();
                        async move { Ok::<_, Infallible>(state.handle(req).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        FaultProxy { port, plan, task }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The next request of the fault's service gets it.
    pub fn push(&self, fault: Fault) {
        self.plan.lock().unwrap().scripted.push_back(fault);
    }

    /// Each request gets one of `faults` (of its service) with probability `rate`.
    pub fn random(&self, rate: f64, faults: &[Fault]) {
        let mut p = self.plan.lock().unwrap();
        p.rate = rate;
        p.random = faults.to_vec();
    }

    pub fn injected(&self) -> BTreeMap<&'static str, u64> {
        self.plan.lock().unwrap().injected.clone()
    }

    pub fn requests(&self) -> BTreeMap<&'static str, u64> {
        self.plan.lock().unwrap().requests.clone()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct State {
    plan: Arc<Mutex<Plan>>,
    client: Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>,
    upstream: String,
}

fn full(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Full::new(body.into()).map_err(|e| match e {}).boxed())
        .expect("response")
}

impl State {
    async fn handle(&self, req: Request<Incoming>) -> Response<Body> {
        let (parts, body) = req.into_parts();
        let body = match body.collect().await {
            Ok(b) => b.to_bytes(),
            Err(e) => return full(StatusCode::BAD_GATEWAY, "text/plain", e.to_string()),
        };
        let target = parts
            .headers
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let path_segments = parts
            .uri
            .path()
            .trim_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
            .count();
        let service = if target.starts_with("Firehose_20150804.PutRecordBatch") {
            Service::Firehose
        } else if memchr::memmem::find(&body, b"Action=AssumeRole").is_some() {
            Service::Sts
        } else if parts.method == hyper::Method::GET && path_segments >= 2 && target.is_empty() {
            Service::S3Get
        } else {
            Service::Other
        };
        let fault = self.plan.lock().unwrap().pick(service);
        if std::env::var_os("FAULT_PROXY_DEBUG").is_some() {
            eprintln!(
                "proxy: {} {} {:?} -> {:?}",
                parts.method, parts.uri, service, fault
            );
        }

        match fault {
            Some(Fault::S3SlowDown) => {
                return full(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "application/xml",
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>",
                )
            }
            Some(Fault::S3InternalError) => {
                return full(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "application/xml",
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>",
                )
            }
            Some(Fault::FirehoseThrottle) => {
                return full(
                    StatusCode::BAD_REQUEST,
                    "application/x-amz-json-1.1",
                    r#"{"__type":"ServiceUnavailableException","message":"Slow down."}"#,
                )
            }
            Some(Fault::FirehoseInternalError) => {
                return full(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "application/x-amz-json-1.1",
                    r#"{"__type":"InternalFailure","message":"internal error"}"#,
                )
            }
            Some(Fault::StsThrottle) => {
                return full(
                    StatusCode::BAD_REQUEST,
                    "text/xml",
                    "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>r</RequestId></ErrorResponse>",
                )
            }
            Some(Fault::StsInternalError) => {
                return full(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "text/xml",
                    "<ErrorResponse><Error><Type>Receiver</Type><Code>InternalFailure</Code><Message>internal</Message></Error><RequestId>r</RequestId></ErrorResponse>",
                )
            }
            Some(Fault::FirehoseSlow(d)) => tokio::time::sleep(d).await,
            _ => {}
        }

        // Firehose partial failure: forward only the records that "succeed",
        // then answer for all of them.
        let mut rejected: Vec<bool> = Vec::new();
        let mut body = body;
        if let Some(Fault::FirehosePartial(share)) = fault {
            if let Ok(mut request) = serde_json::from_slice::<serde_json::Value>(&body) {
                let records = request["Records"].as_array().cloned().unwrap_or_default();
                let mut rng = fastrand::Rng::with_seed(records.len() as u64 ^ 0x5eed);
                rejected = records.iter().map(|_| rng.f64() < share).collect();
                if rejected.iter().all(|r| *r) && !rejected.is_empty() {
                    rejected[0] = false;
                }
                let kept: Vec<serde_json::Value> = records
                    .into_iter()
                    .zip(&rejected)
                    .filter(|(_, r)| !**r)
                    .map(|(rec, _)| rec)
                    .collect();
                request["Records"] = serde_json::Value::Array(kept);
                body = Bytes::from(serde_json::to_vec(&request).expect("JSON"));
            }
        }

        let uri = format!(
            "{}{}",
            self.upstream,
            parts
                .uri
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/")
        );
        let mut forward = Request::builder().method(parts.method.clone()).uri(uri);
        for (name, value) in parts.headers.iter() {
            if name != "content-length" {
                forward = forward.header(name, value);
            }
        }
        let forward = forward
            .header("content-length", body.len())
            .body(Full::new(body))
            .expect("forward request");
        let upstream = match self.client.request(forward).await {
            Ok(r) => r,
            Err(e) => return full(StatusCode::BAD_GATEWAY, "text/plain", e.to_string()),
        };
        let (mut head, upstream_body) = upstream.into_parts();
        let bytes = match upstream_body.collect().await {
            Ok(b) => b.to_bytes(),
            Err(e) => return full(StatusCode::BAD_GATEWAY, "text/plain", e.to_string()),
        };

        if !rejected.is_empty() && head.status.is_success() {
            let answer: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
            let mut accepted = answer["RequestResponses"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter();
            let mut failed = 0;
            let responses: Vec<serde_json::Value> = rejected
                .iter()
                .map(|r| {
                    if *r {
                        failed += 1;
                        serde_json::json!({"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "Slow down."})
                    } else {
                        accepted.next().unwrap_or_else(|| serde_json::json!({"RecordId": "x"}))
                    }
                })
                .collect();
            let merged = serde_json::json!({"FailedPutCount": failed, "Encrypted": false, "RequestResponses": responses});
            let text = serde_json::to_vec(&merged).expect("JSON");
            head.headers.insert(
                "content-length",
                hyper::header::HeaderValue::from(text.len()),
            );
            let mut resp = full(head.status, "application/x-amz-json-1.1", text);
            *resp.headers_mut() = head.headers;
            return resp;
        }

        if let Some(Fault::StsShortLived(d)) = fault {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            if let (Some(a), Some(b)) = (text.find("<Expiration>"), text.find("</Expiration>")) {
                let at = time::OffsetDateTime::now_utc() + d;
                let stamp = at
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default();
                let rewritten = format!("{}<Expiration>{stamp}{}", &text[..a], &text[b..]);
                head.headers.insert(
                    "content-length",
                    hyper::header::HeaderValue::from(rewritten.len()),
                );
                return Response::from_parts(
                    head,
                    Full::new(Bytes::from(rewritten))
                        .map_err(|e| match e {})
                        .boxed(),
                );
            }
        }

        match fault {
            Some(Fault::S3ResetMidBody) | Some(Fault::S3Stall(_)) => {
                let half = bytes.slice(..bytes.len() / 2);
                let stall = match fault {
                    Some(Fault::S3Stall(d)) => Some(d),
                    _ => None,
                };
                let stream = futures::stream::unfold(0u8, move |step| {
                    let half = half.clone();
                    async move {
                        match step {
                            0 => Some((Ok(Frame::data(half)), 1)),
                            1 => {
                                // Let the response reach the reader first, so that
                                // the reset comes mid-stream (not retried by the SDK).
                                tokio::time::sleep(stall.unwrap_or(Duration::from_millis(200)))
                                    .await;
                                Some((
                                    Err(std::io::Error::new(
                                        std::io::ErrorKind::ConnectionReset,
                                        "injected reset",
                                    )),
                                    2,
                                ))
                            }
                            _ => None,
                        }
                    }
                });
                let mut resp = Response::from_parts(head, StreamBody::new(stream).boxed());
                *resp.status_mut() = StatusCode::OK;
                resp
            }
            _ => Response::from_parts(head, Full::new(bytes).map_err(|e| match e {}).boxed()),
        }
    }
}

/// Base64 of the records a Firehose request carried (for debugging).
pub fn decode_records(body: &[u8]) -> Vec<Vec<u8>> {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    v["Records"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["Data"].as_str())
        .filter_map(|d| base64::engine::general_purpose::STANDARD.decode(d).ok())
        .collect()
}
