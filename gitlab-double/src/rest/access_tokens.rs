//! Project and group access tokens over REST: `/projects/:id/access_tokens[/:token_id]` and
//! `/groups/:id/access_tokens[/:token_id]` (list, show, create, revoke).
//!
//! What GitLab does (`lib/api/resource_access_tokens.rb`, `ResourceAccessTokens::CreateService`
//! and `RevokeService`, `PersonalAccessToken`):
//!
//! - Every endpoint needs a signed-in caller (`401 {"message":"401 Unauthorized"}`). Project
//!   tokens need Maintainer (`admin_project`), group tokens Owner (`admin_group`). Who lacks the
//!   role and can see the project or group gets, when listing or showing, `401 Unauthorized`
//!   (sic); when creating, `400 {"message":"400 Bad request - User does not have permission to
//!   create project access token"}` (`group …`); when revoking, `400 {"message":"400 Bad request -
//!   <caller's name> cannot delete <bot's name>"}`, checked after the token lookup. Reading takes
//!   a token with `api` or `read_api`, changing one with `api`.
//! - `POST`: Grape checks `name` (required string), `description` (string), `expires_at` (`Date`),
//!   `scopes` (required array, each one of the resource bot scopes) and `access_level` (integer
//!   in 10, 20, 30, 40, 50; default 40), answering `400 {"error":"…"}`. Then the service refuses
//!   an access level above the caller's own: `400 … - Access level of the token contains
//!   permissions not held by the creating user` (older GitLab: `Access level of the token can't be
//!   greater the access level of the user who created the token`). It creates the bot user (name
//!   = token name; a blank name fails here: `Name can't be blank`), makes it a member at the
//!   level, then the token, whose model refuses `Scopes can't be blank` and an expiry after
//!   today + 365 days (`Expires at must be before YYYY-MM-DD`); these come as `400 {"message":
//!   "400 Bad request - <messages as a sentence>"}`. Without `expires_at` the token expires in 365
//!   days (token expiry is enforced by default); an expiry in the past is not refused, the token
//!   is born inactive. Success: `201` with the token and, this once, its secret.
//! - `DELETE` revokes (`204`). Since GitLab 17.9 the token stays listed (`active: false`,
//!   `revoked: true`) and the bot user keeps its membership; a revoked token no longer
//!   authenticates. An id the project or group has no token for: `404 {"message":"404 project
//!   Access Token Not Found"}` (`group …`), for `GET` too.
//! - Lists are ordered by id and paginated; `?state=active|inactive` (anything else: `400
//!   {"error":"state does not have a valid value"}`) and `?revoked=true|false` filter.
//!
//! The entity is `Entities::ResourceAccessToken`: `{id, name, revoked, created_at, description,
//! scopes, user_id, last_used_at, active, expires_at, access_level}`, `expires_at` a date
//! (`2021-01-31`), `access_level` the bot's role in the project or group.

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use time::{Duration, OffsetDateTime, UtcOffset};

use super::deploy_tokens::{find_holder, Kind};
use super::form::{grape_errors, to_sentence, Form, Param};
use super::{authenticate, json_with, origin, ApiError, Caller, Params};
use crate::clock;
use crate::credentials::{
    access_token_secret, bot_username, AccessToken, Holder, ACCESS_TOKEN_LEVELS,
    ACCESS_TOKEN_SCOPES, MAX_LIFETIME_DAYS,
};
use crate::model::{access, World};
use crate::pagination::{paginate, Counting, PageRequest};
use crate::state::Double;

/// `read_resource_access_tokens` (and create/destroy): Maintainer of a project, Owner of a group.
fn can_manage(world: &World, caller: &Caller, holder: Holder) -> bool {
    let needed = match holder {
        Holder::Project(_) => access::MAINTAINER,
        Holder::Group(_) => access::OWNER,
    };
    world.holder_access(caller.user_id, holder) >= needed
}

/// `Entities::ResourceAccessToken` (`…WithToken` with the secret).
pub(crate) fn access_token_json(token: &AccessToken, now: OffsetDateTime, secret: bool) -> Value {
    let mut v = json!({
        "id": token.id,
        "name": token.name,
        "revoked": token.revoked,
        "created_at": clock::rest(token.created_at),
        "description": token.description,
        "scopes": token.scopes,
        "user_id": token.user_id,
        "last_used_at": token.last_used_at.map(clock::rest),
        "active": token.active(now),
        "expires_at": token.expires_at.map(clock::date),
        "access_level": token.access_level,
    });
    if secret {
        v["token"] = json!(token.secret);
    }
    v
}

fn not_found(holder: Holder) -> ApiError {
    ApiError::NotFound(match holder {
        Holder::Project(_) => "project Access Token",
        Holder::Group(_) => "group Access Token",
    })
}

fn bad_request(message: &str) -> ApiError {
    ApiError::Message(
        StatusCode::BAD_REQUEST,
        json!(format!("400 Bad request - {message}")),
    )
}

