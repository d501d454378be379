//! Tags of an image repository: the indexed tag, the tag list's URL state, and the filter and
//! sort that run over ALL tags of a repository (never only a page).

use crate::format;
use crate::query;
use crate::view::Notice;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// Longest name filter or regex accepted (GitLab's own regex limit).
pub const MAX_FILTER_LEN: usize = 255;
/// Page sizes the tag list offers.
pub const PAGE_SIZES: [u32; 3] = [20, 50, 100];
/// Default page size.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// Compiled-program size limit for user regexes (bounds memory and time per match).
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// Artifact types that mean "signed".
const SIGNATURE_TYPES: [&str; 3] = [
    "application/vnd.dev.cosign.artifact.sig.v1+json",
    "application/vnd.cncf.notary.signature",
    "application/vnd.dev.sigstore.bundle.v0.3+json",
];

/// A referrer of a tag's manifest: a signature, an SBOM, an attestation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Referrer {
    pub artifact_type: String,
    pub digest: String,
}

impl Referrer {
    /// Human name of the artifact type.
    pub fn kind(&self) -> &'static str {
        let t = self.artifact_type.as_str();
        if SIGNATURE_TYPES.contains(&t) || t.contains("signature") || t.contains(".sig") {
            "Signature"
        } else if t.contains("spdx") || t.contains("cyclonedx") || t.contains("sbom") {
            "SBOM"
        } else if t.contains("in-toto") || t.contains("attestation") || t.contains("provenance") {
            "Attestation"
        } else {
            "Artifact"
        }
    }
}

/// The protection of a tag by a tag protection rule: the least role that may push or delete.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TagProtection {
    pub minimum_access_level_for_push: Option<crate::AccessLevel>,
    pub minimum_access_level_for_delete: Option<crate::AccessLevel>,
}

/// One tag with the details the list needs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Tag {
    pub name: String,
    /// Manifest digest; `None` when the manifest is missing.
    pub digest: Option<String>,
    /// Config digest (GitLab calls it revision).
    pub revision: Option<String>,
    /// Created time from the image config (unix seconds).
    pub created_at: Option<i64>,
    /// Publish time (metadata database only).
    pub published_at: Option<i64>,
    pub total_size: Option<u64>,
    pub media_type: Option<String>,
    pub referrers: Vec<Referrer>,
    pub protection: Option<TagProtection>,
}

impl Tag {
    /// The time the list shows and sorts by: published, else created.
    pub fn timestamp(&self) -> Option<i64> {
        self.published_at.or(self.created_at)
    }

    /// An OCI index or Docker manifest list (several platforms).
    pub fn is_multi_arch(&self) -> bool {
        self.media_type.as_deref().is_some_and(|m| {
            m.contains("image.index") || m.contains("manifest.list") || m.ends_with("index+json")
        })
    }

    /// Has at least one signature referrer.
    pub fn is_signed(&self) -> bool {
        self.referrers.iter().any(|r| r.kind() == "Signature")
    }

    /// Matched by a tag protection rule.
    pub fn is_protected(&self) -> bool {
        self.protection.is_some()
    }

    /// GitLab could not read the tag's manifest.
    pub fn is_missing_manifest(&self) -> bool {
        self.digest.is_none()
    }

    /// First 12 hex digits of the manifest digest.
    pub fn short_digest(&self) -> Option<String> {
        self.digest.as_deref().map(short_digest)
    }

    /// Whether a user with `access` may delete this tag (role and protection rule).
    pub fn deletable_by(&self, access: crate::AccessLevel) -> Result<(), String> {
        if access < crate::AccessLevel::Developer {
            return Err(format!(
                "Deleting tags needs the Developer role; yours is {}.",
                access.label()
            ));
        }
        if let Some(min) = self
            .protection
            .as_ref()
            .and_then(|p| p.minimum_access_level_for_delete)
        {
            if access < min {
                return Err(format!(
                    "A tag protection rule allows only {} and above to delete this tag.",
                    min.label()
                ));
            }
        }
        Ok(())
    }
}

/// `sha256:0123456789abcdef…` → `0123456789ab`.
pub fn short_digest(digest: &str) -> String {
    let hex = digest.split_once(':').map_or(digest, |(_, h)| h);
    hex.chars().take(12).collect()
}

