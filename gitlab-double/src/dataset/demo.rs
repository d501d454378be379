//! The seeded demo dataset (`Dataset::demo()`).
//!
//! Six users with one role each, a private company group with a subgroup, a public open-source
//! group, a personal project, and container repositories covering the cases a registry dashboard
//! must handle: an ordinary image with shared digests and signatures, a repository with a tag whose
//! manifest is missing, multi-platform indexes, an empty repository, one scheduled for deletion and
//! one with 10,000 tags.
//!
//! Registry credentials, so a credentials page is not empty: `acme/web` has a deploy token that
//! expires in ten days ("expiring soon"), one that expired a month ago, and a Reporter project
//! access token that pulled images three hours ago; the `acme` group has a deploy token that never
//! expires.

use super::generate::{linux, GenerateSpec, ImageFactory};
use super::prng::SplitMix64;
use super::{
    AccessTokenSpec, CleanupSpec, CleanupStatus, Dataset, DeployTokenSpec, ExpirationPolicySpec,
    GroupSpec, ImageSpec, MemberSpec, PlatformSpec, ProjectSpec, ProtectionRulesSpec,
    RegistryAccessLevel, RepositorySpec, RepositoryStatus, TagProtectionRuleSpec, TagSpec,
    UserSpec, Visibility,
};

const MINUTE: u64 = 60;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;

/// The seed every demo digest, size and age derives from.
const DEMO_SEED: u64 = 0x00D0_0B1E_5EED_2024;
/// The seed of the 10,000-tag repository's generator.
const SCALE_SEED: u64 = 10_000;

pub(super) fn demo() -> Dataset {
    let mut rng = SplitMix64::new(DEMO_SEED);
    Dataset {
        users: users(),
        groups: groups(),
        projects: vec![
            acme_web(&mut rng),
            acme_platform_api(&mut rng),
            project(
                1003,
                "acme/platform/tools",
                "Tools",
                "Internal tooling; the registry is on but nothing was pushed yet.",
                Visibility::Private,
                (200 * DAY, 30 * DAY),
                Vec::new(),
            ),
            olivia_secret(&mut rng),
            opensource_cli(&mut rng),
        ],
    }
}

fn users() -> Vec<UserSpec> {
    [
        (1, "olivia", "Olivia Owner"),
        (2, "maria", "Maria Maintainer"),
        (3, "devon", "Devon Developer"),
        (4, "reese", "Reese Reporter"),
        (5, "gus", "Gus Guest"),
        (6, "nora", "Nora Outsider"),
    ]
    .into_iter()
    .map(|(id, username, name)| UserSpec {
        id,
        username: username.to_owned(),
        name: name.to_owned(),
        email: format!("{username}@example.test"),
        state: "active".to_owned(),
    })
    .collect()
}

fn member(username: &str, access_level: u8) -> MemberSpec {
    MemberSpec {
        username: username.to_owned(),
        access_level,
    }
}

fn groups() -> Vec<GroupSpec> {
    vec![
        GroupSpec {
            id: 10,
            full_path: "acme".to_owned(),
            name: "ACME".to_owned(),
            visibility: Visibility::Private,
            description: "ACME Corporation".to_owned(),
            created_seconds_ago: 3 * 365 * DAY,
            members: vec![
                member("olivia", 50),
                member("maria", 40),
                member("devon", 30),
                member("reese", 20),
                member("gus", 10),
            ],
            deploy_tokens: vec![DeployTokenSpec {
                id: 3,
                name: "k8s-image-pull".to_owned(),
                username: Some("acme-k8s-pull".to_owned()),
                scopes: vec!["read_registry".to_owned()],
                expires_in_seconds: None,
                revoked: false,
            }],
            access_tokens: Vec::new(),
        },
        GroupSpec {
            id: 11,
            full_path: "acme/platform".to_owned(),
            name: "Platform".to_owned(),
            visibility: Visibility::Private,
            description: "Platform team (members inherited from acme)".to_owned(),
            created_seconds_ago: 2 * 365 * DAY,
            members: Vec::new(),
            deploy_tokens: Vec::new(),
            access_tokens: Vec::new(),
        },
        GroupSpec {
            id: 12,
            full_path: "opensource".to_owned(),
            name: "Open Source".to_owned(),
            visibility: Visibility::Public,
            description: "Public projects".to_owned(),
            created_seconds_ago: 4 * 365 * DAY,
            members: vec![member("maria", 40)],
            deploy_tokens: Vec::new(),
            access_tokens: Vec::new(),
        },
    ]
}

