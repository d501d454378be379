use leptos::prelude::*;

/// Placeholder rows shown while a list loads.
#[component]
pub fn LoadingRows(#[prop(default = 5)] rows: usize) -> impl IntoView {
    view! {
        <div class="loading" aria-busy="true" aria-live="polite">
            <span class="visually-hidden">"Loading…"</span>
            {(0..rows).map(|_| view! { <div class="skeleton-row"></div> }).collect_view()}
        </div>
    }
}
