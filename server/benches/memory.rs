//! Memory benchmark (prints numbers; asserts nothing): does the tag index memory bound hold?
//!
//! A GitLab double in this process serves one project with 20 repositories of 10,000
//! generated tags each. The release `registry-dash` binary (a separate process, so its
//! resident memory is its own) is configured for that GitLab with `index.memory_mib` set to
//! `--bound-mib` (64). One signed-in user opens every repository's tag list in turn and waits
//! for its index (or for the message that it was pushed out). The report: the server's
//! resident memory before any index, its peak, and what the index cache holds at the end
//! (from `/metrics`); then the same without a practical bound, for comparison.
//!
//! Run: `cargo bench -p server --bench memory [-- --bound-mib 64 --repositories 20 --tags 10000]`

#![allow(clippy::unwrap_used)]

#[path = "../tests/common/mod.rs"]
mod common;
mod support;

use common::Browser;
use gitlab_double::{Dataset, Double, DoubleConfig, OAuthApp};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use support::{arg, ServerProcess};

fn dataset(repositories: u64, tags: u64) -> Dataset {
    let repos: Vec<Value> = (1..=repositories)
        .map(|id| {
            json!({"id": id, "name": format!("image-{id:02}"),
                   "generate": {"tags": tags, "seed": id}})
        })
        .collect();
    let data = json!({
        "users": [{"id": 1, "username": "ada", "name": "Ada", "email": "ada@example.test"}],
        "groups": [{"id": 10, "full_path": "lab", "name": "Lab", "visibility": "private",
                    "members": [{"username": "ada", "access_level": 40}]}],
        "projects": [{"id": 100, "path_with_namespace": "lab/app", "name": "App",
                      "visibility": "private", "repositories": repos}]
    });
    Dataset::from_json_str(&data.to_string()).unwrap()
}

/// The binary configured for the double at `gitlab`, with the given index memory bound.
fn start(gitlab: &str, bound_mib: u64) -> ServerProcess {
    let dir = std::env::temp_dir().join(format!("rd-memory-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\n[index]\nmemory_mib = {bound_mib}\n[[instances]]\nname = \
                \"lab\"\nbase_url = \"{gitlab}\"\nclient_id = \"bench\"\nclient_secret = \
                \"bench-secret\"\n"
        ),
    )
    .unwrap();
    let mut env: Vec<(&str, String)> = vec![
        // Index as fast as the double answers: this measures memory, not GitLab's limit.
        ("REGISTRY_DASH_REQUESTS_PER_MINUTE", "1000000".into()),
    ];
    // Allocator knobs (MALLOC_ARENA_MAX, …) pass through, for experiments.
    let malloc: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| k.starts_with("MALLOC_"))
        .collect();
    env.extend(malloc.iter().map(|(k, v)| (k.as_str(), v.clone())));
    ServerProcess::start(&["--config", config.to_str().unwrap()], &env)
}

fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

async fn measure(double: &Double, gitlab: &str, bound_mib: u64, repositories: u64) {
    let server = start(gitlab, bound_mib);
    double
        .controls()
        .register_redirect_uri("bench", &format!("{}/auth/callback/lab", server.base));
    let browser = Browser::at(&server.base);
    let authorize = {
        let login = browser
            .client
            .get(browser.url("/auth/login?instance=lab&return_to=/i/lab"))
            .send()
            .await
            .unwrap();
        url::Url::parse(common::location(login.headers())).unwrap()
    };
    let callback = browser.approve_at_gitlab(&authorize, "ada").await;
    browser.finish_login(&callback).await;
    assert_eq!(
        browser.get("/api/v1/lab/user").await.status(),
        reqwest::StatusCode::OK
    );
    let (_, baseline) = server.rss();
    let started = Instant::now();
    let mut indexed = 0;
    for id in 1..=repositories {
        loop {
            let page: Value = browser
                .get(&format!("/api/v1/lab/repositories/{id}/tags?per_page=20"))
                .await
                .json()
                .await
                .unwrap();
            if page["progress"]["complete"] == true {
                indexed += 1;
                break;
            }
            if page["progress"]["error"].is_string() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let elapsed = started.elapsed();
    let metrics = browser.get("/metrics").await.text().await.unwrap();
    let (peak, now) = server.rss();
    println!(
        "index memory bound {bound_mib} MiB: {indexed} of {repositories} repositories indexed in \
            {:.1} s",
        elapsed.as_secs_f64()
    );
    println!(
        "  server RSS: before any index {baseline:.0} MiB, peak {peak:.0} MiB (+{:.0}), at the end \
            {now:.0} MiB",
        peak - baseline
    );
    println!(
        "  index cache at the end: {} indexes, {:.1} MiB by its own estimate",
        metric(&metrics, "registry_dash_tag_indexes"),
        metric(&metrics, "registry_dash_tag_index_bytes") / 1024.0 / 1024.0
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let bound: u64 = arg("--bound-mib", "64").parse().unwrap();
    let repositories: u64 = arg("--repositories", "20").parse().unwrap();
    let tags: u64 = arg("--tags", "10000").parse().unwrap();
    let started = Instant::now();
    let running = Double::spawn(DoubleConfig {
        dataset: dataset(repositories, tags),
        clients: vec![OAuthApp {
            client_id: "bench".into(),
            client_secret: "bench-secret".into(),
            redirect_uris: vec![],
            name: "memory bench".into(),
            confidential: true,
        }],
        metadata_db: true,
        ..DoubleConfig::default()
    })
    .await
    .unwrap();
    println!(
        "GitLab double with {repositories} repositories of {tags} tags ready in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    measure(&running.double, &running.base_url, bound, repositories).await;
    measure(&running.double, &running.base_url, 4096, repositories).await;
}
