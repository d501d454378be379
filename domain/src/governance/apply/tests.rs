use super::*;
use crate::cleanup::{Cadence, OlderThan, PolicyNote};
use crate::governance::tests::{group, make, prefixed};
use proptest::prelude::*;

fn view(raw: &str) -> (ApplyView, Vec<Notice>) {
    ApplyView::from_pairs(&query::parse(raw))
}

fn standard() -> CleanupPolicy {
    CleanupPolicy {
        enabled: true,
        cadence: Cadence::Weekly,
        keep_n: Some(5),
        older_than: Some(OlderThan::Days30),
        name_regex: Some(".*".into()),
        name_regex_keep: None,
    }
}

fn saved(policy: CleanupPolicy) -> SavedPolicy {
    SavedPolicy {
        policy,
        next_run_at: None,
        notes: Vec::new(),
    }
}

fn deletes(tags: u64, bytes: u64) -> Deletes {
    Deletes {
        tags,
        bytes,
        tags_complete: true,
        bytes_complete: true,
    }
}

#[test]
fn the_view_keeps_the_standard_and_each_project_once_in_the_order_chosen() {
    let (parsed, notices) = view(&format!(
        "{}&project=1003&project=1001&project=1003&q=web&sort=drift",
        prefixed(&standard()).trim_start_matches('?')
    ));
    assert_eq!(notices, vec![]);
    assert_eq!(parsed.standard, Some(standard()));
    assert_eq!(parsed.projects, [1003, 1001]);
    assert_eq!(
        parsed.to_query(),
        "?std_enabled=1&std_cadence=7d&std_keep_n=5&std_older_than=30d&std_name_regex=.%2A\
         &std_name_regex_keep=&project=1003&project=1001"
    );
    assert_eq!(view(&parsed.to_query()), (parsed.clone(), vec![]));
    // The way back: the group page with the same standard and nothing else.
    assert_eq!(
        parsed.group_view().to_query(),
        "?std_enabled=1&std_cadence=7d&std_keep_n=5&std_older_than=30d&std_name_regex=.%2A\
         &std_name_regex_keep="
    );
}

