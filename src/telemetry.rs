//! Logging set-up: JSON lines on Lambda (one object per line, for CloudWatch
//! Logs Insights), readable text elsewhere. The level comes from `RUST_LOG`
//! (default `info`); `LOG_FORMAT=json|text` overrides the choice.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. `json` selects the Lambda format.
pub fn init(json: bool) {
    init_with_writer(
        json,
        std::io::stderr,
        std::io::IsTerminal::is_terminal(&std::io::stderr()),
    );
}

/// Installs the global subscriber writing to `writer` (tests capture logs so).
pub fn init_with_writer<W>(json: bool, writer: W, ansi: bool)
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(ansi);
    // `try_init`: a second call (tests) keeps the first subscriber.
    let _ = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .without_time()
            .try_init()
    } else {
        builder.try_init()
    };
}

/// Whether logs should be JSON: `LOG_FORMAT=json|text` decides; otherwise
/// JSON inside Lambda (or its emulator), text elsewhere.
pub fn json_logs() -> bool {
    match std::env::var("LOG_FORMAT").ok().as_deref() {
        Some("json") => true,
        Some("text") => false,
        _ => {
            std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some()
                && std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some()
        }
    }
}
