//! Benchmark (prints numbers; asserts nothing): a group's policy page for a group of 200
//! projects (`--projects N`), each with one image repository, half of them with a policy on
//! and a third of those on another cadence, against the GitLab double with 20 ms of latency
//! on every GitLab request (`--latency-ms`).
//!
//! - page: the whole server-rendered page as a browser loads it (time to first render: the
//!   page arrives complete, rows included), and the GitLab requests it cost;
//! - data: the server function alone, with a standard policy (drift computed);
//! - review: applying that standard to 20 projects reviewed (each project read again, its
//!   tags indexed, what its policy and the standard would delete), first and again;
//! - naive: what a script over GitLab's REST API does for the same facts, one project after
//!   the other: the group's project list (100 per page), then per project its policy
//!   (`GET /projects/:id`) and its repositories with tag counts.
//!
//! Run: `cargo bench -p server --bench group_policies [-- --projects 200 --latency-ms 20]`

#![allow(clippy::unwrap_used)]

#[path = "../tests/common/mod.rs"]
mod common;
mod support;

use common::cluster::{free_port, start_double};
use common::{servers, Browser};
use domain::governance::apply::{ApplyReview, MAX_APPLY_PROJECTS};
use gitlab_double::dataset::{GroupSpec, MemberSpec, Visibility};
use serde_json::json;
use server::config::Config;
use std::time::{Duration, Instant};

const STANDARD: &str = "std_enabled=1&std_cadence=7d&std_keep_n=10&std_older_than=30d\
    &std_name_regex=.*";

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

