//! A project's code and CI context over REST (branches, git tags, pipelines, merge requests,
//! environments, deployments): the keys and JSON types of GitLab's documented examples,
//! `read_code` permissions, filters, orders, pagination, and that the demo's context agrees
//! with the demo's registry tags.

use crate::common::*;
use reqwest::StatusCode;
use serde_json::Value;

const PROJECT: &str = "/api/v4/projects/acme%2Fweb";

fn first(list: &Value) -> &Value {
    list.as_array()
        .and_then(|items| items.first())
        .unwrap_or_else(|| panic!("a non-empty list: {list}"))
}

async fn list(base: &str, token: &str, path: &str) -> Value {
    let (status, _, body) = get(base, &format!("{PROJECT}{path}"), Some(token)).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body
}

#[tokio::test]
async fn every_entity_has_the_keys_and_types_of_gitlabs_examples() {
    let double = start().await;
    let base = double.base_url.as_str();
    let token = login(base, "maria").await;

    let example = crate::common::example("rest_branches_list.json");
    let branches = list(base, &token, "/repository/branches").await;
    for branch in branches.as_array().unwrap() {
        assert_shape(branch, &[first(&example)], &[], "branch");
        assert_shape(
            &branch["commit"],
            &[&first(&example)["commit"]],
            &[],
            "branch.commit",
        );
    }

    let example = crate::common::example("rest_git_tags_list.json");
    let tags = list(base, &token, "/repository/tags").await;
    let tag = first(&tags);
    // GitLab sends null for a lightweight tag's message and a tag without a release.
    assert_shape(tag, &[first(&example)], &["message", "release"], "git tag");
    assert_shape(
        &tag["commit"],
        &[&first(&example)["commit"]],
        &[],
        "git tag.commit",
    );

    let example = crate::common::example("rest_pipelines_list.json");
    let pipelines = list(base, &token, "/pipelines").await;
    let examples: Vec<&Value> = example.as_array().unwrap().iter().collect();
    assert_shape(first(&pipelines), &examples, &["name"], "pipeline");

    let example = crate::common::example("rest_project_merge_requests_list.json");
    let merge_requests = list(base, &token, "/merge_requests").await;
    let nullable = [
        "merged_by",
        "merge_user",
        "merged_at",
        "closed_by",
        "closed_at",
        "assignee",
        "milestone",
        "merge_commit_sha",
        "squash_commit_sha",
        "discussion_locked",
        "should_remove_source_branch",
        "merge_after",
        "approvals_before_merge",
    ];
    for mr in merge_requests.as_array().unwrap() {
        assert_shape(mr, &[first(&example)], &nullable, "merge request");
        // GitLab's example shows an author without an avatar (null); the deployment example's
        // user has one (a string).
        let deployments = crate::common::example("rest_deployments_list.json");
        let authors = [&first(&example)["author"], &first(&deployments)["user"]];
        assert_shape(&mr["author"], &authors, &[], "merge request.author");
        assert_shape(
            &mr["references"],
            &[&first(&example)["references"]],
            &[],
            "references",
        );
        assert_shape(
            &mr["time_stats"],
            &[&first(&example)["time_stats"]],
            &["human_time_estimate", "human_total_time_spent"],
            "time_stats",
        );
    }

    let nullable_environment = [
        "description",
        "external_url",
        "auto_stop_at",
        "kubernetes_namespace",
        "flux_resource_path",
    ];
    let example = crate::common::example("rest_environments_list.json");
    let environments = list(base, &token, "/environments").await;
    for environment in environments.as_array().unwrap() {
        assert_shape(
            environment,
            &[first(&example)],
            &nullable_environment,
            "environment",
        );
    }

    let example = crate::common::example("rest_environment_details.json");
    let id = first(&environments)["id"].as_u64().unwrap();
    let detail = list(base, &token, &format!("/environments/{id}")).await;
    let nullable: Vec<&str> = nullable_environment
        .iter()
        .copied()
        .chain(["cluster_agent"])
        .collect();
    assert_shape(&detail, &[&example], &nullable, "environment details");
    assert_shape(
        &detail["last_deployment"],
        &[&example["last_deployment"]],
        &[],
        "last_deployment",
    );

    let example = crate::common::example("rest_deployments_list.json");
    let examples: Vec<&Value> = example.as_array().unwrap().iter().collect();
    let deployments = list(base, &token, "/deployments").await;
    // GitLab's two examples show `started_at: null` on finished jobs; a job that ran has a
    // start time (`Ci::Build#started_at`), and the double sends it: the one adjustment.
    let started: Vec<Value> = examples
        .iter()
        .map(|e| {
            let mut job = e["deployable"].clone();
            job["started_at"] = Value::from("2016-08-11T07:36:40.222Z");
            job
        })
        .collect();
    let deployables: Vec<&Value> = started.iter().collect();
    for deployment in deployments.as_array().unwrap() {
        assert_shape(deployment, &examples, &[], "deployment");
        assert_shape(
            &deployment["deployable"],
            &deployables,
            &["coverage", "runner"],
            "deployable",
        );
        let environments: Vec<&Value> = examples.iter().map(|e| &e["environment"]).collect();
        assert_shape(
            &deployment["environment"],
            &environments,
            &["external_url"],
            "environment",
        );
        let users: Vec<&Value> = examples.iter().map(|e| &e["user"]).collect();
        assert_shape(&deployment["user"], &users, &[], "deployment.user");
    }
}

