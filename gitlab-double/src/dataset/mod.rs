//! The dataset: users, groups, projects, container repositories, images and tags.
//!
//! These types are both the in-code description of the demo data ([`Dataset::demo`]) and the JSON
//! format accepted by [`Dataset::from_json_file`] (documented field by field in `DATASET.md`).
//! Every timestamp is a *relative age* in seconds (`*_seconds_ago`) resolved against the moment the
//! double starts, so a dataset never goes stale.

mod bases;
pub mod ci;
mod demo;
mod demo_ci;
mod generate;
pub mod prng;

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

pub use generate::GenerateSpec;
pub(crate) use generate::{expand, render_manifest};

/// Media type of a Docker image manifest (schema 2).
pub const DOCKER_MANIFEST_V2: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Media type of an OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// Media type of an OCI image index (multi-platform image).
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// Media type of a Docker manifest list (multi-platform image, Docker flavour).
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// Artifact type of a cosign signature referrer.
pub const COSIGN_SIGNATURE: &str = "application/vnd.dev.cosign.artifact.sig.v1+json";
/// Artifact type of an SPDX SBOM referrer.
pub const SPDX_SBOM: &str = "application/spdx+json";

/// Everything the double serves. Serialises to (and parses from) the JSON dataset format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dataset {
    /// Users who can sign in.
    pub users: Vec<UserSpec>,
    /// Groups and subgroups; a subgroup's parent is the prefix of its `full_path`.
    #[serde(default)]
    pub groups: Vec<GroupSpec>,
    /// Projects, in a group or in a user's personal namespace.
    #[serde(default)]
    pub projects: Vec<ProjectSpec>,
}

/// A user account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserSpec {
    /// Numeric user id (unique).
    pub id: u64,
    /// Login name, also the personal namespace path.
    pub username: String,
    /// Display name.
    pub name: String,
    /// E-mail address.
    pub email: String,
    /// Account state (`active`, `blocked`, …); only `active` users may sign in.
    #[serde(default = "default_user_state")]
    pub state: String,
    /// An instance administrator (GitLab's admin mode), without being a member: sees every
    /// project and group, reads every registry and policy, deletes images and saves cleanup
    /// policies anywhere. Tokens, CI and protection rules still follow membership here.
    #[serde(default)]
    pub admin: bool,
}

fn default_user_state() -> String {
    "active".to_owned()
}

/// A group or subgroup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    /// Numeric group id (unique among groups).
    pub id: u64,
    /// Full path, e.g. `acme/platform`; everything before the last `/` must be another group.
    pub full_path: String,
    /// Display name.
    pub name: String,
    /// `private`, `internal` or `public`.
    pub visibility: Visibility,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Age of the group in seconds.
    #[serde(default)]
    pub created_seconds_ago: u64,
    /// Direct members; subgroups and projects inherit them.
    #[serde(default)]
    pub members: Vec<MemberSpec>,
    /// Group deploy tokens that exist at start (they work for every project below the group).
    #[serde(default)]
    pub deploy_tokens: Vec<DeployTokenSpec>,
    /// Group access tokens that exist at start (each with its bot user, a group member).
    #[serde(default)]
    pub access_tokens: Vec<AccessTokenSpec>,
}

/// A direct membership.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberSpec {
    /// The member's username.
    pub username: String,
    /// GitLab access level: 10 Guest, 20 Reporter, 30 Developer, 40 Maintainer, 50 Owner.
    pub access_level: u8,
}

/// Visibility of a group or project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// Members only.
    Private,
    /// Any signed-in user.
    Internal,
    /// Everyone.
    Public,
}

impl Visibility {
    /// GitLab's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Private => "private",
            Visibility::Internal => "internal",
            Visibility::Public => "public",
        }
    }
}

/// Who may see a project's container registry (`container_registry_access_level`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum RegistryAccessLevel {
    /// Everyone who can see the project.
    #[default]
    Enabled,
    /// Project members (Reporter and above) only.
    Private,
    /// The registry is off.
    Disabled,
}

impl RegistryAccessLevel {
    /// GitLab's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RegistryAccessLevel::Enabled => "enabled",
            RegistryAccessLevel::Private => "private",
            RegistryAccessLevel::Disabled => "disabled",
        }
    }
}