/// Natural order: digit runs compare by value, so `v1.9` < `v1.10`; ties fall back to the
/// plain byte order so the order is total and stable.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a.as_bytes(), b.as_bytes());
    loop {
        match (x.first(), y.first()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(cx), Some(cy)) if cx.is_ascii_digit() && cy.is_ascii_digit() => {
                let dx = x.iter().take_while(|c| c.is_ascii_digit()).count();
                let dy = y.iter().take_while(|c| c.is_ascii_digit()).count();
                let (nx, ny) = (&x[..dx], &y[..dy]);
                let tx = trim_zeros(nx);
                let ty = trim_zeros(ny);
                let by_value = tx.len().cmp(&ty.len()).then_with(|| tx.cmp(ty));
                if by_value != Ordering::Equal {
                    return by_value;
                }
                x = &x[dx..];
                y = &y[dy..];
            }
            (Some(cx), Some(cy)) => {
                if cx != cy {
                    return cx.cmp(cy);
                }
                x = &x[1..];
                y = &y[1..];
            }
        }
    }
}

fn trim_zeros(digits: &[u8]) -> &[u8] {
    let zeros = digits.iter().take_while(|&&c| c == b'0').count();
    &digits[zeros.min(digits.len().saturating_sub(1))..]
}

/// What the tag list sorts by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TagSortKey {
    Name,
    #[default]
    Published,
    Size,
}

/// Sort key and direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TagSort {
    pub key: TagSortKey,
    pub descending: bool,
}

impl Default for TagSort {
    /// Newest first: what people look for most.
    fn default() -> Self {
        TagSort {
            key: TagSortKey::Published,
            descending: true,
        }
    }
}

impl TagSort {
    /// Every sort the list offers, in menu order.
    pub const ALL: [TagSort; 6] = [
        TagSort::new(TagSortKey::Published, true),
        TagSort::new(TagSortKey::Published, false),
        TagSort::new(TagSortKey::Name, false),
        TagSort::new(TagSortKey::Name, true),
        TagSort::new(TagSortKey::Size, true),
        TagSort::new(TagSortKey::Size, false),
    ];

    const fn new(key: TagSortKey, descending: bool) -> Self {
        TagSort { key, descending }
    }

    /// `name_asc`, `published_desc`, …
    pub fn as_param(self) -> &'static str {
        match (self.key, self.descending) {
            (TagSortKey::Name, false) => "name_asc",
            (TagSortKey::Name, true) => "name_desc",
            (TagSortKey::Published, false) => "published_asc",
            (TagSortKey::Published, true) => "published_desc",
            (TagSortKey::Size, false) => "size_asc",
            (TagSortKey::Size, true) => "size_desc",
        }
    }

    pub fn from_param(value: &str) -> Option<Self> {
        TagSort::ALL.into_iter().find(|s| s.as_param() == value)
    }

    pub fn label(self) -> &'static str {
        match (self.key, self.descending) {
            (TagSortKey::Name, false) => "Name, A to Z",
            (TagSortKey::Name, true) => "Name, Z to A",
            (TagSortKey::Published, false) => "Oldest first",
            (TagSortKey::Published, true) => "Newest first",
            (TagSortKey::Size, false) => "Smallest first",
            (TagSortKey::Size, true) => "Largest first",
        }
    }

    /// The same key in the other direction (for clickable column headers).
    pub fn toggled(self) -> Self {
        TagSort::new(self.key, !self.descending)
    }

    /// Compares two tags. Tags without a timestamp or size sort last in both directions;
    /// equal keys fall back to the natural name order, so pages never shuffle.
    pub fn compare(self, a: &Tag, b: &Tag) -> Ordering {
        let directed = |o: Ordering| if self.descending { o.reverse() } else { o };
        let by_name = || natural_cmp(&a.name, &b.name);
        match self.key {
            TagSortKey::Name => directed(by_name()),
            TagSortKey::Published => {
                missing_last(a.timestamp(), b.timestamp(), directed).then_with(by_name)
            }
            TagSortKey::Size => {
                missing_last(a.total_size, b.total_size, directed).then_with(by_name)
            }
        }
    }
}

