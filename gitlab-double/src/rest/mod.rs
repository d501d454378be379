//! REST API v4 (`/api/v4/...`): shared plumbing (errors, authentication, parameters) and routes.

mod access_tokens;
mod ci;
mod cleanup;
mod deploy_tokens;
mod entities;
mod form;
mod groups;
pub(crate) mod metadata;
mod projects;
mod protection;
mod registry;
mod users;

use axum::http::header::{HeaderValue, CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch};
use axum::{Json, Router};
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::auth::tokens::{TokenLookup, TokenRecord};
use crate::model::{Group, Project, World};
use crate::state::Double;
use crate::sync::lock;

const EXPIRED: &str = "Token is expired. You can either do re-authorization or token refresh.";
const REVOKED: &str = "Token was revoked. You have to re-authorize from the user.";
const INSUFFICIENT: &str =
    "The request requires higher privileges than provided by the access token.";

/// An API error rendered exactly as GitLab renders it.
#[derive(Debug, Clone)]
pub(crate) enum ApiError {
    /// Missing or unknown credentials: `{"message":"401 Unauthorized"}`.
    Unauthorized,
    /// Expired OAuth token.
    TokenExpired,
    /// Revoked OAuth token.
    TokenRevoked,
    /// Token lacks a scope; the string lists the scopes that would do.
    InsufficientScope(&'static str),
    /// `{"message":"403 Forbidden"}`.
    Forbidden,
    /// `{"message":"404 <what> Not Found"}`.
    NotFound(&'static str),
    /// An unknown record id: `{"message":"404 Not found"}`.
    RecordNotFound,
    /// `{"message": <value>}` with a status.
    Message(StatusCode, Value),
    /// Grape parameter errors: `{"error": "..."}` with a status.
    Error(StatusCode, String),
}

impl ApiError {
    pub fn bad_param(message: impl Into<String>) -> ApiError {
        ApiError::Error(StatusCode::BAD_REQUEST, message.into())
    }
}

fn bearer_challenge(error: &str, description: &str, scope: Option<&str>) -> HeaderValue {
    let mut value = format!(
        "Bearer realm=\"Protected by OAuth 2.0\", error=\"{error}\", \
            error_description=\"{description}\""
    );
    if let Some(scope) = scope {
        value.push_str(&format!(", scope=\"{scope}\""));
    }
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("Bearer"))
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Unauthorized => message(StatusCode::UNAUTHORIZED, json!("401 Unauthorized")),
            ApiError::TokenExpired | ApiError::TokenRevoked => {
                let description = if matches!(self, ApiError::TokenExpired) {
                    EXPIRED
                } else {
                    REVOKED
                };
                let mut response = (
                    StatusCode::UNAUTHORIZED,
                    Json(json!({ "error": "invalid_token", "error_description": description })),
                )
                    .into_response();
                response.headers_mut().insert(
                    WWW_AUTHENTICATE,
                    bearer_challenge("invalid_token", description, None),
                );
                response
            }
            ApiError::InsufficientScope(scope) => {
                let mut response = (
                    StatusCode::FORBIDDEN,
                    Json(json!({
                        "error": "insufficient_scope",
                        "error_description": INSUFFICIENT,
                        "scope": scope,
                    })),
                )
                    .into_response();
                response.headers_mut().insert(
                    WWW_AUTHENTICATE,
                    bearer_challenge("insufficient_scope", INSUFFICIENT, Some(scope)),
                );
                response
            }
            ApiError::Forbidden => message(StatusCode::FORBIDDEN, json!("403 Forbidden")),
            ApiError::NotFound(what) => message(
                StatusCode::NOT_FOUND,
                json!(format!("404 {what} Not Found")),
            ),
            ApiError::RecordNotFound => message(StatusCode::NOT_FOUND, json!("404 Not found")),
            ApiError::Message(status, value) => message(status, value),
            ApiError::Error(status, text) => {
                (status, Json(json!({ "error": text }))).into_response()
            }
        }
    }
}

fn message(status: StatusCode, value: Value) -> Response {
    (status, Json(json!({ "message": value }))).into_response()
}

/// The authenticated (or anonymous) caller of an API request.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub user_id: Option<u64>,
    pub token: Option<TokenRecord>,
}

impl Caller {
    /// Read access: `api` or `read_api` (anonymous callers see public data).
    pub fn require_read(&self) -> Result<(), ApiError> {
        match &self.token {
            Some(t) if !(t.has_scope("api") || t.has_scope("read_api")) => {
                Err(ApiError::InsufficientScope("api read_api"))
            }
            _ => Ok(()),
        }
    }

