//! Several replicas sharing Redis behind a round-robin haproxy (see `common::cluster`):
//! sign-ins cross replicas, sessions survive restarts, a rotating refresh token is redeemed
//! once, budgets hold for the deployment, and a Redis outage is said clearly and recovered
//! from.

use crate::common::cluster::{free_port, Cluster, RedisServer};
use crate::common::{location, start, Browser};
use crate::tags::{call, complete_list, tag_list, API_SERVER, WEB_WORKER};
use domain::tags::DeleteOutcome;
use reqwest::StatusCode;
use serde_json::json;
use std::time::{Duration, Instant};
use url::Url;

/// `url` with its scheme, host and port replaced by `base`'s.
fn on(base: &str, url: &Url) -> Url {
    let base = Url::parse(base).expect("a valid URL");
    let mut moved = url.clone();
    moved
        .set_port(base.port())
        .expect("a URL that takes a port");
    moved
}

async fn status_of(browser: &Browser, base: &str, path: &str) -> StatusCode {
    browser
        .client
        .get(format!("{base}{path}"))
        .send()
        .await
        .expect("the server answers")
        .status()
}

#[tokio::test]
async fn a_sign_in_started_on_one_replica_finishes_on_the_other_and_survives_restarts() {
    let mut cluster = Cluster::start(2, &[]).await;
    let browser = Browser::at(&cluster.replica_url(0));
    let authorize = browser.begin_login("/i/demo").await;
    let callback = browser.approve_at_gitlab(&authorize, "maria").await;
    assert!(callback.as_str().starts_with(&cluster.url()), "{callback}");

    // GitLab sends the browser back through the proxy; here it reaches the other replica.
    let on_b = on(&cluster.replica_url(1), &callback);
    let (status, to) = browser.finish_login(&on_b).await;
    assert_eq!((status, to.as_str()), (StatusCode::SEE_OTHER, "/i/demo"));
    // The sign-in in progress was used up on every replica.
    let (_, again) = browser
        .finish_login(&on(&cluster.replica_url(0), &callback))
        .await;
    assert!(again.starts_with("/login?error=state"), "{again}");

    for base in [
        cluster.replica_url(0),
        cluster.replica_url(1),
        cluster.url(),
    ] {
        assert_eq!(
            status_of(&browser, &base, "/i/demo").await,
            StatusCode::OK,
            "{base}"
        );
    }

    // A rolling restart, then a full one: the session is in Redis, not in a process.
    cluster.stop(0).await;
    assert_eq!(
        status_of(&browser, &cluster.url(), "/i/demo").await,
        StatusCode::OK
    );
    cluster.restart(0).await;
    cluster.stop(1).await;
    assert_eq!(
        status_of(&browser, &cluster.url(), "/i/demo").await,
        StatusCode::OK
    );
    cluster.stop(0).await;
    cluster.restart(0).await;
    cluster.restart(1).await;
    for base in [cluster.replica_url(0), cluster.replica_url(1)] {
        assert_eq!(
            status_of(&browser, &base, "/i/demo").await,
            StatusCode::OK,
            "{base}"
        );
    }

    // Signing out on one replica ends the session on all.
    let out = browser
        .client
        .post(format!("{}/auth/logout", cluster.replica_url(1)))
        .header("origin", cluster.url())
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let page = browser
        .client
        .get(format!("{}/i/demo", cluster.replica_url(0)))
        .send()
        .await
        .unwrap();
    assert!(
        location(page.headers()).starts_with("/login"),
        "{:?}",
        page.headers()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_token_is_redeemed_once_when_both_replicas_refresh_at_once() {
    let cluster = Cluster::start(2, &[]).await;
    let browser = Browser::at(&cluster.url());
    browser.sign_in("maria", "/i/demo").await;
    let controls = cluster.double.controls();
    for round in 0..3 {
        controls.expire_all_tokens();
        let before = controls.refresh_count();
        // Eight requests at the same instant, four on each replica, each asking GitLab
        // (which now refuses the token) for the user's projects.
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let client = browser.client.clone();
                let url = format!("{}/api/v1/demo/projects", cluster.replica_url(i % 2));
                tokio::spawn(async move { client.get(url).send().await.unwrap() })
            })
            .collect();
        for task in tasks {
            let response = task.await.unwrap();
            let status = response.status();
            let body = response.text().await.unwrap();
            assert_eq!(status, StatusCode::OK, "round {round}: {body}");
            assert!(body.contains("\"full_path\""), "{body}");
        }
        assert_eq!(
            controls.refresh_count() - before,
            1,
            "round {round}: GitLab saw the refresh token more than once"
        );
    }
}