fn missing_last<T: Ord>(
    a: Option<T>,
    b: Option<T>,
    directed: impl Fn(Ordering) -> Ordering,
) -> Ordering {
    match (a, b) {
        (Some(x), Some(y)) => directed(x.cmp(&y)),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// Kinds a tag can be filtered by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TagKind {
    MultiArch,
    Signed,
    Protected,
    MissingManifest,
}

impl TagKind {
    pub const ALL: [TagKind; 4] = [
        TagKind::MultiArch,
        TagKind::Signed,
        TagKind::Protected,
        TagKind::MissingManifest,
    ];

    pub fn as_param(self) -> &'static str {
        match self {
            TagKind::MultiArch => "multi-arch",
            TagKind::Signed => "signed",
            TagKind::Protected => "protected",
            TagKind::MissingManifest => "missing-manifest",
        }
    }

    pub fn from_param(value: &str) -> Option<Self> {
        TagKind::ALL.into_iter().find(|k| k.as_param() == value)
    }

    pub fn label(self) -> &'static str {
        match self {
            TagKind::MultiArch => "Multi-arch",
            TagKind::Signed => "Signed",
            TagKind::Protected => "Protected",
            TagKind::MissingManifest => "Missing manifest",
        }
    }

    pub fn matches(self, tag: &Tag) -> bool {
        match self {
            TagKind::MultiArch => tag.is_multi_arch(),
            TagKind::Signed => tag.is_signed(),
            TagKind::Protected => tag.is_protected(),
            TagKind::MissingManifest => tag.is_missing_manifest(),
        }
    }
}

/// A duration written as in GitLab (`12h`, `7d`, `2w`, `3month`), kept in its written form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Age {
    pub text: String,
    pub seconds: i64,
}

impl Age {
    /// Parses `<n><unit>` with unit h, d, w, month (30 days) or y (365 days).
    pub fn parse(raw: &str) -> Result<Age, String> {
        let text = raw.trim().to_ascii_lowercase();
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let n: i64 = number
            .parse()
            .ok()
            .filter(|n| *n > 0 && *n <= 100_000)
            .ok_or_else(|| format!("“{raw}” is not an age such as 12h, 7d, 2w, 3month or 1y."))?;
        let unit_seconds = match unit {
            "h" => 3_600,
            "d" | "" => 86_400,
            "w" => 7 * 86_400,
            "month" | "months" | "mo" => 30 * 86_400,
            "y" => 365 * 86_400,
            _ => {
                return Err(format!(
                    "“{raw}” is not an age such as 12h, 7d, 2w, 3month or 1y."
                ))
            }
        };
        let canonical = if unit.is_empty() { "d" } else { unit };
        Ok(Age {
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
    /// Decimal (kB, MB, GB) and binary (KiB, MiB, GiB) units; a bare number is bytes.
    pub fn parse(raw: &str) -> Result<SizeBound, String> {
        let text = raw.trim().replace(' ', "");
        let error = || format!("“{raw}” is not a size such as 200MB, 1.5GiB or 800k.");
        let split = text
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let value: f64 = number.parse().map_err(|_| error())?;
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
            _ => return Err(error()),
        };
        let bytes = value * multiplier;
        if !bytes.is_finite() || !(0.0..=1e18).contains(&bytes) {
            return Err(error());
        }
        Ok(SizeBound {
            text,
            bytes: bytes.round() as u64,
        })
    }
}

/// Everything that shapes the tag list, as it appears in the URL:
/// `?q=&re=1&older=&newer=&min=&max=&kind=…&sort=&page=&per_page=`. As data it travels as
/// that query string and is read back strictly (see [`crate::view::parse_strict`]).
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
        for (key, value) in pairs {
            let value_trimmed = value.trim();
            match key.as_str() {
                "q" => {
                    if value.chars().count() > MAX_FILTER_LEN {
                        notices.push(Notice(format!(
                            "The name filter was longer than {MAX_FILTER_LEN} characters and was \
                                shortened."
                        )));
                        view.name = value.chars().take(MAX_FILTER_LEN).collect();
                    } else {
                        view.name = value.clone();
                    }
                }
                "re" => view.regex = matches!(value_trimmed, "1" | "true" | "on"),
                "older" | "newer" if value_trimmed.is_empty() => {}
                "older" | "newer" => match Age::parse(value_trimmed) {
                    Ok(age) if key == "older" => view.older_than = Some(age),
                    Ok(age) => view.newer_than = Some(age),
                    Err(message) => notices.push(Notice(message)),
                },
                "min" | "max" if value_trimmed.is_empty() => {}
                "min" | "max" => match SizeBound::parse(value_trimmed) {
                    Ok(size) if key == "min" => view.min_size = Some(size),
                    Ok(size) => view.max_size = Some(size),
                    Err(message) => notices.push(Notice(message)),
                },
                "kind" if value_trimmed.is_empty() => {}
                "kind" => match TagKind::from_param(value_trimmed) {
                    Some(kind) if !view.kinds.contains(&kind) => view.kinds.push(kind),
                    Some(_) => {}
                    None => {
                        notices.push(Notice(format!("Unknown tag kind “{value}” was ignored.")))
                    }
                },
                "family" if value_trimmed.is_empty() => {}
                "family" => match crate::family::TagFamily::from_param(value_trimmed) {
                    Some(family) => view.family = Some(family),
                    None => {
                        notices.push(Notice(format!("Unknown tag family “{value}” was ignored.")))
                    }
                },
                "sort" => match TagSort::from_param(value_trimmed) {
                    Some(sort) => view.sort = sort,
                    None => notices.push(Notice(format!(
                        "Unknown sort “{value}”; showing the newest tags first."
                    ))),
                },
                "page" => match value_trimmed.parse::<u32>() {
                    Ok(page) if (1..=crate::view::MAX_PAGE).contains(&page) => view.page = page,
                    _ => notices.push(Notice(format!(
                        "“{value}” is not a page number; showing the first page."
                    ))),
                },
                "per_page" => match value_trimmed.parse::<u32>() {
                    Ok(n) if PAGE_SIZES.contains(&n) => view.per_page = n,
                    _ => notices.push(Notice(format!(
                        "Pages hold 20, 50 or 100 tags, not “{value}”; showing {DEFAULT_PAGE_SIZE}."
                    ))),
                },
                _ => {}
            }
        }
        if let (Some(min), Some(max)) = (&view.min_size, &view.max_size) {
            if min.bytes > max.bytes {
                notices.push(Notice(format!(
                    "The smallest size ({}) is above the largest ({}); the size filter was ignored.",
                    min.text, max.text
                )));
                view.min_size = None;
                view.max_size = None;
            }
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
    }

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
        })
    }
}

