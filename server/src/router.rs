//! The whole HTTP surface of the BFF.

use crate::config::Config;
use crate::services::BffBackend;
use crate::state::Bff;
use crate::web;
use app::backend::BackendHandle;
use app::{shell, App, OUTPUT_NAME};
use axum::routing::{get, post};
use axum::{middleware, Extension, Router};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, handle_server_fns, LeptosRoutes};
use std::sync::Arc;
use tower_http::compression::CompressionLayer;
use tower_http::services::{ServeDir, ServeFile};
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

/// Leptos options for our layout: the bundle lives in `<site_root>/pkg`.
pub fn leptos_options(config: &Config) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name(OUTPUT_NAME)
        .site_root(config.site_root.to_string_lossy().to_string())
        .site_pkg_dir("pkg")
        .site_addr(config.listen)
        .build()
}

/// Builds the router: auth routes, server functions, pages, static files, middleware.
pub fn build(config: &Config, bff: Arc<Bff>) -> Router {
    let options = leptos_options(config);
    let routes = generate_route_list(App);
    let backend = BackendHandle(Arc::new(BffBackend(bff.clone())));

    let pages: Router = Router::new()
        .leptos_routes(&options, routes, {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler(shell))
        .with_state(options.clone());

    let pkg_dir = config.site_root.join("pkg");
    let bff_routes: Router = Router::new()
        .route("/", get(web::home))
        .route("/auth/login", get(crate::auth::routes::login))
        .route("/auth/callback", get(crate::auth::routes::callback))
        .route("/auth/logout", post(crate::auth::routes::logout))
        .route("/healthz", get(web::health))
        .route("/api/fn/{*name}", post(handle_server_fns))
        .with_state(bff.clone());

    let session_layer = SessionManagerLayer::new(bff.store.clone())
        .with_name("registry_dash_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.cookie_secure)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(
            tower_sessions::cookie::time::Duration::minutes(config.session_idle_minutes),
        ));

    Router::new()
        .merge(bff_routes)
        .merge(crate::api::routes(bff.clone()))
        .merge(pages)
        .nest_service("/pkg", ServeDir::new(&pkg_dir))
        .route_service("/favicon.svg", ServeFile::new(pkg_dir.join("favicon.svg")))
        .layer(Extension(backend))
        // brotli/gzip: the wasm bundle shrinks to about a third on the wire.
        .layer(CompressionLayer::new())
        .layer(middleware::from_fn_with_state(
            bff.clone(),
            web::require_sign_in,
        ))
        .layer(session_layer)
        .layer(middleware::from_fn_with_state(
            bff,
            web::same_origin_mutations,
        ))
        .layer(middleware::from_fn(web::security_headers))
}