    /// Reading the current user also works with `read_user`.
    pub fn require_user_read(&self) -> Result<u64, ApiError> {
        let Some(user) = self.user_id else {
            return Err(ApiError::Unauthorized);
        };
        match &self.token {
            Some(t)
                if !(t.has_scope("api") || t.has_scope("read_api") || t.has_scope("read_user")) =>
            {
                Err(ApiError::InsufficientScope("api read_api read_user"))
            }
            _ => Ok(user),
        }
    }

    /// Write access: signed in with the `api` scope.
    pub fn require_write(&self) -> Result<u64, ApiError> {
        let Some(user) = self.user_id else {
            return Err(ApiError::Unauthorized);
        };
        match &self.token {
            Some(t) if !t.has_scope("api") => Err(ApiError::InsufficientScope("api")),
            _ => Ok(user),
        }
    }
}

/// The bearer token of a request (`Authorization: Bearer`, `access_token` parameter, or a
/// `PRIVATE-TOKEN`). Only OAuth access tokens authenticate API requests here: the double's
/// project and group access tokens work at the registry's `/jwt/auth` alone (GitLab would also
/// take them as API tokens of their bot users; the double does not model that).
pub(crate) fn presented_token(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    if let Some(value) = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let mut parts = value.splitn(2, ' ');
        let scheme = parts.next().unwrap_or_default();
        let token = parts.next().unwrap_or_default().trim();
        if scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() {
            return Some(token.to_owned());
        }
    }
    if let Some(query) = query {
        if let Some((_, v)) =
            url::form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "access_token")
        {
            return Some(v.into_owned());
        }
    }
    headers
        .get("private-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Resolves the caller of a request; token errors come out exactly as GitLab's.
pub(crate) fn authenticate(
    double: &Double,
    headers: &HeaderMap,
    query: Option<&str>,
) -> Result<Caller, ApiError> {
    let Some(token) = presented_token(headers, query) else {
        return Ok(Caller {
            user_id: None,
            token: None,
        });
    };
    let lookup = lock(&double.controls().tokens).lookup(&token, OffsetDateTime::now_utc());
    match lookup {
        TokenLookup::Valid(record) => {
            let world = double.world();
            match world.user(record.user_id) {
                Some(user) if user.state == "active" => Ok(Caller {
                    user_id: Some(record.user_id),
                    token: Some(record),
                }),
                _ => Err(ApiError::Unauthorized),
            }
        }
        TokenLookup::Expired => Err(ApiError::TokenExpired),
        TokenLookup::Revoked => Err(ApiError::TokenRevoked),
        TokenLookup::Unknown => Err(ApiError::Unauthorized),
    }
}

/// Query (or form) parameters, in request order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Params(pub Vec<(String, String)>);

impl Params {
    pub fn parse(raw: Option<&str>) -> Params {
        Params(
            raw.map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default(),
        )
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Grape's Boolean coercion; anything else is a 400 `"<name> is invalid"`.
    pub fn bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => parse_bool(v)
                .map(Some)
                .ok_or_else(|| ApiError::bad_param(format!("{name} is invalid"))),
        }
    }

    /// Integer parameter; non-integers are a 400 `"<name> is invalid"`.
    pub fn int(&self, name: &str) -> Result<Option<i64>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some("") => Ok(None),
            Some(v) => v
                .trim()
                .parse::<i64>()
                .map(Some)
                .map_err(|_| ApiError::bad_param(format!("{name} is invalid"))),
        }
    }
}

pub(crate) fn parse_bool(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "1" | "t" | "yes" | "y" | "on" => Some(true),
        "false" | "0" | "f" | "no" | "n" | "off" => Some(false),
        _ => None,
    }
}

/// The double's public origin as the client sees it (for `web_url` and `Link` headers).
pub(crate) fn origin(headers: &HeaderMap) -> String {
    let host = headers
        .get("x-forwarded-host")
        .or_else(|| headers.get(axum::http::header::HOST))
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("http");
    format!("{scheme}://{host}")
}

/// A JSON response with extra headers.
pub(crate) fn json_with(status: StatusCode, headers: HeaderMap, body: &Value) -> Response {
    let mut response = (status, Json(body)).into_response();
    response.headers_mut().extend(headers);
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// A project the caller can see, by id or URL-encoded path; otherwise `404 Project Not Found`.
pub(crate) fn find_project<'w>(
    world: &'w World,
    caller: &Caller,
    reference: &str,
) -> Result<&'w Project, ApiError> {
    world
        .project_by_ref(reference)
        .filter(|p| world.can_see_project(caller.user_id, p))
        .ok_or(ApiError::NotFound("Project"))
}