/// A project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectSpec {
    /// Numeric project id (unique).
    pub id: u64,
    /// `namespace/path`; the namespace is a group's full path or a username (personal project).
    pub path_with_namespace: String,
    /// Display name.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// `private`, `internal` or `public`.
    pub visibility: Visibility,
    /// Age of the project in seconds.
    #[serde(default)]
    pub created_seconds_ago: u64,
    /// Seconds since the last activity.
    #[serde(default)]
    pub last_activity_seconds_ago: u64,
    /// `enabled` (default), `private` or `disabled`.
    #[serde(default)]
    pub container_registry_access_level: RegistryAccessLevel,
    /// Direct project members (in addition to inherited group members).
    #[serde(default)]
    pub members: Vec<MemberSpec>,
    /// The project's cleanup policy.
    #[serde(default)]
    pub container_expiration_policy: ExpirationPolicySpec,
    /// Registry protection rules (repository and tag rules).
    #[serde(default)]
    pub protection_rules: ProtectionRulesSpec,
    /// Container repositories of the project.
    #[serde(default)]
    pub repositories: Vec<RepositorySpec>,
    /// Project deploy tokens that exist at start.
    #[serde(default)]
    pub deploy_tokens: Vec<DeployTokenSpec>,
    /// Project access tokens that exist at start (each with its bot user, a project member).
    #[serde(default)]
    pub access_tokens: Vec<AccessTokenSpec>,
    /// Branches, git tags, pipelines, merge requests, environments and deployments.
    #[serde(default)]
    pub ci: ci::CiSpec,
}

/// A deploy token that exists when the double starts. GitLab shows a token's secret only in the
/// answer that created it, so a seed has none: the double makes an unguessable one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeployTokenSpec {
    /// Token id, unique among all deploy tokens (project and group).
    pub id: u64,
    /// Name.
    pub name: String,
    /// Login name for `docker login`; null = GitLab's default `gitlab+deploy-token-<id>`.
    #[serde(default)]
    pub username: Option<String>,
    /// At least one of `read_repository`, `read_registry`, `write_registry`,
    /// `read_package_registry`, `write_package_registry`, `read_virtual_registry`,
    /// `write_virtual_registry`.
    pub scopes: Vec<String>,
    /// Seconds until the token expires (negative: expired that long ago); null = never.
    #[serde(default)]
    pub expires_in_seconds: Option<i64>,
    /// Revoked (in GitLab's UI; the API's DELETE removes a token instead).
    #[serde(default)]
    pub revoked: bool,
}

/// A project or group access token that exists when the double starts, with its bot user (a
/// direct member at `access_level`, named like the token). Like deploy tokens, seeds carry no
/// secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessTokenSpec {
    /// Token id, unique among all access tokens (project and group).
    pub id: u64,
    /// Name (also the bot user's name).
    pub name: String,
    /// Free text, or null.
    #[serde(default)]
    pub description: Option<String>,
    /// Scopes: `api`, `read_api`, `read_registry`, `write_registry`, `read_repository`, … (see
    /// `DATASET.md`).
    pub scopes: Vec<String>,
    /// The bot's role: 10 Guest, 20 Reporter, 30 Developer, 40 Maintainer (default), 50 Owner.
    #[serde(default = "default_token_access_level")]
    pub access_level: u8,
    /// Age of the token in seconds.
    #[serde(default)]
    pub created_seconds_ago: u64,
    /// Days from today to the expiry date (negative: expired); null = never expires.
    #[serde(default)]
    pub expires_in_days: Option<i64>,
    /// Seconds since the token was last used, or null when never used.
    #[serde(default)]
    pub last_used_seconds_ago: Option<u64>,
    /// Revoked (listed as inactive, as GitLab 17.9 and later keep revoked tokens).
    #[serde(default)]
    pub revoked: bool,
}

fn default_token_access_level() -> u8 {
    40
}

