//! A project's code and CI over REST, as the dashboard reads them to tell which images run
//! where: `/projects/:id/repository/branches`, `/repository/tags`, `/pipelines`,
//! `/merge_requests`, `/environments[/:environment_id]` and `/deployments`.
//!
//! All are GET, offset-paginated like every GitLab list, and need `read_code` here
//! ([`World::can_read_code`]: Reporters and above on a private project; a Guest gets 403, a
//! non-member of a private project 404). Filters and orders are the ones GitLab documents
//! for each endpoint; a value outside a parameter's list is Grape's 400
//! `{"error": "<param> does not have a valid value"}`. The entities carry exactly the keys
//! of GitLab's documented examples (checked by `tests/ci.rs`).

use axum::extract::{OriginalUri, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use super::entities::user_basic;
use super::{authenticate, find_project, json_with, origin, ApiError, Caller, Params};
use crate::clock;
use crate::dataset::ci::{
    BranchSpec, DeploymentSpec, DeploymentStatus, EnvironmentSpec, GitTagSpec, MergeRequestSpec,
    MergeRequestState, PipelineSpec,
};
use crate::model::{access, Project, World};
use crate::pagination::{paginate, Counting, PageRequest};
use crate::state::Double;

/// The project, if the caller may read its code (404 / 403 otherwise).
fn code_project<'w>(
    world: &'w World,
    caller: &Caller,
    reference: &str,
) -> Result<&'w Project, ApiError> {
    let project = find_project(world, caller, reference)?;
    if !world.can_read_code(caller.user_id, project) {
        return Err(ApiError::Forbidden);
    }
    Ok(project)
}

/// One of `allowed`, or `default` when absent; anything else is Grape's values error.
fn one_of<'p>(
    params: &'p Params,
    name: &str,
    allowed: &[&str],
    default: &'p str,
) -> Result<&'p str, ApiError> {
    match params.get(name) {
        None | Some("") => Ok(default),
        Some(v) if allowed.contains(&v) => Ok(v),
        Some(_) => Err(ApiError::bad_param(format!(
            "{name} does not have a valid value"
        ))),
    }
}

/// An ISO 8601 time parameter; anything else is Grape's 400 `"<name> is invalid"`.
fn time_param(params: &Params, name: &str) -> Result<Option<OffsetDateTime>, ApiError> {
    match params.get(name) {
        None | Some("") => Ok(None),
        Some(v) => OffsetDateTime::parse(v, &Rfc3339)
            .map(Some)
            .map_err(|_| ApiError::bad_param(format!("{name} is invalid"))),
    }
}

fn ago(project: &Project, seconds: u64) -> OffsetDateTime {
    project.epoch - Duration::seconds(i64::try_from(seconds).unwrap_or(i64::MAX / 4))
}

/// A list request's plumbing, extracted once for every list handler: the caller, the
/// parameters, the page, and the origin and path its `Link` headers use.
pub(super) struct ListRequest {
    caller: Caller,
    params: Params,
    page: PageRequest,
    origin: String,
    url_base: String,
}

impl axum::extract::FromRequestParts<Double> for ListRequest {
    type Rejection = ApiError;

    /// Authenticates the caller (read access) and reads the paging and the parameters,
    /// before the handler looks at the project.
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        double: &Double,
    ) -> Result<Self, ApiError> {
        let query = parts.uri.query();
        let caller = authenticate(double, &parts.headers, query)?;
        caller.require_read()?;
        let params = Params::parse(query);
        let page = PageRequest::from_params(&params)?;
        let origin = origin(&parts.headers);
        let path = parts
            .extensions
            .get::<OriginalUri>()
            .map_or_else(|| parts.uri.path(), |original| original.path());
        let url_base = format!("{origin}{path}");
        Ok(ListRequest {
            caller,
            params,
            page,
            origin,
            url_base,
        })
    }
}

fn page_of(request: &ListRequest, items: &[Value]) -> Response {
    let (page, headers) = paginate(
        items,
        request.page,
        Counting::Relation,
        &request.url_base,
        &request.params,
    );
    json_with(StatusCode::OK, headers, &Value::Array(page))
}