crate::view_serde_as_query!(TagListView);

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
}

impl TagFilter {
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

/// An image repository as its tag pages show it, with the viewer's rights.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RepositoryHeader {
    pub id: u64,
    /// Name inside the project; empty for the root image.
    pub name: String,
    pub path: String,
    pub location: String,
    pub project_id: u64,
    pub project_path: String,
    pub project_name: String,
    pub tags_count: Option<u64>,
    pub status: Option<crate::RepositoryStatus>,
    pub cleanup_status: crate::CleanupStatus,
    /// The viewer's role in the project.
    pub access: crate::AccessLevel,
    /// GitLab lets the viewer delete the whole repository.
    pub can_delete_repository: bool,
    pub protection_rule_exists: bool,
}

impl RepositoryHeader {
    /// The root image has no name of its own; show its path.
    pub fn display_name(&self) -> &str {
        if self.name.is_empty() {
            &self.path
        } else {
            &self.name
        }
    }

    /// Why the viewer may not delete tags here, if they may not.
    pub fn tag_delete_refusal(&self) -> Option<String> {
        if self.status.is_some() {
            return Some("This repository is being deleted.".into());
        }
        (self.access < crate::AccessLevel::Developer).then(|| {
            format!(
                "Deleting tags needs the Developer role; yours is {}.",
                self.access.label()
            )
        })
    }

    /// Why the viewer may not delete the repository, if they may not.
    pub fn repository_delete_refusal(&self) -> Option<String> {
        if self.status.is_some() {
            return Some("This repository is already scheduled for deletion.".into());
        }
        if self.access < crate::AccessLevel::Maintainer {
            return Some(format!(
                "Deleting a repository needs the Maintainer role; yours is {}.",
                self.access.label()
            ));
        }
        (!self.can_delete_repository)
            .then(|| "A repository protection rule does not let you delete it.".to_string())
    }
}

/// How far the tag index of a repository is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IndexProgress {
    pub indexed: u64,
    /// Tags GitLab reports for the repository, when known.
    pub total: Option<u64>,
    pub complete: bool,
    /// Why indexing stopped early, for the user.
    pub error: Option<String>,
    /// Seconds since the index was completed (how fresh the data is).
    pub age_secs: Option<u64>,
}

/// One page of a repository's tag list, with everything the page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TagListPage {
    pub repository: RepositoryHeader,
    pub progress: IndexProgress,
    pub slice: TagSlice,
    /// The name filter did not compile (shown on the field); the list is then unfiltered by name.
    pub filter_error: Option<String>,
    pub now: i64,
    /// The index is still building and the matches come from GitLab's own name search,
    /// complete for every name containing the text exactly as typed (GitLab's search is
    /// case-sensitive; other spellings appear as they are indexed).
    #[serde(default)]
    pub searched: bool,
}

/// One layer, or the config blob, of an image manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Blob {
    pub digest: String,
    pub size: Option<u64>,
    pub media_type: Option<String>,
}

/// One platform of a multi-arch index.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlatformImage {
    pub os: Option<String>,
    pub architecture: Option<String>,
    pub variant: Option<String>,
    pub digest: String,
    pub size: Option<u64>,
    pub media_type: Option<String>,
}

