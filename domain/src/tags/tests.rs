use super::model::SIGNATURE_TYPES;
use super::*;
use crate::notice::Notice;
use crate::query;
use crate::usage::UsageFilter;
use proptest::prelude::*;
use rstest::rstest;
use std::cmp::Ordering;

fn tag(name: &str, ts: Option<i64>, size: Option<u64>) -> Tag {
    Tag {
        name: name.into(),
        digest: Some(format!("sha256:{:064x}", name.len())),
        revision: None,
        created_at: ts,
        published_at: None,
        total_size: size,
        media_type: Some("application/vnd.oci.image.manifest.v1+json".into()),
        referrers: vec![],
        protection: None,
    }
}

fn pairs(q: &str) -> Vec<(String, String)> {
    query::parse(q)
}

#[rstest]
#[case("v1.9", "v1.10", Ordering::Less)]
#[case("v1.10", "v1.9", Ordering::Greater)]
#[case("v2", "v10", Ordering::Less)]
#[case("a", "b", Ordering::Less)]
#[case("v01", "v1", Ordering::Less)]
#[case("v1", "v1", Ordering::Equal)]
#[case("v1", "v1a", Ordering::Less)]
#[case("1.2.3-rc1", "1.2.3-rc10", Ordering::Less)]
#[case("latest", "v1", Ordering::Less)]
#[case("99999999999999999999999", "100000000000000000000000", Ordering::Less)]
fn natural_order(#[case] a: &str, #[case] b: &str, #[case] expected: Ordering) {
    assert_eq!(natural_cmp(a, b), expected);
}

proptest! {
    #[test]
    fn natural_order_is_a_total_order(
        a in "[a-c0-9.]{0,8}",
        b in "[a-c0-9.]{0,8}",
        c in "[a-c0-9.]{0,8}",
    ) {
        prop_assert_eq!(natural_cmp(&a, &b), natural_cmp(&b, &a).reverse());
        prop_assert_eq!(natural_cmp(&a, &b) == Ordering::Equal, a == b);
        if natural_cmp(&a, &b) != Ordering::Greater && natural_cmp(&b, &c) != Ordering::Greater {
            prop_assert_ne!(natural_cmp(&a, &c), Ordering::Greater);
        }
    }

    #[test]
    fn another_page_size_keeps_the_first_row_in_sight(
        page in 1u32..=crate::view::MAX_PAGE, from in 0usize..3, to in 0usize..3,
        name in "[a-z0-9]{0,4}",
    ) {
        let view = TagListView { name, page, per_page: PAGE_SIZES[from], ..TagListView::default() };
        let resized = view.with_per_page(PAGE_SIZES[to]);
        prop_assert_eq!(resized.per_page, PAGE_SIZES[to]);
        prop_assert_eq!(&resized.name, &view.name);
        prop_assert!((1..=crate::view::MAX_PAGE).contains(&resized.page));
        let first_row = u64::from(page - 1) * u64::from(view.per_page);
        let (start, size) = (u64::from(resized.page - 1) * u64::from(resized.per_page),
            u64::from(resized.per_page));
        if first_row < u64::from(crate::view::MAX_PAGE) * size {
            // On its new page,
            prop_assert!(start <= first_row && first_row < start + size);
        } else {
            // unless that page would lie past the last one a URL may name.
            prop_assert_eq!(resized.page, crate::view::MAX_PAGE);
        }
        // Back to the first size is the same page when the rows line up.
        if PAGE_SIZES[from].is_multiple_of(PAGE_SIZES[to]) && resized.page < crate::view::MAX_PAGE {
            prop_assert_eq!(resized.with_per_page(PAGE_SIZES[from]).page, page);
        }
    }

    #[test]
    fn view_round_trips_through_the_url(
        name in "[a-z0-9.^$]{0,10}", regex: bool, sort in 0usize..6, page in 1u32..50,
        per in 0usize..3, older in proptest::option::of(1i64..400),
        kinds in proptest::collection::vec(0usize..4, 0..4), usage in 0usize..3,
    ) {
        let mut view = TagListView {
            name, regex, sort: TagSort::ALL[sort], page, per_page: PAGE_SIZES[per],
            older_than: older.map(|d| Age { text: format!("{d}d"), seconds: d * 86_400 }),
            usage: [None, Some(UsageFilter::InUse), Some(UsageFilter::Stale)][usage],
            ..TagListView::default()
        };
        for k in kinds {
            if !view.kinds.contains(&TagKind::ALL[k]) { view.kinds.push(TagKind::ALL[k]); }
        }
        view.kinds.sort_by_key(|k| TagKind::ALL.iter().position(|x| x == k));
        let (back, notices) = TagListView::from_pairs(&pairs(&view.to_query()));
        prop_assert!(notices.is_empty(), "{:?}", notices);
        prop_assert_eq!(back, view);
    }

    #[test]
    fn select_returns_the_page_of_a_full_sort(
        sizes in proptest::collection::vec(proptest::option::of(0u64..50), 0..60),
        sort in 0usize..6, page in 1u32..6,
    ) {
        let tags: Vec<Tag> = sizes.iter().enumerate()
            .map(|(i, s)| tag(&format!("t{i}"), s.map(|v| v as i64 * 10), *s)).collect();
        let view = TagListView {
            sort: TagSort::ALL[sort],
            page,
            per_page: 20,
            ..TagListView::default()
        };
        let filter = view.filter(0).expect("no filter");
        let slice = select(tags.iter(), &view, &filter);
        let mut all: Vec<&Tag> = tags.iter().collect();
        all.sort_by(|a, b| view.sort.compare(a, b));
        let start = (slice.page as usize - 1) * 20;
        let expected: Vec<String> = all
            .iter()
            .skip(start)
            .take(20)
            .map(|t| t.name.clone())
            .collect();
        let got: Vec<String> = slice.tags.iter().map(|t| t.name.clone()).collect();
        prop_assert_eq!(got, expected);
        prop_assert_eq!(slice.matched as usize, tags.len());
    }
}

