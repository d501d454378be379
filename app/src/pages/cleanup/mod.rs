//! A project's cleanup policy: the editor, the live preview of what GitLab would delete
//! (evaluated in the browser by the same engine as on the server), the difference to the
//! saved policy, and a regex tester. The draft lives in the URL.

use domain::cleanup::view::{PolicyPageView, PreviewShow};
use domain::cleanup::{
    keep_suggestion, preview, CleanupOverview, CleanupPolicy, PolicyField, Reason,
    RepositoryPreview,
};
use domain::format;
use domain::storage::RepositoryFreed;
use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;
use leptos_router::NavigateOptions;

use crate::components::{
    use_hydrated, CadenceOptions, KeepNOptions, Loaded, Notices, OlderThanOptions,
};
use crate::links;
use crate::pages::instance::use_instance;
use crate::pages::use_query_pairs;
use crate::server_fns::cleanup::{load_cleanup_overview, load_cleanup_storage, SaveCleanupPolicy};

mod rules;
mod run;
use rules::ProtectionRulesPanel;
use run::RunNowDialog;

/// Rows listed per repository in the preview (the counts always cover every tag).
const ROWS_SHOWN: usize = 100;

/// `/i/:instance/cleanup/*path`.
#[component]
pub fn CleanupPolicyPage() -> impl IntoView {
    let instance = use_instance();
    let project_path = crate::pages::use_path_param();
    let data = Resource::new(
        move || (instance.get(), project_path.get()),
        |(instance, path)| load_cleanup_overview(instance, path),
    );
    view! {
        <Title text=move || {
            format!("Cleanup policy · {}", project_path.try_get().unwrap_or_default())
        } />
        <Loaded resource=data let:overview>
            <Editor
                instance=instance.get_untracked()
                overview
                reload=Callback::new(move |_| data.refetch())
            />
        </Loaded>
    }
}

