//! The container registry's token authentication: the registry's `GET /v2/` (served on the
//! double's own listener) and GitLab's `GET /jwt/auth`, which hands out registry tokens.
//!
//! The flow `docker login` follows:
//!
//! 1. `GET /v2/` without credentials → `401` with `WWW-Authenticate: Bearer
//!    realm="<gitlab>/jwt/auth",service="container_registry"`, `Docker-Distribution-Api-Version:
//!    registry/2.0` and the Distribution error body `{"errors":[{"code":"UNAUTHORIZED","message":
//!    "authentication required","detail":null}]}`. A bearer token the registry does not accept
//!    (unknown, expired) gets the same answer with `,error="invalid_token"` in the challenge.
//! 2. `GET <realm>?service=container_registry[&scope=repository:<path>:pull,push]` with HTTP Basic
//!    `login:secret` → `200 {"token":"…"}`.
//! 3. `GET /v2/` with `Authorization: Bearer <token>` → `200 {}`.
//!
//! `/jwt/auth` as GitLab runs it (`JwtController`, `Gitlab::Auth.find_for_git_client`,
//! `Auth::ContainerRegistryAuthenticationService`):
//!
//! - Basic credentials are tried in GitLab's order, and the first that fits wins: an OAuth access
//!   token as the password (any login; valid, not revoked, user active), a project or group
//!   access token as the password (any login; active: not revoked, not expired), a deploy token
//!   as the password whose username equals the login (active). Anything else is `401
//!   {"errors":[{"code":"UNAUTHORIZED","message":"HTTP Basic: Access denied. …"}]}`. Without
//!   Basic credentials the caller is anonymous, with read-only abilities. The double knows no
//!   passwords, so a user's password never works.
//! - A token's scopes become abilities: `api` everything (pull, push, delete), `read_api` and
//!   `read_registry` pull, `write_registry` push; other scopes none. Without any registry ability
//!   the answer is `403 {"errors":[{"code":"DENIED","message":"access forbidden"}]}`.
//! - `service` must be `container_registry` (`404`, empty, otherwise; the dependency proxy's
//!   service is not modelled); with the registry disabled the answer is `404 {"errors":[{"code":
//!   "UNAVAILABLE","message":"registry not enabled"}]}`.
//! - Each `scope` (repeatable, or several separated by spaces) names a repository path and
//!   actions. The path (lowercased) must be a valid repository path inside an existing project
//!   whose registry is not disabled. Requested actions the caller may not perform are dropped,
//!   not refused: `pull` needs the pull ability and read access to the registry (as a user — for
//!   a public project anyone — or as a deploy token of the project or of a group above it);
//!   `push` needs the push ability and Developer, or a deploy token with `write_registry`;
//!   `delete` and `*` need `api` and Maintainer. A scope left with no action is left out of the
//!   token. An anonymous request that is granted nothing is `403 DENIED`; a signed-in one gets a
//!   token without access (that is what `docker login` asks for: no scope at all).
//! - A push to a repository path that a repository protection rule protects above the user's
//!   role is `403 {"errors":[{"code":"DENIED","message":"Pushing to protected repository path
//!   forbidden"}]}`. Deploy tokens have no role, and GitLab's check compares with NULL, so it never
//!   stops them.
//! - The answer is `{"token":"…"}` and nothing else. GitLab's token is a JWT signed for the
//!   registry; the double's has the same claims (`access` lists what was granted) but a random
//!   signature (see [`crate::credentials`]). It is valid five minutes.
//! - An access token's `last_used_at` is updated when it authenticates here, at most every ten
//!   minutes (assumed: GitLab's `PersonalAccessTokens::LastUsedService` throttles the update).
//!
//! Not modelled: CI job tokens, user passwords, the dependency proxy, admin `registry:catalog:*`,
//! repositories GitLab creates when a push is authorised, the per-IP ban after failed logins.

use std::collections::BTreeSet;

