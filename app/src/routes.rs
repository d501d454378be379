//! The route table, with the pages split out of the main wasm module in four groups.
//!
//! Each group (a repository's tags; the other pages that read: lists, details; the cleanup
//! policy with its engine; pull credentials) is one split point: a function marked with
//! `wasm_split` that renders any page of the group. The build (`scripts/build-site.sh`,
//! `bundle-split`) moves it, with everything only it reaches, out of the main module. What a
//! page needs is then:
//! - the main module: the router, the layout and header, the reactive runtime, the server
//!   function client, and whatever code every group shares;
//! - its group's chunk, plus one chunk for each set of groups sharing code the main module
//!   does not have (the splitter's unit: code the reading pages share only with the policy
//!   page is one chunk, fetched by whichever of the two comes first).
//!
//! How it runs:
//! - when the server renders a page, the document's head preloads that page's group's
//!   chunks ([`crate::split::preload_chunks`]), so a first visit fetches them next to the
//!   main module instead of after it;
//! - hydration (`hydrate_lazy` in the frontend crate) waits for the chunks of the page it
//!   hydrates; a client-side navigation fetches the next group's chunks once, while the
//!   previous page stays on screen;
//! - a chunk that cannot be fetched renders [`PageCodeUnavailable`], which loads the page
//!   from the server instead;
//! - on the server the split functions are called directly: splitting changes nothing there.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{ParentRoute, Route, Routes};
use leptos_router::{path, Lazy, LazyRoute, SsrMode};

use crate::pages::auth::SignInPage;
use crate::pages::cleanup::CleanupPolicyPage;
use crate::pages::credentials::CredentialsPageView;
use crate::pages::errors::NotFoundPage;
use crate::pages::groups::{
    GroupApplyPage, GroupListPage, GroupPage, GroupPoliciesPage, InstancePoliciesPage,
};
use crate::pages::instance::{InstanceHealthPage, InstanceLayout};
use crate::pages::projects::{ProjectListPage, ProjectPage, ProjectStoragePage};
use crate::pages::tags::{CompareTagsPage, TagDetailPage, TagListPage};
use crate::split::{ChunkUnavailable, ReloadLink, CODE_DID_NOT_ARRIVE};

