use domain::format;
use domain::tags::{
    relative, IndexProgress, RepositoryHeader, Tag, TagKind, TagListPage, TagListView, TagSort,
    TagSortKey, MAX_DELETE_BATCH, PAGE_SIZES,
};
use domain::usage::UsageFilter;
use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;
use std::time::Duration;

use super::storage::StoragePanel;
use super::usage::{UsageBadge, UsageLine};
use super::{use_repository_id, RepositoryBreadcrumbs, RepositoryDeleteButton};
use crate::components::{
    preload_delete_dialog, use_hydrated, CopyButton, DeleteTagsDialog, Loaded, Notices, Pager,
    UseImage,
};
use crate::error::AppError;
use crate::links;
use crate::pages::instance::use_instance;
use crate::pages::use_query_pairs;
use crate::server_fns::tags::{matching_tags, tag_list};

/// An image repository's tags: filter, sort and page over ALL tags, every bit of state in the
/// URL; select and delete with a confirmation that lists exactly what goes.
#[component]
pub fn TagListPage() -> impl IntoView {
    let instance = use_instance();
    let repository_id = use_repository_id();
    let pairs = use_query_pairs();
    let parsed = Memo::new(move |_| TagListView::from_pairs(&pairs.get()));
    let view_state = Memo::new(move |_| parsed.get().0);
    // Bumped to poll an index that is still being built, and after deletions.
    let refresh = RwSignal::new(0u32);
    let data = Resource::new(
        move || {
            (
                instance.get(),
                repository_id.get(),
                view_state.get(),
                refresh.get(),
            )
        },
        |(instance, id, view, _)| async move {
            match id {
                Some(id) => tag_list(instance, id, view).await,
                None => Err(AppError::NotFound {
                    what: domain::Subject::RepositoryLink,
                }),
            }
        },
    );
    Effect::new(move |_| {
        if let Some(Ok(page)) = data.get() {
            let indexing = !page.progress.complete && page.progress.error.is_none();
            if indexing || page.usage == domain::usage::UsageState::Reading {
                set_timeout(
                    move || refresh.update(|n| *n += 1),
                    Duration::from_millis(1000),
                );
            }
        }
    });
    let selection = RwSignal::new(Vec::<String>::new());
    let deleting = RwSignal::new(None::<Vec<String>>);
    // Counts deletions through this page: the storage panel reads its figures again.
    let deletions = RwSignal::new(0u32);
    view! {
        {move || view! { <Notices notices=parsed.get().1 /> }}
        <Loaded resource=data let:page>
            {
                let instance = instance.get_untracked();
                let view = view_state.get_untracked();
                view! {
                    <Title text=format!("{} · tags", page.repository.path) />
                    <TagListBody instance page view selection deleting refresh />
                }
            }
        </Loaded>
        <StoragePanel repository_id changed=deletions />
        {move || {
            deleting
                .get()
                .map(|names| {
                    let instance = instance.get_untracked();
                    let id = repository_id.get_untracked().unwrap_or_default();
                    view! {
                        <DeleteTagsDialog
                            instance
                            repository_id=id
                            names
                            on_close=Callback::new(move |deleted: Vec<String>| {
                                deleting.set(None);
                                if !deleted.is_empty() {
                                    selection.update(|s| s.retain(|n| !deleted.contains(n)));
                                    refresh.update(|n| *n += 1);
                                    deletions.update(|n| *n += 1);
                                }
                            })
                        />
                    }
                })
        }}
    }
}