fn sort_desc(params: &Params, default: &'static str) -> Result<bool, ApiError> {
    Ok(one_of(params, "sort", &["asc", "desc"], default)? == "desc")
}

/// GitLab's branch/tag `search`: a substring, or `^prefix` / `suffix$`.
fn search_matches(search: Option<&str>, name: &str) -> bool {
    let Some(search) = search.filter(|s| !s.is_empty()) else {
        return true;
    };
    let name = name.to_lowercase();
    let search = search.to_lowercase();
    match (search.strip_prefix('^'), search.strip_suffix('$')) {
        (Some(prefix), _) => name.starts_with(prefix),
        (None, Some(suffix)) => name.ends_with(suffix),
        (None, None) => name.contains(&search),
    }
}

/// Orders tags as versions: by their runs of digits as numbers (`v1.10.0` after `v1.9.2`),
/// then by name.
fn version_key(name: &str) -> (Vec<u64>, String) {
    let numbers = name
        .split(|c: char| !c.is_ascii_digit())
        .filter(|run| !run.is_empty())
        .map(|run| run.parse().unwrap_or(u64::MAX))
        .collect();
    (numbers, name.to_string())
}

fn short_sha(sha: &str) -> &str {
    &sha[..sha.len().min(8)]
}

/// `Entities::Commit` of a commit the dataset knows only by SHA and time.
fn commit_json(
    project: &Project,
    origin: &str,
    sha: &str,
    at: OffsetDateTime,
    title: &str,
) -> Value {
    let when = clock::rest(at);
    json!({
        "id": sha,
        "short_id": short_sha(sha),
        "created_at": when,
        "parent_ids": [],
        "title": title,
        "message": title,
        "author_name": "CI Bot",
        "author_email": "ci@example.com",
        "authored_date": when,
        "committer_name": "CI Bot",
        "committer_email": "ci@example.com",
        "committed_date": when,
        "trailers": {},
        "extended_trailers": {},
        "web_url": format!("{origin}/{}/-/commit/{sha}", project.path_with_namespace),
    })
}

fn branch_json(
    world: &World,
    caller: &Caller,
    project: &Project,
    origin: &str,
    b: &BranchSpec,
) -> Value {
    let level = world.project_access(caller.user_id, project);
    let can_push = if b.protected {
        level >= access::MAINTAINER
    } else {
        level >= access::DEVELOPER
    };
    let default_head = project
        .ci
        .branches
        .iter()
        .find(|d| d.default)
        .map(|d| &d.sha);
    let committed = ago(project, b.committed_seconds_ago);
    json!({
        "name": b.name,
        "merged": !b.default && default_head == Some(&b.sha),
        "protected": b.protected,
        "default": b.default,
        "developers_can_push": false,
        "developers_can_merge": false,
        "can_push": can_push,
        "web_url": format!("{origin}/{}/-/tree/{}", project.path_with_namespace, b.name),
        "commit": commit_json(project, origin, &b.sha, committed, &b.name),
    })
}

fn git_tag_json(project: &Project, origin: &str, t: &GitTagSpec) -> Value {
    let mut commit = commit_json(
        project,
        origin,
        &t.sha,
        ago(project, t.created_seconds_ago),
        &t.name,
    );
    if let Some(map) = commit.as_object_mut() {
        // A tag's commit is `Entities::Commit` without the trailers and the web URL.
        for key in ["trailers", "extended_trailers", "web_url"] {
            map.remove(key);
        }
    }
    json!({
        "name": t.name,
        "message": t.message,
        "target": t.sha,
        "commit": commit,
        "release": null,
        "protected": false,
        "created_at": clock::rest(ago(project, t.created_seconds_ago)),
    })
}

