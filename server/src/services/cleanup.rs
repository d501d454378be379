//! Cleanup policies: the saved policy, every repository's tags for the preview, saving, and
//! "Run now".
//!
//! Run now never rests on what the user's page was built from: after the caller's role is
//! checked and the confirmed repositories are found among the project's own, their indexes
//! are read from GitLab again, the policy is evaluated again as the caller's role, and
//! GitLab's bulk delete is sent only where exactly the confirmed set of tags (count and
//! fingerprint of the names) would go. The sending runs to its end in a tracked task.

use super::{access_of, effective_access, Gateway, TagService};
use crate::caches::ProjectPage;
use crate::errors;
use crate::gitlab::graphql::{self, gid};
use crate::gitlab::{wire, GitLabError};
use app::backend::{Caller, Cleanup};
use app::error::AppError;
use async_trait::async_trait;
use domain::cleanup::{
    check_confirmations, plan_run, Cadence, CleanupOverview, CleanupPolicy, Mode, OlderThan,
    PolicyNote, PolicyRegex, PreviewRepository, RunConfirmation, RunOutcome, RunResult,
    SavedPolicy, KEEP_N_VALUES, MAX_REGEX_LEN, MAX_RUN_REPOSITORIES,
};
use domain::input::NamespacePath;
use domain::protection::{ProtectionRules, RuleChange};
use domain::{AccessLevel, ProjectDetails, Subject};
use futures::StreamExt;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

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
            notes: vec![PolicyNote::NoPolicyYet.into()],
        };
    };
    let mut notes = Vec::new();
    let cadence = Cadence::from_param(&p.cadence).unwrap_or_else(|| {
        notes.push(
            PolicyNote::UnknownCadence {
                cadence: p.cadence.clone(),
            }
            .into(),
        );
        Cadence::Daily
    });
    let keep_n = p.keep_n.filter(|n| {
        let known = KEEP_N_VALUES.contains(n);
        if !known {
            notes.push(PolicyNote::UnofferedKeepN { keep_n: *n }.into());
        }
        known
    });
    let mut regex = |regex: PolicyRegex, value: Option<String>| {
        value.filter(|r| !r.is_empty()).filter(|r| {
            let fits = r.chars().count() <= MAX_REGEX_LEN;
            if !fits {
                notes.push(
                    PolicyNote::RegexTooLong {
                        regex,
                        max_chars: MAX_REGEX_LEN as u32,
                    }
                    .into(),
                );
            }
            fits
        })
    };
    let name_regex = regex(PolicyRegex::Delete, p.name_regex);
    let name_regex_keep = regex(PolicyRegex::Keep, p.name_regex_keep);
    let older_than = p.older_than.as_deref().and_then(|o| {
        let parsed = OlderThan::from_param(o);
        if parsed.is_none() {
            notes.push(
                PolicyNote::UnknownOlderThan {
                    older_than: o.to_string(),
                }
                .into(),
            );
        }
        parsed
    });
    SavedPolicy {
        policy: CleanupPolicy {
            enabled: p.enabled,
            cadence,
            keep_n,
            older_than,
            name_regex,
            name_regex_keep,
        },
        next_run_at: p.next_run_at,
        notes,
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

/// A bulk delete GitLab did not accept, in the user's terms.
fn run_failure(error: GitLabError) -> RunResult {
    match error {
        GitLabError::TokenExpired | GitLabError::Unauthorized => RunResult::Failed(
            "Not sent: your GitLab sign-in has expired. Sign in again and retry.".into(),
        ),
        GitLabError::Unavailable(detail) => RunResult::Failed(format!(
            "GitLab did not answer ({detail}); it may or may not have started. Reload before \
                trying again."
        )),
        GitLabError::Malformed(_) | GitLabError::Rejected(_) => RunResult::Failed(
            "GitLab sent an unexpected answer; reload to see whether it started.".into(),
        ),
        other => RunResult::Refused(errors::sentence(&other)),
    }
}

/// Policies, previews, runs and protection rules.
pub struct CleanupService {
    pub(crate) gw: Arc<Gateway>,
    tags: Arc<TagService>,
}

impl CleanupService {
    pub fn new(gw: Arc<Gateway>, tags: Arc<TagService>) -> Self {
        CleanupService { gw, tags }
    }

    /// The project with the caller's permissions.
    pub(crate) async fn project(
        &self,
        caller: &Caller,
        path: &NamespacePath,
    ) -> Result<wire::Project, AppError> {
        self.gw
            .call(caller, Subject::Project(path.to_string()), |api, token| {
                let path = path.to_string();
                async move { api.project(&token, &path).await }
            })
            .await
    }

    /// Every image repository of the project (GraphQL pages of 100), at most
    /// [`MAX_RUN_REPOSITORIES`].
    async fn repositories(
        &self,
        caller: &Caller,
        project: &wire::Project,
    ) -> Result<Vec<(u64, String)>, AppError> {
        let subject = Subject::Registry(project.path_with_namespace.clone());
        let mut repositories: Vec<(u64, String)> = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let data: graphql::ProjectData = self
                .gw
                .call(caller, subject.clone(), |api, token| {
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
                })
                .await?;
            // GitLab answers null where the caller may not read the registry (a Guest of a
            // private registry): refused, as the repository list is, not an empty project.
            let Some(connection) = data.project.and_then(|p| p.container_repositories) else {
                return Err(AppError::Forbidden { what: subject });
            };
            for node in connection.nodes {
                let id = gid(&node.id).map_err(|e| errors::app_error(e, subject.clone()))?;
                repositories.push((id, node.path));
            }
            if !connection.page_info.has_next_page || repositories.len() >= MAX_RUN_REPOSITORIES {
                break;
            }
            after = connection.page_info.end_cursor;
            if after.is_none() {
                break;
            }
        }
        repositories.truncate(MAX_RUN_REPOSITORIES);
        Ok(repositories)
    }

    /// The overview of a project already looked up, over the given repositories, with its
    /// protection rules as the page shows them.
    async fn overview_for(
        &self,
        caller: &Caller,
        project: wire::Project,
        repositories: Vec<(u64, String)>,
        (rules, rules_note): (Option<ProtectionRules>, Option<String>),
    ) -> Result<CleanupOverview, AppError> {
        let access = access_of(&project);
        let effective = effective_access(caller, &project);
        // Each repository's access check (cached per credential), a few at a time.
        let checks: Vec<Result<_, AppError>> =
            futures::stream::iter(repositories.into_iter().map(|(id, path)| async move {
                let header = self.tags.repository_access(caller, id, false).await?;
                let index = self.tags.index_for(caller, &header).await?;
                // GitLab's CI context (read once for the project) while the indexes build.
                let usage = super::usage::start(&self.gw, caller, &header, &index).await;
                Ok((id, path, header, index, usage))
            }))
            .buffered(ACCESS_CHECKS_AT_ONCE)
            .collect()
            .await;
        let indexes = checks.into_iter().collect::<Result<Vec<_>, _>>()?;
        let deadline = tokio::time::Instant::now() + INDEX_WAIT;
        let mut preview = Vec::with_capacity(indexes.len());
        // The preview flags tags in use: it waits for them as the deletion dialog does.
        let usage_wait = super::usage::FILTER_WAIT;
        for (id, path, header, index, usage) in indexes {
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
                            ..domain::tags::Tag::clone(t)
                        })
                        .collect::<Vec<_>>(),
                    s.complete,
                    s.total,
                )
            });
            tags.sort_unstable_by(|a, b| a.name.cmp(&b.name));
            // The preview flags what it deletes in use: every verdict but unknown.
            let usage = usage
                .finish(&self.gw, caller, &header, &index, usage_wait)
                .await?
                .whole();
            preview.push(PreviewRepository {
                id,
                path,
                tags,
                complete,
                total,
                cleanup_status: header.cleanup_status,
                usage,
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
        Ok(CleanupOverview {
            max_tags_per_run: self.gw.instance(caller)?.cleanup_max_tags_per_run,
            runner: effective,
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
            edit_refusal: edit_refusal(effective),
            mode,
            repositories: preview,
            now: crate::clock::now(),
            rules,
            rules_note,
        })
    }
}

