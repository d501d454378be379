//! The engine: one repository's tags through GitLab's steps (see the [module](super) docs),
//! each tag with the reason it stays or goes, and the counts a preview shows.

use super::{anchored_regex, CleanupPolicy, OlderThan, PolicyError, PolicyField};
use super::{KEEP_N_VALUES, METADATA_DB_PAGE};
use crate::protection::TagGuard;
use crate::tags::Tag;
use serde::{Deserialize, Serialize};

/// A policy ready to evaluate.
pub struct CompiledPolicy {
    delete: Option<regex::bytes::Regex>,
    keep: Option<regex::bytes::Regex>,
    keep_n: Option<usize>,
    older_than: Option<i64>,
}

impl CleanupPolicy {
    /// Validates and compiles; errors name the field, as GitLab's would.
    pub fn compile(&self) -> Result<CompiledPolicy, PolicyError> {
        if let Some(n) = self.keep_n {
            if !KEEP_N_VALUES.contains(&n) {
                return Err(PolicyError {
                    field: PolicyField::KeepN,
                    message: format!("GitLab keeps 1, 5, 10, 25, 50 or 100 tags, not {n}."),
                });
            }
        }
        // GitLab anchors a missing delete regex to "", which matches no tag name.
        let delete = match self.name_regex.as_deref() {
            Some(p) if !p.is_empty() => Some(anchored_regex(p, PolicyField::NameRegex)?),
            _ => None,
        };
        let keep = match self.name_regex_keep.as_deref() {
            Some(p) if !p.is_empty() => Some(anchored_regex(p, PolicyField::NameRegexKeep)?),
            _ => None,
        };
        Ok(CompiledPolicy {
            delete,
            keep,
            keep_n: self.keep_n.map(|n| n as usize),
            older_than: self.older_than.map(OlderThan::seconds),
        })
    }
}

/// Why a tag stays or goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Reason {
    /// `latest` is never deleted.
    Latest,
    /// The name does not match the delete regex.
    NotMatched,
    /// The name matches the keep regex (it wins over the delete regex).
    KeepRegex,
    /// Among the keep_n newest candidates (of its page, with the metadata database).
    KeepN,
    /// Not older than older_than.
    TooNew,
    /// No timestamp, so older_than cannot apply.
    NoTimestamp,
    /// Would be deleted, but a tag protection rule protects it.
    Protected,
    /// Matched, beyond keep_n, old enough: deleted.
    Deleted,
}

impl Reason {
    pub fn deletes(self) -> bool {
        self == Reason::Deleted
    }

    /// For a preview row.
    pub fn explain(self) -> &'static str {
        match self {
            Reason::Latest => "`latest` is always kept",
            Reason::NotMatched => "does not match the delete regex",
            Reason::KeepRegex => "matches the keep regex",
            Reason::KeepN => "among the newest tags kept",
            Reason::TooNew => "not older than the age limit",
            Reason::NoTimestamp => "has no timestamp, so the age limit cannot apply",
            Reason::Protected => "protected by a tag protection rule (skipped)",
            Reason::Deleted => "matches, beyond the tags kept, old enough",
        }
    }
}

/// The decision for one tag.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TagDecision {
    pub name: String,
    pub reason: Reason,
    /// keep_n decided between tags with equal timestamps at its boundary: GitLab's sort is
    /// not stable, so it may keep a different one of them.
    pub tie: bool,
}

/// Which timestamps and paging GitLab uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Mode {
    /// Without the metadata database: config `created_at`, all tags at once.
    Legacy,
    /// With it: publish time, steps 1–4 per page of 1,000 tags in name order.
    MetadataDatabase,
}

/// A tag as the engine needs it (borrowed from the index).
fn timestamp(tag: &Tag, mode: Mode) -> Option<i64> {
    match mode {
        Mode::Legacy => tag.created_at,
        Mode::MetadataDatabase => tag.published_at.or(tag.created_at),
    }
}

impl CompiledPolicy {
    /// Steps 1 and 2 alone, for a regex tester: how the name rules treat `name`
    /// (`Deleted` here means "a candidate": keep_n, age and protection decide the rest).
    pub fn name_rule(&self, name: &str) -> Reason {
        if name == "latest" {
            Reason::Latest
        } else if !self
            .delete
            .as_ref()
            .is_some_and(|r| r.is_match(name.as_bytes()))
        {
            Reason::NotMatched
        } else if self
            .keep
            .as_ref()
            .is_some_and(|r| r.is_match(name.as_bytes()))
        {
            Reason::KeepRegex
        } else {
            Reason::Deleted
        }
    }

    /// Decides every tag as the scheduled cleanup would, taking each tag's own protection.
    /// The result is in the input order.
    pub fn evaluate(&self, tags: &[Tag], mode: Mode, now: i64) -> Vec<TagDecision> {
        self.evaluate_guarded(tags, mode, now, &TagGuard::FromTags { actor: None })
    }

