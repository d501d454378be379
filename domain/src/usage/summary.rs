//! A repository's verdicts as the pages and the API carry them.
//!
//! [`assess`] answers one [`TagUsage`] per tag. A repository may hold 10,000 tags of which
//! a handful are in use or dead, so a [`RepositoryUsage`] keeps only the tags with a
//! verdict (by name), the counts of each verdict, and how much of each list of the context
//! GitLab gave ([`Coverages`]): what a page needs to say both "in use because …" and how
//! far to trust an absence. A page carries the verdicts of its own rows only
//! ([`RepositoryUsage::only`]) with the repository's counts. [`UsageState`] says whether
//! the verdicts are known yet, and [`UsageFilter`] is the tag list's `?in_use=1` /
//! `?stale=1`.

use super::{assess, Context, Coverage, TagName, TagUsage, Verdict};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

/// How much of each list of the context GitLab gave.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Coverages {
    pub deployments: Coverage,
    pub pipelines: Coverage,
    pub merge_requests: Coverage,
    pub branches: Coverage,
    pub git_tags: Coverage,
}

impl Coverages {
    pub fn of(context: &Context) -> Self {
        Coverages {
            deployments: context.deployments.coverage,
            pipelines: context.pipelines.coverage,
            merge_requests: context.merge_requests.coverage,
            branches: context.branches.coverage,
            git_tags: context.git_tags.coverage,
        }
    }

    fn named(&self) -> [(&'static str, Coverage); 5] {
        [
            ("deployments", self.deployments),
            ("pipelines", self.pipelines),
            ("merge requests", self.merge_requests),
            ("branches", self.branches),
            ("git tags", self.git_tags),
        ]
    }

    /// Nothing could be read: the user's role cannot read the project's code and CI (a
    /// Guest of a private project), or GitLab failed every request.
    pub fn nothing_read(&self) -> bool {
        self.named().iter().all(|(_, c)| *c == Coverage::Unreadable)
    }

    /// The lists GitLab did not give completely, in words ("branches (in part)").
    pub fn incomplete(&self) -> Vec<String> {
        self.named()
            .iter()
            .filter_map(|(name, coverage)| match coverage {
                Coverage::Complete => None,
                Coverage::Partial => Some(format!("{name} (in part)")),
                Coverage::Unreadable => Some(format!("{name} (not at all)")),
            })
            .collect()
    }
}

/// What the context says about a repository's tags.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RepositoryUsage {
    /// The tags in use or dead, by name, with their reasons (tags with an unknown verdict
    /// are left out). On a page: that page's tags only.
    pub tags: BTreeMap<String, TagUsage>,
    /// Tags of the whole repository in use.
    pub in_use: u64,
    /// Tags of the whole repository that are dead.
    pub dead: u64,
    /// Tags the context says nothing about.
    pub unknown: u64,
    pub coverage: Coverages,
    /// Pipelines counted when updated at or after this time (unix seconds).
    pub pipelines_since: i64,
}

impl RepositoryUsage {
    /// Assesses `tags` (the whole repository) against `context`.
    pub fn of(tags: &[TagName<'_>], context: &Context) -> Self {
        let mut usage = RepositoryUsage {
            coverage: Coverages::of(context),
            pipelines_since: context.pipelines_since,
            ..RepositoryUsage::default()
        };
        for (tag, assessed) in tags.iter().zip(assess(tags, context)) {
            match assessed.verdict {
                Verdict::InUse => usage.in_use += 1,
                Verdict::Dead => usage.dead += 1,
                Verdict::Unknown => {
                    usage.unknown += 1;
                    continue;
                }
            }
            usage.tags.insert(tag.name.to_string(), assessed);
        }
        usage
    }

    /// The verdict of the tag `name`.
    pub fn verdict(&self, name: &str) -> Verdict {
        self.tags.get(name).map_or(Verdict::Unknown, |u| u.verdict)
    }

    /// The names of the tags with `verdict` (in use or dead; unknown tags are not kept).
    pub fn names(&self, verdict: Verdict) -> HashSet<String> {
        self.tags
            .iter()
            .filter(|(_, u)| u.verdict == verdict)
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// The same usage with only the verdicts of `names` (a page's tags); the counts and
    /// coverage stay the repository's.
    pub fn only<'a>(&self, names: impl IntoIterator<Item = &'a str>) -> Self {
        RepositoryUsage {
            tags: names
                .into_iter()
                .filter_map(|n| Some((n.to_string(), self.tags.get(n)?.clone())))
                .collect(),
            in_use: self.in_use,
            dead: self.dead,
            unknown: self.unknown,
            coverage: self.coverage,
            pipelines_since: self.pipelines_since,
        }
    }
}

/// The tag list's usage filter: `?in_use=1` or `?stale=1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UsageFilter {
    /// Tags GitLab says are in use.
    InUse,
    /// Dead tags: their branch or merge request is gone.
    Stale,
}

impl UsageFilter {
    /// The query parameter that turns this filter on.
    pub fn param(self) -> &'static str {
        match self {
            UsageFilter::InUse => "in_use",
            UsageFilter::Stale => "stale",
        }
    }

    /// The verdict the filter keeps.
    pub fn verdict(self) -> Verdict {
        match self {
            UsageFilter::InUse => Verdict::InUse,
            UsageFilter::Stale => Verdict::Dead,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            UsageFilter::InUse => "In use",
            UsageFilter::Stale => "Dead",
        }
    }
}

/// Whether a page's verdicts are known.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
// Read through `wire::UsageStateWire`: the same JSON, a fraction of the WebAssembly.
#[serde(
    tag = "state",
    rename_all = "snake_case",
    try_from = "super::wire::UsageStateWire"
)]
pub enum UsageState {
    /// Not read: this dashboard is configured not to read GitLab's CI context.
    #[default]
    NotRead,
    /// GitLab is still being read; the page asks again.
    Reading,
    /// The verdicts (of the page's tags) and the repository's counts.
    Known { usage: RepositoryUsage },
    /// GitLab could not be read; nothing is marked.
    Failed { message: String },
}

impl UsageState {
    /// The known usage, if any.
    pub fn known(&self) -> Option<&RepositoryUsage> {
        match self {
            UsageState::Known { usage } => Some(usage),
            _ => None,
        }
    }
}