fn pipeline_json(project: &Project, origin: &str, p: &PipelineSpec) -> Value {
    json!({
        "id": p.id,
        "iid": p.iid,
        "project_id": project.id,
        "status": p.status,
        "source": p.source,
        "ref": p.reference,
        "sha": p.sha,
        "name": null,
        "web_url": format!("{origin}/{}/-/pipelines/{}", project.path_with_namespace, p.id),
        "created_at": clock::rest(ago(project, p.created_seconds_ago)),
        "updated_at": clock::rest(ago(project, p.updated_seconds_ago)),
    })
}

fn merge_request_json(
    world: &World,
    project: &Project,
    origin: &str,
    m: &MergeRequestSpec,
) -> Value {
    let author = world
        .users
        .iter()
        .find(|u| u.username == m.author)
        .map(|u| user_basic(u, origin))
        .unwrap_or(Value::Null);
    let finished = m.finished_seconds_ago.map(|s| clock::rest(ago(project, s)));
    let merged = m.state == MergeRequestState::Merged;
    let closed = m.state == MergeRequestState::Closed;
    let open = matches!(
        m.state,
        MergeRequestState::Opened | MergeRequestState::Locked
    );
    let path = &project.path_with_namespace;
    let mut first = json!({
        "id": m.id,
        "iid": m.iid,
        "project_id": project.id,
        "title": m.title,
        "description": "",
        "state": m.state,
        "imported": false,
        "imported_from": "none",
        "merged_by": if merged { author.clone() } else { Value::Null },
        "merge_user": if merged { author.clone() } else { Value::Null },
        "merged_at": if merged { finished.clone() } else { None },
        "merge_after": null,
        "prepared_at": clock::rest(ago(project, m.created_seconds_ago)),
        "closed_by": if closed { author.clone() } else { Value::Null },
        "closed_at": if closed { finished.clone() } else { None },
        "created_at": clock::rest(ago(project, m.created_seconds_ago)),
        "updated_at": clock::rest(ago(project, m.updated_seconds_ago)),
        "target_branch": m.target_branch,
        "source_branch": m.source_branch,
    });
    // Two literals: one would exceed `json!`'s macro recursion limit.
    let rest = json!({
        "upvotes": 0,
        "downvotes": 0,
        "author": author,
        "assignee": null,
        "assignees": [],
        "reviewers": [],
        "source_project_id": project.id,
        "target_project_id": project.id,
        "labels": [],
        "draft": false,
        "work_in_progress": false,
        "milestone": null,
        "merge_when_pipeline_succeeds": false,
        "merge_status": if open { "can_be_merged" } else { "unchecked" },
        "detailed_merge_status": if open { "mergeable" } else { "not_open" },
        "sha": m.sha,
        "merge_commit_sha": null,
        "squash_commit_sha": null,
        "user_notes_count": 0,
        "discussion_locked": null,
        "should_remove_source_branch": null,
        "force_remove_source_branch": true,
        "web_url": format!("{origin}/{path}/-/merge_requests/{}", m.iid),
        "reference": format!("!{}", m.iid),
        "references": {
            "short": format!("!{}", m.iid),
            "relative": format!("!{}", m.iid),
            "full": format!("{path}!{}", m.iid),
        },
        "time_stats": {
            "time_estimate": 0,
            "total_time_spent": 0,
            "human_time_estimate": null,
            "human_total_time_spent": null,
        },
        "squash": false,
        "squash_on_merge": false,
        "task_completion_status": { "count": 0, "completed_count": 0 },
        "has_conflicts": false,
        "blocking_discussions_resolved": true,
        "approvals_before_merge": null,
    });
    if let (Some(map), Value::Object(rest)) = (first.as_object_mut(), rest) {
        map.extend(rest);
    }
    first
}

/// GitLab's environment slug: the name slugged to 24 characters, `-` and a 6-character
/// suffix (random in GitLab; derived from the id here, so it is stable).
fn environment_slug(e: &EnvironmentSpec) -> String {
    let mut slug: String = e
        .name
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(24)
        .collect();
    slug = slug.trim_matches('-').to_string();
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut n = e.id.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let suffix: String = (0..6)
        .map(|_| {
            let c = LETTERS[(n % 36) as usize] as char;
            n /= 36;
            c
        })
        .collect();
    format!("{slug}-{suffix}")
}