/// Saves `policy` as the project's cleanup policy through GitLab and writes the audit event:
/// the policy GitLab saved, or its refusal (`BadRequest`, in GitLab's words). The caller has
/// checked the role; this runs inside [`Gateway::to_the_end`].
pub(crate) async fn write_policy(
    gw: &Gateway,
    caller: &Caller,
    project: &wire::Project,
    policy: &CleanupPolicy,
) -> Result<SavedPolicy, AppError> {
    // GitLab would refuse what does not compile; say so before asking it.
    policy
        .compile()
        .map_err(|e| AppError::BadRequest { message: e.message })?;
    let attributes = json!({
        "enabled": policy.enabled,
        "cadence": policy.cadence.as_param(),
        "keep_n": policy.keep_n,
        "older_than": policy.older_than.map(OlderThan::as_param),
        "name_regex": policy.name_regex.clone().unwrap_or_default(),
        "name_regex_keep": policy.name_regex_keep.clone().unwrap_or_default(),
    });
    let api = gw.instance(caller)?.api.clone();
    let token = caller.credential.token();
    let result = api
        .update_cleanup_policy(token.secret(), project.id, attributes)
        .await;
    gw.audit(
        caller,
        "save_cleanup_policy",
        &format!(
            "project {}: {}",
            project.path_with_namespace,
            policy.to_query()
        ),
        &match &result {
            Ok(_) => "saved".to_string(),
            Err(error) => errors::sentence(error),
        },
    );
    match result {
        Ok(saved) => Ok(saved_policy(Some(saved))),
        Err(GitLabError::Refused(message)) => Err(AppError::BadRequest {
            message: format!("GitLab refused the policy: {message}"),
        }),
        Err(other) => Err(gw
            .failure(
                caller,
                other,
                Subject::CleanupPolicy(project.path_with_namespace.clone()),
            )
            .await),
    }
}

