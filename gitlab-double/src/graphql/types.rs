//! GraphQL object types (GitLab's names and nullability).

use std::sync::Arc;

use async_graphql::{
    Context, Enum, Error, InputValueError, InputValueResult, MergedObject, Object, Result, Scalar,
    ScalarType, SimpleObject, Value, ID,
};

use super::paging::{offset_cursor, offset_window, position_window, PageArgs, PageInfo};
use super::{ctx, Ctx, NOT_AVAILABLE};
use crate::clock;
use crate::dataset::{CleanupStatus, RepositoryStatus};
use crate::model::{access, Group, Image, Namespace, Project, Repository, Tag, TagView, World};

/// Default and maximum page size of GitLab connections.
pub(crate) const MAX_PAGE_SIZE: usize = 100;
/// Maximum page size of `ContainerRepositoryDetails.tags`.
pub(crate) const TAGS_MAX_PAGE_SIZE: usize = 20;

pub(crate) fn gid(kind: &str, id: u64) -> ID {
    ID(format!("gid://gitlab/{kind}/{id}"))
}

/// GitLab's `Time` scalar (ISO 8601).
#[derive(Debug, Clone)]
pub(crate) struct Time(pub String);

#[Scalar(name = "Time")]
impl ScalarType for Time {
    fn parse(value: Value) -> InputValueResult<Self> {
        match value {
            Value::String(s) => Ok(Time(s)),
            other => Err(InputValueError::expected_type(other)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.clone())
    }
}

/// GitLab's `BigInt` scalar: an integer serialised as a string.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BigInt(pub u64);

#[Scalar(name = "BigInt")]
impl ScalarType for BigInt {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => s
                .parse()
                .map(BigInt)
                .map_err(|_| InputValueError::expected_type(value.clone())),
            Value::Number(n) => n
                .as_u64()
                .map(BigInt)
                .ok_or_else(|| InputValueError::expected_type(value.clone())),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_string())
    }
}

/// `ContainerRepositoryID`: `gid://gitlab/ContainerRepository/<id>`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ContainerRepositoryId(pub u64);

#[Scalar(name = "ContainerRepositoryID")]
impl ScalarType for ContainerRepositoryId {
    fn parse(value: Value) -> InputValueResult<Self> {
        let Value::String(s) = &value else {
            return Err(InputValueError::expected_type(value));
        };
        let Some(rest) = s.strip_prefix("gid://gitlab/") else {
            return Err(InputValueError::custom(format!(
                "\"{s}\" is not a valid Global ID"
            )));
        };
        match rest.split_once('/') {
            Some(("ContainerRepository", id)) => id
                .parse()
                .map(ContainerRepositoryId)
                .map_err(|_| InputValueError::custom(format!("\"{s}\" is not a valid Global ID"))),
            Some(_) => Err(InputValueError::custom(format!(
                "\"{s}\" does not represent an instance of ContainerRepository"
            ))),
            None => Err(InputValueError::custom(format!(
                "\"{s}\" is not a valid Global ID"
            ))),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(format!("gid://gitlab/ContainerRepository/{}", self.0))
    }
}

/// `ContainerRepositoryStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(name = "ContainerRepositoryStatus")]
#[allow(clippy::enum_variant_names)]
pub(crate) enum GqlRepositoryStatus {
    DeleteScheduled,
    DeleteFailed,
    DeleteOngoing,
}

impl From<RepositoryStatus> for GqlRepositoryStatus {
    fn from(s: RepositoryStatus) -> Self {
        match s {
            RepositoryStatus::DeleteScheduled => GqlRepositoryStatus::DeleteScheduled,
            RepositoryStatus::DeleteFailed => GqlRepositoryStatus::DeleteFailed,
            RepositoryStatus::DeleteOngoing => GqlRepositoryStatus::DeleteOngoing,
        }
    }
}

/// `ContainerRepositoryCleanupStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(name = "ContainerRepositoryCleanupStatus")]
pub(crate) enum GqlCleanupStatus {
    Unscheduled,
    Scheduled,
    Unfinished,
    Ongoing,
}

impl From<CleanupStatus> for GqlCleanupStatus {
    fn from(s: CleanupStatus) -> Self {
        match s {
            CleanupStatus::Unscheduled => GqlCleanupStatus::Unscheduled,
            CleanupStatus::Scheduled => GqlCleanupStatus::Scheduled,
            CleanupStatus::Unfinished => GqlCleanupStatus::Unfinished,
            CleanupStatus::Ongoing => GqlCleanupStatus::Ongoing,
        }
    }
}

/// `ContainerRepositorySort`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(name = "ContainerRepositorySort")]
pub(crate) enum RepositorySort {
    NameAsc,
    NameDesc,
    CreatedAsc,
    CreatedDesc,
    UpdatedAsc,
    UpdatedDesc,
}

/// `ContainerRepositoryTagSort`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(name = "ContainerRepositoryTagSort")]
pub(crate) enum TagSort {
    NameAsc,
    NameDesc,
    PublishedAtAsc,
    PublishedAtDesc,
}

/// `ContainerProtectionTagRuleAccessLevel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(name = "ContainerProtectionTagRuleAccessLevel")]
pub(crate) enum ProtectionLevel {
    Maintainer,
    Owner,
    Admin,
}

impl ProtectionLevel {
    pub(crate) fn from_level(level: u8) -> Option<ProtectionLevel> {
        match level {
            access::MAINTAINER => Some(ProtectionLevel::Maintainer),
            access::OWNER => Some(ProtectionLevel::Owner),
            access::ADMIN => Some(ProtectionLevel::Admin),
            _ => None,
        }
    }

