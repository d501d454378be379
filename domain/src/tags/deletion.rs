//! Deleting tags: who may (role and tag protection rules), and the plan a confirmation
//! dialog shows first (refusals, tags that share the image and stay, `latest`).

use super::{first_names, RepositoryHeader, Tag};
use crate::notice::Notice;
use crate::AccessLevel;
use serde::{Deserialize, Serialize};
use std::fmt;

/// What the user would delete.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Deleting {
    Tags,
    Repository,
}

/// Why GitLab will refuse a deletion, as data. On the wire it travels as a [`Notice`]:
/// `{"code": "role_too_low", "deleting": "tags", "needed": "Developer", "yours": "Reporter",
/// "message": "Deleting tags needs the Developer role; yours is Reporter."}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Refusal {
    /// The viewer's role is below the one the deletion needs.
    RoleTooLow {
        deleting: Deleting,
        needed: AccessLevel,
        yours: AccessLevel,
    },
    /// A tag protection rule lets only `minimum` and above delete the tag.
    ProtectedTag { minimum: AccessLevel },
    /// GitLab is deleting the repository already.
    ScheduledForDeletion { deleting: Deleting },
    /// A repository protection rule keeps the viewer from deleting the repository.
    ProtectedRepository,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::RoleTooLow {
                deleting,
                needed,
                yours,
            } => write!(
                f,
                "Deleting {} needs the {} role; yours is {}.",
                match deleting {
                    Deleting::Tags => "tags",
                    Deleting::Repository => "a repository",
                },
                needed.label(),
                yours.label()
            ),
            Refusal::ProtectedTag { minimum } => write!(
                f,
                "A tag protection rule allows only {} and above to delete this tag.",
                minimum.label()
            ),
            Refusal::ScheduledForDeletion {
                deleting: Deleting::Tags,
            } => f.write_str("This repository is being deleted."),
            Refusal::ScheduledForDeletion {
                deleting: Deleting::Repository,
            } => f.write_str("This repository is already scheduled for deletion."),
            Refusal::ProtectedRepository => {
                f.write_str("A repository protection rule does not let you delete it.")
            }
        }
    }
}

/// `yours` is at least `needed`, or the refusal that says so.
fn needs(deleting: Deleting, needed: AccessLevel, yours: AccessLevel) -> Result<(), Refusal> {
    if yours < needed {
        Err(Refusal::RoleTooLow {
            deleting,
            needed,
            yours,
        })
    } else {
        Ok(())
    }
}

impl Tag {
    /// Whether a user with `access` may delete this tag (role and protection rule).
    pub fn deletable_by(&self, access: AccessLevel) -> Result<(), Refusal> {
        needs(Deleting::Tags, AccessLevel::Developer, access)?;
        match self
            .protection
            .as_ref()
            .and_then(|p| p.minimum_access_level_for_delete)
        {
            Some(minimum) if access < minimum => Err(Refusal::ProtectedTag { minimum }),
            _ => Ok(()),
        }
    }
}

impl RepositoryHeader {
    /// Why the viewer may not delete tags here, if they may not.
    pub fn tag_delete_refusal(&self) -> Option<Refusal> {
        if self.status.is_some() {
            return Some(Refusal::ScheduledForDeletion {
                deleting: Deleting::Tags,
            });
        }
        needs(Deleting::Tags, AccessLevel::Developer, self.access).err()
    }

    /// Why the viewer may not delete the repository, if they may not.
    pub fn repository_delete_refusal(&self) -> Option<Refusal> {
        if self.status.is_some() {
            return Some(Refusal::ScheduledForDeletion {
                deleting: Deleting::Repository,
            });
        }
        if let Err(refusal) = needs(Deleting::Repository, AccessLevel::Maintainer, self.access) {
            return Some(refusal);
        }
        (!self.can_delete_repository).then_some(Refusal::ProtectedRepository)
    }
}

/// What happened to one tag of a confirmed deletion.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeleteOutcome {
    pub name: String,
    pub deleted: bool,
    /// GitLab's reason when it refused.
    pub message: Option<String>,
}

