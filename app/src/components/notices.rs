use domain::view::Notice;
use leptos::prelude::*;

/// What the URL contained that the page ignored.
#[component]
pub fn Notices(notices: Vec<Notice>) -> impl IntoView {
    (!notices.is_empty()).then(|| {
        view! {
            <ul class="notices" role="status">
                {notices.into_iter().map(|n| view! { <li>{n.0}</li> }).collect_view()}
            </ul>
        }
    })
}
