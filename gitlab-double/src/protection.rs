//! Container registry protection rules: GitLab's validations and the changes REST and GraphQL
//! share (create, update, delete of repository and tag rules).
//!
//! Every change runs its checks and its write under the world's write lock, so two concurrent
//! requests can neither both take the fifth slot nor both claim one pattern. Callers check the
//! caller's permissions (Maintainer and above) before calling in.

use std::sync::OnceLock;

use regex::Regex;

use crate::model::{Project, RepositoryRule, TagRule, World};
use crate::state::Double;

/// At most this many rules of each kind per project.
pub(crate) const MAX_RULES_PER_PROJECT: usize = 5;
/// `repository_path_pattern` length limit.
const MAX_REPOSITORY_PATTERN: usize = 255;
/// `tag_name_pattern` length limit.
const MAX_TAG_PATTERN: usize = 100;
/// What GitLab answers when the registry has no metadata database (no GitLab API).
pub(crate) const UNSUPPORTED: &str = "GitLab container registry API not supported";
/// What GitLab answers when the project already has the maximum number of rules.
pub(crate) const LIMIT_REACHED: &str = "Maximum number of protection rules have been reached.";

/// Why a protection-rule change was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RuleError {
    /// No such project or rule (REST 404, GraphQL "resource not available").
    NotFound,
    /// A service refusal with one message (limit reached, no metadata database).
    Refused(&'static str),
    /// Model validation failures, as Rails' `errors.full_messages`.
    Invalid(Vec<String>),
}

impl RuleError {
    /// The messages of a refusal (GraphQL `errors`).
    pub fn messages(&self) -> Vec<String> {
        match self {
            RuleError::NotFound => Vec::new(),
            RuleError::Refused(message) => vec![(*message).to_owned()],
            RuleError::Invalid(messages) => messages.clone(),
        }
    }
}

/// Requested attribute changes: `None` leaves a value alone, `Some(None)` clears a level.
#[derive(Debug, Clone, Default)]
pub(crate) struct RuleChanges {
    pub pattern: Option<String>,
    pub min_push: Option<Option<u8>>,
    pub min_delete: Option<Option<u8>>,
}

/// GitLab's container repository path grammar, with `*` allowed wherever a letter is.
fn repository_path_grammar() -> &'static Option<Regex> {
    static GRAMMAR: OnceLock<Option<Regex>> = OnceLock::new();
    GRAMMAR.get_or_init(|| {
        let segment = r"[a-z0-9*]+(?:(?:[._]|__|-+)[a-z0-9*]+)*";
        Regex::new(&format!("^{segment}(?:/{segment})*$")).ok()
    })
}

/// The last line of a regex compile error, without its `error: ` prefix.
fn regex_error(pattern: &str) -> Option<String> {
    let error = Regex::new(pattern).err()?.to_string();
    let line = error
        .lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or(error.as_str())
        .trim();
    Some(line.trim_start_matches("error: ").to_owned())
}

/// `ContainerRegistry::Protection::Rule` validations, in GitLab's order.
fn validate_repository_rule(
    project: &Project,
    rule: &RepositoryRule,
    pattern_changed: bool,
) -> Vec<String> {
    let mut errors = Vec::new();
    let pattern = rule.pattern.as_str();
    if pattern.trim().is_empty() {
        errors.push("Repository path pattern can't be blank".to_owned());
    }
    if project
        .repository_rules
        .iter()
        .any(|r| r.id != rule.id && r.pattern == pattern)
    {
        errors.push("Repository path pattern has already been taken".to_owned());
    }
    if pattern.chars().count() > MAX_REPOSITORY_PATTERN {
        errors.push(format!(
            "Repository path pattern is too long (maximum is {MAX_REPOSITORY_PATTERN} characters)"
        ));
    }
    let well_formed = repository_path_grammar()
        .as_ref()
        .is_some_and(|g| g.is_match(pattern));
    if !well_formed {
        errors.push(
            "Repository path pattern should be a valid container repository path with optional \
             wildcard characters."
                .to_owned(),
        );
    }
    if pattern_changed
        && !pattern
            .to_lowercase()
            .starts_with(&project.path_with_namespace.to_lowercase())
    {
        errors.push("Repository path pattern should start with the project's full path".to_owned());
    }
    if rule.min_push.is_none() && rule.min_delete.is_none() {
        errors
            .push("A rule must have at least a minimum access role for push or delete.".to_owned());
    }
    errors
}

