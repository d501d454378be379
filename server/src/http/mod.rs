//! The whole HTTP surface of the BFF, and the order requests pass through it.
//!
//! Outermost first:
//! 1. `observe`: request id, access log, metrics, panics → 500 with the id;
//! 2. security headers (HSTS over https);
//! 3. `/healthz`, `/readyz`, `/metrics` (never shed, never behind a session);
//! 4. limits: requests in flight (503 + Retry-After beyond), timeout, body size;
//! 5. compression; CSRF origin check for mutations;
//! 6. the session (cookie `registry_dash_session`, `__Host-` over https), idle extension;
//! 7. sign-in gates: pages redirect to sign-in, server functions answer 401 before their
//!    body is read;
//! 8. routes: sign-in, server functions, the JSON API, pages, static files.

pub mod health;
pub mod limits;
pub mod observe;
pub mod security;
pub mod serve;
pub mod site;

use crate::auth::routes::session_cookie_name;
use crate::state::AppState;
use app::{shell, App};
use axum::routing::{get, post};
use axum::{middleware, Extension, Router};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, handle_server_fns, LeptosRoutes};
use tower_http::compression::CompressionLayer;
use tower_http::services::{ServeDir, ServeFile};
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

/// Leptos options for our layout: the bundle lives in `<site_root>/pkg/<hash>`, the
/// directory the build's manifest names (see [`site`]).
pub fn leptos_options(state: &AppState) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name(site::OUTPUT_NAME)
        .site_root(state.config.site_root.to_string_lossy().to_string())
        .site_pkg_dir(state.site.leptos_pkg_dir())
        .site_addr(state.config.listen)
        .build()
}

/// Paths no route has: a JSON 404 under `/api/`, else a static file or the page's 404.
async fn fallback(
    uri: axum::http::Uri,
    state: axum::extract::State<LeptosOptions>,
    request: axum::extract::Request,
) -> axum::response::Response {
    if uri.path().starts_with("/api/") {
        return crate::api::not_found();
    }
    leptos_axum::file_and_error_handler(shell)(uri, state, request).await
}

/// Builds the router (see the module docs for the order of layers).
pub fn router(state: AppState) -> Router {
    let options = leptos_options(&state);
    let routes = generate_route_list(App);

    let pages: Router = Router::new()
        .leptos_routes(&options, routes, {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(fallback)
        .with_state(options.clone());

    let pkg_dir = state.site.pkg_dir().to_path_buf();
    let bff_routes: Router = Router::new()
        .route("/", get(security::home))
        .route("/auth/login", get(crate::auth::routes::login))
        .route(
            "/auth/callback/{instance}",
            get(crate::auth::routes::callback),
        )
        .route("/auth/logout", post(crate::auth::routes::logout))
        .route("/api/fn/{*name}", post(handle_server_fns))
        .with_state(state.clone());

    let session_layer = SessionManagerLayer::new(state.sessions.clone())
        .with_name(session_cookie_name(state.config.cookie_secure))
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.config.cookie_secure)
        .with_path("/")
        // A browser-session cookie: the store enforces idle and absolute expiry.
        .with_expiry(Expiry::OnSessionEnd);

    let app = Router::new()
        .merge(bff_routes)
        .merge(crate::api::router(state.clone()))
        .merge(pages)
        .nest_service(
            "/pkg",
            ServeDir::new(&pkg_dir)
                .precompressed_br()
                .precompressed_gzip(),
        )
        .route_service("/favicon.svg", ServeFile::new(pkg_dir.join("favicon.svg")))
        .layer(Extension(state.backend()))
        .layer(Extension(state.site.page_chunks()))
        .layer(middleware::from_fn(security::server_fn_errors))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security::server_fn_gate,
        ))
        // Inside the sign-in check: only signed-in requests wait for a policy page's turn.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            limits::policy_pages,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security::require_sign_in,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security::extend_session,
        ))
        .layer(session_layer)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security::same_origin_mutations,
        ))
        // brotli/gzip for pages and data, outside everything that reads a response body
        // (server functions' error statuses). The bundle under /pkg is served from its
        // precompressed copies, which this layer leaves as they are (already encoded).
        .layer(CompressionLayer::new());
    let app = limits::apply(app, &state.config.limits, &state)
        .layer(middleware::from_fn(security::json_too_large));

    let operations: Router = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .with_state(state.clone());

    Router::new()
        .merge(operations)
        .merge(app)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security::security_headers,
        ))
        .layer(middleware::from_fn_with_state(state, observe::observe))
}
