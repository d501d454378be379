//! The tag index and the tag pages' server functions against the GitLab double: sorting
//! and filtering over all tags, the request strategy, access checks, deletion.

use crate::common::{
    controls, gitlab_tag_names, issued_token, requests, signed_in, start, Browser,
};
use domain::tags::{DeleteOutcome, DeletionPlan, TagDetail, TagListPage, TagListView};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// Repository ids of the demo dataset.
const WEB_ROOT: u64 = 1;
pub(crate) const WEB_WORKER: u64 = 2;
pub(crate) const API_SERVER: u64 = 3;
const CLI_ROOT: u64 = 7;

fn view(query: &str) -> TagListView {
    let (view, notices) = TagListView::from_pairs(&domain::query::parse(query));
    assert!(notices.is_empty(), "{notices:?}");
    view
}

pub(crate) async fn tag_list(
    browser: &Browser,
    repository: u64,
    query: &str,
) -> Result<TagListPage, Value> {
    let response = browser
        .server_fn(
            "tag_list",
            json!({ "instance": "demo", "repository_id": repository, "view": view(query) }),
        )
        .await;
    let ok = response.status().is_success();
    let body: Value = response.json().await.expect("a JSON body");
    if ok {
        Ok(serde_json::from_value(body).expect("the expected shape"))
    } else {
        Err(body)
    }
}

