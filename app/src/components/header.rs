use domain::Viewer;
use leptos::prelude::*;

use super::ThemeToggle;
use crate::error::AppError;
use crate::links;

/// The top bar: product name, instance, navigation, the signed-in user and sign-out.
#[component]
pub fn Header(
    #[prop(into)] instance: Signal<String>,
    viewer: Resource<Result<Viewer, AppError>>,
) -> impl IntoView {
    view! {
        <header class="topbar">
            <a class="brand" href=move || links::projects(&instance.get())>
                <span class="brand-mark" aria-hidden="true">
                    "▣"
                </span>
                " Container registry"
            </a>
            <nav class="topnav" aria-label="Main">
                <a href=move || links::projects(&instance.get())>"Projects"</a>
                <a href=move || links::groups(&instance.get())>"Groups"</a>
                <a href=move || links::instance_health(&instance.get())>"Registry health"</a>
            </nav>
            <div class="topbar-end">
                <ThemeToggle />
                <Suspense fallback=|| {
                    view! { <span class="user-chip muted">"…"</span> }
                }>
                    {move || Suspend::new(async move {
                        match viewer.await {
                            Ok(user) => {
                                view! {
                                    <span
                                        class="user-chip"
                                        title=format!(
                                            "Signed in to {} as @{}",
                                            user.instance,
                                            user.username,
                                        )
                                    >
                                        <span class="avatar" aria-hidden="true">
                                            {initials(&user.name)}
                                        </span>
                                        <span class="user-name">{user.name.clone()}</span>
                                        <span class="user-handle">
                                            {format!("@{}", user.username)}
                                        </span>
                                    </span>
                                    <form method="post" action="/auth/logout" class="inline-form">
                                        <button type="submit" class="button subtle">
                                            "Sign out"
                                        </button>
                                    </form>
                                }
                                    .into_any()
                            }
                            Err(_) => {
                                view! { <span class="user-chip muted">"Not signed in"</span> }
                                    .into_any()
                            }
                        }
                    })}
                </Suspense>
            </div>
        </header>
    }
}

fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|w| w.chars().next())
        .take(2)
        .collect::<String>()
        .to_uppercase()
}
