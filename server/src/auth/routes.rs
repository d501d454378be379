//! `/auth/login`, `/auth/callback/<instance>` and `/auth/logout`: plain axum routes, because
//! they write the session and set cookies (never done while rendering a page).
//!
//! A sign-in in progress is not a session: `login` keeps the PKCE verifier and where to go
//! afterwards in `auth::pending` under a digest of the OAuth `state`, and ties it to the
//! browser with a random cookie (`registry_dash_login`, `__Host-` over https). The callback
//! takes the entry out (single use) only if the browser's cookie matches and the callback
//! arrived on the path of the instance the sign-in started with (RFC 9700's mix-up
//! defence: each instance has its own redirect URI). Only a successful sign-in creates a
//! session, with a new id (no fixation).

use super::pending::NotStarted;
use super::records::{auth_key, now, AuthRecord, PendingLogin, SIGNED_IN_AT_KEY};
use super::return_to;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use domain::Viewer;
use oauth2::{
    AuthorizationCode, CsrfToken, PkceCodeChallenge, PkceCodeVerifier, Scope, TokenResponse,
};
use rand::RngCore;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tower_sessions::Session;

/// Query of `/auth/login`.
#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    pub instance: Option<String>,
    pub return_to: Option<String>,
}

/// Query GitLab sends to `/auth/callback/<instance>`.
#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
}

/// The sign-in cookie's name (`__Host-` when the site is https: Secure, Path=/, no Domain).
pub fn login_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-registry_dash_login"
    } else {
        "registry_dash_login"
    }
}

/// The session cookie's name (`__Host-` when the site is https).
pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-registry_dash_session"
    } else {
        "registry_dash_session"
    }
}

fn sign_in_page(error: &str, return_to: &str) -> Response {
    Redirect::to(&format!(
        "/login?error={}&return_to={}",
        domain::query::encode_value(error),
        domain::query::encode_value(return_to)
    ))
    .into_response()
}

