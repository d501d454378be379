//! Two tags of one repository side by side: digests, media types, platforms, times, sizes,
//! referrers, and each platform's layers aligned (shared, only in A, only in B). The URL
//! names both tags (`?a=…&b=…`), so a comparison can be shared; without both, or with a
//! name no tag can have, the page is a form (a plain GET, so it works without JavaScript).

use domain::format;
use domain::input::TagPair;
use domain::storage::{ImageComparison, Side, TagComparison};
use domain::tags::{relative, short_digest, Tag};
use leptos::prelude::*;
use leptos_meta::Title;

use super::{use_repository_id, RepositoryBreadcrumbs, TagBadges};
use crate::components::{CopyButton, ErrorView, LoadingRows};
use crate::error::AppError;
use crate::links;
use crate::pages::instance::use_instance;
use crate::pages::use_query_pairs;
use crate::server_fns::tags::load_comparison;

/// `/i/:instance/repositories/:id/compare?a=…&b=…`.
#[component]
pub fn CompareTagsPage() -> impl IntoView {
    let instance = use_instance();
    let repository_id = use_repository_id();
    let pairs = use_query_pairs();
    let raw = Memo::new(move |_| {
        let pairs = pairs.get();
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        (get("a"), get("b"))
    });
    let pair = Memo::new(move |_| {
        let pairs = pairs.get();
        (!pairs.is_empty()).then(|| TagPair::from_pairs(&pairs).map_err(|e| e.to_string()))
    });
    let data = Resource::new(
        move || (instance.get(), repository_id.get(), pair.get()),
        |(instance, id, pair)| async move {
            match (id, pair) {
                (Some(id), Some(Ok(pair))) => Some(
                    load_comparison(instance, id, pair.a.into_string(), pair.b.into_string()).await,
                ),
                (None, _) => Some(Err(AppError::NotFound {
                    what: domain::Subject::RepositoryLink,
                })),
                _ => None,
            }
        },
    );
    view! {
        <Title text=move || {
            let (a, b) = raw.get();
            format!("Compare {a} and {b}")
        } />
        <Transition fallback=|| {
            view! { <LoadingRows /> }
        }>
            {move || Suspend::new(async move {
                let instance = instance.get_untracked();
                let id = repository_id.get_untracked().unwrap_or_default();
                let (a, b) = raw.get_untracked();
                let problem = pair.get_untracked().and_then(Result::err);
                match data.await {
                    Some(Err(error)) => {
                        view! {
                            <ErrorView error />
                            <CompareForm instance id a b problem=None />
                        }
                            .into_any()
                    }
                    Some(Ok(c)) => view! { <CompareBody instance comparison=c /> }.into_any(),
                    None => {
                        view! {
                            <h1>"Compare two tags"</h1>
                            <CompareForm instance id a b problem />
                        }
                            .into_any()
                    }
                }
            })}
        </Transition>
    }
}

/// Two names and a submit button: a GET to this very page.
#[component]
fn CompareForm(
    instance: String,
    id: u64,
    a: String,
    b: String,
    problem: Option<String>,
) -> impl IntoView {
    view! {
        <form
            method="get"
            action=links::compare_page(&instance, id)
            class="panel compare-form"
            data-testid="compare-form"
        >
            {problem
                .map(|p| {
                    view! {
                        <p class="error-text" role="alert">
                            {p}
                        </p>
                    }
                })}
            <label>
                "First tag "
                <input
                    name="a"
                    value=a
                    required
                    maxlength="128"
                    autocomplete="off"
                    spellcheck="false"
                />
            </label>
            <label>
                "Second tag "
                <input
                    name="b"
                    value=b
                    required
                    maxlength="128"
                    autocomplete="off"
                    spellcheck="false"
                />
            </label>
            <button type="submit" class="button primary">
                "Compare"
            </button>
        </form>
    }
}