fn environment_json(project: &Project, e: &EnvironmentSpec) -> Value {
    let updated = e
        .deployments
        .iter()
        .map(|d| d.finished_seconds_ago.unwrap_or(d.created_seconds_ago))
        .min()
        .unwrap_or(e.created_seconds_ago);
    let name: String = url::form_urlencoded::byte_serialize(e.name.as_bytes()).collect();
    json!({
        "id": e.id,
        "name": e.name,
        "slug": environment_slug(e),
        "description": null,
        "external_url": e.external_url,
        "state": e.state,
        "tier": e.tier,
        "created_at": clock::rest(ago(project, e.created_seconds_ago)),
        "updated_at": clock::rest(ago(project, updated)),
        "enable_advanced_logs_querying": false,
        "logs_api_path": format!(
            "/{}/-/logs/k8s.json?environment_name={name}",
            project.path_with_namespace
        ),
        "auto_stop_at": null,
        "auto_stop_setting": "always",
        "kubernetes_namespace": null,
        "flux_resource_path": null,
    })
}

/// `Entities::UserBasic` as deployments show it (no `locked`).
fn deployer(world: &World, origin: &str, username: &str) -> Value {
    let mut user = world
        .users
        .iter()
        .find(|u| u.username == username)
        .map(|u| user_basic(u, origin))
        .unwrap_or(Value::Null);
    if let Some(map) = user.as_object_mut() {
        map.remove("locked");
    }
    user
}

/// The deployment's job (`deployable`), with the pipeline that ran it.
fn deployable_json(world: &World, project: &Project, origin: &str, d: &DeploymentSpec) -> Value {
    let created_at = ago(project, d.created_seconds_ago);
    let created = clock::rest(created_at);
    let finished = d.finished_seconds_ago.map(|s| clock::rest(ago(project, s)));
    let pipeline = project
        .ci
        .pipelines
        .iter()
        .find(|p| p.sha == d.sha && p.reference == d.reference)
        .map(|p| {
            json!({
                "id": p.id,
                "iid": p.iid,
                "project_id": project.id,
                "sha": p.sha,
                "ref": p.reference,
                "status": p.status,
                "source": p.source,
                "created_at": clock::rest(ago(project, p.created_seconds_ago)),
                "updated_at": clock::rest(ago(project, p.updated_seconds_ago)),
                "web_url": format!("{origin}/{}/-/pipelines/{}", project.path_with_namespace, p.id),
            })
        })
        .unwrap_or(Value::Null);
    let job_status = match d.status {
        DeploymentStatus::Blocked => json!("manual"),
        other => json!(other),
    };
    json!({
        "id": 100_000 + d.id,
        "status": job_status,
        "stage": "deploy",
        "name": "deploy",
        "ref": d.reference,
        "tag": project.ci.git_tags.iter().any(|t| t.name == d.reference),
        "coverage": null,
        "created_at": created,
        "started_at": created,
        "finished_at": finished,
        "user": deployer(world, origin, &d.user),
        "commit": commit_json(project, origin, &d.sha, created_at, &d.reference),
        "pipeline": pipeline,
        "project": {
            "id": project.id,
            "name": project.name,
            "path_with_namespace": project.path_with_namespace,
        },
        "runner": null,
    })
}

fn deployment_json(
    world: &World,
    project: &Project,
    origin: &str,
    e: &EnvironmentSpec,
    d: &DeploymentSpec,
) -> Value {
    let updated = ago(
        project,
        d.finished_seconds_ago.unwrap_or(d.created_seconds_ago),
    );
    json!({
        "id": d.id,
        "iid": d.iid,
        "ref": d.reference,
        "sha": d.sha,
        "status": d.status,
        "created_at": clock::rest(ago(project, d.created_seconds_ago)),
        "updated_at": clock::rest(updated),
        "user": deployer(world, origin, &d.user),
        "environment": { "id": e.id, "name": e.name, "external_url": e.external_url },
        "deployable": deployable_json(world, project, origin, d),
    })
}

