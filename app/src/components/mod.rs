//! Reusable widgets.

mod copy_button;
mod delete_dialog;
mod error_view;
mod header;
mod loaded;
mod loading;
mod modal;
mod notices;
mod pager;
mod policy_options;
mod repository_table;
mod search_form;
mod theme_toggle;
mod use_image;

pub use copy_button::CopyButton;
pub use delete_dialog::{preload_delete_dialog, DeleteTagsDialog};
pub use error_view::ErrorView;
pub use header::Header;
pub use loaded::Loaded;
pub use loading::LoadingRows;
pub use modal::{DoneButton, Modal, ModalName};
pub use notices::Notices;
pub use pager::Pager;
pub use policy_options::{CadenceOptions, KeepNOptions, OlderThanOptions};
pub use repository_table::RepositoryTable;
pub use search_form::SearchForm;
pub use theme_toggle::ThemeToggle;
pub use use_image::{Snippet, UseImage};

use leptos::prelude::*;

/// True once the page is hydrated (effects run only in the browser), for controls that
/// need JavaScript: they render disabled on the server and come alive after hydration.
pub fn use_hydrated() -> ReadSignal<bool> {
    let (hydrated, set_hydrated) = signal(false);
    Effect::new(move |_| set_hydrated.set(true));
    hydrated
}

/// Keeps Tab and Shift+Tab inside a modal dialog: call it from the dialog element's keydown
/// handler. From the last control Tab goes to the first, and Shift+Tab the other way.
#[cfg(feature = "hydrate")]
pub fn keep_tab_inside(ev: &leptos::ev::KeyboardEvent) {
    use wasm_bindgen::{JsCast, JsValue};
    const FOCUSABLE: &str = "button:not([disabled]), input:not([disabled]), \
         select:not([disabled]), textarea:not([disabled]), a[href], summary, \
         [tabindex]:not([tabindex='-1'])";
    if ev.key() != "Tab" {
        return;
    }
    let Some(dialog) = ev
        .current_target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
    else {
        return;
    };
    let Ok(nodes) = dialog.query_selector_all(FOCUSABLE) else {
        return;
    };
    let controls: Vec<web_sys::HtmlElement> = (0..nodes.length())
        .filter_map(|i| nodes.item(i))
        .filter_map(|n| n.dyn_into().ok())
        .collect();
    let (Some(first), Some(last)) = (controls.first(), controls.last()) else {
        return;
    };
    let active: Option<JsValue> = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.active_element())
        .map(Into::into);
    let is_active = |el: &web_sys::HtmlElement| active.as_ref() == Some(el.as_ref());
    if ev.shift_key() && is_active(first) {
        ev.prevent_default();
        let _ = last.focus();
    } else if !ev.shift_key() && is_active(last) {
        ev.prevent_default();
        let _ = first.focus();
    }
}

/// On the server no key is ever pressed.
#[cfg(not(feature = "hydrate"))]
pub fn keep_tab_inside(_ev: &leptos::ev::KeyboardEvent) {}

/// Moves keyboard focus to `target` once it is in the page (dialogs take focus when they
/// open, so keyboard and screen-reader users land inside them). A view that waited for its
/// code (see [`crate::split`]) is built before `<Suspense>` puts it in the page: then the
/// focus moves on the next frame.
pub fn focus_on_mount(target: NodeRef<leptos::html::Button>) {
    Effect::new(move |_| {
        if let Some(element) = target.get() {
            if element.is_connected() {
                let _ = element.focus();
            } else {
                request_animation_frame(move || {
                    let _ = element.focus();
                });
            }
        }
    });
}

/// The query string a form would submit (its current field values), read from the form the
/// event happened in.
#[cfg(feature = "hydrate")]
pub fn form_query(event: &leptos::ev::Event) -> Option<String> {
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

/// On the server no event ever fires, so there is never a form to read; this lets event
/// handlers be written once for both builds.
#[cfg(not(feature = "hydrate"))]
pub fn form_query(_event: &leptos::ev::Event) -> Option<String> {
    None
}

/// Polls stop after this many rounds on one component (minutes of waiting): a page left
/// open does not ask the server forever.
const MAX_POLLS: u32 = 150;

/// Asks a resource again after a while: one timer at a time (a newer round replaces a
/// pending one, so extra refetches never start a second chain), at most [`MAX_POLLS`]
/// rounds, and no timer outlives the component.
#[derive(Clone, Copy)]
pub struct Poller {
    handle: StoredValue<Option<TimeoutHandle>>,
    rounds: StoredValue<u32>,
}

impl Poller {
    pub fn new() -> Self {
        let poller = Poller {
            handle: StoredValue::new(None),
            rounds: StoredValue::new(0),
        };
        on_cleanup(move || poller.cancel());
        poller
    }

    /// Calls `bump` after `every`, replacing a round already waiting.
    pub fn again(&self, every: std::time::Duration, bump: impl Fn() + 'static) {
        self.cancel();
        if self.rounds.get_value() >= MAX_POLLS {
            return;
        }
        self.rounds.update_value(|r| *r += 1);
        if let Ok(handle) = set_timeout_with_handle(bump, every) {
            self.handle.set_value(Some(handle));
        }
    }

    /// Drops a waiting round.
    pub fn cancel(&self) {
        if let Some(handle) = self.handle.try_get_value().flatten() {
            handle.clear();
        }
    }
}

impl Default for Poller {
    fn default() -> Self {
        Self::new()
    }
}
