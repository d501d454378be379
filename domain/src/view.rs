//! Typed view state for every list page, and its canonical query string.
//!
//! Parsing never fails: a bad value falls back to the default and yields a notice the page
//! shows, so a mangled shared link still opens something useful and says what it ignored.
//!
//! The query string is also each view's only constructor for every other transport: a view
//! travels to server functions as its canonical query string and is read back with
//! [`parse_strict`], where any notice is an error. So a view from a URL, a form, the JSON API
//! or a server function's arguments has passed the same checks (page sizes, search length,
//! cursor shape) before any service sees it.

use crate::query;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest search text accepted (GitLab's own limit for search parameters is similar).
pub const MAX_SEARCH_LEN: usize = 255;
/// Projects shown per page.
pub const PROJECTS_PER_PAGE: u32 = 20;
/// Groups shown per page.
pub const GROUPS_PER_PAGE: u32 = 20;
/// Repositories shown per page.
pub const REPOSITORIES_PER_PAGE: u32 = 20;
/// Highest page number a list accepts.
pub const MAX_PAGE: u32 = 100_000;
/// Longest query string a view is read from when it arrives as data (a URL's is bounded by
/// the server's header limits).
pub const MAX_VIEW_QUERY_LEN: usize = 8 * 1024;

/// Reads a view from a query string, refusing it when the lenient parser had to ignore or
/// change anything: the form for data that did not come from a person's address bar.
pub fn parse_strict<V>(
    raw: &str,
    parse: impl Fn(&[(String, String)]) -> (V, Vec<Notice>),
) -> Result<V, crate::input::InputError> {
    if raw.len() > MAX_VIEW_QUERY_LEN {
        return Err(crate::input::InputError(format!(
            "The view is longer than {MAX_VIEW_QUERY_LEN} characters."
        )));
    }
    let (view, notices) = parse(&query::parse(raw));
    if notices.is_empty() {
        Ok(view)
    } else {
        Err(crate::input::InputError(
            notices
                .into_iter()
                .map(|n| n.message)
                .collect::<Vec<_>>()
                .join(" "),
        ))
    }
}

/// Serde for a view type: its canonical query string, read back with [`parse_strict`].
#[macro_export]
macro_rules! view_serde_as_query {
    ($view:ty) => {
        impl serde::Serialize for $view {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.to_query())
            }
        }

        impl<'de> serde::Deserialize<'de> for $view {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(deserializer)?;
                $crate::view::parse_strict(&raw, <$view>::from_pairs)
                    .map_err(serde::de::Error::custom)
            }
        }
    };
}

/// Something in a view's URL that could not be used as it was, as data: the value is
/// ignored (or shortened) and the rest of the view still applies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum UrlNote {
    /// The tag list's name filter was cut to `max_chars`.
    NameFilterTooLong {
        max_chars: usize,
    },
    /// A list's search text was cut to `max_chars`.
    SearchTooLong {
        max_chars: usize,
    },
    /// `older`/`newer` was not an age such as `7d`.
    NotAnAge {
        param: String,
        value: String,
    },
    /// `min`/`max` was not a size such as `200MB`.
    NotASize {
        param: String,
        value: String,
    },
    /// The smallest size is above the largest; both were ignored.
    InvertedSizeRange {
        min: String,
        max: String,
    },
    UnknownTagKind {
        value: String,
    },
    UnknownTagFamily {
        value: String,
    },
    /// `in_use=1` and `stale=1` together: no tag is both; both were ignored.
    InUseAndStale,
    /// `usage=` was neither `in_use` nor `stale`.
    UnknownUsage {
        value: String,
    },
    /// The list is sorted by `instead` (the sort's label).
    UnknownSort {
        value: String,
        instead: String,
    },
    NotAPage {
        value: String,
    },
    NotAPageSize {
        value: String,
        sizes: Vec<u32>,
        instead: u32,
    },
    /// A repository list's page cursor was not one GitLab gives.
    NotAPagePosition,
    NotACadence {
        value: String,
    },
    NotAKeepN {
        value: String,
    },
    NotAnOlderThan {
        value: String,
    },
    NotAPreviewChoice {
        value: String,
    },
    /// The standard policy of a group's policy page could not be used; it was ignored.
    UnusableStandard {
        message: String,
    },
    /// `policy=` was neither `on` nor `off`.
    UnknownPolicyFilter {
        value: String,
    },
    /// `drift=1` without a standard policy to compare with.
    DriftWithoutStandard,
    /// `project=` was not a GitLab project id.
    NotAProject {
        value: String,
    },
    /// More projects were chosen than one change may cover; the first `max` were kept.
    TooManyProjects {
        max: usize,
    },
}

