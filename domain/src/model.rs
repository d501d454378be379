//! The GitLab data the dashboard shows, in the shape the UI needs (not GitLab's wire format:
//! the server's GitLab client maps wire payloads into these).

use serde::{Deserialize, Serialize};

/// A GitLab instance the dashboard can sign in to, as the UI may see it (no secrets).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InstanceInfo {
    /// Short name used in URLs, e.g. `gitlab` or `demo`.
    pub name: String,
    /// Human label, e.g. "GitLab.com".
    pub label: String,
    /// Base URL of the GitLab web UI, for "open in GitLab" links.
    pub web_url: String,
    /// True when this instance is the embedded GitLab double.
    pub demo: bool,
}

/// The signed-in GitLab user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Viewer {
    pub id: u64,
    pub username: String,
    pub name: String,
    pub avatar_url: Option<String>,
    /// Instance the user signed in to.
    pub instance: String,
    /// A GitLab instance administrator (GitLab's protection rules do not bind them).
    #[serde(default)]
    pub is_admin: bool,
}

/// Access levels as GitLab numbers them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AccessLevel {
    NoAccess,
    Guest,
    Reporter,
    Developer,
    Maintainer,
    Owner,
    /// Instance administrator (only protection rules name it; no membership has it).
    Admin,
}

impl AccessLevel {
    /// Maps GitLab's numeric level (10, 20, 30, 40, 50) to a role; unknown numbers round down.
    pub fn from_gitlab(level: u32) -> Self {
        match level {
            50.. => AccessLevel::Owner,
            40..=49 => AccessLevel::Maintainer,
            30..=39 => AccessLevel::Developer,
            20..=29 => AccessLevel::Reporter,
            10..=19 => AccessLevel::Guest,
            _ => AccessLevel::NoAccess,
        }
    }

    /// A protection rule's level (`MAINTAINER`, `owner`, `ADMIN`).
    pub fn from_protection(value: &str) -> Option<Self> {
        match value.to_ascii_lowercase().as_str() {
            "maintainer" => Some(AccessLevel::Maintainer),
            "owner" => Some(AccessLevel::Owner),
            "admin" => Some(AccessLevel::Admin),
            _ => None,
        }
    }

    /// GitLab's number for the role (`Admin` has none; it counts as Owner).
    pub fn gitlab_level(self) -> u32 {
        match self {
            AccessLevel::NoAccess => 0,
            AccessLevel::Guest => 10,
            AccessLevel::Reporter => 20,
            AccessLevel::Developer => 30,
            AccessLevel::Maintainer => 40,
            AccessLevel::Owner | AccessLevel::Admin => 50,
        }
    }

    /// The role's name as GitLab's UI writes it.
    pub fn label(self) -> &'static str {
        match self {
            AccessLevel::NoAccess => "No access",
            AccessLevel::Guest => "Guest",
            AccessLevel::Reporter => "Reporter",
            AccessLevel::Developer => "Developer",
            AccessLevel::Maintainer => "Maintainer",
            AccessLevel::Owner => "Owner",
            AccessLevel::Admin => "Administrator",
        }
    }
}

/// A project in the project list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProjectSummary {
    pub id: u64,
    pub name: String,
    pub full_path: String,
    pub description: Option<String>,
    pub visibility: String,
    pub web_url: String,
    /// Number of container image repositories in the project's registry.
    pub image_repositories: u64,
}

/// One page of projects with registry images.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProjectPage {
    pub projects: Vec<ProjectSummary>,
    /// Projects matching the search that have images (across all pages).
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
    /// Member projects scanned that have no images (hidden from the list).
    pub without_images: u64,
    /// True when the scan stopped at the BFF's project cap before reaching the end.
    pub truncated: bool,
}

/// A group in the group list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupSummary {
    pub id: u64,
    pub name: String,
    pub full_path: String,
    pub description: Option<String>,
    pub visibility: String,
    pub web_url: String,
}

