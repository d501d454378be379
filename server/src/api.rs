//! The JSON API under `/api/v1`: every data view of the dashboard for scripts.
//!
//! Callers authenticate with the dashboard's session cookie (then mutations need our own
//! `Origin`, as everywhere) or with `Authorization: Bearer <GitLab token>` (checked with
//! GitLab, cookies ignored: no ambient credential, hence no CSRF). [`ApiCaller`] resolves
//! the caller before any other extractor runs, and holds each credential to its request
//! rate; bodies are read last, through [`ApiJson`], whose rejection is JSON like every
//! other error here. Query strings are the pages' own URL states, read strictly: anything a
//! page would merely note and ignore is a 400.
//!
//! Each route is written where it is bound, with its `#[utoipa::path]`; the OpenAPI
//! document (`/api/v1/openapi.json`) is derived from those and from the Rust types the
//! handlers answer with, so it cannot drift from them.

use crate::auth::caller::MAX_BEARER_LEN;
use crate::state::AppState;
use app::backend::{Browse, Caller, Cleanup, Governance, SignIn, Storage, Tags};
use app::error::AppError;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use domain::cleanup::view::PolicyPageView;
use domain::cleanup::{
    check_confirmations, CleanupPolicy, Mode, Notice, RepositoryPreview, RunConfirmation,
    RunOutcome, SavedPolicy,
};
use domain::governance::apply::{ApplyOutcome, ApplyReview, ApplyView};
use domain::governance::{GroupPolicies, GroupPoliciesView};
use domain::input::{NamespacePath, TagName, TagNames, TagPair};
use domain::protection::{ProtectionRules, RuleChange};
use domain::storage::{DeletionEstimate, ProjectStorage, RepositoryStorage, TagComparison};
use domain::tags::{
    DeleteOutcome, DeletionPlan, RepositoryHeader, TagDetail, TagListPage, TagListView,
};
use domain::usage::UsageState;
use domain::view::{parse_strict, GroupListView, ProjectListView, RepositoryListView};
use domain::{
    GroupDetails, GroupPage, InstanceInfo, ProjectDetails, ProjectPage, RepositoryPage, Subject,
    Viewer,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// An error as JSON, with its HTTP status (and `Retry-After` where one applies).
#[derive(Debug)]
pub struct ApiError(pub AppError);

/// The body of every error answer.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// One error: its kind (`NotSignedIn`, `Forbidden`, `NotAllowed`, `NotFound`,
/// `UnknownInstance`, `GitLabUnavailable`, `RateLimited`, `Unavailable`, `BadRequest`,
/// `Internal`) and a sentence for people.
#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    pub kind: String,
    pub message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        // Logged once, here.
        if status.is_server_error() {
            tracing::warn!(status = status.as_u16(), error = %self.0, "API request failed");
        } else {
            tracing::info!(status = status.as_u16(), error = %self.0, "API request refused");
        }
        let kind = match serde_json::to_value(&self.0) {
            Ok(serde_json::Value::Object(fields)) => fields.keys().next().cloned(),
            Ok(serde_json::Value::String(unit)) => Some(unit),
            _ => None,
        }
        .unwrap_or_else(|| "Internal".into());
        let body = ErrorBody {
            error: ErrorDetail {
                kind,
                message: self.0.to_string(),
            },
        };
        let mut response = (status, Json(body)).into_response();
        let retry = match self.0 {
            AppError::RateLimited { retry_after_secs }
            | AppError::Unavailable { retry_after_secs } => Some(retry_after_secs),
            _ => None,
        };
        if let Some(secs) = retry {
            if let Ok(value) = HeaderValue::from_str(&secs.to_string()) {
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

impl From<domain::input::InputError> for ApiError {
    fn from(error: domain::input::InputError) -> Self {
        ApiError(error.into())
    }
}

/// The API's errors, as the document lists them.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
enum Errors {
    /// The request was not valid; nothing was changed.
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// No, or an expired, GitLab sign-in for this instance (or a token GitLab refused).
    #[response(status = 401)]
    NotSignedIn(ErrorBody),
    /// GitLab does not allow this to the caller.
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// Not found, or not visible to the caller.
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// The body is larger than the server accepts.
    #[response(status = 413)]
    TooLarge(ErrorBody),
    /// This credential's request rate, or GitLab's rate limit; see `Retry-After`.
    #[response(status = 429)]
    RateLimited(ErrorBody),
    /// GitLab did not answer usefully.
    #[response(status = 502)]
    GitLabUnavailable(ErrorBody),
    /// The dashboard is busy or restarting; see `Retry-After`.
    #[response(status = 503)]
    Unavailable(ErrorBody),
}

/// A JSON body, refused as JSON when it is not what the endpoint takes.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return ApiError(AppError::TooLarge);
        }
        ApiError(AppError::BadRequest {
            message: format!(
                "The request body is not what this endpoint takes: {}",
                rejection.body_text()
            ),
        })
    }
}

