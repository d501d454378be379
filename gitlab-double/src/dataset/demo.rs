//! The seeded demo dataset (`Dataset::demo()`).
//!
//! Six users with one role each, a private company group with a subgroup, a public open-source
//! group, a personal project, and container repositories covering the cases a registry dashboard
//! must handle: an ordinary image with shared digests and signatures, a repository with a tag whose
//! manifest is missing, multi-platform indexes, an empty repository, one scheduled for deletion and
//! one with 10,000 tags.
//!
//! Layers are shared the way real builds share them (see [`super::bases`]): every repository is
//! built on bases from the shared pool, with dependency layers that carry over a few consecutive
//! builds and app layers of its own.
//!
//! |repository|base|notes|
//! |---|---|---|
//! |`acme/web`|node (on debian-slim)|also cosign sidecar tags `sha256-<digest>.sig/.att/.sbom`|
//! |`acme/web/worker`|python (on debian-slim)|Docker media types|
//! |`acme/platform/api/server`|golang, then distroless-base, then distroless-static|generated|
//! |`acme/platform/api/legacy`|ubuntu|Docker media types|
//! |`olivia/secret`|alpine||
//! |`opensource/cli`|alpine, per platform|indexes; tags imported from an older registry|
//!
//! So debian-slim layers are shared by three repositories in two projects, alpine's by two
//! projects, and each platform's alpine layer by every index of the CLI that has the platform.
//!
//! Tag names cover the families a dashboard classifies: semantic versions with and without `v`
//! (`v2.3.1`, `v2.4.0-rc.1`, `0.0.4-rc.1`), commit SHAs (`main-<7 hex>`, a bare 40-hex SHA),
//! branches (`main`, `feature-login`, `mr-482`), dates (`2026-11-30`, `20261116`), cosign sidecars
//! and `latest`/`stable`.
//!
//! Registry credentials, so a credentials page is not empty: `acme/web` has a deploy token that
//! expires in ten days ("expiring soon"), one that expired a month ago, and a Reporter project
//! access token that pulled images three hours ago; the `acme` group has a deploy token that never
//! expires.

use super::bases::{Base, BuildLine};
use super::generate::{linux, GenerateSpec, ImageFactory, Planned, Sidecar};
use super::prng::SplitMix64;
use super::{
    AccessTokenSpec, CleanupSpec, CleanupStatus, Dataset, DeployTokenSpec, ExpirationPolicySpec,
    GroupSpec, ImageSpec, MemberSpec, PlatformSpec, ProjectSpec, ProtectionRulesSpec,
    RegistryAccessLevel, RepositorySpec, RepositoryStatus, TagProtectionRuleSpec, TagSpec,
    UserSpec, Visibility,
};

const MB: u64 = 1_000_000;
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
            acme_platform_tools(),
            olivia_secret(&mut rng),
            opensource_cli(&mut rng),
        ],
    }
}

/// Internal tooling with nothing pushed yet. devon, a Developer elsewhere in acme, maintains
/// it: a user whose role differs between a group's projects.
fn acme_platform_tools() -> ProjectSpec {
    let mut p = project(
        1003,
        "acme/platform/tools",
        "Tools",
        "Internal tooling; the registry is on but nothing was pushed yet.",
        Visibility::Private,
        (200 * DAY, 30 * DAY),
        Vec::new(),
    );
    p.members = vec![member("devon", 40)];
    p
}

