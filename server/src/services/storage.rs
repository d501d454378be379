//! Storage truth: deduplicated storage, deletion estimates and tag comparisons, computed from
//! the repository's layers (see `crate::layers`) over its tag index.
//!
//! Every answer starts with the caller's own access check (as the tag pages do), then reads
//! the shared tag index and the shared layers. Gathering starts only here, when a view asks,
//! within the caller's budget; an answer never waits long for it: it says how far it is,
//! and the page asks again.

use super::cleanup::CleanupService;
use super::tags::TagService;
use super::Gateway;
use crate::gitlab::GitLabError;
use crate::index::{IndexState, TagIndex};
use crate::layers::{LayerJob, LayerRequest};
use app::backend::{Caller, Cleanup, Storage};
use app::error::AppError;
use async_trait::async_trait;
use domain::cleanup::CleanupPolicy;
use domain::input::{NamespacePath, TagName, TagNames};
use domain::storage::{
    compare, project_freed, CleanupStorage, DeletionEstimate, Layers, RepositoryFreed,
    RepositoryStorage, TagComparison, LARGEST_SHOWN,
};
use domain::tags::{RepositoryHeader, Tag};
use domain::Subject;
use serde::Deserialize;
use serde_json::json;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

/// How long an answer waits for the tag index to complete.
const INDEX_WAIT: Duration = Duration::from_secs(5);
/// How long an answer waits for the layers to complete (small repositories finish).
const LAYERS_WAIT: Duration = Duration::from_secs(2);

/// Storage figures.
pub struct StorageService {
    gw: Arc<Gateway>,
    tags: Arc<TagService>,
    cleanup: Arc<CleanupService>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SizeData {
    container_repository: Option<SizeNode>,
}

#[derive(Deserialize)]
struct SizeNode {
    size: Option<f64>,
}

impl StorageService {
    pub fn new(gw: Arc<Gateway>, tags: Arc<TagService>, cleanup: Arc<CleanupService>) -> Self {
        StorageService { gw, tags, cleanup }
    }

    fn request(
        &self,
        caller: &Caller,
        header: &RepositoryHeader,
    ) -> Result<LayerRequest, AppError> {
        let indexes = &self.gw.indexes;
        Ok(LayerRequest {
            api: self.gw.instance(caller)?.api.clone(),
            token: caller.credential.token().secret().to_string(),
            repository_id: header.id,
            project_id: header.project_id,
            budget: indexes.budget(&caller.instance, caller.viewer.id),
            concurrency: indexes.settings.concurrency,
        })
    }

    fn start_layers(
        &self,
        caller: &Caller,
        header: &RepositoryHeader,
        index: &TagIndex,
    ) -> Result<Arc<LayerJob>, AppError> {
        Ok(self
            .gw
            .layers
            .ensure(&caller.instance, index, self.request(caller, header)?))
    }

    /// The figures that need no layers: GitLab's size, tag sizes added up, the shape.
    async fn without_layers(
        &self,
        caller: &Caller,
        header: &RepositoryHeader,
        index: &TagIndex,
        images: u64,
    ) -> Result<RepositoryStorage, AppError> {
        let gitlab_size = self.gitlab_size(caller, header.id).await;
        let tags = index.read(tags_of);
        let now = crate::clock::now();
        let shape = tokio::task::spawn_blocking(move || {
            let refs: Vec<&Tag> = tags.iter().map(|t| &**t).collect();
            let naive = added_up(&refs);
            (naive, domain::shape::shape(&refs, now, added_up, false))
        })
        .await
        .map_err(|_| AppError::Internal {
            message: "the storage figures could not be computed".into(),
        })?;
        Ok(RepositoryStorage {
            repository_id: header.id,
            tags: index.read(|s| s.tags.len() as u64),
            summary: domain::storage::StorageSummary {
                naive_bytes: shape.0,
                images,
                ..Default::default()
            },
            progress: domain::storage::LayerProgress {
                images,
                ..Default::default()
            },
            gitlab_size,
            shape: shape.1,
            now,
            on_request: true,
        })
    }

