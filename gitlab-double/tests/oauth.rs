//! The OAuth 2 provider: authorization code + PKCE, Doorkeeper's errors, refresh rotation,
//! expiry, revocation.

use std::time::Duration;

use crate::common::*;
use gitlab_double::DoubleConfig;
use reqwest::StatusCode;
use serde_json::Value;

const INVALID_GRANT: &str = "The provided authorization grant is invalid, expired, revoked, does \
    not match the redirection URI used in the authorization request, or was issued to another \
    client.";
const INVALID_CLIENT: &str = "Client authentication failed due to unknown client, no client \
    authentication included, or unsupported authentication method.";

#[tokio::test]
async fn authorize_page_lists_users_as_accessible_buttons() {
    let gl = start().await;
    let (_, challenge) = pkce("page");
    let url = format!(
        "{}/oauth/authorize?client_id={CLIENT_ID}&redirect_uri={}&response_type=code&scope=api\
         &state=s1&code_challenge={challenge}&code_challenge_method=S256",
        gl.base_url,
        url::form_urlencoded::byte_serialize(REDIRECT_URI.as_bytes()).collect::<String>()
    );
    let response = http().get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let page = response.text().await.unwrap();
    assert!(page.contains("<title>Sign in to GitLab (double)</title>"));
    for user in ["olivia", "maria", "devon", "reese", "gus", "nora"] {
        assert!(
            page.contains(&format!("name=\"user\" value=\"{user}\"")),
            "button for {user}"
        );
        assert!(
            page.contains(&format!("(@{user})\"")),
            "accessible name for {user}"
        );
    }
    assert!(page.contains("Maintainer of acme"));
    assert!(page.contains(&format!("name=\"code_challenge\" value=\"{challenge}\"")));
    assert!(page.contains(">Deny</button>"));
}

#[tokio::test]
async fn full_code_flow_with_pkce() {
    let gl = start().await;
    let tokens = login_full(&gl.base_url, "maria", "api read_user").await;
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(access.len(), 64);
    assert!(access.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 7200);
    assert_eq!(tokens["scope"], "api read_user");
    assert_eq!(tokens["refresh_token"].as_str().unwrap().len(), 64);
    assert!(tokens["created_at"].as_i64().unwrap() > 1_600_000_000);
    let (status, _, user) = get(&gl.base_url, "/api/v4/user", Some(access)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(user["username"], "maria");
    assert_eq!(user["id"], 2);
}

#[tokio::test]
async fn token_response_is_not_cacheable_and_client_may_use_form_credentials() {
    let gl = start().await;
    let (verifier, challenge) = pkce("form");
    let code = authorize(&gl.base_url, "devon", "read_api", Some(&challenge)).await;
    let response = http()
        .post(format!("{}/oauth/token", gl.base_url))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", &verifier),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        header(response.headers(), "cache-control"),
        Some("no-store")
    );
}

async fn assert_invalid_grant(response: reqwest::Response) {
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.expect("a JSON body");
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(body["error_description"], INVALID_GRANT);
}

