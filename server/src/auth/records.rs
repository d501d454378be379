//! What the server-side session holds. Tokens never leave the server: these records are
//! stored by tower-sessions in the session store; the browser holds only the session id.

use domain::Viewer;
use serde::{Deserialize, Serialize};

/// Session key of an instance's sign-in.
pub fn auth_key(instance: &str) -> String {
    format!("auth.{instance}")
}

/// Session key of the sign-ins in progress.
pub const PENDING_KEY: &str = "pending_logins";

/// At most this many sign-ins in progress per session (several tabs), oldest dropped first.
pub const MAX_PENDING: usize = 5;

/// A sign-in in progress expires after this many seconds.
pub const PENDING_TTL_SECS: i64 = 600;

/// The user's GitLab tokens for one instance.
#[derive(Clone, Serialize, Deserialize)]
pub struct AuthRecord {
    /// Random, stable for the life of the sign-in: keys the single-flight refresh lock.
    pub lock_key: String,
    pub access_token: String,
    pub refresh_token: Option<String>,
    /// Unix seconds when the access token expires (None: GitLab gave no lifetime).
    pub expires_at: Option<i64>,
    pub viewer: Viewer,
}

impl std::fmt::Debug for AuthRecord {
    // Never print tokens, not even in debug logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthRecord")
            .field("user", &self.viewer.username)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl AuthRecord {
    /// True when the access token expires within `margin` seconds of `now`.
    pub fn expires_soon(&self, now: i64, margin: i64) -> bool {
        self.expires_at.is_some_and(|at| at - now <= margin)
    }
}

/// A sign-in between the redirect to GitLab and the callback.
#[derive(Clone, Serialize, Deserialize)]
pub struct PendingLogin {
    pub instance: String,
    pub state: String,
    pub pkce_verifier: String,
    pub return_to: String,
    pub created_at: i64,
}

impl std::fmt::Debug for PendingLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingLogin")
            .field("instance", &self.instance)
            .field("return_to", &self.return_to)
            .finish_non_exhaustive()
    }
}

/// Unix seconds now.
pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}
