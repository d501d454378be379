//! Cleanup policies over the JSON API: the saved policy, a draft's preview tag by tag, saving.

use crate::common::{preview_reason as reason, start, Browser};
use reqwest::header::ORIGIN;
use reqwest::StatusCode;
use serde_json::{json, Value};

const POLICY: &str = "/api/v1/demo/projects/acme%2Fweb/cleanup-policy";
const PREVIEW: &str = "/api/v1/demo/projects/acme%2Fweb/cleanup-preview";

#[tokio::test]
async fn the_saved_policy_and_who_may_edit_it() {
    let server = start(&[]).await;
    let maintainer = Browser::new(&server);
    maintainer.sign_in("maria", "/i/demo").await;
    let (status, body) = maintainer.get_json(POLICY).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let saved = &body["saved"]["policy"];
    assert_eq!(saved["keep_n"], 10);
    assert_eq!(saved["older_than"], "Days90");
    assert_eq!(saved["name_regex_keep"], r"v\d+\.\d+\.\d+");
    assert!(body["saved"]["next_run_at"].is_string());
    assert!(body["edit_refusal"].is_null());

    let developer = Browser::new(&server);
    developer.sign_in("devon", "/i/demo").await;
    let (_, body) = developer.get_json(POLICY).await;
    assert!(body["edit_refusal"]
        .as_str()
        .unwrap()
        .contains("Maintainer"));
}

