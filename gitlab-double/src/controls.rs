//! Runtime knobs (latency, faults, rate limits, metadata database, token lifetime, the registry's
//! health) and the HTTP control endpoints end-to-end tests use to turn them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Deserializer, Serialize};
use time::OffsetDateTime;

use crate::auth::tokens::TokenStore;
use crate::config::{DoubleConfig, OAuthApp};
use crate::state::Double;
use crate::sync::{lock, read, write};

#[derive(Debug, Clone)]
struct Knobs {
    latency: Duration,
    jitter: Duration,
    error_rate: f64,
    rate_limit_per_minute: Option<u32>,
    metadata_db: bool,
    token_ttl: Duration,
    /// GraphQL knows `Project.maxAccessLevel` (GitLab 16.9 and later).
    max_access_level: bool,
    registry: RegistryState,
}

pub use crate::config::RegistryState;

/// Runtime knobs for tests, shared by every clone of a [`Double`].
#[derive(Debug)]
pub struct Controls {
    knobs: Mutex<Knobs>,
    request_count: AtomicU64,
    refresh_count: AtomicU64,
    fault_counter: AtomicU64,
    seed: u64,
    pub(crate) tokens: Mutex<TokenStore>,
    pub(crate) clients: RwLock<Vec<OAuthApp>>,
    /// rate-limit key → (minute window, requests seen in it)
    rate_windows: Mutex<HashMap<String, (i64, u32)>>,
}

/// The current knob values, as `GET /-/double/controls` returns them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ControlsSnapshot {
    /// Added delay in milliseconds.
    pub latency_ms: u64,
    /// Extra random delay bound in milliseconds.
    pub jitter_ms: u64,
    /// Share of `/api` requests answered 500.
    pub error_rate: f64,
    /// Requests per minute per user; `None` = unlimited.
    pub rate_limit_per_minute: Option<u32>,
    /// Whether the registry metadata database is on.
    pub metadata_db: bool,
    /// Lifetime of new access tokens in seconds.
    pub token_ttl_secs: u64,
    /// `/api` requests received so far.
    pub request_count: u64,
    /// How the registry answers `/v2/`.
    #[serde(default)]
    pub registry: RegistryState,
}

/// Outcome of the rate limiter for one request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RateDecision {
    pub limit: u32,
    pub observed: u32,
    pub reset_at: i64,
    pub allowed: bool,
}

impl Controls {
    pub(crate) fn new(config: &DoubleConfig) -> Controls {
        Controls {
            knobs: Mutex::new(Knobs {
                latency: config.latency,
                jitter: config.jitter,
                error_rate: config.error_rate.clamp(0.0, 1.0),
                rate_limit_per_minute: config.rate_limit_per_minute,
                metadata_db: config.metadata_db,
                token_ttl: config.token_ttl,
                max_access_level: true,
                registry: config.registry,
            }),
            request_count: AtomicU64::new(0),
            refresh_count: AtomicU64::new(0),
            fault_counter: AtomicU64::new(0),
            seed: config.seed,
            tokens: Mutex::new(TokenStore::default()),
            clients: RwLock::new(config.clients.clone()),
            rate_windows: Mutex::new(HashMap::new()),
        }
    }

    /// Sets the fixed delay and the bound of the random extra delay of `/api` and `/oauth/token`.
    pub fn set_latency(&self, latency: Duration, jitter: Duration) {
        let mut k = lock(&self.knobs);
        k.latency = latency;
        k.jitter = jitter;
    }

    /// Sets the share (clamped to 0.0–1.0) of `/api` requests answered `500`.
    pub fn set_error_rate(&self, rate: f64) {
        lock(&self.knobs).error_rate = if rate.is_nan() {
            0.0
        } else {
            rate.clamp(0.0, 1.0)
        };
    }

    /// Sets the per-user limit of requests per minute (`None` = unlimited).
    pub fn set_rate_limit(&self, per_minute: Option<u32>) {
        lock(&self.knobs).rate_limit_per_minute = per_minute;
        lock(&self.rate_windows).clear();
    }

    /// Turns GitLab's container registry metadata database on or off.
    pub fn set_metadata_db(&self, enabled: bool) {
        lock(&self.knobs).metadata_db = enabled;
    }

    /// Breaks (or repairs) the container registry: see [`RegistryState`].
    pub fn set_registry(&self, state: RegistryState) {
        lock(&self.knobs).registry = state;
    }

    /// How the registry answers now.
    pub fn registry(&self) -> RegistryState {
        lock(&self.knobs).registry
    }

