//! Throughput benchmark (prints numbers; asserts nothing): `wrk` (Debian's, installed by
//! `scripts/setup.sh --bench`) against warm pages of the release binary in demo mode.
//!
//! Signs in `--users` sessions through the real OAuth flow (the demo users in turn, each
//! session with its own GitLab token and so its own access cache), waits for the
//! 10,000-tag repository's index, has every session read each target once, then runs `wrk`
//! for `--secs` seconds per target and connection count, each request with the next
//! session's cookie (a Lua script cycles through them). Targets:
//!
//! - the server-rendered tag page with a name filter and a sort,
//! - the JSON API's tag list with an RE2 filter, a size sort and a page,
//! - the cleanup policy page of the repository's project (the server-side preview of every
//!   repository).
//!
//! For each: requests/s, p50/p99 latency, answers other than 2xx/3xx and socket errors,
//! the GitLab requests the double received during the run (and per session per access-cache
//! period), and the server's peak RSS.
//!
//! Run: `cargo bench -p server --bench throughput [-- --users 500 --secs 15
//! --connections 10,100,500 --latency-ms 20 --targets tags,api,policy]`

#![allow(clippy::unwrap_used)]

#[path = "../tests/common/mod.rs"]
mod common;
mod support;

use reqwest::cookie::CookieStore;
use std::process::Command;
use std::time::Duration;
use support::traffic::{sign_in_all, wait_complete, REPOSITORY};
use support::{arg, ServerProcess};

/// The project of [`REPOSITORY`].
const PROJECT: u64 = 1002;
/// The access cache's lifetime in the benchmark (the default).
const ACCESS_TTL_SECS: u64 = 20;

struct Target {
    name: &'static str,
    label: &'static str,
    path: String,
}

fn targets() -> Vec<Target> {
    vec![
        Target {
            name: "tags",
            label: "tag page (server-rendered, q=v2, name sort)",
            path: format!("/i/demo/repositories/{REPOSITORY}?q=v2&sort=name_asc"),
        },
        Target {
            name: "api",
            label: "JSON API tag list (RE2 filter, size sort, page 2)",
            path: format!(
                "/api/v1/demo/repositories/{REPOSITORY}/tags?q=%5Emain-%5B0-9a-f%5D%7B2%7D\
                 &re=1&sort=size_desc&page=2"
            ),
        },
        Target {
            name: "policy",
            label: "cleanup policy page (server-rendered preview)",
            path: format!("/i/demo/cleanup/{PROJECT}"),
        },
    ]
}

/// What `wrk --latency` printed, read back.
#[derive(Default)]
struct WrkReport {
    requests_per_sec: f64,
    p50: String,
    p99: String,
    requests: u64,
    not_ok: u64,
    socket_errors: String,
}

fn parse_wrk(output: &str) -> WrkReport {
    let mut report = WrkReport {
        socket_errors: "none".into(),
        ..WrkReport::default()
    };
    for line in output.lines().map(str::trim) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            ["Requests/sec:", value] => report.requests_per_sec = value.parse().unwrap_or(0.0),
            ["50%", value] => report.p50 = (*value).into(),
            ["99%", value] => report.p99 = (*value).into(),
            [count, "requests", "in", ..] => report.requests = count.parse().unwrap_or(0),
            ["Non-2xx", "or", "3xx", "responses:", count] => {
                report.not_ok = count.parse().unwrap_or(0)
            }
            ["Socket", "errors:", ..] => {
                report.socket_errors = line["Socket errors: ".len()..].into()
            }
            _ => {}
        }
    }
    report
}

