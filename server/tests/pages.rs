//! Server-rendered pages against the GitLab double: data in the HTML (no JavaScript needed),
//! GitLab's permission answers told apart, GitLab failures shown clearly.

use crate::common::{start, Browser};
use reqwest::StatusCode;

#[tokio::test]
async fn the_project_list_is_rendered_on_the_server() {
    let server = start(&[]).await;
    let browser = Browser::new(&server);
    browser.sign_in("maria", "/i/demo").await;
    let page = browser.get("/i/demo").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(
        html.contains(r#"data-project="acme/web""#),
        "acme/web is listed"
    );
    assert!(html.contains(r#"data-project="acme/platform/api""#));
    assert!(
        !html.contains(r#"data-project="acme/platform/tools""#),
        "a project without images is hidden"
    );
    assert!(
        !html.contains(r#"data-project="olivia/secret""#),
        "maria is not a member"
    );
    // Search lives in the URL and is applied on the server.
    let html = browser.get("/i/demo?q=cli").await.text().await.unwrap();
    assert!(html.contains(r#"data-project="opensource/cli""#));
    assert!(!html.contains(r#"data-project="acme/web""#));
}

#[tokio::test]
async fn repositories_are_searched_and_sorted_by_the_url() {
    let server = start(&[]).await;
    let browser = Browser::new(&server);
    browser.sign_in("devon", "/i/demo").await;
    let html = browser
        .get("/i/demo/projects/acme/platform/api?sort=name_desc")
        .await
        .text()
        .await
        .unwrap();
    let order: Vec<&str> = html
        .match_indices(r#"data-repository=""#)
        .map(|(i, m)| {
            let rest = &html[i + m.len()..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect();
    assert_eq!(
        order,
        [
            "acme/platform/api/server",
            "acme/platform/api/migrations",
            "acme/platform/api/legacy"
        ]
    );
    assert!(html.contains(r#"aria-sort="descending""#));
    let html = browser
        .get("/i/demo/projects/acme/platform/api?q=mig")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(html.matches(r#"data-repository=""#).count(), 1);
    assert!(
        html.contains(r#"value="mig""#),
        "the search box shows the search"
    );
    // A bad sort in a shared link falls back and says so.
    let html = browser
        .get("/i/demo/projects/acme/platform/api?sort=bogus")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Unknown sort"));
    assert_eq!(html.matches(r#"data-repository=""#).count(), 3);
}

#[tokio::test]
async fn a_project_you_cannot_see_is_not_found_and_a_guest_is_forbidden() {
    let server = start(&[]).await;
    let maria = Browser::new(&server);
    maria.sign_in("maria", "/i/demo").await;
    let page = maria.get("/i/demo/projects/olivia/secret").await;
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    assert!(page.text().await.unwrap().contains("Not found"));

    let gus = Browser::new(&server);
    gus.sign_in("gus", "/i/demo").await;
    let page = gus.get("/i/demo/projects/acme/web").await;
    assert_eq!(page.status(), StatusCode::FORBIDDEN);
    assert!(page.text().await.unwrap().contains("Access denied"));

    let page = maria.get("/i/demo/groups/no-such-group").await;
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    let page = maria.get("/i/elsewhere").await;
    assert_ne!(
        page.status(),
        StatusCode::OK,
        "an unknown instance is not a page"
    );
}

#[tokio::test]
async fn gitlab_failures_are_shown_as_such() {
    let server = start(&[]).await;
    let double = server.double.clone().unwrap().double;
    let browser = Browser::new(&server);
    browser.sign_in("maria", "/i/demo").await;

    double.controls().set_error_rate(1.0);
    let page = browser.get("/i/demo/projects/acme/web").await;
    assert_eq!(page.status(), StatusCode::BAD_GATEWAY);
    let html = page.text().await.unwrap();
    assert!(html.contains("GitLab is unreachable"), "{html}");
    double.controls().set_error_rate(0.0);

    double.controls().set_rate_limit(Some(1));
    let _ = browser.get("/i/demo/projects/acme/web").await;
    let page = browser.get("/i/demo/projects/acme/web").await;
    assert_eq!(page.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(page.text().await.unwrap().contains("Too many requests"));
    double.controls().set_rate_limit(None);

    let page = browser.get("/i/demo/projects/acme/web").await;
    assert_eq!(page.status(), StatusCode::OK, "recovers once GitLab does");
}

#[tokio::test]
async fn groups_and_group_repositories() {
    let server = start(&[]).await;
    let browser = Browser::new(&server);
    browser.sign_in("maria", "/i/demo/groups").await;
    let html = browser.get("/i/demo/groups").await.text().await.unwrap();
    assert!(html.contains(r#"data-group="acme""#));
    assert!(html.contains(r#"data-group="opensource""#));
    let html = browser
        .get("/i/demo/groups/acme")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains(r#"data-repository="acme/web/worker""#));
    assert!(html.contains(r#"data-repository="acme/platform/api/server""#));
}
