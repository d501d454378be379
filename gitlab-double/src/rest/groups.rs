//! `GET /groups`, `GET /groups/:id`, `GET /groups/:id/projects`.

use axum::extract::{OriginalUri, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;

use super::projects::ProjectQuery;
use super::{authenticate, entities, find_group, json_with, origin, ApiError, Params};
use crate::model::{access, Group, Namespace};
use crate::pagination::{paginate, Counting, PageRequest};
use crate::state::Double;

pub(super) async fn list(
    State(double): State<Double>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let caller = authenticate(&double, &headers, query.as_deref())?;
    caller.require_read()?;
    let params = Params::parse(query.as_deref());
    let request = PageRequest::from_params(&params)?;
    let user = caller.user_id;
    // Signed-in users get the groups they belong to unless they ask for all they can see.
    let all_available = params.bool("all_available")?.unwrap_or(user.is_none());
    let top_level_only = params.bool("top_level_only")?.unwrap_or(false);
    let owned = params.bool("owned")?.unwrap_or(false);
    let min_access = params.int("min_access_level")?;
    let search = params
        .get("search")
        .filter(|s| !s.is_empty())
        .map(str::to_lowercase);
    let sort_desc = match params.get("sort").unwrap_or("asc") {
        "asc" => false,
        "desc" => true,
        _ => return Err(ApiError::bad_param("sort does not have a valid value")),
    };
    let order_by = params.get("order_by").unwrap_or("name");
    if !["name", "path", "id", "similarity"].contains(&order_by) {
        return Err(ApiError::bad_param("order_by does not have a valid value"));
    }
    let world = double.world();
    let mut groups: Vec<&Group> = world
        .groups
        .iter()
        .filter(|g| world.can_see_group(user, g))
        .filter(|g| all_available || world.group_access(user, g.id) > access::NONE)
        .filter(|g| !top_level_only || g.parent_id.is_none())
        .filter(|g| !owned || world.group_access(user, g.id) >= access::OWNER)
        .filter(|g| min_access.is_none_or(|m| i64::from(world.group_access(user, g.id)) >= m))
        .filter(|g| {
            search.as_deref().is_none_or(|s| {
                g.name.to_lowercase().contains(s) || g.full_path.to_lowercase().contains(s)
            })
        })
        .collect();
    groups.sort_by(|a, b| {
        let ord = match order_by {
            "id" => a.id.cmp(&b.id),
            "path" => a.full_path.cmp(&b.full_path),
            _ => a.full_name.to_lowercase().cmp(&b.full_name.to_lowercase()),
        }
        .then(a.id.cmp(&b.id));
        if sort_desc {
            ord.reverse()
        } else {
            ord
        }
    });
    let origin = origin(&headers);
    let (page, page_headers) = paginate(
        &groups,
        request,
        Counting::Relation,
        &format!("{origin}{}", uri.path()),
        &params,
    );
    let body = Value::Array(page.iter().map(|g| entities::group(g, &origin)).collect());
    Ok(json_with(StatusCode::OK, page_headers, &body))
}

pub(super) async fn show(
    State(double): State<Double>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let caller = authenticate(&double, &headers, query.as_deref())?;
    caller.require_read()?;
    let params = Params::parse(query.as_deref());
    let world = double.world();
    let group = find_group(&world, &caller, &id)?;
    let origin = origin(&headers);
    let mut body = entities::group(group, &origin);
    if params.bool("with_projects")?.unwrap_or(true) {
        let projects: Vec<Value> = world
            .projects
            .iter()
            .filter(|p| matches!(p.namespace, Namespace::Group(g) if g == group.id))
            .filter(|p| world.can_see_project(caller.user_id, p))
            .map(|p| {
                entities::project_full(
                    &world,
                    p,
                    &origin,
                    double.registry_host(),
                    caller.user_id,
                    false,
                )
            })
            .collect();
        if let Some(map) = body.as_object_mut() {
            map.insert("projects".into(), Value::Array(projects));
            map.insert("shared_projects".into(), Value::Array(Vec::new()));
        }
    }
    Ok(Json(body).into_response())
}

pub(super) async fn projects(
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
    let filter = ProjectQuery::from_params(&params)?;
    let include_subgroups = params.bool("include_subgroups")?.unwrap_or(false);
    let world = double.world();
    let group = find_group(&world, &caller, &id)?;
    let group_id = group.id;
    let selected = filter.select(&world, &caller, |p| match p.namespace {
        Namespace::Group(g) if include_subgroups => world.group_is_within(g, group_id),
        Namespace::Group(g) => g == group_id,
        Namespace::User(_) => false,
    });
    let origin = origin(&headers);
    let (page, page_headers) = paginate(
        &selected,
        request,
        Counting::Relation,
        &format!("{origin}{}", uri.path()),
        &params,
    );
    let body = filter.render(&world, &page, &origin, double.registry_host(), &caller);
    Ok(json_with(StatusCode::OK, page_headers, &body))
}

/// `GET /groups/:id/members/all/:user_id`: a member's effective level, inherited from
/// ancestor groups included (GitLab's `members/all`); `404 Member Not Found` otherwise.
pub(super) async fn member(
    State(double): State<Double>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    Path((id, user_id)): Path<(String, u64)>,
) -> Result<Response, ApiError> {
    let caller = authenticate(&double, &headers, query.as_deref())?;
    caller.require_read()?;
    let world = double.world();
    let group = find_group(&world, &caller, &id)?;
    let level = world.group_access(Some(user_id), group.id);
    let user = world
        .user(user_id)
        .filter(|_| level > access::NONE)
        .ok_or(ApiError::NotFound("Member"))?;
    let origin = origin(&headers);
    Ok(Json(serde_json::json!({
        "id": user.id,
        "username": user.username,
        "name": user.name,
        "state": user.state,
        "avatar_url": super::avatar_url(&origin, &user.username),
        "web_url": format!("{origin}/{}", user.username),
        "access_level": level,
        "expires_at": null,
        "membership_state": "active",
    }))
    .into_response())
}