#[test]
fn ids_that_are_not_ids_and_ids_past_the_bound_are_dropped_and_said() {
    let mut raw = String::from("project=abc&project=0&project=-4");
    for id in 1..=MAX_APPLY_PROJECTS as u64 + 3 {
        raw.push_str(&format!("&project={id}"));
    }
    let (parsed, notices) = view(&raw);
    assert_eq!(parsed.projects.len(), MAX_APPLY_PROJECTS);
    assert_eq!(parsed.projects[0], 1);
    let codes: Vec<String> = notices
        .iter()
        .map(|n| {
            serde_json::to_value(n).unwrap()["code"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        codes,
        [
            "not_a_project",
            "not_a_project",
            "not_a_project",
            "too_many_projects"
        ]
    );
    assert!(notices[3].message.contains("at most 20 projects"));
    // The server function's strict parse refuses what the page would only note.
    assert!(crate::view::parse_strict("project=abc", ApplyView::from_pairs).is_err());
}

#[test]
fn a_view_applies_only_with_a_standard_and_a_project() {
    let none = ApplyView::default();
    assert!(none.applicable().unwrap_err().0.contains("No standard"));
    let no_projects = ApplyView {
        standard: Some(standard()),
        projects: Vec::new(),
    };
    assert!(no_projects
        .applicable()
        .unwrap_err()
        .0
        .contains("No project"));
    let (unusable, notices) = view("std_keep_n=7&project=1");
    assert_eq!(unusable.standard, None);
    assert_eq!(notices.len(), 1);
    let good = ApplyView {
        standard: Some(standard()),
        projects: vec![1],
    };
    assert_eq!(good.applicable(), Ok(&standard()));
}

#[test]
fn the_confirmation_is_the_groups_path_exactly() {
    assert_eq!(
        check_confirmation("acme/platform", " acme/platform "),
        Ok(())
    );
    for typed in ["acme", "ACME/platform", "", "acme/platform/"] {
        let error = check_confirmation("acme/platform", typed).unwrap_err();
        assert!(error.0.contains("acme/platform"), "{typed}: {error}");
    }
}

#[test]
fn a_comparison_names_what_saving_changes_and_a_policy_read_with_notes_always_changes() {
    let own = CleanupPolicy {
        keep_n: Some(10),
        ..standard()
    };
    let c = Comparison::new(&standard(), saved(own), deletes(3, 10), deletes(7, 90));
    assert_eq!(
        c.drift,
        Drift::Differs {
            fields: vec![crate::governance::DriftField::KeepN]
        }
    );
    assert!(c.changes());
    let same = Comparison::new(
        &standard(),
        saved(standard()),
        deletes(7, 90),
        deletes(7, 90),
    );
    assert!(!same.changes());
    // A project that never saved a policy reads as GitLab's defaults with a note: saving
    // the standard writes one even where the fields look the same.
    let mut never = saved(standard());
    never.notes.push(PolicyNote::NoPolicyYet.into());
    assert!(Comparison::new(&standard(), never, deletes(0, 0), deletes(0, 0)).changes());
}

#[test]
fn the_review_counts_what_changes_what_has_it_and_what_is_left_out() {
    let eligible = |id: u64, own: CleanupPolicy| ApplyProject {
        id,
        full_path: format!("acme/p{id}"),
        web_url: String::new(),
        access: Some(AccessLevel::Maintainer),
        candidate: Candidate::Eligible(Comparison::new(
            &standard(),
            saved(own),
            deletes(1, 1),
            deletes(2, 2),
        )),
    };
    let review = ApplyReview {
        group: group(),
        standard: standard(),
        projects: vec![
            eligible(1, CleanupPolicy::default()),
            eligible(2, standard()),
            ApplyProject::excluded(
                3,
                "acme/web".into(),
                Exclusion::NeedsMaintainer {
                    access: AccessLevel::Developer,
                },
            ),
            ApplyProject::excluded(4, String::new(), Exclusion::NotFound),
        ],
        now: 0,
    };
    assert_eq!(review.changing(), 1);
    assert_eq!(
        review.summary_line(),
        "Saving the standard changes 1 of 4 projects · 1 already has it · 2 are left out"
    );
    assert_eq!(review.projects[2].access, Some(AccessLevel::Developer));
    let Candidate::Excluded { message, .. } = &review.projects[2].candidate else {
        panic!("excluded");
    };
    assert_eq!(
        message,
        "Saving a cleanup policy needs the Maintainer role; yours is Developer."
    );
    assert_eq!(review.projects[3].label(), "project 4");
    // What the apply does not send still has its line in the report.
    let unsent: Vec<&str> = review
        .projects
        .iter()
        .skip(1)
        .map(|p| p.unsent().result.label())
        .collect();
    assert_eq!(unsent, ["Unchanged", "Not applied", "Not applied"]);
}

#[test]
fn deletions_say_when_they_are_lower_bounds() {
    assert_eq!(deletes(12, 3 << 20).describe(), "12 tags · 3.0 MiB");
    let partial = Deletes {
        tags_complete: false,
        bytes_complete: false,
        ..deletes(1, 0)
    };
    assert_eq!(partial.describe(), "at least 1 tag · size not read yet");
    let some = Deletes {
        bytes: 2048,
        ..partial
    };
    assert_eq!(some.describe(), "at least 1 tag · at least 2.0 KiB");
}

#[test]
fn outcomes_travel_as_codes_with_their_message() {
    let outcome = ApplyOutcome {
        id: 1003,
        full_path: "acme/platform/tools".into(),
        result: ApplyResult::Excluded {
            message: "no".into(),
            reason: Exclusion::NeedsMaintainer {
                access: AccessLevel::Developer,
            },
        },
    };
    let json = serde_json::to_value(&outcome).unwrap();
    assert_eq!(json["result"], "excluded");
    assert_eq!(json["reason"]["code"], "needs_maintainer");
    let back: ApplyOutcome = serde_json::from_value(json).unwrap();
    assert_eq!(back, outcome);
    assert_eq!(ApplyResult::Unchanged.label(), "Unchanged");
}

proptest! {
    /// Whatever a URL holds, the review's view travels to the server as data: its canonical
    /// query parses strictly to the same view, within the bound.
    #[test]
    fn every_lenient_view_passes_the_strict_parse(
        ids in proptest::collection::vec("([0-9]{1,6}|x|-1|)", 0..30),
        standard in proptest::option::of((any::<bool>(), 0usize..5,
            proptest::option::of(0usize..6), proptest::option::of(0usize..5),
            "[a-c.*(]{0,4}", "[ab|]{0,3}")),
    ) {
        let mut raw: Vec<String> = ids.iter().map(|id| format!("project={id}")).collect();
        if let Some(standard) = standard {
            raw.push(prefixed(&make(standard)).trim_start_matches('?').to_string());
        }
        let (lenient, _) = view(&raw.join("&"));
        prop_assert!(lenient.projects.len() <= MAX_APPLY_PROJECTS);
        let strict = crate::view::parse_strict(&lenient.to_query(), ApplyView::from_pairs);
        prop_assert_eq!(strict, Ok(lenient));
    }
}
