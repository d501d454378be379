//! Applying a group's standard policy to chosen projects.
//!
//! The group's policy page names projects with checkboxes; the review page's URL state
//! ([`ApplyView`]) is the standard as `std_<field>` pairs and one `project=<id>` per chosen
//! project, at most [`MAX_APPLY_PROJECTS`]. The review ([`ApplyReview`]) reads each project
//! again from GitLab and says, before anything is saved:
//! - whether it is applied at all: it must be in the group (subgroups included) and the
//!   viewer must be its Maintainer; a project whose saved policy already is the standard is
//!   left alone;
//! - which fields saving the standard changes ([`super::drift`]);
//! - what GitLab's scheduled cleanup would delete there now under its own policy and under
//!   the standard: tags, and bytes freed counting each layer once across the project's
//!   repositories (the project policy page's preview and storage figures, so the numbers
//!   agree with it). A figure over repositories not read to the end is a lower bound, and
//!   says so.
//!
//! Applying needs the group's path typed ([`check_confirmation`]). The server then repeats
//! the review's checks for every project, in order, with what GitLab says at that moment
//! (membership and role may have changed since), and saves the standard only where they
//! hold; each project gets its own [`ApplyResult`], GitLab's answer where it was asked. One
//! project failing does not stop the others.

use super::{drift, read_standard, standard_pairs, Drift, GroupPoliciesView, PolicyFacts};
use crate::cleanup::{CleanupPolicy, SavedPolicy};
use crate::input::InputError;
use crate::view::{Notice, UrlNote};
use crate::{format, query, AccessLevel, GroupDetails};
use serde::{Deserialize, Serialize};

/// Projects one review (and one apply) covers at most: each costs GitLab reads of every
/// repository's tags, and the confirmation must stay readable.
pub const MAX_APPLY_PROJECTS: usize = 20;

/// The review page's URL state: the standard and the chosen projects' ids.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApplyView {
    pub standard: Option<CleanupPolicy>,
    /// GitLab project ids, in the order chosen, each once.
    pub projects: Vec<u64>,
}

crate::view_serde_as_query!(ApplyView);

impl ApplyView {
    /// Reads the view from URL query pairs; never fails. Other parameters (the group page's
    /// filters) are ignored; an id that is not one, or one past [`MAX_APPLY_PROJECTS`], is
    /// dropped with a notice, as is a standard GitLab would refuse.
    pub fn from_pairs(pairs: &[(String, String)]) -> (Self, Vec<Notice>) {
        let mut notices = Vec::new();
        let mut standard = Vec::new();
        let mut view = ApplyView::default();
        let mut too_many = false;
        for (key, value) in pairs {
            if let Some(field) = key.strip_prefix(super::STANDARD_PREFIX) {
                standard.push((field.to_string(), value.clone()));
            } else if key == "project" {
                match value.trim().parse::<u64>() {
                    Ok(id) if id > 0 => {
                        if view.projects.contains(&id) {
                            continue;
                        }
                        if view.projects.len() < MAX_APPLY_PROJECTS {
                            view.projects.push(id);
                        } else {
                            too_many = true;
                        }
                    }
                    _ => notices.push(Notice::from(UrlNote::NotAProject {
                        // Echoed back: kept short.
                        value: value.chars().take(40).collect(),
                    })),
                }
            }
        }
        if too_many {
            notices.push(Notice::from(UrlNote::TooManyProjects {
                max: MAX_APPLY_PROJECTS,
            }));
        }
        if !standard.is_empty() {
            view.standard = read_standard(&standard, &mut notices);
        }
        (view, notices)
    }

    /// The canonical query string: the standard's pairs, then the projects.
    pub fn to_query(&self) -> String {
        let mut pairs = self
            .standard
            .as_ref()
            .map(standard_pairs)
            .unwrap_or_default();
        pairs.extend(
            self.projects
                .iter()
                .map(|id| ("project".to_string(), id.to_string())),
        );
        query::build(
            &pairs
                .iter()
                .map(|(k, v)| (k.as_str(), v.clone()))
                .collect::<Vec<_>>(),
        )
    }

    /// The group page comparing with the same standard: where the review links back to.
    pub fn group_view(&self) -> GroupPoliciesView {
        GroupPoliciesView {
            standard: self.standard.clone(),
            ..GroupPoliciesView::default()
        }
    }

