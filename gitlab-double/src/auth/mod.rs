//! GitLab's OAuth 2 provider (Doorkeeper): authorize page, token, revoke, userinfo, token info.

mod oauth;
pub(crate) mod pages;
pub(crate) mod tokens;

use axum::routing::{get, post};
use axum::Router;

use crate::state::Double;

pub(crate) fn routes(double: Double) -> Router<Double> {
    let token = Router::new()
        .route("/oauth/token", post(oauth::token))
        .layer(axum::middleware::from_fn_with_state(
            double,
            crate::faults::latency_only,
        ));
    Router::new()
        .route(
            "/oauth/authorize",
            get(oauth::authorize_page).post(oauth::authorize_decision),
        )
        .route("/oauth/revoke", post(oauth::revoke))
        .route(
            "/oauth/userinfo",
            get(oauth::userinfo).post(oauth::userinfo),
        )
        .route("/oauth/token/info", get(oauth::token_info))
        .merge(token)
}
