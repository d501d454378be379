//! Container registry protection rules over REST:
//! `/projects/:id/registry/protection/repository/rules[/:protection_rule_id]` (GET, POST, PATCH,
//! DELETE) and `/projects/:id/registry/protection/tag/rules[/:protection_rule_id]` (GET, PATCH;
//! GitLab creates and deletes tag rules through GraphQL only).
//!
//! Everything needs Maintainer (`admin_container_image`); changes need the `api` scope. Parameter
//! errors are Grape's 400s, model validation errors 422 `{"message":{"error":[…]}}`.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::registry::registry_project;
use super::{authenticate, json_with, ApiError, Caller};
use crate::model::{access, Project, RepositoryRule, TagRule, World};
use crate::protection::{RuleChanges, RuleError};
use crate::state::Double;

/// `Entities::Projects::ContainerRegistry::Protection::Rule`.
pub(crate) fn repository_rule_json(project_id: u64, rule: &RepositoryRule) -> Value {
    json!({
        "id": rule.id,
        "project_id": project_id,
        "repository_path_pattern": rule.pattern,
        "minimum_access_level_for_push": rule.min_push.map(access::rule_name),
        "minimum_access_level_for_delete": rule.min_delete.map(access::rule_name),
    })
}

/// `Entities::Projects::ContainerRegistry::Protection::TagRule`.
pub(crate) fn tag_rule_json(project_id: u64, rule: &TagRule) -> Value {
    json!({
        "id": rule.id,
        "project_id": project_id,
        "tag_name_pattern": rule.pattern,
        "minimum_access_level_for_push": access::rule_name(rule.min_push),
        "minimum_access_level_for_delete": access::rule_name(rule.min_delete),
    })
}

/// The project, if the caller is at least a Maintainer there (404 / 403 otherwise).
fn admin_project<'w>(
    world: &'w World,
    caller: &Caller,
    reference: &str,
) -> Result<&'w Project, ApiError> {
    let project = registry_project(world, caller, reference)?;
    if !world.can_admin_registry(caller.user_id, project) {
        return Err(ApiError::Forbidden);
    }
    Ok(project)
}

/// Renders a refused change; `refused` is the status of a service refusal (422, 400 on DELETE).
fn rule_error(error: RuleError, refused: StatusCode) -> ApiError {
    match error {
        RuleError::NotFound => ApiError::RecordNotFound,
        RuleError::Refused(message) => ApiError::Message(refused, json!({ "error": message })),
        RuleError::Invalid(messages) => ApiError::Message(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({ "error": messages }),
        ),
    }
}

/// Parameters from the query string and a JSON or form body: name → value, `None` for JSON null.
fn body_params(
    headers: &HeaderMap,
    query: Option<&str>,
    body: &Bytes,
) -> Result<BTreeMap<String, Option<String>>, ApiError> {
    Ok(super::form::Form::parse(headers, query, body)?.into_texts())
}

/// An access-level parameter: absent → `None`; null or `""` → `Some(None)` (clear); otherwise
/// one of `maintainer|owner|admin` (Grape's `values`), else `"<name> does not have a valid value"`.
fn level_param(
    params: &BTreeMap<String, Option<String>>,
    name: &str,
    errors: &mut Vec<String>,
) -> Option<Option<u8>> {
    match params.get(name)? {
        None => Some(None),
        Some(v) if v.is_empty() => Some(None),
        Some(v) => match access::from_rule_name(v) {
            Some(level) => Some(Some(level)),
            None => {
                errors.push(format!("{name} does not have a valid value"));
                None
            }
        },
    }
}

/// A string parameter: absent → `None`; null → `Some("")`.
fn text_param(params: &BTreeMap<String, Option<String>>, name: &str) -> Option<String> {
    params.get(name).map(|v| v.clone().unwrap_or_default())
}

fn rule_id(raw: &str) -> Result<u64, ApiError> {
    raw.trim()
        .parse()
        .map_err(|_| ApiError::bad_param("protection_rule_id is invalid"))
}

fn grape_errors(errors: Vec<String>) -> Result<(), ApiError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::bad_param(errors.join(", ")))
    }
}

/// `GET /projects/:id/registry/protection/repository/rules` (Maintainer).
pub(super) async fn repository_rules(
    State(double): State<Double>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let caller = authenticate(&double, &headers, query.as_deref())?;
    caller.require_read()?;
    let world = double.world();
    let project = admin_project(&world, &caller, &id)?;
    let rules: Vec<Value> = project
        .repository_rules
        .iter()
        .map(|r| repository_rule_json(project.id, r))
        .collect();
    Ok(json_with(
        StatusCode::OK,
        HeaderMap::new(),
        &Value::Array(rules),
    ))
}