#[test]
fn page_sizes_switch_between_the_offered_sizes_only() {
    let view = TagListView {
        page: 3,
        per_page: 50,
        ..TagListView::default()
    };
    // Rows 101-150 are on page 6 of 20 and page 2 of 100.
    assert_eq!(view.with_per_page(20).page, 6);
    assert_eq!(view.with_per_page(100).page, 2);
    assert_eq!(view.with_per_page(7), view);
    assert_eq!(TagListView::default().per_page, 20);
    assert_eq!(
        TagListView::default().with_per_page(50).to_query(),
        "?per_page=50"
    );
}

#[test]
fn default_view_has_an_empty_query() {
    assert_eq!(TagListView::default().to_query(), "");
    let (view, notices) = TagListView::from_pairs(&[]);
    assert_eq!(view, TagListView::default());
    assert!(notices.is_empty());
}

#[test]
fn bad_values_become_notices_and_the_rest_applies() {
    let (view, notices) = TagListView::from_pairs(&pairs(
        "q=v1&older=soon&min=lots&kind=shiny&sort=random&page=0&per_page=7&newer=2w",
    ));
    assert_eq!(view.name, "v1");
    assert_eq!(view.newer_than.map(|a| a.seconds), Some(14 * 86_400));
    assert_eq!(view.older_than, None);
    assert_eq!(view.sort, TagSort::default());
    assert_eq!(view.page, 1);
    assert_eq!(view.per_page, DEFAULT_PAGE_SIZE);
    let codes: Vec<serde_json::Value> = notices
        .iter()
        .map(|n| serde_json::to_value(n).expect("serialises"))
        .collect();
    assert_eq!(
        codes,
        [
            serde_json::json!({"code": "not_an_age", "param": "older", "value": "soon",
                "message": "“soon” is not an age such as 12h, 7d, 2w, 3month or 1y."}),
            serde_json::json!({"code": "not_a_size", "param": "min", "value": "lots",
                "message": "“lots” is not a size such as 200MB, 1.5GiB or 800k."}),
            serde_json::json!({"code": "unknown_tag_kind", "value": "shiny",
                "message": "Unknown tag kind “shiny” was ignored."}),
            serde_json::json!({"code": "unknown_sort", "value": "random",
                "instead": "Newest first",
                "message": "Unknown sort “random”; sorted “Newest first” instead."}),
            serde_json::json!({"code": "not_a_page", "value": "0",
                "message": "“0” is not a page number; showing the first page."}),
            serde_json::json!({"code": "not_a_page_size", "value": "7", "sizes": [20, 50, 100],
                "instead": 20, "message": "Pages hold 20, 50 or 100 tags, not “7”; showing 20."}),
        ]
    );
    for notice in &notices {
        let json = serde_json::to_value(notice).expect("serialises");
        let back: crate::view::Notice = serde_json::from_value(json).expect("reads back");
        assert_eq!(&back, notice);
    }
}

