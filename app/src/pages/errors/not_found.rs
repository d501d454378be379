use leptos::prelude::*;
use leptos_meta::Title;

/// Any URL that matches no page.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found" />
        <main id="main" class="page">
            <section class="error-view" role="alert">
                <h1>"Page not found"</h1>
                <p>"There is no page at this address."</p>
                <a class="button" href="/">
                    "Go to your projects"
                </a>
            </section>
        </main>
    }
}
