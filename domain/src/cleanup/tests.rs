use super::*;
use crate::tags::Tag;
use proptest::prelude::*;
use rstest::rstest;

#[test]
fn policies_arriving_as_data_are_checked() {
    let ok = concat!(
        r#"{"enabled":true,"cadence":"Daily","keep_n":10,"older_than":null,"#,
        r#""name_regex":".*","name_regex_keep":null}"#,
    );
    assert!(serde_json::from_str::<CleanupPolicy>(ok).is_ok());
    let bad_keep = ok.replace("\"keep_n\":10", "\"keep_n\":3");
    assert!(serde_json::from_str::<CleanupPolicy>(&bad_keep).is_err());
    let long = ok.replace(".*", &"a".repeat(MAX_REGEX_LEN + 1));
    let error = serde_json::from_str::<CleanupPolicy>(&long).expect_err("too long");
    assert!(error.to_string().contains("at most 255"), "{error}");
}

#[test]
fn run_confirmations_are_checked() {
    let c = |id, fp: &str| RunConfirmation {
        repository_id: id,
        tags: 1,
        fingerprint: fp.into(),
    };
    assert!(check_confirmations(&[c(1, "0123456789abcdef")]).is_ok());
    assert!(check_confirmations(&[]).is_err());
    assert!(check_confirmations(&[c(1, "0123456789abcdef"), c(1, "0123456789abcdef")]).is_err());
    assert!(check_confirmations(&[c(1, "zz")]).is_err());
    assert!(check_confirmations(&[c(0, "0123456789abcdef")]).is_err());
    let many: Vec<_> = (1..=MAX_RUN_REPOSITORIES as u64 + 1)
        .map(|id| c(id, "0123456789abcdef"))
        .collect();
    assert!(check_confirmations(&many).is_err());
}

const NOW: i64 = 1_800_000_000;
const DAY: i64 = 86_400;

fn tag(name: &str, age_days: Option<i64>) -> Tag {
    Tag {
        name: name.into(),
        digest: Some(format!("sha256:{name}")),
        revision: None,
        created_at: age_days.map(|d| NOW - d * DAY),
        published_at: None,
        total_size: Some(100),
        media_type: None,
        referrers: vec![],
        protection: None,
    }
}

fn policy(
    delete: &str,
    keep: Option<&str>,
    keep_n: Option<u32>,
    older: Option<OlderThan>,
) -> CleanupPolicy {
    CleanupPolicy {
        enabled: true,
        cadence: Cadence::Daily,
        keep_n,
        older_than: older,
        name_regex: Some(delete.into()),
        name_regex_keep: keep.map(String::from),
    }
}

fn decide(p: &CleanupPolicy, tags: &[Tag]) -> Vec<(String, Reason)> {
    p.compile()
        .expect("valid policy")
        .evaluate(tags, Mode::Legacy, NOW)
        .into_iter()
        .map(|d| (d.name, d.reason))
        .collect()
}

fn reason_of(p: &CleanupPolicy, tags: &[Tag], name: &str) -> Reason {
    decide(p, tags)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, r)| r)
        .expect("tag present")
}

#[rstest]
// Rule 1: latest is never a candidate, even when everything matches.
#[case::latest_kept(".*", None, None, None, "latest", Some(400), Reason::Latest)]
// Rule 2: anchoring — the whole name must match.
#[case::anchored_whole_name("v1", None, None, None, "v1.2", Some(400), Reason::NotMatched)]
#[case::anchored_match("v1.*", None, None, None, "v1.2", Some(400), Reason::Deleted)]
// GitLab pastes the regex without parentheses: `a|b` = starts with a OR ends with b.
#[case::alternation_start("dev|rc", None, None, None, "dev-build-7", Some(400), Reason::Deleted)]
#[case::alternation_end("dev|rc", None, None, None, "v2-rc", Some(400), Reason::Deleted)]
#[case::alternation_middle("dev|rc", None, None, None, "a-dev-b", Some(400), Reason::NotMatched)]
// Keep regex wins over the delete regex, and is anchored too.
#[case::keep_wins(".*", Some("v.*"), None, None, "v9", Some(400), Reason::KeepRegex)]
#[case::keep_anchored(".*", Some("v"), None, None, "v9", Some(400), Reason::Deleted)]
// Rule 4: strictly older than.
#[case::older_than_kept(".*", None, None, Some(OlderThan::Days7), "t", Some(3), Reason::TooNew)]
#[case::older_than_deleted(
    ".*",
    None,
    None,
    Some(OlderThan::Days7),
    "t",
    Some(8),
    Reason::Deleted
)]
#[case::no_timestamp_kept(
    ".*",
    None,
    None,
    Some(OlderThan::Days7),
    "t",
    None,
    Reason::NoTimestamp
)]
#[case::no_timestamp_no_age(".*", None, None, None, "t", None, Reason::Deleted)]
fn single_rules(
    #[case] delete: &str,
    #[case] keep: Option<&str>,
    #[case] keep_n: Option<u32>,
    #[case] older: Option<OlderThan>,
    #[case] name: &str,
    #[case] age: Option<i64>,
    #[case] expected: Reason,
) {
    let p = policy(delete, keep, keep_n, older);
    assert_eq!(reason_of(&p, &[tag(name, age)], name), expected);
}

