use super::*;
use proptest::prelude::*;
use rstest::rstest;

const NOW: i64 = 1_800_000_000;
const DAY: i64 = 86_400;
const DEPLOYED: &str = "3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39";
const MR_HEAD: &str = "aa11bb22cc33dd44ee55ff66aa77bb88cc99dd00";
const GONE_COMMIT: &str = "0badc0de0badc0de0badc0de0badc0de0badc0de";
const RELEASE: &str = "1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e";
const OLD_PIPELINE: &str = "5555555555555555555555555555555555555555";

#[rstest]
#[case("main", "main")]
#[case("Feature/Login_Page", "feature-login-page")]
#[case("release/1.2", "release-1-2")]
#[case("-leading/and/trailing-", "leading-and-trailing")]
#[case("a--b", "a--b")]
#[case("Änderung", "nderung")]
#[case("ÄÖÜ", "")]
fn ref_slugs_follow_gitlabs_rule(#[case] reference: &str, #[case] slug: &str) {
    assert_eq!(ref_slug(reference), slug);
}

#[test]
fn a_slug_is_cut_to_63_characters_before_its_dashes_are_trimmed() {
    let long = format!("{}/b", "a".repeat(62));
    assert_eq!(ref_slug(&long), "a".repeat(62));
    assert_eq!(ref_slug(&"x".repeat(100)).len(), SLUG_LEN);
}

#[rstest]
#[case("main-0a0ea38", &["0a0ea38"])]
#[case("v1.2.3-4-g3f2a9c1", &["3f2a9c1"])]
#[case("3F2A9C1D", &["3f2a9c1d"])]
#[case("sha_3f2a9c1.amd64", &["3f2a9c1"])]
#[case(DEPLOYED, &[DEPLOYED])]
#[case("latest", &[])]
#[case("abcdef", &[])]
#[case("v1.2.3", &[])]
#[case("0123456789012345678901234567890123456789a", &[])]
#[case("3f2a9c1-3f2a9c1", &["3f2a9c1"])]
fn commit_tokens_are_7_to_40_hex_digits_between_separators(
    #[case] tag: &str,
    #[case] tokens: &[&str],
) {
    assert_eq!(commit_tokens(tag), tokens);
}

fn context() -> Context {
    Context {
        deployments: Part::complete(vec![Deployment {
            environment: "production".into(),
            sha: DEPLOYED.into(),
            reference: "main".into(),
            finished_at: Some(NOW - 2 * DAY),
        }]),
        pipelines: Part::complete(vec![
            Pipeline {
                id: 47,
                sha: MR_HEAD.into(),
                reference: "feature/login".into(),
                updated_at: NOW - 3_600,
            },
            Pipeline {
                id: 31,
                sha: GONE_COMMIT.into(),
                reference: "spike/cache".into(),
                updated_at: NOW - 20 * DAY,
            },
            Pipeline {
                id: 12,
                sha: OLD_PIPELINE.into(),
                reference: "main".into(),
                updated_at: NOW - 30 * DAY,
            },
        ]),
        merge_requests: Part::complete(vec![
            MergeRequest {
                iid: 12,
                source_branch: "feature/login".into(),
                sha: Some(MR_HEAD.into()),
                state: MergeRequestState::Opened,
            },
            MergeRequest {
                iid: 9,
                source_branch: "old-feature".into(),
                sha: None,
                state: MergeRequestState::Merged,
            },
        ]),
        branches: Part::complete(vec![
            Branch {
                name: "main".into(),
                sha: DEPLOYED.into(),
            },
            Branch {
                name: "feature/login".into(),
                sha: MR_HEAD.into(),
            },
        ]),
        git_tags: Part::complete(vec![GitTag {
            name: "v1.2.3".into(),
            sha: RELEASE.into(),
        }]),
        pipelines_since: NOW - 14 * DAY,
    }
}

fn tag<'a>(name: &'a str, digest: Option<&'a str>) -> TagName<'a> {
    TagName { name, digest }
}