/// `GET /projects/:id/repository/branches` (`search`), by name.
pub(super) async fn branches(
    State(double): State<Double>,
    request: ListRequest,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let sort = one_of(
        &request.params,
        "sort",
        &["name_asc", "updated_asc", "updated_desc"],
        "name_asc",
    )?;
    let world = double.world();
    let project = code_project(&world, &request.caller, &id)?;
    let search = request.params.get("search");
    let mut branches: Vec<&BranchSpec> = project
        .ci
        .branches
        .iter()
        .filter(|b| search_matches(search, &b.name))
        .collect();
    match sort {
        "updated_asc" => branches.sort_by_key(|b| std::cmp::Reverse(b.committed_seconds_ago)),
        "updated_desc" => branches.sort_by_key(|b| b.committed_seconds_ago),
        _ => branches.sort_by(|a, b| a.name.cmp(&b.name)),
    }
    let items: Vec<Value> = branches
        .into_iter()
        .map(|b| branch_json(&world, &request.caller, project, &request.origin, b))
        .collect();
    Ok(page_of(&request, &items))
}

/// `GET /projects/:id/repository/tags` (`order_by` name|updated|version, `sort`, `search`).
pub(super) async fn git_tags(
    State(double): State<Double>,
    request: ListRequest,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let order = one_of(
        &request.params,
        "order_by",
        &["name", "updated", "version"],
        "updated",
    )?;
    let desc = sort_desc(&request.params, "desc")?;
    let world = double.world();
    let project = code_project(&world, &request.caller, &id)?;
    let search = request.params.get("search");
    let mut tags: Vec<&GitTagSpec> = project
        .ci
        .git_tags
        .iter()
        .filter(|t| search_matches(search, &t.name))
        .collect();
    match order {
        "name" => tags.sort_by(|a, b| a.name.cmp(&b.name)),
        "version" => tags.sort_by_key(|t| version_key(&t.name)),
        _ => tags.sort_by_key(|t| std::cmp::Reverse(t.created_seconds_ago)),
    }
    if desc {
        tags.reverse();
    }
    let items: Vec<Value> = tags
        .into_iter()
        .map(|t| git_tag_json(project, &request.origin, t))
        .collect();
    Ok(page_of(&request, &items))
}

const PIPELINE_STATUSES: &[&str] = &[
    "created",
    "waiting_for_resource",
    "preparing",
    "pending",
    "running",
    "success",
    "failed",
    "canceled",
    "skipped",
    "manual",
    "scheduled",
];

/// `GET /projects/:id/pipelines` (`status`, `ref`, `sha`, `updated_after`, `updated_before`,
/// `order_by` id|status|ref|updated_at|user_id, `sort`, newest first by default).
pub(super) async fn pipelines(
    State(double): State<Double>,
    request: ListRequest,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let params = &request.params;
    let status = params.get("status").filter(|s| !s.is_empty());
    one_of(params, "status", PIPELINE_STATUSES, "")?;
    let order = one_of(
        params,
        "order_by",
        &["id", "status", "ref", "updated_at", "user_id"],
        "id",
    )?;
    let desc = sort_desc(params, "desc")?;
    let after = time_param(params, "updated_after")?;
    let before = time_param(params, "updated_before")?;
    let world = double.world();
    let project = code_project(&world, &request.caller, &id)?;
    let mut pipelines: Vec<&PipelineSpec> = project
        .ci
        .pipelines
        .iter()
        .filter(|p| status.is_none_or(|s| json!(p.status) == json!(s)))
        .filter(|p| params.get("ref").is_none_or(|r| p.reference == r))
        .filter(|p| params.get("sha").is_none_or(|s| p.sha == s))
        .filter(|p| {
            let updated = ago(project, p.updated_seconds_ago);
            after.is_none_or(|t| updated > t) && before.is_none_or(|t| updated < t)
        })
        .collect();
    match order {
        "status" => pipelines.sort_by_key(|p| json!(p.status).to_string()),
        "ref" => pipelines.sort_by(|a, b| a.reference.cmp(&b.reference)),
        "updated_at" => pipelines.sort_by_key(|p| std::cmp::Reverse(p.updated_seconds_ago)),
        _ => pipelines.sort_by_key(|p| p.id),
    }
    if desc {
        pipelines.reverse();
    }
    let items: Vec<Value> = pipelines
        .into_iter()
        .map(|p| pipeline_json(project, &request.origin, p))
        .collect();
    Ok(page_of(&request, &items))
}