impl fmt::Display for UrlNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrlNote::NameFilterTooLong { max_chars } => write!(
                f,
                "The name filter was longer than {max_chars} characters and was shortened."
            ),
            UrlNote::SearchTooLong { max_chars } => write!(
                f,
                "The search text was longer than {max_chars} characters and was shortened."
            ),
            UrlNote::NotAnAge { value, .. } => write!(
                f,
                "“{value}” is not an age such as 12h, 7d, 2w, 3month or 1y."
            ),
            UrlNote::NotASize { value, .. } => {
                write!(f, "“{value}” is not a size such as 200MB, 1.5GiB or 800k.")
            }
            UrlNote::InvertedSizeRange { min, max } => write!(
                f,
                "The smallest size ({min}) is above the largest ({max}); the size filter was \
                 ignored."
            ),
            UrlNote::UnknownTagKind { value } => {
                write!(f, "Unknown tag kind “{value}” was ignored.")
            }
            UrlNote::UnknownTagFamily { value } => {
                write!(f, "Unknown tag family “{value}” was ignored.")
            }
            UrlNote::UnknownUsage { value } => {
                write!(
                    f,
                    "Unknown usage filter “{value}” was ignored (in_use or stale)."
                )
            }
            UrlNote::InUseAndStale => {
                f.write_str("A tag cannot be both in use and dead; both filters were ignored.")
            }
            UrlNote::UnknownSort { value, instead } => {
                write!(f, "Unknown sort “{value}”; sorted “{instead}” instead.")
            }
            UrlNote::NotAPage { value } => {
                write!(f, "“{value}” is not a page number; showing the first page.")
            }
            UrlNote::NotAPageSize {
                value,
                sizes,
                instead,
            } => write!(
                f,
                "Pages hold {} tags, not “{value}”; showing {instead}.",
                crate::format::or_list(sizes)
            ),
            UrlNote::NotAPagePosition => {
                f.write_str("The page position in the link was not valid; showing the first page.")
            }
            UrlNote::NotACadence { value } => write!(
                f,
                "“{value}” is not a cadence GitLab offers (1d, 7d, 14d, 1month, 3month)."
            ),
            UrlNote::NotAKeepN { value } => {
                write!(
                    f,
                    "GitLab keeps 1, 5, 10, 25, 50 or 100 tags, not “{value}”."
                )
            }
            UrlNote::NotAnOlderThan { value } => write!(
                f,
                "“{value}” is not an age GitLab offers (7d, 14d, 30d, 60d, 90d)."
            ),
            UrlNote::NotAPreviewChoice { value } => write!(
                f,
                "“{value}” is not a preview choice: show=deleted lists only the tags the policy \
                 deletes, show=all every tag."
            ),
            UrlNote::UnusableStandard { message } => {
                write!(f, "The standard policy was ignored: {message}")
            }
            UrlNote::UnknownPolicyFilter { value } => write!(
                f,
                "Unknown policy filter “{value}” was ignored (on or off)."
            ),
            UrlNote::DriftWithoutStandard => f.write_str(
                "Only drifting projects were asked for, but no standard policy was given; \
                 showing every project.",
            ),
            UrlNote::NotAProject { value } => {
                write!(f, "“{value}” is not a project id and was ignored.")
            }
            UrlNote::TooManyProjects { max } => write!(
                f,
                "A standard is applied to at most {max} projects at once; the first {max} \
                 chosen are kept."
            ),
        }
    }
}

/// A [`UrlNote`] with its sentence, as pages show it.
pub type Notice = crate::notice::Notice<UrlNote>;

/// State of the project list (`/i/:instance`): `?q=&page=`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProjectListView {
    pub search: String,
    pub page: u32,
}

