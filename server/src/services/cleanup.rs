//! Cleanup policies: the saved policy, every repository's tags for the preview, saving.

use super::{access_of, BffBackend};
use crate::gitlab::graphql::{self, gid_number};
use crate::gitlab::{wire, GitLabError};
use crate::state::Instance;
use app::error::AppError;
use domain::cleanup::{
    fingerprint, preview_as, Cadence, CleanupOverview, CleanupPolicy, Mode, OlderThan,
    PreviewRepository, RunConfirmation, RunOutcome, RunResult, SavedPolicy,
};
use domain::{AccessLevel, ProjectDetails};
use futures::StreamExt;
use serde_json::json;
use std::time::Duration;
use tower_sessions::Session;

/// Repositories a preview covers at most (each is one index).
const MAX_PREVIEW_REPOSITORIES: usize = 100;
/// Repository access checks a policy page runs at once.
const ACCESS_CHECKS_AT_ONCE: usize = 6;
/// How long the overview waits for indexes to complete before answering with what is there.
const INDEX_WAIT: Duration = Duration::from_secs(15);

/// GitLab's stored policy in our terms, noting what we could not read.
pub(crate) fn saved_policy(policy: Option<wire::ExpirationPolicy>) -> SavedPolicy {
    let Some(p) = policy else {
        return SavedPolicy {
            policy: CleanupPolicy::default(),
            next_run_at: None,
            notes: vec![
                "GitLab has no cleanup policy for this project yet; these are its defaults.".into(),
            ],
        };
    };
    let mut notes = Vec::new();
    let cadence = Cadence::from_param(&p.cadence).unwrap_or_else(|| {
        notes.push(format!(
            "GitLab's cadence “{}” is not one it offers today; shown as every day.",
            p.cadence
        ));
        Cadence::Daily
    });
    let older_than = p.older_than.as_deref().and_then(|o| {
        let parsed = OlderThan::from_param(o);
        if parsed.is_none() {
            notes.push(format!(
                "GitLab's age limit “{o}” is not one it offers today; shown as none."
            ));
        }
        parsed
    });
    SavedPolicy {
        policy: CleanupPolicy {
            enabled: p.enabled,
            cadence,
            keep_n: p.keep_n,
            older_than,
            name_regex: p.name_regex.filter(|r| !r.is_empty()),
            name_regex_keep: p.name_regex_keep.filter(|r| !r.is_empty()),
        },
        next_run_at: p.next_run_at,
        notes,
    }
}

/// A bulk delete GitLab did not accept, in the user's terms.
fn run_failure(error: GitLabError) -> RunResult {
    match error {
        GitLabError::Refused(message) => RunResult::Refused(message),
        GitLabError::Forbidden => {
            RunResult::Refused("GitLab says your role may not do this here.".into())
        }
        GitLabError::RateLimited(wait) => RunResult::Refused(format!(
            "GitLab's rate limit: try again in {} s.",
            wait.as_secs().max(1)
        )),
        GitLabError::NotFound => RunResult::Refused("GitLab no longer has this repository.".into()),
        GitLabError::TokenExpired | GitLabError::Unauthorized => RunResult::Failed(
            "Not sent: your GitLab sign-in has expired. Sign in again and retry.".into(),
        ),
        GitLabError::Unavailable(detail) => RunResult::Failed(format!(
            "GitLab did not answer ({detail}); it may or may not have started. Reload before trying again."
        )),
        GitLabError::Malformed(_) | GitLabError::Rejected(_) => RunResult::Failed(
            "GitLab sent an unexpected answer; reload to see whether it started.".into(),
        ),
    }
}

/// Why a role may not run a cleanup (GitLab's bulk delete needs Maintainer).
pub fn run_refusal(access: AccessLevel) -> Option<String> {
    (access < AccessLevel::Maintainer).then(|| {
        format!(
            "Running a cleanup needs the Maintainer role; yours is {}.",
            access.label()
        )
    })
}

fn edit_refusal(access: AccessLevel) -> Option<String> {
    (access < AccessLevel::Maintainer).then(|| {
        format!(
            "Editing cleanup policies needs the Maintainer role; yours is {}.",
            access.label()
        )
    })
}

impl BffBackend {
    pub(crate) async fn project_for_policy(
        &self,
        session: &Session,
        instance: &Instance,
        project_path: &str,
    ) -> Result<wire::Project, AppError> {
        self.call(session, instance, "the project", |token| {
            let api = instance.api.clone();
            let path = project_path.to_string();
            async move { api.project(&token, &path).await }
        })
        .await
    }