#[test]
fn exactly_seven_days_old_is_not_older_than_seven_days() {
    let mut t = tag("edge", None);
    t.created_at = Some(NOW - 7 * DAY);
    let p = policy(".*", None, None, Some(OlderThan::Days7));
    assert_eq!(reason_of(&p, &[t.clone()], "edge"), Reason::TooNew);
    t.created_at = Some(NOW - 7 * DAY - 1);
    assert_eq!(reason_of(&p, &[t], "edge"), Reason::Deleted);
}

#[test]
fn keep_n_keeps_the_newest_candidates_and_missing_timestamps_count_as_now() {
    let tags = [
        tag("old", Some(300)),
        tag("older", Some(400)),
        tag("undated", None),
        tag("new", Some(1)),
        tag("latest", Some(0)),
        tag("keepme", Some(500)),
    ];
    let p = policy(".*", Some("keep.*"), Some(1), None);
    let d = decide(&p, &tags);
    let r = |n: &str| d.iter().find(|(x, _)| x == n).map(|(_, r)| *r);
    // latest and the keep-regex tag are not candidates and do not use up keep_n.
    assert_eq!(r("latest"), Some(Reason::Latest));
    assert_eq!(r("keepme"), Some(Reason::KeepRegex));
    assert_eq!(
        r("undated"),
        Some(Reason::KeepN),
        "no timestamp sorts as now"
    );
    assert_eq!(
        r("new"),
        Some(Reason::Deleted),
        "newest dated, but undated counts as newer"
    );
    assert_eq!(r("old"), Some(Reason::Deleted));
    assert_eq!(r("older"), Some(Reason::Deleted));
}

#[test]
fn keep_n_and_older_than_combine() {
    let tags = [
        tag("a", Some(100)),
        tag("b", Some(50)),
        tag("c", Some(10)),
        tag("d", Some(2)),
    ];
    let p = policy(".*", None, Some(1), Some(OlderThan::Days30));
    let d = decide(&p, &tags);
    assert_eq!(
        d.iter().map(|(_, r)| *r).collect::<Vec<_>>(),
        [
            Reason::Deleted,
            Reason::Deleted,
            Reason::TooNew,
            Reason::KeepN
        ]
    );
}

#[test]
fn ties_at_the_keep_n_boundary_are_flagged() {
    let tags = [tag("x", Some(5)), tag("y", Some(5)), tag("z", Some(9))];
    let p = policy(".*", None, Some(1), None);
    let d = p
        .compile()
        .expect("valid")
        .evaluate(&tags, Mode::Legacy, NOW);
    assert!(d[0].tie && d[1].tie, "x and y share the boundary timestamp");
    assert!(!d[2].tie);
    assert_eq!(d.iter().filter(|d| d.reason == Reason::KeepN).count(), 1);
}

#[test]
fn protected_tags_are_skipped_only_when_they_would_go() {
    let mut guarded = tag("release", Some(400));
    guarded.protection = Some(crate::tags::TagProtection {
        minimum_access_level_for_push: None,
        minimum_access_level_for_delete: Some(crate::AccessLevel::Maintainer),
    });
    let p = policy(".*", None, None, Some(OlderThan::Days90));
    assert_eq!(
        reason_of(&p, &[guarded.clone()], "release"),
        Reason::Protected
    );
    let young = Tag {
        created_at: Some(NOW - DAY),
        ..guarded
    };
    assert_eq!(reason_of(&p, &[young], "release"), Reason::TooNew);
}