#[tokio::test]
async fn reporters_read_the_context_guests_of_a_private_project_do_not() {
    let double = start().await;
    let base = double.base_url.as_str();
    let paths = [
        "/repository/branches",
        "/repository/tags",
        "/pipelines",
        "/merge_requests",
        "/environments",
        "/environments/11",
        "/deployments",
    ];
    for (user, expected) in [
        ("reese", StatusCode::OK),
        ("gus", StatusCode::FORBIDDEN),
        ("nora", StatusCode::NOT_FOUND),
    ] {
        let token = login(base, user).await;
        for path in paths {
            let (status, _, body) = get(base, &format!("{PROJECT}{path}"), Some(&token)).await;
            assert_eq!(status, expected, "{user} {path}: {body}");
        }
    }
    let (status, _, body) = get(base, &format!("{PROJECT}/pipelines"), None).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (StatusCode::NOT_FOUND, Some("404 Project Not Found"))
    );
    let token = login(base, "gus").await;
    let (_, _, body) = get(base, &format!("{PROJECT}/deployments"), Some(&token)).await;
    assert_eq!(body["message"], "403 Forbidden");
}

#[tokio::test]
async fn filters_orders_and_pages_are_gitlabs() {
    let double = start().await;
    let base = double.base_url.as_str();
    let token = login(base, "maria").await;

    let (status, headers, page) = get(
        base,
        &format!("{PROJECT}/pipelines?per_page=5"),
        Some(&token),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page.as_array().unwrap().len(), 5);
    assert_eq!(header(&headers, "x-next-page"), Some("2"));
    let total: usize = header(&headers, "x-total").unwrap().parse().unwrap();
    let all = list(base, &token, "/pipelines?per_page=100").await;
    assert_eq!(all.as_array().unwrap().len(), total);
    let ids: Vec<u64> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_u64().unwrap())
        .collect();
    assert!(
        ids.windows(2).all(|w| w[0] > w[1]),
        "newest first by default: {ids:?}"
    );

    // The window the dashboard asks for: pipelines updated in the last 14 days.
    let since = time::OffsetDateTime::now_utc() - time::Duration::days(14);
    let since = since
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let recent = list(
        base,
        &token,
        &format!("/pipelines?per_page=100&updated_after={since}"),
    )
    .await;
    let recent = recent.as_array().unwrap();
    assert!(
        !recent.is_empty() && recent.len() < total,
        "{} of {total}",
        recent.len()
    );
    assert!(recent
        .iter()
        .all(|p| p["updated_at"].as_str().unwrap() > since.as_str()));

    for (path, error) in [
        (
            "/pipelines?order_by=bogus",
            "order_by does not have a valid value",
        ),
        (
            "/pipelines?status=done",
            "status does not have a valid value",
        ),
        (
            "/pipelines?updated_after=yesterday",
            "updated_after is invalid",
        ),
        (
            "/merge_requests?state=open",
            "state does not have a valid value",
        ),
        ("/deployments?sort=up", "sort does not have a valid value"),
        (
            "/repository/tags?order_by=date",
            "order_by does not have a valid value",
        ),
    ] {
        let (status, _, body) = get(base, &format!("{PROJECT}{path}"), Some(&token)).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some(error)),
            "{path}"
        );
    }

    let opened = list(base, &token, "/merge_requests?state=opened").await;
    let iids: Vec<u64> = opened
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["iid"].as_u64().unwrap())
        .collect();
    assert_eq!(iids, [497, 482], "newest first");
    let merged = list(base, &token, "/merge_requests?state=merged").await;
    assert_eq!(first(&merged)["source_branch"], "perf/cache-headers");
    assert!(first(&merged)["merged_at"].is_string());

    let versions = list(
        base,
        &token,
        "/repository/tags?order_by=version&sort=desc&per_page=3",
    )
    .await;
    let names: Vec<&str> = versions
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["v2.4.0-rc.2", "v2.4.0-rc.1", "v2.3.1"]);
    let searched = list(base, &token, "/repository/branches?search=^feat").await;
    assert_eq!(first(&searched)["name"], "feature/login");
    assert_eq!(searched.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_demos_context_agrees_with_its_registry_tags() {
    let double = start().await;
    let base = double.base_url.as_str();
    let token = login(base, "maria").await;

    // Production runs v2.3.1: the newest successful deployment, and the git tag's commit.
    let last = list(
        base,
        &token,
        "/deployments?environment=production&status=success&order_by=finished_at&sort=desc\
         &per_page=1",
    )
    .await;
    let deployed = first(&last);
    assert_eq!(deployed["ref"], "v2.3.1");
    let tags = list(base, &token, "/repository/tags?search=v2.3.1").await;
    assert_eq!(deployed["sha"], first(&tags)["target"]);
    let production = list(base, &token, "/environments?name=production").await;
    let id = first(&production)["id"].as_u64().unwrap();
    let detail = list(base, &token, &format!("/environments/{id}")).await;
    assert_eq!(detail["last_deployment"]["id"], deployed["id"]);
    let failed = list(
        base,
        &token,
        "/deployments?environment=production&status=failed",
    )
    .await;
    assert_eq!(first(&failed)["ref"], "v2.3.0");

    // Main's head is the build tagged with its full SHA; every main-<sha> tag has its pipeline.
    let branches = list(base, &token, "/repository/branches").await;
    let main = branches
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["name"] == "main")
        .unwrap();
    assert_eq!(main["default"], true);
    let head = main["commit"]["id"].as_str().unwrap();
    let (_, _, registry) = get(
        base,
        &format!("{PROJECT}/registry/repositories/1/tags?per_page=100"),
        Some(&token),
    )
    .await;
    let registry: Vec<&str> = registry
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(registry.contains(&head), "a tag named {head}");
    let pipelines = list(base, &token, "/pipelines?ref=main&per_page=100").await;
    let shas: Vec<&str> = pipelines
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["sha"].as_str().unwrap())
        .collect();
    let main_tags: Vec<&&str> = registry.iter().filter(|n| n.starts_with("main-")).collect();
    assert!(!main_tags.is_empty());
    for tag in main_tags {
        let short = &tag["main-".len()..];
        assert!(
            shas.iter().any(|s| s.starts_with(short)),
            "{tag} has a pipeline"
        );
    }

    // The open merge request's head is the feature branch's head, deployed for review; the
    // merged one's branch is gone.
    let opened = list(
        base,
        &token,
        "/merge_requests?state=opened&source_branch=feature%2Flogin",
    )
    .await;
    let feature = branches
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["name"] == "feature/login")
        .unwrap();
    assert_eq!(first(&opened)["sha"], feature["commit"]["id"]);
    let review = list(
        base,
        &token,
        "/deployments?environment=review%2Ffeature-login",
    )
    .await;
    assert_eq!(first(&review)["sha"], feature["commit"]["id"]);
    assert!(branches
        .as_array()
        .unwrap()
        .iter()
        .all(|b| b["name"] != "perf/cache-headers"));
    let gone = list(base, &token, "/pipelines?ref=perf%2Fcache-headers").await;
    assert_eq!(gone.as_array().unwrap().len(), 1);

    // A project without CI context: empty lists, not errors.
    let (status, _, empty) = get(
        base,
        "/api/v4/projects/acme%2Fplatform%2Fapi/pipelines",
        Some(&token),
    )
    .await;
    assert_eq!((status, empty), (StatusCode::OK, serde_json::json!([])));
}