#[component]
fn CompareBody(instance: String, comparison: TagComparison) -> impl IntoView {
    let repo = comparison.repository.clone();
    let (a, b) = (comparison.a.clone(), comparison.b.clone());
    let swapped = links::compare(&instance, repo.id, &b.name, &a.name);
    let now = comparison.now;
    let same = comparison.same_image();
    view! {
        {view! {
            <RepositoryBreadcrumbs
                instance=instance.clone()
                repository=repo.clone()
                tag=Some(format!("{} ↔ {}", a.name, b.name))
            />
        }
            .into_any()}
        <div class="page-head">
            <div>
                <h1>
                    "Compare " <code>{a.name.clone()}</code> " and " <code>{b.name.clone()}</code>
                </h1>
                <p class="muted">{repo.path.clone()}</p>
            </div>
            <div class="repo-actions">
                <a class="button" href=swapped>
                    "Swap sides"
                </a>
            </div>
        </div>
        {same
            .then(|| {
                view! {
                    <p class="notice" data-testid="same-image">
                        "Both tags point at the same image: deleting one frees nothing while the \
                            other stays."
                    </p>
                }
            })}
        {comparison
            .unavailable
            .clone()
            .map(|why| {
                view! {
                    <p class="notice" role="status" data-testid="layers-unavailable">
                        "Layers cannot be compared: "
                        {why}
                    </p>
                }
            })}
        <section class="panel" aria-labelledby="facts-title">
            <h2 id="facts-title">"The two tags"</h2>
            <table class="data-table compare-facts">
                <thead>
                    <tr>
                        <th scope="col">
                            <span class="visually-hidden">"Field"</span>
                        </th>
                        <th scope="col">
                            "A: "
                            <a href=links::tag(&instance, repo.id, &a.name)>{a.name.clone()}</a> " "
                            <TagBadges tag=a.clone() />
                        </th>
                        <th scope="col">
                            "B: "
                            <a href=links::tag(&instance, repo.id, &b.name)>{b.name.clone()}</a> " "
                            <TagBadges tag=b.clone() />
                        </th>
                    </tr>
                </thead>
                <tbody>
                    <FactRow label="Manifest digest" a=digest_cell(&a) b=digest_cell(&b) />
                    <FactRow label="Media type" a=media(&a) b=media(&b) />
                    <FactRow
                        label="Created"
                        a=moment(a.created_at, now)
                        b=moment(b.created_at, now)
                    />
                    <FactRow
                        label="Published"
                        a=moment(a.published_at, now)
                        b=moment(b.published_at, now)
                    />
                    <FactRow label="Size (GitLab)" a=size(a.total_size) b=size(b.total_size) />
                    <FactRow label="Referrers" a=referrers(&a) b=referrers(&b) />
                </tbody>
            </table>
        </section>
        {comparison.images.into_iter().map(|image| view! { <ImageView image /> }).collect_view()}
    }
}

#[component]
fn FactRow(label: &'static str, a: AnyView, b: AnyView) -> impl IntoView {
    view! {
        <tr>
            <th scope="row">{label}</th>
            <td>{a}</td>
            <td>{b}</td>
        </tr>
    }
}

fn digest_cell(tag: &Tag) -> AnyView {
    match tag.digest.clone() {
        Some(d) => view! {
            <code class="digest" title=d.clone()>
                {short_digest(&d)}
            </code>
            " "
            <CopyButton text=d what="manifest digest" />
        }
        .into_any(),
        None => view! { <span class="badge danger">"missing manifest"</span> }.into_any(),
    }
}

fn media(tag: &Tag) -> AnyView {
    let media_type = tag.media_type.clone().unwrap_or_else(|| "unknown".into());
    view! { <code class="small">{media_type}</code> }.into_any()
}

