//! `GET /user`, `GET /users/:id`.
//!
//! `GET /users/:id` also shows the bot users of project and group access tokens (a client learns
//! a token's bot username from its `user_id`), with GitLab's `bot` field (`Entities::User`).

use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::{authenticate, entities, origin, ApiError};
use crate::state::Double;

pub(super) async fn current_user(
    State(double): State<Double>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let caller = authenticate(&double, &headers, query.as_deref())?;
    let user_id = caller.require_user_read()?;
    let world = double.world();
    let user = world.user(user_id).ok_or(ApiError::Unauthorized)?;
    Ok(Json(entities::user_full(user, &origin(&headers))).into_response())
}

pub(super) async fn user(
    State(double): State<Double>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let caller = authenticate(&double, &headers, query.as_deref())?;
    if caller.user_id.is_some() {
        caller.require_user_read()?;
    }
    let world = double.world();
    let user = id
        .parse::<u64>()
        .ok()
        .and_then(|id| world.user(id))
        .ok_or(ApiError::NotFound("User"))?;
    let mut body = entities::user_basic(user, &origin(&headers));
    body["bot"] = serde_json::Value::Bool(user.bot);
    Ok(Json(body).into_response())
}