#[test]
fn inverted_size_range_is_dropped_with_a_notice() {
    let (view, notices) = TagListView::from_pairs(&pairs("min=1GB&max=1MB"));
    assert_eq!((view.min_size, view.max_size), (None, None));
    assert_eq!(
        notices,
        [crate::view::Notice::from(
            crate::view::UrlNote::InvertedSizeRange {
                min: "1GB".into(),
                max: "1MB".into()
            }
        )]
    );
    assert_eq!(
        notices[0].message,
        "The smallest size (1GB) is above the largest (1MB); the size filter was ignored."
    );
}

#[rstest]
#[case("7d", 7 * 86_400)]
#[case("12h", 12 * 3_600)]
#[case("2w", 14 * 86_400)]
#[case("3month", 90 * 86_400)]
#[case("1y", 365 * 86_400)]
#[case("30", 30 * 86_400)]
fn ages(#[case] raw: &str, #[case] seconds: i64) {
    assert_eq!(Age::parse(raw).map(|a| a.seconds), Some(seconds));
}

#[rstest]
#[case("200MB", 200_000_000)]
#[case("1.5GiB", 1_610_612_736)]
#[case("800k", 800_000)]
#[case("42", 42)]
fn sizes(#[case] raw: &str, #[case] bytes: u64) {
    assert_eq!(SizeBound::parse(raw).map(|s| s.bytes), Some(bytes));
}

#[rstest]
#[case("0d")]
#[case("d")]
#[case("7 parsecs")]
#[case("-1d")]
fn bad_ages(#[case] raw: &str) {
    assert!(Age::parse(raw).is_none());
}

#[test]
fn regex_errors_explain_re2() {
    let view = TagListView {
        name: "^(?=v)1".into(),
        regex: true,
        ..TagListView::default()
    };
    let Err(FilterError::Regex(message)) = view.filter(0) else {
        panic!("look-ahead must be refused")
    };
    assert!(message.contains("RE2"), "{message}");
    let view = TagListView {
        name: "v1.(".into(),
        regex: true,
        ..TagListView::default()
    };
    assert!(view.filter(0).is_err());
}

#[test]
fn filters_combine() {
    let now = 1_000_000;
    let mut signed = tag("v1.2-signed", Some(now - 10 * 86_400), Some(500));
    signed.referrers.push(Referrer {
        artifact_type: SIGNATURE_TYPES[0].into(),
        digest: "sha256:aa".into(),
    });
    let tags = [
        tag("v1.0", Some(now - 100 * 86_400), Some(100)),
        tag("V1.1", Some(now - 2 * 86_400), Some(2_000)),
        signed,
        tag("v2.0", None, None),
    ];
    let names = |q: &str| {
        let (view, notices) = TagListView::from_pairs(&pairs(q));
        assert!(notices.is_empty(), "{notices:?}");
        let filter = view.filter(now).expect("filter");
        let mut out: Vec<&str> = tags
            .iter()
            .filter(|t| filter.matches(t))
            .map(|t| t.name.as_str())
            .collect();
        out.sort();
        out
    };
    assert_eq!(names("q=v1"), ["V1.1", "v1.0", "v1.2-signed"]);
    assert_eq!(names("q=%5Ev1%5C.&re=1"), ["v1.0", "v1.2-signed"]);
    assert_eq!(names("older=30d"), ["v1.0"]);
    assert_eq!(names("newer=30d"), ["V1.1", "v1.2-signed"]);
    assert_eq!(names("min=400&max=1k"), ["v1.2-signed"]);
    assert_eq!(names("kind=signed"), ["v1.2-signed"]);
    assert_eq!(names("kind=missing-manifest"), Vec::<&str>::new());
}

