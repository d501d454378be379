//! Which tags GitLab says are in use, and which are dead: tag names matched against a
//! project's CI context the way CI names images.
//!
//! The registry knows only tags. GitLab knows which commit each environment runs, which
//! pipelines ran lately, which merge requests are open, which branches and git tags exist.
//! CI jobs name images after that: `$CI_COMMIT_SHA`, `$CI_COMMIT_SHORT_SHA`,
//! `$CI_COMMIT_REF_SLUG`, `$CI_COMMIT_TAG`, often combined (`main-3f2a9c1d`). [`assess`]
//! reads a tag's name back into those parts and says, with the evidence, what it finds.
//!
//! The algorithm, per tag:
//! 1. **Commit tokens.** The name is cut at `.`, `_` and `-`. A piece of 7 to 40 hex
//!    digits (or `g` and 7 to 40 hex digits, as `git describe` writes it) is a commit token.
//!    It names every commit of the context whose SHA starts with it (case-insensitive).
//! 2. **Ref names.** The whole name is compared with each branch, merge request source
//!    branch, deployed ref, pipeline ref and git tag as CI names images after it: the ref as
//!    it is (`CI_COMMIT_REF_NAME`, e.g. `v2.3.1`), its `CI_COMMIT_REF_SLUG` ([`ref_slug`],
//!    GitLab's rule), and a version without its leading `v`.
//! 3. **Merge request numbers.** A name `mr-<iid>` (`CI_MERGE_REQUEST_IID`) names that
//!    merge request.
//! 4. **In use** when a commit token, the name or the number matches: the last successful
//!    deployment of an environment (its SHA or its ref), an open merge request (its head,
//!    source branch or number), a pipeline updated within the window (its SHA or ref), the
//!    head commit or the name of an existing branch, or a git tag (a release). Each match is
//!    one [`Reason`].
//! 5. **Same image.** A tag without a reason of its own that shares its digest with a tag
//!    in use is in use too ([`Reason::SameImage`]): pulling either gets the same image.
//! 6. **Dead**, only for tags not in use, and only from evidence that a ref is gone, which
//!    needs the complete branch (and git tag) list: the name is the slug of a merged or
//!    closed merge request's source branch, that slug followed by `-` and a commit token,
//!    or the merge request's `mr-<iid>`, and no existing branch has that slug; or a commit
//!    token names a commit that the context knows only from pipelines and merge requests
//!    whose refs no longer exist.
//! 7. Everything else is [`Verdict::Unknown`]: the context says nothing about it (an
//!    older commit, a name CI did not make). Unknown is never treated as dead.
//!
//! Matching never invents a reason: every [`Reason`] names the item of the context it
//! came from, and [`Reason::holds`] checks it again from the tag and the context alone
//! (property-tested).

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::format::relative_time;

mod summary;
#[cfg(test)]
mod tests;
mod wire;

pub use summary::*;

/// Shortest hex run taken for a commit SHA (`git` abbreviates to at least 7).
pub const MIN_SHA_LEN: usize = 7;
/// A full SHA-1 commit id.
pub const MAX_SHA_LEN: usize = 40;
/// `CI_COMMIT_REF_SLUG` is at most this many characters.
pub const SLUG_LEN: usize = 63;

/// GitLab's `CI_COMMIT_REF_SLUG` of a ref: lower case, every character other than `0-9a-z`
/// replaced by `-`, cut to 63 characters, then no leading or trailing `-`.
pub fn ref_slug(reference: &str) -> String {
    let replaced: String = reference
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                '-'
            }
        })
        .take(SLUG_LEN)
        .collect();
    replaced.trim_matches('-').to_string()
}

