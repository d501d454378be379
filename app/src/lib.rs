#![recursion_limit = "256"]
//! registry-dash UI: the HTML shell, the route table, pages, components and server functions.
//!
//! Built with feature `ssr` into the server and with feature `hydrate` into the wasm bundle;
//! never both at once.

pub mod codec;
pub mod components;
pub mod error;
pub mod links;
pub mod pages;
pub mod routes;
pub mod server_fns;
pub mod split;

#[cfg(feature = "ssr")]
pub mod backend;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::components::Router;

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    let nonce = security::provide_csp_nonce();
    #[cfg(not(feature = "ssr"))]
    let nonce = String::new();
    // Named after the bundle's content hash like the JS and wasm (see the server's
    // `http::site`), so browsers keep it until the next build.
    let stylesheet = format!("/{}/{}.css", options.site_pkg_dir, options.output_name);
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <link rel="stylesheet" id="app-style" href=stylesheet />
                // Apply the saved theme before first paint, so dark mode never flashes light.
                <script nonce=nonce>
                    "try{var \
                        t=localStorage.getItem('theme');\
                        if(t==='light'||t==='dark')document.documentElement.dataset.theme=t\
                        }catch(e){}"
                </script>
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[cfg(feature = "ssr")]
mod security {
    use leptos::prelude::*;

    /// Creates this response's CSP nonce, hands it to Leptos (its inline hydration and
    /// resource scripts carry it) and sets the Content-Security-Policy header with it.
    pub fn provide_csp_nonce() -> String {
        leptos::nonce::provide_nonce();
        let nonce = leptos::nonce::use_nonce()
            .map(|n| n.to_string())
            .unwrap_or_default();
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            let policy = format!(
                "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
                 style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; \
                 connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
                 frame-ancestors 'none'; form-action 'self'"
            );
            if let Ok(value) = http::HeaderValue::from_str(&policy) {
                response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
            }
        }
        nonce
    }
}

/// The application: routes and page chrome.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title formatter=|text: String| {
            if text.is_empty() {
                "Container registry".to_string()
            } else {
                format!("{text} · Container registry")
            }
        } />
        <a class="skip-link" href="#main">
            "Skip to content"
        </a>
        <Router>
            <routes::AppRoutes />
        </Router>
    }
}