    /// The GitLab access level.
    pub(crate) fn level(self) -> u8 {
        match self {
            ProtectionLevel::Maintainer => access::MAINTAINER,
            ProtectionLevel::Owner => access::OWNER,
            ProtectionLevel::Admin => access::ADMIN,
        }
    }
}

/// `UserState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(name = "UserState")]
pub(crate) enum UserState {
    Active,
    Blocked,
    Deactivated,
}

/// `UserCore` (what `currentUser` returns).
pub(crate) struct UserCore {
    pub id: u64,
}

#[Object(name = "UserCore")]
impl UserCore {
    async fn id(&self) -> ID {
        gid("User", self.id)
    }

    async fn username(&self, c: &Context<'_>) -> String {
        user_field(c, self.id, |u| u.username.clone())
    }

    async fn name(&self, c: &Context<'_>) -> String {
        user_field(c, self.id, |u| u.name.clone())
    }

    async fn avatar_url(&self, c: &Context<'_>) -> Option<String> {
        let username = user_field(c, self.id, |u| u.username.clone());
        Some(crate::rest::avatar_url(&ctx(c).origin, &username))
    }

    async fn web_url(&self, c: &Context<'_>) -> String {
        format!(
            "{}/{}",
            ctx(c).origin,
            user_field(c, self.id, |u| u.username.clone())
        )
    }

    async fn web_path(&self, c: &Context<'_>) -> String {
        format!("/{}", user_field(c, self.id, |u| u.username.clone()))
    }

    async fn public_email(&self) -> Option<String> {
        None
    }

    async fn state(&self, c: &Context<'_>) -> UserState {
        match user_field(c, self.id, |u| u.state.clone()).as_str() {
            "blocked" => UserState::Blocked,
            "deactivated" => UserState::Deactivated,
            _ => UserState::Active,
        }
    }
}

fn user_field(c: &Context<'_>, id: u64, f: impl Fn(&crate::model::User) -> String) -> String {
    ctx(c).world.user(id).map(f).unwrap_or_default()
}

/// Repositories of a project or group the caller may read, filtered and sorted.
fn select_repositories(
    world: &World,
    user: Option<u64>,
    within: impl Fn(&Project) -> bool,
    name: Option<&str>,
    sort: Option<RepositorySort>,
) -> Vec<Arc<Repository>> {
    let mut repos: Vec<Arc<Repository>> = world
        .repositories
        .values()
        .filter(|r| {
            world
                .project(r.project_id)
                .is_some_and(|p| within(p) && world.can_read_registry(user, p))
        })
        .filter(|r| name.is_none_or(|n| r.name.to_lowercase().contains(&n.to_lowercase())))
        .cloned()
        .collect();
    let sort = sort.unwrap_or(RepositorySort::CreatedDesc);
    repos.sort_by(|a, b| {
        let ord = match sort {
            RepositorySort::NameAsc | RepositorySort::NameDesc => a.name.cmp(&b.name),
            RepositorySort::CreatedAsc | RepositorySort::CreatedDesc => {
                a.created_at.cmp(&b.created_at)
            }
            RepositorySort::UpdatedAsc | RepositorySort::UpdatedDesc => {
                a.updated_at.cmp(&b.updated_at)
            }
        }
        .then(a.id.cmp(&b.id));
        match sort {
            RepositorySort::NameDesc
            | RepositorySort::CreatedDesc
            | RepositorySort::UpdatedDesc => ord.reverse(),
            _ => ord,
        }
    });
    repos
}

fn repository_connection(
    repos: Vec<Arc<Repository>>,
    args: &PageArgs,
) -> Result<ContainerRepositoryConnection> {
    let w = offset_window(repos.len(), args, MAX_PAGE_SIZE)?;
    let edges: Vec<ContainerRepositoryEdge> = repos[w.start..w.end]
        .iter()
        .enumerate()
        .map(|(i, r)| ContainerRepositoryEdge {
            cursor: offset_cursor(w.start + i),
            node: ContainerRepository { repo: r.clone() },
        })
        .collect();
    Ok(ContainerRepositoryConnection {
        nodes: edges.iter().map(|e| e.node.clone()).collect(),
        page_info: PageInfo {
            has_next_page: w.has_next,
            has_previous_page: w.has_previous,
            start_cursor: edges.first().map(|e| e.cursor.clone()),
            end_cursor: edges.last().map(|e| e.cursor.clone()),
        },
        edges,
        count: repos.len(),
    })
}

/// `ProjectStatistics` (the registry's field only).
#[derive(SimpleObject)]
pub(crate) struct ProjectStatistics {
    /// Deduplicated size of the project's container registry in bytes.
    pub container_registry_size: Option<f64>,
}

/// `Project`.
#[derive(Clone)]
pub(crate) struct ProjectNode {
    pub id: u64,
}

impl ProjectNode {
    fn get<'a>(&self, c: &'a Context<'_>) -> Result<&'a Project> {
        ctx(c)
            .world
            .project(self.id)
            .ok_or_else(|| Error::new(NOT_AVAILABLE))
    }
}

#[Object(name = "Project")]
impl ProjectNode {
    async fn id(&self) -> ID {
        gid("Project", self.id)
    }