    /// The checked header, the index (given a moment to complete) and the layer job
    /// (started for what the index holds, given a moment too).
    async fn layers(
        &self,
        caller: &Caller,
        repository_id: u64,
    ) -> Result<(Arc<RepositoryHeader>, Arc<TagIndex>, Arc<LayerJob>), AppError> {
        let header = self
            .tags
            .repository_access(caller, repository_id, false)
            .await?;
        let index = self.tags.index_for(caller, &header).await?;
        index
            .wait_until(INDEX_WAIT, |s| s.is_current() || s.error.is_some())
            .await;
        let job = self
            .gw
            .layers
            .ensure(&caller.instance, &index, self.request(caller, &header)?);
        job.wait_until(LAYERS_WAIT, |p| p.complete || p.error.is_some())
            .await;
        Ok((header, index, job))
    }

    /// GitLab's own deduplicated size (metadata database only; null otherwise, and an
    /// older GitLab without the field is not an error worth showing).
    async fn gitlab_size(&self, caller: &Caller, repository_id: u64) -> Option<u64> {
        let data: SizeData = self
            .gw
            .call(caller, Subject::Repository(repository_id), |api, token| async move {
                api.graphql(
                    &token,
                    "query Size($id: ContainerRepositoryID!) { containerRepository(id: $id) { size } }",
                    json!({ "id": format!("gid://gitlab/ContainerRepository/{repository_id}") }),
                )
                .await
            })
            .await
            .ok()?;
        data.container_repository?
            .size
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(|s| s as u64)
    }
}

/// A slice's storage without layers: its tags' sizes added up.
fn added_up(tags: &[&Tag]) -> u64 {
    tags.iter().filter_map(|t| t.total_size).sum()
}

fn tags_of(state: &IndexState) -> Vec<Arc<Tag>> {
    state.tags.values().cloned().collect()
}

#[async_trait]
impl Storage for StorageService {
    async fn repository_storage(
        &self,
        caller: &Caller,
        repository_id: u64,
        read_layers: bool,
    ) -> Result<RepositoryStorage, AppError> {
        let header = self
            .tags
            .repository_access(caller, repository_id, false)
            .await?;
        let index = self.tags.index_for(caller, &header).await?;
        index
            .wait_until(INDEX_WAIT, |s| s.is_current() || s.error.is_some())
            .await;
        let images = index.read(|s| {
            s.tags
                .values()
                .filter_map(|t| t.digest.as_deref())
                .collect::<HashSet<_>>()
                .len() as u64
        });
        // A large repository's layers cost many requests: read them when asked (or when
        // someone already did).
        let started = self.gw.layers.existing(&caller.instance, header.id);
        let auto = images <= self.gw.indexes.settings.layers_auto_images;
        let job = match started {
            Some(job) if !(read_layers || auto || job.started()) => None,
            None if !(read_layers || auto) => None,
            _ => Some(self.start_layers(caller, &header, &index)?),
        };
        let Some(job) = job else {
            return self.without_layers(caller, &header, &index, images).await;
        };
        job.wait_until(LAYERS_WAIT, |p| p.complete || p.error.is_some())
            .await;
        let tags = index.read(tags_of);
        let snapshot = job.snapshot();
        // GitLab's own figure once reading has settled, not on every poll while it runs.
        let settled = snapshot.progress.complete || snapshot.progress.error.is_some();
        let gitlab_size = if settled {
            self.gitlab_size(caller, header.id).await
        } else {
            None
        };
        let now = crate::clock::now();
        let progress = snapshot.progress.clone();
        let progress_of_figures = progress.clone();
        let (summary, shape) = tokio::task::spawn_blocking(move || {
            let refs: Vec<&Tag> = tags.iter().map(|t| &**t).collect();
            let summary = snapshot.layers.summary(refs.iter().copied(), LARGEST_SHOWN);
            // Per-bucket bytes count each blob once only when every image's layers are in.
            let layers = &snapshot.layers;
            let shape = if progress.complete {
                let unique = |members: &[&Tag]| {
                    layers.unique_bytes(members.iter().filter_map(|t| t.digest.as_deref()))
                };
                domain::shape::shape(&refs, now, unique, true)
            } else {
                domain::shape::shape(&refs, now, added_up, false)
            };
            (summary, shape)
        })
        .await
        .map_err(|_| AppError::Internal {
            message: "the storage figures could not be computed".into(),
        })?;
        // The progress of the very snapshot the figures come from.
        let progress = progress_of_figures;
        Ok(RepositoryStorage {
            repository_id: header.id,
            tags: index.read(|s| s.tags.len() as u64),
            summary,
            progress,
            gitlab_size,
            shape,
            now,
            on_request: false,
        })
    }