/// Polls until the repository's index is complete (the page's own polling, done by hand).
pub(crate) async fn complete_list(browser: &Browser, repository: u64, query: &str) -> TagListPage {
    for _ in 0..200 {
        let page = tag_list(browser, repository, query)
            .await
            .expect("the tag list answers");
        assert!(page.progress.error.is_none(), "{:?}", page.progress.error);
        if page.progress.complete {
            return page;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the index did not complete");
}

/// Calls a server function and reads its JSON answer.
pub(crate) async fn call<T: serde::de::DeserializeOwned>(
    browser: &Browser,
    name: &str,
    body: Value,
) -> T {
    browser
        .server_fn(name, body)
        .await
        .json()
        .await
        .expect("a JSON body")
}

#[tokio::test]
async fn sorting_covers_all_10000_tags_not_a_page() {
    let server = start(&[]).await;
    let browser = signed_in(&server, "olivia").await;
    let first = complete_list(&browser, API_SERVER, "sort=size_desc&per_page=100").await;
    assert_eq!(first.progress.indexed, 10_000);
    assert_eq!(first.slice.pages, 100);
    let mut all = first.slice.tags.clone();
    for page in 2..=100 {
        let next = tag_list(
            &browser,
            API_SERVER,
            &format!("sort=size_desc&per_page=100&page={page}"),
        )
        .await
        .unwrap();
        all.extend(next.slice.tags);
    }
    assert_eq!(all.len(), 10_000);
    let mut names: Vec<&str> = all.iter().map(|t| t.name.as_str()).collect();
    names.sort();
    names.dedup();
    assert_eq!(
        names.len(),
        10_000,
        "every tag exactly once across the pages"
    );
    let sizes: Vec<u64> = all.iter().map(|t| t.total_size.unwrap_or(0)).collect();
    assert!(
        sizes.windows(2).all(|w| w[0] >= w[1]),
        "sizes descend across all pages"
    );

    // A regex filter sees the same tags as filtering the full list by hand.
    let re = regex::Regex::new(r"^v1\.").unwrap();
    let expected = all.iter().filter(|t| re.is_match(&t.name)).count() as u64;
    assert!(expected > 0);
    let filtered = tag_list(
        &browser,
        API_SERVER,
        "q=%5Ev1%5C.&re=1&sort=name_asc&per_page=100",
    )
    .await
    .unwrap();
    assert_eq!(filtered.slice.matched, expected);
    assert!(filtered.slice.tags.iter().all(|t| re.is_match(&t.name)));
    let names: Vec<&str> = filtered
        .slice
        .tags
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    let mut natural = names.clone();
    natural.sort_by(|a, b| domain::tags::natural_cmp(a, b));
    assert_eq!(names, natural, "name sort is natural (v1.9 before v1.10)");
}

/// Every tag name in the index, page by page.
async fn indexed_names(browser: &Browser) -> std::collections::HashSet<String> {
    let mut names = std::collections::HashSet::new();
    for page in 1..=100 {
        let next = tag_list(
            browser,
            API_SERVER,
            &format!("sort=name_asc&per_page=100&page={page}"),
        )
        .await
        .expect("the tag list answers");
        names.extend(next.slice.tags.into_iter().map(|t| t.name));
    }
    names
}

#[tokio::test]
async fn index_costs_a_fraction_of_gitlabs_own_walk_in_both_modes() {
    for metadata_db in [true, false] {
        let server = start(&[]).await;
        controls(&server).set_metadata_db(metadata_db);
        let browser = signed_in(&server, "olivia").await;
        let before = requests(&server);
        let page = complete_list(&browser, API_SERVER, "").await;
        assert_eq!(page.progress.indexed, 10_000);
        let used = requests(&server) - before;
        // The first page, 100 REST name pages, 499 more GraphQL pages 8 to a request, the
        // access check and the polls; GitLab's own page walks 500 requests, a registry UI
        // without an index 10,001.
        assert!(
            used < 250,
            "indexing 10,000 tags (metadata database: {metadata_db}) took {used} GitLab requests"
        );
        let names = indexed_names(&browser).await;
        assert_eq!(names.len(), 10_000);
        let gitlab = &server.double.as_ref().unwrap().base_url;
        assert!(
            gitlab_tag_names(gitlab, &issued_token(&server, 1), 1002, API_SERVER)
                .await
                .iter()
                .all(|n| names.contains(n))
        );

        // Warm: a filtered, sorted page costs no index requests at all.
        let before = requests(&server);
        tag_list(&browser, API_SERVER, "q=main&sort=size_asc")
            .await
            .unwrap();
        assert!(requests(&server) - before <= 2);
    }
}

#[tokio::test]
async fn a_tag_deleted_at_gitlab_during_a_legacy_build_shifts_no_other_tag_out() {
    // Without the metadata database a page's cursor is a position: deleting a tag ahead of
    // the positions not read yet moves every later tag one place up.
    let server = start(&[("REGISTRY_DASH_DEMO_LATENCY_MS", "40")]).await;
    controls(&server).set_metadata_db(false);
    let browser = signed_in(&server, "olivia").await;
    let first = tag_list(&browser, API_SERVER, "sort=name_asc")
        .await
        .unwrap();
    assert!(!first.progress.complete);
    let victim = first.slice.tags[5].name.clone();
    let token = issued_token(&server, 1);
    let gitlab = &server.double.as_ref().unwrap().base_url;
    let deleted = reqwest::Client::new()
        .delete(format!(
            "{gitlab}/api/v4/projects/1002/registry/repositories/{API_SERVER}/tags/{victim}"
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(deleted.status().is_success());
    complete_list(&browser, API_SERVER, "").await;
    let names = indexed_names(&browser).await;
    let missing: Vec<String> = gitlab_tag_names(gitlab, &token, 1002, API_SERVER)
        .await
        .into_iter()
        .filter(|n| !names.contains(n))
        .collect();
    assert_eq!(
        missing,
        Vec::<String>::new(),
        "tags GitLab has, missing from the index"
    );
}

#[tokio::test]
async fn a_large_repository_shows_its_first_tags_while_the_index_completes() {
    // 50 ms per GitLab request: hundreds of requests cannot finish within the page's wait.
    let server = start(&[("REGISTRY_DASH_DEMO_LATENCY_MS", "50")]).await;
    let browser = signed_in(&server, "olivia").await;
    let page = tag_list(&browser, API_SERVER, "").await.unwrap();
    assert!(!page.progress.complete);
    assert_eq!(page.progress.total, Some(10_000));
    assert!(page.progress.indexed >= 20, "the first page is there");
    assert!(!page.slice.tags.is_empty());
    let done = complete_list(&browser, API_SERVER, "").await;
    assert_eq!(done.progress.indexed, 10_000);
}

#[tokio::test]
async fn gitlabs_rate_limit_stops_the_index_with_a_clear_message_and_keeps_what_it_has() {
    let server = start(&[]).await;
    let browser = signed_in(&server, "olivia").await;
    let controls = controls(&server);
    // 60 requests per minute: far fewer than 10,000 tags need; GitLab asks to wait
    // longer than a page may hold a request.
    controls.set_rate_limit(Some(60));
    // 100 a page, so a page partly filled by what was indexed shows.
    let mut page = tag_list(&browser, API_SERVER, "per_page=100")
        .await
        .unwrap();
    for _ in 0..100 {
        if page.progress.error.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        page = match tag_list(&browser, API_SERVER, "per_page=100").await {
            Ok(page) => page,
            // The per-request access check is cached, so the list itself keeps answering.
            Err(body) => panic!("the list must keep answering: {body}"),
        };
    }
    let error = page.progress.error.clone().expect("indexing stopped");
    assert!(error.contains("rate limit"), "{error}");
    assert!(!page.progress.complete);
    assert!(
        page.progress.indexed >= 20 && page.progress.indexed < 10_000,
        "{:?}",
        page.progress
    );
    assert_eq!(page.slice.tags.len() as u64, page.progress.indexed.min(100));
    // Reloads meanwhile neither lose what was indexed nor hammer GitLab again.
    let requests = controls.request_count();
    let again = tag_list(&browser, API_SERVER, "").await.unwrap();
    assert_eq!(again.progress.indexed, page.progress.indexed);
    assert!(controls.request_count() - requests <= 2);
}

#[tokio::test]
async fn one_users_rate_limit_does_not_stall_the_shared_index_for_others() {
    let server = start(&[]).await;
    let olivia = signed_in(&server, "olivia").await;
    let maria = signed_in(&server, "maria").await;
    let controls = controls(&server);
    // GitLab's limit is per user: olivia's build runs out of her allowance and GitLab
    // tells her to wait.
    controls.set_rate_limit(Some(60));
    let mut page = tag_list(&olivia, API_SERVER, "").await.unwrap();
    for _ in 0..100 {
        if page.progress.error.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        page = tag_list(&olivia, API_SERVER, "").await.unwrap();
    }
    assert!(page.progress.error.is_some(), "olivia's build stopped");
    controls.set_rate_limit(None);
    // Olivia waits as GitLab asked: her reload does not start the build again…
    let hers = tag_list(&olivia, API_SERVER, "").await.unwrap();
    assert!(hers.progress.error.is_some(), "{:?}", hers.progress);
    // A repository she never opened says why it stays empty.
    let other = tag_list(&olivia, WEB_WORKER, "").await.unwrap();
    let why = other.progress.error.clone().unwrap_or_default();
    assert!(
        why.contains("GitLab asked you to wait"),
        "{:?}",
        other.progress
    );
    // …but maria's request does, with her own token, and it completes for everyone.
    let theirs = complete_list(&maria, API_SERVER, "").await;
    assert_eq!(theirs.progress.indexed, 10_000);
    let hers = tag_list(&olivia, API_SERVER, "").await.unwrap();
    assert!(hers.progress.complete && hers.progress.error.is_none());
}

#[tokio::test]
async fn a_repository_too_large_for_the_index_memory_says_so_without_pushing_others_out() {
    // GitLab's CI context is not read: only the tag index's requests are counted.
    let server = start(&[
        ("REGISTRY_DASH_INDEX_MEMORY_MIB", "2"),
        ("REGISTRY_DASH_USAGE_ENABLED", "false"),
    ])
    .await;
    let olivia = signed_in(&server, "olivia").await;
    let small = complete_list(&olivia, WEB_ROOT, "").await;
    assert_eq!(small.progress.indexed, 73);
    let before = requests(&server);
    let large = tag_list(&olivia, API_SERVER, "").await.unwrap();
    let error = large.progress.error.clone().unwrap_or_default();
    assert!(error.contains("memory_mib"), "{:?}", large.progress);
    assert_eq!(large.progress.indexed, 0);
    // Refused before any tag was fetched (only the access check asked GitLab)…
    assert!(requests(&server) - before <= 2);
    // …and the small repository's index is still there.
    let again = tag_list(&olivia, WEB_ROOT, "").await.unwrap();
    assert!(again.progress.complete && again.progress.error.is_none());
}

#[tokio::test]
async fn a_bad_regex_is_reported_and_the_rest_of_the_view_still_applies() {
    let server = start(&[]).await;
    let browser = signed_in(&server, "olivia").await;
    let page = complete_list(&browser, WEB_ROOT, "q=v1.%28&re=1&sort=name_asc").await;
    let error = page.filter_error.expect("the regex error is reported");
    assert!(error.contains("regular expression"), "{error}");
    assert_eq!(
        page.slice.matched, 73,
        "the list is shown without the name filter"
    );
    let page = tag_list(&browser, WEB_ROOT, "q=%28%3F%3Dv%29&re=1")
        .await
        .unwrap();
    assert!(page.filter_error.unwrap().contains("RE2"));
}

#[tokio::test]
async fn a_shared_index_is_never_served_without_the_callers_own_access() {
    let server = start(&[]).await;
    let owner = signed_in(&server, "olivia").await;
    complete_list(&owner, API_SERVER, "").await;
    // nora is no member of acme: GitLab does not show her the repository.
    let outsider = signed_in(&server, "nora").await;
    let refused = tag_list(&outsider, API_SERVER, "").await.unwrap_err();
    assert!(refused.to_string().contains("NotFound"), "{refused}");
    let plan = outsider
        .server_fn(
            "deletion_plan",
            json!({"instance": "demo", "repository_id": API_SERVER, "names": ["latest"]}),
        )
        .await;
    assert_eq!(plan.status(), StatusCode::NOT_FOUND);
    // Signed out: nothing either.
    let anonymous = Browser::new(&server);
    let response = anonymous
        .server_fn(
            "tag_list",
            json!({"instance": "demo", "repository_id": API_SERVER,
                   "view": TagListView::default()}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn deleting_removes_exactly_the_confirmed_tags() {
    let server = start(&[]).await;
    let developer = signed_in(&server, "devon").await;
    let before = complete_list(&developer, WEB_WORKER, "sort=name_asc").await;
    assert_eq!(before.progress.indexed, 15);
    let victims: Vec<String> = before.slice.tags[..2]
        .iter()
        .map(|t| t.name.clone())
        .collect();

    let plan: DeletionPlan = call(
        &developer,
        "deletion_plan",
        json!({"instance": "demo", "repository_id": WEB_WORKER, "names": victims}),
    )
    .await;
    assert_eq!(plan.deletable(), 2);

    let outcomes: Vec<DeleteOutcome> = call(
        &developer,
        "delete_tags",
        json!({"instance": "demo", "repository_id": WEB_WORKER, "names": victims}),
    )
    .await;
    assert!(outcomes.iter().all(|o| o.deleted), "{outcomes:?}");
    let after = tag_list(&developer, WEB_WORKER, "sort=name_asc")
        .await
        .unwrap();
    assert_eq!(after.slice.matched, 13);
    let left: Vec<&str> = after.slice.tags.iter().map(|t| t.name.as_str()).collect();
    assert!(victims.iter().all(|v| !left.contains(&v.as_str())));
    let expected_left: Vec<&str> = before.slice.tags[2..]
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(left, expected_left, "nothing else was deleted");
}

#[tokio::test]
async fn a_protected_tag_is_refused_with_gitlabs_reason_and_the_rest_goes() {
    let server = start(&[]).await;
    let developer = signed_in(&server, "devon").await;
    complete_list(&developer, WEB_ROOT, "").await;
    let names = json!(["stable", "v1.0.0"]);
    let plan: DeletionPlan = call(
        &developer,
        "deletion_plan",
        json!({"instance": "demo", "repository_id": WEB_ROOT, "names": names}),
    )
    .await;
    let refusal = plan.tags[0].refusal.as_ref().expect("stable is protected");
    assert_eq!(
        refusal.kind,
        domain::tags::Refusal::ProtectedTag {
            minimum: domain::AccessLevel::Maintainer
        },
        "{plan:?}"
    );
    assert_eq!(
        refusal.message,
        "A tag protection rule allows only Maintainer and above to delete this tag."
    );
    assert_eq!(plan.tags[1].refusal, None);
    assert_eq!(plan.tags[0].shares_digest_with, ["latest", "v2.3.1"]);
    let outcomes: Vec<DeleteOutcome> = call(
        &developer,
        "delete_tags",
        json!({"instance": "demo", "repository_id": WEB_ROOT, "names": names}),
    )
    .await;
    assert!(!outcomes[0].deleted);
    assert!(
        outcomes[0]
            .message
            .as_deref()
            .unwrap_or("")
            .to_lowercase()
            .contains("protected"),
        "{outcomes:?}"
    );
    assert!(outcomes[1].deleted);
}

#[tokio::test]
async fn roles_below_developer_cannot_delete() {
    let server = start(&[]).await;
    let reporter = signed_in(&server, "reese").await;
    let page = complete_list(&reporter, WEB_WORKER, "").await;
    let role_too_low = |deleting, needed| domain::tags::Refusal::RoleTooLow {
        deleting,
        needed,
        yours: domain::AccessLevel::Reporter,
    };
    assert_eq!(
        page.repository.tag_delete_refusal(),
        Some(role_too_low(
            domain::tags::Deleting::Tags,
            domain::AccessLevel::Developer
        ))
    );
    assert_eq!(
        page.repository.repository_delete_refusal(),
        Some(role_too_low(
            domain::tags::Deleting::Repository,
            domain::AccessLevel::Maintainer
        ))
    );
    let response = reporter
        .server_fn(
            "delete_tags",
            json!({"instance": "demo", "repository_id": WEB_WORKER, "names": ["v1.0.1"]}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let after = tag_list(&reporter, WEB_WORKER, "").await.unwrap();
    assert_eq!(after.slice.matched, 15, "nothing was deleted");
}

#[tokio::test]
async fn invalid_names_are_refused_before_anything_is_sent() {
    let server = start(&[]).await;
    let developer = signed_in(&server, "devon").await;
    let before = requests(&server);
    let response = developer
        .server_fn(
            "delete_tags",
            json!({"instance": "demo", "repository_id": WEB_WORKER, "names": ["ok", "../etc"]}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(requests(&server), before, "no request reached GitLab");
}

#[tokio::test]
async fn repository_deletion_needs_the_typed_path_and_a_maintainer() {
    let server = start(&[]).await;
    let maintainer = signed_in(&server, "maria").await;
    let wrong = maintainer
        .server_fn(
            "delete_repository",
            json!({"instance": "demo", "repository_id": WEB_WORKER, "confirm_path": "acme/web"}),
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    let developer = signed_in(&server, "devon").await;
    let refused = developer
        .server_fn(
            "delete_repository",
            json!({"instance": "demo", "repository_id": WEB_WORKER,
                   "confirm_path": "acme/web/worker"}),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let done = maintainer
        .server_fn(
            "delete_repository",
            json!({"instance": "demo", "repository_id": WEB_WORKER,
                   "confirm_path": "acme/web/worker"}),
        )
        .await;
    assert_eq!(done.status(), StatusCode::OK);
    let header: domain::tags::RepositoryHeader = done.json().await.unwrap();
    assert_eq!(
        header.status,
        Some(domain::RepositoryStatus::DeleteScheduled)
    );
}

#[tokio::test]
async fn tag_detail_shows_platforms_layers_and_other_tags_of_the_image() {
    let server = start(&[]).await;
    let browser = signed_in(&server, "olivia").await;
    complete_list(&browser, WEB_ROOT, "").await;
    let detail: TagDetail = call(
        &browser,
        "tag_detail",
        json!({"instance": "demo", "repository_id": WEB_ROOT, "name": "stable"}),
    )
    .await;
    assert_eq!(detail.also_tagged, ["latest", "v2.3.1"]);
    assert!(detail.tag.is_protected());
    assert!(!detail.layers.is_empty() || !detail.platforms.is_empty());
    assert!(detail.pull_by_digest().unwrap().contains("@sha256:"));

    let cli = complete_list(&browser, CLI_ROOT, "kind=multi-arch").await;
    let multi = &cli.slice.tags[0];
    let detail: TagDetail = call(
        &browser,
        "tag_detail",
        json!({"instance": "demo", "repository_id": CLI_ROOT, "name": multi.name}),
    )
    .await;
    assert!(detail.platforms.len() >= 2, "{:?}", detail.platforms);

    let missing = browser
        .server_fn(
            "tag_detail",
            json!({"instance": "demo", "repository_id": WEB_ROOT, "name": "no-such-tag"}),
        )
        .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn pages_render_on_the_server_with_the_view_from_the_url() {
    let server = start(&[]).await;
    let browser = signed_in(&server, "olivia").await;
    complete_list(&browser, WEB_ROOT, "").await;
    let html = browser
        .get("/i/demo/repositories/1?q=rc&sort=name_desc")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("value=\"rc\""), "the filter is in the form");
    assert!(html.contains("rc"), "matching tags are listed");
    assert!(
        !html.contains("data-tag=\"latest\""),
        "non-matching tags are not"
    );
    let detail = browser
        .get("/i/demo/repositories/1/tags/latest?q=rc")
        .await
        .text()
        .await
        .unwrap();
    assert!(detail.contains("docker pull"));
    assert!(
        detail.contains("/i/demo/repositories/1?q=rc"),
        "the way back keeps the view"
    );
}

#[tokio::test]
async fn a_cold_name_search_shows_exactly_what_the_complete_index_will() {
    // 150 ms per GitLab request: the index takes seconds, longer than a search waits.
    let server = start(&[("REGISTRY_DASH_DEMO_LATENCY_MS", "150")]).await;
    let browser = signed_in(&server, "olivia").await;
    for (i, query) in ["q=77a&sort=size_desc", "q=77a&sort=name_asc&per_page=50"]
        .into_iter()
        .enumerate()
    {
        let cold = tag_list(&browser, API_SERVER, query).await.unwrap();
        if i > 0 && cold.progress.complete {
            continue; // the second view may find the index done: nothing to compare then
        }
        assert!(!cold.progress.complete);
        assert!(cold.searched, "{query}: answered from GitLab's search");
        assert!(cold.slice.matched > 0);
        let warm = complete_list(&browser, API_SERVER, query).await;
        assert!(!warm.searched);
        assert_eq!(
            cold.slice, warm.slice,
            "{query}: the same page as the full index"
        );
    }
    // Other filters say they cover what is indexed and wait for the index as before.
    let server = start(&[("REGISTRY_DASH_DEMO_LATENCY_MS", "150")]).await;
    let browser = signed_in(&server, "olivia").await;
    let regex = tag_list(&browser, API_SERVER, "q=%5Emain-0&re=1")
        .await
        .unwrap();
    assert!(!regex.searched);
}

#[tokio::test]
async fn an_access_check_is_one_gitlab_request_and_two_before_gitlab_16_9() {
    // GitLab's CI context is not read: only the access check's requests are counted (the
    // context's are counted in `usage.rs`).
    let server = start(&[("REGISTRY_DASH_USAGE_ENABLED", "false")]).await;
    let first = signed_in(&server, "olivia").await;
    complete_list(&first, WEB_ROOT, "").await;
    // A new session's first page: its own access check (the repository, with the role),
    // then the shared index.
    let cost = |browser: Browser| {
        let server = &server;
        async move {
            let before = requests(server);
            let page = tag_list(&browser, WEB_ROOT, "").await.unwrap();
            assert!(page.progress.complete);
            assert_eq!(page.repository.access, domain::AccessLevel::Owner);
            requests(server) - before
        }
    };
    assert_eq!(cost(signed_in(&server, "olivia").await).await, 1);
    // GitLab before 16.9: the first check learns the field is missing, then the REST
    // project gives the role.
    controls(&server).set_max_access_level_field(false);
    assert_eq!(cost(signed_in(&server, "olivia").await).await, 3);
    assert_eq!(cost(signed_in(&server, "olivia").await).await, 2);
}

#[tokio::test]
async fn a_stopping_server_stops_building_its_indexes() {
    let mut server = start(&[]).await;
    let browser = signed_in(&server, "olivia").await;
    // Slow enough that the 10,000-tag index is still building when the server stops.
    controls(&server).set_latency(
        std::time::Duration::from_millis(50),
        std::time::Duration::ZERO,
    );
    let page = tag_list(&browser, API_SERVER, "").await.unwrap();
    assert!(!page.progress.complete, "{:?}", page.progress);
    drop(browser);
    server.shutdown();
    (&mut server.task).await.unwrap();
    // Requests already sent may still arrive; then GitLab hears nothing more.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let stopped = requests(&server);
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    assert_eq!(requests(&server), stopped, "a build went on after the stop");
}
