//! Protection rules: reading a project's rules, and changing them through GitLab (REST where
//! GitLab has it, GraphQL for creating and deleting tag rules).

use super::{access_of, BffBackend};
use crate::gitlab::{wire, GitLabError};
use crate::state::Instance;
use app::error::AppError;
use domain::protection::{
    ProtectionRules, RepositoryRule, RepositoryRuleDraft, RuleChange, TagRule, TagRuleDraft,
};
use domain::AccessLevel;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};
use tower_sessions::Session;

const CREATE_TAG_RULE: &str = "mutation($input: createContainerProtectionTagRuleInput!) {
  createContainerProtectionTagRule(input: $input) { errors containerProtectionTagRule { id } }
}";

const DELETE_TAG_RULE: &str = "mutation($input: DeleteContainerProtectionTagRuleInput!) {
  deleteContainerProtectionTagRule(input: $input) { errors containerProtectionTagRule { id } }
}";

/// A mutation's payload: only its `errors` matter to us.
#[derive(Deserialize)]
struct Payload {
    #[serde(default)]
    errors: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateTagRuleData {
    create_container_protection_tag_rule: Option<Payload>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeleteTagRuleData {
    delete_container_protection_tag_rule: Option<Payload>,
}

fn level(value: Option<&str>) -> Option<AccessLevel> {
    value.and_then(AccessLevel::from_protection)
}

fn rest_level(level: Option<AccessLevel>) -> Value {
    match level {
        Some(AccessLevel::Owner) => json!("owner"),
        Some(AccessLevel::Admin) => json!("admin"),
        Some(_) => json!("maintainer"),
        None => Value::Null,
    }
}

fn graphql_level(level: AccessLevel) -> &'static str {
    match level {
        AccessLevel::Owner => "OWNER",
        AccessLevel::Admin => "ADMIN",
        _ => "MAINTAINER",
    }
}

fn repository_rule(rule: wire::RepositoryRule) -> RepositoryRule {
    RepositoryRule {
        id: rule.id,
        pattern: rule.repository_path_pattern,
        min_push: level(rule.minimum_access_level_for_push.as_deref()),
        min_delete: level(rule.minimum_access_level_for_delete.as_deref()),
    }
}

fn tag_rule(rule: wire::TagRule) -> TagRule {
    // Both levels missing: GitLab's immutable-tag rule.
    TagRule {
        id: rule.id,
        pattern: rule.tag_name_pattern,
        min_push: level(rule.minimum_access_level_for_push.as_deref()),
        min_delete: level(rule.minimum_access_level_for_delete.as_deref()),
    }
}

fn repository_body(draft: &RepositoryRuleDraft) -> Value {
    json!({
        "repository_path_pattern": draft.pattern,
        "minimum_access_level_for_push": rest_level(draft.min_push),
        "minimum_access_level_for_delete": rest_level(draft.min_delete),
    })
}

fn tag_body(draft: &TagRuleDraft) -> Value {
    json!({
        "tag_name_pattern": draft.pattern,
        "minimum_access_level_for_push": rest_level(Some(draft.min_push)),
        "minimum_access_level_for_delete": rest_level(Some(draft.min_delete)),
    })
}

/// A refused mutation's messages as one error the form shows.
fn refused(errors: Vec<String>) -> Result<(), GitLabError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(GitLabError::Refused(errors.join("; ")))
    }
}

impl BffBackend {
    /// Both kinds of rules of a project (two requests, in parallel). Needs Maintainer.
    pub(crate) async fn protection_rules(
        &self,
        session: &Session,
        instance: &Instance,
        project_id: u64,
    ) -> Result<ProtectionRules, AppError> {
        self.call(session, instance, "the protection rules", |token| {
            let api = instance.api.clone();
            async move {
                let (repository, tag) = tokio::try_join!(
                    api.repository_rules(&token, project_id),
                    api.tag_rules(&token, project_id)
                )?;
                Ok(ProtectionRules {
                    repository: repository.into_iter().map(repository_rule).collect(),
                    tag: tag.into_iter().map(tag_rule).collect(),
                })
            }
        })
        .await
    }

