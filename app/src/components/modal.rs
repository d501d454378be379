//! The one modal dialog shape every dialog of the dashboard uses.
//!
//! A backdrop over the page, and the dialog element with `role` (`dialog`, or `alertdialog`
//! for one that reports a failure), `aria-modal` and its accessible name (the id of its
//! title, or a label when it has no visible title). Keyboard rules: Tab and Shift+Tab stay
//! inside ([`keep_tab_inside`]); Escape asks `on_escape`, which closes the dialog unless it
//! is busy. Whoever opens the dialog moves the focus into it ([`super::focus_on_mount`]).

use leptos::prelude::*;

use super::{focus_on_mount, keep_tab_inside};

/// How the dialog is named for assistive technology.
pub enum ModalName {
    /// The id of the element that names it (its `<h2>`).
    LabelledBy(&'static str),
    /// A name of its own, for a dialog without a visible title.
    Label(&'static str),
}

#[component]
pub fn Modal(
    name: ModalName,
    /// `alertdialog` for a dialog that reports a failure.
    #[prop(default = "dialog")]
    role: &'static str,
    /// The id of the element that describes the dialog, if one does.
    #[prop(optional)]
    describedby: Option<&'static str>,
    /// Escape was pressed inside the dialog.
    #[prop(optional, into)]
    on_escape: Option<Callback<()>>,
    children: Children,
) -> impl IntoView {
    let (labelledby, label) = match name {
        ModalName::LabelledBy(id) => (Some(id), None),
        ModalName::Label(text) => (None, Some(text)),
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        keep_tab_inside(&ev);
        if ev.key() == "Escape" {
            if let Some(escape) = on_escape {
                escape.run(());
            }
        }
    };
    view! {
        <div class="modal-backdrop">
            <div
                class="modal"
                role=role
                aria-modal="true"
                aria-labelledby=labelledby
                aria-label=label
                aria-describedby=describedby
                on:keydown=on_key
            >
                {children()}
            </div>
        </div>
    }
}

/// "Done" once a dialog has reported what happened: it takes the focus (the controls that
/// were focused are gone) and closes the dialog.
#[component]
pub fn DoneButton(#[prop(into)] on_click: Callback<()>) -> impl IntoView {
    let done = NodeRef::<leptos::html::Button>::new();
    focus_on_mount(done);
    view! {
        <button
            type="button"
            class="button primary"
            node_ref=done
            on:click=move |_| on_click.run(())
        >
            "Done"
        </button>
    }
}