async fn gitlab_requests(double: &str) -> u64 {
    let body: serde_json::Value = reqwest::get(format!("{double}/-/double/controls"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["request_count"].as_u64().unwrap()
}

fn main() {
    let users: usize = arg("--users", "500").parse().unwrap();
    let secs: u64 = arg("--secs", "15").parse().unwrap();
    let latency_ms: u64 = arg("--latency-ms", "20").parse().unwrap();
    let connections: Vec<u32> = arg("--connections", "10,100,500")
        .split(',')
        .map(|c| c.parse().unwrap())
        .collect();
    let wanted = arg("--targets", "tags,api,policy");
    if Command::new("wrk").arg("--version").output().is_err() {
        eprintln!("wrk is not installed: run scripts/setup.sh --bench (Debian's wrk)");
        std::process::exit(2);
    }
    let server = ServerProcess::start(
        &["--demo"],
        &[
            ("REGISTRY_DASH_DEMO_LATENCY_MS", latency_ms.to_string()),
            ("REGISTRY_DASH_API_REQUESTS_PER_MINUTE", "1000000".into()),
            (
                "REGISTRY_DASH_CACHE_ACCESS_TTL_SECS",
                ACCESS_TTL_SECS.to_string(),
            ),
        ],
    );
    let double = server.double.clone().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let browsers = runtime.block_on(async {
        let browsers = sign_in_all(&server.base, users).await;
        wait_complete(&browsers[0]).await;
        browsers
    });
    let base: url::Url = server.base.parse().unwrap();
    let cookies: Vec<String> = browsers
        .iter()
        .map(|b| b.jar.cookies(&base).unwrap().to_str().unwrap().to_string())
        .collect();
    let script = std::env::temp_dir().join(format!("registry-dash-wrk-{}.lua", std::process::id()));
    let list: String = cookies.iter().map(|c| format!("{c:?},\n")).collect();
    std::fs::write(
        &script,
        format!(
            "local cookies = {{\n{list}}}\nlocal i = math.random(#cookies)\n\
                 request = function()\n  i = i % #cookies + 1\n  \
                 return wrk.format(nil, nil, {{ [\"Cookie\"] = cookies[i] }})\nend\n"
        ),
    )
    .unwrap();
    println!(
        "registry-dash {} on {}: {} sessions, GitLab latency {} ms, access cache {} s, {} s per \
            run, wrk with 2 threads on the same 2 cores",
        env!("CARGO_PKG_VERSION"),
        server.base,
        users,
        latency_ms,
        ACCESS_TTL_SECS,
        secs
    );
    for target in targets()
        .into_iter()
        .filter(|t| wanted.split(',').any(|w| w == t.name))
    {
        // Every session reads the target once: caches warm, and each answer must be a 200
        // (not a redirect to the sign-in, which wrk would count as a success).
        runtime.block_on(async {
            for batch in browsers.chunks(50) {
                let statuses = futures::future::join_all(
                    batch
                        .iter()
                        .map(|b| async { b.client.get(b.url(&target.path)).send().await }),
                )
                .await;
                for status in statuses {
                    assert_eq!(status.unwrap().status(), 200, "{}", target.path);
                }
            }
        });
        println!("\n{}: {}", target.label, target.path);
        for &c in &connections {
            let before = runtime.block_on(gitlab_requests(&double));
            let output = Command::new("wrk")
                .args(["-t2", &format!("-c{c}"), &format!("-d{secs}s"), "--latency"])
                .args(["--timeout", "10s", "-s"])
                .arg(&script)
                .arg(format!("{}{}", server.base, target.path))
                .output()
                .unwrap();
            let gitlab = runtime.block_on(gitlab_requests(&double)) - before;
            let report = parse_wrk(&String::from_utf8_lossy(&output.stdout));
            let periods = (secs as f64 / ACCESS_TTL_SECS as f64).max(1.0);
            println!(
                "  {c:>3} connections: {:>7.0} requests/s, p50 {:>8}, p99 {:>8}, {} requests, {} \
                 not 2xx/3xx, socket errors: {}; GitLab requests {} ({:.2} per session per {} s)",
                report.requests_per_sec,
                report.p50,
                report.p99,
                report.requests,
                report.not_ok,
                report.socket_errors,
                gitlab,
                gitlab as f64 / users as f64 / periods,
                ACCESS_TTL_SECS,
            );
            std::thread::sleep(Duration::from_secs(1));
        }
    }
    let (peak, now) = server.rss();
    println!("\nserver RSS: peak {peak:.0} MiB, now {now:.0} MiB");
    let _ = std::fs::remove_file(script);
}
