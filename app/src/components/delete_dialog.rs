use domain::format;
use domain::tags::{DeleteOutcome, DeletionPlan, TYPED_CONFIRMATION_ABOVE};
use domain::usage::UsageState;
use leptos::prelude::*;

use crate::components::{DoneButton, Modal, ModalName};
use crate::error::AppError;
use crate::server_fns::tags::{delete_tags, estimate_deletion, plan_deletion};
use crate::split::{on_demand, ChunkUnavailable, ReloadLink, CODE_DID_NOT_ARRIVE};
use domain::storage::DeletionEstimate;
use std::time::Duration;

/// Tags per server call while deleting (progress moves in these steps).
const DELETE_CHUNK: usize = 25;

/// Confirms and runs a tag deletion. Shows exactly the tags that will be deleted, with
/// warnings (GitLab will refuse protected ones; `latest`; images other tags still use),
/// asks to type the count above 20 tags, then reports per tag what GitLab did. Only the
/// listed names are ever sent.
///
/// The dialog's code is a chunk of its own (see [`crate::split`]): a page that is only read
/// never downloads it. [`preload_delete_dialog`] fetches it when a deletion comes near (the
/// pointer or the focus reaches a Delete button); opened before it has arrived, the dialog
/// says it is opening, and if the chunk cannot be fetched it says so, deletes nothing, and
/// closes like a cancelled dialog.
#[component]
pub fn DeleteTagsDialog(
    #[prop(into)] instance: String,
    repository_id: u64,
    /// The tags the user chose, in their order.
    names: Vec<String>,
    /// Called when the dialog closes, with the names GitLab deleted.
    on_close: Callback<Vec<String>>,
) -> impl IntoView {
    let dialog = delete_dialog(DialogArgs {
        instance,
        repository_id,
        names,
        on_close,
    });
    view! {
        <Suspense fallback=|| {
            view! { <DialogOpening /> }
        }>
            {on_demand(dialog, move || view! { <DialogUnavailable on_close /> }.into_any())}
        </Suspense>
    }
}

/// Starts fetching the deletion dialog's code, once, when the pointer or the focus reaches a
/// button or a checkbox (a Delete button, or a selection that leads to one) inside the
/// element whose `pointerover` and `focusin` this handles.
#[cfg_attr(not(feature = "hydrate"), allow(unused_variables))]
pub fn preload_delete_dialog<E: AsRef<leptos::ev::Event>>(event: E) {
    #[cfg(feature = "hydrate")]
    {
        use std::sync::atomic::{AtomicBool, Ordering};
        use wasm_bindgen::JsCast;
        static STARTED: AtomicBool = AtomicBool::new(false);
        let near = event
            .as_ref()
            .target()
            .and_then(|target| target.dyn_into::<web_sys::Element>().ok())
            .and_then(|element| {
                element
                    .closest("button, input[type=checkbox]")
                    .ok()
                    .flatten()
            })
            .is_some();
        if near && !STARTED.swap(true, Ordering::Relaxed) {
            leptos::task::spawn_local(async {
                // Opening the dialog tries again, and says so if it fails too.
                if __preload_delete_dialog().await.is_err() {
                    STARTED.store(false, Ordering::Relaxed);
                }
            });
        }
    }
}

/// What the split function takes: the dialog's properties.
struct DialogArgs {
    instance: String,
    repository_id: u64,
    names: Vec<String>,
    on_close: Callback<Vec<String>>,
}

/// The dialog itself, in its own chunk.
#[leptos::wasm_split::wasm_split(
    delete_dialog,
    wasm_split_path = ::leptos::wasm_split,
    fallible,
    preload(#[doc(hidden)] __preload_delete_dialog)
)]
fn delete_dialog(args: DialogArgs) -> Result<AnyView, ChunkUnavailable> {
    let DialogArgs {
        instance,
        repository_id,
        names,
        on_close,
    } = args;
    Ok(view! { <DeletionDialog instance repository_id names on_close /> }.into_any())
}

/// Shown for the moment the dialog's code takes to arrive.
#[component]
fn DialogOpening() -> impl IntoView {
    view! {
        <Modal name=ModalName::Label("Delete tags")>
            <p class="muted" role="status">
                "Opening the deletion dialog…"
            </p>
        </Modal>
    }
}