/// Sends the bulk deletes of a run, one repository after the other, each only while the
/// fresh plan deletes exactly what was confirmed.
async fn send_run(
    gw: Arc<Gateway>,
    caller: Caller,
    overview: CleanupOverview,
    policy: CleanupPolicy,
    params: Vec<(&'static str, String)>,
    confirmed: Vec<RunConfirmation>,
    asked: std::time::Instant,
) -> Result<Vec<RunOutcome>, AppError> {
    let fresh =
        plan_run(&overview, &policy).map_err(|e| AppError::BadRequest { message: e.message })?;
    let api = gw.instance(&caller)?.api.clone();
    let token = caller.credential.token();
    let mut outcomes = Vec::with_capacity(confirmed.len());
    for confirmation in &confirmed {
        let Some(repo) = overview
            .repositories
            .iter()
            .find(|r| r.id == confirmation.repository_id)
        else {
            outcomes.push(RunOutcome {
                repository_id: confirmation.repository_id,
                path: format!("repository {}", confirmation.repository_id),
                tags: confirmation.tags,
                result: RunResult::Failed(
                    "Not among the project's image repositories the preview covers; nothing was \
                        sent."
                        .into(),
                ),
            });
            continue;
        };
        let reread = gw
            .indexes
            .existing(&caller.instance, repo.id)
            // Read by a build that started after Run now was asked for.
            .is_some_and(|index| index.read(|s| s.read_since(asked)));
        let planned = fresh.iter().find(|p| p.repository_id() == repo.id);
        let result = if !reread {
            RunResult::Failed(
                "Its tags could not be read again from GitLab in time (a large repository takes a \
                    while), so nothing was sent. Try again in a moment."
                    .into(),
            )
        } else if let Err(answer) = confirmation.still_holds(planned) {
            answer
        } else {
            match api
                .bulk_delete_tags(token.secret(), overview.project.id, repo.id, &params)
                .await
            {
                Ok(()) => {
                    gw.indexes.expire(&caller.instance, &[repo.id]).await;
                    RunResult::Accepted
                }
                Err(error) => run_failure(error),
            }
        };
        gw.audit(
            &caller,
            "cleanup_run",
            &format!(
                "project {} repository {} ({}); policy {}",
                overview.project.full_path,
                repo.id,
                repo.path,
                policy.to_query()
            ),
            &format!("confirmed {} tags: {result:?}", confirmation.tags),
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

#[async_trait]
impl Cleanup for CleanupService {
    async fn overview(
        &self,
        caller: &Caller,
        project: &NamespacePath,
    ) -> Result<CleanupOverview, AppError> {
        let key = (caller.credential.key(), project.to_string());
        let page = self
            .gw
            .caches
            .project_pages
            .try_get_with(key, async {
                let project = self.project(caller, project).await?;
                let repositories = self.repositories(caller, &project).await?;
                let rules = self
                    .rules_for_page(caller, &project, effective_access(caller, &project))
                    .await?;
                Ok::<_, AppError>(Arc::new(ProjectPage {
                    project,
                    repositories,
                    rules,
                }))
            })
            .await
            .map_err(|e| (*e).clone())?;
        let ProjectPage {
            project,
            repositories,
            rules,
        } = (*page).clone();
        self.overview_for(caller, project, repositories, rules)
            .await
    }

    async fn save_policy(
        &self,
        caller: &Caller,
        project: &NamespacePath,
        policy: &CleanupPolicy,
    ) -> Result<SavedPolicy, AppError> {
        let project = self.project(caller, project).await?;
        if let Some(reason) = edit_refusal(effective_access(caller, &project)) {
            return Err(AppError::NotAllowed { reason });
        }
        let (gw, owned_caller, policy) = (self.gw.clone(), caller.clone(), policy.clone());
        let saved = self
            .gw
            .to_the_end(async move { write_policy(&gw, &owned_caller, &project, &policy).await })
            .await;
        // Whatever GitLab answered, the next page reads the policy from GitLab again.
        self.gw.caches.forget_project_pages();
        saved
    }

    async fn run_now(
        &self,
        caller: &Caller,
        project: &NamespacePath,
        policy: &CleanupPolicy,
        confirmed: &[RunConfirmation],
    ) -> Result<Vec<RunOutcome>, AppError> {
        check_confirmations(confirmed)?;
        // Compiles the policy: only now, for a known caller.
        let params = policy
            .bulk_delete_params()
            .map_err(|e| AppError::BadRequest { message: e.message })?;
        let project = self.project(caller, project).await?;
        if let Some(reason) = run_refusal(effective_access(caller, &project)) {
            return Err(AppError::NotAllowed { reason });
        }
        let repositories = self.repositories(caller, &project).await?;
        // Read the confirmed repositories' tags from GitLab again: the check must not rest
        // on the list the user's page was built from. Only the project's own repositories.
        let asked = std::time::Instant::now();
        let own: Vec<u64> = confirmed
            .iter()
            .map(|c| c.repository_id)
            .filter(|id| repositories.iter().any(|(own, _)| own == id))
            .collect();
        self.gw.indexes.expire(&caller.instance, &own).await;
        let rules = self
            .rules_for_page(caller, &project, effective_access(caller, &project))
            .await?;
        let overview = self
            .overview_for(caller, project, repositories, rules)
            .await?;
        self.gw
            .to_the_end(send_run(
                self.gw.clone(),
                caller.clone(),
                overview,
                policy.clone(),
                params,
                confirmed.to_vec(),
                asked,
            ))
            .await
    }

    async fn change_rule(
        &self,
        caller: &Caller,
        project: &NamespacePath,
        change: &RuleChange,
    ) -> Result<ProtectionRules, AppError> {
        let changed = self.change_rule_of(caller, project, change).await;
        self.gw.caches.forget_project_pages();
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::cleanup::Notice;
    use serde_json::Value;

    fn gitlab_policy(fields: Value) -> wire::ExpirationPolicy {
        let mut policy = json!({
            "cadence": "1d", "enabled": true, "keep_n": 10, "older_than": "90d",
            "name_regex": ".*", "name_regex_keep": null, "next_run_at": null,
        });
        for (key, value) in fields.as_object().unwrap() {
            policy[key] = value.clone();
        }
        serde_json::from_value(policy).unwrap()
    }

    #[test]
    fn a_policy_the_editor_can_show_as_it_is_has_no_notes() {
        assert_eq!(saved_policy(Some(gitlab_policy(json!({})))).notes, vec![]);
    }

    #[test]
    fn what_the_editor_shows_differently_is_noted_with_a_code_and_its_parameters() {
        let saved = saved_policy(Some(gitlab_policy(json!({
            "cadence": "2d", "keep_n": 7, "older_than": "3d",
            "name_regex_keep": "k".repeat(MAX_REGEX_LEN + 1),
        }))));
        assert_eq!(saved.policy.cadence, Cadence::Daily);
        assert_eq!((saved.policy.keep_n, saved.policy.older_than), (None, None));
        assert_eq!(saved.policy.name_regex_keep, None);
        let json = serde_json::to_value(&saved.notes).unwrap();
        assert_eq!(
            json,
            json!([
                { "code": "unknown_cadence", "cadence": "2d",
                  "message": "GitLab's cadence “2d” is not one it offers today; \
                              shown as every day." },
                { "code": "unoffered_keep_n", "keep_n": 7,
                  "message": "GitLab keeps 7 tags, which is not a value it offers today; \
                              shown as none." },
                { "code": "regex_too_long", "regex": "keep", "max_chars": 255,
                  "message": "GitLab's keep regex is longer than 255 characters, which it no \
                              longer accepts; shown as empty." },
                { "code": "unknown_older_than", "older_than": "3d",
                  "message": "GitLab's age limit “3d” is not one it offers today; shown as none." },
            ])
        );
        // And back: the page and scripts read the same notes.
        let back: Vec<Notice<PolicyNote>> = serde_json::from_value(json).unwrap();
        assert_eq!(back, saved.notes);
    }

    #[test]
    fn a_project_without_a_policy_starts_from_gitlab_defaults_and_says_so() {
        let saved = saved_policy(None);
        assert_eq!(saved.policy, CleanupPolicy::default());
        assert_eq!(saved.notes, vec![Notice::from(PolicyNote::NoPolicyYet)]);
    }
}
