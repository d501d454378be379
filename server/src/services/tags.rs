//! Tag pages: the access check in front of the shared tag index, the list, the detail page
//! and confirmed deletions.
//!
//! Every read of a shared index is preceded by an access check of the caller's own
//! credential (GraphQL `containerRepository` answers null to whoever may not read it, and
//! the project's `permissions` give the role), cached per credential for
//! `cache.access_ttl_secs`. Deletions re-check without the cache, then run in a
//! tracked task to their end.

use super::{access_of, Gateway};
use crate::errors;
use crate::gitlab::graphql::PageStart;
use crate::gitlab::graphql::{self, gid, RepositoryHeaderNode};
use crate::gitlab::GitLabError;
use crate::index::{BuildRequest, IndexState, TagIndex};
use app::backend::{Caller, Tags};
use app::error::AppError;
use async_trait::async_trait;
use domain::input::{TagName, TagNames};
use domain::listing::Listing;
use domain::tags::{
    first_names, Blob, DeleteOutcome, DeletionPlan, FilterError, IndexProgress, PlatformImage,
    RepositoryHeader, TagDetail, TagListPage, TagListView, ALSO_TAGGED_SHOWN, MAX_DELETE_BATCH,
};
use domain::usage::UsageState;
use domain::{CleanupStatus, RepositoryStatus, Subject};
use futures::stream::{self, StreamExt};
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// Repositories up to this many tags get a moment to index completely before the first
/// answer, so they never flash a progress bar; larger ones answer with the first page.
const SMALL_REPOSITORY: u64 = 200;
/// Deletions in flight at once (each is one REST call).
const DELETE_CONCURRENCY: usize = 4;
/// How long a cold filtered list waits for the index to complete (it then answers with
/// what is indexed and a progress bar).
const FIRST_PAGE_WAIT: Duration = Duration::from_secs(10);
/// How long a cold name search waits for the index before asking GitLab's own search.
const SEARCH_AFTER: Duration = Duration::from_secs(1);
/// GitLab search pages (of 20) a cold name search reads at most: beyond 200 matches the
/// page waits for the index instead.
const SEARCH_PAGES: usize = 10;

/// Tag lists, tag pages, deletions.
pub struct TagService {
    gw: Arc<Gateway>,
}

impl TagService {
    pub fn new(gw: Arc<Gateway>) -> Self {
        TagService { gw }
    }

    /// Checks with the caller's own credential that they can read the repository (GitLab
    /// answers null otherwise) and learns their role. Reused for a few seconds per
    /// credential; `fresh` asks GitLab again.
    pub(crate) async fn repository_access(
        &self,
        caller: &Caller,
        repository_id: u64,
        fresh: bool,
    ) -> Result<Arc<RepositoryHeader>, AppError> {
        let repository_id = super::repository_id(repository_id)?;
        let key = (caller.credential.key(), repository_id);
        if fresh {
            self.gw.caches.access.invalidate(&key).await;
        }
        self.gw
            .caches
            .access
            .try_get_with(key, self.check_access(caller, repository_id))
            .await
            .map_err(|e| (*e).clone())
    }

    async fn check_access(
        &self,
        caller: &Caller,
        repository_id: u64,
    ) -> Result<Arc<RepositoryHeader>, AppError> {
        let subject = Subject::Repository(repository_id);
        let with_role = self.gw.instance(caller)?.max_access_level.clone();
        let data: graphql::RepositoryHeaderData = self
            .gw
            .call(caller, subject.clone(), |api, token| {
                let with_role = with_role.clone();
                async move {
                    let variables = json!({
                        "id": format!("gid://gitlab/ContainerRepository/{repository_id}")
                    });
                    if with_role.load(Ordering::Relaxed) {
                        match api
                            .graphql(&token, graphql::REPOSITORY_HEADER, variables.clone())
                            .await
                        {
                            Err(GitLabError::Rejected(message))
                                if message.contains("maxAccessLevel") =>
                            {
                                tracing::info!(
                                    "this GitLab has no Project.maxAccessLevel (before \
                                    16.9): roles come from the REST project"
                                );
                                with_role.store(false, Ordering::Relaxed);
                            }
                            answer => return answer,
                        }
                    }
                    api.graphql(&token, graphql::REPOSITORY_HEADER_WITHOUT_ROLE, variables)
                        .await
                }
            })
            .await?;
        let node = data
            .container_repository
            .ok_or_else(|| AppError::NotFound {
                what: subject.clone(),
            })?;
        let project_id =
            gid(&node.project.id).map_err(|e| errors::app_error(e, subject.clone()))?;
        let access = match node
            .project
            .max_access_level
            .as_ref()
            .and_then(|level| level.integer_value)
        {
            Some(level) => domain::AccessLevel::from_gitlab(level),
            None => {
                let project = self
                    .gw
                    .call(caller, subject.clone(), |api, token| async move {
                        api.project(&token, &project_id.to_string()).await
                    })
                    .await?;
                access_of(&project)
            }
        };
        let header =
            header_from(node, project_id, access).map_err(|e| errors::app_error(e, subject))?;
        Ok(Arc::new(header))
    }