use axum::extract::{RawQuery, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::Engine;
use serde_json::{json, Value};
use time::{Duration, OffsetDateTime};

use crate::auth::tokens::TokenLookup;
use crate::controls::RegistryState;
use crate::credentials::{DeployToken, Holder, RegistryAccess, RegistryGrant, REGISTRY_TOKEN_TTL};
use crate::dataset::RegistryAccessLevel;
use crate::model::{Namespace, Project, World};
use crate::rest::origin;
use crate::state::Double;
use crate::sync::lock;

/// The only service the double's `/jwt/auth` serves.
pub(crate) const SERVICE: &str = "container_registry";
/// The realm a misconfigured registry ([`RegistryState::WrongRealm`]) announces.
pub(crate) const WRONG_REALM: &str = "https://gitlab.other.test/jwt/auth";

const ACCESS_DENIED: &str = "HTTP Basic: Access denied. If a password was provided for Git \
authentication, the password was incorrect or you're required to use a token instead of a \
password. If a token was provided, it was either incorrect, expired, or improperly scoped. See ";
const HELP_PAGE: &str = "/help/user/profile/account/two_factor_authentication_troubleshooting.md\
#error-http-basic-access-denied-if-a-password-was-provided-for-git-authentication-";

/// nginx's page when the registry behind it does not answer.
const BAD_GATEWAY: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n\
<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

pub(crate) fn routes() -> Router<Double> {
    Router::new()
        .route("/v2/", get(v2))
        .route("/v2", get(v2))
        .route(
            "/jwt/auth",
            // GitLab routes only GET here; other methods are 404.
            get(jwt_auth).post(|| async { StatusCode::NOT_FOUND }),
        )
}

// ---------------------------------------------------------------------------------------------
// The registry: GET /v2/
// ---------------------------------------------------------------------------------------------

fn distribution_headers(response: &mut Response) {
    let h = response.headers_mut();
    h.insert(
        HeaderName::from_static("docker-distribution-api-version"),
        HeaderValue::from_static("registry/2.0"),
    );
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
}

fn challenge(realm: &str, invalid_token: bool) -> Response {
    let mut value = format!("Bearer realm=\"{realm}\",service=\"{SERVICE}\"");
    if invalid_token {
        value.push_str(",error=\"invalid_token\"");
    }
    let body = json!({
        "errors": [{ "code": "UNAUTHORIZED", "message": "authentication required", "detail": null }]
    });
    let mut response = (StatusCode::UNAUTHORIZED, body.to_string()).into_response();
    distribution_headers(&mut response);
    if let Ok(v) = HeaderValue::from_str(&value) {
        response.headers_mut().insert(WWW_AUTHENTICATE, v);
    }
    response
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_owned())
}

/// `GET /v2/`: the registry's version check, as the registry's current state has it answer.
async fn v2(State(double): State<Double>, headers: HeaderMap) -> Response {
    let state = double.controls().registry();
    let realm = match state {
        RegistryState::Disabled => return (StatusCode::NOT_FOUND, "Not Found").into_response(),
        RegistryState::Down => {
            let mut response = (StatusCode::BAD_GATEWAY, BAD_GATEWAY).into_response();
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("text/html"));
            return response;
        }
        RegistryState::WrongRealm => WRONG_REALM.to_owned(),
        RegistryState::Up => format!("{}/jwt/auth", origin(&headers)),
    };
    let Some(token) = bearer(&headers) else {
        return challenge(&realm, false);
    };
    let now = OffsetDateTime::now_utc();
    // A misconfigured registry trusts another GitLab's key: this GitLab's tokens fail.
    let accepted =
        state == RegistryState::Up && double.credentials().registry_grant(&token, now).is_some();
    if !accepted {
        return challenge(&realm, true);
    }
    let mut response = (StatusCode::OK, "{}").into_response();
    distribution_headers(&mut response);
    response
}

// ---------------------------------------------------------------------------------------------
// GitLab: GET /jwt/auth
// ---------------------------------------------------------------------------------------------

/// Who `/jwt/auth` found behind the credentials, with the abilities of its scopes.
struct Actor {
    /// A user or an access token's bot (`None` for deploy tokens and anonymous callers).
    user: Option<u64>,
    deploy_token: Option<DeployToken>,
    abilities: BTreeSet<&'static str>,
    /// GitLab's `Gitlab::Auth::Result#type`.
    auth_type: &'static str,
}

const READ: &str = "read_container_image";
const CREATE: &str = "create_container_image";
const ADMIN: &str = "admin_container_image";

/// `Gitlab::Auth#abilities_for_scopes`, the container-image part of it.
fn abilities_for_scopes<S: AsRef<str>>(scopes: &[S]) -> BTreeSet<&'static str> {
    let mut out = BTreeSet::new();
    for scope in scopes {
        match scope.as_ref() {
            "api" => out.extend([READ, CREATE, ADMIN]),
            "read_api" | "read_registry" => {
                out.insert(READ);
            }
            "write_registry" => {
                out.insert(CREATE);
            }
            _ => {}
        }
    }
    out
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn access_denied(headers: &HeaderMap) -> Response {
    let message = format!("{ACCESS_DENIED}{}{HELP_PAGE}", origin(headers));
    json_response(
        StatusCode::UNAUTHORIZED,
        &json!({ "errors": [{ "code": "UNAUTHORIZED", "message": message }] }),
    )
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    json_response(
        status,
        &json!({ "errors": [{ "code": code, "message": message }] }),
    )
}

