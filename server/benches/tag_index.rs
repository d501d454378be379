//! Benchmark (prints numbers; asserts nothing): the tag index against the GitLab double with
//! 20 ms of latency on every GitLab request.
//!
//! - cold: the first full index of the 10,000-tag repository, through the BFF as a browser
//!   triggers it;
//! - naive: what a registry UI without an index does: list the names, then one REST detail
//!   request per tag, one after the other (`--naive-sample N` measures N tags and
//!   extrapolates; the default measures all of them);
//! - warm: a filtered and sorted page served from the index (server time on loopback);
//! - memory: the process's peak RSS (BFF and the in-process double) and the growth the index
//!   causes.
//!
//! Run: `cargo bench -p server --bench tag_index [-- --latency-ms 20 --naive-sample 1000]`

#![allow(clippy::unwrap_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use common::{start, Browser};
use domain::tags::{TagListPage, TagListView};
use serde_json::json;
use std::time::{Duration, Instant};

const REPOSITORY: u64 = 3;
const PROJECT: u64 = 1002;

fn arg(name: &str) -> Option<u64> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
}

fn rss_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

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

#[tokio::main]
async fn main() {
    let latency = arg("--latency-ms").unwrap_or(20);
    let naive_sample = arg("--naive-sample");
    let server = start(&[("REGISTRY_DASH_DEMO_LATENCY_MS", &latency.to_string())]).await;
    let browser = Browser::new(&server);
    browser.sign_in("olivia", "/i/demo").await;
    let controls = server.double.as_ref().unwrap().double.controls();
    let rss_before = rss_kib("VmRSS:");
    println!("tag index benchmark: 10,000 tags, {latency} ms latency per GitLab request");
    println!(
        "index settings: {} requests in flight per user, {} requests per minute",
        server.state.services.gateway.indexes.settings.concurrency,
        server
            .state
            .services
            .gateway
            .indexes
            .settings
            .requests_per_minute
    );

    // Cold: from the first page request until the index is complete.
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
    let cold = started.elapsed();
    let cold_requests = controls.request_count() - requests_before;
    println!(
        "cold index: first page after {:.0} ms, all {} tags after {:.2} s, {} GitLab requests",
        first_page.as_secs_f64() * 1e3,
        page.progress.indexed,
        cold.as_secs_f64(),
        cold_requests
    );
    let rss_indexed = rss_kib("VmRSS:");

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
        "warm filtered+sorted page (server round trip on loopback, 50 requests): median {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        percentile(&timings, 0.5).as_secs_f64() * 1e3,
        percentile(&timings, 0.95).as_secs_f64() * 1e3,
        timings.last().unwrap().as_secs_f64() * 1e3,
    );

    // Naive: names, then one detail request per tag, sequentially, with the same token.
    let token = controls
        .issued_tokens()
        .into_iter()
        .rev()
        .find(|t| t.user_id == 1)
        .unwrap()
        .access_token;
    let gitlab = server.double.as_ref().unwrap().base_url.clone();
    let http = reqwest::Client::new();
    let started = Instant::now();
    let mut names = Vec::new();
    for page in 1..=100 {
        let list: Vec<serde_json::Value> = http
            .get(format!(
                "{gitlab}/api/v4/projects/{PROJECT}/registry/repositories/{REPOSITORY}/tags?page={page}&per_page=100"
            ))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        names.extend(
            list.into_iter()
                .filter_map(|t| t["name"].as_str().map(String::from)),
        );
    }
    let listed = started.elapsed();
    let sample = naive_sample.map_or(names.len(), |n| (n as usize).min(names.len()));
    for name in &names[..sample] {
        let response = http
            .get(format!(
                "{gitlab}/api/v4/projects/{PROJECT}/registry/repositories/{REPOSITORY}/tags/{name}"
            ))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success());
        let _: serde_json::Value = response.json().await.unwrap();
    }
    let details = started.elapsed() - listed;
    let per_tag = details.as_secs_f64() / sample as f64;
    let naive = listed.as_secs_f64() + per_tag * names.len() as f64;
    println!(
        "naive sequential fetch: {} list pages in {:.2} s, {} detail requests measured ({:.1} ms each){}: {:.1} s for {} tags",
        100,
        listed.as_secs_f64(),
        sample,
        per_tag * 1e3,
        if sample < names.len() { ", extrapolated" } else { "" },
        naive,
        names.len()
    );
    println!(
        "speed-up of the index over the naive fetch: {:.0}x",
        naive / cold.as_secs_f64()
    );
    println!(
        "memory: peak RSS {:.1} MiB (BFF and in-process double); the 10,000-tag index added {:.1} MiB",
        rss_kib("VmHWM:") as f64 / 1024.0,
        rss_indexed.saturating_sub(rss_before) as f64 / 1024.0
    );
}