/// Path parameters, refused as JSON when they do not parse.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        tracing::debug!(%rejection, "API path did not parse");
        ApiError(AppError::NotFound {
            what: Subject::ApiPath,
        })
    }
}

/// The caller of an API request: the bearer token's user, or the session's sign-in on
/// the instance in the path. Resolved before anything else; each credential is held to
/// its request rate.
pub struct ApiCaller(pub Caller);

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(ApiError::from)?;
        let instance = params.get("instance").cloned().unwrap_or_default();
        let caller = match parts.headers.get(header::AUTHORIZATION) {
            Some(value) => {
                let token = value
                    .to_str()
                    .ok()
                    .and_then(|v| v.strip_prefix("Bearer "))
                    .map(str::trim)
                    .filter(|t| !t.is_empty() && t.len() <= MAX_BEARER_LEN)
                    .ok_or_else(|| AppError::BadRequest {
                        message: "The Authorization header must be `Bearer <GitLab token>`.".into(),
                    })?;
                state
                    .sign_in
                    .bearer_caller(&instance, token.to_string())
                    .await?
            }
            None => {
                let session = tower_sessions::Session::from_request_parts(parts, state)
                    .await
                    .map_err(|_| AppError::Internal {
                        message: "sessions are not configured".into(),
                    })?;
                state.sign_in.caller(&session, &instance).await?
            }
        };
        state
            .services
            .gateway
            .caches
            .admit_api_request(caller.credential.key())
            .await?;
        Ok(ApiCaller(caller))
    }
}

/// A view from the query string, read strictly.
fn view_from<V>(
    raw: Option<String>,
    parse: impl Fn(&[(String, String)]) -> (V, Vec<domain::view::Notice>),
) -> Result<V, ApiError> {
    Ok(parse_strict(raw.as_deref().unwrap_or(""), parse)?)
}

type ApiResult<T> = Result<Json<T>, ApiError>;

/// `{instance}` in a path.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct InstancePath {
    /// Instance name as configured (`demo` for the embedded GitLab double).
    instance: String,
}

/// `{instance}` and `{id}` in a path.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct RepositoryPath {
    /// Instance name as configured.
    pub instance: String,
    /// GitLab's container repository id.
    #[param(minimum = 1)]
    pub id: u64,
}

/// `{instance}`, `{id}` and `{tag}` in a path.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TagPath {
    /// Instance name as configured.
    pub instance: String,
    /// GitLab's container repository id.
    #[param(minimum = 1)]
    pub id: u64,
    /// The tag's name.
    pub tag: String,
}

/// `{instance}` and `{project}` in a path.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ProjectPathParams {
    /// Instance name as configured.
    pub instance: String,
    /// The project's full path, URL-encoded (`acme%2Fweb`), or its id.
    pub project: String,
}

/// `{instance}` and `{group}` in a path.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct GroupPathParams {
    /// Instance name as configured.
    pub instance: String,
    /// The group's full path, URL-encoded, or its id.
    pub group: String,
}

/// `?q=&page=` of the project and group lists.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct ListQuery {
    /// Search text (at most 255 characters).
    q: Option<String>,
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 100000)]
    page: Option<u32>,
}

/// `?q=&sort=&after=|before=` of a repository list.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct RepositoryQuery {
    /// Name filter (at most 255 characters).
    q: Option<String>,
    /// `name_asc`, `name_desc`, `created_asc`, `created_desc`, `updated_asc`, `updated_desc`.
    sort: Option<String>,
    /// GitLab's cursor of the next page.
    after: Option<String>,
    /// GitLab's cursor of the previous page.
    before: Option<String>,
}

/// The tag list's URL state.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct TagQuery {
    /// Name filter: a substring, or an RE2 regex with `re=1` (at most 255 characters).
    q: Option<String>,
    /// `1`: `q` is a regular expression (RE2: look-around and back-references are refused).
    re: Option<String>,
    /// Only tags older than this age: `12h`, `7d`, `2w`, `3month`, `1y`.
    older: Option<String>,
    /// Only tags newer than this age.
    newer: Option<String>,
    /// Only tags at least this big: `200MB`, `1.5GiB`, `800k`.
    min: Option<String>,
    /// Only tags at most this big.
    max: Option<String>,
    /// `multi-arch`, `signed`, `protected` or `missing-manifest`; repeat for several.
    kind: Option<String>,
    /// Only tags whose name is in this family: `semver`, `date`, `sha`, `branch`, `sidecar`
    /// (cosign `sha256-<hex>.sig|.att|.sbom`) or `other`.
    family: Option<String>,
    /// `1`: only tags GitLab says are in use (deployed, an open merge request's, built by a
    /// recent pipeline, a branch head or a release). Waits up to 10 s for GitLab's CI
    /// context; until it is known the page keeps no tag and `usage.state` says why.
    in_use: Option<String>,
    /// `1`: only dead tags (their branch is gone, their merge request merged or closed).
    /// Not together with `in_use`.
    stale: Option<String>,
    /// `published_desc` (default), `published_asc`, `name_asc`, `name_desc`, `size_desc`,
    /// `size_asc`; names sort naturally (v1.9 before v1.10).
    sort: Option<String>,
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 100000)]
    page: Option<u32>,
    /// 20 (default, as in GitLab), 50 or 100.
    per_page: Option<u32>,
}

