//! Container registry protection rules in GraphQL: the rule types, the `Project` connections
//! (`containerProtectionRepositoryRules`, `containerProtectionTagRules`) and the create, update
//! and delete mutations of both kinds (the `Mutation` type delegates here).

use async_graphql::{
    Enum, Error, InputObject, InputType, InputValueError, InputValueResult, MaybeUndefined, Object,
    Result, Scalar, ScalarType, SimpleObject, Value, ID,
};

use super::paging::{offset_cursor, offset_window, PageArgs, PageInfo};
use super::types::{gid, ProtectionLevel, MAX_PAGE_SIZE};
use super::{Ctx, NOT_AVAILABLE};
use crate::model::{access, Project, RepositoryRule, TagRule};
use crate::protection::{RuleChanges, RuleError};

const TAG_RULE_CLASS: &str = "ContainerRegistry::Protection::TagRule";
const REPOSITORY_RULE_CLASS: &str = "ContainerRegistry::Protection::Rule";

/// Parses `gid://gitlab/<class>/<id>` with GitLab's error messages.
fn parse_gid<T: InputType>(value: &Value, class: &str, make: fn(u64) -> T) -> InputValueResult<T> {
    let Value::String(s) = value else {
        return Err(InputValueError::expected_type(value.clone()));
    };
    let invalid = || InputValueError::custom(format!("\"{s}\" is not a valid Global ID"));
    let rest = s.strip_prefix("gid://gitlab/").ok_or_else(invalid)?;
    let (kind, id) = rest.rsplit_once('/').ok_or_else(invalid)?;
    if kind != class {
        return Err(InputValueError::custom(format!(
            "\"{s}\" does not represent an instance of {class}"
        )));
    }
    id.parse().map(make).map_err(|_| invalid())
}

/// `ContainerRegistryProtectionTagRuleID`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TagRuleId(pub u64);

#[Scalar(name = "ContainerRegistryProtectionTagRuleID")]
impl ScalarType for TagRuleId {
    fn parse(value: Value) -> InputValueResult<Self> {
        parse_gid(&value, TAG_RULE_CLASS, TagRuleId)
    }

    fn to_value(&self) -> Value {
        Value::String(format!("gid://gitlab/{TAG_RULE_CLASS}/{}", self.0))
    }
}

/// `ContainerRegistryProtectionRuleID`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RepositoryRuleId(pub u64);

#[Scalar(name = "ContainerRegistryProtectionRuleID")]
impl ScalarType for RepositoryRuleId {
    fn parse(value: Value) -> InputValueResult<Self> {
        parse_gid(&value, REPOSITORY_RULE_CLASS, RepositoryRuleId)
    }

    fn to_value(&self) -> Value {
        Value::String(format!("gid://gitlab/{REPOSITORY_RULE_CLASS}/{}", self.0))
    }
}

/// `ContainerProtectionRepositoryRuleAccessLevel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(name = "ContainerProtectionRepositoryRuleAccessLevel")]
pub(crate) enum RepositoryRuleLevel {
    Maintainer,
    Owner,
    Admin,
}

impl RepositoryRuleLevel {
    fn from_level(level: u8) -> Option<RepositoryRuleLevel> {
        match level {
            access::MAINTAINER => Some(RepositoryRuleLevel::Maintainer),
            access::OWNER => Some(RepositoryRuleLevel::Owner),
            access::ADMIN => Some(RepositoryRuleLevel::Admin),
            _ => None,
        }
    }

    fn level(self) -> u8 {
        match self {
            RepositoryRuleLevel::Maintainer => access::MAINTAINER,
            RepositoryRuleLevel::Owner => access::OWNER,
            RepositoryRuleLevel::Admin => access::ADMIN,
        }
    }
}

/// `ContainerProtectionTagRule`.
#[derive(Clone)]
pub(crate) struct TagRuleNode {
    rule: TagRule,
}

#[Object(name = "ContainerProtectionTagRule")]
impl TagRuleNode {
    /// ID of the container repository tag protection rule.
    async fn id(&self) -> ID {
        gid(TAG_RULE_CLASS, self.rule.id)
    }

    /// The pattern that matches container image tags to protect (RE2, unanchored).
    async fn tag_name_pattern(&self) -> &str {
        &self.rule.pattern
    }

    /// Minimum GitLab access level required to push container image tags.
    async fn minimum_access_level_for_push(&self) -> ProtectionLevel {
        ProtectionLevel::from_level(self.rule.min_push).unwrap_or(ProtectionLevel::Maintainer)
    }

