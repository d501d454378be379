//! The outermost layer: a request id on every request (and every log line it causes), the
//! access log, HTTP metrics, and panics turned into a 500 that names the request id.
//!
//! The id is the client's `X-Request-Id` when it is a sane token (a proxy's), else a fresh
//! random one; it is returned in the response's `X-Request-Id`. Every log line written
//! while the request runs carries it through the `request` span.

use crate::state::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::FutureExt;
use rand::RngCore;
use std::panic::AssertUnwindSafe;
use std::time::Instant;
use tracing::Instrument;

/// The request's id, in its extensions.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

const HEADER: &str = "x-request-id";

fn request_id(request: &Request) -> String {
    request
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        })
        .map(str::to_string)
        .unwrap_or_else(|| {
            let mut bytes = [0u8; 8];
            rand::thread_rng().fill_bytes(&mut bytes);
            hex::encode(bytes)
        })
}

/// The route template for metrics: never the raw path (unbounded label values).
fn route(request: &Request) -> String {
    match request.extensions().get::<MatchedPath>() {
        Some(path) => path.as_str().to_string(),
        None if request.uri().path().starts_with("/pkg/") => "/pkg/{file}".into(),
        None => "other".into(),
    }
}

/// Request id, access log, metrics, panics.
pub async fn observe(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let id = request_id(&request);
    request.extensions_mut().insert(RequestId(id.clone()));
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let route = route(&request);
    let started = Instant::now();
    let span = tracing::info_span!("request", id = %id, method = %method, path = %path);
    let outcome = AssertUnwindSafe(next.run(request))
        .catch_unwind()
        .instrument(span.clone())
        .await;
    let mut response = match outcome {
        Ok(response) => response,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown".into());
            state.metrics.panics.inc();
            span.in_scope(|| tracing::error!(panic = %what, "handler panicked"));
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                format!(
                    "Something went wrong on our side. If it happens again, tell your \
                        administrator this request id: {id}\n"
                ),
            )
                .into_response()
        }
    };
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(HEADER, value);
    }
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    state
        .metrics
        .http_requests
        .get_or_create(&crate::metrics::HttpLabels {
            route: route.clone(),
            method: method.to_string(),
            status,
        })
        .inc();
    state
        .metrics
        .http_duration
        .get_or_create(&crate::metrics::RouteLabels { route })
        .observe(elapsed.as_secs_f64());
    span.in_scope(|| {
        tracing::info!(
            target: "access",
            status,
            ms = elapsed.as_millis() as u64,
            "{method} {path} {status}"
        )
    });
    response
}
