//! The double's live data: the dataset resolved against the start time, plus GitLab's permission
//! rules over it.
//!
//! `World` is cheap to clone (repositories sit behind `Arc`), so every request works on a
//! consistent snapshot while writers copy-on-write only the repository they change.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use regex::Regex;
use time::{Duration, OffsetDateTime};

use crate::dataset::{
    self, BlobSpec, CleanupStatus, Dataset, ImageSpec, PlatformSpec, ReferrerSpec,
    RegistryAccessLevel, RepositoryStatus, Visibility, OCI_INDEX,
};
use crate::token_rules::Holder;

/// GitLab access levels.
pub(crate) mod access {
    /// No access.
    pub const NONE: u8 = 0;
    /// Guest.
    pub const GUEST: u8 = 10;
    /// Reporter.
    pub const REPORTER: u8 = 20;
    /// Developer.
    pub const DEVELOPER: u8 = 30;
    /// Maintainer.
    pub const MAINTAINER: u8 = 40;
    /// Owner.
    pub const OWNER: u8 = 50;
    /// Administrator (protection rules only).
    pub const ADMIN: u8 = 60;

    /// Role name as GitLab shows it.
    pub fn role_name(level: u8) -> &'static str {
        match level {
            GUEST => "Guest",
            REPORTER => "Reporter",
            DEVELOPER => "Developer",
            MAINTAINER => "Maintainer",
            OWNER => "Owner",
            _ => "None",
        }
    }

    /// Level of a protection-rule spelling (`maintainer`, `owner`, `admin`).
    pub fn from_rule_name(name: &str) -> Option<u8> {
        match name {
            "maintainer" => Some(MAINTAINER),
            "owner" => Some(OWNER),
            "admin" => Some(ADMIN),
            _ => None,
        }
    }

    /// Protection-rule spelling of a level.
    pub fn rule_name(level: u8) -> &'static str {
        match level {
            OWNER => "owner",
            ADMIN => "admin",
            _ => "maintainer",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct User {
    pub id: u64,
    pub username: String,
    pub name: String,
    pub email: String,
    pub state: String,
    /// A project or group access token's bot user (GitLab's `project_bot` user type): it cannot
    /// sign in, so the sign-in page never offers it.
    pub bot: bool,
    /// An instance administrator.
    pub admin: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Member {
    pub user_id: u64,
    pub access_level: u8,
}

#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub id: u64,
    pub full_path: String,
    pub path: String,
    pub name: String,
    pub full_name: String,
    pub description: String,
    pub visibility: Visibility,
    pub parent_id: Option<u64>,
    pub created_at: OffsetDateTime,
    pub members: Vec<Member>,
}

/// Where a project lives.
#[derive(Debug, Clone)]
pub(crate) enum Namespace {
    Group(u64),
    User(u64),
}

#[derive(Debug, Clone)]
pub(crate) struct ExpirationPolicy {
    pub cadence: String,
    pub enabled: bool,
    pub keep_n: Option<u32>,
    pub older_than: Option<String>,
    pub name_regex: Option<String>,
    pub name_regex_keep: Option<String>,
    pub next_run_at: Option<OffsetDateTime>,
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub(crate) struct TagRule {
    pub id: u64,
    pub pattern: String,
    pub regex: Option<Regex>,
    pub min_push: u8,
    pub min_delete: u8,
}

#[derive(Debug, Clone)]
pub(crate) struct RepositoryRule {
    pub id: u64,
    pub pattern: String,
    pub min_push: Option<u8>,
    pub min_delete: Option<u8>,
}

impl RepositoryRule {
    /// GitLab's wildcard match (SQL `ILIKE`): `*` matches anything, the rest literally and
    /// case-insensitively, whole path.
    pub fn matches(&self, path: &str) -> bool {
        let escaped = regex::escape(&self.pattern).replace(r"\*", ".*");
        Regex::new(&format!("(?i)^{escaped}$")).is_ok_and(|r| r.is_match(path))
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Project {
    pub id: u64,
    pub namespace: Namespace,
    pub path: String,
    pub path_with_namespace: String,
    pub name: String,
    pub name_with_namespace: String,
    pub description: String,
    pub visibility: Visibility,
    pub created_at: OffsetDateTime,
    pub last_activity_at: OffsetDateTime,
    pub registry_access_level: RegistryAccessLevel,
    pub members: Vec<Member>,
    pub policy: ExpirationPolicy,
    pub tag_rules: Vec<TagRule>,
    pub repository_rules: Vec<RepositoryRule>,
    /// Branches, git tags, pipelines, merge requests, environments (`rest::ci`).
    pub ci: crate::dataset::ci::CiSpec,
    /// The instant the dataset's "seconds ago" count from.
    pub epoch: OffsetDateTime,
}

/// A manifest: single-platform image or index.
#[derive(Debug, Clone)]
pub(crate) struct Image {
    pub digest: String,
    pub media_type: String,
    pub built_at: Option<OffsetDateTime>,
    pub config: Option<BlobSpec>,
    pub layers: Vec<BlobSpec>,
    pub platform: Option<PlatformSpec>,
    pub manifests: Vec<Arc<Image>>,
    pub referrers: Vec<ReferrerSpec>,
}

impl Image {
    /// The raw manifest JSON (rendered on demand; only `manifest(reference)` needs it).
    pub fn raw(&self) -> String {
        dataset::render_manifest(&self.to_spec())
    }

    fn to_spec(&self) -> ImageSpec {
        ImageSpec {
            digest: self.digest.clone(),
            media_type: self.media_type.clone(),
            built_seconds_ago: None,
            config: self.config.clone(),
            layers: self.layers.clone(),
            platform: self.platform.clone(),
            manifests: self.manifests.iter().map(|m| m.to_spec()).collect(),
            referrers: Vec::new(),
        }
    }

    pub fn is_index(&self) -> bool {
        !self.manifests.is_empty() || self.media_type == OCI_INDEX
    }

    /// Sum of layer sizes (children's layers for an index).
    pub fn total_size(&self) -> u64 {
        if self.is_index() {
            self.manifests.iter().map(|m| m.total_size()).sum()
        } else {
            self.layers.iter().map(|l| l.size).sum()
        }
    }

    /// The config digest without `sha256:` (GitLab's "revision").
    pub fn revision(&self) -> Option<String> {
        let config = self.config.as_ref()?;
        Some(
            config
                .digest
                .split_once(':')
                .map_or(config.digest.as_str(), |(_, hex)| hex)
                .to_owned(),
        )
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Tag {
    pub name: String,
    pub digest: Option<String>,
    pub pushed_at: OffsetDateTime,
    pub updated_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone)]
pub(crate) struct Repository {
    pub id: u64,
    pub project_id: u64,
    pub name: String,
    /// Full path, e.g. `acme/web/worker`.
    pub path: String,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub status: Option<RepositoryStatus>,
    pub expiration_policy_started_at: Option<OffsetDateTime>,
    pub cleanup_status: CleanupStatus,
    pub last_cleanup_deleted_tags_count: Option<u32>,
    pub tags: BTreeMap<String, Tag>,
    pub images: HashMap<String, Arc<Image>>,
    /// Deduplicated size of all tagged blobs (what the metadata database reports).
    pub size: u64,
}

impl Repository {
    /// Recomputes derived values after tags changed.
    pub fn refresh(&mut self) {
        let mut seen = HashSet::new();
        self.size = self.add_tagged_blobs(&mut seen);
    }

    /// Adds the blobs of the tagged images not in `seen` yet; returns their bytes.
    fn add_tagged_blobs<'a>(&'a self, seen: &mut HashSet<&'a str>) -> u64 {
        fn add<'a>(image: &'a Image, seen: &mut HashSet<&'a str>, size: &mut u64) {
            for blob in image.config.iter().chain(image.layers.iter()) {
                if seen.insert(blob.digest.as_str()) {
                    *size += blob.size;
                }
            }
            for child in &image.manifests {
                add(child, seen, size);
            }
        }
        let mut size = 0u64;
        for tag in self.tags.values() {
            if let Some(image) = tag.digest.as_ref().and_then(|d| self.images.get(d)) {
                add(image, seen, &mut size);
            }
        }
        size
    }

    /// Newest publish time of any tag (metadata database only).
    pub fn last_published_at(&self) -> Option<OffsetDateTime> {
        self.tags
            .values()
            .map(|t| t.updated_at.unwrap_or(t.pushed_at))
            .max()
    }

    pub fn image_of(&self, tag: &Tag) -> Option<&Arc<Image>> {
        tag.digest.as_ref().and_then(|d| self.images.get(d))
    }
}

/// What GitLab reports about a tag, which depends on the metadata database.
#[derive(Debug, Clone)]
pub(crate) struct TagView {
    pub name: String,
    pub digest: Option<String>,
    pub revision: Option<String>,
    pub created_at: Option<OffsetDateTime>,
    pub published_at: Option<OffsetDateTime>,
    pub total_size: Option<u64>,
    pub media_type: Option<String>,
    pub referrers: Vec<ReferrerSpec>,
    pub image: Option<Arc<Image>>,
}

impl TagView {
    pub fn new(repo: &Repository, tag: &Tag, metadata_db: bool) -> TagView {
        let image = repo.image_of(tag).cloned();
        let Some(img) = image.as_ref() else {
            return TagView {
                name: tag.name.clone(),
                digest: None,
                revision: None,
                created_at: None,
                published_at: None,
                total_size: None,
                media_type: None,
                referrers: Vec::new(),
                image: None,
            };
        };
        if metadata_db {
            // The registry's database knows push times and sizes, also for indexes.
            TagView {
                name: tag.name.clone(),
                digest: Some(img.digest.clone()),
                revision: img.revision(),
                created_at: Some(tag.pushed_at),
                published_at: Some(tag.updated_at.unwrap_or(tag.pushed_at)),
                total_size: Some(img.total_size()),
                media_type: Some(img.media_type.clone()),
                referrers: img.referrers.clone(),
                image: image.clone(),
            }
        } else {
            // Rails reads the manifest and config blob: build time from the config, no publish
            // time, and nothing an index does not carry itself.
            let index = img.is_index();
            TagView {
                name: tag.name.clone(),
                digest: Some(img.digest.clone()),
                revision: img.revision(),
                created_at: if index { None } else { img.built_at },
                published_at: None,
                total_size: if index { None } else { Some(img.total_size()) },
                media_type: Some(img.media_type.clone()),
                referrers: Vec::new(),
                image: image.clone(),
            }
        }
    }

    /// The timestamp GitLab's cleanup compares (publish time with the metadata database, else the
    /// config's creation time).
    pub fn cleanup_timestamp(&self, metadata_db: bool) -> Option<OffsetDateTime> {
        if metadata_db {
            self.published_at
        } else {
            self.created_at
        }
    }
}

/// The whole instance.
#[derive(Debug, Clone)]
pub(crate) struct World {
    pub users: Vec<User>,
    pub groups: Vec<Group>,
    pub projects: Vec<Project>,
    pub repositories: BTreeMap<u64, Arc<Repository>>,
    /// Id of the next tag protection rule (ids are per kind, increasing, never reused).
    pub next_tag_rule_id: u64,
    /// Id of the next repository protection rule.
    pub next_repository_rule_id: u64,
}

fn ago(now: OffsetDateTime, seconds: u64) -> OffsetDateTime {
    now - Duration::seconds(i64::try_from(seconds).unwrap_or(i64::MAX / 4))
}

fn resolve_image(spec: &ImageSpec, now: OffsetDateTime) -> Image {
    Image {
        digest: spec.digest.clone(),
        media_type: spec.media_type.clone(),
        built_at: spec.built_seconds_ago.map(|s| ago(now, s)),
        config: spec.config.clone(),
        layers: spec.layers.clone(),
        platform: spec.platform.clone(),
        manifests: spec
            .manifests
            .iter()
            .map(|m| Arc::new(resolve_image(m, now)))
            .collect(),
        referrers: spec.referrers.clone(),
    }
}

impl World {
    /// Resolves a (validated) dataset against `now`.
    pub fn from_dataset(data: &Dataset, now: OffsetDateTime) -> World {
        let users: Vec<User> = data
            .users
            .iter()
            .map(|u| User {
                id: u.id,
                username: u.username.clone(),
                name: u.name.clone(),
                email: u.email.clone(),
                state: u.state.clone(),
                bot: false,
                admin: u.admin,
            })
            .collect();
        let user_id = |name: &str| users.iter().find(|u| u.username == name).map(|u| u.id);
        let members = |specs: &[dataset::MemberSpec]| -> Vec<Member> {
            specs
                .iter()
                .filter_map(|m| {
                    user_id(&m.username).map(|user_id| Member {
                        user_id,
                        access_level: m.access_level,
                    })
                })
                .collect()
        };
        let mut groups: Vec<Group> = data
            .groups
            .iter()
            .map(|g| Group {
                id: g.id,
                full_path: g.full_path.clone(),
                path: g
                    .full_path
                    .rsplit_once('/')
                    .map_or(g.full_path.as_str(), |(_, p)| p)
                    .to_owned(),
                name: g.name.clone(),
                full_name: String::new(),
                description: g.description.clone(),
                visibility: g.visibility,
                parent_id: None,
                created_at: ago(now, g.created_seconds_ago),
                members: members(&g.members),
            })
            .collect();
        let by_path: HashMap<String, u64> =
            groups.iter().map(|g| (g.full_path.clone(), g.id)).collect();
        let names: HashMap<String, String> = groups
            .iter()
            .map(|g| (g.full_path.clone(), g.name.clone()))
            .collect();
        for g in &mut groups {
            g.parent_id = g
                .full_path
                .rsplit_once('/')
                .and_then(|(parent, _)| by_path.get(parent).copied());
            // "ACME / Platform": names of all ancestors.
            let mut parts = Vec::new();
            let mut prefix = String::new();
            for segment in g.full_path.split('/') {
                if !prefix.is_empty() {
                    prefix.push('/');
                }
                prefix.push_str(segment);
                parts.push(
                    names
                        .get(&prefix)
                        .cloned()
                        .unwrap_or_else(|| segment.to_owned()),
                );
            }
            g.full_name = parts.join(" / ");
        }

        let mut projects = Vec::new();
        let mut repositories = BTreeMap::new();
        for p in &data.projects {
            let (ns_path, path) = p
                .path_with_namespace
                .rsplit_once('/')
                .unwrap_or(("", p.path_with_namespace.as_str()));
            let (namespace, namespace_name) = match by_path.get(ns_path) {
                Some(&gid) => (
                    Namespace::Group(gid),
                    groups
                        .iter()
                        .find(|g| g.id == gid)
                        .map(|g| g.full_name.clone())
                        .unwrap_or_default(),
                ),
                None => {
                    let owner = users.iter().find(|u| u.username == ns_path);
                    (
                        Namespace::User(owner.map_or(0, |u| u.id)),
                        owner.map_or_else(|| ns_path.to_owned(), |u| u.name.clone()),
                    )
                }
            };
            let policy = &p.container_expiration_policy;
            let project = Project {
                id: p.id,
                namespace,
                name_with_namespace: format!("{namespace_name} / {}", p.name),
                path: path.to_owned(),
                path_with_namespace: p.path_with_namespace.clone(),
                name: p.name.clone(),
                description: p.description.clone(),
                visibility: p.visibility,
                created_at: ago(now, p.created_seconds_ago),
                last_activity_at: ago(now, p.last_activity_seconds_ago),
                registry_access_level: p.container_registry_access_level,
                members: members(&p.members),
                policy: ExpirationPolicy {
                    cadence: policy.cadence.clone(),
                    enabled: policy.enabled,
                    keep_n: policy.keep_n,
                    older_than: policy.older_than.clone(),
                    name_regex: policy.name_regex.clone(),
                    name_regex_keep: policy.name_regex_keep.clone(),
                    next_run_at: policy
                        .next_run_in_seconds
                        .map(|s| now + Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX / 4))),
                    updated_at: ago(now, p.created_seconds_ago / 2),
                },
                tag_rules: p
                    .protection_rules
                    .tag_rules
                    .iter()
                    .map(|r| TagRule {
                        id: r.id,
                        pattern: r.tag_name_pattern.clone(),
                        regex: Regex::new(&r.tag_name_pattern).ok(),
                        min_push: access::from_rule_name(&r.minimum_access_level_for_push)
                            .unwrap_or(access::MAINTAINER),
                        min_delete: access::from_rule_name(&r.minimum_access_level_for_delete)
                            .unwrap_or(access::MAINTAINER),
                    })
                    .collect(),
                repository_rules: p
                    .protection_rules
                    .repository_rules
                    .iter()
                    .map(|r| RepositoryRule {
                        id: r.id,
                        pattern: r.repository_path_pattern.clone(),
                        min_push: r
                            .minimum_access_level_for_push
                            .as_deref()
                            .and_then(access::from_rule_name),
                        min_delete: r
                            .minimum_access_level_for_delete
                            .as_deref()
                            .and_then(access::from_rule_name),
                    })
                    .collect(),
                ci: p.ci.clone(),
                epoch: now,
            };
            for r in &p.repositories {
                repositories.insert(r.id, Arc::new(resolve_repository(&project, r, now)));
            }
            projects.push(project);
        }
        let next_tag_rule_id = projects
            .iter()
            .flat_map(|p| p.tag_rules.iter().map(|r| r.id))
            .max()
            .unwrap_or(0)
            + 1;
        let next_repository_rule_id = projects
            .iter()
            .flat_map(|p| p.repository_rules.iter().map(|r| r.id))
            .max()
            .unwrap_or(0)
            + 1;
        World {
            users,
            groups,
            projects,
            repositories,
            next_tag_rule_id,
            next_repository_rule_id,
        }
    }

    pub fn user(&self, id: u64) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }

    /// Adds the bot user of a new project or group access token, a direct member of `holder` at
    /// `access_level` (GitLab's `ResourceAccessTokens::CreateService`); returns the bot's id, one
    /// more than the highest user id so far. `None` if the project or group does not exist.
    pub fn add_bot(
        &mut self,
        username: String,
        name: String,
        holder: Holder,
        access_level: u8,
    ) -> Option<u64> {
        let id = self.users.iter().map(|u| u.id).max().unwrap_or(0) + 1;
        let member = Member {
            user_id: id,
            access_level,
        };
        match holder {
            Holder::Project(project) => self
                .projects
                .iter_mut()
                .find(|p| p.id == project)?
                .members
                .push(member),
            Holder::Group(group) => self
                .groups
                .iter_mut()
                .find(|g| g.id == group)?
                .members
                .push(member),
        }
        self.users.push(User {
            id,
            email: format!("{username}@noreply.gitlab.test"),
            username,
            name,
            state: "active".to_owned(),
            bot: true,
            admin: false,
        });
        Some(id)
    }

    /// The caller's effective level in a project or group.
    pub fn holder_access(&self, user: Option<u64>, holder: Holder) -> u8 {
        match holder {
            Holder::Project(id) => self
                .project(id)
                .map_or(access::NONE, |p| self.project_access(user, p)),
            Holder::Group(id) => self.group_access(user, id),
        }
    }

    pub fn user_by_username(&self, username: &str) -> Option<&User> {
        self.users.iter().find(|u| u.username == username)
    }

    pub fn group(&self, id: u64) -> Option<&Group> {
        self.groups.iter().find(|g| g.id == id)
    }

    pub fn project(&self, id: u64) -> Option<&Project> {
        self.projects.iter().find(|p| p.id == id)
    }

    /// A project by numeric id or full path (already URL-decoded).
    pub fn project_by_ref(&self, reference: &str) -> Option<&Project> {
        match reference.parse::<u64>() {
            Ok(id) => self.project(id),
            Err(_) => self
                .projects
                .iter()
                .find(|p| p.path_with_namespace.eq_ignore_ascii_case(reference)),
        }
    }

    /// A group by numeric id or full path.
    pub fn group_by_ref(&self, reference: &str) -> Option<&Group> {
        match reference.parse::<u64>() {
            Ok(id) => self.group(id),
            Err(_) => self
                .groups
                .iter()
                .find(|g| g.full_path.eq_ignore_ascii_case(reference)),
        }
    }

    /// The group and all its ancestors, nearest first.
    pub fn group_chain(&self, id: u64) -> Vec<&Group> {
        let mut out = Vec::new();
        let mut next = self.group(id);
        while let Some(g) = next {
            out.push(g);
            next = g.parent_id.and_then(|p| self.group(p));
            if out.len() > 64 {
                break;
            }
        }
        out
    }

    /// `true` if `group_id` is `ancestor_id` or below it.
    pub fn group_is_within(&self, group_id: u64, ancestor_id: u64) -> bool {
        self.group_chain(group_id)
            .iter()
            .any(|g| g.id == ancestor_id)
    }

    /// Direct membership level of a user in a group (0 if none).
    pub fn direct_group_access(&self, user: u64, group: &Group) -> u8 {
        group
            .members
            .iter()
            .filter(|m| m.user_id == user)
            .map(|m| m.access_level)
            .max()
            .unwrap_or(access::NONE)
    }

    /// Effective level in a group: the maximum over the group and its ancestors.
    pub fn group_access(&self, user: Option<u64>, group_id: u64) -> u8 {
        let Some(user) = user else {
            return access::NONE;
        };
        self.group_chain(group_id)
            .iter()
            .map(|g| self.direct_group_access(user, g))
            .max()
            .unwrap_or(access::NONE)
    }

    /// Level through the project's own member list (or personal-namespace ownership).
    pub fn direct_project_access(&self, user: Option<u64>, project: &Project) -> u8 {
        let Some(user) = user else {
            return access::NONE;
        };
        let direct = project
            .members
            .iter()
            .filter(|m| m.user_id == user)
            .map(|m| m.access_level)
            .max()
            .unwrap_or(access::NONE);
        match project.namespace {
            Namespace::User(owner) if owner == user => access::OWNER,
            _ => direct,
        }
    }

    /// Effective level in a project (direct or inherited, whichever is higher).
    pub fn project_access(&self, user: Option<u64>, project: &Project) -> u8 {
        let inherited = match project.namespace {
            Namespace::Group(g) => self.group_access(user, g),
            Namespace::User(_) => access::NONE,
        };
        self.direct_project_access(user, project).max(inherited)
    }

    /// Whether `user` is an instance administrator.
    pub fn is_admin(&self, user: Option<u64>) -> bool {
        user.is_some_and(|id| self.users.iter().any(|u| u.id == id && u.admin))
    }

    pub fn can_see_project(&self, user: Option<u64>, project: &Project) -> bool {
        if self.is_admin(user) {
            return true;
        }
        match project.visibility {
            Visibility::Public => true,
            Visibility::Internal => user.is_some(),
            Visibility::Private => self.project_access(user, project) > access::NONE,
        }
    }

    pub fn can_see_group(&self, user: Option<u64>, group: &Group) -> bool {
        if self.is_admin(user) {
            return true;
        }
        match group.visibility {
            Visibility::Public => true,
            Visibility::Internal if user.is_some() => true,
            _ => {
                self.group_access(user, group.id) > access::NONE
                    // Members of something inside a group can see the group.
                    || self.projects.iter().any(|p| match p.namespace {
                        Namespace::Group(g) => {
                            self.group_is_within(g, group.id)
                                && self.direct_project_access(user, p) > access::NONE
                        }
                        Namespace::User(_) => false,
                    })
            }
        }
    }

    /// GitLab's `read_container_image` on a project.
    pub fn can_read_registry(&self, user: Option<u64>, project: &Project) -> bool {
        if !self.can_see_project(user, project) {
            return false;
        }
        let level = self.project_access(user, project);
        match project.registry_access_level {
            RegistryAccessLevel::Disabled => false,
            _ if self.is_admin(user) => true,
            RegistryAccessLevel::Private => level >= access::REPORTER,
            RegistryAccessLevel::Enabled => {
                level >= access::REPORTER
                    || match project.visibility {
                        Visibility::Public => true,
                        Visibility::Internal => user.is_some(),
                        Visibility::Private => false,
                    }
            }
        }
    }

    /// GitLab's `read_code`, which also guards pipelines, deployments, environments and merge
    /// requests here: everyone for a public project, signed-in users for an internal one,
    /// Reporters and above for a private one (Guests of a private project get 403).
    pub fn can_read_code(&self, user: Option<u64>, project: &Project) -> bool {
        self.can_see_project(user, project)
            && match project.visibility {
                _ if self.is_admin(user) => true,
                Visibility::Public => true,
                Visibility::Internal => user.is_some(),
                Visibility::Private => self.project_access(user, project) >= access::REPORTER,
            }
    }

    /// GitLab's `destroy_container_image` (Developer and above).
    pub fn can_destroy_image(&self, user: Option<u64>, project: &Project) -> bool {
        self.can_read_registry(user, project)
            && (self.is_admin(user) || self.project_access(user, project) >= access::DEVELOPER)
    }

    /// GitLab's `admin_container_image` (Maintainer and above).
    pub fn can_admin_registry(&self, user: Option<u64>, project: &Project) -> bool {
        self.can_read_registry(user, project)
            && (self.is_admin(user) || self.project_access(user, project) >= access::MAINTAINER)
    }

    /// Repositories of a project, by id.
    /// The project's container registry size as the metadata database computes it: the
    /// blobs of every tagged image of its repositories, each once.
    pub fn project_registry_size(&self, project_id: u64) -> u64 {
        let mut seen = HashSet::new();
        self.project_repositories(project_id)
            .into_iter()
            .map(|r| r.add_tagged_blobs(&mut seen))
            .sum()
    }

    pub fn project_repositories(&self, project_id: u64) -> Vec<&Arc<Repository>> {
        self.repositories
            .values()
            .filter(|r| r.project_id == project_id)
            .collect()
    }

    /// Groups the user is a direct or inherited member of (full paths), for `userinfo`.
    pub fn member_group_paths(&self, user: u64) -> Vec<String> {
        self.groups
            .iter()
            .filter(|g| self.group_access(Some(user), g.id) > access::NONE)
            .map(|g| g.full_path.clone())
            .collect()
    }

    /// A tag protection rule by id, with its project.
    pub fn tag_rule(&self, id: u64) -> Option<(&Project, &TagRule)> {
        self.projects
            .iter()
            .find_map(|p| p.tag_rules.iter().find(|r| r.id == id).map(|r| (p, r)))
    }

    /// A repository protection rule by id, with its project.
    pub fn repository_rule(&self, id: u64) -> Option<(&Project, &RepositoryRule)> {
        self.projects.iter().find_map(|p| {
            p.repository_rules
                .iter()
                .find(|r| r.id == id)
                .map(|r| (p, r))
        })
    }

    /// Strongest protection of a tag name in a project, if any rule matches.
    pub fn tag_protection(&self, project: &Project, tag: &str) -> Option<(u8, u8)> {
        project
            .tag_rules
            .iter()
            .filter(|r| r.regex.as_ref().is_some_and(|re| re.is_match(tag)))
            .fold(None, |acc, r| {
                let (push, delete) = acc.unwrap_or((0, 0));
                Some((push.max(r.min_push), delete.max(r.min_delete)))
            })
    }

    /// Whether a tag protection rule stops `user` from deleting `tag`.
    pub fn tag_delete_protected(&self, user: Option<u64>, project: &Project, tag: &str) -> bool {
        match self.tag_protection(project, tag) {
            Some((_, min_delete)) => self.project_access(user, project) < min_delete,
            None => false,
        }
    }

    /// Whether a repository protection rule with a push restriction matches the repository.
    pub fn repository_protection_exists(&self, project: &Project, repo: &Repository) -> bool {
        project
            .repository_rules
            .iter()
            .any(|r| r.min_push.is_some() && r.matches(&repo.path))
    }

    /// Whether a repository protection rule stops `user` from deleting the repository.
    pub fn repository_delete_protected(
        &self,
        user: Option<u64>,
        project: &Project,
        repo: &Repository,
    ) -> bool {
        let level = self.project_access(user, project);
        project
            .repository_rules
            .iter()
            .any(|r| r.matches(&repo.path) && r.min_delete.is_some_and(|min| level < min))
    }
}

