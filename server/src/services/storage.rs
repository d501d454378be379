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
use crate::layers::{LayerJob, LayerRequest, LayerSnapshot};
use app::backend::{Caller, Cleanup, Storage};
use app::error::AppError;
use async_trait::async_trait;
use domain::cleanup::CleanupPolicy;
use domain::cleanup::{PreviewRepository, MAX_RUN_REPOSITORIES};
use domain::input::{NamespacePath, TagName, TagNames};
use domain::storage::{
    compare, project_freed, CleanupStorage, DeletionEstimate, LayerProgress, Layers,
    ProjectStorage, RepositoryFreed, RepositoryShare, RepositoryStorage, TagComparison,
    LARGEST_SHOWN,
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

#[derive(Deserialize)]
struct ProjectSizeData {
    project: Option<ProjectSizeNode>,
}

#[derive(Deserialize)]
struct ProjectSizeNode {
    statistics: Option<ProjectStatisticsNode>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProjectStatisticsNode {
    container_registry_size: Option<f64>,
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

    /// Each repository's layer job: started by itself for a small repository, for a large
    /// one when `read_layers` asks or someone already started it.
    async fn repository_jobs(
        &self,
        caller: &Caller,
        repositories: &[PreviewRepository],
        read_layers: bool,
    ) -> Vec<Read> {
        let auto = self.gw.indexes.settings.layers_auto_images;
        let mut reads = Vec::with_capacity(repositories.len());
        for repo in repositories {
            let started = self
                .gw
                .layers
                .existing(&caller.instance, repo.id)
                .is_some_and(|j| j.started());
            if !(read_layers || started || distinct_images(&repo.tags) <= auto) {
                reads.push(Read::OnRequest);
                continue;
            }
            let job = async {
                let header = self.tags.repository_access(caller, repo.id, false).await?;
                let index = self.tags.index_for(caller, &header).await?;
                self.start_layers(caller, &header, &index)
            };
            reads.push(match job.await {
                Ok(job) => Read::Job(job),
                Err(error) => Read::Failed(error.to_string()),
            });
        }
        reads
    }

    /// GitLab's own figure for the project: its statistics' registry size (Reporter and
    /// above; the metadata database computes it, and GitLab keeps 0 without one).
    async fn project_size(&self, caller: &Caller, project: &str) -> Option<u64> {
        let data: ProjectSizeData = self
            .gw
            .call(
                caller,
                Subject::Project(project.to_string()),
                |api, token| async move {
                    api.graphql(
                        &token,
                        "query ProjectSize($p: ID!) { project(fullPath: $p) { statistics { \
                        containerRegistrySize } } }",
                        json!({ "p": project }),
                    )
                    .await
                },
            )
            .await
            .ok()?;
        data.project?
            .statistics?
            .container_registry_size
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(|s| s as u64)
    }

    /// GitLab's own deduplicated size (metadata database only; null otherwise, and an
    /// older GitLab without the field is not an error worth showing).
    async fn gitlab_size(&self, caller: &Caller, repository_id: u64) -> Option<u64> {
        let data: SizeData = self
            .gw
            .call(
                caller,
                Subject::Repository(repository_id),
                |api, token| async move {
                    api.graphql(
                    &token,
                    "query Size($id: ContainerRepositoryID!) { containerRepository(id: $id) { size \
                        } }",
                    json!({ "id": format!("gid://gitlab/ContainerRepository/{repository_id}") }),
                )
                .await
                },
            )
            .await
            .ok()?;
        data.container_repository?
            .size
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(|s| s as u64)
    }
}

/// A repository's layers as a project-wide figure sees them.
enum Read {
    Job(Arc<LayerJob>),
    /// Large, and nobody asked for its layers yet.
    OnRequest,
    /// Its access check or index failed now (the rest of the project still counts).
    Failed(String),
}

/// A [`Read`] once the wait is over.
enum ReadSnapshot {
    Read(LayerSnapshot),
    OnRequest,
    Failed(String),
}

impl ReadSnapshot {
    fn layers(&self) -> Option<&Layers> {
        match self {
            ReadSnapshot::Read(s) => Some(&s.layers),
            _ => None,
        }
    }

    fn on_request(&self) -> bool {
        matches!(self, ReadSnapshot::OnRequest)
    }

    fn progress(&self, repo: &PreviewRepository) -> LayerProgress {
        match self {
            ReadSnapshot::Read(s) => s.progress.clone(),
            ReadSnapshot::OnRequest => LayerProgress {
                images: distinct_images(&repo.tags),
                ..LayerProgress::default()
            },
            ReadSnapshot::Failed(error) => LayerProgress {
                images: distinct_images(&repo.tags),
                error: Some(error.clone()),
                ..LayerProgress::default()
            },
        }
    }
}

/// Gives the started jobs one shared moment to finish, then takes their snapshots.
async fn settle(reads: &[Read]) -> Vec<ReadSnapshot> {
    let deadline = tokio::time::Instant::now() + LAYERS_WAIT;
    for read in reads {
        if let Read::Job(job) = read {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            job.wait_until(left, |p| p.complete || p.error.is_some())
                .await;
        }
    }
    reads
        .iter()
        .map(|read| match read {
            Read::Job(job) => ReadSnapshot::Read(job.snapshot()),
            Read::OnRequest => ReadSnapshot::OnRequest,
            Read::Failed(error) => ReadSnapshot::Failed(error.clone()),
        })
        .collect()
}

fn distinct_images(tags: &[Tag]) -> u64 {
    tags.iter()
        .filter_map(|t| t.digest.as_deref())
        .collect::<HashSet<_>>()
        .len() as u64
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
        let snapshot = job.snapshot();
        // Blobs the project's other repositories use stay (GitLab stores a blob once per
        // top-level namespace): checked against the repositories whose layers are read.
        let others = self
            .gw
            .layers
            .siblings(&caller.instance, header.project_id, header.id);
        let layers = snapshot.layers.clone();
        let (freed, unknown) = tokio::task::spawn_blocking(move || {
            let known: HashSet<&str> = tags.iter().map(|t| t.name.as_str()).collect();
            let unknown = names.iter().filter(|n| !known.contains(n.as_str())).count() as u64;
            let gone = |t: &Tag| names.contains(&t.name);
            let (mut freed, fate) = layers.freed_and_fate(tags.iter().map(|t| &**t), gone);
            if !others.is_empty() {
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
            (freed, unknown)
        })
        .await
        .map_err(|_| AppError::Internal {
            message: "the storage figures could not be computed".into(),
        })?;
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
        let jobs = self
            .repository_jobs(caller, &overview.repositories, false)
            .await;
        let snapshots = settle(&jobs).await;
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
            for (repo, read) in overview.repositories.iter().zip(&snapshots) {
                let layers = read.layers().unwrap_or(&none);
                let d = deleted(&drafted, repo.id);
                let s = saved
                    .as_deref()
                    .map(|p| deleted(p, repo.id))
                    .unwrap_or_default();
                let progress = read.progress(repo);
                out.complete &= progress.complete;
                let (draft, draft_fate) =
                    layers.freed_and_fate(&repo.tags, |t| d.contains(&t.name));
                let (saved, saved_fate) =
                    layers.freed_and_fate(&repo.tags, |t| s.contains(&t.name));
                out.repositories.push(RepositoryFreed {
                    id: repo.id,
                    draft,
                    saved,
                    progress,
                    on_request: read.on_request(),
                });
                draft_fates.push(draft_fate);
                saved_fates.push(saved_fate);
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

    async fn project_storage(
        &self,
        caller: &Caller,
        project: &NamespacePath,
        read_layers: bool,
    ) -> Result<ProjectStorage, AppError> {
        let overview = self.cleanup.overview(caller, project).await?;
        let reads = self
            .repository_jobs(caller, &overview.repositories, read_layers)
            .await;
        let snapshots = settle(&reads).await;
        let settled = snapshots.iter().all(|s| match s {
            ReadSnapshot::Read(s) => s.progress.complete || s.progress.error.is_some(),
            _ => true,
        });
        // GitLab's figure once reading has settled, not on every poll while it runs.
        let gitlab_size = if settled {
            self.project_size(caller, &overview.project.full_path).await
        } else {
            None
        };
        let truncated = overview.repositories.len() >= MAX_RUN_REPOSITORIES;
        let mut storage = tokio::task::spawn_blocking(move || {
            let none = Layers::default();
            let repositories = overview
                .repositories
                .iter()
                .zip(&snapshots)
                .map(|(repo, read)| {
                    let share = RepositoryShare {
                        id: repo.id,
                        path: repo.path.clone(),
                        progress: read.progress(repo),
                        on_request: read.on_request(),
                        ..RepositoryShare::default()
                    };
                    (share, read.layers().unwrap_or(&none), &repo.tags[..])
                });
            domain::storage::project_storage(repositories, LARGEST_SHOWN)
        })
        .await
        .map_err(|_| AppError::Internal {
            message: "the storage figures could not be computed".into(),
        })?;
        // GitLab keeps 0 where it does not compute the figure: not a figure to show.
        storage.gitlab_size = gitlab_size.filter(|s| *s > 0 || storage.naive_bytes == 0);
        storage.truncated = truncated;
        storage.now = crate::clock::now();
        Ok(storage)
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