/// A cleanup policy draft in the query; absent keys take the saved policy's values.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct DraftQuery {
    /// `1` or `0`.
    enabled: Option<String>,
    /// `1d`, `7d`, `14d`, `1month` or `3month`.
    cadence: Option<String>,
    /// 1, 5, 10, 25, 50 or 100; empty for none.
    keep_n: Option<String>,
    /// `7d`, `14d`, `30d` or `90d`; empty for none.
    older_than: Option<String>,
    /// Tags to delete (RE2, anchored by GitLab as `\A…\z`, at most 255 characters).
    name_regex: Option<String>,
    /// Tags to keep whatever else applies.
    name_regex_keep: Option<String>,
    /// `deleted`: each repository's `decisions` list only the tags the draft deletes (its
    /// counts stay whole); `all` (the default) lists every tag. The policy page's `show`.
    show: Option<String>,
}

/// A project or group with one page of its repositories.
#[derive(Serialize, ToSchema)]
pub struct OwnerPage<O> {
    pub owner: O,
    pub page: RepositoryPage,
}

/// Tag names for a deletion plan or a deletion.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Names {
    /// 1 to 1,000 tag names.
    pub names: Vec<String>,
}

/// The repository's path, typed as confirmation.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Confirmation {
    pub confirm_path: String,
}

/// A project's cleanup policy page, as data.
#[derive(Serialize, ToSchema)]
pub struct PolicyAnswer {
    pub saved: SavedPolicy,
    /// Why the caller may not edit it, if they may not.
    pub edit_refusal: Option<String>,
    /// The project's protection rules (Maintainers; null otherwise, with `rules_note`).
    pub rules: Option<ProtectionRules>,
    pub rules_note: Option<String>,
}

/// The body of a policy `PUT`: GitLab's own field names and values.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyBody {
    pub enabled: bool,
    /// `1d`, `7d`, `14d`, `1month` or `3month`.
    pub cadence: String,
    /// 1, 5, 10, 25, 50 or 100.
    pub keep_n: Option<u32>,
    /// `7d`, `14d`, `30d` or `90d`.
    pub older_than: Option<String>,
    pub name_regex: Option<String>,
    pub name_regex_keep: Option<String>,
}

/// A draft's preview, tag by tag.
#[derive(Serialize, ToSchema)]
pub struct PreviewAnswer {
    pub policy: CleanupPolicy,
    pub mode: Mode,
    /// About the draft itself: a stable `code`, its parameters, and the `message` in words.
    pub warnings: Vec<Notice>,
    pub repositories: Vec<RepositoryPreview>,
    /// What "Run now" (GitLab's bulk delete, as the caller's role) would delete: post this
    /// back as `confirmed` to run it.
    pub run: Vec<RunConfirmation>,
}

/// The body of a run: the preview's `run`, confirmed.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunBody {
    pub confirmed: Vec<RunConfirmation>,
}

#[utoipa::path(get, path = "/api/v1/instances", tag = "instances", security(()),
    responses((status = 200, description = "The GitLab instances this dashboard serves",
        body = Vec<InstanceInfo>)))]
async fn instances(State(state): State<AppState>) -> Json<Vec<InstanceInfo>> {
    Json(state.sign_in.instances())
}

#[utoipa::path(get, path = "/api/v1/{instance}/user", tag = "instances", params(InstancePath),
    responses((status = 200, description = "The caller", body = Viewer), Errors))]
async fn user(ApiCaller(caller): ApiCaller) -> Json<Viewer> {
    Json(caller.viewer)
}

#[utoipa::path(get, path = "/api/v1/{instance}/projects", tag = "projects",
    params(InstancePath, ListQuery),
    responses((status = 200, description = "Projects with container images the caller can see",
        body = ProjectPage), Errors))]
async fn projects(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    RawQuery(query): RawQuery,
) -> ApiResult<ProjectPage> {
    let view = view_from(query, ProjectListView::from_pairs)?;
    Ok(Json(state.services.browse.projects(&caller, &view).await?))
}

#[utoipa::path(get, path = "/api/v1/{instance}/groups", tag = "projects",
    params(InstancePath, ListQuery),
    responses((status = 200, description = "Groups the caller can see", body = GroupPage), Errors))]
