//! Who is calling: the [`Caller`] behind a session or a bearer token, resolved once per
//! request before any other work.
//!
//! - **Session**: the instance's [`AuthRecord`] in the session (no record: not signed in;
//!   the session older than its absolute lifetime: signed out). A token about to expire is
//!   refreshed first, one refresh at a time per sign-in (GitLab rotates refresh tokens, so
//!   two concurrent refreshes with the same token would sign the user out): under the
//!   sign-in's lock (in process, and in Redis across replicas when configured) the record
//!   is read again from the store, and a token another request already refreshed is used
//!   as is. The new pair is written into the stored session as one field, atomically,
//!   never by saving the request's whole (older) copy of the session.
//! - **Bearer**: the token is checked with GitLab (`GET /user`) and the user remembered for
//!   `cache.users_ttl_secs` under a digest of the token, never the token itself; a
//!   token GitLab refuses is refused without asking for as long.
//!   Checks of unknown tokens are rate limited for the whole server, so random tokens cannot
//!   turn into a flood of GitLab requests.

use super::records::{auth_key, now, AuthRecord, SIGNED_IN_AT_KEY};
use super::store::Sessions;
use crate::caches::Rate;
use crate::instances::Instance;
use crate::services::Gateway;
use crate::shared::Redis;
use app::backend::{AccessToken, Caller, Credential, CredentialKey, SignIn};
use app::error::AppError;
use async_trait::async_trait;
use domain::{InstanceInfo, Subject, Viewer};
use oauth2::{RefreshToken, RequestTokenError, TokenResponse};
use sha2::{Digest, Sha256};
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

/// The session store did not answer (Redis down): a 503, try again shortly.
fn session_error(error: impl std::fmt::Display) -> AppError {
    tracing::error!(%error, "session store error");
    AppError::Unavailable {
        retry_after_secs: 5,
    }
}

/// Longest a replica may hold a sign-in's refresh lock in Redis (a replica that dies while
/// refreshing blocks the others at most this long).
const REFRESH_LOCK_TTL: Duration = Duration::from_secs(30);
/// Longest a request waits for another replica's refresh of the same sign-in.
const REFRESH_LOCK_WAIT: Duration = Duration::from_secs(20);

/// What session credentials share: the HTTP client for GitLab's token endpoint, the store
/// (to re-read a record under the refresh lock) and the per-sign-in refresh locks.
struct Shared {
    oauth_http: reqwest::Client,
    sessions: Sessions,
    refresh_locks: moka::sync::Cache<String, Arc<tokio::sync::Mutex<()>>>,
    redis: Option<Redis>,
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

    /// Writes (or with `None` removes) the sign-in `key` in the stored session.
    async fn store(
        &self,
        session: &Session,
        key: &str,
        record: Option<&AuthRecord>,
    ) -> Result<(), AppError> {
        let Some(id) = session.id() else {
            return Ok(());
        };
        let value = record
            .map(serde_json::to_value)
            .transpose()
            .map_err(session_error)?;
        self.sessions
            .set_field(&id, key, value)
            .await
            .map_err(session_error)
    }
}

/// Resolves callers; implements the UI's [`SignIn`]. Checks of unknown bearer tokens are
/// rate limited for the whole deployment.
pub struct SignInService {
    gw: Arc<Gateway>,
    shared: Arc<Shared>,
    absolute_secs: i64,
    bearer_checks: Rate,
}

