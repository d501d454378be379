//! Protection rules and "Run now" through the server functions the policy page calls: rules
//! change the preview at once, GitLab's limits hold, and a bulk delete runs only as confirmed.

use crate::common::{preview_decisions as decisions, preview_reason as reason, start, Browser};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

const POLICY: &str = "/api/v1/demo/projects/acme%2Fweb/cleanup-policy";
const PREVIEW: &str = "/api/v1/demo/projects/acme%2Fweb/cleanup-preview";

async fn get(browser: &Browser, path: &str) -> Value {
    let (status, body) = browser.get_json(path).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn change(browser: &Browser, change: Value) -> (StatusCode, Value) {
    let response = browser
        .server_fn(
            "change_protection_rule",
            json!({"instance": "demo", "project_path": "acme/web", "change": change}),
        )
        .await;
    let status = response.status();
    let text = response.text().await.expect("a body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn create_tag(pattern: &str) -> Value {
    json!({"CreateTag": {"pattern": pattern, "min_push": "Maintainer", "min_delete": "Maintainer"}})
}

#[tokio::test]
async fn tag_rules_change_the_preview_at_once() {
    let server = start(&[]).await;
    let maria = Browser::new(&server);
    maria.sign_in("maria", "/i/demo").await;
    let all = format!("{PREVIEW}?name_regex=.*&name_regex_keep=&keep_n=&older_than=");
    let before = get(&maria, &all).await;
    assert_eq!(
        reason(&before, "acme/web", "stable"),
        "Protected",
        "demo rule ^stable$"
    );
    let victim = decisions(&before, "acme/web")
        .iter()
        .find(|d| d["reason"] == "Deleted")
        .unwrap()["name"]
        .as_str()
        .unwrap()
        .to_string();

    let (status, rules) = change(&maria, create_tag(&format!("^{victim}$"))).await;
    assert_eq!(status, StatusCode::OK, "{rules}");
    let created = rules["tag"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["pattern"] == format!("^{victim}$"))
        .unwrap()["id"]
        .as_u64()
        .unwrap();
    let policy = get(&maria, POLICY).await;
    assert_eq!(policy["rules"]["tag"].as_array().unwrap().len(), 2);
    let after = get(&maria, &all).await;
    assert_eq!(reason(&after, "acme/web", &victim), "Protected");
    // The tag list read the tags again: the new rule's tag is listed as protected.
    let protected = get(&maria, "/api/v1/demo/repositories/1/tags?kind=protected").await;
    let names: Vec<&str> = protected["slice"]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&victim.as_str()), "{names:?}");

    // GitLab's checks, before GitLab is asked.
    let (status, body) = change(&maria, create_tag(&format!("^{victim}$"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.to_string().contains("already exists"), "{body}");
    let (status, body) = change(&maria, create_tag("(?<=v)1")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.to_string().contains("RE2"), "{body}");
    for pattern in ["^a", "^b", "^c"] {
        assert_eq!(change(&maria, create_tag(pattern)).await.0, StatusCode::OK);
    }
    let (status, body) = change(&maria, create_tag("^d")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.to_string().contains("at most 5"), "{body}");

    let devon = Browser::new(&server);
    devon.sign_in("devon", "/i/demo").await;
    let (status, _) = change(&devon, json!({"DeleteTag": created})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let policy = get(&devon, POLICY).await;
    assert!(policy["rules"].is_null());
    assert!(policy["rules_note"]
        .as_str()
        .unwrap()
        .contains("Maintainer"));

    let (status, rules) = change(&maria, json!({"DeleteTag": created})).await;
    assert_eq!(status, StatusCode::OK, "{rules}");
    assert_eq!(rules["tag"].as_array().unwrap().len(), 4);
    let restored = get(&maria, &all).await;
    assert_eq!(reason(&restored, "acme/web", &victim), "Deleted");
}

#[tokio::test]
async fn repository_rules_round_trip_with_gitlabs_grammar() {
    let server = start(&[]).await;
    let maria = Browser::new(&server);
    maria.sign_in("maria", "/i/demo").await;
    let draft =
        |pattern: &str| json!({"pattern": pattern, "min_push": null, "min_delete": "Owner"});
    let (status, body) = change(&maria, json!({"CreateRepository": draft("other/web/*")})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.to_string().contains("acme/web"), "{body}");
    let (status, rules) = change(&maria, json!({"CreateRepository": draft("acme/web/*")})).await;
    assert_eq!(status, StatusCode::OK, "{rules}");
    let rule = rules["repository"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["pattern"] == "acme/web/*")
        .unwrap()
        .clone();
    assert_eq!(rule["min_delete"], "Owner");
    assert!(rule["min_push"].is_null());
    let id = rule["id"].as_u64().unwrap();
    let (status, rules) = change(
        &maria,
        json!({"UpdateRepository": [id, {"pattern": "acme/web/work*", "min_push": "Maintainer",
                                         "min_delete": null}]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{rules}");
    let updated = rules["repository"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap();
    assert_eq!(updated["pattern"], "acme/web/work*");
    assert_eq!(updated["min_push"], "Maintainer");
    let (status, rules) = change(&maria, json!({"DeleteRepository": id})).await;
    assert_eq!(status, StatusCode::OK);
    assert!(rules["repository"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["id"] != id));
}

#[tokio::test]
async fn run_now_deletes_only_what_was_confirmed_and_once_an_hour() {
    let server = start(&[]).await;
    let maria = Browser::new(&server);
    maria.sign_in("maria", "/i/demo").await;
    let saved = get(&maria, POLICY).await["saved"]["policy"].clone();
    let policy_for = |regex: &str| {
        let mut policy = saved.clone();
        policy["name_regex"] = json!(regex);
        policy["name_regex_keep"] = Value::Null;
        policy["keep_n"] = Value::Null;
        policy["older_than"] = Value::Null;
        policy
    };
    // What the policy page would have the user confirm in acme/web/worker.
    let offer = |regex: &'static str| {
        let maria = &maria;
        async move {
            let preview = get(
                maria,
                &format!("{PREVIEW}?name_regex={regex}&name_regex_keep=&keep_n=&older_than="),
            )
            .await;
            let worker = preview["repositories"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["path"] == "acme/web/worker")
                .unwrap()["id"]
                .clone();
            preview["run"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["repository_id"] == worker)
                .unwrap()
                .clone()
        }
    };
    let run = |regex: &str, confirmation: Value| {
        maria.server_fn(
            "run_cleanup_now",
            json!({"instance": "demo", "project_path": "acme/web", "policy": policy_for(regex),
                   "confirmed": [confirmation]}),
        )
    };
    let confirmation = offer("main-.*").await;
    let id = confirmation["repository_id"].as_u64().unwrap();
    let doomed = confirmation["tags"].as_u64().unwrap();
    assert!(doomed > 0);

    // The same number of tags but another set, or another number: not sent.
    let mut other_set = confirmation.clone();
    other_set["fingerprint"] = json!("0000000000000000");
    let outcome: Value = run("main-.*", other_set).await.json().await.unwrap();
    assert_eq!(outcome[0]["result"]["Changed"]["now"], doomed, "{outcome}");
    let mut fewer = confirmation.clone();
    fewer["tags"] = json!(doomed - 1);
    let outcome: Value = run("main-.*", fewer).await.json().await.unwrap();
    assert_eq!(outcome[0]["result"]["Changed"]["now"], doomed, "{outcome}");

    let outcome: Value = run("main-.*", confirmation.clone())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(outcome[0]["result"], "Accepted", "{outcome}");
    // GitLab deletes in the background; the index is rebuilt on the next look.
    let mut left = u64::MAX;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let after = get(&maria, &format!("{PREVIEW}?name_regex=main-.*")).await;
        let repo = after["repositories"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .unwrap()
            .clone();
        left = repo["decisions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["name"].as_str().unwrap().starts_with("main-"))
            .count() as u64;
        if left == 0 {
            break;
        }
    }
    assert_eq!(left, 0, "GitLab deleted the main-* tags");

    // Nothing left to delete: not sent.
    let outcome: Value = run("main-.*", confirmation).await.json().await.unwrap();
    assert_eq!(outcome[0]["result"], "Nothing", "{outcome}");
    // Something else in the same repository within the hour: GitLab refuses.
    let outcome: Value = run("v1\\.0\\.0", offer("v1%5C.0%5C.0").await)
        .await
        .json()
        .await
        .unwrap();
    let refused = outcome[0]["result"]["Refused"].as_str().unwrap();
    assert!(refused.contains("once an hour"), "{refused}");

    let devon = Browser::new(&server);
    devon.sign_in("devon", "/i/demo").await;
    let response = devon
        .server_fn(
            "run_cleanup_now",
            json!({"instance": "demo", "project_path": "acme/web", "policy": policy_for("main-.*"),
                   "confirmed": [{"repository_id": id, "tags": 1,
                                  "fingerprint": "0123456789abcdef"}]}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_api_runs_what_the_preview_offers_and_changes_rules() {
    let server = start(&[]).await;
    let maria = Browser::new(&server);
    maria.sign_in("maria", "/i/demo").await;
    let draft = "name_regex=edge-.*&name_regex_keep=&keep_n=&older_than=";
    let preview = get(
        &maria,
        &format!("/api/v1/demo/projects/opensource%2Fcli/cleanup-preview?{draft}"),
    )
    .await;
    assert_eq!(preview["run"][0]["repository_id"], 7);
    assert_eq!(preview["run"][0]["tags"], 5);
    let post = |path: String, body: Value| {
        maria
            .client
            .post(maria.url(&path))
            .header(reqwest::header::ORIGIN, &maria.base)
            .json(&body)
            .send()
    };
    let response = post(
        format!("/api/v1/demo/projects/opensource%2Fcli/cleanup-runs?{draft}"),
        json!({"confirmed": preview["run"]}),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let outcomes: Value = response.json().await.unwrap();
    assert_eq!(outcomes[0]["result"], "Accepted", "{outcomes}");

    let rules = "/api/v1/demo/projects/acme%2Fweb/protection-rules".to_string();
    let response = post(rules.clone(), create_tag("^release-")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert!(body["tag"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["pattern"] == "^release-"));
    let response = post(rules, json!({"Protect": "everything"})).await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}
