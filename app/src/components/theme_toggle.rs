use leptos::prelude::*;

use super::use_hydrated;

/// Cycles the colour theme: follow the system → light → dark. Saved in localStorage and
/// applied before first paint by a script in the page head.
#[component]
pub fn ThemeToggle() -> impl IntoView {
    let hydrated = use_hydrated();
    let (theme, set_theme) = signal(Theme::System);
    Effect::new(move |_| set_theme.set(Theme::load()));
    let label = move || format!("Theme: {} (change)", theme.get().label());
    view! {
        <button
            type="button"
            class="button subtle theme-toggle"
            disabled=move || !hydrated.get()
            aria-label=label
            title=label
            on:click=move |_| {
                let next = theme.get_untracked().next();
                next.apply();
                set_theme.set(next);
            }
        >
            {move || theme.get().icon()}
        </button>
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Theme {
    System,
    Light,
    Dark,
}

impl Theme {
    fn next(self) -> Self {
        match self {
            Theme::System => Theme::Light,
            Theme::Light => Theme::Dark,
            Theme::Dark => Theme::System,
        }
    }
    fn label(self) -> &'static str {
        match self {
            Theme::System => "system",
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }
    fn icon(self) -> &'static str {
        match self {
            Theme::System => "◐",
            Theme::Light => "☀",
            Theme::Dark => "☾",
        }
    }

    #[cfg(feature = "hydrate")]
    fn load() -> Self {
        let stored = web_sys::window()
            .and_then(|w| w.local_storage().ok().flatten())
            .and_then(|s| s.get_item("theme").ok().flatten());
        match stored.as_deref() {
            Some("light") => Theme::Light,
            Some("dark") => Theme::Dark,
            _ => Theme::System,
        }
    }

    #[cfg(not(feature = "hydrate"))]
    fn load() -> Self {
        Theme::System
    }

    #[cfg(feature = "hydrate")]
    fn apply(self) {
        let Some(window) = web_sys::window() else {
            return;
        };
        if let Some(root) = window.document().and_then(|d| d.document_element()) {
            let _ = match self {
                Theme::System => root.remove_attribute("data-theme"),
                other => root.set_attribute("data-theme", other.label()),
            };
        }
        if let Ok(Some(storage)) = window.local_storage() {
            let _ = match self {
                Theme::System => storage.remove_item("theme"),
                other => storage.set_item("theme", other.label()),
            };
        }
    }

    #[cfg(not(feature = "hydrate"))]
    fn apply(self) {}
}