fn project(
    id: u64,
    path: &str,
    name: &str,
    description: &str,
    visibility: Visibility,
    (created, last_activity): (u64, u64),
    repositories: Vec<RepositorySpec>,
) -> ProjectSpec {
    ProjectSpec {
        id,
        path_with_namespace: path.to_owned(),
        name: name.to_owned(),
        description: description.to_owned(),
        visibility,
        created_seconds_ago: created,
        last_activity_seconds_ago: last_activity,
        container_registry_access_level: RegistryAccessLevel::Enabled,
        members: Vec::new(),
        container_expiration_policy: ExpirationPolicySpec::default(),
        protection_rules: ProtectionRulesSpec::default(),
        repositories,
        deploy_tokens: Vec::new(),
        access_tokens: Vec::new(),
    }
}

/// Collects images (deduplicated by digest) and tags of one repository.
#[derive(Default)]
struct RepoContent {
    images: Vec<ImageSpec>,
    tags: Vec<TagSpec>,
}

impl RepoContent {
    fn tag(&mut self, name: &str, image: &ImageSpec, pushed: u64, updated: Option<u64>) {
        if !self.images.iter().any(|i| i.digest == image.digest) {
            self.images.push(image.clone());
        }
        self.tags.push(TagSpec {
            name: name.to_owned(),
            digest: Some(image.digest.clone()),
            pushed_seconds_ago: pushed,
            updated_seconds_ago: updated,
        });
    }

    fn into_repository(
        self,
        id: u64,
        name: &str,
        created: u64,
        last_cleanup: Option<CleanupSpec>,
    ) -> RepositorySpec {
        RepositorySpec {
            id,
            name: name.to_owned(),
            created_seconds_ago: created,
            status: None,
            last_cleanup,
            images: self.images,
            tags: self.tags,
            generate: None,
        }
    }
}

/// Ages spread evenly from `oldest` to `newest` seconds ago, with a little jitter.
fn spread(rng: &mut SplitMix64, count: usize, oldest: u64, newest: u64) -> Vec<u64> {
    (0..count)
        .map(|i| {
            let step = (oldest - newest) / (count.max(2) as u64 - 1);
            let base = oldest - step * i as u64;
            let jitter = rng.below(step / 3 + 1);
            base.saturating_sub(jitter).max(newest)
        })
        .collect()
}

fn cleanup(started: u64, deleted: u32) -> Option<CleanupSpec> {
    Some(CleanupSpec {
        started_seconds_ago: started,
        status: CleanupStatus::Unscheduled,
        deleted_tags_count: Some(deleted),
    })
}

fn acme_web(rng: &mut SplitMix64) -> ProjectSpec {
    let mut p = project(
        1001,
        "acme/web",
        "Web",
        "Customer-facing web application",
        Visibility::Private,
        (800 * DAY, 2 * HOUR),
        vec![acme_web_root(rng), acme_web_worker(rng)],
    );
    p.container_expiration_policy = ExpirationPolicySpec {
        cadence: "1d".to_owned(),
        enabled: true,
        keep_n: Some(10),
        older_than: Some("90d".to_owned()),
        name_regex: Some(".*".to_owned()),
        name_regex_keep: Some(r"v\d+\.\d+\.\d+".to_owned()),
        next_run_in_seconds: Some(5 * HOUR),
    };
    // `stable` is what production pulls: only maintainers may move or delete it.
    p.protection_rules.tag_rules.push(TagProtectionRuleSpec {
        id: 1,
        tag_name_pattern: "^stable$".to_owned(),
        minimum_access_level_for_push: "maintainer".to_owned(),
        minimum_access_level_for_delete: "maintainer".to_owned(),
    });
    p.deploy_tokens = vec![
        DeployTokenSpec {
            id: 1,
            name: "production-pull".to_owned(),
            username: None,
            scopes: vec!["read_registry".to_owned()],
            expires_in_seconds: Some(10 * DAY as i64),
            revoked: false,
        },
        DeployTokenSpec {
            id: 2,
            name: "old-ci".to_owned(),
            username: Some("legacy-ci".to_owned()),
            scopes: vec!["read_repository".to_owned(), "read_registry".to_owned()],
            expires_in_seconds: Some(-(30 * DAY as i64)),
            revoked: false,
        },
    ];
    p.access_tokens = vec![AccessTokenSpec {
        id: 1,
        name: "ci-image-reader".to_owned(),
        description: Some("Pulls images for the integration tests".to_owned()),
        scopes: vec!["read_registry".to_owned()],
        access_level: 20,
        created_seconds_ago: 120 * DAY,
        expires_in_days: Some(200),
        last_used_seconds_ago: Some(3 * HOUR),
        revoked: false,
    }];
    p
}