/// A project's container cleanup policy, as GitLab stores it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpirationPolicySpec {
    /// `1d`, `7d`, `14d`, `1month` or `3month`.
    pub cadence: String,
    /// Whether the policy runs.
    pub enabled: bool,
    /// Tags to keep per repository (`1|5|10|25|50|100`), or null.
    #[serde(default)]
    pub keep_n: Option<u32>,
    /// `7d|14d|30d|60d|90d`, or null.
    #[serde(default)]
    pub older_than: Option<String>,
    /// Regex of tags to delete (RE2, anchored), or null.
    #[serde(default)]
    pub name_regex: Option<String>,
    /// Regex of tags to keep (wins over `name_regex`), or null.
    #[serde(default)]
    pub name_regex_keep: Option<String>,
    /// Seconds until the next scheduled run, or null when not scheduled.
    #[serde(default)]
    pub next_run_in_seconds: Option<u64>,
}

impl Default for ExpirationPolicySpec {
    /// GitLab's defaults for a project that never saved a policy.
    fn default() -> Self {
        Self {
            cadence: "1d".to_owned(),
            enabled: false,
            keep_n: Some(10),
            older_than: Some("90d".to_owned()),
            name_regex: None,
            name_regex_keep: None,
            next_run_in_seconds: None,
        }
    }
}

/// Registry protection rules of a project (the demo protects `stable` in `acme/web`); the
/// REST and GraphQL protection-rule endpoints change them at run time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ProtectionRulesSpec {
    /// Repository protection rules.
    #[serde(default)]
    pub repository_rules: Vec<RepositoryProtectionRuleSpec>,
    /// Tag protection rules.
    #[serde(default)]
    pub tag_rules: Vec<TagProtectionRuleSpec>,
}

/// A repository protection rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepositoryProtectionRuleSpec {
    /// Rule id.
    pub id: u64,
    /// Repository path pattern, `*` is a wildcard.
    pub repository_path_pattern: String,
    /// `maintainer`, `owner`, `admin` or null.
    #[serde(default)]
    pub minimum_access_level_for_push: Option<String>,
    /// `maintainer`, `owner`, `admin` or null.
    #[serde(default)]
    pub minimum_access_level_for_delete: Option<String>,
}

/// A tag protection rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagProtectionRuleSpec {
    /// Rule id.
    pub id: u64,
    /// RE2 pattern matched against tag names (unanchored, like GitLab).
    pub tag_name_pattern: String,
    /// `maintainer`, `owner` or `admin`.
    pub minimum_access_level_for_push: String,
    /// `maintainer`, `owner` or `admin`.
    pub minimum_access_level_for_delete: String,
}

/// Status of a container repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RepositoryStatus {
    /// Deletion requested, not started.
    DeleteScheduled,
    /// Deletion failed.
    DeleteFailed,
    /// Deletion running.
    DeleteOngoing,
}

impl RepositoryStatus {
    /// REST spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RepositoryStatus::DeleteScheduled => "delete_scheduled",
            RepositoryStatus::DeleteFailed => "delete_failed",
            RepositoryStatus::DeleteOngoing => "delete_ongoing",
        }
    }
}

/// State of the tags cleanup of a repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CleanupStatus {
    /// Not scheduled (default).
    #[default]
    Unscheduled,
    /// Scheduled.
    Scheduled,
    /// Partially executed; tags remain to delete.
    Unfinished,
    /// Running.
    Ongoing,
}

/// A container repository (an image name inside a project).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepositorySpec {
    /// Numeric repository id (unique across the instance).
    pub id: u64,
    /// Name below the project path; `""` is the project's root image.
    pub name: String,
    /// Age of the repository in seconds.
    #[serde(default)]
    pub created_seconds_ago: u64,
    /// `delete_scheduled`, `delete_failed`, `delete_ongoing` or null.
    #[serde(default)]
    pub status: Option<RepositoryStatus>,
    /// The last cleanup run, if any.
    #[serde(default)]
    pub last_cleanup: Option<CleanupSpec>,
    /// Manifests stored in the repository, referenced by tags through their digest.
    #[serde(default)]
    pub images: Vec<ImageSpec>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<TagSpec>,
    /// Extra tags produced by the built-in generator (used for the 10,000-tag repository).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generate: Option<GenerateSpec>,
}

