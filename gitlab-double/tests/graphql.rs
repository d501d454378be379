//! GraphQL: payloads validated against GitLab's schemas, permissions, paging, metadata-database
//! differences, mutations.

use crate::common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

const REPOSITORY_FIELDS: &str = "id name path location createdAt updatedAt status tagsCount
    expirationPolicyStartedAt expirationPolicyCleanupStatus lastCleanupDeletedTagsCount
    protectionRuleExists project { id fullPath } userPermissions { destroyContainerRepository }";

#[tokio::test]
async fn project_container_repositories_match_schema() {
    let gl = start().await;
    let token = login(&gl.base_url, "maria").await;
    let query = format!(
        "query($path: ID!) {{ project(fullPath: $path) {{ id name fullPath \
         containerRepositoriesCount
           containerRepositories(first: 10) {{ edges {{ cursor node {{ {REPOSITORY_FIELDS} }} }}
             nodes {{ id }} pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor \
             }} }} }} }}"
    );
    for path in ["acme/web", "acme/platform/api", "opensource/cli"] {
        let (status, body) = gql(&gl.base_url, Some(&token), &query, json!({ "path": path })).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.get("errors").is_none(), "{body}");
        let project = &body["data"]["project"];
        assert_eq!(project["fullPath"], path);
        let edges = &project["containerRepositories"]["edges"];
        assert!(!edges.as_array().unwrap().is_empty());
        assert_valid("graphql/container_repositories.json", edges);
        assert_eq!(
            project["containerRepositoriesCount"].as_u64().unwrap() as usize,
            edges.as_array().unwrap().len()
        );
    }
    let (_, body) = gql(
        &gl.base_url,
        Some(&token),
        &query,
        json!({ "path": "acme/platform/api" }),
    )
    .await;
    let nodes = &body["data"]["project"]["containerRepositories"]["edges"];
    let legacy = nodes
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"]["name"] == "legacy")
        .unwrap();
    assert_eq!(legacy["node"]["status"], "DELETE_SCHEDULED");
    assert_eq!(legacy["node"]["id"], "gid://gitlab/ContainerRepository/5");
    // The schema bites: a missing required field fails.
    let mut broken = nodes.clone();
    broken[0]["node"]
        .as_object_mut()
        .unwrap()
        .remove("tagsCount");
    assert!(!is_valid("graphql/container_repositories.json", &broken));
}

#[tokio::test]
async fn group_container_repositories_match_schema() {
    let gl = start().await;
    let token = login(&gl.base_url, "reese").await;
    let query = format!(
        "{{ group(fullPath: \"acme\") {{ id fullPath containerRepositoriesCount
           containerRepositories(first: 100, sort: NAME_ASC) {{ edges {{ \
           node {{ {REPOSITORY_FIELDS} }} }} }} }} }}"
    );
    let (_, body) = gql(&gl.base_url, Some(&token), &query, Value::Null).await;
    let group = &body["data"]["group"];
    assert_eq!(group["containerRepositoriesCount"], 5);
    let edges = &group["containerRepositories"]["edges"];
    assert_valid("graphql/container_repositories.json", edges);
    // Reporters cannot delete.
    assert_eq!(
        edges[0]["node"]["userPermissions"]["destroyContainerRepository"],
        false
    );
}