/// State of the group list (`/i/:instance/groups`): `?q=&page=`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupListView {
    pub search: String,
    pub page: u32,
}

/// Sort orders GitLab offers for image repositories.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RepositorySort {
    #[default]
    NameAsc,
    NameDesc,
    CreatedAsc,
    CreatedDesc,
    UpdatedAsc,
    UpdatedDesc,
}

impl RepositorySort {
    /// Every sort, in the order the UI offers them.
    pub const ALL: [RepositorySort; 6] = [
        RepositorySort::NameAsc,
        RepositorySort::NameDesc,
        RepositorySort::CreatedDesc,
        RepositorySort::CreatedAsc,
        RepositorySort::UpdatedDesc,
        RepositorySort::UpdatedAsc,
    ];

    /// The value used in our URLs.
    pub fn as_param(self) -> &'static str {
        match self {
            RepositorySort::NameAsc => "name_asc",
            RepositorySort::NameDesc => "name_desc",
            RepositorySort::CreatedAsc => "created_asc",
            RepositorySort::CreatedDesc => "created_desc",
            RepositorySort::UpdatedAsc => "updated_asc",
            RepositorySort::UpdatedDesc => "updated_desc",
        }
    }

    /// Reads the URL value.
    pub fn from_param(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_param() == value)
    }

    /// GitLab's GraphQL `ContainerRepositorySort` value.
    pub fn as_graphql(self) -> &'static str {
        match self {
            RepositorySort::NameAsc => "NAME_ASC",
            RepositorySort::NameDesc => "NAME_DESC",
            RepositorySort::CreatedAsc => "CREATED_ASC",
            RepositorySort::CreatedDesc => "CREATED_DESC",
            RepositorySort::UpdatedAsc => "UPDATED_ASC",
            RepositorySort::UpdatedDesc => "UPDATED_DESC",
        }
    }

    /// Words for the sort menu.
    pub fn label(self) -> &'static str {
        match self {
            RepositorySort::NameAsc => "Name A–Z",
            RepositorySort::NameDesc => "Name Z–A",
            RepositorySort::CreatedAsc => "Oldest created",
            RepositorySort::CreatedDesc => "Newest created",
            RepositorySort::UpdatedAsc => "Least recently updated",
            RepositorySort::UpdatedDesc => "Recently updated",
        }
    }
}

/// Which neighbouring page a cursor leads to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PageCursor {
    After(String),
    Before(String),
}

/// State of an image repository list (project or group): `?q=&sort=&after=|before=`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RepositoryListView {
    pub search: String,
    pub sort: RepositorySort,
    pub cursor: Option<PageCursor>,
}

pub(crate) fn clean_search(raw: &str, notices: &mut Vec<Notice>) -> String {
    let trimmed = raw.trim();
    if trimmed.chars().count() > MAX_SEARCH_LEN {
        notices.push(Notice::from(UrlNote::SearchTooLong {
            max_chars: MAX_SEARCH_LEN,
        }));
        trimmed.chars().take(MAX_SEARCH_LEN).collect()
    } else {
        trimmed.to_string()
    }
}

fn parse_page(raw: &str, notices: &mut Vec<Notice>) -> u32 {
    match raw.trim().parse::<u32>() {
        Ok(page) if (1..=MAX_PAGE).contains(&page) => page,
        _ => {
            notices.push(Notice::from(UrlNote::NotAPage {
                value: raw.to_string(),
            }));
            1
        }
    }
}

fn cursor_ok(raw: &str) -> bool {
    // GitLab cursors are base64 of small JSON documents; anything else is not worth sending.
    !raw.is_empty()
        && raw.len() <= 512
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_'))
}

fn search_and_page(pairs: &[(String, String)]) -> (String, u32, Vec<Notice>) {
    let mut notices = Vec::new();
    let mut search = String::new();
    let mut page = 1;
    for (key, value) in pairs {
        match key.as_str() {
            "q" => search = clean_search(value, &mut notices),
            "page" => page = parse_page(value, &mut notices),
            _ => {}
        }
    }
    (search, page, notices)
}

