//! The preview: a draft policy over every repository of a project, with the warnings people
//! need before they save it (what GitLab does that they do not expect).

use super::{summarize, CleanupPolicy, Mode, PolicyNote, Reason, Summary, TagDecision, Warning};
use super::{Notice, PolicyError, METADATA_DB_PAGE};
use crate::protection::{ProtectionRules, TagGuard};
use crate::tags::Tag;
use serde::{Deserialize, Serialize};

/// The policy GitLab has saved for a project.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SavedPolicy {
    pub policy: CleanupPolicy,
    /// When GitLab runs it next (saving resets this).
    pub next_run_at: Option<String>,
    /// What GitLab holds that the editor shows differently (an unknown cadence, say), told
    /// to the user.
    pub notes: Vec<Notice<PolicyNote>>,
}

/// One image repository's tags, as the preview evaluates them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewRepository {
    pub id: u64,
    pub path: String,
    /// Only the fields a decision needs, sent compactly (the page carries every tag).
    #[serde(with = "compact_tags")]
    pub tags: Vec<Tag>,
    /// All tags are there (else the preview covers the indexed ones).
    pub complete: bool,
    pub total: Option<u64>,
    /// What GitLab's cleanup worker last did here.
    #[serde(default)]
    pub cleanup_status: crate::CleanupStatus,
    /// What GitLab says about these tags (in use, dead; see [`crate::usage`]).
    #[serde(default)]
    pub usage: crate::usage::UsageState,
}

/// A preview's tags on the wire: one array per tag, `[name, digest, created, published, size,
/// protection]`, with the digest cut to what telling images apart needs. A 10,000-tag page
/// shrank from 2.7 MB to about a third of it.
mod compact_tags {
    use crate::tags::{Tag, TagProtection};
    use crate::AccessLevel;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Hex digits of a digest kept: 64 bits, ample to tell a project's images apart.
    const DIGEST_CHARS: usize = 16;

    type Levels = (Option<AccessLevel>, Option<AccessLevel>);
    type Row = (
        String,
        Option<String>,
        Option<i64>,
        Option<i64>,
        Option<u64>,
        Option<Levels>,
    );

    fn short(digest: &str) -> &str {
        let hex = digest.split_once(':').map_or(digest, |(_, hex)| hex);
        hex.get(..DIGEST_CHARS).unwrap_or(hex)
    }

    pub fn serialize<S: Serializer>(tags: &[Tag], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(tags.iter().map(|t| {
            (
                &t.name,
                t.digest.as_deref().map(short),
                t.created_at,
                t.published_at,
                t.total_size,
                t.protection.as_ref().map(|p| {
                    (
                        p.minimum_access_level_for_push,
                        p.minimum_access_level_for_delete,
                    )
                }),
            )
        }))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Tag>, D::Error> {
        Ok(Vec::<Row>::deserialize(deserializer)?
            .into_iter()
            .map(
                |(name, digest, created_at, published_at, total_size, protection)| Tag {
                    name,
                    digest,
                    revision: None,
                    created_at,
                    published_at,
                    total_size,
                    media_type: None,
                    referrers: Vec::new(),
                    protection: protection.map(|(push, delete)| TagProtection {
                        minimum_access_level_for_push: push,
                        minimum_access_level_for_delete: delete,
                    }),
                },
            )
            .collect())
    }
}

/// Everything a policy page needs: the saved policy, who may edit it, every repository's tags.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CleanupOverview {
    pub project: crate::ProjectDetails,
    pub saved: SavedPolicy,
    /// Why the viewer may not edit, if they may not.
    pub edit_refusal: Option<String>,
    pub mode: Mode,
    pub repositories: Vec<PreviewRepository>,
    pub now: i64,
    /// The project's protection rules, when the viewer may read them (Maintainer, metadata
    /// database). The preview then protects tags by these rules rather than by what the
    /// index read, so a rule just created or deleted counts at once.
    pub rules: Option<ProtectionRules>,
    /// Why the rules are not shown, when they are not.
    pub rules_note: Option<String>,
    /// The role a bulk delete ("Run now") runs as: the viewer's, or `Admin` for an instance
    /// administrator, whom no tag rule binds.
    pub runner: crate::AccessLevel,
    /// Tags GitLab's scheduled cleanup deletes per repository and run on this instance
    /// (`container_registry_cleanup_tags_service_max_list_size`; 200 unless its admins
    /// changed it and told the dashboard).
    #[serde(default = "default_max_tags_per_run")]
    pub max_tags_per_run: u32,
}

