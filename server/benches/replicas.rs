//! Replica benchmark (prints numbers; asserts nothing): two release `registry-dash`
//! processes sharing Redis behind haproxy (round robin, no stickiness) against one process
//! alone, both talking to one GitLab double whose every request takes `--latency-ms`.
//!
//! For each setup: the cold index of the 10,000-tag repository (opened on every replica at
//! once: wall time until complete, and GitLab requests), then `--users` signed-in users on
//! warm views for `--secs` (the load benchmark's mix, think time `--think-ms`), then, for
//! the replicas, the same traffic through a rolling restart (each replica in turn stopped
//! with SIGTERM and started again): answers that are not 200 are counted, and a 401 or a
//! redirect to the sign-in page would be a lost session.
//!
//! Needs Debian's redis-server and haproxy (`scripts/setup.sh --tests`). Run:
//! `cargo bench -p server --bench replicas [-- --users 200 --secs 30 --latency-ms 20]`

#![allow(clippy::unwrap_used)]

#[path = "../tests/common/mod.rs"]
mod common;
mod support;

use common::cluster::{free_port, start_double, Haproxy, RedisServer};
use common::Browser;
use gitlab_double::Double;
use std::time::{Duration, Instant};
use support::traffic::{run, sign_in_all, wait_complete, warm, Report};
use support::{arg, ServerProcess};

struct Args {
    users: usize,
    secs: u64,
    think_ms: u64,
    latency_ms: u64,
}

fn args() -> Args {
    Args {
        users: arg("--users", "200").parse().unwrap(),
        secs: arg("--secs", "30").parse().unwrap(),
        think_ms: arg("--think-ms", "2000").parse().unwrap(),
        latency_ms: arg("--latency-ms", "20").parse().unwrap(),
    }
}

/// A replica on `port`, for the dashboard at `public_url`.
fn replica(port: u16, public_url: &str, gitlab: &str, redis: Option<&str>) -> ServerProcess {
    let mut env = vec![
        ("REGISTRY_DASH_LISTEN", format!("127.0.0.1:{port}")),
        ("REGISTRY_DASH_PUBLIC_URL", public_url.to_string()),
        ("GITLAB_URL", gitlab.to_string()),
        ("GITLAB_NAME", "demo".to_string()),
        ("GITLAB_CLIENT_ID", server::demo::DEMO_CLIENT_ID.to_string()),
        (
            "GITLAB_CLIENT_SECRET",
            server::demo::DEMO_CLIENT_SECRET.to_string(),
        ),
        (
            "REGISTRY_DASH_API_REQUESTS_PER_MINUTE",
            "100000".to_string(),
        ),
    ];
    if let Some(redis) = redis {
        env.push(("REGISTRY_DASH_REDIS_URL", redis.to_string()));
    }
    ServerProcess::start(&[], &env)
}

async fn wait_complete_at(browser: &Browser, base: &str) {
    wait_complete(&browser.via(base)).await;
}

/// Opens the 10,000-tag list on every one of `bases` at once; the time until all are
/// complete and the GitLab requests it took.
async fn cold_index(browser: &Browser, bases: &[String], double: &Double) -> (Duration, u64) {
    let before = double.controls().request_count();
    let started = Instant::now();
    futures::future::join_all(bases.iter().map(|base| wait_complete_at(browser, base))).await;
    (
        started.elapsed(),
        double.controls().request_count() - before,
    )
}

fn lost_sessions(report: &Report) -> u64 {
    [401, 303]
        .iter()
        .map(|s| report.statuses.get(s).copied().unwrap_or(0))
        .sum()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = args();
    println!(
        "registry-dash {}: {} users, {} s, think {} ms (mean), GitLab latency {} ms",
        env!("CARGO_PKG_VERSION"),
        args.users,
        args.secs,
        args.think_ms,
        args.latency_ms
    );
    let latency = Duration::from_millis(args.latency_ms);

    // One process, sessions in memory.
    {
        let port = free_port();
        let public = format!("http://127.0.0.1:{port}");
        let (double, gitlab) = start_double(&public, |c| c.latency = latency).await;
        let single = replica(port, &public, &gitlab, None);
        let first = Browser::at(&single.base);
        first.sign_in("olivia", "/i/demo").await;
        let (took, requests) =
            cold_index(&first, std::slice::from_ref(&single.base), &double).await;
        println!("one process:");
        println!(
            "  cold 10,000-tag index: {:.2} s, {requests} GitLab requests",
            took.as_secs_f64()
        );
        let browsers = sign_in_all(&single.base, args.users).await;
        warm(&browsers).await;
        let report = run(&browsers, args.secs, args.think_ms).await;
        println!("  warm traffic, {} users:", args.users);
        report.print();
    }

    // Two replicas, Redis, haproxy.
    let redis = RedisServer::start();
    let proxy_port = free_port();
    let public = format!("http://127.0.0.1:{proxy_port}");
    let (double, gitlab) = start_double(&public, |c| c.latency = latency).await;
    let ports = [free_port(), free_port()];
    let mut replicas: Vec<ServerProcess> = ports
        .iter()
        .map(|port| replica(*port, &public, &gitlab, Some(&redis.url())))
        .collect();
    let addrs: Vec<std::net::SocketAddr> = ports
        .iter()
        .map(|p| std::net::SocketAddr::from(([127, 0, 0, 1], *p)))
        .collect();
    let proxy = Haproxy::start(proxy_port, &addrs);
    let first = Browser::at(&proxy.url());
    first.sign_in("olivia", "/i/demo").await;
    let bases: Vec<String> = replicas.iter().map(|r| r.base.clone()).collect();
    let (took, requests) = cold_index(&first, &bases, &double).await;
    println!("two replicas + Redis behind haproxy:");
    println!(
        "  cold 10,000-tag index opened on both at once: {:.2} s, {requests} GitLab requests",
        took.as_secs_f64()
    );
    let browsers = sign_in_all(&proxy.url(), args.users).await;
    warm(&browsers).await;
    let report = run(&browsers, args.secs, args.think_ms).await;
    println!("  warm traffic through the proxy, {} users:", args.users);
    report.print();

    // The same traffic through a rolling restart.
    let restarts = {
        let secs = args.secs;
        let public = public.clone();
        let gitlab = gitlab.clone();
        let redis_url = redis.url();
        let old = std::mem::take(&mut replicas);
        tokio::spawn(async move {
            let mut running = Vec::new();
            let pause = Duration::from_secs(secs / 4);
            tokio::time::sleep(pause).await;
            for (mut process, port) in old.into_iter().zip(ports) {
                let stopped = Instant::now();
                let _ = std::process::Command::new("kill")
                    .args(["-TERM", &process.child.id().to_string()])
                    .status();
                let _ = process.child.wait();
                let (public, gitlab, redis_url) =
                    (public.clone(), gitlab.clone(), redis_url.clone());
                let restarted = tokio::task::spawn_blocking(move || {
                    replica(port, &public, &gitlab, Some(&redis_url))
                })
                .await
                .unwrap();
                println!(
                    "  restarted the replica on port {port} in {:.1} s",
                    stopped.elapsed().as_secs_f64()
                );
                running.push(restarted);
                tokio::time::sleep(pause).await;
            }
            running
        })
    };
    let report = run(&browsers, args.secs, args.think_ms).await;
    let _running = restarts.await.unwrap();
    println!("  the same traffic through a rolling restart of both replicas:");
    report.print();
    println!(
        "  sessions lost (401 or sent to sign in): {}",
        lost_sessions(&report)
    );
}
