//! Deploy tokens over REST: `/projects/:id/deploy_tokens[/:token_id]` and
//! `/groups/:id/deploy_tokens[/:token_id]` (list, show, create, delete).
//!
//! What GitLab does (`lib/api/deploy_tokens.rb`, `DeployToken`, the policies):
//!
//! - Project deploy tokens need Maintainer for everything (`read_deploy_token`,
//!   `create_deploy_token`, `destroy_deploy_token`); group deploy tokens need Maintainer to read
//!   and Owner to create or delete. The endpoints demand no sign-in up front: a caller who cannot
//!   see the project or group gets `404 Project Not Found` / `404 Group Not Found`, one who can
//!   but lacks the role `403 Forbidden` (anonymous callers included). Reading takes a token with
//!   `api` or `read_api`, changing one with `api`.
//! - `POST`: Grape checks `name` (required string), `scopes` (required array, a string is split at
//!   commas, every element one of the deploy token scopes), `expires_at` (optional `DateTime`) and
//!   `username` (optional string), and answers `400 {"error":"…"}` listing every problem in that
//!   order. Then the model validates and a refusal is `400 {"message":"<full messages as a
//!   sentence>"}`: `Scopes can't be blank` (an empty array), `Username is too long (maximum is 255
//!   characters)`, `Username can contain only letters, digits, '_', '-', '+', and '.'`, `Name is
//!   too long (maximum is 255 characters)`. GitLab does not refuse an `expires_at` in the past: the
//!   token is born expired. Success is `201` with the token and, this once, its secret (`token`).
//!   An empty `username` means the default `gitlab+deploy-token-<id>`; an empty `expires_at`, none.
//! - `GET …/:token_id` and `DELETE …/:token_id` of an id the project or group does not have:
//!   `404 {"message":"404 Not found"}`; a `token_id` that is not an integer: `400 {"error":
//!   "token_id is invalid"}`. `DELETE` destroys the token (`204`): it disappears from the lists and
//!   stops authenticating at `/jwt/auth` at once.
//! - Lists are ordered by id and paginated; `?active=true` keeps tokens that are not revoked and
//!   whose expiry has not passed (`expires_at >= NOW()`), `?active=false` filters nothing.
//!
//! The entity is `{id, name, username, expires_at, revoked, expired, scopes}` (`expires_at` a
//! millisecond UTC timestamp, null for a token that never expires; `scopes` in GitLab's order).

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use time::OffsetDateTime;

use super::form::{grape_errors, to_sentence, Form, Param};
use super::{authenticate, find_group, find_project, json_with, origin, ApiError, Caller, Params};
use crate::clock;
use crate::credentials::{
    deploy_token_secret, valid_deploy_token_username, DeployToken, Holder, DEPLOY_TOKEN_SCOPES,
};
use crate::model::{access, World};
use crate::pagination::{paginate, Counting, PageRequest};
use crate::state::Double;

/// Projects or groups.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    Project,
    Group,
}

/// The project or group the caller can see (404 otherwise).
pub(crate) fn find_holder(
    world: &World,
    caller: &Caller,
    kind: Kind,
    reference: &str,
) -> Result<Holder, ApiError> {
    match kind {
        Kind::Project => find_project(world, caller, reference).map(|p| Holder::Project(p.id)),
        Kind::Group => find_group(world, caller, reference).map(|g| Holder::Group(g.id)),
    }
}

/// `read_deploy_token`: Maintainer of the project or group.
fn can_read(world: &World, caller: &Caller, holder: Holder) -> bool {
    world.holder_access(caller.user_id, holder) >= access::MAINTAINER
}

/// `create_deploy_token` / `destroy_deploy_token`: Maintainer of a project, Owner of a group.
fn can_manage(world: &World, caller: &Caller, holder: Holder) -> bool {
    let needed = match holder {
        Holder::Project(_) => access::MAINTAINER,
        Holder::Group(_) => access::OWNER,
    };
    world.holder_access(caller.user_id, holder) >= needed
}

/// `Entities::DeployToken` (`DeployTokenWithToken` with the secret).
pub(crate) fn deploy_token_json(token: &DeployToken, now: OffsetDateTime, secret: bool) -> Value {
    let mut v = json!({
        "id": token.id,
        "name": token.name,
        "username": token.username(),
        "expires_at": token.expires_at.map(clock::rest),
        "revoked": token.revoked,
        "expired": token.expired(now),
        "scopes": token.scopes,
    });
    if secret {
        v["token"] = json!(token.secret);
    }
    v
}

/// Ruby's `String#split(',')` with `strip`: trailing empty fields are dropped.
fn split_commas(text: &str) -> Vec<String> {
    let mut parts: Vec<String> = text.split(',').map(|s| s.trim().to_owned()).collect();
    while parts.last().is_some_and(String::is_empty) {
        parts.pop();
    }
    parts
}

