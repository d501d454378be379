//! OAuth 2 endpoints with Doorkeeper's validation order and error texts.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::header::{
    AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, LOCATION, PRAGMA, WWW_AUTHENTICATE,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::pages::{self, UserChoice};
use super::tokens::{CodeRecord, TokenLookup, TokenRecord, CODE_TTL, DEFAULT_SCOPE, KNOWN_SCOPES};
use crate::config::OAuthApp;
use crate::model::{access, Namespace, World};
use crate::rest::{authenticate, avatar_url, origin, ApiError, Params};
use crate::state::Double;
use crate::sync::lock;

const INVALID_CLIENT: &str = "Client authentication failed due to unknown client, no client \
    authentication included, or unsupported authentication method.";
const INVALID_GRANT: &str = "The provided authorization grant is invalid, expired, revoked, does \
    not match the redirection URI used in the authorization request, or was issued to another \
    client.";
const INVALID_REDIRECT_URI: &str = "The redirect URI included is not valid.";
const UNSUPPORTED_RESPONSE_TYPE: &str =
    "The authorization server does not support this response type.";
const UNSUPPORTED_GRANT_TYPE: &str =
    "The authorization grant type is not supported by the authorization server.";
const INVALID_SCOPE: &str = "The requested scope is invalid, unknown, or malformed.";
const INVALID_CODE_CHALLENGE_METHOD: &str = "The code challenge method must be plain or S256.";
const ACCESS_DENIED: &str = "The resource owner or authorization server denied the request.";
const NOT_AUTHORIZED_TO_REVOKE: &str = "You are not authorized to revoke this token";

/// The parameters of an authorization request.
struct AuthorizeRequest {
    client_id: String,
    redirect_uri: String,
    response_type: String,
    scope: String,
    state: String,
    code_challenge: String,
    code_challenge_method: String,
    nonce: String,
}

impl AuthorizeRequest {
    fn from_params(p: &Params) -> AuthorizeRequest {
        let get = |k: &str| p.get(k).unwrap_or_default().to_owned();
        AuthorizeRequest {
            client_id: get("client_id"),
            redirect_uri: get("redirect_uri"),
            response_type: get("response_type"),
            scope: get("scope"),
            state: get("state"),
            code_challenge: get("code_challenge"),
            code_challenge_method: get("code_challenge_method"),
            nonce: get("nonce"),
        }
    }

    fn hidden_fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("client_id", self.client_id.clone()),
            ("redirect_uri", self.redirect_uri.clone()),
            ("response_type", self.response_type.clone()),
            ("scope", self.scope.clone()),
            ("state", self.state.clone()),
            ("code_challenge", self.code_challenge.clone()),
            ("code_challenge_method", self.code_challenge_method.clone()),
            ("nonce", self.nonce.clone()),
        ]
    }

    fn scopes(&self) -> Vec<String> {
        let scopes: Vec<String> = self.scope.split_whitespace().map(str::to_owned).collect();
        if scopes.is_empty() {
            vec![DEFAULT_SCOPE.to_owned()]
        } else {
            scopes
        }
    }
}

/// `redirect_uri` with extra query parameters (keeps the URI's own query).
fn redirect_with(redirect_uri: &str, pairs: &[(&str, &str)]) -> Response {
    let location = match url::Url::parse(redirect_uri) {
        Ok(mut url) => {
            {
                let mut q = url.query_pairs_mut();
                for (k, v) in pairs {
                    if !v.is_empty() {
                        q.append_pair(k, v);
                    }
                }
            }
            url.to_string()
        }
        Err(_) => redirect_uri.to_owned(),
    };
    let mut response = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(LOCATION, v);
    }
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn redirect_error(req: &AuthorizeRequest, error: &str, description: &str) -> Response {
    redirect_with(
        &req.redirect_uri,
        &[
            ("error", error),
            ("error_description", description),
            ("state", &req.state),
        ],
    )
}