impl SignInService {
    pub fn new(
        gw: Arc<Gateway>,
        sessions: Sessions,
        redis: Option<Redis>,
        oauth_http: reqwest::Client,
        absolute: Duration,
        bearer_checks_per_minute: u32,
    ) -> Self {
        let redis_for_rates = redis.clone();
        SignInService {
            gw,
            shared: Arc::new(Shared {
                oauth_http,
                sessions,
                refresh_locks: moka::sync::Cache::builder()
                    .max_capacity(100_000)
                    .time_to_idle(Duration::from_secs(600))
                    .build(),
                redis: redis.clone(),
            }),
            absolute_secs: i64::try_from(absolute.as_secs()).unwrap_or(i64::MAX),
            bearer_checks: Rate::new(redis_for_rates, "bearer-checks", bearer_checks_per_minute),
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
    /// check, no GitLab call); an error when the session store does not answer.
    pub async fn signed_in(&self, session: &Session, instance: &str) -> Result<bool, AppError> {
        Ok(!self.expired(session).await?
            && session
                .get::<serde_json::Value>(&auth_key(instance))
                .await
                .map_err(session_error)?
                .is_some())
    }

    /// Whether the session holds a live sign-in for any instance (a cheap check, no GitLab
    /// call); an error when the session store does not answer.
    pub async fn signed_in_anywhere(&self, session: &Session) -> Result<bool, AppError> {
        if self.expired(session).await? {
            return Ok(false);
        }
        for instance in self.gw.instances.iter() {
            let record = session
                .get::<serde_json::Value>(&auth_key(&instance.info.name))
                .await
                .map_err(session_error)?;
            if record.is_some() {
                return Ok(true);
            }
        }
        Ok(false)
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
                    self.bearer_checks.check("all").await.err()
                };
                if let Some(wait) = over {
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
        let lock_key = lock(&self.record).lock_key.clone();
        // One refresh at a time in this process, then across replicas.
        let local = self.shared.refresh_lock(&lock_key);
        let _local = local.lock().await;
        let Some(redis) = &self.shared.redis else {
            return self.renew_locked(stale).await;
        };
        let held = redis
            .lock(
                &redis.key("refresh", &lock_key),
                REFRESH_LOCK_TTL,
                REFRESH_LOCK_WAIT,
            )
            .await
            .map_err(session_error)?
            .ok_or(AppError::Unavailable {
                retry_after_secs: 5,
            })?;
        let renewed = self.renew_locked(stale).await;
        held.release().await;
        renewed
    }

    async fn revoked(&self) {
        let key = auth_key(&self.instance.info.name);
        let ours = lock(&self.record).access_token.clone();
        // A request that started with a token another request (or replica) has since
        // replaced must not sign out the sign-in that replaced it.
        let replaced = self
            .shared
            .stored_record(&self.session, &key)
            .await
            .is_some_and(|stored| stored.access_token != ours);
        if !replaced {
            let _ = self.shared.store(&self.session, &key, None).await;
        }
    }

    fn is_session(&self) -> bool {
        true
    }
}

impl SessionCredential {
    /// [`Credential::renew`] under the sign-in's refresh lock.
    async fn renew_locked(&self, stale: &AccessToken) -> Result<AccessToken, AppError> {
        let name = self.instance.info.name.clone();
        let key = auth_key(&name);
        let current = lock(&self.record).clone();
        let latest = self
            .shared
            .stored_record(&self.session, &key)
            .await
            .unwrap_or(current);
        if latest.access_token != stale.secret() && !latest.expires_soon(now(), REFRESH_MARGIN_SECS)
        {
            let token = AccessToken::new(latest.access_token.clone());
            *lock(&self.record) = latest;
            return Ok(token);
        }
        let Some(refresh_token) = latest.refresh_token.clone() else {
            self.shared.store(&self.session, &key, None).await?;
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
                // Stored before the lock is released, so the next holder reads the new pair.
                self.shared
                    .store(&self.session, &key, Some(&record))
                    .await?;
                tracing::info!(instance = %name, user = %record.viewer.username, "refreshed GitLab \
                    token");
                let token = AccessToken::new(record.access_token.clone());
                *lock(&self.record) = record;
                Ok(token)
            }
            Err(RequestTokenError::ServerResponse(response)) => {
                tracing::info!(instance = %name, error = ?response.error(), "GitLab refused the \
                    refresh; signing out");
                self.shared.store(&self.session, &key, None).await?;
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