/// A group the caller can see, by id or URL-encoded path; otherwise `404 Group Not Found`.
pub(crate) fn find_group<'w>(
    world: &'w World,
    caller: &Caller,
    reference: &str,
) -> Result<&'w Group, ApiError> {
    world
        .group_by_ref(reference)
        .filter(|g| world.can_see_group(caller.user_id, g))
        .ok_or(ApiError::NotFound("Group"))
}

/// `avatar_url` of a user: a small SVG served by the double (no internet needed).
pub(crate) fn avatar_url(origin: &str, username: &str) -> String {
    format!("{origin}/-/double/avatars/{username}.svg")
}

pub(crate) fn routes() -> Router<Double> {
    Router::new()
        .route("/api/v4/user", get(users::current_user))
        .route("/api/v4/users/{id}", get(users::user))
        .route("/api/v4/projects", get(projects::list))
        .route(
            "/api/v4/projects/{id}",
            get(projects::show).put(projects::update),
        )
        .route("/api/v4/groups", get(groups::list))
        .route("/api/v4/groups/{id}", get(groups::show))
        .route("/api/v4/groups/{id}/projects", get(groups::projects))
        .route(
            "/api/v4/groups/{id}/members/all/{user_id}",
            get(groups::member),
        )
        .route(
            "/api/v4/groups/{id}/registry/repositories",
            get(registry::group_repositories),
        )
        .route(
            "/api/v4/projects/{id}/registry/repositories",
            get(registry::project_repositories),
        )
        .route(
            "/api/v4/projects/{id}/registry/repositories/{repository_id}",
            axum::routing::delete(registry::delete_repository),
        )
        .route(
            "/api/v4/projects/{id}/registry/repositories/{repository_id}/tags",
            get(registry::list_tags).delete(registry::bulk_delete_tags),
        )
        .route(
            "/api/v4/projects/{id}/registry/repositories/{repository_id}/tags/{tag_name}",
            get(registry::tag_details).delete(registry::delete_tag),
        )
        .route(
            "/api/v4/projects/{id}/registry/protection/repository/rules",
            get(protection::repository_rules).post(protection::create_repository_rule),
        )
        .route(
            "/api/v4/projects/{id}/registry/protection/repository/rules/{rule_id}",
            patch(protection::update_repository_rule).delete(protection::delete_repository_rule),
        )
        .route(
            "/api/v4/projects/{id}/registry/protection/tag/rules",
            get(protection::tag_rules),
        )
        .route(
            "/api/v4/projects/{id}/registry/protection/tag/rules/{rule_id}",
            patch(protection::update_tag_rule),
        )
        .route(
            "/api/v4/registry/repositories/{id}",
            get(registry::repository_details),
        )
        .route(
            "/api/v4/projects/{id}/deploy_tokens",
            get(deploy_tokens::project_list).post(deploy_tokens::project_create),
        )
        .route(
            "/api/v4/projects/{id}/deploy_tokens/{token_id}",
            get(deploy_tokens::project_show).delete(deploy_tokens::project_delete),
        )
        .route(
            "/api/v4/groups/{id}/deploy_tokens",
            get(deploy_tokens::group_list).post(deploy_tokens::group_create),
        )
        .route(
            "/api/v4/groups/{id}/deploy_tokens/{token_id}",
            get(deploy_tokens::group_show).delete(deploy_tokens::group_delete),
        )
        .route(
            "/api/v4/projects/{id}/access_tokens",
            get(access_tokens::project_list).post(access_tokens::project_create),
        )
        .route(
            "/api/v4/projects/{id}/access_tokens/{token_id}",
            get(access_tokens::project_show).delete(access_tokens::project_revoke),
        )
        .route(
            "/api/v4/groups/{id}/access_tokens",
            get(access_tokens::group_list).post(access_tokens::group_create),
        )
        .route(
            "/api/v4/groups/{id}/access_tokens/{token_id}",
            get(access_tokens::group_show).delete(access_tokens::group_revoke),
        )
        .route(
            "/api/v4/projects/{id}/repository/branches",
            get(ci::branches),
        )
        .route("/api/v4/projects/{id}/repository/tags", get(ci::git_tags))
        .route("/api/v4/projects/{id}/pipelines", get(ci::pipelines))
        .route(
            "/api/v4/projects/{id}/merge_requests",
            get(ci::merge_requests),
        )
        .route("/api/v4/projects/{id}/environments", get(ci::environments))
        .route(
            "/api/v4/projects/{id}/environments/{environment_id}",
            get(ci::environment),
        )
        .route("/api/v4/projects/{id}/deployments", get(ci::deployments))
        .route("/api/v4/metadata", get(metadata::metadata))
        .route("/api/v4/version", get(metadata::metadata))
}
