//! A project's CI context from GitLab, read on the user's behalf for [`domain::usage`]:
//! which images run where, and which refs are gone.
//!
//! One reading is at most `pages` requests per list (a [`ContextBudget`]), the lists read at
//! the same time (each list's pages one after the other):
//! - available environments (`/environments?states=available`), then successful deployments
//!   newest first (`/deployments?status=success&order_by=finished_at&sort=desc`), keeping the
//!   newest per available environment: what each environment runs now;
//! - pipelines updated within the window (`/pipelines?updated_after=`);
//! - merge requests, recently updated first, of every state (open ones are in use, merged
//!   and closed ones tell which branches went away);
//! - branches and git tags.
//!
//! Each list's [`Coverage`] says how much was read: `Complete` when GitLab had no next page,
//! `Partial` when the budget stopped the reading, `Unreadable` when GitLab refused it (a
//! Guest of a private project gets 403) or failed. The matching never concludes that a ref
//! is gone from a list it did not read to the end. An expired or revoked token is the one
//! error that stops the whole reading: the user has to sign in again.

use domain::usage::{
    Branch, Context, Coverage, Deployment, GitTag, MergeRequest, MergeRequestState, Part, Pipeline,
};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::collections::BTreeMap;

use super::client::header_number;
use super::{GitLabClient, GitLabError};

/// How much one reading of a project's context may ask GitLab for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ContextBudget {
    /// Pages per list.
    pub pages: u32,
    /// Items per page (GitLab allows 1 to 100).
    pub per_page: u32,
    /// Pipelines count when updated within this many seconds.
    pub window_seconds: i64,
}

impl Default for ContextBudget {
    /// Five pages of 100 (500 items) per list, pipelines of the last 14 days.
    fn default() -> Self {
        ContextBudget {
            pages: 5,
            per_page: PER_PAGE,
            window_seconds: 14 * 86_400,
        }
    }
}

/// GitLab's largest page.
pub const PER_PAGE: u32 = 100;

#[derive(Deserialize)]
struct WireCommit {
    id: String,
}

#[derive(Deserialize)]
struct WireBranch {
    name: String,
    commit: WireCommit,
}

#[derive(Deserialize)]
struct WireGitTag {
    name: String,
    /// The commit (`target` is the tag object's SHA for an annotated tag).
    commit: WireCommit,
}

#[derive(Deserialize)]
struct WirePipeline {
    id: u64,
    sha: String,
    #[serde(rename = "ref")]
    reference: String,
    updated_at: String,
}

#[derive(Deserialize)]
struct WireMergeRequest {
    iid: u64,
    source_branch: String,
    sha: Option<String>,
    state: String,
}

#[derive(Deserialize)]
struct WireEnvironment {
    name: String,
}

#[derive(Deserialize)]
struct WireDeploymentEnvironment {
    name: String,
}

#[derive(Deserialize)]
struct WireDeployable {
    finished_at: Option<String>,
}

#[derive(Deserialize)]
struct WireDeployment {
    sha: String,
    #[serde(rename = "ref")]
    reference: String,
    environment: WireDeploymentEnvironment,
    deployable: Option<WireDeployable>,
}

/// A list read page by page within the budget.
struct Read<T> {
    items: Vec<T>,
    coverage: Coverage,
}

impl GitLabClient {
    /// Reads up to `pages` pages of `path` (which has its own query, without paging).
    async fn read_list<T: DeserializeOwned>(
        &self,
        kind: &'static str,
        token: &str,
        path: &str,
        budget: ContextBudget,
    ) -> Result<Read<T>, GitLabError> {
        let mut items = Vec::new();
        let per_page = budget.per_page.clamp(1, PER_PAGE);
        for page in 1..=budget.pages.max(1) {
            let separator = if path.contains('?') { '&' } else { '?' };
            let query = format!("{path}{separator}page={page}&per_page={per_page}");
            let answer = self.get_json::<Vec<T>>(kind, token, &query).await;
            let (batch, headers) = match answer {
                Ok(answer) => answer,
                Err(error @ (GitLabError::TokenExpired | GitLabError::Unauthorized)) => {
                    return Err(error)
                }
                // Refused or failed: this list says nothing (what was read stays partial).
                Err(_) if items.is_empty() => {
                    return Ok(Read {
                        items,
                        coverage: Coverage::Unreadable,
                    })
                }
                Err(_) => {
                    return Ok(Read {
                        items,
                        coverage: Coverage::Partial,
                    })
                }
            };
            items.extend(batch);
            if header_number::<u32>(&headers, "x-next-page").is_none() {
                return Ok(Read {
                    items,
                    coverage: Coverage::Complete,
                });
            }
        }
        Ok(Read {
            items,
            coverage: Coverage::Partial,
        })
    }