    /// A name search's page while the index builds, from GitLab's own name search (pages
    /// of 20 along its chain, at most [`SEARCH_PAGES`]) joined with the matches indexed so
    /// far, filtered and sorted as the full list would be. `None` when GitLab has more
    /// matches than that (the page then waits for the index as any filter does), and when
    /// the index completed meanwhile.
    async fn searched_page(
        &self,
        caller: &Caller,
        header: &Arc<RepositoryHeader>,
        index: &Arc<TagIndex>,
        view: &TagListView,
        filter: &domain::tags::TagFilter,
        now: i64,
    ) -> Result<Option<TagListPage>, AppError> {
        let subject = Subject::Repository(header.id);
        let mut found: Vec<domain::tags::Tag> = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..SEARCH_PAGES {
            let start = [PageStart::Named(view.name.clone(), after.clone())];
            let answer: Result<graphql::TagsBatchData, AppError> = self
                .gw
                .call(caller, subject.clone(), |api, token| {
                    let variables = graphql::tags_batch_variables(header.id, &start);
                    async move {
                        api.graphql(&token, &graphql::tags_batch(1), variables)
                            .await
                    }
                })
                .await;
            // GitLab's search failing leaves the index to answer, as for any filter.
            let data = match answer {
                Ok(data) => data,
                Err(error) => {
                    tracing::info!(?error, "GitLab's name search failed; waiting for the index");
                    return Ok(None);
                }
            };
            let Some(page) = data
                .container_repository
                .and_then(|mut r| r.pages.remove("p0").flatten())
            else {
                return Ok(None);
            };
            found.extend(page.nodes.into_iter().map(graphql::TagNode::into_tag));
            if !page.page_info.has_next_page {
                // One look at the index: if it finished while GitLab searched, it answers,
                // whole (a page from search never claims a complete index).
                let mut names = std::collections::HashSet::new();
                let indexed = index.read(|s| {
                    if s.is_current() || s.error.is_some() {
                        return None;
                    }
                    let indexed: Vec<Arc<domain::tags::Tag>> = s
                        .tags
                        .values()
                        .filter(|t| filter.matches(t))
                        .inspect(|t| {
                            names.insert(t.name.clone());
                        })
                        .cloned()
                        .collect();
                    Some((indexed, progress_of(s, s.tags.len(), header)))
                });
                let Some((mut tags, progress)) = indexed else {
                    return Ok(None);
                };
                tags.extend(
                    found
                        .into_iter()
                        .filter(|t| filter.matches(t) && !names.contains(&t.name))
                        .map(Arc::new),
                );
                let slice = Listing::new(tags).select(view, filter);
                return Ok(Some(TagListPage {
                    repository: (**header).clone(),
                    progress,
                    slice,
                    filter_error: None,
                    now,
                    searched: true,
                    usage: Default::default(),
                }));
            }
            after = page.page_info.end_cursor;
            if after.is_none() {
                return Ok(None);
            }
        }
        Ok(None)
    }

    /// The repository's shared index, started or refreshed as the caller (whose access was
    /// just checked) within the caller's budget.
    /// The repository's index once complete (waited for up to `FIRST_PAGE_WAIT`) and, with
    /// `verdicts`, what GitLab says about its tags (up to `usage::FILTER_WAIT`), the two read
    /// at the same time.
    async fn complete_with_verdicts(
        &self,
        caller: &Caller,
        header: &RepositoryHeader,
        verdicts: bool,
    ) -> Result<(Arc<TagIndex>, Option<super::usage::UsageReading>), AppError> {
        let index = self.index_for(caller, header).await?;
        let usage = match verdicts {
            true => Some(super::usage::start(&self.gw, caller, header, &index).await),
            false => None,
        };
        index
            .wait_until(FIRST_PAGE_WAIT, |s| s.is_current() || s.error.is_some())
            .await;
        let usage = match usage {
            Some(usage) => Some(
                usage
                    .finish(&self.gw, caller, header, &index, super::usage::FILTER_WAIT)
                    .await?,
            ),
            None => None,
        };
        Ok((index, usage))
    }

