//! What a request may cost before it is refused: a bound on requests in flight (beyond it,
//! 503 with `Retry-After` at once: load is shed, nothing queues and no socket hangs), a
//! timeout per request (503 as well; destructive work the request started still runs to
//! its end, see `services::Gateway::to_the_end`), and a body size limit (413).
//!
//! Slow clients are bounded by the connection layer (`http::serve`): headers must arrive
//! within the header-read timeout.

use crate::config::Limits;
use crate::state::AppState;
use axum::error_handling::HandleErrorLayer;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::BoxError;
use axum::Router;
use std::time::Duration;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower::ServiceBuilder;

/// Wraps `router` in the limits.
pub fn apply(router: Router, limits: &Limits, state: &AppState) -> Router {
    let metrics = state.metrics.clone();
    let timeout = Duration::from_secs(limits.request_timeout_secs);
    router
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            limits.max_body_kib * 1024,
        ))
        .layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(move |error: BoxError| {
                    let metrics = metrics.clone();
                    async move { overloaded(error, &metrics) }
                }))
                .load_shed()
                // One count for the whole server: the router applies layers per route, and
                // a plain concurrency limit would count each route apart.
                .layer(GlobalConcurrencyLimitLayer::new(limits.max_in_flight))
                .timeout(timeout),
        )
}

fn overloaded(error: BoxError, metrics: &crate::metrics::Metrics) -> Response {
    let (retry, message) = if error.is::<tower::load_shed::error::Overloaded>() {
        metrics.http_shed.inc();
        (
            1,
            "The dashboard is busy right now. Try again in a moment.\n",
        )
    } else if error.is::<tower::timeout::error::Elapsed>() {
        tracing::warn!("request timed out");
        (
            5,
            "That took too long to answer. Try again in a moment; anything it had started still finishes.\n",
        )
    } else {
        tracing::error!(%error, "request failed in the limits layer");
        (
            5,
            "The dashboard could not answer. Try again in a moment.\n",
        )
    };
    unavailable(retry, message)
}

/// A 503 saying when to try again, in words.
pub fn unavailable(retry_after_secs: u64, message: &'static str) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [
            (header::RETRY_AFTER, retry_after_secs.to_string()),
            (
                header::CONTENT_TYPE,
                "text/plain; charset=utf-8".to_string(),
            ),
        ],
        message,
    )
        .into_response()
}