/// The commit tokens of a tag name (step 1), lower case, each at most once.
pub fn commit_tokens(tag: &str) -> Vec<String> {
    let mut tokens: Vec<String> = Vec::new();
    for piece in tag.split(['.', '_', '-']) {
        let hex = match piece.strip_prefix(['g', 'G']) {
            Some(rest) if is_sha_like(rest) => rest,
            _ if is_sha_like(piece) => piece,
            _ => continue,
        };
        let token = hex.to_ascii_lowercase();
        if !tokens.contains(&token) {
            tokens.push(token);
        }
    }
    tokens
}

fn is_sha_like(piece: &str) -> bool {
    (MIN_SHA_LEN..=MAX_SHA_LEN).contains(&piece.len())
        && piece.bytes().all(|b| b.is_ascii_hexdigit())
}

/// How much of one kind of context GitLab gave.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Coverage {
    /// Every item (all pages were read).
    Complete,
    /// Some items: a budget or a page limit stopped the reading. Enough to say "in use",
    /// never enough to say something is gone.
    Partial,
    /// None: the user's role cannot read it, or GitLab failed.
    #[default]
    Unreadable,
}

/// One kind of context and how much of it was read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part<T> {
    pub items: Vec<T>,
    pub coverage: Coverage,
}

impl<T> Default for Part<T> {
    fn default() -> Self {
        Part {
            items: Vec::new(),
            coverage: Coverage::Unreadable,
        }
    }
}

impl<T> Part<T> {
    /// Everything there is.
    pub fn complete(items: Vec<T>) -> Self {
        Part {
            items,
            coverage: Coverage::Complete,
        }
    }
}

/// An environment's last successful deployment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    pub environment: String,
    pub sha: String,
    #[serde(rename = "ref")]
    pub reference: String,
    /// Unix seconds.
    pub finished_at: Option<i64>,
}

/// A pipeline of the window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pipeline {
    pub id: u64,
    pub sha: String,
    #[serde(rename = "ref")]
    pub reference: String,
    /// Unix seconds.
    pub updated_at: i64,
}

/// A merge request's state as GitLab names it (`locked` counts as open).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MergeRequestState {
    Opened,
    Merged,
    Closed,
}

/// A merge request: where it comes from and its head.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeRequest {
    pub iid: u64,
    pub source_branch: String,
    /// Head commit; GitLab omits it for some closed merge requests.
    pub sha: Option<String>,
    pub state: MergeRequestState,
}

/// A branch and its head commit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Branch {
    pub name: String,
    pub sha: String,
}

/// A git tag and the commit it points at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitTag {
    pub name: String,
    pub sha: String,
}

/// What GitLab says about a project's code, read for one assessment.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Context {
    pub deployments: Part<Deployment>,
    pub pipelines: Part<Pipeline>,
    pub merge_requests: Part<MergeRequest>,
    pub branches: Part<Branch>,
    pub git_tags: Part<GitTag>,
    /// Pipelines count when updated at or after this time (unix seconds).
    pub pipelines_since: i64,
}

/// How a name matched: by one of its commit tokens, as a whole, or as a merge request's
/// number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    /// A commit token is a prefix of the item's SHA.
    Commit,
    /// The name is the item's ref slug (or git tag name).
    Name,
    /// The name is `mr-<iid>` (`CI_MERGE_REQUEST_IID`) of a merge request.
    Iid,
}

/// The merge request number a name like `mr-482` carries (`mr-` + `CI_MERGE_REQUEST_IID`).
pub fn merge_request_iid(tag: &str) -> Option<u64> {
    let digits = tag.strip_prefix("mr-")?;
    if digits.is_empty() || digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Why a tag is in use or dead. Every reason names the context item it came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = UsageReason))]
