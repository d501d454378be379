//! "Run now": GitLab's bulk delete with the policy on screen, after the user has seen exactly
//! what it deletes (as their role: a bulk delete may delete tags the scheduled cleanup skips)
//! and typed the number of tags.

use domain::cleanup::{
    plan_run, CleanupOverview, CleanupPolicy, PlannedRun, RunOutcome, RunResult,
};
use domain::format;
use leptos::prelude::*;

use crate::components::{focus_on_mount, DoneButton, Modal, ModalName};
use crate::error::AppError;
use crate::server_fns::cleanup::RunCleanupNow;

/// What the run would do, as `overview`'s viewer, in words when it cannot.
fn plan(overview: &CleanupOverview, policy: &CleanupPolicy) -> Result<Vec<PlannedRun>, String> {
    plan_run(overview, policy).map_err(|e| e.message)
}

#[component]
pub fn RunNowDialog(
    instance: String,
    project_path: String,
    overview: RwSignal<CleanupOverview>,
    policy: CleanupPolicy,
    /// The policy differs from the saved one.
    draft: bool,
    /// Called on close; `true` when GitLab accepted a run (the page reloads its tags).
    on_close: Callback<bool>,
) -> impl IntoView {
    let planned = overview.with_untracked(|o| plan(o, &policy));
    // Every repository the policy deletes in is selected; the user may leave some out.
    let selected = RwSignal::new(
        planned
            .as_ref()
            .map(|p| {
                p.iter()
                    .filter(|r| r.runnable())
                    .map(PlannedRun::repository_id)
                    .collect::<std::collections::BTreeSet<u64>>()
            })
            .unwrap_or_default(),
    );
    let total = {
        let planned = planned.clone().unwrap_or_default();
        Memo::new(move |_| {
            selected.with(|chosen| {
                planned
                    .iter()
                    .filter(|p| chosen.contains(&p.repository_id()))
                    .map(PlannedRun::deleted)
                    .sum::<u64>()
            })
        })
    };
    let typed = RwSignal::new(String::new());
    let run_now = ServerAction::<RunCleanupNow>::new();
    let running = run_now.pending();
    let outcome = run_now.value();
    let confirmed = move || total.get() > 0 && typed.get().trim() == total.get().to_string();
    let run = {
        let planned = planned.clone().unwrap_or_default();
        move |_| {
            if running.get_untracked() || !confirmed() {
                return;
            }
            let chosen = selected.get_untracked();
            run_now.dispatch(RunCleanupNow {
                instance: instance.clone(),
                project_path: project_path.clone(),
                policy: policy.clone(),
                // Exactly what the user saw and chose, each with the preview it confirms.
                confirmed: planned
                    .iter()
                    .filter(|p| chosen.contains(&p.repository_id()))
                    .map(|p| p.confirmation.clone())
                    .collect(),
            });
        }
    };
    // After any attempt the page reads GitLab again: deletions started, or the preview changed.
    let close = move || on_close.run(outcome.get_untracked().is_some());
    let on_escape = move |()| {
        if !running.get_untracked() {
            close();
        }
    };
    let cancel = NodeRef::<leptos::html::Button>::new();
    focus_on_mount(cancel);
    view! {
        <Modal name=ModalName::LabelledBy("run-title") on_escape>
            <h2 id="run-title">"Run the cleanup now?"</h2>
            {move || match outcome.get() {
                Some(result) => view! { <RunReport result /> }.into_any(),
                None => {
                    match planned.clone() {
                        Err(message) => {
                            view! {
                                <p class="error-text" role="alert">
                                    {message}
                                </p>
                            }
                                .into_any()
                        }
                        Ok(list) if list.is_empty() => {
                            view! {
                                <p>
                                    "This policy deletes no tags now, so there is nothing to \
                                        run."
                                </p>
                            }
                                .into_any()
                        }
                        Ok(list) => view! { <RunPlan list total selected draft /> }.into_any(),
                    }
                }
            }}
            {move || {
                (outcome.get().is_none() && total.get() > 0)
                    .then(|| {
                        view! {
                            <label class="field">
                                <span>
                                    "Type " <strong>{move || total.get()}</strong> " to confirm"
                                </span>
                                <input
                                    type="text"
                                    inputmode="numeric"
                                    autocomplete="off"
                                    data-testid="confirm-run"
                                    prop:value=move || typed.get()
                                    on:input=move |ev| typed.set(event_target_value(&ev))
                                />
                            </label>
                        }
                    })
            }}
            {move || {
                running
                    .get()
                    .then(|| {
                        view! {
                            <p class="muted" role="status">
                                "Asking GitLab…"
                            </p>
                        }
                    })
            }}
            <div class="modal-actions">
                {move || {
                    if outcome.get().is_some() {
                        view! { <DoneButton on_click=move |()| close() /> }.into_any()
                    } else {
                        let run = run.clone();
                        view! {
                            <button
                                type="button"
                                class="button"
                                node_ref=cancel
                                disabled=move || running.get()
                                on:click=move |_| close()
                            >
                                "Cancel"
                            </button>
                            <button
                                type="button"
                                class="button danger"
                                disabled=move || running.get() || !confirmed()
                                on:click=run
                            >
                                {move || {
                                    format!(
                                        "Delete {} now",
                                        format::plural(total.get(), "tag", "tags"),
                                    )
                                }}
                            </button>
                        }
                            .into_any()
                    }
                }}
            </div>
        </Modal>
    }
}