    async fn name(&self, c: &Context<'_>) -> Result<String> {
        Ok(self.get(c)?.name.clone())
    }

    async fn path(&self, c: &Context<'_>) -> Result<String> {
        Ok(self.get(c)?.path.clone())
    }

    async fn full_path(&self, c: &Context<'_>) -> Result<ID> {
        Ok(ID(self.get(c)?.path_with_namespace.clone()))
    }

    async fn name_with_namespace(&self, c: &Context<'_>) -> Result<String> {
        Ok(self.get(c)?.name_with_namespace.clone())
    }

    async fn description(&self, c: &Context<'_>) -> Result<Option<String>> {
        Ok(Some(self.get(c)?.description.clone()))
    }

    /// The current user's highest access level in the project (GitLab 16.9 and later).
    async fn max_access_level(&self, c: &Context<'_>) -> Result<AccessLevelValue> {
        let cx = ctx(c);
        if !cx.double.controls().max_access_level_field() {
            return Err(Error::new(
                "Field 'maxAccessLevel' doesn't exist on type 'Project'",
            ));
        }
        let level = cx.world.project_access(cx.user, self.get(c)?);
        Ok(AccessLevelValue {
            integer_value: Some(i32::from(level)),
            string_value: Some(match level {
                access::NONE => AccessLevelName::NoAccess,
                access::GUEST => AccessLevelName::Guest,
                access::REPORTER => AccessLevelName::Reporter,
                access::DEVELOPER => AccessLevelName::Developer,
                access::MAINTAINER => AccessLevelName::Maintainer,
                _ => AccessLevelName::Owner,
            }),
        })
    }

    async fn web_url(&self, c: &Context<'_>) -> Result<Option<String>> {
        Ok(Some(format!(
            "{}/{}",
            ctx(c).origin,
            self.get(c)?.path_with_namespace
        )))
    }

    async fn visibility(&self, c: &Context<'_>) -> Result<Option<String>> {
        Ok(Some(self.get(c)?.visibility.as_str().to_owned()))
    }

    async fn created_at(&self, c: &Context<'_>) -> Result<Option<Time>> {
        Ok(Some(Time(clock::graphql(self.get(c)?.created_at))))
    }

    async fn last_activity_at(&self, c: &Context<'_>) -> Result<Option<Time>> {
        Ok(Some(Time(clock::graphql(self.get(c)?.last_activity_at))))
    }

    async fn container_registry_enabled(&self, c: &Context<'_>) -> Result<Option<bool>> {
        Ok(Some(
            self.get(c)?.registry_access_level != crate::dataset::RegistryAccessLevel::Disabled,
        ))
    }

    /// Project statistics; null below Reporter (GitLab's `read_statistics`).
    async fn statistics(&self, c: &Context<'_>) -> Result<Option<ProjectStatistics>> {
        let cx = ctx(c);
        let project = self.get(c)?;
        if cx.world.project_access(cx.user, project) < access::REPORTER {
            return Ok(None);
        }
        // Only the metadata database computes it; GitLab keeps 0 otherwise.
        let size = if cx.metadata_db {
            cx.world.project_registry_size(project.id)
        } else {
            0
        };
        Ok(Some(ProjectStatistics {
            container_registry_size: Some(size as f64),
        }))
    }

    /// Number of container repositories in the project (0 without registry access).
    async fn container_repositories_count(&self, c: &Context<'_>) -> Result<i32> {
        let cx = ctx(c);
        let project = self.get(c)?;
        if !cx.world.can_read_registry(cx.user, project) {
            return Ok(0);
        }
        Ok(i32::try_from(cx.world.project_repositories(project.id).len()).unwrap_or(i32::MAX))
    }

    /// Container repositories; null when the caller may not read the registry.
    #[allow(clippy::too_many_arguments)]
    async fn container_repositories(
        &self,
        c: &Context<'_>,
        name: Option<String>,
        sort: Option<RepositorySort>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<Option<ContainerRepositoryConnection>> {
        let cx = ctx(c);
        let project = self.get(c)?;
        if !cx.world.can_read_registry(cx.user, project) {
            return Ok(None);
        }
        let id = project.id;
        let repos = select_repositories(&cx.world, cx.user, |p| p.id == id, name.as_deref(), sort);
        repository_connection(
            repos,
            &PageArgs {
                after,
                before,
                first,
                last,
            },
        )
        .map(Some)
    }

    /// The cleanup policy (its rules null below Maintainer); null without registry access.
    async fn container_tags_expiration_policy(
        &self,
        c: &Context<'_>,
    ) -> Result<Option<super::policy::TagsExpirationPolicy>> {
        Ok(super::policy::for_viewer(c, self.get(c)?))
    }

    /// Container repository protection rules (empty below Maintainer).
    async fn container_protection_repository_rules(
        &self,
        c: &Context<'_>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<Option<super::protection::RepositoryRuleConnection>> {
        let args = PageArgs {
            after,
            before,
            first,
            last,
        };
        super::protection::repository_rule_connection(ctx(c), self.get(c)?, &args).map(Some)
    }

    /// Container image tag protection rules (empty below Maintainer).
    async fn container_protection_tag_rules(
        &self,
        c: &Context<'_>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<Option<super::protection::TagRuleConnection>> {
        let args = PageArgs {
            after,
            before,
            first,
            last,
        };
        super::protection::tag_rule_connection(ctx(c), self.get(c)?, &args).map(Some)
    }
}

/// `Group`.
#[derive(Clone)]
pub(crate) struct GroupNode {
    pub id: u64,
}

impl GroupNode {
    fn get<'a>(&self, c: &'a Context<'_>) -> Result<&'a Group> {
        ctx(c)
            .world
            .group(self.id)
            .ok_or_else(|| Error::new(NOT_AVAILABLE))
    }

