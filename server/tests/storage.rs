//! Storage truth against the GitLab double: layers gathered once per digest, deduplicated
//! figures that agree with GitLab's own, deletion estimates, comparisons, and the same on
//! the JSON API.

use crate::common::{requests, signed_in, start, Browser};
use crate::tags::{call, complete_list, WEB_WORKER};
use domain::storage::{DeletionEstimate, ProjectStorage, RepositoryStorage, Side, TagComparison};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::time::Duration;

/// Polls the storage figures until every layer is read (the panel's own polling).
async fn complete_storage(browser: &Browser, repository: u64) -> RepositoryStorage {
    for _ in 0..600 {
        let storage: RepositoryStorage = call(
            browser,
            "repository_storage",
            json!({"instance": "demo", "repository_id": repository, "read_layers": false}),
        )
        .await;
        assert!(storage.progress.error.is_none(), "{:?}", storage.progress);
        if storage.progress.complete {
            return storage;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the layers were not all read");
}

async fn estimate(browser: &Browser, repository: u64, names: &[&str]) -> DeletionEstimate {
    call(
        browser,
        "deletion_estimate",
        json!({"instance": "demo", "repository_id": repository, "names": names}),
    )
    .await
}

#[tokio::test]
async fn deduplicated_storage_agrees_with_gitlabs_own_figure() {
    let server = start(&[]).await;
    let maria = signed_in(&server, "maria").await;
    let list = complete_list(&maria, WEB_WORKER, "sort=name_asc").await;
    let storage = complete_storage(&maria, WEB_WORKER).await;
    let s = &storage.summary;
    assert_eq!(s.images_known, s.images);
    // The double's metadata database deduplicates the tagged blobs as the registry does.
    assert_eq!(Some(s.unique_bytes), storage.gitlab_size, "{storage:?}");
    let naive: u64 = list.slice.tags.iter().filter_map(|t| t.total_size).sum();
    assert!(s.unique_bytes < naive, "shared layers are counted once");
    assert!(s.naive_bytes >= naive);
    // Base layers are shared: some of the largest serve several images.
    assert!(s.largest.iter().any(|l| l.images > 1), "{:?}", s.largest);
    assert!(s.largest.windows(2).all(|w| w[0].size >= w[1].size));

    // Deleting every tag frees exactly what is stored; one tag frees less than its size.
    let names: Vec<&str> = list.slice.tags.iter().map(|t| t.name.as_str()).collect();
    let all = estimate(&maria, WEB_WORKER, &names).await;
    assert!(all.progress.complete);
    assert_eq!(all.freed.bytes, s.unique_bytes);
    assert_eq!(all.freed.naive_bytes, s.naive_bytes);
    let oldest = list
        .slice
        .tags
        .iter()
        .filter(|t| t.digest.is_some())
        .min_by_key(|t| t.created_at)
        .unwrap();
    let one = estimate(&maria, WEB_WORKER, &[oldest.name.as_str()]).await;
    assert!(one.freed.bytes <= one.freed.naive_bytes, "{one:?}");
}

#[tokio::test]
async fn a_tag_whose_image_another_tag_keeps_frees_nothing() {
    let server = start(&[]).await;
    let maria = signed_in(&server, "maria").await;
    let list = complete_list(&maria, WEB_WORKER, "sort=name_asc").await;
    let mut seen = std::collections::HashMap::new();
    let twin = list
        .slice
        .tags
        .iter()
        .find_map(|t| {
            let d = t.digest.clone()?;
            seen.insert(d, t.name.clone()).map(|_| t.name.clone())
        })
        .expect("the demo data has two tags on one image");
    complete_storage(&maria, WEB_WORKER).await;
    let e = estimate(&maria, WEB_WORKER, &[twin.as_str()]).await;
    assert_eq!(e.freed.bytes, 0, "{e:?}");
    assert_eq!(e.freed.kept_by_other_tags, 1);
    // Bad input is refused before anything is read.
    let response = maria
        .server_fn(
            "deletion_estimate",
            json!({"instance": "demo", "repository_id": WEB_WORKER, "names": ["-bad"]}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn layers_cost_one_request_per_sixteen_manifests_and_are_read_once() {
    // opensource/cli: multi-platform indexes, so children are read in a second round.
    let server = start(&[]).await;
    let olivia = signed_in(&server, "olivia").await;
    complete_list(&olivia, CLI_ROOT, "").await;
    let before = requests(&server);
    let storage: RepositoryStorage = call(
        &olivia,
        "repository_storage",
        json!({"instance": "demo", "repository_id": CLI_ROOT, "read_layers": false}),
    )
    .await;
    let spent = requests(&server) - before;
    let p = &storage.progress;
    assert!(p.complete, "{p:?}");
    let children = p.manifests - p.images;
    assert!(children > p.images, "indexes hold several platforms: {p:?}");
    // The images 16 at a time, then their children 16 at a time, then GitLab's own size.
    assert_eq!(
        spent,
        p.images.div_ceil(16) + children.div_ceil(16) + 1,
        "{p:?}"
    );
    // Read once: a second view asks GitLab only for its size.
    let again = requests(&server);
    let second = complete_storage(&olivia, CLI_ROOT).await;
    assert_eq!(second.summary, storage.summary);
    assert_eq!(requests(&server) - again, 1);
}

#[tokio::test]
async fn two_tags_compare_layer_by_layer_on_the_page_and_the_api() {
    let server = start(&[]).await;
    let maria = signed_in(&server, "maria").await;
    let list = complete_list(&maria, WEB_WORKER, "sort=published_asc").await;
    let images: Vec<&domain::tags::Tag> = {
        let mut seen = HashSet::new();
        list.slice
            .tags
            .iter()
            .filter(|t| t.digest.as_ref().is_some_and(|d| seen.insert(d.clone())))
            .collect()
    };
    let (a, b) = (&images[0].name, &images[images.len() - 1].name);
    let cmp: TagComparison = call(
        &maria,
        "compare_tags",
        json!({"instance": "demo", "repository_id": WEB_WORKER, "a": a, "b": b}),
    )
    .await;
    assert!(cmp.unavailable.is_none(), "{:?}", cmp.unavailable);
    assert!(!cmp.images.is_empty());
    let first = &cmp.images[0];
    assert!(
        first.shared_bytes > 0,
        "builds of one repository share their base"
    );
    assert!(first.rows.iter().any(|r| r.side == Side::Both));
    assert!(first.rows.iter().any(|r| r.side != Side::Both));
    assert_eq!(first.a_bytes, first.shared_bytes + first.only_a_bytes);

    // The page renders on the server from the URL alone.
    let path = format!("/i/demo/repositories/{WEB_WORKER}/compare?a={a}&b={b}");
    let html = maria.get(&path).await.text().await.unwrap();
    assert!(html.contains("shared-bytes"), "{html}");
    assert!(html.contains("only in A") || html.contains("only in B"));
    // Without both names it is a form; a bad name says why.
    let html = maria
        .get(&format!(
            "/i/demo/repositories/{WEB_WORKER}/compare?a={a}&b=-x"
        ))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("compare-form") && html.contains("is not a tag name"));

    // The JSON API answers the same, and refuses what the page would refuse.
    let api = |q: &str| format!("/api/v1/demo/repositories/{WEB_WORKER}/comparison?{q}");
    let response = maria.get(&api(&format!("a={a}&b={b}"))).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["images"][0]["shared_bytes"], json!(first.shared_bytes));
    let response = maria.get(&api(&format!("a={a}"))).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = maria.get(&api(&format!("a={a}&b=no-such-tag"))).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = maria
        .get(&format!("/api/v1/demo/repositories/{WEB_WORKER}/storage"))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
}

const WEB_ROOT: u64 = 1;
const CLI_ROOT: u64 = 7;

#[tokio::test]
async fn the_shape_of_a_repository_links_to_exactly_the_tags_it_counts() {
    use domain::shape::TagFamily;
    let server = start(&[]).await;
    let maria = signed_in(&server, "maria").await;
    complete_list(&maria, CLI_ROOT, "").await;
    let storage = complete_storage(&maria, CLI_ROOT).await;
    let shape = &storage.shape;
    assert!(shape.deduplicated);
    // Every bar's link lists exactly the tags it counts.
    for bucket in shape.by_age.iter().chain(&shape.by_size) {
        if bucket.query.is_empty() {
            continue;
        }
        let query = domain::query::build(
            &bucket
                .query
                .iter()
                .map(|(k, v)| (k.as_str(), v.clone()))
                .collect::<Vec<_>>(),
        );
        let page = complete_list(&maria, CLI_ROOT, query.trim_start_matches('?')).await;
        assert_eq!(page.slice.matched, bucket.tags, "{}", bucket.label);
    }
    for family in &shape.families {
        let page = complete_list(
            &maria,
            CLI_ROOT,
            &format!("family={}", family.family.as_param()),
        )
        .await;
        assert_eq!(page.slice.matched, family.tags, "{:?}", family.family);
    }
    let dates = shape.families.iter().find(|f| f.family == TagFamily::Date);
    assert_eq!(dates.map(|f| f.tags), Some(3), "{:?}", shape.families);
    // The demo's imported 0.0.x tags share one published time.
    let batch = shape.import_batch.clone().expect("the import is spotted");
    assert_eq!(batch.tags, 8);

    // Rendered on the server: bars are links to the filtered list.
    let html = maria
        .get(&format!("/i/demo/repositories/{CLI_ROOT}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("chart-age") && html.contains("import-batch"),
        "{html}"
    );
    assert!(html.contains(&format!(
        "href=\"/i/demo/repositories/{CLI_ROOT}?family=date\""
    )));

    // The cleanup preview warns that older_than sees the import as one batch.
    let response = maria
        .get(
            "/api/v1/demo/projects/opensource%2Fcli/cleanup-preview\
             ?older_than=90d&keep_n=&name_regex=.*",
        )
        .await;
    let preview: Value = response.json().await.unwrap();
    let warnings = preview["repositories"][0]["warnings"].to_string();
    assert!(warnings.contains("one batch"), "{warnings}");
}

#[tokio::test]
async fn sidecar_tags_sit_under_their_subject_and_keep_n_is_warned_about() {
    let server = start(&[]).await;
    let maria = signed_in(&server, "maria").await;
    complete_list(&maria, WEB_ROOT, "").await;
    let storage = complete_storage(&maria, WEB_ROOT).await;
    assert_eq!(storage.shape.sidecar_tags, 6);
    let group = storage
        .shape
        .sidecars
        .iter()
        .find(|g| g.subject == "v2.3.1")
        .expect("v2.3.1 is signed by a sidecar");
    assert_eq!(group.sidecars.len(), 3);
    let detail: domain::tags::TagDetail = call(
        &maria,
        "tag_detail",
        json!({"instance": "demo", "repository_id": WEB_ROOT, "name": "v2.3.1"}),
    )
    .await;
    assert_eq!(detail.sidecars.len(), 3, "{:?}", detail.sidecars);
    let response = maria
        .get(
            "/api/v1/demo/projects/acme%2Fweb/cleanup-preview\
             ?name_regex=.*&name_regex_keep=&keep_n=5&older_than=",
        )
        .await;
    let preview: Value = response.json().await.unwrap();
    let warnings = preview["repositories"][0]["warnings"].to_string();
    assert!(
        warnings.contains("signature/attestation/SBOM tags"),
        "{warnings}"
    );
}

#[tokio::test]
async fn a_large_repository_reads_its_layers_only_when_asked() {
    // "Large" is a setting: opensource/cli's 41 images are above a limit of 5 (the 10,000-tag
    // repository would make this test read 10,000 manifests beside every other test).
    let server = start(&[("REGISTRY_DASH_INDEX_LAYERS_AUTO_IMAGES", "5")]).await;
    let olivia = signed_in(&server, "olivia").await;
    complete_list(&olivia, CLI_ROOT, "").await;
    let before = requests(&server);
    let storage: RepositoryStorage = call(
        &olivia,
        "repository_storage",
        json!({"instance": "demo", "repository_id": CLI_ROOT, "read_layers": false}),
    )
    .await;
    assert!(storage.on_request);
    assert!(storage.summary.images > 5, "{:?}", storage.summary);
    assert_eq!(storage.progress.images_known, 0);
    assert!(storage.summary.naive_bytes > 0);
    assert_eq!(
        storage.shape.by_age.iter().map(|b| b.tags).sum::<u64>(),
        storage.tags
    );
    // Only GitLab's own size was asked for.
    assert_eq!(requests(&server) - before, 1);
    let html = olivia
        .get(&format!("/i/demo/repositories/{CLI_ROOT}?sort=name_asc"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("href=\"?sort=name_asc&amp;layers=1\""),
        "the button keeps the list's state: {}",
        html.split("layers-on-request")
            .nth(1)
            .unwrap_or("no layers-on-request")
    );
    // Asking reads them (the JSON API takes the same switch; anything else is refused).
    let response = olivia
        .get(&format!(
            "/api/v1/demo/repositories/{CLI_ROOT}/storage?read_layers=1"
        ))
        .await;
    let asked: RepositoryStorage = response.json().await.unwrap();
    assert!(!asked.on_request);
    assert!(asked.progress.complete, "{:?}", asked.progress);
    let response = olivia
        .get(&format!(
            "/api/v1/demo/repositories/{CLI_ROOT}/storage?layers=all"
        ))
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_cleanup_draft_frees_each_layer_once_across_the_project() {
    let server = start(&[]).await;
    let maria = signed_in(&server, "maria").await;
    let draft = |regex: &str| {
        json!({"enabled": true, "cadence": "Weekly", "keep_n": null, "older_than": null,
               "name_regex": regex, "name_regex_keep": null})
    };
    let response = maria
        .server_fn(
            "cleanup_storage",
            json!({"instance": "demo", "project_path": "acme/web", "draft": draft(".*")}),
        )
        .await;
    let body = response.text().await.unwrap();
    let storage: domain::storage::CleanupStorage =
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert!(storage.complete, "{storage:?}");
    assert_eq!(storage.repositories.len(), 2);
    let per_repo: u64 = storage.repositories.iter().map(|r| r.draft.bytes).sum();
    // Both repositories build on debian-slim: the project frees its layers once at most.
    assert!(storage.draft_bytes <= per_repo, "{storage:?}");
    for repo in &storage.repositories {
        assert!(repo.draft.bytes <= repo.draft.naive_bytes, "{repo:?}");
        assert!(repo.draft.tags > 0);
    }
    // Nothing matched, nothing freed; a bad regex is a clear 400.
    let none: domain::storage::CleanupStorage = call(
        &maria,
        "cleanup_storage",
        json!({"instance": "demo", "project_path": "acme/web", "draft": draft("no-such-tag-.*")}),
    )
    .await;
    assert_eq!(none.draft_bytes, 0);
    let response = maria
        .server_fn(
            "cleanup_storage",
            json!({"instance": "demo", "project_path": "acme/web", "draft": draft("(")}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn layers_another_repository_of_the_project_uses_stay() {
    let server = start(&[]).await;
    let maria = signed_in(&server, "maria").await;
    let list = complete_list(&maria, WEB_ROOT, "per_page=100").await;
    let names: Vec<&str> = list.slice.tags.iter().map(|t| t.name.as_str()).collect();
    // Before the worker's layers are read, nothing is known about them.
    let alone = estimate(&maria, WEB_ROOT, &names).await;
    assert_eq!(alone.freed.other_repositories, 0);
    // acme/web and acme/web/worker both build on debian-slim: its layers stay.
    complete_list(&maria, WEB_WORKER, "").await;
    complete_storage(&maria, WEB_WORKER).await;
    let checked = estimate(&maria, WEB_ROOT, &names).await;
    assert_eq!(checked.freed.other_repositories, 1);
    assert!(checked.freed.elsewhere_bytes > 0, "{checked:?}");
    assert_eq!(
        checked.freed.bytes + checked.freed.elsewhere_bytes,
        alone.freed.bytes
    );
}

/// Polls a project's storage until every repository's layers are read (the page's polling).
async fn complete_project_storage(browser: &Browser, project: &str) -> ProjectStorage {
    for _ in 0..600 {
        let storage: ProjectStorage = call(
            browser,
            "project_storage",
            json!({"instance": "demo", "project_path": project, "read_layers": false}),
        )
        .await;
        if storage.complete {
            return storage;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the project's layers were not all read");
}

#[tokio::test]
async fn a_project_counts_each_layer_once_across_its_repositories() {
    let server = start(&[]).await;
    let maria = signed_in(&server, "maria").await;
    let storage = complete_project_storage(&maria, "acme/web").await;
    assert_eq!(storage.repositories.len(), 2, "{storage:?}");
    // The double's metadata database computes the project's statistics the same way.
    assert_eq!(
        storage.gitlab_size,
        Some(storage.unique_bytes),
        "{storage:?}"
    );
    for share in &storage.repositories {
        let own = complete_storage(&maria, share.id).await;
        assert_eq!(share.unique_bytes, own.summary.unique_bytes, "{share:?}");
        assert_eq!(share.naive_bytes, own.summary.naive_bytes);
        assert!(share.progress.complete && !share.on_request);
    }
    // Both build on debian-slim: its layers are stored once for the project.
    assert!(storage.shared_bytes > 0, "{storage:?}");
    assert_eq!(
        storage.unique_bytes + storage.shared_bytes,
        storage.repositories_bytes
    );
    assert!(storage
        .largest
        .iter()
        .all(|l| (1..=2).contains(&l.repositories) && l.layer.tags >= l.layer.images));
    assert!(storage
        .largest
        .windows(2)
        .all(|w| w[0].layer.size >= w[1].layer.size));

    // The page reads without JavaScript and the project page links to it.
    let html = maria
        .get("/i/demo/storage/acme/web")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(&domain::format::bytes(storage.unique_bytes)),
        "{html}"
    );
    assert!(html.contains("acme/web/worker"));
    assert!(html.contains("data-testid=\"largest-layers\""));
    let project = maria
        .get("/i/demo/projects/acme/web")
        .await
        .text()
        .await
        .unwrap();
    assert!(project.contains("href=\"/i/demo/storage/acme/web\""));

    // The JSON API answers the same; anything but read_layers is refused.
    let api: ProjectStorage = maria
        .get("/api/v1/demo/projects/acme%2Fweb/storage")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(api.unique_bytes, storage.unique_bytes);
    assert_eq!(api.repositories, storage.repositories);
    let response = maria
        .get("/api/v1/demo/projects/acme%2Fweb/storage?layers=all")
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = maria
        .server_fn(
            "project_storage",
            json!({"instance": "demo", "project_path": "../etc", "read_layers": false}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    // A guest may not read the registry: refused, not shown an empty project.
    let gus = signed_in(&server, "gus").await;
    let page = gus.get("/i/demo/storage/acme/web").await;
    assert_eq!(page.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_project_reads_the_layers_of_its_large_repositories_only_when_asked() {
    let server = start(&[("REGISTRY_DASH_INDEX_LAYERS_AUTO_IMAGES", "5")]).await;
    let olivia = signed_in(&server, "olivia").await;
    let storage: ProjectStorage = call(
        &olivia,
        "project_storage",
        json!({"instance": "demo", "project_path": "opensource/cli", "read_layers": false}),
    )
    .await;
    let large: Vec<_> = storage
        .repositories
        .iter()
        .filter(|r| r.on_request)
        .collect();
    assert!(!large.is_empty(), "{storage:?}");
    assert!(!storage.complete);
    for share in &large {
        assert!(share.progress.images > 5);
        assert_eq!(share.unique_bytes, 0);
        assert!(share.naive_bytes > 0);
    }
    let html = olivia
        .get("/i/demo/storage/opensource/cli")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("href=\"/i/demo/storage/opensource/cli?layers=1\""));
    // Asking reads them.
    for _ in 0..600 {
        let asked: ProjectStorage = olivia
            .get("/api/v1/demo/projects/opensource%2Fcli/storage?read_layers=1")
            .await
            .json()
            .await
            .unwrap();
        assert!(asked.repositories.iter().all(|r| !r.on_request));
        if asked.complete {
            assert!(asked.unique_bytes > 0);
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the large repositories' layers were not read");
}