impl PlatformImage {
    /// `linux/arm64/v8`.
    pub fn label(&self) -> String {
        let mut parts = vec![
            self.os.clone().unwrap_or_else(|| "unknown".into()),
            self.architecture
                .clone()
                .unwrap_or_else(|| "unknown".into()),
        ];
        if let Some(v) = &self.variant {
            parts.push(v.clone());
        }
        parts.join("/")
    }
}

/// Everything the tag detail page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TagDetail {
    pub repository: RepositoryHeader,
    pub tag: Tag,
    /// `registry.example.com/group/project/image:tag`.
    pub location: String,
    pub config: Option<Blob>,
    pub layers: Vec<Blob>,
    pub platforms: Vec<PlatformImage>,
    /// The other tags with the same manifest digest: the first [`ALSO_TAGGED_SHOWN`] in
    /// natural order; `also_tagged_more` counts the rest.
    pub also_tagged: Vec<String>,
    #[serde(default)]
    pub also_tagged_more: u64,
    /// Cosign-style sidecar tags (`sha256-<hex>.sig`, `.att`, `.sbom`) that describe this
    /// tag's image.
    #[serde(default)]
    pub sidecars: Vec<(String, crate::family::SidecarKind)>,
    pub now: i64,
}

/// Other tags of the same image a tag page names (the rest are counted).
pub const ALSO_TAGGED_SHOWN: usize = 50;

/// The first `shown` names in natural order and how many more there are.
pub fn first_names(mut names: Vec<&str>, shown: usize) -> (Vec<String>, u64) {
    let more = names.len().saturating_sub(shown);
    if more > 0 {
        names.select_nth_unstable_by(shown, |a, b| natural_cmp(a, b));
        names.truncate(shown);
    }
    names.sort_by(|a, b| natural_cmp(a, b));
    (names.into_iter().map(str::to_string).collect(), more as u64)
}

impl TagDetail {
    /// `docker pull location:tag`.
    pub fn pull_by_tag(&self) -> String {
        format!("docker pull {}", self.location)
    }

    /// `docker pull repo@sha256:…`, when the digest is known.
    pub fn pull_by_digest(&self) -> Option<String> {
        let digest = self.tag.digest.as_ref()?;
        Some(format!("docker pull {}@{digest}", self.repository.location))
    }
}

/// What happened to one tag of a confirmed deletion.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeleteOutcome {
    pub name: String,
    pub deleted: bool,
    /// GitLab's reason when it refused.
    pub message: Option<String>,
}

/// Most tags one confirmed deletion may name.
pub const MAX_DELETE_BATCH: usize = 1_000;
/// Above this many tags the confirmation asks to type the count.
pub const TYPED_CONFIRMATION_ABOVE: usize = 20;
/// Staying tags named per deleted tag that shares their image (the rest are counted): a
/// plan for 1,000 tags of an image with 10,000 tags stays small.
pub const SHARED_NAMES_SHOWN: usize = 5;

/// One tag of a deletion the user is about to confirm, with what they should know.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlannedDeletion {
    pub name: String,
    /// Why GitLab will refuse it (protection rule, role), if it will.
    pub refusal: Option<String>,
    /// Tags that stay and point at the same image: deleting this tag leaves the image there.
    /// The first [`SHARED_NAMES_SHOWN`] in natural order; `shares_digest_more` counts the rest.
    pub shares_digest_with: Vec<String>,
    /// How many more staying tags share the image than `shares_digest_with` lists.
    #[serde(default)]
    pub shares_digest_more: u64,
    pub total_size: Option<u64>,
}

/// What a confirmation dialog shows before a deletion.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeletionPlan {
    pub tags: Vec<PlannedDeletion>,
    /// Selected names the index does not know (deleted meanwhile or not indexed yet).
    pub unknown: Vec<String>,
    /// `latest` is among the tags.
    pub includes_latest: bool,
}

impl DeletionPlan {
    /// Tags GitLab is expected to delete.
    pub fn deletable(&self) -> usize {
        self.tags.iter().filter(|t| t.refusal.is_none()).count()
    }
}