/// Doorkeeper's pre-authorization checks, in its order. Errors that cannot safely redirect
/// (client, redirect URI) render a page; the rest go back to the client.
fn validate(
    double: &Double,
    req: &AuthorizeRequest,
) -> Result<(OAuthApp, Vec<String>), Box<Response>> {
    let page = |status, text: &str| Err(Box::new(pages::error_page(status, text)));
    let back = |error: &str, text: &str| Err(Box::new(redirect_error(req, error, text)));
    if req.client_id.is_empty() {
        return page(
            StatusCode::BAD_REQUEST,
            "Missing required parameter: client_id.",
        );
    }
    let Some(app) = double.controls().client(&req.client_id) else {
        return page(StatusCode::UNAUTHORIZED, INVALID_CLIENT);
    };
    if req.redirect_uri.is_empty() {
        return page(
            StatusCode::BAD_REQUEST,
            "Missing required parameter: redirect_uri.",
        );
    }
    if !app.redirect_uris.iter().any(|u| u == &req.redirect_uri) {
        return page(StatusCode::BAD_REQUEST, INVALID_REDIRECT_URI);
    }
    if req.response_type != "code" {
        return back("unsupported_response_type", UNSUPPORTED_RESPONSE_TYPE);
    }
    let scopes = req.scopes();
    if scopes.iter().any(|s| !KNOWN_SCOPES.contains(&s.as_str())) {
        return back("invalid_scope", INVALID_SCOPE);
    }
    if !req.code_challenge.is_empty()
        && !req.code_challenge_method.is_empty()
        && !["S256", "plain"].contains(&req.code_challenge_method.as_str())
    {
        return back("invalid_request", INVALID_CODE_CHALLENGE_METHOD);
    }
    Ok((app, scopes))
}

/// "Maintainer of acme", "Owner of olivia/secret", … for the sign-in page.
fn roles(world: &World, user: u64) -> Vec<String> {
    let mut out: Vec<String> = world
        .groups
        .iter()
        .filter_map(|g| {
            let level = world.direct_group_access(user, g);
            (level > access::NONE)
                .then(|| format!("{} of {}", access::role_name(level), g.full_path))
        })
        .collect();
    for p in &world.projects {
        let direct = world.direct_project_access(Some(user), p);
        if direct > access::NONE {
            let personal = matches!(p.namespace, Namespace::User(owner) if owner == user);
            if personal || direct > world.project_access(None, p) {
                out.push(format!(
                    "{} of {}",
                    access::role_name(direct),
                    p.path_with_namespace
                ));
            }
        }
    }
    out
}

pub(super) async fn authorize_page(
    State(double): State<Double>,
    RawQuery(query): RawQuery,
) -> Response {
    let req = AuthorizeRequest::from_params(&Params::parse(query.as_deref()));
    let (app, scopes) = match validate(&double, &req) {
        Ok(v) => v,
        Err(response) => return *response,
    };
    let world = double.world();
    let users: Vec<UserChoice> = world
        .users
        .iter()
        // Bot users of access tokens cannot sign in.
        .filter(|u| u.state == "active" && !u.bot)
        .map(|u| UserChoice {
            username: u.username.clone(),
            name: u.name.clone(),
            roles: roles(&world, u.id),
        })
        .collect();
    let mut response = Html(pages::sign_in_page(
        &app.name,
        &req.hidden_fields(),
        &scopes,
        &users,
    ))
    .into_response();
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

pub(super) async fn authorize_decision(State(double): State<Double>, body: Bytes) -> Response {
    let params = Params::parse(std::str::from_utf8(&body).ok());
    let req = AuthorizeRequest::from_params(&params);
    let (app, scopes) = match validate(&double, &req) {
        Ok(v) => v,
        Err(response) => return *response,
    };
    if params.get("deny").is_some() {
        tracing::info!(client_id = %app.client_id, "authorization denied");
        return redirect_error(&req, "access_denied", ACCESS_DENIED);
    }
    let world = double.world();
    let Some(user) = params
        .get("user")
        .and_then(|name| world.user_by_username(name))
        .filter(|u| u.state == "active" && !u.bot)
    else {
        return pages::error_page(StatusCode::BAD_REQUEST, "Choose a user to sign in as.");
    };
    let code = lock(&double.controls().tokens).insert_code(CodeRecord {
        client_id: app.client_id.clone(),
        redirect_uri: req.redirect_uri.clone(),
        user_id: user.id,
        scopes,
        code_challenge: (!req.code_challenge.is_empty()).then(|| req.code_challenge.clone()),
        code_challenge_method: (!req.code_challenge.is_empty()).then(|| {
            if req.code_challenge_method.is_empty() {
                "plain".to_owned()
            } else {
                req.code_challenge_method.clone()
            }
        }),
        expires_at: OffsetDateTime::now_utc() + CODE_TTL,
        used: false,
    });
    tracing::info!(client_id = %app.client_id, user = %user.username, "authorization code issued");
    redirect_with(&req.redirect_uri, &[("code", &code), ("state", &req.state)])
}

fn no_store(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let mut response = no_store(
        (
            status,
            Json(json!({ "error": error, "error_description": description })),
        )
            .into_response(),
    );
    if status == StatusCode::UNAUTHORIZED {
        let challenge = format!(
            "Bearer realm=\"Doorkeeper\", error=\"{error}\", error_description=\"{description}\""
        );
        if let Ok(v) = HeaderValue::from_str(&challenge) {
            response.headers_mut().insert(WWW_AUTHENTICATE, v);
        }
    }
    response
}

fn invalid_client() -> Response {
    oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", INVALID_CLIENT)
}

fn invalid_grant() -> Response {
    oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", INVALID_GRANT)
}

fn missing(param: &str) -> Response {
    oauth_error(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        &format!("Missing required parameter: {param}."),
    )
}

/// Form or JSON body parameters.
fn body_params(headers: &HeaderMap, body: &Bytes) -> Params {
    let is_json = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    if is_json {
        let pairs = match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => map
                .into_iter()
                .filter_map(|(k, v)| match v {
                    Value::String(s) => Some((k, s)),
                    Value::Null => None,
                    other => Some((k, other.to_string())),
                })
                .collect(),
            _ => Vec::new(),
        };
        Params(pairs)
    } else {
        Params::parse(std::str::from_utf8(body).ok())
    }
}