// Read through `wire::ReasonWire`: the same JSON, a fraction of the WebAssembly.
#[serde(tag = "code", rename_all = "snake_case", try_from = "wire::ReasonWire")]
pub enum Reason {
    /// The last successful deployment of an environment.
    Deployed {
        environment: String,
        sha: String,
        #[serde(rename = "ref")]
        reference: String,
        finished_at: Option<i64>,
        by: MatchedBy,
    },
    /// The head of an open merge request.
    OpenMergeRequest {
        iid: u64,
        source_branch: String,
        sha: Option<String>,
        by: MatchedBy,
    },
    /// A pipeline of the window built it.
    RecentPipeline {
        id: u64,
        sha: String,
        #[serde(rename = "ref")]
        reference: String,
        updated_at: i64,
        by: MatchedBy,
    },
    /// The head commit, or the moving tag, of an existing branch.
    BranchHead {
        branch: String,
        sha: String,
        by: MatchedBy,
    },
    /// A git tag: a release.
    Release {
        git_tag: String,
        sha: String,
        by: MatchedBy,
    },
    /// The same image (digest) as a tag in use.
    SameImage { tag: String, digest: String },
    /// Built from a branch that no longer exists (dead).
    BranchGone {
        branch: String,
        /// The merge request the branch came from, if one is known.
        merge_request: Option<u64>,
        merge_request_state: Option<MergeRequestState>,
        by: MatchedBy,
    },
}

impl Reason {
    /// Whether this reason makes a tag dead rather than in use.
    pub fn is_dead(&self) -> bool {
        matches!(self, Reason::BranchGone { .. })
    }

    /// The reason in words, times relative to `now`.
    pub fn sentence(&self, now: i64) -> String {
        let short = |sha: &str| sha.chars().take(8).collect::<String>();
        match self {
            Reason::Deployed {
                environment,
                sha,
                reference,
                finished_at,
                by,
            } => {
                let when = finished_at
                    .map(|t| format!(" {}", relative_time(t, now)))
                    .unwrap_or_default();
                match by {
                    MatchedBy::Commit => {
                        format!("commit {} deployed to {environment}{when}", short(sha))
                    }
                    MatchedBy::Name | MatchedBy::Iid => format!(
                        "{reference}, deployed to {environment}{when} (commit {})",
                        short(sha)
                    ),
                }
            }
            Reason::OpenMergeRequest {
                iid,
                source_branch,
                by,
                ..
            } => match by {
                MatchedBy::Commit => {
                    format!("head commit of open merge request !{iid} ({source_branch})")
                }
                MatchedBy::Name => {
                    format!("branch {source_branch} of open merge request !{iid}")
                }
                MatchedBy::Iid => {
                    format!("the image of open merge request !{iid} ({source_branch})")
                }
            },
            Reason::RecentPipeline {
                id,
                sha,
                reference,
                updated_at,
                by,
            } => {
                let when = relative_time(*updated_at, now);
                match by {
                    MatchedBy::Commit => format!(
                        "commit {} built by pipeline #{id} on {reference} {when}",
                        short(sha)
                    ),
                    MatchedBy::Name | MatchedBy::Iid => {
                        format!("{reference}, built by pipeline #{id} {when}")
                    }
                }
            }
            Reason::BranchHead { branch, sha, by } => match by {
                MatchedBy::Commit => format!("head commit {} of branch {branch}", short(sha)),
                MatchedBy::Name | MatchedBy::Iid => format!("the image of branch {branch}"),
            },
            Reason::Release { git_tag, sha, by } => match by {
                MatchedBy::Commit => format!("commit {} of release {git_tag}", short(sha)),
                MatchedBy::Name | MatchedBy::Iid => format!("release {git_tag}"),
            },
            Reason::SameImage { tag, .. } => format!("the same image as {tag}, which is in use"),
            Reason::BranchGone {
                branch,
                merge_request,
                merge_request_state,
                ..
            } => match (merge_request, merge_request_state) {
                (Some(iid), Some(state)) => format!(
                    "built from branch {branch} of merge request !{iid} ({}), which no longer \
                     exists",
                    match state {
                        MergeRequestState::Merged => "merged",
                        MergeRequestState::Closed => "closed",
                        MergeRequestState::Opened => "open",
                    }
                ),
                _ => format!("built from branch {branch}, which no longer exists"),
            },
        }
    }