    fn registry_readable(&self, c: &Context<'_>) -> Result<bool> {
        let cx = ctx(c);
        let g = self.get(c)?;
        Ok(cx.world.group_access(cx.user, g.id) >= access::REPORTER
            || g.visibility == crate::dataset::Visibility::Public)
    }

    fn repositories(
        &self,
        c: &Context<'_>,
        name: Option<&str>,
        sort: Option<RepositorySort>,
    ) -> Vec<Arc<Repository>> {
        let cx = ctx(c);
        let id = self.id;
        select_repositories(
            &cx.world,
            cx.user,
            |p| matches!(p.namespace, Namespace::Group(g) if cx.world.group_is_within(g, id)),
            name,
            sort,
        )
    }
}

#[Object(name = "Group")]
impl GroupNode {
    async fn id(&self) -> ID {
        gid("Group", self.id)
    }

    async fn name(&self, c: &Context<'_>) -> Result<String> {
        Ok(self.get(c)?.name.clone())
    }

    async fn path(&self, c: &Context<'_>) -> Result<String> {
        Ok(self.get(c)?.path.clone())
    }

    async fn full_name(&self, c: &Context<'_>) -> Result<String> {
        Ok(self.get(c)?.full_name.clone())
    }

    async fn full_path(&self, c: &Context<'_>) -> Result<ID> {
        Ok(ID(self.get(c)?.full_path.clone()))
    }

    async fn description(&self, c: &Context<'_>) -> Result<Option<String>> {
        Ok(Some(self.get(c)?.description.clone()))
    }

    async fn web_url(&self, c: &Context<'_>) -> Result<String> {
        Ok(format!(
            "{}/groups/{}",
            ctx(c).origin,
            self.get(c)?.full_path
        ))
    }

    async fn visibility(&self, c: &Context<'_>) -> Result<Option<String>> {
        Ok(Some(self.get(c)?.visibility.as_str().to_owned()))
    }

