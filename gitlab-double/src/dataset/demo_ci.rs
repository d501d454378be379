//! The demo's CI contexts, made from the tags each registry already has, so the two agree the
//! way a real project's do. `acme/web`:
//!
//! - every `main-<sha>` tag was built by a pipeline on `main` when it was pushed; `main`'s
//!   head is the newest of them (the one also tagged with its full SHA);
//! - every `feature-login-<sha>` tag by a pipeline on `feature/login`, the source branch of
//!   open merge request !482; its newest commit is the merge request's head and runs in the
//!   `review/feature-login` environment;
//! - every `v<x.y.z>` tag has its git tag; production runs `v2.3.1` (it ran `v2.2.1` and
//!   `v2.3.0` before, and a deployment of `v2.3.0` once failed), staging runs a `main` build
//!   from about two days ago;
//! - every deployment ran in a pipeline on its ref;
//! - open merge request !497 (`fix/footer-typo`) is behind the `mr-497` tag;
//! - merge request !451 (`perf/cache-headers`) was merged and its branch deleted; its last
//!   pipeline is 20 days old.
//!
//! `olivia/secret`: every release has its git tag, production runs `v0.3.0` (so `latest`,
//! the same image, is in use too); `experiment-<sha>` was built from merge request !2, closed
//! since and its branch deleted: a dead tag. `opensource/cli`: every release (the imported
//! `0.0.x` ones included) has its git tag, the download page serves `v1.8.0`, each
//! `edge-<sha>` was built by a pipeline on `main` (whose head is the newest), and the nightly
//! builds by scheduled pipelines.
//!
//! Commit SHAs the tags name only by a prefix are completed with hex from a fixed seed.

use super::ci::{
    BranchSpec, CiSpec, DeploymentSpec, DeploymentStatus, EnvironmentSpec, EnvironmentState,
    GitTagSpec, MergeRequestSpec, MergeRequestState, PipelineSpec, PipelineStatus, Tier,
};
use super::prng::SplitMix64;
use super::{RepositorySpec, TagSpec};

const HOUR: u64 = 3_600;
const DAY: u64 = 24 * HOUR;

/// A full commit SHA starting with `prefix` (hex), the rest from `rng`.
fn complete(prefix: &str, rng: &mut SplitMix64) -> String {
    let mut sha = prefix.to_ascii_lowercase();
    sha.push_str(&rng.hex(40usize.saturating_sub(prefix.len())));
    sha
}

fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The builds of one branch: (full SHA, seconds ago), oldest first.
fn builds(tags: &[TagSpec], prefix: &str, rng: &mut SplitMix64) -> Vec<(String, u64)> {
    let full: Vec<&str> = tags
        .iter()
        .map(|t| t.name.as_str())
        .filter(|n| n.len() == 40 && is_hex(n))
        .collect();
    let mut out: Vec<(String, u64)> = tags
        .iter()
        .filter_map(|t| {
            let short = t.name.strip_prefix(prefix)?;
            is_hex(short).then_some((short, t.pushed_seconds_ago))
        })
        .map(|(short, at)| {
            let sha = full
                .iter()
                .find(|f| f.starts_with(short))
                .map(|f| f.to_string())
                .unwrap_or_else(|| complete(short, rng));
            (sha, at)
        })
        .collect();
    out.sort_by_key(|(_, at)| std::cmp::Reverse(*at));
    out
}