/// `POST /projects/:id/registry/protection/repository/rules` → 201 with the rule.
pub(super) async fn create_repository_rule(
    State(double): State<Double>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = authenticate(&double, &headers, query.as_deref())?;
    caller.require_write()?;
    let params = body_params(&headers, query.as_deref(), &body)?;
    let mut errors = Vec::new();
    let pattern = text_param(&params, "repository_path_pattern");
    if pattern.is_none() {
        errors.push("repository_path_pattern is missing".to_owned());
    }
    let min_push = level_param(&params, "minimum_access_level_for_push", &mut errors);
    let min_delete = level_param(&params, "minimum_access_level_for_delete", &mut errors);
    if !params.contains_key("minimum_access_level_for_push")
        && !params.contains_key("minimum_access_level_for_delete")
    {
        errors.push(
            "minimum_access_level_for_push, minimum_access_level_for_delete are missing, at least \
             one parameter must be provided"
                .to_owned(),
        );
    }
    grape_errors(errors)?;
    let world = double.world();
    let project = admin_project(&world, &caller, &id)?;
    let rule = double
        .create_repository_rule(
            project.id,
            RuleChanges {
                pattern,
                min_push,
                min_delete,
            },
        )
        .map_err(|e| rule_error(e, StatusCode::UNPROCESSABLE_ENTITY))?;
    Ok(json_with(
        StatusCode::CREATED,
        HeaderMap::new(),
        &repository_rule_json(project.id, &rule),
    ))
}

/// `PATCH /projects/:id/registry/protection/repository/rules/:protection_rule_id` → 200.
pub(super) async fn update_repository_rule(
    State(double): State<Double>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    Path((id, rule)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = authenticate(&double, &headers, query.as_deref())?;
    caller.require_write()?;
    let rule_id = rule_id(&rule)?;
    let params = body_params(&headers, query.as_deref(), &body)?;
    let mut errors = Vec::new();
    let changes = RuleChanges {
        pattern: text_param(&params, "repository_path_pattern"),
        min_push: level_param(&params, "minimum_access_level_for_push", &mut errors),
        min_delete: level_param(&params, "minimum_access_level_for_delete", &mut errors),
    };
    grape_errors(errors)?;
    let world = double.world();
    let project = admin_project(&world, &caller, &id)?;
    let rule = double
        .update_repository_rule(project.id, rule_id, changes)
        .map_err(|e| rule_error(e, StatusCode::UNPROCESSABLE_ENTITY))?;
    Ok(json_with(
        StatusCode::OK,
        HeaderMap::new(),
        &repository_rule_json(project.id, &rule),
    ))
}

/// `DELETE /projects/:id/registry/protection/repository/rules/:protection_rule_id` → 204.
pub(super) async fn delete_repository_rule(
    State(double): State<Double>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    Path((id, rule)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let caller = authenticate(&double, &headers, query.as_deref())?;
    caller.require_write()?;
    let rule_id = rule_id(&rule)?;
    let world = double.world();
    let project = admin_project(&world, &caller, &id)?;
    double
        .delete_repository_rule(project.id, rule_id)
        .map_err(|e| rule_error(e, StatusCode::BAD_REQUEST))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /projects/:id/registry/protection/tag/rules` (Maintainer).
pub(super) async fn tag_rules(
    State(double): State<Double>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let caller = authenticate(&double, &headers, query.as_deref())?;
    caller.require_read()?;
    let world = double.world();
    let project = admin_project(&world, &caller, &id)?;
    let rules: Vec<Value> = project
        .tag_rules
        .iter()
        .map(|r| tag_rule_json(project.id, r))
        .collect();
    Ok(json_with(
        StatusCode::OK,
        HeaderMap::new(),
        &Value::Array(rules),
    ))
}

/// `PATCH /projects/:id/registry/protection/tag/rules/:protection_rule_id` → 200.
pub(super) async fn update_tag_rule(
    State(double): State<Double>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    Path((id, rule)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = authenticate(&double, &headers, query.as_deref())?;
    caller.require_write()?;
    let rule_id = rule_id(&rule)?;
    let params = body_params(&headers, query.as_deref(), &body)?;
    let mut errors = Vec::new();
    let changes = RuleChanges {
        pattern: text_param(&params, "tag_name_pattern"),
        min_push: level_param(&params, "minimum_access_level_for_push", &mut errors),
        min_delete: level_param(&params, "minimum_access_level_for_delete", &mut errors),
    };
    grape_errors(errors)?;
    let world = double.world();
    let project = admin_project(&world, &caller, &id)?;
    let rule = double
        .update_tag_rule(project.id, rule_id, changes)
        .map_err(|e| rule_error(e, StatusCode::UNPROCESSABLE_ENTITY))?;
    Ok(json_with(
        StatusCode::OK,
        HeaderMap::new(),
        &tag_rule_json(project.id, &rule),
    ))
}
