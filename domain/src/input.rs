//! Validating constructors for what users send: project and group paths, tag names, lists of
//! tag names, repository ids. Whatever the transport (a URL, a form, the JSON API, a server
//! function's arguments), an input becomes one of these types only through its constructor,
//! and the services take only these types, so nothing unchecked reaches GitLab.
//!
//! The rules are GitLab's own, checked before anything is sent:
//! - a path segment is `[A-Za-z0-9_]` alone, or starts with `[A-Za-z0-9_.]`, continues with
//!   `[A-Za-z0-9_.-]` and ends with `[A-Za-z0-9_-]` (GitLab's `PathRegex`): `.` and `..` are
//!   never segments, so a path can never climb to another GitLab endpoint;
//! - a tag name is `[\w][\w.-]{0,127}` (the registry's grammar);
//! - a deletion names at most [`crate::tags::MAX_DELETE_BATCH`] distinct tags; the cap is
//!   checked on the raw list first, so an oversized list costs nothing, and duplicates are
//!   removed with a hash set (linear, never quadratic).

use crate::tags::MAX_DELETE_BATCH;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// Longest project or group path accepted (GitLab nests at most 20 levels of 255 characters;
/// real paths are far shorter).
pub const MAX_PATH_LEN: usize = 1_024;
/// Deepest namespace nesting GitLab allows.
pub const MAX_PATH_SEGMENTS: usize = 20;
/// Longest tag name (the registry's limit).
pub const MAX_TAG_NAME_LEN: usize = 128;
/// Longest instance name accepted in a URL (configuration allows 40).
pub const MAX_INSTANCE_NAME_LEN: usize = 40;

/// Why an input was refused, in words for the user.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InputError(pub String);

/// Shortens user text quoted in an error message (it is echoed back, so keep it small).
pub fn quoted(text: &str) -> String {
    const MAX: usize = 60;
    if text.chars().count() > MAX {
        let head: String = text.chars().take(MAX).collect();
        format!("“{head}…”")
    } else {
        format!("“{text}”")
    }
}

fn segment_ok(segment: &str) -> bool {
    let bytes = segment.as_bytes();
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    match bytes {
        [] => false,
        [only] => word(*only),
        [first, middle @ .., last] => {
            (word(*first) || *first == b'.')
                && middle.iter().all(|&b| word(b) || b == b'.' || b == b'-')
                && (word(*last) || *last == b'-')
        }
    }
}

/// A project or group: its full path (`group/subgroup/project`) or its numeric id.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct NamespacePath(String);

impl NamespacePath {
    /// Checks GitLab's path grammar; `what` names the input in the error ("project path").
    pub fn parse_as(raw: &str, what: &str) -> Result<Self, InputError> {
        let path = raw.trim().trim_matches('/');
        if path.is_empty() {
            return Err(InputError(format!("The {what} is empty.")));
        }
        if path.len() > MAX_PATH_LEN {
            return Err(InputError(format!(
                "The {what} is longer than {MAX_PATH_LEN} characters."
            )));
        }
        let segments = path.split('/').count();
        if segments > MAX_PATH_SEGMENTS {
            return Err(InputError(format!(
                "The {what} has more than {MAX_PATH_SEGMENTS} levels."
            )));
        }
        if !path.split('/').all(segment_ok) {
            return Err(InputError(format!(
                "{} is not a GitLab {what}: each part is letters, digits, '_', '-' and '.', and \
                    does not start with '-' or end with '.'.",
                quoted(path)
            )));
        }
        Ok(NamespacePath(path.to_string()))
    }

    /// A project's path or id.
    pub fn project(raw: &str) -> Result<Self, InputError> {
        Self::parse_as(raw, "project path")
    }

