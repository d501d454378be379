//! Registry mutations (protection rules are implemented in `protection`).

use async_graphql::{Context, Error, InputObject, Object, Result, SimpleObject};
use time::OffsetDateTime;

use super::protection::{
    self, CreateRepositoryRuleInput, CreateRepositoryRulePayload, CreateTagRuleInput,
    CreateTagRulePayload, DeleteRepositoryRuleInput, DeleteRepositoryRulePayload,
    DeleteTagRuleInput, DeleteTagRulePayload, UpdateRepositoryRuleInput,
    UpdateRepositoryRulePayload, UpdateTagRuleInput, UpdateTagRulePayload,
};
use super::types::{readable_repository, ContainerRepository, ContainerRepositoryId};
use super::{ctx, Ctx, NOT_AVAILABLE};
use crate::dataset::RepositoryStatus;
use crate::model::Repository;

/// GitLab refuses to delete more tags than this in one mutation.
const TAG_LIMIT: usize = 20;

/// Root mutation type.
pub(crate) struct MutationRoot;

/// Input of `destroyContainerRepositoryTags`.
#[derive(InputObject)]
#[graphql(name = "DestroyContainerRepositoryTagsInput")]
struct DestroyTagsInput {
    /// A unique identifier for the client performing the mutation.
    client_mutation_id: Option<String>,
    /// ID of the container repository.
    id: ContainerRepositoryId,
    /// Container repository tag(s) to delete. Total number can't be greater than 20.
    tag_names: Vec<String>,
}

/// Payload of `destroyContainerRepositoryTags`.
#[derive(SimpleObject)]
#[graphql(name = "DestroyContainerRepositoryTagsPayload")]
struct DestroyTagsPayload {
    /// A unique identifier for the client performing the mutation.
    client_mutation_id: Option<String>,
    /// Deleted container repository tags.
    deleted_tag_names: Vec<String>,
    /// Errors encountered during execution of the mutation.
    errors: Vec<String>,
}

/// Input of `destroyContainerRepository`.
#[derive(InputObject)]
#[graphql(name = "DestroyContainerRepositoryInput")]
struct DestroyRepositoryInput {
    /// A unique identifier for the client performing the mutation.
    client_mutation_id: Option<String>,
    /// ID of the container repository.
    id: ContainerRepositoryId,
}

/// Payload of `destroyContainerRepository`.
#[derive(SimpleObject)]
#[graphql(name = "DestroyContainerRepositoryPayload")]
struct DestroyRepositoryPayload {
    /// A unique identifier for the client performing the mutation.
    client_mutation_id: Option<String>,
    /// Container repository policy after scheduling the deletion.
    container_repository: ContainerRepository,
    /// Errors encountered during execution of the mutation.
    errors: Vec<String>,
}

/// The repository, if the caller may `destroy_container_image` on it with a write token.
fn destroyable(cx: &Ctx, id: u64) -> Result<std::sync::Arc<Repository>> {
    let user = cx
        .user
        .filter(|_| cx.can_write)
        .ok_or_else(|| Error::new(NOT_AVAILABLE))?;
    let repo = readable_repository(cx, id).ok_or_else(|| Error::new(NOT_AVAILABLE))?;
    let project = cx
        .world
        .project(repo.project_id)
        .ok_or_else(|| Error::new(NOT_AVAILABLE))?;
    if !cx.world.can_destroy_image(Some(user), project) {
        return Err(Error::new(NOT_AVAILABLE));
    }
    Ok(repo)
}

