//! `GET /projects`, `GET /projects/:id`, `PUT /projects/:id` (cleanup policy).

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use time::OffsetDateTime;

use super::{authenticate, entities, find_project, json_with, origin, ApiError, Caller, Params};
use crate::model::{access, Project, World};
use crate::pagination::{paginate, Counting, PageRequest};
use crate::state::Double;

/// Filters and order shared by `/projects` and `/groups/:id/projects`.
pub(super) struct ProjectQuery {
    membership: bool,
    simple: bool,
    search: Option<String>,
    min_access_level: Option<u8>,
    visibility: Option<String>,
    order_by: String,
    sort_desc: bool,
}

impl ProjectQuery {
    pub(super) fn from_params(params: &Params) -> Result<ProjectQuery, ApiError> {
        let min_access_level = match params.int("min_access_level")? {
            None => None,
            Some(l) if [10, 20, 30, 40, 50].contains(&l) => Some(l as u8),
            Some(_) => {
                return Err(ApiError::bad_param(
                    "min_access_level does not have a valid value",
                ))
            }
        };
        let order_by = params.get("order_by").unwrap_or("created_at").to_owned();
        if ![
            "id",
            "name",
            "path",
            "created_at",
            "updated_at",
            "last_activity_at",
        ]
        .contains(&order_by.as_str())
        {
            return Err(ApiError::bad_param("order_by does not have a valid value"));
        }
        let sort_desc = match params.get("sort").unwrap_or("desc") {
            "desc" => true,
            "asc" => false,
            _ => return Err(ApiError::bad_param("sort does not have a valid value")),
        };
        let visibility = params.get("visibility").map(str::to_owned);
        if let Some(v) = &visibility {
            if !["private", "internal", "public"].contains(&v.as_str()) {
                return Err(ApiError::bad_param(
                    "visibility does not have a valid value",
                ));
            }
        }
        Ok(ProjectQuery {
            membership: params.bool("membership")?.unwrap_or(false),
            simple: params.bool("simple")?.unwrap_or(false),
            search: params
                .get("search")
                .filter(|s| !s.is_empty())
                .map(str::to_lowercase),
            min_access_level,
            visibility,
            order_by,
            sort_desc,
        })
    }

    pub(super) fn select<'w>(
        &self,
        world: &'w World,
        caller: &Caller,
        within: impl Fn(&Project) -> bool,
    ) -> Vec<&'w Project> {
        let user = caller.user_id;
        let mut out: Vec<&Project> = world
            .projects
            .iter()
            .filter(|p| within(p))
            .filter(|p| world.can_see_project(user, p))
            .filter(|p| !self.membership || world.project_access(user, p) > access::NONE)
            .filter(|p| {
                self.min_access_level
                    .is_none_or(|min| world.project_access(user, p) >= min)
            })
            .filter(|p| {
                self.visibility
                    .as_deref()
                    .is_none_or(|v| p.visibility.as_str() == v)
            })
            .filter(|p| {
                self.search.as_deref().is_none_or(|s| {
                    p.name.to_lowercase().contains(s)
                        || p.path.to_lowercase().contains(s)
                        || p.path_with_namespace.to_lowercase().contains(s)
                })
            })
            .collect();
        out.sort_by(|a, b| {
            let ord = match self.order_by.as_str() {
                "id" => a.id.cmp(&b.id),
                "name" => a.name.to_lowercase().cmp(&b.name.to_lowercase()),
                "path" => a.path.cmp(&b.path),
                "last_activity_at" | "updated_at" => a.last_activity_at.cmp(&b.last_activity_at),
                _ => a.created_at.cmp(&b.created_at),
            }
            .then(a.id.cmp(&b.id));
            if self.sort_desc {
                ord.reverse()
            } else {
                ord
            }
        });
        out
    }

    pub(super) fn render(
        &self,
        world: &World,
        projects: &[&Project],
        origin: &str,
        registry_host: &str,
        caller: &Caller,
    ) -> Value {
        Value::Array(
            projects
                .iter()
                .map(|p| {
                    if self.simple {
                        entities::project_simple(world, p, origin)
                    } else {
                        entities::project_full(
                            world,
                            p,
                            origin,
                            registry_host,
                            caller.user_id,
                            false,
                        )
                    }
                })
                .collect(),
        )
    }
}

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
    let filter = ProjectQuery::from_params(&params)?;
    let world = double.world();
    let selected = filter.select(&world, &caller, |_| true);
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