/// A tag rule before validation (its levels may still be missing).
struct TagRuleDraft {
    id: u64,
    pattern: String,
    min_push: Option<u8>,
    min_delete: Option<u8>,
}

/// `ContainerRegistry::Protection::TagRule` validations, in GitLab's order.
fn validate_tag_rule(project: &Project, draft: &TagRuleDraft) -> Vec<String> {
    let mut errors = Vec::new();
    let pattern = draft.pattern.as_str();
    if draft.min_delete.is_none() {
        errors.push("Minimum access level for delete can't be blank".to_owned());
    }
    if draft.min_push.is_none() {
        errors.push("Minimum access level for push can't be blank".to_owned());
    }
    if pattern.trim().is_empty() {
        errors.push("Tag name pattern can't be blank".to_owned());
    }
    if project
        .tag_rules
        .iter()
        .any(|r| r.id != draft.id && r.pattern == pattern)
    {
        errors.push("Tag name pattern has already been taken".to_owned());
    }
    if pattern.chars().count() > MAX_TAG_PATTERN {
        errors.push(format!(
            "Tag name pattern is too long (maximum is {MAX_TAG_PATTERN} characters)"
        ));
    }
    if let Some(error) = regex_error(pattern) {
        errors.push(format!("Tag name pattern not valid RE2 syntax: {error}"));
    }
    errors
}

fn project_index(world: &World, project_id: u64) -> Result<usize, RuleError> {
    world
        .projects
        .iter()
        .position(|p| p.id == project_id)
        .ok_or(RuleError::NotFound)
}

impl Double {
    /// Creates a repository protection rule (`201` on REST).
    pub(crate) fn create_repository_rule(
        &self,
        project_id: u64,
        changes: RuleChanges,
    ) -> Result<RepositoryRule, RuleError> {
        let metadata_db = self.metadata_db();
        self.update_world(|world| {
            let index = project_index(world, project_id)?;
            let project = &world.projects[index];
            if project.repository_rules.len() >= MAX_RULES_PER_PROJECT {
                return Err(RuleError::Refused(LIMIT_REACHED));
            }
            if !metadata_db {
                return Err(RuleError::Refused(UNSUPPORTED));
            }
            let rule = RepositoryRule {
                id: world.next_repository_rule_id,
                pattern: changes.pattern.unwrap_or_default(),
                min_push: changes.min_push.flatten(),
                min_delete: changes.min_delete.flatten(),
            };
            let errors = validate_repository_rule(project, &rule, true);
            if !errors.is_empty() {
                return Err(RuleError::Invalid(errors));
            }
            world.next_repository_rule_id += 1;
            world.projects[index].repository_rules.push(rule.clone());
            tracing::info!(
                project_id,
                rule_id = rule.id,
                "repository protection rule created"
            );
            Ok(rule)
        })
    }

    /// Changes a repository protection rule of a project.
    pub(crate) fn update_repository_rule(
        &self,
        project_id: u64,
        rule_id: u64,
        changes: RuleChanges,
    ) -> Result<RepositoryRule, RuleError> {
        let metadata_db = self.metadata_db();
        self.update_world(|world| {
            let index = project_index(world, project_id)?;
            let project = &world.projects[index];
            let position = project
                .repository_rules
                .iter()
                .position(|r| r.id == rule_id)
                .ok_or(RuleError::NotFound)?;
            if !metadata_db {
                return Err(RuleError::Refused(UNSUPPORTED));
            }
            let current = &project.repository_rules[position];
            let pattern_changed = changes
                .pattern
                .as_ref()
                .is_some_and(|p| *p != current.pattern);
            let rule = RepositoryRule {
                id: rule_id,
                pattern: changes.pattern.unwrap_or_else(|| current.pattern.clone()),
                min_push: changes.min_push.unwrap_or(current.min_push),
                min_delete: changes.min_delete.unwrap_or(current.min_delete),
            };
            let errors = validate_repository_rule(project, &rule, pattern_changed);
            if !errors.is_empty() {
                return Err(RuleError::Invalid(errors));
            }
            world.projects[index].repository_rules[position] = rule.clone();
            tracing::info!(project_id, rule_id, "repository protection rule updated");
            Ok(rule)
        })
    }