#[test]
fn missing_values_sort_last_both_ways() {
    let tags = [
        tag("a", None, None),
        tag("b", Some(5), Some(5)),
        tag("c", Some(9), Some(1)),
    ];
    for sort in TagSort::ALL {
        let view = TagListView {
            sort,
            ..TagListView::default()
        };
        let slice = select(tags.iter(), &view, &view.filter(0).expect("filter"));
        let names: Vec<&str> = slice.tags.iter().map(|t| t.name.as_str()).collect();
        if sort.key != TagSortKey::Name {
            assert_eq!(names.last(), Some(&"a"), "{sort:?}");
        }
    }
}

#[test]
fn page_is_clamped_into_range() {
    let tags: Vec<Tag> = (0..45)
        .map(|i| tag(&format!("t{i}"), Some(i), None))
        .collect();
    let view = TagListView {
        page: 9,
        per_page: 20,
        ..TagListView::default()
    };
    let slice = select(tags.iter(), &view, &view.filter(0).expect("filter"));
    assert_eq!((slice.page, slice.pages, slice.tags.len()), (3, 3, 5));
}

#[test]
fn deletion_plan_warns_about_shared_digests_protection_and_latest() {
    let mut shared_a = tag("v1", None, Some(10));
    shared_a.digest = Some("sha256:same".into());
    let mut shared_b = tag("stable", None, Some(10));
    shared_b.digest = Some("sha256:same".into());
    let mut latest = tag("latest", None, None);
    latest.digest = Some("sha256:same".into());
    let mut guarded = tag("release-1", None, None);
    guarded.protection = Some(TagProtection {
        minimum_access_level_for_push: None,
        minimum_access_level_for_delete: Some(crate::AccessLevel::Maintainer),
    });
    let all = [shared_a, shared_b, latest, guarded];
    let names: Vec<String> = ["v1", "latest", "release-1", "gone"]
        .map(String::from)
        .to_vec();
    let plan = plan_deletion(all.iter(), &names, crate::AccessLevel::Developer);
    assert!(plan.includes_latest);
    assert_eq!(plan.unknown, ["gone"]);
    assert_eq!(plan.tags[0].shares_digest_with, ["stable"]);
    assert!(plan.tags[2].refusal.is_some());
    assert_eq!(plan.deletable(), 2);
}

#[test]
fn a_plan_names_a_few_tags_sharing_an_image_and_counts_the_rest() {
    let mut all: Vec<Tag> = (0..5_000)
        .map(|i| {
            let mut t = tag(&format!("build-{i}"), None, None);
            t.digest = Some("sha256:one".into());
            t
        })
        .collect();
    all.push(tag("other", None, None));
    let names: Vec<String> = (0..1_000).map(|i| format!("build-{i}")).collect();
    let plan = plan_deletion(all.iter(), &names, crate::AccessLevel::Developer);
    assert_eq!(plan.tags.len(), 1_000);
    let first = &plan.tags[0];
    assert_eq!(
        first.shares_digest_with,
        [
            "build-1000",
            "build-1001",
            "build-1002",
            "build-1003",
            "build-1004"
        ]
    );
    assert_eq!(first.shares_digest_more, 4_000 - 5);
}

#[test]
fn deletion_rights_follow_role_and_protection() {
    use crate::AccessLevel::*;
    let mut t = tag("v1", None, None);
    assert!(t.deletable_by(Reporter).is_err());
    assert!(t.deletable_by(Developer).is_ok());
    t.protection = Some(TagProtection {
        minimum_access_level_for_push: Some(Maintainer),
        minimum_access_level_for_delete: Some(Owner),
    });
    assert_eq!(
        t.deletable_by(Maintainer),
        Err(Refusal::ProtectedTag { minimum: Owner })
    );
    assert!(t.deletable_by(Owner).is_ok());
}

