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