async fn groups(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    RawQuery(query): RawQuery,
) -> ApiResult<GroupPage> {
    let view = view_from(query, GroupListView::from_pairs)?;
    Ok(Json(state.services.browse.groups(&caller, &view).await?))
}

#[utoipa::path(get, path = "/api/v1/{instance}/projects/{project}/repositories", tag = "projects",
    params(ProjectPathParams, RepositoryQuery),
    responses((status = 200, description = "The project and a page of its image repositories",
        body = OwnerPage<ProjectDetails>), Errors))]
async fn project_repositories(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(path): ApiPath<ProjectPathParams>,
    RawQuery(query): RawQuery,
) -> ApiResult<OwnerPage<ProjectDetails>> {
    let project = NamespacePath::project(&path.project)?;
    let view = view_from(query, RepositoryListView::from_pairs)?;
    let (owner, page) = state
        .services
        .browse
        .project_repositories(&caller, &project, &view)
        .await?;
    Ok(Json(OwnerPage { owner, page }))
}

#[utoipa::path(get, path = "/api/v1/{instance}/groups/{group}/repositories", tag = "projects",
    params(GroupPathParams, RepositoryQuery),
    responses((status = 200, description = "The group and a page of the image repositories of its \
        projects", body = OwnerPage<GroupDetails>), Errors))]
async fn group_repositories(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(path): ApiPath<GroupPathParams>,
    RawQuery(query): RawQuery,
) -> ApiResult<OwnerPage<GroupDetails>> {
    let group = NamespacePath::group(&path.group)?;
    let view = view_from(query, RepositoryListView::from_pairs)?;
    let (owner, page) = state
        .services
        .browse
        .group_repositories(&caller, &group, &view)
        .await?;
    Ok(Json(OwnerPage { owner, page }))
}

/// A group's policy page's URL state, and the answer's format.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct GroupPoliciesQuery {
    /// Text the project's path contains.
    q: Option<String>,
    /// `on` or `off`: only projects whose policy is on, or off.
    policy: Option<String>,
    /// `1`: only projects that differ from the standard (or whose drift is unknown).
    drift: Option<String>,
    /// `path`, `tags`, `size`, `next_run` or `drift`.
    sort: Option<String>,
    /// `csv` for CSV (one line per project); JSON otherwise.
    format: Option<String>,
}

/// A standard policy in a query: the policy editor's fields with a `std_` prefix.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct StandardQuery {
    /// The standard policy is on (`1`) or off (`0`); any `std_` field sets a standard, its
    /// other fields default to GitLab's form (every day, keep 10, older than 90 days).
    std_enabled: Option<String>,
    /// The standard's cadence: `1d`, `7d`, `14d`, `1month`, `3month`.
    std_cadence: Option<String>,
    /// The standard's tags to keep: `1`, `5`, `10`, `25`, `50`, `100`, or empty.
    std_keep_n: Option<String>,
    /// The standard's age limit: `7d`, `14d`, `30d`, `60d`, `90d`, or empty.
    std_older_than: Option<String>,
    /// The standard's delete regex (RE2, at most 255 characters).
    std_name_regex: Option<String>,
    /// The standard's keep regex.
    std_name_regex_keep: Option<String>,
}

/// The projects a standard is applied to.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct ApplyQuery {
    /// A chosen project's GitLab id; repeated for each, at most 20.
    project: Option<Vec<u64>>,
}

/// The typed confirmation of applying a standard.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyBody {
    /// The group's full path, as the user typed it.
    pub confirm: String,
}

#[utoipa::path(get, path = "/api/v1/{instance}/groups/{group}/policies", tag = "cleanup",
    params(GroupPathParams, GroupPoliciesQuery, StandardQuery),
    responses((status = 200, description = "The cleanup policies of the group's projects \
        (subgroups included), with their drift from the standard; `format=csv` answers \
        text/csv", body = GroupPolicies), Errors))]
async fn group_policies(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(path): ApiPath<GroupPathParams>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let group = NamespacePath::group(&path.group)?;
    let (view, csv) = policies_view(query)?;
    let page = state
        .services
        .governance
        .group_policies(&caller, &group, &view)
        .await?;
    Ok(policies_answer(page, csv))
}

#[utoipa::path(get, path = "/api/v1/{instance}/policies", tag = "cleanup",
    params(InstancePath, GroupPoliciesQuery, StandardQuery),
    responses((status = 200, description = "The cleanup policies of every project of the \
        instance, with their drift from the standard (GitLab administrators only; `group` is \
        null); `format=csv` answers text/csv", body = GroupPolicies), Errors))]
async fn instance_policies(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let (view, csv) = policies_view(query)?;
    let page = state
        .services
        .governance
        .instance_policies(&caller, &view)
        .await?;
    Ok(policies_answer(page, csv))
}

