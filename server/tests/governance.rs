//! A group's policy page against the double (issue 14): every project of `acme` and its
//! subgroups with its policy, its drift from a standard typed in the URL, what a Developer
//! cannot see, the cost in GitLab requests, the bound on projects and the CSV export; a
//! standard reviewed and applied to chosen projects.

use crate::common::{requests, signed_in, start, token_for};
use crate::tags::call;
use domain::cleanup::{Cadence, OlderThan};
use domain::governance::apply::{
    ApplyOutcome, ApplyResult, ApplyReview, Candidate, Comparison, Exclusion,
};
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
    // devon maintains acme/platform/tools and is a Developer in the other two.
    for row in [&page.rows[0], &page.rows[2]] {
        assert!(
            matches!(row.project.policy, PolicyFacts::Summary { .. }),
            "{row:?}"
        );
        assert_eq!(row.drift, Some(Drift::Unknown));
        assert_eq!(row.project.protection_rules, None);
        assert_eq!(row.project.access, Some(AccessLevel::Developer));
    }
    let tools = &page.rows[1];
    assert!(matches!(tools.project.policy, PolicyFacts::Whole(_)));
    assert_eq!(tools.project.access, Some(AccessLevel::Maintainer));
    assert!(matches!(tools.drift, Some(Drift::Differs { .. })));
    let web = &page.rows[2];
    assert_eq!(web.project.policy.enabled(), Some(true));
    assert_eq!(page.summary.unknown, 2);

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

/// A standard differing from GitLab's defaults (every week, keep 5, older than 30 days).
const STANDARD: &str =
    "std_enabled=1&std_cadence=7d&std_keep_n=5&std_older_than=30d&std_name_regex=.*";

