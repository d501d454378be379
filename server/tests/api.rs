//! The JSON API: session cookie or GitLab bearer token, clear errors, CSRF rules, and an
//! OpenAPI document that lists every route.

use crate::common::{controls, json_of, start, Browser};
use reqwest::header::{AUTHORIZATION, ORIGIN};
use reqwest::StatusCode;
use serde_json::{json, Value};

#[tokio::test]
async fn the_openapi_document_lists_every_route() {
    let server = start(&[]).await;
    let browser = Browser::new(&server);
    let (status, doc) = json_of(browser.get("/api/v1/openapi.json").await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    for path in [
        "/api/v1/instances",
        "/api/v1/{instance}/user",
        "/api/v1/{instance}/projects",
        "/api/v1/{instance}/groups",
        "/api/v1/{instance}/projects/{project}/repositories",
        "/api/v1/{instance}/groups/{group}/repositories",
        "/api/v1/{instance}/repositories/{id}/tags",
        "/api/v1/{instance}/repositories/{id}/tags/{tag}",
        "/api/v1/{instance}/repositories/{id}/usage",
        "/api/v1/{instance}/repositories/{id}/deletion-plan",
        "/api/v1/{instance}/repositories/{id}/tag-deletions",
        "/api/v1/{instance}/repositories/{id}/deletion",
        "/api/v1/{instance}/repositories/{id}/deletion-estimate",
        "/api/v1/{instance}/repositories/{id}/storage",
        "/api/v1/{instance}/repositories/{id}/comparison",
        "/api/v1/{instance}/projects/{project}/storage",
        "/api/v1/{instance}/projects/{project}/cleanup-policy",
        "/api/v1/{instance}/projects/{project}/cleanup-preview",
        "/api/v1/{instance}/projects/{project}/cleanup-runs",
        "/api/v1/{instance}/projects/{project}/protection-rules",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} is documented");
    }
    // Every $ref resolves.
    let text = doc.to_string();
    for part in text.split("\"$ref\":\"#/components/").skip(1) {
        let reference = part.split('"').next().unwrap();
        let mut node = &doc["components"];
        for key in reference.split('/') {
            node = &node[key];
        }
        assert!(!node.is_null(), "{reference} resolves");
    }
}