/// A policy page's view from the query, and whether CSV was asked for.
fn policies_view(query: Option<String>) -> Result<(GroupPoliciesView, bool), ApiError> {
    let csv = query
        .as_deref()
        .map(domain::query::parse)
        .unwrap_or_default()
        .iter()
        .any(|(k, v)| k == "format" && v == "csv");
    Ok((view_from(query, GroupPoliciesView::from_pairs)?, csv))
}

/// A policy page as JSON, or as a CSV attachment named after its group.
fn policies_answer(page: GroupPolicies, csv: bool) -> Response {
    if !csv {
        return Json(page).into_response();
    }
    let stem = page
        .group
        .as_ref()
        .map(|g| g.full_path.as_str())
        .unwrap_or("all-projects")
        .replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "_");
    let name = format!("attachment; filename=\"{stem}-policies.csv\"");
    let disposition =
        HeaderValue::from_str(&name).unwrap_or(HeaderValue::from_static("attachment"));
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        page.to_csv(),
    )
        .into_response()
}

#[utoipa::path(get, path = "/api/v1/{instance}/groups/{group}/policies/apply", tag = "cleanup",
    params(GroupPathParams, StandardQuery, ApplyQuery),
    responses((status = 200, description = "For each chosen project: whether the standard is \
        applied there (in the group, Maintainer, not already its policy), the fields saving it \
        changes, and what the project's own policy and the standard would delete (tags and \
        bytes). Nothing is saved.", body = ApplyReview), Errors))]