    pub(crate) async fn index_for(
        &self,
        caller: &Caller,
        header: &RepositoryHeader,
    ) -> Result<Arc<TagIndex>, AppError> {
        let indexes = &self.gw.indexes;
        let api = self.gw.instance(caller)?.api.clone();
        Ok(indexes
            .ensure(
                &caller.instance,
                header.tags_count,
                BuildRequest {
                    api,
                    token: caller.credential.token().secret().to_string(),
                    project_id: header.project_id,
                    repository_id: header.id,
                    budget: indexes.budget(&caller.instance, caller.viewer.id),
                    concurrency: indexes.settings.concurrency,
                },
            )
            .await)
    }
}

/// How far the index is, as the page shows it.
fn progress_of(state: &IndexState, indexed: usize, header: &RepositoryHeader) -> IndexProgress {
    IndexProgress {
        indexed: indexed as u64,
        total: state.total.or(header.tags_count),
        complete: state.complete,
        error: state.error.clone(),
        age_secs: state.completed_at.map(|at| at.elapsed().as_secs()),
    }
}

/// Deletes each named tag once (a few at a time, within the user's budget), reports each,
/// writes the audit event and updates the index.
async fn delete_all(
    gw: Arc<Gateway>,
    caller: Caller,
    header: Arc<RepositoryHeader>,
    names: TagNames,
) -> Result<Vec<DeleteOutcome>, AppError> {
    {
        let instance = gw.instance(&caller)?.clone();
        let (project_id, id) = (header.project_id, header.id);
        let budget = gw.indexes.budget(&caller.instance, caller.viewer.id);
        let token = caller.credential.token().secret().to_string();
        let outcomes: Vec<DeleteOutcome> = stream::iter(names)
            .map(|name| {
                let budget = budget.clone();
                let api = instance.api.clone();
                let token = token.clone();
                async move {
                    let _permit = budget.acquire().await;
                    let result = api.delete_tag(&token, project_id, id, name.as_str()).await;
                    let message = match result {
                        Ok(()) => None,
                        Err(GitLabError::NotFound) => {
                            Some("GitLab does not have this tag (already deleted?).".into())
                        }
                        Err(error) => Some(errors::sentence(&error)),
                    };
                    DeleteOutcome {
                        name: name.into_string(),
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
        let failed: Vec<String> = outcomes
            .iter()
            .filter(|o| !o.deleted)
            .map(|o| format!("{} ({})", o.name, o.message.as_deref().unwrap_or("")))
            .collect();
        gw.audit(
            &caller,
            "delete_tags",
            &format!(
                "project {} repository {} ({})",
                header.project_path, id, header.path
            ),
            &format!(
                "deleted {} [{}]; not deleted {} [{}]",
                deleted.len(),
                deleted.join(", "),
                failed.len(),
                failed.join(", ")
            ),
        );
        gw.indexes.forget(&caller.instance, id, &deleted).await;
        gw.caches.forget_repository(id);
        Ok(outcomes)
    }
}

#[async_trait]
impl Tags for TagService {
    async fn tag_list(
        &self,
        caller: &Caller,
        repository_id: u64,
        view: &TagListView,
    ) -> Result<TagListPage, AppError> {
        let header = self.repository_access(caller, repository_id, false).await?;
        let now = crate::clock::now();
        // The filter compiles only now, for a caller GitLab let read the repository.
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
        let index = self.index_for(caller, &header).await?;
        // GitLab's CI context is read while the page waits for its tags.
        let usage = super::usage::start(&self.gw, caller, &header, &index).await;
        if view.is_filtered() && filter_error.is_none() {
            // A filtered view answers from the whole list, not from whatever is indexed yet;
            // a name search that would wait asks GitLab's own search meanwhile.
            let ready = |s: &crate::index::IndexState| s.is_current() || s.error.is_some();
            if view.is_name_search() {
                index.wait_until(SEARCH_AFTER, ready).await;
                if !index.read(ready) {
                    if let Some(page) = self
                        .searched_page(caller, &header, &index, view, &filter, now)
                        .await?
                    {
                        return Ok(page);
                    }
                }
            }
            index.wait_until(FIRST_PAGE_WAIT, ready).await;
        } else {
            // Show the first page as soon as there is one; give small repositories the moment
            // they need to complete, so they never flash a progress bar.
            index
                .wait_until(FIRST_PAGE_WAIT, |s| {
                    s.complete || s.error.is_some() || !s.tags.is_empty()
                })
                .await;
            if header.tags_count.unwrap_or(0) <= SMALL_REPOSITORY {
                index
                    .wait_until(Duration::from_millis(700), |s| {
                        s.is_current() || s.error.is_some()
                    })
                    .await;
            }
        }
        let wait = match view.usage {
            Some(_) => super::usage::FILTER_WAIT,
            None => Duration::from_millis(self.gw.usage.wait_ms),
        };
        let usage = usage
            .finish(&self.gw, caller, &header, &index, wait)
            .await?;
        let filter = usage.narrow(filter);
        let (listing, progress) =
            index.listing_and(|state| progress_of(state, state.tags.len(), &header));
        let slice = listing.select(view, &filter);
        Ok(TagListPage {
            repository: (*header).clone(),
            progress,
            usage: usage.state(slice.tags.iter().map(|t| t.name.as_str())),
            slice,
            filter_error,
            now,
            searched: false,
        })
    }

    async fn tag_detail(
        &self,
        caller: &Caller,
        repository_id: u64,
        name: &TagName,
    ) -> Result<TagDetail, AppError> {
        let header = self.repository_access(caller, repository_id, false).await?;
        let subject = Subject::Tag {
            repository: repository_id,
            name: name.to_string(),
        };
        let data: graphql::TagDetailData = self
            .gw
            .call(caller, subject.clone(), |api, token| {
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
        let owner = data.container_repository.ok_or(AppError::NotFound {
            what: Subject::Repository(repository_id),
        })?;
        let node = owner
            .tags
            .and_then(|c| c.nodes.into_iter().find(|n| n.name == name.as_str()))
            .ok_or(AppError::NotFound { what: subject })?;
        let location = node
            .location
            .clone()
            .unwrap_or_else(|| format!("{}:{name}", header.location));
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
        let index = self.index_for(caller, &header).await?;
        let usage = super::usage::start(&self.gw, caller, &header, &index).await;
        index
            .wait_until(Duration::from_millis(1500), |s| {
                s.complete || s.error.is_some()
            })
            .await;
        let usage = usage
            .finish(
                &self.gw,
                caller,
                &header,
                &index,
                Duration::from_millis(self.gw.usage.wait_ms),
            )
            .await?
            .state([tag.name.as_str()]);
        let sidecars = match tag
            .digest
            .as_deref()
            .and_then(|d| d.strip_prefix("sha256:"))
        {
            Some(hex) => index.read(|s| {
                ["sig", "att", "sbom"]
                    .into_iter()
                    .map(|suffix| format!("sha256-{hex}.{suffix}"))
                    .filter(|name| s.tags.contains_key(name))
                    .filter_map(|name| domain::shape::sidecar(&name).map(|(_, kind)| (name, kind)))
                    .collect()
            }),
            None => Vec::new(),
        };
        let (also_tagged, also_tagged_more) = match &tag.digest {
            Some(digest) => index.read(|s| {
                first_names(
                    s.tags
                        .values()
                        .filter(|t| t.name != tag.name && t.digest.as_ref() == Some(digest))
                        .map(|t| t.name.as_str())
                        .collect(),
                    ALSO_TAGGED_SHOWN,
                )
            }),
            None => (Vec::new(), 0),
        };
        Ok(TagDetail {
            repository: (*header).clone(),
            tag,
            location,
            config,
            layers,
            platforms,
            also_tagged,
            also_tagged_more,
            sidecars,
            usage,
            now: crate::clock::now(),
        })
    }

    async fn matching_tags(
        &self,
        caller: &Caller,
        repository_id: u64,
        view: &TagListView,
    ) -> Result<(Vec<String>, u64), AppError> {
        let header = self.repository_access(caller, repository_id, false).await?;
        let filter = view
            .filter(crate::clock::now())
            .map_err(|e| AppError::BadRequest {
                message: e.to_string(),
            })?;
        let (index, usage) = self
            .complete_with_verdicts(caller, &header, view.usage.is_some())
            .await?;
        // A usage filter selects what its verdicts say, or refuses: an unknown verdict
        // never selects a tag for deletion.
        let filter = match usage {
            Some(usage) => usage.narrow_strictly(filter)?,
            None => filter,
        };
        Ok(index.read(|state| {
            let mut matched: Vec<&domain::tags::Tag> = state
                .tags
                .values()
                .map(|t| &**t)
                .filter(|t| filter.matches(t))
                .collect();
            matched.sort_by(|a, b| view.sort.compare(a, b));
            let total = matched.len() as u64;
            let names = matched
                .into_iter()
                .take(MAX_DELETE_BATCH)
                .map(|t| t.name.clone())
                .collect();
            (names, total)
        }))
    }

    async fn tag_usage(&self, caller: &Caller, repository_id: u64) -> Result<UsageState, AppError> {
        let header = self.repository_access(caller, repository_id, false).await?;
        let (_, usage) = self.complete_with_verdicts(caller, &header, true).await?;
        Ok(usage.map_or(UsageState::NotRead, |u| u.whole()))
    }

    async fn deletion_plan(
        &self,
        caller: &Caller,
        repository_id: u64,
        names: &TagNames,
    ) -> Result<DeletionPlan, AppError> {
        let header = self.repository_access(caller, repository_id, false).await?;
        // The dialog warns about tags in use: it waits for the verdicts as long as a usage
        // filter does.
        let (index, usage) = self.complete_with_verdicts(caller, &header, true).await?;
        let names = names.to_strings();
        let mut plan = index.read(|state| {
            domain::tags::plan_deletion(state.tags.values().map(|t| &**t), &names, header.access)
        });
        plan.usage = usage.map_or(UsageState::NotRead, |u| {
            u.state(plan.tags.iter().map(|t| t.name.as_str()))
        });
        plan.now = crate::clock::now();
        Ok(plan)
    }

    async fn delete_tags(
        &self,
        caller: &Caller,
        repository_id: u64,
        names: TagNames,
    ) -> Result<Vec<DeleteOutcome>, AppError> {
        let header = self.repository_access(caller, repository_id, true).await?;
        if let Some(reason) = header.tag_delete_refusal() {
            return Err(AppError::NotAllowed {
                reason: reason.to_string(),
            });
        }
        self.gw
            .to_the_end(delete_all(self.gw.clone(), caller.clone(), header, names))
            .await
    }

    async fn delete_repository(
        &self,
        caller: &Caller,
        repository_id: u64,
        confirm_path: &str,
    ) -> Result<RepositoryHeader, AppError> {
        let header = self.repository_access(caller, repository_id, true).await?;
        if confirm_path.trim() != header.path {
            return Err(AppError::BadRequest {
                message: format!(
                    "Type the repository path “{}” exactly to confirm; nothing was deleted.",
                    header.path
                ),
            });
        }
        if let Some(reason) = header.repository_delete_refusal() {
            return Err(AppError::NotAllowed {
                reason: reason.to_string(),
            });
        }
        let gw = self.gw.clone();
        let owned_caller = caller.clone();
        let target = header.clone();
        self.gw
            .to_the_end(async move {
                let instance = gw.instance(&owned_caller)?;
                let token = owned_caller.credential.token();
                let result = instance
                    .api
                    .delete_repository(token.secret(), target.project_id, target.id)
                    .await;
                gw.audit(
                    &owned_caller,
                    "delete_repository",
                    &format!(
                        "project {} repository {} ({})",
                        target.project_path, target.id, target.path
                    ),
                    &match &result {
                        Ok(()) => "scheduled by GitLab".to_string(),
                        Err(error) => errors::sentence(error),
                    },
                );
                match result {
                    Ok(()) => Ok(()),
                    Err(GitLabError::Refused(message)) => Err(AppError::BadRequest {
                        message: format!("GitLab refused: {message}"),
                    }),
                    Err(other) => Err(gw
                        .failure(&owned_caller, other, Subject::Repository(target.id))
                        .await),
                }
            })
            .await?;
        self.gw.caches.forget_repository(repository_id);
        self.gw.caches.forget_project_pages();
        Ok(self
            .repository_access(caller, repository_id, true)
            .await
            .map(|a| (*a).clone())
            .unwrap_or(RepositoryHeader {
                status: Some(RepositoryStatus::DeleteScheduled),
                ..(*header).clone()
            }))
    }
}

fn header_from(
    node: RepositoryHeaderNode,
    project_id: u64,
    access: domain::AccessLevel,
) -> Result<RepositoryHeader, GitLabError> {
    Ok(RepositoryHeader {
        id: gid(&node.id)?,
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
    })
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
    fn manifests_are_read_for_layers_and_platforms() {
        let image = json!({
            "config": {
                "digest": "sha256:c",
                "size": 10,
                "mediaType": "application/vnd.oci.image.config.v1+json"
            },
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
            {"digest": "sha256:a", "size": 5,
             "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}}
        ]});
        let (_, _, platforms) = read_manifest(&index);
        assert_eq!(platforms[0].label(), "linux/arm64/v8");
    }
}