#[test]
fn fingerprints_name_the_deleted_set_not_its_size() {
    let d = |name: &str, reason| TagDecision {
        name: name.into(),
        reason,
        tie: false,
    };
    let a = [
        d("x", Reason::Deleted),
        d("y", Reason::Deleted),
        d("z", Reason::KeepN),
    ];
    let same = [
        d("z", Reason::TooNew),
        d("y", Reason::Deleted),
        d("x", Reason::Deleted),
    ];
    let other = [
        d("x", Reason::Deleted),
        d("y", Reason::KeepN),
        d("z", Reason::Deleted),
    ];
    assert_eq!(fingerprint(&a), fingerprint(&same));
    assert_ne!(fingerprint(&a), fingerprint(&other));
    // Name boundaries count: ["ab", "c"] is not ["a", "bc"].
    assert_ne!(
        fingerprint(&[d("ab", Reason::Deleted), d("c", Reason::Deleted)]),
        fingerprint(&[d("a", Reason::Deleted), d("bc", Reason::Deleted)])
    );
}

#[test]
fn a_preview_survives_the_compact_wire_form() {
    let mut tags: Vec<Tag> = (0..50)
        .map(|i| {
            let mut t = tag(&format!("t{i:02}"), (i % 7 != 0).then_some(i));
            // Pairs of tags share an image; some have no manifest.
            let spread = (i as u64 / 2).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            t.digest = (i % 11 != 0).then(|| format!("sha256:{spread:016x}{:048x}", i / 2));
            t.published_at = (i % 3 == 0).then_some(NOW - i * 3_600);
            t
        })
        .collect();
    tags[4].protection = Some(crate::tags::TagProtection {
        minimum_access_level_for_push: None,
        minimum_access_level_for_delete: Some(crate::AccessLevel::Owner),
    });
    let repository = PreviewRepository {
        id: 9,
        path: "a/b".into(),
        tags,
        complete: true,
        total: Some(50),
        cleanup_status: crate::CleanupStatus::Unscheduled,
        usage: Default::default(),
    };
    let json = serde_json::to_string(&repository).expect("serializes");
    assert!(!json.contains("\"referrers\""), "compact: {json}");
    let back: PreviewRepository = serde_json::from_str(&json).expect("parses");
    let p = policy(".*", Some("t1.*"), Some(5), Some(OlderThan::Days7));
    for mode in [Mode::Legacy, Mode::MetadataDatabase] {
        let compiled = p.compile().expect("valid");
        let before = compiled.evaluate(&repository.tags, mode, NOW);
        let after = compiled.evaluate(&back.tags, mode, NOW);
        assert_eq!(before, after);
        assert_eq!(
            summarize(&repository.tags, &before),
            summarize(&back.tags, &after)
        );
    }
    assert_eq!(back.tags[4].protection, repository.tags[4].protection);
}

/// An overview of project acme/web with one repository holding `tags`, seen by a
/// Maintainer, without the metadata database.
fn one_repository(tags: Vec<Tag>) -> CleanupOverview {
    CleanupOverview {
        project: crate::ProjectDetails {
            id: 1,
            name: "web".into(),
            full_path: "acme/web".into(),
            description: None,
            visibility: "private".into(),
            web_url: String::new(),
            access: crate::AccessLevel::Maintainer,
        },
        saved: SavedPolicy {
            policy: CleanupPolicy::default(),
            next_run_at: None,
            notes: Vec::new(),
        },
        edit_refusal: None,
        mode: Mode::Legacy,
        repositories: vec![PreviewRepository {
            id: 1,
            path: "acme/web".into(),
            total: Some(tags.len() as u64),
            tags,
            complete: true,
            cleanup_status: crate::CleanupStatus::Unscheduled,
            usage: Default::default(),
        }],
        now: NOW,
        rules: None,
        rules_note: None,
        runner: crate::AccessLevel::Maintainer,
        max_tags_per_run: DEFAULT_MAX_TAGS_PER_RUN,
    }
}

