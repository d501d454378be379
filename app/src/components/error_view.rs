use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::error::AppError;
use crate::links;

/// A clear page-level message for an error, with the action that helps.
#[component]
pub fn ErrorView(error: AppError) -> impl IntoView {
    // The server-rendered page carries the error's status too (404, 403, 502…).
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        if let Ok(status) = http::StatusCode::from_u16(error.status()) {
            response.set_status(status);
        }
    }
    let location = use_location();
    let here = move || {
        let search = location.search.get();
        if search.is_empty() {
            location.pathname.get()
        } else {
            format!(
                "{}?{}",
                location.pathname.get(),
                search.trim_start_matches('?')
            )
        }
    };
    let title = error.title();
    let message = error.to_string();
    let action = match &error {
        AppError::NotSignedIn { instance } => {
            let instance = instance.clone();
            view! {
                <a
                    class="button primary"
                    href=move || links::sign_in(&instance, &here())
                    rel="external"
                >
                    "Sign in with GitLab"
                </a>
            }
            .into_any()
        }
        AppError::GitLabUnavailable { .. }
        | AppError::RateLimited { .. }
        | AppError::Unavailable { .. } => view! {
            <a class="button" href=here rel="external">
                "Try again"
            </a>
        }
        .into_any(),
        AppError::Forbidden { .. } => view! {
            <p class="hint">
                "Ask a project maintainer for at least the Reporter role to see its container \
                    registry."
            </p>
        }
        .into_any(),
        _ => view! {
            <a class="button" href="/">
                "Go to your projects"
            </a>
        }
        .into_any(),
    };
    view! {
        <section class="error-view" role="alert" data-error=title>
            <h2>{title}</h2>
            <p>{message}</p>
            {action}
        </section>
    }
}
