//! Benchmark (prints numbers; asserts nothing): the tag index against the GitLab double with
//! 20 ms of latency on every GitLab request, with GitLab's registry metadata database and
//! without it (legacy), each on a fresh server in the same run:
//!
//! - walk: GitLab's own tag page reading every tag: sequential GraphQL pages of 20 along the
//!   cursor chain, with the fields GitLab's UI asks for (the baseline);
//! - cold: the first full index of the 10,000-tag repository, through the BFF as a browser
//!   triggers it;
//! - naive: what a registry UI without an index does: list the names, then one REST detail
//!   request per tag, one after the other (`--naive-sample N` measures N tags and
//!   extrapolates; default 500, 0 skips it);
//! - warm: a filtered and sorted page served from the index (server time on loopback);
//! - memory: the process's peak RSS (BFF and the in-process double) and the growth the index
//!   causes.
//!
//! Run: `cargo bench -p server --bench tag_index [-- --latency-ms 20 --naive-sample 500
//! --mode both|metadata|legacy]`

#![allow(clippy::unwrap_used)]

#[path = "../tests/common/mod.rs"]
mod common;
mod support;

use common::{gitlab_tag_names, issued_token, start, Browser};
use domain::tags::{TagListPage, TagListView};
use serde_json::json;
use std::time::{Duration, Instant};

const REPOSITORY: u64 = 3;
const PROJECT: u64 = 1002;