    /// The standard and at least one project, or why the view cannot be applied.
    pub fn applicable(&self) -> Result<&CleanupPolicy, InputError> {
        let standard = self.standard.as_ref().ok_or_else(|| {
            InputError("No standard policy was given: choose one on the group's page.".into())
        })?;
        if self.projects.is_empty() {
            return Err(InputError(
                "No project was chosen: tick the projects on the group's page.".into(),
            ));
        }
        Ok(standard)
    }
}

/// A typed confirmation must be the group's full path (surrounding spaces aside).
pub fn check_confirmation(group_path: &str, typed: &str) -> Result<(), InputError> {
    if typed.trim() == group_path {
        Ok(())
    } else {
        Err(InputError(format!(
            "Type the group's path, {group_path}, to apply the standard."
        )))
    }
}

/// Why a project is left out, as data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Exclusion {
    /// GitLab does not show the project to the viewer (or it does not exist).
    NotFound,
    /// The project is not in the group or its subgroups (it may have moved).
    OutsideGroup { path: String },
    /// Saving a policy needs Maintainer.
    NeedsMaintainer { access: AccessLevel },
}

impl std::fmt::Display for Exclusion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exclusion::NotFound => f.write_str("GitLab does not show you this project."),
            Exclusion::OutsideGroup { path } => {
                write!(f, "{path} is not in this group or its subgroups.")
            }
            Exclusion::NeedsMaintainer { access } => write!(
                f,
                "Saving a cleanup policy needs the Maintainer role; yours is {}.",
                access.label()
            ),
        }
    }
}

/// What a policy's scheduled cleanup would delete in a project, as things are now.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Deletes {
    pub tags: u64,
    /// Bytes freed, each layer counted once across the project (a layer another repository
    /// or a remaining tag keeps is not freed).
    pub bytes: u64,
    /// Every repository's tags were read to the end (else `tags` is a lower bound).
    pub tags_complete: bool,
    /// Every repository's layers were read (else `bytes` is a lower bound).
    pub bytes_complete: bool,
}

impl Deletes {
    /// "12 tags · 340 MB", with "at least" where a figure is a lower bound, and no size where
    /// no layer was read yet.
    pub fn describe(&self) -> String {
        let tags = format::plural(self.tags, "tag", "tags");
        let tags = if self.tags_complete {
            tags
        } else {
            format!("at least {tags}")
        };
        let bytes = match (self.bytes_complete, self.bytes) {
            (true, bytes) => format::bytes(bytes),
            (false, 0) => "size not read yet".to_string(),
            (false, bytes) => format!("at least {}", format::bytes(bytes)),
        };
        format!("{tags} · {bytes}")
    }
}

/// A project the review may apply the standard to: its policy now and both previews.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Comparison {
    /// The policy GitLab holds for the project now.
    pub own: SavedPolicy,
    /// What saving the standard changes ([`Drift::Same`]: nothing, it is left alone).
    pub drift: Drift,
    /// What the project's own policy deletes when it runs (nothing runs while it is off).
    pub own_deletes: Deletes,
    /// What the standard would delete when it runs.
    pub standard_deletes: Deletes,
}

impl Comparison {
    /// The comparison of a project's saved policy with the standard.
    pub fn new(
        standard: &CleanupPolicy,
        own: SavedPolicy,
        own_deletes: Deletes,
        standard_deletes: Deletes,
    ) -> Self {
        let drift = drift(standard, &PolicyFacts::Whole(own.clone()));
        Comparison {
            own,
            drift,
            own_deletes,
            standard_deletes,
        }
    }

    /// Whether applying saves anything here.
    pub fn changes(&self) -> bool {
        self.drift != Drift::Same
    }
}

/// One chosen project in the review.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Candidate {
    /// The viewer may save the standard here.
    Eligible(Comparison),
    /// Left out, and why.
    Excluded { reason: Exclusion, message: String },
    /// GitLab could not be read for it (the message says how it failed).
    Unreadable { message: String },
}

/// A chosen project as GitLab shows it to the viewer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApplyProject {
    pub id: u64,
    /// Empty where GitLab does not show the project.
    pub full_path: String,
    pub web_url: String,
    pub access: Option<AccessLevel>,
    pub candidate: Candidate,
}

impl ApplyProject {
    /// A project left out for `reason`.
    pub fn excluded(id: u64, full_path: String, reason: Exclusion) -> Self {
        let access = match &reason {
            Exclusion::NeedsMaintainer { access } => Some(*access),
            _ => None,
        };
        ApplyProject {
            id,
            full_path,
            web_url: String::new(),
            access,
            candidate: Candidate::Excluded {
                message: reason.to_string(),
                reason,
            },
        }
    }

    /// Whether applying would save the standard here.
    pub fn will_change(&self) -> bool {
        matches!(&self.candidate, Candidate::Eligible(c) if c.changes())
    }

