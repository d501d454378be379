//! Routed pages, one per file, grouped by area.

pub mod auth;
pub mod cleanup;
pub mod credentials;
pub mod errors;
pub mod groups;
pub mod instance;
pub mod projects;
pub mod tags;

use leptos::prelude::*;
use leptos_router::hooks::use_location;

/// The current URL's query string as decoded pairs, reactive to navigation.
pub fn use_query_pairs() -> Memo<Vec<(String, String)>> {
    let location = use_location();
    Memo::new(move |_| domain::query::parse(&location.search.get()))
}

/// URL state of a repository list page (`…/projects/*path` or `…/groups/*path`).
#[derive(Clone, Copy)]
pub struct RepositoryListState {
    /// The project or group full path from the URL.
    pub path: Memo<String>,
    /// The view and what the URL contained that was ignored.
    pub parsed: Memo<(domain::view::RepositoryListView, Vec<domain::view::Notice>)>,
    /// The view alone.
    pub view: Memo<domain::view::RepositoryListView>,
}

/// The `*path` segment of the route (a project or group path), without outer slashes.
pub fn use_path_param() -> Memo<String> {
    let params = leptos_router::hooks::use_params_map();
    Memo::new(move |_| {
        params
            .read()
            .get("path")
            .unwrap_or_default()
            .trim_matches('/')
            .to_string()
    })
}

/// Reads the owner path and the list view from the URL, reactively.
pub fn use_repository_list_state() -> RepositoryListState {
    let path = use_path_param();
    let pairs = use_query_pairs();
    let parsed = Memo::new(move |_| domain::view::RepositoryListView::from_pairs(&pairs.get()));
    let view = Memo::new(move |_| parsed.get().0);
    RepositoryListState { path, parsed, view }
}

/// Links of a repository list page: the state the search form keeps, previous and next page.
pub struct RepositoryPageLinks {
    pub keep: Vec<(String, String)>,
    pub prev: Option<String>,
    pub next: Option<String>,
}

/// Builds the search form's kept state and the pager links for a page of repositories.
pub fn repository_page_links(
    base: &str,
    view: &domain::view::RepositoryListView,
    page: &domain::RepositoryPage,
) -> RepositoryPageLinks {
    use domain::view::PageCursor;
    let keep = if view.sort == Default::default() {
        Vec::new()
    } else {
        vec![("sort".to_string(), view.sort.as_param().to_string())]
    };
    let link = |cursor: PageCursor| format!("{base}{}", view.with_cursor(cursor).to_query());
    RepositoryPageLinks {
        keep,
        prev: page
            .prev_cursor
            .clone()
            .map(|c| link(PageCursor::Before(c))),
        next: page.next_cursor.clone().map(|c| link(PageCursor::After(c))),
    }
}
