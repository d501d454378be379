//! A standard policy applied to chosen projects of a group ([`domain::governance::apply`]
//! states the rules).
//!
//! The review costs, per chosen project: one REST read of the project by id (path, role,
//! saved policy), then the project policy page's own data (every repository's tag index,
//! cached per credential) and storage figures, [`REVIEWS_AT_ONCE`] projects at a time.
//! Applying reads each project again and saves with one REST `PUT` where the checks hold,
//! one project after the other, in a tracked task that finishes even if the request goes
//! away or the server is asked to stop.

use super::GovernanceService;
use crate::gitlab::wire;
use crate::services::cleanup::{saved_policy, write_policy};
use crate::services::{effective_access, Gateway};
use app::backend::{Caller, Cleanup, Storage};
use app::error::AppError;
use domain::cleanup::{preview, CleanupOverview, CleanupPolicy, MAX_RUN_REPOSITORIES};
use domain::governance::apply::{
    check_confirmation, ApplyOutcome, ApplyProject, ApplyResult, ApplyReview, ApplyView, Candidate,
    Comparison, Deletes, Exclusion,
};
use domain::governance::{drift, Drift, PolicyFacts};
use domain::input::NamespacePath;
use domain::storage::CleanupStorage;
use domain::{AccessLevel, GroupDetails, Subject};
use futures::StreamExt;

/// Projects a review reads at once.
const REVIEWS_AT_ONCE: usize = 3;

/// A chosen project as GitLab shows it now: one the caller may save a policy in, or why
/// not (with the path, where GitLab shows it).
enum Chosen {
    Project(Box<wire::Project>),
    Excluded(String, Exclusion),
    Unreadable(String),
}

impl Chosen {
    /// The review's row for a project that is not eligible.
    fn row(self, id: u64) -> Result<Box<wire::Project>, Box<ApplyProject>> {
        match self {
            Chosen::Project(project) => Ok(project),
            Chosen::Excluded(path, reason) => {
                Err(Box::new(ApplyProject::excluded(id, path, reason)))
            }
            Chosen::Unreadable(message) => Err(Box::new(ApplyProject {
                id,
                full_path: String::new(),
                web_url: String::new(),
                access: None,
                candidate: Candidate::Unreadable { message },
            })),
        }
    }

    /// The apply's outcome for a project that is not eligible.
    fn outcome(self, id: u64) -> Result<Box<wire::Project>, Box<ApplyOutcome>> {
        let (full_path, result) = match self {
            Chosen::Project(project) => return Ok(project),
            Chosen::Excluded(path, reason) => (
                path,
                ApplyResult::Excluded {
                    message: reason.to_string(),
                    reason,
                },
            ),
            Chosen::Unreadable(message) => (String::new(), ApplyResult::Failed { message }),
        };
        Err(Box::new(ApplyOutcome {
            id,
            full_path,
            result,
        }))
    }
}

/// Whether `path` is in the group or one of its subgroups. GitLab's paths compare without
/// regard to case.
fn in_group(path: &str, group: &str) -> bool {
    path.to_lowercase()
        .starts_with(&format!("{}/", group.to_lowercase()))
}

/// Reads project `id` and repeats the checks: visible, in the group, Maintainer (or an
/// instance administrator). Only a
/// signed-out caller fails the whole request; any other failure is this project's.
async fn chosen(gw: &Gateway, caller: &Caller, group: &str, id: u64) -> Result<Chosen, AppError> {
    let found = gw
        .call(
            caller,
            Subject::Project(id.to_string()),
            |api, token| async move { api.project(&token, &id.to_string()).await },
        )
        .await;
    let project = match found {
        Ok(project) => project,
        Err(AppError::NotFound { .. } | AppError::Forbidden { .. }) => {
            return Ok(Chosen::Excluded(String::new(), Exclusion::NotFound))
        }
        Err(error @ AppError::NotSignedIn { .. }) => return Err(error),
        Err(error) => return Ok(Chosen::Unreadable(error.to_string())),
    };
    let path = project.path_with_namespace.clone();
    if !in_group(&path, group) {
        return Ok(Chosen::Excluded(
            path.clone(),
            Exclusion::OutsideGroup { path },
        ));
    }
    // An administrator may save any project's policy without being a member.
    let access = effective_access(caller, &project);
    if access < AccessLevel::Maintainer {
        return Ok(Chosen::Excluded(
            path,
            Exclusion::NeedsMaintainer { access },
        ));
    }
    Ok(Chosen::Project(Box::new(project)))
}

/// What `policy` deletes across the overview's repositories, with the storage figure.
/// A policy that does not compile (GitLab holds it, the engine cannot run it) counts as a
/// lower bound of nothing, not as "deletes nothing".
fn deletes(overview: &CleanupOverview, policy: &CleanupPolicy, bytes: u64, read: bool) -> Deletes {
    let tags = preview(overview, policy)
        .ok()
        .map(|repositories| repositories.iter().map(|r| r.summary.deleted).sum());
    Deletes {
        tags: tags.unwrap_or(0),
        bytes,
        tags_complete: tags.is_some()
            && overview.repositories.len() < MAX_RUN_REPOSITORIES
            && overview.repositories.iter().all(|r| r.complete),
        bytes_complete: tags.is_some() && read,
    }
}

