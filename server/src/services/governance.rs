//! A group's policy page: its projects' cleanup policies side by side.
//!
//! Reading costs one REST request for the group (it checks access and resolves the path)
//! and one GraphQL request per [`policies::PROJECTS_PER_QUERY`] projects, each carrying every
//! project's policy, size, protection rules and the cleanup state of its first
//! [`REPOSITORIES_PER_PROJECT`] repositories: not one request per project per field.
//! Pages follow each other by cursor until the group ends or `limits.group_policy_projects`
//! is reached. The comparison, filters and order are the domain's
//! ([`domain::governance`]), so the page, the JSON and the CSV agree.

use super::cleanup::saved_policy;
use super::{CleanupService, Gateway, StorageService};
use crate::gitlab::graphql::gid;
use crate::gitlab::policies::{
    self, PoliciesData, PolicyProjectNode, Scope, REPOSITORIES_PER_PROJECT,
};
use crate::gitlab::GitLabClient;
use crate::gitlab::GitLabError;
use app::backend::{Caller, Governance};
use app::error::AppError;
use async_trait::async_trait;
use domain::governance::apply::{ApplyOutcome, ApplyReview, ApplyView};
use domain::governance::{
    GroupPolicies, GroupPoliciesView, LastCleanups, PolicyFacts, ProjectPolicy,
};
use domain::input::NamespacePath;
use domain::{AccessLevel, CleanupStatus, GroupDetails, Subject};
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

mod apply;

/// Which optional fields this GitLab has, learnt from its answers (per instance, shared
/// with the other pages).
#[derive(Clone)]
struct Fields {
    /// `Project.maxAccessLevel` (GitLab 16.9).
    role: Arc<AtomicBool>,
    /// `Project.containerProtectionTagRules` (GitLab 17.x).
    rules: Arc<AtomicBool>,
}

impl Fields {
    /// The query with every field this GitLab has; a field GitLab says it lacks is dropped
    /// and the query sent again (at most once per field). Without
    /// `containerTagsExpirationPolicy` the page cannot be made: GitLab refuses it in words.
    async fn query(
        &self,
        api: &GitLabClient,
        token: &str,
        scope: Scope,
        variables: serde_json::Value,
    ) -> Result<PoliciesData, GitLabError> {
        loop {
            let (role, rules) = (
                self.role.load(Ordering::Relaxed),
                self.rules.load(Ordering::Relaxed),
            );
            let query = policies::policies_query(scope, role, rules);
            match api.graphql(token, &query, variables.clone()).await {
                Err(GitLabError::Rejected(message))
                    if message.contains("containerTagsExpirationPolicy") =>
                {
                    return Err(GitLabError::Refused(NEEDS_GITLAB_17_5.into()));
                }
                Err(GitLabError::Rejected(message))
                    if role && message.contains("maxAccessLevel") =>
                {
                    tracing::info!("this GitLab has no Project.maxAccessLevel (before 16.9)");
                    self.role.store(false, Ordering::Relaxed);
                }
                Err(GitLabError::Rejected(message))
                    if rules && message.contains("containerProtectionTagRules") =>
                {
                    tracing::info!("this GitLab has no Project.containerProtectionTagRules");
                    self.rules.store(false, Ordering::Relaxed);
                }
                answer => return answer,
            }
        }
    }
}

/// What GitLab before 17.5 (no `containerTagsExpirationPolicy`) is told.
const NEEDS_GITLAB_17_5: &str = "this page needs GitLab 17.5 or later, which tells every member \
    whether a project's cleanup policy is on";

/// A group's policies, and a standard applied to chosen projects ([`apply`]).
pub struct GovernanceService {
    gw: Arc<Gateway>,
    cleanup: Arc<CleanupService>,
    storage: Arc<StorageService>,
}

#[async_trait]
impl Governance for GovernanceService {
    async fn group_policies(
        &self,
        caller: &Caller,
        group: &NamespacePath,
        view: &GroupPoliciesView,
    ) -> Result<GroupPolicies, AppError> {
        let found = self.gw.group(caller, group).await?;
        self.read_policies(caller, Some(GroupDetails::from(found)), view)
            .await
    }

    async fn instance_policies(
        &self,
        caller: &Caller,
        view: &GroupPoliciesView,
    ) -> Result<GroupPolicies, AppError> {
        // GitLab lists every project only to administrators; anyone else would get the
        // projects they can see, which is not what this page says it shows.
        if !caller.viewer.is_admin {
            return Err(AppError::NotAllowed {
                reason: "Only GitLab administrators see every project's policy; a group's \
                    policy page shows the projects of a group."
                    .into(),
            });
        }
        self.read_policies(caller, None, view).await
    }

    async fn apply_review(
        &self,
        caller: &Caller,
        group: &NamespacePath,
        view: &ApplyView,
    ) -> Result<ApplyReview, AppError> {
        self.review(caller, group, view).await
    }

    async fn apply_standard(
        &self,
        caller: &Caller,
        group: &NamespacePath,
        view: &ApplyView,
        confirm: &str,
    ) -> Result<Vec<ApplyOutcome>, AppError> {
        self.apply(caller, group, view, confirm).await
    }
}

impl GovernanceService {
    pub fn new(
        gw: Arc<Gateway>,
        cleanup: Arc<CleanupService>,
        storage: Arc<StorageService>,
    ) -> Self {
        GovernanceService {
            gw,
            cleanup,
            storage,
        }
    }

