//! The filter and the page cut that run over ALL tags of a repository (never only a page).

use super::{Tag, TagKind, TagListView};
use crate::usage::UsageFilter;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::sync::Arc;

/// Compiled-program size limit for user regexes (bounds memory and time per match).
const REGEX_SIZE_LIMIT: usize = 1 << 20;

impl TagListView {
    /// Compiles the filter; a bad regex is an error the page shows next to the field.
    pub fn filter(&self, now: i64) -> Result<TagFilter, FilterError> {
        let name = if self.name.is_empty() {
            NameFilter::Any
        } else if self.regex {
            NameFilter::Regex(compile_regex(&self.name)?)
        } else {
            let needle = self.name.to_lowercase();
            let finder = Box::new(memchr::memmem::Finder::new(needle.as_bytes()).into_owned());
            NameFilter::Substring(needle, finder)
        };
        Ok(TagFilter {
            name,
            created_before: self.older_than.as_ref().map(|a| now - a.seconds),
            created_after: self.newer_than.as_ref().map(|a| now - a.seconds),
            min_size: self.min_size.as_ref().map(|s| s.bytes),
            max_size: self.max_size.as_ref().map(|s| s.bytes),
            kinds: self.kinds.clone(),
            family: self.family,
            usage: self.usage.map(|filter| UsageNames {
                filter,
                names: Arc::default(),
                generation: 0,
            }),
        })
    }
}

/// The tags a usage filter keeps: the names with its verdict in one assessment, told apart
/// from other assessments by `generation`.
struct UsageNames {
    filter: UsageFilter,
    names: Arc<HashSet<String>>,
    generation: u64,
}

/// Why a filter could not be compiled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum FilterError {
    #[error("{0}")]
    Regex(String),
}

/// Compiles a user regex with RE2 semantics (the `regex` crate refuses look-around and
/// back-references, as RE2 does), unanchored, with bounded size.
pub fn compile_regex(pattern: &str) -> Result<regex::bytes::Regex, FilterError> {
    regex::bytes::RegexBuilder::new(pattern)
        // RE2's \d, \w and \s are ASCII, and tag names are ASCII: no Unicode tables needed
        // (which also keeps them out of the wasm bundle).
        .unicode(false)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| FilterError::Regex(explain_regex_error(&e)))
}

/// A readable message for a regex error: the crate's own text names the position; add the
/// RE2 hint for the constructs people bring from PCRE.
pub fn explain_regex_error(error: &regex::Error) -> String {
    let text = error.to_string();
    let hint = if text.contains("look-around") {
        " Look-ahead and look-behind ((?=…), (?!…), (?<=…), (?<!…)) are not supported: GitLab uses \
            RE2."
    } else if text.contains("backreference") {
        " Back-references (\\1) are not supported: GitLab uses RE2."
    } else {
        ""
    };
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let detail = lines.last().map_or(text.as_str(), |l| l.trim());
    let detail = detail.strip_prefix("error: ").unwrap_or(detail);
    let detail = if detail.is_empty() {
        "invalid regular expression"
    } else {
        detail
    };
    format!("Not a valid regular expression: {detail}.{hint}")
}

enum NameFilter {
    Any,
    /// The lowercased needle, and a searcher for it (SIMD; `str::contains` compares byte
    /// by byte for short needles, which was a tenth of a warm tag page's server time).
    Substring(String, Box<memchr::memmem::Finder<'static>>),
    Regex(regex::bytes::Regex),
}

/// See [`TagFilter::key`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FilterKey {
    name: (u8, String),
    created_before: Option<i64>,
    created_after: Option<i64>,
    min_size: Option<u64>,
    max_size: Option<u64>,
    kinds: Vec<TagKind>,
    family: Option<crate::family::TagFamily>,
    usage: Option<(UsageFilter, u64)>,
}

/// A compiled filter.
pub struct TagFilter {
    name: NameFilter,
    created_before: Option<i64>,
    created_after: Option<i64>,
    min_size: Option<u64>,
    max_size: Option<u64>,
    kinds: Vec<TagKind>,
    family: Option<crate::family::TagFamily>,
    /// The view's usage filter; it keeps no tag until [`TagFilter::with_usage`] gives it
    /// the names of an assessment (an unknown verdict is never shown as in use or dead).
    usage: Option<UsageNames>,
}

impl TagFilter {
    /// Gives the view's usage filter (if it has one) the tags it keeps: `names` are the
    /// tags with the filter's verdict in the assessment numbered `generation` (unique per
    /// assessment, so kept selections of another assessment are not reused).
    pub fn with_usage(mut self, names: Arc<HashSet<String>>, generation: u64) -> Self {
        if let Some(usage) = &mut self.usage {
            usage.names = names;
            usage.generation = generation;
        }
        self
    }

    /// The usage filter this filter applies, if any.
    pub fn usage(&self) -> Option<UsageFilter> {
        self.usage.as_ref().map(|u| u.filter)
    }

