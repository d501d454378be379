//! The tag list's state as it appears in the URL, read leniently from an address bar (what
//! cannot be used becomes a notice) and written back canonically.

use super::{TagKind, TagSort};
use crate::query;
use crate::usage::UsageFilter;
use crate::view::{Notice, UrlNote};
use serde::{Deserialize, Serialize};

/// Longest name filter or regex accepted (GitLab's own regex limit).
pub const MAX_FILTER_LEN: usize = 255;
/// Page sizes the tag list offers.
pub const PAGE_SIZES: [u32; 3] = [20, 50, 100];
/// Default page size: GitLab's own (its registry pages and its API list 20 tags a page).
/// The pager offers the others; a page of 20 rows is also what a phone renders and
/// hydrates quickest (README, "Performance").
pub const DEFAULT_PAGE_SIZE: u32 = 20;

/// A duration written as in GitLab (`12h`, `7d`, `2w`, `3month`), kept in its written form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Age {
    pub text: String,
    pub seconds: i64,
}

impl Age {
    /// Parses `<n><unit>` with unit h, d, w, month (30 days) or y (365 days); `None` when
    /// `raw` is not such an age ([`UrlNote::NotAnAge`] says so).
    pub fn parse(raw: &str) -> Option<Age> {
        let text = raw.trim().to_ascii_lowercase();
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let n: i64 = number.parse().ok().filter(|n| *n > 0 && *n <= 100_000)?;
        let unit_seconds = match unit {
            "h" => 3_600,
            "d" | "" => 86_400,
            "w" => 7 * 86_400,
            "month" | "months" | "mo" => 30 * 86_400,
            "y" => 365 * 86_400,
            _ => return None,
        };
        let canonical = if unit.is_empty() { "d" } else { unit };
        Some(Age {
            text: format!("{n}{canonical}"),
            seconds: n * unit_seconds,
        })
    }
}

/// A size written with a unit (`500MB`, `1.5GiB`, `200k`), kept in its written form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SizeBound {
    pub text: String,
    pub bytes: u64,
}

impl SizeBound {
    /// Decimal (kB, MB, GB) and binary (KiB, MiB, GiB) units; a bare number is bytes. `None`
    /// when `raw` is not such a size ([`UrlNote::NotASize`] says so).
    pub fn parse(raw: &str) -> Option<SizeBound> {
        let text = raw.trim().replace(' ', "");
        let split = text
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let value: f64 = number.parse().ok()?;
        let multiplier: f64 = match unit.to_ascii_lowercase().as_str() {
            "" | "b" => 1.0,
            "k" | "kb" => 1e3,
            "m" | "mb" => 1e6,
            "g" | "gb" => 1e9,
            "t" | "tb" => 1e12,
            "kib" => 1024.0,
            "mib" => 1024.0 * 1024.0,
            "gib" => 1024.0 * 1024.0 * 1024.0,
            "tib" => 1024.0_f64.powi(4),
            _ => return None,
        };
        let bytes = value * multiplier;
        if !bytes.is_finite() || !(0.0..=1e18).contains(&bytes) {
            return None;
        }
        Some(SizeBound {
            text,
            bytes: bytes.round() as u64,
        })
    }
}

/// Everything that shapes the tag list, as it appears in the URL:
/// `?q=&re=1&older=&newer=&min=&max=&kind=…&family=&in_use=1|stale=1&sort=&page=&per_page=`.
/// As data it travels as that query string and is read back strictly (see
/// [`crate::view::parse_strict`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagListView {
    /// Name filter: substring, or a regex when `regex` is set.
    pub name: String,
    pub regex: bool,
    pub older_than: Option<Age>,
    pub newer_than: Option<Age>,
    pub min_size: Option<SizeBound>,
    pub max_size: Option<SizeBound>,
    /// Every kind listed must match.
    pub kinds: Vec<TagKind>,
    /// Only tags whose name falls in this family (see [`crate::family::TagFamily`]).
    pub family: Option<crate::family::TagFamily>,
    /// Only tags GitLab says are in use, or only dead ones (see [`crate::usage`]).
    pub usage: Option<UsageFilter>,
    pub sort: TagSort,
    pub page: u32,
    pub per_page: u32,
}

