//! GitLab's cleanup policy, evaluated exactly as GitLab's CleanupTagsService decides, so a
//! preview can say which tags a policy deletes and why. Pure: the caller passes "now".
//!
//! Per repository, in GitLab's order:
//! 1. `latest` is never a candidate.
//! 2. Candidates match `\A` + name_regex + `\z` and do not match `\A` + name_regex_keep + `\z`
//!    (pasted in without parentheses, as GitLab does: `a|b` means "starts with a or ends
//!    with b").
//! 3. keep_n: candidates sorted by timestamp, newest first, a missing timestamp counting as
//!    "now"; the first keep_n stay.
//! 4. older_than: of the rest, only tags strictly older than now − older_than go; tags
//!    without a timestamp stay.
//! 5. Protected tags are skipped.
//!
//! Without the metadata database the timestamp is the image config's `created_at`; with it,
//! the publish time, and steps 1–4 run per page of 1,000 tags in name order.

use crate::protection::{ProtectionRules, TagGuard};
use crate::tags::Tag;
use serde::{Deserialize, Serialize};

pub mod view;
pub mod warning;
pub use warning::{Notice, PolicyNote, PolicyRegex, Warning};

/// GitLab's longest policy regex.
pub const MAX_REGEX_LEN: usize = 255;
/// Tags per page GitLab evaluates at once with the metadata database.
pub const METADATA_DB_PAGE: usize = 1_000;
/// keep_n values GitLab accepts.
pub const KEEP_N_VALUES: [u32; 6] = [1, 5, 10, 25, 50, 100];

/// How often GitLab runs the policy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Cadence {
    #[default]
    Daily,
    Weekly,
    Fortnightly,
    Monthly,
    Quarterly,
}

impl Cadence {
    pub const ALL: [Cadence; 5] = [
        Cadence::Daily,
        Cadence::Weekly,
        Cadence::Fortnightly,
        Cadence::Monthly,
        Cadence::Quarterly,
    ];

    /// GitLab's value: `1d`, `7d`, `14d`, `1month`, `3month`.
    pub fn as_param(self) -> &'static str {
        match self {
            Cadence::Daily => "1d",
            Cadence::Weekly => "7d",
            Cadence::Fortnightly => "14d",
            Cadence::Monthly => "1month",
            Cadence::Quarterly => "3month",
        }
    }

    pub fn from_param(value: &str) -> Option<Self> {
        Cadence::ALL.into_iter().find(|c| c.as_param() == value)
    }

    pub fn label(self) -> &'static str {
        match self {
            Cadence::Daily => "Every day",
            Cadence::Weekly => "Every week",
            Cadence::Fortnightly => "Every two weeks",
            Cadence::Monthly => "Every month",
            Cadence::Quarterly => "Every three months",
        }
    }
}

/// The age after which tags may be deleted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum OlderThan {
    Days7,
    Days14,
    Days30,
    Days90,
}

impl OlderThan {
    pub const ALL: [OlderThan; 4] = [
        OlderThan::Days7,
        OlderThan::Days14,
        OlderThan::Days30,
        OlderThan::Days90,
    ];

    /// GitLab's value: `7d`, `14d`, `30d`, `90d`.
    pub fn as_param(self) -> &'static str {
        match self {
            OlderThan::Days7 => "7d",
            OlderThan::Days14 => "14d",
            OlderThan::Days30 => "30d",
            OlderThan::Days90 => "90d",
        }
    }

    pub fn from_param(value: &str) -> Option<Self> {
        OlderThan::ALL.into_iter().find(|o| o.as_param() == value)
    }

    pub fn days(self) -> i64 {
        match self {
            OlderThan::Days7 => 7,
            OlderThan::Days14 => 14,
            OlderThan::Days30 => 30,
            OlderThan::Days90 => 90,
        }
    }

    pub fn seconds(self) -> i64 {
        self.days() * 86_400
    }
}

/// A cleanup policy as GitLab stores it. As data it is checked on arrival (GitLab's values
/// for `keep_n`, regexes of at most [`MAX_REGEX_LEN`] characters); whether the regexes
/// compile is checked where the policy is used, after the caller is known.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "PolicyFields")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CleanupPolicy {
    pub enabled: bool,
    pub cadence: Cadence,
    pub keep_n: Option<u32>,
    pub older_than: Option<OlderThan>,
    /// Tags to delete (GitLab's `name_regex`).
    pub name_regex: Option<String>,
    /// Tags to keep whatever else applies (`name_regex_keep`).
    pub name_regex_keep: Option<String>,
}