fn codes(usage: &TagUsage) -> Vec<String> {
    usage
        .reasons
        .iter()
        .map(|r| {
            serde_json::to_value(r).unwrap()["code"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

#[test]
fn each_tag_gets_a_verdict_with_its_evidence() {
    let context = context();
    let short_deployed = format!("main-{}", &DEPLOYED[..8]);
    let gone_sha = format!("spike-{}", &GONE_COMMIT[..7]);
    let old_sha = format!("main-{}", &OLD_PIPELINE[..8]);
    let tags = [
        tag(&short_deployed, Some("sha256:prod")),
        tag("latest", Some("sha256:prod")),
        tag("main", None),
        tag("feature-login", None),
        tag("1.2.3", None),
        tag("v1.2.3", None),
        tag("old-feature", None),
        tag("old-feature-0badc0d", None),
        tag(&gone_sha, None),
        tag("nightly", None),
        tag(&old_sha, None),
    ];
    let usage = assess(&tags, &context);
    let verdicts: Vec<(&str, Verdict, Vec<String>)> = tags
        .iter()
        .zip(&usage)
        .map(|(t, u)| (t.name, u.verdict, codes(u)))
        .collect();
    let expect = |name: &str, verdict: Verdict, reasons: &[&str]| {
        let (_, v, r) = verdicts.iter().find(|(n, _, _)| *n == name).unwrap();
        let r: Vec<&str> = r.iter().map(String::as_str).collect();
        assert_eq!((*v, r.as_slice()), (verdict, reasons), "{name}");
    };
    expect(
        &short_deployed,
        Verdict::InUse,
        &["deployed", "branch_head"],
    );
    expect("latest", Verdict::InUse, &["same_image"]);
    expect("main", Verdict::InUse, &["deployed", "branch_head"]);
    expect(
        "feature-login",
        Verdict::InUse,
        &["recent_pipeline", "open_merge_request", "branch_head"],
    );
    expect("1.2.3", Verdict::InUse, &["release"]);
    expect("v1.2.3", Verdict::InUse, &["release"]);
    expect("old-feature", Verdict::Dead, &["branch_gone"]);
    expect(
        "old-feature-0badc0d",
        Verdict::Dead,
        &["branch_gone", "branch_gone"],
    );
    expect(&gone_sha, Verdict::Dead, &["branch_gone"]);
    expect("nightly", Verdict::Unknown, &[]);
    // Its pipeline is older than the window, and its branch exists: nothing to say.
    expect(&old_sha, Verdict::Unknown, &[]);
    for (t, u) in tags.iter().zip(&usage) {
        for reason in &u.reasons {
            assert!(reason.holds(t, &tags, &context), "{}: {reason:?}", t.name);
        }
    }
}

#[test]
fn reasons_read_as_sentences_and_travel_as_codes() {
    let context = context();
    let name = format!("main-{}", &DEPLOYED[..8]);
    let usage = assess(&[tag(&name, None), tag("old-feature", None)], &context);
    assert_eq!(
        usage[0].reasons[0].sentence(NOW),
        "commit 3f2a9c1d deployed to production 2 days ago"
    );
    assert_eq!(
        usage[0].reasons[1].sentence(NOW),
        "head commit 3f2a9c1d of branch main"
    );
    assert_eq!(
        usage[1].reasons[0].sentence(NOW),
        "built from branch old-feature of merge request !9 (merged), which no longer exists"
    );
    let json = serde_json::to_value(&usage[0].reasons[0]).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "code": "deployed", "environment": "production", "sha": DEPLOYED, "ref": "main",
            "finished_at": NOW - 2 * DAY, "by": "commit"
        })
    );
    let back: Reason = serde_json::from_value(json).unwrap();
    assert_eq!(back, usage[0].reasons[0]);
    // A reason without what its code needs is an error that names the field.
    let error = serde_json::from_value::<Reason>(serde_json::json!({
        "code": "release", "git_tag": "v1.0.0", "by": "name"
    }))
    .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("missing field `sha` for code `release`"),
        "{error}"
    );
    let unknown = serde_json::from_value::<Reason>(serde_json::json!({"code": "rumour"}));
    assert!(unknown.is_err());
}

#[test]
fn nothing_is_dead_without_the_complete_branch_list() {
    let mut context = context();
    context.branches.coverage = Coverage::Partial;
    let gone_sha = format!("spike-{}", &GONE_COMMIT[..7]);
    let usage = assess(&[tag("old-feature", None), tag(&gone_sha, None)], &context);
    assert!(
        usage.iter().all(|u| u.verdict == Verdict::Unknown),
        "{usage:?}"
    );
    // Git tags unknown: a commit of a gone branch might still be a release's.
    let mut context = self::context();
    context.git_tags = Part::default();
    let usage = assess(&[tag(&gone_sha, None)], &context);
    assert_eq!(usage[0].verdict, Verdict::Unknown);
}

