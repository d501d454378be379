//! Tag pages: the access check in front of the shared tag index, the list, the detail page
//! and confirmed deletions.

use super::{access_of, lock, BffBackend};
use crate::gitlab::graphql::{self, gid_number, RepositoryHeaderNode};
use crate::gitlab::{GitLabClient, GitLabError};
use crate::state::Instance;
use crate::tags::{BuildRequest, TagIndex};
use app::error::AppError;
use domain::tags::{
    select, Blob, DeleteOutcome, DeletionPlan, FilterError, IndexProgress, PlatformImage,
    RepositoryHeader, TagDetail, TagListPage, TagListView, MAX_DELETE_BATCH,
};
use domain::{CleanupStatus, RepositoryStatus};
use futures::stream::{self, StreamExt};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tower_sessions::Session;

/// How long one user's access check of one repository is reused.
const ACCESS_TTL: Duration = Duration::from_secs(20);
const ACCESS_CACHE_MAX: usize = 4_096;
/// Repositories up to this many tags get a moment to index completely before the first
/// answer, so they never flash a progress bar; larger ones answer with the first page.
const SMALL_REPOSITORY: u64 = 200;
/// Deletions in flight at once (each is one REST call).
const DELETE_CONCURRENCY: usize = 4;

/// (instance, user, repository) → when checked, what GitLab said.
pub type AccessCache = Mutex<HashMap<(String, u64, u64), (Instant, RepositoryHeader)>>;

/// A checked caller: the repository as they may see it, who they are, their token.
pub(crate) struct Access {
    pub header: RepositoryHeader,
    pub user: u64,
    pub token: String,
}