fn resolve_repository(
    project: &Project,
    spec: &dataset::RepositorySpec,
    now: OffsetDateTime,
) -> Repository {
    let mut image_specs: Vec<ImageSpec> = spec.images.clone();
    let mut tag_specs = spec.tags.clone();
    if let Some(generate) = &spec.generate {
        let taken = tag_specs.iter().map(|t| t.name.clone()).collect();
        let expansion = dataset::expand(generate, &taken);
        image_specs.extend(expansion.0.iter().cloned());
        tag_specs.extend(expansion.1.iter().cloned());
    }
    let mut images = HashMap::new();
    for spec in &image_specs {
        let image = Arc::new(resolve_image(spec, now));
        for child in &image.manifests {
            images.insert(child.digest.clone(), child.clone());
        }
        images.insert(image.digest.clone(), image);
    }
    let tags: BTreeMap<String, Tag> = tag_specs
        .iter()
        .map(|t| {
            (
                t.name.clone(),
                Tag {
                    name: t.name.clone(),
                    digest: t.digest.clone(),
                    pushed_at: ago(now, t.pushed_seconds_ago),
                    updated_at: t.updated_seconds_ago.map(|s| ago(now, s)),
                },
            )
        })
        .collect();
    let created_at = ago(now, spec.created_seconds_ago);
    let path = if spec.name.is_empty() {
        project.path_with_namespace.clone()
    } else {
        format!("{}/{}", project.path_with_namespace, spec.name)
    };
    let mut repo = Repository {
        id: spec.id,
        project_id: project.id,
        name: spec.name.clone(),
        path,
        created_at,
        updated_at: created_at,
        status: spec.status,
        expiration_policy_started_at: spec
            .last_cleanup
            .as_ref()
            .map(|c| ago(now, c.started_seconds_ago)),
        cleanup_status: spec
            .last_cleanup
            .as_ref()
            .map(|c| c.status)
            .unwrap_or_default(),
        last_cleanup_deleted_tags_count: spec
            .last_cleanup
            .as_ref()
            .and_then(|c| c.deleted_tags_count),
        tags,
        images,
        size: 0,
    };
    repo.updated_at = repo
        .last_published_at()
        .map_or(created_at, |t| t.max(created_at));
    repo.refresh();
    repo
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world() -> World {
        World::from_dataset(&Dataset::demo(), OffsetDateTime::now_utc())
    }

    #[test]
    fn inherited_membership_and_personal_projects() {
        let w = world();
        let maria = w.user_by_username("maria").map(|u| u.id);
        let olivia = w.user_by_username("olivia").map(|u| u.id);
        let nora = w.user_by_username("nora").map(|u| u.id);
        let api = w.project_by_ref("acme/platform/api").unwrap();
        assert_eq!(w.project_access(maria, api), access::MAINTAINER);
        let secret = w.project_by_ref("olivia/secret").unwrap();
        assert!(!w.can_see_project(maria, secret));
        assert_eq!(w.project_access(olivia, secret), access::OWNER);
        let cli = w.project_by_ref("opensource/cli").unwrap();
        assert!(w.can_read_registry(nora, cli));
        assert!(!w.can_see_project(nora, api));
        let gus = w.user_by_username("gus").map(|u| u.id);
        assert!(w.can_see_project(gus, api));
        assert!(!w.can_read_registry(gus, api));
    }

    #[test]
    fn digests_are_hashes_of_the_raw_manifests() {
        use sha2::{Digest, Sha256};
        let w = world();
        for repo in w.repositories.values() {
            for image in repo.images.values() {
                let hash = hex::encode(Sha256::digest(image.raw().as_bytes()));
                assert_eq!(image.digest, format!("sha256:{hash}"));
            }
        }
    }

    #[test]
    fn index_children_are_images_of_the_repository() {
        let w = world();
        let cli = w.repositories.get(&7).unwrap();
        let latest = cli.image_of(cli.tags.get("latest").unwrap()).unwrap();
        assert_eq!(latest.manifests.len(), 4);
        for child in &latest.manifests {
            let found = cli.images.get(&child.digest).unwrap();
            assert!(Arc::ptr_eq(found, child));
        }
    }

    #[test]
    fn size_counts_each_shared_blob_once() {
        let mut w = world();
        let repo = Arc::make_mut(w.repositories.get_mut(&1).unwrap());
        let mut blobs: HashMap<String, u64> = HashMap::new();
        let mut naive = 0;
        for tag in repo.tags.values() {
            let Some(image) = repo.image_of(tag) else {
                continue;
            };
            naive += image.total_size();
            for blob in image.config.iter().chain(&image.layers) {
                blobs.insert(blob.digest.clone(), blob.size);
            }
        }
        assert_eq!(repo.size, blobs.values().sum::<u64>());
        // Base and dependency layers are shared: the deduplicated size is far below the sum.
        assert!(repo.size * 3 < naive, "{} vs {naive}", repo.size);
        // Deleting every tag but one leaves exactly that image's blobs.
        let keep = repo.tags.get("v2.3.1").unwrap().clone();
        let image = repo.image_of(&keep).unwrap().clone();
        repo.tags.retain(|name, _| name == "v2.3.1");
        repo.refresh();
        let config = image.config.as_ref().map_or(0, |c| c.size);
        assert_eq!(repo.size, image.total_size() + config);
    }

    #[test]
    fn scale_repository_is_expanded() {
        let w = world();
        let server = w.repositories.get(&3).unwrap();
        assert_eq!(server.tags.len(), 10_000);
        assert!(server.size > 0);
        let worker = w.repositories.get(&2).unwrap();
        let broken = worker.tags.get("ci-cache").unwrap();
        let view = TagView::new(worker, broken, true);
        assert!(view.digest.is_none() && view.created_at.is_none());
    }
}