fn token_id(raw: &str) -> Result<u64, ApiError> {
    raw.trim()
        .parse()
        .map_err(|_| ApiError::bad_param("token_id is invalid"))
}

/// Writes need the `api` scope from signed-in callers; anonymous callers fall through to the
/// permission checks (GitLab's deploy token API does not call `authenticate!`).
fn require_write(caller: &Caller) -> Result<(), ApiError> {
    if caller.user_id.is_some() {
        caller.require_write()?;
    }
    Ok(())
}

async fn list(
    double: Double,
    headers: HeaderMap,
    uri: axum::http::Uri,
    query: Option<String>,
    kind: Kind,
    id: String,
) -> Result<Response, ApiError> {
    let caller = authenticate(&double, &headers, query.as_deref())?;
    caller.require_read()?;
    let params = Params::parse(query.as_deref());
    let request = PageRequest::from_params(&params)?;
    let active = params.bool("active")?.unwrap_or(false);
    let world = double.world();
    let holder = find_holder(&world, &caller, kind, &id)?;
    if !can_read(&world, &caller, holder) {
        return Err(ApiError::Forbidden);
    }
    let now = OffsetDateTime::now_utc();
    let tokens: Vec<Value> = double
        .credentials()
        .deploy_tokens(holder)
        .into_iter()
        .filter(|t| !active || t.active(now))
        .map(|t| deploy_token_json(t, now, false))
        .collect();
    let (page, page_headers) = paginate(
        &tokens,
        request,
        Counting::Relation,
        &format!("{}{}", origin(&headers), uri.path()),
        &params,
    );
    Ok(json_with(StatusCode::OK, page_headers, &Value::Array(page)))
}

async fn show(
    double: Double,
    headers: HeaderMap,
    query: Option<String>,
    kind: Kind,
    (id, token): (String, String),
) -> Result<Response, ApiError> {
    let caller = authenticate(&double, &headers, query.as_deref())?;
    caller.require_read()?;
    let token_id = token_id(&token)?;
    let world = double.world();
    let holder = find_holder(&world, &caller, kind, &id)?;
    if !can_read(&world, &caller, holder) {
        return Err(ApiError::Forbidden);
    }
    let now = OffsetDateTime::now_utc();
    let body = double
        .credentials()
        .deploy_token(holder, token_id)
        .map(|t| deploy_token_json(t, now, false))
        .ok_or(ApiError::RecordNotFound)?;
    Ok(json_with(StatusCode::OK, HeaderMap::new(), &body))
}

/// What Grape accepted of a creation request.
struct Creation {
    name: String,
    scopes: Vec<String>,
    expires_at: Option<OffsetDateTime>,
    username: Option<String>,
}

fn creation_params(form: &Form) -> Result<Creation, ApiError> {
    let mut errors = Vec::new();
    let name = form.text("name", &mut errors);
    if form.get("name").is_none() {
        errors.push("name is missing".to_owned());
    }
    let scopes = match form.get("scopes") {
        None => {
            errors.push("scopes is missing".to_owned());
            Vec::new()
        }
        Some(Param::Text(text)) => split_commas(text),
        Some(Param::List(items)) => items.iter().flat_map(|i| split_commas(i)).collect(),
        Some(_) => {
            errors.push("scopes is invalid".to_owned());
            Vec::new()
        }
    };
    if scopes
        .iter()
        .any(|s| !DEPLOY_TOKEN_SCOPES.contains(&s.as_str()))
    {
        errors.push("scopes does not have a valid value".to_owned());
    }
    let expires_at = match form.text("expires_at", &mut errors) {
        Some(text) if text.trim().is_empty() => None,
        Some(text) => {
            let parsed = clock::parse_datetime(&text);
            if parsed.is_none() {
                errors.push("expires_at is invalid".to_owned());
            }
            parsed
        }
        None => None,
    };
    let username = form
        .text("username", &mut errors)
        .filter(|u| !u.trim().is_empty());
    grape_errors(errors)?;
    Ok(Creation {
        name: name.unwrap_or_default(),
        // Stored as the model's boolean columns: GitLab's order, no duplicates.
        scopes: DEPLOY_TOKEN_SCOPES
            .iter()
            .filter(|s| scopes.iter().any(|x| x == *s))
            .map(|s| (*s).to_owned())
            .collect(),
        expires_at,
        username,
    })
}