/// `acme/web`'s branches, git tags, pipelines, merge requests and environments.
pub(super) fn acme_web(root: &RepositorySpec) -> CiSpec {
    let mut rng = SplitMix64::new(0xC1C0_47E7);
    let main = builds(&root.tags, "main-", &mut rng);
    let feature = builds(&root.tags, "feature-login-", &mut rng);
    let mut ci = CiSpec::default();

    let pipeline = |ci: &mut CiSpec, reference: &str, sha: &str, at: u64, source: &str| {
        add_pipeline(ci, 7_000, reference, sha, at, source)
    };
    for (sha, at) in &main {
        pipeline(&mut ci, "main", sha, *at, "push");
    }
    for (sha, at) in &feature {
        pipeline(&mut ci, "feature/login", sha, *at, "merge_request_event");
    }
    // !497 is the merge request behind the registry's `mr-497` tag (pushed 20 hours ago).
    let fix = rng.hex(40);
    pipeline(
        &mut ci,
        "fix/footer-typo",
        &fix,
        20 * HOUR,
        "merge_request_event",
    );
    ci.branches.push(BranchSpec {
        name: "fix/footer-typo".into(),
        sha: fix.clone(),
        committed_seconds_ago: 20 * HOUR + 10 * 60,
        default: false,
        protected: false,
    });
    ci.merge_requests.push(MergeRequestSpec {
        id: 9_497,
        iid: 497,
        title: "Fix a typo in the footer".into(),
        source_branch: "fix/footer-typo".into(),
        target_branch: "main".into(),
        sha: fix,
        state: MergeRequestState::Opened,
        author: "maria".into(),
        created_seconds_ago: 22 * HOUR,
        updated_seconds_ago: 20 * HOUR,
        finished_seconds_ago: None,
    });
    let gone = rng.hex(40);
    pipeline(
        &mut ci,
        "perf/cache-headers",
        &gone,
        20 * DAY,
        "merge_request_event",
    );

    if let Some((sha, at)) = main.last() {
        ci.branches.push(main_branch(sha, *at));
    }
    if let Some((sha, at)) = feature.last() {
        ci.branches.push(BranchSpec {
            name: "feature/login".into(),
            sha: sha.clone(),
            committed_seconds_ago: at + 10 * 60,
            default: false,
            protected: false,
        });
        ci.merge_requests.push(MergeRequestSpec {
            id: 9_482,
            iid: 482,
            title: "Log in with passkeys".into(),
            source_branch: "feature/login".into(),
            target_branch: "main".into(),
            sha: sha.clone(),
            state: MergeRequestState::Opened,
            author: "devon".into(),
            created_seconds_ago: 21 * DAY,
            updated_seconds_ago: *at,
            finished_seconds_ago: None,
        });
    }
    ci.merge_requests.push(MergeRequestSpec {
        id: 9_451,
        iid: 451,
        title: "Cache static assets for a year".into(),
        source_branch: "perf/cache-headers".into(),
        target_branch: "main".into(),
        sha: gone,
        state: MergeRequestState::Merged,
        author: "devon".into(),
        created_seconds_ago: 24 * DAY,
        updated_seconds_ago: 19 * DAY,
        finished_seconds_ago: Some(19 * DAY),
    });

    let mut releases: Vec<&TagSpec> = root
        .tags
        .iter()
        .filter(|t| {
            t.name.starts_with('v') && t.name[1..].starts_with(|c: char| c.is_ascii_digit())
        })
        .collect();
    releases.sort_by_key(|t| std::cmp::Reverse(t.pushed_seconds_ago));
    for t in &releases {
        ci.git_tags.push(GitTagSpec {
            name: t.name.clone(),
            sha: rng.hex(40),
            created_seconds_ago: t.pushed_seconds_ago + 15 * 60,
            message: None,
        });
    }
    let release = |name: &str| ci.git_tags.iter().find(|g| g.name == name).cloned();

    let mut deployment_id = 300;
    let mut deploy = |reference: &str, sha: &str, status: DeploymentStatus, at: u64| {
        deployment_id += 1;
        DeploymentSpec {
            id: deployment_id,
            iid: deployment_id - 300,
            reference: reference.to_string(),
            sha: sha.to_string(),
            status,
            user: "maria".into(),
            created_seconds_ago: at + 6 * 60,
            finished_seconds_ago: Some(at),
        }
    };
    let mut production = Vec::new();
    for (name, status, at) in [
        ("v2.2.1", DeploymentStatus::Success, 40 * DAY),
        ("v2.3.0", DeploymentStatus::Failed, 12 * DAY),
        ("v2.3.0", DeploymentStatus::Success, 11 * DAY),
        ("v2.3.1", DeploymentStatus::Success, 5 * DAY),
    ] {
        if let Some(tag) = release(name) {
            production.push(deploy(name, &tag.sha, status, at));
        }
    }
    // Each release was built and deployed by a pipeline on its git tag.
    let tag_pipelines: Vec<(String, String, u64)> = production
        .iter()
        .map(|d| {
            (
                d.reference.clone(),
                d.sha.clone(),
                d.created_seconds_ago + 30 * 60,
            )
        })
        .collect();
    for (reference, sha, at) in tag_pipelines {
        if !ci
            .pipelines
            .iter()
            .any(|p| p.reference == reference && p.sha == sha)
        {
            pipeline(&mut ci, &reference, &sha, at, "push");
        }
    }
    let staging: Vec<DeploymentSpec> = main
        .iter()
        .filter(|(_, at)| (2 * DAY..8 * DAY).contains(at))
        .take(2)
        .map(|(sha, at)| {
            deploy(
                "main",
                sha,
                DeploymentStatus::Success,
                at.saturating_sub(HOUR),
            )
        })
        .collect();
    let review: Vec<DeploymentSpec> = feature
        .last()
        .map(|(sha, at)| {
            deploy(
                "feature/login",
                sha,
                DeploymentStatus::Success,
                at.saturating_sub(HOUR),
            )
        })
        .into_iter()
        .collect();
    ci.environments = vec![
        EnvironmentSpec {
            id: 11,
            name: "production".into(),
            tier: Tier::Production,
            state: EnvironmentState::Available,
            created_seconds_ago: 700 * DAY,
            external_url: Some("https://www.acme.example".into()),
            deployments: production,
        },
        EnvironmentSpec {
            id: 12,
            name: "staging".into(),
            tier: Tier::Staging,
            state: EnvironmentState::Available,
            created_seconds_ago: 600 * DAY,
            external_url: Some("https://staging.acme.example".into()),
            deployments: staging,
        },
        EnvironmentSpec {
            id: 13,
            name: "review/feature-login".into(),
            tier: Tier::Development,
            state: EnvironmentState::Available,
            created_seconds_ago: 20 * DAY,
            external_url: None,
            deployments: review,
        },
    ];
    ci
}

