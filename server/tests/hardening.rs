//! The BFF as an attacker meets it: anonymous floods, oversized bodies, 200,000 names,
//! megabyte regexes, `per_page` abuse, dot segments, tokens GitLab never checked or has
//! revoked, slow clients, too many requests at once, slow GitLab, panics.

use crate::common::{controls, requests, revoke_at_gitlab, signed_in, start, token_for, Browser};
use reqwest::header::{AUTHORIZATION, RETRY_AFTER};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The 10,000-tag repository of the demo dataset, and a 73-tag one.
const SERVER_REPO: u64 = 3;
const WEB_ROOT: u64 = 1;

/// A GET sent byte for byte as written (no client-side path normalisation).
async fn raw_get(addr: std::net::SocketAddr, path: &str, cookie: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("the server accepts a connection");
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .await
        .expect("the request is written");
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .await
        .expect("the answer is read");
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, answer)
}

/// Sends a server-function call whose body the server refuses without reading it: the answer
/// is one of `statuses`, or the server closed the connection while the body was still
/// being sent (it answered before reading it).
async fn refused_unread(browser: &Browser, name: &str, body: Value, statuses: &[StatusCode]) {
    // Its own connection: the server closes it after answering early, which must not
    // break the browser's pooled connections.
    let client = reqwest::Client::builder()
        .cookie_provider(browser.jar.clone())
        .pool_max_idle_per_host(0)
        .build()
        .expect("it builds");
    let sent = client
        .post(browser.url(&format!("/api/fn/{name}")))
        .header(reqwest::header::ORIGIN, &browser.base)
        .json(&body)
        .send()
        .await;
    match sent {
        Ok(response) => assert!(
            statuses.contains(&response.status()),
            "{}",
            response.status()
        ),
        Err(error) => assert!(!error.is_timeout() && error.is_request(), "{error}"),
    }
}

