//! The JSON API under `/api/v1`: every data view of the dashboard for scripts.
//!
//! Callers authenticate with the dashboard's session cookie (then mutations need our own
//! `Origin`, as everywhere) or with `Authorization: Bearer <GitLab token>`. A bearer call
//! gets a throw-away, never-stored session holding that token, so every service checks
//! access exactly as for a signed-in browser, and cookies are ignored (no ambient
//! credentials, hence no CSRF). Query strings are the pages' own URL states; anything a
//! page would merely note and ignore is a 400 here.

use crate::auth::records::{auth_key, AuthRecord};
use crate::gitlab::GitLabError;
use crate::services::BffBackend;
use crate::state::Bff;
use app::backend::Backend;
use app::error::AppError;
use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::tags::TagListView;
use domain::view::{GroupListView, Notice, ProjectListView, RepositoryListView};
use domain::Viewer;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tower_sessions::{MemoryStore, Session};

/// How long a bearer token's user is remembered (saves a `/user` call per request).
const BEARER_TTL: Duration = Duration::from_secs(60);
const BEARER_CACHE_MAX: usize = 1_024;

/// (instance, sha256 of the token) → when looked up, whose it is.
pub type BearerCache = Mutex<HashMap<(String, [u8; 32]), (Instant, Viewer)>>;

#[derive(Clone)]
struct Api {
    bff: Arc<Bff>,
    backend: BffBackend,
}

/// The API's routes; also listed in the OpenAPI document (a test keeps them in step).
pub const PATHS: &[&str] = &[
    "/api/v1/instances",
    "/api/v1/{instance}/user",
    "/api/v1/{instance}/projects",
    "/api/v1/{instance}/groups",
    "/api/v1/{instance}/projects/{project}/repositories",
    "/api/v1/{instance}/groups/{group}/repositories",
    "/api/v1/{instance}/repositories/{id}/tags",
    "/api/v1/{instance}/repositories/{id}/tags/{tag}",
    "/api/v1/{instance}/repositories/{id}/deletion-plan",
    "/api/v1/{instance}/repositories/{id}/tag-deletions",
    "/api/v1/{instance}/repositories/{id}/deletion",
    "/api/v1/{instance}/projects/{project}/cleanup-policy",
    "/api/v1/{instance}/projects/{project}/cleanup-preview",
    "/api/v1/{instance}/projects/{project}/cleanup-runs",
    "/api/v1/{instance}/projects/{project}/protection-rules",
];

pub fn routes(bff: Arc<Bff>) -> Router {
    let api = Api {
        backend: BffBackend(bff.clone()),
        bff,
    };
    let at = |i: usize| PATHS[i].strip_prefix("/api/v1").unwrap_or(PATHS[i]);
    let inner = Router::new()
        .route("/openapi.json", get(openapi))
        .route(at(0), get(instances))
        .route(at(1), get(user))
        .route(at(2), get(projects))
        .route(at(3), get(groups))
        .route(at(4), get(project_repositories))
        .route(at(5), get(group_repositories))
        .route(at(6), get(tags))
        .route(at(7), get(tag))
        .route(at(8), post(deletion_plan))
        .route(at(9), post(delete_tags))
        .route(at(10), post(delete_repository))
        .route(at(11), get(cleanup_policy).put(save_cleanup_policy))
        .route(at(12), get(cleanup_preview))
        .route(at(13), post(run_cleanup))
        .route(at(14), post(change_protection_rule))
        .fallback(|| async {
            ApiError(AppError::NotFound {
                what: "This API path".into(),
            })
        })
        .with_state(api);
    Router::new().nest("/api/v1", inner)
}

/// An error as JSON, with its HTTP status.
struct ApiError(AppError);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let kind = serde_json::to_value(&self.0)
            .ok()
            .and_then(|v| v.as_object().and_then(|o| o.keys().next().cloned()))
            .unwrap_or_else(|| "Internal".into());
        let mut response = (
            status,
            Json(json!({ "error": { "kind": kind, "message": self.0.to_string() } })),
        )
            .into_response();
        if let AppError::RateLimited { retry_after_secs } = self.0 {
            if let Ok(value) = header::HeaderValue::from_str(&retry_after_secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        response
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        ApiError(error)
    }
}

type ApiResult = Result<Json<Value>, ApiError>;

fn ok<T: Serialize>(value: T) -> ApiResult {
    serde_json::to_value(value).map(Json).map_err(|e| {
        ApiError(AppError::Internal {
            message: e.to_string(),
        })
    })
}

