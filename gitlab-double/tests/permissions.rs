//! GitLab's permission model: visibility (404), registry access (403), scopes.

use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn private_projects_are_404_for_non_members() {
    let gl = start().await;
    let nora = login(&gl.base_url, "nora").await;
    for path in [
        "/api/v4/projects/acme%2Fweb",
        "/api/v4/projects/1001",
        "/api/v4/projects/acme%2Fweb/registry/repositories",
    ] {
        let (status, _, body) = get(&gl.base_url, path, Some(&nora)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            body,
            json!({ "message": "404 Project Not Found" }),
            "{path}"
        );
    }
    let (status, _, body) = get(&gl.base_url, "/api/v4/groups/acme", Some(&nora)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, json!({ "message": "404 Group Not Found" }));

    // olivia/secret is a personal project: only olivia is a member, maria gets a 404.
    let maria = login(&gl.base_url, "maria").await;
    let (status, _, body) = get(
        &gl.base_url,
        "/api/v4/projects/olivia%2Fsecret",
        Some(&maria),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, json!({ "message": "404 Project Not Found" }));
    let olivia = login(&gl.base_url, "olivia").await;
    let (status, _, body) = get(
        &gl.base_url,
        "/api/v4/projects/olivia%2Fsecret",
        Some(&olivia),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["permissions"]["project_access"]["access_level"], 50);
}

#[tokio::test]
async fn public_projects_are_readable_by_anyone_signed_in() {
    let gl = start().await;
    let nora = login(&gl.base_url, "nora").await;
    let (status, _, body) = get(
        &gl.base_url,
        "/api/v4/projects/opensource%2Fcli",
        Some(&nora),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["permissions"]["project_access"],
        serde_json::Value::Null
    );
    assert_eq!(body["permissions"]["group_access"], serde_json::Value::Null);
    let (status, _, repos) = get(
        &gl.base_url,
        "/api/v4/projects/opensource%2Fcli/registry/repositories?tags_count=true",
        Some(&nora),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(repos[0]["tags_count"], 41);
    // …but not writable.
    let (status, _) = call(
        Method::DELETE,
        &gl.base_url,
        "/api/v4/projects/1005/registry/repositories/7/tags/latest",
        Some(&nora),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Listing without membership shows member + public projects.
    let (_, _, list) = get(&gl.base_url, "/api/v4/projects", Some(&nora)).await;
    let paths: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["path_with_namespace"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["opensource/cli"]);
    let (_, _, list) = get(
        &gl.base_url,
        "/api/v4/projects?membership=true",
        Some(&nora),
    )
    .await;
    assert_eq!(list, json!([]));
}

#[tokio::test]
async fn guests_cannot_read_a_private_registry() {
    let gl = start().await;
    let gus = login(&gl.base_url, "gus").await;
    let (status, _, _) = get(&gl.base_url, "/api/v4/projects/acme%2Fweb", Some(&gus)).await;
    assert_eq!(status, StatusCode::OK, "guests see the project");
    for path in [
        "/api/v4/projects/acme%2Fweb/registry/repositories",
        "/api/v4/projects/1001/registry/repositories/1/tags",
        "/api/v4/projects/1001/registry/repositories/1/tags/latest",
        "/api/v4/registry/repositories/1",
        "/api/v4/groups/acme/registry/repositories",
    ] {
        let (status, _, body) = get(&gl.base_url, path, Some(&gus)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(body, json!({ "message": "403 Forbidden" }), "{path}");
    }
    let reese = login(&gl.base_url, "reese").await;
    let (status, _, _) = get(
        &gl.base_url,
        "/api/v4/projects/1001/registry/repositories",
        Some(&reese),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "reporters can");
}

#[tokio::test]
async fn scopes_limit_what_a_token_may_do() {
    let gl = start().await;
    let read_only = login_scoped(&gl.base_url, "maria", "read_api").await;
    let (status, _, _) = get(
        &gl.base_url,
        "/api/v4/projects/1001/registry/repositories",
        Some(&read_only),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = call(
        Method::DELETE,
        &gl.base_url,
        "/api/v4/projects/1001/registry/repositories/1/tags/latest",
        Some(&read_only),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        body,
        json!({
            "error": "insufficient_scope",
            "error_description": "The request requires higher privileges than provided by the \
                access token.",
            "scope": "api"
        })
    );
    let user_only = login_scoped(&gl.base_url, "maria", "read_user").await;
    let (status, _, _) = get(&gl.base_url, "/api/v4/user", Some(&user_only)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, body) = get(&gl.base_url, "/api/v4/projects", Some(&user_only)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"], "insufficient_scope");
}

#[tokio::test]
async fn anonymous_requests_see_only_public_data() {
    let gl = start().await;
    let (status, _, list) = get(&gl.base_url, "/api/v4/projects", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (status, _, _) = get(&gl.base_url, "/api/v4/projects/1001", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = call(
        Method::DELETE,
        &gl.base_url,
        "/api/v4/projects/1005/registry/repositories/7/tags/latest",
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, json!({ "message": "401 Unauthorized" }));
}

/// An instance administrator (GitLab's admin mode) sees every project and group without
/// being a member, reads every registry and policy, and may save a policy; GitLab reports no
/// membership for her and `is_admin: true` on `/user`.
#[tokio::test]
async fn an_administrator_sees_and_administers_every_registry_without_membership() {
    let gl = start().await;
    let ada = login(&gl.base_url, "ada").await;
    let (status, _, me) = get(&gl.base_url, "/api/v4/user", Some(&ada)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["is_admin"], true);
    let (status, _, secret) =
        get(&gl.base_url, "/api/v4/projects/olivia%2Fsecret", Some(&ada)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        secret["permissions"]["project_access"],
        serde_json::Value::Null
    );
    for path in [
        "/api/v4/projects/olivia%2Fsecret/registry/repositories",
        "/api/v4/groups/acme",
    ] {
        let (status, _, _) = get(&gl.base_url, path, Some(&ada)).await;
        assert_eq!(status, StatusCode::OK, "{path}");
    }
    let (_, policy) = gql(
        &gl.base_url,
        Some(&ada),
        "{ project(fullPath: \"acme/web\") { containerTagsExpirationPolicy { keepN } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        policy["data"]["project"]["containerTagsExpirationPolicy"]["keepN"],
        "TEN_TAGS"
    );
    let (status, _) = call_json(
        Method::PUT,
        &gl.base_url,
        "/api/v4/projects/1003",
        Some(&ada),
        &json!({"container_expiration_policy_attributes": {"keep_n": 5}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // Everyone else keeps GitLab's rules: no member, no policy change.
    let nora = login(&gl.base_url, "nora").await;
    let (_, _, me) = get(&gl.base_url, "/api/v4/user", Some(&nora)).await;
    assert_eq!(me["is_admin"], false);
}