#[test]
fn sidecars_counted_by_keep_n_and_imported_batches_are_warned_about() {
    let hex = "ab".repeat(32);
    let mut tags: Vec<Tag> = (0..12)
        .map(|i| tag(&format!("v1.{i}.0"), Some(400 - i * 20)))
        .collect();
    tags.push(tag(&format!("sha256-{hex}.sig"), Some(1)));
    let warns = |overview: &CleanupOverview, p: &CleanupPolicy, needle: &str| {
        preview(overview, p).expect("valid")[0]
            .warnings
            .iter()
            .any(|w| w.message.contains(needle))
    };
    let keep5 = policy(".*", None, Some(5), None);
    let overview = one_repository(tags.clone());
    assert!(warns(
        &overview,
        &keep5,
        "signature/attestation/SBOM tag (sha256"
    ));
    // A delete regex that leaves sidecars out: no warning.
    assert!(!warns(
        &overview,
        &policy("v.*", None, Some(5), None),
        "signature/attestation"
    ));
    // Every tag published at one instant with the metadata database: an import.
    let mut imported = one_repository(
        tags.into_iter()
            .map(|t| Tag {
                published_at: Some(NOW - 3 * DAY),
                ..t
            })
            .collect(),
    );
    imported.mode = Mode::MetadataDatabase;
    let older = policy(".*", None, None, Some(OlderThan::Days30));
    assert!(warns(&imported, &older, "one batch"));
    assert!(!warns(
        &one_repository(vec![tag("a", Some(1))]),
        &older,
        "one batch"
    ));
}

#[test]
fn deletions_beyond_one_run_get_a_plan_of_runs() {
    let plan = |n: i64, limit: u32, mode: Mode, p: &CleanupPolicy| {
        let tags = (0..n).map(|i| tag(&format!("t{i}"), Some(400))).collect();
        let mut overview = one_repository(tags);
        overview.max_tags_per_run = limit;
        overview.mode = mode;
        preview(&overview, p).expect("valid")[0]
            .warnings
            .iter()
            .find_map(|w| match w.kind {
                Warning::SeveralRuns {
                    tags,
                    per_run,
                    runs,
                    first_run,
                } => Some((tags, per_run, runs, first_run)),
                _ => None,
            })
    };
    let daily = policy(".*", None, None, Some(OlderThan::Days90));
    let legacy = Mode::Legacy;
    assert_eq!(plan(200, 200, legacy, &daily), None, "one run does it");
    // A changed draft starts again one cadence from now when saved.
    assert_eq!(
        plan(201, 200, legacy, &daily),
        Some((201, Some(200), Some(2), Some(NOW + 86_400)))
    );
    let weekly = CleanupPolicy {
        cadence: Cadence::Weekly,
        ..daily.clone()
    };
    assert_eq!(
        plan(1_000, 200, legacy, &weekly),
        Some((1_000, Some(200), Some(5), Some(NOW + 7 * 86_400)))
    );
    // Another instance limit, no limit, a disabled policy.
    assert_eq!(plan(1_000, 500, legacy, &daily).and_then(|p| p.2), Some(2));
    // Without a limit only the time budget is left, as with the metadata database.
    assert_eq!(
        plan(1_000, 0, legacy, &daily),
        Some((1_000, None, None, Some(NOW + 86_400)))
    );
    let off = CleanupPolicy {
        enabled: false,
        ..daily.clone()
    };
    assert_eq!(plan(1_000, 200, legacy, &off).map(|p| p.3), Some(None));
    // With the metadata database only a time budget cuts runs: from 1,000 deletions.
    let db = Mode::MetadataDatabase;
    assert_eq!(plan(999, 200, db, &daily), None);
    assert_eq!(
        plan(1_000, 200, db, &daily),
        Some((1_000, None, None, Some(NOW + 86_400)))
    );
    // The saved policy runs first when GitLab says.
    let tags = (0..450).map(|i| tag(&format!("t{i}"), Some(400))).collect();
    let mut overview = one_repository(tags);
    overview.saved.policy = daily.clone();
    overview.saved.next_run_at = Some("2026-12-03T04:00:00Z".into());
    let warning = preview(&overview, &daily).expect("valid")[0]
        .warnings
        .iter()
        .find(|w| w.kind.code() == "several_runs")
        .cloned()
        .expect("a plan");
    assert!(
        warning
            .message
            .contains("need at least 3 runs, the first due around 2026-12-03"),
        "{}",
        warning.message
    );
}