async fn apply_review(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(path): ApiPath<GroupPathParams>,
    RawQuery(query): RawQuery,
) -> ApiResult<ApplyReview> {
    let group = NamespacePath::group(&path.group)?;
    let view = view_from(query, ApplyView::from_pairs)?;
    Ok(Json(
        state
            .services
            .governance
            .apply_review(&caller, &group, &view)
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/{instance}/groups/{group}/policies/apply", tag = "cleanup",
    params(GroupPathParams, StandardQuery, ApplyQuery), request_body = ApplyBody,
    responses((status = 200, description = "One outcome per chosen project, in order. Each \
        project is read again first; the standard is saved only where it is in the group, the \
        caller is Maintainer and its policy differs (else `excluded` or `unchanged`); `saved` \
        carries the policy GitLab answered with, `refused` GitLab's words.",
        body = Vec<ApplyOutcome>), Errors))]
async fn apply_standard(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(path): ApiPath<GroupPathParams>,
    RawQuery(query): RawQuery,
    ApiJson(body): ApiJson<ApplyBody>,
) -> ApiResult<Vec<ApplyOutcome>> {
    let group = NamespacePath::group(&path.group)?;
    let view = view_from(query, ApplyView::from_pairs)?;
    Ok(Json(
        state
            .services
            .governance
            .apply_standard(&caller, &group, &view, &body.confirm)
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/{instance}/repositories/{id}/tags", tag = "tags",
    params(RepositoryPath, TagQuery),
    responses((status = 200, description = "A page of the repository's tags, filtered and sorted \
        over all of them", body = TagListPage), Errors))]
async fn tags(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(RepositoryPath { id, .. }): ApiPath<RepositoryPath>,
    RawQuery(query): RawQuery,
) -> ApiResult<TagListPage> {
    let view = view_from(query, TagListView::from_pairs)?;
    // A filter that does not compile is a 400 before the repository is even looked at.
    if let Err(error) = view.filter(crate::clock::now()) {
        return Err(AppError::BadRequest {
            message: error.to_string(),
        }
        .into());
    }
    Ok(Json(
        state.services.tags.tag_list(&caller, id, &view).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/{instance}/repositories/{id}/usage", tag = "tags",
    params(RepositoryPath),
    responses((status = 200, description = "Every tag GitLab says is in use or dead, with the \
        reasons, and how much of the project's CI context could be read (`state`: `known`, \
        `reading` when GitLab took longer than 10 s: ask again, or `failed`)",
        body = UsageState), Errors))]
async fn usage(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(RepositoryPath { id, .. }): ApiPath<RepositoryPath>,
) -> ApiResult<UsageState> {
    Ok(Json(state.services.tags.tag_usage(&caller, id).await?))
}

#[utoipa::path(get, path = "/api/v1/{instance}/repositories/{id}/tags/{tag}", tag = "tags",
    params(TagPath),
    responses((status = 200, description = "One tag in full", body = TagDetail), Errors))]
async fn tag(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(TagPath { id, tag: name, .. }): ApiPath<TagPath>,
) -> ApiResult<TagDetail> {
    let name = TagName::parse(&name).map_err(|_| AppError::NotFound {
        what: Subject::Tag {
            repository: id,
            name: domain::input::quoted(&name)
                .trim_matches(['“', '”'])
                .to_string(),
        },
    })?;
    Ok(Json(
        state.services.tags.tag_detail(&caller, id, &name).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/{instance}/repositories/{id}/deletion-plan", tag = "tags",
    params(RepositoryPath), request_body = Names,
    responses((status = 200, description = "What deleting these tags would do: refusals, shared \
        images, `latest`", body = DeletionPlan), Errors))]
async fn deletion_plan(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(RepositoryPath { id, .. }): ApiPath<RepositoryPath>,
    ApiJson(body): ApiJson<Names>,
) -> ApiResult<DeletionPlan> {
    let names = TagNames::new(body.names)?;
    Ok(Json(
        state
            .services
            .tags
            .deletion_plan(&caller, id, &names)
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/{instance}/repositories/{id}/deletion-estimate",
    tag = "storage", params(RepositoryPath), request_body = Names,
    responses((status = 200, description = "What deleting these tags would free, layer by layer \
        (blobs no remaining tag uses), next to the naive sum; partial while layers are still \
        being read", body = DeletionEstimate), Errors))]
async fn deletion_estimate(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(RepositoryPath { id, .. }): ApiPath<RepositoryPath>,
    ApiJson(body): ApiJson<Names>,
) -> ApiResult<DeletionEstimate> {
    let names = TagNames::new(body.names)?;
    Ok(Json(
        state
            .services
            .storage
            .deletion_estimate(&caller, id, &names)
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/{instance}/repositories/{id}/storage", tag = "storage",
    params(RepositoryPath, StorageQuery),
    responses((status = 200, description = "The repository's deduplicated storage, its largest \
        layers, GitLab's own size where it has one, and how far reading layers is",
        body = RepositoryStorage), Errors))]
async fn repository_storage(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(RepositoryPath { id, .. }): ApiPath<RepositoryPath>,
    RawQuery(query): RawQuery,
) -> ApiResult<RepositoryStorage> {
    let read_layers = read_layers_param(query.as_deref())?;
    Ok(Json(
        state
            .services
            .storage
            .repository_storage(&caller, id, read_layers)
            .await?,
    ))
}

/// `read_layers=1|0` (or nothing else) in a storage view's query.
fn read_layers_param(query: Option<&str>) -> Result<bool, AppError> {
    let mut read_layers = false;
    for (key, value) in domain::query::parse(query.unwrap_or("")) {
        match (key.as_str(), value.as_str()) {
            ("read_layers", "1" | "true") => read_layers = true,
            ("read_layers", "0" | "false") => read_layers = false,
            _ => {
                return Err(AppError::BadRequest {
                    message: format!(
                        "Unknown parameter {}: the storage view takes read_layers=1 or 0.",
                        domain::input::quoted(&format!("{key}={value}"))
                    ),
                })
            }
        }
    }
    Ok(read_layers)
}

#[utoipa::path(get, path = "/api/v1/{instance}/projects/{project}/storage", tag = "storage",
    params(ProjectPathParams, StorageQuery),
    responses((status = 200, description = "The project's storage across its repositories (at most \
        100): each blob once, the bytes its repositories share, the largest layers with the tags \
        and repositories using them, GitLab's own figure where it has one, and how far reading \
        layers is", body = ProjectStorage), Errors))]
async fn project_storage(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(path): ApiPath<ProjectPathParams>,
    RawQuery(query): RawQuery,
) -> ApiResult<ProjectStorage> {
    let project = NamespacePath::project(&path.project)?;
    let read_layers = read_layers_param(query.as_deref())?;
    Ok(Json(
        state
            .services
            .storage
            .project_storage(&caller, &project, read_layers)
            .await?,
    ))
}

/// `?read_layers=1`: read the layers of a large repository too.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct StorageQuery {
    /// `1`: read the layers even of a repository larger than the configured automatic
    /// limit (about one GitLab request per 16 images, from the caller's rate limit).
    read_layers: Option<String>,
}

/// `?a=…&b=…`: the two tags to compare.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct CompareQuery {
    /// The first tag.
    a: String,
    /// The second tag.
    b: String,
}

#[utoipa::path(get, path = "/api/v1/{instance}/repositories/{id}/comparison", tag = "storage",
    params(RepositoryPath, CompareQuery),
    responses((status = 200, description = "Two tags side by side: digests, platforms, layers \
        aligned (shared, only in a, only in b) with sizes", body = TagComparison), Errors))]
