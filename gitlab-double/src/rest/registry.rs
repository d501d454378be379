//! Container registry endpoints.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use time::OffsetDateTime;

use super::cleanup::{run_cleanup, CleanupParams};
use super::entities::{self, RepositoryOptions};
use super::{authenticate, find_group, find_project, json_with, origin, ApiError, Caller, Params};
use crate::dataset::RepositoryStatus;
use crate::model::{access, Namespace, Project, Repository, TagView, World};
use crate::pagination::{paginate, url_with_query, Counting, PageRequest, MAX_PER_PAGE};
use crate::state::Double;

/// The project, if the caller may read its registry (`404 Project Not Found` / `403 Forbidden`).
pub(super) fn registry_project<'w>(
    world: &'w World,
    caller: &Caller,
    reference: &str,
) -> Result<&'w Project, ApiError> {
    let project = find_project(world, caller, reference)?;
    if !world.can_read_registry(caller.user_id, project) {
        return Err(ApiError::Forbidden);
    }
    Ok(project)
}

/// A repository of the project (`404 Not found` otherwise, as ActiveRecord's `find`).
fn project_repository<'w>(
    world: &'w World,
    project: &Project,
    repository_id: &str,
) -> Result<&'w Arc<Repository>, ApiError> {
    let id: u64 = repository_id
        .parse()
        .map_err(|_| ApiError::bad_param("repository_id is invalid"))?;
    world
        .repositories
        .get(&id)
        .filter(|r| r.project_id == project.id)
        .ok_or(ApiError::RecordNotFound)
}

fn options(params: &Params) -> Result<RepositoryOptions, ApiError> {
    Ok(RepositoryOptions {
        tags: params.bool("tags")?.unwrap_or(false),
        tags_count: params.bool("tags_count")?.unwrap_or(false),
        size: params.bool("size")?.unwrap_or(false),
    })
}

pub(super) async fn project_repositories(
    State(double): State<Double>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    RawQuery(query): RawQuery,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let caller = authenticate(&double, &headers, query.as_deref())?;
    caller.require_read()?;
    let params = Params::parse(query.as_deref());
    let request = PageRequest::from_params(&params)?;
    let mut opts = options(&params)?;
    opts.size = false;
    let world = double.world();
    let project = registry_project(&world, &caller, &id)?;
    let repos = world.project_repositories(project.id);
    let origin = origin(&headers);
    let (page, page_headers) = paginate(
        &repos,
        request,
        Counting::Relation,
        &format!("{origin}{}", uri.path()),
        &params,
    );
    let metadata_db = double.metadata_db();
    let body = Value::Array(
        page.iter()
            .map(|r| entities::repository(r, double.registry_host(), opts, metadata_db))
            .collect(),
    );
    Ok(json_with(StatusCode::OK, page_headers, &body))
}

pub(super) async fn group_repositories(
    State(double): State<Double>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    RawQuery(query): RawQuery,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let caller = authenticate(&double, &headers, query.as_deref())?;
    caller.require_read()?;
    let params = Params::parse(query.as_deref());
    let request = PageRequest::from_params(&params)?;
    let world = double.world();
    let group = find_group(&world, &caller, &id)?;
    let group_readable = world.group_access(caller.user_id, group.id) >= access::REPORTER
        || group.visibility == crate::dataset::Visibility::Public;
    if !group_readable {
        return Err(ApiError::Forbidden);
    }
    let repos: Vec<&Arc<Repository>> = world
        .repositories
        .values()
        .filter(|r| {
            world.project(r.project_id).is_some_and(|p| {
                matches!(p.namespace, Namespace::Group(g) if world.group_is_within(g, group.id))
                    && world.can_read_registry(caller.user_id, p)
            })
        })
        .collect();
    let origin = origin(&headers);
    let (page, page_headers) = paginate(
        &repos,
        request,
        Counting::Relation,
        &format!("{origin}{}", uri.path()),
        &params,
    );
    let metadata_db = double.metadata_db();
    let body = Value::Array(
        page.iter()
            .map(|r| {
                entities::repository(
                    r,
                    double.registry_host(),
                    RepositoryOptions::default(),
                    metadata_db,
                )
            })
            .collect(),
    );
    Ok(json_with(StatusCode::OK, page_headers, &body))
}