    /// Answers GraphQL as GitLab before 16.9 did (`false`): without `Project.maxAccessLevel`.
    pub fn set_max_access_level_field(&self, known: bool) {
        lock(&self.knobs).max_access_level = known;
    }

    /// Whether GraphQL knows `Project.maxAccessLevel`.
    pub fn max_access_level_field(&self) -> bool {
        lock(&self.knobs).max_access_level
    }

    /// Sets the lifetime of access tokens issued from now on.
    pub fn set_token_ttl(&self, ttl: Duration) {
        lock(&self.knobs).token_ttl = ttl;
    }

    /// Expires every access token issued so far (refresh tokens keep working).
    pub fn expire_all_tokens(&self) {
        lock(&self.tokens).expire_all(OffsetDateTime::now_utc());
    }

    /// Every token pair issued so far, for tests that prove tokens never leak to a browser.
    /// (A fake GitLab may say this; a real one never would.)
    pub fn issued_tokens(&self) -> Vec<IssuedToken> {
        lock(&self.tokens)
            .all_pairs()
            .into_iter()
            .map(|(user_id, access_token, refresh_token)| IssuedToken {
                user_id,
                access_token,
                refresh_token,
            })
            .collect()
    }

    /// Number of `/api` requests (REST and GraphQL) received so far, including refused ones.
    pub fn request_count(&self) -> u64 {
        self.request_count.load(Ordering::Relaxed)
    }

    /// Refresh tokens presented to the token endpoint so far (redeemed or refused).
    pub fn refresh_count(&self) -> u64 {
        self.refresh_count.load(Ordering::Relaxed)
    }

    pub(crate) fn count_refresh(&self) {
        self.refresh_count.fetch_add(1, Ordering::Relaxed);
    }

    /// Adds a callback URL to a registered application; `false` if the client is unknown.
    pub fn register_redirect_uri(&self, client_id: &str, uri: &str) -> bool {
        let mut clients = write(&self.clients);
        match clients.iter_mut().find(|c| c.client_id == client_id) {
            Some(client) => {
                if !client.redirect_uris.iter().any(|u| u == uri) {
                    client.redirect_uris.push(uri.to_owned());
                }
                true
            }
            None => false,
        }
    }

    /// Registers (or replaces, by `client_id`) an OAuth application.
    pub fn register_client(&self, app: OAuthApp) {
        let mut clients = write(&self.clients);
        clients.retain(|c| c.client_id != app.client_id);
        clients.push(app);
    }

    /// Whether the metadata database is on.
    pub fn metadata_db(&self) -> bool {
        lock(&self.knobs).metadata_db
    }

    /// Current knob values.
    pub fn snapshot(&self) -> ControlsSnapshot {
        let k = lock(&self.knobs).clone();
        ControlsSnapshot {
            latency_ms: duration_ms(k.latency),
            jitter_ms: duration_ms(k.jitter),
            error_rate: k.error_rate,
            rate_limit_per_minute: k.rate_limit_per_minute,
            metadata_db: k.metadata_db,
            token_ttl_secs: k.token_ttl.as_secs(),
            request_count: self.request_count(),
            registry: k.registry,
        }
    }

    pub(crate) fn token_ttl(&self) -> Duration {
        lock(&self.knobs).token_ttl
    }

    pub(crate) fn client(&self, client_id: &str) -> Option<OAuthApp> {
        read(&self.clients)
            .iter()
            .find(|c| c.client_id == client_id)
            .cloned()
    }

    pub(crate) fn count_request(&self) {
        self.request_count.fetch_add(1, Ordering::Relaxed);
    }

    /// The delay to add to this request.
    pub(crate) fn delay(&self) -> Duration {
        let (latency, jitter) = {
            let k = lock(&self.knobs);
            (k.latency, k.jitter)
        };
        if jitter.is_zero() {
            return latency;
        }
        let extra = rand::Rng::gen_range(&mut rand::thread_rng(), 0..=jitter.as_micros());
        latency + Duration::from_micros(u64::try_from(extra).unwrap_or(u64::MAX))
    }

