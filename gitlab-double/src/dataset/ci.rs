//! A project's code and CI as a dataset holds them: branches, git tags, pipelines, merge
//! requests, environments and their deployments. The REST API serves them
//! (`rest::ci`); they are the context that tells which images run where.
//!
//! Times are seconds before the double starts, like the rest of a dataset. Commit SHAs are
//! 40 lower-case hex digits; a tag in the registry named after a commit carries a prefix of
//! one of them.

use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// Everything CI-related of one project (empty by default: no repository, no pipelines).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CiSpec {
    /// Branches with their head commits.
    #[serde(default)]
    pub branches: Vec<BranchSpec>,
    /// Git tags.
    #[serde(default)]
    pub git_tags: Vec<GitTagSpec>,
    /// Pipelines.
    #[serde(default)]
    pub pipelines: Vec<PipelineSpec>,
    /// Merge requests of the project (as target).
    #[serde(default)]
    pub merge_requests: Vec<MergeRequestSpec>,
    /// Environments, each with its deployments.
    #[serde(default)]
    pub environments: Vec<EnvironmentSpec>,
}

/// A branch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BranchSpec {
    pub name: String,
    /// Head commit.
    pub sha: String,
    /// When the head commit was made.
    pub committed_seconds_ago: u64,
    /// The project's default branch.
    #[serde(default)]
    pub default: bool,
    /// Covered by a branch protection.
    #[serde(default)]
    pub protected: bool,
}

/// A git tag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GitTagSpec {
    pub name: String,
    /// The commit it points at.
    pub sha: String,
    pub created_seconds_ago: u64,
    /// Annotation; none for a lightweight tag.
    #[serde(default)]
    pub message: Option<String>,
}

/// A pipeline's `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PipelineStatus {
    Created,
    WaitingForResource,
    Preparing,
    Pending,
    Running,
    Success,
    Failed,
    Canceled,
    Skipped,
    Manual,
    Scheduled,
}

/// A pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineSpec {
    pub id: u64,
    pub iid: u64,
    #[serde(rename = "ref")]
    pub reference: String,
    pub sha: String,
    pub status: PipelineStatus,
    /// `push`, `merge_request_event`, `schedule`, `web`, …
    pub source: String,
    pub created_seconds_ago: u64,
    pub updated_seconds_ago: u64,
}

/// A merge request's `state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MergeRequestState {
    Opened,
    Closed,
    Locked,
    Merged,
}

/// A merge request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MergeRequestSpec {
    pub id: u64,
    pub iid: u64,
    pub title: String,
    pub source_branch: String,
    pub target_branch: String,
    /// Head commit.
    pub sha: String,
    pub state: MergeRequestState,
    /// Username of the author (a dataset user).
    pub author: String,
    pub created_seconds_ago: u64,
    pub updated_seconds_ago: u64,
    /// When it was merged or closed (merged and closed merge requests only).
    #[serde(default)]
    pub finished_seconds_ago: Option<u64>,
}

/// An environment's `state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnvironmentState {
    Available,
    Stopping,
    Stopped,
}

/// An environment's `tier`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    Production,
    Staging,
    Testing,
    Development,
    Other,
}

/// An environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentSpec {
    pub id: u64,
    pub name: String,
    pub tier: Tier,
    pub state: EnvironmentState,
    pub created_seconds_ago: u64,
    #[serde(default)]
    pub external_url: Option<String>,
    /// Its deployments, any order.
    #[serde(default)]
    pub deployments: Vec<DeploymentSpec>,
}

/// A deployment's `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeploymentStatus {
    Created,
    Running,
    Success,
    Failed,
    Canceled,
    Skipped,
    Blocked,
}

/// A deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeploymentSpec {
    pub id: u64,
    pub iid: u64,
    #[serde(rename = "ref")]
    pub reference: String,
    pub sha: String,
    pub status: DeploymentStatus,
    /// Username of who deployed (a dataset user).
    pub user: String,
    pub created_seconds_ago: u64,
    /// When its job finished; none while it runs.
    #[serde(default)]
    pub finished_seconds_ago: Option<u64>,
}

fn is_sha(s: &str) -> bool {
    s.len() == 40
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl CiSpec {
    /// Unique ids and names, full SHAs, known users. `owner` names the project in errors.
    pub fn validate(&self, owner: &str, usernames: &HashSet<&str>) -> Result<(), String> {
        let fail = |msg: String| Err(format!("{owner}: {msg}"));
        let unique = |what: &str, keys: Vec<String>| -> Result<(), String> {
            let mut seen = HashSet::new();
            match keys.into_iter().find(|k| !seen.insert(k.clone())) {
                Some(k) => Err(format!("{owner}: duplicate {what} {k}")),
                None => Ok(()),
            }
        };
        unique(
            "branch",
            self.branches.iter().map(|b| b.name.clone()).collect(),
        )?;
        unique(
            "git tag",
            self.git_tags.iter().map(|t| t.name.clone()).collect(),
        )?;
        unique(
            "pipeline id",
            self.pipelines.iter().map(|p| p.id.to_string()).collect(),
        )?;
        unique(
            "merge request iid",
            self.merge_requests
                .iter()
                .map(|m| m.iid.to_string())
                .collect(),
        )?;
        unique(
            "environment id",
            self.environments.iter().map(|e| e.id.to_string()).collect(),
        )?;
        unique(
            "environment",
            self.environments.iter().map(|e| e.name.clone()).collect(),
        )?;
        let deployments: Vec<&DeploymentSpec> = self
            .environments
            .iter()
            .flat_map(|e| &e.deployments)
            .collect();
        unique(
            "deployment id",
            deployments.iter().map(|d| d.id.to_string()).collect(),
        )?;
        if self.branches.iter().filter(|b| b.default).count() > 1 {
            return fail("more than one default branch".into());
        }
        let shas = self
            .branches
            .iter()
            .map(|b| &b.sha)
            .chain(self.git_tags.iter().map(|t| &t.sha))
            .chain(self.pipelines.iter().map(|p| &p.sha))
            .chain(self.merge_requests.iter().map(|m| &m.sha))
            .chain(deployments.iter().map(|d| &d.sha));
        for sha in shas {
            if !is_sha(sha) {
                return fail(format!("{sha:?} is not a 40-hex commit SHA"));
            }
        }
        if let Some(d) = deployments.iter().find(|d| {
            !self
                .pipelines
                .iter()
                .any(|p| p.sha == d.sha && p.reference == d.reference)
        }) {
            return fail(format!(
                "deployment {} ran in no pipeline of {} at {}",
                d.id, d.reference, d.sha
            ));
        }
        let users = self
            .merge_requests
            .iter()
            .map(|m| &m.author)
            .chain(deployments.iter().map(|d| &d.user));
        for user in users {
            if !usernames.contains(user.as_str()) {
                return fail(format!("unknown user {user}"));
            }
        }
        Ok(())
    }
}
