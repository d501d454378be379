#![recursion_limit = "256"]
//! Browser entry point: hydrates the HTML the server rendered, making it interactive.

/// Called by the generated JS glue once the main wasm module is loaded. The pages are split
/// into chunks (`app::routes`): `hydrate_lazy` first loads the chunk of the page the server
/// rendered (the document already preloads it), then hydrates.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_lazy(app::App);
}
