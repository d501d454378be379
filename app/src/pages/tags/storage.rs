//! A repository's storage as it really is: blobs counted once however many tags share them,
//! GitLab's own figure where it has one, and the largest layers with how many tags use each.
//! Rendered on the server with whatever layers are read so far; the hydrated page polls
//! until reading is complete.

use domain::format;
use domain::shape::{Bucket, RepositoryShape};
use domain::storage::{LayerUse, RepositoryStorage};
use domain::tags::short_digest;
use leptos::prelude::*;
use std::time::Duration;

use crate::components::{ErrorView, Poller};
use crate::links;
use crate::pages::instance::use_instance;
use crate::pages::use_query_pairs;
use crate::server_fns::tags::load_repository_storage;

/// The storage panel of `/i/:instance/repositories/:id`.
#[component]
pub fn StoragePanel(
    repository_id: Memo<Option<u64>>,
    /// Bumped after deletions through the page.
    changed: RwSignal<u32>,
) -> impl IntoView {
    let instance = use_instance();
    let version = RwSignal::new(0u32);
    let pairs = use_query_pairs();
    // `layers=1` in the URL: read the layers of a large repository too.
    let read_layers =
        Memo::new(move |_| pairs.get().iter().any(|(k, v)| k == "layers" && v == "1"));
    // The same page asking for layers: the list's own state stays.
    let read_href = Memo::new(move |_| {
        let kept: Vec<(String, String)> = pairs
            .get()
            .into_iter()
            .filter(|(k, _)| k != "layers")
            .chain([("layers".to_string(), "1".to_string())])
            .collect();
        let kept: Vec<(&str, String)> = kept.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        domain::query::build(&kept)
    });
    let data = Resource::new(
        move || {
            (
                instance.get(),
                repository_id.get(),
                read_layers.get(),
                version.get(),
                changed.get(),
            )
        },
        |(instance, id, read, _, _)| async move {
            match id {
                Some(id) => Some(load_repository_storage(instance, id, read).await),
                None => None,
            }
        },
    );
    let poller = Poller::new();
    Effect::new(move |_| {
        if let Some(Some(Ok(s))) = data.get() {
            if !s.progress.complete && s.progress.error.is_none() && !s.on_request {
                poller.again(Duration::from_millis(2000), move || {
                    version.update(|v| *v += 1)
                });
            }
        }
    });
    view! {
        <section
            class="panel storage-panel"
            aria-labelledby="storage-title"
            data-testid="storage-panel"
        >
            <h2 id="storage-title">"Storage"</h2>
            <Transition fallback=|| {
                view! {
                    <p class="muted" role="status">
                        "Reading layers…"
                    </p>
                }
            }>
                {move || Suspend::new(async move {
                    match data.await {
                        None => ().into_any(),
                        Some(Err(error)) => view! { <ErrorView error /> }.into_any(),
                        Some(Ok(storage)) => {
                            view! {
                                <StorageBody
                                    storage=storage.clone()
                                    read_href=read_href.get_untracked()
                                />
                                <ShapeView instance=instance.get_untracked() storage />
                            }
                                .into_any()
                        }
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn StorageBody(storage: RepositoryStorage, read_href: String) -> impl IntoView {
    let s = storage.summary.clone();
    let p = storage.progress.clone();
    let saved = s.naive_bytes.saturating_sub(s.unique_bytes);
    let reading = !p.complete && p.error.is_none();
    if storage.on_request {
        let requests = p.images.div_ceil(16);
        return view! {
            <dl class="storage-figures">
                {storage
                    .gitlab_size
                    .map(|size| {
                        view! {
                            <div>
                                <dt>"GitLab’s own figure"</dt>
                                <dd data-testid="gitlab-size">{format::bytes(size)}</dd>
                                <dd class="muted small">
                                    "from the metadata database, each layer once"
                                </dd>
                            </div>
                        }
                    })} <div>
                    <dt>"Tag sizes added up"</dt>
                    <dd data-testid="naive-sum">{format::bytes(s.naive_bytes)}</dd>
                    <dd class="muted small">"counts layers shared between tags once per tag"</dd>
                </div>
            </dl>
            <p class="notice" data-testid="layers-on-request">
                {format!(
                    "This repository has {}. Reading their layers, to count each layer once and \
                        show the largest, takes about {} to GitLab from your rate limit.",
                    format::plural(p.images, "image", "images"),
                    format::plural(requests, "request", "requests"),
                )}
                " "
                <a class="button" href=read_href data-testid="read-layers">
                    "Read layers"
                </a>
            </p>
        }
        .into_any();
    }
    view! {
        <dl class="storage-figures">
            <div>
                <dt>"Stored, each layer once"</dt>
                <dd data-testid="unique-bytes">{format::bytes(s.unique_bytes)}</dd>
                <dd class="muted small">
                    {format!(
                        "{} blobs of {} images, from the layers the dashboard read",
                        format::count(s.blobs),
                        format::count(s.images_known),
                    )}
                </dd>
            </div>
            {storage
                .gitlab_size
                .map(|size| {
                    view! {
                        <div>
                            <dt>"GitLab’s own figure"</dt>
                            <dd data-testid="gitlab-size">{format::bytes(size)}</dd>
                            <dd class="muted small">"from the metadata database"</dd>
                        </div>
                    }
                })}
            <div>
                <dt>"Tag sizes added up"</dt>
                <dd data-testid="naive-sum">{format::bytes(s.naive_bytes)}</dd>
                <dd class="muted small">
                    {if saved > 0 {
                        format!(
                            "counts shared layers once per tag: {} more than is stored",
                            format::bytes(saved),
                        )
                    } else {
                        "no layer is shared between tags".to_string()
                    }}
                </dd>
            </div>
        </dl>
        {(!p.complete)
            .then(|| {
                view! {
                    <p class="muted small" role="status" data-testid="storage-progress">
                        {if reading { "Reading layers: " } else { "Partial: " }}
                        {format!(
                            "{} of {} images",
                            format::count(p.images_known),
                            format::count(p.images),
                        )}
                        {(p.unreadable > 0)
                            .then(|| format!(" ({} unreadable)", format::count(p.unreadable)))}
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
            })}
        {p.error.clone().map(|e| view! { <p class="notice">{e}</p> })}
        <LargestLayers rows=s.largest.iter().map(|l| (l.clone(), None)).collect() />
    }
    .into_any()
}

/// The largest layers: size, and the tags, images (and, across a project, repositories)
/// using each.
#[component]
pub(crate) fn LargestLayers(rows: Vec<(LayerUse, Option<u64>)>) -> impl IntoView {
    if rows.is_empty() {
        return ().into_any();
    }
    let across = rows.iter().any(|(_, r)| r.is_some());
    view! {
        <h3 id="largest-title">"Largest layers"</h3>
        <table class="data-table" data-testid="largest-layers" aria-labelledby="largest-title">
            <thead>
                <tr>
                    <th scope="col">"Layer"</th>
                    <th scope="col" class="num">
                        "Size"
                    </th>
                    <th scope="col" class="num">
                        "Tags using it"
                    </th>
                    <th scope="col" class="num">
                        "Images"
                    </th>
                    {across
                        .then(|| {
                            view! {
                                <th scope="col" class="num">
                                    "Repositories"
                                </th>
                            }
                        })}
                </tr>
            </thead>
            <tbody>
                {rows
                    .into_iter()
                    .map(|(l, repositories)| {
                        view! {
                            <tr>
                                <td>
                                    <code title=l.digest.clone()>{short_digest(&l.digest)}</code>
                                </td>
                                <td class="num">{format::bytes(l.size)}</td>
                                <td class="num">{format::count(l.tags)}</td>
                                <td class="num">{format::count(l.images)}</td>
                                {repositories
                                    .map(|r| view! { <td class="num">{format::count(r)}</td> })}
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// One bar: its label, its figures and the tag list it opens.
struct Bar {
    label: String,
    tags: u64,
    bytes: u64,
    href: Option<String>,
}

/// Bars (tags per slice, with their storage), each a link to the filtered tag list: HTML
/// rows whose bar is a small SVG, so labels stay readable text at any width, links stay
/// plain links without JavaScript, and colours follow the theme (light and dark).
#[component]
fn BarChart(
    id: &'static str,
    title: String,
    bars: Vec<Bar>,
    bytes_label: &'static str,
) -> impl IntoView {
    let max = bars.iter().map(|b| b.tags).max().unwrap_or(0).max(1);
    let title_id = format!("{id}-title");
    view! {
        <figure class="chart" data-testid=id>
            <figcaption id=title_id.clone()>{title}</figcaption>
            <ul class="bars" aria-labelledby=title_id>
                {bars
                    .into_iter()
                    .map(|bar| {
                        let width = if bar.tags == 0 { 0 } else { ((bar.tags * 100) / max).max(1) };
                        let figures = format!(
                            "{} · {}",
                            format::plural(bar.tags, "tag", "tags"),
                            format::bytes(bar.bytes),
                        );
                        let title = format!("{}: {figures} {bytes_label}", bar.label);
                        let row = // Percent of the widest bar; a non-empty slice always shows.
                        view! {
                            <span class="bar-label">{bar.label.clone()}</span>
                            <svg
                                class="bar-track"
                                viewBox="0 0 100 10"
                                preserveAspectRatio="none"
                                aria-hidden="true"
                            >
                                <rect class="bar" x="0" y="0" width=width height="10" rx="1"></rect>
                            </svg>
                            <span class="bar-value">{figures}</span>
                        };
                        match bar.href.filter(|_| bar.tags > 0) {
                            Some(href) => {
                                view! {
                                    <li>
                                        <a class="bar-row" href=href title=title data-bar=bar.label>
                                            {row}
                                        </a>
                                    </li>
                                }
                                    .into_any()
                            }
                            None => {
                                view! {
                                    <li>
                                        <span class="bar-row" title=title data-bar=bar.label>
                                            {row}
                                        </span>
                                    </li>
                                }
                                    .into_any()
                            }
                        }
                    })
                    .collect_view()}
            </ul>
        </figure>
    }
}

fn bucket_bars(base: &str, buckets: &[Bucket]) -> Vec<Bar> {
    buckets
        .iter()
        .map(|b| Bar {
            label: b.label.clone(),
            tags: b.tags,
            bytes: b.bytes,
            href: (!b.query.is_empty()).then(|| {
                let pairs: Vec<(&str, String)> = b
                    .query
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.clone()))
                    .collect();
                format!("{base}{}", domain::query::build(&pairs))
            }),
        })
        .collect()
}

/// Age, size and name-family charts; sidecar tags under their subjects; an import warning.
#[component]
fn ShapeView(instance: String, storage: RepositoryStorage) -> impl IntoView {
    let shape: RepositoryShape = storage.shape.clone();
    let base = links::repository(&instance, storage.repository_id);
    let bytes_label = if shape.deduplicated {
        "stored (each layer once within the slice)"
    } else {
        "of tag sizes added up"
    };
    let families: Vec<Bar> = shape
        .families
        .iter()
        .map(|f| Bar {
            label: f.family.label().to_string(),
            tags: f.tags,
            bytes: f.bytes,
            href: Some(format!(
                "{base}{}",
                domain::query::build(&[("family", f.family.as_param().to_string())])
            )),
        })
        .collect();
    let sidecar_total = shape.sidecar_tags;
    let sidecars = shape
        .sidecars
        .iter()
        .map(|g| {
            view! {
                <li>
                    <a href=links::tag(
                        &instance,
                        storage.repository_id,
                        &g.subject,
                    )>{g.subject.clone()}</a>
                    " "
                    {g
                        .sidecars
                        .iter()
                        .map(|(name, kind)| {
                            view! {
                                <a
                                    class="badge"
                                    href=links::tag(&instance, storage.repository_id, name)
                                    title=name.clone()
                                >
                                    {kind.label()}
                                </a>
                                " "
                            }
                        })
                        .collect_view()}
                </li>
            }
        })
        .collect_view();
    view! {
        <h3 id="shape-title">"Shape"</h3>
        <p class="muted small">
            {if shape.deduplicated {
                "Storage per slice counts each layer once within the slice."
            } else {
                "Storage per slice adds up tag sizes until every layer is read."
            }} " Each bar opens the tag list filtered to it."
        </p>
        {shape
            .import_batch
            .clone()
            .map(|batch| {
                view! {
                    <p class="notice" data-testid="import-batch">
                        {format::plural(batch.tags, "tag", "tags")}
                        " of "
                        {format::plural(batch.images, "image", "images")}
                        " share one published time, "
                        <time datetime=batch
                            .published_at
                            .to_string()>{format::exact_unix(batch.published_at)}</time>
                        ": most likely an import into GitLab’s metadata database, which stamps \
                            every imported tag with the import time. Age filters and a cleanup \
                            policy’s older_than treat them as one batch, however old the images \
                            really are."
                    </p>
                }
            })}
        <div class="charts">
            <BarChart
                id="chart-age"
                title="By age".to_string()
                bars=bucket_bars(&base, &shape.by_age)
                bytes_label
            />
            <BarChart
                id="chart-size"
                title="By size".to_string()
                bars=bucket_bars(&base, &shape.by_size)
                bytes_label
            />
            <BarChart id="chart-family" title="By name".to_string() bars=families bytes_label />
        </div>
        {(sidecar_total > 0)
            .then(|| {
                view! {
                    <h3>"Signatures, attestations and SBOMs"</h3>
                    <p class="muted small">
                        {format!(
                            "{} stored as tags next to the images they describe. GitLab’s cleanup \
                                counts them like any other tag.",
                            format::plural(sidecar_total, "sidecar tag is", "sidecar tags are"),
                        )}
                        {(shape.orphan_sidecars > 0)
                            .then(|| {
                                format!(
                                    " {} describe an image no tag points at any more.",
                                    format::count(shape.orphan_sidecars),
                                )
                            })}
                    </p>
                    <ul class="sidecars" data-testid="sidecars">
                        {sidecars}
                    </ul>
                }
            })}
    }
}
