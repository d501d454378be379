use domain::notice::Notice;
use leptos::prelude::*;

/// Notices in words: what the URL contained that the page ignored, or what GitLab holds
/// that the page shows differently.
#[component]
pub fn Notices<W: Send + Sync + 'static>(notices: Vec<Notice<W>>) -> impl IntoView {
    (!notices.is_empty()).then(|| {
        view! {
            <ul class="notices" role="status">
                {notices.into_iter().map(|n| view! { <li>{n.message}</li> }).collect_view()}
            </ul>
        }
    })
}