    /// Decides every tag, `guard` saying which tags protection rules keep.
    pub fn evaluate_guarded(
        &self,
        tags: &[Tag],
        mode: Mode,
        now: i64,
        guard: &TagGuard,
    ) -> Vec<TagDecision> {
        let mut decisions: Vec<TagDecision> = tags
            .iter()
            .map(|t| TagDecision {
                name: t.name.clone(),
                reason: Reason::NotMatched,
                tie: false,
            })
            .collect();
        match mode {
            Mode::Legacy => {
                let all: Vec<usize> = (0..tags.len()).collect();
                self.evaluate_page(tags, &all, mode, now, guard, &mut decisions);
            }
            Mode::MetadataDatabase => {
                let mut order: Vec<usize> = (0..tags.len()).collect();
                // Indexes usually hand tags over in name order already.
                if !tags.is_sorted_by(|a, b| a.name <= b.name) {
                    order.sort_unstable_by(|&a, &b| tags[a].name.cmp(&tags[b].name));
                }
                for page in order.chunks(METADATA_DB_PAGE) {
                    self.evaluate_page(tags, page, mode, now, guard, &mut decisions);
                }
            }
        }
        decisions
    }

    fn evaluate_page(
        &self,
        tags: &[Tag],
        page: &[usize],
        mode: Mode,
        now: i64,
        guard: &TagGuard,
        decisions: &mut [TagDecision],
    ) {
        // Steps 1 and 2.
        let mut candidates: Vec<usize> = Vec::with_capacity(page.len());
        for &i in page {
            match self.name_rule(&tags[i].name) {
                Reason::Deleted => candidates.push(i),
                reason => decisions[i].reason = reason,
            }
        }
        // Step 3: newest first, no timestamp counting as now.
        let key = |i: usize| timestamp(&tags[i], mode).unwrap_or(now);
        if let Some(keep_n) = self.keep_n {
            if keep_n > 0 && !candidates.is_empty() {
                // Ties: GitLab sorts ascending by timestamp and reverses, so among equal
                // timestamps the later name comes first (as the GitLab double does; Ruby's sort
                // is not stable, hence the tie warning).
                candidates.sort_by(|&a, &b| {
                    key(b)
                        .cmp(&key(a))
                        .then_with(|| tags[b].name.cmp(&tags[a].name))
                });
                let kept = keep_n.min(candidates.len());
                if kept < candidates.len() && key(candidates[kept - 1]) == key(candidates[kept]) {
                    let boundary = key(candidates[kept]);
                    for &i in candidates.iter().filter(|&&i| key(i) == boundary) {
                        decisions[i].tie = true;
                    }
                }
                for &i in &candidates[..kept] {
                    decisions[i].reason = Reason::KeepN;
                }
                candidates.drain(..kept);
            }
        }
        // Steps 4–6.
        let cutoff = self.older_than.map(|age| now - age);
        for i in candidates {
            let reason = match (cutoff, timestamp(&tags[i], mode)) {
                (Some(_), None) => Reason::NoTimestamp,
                (Some(cutoff), Some(ts)) if ts >= cutoff => Reason::TooNew,
                _ if guard.protects(&tags[i]) => Reason::Protected,
                _ => Reason::Deleted,
            };
            decisions[i].reason = reason;
        }
    }
}

/// Counts for a repository's preview.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Summary {
    pub deleted: u64,
    pub kept: u64,
    /// Bytes of images no kept tag still points at.
    pub bytes_freed: u64,
    pub without_timestamp: u64,
    pub ties: u64,
}

/// Sums up decisions; `tags` and `decisions` are in the same order.
pub fn summarize(tags: &[Tag], decisions: &[TagDecision]) -> Summary {
    let mut summary = Summary::default();
    let mut kept_digests = std::collections::HashSet::new();
    for (tag, decision) in tags.iter().zip(decisions) {
        if decision.reason.deletes() {
            summary.deleted += 1;
        } else {
            summary.kept += 1;
            if let Some(d) = &tag.digest {
                kept_digests.insert(d.as_str());
            }
        }
        if tag.created_at.is_none() && tag.published_at.is_none() {
            summary.without_timestamp += 1;
        }
        if decision.tie {
            summary.ties += 1;
        }
    }
    let mut freed = std::collections::HashSet::new();
    for (tag, decision) in tags.iter().zip(decisions) {
        if let (true, Some(d), Some(size)) =
            (decision.reason.deletes(), &tag.digest, tag.total_size)
        {
            if !kept_digests.contains(d.as_str()) && freed.insert(d.as_str()) {
                summary.bytes_freed += size;
            }
        }
    }
    summary
}
