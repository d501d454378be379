//! The GraphQL documents the BFF sends and the shapes it reads back.

use serde::Deserialize;

/// Member projects with their image repository counts, 100 per page.
pub const PROJECTS_WITH_COUNTS: &str = r#"
query ProjectsWithImages($search: String, $after: String) {
  projects(membership: true, search: $search, first: 100, after: $after) {
    nodes { id name fullPath description visibility webUrl containerRepositoriesCount }
    pageInfo { hasNextPage endCursor }
  }
}"#;

const REPOSITORY_FIELDS: &str = r#"
      nodes {
        id name path location createdAt updatedAt tagsCount status
        expirationPolicyCleanupStatus
        project { fullPath }
      }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"#;

/// A page of a project's image repositories.
pub fn project_repositories() -> String {
    format!(
        r#"
query ProjectRepositories($fullPath: ID!, $name: String, $sort: ContainerRepositorySort, $first: Int, $after: String, $last: Int, $before: String) {{
  project(fullPath: $fullPath) {{
    containerRepositoriesCount
    containerRepositories(name: $name, sort: $sort, first: $first, after: $after, last: $last, before: $before) {{{REPOSITORY_FIELDS}
    }}
  }}
}}"#
    )
}

/// A page of the image repositories of a group's projects.
pub fn group_repositories() -> String {
    format!(
        r#"
query GroupRepositories($fullPath: ID!, $name: String, $sort: ContainerRepositorySort, $first: Int, $after: String, $last: Int, $before: String) {{
  group(fullPath: $fullPath) {{
    containerRepositoriesCount
    containerRepositories(name: $name, sort: $sort, first: $first, after: $after, last: $last, before: $before) {{{REPOSITORY_FIELDS}
    }}
  }}
}}"#
    )
}

/// GraphQL's envelope.
#[derive(Debug, Deserialize)]
pub struct Response<T> {
    pub data: Option<T>,
    #[serde(default)]
    pub errors: Vec<ErrorEntry>,
}

/// One GraphQL error.
#[derive(Debug, Deserialize)]
pub struct ErrorEntry {
    pub message: String,
}

/// Relay page info.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageInfo {
    #[serde(default)]
    pub has_next_page: bool,
    #[serde(default)]
    pub has_previous_page: bool,
    #[serde(default)]
    pub start_cursor: Option<String>,
    #[serde(default)]
    pub end_cursor: Option<String>,
}

/// `projects` root field.
#[derive(Debug, Deserialize)]
pub struct ProjectsData {
    pub projects: Connection<ProjectNode>,
}

/// A connection.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Connection<T> {
    pub nodes: Vec<T>,
    pub page_info: PageInfo,
}

/// A project node.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectNode {
    pub id: String,
    pub name: String,
    pub full_path: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub visibility: Option<String>,
    pub web_url: String,
    #[serde(default)]
    pub container_repositories_count: u64,
}

/// `project` or `group` with repositories; `containerRepositories` is null when the user's
/// role may not read the registry.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RepositoryOwner {
    #[serde(default)]
    pub container_repositories_count: Option<u64>,
    pub container_repositories: Option<Connection<RepositoryNode>>,
}

/// `{ project: … }`.
#[derive(Debug, Deserialize)]
pub struct ProjectData {
    pub project: Option<RepositoryOwner>,
}

/// `{ group: … }`.
#[derive(Debug, Deserialize)]
pub struct GroupData {
    pub group: Option<RepositoryOwner>,
}

/// A container repository node.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RepositoryNode {
    pub id: String,
    pub name: String,
    pub path: String,
    pub location: String,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub tags_count: Option<u64>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub expiration_policy_cleanup_status: Option<String>,
    #[serde(default)]
    pub project: Option<FullPath>,
}

/// `{ fullPath }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FullPath {
    pub full_path: String,
}

/// The numeric id at the end of a GitLab global id (`gid://gitlab/Project/7` → 7).
pub fn gid_number(gid: &str) -> Option<u64> {
    gid.rsplit('/').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_ids() {
        assert_eq!(gid_number("gid://gitlab/ContainerRepository/42"), Some(42));
        assert_eq!(gid_number("nonsense"), None);
    }
}