    /// The rules for a policy page, or why they are not shown.
    pub(crate) async fn rules_for_page(
        &self,
        session: &Session,
        instance: &Instance,
        project_id: u64,
        access: AccessLevel,
    ) -> Result<(Option<ProtectionRules>, Option<String>), AppError> {
        if access < AccessLevel::Maintainer {
            return Ok((
                None,
                Some(format!(
                    "GitLab shows protection rules to Maintainers; your role is {}. The preview uses the protection GitLab reports on each tag.",
                    access.label()
                )),
            ));
        }
        match self.protection_rules(session, instance, project_id).await {
            Ok(rules) => Ok((Some(rules), None)),
            Err(error @ (AppError::NotSignedIn { .. } | AppError::RateLimited { .. })) => {
                Err(error)
            }
            Err(error) => Ok((
                None,
                Some(format!(
                    "GitLab did not list the protection rules ({error}). They need GitLab's metadata database; the preview uses the protection GitLab reports on each tag."
                )),
            )),
        }
    }

    /// Validates and makes one change; answers with the project's rules afterwards.
    pub(crate) async fn change_rule(
        &self,
        session: &Session,
        instance: &str,
        project_path: &str,
        change: &RuleChange,
    ) -> Result<ProtectionRules, AppError> {
        let instance = self.0.instance(instance)?;
        let project = self
            .project_for_policy(session, instance, project_path)
            .await?;
        let access = access_of(&project);
        if access < AccessLevel::Maintainer {
            return Err(AppError::NotAllowed {
                reason: format!(
                    "Changing protection rules needs the Maintainer role; yours is {}.",
                    access.label()
                ),
            });
        }
        let rules = self.protection_rules(session, instance, project.id).await?;
        change
            .validate(&rules, &project.path_with_namespace)
            .map_err(|e| AppError::BadRequest { message: e.message })?;
        let token = self.0.access_token(session, instance).await?;
        let api = &instance.api;
        let id = project.id;
        let outcome = match change {
            RuleChange::CreateRepository(d) => {
                api.change_rule(
                    &token,
                    Method::POST,
                    id,
                    "repository",
                    None,
                    Some(repository_body(d)),
                )
                .await
            }
            RuleChange::UpdateRepository(rule, d) => {
                api.change_rule(
                    &token,
                    Method::PATCH,
                    id,
                    "repository",
                    Some(*rule),
                    Some(repository_body(d)),
                )
                .await
            }
            RuleChange::DeleteRepository(rule) => {
                api.change_rule(&token, Method::DELETE, id, "repository", Some(*rule), None)
                    .await
            }
            RuleChange::UpdateTag(rule, d) => {
                api.change_rule(
                    &token,
                    Method::PATCH,
                    id,
                    "tag",
                    Some(*rule),
                    Some(tag_body(d)),
                )
                .await
            }
            RuleChange::CreateTag(d) => {
                let input = json!({ "input": {
                    "projectPath": project.path_with_namespace,
                    "tagNamePattern": d.pattern,
                    "minimumAccessLevelForPush": graphql_level(d.min_push),
                    "minimumAccessLevelForDelete": graphql_level(d.min_delete),
                }});
                match api
                    .graphql_mutation::<CreateTagRuleData>(&token, CREATE_TAG_RULE, input)
                    .await
                {
                    Ok(data) => refused(
                        data.create_container_protection_tag_rule
                            .map(|p| p.errors)
                            .unwrap_or_default(),
                    ),
                    Err(e) => Err(e),
                }
            }
            RuleChange::DeleteTag(rule) => {
                let input = json!({ "input": {
                    "id": format!("gid://gitlab/ContainerRegistry::Protection::TagRule/{rule}"),
                }});
                match api
                    .graphql_mutation::<DeleteTagRuleData>(&token, DELETE_TAG_RULE, input)
                    .await
                {
                    Ok(data) => refused(
                        data.delete_container_protection_tag_rule
                            .map(|p| p.errors)
                            .unwrap_or_default(),
                    ),
                    Err(e) => Err(e),
                }
            }
        };
        outcome.map_err(|e| match e {
            GitLabError::Refused(message) => AppError::BadRequest {
                message: format!("GitLab refused the rule: {message}"),
            },
            other => super::to_app_error(other, "the protection rules"),
        })?;
        tracing::info!(project = project.id, change = %change.describe(), "protection rules changed");
        if matches!(
            change,
            RuleChange::CreateTag(_) | RuleChange::UpdateTag(..) | RuleChange::DeleteTag(_)
        ) {
            // Tag lists show protection as the index read it: read it again.
            self.0
                .tag_indexes
                .expire_project(&instance.info.name, project.id);
        }
        self.protection_rules(session, instance, project.id).await
    }
}
