//! A group's policy page against the double (issue 14): every project of `acme` and its
//! subgroups with its policy, its drift from a standard typed in the URL, what a Developer
//! cannot see, the cost in GitLab requests, the bound on projects and the CSV export.

use crate::common::{requests, signed_in, start, token_for};
use crate::tags::call;
use domain::governance::{Drift, DriftField, GroupPolicies, PolicyFacts};
use domain::AccessLevel;
use serde_json::json;

/// acme/web's saved policy in the demo, as a standard.
const WEB_POLICY: &str = "std_enabled=1&std_cadence=1d&std_keep_n=10&std_older_than=90d\
    &std_name_regex=.*&std_name_regex_keep=v%5Cd%2B%5C.%5Cd%2B%5C.%5Cd%2B";

fn paths(page: &GroupPolicies) -> Vec<&str> {
    page.rows
        .iter()
        .map(|r| r.project.full_path.as_str())
        .collect()
}

#[tokio::test]
async fn a_maintainer_sees_every_policy_and_its_drift_in_two_requests() {
    let server = start(&[]).await;
    let maria = signed_in(&server, "maria").await;
    let before = requests(&server);
    let page: GroupPolicies = call(
        &maria,
        "group_policies",
        json!({"instance": "demo", "group_path": "acme", "view": WEB_POLICY}),
    )
    .await;
    // The group (REST) and one GraphQL page of its projects: not a request per project.
    assert_eq!(requests(&server) - before, 2);
    assert_eq!(
        paths(&page),
        ["acme/platform/api", "acme/platform/tools", "acme/web"],
        "subgroups included, by path"
    );
    let web = &page.rows[2];
    assert_eq!(web.drift, Some(Drift::Same));
    assert_eq!(web.project.access, Some(AccessLevel::Maintainer));
    assert_eq!(web.project.repositories, 2);
    assert!(web.project.tags >= 73, "{}", web.project.tags);
    assert_eq!(
        web.project.protection_rules,
        Some(1),
        "the `stable` tag rule"
    );
    assert!(web.project.policy.next_run_at().is_some());
    assert_eq!(web.project.cleanups.deleted_last_time, 12);
    assert!(web.project.cleanups.last_started_at.is_some());
    let api = &page.rows[0];
    assert_eq!(
        api.drift,
        Some(Drift::Differs {
            fields: vec![
                DriftField::Enabled,
                DriftField::NameRegex,
                DriftField::NameRegexKeep
            ]
        }),
        "a project that never saved a policy: GitLab's defaults, off"
    );
    assert_eq!(page.summary.projects, 3);
    assert_eq!(page.summary.enabled, 1);
    assert_eq!(page.summary.with_images, 2);
    assert_eq!(page.summary.drifting, 2);

    // Only drifting projects, most drift first.
    let drifting: GroupPolicies = call(
        &maria,
        "group_policies",
        json!({"instance": "demo", "group_path": "acme",
            "view": format!("drift=1&sort=drift&{WEB_POLICY}")}),
    )
    .await;
    assert_eq!(
        paths(&drifting),
        ["acme/platform/api", "acme/platform/tools"]
    );
    // A subgroup lists only its own projects.
    let platform: GroupPolicies = call(
        &maria,
        "group_policies",
        json!({"instance": "demo", "group_path": "acme/platform", "view": ""}),
    )
    .await;
    assert_eq!(
        paths(&platform),
        ["acme/platform/api", "acme/platform/tools"]
    );
    assert!(platform.rows.iter().all(|r| r.drift.is_none()));
}

#[tokio::test]
async fn a_developer_sees_on_or_off_and_an_unknown_drift_an_outsider_nothing() {
    let server = start(&[]).await;
    let devon = signed_in(&server, "devon").await;
    let page: GroupPolicies = call(
        &devon,
        "group_policies",
        json!({"instance": "demo", "group_path": "acme", "view": WEB_POLICY}),
    )
    .await;
    assert_eq!(page.rows.len(), 3);
    for row in &page.rows {
        assert!(
            matches!(row.project.policy, PolicyFacts::Summary { .. }),
            "{row:?}"
        );
        assert_eq!(row.drift, Some(Drift::Unknown));
        assert_eq!(row.project.protection_rules, None);
        assert_eq!(row.project.access, Some(AccessLevel::Developer));
    }
    let web = &page.rows[2];
    assert_eq!(web.project.policy.enabled(), Some(true));
    assert_eq!(page.summary.unknown, 3);

    // A GitLab before 16.9 has no maxAccessLevel: the page drops the field and goes on.
    crate::common::controls(&server).set_max_access_level_field(false);
    let old: GroupPolicies = call(
        &devon,
        "group_policies",
        json!({"instance": "demo", "group_path": "acme", "view": ""}),
    )
    .await;
    assert_eq!(old.rows.len(), 3);
    assert!(old.rows.iter().all(|r| r.project.access.is_none()));

    let nora = signed_in(&server, "nora").await;
    let answer = nora
        .server_fn(
            "group_policies",
            json!({"instance": "demo", "group_path": "acme", "view": ""}),
        )
        .await;
    assert_eq!(answer.status(), 404);
}

#[tokio::test]
async fn the_api_exports_csv_and_refuses_an_unusable_standard() {
    let server = start(&[("REGISTRY_DASH_GROUP_POLICY_PROJECTS", "2")]).await;
    let token = token_for(&server, "maria", "api").await;
    let client = reqwest::Client::new();
    let get = |query: &str| {
        client
            .get(format!(
                "{}/api/v1/demo/groups/acme/policies?{query}",
                server.base_url
            ))
            .bearer_auth(&token)
            .send()
    };
    let answer = get(&format!("format=csv&{WEB_POLICY}")).await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(answer.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("acme-policies.csv"));
    let csv = answer.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("project,access,enabled,"), "{csv}");
    // The configured bound: the first two projects by path, and it says so.
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(
        lines[1].starts_with("acme/platform/api,maintainer,false,1d,10,90d,,,"),
        "{csv}"
    );
    assert!(
        lines[1].ends_with(",enabled name_regex name_regex_keep"),
        "{csv}"
    );
    let json: serde_json::Value = get(WEB_POLICY).await.unwrap().json().await.unwrap();
    assert_eq!(json["truncated_at"], 2, "{json}");
    assert_eq!(json["rows"][0]["drift"]["state"], "differs");
    assert_eq!(json["rows"][0]["project"]["policy"]["visible"], "whole");

    let refused = get("std_keep_n=3").await.unwrap();
    assert_eq!(refused.status(), 400);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert!(
        body.to_string().contains("The standard policy was ignored"),
        "{body}"
    );
}