/// Client credentials from HTTP Basic (preferred, like Doorkeeper) or the body.
fn client_credentials(headers: &HeaderMap, params: &Params) -> Option<(String, Option<String>)> {
    if let Some(value) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let mut parts = value.splitn(2, ' ');
        if parts
            .next()
            .is_some_and(|s| s.eq_ignore_ascii_case("basic"))
        {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(parts.next().unwrap_or_default().trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())?;
            let (id, secret) = decoded.split_once(':').unwrap_or((decoded.as_str(), ""));
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            return Some((decode(id), Some(decode(secret)).filter(|s| !s.is_empty())));
        }
    }
    params.get("client_id").map(|id| {
        (
            id.to_owned(),
            params
                .get("client_secret")
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
        )
    })
}

/// The authenticated client, or `None` for Doorkeeper's `invalid_client`.
fn authenticate_client(
    double: &Double,
    credentials: Option<(String, Option<String>)>,
) -> Option<OAuthApp> {
    let (id, secret) = credentials?;
    let app = double.controls().client(&id)?;
    match (&secret, app.confidential) {
        (Some(s), _) if *s == app.client_secret => Some(app),
        (Some(_), _) => None,
        (None, false) => Some(app),
        (None, true) => None,
    }
}

fn token_response(record: &TokenRecord) -> Response {
    no_store(
        Json(json!({
            "access_token": record.access_token,
            "token_type": "Bearer",
            "expires_in": record.expires_in,
            "refresh_token": record.refresh_token,
            "scope": record.scopes.join(" "),
            "created_at": record.created_at.unix_timestamp(),
        }))
        .into_response(),
    )
}

fn pkce_ok(code: &CodeRecord, verifier: Option<&str>) -> bool {
    match (&code.code_challenge, verifier) {
        (None, None) => true,
        (None, Some(_)) | (Some(_), None) => false,
        (Some(challenge), Some(verifier)) => match code.code_challenge_method.as_deref() {
            Some("S256") => {
                let digest = Sha256::digest(verifier.as_bytes());
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest) == *challenge
            }
            Some("plain") => verifier == challenge,
            _ => false,
        },
    }
}

pub(super) async fn token(
    State(double): State<Double>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = body_params(&headers, &body);
    let Some(grant_type) = params.get("grant_type").filter(|g| !g.is_empty()) else {
        return missing("grant_type");
    };
    let now = OffsetDateTime::now_utc();
    match grant_type {
        "authorization_code" => {
            let Some(code) = params.get("code").filter(|c| !c.is_empty()) else {
                return missing("code");
            };
            let Some(app) = authenticate_client(&double, client_credentials(&headers, &params))
            else {
                return invalid_client();
            };
            let controls = double.controls();
            let mut store = lock(&controls.tokens);
            let Ok(record) = store.check_code(code, now) else {
                tracing::info!(
                    client_id = %app.client_id,
                    "invalid or replayed authorization code"
                );
                return invalid_grant();
            };
            let redirect_ok = params.get("redirect_uri") == Some(record.redirect_uri.as_str());
            let verifier = params.get("code_verifier").filter(|v| !v.is_empty());
            if record.client_id != app.client_id || !redirect_ok || !pkce_ok(&record, verifier) {
                return invalid_grant();
            }
            store.consume_code(code);
            let issued = store.issue(
                record.user_id,
                &app.client_id,
                record.scopes.clone(),
                controls.token_ttl(),
                Some(code.to_owned()),
                now,
            );
            tracing::info!(client_id = %app.client_id, user_id = record.user_id, "access token \
                issued");
            token_response(&issued)
        }
        "refresh_token" => {
            let Some(refresh) = params.get("refresh_token").filter(|r| !r.is_empty()) else {
                return missing("refresh_token");
            };
            let Some(app) = authenticate_client(&double, client_credentials(&headers, &params))
            else {
                return invalid_client();
            };
            let controls = double.controls();
            controls.count_refresh();
            let mut store = lock(&controls.tokens);
            let Some(old) = store.by_refresh(refresh).cloned() else {
                return invalid_grant();
            };
            if old.client_id != app.client_id {
                return invalid_grant();
            }
            // Rotation: the old pair stops working at once.
            store.revoke(&old.access_token);
            let issued = store.issue(
                old.user_id,
                &app.client_id,
                old.scopes.clone(),
                controls.token_ttl(),
                old.from_code.clone(),
                now,
            );
            tracing::info!(client_id = %app.client_id, user_id = old.user_id, "token refreshed");
            token_response(&issued)
        }
        _ => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            UNSUPPORTED_GRANT_TYPE,
        ),
    }
}