async fn comparison(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(RepositoryPath { id, .. }): ApiPath<RepositoryPath>,
    RawQuery(query): RawQuery,
) -> ApiResult<TagComparison> {
    let pair = TagPair::from_pairs(&domain::query::parse(query.as_deref().unwrap_or("")))?;
    Ok(Json(
        state
            .services
            .storage
            .compare_tags(&caller, id, &pair.a, &pair.b)
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/{instance}/repositories/{id}/tag-deletions", tag = "tags",
    params(RepositoryPath), request_body = Names,
    responses((status = 200, description = "What GitLab did with each named tag (one request each, \
        sent once)", body = Vec<DeleteOutcome>), Errors))]
async fn delete_tags(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(RepositoryPath { id, .. }): ApiPath<RepositoryPath>,
    ApiJson(body): ApiJson<Names>,
) -> ApiResult<Vec<DeleteOutcome>> {
    let names = TagNames::new(body.names)?;
    Ok(Json(
        state.services.tags.delete_tags(&caller, id, names).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/{instance}/repositories/{id}/deletion", tag = "tags",
    params(RepositoryPath), request_body = Confirmation,
    responses((status = 200, description = "The repository, scheduled for deletion by GitLab \
        (Maintainer)", body = RepositoryHeader), Errors))]
async fn delete_repository(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(RepositoryPath { id, .. }): ApiPath<RepositoryPath>,
    ApiJson(body): ApiJson<Confirmation>,
) -> ApiResult<RepositoryHeader> {
    Ok(Json(
        state
            .services
            .tags
            .delete_repository(&caller, id, &body.confirm_path)
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/{instance}/projects/{project}/cleanup-policy", tag = "cleanup",
    params(ProjectPathParams),
    responses((status = 200, description = "The saved policy, the caller's right to edit it, and \
        (Maintainers) the protection rules", body = PolicyAnswer), Errors))]
async fn cleanup_policy(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(path): ApiPath<ProjectPathParams>,
) -> ApiResult<PolicyAnswer> {
    let project = NamespacePath::project(&path.project)?;
    let overview = state.services.cleanup.overview(&caller, &project).await?;
    Ok(Json(PolicyAnswer {
        saved: overview.saved,
        edit_refusal: overview.edit_refusal,
        rules: overview.rules,
        rules_note: overview.rules_note,
    }))
}

#[utoipa::path(put, path = "/api/v1/{instance}/projects/{project}/cleanup-policy", tag = "cleanup",
    params(ProjectPathParams), request_body = PolicyBody,
    responses((status = 200, description = "The policy GitLab saved (Maintainer)",
        body = SavedPolicy), Errors))]
async fn save_cleanup_policy(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(path): ApiPath<ProjectPathParams>,
    ApiJson(body): ApiJson<PolicyBody>,
) -> ApiResult<SavedPolicy> {
    let project = NamespacePath::project(&path.project)?;
    let pairs: Vec<(&str, String)> = vec![
        ("enabled", if body.enabled { "1" } else { "0" }.into()),
        ("cadence", body.cadence),
        (
            "keep_n",
            body.keep_n.map(|n| n.to_string()).unwrap_or_default(),
        ),
        ("older_than", body.older_than.unwrap_or_default()),
        ("name_regex", body.name_regex.unwrap_or_default()),
        ("name_regex_keep", body.name_regex_keep.unwrap_or_default()),
    ];
    let policy = view_from(Some(domain::query::build(&pairs)), |pairs| {
        CleanupPolicy::from_pairs(pairs, &CleanupPolicy::default())
    })?
    .checked()
    .map_err(|e| AppError::BadRequest { message: e.message })?;
    Ok(Json(
        state
            .services
            .cleanup
            .save_policy(&caller, &project, &policy)
            .await?,
    ))
}

/// The draft in the query on top of the saved policy.
async fn draft(
    state: &AppState,
    caller: &Caller,
    project: &NamespacePath,
    query: Option<String>,
) -> Result<(PolicyPageView, domain::cleanup::CleanupOverview), ApiError> {
    let overview = state.services.cleanup.overview(caller, project).await?;
    let saved = overview.saved.policy.clone();
    let view = view_from(query, |pairs| PolicyPageView::from_pairs(pairs, &saved))?;
    let draft = view
        .draft
        .checked()
        .map_err(|e| AppError::BadRequest { message: e.message })?;
    Ok((PolicyPageView { draft, ..view }, overview))
}

#[utoipa::path(get, path = "/api/v1/{instance}/projects/{project}/cleanup-preview", tag = "cleanup",
    params(ProjectPathParams, DraftQuery),
    responses((status = 200, description = "Per repository: counts, bytes freed, warnings and \
        every tag's decision; `run` is what Run now would delete as the caller",
        body = PreviewAnswer), Errors))]
async fn cleanup_preview(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(path): ApiPath<ProjectPathParams>,
    RawQuery(query): RawQuery,
) -> ApiResult<PreviewAnswer> {
    let project = NamespacePath::project(&path.project)?;
    let (view, overview) = draft(&state, &caller, &project, query).await?;
    let draft = view.draft;
    let bad = |e: domain::cleanup::PolicyError| AppError::BadRequest { message: e.message };
    let mut repositories = domain::cleanup::preview(&overview, &draft).map_err(bad)?;
    for repository in &mut repositories {
        repository.decisions.retain(|d| view.show.lists(d));
    }
    // Only fully indexed repositories: a partial count would not say what GitLab deletes.
    // A draft that cannot run (no delete regex) has nothing to confirm.
    let run = domain::cleanup::plan_run(&overview, &draft)
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.runnable())
        .map(|r| r.confirmation)
        .collect();
    Ok(Json(PreviewAnswer {
        warnings: draft.warnings().into_iter().map(Notice::from).collect(),
        policy: draft,
        mode: overview.mode,
        repositories,
        run,
    }))
}

