//! "Run now": GitLab's bulk delete with a policy's parameters, sent only for exactly the tags
//! the user confirmed (a count and a fingerprint of the names per repository).
//!
//! What a run deletes is decided once, by [`plan_run`], for the page's dialog, the JSON API's
//! preview and the server's check before it sends anything: the draft evaluated as the
//! runner's role (a bulk delete binds a tag protection rule only when the rule demands more
//! than that role, where the scheduled cleanup skips every protected tag), per repository
//! where it deletes anything.

use super::{preview, preview_as, CleanupOverview, CleanupPolicy, PolicyError, PolicyField};
use super::{RepositoryPreview, TagDecision};
use serde::{Deserialize, Serialize};

/// What "Run now" deletes in one repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedRun {
    pub path: String,
    /// What the user confirms by running: the count and the exact set of names.
    pub confirmation: RunConfirmation,
    pub bytes_freed: u64,
    /// Every tag is indexed. A run is offered only then: the count would be partial.
    pub complete: bool,
    /// Tags the scheduled cleanup skips as protected but this run deletes (the runner's role
    /// may delete them), in the repository's tag order.
    pub beyond_schedule: Vec<String>,
}

impl PlannedRun {
    pub fn repository_id(&self) -> u64 {
        self.confirmation.repository_id
    }

    /// Tags the run deletes here.
    pub fn deleted(&self) -> u64 {
        self.confirmation.tags
    }

    /// The run may be sent for this repository: its count is complete.
    pub fn runnable(&self) -> bool {
        self.complete
    }
}

/// What "Run now" with `policy` deletes as `overview.runner` (the viewer's role, or `Admin`
/// for an instance administrator), for each repository where it deletes anything, in the
/// overview's order. Fails as GitLab's bulk delete would refuse the parameters (a policy
/// without a delete regex, one that does not compile).
pub fn plan_run(
    overview: &CleanupOverview,
    policy: &CleanupPolicy,
) -> Result<Vec<PlannedRun>, PolicyError> {
    policy.bulk_delete_params()?;
    let run = preview_as(overview, policy, Some(overview.runner))?;
    let scheduled = preview(overview, policy)?;
    Ok(run
        .into_iter()
        .zip(scheduled)
        .filter(|(r, _)| r.summary.deleted > 0)
        .map(|(r, s)| PlannedRun {
            confirmation: RunConfirmation::of(&r),
            beyond_schedule: r
                .decisions
                .iter()
                .zip(&s.decisions)
                .filter(|(run, scheduled)| run.reason.deletes() && !scheduled.reason.deletes())
                .map(|(run, _)| run.name.clone())
                .collect(),
            bytes_freed: r.summary.bytes_freed,
            complete: r.complete,
            path: r.path,
        })
        .collect())
}

/// "Run now": the tags a user saw would go in one repository, confirmed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunConfirmation {
    pub repository_id: u64,
    /// How many tags the preview the user confirmed deletes there.
    pub tags: u64,
    /// [`fingerprint`] of exactly those tags' names.
    pub fingerprint: String,
}

/// Repositories one policy preview (and so one run) covers at most.
pub const MAX_RUN_REPOSITORIES: usize = 100;

/// A run's confirmations, checked: 1 to [`MAX_RUN_REPOSITORIES`], each repository once, each
/// with a fingerprint as [`fingerprint`] writes it.
pub fn check_confirmations(confirmed: &[RunConfirmation]) -> Result<(), crate::input::InputError> {
    use crate::input::InputError;
    if confirmed.is_empty() {
        return Err(InputError("Nothing was confirmed, so nothing runs.".into()));
    }
    if confirmed.len() > MAX_RUN_REPOSITORIES {
        return Err(InputError(format!(
            "A run covers at most {MAX_RUN_REPOSITORIES} repositories; {} were confirmed.",
            confirmed.len()
        )));
    }
    let mut once = std::collections::HashSet::with_capacity(confirmed.len());
    for c in confirmed {
        if !once.insert(c.repository_id) {
            return Err(InputError("Each repository may be confirmed once.".into()));
        }
        let well_formed =
            c.fingerprint.len() == 16 && c.fingerprint.bytes().all(|b| b.is_ascii_hexdigit());
        if c.repository_id == 0 || !well_formed {
            return Err(InputError(
                "A confirmation is not one the preview gave; nothing runs.".into(),
            ));
        }
    }
    Ok(())
}

impl RunConfirmation {
    /// What a repository's preview would have the user confirm.
    pub fn of(repository: &RepositoryPreview) -> RunConfirmation {
        RunConfirmation {
            repository_id: repository.id,
            tags: repository.summary.deleted,
            fingerprint: fingerprint(&repository.decisions),
        }
    }

    /// Whether a fresh plan still deletes exactly what this confirmed (`Ok`), or what to
    /// answer instead of sending: the policy deletes nothing there now, or other tags.
    /// `fresh` is the plan of the same repository, `None` when it deletes nothing.
    pub fn still_holds(&self, fresh: Option<&PlannedRun>) -> Result<(), RunResult> {
        match fresh {
            None => Err(RunResult::Nothing),
            Some(plan) if plan.confirmation == *self => Ok(()),
            Some(plan) => Err(RunResult::Changed {
                now: plan.deleted(),
            }),
        }
    }
}

/// A fingerprint of the set of tags the decisions delete (64-bit FNV-1a over the sorted
/// names): the same in the browser and on the server, so a run is sent only for exactly the
/// tags the user saw, not merely as many.
pub fn fingerprint(decisions: &[TagDecision]) -> String {
    let mut names: Vec<&str> = decisions
        .iter()
        .filter(|d| d.reason.deletes())
        .map(|d| d.name.as_str())
        .collect();
    names.sort_unstable();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for name in names {
        for byte in name.bytes().chain(std::iter::once(b'\n')) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

/// What became of one repository's bulk delete.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum RunResult {
    /// GitLab accepted it (202) and deletes in the background.
    Accepted,
    /// Not sent: the preview changed since it was confirmed (`now` tags would go now).
    Changed { now: u64 },
    /// Not sent: the policy deletes nothing there now.
    Nothing,
    /// GitLab refused it (its once-an-hour limit, a protection rule, a role).
    Refused(String),
    /// Not sent, or the answer was lost.
    Failed(String),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunOutcome {
    pub repository_id: u64,
    pub path: String,
    pub tags: u64,
    pub result: RunResult,
}

impl CleanupPolicy {
    /// GitLab's bulk delete parameters for this policy (`DELETE …/tags`). GitLab needs a
    /// delete regex; without one the policy deletes nothing and there is nothing to run.
    pub fn bulk_delete_params(&self) -> Result<Vec<(&'static str, String)>, PolicyError> {
        self.compile()?;
        let delete = self
            .name_regex
            .clone()
            .filter(|r| !r.is_empty())
            .ok_or_else(|| PolicyError {
                field: PolicyField::NameRegex,
                message: "Running a cleanup needs a remove regex; without one nothing is deleted."
                    .into(),
            })?;
        let mut params = vec![("name_regex_delete", delete)];
        if let Some(keep) = self.name_regex_keep.clone().filter(|r| !r.is_empty()) {
            params.push(("name_regex_keep", keep));
        }
        if let Some(n) = self.keep_n {
            params.push(("keep_n", n.to_string()));
        }
        if let Some(age) = self.older_than {
            params.push(("older_than", age.as_param().to_string()));
        }
        Ok(params)
    }
}
