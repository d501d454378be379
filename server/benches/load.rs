//! Load benchmark (prints numbers; asserts nothing): many signed-in users on warm views.
//!
//! Starts the release `registry-dash` binary in demo mode (the GitLab double in its process,
//! every GitLab request delayed by `--latency-ms`), signs in `--users` browsers through the
//! real OAuth flow (sessions of the demo users in turn, so each has its own token and its
//! own caches), warms the 10,000-tag repository's index, then lets every user loop for
//! `--secs` seconds: think for a random time (exponential, mean `--think-ms`), then one of
//!
//! - the JSON API's tag list with an RE2 filter and a size sort (50 %),
//! - the server-rendered tag page with a name filter (30 %),
//! - the tag list server function the hydrated page calls (20 %).
//!
//! Scenarios: `normal`; `faults`: the same with 10 % of GitLab requests failing with a 5xx
//! and, from 20 s to 30 s, GitLab's rate limit at 60 requests per minute (a 429 burst).
//! Reports requests/s, latency percentiles, answers other than 200 by status, and the
//! server process's peak and final RSS (BFF and its in-process double).
//!
//! Run: `cargo bench -p server --bench load [-- --users 500 --secs 60 --think-ms 2000
//! --latency-ms 5 --scenario all|normal|faults]`

#![allow(clippy::unwrap_used)]

#[path = "../tests/common/mod.rs"]
mod common;
mod support;

use serde_json::{json, Value};
use std::time::{Duration, Instant};
use support::traffic::{run, sign_in_all, wait_complete, warm, Report};
use support::{arg, ServerProcess};

struct Args {
    users: usize,
    secs: u64,
    think_ms: u64,
    latency_ms: u64,
    scenario: String,
}

fn args() -> Args {
    Args {
        users: arg("--users", "500").parse().unwrap(),
        secs: arg("--secs", "60").parse().unwrap(),
        think_ms: arg("--think-ms", "2000").parse().unwrap(),
        latency_ms: arg("--latency-ms", "5").parse().unwrap(),
        scenario: arg("--scenario", "all"),
    }
}

/// The binary in demo mode, the benchmark its only client.
fn start(latency_ms: u64) -> ServerProcess {
    ServerProcess::start(
        &["--demo"],
        &[
            ("REGISTRY_DASH_DEMO_LATENCY_MS", latency_ms.to_string()),
            // No per-credential API cap in the way of the measurement.
            ("REGISTRY_DASH_API_REQUESTS_PER_MINUTE", "100000".into()),
        ],
    )
}

async fn controls(server: &ServerProcess, body: Value) {
    let double = server.double.as_deref().unwrap();
    reqwest::Client::new()
        .post(format!("{double}/-/double/controls"))
        .json(&body)
        .send()
        .await
        .unwrap();
}

fn print(name: &str, report: &Report, server: &ServerProcess) {
    println!("{name}:");
    report.print();
    let (peak, now) = server.rss();
    println!("  server RSS: peak {peak:.0} MiB, now {now:.0} MiB");
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = args();
    let server = start(args.latency_ms);
    println!(
        "registry-dash {} on {}; {} users, {} s, think {} ms (mean), GitLab latency {} ms",
        env!("CARGO_PKG_VERSION"),
        server.base,
        args.users,
        args.secs,
        args.think_ms,
        args.latency_ms
    );
    // Sign everyone in, through the real OAuth flow.
    let started = Instant::now();
    let browsers = sign_in_all(&server.base, args.users).await;
    println!(
        "signed in {} users in {:.1} s",
        browsers.len(),
        started.elapsed().as_secs_f64()
    );
    // Warm: the index is complete and every user has been checked once.
    wait_complete(&browsers[0]).await;
    warm(&browsers).await;

    if matches!(args.scenario.as_str(), "all" | "normal") {
        let report = run(&browsers, args.secs, args.think_ms).await;
        print("normal", &report, &server);
    }
    if matches!(args.scenario.as_str(), "all" | "faults") {
        controls(&server, json!({"error_rate": 0.1})).await;
        let burst = {
            let double = server.double.clone().unwrap();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(20)).await;
                let client = reqwest::Client::new();
                let url = format!("{double}/-/double/controls");
                client
                    .post(&url)
                    .json(&json!({"rate_limit_per_minute": 60}))
                    .send()
                    .await
                    .unwrap();
                tokio::time::sleep(Duration::from_secs(10)).await;
                client
                    .post(&url)
                    .json(&json!({"rate_limit_per_minute": null}))
                    .send()
                    .await
                    .unwrap();
            })
        };
        let report = run(&browsers, args.secs, args.think_ms).await;
        burst.await.unwrap();
        controls(&server, json!({"error_rate": 0.0})).await;
        print(
            "faults (10 % GitLab 5xx; GitLab's rate limit 60/min from 20 s to 30 s)",
            &report,
            &server,
        );
    }
}