#[component]
fn TagListBody(
    instance: String,
    page: TagListPage,
    view: TagListView,
    selection: RwSignal<Vec<String>>,
    deleting: RwSignal<Option<Vec<String>>>,
    refresh: RwSignal<u32>,
) -> impl IntoView {
    let repo = page.repository.clone();
    let base = links::repository(&instance, repo.id);
    let slice = page.slice.clone();
    let delete_refusal = repo.tag_delete_refusal().map(|r| r.to_string());
    let summary = if page.searched {
        format!(
            "{} match (GitLab’s search)",
            format::plural(slice.matched, "tag", "tags")
        )
    } else if view.is_filtered() {
        format!(
            "{} of {} match",
            format::count(slice.matched),
            format::plural(page.progress.indexed, "tag", "tags")
        )
    } else {
        format::plural(slice.matched, "tag", "tags")
    };
    view! {
        {view! {
            <RepositoryBreadcrumbs instance=instance.clone() repository=repo.clone() tag=None />
        }
            .into_any()}
        {view! {
            <div class="page-head">
                <div>
                    <h1>{repo.display_name().to_string()}</h1>
                    <p class="repo-location">
                        <code>{repo.location.clone()}</code>
                        <CopyButton
                            text=repo.location.clone()
                            what=format!("image path {}", repo.location)
                        />
                    </p>
                    <p class="muted">
                        "Your role: " <strong>{repo.access.label()}</strong>
                        {repo
                            .status
                            .map(|s| {
                                view! {
                                    " · "
                                    <span class="badge danger">{s.label()}</span>
                                }
                            })} " · Cleanup: " {repo.cleanup_status.label()}
                    </p>
                </div>
                <RepositoryDeleteButton
                    instance=instance.clone()
                    repository=repo.clone()
                    on_done=Callback::new(move |_| refresh.update(|n| *n += 1))
                />
            </div>
        }
            .into_any()}
        <ProgressBanner progress=page.progress.clone() searched=page.searched />
        {view! { <UsageLine state=page.usage.clone() view=view.clone() base=base.clone() /> }
            .into_any()}
        {view! {
            <FilterForm base=base.clone() view=view.clone() error=page.filter_error.clone() />
        }
            .into_any()}
        {view! {
            <div class="list-toolbar">
                <p class="summary" role="status" data-testid="tag-summary">
                    {summary}
                </p>
                <SelectionBar
                    instance=instance.clone()
                    repository_id=repo.id
                    view=view.clone()
                    selection
                    deleting
                    refusal=delete_refusal.clone()
                />
            </div>
        }
            .into_any()}
        {delete_refusal
            .clone()
            .map(|reason| {
                view! {
                    <p class="notice muted" data-testid="delete-refusal">
                        "You can’t delete tags here: "
                        {reason}
                    </p>
                }
            })}
        {if slice.tags.is_empty() {
            view! {
                <EmptyTags
                    repo=repo.clone()
                    view=view.clone()
                    base=base.clone()
                    indexed=page.progress.indexed
                />
            }
                .into_any()
        } else {
            view! {
                <TagTable
                    instance=instance.clone()
                    repo=repo.clone()
                    tags=slice.tags.clone()
                    view=view.clone()
                    base=base.clone()
                    now=page.now
                    usage=page.usage.known().cloned()
                    selection
                    deleting
                />
                <TagPager base=base.clone() view=view.clone() page=slice.page pages=slice.pages />
            }
                .into_any()
        }}
        {view! {
            <UseImage
                instance=instance.clone()
                location=repo.location.clone()
                project_path=repo.project_path.clone()
                tag=None
                digest=None
            />
        }
            .into_any()}
    }
}

#[component]
fn ProgressBanner(progress: IndexProgress, searched: bool) -> impl IntoView {
    if let Some(error) = progress.error.clone() {
        return view! {
            <div class="banner warning" role="alert">
                {error}
                " Showing the "
                {format::plural(progress.indexed, "tag", "tags")}
                " indexed so far."
            </div>
        }
        .into_any();
    }
    if progress.complete {
        return ().into_any();
    }
    let total = progress
        .total
        .unwrap_or(progress.indexed)
        .max(progress.indexed);
    view! {
        <div class="banner progress" role="status" data-testid="index-progress">
            <label>
                <span>
                    "Indexed " {format::count(progress.indexed)} " of " {format::count(total)}
                    " tags. "
                    {if searched {
                        "Matches come from GitLab’s own name search, complete for names with this \
                            text exactly as typed (GitLab’s search is case-sensitive); other \
                            spellings appear as they are indexed."
                    } else {
                        "Sorting and filters cover the indexed tags; the list updates as more \
                            arrive."
                    }}
                </span>
                <progress
                    aria-label="Tags indexed"
                    max=total.max(1)
                    value=progress.indexed
                ></progress>
            </label>
            <noscript>
                <meta http-equiv="refresh" content="2" />
            </noscript>
        </div>
    }
    .into_any()
}

