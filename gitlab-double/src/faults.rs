//! Middleware of `/api`: request counting, latency, per-user rate limits (Rack::Attack style) and
//! injected server errors; and latency alone for `/oauth/token` and the registry (`/v2/`,
//! `/jwt/auth`), whose failures are a separate knob ([`crate::controls::RegistryState`]).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use time::OffsetDateTime;

use crate::auth::tokens::TokenLookup;
use crate::controls::RateDecision;
use crate::rest::presented_token;
use crate::state::Double;
use crate::sync::lock;

/// Who a request counts against: the token's user, else the client address.
fn rate_key(double: &Double, request: &Request) -> String {
    let token = presented_token(request.headers(), request.uri().query());
    if let Some(token) = token {
        let lookup = lock(&double.controls().tokens).lookup(&token, OffsetDateTime::now_utc());
        if let TokenLookup::Valid(record) = lookup {
            return format!("user:{}", record.user_id);
        }
    }
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "ip:unknown".to_owned(), |c| format!("ip:{}", c.0.ip()))
}

fn rate_headers(decision: &RateDecision, now: OffsetDateTime) -> HeaderMap {
    let mut h = HeaderMap::new();
    let mut put = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(HeaderName::from_static(name), v);
        }
    };
    put("ratelimit-name", "throttle_authenticated_api".to_owned());
    put("ratelimit-limit", decision.limit.to_string());
    put("ratelimit-observed", decision.observed.to_string());
    put(
        "ratelimit-remaining",
        decision.limit.saturating_sub(decision.observed).to_string(),
    );
    put("ratelimit-reset", decision.reset_at.to_string());
    let reset = OffsetDateTime::from_unix_timestamp(decision.reset_at).unwrap_or(now);
    put("ratelimit-resettime", crate::clock::http_date(reset));
    h
}

/// Applied to every `/api` route (REST and GraphQL).
pub(crate) async fn api_faults(
    State(double): State<Double>,
    request: Request,
    next: Next,
) -> Response {
    let controls = double.controls();
    controls.count_request();
    let delay = controls.delay();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let now = OffsetDateTime::now_utc();
    let key = rate_key(&double, &request);
    let decision = controls.rate_limit(&key, now);
    if let Some(d) = decision.filter(|d| !d.allowed) {
        let mut response = (StatusCode::TOO_MANY_REQUESTS, "Retry later\n").into_response();
        let headers = response.headers_mut();
        headers.extend(rate_headers(&d, now));
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        let retry_after = (d.reset_at - now.unix_timestamp()).max(1);
        if let Ok(v) = HeaderValue::from_str(&retry_after.to_string()) {
            headers.insert(RETRY_AFTER, v);
        }
        tracing::debug!(%key, "rate limited");
        return response;
    }
    let mut response = if controls.inject_failure() {
        tracing::debug!(path = %request.uri().path(), "injected 500");
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(serde_json::json!({ "message": "500 Internal Server Error" })),
        )
            .into_response()
    } else {
        next.run(request).await
    };
    if let Some(d) = decision {
        response.headers_mut().extend(rate_headers(&d, now));
    }
    response
}

/// Applied to `/oauth/token`, the registry's `/v2/` and `/jwt/auth`: only latency (no counted
/// requests, rate limits or injected errors: those belong to the API).
pub(crate) async fn latency_only(
    State(double): State<Double>,
    request: Request,
    next: Next,
) -> Response {
    let delay = double.controls().delay();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    next.run(request).await
}