#[test]
fn a_tag_sharing_a_digest_with_a_tag_in_use_is_never_dead() {
    let context = context();
    let tags = [
        tag("old-feature", Some("sha256:same")),
        tag("v1.2.3", Some("sha256:same")),
    ];
    let usage = assess(&tags, &context);
    assert_eq!(usage[0].verdict, Verdict::InUse);
    assert_eq!(
        usage[0].reasons[0].sentence(NOW),
        "the same image as v1.2.3, which is in use"
    );
}

#[test]
fn without_context_every_tag_is_unknown() {
    let tags = [
        tag("main", Some("d")),
        tag("3f2a9c1", Some("d")),
        tag("v1.0.0", None),
    ];
    let usage = assess(&tags, &Context::default());
    assert!(usage
        .iter()
        .all(|u| u.verdict == Verdict::Unknown && u.reasons.is_empty()));
}

/// Small pools, so random contexts and names collide often.
fn sha() -> impl Strategy<Value = String> {
    prop::sample::select(vec![DEPLOYED, MR_HEAD, GONE_COMMIT, RELEASE, OLD_PIPELINE])
        .prop_map(String::from)
}

fn reference() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "main",
        "feature/login",
        "old-feature",
        "v1.2.3",
        "Spike_Cache",
    ])
    .prop_map(String::from)
}

fn coverage() -> impl Strategy<Value = Coverage> {
    prop::sample::select(vec![
        Coverage::Complete,
        Coverage::Partial,
        Coverage::Unreadable,
    ])
}

fn random_context() -> impl Strategy<Value = Context> {
    let deployments = prop::collection::vec(
        (reference(), sha(), reference(), prop::option::of(0..NOW)).prop_map(|(e, sha, r, at)| {
            Deployment {
                environment: e,
                sha,
                reference: r,
                finished_at: at,
            }
        }),
        0..3,
    );
    let pipelines = prop::collection::vec(
        (1..100u64, sha(), reference(), NOW - 30 * DAY..NOW).prop_map(|(id, sha, r, at)| {
            Pipeline {
                id,
                sha,
                reference: r,
                updated_at: at,
            }
        }),
        0..4,
    );
    let states = prop::sample::select(vec![
        MergeRequestState::Opened,
        MergeRequestState::Merged,
        MergeRequestState::Closed,
    ]);
    let merge_requests = prop::collection::vec(
        (1..50u64, reference(), prop::option::of(sha()), states).prop_map(|(iid, b, sha, s)| {
            MergeRequest {
                iid,
                source_branch: b,
                sha,
                state: s,
            }
        }),
        0..3,
    );
    let branches = prop::collection::vec(
        (reference(), sha()).prop_map(|(name, sha)| Branch { name, sha }),
        0..3,
    );
    let git_tags = prop::collection::vec(
        (reference(), sha()).prop_map(|(name, sha)| GitTag { name, sha }),
        0..2,
    );
    (
        (deployments, coverage()),
        (pipelines, coverage()),
        (merge_requests, coverage()),
        (branches, coverage()),
        (git_tags, coverage()),
    )
        .prop_map(|(d, p, m, b, g)| Context {
            deployments: Part {
                items: d.0,
                coverage: d.1,
            },
            pipelines: Part {
                items: p.0,
                coverage: p.1,
            },
            merge_requests: Part {
                items: m.0,
                coverage: m.1,
            },
            branches: Part {
                items: b.0,
                coverage: b.1,
            },
            git_tags: Part {
                items: g.0,
                coverage: g.1,
            },
            pipelines_since: NOW - 14 * DAY,
        })
}

/// Names CI would make (slugs, SHAs, both), and names it would not.
fn tag_name() -> impl Strategy<Value = String> {
    prop_oneof![
        (1..50u64).prop_map(|iid| format!("mr-{iid}")),
        reference().prop_map(|r| ref_slug(&r)),
        (sha(), MIN_SHA_LEN..=MAX_SHA_LEN).prop_map(|(s, n)| s[..n].to_string()),
        (reference(), sha(), MIN_SHA_LEN..=12).prop_map(|(r, s, n)| format!(
            "{}-{}",
            ref_slug(&r),
            &s[..n]
        )),
        "[a-z]{1,8}",
        "[0-9a-f]{7,9}",
        Just("1.2.3".to_string()),
    ]
}