#[component]
fn RunPlan(
    list: Vec<PlannedRun>,
    total: Memo<u64>,
    selected: RwSignal<std::collections::BTreeSet<u64>>,
    draft: bool,
) -> impl IntoView {
    let summary = {
        let list = list.clone();
        move || {
            let chosen = selected.get();
            let runs: Vec<&PlannedRun> = list
                .iter()
                .filter(|p| chosen.contains(&p.repository_id()))
                .collect();
            let freed: u64 = runs.iter().map(|p| p.bytes_freed).sum();
            if runs.is_empty() && list.iter().all(|p| !p.runnable()) {
                "The tags are still being indexed; close this and try again in a moment."
                    .to_string()
            } else if runs.is_empty() {
                "Choose at least one repository.".to_string()
            } else {
                format!(
                    "GitLab will delete {} in {}, freeing about {}. This cannot be undone.",
                    format::plural(total.get(), "tag", "tags"),
                    format::plural(runs.len() as u64, "repository", "repositories"),
                    format::bytes(freed)
                )
            }
        }
    };
    let unprotected = {
        let list = list.clone();
        move || -> Vec<String> {
            selected.with(|chosen| {
                list.iter()
                    .filter(|p| chosen.contains(&p.repository_id()))
                    .flat_map(|p| p.beyond_schedule.clone())
                    .collect()
            })
        }
    };
    let several = list.len() > 1;
    view! {
        <p data-testid="run-summary">{summary}</p>
        {draft
            .then(|| {
                view! {
                    <p class="banner warning small">
                        "This runs the policy on screen, which is not saved. The schedule keeps \
                            running the saved policy."
                    </p>
                }
            })}
        {move || {
            let unprotected = unprotected();
            (!unprotected.is_empty())
                .then(|| {
                    view! {
                        <p class="banner warning small" data-testid="run-unprotected">
                            {format!(
                                "Your role may delete protected tags, so this run deletes {} the \
                                    scheduled cleanup skips: {}.",
                                format::plural(unprotected.len() as u64, "tag", "tags"),
                                unprotected.iter().take(20).cloned().collect::<Vec<_>>().join(", "),
                            )}
                        </p>
                    }
                })
        }}
        <table class="data-table">
            <thead>
                <tr>
                    <th scope="col">"Run in"</th>
                    <th scope="col">"Tags deleted"</th>
                    <th scope="col">"Freed"</th>
                </tr>
            </thead>
            <tbody>
                {list
                    .into_iter()
                    .map(|p| {
                        let id = p.repository_id();
                        let checked = move || selected.with(|s| s.contains(&id));
                        view! {
                            <tr>
                                <td>
                                    {if !p.runnable() {
                                        view! {
                                            <span>
                                                {p.path.clone()}
                                                <span class="small muted">
                                                    " (still indexing: not offered)"
                                                </span>
                                            </span>
                                        }
                                            .into_any()
                                    } else if several {
                                        view! {
                                            <label class="check">
                                                <input
                                                    type="checkbox"
                                                    prop:checked=checked
                                                    on:change=move |ev| {
                                                        let on = event_target_checked(&ev);
                                                        selected
                                                            .update(|s| {
                                                                if on {
                                                                    s.insert(id);
                                                                } else {
                                                                    s.remove(&id);
                                                                }
                                                            });
                                                    }
                                                />
                                                " "
                                                {p.path.clone()}
                                            </label>
                                        }
                                            .into_any()
                                    } else {
                                        view! { <span>{p.path.clone()}</span> }.into_any()
                                    }}
                                </td>
                                <td>{format::count(p.deleted())}</td>
                                <td>{format::bytes(p.bytes_freed)}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
        <p class="muted small">
            "GitLab deletes in the background, at most once an hour per repository, and decides \
                again when it runs: tags pushed meanwhile count too."
        </p>
    }
}

#[component]
fn RunReport(result: Result<Vec<RunOutcome>, AppError>) -> impl IntoView {
    match result {
        Err(error) => view! {
            <p class="error-text" role="alert">
                {error.to_string()}
            </p>
        }
        .into_any(),
        Ok(list) => view! {
            <ul class="run-report" data-testid="run-report">
                {list
                    .into_iter()
                    .map(|o| {
                        let (class, text) = match o.result {
                            RunResult::Accepted => {
                                (
                                    "success",
                                    format!(
                                        "GitLab is deleting {} in the background.",
                                        format::plural(o.tags, "tag", "tags"),
                                    ),
                                )
                            }
                            RunResult::Changed { now } => {
                                (
                                    "warning",
                                    format!(
                                        "Not run: GitLab's tags changed since the preview, which \
                                            now deletes {} (you confirmed {}). The page reloads; \
                                            review it and run again.",
                                        format::plural(now, "tag", "tags"),
                                        format::count(o.tags),
                                    ),
                                )
                            }
                            RunResult::Nothing => {
                                (
                                    "warning",
                                    "Not run: the policy deletes nothing there now.".to_string(),
                                )
                            }
                            RunResult::Refused(why) => ("danger", format!("GitLab refused: {why}")),
                            RunResult::Failed(why) => ("danger", why),
                        };
                        view! {
                            <li class=class>
                                <strong>{o.path}</strong>
                                " — "
                                {text}
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        }
        .into_any(),
    }
}
