//! The registry's token authentication: `GET /v2/`'s challenge, `GET /jwt/auth` with deploy
//! tokens, access tokens and OAuth tokens, the granted access, and the registry's broken states.

use std::time::{Duration, Instant};

use crate::common::*;
use base64::Engine;
use gitlab_double::RegistryState;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const ACCESS_DENIED: &str = "HTTP Basic: Access denied. If a password was provided for Git \
    authentication, the password was incorrect or you're required to use a token instead of a \
    password. If a token was provided, it was either incorrect, expired, or improperly scoped. \
    See ";

/// `GET /jwt/auth?<query>` with optional Basic credentials: (status, JSON or null).
async fn jwt(base: &str, query: &str, basic: Option<(&str, &str)>) -> (StatusCode, Value) {
    let mut request = http().get(format!("{base}/jwt/auth?{query}"));
    if let Some((user, password)) = basic {
        request = request.basic_auth(user, Some(password));
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status();
    let text = response.text().await.expect("a body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The claims of a registry token (its middle part).
fn claims(token: &str) -> Value {
    let part = token.split('.').nth(1).expect("a JWT-shaped token");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .expect("valid base64");
    serde_json::from_slice(&bytes).expect("valid JSON")
}

/// The `access` a `/jwt/auth` answer grants.
fn granted(answer: &Value) -> Value {
    claims(answer["token"].as_str().expect("a string"))["access"].clone()
}

fn repo(name: &str, actions: &[&str]) -> Value {
    json!({ "type": "repository", "name": name, "actions": actions })
}

/// `GET /v2/`, optionally with a bearer token: (status, headers, body text).
async fn v2(base: &str, bearer: Option<&str>) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let mut request = http().get(format!("{base}/v2/"));
    if let Some(t) = bearer {
        request = request.bearer_auth(t);
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, response.text().await.expect("a body"))
}

/// `Bearer realm="…",service="…"` → (realm, service).
fn parse_challenge(value: &str) -> (String, String) {
    let rest = value.strip_prefix("Bearer ").expect("a Bearer challenge");
    let mut realm = None;
    let mut service = None;
    for part in rest.split(',') {
        let (k, v) = part.split_once('=').expect("a key=value pair");
        let v = v.trim_matches('"').to_owned();
        match k.trim() {
            "realm" => realm = Some(v),
            "service" => service = Some(v),
            _ => {}
        }
    }
    (realm.expect("a realm"), service.expect("a service"))
}

/// A new deploy token of acme/web (by maria): (username, secret).
async fn deploy_token(base: &str, maria: &str, body: Value) -> (String, String) {
    let (status, created) = call_json(
        Method::POST,
        base,
        "/api/v4/projects/acme%2Fweb/deploy_tokens",
        Some(maria),
        &body,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    (
        created["username"].as_str().expect("a string").to_owned(),
        created["token"].as_str().expect("a string").to_owned(),
    )
}

#[tokio::test]
async fn docker_login_with_a_fresh_deploy_token() {
    let gl = start().await;
    let base = gl.base_url.as_str();

    // 1. The registry's challenge, as GitLab documents it (with this GitLab as the realm).
    let (status, headers, body) = v2(base, None).await;
    let documented = example("registry_v2_challenge.json");
    assert_eq!(status.as_u16(), documented["status"]);
    let challenge = header(&headers, "www-authenticate").unwrap();
    assert_eq!(
        challenge,
        documented["headers"]["WWW-Authenticate"]
            .as_str()
            .unwrap()
            .replace("https://gitlab.example.com", base)
    );
    assert_eq!(
        header(&headers, "docker-distribution-api-version"),
        Some("registry/2.0")
    );
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        documented["body"]
    );
    let (status, _, _) = v2(base, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, headers, _) = {
        let response = http().get(format!("{base}/v2")).send().await.unwrap();
        (response.status(), response.headers().clone(), ())
    };
    assert_eq!(status, StatusCode::UNAUTHORIZED, "/v2 answers like /v2/");
    assert!(header(&headers, "www-authenticate").is_some());

    // 2. The realm, with a deploy token made a moment ago.
    let maria = login(base, "maria").await;
    let (username, secret) = deploy_token(
        base,
        &maria,
        json!({ "name": "ci", "scopes": ["read_registry"] }),
    )
    .await;
    let (realm, service) = parse_challenge(challenge);
    assert_eq!(realm, format!("{base}/jwt/auth"));
    let response = http()
        .get(&realm)
        .query(&[
            ("service", service.as_str()),
            ("scope", "repository:acme/web:pull,push"),
        ])
        .basic_auth(&username, Some(&secret))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(
        answer.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["token"],
        "GitLab answers the token alone"
    );
    // read_registry pulls; the push it asked for is dropped, not refused.
    assert_eq!(granted(&answer), json!([repo("acme/web", &["pull"])]));
    let token_claims = claims(answer["token"].as_str().unwrap());
    assert_eq!(token_claims["aud"], "container_registry");
    assert_eq!(token_claims["auth_type"], "deploy_token");
    let lifetime = token_claims["exp"].as_i64().unwrap() - token_claims["iat"].as_i64().unwrap();
    assert_eq!(lifetime, 300, "five minutes");

    // 3. The registry takes the token.
    let bearer = answer["token"].as_str().unwrap();
    let (status, headers, body) = v2(base, Some(bearer)).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "{}"));
    assert_eq!(
        header(&headers, "docker-distribution-api-version"),
        Some("registry/2.0")
    );
    // A token it did not issue (or a tampered one) is refused as invalid.
    let (status, headers, _) = v2(base, Some(&format!("{bearer}x"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(header(&headers, "www-authenticate")
        .unwrap()
        .ends_with(",error=\"invalid_token\""));

    // `docker login` itself asks for no scope: a token without access.
    let (status, answer) = jwt(
        base,
        "service=container_registry&account=x&client_id=docker",
        Some((&username, &secret)),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(granted(&answer), json!([]));
}

#[tokio::test]
async fn deploy_tokens_need_their_username_and_must_be_alive() {
    let gl = start().await;
    let base = gl.base_url.as_str();
    let maria = login(base, "maria").await;
    let (username, secret) = deploy_token(
        base,
        &maria,
        json!({ "name": "ci", "username": "ci-bot",
                "scopes": ["read_registry", "write_registry"] }),
    )
    .await;
    assert_eq!(username, "ci-bot");
    let pull_push = "service=container_registry&scope=repository:acme/web/worker:pull,push";
    let (status, answer) = jwt(base, pull_push, Some(("ci-bot", &secret))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        granted(&answer),
        json!([repo("acme/web/worker", &["pull", "push"])])
    );

    // Unlike access tokens, a deploy token is refused under another login.
    let (status, body) = jwt(base, pull_push, Some(("maria", &secret))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["errors"][0]["code"], "UNAUTHORIZED");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.starts_with(ACCESS_DENIED), "{message}");
    assert!(message.ends_with(&format!(
        "{base}/help/user/profile/account/two_factor_authentication_troubleshooting.md\
         #error-http-basic-access-denied-if-a-password-was-provided-for-git-authentication-"
    )));
    let (status, _) = jwt(base, pull_push, Some(("ci-bot", "gldt-wrong"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = jwt(base, pull_push, Some(("ci-bot", ""))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // It reaches its own project only (another private one is not even found).
    let (status, answer) = jwt(
        base,
        "service=container_registry&scope=repository:acme/platform/api/server:pull",
        Some(("ci-bot", &secret)),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(granted(&answer), json!([]));

    // Deleted: it no longer authenticates.
    let (status, list) = call(
        Method::GET,
        base,
        "/api/v4/projects/acme%2Fweb/deploy_tokens",
        Some(&maria),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let id = list
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["username"] == "ci-bot")
        .unwrap()["id"]
        .clone();
    let (status, _) = call(
        Method::DELETE,
        base,
        &format!("/api/v4/projects/acme%2Fweb/deploy_tokens/{id}"),
        Some(&maria),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = jwt(base, pull_push, Some(("ci-bot", &secret))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["errors"][0]["code"], "UNAUTHORIZED");

    // Expired ones do not either.
    let (late_user, late_secret) = deploy_token(
        base,
        &maria,
        json!({ "name": "late", "scopes": ["read_registry"], "expires_at": "2020-01-01" }),
    )
    .await;
    let (status, _) = jwt(base, pull_push, Some((&late_user, &late_secret))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Without a registry scope there is nothing to grant.
    let (repo_user, repo_secret) = deploy_token(
        base,
        &maria,
        json!({ "name": "git", "scopes": ["read_repository"] }),
    )
    .await;
    let (status, body) = jwt(base, pull_push, Some((&repo_user, &repo_secret))).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::FORBIDDEN,
            json!({ "errors": [{ "code": "DENIED", "message": "access forbidden" }] })
        )
    );
}

#[tokio::test]
async fn group_deploy_tokens_reach_the_projects_below() {
    let gl = start().await;
    let base = gl.base_url.as_str();
    let olivia = login(base, "olivia").await;
    let (status, created) = call_json(
        Method::POST,
        base,
        "/api/v4/groups/acme/deploy_tokens",
        Some(&olivia),
        &json!({ "name": "pull-all", "scopes": ["read_registry"] }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let login_as = (
        created["username"].as_str().unwrap(),
        created["token"].as_str().unwrap(),
    );
    let (status, answer) = jwt(
        base,
        "service=container_registry&scope=repository:acme/platform/api/server:pull\
         &scope=repository:olivia/secret:pull",
        Some(login_as),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        granted(&answer),
        json!([repo("acme/platform/api/server", &["pull"])]),
        "a subgroup's project yes, a personal project no"
    );
}

#[tokio::test]
async fn access_tokens_and_oauth_tokens_at_jwt_auth() {
    let gl = start().await;
    let base = gl.base_url.as_str();
    let maria = login(base, "maria").await;
    let create = |level: u8| {
        let maria = maria.clone();
        async move {
            let (status, created) = call_json(
                Method::POST,
                base,
                "/api/v4/projects/acme%2Fweb/access_tokens",
                Some(&maria),
                &json!({ "name": format!("level-{level}"), "access_level": level,
                         "scopes": ["read_registry", "write_registry"] }),
            )
            .await;
            assert_eq!(status, StatusCode::CREATED, "{created}");
            created
        }
    };
    let scope = "service=container_registry&scope=repository:acme/web:pull,push";

    // The login is ignored for access tokens; the bot's role decides.
    let reporter = create(20).await;
    let (status, answer) = jwt(
        base,
        scope,
        Some(("anything", reporter["token"].as_str().unwrap())),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(granted(&answer), json!([repo("acme/web", &["pull"])]));
    let token_claims = claims(answer["token"].as_str().unwrap());
    assert_eq!(token_claims["auth_type"], "personal_access_token");
    assert!(token_claims["sub"]
        .as_str()
        .unwrap()
        .starts_with("project_1001_bot_"));
    let developer = create(30).await;
    let (status, answer) = jwt(
        base,
        scope,
        Some(("oauth2", developer["token"].as_str().unwrap())),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        granted(&answer),
        json!([repo("acme/web", &["pull", "push"])])
    );

    // Using it stamps last_used_at.
    let (_, _, shown) = get(
        base,
        &format!(
            "/api/v4/projects/acme%2Fweb/access_tokens/{}",
            developer["id"]
        ),
        Some(&maria),
    )
    .await;
    assert!(shown["last_used_at"].is_string(), "{shown}");

    // Revoked: refused.
    let (status, _) = call(
        Method::DELETE,
        base,
        &format!(
            "/api/v4/projects/acme%2Fweb/access_tokens/{}",
            developer["id"]
        ),
        Some(&maria),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = jwt(
        base,
        scope,
        Some(("oauth2", developer["token"].as_str().unwrap())),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["errors"][0]["code"], "UNAUTHORIZED");

    // A user's OAuth token works as the password (any login): her role and the token's scopes.
    let all = "service=container_registry&scope=repository:acme/web:pull,push,delete";
    let (status, answer) = jwt(base, all, Some(("maria", &maria))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        granted(&answer),
        json!([repo("acme/web", &["pull", "push", "delete"])])
    );
    assert_eq!(claims(answer["token"].as_str().unwrap())["sub"], "maria");
    let devon = login(base, "devon").await;
    let (_, answer) = jwt(base, all, Some(("whoever", &devon))).await;
    assert_eq!(
        granted(&answer),
        json!([repo("acme/web", &["pull", "push"])])
    );
    let devon_reads = login_scoped(base, "devon", "read_registry").await;
    let (_, answer) = jwt(base, all, Some(("devon", &devon_reads))).await;
    assert_eq!(granted(&answer), json!([repo("acme/web", &["pull"])]));
    let profile = login_scoped(base, "devon", "read_user").await;
    let (status, body) = jwt(base, all, Some(("devon", &profile))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["errors"][0]["code"], "DENIED");
}

#[tokio::test]
async fn anonymous_pulls_public_images_only() {
    let gl = start().await;
    let base = gl.base_url.as_str();
    let (status, answer) = jwt(
        base,
        "service=container_registry&scope=repository:opensource/cli:pull,push",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(granted(&answer), json!([repo("opensource/cli", &["pull"])]));
    let denied = json!({ "errors": [{ "code": "DENIED", "message": "access forbidden" }] });
    for query in [
        "service=container_registry&scope=repository:acme/web:pull",
        "service=container_registry",
    ] {
        let (status, body) = jwt(base, query, None).await;
        assert_eq!(
            (status, body),
            (StatusCode::FORBIDDEN, denied.clone()),
            "{query}"
        );
    }
    // Only the container registry's service exists here.
    let (status, body) = jwt(base, "service=dependency_proxy", None).await;
    assert_eq!((status, body), (StatusCode::NOT_FOUND, Value::Null));
    let (status, _) = jwt(base, "scope=repository:opensource/cli:pull", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn protected_repository_paths_refuse_pushes_below_the_rule() {
    let gl = start().await;
    let base = gl.base_url.as_str();
    let maria = login(base, "maria").await;
    let (status, rule) = call_json(
        Method::POST,
        base,
        "/api/v4/projects/acme%2Fweb/registry/protection/repository/rules",
        Some(&maria),
        &json!({ "repository_path_pattern": "acme/web/release*",
                 "minimum_access_level_for_push": "owner" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{rule}");
    let push = "service=container_registry&scope=repository:acme/web/release-tools:push";
    let (status, body) = jwt(base, push, Some(("maria", &maria))).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::FORBIDDEN,
            json!({ "errors": [{ "code": "DENIED", "message": "Pushing to protected repository \
                path forbidden" }] })
        )
    );
    let olivia = login(base, "olivia").await;
    let (status, answer) = jwt(base, push, Some(("olivia", &olivia))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        granted(&answer),
        json!([repo("acme/web/release-tools", &["push"])])
    );
    // Pulling is not protected.
    let (status, _) = jwt(
        base,
        "service=container_registry&scope=repository:acme/web/release-tools:pull",
        Some(("maria", &maria)),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn the_registry_can_break() {
    let gl = start().await;
    let base = gl.base_url.as_str();
    let maria = login(base, "maria").await;
    let (_, answer) = jwt(
        base,
        "service=container_registry&scope=repository:acme/web:pull",
        Some(("maria", &maria)),
    )
    .await;
    let bearer = answer["token"].as_str().unwrap().to_owned();
    let controls = gl.double.controls();
    assert_eq!(controls.registry(), RegistryState::Up);

    // Down behind nginx: 502 with nginx's page; GitLab itself still answers.
    controls.set_registry(RegistryState::Down);
    let (status, headers, body) = v2(base, Some(&bearer)).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert!(header(&headers, "content-type")
        .unwrap()
        .starts_with("text/html"));
    assert!(body.contains("<title>502 Bad Gateway</title>") && body.contains("nginx"));
    let (status, _) = jwt(base, "service=container_registry", Some(("maria", &maria))).await;
    assert_eq!(status, StatusCode::OK);

    // Misconfigured: the challenge names another GitLab, whose tokens are not ours.
    controls.set_registry(RegistryState::WrongRealm);
    let (status, headers, _) = v2(base, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (realm, service) = parse_challenge(header(&headers, "www-authenticate").unwrap());
    assert_eq!(
        (realm.as_str(), service.as_str()),
        ("https://gitlab.other.test/jwt/auth", "container_registry")
    );
    let (status, headers, _) = v2(base, Some(&bearer)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(header(&headers, "www-authenticate")
        .unwrap()
        .contains("error=\"invalid_token\""));

    // Disabled: no registry, and GitLab says so at /jwt/auth.
    controls.set_registry(RegistryState::Disabled);
    let (status, _, _) = v2(base, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = jwt(base, "service=container_registry", Some(("maria", &maria))).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::NOT_FOUND,
            json!({ "errors": [{ "code": "UNAVAILABLE", "message": "registry not enabled" }] })
        )
    );

    // Over HTTP, as end-to-end tests flip it; the field is optional and validated.
    let (status, _, snapshot) = get(base, "/-/double/controls", None).await;
    assert_eq!(
        (status, snapshot["registry"].clone()),
        (StatusCode::OK, json!("disabled"))
    );
    let response = http()
        .post(format!("{base}/-/double/controls"))
        .json(&json!({ "registry": "up" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let updated: Value = response.json().await.unwrap();
    assert_eq!(updated["registry"], "up");
    assert_eq!(controls.registry(), RegistryState::Up);
    let (status, _, body) = v2(base, Some(&bearer)).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "{}"));
    let response = http()
        .post(format!("{base}/-/double/controls"))
        .json(&json!({ "registry": "wrong_realm" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(controls.registry(), RegistryState::WrongRealm);
    let response = http()
        .post(format!("{base}/-/double/controls"))
        .json(&json!({ "registry": "sideways" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(controls.registry(), RegistryState::WrongRealm);
}

#[tokio::test]
async fn the_registry_gets_latency_but_not_the_apis_faults() {
    let gl = start().await;
    let base = gl.base_url.as_str();
    let controls = gl.double.controls();
    controls.set_error_rate(1.0);
    let before = controls.request_count();
    for _ in 0..3 {
        let (status, _, _) = v2(base, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "no injected 500s");
        let (status, _) = jwt(
            base,
            "service=container_registry&scope=repository:opensource/cli:pull",
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
    assert_eq!(
        controls.request_count(),
        before,
        "not counted as API requests"
    );
    controls.set_error_rate(0.0);
    controls.set_latency(Duration::from_millis(150), Duration::ZERO);
    let started = Instant::now();
    let (status, _, _) = v2(base, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(started.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn projects_tell_their_image_prefix() {
    let gl = start().await;
    let base = gl.base_url.as_str();
    let maria = login(base, "maria").await;
    let (_, _, project) = get(base, "/api/v4/projects/acme%2Fweb", Some(&maria)).await;
    assert_eq!(
        project["container_registry_image_prefix"],
        "registry.gitlab.test:5050/acme/web"
    );
    for path in [
        "/api/v4/projects?membership=true",
        "/api/v4/groups/acme/projects?include_subgroups=true",
    ] {
        let (status, _, list) = get(base, path, Some(&maria)).await;
        assert_eq!(status, StatusCode::OK);
        let api = list
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == 1002)
            .unwrap_or_else(|| panic!("{path}: {list}"));
        assert_eq!(
            api["container_registry_image_prefix"], "registry.gitlab.test:5050/acme/platform/api",
            "{path}"
        );
    }
}