/// The model's validations, in its order.
fn model_errors(creation: &Creation) -> Vec<String> {
    let mut errors = Vec::new();
    if creation.scopes.is_empty() {
        errors.push("Scopes can't be blank".to_owned());
    }
    if let Some(username) = &creation.username {
        if username.chars().count() > 255 {
            errors.push("Username is too long (maximum is 255 characters)".to_owned());
        }
        if !valid_deploy_token_username(username) {
            errors.push(
                "Username can contain only letters, digits, '_', '-', '+', and '.'".to_owned(),
            );
        }
    }
    if creation.name.chars().count() > 255 {
        errors.push("Name is too long (maximum is 255 characters)".to_owned());
    }
    errors
}

async fn create(
    double: Double,
    headers: HeaderMap,
    query: Option<String>,
    kind: Kind,
    id: String,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = authenticate(&double, &headers, query.as_deref())?;
    require_write(&caller)?;
    let form = Form::parse(&headers, query.as_deref(), &body)?;
    let creation = creation_params(&form)?;
    let world = double.world();
    let holder = find_holder(&world, &caller, kind, &id)?;
    if !can_manage(&world, &caller, holder) {
        return Err(ApiError::Forbidden);
    }
    let errors = model_errors(&creation);
    if !errors.is_empty() {
        return Err(ApiError::Message(
            StatusCode::BAD_REQUEST,
            json!(to_sentence(&errors)),
        ));
    }
    let now = OffsetDateTime::now_utc();
    let token = double.credentials().insert_deploy_token(DeployToken {
        id: 0,
        holder,
        name: creation.name,
        username: creation.username,
        secret: deploy_token_secret(),
        scopes: creation.scopes,
        expires_at: creation.expires_at,
        revoked: false,
    });
    tracing::info!(
        id = token.id,
        holder = ?holder,
        "deploy token created"
    );
    Ok(json_with(
        StatusCode::CREATED,
        HeaderMap::new(),
        &deploy_token_json(&token, now, true),
    ))
}

async fn delete(
    double: Double,
    headers: HeaderMap,
    query: Option<String>,
    kind: Kind,
    (id, token): (String, String),
) -> Result<Response, ApiError> {
    let caller = authenticate(&double, &headers, query.as_deref())?;
    require_write(&caller)?;
    let token_id = token_id(&token)?;
    let world = double.world();
    let holder = find_holder(&world, &caller, kind, &id)?;
    if !can_manage(&world, &caller, holder) {
        return Err(ApiError::Forbidden);
    }
    if !double.credentials().delete_deploy_token(holder, token_id) {
        return Err(ApiError::RecordNotFound);
    }
    tracing::info!(id = token_id, holder = ?holder, "deploy token deleted");
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /projects/:id/deploy_tokens`.
pub(super) async fn project_list(
    State(double): State<Double>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    RawQuery(query): RawQuery,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    list(double, headers, uri, query, Kind::Project, id).await
}

/// `GET /groups/:id/deploy_tokens`.
pub(super) async fn group_list(
    State(double): State<Double>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    RawQuery(query): RawQuery,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    list(double, headers, uri, query, Kind::Group, id).await
}

/// `GET /projects/:id/deploy_tokens/:token_id`.
pub(super) async fn project_show(
    State(double): State<Double>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    Path(ids): Path<(String, String)>,
) -> Result<Response, ApiError> {
    show(double, headers, query, Kind::Project, ids).await
}

/// `GET /groups/:id/deploy_tokens/:token_id`.
pub(super) async fn group_show(
    State(double): State<Double>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    Path(ids): Path<(String, String)>,
) -> Result<Response, ApiError> {
    show(double, headers, query, Kind::Group, ids).await
}

/// `POST /projects/:id/deploy_tokens` → 201.
pub(super) async fn project_create(
    State(double): State<Double>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    create(double, headers, query, Kind::Project, id, body).await
}

/// `POST /groups/:id/deploy_tokens` → 201.
pub(super) async fn group_create(
    State(double): State<Double>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    create(double, headers, query, Kind::Group, id, body).await
}

/// `DELETE /projects/:id/deploy_tokens/:token_id` → 204.
pub(super) async fn project_delete(
    State(double): State<Double>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    Path(ids): Path<(String, String)>,
) -> Result<Response, ApiError> {
    delete(double, headers, query, Kind::Project, ids).await
}

/// `DELETE /groups/:id/deploy_tokens/:token_id` → 204.
pub(super) async fn group_delete(
    State(double): State<Double>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    Path(ids): Path<(String, String)>,
) -> Result<Response, ApiError> {
    delete(double, headers, query, Kind::Group, ids).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commas_like_ruby() {
        assert_eq!(
            split_commas("read_registry, write_registry"),
            ["read_registry", "write_registry"]
        );
        assert!(split_commas("").is_empty());
        assert!(split_commas(",").is_empty());
    }
}