/// The dialog's code did not arrive: nothing was or will be deleted.
#[component]
fn DialogUnavailable(on_close: Callback<Vec<String>>) -> impl IntoView {
    let close = NodeRef::<leptos::html::Button>::new();
    super::focus_on_mount(close);
    view! {
        <Modal
            name=ModalName::LabelledBy("dialog-unavailable-title")
            role="alertdialog"
            describedby="dialog-unavailable-text"
            on_escape=move |()| on_close.run(Vec::new())
        >
            <h2 id="dialog-unavailable-title">"The deletion dialog could not be opened"</h2>
            <p id="dialog-unavailable-text">{CODE_DID_NOT_ARRIVE} " Nothing was deleted."</p>
            <div class="modal-actions">
                <ReloadLink class="button" />
                <button
                    type="button"
                    class="button primary"
                    node_ref=close
                    on:click=move |_| on_close.run(Vec::new())
                >
                    "Close"
                </button>
            </div>
        </Modal>
    }
}

/// The dialog, once its code is here.
#[component]
fn DeletionDialog(
    instance: String,
    repository_id: u64,
    names: Vec<String>,
    on_close: Callback<Vec<String>>,
) -> impl IntoView {
    let count = names.len();
    let plan = {
        let instance = instance.clone();
        let names = names.clone();
        LocalResource::new(move || plan_deletion(instance.clone(), repository_id, names.clone()))
    };
    let typed = RwSignal::new(String::new());
    let outcome = RwSignal::new(None::<Result<Vec<DeleteOutcome>, AppError>>);
    let running = RwSignal::new(false);
    let needs_typing = count > TYPED_CONFIRMATION_ABOVE;
    let confirmed = move || !needs_typing || typed.get().trim() == count.to_string();
    // Sent in chunks, so long deletions show progress and can be stopped between chunks.
    let done = RwSignal::new(0usize);
    let stop = RwSignal::new(false);
    let confirm = {
        let instance = instance.clone();
        let names = names.clone();
        move |_| {
            if running.get_untracked() || !confirmed() {
                return;
            }
            running.set(true);
            let instance = instance.clone();
            let names = names.clone();
            leptos::task::spawn_local(async move {
                let mut outcomes: Vec<DeleteOutcome> = Vec::with_capacity(names.len());
                let mut interrupted: Option<String> = None;
                for chunk in names.chunks(DELETE_CHUNK) {
                    if stop.get_untracked() {
                        interrupted = Some("Not attempted: you stopped the deletion.".into());
                        break;
                    }
                    match delete_tags(instance.clone(), repository_id, chunk.to_vec()).await {
                        Ok(chunk_outcomes) => {
                            done.update(|d| *d += chunk_outcomes.len());
                            outcomes.extend(chunk_outcomes);
                        }
                        Err(error) if outcomes.is_empty() => {
                            outcome.set(Some(Err(error)));
                            running.set(false);
                            return;
                        }
                        Err(error) => {
                            interrupted = Some(format!("Not attempted: {error}"));
                            break;
                        }
                    }
                }
                if let Some(message) = interrupted {
                    let attempted = outcomes.len();
                    outcomes.extend(names[attempted..].iter().map(|name| DeleteOutcome {
                        name: name.clone(),
                        deleted: false,
                        message: Some(message.clone()),
                    }));
                }
                outcome.set(Some(Ok(outcomes)));
                running.set(false);
            });
        }
    };
    let close = move || {
        let deleted = outcome
            .get_untracked()
            .and_then(Result::ok)
            .map(|o| {
                o.into_iter()
                    .filter(|o| o.deleted)
                    .map(|o| o.name)
                    .collect()
            })
            .unwrap_or_default();
        on_close.run(deleted);
    };
    let on_escape = move |()| {
        if !running.get_untracked() {
            close();
        }
    };
    let cancel = NodeRef::<leptos::html::Button>::new();
    super::focus_on_mount(cancel);
    let estimate_instance = instance.clone();
    let title = if count == 1 {
        format!("Delete tag {}?", names[0])
    } else {
        format!("Delete {} tags?", format::count(count as u64))
    };
    view! {
        <Modal name=ModalName::LabelledBy("delete-title") on_escape>
            <h2 id="delete-title">{title}</h2>
            {move || match outcome.get() {
                Some(result) => view! { <DeleteReport result /> }.into_any(),
                None => {
                    let instance = estimate_instance.clone();
                    view! {
                        <Suspense fallback=|| {
                            view! {
                                <p class="muted" role="status">
                                    "Checking the tags…"
                                </p>
                            }
                        }>
                            {move || {
                                let instance = instance.clone();
                                Suspend::new(async move {
                                    match plan.await {
                                        Err(error) => {
                                            view! {
                                                <p class="error-text" role="alert">
                                                    {error.to_string()}
                                                </p>
                                            }
                                                .into_any()
                                        }
                                        Ok(plan) => {
                                            view! { <PlanView plan instance repository_id /> }
                                                .into_any()
                                        }
                                    }
                                })
                            }}
                        </Suspense>
                        {needs_typing
                            .then(|| {
                                view! {
                                    <label class="field">
                                        <span>"Type " <strong>{count}</strong> " to confirm"</span>
                                        <input
                                            type="text"
                                            inputmode="numeric"
                                            autocomplete="off"
                                            data-testid="confirm-count"
                                            prop:value=move || typed.get()
                                            on:input=move |ev| typed.set(event_target_value(&ev))
                                        />
                                    </label>
                                }
                            })}
                    }
                        .into_any()
                }
            }}
            {move || {
                running
                    .get()
                    .then(|| {
                        view! {
                            <div class="delete-progress" role="status">
                                <label>
                                    {move || {
                                        format!(
                                            "Deleted {} of {}…",
                                            format::count(done.get() as u64),
                                            format::count(count as u64),
                                        )
                                    }}
                                    <progress
                                        aria-label="Tags deleted"
                                        max=count
                                        value=move || done.get()
                                    ></progress>
                                </label>
                            </div>
                        }
                    })
            }}
            <div class="modal-actions">
                {move || {
                    if outcome.get().is_some() {
                        view! { <DoneButton on_click=move |()| close() /> }.into_any()
                    } else {
                        let confirm = confirm.clone();
                        view! {
                            <button
                                type="button"
                                class="button"
                                node_ref=cancel
                                on:click=move |_| {
                                    if running.get_untracked() { stop.set(true) } else { close() }
                                }
                                disabled=move || stop.get()
                            >
                                {move || if running.get() { "Stop" } else { "Cancel" }}
                            </button>
                            <button
                                type="button"
                                class="button danger"
                                disabled=move || running.get() || !confirmed()
                                on:click=confirm
                            >
                                {move || {
                                    if running.get() {
                                        "Deleting…".to_string()
                                    } else if count == 1 {
                                        "Delete tag".to_string()
                                    } else {
                                        format!("Delete {} tags", format::count(count as u64))
                                    }
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

/// What the deletion frees, layer by layer, updated while the layers are still being read.
#[component]
fn StorageEstimate(instance: String, repository_id: u64, names: Vec<String>) -> impl IntoView {
    let version = RwSignal::new(0u32);
    let estimate = LocalResource::new(move || {
        version.track();
        estimate_deletion(instance.clone(), repository_id, names.clone())
    });
    let poller = super::Poller::new();
    Effect::new(move |_| {
        if let Some(Ok(e)) = estimate.get() {
            if !e.progress.complete && e.progress.error.is_none() {
                poller.again(Duration::from_millis(1500), move || {
                    version.update(|v| *v += 1)
                });
            }
        }
    });
    view! {
        <div class="storage-estimate" data-testid="storage-estimate">
            {move || match estimate.get() {
                None => {
                    view! { <p class="muted">"Reading layers to work out what this frees…"</p> }
                        .into_any()
                }
                Some(Err(error)) => {
                    view! {
                        <p class="muted">"What this frees is not known: " {error.to_string()}</p>
                    }
                        .into_any()
                }
                Some(Ok(estimate)) => view! { <EstimateView estimate /> }.into_any(),
            }}
        </div>
    }
}

#[component]
fn EstimateView(estimate: DeletionEstimate) -> impl IntoView {
    let f = estimate.freed.clone();
    let p = estimate.progress.clone();
    let headline = if f.images == 0 && f.kept_by_other_tags > 0 {
        view! {
            <p data-testid="frees">
                "Frees " <strong>"nothing"</strong> ": other tags keep every one of these images."
            </p>
        }
        .into_any()
    } else {
        view! {
            <p data-testid="frees">
                "Frees about " <strong data-testid="freed-bytes">{format::bytes(f.bytes)}</strong>
                ": the layers and configs only these images use."
                {(f.naive_bytes != f.bytes)
                    .then(|| {
                        view! {
                            " "
                            <span class="muted" data-testid="naive-bytes">
                                "Adding up the tags’ sizes would say "
                                {format::bytes(f.naive_bytes)}
                                "."
                            </span>
                        }
                    })}
            </p>
        }
        .into_any()
    };
    let partial = (f.partial() || !p.complete).then(|| {
        let reading = p.error.is_none() && !p.complete;
        view! {
            <p class="muted small" data-testid="estimate-partial">
                {if reading { "Still reading layers: " } else { "Partial: " }}
                {format!(
                    "{} of {} images read",
                    format::count(p.images_known),
                    format::count(p.images),
                )}
                {(p.unreadable > 0)
                    .then(|| format!(", {} unreadable", format::count(p.unreadable)))}
                "; the figure leaves out what is not read yet."
                {reading
                    .then(|| {
                        view! {
                            " "
                            <progress
                                aria-label="Layers read"
                                max=p.images.max(1)
                                value=p.images_known
                            ></progress>
                        }
                    })}
            </p>
        }
    });
    view! {
        {headline}
        {(f.elsewhere_bytes > 0)
            .then(|| {
                view! {
                    <p class="muted small" data-testid="elsewhere-bytes">
                        {format!(
                            "{} more stays: other repositories of the project use those layers.",
                            format::bytes(f.elsewhere_bytes),
                        )}
                    </p>
                }
            })}
        {partial}
        {p.error.clone().map(|e| view! { <p class="muted small">{e}</p> })}
        <p class="muted small">
            "GitLab removes the tags at once; the untagged images and their layers go at its next \
                garbage collection. Layers that other repositories in the namespace use stay \
                stored."
        </p>
    }
}

#[component]
fn PlanView(plan: DeletionPlan, instance: String, repository_id: u64) -> impl IntoView {
    // What GitLab is expected to delete: refused tags free nothing.
    let deletable: Vec<String> = plan
        .tags
        .iter()
        .filter(|t| t.refusal.is_none())
        .map(|t| t.name.clone())
        .collect();
    let refused = plan.tags.iter().filter(|t| t.refusal.is_some()).count();
    let shared = plan
        .tags
        .iter()
        .filter(|t| !t.shares_digest_with.is_empty())
        .count();
    let now = plan.now;
    // Tag name → why GitLab says it is in use.
    let in_use: std::collections::HashMap<String, String> = plan
        .in_use()
        .into_iter()
        .map(|(name, usage)| {
            let reasons: Vec<String> = usage.reasons.iter().map(|r| r.sentence(now)).collect();
            (name.to_string(), reasons.join("; "))
        })
        .collect();
    let usage_unknown = match &plan.usage {
        UsageState::Reading => Some(
            "GitLab took too long to say which of these tags are in use: check its \
             environments before you confirm."
                .to_string(),
        ),
        UsageState::Failed { message } => Some(format!(
            "Could not check which of these tags are in use: {message}"
        )),
        UsageState::Known { usage } if usage.coverage.nothing_read() => Some(
            "Your role can’t read this project’s deployments and pipelines: nothing says \
             whether these tags are in use."
                .to_string(),
        ),
        _ => None,
    };
    view! {
        <p>"These tags will be deleted from GitLab. This cannot be undone."</p>
        {(!deletable.is_empty())
            .then(|| view! { <StorageEstimate instance repository_id names=deletable /> })}
        <ul class="warnings">
            {(!in_use.is_empty())
                .then(|| {
                    view! {
                        <li class="warning" data-testid="in-use-warning">
                            <strong>
                                {format::plural(in_use.len() as u64, "tag is", "tags are")}
                                " in use, GitLab says"
                            </strong>
                            ": deleting breaks what pulls them (each is marked below)."
                        </li>
                    }
                })} {usage_unknown.map(|text| view! { <li class="warning">{text}</li> })}
            {plan
                .includes_latest
                .then(|| {
                    view! {
                        <li class="warning">
                            "“latest” is among them: anything pulling the default tag will break."
                        </li>
                    }
                })}
            {(refused > 0)
                .then(|| {
                    view! {
                        <li class="warning">
                            {format::plural(refused as u64, "tag is", "tags are")}
                            " protected or beyond your role: GitLab will refuse to delete them."
                        </li>
                    }
                })}
            {(shared > 0)
                .then(|| {
                    view! {
                        <li class="warning">
                            {format::plural(shared as u64, "tag points", "tags point")}
                            " at an image that other tags keep using; the image stays."
                        </li>
                    }
                })}
            {(!plan.unknown.is_empty())
                .then(|| {
                    view! {
                        <li class="warning">
                            {format::plural(plan.unknown.len() as u64, "tag was", "tags were")}
                            " not found in the current list (deleted meanwhile?)."
                        </li>
                    }
                })}
        </ul>
        <ul class="delete-list" aria-label="Tags to delete">
            {plan
                .tags
                .into_iter()
                .map(|t| {
                    let used = in_use.get(&t.name).cloned();
                    view! {
                        <li data-tag=t.name.clone()>
                            <code>{t.name.clone()}</code>
                            {used
                                .map(|why| {
                                    view! {
                                        <span class="badge in-use">"in use"</span>
                                        <span class="small">" " {why}</span>
                                    }
                                })}
                            {t
                                .refusal
                                .map(|r| {
                                    let r = r.message;
                                    view! {
                                        <span class="badge danger" title=r.clone()>
                                            "will be refused"
                                        </span>
                                        <span class="muted small">{r}</span>
                                    }
                                })}
                            {(!t.shares_digest_with.is_empty())
                                .then(|| {
                                    let more = (t.shares_digest_more > 0)
                                        .then(|| format!(" and {} more", t.shares_digest_more));
                                    let shared = t.shares_digest_with.join(", ");
                                    view! {
                                        <span class="muted small">
                                            " same image as " {shared} {more}
                                        </span>
                                    }
                                })}
                        </li>
                    }
                })
                .collect_view()}
            {plan
                .unknown
                .into_iter()
                .map(|name| {
                    let label = name.clone();
                    view! {
                        <li data-tag=name>
                            <code>{label}</code>
                            <span class="badge">"not found"</span>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

#[component]
fn DeleteReport(result: Result<Vec<DeleteOutcome>, AppError>) -> impl IntoView {
    match result {
        Err(error) => view! {
            <p class="error-text" role="alert">
                {error.to_string()}
                " Nothing was deleted."
            </p>
        }
        .into_any(),
        Ok(outcomes) => {
            let deleted = outcomes.iter().filter(|o| o.deleted).count() as u64;
            let failed = outcomes.len() as u64 - deleted;
            view! {
                <p role="status" class="delete-summary">
                    {format::plural(deleted, "tag deleted", "tags deleted")}
                    {(failed > 0).then(|| format!(", {} not deleted", format::count(failed)))}
                    "."
                </p>
                <ul class="delete-list" aria-label="Result per tag">
                    {outcomes
                        .into_iter()
                        .map(|o| {
                            view! {
                                <li data-tag=o.name.clone() data-deleted=o.deleted.to_string()>
                                    <code>{o.name.clone()}</code>
                                    {if o.deleted {
                                        view! { <span class="badge success">"deleted"</span> }
                                            .into_any()
                                    } else {
                                        let message = o.message.unwrap_or_default();
                                        view! {
                                            <span class="badge danger">"not deleted"</span>
                                            <span class="small">{message}</span>
                                        }
                                            .into_any()
                                    }}
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            }
            .into_any()
        }
    }
}