    /// Projects of the group the caller can see (`includeSubgroups`: and of its subgroups), by
    /// full path; `search` matches the name or path.
    #[allow(clippy::too_many_arguments)]
    #[graphql(
        complexity = "super::connection_complexity(child_complexity, false, first, last, \
            MAX_PAGE_SIZE)"
    )]
    async fn projects(
        &self,
        c: &Context<'_>,
        include_subgroups: Option<bool>,
        search: Option<String>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<super::ProjectConnection> {
        let cx = ctx(c);
        let id = self.get(c)?.id;
        let include_subgroups = include_subgroups.unwrap_or(false);
        let search = search.filter(|s| !s.is_empty()).map(|s| s.to_lowercase());
        let mut projects: Vec<&Project> = cx
            .world
            .projects
            .iter()
            .filter(|p| match p.namespace {
                Namespace::Group(g) if include_subgroups => cx.world.group_is_within(g, id),
                Namespace::Group(g) => g == id,
                Namespace::User(_) => false,
            })
            .filter(|p| cx.world.can_see_project(cx.user, p))
            .filter(|p| {
                search.as_deref().is_none_or(|s| {
                    p.name.to_lowercase().contains(s)
                        || p.path_with_namespace.to_lowercase().contains(s)
                })
            })
            .collect();
        projects.sort_by(|a, b| a.path_with_namespace.cmp(&b.path_with_namespace));
        let args = PageArgs {
            after,
            before,
            first,
            last,
        };
        super::project_connection(&projects, &args)
    }

    /// Number of container repositories the caller can see in the group and its subgroups.
    async fn container_repositories_count(&self, c: &Context<'_>) -> Result<i32> {
        if !self.registry_readable(c)? {
            return Ok(0);
        }
        Ok(i32::try_from(self.repositories(c, None, None).len()).unwrap_or(i32::MAX))
    }

    /// Container repositories of the group and its subgroups; null without registry access.
    #[allow(clippy::too_many_arguments)]
    async fn container_repositories(
        &self,
        c: &Context<'_>,
        name: Option<String>,
        sort: Option<RepositorySort>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<Option<ContainerRepositoryConnection>> {
        if !self.registry_readable(c)? {
            return Ok(None);
        }
        let repos = self.repositories(c, name.as_deref(), sort);
        repository_connection(
            repos,
            &PageArgs {
                after,
                before,
                first,
                last,
            },
        )
        .map(Some)
    }
}

/// `ContainerRepositoryConnection`.
#[derive(SimpleObject)]
#[graphql(name = "ContainerRepositoryConnection")]
pub(crate) struct ContainerRepositoryConnection {
    /// Total count of collection.
    pub count: usize,
    /// A list of edges.
    pub edges: Vec<ContainerRepositoryEdge>,
    /// A list of nodes.
    pub nodes: Vec<ContainerRepository>,
    /// Information to aid in pagination.
    pub page_info: PageInfo,
}

/// `ContainerRepositoryEdge`.
#[derive(SimpleObject)]
#[graphql(name = "ContainerRepositoryEdge")]
pub(crate) struct ContainerRepositoryEdge {
    /// A cursor for use in pagination.
    pub cursor: String,
    /// The item at the end of the edge.
    pub node: ContainerRepository,
}

/// `ContainerRepositoryPermissions`.
#[derive(SimpleObject)]
#[graphql(name = "ContainerRepositoryPermissions")]
pub(crate) struct ContainerRepositoryPermissions {
    /// If `true`, the user can perform `destroy_container_image` on this resource.
    pub destroy_container_repository: bool,
}

/// `ContainerRepository`.
#[derive(Clone)]
pub(crate) struct ContainerRepository {
    pub repo: Arc<Repository>,
}

impl ContainerRepository {
    fn owner<'a>(&self, c: &'a Context<'_>) -> Result<&'a Project> {
        ctx(c)
            .world
            .project(self.repo.project_id)
            .ok_or_else(|| Error::new(NOT_AVAILABLE))
    }

    fn can_destroy(&self, c: &Context<'_>) -> Result<bool> {
        let cx = ctx(c);
        let project = self.owner(c)?;
        Ok(cx.world.can_destroy_image(cx.user, project)
            && !cx
                .world
                .repository_delete_protected(cx.user, project, &self.repo))
    }
}

#[Object(name = "ContainerRepository")]
impl ContainerRepository {
    /// ID of the container repository.
    async fn id(&self) -> ID {
        gid("ContainerRepository", self.repo.id)
    }

    /// Name of the container repository.
    async fn name(&self) -> &str {
        &self.repo.name
    }

    /// Path of the container repository.
    async fn path(&self) -> &str {
        &self.repo.path
    }

    /// URL of the container repository.
    async fn location(&self, c: &Context<'_>) -> String {
        format!("{}/{}", ctx(c).double.registry_host(), self.repo.path)
    }

    /// Timestamp when the container repository was created.
    async fn created_at(&self) -> Time {
        Time(clock::graphql(self.repo.created_at))
    }

    /// Timestamp when the container repository was updated.
    async fn updated_at(&self) -> Time {
        Time(clock::graphql(self.repo.updated_at))
    }

    /// Timestamp when the cleanup done by the expiration policy was started.
    async fn expiration_policy_started_at(&self) -> Option<Time> {
        self.repo
            .expiration_policy_started_at
            .map(|t| Time(clock::graphql(t)))
    }

    /// Tags cleanup status for the container repository.
    async fn expiration_policy_cleanup_status(&self) -> Option<GqlCleanupStatus> {
        Some(self.repo.cleanup_status.into())
    }

    /// Number of deleted tags from the last cleanup.
    async fn last_cleanup_deleted_tags_count(&self) -> Option<i32> {
        self.repo
            .last_cleanup_deleted_tags_count
            .map(|n| i32::try_from(n).unwrap_or(i32::MAX))
    }

    /// Status of the container repository.
    async fn status(&self) -> Option<GqlRepositoryStatus> {
        self.repo.status.map(Into::into)
    }

    /// Number of tags associated with the image.
    async fn tags_count(&self) -> i32 {
        i32::try_from(self.repo.tags.len()).unwrap_or(i32::MAX)
    }

    /// Whether any matching container protection rule exists for the container repository.
    async fn protection_rule_exists(&self, c: &Context<'_>) -> Result<bool> {
        let cx = ctx(c);
        Ok(cx
            .world
            .repository_protection_exists(self.owner(c)?, &self.repo))
    }

    /// Deprecated in GitLab 17.0: returns an empty string.
    #[graphql(deprecation = "Returns an empty string. Deprecated in GitLab 17.0.")]
    async fn migration_state(&self) -> &str {
        ""
    }

    /// Deprecated: use `userPermissions`.
    #[graphql(deprecation = "Use `userPermissions` field. Deprecated in GitLab 16.7.")]
    async fn can_delete(&self, c: &Context<'_>) -> Result<bool> {
        self.can_destroy(c)
    }

    /// Project of the container registry.
    async fn project(&self) -> ProjectNode {
        ProjectNode {
            id: self.repo.project_id,
        }
    }

    /// Permissions for the current user on the resource.
    async fn user_permissions(&self, c: &Context<'_>) -> Result<ContainerRepositoryPermissions> {
        Ok(ContainerRepositoryPermissions {
            destroy_container_repository: self.can_destroy(c)?,
        })
    }
}

/// The fields only `containerRepository(id:)` has.
pub(crate) struct RepositoryDetailsExtra {
    pub repo: Arc<Repository>,
}

#[derive(MergedObject)]
#[graphql(name = "ContainerRepositoryDetails")]
pub(crate) struct ContainerRepositoryDetails(pub ContainerRepository, pub RepositoryDetailsExtra);

/// Tags in the order and window GitLab returns them.
#[derive(Debug)]
struct TagPage {
    views: Vec<TagView>,
    cursors: Vec<String>,
    info: PageInfo,
}

fn tag_page(
    repo: &Repository,
    metadata_db: bool,
    name: Option<&str>,
    sort: Option<TagSort>,
    args: &PageArgs,
) -> Result<TagPage> {
    // Work on references and sort keys; build the (costly) views only for the page.
    let mut tags: Vec<&Tag> = repo
        .tags
        .values()
        .filter(|t| name.is_none_or(|n| t.name.contains(n)))
        .collect();
    let view = |t: &&Tag| TagView::new(repo, t, metadata_db);
    if metadata_db {
        // The registry's own API: server-side sort, tag names as cursors, and (like GitLab's
        // externally paginated arrays) start/end cursors only when there is a page that way.
        let published = |t: &Tag| {
            repo.image_of(t)
                .map(|_| t.updated_at.unwrap_or(t.pushed_at))
        };
        match sort {
            Some(TagSort::NameDesc) => tags.reverse(),
            Some(TagSort::PublishedAtAsc) => {
                tags.sort_by(|a, b| published(a).cmp(&published(b)).then(a.name.cmp(&b.name)))
            }
            Some(TagSort::PublishedAtDesc) => {
                tags.sort_by(|a, b| published(b).cmp(&published(a)).then(b.name.cmp(&a.name)))
            }
            _ => {}
        }
        let position = |cursor: &str| tags.iter().position(|t| t.name == cursor);
        let after = args
            .after
            .as_deref()
            .map(|cursor| position(cursor).map_or(0, |p| p + 1));
        let before = args
            .before
            .as_deref()
            .map(|cursor| position(cursor).unwrap_or(tags.len()));
        let w = position_window(tags.len(), after, before, args, TAGS_MAX_PAGE_SIZE)?;
        let page: Vec<TagView> = tags[w.start..w.end].iter().map(view).collect();
        let cursors: Vec<String> = page.iter().map(|v| v.name.clone()).collect();
        let info = PageInfo {
            has_next_page: w.has_next,
            has_previous_page: w.has_previous,
            start_cursor: if w.has_previous {
                cursors.first().cloned()
            } else {
                None
            },
            end_cursor: if w.has_next {
                cursors.last().cloned()
            } else {
                None
            },
        };
        Ok(TagPage {
            views: page,
            cursors,
            info,
        })
    } else {
        // Rails sorts in memory; without the database every publish time is nil, so a
        // PUBLISHED_AT sort keeps the name order (and `_desc` reverses it).
        if matches!(
            sort,
            Some(TagSort::NameDesc) | Some(TagSort::PublishedAtDesc)
        ) {
            tags.reverse();
        }
        let w = offset_window(tags.len(), args, TAGS_MAX_PAGE_SIZE)?;
        let page: Vec<TagView> = tags[w.start..w.end].iter().map(view).collect();
        let cursors: Vec<String> = (w.start..w.end).map(offset_cursor).collect();
        let info = PageInfo {
            has_next_page: w.has_next,
            has_previous_page: w.has_previous,
            start_cursor: cursors.first().cloned(),
            end_cursor: cursors.last().cloned(),
        };
        Ok(TagPage {
            views: page,
            cursors,
            info,
        })
    }
}

#[Object(name = "RepositoryDetailsExtra")]
impl RepositoryDetailsExtra {
    /// Tags of the container repository (at most 20 per page).
    #[allow(clippy::too_many_arguments)]
    #[graphql(
        complexity = "super::connection_complexity(child_complexity, sort.is_some(), first, last, \
            20)"
    )]
    async fn tags(
        &self,
        c: &Context<'_>,
        sort: Option<TagSort>,
        name: Option<String>,
        referrers: Option<bool>,
        referrer_type: Option<String>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<Option<ContainerRepositoryTagConnection>> {
        let cx = ctx(c);
        let page = tag_page(
            &self.repo,
            cx.metadata_db,
            name.as_deref(),
            sort,
            &PageArgs {
                after,
                before,
                first,
                last,
            },
        )?;
        let with_referrers = cx.metadata_db && referrers.unwrap_or(false);
        let types: Option<Vec<String>> = referrer_type.map(|t| {
            t.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        });
        let edges: Vec<ContainerRepositoryTagEdge> = page
            .views
            .into_iter()
            .zip(page.cursors)
            .map(|(view, cursor)| ContainerRepositoryTagEdge {
                cursor,
                node: TagNode {
                    repo: self.repo.clone(),
                    view,
                    with_referrers,
                    referrer_types: types.clone(),
                },
            })
            .collect();
        Ok(Some(ContainerRepositoryTagConnection {
            nodes: edges.iter().map(|e| e.node.clone()).collect(),
            edges,
            page_info: page.info,
        }))
    }

    /// Details for a specific tag in the container repository.
    async fn tag_details(
        &self,
        c: &Context<'_>,
        name: String,
    ) -> Option<ContainerRepositoryTagDetails> {
        let cx = ctx(c);
        let tag = self.repo.tags.get(&name)?;
        Some(ContainerRepositoryTagDetails {
            path: format!("{}:{}", self.repo.path, tag.name),
            view: TagView::new(&self.repo, tag, cx.metadata_db),
        })
    }

    /// An image manifest (raw JSON) by tag name or digest.
    async fn manifest(&self, reference: String) -> Option<String> {
        let image = if reference.starts_with("sha256:") {
            self.repo.images.get(&reference)
        } else {
            self.repo
                .tags
                .get(&reference)
                .and_then(|t| self.repo.image_of(t))
        }?;
        Some(image.raw())
    }

    /// Deduplicated size of the image repository in bytes (metadata database only).
    async fn size(&self, c: &Context<'_>) -> Option<f64> {
        ctx(c).metadata_db.then_some(self.repo.size as f64)
    }

    /// Timestamp when a repository tag was last created or updated (metadata database only).
    async fn last_published_at(&self, c: &Context<'_>) -> Option<Time> {
        if !ctx(c).metadata_db {
            return None;
        }
        self.repo
            .last_published_at()
            .map(|t| Time(clock::graphql(t)))
    }
}

/// `ContainerRepositoryTagConnection`.
#[derive(SimpleObject)]
#[graphql(name = "ContainerRepositoryTagConnection")]
pub(crate) struct ContainerRepositoryTagConnection {
    /// A list of edges.
    pub edges: Vec<ContainerRepositoryTagEdge>,
    /// A list of nodes.
    pub nodes: Vec<TagNode>,
    /// Information to aid in pagination.
    pub page_info: PageInfo,
}

/// `ContainerRepositoryTagEdge`.
#[derive(SimpleObject)]
#[graphql(name = "ContainerRepositoryTagEdge")]
pub(crate) struct ContainerRepositoryTagEdge {
    /// A cursor for use in pagination.
    pub cursor: String,
    /// The item at the end of the edge.
    pub node: TagNode,
}

/// `ContainerRepositoryTagPermissions`.
#[derive(SimpleObject)]
#[graphql(name = "ContainerRepositoryTagPermissions")]
pub(crate) struct ContainerRepositoryTagPermissions {
    /// If `true`, the user can perform `destroy_container_image_tag` on this resource.
    pub destroy_container_repository_tag: bool,
}

/// `ContainerRepositoryReferrer`.
#[derive(SimpleObject, Clone)]
#[graphql(name = "ContainerRepositoryReferrer")]
pub(crate) struct Referrer {
    /// Artifact type of the referrer.
    pub artifact_type: Option<String>,
    /// Digest of the referrer.
    pub digest: Option<String>,
    /// Permissions for the current user on the resource.
    pub user_permissions: ContainerRepositoryTagPermissions,
}

impl Clone for ContainerRepositoryTagPermissions {
    fn clone(&self) -> Self {
        ContainerRepositoryTagPermissions {
            destroy_container_repository_tag: self.destroy_container_repository_tag,
        }
    }
}

/// `ContainerProtectionAccessLevel`.
#[derive(SimpleObject)]
#[graphql(name = "ContainerProtectionAccessLevel")]
pub(crate) struct ProtectionAccessLevel {
    /// Minimum GitLab access level required to delete container image tags.
    pub minimum_access_level_for_delete: Option<ProtectionLevel>,
    /// Minimum GitLab access level required to push container image tags.
    pub minimum_access_level_for_push: Option<ProtectionLevel>,
}

/// `ContainerRepositoryTag`.
#[derive(Clone)]
pub(crate) struct TagNode {
    pub repo: Arc<Repository>,
    pub view: TagView,
    pub with_referrers: bool,
    pub referrer_types: Option<Vec<String>>,
}

impl TagNode {
    fn can_destroy(&self, c: &Context<'_>) -> bool {
        let cx = ctx(c);
        cx.world.project(self.repo.project_id).is_some_and(|p| {
            cx.world.can_destroy_image(cx.user, p)
                && !cx.world.tag_delete_protected(cx.user, p, &self.view.name)
        })
    }
}

fn tag_time(cx: &Ctx, t: Option<time::OffsetDateTime>) -> Option<Time> {
    let _ = cx;
    t.map(|t| Time(clock::graphql_tag(t)))
}

#[Object(name = "ContainerRepositoryTag")]
impl TagNode {
    /// Name of the tag.
    async fn name(&self) -> &str {
        &self.view.name
    }