impl GovernanceService {
    pub(super) async fn review(
        &self,
        caller: &Caller,
        group: &NamespacePath,
        view: &ApplyView,
    ) -> Result<ApplyReview, AppError> {
        let standard = view.applicable()?.clone();
        let group = GroupDetails::from(self.gw.group(caller, group).await?);
        let (path, standard_ref) = (group.full_path.as_str(), &standard);
        let reviews: Vec<_> = view
            .projects
            .iter()
            .copied()
            .map(|id| self.review_one(caller, path, standard_ref, id))
            .collect();
        let projects = futures::stream::iter(reviews)
            .buffered(REVIEWS_AT_ONCE)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ApplyReview {
            group,
            standard,
            projects,
            now: crate::clock::now(),
        })
    }

    async fn review_one(
        &self,
        caller: &Caller,
        group: &str,
        standard: &CleanupPolicy,
        id: u64,
    ) -> Result<ApplyProject, AppError> {
        let project = match chosen(&self.gw, caller, group, id).await?.row(id) {
            Ok(project) => project,
            Err(row) => return Ok(*row),
        };
        let figures = async {
            let path = NamespacePath::project(&project.path_with_namespace)?;
            let overview = self.cleanup.overview(caller, &path).await?;
            let storage = self
                .storage
                .cleanup_storage(caller, &path, standard)
                .await?;
            Ok::<(CleanupOverview, CleanupStorage), AppError>((overview, storage))
        };
        // The policy as GitLab holds it now (the overview's may be cached for minutes), as
        // the apply will compare it.
        let own = saved_policy(project.container_expiration_policy.clone());
        let candidate = match figures.await {
            Ok((overview, storage)) => Candidate::Eligible(Comparison::new(
                standard,
                own.clone(),
                deletes(
                    &overview,
                    &own.policy,
                    storage.saved_bytes,
                    storage.complete,
                ),
                deletes(&overview, standard, storage.draft_bytes, storage.complete),
            )),
            Err(error @ AppError::NotSignedIn { .. }) => return Err(error),
            Err(error) => Candidate::Unreadable {
                message: error.to_string(),
            },
        };
        let access = effective_access(caller, &project);
        Ok(ApplyProject {
            id,
            full_path: project.path_with_namespace.clone(),
            web_url: project.web_url.clone(),
            access: Some(access),
            candidate,
        })
    }

    pub(super) async fn apply(
        &self,
        caller: &Caller,
        group: &NamespacePath,
        view: &ApplyView,
        confirm: &str,
    ) -> Result<Vec<ApplyOutcome>, AppError> {
        let standard = view.applicable()?.clone();
        let found = self.gw.group(caller, group).await?;
        check_confirmation(&found.full_path, confirm)?;
        let (gw, owned_caller, ids) = (self.gw.clone(), caller.clone(), view.projects.clone());
        let outcomes = self
            .gw
            .to_the_end(async move {
                let mut outcomes = Vec::with_capacity(ids.len());
                let mut signed_out = false;
                for id in ids {
                    let outcome = if signed_out {
                        not_sent(id)
                    } else {
                        let outcome =
                            apply_one(&gw, &owned_caller, &found.full_path, &standard, id).await;
                        signed_out = outcome.is_none();
                        outcome.unwrap_or_else(|| not_sent(id))
                    };
                    outcomes.push(outcome);
                }
                gw.audit(
                    &owned_caller,
                    "apply_standard_policy",
                    &format!("group {}: {}", found.full_path, standard.to_query()),
                    &outcomes
                        .iter()
                        .map(|o| format!("{} {}", o.id, o.result.label()))
                        .collect::<Vec<_>>()
                        .join(", "),
                );
                Ok(outcomes)
            })
            .await;
        // Whatever GitLab answered, the next page reads the policies from GitLab again.
        self.gw.caches.forget_project_pages();
        outcomes
    }
}

/// A project not asked about because the caller's sign-in ended before its turn.
fn not_sent(id: u64) -> ApplyOutcome {
    ApplyOutcome {
        id,
        full_path: String::new(),
        result: ApplyResult::Failed {
            message: "Not sent: your GitLab sign-in has expired. Sign in again and apply once \
                more; projects already saved will show as unchanged."
                .into(),
        },
    }
}

/// Checks and saves one project; `None` when the caller turned out to be signed out.
async fn apply_one(
    gw: &Gateway,
    caller: &Caller,
    group: &str,
    standard: &CleanupPolicy,
    id: u64,
) -> Option<ApplyOutcome> {
    let project = match chosen(gw, caller, group, id).await.ok()?.outcome(id) {
        Ok(project) => project,
        Err(outcome) => return Some(*outcome),
    };
    let own = saved_policy(project.container_expiration_policy.clone());
    let result = if drift(standard, &PolicyFacts::Whole(own)) == Drift::Same {
        ApplyResult::Unchanged
    } else {
        match write_policy(gw, caller, &project, standard).await {
            Ok(policy) => ApplyResult::Saved { policy },
            Err(AppError::BadRequest { message }) => ApplyResult::Refused { message },
            Err(AppError::NotSignedIn { .. }) => return None,
            Err(error) => ApplyResult::Failed {
                message: error.to_string(),
            },
        }
    };
    Some(ApplyOutcome {
        id,
        full_path: project.path_with_namespace.clone(),
        result,
    })
}