/// A repository's preview under a draft policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RepositoryPreview {
    pub id: u64,
    pub path: String,
    pub summary: Summary,
    pub decisions: Vec<TagDecision>,
    pub complete: bool,
    pub warnings: Vec<Notice>,
}

/// GitLab's default for `container_registry_cleanup_tags_service_max_list_size`: tags its
/// scheduled cleanup deletes per repository and run.
pub const DEFAULT_MAX_TAGS_PER_RUN: u32 = 200;

fn default_max_tags_per_run() -> u32 {
    DEFAULT_MAX_TAGS_PER_RUN
}

/// How many scheduled runs deleting `deleted` tags from one repository takes, and when the
/// last one is due: the first at the saved policy's next run (saving a changed draft resets
/// the schedule to one cadence from now), then one per cadence. `None` within one run.
fn run_plan(overview: &CleanupOverview, draft: &CleanupPolicy, deleted: u64) -> Option<Warning> {
    let per_run = u64::from(overview.max_tags_per_run.max(1));
    if deleted <= per_run {
        return None;
    }
    let runs = deleted.div_ceil(per_run);
    let interval = draft.cadence.seconds();
    let first = if *draft == overview.saved.policy {
        overview
            .saved
            .next_run_at
            .as_deref()
            .and_then(crate::format::parse_timestamp)
            .unwrap_or(overview.now + interval)
    } else {
        overview.now + interval
    };
    let later = i64::try_from(runs - 1).unwrap_or(i64::MAX / 2);
    Some(Warning::SeveralRuns {
        tags: deleted,
        per_run,
        runs,
        done_by: draft
            .enabled
            .then(|| first.saturating_add(later.saturating_mul(interval))),
    })
}

/// Evaluates a draft over every repository of an overview.
pub fn preview(
    overview: &CleanupOverview,
    draft: &CleanupPolicy,
) -> Result<Vec<RepositoryPreview>, PolicyError> {
    preview_as(overview, draft, None)
}

/// Evaluates a draft as GitLab would run it: scheduled (`actor` `None`: every tag rule
/// protects) or as a bulk delete by a user of role `actor` (a tag rule protects only when it
/// demands more than that role to delete).
pub fn preview_as(
    overview: &CleanupOverview,
    draft: &CleanupPolicy,
    actor: Option<crate::AccessLevel>,
) -> Result<Vec<RepositoryPreview>, PolicyError> {
    let compiled = draft.compile()?;
    let guard = match &overview.rules {
        Some(rules) => TagGuard::from_rules(&rules.tag, actor),
        None => TagGuard::FromTags { actor },
    };
    Ok(overview
        .repositories
        .iter()
        .map(|repo| {
            let decisions =
                compiled.evaluate_guarded(&repo.tags, overview.mode, overview.now, &guard);
            let summary = summarize(&repo.tags, &decisions);
            let mut warnings = Vec::new();
            if summary.deleted > 0
                && summary.kept <= u64::from(repo.tags.iter().any(|t| t.name == "latest"))
            {
                warnings.push(Warning::DeletesEveryTag);
            }
            if let (Mode::MetadataDatabase, Some(keep_n)) = (overview.mode, draft.keep_n) {
                if repo.tags.len() > METADATA_DB_PAGE {
                    warnings.push(Warning::KeepNPerPage {
                        page_size: METADATA_DB_PAGE as u64,
                        pages: repo.tags.len().div_ceil(METADATA_DB_PAGE) as u64,
                        keep_n,
                    });
                }
            }
            if summary.without_timestamp > 0 {
                warnings.push(Warning::WithoutTimestamp {
                    tags: summary.without_timestamp,
                });
            }
            if summary.ties > 0 {
                warnings.push(Warning::TimestampTies { tags: summary.ties });
            }
            if draft.keep_n.is_some() {
                // Candidates are the tags past the name regexes; keep_n counts each of them.
                let sidecars = repo
                    .tags
                    .iter()
                    .zip(&decisions)
                    .filter(|(t, d)| {
                        !matches!(
                            d.reason,
                            Reason::Latest | Reason::NotMatched | Reason::KeepRegex
                        ) && crate::family::TagFamily::of(&t.name)
                            == crate::family::TagFamily::Sidecar
                    })
                    .count() as u64;
                if sidecars > 0 {
                    warnings.push(Warning::SidecarsCountTowardsKeepN { tags: sidecars });
                }
            }
            if overview.mode == Mode::MetadataDatabase && draft.older_than.is_some() {
                let refs: Vec<&Tag> = repo.tags.iter().collect();
                if let Some(batch) = crate::shape::import_batch(&refs) {
                    warnings.push(Warning::ImportBatch {
                        tags: batch.tags,
                        images: batch.images,
                        published_at: batch.published_at,
                    });
                }
            }
            if !repo.complete {
                warnings.push(Warning::PartlyIndexed);
            }
            // Partial runs: GitLab's scheduled cleanups work within a time budget.
            match repo.cleanup_status {
                crate::CleanupStatus::Unfinished => warnings.push(Warning::LastCleanupUnfinished),
                crate::CleanupStatus::Ongoing => warnings.push(Warning::CleanupRunning),
                _ => {}
            }
            if let Some(warning) = deletes_in_use(repo, &decisions) {
                warnings.push(warning);
            }
            if let Some(warning) = run_plan(overview, draft, summary.deleted) {
                warnings.push(warning);
            }
            let warnings = warnings.into_iter().map(Notice::from).collect();
            RepositoryPreview {
                id: repo.id,
                path: repo.path.clone(),
                summary,
                decisions,
                complete: repo.complete,
                warnings,
            }
        })
        .collect())
}