pub(super) async fn repository_details(
    State(double): State<Double>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let caller = authenticate(&double, &headers, query.as_deref())?;
    caller.require_read()?;
    let params = Params::parse(query.as_deref());
    let opts = options(&params)?;
    let world = double.world();
    let repo = id
        .parse::<u64>()
        .ok()
        .and_then(|id| world.repositories.get(&id))
        .ok_or(ApiError::RecordNotFound)?;
    let readable = world
        .project(repo.project_id)
        .is_some_and(|p| world.can_read_registry(caller.user_id, p));
    if !readable {
        return Err(ApiError::Forbidden);
    }
    let body = entities::repository(repo, double.registry_host(), opts, double.metadata_db());
    Ok(json_with(StatusCode::OK, HeaderMap::new(), &body))
}

pub(super) async fn delete_repository(
    State(double): State<Double>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    Path((id, repository_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let caller = authenticate(&double, &headers, query.as_deref())?;
    let user = caller.require_write()?;
    let world = double.world();
    let project = registry_project(&world, &caller, &id)?;
    let repo = project_repository(&world, project, &repository_id)?;
    if !world.can_admin_registry(Some(user), project) {
        return Err(ApiError::Forbidden);
    }
    if world.repository_delete_protected(Some(user), project, repo) {
        return Err(ApiError::Message(
            StatusCode::FORBIDDEN,
            json!("403 Forbidden - Deleting the protected repository path is forbidden"),
        ));
    }
    let repo_id = repo.id;
    double.update_repository(repo_id, |r| {
        r.status = Some(RepositoryStatus::DeleteScheduled);
        r.updated_at = OffsetDateTime::now_utc();
    });
    tracing::info!(repository_id = repo_id, "repository deletion scheduled");
    Ok(StatusCode::ACCEPTED.into_response())
}

pub(super) async fn list_tags(
    State(double): State<Double>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    RawQuery(query): RawQuery,
    Path((id, repository_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let caller = authenticate(&double, &headers, query.as_deref())?;
    caller.require_read()?;
    let params = Params::parse(query.as_deref());
    let world = double.world();
    let project = registry_project(&world, &caller, &id)?;
    let repo = project_repository(&world, project, &repository_id)?;
    let host = double.registry_host();
    let origin = origin(&headers);
    let url_base = format!("{origin}{}", uri.path());

    if params.get("pagination") == Some("keyset") {
        // Keyset pagination is served by the registry's own API, which needs its database.
        if !double.metadata_db() {
            return Err(ApiError::Message(
                StatusCode::METHOD_NOT_ALLOWED,
                json!("405 Method Not Allowed"),
            ));
        }
        let per_page = match params.int("per_page")? {
            Some(n) if n > 0 => (n as u64).min(MAX_PER_PAGE),
            _ => crate::pagination::DEFAULT_PER_PAGE,
        } as usize;
        let desc = match params.get("sort").unwrap_or("asc") {
            "asc" => false,
            "desc" => true,
            _ => return Err(ApiError::bad_param("sort does not have a valid value")),
        };
        let last = params.get("last").filter(|l| !l.is_empty());
        let mut names: Vec<&String> = repo.tags.keys().collect();
        if desc {
            names.reverse();
        }
        let remaining: Vec<&String> = names
            .into_iter()
            .filter(|n| match last {
                Some(l) if desc => n.as_str() < l,
                Some(l) => n.as_str() > l,
                None => true,
            })
            .collect();
        let page: Vec<&String> = remaining.iter().take(per_page).copied().collect();
        let mut page_headers = HeaderMap::new();
        if remaining.len() > per_page {
            if let Some(last_name) = page.last() {
                let mut pairs: Vec<(String, String)> = params
                    .0
                    .iter()
                    .filter(|(k, _)| k != "last" && k != "access_token")
                    .cloned()
                    .collect();
                pairs.push(("last".to_owned(), (*last_name).clone()));
                let link = format!("<{}>; rel=\"next\"", url_with_query(&url_base, pairs));
                if let Ok(v) = HeaderValue::from_str(&link) {
                    page_headers.insert(axum::http::header::LINK, v);
                }
            }
        }
        let body = Value::Array(page.iter().map(|n| entities::tag(repo, n, host)).collect());
        return Ok(json_with(StatusCode::OK, page_headers, &body));
    }

    let request = PageRequest::from_params(&params)?;
    let names: Vec<&String> = repo.tags.keys().collect();
    let (page, page_headers) = paginate(&names, request, Counting::Array, &url_base, &params);
    let body = Value::Array(page.iter().map(|n| entities::tag(repo, n, host)).collect());
    Ok(json_with(StatusCode::OK, page_headers, &body))
}

/// A tag GitLab considers valid: listed, and (without the metadata database) with a manifest.
fn valid_tag(repo: &Repository, name: &str, metadata_db: bool) -> Result<TagView, ApiError> {
    let tag = repo.tags.get(name).ok_or(ApiError::NotFound("Tag"))?;
    let view = TagView::new(repo, tag, metadata_db);
    if !metadata_db && view.image.is_none() {
        return Err(ApiError::NotFound("Tag"));
    }
    Ok(view)
}

pub(super) async fn tag_details(
    State(double): State<Double>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    Path((id, repository_id, tag_name)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let caller = authenticate(&double, &headers, query.as_deref())?;
    caller.require_read()?;
    let world = double.world();
    let project = registry_project(&world, &caller, &id)?;
    let repo = project_repository(&world, project, &repository_id)?;
    let view = valid_tag(repo, &tag_name, double.metadata_db())?;
    let body = entities::tag_details(repo, &view, double.registry_host());
    Ok(json_with(StatusCode::OK, HeaderMap::new(), &body))
}

pub(super) async fn delete_tag(
    State(double): State<Double>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    Path((id, repository_id, tag_name)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let caller = authenticate(&double, &headers, query.as_deref())?;
    let user = caller.require_write()?;
    let world = double.world();
    let project = registry_project(&world, &caller, &id)?;
    let repo = project_repository(&world, project, &repository_id)?;
    if !world.can_destroy_image(Some(user), project) {
        return Err(ApiError::Forbidden);
    }
    valid_tag(repo, &tag_name, double.metadata_db())?;
    if world.tag_delete_protected(Some(user), project, &tag_name) {
        return Err(ApiError::Message(
            StatusCode::FORBIDDEN,
            json!("403 Forbidden - Protected tags cannot be deleted"),
        ));
    }
    let removed = double
        .update_repository(repo.id, |r| {
            let removed = r.tags.remove(&tag_name).is_some();
            r.updated_at = OffsetDateTime::now_utc();
            r.refresh();
            removed
        })
        .unwrap_or(false);
    if removed {
        tracing::info!(repository_id = repo.id, "tag deleted");
        Ok(StatusCode::OK.into_response())
    } else {
        Ok(StatusCode::BAD_REQUEST.into_response())
    }
}

pub(super) async fn bulk_delete_tags(
    State(double): State<Double>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    Path((id, repository_id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = authenticate(&double, &headers, query.as_deref())?;
    let user = caller.require_write()?;
    let world = double.world();
    let project = registry_project(&world, &caller, &id)?;
    // Parameters may come in the query string, a form body or a JSON body.
    let mut params = Params::parse(query.as_deref());
    let is_json = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    if is_json {
        if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(&body) {
            for (k, v) in map {
                let text = match v {
                    Value::String(s) => s,
                    Value::Null => continue,
                    other => other.to_string(),
                };
                params.0.push((k, text));
            }
        }
    } else {
        params
            .0
            .extend(Params::parse(std::str::from_utf8(&body).ok()).0);
    }
    let delete = params
        .get("name_regex_delete")
        .or_else(|| params.get("name_regex"))
        .map(str::to_owned);
    if delete.is_none() {
        return Err(ApiError::bad_param(
            "name_regex, name_regex_delete are missing, at least one parameter must be provided",
        ));
    }
    for name in ["name_regex_delete", "name_regex", "name_regex_keep"] {
        if let Some(pattern) = params.get(name) {
            if regex::Regex::new(pattern).is_err() {
                return Err(ApiError::bad_param(format!("{name} is an invalid regexp")));
            }
        }
    }
    let keep_n = params.int("keep_n")?;
    let repo = project_repository(&world, project, &repository_id)?;
    if !world.can_admin_registry(Some(user), project) {
        return Err(ApiError::Forbidden);
    }
    if !double.take_cleanup_lease(repo.id, OffsetDateTime::now_utc()) {
        return Err(ApiError::Message(
            StatusCode::BAD_REQUEST,
            json!(
                "This request has already been made. You can run this at most once an hour for a \
                given container repository"
            ),
        ));
    }
    run_cleanup(
        double.clone(),
        repo.id,
        user,
        CleanupParams {
            name_regex_delete: delete,
            name_regex_keep: params.get("name_regex_keep").map(str::to_owned),
            keep_n,
            older_than: params.get("older_than").map(str::to_owned),
        },
    );
    Ok(StatusCode::ACCEPTED.into_response())
}
