//! `/auth/login`, `/auth/callback` and `/auth/logout`: plain axum routes, because they write
//! the session and set cookies (never done while rendering a page).

use super::records::{
    auth_key, now, AuthRecord, PendingLogin, MAX_PENDING, PENDING_KEY, PENDING_TTL_SECS,
};
use super::return_to;
use crate::state::Bff;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use domain::Viewer;
use oauth2::{
    AccessToken, AuthorizationCode, CsrfToken, PkceCodeChallenge, PkceCodeVerifier, RefreshToken,
    Scope, StandardRevocableToken, TokenResponse,
};
use serde::Deserialize;
use std::sync::Arc;
use tower_sessions::Session;

/// Query of `/auth/login`.
#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    pub instance: Option<String>,
    pub return_to: Option<String>,
}

/// Query GitLab sends to `/auth/callback`.
#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
}

fn sign_in_page(error: &str, return_to: &str) -> Response {
    Redirect::to(&format!(
        "/login?error={}&return_to={}",
        domain::query::encode_value(error),
        domain::query::encode_value(return_to)
    ))
    .into_response()
}

/// Starts sign-in: remembers state + PKCE verifier in the session, sends the browser to GitLab.
pub async fn login(
    State(bff): State<Arc<Bff>>,
    session: Session,
    Query(query): Query<LoginQuery>,
) -> Response {
    let return_to = return_to::sanitize(query.return_to.as_deref());
    let name = query
        .instance
        .or_else(|| bff.instances.first().map(|i| i.info.name.clone()))
        .unwrap_or_default();
    let Ok(instance) = bff.instance(&name) else {
        return sign_in_page("instance", &return_to);
    };
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = instance
        .oauth
        .authorize_url(CsrfToken::new_random)
        .set_pkce_challenge(challenge);
    for scope in &instance.scopes {
        request = request.add_scope(Scope::new(scope.clone()));
    }
    let (url, state) = request.url();

    let mut pending: Vec<PendingLogin> = session
        .get(PENDING_KEY)
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    let now = now();
    pending.retain(|p| now - p.created_at < PENDING_TTL_SECS);
    if pending.len() >= MAX_PENDING {
        pending.remove(0);
    }
    pending.push(PendingLogin {
        instance: instance.info.name.clone(),
        state: state.secret().clone(),
        pkce_verifier: verifier.secret().clone(),
        return_to,
        created_at: now,
    });
    if let Err(error) = session.insert(PENDING_KEY, &pending).await {
        tracing::error!(%error, "could not store the pending sign-in");
        return sign_in_page("unavailable", "/");
    }
    Redirect::to(url.as_str()).into_response()
}

/// GitLab sends the browser back here with `code` + `state` (or `error`).
pub async fn callback(
    State(bff): State<Arc<Bff>>,
    session: Session,
    Query(query): Query<CallbackQuery>,
) -> Response {
    let mut pending: Vec<PendingLogin> = session
        .get(PENDING_KEY)
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    // The state must match a sign-in this very browser session started, and is single use.
    let Some(position) = query.state.as_deref().and_then(|state| {
        pending
            .iter()
            .position(|p| constant_time_eq(&p.state, state))
    }) else {
        tracing::info!("OAuth callback with unknown state");
        return sign_in_page("state", "/");
    };
    let login = pending.remove(position);
    let _ = session.insert(PENDING_KEY, &pending).await;
    if now() - login.created_at >= PENDING_TTL_SECS {
        return sign_in_page("state", &login.return_to);
    }
    if let Some(error) = query.error {
        let code = if error == "access_denied" {
            "access_denied"
        } else {
            "exchange"
        };
        return sign_in_page(code, &login.return_to);
    }
    let Some(code) = query.code else {
        return sign_in_page("exchange", &login.return_to);
    };
    let Ok(instance) = bff.instance(&login.instance) else {
        return sign_in_page("instance", &login.return_to);
    };
    let tokens = match instance
        .oauth
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(PkceCodeVerifier::new(login.pkce_verifier.clone()))
        .request_async(&bff.oauth_http)
        .await
    {
        Ok(tokens) => tokens,
        Err(oauth2::RequestTokenError::ServerResponse(response)) => {
            tracing::info!(error = ?response.error(), "GitLab refused the authorization code");
            return sign_in_page("exchange", &login.return_to);
        }
        Err(error) => {
            tracing::warn!(%error, "token exchange failed");
            return sign_in_page("unavailable", &login.return_to);
        }
    };
    let access_token = tokens.access_token().secret().clone();
    let user = match instance.api.current_user(&access_token).await {
        Ok(user) => user,
        Err(error) => {
            tracing::warn!(%error, "could not read the signed-in user");
            return sign_in_page("unavailable", &login.return_to);
        }
    };
    let record = AuthRecord {
        lock_key: CsrfToken::new_random().secret().clone(),
        access_token,
        refresh_token: tokens.refresh_token().map(|t| t.secret().clone()),
        expires_at: tokens
            .expires_in()
            .map(|d| now() + i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 2)),
        viewer: Viewer {
            id: user.id,
            username: user.username,
            name: user.name,
            avatar_url: user.avatar_url,
            instance: instance.info.name.clone(),
            is_admin: user.is_admin,
        },
    };
    // New privilege level, new session id: defeats session fixation.
    if let Err(error) = session.cycle_id().await {
        tracing::error!(%error, "could not rotate the session id");
        return sign_in_page("unavailable", &login.return_to);
    }
    if let Err(error) = session
        .insert(&auth_key(&instance.info.name), &record)
        .await
    {
        tracing::error!(%error, "could not store the sign-in");
        return sign_in_page("unavailable", &login.return_to);
    }
    tracing::info!(instance = %instance.info.name, user = %record.viewer.username, "signed in");
    Redirect::to(&login.return_to).into_response()
}

/// Signs out everywhere: revokes the tokens at GitLab, destroys the session. POST only.
pub async fn logout(State(bff): State<Arc<Bff>>, session: Session) -> Response {
    for instance in &bff.instances {
        let Ok(Some(record)) = session
            .get::<AuthRecord>(&auth_key(&instance.info.name))
            .await
        else {
            continue;
        };
        let token = match record.refresh_token {
            Some(refresh) => StandardRevocableToken::RefreshToken(RefreshToken::new(refresh)),
            None => StandardRevocableToken::AccessToken(AccessToken::new(record.access_token)),
        };
        match instance.oauth.revoke_token(token) {
            Ok(request) => {
                if let Err(error) = request.request_async(&bff.oauth_http).await {
                    tracing::warn!(instance = %instance.info.name, %error, "token revocation failed");
                }
            }
            Err(error) => tracing::warn!(%error, "token revocation not configured"),
        }
    }
    if let Err(error) = session.flush().await {
        tracing::error!(%error, "could not destroy the session");
    }
    Redirect::to("/login?signed_out=1").into_response()
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}