#[test]
fn preview_protects_by_the_projects_rules_and_the_runner() {
    // The index still says `old` is protected (a rule since deleted) and knows nothing of
    // the new rule on `stable`: the rules in the overview decide.
    let mut stale = tag("old", Some(400));
    stale.protection = Some(crate::tags::TagProtection {
        minimum_access_level_for_push: None,
        minimum_access_level_for_delete: Some(crate::AccessLevel::Maintainer),
    });
    let mut overview = one_repository(vec![stale, tag("stable", Some(400))]);
    overview.repositories[0].cleanup_status = crate::CleanupStatus::Unfinished;
    let p = policy(".*", None, None, Some(OlderThan::Days90));
    let reasons = |overview: &CleanupOverview, actor| -> Vec<Reason> {
        preview_as(overview, &p, actor).expect("valid")[0]
            .decisions
            .iter()
            .map(|d| d.reason)
            .collect()
    };
    // GitLab's last run here was partial: said so.
    assert!(preview(&overview, &p).expect("valid")[0]
        .warnings
        .iter()
        .any(|w| w.kind == Warning::LastCleanupUnfinished));
    assert_eq!(
        reasons(&overview, None),
        [Reason::Protected, Reason::Deleted]
    );
    overview.rules = Some(crate::protection::ProtectionRules {
        repository: Vec::new(),
        tag: vec![crate::protection::TagRule {
            id: 1,
            pattern: "^stable$".into(),
            min_push: Some(crate::AccessLevel::Maintainer),
            min_delete: Some(crate::AccessLevel::Maintainer),
        }],
    });
    assert_eq!(
        reasons(&overview, None),
        [Reason::Deleted, Reason::Protected]
    );
    // A Maintainer's bulk delete may delete what only a Maintainer may delete.
    assert_eq!(
        reasons(&overview, Some(crate::AccessLevel::Maintainer)),
        [Reason::Deleted, Reason::Deleted]
    );
    assert_eq!(
        reasons(&overview, Some(crate::AccessLevel::Developer)),
        [Reason::Deleted, Reason::Protected]
    );
}

#[test]
fn run_now_plans_as_the_runner_and_a_confirmation_holds_only_for_the_same_tags() {
    let rule = crate::protection::ProtectionRules {
        repository: Vec::new(),
        tag: vec![crate::protection::TagRule {
            id: 1,
            pattern: "^stable$".into(),
            min_push: Some(crate::AccessLevel::Maintainer),
            min_delete: Some(crate::AccessLevel::Maintainer),
        }],
    };
    let mut overview = one_repository(vec![
        tag("stable", Some(400)),
        tag("old", Some(400)),
        tag("new", Some(1)),
    ]);
    overview.rules = Some(rule);
    let mut empty = one_repository(vec![tag("fresh", Some(1))]).repositories[0].clone();
    empty.id = 2;
    empty.path = "acme/web/fresh".into();
    overview.repositories.push(empty);
    let p = policy(".*", None, None, Some(OlderThan::Days90));

    // A Maintainer's run deletes the tag the scheduled cleanup skips, and says so; the
    // repository where nothing goes is not planned.
    let plan = plan_run(&overview, &p).expect("runs");
    assert_eq!(plan.len(), 1);
    assert_eq!(plan[0].repository_id(), 1);
    assert_eq!(plan[0].deleted(), 2);
    assert_eq!(plan[0].bytes_freed, 200);
    assert_eq!(plan[0].beyond_schedule, ["stable"]);
    assert!(plan[0].runnable());
    let scheduled = preview(&overview, &p).expect("valid");
    assert_eq!(scheduled[0].summary.deleted, 1);
    assert_eq!(
        plan[0].confirmation,
        RunConfirmation::of(&preview_as(&overview, &p, Some(overview.runner)).unwrap()[0])
    );

    // A Developer's run leaves the protected tag, as GitLab would.
    overview.runner = crate::AccessLevel::Developer;
    let developer = plan_run(&overview, &p).expect("runs");
    assert_eq!(developer[0].deleted(), 1);
    assert!(developer[0].beyond_schedule.is_empty());

    // The Maintainer's confirmation does not hold for what the Developer's run deletes, nor
    // where nothing goes any more; it holds for the same plan.
    let confirmed = plan[0].confirmation.clone();
    assert_eq!(
        confirmed.still_holds(developer.first()),
        Err(RunResult::Changed { now: 1 })
    );
    assert_eq!(confirmed.still_holds(None), Err(RunResult::Nothing));
    assert_eq!(confirmed.still_holds(plan.first()), Ok(()));
    // Same count, other names: still not the confirmed run.
    let mut other = plan[0].clone();
    other.confirmation.fingerprint = "0123456789abcdef".into();
    assert_eq!(
        confirmed.still_holds(Some(&other)),
        Err(RunResult::Changed { now: 2 })
    );

    // A repository still being indexed is planned but not runnable.
    overview.repositories[0].complete = false;
    assert!(!plan_run(&overview, &p).expect("runs")[0].runnable());

    // Without a delete regex GitLab's bulk delete has nothing to run.
    let no_regex = CleanupPolicy {
        name_regex: None,
        ..p
    };
    assert_eq!(
        plan_run(&overview, &no_regex).map_err(|e| e.field),
        Err(PolicyField::NameRegex)
    );
}

