//! Several GitLab instances at once: the user picks one at sign-in, URLs carry the instance,
//! and a sign-in to one grants nothing on the other.

use crate::common::{location, Browser};
use gitlab_double::{Double, DoubleConfig};
use reqwest::StatusCode;
use server::config::Config;

#[tokio::test]
async fn two_instances_side_by_side() {
    let one = Double::spawn(DoubleConfig::default()).await.unwrap();
    let two = Double::spawn(DoubleConfig::default()).await.unwrap();
    let dir = std::env::temp_dir().join(format!("rd-multi-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("config.toml");
    std::fs::write(
        &file,
        format!(
            r#"
listen = "127.0.0.1:0"
[[instances]]
name = "one"
label = "GitLab One"
base_url = "{}"
client_id = "registry-dash-demo"
client_secret = "registry-dash-demo-secret"
[[instances]]
name = "two"
label = "GitLab Two"
base_url = "{}"
client_id = "registry-dash-demo"
client_secret = "registry-dash-demo-secret"
scopes = ["read_api"]
"#,
            one.base_url, two.base_url
        ),
    )
    .unwrap();
    let config = Config::load(Some(&file), &[]).unwrap();
    let server = server::start(config).await.unwrap();
    assert!(
        server.double.is_none(),
        "configured instances mean no demo double"
    );
    // Each instance's application has its own callback (RFC 9700's mix-up defence).
    one.double.controls().register_redirect_uri(
        "registry-dash-demo",
        &format!("{}/auth/callback/one", server.base_url),
    );
    two.double.controls().register_redirect_uri(
        "registry-dash-demo",
        &format!("{}/auth/callback/two", server.base_url),
    );

    let browser = Browser::new(&server);
    let html = browser.get("/login").await.text().await.unwrap();
    assert!(html.contains("Sign in with GitLab One") && html.contains("Sign in with GitLab Two"));

    // Sign in to "one" only.
    let login = browser
        .client
        .get(browser.url("/auth/login?instance=one&return_to=/i/one"))
        .send()
        .await
        .unwrap();
    let authorize = url::Url::parse(location(login.headers())).unwrap();
    assert!(
        authorize.as_str().starts_with(&one.base_url),
        "goes to instance one"
    );
    let callback = browser.approve_at_gitlab(&authorize, "maria").await;
    let (_, to) = browser.finish_login(&callback).await;
    assert_eq!(to, "/i/one");
    assert_eq!(browser.get("/i/one").await.status(), StatusCode::OK);
    let other = browser.get("/i/two").await;
    assert_eq!(
        other.status(),
        StatusCode::SEE_OTHER,
        "no sign-in on two yet"
    );
    assert!(location(other.headers()).starts_with("/login?instance=two"));

    // Then to "two" too, with its own scopes; both stay signed in.
    let login = browser
        .client
        .get(browser.url("/auth/login?instance=two&return_to=/i/two"))
        .send()
        .await
        .unwrap();
    let authorize = url::Url::parse(location(login.headers())).unwrap();
    assert!(authorize.as_str().starts_with(&two.base_url));
    assert!(authorize
        .query_pairs()
        .any(|(k, v)| k == "scope" && v == "read_api"));
    let callback = browser.approve_at_gitlab(&authorize, "devon").await;
    browser.finish_login(&callback).await;
    let html = browser.get("/i/two").await.text().await.unwrap();
    assert!(html.contains("@devon"), "instance two knows devon");
    let html = browser.get("/i/one").await.text().await.unwrap();
    assert!(html.contains("@maria"), "instance one still knows maria");

    // Mix-up: an answer from instance two delivered to instance one's callback is refused.
    let mixed = Browser::new(&server);
    let login = mixed
        .client
        .get(mixed.url("/auth/login?instance=two&return_to=/i/two"))
        .send()
        .await
        .unwrap();
    let authorize = url::Url::parse(location(login.headers())).unwrap();
    let mut callback = mixed.approve_at_gitlab(&authorize, "devon").await;
    assert!(callback.path().ends_with("/auth/callback/two"));
    callback.set_path("/auth/callback/one");
    let (_, to) = mixed.finish_login(&callback).await;
    assert!(to.starts_with("/login?error=state"), "{to}");
    assert_eq!(mixed.get("/i/two").await.status(), StatusCode::SEE_OTHER);
    assert_eq!(mixed.get("/i/one").await.status(), StatusCode::SEE_OTHER);
}
