//! The BFF's sign-in, refresh and sign-out against the GitLab double, end to end over HTTP.

use crate::common::{location, set_cookies, start, Browser};
use reqwest::StatusCode;

#[tokio::test]
async fn pages_need_a_sign_in_and_come_back_to_the_same_url() {
    let server = start(&[]).await;
    let browser = Browser::new(&server);
    let response = browser
        .get("/i/demo/projects/acme/web?q=work&sort=name_desc")
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(response.headers()),
        "/login?instance=demo&return_to=/i/demo/projects/acme/web%3Fq%3Dwork%26sort%3Dname_desc"
    );
    browser
        .sign_in("maria", "/i/demo/projects/acme/web?q=work&sort=name_desc")
        .await;
    let page = browser
        .get("/i/demo/projects/acme/web?q=work&sort=name_desc")
        .await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("worker"),
        "filtered list shows the worker image"
    );
}

#[tokio::test]
async fn sign_in_rotates_the_session_id_and_sets_safe_cookies() {
    let server = start(&[]).await;
    let browser = Browser::new(&server);
    // A session someone planted before the sign-in (fixation) is not the one after it.
    browser.jar.add_cookie_str(
        "registry_dash_session=planted-by-an-attacker",
        &url::Url::parse(&browser.base).unwrap(),
    );
    let authorize = browser.begin_login("/i/demo").await;
    let before = "registry_dash_session=planted-by-an-attacker".to_string();
    // A sign-in in progress is no session: only the browser's sign-in cookie.
    let login_cookie = browser
        .cookie("registry_dash_login")
        .expect("the sign-in cookie ties the sign-in to this browser");
    assert_eq!(login_cookie.len(), 43);
    // GitLab gets the PKCE challenge and a state; never the verifier.
    let params: std::collections::HashMap<_, _> = authorize.query_pairs().into_owned().collect();
    assert_eq!(
        params.get("code_challenge_method").map(String::as_str),
        Some("S256")
    );
    assert!(params.get("state").is_some_and(|s| s.len() >= 16));
    assert!(params.contains_key("code_challenge"));
    assert_eq!(params.get("scope").map(String::as_str), Some("api"));

    let callback = browser.approve_at_gitlab(&authorize, "maria").await;
    let response = browser.client.get(callback.clone()).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let cookies = set_cookies(response.headers());
    let cookie = cookies
        .iter()
        .find(|c| c.starts_with("registry_dash_session="))
        .expect("a new session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    let after = browser.session_cookie().unwrap();
    assert_ne!(before, after, "session id must change at sign-in");

    // The callback cannot be replayed: the state was single use.
    let (status, to) = browser.finish_login(&callback).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(to.starts_with("/login?error=state"), "{to}");
}

#[tokio::test]
async fn an_unknown_state_is_refused() {
    let server = start(&[]).await;
    let browser = Browser::new(&server);
    browser.begin_login("/i/demo").await;
    let response = browser
        .get("/auth/callback/demo?code=abc&state=forged")
        .await;
    assert!(location(response.headers()).starts_with("/login?error=state"));

    // A state started in another browser does not work in this one.
    let other = Browser::new(&server);
    let authorize = other.begin_login("/i/demo").await;
    let callback = other.approve_at_gitlab(&authorize, "maria").await;
    let (_, to) = browser.finish_login(&callback).await;
    assert!(to.starts_with("/login?error=state"), "{to}");
    assert_eq!(
        browser.get("/i/demo").await.status(),
        StatusCode::SEE_OTHER,
        "still signed out"
    );
}

#[tokio::test]
async fn a_code_redeemed_with_the_wrong_pkce_verifier_fails() {
    let server = start(&[]).await;
    let browser = Browser::new(&server);
    // Two sign-ins in flight: A's state with B's code means B's challenge meets A's verifier.
    let a = browser.begin_login("/i/demo").await;
    let b = browser.begin_login("/i/demo").await;
    let callback_b = browser.approve_at_gitlab(&b, "maria").await;
    let code_b = callback_b
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let state_a = a
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let response = browser
        .client
        .get(browser.url("/auth/callback/demo"))
        .query(&[("code", code_b.as_str()), ("state", state_a.as_str())])
        .send()
        .await
        .unwrap();
    assert!(location(response.headers()).starts_with("/login?error=exchange"));
    assert_eq!(browser.get("/i/demo").await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_denied_sign_in_says_so() {
    let server = start(&[]).await;
    let browser = Browser::new(&server);
    let authorize = browser.begin_login("/i/demo").await;
    let state = authorize
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let response = browser
        .client
        .get(browser.url("/auth/callback/demo"))
        .query(&[("error", "access_denied"), ("state", state.as_str())])
        .send()
        .await
        .unwrap();
    assert!(location(response.headers()).starts_with("/login?error=access_denied"));
}

#[tokio::test]
async fn return_to_never_leaves_the_site() {
    let server = start(&[]).await;
    let browser = Browser::new(&server);
    let authorize = browser.begin_login("https://evil.example/steal").await;
    let callback = browser.approve_at_gitlab(&authorize, "maria").await;
    let (_, to) = browser.finish_login(&callback).await;
    assert_eq!(to, "/");
    let authorize = browser.begin_login("//evil.example").await;
    let callback = browser.approve_at_gitlab(&authorize, "maria").await;
    let (_, to) = browser.finish_login(&callback).await;
    assert_eq!(to, "/");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_tokens_are_refreshed_once_even_under_concurrency() {
    let server = start(&[]).await;
    let double = server.double.clone().unwrap().double;
    let browser = Browser::new(&server);
    browser.sign_in("maria", "/i/demo").await;
    for round in 0..2 {
        double.controls().expire_all_tokens();
        // Five requests at once: one refresh, the rest reuse its result (GitLab rotates the
        // refresh token, so a second refresh with the old one would sign the user out).
        let tasks: Vec<_> = (0..5)
            .map(|_| {
                let client = browser.client.clone();
                let url = browser.url("/api/fn/viewer");
                let origin = browser.base.clone();
                tokio::spawn(async move {
                    client
                        .post(url)
                        .header("origin", origin)
                        .json(&serde_json::json!({"instance": "demo"}))
                        .send()
                        .await
                        .unwrap()
                })
            })
            .collect();
        for task in tasks {
            let response = task.await.unwrap();
            let status = response.status();
            let body = response.text().await.unwrap();
            assert_eq!(status, StatusCode::OK, "round {round}: {body}");
            assert!(body.contains("\"username\":\"maria\""), "{body}");
        }
    }
    let page = browser.get("/i/demo").await;
    assert_eq!(page.status(), StatusCode::OK);
}

#[tokio::test]
async fn sign_out_needs_a_same_origin_post_and_ends_the_session() {
    let server = start(&[]).await;
    let browser = Browser::new(&server);
    browser.sign_in("maria", "/i/demo").await;

    // Cross-site or origin-less POSTs are refused (CSRF); GET does not sign out.
    let forged = browser
        .client
        .post(browser.url("/auth/logout"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let bare = browser
        .client
        .post(browser.url("/auth/logout"))
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        browser.get("/auth/logout").await.status(),
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(
        browser.get("/i/demo").await.status(),
        StatusCode::OK,
        "still signed in"
    );

    let response = browser.post_form("/auth/logout", &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(response.headers()), "/login?signed_out=1");
    assert_eq!(browser.get("/i/demo").await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn responses_carry_security_headers() {
    let server = start(&[]).await;
    let browser = Browser::new(&server);
    let page = browser.get("/login").await;
    assert_eq!(page.status(), StatusCode::OK);
    let headers = page.headers();
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["cache-control"], "private, no-store");
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self' 'nonce-"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Sign in with the demo GitLab"),
        "demo mode is said on the sign-in page"
    );
}
