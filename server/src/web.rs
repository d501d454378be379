//! HTTP plumbing around the pages: security headers, CSRF origin check, the sign-in gate.

use crate::auth::records::auth_key;
use crate::state::Bff;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use std::sync::Arc;
use tower_sessions::Session;

/// Headers every response carries. Pages add their own nonce-based CSP in the HTML shell;
/// anything else gets a CSP that allows nothing.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let is_static = request.uri().path().starts_with("/pkg/");
    let mut response = next.run(request).await;
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
    if is_static {
        set(headers, header::CACHE_CONTROL, "no-cache");
    } else {
        // Pages and data are per user: never stored by shared caches or the back/forward cache.
        set(headers, header::CACHE_CONTROL, "private, no-store");
    }
    response
}

/// Rejects state-changing requests that do not come from our own pages (CSRF). Browsers send
/// `Origin` on every POST; a missing or foreign one is refused.
pub async fn same_origin_mutations(
    State(bff): State<Arc<Bff>>,
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
            .is_some_and(|origin| origin == bff.public_origin);
        let fetch_site_ok = headers
            .get("sec-fetch-site")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|site| site == "same-origin");
        let has_origin = headers.contains_key(header::ORIGIN);
        if !(origin_ok || (!has_origin && fetch_site_ok)) {
            tracing::info!(method = %request.method(), path = %request.uri().path(), "refused cross-origin request");
            return (
                StatusCode::FORBIDDEN,
                "Refused: this request did not come from the dashboard's own pages.",
            )
                .into_response();
        }
    }
    next.run(request).await
}

/// Pages under `/i/<instance>/…` need a sign-in for that instance: without one, the browser
/// goes to the sign-in page and comes back to the same URL (query included) afterwards.
pub async fn require_sign_in(
    State(bff): State<Arc<Bff>>,
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
            if bff.instance(&name).is_ok() {
                let signed_in = matches!(
                    session.get::<serde_json::Value>(&auth_key(&name)).await,
                    Ok(Some(_))
                );
                if !signed_in {
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
    }
    next.run(request).await
}

/// `/`: the first instance's projects when signed in there, else the sign-in page.
pub async fn home(State(bff): State<Arc<Bff>>, session: Session) -> Response {
    for instance in &bff.instances {
        if let Ok(Some(_)) = session
            .get::<serde_json::Value>(&auth_key(&instance.info.name))
            .await
        {
            return Redirect::to(&app::links::projects(&instance.info.name)).into_response();
        }
    }
    Redirect::to("/login").into_response()
}

/// Liveness for load balancers and tests.
pub async fn health() -> &'static str {
    "ok"
}