    /// The CI context of project `project_id` as the token's user may read it (module docs).
    pub async fn ci_context(
        &self,
        token: &str,
        project_id: u64,
        now: i64,
        budget: ContextBudget,
    ) -> Result<Context, GitLabError> {
        let base = format!("/api/v4/projects/{project_id}");
        let pages = budget;
        let since = now - budget.window_seconds;
        let since_text = time::OffsetDateTime::from_unix_timestamp(since)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default();

        // The lists are independent (deployments follow their environments): read at once.
        let deployments = async {
            let environments: Read<WireEnvironment> = self
                .read_list(
                    "environments",
                    token,
                    &format!("{base}/environments?states=available"),
                    pages,
                )
                .await?;
            let deployments = if environments.coverage == Coverage::Unreadable {
                Part::default()
            } else {
                let read: Read<WireDeployment> = self
                    .read_list(
                        "deployments",
                        token,
                        &format!(
                            "{base}/deployments?status=success&order_by=finished_at&sort=desc"
                        ),
                        pages,
                    )
                    .await?;
                let coverage = worse(read.coverage, environments.coverage);
                let mut newest: BTreeMap<String, Deployment> = BTreeMap::new();
                for d in read.items {
                    let available = environments
                        .items
                        .iter()
                        .any(|e| e.name == d.environment.name);
                    if available && !newest.contains_key(&d.environment.name) {
                        let finished_at = d
                            .deployable
                            .and_then(|j| j.finished_at)
                            .and_then(|t| domain::format::parse_timestamp(&t));
                        newest.insert(
                            d.environment.name.clone(),
                            Deployment {
                                environment: d.environment.name,
                                sha: d.sha,
                                reference: d.reference,
                                finished_at,
                            },
                        );
                    }
                }
                Part {
                    items: newest.into_values().collect(),
                    coverage,
                }
            };
            Ok::<_, GitLabError>(deployments)
        };
        let pipelines = async {
            let pipelines: Read<WirePipeline> = self
                .read_list(
                    "pipelines",
                    token,
                    &format!("{base}/pipelines?updated_after={}", encode(&since_text)),
                    pages,
                )
                .await?;
            let pipelines = Part {
                items: pipelines
                    .items
                    .into_iter()
                    .filter_map(|p| {
                        Some(Pipeline {
                            id: p.id,
                            sha: p.sha,
                            reference: p.reference,
                            updated_at: domain::format::parse_timestamp(&p.updated_at)?,
                        })
                    })
                    .collect(),
                coverage: pipelines.coverage,
            };
            Ok::<_, GitLabError>(pipelines)
        };
        let merge_requests = async {
            let merge_requests: Read<WireMergeRequest> = self
                .read_list(
                    "merge_requests",
                    token,
                    &format!("{base}/merge_requests?state=all&order_by=updated_at&sort=desc"),
                    pages,
                )
                .await?;
            let merge_requests = Part {
                items: merge_requests
                    .items
                    .into_iter()
                    .map(|m| MergeRequest {
                        iid: m.iid,
                        source_branch: m.source_branch,
                        sha: m.sha,
                        state: match m.state.as_str() {
                            "merged" => MergeRequestState::Merged,
                            "closed" => MergeRequestState::Closed,
                            // `opened`, and `locked` (open while GitLab merges it).
                            _ => MergeRequestState::Opened,
                        },
                    })
                    .collect(),
                coverage: merge_requests.coverage,
            };
            Ok::<_, GitLabError>(merge_requests)
        };
        let (branches_url, tags_url) = (
            format!("{base}/repository/branches"),
            format!("{base}/repository/tags"),
        );
        let branches = self.read_list::<WireBranch>("branches", token, &branches_url, pages);
        let git_tags = self.read_list::<WireGitTag>("git_tags", token, &tags_url, pages);
        let (deployments, pipelines, merge_requests, branches, git_tags) =
            futures::try_join!(deployments, pipelines, merge_requests, branches, git_tags)?;
        Ok(Context {
            deployments,
            pipelines,
            merge_requests,
            branches: Part {
                items: branches
                    .items
                    .into_iter()
                    .map(|b| Branch {
                        name: b.name,
                        sha: b.commit.id,
                    })
                    .collect(),
                coverage: branches.coverage,
            },
            git_tags: Part {
                items: git_tags
                    .items
                    .into_iter()
                    .map(|t| GitTag {
                        name: t.name,
                        sha: t.commit.id,
                    })
                    .collect(),
                coverage: git_tags.coverage,
            },
            pipelines_since: since,
        })
    }
}