/// Who is calling: the cookie session, or a GitLab token.
enum Caller {
    Cookie(Session),
    Bearer(String),
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let token = value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim)
                .filter(|t| !t.is_empty() && t.len() <= 512);
            return match token {
                Some(token) => Ok(Caller::Bearer(token.to_string())),
                None => Err(ApiError(AppError::BadRequest {
                    message: "The Authorization header must be `Bearer <GitLab token>`.".into(),
                })),
            };
        }
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|_| {
                ApiError(AppError::Internal {
                    message: "sessions are not configured".into(),
                })
            })?;
        Ok(Caller::Cookie(session))
    }
}

impl Api {
    /// The session to run services with: the caller's own, or a throw-away one that holds
    /// the bearer token for this instance.
    async fn session(&self, caller: Caller, instance: &str) -> Result<Session, AppError> {
        let token = match caller {
            Caller::Cookie(session) => return Ok(session),
            Caller::Bearer(token) => token,
        };
        let gitlab = self.bff.instance(instance)?;
        let key = (
            instance.to_string(),
            Sha256::digest(token.as_bytes()).into(),
        );
        let cached = self
            .bff
            .bearer_users
            .lock()
            .ok()
            .and_then(|cache| cache.get(&key).cloned())
            .filter(|(at, _)| at.elapsed() < BEARER_TTL)
            .map(|(_, viewer)| viewer);
        let viewer = match cached {
            Some(viewer) => viewer,
            None => {
                let user = gitlab.api.current_user(&token).await.map_err(|e| match e {
                    GitLabError::Unauthorized | GitLabError::TokenExpired => {
                        AppError::NotSignedIn {
                            instance: instance.to_string(),
                        }
                    }
                    other => crate::services::to_app_error(other, "your GitLab user"),
                })?;
                let viewer = Viewer {
                    id: user.id,
                    username: user.username,
                    name: user.name,
                    avatar_url: user.avatar_url,
                    instance: instance.to_string(),
                    is_admin: user.is_admin,
                };
                if let Ok(mut cache) = self.bff.bearer_users.lock() {
                    if cache.len() >= BEARER_CACHE_MAX {
                        cache.retain(|_, (at, _)| at.elapsed() < BEARER_TTL);
                    }
                    if cache.len() < BEARER_CACHE_MAX {
                        cache.insert(key, (Instant::now(), viewer.clone()));
                    }
                }
                viewer
            }
        };
        let session = Session::new(None, Arc::new(MemoryStore::default()), None);
        let record = AuthRecord {
            lock_key: hex::encode(Sha256::digest(token.as_bytes())),
            access_token: token,
            refresh_token: None,
            expires_at: None,
            viewer,
        };
        session
            .insert(&auth_key(instance), record)
            .await
            .map_err(|e| AppError::Internal {
                message: format!("session: {e}"),
            })?;
        Ok(session)
    }
}

/// Parses a view from the query string; whatever a page would only note is an error here.
fn view_from<V>(
    raw: Option<String>,
    parse: impl Fn(&[(String, String)]) -> (V, Vec<Notice>),
) -> Result<V, AppError> {
    let pairs = domain::query::parse(raw.as_deref().unwrap_or(""));
    let (view, notices) = parse(&pairs);
    if notices.is_empty() {
        Ok(view)
    } else {
        Err(AppError::BadRequest {
            message: notices
                .into_iter()
                .map(|n| n.0)
                .collect::<Vec<_>>()
                .join(" "),
        })
    }
}

async fn instances(State(api): State<Api>) -> ApiResult {
    ok(api.backend.instances())
}

async fn user(State(api): State<Api>, caller: Caller, Path(instance): Path<String>) -> ApiResult {
    let session = api.session(caller, &instance).await?;
    ok(api.backend.viewer(&session, &instance).await?)
}

async fn projects(
    State(api): State<Api>,
    caller: Caller,
    Path(instance): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    let view = view_from(query, ProjectListView::from_pairs)?;
    let session = api.session(caller, &instance).await?;
    ok(api.backend.projects(&session, &instance, &view).await?)
}

async fn groups(
    State(api): State<Api>,
    caller: Caller,
    Path(instance): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    let view = view_from(query, GroupListView::from_pairs)?;
    let session = api.session(caller, &instance).await?;
    ok(api.backend.groups(&session, &instance, &view).await?)
}

#[derive(Serialize)]
struct OwnerPage<O, P> {
    owner: O,
    page: P,
}