/// [`CleanupPolicy`]'s fields as they arrive, before [`CleanupPolicy::checked`].
#[derive(Deserialize)]
struct PolicyFields {
    enabled: bool,
    cadence: Cadence,
    keep_n: Option<u32>,
    older_than: Option<OlderThan>,
    name_regex: Option<String>,
    name_regex_keep: Option<String>,
}

impl TryFrom<PolicyFields> for CleanupPolicy {
    type Error = PolicyError;
    fn try_from(f: PolicyFields) -> Result<Self, PolicyError> {
        CleanupPolicy {
            enabled: f.enabled,
            cadence: f.cadence,
            keep_n: f.keep_n,
            older_than: f.older_than,
            name_regex: f.name_regex,
            name_regex_keep: f.name_regex_keep,
        }
        .checked()
    }
}

impl Default for CleanupPolicy {
    /// GitLab's form defaults for a new policy: every day, keep 10, older than 90 days,
    /// delete `.*`.
    fn default() -> Self {
        CleanupPolicy {
            enabled: false,
            cadence: Cadence::Daily,
            keep_n: Some(10),
            older_than: Some(OlderThan::Days90),
            name_regex: Some(".*".into()),
            name_regex_keep: None,
        }
    }
}

impl CleanupPolicy {
    /// The policy if its values are ones GitLab accepts (without compiling the regexes).
    pub fn checked(self) -> Result<Self, PolicyError> {
        if let Some(n) = self.keep_n {
            if !KEEP_N_VALUES.contains(&n) {
                return Err(PolicyError {
                    field: PolicyField::KeepN,
                    message: format!("GitLab keeps 1, 5, 10, 25, 50 or 100 tags, not {n}."),
                });
            }
        }
        for (field, regex) in [
            (PolicyField::NameRegex, &self.name_regex),
            (PolicyField::NameRegexKeep, &self.name_regex_keep),
        ] {
            let length = regex.as_deref().map_or(0, |r| r.chars().count());
            if length > MAX_REGEX_LEN {
                return Err(PolicyError {
                    field,
                    message: format!(
                        "GitLab accepts at most {MAX_REGEX_LEN} characters; this has {length}."
                    ),
                });
            }
        }
        Ok(self)
    }

    /// Reads a draft from URL query pairs on top of `base` (the saved policy): keys that are
    /// absent keep the base value. Never fails; unusable values become notices.
    pub fn from_pairs(
        pairs: &[(String, String)],
        base: &CleanupPolicy,
    ) -> (CleanupPolicy, Vec<crate::view::Notice>) {
        use crate::view::Notice;
        let mut policy = base.clone();
        let mut notices = Vec::new();
        let text = |value: &str| {
            let value = value.trim();
            (!value.is_empty()).then(|| value.chars().take(MAX_REGEX_LEN + 1).collect::<String>())
        };
        for (key, value) in pairs {
            let trimmed = value.trim();
            match key.as_str() {
                "enabled" => policy.enabled = matches!(trimmed, "1" | "true" | "on"),
                "cadence" => match Cadence::from_param(trimmed) {
                    Some(c) => policy.cadence = c,
                    None => notices.push(Notice(format!(
                        "“{value}” is not a cadence GitLab offers (1d, 7d, 14d, 1month, 3month)."
                    ))),
                },
                "keep_n" if trimmed.is_empty() => policy.keep_n = None,
                "keep_n" => match trimmed.parse::<u32>() {
                    Ok(n) if KEEP_N_VALUES.contains(&n) => policy.keep_n = Some(n),
                    _ => notices.push(Notice(format!(
                        "GitLab keeps 1, 5, 10, 25, 50 or 100 tags, not “{value}”."
                    ))),
                },
                "older_than" if trimmed.is_empty() => policy.older_than = None,
                "older_than" => match OlderThan::from_param(trimmed) {
                    Some(o) => policy.older_than = Some(o),
                    None => notices.push(Notice(format!(
                        "“{value}” is not an age GitLab offers (7d, 14d, 30d, 90d)."
                    ))),
                },
                "name_regex" => policy.name_regex = text(value),
                "name_regex_keep" => policy.name_regex_keep = text(value),
                _ => {}
            }
        }
        (policy, notices)
    }

    /// The full draft as a query string (every field, so a link carries the whole draft).
    pub fn to_query(&self) -> String {
        crate::query::build(&[
            ("enabled", if self.enabled { "1" } else { "0" }.to_string()),
            ("cadence", self.cadence.as_param().to_string()),
            (
                "keep_n",
                self.keep_n.map(|n| n.to_string()).unwrap_or_default(),
            ),
            (
                "older_than",
                self.older_than
                    .map(|o| o.as_param().to_string())
                    .unwrap_or_default(),
            ),
            ("name_regex", self.name_regex.clone().unwrap_or_default()),
            (
                "name_regex_keep",
                self.name_regex_keep.clone().unwrap_or_default(),
            ),
        ])
    }