#[test]
fn no_delete_regex_deletes_nothing() {
    let p = CleanupPolicy {
        name_regex: None,
        ..policy("", None, None, None)
    };
    assert_eq!(
        reason_of(&p, &[tag("a", Some(999))], "a"),
        Reason::NotMatched
    );
}

#[test]
fn metadata_database_mode_uses_publish_time_and_pages_of_1000() {
    let mut t = tag("t", Some(400));
    t.published_at = Some(NOW - DAY);
    let p = policy(".*", None, None, Some(OlderThan::Days30));
    let compiled = p.compile().expect("valid");
    assert_eq!(
        compiled.evaluate(&[t.clone()], Mode::Legacy, NOW)[0].reason,
        Reason::Deleted
    );
    assert_eq!(
        compiled.evaluate(&[t], Mode::MetadataDatabase, NOW)[0].reason,
        Reason::TooNew
    );
    // keep_n 10 over 2,500 tags: 10 per page of 1,000 names in name order.
    let tags: Vec<Tag> = (0..2_500)
        .map(|i| tag(&format!("t{i:05}"), Some(100 + i)))
        .collect();
    let p = policy(".*", None, Some(10), None);
    let compiled = p.compile().expect("valid");
    let kept = |mode| {
        compiled
            .evaluate(&tags, mode, NOW)
            .iter()
            .filter(|d| d.reason == Reason::KeepN)
            .count()
    };
    assert_eq!(kept(Mode::Legacy), 10);
    assert_eq!(kept(Mode::MetadataDatabase), 30);
}

#[rstest]
#[case("(?=v)x", PolicyField::NameRegex, "RE2")]
#[case("(a)\\1", PolicyField::NameRegex, "RE2")]
#[case("v1.(", PolicyField::NameRegex, "regular expression")]
fn bad_regexes_name_their_field(#[case] re: &str, #[case] field: PolicyField, #[case] says: &str) {
    let error = policy(re, None, None, None)
        .compile()
        .err()
        .expect("refused");
    assert_eq!(error.field, field);
    assert!(error.message.contains(says), "{}", error.message);
    let error = policy(".*", Some(re), None, None)
        .compile()
        .err()
        .expect("refused");
    assert_eq!(error.field, PolicyField::NameRegexKeep);
}

#[test]
fn limits_are_gitlabs() {
    let long = "a".repeat(256);
    let error = policy(&long, None, None, None)
        .compile()
        .err()
        .expect("too long");
    assert!(error.message.contains("255"));
    assert!(policy(&"a".repeat(255), None, None, None).compile().is_ok());
    let error = policy(".*", None, Some(7), None)
        .compile()
        .err()
        .expect("bad keep_n");
    assert_eq!(error.field, PolicyField::KeepN);
}

#[rstest]
#[case("a|b", true)]
#[case("(a|b)", false)]
#[case("[|]", false)]
#[case("a\\|b", false)]
#[case("v.*", false)]
fn alternation_warning(#[case] re: &str, #[case] warn: bool) {
    assert_eq!(alternation_unanchored(re), warn);
}

#[test]
fn drafts_round_trip_through_the_url_and_bad_values_are_noted() {
    let draft = policy(
        "(dev|rc)-.*",
        Some("v.*"),
        Some(25),
        Some(OlderThan::Days14),
    );
    let pairs = crate::query::parse(&draft.to_query());
    let (back, notices) = CleanupPolicy::from_pairs(&pairs, &CleanupPolicy::default());
    assert!(notices.is_empty(), "{notices:?}");
    assert_eq!(back, draft);
    let bad = crate::query::parse("keep_n=7&older_than=1y&cadence=hourly&name_regex_keep=");
    let (back, notices) = CleanupPolicy::from_pairs(&bad, &draft);
    assert_eq!(notices.len(), 3);
    assert_eq!(back.keep_n, Some(25), "a bad value keeps the base");
    assert_eq!(back.name_regex_keep, None, "an empty value clears");
}

