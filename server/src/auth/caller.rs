//! Who is calling: the [`Caller`] behind a session or a bearer token, resolved once per
//! request before any other work.
//!
//! - **Session**: the instance's [`AuthRecord`] in the session (no record: not signed in;
//!   the session older than its absolute lifetime: signed out). A token about to expire is
//!   refreshed first, one refresh at a time per sign-in (GitLab rotates refresh tokens, so
//!   two concurrent refreshes with the same token would sign the user out): under the
//!   sign-in's lock the record is read again from the store, and a token another request
//!   already refreshed is used as is.
//! - **Bearer**: the token is checked with GitLab (`GET /user`) and the user remembered for
//!   `cache.users_ttl_secs` under a digest of the token, never the token itself; a
//!   token GitLab refuses is refused without asking for as long.
//!   Checks of unknown tokens are rate limited for the whole server, so random tokens cannot
//!   turn into a flood of GitLab requests.

use super::records::{auth_key, now, AuthRecord, SIGNED_IN_AT_KEY};
use super::store::MemoryStore;
use crate::instances::Instance;
use crate::services::Gateway;
use app::backend::{AccessToken, Caller, Credential, CredentialKey, SignIn};
use app::error::AppError;
use async_trait::async_trait;
use domain::{InstanceInfo, Subject, Viewer};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use oauth2::{RefreshToken, RequestTokenError, TokenResponse};
use sha2::{Digest, Sha256};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tower_sessions::{Session, SessionStore};

/// Refresh this many seconds before GitLab would reject the token.
const REFRESH_MARGIN_SECS: i64 = 60;
/// Longest bearer token accepted (GitLab's are far shorter).
pub const MAX_BEARER_LEN: usize = 512;