fn users() -> Vec<UserSpec> {
    [
        (1, "olivia", "Olivia Owner"),
        (2, "maria", "Maria Maintainer"),
        (3, "devon", "Devon Developer"),
        (4, "reese", "Reese Reporter"),
        (5, "gus", "Gus Guest"),
        (6, "nora", "Nora Outsider"),
        (7, "ada", "Ada Admin"),
    ]
    .into_iter()
    .map(|(id, username, name)| UserSpec {
        id,
        username: username.to_owned(),
        name: name.to_owned(),
        email: format!("{username}@example.test"),
        state: "active".to_owned(),
        // An instance administrator and member of nothing.
        admin: username == "ada",
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
        ci: Default::default(),
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

    fn pushed_of(&self, name: &str) -> Option<(String, u64)> {
        self.tags
            .iter()
            .find(|t| t.name == name)
            .and_then(|t| Some((t.digest.clone()?, t.pushed_seconds_ago)))
    }

    /// The tags cosign pushes next to the image of tag `subject` (`sha256-<hex>.sig`, …), each
    /// with its own small manifest, a minute or two after the subject.
    fn sidecars(&mut self, f: &mut ImageFactory, subject: &str, kinds: &[Sidecar]) {
        let Some((digest, pushed)) = self.pushed_of(subject) else {
            return;
        };
        for kind in kinds {
            let image = f.sidecar(*kind);
            let at = pushed.saturating_sub(f.rng().range(30, 4 * MINUTE));
            self.tag(&kind.tag_for(&digest), &image, at, None);
        }
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

/// A repository's builds and tags before the images exist: once every build is known, the images
/// are built oldest first on the repository's [`BuildLine`].
struct Draft {
    line: BuildLine,
    plans: Vec<Planned>,
    /// Name, build (index into `plans`), pushed and updated ages.
    tags: Vec<(String, usize, u64, Option<u64>)>,
}

impl Draft {
    fn new(key: &str, app: (u64, u64)) -> Self {
        Self {
            line: BuildLine::new(key, app),
            plans: Vec::new(),
            tags: Vec::new(),
        }
    }

    fn build(&mut self, plan: Planned) -> usize {
        self.plans.push(plan);
        self.plans.len() - 1
    }

    fn tag(&mut self, name: impl Into<String>, build: usize, pushed: u64, updated: Option<u64>) {
        self.tags.push((name.into(), build, pushed, updated));
    }

    /// Builds the images and tags them.
    fn realise(mut self, f: &mut ImageFactory) -> RepoContent {
        let images = f.build_all(&mut self.line, &self.plans);
        let mut content = RepoContent::default();
        for (name, build, pushed, updated) in self.tags {
            if let Some(image) = images.get(build) {
                content.tag(&name, image, pushed, updated);
            }
        }
        content
    }
}

/// The first seven characters of a commit SHA.
fn short(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
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
    p.ci = super::demo_ci::acme_web(&p.repositories[0]);
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

/// `acme/web` root image: 73 tags on node; `latest`, `stable` and `v2.3.1` share one image, `main`
/// and a 40-hex SHA share the newest `main-<sha>` build, `perf-cache-headers` and `mr-451` (a
/// merged merge request's) share the oldest, and cosign sidecars sit next to three signed
/// images.
fn acme_web_root(rng: &mut SplitMix64) -> RepositorySpec {
    let releases = [
        "v1.0.0", "v1.0.1", "v1.0.2", "v1.1.0", "v1.1.1", "v1.2.0", "v1.2.1", "v1.2.2", "v1.3.0",
        "v1.4.0", "v1.4.1", "v1.5.0", "v1.5.1", "v1.6.0", "v1.7.0", "v1.7.1", "v1.8.0", "v1.9.0",
        "v2.0.0", "v2.0.1", "v2.1.0", "v2.1.1", "v2.1.2", "v2.2.0", "v2.2.1", "v2.3.0", "v2.3.1",
    ];
    let mut d = Draft::new("acme/web", (2 * MB, 25 * MB));
    let ages = spread(rng, releases.len(), 700 * DAY, 6 * DAY);
    let mut f = ImageFactory::new(rng);
    let mut newest = None;
    for (name, built) in releases.iter().zip(ages) {
        let v2 = name.starts_with("v2.");
        let sbom = v2 && name.as_bytes().get(3).is_some_and(|m| *m >= b'2');
        let referrers = f.referrers(v2, sbom);
        let build = d.build(Planned::single(built, Base::Node, v2, referrers));
        let pushed = f.push_after(built);
        d.tag(*name, build, pushed, None);
        newest = Some((build, pushed));
    }
    if let Some((build, pushed)) = newest {
        d.tag(
            "latest",
            build,
            700 * DAY,
            Some(pushed.saturating_sub(5 * MINUTE)),
        );
        d.tag("stable", build, 400 * DAY, Some(pushed.saturating_sub(DAY)));
    }
    for (rc, built) in [(1, 2 * DAY + 3 * HOUR), (2, DAY + 2 * HOUR)] {
        let build = d.build(Planned::single(built, Base::Node, true, Vec::new()));
        let pushed = f.push_after(built);
        d.tag(format!("v2.4.0-rc.{rc}"), build, pushed, None);
    }
    let main_ages = spread(f.rng(), 19, 45 * DAY, 12 * MINUTE);
    let mut first_main = None;
    let mut first_main_build = None;
    let mut newest_main = None;
    for (i, built) in main_ages.into_iter().enumerate() {
        let signed = i >= 16;
        let referrers = f.referrers(signed, false);
        let build = d.build(Planned::single(built, Base::Node, true, referrers));
        let sha = f.rng().hex(40);
        let pushed = f.push_after(built);
        let name = format!("main-{}", short(&sha));
        d.tag(name.clone(), build, pushed, None);
        first_main.get_or_insert(pushed);
        first_main_build.get_or_insert(build);
        newest_main = Some((build, pushed, sha, name));
    }
    // The branch tag follows every build; the newest is also tagged with its full commit SHA.
    let mut newest_main_tag = None;
    if let (Some(first), Some((build, pushed, sha, name))) = (first_main, newest_main) {
        d.tag("main", build, first, Some(pushed));
        d.tag(sha, build, pushed, None);
        newest_main_tag = Some(name);
    }
    let feature_ages = spread(f.rng(), 10, 20 * DAY, 3 * DAY);
    let mut first_feature = None;
    let mut newest_feature = None;
    for built in feature_ages {
        let build = d.build(Planned::single(built, Base::Node, true, Vec::new()));
        let sha = f.rng().hex(7);
        let pushed = f.push_after(built);
        d.tag(format!("feature-login-{sha}"), build, pushed, None);
        first_feature.get_or_insert(pushed);
        newest_feature = Some((build, pushed));
    }
    if let (Some(first), Some((build, pushed))) = (first_feature, newest_feature) {
        d.tag("feature-login", build, first, Some(pushed));
    }
    // Merge-request pipelines tag by MR number.
    for (mr, built) in [(482, 4 * DAY + 5 * HOUR), (497, 20 * HOUR)] {
        let build = d.build(Planned::single(built, Base::Node, true, Vec::new()));
        let pushed = f.push_after(built);
        d.tag(format!("mr-{mr}"), build, pushed, None);
    }
    // Merged merge request !451's images, its branch since deleted (dead tags). They reuse an
    // old build and draw nothing from the generator, so every other image stays as it was.
    if let Some(build) = first_main_build {
        d.tag("perf-cache-headers", build, 20 * DAY, None);
        d.tag("mr-451", build, 20 * DAY + HOUR, None);
    }
    let mut content = d.realise(&mut f);
    use Sidecar::{Attestation, Sbom, Signature};
    content.sidecars(&mut f, "v2.3.1", &[Signature, Attestation, Sbom]);
    content.sidecars(&mut f, "v2.2.1", &[Signature, Sbom]);
    if let Some(name) = newest_main_tag {
        content.sidecars(&mut f, &name, &[Signature]);
    }
    content.into_repository(1, "", 790 * DAY, cleanup(19 * HOUR, 12))
}

/// `acme/web/worker`: 15 tags on python (Docker media types), one of which (`ci-cache`) has no
/// manifest.
fn acme_web_worker(rng: &mut SplitMix64) -> RepositorySpec {
    let releases = [
        "v1.0.0", "v1.0.1", "v1.1.0", "v1.2.0", "v1.2.1", "v1.3.0", "v1.3.1", "v1.4.0",
    ];
    let mut d = Draft::new("acme/web/worker", (500_000, 6 * MB));
    let ages = spread(rng, releases.len(), 500 * DAY, 9 * DAY);
    let mut f = ImageFactory::new(rng);
    let mut newest = None;
    for (name, built) in releases.iter().zip(ages) {
        let build = d.build(Planned::single(built, Base::Python, false, Vec::new()));
        let pushed = f.push_after(built);
        d.tag(*name, build, pushed, None);
        newest = Some((build, pushed));
    }
    if let Some((build, pushed)) = newest {
        d.tag("latest", build, 500 * DAY, Some(pushed));
    }
    let main_ages = spread(f.rng(), 5, 30 * DAY, 3 * HOUR);
    for built in main_ages {
        let build = d.build(Planned::single(built, Base::Python, false, Vec::new()));
        let sha = f.rng().hex(7);
        let pushed = f.push_after(built);
        d.tag(format!("main-{sha}"), build, pushed, None);
    }
    let mut content = d.realise(&mut f);
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
    // The service before its rewrite: a JVM application on ubuntu.
    let mut d = Draft::new("acme/platform/api/legacy", (30 * MB, 90 * MB));
    let mut f = ImageFactory::new(rng);
    let mut newest = None;
    for (name, built) in [("v0.9.0", 650 * DAY), ("v0.9.1", 600 * DAY)] {
        let build = d.build(Planned::single(built, Base::Ubuntu, false, Vec::new()));
        let pushed = f.push_after(built);
        d.tag(name, build, pushed, None);
        newest = Some((build, pushed));
    }
    if let Some((build, pushed)) = newest {
        d.tag("latest", build, 650 * DAY, Some(pushed));
    }
    let mut legacy = d
        .realise(&mut f)
        .into_repository(5, "legacy", 700 * DAY, None);
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

/// A personal project: only its owner (olivia) is a member, so everyone else gets a 404. Alpine
/// images, two of them tagged by date.
fn olivia_secret(rng: &mut SplitMix64) -> ProjectSpec {
    let mut d = Draft::new("olivia/secret", (5 * MB, 20 * MB));
    let mut f = ImageFactory::new(rng);
    let mut newest = None;
    for (name, built) in [
        ("v0.1.0", 80 * DAY),
        ("v0.2.0", 50 * DAY),
        ("v0.3.0", 12 * DAY),
    ] {
        let build = d.build(Planned::single(built, Base::Alpine, true, Vec::new()));
        let pushed = f.push_after(built);
        d.tag(name, build, pushed, None);
        newest = Some((build, pushed));
    }
    if let Some((build, pushed)) = newest {
        d.tag("latest", build, 80 * DAY, Some(pushed));
    }
    for (name, built) in [
        ("20261102", 29 * DAY + 7 * HOUR),
        ("20261116", 15 * DAY + 6 * HOUR),
    ] {
        let build = d.build(Planned::single(built, Base::Alpine, true, Vec::new()));
        let pushed = f.push_after(built);
        d.tag(name, build, pushed, None);
    }
    // Built from a merge request closed since (see `demo_ci`): a dead tag.
    let built = 20 * DAY;
    let build = d.build(Planned::single(built, Base::Alpine, true, Vec::new()));
    let sha = f.rng().hex(7);
    let pushed = f.push_after(built);
    d.tag(format!("experiment-{sha}"), build, pushed, None);
    let content = d.realise(&mut f);
    let mut p = project(
        1004,
        "olivia/secret",
        "Secret",
        "Olivia's personal project",
        Visibility::Private,
        (90 * DAY, 5 * DAY),
        vec![content.into_repository(6, "", 85 * DAY, None)],
    );
    p.ci = super::demo_ci::olivia_secret(&p.repositories[0]);
    p
}

/// When `opensource/cli`'s releases from before GitLab were imported, in seconds ago.
const CLI_IMPORTED: u64 = 730 * DAY + 4 * HOUR;

/// `opensource/cli`: public, on alpine; every release is a multi-platform OCI index, and so are
/// the nightly builds tagged by date. Its first releases (`0.0.1` … `0.0.6`) were imported from
/// the project's older registry in one batch: the registry's database stamped them all with the
/// import time, while their images' build times are those of the original builds.
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
    let mut d = Draft::new("opensource/cli", (8 * MB, 30 * MB));
    let ages = spread(rng, releases.len(), 720 * DAY, 2 * DAY);
    let mut f = ImageFactory::new(rng);
    let imported = [
        "0.0.1",
        "0.0.2",
        "0.0.3",
        "0.0.4-rc.1",
        "0.0.4",
        "0.0.5",
        "0.0.6-rc.1",
        "0.0.6",
    ];
    let import_ages = spread(f.rng(), imported.len(), 1_000 * DAY, 740 * DAY);
    for (name, built) in imported.iter().zip(import_ages) {
        let build = d.build(Planned::single(built, Base::Alpine, false, Vec::new()));
        d.tag(*name, build, CLI_IMPORTED, None);
    }
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
        let build = d.build(Planned::index(
            built,
            Base::Alpine,
            &platforms[..count],
            referrers,
        ));
        let pushed = f.push_after(built);
        d.tag(*name, build, pushed, None);
        newest = Some((build, pushed));
    }
    if let Some((build, pushed)) = newest {
        d.tag("latest", build, 720 * DAY, Some(pushed));
    }
    for (name, built) in [
        ("2026-11-28", 3 * DAY + HOUR),
        ("2026-11-29", 2 * DAY + HOUR),
        ("2026-11-30", DAY + HOUR),
    ] {
        let build = d.build(Planned::index(built, Base::Alpine, &platforms, Vec::new()));
        let pushed = f.push_after(built);
        d.tag(name, build, pushed, None);
    }
    let edge_ages = spread(f.rng(), 5, 10 * DAY, 30 * MINUTE);
    for built in edge_ages {
        let build = d.build(Planned::single(built, Base::Alpine, true, Vec::new()));
        let sha = f.rng().hex(7);
        let pushed = f.push_after(built);
        d.tag(format!("edge-{sha}"), build, pushed, None);
    }
    let content = d.realise(&mut f);
    let mut p = project(
        1005,
        "opensource/cli",
        "CLI",
        "Command-line client, published for several platforms",
        Visibility::Public,
        (1000 * DAY, DAY),
        vec![content.into_repository(7, "", 720 * DAY, cleanup(3 * DAY, 3))],
    );
    p.ci = super::demo_ci::opensource_cli(&p.repositories[0]);
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
    use std::collections::{BTreeMap, BTreeSet, HashMap};

    use super::*;
    use crate::dataset::{expand, BlobSpec};

    fn repo(d: &Dataset, id: u64) -> &RepositorySpec {
        d.projects
            .iter()
            .flat_map(|p| p.repositories.iter())
            .find(|r| r.id == id)
            .unwrap_or_else(|| panic!("repository {id}"))
    }

    /// A repository's images, the generated ones included, with index children.
    fn all_images(r: &RepositorySpec) -> Vec<ImageSpec> {
        let mut top = r.images.clone();
        if let Some(spec) = &r.generate {
            top.extend(expand(spec, &BTreeSet::new()).0.iter().cloned());
        }
        let mut out = Vec::new();
        for image in top {
            out.extend(image.manifests.iter().cloned());
            out.push(image);
        }
        out
    }

    fn digest_of(r: &RepositorySpec, tag: &str) -> Option<String> {
        r.tags
            .iter()
            .find(|t| t.name == tag)
            .and_then(|t| t.digest.clone())
    }

    #[test]
    fn demo_has_the_promised_shape() {
        let d = demo();
        assert_eq!(repo(&d, 1).tags.len(), 73);
        assert_eq!(repo(&d, 2).tags.len(), 15);
        assert_eq!(repo(&d, 4).tags.len(), 0);
        assert_eq!(repo(&d, 5).status, Some(RepositoryStatus::DeleteScheduled));
        assert_eq!(repo(&d, 6).tags.len(), 7);
        assert_eq!(repo(&d, 7).tags.len(), 41);
        let root = repo(&d, 1);
        assert_eq!(digest_of(root, "latest"), digest_of(root, "v2.3.1"));
        assert_eq!(digest_of(root, "stable"), digest_of(root, "v2.3.1"));
        let main = digest_of(root, "main").unwrap();
        let by_sha: Vec<&str> = root
            .tags
            .iter()
            .filter(|t| t.digest.as_deref() == Some(main.as_str()))
            .map(|t| t.name.as_str())
            .collect();
        assert_eq!(
            by_sha.len(),
            3,
            "main, main-<sha> and the full SHA: {by_sha:?}"
        );
        assert!(by_sha.iter().any(|n| n.len() == 40), "{by_sha:?}");
        assert!(repo(&d, 2).tags.iter().any(|t| t.digest.is_none()));
        assert_eq!(demo(), d, "deterministic");
    }

    #[test]
    fn tag_names_cover_the_common_families() {
        let d = demo();
        let names: BTreeSet<&str> = d
            .projects
            .iter()
            .flat_map(|p| &p.repositories)
            .flat_map(|r| &r.tags)
            .map(|t| t.name.as_str())
            .collect();
        for name in [
            "v1.2.1",
            "v2.4.0-rc.1",
            "0.0.4",
            "0.0.4-rc.1",
            "main",
            "feature-login",
            "mr-482",
            "2026-11-30",
            "20261116",
            "latest",
            "stable",
        ] {
            assert!(names.contains(name), "{name}");
        }
        let hex = |n: &str, len: usize| n.len() == len && n.bytes().all(|b| b.is_ascii_hexdigit());
        assert!(names.iter().any(|n| hex(n, 40)), "a full commit SHA");
        assert!(names
            .iter()
            .any(|n| n.strip_prefix("main-").is_some_and(|s| hex(s, 7))));
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
                    // Cosign's sidecars carry no build time.
                    let Some(built) = image.built_seconds_ago else {
                        continue;
                    };
                    assert!(t.pushed_seconds_ago <= built || t.updated_seconds_ago.is_some());
                }
            }
        }
    }

    #[test]
    fn base_layers_are_shared_across_repositories_and_projects() {
        let d = demo();
        // Which repositories use each layer digest.
        let mut users: HashMap<String, BTreeSet<u64>> = HashMap::new();
        let mut project_of = HashMap::new();
        for p in &d.projects {
            for r in &p.repositories {
                project_of.insert(r.id, p.id);
                for image in all_images(r) {
                    for layer in &image.layers {
                        users.entry(layer.digest.clone()).or_default().insert(r.id);
                    }
                }
            }
        }
        let amd64 = linux("amd64", None);
        let shared_by = |base: Base| -> BTreeSet<u64> {
            let (digest, _) = base.layers(&amd64).remove(0);
            users.get(&digest).cloned().unwrap_or_default()
        };
        // alpine: olivia/secret (1004) and opensource/cli (1005).
        let alpine = shared_by(Base::Alpine);
        assert_eq!(alpine, BTreeSet::from([6, 7]));
        // debian-slim under node, python and golang: acme/web and its worker (1001), and the
        // oldest images of acme/platform/api/server (1002).
        let slim = shared_by(Base::DebianSlim);
        assert_eq!(slim, BTreeSet::from([1, 2, 3]));
        let projects: BTreeSet<u64> = slim.iter().map(|r| project_of[r]).collect();
        assert_eq!(projects.len(), 2);
        // The worker's images all start with python's four layers (debian-slim's and its own).
        let python: Vec<String> = Base::Python
            .layers(&amd64)
            .into_iter()
            .map(|l| l.0)
            .collect();
        for image in &repo(&d, 2).images {
            let digests: Vec<String> = image
                .layers
                .iter()
                .take(4)
                .map(|l| l.digest.clone())
                .collect();
            assert_eq!(digests, python);
        }
        // Every shared layer has one size wherever it is used.
        let mut sizes: HashMap<String, u64> = HashMap::new();
        for p in &d.projects {
            for r in &p.repositories {
                for image in all_images(r) {
                    for BlobSpec { digest, size, .. } in &image.layers {
                        assert_eq!(*sizes.entry(digest.clone()).or_insert(*size), *size);
                    }
                }
            }
        }
    }

    #[test]
    fn consecutive_builds_share_dependency_layers() {
        let d = demo();
        let root = repo(&d, 1);
        // The default branch's builds, oldest first.
        let mut images: Vec<&ImageSpec> = root
            .tags
            .iter()
            .filter(|t| t.name.starts_with("main-"))
            .filter_map(|t| {
                root.images
                    .iter()
                    .find(|i| Some(&i.digest) == t.digest.as_ref())
            })
            .collect();
        assert_eq!(images.len(), 19);
        images.sort_by_key(|i| std::cmp::Reverse(i.built_seconds_ago));
        // node on debian-slim: five base layers; dependencies come next.
        let deps = |i: &ImageSpec| i.layers.get(5).map(|l| l.digest.clone());
        let same = images
            .windows(2)
            .filter(|w| deps(w[0]) == deps(w[1]))
            .count();
        assert!(same >= images.len() / 2, "{same} of {}", images.len());
        let distinct: BTreeSet<_> = images.iter().map(|i| deps(i)).collect();
        assert!(distinct.len() >= 2, "dependencies change every few builds");
        // The app layer is each build's own.
        let tops: BTreeSet<_> = images
            .iter()
            .map(|i| i.layers.last().map(|l| &l.digest))
            .collect();
        assert_eq!(tops.len(), images.len());
    }

    #[test]
    fn index_children_share_their_platforms_base_only() {
        let d = demo();
        let cli = repo(&d, 7);
        let child = |tag: &str, arch: &str| -> ImageSpec {
            let digest = digest_of(cli, tag).unwrap();
            let index = cli.images.iter().find(|i| i.digest == digest).unwrap();
            index
                .manifests
                .iter()
                .find(|m| m.platform.as_ref().is_some_and(|p| p.architecture == arch))
                .cloned()
                .unwrap()
        };
        let (amd64, arm64) = (child("v1.8.0", "amd64"), child("v1.8.0", "arm64"));
        assert!(amd64.layers.iter().all(|l| !arm64.layers.contains(l)));
        // Releases share the arm64 alpine layer.
        let older = child("v1.0.0", "arm64");
        assert_eq!(older.layers[0], arm64.layers[0]);
        assert_ne!(older.layers.last(), arm64.layers.last());
        assert_eq!(
            arm64.layers[0].digest,
            Base::Alpine.layers(&linux("arm64", None))[0].0
        );
    }

    #[test]
    fn sidecar_tags_sit_next_to_real_subjects() {
        let d = demo();
        let root = repo(&d, 1);
        let tagged: BTreeMap<&str, &str> = root
            .tags
            .iter()
            .filter_map(|t| Some((t.name.as_str(), t.digest.as_deref()?)))
            .collect();
        let mut subjects = BTreeSet::new();
        let mut kinds = BTreeSet::new();
        for (name, digest) in &tagged {
            let Some(rest) = name.strip_prefix("sha256-") else {
                continue;
            };
            let (hex, kind) = rest.split_once('.').unwrap();
            assert_eq!(hex.len(), 64);
            let subject = format!("sha256:{hex}");
            assert!(
                tagged
                    .iter()
                    .any(|(n, d)| !n.starts_with("sha256-") && **d == subject),
                "{name}: no tag has its subject"
            );
            let image = root.images.iter().find(|i| i.digest == **digest).unwrap();
            assert_eq!(image.media_type, super::super::OCI_MANIFEST);
            assert_eq!(image.layers.len(), 1);
            assert!(image.config.as_ref().unwrap().size < 1_000);
            assert!(image.layers[0].size < 1_000_000);
            subjects.insert(subject);
            kinds.insert(kind.to_owned());
        }
        assert_eq!(subjects.len(), 3);
        assert_eq!(kinds, ["att", "sbom", "sig"].map(String::from).into());
        let v231 = digest_of(root, "v2.3.1").unwrap();
        let hex = v231.trim_start_matches("sha256:");
        for kind in ["sig", "att", "sbom"] {
            assert!(tagged.contains_key(format!("sha256-{hex}.{kind}").as_str()));
        }
    }

    #[test]
    fn imported_tags_share_their_publish_time_but_not_their_build_time() {
        let d = demo();
        let cli = repo(&d, 7);
        let imported: Vec<&TagSpec> = cli
            .tags
            .iter()
            .filter(|t| t.name.starts_with("0.0."))
            .collect();
        assert_eq!(imported.len(), 8);
        let built: BTreeSet<u64> = imported
            .iter()
            .map(|t| {
                assert_eq!(t.pushed_seconds_ago, CLI_IMPORTED);
                assert_eq!(t.updated_seconds_ago, None);
                let digest = t.digest.as_deref().unwrap();
                let image = cli.images.iter().find(|i| i.digest == digest).unwrap();
                image.built_seconds_ago.unwrap()
            })
            .collect();
        assert_eq!(built.len(), 8);
        assert!(built.iter().all(|b| *b > CLI_IMPORTED));
    }
}
