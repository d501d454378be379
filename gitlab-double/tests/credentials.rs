//! Registry credentials over REST: deploy tokens and project/group access tokens (payloads against
//! GitLab's documented examples and schema, permissions, validation, revocation, seeded demo
//! tokens, bot users), and `GET /metadata`.

use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use time::{Duration, OffsetDateTime};

const WEB_DEPLOY: &str = "/api/v4/projects/acme%2Fweb/deploy_tokens";
const ACME_DEPLOY: &str = "/api/v4/groups/acme/deploy_tokens";
const WEB_ACCESS: &str = "/api/v4/projects/acme%2Fweb/access_tokens";
const ACME_ACCESS: &str = "/api/v4/groups/acme/access_tokens";

/// `YYYY-MM-DD`, `days` from today (UTC).
fn day(days: i64) -> String {
    let d = (OffsetDateTime::now_utc() + Duration::days(days)).date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn by_id(list: &Value, id: u64) -> Value {
    list.as_array()
        .expect("an array")
        .iter()
        .find(|t| t["id"] == id)
        .unwrap_or_else(|| panic!("no token {id} in {list}"))
        .clone()
}

fn ids(list: &Value) -> Vec<u64> {
    list.as_array()
        .expect("an array")
        .iter()
        .map(|t| t["id"].as_u64().expect("a number"))
        .collect()
}

#[tokio::test]
async fn deploy_tokens_look_like_gitlabs_examples() {
    let gl = start().await;
    let base = gl.base_url.as_str();
    let maria = login(base, "maria").await;

    // The seeded project tokens, as GitLab lists them.
    let (status, headers, list) = get(base, WEB_DEPLOY, Some(&maria)).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(header(&headers, "x-total"), Some("2"));
    assert_valid("public_api/v4/deploy_tokens.json", &list);
    let listed = example("rest_project_deploy_tokens_list.json");
    for token in list.as_array().unwrap() {
        assert_shape(
            token,
            &[&listed[0]],
            &["expires_at"],
            "project deploy token",
        );
        assert!(token.get("token").is_none(), "secrets are shown only once");
    }
    let soon = by_id(&list, 1);
    assert_eq!(soon["name"], "production-pull");
    assert_eq!(soon["username"], "gitlab+deploy-token-1");
    assert_eq!(soon["scopes"], json!(["read_registry"]));
    assert_eq!(soon["expired"], false);
    let expires = OffsetDateTime::parse(
        soon["expires_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let left = expires - OffsetDateTime::now_utc();
    assert!(
        left > Duration::days(9) && left <= Duration::days(10),
        "expires in about ten days: {left}"
    );
    let old = by_id(&list, 2);
    assert_eq!(
        (old["username"].as_str(), old["expired"].as_bool()),
        (Some("legacy-ci"), Some(true))
    );
    assert_eq!(old["scopes"], json!(["read_repository", "read_registry"]));

    // Created with a JSON body: the answer carries the secret, once.
    let (status, created) = call_json(
        Method::POST,
        base,
        WEB_DEPLOY,
        Some(&maria),
        &json!({ "name": "My deploy token", "expires_at": day(30),
                 "scopes": ["write_registry", "read_registry"] }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_shape(
        &created,
        &[&example("rest_project_deploy_token_create.json")],
        &[],
        "created project deploy token",
    );
    assert_valid("public_api/v4/deploy_token.json", &created);
    assert_eq!(created["id"], 4, "ids follow the seeded ones (1-3)");
    assert_eq!(created["username"], "gitlab+deploy-token-4");
    assert_eq!(created["expires_at"], format!("{}T00:00:00.000Z", day(30)));
    assert_eq!(
        created["scopes"],
        json!(["read_registry", "write_registry"]),
        "GitLab's scope order"
    );
    let secret = created["token"].as_str().unwrap();
    assert!(
        secret.starts_with("gldt-") && secret.len() == 25,
        "{secret}"
    );

    let (status, _, shown) = get(base, &format!("{WEB_DEPLOY}/4"), Some(&maria)).await;
    assert_eq!(status, StatusCode::OK);
    let mut without_secret = created.clone();
    without_secret.as_object_mut().unwrap().remove("token");
    assert_eq!(shown, without_secret);
    let (_, _, list) = get(base, WEB_DEPLOY, Some(&maria)).await;
    assert_eq!(ids(&list), [1, 2, 4]);

    // A group token, created by the group's Owner with a form body.
    let olivia = login(base, "olivia").await;
    let (status, created) = call(
        Method::POST,
        base,
        ACME_DEPLOY,
        Some(&olivia),
        Some(&[
            ("name", "My deploy token"),
            ("username", "custom-user"),
            ("scopes[]", "read_registry"),
        ]),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_shape(
        &created,
        &[&example("rest_group_deploy_token_create.json")],
        &["expires_at"],
        "created group deploy token",
    );
    assert_eq!(created["expires_at"], Value::Null, "never expires");
    assert_eq!(created["username"], "custom-user");
    let (status, _, list) = get(base, ACME_DEPLOY, Some(&olivia)).await;
    assert_eq!(status, StatusCode::OK);
    assert_valid("public_api/v4/deploy_tokens.json", &list);
    assert_eq!(ids(&list), [3, 5]);
    for token in list.as_array().unwrap() {
        assert_shape(
            token,
            &[&example("rest_group_deploy_tokens_list.json")[0]],
            &["expires_at"],
            "group deploy token",
        );
    }
    assert_eq!(by_id(&list, 3)["username"], "acme-k8s-pull");
    // The schema bites: a token without `expired` does not validate.
    let mut broken = by_id(&list, 3);
    broken.as_object_mut().unwrap().remove("expired");
    assert!(!is_valid("public_api/v4/deploy_token.json", &broken));
}

#[tokio::test]
async fn deploy_token_permissions_follow_gitlab() {
    let gl = start().await;
    let base = gl.base_url.as_str();
    let form: &[(&str, &str)] = &[("name", "t"), ("scopes", "read_registry")];
    let forbidden = json!({ "message": "403 Forbidden" });

    // Project deploy tokens: Maintainer for everything.
    let devon = login(base, "devon").await;
    let (status, _, body) = get(base, WEB_DEPLOY, Some(&devon)).await;
    assert_eq!(
        (status, body.clone()),
        (StatusCode::FORBIDDEN, forbidden.clone())
    );
    let (status, body) = call(Method::POST, base, WEB_DEPLOY, Some(&devon), Some(form)).await;
    assert_eq!((status, body), (StatusCode::FORBIDDEN, forbidden.clone()));
    let (status, body) = call(
        Method::DELETE,
        base,
        &format!("{WEB_DEPLOY}/1"),
        Some(&devon),
        None,
    )
    .await;
    assert_eq!((status, body), (StatusCode::FORBIDDEN, forbidden.clone()));
    let nora = login(base, "nora").await;
    let (status, _, body) = get(base, WEB_DEPLOY, Some(&nora)).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::NOT_FOUND,
            json!({ "message": "404 Project Not Found" })
        )
    );
    let maria = login(base, "maria").await;
    let (status, body) = call(Method::POST, base, WEB_DEPLOY, Some(&maria), Some(form)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // Group deploy tokens: Maintainer reads, only the Owner creates and deletes.
    let (status, _, _) = get(base, ACME_DEPLOY, Some(&maria)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = call(Method::POST, base, ACME_DEPLOY, Some(&maria), Some(form)).await;
    assert_eq!((status, body), (StatusCode::FORBIDDEN, forbidden.clone()));
    let (status, body) = call(
        Method::DELETE,
        base,
        &format!("{ACME_DEPLOY}/3"),
        Some(&maria),
        None,
    )
    .await;
    assert_eq!((status, body), (StatusCode::FORBIDDEN, forbidden.clone()));
    let (status, _, _) = get(base, ACME_DEPLOY, Some(&devon)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let olivia = login(base, "olivia").await;
    let (status, _) = call(Method::POST, base, ACME_DEPLOY, Some(&olivia), Some(form)).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _, body) = get(base, "/api/v4/groups/acme/deploy_tokens", Some(&nora)).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::NOT_FOUND,
            json!({ "message": "404 Group Not Found" })
        )
    );

    // Scopes: reading takes api or read_api, changing takes api.
    let reader = login_scoped(base, "maria", "read_api").await;
    let (status, _, _) = get(base, WEB_DEPLOY, Some(&reader)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = call(Method::POST, base, WEB_DEPLOY, Some(&reader), Some(form)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"], "insufficient_scope");
    // No sign-in is demanded up front: anonymous callers meet the permission checks.
    let (status, _) = call(Method::POST, base, WEB_DEPLOY, None, Some(form)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "acme/web is private");
    let (status, body) = call(
        Method::POST,
        base,
        "/api/v4/projects/opensource%2Fcli/deploy_tokens",
        None,
        Some(form),
    )
    .await;
    assert_eq!((status, body), (StatusCode::FORBIDDEN, forbidden));
}

#[tokio::test]
async fn deploy_token_validation_is_gitlabs() {
    let gl = start().await;
    let base = gl.base_url.as_str();
    let maria = login(base, "maria").await;
    let post = |body: Value| {
        let maria = maria.clone();
        async move { call_json(Method::POST, base, WEB_DEPLOY, Some(&maria), &body).await }
    };
    let error = |text: &str| json!({ "error": text });
    let message = |text: &str| json!({ "message": text });

    assert_eq!(
        post(json!({})).await,
        (
            StatusCode::BAD_REQUEST,
            error("name is missing, scopes is missing")
        )
    );
    assert_eq!(
        post(json!({ "name": "x" })).await,
        (StatusCode::BAD_REQUEST, error("scopes is missing"))
    );
    assert_eq!(
        post(json!({ "name": "x", "scopes": ["read_registry", "api"] })).await,
        (
            StatusCode::BAD_REQUEST,
            error("scopes does not have a valid value")
        )
    );
    assert_eq!(
        post(json!({ "name": "x", "scopes": ["read_registry"], "expires_at": "next week" })).await,
        (StatusCode::BAD_REQUEST, error("expires_at is invalid"))
    );
    // What Grape lets through, the model refuses, as one sentence.
    assert_eq!(
        post(json!({ "name": "x", "scopes": [] })).await,
        (StatusCode::BAD_REQUEST, message("Scopes can't be blank"))
    );
    assert_eq!(
        post(json!({ "name": "x", "scopes": [], "username": "has space" })).await,
        (
            StatusCode::BAD_REQUEST,
            message(
                "Scopes can't be blank and Username can contain only letters, digits, '_', '-', \
                    '+', and '.'"
            )
        )
    );
    // A comma-separated string is an array of scopes.
    let (status, created) =
        post(json!({ "name": "x", "scopes": "read_registry,write_registry" })).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(
        created["scopes"],
        json!(["read_registry", "write_registry"])
    );
    // GitLab does not refuse an expiry in the past: the token is born expired.
    let (status, past) = post(json!({
        "name": "late", "scopes": ["read_registry"], "expires_at": "2020-02-14T00:00:00Z"
    }))
    .await;
    assert_eq!(status, StatusCode::CREATED, "{past}");
    assert_eq!(past["expired"], true);
    assert_eq!(past["expires_at"], "2020-02-14T00:00:00.000Z");
    let (_, _, active) = get(base, &format!("{WEB_DEPLOY}?active=true"), Some(&maria)).await;
    let active = ids(&active);
    assert!(active.contains(&1) && active.contains(&created["id"].as_u64().unwrap()));
    assert!(!active.contains(&2), "expired seed: {active:?}");
    assert!(!active.contains(&past["id"].as_u64().unwrap()));
    let (_, _, all) = get(base, &format!("{WEB_DEPLOY}?active=false"), Some(&maria)).await;
    assert_eq!(ids(&all).len(), 4, "active=false filters nothing");
    let (status, _, body) = get(base, &format!("{WEB_DEPLOY}?active=maybe"), Some(&maria)).await;
    assert_eq!(
        (status, body),
        (StatusCode::BAD_REQUEST, error("active is invalid"))
    );
}

#[tokio::test]
async fn deleting_a_deploy_token_destroys_it() {
    let gl = start().await;
    let base = gl.base_url.as_str();
    let maria = login(base, "maria").await;
    let one = format!("{WEB_DEPLOY}/1");
    let (status, body) = call(Method::DELETE, base, &one, Some(&maria), None).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    let not_found = json!({ "message": "404 Not found" });
    let (status, _, body) = get(base, &one, Some(&maria)).await;
    assert_eq!((status, body), (StatusCode::NOT_FOUND, not_found.clone()));
    let (status, body) = call(Method::DELETE, base, &one, Some(&maria), None).await;
    assert_eq!((status, body), (StatusCode::NOT_FOUND, not_found.clone()));
    let (_, _, list) = get(base, WEB_DEPLOY, Some(&maria)).await;
    assert_eq!(ids(&list), [2]);
    // The group's token is not the project's.
    let (status, _, body) = get(base, &format!("{WEB_DEPLOY}/3"), Some(&maria)).await;
    assert_eq!((status, body), (StatusCode::NOT_FOUND, not_found));
    let (status, _, body) = get(base, &format!("{WEB_DEPLOY}/abc"), Some(&maria)).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            json!({ "error": "token_id is invalid" })
        )
    );
}

#[tokio::test]
async fn access_tokens_look_like_gitlabs_examples() {
    let gl = start().await;
    let base = gl.base_url.as_str();
    let maria = login(base, "maria").await;

    let (status, headers, list) = get(base, WEB_ACCESS, Some(&maria)).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(header(&headers, "x-total"), Some("1"));
    let listed = example("rest_project_access_tokens_list.json");
    let listed: Vec<&Value> = listed.as_array().unwrap().iter().collect();
    let seeded = by_id(&list, 1);
    assert_shape(&seeded, &listed, &[], "project access token");
    assert_eq!(seeded["name"], "ci-image-reader");
    assert_eq!(seeded["scopes"], json!(["read_registry"]));
    assert_eq!(seeded["access_level"], 20);
    assert_eq!(
        (seeded["active"].clone(), seeded["revoked"].clone()),
        (json!(true), json!(false))
    );
    assert_eq!(seeded["expires_at"], day(200));
    assert!(seeded["last_used_at"].is_string(), "used three hours ago");

    // The bot user, which GET /users/:id shows.
    let (status, _, bot) = get(
        base,
        &format!("/api/v4/users/{}", seeded["user_id"]),
        Some(&maria),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        bot["username"]
            .as_str()
            .unwrap()
            .starts_with("project_1001_bot_"),
        "{bot}"
    );
    assert_eq!(
        (bot["name"].clone(), bot["bot"].clone()),
        (json!("ci-image-reader"), json!(true))
    );
    let (_, _, human) = get(base, "/api/v4/users/2", Some(&maria)).await;
    assert_eq!(human["bot"], false);

    // Creation: the entity plus the secret. GitLab's documented example leaves `last_used_at`
    // out, but `Entities::PersonalAccessToken` (which the creation entity extends) exposes it.
    let (status, created) = call_json(
        Method::POST,
        base,
        WEB_ACCESS,
        Some(&maria),
        &json!({ "name": "test", "description": "Test Token description",
                 "scopes": ["read_registry", "write_registry"], "access_level": 30,
                 "expires_at": day(31) }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let mut documented = example("rest_project_access_token_create.json");
    documented["last_used_at"] = Value::Null;
    assert_shape(
        &created,
        &[&documented],
        &["last_used_at"],
        "created access token",
    );
    assert_eq!(created["access_level"], 30);
    assert_eq!(created["expires_at"], day(31));
    assert_eq!(created["active"], true);
    let secret = created["token"].as_str().unwrap();
    assert!(
        secret.starts_with("glpat-") && secret.len() == 26,
        "{secret}"
    );
    let (status, _, shown) = get(
        base,
        &format!("{WEB_ACCESS}/{}", created["id"]),
        Some(&maria),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_shape(&shown, &listed, &["last_used_at"], "shown access token");
    let (_, _, bot) = get(
        base,
        &format!("/api/v4/users/{}", created["user_id"]),
        Some(&maria),
    )
    .await;
    assert!(bot["username"]
        .as_str()
        .unwrap()
        .starts_with("project_1001_bot_"));
    assert_eq!(bot["name"], "test");
    // Bots cannot sign in: the sign-in page does not offer them.
    let page = http()
        .get(format!(
            "{base}/oauth/authorize?client_id={CLIENT_ID}&redirect_uri={REDIRECT_URI}\
             &response_type=code&scope=api"
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("@maria") && !page.contains("_bot_"));

    // Without an expiry, GitLab's maximum: a year.
    let (status, defaulted) = call_json(
        Method::POST,
        base,
        WEB_ACCESS,
        Some(&maria),
        &json!({ "name": "no expiry", "scopes": ["read_api"] }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(defaulted["expires_at"], day(365));
    assert_eq!(defaulted["access_level"], 40, "Maintainer by default");
    assert_eq!(defaulted["description"], Value::Null);

    // A group token, by the group's Owner.
    let olivia = login(base, "olivia").await;
    let (status, created) = call(
        Method::POST,
        base,
        ACME_ACCESS,
        Some(&olivia),
        Some(&[
            ("name", "test"),
            ("description", "Test Token description"),
            ("scopes[]", "api"),
            ("scopes[]", "read_repository"),
            ("access_level", "30"),
            ("expires_at", &day(10)),
        ]),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let mut documented = example("rest_group_access_token_create.json");
    documented["last_used_at"] = Value::Null;
    assert_shape(
        &created,
        &[&documented],
        &["last_used_at"],
        "created group token",
    );
    let (status, _, list) = get(base, ACME_ACCESS, Some(&olivia)).await;
    assert_eq!(status, StatusCode::OK);
    let group_listed = example("rest_group_access_tokens_list.json");
    let group_listed: Vec<&Value> = group_listed.as_array().unwrap().iter().collect();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_shape(&list[0], &group_listed, &[], "group access token");
    let (_, _, bot) = get(
        base,
        &format!("/api/v4/users/{}", created["user_id"]),
        Some(&olivia),
    )
    .await;
    assert!(bot["username"]
        .as_str()
        .unwrap()
        .starts_with("group_10_bot_"));
}

#[tokio::test]
async fn access_token_permissions_follow_gitlab() {
    let gl = start().await;
    let base = gl.base_url.as_str();
    let body = json!({ "name": "t", "scopes": ["read_registry"] });
    let unauthorized = json!({ "message": "401 Unauthorized" });

    let (status, _, got) = get(base, WEB_ACCESS, None).await;
    assert_eq!(
        (status, got),
        (StatusCode::UNAUTHORIZED, unauthorized.clone())
    );
    // Below Maintainer, reading is 401 (sic) and creating a 400.
    let devon = login(base, "devon").await;
    let (status, _, got) = get(base, WEB_ACCESS, Some(&devon)).await;
    assert_eq!(
        (status, got),
        (StatusCode::UNAUTHORIZED, unauthorized.clone())
    );
    let (status, _, got) = get(base, &format!("{WEB_ACCESS}/1"), Some(&devon)).await;
    assert_eq!(
        (status, got),
        (StatusCode::UNAUTHORIZED, unauthorized.clone())
    );
    let (status, got) = call_json(Method::POST, base, WEB_ACCESS, Some(&devon), &body).await;
    assert_eq!(
        (status, got),
        (
            StatusCode::BAD_REQUEST,
            json!({ "message": "400 Bad request - User does not have permission to create project \
                access token" })
        )
    );
    let (status, got) = call(
        Method::DELETE,
        base,
        &format!("{WEB_ACCESS}/1"),
        Some(&devon),
        None,
    )
    .await;
    assert_eq!(
        (status, got),
        (
            StatusCode::BAD_REQUEST,
            json!({ "message": "400 Bad request - Devon Developer cannot delete ci-image-reader" })
        )
    );

    // A Maintainer manages project tokens, up to her own role; group tokens are the Owner's.
    let maria = login(base, "maria").await;
    let (status, got) = call_json(Method::POST, base, WEB_ACCESS, Some(&maria), &body).await;
    assert_eq!(status, StatusCode::CREATED, "{got}");
    let mut owner_level = body.clone();
    owner_level["access_level"] = json!(50);
    let (status, got) = call_json(Method::POST, base, WEB_ACCESS, Some(&maria), &owner_level).await;
    assert_eq!(
        (status, got),
        (
            StatusCode::BAD_REQUEST,
            json!({ "message": "400 Bad request - Access level of the token contains permissions \
                not held by the creating user" })
        )
    );
    let (status, got) = call_json(Method::POST, base, ACME_ACCESS, Some(&maria), &body).await;
    assert_eq!(
        (status, got),
        (
            StatusCode::BAD_REQUEST,
            json!({ "message": "400 Bad request - User does not have permission to create group \
                access token" })
        )
    );
    let (status, _, got) = get(base, ACME_ACCESS, Some(&maria)).await;
    assert_eq!((status, got), (StatusCode::UNAUTHORIZED, unauthorized));
    let olivia = login(base, "olivia").await;
    let (status, got) =
        call_json(Method::POST, base, WEB_ACCESS, Some(&olivia), &owner_level).await;
    assert_eq!(status, StatusCode::CREATED, "{got}");
    assert_eq!(got["access_level"], 50);
    let (status, got) = call_json(Method::POST, base, ACME_ACCESS, Some(&olivia), &body).await;
    assert_eq!(status, StatusCode::CREATED, "{got}");

    // Who cannot see the project: 404; a read_api token cannot create.
    let nora = login(base, "nora").await;
    let (status, _, got) = get(base, WEB_ACCESS, Some(&nora)).await;
    assert_eq!(
        (status, got),
        (
            StatusCode::NOT_FOUND,
            json!({ "message": "404 Project Not Found" })
        )
    );
    let reader = login_scoped(base, "maria", "read_api").await;
    let (status, got) = call_json(Method::POST, base, WEB_ACCESS, Some(&reader), &body).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(got["error"], "insufficient_scope");
    let (status, _, _) = get(base, WEB_ACCESS, Some(&reader)).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn access_token_validation_is_gitlabs() {
    let gl = start().await;
    let base = gl.base_url.as_str();
    let maria = login(base, "maria").await;
    let post = |body: Value| {
        let maria = maria.clone();
        async move { call_json(Method::POST, base, WEB_ACCESS, Some(&maria), &body).await }
    };
    let error = |text: &str| json!({ "error": text });
    let refused = |text: &str| json!({ "message": format!("400 Bad request - {text}") });

    assert_eq!(
        post(json!({ "description": "d" })).await,
        (
            StatusCode::BAD_REQUEST,
            error("name is missing, scopes is missing")
        )
    );
    assert_eq!(
        post(json!({ "name": "t", "scopes": ["read_user"] })).await,
        (
            StatusCode::BAD_REQUEST,
            error("scopes does not have a valid value")
        )
    );
    assert_eq!(
        post(json!({ "name": "t", "scopes": ["api"], "access_level": 35 })).await,
        (
            StatusCode::BAD_REQUEST,
            error("access_level does not have a valid value")
        )
    );
    assert_eq!(
        post(json!({ "name": "t", "scopes": ["api"], "access_level": "owner" })).await,
        (StatusCode::BAD_REQUEST, error("access_level is invalid"))
    );
    assert_eq!(
        post(json!({ "name": "t", "scopes": ["api"], "expires_at": "2026-13-01" })).await,
        (StatusCode::BAD_REQUEST, error("expires_at is invalid"))
    );
    assert_eq!(
        post(json!({ "name": "t", "scopes": [] })).await,
        (StatusCode::BAD_REQUEST, refused("Scopes can't be blank"))
    );
    assert_eq!(
        post(json!({ "name": " ", "scopes": ["api"] })).await,
        (StatusCode::BAD_REQUEST, refused("Name can't be blank"))
    );
    assert_eq!(
        post(json!({ "name": "t", "scopes": ["api"], "expires_at": day(366) })).await,
        (
            StatusCode::BAD_REQUEST,
            refused(&format!("Expires at must be before {}", day(365)))
        )
    );
    let (status, latest) =
        post(json!({ "name": "t", "scopes": ["api"], "expires_at": day(365) })).await;
    assert_eq!(status, StatusCode::CREATED, "{latest}");
    // An expiry in the past is not refused: the token is born inactive.
    let (status, past) =
        post(json!({ "name": "late", "scopes": ["read_registry"], "expires_at": "2020-01-31" }))
            .await;
    assert_eq!(status, StatusCode::CREATED, "{past}");
    assert_eq!(
        (past["active"].clone(), past["revoked"].clone()),
        (json!(false), json!(false))
    );
    let (_, _, inactive) = get(base, &format!("{WEB_ACCESS}?state=inactive"), Some(&maria)).await;
    assert_eq!(ids(&inactive), [past["id"].as_u64().unwrap()]);
    let (status, _, got) = get(base, &format!("{WEB_ACCESS}?state=expired"), Some(&maria)).await;
    assert_eq!(
        (status, got),
        (
            StatusCode::BAD_REQUEST,
            error("state does not have a valid value")
        )
    );
}

#[tokio::test]
async fn revoked_access_tokens_stay_listed_as_inactive() {
    let gl = start().await;
    let base = gl.base_url.as_str();
    let maria = login(base, "maria").await;
    let (status, created) = call_json(
        Method::POST,
        base,
        WEB_ACCESS,
        Some(&maria),
        &json!({ "name": "short-lived", "scopes": ["read_registry"], "access_level": 20 }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let one = format!("{WEB_ACCESS}/{}", created["id"]);
    let (status, body) = call(Method::DELETE, base, &one, Some(&maria), None).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    let (status, _, shown) = get(base, &one, Some(&maria)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (shown["revoked"].clone(), shown["active"].clone()),
        (json!(true), json!(false))
    );
    let (_, _, active) = get(base, &format!("{WEB_ACCESS}?state=active"), Some(&maria)).await;
    assert_eq!(ids(&active), [1]);
    let (_, _, revoked) = get(base, &format!("{WEB_ACCESS}?revoked=true"), Some(&maria)).await;
    assert_eq!(ids(&revoked), [created["id"].as_u64().unwrap()]);
    // The bot stays (GitLab 17.9 and later keep it).
    let (status, _, _) = get(
        base,
        &format!("/api/v4/users/{}", created["user_id"]),
        Some(&maria),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    let not_found = json!({ "message": "404 project Access Token Not Found" });
    for path in [format!("{WEB_ACCESS}/999"), format!("{WEB_ACCESS}/abc")] {
        let (status, _, body) = get(base, &path, Some(&maria)).await;
        assert_eq!(
            (status, body),
            (StatusCode::NOT_FOUND, not_found.clone()),
            "{path}"
        );
    }
    let (status, body) = call(
        Method::DELETE,
        base,
        &format!("{WEB_ACCESS}/999"),
        Some(&maria),
        None,
    )
    .await;
    assert_eq!((status, body), (StatusCode::NOT_FOUND, not_found));
    let olivia = login(base, "olivia").await;
    let (status, _, body) = get(base, &format!("{ACME_ACCESS}/1"), Some(&olivia)).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::NOT_FOUND,
            json!({ "message": "404 group Access Token Not Found" })
        ),
        "the project's token is not the group's"
    );
}

#[tokio::test]
async fn metadata_is_gitlabs() {
    let gl = start().await;
    let base = gl.base_url.as_str();
    let expected = json!({
        "version": "17.11.0-double",
        "revision": "double",
        "kas": {
            "enabled": false,
            "externalUrl": null,
            "externalK8sProxyUrl": null,
            "version": null
        },
        "enterprise": false,
    });
    let maria = login(base, "maria").await;
    for path in ["/api/v4/metadata", "/api/v4/version"] {
        let (status, _, body) = get(base, path, Some(&maria)).await;
        assert_eq!((status, body), (StatusCode::OK, expected.clone()), "{path}");
    }
    let profile_only = login_scoped(base, "maria", "read_user").await;
    let (status, _, _) = get(base, "/api/v4/metadata", Some(&profile_only)).await;
    assert_eq!(status, StatusCode::OK, "read_user is enough for these GETs");
    let registry_only = login_scoped(base, "maria", "read_registry").await;
    let (status, _, body) = get(base, "/api/v4/metadata", Some(&registry_only)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"], "insufficient_scope");
    let (status, _, body) = get(base, "/api/v4/metadata", None).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::UNAUTHORIZED,
            json!({ "message": "401 Unauthorized" })
        )
    );
    // GraphQL reports the same version.
    let (_, body) = gql(
        base,
        Some(&maria),
        "{ metadata { version revision } }",
        Value::Null,
    )
    .await;
    assert_eq!(body["data"]["metadata"]["version"], expected["version"]);
    assert_eq!(body["data"]["metadata"]["revision"], expected["revision"]);
}