/// The default, protected `main` branch whose head `sha` was built `built` seconds ago
/// (committed ten minutes before).
fn main_branch(sha: &str, built: u64) -> BranchSpec {
    BranchSpec {
        name: "main".into(),
        sha: sha.to_string(),
        committed_seconds_ago: built + 10 * 60,
        default: true,
        protected: true,
    }
}

/// Adds a successful pipeline that finished `at` seconds ago, numbered after the project's
/// earlier ones from `first_id` on (ids are instance-wide, iids per project).
fn add_pipeline(ci: &mut CiSpec, first_id: u64, reference: &str, sha: &str, at: u64, source: &str) {
    let iid = ci.pipelines.len() as u64 + 1;
    ci.pipelines.push(PipelineSpec {
        id: first_id + iid,
        iid,
        reference: reference.to_string(),
        sha: sha.to_string(),
        status: PipelineStatus::Success,
        source: source.to_string(),
        created_seconds_ago: at + 9 * 60,
        updated_seconds_ago: at,
    });
}

/// A git tag for every release of `repo` (tags named `v<digit>…`, or `<digit>…` as `v…`), made
/// a quarter of an hour before the image was pushed, each built by a pipeline on it.
fn releases(ci: &mut CiSpec, first_pipeline: u64, repo: &RepositorySpec, rng: &mut SplitMix64) {
    let mut tags: Vec<&TagSpec> = repo
        .tags
        .iter()
        .filter(|t| {
            let version = t.name.strip_prefix('v').unwrap_or(&t.name);
            version.starts_with(|c: char| c.is_ascii_digit()) && version.contains('.')
        })
        .collect();
    tags.sort_by_key(|t| std::cmp::Reverse(t.pushed_seconds_ago));
    for t in tags {
        let name = if t.name.starts_with('v') {
            t.name.clone()
        } else {
            format!("v{}", t.name)
        };
        let sha = rng.hex(40);
        add_pipeline(
            ci,
            first_pipeline,
            &name,
            &sha,
            t.pushed_seconds_ago,
            "push",
        );
        ci.git_tags.push(GitTagSpec {
            name,
            sha,
            created_seconds_ago: t.pushed_seconds_ago + 15 * 60,
            message: None,
        });
    }
}

