use leptos::prelude::*;

/// Previous/next links with a position label. Plain links: works without JavaScript, and the
/// router turns them into client-side navigations once hydrated.
#[component]
pub fn Pager(
    prev: Option<String>,
    next: Option<String>,
    #[prop(into)] label: String,
) -> impl IntoView {
    view! {
        <nav class="pager" aria-label="Pagination">
            {match prev {
                Some(href) => {
                    view! {
                        <a class="button" rel="prev" href=href>
                            "← Previous"
                        </a>
                    }
                        .into_any()
                }
                None => {
                    view! {
                        <span class="button" aria-disabled="true">
                            "← Previous"
                        </span>
                    }
                        .into_any()
                }
            }}
            <span class="pager-label">{label}</span>
            {match next {
                Some(href) => {
                    view! {
                        <a class="button" rel="next" href=href>
                            "Next →"
                        </a>
                    }
                        .into_any()
                }
                None => {
                    view! {
                        <span class="button" aria-disabled="true">
                            "Next →"
                        </span>
                    }
                        .into_any()
                }
            }}
        </nav>
    }
}