fn search_and_page_query(search: &str, page: u32) -> String {
    let mut pairs = Vec::new();
    if !search.is_empty() {
        pairs.push(("q", search.to_string()));
    }
    if page > 1 {
        pairs.push(("page", page.to_string()));
    }
    query::build(&pairs)
}

impl ProjectListView {
    /// Reads the view from URL query pairs; never fails.
    pub fn from_pairs(pairs: &[(String, String)]) -> (Self, Vec<Notice>) {
        let (search, page, notices) = search_and_page(pairs);
        (ProjectListView { search, page }, notices)
    }

    /// The canonical query string (`""` for the default view).
    pub fn to_query(&self) -> String {
        search_and_page_query(&self.search, self.page.max(1))
    }
}

impl GroupListView {
    /// Reads the view from URL query pairs; never fails.
    pub fn from_pairs(pairs: &[(String, String)]) -> (Self, Vec<Notice>) {
        let (search, page, notices) = search_and_page(pairs);
        (GroupListView { search, page }, notices)
    }

    /// The canonical query string (`""` for the default view).
    pub fn to_query(&self) -> String {
        search_and_page_query(&self.search, self.page.max(1))
    }
}

impl RepositoryListView {
    /// Reads the view from URL query pairs; never fails.
    pub fn from_pairs(pairs: &[(String, String)]) -> (Self, Vec<Notice>) {
        let mut notices = Vec::new();
        let mut view = RepositoryListView::default();
        for (key, value) in pairs {
            match key.as_str() {
                "q" => view.search = clean_search(value, &mut notices),
                "sort" => match RepositorySort::from_param(value) {
                    Some(sort) => view.sort = sort,
                    None => notices.push(Notice::from(UrlNote::UnknownSort {
                        value: value.clone(),
                        instead: RepositorySort::default().label().to_string(),
                    })),
                },
                "after" | "before" => {
                    if cursor_ok(value) {
                        view.cursor = Some(if key == "after" {
                            PageCursor::After(value.clone())
                        } else {
                            PageCursor::Before(value.clone())
                        });
                    } else {
                        notices.push(Notice::from(UrlNote::NotAPagePosition));
                    }
                }
                _ => {}
            }
        }
        (view, notices)
    }

    /// The canonical query string (`""` for the default view).
    pub fn to_query(&self) -> String {
        let mut pairs = Vec::new();
        if !self.search.is_empty() {
            pairs.push(("q", self.search.clone()));
        }
        if self.sort != RepositorySort::default() {
            pairs.push(("sort", self.sort.as_param().to_string()));
        }
        match &self.cursor {
            Some(PageCursor::After(c)) => pairs.push(("after", c.clone())),
            Some(PageCursor::Before(c)) => pairs.push(("before", c.clone())),
            None => {}
        }
        query::build(&pairs)
    }

    /// The same view on its first page with another sort (changing the order resets paging).
    pub fn with_sort(&self, sort: RepositorySort) -> Self {
        RepositoryListView {
            search: self.search.clone(),
            sort,
            cursor: None,
        }
    }

    /// The same view moved to a neighbouring page.
    pub fn with_cursor(&self, cursor: PageCursor) -> Self {
        RepositoryListView {
            cursor: Some(cursor),
            ..self.clone()
        }
    }
}