    /// The name to show: the path, or the id GitLab does not show.
    pub fn label(&self) -> String {
        project_label(self.id, &self.full_path)
    }

    /// The outcome of a project the apply does not send (only what the review shows as
    /// changing is sent), for the report to list every chosen project.
    pub fn unsent(&self) -> ApplyOutcome {
        let result = match &self.candidate {
            Candidate::Eligible(c) if !c.changes() => ApplyResult::Unchanged,
            Candidate::Eligible(_) => ApplyResult::Failed {
                message: "Not sent.".into(),
            },
            Candidate::Excluded { reason, message } => ApplyResult::Excluded {
                reason: reason.clone(),
                message: message.clone(),
            },
            Candidate::Unreadable { message } => ApplyResult::Failed {
                message: format!("Not sent: the review could not read it ({message})."),
            },
        };
        ApplyOutcome {
            id: self.id,
            full_path: self.full_path.clone(),
            result,
        }
    }
}

fn project_label(id: u64, full_path: &str) -> String {
    if full_path.is_empty() {
        format!("project {id}")
    } else {
        full_path.to_string()
    }
}

/// The review of applying a standard to chosen projects of a group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApplyReview {
    pub group: GroupDetails,
    pub standard: CleanupPolicy,
    /// In the order chosen.
    pub projects: Vec<ApplyProject>,
    /// Unix seconds when the review was made.
    pub now: i64,
}

impl ApplyReview {
    /// Projects where applying saves the standard.
    pub fn changing(&self) -> usize {
        self.projects.iter().filter(|p| p.will_change()).count()
    }

    /// "2 of 3 projects change; 1 is left out".
    pub fn summary_line(&self) -> String {
        let changing = self.changing();
        let same = self
            .projects
            .iter()
            .filter(|p| matches!(&p.candidate, Candidate::Eligible(c) if !c.changes()))
            .count();
        let left_out = self.projects.len() - changing - same;
        let mut parts = vec![format!(
            "Saving the standard changes {} of {}",
            format::count(changing as u64),
            format::plural(self.projects.len() as u64, "project", "projects")
        )];
        if same > 0 {
            parts.push(format!(
                "{} already {} it",
                format::count(same as u64),
                if same == 1 { "has" } else { "have" }
            ));
        }
        if left_out > 0 {
            parts.push(format!(
                "{} {} left out",
                format::count(left_out as u64),
                if left_out == 1 { "is" } else { "are" }
            ));
        }
        parts.join(" · ")
    }
}

/// What happened to one project when the standard was applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum ApplyResult {
    /// GitLab saved the standard; this is the policy it answered with.
    Saved { policy: SavedPolicy },
    /// The project's policy already was the standard: nothing was sent.
    Unchanged,
    /// Not sent: the project is left out (the checks are repeated before each save).
    Excluded { reason: Exclusion, message: String },
    /// GitLab refused the policy, in its words.
    Refused { message: String },
    /// GitLab could not be asked, or did not answer clearly; the message says what to do.
    Failed { message: String },
}

impl ApplyResult {
    /// A short word for the outcome.
    pub fn label(&self) -> &'static str {
        match self {
            ApplyResult::Saved { .. } => "Saved",
            ApplyResult::Unchanged => "Unchanged",
            ApplyResult::Excluded { .. } => "Not applied",
            ApplyResult::Refused { .. } => "Refused by GitLab",
            ApplyResult::Failed { .. } => "Failed",
        }
    }

    /// The outcome in a sentence.
    pub fn message(&self) -> String {
        match self {
            ApplyResult::Saved { policy } => format!(
                "GitLab saved the standard{}.",
                policy
                    .next_run_at
                    .as_deref()
                    .map(|at| format!("; next run {}", format::exact_time(at)))
                    .unwrap_or_default()
            ),
            ApplyResult::Unchanged => {
                "Its policy already was the standard; nothing was sent.".into()
            }
            ApplyResult::Excluded { message, .. }
            | ApplyResult::Refused { message }
            | ApplyResult::Failed { message } => message.clone(),
        }
    }
}

/// One project's outcome.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApplyOutcome {
    pub id: u64,
    /// Empty where GitLab does not show the project.
    pub full_path: String,
    #[serde(flatten)]
    pub result: ApplyResult,
}

impl ApplyOutcome {
    /// The name to show: the path, or the id GitLab does not show.
    pub fn label(&self) -> String {
        project_label(self.id, &self.full_path)
    }
}

#[cfg(test)]
mod tests;
