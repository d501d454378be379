//! The GraphQL documents the BFF sends and the shapes it reads back.

use serde::Deserialize;
use serde_json::Value;

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
        "
query ProjectRepositories($fullPath: ID!, $name: String, $sort: ContainerRepositorySort, \
    $first: Int, $after: String, $last: Int, $before: String) {{
  project(fullPath: $fullPath) {{
    containerRepositoriesCount
    containerRepositories(name: $name, sort: $sort, first: $first, after: $after, last: $last, \
      before: $before) {{{REPOSITORY_FIELDS}
    }}
  }}
}}"
    )
}

/// A page of the image repositories of a group's projects.
pub fn group_repositories() -> String {
    format!(
        "
query GroupRepositories($fullPath: ID!, $name: String, $sort: ContainerRepositorySort, \
    $first: Int, $after: String, $last: Int, $before: String) {{
  group(fullPath: $fullPath) {{
    containerRepositoriesCount
    containerRepositories(name: $name, sort: $sort, first: $first, after: $after, last: $last, \
      before: $before) {{{REPOSITORY_FIELDS}
    }}
  }}
}}"
    )
}

/// One image repository with what its tag pages need: the viewer's rights and role,
/// counts, owner. Also the per-request access check in front of the shared tag index: one
/// request per check.
pub const REPOSITORY_HEADER: &str = r#"
query RepositoryHeader($id: ContainerRepositoryID!) {
  containerRepository(id: $id) {
    id name path location createdAt tagsCount status expirationPolicyCleanupStatus
    protectionRuleExists
    userPermissions { destroyContainerRepository }
    project { id fullPath name maxAccessLevel { integerValue } }
  }
}"#;

/// [`REPOSITORY_HEADER`] for GitLab before 16.9, which has no `maxAccessLevel`: the role
/// then comes from the REST project.
pub const REPOSITORY_HEADER_WITHOUT_ROLE: &str = r#"
query RepositoryHeader($id: ContainerRepositoryID!) {
  containerRepository(id: $id) {
    id name path location createdAt tagsCount status expirationPolicyCleanupStatus
    protectionRuleExists
    userPermissions { destroyContainerRepository }
    project { id fullPath name }
  }
}"#;

const TAG_FIELDS: &str = r#"
        name digest revision createdAt publishedAt totalSize mediaType
        referrers { artifactType digest }
        protection { minimumAccessLevelForPush minimumAccessLevelForDelete }"#;

/// GitLab's page size for the tags connection (`max_page_size: 20`).
pub const TAGS_PER_PAGE: usize = 20;

/// Tag pages one query asks for at most. GitLab limits a query's complexity to 250 (signed
/// in): a field counts 1, a resolver field 1 more, and a connection is (its selections +
/// 1 + 1 for `sort`) × (1 + 0.01 × page size). One page of [`TAGS_BATCH`] costs
/// (17 + 2) × 1.2 = 22, the repository around them 3, so 8 pages cost 179. The double
/// enforces the same formula.
pub const TAG_PAGES_PER_QUERY: usize = 8;

/// Pages of tags in name order, one alias `p<i>` per page: page `i` starts after the
/// cursor in `$a<i>` (the first page when null) and, when `$n<i>` is set, holds only names
/// containing it (GitLab's `name` filter, a substring match).
pub fn tags_batch(pages: usize) -> String {
    let variables: String = (0..pages)
        .map(|i| format!(", $a{i}: String, $n{i}: String"))
        .collect();
    let aliases: String = (0..pages)
        .map(|i| {
            format!(
                "\n    p{i}: tags(first: {TAGS_PER_PAGE}, after: $a{i}, name: $n{i}, sort: \
                    NAME_ASC, referrers: true) {{ nodes {{ ...Tag }} pageInfo {{ hasNextPage \
                    endCursor }} }}"
            )
        })
        .collect();
    format!(
        r#"
query TagsPages($id: ContainerRepositoryID!{variables}) {{
  containerRepository(id: $id) {{
    tagsCount{aliases}
  }}
}}
fragment Tag on ContainerRepositoryTag {{{TAG_FIELDS}
}}"#
    )
}

/// graphql-ruby's cursor after the `position`-th item of a list it pages itself (GitLab's
/// tags without the metadata database): base64 of the 1-based position.
pub fn offset_cursor(position: usize) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(position.to_string())
}

/// Where a page of [`tags_batch`] starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageStart {
    /// After this cursor (the first page without one).
    After(Option<String>),
    /// The first page of names containing this (the page after a cursor with both).
    Named(String, Option<String>),
}