#[tokio::test]
async fn the_preview_explains_every_tag_with_gitlabs_rules() {
    let server = start(&[]).await;
    let browser = Browser::new(&server);
    browser.sign_in("maria", "/i/demo").await;
    let (status, preview) = browser.get_json(PREVIEW).await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview["repositories"].as_array().unwrap().len(), 2);
    assert_eq!(reason(&preview, "acme/web", "latest"), "Latest");
    assert_eq!(reason(&preview, "acme/web", "v2.3.1"), "KeepRegex");
    let root = &preview["repositories"][0];
    let counted =
        root["summary"]["deleted"].as_u64().unwrap() + root["summary"]["kept"].as_u64().unwrap();
    assert_eq!(counted, 73, "every tag is decided");

    // A draft in the query: keep everything with the keep regex, nothing goes.
    let (_, keep_all) = browser
        .get_json(&format!("{PREVIEW}?name_regex_keep=.*"))
        .await;
    for repo in keep_all["repositories"].as_array().unwrap() {
        assert_eq!(repo["summary"]["deleted"], 0, "{repo}");
    }
    // GitLab's anchoring: `feature|main` = starts with "feature" or ends with "main".
    let (_, alternation) = browser
        .get_json(&format!(
            "{PREVIEW}?name_regex=feature%7Cmain&name_regex_keep=&keep_n=&older_than="
        ))
        .await;
    let warning = &alternation["warnings"][0];
    assert_eq!(warning["code"], "regex_alternation", "{warning}");
    assert_eq!(warning["regex"], "delete");
    assert_eq!(warning["pattern"], "feature|main");
    assert!(warning["message"].as_str().unwrap().contains("parentheses"));
    let decisions = alternation["repositories"][0]["decisions"]
        .as_array()
        .unwrap();
    for d in decisions {
        let name = d["name"].as_str().unwrap();
        let expect_deleted =
            name != "latest" && (name.starts_with("feature") || name.ends_with("main"));
        let deleted = d["reason"] == "Deleted" || d["reason"] == "Protected";
        assert_eq!(deleted, expect_deleted, "{name}: {}", d["reason"]);
    }

    // `show=deleted`, the policy page's switch: only the deleting decisions, whole counts.
    let everything = format!("{PREVIEW}?name_regex=.*&name_regex_keep=&keep_n=5&older_than=");
    let (_, all) = browser.get_json(&everything).await;
    let (status, only) = browser
        .get_json(&format!("{everything}&show=deleted"))
        .await;
    assert_eq!(status, StatusCode::OK, "{only}");
    let whole = &all["repositories"][0];
    let listed = only["repositories"][0]["decisions"].as_array().unwrap();
    assert!(!listed.is_empty());
    assert!(listed.len() < whole["decisions"].as_array().unwrap().len());
    assert!(listed.iter().all(|d| d["reason"] == "Deleted"), "{only}");
    assert_eq!(
        listed.len() as u64,
        whole["summary"]["deleted"].as_u64().unwrap()
    );
    assert_eq!(only["repositories"][0]["summary"], whole["summary"]);
    let (status, body) = browser.get_json(&format!("{PREVIEW}?show=some")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("show=deleted"));

    let (status, body) = browser
        .get_json(&format!("{PREVIEW}?name_regex=%28%3F%3Dv%29"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"]["message"].as_str().unwrap().contains("RE2"));
    let (status, _) = browser.get_json(&format!("{PREVIEW}?keep_n=7")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn maintainers_save_and_gitlab_keeps_it() {
    let server = start(&[]).await;
    let browser = Browser::new(&server);
    browser.sign_in("maria", "/i/demo").await;
    let put = |body: Value| {
        browser
            .client
            .put(browser.url(POLICY))
            .header(ORIGIN, &browser.base)
            .json(&body)
            .send()
    };
    let response = put(json!({
        "enabled": true, "cadence": "7d", "keep_n": 25, "older_than": "30d",
        "name_regex": "(feature|mr)-.*", "name_regex_keep": null
    }))
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let (_, body) = browser.get_json(POLICY).await;
    let saved = &body["saved"]["policy"];
    assert_eq!(saved["cadence"], "Weekly");
    assert_eq!(saved["keep_n"], 25);
    assert_eq!(saved["name_regex"], "(feature|mr)-.*");
    assert!(saved["name_regex_keep"].is_null());

    let refused = put(json!({"enabled": true, "cadence": "7d", "keep_n": 7}))
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);

    let developer = Browser::new(&server);
    developer.sign_in("devon", "/i/demo").await;
    let forbidden = developer
        .client
        .put(developer.url(POLICY))
        .header(ORIGIN, &developer.base)
        .json(&json!({"enabled": false, "cadence": "1d"}))
        .send()
        .await
        .unwrap();
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_policy_page_reads_gitlab_once_per_cache_period_and_again_after_a_save() {
    let server = start(&[]).await;
    let browser = Browser::new(&server);
    browser.sign_in("maria", "/i/demo").await;
    let (status, first) = browser.get_json(POLICY).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    // Within the access cache's period the same page asks GitLab nothing.
    let before = crate::common::requests(&server);
    let (_, again) = browser.get_json(POLICY).await;
    assert_eq!(crate::common::requests(&server) - before, 0);
    assert_eq!(again["saved"], first["saved"]);
    // A save through the dashboard is seen at once.
    let response = browser
        .client
        .put(browser.url(POLICY))
        .header(ORIGIN, &browser.base)
        .json(&json!({"enabled": true, "cadence": "14d", "keep_n": 5, "older_than": "14d"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let (_, after) = browser.get_json(POLICY).await;
    assert_eq!(after["saved"]["policy"]["keep_n"], 5);
    assert_eq!(after["saved"]["policy"]["cadence"], "Fortnightly");
}

#[tokio::test]
async fn policy_pages_beyond_their_limit_wait_their_turn_and_all_arrive() {
    let server = start(&[
        ("REGISTRY_DASH_POLICY_PAGES_IN_FLIGHT", "1"),
        ("REGISTRY_DASH_DEMO_LATENCY_MS", "20"),
    ])
    .await;
    let browser = Browser::new(&server);
    browser.sign_in("maria", "/i/demo").await;
    // One page first, so the repositories' indexes are built: the four below then queue for
    // the page limit alone, not behind index building as well (which, on a loaded machine,
    // pushed the last one past the client's timeout).
    let first = browser.get("/i/demo/cleanup/acme%2Fweb").await;
    assert_eq!(first.status(), StatusCode::OK);
    let pages = futures::future::join_all((0..4).map(|_| async {
        let response = browser.get("/i/demo/cleanup/acme%2Fweb").await;
        let status = response.status();
        (status, response.text().await.unwrap())
    }))
    .await;
    for (status, html) in pages {
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("acme/web"), "a whole page");
    }
}

/// A preview listing only deleted tags says so when a repository loses none, instead of
/// showing a table of headers.
#[tokio::test]
async fn the_policy_page_says_when_a_repository_would_lose_no_tag() {
    let server = start(&[]).await;
    let browser = Browser::new(&server);
    browser.sign_in("maria", "/i/demo").await;
    let draft = "/i/demo/cleanup/acme/web?enabled=true&cadence=1d&keep_n=&older_than=\
                 &name_regex=no-such-tag-.*&name_regex_keep=";
    let only_deleted = browser
        .get(&format!("{draft}&show=deleted"))
        .await
        .text()
        .await
        .expect("the page");
    assert!(
        only_deleted.contains("No tag of this repository would be deleted."),
        "{only_deleted}"
    );
    assert!(!only_deleted.contains("data-decision="), "{only_deleted}");
    let everything = browser.get(draft).await.text().await.expect("the page");
    assert!(
        everything.contains("data-decision=\"keep\""),
        "{everything}"
    );
    assert!(!everything.contains("would be deleted."), "{everything}");
}

/// The preview flags what a draft deletes although GitLab says it is in use: the running
/// release among them, with the environment that runs it.
#[tokio::test]
async fn the_preview_warns_about_tags_in_use_it_would_delete() {
    let server = start(&[]).await;
    let browser = Browser::new(&server);
    browser.sign_in("maria", "/i/demo").await;
    // Every v2 release, nothing kept by name.
    let (status, preview) = browser
        .get_json(&format!(
            "{PREVIEW}?name_regex=v2%5C..*&name_regex_keep=&keep_n=&older_than="
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(reason(&preview, "acme/web", "v2.3.1"), "Deleted");
    let root = &preview["repositories"][0];
    let warning = root["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["code"] == "deletes_in_use")
        .unwrap_or_else(|| panic!("{root}"));
    assert_eq!(warning["environments"], json!(["production"]));
    assert!(warning["names"]
        .as_array()
        .unwrap()
        .contains(&json!("v2.3.1")));
    // The saved policy keeps every release by its keep regex: nothing in use is named.
    let (_, saved) = browser.get_json(PREVIEW).await;
    let names: Vec<&Value> = saved["repositories"][0]["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["code"] == "deletes_in_use")
        .flat_map(|w| w["names"].as_array().unwrap())
        .collect();
    assert!(!names.contains(&&json!("v2.3.1")), "{names:?}");
}
