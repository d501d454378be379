use leptos::prelude::*;

use super::use_hydrated;

/// A button that copies `text` to the clipboard and says so. Disabled until hydrated,
/// since copying needs JavaScript; the text itself is always shown next to it.
#[component]
pub fn CopyButton(
    /// What to copy.
    #[prop(into)]
    text: String,
    /// What is being copied, for screen readers ("image path").
    #[prop(into)]
    what: String,
) -> impl IntoView {
    let hydrated = use_hydrated();
    let (state, set_state) = signal(CopyState::Idle);
    let label = format!("Copy {what}");
    let on_click = move |_| {
        let text = text.clone();
        copy_to_clipboard(text, set_state);
    };
    view! {
        <button
            type="button"
            class="copy-button"
            aria-label=label.clone()
            title=label
            disabled=move || !hydrated.get()
            data-state=move || state.get().as_str()
            on:click=on_click
        >
            <span aria-hidden="true">{move || state.get().icon()}</span>
            <span class="visually-hidden" role="status">
                {move || state.get().message()}
            </span>
        </button>
    }
}

// Copied/Failed are only reached in the browser build.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
#[derive(Clone, Copy, PartialEq, Eq)]
enum CopyState {
    Idle,
    Copied,
    Failed,
}

impl CopyState {
    fn as_str(self) -> &'static str {
        match self {
            CopyState::Idle => "idle",
            CopyState::Copied => "copied",
            CopyState::Failed => "failed",
        }
    }
    fn icon(self) -> &'static str {
        match self {
            CopyState::Idle => "Copy",
            CopyState::Copied => "✓ Copied",
            CopyState::Failed => "Copy failed",
        }
    }
    fn message(self) -> &'static str {
        match self {
            CopyState::Idle => "",
            CopyState::Copied => "Copied to the clipboard",
            CopyState::Failed => "Select the text and press Ctrl+C",
        }
    }
}

#[cfg(feature = "hydrate")]
fn copy_to_clipboard(text: String, set_state: WriteSignal<CopyState>) {
    leptos::task::spawn_local(async move {
        let Some(window) = web_sys::window() else {
            set_state.set(CopyState::Failed);
            return;
        };
        let promise = window.navigator().clipboard().write_text(&text);
        let outcome = wasm_bindgen_futures::JsFuture::from(promise).await;
        set_state.set(if outcome.is_ok() {
            CopyState::Copied
        } else {
            CopyState::Failed
        });
        set_timeout(
            move || set_state.set(CopyState::Idle),
            std::time::Duration::from_secs(2),
        );
    });
}

#[cfg(not(feature = "hydrate"))]
fn copy_to_clipboard(_text: String, _set_state: WriteSignal<CopyState>) {}