    /// Deletes a repository protection rule of a project; returns the deleted rule.
    pub(crate) fn delete_repository_rule(
        &self,
        project_id: u64,
        rule_id: u64,
    ) -> Result<RepositoryRule, RuleError> {
        let metadata_db = self.metadata_db();
        self.update_world(|world| {
            let index = project_index(world, project_id)?;
            let position = world.projects[index]
                .repository_rules
                .iter()
                .position(|r| r.id == rule_id)
                .ok_or(RuleError::NotFound)?;
            if !metadata_db {
                return Err(RuleError::Refused(UNSUPPORTED));
            }
            let rule = world.projects[index].repository_rules.remove(position);
            tracing::info!(project_id, rule_id, "repository protection rule deleted");
            Ok(rule)
        })
    }

    /// Creates a tag protection rule (GraphQL only in GitLab).
    pub(crate) fn create_tag_rule(
        &self,
        project_id: u64,
        changes: RuleChanges,
    ) -> Result<TagRule, RuleError> {
        let metadata_db = self.metadata_db();
        self.update_world(|world| {
            let index = project_index(world, project_id)?;
            let project = &world.projects[index];
            if project.tag_rules.len() >= MAX_RULES_PER_PROJECT {
                return Err(RuleError::Refused(LIMIT_REACHED));
            }
            if !metadata_db {
                return Err(RuleError::Refused(UNSUPPORTED));
            }
            let draft = TagRuleDraft {
                id: world.next_tag_rule_id,
                pattern: changes.pattern.unwrap_or_default(),
                min_push: changes.min_push.flatten(),
                min_delete: changes.min_delete.flatten(),
            };
            let rule = finish_tag_rule(project, draft)?;
            world.next_tag_rule_id += 1;
            world.projects[index].tag_rules.push(rule.clone());
            tracing::info!(project_id, rule_id = rule.id, "tag protection rule created");
            Ok(rule)
        })
    }

    /// Changes a tag protection rule of a project.
    pub(crate) fn update_tag_rule(
        &self,
        project_id: u64,
        rule_id: u64,
        changes: RuleChanges,
    ) -> Result<TagRule, RuleError> {
        let metadata_db = self.metadata_db();
        self.update_world(|world| {
            let index = project_index(world, project_id)?;
            let project = &world.projects[index];
            let position = project
                .tag_rules
                .iter()
                .position(|r| r.id == rule_id)
                .ok_or(RuleError::NotFound)?;
            if !metadata_db {
                return Err(RuleError::Refused(UNSUPPORTED));
            }
            let current = &project.tag_rules[position];
            let draft = TagRuleDraft {
                id: rule_id,
                pattern: changes.pattern.unwrap_or_else(|| current.pattern.clone()),
                min_push: changes.min_push.unwrap_or(Some(current.min_push)),
                min_delete: changes.min_delete.unwrap_or(Some(current.min_delete)),
            };
            let rule = finish_tag_rule(project, draft)?;
            world.projects[index].tag_rules[position] = rule.clone();
            tracing::info!(project_id, rule_id, "tag protection rule updated");
            Ok(rule)
        })
    }

    /// Deletes a tag protection rule of a project; returns the deleted rule.
    pub(crate) fn delete_tag_rule(
        &self,
        project_id: u64,
        rule_id: u64,
    ) -> Result<TagRule, RuleError> {
        let metadata_db = self.metadata_db();
        self.update_world(|world| {
            let index = project_index(world, project_id)?;
            let position = world.projects[index]
                .tag_rules
                .iter()
                .position(|r| r.id == rule_id)
                .ok_or(RuleError::NotFound)?;
            if !metadata_db {
                return Err(RuleError::Refused(UNSUPPORTED));
            }
            let rule = world.projects[index].tag_rules.remove(position);
            tracing::info!(project_id, rule_id, "tag protection rule deleted");
            Ok(rule)
        })
    }
}