impl Default for TagListView {
    fn default() -> Self {
        TagListView {
            name: String::new(),
            regex: false,
            older_than: None,
            newer_than: None,
            min_size: None,
            max_size: None,
            kinds: Vec::new(),
            family: None,
            usage: None,
            sort: TagSort::default(),
            page: 1,
            per_page: DEFAULT_PAGE_SIZE,
        }
    }
}

impl TagListView {
    /// Reads the view from URL query pairs; never fails: what it cannot use becomes a notice
    /// and the rest of the view still applies.
    pub fn from_pairs(pairs: &[(String, String)]) -> (Self, Vec<Notice>) {
        let mut view = TagListView::default();
        let mut notices = Vec::new();
        let mut usage: Vec<UsageFilter> = Vec::new();
        for (key, value) in pairs {
            let value_trimmed = value.trim();
            match key.as_str() {
                "q" => {
                    if value.chars().count() > MAX_FILTER_LEN {
                        notices.push(Notice::from(UrlNote::NameFilterTooLong {
                            max_chars: MAX_FILTER_LEN,
                        }));
                        view.name = value.chars().take(MAX_FILTER_LEN).collect();
                    } else {
                        view.name = value.clone();
                    }
                }
                "re" => view.regex = matches!(value_trimmed, "1" | "true" | "on"),
                "older" | "newer" if value_trimmed.is_empty() => {}
                "older" | "newer" => match Age::parse(value_trimmed) {
                    Some(age) if key == "older" => view.older_than = Some(age),
                    Some(age) => view.newer_than = Some(age),
                    None => notices.push(Notice::from(UrlNote::NotAnAge {
                        param: key.clone(),
                        value: value.clone(),
                    })),
                },
                "min" | "max" if value_trimmed.is_empty() => {}
                "min" | "max" => match SizeBound::parse(value_trimmed) {
                    Some(size) if key == "min" => view.min_size = Some(size),
                    Some(size) => view.max_size = Some(size),
                    None => notices.push(Notice::from(UrlNote::NotASize {
                        param: key.clone(),
                        value: value.clone(),
                    })),
                },
                "kind" if value_trimmed.is_empty() => {}
                "kind" => match TagKind::from_param(value_trimmed) {
                    Some(kind) if !view.kinds.contains(&kind) => view.kinds.push(kind),
                    Some(_) => {}
                    None => notices.push(Notice::from(UrlNote::UnknownTagKind {
                        value: value.clone(),
                    })),
                },
                "family" if value_trimmed.is_empty() => {}
                "family" => match crate::family::TagFamily::from_param(value_trimmed) {
                    Some(family) => view.family = Some(family),
                    None => notices.push(Notice::from(UrlNote::UnknownTagFamily {
                        value: value.clone(),
                    })),
                },
                // The filter form's select: `usage=in_use|stale` (written back as `in_use=1`).
                "usage" => match value_trimmed {
                    "" => {}
                    "in_use" | "stale" => {
                        let filter = if value_trimmed == "in_use" {
                            UsageFilter::InUse
                        } else {
                            UsageFilter::Stale
                        };
                        if !usage.contains(&filter) {
                            usage.push(filter);
                        }
                    }
                    _ => notices.push(Notice::from(UrlNote::UnknownUsage {
                        value: value.clone(),
                    })),
                },
                "in_use" | "stale" => {
                    let filter = if key == "in_use" {
                        UsageFilter::InUse
                    } else {
                        UsageFilter::Stale
                    };
                    if matches!(value_trimmed, "1" | "true" | "on") && !usage.contains(&filter) {
                        usage.push(filter);
                    }
                }
                "sort" => match TagSort::from_param(value_trimmed) {
                    Some(sort) => view.sort = sort,
                    None => notices.push(Notice::from(UrlNote::UnknownSort {
                        value: value.clone(),
                        instead: TagSort::default().label().to_string(),
                    })),
                },
                "page" => match value_trimmed.parse::<u32>() {
                    Ok(page) if (1..=crate::view::MAX_PAGE).contains(&page) => view.page = page,
                    _ => notices.push(Notice::from(UrlNote::NotAPage {
                        value: value.clone(),
                    })),
                },
                "per_page" => match value_trimmed.parse::<u32>() {
                    Ok(n) if PAGE_SIZES.contains(&n) => view.per_page = n,
                    _ => notices.push(Notice::from(UrlNote::NotAPageSize {
                        value: value.clone(),
                        sizes: PAGE_SIZES.to_vec(),
                        instead: DEFAULT_PAGE_SIZE,
                    })),
                },
                _ => {}
            }
        }
        if let (Some(min), Some(max)) = (&view.min_size, &view.max_size) {
            if min.bytes > max.bytes {
                notices.push(Notice::from(UrlNote::InvertedSizeRange {
                    min: min.text.clone(),
                    max: max.text.clone(),
                }));
                view.min_size = None;
                view.max_size = None;
            }
        }
        match usage.as_slice() {
            [] => {}
            [one] => view.usage = Some(*one),
            _ => notices.push(Notice::from(UrlNote::InUseAndStale)),
        }
        view.kinds
            .sort_by_key(|k| TagKind::ALL.iter().position(|x| x == k));
        (view, notices)
    }