/// `acme/web` root image: 60 tags; `latest`, `stable` and `v2.3.1` share one image.
fn acme_web_root(rng: &mut SplitMix64) -> RepositorySpec {
    let releases = [
        "v1.0.0", "v1.0.1", "v1.0.2", "v1.1.0", "v1.1.1", "v1.2.0", "v1.2.1", "v1.2.2", "v1.3.0",
        "v1.4.0", "v1.4.1", "v1.5.0", "v1.5.1", "v1.6.0", "v1.7.0", "v1.7.1", "v1.8.0", "v1.9.0",
        "v2.0.0", "v2.0.1", "v2.1.0", "v2.1.1", "v2.1.2", "v2.2.0", "v2.2.1", "v2.3.0", "v2.3.1",
    ];
    let mut content = RepoContent::default();
    let ages = spread(rng, releases.len(), 700 * DAY, 6 * DAY);
    let mut f = ImageFactory::new(rng);
    let mut newest = None;
    for (name, built) in releases.iter().zip(ages) {
        let v2 = name.starts_with("v2.");
        let sbom = v2 && name.as_bytes().get(3).is_some_and(|m| *m >= b'2');
        let referrers = f.referrers(v2, sbom);
        let image = f.random_single(built, v2, referrers);
        let pushed = f.push_after(built);
        content.tag(name, &image, pushed, None);
        newest = Some((image, pushed));
    }
    if let Some((image, pushed)) = &newest {
        content.tag(
            "latest",
            image,
            700 * DAY,
            Some(pushed.saturating_sub(5 * MINUTE)),
        );
        content.tag("stable", image, 400 * DAY, Some(pushed.saturating_sub(DAY)));
    }
    for (rc, built) in [(1, 2 * DAY + 3 * HOUR), (2, DAY + 2 * HOUR)] {
        let image = f.random_single(built, true, Vec::new());
        let pushed = f.push_after(built);
        content.tag(&format!("v2.4.0-rc.{rc}"), &image, pushed, None);
    }
    let main_ages = spread(f.rng(), 19, 45 * DAY, 12 * MINUTE);
    for (i, built) in main_ages.into_iter().enumerate() {
        let signed = i >= 16;
        let referrers = f.referrers(signed, false);
        let image = f.random_single(built, true, referrers);
        let sha = f.rng().hex(7);
        let pushed = f.push_after(built);
        content.tag(&format!("main-{sha}"), &image, pushed, None);
    }
    let feature_ages = spread(f.rng(), 10, 20 * DAY, 3 * DAY);
    for built in feature_ages {
        let image = f.random_single(built, true, Vec::new());
        let sha = f.rng().hex(7);
        let pushed = f.push_after(built);
        content.tag(&format!("feature-login-{sha}"), &image, pushed, None);
    }
    content.into_repository(1, "", 790 * DAY, cleanup(19 * HOUR, 12))
}

