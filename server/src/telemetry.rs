//! Logging: human-readable lines or one JSON object per line (`log_format`), filtered by
//! `RUST_LOG` (default `info`). Every line written while a request runs carries the
//! request's id through the `request` span; `target: "access"` lines are the access log
//! and `target: "audit"` lines the audit trail of destructive actions.

use crate::config::LogFormat;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber (once; later calls do nothing).
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,tower_sessions=warn,hyper_util=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            // Every enclosing span, so a line deep inside a request still carries its id.
            .with_current_span(false)
            .with_span_list(true)
            .flatten_event(true)
            .try_init(),
    };
}