    /// Path of the tag.
    async fn path(&self) -> String {
        format!("{}:{}", self.repo.path, self.view.name)
    }

    /// URL of the tag.
    async fn location(&self, c: &Context<'_>) -> String {
        format!(
            "{}/{}:{}",
            ctx(c).double.registry_host(),
            self.repo.path,
            self.view.name
        )
    }

    /// Digest of the tag.
    async fn digest(&self) -> Option<&str> {
        self.view.digest.as_deref()
    }

    /// Revision of the tag.
    async fn revision(&self) -> Option<&str> {
        self.view.revision.as_deref()
    }

    /// Short revision of the tag.
    async fn short_revision(&self) -> Option<String> {
        self.view
            .revision
            .as_ref()
            .map(|r| r.chars().take(9).collect())
    }

    /// Timestamp when the tag was created.
    async fn created_at(&self, c: &Context<'_>) -> Option<Time> {
        tag_time(ctx(c), self.view.created_at)
    }

    /// Timestamp when the tag was published.
    async fn published_at(&self, c: &Context<'_>) -> Option<Time> {
        tag_time(ctx(c), self.view.published_at)
    }

    /// Size of the tag.
    async fn total_size(&self) -> Option<BigInt> {
        self.view.total_size.map(BigInt)
    }

    /// Media type of the tag.
    async fn media_type(&self) -> Option<&str> {
        self.view.media_type.as_deref()
    }