const DETAILS_QUERY: &str = "query($id: ContainerRepositoryID!, $after: String, $first: Int, \
    $sort: ContainerRepositoryTagSort, $name: String) {
  containerRepository(id: $id) {
    id name path location createdAt updatedAt status tagsCount expirationPolicyStartedAt
    expirationPolicyCleanupStatus lastCleanupDeletedTagsCount protectionRuleExists size \
    lastPublishedAt
    project { id fullPath } userPermissions { destroyContainerRepository }
    tags(after: $after, first: $first, sort: $sort, name: $name, referrers: true) {
      nodes { name path location digest revision shortRevision createdAt publishedAt totalSize \
              mediaType
              referrers { artifactType digest } protection { minimumAccessLevelForPush \
              minimumAccessLevelForDelete }
              userPermissions { destroyContainerRepositoryTag } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
}";

#[tokio::test]
async fn container_repository_details_match_schema() {
    let gl = start().await;
    let token = login(&gl.base_url, "devon").await;
    for id in [1, 3] {
        let (_, body) = gql(
            &gl.base_url,
            Some(&token),
            DETAILS_QUERY,
            json!({ "id": format!("gid://gitlab/ContainerRepository/{id}"), "first": 20 }),
        )
        .await;
        assert!(body.get("errors").is_none(), "{body}");
        let repo = &body["data"]["containerRepository"];
        assert_valid("graphql/container_repository_details.json", repo);
        assert_eq!(repo["tags"]["nodes"].as_array().unwrap().len(), 20);
        assert!(repo["size"].as_f64().unwrap() > 0.0);
        let tag = &repo["tags"]["nodes"][0];
        assert!(tag["totalSize"].is_string(), "BigInt is a string");
        assert!(tag["publishedAt"].is_string());
        assert!(tag["referrers"].is_array());
        assert_eq!(
            tag["userPermissions"]["destroyContainerRepositoryTag"],
            true
        );
    }
}

#[tokio::test]
async fn tags_paging_is_capped_at_20_and_uses_tag_names_as_cursors() {
    let gl = start().await;
    let token = login(&gl.base_url, "maria").await;
    let id = "gid://gitlab/ContainerRepository/3";
    let (_, body) = gql(
        &gl.base_url,
        Some(&token),
        DETAILS_QUERY,
        json!({ "id": id, "first": 100 }),
    )
    .await;
    let tags = &body["data"]["containerRepository"]["tags"];
    assert_eq!(tags["nodes"].as_array().unwrap().len(), 20);
    assert_eq!(tags["pageInfo"]["hasNextPage"], true);
    let end = tags["pageInfo"]["endCursor"].as_str().unwrap().to_owned();
    assert_eq!(end, tags["nodes"][19]["name"].as_str().unwrap());
    let (_, body) = gql(
        &gl.base_url,
        Some(&token),
        DETAILS_QUERY,
        json!({ "id": id, "first": 20, "after": end }),
    )
    .await;
    let next = &body["data"]["containerRepository"]["tags"];
    assert!(next["nodes"][0]["name"].as_str().unwrap() > end.as_str());
    assert_eq!(next["pageInfo"]["hasPreviousPage"], true);

    // Newest first with the metadata database.
    let (_, body) = gql(
        &gl.base_url,
        Some(&token),
        DETAILS_QUERY,
        json!({ "id": id, "first": 5, "sort": "PUBLISHED_AT_DESC" }),
    )
    .await;
    let nodes = body["data"]["containerRepository"]["tags"]["nodes"]
        .as_array()
        .unwrap()
        .clone();
    let times: Vec<&str> = nodes
        .iter()
        .map(|n| n["publishedAt"].as_str().unwrap())
        .collect();
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(times, sorted);
    // Name filter.
    let (_, body) = gql(
        &gl.base_url,
        Some(&token),
        DETAILS_QUERY,
        json!({ "id": "gid://gitlab/ContainerRepository/1", "first": 20, "name": "feature-login" }),
    )
    .await;
    assert_eq!(
        body["data"]["containerRepository"]["tags"]["nodes"]
            .as_array()
            .unwrap()
            .len(),
        11,
        "ten feature-login-<sha> builds and the feature-login branch tag"
    );
}

#[tokio::test]
async fn without_metadata_db_dates_sizes_and_referrers_are_null() {
    let gl = start().await;
    gl.double.controls().set_metadata_db(false);
    let token = login(&gl.base_url, "maria").await;
    let (_, body) = gql(
        &gl.base_url,
        Some(&token),
        DETAILS_QUERY,
        json!({ "id": "gid://gitlab/ContainerRepository/1", "first": 20 }),
    )
    .await;
    let repo = &body["data"]["containerRepository"];
    assert_valid("graphql/container_repository_details.json", repo);
    assert_eq!(repo["size"], Value::Null);
    assert_eq!(repo["lastPublishedAt"], Value::Null);
    let tag = &repo["tags"]["nodes"][0];
    assert_eq!(tag["publishedAt"], Value::Null);
    assert_eq!(tag["referrers"], Value::Null);
    assert!(tag["createdAt"].is_string(), "build time from the config");
}

#[tokio::test]
async fn visibility_and_field_authorization() {
    let gl = start().await;
    let query = "{ project(fullPath: \"acme/web\") { id containerRepositoriesCount \
        containerRepositories { nodes { id } } } }";
    let nora = login(&gl.base_url, "nora").await;
    let (_, body) = gql(&gl.base_url, Some(&nora), query, Value::Null).await;
    assert_eq!(body["data"]["project"], Value::Null);
    let gus = login(&gl.base_url, "gus").await;
    let (_, body) = gql(&gl.base_url, Some(&gus), query, Value::Null).await;
    assert_eq!(body["data"]["project"]["id"], "gid://gitlab/Project/1001");
    assert_eq!(
        body["data"]["project"]["containerRepositories"],
        Value::Null
    );
    let (_, body) = gql(
        &gl.base_url,
        Some(&gus),
        "{ containerRepository(id: \"gid://gitlab/ContainerRepository/1\") { id } }",
        Value::Null,
    )
    .await;
    assert_eq!(body["data"]["containerRepository"], Value::Null);
    let (_, body) = gql(
        &gl.base_url,
        Some(&nora),
        "{ currentUser { username } projects(membership: false) { nodes { fullPath } } }",
        Value::Null,
    )
    .await;
    assert_eq!(body["data"]["currentUser"]["username"], "nora");
    assert_eq!(
        body["data"]["projects"]["nodes"],
        json!([{ "fullPath": "opensource/cli" }])
    );
    // Token errors look like REST's.
    let (status, body) = gql(
        &gl.base_url,
        Some(&"a".repeat(64)),
        "{ currentUser { id } }",
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["errors"][0]["message"], "Invalid token");
}

#[tokio::test]
async fn mutations_delete_tags_and_schedule_repositories() {
    let gl = start().await;
    let devon = login(&gl.base_url, "devon").await;
    let destroy_tags = "mutation($id: ContainerRepositoryID!, $names: [String!]!) {
        destroyContainerRepositoryTags(input: { id: $id, tagNames: $names }) { \
        deletedTagNames errors } }";
    let (_, body) = gql(
        &gl.base_url,
        Some(&devon),
        destroy_tags,
        json!({ "id": "gid://gitlab/ContainerRepository/1", "names": ["stable", "v1.0.0"] }),
    )
    .await;
    assert_eq!(
        body["data"]["destroyContainerRepositoryTags"],
        json!({
            "deletedTagNames": ["v1.0.0"],
            "errors": ["Protected tags cannot be deleted: stable"]
        })
    );
    let (_, _, list) = get(
        &gl.base_url,
        "/api/v4/registry/repositories/1?tags_count=true",
        Some(&devon),
    )
    .await;
    assert_eq!(list["tags_count"], 72);
    let too_many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
    let (_, body) = gql(
        &gl.base_url,
        Some(&devon),
        destroy_tags,
        json!({ "id": "gid://gitlab/ContainerRepository/1", "names": too_many }),
    )
    .await;
    assert_eq!(
        body["errors"][0]["message"],
        "Number of tags is greater than 20"
    );

    let reese = login(&gl.base_url, "reese").await;
    let (_, body) = gql(
        &gl.base_url,
        Some(&reese),
        destroy_tags,
        json!({ "id": "gid://gitlab/ContainerRepository/1", "names": ["latest"] }),
    )
    .await;
    assert_eq!(body["data"]["destroyContainerRepositoryTags"], Value::Null);
    assert!(body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("don't have permission"));

    let read_only = login_scoped(&gl.base_url, "maria", "read_api").await;
    let (_, body) = gql(
        &gl.base_url,
        Some(&read_only),
        destroy_tags,
        json!({ "id": "gid://gitlab/ContainerRepository/1", "names": ["latest"] }),
    )
    .await;
    assert!(body["errors"].is_array(), "read_api cannot mutate");

    let (_, body) = gql(
        &gl.base_url,
        Some(&devon),
        "mutation { destroyContainerRepository(input: { \
         id: \"gid://gitlab/ContainerRepository/2\" }) {
            containerRepository { id status } errors } }",
        Value::Null,
    )
    .await;
    assert_eq!(
        body["data"]["destroyContainerRepository"],
        json!({ "containerRepository": { "id": "gid://gitlab/ContainerRepository/2",
                                         "status": "DELETE_SCHEDULED" },
                "errors": [] })
    );
}