    /// The policies of a group's projects (subgroups included), or of every project the
    /// caller sees (`group`: `None`).
    async fn read_policies(
        &self,
        caller: &Caller,
        group: Option<GroupDetails>,
        view: &GroupPoliciesView,
    ) -> Result<GroupPolicies, AppError> {
        let (scope, subject) = match &group {
            Some(g) => (Scope::Group, Subject::Group(g.full_path.clone())),
            None => (Scope::Instance, Subject::Projects),
        };
        let limit = self.gw.group_policy_projects as usize;
        let instance = self.gw.instance(caller)?;
        let fields = Fields {
            role: instance.max_access_level.clone(),
            rules: instance.tag_rules_field.clone(),
        };
        // GitLab drops the projects a viewer may not see from a page after cutting it, so a
        // page may hold fewer than asked: requests are bounded too, not only projects.
        let max_requests = limit.div_ceil(policies::PROJECTS_PER_QUERY) + 2;
        let mut projects = Vec::new();
        let mut after: Option<String> = None;
        let mut requests = 0;
        let truncated = loop {
            let variables = match &group {
                Some(g) => json!({ "fullPath": g.full_path, "after": after }),
                None => json!({ "after": after }),
            };
            requests += 1;
            let data: PoliciesData = self
                .gw
                .call(caller, subject.clone(), |api, token| {
                    let (variables, fields) = (variables.clone(), fields.clone());
                    async move { fields.query(&api, &token, scope, variables).await }
                })
                .await?;
            let connection = match scope {
                Scope::Group => data.group.map(|g| g.projects),
                Scope::Instance => data.projects,
            }
            .ok_or_else(|| AppError::NotFound {
                what: subject.clone(),
            })?;
            for node in connection.nodes {
                let mut project =
                    project_policy(node).map_err(|e| AppError::GitLabUnavailable {
                        detail: format!("GitLab sent a project this page cannot read: {e}"),
                    })?;
                // GitLab reports an administrator's membership, not what she may do (as
                // `effective_access` has it).
                if caller.viewer.is_admin {
                    project.access = Some(AccessLevel::Admin);
                }
                projects.push(project);
            }
            let page = connection.page_info;
            if projects.len() > limit {
                break true;
            }
            let (true, Some(cursor)) = (page.has_next_page, page.end_cursor) else {
                break false;
            };
            if projects.len() >= limit
                || requests >= max_requests
                || after.as_ref() == Some(&cursor)
            {
                break true;
            }
            after = Some(cursor);
        };
        projects.truncate(limit);
        let truncated_at = truncated.then_some(self.gw.group_policy_projects);
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        Ok(GroupPolicies::new(group, projects, view, truncated_at, now))
    }
}

/// One project node in the domain's terms.
fn project_policy(node: PolicyProjectNode) -> Result<ProjectPolicy, String> {
    let id = gid(&node.id).map_err(|e| e.to_string())?;
    let policy = match node.container_tags_expiration_policy {
        Some(p) => match p.rest_form() {
            Some(rest) => PolicyFacts::Whole(saved_policy(Some(rest))),
            None => PolicyFacts::Summary {
                enabled: p.enabled,
                next_run_at: p.next_run_at,
            },
        },
        None => PolicyFacts::Hidden,
    };
    let repositories = node
        .container_repositories
        .map(|c| c.nodes)
        .unwrap_or_default();
    let mut cleanups = LastCleanups::default();
    for repository in &repositories {
        match repository
            .expiration_policy_cleanup_status
            .as_deref()
            .map(CleanupStatus::from_gitlab)
        {
            Some(CleanupStatus::Scheduled) => cleanups.scheduled += 1,
            Some(CleanupStatus::Ongoing) => cleanups.ongoing += 1,
            Some(CleanupStatus::Unfinished) => cleanups.unfinished += 1,
            _ => {}
        }
        let started = repository.expiration_policy_started_at.as_deref();
        if started > cleanups.last_started_at.as_deref() {
            cleanups.last_started_at = started.map(str::to_string);
        }
        cleanups.deleted_last_time += repository.last_cleanup_deleted_tags_count.unwrap_or(0);
    }
    // Below Maintainer GitLab answers empty rule lists: a count only where they are visible.
    let rules = match (
        &policy,
        node.container_protection_repository_rules,
        node.container_protection_tag_rules,
    ) {
        (PolicyFacts::Whole(_), Some(r), Some(t)) => Some((r.nodes.len() + t.nodes.len()) as u32),
        _ => None,
    };
    let access = node
        .max_access_level
        .and_then(|l| l.integer_value)
        .map(AccessLevel::from_gitlab);
    Ok(ProjectPolicy {
        id,
        name: node.name,
        web_url: node.web_url.unwrap_or_default(),
        full_path: node.full_path,
        access,
        policy,
        repositories: node.container_repositories_count,
        repositories_read: repositories.len().min(REPOSITORIES_PER_PROJECT) as u32,
        tags: repositories.iter().filter_map(|r| r.tags_count).sum(),
        size: node
            .statistics
            .and_then(|s| s.container_registry_size)
            .filter(|s| *s > 0.0)
            .map(|s| s as u64),
        protection_rules: rules,
        cleanups,
    })
}