/// The variables of [`tags_batch`] for `pages`.
pub fn tags_batch_variables(repository_id: u64, pages: &[PageStart]) -> serde_json::Value {
    let mut variables = serde_json::Map::new();
    variables.insert(
        "id".into(),
        format!("gid://gitlab/ContainerRepository/{repository_id}").into(),
    );
    for (i, page) in pages.iter().enumerate() {
        let (after, name) = match page {
            PageStart::After(after) => (after.clone(), None),
            PageStart::Named(name, after) => (after.clone(), Some(name.clone())),
        };
        variables.insert(format!("a{i}"), after.into());
        variables.insert(format!("n{i}"), name.into());
    }
    variables.into()
}

/// One tag in full: the list fields, the raw manifest and the index's platforms.
pub fn tag_detail() -> String {
    format!(
        r#"
query TagDetail($id: ContainerRepositoryID!, $name: String!) {{
  containerRepository(id: $id) {{
    tags(first: 20, name: $name, referrers: true) {{
      nodes {{{TAG_FIELDS}
        location path shortRevision
      }}
    }}
    manifest(reference: $name)
    tagDetails(name: $name) {{
      platform {{ os architecture variant }}
      manifests {{ digest mediaType size platform {{ os architecture variant }} }}
    }}
  }}
}}"#
    )
}

/// `{ containerRepository: … }` for the header query.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RepositoryHeaderData {
    pub container_repository: Option<RepositoryHeaderNode>,
}

/// The header fields of an image repository.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RepositoryHeaderNode {
    pub id: String,
    pub name: String,
    pub path: String,
    pub location: String,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub tags_count: Option<u64>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub expiration_policy_cleanup_status: Option<String>,
    #[serde(default)]
    pub protection_rule_exists: Option<bool>,
    #[serde(default)]
    pub user_permissions: Option<RepositoryPermissions>,
    pub project: HeaderProject,
}

/// `userPermissions` of a repository.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RepositoryPermissions {
    #[serde(default)]
    pub destroy_container_repository: bool,
}

/// The owning project.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HeaderProject {
    pub id: String,
    pub full_path: String,
    pub name: String,
    /// The viewer's role (absent before GitLab 16.9).
    #[serde(default)]
    pub max_access_level: Option<AccessLevelNode>,
}

/// GitLab's `AccessLevel` object.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessLevelNode {
    pub integer_value: Option<u32>,
}

/// `{ containerRepository: { tagsCount, p0: …, p1: … } }` for [`tags_batch`].
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagsBatchData {
    pub container_repository: Option<TagsBatch>,
}

/// The repository around a batch of tag pages.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagsBatch {
    #[serde(default)]
    pub tags_count: Option<u64>,
    /// The pages by alias (`p0`, `p1`, …); null where GitLab refused one.
    #[serde(flatten)]
    pub pages: std::collections::HashMap<String, Option<Connection<TagNode>>>,
}

/// One tag as GraphQL gives it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagNode {
    pub name: String,
    #[serde(default)]
    pub digest: Option<String>,
    #[serde(default)]
    pub revision: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub published_at: Option<String>,
    /// BigInt: a string on GitLab, tolerated as a number.
    #[serde(default)]
    pub total_size: Option<serde_json::Value>,
    #[serde(default)]
    pub media_type: Option<String>,
    #[serde(default)]
    pub referrers: Option<Vec<ReferrerNode>>,
    #[serde(default)]
    pub protection: Option<ProtectionNode>,
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub short_revision: Option<String>,
}

/// A referrer.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReferrerNode {
    #[serde(default)]
    pub artifact_type: Option<String>,
    #[serde(default)]
    pub digest: Option<String>,
}

/// A tag protection.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProtectionNode {
    #[serde(default)]
    pub minimum_access_level_for_push: Option<String>,
    #[serde(default)]
    pub minimum_access_level_for_delete: Option<String>,
}