#[test]
fn warnings_point_at_gitlabs_anchoring() {
    let w = policy("dev|rc", None, None, None).warnings();
    assert_eq!(w.len(), 1);
    assert!(w[0].to_string().contains("parentheses"));
    assert!(policy("(dev|rc)", None, None, None).warnings().is_empty());
}

#[test]
fn summary_counts_bytes_of_images_nobody_keeps() {
    let mut shared_a = tag("a", Some(400));
    let mut shared_b = tag("b", Some(1));
    shared_a.digest = Some("sha256:same".into());
    shared_b.digest = Some("sha256:same".into());
    let alone = tag("c", Some(400));
    let tags = [shared_a, shared_b, alone];
    let p = policy(".*", None, None, Some(OlderThan::Days30));
    let d = p
        .compile()
        .expect("valid")
        .evaluate(&tags, Mode::Legacy, NOW);
    let s = summarize(&tags, &d);
    assert_eq!((s.deleted, s.kept), (2, 1));
    assert_eq!(s.bytes_freed, 100, "a's image is still used by b");
}

fn arb_tags() -> impl Strategy<Value = Vec<Tag>> {
    proptest::collection::vec(
        (
            "[a-z]{1,3}|latest|v[0-9]",
            proptest::option::of(0i64..200),
            any::<bool>(),
        ),
        0..60,
    )
    .prop_map(|specs| {
        let mut seen = std::collections::HashSet::new();
        specs
            .into_iter()
            .filter(|(n, _, _)| seen.insert(n.clone()))
            .map(|(n, age, protected)| {
                let mut t = tag(&n, age);
                if protected {
                    t.protection = Some(crate::tags::TagProtection {
                        minimum_access_level_for_push: None,
                        minimum_access_level_for_delete: None,
                    });
                }
                t
            })
            .collect()
    })
}

proptest! {
    #[test]
    fn never_deletes_latest_or_keep_regex_matches(
        tags in arb_tags(),
        keep_n in proptest::option::of(proptest::sample::select(KEEP_N_VALUES.to_vec())),
        older in proptest::option::of(proptest::sample::select(OlderThan::ALL.to_vec())),
        metadata in any::<bool>(),
    ) {
        let p = policy(".*", Some("v[0-9]"), keep_n, older);
        let mode = if metadata { Mode::MetadataDatabase } else { Mode::Legacy };
        let decisions = p.compile().expect("valid").evaluate(&tags, mode, NOW);
        for (t, d) in tags.iter().zip(&decisions) {
            prop_assert_eq!(&t.name, &d.name);
            let keep_match = t.name.len() == 2
                && t.name.starts_with('v')
                && t.name.as_bytes()[1].is_ascii_digit();
            if t.name == "latest" || keep_match || t.is_protected() {
                prop_assert!(!d.reason.deletes(), "{} was deleted", t.name);
            }
        }
        // keep_n = n keeps at least min(n, candidates) candidates.
        if let Some(n) = keep_n {
            let candidates = decisions
                .iter()
                .filter(|d| {
                    !matches!(
                        d.reason,
                        Reason::Latest | Reason::KeepRegex | Reason::NotMatched
                    )
                })
                .count();
            let kept = decisions.iter().filter(|d| d.reason == Reason::KeepN).count();
            prop_assert!(kept >= (n as usize).min(candidates));
        }
    }
}

