//! GitLab's JSON payloads as GitLab sends them (REST v4). Fields GitLab may omit or null are
//! `Option`; unknown fields are ignored so newer GitLab versions still parse.

use serde::Deserialize;

/// `GET /api/v4/user`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct User {
    pub id: u64,
    pub username: String,
    pub name: String,
    #[serde(default)]
    pub avatar_url: Option<String>,
    #[serde(default)]
    pub web_url: Option<String>,
    /// Present (and true) only for instance administrators.
    #[serde(default)]
    pub is_admin: bool,
}

/// `permissions` on `GET /projects/:id`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct Permissions {
    #[serde(default)]
    pub project_access: Option<AccessEntry>,
    #[serde(default)]
    pub group_access: Option<AccessEntry>,
}

/// One access entry.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct AccessEntry {
    pub access_level: u32,
}

/// `GET /projects/:id` (the fields we use).
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Project {
    pub id: u64,
    pub name: String,
    pub path_with_namespace: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub visibility: Option<String>,
    pub web_url: String,
    #[serde(default)]
    pub permissions: Option<Permissions>,
    #[serde(default)]
    pub container_expiration_policy: Option<ExpirationPolicy>,
    /// `host[:port]/group/project`; GitLab leaves it out when its registry is off.
    #[serde(default)]
    pub container_registry_image_prefix: Option<String>,
}

/// `container_expiration_policy` on a project.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct ExpirationPolicy {
    pub cadence: String,
    pub enabled: bool,
    #[serde(default)]
    pub keep_n: Option<u32>,
    #[serde(default)]
    pub older_than: Option<String>,
    #[serde(default)]
    pub name_regex: Option<String>,
    #[serde(default)]
    pub name_regex_keep: Option<String>,
    #[serde(default)]
    pub next_run_at: Option<String>,
}

/// `GET /groups` and `GET /groups/:id` (the fields we use).
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Group {
    pub id: u64,
    pub name: String,
    pub full_path: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub visibility: Option<String>,
    pub web_url: String,
}

impl From<Group> for domain::GroupDetails {
    fn from(group: Group) -> Self {
        domain::GroupDetails {
            id: group.id,
            name: group.name,
            full_path: group.full_path,
            description: group.description,
            visibility: group.visibility.unwrap_or_else(|| "private".into()),
            web_url: group.web_url,
        }
    }
}

/// A registry repository (`/registry/repositories`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Repository {
    pub id: u64,
    pub name: String,
    pub path: String,
    pub project_id: u64,
    pub location: String,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub cleanup_policy_started_at: Option<String>,
    #[serde(default)]
    pub tags_count: Option<u64>,
    #[serde(default)]
    pub tags: Option<Vec<TagSummary>>,
    #[serde(default)]
    pub size: Option<u64>,
    #[serde(default)]
    pub status: Option<String>,
}

/// A tag in a tags list.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct TagSummary {
    pub name: String,
    pub path: String,
    pub location: String,
}

/// `GET …/tags/:tag_name`. `digest`, `created_at` and friends are null for a tag whose
/// manifest or config blob is missing.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct TagDetails {
    pub name: String,
    pub path: String,
    pub location: String,
    #[serde(default)]
    pub revision: Option<String>,
    #[serde(default)]
    pub short_revision: Option<String>,
    #[serde(default)]
    pub digest: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub total_size: Option<u64>,
}

/// A repository protection rule.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct RepositoryProtectionRule {
    pub id: u64,
    pub project_id: u64,
    pub repository_path_pattern: String,
    #[serde(default)]
    pub minimum_access_level_for_push: Option<String>,
    #[serde(default)]
    pub minimum_access_level_for_delete: Option<String>,
}

/// A tag protection rule.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct TagProtectionRule {
    pub id: u64,
    pub project_id: u64,
    pub tag_name_pattern: String,
    #[serde(default)]
    pub minimum_access_level_for_push: Option<String>,
    #[serde(default)]
    pub minimum_access_level_for_delete: Option<String>,
}

/// The OAuth token endpoint's answer, as GitLab sends it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: String,
    #[serde(default)]
    pub expires_in: Option<u64>,
    #[serde(default)]
    pub refresh_token: Option<String>,
    #[serde(default)]
    pub created_at: Option<i64>,
    #[serde(default)]
    pub scope: Option<String>,
}

/// A project fragment holding only the cleanup policy.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct ProjectPolicyFragment {
    pub container_expiration_policy: ExpirationPolicy,
}

/// `GET /projects/:id/registry/protection/repository/rules` item.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct RepositoryRule {
    pub id: u64,
    pub repository_path_pattern: String,
    #[serde(default)]
    pub minimum_access_level_for_push: Option<String>,
    #[serde(default)]
    pub minimum_access_level_for_delete: Option<String>,
}

/// `GET /projects/:id/registry/protection/tag/rules` item.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct TagRule {
    pub id: u64,
    pub tag_name_pattern: String,
    #[serde(default)]
    pub minimum_access_level_for_push: Option<String>,
    #[serde(default)]
    pub minimum_access_level_for_delete: Option<String>,
}