    /// A group's path or id.
    pub fn group(raw: &str) -> Result<Self, InputError> {
        Self::parse_as(raw, "group path")
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for NamespacePath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for NamespacePath {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        NamespacePath::parse_as(&raw, "path").map_err(serde::de::Error::custom)
    }
}

/// One tag name, as the registry allows it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct TagName(String);

impl TagName {
    pub fn parse(raw: &str) -> Result<Self, InputError> {
        if valid_tag_name(raw) {
            Ok(TagName(raw.to_string()))
        } else {
            Err(InputError(format!(
                "{} is not a tag name: tags are 1–{MAX_TAG_NAME_LEN} letters, digits, '_', '.' and \
                    '-', starting with a letter, digit or '_'.",
                quoted(raw)
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::fmt::Display for TagName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for TagName {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        TagName::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// Two tags to compare (`?a=…&b=…` in a URL, the JSON API and the server function alike).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagPair {
    pub a: TagName,
    pub b: TagName,
}

impl TagPair {
    /// Both names, checked.
    pub fn new(a: &str, b: &str) -> Result<Self, InputError> {
        let named = |raw: &str, which: &str| {
            if raw.is_empty() {
                Err(InputError(format!("Choose the {which} tag to compare.")))
            } else {
                TagName::parse(raw)
            }
        };
        Ok(TagPair {
            a: named(a, "first")?,
            b: named(b, "second")?,
        })
    }

    /// From a query string's pairs: `a` and `b`, nothing else.
    pub fn from_pairs(pairs: &[(String, String)]) -> Result<Self, InputError> {
        let mut a = "";
        let mut b = "";
        for (key, value) in pairs {
            match key.as_str() {
                "a" => a = value,
                "b" => b = value,
                other => {
                    return Err(InputError(format!(
                        "Unknown parameter {}: a comparison takes a and b.",
                        quoted(other)
                    )))
                }
            }
        }
        TagPair::new(a, b)
    }
}

/// The registry's tag grammar: `[\w][\w.-]{0,127}` (ASCII word characters).
pub fn valid_tag_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    !bytes.is_empty()
        && bytes.len() <= MAX_TAG_NAME_LEN
        && word(bytes[0])
        && bytes[1..]
            .iter()
            .all(|&b| word(b) || b == b'.' || b == b'-')
}

/// The tags of one confirmed deletion: 1 to [`MAX_DELETE_BATCH`] distinct valid names, in
/// the order first given.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct TagNames(Vec<TagName>);

impl TagNames {
    /// Checks the count first (an oversized list is refused without looking at it), then
    /// every name, and drops repeats.
    pub fn new(raw: Vec<String>) -> Result<Self, InputError> {
        if raw.is_empty() {
            return Err(InputError("No tags were selected.".into()));
        }
        if raw.len() > MAX_DELETE_BATCH {
            return Err(InputError(format!(
                "At most {MAX_DELETE_BATCH} tags can be deleted at once; {} were sent.",
                raw.len()
            )));
        }
        let mut seen = HashSet::with_capacity(raw.len());
        let mut names = Vec::with_capacity(raw.len());
        for name in raw {
            let name = TagName::parse(&name)
                .map_err(|e| InputError(format!("{e} Nothing was deleted.")))?;
            if seen.insert(name.clone()) {
                names.push(name);
            }
        }
        Ok(TagNames(names))
    }

    pub fn iter(&self) -> impl Iterator<Item = &TagName> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The names as plain strings.
    pub fn to_strings(&self) -> Vec<String> {
        self.0.iter().map(|n| n.0.clone()).collect()
    }
}

impl IntoIterator for TagNames {
    type Item = TagName;
    type IntoIter = std::vec::IntoIter<TagName>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'de> Deserialize<'de> for TagNames {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Vec::<String>::deserialize(deserializer)?;
        TagNames::new(raw).map_err(serde::de::Error::custom)
    }
}

/// A GitLab id from a URL or a request: a positive integer.
pub fn positive_id(raw: &str, what: &str) -> Result<u64, InputError> {
    match raw.trim().parse::<u64>() {
        Ok(id) if id > 0 => Ok(id),
        _ => Err(InputError(format!(
            "{} is not a {what} id (a positive number).",
            quoted(raw)
        ))),
    }
}

/// Whether a name can be a configured instance's (`[A-Za-z0-9_-]{1,40}`): anything else is
/// refused before it is looked up or echoed.
pub fn plausible_instance_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_INSTANCE_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn paths_follow_gitlabs_grammar() {
        for ok in [
            "acme/web",
            "a",
            "_x",
            "group/sub.group/my-project",
            "42",
            ".hidden-start",
            "/acme/web/",
        ] {
            assert!(NamespacePath::project(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            ".",
            "..",
            "acme/..",
            "../admin",
            "acme/./web",
            "acme//web",
            "-dash",
            "ends.",
            "a b",
            "acme%2F..",
            "acme/web?x=1",
            "acme/web#x",
            "é",
        ] {
            assert!(
                NamespacePath::project(bad).is_err(),
                "{bad:?} must be refused"
            );
        }
        let deep = vec!["a"; MAX_PATH_SEGMENTS + 1].join("/");
        assert!(NamespacePath::group(&deep).is_err());
        assert!(NamespacePath::group(&"a".repeat(MAX_PATH_LEN + 1)).is_err());
    }

    #[test]
    fn tag_names_follow_the_registry_grammar() {
        assert!(valid_tag_name("v1.2.3-rc_1"));
        assert!(valid_tag_name("_x"));
        assert!(valid_tag_name(&"a".repeat(128)));
        for bad in ["", ".hidden", "-x", "a/b", "a b", "..", "é"] {
            assert!(!valid_tag_name(bad), "{bad:?}");
        }
        assert!(!valid_tag_name(&"a".repeat(129)));
    }

    #[test]
    fn name_lists_are_capped_before_they_are_read_and_deduplicated() {
        let names = TagNames::new(vec!["b".into(), "a".into(), "b".into()]).unwrap();
        assert_eq!(names.to_strings(), ["b", "a"]);
        assert!(TagNames::new(vec![]).is_err());
        let too_many = vec!["not a name!".to_string(); MAX_DELETE_BATCH + 1];
        let error = TagNames::new(too_many).unwrap_err();
        assert!(error.0.contains("At most"), "{error}");
        assert!(TagNames::new(vec!["ok".into(), "../x".into()]).is_err());
        // 1,000 distinct names pass, in linear time.
        let many: Vec<String> = (0..MAX_DELETE_BATCH).map(|i| format!("t{i}")).collect();
        assert_eq!(TagNames::new(many).unwrap().len(), MAX_DELETE_BATCH);
    }

    #[test]
    fn deserializing_goes_through_the_constructors() {
        let names: Result<TagNames, _> = serde_json::from_str(r#"["a", "a/b"]"#);
        assert!(names.is_err());
        let path: Result<NamespacePath, _> = serde_json::from_str(r#"".."#);
        assert!(path.is_err());
        let path: NamespacePath = serde_json::from_str(r#""acme/web""#).unwrap();
        assert_eq!(path.as_str(), "acme/web");
    }

    #[test]
    fn ids_and_instance_names() {
        assert_eq!(positive_id("42", "repository"), Ok(42));
        assert!(positive_id("0", "repository").is_err());
        assert!(positive_id("-1", "repository").is_err());
        assert!(plausible_instance_name("gitlab-com_2"));
        assert!(!plausible_instance_name(&"a".repeat(41)));
        assert!(!plausible_instance_name("a/b"));
    }

    #[test]
    fn quoted_text_is_short() {
        assert_eq!(quoted("abc"), "“abc”");
        assert!(quoted(&"x".repeat(10_000)).chars().count() < 70);
    }

    proptest! {
        #[test]
        fn accepted_paths_have_no_dot_segments(raw in "[a-z./_-]{1,12}(/[a-z./_-]{1,12}){0,3}") {
            if let Ok(path) = NamespacePath::project(&raw) {
                for segment in path.as_str().split('/') {
                    prop_assert!(segment != "." && segment != ".." && !segment.is_empty());
                }
            }
        }
    }
}

#[cfg(test)]
mod pair_tests {
    use super::*;

    #[test]
    fn a_pair_needs_two_valid_names_and_nothing_else() {
        let pairs = |q: &[(&str, &str)]| -> Vec<(String, String)> {
            q.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let pair = TagPair::from_pairs(&pairs(&[("a", "v1.0"), ("b", "latest")])).unwrap();
        assert_eq!((pair.a.as_str(), pair.b.as_str()), ("v1.0", "latest"));
        let missing = TagPair::from_pairs(&pairs(&[("a", "v1.0")])).unwrap_err();
        assert!(missing.to_string().contains("second"), "{missing}");
        assert!(TagPair::from_pairs(&pairs(&[("a", "v1"), ("b", "-x")])).is_err());
        let extra = TagPair::from_pairs(&pairs(&[("a", "x"), ("b", "y"), ("c", "z")])).unwrap_err();
        assert!(extra.to_string().contains("Unknown parameter"));
    }
}