    /// Referrers for the tag (only with `referrers: true` and the metadata database).
    async fn referrers(&self, c: &Context<'_>) -> Option<Vec<Referrer>> {
        if !self.with_referrers {
            return None;
        }
        let permissions = ContainerRepositoryTagPermissions {
            destroy_container_repository_tag: self.can_destroy(c),
        };
        Some(
            self.view
                .referrers
                .iter()
                .filter(|r| {
                    self.referrer_types
                        .as_ref()
                        .is_none_or(|types| types.contains(&r.artifact_type))
                })
                .map(|r| Referrer {
                    artifact_type: Some(r.artifact_type.clone()),
                    digest: Some(r.digest.clone()),
                    user_permissions: permissions.clone(),
                })
                .collect(),
        )
    }

    /// Minimum access levels required to push and delete the tag, if a protection rule matches.
    async fn protection(&self, c: &Context<'_>) -> Option<ProtectionAccessLevel> {
        let cx = ctx(c);
        let project = cx.world.project(self.repo.project_id)?;
        let (push, delete) = cx.world.tag_protection(project, &self.view.name)?;
        Some(ProtectionAccessLevel {
            minimum_access_level_for_delete: ProtectionLevel::from_level(delete),
            minimum_access_level_for_push: ProtectionLevel::from_level(push),
        })
    }