fn header(access: crate::AccessLevel) -> RepositoryHeader {
    RepositoryHeader {
        id: 1,
        name: "web".into(),
        path: "acme/web".into(),
        location: "registry.example.com/acme/web".into(),
        project_id: 1,
        project_path: "acme/web".into(),
        project_name: "web".into(),
        tags_count: Some(1),
        status: None,
        cleanup_status: crate::CleanupStatus::Unscheduled,
        access,
        can_delete_repository: true,
        protection_rule_exists: false,
    }
}

#[test]
fn refusals_carry_a_code_their_roles_and_the_sentence() {
    use crate::AccessLevel::*;
    let json = |r: Option<Refusal>| r.map(|r| serde_json::to_value(Notice::from(r)).unwrap());
    assert_eq!(
        json(header(Reporter).tag_delete_refusal()),
        Some(
            serde_json::json!({"code": "role_too_low", "deleting": "tags",
            "needed": "Developer", "yours": "Reporter",
            "message": "Deleting tags needs the Developer role; yours is Reporter."})
        )
    );
    assert_eq!(header(Developer).tag_delete_refusal(), None);
    assert_eq!(
        json(header(Developer).repository_delete_refusal()),
        Some(
            serde_json::json!({"code": "role_too_low", "deleting": "repository",
            "needed": "Maintainer", "yours": "Developer",
            "message": "Deleting a repository needs the Maintainer role; yours is Developer."})
        )
    );
    let mut protected = header(Maintainer);
    protected.can_delete_repository = false;
    assert_eq!(
        protected.repository_delete_refusal(),
        Some(Refusal::ProtectedRepository)
    );
    assert_eq!(header(Maintainer).repository_delete_refusal(), None);
    let mut going = header(Owner);
    going.status = Some(crate::RepositoryStatus::DeleteScheduled);
    assert_eq!(
        json(going.tag_delete_refusal()),
        Some(
            serde_json::json!({"code": "scheduled_for_deletion", "deleting": "tags",
            "message": "This repository is being deleted."})
        )
    );
    assert_eq!(
        going.repository_delete_refusal().map(|r| r.to_string()),
        Some("This repository is already scheduled for deletion.".into())
    );
    let notice = Notice::from(Refusal::ProtectedTag { minimum: Owner });
    let back: Notice<Refusal> =
        serde_json::from_value(serde_json::to_value(&notice).unwrap()).unwrap();
    assert_eq!(back, notice);
    assert_eq!(
        notice.message,
        "A tag protection rule allows only Owner and above to delete this tag."
    );
}

#[test]
fn the_usage_filters_read_from_the_url_and_refuse_to_combine() {
    let read = |q: &str| TagListView::from_pairs(&pairs(q));
    let (view, notices) = read("in_use=1");
    assert_eq!((view.usage, notices.len()), (Some(UsageFilter::InUse), 0));
    assert_eq!(view.to_query(), "?in_use=1");
    assert!(view.is_filtered() && !view.is_name_search());
    let (view, notices) = read("stale=true&stale=1&q=v1");
    assert_eq!((view.usage, notices.len()), (Some(UsageFilter::Stale), 0));
    assert!(!view.is_name_search());
    assert_eq!(read("stale=0").0.usage, None);
    // The filter form's select.
    let (view, notices) = read("usage=stale");
    assert_eq!((view.usage, notices.len()), (Some(UsageFilter::Stale), 0));
    assert_eq!(view.to_query(), "?stale=1");
    assert_eq!(read("usage=").0.usage, None);
    assert_eq!(read("usage=everything").1.len(), 1);
    let (view, notices) = read("in_use=1&stale=1");
    assert_eq!(view.usage, None);
    assert_eq!(notices.len(), 1);
    assert!(
        notices[0].message.contains("both in use and dead"),
        "{notices:?}"
    );
    // Data that would need the lenient reading is refused.
    assert!(serde_json::from_str::<TagListView>("\"?in_use=1&stale=1\"").is_err());
}