async fn tag_list(browser: &Browser, query: &str) -> TagListPage {
    let (view, _) = TagListView::from_pairs(&domain::query::parse(query));
    browser
        .server_fn(
            "tag_list",
            json!({ "instance": "demo", "repository_id": REPOSITORY, "view": view }),
        )
        .await
        .json()
        .await
        .unwrap()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

/// GitLab's own tag list query (the fields its registry page asks for), one page of 20.
const GITLAB_UI_TAGS: &str = "
query getContainerRepositoryTags($id: ContainerRepositoryID!, $first: Int, $after: String, \
    $sort: ContainerRepositoryTagSort, $referrers: Boolean = false) {
  containerRepository(id: $id) {
    id
    tagsCount
    userPermissions { destroyContainerRepository }
    tags(after: $after, first: $first, sort: $sort, referrers: $referrers) {
      nodes {
        digest location path name revision publishedAt createdAt shortRevision totalSize
        userPermissions { destroyContainerRepositoryTag }
        referrers @include(if: $referrers) { artifactType digest }
        protection { minimumAccessLevelForPush minimumAccessLevelForDelete }
      }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
}";

/// Time and GitLab requests of one way to read every tag.
struct Run {
    secs: f64,
    requests: u64,
}

/// GitLab's page walking every tag: one GraphQL page of 20 after the other.
async fn walk(gitlab: &str, token: &str, metadata_db: bool) -> (Run, usize) {
    let http = reqwest::Client::new();
    let started = Instant::now();
    let (mut after, mut tags, mut requests): (Option<String>, usize, u64) = (None, 0, 0);
    loop {
        let body: serde_json::Value = http
            .post(format!("{gitlab}/api/graphql"))
            .bearer_auth(token)
            .json(&json!({
                "query": GITLAB_UI_TAGS,
                "variables": {
                    "id": format!("gid://gitlab/ContainerRepository/{REPOSITORY}"),
                    "first": 20,
                    "after": after,
                    "sort": "NAME_ASC",
                    "referrers": metadata_db,
                },
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        requests += 1;
        let connection = &body["data"]["containerRepository"]["tags"];
        assert!(connection.is_object(), "{body}");
        tags += connection["nodes"].as_array().map_or(0, Vec::len);
        if !connection["pageInfo"]["hasNextPage"]
            .as_bool()
            .unwrap_or(false)
        {
            break;
        }
        after = connection["pageInfo"]["endCursor"]
            .as_str()
            .map(String::from);
    }
    let secs = started.elapsed().as_secs_f64();
    (Run { secs, requests }, tags)
}

/// Names through REST, then one REST detail request per tag, one after the other (the
/// details of `sample` tags measured, the rest extrapolated).
async fn naive(gitlab: &str, token: &str, sample: usize) -> (f64, usize, f64) {
    let http = reqwest::Client::new();
    let started = Instant::now();
    let names = gitlab_tag_names(gitlab, token, PROJECT, REPOSITORY).await;
    let listed = started.elapsed();
    let sample = sample.min(names.len()).max(1);
    for name in &names[..sample] {
        let response = http
            .get(format!(
                "{gitlab}/api/v4/projects/{PROJECT}/registry/repositories/{REPOSITORY}/tags/{name}"
            ))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success());
        let _: serde_json::Value = response.json().await.unwrap();
    }
    let per_tag = (started.elapsed() - listed).as_secs_f64() / sample as f64;
    (
        listed.as_secs_f64() + per_tag * names.len() as f64,
        sample,
        per_tag,
    )
}

/// One mode on a fresh server: the walk, the product's cold index, warm pages, naive REST.
async fn mode(latency: u64, metadata_db: bool, naive_sample: usize) {
    let server = start(&[("REGISTRY_DASH_DEMO_LATENCY_MS", &latency.to_string())]).await;
    let controls = server.double.as_ref().unwrap().double.controls();
    controls.set_metadata_db(metadata_db);
    let browser = Browser::new(&server);
    browser.sign_in("olivia", "/i/demo").await;
    let token = issued_token(&server, 1);
    let gitlab = server.double.as_ref().unwrap().base_url.clone();
    let label = if metadata_db {
        "with the metadata database"
    } else {
        "without the metadata database (legacy)"
    };
    println!("\n== {label} ==");

    let before = controls.request_count();
    let (walked, walked_tags) = walk(&gitlab, &token, metadata_db).await;
    let walked = Run {
        requests: controls.request_count() - before,
        ..walked
    };
    println!(
        "GitLab's UI walk: {walked_tags} tags in {:.2} s, {} GitLab requests ({:.1} ms a page)",
        walked.secs,
        walked.requests,
        walked.secs * 1e3 / walked.requests as f64
    );

    // Cold: from the first page request until the index is complete.
    let rss_before = support::own_status_kib("VmRSS:");
    let requests_before = controls.request_count();
    let started = Instant::now();
    let first = tag_list(&browser, "").await;
    let first_page = started.elapsed();
    let mut page = first;
    while !page.progress.complete {
        assert!(page.progress.error.is_none(), "{:?}", page.progress.error);
        tokio::time::sleep(Duration::from_millis(50)).await;
        page = tag_list(&browser, "").await;
    }
    let cold = Run {
        secs: started.elapsed().as_secs_f64(),
        requests: controls.request_count() - requests_before,
    };
    println!(
        "product cold index: first page after {:.0} ms, all {} tags after {:.2} s, {} GitLab \
            requests (with the page's own access check)",
        first_page.as_secs_f64() * 1e3,
        page.progress.indexed,
        cold.secs,
        cold.requests
    );
    let rss_indexed = support::own_status_kib("VmRSS:");
    println!(
        "product against the walk: {:.1}x faster, {:.2}x its requests",
        walked.secs / cold.secs,
        cold.requests as f64 / walked.requests as f64
    );

    // Warm: filtered and sorted pages from the index.
    let queries = [
        "q=%5Ev1%5C.&re=1&sort=size_desc",
        "q=main&sort=name_asc&page=3",
        "older=30d&sort=published_asc&per_page=100",
        "kind=signed&sort=size_asc",
    ];
    let mut timings = Vec::new();
    for round in 0..50 {
        let query = queries[round % queries.len()];
        let t = Instant::now();
        let page = tag_list(&browser, query).await;
        timings.push(t.elapsed());
        assert!(page.progress.complete);
    }
    timings.sort();
    println!(
        "warm filtered+sorted page (server round trip on loopback, 50 requests): median {:.1} ms, \
            p95 {:.1} ms, max {:.1} ms",
        percentile(&timings, 0.5).as_secs_f64() * 1e3,
        percentile(&timings, 0.95).as_secs_f64() * 1e3,
        timings.last().unwrap().as_secs_f64() * 1e3,
    );
    println!(
        "memory: the 10,000-tag index added {:.1} MiB of RSS",
        rss_indexed.saturating_sub(rss_before) as f64 / 1024.0
    );

    if naive_sample > 0 {
        let (secs, sample, per_tag) = naive(&gitlab, &token, naive_sample).await;
        println!(
            "naive REST (names, then one detail request per tag, sequential; {sample} measured at \
                {:.1} ms each, extrapolated): {secs:.1} s, {:.0}x slower than the product",
            per_tag * 1e3,
            secs / cold.secs
        );
    }
}

#[tokio::main]
async fn main() {
    let latency = support::number("--latency-ms").unwrap_or(20);
    let naive_sample = support::number("--naive-sample").unwrap_or(500) as usize;
    let modes: Vec<bool> = match std::env::args()
        .skip_while(|a| a != "--mode")
        .nth(1)
        .as_deref()
    {
        Some("metadata") => vec![true],
        Some("legacy") => vec![false],
        _ => vec![true, false],
    };
    let settings = server::config::IndexSettings::default();
    println!(
        "tag index benchmark: 10,000 tags, {latency} ms latency per GitLab request; index: {} \
            requests in flight per user, {} per minute",
        settings.concurrency, settings.requests_per_minute
    );
    for metadata_db in modes {
        mode(latency, metadata_db, naive_sample).await;
    }
    println!(
        "\nmemory: peak RSS {:.1} MiB (BFF and in-process double, all modes)",
        support::own_status_kib("VmHWM:") as f64 / 1024.0
    );
}