#[tokio::main]
async fn main() {
    let projects: u64 = support::number("--projects").unwrap_or(200);
    let latency = Duration::from_millis(support::number("--latency-ms").unwrap_or(20));
    let port = free_port();
    let public_url = format!("http://127.0.0.1:{port}");
    let (double, double_url) = start_double(&public_url, |config| {
        config.latency = latency;
        let dataset = &mut config.dataset;
        dataset.groups.push(GroupSpec {
            id: 90,
            full_path: "fleet".into(),
            name: "Fleet".into(),
            visibility: Visibility::Private,
            description: "Many small services".into(),
            created_seconds_ago: 86_400,
            members: vec![MemberSpec {
                username: "maria".into(),
                access_level: 40,
            }],
            deploy_tokens: Vec::new(),
            access_tokens: Vec::new(),
        });
        // Each service: a copy of a small demo project (olivia/secret, one repository).
        let template = dataset
            .projects
            .iter()
            .find(|p| p.path_with_namespace == "olivia/secret")
            .cloned()
            .unwrap();
        for i in 0..projects {
            let mut p = template.clone();
            p.id = 50_000 + i;
            p.path_with_namespace = format!("fleet/service-{i:03}");
            p.name = format!("service-{i:03}");
            p.members = Vec::new();
            p.deploy_tokens = Vec::new();
            p.access_tokens = Vec::new();
            for (j, r) in p.repositories.iter_mut().enumerate() {
                r.id = 50_000 + i * 10 + j as u64;
            }
            p.container_expiration_policy.enabled = i % 2 == 0;
            p.container_expiration_policy.cadence = if i % 3 == 0 { "7d" } else { "1d" }.into();
            dataset.projects.push(p);
        }
    })
    .await;
    let addr = format!("127.0.0.1:{port}");
    let vars: Vec<(String, String)> = [
        ("REGISTRY_DASH_LISTEN", addr.as_str()),
        ("REGISTRY_DASH_PUBLIC_URL", public_url.as_str()),
        ("GITLAB_URL", double_url.as_str()),
        ("GITLAB_NAME", "demo"),
        ("GITLAB_CLIENT_ID", server::demo::DEMO_CLIENT_ID),
        ("GITLAB_CLIENT_SECRET", server::demo::DEMO_CLIENT_SECRET),
        ("REGISTRY_DASH_SITE_ROOT", "target/site"),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .to_vec();
    let config = Config::load(None, &vars).unwrap();
    let _server = servers()
        .spawn(async move { server::start(config).await })
        .await
        .unwrap()
        .unwrap();
    let browser = Browser::at(&public_url);
    browser.sign_in("maria", "/i/demo").await;
    let count = || double.controls().request_count();

    println!(
        "group of {projects} projects, GitLab latency {} ms",
        latency.as_millis()
    );
    let mut page_times = Vec::new();
    let mut page_requests = 0;
    for _ in 0..5 {
        let before = count();
        let started = Instant::now();
        let answer = browser.get("/i/demo/policies/groups/fleet").await;
        assert_eq!(answer.status(), 200);
        let body = answer.text().await.unwrap();
        page_times.push(started.elapsed());
        page_requests = count() - before;
        assert!(body.contains("fleet/service-000"));
    }
    println!(
        "page (server-rendered, complete): median {:.0} ms, {page_requests} GitLab requests",
        median(page_times).as_secs_f64() * 1000.0
    );

    let mut data_times = Vec::new();
    let mut data_requests = 0;
    let mut drifting = 0;
    for _ in 0..5 {
        let before = count();
        let started = Instant::now();
        let page: domain::governance::GroupPolicies = browser
            .server_fn(
                "group_policies",
                json!({"instance": "demo", "group_path": "fleet", "view": STANDARD}),
            )
            .await
            .json()
            .await
            .unwrap();
        data_times.push(started.elapsed());
        data_requests = count() - before;
        drifting = page.summary.drifting;
    }
    println!(
        "data with a standard: median {:.0} ms, {data_requests} GitLab requests, {drifting} \
         projects drift",
        median(data_times).as_secs_f64() * 1000.0
    );

    // The review of applying the standard to as many projects as one review takes: each
    // project read again, its repositories' tags indexed (cold) or cached (warm), both
    // previews and their storage figures.
    let chosen: String = (0..projects.min(MAX_APPLY_PROJECTS as u64))
        .map(|i| format!("&project={}", 50_000 + i))
        .collect();
    for round in ["first", "again"] {
        let before = count();
        let started = Instant::now();
        let review: ApplyReview = browser
            .server_fn(
                "apply_review",
                json!({"instance": "demo", "group_path": "fleet",
                    "view": format!("{STANDARD}{chosen}")}),
            )
            .await
            .json()
            .await
            .unwrap();
        println!(
            "review of applying it to {} projects ({round}): {:.0} ms, {} GitLab requests, {} \
             would change",
            review.projects.len(),
            started.elapsed().as_secs_f64() * 1000.0,
            count() - before,
            review.changing()
        );
    }

    // The naive way, sequential REST: list, then per project its policy and repositories.
    let token = issued_token_for_maria(&double);
    let client = reqwest::Client::new();
    let before = count();
    let started = Instant::now();
    let mut ids = Vec::new();
    for page in 1.. {
        let list: Vec<serde_json::Value> = client
            .get(format!(
                "{double_url}/api/v4/groups/fleet/projects?include_subgroups=true&per_page=100\
                 &page={page}"
            ))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if list.is_empty() {
            break;
        }
        ids.extend(list.iter().filter_map(|p| p["id"].as_u64()));
    }
    for id in &ids {
        for path in [
            format!("/api/v4/projects/{id}"),
            format!("/api/v4/projects/{id}/registry/repositories?tags_count=true"),
        ] {
            let answer = client
                .get(format!("{double_url}{path}"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            assert!(answer.status().is_success());
        }
    }
    println!(
        "naive REST (one project after the other): {:.0} ms, {} GitLab requests",
        started.elapsed().as_secs_f64() * 1000.0,
        count() - before
    );
}

/// maria's token from her sign-in, as a script would hold one.
fn issued_token_for_maria(double: &gitlab_double::Double) -> String {
    double
        .controls()
        .issued_tokens()
        .into_iter()
        .rev()
        .find(|t| t.user_id == 2)
        .unwrap()
        .access_token
}