/// A signed-in caller (`before { authenticate! }`).
fn signed_in(
    double: &Double,
    headers: &HeaderMap,
    query: Option<&str>,
) -> Result<Caller, ApiError> {
    let caller = authenticate(double, headers, query)?;
    if caller.user_id.is_none() {
        return Err(ApiError::Unauthorized);
    }
    Ok(caller)
}

/// The token of `holder` with this id (`token_id` is a string: anything else is not found).
fn find_token(double: &Double, holder: Holder, raw: &str) -> Result<AccessToken, ApiError> {
    raw.trim()
        .parse::<u64>()
        .ok()
        .and_then(|id| double.credentials().access_token(holder, id).cloned())
        .ok_or_else(|| not_found(holder))
}

async fn list(
    double: Double,
    headers: HeaderMap,
    uri: axum::http::Uri,
    query: Option<String>,
    kind: Kind,
    id: String,
) -> Result<Response, ApiError> {
    let caller = signed_in(&double, &headers, query.as_deref())?;
    caller.require_read()?;
    let params = Params::parse(query.as_deref());
    let request = PageRequest::from_params(&params)?;
    let state = params.get("state");
    if state.is_some_and(|s| s != "active" && s != "inactive") {
        return Err(ApiError::bad_param("state does not have a valid value"));
    }
    let revoked = params.bool("revoked")?;
    let world = double.world();
    let holder = find_holder(&world, &caller, kind, &id)?;
    if !can_manage(&world, &caller, holder) {
        return Err(ApiError::Unauthorized);
    }
    let now = OffsetDateTime::now_utc();
    let tokens: Vec<Value> = double
        .credentials()
        .access_tokens(holder)
        .into_iter()
        .filter(|t| match state {
            Some("active") => t.active(now),
            Some(_) => !t.active(now),
            None => true,
        })
        .filter(|t| revoked.is_none_or(|r| t.revoked == r))
        .map(|t| access_token_json(t, now, false))
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
    let caller = signed_in(&double, &headers, query.as_deref())?;
    caller.require_read()?;
    let world = double.world();
    let holder = find_holder(&world, &caller, kind, &id)?;
    if !can_manage(&world, &caller, holder) {
        return Err(ApiError::Unauthorized);
    }
    let token = find_token(&double, holder, &token)?;
    Ok(json_with(
        StatusCode::OK,
        HeaderMap::new(),
        &access_token_json(&token, OffsetDateTime::now_utc(), false),
    ))
}

/// What Grape accepted of a creation request.
struct Creation {
    name: String,
    description: Option<String>,
    expires_at: Option<time::Date>,
    scopes: Vec<String>,
    access_level: u8,
}

fn creation_params(form: &Form) -> Result<Creation, ApiError> {
    let mut errors = Vec::new();
    let name = form.text("name", &mut errors);
    if form.get("name").is_none() {
        errors.push("name is missing".to_owned());
    }
    let description = form.text("description", &mut errors);
    let expires_at = match form.text("expires_at", &mut errors) {
        Some(text) if text.trim().is_empty() => None,
        Some(text) => {
            let parsed = clock::parse_date(&text);
            if parsed.is_none() {
                errors.push("expires_at is invalid".to_owned());
            }
            parsed
        }
        None => None,
    };
    let scopes = match form.get("scopes") {
        None => {
            errors.push("scopes is missing".to_owned());
            Vec::new()
        }
        Some(Param::List(items)) => {
            if items
                .iter()
                .any(|s| !ACCESS_TOKEN_SCOPES.contains(&s.as_str()))
            {
                errors.push("scopes does not have a valid value".to_owned());
            }
            items.clone()
        }
        Some(_) => {
            errors.push("scopes is invalid".to_owned());
            Vec::new()
        }
    };
    let access_level = match form.text("access_level", &mut errors) {
        None => access::MAINTAINER,
        Some(text) => match text.trim().parse::<i64>() {
            Ok(level) => match u8::try_from(level)
                .ok()
                .filter(|l| ACCESS_TOKEN_LEVELS.contains(l))
            {
                Some(level) => level,
                None => {
                    errors.push("access_level does not have a valid value".to_owned());
                    access::MAINTAINER
                }
            },
            Err(_) => {
                errors.push("access_level is invalid".to_owned());
                access::MAINTAINER
            }
        },
    };
    grape_errors(errors)?;
    let mut unique: Vec<String> = Vec::new();
    for scope in scopes {
        if !unique.contains(&scope) {
            unique.push(scope);
        }
    }
    Ok(Creation {
        name: name.unwrap_or_default(),
        description,
        expires_at,
        scopes: unique,
        access_level,
    })
}

