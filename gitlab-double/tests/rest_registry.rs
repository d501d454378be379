//! REST v4 container registry: payloads validated against GitLab's schemas, pagination, keyset,
//! deletions, the cleanup policy and the 10,000-tag repository.

use std::time::Duration;

use crate::common::*;
use gitlab_double::{Double, DoubleConfig};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[tokio::test]
async fn repositories_list_matches_schema() {
    let gl = start().await;
    let token = login(&gl.base_url, "maria").await;
    for path in [
        "/api/v4/projects/acme%2Fweb/registry/repositories?tags=true&tags_count=true",
        "/api/v4/projects/1002/registry/repositories",
        "/api/v4/groups/acme/registry/repositories",
    ] {
        let (status, _, body) = get(&gl.base_url, path, Some(&token)).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(!body.as_array().unwrap().is_empty(), "{path}");
        assert_valid("registry/repositories.json", &body);
    }
    let (_, _, body) = get(
        &gl.base_url,
        "/api/v4/projects/acme%2Fweb/registry/repositories?tags_count=true",
        Some(&token),
    )
    .await;
    assert_eq!(body[0]["name"], "");
    assert_eq!(body[0]["path"], "acme/web");
    assert_eq!(body[0]["location"], "registry.gitlab.test:5050/acme/web");
    assert_eq!(body[0]["tags_count"], 73);
    assert_eq!(body[1]["name"], "worker");
    // The schema bites: an unexpected field fails validation.
    let mut extra = body.clone();
    extra[0]["surprise"] = json!(1);
    assert!(!is_valid("registry/repositories.json", &extra));
}