#[component]
fn Editor(instance: String, overview: CleanupOverview, reload: Callback<()>) -> impl IntoView {
    let pairs = use_query_pairs();
    let saved = overview.saved.policy.clone();
    let parsed = {
        let saved = saved.clone();
        Memo::new(move |_| PolicyPageView::from_pairs(&pairs.get(), &saved))
    };
    let draft = Memo::new(move |_| parsed.get().0.draft);
    // `show=deleted`: the preview lists only the tags that would go.
    let show = Memo::new(move |_| parsed.get().0.show);
    // A signal: protection rule changes replace its rules, and the preview follows.
    let overview = RwSignal::new(overview);
    let saved_preview = Memo::new(move |_| overview.with(|o| preview(o, &o.saved.policy).ok()));
    let results = Memo::new(move |_| overview.with(|o| preview(o, &draft.get())));
    let project = overview.with_untracked(|o| o.project.clone());
    let base = links::cleanup(&instance, &project.full_path);
    let refusal = overview.with_untracked(|o| o.edit_refusal.clone());
    let next_run = overview.with_untracked(|o| o.saved.next_run_at.clone());
    let notes = overview.with_untracked(|o| o.saved.notes.clone());
    let mode = overview.with_untracked(|o| o.mode);
    let changed = {
        let saved = saved.clone();
        Memo::new(move |_| draft.get() != saved)
    };
    // What the keep regex field shows when something other than typing changes it (the
    // in-use suggestion); typing only rewrites the URL.
    let keep_field =
        RwSignal::new(draft.with_untracked(|d| d.name_regex_keep.clone().unwrap_or_default()));
    view! {
        <nav aria-label="Breadcrumb" class="breadcrumbs">
            <ol>
                <li>
                    <a href=links::projects(&instance)>"Projects"</a>
                </li>
                <li>
                    <a href=links::project(
                        &instance,
                        &project.full_path,
                    )>{project.full_path.clone()}</a>
                </li>
                <li aria-current="page">"Cleanup policy"</li>
            </ol>
        </nav>
        <div class="page-head">
            <div>
                <h1>"Cleanup policy"</h1>
                <p class="muted">
                    {project.full_path.clone()} " · Your role: "
                    <strong>{project.access.label()}</strong> " · "
                    {match mode {
                        domain::cleanup::Mode::MetadataDatabase => {
                            "GitLab uses its metadata database: publish times, 1,000 tags per page"
                        }
                        domain::cleanup::Mode::Legacy => {
                            "GitLab without the metadata database: image build times, all tags at \
                                once"
                        }
                    }}
                </p>
            </div>
        </div>
        {move || view! { <Notices notices=parsed.get().1 /> }}
        {(!notes.is_empty()).then(|| view! { <Notices notices=notes.clone() /> })}
        {refusal
            .clone()
            .map(|r| {
                view! {
                    <p class="banner warning" data-testid="read-only">
                        "Read only: "
                        {r}
                    </p>
                }
            })}
        <div class="policy-layout">
            {view! {
                <PolicyForm
                    base=base.clone()
                    draft
                    read_only=refusal.is_some()
                    results
                    show
                    keep_field
                />
            }
                .into_any()} <section class="panel preview" aria-labelledby="preview-title">
                <h2 id="preview-title">"What GitLab would delete"</h2>
                <DraftWarnings draft />
                {view! {
                    <InUseSuggestion base=base.clone() draft show results overview keep_field />
                }
                    .into_any()}
                {
                    let base = base.clone();
                    move || {
                        let toggled = PolicyPageView {
                            draft: draft.get(),
                            show: show.get().toggled(),
                        };
                        let href = format!("{base}{}", toggled.to_query());
                        let label = match toggled.show {
                            PreviewShow::All => "Show every tag",
                            PreviewShow::Deleted => "Show only tags that would be deleted",
                        };
                        view! {
                            <p class="small">
                                <a href=href data-testid="toggle-deleted">
                                    {label}
                                </a>
                            </p>
                        }
                    }
                }
                {view! {
                    <CleanupStorageLine
                        instance=instance.clone()
                        project_path=project.full_path.clone()
                        draft
                        results
                        overview
                    />
                }
                    .into_any()}
                {move || match results.get() {
                    Err(_) => {
                        view! { <p class="muted">"Fix the policy to see its preview."</p> }
                            .into_any()
                    }
                    Ok(repos) => {
                        view! { <PreviewList repos saved=saved_preview.get() show=show.get() /> }
                            .into_any()
                    }
                }}
            </section>
        </div>
        {view! {
            <SaveBar
                instance=instance.clone()
                project_path=project.full_path.clone()
                draft
                changed
                refusal=refusal.clone()
                next_run=next_run.clone()
                base=base.clone()
                overview
                reload
            />
        }
            .into_any()}
        {view! { <RegexTester draft /> }.into_any()}
        {view! {
            <ProtectionRulesPanel
                instance=instance.clone()
                project_path=project.full_path.clone()
                overview
                can_edit=refusal.is_none()
            />
        }
            .into_any()}
    }
}