/// GitLab's tag name rule (`[\w][\w.-]{0,127}`), checked before anything is sent.
fn valid_tag_name(name: &str) -> bool {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    first_ok
        && name.len() <= 128
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

impl BffBackend {
    /// Checks with the caller's own token that they can read the repository (GitLab answers
    /// null otherwise) and learns their role. Reused for a few seconds per user.
    pub(crate) async fn repository_access(
        &self,
        session: &Session,
        instance: &Instance,
        repository_id: u64,
        fresh: bool,
    ) -> Result<Access, AppError> {
        let token = self.0.access_token(session, instance).await?;
        let user = self
            .0
            .auth_record(session, instance)
            .await?
            .map(|r| r.viewer.id)
            .ok_or_else(|| AppError::NotSignedIn {
                instance: instance.info.name.clone(),
            })?;
        let key = (instance.info.name.clone(), user, repository_id);
        if !fresh {
            if let Some((at, header)) = lock(&self.0.repository_access).get(&key) {
                if at.elapsed() < ACCESS_TTL {
                    return Ok(Access {
                        header: header.clone(),
                        user,
                        token,
                    });
                }
            }
        }
        let what = format!("image repository {repository_id}");
        let data: graphql::RepositoryHeaderData = self
            .call(session, instance, &what, |token| {
                let api = instance.api.clone();
                async move {
                    api.graphql(
                        &token,
                        graphql::REPOSITORY_HEADER,
                        json!({ "id": format!("gid://gitlab/ContainerRepository/{repository_id}") }),
                    )
                    .await
                }
            })
            .await?;
        let node = data
            .container_repository
            .ok_or_else(|| AppError::NotFound {
                what: super::capitalize(&what),
            })?;
        let project_id = gid_number(&node.project.id).unwrap_or_default();
        let project = self
            .call(session, instance, "the project", |token| {
                let api = instance.api.clone();
                async move { api.project(&token, &project_id.to_string()).await }
            })
            .await?;
        let header = header_from(node, project_id, access_of(&project));
        {
            let mut cache = lock(&self.0.repository_access);
            if cache.len() >= ACCESS_CACHE_MAX {
                cache.retain(|_, (at, _)| at.elapsed() < ACCESS_TTL);
            }
            if cache.len() < ACCESS_CACHE_MAX {
                cache.insert(key, (Instant::now(), header.clone()));
            }
        }
        // The token may have been refreshed by the calls above.
        let token = self.0.access_token(session, instance).await?;
        Ok(Access {
            header,
            user,
            token,
        })
    }

    fn forget_access(&self, instance: &str, repository_id: u64) {
        lock(&self.0.repository_access)
            .retain(|(i, _, r), _| !(i == instance && *r == repository_id));
    }

    pub(crate) fn index_for(&self, instance: &Instance, access: &Access) -> Arc<TagIndex> {
        let indexes = &self.0.tag_indexes;
        indexes.ensure(
            &instance.info.name,
            access.header.tags_count,
            BuildRequest {
                api: instance.api.clone(),
                token: access.token.clone(),
                project_id: access.header.project_id,
                repository_id: access.header.id,
                budget: indexes.budget(&instance.info.name, access.user),
                concurrency: indexes.settings.concurrency,
            },
        )
    }

    pub(crate) async fn tag_list_page(
        &self,
        session: &Session,
        instance: &str,
        repository_id: u64,
        view: &TagListView,
    ) -> Result<TagListPage, AppError> {
        let instance = self.0.instance(instance)?;
        let access = self
            .repository_access(session, instance, repository_id, false)
            .await?;
        let index = self.index_for(instance, &access);
        // Show the first page as soon as there is one; give small repositories the moment
        // they need to complete, so they never flash a progress bar.
        index
            .wait_until(Duration::from_secs(10), |s| {
                s.complete || s.error.is_some() || !s.tags.is_empty()
            })
            .await;
        if access.header.tags_count.unwrap_or(0) <= SMALL_REPOSITORY {
            index
                .wait_until(Duration::from_millis(700), |s| {
                    s.is_current() || s.error.is_some()
                })
                .await;
        }
        let now = crate::auth::records::now();
        let (filter, filter_error) = match view.filter(now) {
            Ok(filter) => (filter, None),
            Err(FilterError::Regex(message)) => {
                let without_name = TagListView {
                    name: String::new(),
                    ..view.clone()
                };
                let filter = without_name.filter(now).map_err(|e| AppError::BadRequest {
                    message: e.to_string(),
                })?;
                (filter, Some(message))
            }
        };
        let (slice, progress) = index.read(|state| {
            let slice = select(state.tags.values(), view, &filter);
            let progress = IndexProgress {
                indexed: state.tags.len() as u64,
                total: state.total.or(access.header.tags_count),
                complete: state.complete,
                error: state.error.clone(),
                age_secs: state.completed_at.map(|at| at.elapsed().as_secs()),
            };
            (slice, progress)
        });
        Ok(TagListPage {
            repository: access.header,
            progress,
            slice,
            filter_error,
            now,
        })
    }

    pub(crate) async fn tag_detail_page(
        &self,
        session: &Session,
        instance: &str,
        repository_id: u64,
        name: &str,
    ) -> Result<TagDetail, AppError> {
        let instance = self.0.instance(instance)?;
        let what = format!("tag “{name}”");
        if !valid_tag_name(name) {
            return Err(AppError::NotFound {
                what: super::capitalize(&what),
            });
        }
        let access = self
            .repository_access(session, instance, repository_id, false)
            .await?;
        let data: graphql::TagDetailData = self
            .call(session, instance, &what, |token| {
                let api = instance.api.clone();
                let name = name.to_string();
                async move {
                    api.graphql(
                        &token,
                        &graphql::tag_detail(),
                        json!({
                            "id": format!("gid://gitlab/ContainerRepository/{repository_id}"),
                            "name": name,
                        }),
                    )
                    .await
                }
            })
            .await?;
        let owner = data
            .container_repository
            .ok_or_else(|| AppError::NotFound {
                what: format!("Image repository {repository_id}"),
            })?;
        let node = owner
            .tags
            .and_then(|c| c.nodes.into_iter().find(|n| n.name == name))
            .ok_or_else(|| AppError::NotFound {
                what: super::capitalize(&what),
            })?;
        let location = node
            .location
            .clone()
            .unwrap_or_else(|| format!("{}:{name}", access.header.location));
        let tag = node.into_tag();
        let manifest: Option<Value> = owner
            .manifest
            .as_deref()
            .and_then(|raw| serde_json::from_str(raw).ok());
        let (config, layers, mut platforms) =
            manifest.as_ref().map(read_manifest).unwrap_or_default();
        if platforms.is_empty() {
            if let Some(children) = owner.tag_details.and_then(|d| d.manifests) {
                platforms = children
                    .into_iter()
                    .filter_map(|m| {
                        Some(PlatformImage {
                            os: m.platform.as_ref().and_then(|p| p.os.clone()),
                            architecture: m.platform.as_ref().and_then(|p| p.architecture.clone()),
                            variant: m.platform.as_ref().and_then(|p| p.variant.clone()),
                            digest: m.digest?,
                            size: m.size.as_ref().and_then(number),
                            media_type: m.media_type,
                        })
                    })
                    .collect();
            }
        }
        // "Also tagged as" comes from the index; start it if this is the first visit.
        let index = self.index_for(instance, &access);
        index
            .wait_until(Duration::from_millis(1500), |s| {
                s.complete || s.error.is_some()
            })
            .await;
        let also_tagged = match &tag.digest {
            Some(digest) => {
                let mut names: Vec<String> = index.read(|s| {
                    s.tags
                        .values()
                        .filter(|t| t.name != tag.name && t.digest.as_ref() == Some(digest))
                        .map(|t| t.name.clone())
                        .collect()
                });
                names.sort_by(|a, b| domain::tags::natural_cmp(a, b));
                names
            }
            None => Vec::new(),
        };
        Ok(TagDetail {
            repository: access.header,
            tag,
            location,
            config,
            layers,
            platforms,
            also_tagged,
            now: crate::auth::records::now(),
        })
    }

    pub(crate) async fn matching_tag_names(
        &self,
        session: &Session,
        instance: &str,
        repository_id: u64,
        view: &TagListView,
    ) -> Result<(Vec<String>, u64), AppError> {
        let instance = self.0.instance(instance)?;
        let filter =
            view.filter(crate::auth::records::now())
                .map_err(|e| AppError::BadRequest {
                    message: e.to_string(),
                })?;
        let access = self
            .repository_access(session, instance, repository_id, false)
            .await?;
        let index = self.index_for(instance, &access);
        let everything = TagListView {
            page: 1,
            ..view.clone()
        };
        Ok(index.read(|state| {
            let mut matched: Vec<&domain::tags::Tag> =
                state.tags.values().filter(|t| filter.matches(t)).collect();
            matched.sort_by(|a, b| everything.sort.compare(a, b));
            let total = matched.len() as u64;
            let names = matched
                .into_iter()
                .take(MAX_DELETE_BATCH)
                .map(|t| t.name.clone())
                .collect();
            (names, total)
        }))
    }

    pub(crate) async fn plan_tag_deletion(
        &self,
        session: &Session,
        instance: &str,
        repository_id: u64,
        names: Vec<String>,
    ) -> Result<DeletionPlan, AppError> {
        let instance = self.0.instance(instance)?;
        if names.len() > MAX_DELETE_BATCH {
            return Err(AppError::BadRequest {
                message: format!("At most {MAX_DELETE_BATCH} tags can be deleted at once."),
            });
        }
        let access = self
            .repository_access(session, instance, repository_id, false)
            .await?;
        let index = self.index_for(instance, &access);
        index
            .wait_until(Duration::from_secs(10), |s| {
                s.is_current() || s.error.is_some()
            })
            .await;
        Ok(index.read(|state| {
            domain::tags::plan_deletion(state.tags.values(), &names, access.header.access)
        }))
    }

    pub(crate) async fn delete_tag_list(
        &self,
        session: &Session,
        instance: &str,
        repository_id: u64,
        names: Vec<String>,
    ) -> Result<Vec<DeleteOutcome>, AppError> {
        let instance = self.0.instance(instance)?;
        let mut unique = Vec::with_capacity(names.len());
        for name in names {
            if !unique.contains(&name) {
                unique.push(name);
            }
        }
        if unique.is_empty() {
            return Err(AppError::BadRequest {
                message: "No tags were selected.".into(),
            });
        }
        if unique.len() > MAX_DELETE_BATCH {
            return Err(AppError::BadRequest {
                message: format!(
                    "At most {MAX_DELETE_BATCH} tags can be deleted at once; {} were selected.",
                    unique.len()
                ),
            });
        }
        if let Some(bad) = unique.iter().find(|n| !valid_tag_name(n)) {
            return Err(AppError::BadRequest {
                message: format!("“{bad}” is not a tag name; nothing was deleted."),
            });
        }
        let access = self
            .repository_access(session, instance, repository_id, true)
            .await?;
        if let Some(reason) = access.header.tag_delete_refusal() {
            return Err(AppError::NotAllowed { reason });
        }
        let (project_id, id) = (access.header.project_id, access.header.id);
        let budget = self.0.tag_indexes.budget(&instance.info.name, access.user);
        let outcomes: Vec<DeleteOutcome> = stream::iter(unique)
            .map(|name| {
                let budget = budget.clone();
                let api: GitLabClient = instance.api.clone();
                let token = access.token.clone();
                async move {
                    let _permit = budget.acquire().await;
                    let result = api.delete_tag(&token, project_id, id, &name).await;
                    let message = match result {
                        Ok(()) => None,
                        Err(GitLabError::Refused(message)) => Some(message),
                        Err(GitLabError::NotFound) => {
                            Some("GitLab does not have this tag (already deleted?).".into())
                        }
                        Err(GitLabError::RateLimited(wait)) => Some(format!(
                            "GitLab's rate limit: try again in {} s.",
                            wait.as_secs().max(1)
                        )),
                        Err(GitLabError::TokenExpired | GitLabError::Unauthorized) => {
                            Some("Your GitLab session ended; sign in again.".into())
                        }
                        Err(other) => Some(other.to_string()),
                    };
                    DeleteOutcome {
                        name,
                        deleted: message.is_none(),
                        message,
                    }
                }
            })
            .buffered(DELETE_CONCURRENCY)
            .collect()
            .await;
        let deleted: Vec<String> = outcomes
            .iter()
            .filter(|o| o.deleted)
            .map(|o| o.name.clone())
            .collect();
        tracing::info!(
            repository = repository_id,
            deleted = deleted.len(),
            failed = outcomes.len() - deleted.len(),
            "tags deleted"
        );
        if let Some(index) = self
            .0
            .tag_indexes
            .existing(&instance.info.name, repository_id)
        {
            index.forget(&deleted);
        }
        self.forget_access(&instance.info.name, repository_id);
        Ok(outcomes)
    }

    pub(crate) async fn delete_whole_repository(
        &self,
        session: &Session,
        instance: &str,
        repository_id: u64,
        confirm_path: &str,
    ) -> Result<RepositoryHeader, AppError> {
        let instance = self.0.instance(instance)?;
        let access = self
            .repository_access(session, instance, repository_id, true)
            .await?;
        if confirm_path.trim() != access.header.path {
            return Err(AppError::BadRequest {
                message: format!(
                    "Type the repository path “{}” exactly to confirm; nothing was deleted.",
                    access.header.path
                ),
            });
        }
        if let Some(reason) = access.header.repository_delete_refusal() {
            return Err(AppError::NotAllowed { reason });
        }
        let (project_id, id) = (access.header.project_id, access.header.id);
        instance
            .api
            .delete_repository(&access.token, project_id, id)
            .await
            .map_err(|e| match e {
                GitLabError::Refused(message) => AppError::BadRequest {
                    message: format!("GitLab refused: {message}"),
                },
                other => super::to_app_error(other, "the image repository"),
            })?;
        tracing::info!(repository = repository_id, "repository deletion scheduled");
        self.forget_access(&instance.info.name, repository_id);
        Ok(self
            .repository_access(session, instance, repository_id, true)
            .await
            .map(|a| a.header)
            .unwrap_or(RepositoryHeader {
                status: Some(RepositoryStatus::DeleteScheduled),
                ..access.header
            }))
    }
}

fn header_from(
    node: RepositoryHeaderNode,
    project_id: u64,
    access: domain::AccessLevel,
) -> RepositoryHeader {
    RepositoryHeader {
        id: gid_number(&node.id).unwrap_or_default(),
        name: node.name,
        path: node.path,
        location: node.location,
        project_id,
        project_path: node.project.full_path,
        project_name: node.project.name,
        tags_count: node.tags_count,
        status: node
            .status
            .as_deref()
            .and_then(RepositoryStatus::from_gitlab),
        cleanup_status: node
            .expiration_policy_cleanup_status
            .as_deref()
            .map(CleanupStatus::from_gitlab)
            .unwrap_or(CleanupStatus::Unscheduled),
        access,
        can_delete_repository: node
            .user_permissions
            .is_some_and(|p| p.destroy_container_repository),
        protection_rule_exists: node.protection_rule_exists.unwrap_or(false),
    }
}

fn number(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn blob(value: &Value) -> Option<Blob> {
    Some(Blob {
        digest: value.get("digest")?.as_str()?.to_string(),
        size: value.get("size").and_then(number),
        media_type: value
            .get("mediaType")
            .and_then(Value::as_str)
            .map(String::from),
    })
}

/// Config, layers and (for an index) platforms from a raw OCI/Docker manifest.
fn read_manifest(manifest: &Value) -> (Option<Blob>, Vec<Blob>, Vec<PlatformImage>) {
    let config = manifest.get("config").and_then(blob);
    let layers = manifest
        .get("layers")
        .and_then(Value::as_array)
        .map(|layers| layers.iter().filter_map(blob).collect())
        .unwrap_or_default();
    let platforms = manifest
        .get("manifests")
        .and_then(Value::as_array)
        .map(|children| {
            children
                .iter()
                .filter_map(|child| {
                    let b = blob(child)?;
                    let platform = child.get("platform");
                    let field = |name: &str| {
                        platform
                            .and_then(|p| p.get(name))
                            .and_then(Value::as_str)
                            .map(String::from)
                    };
                    Some(PlatformImage {
                        os: field("os"),
                        architecture: field("architecture"),
                        variant: field("variant"),
                        digest: b.digest,
                        size: b.size,
                        media_type: b.media_type,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    (config, layers, platforms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_names_follow_gitlab_rules() {
        assert!(valid_tag_name("v1.2.3-rc_1"));
        assert!(valid_tag_name("_x"));
        assert!(!valid_tag_name(""));
        assert!(!valid_tag_name(".hidden"));
        assert!(!valid_tag_name("a/b"));
        assert!(!valid_tag_name(&"a".repeat(129)));
    }

    #[test]
    fn manifests_are_read_for_layers_and_platforms() {
        let image = json!({
            "config": {"digest": "sha256:c", "size": 10, "mediaType": "application/vnd.oci.image.config.v1+json"},
            "layers": [{"digest": "sha256:l1", "size": 100}, {"digest": "sha256:l2", "size": "200"}]
        });
        let (config, layers, platforms) = read_manifest(&image);
        assert_eq!(config.map(|c| c.digest), Some("sha256:c".into()));
        assert_eq!(
            layers.iter().map(|l| l.size).collect::<Vec<_>>(),
            [Some(100), Some(200)]
        );
        assert!(platforms.is_empty());
        let index = json!({"manifests": [
            {"digest": "sha256:a", "size": 5, "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}}
        ]});
        let (_, _, platforms) = read_manifest(&index);
        assert_eq!(platforms[0].label(), "linux/arm64/v8");
    }
}