    /// Minimum GitLab access level required to delete container image tags.
    async fn minimum_access_level_for_delete(&self) -> ProtectionLevel {
        ProtectionLevel::from_level(self.rule.min_delete).unwrap_or(ProtectionLevel::Maintainer)
    }
}

/// `ContainerProtectionRepositoryRule`.
#[derive(Clone)]
pub(crate) struct RepositoryRuleNode {
    rule: RepositoryRule,
}

#[Object(name = "ContainerProtectionRepositoryRule")]
impl RepositoryRuleNode {
    /// ID of the container repository protection rule.
    async fn id(&self) -> ID {
        gid(REPOSITORY_RULE_CLASS, self.rule.id)
    }

    /// Container repository path pattern protected by the protection rule (`*` wildcards).
    async fn repository_path_pattern(&self) -> &str {
        &self.rule.pattern
    }

    /// Minimum GitLab access level required to push container images, or null.
    async fn minimum_access_level_for_push(&self) -> Option<RepositoryRuleLevel> {
        self.rule.min_push.and_then(RepositoryRuleLevel::from_level)
    }

    /// Minimum GitLab access level required to delete container images, or null.
    async fn minimum_access_level_for_delete(&self) -> Option<RepositoryRuleLevel> {
        self.rule
            .min_delete
            .and_then(RepositoryRuleLevel::from_level)
    }
}

/// `ContainerProtectionTagRuleConnection`.
#[derive(SimpleObject)]
#[graphql(name = "ContainerProtectionTagRuleConnection")]
pub(crate) struct TagRuleConnection {
    /// A list of edges.
    edges: Vec<TagRuleEdge>,
    /// A list of nodes.
    nodes: Vec<TagRuleNode>,
    /// Information to aid in pagination.
    page_info: PageInfo,
}

/// `ContainerProtectionTagRuleEdge`.
#[derive(SimpleObject)]
#[graphql(name = "ContainerProtectionTagRuleEdge")]
pub(crate) struct TagRuleEdge {
    /// A cursor for use in pagination.
    cursor: String,
    /// The item at the end of the edge.
    node: TagRuleNode,
}

/// `ContainerProtectionRepositoryRuleConnection`.
#[derive(SimpleObject)]
#[graphql(name = "ContainerProtectionRepositoryRuleConnection")]
pub(crate) struct RepositoryRuleConnection {
    /// A list of edges.
    edges: Vec<RepositoryRuleEdge>,
    /// A list of nodes.
    nodes: Vec<RepositoryRuleNode>,
    /// Information to aid in pagination.
    page_info: PageInfo,
}

/// `ContainerProtectionRepositoryRuleEdge`.
#[derive(SimpleObject)]
#[graphql(name = "ContainerProtectionRepositoryRuleEdge")]
pub(crate) struct RepositoryRuleEdge {
    /// A cursor for use in pagination.
    cursor: String,
    /// The item at the end of the edge.
    node: RepositoryRuleNode,
}

/// A page of `items` with graphql-ruby's offset cursors.
fn window<T: Clone>(items: &[T], args: &PageArgs) -> Result<(Vec<(String, T)>, PageInfo)> {
    let w = offset_window(items.len(), args, MAX_PAGE_SIZE)?;
    let page: Vec<(String, T)> = items[w.start..w.end]
        .iter()
        .enumerate()
        .map(|(i, item)| (offset_cursor(w.start + i), item.clone()))
        .collect();
    let info = PageInfo {
        has_next_page: w.has_next,
        has_previous_page: w.has_previous,
        start_cursor: page.first().map(|(c, _)| c.clone()),
        end_cursor: page.last().map(|(c, _)| c.clone()),
    };
    Ok((page, info))
}

/// Rules are only shown to Maintainers (the rule types authorize `admin_container_image`);
/// everyone else gets an empty list.
fn visible<'p>(cx: &Ctx, project: &'p Project) -> Option<&'p Project> {
    cx.world
        .can_admin_registry(cx.user, project)
        .then_some(project)
}

/// `Project.containerProtectionTagRules`.
pub(crate) fn tag_rule_connection(
    cx: &Ctx,
    project: &Project,
    args: &PageArgs,
) -> Result<TagRuleConnection> {
    let rules: Vec<TagRule> = visible(cx, project).map_or_else(Vec::new, |p| p.tag_rules.clone());
    let (page, page_info) = window(&rules, args)?;
    let edges: Vec<TagRuleEdge> = page
        .into_iter()
        .map(|(cursor, rule)| TagRuleEdge {
            cursor,
            node: TagRuleNode { rule },
        })
        .collect();
    Ok(TagRuleConnection {
        nodes: edges.iter().map(|e| e.node.clone()).collect(),
        edges,
        page_info,
    })
}

