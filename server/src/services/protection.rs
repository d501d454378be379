//! Protection rules: reading a project's rules, and changing them through GitLab (REST where
//! GitLab has it, GraphQL for creating and deleting tag rules).

use super::{effective_access, CleanupService, Gateway};
use crate::errors;
use crate::gitlab::{wire, GitLabError};
use app::backend::Caller;
use app::error::AppError;
use domain::input::NamespacePath;
use domain::protection::{
    ProtectionRules, RepositoryRule, RepositoryRuleDraft, RuleChange, TagRule, TagRuleDraft,
};
use domain::AccessLevel;
use domain::Subject;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

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

/// Both kinds of rules of a project (two requests, in parallel). Needs Maintainer.
pub(crate) async fn protection_rules(
    gw: &Gateway,
    caller: &Caller,
    project: &wire::Project,
) -> Result<ProtectionRules, AppError> {
    let project_id = project.id;
    gw.call(
        caller,
        Subject::ProtectionRules(project.path_with_namespace.clone()),
        |api, token| async move {
            let (repository, tag) = tokio::try_join!(
                api.repository_rules(&token, project_id),
                api.tag_rules(&token, project_id)
            )?;
            Ok(ProtectionRules {
                repository: repository.into_iter().map(repository_rule).collect(),
                tag: tag.into_iter().map(tag_rule).collect(),
            })
        },
    )
    .await
}

/// Sends one validated change to GitLab (REST where GitLab has it, GraphQL to create and
/// delete tag rules).
async fn send_change(
    gw: &Gateway,
    caller: &Caller,
    project: &wire::Project,
    change: &RuleChange,
) -> Result<(), GitLabError> {
    let token = caller.credential.token();
    let token = token.secret();
    let api = &gw
        .instance(caller)
        .map_err(|e| GitLabError::Unavailable(e.to_string()))?
        .api;
    let id = project.id;
    match change {
        RuleChange::CreateRepository(d) => {
            api.change_rule(
                token,
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
                token,
                Method::PATCH,
                id,
                "repository",
                Some(*rule),
                Some(repository_body(d)),
            )
            .await
        }
        RuleChange::DeleteRepository(rule) => {
            api.change_rule(token, Method::DELETE, id, "repository", Some(*rule), None)
                .await
        }
        RuleChange::UpdateTag(rule, d) => {
            api.change_rule(
                token,
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
            let data = api
                .graphql_mutation::<CreateTagRuleData>(token, CREATE_TAG_RULE, input)
                .await?;
            refused(
                data.create_container_protection_tag_rule
                    .map(|p| p.errors)
                    .unwrap_or_default(),
            )
        }
        RuleChange::DeleteTag(rule) => {
            let input = json!({ "input": {
                "id": format!("gid://gitlab/ContainerRegistry::Protection::TagRule/{rule}"),
            }});
            let data = api
                .graphql_mutation::<DeleteTagRuleData>(token, DELETE_TAG_RULE, input)
                .await?;
            refused(
                data.delete_container_protection_tag_rule
                    .map(|p| p.errors)
                    .unwrap_or_default(),
            )
        }
    }
}

impl CleanupService {
    /// The rules for a policy page, or why they are not shown.
    pub(crate) async fn rules_for_page(
        &self,
        caller: &Caller,
        project: &wire::Project,
        access: AccessLevel,
    ) -> Result<(Option<ProtectionRules>, Option<String>), AppError> {
        if access < AccessLevel::Maintainer {
            return Ok((
                None,
                Some(format!(
                    "GitLab shows protection rules to Maintainers; your role is {}. The preview \
                        uses the protection GitLab reports on each tag.",
                    access.label()
                )),
            ));
        }
        match protection_rules(&self.gw, caller, project).await {
            Ok(rules) => Ok((Some(rules), None)),
            Err(error @ (AppError::NotSignedIn { .. } | AppError::RateLimited { .. })) => {
                Err(error)
            }
            Err(error) => Ok((
                None,
                Some(format!(
                    "GitLab did not list the protection rules ({error}). They need GitLab's \
                     metadata database; the preview uses the protection GitLab reports on each tag."
                )),
            )),
        }
    }

    /// Validates and makes one change (to its end, whatever happens to the request);
    /// answers with the project's rules afterwards.
    pub(crate) async fn change_rule_of(
        &self,
        caller: &Caller,
        project_path: &NamespacePath,
        change: &RuleChange,
    ) -> Result<ProtectionRules, AppError> {
        let project = self.project(caller, project_path).await?;
        let access = effective_access(caller, &project);
        if access < AccessLevel::Maintainer {
            return Err(AppError::NotAllowed {
                reason: format!(
                    "Changing protection rules needs the Maintainer role; yours is {}.",
                    access.label()
                ),
            });
        }
        let rules = protection_rules(&self.gw, caller, &project).await?;
        change
            .validate(&rules, &project.path_with_namespace)
            .map_err(|e| AppError::BadRequest { message: e.message })?;
        let gw: Arc<Gateway> = self.gw.clone();
        let (owned_caller, owned_change, owned_project) =
            (caller.clone(), change.clone(), project.clone());
        self.gw
            .to_the_end(async move {
                let result = send_change(&gw, &owned_caller, &owned_project, &owned_change).await;
                gw.audit(
                    &owned_caller,
                    "change_protection_rule",
                    &format!(
                        "project {}: {}",
                        owned_project.path_with_namespace,
                        owned_change.describe()
                    ),
                    &match &result {
                        Ok(()) => "done".to_string(),
                        Err(error) => errors::sentence(error),
                    },
                );
                match result {
                    Ok(()) => Ok(()),
                    Err(GitLabError::Refused(message)) => Err(AppError::BadRequest {
                        message: format!("GitLab refused the rule: {message}"),
                    }),
                    Err(other) => Err(gw
                        .failure(
                            &owned_caller,
                            other,
                            Subject::ProtectionRules(owned_project.path_with_namespace.clone()),
                        )
                        .await),
                }
            })
            .await?;
        if matches!(
            change,
            RuleChange::CreateTag(_) | RuleChange::UpdateTag(..) | RuleChange::DeleteTag(_)
        ) {
            // Tag lists show protection as the index read it: read it again.
            self.gw
                .indexes
                .expire_project(&caller.instance, project.id)
                .await;
        }
        protection_rules(&self.gw, caller, &project).await
    }
}
