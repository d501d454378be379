use super::*;
use crate::cleanup::{Cadence, OlderThan};
use proptest::prelude::*;

fn view(raw: &str) -> (GroupPoliciesView, Vec<Notice>) {
    GroupPoliciesView::from_pairs(&query::parse(raw))
}

fn policy(enabled: bool, keep_n: Option<u32>, name_regex: &str) -> CleanupPolicy {
    CleanupPolicy {
        enabled,
        cadence: Cadence::Daily,
        keep_n,
        older_than: Some(OlderThan::Days90),
        name_regex: Some(name_regex.into()),
        name_regex_keep: None,
    }
}

fn project(path: &str, tags: u64, facts: PolicyFacts) -> ProjectPolicy {
    ProjectPolicy {
        id: tags,
        name: path.rsplit('/').next().unwrap_or(path).into(),
        full_path: path.into(),
        web_url: format!("https://gitlab.example/{path}"),
        access: Some(AccessLevel::Maintainer),
        policy: facts,
        repositories: u32::from(tags > 0),
        repositories_read: u32::from(tags > 0),
        tags,
        size: None,
        protection_rules: Some(0),
        cleanups: LastCleanups::default(),
    }
}

fn whole(policy: CleanupPolicy, next_run_at: Option<&str>) -> PolicyFacts {
    PolicyFacts::Whole(SavedPolicy {
        policy,
        next_run_at: next_run_at.map(Into::into),
        notes: Vec::new(),
    })
}

pub(super) fn group() -> GroupDetails {
    GroupDetails {
        id: 10,
        name: "ACME".into(),
        full_path: "acme".into(),
        description: None,
        visibility: "private".into(),
        web_url: "https://gitlab.example/acme".into(),
    }
}

#[test]
fn the_view_round_trips_with_its_standard() {
    let raw = "q=web&policy=off&drift=1&sort=drift&std_enabled=1&std_cadence=7d&std_keep_n=5\
        &std_older_than=30d&std_name_regex=.*&std_name_regex_keep=v%5Cd%2B";
    let (parsed, notices) = view(raw);
    assert!(notices.is_empty(), "{notices:?}");
    assert_eq!(parsed.search, "web");
    assert_eq!(parsed.enabled, Some(false));
    assert!(parsed.drifting);
    assert_eq!(parsed.sort, PoliciesSort::Drift);
    let standard = parsed.standard.clone().expect("standard");
    assert_eq!(standard.cadence, Cadence::Weekly);
    assert_eq!(standard.keep_n, Some(5));
    assert_eq!(standard.name_regex_keep.as_deref(), Some(r"v\d+"));
    let (again, notices) = view(&parsed.to_query());
    assert!(notices.is_empty());
    assert_eq!(again, parsed);
    assert_eq!(GroupPoliciesView::default().to_query(), "");
}

#[test]
fn an_unusable_standard_is_dropped_and_said() {
    let (parsed, notices) = view("std_keep_n=3&drift=1");
    assert_eq!(parsed.standard, None);
    assert!(!parsed.drifting, "no standard, no drift filter");
    assert!(matches!(notices[0].kind, UrlNote::UnusableStandard { .. }));
    assert_eq!(notices[1].kind, UrlNote::DriftWithoutStandard);
    let (parsed, notices) = view("std_name_regex=(%3F%3Dlook)");
    assert_eq!(parsed.standard, None);
    assert!(notices[0]
        .message
        .starts_with("The standard policy was ignored"));
    let (_, notices) = view("policy=maybe&sort=nope");
    assert_eq!(notices.len(), 2);
    assert!(crate::view::parse_strict("policy=maybe", GroupPoliciesView::from_pairs).is_err());
}