/// `Project.containerProtectionRepositoryRules`.
pub(crate) fn repository_rule_connection(
    cx: &Ctx,
    project: &Project,
    args: &PageArgs,
) -> Result<RepositoryRuleConnection> {
    let rules: Vec<RepositoryRule> =
        visible(cx, project).map_or_else(Vec::new, |p| p.repository_rules.clone());
    let (page, page_info) = window(&rules, args)?;
    let edges: Vec<RepositoryRuleEdge> = page
        .into_iter()
        .map(|(cursor, rule)| RepositoryRuleEdge {
            cursor,
            node: RepositoryRuleNode { rule },
        })
        .collect();
    Ok(RepositoryRuleConnection {
        nodes: edges.iter().map(|e| e.node.clone()).collect(),
        edges,
        page_info,
    })
}

// ---------------------------------------------------------------------------------------------
// Mutations
// ---------------------------------------------------------------------------------------------

/// Input of `createContainerProtectionTagRule`.
#[derive(InputObject)]
#[graphql(name = "createContainerProtectionTagRuleInput")]
pub(crate) struct CreateTagRuleInput {
    /// A unique identifier for the client performing the mutation.
    client_mutation_id: Option<String>,
    /// Full path of the project containing the container image tags.
    project_path: ID,
    /// The pattern that matches container image tags to protect (RE2, at most 100 characters).
    tag_name_pattern: String,
    /// Minimum GitLab access level required to delete container image tags.
    minimum_access_level_for_delete: Option<ProtectionLevel>,
    /// Minimum GitLab access level required to push container image tags.
    minimum_access_level_for_push: Option<ProtectionLevel>,
}

/// Input of `updateContainerProtectionTagRule`.
#[derive(InputObject)]
#[graphql(name = "updateContainerProtectionTagRuleInput")]
pub(crate) struct UpdateTagRuleInput {
    /// A unique identifier for the client performing the mutation.
    client_mutation_id: Option<String>,
    /// Global ID of the tag protection rule to update.
    id: TagRuleId,
    /// The pattern that matches container image tags to protect.
    tag_name_pattern: Option<String>,
    /// Minimum GitLab access level required to delete container image tags.
    minimum_access_level_for_delete: MaybeUndefined<ProtectionLevel>,
    /// Minimum GitLab access level required to push container image tags.
    minimum_access_level_for_push: MaybeUndefined<ProtectionLevel>,
}

/// Input of `deleteContainerProtectionTagRule`.
#[derive(InputObject)]
#[graphql(name = "DeleteContainerProtectionTagRuleInput")]
pub(crate) struct DeleteTagRuleInput {
    /// A unique identifier for the client performing the mutation.
    client_mutation_id: Option<String>,
    /// Global ID of the tag protection rule to delete.
    id: TagRuleId,
}

/// Input of `createContainerProtectionRepositoryRule`.
#[derive(InputObject)]
#[graphql(name = "CreateContainerProtectionRepositoryRuleInput")]
pub(crate) struct CreateRepositoryRuleInput {
    /// A unique identifier for the client performing the mutation.
    client_mutation_id: Option<String>,
    /// Full path of the project where a protection rule is located.
    project_path: ID,
    /// Container repository path pattern protected by the protection rule (`*` wildcards).
    repository_path_pattern: String,
    /// Minimum GitLab access level required to delete container images.
    minimum_access_level_for_delete: Option<RepositoryRuleLevel>,
    /// Minimum GitLab access level required to push container images.
    minimum_access_level_for_push: Option<RepositoryRuleLevel>,
}

/// Input of `updateContainerProtectionRepositoryRule`.
#[derive(InputObject)]
#[graphql(name = "UpdateContainerProtectionRepositoryRuleInput")]
pub(crate) struct UpdateRepositoryRuleInput {
    /// A unique identifier for the client performing the mutation.
    client_mutation_id: Option<String>,
    /// Global ID of the container repository protection rule to update.
    id: RepositoryRuleId,
    /// Container repository path pattern protected by the protection rule.
    repository_path_pattern: Option<String>,
    /// Minimum GitLab access level required to delete container images.
    minimum_access_level_for_delete: MaybeUndefined<RepositoryRuleLevel>,
    /// Minimum GitLab access level required to push container images.
    minimum_access_level_for_push: MaybeUndefined<RepositoryRuleLevel>,
}