    /// Deprecated: use `userPermissions`.
    #[graphql(deprecation = "Use `userPermissions` field. Deprecated in GitLab 16.7.")]
    async fn can_delete(&self, c: &Context<'_>) -> bool {
        self.can_destroy(c)
    }

    /// Permissions for the current user on the resource.
    async fn user_permissions(&self, c: &Context<'_>) -> ContainerRepositoryTagPermissions {
        ContainerRepositoryTagPermissions {
            destroy_container_repository_tag: self.can_destroy(c),
        }
    }
}

/// `ContainerRepositoryImagePlatform`.
#[derive(SimpleObject)]
#[graphql(name = "ContainerRepositoryImagePlatform")]
pub(crate) struct ImagePlatform {
    /// CPU architecture of the platform.
    pub architecture: Option<String>,
    /// Operating system of the platform.
    pub os: Option<String>,
    /// Operating system version, typically used for Windows images.
    pub os_version: Option<String>,
    /// CPU variant of the platform.
    pub variant: Option<String>,
}

fn platform(image: &Image) -> Option<ImagePlatform> {
    image.platform.as_ref().map(|p| ImagePlatform {
        architecture: Some(p.architecture.clone()),
        os: Some(p.os.clone()),
        os_version: None,
        variant: p.variant.clone(),
    })
}

/// `ContainerRepositoryImageManifest`.
#[derive(SimpleObject)]
#[graphql(name = "ContainerRepositoryImageManifest")]
pub(crate) struct ImageManifest {
    /// Digest of the manifest.
    pub digest: Option<String>,
    /// Media type of the manifest.
    pub media_type: Option<String>,
    /// Platform specifier for the image reference.
    pub platform: Option<ImagePlatform>,
    /// Size of the manifest in bytes.
    pub size: Option<BigInt>,
}

/// `ContainerRepositoryTagDetails`.
pub(crate) struct ContainerRepositoryTagDetails {
    pub path: String,
    pub view: TagView,
}

#[Object(name = "ContainerRepositoryTagDetails")]
impl ContainerRepositoryTagDetails {
    /// Name of the tag.
    async fn name(&self) -> &str {
        &self.view.name
    }

    /// Path of the tag.
    async fn path(&self) -> &str {
        &self.path
    }

    /// URL of the tag.
    async fn location(&self, c: &Context<'_>) -> String {
        format!("{}/{}", ctx(c).double.registry_host(), self.path)
    }

    /// Digest of the tag.
    async fn digest(&self) -> Option<&str> {
        self.view.digest.as_deref()
    }

    /// Media type of the tag.
    async fn media_type(&self) -> Option<&str> {
        self.view.media_type.as_deref()
    }

    /// Timestamp when the tag was created.
    async fn created_at(&self, c: &Context<'_>) -> Option<Time> {
        tag_time(ctx(c), self.view.created_at)
    }

    /// Timestamp when the tag was published.
    async fn published_at(&self, c: &Context<'_>) -> Option<Time> {
        tag_time(ctx(c), self.view.published_at)
    }

    /// Size of the tag.
    async fn total_size(&self) -> Option<BigInt> {
        self.view.total_size.map(BigInt)
    }

    /// Platform of the image tag. Null for index tags.
    async fn platform(&self) -> Option<ImagePlatform> {
        let image = self.view.image.as_ref()?;
        if image.is_index() {
            return None;
        }
        platform(image)
    }

    /// Manifests of the index tag. Null for non-index tags.
    async fn manifests(&self) -> Option<Vec<ImageManifest>> {
        let image = self.view.image.as_ref()?;
        if !image.is_index() {
            return None;
        }
        Some(
            image
                .manifests
                .iter()
                .map(|m| ImageManifest {
                    digest: Some(m.digest.clone()),
                    media_type: Some(m.media_type.clone()),
                    platform: platform(m),
                    size: Some(BigInt(m.raw().len() as u64)),
                })
                .collect(),
        )
    }
}

/// Statuses a repository can no longer be read in.
pub(crate) fn readable_repository(cx: &Ctx, id: u64) -> Option<Arc<Repository>> {
    let repo = cx.world.repositories.get(&id)?;
    let project = cx.world.project(repo.project_id)?;
    cx.world
        .can_read_registry(cx.user, project)
        .then(|| repo.clone())
}

/// GitLab's `AccessLevel` object.
#[derive(SimpleObject)]
#[graphql(name = "AccessLevel")]
pub(crate) struct AccessLevelValue {
    /// Integer representation of access level.
    integer_value: Option<i32>,
    /// String representation of access level.
    string_value: Option<AccessLevelName>,
}

/// GitLab's `AccessLevelEnum` (the values a project member can have).
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "AccessLevelEnum", rename_items = "SCREAMING_SNAKE_CASE")]
pub(crate) enum AccessLevelName {
    NoAccess,
    Guest,
    Reporter,
    Developer,
    Maintainer,
    Owner,
}