#[tokio::test]
async fn repository_details_matches_schema_and_size_needs_the_metadata_db() {
    let gl = start().await;
    let token = login(&gl.base_url, "maria").await;
    let (status, _, body) = get(
        &gl.base_url,
        "/api/v4/registry/repositories/2?tags=true&tags_count=true",
        Some(&token),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_valid("registry/repository.json", &body);
    assert_eq!(body["tags_count"], 15);
    assert_eq!(body["tags"].as_array().unwrap().len(), 15);
    assert!(body.get("size").is_none(), "size only when asked");

    let (_, _, body) = get(
        &gl.base_url,
        "/api/v4/registry/repositories/2?size=true",
        Some(&token),
    )
    .await;
    assert_valid("registry/repository.json", &body);
    assert!(body["size"].as_u64().unwrap() > 0);

    gl.double.controls().set_metadata_db(false);
    let (_, _, body) = get(
        &gl.base_url,
        "/api/v4/registry/repositories/2?size=true",
        Some(&token),
    )
    .await;
    assert_eq!(body["size"], Value::Null);

    let (status, _, body) = get(
        &gl.base_url,
        "/api/v4/registry/repositories/5",
        Some(&token),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "delete_scheduled");
    let (status, _, body) = get(
        &gl.base_url,
        "/api/v4/registry/repositories/999",
        Some(&token),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, json!({ "message": "404 Not found" }));
}

#[tokio::test]
async fn tags_list_and_details_match_schema() {
    let gl = start().await;
    let token = login(&gl.base_url, "maria").await;
    let (status, _, tags) = get(
        &gl.base_url,
        "/api/v4/projects/1001/registry/repositories/1/tags?per_page=100",
        Some(&token),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_valid("registry/tags.json", &tags);
    assert_eq!(tags.as_array().unwrap().len(), 73);
    let names: Vec<&str> = tags
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "tags come sorted by name");

    let (status, _, latest) = get(
        &gl.base_url,
        "/api/v4/projects/acme%2Fweb/registry/repositories/1/tags/latest",
        Some(&token),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_valid("registry/tag.json", &latest);
    assert_eq!(latest["path"], "acme/web:latest");
    assert_eq!(
        latest["location"],
        "registry.gitlab.test:5050/acme/web:latest"
    );
    let digest = latest["digest"].as_str().unwrap();
    assert!(digest.starts_with("sha256:") && digest.len() == 71);
    assert_eq!(latest["revision"].as_str().unwrap().len(), 64);
    assert_eq!(latest["short_revision"].as_str().unwrap().len(), 9);
    assert!(latest["total_size"].as_u64().unwrap() >= 5_000_000);
    // `latest`, `stable` and `v2.3.1` are one image.
    for other in ["stable", "v2.3.1"] {
        let (_, _, t) = get(
            &gl.base_url,
            &format!("/api/v4/projects/1001/registry/repositories/1/tags/{other}"),
            Some(&token),
        )
        .await;
        assert_eq!(t["digest"], latest["digest"]);
    }
    // The schema bites: a wrongly sized short revision fails.
    let mut broken = latest.clone();
    broken["short_revision"] = json!("abc");
    assert!(!is_valid("registry/tag.json", &broken));
}

#[tokio::test]
async fn missing_manifest_tag_details() {
    let gl = start().await;
    let token = login(&gl.base_url, "maria").await;
    let path = "/api/v4/projects/1001/registry/repositories/2/tags/ci-cache";
    let (status, _, tag) = get(&gl.base_url, path, Some(&token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_valid("registry/tag.json", &tag);
    for field in [
        "created_at",
        "digest",
        "revision",
        "short_revision",
        "total_size",
    ] {
        assert_eq!(tag[field], Value::Null, "{field}");
    }
    // Without the metadata database Rails reads the manifest and finds none: 404.
    gl.double.controls().set_metadata_db(false);
    let (status, _, body) = get(&gl.base_url, path, Some(&token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, json!({ "message": "404 Tag Not Found" }));
    let (status, _, body) = get(
        &gl.base_url,
        "/api/v4/projects/1001/registry/repositories/2/tags/no-such-tag",
        Some(&token),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, json!({ "message": "404 Tag Not Found" }));
}

#[tokio::test]
async fn without_metadata_db_created_at_is_the_build_time_and_indexes_have_none() {
    let gl = start_with(DoubleConfig {
        metadata_db: false,
        ..DoubleConfig::default()
    })
    .await;
    let token = login(&gl.base_url, "nora").await;
    let (status, _, tag) = get(
        &gl.base_url,
        "/api/v4/projects/opensource%2Fcli/registry/repositories/7/tags/v1.8.0",
        Some(&token),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_valid("registry/tag.json", &tag);
    assert_eq!(tag["created_at"], Value::Null);
    assert_eq!(tag["total_size"], Value::Null);
    assert!(tag["digest"].as_str().is_some());
}

#[tokio::test]
async fn offset_pagination_headers() {
    let gl = start().await;
    let token = login(&gl.base_url, "maria").await;
    let base = "/api/v4/projects/1001/registry/repositories/1/tags";
    let (_, h, body) = get(
        &gl.base_url,
        &format!("{base}?page=2&per_page=25"),
        Some(&token),
    )
    .await;
    assert_eq!(body.as_array().unwrap().len(), 25);
    assert_eq!(header(&h, "x-total"), Some("73"));
    assert_eq!(header(&h, "x-total-pages"), Some("3"));
    assert_eq!(header(&h, "x-page"), Some("2"));
    assert_eq!(header(&h, "x-per-page"), Some("25"));
    assert_eq!(header(&h, "x-next-page"), Some("3"));
    assert_eq!(header(&h, "x-prev-page"), Some("1"));
    let link = header(&h, "link").unwrap();
    let url = format!("{}{base}", gl.base_url);
    assert!(
        link.contains(&format!("<{url}?page=1&per_page=25>; rel=\"prev\"")),
        "{link}"
    );
    assert!(
        link.contains(&format!("<{url}?page=3&per_page=25>; rel=\"next\"")),
        "{link}"
    );
    assert!(
        link.contains(&format!("<{url}?page=1&per_page=25>; rel=\"first\"")),
        "{link}"
    );
    assert!(
        link.contains(&format!("<{url}?page=3&per_page=25>; rel=\"last\"")),
        "{link}"
    );

    // Defaults and the 100 clamp.
    let (_, h, body) = get(&gl.base_url, base, Some(&token)).await;
    assert_eq!(body.as_array().unwrap().len(), 20);
    assert_eq!(header(&h, "x-per-page"), Some("20"));
    assert_eq!(header(&h, "x-prev-page"), Some(""));
    let (_, h, body) = get(
        &gl.base_url,
        "/api/v4/projects/1002/registry/repositories/3/tags?per_page=1000",
        Some(&token),
    )
    .await;
    assert_eq!(body.as_array().unwrap().len(), 100);
    assert_eq!(header(&h, "x-per-page"), Some("100"));
    assert_eq!(header(&h, "x-total"), Some("10000"));
    assert_eq!(header(&h, "x-total-pages"), Some("100"));
    // Last page: no next.
    let (_, h, _) = get(
        &gl.base_url,
        &format!("{base}?page=3&per_page=25"),
        Some(&token),
    )
    .await;
    assert_eq!(header(&h, "x-next-page"), Some(""));
    assert!(!header(&h, "link").unwrap().contains("rel=\"next\""));
}

#[tokio::test]
async fn keyset_pagination_needs_the_metadata_db() {
    let gl = start().await;
    let token = login(&gl.base_url, "maria").await;
    let path =
        "/api/v4/projects/1002/registry/repositories/3/tags?pagination=keyset&per_page=50&sort=asc";
    let (status, h, page1) = get(&gl.base_url, path, Some(&token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page1.as_array().unwrap().len(), 50);
    let link = header(&h, "link").unwrap().to_owned();
    assert!(link.ends_with("rel=\"next\""), "{link}");
    let next = link.trim_start_matches('<').split('>').next().unwrap();
    let last_name = page1[49]["name"].as_str().unwrap();
    assert!(next.contains(&format!("last={last_name}")), "{next}");
    let (_, _, page2) = get("", next, Some(&token)).await;
    assert!(page2[0]["name"].as_str().unwrap() > last_name);

    gl.double.controls().set_metadata_db(false);
    let (status, _, body) = get(&gl.base_url, path, Some(&token)).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body, json!({ "message": "405 Method Not Allowed" }));
    // Offset pagination keeps working.
    let (status, _, _) = get(
        &gl.base_url,
        "/api/v4/projects/1002/registry/repositories/3/tags",
        Some(&token),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn scale_repository_is_deterministic() {
    let first = Double::spawn(DoubleConfig::default()).await.unwrap();
    let second = Double::spawn(DoubleConfig::default()).await.unwrap();
    let mut digests = Vec::new();
    for gl in [&first, &second] {
        let token = login(&gl.base_url, "devon").await;
        let (_, h, page) = get(
            &gl.base_url,
            "/api/v4/projects/acme%2Fplatform%2Fapi/registry/repositories/3/tags?per_page=5",
            Some(&token),
        )
        .await;
        assert_eq!(header(&h, "x-total"), Some("10000"));
        let mut seen = Vec::new();
        for tag in page.as_array().unwrap() {
            let name = tag["name"].as_str().unwrap();
            let (_, _, details) = get(
                &gl.base_url,
                &format!("/api/v4/projects/1002/registry/repositories/3/tags/{name}"),
                Some(&token),
            )
            .await;
            seen.push((
                name.to_owned(),
                details["digest"].clone(),
                details["total_size"].clone(),
            ));
        }
        digests.push(seen);
    }
    assert_eq!(digests[0], digests[1]);
    assert_eq!(digests[0].len(), 5);
}

#[tokio::test]
async fn delete_tag_needs_developer_and_removes_it() {
    let gl = start().await;
    let reese = login(&gl.base_url, "reese").await;
    let devon = login(&gl.base_url, "devon").await;
    // `stable` is protected (tag rule 1: delete needs a maintainer); `v2.3.1` shares its image.
    let protected = "/api/v4/projects/1001/registry/repositories/1/tags/stable";
    let (status, body) = call(Method::DELETE, &gl.base_url, protected, Some(&devon), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        body["message"],
        "403 Forbidden - Protected tags cannot be deleted"
    );
    let path = "/api/v4/projects/1001/registry/repositories/1/tags/v2.3.1";
    let (status, body) = call(Method::DELETE, &gl.base_url, path, Some(&reese), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body, json!({ "message": "403 Forbidden" }));
    let (status, _) = call(Method::DELETE, &gl.base_url, path, Some(&devon), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, body) = get(&gl.base_url, path, Some(&devon)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["message"], "404 Tag Not Found");
    // The shared image is still there for the other tags.
    let (status, _, _) = get(
        &gl.base_url,
        "/api/v4/projects/1001/registry/repositories/1/tags/latest",
        Some(&devon),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn delete_repository_needs_maintainer_and_schedules_it() {
    let gl = start().await;
    let devon = login(&gl.base_url, "devon").await;
    let maria = login(&gl.base_url, "maria").await;
    let path = "/api/v4/projects/1001/registry/repositories/2";
    let (status, _) = call(Method::DELETE, &gl.base_url, path, Some(&devon), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(Method::DELETE, &gl.base_url, path, Some(&maria), None).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let (_, _, repo) = get(
        &gl.base_url,
        "/api/v4/registry/repositories/2",
        Some(&maria),
    )
    .await;
    assert_eq!(repo["status"], "delete_scheduled");
    let (status, body) = call(
        Method::DELETE,
        &gl.base_url,
        "/api/v4/projects/1001/registry/repositories/3",
        Some(&maria),
        None,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "repository of another project"
    );
    assert_eq!(body, json!({ "message": "404 Not found" }));
}

#[tokio::test]
async fn bulk_delete_runs_gitlabs_cleanup_once_an_hour() {
    let gl = start().await;
    let maria = login(&gl.base_url, "maria").await;
    let devon = login(&gl.base_url, "devon").await;
    let path = "/api/v4/projects/1001/registry/repositories/1/tags";
    let form = [("name_regex_delete", "main-.*"), ("keep_n", "5")];
    let (status, _) = call(
        Method::DELETE,
        &gl.base_url,
        path,
        Some(&devon),
        Some(&form),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "bulk delete needs Maintainer"
    );
    let (status, body) = call(
        Method::DELETE,
        &gl.base_url,
        path,
        Some(&maria),
        Some(&[("keep_n", "5")]),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["error"],
        "name_regex, name_regex_delete are missing, at least one parameter must be provided"
    );
    let (status, _) = call(
        Method::DELETE,
        &gl.base_url,
        path,
        Some(&maria),
        Some(&form),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let (status, body) = call(
        Method::DELETE,
        &gl.base_url,
        path,
        Some(&maria),
        Some(&form),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({ "message": "This request has already been made. You can run this at most once an \
            hour for a given container repository" })
    );
    // The worker runs in the background: 19 main builds, 5 kept.
    let mut remaining = 0;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let (_, h, _) = get(&gl.base_url, &format!("{path}?per_page=1"), Some(&maria)).await;
        remaining = header(&h, "x-total").unwrap().parse::<u32>().unwrap();
        if remaining == 73 - 14 {
            break;
        }
    }
    assert_eq!(remaining, 59);
    let (status, _, _) = get(&gl.base_url, &format!("{path}/latest"), Some(&maria)).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn cleanup_policy_read_and_update() {
    let gl = start().await;
    let maria = login(&gl.base_url, "maria").await;
    let devon = login(&gl.base_url, "devon").await;
    let (_, _, project) = get(&gl.base_url, "/api/v4/projects/acme%2Fweb", Some(&devon)).await;
    let policy = &project["container_expiration_policy"];
    assert_eq!(policy["cadence"], "1d");
    assert_eq!(policy["keep_n"], 10);
    assert_eq!(policy["older_than"], "90d");
    assert_eq!(policy["name_regex"], ".*");
    assert!(policy["next_run_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(project["container_registry_enabled"], true);
    assert_eq!(project["permissions"]["group_access"]["access_level"], 30);
    assert_eq!(project["permissions"]["project_access"], Value::Null);

    let path = "/api/v4/projects/1001";
    let bad = [("container_expiration_policy_attributes[keep_n]", "7")];
    let (status, _) = call(Method::PUT, &gl.base_url, path, Some(&devon), Some(&bad)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = call(Method::PUT, &gl.base_url, path, Some(&maria), Some(&bad)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({ "message": {
            "container_expiration_policy.keep_n": ["is not included in the list"]
        } })
    );
    let response = http()
        .put(format!("{}{path}", gl.base_url))
        .bearer_auth(&maria)
        .json(&json!({ "container_expiration_policy_attributes": {
            "cadence": "7d", "keep_n": 25, "older_than": "14d", "name_regex": "main-.*",
            "name_regex_keep": null, "enabled": true
        }}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let updated: Value = response.json().await.unwrap();
    let p = &updated["container_expiration_policy"];
    assert_eq!(p["cadence"], "7d");
    assert_eq!(p["keep_n"], 25);
    assert_eq!(p["older_than"], "14d");
    assert_eq!(p["name_regex"], "main-.*");
    assert_eq!(p["name_regex_keep"], Value::Null);
    assert_ne!(
        p["next_run_at"], policy["next_run_at"],
        "saving reschedules"
    );
    let (status, body) = call(
        Method::PUT,
        &gl.base_url,
        path,
        Some(&maria),
        Some(&[(
            "container_expiration_policy_attributes[name_regex]",
            "(unclosed",
        )]),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["message"]["container_expiration_policy.name_regex"][0]
        .as_str()
        .unwrap()
        .starts_with("not valid RE2 syntax"));
}

#[tokio::test]
async fn projects_and_groups_lists() {
    let gl = start().await;
    let maria = login(&gl.base_url, "maria").await;
    let (_, h, body) = get(
        &gl.base_url,
        "/api/v4/projects?membership=true&order_by=id&sort=asc",
        Some(&maria),
    )
    .await;
    let paths: Vec<&str> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["path_with_namespace"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "acme/web",
            "acme/platform/api",
            "acme/platform/tools",
            "opensource/cli"
        ]
    );
    assert_eq!(header(&h, "x-total"), Some("4"));
    let (_, _, body) = get(
        &gl.base_url,
        "/api/v4/projects?search=API&simple=true",
        Some(&maria),
    )
    .await;
    assert_eq!(body.as_array().unwrap().len(), 1);
    assert_eq!(body[0]["path_with_namespace"], "acme/platform/api");
    assert!(
        body[0].get("container_expiration_policy").is_none(),
        "simple"
    );
    let (_, _, body) = get(&gl.base_url, "/api/v4/groups", Some(&maria)).await;
    let groups: Vec<&str> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["full_path"].as_str().unwrap())
        .collect();
    assert_eq!(groups, ["acme", "acme/platform", "opensource"]);
    let (_, _, body) = get(
        &gl.base_url,
        "/api/v4/groups/acme/projects?include_subgroups=true&order_by=id&sort=asc",
        Some(&maria),
    )
    .await;
    assert_eq!(body.as_array().unwrap().len(), 3);
    let (_, _, body) = get(&gl.base_url, "/api/v4/groups/acme/projects", Some(&maria)).await;
    assert_eq!(body.as_array().unwrap().len(), 1);
}
