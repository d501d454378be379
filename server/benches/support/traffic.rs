//! Signed-in users' traffic on warm views, and what it measured (shared by the load and
//! replica benchmarks).

use crate::common::Browser;
use rand::Rng;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The 10,000-tag repository of the demo dataset.
pub const REPOSITORY: u64 = 3;
/// Demo users who can read it, signed in in turn.
pub const USERS: [&str; 4] = ["olivia", "maria", "devon", "reese"];

/// Signs `users` browsers in at `base` through the real OAuth flow, 20 at a time.
pub async fn sign_in_all(base: &str, users: usize) -> Vec<Arc<Browser>> {
    let mut browsers = Vec::with_capacity(users);
    for batch in (0..users).collect::<Vec<_>>().chunks(20) {
        let signed = futures::future::join_all(batch.iter().map(|i| async move {
            let browser = Browser::at(base);
            browser.sign_in(USERS[i % USERS.len()], "/i/demo").await;
            Arc::new(browser)
        }))
        .await;
        browsers.extend(signed);
    }
    browsers
}

/// Waits until `browser` sees the repository's index complete.
pub async fn wait_complete(browser: &Browser) {
    loop {
        let page: serde_json::Value = browser
            .client
            .get(browser.url(&format!("/api/v1/demo/repositories/{REPOSITORY}/tags")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if page["progress"]["complete"] == true {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One request per user, so that every user's access check is warm.
pub async fn warm(browsers: &[Arc<Browser>]) {
    futures::future::join_all(browsers.iter().map(|b| async move {
        use rand::SeedableRng;
        one(b, &mut rand::rngs::StdRng::seed_from_u64(0)).await
    }))
    .await;
}

/// One request of a user's loop; its status and latency.
pub async fn one(browser: &Browser, rng: &mut rand::rngs::StdRng) -> (u16, Duration) {
    let started = Instant::now();
    let pick: f64 = rng.gen();
    let response = if pick < 0.5 {
        let page = rng.gen_range(1..=5);
        browser
            .client
            .get(browser.url(&format!(
                "/api/v1/demo/repositories/{REPOSITORY}/tags?q=%5Emain-%5B0-9a-f%5D%7B2%7D\
                 &re=1&sort=size_desc&page={page}"
            )))
            .send()
            .await
    } else if pick < 0.8 {
        browser
            .client
            .get(browser.url(&format!(
                "/i/demo/repositories/{REPOSITORY}?q=v2&sort=name_asc"
            )))
            .send()
            .await
    } else {
        browser
            .client
            .post(browser.url("/api/fn/tag_list"))
            .header("origin", &browser.base)
            .json(&json!({"instance": "demo", "repository_id": REPOSITORY,
                          "view": "q=mr-1&sort=published_asc&per_page=100"}))
            .send()
            .await
    };
    let status = match response {
        Ok(response) => {
            let status = response.status().as_u16();
            // Read the whole body: that is what a browser waits for.
            let _ = response.bytes().await;
            status
        }
        Err(_) => 0,
    };
    (status, started.elapsed())
}

pub struct Report {
    pub latencies: Vec<Duration>,
    pub statuses: BTreeMap<u16, u64>,
    pub elapsed: Duration,
}

pub async fn run(browsers: &[Arc<Browser>], secs: u64, think_ms: u64) -> Report {
    let started = Instant::now();
    let deadline = started + Duration::from_secs(secs);
    let tasks: Vec<_> = browsers
        .iter()
        .enumerate()
        .map(|(i, browser)| {
            let browser = browser.clone();
            tokio::spawn(async move {
                use rand::SeedableRng;
                let mut rng = rand::rngs::StdRng::seed_from_u64(i as u64);
                let mut seen = Vec::new();
                loop {
                    // Exponential think time with the given mean.
                    let u: f64 = rng.gen_range(f64::EPSILON..1.0);
                    let think = Duration::from_secs_f64(-u.ln() * think_ms as f64 / 1000.0);
                    if Instant::now() + think >= deadline {
                        break;
                    }
                    tokio::time::sleep(think).await;
                    seen.push(one(&browser, &mut rng).await);
                }
                seen
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut statuses = BTreeMap::new();
    for task in tasks {
        for (status, latency) in task.await.unwrap() {
            latencies.push(latency);
            *statuses.entry(status).or_insert(0) += 1;
        }
    }
    latencies.sort();
    Report {
        latencies,
        statuses,
        elapsed: started.elapsed(),
    }
}

impl Report {
    /// Requests, rate, statuses and latency percentiles, two lines.
    pub fn print(&self) {
        let n = self.latencies.len();
        let at = |q: f64| {
            self.latencies
                .get(((n as f64 * q) as usize).min(n.saturating_sub(1)))
                .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
        };
        let ok = self.statuses.get(&200).copied().unwrap_or(0);
        let errors: Vec<String> = self
            .statuses
            .iter()
            .filter(|(s, _)| **s != 200)
            .map(|(s, c)| {
                format!(
                    "{c}×{}",
                    if *s == 0 {
                        "no answer".to_string()
                    } else {
                        s.to_string()
                    }
                )
            })
            .collect();
        println!(
            "  requests: {n} in {:.1} s = {:.0}/s; 200: {ok}; other: {}",
            self.elapsed.as_secs_f64(),
            n as f64 / self.elapsed.as_secs_f64(),
            if errors.is_empty() {
                "none".into()
            } else {
                errors.join(", ")
            }
        );
        println!(
            "  latency ms: p50 {:.1}, p90 {:.1}, p99 {:.1}, max {:.1}",
            at(0.50),
            at(0.90),
            at(0.99),
            at(1.0)
        );
    }
}