/// `GET /projects/:id/merge_requests` (`state` opened|closed|locked|merged|all,
/// `source_branch`, `target_branch`, `order_by` created_at|updated_at|title, `sort`).
pub(super) async fn merge_requests(
    State(double): State<Double>,
    request: ListRequest,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let params = &request.params;
    let state = one_of(
        params,
        "state",
        &["opened", "closed", "locked", "merged", "all"],
        "all",
    )?;
    let order = one_of(
        params,
        "order_by",
        &["created_at", "updated_at", "title"],
        "created_at",
    )?;
    let desc = sort_desc(params, "desc")?;
    let world = double.world();
    let project = code_project(&world, &request.caller, &id)?;
    let mut list: Vec<&MergeRequestSpec> = project
        .ci
        .merge_requests
        .iter()
        .filter(|m| state == "all" || json!(m.state) == json!(state))
        .filter(|m| {
            params
                .get("source_branch")
                .is_none_or(|b| m.source_branch == b)
        })
        .filter(|m| {
            params
                .get("target_branch")
                .is_none_or(|b| m.target_branch == b)
        })
        .collect();
    match order {
        "title" => list.sort_by(|a, b| a.title.cmp(&b.title)),
        "updated_at" => list.sort_by_key(|m| std::cmp::Reverse(m.updated_seconds_ago)),
        _ => list.sort_by_key(|m| (std::cmp::Reverse(m.created_seconds_ago), m.id)),
    }
    if desc {
        list.reverse();
    }
    let items: Vec<Value> = list
        .into_iter()
        .map(|m| merge_request_json(&world, project, &request.origin, m))
        .collect();
    Ok(page_of(&request, &items))
}

/// `GET /projects/:id/environments` (`name`, `search`, `states`), by id.
pub(super) async fn environments(
    State(double): State<Double>,
    request: ListRequest,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let params = &request.params;
    let states = one_of(params, "states", &["available", "stopping", "stopped"], "")?;
    if params.get("name").is_some() && params.get("search").is_some() {
        return Err(ApiError::bad_param("name, search are mutually exclusive"));
    }
    let world = double.world();
    let project = code_project(&world, &request.caller, &id)?;
    let search = params.get("search").map(str::to_lowercase);
    let mut list: Vec<&EnvironmentSpec> = project
        .ci
        .environments
        .iter()
        .filter(|e| states.is_empty() || json!(e.state) == json!(states))
        .filter(|e| params.get("name").is_none_or(|n| e.name == n))
        .filter(|e| {
            search
                .as_deref()
                .is_none_or(|s| e.name.to_lowercase().contains(s))
        })
        .collect();
    list.sort_by_key(|e| e.id);
    let items: Vec<Value> = list
        .into_iter()
        .map(|e| environment_json(project, e))
        .collect();
    Ok(page_of(&request, &items))
}