#[Object(name = "Mutation")]
impl MutationRoot {
    /// Delete container repository tags (at most 20).
    async fn destroy_container_repository_tags(
        &self,
        c: &Context<'_>,
        input: DestroyTagsInput,
    ) -> Result<Option<DestroyTagsPayload>> {
        if input.tag_names.len() > TAG_LIMIT {
            return Err(Error::new(format!(
                "Number of tags is greater than {TAG_LIMIT}"
            )));
        }
        let cx = ctx(c);
        let repo = destroyable(cx, input.id.0)?;
        if input.tag_names.is_empty() {
            return Ok(Some(DestroyTagsPayload {
                client_mutation_id: input.client_mutation_id,
                deleted_tag_names: Vec::new(),
                errors: vec!["not tags specified".to_owned()],
            }));
        }
        let project = cx
            .world
            .project(repo.project_id)
            .ok_or_else(|| Error::new(NOT_AVAILABLE))?;
        let (allowed, protected): (Vec<String>, Vec<String>) = input
            .tag_names
            .into_iter()
            .partition(|name| !cx.world.tag_delete_protected(cx.user, project, name));
        let now = OffsetDateTime::now_utc();
        // Deleting a tag that is already gone succeeds, like the registry's idempotent delete.
        cx.double.update_repository(repo.id, |r| {
            for name in &allowed {
                r.tags.remove(name);
            }
            r.updated_at = now;
            r.refresh();
        });
        tracing::info!(
            repository_id = repo.id,
            deleted = allowed.len(),
            "tags deleted via GraphQL"
        );
        let errors = if protected.is_empty() {
            Vec::new()
        } else {
            vec![format!(
                "Protected tags cannot be deleted: {}",
                protected.join(", ")
            )]
        };
        Ok(Some(DestroyTagsPayload {
            client_mutation_id: input.client_mutation_id,
            deleted_tag_names: allowed,
            errors,
        }))
    }

    /// Schedule a container repository for deletion.
    async fn destroy_container_repository(
        &self,
        c: &Context<'_>,
        input: DestroyRepositoryInput,
    ) -> Result<Option<DestroyRepositoryPayload>> {
        let cx = ctx(c);
        let repo = destroyable(cx, input.id.0)?;
        let project = cx
            .world
            .project(repo.project_id)
            .ok_or_else(|| Error::new(NOT_AVAILABLE))?;
        if cx
            .world
            .repository_delete_protected(cx.user, project, &repo)
        {
            return Err(Error::new(NOT_AVAILABLE));
        }
        let now = OffsetDateTime::now_utc();
        cx.double.update_repository(repo.id, |r| {
            r.status = Some(RepositoryStatus::DeleteScheduled);
            r.updated_at = now;
        });
        let fresh = cx
            .double
            .world()
            .repositories
            .get(&repo.id)
            .cloned()
            .ok_or_else(|| Error::new(NOT_AVAILABLE))?;
        tracing::info!(
            repository_id = repo.id,
            "repository deletion scheduled via GraphQL"
        );
        Ok(Some(DestroyRepositoryPayload {
            client_mutation_id: input.client_mutation_id,
            container_repository: ContainerRepository { repo: fresh },
            errors: Vec::new(),
        }))
    }

    /// Creates a protection rule for container image tags (at most 5 per project; Maintainer).
    async fn create_container_protection_tag_rule(
        &self,
        c: &Context<'_>,
        input: CreateTagRuleInput,
    ) -> Result<Option<CreateTagRulePayload>> {
        protection::create_tag_rule(ctx(c), input).map(Some)
    }

    /// Updates a protection rule for container image tags.
    async fn update_container_protection_tag_rule(
        &self,
        c: &Context<'_>,
        input: UpdateTagRuleInput,
    ) -> Result<Option<UpdateTagRulePayload>> {
        protection::update_tag_rule(ctx(c), input).map(Some)
    }

    /// Deletes a protection rule for container image tags.
    async fn delete_container_protection_tag_rule(
        &self,
        c: &Context<'_>,
        input: DeleteTagRuleInput,
    ) -> Result<Option<DeleteTagRulePayload>> {
        protection::delete_tag_rule(ctx(c), input).map(Some)
    }

    /// Creates a container repository protection rule (at most 5 per project; Maintainer).
    async fn create_container_protection_repository_rule(
        &self,
        c: &Context<'_>,
        input: CreateRepositoryRuleInput,
    ) -> Result<Option<CreateRepositoryRulePayload>> {
        protection::create_repository_rule(ctx(c), input).map(Some)
    }

    /// Updates a container repository protection rule.
    async fn update_container_protection_repository_rule(
        &self,
        c: &Context<'_>,
        input: UpdateRepositoryRuleInput,
    ) -> Result<Option<UpdateRepositoryRulePayload>> {
        protection::update_repository_rule(ctx(c), input).map(Some)
    }

    /// Deletes a container repository protection rule.
    async fn delete_container_protection_repository_rule(
        &self,
        c: &Context<'_>,
        input: DeleteRepositoryRuleInput,
    ) -> Result<Option<DeleteRepositoryRulePayload>> {
        protection::delete_repository_rule(ctx(c), input).map(Some)
    }
}