/// Builds the plan for deleting `names` from a repository whose tags are `all`.
pub fn plan_deletion<'a>(
    all: impl Iterator<Item = &'a Tag> + Clone,
    names: &[String],
    access: crate::AccessLevel,
) -> DeletionPlan {
    let selected: std::collections::HashSet<&str> = names.iter().map(String::as_str).collect();
    let mut by_digest: std::collections::HashMap<&str, Vec<&str>> = Default::default();
    let mut by_name: std::collections::HashMap<&str, &Tag> = Default::default();
    for tag in all {
        by_name.insert(tag.name.as_str(), tag);
        if let Some(d) = tag.digest.as_deref() {
            by_digest.entry(d).or_default().push(tag.name.as_str());
        }
    }
    let mut plan = DeletionPlan::default();
    for name in names {
        if name == "latest" {
            plan.includes_latest = true;
        }
        let Some(tag) = by_name.get(name.as_str()) else {
            plan.unknown.push(name.clone());
            continue;
        };
        let shares: Vec<&str> = tag
            .digest
            .as_deref()
            .and_then(|d| by_digest.get(d))
            .map(|names| {
                names
                    .iter()
                    .copied()
                    .filter(|n| !selected.contains(*n))
                    .collect()
            })
            .unwrap_or_default();
        let (shares, more) = first_names(shares, SHARED_NAMES_SHOWN);
        plan.tags.push(PlannedDeletion {
            name: name.clone(),
            refusal: tag.deletable_by(access).err(),
            shares_digest_with: shares,
            shares_digest_more: more,
            total_size: tag.total_size,
        });
    }
    plan
}