/// `GET /projects/:id/environments/:environment_id`, with `last_deployment` (the newest
/// successful one) and `cluster_agent` (none here).
pub(super) async fn environment(
    State(double): State<Double>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    Path((id, environment_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let caller = authenticate(&double, &headers, query.as_deref())?;
    caller.require_read()?;
    let environment_id: u64 = environment_id
        .parse()
        .map_err(|_| ApiError::bad_param("environment_id is invalid"))?;
    let world = double.world();
    let project = code_project(&world, &caller, &id)?;
    let e = project
        .ci
        .environments
        .iter()
        .find(|e| e.id == environment_id)
        .ok_or(ApiError::NotFound("Environment"))?;
    let origin = origin(&headers);
    let last = e
        .deployments
        .iter()
        .filter(|d| d.status == DeploymentStatus::Success)
        .max_by_key(|d| (std::cmp::Reverse(d.finished_seconds_ago), d.id))
        .map(|d| {
            json!({
                "id": d.id,
                "iid": d.iid,
                "ref": d.reference,
                "sha": d.sha,
                "created_at": clock::rest(ago(project, d.created_seconds_ago)),
                "status": d.status,
                "user": deployer(&world, &origin, &d.user),
                "deployable": deployable_json(&world, project, &origin, d),
            })
        })
        .unwrap_or(Value::Null);
    let mut body = environment_json(project, e);
    if let Some(map) = body.as_object_mut() {
        map.insert("last_deployment".into(), last);
        map.insert("cluster_agent".into(), Value::Null);
    }
    Ok(json_with(StatusCode::OK, HeaderMap::new(), &body))
}

const DEPLOYMENT_STATUSES: &[&str] = &[
    "created", "running", "success", "failed", "canceled", "skipped", "blocked",
];

/// `GET /projects/:id/deployments` (`environment`, `status`, `updated_after`,
/// `updated_before`, `finished_after`, `finished_before`, `order_by`
/// id|iid|created_at|updated_at|finished_at|ref, `sort`, oldest first by default).
pub(super) async fn deployments(
    State(double): State<Double>,
    request: ListRequest,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let params = &request.params;
    let status = one_of(params, "status", DEPLOYMENT_STATUSES, "")?;
    let order = one_of(
        params,
        "order_by",
        &[
            "id",
            "iid",
            "created_at",
            "updated_at",
            "finished_at",
            "ref",
        ],
        "id",
    )?;
    let desc = sort_desc(params, "asc")?;
    let updated_after = time_param(params, "updated_after")?;
    let updated_before = time_param(params, "updated_before")?;
    let finished_after = time_param(params, "finished_after")?;
    let finished_before = time_param(params, "finished_before")?;
    let world = double.world();
    let project = code_project(&world, &request.caller, &id)?;
    let mut list: Vec<(&EnvironmentSpec, &DeploymentSpec)> = project
        .ci
        .environments
        .iter()
        .filter(|e| params.get("environment").is_none_or(|n| e.name == n))
        .flat_map(|e| e.deployments.iter().map(move |d| (e, d)))
        .filter(|(_, d)| status.is_empty() || json!(d.status) == json!(status))
        .filter(|(_, d)| {
            let updated = ago(
                project,
                d.finished_seconds_ago.unwrap_or(d.created_seconds_ago),
            );
            updated_after.is_none_or(|t| updated > t) && updated_before.is_none_or(|t| updated < t)
        })
        .filter(|(_, d)| {
            let finished = d.finished_seconds_ago.map(|s| ago(project, s));
            (finished_after.is_none() && finished_before.is_none())
                || finished.is_some_and(|f| {
                    finished_after.is_none_or(|t| f > t) && finished_before.is_none_or(|t| f < t)
                })
        })
        .collect();
    let age = |d: &DeploymentSpec| d.finished_seconds_ago.unwrap_or(d.created_seconds_ago);
    match order {
        "ref" => list.sort_by(|a, b| a.1.reference.cmp(&b.1.reference)),
        "created_at" => list.sort_by_key(|(_, d)| (std::cmp::Reverse(d.created_seconds_ago), d.id)),
        "updated_at" => list.sort_by_key(|(_, d)| (std::cmp::Reverse(age(d)), d.id)),
        "finished_at" => {
            list.sort_by_key(|(_, d)| (std::cmp::Reverse(d.finished_seconds_ago), d.id))
        }
        "iid" => list.sort_by_key(|(_, d)| d.iid),
        _ => list.sort_by_key(|(_, d)| d.id),
    }
    if desc {
        list.reverse();
    }
    let items: Vec<Value> = list
        .into_iter()
        .map(|(e, d)| deployment_json(&world, project, &request.origin, e, d))
        .collect();
    Ok(page_of(&request, &items))
}