    async fn deletion_estimate(
        &self,
        caller: &Caller,
        repository_id: u64,
        names: &TagNames,
    ) -> Result<DeletionEstimate, AppError> {
        let (header, index, job) = self.layers(caller, repository_id).await?;
        let names: HashSet<String> = names.to_strings().into_iter().collect();
        let tags = index.read(tags_of);
        let known: HashSet<&str> = tags.iter().map(|t| t.name.as_str()).collect();
        let unknown = names.iter().filter(|n| !known.contains(n.as_str())).count() as u64;
        let snapshot = job.snapshot();
        let gone = |t: &Tag| names.contains(&t.name);
        let mut freed = snapshot.layers.freed(tags.iter().map(|t| &**t), gone);
        // Blobs the project's other repositories use stay (GitLab stores a blob once per
        // top-level namespace): checked against the repositories whose layers are read.
        let others = self
            .gw
            .layers
            .siblings(&caller.instance, header.project_id, header.id);
        if !others.is_empty() {
            let fate = snapshot.layers.fate(tags.iter().map(|t| &**t), gone);
            let used: HashSet<&str> = others
                .iter()
                .flat_map(|o| o.layers.blob_digests())
                .collect();
            freed.elsewhere_bytes = fate
                .freed
                .iter()
                .filter(|(digest, _)| used.contains(digest))
                .map(|(_, size)| size)
                .sum();
            freed.bytes -= freed.elsewhere_bytes;
            freed.other_repositories = others.len() as u64;
        }
        Ok(DeletionEstimate {
            freed,
            progress: snapshot.progress,
            unknown,
        })
    }

    async fn cleanup_storage(
        &self,
        caller: &Caller,
        project: &NamespacePath,
        draft: &CleanupPolicy,
    ) -> Result<CleanupStorage, AppError> {
        let overview = self.cleanup.overview(caller, project).await?;
        let bad = |e: domain::cleanup::PolicyError| AppError::BadRequest {
            message: e.to_string(),
        };
        let drafted = domain::cleanup::preview(&overview, draft).map_err(bad)?;
        let saved = domain::cleanup::preview(&overview, &overview.saved.policy).ok();
        // Layers: read by themselves for small repositories, else only if someone asked.
        let auto = self.gw.indexes.settings.layers_auto_images;
        let mut jobs = Vec::with_capacity(overview.repositories.len());
        for repo in &overview.repositories {
            let images = repo
                .tags
                .iter()
                .filter_map(|t| t.digest.as_deref())
                .collect::<HashSet<_>>()
                .len() as u64;
            let started = self
                .gw
                .layers
                .existing(&caller.instance, repo.id)
                .is_some_and(|j| j.started());
            jobs.push(if images <= auto || started {
                let header = self.tags.repository_access(caller, repo.id, false).await?;
                let index = self.tags.index_for(caller, &header).await?;
                Some(self.start_layers(caller, &header, &index)?)
            } else {
                None
            });
        }
        let deadline = tokio::time::Instant::now() + LAYERS_WAIT;
        for job in jobs.iter().flatten() {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            job.wait_until(left, |p| p.complete || p.error.is_some())
                .await;
        }
        let snapshots: Vec<_> = jobs
            .iter()
            .map(|j| j.as_ref().map(|j| j.snapshot()))
            .collect();
        tokio::task::spawn_blocking(move || {
            let none = Layers::default();
            let deleted = |previews: &[domain::cleanup::RepositoryPreview], id: u64| {
                previews
                    .iter()
                    .find(|p| p.id == id)
                    .map(|p| {
                        p.decisions
                            .iter()
                            .filter(|d| d.reason.deletes())
                            .map(|d| d.name.clone())
                            .collect::<HashSet<String>>()
                    })
                    .unwrap_or_default()
            };
            let mut out = CleanupStorage {
                complete: true,
                ..CleanupStorage::default()
            };
            let (mut draft_fates, mut saved_fates) = (Vec::new(), Vec::new());
            for (repo, snapshot) in overview.repositories.iter().zip(&snapshots) {
                let layers = snapshot.as_ref().map_or(&none, |s| &*s.layers);
                let d = deleted(&drafted, repo.id);
                let s = saved
                    .as_deref()
                    .map(|p| deleted(p, repo.id))
                    .unwrap_or_default();
                let progress = snapshot
                    .as_ref()
                    .map(|s| s.progress.clone())
                    .unwrap_or_default();
                out.complete &= progress.complete;
                out.repositories.push(RepositoryFreed {
                    id: repo.id,
                    draft: layers.freed(&repo.tags, |t| d.contains(&t.name)),
                    saved: layers.freed(&repo.tags, |t| s.contains(&t.name)),
                    progress,
                    on_request: snapshot.is_none(),
                });
                draft_fates.push(layers.fate(&repo.tags, |t| d.contains(&t.name)));
                saved_fates.push(layers.fate(&repo.tags, |t| s.contains(&t.name)));
            }
            out.draft_bytes = project_freed(&draft_fates);
            out.saved_bytes = project_freed(&saved_fates);
            out
        })
        .await
        .map_err(|_| AppError::Internal {
            message: "the storage figures could not be computed".into(),
        })
    }

