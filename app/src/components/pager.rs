use leptos::prelude::*;

/// Previous/next links with a position label, and for long lists first/last links and
/// whatever else the list puts at the end (the tag list: its page sizes). Plain links: works
/// without JavaScript, and the router turns them into client-side navigations once hydrated.
#[component]
pub fn Pager(
    prev: Option<String>,
    next: Option<String>,
    #[prop(into)] label: String,
    /// The first page, when it is not the previous one.
    #[prop(default = None)]
    first: Option<String>,
    /// The last page, when it is not the next one.
    #[prop(default = None)]
    last: Option<String>,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    let end = |href: Option<String>, text: &'static str| {
        href.map(|href| {
            view! {
                <a class="button subtle" href=href>
                    {text}
                </a>
            }
        })
    };
    let step = |href: Option<String>, rel: &'static str, text: &'static str| match href {
        Some(href) => view! {
            <a class="button" rel=rel href=href>
                {text}
            </a>
        }
        .into_any(),
        None => view! {
            <span class="button" aria-disabled="true">
                {text}
            </span>
        }
        .into_any(),
    };
    view! {
        <nav class="pager" aria-label="Pagination">
            {end(first, "« First")}
            {step(prev, "prev", "← Previous")}
            <span class="pager-label" data-testid="page-label">
                {label}
            </span>
            {step(next, "next", "Next →")}
            {end(last, "Last »")}
            {children.map(|children| children())}
        </nav>
    }
}