async fn create(
    double: Double,
    headers: HeaderMap,
    query: Option<String>,
    kind: Kind,
    id: String,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = signed_in(&double, &headers, query.as_deref())?;
    let creator = caller.require_write()?;
    let form = Form::parse(&headers, query.as_deref(), &body)?;
    let creation = creation_params(&form)?;
    let world = double.world();
    let holder = find_holder(&world, &caller, kind, &id)?;
    if !can_manage(&world, &caller, holder) {
        return Err(bad_request(&format!(
            "User does not have permission to create {} access token",
            holder.kind()
        )));
    }
    if creation.access_level > world.holder_access(Some(creator), holder) {
        return Err(bad_request(
            "Access level of the token contains permissions not held by the creating user",
        ));
    }
    if creation.name.trim().is_empty() {
        // The bot user is created first, and a user needs a name.
        return Err(bad_request("Name can't be blank"));
    }
    let now = OffsetDateTime::now_utc();
    let today = now.to_offset(UtcOffset::UTC).date();
    let latest = today.saturating_add(Duration::days(MAX_LIFETIME_DAYS));
    let mut invalid: Vec<&str> = Vec::new();
    if creation.scopes.is_empty() {
        invalid.push("Scopes can't be blank");
    }
    let too_late = format!("Expires at must be before {}", clock::date(latest));
    if creation.expires_at.is_some_and(|d| d > latest) {
        invalid.push(&too_late);
    }
    if !invalid.is_empty() {
        return Err(bad_request(&to_sentence(&invalid)));
    }
    drop(world);
    let name = creation.name.clone();
    let user_id = double
        .update_world(|world| {
            world.add_bot(
                bot_username(holder, None),
                name,
                holder,
                creation.access_level,
            )
        })
        .ok_or_else(|| not_found(holder))?;
    let token = double.credentials().insert_access_token(AccessToken {
        id: 0,
        holder,
        user_id,
        name: creation.name,
        description: creation.description,
        scopes: creation.scopes,
        access_level: creation.access_level,
        created_at: now,
        expires_at: Some(creation.expires_at.unwrap_or(latest)),
        last_used_at: None,
        revoked: false,
        secret: access_token_secret(),
    });
    tracing::info!(id = token.id, holder = ?holder, bot = user_id, "access token created");
    Ok(json_with(
        StatusCode::CREATED,
        HeaderMap::new(),
        &access_token_json(&token, now, true),
    ))
}

async fn revoke(
    double: Double,
    headers: HeaderMap,
    query: Option<String>,
    kind: Kind,
    (id, token): (String, String),
) -> Result<Response, ApiError> {
    let caller = signed_in(&double, &headers, query.as_deref())?;
    let user = caller.require_write()?;
    let world = double.world();
    let holder = find_holder(&world, &caller, kind, &id)?;
    let token = find_token(&double, holder, &token)?;
    if !can_manage(&world, &caller, holder) {
        let name = |id: u64| world.user(id).map(|u| u.name.clone()).unwrap_or_default();
        return Err(bad_request(&format!(
            "{} cannot delete {}",
            name(user),
            name(token.user_id)
        )));
    }
    double.credentials().revoke_access_token(holder, token.id);
    tracing::info!(id = token.id, holder = ?holder, "access token revoked");
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /projects/:id/access_tokens`.
pub(super) async fn project_list(
    State(double): State<Double>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    RawQuery(query): RawQuery,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    list(double, headers, uri, query, Kind::Project, id).await
}

/// `GET /groups/:id/access_tokens`.
pub(super) async fn group_list(
    State(double): State<Double>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    RawQuery(query): RawQuery,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    list(double, headers, uri, query, Kind::Group, id).await
}

/// `GET /projects/:id/access_tokens/:token_id`.
pub(super) async fn project_show(
    State(double): State<Double>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    Path(ids): Path<(String, String)>,
) -> Result<Response, ApiError> {
    show(double, headers, query, Kind::Project, ids).await
}

/// `GET /groups/:id/access_tokens/:token_id`.
pub(super) async fn group_show(
    State(double): State<Double>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    Path(ids): Path<(String, String)>,
) -> Result<Response, ApiError> {
    show(double, headers, query, Kind::Group, ids).await
}

/// `POST /projects/:id/access_tokens` → 201.
pub(super) async fn project_create(
    State(double): State<Double>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    create(double, headers, query, Kind::Project, id, body).await
}

/// `POST /groups/:id/access_tokens` → 201.
pub(super) async fn group_create(
    State(double): State<Double>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    create(double, headers, query, Kind::Group, id, body).await
}

/// `DELETE /projects/:id/access_tokens/:token_id` → 204.
pub(super) async fn project_revoke(
    State(double): State<Double>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    Path(ids): Path<(String, String)>,
) -> Result<Response, ApiError> {
    revoke(double, headers, query, Kind::Project, ids).await
}

/// `DELETE /groups/:id/access_tokens/:token_id` → 204.
pub(super) async fn group_revoke(
    State(double): State<Double>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    Path(ids): Path<(String, String)>,
) -> Result<Response, ApiError> {
    revoke(double, headers, query, Kind::Group, ids).await
}