    /// Checks this reason again from the tag and the context alone: the item it names is
    /// in the context, and the tag's name matches it the way the reason says.
    pub fn holds(&self, tag: &TagName<'_>, tags: &[TagName<'_>], context: &Context) -> bool {
        let tokens = commit_tokens(tag.name);
        let commit_matches = |sha: &str| tokens.iter().any(|t| sha_starts_with(sha, t));
        let matches = |by: &MatchedBy, sha: &str, names: &[String]| match by {
            MatchedBy::Commit => commit_matches(sha),
            MatchedBy::Name => names.iter().any(|n| n == tag.name),
            // Only merge requests match by their number.
            MatchedBy::Iid => false,
        };
        match self {
            Reason::Deployed {
                environment,
                sha,
                reference,
                by,
                ..
            } => context.deployments.items.iter().any(|d| {
                &d.environment == environment
                    && &d.sha == sha
                    && &d.reference == reference
                    && matches(by, sha, &ref_names(reference))
            }),
            Reason::OpenMergeRequest {
                iid,
                source_branch,
                sha,
                by,
            } => context.merge_requests.items.iter().any(|m| {
                m.iid == *iid
                    && m.state == MergeRequestState::Opened
                    && &m.source_branch == source_branch
                    && &m.sha == sha
                    && match by {
                        MatchedBy::Commit => sha.as_deref().is_some_and(commit_matches),
                        MatchedBy::Name => ref_names(source_branch).iter().any(|n| n == tag.name),
                        MatchedBy::Iid => merge_request_iid(tag.name) == Some(*iid),
                    }
            }),
            Reason::RecentPipeline {
                id,
                sha,
                reference,
                by,
                ..
            } => context.pipelines.items.iter().any(|p| {
                p.id == *id
                    && &p.sha == sha
                    && &p.reference == reference
                    && p.updated_at >= context.pipelines_since
                    && matches(by, sha, &ref_names(reference))
            }),
            Reason::BranchHead { branch, sha, by } => context.branches.items.iter().any(|b| {
                &b.name == branch && &b.sha == sha && matches(by, sha, &ref_names(branch))
            }),
            Reason::Release { git_tag, sha, by } => context.git_tags.items.iter().any(|g| {
                &g.name == git_tag && &g.sha == sha && matches(by, sha, &ref_names(git_tag))
            }),
            Reason::SameImage { tag: other, digest } => {
                tag.digest == Some(digest.as_str())
                    && tags.iter().any(|t| {
                        t.name == other
                            && t.digest == Some(digest.as_str())
                            && !direct_reasons(t, &Index::new(context), context).is_empty()
                    })
            }
            Reason::BranchGone {
                branch,
                merge_request,
                by,
                ..
            } => {
                let slug = ref_slug(branch);
                context.branches.coverage == Coverage::Complete
                    && !context
                        .branches
                        .items
                        .iter()
                        .any(|b| ref_slug(&b.name) == slug)
                    && match by {
                        MatchedBy::Name | MatchedBy::Iid => {
                            context.merge_requests.items.iter().any(|m| {
                                Some(m.iid) == *merge_request
                                    && m.state != MergeRequestState::Opened
                                    && &m.source_branch == branch
                            }) && if *by == MatchedBy::Iid {
                                merge_request_iid(tag.name) == *merge_request
                            } else {
                                name_is_slug_or_slug_and_commit(tag.name, &slug)
                            }
                        }
                        MatchedBy::Commit => context
                            .pipelines
                            .items
                            .iter()
                            .filter_map(|p| Some((&p.sha, pipeline_branch(&p.reference, context)?)))
                            .chain(
                                context.merge_requests.items.iter().filter_map(|m| {
                                    Some((m.sha.as_ref()?, m.source_branch.as_str()))
                                }),
                            )
                            .any(|(sha, r)| r == branch.as_str() && commit_matches(sha)),
                    }
            }
        }
    }
}

