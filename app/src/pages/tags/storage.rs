//! A repository's storage as it really is: blobs counted once however many tags share them,
//! GitLab's own figure where it has one, and the largest layers with how many tags use each.
//! Rendered on the server with whatever layers are read so far; the hydrated page polls
//! until reading is complete.

use domain::format;
use domain::storage::RepositoryStorage;
use domain::tags::short_digest;
use leptos::prelude::*;
use std::time::Duration;

use crate::components::ErrorView;
use crate::pages::instance::use_instance;
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
    let data = Resource::new(
        move || {
            (
                instance.get(),
                repository_id.get(),
                version.get(),
                changed.get(),
            )
        },
        |(instance, id, _, _)| async move {
            match id {
                Some(id) => Some(load_repository_storage(instance, id).await),
                None => None,
            }
        },
    );
    Effect::new(move |_| {
        if let Some(Some(Ok(s))) = data.get() {
            if !s.progress.complete && s.progress.error.is_none() {
                set_timeout(
                    move || version.update(|v| *v += 1),
                    Duration::from_millis(2000),
                );
            }
        }
    });
    view! {
        <section class="panel storage-panel" aria-labelledby="storage-title" data-testid="storage-panel">
            <h2 id="storage-title">"Storage"</h2>
            <Transition fallback=|| view! { <p class="muted" role="status">"Reading layers…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        None => ().into_any(),
                        Some(Err(error)) => view! { <ErrorView error /> }.into_any(),
                        Some(Ok(storage)) => view! { <StorageBody storage /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn StorageBody(storage: RepositoryStorage) -> impl IntoView {
    let s = storage.summary.clone();
    let p = storage.progress.clone();
    let saved = s.naive_bytes.saturating_sub(s.unique_bytes);
    let reading = !p.complete && p.error.is_none();
    view! {
        <dl class="storage-figures">
            <div>
                <dt>"Stored, each layer once"</dt>
                <dd data-testid="unique-bytes">{format::bytes(s.unique_bytes)}</dd>
                <dd class="muted small">{format!("{} blobs of {} images, from the layers the dashboard read", format::count(s.blobs), format::count(s.images_known))}</dd>
            </div>
            {storage.gitlab_size.map(|size| view! {
                <div>
                    <dt>"GitLab’s own figure"</dt>
                    <dd data-testid="gitlab-size">{format::bytes(size)}</dd>
                    <dd class="muted small">"from the metadata database"</dd>
                </div>
            })}
            <div>
                <dt>"Tag sizes added up"</dt>
                <dd data-testid="naive-sum">{format::bytes(s.naive_bytes)}</dd>
                <dd class="muted small">{if saved > 0 {
                    format!("counts shared layers once per tag: {} more than is stored", format::bytes(saved))
                } else {
                    "no layer is shared between tags".to_string()
                }}</dd>
            </div>
        </dl>
        {(!p.complete).then(|| view! {
            <p class="muted small" role="status" data-testid="storage-progress">
                {if reading { "Reading layers: " } else { "Partial: " }}
                {format!("{} of {} images", format::count(p.images_known), format::count(p.images))}
                {(p.unreadable > 0).then(|| format!(" ({} unreadable)", format::count(p.unreadable)))}
                {reading.then(|| view! { " " <progress max=p.images.max(1) value=p.images_known></progress> })}
            </p>
        })}
        {p.error.clone().map(|e| view! { <p class="notice">{e}</p> })}
        {(!s.largest.is_empty()).then(|| view! {
            <h3>"Largest layers"</h3>
            <table class="data-table" data-testid="largest-layers">
                <thead><tr>
                    <th scope="col">"Layer"</th><th scope="col" class="num">"Size"</th>
                    <th scope="col" class="num">"Tags using it"</th><th scope="col" class="num">"Images"</th>
                </tr></thead>
                <tbody>
                    {s.largest.iter().map(|l| view! {
                        <tr>
                            <td><code title=l.digest.clone()>{short_digest(&l.digest)}</code></td>
                            <td class="num">{format::bytes(l.size)}</td>
                            <td class="num">{format::count(l.tags)}</td>
                            <td class="num">{format::count(l.images)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        })}
    }
}
