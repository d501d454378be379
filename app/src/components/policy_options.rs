//! The options of a cleanup policy's three choices, in GitLab's order and words, for every
//! form that edits a policy (the policy editor, a group's standard policy).

use domain::cleanup::{Cadence, OlderThan, KEEP_N_VALUES};
use domain::format;
use leptos::prelude::*;

/// The cadences GitLab offers.
#[component]
pub fn CadenceOptions(selected: Cadence) -> impl IntoView {
    Cadence::ALL
        .into_iter()
        .map(|c| {
            view! {
                <option value=c.as_param() selected=c == selected>
                    {c.label()}
                </option>
            }
        })
        .collect_view()
}

/// The numbers of tags to keep GitLab offers, and none.
#[component]
pub fn KeepNOptions(selected: Option<u32>) -> impl IntoView {
    view! {
        <option value="" selected=selected.is_none()>
            "Any number of tags (no limit)"
        </option>
        {KEEP_N_VALUES
            .into_iter()
            .map(|n| {
                view! {
                    <option value=n.to_string() selected=selected == Some(n)>
                        {format::plural(n as u64, "tag per image", "tags per image")}
                    </option>
                }
            })
            .collect_view()}
    }
}

/// The ages GitLab offers, and none.
#[component]
pub fn OlderThanOptions(selected: Option<OlderThan>) -> impl IntoView {
    view! {
        <option value="" selected=selected.is_none()>
            "Any age"
        </option>
        {OlderThan::ALL
            .into_iter()
            .map(|o| {
                view! {
                    <option value=o.as_param() selected=selected == Some(o)>
                        {format!("{} days", o.days())}
                    </option>
                }
            })
            .collect_view()}
    }
}
