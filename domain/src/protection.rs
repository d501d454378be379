//! Container registry protection rules: what they are, GitLab's limits and validations (checked
//! here first so a mistake is shown on its field without a round trip), and which tags and
//! repositories they protect.
//!
//! Tag rules carry an RE2 pattern matched anywhere in the tag name; repository rules a path
//! pattern where `*` matches anything and the rest is literal, case-insensitively, over the
//! whole path. GitLab keeps at most five rules of each kind per project.

use serde::{Deserialize, Serialize};

use crate::AccessLevel;

/// Rules of one kind a project may have.
pub const MAX_RULES: usize = 5;
/// Longest tag name pattern GitLab accepts.
pub const MAX_TAG_PATTERN: usize = 100;
/// Longest repository path pattern GitLab accepts.
pub const MAX_REPOSITORY_PATTERN: usize = 255;
/// The levels a rule may demand.
pub const RULE_LEVELS: [AccessLevel; 3] = [
    AccessLevel::Maintainer,
    AccessLevel::Owner,
    AccessLevel::Admin,
];

/// A tag protection rule: who may push and who may delete tags whose name matches. A rule
/// without levels is GitLab's immutable-tag rule: nobody may change or delete those tags.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TagRule {
    pub id: u64,
    pub pattern: String,
    pub min_push: Option<AccessLevel>,
    pub min_delete: Option<AccessLevel>,
}

impl TagRule {
    /// GitLab's immutable-tag rule (no levels).
    pub fn is_immutable(&self) -> bool {
        self.min_push.is_none() && self.min_delete.is_none()
    }
}

/// A repository protection rule (`*` wildcards over the repository path).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RepositoryRule {
    pub id: u64,
    pub pattern: String,
    pub min_push: Option<AccessLevel>,
    pub min_delete: Option<AccessLevel>,
}

/// A project's rules, as GitLab lists them to a Maintainer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProtectionRules {
    pub repository: Vec<RepositoryRule>,
    pub tag: Vec<TagRule>,
}

/// A tag rule's fields, for creating or changing one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TagRuleDraft {
    pub pattern: String,
    pub min_push: AccessLevel,
    pub min_delete: AccessLevel,
}

/// A repository rule's fields, for creating or changing one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RepositoryRuleDraft {
    pub pattern: String,
    pub min_push: Option<AccessLevel>,
    pub min_delete: Option<AccessLevel>,
}

/// One change to a project's rules. As data it is checked on arrival for what needs no
/// GitLab answer (pattern lengths, rule ids); [`RuleChange::validate`] then checks it
/// against the project's rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RuleChangeFields")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum RuleChange {
    CreateTag(TagRuleDraft),
    UpdateTag(u64, TagRuleDraft),
    DeleteTag(u64),
    CreateRepository(RepositoryRuleDraft),
    UpdateRepository(u64, RepositoryRuleDraft),
    DeleteRepository(u64),
}

/// [`RuleChange`] as it arrives, before its shape is checked.
#[derive(Deserialize)]
enum RuleChangeFields {
    CreateTag(TagRuleDraft),
    UpdateTag(u64, TagRuleDraft),
    DeleteTag(u64),
    CreateRepository(RepositoryRuleDraft),
    UpdateRepository(u64, RepositoryRuleDraft),
    DeleteRepository(u64),
}

impl TryFrom<RuleChangeFields> for RuleChange {
    type Error = RuleError;
    fn try_from(fields: RuleChangeFields) -> Result<Self, RuleError> {
        let change = match fields {
            RuleChangeFields::CreateTag(d) => RuleChange::CreateTag(d),
            RuleChangeFields::UpdateTag(id, d) => RuleChange::UpdateTag(id, d),
            RuleChangeFields::DeleteTag(id) => RuleChange::DeleteTag(id),
            RuleChangeFields::CreateRepository(d) => RuleChange::CreateRepository(d),
            RuleChangeFields::UpdateRepository(id, d) => RuleChange::UpdateRepository(id, d),
            RuleChangeFields::DeleteRepository(id) => RuleChange::DeleteRepository(id),
        };
        change.check_shape()?;
        Ok(change)
    }
}