fn sha_starts_with(sha: &str, token: &str) -> bool {
    sha.len() >= token.len() && sha[..token.len()].eq_ignore_ascii_case(token)
}

/// The tag names CI gives an image of a ref: `CI_COMMIT_REF_NAME` as it is (a git tag such
/// as `v2.3.1`; a branch with a `/` cannot be an image tag, so it never matches),
/// `CI_COMMIT_REF_SLUG`, and a version without its `v`.
fn ref_names(git_tag: &str) -> Vec<String> {
    let mut names = vec![git_tag.to_string(), ref_slug(git_tag)];
    if let Some(bare) = git_tag
        .strip_prefix('v')
        .filter(|r| r.starts_with(|c: char| c.is_ascii_digit()))
    {
        names.push(bare.to_string());
    }
    names
}

/// The branch a pipeline ran for: its ref, or for a merge request pipeline
/// (`refs/merge-requests/<iid>/head`, `/merge`, `/train`) the merge request's source branch.
/// `None` for a merge request the context does not have: then nothing can be said.
fn pipeline_branch<'c>(reference: &'c str, context: &'c Context) -> Option<&'c str> {
    let Some(rest) = reference.strip_prefix("refs/merge-requests/") else {
        return Some(reference);
    };
    let iid: u64 = rest.split('/').next()?.parse().ok()?;
    context
        .merge_requests
        .items
        .iter()
        .find(|m| m.iid == iid)
        .map(|m| m.source_branch.as_str())
}

/// `slug` itself, or `slug-<commit token>`.
fn name_is_slug_or_slug_and_commit(name: &str, slug: &str) -> bool {
    if slug.is_empty() {
        return false;
    }
    name == slug
        || name
            .strip_prefix(slug)
            .and_then(|rest| rest.strip_prefix('-'))
            .is_some_and(|rest| {
                is_sha_like(
                    rest.strip_prefix(['g', 'G'])
                        .filter(|h| is_sha_like(h))
                        .unwrap_or(rest),
                )
            })
}

/// A tag as the assessment needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TagName<'a> {
    pub name: &'a str,
    pub digest: Option<&'a str>,
}

/// What the context says about one tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    InUse,
    Dead,
    Unknown,
}

/// One tag's verdict and its reasons (in use: why; dead: why; unknown: none).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TagUsage {
    pub verdict: Verdict,
    pub reasons: Vec<Reason>,
}

/// The context, indexed once per assessment: commits by SHA (sorted, for prefix lookups)
/// and refs by slug.
struct Index<'c> {
    /// Lower-case SHA → the deployments, pipelines, … with that commit.
    commits: BTreeMap<String, Vec<Item<'c>>>,
    /// Tag name → the items whose ref slug (or release name) it is.
    names: HashMap<String, Vec<Item<'c>>>,
    /// Slugs of existing branches (only meaningful with complete coverage).
    branch_slugs: BTreeSet<String>,
    /// Names of existing git tags (only meaningful with complete coverage).
    git_tag_names: BTreeSet<&'c str>,
}

