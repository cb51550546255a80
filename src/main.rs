//! Lambda entry point: logging, configuration, clients, and the runtime loop.
//! Given arguments, it is the command-line tool instead (`cli`). Nothing else:
//! the work is in the library.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{service_fn, LambdaEvent};
use s3_log_forwarder::batch::deadline_from_epoch_ms;
use s3_log_forwarder::credentials::S3Clients;
use s3_log_forwarder::requeue::SqsRequeue;
use s3_log_forwarder::sink::firehose::SdkFirehose;
use s3_log_forwarder::source::s3::S3Store;
use s3_log_forwarder::{metrics, telemetry, Config, Forwarder};

fn main() -> Result<(), lambda_runtime::Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.is_empty() {
        std::process::exit(s3_log_forwarder::cli::run(&args));
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(lambda())
}

async fn lambda() -> Result<(), lambda_runtime::Error> {
    telemetry::init(telemetry::json_logs());
    let config = Config::from_env().map_err(|e| {
        tracing::error!(error = %e, "invalid configuration");
        e
    })?;
    let aws = aws_config::load_from_env().await;
    let custom_s3_endpoint =
        aws.endpoint_url().is_some() || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some();
    let store = S3Store::new(S3Clients::new(&aws, custom_s3_endpoint));
    let firehose = SdkFirehose::new(&aws);
    let forwarder = Forwarder::new(config, store, firehose).with_requeue(SqsRequeue::new(&aws));
    let forwarder = &forwarder;
    let function_name = std::env::var("AWS_LAMBDA_FUNCTION_NAME")
        .unwrap_or_else(|_| "s3-log-forwarder".to_string());
    let function_name = &function_name;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        tracing::debug!(deadline_ms = event.context.deadline, "invocation deadline");
        let deadline = deadline_from_epoch_ms(event.context.deadline);
        let outcome = forwarder.handle(event.payload, deadline).await;
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        // One metrics document per invocation, on stdout (the log stream).
        println!(
            "{}",
            metrics::emf_document(&outcome.report, function_name, now_ms)
        );
        Ok::<SqsBatchResponse, lambda_runtime::Error>(outcome.response)
    }))
    .await
}