/// Declares a group of pages that share one chunk: an enum naming the pages, one split
/// function rendering any of them, and a [`LazyRoute`] per page that loads the chunk
/// (`preload`) and renders its page (`view`).
///
/// Grouping keeps the chunk count small: the splitter makes one chunk per set of split
/// points that share code. One split point per page (twelve) made about 200 chunks, and a
/// tag list needed 142 of them. The tag list, the page most visits are for, is a group of its
/// own: with the deletion dialog that makes 30 chunks, and a tag list needs 380 KiB brotli
/// in 16 chunk files next to the main module (three groups: 465 KiB in 8). The files cost
/// little time because the document preloads them all at once (README, "Performance").
///
/// The split function is `fallible`: when its chunk cannot be fetched (the network dropped,
/// or a deployment replaced the build the page came from) the route renders
/// [`PageCodeUnavailable`] instead of aborting the whole wasm module.
macro_rules! page_group {
    (
        $(#[$group_doc:meta])*
        $group:ident / $preload:ident / $page_enum:ident {
            $($(#[$doc:meta])* $route:ident => $page:ident,)*
        }
    ) => {
        $(#[$group_doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $page_enum {
            $($(#[$doc])* $route,)*
        }

        /// Renders one page of the group. In the browser this function lives in the group's
        /// chunk, and calling it first loads that chunk; on the server it is called directly.
        #[leptos::wasm_split::wasm_split(
            $group,
            wasm_split_path = ::leptos::wasm_split,
            fallible,
            preload(#[doc(hidden)] $preload)
        )]
        fn $group(page: $page_enum) -> Result<AnyView, ChunkUnavailable> {
            Ok(match page {
                $($page_enum::$route => view! { <$page /> }.into_any(),)*
            })
        }

        $(
            $(#[$doc])*
            pub struct $route;

            impl $route {
                /// The route's view: this page, loaded with its group's chunk.
                pub fn lazy() -> Lazy<Self> {
                    Lazy::new()
                }
            }

            impl LazyRoute for $route {
                fn data() -> Self {
                    $route
                }

                async fn view(_this: Self) -> AnyView {
                    // The document's head preloads the group's chunks.
                    #[cfg(feature = "ssr")]
                    crate::split::preload_chunks(stringify!($group));
                    $group($page_enum::$route)
                        .await
                        .unwrap_or_else(|_| view! { <PageCodeUnavailable /> }.into_any())
                }

                async fn preload() {
                    // A failure shows in `view`, which tries again.
                    #[cfg(feature = "hydrate")]
                    $preload().await.ok();
                }
            }
        )*
    };
}

/// Shown when a page's code could not be fetched during a client-side navigation: the URL
/// already names the page, so loading it from the server shows it whole. The browser does
/// that once by itself; if the same page failed within the last minute it stays here, says
/// so, and offers the link instead of reloading in a loop.
#[component]
fn PageCodeUnavailable() -> impl IntoView {
    // After the router has committed the URL of the page that failed (it does so once this
    // view is returned), not before: a reload now would reload the previous page.
    #[cfg(feature = "hydrate")]
    Effect::new(|_| set_timeout(reload_once, std::time::Duration::ZERO));
    view! {
        <Title text="Page not loaded" />
        <section class="error-view" role="alert">
            <h1>"This page could not be loaded"</h1>
            <p>{CODE_DID_NOT_ARRIVE}</p>
            <ReloadLink class="button primary" />
        </section>
    }
}

/// Reloads the page unless this URL was reloaded for the same reason in the last minute.
#[cfg(feature = "hydrate")]
fn reload_once() {
    const KEY: &str = "registry-dash:page-code-reload";
    let window = leptos::prelude::window();
    let Ok(href) = window.location().href() else {
        return;
    };
    let now = now_ms();
    let storage = window.session_storage().ok().flatten();
    let recent = storage
        .as_ref()
        .and_then(|s| s.get_item(KEY).ok().flatten())
        .and_then(|saved| {
            let (at, url) = saved.split_once(' ')?;
            Some(url == href && now - at.parse::<f64>().ok()? < 60_000.0)
        })
        .unwrap_or(false);
    if recent {
        return;
    }
    if let Some(storage) = storage {
        // Without storage there is no loop guard: then the link is the way.
        if storage.set_item(KEY, &format!("{now} {href}")).is_ok() {
            let _ = window.location().reload();
        }
    }
}

/// Milliseconds since the epoch, from the browser's clock.
#[cfg(feature = "hydrate")]
fn now_ms() -> f64 {
    leptos::prelude::window()
        .performance()
        .map(|p| p.time_origin() + p.now())
        .unwrap_or(0.0)
}

page_group! {
    /// A repository's tags: the page most visits are for, alone in its group so that it
    /// fetches the least code.
    tag_list_pages / __preload_tag_list_pages / TagsPage {
        /// A repository's tags.
        TagListRoute => TagListPage,
    }
}

page_group! {
    /// The other pages that read: lists, one tag, two tags, storage, health, sign-in.
    browse_pages / __preload_browse_pages / BrowsePage {
        /// `/login`.
        SignInRoute => SignInPage,
        /// The instance's projects.
        ProjectListRoute => ProjectListPage,
        /// The instance's groups.
        GroupListRoute => GroupListPage,
        /// A group's image repositories.
        GroupRoute => GroupPage,
        /// A project's image repositories.
        ProjectRoute => ProjectPage,
        /// One tag.
        TagDetailRoute => TagDetailPage,
        /// Two tags side by side.
        CompareRoute => CompareTagsPage,
        /// A project's storage.
        ProjectStorageRoute => ProjectStoragePage,
        /// The instance's health.
        HealthRoute => InstanceHealthPage,
    }
}

page_group! {
    /// Cleanup policies: a project's editor with the exact preview and Run now, and a
    /// group's policies side by side (which shares the policy's types and checks).
    cleanup_pages / __preload_cleanup_pages / CleanupPage {
        /// A project's cleanup policy.
        CleanupRoute => CleanupPolicyPage,
        /// The cleanup policies of a group's projects.
        GroupPoliciesRoute => GroupPoliciesPage,
        GroupApplyRoute => GroupApplyPage,
        InstancePoliciesRoute => InstancePoliciesPage,
    }
}

page_group! {
    /// Pull credentials of a project or a group.
    credential_pages / __preload_credential_pages / CredentialsPage {
        /// Pull credentials.
        CredentialsRoute => CredentialsPageView,
    }
}

/// Every route of the app; pages render inside the instance layout.
#[component]
pub fn AppRoutes() -> impl IntoView {
    view! {
        <Routes fallback=|| view! { <NotFoundPage /> }>
            <Route path=path!("/login") view=SignInRoute::lazy() ssr=SsrMode::Async />
            <ParentRoute path=path!("/i/:instance") view=InstanceLayout ssr=SsrMode::Async>
                <Route path=path!("") view=ProjectListRoute::lazy() ssr=SsrMode::Async />
                <Route path=path!("groups") view=GroupListRoute::lazy() ssr=SsrMode::Async />
                <Route path=path!("groups/*path") view=GroupRoute::lazy() ssr=SsrMode::Async />
                <Route path=path!("projects/*path") view=ProjectRoute::lazy() ssr=SsrMode::Async />
                <Route
                    path=path!("policies/groups/*path")
                    view=GroupPoliciesRoute::lazy()
                    ssr=SsrMode::Async
                />
                <Route
                    path=path!("policies")
                    view=InstancePoliciesRoute::lazy()
                    ssr=SsrMode::Async
                />
                <Route
                    path=path!("policies/apply/*path")
                    view=GroupApplyRoute::lazy()
                    ssr=SsrMode::Async
                />
                <Route path=path!("cleanup/*path") view=CleanupRoute::lazy() ssr=SsrMode::Async />
                <Route
                    path=path!("storage/*path")
                    view=ProjectStorageRoute::lazy()
                    ssr=SsrMode::Async
                />
                <Route
                    path=path!("credentials/projects/*path")
                    view=CredentialsRoute::lazy()
                    ssr=SsrMode::Async
                />
                <Route
                    path=path!("credentials/groups/*path")
                    view=CredentialsRoute::lazy()
                    ssr=SsrMode::Async
                />
                <Route path=path!("health") view=HealthRoute::lazy() ssr=SsrMode::Async />
                <Route
                    path=path!("repositories/:id")
                    view=TagListRoute::lazy()
                    ssr=SsrMode::Async
                />
                <Route
                    path=path!("repositories/:id/tags/:tag")
                    view=TagDetailRoute::lazy()
                    ssr=SsrMode::Async
                />
                <Route
                    path=path!("repositories/:id/compare")
                    view=CompareRoute::lazy()
                    ssr=SsrMode::Async
                />
            </ParentRoute>
        </Routes>
    }
}