#[utoipa::path(post, path = "/api/v1/{instance}/projects/{project}/cleanup-runs", tag = "cleanup",
    params(ProjectPathParams, DraftQuery), request_body = RunBody,
    responses((status = 200, description = "One outcome per confirmed repository. A repository is \
        sent only while the draft, evaluated again as the caller's role, deletes exactly the \
        confirmed tags (else `Changed`); GitLab deletes in the background and refuses a second \
        run within the hour (`Refused`, in its words).", body = Vec<RunOutcome>), Errors))]
async fn run_cleanup(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(path): ApiPath<ProjectPathParams>,
    RawQuery(query): RawQuery,
    ApiJson(body): ApiJson<RunBody>,
) -> ApiResult<Vec<RunOutcome>> {
    let project = NamespacePath::project(&path.project)?;
    check_confirmations(&body.confirmed)?;
    let (PolicyPageView { draft, .. }, _) = draft(&state, &caller, &project, query).await?;
    Ok(Json(
        state
            .services
            .cleanup
            .run_now(&caller, &project, &draft, &body.confirmed)
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/{instance}/projects/{project}/protection-rules",
    tag = "cleanup", params(ProjectPathParams), request_body = RuleChange,
    responses((status = 200, description = "The project's rules after the change. GitLab's limits \
        are checked first (5 rules of each kind, RE2 tag patterns of at most 100 characters, \
        repository paths starting with the project's path, no duplicates).",
        body = ProtectionRules), Errors))]
async fn change_protection_rule(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(path): ApiPath<ProjectPathParams>,
    ApiJson(change): ApiJson<RuleChange>,
) -> ApiResult<ProtectionRules> {
    let project = NamespacePath::project(&path.project)?;
    Ok(Json(
        state
            .services
            .cleanup
            .change_rule(&caller, &project, &change)
            .await?,
    ))
}

/// The document's frame: title, security schemes.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "registry-dash API",
        description = "Every data view of the dashboard as JSON. Authenticate with the dashboard's \
            session cookie (mutations then need the dashboard's own Origin) or with \
            `Authorization: Bearer <GitLab token>` of the instance in the path. Query strings are \
            the pages' own URL states; what a page would note and ignore is a 400 here.",
        version = env!("CARGO_PKG_VERSION")
    ),
    modifiers(&Security),
    components(schemas(ErrorBody, ErrorDetail)),
    security(("gitlabToken" = []), ("session" = []))
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "gitlabToken",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A GitLab personal, project or OAuth access token of the instance in the \
                            path.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("registry_dash_session"))),
        );
    }
}

/// The routes with their documentation.
fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(instances))
        .routes(routes!(user))
        .routes(routes!(projects))
        .routes(routes!(groups))
        .routes(routes!(project_repositories))
        .routes(routes!(group_repositories))
        .routes(routes!(tags))
        .routes(routes!(tag))
        .routes(routes!(usage))
        .routes(routes!(deletion_plan))
        .routes(routes!(deletion_estimate))
        .routes(routes!(repository_storage))
        .routes(routes!(project_storage))
        .routes(routes!(comparison))
        .routes(routes!(delete_tags))
        .routes(routes!(delete_repository))
        .routes(routes!(cleanup_policy, save_cleanup_policy))
        .routes(routes!(cleanup_preview))
        .routes(routes!(run_cleanup))
        .routes(routes!(change_protection_rule))
        .routes(routes!(group_policies))
        .routes(routes!(instance_policies))
        .routes(routes!(apply_review, apply_standard))
}

/// The OpenAPI document of the API.
pub fn document() -> utoipa::openapi::OpenApi {
    routes().split_for_parts().1
}

/// The API's router, with `/api/v1/openapi.json` (unknown API paths get [`not_found`]).
pub fn router(state: AppState) -> Router {
    let (router, doc) = routes().split_for_parts();
    let doc = std::sync::Arc::new(doc);
    router
        .route(
            "/api/v1/openapi.json",
            axum::routing::get(move || {
                let doc = doc.clone();
                async move { Json((*doc).clone()) }
            }),
        )
        .with_state(state)
}

/// The answer to an `/api/…` path no route has: JSON, like every API error.
pub fn not_found() -> Response {
    ApiError(AppError::NotFound {
        what: Subject::ApiPath,
    })
    .into_response()
}