/// The last cleanup of a repository.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CleanupSpec {
    /// When it started, in seconds ago.
    pub started_seconds_ago: u64,
    /// Its status.
    #[serde(default)]
    pub status: CleanupStatus,
    /// How many tags it deleted.
    #[serde(default)]
    pub deleted_tags_count: Option<u32>,
}

/// A manifest: a single-platform image (config + layers) or an index of child manifests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageSpec {
    /// Manifest digest, `sha256:` + 64 hex.
    pub digest: String,
    /// Manifest media type (Docker v2, OCI manifest, OCI index or Docker manifest list).
    pub media_type: String,
    /// Age of the image build (the config's `created`) in seconds; null when unknown.
    #[serde(default)]
    pub built_seconds_ago: Option<u64>,
    /// Config blob (single-platform images only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<BlobSpec>,
    /// Layers (single-platform images only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub layers: Vec<BlobSpec>,
    /// Target platform (single-platform images).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<PlatformSpec>,
    /// Child manifests (indexes only); each a single-platform image.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub manifests: Vec<ImageSpec>,
    /// OCI referrers (signatures, SBOMs) whose subject is this manifest.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub referrers: Vec<ReferrerSpec>,
}

/// A blob reference (config or layer).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlobSpec {
    /// Blob digest.
    pub digest: String,
    /// Size in bytes.
    pub size: u64,
    /// Media type.
    pub media_type: String,
}

/// A platform.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlatformSpec {
    /// e.g. `linux`.
    pub os: String,
    /// e.g. `amd64`, `arm64`, `arm`.
    pub architecture: String,
    /// e.g. `v7`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

/// An OCI referrer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferrerSpec {
    /// Artifact type, e.g. a cosign signature or an SPDX SBOM.
    pub artifact_type: String,
    /// Digest of the referrer manifest.
    pub digest: String,
}

/// A tag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagSpec {
    /// Tag name.
    pub name: String,
    /// Digest of the tagged manifest (one of the repository's `images`); null = manifest missing.
    pub digest: Option<String>,
    /// When the tag was first pushed, in seconds ago.
    pub pushed_seconds_ago: u64,
    /// When the tag last moved to another manifest, in seconds ago (null if never).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_seconds_ago: Option<u64>,
}

/// A dataset that cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// The file could not be read.
    #[error("cannot read dataset {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid dataset JSON.
    #[error("invalid dataset JSON in {path}: {source}")]
    Json {
        /// The file.
        path: String,
        /// Why.
        source: serde_json::Error,
    },
    /// The data is inconsistent.
    #[error("invalid dataset: {0}")]
    Invalid(String),
}

impl Dataset {
    /// The seeded demo dataset: same users, projects, digests and sizes on every call.
    pub fn demo() -> Dataset {
        demo::demo()
    }