/// One page of groups.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupPage {
    pub groups: Vec<GroupSummary>,
    pub total: Option<u64>,
    pub page: u32,
    pub per_page: u32,
    pub has_next: bool,
}

/// What the cleanup policy worker last did to a repository (GitLab's
/// ContainerRepositoryCleanupStatus).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum CleanupStatus {
    #[default]
    Unscheduled,
    Scheduled,
    Ongoing,
    Unfinished,
}

impl CleanupStatus {
    /// Parses GitLab's GraphQL enum value; unknown values read as unscheduled.
    pub fn from_gitlab(value: &str) -> Self {
        match value {
            "SCHEDULED" => CleanupStatus::Scheduled,
            "ONGOING" => CleanupStatus::Ongoing,
            "UNFINISHED" => CleanupStatus::Unfinished,
            _ => CleanupStatus::Unscheduled,
        }
    }

    /// Words for the UI.
    pub fn label(self) -> &'static str {
        match self {
            CleanupStatus::Unscheduled => "Cleanup not scheduled",
            CleanupStatus::Scheduled => "Cleanup scheduled",
            CleanupStatus::Ongoing => "Cleanup running",
            CleanupStatus::Unfinished => "Cleanup incomplete",
        }
    }
}

/// Deletion state of a repository (GitLab's `status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum RepositoryStatus {
    DeleteScheduled,
    DeleteOngoing,
    DeleteFailed,
}

impl RepositoryStatus {
    /// Parses REST (`delete_scheduled`) or GraphQL (`DELETE_SCHEDULED`) spellings.
    pub fn from_gitlab(value: &str) -> Option<Self> {
        match value.to_ascii_lowercase().as_str() {
            "delete_scheduled" => Some(RepositoryStatus::DeleteScheduled),
            "delete_ongoing" => Some(RepositoryStatus::DeleteOngoing),
            "delete_failed" => Some(RepositoryStatus::DeleteFailed),
            _ => None,
        }
    }

    /// Words for the UI.
    pub fn label(self) -> &'static str {
        match self {
            RepositoryStatus::DeleteScheduled => "Scheduled for deletion",
            RepositoryStatus::DeleteOngoing => "Being deleted",
            RepositoryStatus::DeleteFailed => "Deletion failed",
        }
    }
}

/// A container image repository.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImageRepository {
    pub id: u64,
    /// Name inside the project; empty for the project's root image.
    pub name: String,
    /// Full path, e.g. `acme/web/worker`.
    pub path: String,
    /// Pullable location, e.g. `registry.example.com/acme/web/worker`.
    pub location: String,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    pub tags_count: Option<u64>,
    /// Deduplicated storage size (GitLab knows it only with the metadata database).
    pub size: Option<u64>,
    pub cleanup_status: CleanupStatus,
    pub status: Option<RepositoryStatus>,
    /// Full path of the project that owns the repository.
    pub project_path: String,
}

impl ImageRepository {
    /// Name to show: the root image has no name of its own, so show its path.
    pub fn display_name(&self) -> &str {
        if self.name.is_empty() {
            &self.path
        } else {
            &self.name
        }
    }
}

/// A page of image repositories, with GitLab's cursors for the neighbouring pages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RepositoryPage {
    pub repositories: Vec<ImageRepository>,
    /// Repositories in the project or group (all, not only those matching the search).
    pub total: Option<u64>,
    pub next_cursor: Option<String>,
    pub prev_cursor: Option<String>,
    /// Server time of the answer (unix seconds), so relative times agree on server and browser.
    pub now: i64,
}

/// A project with its registry header data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProjectDetails {
    pub id: u64,
    pub name: String,
    pub full_path: String,
    pub description: Option<String>,
    pub visibility: String,
    pub web_url: String,
    /// The viewer's effective role in this project.
    pub access: AccessLevel,
}