fn hex_digest(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

fn state_key(state: &str) -> [u8; 32] {
    Sha256::digest(state.as_bytes()).into()
}

/// The value of a cookie in the request, if well formed (43 URL-safe base64 characters).
fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        .filter(|v| {
            v.len() == 43
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// Starts sign-in: remembers state + PKCE verifier, sends the browser to GitLab.
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<LoginQuery>,
) -> Response {
    let return_to = return_to::sanitize(query.return_to.as_deref());
    let instances = &state.services.gateway.instances;
    let instance = match query.instance.as_deref() {
        Some(name) => instances.get(name).ok(),
        None => instances.first(),
    };
    let Some(instance) = instance else {
        return sign_in_page("instance", &return_to);
    };
    let secure = state.config.cookie_secure;
    let cookie = login_cookie_name(secure);
    // One browser nonce for all its sign-ins in progress (several tabs).
    let nonce = cookie_value(&headers, cookie).unwrap_or_else(|| {
        let mut bytes = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut bytes);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    });
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = instance
        .oauth
        .authorize_url(CsrfToken::new_random)
        .set_pkce_challenge(challenge);
    for scope in &instance.scopes {
        request = request.add_scope(Scope::new(scope.clone()));
    }
    let (url, oauth_state) = request.url();
    let started = state
        .logins
        .put(
            state_key(oauth_state.secret()),
            PendingLogin {
                instance: instance.info.name.clone(),
                pkce_verifier: verifier.secret().clone(),
                return_to: return_to.clone(),
                browser: hex_digest(&nonce),
            },
        )
        .await;
    match started {
        Ok(()) => {}
        Err(NotStarted::Busy) => {
            tracing::warn!("sign-ins are starting faster than limits.logins_per_minute");
            return sign_in_page("busy", &return_to);
        }
        Err(NotStarted::Store(error)) => {
            tracing::error!(%error, "could not keep a sign-in in progress");
            return sign_in_page("sessions", &return_to);
        }
    }
    let mut response = Redirect::to(url.as_str()).into_response();
    let attributes = format!(
        "{cookie}={nonce}; Path=/; Max-Age=600; HttpOnly; SameSite=Lax{}",
        if secure { "; Secure" } else { "" }
    );
    if let Ok(value) = HeaderValue::from_str(&attributes) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// GitLab sends the browser back here with `code` + `state` (or `error`).
pub async fn callback(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Path(path_instance): Path<String>,
    Query(query): Query<CallbackQuery>,
) -> Response {
    let gateway = &state.services.gateway;
    let Some(oauth_state) = query
        .state
        .as_deref()
        .filter(|s| !s.is_empty() && s.len() <= 256)
    else {
        return sign_in_page("state", "/");
    };
    // Single use: taken out whatever happens next.
    let login = match state.logins.take(&state_key(oauth_state)).await {
        Ok(Some(login)) => login,
        Ok(None) => {
            tracing::info!("OAuth callback with unknown or expired state");
            return sign_in_page("state", "/");
        }
        Err(error) => {
            tracing::error!(%error, "could not read a sign-in in progress");
            return sign_in_page("sessions", "/");
        }
    };
    let browser = cookie_value(&headers, login_cookie_name(state.config.cookie_secure))
        .map(|nonce| hex_digest(&nonce))
        .unwrap_or_default();
    if !constant_time_eq(&browser, &login.browser) {
        tracing::info!("OAuth callback from another browser than the one that started it");
        return sign_in_page("state", "/");
    }
    if path_instance != login.instance {
        tracing::warn!(
            expected = %login.instance,
            "OAuth callback arrived for another instance than the sign-in started with"
        );
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
    let Some(code) = query.code.filter(|c| !c.is_empty() && c.len() <= 1024) else {
        return sign_in_page("exchange", &login.return_to);
    };
    let Ok(instance) = gateway.instances.get(&login.instance) else {
        return sign_in_page("instance", &login.return_to);
    };
    let tokens = match instance
        .oauth
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(PkceCodeVerifier::new(login.pkce_verifier.clone()))
        .request_async(&state.oauth_http)
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
    let mut lock_key = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut lock_key);
    let record = AuthRecord {
        lock_key: hex::encode(lock_key),
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
    let stored = async {
        session.cycle_id().await?;
        if session.get::<i64>(SIGNED_IN_AT_KEY).await?.is_none() {
            session.insert(SIGNED_IN_AT_KEY, now()).await?;
        }
        session
            .insert(&auth_key(&instance.info.name), &record)
            .await
    };
    if let Err(error) = stored.await {
        tracing::error!(%error, "could not store the sign-in");
        return sign_in_page("unavailable", &login.return_to);
    }
    tracing::info!(instance = %instance.info.name, user = %record.viewer.username, "signed in");
    Redirect::to(&login.return_to).into_response()
}

/// Signs out everywhere: revokes the tokens at GitLab (whatever its scheme), drops every
/// cached answer for them, destroys the session. POST only.
pub async fn logout(State(state): State<AppState>, session: Session) -> Response {
    let gateway = &state.services.gateway;
    for instance in gateway.instances.iter() {
        let Ok(Some(record)) = session
            .get::<AuthRecord>(&auth_key(&instance.info.name))
            .await
        else {
            continue;
        };
        let tokens =
            std::iter::once(record.access_token.as_str()).chain(record.refresh_token.as_deref());
        for token in tokens {
            if let Err(error) = instance.revoke(&state.oauth_http, token).await {
                tracing::warn!(instance = %instance.info.name, %error, "token revocation failed");
            }
        }
        gateway
            .caches
            .forget_credential(crate::auth::credential_key(
                &instance.info.name,
                &record.access_token,
            ))
            .await;
        tracing::info!(
            instance = %instance.info.name,
            user = %record.viewer.username,
            "signed out"
        );
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_read_only_when_well_formed() {
        let mut headers = HeaderMap::new();
        let good = "a".repeat(43);
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("x=1; registry_dash_login={good}; y=2"))
                .unwrap_or_else(|_| HeaderValue::from_static("")),
        );
        assert_eq!(cookie_value(&headers, "registry_dash_login"), Some(good));
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("registry_dash_login=short"),
        );
        assert_eq!(cookie_value(&headers, "registry_dash_login"), None);
    }
}
