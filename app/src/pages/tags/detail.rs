use domain::format;
use domain::tags::{relative, short_digest, Blob, TagDetail, TagListView};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};

use super::usage::{UsageBadge, UsageFact};
use super::{use_repository_id, RepositoryBreadcrumbs, TagBadges};
use crate::components::{
    preload_delete_dialog, use_hydrated, CopyButton, DeleteTagsDialog, Loaded, UseImage,
};
use crate::error::AppError;
use crate::links;
use crate::pages::instance::use_instance;
use crate::pages::use_query_pairs;
use crate::server_fns::tags::load_tag_detail;

/// One tag: where to pull it from, what it is made of, what refers to it. The query string
/// is the list view it was opened from, so "back" returns to the same filtered list.
#[component]
pub fn TagDetailPage() -> impl IntoView {
    let instance = use_instance();
    let repository_id = use_repository_id();
    let params = use_params_map();
    let tag_name = Memo::new(move |_| params.read().get("tag").unwrap_or_default());
    let pairs = use_query_pairs();
    let list_view = Memo::new(move |_| TagListView::from_pairs(&pairs.get()).0);
    let data = Resource::new(
        move || (instance.get(), repository_id.get(), tag_name.get()),
        |(instance, id, name)| async move {
            match id {
                Some(id) => load_tag_detail(instance, id, name).await,
                None => Err(AppError::NotFound {
                    what: domain::Subject::RepositoryLink,
                }),
            }
        },
    );
    let deleting = RwSignal::new(None::<Vec<String>>);
    let navigate = use_navigate();
    view! {
        <Title text=move || format!("{} · tag", tag_name.try_get().unwrap_or_default()) />
        <Loaded resource=data let:detail>
            {
                let instance = instance.get_untracked();
                let list_query = list_view.get_untracked().to_query();
                view! { <TagDetailBody instance detail list_query deleting /> }
            }
        </Loaded>
        {move || {
            deleting
                .get()
                .map(|names| {
                    let instance = instance.get_untracked();
                    let id = repository_id.get_untracked().unwrap_or_default();
                    let back = format!(
                        "{}{}",
                        links::repository(&instance, id),
                        list_view.get_untracked().to_query(),
                    );
                    let navigate = navigate.clone();
                    view! {
                        <DeleteTagsDialog
                            instance
                            repository_id=id
                            names
                            on_close=Callback::new(move |deleted: Vec<String>| {
                                deleting.set(None);
                                if !deleted.is_empty() {
                                    navigate(&back, Default::default());
                                }
                            })
                        />
                    }
                })
        }}
    }
}