#[tokio::test]
async fn a_signed_in_browser_reads_json_with_its_cookie() {
    let server = start(&[]).await;
    let browser = Browser::new(&server);
    browser.sign_in("olivia", "/i/demo").await;
    let (status, body) = json_of(
        browser
            .get("/api/v1/demo/repositories/1/tags?sort=name_asc&q=rc")
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let names: Vec<&str> = body["slice"]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(!names.is_empty() && names.iter().all(|n| n.contains("rc")));

    let (status, body) = json_of(
        browser
            .get("/api/v1/demo/projects/acme%2Fweb/repositories")
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["owner"]["full_path"], "acme/web");
    assert_eq!(body["page"]["repositories"].as_array().unwrap().len(), 2);

    let (status, body) =
        json_of(browser.get("/api/v1/demo/repositories/1/tags/latest").await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["also_tagged"], json!(["stable", "v2.3.1"]));
}

#[tokio::test]
async fn bad_input_and_missing_things_are_clear_json_errors() {
    let server = start(&[]).await;
    let browser = Browser::new(&server);
    let (status, body) = json_of(browser.get("/api/v1/demo/repositories/1/tags").await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["kind"], "NotSignedIn");

    browser.sign_in("olivia", "/i/demo").await;
    let (status, body) = json_of(
        browser
            .get("/api/v1/demo/repositories/1/tags?sort=random&per_page=7")
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("random"));
    let (status, body) = json_of(
        browser
            .get("/api/v1/demo/repositories/1/tags?q=%28%3F%3Dx%29&re=1")
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"]["message"].as_str().unwrap().contains("RE2"));
    let (status, body) = json_of(browser.get("/api/v1/demo/repositories/999/tags").await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["kind"], "NotFound");
    let (status, _) = json_of(browser.get("/api/v1/nowhere/user").await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = json_of(browser.get("/api/v1/demo/no-such-thing").await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["kind"], "NotFound");
}

#[tokio::test]
async fn cookie_mutations_need_our_origin() {
    let server = start(&[]).await;
    let browser = Browser::new(&server);
    browser.sign_in("devon", "/i/demo").await;
    let url = browser.url("/api/v1/demo/repositories/2/tag-deletions");
    let forged = browser
        .client
        .post(&url)
        .header(ORIGIN, "https://evil.example")
        .json(&json!({"names": ["v1.0.1"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let (status, body) = json_of(
        browser
            .client
            .post(&url)
            .header(ORIGIN, &browser.base)
            .json(&json!({"names": ["v1.0.1"]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body[0]["deleted"], true);
}

#[tokio::test]
async fn scripts_use_a_gitlab_token_and_gitlab_decides() {
    let server = start(&[]).await;
    // Obtain a real GitLab token of devon's from the double (a script would use a PAT).
    Browser::new(&server).sign_in("devon", "/i/demo").await;
    let controls = controls(&server);
    let token = controls
        .issued_tokens()
        .into_iter()
        .find(|t| t.user_id == 3)
        .unwrap()
        .access_token;
    let script = reqwest::Client::new();
    let api = |path: &str| format!("{}{path}", server.base_url);

    let (status, body) = json_of(
        script
            .get(api("/api/v1/demo/user"))
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["username"], "devon");

    // A bearer mutation needs no Origin (no cookie is involved) and GitLab's rules apply.
    let (status, body) = json_of(
        script
            .post(api("/api/v1/demo/repositories/1/tag-deletions"))
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .json(&json!({"names": ["stable", "v1.0.0"]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body[0]["deleted"], false, "stable is protected");
    assert_eq!(body[1]["deleted"], true);

    let (status, body) = json_of(
        script
            .post(api("/api/v1/demo/repositories/1/tag-deletions"))
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .json(&json!({"tags": ["x"]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["kind"], "BadRequest");

    let (status, body) = json_of(
        script
            .get(api("/api/v1/demo/repositories/1/tags"))
            .header(AUTHORIZATION, "Bearer not-a-token")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["kind"], "NotSignedIn");
    // No response ever carries the token.
    assert!(!body.to_string().contains(&token));
}

/// The schema the document gives for a response (path template, method, status), with the
/// document's components beside it so its `$ref`s resolve.
fn response_schema(doc: &Value, path: &str, method: &str, status: u16) -> Value {
    let schema = doc["paths"][path][method]["responses"][status.to_string()]["content"]
        ["application/json"]["schema"]
        .clone();
    assert!(!schema.is_null(), "{method} {path} documents {status}");
    let mut root = schema.as_object().expect("an object").clone();
    root.insert("components".into(), doc["components"].clone());
    Value::Object(root)
}

/// Checks a real answer against the document: the status is documented and the body fits.
async fn conforms(doc: &Value, path: &str, method: &str, response: reqwest::Response) -> Value {
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("a JSON body");
    let schema = response_schema(doc, path, method, status);
    let validator = jsonschema::options().build(&schema).expect("it builds");
    let errors: Vec<String> = validator
        .iter_errors(&body)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {path} {status} does not match the document:\n{}\n{body}",
        errors.join("\n")
    );
    body
}

#[tokio::test]
async fn real_answers_match_the_openapi_document() {
    let server = start(&[]).await;
    let maria = Browser::new(&server);
    let (_, doc) = json_of(maria.get("/api/v1/openapi.json").await).await;
    // Errors first: signed out.
    let r = maria.get("/api/v1/demo/user").await;
    conforms(&doc, "/api/v1/{instance}/user", "get", r).await;
    maria.sign_in("maria", "/i/demo").await;
    let get = |path: &'static str, template: &'static str| {
        let maria = &maria;
        let doc = &doc;
        async move { conforms(doc, template, "get", maria.get(path).await).await }
    };
    get("/api/v1/instances", "/api/v1/instances").await;
    get("/api/v1/demo/user", "/api/v1/{instance}/user").await;
    get("/api/v1/demo/projects?q=a", "/api/v1/{instance}/projects").await;
    get("/api/v1/demo/groups", "/api/v1/{instance}/groups").await;
    get(
        "/api/v1/demo/projects/acme%2Fweb/repositories",
        "/api/v1/{instance}/projects/{project}/repositories",
    )
    .await;
    get(
        "/api/v1/demo/groups/acme/repositories?sort=updated_desc",
        "/api/v1/{instance}/groups/{group}/repositories",
    )
    .await;
    let tags = get(
        "/api/v1/demo/repositories/1/tags?per_page=100&sort=name_asc",
        "/api/v1/{instance}/repositories/{id}/tags",
    )
    .await;
    assert!(!tags["slice"]["tags"].as_array().unwrap().is_empty());
    // The schemas bite: a tag page is no user.
    let user = response_schema(&doc, "/api/v1/{instance}/user", "get", 200);
    assert!(!jsonschema::options().build(&user).unwrap().is_valid(&tags));
    get(
        "/api/v1/demo/repositories/1/tags?per_page=7",
        "/api/v1/{instance}/repositories/{id}/tags",
    )
    .await;
    get(
        "/api/v1/demo/repositories/1/tags/latest",
        "/api/v1/{instance}/repositories/{id}/tags/{tag}",
    )
    .await;
    get(
        "/api/v1/demo/repositories/7/tags/latest",
        "/api/v1/{instance}/repositories/{id}/tags/{tag}",
    )
    .await;
    get(
        "/api/v1/demo/repositories/1/tags/no-such-tag",
        "/api/v1/{instance}/repositories/{id}/tags/{tag}",
    )
    .await;
    get(
        "/api/v1/demo/projects/acme%2Fweb/cleanup-policy",
        "/api/v1/{instance}/projects/{project}/cleanup-policy",
    )
    .await;
    get(
        "/api/v1/demo/repositories/1/storage",
        "/api/v1/{instance}/repositories/{id}/storage",
    )
    .await;
    get(
        "/api/v1/demo/projects/acme%2Fweb/storage",
        "/api/v1/{instance}/projects/{project}/storage",
    )
    .await;
    let same = get(
        "/api/v1/demo/repositories/1/comparison?a=latest&b=latest",
        "/api/v1/{instance}/repositories/{id}/comparison",
    )
    .await;
    assert_eq!(same["a"]["digest"], same["b"]["digest"]);
    get(
        "/api/v1/demo/repositories/1/comparison?a=latest&c=x",
        "/api/v1/{instance}/repositories/{id}/comparison",
    )
    .await;
    let preview = get(
        "/api/v1/demo/projects/opensource%2Fcli/cleanup-preview\
         ?name_regex=edge-.*&keep_n=&older_than=",
        "/api/v1/{instance}/projects/{project}/cleanup-preview",
    )
    .await;
    let post = |path: &'static str, template: &'static str, body: Value| {
        let maria = &maria;
        let doc = &doc;
        async move {
            let response = maria
                .client
                .post(maria.url(path))
                .header(ORIGIN, &maria.base)
                .json(&body)
                .send()
                .await
                .unwrap();
            conforms(doc, template, "post", response).await
        }
    };
    post(
        "/api/v1/demo/repositories/1/deletion-plan",
        "/api/v1/{instance}/repositories/{id}/deletion-plan",
        json!({"names": ["latest", "stable", "gone"]}),
    )
    .await;
    post(
        "/api/v1/demo/repositories/1/tag-deletions",
        "/api/v1/{instance}/repositories/{id}/tag-deletions",
        json!({"names": ["v1.0.0", "stable"]}),
    )
    .await;
    post(
        "/api/v1/demo/repositories/1/tag-deletions",
        "/api/v1/{instance}/repositories/{id}/tag-deletions",
        json!({"names": []}),
    )
    .await;
    post(
        "/api/v1/demo/projects/opensource%2Fcli/cleanup-runs\
         ?name_regex=edge-.*&keep_n=&older_than=",
        "/api/v1/{instance}/projects/{project}/cleanup-runs",
        json!({"confirmed": preview["run"]}),
    )
    .await;
    post(
        "/api/v1/demo/projects/acme%2Fweb/protection-rules",
        "/api/v1/{instance}/projects/{project}/protection-rules",
        json!({"CreateTag": {"pattern": "^release-", "min_push": "Maintainer",
                             "min_delete": "Owner"}}),
    )
    .await;
    post(
        "/api/v1/demo/repositories/1/deletion-estimate",
        "/api/v1/{instance}/repositories/{id}/deletion-estimate",
        json!({"names": ["latest"]}),
    )
    .await;
    post(
        "/api/v1/demo/repositories/5/deletion",
        "/api/v1/{instance}/repositories/{id}/deletion",
        json!({"confirm_path": "acme/platform/api/legacy"}),
    )
    .await;
    let put = maria
        .client
        .put(maria.url("/api/v1/demo/projects/acme%2Fweb/cleanup-policy"))
        .header(ORIGIN, &maria.base)
        .json(
            &json!({"enabled": true, "cadence": "7d", "keep_n": 5, "older_than": "30d",
                      "name_regex": "main-.*", "name_regex_keep": null}),
        )
        .send()
        .await
        .unwrap();
    conforms(
        &doc,
        "/api/v1/{instance}/projects/{project}/cleanup-policy",
        "put",
        put,
    )
    .await;
}