    pub fn matches(&self, tag: &Tag) -> bool {
        let name_ok = match &self.name {
            NameFilter::Any => true,
            NameFilter::Substring(s, _) => contains_ignore_case(&tag.name, s),
            NameFilter::Regex(r) => r.is_match(tag.name.as_bytes()),
        };
        name_ok && self.matches_beyond_name(tag)
    }

    /// [`TagFilter::matches`] with the tag's name already lowercased (`str::to_lowercase`).
    pub fn matches_lowered(&self, tag: &Tag, lowered_name: &str) -> bool {
        let name_ok = match &self.name {
            NameFilter::Any => true,
            NameFilter::Substring(_, finder) => finder.find(lowered_name.as_bytes()).is_some(),
            NameFilter::Regex(r) => r.is_match(tag.name.as_bytes()),
        };
        name_ok && self.matches_beyond_name(tag)
    }

    /// What identifies this filter's result on a given list: two filters with equal keys
    /// match the same tags.
    pub fn key(&self) -> FilterKey {
        let (kind, name) = match &self.name {
            NameFilter::Any => (0, ""),
            NameFilter::Substring(s, _) => (1, s.as_str()),
            NameFilter::Regex(r) => (2, r.as_str()),
        };
        FilterKey {
            name: (kind, name.to_string()),
            created_before: self.created_before,
            created_after: self.created_after,
            min_size: self.min_size,
            max_size: self.max_size,
            kinds: self.kinds.clone(),
            family: self.family,
            usage: self.usage.as_ref().map(|u| (u.filter, u.generation)),
        }
    }

    /// Every tag matches.
    pub fn is_everything(&self) -> bool {
        matches!(self.name, NameFilter::Any)
            && self.created_before.is_none()
            && self.created_after.is_none()
            && self.min_size.is_none()
            && self.max_size.is_none()
            && self.kinds.is_empty()
            && self.family.is_none()
            && self.usage.is_none()
    }

    fn matches_beyond_name(&self, tag: &Tag) -> bool {
        self.created_before
            .is_none_or(|t| tag.timestamp().is_some_and(|ts| ts < t))
            && self
                .created_after
                .is_none_or(|t| tag.timestamp().is_some_and(|ts| ts >= t))
            && self
                .min_size
                .is_none_or(|m| tag.total_size.is_some_and(|s| s >= m))
            && self
                .max_size
                .is_none_or(|m| tag.total_size.is_some_and(|s| s <= m))
            && self.kinds.iter().all(|k| k.matches(tag))
            && self
                .family
                .is_none_or(|f| crate::family::TagFamily::of(&tag.name) == f)
            && self
                .usage
                .as_ref()
                .is_none_or(|u| u.names.contains(&tag.name))
    }
}

fn contains_ignore_case(haystack: &str, lower_needle: &str) -> bool {
    if haystack.is_ascii() && lower_needle.is_ascii() {
        let h = haystack.as_bytes();
        let n = lower_needle.as_bytes();
        n.is_empty()
            || h.windows(n.len())
                .any(|w| w.iter().zip(n).all(|(a, b)| a.to_ascii_lowercase() == *b))
    } else {
        haystack.to_lowercase().contains(lower_needle)
    }
}

/// One page of the filtered, sorted list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TagSlice {
    pub tags: Vec<Tag>,
    /// Tags matching the filter (over all indexed tags).
    pub matched: u64,
    /// Page shown (clamped to the last page).
    pub page: u32,
    pub pages: u32,
}

/// Filters and sorts `tags` (all of them) and cuts out the view's page. The page is clamped
/// into range, so a shared link to page 40 of a list that shrank still shows tags. Pages
/// read a [`Listing`](crate::listing::Listing), which answers the same for many views of
/// one list; this is its reference, against which its property test checks it.
pub fn select<'a>(
    tags: impl Iterator<Item = &'a Tag>,
    view: &TagListView,
    filter: &TagFilter,
) -> TagSlice {
    let mut matched: Vec<&Tag> = tags.filter(|t| filter.matches(t)).collect();
    let per_page = view.per_page.max(1) as usize;
    let pages = matched.len().div_ceil(per_page).max(1) as u32;
    let page = view.page.clamp(1, pages);
    let start = (page as usize - 1) * per_page;
    let end = (start + per_page).min(matched.len());
    // Only the page is needed in order: select it, then sort just that part.
    let sort = view.sort;
    if start < matched.len() {
        if start > 0 {
            matched.select_nth_unstable_by(start, |a, b| sort.compare(a, b));
        }
        let rest = &mut matched[start..];
        if end - start < rest.len() {
            rest.select_nth_unstable_by(end - start, |a, b| sort.compare(a, b));
        }
        rest[..end - start].sort_by(|a, b| sort.compare(a, b));
    }
    TagSlice {
        tags: matched
            .get(start..end)
            .unwrap_or_default()
            .iter()
            .map(|t| (*t).clone())
            .collect(),
        matched: matched.len() as u64,
        page,
        pages,
    }
}