/// `acme/web/worker`: 15 tags, one of which (`ci-cache`) has no manifest.
fn acme_web_worker(rng: &mut SplitMix64) -> RepositorySpec {
    let releases = [
        "v1.0.0", "v1.0.1", "v1.1.0", "v1.2.0", "v1.2.1", "v1.3.0", "v1.3.1", "v1.4.0",
    ];
    let mut content = RepoContent::default();
    let ages = spread(rng, releases.len(), 500 * DAY, 9 * DAY);
    let mut f = ImageFactory::new(rng);
    let mut newest = None;
    for (name, built) in releases.iter().zip(ages) {
        let image = f.random_single(built, false, Vec::new());
        let pushed = f.push_after(built);
        content.tag(name, &image, pushed, None);
        newest = Some((image, pushed));
    }
    if let Some((image, pushed)) = &newest {
        content.tag("latest", image, 500 * DAY, Some(*pushed));
    }
    let main_ages = spread(f.rng(), 5, 30 * DAY, 3 * HOUR);
    for built in main_ages {
        let image = f.random_single(built, false, Vec::new());
        let sha = f.rng().hex(7);
        let pushed = f.push_after(built);
        content.tag(&format!("main-{sha}"), &image, pushed, None);
    }
    // A tag whose manifest upload never completed.
    content.tags.push(TagSpec {
        name: "ci-cache".to_owned(),
        digest: None,
        pushed_seconds_ago: 40 * DAY,
        updated_seconds_ago: None,
    });
    content.into_repository(2, "worker", 520 * DAY, cleanup(19 * HOUR, 0))
}

fn acme_platform_api(rng: &mut SplitMix64) -> ProjectSpec {
    let server = RepositorySpec {
        id: 3,
        name: "server".to_owned(),
        created_seconds_ago: 730 * DAY,
        status: None,
        last_cleanup: None,
        images: Vec::new(),
        tags: Vec::new(),
        generate: Some(GenerateSpec {
            tags: 10_000,
            seed: SCALE_SEED,
            max_age_days: 730,
        }),
    };
    let migrations = RepoContent::default().into_repository(4, "migrations", 60 * DAY, None);
    let mut legacy = RepoContent::default();
    let mut f = ImageFactory::new(rng);
    let mut newest = None;
    for (name, built) in [("v0.9.0", 650 * DAY), ("v0.9.1", 600 * DAY)] {
        let image = f.random_single(built, false, Vec::new());
        let pushed = f.push_after(built);
        legacy.tag(name, &image, pushed, None);
        newest = Some((image, pushed));
    }
    if let Some((image, pushed)) = &newest {
        legacy.tag("latest", image, 650 * DAY, Some(*pushed));
    }
    let mut legacy = legacy.into_repository(5, "legacy", 700 * DAY, None);
    legacy.status = Some(RepositoryStatus::DeleteScheduled);
    project(
        1002,
        "acme/platform/api",
        "API",
        "Public API backend",
        Visibility::Private,
        (720 * DAY, 20 * MINUTE),
        vec![server, migrations, legacy],
    )
}

/// A personal project: only its owner (olivia) is a member, so everyone else gets a 404.
fn olivia_secret(rng: &mut SplitMix64) -> ProjectSpec {
    let mut content = RepoContent::default();
    let mut f = ImageFactory::new(rng);
    let mut newest = None;
    for (name, built) in [
        ("v0.1.0", 80 * DAY),
        ("v0.2.0", 50 * DAY),
        ("v0.3.0", 12 * DAY),
    ] {
        let image = f.random_single(built, true, Vec::new());
        let pushed = f.push_after(built);
        content.tag(name, &image, pushed, None);
        newest = Some((image, pushed));
    }
    if let Some((image, pushed)) = &newest {
        content.tag("latest", image, 80 * DAY, Some(*pushed));
    }
    let built = 5 * DAY;
    let image = f.random_single(built, true, Vec::new());
    let sha = f.rng().hex(7);
    let pushed = f.push_after(built);
    content.tag(&format!("experiment-{sha}"), &image, pushed, None);
    project(
        1004,
        "olivia/secret",
        "Secret",
        "Olivia's personal project",
        Visibility::Private,
        (90 * DAY, 5 * DAY),
        vec![content.into_repository(6, "", 85 * DAY, None)],
    )
}