    /// Reads and validates a JSON dataset file.
    pub fn from_json_file(path: impl AsRef<Path>) -> Result<Dataset, DatasetError> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| DatasetError::Io {
            path: shown.clone(),
            source,
        })?;
        Self::from_json_str(&text).map_err(|e| match e {
            DatasetError::Json { source, .. } => DatasetError::Json {
                path: shown,
                source,
            },
            other => other,
        })
    }

    /// Parses and validates dataset JSON.
    pub fn from_json_str(text: &str) -> Result<Dataset, DatasetError> {
        let dataset: Dataset = serde_json::from_str(text).map_err(|source| DatasetError::Json {
            path: "<string>".to_owned(),
            source,
        })?;
        dataset.validate()?;
        Ok(dataset)
    }

    /// The dataset as pretty JSON (the format `from_json_file` reads).
    pub fn to_json_pretty(&self) -> String {
        // Serialising plain data structures with string keys cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Checks ids, paths, references and levels; the double refuses inconsistent data.
    pub fn validate(&self) -> Result<(), DatasetError> {
        let invalid = |msg: String| Err(DatasetError::Invalid(msg));
        let mut user_ids = HashSet::new();
        let mut usernames = HashSet::new();
        for u in &self.users {
            if !user_ids.insert(u.id) {
                return invalid(format!("duplicate user id {}", u.id));
            }
            if u.username.is_empty() || u.username.contains('/') {
                return invalid(format!("bad username {:?}", u.username));
            }
            if !usernames.insert(u.username.as_str()) {
                return invalid(format!("duplicate username {}", u.username));
            }
        }
        let check_members = |members: &[MemberSpec], owner: &str| -> Result<(), DatasetError> {
            for m in members {
                if !usernames.contains(m.username.as_str()) {
                    return Err(DatasetError::Invalid(format!(
                        "{owner}: unknown member {}",
                        m.username
                    )));
                }
                if ![10, 20, 30, 40, 50].contains(&m.access_level) {
                    return Err(DatasetError::Invalid(format!(
                        "{owner}: access level {} is not one of 10, 20, 30, 40, 50",
                        m.access_level
                    )));
                }
            }
            Ok(())
        };
        let mut deploy_token_ids = HashSet::new();
        let mut access_token_ids = HashSet::new();
        let mut check_tokens = |deploy: &[DeployTokenSpec],
                                access: &[AccessTokenSpec],
                                owner: &str|
         -> Result<(), DatasetError> {
            let fail = |msg: String| Err(DatasetError::Invalid(format!("{owner}: {msg}")));
            for t in deploy {
                if !deploy_token_ids.insert(t.id) {
                    return fail(format!("duplicate deploy token id {}", t.id));
                }
                if t.scopes.is_empty() {
                    return fail(format!("deploy token {} has no scopes", t.id));
                }
                if let Some(s) = t
                    .scopes
                    .iter()
                    .find(|s| !crate::token_rules::DEPLOY_TOKEN_SCOPES.contains(&s.as_str()))
                {
                    return fail(format!("deploy token {}: unknown scope {s}", t.id));
                }
                if let Some(u) = &t.username {
                    if !crate::token_rules::valid_deploy_token_username(u) {
                        return fail(format!("deploy token {}: bad username {u:?}", t.id));
                    }
                }
            }
            for t in access {
                if !access_token_ids.insert(t.id) {
                    return fail(format!("duplicate access token id {}", t.id));
                }
                if t.scopes.is_empty() {
                    return fail(format!("access token {} has no scopes", t.id));
                }
                if let Some(s) = t
                    .scopes
                    .iter()
                    .find(|s| !crate::token_rules::ACCESS_TOKEN_SCOPES.contains(&s.as_str()))
                {
                    return fail(format!("access token {}: unknown scope {s}", t.id));
                }
                if ![10, 20, 30, 40, 50].contains(&t.access_level) {
                    return fail(format!(
                        "access token {}: access level {} is not one of 10, 20, 30, 40, 50",
                        t.id, t.access_level
                    ));
                }
            }
            Ok(())
        };
        let mut group_ids = HashSet::new();
        let mut group_paths = HashSet::new();
        for g in &self.groups {
            if !group_ids.insert(g.id) {
                return invalid(format!("duplicate group id {}", g.id));
            }
            if g.full_path.is_empty() || g.full_path.starts_with('/') || g.full_path.ends_with('/')
            {
                return invalid(format!("bad group path {:?}", g.full_path));
            }
            if usernames.contains(g.full_path.as_str()) {
                return invalid(format!("group {} clashes with a username", g.full_path));
            }
            if !group_paths.insert(g.full_path.as_str()) {
                return invalid(format!("duplicate group path {}", g.full_path));
            }
            check_members(&g.members, &g.full_path)?;
            check_tokens(&g.deploy_tokens, &g.access_tokens, &g.full_path)?;
        }
        for g in &self.groups {
            if let Some((parent, _)) = g.full_path.rsplit_once('/') {
                if !group_paths.contains(parent) {
                    return invalid(format!(
                        "group {} has no parent group {parent}",
                        g.full_path
                    ));
                }
            }
        }
        let mut project_ids = HashSet::new();
        let mut project_paths = HashSet::new();
        let mut repo_ids = HashSet::new();
        let mut tag_rule_ids = HashSet::new();
        let mut repository_rule_ids = HashSet::new();
        for p in &self.projects {
            if !project_ids.insert(p.id) {
                return invalid(format!("duplicate project id {}", p.id));
            }
            if !project_paths.insert(p.path_with_namespace.as_str()) {
                return invalid(format!("duplicate project path {}", p.path_with_namespace));
            }
            p.ci.validate(&p.path_with_namespace, &usernames)
                .map_err(DatasetError::Invalid)?;
            let Some((namespace, path)) = p.path_with_namespace.rsplit_once('/') else {
                return invalid(format!(
                    "project {} has no namespace",
                    p.path_with_namespace
                ));
            };
            if path.is_empty() {
                return invalid(format!(
                    "project {} has an empty path",
                    p.path_with_namespace
                ));
            }
            if !group_paths.contains(namespace) && !usernames.contains(namespace) {
                return invalid(format!(
                    "project {}: namespace {namespace} is neither a group nor a user",
                    p.path_with_namespace
                ));
            }
            check_members(&p.members, &p.path_with_namespace)?;
            check_tokens(&p.deploy_tokens, &p.access_tokens, &p.path_with_namespace)?;
            // Rule ids are global per kind (GraphQL addresses rules by id alone).
            for r in &p.protection_rules.tag_rules {
                if !tag_rule_ids.insert(r.id) {
                    return invalid(format!("duplicate tag protection rule id {}", r.id));
                }
            }
            for r in &p.protection_rules.repository_rules {
                if !repository_rule_ids.insert(r.id) {
                    return invalid(format!("duplicate repository protection rule id {}", r.id));
                }
            }
            let mut names = HashSet::new();
            for r in &p.repositories {
                if !repo_ids.insert(r.id) {
                    return invalid(format!("duplicate repository id {}", r.id));
                }
                if !names.insert(r.name.as_str()) {
                    return invalid(format!(
                        "project {}: duplicate repository name {:?}",
                        p.path_with_namespace, r.name
                    ));
                }
                let digests: HashSet<&str> = r.images.iter().map(|i| i.digest.as_str()).collect();
                let mut tag_names = HashSet::new();
                for t in &r.tags {
                    if !tag_names.insert(t.name.as_str()) {
                        return invalid(format!("repository {}: duplicate tag {}", r.id, t.name));
                    }
                    if t.name.is_empty() || t.name.contains('/') {
                        return invalid(format!("repository {}: bad tag name {:?}", r.id, t.name));
                    }
                    if let Some(d) = &t.digest {
                        if !digests.contains(d.as_str()) {
                            return invalid(format!(
                                "repository {}: tag {} points at unknown image {d}",
                                r.id, t.name
                            ));
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_is_valid_and_round_trips_through_json() {
        let demo = Dataset::demo();
        demo.validate().unwrap();
        let back = Dataset::from_json_str(&demo.to_json_pretty()).unwrap();
        assert_eq!(back, demo);
    }

    #[test]
    fn the_documented_example_loads() {
        let doc = include_str!("../../DATASET.md");
        let start = doc.find("```json").unwrap() + "```json".len();
        let end = start + doc[start..].find("```").unwrap();
        let dataset = Dataset::from_json_str(&doc[start..end]).unwrap();
        assert_eq!(dataset.projects[0].repositories.len(), 2);
    }

    #[test]
    fn rejects_dangling_tag_digest() {
        let mut demo = Dataset::demo();
        demo.projects[0].repositories[0].tags[0].digest = Some("sha256:nope".to_owned());
        assert!(demo.validate().is_err());
    }

    #[test]
    fn rejects_bad_seeded_tokens() {
        let demo = Dataset::demo();
        let mut bad = demo.clone();
        bad.projects[0].deploy_tokens[0].scopes = vec!["api".to_owned()];
        assert!(bad.validate().is_err(), "api is no deploy token scope");
        let mut bad = demo.clone();
        let copy = bad.projects[0].deploy_tokens[0].clone();
        bad.groups[0].deploy_tokens.push(copy);
        assert!(bad.validate().is_err(), "deploy token ids are global");
        let mut bad = demo.clone();
        bad.projects[0].access_tokens[0].scopes = vec!["read_user".to_owned()];
        assert!(
            bad.validate().is_err(),
            "read_user is no access token scope"
        );
        let mut bad = demo;
        bad.projects[0].access_tokens[0].access_level = 60;
        assert!(bad.validate().is_err());
    }
}