/// The lesser of two coverages (a list built from two readings is as good as the worse).
fn worse(a: Coverage, b: Coverage) -> Coverage {
    match (a, b) {
        (Coverage::Unreadable, _) | (_, Coverage::Unreadable) => Coverage::Unreadable,
        (Coverage::Partial, _) | (_, Coverage::Partial) => Coverage::Partial,
        _ => Coverage::Complete,
    }
}

/// A query parameter value, percent-encoded.
fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// GitLab's documented example answers (fixtures/gitlab-reference, sources in its README).
    macro_rules! example {
        ($file:literal) => {
            include_str!(concat!(
                "../../../fixtures/gitlab-reference/examples/",
                $file
            ))
        };
    }

    #[test]
    fn gitlabs_examples_parse_into_what_the_matching_needs() {
        let branches: Vec<WireBranch> =
            serde_json::from_str(example!("rest_branches_list.json")).unwrap();
        assert_eq!(branches[0].name, "main");
        assert_eq!(branches[0].commit.id.len(), 40);
        let tags: Vec<WireGitTag> =
            serde_json::from_str(example!("rest_git_tags_list.json")).unwrap();
        assert_eq!(tags[0].name, "v1.0.0");
        let pipelines: Vec<WirePipeline> =
            serde_json::from_str(example!("rest_pipelines_list.json")).unwrap();
        assert_eq!(
            (pipelines[0].id, pipelines[0].reference.as_str()),
            (47, "new-pipeline")
        );
        assert!(domain::format::parse_timestamp(&pipelines[0].updated_at).is_some());
        let merge_requests: Vec<WireMergeRequest> =
            serde_json::from_str(example!("rest_project_merge_requests_list.json")).unwrap();
        assert_eq!(merge_requests[0].state, "merged");
        assert_eq!(merge_requests[0].source_branch, "test1");
        let environments: Vec<WireEnvironment> =
            serde_json::from_str(example!("rest_environments_list.json")).unwrap();
        assert_eq!(environments[0].name, "review/fix-foo");
        let deployments: Vec<WireDeployment> =
            serde_json::from_str(example!("rest_deployments_list.json")).unwrap();
        assert_eq!(deployments[0].sha.len(), 40);
        assert!(deployments.iter().all(|d| !d.environment.name.is_empty()));
        // The environment's details carry `last_deployment`; the reading does not need them
        // (it lists deployments), but they parse as an environment.
        let detail: WireEnvironment =
            serde_json::from_str(example!("rest_environment_details.json")).unwrap();
        assert_eq!(detail.name, "review/fix-foo");
    }

    #[test]
    fn a_list_built_from_two_readings_is_as_good_as_the_worse() {
        use Coverage::*;
        assert_eq!(worse(Complete, Complete), Complete);
        assert_eq!(worse(Complete, Partial), Partial);
        assert_eq!(worse(Partial, Unreadable), Unreadable);
        assert_eq!(worse(Unreadable, Complete), Unreadable);
    }
}