/// Why a change cannot be made, tied to the field to show it on (`None`: the whole form).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleError {
    pub field: Option<RuleField>,
    pub message: String,
}

impl std::fmt::Display for RuleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RuleField {
    Pattern,
    Levels,
}

fn error(field: Option<RuleField>, message: impl Into<String>) -> RuleError {
    RuleError {
        field,
        message: message.into(),
    }
}

/// Compiles a tag rule pattern as GitLab matches it: RE2, anywhere in the name.
pub fn tag_pattern(pattern: &str) -> Result<regex::bytes::Regex, RuleError> {
    if pattern.trim().is_empty() {
        return Err(error(Some(RuleField::Pattern), "Enter a tag name pattern."));
    }
    let length = pattern.chars().count();
    if length > MAX_TAG_PATTERN {
        return Err(error(
            Some(RuleField::Pattern),
            format!("GitLab accepts at most {MAX_TAG_PATTERN} characters; this has {length}."),
        ));
    }
    crate::tags::compile_regex(pattern).map_err(|e| error(Some(RuleField::Pattern), e.to_string()))
}

/// GitLab's grammar for a repository path with `*` wildcards: lowercase segments of letters,
/// digits and `*`, joined by `.`, `_`, `__` or dashes, separated by `/`.
fn repository_pattern_well_formed(pattern: &str) -> bool {
    pattern.split('/').all(|segment| {
        let bytes = segment.as_bytes();
        let word = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'*';
        if bytes.first().is_none_or(|b| !word(b)) || bytes.last().is_none_or(|b| !word(b)) {
            return false;
        }
        // Separators between words: one `.` or `_`, `__`, or any run of `-`.
        let mut i = 0;
        while i < bytes.len() {
            if word(&bytes[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len() && !word(&bytes[i]) {
                i += 1;
            }
            let run = &segment[start..i];
            let ok = matches!(run, "." | "_" | "__") || run.bytes().all(|b| b == b'-');
            if !ok {
                return false;
            }
        }
        true
    })
}

/// Checks a repository path pattern for `project_path`'s project.
pub fn check_repository_pattern(pattern: &str, project_path: &str) -> Result<(), RuleError> {
    let field = Some(RuleField::Pattern);
    if pattern.trim().is_empty() {
        return Err(error(field, "Enter a repository path pattern."));
    }
    let length = pattern.chars().count();
    if length > MAX_REPOSITORY_PATTERN {
        return Err(error(
            field,
            format!(
                "GitLab accepts at most {MAX_REPOSITORY_PATTERN} characters; this has {length}."
            ),
        ));
    }
    if !repository_pattern_well_formed(pattern) {
        return Err(error(
            field,
            "Use a container repository path (lowercase letters, digits, . _ - and /) with \
                optional * wildcards.",
        ));
    }
    if !pattern
        .to_ascii_lowercase()
        .starts_with(&project_path.to_ascii_lowercase())
    {
        return Err(error(
            field,
            format!("The pattern must start with the project's path, {project_path}."),
        ));
    }
    Ok(())
}

/// Whether a repository rule's pattern covers `path` (`*` = anything, case-insensitive).
pub fn repository_pattern_matches(pattern: &str, path: &str) -> bool {
    let pattern = pattern.to_ascii_lowercase();
    let path = path.to_ascii_lowercase();
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = path.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

impl RuleChange {
    /// What can be checked without the project's rules: rule ids are GitLab ids, patterns
    /// are within GitLab's lengths (so nothing larger is ever compiled or sent).
    pub fn check_shape(&self) -> Result<(), RuleError> {
        let (id, pattern, max) = match self {
            RuleChange::CreateTag(d) => (None, Some(&d.pattern), MAX_TAG_PATTERN),
            RuleChange::UpdateTag(id, d) => (Some(*id), Some(&d.pattern), MAX_TAG_PATTERN),
            RuleChange::DeleteTag(id) | RuleChange::DeleteRepository(id) => (Some(*id), None, 0),
            RuleChange::CreateRepository(d) => (None, Some(&d.pattern), MAX_REPOSITORY_PATTERN),
            RuleChange::UpdateRepository(id, d) => {
                (Some(*id), Some(&d.pattern), MAX_REPOSITORY_PATTERN)
            }
        };
        if id == Some(0) {
            return Err(error(None, "Rule ids are positive numbers."));
        }
        if let Some(pattern) = pattern {
            let length = pattern.chars().count();
            if length > max {
                return Err(error(
                    Some(RuleField::Pattern),
                    format!("GitLab accepts at most {max} characters; this has {length}."),
                ));
            }
        }
        Ok(())
    }

    /// GitLab's checks, made before asking it: limits, duplicates, pattern syntax, levels.
    pub fn validate(&self, rules: &ProtectionRules, project_path: &str) -> Result<(), RuleError> {
        match self {
            RuleChange::CreateTag(draft) | RuleChange::UpdateTag(_, draft) => {
                let id = match self {
                    RuleChange::UpdateTag(id, _) => {
                        if find(&rules.tag, *id, |r| r.id)?.is_immutable() {
                            return Err(error(
                                None,
                                "Immutable tag rules are managed in GitLab; this dashboard does \
                                    not change them.",
                            ));
                        }
                        Some(*id)
                    }
                    _ => None,
                };
                if id.is_none() && rules.tag.len() >= MAX_RULES {
                    return Err(limit("tag"));
                }
                tag_pattern(&draft.pattern)?;
                if rules
                    .tag
                    .iter()
                    .any(|r| Some(r.id) != id && r.pattern == draft.pattern)
                {
                    return Err(taken());
                }
                for level in [draft.min_push, draft.min_delete] {
                    if !RULE_LEVELS.contains(&level) {
                        return Err(levels());
                    }
                }
                Ok(())
            }
            RuleChange::CreateRepository(draft) | RuleChange::UpdateRepository(_, draft) => {
                let existing = match self {
                    RuleChange::UpdateRepository(id, _) => {
                        Some(find(&rules.repository, *id, |r| r.id)?)
                    }
                    _ => None,
                };
                let id = existing.map(|r| r.id);
                if id.is_none() && rules.repository.len() >= MAX_RULES {
                    return Err(limit("repository"));
                }
                // GitLab checks the project prefix only for a new or changed pattern (a rule
                // from before a project was renamed keeps its pattern).
                if existing.is_none_or(|r| r.pattern != draft.pattern) {
                    check_repository_pattern(&draft.pattern, project_path)?;
                }
                if rules
                    .repository
                    .iter()
                    .any(|r| Some(r.id) != id && r.pattern == draft.pattern)
                {
                    return Err(taken());
                }
                if draft.min_push.is_none() && draft.min_delete.is_none() {
                    return Err(error(
                        Some(RuleField::Levels),
                        "A rule must restrict push, delete, or both.",
                    ));
                }
                if [draft.min_push, draft.min_delete]
                    .into_iter()
                    .flatten()
                    .any(|l| !RULE_LEVELS.contains(&l))
                {
                    return Err(levels());
                }
                Ok(())
            }
            RuleChange::DeleteTag(id) => find(&rules.tag, *id, |r| r.id).map(drop),
            RuleChange::DeleteRepository(id) => find(&rules.repository, *id, |r| r.id).map(drop),
        }
    }

    /// What the change does, for logs and confirmations.
    pub fn describe(&self) -> String {
        match self {
            RuleChange::CreateTag(d) => format!("protect tags matching {}", d.pattern),
            RuleChange::UpdateTag(_, d) => format!("change the tag rule to {}", d.pattern),
            RuleChange::DeleteTag(_) => "delete a tag rule".into(),
            RuleChange::CreateRepository(d) => {
                format!("protect repositories matching {}", d.pattern)
            }
            RuleChange::UpdateRepository(_, d) => {
                format!("change the repository rule to {}", d.pattern)
            }
            RuleChange::DeleteRepository(_) => "delete a repository rule".into(),
        }
    }
}

fn find<T>(rules: &[T], id: u64, key: impl Fn(&T) -> u64) -> Result<&T, RuleError> {
    rules.iter().find(|r| key(r) == id).ok_or_else(|| {
        error(
            None,
            "That rule no longer exists; someone may have changed the rules. Reload to see them.",
        )
    })
}

fn limit(kind: &str) -> RuleError {
    error(
        None,
        format!(
            "GitLab allows at most {MAX_RULES} {kind} protection rules per project; delete one \
            first."
        ),
    )
}

fn taken() -> RuleError {
    error(
        Some(RuleField::Pattern),
        "A rule with this pattern already exists.",
    )
}

fn levels() -> RuleError {
    error(
        Some(RuleField::Levels),
        "Protection levels are Maintainer, Owner or Administrator.",
    )
}

/// Decides which tags protection rules keep from deletion.
///
/// GitLab's scheduled cleanup runs without a user, so every matching rule protects. A bulk
/// delete runs as the caller: a rule protects only when its delete level is above the caller's.
pub enum TagGuard {
    /// Each tag's own `protection` as the index read it.
    FromTags { actor: Option<AccessLevel> },
    /// The project's rules, compiled.
    FromRules {
        rules: Vec<(regex::bytes::Regex, Option<AccessLevel>)>,
        actor: Option<AccessLevel>,
        /// Some rule did not compile here: the tags' own protection counts too.
        fallback: bool,
    },
}

impl TagGuard {
    /// Compiles `rules`. A pattern GitLab stored but this engine cannot compile falls back to
    /// the protection GitLab reported on each tag, so nothing is shown as deletable that
    /// GitLab protects.
    pub fn from_rules(rules: &[TagRule], actor: Option<AccessLevel>) -> TagGuard {
        let compiled: Vec<_> = rules
            .iter()
            .filter_map(|r| tag_pattern(&r.pattern).ok().map(|re| (re, r.min_delete)))
            .collect();
        TagGuard::FromRules {
            fallback: compiled.len() < rules.len(),
            rules: compiled,
            actor,
        }
    }

    /// Whether `tag` is kept from deletion.
    pub fn protects(&self, tag: &crate::tags::Tag) -> bool {
        let blocks = |actor: Option<AccessLevel>, min_delete: Option<AccessLevel>| match actor {
            None => true,
            Some(actor) => min_delete.is_none_or(|min| actor < min),
        };
        match self {
            TagGuard::FromTags { actor } => tag
                .protection
                .as_ref()
                .is_some_and(|p| blocks(*actor, p.minimum_access_level_for_delete)),
            TagGuard::FromRules {
                rules,
                actor,
                fallback,
            } => {
                rules
                    .iter()
                    .any(|(re, min)| re.is_match(tag.name.as_bytes()) && blocks(*actor, *min))
                    || (*fallback && TagGuard::FromTags { actor: *actor }.protects(tag))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tags::{Tag, TagProtection};

    #[test]
    fn rule_changes_arriving_as_data_are_checked_for_shape() {
        let ok = r#"{"CreateTag":{"pattern":"^v","min_push":"Maintainer","min_delete":"Owner"}}"#;
        assert!(serde_json::from_str::<RuleChange>(ok).is_ok());
        let long = ok.replace("^v", &"a".repeat(MAX_TAG_PATTERN + 1));
        assert!(serde_json::from_str::<RuleChange>(&long).is_err());
        assert!(serde_json::from_str::<RuleChange>(r#"{"DeleteTag":0}"#).is_err());
        assert!(serde_json::from_str::<RuleChange>(r#"{"DeleteRepository":3}"#).is_ok());
    }

    /// A tag with a name and nothing else.
    fn bare(name: &str) -> Tag {
        Tag {
            name: name.into(),
            digest: None,
            revision: None,
            created_at: None,
            published_at: None,
            total_size: None,
            media_type: None,
            referrers: Vec::new(),
            protection: None,
        }
    }

    fn tag_draft(pattern: &str) -> TagRuleDraft {
        TagRuleDraft {
            pattern: pattern.into(),
            min_push: AccessLevel::Maintainer,
            min_delete: AccessLevel::Maintainer,
        }
    }

    fn rules_with_tags(patterns: &[&str]) -> ProtectionRules {
        ProtectionRules {
            repository: Vec::new(),
            tag: patterns
                .iter()
                .enumerate()
                .map(|(i, p)| TagRule {
                    id: i as u64 + 1,
                    pattern: (*p).into(),
                    min_push: Some(AccessLevel::Maintainer),
                    min_delete: Some(AccessLevel::Maintainer),
                })
                .collect(),
        }
    }

    #[test]
    fn tag_rules_follow_gitlabs_limits() {
        let rules = rules_with_tags(&["^v", "stable"]);
        let create = |p: &str| RuleChange::CreateTag(tag_draft(p)).validate(&rules, "acme/web");
        assert!(create("^release-").is_ok());
        assert_eq!(
            create("stable").unwrap_err().field,
            Some(RuleField::Pattern)
        );
        assert_eq!(create("").unwrap_err().field, Some(RuleField::Pattern));
        assert!(create(&"a".repeat(100)).is_ok());
        assert!(create(&"a".repeat(101))
            .unwrap_err()
            .message
            .contains("100"));
        assert!(create("(?=x)").unwrap_err().message.contains("RE2"));
        // Updating a rule to its own pattern is not a duplicate; to another's is.
        assert!(RuleChange::UpdateTag(2, tag_draft("stable"))
            .validate(&rules, "acme/web")
            .is_ok());
        assert!(RuleChange::UpdateTag(2, tag_draft("^v"))
            .validate(&rules, "acme/web")
            .is_err());
        assert!(RuleChange::DeleteTag(9)
            .validate(&rules, "acme/web")
            .is_err());
        let full = rules_with_tags(&["a", "b", "c", "d", "e"]);
        let refused = RuleChange::CreateTag(tag_draft("f"))
            .validate(&full, "acme/web")
            .unwrap_err();
        assert!(refused.message.contains("at most 5"));
        let mut weak = tag_draft("x");
        weak.min_delete = AccessLevel::Developer;
        assert_eq!(
            RuleChange::CreateTag(weak)
                .validate(&rules, "acme/web")
                .unwrap_err()
                .field,
            Some(RuleField::Levels)
        );
    }

    #[test]
    fn repository_patterns_follow_gitlabs_grammar() {
        let ok = |p: &str| check_repository_pattern(p, "acme/web").is_ok();
        assert!(ok("acme/web"));
        assert!(ok("acme/web/*"));
        assert!(ok("acme/web*"));
        assert!(ok("acme/web/worker-2.x__y"));
        assert!(!ok("acme/Web/x"));
        assert!(!ok("acme/web/"));
        assert!(!ok("acme/web//x"));
        assert!(!ok("acme/web/a..b"));
        assert!(!ok("other/web"));
        assert!(!ok(""));
        let draft = RepositoryRuleDraft {
            pattern: "acme/web/*".into(),
            min_push: None,
            min_delete: None,
        };
        let error = RuleChange::CreateRepository(draft)
            .validate(&ProtectionRules::default(), "acme/web")
            .unwrap_err();
        assert_eq!(error.field, Some(RuleField::Levels));
    }

    #[test]
    fn immutable_rules_and_rules_this_engine_cannot_read_stay_protective() {
        let tag = |name: &str, protected: bool| Tag {
            protection: protected.then_some(TagProtection {
                minimum_access_level_for_push: None,
                minimum_access_level_for_delete: None,
            }),
            ..bare(name)
        };
        let immutable = TagRule {
            id: 1,
            pattern: "^v".into(),
            min_push: None,
            min_delete: None,
        };
        assert!(
            TagGuard::from_rules(std::slice::from_ref(&immutable), Some(AccessLevel::Owner))
                .protects(&tag("v1", false))
        );
        let rules = ProtectionRules {
            repository: Vec::new(),
            tag: vec![immutable.clone()],
        };
        let edit = RuleChange::UpdateTag(1, tag_draft("^w"));
        assert!(edit.validate(&rules, "acme/web").is_err());
        // A pattern GitLab stored that does not compile here: trust the tags' own protection.
        let odd = TagRule {
            id: 2,
            pattern: "(?=x)".into(),
            ..immutable
        };
        let guard = TagGuard::from_rules(&[odd], None);
        assert!(guard.protects(&tag("a", true)));
        assert!(!guard.protects(&tag("b", false)));
    }

    #[test]
    fn a_renamed_projects_old_repository_rule_keeps_its_pattern() {
        let rules = ProtectionRules {
            repository: vec![RepositoryRule {
                id: 4,
                pattern: "old-name/web/*".into(),
                min_push: None,
                min_delete: Some(AccessLevel::Owner),
            }],
            tag: Vec::new(),
        };
        let draft = |pattern: &str| RepositoryRuleDraft {
            pattern: pattern.into(),
            min_push: Some(AccessLevel::Maintainer),
            min_delete: Some(AccessLevel::Owner),
        };
        assert!(RuleChange::UpdateRepository(4, draft("old-name/web/*"))
            .validate(&rules, "acme/web")
            .is_ok());
        assert!(RuleChange::UpdateRepository(4, draft("old-name/web/x*"))
            .validate(&rules, "acme/web")
            .is_err());
    }

    #[test]
    fn repository_wildcards_cover_whole_paths() {
        assert!(repository_pattern_matches("acme/web/*", "acme/web/worker"));
        assert!(repository_pattern_matches("acme/web/*", "Acme/Web/Worker"));
        assert!(!repository_pattern_matches("acme/web/*", "acme/web"));
        assert!(repository_pattern_matches("acme/web", "acme/web"));
        assert!(!repository_pattern_matches("acme/web", "acme/web/worker"));
        assert!(repository_pattern_matches(
            "acme/*/api*",
            "acme/platform/api/server"
        ));
        assert!(!repository_pattern_matches("acme/*x*x", "acme/x"));
        assert!(repository_pattern_matches("acme/*", "acme/"));
    }

    #[test]
    fn guards_protect_by_rule_and_by_actor() {
        let tag = bare;
        let rules = vec![TagRule {
            id: 1,
            pattern: "stable".into(),
            min_push: Some(AccessLevel::Maintainer),
            min_delete: Some(AccessLevel::Owner),
        }];
        let scheduled = TagGuard::from_rules(&rules, None);
        // Unanchored, like GitLab.
        assert!(scheduled.protects(&tag("stable")));
        assert!(scheduled.protects(&tag("v1-stable-2")));
        assert!(!scheduled.protects(&tag("v1")));
        let maintainer = TagGuard::from_rules(&rules, Some(AccessLevel::Maintainer));
        let owner = TagGuard::from_rules(&rules, Some(AccessLevel::Owner));
        assert!(maintainer.protects(&tag("stable")));
        assert!(!owner.protects(&tag("stable")));
        let mut guarded = tag("x");
        guarded.protection = Some(TagProtection {
            minimum_access_level_for_push: Some(AccessLevel::Maintainer),
            minimum_access_level_for_delete: Some(AccessLevel::Maintainer),
        });
        assert!(TagGuard::FromTags { actor: None }.protects(&guarded));
        assert!(!TagGuard::FromTags {
            actor: Some(AccessLevel::Maintainer)
        }
        .protects(&guarded));
        assert!(TagGuard::FromTags {
            actor: Some(AccessLevel::Developer)
        }
        .protects(&guarded));
    }
}
