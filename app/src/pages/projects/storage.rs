//! A project's storage across its repositories: every blob counted once however many tags
//! and repositories use it (GitLab stores a blob once per namespace), next to GitLab's own
//! project figure where the metadata database computes one, each repository's share, and the
//! largest layers with the tags and repositories using each. Rendered on the server with the
//! layers read so far; the hydrated page polls until reading is complete.

use domain::format;
use domain::storage::{LayerProgress, ProjectStorage, RepositoryShare};
use leptos::prelude::*;
use leptos_meta::Title;
use std::time::Duration;

use crate::components::{Loaded, Poller};
use crate::links;
use crate::pages::instance::use_instance;
use crate::pages::projects::Breadcrumbs;
use crate::pages::tags::storage::LargestLayers;
use crate::pages::use_query_pairs;
use crate::server_fns::projects::load_project_storage;

/// `/i/:instance/storage/*path` (`?layers=1` reads the layers of large repositories too).
#[component]
pub fn ProjectStoragePage() -> impl IntoView {
    let instance = use_instance();
    let project_path = crate::pages::use_path_param();
    let pairs = use_query_pairs();
    let read_layers =
        Memo::new(move |_| pairs.get().iter().any(|(k, v)| k == "layers" && v == "1"));
    let version = RwSignal::new(0u32);
    let data = Resource::new(
        move || {
            (
                instance.get(),
                project_path.get(),
                read_layers.get(),
                version.get(),
            )
        },
        |(instance, path, read, _)| load_project_storage(instance, path, read),
    );
    let poller = Poller::new();
    Effect::new(move |_| {
        if let Some(Ok(s)) = data.get() {
            if s.repositories
                .iter()
                .any(|r| reading(&r.progress, r.on_request))
            {
                poller.again(Duration::from_millis(2000), move || {
                    version.update(|v| *v += 1)
                });
            }
        }
    });
    view! {
        <Title text=move || format!("Storage · {}", project_path.try_get().unwrap_or_default()) />
        <Loaded resource=data let:storage>
            {
                let instance = instance.get_untracked();
                let path = project_path.get_untracked();
                view! {
                    <Breadcrumbs instance=instance.clone() path=path.clone() />
                    <div class="page-head">
                        <div>
                            <h1>"Storage"</h1>
                            <p class="muted">
                                <a href=links::project(&instance, &path)>"Image repositories"</a>
                                " · "
                                <a href=links::cleanup(&instance, &path)>"Cleanup policy"</a>
                            </p>
                        </div>
                    </div>
                    <StorageView instance path storage />
                }
            }
        </Loaded>
    }
}

/// Layers are still being read (and will be, without anyone asking).
fn reading(p: &LayerProgress, on_request: bool) -> bool {
    !on_request && !p.complete && p.error.is_none()
}