pub(super) async fn show(
    State(double): State<Double>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let caller = authenticate(&double, &headers, query.as_deref())?;
    caller.require_read()?;
    let world = double.world();
    let project = find_project(&world, &caller, &id)?;
    Ok(Json(entities::project_full(
        &world,
        project,
        &origin(&headers),
        double.registry_host(),
        caller.user_id,
        true,
    ))
    .into_response())
}

/// Cleanup-policy attributes of a `PUT /projects/:id`; `Some(None)` clears a value.
#[derive(Debug, Default)]
struct PolicyAttributes {
    cadence: Option<String>,
    enabled: Option<bool>,
    keep_n: Option<Option<u32>>,
    older_than: Option<Option<String>>,
    name_regex: Option<Option<String>>,
    name_regex_keep: Option<Option<String>>,
}

const CADENCES: &[&str] = &["1d", "7d", "14d", "1month", "3month"];
const KEEP_NS: &[u32] = &[1, 5, 10, 25, 50, 100];
const OLDER_THANS: &[&str] = &["7d", "14d", "30d", "60d", "90d"];

fn cadence_days(cadence: &str) -> i64 {
    match cadence {
        "7d" => 7,
        "14d" => 14,
        "1month" => 30,
        "3month" => 90,
        _ => 1,
    }
}

/// Reads `container_expiration_policy_attributes` from a JSON object or from bracketed form keys.
fn policy_attributes(
    headers: &HeaderMap,
    body: &Bytes,
    query: &Params,
) -> Result<PolicyAttributes, ApiError> {
    let is_json = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    // Normalise both encodings to name → JSON value.
    let mut raw: BTreeMap<String, Value> = BTreeMap::new();
    if is_json && !body.is_empty() {
        let parsed: Value = serde_json::from_slice(body).map_err(|_| {
            ApiError::bad_param(
                "The provided content-type 'application/json' is not \
                supported or the body is malformed",
            )
        })?;
        if let Some(attrs) = parsed
            .get("container_expiration_policy_attributes")
            .and_then(Value::as_object)
        {
            for (k, v) in attrs {
                raw.insert(k.clone(), v.clone());
            }
        }
    } else {
        let form = Params::parse(std::str::from_utf8(body).ok());
        for (k, v) in query.0.iter().chain(form.0.iter()) {
            if let Some(name) = k
                .strip_prefix("container_expiration_policy_attributes[")
                .and_then(|rest| rest.strip_suffix(']'))
            {
                raw.insert(name.to_owned(), Value::String(v.clone()));
            }
        }
    }
    let invalid = |name: &str| {
        ApiError::bad_param(format!(
            "container_expiration_policy_attributes[{name}] is invalid"
        ))
    };
    let text = |name: &str, v: &Value| -> Result<Option<String>, ApiError> {
        match v {
            Value::Null => Ok(None),
            Value::String(s) if s.is_empty() => Ok(None),
            Value::String(s) => Ok(Some(s.clone())),
            Value::Number(n) => Ok(Some(n.to_string())),
            _ => Err(invalid(name)),
        }
    };
    let mut attrs = PolicyAttributes::default();
    for (name, value) in &raw {
        match name.as_str() {
            "cadence" => attrs.cadence = text(name, value)?,
            "enabled" => {
                attrs.enabled = match value {
                    Value::Bool(b) => Some(*b),
                    Value::String(s) => Some(super::parse_bool(s).ok_or_else(|| invalid(name))?),
                    Value::Null => None,
                    _ => return Err(invalid(name)),
                }
            }
            "keep_n" => {
                attrs.keep_n = Some(match value {
                    Value::Null => None,
                    Value::Number(n) => Some(
                        n.as_u64()
                            .and_then(|n| u32::try_from(n).ok())
                            .ok_or_else(|| invalid(name))?,
                    ),
                    Value::String(s) if s.is_empty() => None,
                    Value::String(s) => Some(s.trim().parse().map_err(|_| invalid(name))?),
                    _ => return Err(invalid(name)),
                })
            }
            "older_than" => attrs.older_than = Some(text(name, value)?),
            // GitLab accepts the newer name as an alias.
            "name_regex" | "name_regex_delete" => attrs.name_regex = Some(text(name, value)?),
            "name_regex_keep" => attrs.name_regex_keep = Some(text(name, value)?),
            _ => {}
        }
    }
    Ok(attrs)
}

