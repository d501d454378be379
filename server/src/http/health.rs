//! `/healthz` (the process answers), `/readyz` (it can serve: site files present, session
//! store and Redis (when configured) answering, every GitLab instance reachable) and
//! `/metrics` (Prometheus).
//!
//! Readiness asks GitLab at most once per [`READY_TTL`] however often it is probed, and
//! concurrent probes wait for the same check. GitLab is "reachable" when its API answers at
//! all: `GET /api/v4/user` without a token is a 401, which is an answer; a 5xx, a timeout
//! or a refused connection is not.

use crate::metrics::gauge_value;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tower_sessions::session::Id;
use tower_sessions::SessionStore;

/// How long a readiness answer is reused.
pub const READY_TTL: Duration = Duration::from_secs(5);

/// The last readiness report, shared by concurrent probes.
#[derive(Default)]
pub struct Readiness {
    last: tokio::sync::Mutex<Option<(Instant, Report)>>,
}

/// What `/readyz` answers.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub ready: bool,
    pub site: String,
    pub sessions: String,
    /// `ok`, `not configured` (one process), or why Redis does not answer.
    pub redis: String,
    pub gitlab: BTreeMap<String, String>,
}

/// Liveness: the process runs and answers.
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// Readiness (see the module docs).
pub async fn readyz(State(state): State<AppState>) -> Response {
    let report = {
        let mut last = state.readiness.last.lock().await;
        match &*last {
            Some((at, report)) if at.elapsed() < READY_TTL => report.clone(),
            _ => {
                let report = check(&state).await;
                *last = Some((Instant::now(), report.clone()));
                report
            }
        }
    };
    let status = if report.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(report)).into_response()
}

async fn check(state: &AppState) -> Report {
    let bundle = state.site.wasm_file();
    let site = if bundle.is_file() {
        "ok".to_string()
    } else {
        format!("missing {}", bundle.display())
    };
    let sessions = match state.sessions.load(&Id::default()).await {
        Ok(_) => "ok".to_string(),
        Err(error) => format!("not answering: {error}"),
    };
    let redis = match &state.redis {
        None => "not configured".to_string(),
        Some(redis) => match redis.ping().await {
            Ok(()) => "ok".to_string(),
            Err(error) => format!("not answering: {error}"),
        },
    };
    let probes = state
        .services
        .gateway
        .instances
        .iter()
        .map(|instance| async move {
            let outcome = match instance.api.reachable().await {
                Ok(()) => "ok".to_string(),
                Err(error) => error.to_string(),
            };
            (instance.info.name.clone(), outcome)
        });
    let gitlab: BTreeMap<String, String> = futures::future::join_all(probes)
        .await
        .into_iter()
        .collect();
    let ready = site == "ok"
        && sessions == "ok"
        && matches!(redis.as_str(), "ok" | "not configured")
        && gitlab.values().all(|v| v == "ok");
    if !ready {
        tracing::warn!(%site, %sessions, %redis, ?gitlab, "not ready");
    }
    Report {
        ready,
        site,
        sessions,
        redis,
        gitlab,
    }
}

/// Prometheus text exposition; state gauges are read now.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let gateway = &state.services.gateway;
    let (indexes, bytes) = gateway.indexes.usage();
    state.metrics.tag_indexes.set(gauge_value(indexes));
    state.metrics.tag_index_bytes.set(gauge_value(bytes));
    state
        .metrics
        .cache_bytes
        .set(gauge_value(gateway.caches.weighted_size()));
    if let Some(sessions) = state.sessions.count().await {
        state.metrics.sessions.set(gauge_value(sessions));
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
        .into_response()
}
