//! Pull credentials through the server functions the credentials page calls: a Maintainer
//! creates a deploy token whose formats log in at the registry; its value is in the creation
//! answer and in no later answer; Developers are told the role they need; revocation needs
//! the name typed; the instance page reports the registry's state.

use crate::common::{signed_in, start, Browser};
use base64::Engine;
use domain::pull::{DockerConfig, ImageLocation, PullTarget, RegistryLogin};
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn call(browser: &Browser, name: &str, body: Value) -> (StatusCode, String) {
    let response = browser.server_fn(name, body).await;
    (response.status(), response.text().await.expect("a body"))
}

fn deploy_form(name: &str) -> Value {
    json!({"kind": "deploy_token", "name": name, "expires_on": "", "write": false, "role": ""})
}

fn page_args() -> Value {
    json!({"instance": "demo", "owner": "project", "path": "acme/web"})
}

fn create_args(form: Value) -> Value {
    json!({"instance": "demo", "owner": "project", "path": "acme/web", "form": form})
}

#[tokio::test]
async fn a_created_deploy_token_logs_in_at_the_registry_and_is_never_shown_again() {
    let server = start(&[]).await;
    let maria = signed_in(&server, "maria").await;
    let (status, body) = call(
        &maria,
        "create_credential",
        create_args(deploy_form("k8s pull")),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let issued: Value = serde_json::from_str(&body).unwrap();
    let secret = issued["secret"].as_str().unwrap().to_string();
    let username = issued["username"].as_str().unwrap().to_string();
    assert!(secret.len() >= 16, "{issued}");
    assert_eq!(issued["token"]["scopes"], json!(["read_registry"]));

    // The page's formats, as the browser builds them, log in at the registry.
    let (_, page) = call(&maria, "credentials", page_args()).await;
    let page: Value = serde_json::from_str(&page).unwrap();
    let prefix = page["image_prefix"].as_str().unwrap();
    let target = PullTarget {
        location: ImageLocation::parse(prefix).unwrap(),
        tag: None,
        digest: None,
    };
    let login = RegistryLogin::new(target.location.host(), &username, &secret).unwrap();
    let formats = login.formats(&target, "acme-web-registry");
    let config: DockerConfig = serde_json::from_str(&formats.docker_auth_config).unwrap();
    let auth = &config.auths[target.location.host()].auth;
    let pair = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(auth)
            .unwrap(),
    )
    .unwrap();
    let (user, password) = pair.split_once(':').unwrap();
    let double = &server.double.as_ref().unwrap().base_url;
    let http = reqwest::Client::new();
    let jwt = http
        .get(format!(
            "{double}/jwt/auth?service=container_registry&scope=repository:acme/web:pull"
        ))
        .basic_auth(user, Some(password))
        .send()
        .await
        .unwrap();
    assert_eq!(
        jwt.status(),
        StatusCode::OK,
        "the registry accepts the formats' credential"
    );
    let registry_token = jwt.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let v2 = http
        .get(format!("{double}/v2/"))
        .bearer_auth(registry_token)
        .send()
        .await
        .unwrap();
    assert_eq!(v2.status(), StatusCode::OK);

    // Listed by name, never by value, on every later answer.
    let tokens = page["tokens"].as_array().unwrap();
    assert!(tokens.iter().any(|t| t["name"] == "k8s pull"), "{page}");
    assert!(!page.to_string().contains(&secret));
    for path in [
        "/i/demo/credentials/projects/acme/web",
        "/i/demo/credentials/projects/acme/web?image=registry.gitlab.test:5050/acme/web",
        "/i/demo/health",
    ] {
        let html = maria.get(path).await.text().await.unwrap();
        assert!(!html.contains(&secret), "{path}");
        assert!(
            html.contains("Pull credentials") || html.contains("Registry health"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn roles_are_checked_and_said() {
    let server = start(&[]).await;
    let devon = signed_in(&server, "devon").await;
    let (status, body) = call(&devon, "credentials", page_args()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let page: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(page["access"], "Developer");
    assert_eq!(page["manager_role"], "Maintainer");
    assert_eq!(page["listed"], false);
    let requests = crate::common::requests(&server);
    let (status, body) = call(
        &devon,
        "create_credential",
        create_args(deploy_form("mine")),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body.contains("needs the Maintainer role; you are Developer"),
        "{body}"
    );
    // Refused after reading the role, before any creation reached GitLab.
    assert!(crate::common::requests(&server) - requests <= 2);
    let html = devon
        .get("/i/demo/credentials/projects/acme/web")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("role-needed"),
        "the page says which role is needed: {html}"
    );

    // Bad input never reaches GitLab.
    let maria = signed_in(&server, "maria").await;
    let (status, body) = call(
        &maria,
        "create_credential",
        create_args(
            json!({"kind": "access_token", "name": "x", "expires_on": "", "write": false,
                   "role": ""}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("expiry date"), "{body}");
}

#[tokio::test]
async fn revoking_needs_the_name_typed_and_then_the_token_stops_working() {
    let server = start(&[]).await;
    let maria = signed_in(&server, "maria").await;
    let (_, body) = call(
        &maria,
        "create_credential",
        create_args(deploy_form("ci pull")),
    )
    .await;
    let issued: Value = serde_json::from_str(&body).unwrap();
    let id = issued["token"]["id"].as_u64().unwrap();
    let revoke = |name: &str| {
        json!({"instance": "demo", "owner": "project", "path": "acme/web",
               "kind": "deploy_token", "token_id": id, "confirm_name": name})
    };
    let (status, body) = call(&maria, "revoke_credential", revoke("ci pul")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("Type the token's name"), "{body}");
    let (status, body) = call(&maria, "revoke_credential", revoke("ci pull")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let page: Value = serde_json::from_str(&body).unwrap();
    let listed = page["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id && t["kind"] == "deploy_token");
    assert!(listed.is_none_or(|t| t["revoked"] == true), "{page}");
    let double = &server.double.as_ref().unwrap().base_url;
    let jwt = reqwest::Client::new()
        .get(format!("{double}/jwt/auth?service=container_registry"))
        .basic_auth(
            issued["username"].as_str().unwrap(),
            issued["secret"].as_str(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(jwt.status(), StatusCode::UNAUTHORIZED);
}

async fn health(browser: &Browser) -> Value {
    let (status, body) = call(browser, "instance_health", json!({"instance": "demo"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_str::<Value>(&body).expect("valid JSON")
}

#[tokio::test]
async fn the_instance_page_reports_a_registry_that_is_down() {
    let server = start(&[]).await;
    let reese = signed_in(&server, "reese").await;
    let check = |health: &Value, label: &str| -> Value {
        health["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["label"] == label)
            .cloned()
            .unwrap_or_else(|| panic!("{label} in {health}"))
    };
    let up = health(&reese).await;
    assert_eq!(check(&up, "Registry answers")["status"], "ok", "{up}");
    assert_eq!(check(&up, "Metadata database")["status"], "ok", "{up}");
    assert!(
        up["gitlab_version"].as_str().unwrap().starts_with("17."),
        "{up}"
    );
    assert_eq!(up["registry_host"], "registry.gitlab.test:5050");

    crate::common::controls(&server).set_registry(gitlab_double::RegistryState::Down);
    let down = health(&reese).await;
    let registry = check(&down, "Registry answers");
    assert_eq!(registry["status"], "failed", "{down}");
    assert!(
        registry["detail"].as_str().unwrap().contains("502"),
        "{down}"
    );
    assert!(
        registry["advice"]
            .as_str()
            .unwrap()
            .contains("administrator"),
        "{down}"
    );

    crate::common::controls(&server).set_registry(gitlab_double::RegistryState::WrongRealm);
    let wrong = health(&reese).await;
    assert!(check(&wrong, "Registry answers")["detail"]
        .as_str()
        .unwrap()
        .contains("not to this GitLab"));

    crate::common::controls(&server).set_registry(gitlab_double::RegistryState::Up);
    crate::common::controls(&server).set_metadata_db(false);
    let legacy = health(&reese).await;
    assert_eq!(
        check(&legacy, "Metadata database")["status"],
        "warning",
        "{legacy}"
    );
}
