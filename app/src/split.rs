//! Code the browser fetches when it is first needed: the page groups of [`crate::routes`]
//! and the deletion dialog.
//!
//! A function marked `#[wasm_split(name, …, fallible)]` becomes an `async fn` with the same
//! arguments. The build (`scripts/build-site.sh`, `bundle-split`) moves it, with everything
//! only it reaches, into its own chunk of the wasm bundle. In the browser a call first
//! fetches and instantiates that chunk (once; later calls find it loaded), then runs the
//! function. `fallible` turns a chunk that cannot be fetched into `Err` ([`ChunkUnavailable`])
//! instead of a panic, which would abort the whole wasm module. On the server the function
//! is called directly.
//!
//! [`on_demand`] renders the view such a function returns, as soon as its chunk is there.
//!
//! A first visit should not wait for the main module before it starts fetching its page's
//! chunks: [`preload_chunks`] has the server put a `<link rel="preload">` per chunk of the
//! page's group into the document's head (from [`PageChunks`], the build's split manifest),
//! so the browser fetches them next to the main module. The preloads are requested the way
//! the chunk loader fetches (`fetch()` of the same URL, CORS mode, same-origin credentials),
//! so the loader's requests are answered from them instead of going out again.

use std::future::Future;

use leptos::prelude::*;

/// A chunk of the bundle could not be fetched: the network dropped, or a deployment replaced
/// the build the page came from.
#[derive(Debug)]
pub struct ChunkUnavailable;

impl From<leptos::wasm_split::SplitLoaderError> for ChunkUnavailable {
    fn from(_: leptos::wasm_split::SplitLoaderError) -> Self {
        ChunkUnavailable
    }
}

/// Why a [`ChunkUnavailable`] happened, for people.
pub const CODE_DID_NOT_ARRIVE: &str = "Its code did not arrive: the network may have dropped, or \
     a new version of the dashboard was deployed meanwhile.";

/// "Load the page again": the current URL from the server, which renders it whole (and
/// serves the current build's code).
#[component]
pub fn ReloadLink(class: &'static str) -> impl IntoView {
    let location = leptos_router::hooks::use_location();
    let here = move || format!("{}{}", location.pathname.get(), location.search.get());
    view! {
        <a class=class href=here rel="external">
            "Load the page again"
        </a>
    }
}

/// The files each split function's chunks are in (the build's `__wasm_split_manifest.json`),
/// as the URLs the browser fetches. The server reads it once at start-up and puts it into
/// every request's extensions.
#[cfg(feature = "ssr")]
#[derive(Clone, Debug, Default)]
pub struct PageChunks {
    groups: std::sync::Arc<std::collections::HashMap<String, Vec<String>>>,
    loader: Option<std::sync::Arc<str>>,
}

#[cfg(feature = "ssr")]
impl PageChunks {
    /// `groups`: split function name → its chunk URLs; `loader`: the URL of the chunk
    /// loader's JS module (imported by the main JS module), if the build has one.
    pub fn new(
        groups: std::collections::HashMap<String, Vec<String>>,
        loader: Option<String>,
    ) -> Self {
        PageChunks {
            groups: std::sync::Arc::new(groups),
            loader: loader.map(Into::into),
        }
    }

    /// The chunk URLs of one split function (empty for an unknown name or an unsplit build).
    pub fn urls(&self, group: &str) -> &[String] {
        self.groups
            .get(group)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }
}

/// Has the document's head preload the chunks of `group` (a split function's name) and the
/// chunk loader. Server only; without [`PageChunks`] in the request (an unsplit build, a
/// test router) it adds nothing.
#[cfg(feature = "ssr")]
pub fn preload_chunks(group: &str) {
    use leptos_meta::Link;
    let Some(chunks) = use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<PageChunks>().cloned())
    else {
        return;
    };
    let urls = chunks.urls(group);
    if urls.is_empty() {
        return;
    }
    // Rendering a `Link` on the server registers it with the document's head; the view
    // itself is empty.
    if let Some(loader) = &chunks.loader {
        let _ = view! { <Link rel="modulepreload" href=loader.to_string() /> }.to_html();
    }
    for url in urls {
        let _ = view! {
            <Link
                rel="preload"
                href=url.clone()
                as_="fetch"
                type_="application/wasm"
                crossorigin="anonymous"
            />
        }
        .to_html();
    }
}

/// The view of a split function: nothing until its chunk has arrived (a `<Suspense>` around
/// it shows its fallback meanwhile), then the view, or `unavailable()` if the chunk could not
/// be fetched.
#[cfg(feature = "hydrate")]
pub fn on_demand<Fut>(
    load: Fut,
    unavailable: impl FnOnce() -> AnyView + Send + 'static,
) -> impl IntoView
where
    Fut: Future<Output = Result<AnyView, ChunkUnavailable>> + 'static,
{
    // `Suspend` takes only `Send` futures, and a split function's future is not one (it
    // holds the loader's JS values). The browser has one thread, so the future is always
    // polled where it was made; `SendWrapper` checks exactly that.
    suspend(send_wrapper::SendWrapper::new(load), unavailable)
}

/// The server calls split functions directly; their futures are `Send` there.
#[cfg(not(feature = "hydrate"))]
pub fn on_demand<Fut>(
    load: Fut,
    unavailable: impl FnOnce() -> AnyView + Send + 'static,
) -> impl IntoView
where
    Fut: Future<Output = Result<AnyView, ChunkUnavailable>> + Send + 'static,
{
    suspend(load, unavailable)
}

fn suspend<Fut>(load: Fut, unavailable: impl FnOnce() -> AnyView + Send + 'static) -> impl IntoView
where
    Fut: Future<Output = Result<AnyView, ChunkUnavailable>> + Send + 'static,
{
    Suspend::new(async move { load.await.unwrap_or_else(|ChunkUnavailable| unavailable()) })
}