/// Tags in use a [`Warning::DeletesInUse`] names (the rest are counted).
pub const IN_USE_NAMED: usize = 5;

/// The tags of `repo` the decisions delete although GitLab says they are in use: those an
/// environment runs first, each part in natural order.
fn deleted_in_use<'a>(
    repo: &'a PreviewRepository,
    decisions: &'a [TagDecision],
) -> Vec<(&'a str, &'a crate::usage::TagUsage)> {
    let Some(usage) = repo.usage.known() else {
        return Vec::new();
    };
    let mut found: Vec<(&str, &crate::usage::TagUsage)> = repo
        .tags
        .iter()
        .zip(decisions)
        .filter(|(_, d)| d.reason == Reason::Deleted)
        .filter_map(|(t, _)| {
            let u = usage.tags.get(&t.name)?;
            (u.verdict == crate::usage::Verdict::InUse).then_some((t.name.as_str(), u))
        })
        .collect();
    let deployed = |u: &crate::usage::TagUsage| {
        u.reasons
            .iter()
            .any(|r| matches!(r, crate::usage::Reason::Deployed { .. }))
    };
    found.sort_by(|a, b| {
        deployed(b.1)
            .cmp(&deployed(a.1))
            .then_with(|| crate::tags::natural_cmp(a.0, b.0))
    });
    found
}

fn deletes_in_use(repo: &PreviewRepository, decisions: &[TagDecision]) -> Option<Warning> {
    let found = deleted_in_use(repo, decisions);
    if found.is_empty() {
        return None;
    }
    let environments: std::collections::BTreeSet<&str> = found
        .iter()
        .flat_map(|(_, u)| &u.reasons)
        .filter_map(|r| match r {
            crate::usage::Reason::Deployed { environment, .. } => Some(environment.as_str()),
            _ => None,
        })
        .collect();
    Some(Warning::DeletesInUse {
        tags: found.len() as u64,
        names: found
            .iter()
            .take(IN_USE_NAMED)
            .map(|(n, _)| n.to_string())
            .collect(),
        environments: environments.into_iter().map(String::from).collect(),
    })
}

/// A keep regex that would keep every tag in use a draft deletes, for the preview to offer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeepSuggestion {
    /// The tags in use the draft deletes, over every repository.
    pub tags: u64,
    /// The draft's keep regex with those names added (`(?:<keep>|<name>|…)`, names escaped:
    /// GitLab anchors the whole as `\A…\z`); `None` when it would be longer than GitLab's
    /// 255 characters.
    pub name_regex_keep: Option<String>,
}

/// The keep regex that keeps what `previews` (of `overview`, under `draft`) would delete
/// although it is in use; `None` when it deletes nothing in use.
pub fn keep_suggestion(
    overview: &CleanupOverview,
    draft: &CleanupPolicy,
    previews: &[RepositoryPreview],
) -> Option<KeepSuggestion> {
    let mut names: Vec<&str> = overview
        .repositories
        .iter()
        .zip(previews)
        .flat_map(|(repo, p)| deleted_in_use(repo, &p.decisions))
        .map(|(name, _)| name)
        .collect();
    if names.is_empty() {
        return None;
    }
    names.sort_by(|a, b| crate::tags::natural_cmp(a, b));
    names.dedup();
    let mut parts: Vec<String> = draft
        .name_regex_keep
        .iter()
        .filter(|k| !k.is_empty())
        .cloned()
        .collect();
    parts.extend(names.iter().map(|n| regex::escape(n)));
    let regex = format!("(?:{})", parts.join("|"));
    Some(KeepSuggestion {
        tags: names.len() as u64,
        name_regex_keep: (regex.chars().count() <= super::MAX_REGEX_LEN).then_some(regex),
    })
}