/// Validates a draft and compiles its pattern.
fn finish_tag_rule(project: &Project, draft: TagRuleDraft) -> Result<TagRule, RuleError> {
    let errors = validate_tag_rule(project, &draft);
    match (draft.min_push, draft.min_delete) {
        (Some(min_push), Some(min_delete)) if errors.is_empty() => Ok(TagRule {
            id: draft.id,
            regex: Regex::new(&draft.pattern).ok(),
            pattern: draft.pattern,
            min_push,
            min_delete,
        }),
        _ => Err(RuleError::Invalid(errors)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::access;

    fn project() -> Project {
        let world = World::from_dataset(
            &crate::dataset::Dataset::demo(),
            time::OffsetDateTime::now_utc(),
        );
        world.project_by_ref("acme/web").unwrap().clone()
    }

    fn repository_rule(pattern: &str) -> RepositoryRule {
        RepositoryRule {
            id: 99,
            pattern: pattern.to_owned(),
            min_push: Some(access::MAINTAINER),
            min_delete: None,
        }
    }

    #[test]
    fn repository_patterns_follow_gitlabs_grammar() {
        let p = project();
        for good in [
            "acme/web",
            "acme/web/*",
            "acme/web/worker-*",
            "ACME/web/x",
            "acme/web/a__b",
        ] {
            let errors = validate_repository_rule(&p, &repository_rule(good), true);
            let expected: Vec<String> = if good.starts_with("ACME") {
                vec![
                    "Repository path pattern should be a valid container repository path with \
                      optional wildcard characters."
                        .to_owned(),
                ]
            } else {
                Vec::new()
            };
            assert_eq!(errors, expected, "{good}");
        }
        let errors = validate_repository_rule(&p, &repository_rule("other/web"), true);
        assert_eq!(
            errors,
            ["Repository path pattern should start with the project's full path"]
        );
        let errors = validate_repository_rule(&p, &repository_rule("acme/web//x"), true);
        assert_eq!(errors.len(), 1);
        let long = format!("acme/web/{}", "a".repeat(250));
        let errors = validate_repository_rule(&p, &repository_rule(&long), true);
        assert_eq!(
            errors,
            ["Repository path pattern is too long (maximum is 255 characters)"]
        );
        let mut rule = repository_rule("acme/web");
        rule.min_push = None;
        assert_eq!(
            validate_repository_rule(&p, &rule, true),
            ["A rule must have at least a minimum access role for push or delete."]
        );
    }

    #[test]
    fn repository_rules_match_case_insensitively() {
        let rule = repository_rule("acme/web/*");
        assert!(rule.matches("acme/web/worker"));
        assert!(rule.matches("Acme/Web/Worker"));
        assert!(!rule.matches("acme/web"));
    }

    #[test]
    fn tag_patterns_are_re2_and_short() {
        let p = project();
        let draft = |pattern: &str| TagRuleDraft {
            id: 99,
            pattern: pattern.to_owned(),
            min_push: Some(access::MAINTAINER),
            min_delete: Some(access::MAINTAINER),
        };
        assert!(validate_tag_rule(&p, &draft(r"^v\d+$")).is_empty());
        assert_eq!(
            validate_tag_rule(&p, &draft("^stable$")),
            ["Tag name pattern has already been taken"]
        );
        let errors = validate_tag_rule(&p, &draft("*"));
        assert_eq!(errors.len(), 1);
        assert!(errors[0].starts_with("Tag name pattern not valid RE2 syntax: "));
        assert_eq!(
            validate_tag_rule(&p, &draft("(?=x)")).len(),
            1,
            "no look-around"
        );
        assert_eq!(
            validate_tag_rule(&p, &draft(&"a".repeat(101))),
            ["Tag name pattern is too long (maximum is 100 characters)"]
        );
        assert!(validate_tag_rule(&p, &draft(&"a".repeat(100))).is_empty());
    }
}
