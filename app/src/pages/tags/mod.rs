//! An image repository's tag list and tag detail pages.

mod compare;
mod detail;
mod list;
pub(crate) mod storage;
mod usage;

pub use compare::CompareTagsPage;
pub use detail::TagDetailPage;
pub use list::{TagBadges, TagListPage};

use domain::tags::RepositoryHeader;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::components::{use_hydrated, DoneButton, Modal, ModalName};
use crate::links;
use crate::server_fns::tags::DeleteRepository;

/// The repository id from `/i/:instance/repositories/:id`.
pub fn use_repository_id() -> Memo<Option<u64>> {
    let params = use_params_map();
    Memo::new(move |_| params.read().get("id").and_then(|s| s.parse().ok()))
}

/// Projects / namespaces / project / image [/ tag].
#[component]
pub fn RepositoryBreadcrumbs(
    instance: String,
    repository: RepositoryHeader,
    tag: Option<String>,
) -> impl IntoView {
    let segments: Vec<String> = repository
        .project_path
        .split('/')
        .map(String::from)
        .collect();
    let count = segments.len();
    let namespaces = segments
        .iter()
        .enumerate()
        .map(|(i, segment)| {
            let prefix = segments[..=i].join("/");
            let href = if i + 1 == count {
                links::project(&instance, &prefix)
            } else {
                links::group(&instance, &prefix)
            };
            view! {
                <li>
                    <a href=href>{segment.clone()}</a>
                </li>
            }
        })
        .collect_view();
    let image = repository.display_name().to_string();
    let image_item = match &tag {
        Some(_) => view! {
            <li>
                <a href=links::repository(&instance, repository.id)>{image}</a>
            </li>
        }
        .into_any(),
        None => view! { <li aria-current="page">{image}</li> }.into_any(),
    };
    view! {
        <nav aria-label="Breadcrumb" class="breadcrumbs">
            <ol>
                <li>
                    <a href=links::projects(&instance)>"Projects"</a>
                </li>
                {namespaces}
                {image_item}
                {tag.map(|t| view! { <li aria-current="page">{t}</li> })}
            </ol>
        </nav>
    }
}

/// "Delete repository…": disabled with the reason when the role or a rule forbids it;
/// otherwise a dialog that asks to type the repository path.
#[component]
pub fn RepositoryDeleteButton(
    instance: String,
    repository: RepositoryHeader,
    on_done: Callback<()>,
) -> impl IntoView {
    let hydrated = use_hydrated();
    let open = RwSignal::new(false);
    let typed = RwSignal::new(String::new());
    let delete = ServerAction::<DeleteRepository>::new();
    let running = delete.pending();
    // GitLab's answer, in words; `None` until it answered (and again once closed).
    let message = Memo::new(move |_| {
        delete.value().get().map(|result| match result {
            Ok(header) => Ok(match header.status {
                Some(status) => format!(
                    "GitLab accepted the deletion: {}.",
                    status.label().to_lowercase()
                ),
                None => "GitLab accepted the deletion.".to_string(),
            }),
            Err(error) => Err(error.to_string()),
        })
    });
    let refusal = repository
        .repository_delete_refusal()
        .map(|r| r.to_string());
    let path = repository.path.clone();
    let id = repository.id;
    let blocked = refusal.is_some();
    let confirm = {
        let path = path.clone();
        move |_| {
            if running.get_untracked() || typed.get_untracked().trim() != path {
                return;
            }
            delete.dispatch(DeleteRepository {
                instance: instance.clone(),
                repository_id: id,
                confirm_path: typed.get_untracked(),
            });
        }
    };
    let close = move || {
        let succeeded = matches!(message.get_untracked(), Some(Ok(_)));
        open.set(false);
        typed.set(String::new());
        delete.clear();
        if succeeded {
            on_done.run(());
        }
    };
    let expected = path.clone();
    view! {
        <div class="repo-actions">
            <button
                type="button"
                class="button danger-outline"
                title=refusal
                    .clone()
                    .unwrap_or_else(|| "Delete this repository and all its tags".into())
                disabled=move || !hydrated.get() || blocked
                on:click=move |_| open.set(true)
            >
                "Delete repository…"
            </button>
            {refusal
                .map(|r| {
                    view! {
                        <p class="muted small" data-testid="repository-delete-refusal">
                            {r}
                        </p>
                    }
                })}
        </div>
        {move || {
            open.get()
                .then(|| {
                    let field = NodeRef::<leptos::html::Input>::new();
                    Effect::new(move |_| {
                        if let Some(input) = field.get() {
                            let _ = input.focus();
                        }
                    });
                    let confirm = confirm.clone();
                    let expected = expected.clone();
                    let path = path.clone();
                    view! {
                        <Modal
                            name=ModalName::LabelledBy("delete-repo-title")
                            on_escape=move |()| {
                                if !running.get_untracked() {
                                    close()
                                }
                            }
                        >
                            <h2 id="delete-repo-title">
                                "Delete repository " <code>{path.clone()}</code> "?"
                            </h2>
                            {move || match message.get() {
                                Some(Ok(text)) => {
                                    view! {
                                        <p role="status" class="delete-summary">
                                            {text}
                                        </p>
                                    }
                                        .into_any()
                                }
                                Some(Err(text)) => {
                                    view! {
                                        <p role="alert" class="error-text">
                                            {text}
                                            " Nothing was deleted."
                                        </p>
                                    }
                                        .into_any()
                                }
                                None => {
                                    let path = path.clone();
                                    let on_input = move |ev| typed.set(event_target_value(&ev));
                                    view! {
                                        <p>
                                            "GitLab deletes every tag of this repository and \
                                                then the repository itself, in the background. \
                                                This cannot be undone."
                                        </p>
                                        <label class="field">
                                            <span>"Type " <code>{path}</code> " to confirm"</span>
                                            <input
                                                type="text"
                                                autocomplete="off"
                                                data-testid="confirm-path"
                                                node_ref=field
                                                prop:value=move || typed.get()
                                                on:input=on_input
                                            />
                                        </label>
                                    }
                                        .into_any()
                                }
                            }}
                            <div class="modal-actions">
                                {move || {
                                    if message.get().is_some() {
                                        view! { <DoneButton on_click=move |()| close() /> }
                                            .into_any()
                                    } else {
                                        let confirm = confirm.clone();
                                        let expected = expected.clone();
                                        view! {
                                            <button
                                                type="button"
                                                class="button"
                                                disabled=move || running.get()
                                                on:click=move |_| close()
                                            >
                                                "Cancel"
                                            </button>
                                            <button
                                                type="button"
                                                class="button danger"
                                                disabled=move || {
                                                    running.get() || typed.get().trim() != expected
                                                }
                                                on:click=confirm
                                            >
                                                {move || {
                                                    if running.get() {
                                                        "Deleting…"
                                                    } else {
                                                        "Delete repository"
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
                })
        }}
    }
}
