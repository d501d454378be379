//! What the server keeps about sign-ins. Tokens never leave the server: [`AuthRecord`]s are
//! stored by tower-sessions in the session store; the browser holds only the session id.
//! A sign-in in progress ([`PendingLogin`]) is not in any session at all: it waits in
//! `auth::pending` under a digest of its OAuth `state`, tied to the browser by a random
//! cookie, so anonymous visitors never create session records.

use domain::Viewer;
use serde::{Deserialize, Serialize};

/// Session key of an instance's sign-in.
pub fn auth_key(instance: &str) -> String {
    format!("auth.{instance}")
}

/// Session key of the time (unix seconds) the session's first sign-in happened: the
/// session's absolute lifetime counts from it.
pub const SIGNED_IN_AT_KEY: &str = "signed_in_at";

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
    pub pkce_verifier: String,
    pub return_to: String,
    /// Hex digest of the browser's sign-in cookie: only the browser that started the
    /// sign-in can finish it (login CSRF).
    pub browser: String,
}

impl std::fmt::Debug for PendingLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingLogin")
            .field("instance", &self.instance)
            .field("return_to", &self.return_to)
            .finish_non_exhaustive()
    }
}

pub use crate::clock::now;