/// HTTP Basic credentials, as Rails decodes them: `None` without a Basic header; the password is
/// empty when the decoded text has no `:`.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_default();
    let (login, password) = decoded.split_once(':').unwrap_or((&decoded, ""));
    Some((login.to_owned(), password.to_owned()))
}

/// `Gitlab::Auth.find_for_git_client` for the credentials the double can know about.
fn find_actor(
    double: &Double,
    world: &World,
    login: &str,
    password: &str,
    now: OffsetDateTime,
) -> Option<Actor> {
    if password.is_empty() {
        return None;
    }
    let usable = |id: u64| world.user(id).is_some_and(|u| u.state == "active");
    // An OAuth access token (any login).
    let lookup = lock(&double.controls().tokens).lookup(password, now);
    if let TokenLookup::Valid(record) = lookup {
        if usable(record.user_id) {
            return Some(Actor {
                user: Some(record.user_id),
                deploy_token: None,
                abilities: abilities_for_scopes(&record.scopes),
                auth_type: "oauth",
            });
        }
        return None;
    }
    let mut credentials = double.credentials();
    // A project or group access token (any login).
    if let Some(token) = credentials.access_token_by_secret_mut(password) {
        if token.active(now) && usable(token.user_id) {
            if token
                .last_used_at
                .is_none_or(|t| now - t >= Duration::minutes(10))
            {
                token.last_used_at = Some(now);
            }
            return Some(Actor {
                user: Some(token.user_id),
                deploy_token: None,
                abilities: abilities_for_scopes(&token.scopes),
                auth_type: "personal_access_token",
            });
        }
    }
    // A deploy token, whose username must be the login.
    let token = credentials.deploy_token_by_secret(password)?;
    (token.active(now) && token.username() == login).then(|| Actor {
        user: None,
        deploy_token: Some(token.clone()),
        abilities: abilities_for_scopes(&token.scopes),
        auth_type: "deploy_token",
    })
}

/// `ContainerRegistry::Path#valid?`: lowercase path components of letters and digits joined by
/// `.`, `_`, `__` or `-`, at least two of them (namespace and project).
fn valid_repository_path(path: &str) -> bool {
    let component_ok = |c: &str| {
        let bytes = c.as_bytes();
        !bytes.is_empty()
            && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
            && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
            && bytes
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b".-_".contains(b))
            && !c.contains("..")
            && !c.contains("--")
            && !c.contains("___")
    };
    let components: Vec<&str> = path.split('/').collect();
    components.len() >= 2 && components.iter().all(|c| component_ok(c))
}

/// The project a repository path belongs to: the longest project path that is the path or a
/// prefix of it.
fn repository_project<'w>(world: &'w World, path: &str) -> Option<&'w Project> {
    world
        .projects
        .iter()
        .filter(|p| {
            let full = p.path_with_namespace.to_lowercase();
            path == full || path.strip_prefix(&full).is_some_and(|r| r.starts_with('/'))
        })
        .max_by_key(|p| p.path_with_namespace.len())
}

/// Whether a deploy token is one of the project's, or of a group above it.
fn deploy_token_reaches(world: &World, token: &DeployToken, project: &Project) -> bool {
    match (token.holder, &project.namespace) {
        (Holder::Project(id), _) => id == project.id,
        (Holder::Group(group), Namespace::Group(ns)) => world.group_is_within(*ns, group),
        (Holder::Group(_), Namespace::User(_)) => false,
    }
}

fn can_access(world: &World, actor: &Actor, project: &Project, action: &str) -> bool {
    if project.registry_access_level == RegistryAccessLevel::Disabled {
        return false;
    }
    let has = |ability: &str| actor.abilities.contains(ability);
    let deploy = |ability: &str, scope: &str| {
        has(ability)
            && actor
                .deploy_token
                .as_ref()
                .is_some_and(|t| t.has_scope(scope) && deploy_token_reaches(world, t, project))
    };
    match action {
        "pull" => {
            (has(READ) && world.can_read_registry(actor.user, project))
                || deploy(READ, "read_registry")
        }
        "push" => {
            (has(CREATE) && world.can_destroy_image(actor.user, project))
                || deploy(CREATE, "write_registry")
        }
        "delete" | "*" => has(ADMIN) && world.can_admin_registry(actor.user, project),
        _ => false,
    }
}

/// The `scope` parameters: repeatable, each possibly several scopes separated by spaces.
fn requested_scopes(query: Option<&str>) -> Vec<String> {
    crate::rest::Params::parse(query)
        .0
        .into_iter()
        .filter(|(k, _)| k == "scope")
        .flat_map(|(_, v)| {
            v.split_whitespace()
                .map(str::to_owned)
                .collect::<Vec<String>>()
        })
        .collect()
}