/// The fields, as a GET form: without JavaScript "Preview" renders the draft on the server;
/// hydrated, every change rewrites the URL (replacing history) and the preview follows.
#[component]
fn PolicyForm(
    base: String,
    draft: Memo<CleanupPolicy>,
    read_only: bool,
    results: Memo<Result<Vec<RepositoryPreview>, domain::cleanup::PolicyError>>,
    show: Memo<PreviewShow>,
    keep_field: RwSignal<String>,
) -> impl IntoView {
    let navigate = use_navigate();
    let action = base.clone();
    let on_change = move |ev: leptos::ev::Event| {
        let Some(query) = crate::components::form_query(&ev) else {
            return;
        };
        let mut pairs = domain::query::parse(&query);
        if !pairs.iter().any(|(k, _)| k == "enabled") {
            pairs.push(("enabled".into(), "0".into()));
        }
        // The form carries `show` in a hidden field: the state reads back whole.
        let (state, _) = PolicyPageView::from_pairs(&pairs, &draft.get_untracked());
        navigate(
            &format!("{action}{}", state.to_query()),
            NavigateOptions {
                replace: true,
                scroll: false,
                ..Default::default()
            },
        );
    };
    let on_submit = {
        let on_change = on_change.clone();
        move |ev: leptos::ev::SubmitEvent| {
            if cfg!(feature = "hydrate") {
                ev.prevent_default();
                on_change(ev.into());
            }
        }
    };
    let error_for = move |field: PolicyField| {
        move || match results.get() {
            Err(e) if e.field == field => Some(view! {
                <p class="error-text" role="alert">
                    {e.message}
                </p>
            }),
            _ => None,
        }
    };
    let d = draft.get_untracked();
    view! {
        <form
            method="get"
            action=base
            class="panel policy-form"
            aria-label="Cleanup policy"
            on:input=on_change.clone()
            on:change=on_change
            on:submit=on_submit
        >
            <fieldset disabled=read_only>
                <label class="check">
                    <input type="checkbox" name="enabled" value="1" checked=d.enabled />
                    " Enabled"
                </label>
                <label class="field">
                    <span>"Run cleanup"</span>
                    <select name="cadence">
                        <CadenceOptions selected=d.cadence />
                    </select>
                </label>
                <label class="field">
                    <span>"Keep the most recent"</span>
                    <select name="keep_n">
                        <KeepNOptions selected=d.keep_n />
                    </select>
                    {error_for(PolicyField::KeepN)}
                </label>
                <label class="field">
                    <span>"Remove tags older than"</span>
                    <select name="older_than">
                        <OlderThanOptions selected=d.older_than />
                    </select>
                </label>
                <label class="field">
                    <span>"Remove tags matching (regex)"</span>
                    <input
                        type="text"
                        name="name_regex"
                        value=d.name_regex.clone().unwrap_or_default()
                        maxlength="255"
                        autocomplete="off"
                        spellcheck="false"
                    />
                    {error_for(PolicyField::NameRegex)}
                </label>
                <label class="field">
                    <span>"Keep tags matching (regex; wins over remove)"</span>
                    <input
                        type="text"
                        name="name_regex_keep"
                        value=d.name_regex_keep.clone().unwrap_or_default()
                        prop:value=move || keep_field.get()
                        maxlength="255"
                        autocomplete="off"
                        spellcheck="false"
                    />
                    {error_for(PolicyField::NameRegexKeep)}
                </label>
            </fieldset>
            {move || {
                (show.get() == PreviewShow::Deleted)
                    .then(|| view! { <input type="hidden" name="show" value="deleted" /> })
            }}
            <noscript>
                <button type="submit" class="button">
                    "Preview"
                </button>
            </noscript>
        </form>
    }
}

