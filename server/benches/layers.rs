//! Benchmark (prints numbers; asserts nothing): reading the layers of the 10,000-tag
//! repository through the BFF, as the storage panel triggers it, against the GitLab double
//! with 20 ms of latency on every GitLab request:
//!
//! - GitLab requests spent on layers, next to the manifests read (distinct image digests
//!   plus index children): one GraphQL request carries 16 manifests, so the requests are
//!   about a sixteenth of the manifests, never more than the manifests;
//! - wall time until every layer is read, and the same again (served from memory);
//! - memory: what the layer store weighs (its own byte count, bounded by
//!   `index.layers_mib`) and the process's RSS growth;
//! - the storage figures it yields (deduplicated bytes against the naive sum).
//!
//! Run: `cargo bench -p server --bench layers [-- --latency-ms 20]`

#![allow(clippy::unwrap_used)]

#[path = "../tests/common/mod.rs"]
mod common;
mod support;

use common::{requests, signed_in, start, Browser};
use domain::storage::RepositoryStorage;
use domain::tags::{TagListPage, TagListView};
use serde_json::json;
use std::time::{Duration, Instant};

const REPOSITORY: u64 = 3;

fn rss_mib() -> f64 {
    support::own_status_kib("VmRSS:") as f64 / 1024.0
}

async fn storage(browser: &Browser) -> RepositoryStorage {
    browser
        .server_fn(
            "repository_storage",
            json!({"instance": "demo", "repository_id": REPOSITORY, "read_layers": true}),
        )
        .await
        .json()
        .await
        .unwrap()
}

async fn until_complete(browser: &Browser) -> (RepositoryStorage, Duration) {
    let started = Instant::now();
    loop {
        let s = storage(browser).await;
        if s.progress.complete || s.progress.error.is_some() {
            return (s, started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let latency = support::number("--latency-ms").unwrap_or(20);
    let server = start(&[("REGISTRY_DASH_DEMO_LATENCY_MS", &latency.to_string())]).await;
    let browser = signed_in(&server, "olivia").await;
    println!("layers benchmark: 10,000 tags, {latency} ms latency per GitLab request");
    // The index first, so the layer figures count only layer work (and the panel's polls).
    let (view, _) = TagListView::from_pairs(&[]);
    loop {
        let page: TagListPage = browser
            .server_fn(
                "tag_list",
                json!({"instance": "demo", "repository_id": REPOSITORY, "view": view}),
            )
            .await
            .json()
            .await
            .unwrap();
        if page.progress.complete {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let rss_before = rss_mib();
    let before = requests(&server);
    let (cold, took) = until_complete(&browser).await;
    let spent = requests(&server) - before;
    let p = &cold.progress;
    println!(
        "cold: {:.1} s; {} GitLab requests for {} manifests ({} images, {} index children), {} \
            unreadable{}",
        took.as_secs_f64(),
        spent,
        p.manifests,
        p.images,
        p.manifests.saturating_sub(p.images),
        p.unreadable,
        p.error
            .as_deref()
            .map(|e| format!("; stopped: {e}"))
            .unwrap_or_default()
    );
    println!(
        "  (the panel's polls and their access checks are in the count: one size query per poll)"
    );
    let again = requests(&server);
    let (_, warm) = until_complete(&browser).await;
    println!(
        "warm: {:.0} ms, {} GitLab requests",
        warm.as_secs_f64() * 1e3,
        requests(&server) - again
    );
    let weighed = server.state.services.gateway.layers.weighted_size();
    println!(
        "memory: layer store {:.1} MiB by its own count; process RSS grew {:.1} MiB",
        weighed as f64 / 1048576.0,
        rss_mib() - rss_before
    );
    let s = &cold.summary;
    println!(
        "figures: {} stored (each blob once, {} blobs) against {} of tag sizes added up; GitLab's \
            own: {}",
        domain::format::bytes(s.unique_bytes),
        s.blobs,
        domain::format::bytes(s.naive_bytes),
        cold.gitlab_size
            .map(domain::format::bytes)
            .unwrap_or_else(|| "none".into())
    );
}