/// A group with its header data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupDetails {
    pub id: u64,
    pub name: String,
    pub full_path: String,
    pub description: Option<String>,
    pub visibility: String,
    pub web_url: String,
}

/// What a request was about, for errors: "You do not have access to project acme/web",
/// "Tag “v1” of image repository 7 was not found". Typed, so every error about the same
/// thing says it the same way.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Subject {
    /// The signed-in user's GitLab account.
    User,
    /// The projects list.
    Projects,
    /// The groups list.
    Groups,
    Project(String),
    Group(String),
    /// The container registry of a project or group (its image repository list).
    Registry(String),
    /// An image repository by id.
    Repository(u64),
    /// The image repository a link names, when the link's id is not a number.
    RepositoryLink,
    Tag {
        repository: u64,
        name: String,
    },
    /// A project's cleanup policy.
    CleanupPolicy(String),
    /// A project's protection rules.
    ProtectionRules(String),
    /// A GitLab API path that is not ours to answer.
    ApiPath,
}

impl Subject {
    /// The subject at the start of a sentence ("Project acme/web").
    pub fn capitalized(&self) -> String {
        let text = self.to_string();
        let mut chars = text.chars();
        match chars.next() {
            Some(first) => first.to_uppercase().chain(chars).collect(),
            None => text,
        }
    }
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Subject::User => f.write_str("your GitLab user"),
            Subject::Projects => f.write_str("your projects"),
            Subject::Groups => f.write_str("your groups"),
            Subject::Project(path) => write!(f, "project {path}"),
            Subject::Group(path) => write!(f, "group {path}"),
            Subject::Registry(path) => write!(f, "the container registry of {path}"),
            Subject::Repository(id) => write!(f, "image repository {id}"),
            Subject::RepositoryLink => f.write_str("this image repository"),
            Subject::Tag { repository, name } => {
                write!(f, "tag “{name}” of image repository {repository}")
            }
            Subject::CleanupPolicy(path) => write!(f, "the cleanup policy of {path}"),
            Subject::ProtectionRules(path) => write!(f, "the protection rules of {path}"),
            Subject::ApiPath => f.write_str("this API path"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(0, AccessLevel::NoAccess)]
    #[case(5, AccessLevel::NoAccess)]
    #[case(10, AccessLevel::Guest)]
    #[case(20, AccessLevel::Reporter)]
    #[case(30, AccessLevel::Developer)]
    #[case(40, AccessLevel::Maintainer)]
    #[case(50, AccessLevel::Owner)]
    #[case(60, AccessLevel::Owner)]
    fn access_levels_map_gitlab_numbers(#[case] level: u32, #[case] expected: AccessLevel) {
        assert_eq!(AccessLevel::from_gitlab(level), expected);
    }

    #[test]
    fn repository_status_reads_both_spellings() {
        assert_eq!(
            RepositoryStatus::from_gitlab("delete_scheduled"),
            Some(RepositoryStatus::DeleteScheduled)
        );
        assert_eq!(
            RepositoryStatus::from_gitlab("DELETE_ONGOING"),
            Some(RepositoryStatus::DeleteOngoing)
        );
        assert_eq!(RepositoryStatus::from_gitlab(""), None);
    }

    #[test]
    fn root_image_shows_its_path() {
        let repo = ImageRepository {
            id: 1,
            name: String::new(),
            path: "acme/web".into(),
            location: "r/acme/web".into(),
            created_at: None,
            updated_at: None,
            tags_count: None,
            size: None,
            cleanup_status: CleanupStatus::Unscheduled,
            status: None,
            project_path: "acme/web".into(),
        };
        assert_eq!(repo.display_name(), "acme/web");
    }

    #[test]
    fn subjects_read_as_words() {
        assert_eq!(
            Subject::Project("acme/web".into()).capitalized(),
            "Project acme/web"
        );
        assert_eq!(
            Subject::Tag {
                repository: 7,
                name: "v1".into()
            }
            .to_string(),
            "tag “v1” of image repository 7"
        );
    }
}
