//! Reading a project's CI context from GitLab (the double) and matching the registry's tags
//! against it (issue 14): what a Maintainer and a Reporter get, what a Guest cannot read,
//! and what a budget of one page per list still says.

use crate::common::{gitlab_tag_names, start, token_for};
use domain::usage::{assess, Coverage, Reason, TagName, Verdict};
use server::gitlab::ci::ContextBudget;

/// acme/web and its root image repository in the demo.
const WEB: u64 = 1001;
const WEB_ROOT: u64 = 1;

#[tokio::test]
async fn a_reporter_reads_the_context_and_the_running_images_are_in_use() {
    let server = start(&[]).await;
    let gitlab = server.double.as_ref().expect("the double").base_url.clone();
    let api = &server
        .state
        .services
        .gateway
        .instances
        .get("demo")
        .unwrap()
        .api;
    let token = token_for(&server, "reese", "read_api").await;
    let now = server::clock::now();
    let context = api
        .ci_context(&token, WEB, now, ContextBudget::default())
        .await
        .unwrap();
    for (what, coverage) in [
        ("deployments", context.deployments.coverage),
        ("pipelines", context.pipelines.coverage),
        ("merge requests", context.merge_requests.coverage),
        ("branches", context.branches.coverage),
        ("git tags", context.git_tags.coverage),
    ] {
        assert_eq!(coverage, Coverage::Complete, "{what}");
    }
    let environments: Vec<&str> = context
        .deployments
        .items
        .iter()
        .map(|d| d.environment.as_str())
        .collect();
    assert_eq!(
        environments,
        ["production", "review/feature-login", "staging"]
    );
    let production = &context.deployments.items[0];
    assert_eq!(production.reference, "v2.3.1");

    let names = gitlab_tag_names(&gitlab, &token, WEB, WEB_ROOT).await;
    let tags: Vec<TagName<'_>> = names
        .iter()
        .map(|n| TagName {
            name: n,
            digest: None,
        })
        .collect();
    let usage = assess(&tags, &context);
    let verdict = |name: &str| {
        let i = names
            .iter()
            .position(|n| n == name)
            .unwrap_or_else(|| panic!("{name}"));
        &usage[i]
    };
    let release = verdict("v2.3.1");
    assert_eq!(release.verdict, Verdict::InUse);
    assert!(
        release
            .reasons
            .iter()
            .any(|r| matches!(r, Reason::Deployed { environment, .. }
            if environment == "production")),
        "{release:?}"
    );
    // The feature branch's moving tag: its open merge request and the review environment.
    let feature = verdict("feature-login");
    assert_eq!(feature.verdict, Verdict::InUse);
    assert!(feature
        .reasons
        .iter()
        .any(|r| matches!(r, Reason::OpenMergeRequest { iid: 482, .. })));
    // Merge request pipelines tag by number: both merge requests are open.
    for (name, iid) in [("mr-482", 482), ("mr-497", 497)] {
        let u = verdict(name);
        assert!(
            u.reasons
                .iter()
                .any(|r| matches!(r, Reason::OpenMergeRequest { iid: i, .. } if *i == iid)),
            "{name}: {u:?}"
        );
    }
    // Every main-<sha> tag was built by a pipeline; those of the window are in use.
    let recent_main = names
        .iter()
        .filter(|n| n.starts_with("main-"))
        .filter(|n| {
            verdict(n)
                .reasons
                .iter()
                .any(|r| matches!(r, Reason::RecentPipeline { .. }))
        })
        .count();
    assert!(recent_main > 0);
    for (tag, u) in tags.iter().zip(&usage) {
        for reason in &u.reasons {
            assert!(
                reason.holds(tag, &tags, &context),
                "{}: {reason:?}",
                tag.name
            );
        }
    }
}