/// "3 days ago" for a unix timestamp, "unknown" for none.
pub fn relative(ts: Option<i64>, now: i64) -> String {
    ts.map(|t| format::relative_time(t, now))
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rstest::rstest;

    fn tag(name: &str, ts: Option<i64>, size: Option<u64>) -> Tag {
        Tag {
            name: name.into(),
            digest: Some(format!("sha256:{:064x}", name.len())),
            revision: None,
            created_at: ts,
            published_at: None,
            total_size: size,
            media_type: Some("application/vnd.oci.image.manifest.v1+json".into()),
            referrers: vec![],
            protection: None,
        }
    }

    fn pairs(q: &str) -> Vec<(String, String)> {
        query::parse(q)
    }

    #[rstest]
    #[case("v1.9", "v1.10", Ordering::Less)]
    #[case("v1.10", "v1.9", Ordering::Greater)]
    #[case("v2", "v10", Ordering::Less)]
    #[case("a", "b", Ordering::Less)]
    #[case("v01", "v1", Ordering::Less)]
    #[case("v1", "v1", Ordering::Equal)]
    #[case("v1", "v1a", Ordering::Less)]
    #[case("1.2.3-rc1", "1.2.3-rc10", Ordering::Less)]
    #[case("latest", "v1", Ordering::Less)]
    #[case("99999999999999999999999", "100000000000000000000000", Ordering::Less)]
    fn natural_order(#[case] a: &str, #[case] b: &str, #[case] expected: Ordering) {
        assert_eq!(natural_cmp(a, b), expected);
    }

    proptest! {
        #[test]
        fn natural_order_is_a_total_order(a in "[a-c0-9.]{0,8}", b in "[a-c0-9.]{0,8}", c in "[a-c0-9.]{0,8}") {
            prop_assert_eq!(natural_cmp(&a, &b), natural_cmp(&b, &a).reverse());
            prop_assert_eq!(natural_cmp(&a, &b) == Ordering::Equal, a == b);
            if natural_cmp(&a, &b) != Ordering::Greater && natural_cmp(&b, &c) != Ordering::Greater {
                prop_assert_ne!(natural_cmp(&a, &c), Ordering::Greater);
            }
        }

        #[test]
        fn view_round_trips_through_the_url(
            name in "[a-z0-9.^$]{0,10}", regex: bool, sort in 0usize..6, page in 1u32..50,
            per in 0usize..3, older in proptest::option::of(1i64..400), kinds in proptest::collection::vec(0usize..4, 0..4),
        ) {
            let mut view = TagListView {
                name, regex, sort: TagSort::ALL[sort], page, per_page: PAGE_SIZES[per],
                older_than: older.map(|d| Age { text: format!("{d}d"), seconds: d * 86_400 }),
                ..TagListView::default()
            };
            for k in kinds {
                if !view.kinds.contains(&TagKind::ALL[k]) { view.kinds.push(TagKind::ALL[k]); }
            }
            view.kinds.sort_by_key(|k| TagKind::ALL.iter().position(|x| x == k));
            let (back, notices) = TagListView::from_pairs(&pairs(&view.to_query()));
            prop_assert!(notices.is_empty(), "{:?}", notices);
            prop_assert_eq!(back, view);
        }

        #[test]
        fn select_returns_the_page_of_a_full_sort(
            sizes in proptest::collection::vec(proptest::option::of(0u64..50), 0..60),
            sort in 0usize..6, page in 1u32..6,
        ) {
            let tags: Vec<Tag> = sizes.iter().enumerate()
                .map(|(i, s)| tag(&format!("t{i}"), s.map(|v| v as i64 * 10), *s)).collect();
            let view = TagListView { sort: TagSort::ALL[sort], page, per_page: 20, ..TagListView::default() };
            let filter = view.filter(0).expect("no filter");
            let slice = select(tags.iter(), &view, &filter);
            let mut all: Vec<&Tag> = tags.iter().collect();
            all.sort_by(|a, b| view.sort.compare(a, b));
            let start = (slice.page as usize - 1) * 20;
            let expected: Vec<String> = all.iter().skip(start).take(20).map(|t| t.name.clone()).collect();
            let got: Vec<String> = slice.tags.iter().map(|t| t.name.clone()).collect();
            prop_assert_eq!(got, expected);
            prop_assert_eq!(slice.matched as usize, tags.len());
        }
    }

    #[test]
    fn default_view_has_an_empty_query() {
        assert_eq!(TagListView::default().to_query(), "");
        let (view, notices) = TagListView::from_pairs(&[]);
        assert_eq!(view, TagListView::default());
        assert!(notices.is_empty());
    }

    #[test]
    fn bad_values_become_notices_and_the_rest_applies() {
        let (view, notices) = TagListView::from_pairs(&pairs(
            "q=v1&older=soon&min=lots&kind=shiny&sort=random&page=0&per_page=7&newer=2w",
        ));
        assert_eq!(view.name, "v1");
        assert_eq!(view.newer_than.map(|a| a.seconds), Some(14 * 86_400));
        assert_eq!(view.older_than, None);
        assert_eq!(view.sort, TagSort::default());
        assert_eq!(view.page, 1);
        assert_eq!(view.per_page, DEFAULT_PAGE_SIZE);
        assert_eq!(notices.len(), 6, "{notices:?}");
    }

    #[test]
    fn inverted_size_range_is_dropped_with_a_notice() {
        let (view, notices) = TagListView::from_pairs(&pairs("min=1GB&max=1MB"));
        assert_eq!((view.min_size, view.max_size), (None, None));
        assert_eq!(notices.len(), 1);
    }

    #[rstest]
    #[case("7d", 7 * 86_400)]
    #[case("12h", 12 * 3_600)]
    #[case("2w", 14 * 86_400)]
    #[case("3month", 90 * 86_400)]
    #[case("1y", 365 * 86_400)]
    #[case("30", 30 * 86_400)]
    fn ages(#[case] raw: &str, #[case] seconds: i64) {
        assert_eq!(Age::parse(raw).map(|a| a.seconds), Ok(seconds));
    }

    #[rstest]
    #[case("200MB", 200_000_000)]
    #[case("1.5GiB", 1_610_612_736)]
    #[case("800k", 800_000)]
    #[case("42", 42)]
    fn sizes(#[case] raw: &str, #[case] bytes: u64) {
        assert_eq!(SizeBound::parse(raw).map(|s| s.bytes), Ok(bytes));
    }

    #[rstest]
    #[case("0d")]
    #[case("d")]
    #[case("7 parsecs")]
    #[case("-1d")]
    fn bad_ages(#[case] raw: &str) {
        assert!(Age::parse(raw).is_err());
    }

    #[test]
    fn regex_errors_explain_re2() {
        let view = TagListView {
            name: "^(?=v)1".into(),
            regex: true,
            ..TagListView::default()
        };
        let Err(FilterError::Regex(message)) = view.filter(0) else {
            panic!("look-ahead must be refused")
        };
        assert!(message.contains("RE2"), "{message}");
        let view = TagListView {
            name: "v1.(".into(),
            regex: true,
            ..TagListView::default()
        };
        assert!(view.filter(0).is_err());
    }

    #[test]
    fn filters_combine() {
        let now = 1_000_000;
        let mut signed = tag("v1.2-signed", Some(now - 10 * 86_400), Some(500));
        signed.referrers.push(Referrer {
            artifact_type: SIGNATURE_TYPES[0].into(),
            digest: "sha256:aa".into(),
        });
        let tags = [
            tag("v1.0", Some(now - 100 * 86_400), Some(100)),
            tag("V1.1", Some(now - 2 * 86_400), Some(2_000)),
            signed,
            tag("v2.0", None, None),
        ];
        let names = |q: &str| {
            let (view, notices) = TagListView::from_pairs(&pairs(q));
            assert!(notices.is_empty(), "{notices:?}");
            let filter = view.filter(now).expect("filter");
            let mut out: Vec<&str> = tags
                .iter()
                .filter(|t| filter.matches(t))
                .map(|t| t.name.as_str())
                .collect();
            out.sort();
            out
        };
        assert_eq!(names("q=v1"), ["V1.1", "v1.0", "v1.2-signed"]);
        assert_eq!(names("q=%5Ev1%5C.&re=1"), ["v1.0", "v1.2-signed"]);
        assert_eq!(names("older=30d"), ["v1.0"]);
        assert_eq!(names("newer=30d"), ["V1.1", "v1.2-signed"]);
        assert_eq!(names("min=400&max=1k"), ["v1.2-signed"]);
        assert_eq!(names("kind=signed"), ["v1.2-signed"]);
        assert_eq!(names("kind=missing-manifest"), Vec::<&str>::new());
    }

    #[test]
    fn missing_values_sort_last_both_ways() {
        let tags = [
            tag("a", None, None),
            tag("b", Some(5), Some(5)),
            tag("c", Some(9), Some(1)),
        ];
        for sort in TagSort::ALL {
            let view = TagListView {
                sort,
                ..TagListView::default()
            };
            let slice = select(tags.iter(), &view, &view.filter(0).expect("filter"));
            let names: Vec<&str> = slice.tags.iter().map(|t| t.name.as_str()).collect();
            if sort.key != TagSortKey::Name {
                assert_eq!(names.last(), Some(&"a"), "{sort:?}");
            }
        }
    }

    #[test]
    fn page_is_clamped_into_range() {
        let tags: Vec<Tag> = (0..45)
            .map(|i| tag(&format!("t{i}"), Some(i), None))
            .collect();
        let view = TagListView {
            page: 9,
            per_page: 20,
            ..TagListView::default()
        };
        let slice = select(tags.iter(), &view, &view.filter(0).expect("filter"));
        assert_eq!((slice.page, slice.pages, slice.tags.len()), (3, 3, 5));
    }

    #[test]
    fn deletion_plan_warns_about_shared_digests_protection_and_latest() {
        let mut shared_a = tag("v1", None, Some(10));
        shared_a.digest = Some("sha256:same".into());
        let mut shared_b = tag("stable", None, Some(10));
        shared_b.digest = Some("sha256:same".into());
        let mut latest = tag("latest", None, None);
        latest.digest = Some("sha256:same".into());
        let mut guarded = tag("release-1", None, None);
        guarded.protection = Some(TagProtection {
            minimum_access_level_for_push: None,
            minimum_access_level_for_delete: Some(crate::AccessLevel::Maintainer),
        });
        let all = [shared_a, shared_b, latest, guarded];
        let names: Vec<String> = ["v1", "latest", "release-1", "gone"]
            .map(String::from)
            .to_vec();
        let plan = plan_deletion(all.iter(), &names, crate::AccessLevel::Developer);
        assert!(plan.includes_latest);
        assert_eq!(plan.unknown, ["gone"]);
        assert_eq!(plan.tags[0].shares_digest_with, ["stable"]);
        assert!(plan.tags[2].refusal.is_some());
        assert_eq!(plan.deletable(), 2);
    }

    #[test]
    fn a_plan_names_a_few_tags_sharing_an_image_and_counts_the_rest() {
        let mut all: Vec<Tag> = (0..5_000)
            .map(|i| {
                let mut t = tag(&format!("build-{i}"), None, None);
                t.digest = Some("sha256:one".into());
                t
            })
            .collect();
        all.push(tag("other", None, None));
        let names: Vec<String> = (0..1_000).map(|i| format!("build-{i}")).collect();
        let plan = plan_deletion(all.iter(), &names, crate::AccessLevel::Developer);
        assert_eq!(plan.tags.len(), 1_000);
        let first = &plan.tags[0];
        assert_eq!(
            first.shares_digest_with,
            [
                "build-1000",
                "build-1001",
                "build-1002",
                "build-1003",
                "build-1004"
            ]
        );
        assert_eq!(first.shares_digest_more, 4_000 - 5);
    }

    #[test]
    fn deletion_rights_follow_role_and_protection() {
        use crate::AccessLevel::*;
        let mut t = tag("v1", None, None);
        assert!(t.deletable_by(Reporter).is_err());
        assert!(t.deletable_by(Developer).is_ok());
        t.protection = Some(TagProtection {
            minimum_access_level_for_push: Some(Maintainer),
            minimum_access_level_for_delete: Some(Owner),
        });
        assert!(t.deletable_by(Maintainer).is_err());
        assert!(t.deletable_by(Owner).is_ok());
    }
}