#[component]
fn StorageView(instance: String, path: String, storage: ProjectStorage) -> impl IntoView {
    let s = storage;
    if s.repositories.is_empty() {
        return view! {
            <div class="empty-state">
                <h2>"No container images in this project yet"</h2>
                <p>"Storage appears here once images are pushed."</p>
            </div>
        }
        .into_any();
    }
    let read: Vec<&RepositoryShare> = s.repositories.iter().filter(|r| !r.on_request).collect();
    let waiting: Vec<&RepositoryShare> = s.repositories.iter().filter(|r| r.on_request).collect();
    let (known, images) = read.iter().fold((0, 0), |(k, i), r| {
        (k + r.progress.images_known, i + r.progress.images)
    });
    let in_progress = read.iter().any(|r| reading(&r.progress, false));
    let double_counted = s.repositories_bytes.saturating_sub(s.unique_bytes);
    let over_tags = s.naive_bytes.saturating_sub(s.unique_bytes);
    let read_href = format!("{}?layers=1", links::project_storage(&instance, &path));
    let requests: u64 = waiting.iter().map(|r| r.progress.images.div_ceil(16)).sum();
    let waiting_images: u64 = waiting.iter().map(|r| r.progress.images).sum();
    view! {
        <section
            class="panel storage-panel"
            aria-labelledby="project-storage-title"
            data-testid="project-storage"
        >
            <h2 id="project-storage-title">"Across the project"</h2>
            <dl class="storage-figures">
                <div>
                    <dt>"Stored, each layer once"</dt>
                    <dd data-testid="unique-bytes">{format::bytes(s.unique_bytes)}</dd>
                    <dd class="muted small">
                        {format!(
                            "{} blobs in {}, from the layers the dashboard read",
                            format::count(s.blobs),
                            format::plural(read.len() as u64, "repository", "repositories"),
                        )}
                    </dd>
                </div>
                {s
                    .gitlab_size
                    .map(|size| {
                        view! {
                            <div>
                                <dt>"GitLab’s own figure"</dt>
                                <dd data-testid="gitlab-size">{format::bytes(size)}</dd>
                                <dd class="muted small">
                                    "project statistics, from the metadata database"
                                </dd>
                            </div>
                        }
                    })}
                <div>
                    <dt>"Repositories added up"</dt>
                    <dd data-testid="repositories-sum">{format::bytes(s.repositories_bytes)}</dd>
                    <dd class="muted small">
                        {if double_counted > 0 {
                            format!(
                                "counts layers the repositories share once per repository: {} more \
                                    than is stored",
                                format::bytes(double_counted),
                            )
                        } else {
                            "no layer is shared between repositories".to_string()
                        }}
                    </dd>
                </div>
                <div>
                    <dt>"Tag sizes added up"</dt>
                    <dd data-testid="naive-sum">{format::bytes(s.naive_bytes)}</dd>
                    <dd class="muted small">
                        {format!(
                            "what adding GitLab’s tag sizes gives: {} more than is stored",
                            format::bytes(over_tags),
                        )}
                    </dd>
                </div>
            </dl>
            {(s.gitlab_size.is_none())
                .then(|| {
                    view! {
                        <p class="muted small">
                            "GitLab reports no project figure here (it needs the registry’s \
                                metadata database and at least the Reporter role): the figures \
                                above are the dashboard’s own count."
                        </p>
                    }
                })}
            {(!s.complete && !read.is_empty())
                .then(|| {
                    view! {
                        <p class="muted small" role="status" data-testid="storage-progress">
                            {if in_progress { "Reading layers: " } else { "Partial: " }}
                            {format!(
                                "{} of {} images",
                                format::count(known),
                                format::count(images),
                            )}
                            {in_progress
                                .then(|| {
                                    view! {
                                        " "
                                        <progress
                                            aria-label="Layers read"
                                            max=images.max(1)
                                            value=known
                                        ></progress>
                                    }
                                })}
                        </p>
                    }
                })}
            {(!waiting.is_empty())
                .then(|| {
                    view! {
                        <p class="notice" data-testid="layers-on-request">
                            {format!(
                                "{} with {} in all {} not counted yet: reading their layers takes \
                                    about {} to GitLab from your rate limit.",
                                format::plural(
                                    waiting.len() as u64,
                                    "large repository",
                                    "large repositories",
                                ),
                                format::plural(waiting_images, "image", "images"),
                                if waiting.len() == 1 { "is" } else { "are" },
                                format::plural(requests, "request", "requests"),
                            )}
                            " "
                            <a class="button" href=read_href data-testid="read-layers">
                                "Read layers"
                            </a>
                        </p>
                    }
                })}
            {s
                .truncated
                .then(|| {
                    view! {
                        <p class="notice">
                            "This project has more repositories than the dashboard counts at once: \
                                the figures cover the first 100 by name."
                        </p>
                    }
                })}
            <h3 id="shares-title">"Repositories"</h3>
            <table
                class="data-table"
                data-testid="repository-shares"
                aria-labelledby="shares-title"
            >
                <thead>
                    <tr>
                        <th scope="col">"Repository"</th>
                        <th scope="col" class="num">
                            "Tags"
                        </th>
                        <th scope="col" class="num">
                            "Stored, each layer once"
                        </th>
                        <th scope="col" class="num">
                            "Of which shared"
                        </th>
                        <th scope="col" class="num">
                            "Tag sizes added up"
                        </th>
                        <th scope="col">"Layers"</th>
                    </tr>
                </thead>
                <tbody>
                    {s
                        .repositories
                        .iter()
                        .map(|r| {
                            view! {
                                <tr>
                                    <td>
                                        <a href=links::repository(
                                            &instance,
                                            r.id,
                                        )>{r.path.clone()}</a>
                                    </td>
                                    <td class="num">{format::count(r.tags)}</td>
                                    <td class="num">
                                        {if r.on_request {
                                            "—".to_string()
                                        } else {
                                            format::bytes(r.unique_bytes)
                                        }}
                                    </td>
                                    <td
                                        class="num"
                                        title="Bytes of layers another repository of the project \
                                        uses too: deleting this repository does not free them"
                                    >
                                        {if r.on_request {
                                            "—".to_string()
                                        } else {
                                            format::bytes(r.shared_bytes)
                                        }}
                                    </td>
                                    <td class="num">{format::bytes(r.naive_bytes)}</td>
                                    <td>{status(r)}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
            <LargestLayers rows=s
                .largest
                .iter()
                .map(|l| (l.layer.clone(), Some(l.repositories)))
                .collect() />
        </section>
    }
    .into_any()
}

/// How far one repository's layers are, in words.
fn status(r: &RepositoryShare) -> String {
    let p = &r.progress;
    if r.on_request {
        return format!("not read ({})", format::plural(p.images, "image", "images"));
    }
    if let Some(error) = &p.error {
        return format!("stopped: {error}");
    }
    if p.complete {
        return match p.unreadable {
            0 => "all read".to_string(),
            n => format!("all read ({} unreadable)", format::count(n)),
        };
    }
    format!(
        "reading: {} of {} images",
        format::count(p.images_known),
        format::count(p.images)
    )
}