    /// Whether this request is one of the injected failures. The n-th API request fails or not
    /// depending only on the seed, n and the rate, so a run can be reproduced.
    pub(crate) fn inject_failure(&self) -> bool {
        let rate = lock(&self.knobs).error_rate;
        if rate <= 0.0 {
            return false;
        }
        let n = self.fault_counter.fetch_add(1, Ordering::Relaxed);
        let x = crate::dataset::prng::mix(self.seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        ((x >> 11) as f64 / (1u64 << 53) as f64) < rate
    }

    /// Counts a request against `key`'s current one-minute window.
    pub(crate) fn rate_limit(&self, key: &str, now: OffsetDateTime) -> Option<RateDecision> {
        let limit = lock(&self.knobs).rate_limit_per_minute?;
        let unix = now.unix_timestamp();
        let window = unix.div_euclid(60);
        let mut windows = lock(&self.rate_windows);
        let entry = windows.entry(key.to_owned()).or_insert((window, 0));
        if entry.0 != window {
            *entry = (window, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        Some(RateDecision {
            limit,
            observed: entry.1,
            reset_at: (window + 1) * 60,
            allowed: entry.1 <= limit,
        })
    }
}

fn duration_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// One issued token pair, as `GET /-/double/tokens` lists it.
#[derive(Clone, serde::Serialize)]
pub struct IssuedToken {
    pub user_id: u64,
    pub access_token: String,
    pub refresh_token: String,
}

/// Body of `POST /-/double/controls`: any subset of the knobs.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ControlsUpdate {
    latency_ms: Option<u64>,
    jitter_ms: Option<u64>,
    error_rate: Option<f64>,
    #[serde(default, deserialize_with = "present")]
    rate_limit_per_minute: Option<Option<u32>>,
    metadata_db: Option<bool>,
    token_ttl_secs: Option<u64>,
    registry: Option<RegistryState>,
}

/// Distinguishes an absent field (outer `None`) from an explicit `null` (`Some(None)`).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<u32>>, D::Error> {
    Option::<u32>::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RedirectUriBody {
    redirect_uri: String,
}

pub(crate) fn routes() -> Router<Double> {
    Router::new()
        .route("/-/double/health", get(|| async { "ok" }))
        .route("/-/double/controls", get(get_controls).post(post_controls))
        .route("/-/double/expire-tokens", post(expire_tokens))
        .route(
            "/-/double/tokens",
            get(|State(double): State<Double>| async move {
                Json(double.controls().issued_tokens())
            }),
        )
        .route(
            "/-/double/clients/{client_id}/redirect-uris",
            post(add_redirect_uri),
        )
}

async fn get_controls(State(double): State<Double>) -> Json<ControlsSnapshot> {
    Json(double.controls().snapshot())
}

fn bad_request(message: String) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(serde_json::json!({ "error": message })),
    )
        .into_response()
}

async fn post_controls(State(double): State<Double>, body: axum::body::Bytes) -> Response {
    let update: ControlsUpdate = if body.is_empty() {
        ControlsUpdate::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(u) => u,
            Err(e) => return bad_request(format!("invalid controls: {e}")),
        }
    };
    if let Some(rate) = update.error_rate {
        if !(0.0..=1.0).contains(&rate) {
            return bad_request("error_rate must be between 0.0 and 1.0".to_owned());
        }
    }
    let c = double.controls();
    if update.latency_ms.is_some() || update.jitter_ms.is_some() {
        let now = c.snapshot();
        c.set_latency(
            Duration::from_millis(update.latency_ms.unwrap_or(now.latency_ms)),
            Duration::from_millis(update.jitter_ms.unwrap_or(now.jitter_ms)),
        );
    }
    if let Some(rate) = update.error_rate {
        c.set_error_rate(rate);
    }
    if let Some(limit) = update.rate_limit_per_minute {
        c.set_rate_limit(limit);
    }
    if let Some(on) = update.metadata_db {
        c.set_metadata_db(on);
    }
    if let Some(ttl) = update.token_ttl_secs {
        c.set_token_ttl(Duration::from_secs(ttl));
    }
    if let Some(state) = update.registry {
        c.set_registry(state);
    }
    tracing::info!(controls = ?c.snapshot(), "controls updated");
    Json(c.snapshot()).into_response()
}

async fn expire_tokens(State(double): State<Double>) -> Json<serde_json::Value> {
    double.controls().expire_all_tokens();
    tracing::info!("all access tokens expired");
    Json(serde_json::json!({ "expired": true }))
}

async fn add_redirect_uri(
    State(double): State<Double>,
    Path(client_id): Path<String>,
    Json(body): Json<RedirectUriBody>,
) -> Response {
    if double
        .controls()
        .register_redirect_uri(&client_id, &body.redirect_uri)
    {
        Json(serde_json::json!({ "client_id": client_id, "redirect_uri": body.redirect_uri }))
            .into_response()
    } else {
        (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({ "error": "unknown client" })),
        )
            .into_response()
    }
}
