//! The GitLab client parses every example payload of GitLab's docs the BFF reads
//! (fixtures/gitlab-reference/examples, sources in its README).

use server::gitlab::wire;
use std::path::PathBuf;

fn examples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/gitlab-reference/examples")
}

fn read(name: &str) -> String {
    std::fs::read_to_string(examples_dir().join(name)).expect("the example file is there")
}

#[test]
fn every_example_is_covered_by_a_parser() {
    let mut names: Vec<String> = std::fs::read_dir(examples_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let parsed = [
        "oauth_token_response.json",
        "rest_project_container_expiration_policy_fragment.json",
        "rest_project_repositories.json",
        "rest_repository_details.json",
        "rest_repository_protection_rules.json",
        "rest_tag_details.json",
        "rest_tag_protection_rules.json",
        "rest_tags_list.json",
        "registry_v2_challenge.json",
        "rest_project_deploy_token_create.json",
        "rest_group_deploy_token_create.json",
        "rest_project_deploy_tokens_list.json",
        "rest_group_deploy_tokens_list.json",
        "rest_project_access_token_create.json",
        "rest_group_access_token_create.json",
        "rest_project_access_tokens_list.json",
        "rest_group_access_tokens_list.json",
    ];
    // GitLab's CI context (issue 14): parsed by the unit tests of `server::gitlab::ci`, whose
    // wire types are private to it; the double's answers are checked against them too
    // (gitlab-double/tests/ci.rs).
    let parsed_in_gitlab_ci = [
        "rest_branches_list.json",
        "rest_deployments_list.json",
        "rest_environment_details.json",
        "rest_environments_list.json",
        "rest_git_tags_list.json",
        "rest_pipelines_list.json",
        "rest_project_merge_requests_list.json",
    ];
    for name in &names {
        assert!(
            parsed.contains(&name.as_str()) || parsed_in_gitlab_ci.contains(&name.as_str()),
            "no parser test for new example {name}"
        );
    }
}

#[test]
fn token_response() {
    let token: wire::TokenResponse =
        serde_json::from_str(&read("oauth_token_response.json")).unwrap();
    assert_eq!(token.expires_in, Some(7200));
    assert!(token.refresh_token.is_some());
    assert_eq!(token.token_type.to_lowercase(), "bearer");
}

#[test]
fn cleanup_policy_fragment() {
    let fragment: wire::ProjectPolicyFragment = serde_json::from_str(&read(
        "rest_project_container_expiration_policy_fragment.json",
    ))
    .unwrap();
    let policy = fragment.container_expiration_policy;
    assert_eq!(policy.cadence, "1month");
    assert_eq!(policy.keep_n, Some(1));
    assert_eq!(policy.name_regex_keep.as_deref(), Some(".*-main"));
}

#[test]
fn repositories_and_details() {
    let repos: Vec<wire::Repository> =
        serde_json::from_str(&read("rest_project_repositories.json")).unwrap();
    assert_eq!(repos.len(), 2);
    assert_eq!(repos[0].name, "");
    assert_eq!(repos[1].status.as_deref(), Some("delete_ongoing"));
    let details: wire::Repository =
        serde_json::from_str(&read("rest_repository_details.json")).unwrap();
    assert_eq!(details.tags_count, Some(1));
    assert_eq!(details.size, Some(2_818_413));
    assert_eq!(details.tags.unwrap()[0].name, "0.0.1");
}

#[test]
fn tags() {
    let tags: Vec<wire::TagSummary> = serde_json::from_str(&read("rest_tags_list.json")).unwrap();
    assert_eq!(
        tags.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
        ["A", "latest"]
    );
    let tag: wire::TagDetails = serde_json::from_str(&read("rest_tag_details.json")).unwrap();
    assert_eq!(tag.total_size, Some(350_224_384));
    assert!(tag.digest.unwrap().starts_with("sha256:"));
    // A tag whose manifest is missing has nulls where the details would be.
    let missing: wire::TagDetails = serde_json::from_str(concat!(
        r#"{"name":"gone","path":"g/p:gone","location":"r/g/p:gone","revision":null,"#,
        r#""short_revision":null,"digest":null,"created_at":null,"total_size":null}"#,
    ))
    .unwrap();
    assert!(missing.digest.is_none() && missing.created_at.is_none());
}

#[test]
fn protection_rules() {
    let rules: Vec<wire::RepositoryProtectionRule> =
        serde_json::from_str(&read("rest_repository_protection_rules.json")).unwrap();
    assert_eq!(rules[1].repository_path_pattern, "flightjs/flight1");
    let rules: Vec<wire::TagProtectionRule> =
        serde_json::from_str(&read("rest_tag_protection_rules.json")).unwrap();
    assert_eq!(
        rules[1].minimum_access_level_for_delete.as_deref(),
        Some("owner")
    );
}

#[test]
fn registry_challenge() {
    let example: serde_json::Value =
        serde_json::from_str(&read("registry_v2_challenge.json")).unwrap();
    let header = example["headers"]["WWW-Authenticate"].as_str().unwrap();
    assert_eq!(
        server::gitlab::tokens::bearer_params(header),
        Some((
            "https://gitlab.example.com/jwt/auth".to_string(),
            Some("container_registry".to_string())
        ))
    );
}

#[test]
fn deploy_tokens() {
    use server::gitlab::tokens::DeployToken;
    for name in [
        "rest_project_deploy_token_create.json",
        "rest_group_deploy_token_create.json",
    ] {
        let created: DeployToken = serde_json::from_str(&read(name)).unwrap();
        assert_eq!(
            created.token.as_ref().map(|t| t.expose()),
            Some("jMRvtPNxrn3crTAGukpZ")
        );
        assert_eq!(created.username, "custom-user");
        assert!(!format!("{created:?}").contains("jMRvtPNxrn3crTAGukpZ"));
    }
    for name in [
        "rest_project_deploy_tokens_list.json",
        "rest_group_deploy_tokens_list.json",
    ] {
        let listed: Vec<DeployToken> = serde_json::from_str(&read(name)).unwrap();
        assert!(!listed.is_empty());
        assert!(listed.iter().all(|t| t.token.is_none()));
    }
}

#[test]
fn access_tokens() {
    use server::gitlab::tokens::AccessToken;
    for name in [
        "rest_project_access_token_create.json",
        "rest_group_access_token_create.json",
    ] {
        let created: AccessToken = serde_json::from_str(&read(name)).unwrap();
        assert_eq!(
            created.token.as_ref().map(|t| t.expose()),
            Some("D4y...Wzr")
        );
        assert_eq!(created.access_level, Some(30));
        assert_eq!(created.expires_at.as_deref(), Some("2021-01-31"));
    }
    for name in [
        "rest_project_access_tokens_list.json",
        "rest_group_access_tokens_list.json",
    ] {
        let listed: Vec<AccessToken> = serde_json::from_str(&read(name)).unwrap();
        assert!(!listed.is_empty());
        assert!(listed.iter().all(|t| t.token.is_none()));
    }
}