/// GitLab's model validations; errors keyed like `container_expiration_policy.keep_n`.
fn validate(attrs: &PolicyAttributes, current: &Project) -> BTreeMap<String, Vec<String>> {
    let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut add = |field: &str, message: String| {
        errors
            .entry(format!("container_expiration_policy.{field}"))
            .or_default()
            .push(message);
    };
    let not_in_list = "is not included in the list".to_owned();
    if let Some(cadence) = &attrs.cadence {
        if !CADENCES.contains(&cadence.as_str()) {
            add("cadence", not_in_list.clone());
        }
    }
    if let Some(Some(keep_n)) = attrs.keep_n {
        if !KEEP_NS.contains(&keep_n) {
            add("keep_n", not_in_list.clone());
        }
    }
    if let Some(Some(older_than)) = &attrs.older_than {
        if !OLDER_THANS.contains(&older_than.as_str()) {
            add("older_than", not_in_list.clone());
        }
    }
    let enabled = attrs.enabled.unwrap_or(current.policy.enabled);
    for (field, value) in [
        ("name_regex", &attrs.name_regex),
        ("name_regex_keep", &attrs.name_regex_keep),
    ] {
        if let Some(Some(regex)) = value {
            if regex.chars().count() > 255 {
                add(field, "is too long (maximum is 255 characters)".to_owned());
            }
            if enabled {
                if let Err(e) = regex::Regex::new(regex) {
                    add(
                        field,
                        format!(
                            "not valid RE2 syntax: {}",
                            last_line(&e.to_string()).trim_start_matches("error: ")
                        ),
                    );
                }
            }
        }
    }
    errors
}

fn last_line(s: &str) -> String {
    s.lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or(s)
        .trim()
        .to_owned()
}

pub(super) async fn update(
    State(double): State<Double>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = authenticate(&double, &headers, query.as_deref())?;
    let user = caller.require_write()?;
    let world = double.world();
    let project = find_project(&world, &caller, &id)?;
    if world.project_access(Some(user), project) < access::MAINTAINER && !world.is_admin(Some(user))
    {
        return Err(ApiError::Forbidden);
    }
    let params = Params::parse(query.as_deref());
    let attrs = policy_attributes(&headers, &body, &params)?;
    let errors = validate(&attrs, project);
    if !errors.is_empty() {
        return Err(ApiError::Message(StatusCode::BAD_REQUEST, json!(errors)));
    }
    let now = OffsetDateTime::now_utc();
    let project_id = project.id;
    double.update_project(project_id, |p| {
        let policy = &mut p.policy;
        if let Some(c) = attrs.cadence {
            policy.cadence = c;
        }
        if let Some(e) = attrs.enabled {
            policy.enabled = e;
        }
        if let Some(k) = attrs.keep_n {
            policy.keep_n = k;
        }
        if let Some(o) = attrs.older_than {
            policy.older_than = o;
        }
        if let Some(r) = attrs.name_regex {
            policy.name_regex = r;
        }
        if let Some(r) = attrs.name_regex_keep {
            policy.name_regex_keep = r;
        }
        // Saving reschedules the next run one cadence from now.
        policy.next_run_at = Some(now + time::Duration::days(cadence_days(&policy.cadence)));
        policy.updated_at = now;
    });
    let world = double.world();
    let project = world
        .project(project_id)
        .ok_or(ApiError::NotFound("Project"))?;
    tracing::info!(project = %project.path_with_namespace, "cleanup policy updated");
    Ok(Json(entities::project_full(
        &world,
        project,
        &origin(&headers),
        double.registry_host(),
        caller.user_id,
        false,
    ))
    .into_response())
}
