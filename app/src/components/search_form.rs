use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

/// A GET search form: submits to the same page with `q` (plus any kept parameters), so the
/// search lives in the URL. Without JavaScript it is an ordinary form submission; once
/// hydrated it navigates client-side to the canonical query string.
#[component]
pub fn SearchForm(
    /// The page path the form submits to.
    #[prop(into)]
    action: String,
    /// Current search text.
    #[prop(into)]
    value: String,
    /// Accessible label and placeholder.
    #[prop(into)]
    label: String,
    /// Other view state to keep (name, value), e.g. the sort order.
    #[prop(default = Vec::new())]
    keep: Vec<(String, String)>,
) -> impl IntoView {
    let clear_href = action.clone();
    let has_value = !value.is_empty();
    let input = NodeRef::<leptos::html::Input>::new();
    let navigate = use_navigate();
    let submit_action = action.clone();
    let submit_keep = keep.clone();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        let Some(input) = input.get() else { return };
        ev.prevent_default();
        let search = input.value().trim().to_string();
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if !search.is_empty() {
            pairs.push(("q", search));
        }
        for (name, value) in &submit_keep {
            pairs.push((name.as_str(), value.clone()));
        }
        let target = format!("{submit_action}{}", domain::query::build(&pairs));
        navigate(&target, Default::default());
    };
    view! {
        <form method="get" action=action class="search-form" role="search" on:submit=on_submit>
            <label class="visually-hidden" for="search-input">
                {label.clone()}
            </label>
            <input
                id="search-input"
                node_ref=input
                type="search"
                name="q"
                value=value
                placeholder=label
                maxlength=domain::view::MAX_SEARCH_LEN
                autocomplete="off"
            />
            {keep
                .into_iter()
                .map(|(name, value)| view! { <input type="hidden" name=name value=value /> })
                .collect_view()}
            <button type="submit" class="button primary">
                "Search"
            </button>
            {has_value
                .then(|| {
                    view! {
                        <a class="button subtle" href=clear_href>
                            "Clear"
                        </a>
                    }
                })}
        </form>
    }
}