pub(super) async fn revoke(
    State(double): State<Double>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = body_params(&headers, &body);
    let credentials = client_credentials(&headers, &params);
    let presented_client = credentials.is_some();
    let app = authenticate_client(&double, credentials);
    if presented_client && app.is_none() {
        return invalid_client();
    }
    let Some(token) = params.get("token").filter(|t| !t.is_empty()) else {
        return missing("token");
    };
    let controls = double.controls();
    let mut store = lock(&controls.tokens);
    let Some(owner) = store.client_of(token) else {
        // RFC 7009: unknown tokens are not an error.
        return no_store(Json(json!({})).into_response());
    };
    let allowed = match &app {
        Some(app) => app.client_id == owner,
        // Without client authentication only public clients' tokens may be revoked.
        None => controls.client(&owner).is_some_and(|c| !c.confidential),
    };
    if !allowed {
        return oauth_error(
            StatusCode::FORBIDDEN,
            "unauthorized_client",
            NOT_AUTHORIZED_TO_REVOKE,
        );
    }
    store.revoke(token);
    tracing::info!(client_id = %owner, "token revoked");
    no_store(Json(json!({})).into_response())
}

pub(super) async fn userinfo(
    State(double): State<Double>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let caller = authenticate(&double, &headers, query.as_deref())?;
    let (Some(user_id), Some(token)) = (caller.user_id, caller.token.as_ref()) else {
        return Err(ApiError::Unauthorized);
    };
    // Doorkeeper OpenID Connect only answers tokens with the `openid` scope.
    if !token.has_scope("openid") {
        return Err(ApiError::InsufficientScope("openid"));
    }
    let world = double.world();
    let user = world.user(user_id).ok_or(ApiError::Unauthorized)?;
    let origin = origin(&headers);
    let groups = world.member_group_paths(user_id);
    let direct: Vec<String> = world
        .groups
        .iter()
        .filter(|g| world.direct_group_access(user_id, g) > access::NONE)
        .map(|g| g.full_path.clone())
        .collect();
    Ok(Json(json!({
        "sub": user.id.to_string(),
        "sub_legacy": hex::encode(Sha256::digest(format!("gitlab-double-{}", user.id).as_bytes())),
        "name": user.name,
        "nickname": user.username,
        "preferred_username": user.username,
        "email": user.email,
        "email_verified": true,
        "website": "",
        "profile": format!("{origin}/{}", user.username),
        "picture": avatar_url(&origin, &user.username),
        "groups": groups,
        "groups_direct": direct,
    }))
    .into_response())
}

pub(super) async fn token_info(
    State(double): State<Double>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let token = crate::rest::presented_token(&headers, query.as_deref());
    let now = OffsetDateTime::now_utc();
    let lookup = match &token {
        Some(t) => lock(&double.controls().tokens).lookup(t, now),
        None => TokenLookup::Unknown,
    };
    let description = match lookup {
        TokenLookup::Valid(record) => {
            let left = record.expires_in_now(now);
            return Json(json!({
                "resource_owner_id": record.user_id,
                "scope": record.scopes,
                "expires_in": left,
                "application": { "uid": record.client_id },
                "created_at": record.created_at.unix_timestamp(),
                "scopes": record.scopes,
                "expires_in_seconds": left,
            }))
            .into_response();
        }
        TokenLookup::Expired => "The access token expired",
        TokenLookup::Revoked => "The access token was revoked",
        TokenLookup::Unknown => "The access token is invalid",
    };
    oauth_error(StatusCode::UNAUTHORIZED, "invalid_token", description)
}
