//! The policy as GitLab stores it: its fields and the values GitLab offers, the checks GitLab
//! makes before saving (RE2 regexes of at most 255 characters, anchored as GitLab anchors
//! them), and its form in a URL.

use super::{PolicyRegex, Warning};
use serde::{Deserialize, Serialize};

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

    /// Seconds between runs; a month counts as 30 days (GitLab adds calendar months, so a
    /// date from it may be off by a day or two).
    pub fn seconds(self) -> i64 {
        const DAY: i64 = 86_400;
        match self {
            Cadence::Daily => DAY,
            Cadence::Weekly => 7 * DAY,
            Cadence::Fortnightly => 14 * DAY,
            Cadence::Monthly => 30 * DAY,
            Cadence::Quarterly => 90 * DAY,
        }
    }

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
    /// Offered since GitLab 14.4.
    Days60,
    Days90,
}

impl OlderThan {
    pub const ALL: [OlderThan; 5] = [
        OlderThan::Days7,
        OlderThan::Days14,
        OlderThan::Days30,
        OlderThan::Days60,
        OlderThan::Days90,
    ];

    /// GitLab's value: `7d`, `14d`, `30d`, `60d`, `90d`.
    pub fn as_param(self) -> &'static str {
        match self {
            OlderThan::Days7 => "7d",
            OlderThan::Days14 => "14d",
            OlderThan::Days30 => "30d",
            OlderThan::Days60 => "60d",
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
            OlderThan::Days60 => 60,
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
        use crate::view::{Notice, UrlNote};
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
                    None => notices.push(Notice::from(UrlNote::NotACadence {
                        value: value.clone(),
                    })),
                },
                "keep_n" if trimmed.is_empty() => policy.keep_n = None,
                "keep_n" => match trimmed.parse::<u32>() {
                    Ok(n) if KEEP_N_VALUES.contains(&n) => policy.keep_n = Some(n),
                    _ => notices.push(Notice::from(UrlNote::NotAKeepN {
                        value: value.clone(),
                    })),
                },
                "older_than" if trimmed.is_empty() => policy.older_than = None,
                "older_than" => match OlderThan::from_param(trimmed) {
                    Some(o) => policy.older_than = Some(o),
                    None => notices.push(Notice::from(UrlNote::NotAnOlderThan {
                        value: value.clone(),
                    })),
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