/// The granted part of one `repository:<path>:<actions>` scope, if any.
fn grant(world: &World, actor: &Actor, scope: &str) -> Option<(RegistryAccess, u64)> {
    let mut parts = scope.splitn(3, ':');
    let (kind, name, actions) = (parts.next()?, parts.next()?, parts.next()?);
    if kind != "repository" {
        return None;
    }
    let path = name.to_lowercase();
    if !valid_repository_path(&path) {
        return None;
    }
    let project = repository_project(world, &path)?;
    let mut granted: Vec<String> = Vec::new();
    for action in actions.split(',') {
        if can_access(world, actor, project, action) && !granted.iter().any(|a| a == action) {
            granted.push(action.to_owned());
        }
    }
    if granted.is_empty() {
        return None;
    }
    let access = RegistryAccess {
        name: path,
        actions: granted,
    };
    Some((access, project.id))
}

/// `GET /jwt/auth`.
async fn jwt_auth(
    State(double): State<Double>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let now = OffsetDateTime::now_utc();
    let world = double.world();
    let actor = match basic_credentials(&headers) {
        None => Actor {
            user: None,
            deploy_token: None,
            abilities: [READ].into_iter().collect(),
            auth_type: "none",
        },
        Some((login, password)) => match find_actor(&double, &world, &login, &password, now) {
            Some(actor) => actor,
            None => {
                tracing::info!(%login, "registry authentication refused");
                return access_denied(&headers);
            }
        },
    };
    let params = crate::rest::Params::parse(query.as_deref());
    if params.get("service") != Some(SERVICE) {
        return StatusCode::NOT_FOUND.into_response();
    }
    if double.controls().registry() == RegistryState::Disabled {
        return error(StatusCode::NOT_FOUND, "UNAVAILABLE", "registry not enabled");
    }
    if ![READ, CREATE, ADMIN]
        .iter()
        .any(|a| actor.abilities.contains(a))
    {
        return error(StatusCode::FORBIDDEN, "DENIED", "access forbidden");
    }
    let grants: Vec<(RegistryAccess, u64)> = requested_scopes(query.as_deref())
        .iter()
        .filter_map(|scope| grant(&world, &actor, scope))
        .collect();
    if grants.is_empty() && actor.user.is_none() && actor.deploy_token.is_none() {
        return error(StatusCode::FORBIDDEN, "DENIED", "access forbidden");
    }
    let protected = actor.user.is_some()
        && grants.iter().any(|(g, project_id)| {
            g.actions.iter().any(|a| a == "push" || a == "*")
                && world.project(*project_id).is_some_and(|p| {
                    let level = world.project_access(actor.user, p);
                    p.repository_rules
                        .iter()
                        .any(|r| r.matches(&g.name) && r.min_push.is_some_and(|min| level < min))
                })
        });
    if protected {
        return error(
            StatusCode::FORBIDDEN,
            "DENIED",
            "Pushing to protected repository path forbidden",
        );
    }
    let subject = actor
        .user
        .and_then(|id| world.user(id))
        .map(|u| u.username.clone());
    let access: Vec<RegistryAccess> = grants.into_iter().map(|(g, _)| g).collect();
    tracing::info!(subject = ?subject, access = ?access, "registry token issued");
    let token = double.credentials().issue_registry_token(
        RegistryGrant {
            subject,
            auth_type: actor.auth_type,
            access,
            expires_at: now + REGISTRY_TOKEN_TTL,
        },
        now,
    );
    json_response(StatusCode::OK, &json!({ "token": token }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_paths_like_the_registry() {
        assert!(valid_repository_path("acme/web"));
        assert!(valid_repository_path("acme/web/worker"));
        assert!(valid_repository_path("acme/web/my_image-2.1"));
        assert!(!valid_repository_path("acme"));
        assert!(!valid_repository_path("Acme/web"));
        assert!(!valid_repository_path("acme//web"));
        assert!(!valid_repository_path("acme/-web"));
    }

    #[test]
    fn scopes_become_abilities() {
        assert_eq!(
            abilities_for_scopes(&["api"]),
            [READ, CREATE, ADMIN].into_iter().collect()
        );
        assert_eq!(
            abilities_for_scopes(&["read_registry", "write_registry"]),
            [READ, CREATE].into_iter().collect()
        );
        assert!(abilities_for_scopes(&["read_repository", "read_user"]).is_empty());
    }

    #[test]
    fn basic_credentials_decode_like_rails() {
        let mut h = HeaderMap::new();
        h.insert(
            AUTHORIZATION,
            HeaderValue::from_static("Basic dXNlcjpwYTpzcw=="),
        );
        assert_eq!(
            basic_credentials(&h),
            Some(("user".to_owned(), "pa:ss".to_owned()))
        );
        h.insert(AUTHORIZATION, HeaderValue::from_static("Bearer x"));
        assert_eq!(basic_credentials(&h), None);
    }
}