#[tokio::test]
async fn a_users_request_budget_holds_for_the_whole_deployment() {
    let cluster = Cluster::start(2, &[("REGISTRY_DASH_API_REQUESTS_PER_MINUTE", "4")]).await;
    let browser = Browser::at(&cluster.url());
    browser.sign_in("maria", "/i/demo").await;
    let mut statuses = Vec::new();
    for i in 0..6 {
        let base = cluster.replica_url(i % 2);
        statuses.push(status_of(&browser, &base, "/api/v1/demo/user").await);
    }
    // Four in all, not four per replica.
    assert_eq!(
        statuses,
        [
            [StatusCode::OK; 4].as_slice(),
            &[StatusCode::TOO_MANY_REQUESTS; 2]
        ]
        .concat()
    );
}

async fn redis_state(browser: &Browser, base: &str) -> String {
    let report: serde_json::Value = browser
        .client
        .get(format!("{base}/readyz"))
        .send()
        .await
        .expect("the server answers")
        .json()
        .await
        .expect("a JSON body");
    report["redis"].as_str().expect("a string").to_string()
}

async fn wait_for_redis_state(browser: &Browser, base: &str, ok: bool) {
    let started = Instant::now();
    loop {
        let state = redis_state(browser, base).await;
        if (state == "ok") == ok {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "redis stays {state}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test]
async fn a_redis_outage_is_said_clearly_and_service_resumes_when_redis_returns() {
    let mut cluster = Cluster::start(1, &[]).await;
    let base = cluster.replica_url(0);
    let browser = Browser::at(&base);
    browser.sign_in("maria", "/i/demo").await;

    // A hung Redis: readiness fails, pages say to try again, nothing is lost.
    cluster.redis.freeze();
    wait_for_redis_state(&browser, &base, false).await;
    let page = browser.get("/i/demo").await;
    assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(page.headers().contains_key("retry-after"));
    let login = browser
        .client
        .get(browser.url("/auth/login?instance=demo"))
        .send()
        .await
        .unwrap();
    assert!(
        location(login.headers()).starts_with("/login?error=sessions"),
        "{:?}",
        login.headers()
    );
    cluster.redis.thaw();
    wait_for_redis_state(&browser, &base, true).await;
    assert_eq!(browser.get("/i/demo").await.status(), StatusCode::OK);

    // Redis lost its data: the session is gone, and signing in again works.
    cluster.redis.restart_empty();
    let started = Instant::now();
    let page = loop {
        // Requests in flight on the old connection fail once; the next one reconnects.
        let page = browser.get("/i/demo").await;
        if page.status() != StatusCode::SERVICE_UNAVAILABLE {
            break page;
        }
        assert!(started.elapsed() < Duration::from_secs(10));
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(location(page.headers()).starts_with("/login"));
    browser.sign_in("maria", "/i/demo").await;
    assert_eq!(browser.get("/i/demo").await.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_share_one_tag_index_and_every_deletion() {
    let cluster = Cluster::start(2, &[]).await;
    let olivia = Browser::at(&cluster.url());
    olivia.sign_in("olivia", "/i/demo").await;
    let (a, b) = (
        olivia.via(&cluster.replica_url(0)),
        olivia.via(&cluster.replica_url(1)),
    );
    let before = cluster.double.controls().request_count();
    // The same 10,000-tag list opened on both replicas at once: one builds, one follows.
    let (first, second) = tokio::join!(
        complete_list(&a, API_SERVER, "sort=size_desc"),
        complete_list(&b, API_SERVER, "sort=size_desc"),
    );
    let used = cluster.double.controls().request_count() - before;
    assert_eq!(first.progress.indexed, 10_000);
    assert_eq!(second.progress.indexed, 10_000);
    assert_eq!(first.slice.tags, second.slice.tags);
    // One build is about 600 requests (see `tags`); two would be twice that.
    assert!(
        used < 800,
        "two replicas indexing 10,000 tags took {used} GitLab requests"
    );

    // Filtering on either replica answers from the shared index, without indexing again.
    let before = cluster.double.controls().request_count();
    let on_a = tag_list(&a, API_SERVER, "q=main&sort=name_asc")
        .await
        .unwrap();
    let on_b = tag_list(&b, API_SERVER, "q=main&sort=name_asc")
        .await
        .unwrap();
    assert!(on_a.slice.matched > 0);
    assert_eq!(on_a.slice, on_b.slice);
    assert!(cluster.double.controls().request_count() - before <= 4);

    // A deletion through one replica is gone from the other's next answer.
    let devon = Browser::at(&cluster.url());
    devon.sign_in("devon", "/i/demo").await;
    let (a, b) = (
        devon.via(&cluster.replica_url(0)),
        devon.via(&cluster.replica_url(1)),
    );
    let listed = complete_list(&b, WEB_WORKER, "sort=name_asc").await;
    assert_eq!(listed.progress.indexed, 15);
    let victims: Vec<String> = listed.slice.tags[..2]
        .iter()
        .map(|t| t.name.clone())
        .collect();
    let outcomes: Vec<DeleteOutcome> = call(
        &a,
        "delete_tags",
        json!({"instance": "demo", "repository_id": WEB_WORKER, "names": victims}),
    )
    .await;
    assert!(outcomes.iter().all(|o| o.deleted), "{outcomes:?}");
    let after = tag_list(&b, WEB_WORKER, "sort=name_asc").await.unwrap();
    assert_eq!(after.slice.matched, 13);
    assert!(after.slice.tags.iter().all(|t| !victims.contains(&t.name)));
}

#[tokio::test]
async fn a_server_started_while_redis_is_down_says_so_and_serves_once_it_is_up() {
    let port = free_port();
    let url = format!("redis://127.0.0.1:{port}/");
    let server = start(&[("REGISTRY_DASH_REDIS_URL", url.as_str())]).await;
    let browser = Browser::new(&server);
    wait_for_redis_state(&browser, &server.base_url, false).await;
    let login = browser.get("/auth/login?instance=demo").await;
    let to = location(login.headers()).to_string();
    assert!(to.starts_with("/login?error=sessions"), "{to}");
    let page = browser.get(&to).await.text().await.unwrap();
    assert!(page.contains("session store is not answering"), "{page}");

    let _redis = RedisServer::start_on(port);
    wait_for_redis_state(&browser, &server.base_url, true).await;
    browser.sign_in("maria", "/i/demo").await;
    assert_eq!(browser.get("/i/demo").await.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manifests_one_replica_read_are_shared_through_redis() {
    const CLI_ROOT: u64 = 7;
    let cluster = Cluster::start(2, &[]).await;
    let maria = Browser::at(&cluster.url());
    maria.sign_in("maria", "/i/demo").await;
    let (a, b) = (
        maria.via(&cluster.replica_url(0)),
        maria.via(&cluster.replica_url(1)),
    );
    complete_list(&a, CLI_ROOT, "").await;
    complete_list(&b, CLI_ROOT, "").await;
    async fn storage(browser: &Browser) -> domain::storage::RepositoryStorage {
        call(
            browser,
            "repository_storage",
            json!({"instance": "demo", "repository_id": 7, "read_layers": false}),
        )
        .await
    }
    let before = cluster.double.controls().request_count();
    let on_a = storage(&a).await;
    let spent_a = cluster.double.controls().request_count() - before;
    assert!(on_a.progress.complete, "{:?}", on_a.progress);
    assert!(
        spent_a > 2,
        "replica A read the manifests from GitLab: {spent_a}"
    );
    // Replica B holds none of them in memory, but Redis does: only GitLab's size is asked.
    let before = cluster.double.controls().request_count();
    let on_b = storage(&b).await;
    let spent_b = cluster.double.controls().request_count() - before;
    assert!(on_b.progress.complete, "{:?}", on_b.progress);
    assert_eq!(on_b.summary, on_a.summary);
    assert!(spent_b <= 2, "replica B asked GitLab {spent_b} times");
}
