//! Reusable widgets.

mod copy_button;
mod delete_dialog;
mod error_view;
mod header;
mod loading;
mod notices;
mod pager;
mod repository_table;
mod search_form;
mod theme_toggle;

pub use copy_button::CopyButton;
pub use delete_dialog::DeleteTagsDialog;
pub use error_view::ErrorView;
pub use header::Header;
pub use loading::LoadingRows;
pub use notices::Notices;
pub use pager::Pager;
pub use repository_table::RepositoryTable;
pub use search_form::SearchForm;
pub use theme_toggle::ThemeToggle;

use leptos::prelude::*;

/// True once the page is hydrated (effects run only in the browser), for controls that
/// need JavaScript: they render disabled on the server and come alive after hydration.
pub fn use_hydrated() -> ReadSignal<bool> {
    let (hydrated, set_hydrated) = signal(false);
    Effect::new(move |_| set_hydrated.set(true));
    hydrated
}

/// Moves keyboard focus to `target` once it is in the page (dialogs take focus when they
/// open, so keyboard and screen-reader users land inside them).
pub fn focus_on_mount(target: NodeRef<leptos::html::Button>) {
    Effect::new(move |_| {
        if let Some(element) = target.get() {
            let _ = element.focus();
        }
    });
}

/// The query string a form would submit (its current field values), read from the form the
/// event happened in. Browser only.
#[cfg(feature = "hydrate")]
pub fn form_query(event: &web_sys::Event) -> Option<String> {
    use wasm_bindgen::JsCast;
    let form = event
        .target()?
        .dyn_into::<web_sys::Element>()
        .ok()?
        .closest("form")
        .ok()??
        .dyn_into::<web_sys::HtmlFormElement>()
        .ok()?;
    let data = web_sys::FormData::new_with_form(&form).ok()?;
    let params = web_sys::UrlSearchParams::new_with_str_sequence_sequence(data.as_ref()).ok()?;
    Some(String::from(params.to_string()))
}