    /// Warnings about what GitLab will do that people do not expect.
    pub fn warnings(&self) -> Vec<Warning> {
        let mut out = Vec::new();
        for (regex, pattern) in [
            (PolicyRegex::Delete, &self.name_regex),
            (PolicyRegex::Keep, &self.name_regex_keep),
        ] {
            if let Some(pattern) = pattern.as_deref().filter(|r| alternation_unanchored(r)) {
                out.push(Warning::RegexAlternation {
                    regex,
                    pattern: pattern.to_string(),
                });
            }
        }
        if self.name_regex.as_deref().is_none_or(str::is_empty) {
            out.push(Warning::NoDeleteRegex);
        }
        out
    }
}

/// Which policy field a validation error belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PolicyField {
    KeepN,
    NameRegex,
    NameRegexKeep,
}

/// A policy GitLab would refuse, with the field to show it on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct PolicyError {
    pub field: PolicyField,
    pub message: String,
}

/// Checks a policy regex as GitLab does (RE2 syntax, at most 255 characters) and compiles
/// it anchored exactly like GitLab: `\A` + regex + `\z`, no parentheses added.
pub fn anchored_regex(
    pattern: &str,
    field: PolicyField,
) -> Result<regex::bytes::Regex, PolicyError> {
    let error = |message: String| PolicyError { field, message };
    if pattern.chars().count() > MAX_REGEX_LEN {
        return Err(error(format!(
            "GitLab accepts at most {MAX_REGEX_LEN} characters; this has {}.",
            pattern.chars().count()
        )));
    }
    crate::tags::compile_regex(pattern).map_err(|e| error(e.to_string()))?;
    regex::bytes::RegexBuilder::new(&format!(r"\A{pattern}\z"))
        .unicode(false)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| error(crate::tags::explain_regex_error(&e)))
}

/// True when a top-level `|` makes GitLab's anchoring differ from "the whole name matches
/// one of these": `a|b` becomes `\Aa|b\z`.
pub fn alternation_unanchored(pattern: &str) -> bool {
    let mut depth = 0i32;
    let mut escaped = false;
    let mut in_class = false;
    for c in pattern.chars() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '[' if !in_class => in_class = true,
            ']' if in_class => in_class = false,
            '(' if !in_class => depth += 1,
            ')' if !in_class => depth -= 1,
            '|' if !in_class && depth == 0 => return true,
            _ => {}
        }
    }
    false
}

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