async fn project_repositories(
    State(api): State<Api>,
    caller: Caller,
    Path((instance, project)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    let view = view_from(query, RepositoryListView::from_pairs)?;
    let session = api.session(caller, &instance).await?;
    let (owner, page) = api
        .backend
        .project_repositories(&session, &instance, &project, &view)
        .await?;
    ok(OwnerPage { owner, page })
}

async fn group_repositories(
    State(api): State<Api>,
    caller: Caller,
    Path((instance, group)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    let view = view_from(query, RepositoryListView::from_pairs)?;
    let session = api.session(caller, &instance).await?;
    let (owner, page) = api
        .backend
        .group_repositories(&session, &instance, &group, &view)
        .await?;
    ok(OwnerPage { owner, page })
}

async fn tags(
    State(api): State<Api>,
    caller: Caller,
    Path((instance, id)): Path<(String, u64)>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    let view = view_from(query, TagListView::from_pairs)?;
    let session = api.session(caller, &instance).await?;
    let page = api.backend.tag_list(&session, &instance, id, &view).await?;
    if let Some(message) = page.filter_error {
        return Err(ApiError(AppError::BadRequest { message }));
    }
    ok(page)
}

async fn tag(
    State(api): State<Api>,
    caller: Caller,
    Path((instance, id, name)): Path<(String, u64, String)>,
) -> ApiResult {
    let session = api.session(caller, &instance).await?;
    ok(api
        .backend
        .tag_detail(&session, &instance, id, &name)
        .await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Names {
    names: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Confirmation {
    confirm_path: String,
}

fn json_body<T>(
    body: Result<Json<T>, axum::extract::rejection::JsonRejection>,
) -> Result<T, AppError> {
    body.map(|Json(v)| v).map_err(|e| AppError::BadRequest {
        message: format!(
            "The request body is not what this endpoint takes: {}",
            e.body_text()
        ),
    })
}

type NamesBody = Result<Json<Names>, axum::extract::rejection::JsonRejection>;

async fn deletion_plan(
    State(api): State<Api>,
    caller: Caller,
    Path((instance, id)): Path<(String, u64)>,
    body: NamesBody,
) -> ApiResult {
    let (session, names) = api.with_names(caller, &instance, body).await?;
    ok(api
        .backend
        .deletion_plan(&session, &instance, id, names)
        .await?)
}

async fn delete_tags(
    State(api): State<Api>,
    caller: Caller,
    Path((instance, id)): Path<(String, u64)>,
    body: NamesBody,
) -> ApiResult {
    let (session, names) = api.with_names(caller, &instance, body).await?;
    ok(api
        .backend
        .delete_tags(&session, &instance, id, names)
        .await?)
}

impl Api {
    /// The body's tag names (checked first: bad input costs GitLab nothing) and the session.
    async fn with_names(
        &self,
        caller: Caller,
        instance: &str,
        body: NamesBody,
    ) -> Result<(Session, Vec<String>), AppError> {
        let names = json_body(body)?.names;
        Ok((self.session(caller, instance).await?, names))
    }
}

async fn delete_repository(
    State(api): State<Api>,
    caller: Caller,
    Path((instance, id)): Path<(String, u64)>,
    body: Result<Json<Confirmation>, axum::extract::rejection::JsonRejection>,
) -> ApiResult {
    let confirmation = json_body(body)?;
    let session = api.session(caller, &instance).await?;
    ok(api
        .backend
        .delete_repository(&session, &instance, id, &confirmation.confirm_path)
        .await?)
}

#[derive(Serialize)]
struct PolicyAnswer {
    saved: domain::cleanup::SavedPolicy,
    edit_refusal: Option<String>,
    rules: Option<domain::protection::ProtectionRules>,
    rules_note: Option<String>,
}

async fn cleanup_policy(
    State(api): State<Api>,
    caller: Caller,
    Path((instance, project)): Path<(String, String)>,
) -> ApiResult {
    let session = api.session(caller, &instance).await?;
    let overview = api
        .backend
        .cleanup_overview(&session, &instance, &project)
        .await?;
    ok(PolicyAnswer {
        saved: overview.saved,
        edit_refusal: overview.edit_refusal,
        rules: overview.rules,
        rules_note: overview.rules_note,
    })
}

/// The body of a policy `PUT`: GitLab's own field names and values.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyBody {
    enabled: bool,
    cadence: String,
    keep_n: Option<u32>,
    older_than: Option<String>,
    name_regex: Option<String>,
    name_regex_keep: Option<String>,
}

async fn save_cleanup_policy(
    State(api): State<Api>,
    caller: Caller,
    Path((instance, project)): Path<(String, String)>,
    body: Result<Json<PolicyBody>, axum::extract::rejection::JsonRejection>,
) -> ApiResult {
    let body = json_body(body)?;
    let pairs: Vec<(String, String)> = vec![
        (
            "enabled".into(),
            if body.enabled { "1" } else { "0" }.into(),
        ),
        ("cadence".into(), body.cadence),
        (
            "keep_n".into(),
            body.keep_n.map(|n| n.to_string()).unwrap_or_default(),
        ),
        ("older_than".into(), body.older_than.unwrap_or_default()),
        ("name_regex".into(), body.name_regex.unwrap_or_default()),
        (
            "name_regex_keep".into(),
            body.name_regex_keep.unwrap_or_default(),
        ),
    ];
    let policy = view_from(
        Some(domain::query::build(
            &pairs
                .iter()
                .map(|(k, v)| (k.as_str(), v.clone()))
                .collect::<Vec<_>>(),
        )),
        |pairs| {
            domain::cleanup::CleanupPolicy::from_pairs(
                pairs,
                &domain::cleanup::CleanupPolicy::default(),
            )
        },
    )?;
    let session = api.session(caller, &instance).await?;
    ok(api
        .backend
        .save_cleanup_policy(&session, &instance, &project, &policy)
        .await?)
}

#[derive(Serialize)]
struct PreviewAnswer {
    policy: domain::cleanup::CleanupPolicy,
    mode: domain::cleanup::Mode,
    warnings: Vec<String>,
    repositories: Vec<domain::cleanup::RepositoryPreview>,
    /// What "Run now" (GitLab's bulk delete, as the caller's role) would delete: post this
    /// back as `confirmed` to run it.
    run: Vec<domain::cleanup::RunConfirmation>,
}

/// The draft in the query on top of the saved policy, and the project's overview.
async fn draft_and_overview(
    api: &Api,
    session: &Session,
    instance: &str,
    project: &str,
    query: Option<String>,
) -> Result<
    (
        domain::cleanup::CleanupPolicy,
        domain::cleanup::CleanupOverview,
    ),
    AppError,
> {
    let overview = api
        .backend
        .cleanup_overview(session, instance, project)
        .await?;
    let saved = overview.saved.policy.clone();
    let draft = view_from(query, |pairs| {
        domain::cleanup::CleanupPolicy::from_pairs(pairs, &saved)
    })?;
    Ok((draft, overview))
}

/// The draft in the query (on top of the saved policy) evaluated over every repository.
async fn cleanup_preview(
    State(api): State<Api>,
    caller: Caller,
    Path((instance, project)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    let session = api.session(caller, &instance).await?;
    let (draft, overview) = draft_and_overview(&api, &session, &instance, &project, query).await?;
    let bad = |e: domain::cleanup::PolicyError| AppError::BadRequest { message: e.message };
    let repositories = domain::cleanup::preview(&overview, &draft).map_err(bad)?;
    // Only fully indexed repositories: a partial count would not say what GitLab deletes.
    let run = domain::cleanup::preview_as(&overview, &draft, Some(overview.runner))
        .map_err(bad)?
        .iter()
        .filter(|r| r.summary.deleted > 0 && r.complete)
        .map(domain::cleanup::RunConfirmation::of)
        .collect();
    ok(PreviewAnswer {
        warnings: draft.warnings(),
        policy: draft,
        mode: overview.mode,
        repositories,
        run,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RunBody {
    confirmed: Vec<domain::cleanup::RunConfirmation>,
}

/// "Run now" with the draft in the query: GitLab's bulk delete in each confirmed repository
/// whose preview still deletes no more tags than confirmed.
async fn run_cleanup(
    State(api): State<Api>,
    caller: Caller,
    Path((instance, project)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    body: Result<Json<RunBody>, axum::extract::rejection::JsonRejection>,
) -> ApiResult {
    let confirmed = json_body(body)?.confirmed;
    let session = api.session(caller, &instance).await?;
    let (draft, _) = draft_and_overview(&api, &session, &instance, &project, query).await?;
    ok(api
        .backend
        .run_cleanup_now(&session, &instance, &project, &draft, &confirmed)
        .await?)
}

/// One protection rule change (`{"CreateTag": {...}}`, `{"DeleteRepository": 3}`, …); the
/// project's rules afterwards.
async fn change_protection_rule(
    State(api): State<Api>,
    caller: Caller,
    Path((instance, project)): Path<(String, String)>,
    body: Result<Json<domain::protection::RuleChange>, axum::extract::rejection::JsonRejection>,
) -> ApiResult {
    let change = json_body(body)?;
    let session = api.session(caller, &instance).await?;
    ok(api
        .backend
        .change_protection_rule(&session, &instance, &project, &change)
        .await?)
}

async fn openapi() -> Json<Value> {
    Json(crate::openapi::document())
}