#[component]
fn TagDetailBody(
    instance: String,
    detail: TagDetail,
    list_query: String,
    deleting: RwSignal<Option<Vec<String>>>,
) -> impl IntoView {
    let hydrated = use_hydrated();
    let repo = detail.repository.clone();
    let tag = detail.tag.clone();
    let back = format!("{}{}", links::repository(&instance, repo.id), list_query);
    let refusal = repo
        .tag_delete_refusal()
        .or_else(|| tag.deletable_by(repo.access).err())
        .map(|r| r.to_string());
    let name = tag.name.clone();
    let delete_name = tag.name.clone();
    let blocked = refusal.is_some();
    let platform_rows = detail
        .platforms
        .iter()
        .map(|p| {
            view! {
                <tr data-platform=p.label()>
                    <td>{p.label()}</td>
                    <td>
                        <code title=p.digest.clone()>{short_digest(&p.digest)}</code>
                        <CopyButton
                            text=p.digest.clone()
                            what=format!("digest for {}", p.label())
                        />
                    </td>
                    <td class="num">{p.size.map(format::bytes).unwrap_or_else(|| "—".into())}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        {view! {
            <RepositoryBreadcrumbs
                instance=instance.clone()
                repository=repo.clone()
                tag=Some(tag.name.clone())
            />
        }
            .into_any()}
        <p>
            <a href=back.clone() class="back-link">
                "← All tags of "
                {repo.display_name().to_string()}
            </a>
        </p>
        {view! {
            <div class="page-head">
                <div>
                    <h1 class="tag-title">
                        {name.clone()} " " <TagBadges tag=tag.clone() />
                        <UsageBadge
                            usage=detail.usage.known().and_then(|u| u.tags.get(&name)).cloned()
                            now=detail.now
                        />
                    </h1>
                    <p class="muted">{repo.path.clone()}</p>
                </div>
                <div
                    class="repo-actions"
                    on:pointerover=preload_delete_dialog
                    on:focusin=preload_delete_dialog
                >
                    <button
                        type="button"
                        class="button danger-outline"
                        title=refusal.clone().unwrap_or_else(|| format!("Delete {name}"))
                        disabled=move || !hydrated.get() || blocked
                        on:click=move |_| deleting.set(Some(vec![delete_name.clone()]))
                    >
                        "Delete tag…"
                    </button>
                    {refusal.map(|r| view! { <p class="muted small">{r}</p> })}
                </div>
            </div>
        }
            .into_any()}
        {view! {
            <UseImage
                instance=instance.clone()
                location=repo.location.clone()
                project_path=repo.project_path.clone()
                tag=Some(tag.name.clone())
                digest=tag.digest.clone()
            />
        }
            .into_any()}
        {view! {
            <section class="panel" aria-labelledby="facts-title">
                <h2 id="facts-title">"Details"</h2>
                <dl class="facts">
                    <UsageFact state=detail.usage.clone() name=name.clone() now=detail.now />
                    <dt>"Location"</dt>
                    <dd>
                        <code>{detail.location.clone()}</code>
                        <CopyButton text=detail.location.clone() what="image location" />
                    </dd>
                    <dt>"Manifest digest"</dt>
                    <dd>
                        {match tag.digest.clone() {
                            Some(d) => {
                                view! {
                                    <code class="digest">{d.clone()}</code>
                                    <CopyButton text=d what="manifest digest" />
                                }
                                    .into_any()
                            }
                            None => {
                                view! {
                                    <span class="badge danger">"missing manifest"</span>
                                    " GitLab cannot read this tag's manifest."
                                }
                                    .into_any()
                            }
                        }}
                    </dd>
                    <dt>"Config digest"</dt>
                    <dd>
                        {match tag.revision.clone() {
                            Some(d) => {
                                view! {
                                    <code class="digest">{d.clone()}</code>
                                    <CopyButton text=d what="config digest" />
                                }
                                    .into_any()
                            }
                            None => view! { <span class="muted">"—"</span> }.into_any(),
                        }}
                    </dd>
                    <dt>"Media type"</dt>
                    <dd>
                        <code>{tag.media_type.clone().unwrap_or_else(|| "unknown".into())}</code>
                    </dd>
                    <dt>"Created"</dt>
                    <dd>
                        <Moment ts=tag.created_at now=detail.now />
                    </dd>
                    <dt>"Published"</dt>
                    <dd>
                        {match tag.published_at {
                            Some(_) => {
                                view! { <Moment ts=tag.published_at now=detail.now /> }.into_any()
                            }
                            None => {
                                view! {
                                    <span class="muted">
                                        "not recorded (GitLab records it only with the metadata \
                                            database)"
                                    </span>
                                }
                                    .into_any()
                            }
                        }}
                    </dd>
                    <dt>"Total size"</dt>
                    <dd>
                        {tag
                            .total_size
                            .map(|s| format!("{} ({} bytes)", format::bytes(s), format::count(s)))
                            .unwrap_or_else(|| "unknown".into())}
                    </dd>
                </dl>
            </section>
        }
            .into_any()}
        {(!detail.platforms.is_empty())
            .then(|| {
                view! {
                    <section class="panel" aria-labelledby="platforms-title">
                        <h2 id="platforms-title">
                            {format::plural(detail.platforms.len() as u64, "platform", "platforms")}
                        </h2>
                        <table class="data-table">
                            <thead>
                                <tr>
                                    <th scope="col">"Platform"</th>
                                    <th scope="col">"Digest"</th>
                                    <th scope="col" class="num">
                                        "Manifest size"
                                    </th>
                                </tr>
                            </thead>
                            <tbody>{platform_rows}</tbody>
                        </table>
                    </section>
                }
                    .into_any()
            })}
        {(!detail.layers.is_empty())
            .then(|| {
                view! {
                    <section class="panel" aria-labelledby="layers-title">
                        <h2 id="layers-title">
                            {format::plural(detail.layers.len() as u64, "layer", "layers")}
                        </h2>
                        <BlobTable blobs=detail.layers.clone() config=detail.config.clone() />
                    </section>
                }
                    .into_any()
            })}
        {view! {
            <form
                method="get"
                action=links::compare_page(&instance, repo.id)
                class="panel compare-form inline"
                data-testid="compare-with"
            >
                <input type="hidden" name="a" value=tag.name.clone() />
                <label>
                    "Compare with tag "
                    <input
                        name="b"
                        required
                        maxlength="128"
                        autocomplete="off"
                        spellcheck="false"
                        placeholder="e.g. latest"
                    />
                </label>
                <button type="submit" class="button">
                    "Compare"
                </button>
            </form>
        }
            .into_any()}
        {view! {
            <section class="panel" aria-labelledby="referrers-title">
                <h2 id="referrers-title">"Signatures and attestations"</h2>
                {(!detail.sidecars.is_empty())
                    .then(|| {
                        view! {
                            <p>"Sidecar tags for this image:"</p>
                            <ul class="referrers" data-testid="sidecar-tags">
                                {detail
                                    .sidecars
                                    .iter()
                                    .map(|(name, kind)| {
                                        view! {
                                            <li>
                                                <span class="badge">{kind.label()}</span>
                                                " "
                                                <a href=links::tag(&instance, repo.id, name)>
                                                    <code>{name.clone()}</code>
                                                </a>
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                        }
                    })}
                {if tag.referrers.is_empty() {
                    view! {
                        <p class="muted">
                            "No referrers point at this image (GitLab lists them only with the \
                                metadata database)."
                        </p>
                    }
                        .into_any()
                } else {
                    view! {
                        <ul class="referrers">
                            {tag
                                .referrers
                                .iter()
                                .map(|r| {
                                    view! {
                                        <li>
                                            <span class="badge">{r.kind()}</span>
                                            " "
                                            <code>{r.artifact_type.clone()}</code>
                                            " "
                                            <code title=r
                                                .digest
                                                .clone()>{short_digest(&r.digest)}</code>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    }
                        .into_any()
                }}
            </section>
        }
            .into_any()}
        {view! {
            <section class="panel" aria-labelledby="also-title">
                <h2 id="also-title">"Also tagged as"</h2>
                {if detail.also_tagged.is_empty() {
                    view! { <p class="muted">"No other tag points at this image."</p> }.into_any()
                } else {
                    let more = (detail.also_tagged_more > 0)
                        .then(|| {
                            view! {
                                <p class="muted small">"and " {detail.also_tagged_more} " more"</p>
                            }
                        });
                    view! {
                        <ul class="inline-list" data-testid="also-tagged">
                            {detail
                                .also_tagged
                                .iter()
                                .map(|other| {
                                    view! {
                                        <li>
                                            <a href=format!(
                                                "{}{}",
                                                links::tag(&instance, repo.id, other),
                                                list_query,
                                            )>{other.clone()}</a>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                        {more}
                    }
                        .into_any()
                }}
            </section>
        }
            .into_any()}
    }
}

#[component]
fn Moment(ts: Option<i64>, now: i64) -> impl IntoView {
    match ts {
        Some(t) => view! {
            <time datetime=t.to_string() title=relative(Some(t), now)>
                {format::exact_unix(t)}
            </time>
            <span class="muted">" (" {relative(Some(t), now)} ")"</span>
        }
        .into_any(),
        None => view! { <span class="muted">"unknown"</span> }.into_any(),
    }
}

#[component]
fn BlobTable(blobs: Vec<Blob>, config: Option<Blob>) -> impl IntoView {
    let total: u64 = blobs.iter().filter_map(|b| b.size).sum();
    view! {
        <table class="data-table">
            <thead>
                <tr>
                    <th scope="col">"#"</th>
                    <th scope="col">"Digest"</th>
                    <th scope="col">"Media type"</th>
                    <th scope="col" class="num">
                        "Size"
                    </th>
                </tr>
            </thead>
            <tbody>
                {blobs
                    .into_iter()
                    .enumerate()
                    .map(|(i, b)| {
                        view! {
                            <tr>
                                <td>{i + 1}</td>
                                <td>
                                    <code title=b.digest.clone()>{short_digest(&b.digest)}</code>
                                </td>
                                <td>
                                    <code class="small">{b.media_type.unwrap_or_default()}</code>
                                </td>
                                <td class="num">
                                    {b.size.map(format::bytes).unwrap_or_else(|| "—".into())}
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
            <tfoot>
                {config
                    .map(|c| {
                        view! {
                            <tr>
                                <td>"config"</td>
                                <td>
                                    <code title=c.digest.clone()>{short_digest(&c.digest)}</code>
                                </td>
                                <td>
                                    <code class="small">{c.media_type.unwrap_or_default()}</code>
                                </td>
                                <td class="num">{c.size.map(format::bytes).unwrap_or_default()}</td>
                            </tr>
                        }
                    })} <tr>
                    <th scope="row" colspan="3">
                        "Compressed layers in all"
                    </th>
                    <td class="num">{format::bytes(total)}</td>
                </tr>
            </tfoot>
        </table>
    }
}