proptest! {
    #[test]
    fn matching_never_marks_a_tag_without_a_reason_that_holds(
        context in random_context(),
        names in prop::collection::vec(
            (tag_name(), prop::option::of(prop::sample::select(vec!["d1", "d2"]))),
            1..8,
        ),
    ) {
        let tags: Vec<TagName<'_>> =
            names.iter().map(|(n, d)| TagName { name: n, digest: *d }).collect();
        let usage = assess(&tags, &context);
        prop_assert_eq!(usage.len(), tags.len());
        for (t, u) in tags.iter().zip(&usage) {
            match u.verdict {
                Verdict::InUse => prop_assert!(
                    !u.reasons.is_empty() && u.reasons.iter().all(|r| !r.is_dead())
                ),
                Verdict::Dead => {
                    prop_assert!(!u.reasons.is_empty() && u.reasons.iter().all(Reason::is_dead));
                    prop_assert_eq!(context.branches.coverage, Coverage::Complete);
                }
                Verdict::Unknown => prop_assert!(u.reasons.is_empty()),
            }
            for reason in &u.reasons {
                prop_assert!(reason.holds(t, &tags, &context), "{}: {:?}", t.name, reason);
                // What the API writes reads back the same (`wire`).
                let json = serde_json::to_string(reason).unwrap();
                prop_assert_eq!(&serde_json::from_str::<Reason>(&json).unwrap(), reason);
            }
        }
    }

    #[test]
    fn a_repository_summary_keeps_every_verdict_but_unknown_and_counts_all(
        context in random_context(),
        names in prop::collection::btree_set(tag_name(), 1..8),
        digests in prop::collection::vec(prop::option::of(prop::sample::select(vec!["d1"])), 8),
    ) {
        let tags: Vec<TagName<'_>> = names
            .iter()
            .zip(&digests)
            .map(|(n, d)| TagName { name: n, digest: *d })
            .collect();
        let each = assess(&tags, &context);
        let summary = RepositoryUsage::of(&tags, &context);
        prop_assert_eq!(summary.in_use + summary.dead + summary.unknown, tags.len() as u64);
        // Every state a page carries reads back as written (`wire`).
        for state in [
            UsageState::Known { usage: summary.clone() },
            UsageState::NotRead,
            UsageState::Reading,
            UsageState::Failed { message: "GitLab said 502".into() },
        ] {
            let json = serde_json::to_string(&state).unwrap();
            prop_assert_eq!(serde_json::from_str::<UsageState>(&json).unwrap(), state);
        }
        for (t, u) in tags.iter().zip(&each) {
            prop_assert_eq!(summary.verdict(t.name), u.verdict);
            if u.verdict != Verdict::Unknown {
                prop_assert_eq!(&summary.tags[t.name], u);
            }
        }
        let first = tags[0].name;
        let page = summary.only([first, "not-a-tag"]);
        prop_assert_eq!(page.tags.len(), usize::from(summary.tags.contains_key(first)));
        prop_assert_eq!(
            (page.in_use, page.dead, page.unknown),
            (summary.in_use, summary.dead, summary.unknown)
        );
        prop_assert_eq!(summary.names(Verdict::InUse).len() as u64, summary.in_use);
    }

    #[test]
    fn a_name_ci_cannot_have_made_is_only_ever_in_use_through_its_digest(
        context in random_context(),
        word in "zz[g-z]{0,10}",
    ) {
        let tags = [TagName { name: &word, digest: None }];
        prop_assert_eq!(assess(&tags, &context)[0].verdict, Verdict::Unknown);
    }
}