fn moment(ts: Option<i64>, now: i64) -> AnyView {
    match ts {
        Some(t) => view! {
            <time datetime=t.to_string() title=format::exact_unix(t)>
                {relative(Some(t), now)}
            </time>
        }
        .into_any(),
        None => view! { <span class="muted">"not recorded"</span> }.into_any(),
    }
}

fn size(bytes: Option<u64>) -> AnyView {
    let size = bytes.map(format::bytes).unwrap_or_else(|| "unknown".into());
    view! { <span class="num">{size}</span> }.into_any()
}

fn referrers(tag: &Tag) -> AnyView {
    if tag.referrers.is_empty() {
        view! { <span class="muted">"none listed"</span> }.into_any()
    } else {
        let kinds: Vec<&str> = tag.referrers.iter().map(|r| r.kind()).collect();
        view! { {kinds.join(", ")} }.into_any()
    }
}

/// One platform (or the single image): totals and the aligned layer stacks.
#[component]
fn ImageView(image: ImageComparison) -> impl IntoView {
    let title = match &image.platform {
        Some(p) => format!("Layers: {p}"),
        None => "Layers".to_string(),
    };
    let side_note = match (&image.a, &image.b) {
        (Some(_), None) => Some("Only A has this platform."),
        (None, Some(_)) => Some("Only B has this platform."),
        _ => None,
    };
    let platform = image.platform.clone().unwrap_or_default();
    let label = title.clone();
    view! {
        <section class="panel" aria-label=label data-platform=platform>
            <h2>{title}</h2>
            {side_note.map(|n| view! { <p class="muted">{n}</p> })}
            <dl class="compare-totals" data-testid="compare-totals">
                <div>
                    <dt>"A"</dt>
                    <dd>{format::bytes(image.a_bytes)}</dd>
                </div>
                <div>
                    <dt>"B"</dt>
                    <dd>{format::bytes(image.b_bytes)}</dd>
                </div>
                <div class="shared">
                    <dt>"Shared"</dt>
                    <dd data-testid="shared-bytes">{format::bytes(image.shared_bytes)}</dd>
                </div>
                <div class="only-a">
                    <dt>"Only in A"</dt>
                    <dd data-testid="only-a-bytes">{format::bytes(image.only_a_bytes)}</dd>
                </div>
                <div class="only-b">
                    <dt>"Only in B"</dt>
                    <dd data-testid="only-b-bytes">{format::bytes(image.only_b_bytes)}</dd>
                </div>
            </dl>
            <p class="muted small">
                "Sizes are compressed, as stored; each figure counts a blob once, the config \
                    included."
            </p>
            <table class="data-table layer-diff">
                <caption class="visually-hidden">"Layers bottom first, aligned by digest"</caption>
                <thead>
                    <tr>
                        <th scope="col" class="num">
                            "A #"
                        </th>
                        <th scope="col" class="num">
                            "B #"
                        </th>
                        <th scope="col">"Digest"</th>
                        <th scope="col">"Where"</th>
                        <th scope="col" class="num">
                            "Size"
                        </th>
                    </tr>
                </thead>
                <tbody>
                    {image
                        .rows
                        .into_iter()
                        .map(|row| {
                            let (class, label) = match row.side {
                                Side::Both => ("shared", "shared"),
                                Side::OnlyA => ("only-a", "only in A"),
                                Side::OnlyB => ("only-b", "only in B"),
                            };
                            view! {
                                <tr class=class data-side=class>
                                    <td class="num">
                                        {row.in_a.map(|n| n.to_string()).unwrap_or_default()}
                                    </td>
                                    <td class="num">
                                        {row.in_b.map(|n| n.to_string()).unwrap_or_default()}
                                    </td>
                                    <td>
                                        <code title=row
                                            .digest
                                            .clone()>{short_digest(&row.digest)}</code>
                                    </td>
                                    <td>
                                        <span class=format!("badge {class}")>{label}</span>
                                    </td>
                                    <td class="num">{format::bytes(row.size)}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </section>
    }
}