#[derive(Clone, Copy)]
enum Item<'c> {
    Deployment(&'c Deployment),
    Pipeline(&'c Pipeline),
    MergeRequest(&'c MergeRequest),
    Branch(&'c Branch),
    GitTag(&'c GitTag),
}

impl<'c> Index<'c> {
    fn new(context: &'c Context) -> Index<'c> {
        let mut commits: BTreeMap<String, Vec<Item<'c>>> = BTreeMap::new();
        let mut names: HashMap<String, Vec<Item<'c>>> = HashMap::new();
        let mut add = |sha: Option<&str>, names_of: Vec<String>, item: Item<'c>| {
            if let Some(sha) = sha {
                commits
                    .entry(sha.to_ascii_lowercase())
                    .or_default()
                    .push(item);
            }
            for name in names_of.into_iter().filter(|n| !n.is_empty()) {
                names.entry(name).or_default().push(item);
            }
        };
        for d in &context.deployments.items {
            add(Some(&d.sha), ref_names(&d.reference), Item::Deployment(d));
        }
        for p in &context.pipelines.items {
            add(Some(&p.sha), ref_names(&p.reference), Item::Pipeline(p));
        }
        for m in &context.merge_requests.items {
            add(
                m.sha.as_deref(),
                ref_names(&m.source_branch),
                Item::MergeRequest(m),
            );
        }
        for b in &context.branches.items {
            add(Some(&b.sha), ref_names(&b.name), Item::Branch(b));
        }
        for g in &context.git_tags.items {
            add(Some(&g.sha), ref_names(&g.name), Item::GitTag(g));
        }
        let branch_slugs = context
            .branches
            .items
            .iter()
            .map(|b| ref_slug(&b.name))
            .collect();
        let git_tag_names = context
            .git_tags
            .items
            .iter()
            .map(|g| g.name.as_str())
            .collect();
        Index {
            commits,
            names,
            branch_slugs,
            git_tag_names,
        }
    }

    /// The items whose commit starts with `token`.
    fn commits_with_prefix<'i>(&'i self, token: &'i str) -> impl Iterator<Item = Item<'c>> + 'i {
        self.commits
            .range::<str, _>((std::ops::Bound::Included(token), std::ops::Bound::Unbounded))
            .take_while(move |(sha, _)| sha.starts_with(token))
            .flat_map(|(_, items)| items.iter().copied())
    }
}

/// The in-use reasons a tag has by its own name (steps 1 to 4).
fn direct_reasons(tag: &TagName<'_>, index: &Index<'_>, context: &Context) -> Vec<Reason> {
    let mut reasons = Vec::new();
    let mut push = |reason: Reason| {
        if !reasons.contains(&reason) {
            reasons.push(reason);
        }
    };
    let tokens = commit_tokens(tag.name);
    let by_commit = tokens
        .iter()
        .flat_map(|t| index.commits_with_prefix(t))
        .map(|item| (item, MatchedBy::Commit));
    let by_name = index
        .names
        .get(tag.name)
        .into_iter()
        .flatten()
        .map(|item| (*item, MatchedBy::Name));
    let by_iid = merge_request_iid(tag.name)
        .into_iter()
        .flat_map(|iid| {
            context
                .merge_requests
                .items
                .iter()
                .filter(move |m| m.iid == iid)
        })
        .map(|m| (Item::MergeRequest(m), MatchedBy::Iid));
    for (item, by) in by_commit.chain(by_name).chain(by_iid).collect::<Vec<_>>() {
        if let Some(reason) = in_use_reason(item, by, context) {
            push(reason);
        }
    }
    reasons
}

fn in_use_reason(item: Item<'_>, by: MatchedBy, context: &Context) -> Option<Reason> {
    Some(match item {
        Item::Deployment(d) => Reason::Deployed {
            environment: d.environment.clone(),
            sha: d.sha.clone(),
            reference: d.reference.clone(),
            finished_at: d.finished_at,
            by,
        },
        Item::MergeRequest(m) if m.state == MergeRequestState::Opened => Reason::OpenMergeRequest {
            iid: m.iid,
            source_branch: m.source_branch.clone(),
            sha: m.sha.clone(),
            by,
        },
        Item::MergeRequest(_) => return None,
        Item::Pipeline(p) if p.updated_at >= context.pipelines_since => Reason::RecentPipeline {
            id: p.id,
            sha: p.sha.clone(),
            reference: p.reference.clone(),
            updated_at: p.updated_at,
            by,
        },
        Item::Pipeline(_) => return None,
        Item::Branch(b) => Reason::BranchHead {
            branch: b.name.clone(),
            sha: b.sha.clone(),
            by,
        },
        Item::GitTag(g) => Reason::Release {
            git_tag: g.name.clone(),
            sha: g.sha.clone(),
            by,
        },
    })
}

/// The dead reasons of a tag that is not in use (step 6).
fn dead_reasons(tag: &TagName<'_>, index: &Index<'_>, context: &Context) -> Vec<Reason> {
    if context.branches.coverage != Coverage::Complete {
        return Vec::new();
    }
    let gone = |branch: &str| !index.branch_slugs.contains(&ref_slug(branch));
    let mut reasons = Vec::new();
    // By name: the slug of a merged or closed merge request's branch, alone or with a
    // commit, or the merge request's `mr-<iid>`.
    for m in &context.merge_requests.items {
        let slug = ref_slug(&m.source_branch);
        let by = if name_is_slug_or_slug_and_commit(tag.name, &slug) {
            MatchedBy::Name
        } else if merge_request_iid(tag.name) == Some(m.iid) {
            MatchedBy::Iid
        } else {
            continue;
        };
        if m.state != MergeRequestState::Opened && gone(&m.source_branch) {
            let reason = Reason::BranchGone {
                branch: m.source_branch.clone(),
                merge_request: Some(m.iid),
                merge_request_state: Some(m.state),
                by,
            };
            if !reasons.contains(&reason) {
                reasons.push(reason);
            }
        }
    }
    // By commit: a commit known only from refs that are all gone.
    let git_tags_known = context.git_tags.coverage == Coverage::Complete;
    for token in commit_tokens(tag.name) {
        let items: Vec<Item<'_>> = index.commits_with_prefix(&token).collect();
        let refs: Option<Vec<&str>> = items
            .iter()
            .map(|item| match item {
                Item::Pipeline(p) => pipeline_branch(&p.reference, context),
                Item::MergeRequest(m) => Some(m.source_branch.as_str()),
                // A branch head, a release or a deployment: not gone.
                _ => None,
            })
            .collect();
        let Some(refs) = refs else { continue };
        if refs.is_empty()
            || !git_tags_known
            || refs
                .iter()
                .any(|r| !gone(r) || index.git_tag_names.contains(*r))
        {
            continue;
        }
        for branch in refs.into_iter().collect::<BTreeSet<_>>() {
            let reason = Reason::BranchGone {
                branch: branch.to_string(),
                merge_request: None,
                merge_request_state: None,
                by: MatchedBy::Commit,
            };
            if !reasons.contains(&reason) {
                reasons.push(reason);
            }
        }
    }
    reasons
}

/// Assesses every tag of a repository against a project's context (the module's
/// algorithm). Answers one [`TagUsage`] per tag, in the order given.
pub fn assess(tags: &[TagName<'_>], context: &Context) -> Vec<TagUsage> {
    let index = Index::new(context);
    let direct: Vec<Vec<Reason>> = tags
        .iter()
        .map(|t| direct_reasons(t, &index, context))
        .collect();
    // Step 5: the first tag in use per digest (in the given order) vouches for the others.
    let mut in_use_by_digest: HashMap<&str, &str> = HashMap::new();
    for (tag, reasons) in tags.iter().zip(&direct) {
        if let (Some(digest), false) = (tag.digest, reasons.is_empty()) {
            in_use_by_digest.entry(digest).or_insert(tag.name);
        }
    }
    tags.iter()
        .zip(direct)
        .map(|(tag, reasons)| {
            if !reasons.is_empty() {
                return TagUsage {
                    verdict: Verdict::InUse,
                    reasons,
                };
            }
            if let Some((digest, other)) = tag
                .digest
                .and_then(|d| Some((d, *in_use_by_digest.get(d)?)))
            {
                return TagUsage {
                    verdict: Verdict::InUse,
                    reasons: vec![Reason::SameImage {
                        tag: other.to_string(),
                        digest: digest.to_string(),
                    }],
                };
            }
            let dead = dead_reasons(tag, &index, context);
            TagUsage {
                verdict: if dead.is_empty() {
                    Verdict::Unknown
                } else {
                    Verdict::Dead
                },
                reasons: dead,
            }
        })
        .collect()
}