#[tokio::test]
async fn a_guest_reads_nothing_and_a_small_budget_never_calls_a_ref_gone() {
    let server = start(&[]).await;
    let api = &server
        .state
        .services
        .gateway
        .instances
        .get("demo")
        .unwrap()
        .api;
    let now = server::clock::now();

    let guest = token_for(&server, "gus", "read_api").await;
    let context = api
        .ci_context(&guest, WEB, now, ContextBudget::default())
        .await
        .unwrap();
    assert_eq!(context.deployments.coverage, Coverage::Unreadable);
    assert_eq!(context.branches.coverage, Coverage::Unreadable);
    assert!(context.pipelines.items.is_empty() && context.branches.items.is_empty());
    let tags = [TagName {
        name: "v2.3.1",
        digest: None,
    }];
    assert_eq!(assess(&tags, &context)[0].verdict, Verdict::Unknown);

    // One page of one item per list, as for a project with more than the budget: what was
    // read still says "in use", and nothing is dead without the complete branch list.
    let maria = token_for(&server, "maria", "read_api").await;
    let tiny = ContextBudget {
        pages: 1,
        per_page: 1,
        ..ContextBudget::default()
    };
    let context = api.ci_context(&maria, WEB, now, tiny).await.unwrap();
    assert_eq!(context.branches.coverage, Coverage::Partial);
    assert_eq!(context.branches.items.len(), 1);
    let full = api
        .ci_context(&maria, WEB, now, ContextBudget::default())
        .await
        .unwrap();
    assert_eq!(full.branches.coverage, Coverage::Complete);
    let gone = full
        .merge_requests
        .items
        .iter()
        .find(|m| m.source_branch == "perf/cache-headers")
        .expect("the merged merge request");
    let name = domain::usage::ref_slug(&gone.source_branch);
    let tags = [TagName {
        name: &name,
        digest: None,
    }];
    assert_eq!(assess(&tags, &full)[0].verdict, Verdict::Dead);
    assert_ne!(assess(&tags, &context)[0].verdict, Verdict::Dead);
}

