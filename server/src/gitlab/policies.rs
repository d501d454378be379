//! The GraphQL query of a group's policy page: a page of the group's projects (subgroups
//! included) with each one's policy, registry size, protection rules and the cleanup state
//! of its first repositories, all in one request.
//!
//! Cost against GitLab's complexity limit of 250: a project node asks for about 35 fields,
//! the repositories' connection inside it (6 + 1) × 1.2, the two rule connections
//! (2 + 1) × 1.05 each, so the projects connection of [`PROJECTS_PER_QUERY`] costs about
//! (45 + 1) × 1.5 = 69.

use serde::de::IgnoredAny;
use serde::Deserialize;

use super::graphql::{AccessLevelNode, Connection};

/// Projects per GraphQL request.
pub const PROJECTS_PER_QUERY: usize = 50;
/// Repositories per project whose tag counts and cleanup states are read.
pub const REPOSITORIES_PER_PROJECT: usize = 20;

/// Where a policy page's projects come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// A group and its subgroups (`$fullPath`).
    Group,
    /// Every project the viewer sees: for an administrator, the whole instance.
    Instance,
}

/// The query; `with_role` asks for `maxAccessLevel` (GitLab 16.9), `with_rules` for the
/// protection rules (tag rules arrived later than the policy type).
pub fn policies_query(scope: Scope, with_role: bool, with_rules: bool) -> String {
    let role = if with_role {
        "maxAccessLevel { integerValue }"
    } else {
        ""
    };
    let rules = if with_rules {
        "containerProtectionRepositoryRules { nodes { id } }
        containerProtectionTagRules { nodes { id } }"
    } else {
        ""
    };
    let projects = format!(
        r#"projects(first: {PROJECTS_PER_QUERY}, after: $after{subgroups}) {{
      nodes {{
        id name fullPath webUrl containerRegistryEnabled containerRepositoriesCount {role}
        statistics {{ containerRegistrySize }}
        containerTagsExpirationPolicy {{
          enabled nextRunAt cadence keepN olderThan nameRegex nameRegexKeep
        }}
        {rules}
        containerRepositories(first: {REPOSITORIES_PER_PROJECT}) {{
          nodes {{
            tagsCount expirationPolicyCleanupStatus expirationPolicyStartedAt
            lastCleanupDeletedTagsCount
          }}
        }}
      }}
      pageInfo {{ hasNextPage endCursor }}
    }}"#,
        subgroups = if scope == Scope::Group {
            ", includeSubgroups: true"
        } else {
            ""
        }
    );
    match scope {
        Scope::Group => format!(
            "query GroupPolicies($fullPath: ID!, $after: String) {{\n  group(fullPath: $fullPath) \
             {{\n    {projects}\n  }}\n}}"
        ),
        Scope::Instance => {
            format!("query InstancePolicies($after: String) {{\n  {projects}\n}}")
        }
    }
}

/// `{ group: { projects } }` or, for the instance, `{ projects }`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PoliciesData {
    #[serde(default)]
    pub group: Option<GroupProjects>,
    #[serde(default)]
    pub projects: Option<Connection<PolicyProjectNode>>,
}

/// The group's projects connection.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupProjects {
    pub projects: Connection<PolicyProjectNode>,
}

/// One project of the page.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyProjectNode {
    pub id: String,
    pub name: String,
    pub full_path: String,
    #[serde(default)]
    pub web_url: Option<String>,
    #[serde(default)]
    pub container_registry_enabled: Option<bool>,
    #[serde(default)]
    pub container_repositories_count: u32,
    #[serde(default)]
    pub max_access_level: Option<AccessLevelNode>,
    #[serde(default)]
    pub statistics: Option<StatisticsNode>,
    #[serde(default)]
    pub container_tags_expiration_policy: Option<TagsPolicyNode>,
    #[serde(default)]
    pub container_protection_repository_rules: Option<Connection<IgnoredAny>>,
    #[serde(default)]
    pub container_protection_tag_rules: Option<Connection<IgnoredAny>>,
    #[serde(default)]
    pub container_repositories: Option<Connection<RepositoryCleanupNode>>,
}

/// `statistics { containerRegistrySize }`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatisticsNode {
    #[serde(default)]
    pub container_registry_size: Option<f64>,
}

/// `ContainerTagsExpirationPolicy`: its rules are null below Maintainer.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagsPolicyNode {
    pub enabled: bool,
    #[serde(default)]
    pub next_run_at: Option<String>,
    #[serde(default)]
    pub cadence: Option<String>,
    #[serde(default)]
    pub keep_n: Option<String>,
    #[serde(default)]
    pub older_than: Option<String>,
    #[serde(default)]
    pub name_regex: Option<String>,
    #[serde(default)]
    pub name_regex_keep: Option<String>,
}

impl TagsPolicyNode {
    /// The policy in REST's terms (`1d`, `10`, `90d`), when its rules are visible: GraphQL
    /// names the same values `EVERY_DAY`, `TEN_TAGS`, `NINETY_DAYS`.
    pub fn rest_form(&self) -> Option<super::wire::ExpirationPolicy> {
        let cadence = self.cadence.as_deref()?;
        Some(super::wire::ExpirationPolicy {
            cadence: match cadence {
                "EVERY_DAY" => "1d",
                "EVERY_WEEK" => "7d",
                "EVERY_TWO_WEEKS" => "14d",
                "EVERY_MONTH" => "1month",
                "EVERY_THREE_MONTHS" => "3month",
                other => other,
            }
            .to_string(),
            enabled: self.enabled,
            keep_n: self.keep_n.as_deref().map(|k| match k {
                "ONE_TAG" => 1,
                "FIVE_TAGS" => 5,
                "TEN_TAGS" => 10,
                "TWENTY_FIVE_TAGS" => 25,
                "FIFTY_TAGS" => 50,
                "ONE_HUNDRED_TAGS" => 100,
                // Not a value GitLab offers: the policy's notes say so.
                _ => 0,
            }),
            older_than: self.older_than.as_deref().map(|o| {
                match o {
                    "SEVEN_DAYS" => "7d",
                    "FOURTEEN_DAYS" => "14d",
                    "THIRTY_DAYS" => "30d",
                    "SIXTY_DAYS" => "60d",
                    "NINETY_DAYS" => "90d",
                    other => other,
                }
                .to_string()
            }),
            name_regex: self.name_regex.clone(),
            name_regex_keep: self.name_regex_keep.clone(),
            next_run_at: self.next_run_at.clone(),
        })
    }
}

/// A repository's counts and last cleanup.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RepositoryCleanupNode {
    #[serde(default)]
    pub tags_count: Option<u64>,
    #[serde(default)]
    pub expiration_policy_cleanup_status: Option<String>,
    #[serde(default)]
    pub expiration_policy_started_at: Option<String>,
    #[serde(default)]
    pub last_cleanup_deleted_tags_count: Option<u64>,
}