fn eligible(review: &ApplyReview, i: usize) -> &Comparison {
    match &review.projects[i].candidate {
        Candidate::Eligible(c) => c,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_standard_is_applied_only_where_the_caller_maintains_a_project_of_the_group() {
    let server = start(&[]).await;
    let devon = signed_in(&server, "devon").await;
    // acme/web (Developer), acme/platform/tools (Maintainer), opensource/cli (elsewhere).
    let view = format!("{STANDARD}&project=1001&project=1003&project=1005");
    let review_args = json!({"instance": "demo", "group_path": "acme", "view": view});
    let args = |confirm: &str| {
        let mut args = review_args.clone();
        args["confirm"] = confirm.into();
        args
    };
    let review: ApplyReview = call(&devon, "apply_review", review_args.clone()).await;
    let reasons: Vec<Option<&Exclusion>> = review
        .projects
        .iter()
        .map(|p| match &p.candidate {
            Candidate::Excluded { reason, .. } => Some(reason),
            _ => None,
        })
        .collect();
    assert_eq!(
        reasons,
        [
            Some(&Exclusion::NeedsMaintainer {
                access: AccessLevel::Developer
            }),
            None,
            Some(&Exclusion::OutsideGroup {
                path: "opensource/cli".into()
            }),
        ]
    );
    let tools = eligible(&review, 1);
    assert!(tools.changes());
    assert_eq!(
        tools.standard_deletes.tags, 0,
        "nothing was pushed to tools"
    );
    assert_eq!(review.changing(), 1);

    // A confirmation that is not the group's path saves nothing.
    let before = requests(&server);
    let wrong = devon
        .server_fn("apply_standard", args("acme/platform/tools"))
        .await;
    assert_eq!(wrong.status(), 400);
    assert_eq!(requests(&server) - before, 1, "only the group was read");

    let outcomes: Vec<ApplyOutcome> = call(&devon, "apply_standard", args(" acme ")).await;
    let labels: Vec<&str> = outcomes.iter().map(|o| o.result.label()).collect();
    assert_eq!(labels, ["Not applied", "Saved", "Not applied"]);
    let ApplyResult::Saved { policy } = &outcomes[1].result else {
        unreachable!()
    };
    assert_eq!(policy.policy.cadence, Cadence::Weekly);
    assert_eq!(policy.policy.keep_n, Some(5));
    assert_eq!(policy.policy.older_than, Some(OlderThan::Days30));
    assert!(policy.policy.enabled);
    assert_eq!(outcomes[1].full_path, "acme/platform/tools");

    // Applied again, nothing is sent where the policy already is the standard.
    let again: Vec<ApplyOutcome> = call(&devon, "apply_standard", args("acme")).await;
    assert_eq!(again[1].result, ApplyResult::Unchanged);
    let page: GroupPolicies = call(
        &devon,
        "group_policies",
        json!({"instance": "demo", "group_path": "acme", "view": STANDARD}),
    )
    .await;
    assert_eq!(page.rows[1].drift, Some(Drift::Same));
}

#[tokio::test]
async fn the_review_counts_what_each_policy_deletes_as_the_policy_page_does() {
    let server = start(&[]).await;
    let token = token_for(&server, "maria", "api").await;
    let client = reqwest::Client::new();
    let base = format!("{}/api/v1/demo", server.base_url);
    // acme/web's own policy, but keeping 5 instead of 10 and tags older than 7 days.
    let standard = WEB_POLICY
        .replace("std_keep_n=10", "std_keep_n=5")
        .replace("std_older_than=90d", "std_older_than=7d");
    let review: ApplyReview = client
        .get(format!(
            "{base}/groups/acme/policies/apply?{standard}&project=1001"
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let web = eligible(&review, 0);
    assert_eq!(
        web.drift,
        Drift::Differs {
            fields: vec![DriftField::KeepN, DriftField::OlderThan]
        }
    );
    // The policy page's preview of the same drafts.
    let preview_deletes = |draft: String| {
        let (client, token) = (client.clone(), token.clone());
        let url = format!("{base}/projects/acme%2Fweb/cleanup-preview?{draft}");
        async move {
            let preview: serde_json::Value = client
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            preview["repositories"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["summary"]["deleted"].as_u64().unwrap())
                .sum::<u64>()
        }
    };
    let unprefixed = |q: &str| q.replace("std_", "");
    assert_eq!(
        web.standard_deletes.tags,
        preview_deletes(unprefixed(&standard)).await
    );
    assert_eq!(
        web.own_deletes.tags,
        preview_deletes(unprefixed(WEB_POLICY)).await
    );
    assert!(
        web.standard_deletes.tags > web.own_deletes.tags,
        "{:?} {:?}",
        web.standard_deletes,
        web.own_deletes
    );
    assert!(web.standard_deletes.bytes >= web.own_deletes.bytes);
    assert!(web.standard_deletes.tags_complete && web.own_deletes.tags_complete);

    // The API needs the typed confirmation too.
    let refused = client
        .post(format!(
            "{base}/groups/acme/policies/apply?{standard}&project=1001"
        ))
        .bearer_auth(&token)
        .json(&json!({"confirm": "web"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let body = refused.text().await.unwrap();
    assert!(body.contains("Type the group's path, acme"), "{body}");
    // Without a standard or a project there is nothing to review.
    let empty = client
        .get(format!("{base}/groups/acme/policies/apply?project=1001"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status(), 400);
}

#[tokio::test]
async fn an_administrator_sees_every_projects_policy_and_may_apply_where_no_member_may() {
    let server = start(&[]).await;
    let ada = signed_in(&server, "ada").await;
    let page: GroupPolicies = call(
        &ada,
        "instance_policies",
        json!({"instance": "demo", "view": WEB_POLICY}),
    )
    .await;
    assert_eq!(page.group, None);
    let mut all = paths(&page);
    all.sort_unstable();
    assert_eq!(
        all,
        [
            "acme/platform/api",
            "acme/platform/tools",
            "acme/web",
            "olivia/secret",
            "opensource/cli"
        ],
        "a member of nothing, she sees every project"
    );
    assert!(page
        .rows
        .iter()
        .all(|r| matches!(r.project.policy, PolicyFacts::Whole(_))));
    let web = page
        .rows
        .iter()
        .find(|r| r.project.full_path == "acme/web")
        .unwrap();
    assert_eq!(web.drift, Some(Drift::Same));
    assert_eq!(web.project.access, Some(AccessLevel::Admin));

    // An administrator may save a policy where she is no member.
    let review: ApplyReview = call(
        &ada,
        "apply_review",
        json!({"instance": "demo", "group_path": "acme",
            "view": format!("{STANDARD}&project=1003")}),
    )
    .await;
    assert!(eligible(&review, 0).changes());

    // Anyone else is told the page is the administrators'.
    let maria = signed_in(&server, "maria").await;
    let refused = maria
        .server_fn("instance_policies", json!({"instance": "demo", "view": ""}))
        .await;
    assert_eq!(refused.status(), 403);
    let token = token_for(&server, "ada", "api").await;
    let csv = reqwest::Client::new()
        .get(format!(
            "{}/api/v1/demo/policies?format=csv",
            server.base_url
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("all-projects-policies.csv"));
    assert_eq!(csv.text().await.unwrap().lines().count(), 6);
}