/// Most tags one confirmed deletion may name.
pub const MAX_DELETE_BATCH: usize = 1_000;
/// Above this many tags the confirmation asks to type the count.
pub const TYPED_CONFIRMATION_ABOVE: usize = 20;
/// Staying tags named per deleted tag that shares their image (the rest are counted): a
/// plan for 1,000 tags of an image with 10,000 tags stays small.
pub const SHARED_NAMES_SHOWN: usize = 5;

/// One tag of a deletion the user is about to confirm, with what they should know.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlannedDeletion {
    pub name: String,
    /// Why GitLab will refuse it (protection rule, role), if it will.
    pub refusal: Option<Notice<Refusal>>,
    /// Tags that stay and point at the same image: deleting this tag leaves the image there.
    /// The first [`SHARED_NAMES_SHOWN`] in natural order; `shares_digest_more` counts the rest.
    pub shares_digest_with: Vec<String>,
    /// How many more staying tags share the image than `shares_digest_with` lists.
    #[serde(default)]
    pub shares_digest_more: u64,
    pub total_size: Option<u64>,
}

/// What a confirmation dialog shows before a deletion.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeletionPlan {
    pub tags: Vec<PlannedDeletion>,
    /// Selected names the index does not know (deleted meanwhile or not indexed yet).
    pub unknown: Vec<String>,
    /// `latest` is among the tags.
    pub includes_latest: bool,
    /// What GitLab says about these tags: the dialog warns about each one in use.
    #[serde(default)]
    pub usage: crate::usage::UsageState,
    /// When the plan was made (unix seconds; reasons say "2 days ago" from it).
    #[serde(default)]
    pub now: i64,
}

impl DeletionPlan {
    /// The planned tags GitLab says are in use, with why, in the plan's order.
    pub fn in_use(&self) -> Vec<(&str, &crate::usage::TagUsage)> {
        let Some(usage) = self.usage.known() else {
            return Vec::new();
        };
        self.tags
            .iter()
            .filter_map(|t| {
                let u = usage.tags.get(&t.name)?;
                (u.verdict == crate::usage::Verdict::InUse).then_some((t.name.as_str(), u))
            })
            .collect()
    }

    /// Tags GitLab is expected to delete.
    pub fn deletable(&self) -> usize {
        self.tags.iter().filter(|t| t.refusal.is_none()).count()
    }
}

/// Builds the plan for deleting `names` from a repository whose tags are `all`.
pub fn plan_deletion<'a>(
    all: impl Iterator<Item = &'a Tag> + Clone,
    names: &[String],
    access: AccessLevel,
) -> DeletionPlan {
    let selected: std::collections::HashSet<&str> = names.iter().map(String::as_str).collect();
    let mut by_digest: std::collections::HashMap<&str, Vec<&str>> = Default::default();
    let mut by_name: std::collections::HashMap<&str, &Tag> = Default::default();
    for tag in all {
        by_name.insert(tag.name.as_str(), tag);
        if let Some(d) = tag.digest.as_deref() {
            by_digest.entry(d).or_default().push(tag.name.as_str());
        }
    }
    let mut plan = DeletionPlan::default();
    for name in names {
        if name == "latest" {
            plan.includes_latest = true;
        }
        let Some(tag) = by_name.get(name.as_str()) else {
            plan.unknown.push(name.clone());
            continue;
        };
        let shares: Vec<&str> = tag
            .digest
            .as_deref()
            .and_then(|d| by_digest.get(d))
            .map(|names| {
                names
                    .iter()
                    .copied()
                    .filter(|n| !selected.contains(*n))
                    .collect()
            })
            .unwrap_or_default();
        let (shares, more) = first_names(shares, SHARED_NAMES_SHOWN);
        plan.tags.push(PlannedDeletion {
            name: name.clone(),
            refusal: tag.deletable_by(access).err().map(Notice::from),
            shares_digest_with: shares,
            shares_digest_more: more,
            total_size: tag.total_size,
        });
    }
    plan
}