impl TagNode {
    /// The domain tag.
    pub fn into_tag(self) -> domain::tags::Tag {
        use domain::format::parse_timestamp;
        let size = match &self.total_size {
            Some(serde_json::Value::String(s)) => s.parse().ok(),
            Some(serde_json::Value::Number(n)) => n.as_u64(),
            _ => None,
        };
        domain::tags::Tag {
            name: self.name,
            digest: self.digest.filter(|d| !d.is_empty()),
            revision: self.revision.filter(|d| !d.is_empty()),
            created_at: self.created_at.as_deref().and_then(parse_timestamp),
            published_at: self.published_at.as_deref().and_then(parse_timestamp),
            total_size: size,
            media_type: self.media_type,
            referrers: self
                .referrers
                .unwrap_or_default()
                .into_iter()
                .filter_map(|r| {
                    Some(domain::tags::Referrer {
                        artifact_type: r.artifact_type?,
                        digest: r.digest?,
                    })
                })
                .collect(),
            protection: self.protection.map(|p| domain::tags::TagProtection {
                minimum_access_level_for_push: p
                    .minimum_access_level_for_push
                    .as_deref()
                    .and_then(domain::AccessLevel::from_protection),
                minimum_access_level_for_delete: p
                    .minimum_access_level_for_delete
                    .as_deref()
                    .and_then(domain::AccessLevel::from_protection),
            }),
        }
    }
}

/// `{ containerRepository: { tags, manifest, tagDetails } }`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagDetailData {
    pub container_repository: Option<TagDetailOwner>,
}

/// The repository around one tag's detail.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagDetailOwner {
    pub tags: Option<Connection<TagNode>>,
    #[serde(default)]
    pub manifest: Option<String>,
    #[serde(default)]
    pub tag_details: Option<TagDetailsNode>,
}

/// `ContainerRepositoryTagDetails`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagDetailsNode {
    #[serde(default)]
    pub platform: Option<PlatformNode>,
    #[serde(default)]
    pub manifests: Option<Vec<IndexManifestNode>>,
}

/// An image platform.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlatformNode {
    #[serde(default)]
    pub os: Option<String>,
    #[serde(default)]
    pub architecture: Option<String>,
    #[serde(default)]
    pub variant: Option<String>,
}

/// One child of an index.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexManifestNode {
    #[serde(default)]
    pub digest: Option<String>,
    #[serde(default)]
    pub media_type: Option<String>,
    #[serde(default)]
    pub size: Option<serde_json::Value>,
    #[serde(default)]
    pub platform: Option<PlatformNode>,
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
    /// Where in the answer it happened (field names and list positions).
    #[serde(default)]
    pub path: Vec<Value>,
}

/// Manifests fetched in one request (aliases `m0`, `m1`, … of `manifest(reference:)`).
pub const MANIFESTS_PER_QUERY: usize = 16;

/// Raw manifests of up to [`MANIFESTS_PER_QUERY`] digests of one repository, as aliases:
/// the field has GitLab's default complexity of 1, so 16 cost 17 of 250, and the query is
/// about 900 characters. Variables: `id`, `r0` … `r{n-1}`.
pub fn manifests(n: usize) -> String {
    let mut declared = String::from("$id: ContainerRepositoryID!");
    let mut fields = String::new();
    for i in 0..n {
        declared.push_str(&format!(", $r{i}: String!"));
        fields.push_str(&format!(" m{i}: manifest(reference: $r{i})"));
    }
    format!("query Manifests({declared}) {{ containerRepository(id: $id) {{{fields} }} }}")
}

/// `{ containerRepository: { m0: "…", m1: null, … } }`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManifestsData {
    pub container_repository: Option<std::collections::HashMap<String, Option<String>>>,
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
    #[serde(default)]
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
    gid.rsplit('/').next()?.parse().ok().filter(|id| *id > 0)
}

/// [`gid_number`], where an unreadable id is GitLab sending something unexpected (never 0).
pub fn gid(gid: &str) -> Result<u64, super::GitLabError> {
    gid_number(gid).ok_or_else(|| {
        super::GitLabError::Malformed(format!(
            "not a GitLab global id: {}",
            gid.chars().take(80).collect::<String>()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_ids() {
        assert_eq!(gid_number("gid://gitlab/ContainerRepository/42"), Some(42));
        assert_eq!(gid_number("nonsense"), None);
        assert_eq!(gid_number("gid://gitlab/Project/0"), None);
        assert!(gid("gid://gitlab/Project/").is_err());
    }
}

#[cfg(test)]
mod batch_tests {
    use super::*;

    #[test]
    fn a_full_batch_of_tag_pages_stays_within_gitlabs_query_size() {
        let query = tags_batch(TAG_PAGES_PER_QUERY);
        assert!(query.chars().count() < 10_000 / 4, "{}", query.len());
        let variables = tags_batch_variables(3, &[PageStart::After(Some("MjA=".into()))]);
        assert_eq!(variables["a0"], "MjA=");
        assert!(variables["n0"].is_null());
        assert_eq!(offset_cursor(20), "MjA=");
    }
}