#[tokio::test]
async fn anonymous_requests_cost_no_gitlab_call_and_no_session() {
    let server = start(&[]).await;
    let anonymous = Browser::new(&server);
    let before = requests(&server);
    // A burst of server-function calls without a sign-in: refused before the body is read.
    let calls = (0..200).map(|i| {
        let anonymous = &anonymous;
        async move {
            anonymous
                .server_fn(
                    "tag_list",
                    json!({"instance": "demo", "repository_id": i, "view": "q=%5Ev"}),
                )
                .await
                .status()
        }
    });
    for status in futures::future::join_all(calls).await {
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    // A 2 MB body of names from nobody is not even read: refused by its size or by the
    // missing sign-in.
    let names: Vec<String> = (0..200_000).map(|i| format!("t{i}")).collect();
    refused_unread(
        &anonymous,
        "delete_tags",
        json!({"instance": "demo", "repository_id": SERVER_REPO, "names": names}),
        &[StatusCode::UNAUTHORIZED, StatusCode::PAYLOAD_TOO_LARGE],
    )
    .await;
    let response = anonymous
        .server_fn(
            "delete_tags",
            json!({"instance": "demo", "repository_id": SERVER_REPO, "names": ["a"]}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["NotSignedIn"]["instance"], "demo");
    // The JSON API without a credential, and pages.
    for _ in 0..100 {
        let response = anonymous
            .get(&format!("/api/v1/demo/repositories/{SERVER_REPO}/tags?q=x"))
            .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        anonymous.get("/i/demo/repositories/3").await.status(),
        StatusCode::SEE_OTHER
    );
    // Starting sign-ins creates no sessions (they wait in a bounded cache instead).
    for _ in 0..300 {
        assert_eq!(
            Browser::new(&server).get("/auth/login").await.status(),
            StatusCode::SEE_OTHER
        );
    }
    assert_eq!(server.state.sessions.count().await, Some(0));
    // What browsers send: compressed answers keep their statuses.
    let response = anonymous
        .client
        .post(anonymous.url("/api/fn/tag_list"))
        .header(reqwest::header::ORIGIN, &anonymous.base)
        .header(reqwest::header::ACCEPT_ENCODING, "gzip, br")
        .json(&json!({"instance": "demo", "repository_id": 1, "view": ""}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(requests(&server), before, "GitLab was never asked");
}

#[tokio::test]
async fn oversized_and_abusive_input_is_refused_before_gitlab_is_asked() {
    let server = start(&[]).await;
    let devon = signed_in(&server, "devon").await;
    let before = requests(&server);

    // 200,000 names: over the body limit.
    let names: Vec<String> = (0..200_000).map(|i| format!("t{i}")).collect();
    refused_unread(
        &devon,
        "delete_tags",
        json!({"instance": "demo", "repository_id": SERVER_REPO, "names": names}),
        &[StatusCode::PAYLOAD_TOO_LARGE],
    )
    .await;
    // 1,001 names fit in a body but not in one deletion; counted before they are read.
    let names: Vec<String> = (0..1_001).map(|i| format!("t{i}")).collect();
    let response = devon
        .client
        .post(devon.url("/api/fn/delete_tags"))
        .header(reqwest::header::ORIGIN, &devon.base)
        .header(reqwest::header::ACCEPT_ENCODING, "gzip")
        .json(&json!({"instance": "demo", "repository_id": SERVER_REPO, "names": names}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    // The JSON API answers an oversized body in its own error format.
    let huge: Vec<String> = (0..100_000).map(|i| format!("tag-{i}")).collect();
    let answer = reqwest::Client::builder()
        .cookie_provider(devon.jar.clone())
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
        .post(devon.url(&format!(
            "/api/v1/demo/repositories/{SERVER_REPO}/tag-deletions"
        )))
        .header(reqwest::header::ORIGIN, &devon.base)
        .json(&json!({ "names": huge }))
        .send()
        .await;
    if let Ok(response) = answer {
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["kind"], "TooLarge");
    }
    // Views arrive as their query strings and are read strictly.
    for (view, needle) in [
        (
            "per_page=4294967295".to_string(),
            "Pages hold 20, 50 or 100",
        ),
        ("page=4294967295".to_string(), "not a page number"),
        (format!("re=1&q={}", "a".repeat(300)), "longer than 255"),
        (format!("q={}", "a".repeat(100_000)), "longer than 8192"),
    ] {
        let response = devon
            .server_fn(
                "tag_list",
                json!({"instance": "demo", "repository_id": SERVER_REPO, "view": view}),
            )
            .await;
        let status = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(status, StatusCode::BAD_REQUEST, "{needle}: {text}");
        assert!(text.contains(needle), "{needle}: {text}");
    }
    // A megabyte regex: over the body limit as data, over the header limit in a URL.
    let megabyte = "(a|b)*".repeat(180_000);
    refused_unread(
        &devon,
        "tag_list",
        json!({"instance": "demo", "repository_id": SERVER_REPO,
               "view": format!("re=1&q={megabyte}")}),
        &[StatusCode::PAYLOAD_TOO_LARGE],
    )
    .await;
    let url = devon.url(&format!(
        "/api/v1/demo/repositories/{SERVER_REPO}/tags?re=1&q={megabyte}"
    ));
    match devon.client.get(url).send().await {
        Ok(response) => assert!(response.status().is_client_error(), "{}", response.status()),
        Err(error) => assert!(!error.is_timeout(), "{error}"),
    }
    // Ids GitLab never gives out.
    let response = devon
        .server_fn(
            "tag_list",
            json!({"instance": "demo", "repository_id": 0, "view": ""}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    // An instance name that is no instance's, and is not echoed in full.
    let response = devon
        .server_fn(
            "tag_list",
            json!({"instance": "x".repeat(5_000), "repository_id": 1, "view": ""}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(response.text().await.unwrap().len() < 500);
    assert_eq!(requests(&server), before, "GitLab was never asked");

    // Repeated names are one deletion each, found in linear time.
    let names = vec!["v2.3.1".to_string(); 1_000];
    let plan: Value = devon
        .server_fn(
            "deletion_plan",
            json!({"instance": "demo", "repository_id": WEB_ROOT, "names": names}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(plan["tags"].as_array().unwrap().len(), 1, "{plan}");
}

#[tokio::test]
async fn dot_segments_never_reach_another_gitlab_endpoint() {
    let server = start(&[]).await;
    let maria = signed_in(&server, "maria").await;
    let before = requests(&server);
    // Sent as written: an HTTP client library would resolve the dot segments itself.
    let cookie = maria.session_cookie().unwrap();
    for path in [
        "/api/v1/demo/projects/..%2F..%2Fuser/repositories",
        "/api/v1/demo/projects/%2E%2E/cleanup-policy",
        "/api/v1/demo/projects/%2e%2e%2fadmin/cleanup-policy",
        "/api/v1/demo/projects/acme%2F..%2Folivia%2Fsecret/cleanup-policy",
        "/api/v1/demo/groups/%2E/repositories",
    ] {
        let (status, body) = raw_get(server.addr, path, &cookie).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(body.contains("\"BadRequest\""), "{path}: {body}");
    }
    for project in ["..", ".", "acme/../olivia/secret", "acme/web/.."] {
        let response = maria
            .server_fn(
                "project_repositories",
                json!({"instance": "demo", "project_path": project, "view": ""}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{project}");
    }
    assert_eq!(requests(&server), before, "GitLab was never asked");
}

#[tokio::test]
async fn a_cache_never_vouches_for_a_credential_gitlab_did_not_check() {
    let server = start(&[
        ("REGISTRY_DASH_CACHE_ACCESS_TTL_SECS", "1"),
        ("REGISTRY_DASH_CACHE_USERS_TTL_SECS", "1"),
    ])
    .await;
    // Maria's browser reads the repository, so her access to it is cached (for her session).
    let browser = signed_in(&server, "maria").await;
    let tags = format!("/api/v1/demo/repositories/{WEB_ROOT}/tags");
    assert_eq!(browser.get(&tags).await.status(), StatusCode::OK);

    // A token of hers that may only read her profile reads no registry data.
    let profile_only = token_for(&server, "maria", "read_user").await;
    let response = browser
        .client
        .get(browser.url(&tags))
        .header(AUTHORIZATION, format!("Bearer {profile_only}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    // A full token reads, until she revokes it at GitLab; her browser keeps reading.
    let token = token_for(&server, "maria", "api").await;
    let script = Browser::new(&server);
    let as_script = || {
        script
            .client
            .get(script.url(&tags))
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .send()
    };
    assert_eq!(as_script().await.unwrap().status(), StatusCode::OK);
    revoke_at_gitlab(&server, &token).await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let response = as_script().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(browser.get(&tags).await.status(), StatusCode::OK);
    // GitLab refused it once; it is refused again without asking GitLab.
    let before = requests(&server);
    assert_eq!(
        as_script().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(requests(&server), before);
}

#[tokio::test]
async fn a_token_revoked_at_gitlab_signs_the_browser_out_and_drops_its_cached_answers() {
    let server = start(&[]).await;
    let browser = signed_in(&server, "maria").await;
    let tags = format!("/api/v1/demo/repositories/{WEB_ROOT}/tags");
    assert_eq!(browser.get(&tags).await.status(), StatusCode::OK);
    let double = server.double.as_ref().unwrap().double.clone();
    for issued in double.controls().issued_tokens() {
        revoke_at_gitlab(&server, &issued.access_token).await;
    }
    // The tag page asks GitLab (the tag's details): 401, and the sign-in is gone…
    let detail = browser
        .get(&format!("/api/v1/demo/repositories/{WEB_ROOT}/tags/latest"))
        .await;
    assert_eq!(detail.status(), StatusCode::UNAUTHORIZED);
    // …so the list, whose access check was cached, is not served either.
    assert_eq!(browser.get(&tags).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn slow_clients_are_cut_off_and_others_are_served() {
    let server = start(&[("REGISTRY_DASH_HEADER_READ_TIMEOUT_SECS", "1")]).await;
    let mut slow = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // A connection that says nothing at all is closed too.
    let mut idle = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let started = Instant::now();
    // Meanwhile others are served.
    let browser = Browser::new(&server);
    assert_eq!(browser.get("/healthz").await.status(), StatusCode::OK);
    let mut buffer = [0u8; 1024];
    let read = tokio::time::timeout(Duration::from_secs(5), slow.read(&mut buffer))
        .await
        .expect("the server closes a connection whose headers never finish");
    let closed = match read {
        Ok(0) => true,
        Ok(n) => String::from_utf8_lossy(&buffer[..n]).contains("408"),
        Err(_) => true,
    };
    assert!(closed);
    assert!(started.elapsed() < Duration::from_secs(4));
    let read = tokio::time::timeout(Duration::from_secs(5), idle.read(&mut buffer))
        .await
        .expect("an idle connection is closed");
    assert!(matches!(read, Ok(0) | Err(_)));
}

#[tokio::test]
async fn too_many_requests_at_once_are_shed_with_retry_after() {
    let server = start(&[("REGISTRY_DASH_MAX_IN_FLIGHT", "2")]).await;
    let mut browsers = Vec::new();
    for user in ["maria", "devon", "reese", "olivia"] {
        browsers.push(signed_in(&server, user).await);
    }
    // GitLab slows down: every request now takes 600 ms.
    controls(&server).set_latency(Duration::from_millis(600), Duration::ZERO);
    let started = Instant::now();
    // Over several routes: the bound is the server's, not each route's.
    let paths = ["/api/v1/demo/groups", "/api/v1/demo/projects"];
    let requests = browsers
        .iter()
        .cycle()
        .take(8)
        .enumerate()
        .map(|(i, b)| async move {
            let response = b.get(paths[i % 2]).await;
            let retry = response
                .headers()
                .get(RETRY_AFTER)
                .map(|v| v.to_str().unwrap().to_string());
            (response.status(), retry, started.elapsed())
        });
    let answers = futures::future::join_all(requests).await;
    let shed: Vec<_> = answers
        .iter()
        .filter(|(status, _, _)| *status == StatusCode::SERVICE_UNAVAILABLE)
        .collect();
    let served = answers
        .iter()
        .filter(|(status, _, _)| *status == StatusCode::OK)
        .count();
    assert_eq!(served, 2, "{answers:?}");
    assert_eq!(shed.len(), 6, "{answers:?}");
    for (_, retry, at) in &shed {
        assert_eq!(retry.as_deref(), Some("1"));
        assert!(
            *at < Duration::from_millis(500),
            "shed at once, not queued: {at:?}"
        );
    }
    // Operations endpoints are never shed.
    assert_eq!(browsers[0].get("/healthz").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_request_slower_than_its_timeout_is_a_503() {
    let server = start(&[("REGISTRY_DASH_REQUEST_TIMEOUT_SECS", "1")]).await;
    let maria = signed_in(&server, "maria").await;
    controls(&server).set_latency(Duration::from_millis(1_500), Duration::ZERO);
    let started = Instant::now();
    let response = maria.get("/api/v1/demo/groups").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().contains_key(RETRY_AFTER));
    assert!(started.elapsed() < Duration::from_millis(1_400));
}

#[tokio::test]
async fn each_credential_has_its_own_api_rate() {
    let server = start(&[("REGISTRY_DASH_API_REQUESTS_PER_MINUTE", "5")]).await;
    let maria = signed_in(&server, "maria").await;
    let devon = signed_in(&server, "devon").await;
    for _ in 0..5 {
        assert_eq!(
            maria.get("/api/v1/demo/user").await.status(),
            StatusCode::OK
        );
    }
    let limited = maria.get("/api/v1/demo/user").await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = limited.headers()[RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry));
    let body: Value = limited.json().await.unwrap();
    assert_eq!(body["error"]["kind"], "RateLimited");
    assert_eq!(
        devon.get("/api/v1/demo/user").await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn unknown_bearer_tokens_are_checked_with_gitlab_at_a_bounded_rate() {
    let server = start(&[
        ("REGISTRY_DASH_BEARER_CHECKS_PER_MINUTE", "3"),
        ("REGISTRY_DASH_CACHE_USERS_TTL_SECS", "1"),
    ])
    .await;
    let script = Browser::new(&server);
    let ask = |token: String| {
        script
            .client
            .get(script.url("/api/v1/demo/user"))
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .send()
    };
    // A script's real token, used once: GitLab accepted it (one check of three).
    let token = token_for(&server, "maria", "api").await;
    assert_eq!(ask(token.clone()).await.unwrap().status(), StatusCode::OK);
    let before = requests(&server);
    let mut statuses = Vec::new();
    for i in 0..6 {
        statuses.push(ask(format!("made-up-token-{i}")).await.unwrap().status());
    }
    assert_eq!(
        statuses,
        [
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::TOO_MANY_REQUESTS,
        ]
    );
    assert_eq!(
        requests(&server) - before,
        2,
        "only three checks in all reached GitLab"
    );
    // A token GitLab refused is refused again without asking.
    assert_eq!(
        ask("made-up-token-0".into()).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(requests(&server) - before, 2);
    // Someone spending the allowance on made-up tokens does not lock the real one out
    // (checked with GitLab again once its cached user expired, but not held to that rate).
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert_eq!(ask(token).await.unwrap().status(), StatusCode::OK);
    // An absurd header is refused as such.
    let response = script
        .client
        .get(script.url("/api/v1/demo/user"))
        .header(AUTHORIZATION, format!("Bearer {}", "x".repeat(600)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_panic_answers_500_with_the_request_id() {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;
    let server = start(&[]).await;
    let state = server.state.clone();
    let app = axum::Router::new()
        .route(
            "/boom",
            axum::routing::get(|| async {
                if true {
                    panic!("a handler bug");
                }
                "unreachable"
            }),
        )
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            server::http::observe::observe,
        ));
    let response = app
        .oneshot(
            Request::get("/boom")
                .header("x-request-id", "trace-me-42")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(response.headers()["x-request-id"], "trace-me-42");
    let body = axum::body::to_bytes(response.into_body(), 10_000)
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&body).contains("trace-me-42"));
    assert!(state
        .metrics
        .encode()
        .contains("registry_dash_panics_total 1"));
}

/// The bundle as `scripts/build-site.sh` leaves it: one directory named after its content
/// hash (from `pkg/site.json`), brotli and gzip copies. Pages link the files in it; the copy
/// the browser accepts is sent as it is, cached for a year; files outside it are revalidated.
#[tokio::test]
async fn the_bundle_is_sent_precompressed_from_its_hashed_directory_cached_for_ever() {
    let site = crate::common::cluster::TempDir::new("hashed-site");
    let pkg = site.0.join("pkg");
    let hash = "0123456789abcdef";
    std::fs::create_dir_all(pkg.join(hash)).unwrap();
    std::fs::write(pkg.join("site.json"), format!(r#"{{"bundle":"{hash}"}}"#)).unwrap();
    for (file, body) in [
        (format!("{hash}/frontend_bg.wasm"), "\0asm raw".to_string()),
        (format!("{hash}/frontend_bg.wasm.br"), "brotli copy".into()),
        (format!("{hash}/frontend_bg.wasm.gz"), "gzip copy".into()),
        (format!("{hash}/chunk_3.wasm"), "\0asm chunk".into()),
        (format!("{hash}/frontend.js"), "export default 1;".into()),
        (format!("{hash}/frontend.css"), "body{}".into()),
        (
            format!("{hash}/__wasm_split_manifest.json"),
            r#"{"browse_pages": ["chunk_3", "split_browse_pages"],
                "cleanup_pages": ["chunk_3", "split_cleanup_pages"]}"#
                .into(),
        ),
        (
            format!("{hash}/__wasm_split.______________________.js"),
            "export {};".into(),
        ),
        ("favicon.svg".into(), "<svg/>".into()),
    ] {
        std::fs::write(pkg.join(file), body).unwrap();
    }
    let server = start(&[("REGISTRY_DASH_SITE_ROOT", site.0.to_str().unwrap())]).await;
    let browser = Browser::new(&server);

    let page = browser.get("/login").await.text().await.unwrap();
    for link in [
        format!("/pkg/{hash}/frontend.js"),
        format!("/pkg/{hash}/frontend_bg.wasm"),
        format!("/pkg/{hash}/frontend.css"),
    ] {
        assert!(page.contains(&link), "{link} in\n{page}");
    }
    // The sign-in page is in the browse group: its head preloads that group's chunks, the way
    // the chunk loader fetches them, and the loader itself; not the policy page's chunk.
    let head = &page[..page.find("</head>").expect("a head")];
    let link_to = |href: &str| {
        head.split("<link")
            .find(|tag| tag.contains(&format!("href=\"{href}\"")))
            .map(|tag| tag[..tag.find('>').unwrap_or(tag.len())].to_string())
    };
    for chunk in ["chunk_3", "split_browse_pages"] {
        let tag = link_to(&format!("/pkg/{hash}/{chunk}.wasm"))
            .unwrap_or_else(|| panic!("no preload of {chunk} in\n{head}"));
        for attribute in [
            r#"rel="preload""#,
            r#"as="fetch""#,
            r#"crossorigin="anonymous""#,
        ] {
            assert!(tag.contains(attribute), "{attribute} in {tag}");
        }
    }
    let loader = link_to(&format!(
        "/pkg/{hash}/__wasm_split.______________________.js"
    ))
    .expect("the chunk loader is preloaded");
    assert!(loader.contains(r#"rel="modulepreload""#), "{loader}");
    assert!(!page.contains("split_cleanup_pages"), "{head}");

    let wasm = format!("/pkg/{hash}/frontend_bg.wasm");
    for (accept, encoding, body) in [
        ("br, gzip", Some("br"), "brotli copy"),
        ("gzip", Some("gzip"), "gzip copy"),
        ("identity", None, "\0asm raw"),
    ] {
        let answer = browser
            .client
            .get(browser.url(&wasm))
            .header("accept-encoding", accept)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::OK);
        let headers = answer.headers().clone();
        assert_eq!(
            headers.get("content-encoding").map(|v| v.to_str().unwrap()),
            encoding,
            "{accept}"
        );
        assert_eq!(
            headers["cache-control"],
            "public, max-age=31536000, immutable"
        );
        assert_eq!(headers["content-type"], "application/wasm");
        assert_eq!(headers["vary"], "accept-encoding", "{accept}");
        assert_eq!(answer.text().await.unwrap(), body, "{accept}");
    }
    let chunk = browser.get(&format!("/pkg/{hash}/chunk_3.wasm")).await;
    assert_eq!(
        chunk.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(chunk.headers()["content-type"], "application/wasm");
    let favicon = browser.get("/pkg/favicon.svg").await;
    assert_eq!(favicon.headers()["cache-control"], "no-cache");
    let missing = browser.get(&format!("/pkg/{hash}/frontend.js.map")).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_ne!(
        missing.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );

    let ready: Value = browser.get("/readyz").await.json().await.unwrap();
    assert_eq!(ready["site"], "ok", "{ready}");
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let site = std::env::temp_dir().join(format!("rd-site-{}", std::process::id()));
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    std::fs::write(site.join("pkg/frontend_bg.wasm"), b"\0asm").unwrap();
    let server = start(&[("REGISTRY_DASH_SITE_ROOT", site.to_str().unwrap())]).await;
    let browser = Browser::new(&server);
    assert_eq!(browser.get("/healthz").await.status(), StatusCode::OK);
    let ready = browser.get("/readyz").await;
    assert_eq!(ready.status(), StatusCode::OK);
    let report: Value = ready.json().await.unwrap();
    assert_eq!(report["gitlab"]["demo"], "ok", "{report}");
    assert_eq!(report["sessions"], "ok");

    browser.sign_in("maria", "/i/demo").await;
    assert_eq!(
        browser
            .get("/api/v1/demo/repositories/1/tags")
            .await
            .status(),
        StatusCode::OK
    );
    let metrics = browser.get("/metrics").await.text().await.unwrap();
    for needle in [
        "registry_dash_http_requests_total{route=\"/api/v1/{instance}/repositories/{id}/tags\",\
         method=\"GET\",status=\"200\"} 1",
        "registry_dash_gitlab_requests_total{kind=\"graphql\",outcome=\"ok\"}",
        "registry_dash_gitlab_request_duration_seconds_count{kind=\"graphql\"}",
        "registry_dash_sessions 1",
        "registry_dash_tag_indexes 1",
        "registry_dash_tag_index_bytes",
        "registry_dash_budget_waits_total",
    ] {
        assert!(metrics.contains(needle), "{needle} in\n{metrics}");
    }

    // Not ready without the site's files, nor when GitLab fails.
    let empty = std::env::temp_dir().join(format!("rd-nosite-{}", std::process::id()));
    let server = start(&[("REGISTRY_DASH_SITE_ROOT", empty.to_str().unwrap())]).await;
    let report: Value = Browser::new(&server)
        .get("/readyz")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["ready"], false);
    assert!(report["site"].as_str().unwrap().starts_with("missing"));
    let server = start(&[("REGISTRY_DASH_SITE_ROOT", site.to_str().unwrap())]).await;
    controls(&server).set_error_rate(1.0);
    let ready = Browser::new(&server).get("/readyz").await;
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let report: Value = ready.json().await.unwrap();
    assert_ne!(report["gitlab"]["demo"], "ok", "{report}");
}

#[tokio::test]
async fn https_deployments_get_hsts_and_host_prefixed_cookies() {
    let server = start(&[("REGISTRY_DASH_PUBLIC_URL", "https://dash.example.test")]).await;
    let browser = Browser::new(&server);
    let page = browser.get("/login").await;
    assert_eq!(
        page.headers()["strict-transport-security"],
        "max-age=31536000"
    );
    let login = browser.get("/auth/login").await;
    let cookie = crate::common::set_cookies(login.headers()).join("\n");
    assert!(
        cookie.starts_with("__Host-registry_dash_login="),
        "{cookie}"
    );
    assert!(
        cookie.contains("; Path=/") && cookie.contains("; Secure"),
        "{cookie}"
    );
    // Over http there is no HSTS.
    let plain = start(&[]).await;
    let page = Browser::new(&plain).get("/login").await;
    assert!(!page.headers().contains_key("strict-transport-security"));
}

#[tokio::test]
async fn sessions_end_after_their_absolute_lifetime_and_reading_extends_idle_ones() {
    use tower_sessions::session::Id;
    use tower_sessions::SessionStore;
    let server = start(&[]).await;
    let browser = signed_in(&server, "maria").await;
    let id: Id = browser
        .cookie("registry_dash_session")
        .unwrap()
        .parse()
        .unwrap();
    let store = &server.state.sessions;
    let first = store.load(&id).await.unwrap().unwrap().expiry_date;
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(browser.get("/i/demo").await.status(), StatusCode::OK);
    let later = store.load(&id).await.unwrap().unwrap().expiry_date;
    assert!(later > first, "reading a page moved the idle expiry on");

    // Thirteen hours after sign-in the session is over, however active.
    let mut record = store.load(&id).await.unwrap().unwrap();
    let thirteen_hours_ago = time::OffsetDateTime::now_utc().unix_timestamp() - 13 * 3600;
    record
        .data
        .insert("signed_in_at".into(), json!(thirteen_hours_ago));
    store.save(&record).await.unwrap();
    let page = browser.get("/i/demo").await;
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert!(
        store.load(&id).await.unwrap().is_none(),
        "the session is gone"
    );
}

#[tokio::test]
async fn signing_out_revokes_the_token_at_an_http_gitlab() {
    let server = start(&[]).await;
    let browser = signed_in(&server, "maria").await;
    let double = server.double.as_ref().unwrap();
    let tokens = double.double.controls().issued_tokens();
    let token = tokens.last().unwrap().access_token.clone();
    let user = format!("{}/api/v4/user", double.base_url);
    let gitlab = reqwest::Client::new();
    let status = |token: String| {
        let request = gitlab.get(&user).bearer_auth(token).send();
        async move { request.await.unwrap().status() }
    };
    assert_eq!(status(token.clone()).await, StatusCode::OK);
    let response = browser.post_form("/auth/logout", &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        status(token).await,
        StatusCode::UNAUTHORIZED,
        "GitLab no longer accepts the token"
    );
}