/// Input of `deleteContainerProtectionRepositoryRule`.
#[derive(InputObject)]
#[graphql(name = "DeleteContainerProtectionRepositoryRuleInput")]
pub(crate) struct DeleteRepositoryRuleInput {
    /// A unique identifier for the client performing the mutation.
    client_mutation_id: Option<String>,
    /// Global ID of the container repository protection rule to delete.
    id: RepositoryRuleId,
}

/// A mutation payload: the rule (null on failure) and the errors.
macro_rules! payload {
    ($ty:ident, $name:literal, $field:ident, $node:ty) => {
        #[doc = concat!("`", $name, "`.")]
        #[derive(SimpleObject)]
        #[graphql(name = $name)]
        pub(crate) struct $ty {
            /// A unique identifier for the client performing the mutation.
            client_mutation_id: Option<String>,
            /// The protection rule (null when the change was refused).
            $field: Option<$node>,
            /// Errors encountered during execution of the mutation.
            errors: Vec<String>,
        }

        impl $ty {
            fn from_result(
                client_mutation_id: Option<String>,
                result: std::result::Result<$node, RuleError>,
            ) -> Result<Self> {
                match result {
                    Ok(node) => Ok($ty {
                        client_mutation_id,
                        $field: Some(node),
                        errors: Vec::new(),
                    }),
                    Err(RuleError::NotFound) => Err(Error::new(NOT_AVAILABLE)),
                    Err(refused) => Ok($ty {
                        client_mutation_id,
                        $field: None,
                        errors: refused.messages(),
                    }),
                }
            }
        }
    };
}

payload!(
    CreateTagRulePayload,
    "createContainerProtectionTagRulePayload",
    container_protection_tag_rule,
    TagRuleNode
);
payload!(
    UpdateTagRulePayload,
    "updateContainerProtectionTagRulePayload",
    container_protection_tag_rule,
    TagRuleNode
);
payload!(
    DeleteTagRulePayload,
    "DeleteContainerProtectionTagRulePayload",
    container_protection_tag_rule,
    TagRuleNode
);
payload!(
    CreateRepositoryRulePayload,
    "CreateContainerProtectionRepositoryRulePayload",
    container_protection_repository_rule,
    RepositoryRuleNode
);
payload!(
    UpdateRepositoryRulePayload,
    "UpdateContainerProtectionRepositoryRulePayload",
    container_protection_repository_rule,
    RepositoryRuleNode
);
payload!(
    DeleteRepositoryRulePayload,
    "DeleteContainerProtectionRepositoryRulePayload",
    container_protection_repository_rule,
    RepositoryRuleNode
);

/// The signed-in user, if the token may change things (`api` scope).
fn writer(cx: &Ctx) -> Result<u64> {
    cx.user
        .filter(|_| cx.can_write)
        .ok_or_else(|| Error::new(NOT_AVAILABLE))
}

/// A project by full path where `user` is at least a Maintainer (GitLab's `authorized_find!`).
fn admin_project<'w>(cx: &'w Ctx, user: u64, path: &str) -> Result<&'w Project> {
    cx.world
        .projects
        .iter()
        .find(|p| p.path_with_namespace.eq_ignore_ascii_case(path))
        .filter(|p| cx.world.can_admin_registry(Some(user), p))
        .ok_or_else(|| Error::new(NOT_AVAILABLE))
}

/// GitLab's `validates: { allow_blank: false }` on an argument.
fn not_blank(name: &str, value: Option<&str>) -> Result<()> {
    match value {
        Some(v) if v.trim().is_empty() => Err(Error::new(format!("{name} can't be blank"))),
        _ => Ok(()),
    }
}

fn change<T>(value: MaybeUndefined<T>, level: impl Fn(T) -> u8) -> Option<Option<u8>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(level(v))),
    }
}

pub(crate) fn create_tag_rule(cx: &Ctx, input: CreateTagRuleInput) -> Result<CreateTagRulePayload> {
    not_blank("tagNamePattern", Some(&input.tag_name_pattern))?;
    let user = writer(cx)?;
    let project = admin_project(cx, user, &input.project_path)?;
    let result = cx.double.create_tag_rule(
        project.id,
        RuleChanges {
            pattern: Some(input.tag_name_pattern),
            min_push: Some(
                input
                    .minimum_access_level_for_push
                    .map(ProtectionLevel::level),
            ),
            min_delete: Some(
                input
                    .minimum_access_level_for_delete
                    .map(ProtectionLevel::level),
            ),
        },
    );
    CreateTagRulePayload::from_result(
        input.client_mutation_id,
        result.map(|rule| TagRuleNode { rule }),
    )
}