#[test]
fn a_draft_deleting_tags_in_use_is_warned_about_and_the_suggested_keep_regex_keeps_them() {
    use crate::usage::{MatchedBy, Reason as Why, RepositoryUsage, TagUsage, UsageState, Verdict};
    let tags: Vec<Tag> = ["v1.0.0", "v1.1.0", "nightly", "v1.10.0"]
        .iter()
        .map(|n| tag(n, Some(100)))
        .collect();
    let mut overview = one_repository(tags);
    let deployed = TagUsage {
        verdict: Verdict::InUse,
        reasons: vec![Why::Deployed {
            environment: "production".into(),
            sha: "3f2a9c1d".repeat(5),
            reference: "v1.10.0".into(),
            finished_at: Some(NOW - 3_600),
            by: MatchedBy::Name,
        }],
    };
    let release = |name: &str| TagUsage {
        verdict: Verdict::InUse,
        reasons: vec![Why::Release {
            git_tag: name.into(),
            sha: "0badc0de".repeat(5),
            by: MatchedBy::Name,
        }],
    };
    overview.repositories[0].usage = UsageState::Known {
        usage: RepositoryUsage {
            tags: [
                ("v1.10.0".to_string(), deployed),
                ("v1.0.0".to_string(), release("v1.0.0")),
            ]
            .into_iter()
            .collect(),
            in_use: 2,
            unknown: 2,
            ..RepositoryUsage::default()
        },
    };
    let draft = policy(".*", Some("nothing-[0-9]+"), None, None);
    let previews = preview(&overview, &draft).expect("valid");
    let warning = previews[0]
        .warnings
        .iter()
        .find(|n| n.kind.code() == "deletes_in_use")
        .expect("warned");
    assert_eq!(
        warning.message,
        "This policy would delete 2 tags that GitLab says are in use (running in environment \
         production): v1.10.0, v1.0.0."
    );
    let suggestion = keep_suggestion(&overview, &draft, &previews).expect("a suggestion");
    assert_eq!(suggestion.tags, 2);
    let keep = suggestion.name_regex_keep.expect("short enough");
    assert_eq!(keep, r"(?:nothing-[0-9]+|v1\.0\.0|v1\.10\.0)");
    // Applied, it keeps exactly those and nothing else changes.
    let kept = CleanupPolicy {
        name_regex_keep: Some(keep),
        ..draft.clone()
    };
    let after = preview(&overview, &kept).expect("valid");
    assert!(after[0]
        .warnings
        .iter()
        .all(|n| n.kind.code() != "deletes_in_use"));
    assert!(keep_suggestion(&overview, &kept, &after).is_none());
    let reason = |p: &[RepositoryPreview], name: &str| {
        let i = overview.repositories[0]
            .tags
            .iter()
            .position(|t| t.name == name)
            .expect("a tag");
        p[0].decisions[i].reason
    };
    assert_eq!(reason(&after, "v1.0.0"), Reason::KeepRegex);
    assert_eq!(reason(&after, "v1.1.0"), Reason::Deleted);
    assert_eq!(reason(&after, "nightly"), Reason::Deleted);

    // A keep regex with a top-level `|` (GitLab: starts with `nothing-` or ends with
    // `ly`) keeps what it kept, and the names besides.
    let alternation = policy(".*", Some("nothing-|ly"), None, None);
    let previews = preview(&overview, &alternation).expect("valid");
    let keep = keep_suggestion(&overview, &alternation, &previews)
        .and_then(|s| s.name_regex_keep)
        .expect("a suggestion");
    assert_eq!(keep, r"nothing-|ly\z|\A(?:v1\.0\.0|v1\.10\.0)");
    let kept = CleanupPolicy {
        name_regex_keep: Some(keep),
        ..alternation.clone()
    };
    let after = preview(&overview, &kept).expect("valid");
    for name in ["v1.0.0", "v1.10.0", "nightly"] {
        assert_eq!(reason(&after, name), Reason::KeepRegex, "{name}");
    }
    assert_eq!(reason(&after, "v1.1.0"), Reason::Deleted);

    // Without verdicts there is nothing to warn about; too many names do not fit GitLab's
    // 255 characters.
    overview.repositories[0].usage = UsageState::Reading;
    let previews = preview(&overview, &draft).expect("valid");
    assert!(keep_suggestion(&overview, &draft, &previews).is_none());
    assert!(
        previews[0]
            .warnings
            .iter()
            .any(|n| n.kind.code() == "in_use_unchecked"),
        "the preview says it could not check"
    );
    let long = policy(".*", Some(&"k".repeat(250)), None, None);
    overview.repositories[0].usage = UsageState::Known {
        usage: RepositoryUsage {
            tags: [("v1.0.0".to_string(), release("v1.0.0"))]
                .into_iter()
                .collect(),
            ..RepositoryUsage::default()
        },
    };
    let previews = preview(&overview, &long).expect("valid");
    let suggestion = keep_suggestion(&overview, &long, &previews).expect("in use");
    assert_eq!((suggestion.tags, suggestion.name_regex_keep), (1, None));
}
