use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::{ErrorView, ThemeToggle};
use crate::links;
use crate::pages::use_query_pairs;
use crate::server_fns::session::list_instances;

/// Sign-in: choose a GitLab instance (when there are several) and go through GitLab's OAuth.
#[component]
pub fn SignInPage() -> impl IntoView {
    let pairs = use_query_pairs();
    let param = move |name: &str| {
        pairs
            .get()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    };
    let return_to =
        move || param("return_to").filter(|r| r.starts_with('/') && !r.starts_with("//"));
    let failure = move || param("error").map(|code| sign_in_error_message(&code));
    let instances = Resource::new(|| (), |_| list_instances());
    view! {
        <Title text="Sign in" />
        <header class="topbar">
            <span class="brand">
                <span class="brand-mark" aria-hidden="true">
                    "▣"
                </span>
                " Container registry"
            </span>
            <div class="topbar-end">
                <ThemeToggle />
            </div>
        </header>
        <main id="main" class="page sign-in">
            <h1>"Sign in"</h1>
            <p class="lead">
                "Find, understand and clean up your container images. Sign in with your GitLab \
                    account; the dashboard acts with your GitLab permissions and never shows your \
                    token to the browser."
            </p>
            {move || {
                failure()
                    .map(|message| {
                        view! {
                            <p class="alert danger" role="alert">
                                {message}
                            </p>
                        }
                    })
            }}
            <Suspense fallback=|| {
                view! { <p>"Loading…"</p> }
            }>
                {move || Suspend::new(async move {
                    match instances.await {
                        Err(error) => view! { <ErrorView error /> }.into_any(),
                        Ok(list) => {
                            let back = return_to();
                            view! {
                                <ul class="instance-list">
                                    {list
                                        .into_iter()
                                        .map(|instance| {
                                            let target = back
                                                .clone()
                                                .unwrap_or_else(|| links::projects(&instance.name));
                                            let web_url = instance.web_url.clone();
                                            let demo = instance
                                                .demo
                                                .then(|| {
                                                    view! {
                                                        <p class="demo-note">
                                                            <strong>"Demo mode."</strong>
                                                            " This dashboard was started with \
                                                                --demo: it runs against its \
                                                                built-in GitLab double with \
                                                                seeded demo data. Pick any demo \
                                                                user on the next page."
                                                        </p>
                                                    }
                                                });
                                            view! {
                                                <li class="card">
                                                    <a
                                                        class="button primary big"
                                                        rel="external"
                                                        href=links::sign_in(&instance.name, &target)
                                                    >
                                                        {format!("Sign in with {}", instance.label)}
                                                    </a>
                                                    <span class="muted">{web_url}</span>
                                                    {demo}
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ul>
                            }
                                .into_any()
                        }
                    }
                })}
            </Suspense>
        </main>
    }
}

/// Words for the `error` codes the OAuth callback sends back here.
fn sign_in_error_message(code: &str) -> String {
    match code {
        "access_denied" => "Sign-in was cancelled at GitLab. Nothing was changed.".into(),
        "state" => {
            "That sign-in link expired or was opened in another browser. Please sign in again."
                .into()
        }
        "exchange" => "GitLab did not accept the sign-in. Please try again.".into(),
        "unavailable" => {
            "GitLab could not be reached to complete the sign-in. Please try again shortly.".into()
        }
        "instance" => "That GitLab instance is not configured here.".into(),
        "busy" => "Too many sign-ins are starting right now. Please try again in a minute.".into(),
        "sessions" => {
            "The dashboard cannot keep sign-ins right now: its session store is not answering. \
             Please try again shortly."
                .into()
        }
        _ => "Sign-in did not complete. Please try again.".into(),
    }
}