    pub(crate) async fn cleanup_overview_of(
        &self,
        session: &Session,
        instance: &str,
        project_path: &str,
    ) -> Result<CleanupOverview, AppError> {
        let instance = self.0.instance(instance)?;
        let project = self
            .project_for_policy(session, instance, project_path)
            .await?;
        let access = access_of(&project);
        // Every image repository of the project (GraphQL pages of 100).
        let mut repositories: Vec<(u64, String)> = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let data: graphql::ProjectData = self
                .call(
                    session,
                    instance,
                    "the project's image repositories",
                    |token| {
                        let api = instance.api.clone();
                        let variables = json!({
                            "fullPath": project.path_with_namespace,
                            "first": 100,
                            "after": after,
                            "sort": "NAME_ASC",
                        });
                        async move {
                            api.graphql(&token, &graphql::project_repositories(), variables)
                                .await
                        }
                    },
                )
                .await?;
            let Some(connection) = data.project.and_then(|p| p.container_repositories) else {
                break;
            };
            for node in connection.nodes {
                if let Some(id) = gid_number(&node.id) {
                    repositories.push((id, node.path));
                }
            }
            if !connection.page_info.has_next_page || repositories.len() >= MAX_PREVIEW_REPOSITORIES
            {
                break;
            }
            after = connection.page_info.end_cursor;
            if after.is_none() {
                break;
            }
        }
        repositories.truncate(MAX_PREVIEW_REPOSITORIES);
        // Each repository's access check (cached 20 s), a few at a time.
        let checks: Vec<Result<_, AppError>> =
            futures::stream::iter(repositories.into_iter().map(|(id, path)| async move {
                let checked = self.repository_access(session, instance, id, false).await?;
                let status = checked.header.cleanup_status;
                Ok((id, path, status, self.index_for(instance, &checked)))
            }))
            .buffered(ACCESS_CHECKS_AT_ONCE)
            .collect()
            .await;
        let indexes = checks.into_iter().collect::<Result<Vec<_>, _>>()?;
        let (rules, rules_note) = self
            .rules_for_page(session, instance, project.id, access)
            .await?;
        let deadline = tokio::time::Instant::now() + INDEX_WAIT;
        let mut preview = Vec::with_capacity(indexes.len());
        for (id, path, cleanup_status, index) in indexes {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            // An index marked out of date (a run or a rule change through us) has no completion
            // time until its rebuild finishes: wait for that rather than show the old list.
            index
                .wait_until(left, |s| s.is_current() || s.error.is_some())
                .await;
            // Only what the decision needs: the preview ships every tag to the browser.
            let (mut tags, complete, total) = index.read(|s| {
                (
                    s.tags
                        .values()
                        .map(|t| domain::tags::Tag {
                            revision: None,
                            media_type: None,
                            referrers: Vec::new(),
                            ..t.clone()
                        })
                        .collect::<Vec<_>>(),
                    s.complete,
                    s.total,
                )
            });
            tags.sort_unstable_by(|a, b| a.name.cmp(&b.name));
            preview.push(PreviewRepository {
                id,
                path,
                tags,
                complete,
                total,
                cleanup_status,
            });
        }
        let mode = if preview
            .iter()
            .flat_map(|r| &r.tags)
            .any(|t| t.published_at.is_some())
        {
            Mode::MetadataDatabase
        } else {
            Mode::Legacy
        };
        let is_admin = self
            .0
            .auth_record(session, instance)
            .await?
            .is_some_and(|r| r.viewer.is_admin);
        Ok(CleanupOverview {
            runner: if is_admin { AccessLevel::Admin } else { access },
            project: ProjectDetails {
                id: project.id,
                name: project.name.clone(),
                full_path: project.path_with_namespace.clone(),
                description: project.description.clone(),
                visibility: project
                    .visibility
                    .clone()
                    .unwrap_or_else(|| "private".into()),
                web_url: project.web_url.clone(),
                access,
            },
            saved: saved_policy(project.container_expiration_policy),
            edit_refusal: edit_refusal(access),
            mode,
            repositories: preview,
            now: crate::auth::records::now(),
            rules,
            rules_note,
        })
    }

    pub(crate) async fn save_policy(
        &self,
        session: &Session,
        instance: &str,
        project_path: &str,
        policy: &CleanupPolicy,
    ) -> Result<SavedPolicy, AppError> {
        let instance = self.0.instance(instance)?;
        // GitLab would refuse what does not compile; say so before asking it.
        policy
            .compile()
            .map_err(|e| AppError::BadRequest { message: e.message })?;
        let project = self
            .project_for_policy(session, instance, project_path)
            .await?;
        if let Some(reason) = edit_refusal(access_of(&project)) {
            return Err(AppError::NotAllowed { reason });
        }
        let attributes = json!({
            "enabled": policy.enabled,
            "cadence": policy.cadence.as_param(),
            "keep_n": policy.keep_n,
            "older_than": policy.older_than.map(OlderThan::as_param),
            "name_regex": policy.name_regex.clone().unwrap_or_default(),
            "name_regex_keep": policy.name_regex_keep.clone().unwrap_or_default(),
        });
        let token = self.0.access_token(session, instance).await?;
        let saved = instance
            .api
            .update_cleanup_policy(&token, project.id, attributes)
            .await
            .map_err(|e| match e {
                GitLabError::Refused(message) => AppError::BadRequest {
                    message: format!("GitLab refused the policy: {message}"),
                },
                other => super::to_app_error(other, "the project's cleanup policy"),
            })?;
        tracing::info!(project = project.id, "cleanup policy saved");
        Ok(saved_policy(Some(saved)))
    }
    /// "Run now": GitLab's bulk delete with the draft's parameters, in every repository the
    /// user confirmed, and only where our preview (evaluated again now, as the user's role)
    /// still deletes no more tags than the user confirmed.
    pub(crate) async fn run_cleanup_now(
        &self,
        session: &Session,
        instance_name: &str,
        project_path: &str,
        policy: &CleanupPolicy,
        confirmed: &[RunConfirmation],
    ) -> Result<Vec<RunOutcome>, AppError> {
        let params = policy
            .bulk_delete_params()
            .map_err(|e| AppError::BadRequest { message: e.message })?;
        if confirmed.is_empty() {
            return Err(AppError::BadRequest {
                message: "Nothing was confirmed, so nothing runs.".into(),
            });
        }
        let mut once = std::collections::HashSet::new();
        if !confirmed.iter().all(|c| once.insert(c.repository_id)) {
            return Err(AppError::BadRequest {
                message: "Each repository may be confirmed once.".into(),
            });
        }
        let instance = self.0.instance(instance_name)?;
        // Read the confirmed repositories' tags from GitLab again: the check below must not
        // rest on the list the user's page was built from.
        let asked = std::time::Instant::now();
        for c in confirmed {
            if let Some(index) = self
                .0
                .tag_indexes
                .existing(&instance.info.name, c.repository_id)
            {
                index.expire();
            }
        }
        let overview = self
            .cleanup_overview_of(session, instance_name, project_path)
            .await?;
        if let Some(reason) = run_refusal(overview.project.access) {
            return Err(AppError::NotAllowed { reason });
        }
        let fresh = preview_as(&overview, policy, Some(overview.runner))
            .map_err(|e| AppError::BadRequest { message: e.message })?;
        let token = self.0.access_token(session, instance).await?;
        let mut outcomes = Vec::with_capacity(confirmed.len());
        for confirmation in confirmed {
            let Some(repo) = fresh.iter().find(|r| r.id == confirmation.repository_id) else {
                outcomes.push(RunOutcome {
                    repository_id: confirmation.repository_id,
                    path: format!("repository {}", confirmation.repository_id),
                    tags: confirmation.tags,
                    result: RunResult::Failed(
                        "Not among the project's image repositories the preview covers; nothing was sent."
                            .into(),
                    ),
                });
                continue;
            };
            let reread = self
                .0
                .tag_indexes
                .existing(&instance.info.name, repo.id)
                .is_some_and(|index| {
                    index.read(|s| {
                        s.complete
                            && s.error.is_none()
                            && s.completed_at.is_some_and(|at| at >= asked)
                    })
                });
            let now = repo.summary.deleted;
            let result = if !reread {
                RunResult::Failed(
                    "Its tags could not be read again from GitLab in time (a large repository takes a while), so nothing was sent. Try again in a moment."
                        .into(),
                )
            } else if now == 0 {
                RunResult::Nothing
            } else if now != confirmation.tags
                || fingerprint(&repo.decisions) != confirmation.fingerprint
            {
                RunResult::Changed { now }
            } else {
                match instance
                    .api
                    .bulk_delete_tags(&token, overview.project.id, repo.id, &params)
                    .await
                {
                    Ok(()) => {
                        if let Some(index) =
                            self.0.tag_indexes.existing(&instance.info.name, repo.id)
                        {
                            index.expire();
                        }
                        RunResult::Accepted
                    }
                    Err(error) => run_failure(error),
                }
            };
            tracing::info!(
                project = overview.project.id,
                repository = repo.id,
                confirmed = confirmation.tags,
                outcome = ?result,
                "cleanup run requested"
            );
            outcomes.push(RunOutcome {
                repository_id: repo.id,
                path: repo.path.clone(),
                tags: confirmation.tags,
                result,
            });
        }
        Ok(outcomes)
    }
}
