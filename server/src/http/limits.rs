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
            "That took too long to answer. Try again in a moment; anything it had started still \
                finishes.\n",
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

/// Whether a request builds a cleanup overview: every tag of every repository of a project,
/// kept until the answer is sent.
fn is_policy_page(path: &str) -> bool {
    (path.starts_with("/i/") && (path.contains("/cleanup/") || path.contains("/storage/")))
        || path == "/api/fn/cleanup_overview"
        || path == "/api/fn/cleanup_storage"
        || path == "/api/fn/project_storage"
        || (path.starts_with("/api/v1/")
            && (path.ends_with("/cleanup-policy")
                || path.ends_with("/cleanup-preview")
                || (path.contains("/projects/") && path.ends_with("/storage"))))
}

/// At most `limits.policy_pages_in_flight` policy pages are built and sent at once: each
/// waits for a turn (within the request timeout), and its answer is complete before the
/// turn passes on, so their memory is bounded whatever the number of connections.
pub async fn policy_pages(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if !is_policy_page(request.uri().path()) {
        return next.run(request).await;
    }
    let Ok(_turn) = state.policy_pages.clone().acquire_owned().await else {
        return next.run(request).await;
    };
    let (parts, body) = next.run(request).await.into_parts();
    match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => Response::from_parts(parts, axum::body::Body::from(bytes)),
        Err(error) => {
            tracing::warn!(%error, "a policy page could not be rendered");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_policy_page;

    #[test]
    fn policy_pages_are_recognised_in_every_transport() {
        assert!(is_policy_page("/i/demo/cleanup/acme%2Fweb"));
        assert!(is_policy_page("/api/fn/cleanup_overview"));
        assert!(is_policy_page(
            "/api/v1/demo/projects/acme%2Fweb/cleanup-preview"
        ));
        assert!(is_policy_page(
            "/api/v1/demo/projects/acme%2Fweb/cleanup-policy"
        ));
        // A project's storage builds the same overview.
        assert!(is_policy_page("/i/demo/storage/acme/web"));
        assert!(is_policy_page("/api/fn/project_storage"));
        assert!(is_policy_page("/api/v1/demo/projects/acme%2Fweb/storage"));
        assert!(!is_policy_page("/i/demo/repositories/3"));
        assert!(!is_policy_page("/api/v1/demo/repositories/3/tags"));
        assert!(!is_policy_page("/api/v1/demo/repositories/3/storage"));
    }
}
