//! Access tokens for a request: read from the session, refreshed shortly before expiry,
//! one refresh at a time per sign-in (GitLab rotates refresh tokens, so two concurrent
//! refreshes with the same token would log the user out).

use super::records::{auth_key, now, AuthRecord};
use crate::state::{Bff, Instance};
use app::error::AppError;
use oauth2::{RefreshToken, RequestTokenError, TokenResponse};
use std::sync::Arc;
use tower_sessions::Session;

/// Refresh this many seconds before GitLab would reject the token.
const REFRESH_MARGIN_SECS: i64 = 60;

impl Bff {
    /// The session's sign-in record for an instance, if any.
    pub async fn auth_record(
        &self,
        session: &Session,
        instance: &Instance,
    ) -> Result<Option<AuthRecord>, AppError> {
        session
            .get::<AuthRecord>(&auth_key(&instance.info.name))
            .await
            .map_err(session_error)
    }

    /// A usable access token, refreshing first when it is about to expire.
    pub async fn access_token(
        &self,
        session: &Session,
        instance: &Instance,
    ) -> Result<String, AppError> {
        let record = self
            .auth_record(session, instance)
            .await?
            .ok_or_else(|| not_signed_in(instance))?;
        if record.expires_soon(now(), REFRESH_MARGIN_SECS) {
            return self.refresh(session, instance, &record.access_token).await;
        }
        Ok(record.access_token)
    }

    /// Replaces `stale` with a fresh token. Under the per-sign-in lock the record is re-read
    /// from the store first: if another request already refreshed, its token is used.
    pub async fn refresh(
        &self,
        session: &Session,
        instance: &Instance,
        stale: &str,
    ) -> Result<String, AppError> {
        let key = auth_key(&instance.info.name);
        let current = self
            .auth_record(session, instance)
            .await?
            .ok_or_else(|| not_signed_in(instance))?;
        let lock = self.refresh_lock(&current.lock_key);
        let _guard = lock.lock().await;

        let latest = self.stored_record(session, &key).await.unwrap_or(current);
        if latest.access_token != stale && !latest.expires_soon(now(), REFRESH_MARGIN_SECS) {
            session.insert(&key, &latest).await.map_err(session_error)?;
            return Ok(latest.access_token);
        }
        let Some(refresh_token) = latest.refresh_token.clone() else {
            session
                .remove::<AuthRecord>(&key)
                .await
                .map_err(session_error)?;
            return Err(not_signed_in(instance));
        };
        let outcome = instance
            .oauth
            .exchange_refresh_token(&RefreshToken::new(refresh_token))
            .request_async(&self.oauth_http)
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
                session.insert(&key, &record).await.map_err(session_error)?;
                // Save now, so concurrent requests that re-read the store see the new pair.
                session.save().await.map_err(session_error)?;
                tracing::info!(instance = %instance.info.name, user = %record.viewer.username, "refreshed GitLab token");
                Ok(record.access_token)
            }
            Err(RequestTokenError::ServerResponse(response)) => {
                tracing::info!(instance = %instance.info.name, error = ?response.error(), "GitLab refused the refresh; signing out");
                session
                    .remove::<AuthRecord>(&key)
                    .await
                    .map_err(session_error)?;
                Err(not_signed_in(instance))
            }
            Err(other) => {
                tracing::warn!(instance = %instance.info.name, error = %other, "token refresh failed");
                Err(AppError::GitLabUnavailable {
                    detail: "could not renew your GitLab sign-in".into(),
                })
            }
        }
    }

    /// Forgets the sign-in for an instance (token revoked or refused).
    pub async fn forget(&self, session: &Session, instance: &Instance) {
        let _ = session
            .remove::<AuthRecord>(&auth_key(&instance.info.name))
            .await;
    }

    async fn stored_record(&self, session: &Session, key: &str) -> Option<AuthRecord> {
        use tower_sessions::SessionStore;
        let id = session.id()?;
        let record = self.store.load(&id).await.ok()??;
        serde_json::from_value(record.data.get(key)?.clone()).ok()
    }

    fn refresh_lock(&self, lock_key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = match self.refresh_locks.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        // Drop locks nobody holds any more, so the map stays as small as the active sign-ins.
        if locks.len() > 1024 {
            locks.retain(|_, lock| Arc::strong_count(lock) > 1);
        }
        locks.entry(lock_key.to_string()).or_default().clone()
    }
}

fn not_signed_in(instance: &Instance) -> AppError {
    AppError::NotSignedIn {
        instance: instance.info.name.clone(),
    }
}

fn session_error(error: tower_sessions::session::Error) -> AppError {
    tracing::error!(%error, "session store error");
    AppError::Internal {
        message: "your session could not be read".into(),
    }
}
