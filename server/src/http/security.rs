//! HTTP plumbing around the pages: security headers, the CSRF origin check, the sign-in
//! gates (pages and server functions), and idle-session extension.

use crate::state::AppState;
use app::error::AppError;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

/// Headers every response carries. Pages add their own nonce-based CSP in the HTML shell;
/// anything else gets a CSP that allows nothing. Over https, HSTS.
pub async fn security_headers(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let is_static = request.uri().path().starts_with("/pkg/");
    let immutable = state.site.is_immutable(request.uri().path());
    let mut response = next.run(request).await;
    let immutable = immutable && response.status().is_success();
    let headers = response.headers_mut();
    let set =
        |headers: &mut axum::http::HeaderMap, name: header::HeaderName, value: &'static str| {
            headers
                .entry(name)
                .or_insert_with(|| HeaderValue::from_static(value));
        };
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(headers, header::REFERRER_POLICY, "same-origin");
    set(
        headers,
        header::HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    set(
        headers,
        header::HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=(), payment=()",
    );
    set(
        headers,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
    );
    if state.config.https() {
        set(
            headers,
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000",
        );
    }
    if is_static {
        let caching = if immutable {
            // Named after its content hash (see `http::site`): it never changes.
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        set(headers, header::CACHE_CONTROL, caching);
        // /pkg answers with the brotli, gzip or plain copy by Accept-Encoding: a shared cache
        // must keep them apart.
        set(headers, header::VARY, "accept-encoding");
    } else {
        // Pages and data are per user: never stored by shared caches or the back/forward cache.
        set(headers, header::CACHE_CONTROL, "private, no-store");
    }
    response
}

/// Rejects state-changing requests that do not come from our own pages (CSRF). Browsers send
/// `Origin` on every POST; a missing or foreign one is refused.
pub async fn same_origin_mutations(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    // API scripts authenticate with a GitLab token in a header, which no other site can
    // make a browser send: no ambient credential, nothing to forge (the API then ignores
    // cookies altogether).
    let bearer_api = request.uri().path().starts_with("/api/v1/")
        && request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("Bearer "));
    if !safe && !bearer_api {
        let headers = request.headers();
        let origin_ok = headers
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|origin| origin == state.public_origin);
        let fetch_site_ok = headers
            .get("sec-fetch-site")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|site| site == "same-origin");
        let has_origin = headers.contains_key(header::ORIGIN);
        if !(origin_ok || (!has_origin && fetch_site_ok)) {
            tracing::info!(method = %request.method(), path = %request.uri().path(), "refused \
                cross-origin request");
            return (
                StatusCode::FORBIDDEN,
                "Refused: this request did not come from the dashboard's own pages.",
            )
                .into_response();
        }
    }
    next.run(request).await
}

/// Pages under `/i/<instance>/…` need a sign-in for that instance: without one (or past the
/// session's absolute lifetime), the browser goes to the sign-in page and comes back to the
/// same URL (query included) afterwards.
pub async fn require_sign_in(
    State(state): State<AppState>,
    session: Session,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_string();
    if request.method() == Method::GET {
        if let Some(rest) = path.strip_prefix("/i/") {
            let name = rest.split('/').next().unwrap_or_default();
            let name = percent_encoding::percent_decode_str(name)
                .decode_utf8_lossy()
                .into_owned();
            let signed_in = if state.services.gateway.instances.get(&name).is_ok() {
                state.sign_in.signed_in(&session, &name).await
            } else {
                Ok(true)
            };
            if signed_in.is_err() {
                return session_store_down();
            }
            if signed_in == Ok(false) {
                let here = request
                    .uri()
                    .path_and_query()
                    .map(|pq| pq.as_str().to_string())
                    .unwrap_or(path);
                return Redirect::to(&format!(
                    "/login?instance={}&return_to={}",
                    domain::query::encode_value(&name),
                    domain::query::encode_value(&here)
                ))
                .into_response();
            }
        }
    }
    next.run(request).await
}

/// The session store (Redis) does not answer: nothing can be said about the sign-in.
fn session_store_down() -> Response {
    super::limits::unavailable(
        5,
        "The dashboard cannot read sessions right now (its session store is not answering). \
         Try again in a moment; nothing was changed.\n",
    )
}

/// An error as a server function answers it: the [`AppError`] as JSON, with its status.
fn server_fn_error(error: &AppError) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_string(error).unwrap_or_default();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// Server functions other than the public instance list need a signed-in session before
/// their arguments are even read: an anonymous client's body is never parsed.
pub async fn server_fn_gate(
    State(state): State<AppState>,
    session: Session,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    let public = path == "/api/fn/instances";
    if path.starts_with("/api/fn/") && !public {
        let signed_in = match state.sign_in.signed_in_anywhere(&session).await {
            Ok(signed_in) => signed_in,
            Err(error) => return server_fn_error(&error),
        };
        if !signed_in {
            let instance = state
                .services
                .gateway
                .instances
                .first()
                .map(|i| i.info.name.clone())
                .unwrap_or_default();
            return server_fn_error(&AppError::NotSignedIn { instance });
        }
    }
    next.run(request).await
}

/// Server functions answer every error with 500 and the [`AppError`] as JSON: this gives the
/// response its real status (400, 401, 403, 404, 429 with `Retry-After`, 502, 503), so
/// scripts and the browser's network panel see what happened, and logs each error once.
pub async fn server_fn_errors(request: Request, next: Next) -> Response {
    let is_server_fn = request.uri().path().starts_with("/api/fn/");
    let response = next.run(request).await;
    if !is_server_fn || response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 256 * 1024).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if let Ok(error) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status =
            StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if let AppError::RateLimited { retry_after_secs }
        | AppError::Unavailable { retry_after_secs } = &error
        {
            if let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                parts.headers.insert(header::RETRY_AFTER, value);
            }
        }
        if parts.status.is_server_error() {
            tracing::warn!(status = parts.status.as_u16(), %error, "server function failed");
        } else {
            tracing::info!(status = parts.status.as_u16(), %error, "server function refused");
        }
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// A body refused for its size (413, decided from `Content-Length` before anything is
/// read) is answered in the error format of the API it was sent to.
pub async fn json_too_large(request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/api/v1/");
    let server_fn = request.uri().path().starts_with("/api/fn/");
    let response = next.run(request).await;
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if response.status() != StatusCode::PAYLOAD_TOO_LARGE || is_json {
        return response;
    }
    if api {
        return crate::api::ApiError(AppError::TooLarge).into_response();
    }
    if server_fn {
        return server_fn_error(&AppError::TooLarge);
    }
    response
}

/// Reading counts as activity: a live session's idle expiry moves on with every request,
/// without rewriting its data (see `auth::store`).
pub async fn extend_session(
    State(state): State<AppState>,
    session: Session,
    request: Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    if let Some(id) = session.id() {
        if let Err(error) = state.sessions.touch(&id).await {
            tracing::warn!(%error, "could not extend a session");
        }
    }
    response
}

/// `/`: the first instance's projects when signed in there, else the sign-in page.
pub async fn home(State(state): State<AppState>, session: Session) -> Response {
    for instance in state.services.gateway.instances.iter() {
        let Ok(signed_in) = state.sign_in.signed_in(&session, &instance.info.name).await else {
            return session_store_down();
        };
        if signed_in {
            return Redirect::to(&app::links::projects(&instance.info.name)).into_response();
        }
    }
    Redirect::to("/login").into_response()
}