#[tokio::test]
async fn wrong_or_missing_verifier_is_invalid_grant() {
    let gl = start().await;
    let (_, challenge) = pkce("a");
    let code = authorize(&gl.base_url, "maria", "api", Some(&challenge)).await;
    assert_invalid_grant(
        exchange(
            &gl.base_url,
            &code,
            Some("not-the-verifier-at-all-xxxxxxxxxxxxxxxxxxxxx"),
        )
        .await,
    )
    .await;
    assert_invalid_grant(exchange(&gl.base_url, &code, None).await).await;
    // Failed attempts do not burn the code: the right verifier still works.
    let (verifier, _) = pkce("a");
    assert_eq!(
        exchange(&gl.base_url, &code, Some(&verifier))
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn reused_code_is_invalid_grant_and_revokes_its_tokens() {
    let gl = start().await;
    let (verifier, challenge) = pkce("reuse");
    let code = authorize(&gl.base_url, "maria", "api", Some(&challenge)).await;
    let first = exchange(&gl.base_url, &code, Some(&verifier)).await;
    assert_eq!(first.status(), StatusCode::OK);
    let access = first.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_invalid_grant(exchange(&gl.base_url, &code, Some(&verifier)).await).await;
    let (status, _, body) = get(&gl.base_url, "/api/v4/user", Some(&access)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "invalid_token");
}

#[tokio::test]
async fn wrong_redirect_uri_is_an_error_page_at_authorize_and_invalid_grant_at_token() {
    let gl = start().await;
    let response = http()
        .get(format!("{}/oauth/authorize", gl.base_url))
        .query(&[
            ("client_id", CLIENT_ID),
            ("redirect_uri", "http://evil.example/callback"),
            ("response_type", "code"),
            ("scope", "api"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(
        response.headers().get("location").is_none(),
        "never redirect to an unregistered URI"
    );
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("The redirect URI included is not valid."));

    // Registered, but not the one the code was issued for.
    gl.double
        .controls()
        .register_redirect_uri(CLIENT_ID, "http://127.0.0.1:3999/auth/callback");
    let (verifier, challenge) = pkce("redir");
    let code = authorize(&gl.base_url, "maria", "api", Some(&challenge)).await;
    let response = http()
        .post(format!("{}/oauth/token", gl.base_url))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", "http://127.0.0.1:3999/auth/callback"),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_invalid_grant(response).await;
}

#[tokio::test]
async fn unknown_client_is_invalid_client() {
    let gl = start().await;
    let response = http()
        .get(format!("{}/oauth/authorize", gl.base_url))
        .query(&[
            ("client_id", "nobody"),
            ("redirect_uri", REDIRECT_URI),
            ("response_type", "code"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.text().await.unwrap().contains(INVALID_CLIENT));

    let (verifier, challenge) = pkce("client");
    let code = authorize(&gl.base_url, "maria", "api", Some(&challenge)).await;
    for (id, secret) in [("nobody", CLIENT_SECRET), (CLIENT_ID, "wrong-secret")] {
        let response = http()
            .post(format!("{}/oauth/token", gl.base_url))
            .basic_auth(id, Some(secret))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", REDIRECT_URI),
                ("code_verifier", verifier.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "invalid_client");
        assert_eq!(body["error_description"], INVALID_CLIENT);
    }
}

#[tokio::test]
async fn redirectable_errors_go_back_to_the_client() {
    let gl = start().await;
    let ask = |extra: Vec<(&'static str, &'static str)>| {
        let mut q = vec![
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT_URI),
            ("response_type", "code"),
            ("state", "zz"),
        ];
        q.extend(extra);
        http()
            .get(format!("{}/oauth/authorize", gl.base_url))
            .query(&q)
            .send()
    };
    let r = ask(vec![("scope", "api sudo")]).await.unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    let p = location_params(r.headers());
    assert_eq!(param(&p, "error").as_deref(), Some("invalid_scope"));
    assert_eq!(param(&p, "state").as_deref(), Some("zz"));

    let r = http()
        .get(format!("{}/oauth/authorize", gl.base_url))
        .query(&[
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT_URI),
            ("response_type", "token"),
        ])
        .send()
        .await
        .unwrap();
    let p = location_params(r.headers());
    assert_eq!(
        param(&p, "error").as_deref(),
        Some("unsupported_response_type")
    );

    // Deny.
    let r = http()
        .post(format!("{}/oauth/authorize", gl.base_url))
        .form(&[
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT_URI),
            ("response_type", "code"),
            ("state", "d1"),
            ("deny", "1"),
        ])
        .send()
        .await
        .unwrap();
    let p = location_params(r.headers());
    assert_eq!(param(&p, "error").as_deref(), Some("access_denied"));
    assert_eq!(param(&p, "state").as_deref(), Some("d1"));
    assert!(param(&p, "code").is_none());
}

async fn refresh(base: &str, refresh_token: &str) -> reqwest::Response {
    http()
        .post(format!("{base}/oauth/token"))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ])
        .send()
        .await
        .expect("the server answers")
}

#[tokio::test]
async fn refresh_rotates_the_pair_and_old_tokens_stop_working() {
    let gl = start().await;
    let first = login_full(&gl.base_url, "maria", "api").await;
    let old_access = first["access_token"].as_str().unwrap();
    let old_refresh = first["refresh_token"].as_str().unwrap();

    let response = refresh(&gl.base_url, old_refresh).await;
    assert_eq!(response.status(), StatusCode::OK);
    let second: Value = response.json().await.unwrap();
    let new_access = second["access_token"].as_str().unwrap();
    assert_ne!(new_access, old_access);
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    assert_eq!(second["scope"], "api");

    let (status, headers, body) = get(&gl.base_url, "/api/v4/user", Some(old_access)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "invalid_token");
    assert_eq!(
        body["error_description"],
        "Token was revoked. You have to re-authorize from the user."
    );
    assert!(header(&headers, "www-authenticate")
        .unwrap()
        .contains("error=\"invalid_token\""));
    // The old refresh token is spent: a second refresh with it fails (single-flight matters).
    let response = refresh(&gl.base_url, old_refresh).await;
    assert_invalid_grant(response).await;
    let (status, _, _) = get(&gl.base_url, "/api/v4/user", Some(new_access)).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn expired_tokens_answer_the_expired_form_and_can_be_refreshed() {
    let gl = start_with(DoubleConfig {
        token_ttl: Duration::from_secs(1),
        ..DoubleConfig::default()
    })
    .await;
    let tokens = login_full(&gl.base_url, "reese", "read_api").await;
    assert_eq!(tokens["expires_in"], 1);
    let access = tokens["access_token"].as_str().unwrap();
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let (status, headers, body) = get(&gl.base_url, "/api/v4/user", Some(access)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "invalid_token");
    assert_eq!(
        body["error_description"],
        "Token is expired. You can either do re-authorization or token refresh."
    );
    assert_eq!(
        header(&headers, "www-authenticate"),
        Some(
            "Bearer realm=\"Protected by OAuth 2.0\", error=\"invalid_token\", \
            error_description=\"Token is expired. You can either do re-authorization or token \
            refresh.\""
        )
    );
    let response = refresh(&gl.base_url, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn expire_tokens_control_endpoint() {
    let gl = start().await;
    let access = login(&gl.base_url, "maria").await;
    let response = http()
        .post(format!("{}/-/double/expire-tokens", gl.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let (status, _, body) = get(&gl.base_url, "/api/v4/projects", Some(&access)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body["error_description"],
        "Token is expired. You can either do re-authorization or token refresh."
    );
}

#[tokio::test]
async fn revoke_kills_the_pair() {
    let gl = start().await;
    let tokens = login_full(&gl.base_url, "maria", "api").await;
    let response = http()
        .post(format!("{}/oauth/revoke", gl.base_url))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&[("token", tokens["refresh_token"].as_str().unwrap())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        serde_json::json!({})
    );
    let (status, _, body) = get(
        &gl.base_url,
        "/api/v4/user",
        tokens["access_token"].as_str(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body["error_description"],
        "Token was revoked. You have to re-authorize from the user."
    );
    // Unknown tokens are fine (RFC 7009).
    let response = http()
        .post(format!("{}/oauth/revoke", gl.base_url))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&[("token", "0".repeat(64))])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn unknown_and_missing_tokens() {
    let gl = start().await;
    let (status, _, body) = get(&gl.base_url, "/api/v4/user", Some(&"f".repeat(64))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, serde_json::json!({ "message": "401 Unauthorized" }));
    let (status, _, body) = get(&gl.base_url, "/api/v4/user", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, serde_json::json!({ "message": "401 Unauthorized" }));
}

#[tokio::test]
async fn userinfo_and_token_info() {
    let gl = start().await;
    let with_openid = login_scoped(&gl.base_url, "maria", "api openid").await;
    let (status, _, info) = get(&gl.base_url, "/oauth/userinfo", Some(&with_openid)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(info["sub"], "2");
    assert_eq!(info["preferred_username"], "maria");
    assert_eq!(info["nickname"], "maria");
    assert_eq!(info["name"], "Maria Maintainer");
    assert!(info["groups"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!("acme/platform")));

    let without = login_scoped(&gl.base_url, "maria", "api").await;
    let (status, _, body) = get(&gl.base_url, "/oauth/userinfo", Some(&without)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"], "insufficient_scope");

    let (status, _, info) = get(&gl.base_url, "/oauth/token/info", Some(&without)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(info["resource_owner_id"], 2);
    assert_eq!(info["scope"], serde_json::json!(["api"]));
    assert_eq!(info["application"]["uid"], CLIENT_ID);
    assert!(info["expires_in"].as_i64().unwrap() > 7000);
}