#[tokio::test]
async fn manifests_and_tag_details() {
    let gl = start().await;
    let token = login(&gl.base_url, "nora").await;
    let (_, body) = gql(
        &gl.base_url,
        Some(&token),
        "{ containerRepository(id: \"gid://gitlab/ContainerRepository/7\") {
            tagDetails(name: \"latest\") { name mediaType digest manifests { digest mediaType \
            size platform { os architecture variant } } platform { os } }
            manifest(reference: \"latest\") } }",
        Value::Null,
    )
    .await;
    let repo = &body["data"]["containerRepository"];
    let details = &repo["tagDetails"];
    assert_eq!(
        details["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    assert_eq!(details["platform"], Value::Null);
    let manifests = details["manifests"].as_array().unwrap();
    assert!((2..=4).contains(&manifests.len()));
    let raw: Value = serde_json::from_str(repo["manifest"].as_str().unwrap()).unwrap();
    assert_eq!(raw["manifests"].as_array().unwrap().len(), manifests.len());
    assert_eq!(raw["manifests"][0]["digest"], manifests[0]["digest"]);
    // A child manifest by digest has layers.
    let child = manifests[0]["digest"].as_str().unwrap();
    let (_, body) = gql(
        &gl.base_url,
        Some(&token),
        &format!(
            "{{ containerRepository(id: \"gid://gitlab/ContainerRepository/7\") {{ \
            manifest(reference: \"{child}\") }} }}"
        ),
        Value::Null,
    )
    .await;
    let raw: Value = serde_json::from_str(
        body["data"]["containerRepository"]["manifest"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert!((3..=8).contains(&raw["layers"].as_array().unwrap().len()));
}

/// `n` aliased tag pages of 20 in one query, GitLab's list fields on each.
fn aliased_pages(n: usize) -> String {
    let pages: String = (0..n)
        .map(|i| {
            format!(
                " p{i}: tags(first: 20, sort: NAME_ASC) {{ nodes {{ ...T }} pageInfo {{ \
                    hasNextPage endCursor }} }}"
            )
        })
        .collect();
    format!(
        "query($id: ContainerRepositoryID!) {{ \
         containerRepository(id: $id) {{ tagsCount{pages} }} }}
fragment T on ContainerRepositoryTag {{ name digest revision createdAt publishedAt totalSize \
  mediaType
  referrers {{ artifactType digest }} protection {{ minimumAccessLevelForPush \
  minimumAccessLevelForDelete }} }}"
    )
}

#[tokio::test]
async fn queries_are_held_to_gitlabs_complexity_and_size_limits() {
    let gl = start().await;
    let token = login(&gl.base_url, "maria").await;
    let id = json!({ "id": "gid://gitlab/ContainerRepository/3" });
    // A sorted page of 20 with these fields costs (17 + 2) × 1.2 = 22; 11 pages and the
    // repository around them cost 244, 12 pages 266: over GitLab's 250.
    let (status, body) = gql(&gl.base_url, Some(&token), &aliased_pages(11), id.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["errors"].is_null(), "{body}");
    let repo = &body["data"]["containerRepository"];
    assert_eq!(repo["p10"]["nodes"].as_array().unwrap().len(), 20);
    let (_, body) = gql(&gl.base_url, Some(&token), &aliased_pages(12), id.clone()).await;
    assert!(body["data"].is_null(), "{body}");
    assert!(body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("complex"));

    // More than 10,000 characters of query text.
    let long = format!("{}\n#{}", aliased_pages(1), "x".repeat(10_000));
    let (status, body) = gql(&gl.base_url, Some(&token), &long, id).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["message"], "Query too large");
}

#[tokio::test]
async fn without_metadata_db_tag_cursors_are_graphql_ruby_positions() {
    let gl = start().await;
    gl.double.controls().set_metadata_db(false);
    let token = login(&gl.base_url, "maria").await;
    let id = "gid://gitlab/ContainerRepository/3";
    let page = |after: Option<String>| {
        let (base, token) = (gl.base_url.clone(), token.clone());
        async move {
            let (_, body) = gql(
                &base,
                Some(&token),
                DETAILS_QUERY,
                json!({ "id": id, "first": 20, "after": after }),
            )
            .await;
            body["data"]["containerRepository"]["tags"].clone()
        }
    };
    let first = page(None).await;
    // base64("20"): the cursor after the 20th tag.
    assert_eq!(first["pageInfo"]["endCursor"], "MjA=");
    let second = page(first["pageInfo"]["endCursor"].as_str().map(String::from)).await;
    // A page from a cursor computed for position 40 is the third page.
    let third = page(Some("NDA=".into())).await;
    let names = |p: &Value| -> Vec<String> {
        p["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(second["pageInfo"]["endCursor"], "NDA=");
    assert!(names(&second).last() < names(&third).first());
    assert_eq!(names(&third).len(), 20);
}

/// `{ containerRepository(id: 7) { m0: manifest(reference: …) … } }`, one alias per reference.
fn aliased_manifests(references: &[String]) -> String {
    let fields: String = references
        .iter()
        .enumerate()
        .map(|(i, r)| format!("m{i}:manifest(reference:\"{r}\") "))
        .collect();
    format!("{{ containerRepository(id: \"gid://gitlab/ContainerRepository/7\") {{ {fields}}} }}")
}

#[tokio::test]
async fn aliased_manifests_resolve_indexes_and_their_children_in_one_query() {
    use sha2::{Digest, Sha256};
    let gl = start().await;
    let token = login(&gl.base_url, "nora").await;
    // Two releases' indexes and their per-platform children: ten digests.
    let (_, body) = gql(
        &gl.base_url,
        Some(&token),
        "{ containerRepository(id: \"gid://gitlab/ContainerRepository/7\") {
            a: tagDetails(name: \"v1.8.0\") { digest manifests { digest } }
            b: tagDetails(name: \"v1.7.0\") { digest manifests { digest } } } }",
        Value::Null,
    )
    .await;
    let repo = &body["data"]["containerRepository"];
    let mut digests = Vec::new();
    for alias in ["a", "b"] {
        digests.push(repo[alias]["digest"].as_str().unwrap().to_owned());
        for child in repo[alias]["manifests"].as_array().unwrap() {
            digests.push(child["digest"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(
        digests.len(),
        10,
        "4 + 4 platforms and 2 indexes: {digests:?}"
    );

    let (status, body) = gql(
        &gl.base_url,
        Some(&token),
        &aliased_manifests(&digests),
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["errors"].is_null(), "{body}");
    let repo = &body["data"]["containerRepository"];
    for (i, digest) in digests.iter().enumerate() {
        let raw = repo[format!("m{i}")].as_str().unwrap();
        // The right manifest: its bytes hash to the digest asked for.
        let hash = hex::encode(Sha256::digest(raw.as_bytes()));
        assert_eq!(&format!("sha256:{hash}"), digest);
        let parsed: Value = serde_json::from_str(raw).unwrap();
        let is_index = i == 0 || i == 5;
        assert_eq!(parsed["manifests"].is_array(), is_index, "{parsed}");
        assert_eq!(parsed["layers"].is_array(), !is_index, "{parsed}");
    }

    // Unknown digests and tags are null, next to resolved ones.
    let references = [
        digests[1].clone(),
        format!("sha256:{}", "0".repeat(64)),
        "no-such-tag".to_owned(),
        "latest".to_owned(),
    ];
    let (_, body) = gql(
        &gl.base_url,
        Some(&token),
        &aliased_manifests(&references),
        Value::Null,
    )
    .await;
    let repo = &body["data"]["containerRepository"];
    assert!(repo["m0"].is_string());
    assert_eq!(repo["m1"], Value::Null);
    assert_eq!(repo["m2"], Value::Null);
    assert!(repo["m3"].is_string());
}

#[tokio::test]
async fn aliased_manifests_cost_one_each_against_the_complexity_limit() {
    let gl = start().await;
    let token = login(&gl.base_url, "nora").await;
    let tags = |n: usize| -> Vec<String> { (0..n).map(|_| "v1.0.0".to_owned()).collect() };
    // The repository field and one per manifest: 25 aliases cost 26 of GitLab's 250, 249
    // cost exactly 250 …
    for n in [10, 25, 249] {
        let (status, body) = gql(
            &gl.base_url,
            Some(&token),
            &aliased_manifests(&tags(n)),
            Value::Null,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert!(body["errors"].is_null(), "{n}: {body}");
        let last = &body["data"]["containerRepository"][format!("m{}", n - 1)];
        assert!(last.is_string(), "{n}");
    }
    // … and 250 are over it. (Asked for by digest, ~100 aliases already pass the 10,000
    // characters a query may have.)
    let (_, body) = gql(
        &gl.base_url,
        Some(&token),
        &aliased_manifests(&tags(250)),
        Value::Null,
    )
    .await;
    assert!(body["data"].is_null(), "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("complex"),
        "{body}"
    );
}

#[tokio::test]
async fn project_statistics_count_each_blob_of_the_project_once_for_reporters() {
    let gl = start().await;
    let query = "{ project(fullPath: \"acme/web\") { statistics { containerRegistrySize } } }";
    let size_for = |user: &'static str| {
        let base = gl.base_url.clone();
        async move {
            let token = login(&base, user).await;
            let (_, body) = gql(&base, Some(&token), query, Value::Null).await;
            body["data"]["project"]["statistics"]["containerRegistrySize"].clone()
        }
    };
    let size = size_for("maria").await.as_f64().unwrap() as u64;
    // Each repository's own deduplicated size, from GitLab's repository field.
    let token = login(&gl.base_url, "maria").await;
    let mut repositories = Vec::new();
    let (_, listed) = gql(
        &gl.base_url,
        Some(&token),
        "{ project(fullPath: \"acme/web\") { containerRepositories(first: 100) { \
         nodes { id } } } }",
        Value::Null,
    )
    .await;
    let ids = listed["data"]["project"]["containerRepositories"]["nodes"]
        .as_array()
        .unwrap()
        .clone();
    for node in ids {
        let (_, body) = gql(
            &gl.base_url,
            Some(&token),
            "query($id: ContainerRepositoryID!) { containerRepository(id: $id) { size } }",
            json!({ "id": node["id"] }),
        )
        .await;
        repositories.push(
            body["data"]["containerRepository"]["size"]
                .as_f64()
                .unwrap() as u64,
        );
    }
    assert!(repositories.len() >= 2, "acme/web has several repositories");
    let sum: u64 = repositories.iter().sum();
    let largest = repositories.iter().copied().max().unwrap();
    // Shared base layers count once across the project.
    assert!(
        size >= largest && size < sum,
        "{size} between {largest} and {sum}"
    );
    // Guests may not read statistics (GitLab's read_statistics is Reporter and above).
    let (_, body) = gql(
        &gl.base_url,
        Some(&login(&gl.base_url, "gus").await),
        query,
        Value::Null,
    )
    .await;
    assert_eq!(body["data"]["project"]["statistics"], Value::Null);
    // Without the metadata database GitLab keeps 0.
    gl.double.controls().set_metadata_db(false);
    assert_eq!(size_for("maria").await, json!(0.0));
}

/// `Group.projects(includeSubgroups:)` and `Project.containerTagsExpirationPolicy`: GitLab's
/// enum values, and rules visible to Maintainers only (everyone who reads the registry sees
/// whether the policy is on and when it runs).
#[tokio::test]
async fn group_projects_carry_their_tags_expiration_policy_by_role() {
    let gl = start().await;
    let query = "query($path: ID!, $sub: Boolean) { group(fullPath: $path) {
        projects(includeSubgroups: $sub, first: 50) { count nodes { fullPath
          containerTagsExpirationPolicy { enabled nextRunAt cadence keepN olderThan nameRegex
            nameRegexKeep updatedAt } } pageInfo { hasNextPage } } } }";
    let maria = login(&gl.base_url, "maria").await;
    let paths = |body: &Value| -> Vec<String> {
        body["data"]["group"]["projects"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["fullPath"].as_str().unwrap().to_string())
            .collect()
    };
    let (_, own) = gql(&gl.base_url, Some(&maria), query, json!({"path": "acme"})).await;
    assert!(own.get("errors").is_none(), "{own}");
    assert_eq!(
        paths(&own),
        ["acme/web"],
        "without subgroups: the group's own"
    );
    let (_, all) = gql(
        &gl.base_url,
        Some(&maria),
        query,
        json!({"path": "acme", "sub": true}),
    )
    .await;
    assert_eq!(
        paths(&all),
        ["acme/platform/api", "acme/platform/tools", "acme/web"]
    );
    assert_eq!(all["data"]["group"]["projects"]["count"], 3);
    let web = &all["data"]["group"]["projects"]["nodes"][2]["containerTagsExpirationPolicy"];
    assert_eq!(web["enabled"], true);
    assert_eq!(web["cadence"], "EVERY_DAY");
    assert_eq!(web["keepN"], "TEN_TAGS");
    assert_eq!(web["olderThan"], "NINETY_DAYS");
    assert_eq!(web["nameRegexKeep"], r"v\d+\.\d+\.\d+");
    assert!(web["nextRunAt"].is_string());
    let never_saved =
        &all["data"]["group"]["projects"]["nodes"][0]["containerTagsExpirationPolicy"];
    assert_eq!(never_saved["enabled"], false);
    assert_eq!(never_saved["nameRegex"], Value::Null);

    let devon = login(&gl.base_url, "devon").await;
    let (_, below) = gql(
        &gl.base_url,
        Some(&devon),
        query,
        json!({"path": "acme", "sub": true}),
    )
    .await;
    let web = &below["data"]["group"]["projects"]["nodes"][2]["containerTagsExpirationPolicy"];
    assert_eq!(web["enabled"], true);
    assert!(web["nextRunAt"].is_string());
    for rule in [
        "cadence",
        "keepN",
        "olderThan",
        "nameRegex",
        "nameRegexKeep",
    ] {
        assert_eq!(web[rule], Value::Null, "{rule} below Maintainer");
    }
    let nora = login(&gl.base_url, "nora").await;
    let (_, outsider) = gql(&gl.base_url, Some(&nora), query, json!({"path": "acme"})).await;
    assert_eq!(outsider["data"]["group"], Value::Null);
}