#[test]
fn a_deployed_git_tag_matches_its_image_by_the_tags_own_name() {
    let mut context = context();
    context.deployments.items.push(Deployment {
        environment: "canary".into(),
        sha: RELEASE.into(),
        reference: "v1.2.3".into(),
        finished_at: Some(NOW - DAY),
    });
    let tags = [tag("v1.2.3", None), tag("1.2.3", None), tag("v1-2-3", None)];
    let usage = assess(&tags, &context);
    for (t, u) in tags.iter().zip(&usage) {
        assert_eq!(codes(u), ["deployed", "release"], "{}", t.name);
        assert_eq!(
            u.reasons[0].sentence(NOW),
            "v1.2.3, deployed to canary 1 day ago (commit 1e1e1e1e)"
        );
    }
}

#[rstest]
#[case("mr-482", Some(482))]
#[case("mr-1", Some(1))]
#[case("mr-0482", None)]
#[case("mr-", None)]
#[case("mr-48a", None)]
#[case("pr-482", None)]
#[case("mr-482-3f2a9c1", None)]
fn merge_request_numbers_are_read_from_mr_and_the_iid(#[case] tag: &str, #[case] iid: Option<u64>) {
    assert_eq!(merge_request_iid(tag), iid);
}

#[test]
fn mr_and_a_number_is_that_merge_requests_image() {
    let context = context();
    let tags = [tag("mr-12", None), tag("mr-9", None), tag("mr-77", None)];
    let usage = assess(&tags, &context);
    assert_eq!(
        (usage[0].verdict, codes(&usage[0])),
        (Verdict::InUse, vec!["open_merge_request".into()])
    );
    assert_eq!(
        usage[0].reasons[0].sentence(NOW),
        "the image of open merge request !12 (feature/login)"
    );
    // !9 was merged and its branch is gone; !77 is not in the context.
    assert_eq!(
        (usage[1].verdict, codes(&usage[1])),
        (Verdict::Dead, vec!["branch_gone".into()])
    );
    assert_eq!(usage[2].verdict, Verdict::Unknown);
    for (t, u) in tags.iter().zip(&usage) {
        for reason in &u.reasons {
            assert!(reason.holds(t, &tags, &context), "{}: {reason:?}", t.name);
        }
    }
}

#[test]
fn a_merge_request_pipeline_counts_for_its_merge_requests_branch() {
    let mut context = context();
    let old = |id: u64, sha: &str, reference: &str| Pipeline {
        id,
        sha: sha.into(),
        reference: reference.into(),
        updated_at: NOW - 20 * DAY,
    };
    let open_commit = "abcdef1234567890abcdef1234567890abcdef12";
    let merged_commit = "fedcba0987654321fedcba0987654321fedcba09";
    let unknown_commit = "1234abcd1234abcd1234abcd1234abcd1234abcd";
    context.pipelines.items.extend([
        old(60, open_commit, "refs/merge-requests/12/head"),
        old(61, merged_commit, "refs/merge-requests/9/merge"),
        old(62, unknown_commit, "refs/merge-requests/99/head"),
    ]);
    let tags = [
        tag("feature-login-abcdef1", None),
        tag("old-feature-fedcba0", None),
        tag("x-1234abc", None),
    ];
    let usage = assess(&tags, &context);
    // Open !12's branch exists: an older commit of it is not dead, only not in the window.
    assert_eq!(usage[0].verdict, Verdict::Unknown, "{:?}", usage[0]);
    // Merged !9's branch is gone: by its slug and by its pipeline's commit.
    assert_eq!(usage[1].verdict, Verdict::Dead);
    let by_commit = |r: &Reason| {
        matches!(r, Reason::BranchGone { branch, by: MatchedBy::Commit, .. }
            if branch == "old-feature")
    };
    assert!(usage[1].reasons.iter().any(by_commit), "{:?}", usage[1]);
    // A merge request the context does not have says nothing.
    assert_eq!(usage[2].verdict, Verdict::Unknown);
    for (t, u) in tags.iter().zip(&usage) {
        for reason in &u.reasons {
            assert!(reason.holds(t, &tags, &context), "{}: {reason:?}", t.name);
        }
    }
}

#[test]
fn coverage_says_which_lists_were_not_read_to_the_end() {
    let mut context = context();
    let all = Coverages::of(&context);
    assert!(!all.nothing_read());
    context.branches.coverage = Coverage::Partial;
    context.git_tags.coverage = Coverage::Unreadable;
    assert_eq!(
        Coverages::of(&context).incomplete(),
        ["branches (in part)", "git tags (not at all)"]
    );
    assert!(Coverages::default().nothing_read());
}