/// The filters as a GET form: without JavaScript it submits to the URL; hydrated, it
/// navigates to the canonical query for the same state.
#[component]
fn FilterForm(base: String, view: TagListView, error: Option<String>) -> impl IntoView {
    let navigate = use_navigate();
    let action = base.clone();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        let Some(query) = crate::components::form_query(&ev) else {
            return;
        };
        ev.prevent_default();
        let (state, _) = TagListView::from_pairs(&domain::query::parse(&query));
        let state = state.with_page(1);
        navigate(&format!("{action}{}", state.to_query()), Default::default());
    };
    let has_error = error.is_some();
    let text = |v: Option<String>| v.unwrap_or_default();
    view! {
        <form
            method="get"
            action=base.clone()
            class="filter-form"
            role="search"
            aria-label="Filter tags"
            on:submit=on_submit
        >
            <div class="filter-row">
                <label class="field grow">
                    <span>"Name"</span>
                    <input
                        type="search"
                        name="q"
                        value=view.name.clone()
                        placeholder=if view.regex {
                            "Regular expression, e.g. ^v1\\."
                        } else {
                            "Part of the tag name"
                        }
                        maxlength=domain::tags::MAX_FILTER_LEN
                        autocomplete="off"
                        aria-invalid=has_error.to_string()
                        aria-describedby="name-filter-error"
                    />
                </label>
                <label class="check">
                    <input type="checkbox" name="re" value="1" checked=view.regex />
                    " Regex (RE2)"
                </label>
                <label class="field">
                    <span>"Sort"</span>
                    <select name="sort">
                        {TagSort::ALL
                            .into_iter()
                            .map(|s| {
                                view! {
                                    <option value=s.as_param() selected=s == view.sort>
                                        {s.label()}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </label>
            </div>
            {error
                .map(|e| {
                    view! {
                        <p id="name-filter-error" class="error-text" role="alert">
                            {e}
                            " The name filter is not applied."
                        </p>
                    }
                })}
            <details
                class="more-filters"
                open=view.older_than.is_some() || view.newer_than.is_some()
                    || view.min_size.is_some() || view.max_size.is_some() || !view.kinds.is_empty()
                    || view.family.is_some() || view.usage.is_some()
            >
                <summary>"More filters"</summary>
                <div class="filter-row">
                    <label class="field">
                        <span>"Older than"</span>
                        <input
                            type="text"
                            name="older"
                            size="6"
                            placeholder="e.g. 30d"
                            value=text(view.older_than.as_ref().map(|a| a.text.clone()))
                        />
                    </label>
                    <label class="field">
                        <span>"Newer than"</span>
                        <input
                            type="text"
                            name="newer"
                            size="6"
                            placeholder="e.g. 12h"
                            value=text(view.newer_than.as_ref().map(|a| a.text.clone()))
                        />
                    </label>
                    <label class="field">
                        <span>"At least"</span>
                        <input
                            type="text"
                            name="min"
                            size="7"
                            placeholder="e.g. 100MB"
                            value=text(view.min_size.as_ref().map(|s| s.text.clone()))
                        />
                    </label>
                    <label class="field">
                        <span>"At most"</span>
                        <input
                            type="text"
                            name="max"
                            size="7"
                            placeholder="e.g. 1GiB"
                            value=text(view.max_size.as_ref().map(|s| s.text.clone()))
                        />
                    </label>
                    <fieldset class="kinds">
                        <legend>"Only"</legend>
                        {TagKind::ALL
                            .into_iter()
                            .map(|k| {
                                view! {
                                    <label class="check">
                                        <input
                                            type="checkbox"
                                            name="kind"
                                            value=k.as_param()
                                            checked=view.kinds.contains(&k)
                                        />
                                        " "
                                        {k.label()}
                                    </label>
                                }
                            })
                            .collect_view()}
                    </fieldset>
                    <label class="field">
                        <span>"Name family"</span>
                        <select name="family">
                            <option value="" selected=view.family.is_none()>
                                "Any"
                            </option>
                            {domain::shape::TagFamily::ALL
                                .into_iter()
                                .map(|f| {
                                    view! {
                                        <option value=f.as_param() selected=view.family == Some(f)>
                                            {f.label()}
                                        </option>
                                    }
                                })
                                .collect_view()}
                        </select>
                    </label>
                    <label class="field">
                        <span>"GitLab says"</span>
                        <select name="usage">
                            <option value="" selected=view.usage.is_none()>
                                "Any"
                            </option>
                            {[UsageFilter::InUse, UsageFilter::Stale]
                                .into_iter()
                                .map(|u| {
                                    view! {
                                        <option value=u.param() selected=view.usage == Some(u)>
                                            {u.label()}
                                        </option>
                                    }
                                })
                                .collect_view()}
                        </select>
                    </label>
                    <label class="field">
                        <span>"Per page"</span>
                        <select name="per_page">
                            {PAGE_SIZES
                                .into_iter()
                                .map(|n| {
                                    view! {
                                        <option value=n.to_string() selected=n == view.per_page>
                                            {n}
                                        </option>
                                    }
                                })
                                .collect_view()}
                        </select>
                    </label>
                </div>
            </details>
            <div class="filter-actions">
                <button type="submit" class="button primary">
                    "Apply"
                </button>
                {(view.is_filtered() || view.sort != TagSort::default())
                    .then(|| {
                        view! {
                            <a class="button subtle" href=base.clone()>
                                "Reset"
                            </a>
                        }
                    })}
            </div>
        </form>
    }
}

#[component]
fn SelectionBar(
    instance: String,
    repository_id: u64,
    view: TagListView,
    selection: RwSignal<Vec<String>>,
    deleting: RwSignal<Option<Vec<String>>>,
    refusal: Option<String>,
) -> impl IntoView {
    let hydrated = use_hydrated();
    let can_delete = refusal.is_none();
    let compare_base = instance.clone();
    // "Select all matching": the names come from the server (every page of the filter).
    let select_matching = Action::new(move |view: &TagListView| {
        matching_tags(instance.clone(), repository_id, view.clone())
    });
    let selecting = select_matching.pending();
    Effect::new(move |_| {
        if let Some(Ok((names, _))) = select_matching.value().get() {
            selection.set(names);
        }
    });
    let note = move || {
        if selecting.get() {
            return Some("Selecting…".to_string());
        }
        select_matching.value().with(|answer| {
            answer.as_ref().map(|answer| match answer {
                Ok((names, total)) if *total as usize > names.len() => format!(
                    "Selected the first {} of {} matching tags (the most one deletion can take).",
                    format::count(MAX_DELETE_BATCH as u64),
                    format::count(*total)
                ),
                Ok((_, total)) => format!("Selected all {} matching tags.", format::count(*total)),
                Err(error) => error.to_string(),
            })
        })
    };
    let select_all = move |_| {
        select_matching.dispatch(view.clone());
    };
    view! {
        <div
            class="selection-bar"
            aria-live="polite"
            on:pointerover=preload_delete_dialog
            on:focusin=preload_delete_dialog
        >
            {move || {
                let n = selection.with(Vec::len);
                let compare = (n == 2)
                    .then(|| {
                        let names = selection.get();
                        view! {
                            <a
                                class="button"
                                data-testid="compare-selected"
                                href=links::compare(
                                    &compare_base,
                                    repository_id,
                                    &names[0],
                                    &names[1],
                                )
                            >
                                "Compare the two"
                            </a>
                        }
                    });
                (n > 0)
                    .then(|| {
                        view! {
                            <span data-testid="selection-count">
                                {format::plural(n as u64, "tag selected", "tags selected")}
                            </span>
                            {compare}
                            <button
                                type="button"
                                class="button subtle"
                                on:click=move |_| {
                                    selection.set(Vec::new());
                                    select_matching.clear();
                                }
                            >
                                "Clear"
                            </button>
                            <button
                                type="button"
                                class="button danger"
                                disabled=!can_delete
                                on:click=move |_| deleting.set(Some(selection.get_untracked()))
                            >
                                "Delete selected…"
                            </button>
                        }
                    })
            }}
            {can_delete
                .then(|| {
                    view! {
                        <button
                            type="button"
                            class="button subtle"
                            disabled=move || !hydrated.get()
                            on:click=select_all
                        >
                            "Select all matching"
                        </button>
                    }
                })}
            {move || note().map(|n| view! { <span class="muted small">{n}</span> })}
        </div>
    }
}

#[component]
fn EmptyTags(
    repo: RepositoryHeader,
    view: TagListView,
    base: String,
    indexed: u64,
) -> impl IntoView {
    if view.is_filtered() && indexed > 0 {
        view! {
            <div class="empty-state">
                <h2>"No tags match these filters"</h2>
                <p>
                    <a href=base>"Clear the filters"</a>
                </p>
            </div>
        }
        .into_any()
    } else {
        view! {
            <div class="empty-state">
                <h2>"This image has no tags"</h2>
                <p>"Push one, for example:"</p>
                <pre>
                    <code>{format!("docker push {}:latest", repo.location)}</code>
                </pre>
            </div>
        }
        .into_any()
    }
}

#[component]
#[allow(clippy::too_many_arguments)]
fn TagTable(
    instance: String,
    repo: RepositoryHeader,
    tags: Vec<Tag>,
    view: TagListView,
    base: String,
    now: i64,
    usage: Option<domain::usage::RepositoryUsage>,
    selection: RwSignal<Vec<String>>,
    deleting: RwSignal<Option<Vec<String>>>,
) -> impl IntoView {
    let hydrated = use_hydrated();
    // Shared by every row's shift-click handler (a copy per row would be 20 × 20 names).
    let names: std::sync::Arc<[String]> = tags.iter().map(|t| t.name.clone()).collect();
    let last_clicked = RwSignal::new(None::<usize>);
    let repo_refusal = repo.tag_delete_refusal();
    let list_query = view.to_query();
    let header = |label: &'static str, key: TagSortKey, first_descending: bool| {
        let current = view.sort;
        let active = current.key == key;
        let next = if active {
            current.toggled()
        } else {
            TagSort {
                key,
                descending: first_descending,
            }
        };
        let aria = match (active, current.descending) {
            (false, _) => "none",
            (true, false) => "ascending",
            (true, true) => "descending",
        };
        let arrow = match aria {
            "ascending" => " ↑",
            "descending" => " ↓",
            _ => "",
        };
        let href = format!("{base}{}", view.with_sort(next).to_query());
        view! {
            <th scope="col" aria-sort=aria class=if key == TagSortKey::Size { "num" } else { "" }>
                <a href=href class="sort-link">
                    {label}
                    {arrow}
                </a>
            </th>
        }
    };
    let page_names = names.clone();
    let all_on_page = move || {
        selection.with(|s| !page_names.is_empty() && page_names.iter().all(|n| s.contains(n)))
    };
    let toggle_page_names = names.clone();
    let toggle_page = move |_| {
        let select = !toggle_page_names
            .iter()
            .all(|n| selection.with_untracked(|s| s.contains(n)));
        selection.update(|s| {
            for n in toggle_page_names.iter() {
                let has = s.contains(n);
                if select && !has {
                    s.push(n.clone());
                } else if !select && has {
                    s.retain(|x| x != n);
                }
            }
        });
    };
    let can_select = repo_refusal.is_none();
    view! {
        <table
            class="data-table tags"
            on:pointerover=preload_delete_dialog
            on:focusin=preload_delete_dialog
        >
            <caption class="visually-hidden">"Tags"</caption>
            <thead>
                <tr>
                    <th scope="col" class="select">
                        <input
                            type="checkbox"
                            aria-label="Select every tag on this page"
                            disabled=move || !hydrated.get() || !can_select
                            prop:checked=all_on_page
                            on:change=toggle_page
                        />
                    </th>
                    {header("Tag", TagSortKey::Name, false)}
                    {header("Published", TagSortKey::Published, true)}
                    {header("Size", TagSortKey::Size, true)}
                    <th scope="col">"Digest"</th>
                    <th scope="col">
                        <span class="visually-hidden">"Actions"</span>
                    </th>
                </tr>
            </thead>
            <tbody>
                {tags
                    .into_iter()
                    .enumerate()
                    .map(|(index, tag)| {
                        let name = tag.name.clone();
                        let href = format!(
                            "{}{}",
                            links::tag(&instance, repo.id, &tag.name),
                            list_query,
                        );
                        let refusal = repo_refusal
                            .clone()
                            .or_else(|| tag.deletable_by(repo.access).err())
                            .map(|r| r.to_string());
                        let row_names = names.clone();
                        let checked_name = name.clone();
                        let on_click = move |ev: leptos::ev::MouseEvent| {
                            let target_checked = !selection
                                .with_untracked(|s| s.contains(&row_names[index]));
                            let range = match (ev.shift_key(), last_clicked.get_untracked()) {
                                (true, Some(from)) => from.min(index)..=from.max(index),
                                _ => index..=index,
                            };
                            selection
                                .update(|s| {
                                    for n in &row_names[range] {
                                        let has = s.contains(n);
                                        if target_checked && !has {
                                            s.push(n.clone());
                                        } else if !target_checked && has {
                                            s.retain(|x| x != n);
                                        }
                                    }
                                });
                            last_clicked.set(Some(index));
                        };
                        let delete_name = name.clone();
                        let timestamp = tag.timestamp();
                        view! {
                            <tr data-tag=name.clone()>
                                <td class="select">
                                    <input
                                        type="checkbox"
                                        aria-label=format!("Select {name}")
                                        disabled=move || !hydrated.get() || !can_select
                                        prop:checked=move || {
                                            selection.with(|s| s.contains(&checked_name))
                                        }
                                        on:click=on_click
                                    />
                                </td>
                                <td>
                                    <a href=href class="tag-name">
                                        <strong>{tag.name.clone()}</strong>
                                    </a>
                                    <TagBadges tag=tag.clone() />
                                    <UsageBadge
                                        usage=usage
                                            .as_ref()
                                            .and_then(|u| u.tags.get(&tag.name))
                                            .cloned()
                                        now
                                    />
                                </td>
                                <td>
                                    <time
                                        datetime=timestamp
                                            .map(|t| t.to_string())
                                            .unwrap_or_default()
                                        title=timestamp.map(format::exact_unix).unwrap_or_default()
                                    >
                                        {relative(timestamp, now)}
                                    </time>
                                </td>
                                <td class="num">
                                    {tag
                                        .total_size
                                        .map(format::bytes)
                                        .unwrap_or_else(|| "—".into())}
                                </td>
                                <td>
                                    {match tag.digest.clone() {
                                        Some(digest) => {
                                            let short = domain::tags::short_digest(&digest);
                                            view! {
                                                <code title=digest.clone()>{short}</code>
                                                <CopyButton
                                                    text=digest.clone()
                                                    what=format!("digest of {}", tag.name)
                                                />
                                            }
                                                .into_any()
                                        }
                                        None => {
                                            view! { <span class="muted">"—"</span> }.into_any()
                                        }
                                    }}
                                </td>
                                <td class="actions">
                                    <button
                                        type="button"
                                        class="button subtle danger-text"
                                        aria-label=format!("Delete {name}")
                                        title=refusal
                                            .clone()
                                            .unwrap_or_else(|| format!("Delete {name}"))
                                        disabled=move || !hydrated.get() || refusal.is_some()
                                        on:click=move |_| {
                                            deleting.set(Some(vec![delete_name.clone()]))
                                        }
                                    >
                                        "Delete"
                                    </button>
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

/// Badges for what is special about a tag.
#[component]
pub fn TagBadges(tag: Tag) -> impl IntoView {
    view! {
        <span class="badges">
            {tag
                .is_multi_arch()
                .then(|| {
                    view! {
                        <span class="badge info" title="An index with images for several platforms">
                            "multi-arch"
                        </span>
                    }
                })}
            {tag
                .is_signed()
                .then(|| {
                    view! {
                        <span class="badge success" title="Has a signature referrer">
                            "signed"
                        </span>
                    }
                })}
            {tag
                .is_protected()
                .then(|| {
                    view! {
                        <span class="badge warning" title="Matched by a tag protection rule">
                            "protected"
                        </span>
                    }
                })}
            {domain::shape::sidecar(&tag.name)
                .map(|(_, kind)| {
                    view! {
                        <span
                            class="badge"
                            title="A cosign-style sidecar tag: it describes the image whose digest \
                            its name carries"
                        >
                            {kind.label()}
                        </span>
                    }
                })}
            {tag
                .is_missing_manifest()
                .then(|| {
                    view! {
                        <span class="badge danger" title="GitLab cannot read this tag's manifest">
                            "missing manifest"
                        </span>
                    }
                })}
        </span>
    }
}

#[component]
fn TagPager(base: String, view: TagListView, page: u32, pages: u32) -> impl IntoView {
    let link = |p: u32| format!("{base}{}", view.with_page(p).to_query());
    // From the page shown (the URL's may lie past the last page, which the list clamps).
    let (sizes, sizes_base) = (view.with_page(page), base.clone());
    view! {
        <Pager
            prev=(page > 1).then(|| link(page - 1))
            next=(page < pages).then(|| link(page + 1))
            label=format!("Page {} of {}", format::count(page as u64), format::count(pages as u64))
            first=(page > 2).then(|| link(1))
            last=(page + 1 < pages).then(|| link(pages))
        >
            <span class="page-sizes" role="group" aria-label="Tags per page">
                <span class="muted">"Per page"</span>
                {PAGE_SIZES
                    .into_iter()
                    .map(|size| {
                        if size == sizes.per_page {
                            Either::Left(
                                view! {
                                    <span class="button subtle small" aria-current="true">
                                        {size}
                                        <span class="visually-hidden">" tags a page"</span>
                                    </span>
                                },
                            )
                        } else {
                            let href = format!(
                                "{sizes_base}{}",
                                sizes.with_per_page(size).to_query(),
                            );
                            Either::Right(
                                view! {
                                    <a class="button subtle small" href=href>
                                        {size}
                                        <span class="visually-hidden">" tags a page"</span>
                                    </a>
                                },
                            )
                        }
                    })
                    .collect_view()}
            </span>
        </Pager>
    }
}