/// Deletions in one repository from which the preview warns that GitLab may need several
/// (time-boxed) runs.
const LARGE_RUN: u64 = 1_000;

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
            if summary.deleted >= LARGE_RUN {
                warnings.push(Warning::SeveralRuns {
                    tags: summary.deleted,
                });
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rstest::rstest;

    #[test]
    fn policies_arriving_as_data_are_checked() {
        let ok = r#"{"enabled":true,"cadence":"Daily","keep_n":10,"older_than":null,"name_regex":".*","name_regex_keep":null}"#;
        assert!(serde_json::from_str::<CleanupPolicy>(ok).is_ok());
        let bad_keep = ok.replace("\"keep_n\":10", "\"keep_n\":3");
        assert!(serde_json::from_str::<CleanupPolicy>(&bad_keep).is_err());
        let long = ok.replace(".*", &"a".repeat(MAX_REGEX_LEN + 1));
        let error = serde_json::from_str::<CleanupPolicy>(&long).expect_err("too long");
        assert!(error.to_string().contains("at most 255"), "{error}");
    }

    #[test]
    fn run_confirmations_are_checked() {
        let c = |id, fp: &str| RunConfirmation {
            repository_id: id,
            tags: 1,
            fingerprint: fp.into(),
        };
        assert!(check_confirmations(&[c(1, "0123456789abcdef")]).is_ok());
        assert!(check_confirmations(&[]).is_err());
        assert!(
            check_confirmations(&[c(1, "0123456789abcdef"), c(1, "0123456789abcdef")]).is_err()
        );
        assert!(check_confirmations(&[c(1, "zz")]).is_err());
        assert!(check_confirmations(&[c(0, "0123456789abcdef")]).is_err());
        let many: Vec<_> = (1..=MAX_RUN_REPOSITORIES as u64 + 1)
            .map(|id| c(id, "0123456789abcdef"))
            .collect();
        assert!(check_confirmations(&many).is_err());
    }

    const NOW: i64 = 1_800_000_000;
    const DAY: i64 = 86_400;

    fn tag(name: &str, age_days: Option<i64>) -> Tag {
        Tag {
            name: name.into(),
            digest: Some(format!("sha256:{name}")),
            revision: None,
            created_at: age_days.map(|d| NOW - d * DAY),
            published_at: None,
            total_size: Some(100),
            media_type: None,
            referrers: vec![],
            protection: None,
        }
    }

    fn policy(
        delete: &str,
        keep: Option<&str>,
        keep_n: Option<u32>,
        older: Option<OlderThan>,
    ) -> CleanupPolicy {
        CleanupPolicy {
            enabled: true,
            cadence: Cadence::Daily,
            keep_n,
            older_than: older,
            name_regex: Some(delete.into()),
            name_regex_keep: keep.map(String::from),
        }
    }

    fn decide(p: &CleanupPolicy, tags: &[Tag]) -> Vec<(String, Reason)> {
        p.compile()
            .expect("valid policy")
            .evaluate(tags, Mode::Legacy, NOW)
            .into_iter()
            .map(|d| (d.name, d.reason))
            .collect()
    }

    fn reason_of(p: &CleanupPolicy, tags: &[Tag], name: &str) -> Reason {
        decide(p, tags)
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, r)| r)
            .expect("tag present")
    }

    #[rstest]
    // Rule 1: latest is never a candidate, even when everything matches.
    #[case::latest_kept(".*", None, None, None, "latest", Some(400), Reason::Latest)]
    // Rule 2: anchoring — the whole name must match.
    #[case::anchored_whole_name("v1", None, None, None, "v1.2", Some(400), Reason::NotMatched)]
    #[case::anchored_match("v1.*", None, None, None, "v1.2", Some(400), Reason::Deleted)]
    // GitLab pastes the regex without parentheses: `a|b` = starts with a OR ends with b.
    #[case::alternation_start(
        "dev|rc",
        None,
        None,
        None,
        "dev-build-7",
        Some(400),
        Reason::Deleted
    )]
    #[case::alternation_end("dev|rc", None, None, None, "v2-rc", Some(400), Reason::Deleted)]
    #[case::alternation_middle(
        "dev|rc",
        None,
        None,
        None,
        "a-dev-b",
        Some(400),
        Reason::NotMatched
    )]
    // Keep regex wins over the delete regex, and is anchored too.
    #[case::keep_wins(".*", Some("v.*"), None, None, "v9", Some(400), Reason::KeepRegex)]
    #[case::keep_anchored(".*", Some("v"), None, None, "v9", Some(400), Reason::Deleted)]
    // Rule 4: strictly older than.
    #[case::older_than_kept(".*", None, None, Some(OlderThan::Days7), "t", Some(3), Reason::TooNew)]
    #[case::older_than_deleted(
        ".*",
        None,
        None,
        Some(OlderThan::Days7),
        "t",
        Some(8),
        Reason::Deleted
    )]
    #[case::no_timestamp_kept(
        ".*",
        None,
        None,
        Some(OlderThan::Days7),
        "t",
        None,
        Reason::NoTimestamp
    )]
    #[case::no_timestamp_no_age(".*", None, None, None, "t", None, Reason::Deleted)]
    fn single_rules(
        #[case] delete: &str,
        #[case] keep: Option<&str>,
        #[case] keep_n: Option<u32>,
        #[case] older: Option<OlderThan>,
        #[case] name: &str,
        #[case] age: Option<i64>,
        #[case] expected: Reason,
    ) {
        let p = policy(delete, keep, keep_n, older);
        assert_eq!(reason_of(&p, &[tag(name, age)], name), expected);
    }

    #[test]
    fn exactly_seven_days_old_is_not_older_than_seven_days() {
        let mut t = tag("edge", None);
        t.created_at = Some(NOW - 7 * DAY);
        let p = policy(".*", None, None, Some(OlderThan::Days7));
        assert_eq!(reason_of(&p, &[t.clone()], "edge"), Reason::TooNew);
        t.created_at = Some(NOW - 7 * DAY - 1);
        assert_eq!(reason_of(&p, &[t], "edge"), Reason::Deleted);
    }

    #[test]
    fn keep_n_keeps_the_newest_candidates_and_missing_timestamps_count_as_now() {
        let tags = [
            tag("old", Some(300)),
            tag("older", Some(400)),
            tag("undated", None),
            tag("new", Some(1)),
            tag("latest", Some(0)),
            tag("keepme", Some(500)),
        ];
        let p = policy(".*", Some("keep.*"), Some(1), None);
        let d = decide(&p, &tags);
        let r = |n: &str| d.iter().find(|(x, _)| x == n).map(|(_, r)| *r);
        // latest and the keep-regex tag are not candidates and do not use up keep_n.
        assert_eq!(r("latest"), Some(Reason::Latest));
        assert_eq!(r("keepme"), Some(Reason::KeepRegex));
        assert_eq!(
            r("undated"),
            Some(Reason::KeepN),
            "no timestamp sorts as now"
        );
        assert_eq!(
            r("new"),
            Some(Reason::Deleted),
            "newest dated, but undated counts as newer"
        );
        assert_eq!(r("old"), Some(Reason::Deleted));
        assert_eq!(r("older"), Some(Reason::Deleted));
    }

    #[test]
    fn keep_n_and_older_than_combine() {
        let tags = [
            tag("a", Some(100)),
            tag("b", Some(50)),
            tag("c", Some(10)),
            tag("d", Some(2)),
        ];
        let p = policy(".*", None, Some(1), Some(OlderThan::Days30));
        let d = decide(&p, &tags);
        assert_eq!(
            d.iter().map(|(_, r)| *r).collect::<Vec<_>>(),
            [
                Reason::Deleted,
                Reason::Deleted,
                Reason::TooNew,
                Reason::KeepN
            ]
        );
    }

    #[test]
    fn ties_at_the_keep_n_boundary_are_flagged() {
        let tags = [tag("x", Some(5)), tag("y", Some(5)), tag("z", Some(9))];
        let p = policy(".*", None, Some(1), None);
        let d = p
            .compile()
            .expect("valid")
            .evaluate(&tags, Mode::Legacy, NOW);
        assert!(d[0].tie && d[1].tie, "x and y share the boundary timestamp");
        assert!(!d[2].tie);
        assert_eq!(d.iter().filter(|d| d.reason == Reason::KeepN).count(), 1);
    }

    #[test]
    fn protected_tags_are_skipped_only_when_they_would_go() {
        let mut guarded = tag("release", Some(400));
        guarded.protection = Some(crate::tags::TagProtection {
            minimum_access_level_for_push: None,
            minimum_access_level_for_delete: Some(crate::AccessLevel::Maintainer),
        });
        let p = policy(".*", None, None, Some(OlderThan::Days90));
        assert_eq!(
            reason_of(&p, &[guarded.clone()], "release"),
            Reason::Protected
        );
        let young = Tag {
            created_at: Some(NOW - DAY),
            ..guarded
        };
        assert_eq!(reason_of(&p, &[young], "release"), Reason::TooNew);
    }

    #[test]
    fn fingerprints_name_the_deleted_set_not_its_size() {
        let d = |name: &str, reason| TagDecision {
            name: name.into(),
            reason,
            tie: false,
        };
        let a = [
            d("x", Reason::Deleted),
            d("y", Reason::Deleted),
            d("z", Reason::KeepN),
        ];
        let same = [
            d("z", Reason::TooNew),
            d("y", Reason::Deleted),
            d("x", Reason::Deleted),
        ];
        let other = [
            d("x", Reason::Deleted),
            d("y", Reason::KeepN),
            d("z", Reason::Deleted),
        ];
        assert_eq!(fingerprint(&a), fingerprint(&same));
        assert_ne!(fingerprint(&a), fingerprint(&other));
        // Name boundaries count: ["ab", "c"] is not ["a", "bc"].
        assert_ne!(
            fingerprint(&[d("ab", Reason::Deleted), d("c", Reason::Deleted)]),
            fingerprint(&[d("a", Reason::Deleted), d("bc", Reason::Deleted)])
        );
    }

    #[test]
    fn a_preview_survives_the_compact_wire_form() {
        let mut tags: Vec<Tag> = (0..50)
            .map(|i| {
                let mut t = tag(&format!("t{i:02}"), (i % 7 != 0).then_some(i));
                // Pairs of tags share an image; some have no manifest.
                let spread = (i as u64 / 2).wrapping_mul(0x9e37_79b9_7f4a_7c15);
                t.digest = (i % 11 != 0).then(|| format!("sha256:{spread:016x}{:048x}", i / 2));
                t.published_at = (i % 3 == 0).then_some(NOW - i * 3_600);
                t
            })
            .collect();
        tags[4].protection = Some(crate::tags::TagProtection {
            minimum_access_level_for_push: None,
            minimum_access_level_for_delete: Some(crate::AccessLevel::Owner),
        });
        let repository = PreviewRepository {
            id: 9,
            path: "a/b".into(),
            tags,
            complete: true,
            total: Some(50),
            cleanup_status: crate::CleanupStatus::Unscheduled,
        };
        let json = serde_json::to_string(&repository).expect("serializes");
        assert!(!json.contains("\"referrers\""), "compact: {json}");
        let back: PreviewRepository = serde_json::from_str(&json).expect("parses");
        let p = policy(".*", Some("t1.*"), Some(5), Some(OlderThan::Days7));
        for mode in [Mode::Legacy, Mode::MetadataDatabase] {
            let compiled = p.compile().expect("valid");
            let before = compiled.evaluate(&repository.tags, mode, NOW);
            let after = compiled.evaluate(&back.tags, mode, NOW);
            assert_eq!(before, after);
            assert_eq!(
                summarize(&repository.tags, &before),
                summarize(&back.tags, &after)
            );
        }
        assert_eq!(back.tags[4].protection, repository.tags[4].protection);
    }

    /// An overview of project acme/web with one repository holding `tags`, seen by a
    /// Maintainer, without the metadata database.
    fn one_repository(tags: Vec<Tag>) -> CleanupOverview {
        CleanupOverview {
            project: crate::ProjectDetails {
                id: 1,
                name: "web".into(),
                full_path: "acme/web".into(),
                description: None,
                visibility: "private".into(),
                web_url: String::new(),
                access: crate::AccessLevel::Maintainer,
            },
            saved: SavedPolicy {
                policy: CleanupPolicy::default(),
                next_run_at: None,
                notes: Vec::new(),
            },
            edit_refusal: None,
            mode: Mode::Legacy,
            repositories: vec![PreviewRepository {
                id: 1,
                path: "acme/web".into(),
                total: Some(tags.len() as u64),
                tags,
                complete: true,
                cleanup_status: crate::CleanupStatus::Unscheduled,
            }],
            now: NOW,
            rules: None,
            rules_note: None,
            runner: crate::AccessLevel::Maintainer,
        }
    }

    #[test]
    fn sidecars_counted_by_keep_n_and_imported_batches_are_warned_about() {
        let hex = "ab".repeat(32);
        let mut tags: Vec<Tag> = (0..12)
            .map(|i| tag(&format!("v1.{i}.0"), Some(400 - i * 20)))
            .collect();
        tags.push(tag(&format!("sha256-{hex}.sig"), Some(1)));
        let warns = |overview: &CleanupOverview, p: &CleanupPolicy, needle: &str| {
            preview(overview, p).expect("valid")[0]
                .warnings
                .iter()
                .any(|w| w.message.contains(needle))
        };
        let keep5 = policy(".*", None, Some(5), None);
        let overview = one_repository(tags.clone());
        assert!(warns(
            &overview,
            &keep5,
            "signature/attestation/SBOM tag (sha256"
        ));
        // A delete regex that leaves sidecars out: no warning.
        assert!(!warns(
            &overview,
            &policy("v.*", None, Some(5), None),
            "signature/attestation"
        ));
        // Every tag published at one instant with the metadata database: an import.
        let mut imported = one_repository(
            tags.into_iter()
                .map(|t| Tag {
                    published_at: Some(NOW - 3 * DAY),
                    ..t
                })
                .collect(),
        );
        imported.mode = Mode::MetadataDatabase;
        let older = policy(".*", None, None, Some(OlderThan::Days30));
        assert!(warns(&imported, &older, "one batch"));
        assert!(!warns(
            &one_repository(vec![tag("a", Some(1))]),
            &older,
            "one batch"
        ));
    }

    #[test]
    fn large_deletions_warn_that_gitlab_may_need_several_runs() {
        let warned = |n: i64| {
            let tags = (0..n).map(|i| tag(&format!("t{i}"), Some(400))).collect();
            let p = policy(".*", None, None, Some(OlderThan::Days90));
            preview(&one_repository(tags), &p).expect("valid")[0]
                .warnings
                .iter()
                .any(|w| w.kind == Warning::SeveralRuns { tags: n as u64 })
        };
        assert!(!warned(999));
        assert!(warned(1_000));
    }

    #[test]
    fn preview_protects_by_the_projects_rules_and_the_runner() {
        // The index still says `old` is protected (a rule since deleted) and knows nothing of
        // the new rule on `stable`: the rules in the overview decide.
        let mut stale = tag("old", Some(400));
        stale.protection = Some(crate::tags::TagProtection {
            minimum_access_level_for_push: None,
            minimum_access_level_for_delete: Some(crate::AccessLevel::Maintainer),
        });
        let mut overview = one_repository(vec![stale, tag("stable", Some(400))]);
        overview.repositories[0].cleanup_status = crate::CleanupStatus::Unfinished;
        let p = policy(".*", None, None, Some(OlderThan::Days90));
        let reasons = |overview: &CleanupOverview, actor| -> Vec<Reason> {
            preview_as(overview, &p, actor).expect("valid")[0]
                .decisions
                .iter()
                .map(|d| d.reason)
                .collect()
        };
        // GitLab's last run here was partial: said so.
        assert!(preview(&overview, &p).expect("valid")[0]
            .warnings
            .iter()
            .any(|w| w.kind == Warning::LastCleanupUnfinished));
        assert_eq!(
            reasons(&overview, None),
            [Reason::Protected, Reason::Deleted]
        );
        overview.rules = Some(crate::protection::ProtectionRules {
            repository: Vec::new(),
            tag: vec![crate::protection::TagRule {
                id: 1,
                pattern: "^stable$".into(),
                min_push: Some(crate::AccessLevel::Maintainer),
                min_delete: Some(crate::AccessLevel::Maintainer),
            }],
        });
        assert_eq!(
            reasons(&overview, None),
            [Reason::Deleted, Reason::Protected]
        );
        // A Maintainer's bulk delete may delete what only a Maintainer may delete.
        assert_eq!(
            reasons(&overview, Some(crate::AccessLevel::Maintainer)),
            [Reason::Deleted, Reason::Deleted]
        );
        assert_eq!(
            reasons(&overview, Some(crate::AccessLevel::Developer)),
            [Reason::Deleted, Reason::Protected]
        );
    }

    #[test]
    fn no_delete_regex_deletes_nothing() {
        let p = CleanupPolicy {
            name_regex: None,
            ..policy("", None, None, None)
        };
        assert_eq!(
            reason_of(&p, &[tag("a", Some(999))], "a"),
            Reason::NotMatched
        );
    }

    #[test]
    fn metadata_database_mode_uses_publish_time_and_pages_of_1000() {
        let mut t = tag("t", Some(400));
        t.published_at = Some(NOW - DAY);
        let p = policy(".*", None, None, Some(OlderThan::Days30));
        let compiled = p.compile().expect("valid");
        assert_eq!(
            compiled.evaluate(&[t.clone()], Mode::Legacy, NOW)[0].reason,
            Reason::Deleted
        );
        assert_eq!(
            compiled.evaluate(&[t], Mode::MetadataDatabase, NOW)[0].reason,
            Reason::TooNew
        );
        // keep_n 10 over 2,500 tags: 10 per page of 1,000 names in name order.
        let tags: Vec<Tag> = (0..2_500)
            .map(|i| tag(&format!("t{i:05}"), Some(100 + i)))
            .collect();
        let p = policy(".*", None, Some(10), None);
        let compiled = p.compile().expect("valid");
        let kept = |mode| {
            compiled
                .evaluate(&tags, mode, NOW)
                .iter()
                .filter(|d| d.reason == Reason::KeepN)
                .count()
        };
        assert_eq!(kept(Mode::Legacy), 10);
        assert_eq!(kept(Mode::MetadataDatabase), 30);
    }

    #[rstest]
    #[case("(?=v)x", PolicyField::NameRegex, "RE2")]
    #[case("(a)\\1", PolicyField::NameRegex, "RE2")]
    #[case("v1.(", PolicyField::NameRegex, "regular expression")]
    fn bad_regexes_name_their_field(
        #[case] re: &str,
        #[case] field: PolicyField,
        #[case] says: &str,
    ) {
        let error = policy(re, None, None, None)
            .compile()
            .err()
            .expect("refused");
        assert_eq!(error.field, field);
        assert!(error.message.contains(says), "{}", error.message);
        let error = policy(".*", Some(re), None, None)
            .compile()
            .err()
            .expect("refused");
        assert_eq!(error.field, PolicyField::NameRegexKeep);
    }

    #[test]
    fn limits_are_gitlabs() {
        let long = "a".repeat(256);
        let error = policy(&long, None, None, None)
            .compile()
            .err()
            .expect("too long");
        assert!(error.message.contains("255"));
        assert!(policy(&"a".repeat(255), None, None, None).compile().is_ok());
        let error = policy(".*", None, Some(7), None)
            .compile()
            .err()
            .expect("bad keep_n");
        assert_eq!(error.field, PolicyField::KeepN);
    }

    #[rstest]
    #[case("a|b", true)]
    #[case("(a|b)", false)]
    #[case("[|]", false)]
    #[case("a\\|b", false)]
    #[case("v.*", false)]
    fn alternation_warning(#[case] re: &str, #[case] warn: bool) {
        assert_eq!(alternation_unanchored(re), warn);
    }

    #[test]
    fn drafts_round_trip_through_the_url_and_bad_values_are_noted() {
        let draft = policy(
            "(dev|rc)-.*",
            Some("v.*"),
            Some(25),
            Some(OlderThan::Days14),
        );
        let pairs = crate::query::parse(&draft.to_query());
        let (back, notices) = CleanupPolicy::from_pairs(&pairs, &CleanupPolicy::default());
        assert!(notices.is_empty(), "{notices:?}");
        assert_eq!(back, draft);
        let bad = crate::query::parse("keep_n=7&older_than=1y&cadence=hourly&name_regex_keep=");
        let (back, notices) = CleanupPolicy::from_pairs(&bad, &draft);
        assert_eq!(notices.len(), 3);
        assert_eq!(back.keep_n, Some(25), "a bad value keeps the base");
        assert_eq!(back.name_regex_keep, None, "an empty value clears");
    }

    #[test]
    fn warnings_point_at_gitlabs_anchoring() {
        let w = policy("dev|rc", None, None, None).warnings();
        assert_eq!(w.len(), 1);
        assert!(w[0].to_string().contains("parentheses"));
        assert!(policy("(dev|rc)", None, None, None).warnings().is_empty());
    }

    #[test]
    fn summary_counts_bytes_of_images_nobody_keeps() {
        let mut shared_a = tag("a", Some(400));
        let mut shared_b = tag("b", Some(1));
        shared_a.digest = Some("sha256:same".into());
        shared_b.digest = Some("sha256:same".into());
        let alone = tag("c", Some(400));
        let tags = [shared_a, shared_b, alone];
        let p = policy(".*", None, None, Some(OlderThan::Days30));
        let d = p
            .compile()
            .expect("valid")
            .evaluate(&tags, Mode::Legacy, NOW);
        let s = summarize(&tags, &d);
        assert_eq!((s.deleted, s.kept), (2, 1));
        assert_eq!(s.bytes_freed, 100, "a's image is still used by b");
    }

    fn arb_tags() -> impl Strategy<Value = Vec<Tag>> {
        proptest::collection::vec(
            (
                "[a-z]{1,3}|latest|v[0-9]",
                proptest::option::of(0i64..200),
                any::<bool>(),
            ),
            0..60,
        )
        .prop_map(|specs| {
            let mut seen = std::collections::HashSet::new();
            specs
                .into_iter()
                .filter(|(n, _, _)| seen.insert(n.clone()))
                .map(|(n, age, protected)| {
                    let mut t = tag(&n, age);
                    if protected {
                        t.protection = Some(crate::tags::TagProtection {
                            minimum_access_level_for_push: None,
                            minimum_access_level_for_delete: None,
                        });
                    }
                    t
                })
                .collect()
        })
    }

    proptest! {
        #[test]
        fn never_deletes_latest_or_keep_regex_matches(
            tags in arb_tags(),
            keep_n in proptest::option::of(proptest::sample::select(KEEP_N_VALUES.to_vec())),
            older in proptest::option::of(proptest::sample::select(OlderThan::ALL.to_vec())),
            metadata in any::<bool>(),
        ) {
            let p = policy(".*", Some("v[0-9]"), keep_n, older);
            let mode = if metadata { Mode::MetadataDatabase } else { Mode::Legacy };
            let decisions = p.compile().expect("valid").evaluate(&tags, mode, NOW);
            for (t, d) in tags.iter().zip(&decisions) {
                prop_assert_eq!(&t.name, &d.name);
                let keep_match = t.name.len() == 2 && t.name.starts_with('v') && t.name.as_bytes()[1].is_ascii_digit();
                if t.name == "latest" || keep_match || t.is_protected() {
                    prop_assert!(!d.reason.deletes(), "{} was deleted", t.name);
                }
            }
            // keep_n = n keeps at least min(n, candidates) candidates.
            if let Some(n) = keep_n {
                let candidates = decisions.iter().filter(|d| !matches!(d.reason, Reason::Latest | Reason::KeepRegex | Reason::NotMatched)).count();
                let kept = decisions.iter().filter(|d| d.reason == Reason::KeepN).count();
                prop_assert!(kept >= (n as usize).min(candidates));
            }
        }
    }
}