pub(crate) fn update_tag_rule(cx: &Ctx, input: UpdateTagRuleInput) -> Result<UpdateTagRulePayload> {
    not_blank("tagNamePattern", input.tag_name_pattern.as_deref())?;
    let user = writer(cx)?;
    let (project, _) = cx
        .world
        .tag_rule(input.id.0)
        .filter(|(p, _)| cx.world.can_admin_registry(Some(user), p))
        .ok_or_else(|| Error::new(NOT_AVAILABLE))?;
    let result = cx.double.update_tag_rule(
        project.id,
        input.id.0,
        RuleChanges {
            pattern: input.tag_name_pattern,
            min_push: change(input.minimum_access_level_for_push, ProtectionLevel::level),
            min_delete: change(
                input.minimum_access_level_for_delete,
                ProtectionLevel::level,
            ),
        },
    );
    UpdateTagRulePayload::from_result(
        input.client_mutation_id,
        result.map(|rule| TagRuleNode { rule }),
    )
}

pub(crate) fn delete_tag_rule(cx: &Ctx, input: DeleteTagRuleInput) -> Result<DeleteTagRulePayload> {
    let user = writer(cx)?;
    let (project, _) = cx
        .world
        .tag_rule(input.id.0)
        .filter(|(p, _)| cx.world.can_admin_registry(Some(user), p))
        .ok_or_else(|| Error::new(NOT_AVAILABLE))?;
    let result = cx.double.delete_tag_rule(project.id, input.id.0);
    DeleteTagRulePayload::from_result(
        input.client_mutation_id,
        result.map(|rule| TagRuleNode { rule }),
    )
}

pub(crate) fn create_repository_rule(
    cx: &Ctx,
    input: CreateRepositoryRuleInput,
) -> Result<CreateRepositoryRulePayload> {
    let user = writer(cx)?;
    let project = admin_project(cx, user, &input.project_path)?;
    let result = cx.double.create_repository_rule(
        project.id,
        RuleChanges {
            pattern: Some(input.repository_path_pattern),
            min_push: Some(
                input
                    .minimum_access_level_for_push
                    .map(RepositoryRuleLevel::level),
            ),
            min_delete: Some(
                input
                    .minimum_access_level_for_delete
                    .map(RepositoryRuleLevel::level),
            ),
        },
    );
    CreateRepositoryRulePayload::from_result(
        input.client_mutation_id,
        result.map(|rule| RepositoryRuleNode { rule }),
    )
}

pub(crate) fn update_repository_rule(
    cx: &Ctx,
    input: UpdateRepositoryRuleInput,
) -> Result<UpdateRepositoryRulePayload> {
    let user = writer(cx)?;
    let (project, _) = cx
        .world
        .repository_rule(input.id.0)
        .filter(|(p, _)| cx.world.can_admin_registry(Some(user), p))
        .ok_or_else(|| Error::new(NOT_AVAILABLE))?;
    let result = cx.double.update_repository_rule(
        project.id,
        input.id.0,
        RuleChanges {
            pattern: input.repository_path_pattern,
            min_push: change(
                input.minimum_access_level_for_push,
                RepositoryRuleLevel::level,
            ),
            min_delete: change(
                input.minimum_access_level_for_delete,
                RepositoryRuleLevel::level,
            ),
        },
    );
    UpdateRepositoryRulePayload::from_result(
        input.client_mutation_id,
        result.map(|rule| RepositoryRuleNode { rule }),
    )
}

pub(crate) fn delete_repository_rule(
    cx: &Ctx,
    input: DeleteRepositoryRuleInput,
) -> Result<DeleteRepositoryRulePayload> {
    let user = writer(cx)?;
    let (project, _) = cx
        .world
        .repository_rule(input.id.0)
        .filter(|(p, _)| cx.world.can_admin_registry(Some(user), p))
        .ok_or_else(|| Error::new(NOT_AVAILABLE))?;
    let result = cx.double.delete_repository_rule(project.id, input.id.0);
    DeleteRepositoryRulePayload::from_result(
        input.client_mutation_id,
        result.map(|rule| RepositoryRuleNode { rule }),
    )
}