#[test]
fn drift_names_every_differing_field_and_unknown_below_maintainer() {
    let standard = policy(true, Some(10), ".*");
    assert_eq!(
        drift(&standard, &whole(standard.clone(), None)),
        Drift::Same
    );
    let other = CleanupPolicy {
        enabled: false,
        cadence: Cadence::Weekly,
        name_regex_keep: Some("stable".into()),
        ..standard.clone()
    };
    assert_eq!(
        drift(&standard, &whole(other, None)),
        Drift::Differs {
            fields: vec![
                DriftField::Enabled,
                DriftField::Cadence,
                DriftField::NameRegexKeep
            ]
        }
    );
    let summary = PolicyFacts::Summary {
        enabled: true,
        next_run_at: None,
    };
    assert_eq!(drift(&standard, &summary), Drift::Unknown);
    // An empty regex is no regex.
    let empty_keep = CleanupPolicy {
        name_regex_keep: Some(String::new()),
        ..standard.clone()
    };
    assert_eq!(drift(&standard, &whole(empty_keep, None)), Drift::Same);
}

#[test]
fn the_page_filters_sorts_and_counts_before_filtering() {
    let standard = policy(true, Some(10), ".*");
    let projects = vec![
        project(
            "acme/web",
            73,
            whole(standard.clone(), Some("2026-12-03T00:00:00Z")),
        ),
        project(
            "acme/platform/api",
            10_000,
            whole(policy(false, Some(10), ".*"), None),
        ),
        project(
            "acme/platform/tools",
            0,
            whole(CleanupPolicy::default(), None),
        ),
        project(
            "acme/docs",
            5,
            PolicyFacts::Summary {
                enabled: true,
                next_run_at: Some("2026-12-02T12:00:00Z".into()),
            },
        ),
    ];
    let (v, _) = view(&format!("drift=1&sort=drift&{}", prefixed(&standard)));
    let page = GroupPolicies::new(Some(group()), projects.clone(), &v, None, 0);
    let paths: Vec<&str> = page
        .rows
        .iter()
        .map(|r| r.project.full_path.as_str())
        .collect();
    // api and tools differ in on/off only (ties go by path), docs is unknown, web is the
    // standard and filtered out.
    assert_eq!(
        paths,
        ["acme/platform/api", "acme/platform/tools", "acme/docs"]
    );
    assert_eq!(page.summary.projects, 4);
    assert_eq!(page.summary.enabled, 2);
    assert_eq!(page.summary.with_images, 3);
    assert_eq!(page.summary.drifting, 3);
    assert_eq!(page.summary.unknown, 1);
    assert_eq!(
        page.summary_line(),
        "4 projects · 3 with images · 2 with the policy on · 2 differ from the standard · \
         1 unknown"
    );

    let (v, _) = view("sort=next_run");
    let page = GroupPolicies::new(Some(group()), projects.clone(), &v, None, 0);
    let paths: Vec<&str> = page
        .rows
        .iter()
        .map(|r| r.project.full_path.as_str())
        .collect();
    assert_eq!(
        paths,
        [
            "acme/docs",
            "acme/web",
            "acme/platform/api",
            "acme/platform/tools"
        ]
    );
    assert!(page.rows.iter().all(|r| r.drift.is_none()));

    let (v, _) = view("sort=tags&policy=on&q=A");
    let page = GroupPolicies::new(Some(group()), projects, &v, None, 0);
    let paths: Vec<&str> = page
        .rows
        .iter()
        .map(|r| r.project.full_path.as_str())
        .collect();
    assert_eq!(paths, ["acme/web", "acme/docs"]);
}

pub(super) fn prefixed(standard: &CleanupPolicy) -> String {
    GroupPoliciesView {
        standard: Some(standard.clone()),
        ..GroupPoliciesView::default()
    }
    .to_query()
}

#[test]
fn csv_quotes_and_defuses_formulas() {
    let mut odd = policy(true, None, "=1+1,\"x\"");
    odd.name_regex_keep = Some("-keep".into());
    let projects = vec![project("acme/web", 3, whole(odd, None))];
    let (v, _) = view(&prefixed(&policy(true, None, ".*")));
    let csv = GroupPolicies::new(Some(group()), projects, &v, None, 0).to_csv();
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert!(lines[0].starts_with("project,access,enabled,cadence"));
    assert_eq!(
        lines[1],
        "acme/web,maintainer,true,1d,,90d,\"'=1+1,\"\"x\"\"\",'-keep,,1,3,,0,0,0,0,,0,\
         name_regex name_regex_keep"
    );
    assert_eq!(lines[2], "");
}