    async fn compare_tags(
        &self,
        caller: &Caller,
        repository_id: u64,
        a: &TagName,
        b: &TagName,
    ) -> Result<TagComparison, AppError> {
        let header = self
            .tags
            .repository_access(caller, repository_id, false)
            .await?;
        let index = self.tags.index_for(caller, &header).await?;
        let wanted =
            |s: &IndexState| s.tags.contains_key(a.as_str()) && s.tags.contains_key(b.as_str());
        index
            .wait_until(INDEX_WAIT, |s| {
                wanted(s) || s.is_current() || s.error.is_some()
            })
            .await;
        let find = |name: &TagName| {
            index
                .read(|s| s.tags.get(name.as_str()).cloned())
                .ok_or_else(|| AppError::NotFound {
                    what: Subject::Tag {
                        repository: repository_id,
                        name: name.to_string(),
                    },
                })
        };
        let (tag_a, tag_b) = (find(a)?, find(b)?);
        // Only the two manifests (and their children): a comparison never reads the whole
        // repository's layers.
        let job = self
            .gw
            .layers
            .job(&caller.instance, header.id, header.project_id);
        let digests: Vec<String> = [&tag_a.digest, &tag_b.digest]
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        let fetched = self
            .gw
            .layers
            .fetch_now(&job, &digests, self.request(caller, &header)?)
            .await;
        let images = match (&fetched, &tag_a.digest, &tag_b.digest) {
            (Ok(()), Some(da), Some(db)) => job
                .manifest(da)
                .zip(job.manifest(db))
                .map(|(ma, mb)| compare(&ma, da, &mb, db, |d| job.manifest(d))),
            _ => None,
        };
        let unavailable = match (fetched, &images) {
            (Err(error @ (GitLabError::Unauthorized | GitLabError::TokenExpired)), _) => {
                // GitLab refused the credential: the caller is signed out.
                return Err(self
                    .gw
                    .failure(caller, error, Subject::Repository(repository_id))
                    .await);
            }
            (Err(error), _) => Some(crate::errors::sentence(&error)),
            (Ok(()), None) if tag_a.digest.is_none() || tag_b.digest.is_none() => {
                Some("GitLab reports no manifest digest for one of the tags.".into())
            }
            (Ok(()), None) => {
                Some("GitLab did not return a readable manifest for one of the tags.".into())
            }
            (Ok(()), Some(_)) => None,
        };
        Ok(TagComparison {
            repository: (*header).clone(),
            a: (*tag_a).clone(),
            b: (*tag_b).clone(),
            images: images.unwrap_or_default(),
            unavailable,
            now: crate::clock::now(),
        })
    }
}