/// A successful deployment of the git tag `name` by `user`, `after` seconds after the tag
/// was made: a manual job of that tag's pipeline, started after its build.
fn deploy_release(
    ci: &CiSpec,
    id: u64,
    name: &str,
    user: &str,
    after: u64,
) -> Option<DeploymentSpec> {
    let tag = ci.git_tags.iter().find(|g| g.name == name)?;
    let at = tag.created_seconds_ago.saturating_sub(after);
    Some(DeploymentSpec {
        id,
        iid: 1,
        reference: name.to_string(),
        sha: tag.sha.clone(),
        status: DeploymentStatus::Success,
        user: user.to_string(),
        created_seconds_ago: at + 6 * 60,
        finished_seconds_ago: Some(at),
    })
}

/// `olivia/secret`'s releases, production, and the closed experiment.
pub(super) fn olivia_secret(repo: &RepositorySpec) -> CiSpec {
    let mut rng = SplitMix64::new(0x011B_1A5E);
    let mut ci = CiSpec::default();
    releases(&mut ci, 8_000, repo, &mut rng);
    let production = deploy_release(&ci, 401, "v0.3.0", "olivia", DAY);
    let head = rng.hex(40);
    add_pipeline(&mut ci, 8_000, "main", &head, 5 * DAY, "push");
    ci.branches.push(main_branch(&head, 5 * DAY));
    if let Some(experiment) = repo.tags.iter().find(|t| t.name.starts_with("experiment-")) {
        let sha = complete(&experiment.name["experiment-".len()..], &mut rng);
        let at = experiment.pushed_seconds_ago;
        add_pipeline(
            &mut ci,
            8_000,
            "experiment/alpine-edge",
            &sha,
            at,
            "merge_request_event",
        );
        ci.merge_requests.push(MergeRequestSpec {
            id: 9_602,
            iid: 2,
            title: "Try alpine:edge".into(),
            source_branch: "experiment/alpine-edge".into(),
            target_branch: "main".into(),
            sha,
            state: MergeRequestState::Closed,
            author: "olivia".into(),
            created_seconds_ago: at + DAY,
            updated_seconds_ago: at.saturating_sub(2 * DAY),
            finished_seconds_ago: Some(at.saturating_sub(2 * DAY)),
        });
    }
    ci.environments = vec![EnvironmentSpec {
        id: 21,
        name: "production".into(),
        tier: Tier::Production,
        state: EnvironmentState::Available,
        created_seconds_ago: 80 * DAY,
        external_url: None,
        deployments: production.into_iter().collect(),
    }];
    ci
}

/// `opensource/cli`'s releases, its download page, `main` and the nightly builds.
pub(super) fn opensource_cli(repo: &RepositorySpec) -> CiSpec {
    let mut rng = SplitMix64::new(0xC11_0BE4);
    let mut ci = CiSpec::default();
    releases(&mut ci, 9_000, repo, &mut rng);
    let download = deploy_release(&ci, 501, "v1.8.0", "maria", HOUR);
    for t in repo
        .tags
        .iter()
        .filter(|t| t.name.len() == 10 && t.name.bytes().filter(|b| *b == b'-').count() == 2)
    {
        let sha = rng.hex(40);
        add_pipeline(
            &mut ci,
            9_000,
            "main",
            &sha,
            t.pushed_seconds_ago,
            "schedule",
        );
    }
    let edge = builds(&repo.tags, "edge-", &mut rng);
    for (sha, at) in &edge {
        add_pipeline(&mut ci, 9_000, "main", sha, *at, "push");
    }
    if let Some((sha, at)) = edge.last() {
        ci.branches.push(main_branch(sha, *at));
    }
    ci.environments = vec![EnvironmentSpec {
        id: 31,
        name: "downloads".into(),
        tier: Tier::Production,
        state: EnvironmentState::Available,
        created_seconds_ago: 700 * DAY,
        external_url: Some("https://cli.opensource.example/download".into()),
        deployments: download.into_iter().collect(),
    }];
    ci
}