#[test]
fn short_says_the_policy_in_words() {
    let mut p = policy(true, Some(10), ".*");
    p.name_regex_keep = Some(r"v\d+".into());
    assert_eq!(
        short(&p),
        r"Every day · keep 10 · older than 90 days · delete .* · except v\d+"
    );
    p.name_regex = None;
    assert!(short(&p).contains("deletes nothing"));
}

#[test]
fn a_policy_read_with_notes_or_not_shown_has_an_unknown_drift() {
    let standard = policy(true, Some(10), ".*");
    let mut saved = SavedPolicy {
        policy: standard.clone(),
        next_run_at: None,
        notes: Vec::new(),
    };
    saved.notes.push(
        crate::cleanup::PolicyNote::UnknownOlderThan {
            older_than: "45d".into(),
        }
        .into(),
    );
    assert_eq!(drift(&standard, &PolicyFacts::Whole(saved)), Drift::Unknown);
    assert_eq!(drift(&standard, &PolicyFacts::Hidden), Drift::Unknown);
    assert_eq!(PolicyFacts::Hidden.enabled(), None);
    // Not shown is neither on nor off.
    let projects = vec![project("acme/web", 1, PolicyFacts::Hidden)];
    let (v, _) = view("policy=off");
    assert!(GroupPolicies::new(Some(group()), projects, &v, None, 0)
        .rows
        .is_empty());
    // A regex compares as written: a trailing space is another regex.
    let spaced = CleanupPolicy {
        name_regex: Some(".* ".into()),
        ..standard.clone()
    };
    assert_eq!(
        drift(&standard, &whole(spaced, None)),
        Drift::Differs {
            fields: vec![DriftField::NameRegex]
        }
    );
}

pub(super) fn make(
    (enabled, cadence, keep, older, regex, keep_regex): (
        bool,
        usize,
        Option<usize>,
        Option<usize>,
        String,
        String,
    ),
) -> CleanupPolicy {
    CleanupPolicy {
        enabled,
        cadence: Cadence::ALL[cadence],
        keep_n: keep.map(|k| crate::cleanup::KEEP_N_VALUES[k]),
        older_than: older.map(|o| OlderThan::ALL[o]),
        name_regex: (!regex.is_empty()).then_some(regex),
        name_regex_keep: (!keep_regex.is_empty()).then_some(keep_regex),
    }
}

proptest! {
    /// Drift is empty exactly when the policies agree on every field GitLab applies.
    #[test]
    fn drift_is_same_only_for_equal_policies(
        a in (any::<bool>(), 0usize..5, proptest::option::of(0usize..6),
            proptest::option::of(0usize..5), "[a-c.*]{0,3}", "[ab]{0,2}"),
        b in (any::<bool>(), 0usize..5, proptest::option::of(0usize..6),
            proptest::option::of(0usize..5), "[a-c.*]{0,3}", "[ab]{0,2}"),
    ) {
        let (a, b) = (make(a), make(b));
        let d = drift(&a, &whole(b.clone(), None));
        prop_assert_eq!(d == Drift::Same, a == b);
        if let Drift::Differs { fields } = d {
            prop_assert!(!fields.is_empty());
        }
    }

    /// Whatever a URL holds, the view the page makes of it travels to the server as data:
    /// its canonical query parses strictly to the same view.
    #[test]
    fn every_lenient_view_passes_the_strict_parse(
        search in "[a-z/ ]{0,20}",
        policy in "(on|off|maybe|)",
        drift_on in any::<bool>(),
        sort in "(path|tags|size|next_run|drift|nope)",
        standard in proptest::option::of((any::<bool>(), 0usize..5,
            proptest::option::of(0usize..6), proptest::option::of(0usize..5),
            "[a-c.*(]{0,4}", "[ab|]{0,3}")),
    ) {
        let mut raw = format!(
            "q={}&policy={policy}&sort={sort}{}",
            query::encode_value(&search),
            if drift_on { "&drift=1" } else { "" }
        );
        if let Some(standard) = standard {
            raw.push('&');
            raw.push_str(prefixed(&make(standard)).trim_start_matches('?'));
        }
        let (lenient, _) = view(&raw);
        let strict = crate::view::parse_strict(&lenient.to_query(), GroupPoliciesView::from_pairs);
        prop_assert_eq!(strict, Ok(lenient));
    }
}
