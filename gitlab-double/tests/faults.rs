//! Fault injection and controls: rate limits, server errors, latency, the control endpoint.

use std::time::{Duration, Instant};

use crate::common::*;
use gitlab_double::DoubleConfig;
use reqwest::StatusCode;
use serde_json::{json, Value};

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after() {
    let gl = start_with(DoubleConfig {
        rate_limit_per_minute: Some(3),
        ..DoubleConfig::default()
    })
    .await;
    let maria = login(&gl.base_url, "maria").await;
    let devon = login(&gl.base_url, "devon").await;
    for i in 1..=3 {
        let (status, h, _) = get(&gl.base_url, "/api/v4/user", Some(&maria)).await;
        assert_eq!(status, StatusCode::OK, "request {i}");
        assert_eq!(header(&h, "ratelimit-limit"), Some("3"));
        assert_eq!(
            header(&h, "ratelimit-remaining"),
            Some((3 - i).to_string().as_str())
        );
    }
    let response = http()
        .get(format!("{}/api/v4/user", gl.base_url))
        .bearer_auth(&maria)
        .send()
        .await
        .unwrap();
    // The minute window may have rolled over exactly now; then one more request is allowed.
    let response = if response.status() == StatusCode::OK {
        let mut last = response;
        for _ in 0..3 {
            last = http()
                .get(format!("{}/api/v4/user", gl.base_url))
                .bearer_auth(&maria)
                .send()
                .await
                .unwrap();
        }
        last
    } else {
        response
    };
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let h = response.headers().clone();
    let retry: u64 = header(&h, "retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    assert_eq!(header(&h, "ratelimit-remaining"), Some("0"));
    assert!(
        header(&h, "ratelimit-reset")
            .unwrap()
            .parse::<i64>()
            .unwrap()
            > 1_600_000_000
    );
    assert!(
        header(&h, "ratelimit-observed")
            .unwrap()
            .parse::<u32>()
            .unwrap()
            > 3
    );
    assert!(header(&h, "content-type")
        .unwrap()
        .starts_with("text/plain"));
    assert_eq!(response.text().await.unwrap(), "Retry later\n");
    // Limits are per user.
    let (status, _, _) = get(&gl.base_url, "/api/v4/user", Some(&devon)).await;
    assert_eq!(status, StatusCode::OK);
    // Turned off at runtime.
    gl.double.controls().set_rate_limit(None);
    let (status, h, _) = get(&gl.base_url, "/api/v4/user", Some(&maria)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(header(&h, "ratelimit-limit").is_none());
}

#[tokio::test]
async fn error_rate_one_fails_every_api_request_but_not_oauth() {
    let gl = start().await;
    let token = login(&gl.base_url, "maria").await;
    gl.double.controls().set_error_rate(1.0);
    for path in ["/api/v4/user", "/api/v4/projects"] {
        let (status, _, body) = get(&gl.base_url, path, Some(&token)).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body, json!({ "message": "500 Internal Server Error" }));
    }
    let (status, _) = gql(
        &gl.base_url,
        Some(&token),
        "{ currentUser { id } }",
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    // Sign-in still works.
    let _ = login(&gl.base_url, "devon").await;
    gl.double.controls().set_error_rate(0.0);
    let (status, _, _) = get(&gl.base_url, "/api/v4/user", Some(&token)).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn error_injection_is_deterministic_per_seed() {
    let mut runs = Vec::new();
    for _ in 0..2 {
        let gl = start_with(DoubleConfig {
            error_rate: 0.5,
            seed: 42,
            ..DoubleConfig::default()
        })
        .await;
        let mut outcomes = Vec::new();
        for _ in 0..40 {
            let (status, _, _) = get(&gl.base_url, "/api/v4/projects", None).await;
            outcomes.push(status.as_u16());
        }
        runs.push(outcomes);
    }
    assert_eq!(runs[0], runs[1]);
    let failures = runs[0].iter().filter(|s| **s == 500).count();
    assert!((8..=32).contains(&failures), "{failures} of 40");
}

#[tokio::test]
async fn latency_and_request_count() {
    let gl = start().await;
    let token = login(&gl.base_url, "maria").await;
    let before = gl.double.controls().request_count();
    gl.double
        .controls()
        .set_latency(Duration::from_millis(150), Duration::ZERO);
    let started = Instant::now();
    let (status, _, _) = get(&gl.base_url, "/api/v4/user", Some(&token)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert_eq!(gl.double.controls().request_count(), before + 1);
}

#[tokio::test]
async fn control_endpoint_reads_and_writes_knobs() {
    let gl = start().await;
    let (status, _, snapshot) = get(&gl.base_url, "/-/double/controls", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(snapshot["metadata_db"], true);
    assert_eq!(snapshot["rate_limit_per_minute"], Value::Null);
    assert_eq!(snapshot["token_ttl_secs"], 7200);
    let response = http()
        .post(format!("{}/-/double/controls", gl.base_url))
        .json(
            &json!({ "metadata_db": false, "rate_limit_per_minute": 100, "latency_ms": 5,
                     "token_ttl_secs": 60 }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let updated: Value = response.json().await.unwrap();
    assert_eq!(updated["metadata_db"], false);
    assert_eq!(updated["rate_limit_per_minute"], 100);
    assert_eq!(updated["latency_ms"], 5);
    assert!(!gl.double.controls().metadata_db());
    let response = http()
        .post(format!("{}/-/double/controls", gl.base_url))
        .json(&json!({ "rate_limit_per_minute": null }))
        .send()
        .await
        .unwrap();
    let updated: Value = response.json().await.unwrap();
    assert_eq!(updated["rate_limit_per_minute"], Value::Null);
    assert_eq!(updated["metadata_db"], false, "absent fields are unchanged");
    let response = http()
        .post(format!("{}/-/double/controls", gl.base_url))
        .json(&json!({ "error_rate": 3.0 }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let tokens = login_full(&gl.base_url, "maria", "api").await;
    assert_eq!(tokens["expires_in"], 60);
    let response = http()
        .get(format!("{}/-/double/health", gl.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.text().await.unwrap(), "ok");
}