#[component]
fn DraftWarnings(draft: Memo<CleanupPolicy>) -> impl IntoView {
    move || {
        let warnings = draft.get().warnings();
        (!warnings.is_empty()).then(|| {
            view! {
                <ul class="warnings">
                    {warnings
                        .into_iter()
                        .map(|w| {
                            view! {
                                <li class="warning" data-code=w.code()>
                                    {w.to_string()}
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            }
        })
    }
}

/// When the draft deletes tags GitLab says are in use: a keep regex that keeps them, as a
/// link to the same page with it (the preview shows its effect before anything is saved).
#[component]
fn InUseSuggestion(
    base: String,
    draft: Memo<CleanupPolicy>,
    show: Memo<PreviewShow>,
    results: Memo<Result<Vec<RepositoryPreview>, domain::cleanup::PolicyError>>,
    overview: RwSignal<CleanupOverview>,
    keep_field: RwSignal<String>,
) -> impl IntoView {
    move || {
        let draft = draft.get();
        let suggestion = results.with(|r| {
            let previews = r.as_ref().ok()?;
            overview.with(|o| keep_suggestion(o, &draft, previews))
        })?;
        let count = format::plural(suggestion.tags, "tag", "tags");
        Some(match suggestion.name_regex_keep {
            Some(keep) => {
                let with_keep = PolicyPageView {
                    draft: CleanupPolicy {
                        name_regex_keep: Some(keep.clone()),
                        ..draft
                    },
                    show: show.get(),
                };
                let href = format!("{base}{}", with_keep.to_query());
                view! {
                    <div class="banner warning" data-testid="in-use-suggestion">
                        <p>
                            <strong>{format!("This draft deletes {count} in use.")}</strong>
                            " Keep them with this keep regex (the preview shows it before \
                            anything is saved):"
                        </p>
                        <p>
                            <code>{keep.clone()}</code>
                        </p>
                        <a class="button" href=href on:click=move |_| keep_field.set(keep.clone())>
                            "Use this keep regex"
                        </a>
                    </div>
                }
                .into_any()
            }
            None => view! {
                <div class="banner warning" data-testid="in-use-suggestion">
                    <strong>{format!("This draft deletes {count} in use.")}</strong>
                    " Their names do not fit in a keep regex (GitLab allows 255 characters): \
                    narrow the delete regex, or protect them with a tag protection rule."
                </div>
            }
            .into_any(),
        })
    }
}

/// What the draft (and the saved policy) would really free, layer by layer, from the
/// server: each layer once, and not at all while another repository of the project keeps it.
#[component]
fn CleanupStorageLine(
    instance: String,
    project_path: String,
    draft: Memo<CleanupPolicy>,
    results: Memo<Result<Vec<RepositoryPreview>, domain::cleanup::PolicyError>>,
    overview: RwSignal<CleanupOverview>,
) -> impl IntoView {
    let version = RwSignal::new(0u32);
    // Typing settles before the server is asked (each answer reads every repository's tags).
    let settled = RwSignal::new(draft.get_untracked());
    let debounce = crate::components::Poller::new();
    Effect::new(move |_| {
        let now = draft.get();
        if now != settled.get_untracked() {
            debounce.again(std::time::Duration::from_millis(600), move || {
                settled.set(now.clone())
            });
        }
    });
    let data = Resource::new(
        move || (settled.get(), results.with(Result::is_ok), version.get()),
        move |(draft, valid, _)| {
            let (instance, project_path) = (instance.clone(), project_path.clone());
            async move {
                if valid {
                    Some(load_cleanup_storage(instance, project_path, draft).await)
                } else {
                    None
                }
            }
        },
    );
    let poller = crate::components::Poller::new();
    Effect::new(move |_| {
        if let Some(Some(Ok(s))) = data.get() {
            let reading = s
                .repositories
                .iter()
                .any(|r| !r.on_request && !r.progress.complete && r.progress.error.is_none());
            if reading {
                poller.again(std::time::Duration::from_millis(2000), move || {
                    version.update(|v| *v += 1)
                });
            }
        }
    });
    view! {
        <div class="storage-estimate" data-testid="cleanup-storage">
            <Transition fallback=|| {
                view! { <p class="muted small">"Reading layers to work out what this frees…"</p> }
            }>
                {move || Suspend::new(async move {
                    match data.await {
                        None => ().into_any(),
                        Some(Err(error)) => {
                            view! {
                                <p class="muted small">
                                    "What this frees is not known: " {error.to_string()}
                                </p>
                            }
                                .into_any()
                        }
                        Some(Ok(storage)) => {
                            let paths: std::collections::HashMap<u64, String> = overview
                                .with_untracked(|o| {
                                    o.repositories.iter().map(|r| (r.id, r.path.clone())).collect()
                                });
                            let on_request: Vec<String> = storage
                                .repositories
                                .iter()
                                .filter(|r| r.on_request)
                                .filter_map(|r| paths.get(&r.id).cloned())
                                .collect();
                            let partial = !storage.complete;
                            view! {
                                <p data-testid="cleanup-frees">
                                    "Frees about "
                                    <strong data-testid="cleanup-freed-bytes">
                                        {format::bytes(storage.draft_bytes)}
                                    </strong>
                                    " at GitLab’s next garbage collection, each layer once across \
                                        the project"
                                    {(storage.saved_bytes != storage.draft_bytes)
                                        .then(|| {
                                            format!(
                                                " (the saved policy: {})",
                                                format::bytes(storage.saved_bytes),
                                            )
                                        })} "."
                                </p>
                                <ul class="small muted storage-per-repo">
                                    {storage
                                        .repositories
                                        .iter()
                                        .filter(|r| r.draft.tags > 0 || r.saved.tags > 0)
                                        .map(|r| repository_frees(r, &paths))
                                        .collect_view()}
                                </ul>
                                {partial
                                    .then(|| {
                                        view! {
                                            <p
                                                class="muted small"
                                                data-testid="cleanup-storage-partial"
                                            >
                                                {if on_request.is_empty() {
                                                    "Still reading layers: the figure covers what \
                                                        is read so far."
                                                        .to_string()
                                                } else {
                                                    format!(
                                                        "Partial: the layers of {} are read only \
                                                            when asked (on the repository page); \
                                                            the figure leaves them out.",
                                                        on_request.join(", "),
                                                    )
                                                }}
                                            </p>
                                        }
                                    })}
                            }
                                .into_any()
                        }
                    }
                })}
            </Transition>
        </div>
    }
}

/// One repository's line under the project's figure: what the draft frees there, and what
/// the saved policy frees when that differs.
fn repository_frees(
    r: &RepositoryFreed,
    paths: &std::collections::HashMap<u64, String>,
) -> impl IntoView {
    view! {
        <li data-repository=paths
            .get(&r.id)
            .cloned()
            .unwrap_or_default()>
            {paths.get(&r.id).cloned().unwrap_or_default()} ": "
            {if r.on_request {
                "layers not read".to_string()
            } else {
                format!("about {}", format::bytes(r.draft.bytes))
            }}
            {(!r.on_request && r.saved.bytes != r.draft.bytes)
                .then(|| { format!(" (saved policy: {})", format::bytes(r.saved.bytes)) })}
        </li>
    }
}

#[component]
fn PreviewList(
    repos: Vec<RepositoryPreview>,
    saved: Option<Vec<RepositoryPreview>>,
    show: PreviewShow,
) -> impl IntoView {
    let deleted: u64 = repos.iter().map(|r| r.summary.deleted).sum();
    let freed: u64 = repos.iter().map(|r| r.summary.bytes_freed).sum();
    view! {
        <p class="summary" data-testid="preview-total">
            {format!(
                "{} deleted in {}; the images they leave untagged add up to {}",
                format::plural(deleted, "tag", "tags"),
                format::plural(repos.len() as u64, "repository", "repositories"),
                format::bytes(freed),
            )}
        </p>
        {repos
            .into_iter()
            .map(|repo| {
                let before = saved
                    .as_ref()
                    .and_then(|s| s.iter().find(|r| r.id == repo.id))
                    .cloned();
                view! { <RepositoryRow repo before show /> }
            })
            .collect_view()}
    }
}

#[component]
fn RepositoryRow(
    repo: RepositoryPreview,
    before: Option<RepositoryPreview>,
    show: PreviewShow,
) -> impl IntoView {
    let (newly_deleted, newly_kept) = match &before {
        Some(b) => {
            let was: std::collections::HashMap<&str, bool> = b
                .decisions
                .iter()
                .map(|d| (d.name.as_str(), d.reason.deletes()))
                .collect();
            let mut del = Vec::new();
            let mut kept = Vec::new();
            for d in &repo.decisions {
                match (was.get(d.name.as_str()), d.reason.deletes()) {
                    (Some(false), true) => del.push(d.name.clone()),
                    (Some(true), false) => kept.push(d.name.clone()),
                    _ => {}
                }
            }
            (del, kept)
        }
        None => (Vec::new(), Vec::new()),
    };
    let mut rows: Vec<_> = repo
        .decisions
        .iter()
        .filter(|d| show.lists(d))
        .cloned()
        .collect();
    rows.sort_by_key(|d| !d.reason.deletes());
    let hidden = rows.len().saturating_sub(ROWS_SHOWN);
    rows.truncate(ROWS_SHOWN);
    // An empty table says nothing: say what its emptiness means.
    let empty = rows.is_empty().then_some(match show {
        PreviewShow::Deleted => "No tag of this repository would be deleted.",
        PreviewShow::All => "This repository has no tags.",
    });
    let s = repo.summary.clone();
    let decision_rows = rows
        .into_iter()
        .map(|d| {
            view! {
                <tr
                    data-tag=d.name.clone()
                    data-decision=if d.reason.deletes() { "delete" } else { "keep" }
                >
                    <td>
                        <code>{d.name.clone()}</code>
                    </td>
                    <td>
                        {if d.reason.deletes() {
                            view! { <span class="badge danger">"delete"</span> }.into_any()
                        } else {
                            view! { <span class="badge">"keep"</span> }.into_any()
                        }}
                    </td>
                    <td class="small">
                        {d.reason.explain()} {d.tie.then_some(" (tie at the keep limit)")}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <details
            class="preview-repo"
            data-repository=repo.path.clone()
            open=show == PreviewShow::Deleted
        >
            <summary>
                <strong>{repo.path.clone()}</strong>
                <span class="counts" data-testid="repo-counts">
                    {format!(
                        " {} deleted · {} kept · untagged images add up to {}",
                        format::count(s.deleted),
                        format::count(s.kept),
                        format::bytes(s.bytes_freed),
                    )}
                </span>
                {(!newly_deleted.is_empty())
                    .then(|| {
                        view! {
                            <span class="badge danger">
                                {format!("+{} newly deleted", newly_deleted.len())}
                            </span>
                        }
                    })}
                {(!newly_kept.is_empty())
                    .then(|| {
                        view! {
                            <span class="badge success">
                                {format!("{} newly kept", newly_kept.len())}
                            </span>
                        }
                    })}
            </summary>
            {(!repo.warnings.is_empty())
                .then(|| {
                    view! {
                        <ul class="warnings">
                            {repo
                                .warnings
                                .iter()
                                .map(|w| {
                                    view! {
                                        <li class="warning" data-code=w.kind.code()>
                                            {w.message.clone()}
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    }
                })}
            {(!newly_deleted.is_empty())
                .then(|| {
                    view! {
                        <p class="small">
                            <strong>"Newly deleted compared with the saved policy: "</strong>
                            {newly_deleted.iter().take(50).cloned().collect::<Vec<_>>().join(", ")}
                        </p>
                    }
                })}
            {(!newly_kept.is_empty())
                .then(|| {
                    view! {
                        <p class="small">
                            <strong>"Newly kept: "</strong>
                            {newly_kept.iter().take(50).cloned().collect::<Vec<_>>().join(", ")}
                        </p>
                    }
                })}
            {match empty {
                Some(text) => {
                    Either::Left(
                        view! {
                            <p class="muted" data-testid="no-rows">
                                {text}
                            </p>
                        },
                    )
                }
                None => {
                    Either::Right(
                        view! {
                            <table class="data-table decisions">
                                <thead>
                                    <tr>
                                        <th scope="col">"Tag"</th>
                                        <th scope="col">"Decision"</th>
                                        <th scope="col">"Why"</th>
                                    </tr>
                                </thead>
                                <tbody>{decision_rows}</tbody>
                            </table>
                        },
                    )
                }
            }}
            {(hidden > 0)
                .then(|| {
                    view! {
                        <p class="muted small">
                            {format!("and {} more tags", format::count(hidden as u64))}
                        </p>
                    }
                })}
        </details>
    }
}

#[component]
fn SaveBar(
    instance: String,
    project_path: String,
    draft: Memo<CleanupPolicy>,
    changed: Memo<bool>,
    refusal: Option<String>,
    next_run: Option<String>,
    base: String,
    overview: RwSignal<CleanupOverview>,
    reload: Callback<()>,
) -> impl IntoView {
    let hydrated = use_hydrated();
    let running = RwSignal::new(None::<CleanupPolicy>);
    // Focus goes back to the button that opened the dialog.
    let run_button = NodeRef::<leptos::html::Button>::new();
    let run_dialog = {
        let instance = instance.clone();
        let project_path = project_path.clone();
        move || {
            running.get().map(|policy| {
                view! {
                    <RunNowDialog
                        instance=instance.clone()
                        project_path=project_path.clone()
                        overview
                        draft=changed.get_untracked()
                        policy
                        on_close=Callback::new(move |attempted: bool| {
                            running.set(None);
                            if let Some(button) = run_button.get_untracked() {
                                let _ = button.focus();
                            }
                            if attempted {
                                set_timeout(
                                    move || {
                                        reload.try_run(());
                                    },
                                    std::time::Duration::from_millis(1500),
                                );
                            }
                        })
                    />
                }
            })
        }
    };
    let save = ServerAction::<SaveCleanupPolicy>::new();
    let saving = save.pending();
    let status = Memo::new(move |_| {
        save.value().get().map(|result| match result {
            Ok(saved) => Ok(format!(
                "Saved. GitLab runs it next {}.",
                saved
                    .next_run_at
                    .as_deref()
                    .map(format::exact_time)
                    .unwrap_or_else(|| "when it is enabled".into())
            )),
            Err(error) => Err(error.to_string()),
        })
    });
    // Back to the saved state: the page reloads the policy from GitLab.
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(_)) = save.value().get() {
            navigate(&base, Default::default());
        }
    });
    let on_save = move |_| {
        if !saving.get_untracked() {
            save.dispatch(SaveCleanupPolicy {
                instance: instance.clone(),
                project_path: project_path.clone(),
                policy: draft.get_untracked(),
            });
        }
    };
    let blocked = refusal.is_some();
    view! {
        <div class="panel save-bar">
            <p class="muted small">
                {match next_run.as_deref() {
                    Some(at) => format!("Next run: {}. Saving resets it.", format::exact_time(at)),
                    None => "Not scheduled. Saving an enabled policy schedules it.".to_string(),
                }}
            </p>
            <button
                type="button"
                class="button primary"
                disabled=move || blocked || !hydrated.get() || !changed.get() || saving.get()
                on:click=on_save
            >
                {move || if saving.get() { "Saving…" } else { "Save policy" }}
            </button>
            <button
                type="button"
                class="button danger"
                data-testid="run-now"
                node_ref=run_button
                title="GitLab's bulk delete with the policy on screen, after you confirm what it \
                deletes"
                disabled=move || blocked || !hydrated.get()
                on:click=move |_| running.set(Some(draft.get_untracked()))
            >
                "Run now…"
            </button>
            {move || {
                status
                    .get()
                    .map(|s| match s {
                        Ok(text) => {
                            view! {
                                <span role="status" class="small">
                                    {text}
                                </span>
                            }
                                .into_any()
                        }
                        Err(text) => {
                            view! {
                                <span role="alert" class="error-text small">
                                    {text}
                                </span>
                            }
                                .into_any()
                        }
                    })
            }}
        </div>
        {run_dialog}
    }
}

/// Type tag names, see which name rule decides each under the draft.
#[component]
fn RegexTester(draft: Memo<CleanupPolicy>) -> impl IntoView {
    let names = RwSignal::new("latest\nv1.2.3\nmain-1a2b3c4\nfeature-login".to_string());
    view! {
        <section class="panel" aria-labelledby="tester-title">
            <h2 id="tester-title">"Regex tester"</h2>
            <label class="field">
                <span>"Tag names, one per line"</span>
                <textarea
                    rows="4"
                    spellcheck="false"
                    prop:value=move || names.get()
                    on:input=move |ev| names.set(event_target_value(&ev))
                ></textarea>
            </label>
            <ul class="tester" data-testid="regex-tester">
                {move || {
                    let compiled = draft.get().compile();
                    names
                        .get()
                        .lines()
                        .map(str::trim)
                        .filter(|n| !n.is_empty())
                        .map(|name| {
                            let verdict = match &compiled {
                                Err(e) => e.message.clone(),
                                Ok(c) => {
                                    match c.name_rule(name) {
                                        Reason::Deleted => {
                                            "matches the delete regex: deleted unless kept by \
                                                count or age"
                                                .to_string()
                                        }
                                        other => other.explain().to_string(),
                                    }
                                }
                            };
                            view! {
                                <li>
                                    <code>{name.to_string()}</code>
                                    " — "
                                    {verdict}
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
        </section>
    }
}