view_serde_as_query!(ProjectListView);
view_serde_as_query!(GroupListView);
view_serde_as_query!(RepositoryListView);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn views_travel_as_their_query_and_are_checked_on_arrival() {
        let view = RepositoryListView {
            search: "web".into(),
            sort: RepositorySort::CreatedDesc,
            cursor: Some(PageCursor::After("abc".into())),
        };
        let json = serde_json::to_string(&view).unwrap();
        assert_eq!(json, r#""?q=web&sort=created_desc&after=abc""#);
        assert_eq!(
            serde_json::from_str::<RepositoryListView>(&json).unwrap(),
            view
        );
        // What a page would merely note is refused as data.
        assert!(serde_json::from_str::<ProjectListView>(r#""page=0""#).is_err());
        for bad in [r#""sort=bogus""#, r#""after=%3Cscript%3E""#] {
            assert!(
                serde_json::from_str::<RepositoryListView>(bad).is_err(),
                "{bad}"
            );
        }
        let long = format!("\"q={}\"", "a".repeat(MAX_SEARCH_LEN + 1));
        assert!(serde_json::from_str::<ProjectListView>(&long).is_err());
        let huge = format!("\"x={}\"", "a".repeat(MAX_VIEW_QUERY_LEN));
        assert!(serde_json::from_str::<GroupListView>(&huge).is_err());
        let far = format!("\"page={}\"", MAX_PAGE + 1);
        assert!(serde_json::from_str::<ProjectListView>(&far).is_err());
    }

    fn pairs(raw: &str) -> Vec<(String, String)> {
        query::parse(raw)
    }

    #[test]
    fn default_views_have_empty_queries() {
        assert_eq!(ProjectListView::default().to_query(), "");
        assert_eq!(RepositoryListView::default().to_query(), "");
    }

    #[test]
    fn repository_view_reads_a_shared_link() {
        let (view, notices) = RepositoryListView::from_pairs(&pairs(
            "q=work&sort=created_desc&after=eyJpZCI6IjEifQ%3D%3D",
        ));
        assert!(notices.is_empty());
        assert_eq!(view.search, "work");
        assert_eq!(view.sort, RepositorySort::CreatedDesc);
        assert_eq!(
            view.cursor,
            Some(PageCursor::After("eyJpZCI6IjEifQ==".into()))
        );
    }

    #[test]
    fn bad_values_fall_back_with_a_notice() {
        let (view, notices) =
            RepositoryListView::from_pairs(&pairs("sort=bogus&after=%3Cscript%3E"));
        assert_eq!(view, RepositoryListView::default());
        assert_eq!(notices.len(), 2);
        let (view, notices) = ProjectListView::from_pairs(&pairs("page=0"));
        assert_eq!(view.page, 1);
        assert_eq!(notices.len(), 1);
        let (view, notices) = ProjectListView::from_pairs(&pairs("page=abc&q=%20web%20"));
        assert_eq!(view.page, 1);
        assert_eq!(view.search, "web");
        assert_eq!(notices.len(), 1);
    }

    #[test]
    fn overlong_search_is_shortened() {
        let long = "a".repeat(MAX_SEARCH_LEN + 10);
        let (view, notices) = ProjectListView::from_pairs(&[("q".into(), long)]);
        assert_eq!(view.search.len(), MAX_SEARCH_LEN);
        assert_eq!(notices.len(), 1);
    }

    #[test]
    fn changing_sort_resets_the_cursor() {
        let view = RepositoryListView {
            search: "x".into(),
            sort: RepositorySort::NameAsc,
            cursor: Some(PageCursor::After("abc".into())),
        };
        let sorted = view.with_sort(RepositorySort::UpdatedDesc);
        assert_eq!(sorted.cursor, None);
        assert_eq!(sorted.to_query(), "?q=x&sort=updated_desc");
    }

    fn any_sort() -> impl Strategy<Value = RepositorySort> {
        prop::sample::select(RepositorySort::ALL.to_vec())
    }

    fn any_cursor() -> impl Strategy<Value = Option<PageCursor>> {
        prop_oneof![
            Just(None),
            "[A-Za-z0-9+/=_-]{1,40}".prop_map(|c| Some(PageCursor::After(c))),
            "[A-Za-z0-9+/=_-]{1,40}".prop_map(|c| Some(PageCursor::Before(c))),
        ]
    }

    proptest! {
        #[test]
        fn repository_view_round_trips(
            search in "[^\\s][\\PC]{0,30}[^\\s]|",
            sort in any_sort(),
            cursor in any_cursor(),
        ) {
            let view = RepositoryListView { search, sort, cursor };
            let (back, notices) = RepositoryListView::from_pairs(&query::parse(&view.to_query()));
            prop_assert!(notices.is_empty());
            prop_assert_eq!(back, view);
        }

        #[test]
        fn project_view_round_trips(search in "[^\\s][\\PC]{0,30}[^\\s]|", page in 1u32..10_000) {
            let view = ProjectListView { search, page };
            let (back, notices) = ProjectListView::from_pairs(&query::parse(&view.to_query()));
            prop_assert!(notices.is_empty());
            prop_assert_eq!(back, view);
        }
    }
}