    /// Canonical query string (`""` for the default view).
    pub fn to_query(&self) -> String {
        query::build(&self.pairs(true))
    }

    /// The state as query pairs; `with_page` false leaves out the page (for forms that
    /// change the filter and should start again at page 1).
    pub fn pairs(&self, with_page: bool) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if !self.name.is_empty() {
            pairs.push(("q", self.name.clone()));
        }
        if self.regex {
            pairs.push(("re", "1".to_string()));
        }
        if let Some(age) = &self.older_than {
            pairs.push(("older", age.text.clone()));
        }
        if let Some(age) = &self.newer_than {
            pairs.push(("newer", age.text.clone()));
        }
        if let Some(size) = &self.min_size {
            pairs.push(("min", size.text.clone()));
        }
        if let Some(size) = &self.max_size {
            pairs.push(("max", size.text.clone()));
        }
        for kind in &self.kinds {
            pairs.push(("kind", kind.as_param().to_string()));
        }
        if let Some(family) = self.family {
            pairs.push(("family", family.as_param().to_string()));
        }
        if let Some(usage) = self.usage {
            pairs.push((usage.param(), "1".to_string()));
        }
        if self.sort != TagSort::default() {
            pairs.push(("sort", self.sort.as_param().to_string()));
        }
        if with_page && self.page > 1 {
            pairs.push(("page", self.page.to_string()));
        }
        if self.per_page != DEFAULT_PAGE_SIZE {
            pairs.push(("per_page", self.per_page.to_string()));
        }
        pairs
    }

    /// The same view on another page.
    pub fn with_page(&self, page: u32) -> Self {
        TagListView {
            page: page.max(1),
            ..self.clone()
        }
    }

    /// The same view with `per_page` rows a page (one of [`PAGE_SIZES`]; another value
    /// leaves the size as it is), on the page that holds the current page's first row, so
    /// the rows being read stay in sight.
    pub fn with_per_page(&self, per_page: u32) -> Self {
        if !PAGE_SIZES.contains(&per_page) {
            return self.clone();
        }
        let first_row = u64::from(self.page.max(1) - 1) * u64::from(self.per_page);
        let page = first_row / u64::from(per_page) + 1;
        TagListView {
            per_page,
            page: u32::try_from(page)
                .map_or(crate::view::MAX_PAGE, |p| p.min(crate::view::MAX_PAGE)),
            ..self.clone()
        }
    }

    /// The same filters with another sort, from the first page.
    pub fn with_sort(&self, sort: TagSort) -> Self {
        TagListView {
            sort,
            page: 1,
            ..self.clone()
        }
    }

    /// True when any filter narrows the list.
    pub fn is_filtered(&self) -> bool {
        !self.name.is_empty()
            || self.older_than.is_some()
            || self.newer_than.is_some()
            || self.min_size.is_some()
            || self.max_size.is_some()
            || !self.kinds.is_empty()
            || self.family.is_some()
            || self.usage.is_some()
    }

    /// The view filters by a plain name substring and nothing else: GitLab's own name
    /// search can find its matches.
    pub fn is_name_search(&self) -> bool {
        !self.name.is_empty()
            && !self.regex
            && self.older_than.is_none()
            && self.newer_than.is_none()
            && self.min_size.is_none()
            && self.max_size.is_none()
            && self.kinds.is_empty()
            && self.family.is_none()
            && self.usage.is_none()
    }
}

crate::view_serde_as_query!(TagListView);
