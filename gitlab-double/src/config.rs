//! Start-up configuration of the double.

use serde::{Deserialize, Serialize};
use std::time::Duration;

use crate::dataset::Dataset;

/// Everything the double needs to start. `DoubleConfig::default()` is the demo setup.
#[derive(Debug, Clone)]
pub struct DoubleConfig {
    /// The data served ([`Dataset::demo`] or [`Dataset::from_json_file`]).
    pub dataset: Dataset,
    /// Registered OAuth applications.
    pub clients: Vec<OAuthApp>,
    /// Lifetime of issued access tokens (GitLab: 7200 s).
    pub token_ttl: Duration,
    /// Delay added to every `/api` and `/oauth/token` request.
    pub latency: Duration,
    /// Extra uniform random delay `0..jitter` on top of `latency`.
    pub jitter: Duration,
    /// Share (0.0–1.0) of `/api` requests answered `500`, in a sequence fixed by `seed`.
    pub error_rate: f64,
    /// Requests per minute per user (or per client address when anonymous); `None` = unlimited.
    pub rate_limit_per_minute: Option<u32>,
    /// Whether GitLab's container registry metadata database is enabled.
    pub metadata_db: bool,
    /// Host (and port) of the registry, used in `location` fields.
    pub registry_host: String,
    /// How the registry answers `/v2/` at start (changeable at run time).
    pub registry: RegistryState,
    /// Seed of the fault-injection sequence.
    pub seed: u64,
}

impl Default for DoubleConfig {
    fn default() -> Self {
        Self {
            dataset: Dataset::demo(),
            clients: vec![OAuthApp::demo()],
            token_ttl: Duration::from_secs(7200),
            latency: Duration::ZERO,
            jitter: Duration::ZERO,
            error_rate: 0.0,
            rate_limit_per_minute: None,
            metadata_db: true,
            registry_host: "registry.gitlab.test:5050".to_owned(),
            registry: RegistryState::Up,
            seed: 0,
        }
    }
}

/// A registered OAuth application (GitLab: Admin → Applications).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthApp {
    /// Application ID (`client_id`).
    pub client_id: String,
    /// Secret; required at `/oauth/token` when `confidential`.
    pub client_secret: String,
    /// Callback URLs; `redirect_uri` must equal one of them exactly.
    pub redirect_uris: Vec<String>,
    /// Shown on the sign-in page.
    pub name: String,
    /// Confidential applications must authenticate with their secret.
    pub confidential: bool,
}

impl OAuthApp {
    /// The application registered by default: the dashboard running on port 3000.
    pub fn demo() -> OAuthApp {
        OAuthApp {
            client_id: "registry-dash-demo".to_owned(),
            client_secret: "registry-dash-demo-secret".to_owned(),
            redirect_uris: vec![
                "http://127.0.0.1:3000/auth/callback".to_owned(),
                "http://localhost:3000/auth/callback".to_owned(),
            ],
            name: "registry-dash (demo)".to_owned(),
            confidential: true,
        }
    }
}

/// How the container registry behind GitLab answers `/v2/` (see `Controls::set_registry`).
/// In JSON: `"up"`, `"down"`, `"wrong_realm"`, `"disabled"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegistryState {
    /// Working: `401` with a challenge whose realm is this GitLab's `/jwt/auth`, `200` with a
    /// registry token.
    #[default]
    Up,
    /// The registry process is down behind GitLab's nginx: `/v2/` answers `502 Bad Gateway`
    /// (nginx's HTML page). GitLab itself, `/jwt/auth` included, keeps working.
    Down,
    /// Misconfigured: the registry answers `401` but its realm points at another GitLab
    /// (`https://gitlab.other.test/jwt/auth`), whose key it trusts, so this GitLab's registry
    /// tokens are refused too.
    WrongRealm,
    /// No registry at all (`registry.enabled: false`): `/v2/` is `404`, and `/jwt/auth` answers
    /// `404 {"errors":[{"code":"UNAVAILABLE","message":"registry not enabled"}]}`.
    Disabled,
}