/// The tag list's verdicts, its `in_use` and `stale` filters, the deletion dialog's warning
/// and the API's listing, for a Maintainer, and what a Guest of the private project gets.
#[tokio::test]
async fn the_tag_pages_mark_filter_and_warn_about_tags_in_use() {
    use crate::common::{signed_in, token_for};
    use crate::tags::{call, complete_list};
    use domain::tags::DeletionPlan;
    use domain::usage::UsageState;
    use serde_json::json;

    let server = start(&[]).await;
    let maria = signed_in(&server, "maria").await;
    let page = complete_list(&maria, WEB_ROOT, "q=v2.3&sort=name_asc").await;
    let UsageState::Known { usage } = &page.usage else {
        panic!("{:?}", page.usage);
    };
    // The page carries its own tags' verdicts and the repository's counts.
    let names: Vec<&str> = page.slice.tags.iter().map(|t| t.name.as_str()).collect();
    assert!(
        usage.tags.keys().all(|n| names.contains(&n.as_str())),
        "{usage:?}"
    );
    assert_eq!(usage.verdict("v2.3.1"), Verdict::InUse);
    assert!(usage.tags["v2.3.1"]
        .reasons
        .iter()
        .any(|r| matches!(r, Reason::Deployed { environment, .. } if environment == "production")));
    assert_eq!(usage.in_use + usage.dead + usage.unknown, 73);
    assert_eq!(usage.dead, 2);

    let dead = complete_list(&maria, WEB_ROOT, "stale=1&sort=name_asc").await;
    let dead_names: Vec<&str> = dead.slice.tags.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(dead_names, ["mr-451", "perf-cache-headers"]);
    // "Select all matching" on that view selects exactly them.
    let (selected, total): (Vec<String>, u64) = call(
        &maria,
        "matching_tags",
        json!({"instance": "demo", "repository_id": WEB_ROOT, "view": "stale=1&sort=name_asc"}),
    )
    .await;
    assert_eq!(
        (selected, total),
        (vec!["mr-451".into(), "perf-cache-headers".into()], 2)
    );
    let in_use = complete_list(&maria, WEB_ROOT, "in_use=1&per_page=100").await;
    let known = in_use.usage.known().expect("verdicts");
    assert_eq!(in_use.slice.matched, known.in_use);
    assert!(in_use
        .slice
        .tags
        .iter()
        .all(|t| known.verdict(&t.name) == Verdict::InUse));
    // `stable` and `latest` are the production image by digest.
    for name in ["stable", "latest", "feature-login", "mr-497"] {
        assert!(known.tags.contains_key(name), "{name} is in use");
    }

    let plan: DeletionPlan = call(
        &maria,
        "deletion_plan",
        json!({"instance": "demo", "repository_id": WEB_ROOT,
            "names": ["v2.3.1", "v1.0.0", "perf-cache-headers"]}),
    )
    .await;
    let warned: Vec<&str> = plan.in_use().iter().map(|(n, _)| *n).collect();
    assert_eq!(
        warned,
        ["v2.3.1", "v1.0.0"],
        "releases are in use; the dead tag is not"
    );

    // The tag's own page says it too.
    let detail: domain::tags::TagDetail = call(
        &maria,
        "tag_detail",
        json!({"instance": "demo", "repository_id": WEB_ROOT, "name": "mr-451"}),
    )
    .await;
    let only = detail.usage.known().expect("verdicts");
    assert_eq!(only.tags.keys().collect::<Vec<_>>(), ["mr-451"]);
    assert_eq!(only.verdict("mr-451"), Verdict::Dead);

    // Scripts read every verdict at once.
    let token = token_for(&server, "maria", "api").await;
    let body: serde_json::Value = reqwest::Client::new()
        .get(format!(
            "{}/api/v1/demo/repositories/{WEB_ROOT}/usage",
            server.base_url
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["state"], "known", "{body}");
    assert_eq!(
        body["usage"]["tags"]["perf-cache-headers"]["verdict"],
        "dead"
    );
    assert_eq!(
        body["usage"]["tags"]["mr-451"]["reasons"][0]["code"],
        "branch_gone"
    );
    assert_eq!(body["usage"]["coverage"]["branches"], "complete");
}

/// A page never waits longer than `usage.wait_ms` for GitLab: it says the verdicts are
/// being read, and the reading goes on into the cache for the next page.
#[tokio::test]
async fn a_slow_reading_is_said_and_finishes_for_the_next_page() {
    use crate::common::{controls, signed_in};
    use crate::tags::{complete_list, tag_list};
    use domain::usage::UsageState;

    let server = start(&[("REGISTRY_DASH_USAGE_WAIT_MS", "0")]).await;
    // The shared index is complete before GitLab slows down; maria's session is new.
    complete_list(&signed_in(&server, "olivia").await, WEB_ROOT, "").await;
    let maria = signed_in(&server, "maria").await;
    // Deployments follow environments: two requests of 500 ms one after the other.
    controls(&server).set_latency(
        std::time::Duration::from_millis(500),
        std::time::Duration::ZERO,
    );
    let first = tag_list(&maria, WEB_ROOT, "").await.unwrap();
    assert_eq!(first.usage, UsageState::Reading);
    for _ in 0..100 {
        let page = tag_list(&maria, WEB_ROOT, "").await.unwrap();
        if let Some(usage) = page.usage.known() {
            assert_eq!(usage.dead, 2);
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the reading did not finish");
}

/// What the verdicts cost GitLab: one request per list (each fits a page here) for a new
/// credential, nothing for the next page within the reading's lifetime; and nothing at all
/// when the configuration turns them off.
#[tokio::test]
async fn the_context_costs_one_request_per_list_once_per_credential() {
    use crate::common::{requests, signed_in};
    use crate::tags::{complete_list, tag_list};
    use domain::usage::UsageState;

    let server = start(&[]).await;
    complete_list(&signed_in(&server, "olivia").await, WEB_ROOT, "").await;
    let olivia = signed_in(&server, "olivia").await;
    let before = requests(&server);
    let page = tag_list(&olivia, WEB_ROOT, "").await.unwrap();
    assert!(page.usage.known().is_some(), "{:?}", page.usage);
    // The access check, then environments, deployments, pipelines, merge requests,
    // branches and git tags.
    assert_eq!(requests(&server) - before, 1 + 6);
    let before = requests(&server);
    let again = tag_list(&olivia, WEB_ROOT, "stale=1").await.unwrap();
    assert_eq!(again.slice.matched, 2);
    assert_eq!(requests(&server) - before, 0);

    let off = start(&[("REGISTRY_DASH_USAGE_ENABLED", "false")]).await;
    let olivia = signed_in(&off, "olivia").await;
    let page = complete_list(&olivia, WEB_ROOT, "in_use=1").await;
    assert_eq!(page.usage, UsageState::NotRead);
    assert_eq!(
        page.slice.matched, 0,
        "an unknown verdict is never shown as in use"
    );
}

/// The demo's other projects with CI (issue 14: "in-use and dead tags in several projects"):
/// olivia/secret runs `v0.3.0` in production and has a tag of a closed merge request;
/// opensource/cli's download page serves `v1.8.0`, and its `edge-<sha>` builds ran on `main`.
#[tokio::test]
async fn the_demo_has_tags_in_use_and_dead_in_several_projects() {
    use crate::common::signed_in;
    use crate::tags::complete_list;

    const SECRET_ROOT: u64 = 6;
    const CLI_ROOT: u64 = 7;
    let server = start(&[]).await;
    let olivia = signed_in(&server, "olivia").await;

    let secret = complete_list(&olivia, SECRET_ROOT, "").await;
    let usage = secret.usage.known().expect("olivia reads her own project");
    assert!(usage.tags["v0.3.0"]
        .reasons
        .iter()
        .any(|r| matches!(r, Reason::Deployed { environment, .. } if environment == "production")));
    assert!(usage.tags["latest"]
        .reasons
        .iter()
        .any(|r| matches!(r, Reason::SameImage { tag, .. } if tag == "v0.3.0")));
    let dead = complete_list(&olivia, SECRET_ROOT, "stale=1").await;
    let dead: Vec<&str> = dead.slice.tags.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert!(dead[0].starts_with("experiment-"), "{dead:?}");
    // Tags named by date were made by no CI the context knows: neither in use nor dead.
    assert_eq!(usage.verdict("20261102"), Verdict::Unknown);

    let maria = signed_in(&server, "maria").await;
    let cli = complete_list(&maria, CLI_ROOT, "in_use=1&per_page=100").await;
    let usage = cli.usage.known().expect("a Maintainer reads the CI");
    assert_eq!(cli.slice.matched, usage.in_use);
    assert!(usage.tags["v1.8.0"]
        .reasons
        .iter()
        .any(|r| matches!(r, Reason::Deployed { environment, .. } if environment == "downloads")));
    // The imported releases have git tags named `v0.0.1` …: a version matches without its `v`.
    assert!(usage.tags["0.0.1"]
        .reasons
        .iter()
        .any(|r| matches!(r, Reason::Release { .. })));
    let edge: Vec<&str> = cli
        .slice
        .tags
        .iter()
        .map(|t| t.name.as_str())
        .filter(|n| n.starts_with("edge-"))
        .collect();
    assert_eq!(
        edge.len(),
        5,
        "every edge build ran on main lately: {edge:?}"
    );
    // Nightly builds are named by date: nothing in the context speaks for or against them.
    assert_eq!(usage.verdict("2026-11-30"), Verdict::Unknown);
    assert_eq!(usage.dead, 0, "every release has its git tag");
    assert_eq!(usage.in_use + usage.unknown, 41);
}