/// The cache key of a token on an instance: a digest, so caches never hold tokens.
pub fn credential_key(instance: &str, token: &str) -> CredentialKey {
    let digest = Sha256::new()
        .chain_update(instance.as_bytes())
        .chain_update([0])
        .chain_update(token.as_bytes())
        .finalize();
    let mut key = [0u8; 16];
    key.copy_from_slice(&digest[..16]);
    CredentialKey(key)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn not_signed_in(instance: &str) -> AppError {
    AppError::NotSignedIn {
        instance: instance.to_string(),
    }
}

fn session_error(error: tower_sessions::session::Error) -> AppError {
    tracing::error!(%error, "session store error");
    AppError::Internal {
        message: "your session could not be read".into(),
    }
}

/// What session credentials share: the HTTP client for GitLab's token endpoint, the store
/// (to re-read a record under the refresh lock) and the per-sign-in refresh locks.
struct Shared {
    oauth_http: reqwest::Client,
    sessions: MemoryStore,
    refresh_locks: moka::sync::Cache<String, Arc<tokio::sync::Mutex<()>>>,
}

impl Shared {
    fn refresh_lock(&self, lock_key: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.refresh_locks
            .get_with(lock_key.to_string(), Default::default)
    }

    async fn stored_record(&self, session: &Session, key: &str) -> Option<AuthRecord> {
        let id = session.id()?;
        let record = self.sessions.load(&id).await.ok()??;
        serde_json::from_value(record.data.get(key)?.clone()).ok()
    }
}

/// Resolves callers; implements the UI's [`SignIn`].
pub struct SignInService {
    gw: Arc<Gateway>,
    shared: Arc<Shared>,
    absolute_secs: i64,
    bearer_checks: DefaultDirectRateLimiter,
}

impl SignInService {
    pub fn new(
        gw: Arc<Gateway>,
        sessions: MemoryStore,
        oauth_http: reqwest::Client,
        absolute: Duration,
        bearer_checks_per_minute: u32,
    ) -> Self {
        let per_minute = NonZeroU32::new(bearer_checks_per_minute).unwrap_or(NonZeroU32::MIN);
        SignInService {
            gw,
            shared: Arc::new(Shared {
                oauth_http,
                sessions,
                refresh_locks: moka::sync::Cache::builder()
                    .max_capacity(100_000)
                    .time_to_idle(Duration::from_secs(600))
                    .build(),
            }),
            absolute_secs: i64::try_from(absolute.as_secs()).unwrap_or(i64::MAX),
            bearer_checks: RateLimiter::direct(Quota::per_minute(per_minute)),
        }
    }

    /// The session is past its absolute lifetime (it is flushed then).
    pub async fn expired(&self, session: &Session) -> Result<bool, AppError> {
        let signed_in_at: Option<i64> =
            session.get(SIGNED_IN_AT_KEY).await.map_err(session_error)?;
        match signed_in_at {
            Some(at) if now() - at >= self.absolute_secs => {
                tracing::info!("session reached its absolute lifetime; signing out");
                session.flush().await.map_err(session_error)?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Whether the session is signed in to `instance` and within its lifetime (a cheap
    /// check, no GitLab call).
    pub async fn signed_in(&self, session: &Session, instance: &str) -> bool {
        !self.expired(session).await.unwrap_or(true)
            && matches!(
                session.get::<serde_json::Value>(&auth_key(instance)).await,
                Ok(Some(_))
            )
    }

    /// Whether the session holds a sign-in for any instance (a cheap check, no GitLab call).
    pub async fn signed_in_anywhere(&self, session: &Session) -> bool {
        for instance in self.gw.instances.iter() {
            if let Ok(Some(_)) = session
                .get::<serde_json::Value>(&auth_key(&instance.info.name))
                .await
            {
                return true;
            }
        }
        false
    }

    /// The caller behind a bearer token (see the module docs).
    pub async fn bearer_caller(
        &self,
        instance_name: &str,
        token: String,
    ) -> Result<Caller, AppError> {
        let instance = self.gw.instances.get(instance_name)?.clone();
        let key = credential_key(instance_name, &token);
        if self.gw.caches.refused_bearers.contains_key(&key) {
            return Err(not_signed_in(instance_name));
        }
        let viewer = self
            .gw
            .caches
            .bearer_users
            .try_get_with(key, async {
                let known = self.gw.caches.accepted_bearers.contains_key(&key);
                let over = if known {
                    None
                } else {
                    self.bearer_checks.check().err()
                };
                if let Some(not_until) = over {
                    let wait = not_until.wait_time_from(governor::clock::Clock::now(
                        &governor::clock::DefaultClock::default(),
                    ));
                    return Err(AppError::RateLimited {
                        retry_after_secs: wait.as_secs().max(1),
                    });
                }
                match instance.api.current_user(&token).await {
                    Ok(user) => {
                        self.gw.caches.accepted_bearers.insert(key, ()).await;
                        Ok(Arc::new(Viewer {
                            id: user.id,
                            username: user.username,
                            name: user.name,
                            avatar_url: user.avatar_url,
                            instance: instance_name.to_string(),
                            is_admin: user.is_admin,
                        }))
                    }
                    Err(
                        crate::gitlab::GitLabError::Unauthorized
                        | crate::gitlab::GitLabError::TokenExpired,
                    ) => {
                        self.gw.caches.accepted_bearers.invalidate(&key).await;
                        self.gw.caches.refused_bearers.insert(key, ()).await;
                        Err(not_signed_in(instance_name))
                    }
                    Err(other) => Err(crate::errors::app_error(other, Subject::User)),
                }
            })
            .await
            .map_err(|e| (*e).clone())?;
        Ok(Caller {
            instance: instance_name.to_string(),
            viewer: (*viewer).clone(),
            credential: Arc::new(BearerCredential {
                instance: instance_name.to_string(),
                token: AccessToken::new(token),
                key,
                gw: self.gw.clone(),
            }),
        })
    }
}

#[async_trait]
impl SignIn for SignInService {
    fn instances(&self) -> Vec<InstanceInfo> {
        self.gw.instances.infos()
    }

    async fn caller(&self, session: &Session, instance_name: &str) -> Result<Caller, AppError> {
        let instance = self.gw.instances.get(instance_name)?.clone();
        if self.expired(session).await? {
            return Err(not_signed_in(instance_name));
        }
        let record: AuthRecord = session
            .get(&auth_key(instance_name))
            .await
            .map_err(session_error)?
            .ok_or_else(|| not_signed_in(instance_name))?;
        let viewer = record.viewer.clone();
        let expiring = record.expires_soon(now(), REFRESH_MARGIN_SECS);
        let credential = SessionCredential {
            instance,
            session: session.clone(),
            record: Mutex::new(record),
            shared: self.shared.clone(),
        };
        if expiring {
            let stale = credential.token();
            credential.renew(&stale).await?;
        }
        Ok(Caller {
            instance: instance_name.to_string(),
            viewer,
            credential: Arc::new(credential),
        })
    }
}

/// A browser sign-in: the tokens live in the session.
struct SessionCredential {
    instance: Arc<Instance>,
    session: Session,
    record: Mutex<AuthRecord>,
    shared: Arc<Shared>,
}

#[async_trait]
impl Credential for SessionCredential {
    fn token(&self) -> AccessToken {
        AccessToken::new(lock(&self.record).access_token.clone())
    }

    fn key(&self) -> CredentialKey {
        credential_key(&self.instance.info.name, &lock(&self.record).access_token)
    }

    async fn renew(&self, stale: &AccessToken) -> Result<AccessToken, AppError> {
        let name = self.instance.info.name.clone();
        let key = auth_key(&name);
        let current = lock(&self.record).clone();
        let refresh_lock = self.shared.refresh_lock(&current.lock_key);
        let _guard = refresh_lock.lock().await;

        let latest = self
            .shared
            .stored_record(&self.session, &key)
            .await
            .unwrap_or(current);
        if latest.access_token != stale.secret() && !latest.expires_soon(now(), REFRESH_MARGIN_SECS)
        {
            self.session
                .insert(&key, &latest)
                .await
                .map_err(session_error)?;
            let token = AccessToken::new(latest.access_token.clone());
            *lock(&self.record) = latest;
            return Ok(token);
        }
        let Some(refresh_token) = latest.refresh_token.clone() else {
            self.session
                .remove::<AuthRecord>(&key)
                .await
                .map_err(session_error)?;
            return Err(not_signed_in(&name));
        };
        let outcome = self
            .instance
            .oauth
            .exchange_refresh_token(&RefreshToken::new(refresh_token))
            .request_async(&self.shared.oauth_http)
            .await;
        match outcome {
            Ok(tokens) => {
                let record = AuthRecord {
                    access_token: tokens.access_token().secret().clone(),
                    refresh_token: tokens
                        .refresh_token()
                        .map(|t| t.secret().clone())
                        .or(latest.refresh_token),
                    expires_at: tokens
                        .expires_in()
                        .map(|d| now() + i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 2)),
                    ..latest
                };
                self.session
                    .insert(&key, &record)
                    .await
                    .map_err(session_error)?;
                // Save now, so concurrent requests that re-read the store see the new pair.
                self.session.save().await.map_err(session_error)?;
                tracing::info!(instance = %name, user = %record.viewer.username, "refreshed GitLab token");
                let token = AccessToken::new(record.access_token.clone());
                *lock(&self.record) = record;
                Ok(token)
            }
            Err(RequestTokenError::ServerResponse(response)) => {
                tracing::info!(instance = %name, error = ?response.error(), "GitLab refused the refresh; signing out");
                self.session
                    .remove::<AuthRecord>(&key)
                    .await
                    .map_err(session_error)?;
                Err(not_signed_in(&name))
            }
            Err(other) => {
                tracing::warn!(instance = %name, error = %other, "token refresh failed");
                Err(AppError::GitLabUnavailable {
                    detail: "could not renew your GitLab sign-in".into(),
                })
            }
        }
    }

    async fn revoked(&self) {
        let _ = self
            .session
            .remove::<AuthRecord>(&auth_key(&self.instance.info.name))
            .await;
    }

    fn is_session(&self) -> bool {
        true
    }
}

/// A script's token from the `Authorization` header: checked with GitLab, never stored.
struct BearerCredential {
    instance: String,
    token: AccessToken,
    key: CredentialKey,
    gw: Arc<Gateway>,
}

#[async_trait]
impl Credential for BearerCredential {
    fn token(&self) -> AccessToken {
        self.token.clone()
    }

    fn key(&self) -> CredentialKey {
        self.key
    }

    async fn renew(&self, _stale: &AccessToken) -> Result<AccessToken, AppError> {
        // A bearer token cannot be refreshed by us: it is over.
        self.revoked().await;
        Err(not_signed_in(&self.instance))
    }

    async fn revoked(&self) {
        self.gw.caches.accepted_bearers.invalidate(&self.key).await;
        self.gw.caches.refused_bearers.insert(self.key, ()).await;
        self.gw.caches.bearer_users.invalidate(&self.key).await;
    }

    fn is_session(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_keys_depend_on_instance_and_token_only() {
        let a = credential_key("demo", "token-a");
        assert_eq!(a, credential_key("demo", "token-a"));
        assert_ne!(a, credential_key("demo", "token-b"));
        assert_ne!(a, credential_key("other", "token-a"));
    }
}