/// `opensource/cli`: public; every release is a multi-platform OCI index.
fn opensource_cli(rng: &mut SplitMix64) -> ProjectSpec {
    let releases = [
        "v0.1.0", "v0.2.0", "v0.3.0", "v0.3.1", "v0.4.0", "v0.5.0", "v0.5.1", "v0.6.0", "v0.7.0",
        "v0.8.0", "v0.9.0", "v0.9.1", "v1.0.0", "v1.0.1", "v1.1.0", "v1.2.0", "v1.2.1", "v1.3.0",
        "v1.4.0", "v1.5.0", "v1.5.1", "v1.6.0", "v1.7.0", "v1.8.0",
    ];
    let platforms: [PlatformSpec; 4] = [
        linux("amd64", None),
        linux("arm64", None),
        linux("arm", Some("v7")),
        linux("s390x", None),
    ];
    let mut content = RepoContent::default();
    let ages = spread(rng, releases.len(), 720 * DAY, 2 * DAY);
    let mut f = ImageFactory::new(rng);
    let mut newest = None;
    for (i, (name, built)) in releases.iter().zip(ages).enumerate() {
        let count = if i < 12 {
            2
        } else if i < 19 {
            3
        } else {
            4
        };
        let v1 = name.starts_with("v1.");
        let referrers = f.referrers(v1, v1);
        let image = f.index(built, &platforms[..count], referrers);
        let pushed = f.push_after(built);
        content.tag(name, &image, pushed, None);
        newest = Some((image, pushed));
    }
    if let Some((image, pushed)) = &newest {
        content.tag("latest", image, 720 * DAY, Some(*pushed));
    }
    let edge_ages = spread(f.rng(), 5, 10 * DAY, 30 * MINUTE);
    for built in edge_ages {
        let image = f.random_single(built, true, Vec::new());
        let sha = f.rng().hex(7);
        let pushed = f.push_after(built);
        content.tag(&format!("edge-{sha}"), &image, pushed, None);
    }
    let mut p = project(
        1005,
        "opensource/cli",
        "CLI",
        "Command-line client, published for several platforms",
        Visibility::Public,
        (1000 * DAY, DAY),
        vec![content.into_repository(7, "", 720 * DAY, cleanup(3 * DAY, 3))],
    );
    p.container_expiration_policy = ExpirationPolicySpec {
        cadence: "7d".to_owned(),
        enabled: true,
        keep_n: Some(25),
        older_than: Some("30d".to_owned()),
        name_regex: Some("edge-.*".to_owned()),
        name_regex_keep: None,
        next_run_in_seconds: Some(2 * DAY),
    };
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo(d: &Dataset, id: u64) -> &RepositorySpec {
        d.projects
            .iter()
            .flat_map(|p| p.repositories.iter())
            .find(|r| r.id == id)
            .unwrap_or_else(|| panic!("repository {id}"))
    }

    #[test]
    fn demo_has_the_promised_shape() {
        let d = demo();
        assert_eq!(repo(&d, 1).tags.len(), 60);
        assert_eq!(repo(&d, 2).tags.len(), 15);
        assert_eq!(repo(&d, 4).tags.len(), 0);
        assert_eq!(repo(&d, 5).status, Some(RepositoryStatus::DeleteScheduled));
        assert_eq!(repo(&d, 7).tags.len(), 30);
        let root = repo(&d, 1);
        let digest_of = |n: &str| {
            root.tags
                .iter()
                .find(|t| t.name == n)
                .map(|t| t.digest.clone())
        };
        assert_eq!(digest_of("latest"), digest_of("v2.3.1"));
        assert_eq!(digest_of("stable"), digest_of("v2.3.1"));
        assert!(repo(&d, 2).tags.iter().any(|t| t.digest.is_none()));
        assert_eq!(demo(), d, "deterministic");
    }

    #[test]
    fn published_never_precedes_build() {
        let d = demo();
        for p in &d.projects {
            for r in &p.repositories {
                for t in &r.tags {
                    let Some(digest) = &t.digest else { continue };
                    let Some(image) = r.images.iter().find(|i| &i.digest == digest) else {
                        panic!("image of {}", t.name)
                    };
                    let built = image.built_seconds_ago.unwrap_or(0);
                    assert!(t.pushed_seconds_ago <= built || t.updated_seconds_ago.is_some());
                }
            }
        }
    }
}
