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
    /// Tags past the name regexes GitLab's scheduled cleanup takes per repository and run
    /// without the metadata database (`container_registry_cleanup_tags_service_max_list_size`;
    /// 200 unless its admins changed it and told the dashboard; 0: no limit).
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

/// Deletions in one repository from which the preview warns that GitLab's time-boxed runs
/// (with the metadata database) may need several rounds.
const LARGE_RUN: u64 = 1_000;

/// When deleting from one repository takes GitLab's scheduled cleanup more than one run.
///
/// Without the metadata database each run takes at most `max_tags_per_run` of the tags past
/// the name regexes (GitLab samples them when there are more) and deletes from those, so
/// the `deleted` tags need at least `deleted / max_tags_per_run` runs (0: no limit). With
/// the metadata database only a time budget cuts a run; from [`LARGE_RUN`] deletions the
/// preview says it may take several. The first run is the saved policy's next run, or one
/// cadence from now for a changed draft (saving resets the schedule); GitLab continues an
/// unfinished cleanup soon after, so no later date is promised.
fn run_plan(overview: &CleanupOverview, draft: &CleanupPolicy, deleted: u64) -> Option<Warning> {
    let (per_run, runs) = match overview.mode {
        Mode::Legacy if overview.max_tags_per_run > 0 => {
            let per_run = u64::from(overview.max_tags_per_run);
            if deleted <= per_run {
                return None;
            }
            (Some(per_run), Some(deleted.div_ceil(per_run)))
        }
        _ if deleted >= LARGE_RUN => (None, None),
        _ => return None,
    };
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
    Some(Warning::SeveralRuns {
        tags: deleted,
        per_run,
        runs,
        first_run: draft.enabled.then_some(first),
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
            if let Some(why) = unchecked(&repo.usage) {
                warnings.push(Warning::InUseUnchecked { why });
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

/// Why the verdicts of a repository are missing, when the dashboard meant to read them.
fn unchecked(usage: &crate::usage::UsageState) -> Option<String> {
    use crate::usage::UsageState;
    match usage {
        UsageState::NotRead => None,
        UsageState::Reading => Some("GitLab took too long; reload to check again".into()),
        UsageState::Failed { message } => Some(message.clone()),
        UsageState::Known { usage } if usage.coverage.nothing_read() => {
            Some("your role cannot read the project's deployments and pipelines".into())
        }
        UsageState::Known { .. } => None,
    }
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
    /// The draft's keep regex with those names added, names escaped: `(?:<keep>|<name>|…)`,
    /// or `<keep>\z|\A(?:<name>|…)` when the keep regex has a top-level `|` (GitLab anchors
    /// the whole as `\A…\z`; either form keeps exactly what the keep regex kept); `None`
    /// when it would be longer than GitLab's 255 characters.
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
    let escaped: Vec<String> = names.iter().map(|n| regex::escape(n)).collect();
    let names_group = escaped.join("|");
    let regex = match draft.name_regex_keep.as_deref().filter(|k| !k.is_empty()) {
        None => format!("(?:{names_group})"),
        // GitLab reads `\A<keep>\z`: a keep regex with a top-level `|` means "starts with
        // the first alternative or ends with the last". Closing it with `\z` and opening the
        // names with `\A` keeps exactly that meaning: `\A<keep>\z|\A(?:names)\z`.
        Some(keep) if super::alternation_unanchored(keep) => {
            format!("{keep}\\z|\\A(?:{names_group})")
        }
        Some(keep) => format!("(?:{keep}|{names_group})"),
    };
    Some(KeepSuggestion {
        tags: names.len() as u64,
        name_regex_keep: (regex.chars().count() <= super::MAX_REGEX_LEN).then_some(regex),
    })
}
