//! Layers of image repositories, gathered on demand and kept: the input of every honest
//! storage figure (see `domain::storage`).
//!
//! A manifest is immutable by its digest, so it is fetched once and kept for as long as
//! memory allows. Gathering a repository's layers is a background job like the tag index,
//! started only when a view needs it (a deletion estimate, the storage panel, a comparison)
//! and run within the triggering user's GitLab budget:
//!
//! 1. The distinct digests of the repository's indexed tags (tags sharing a digest cost one
//!    fetch) that the job does not hold yet, and the children of the indexes it holds.
//! 2. With Redis, raw manifests other replicas fetched are read from it first (`MGET`).
//! 3. The rest through GitLab's GraphQL `manifest(reference:)`, 16 digests per request as
//!    aliases, requests in parallel up to the user's concurrency; what GitLab answers with
//!    null or a field error is remembered as unreadable (and retried after a while), never
//!    fetched again in the same job. Fetched manifests go to Redis for the other replicas.
//! 4. Steps 1–3 repeat once more for index children, then the job interns every blob
//!    (`Layers::build`, on a blocking thread) and publishes it with its progress.
//!
//! A job that GitLab stops (429, outage, expired token) keeps what it has, says why, and
//! pauses the user's budget like the tag index; the next request resumes it. A job is shared
//! by everyone who can read the repository and is only ever read after the caller's own
//! access check (`services::storage`). Memory: all jobs live in one `moka` cache bounded in
//! bytes (`index.layers_mib`), each weighing its manifests and interned blobs, least
//! recently used first out.

use crate::caches::weight;
use crate::errors;
use crate::gitlab::graphql::{self, MANIFESTS_PER_QUERY};
use crate::gitlab::{GitLabClient, GitLabError};
use crate::index::{Budget, TagIndex};
use crate::shared::Redis;
use domain::manifest::Manifest;
use domain::storage::{LayerProgress, Layers};
use futures::stream::{self, StreamExt};
use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// How long a raw manifest stays in Redis (it never changes; this only bounds Redis).
const REDIS_TTL: Duration = Duration::from_secs(7 * 24 * 3600);
/// A digest GitLab gave no usable manifest for is asked again after this.
const UNREADABLE_TTL: Duration = Duration::from_secs(600);
/// After a failed job (other than a rate limit, which says how long), wait this long.
const FAILURE_PAUSE: Duration = Duration::from_secs(5);
/// Progress is published at most this often while fetching.
const PUBLISH_EVERY: Duration = Duration::from_millis(500);
const MIB: u64 = 1024 * 1024;
/// A repository too large for the layer memory is not read again before this.
const TOO_LARGE_PAUSE: Duration = Duration::from_secs(300);
/// Digests per Redis `MGET` and manifests per pipelined `SET`.
const REDIS_CHUNK: usize = 256;

/// What a job needs to fetch as the user who triggered it.
pub struct LayerRequest {
    pub api: GitLabClient,
    pub token: String,
    pub repository_id: u64,
    /// The project the repository belongs to (other repositories of it share blobs).
    pub project_id: u64,
    pub budget: Arc<Budget>,
    pub concurrency: usize,
}

/// One repository's layers.
pub struct LayerJob {
    project_id: AtomicU64,
    state: RwLock<JobState>,
    running: AtomicBool,
    changed: watch::Sender<u64>,
    bytes: AtomicUsize,
}

#[derive(Default)]
struct JobState {
    /// Manifests of this repository by digest (images, indexes and their children).
    manifests: HashMap<String, Arc<Manifest>>,
    /// Digests GitLab gave nothing usable for, with when and why.
    unreadable: HashMap<String, (Instant, String)>,
    /// Interned blobs of the images known at the last build.
    layers: Arc<Layers>,
    progress: LayerProgress,
    paused_until: Option<Instant>,
    /// The index (its address and tag-list version) this job was last found complete for:
    /// a view of the same list finds it complete again without recounting every digest.
    settled_for: Option<(usize, u64)>,
}

/// What a reader gets: the layers as of the last build and how far gathering is.
#[derive(Clone)]
pub struct LayerSnapshot {
    pub layers: Arc<Layers>,
    pub progress: LayerProgress,
}

impl LayerJob {
    fn new() -> Self {
        LayerJob {
            project_id: AtomicU64::new(0),
            state: RwLock::new(JobState::default()),
            running: AtomicBool::new(false),
            changed: watch::channel(0).0,
            bytes: AtomicUsize::new(std::mem::size_of::<JobState>()),
        }
    }

    fn read<R>(&self, f: impl FnOnce(&JobState) -> R) -> R {
        f(&self.state.read().unwrap_or_else(|p| p.into_inner()))
    }

    fn write<R>(&self, f: impl FnOnce(&mut JobState) -> R) -> R {
        let result = f(&mut self.state.write().unwrap_or_else(|p| p.into_inner()));
        self.changed.send_modify(|v| *v += 1);
        result
    }

    /// Whether anything was ever fetched or is being fetched.
    pub fn started(&self) -> bool {
        self.running.load(Ordering::Acquire) || self.read(|s| !s.manifests.is_empty())
    }

    /// The layers and progress now.
    pub fn snapshot(&self) -> LayerSnapshot {
        self.read(|s| LayerSnapshot {
            layers: s.layers.clone(),
            progress: s.progress.clone(),
        })
    }

    /// A manifest of this repository, if held.
    pub fn manifest(&self, digest: &str) -> Option<Arc<Manifest>> {
        self.read(|s| s.manifests.get(digest).cloned())
    }

    /// Waits until `ready` holds or `timeout` passes.
    pub async fn wait_until(&self, timeout: Duration, ready: impl Fn(&LayerProgress) -> bool) {
        let mut changes = self.changed.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if self.read(|s| ready(&s.progress)) || !self.running.load(Ordering::Acquire) {
                return;
            }
            if tokio::time::timeout_at(deadline, changes.changed())
                .await
                .is_err()
            {
                return;
            }
        }
    }

    /// Digests still to fetch for `digests`: unknown ones, and unknown children of known
    /// indexes.
    fn pending(&self, digests: &[String]) -> Vec<String> {
        self.read(|s| {
            let mut out = Vec::new();
            let mut seen = HashSet::new();
            let usable = |d: &str| {
                !s.manifests.contains_key(d)
                    && s.unreadable
                        .get(d)
                        .is_none_or(|(at, _)| at.elapsed() >= UNREADABLE_TTL)
            };
            for digest in digests {
                match s.manifests.get(digest) {
                    Some(manifest) => {
                        for child in manifest.children() {
                            if usable(&child.digest) && seen.insert(child.digest.as_str()) {
                                out.push(child.digest.clone());
                            }
                        }
                    }
                    None if usable(digest) && seen.insert(digest.as_str()) => {
                        out.push(digest.clone())
                    }
                    None => {}
                }
            }
            out
        })
    }

    /// Progress counted from what is held (cheap: one lookup per digest and child).
    fn count(&self, digests: &[String], index_complete: bool) -> LayerProgress {
        self.read(|s| {
            let held = |d: &str| s.manifests.contains_key(d);
            let mut progress = LayerProgress {
                images: digests.len() as u64,
                manifests: s.manifests.len() as u64,
                error: s.progress.error.clone(),
                ..LayerProgress::default()
            };
            for digest in digests {
                let unreadable = |d: &str| s.unreadable.contains_key(d);
                match s.manifests.get(digest) {
                    None if unreadable(digest) => progress.unreadable += 1,
                    None => {}
                    Some(m) if m.children().iter().all(|c| held(&c.digest)) => {
                        progress.images_known += 1
                    }
                    Some(m) if m.children().iter().any(|c| unreadable(&c.digest)) => {
                        progress.unreadable += 1
                    }
                    Some(_) => {}
                }
            }
            // Only a finished build says complete (see `ensure` and `run`): held manifests are
            // not yet interned layers.
            let _ = index_complete;
            progress.complete = false;
            progress
        })
    }

    fn weigh(&self) -> usize {
        let bytes = self.read(|s| {
            let manifests: usize = s
                .manifests
                .iter()
                .map(|(k, m)| k.len() + m.weight() + 48)
                .sum();
            manifests + s.layers.weight() + s.unreadable.len() * 128
        });
        self.bytes.store(bytes, Ordering::Relaxed);
        bytes
    }
}

/// Every repository's layers.
pub struct LayerStore {
    jobs: moka::sync::Cache<(String, u64), Arc<LayerJob>>,
    /// Repositories whose layers alone exceed the bound, with the message, for a while.
    too_large: moka::sync::Cache<(String, u64), Arc<str>>,
    capacity: u64,
    redis: Option<Redis>,
}

impl LayerStore {
    pub fn new(memory_mib: u64, redis: Option<Redis>) -> Self {
        LayerStore {
            jobs: moka::sync::Cache::builder()
                .max_capacity(memory_mib * MIB)
                .eviction_policy(moka::policy::EvictionPolicy::lru())
                .weigher(|_: &(String, u64), job: &Arc<LayerJob>| {
                    weight(job.bytes.load(Ordering::Relaxed))
                })
                .build(),
            too_large: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(TOO_LARGE_PAUSE)
                .build(),
            capacity: memory_mib * MIB,
            redis,
        }
    }

    /// The layers already read of the project's other repositories on this instance.
    pub fn siblings(&self, instance: &str, project_id: u64, except: u64) -> Vec<LayerSnapshot> {
        self.jobs
            .iter()
            .filter(|(key, job)| {
                key.0 == instance
                    && key.1 != except
                    && job.project_id.load(Ordering::Relaxed) == project_id
            })
            .map(|(_, job)| job.snapshot())
            .filter(|s| s.layers.images_known() > 0)
            .collect()
    }

    /// The repository's layer job, created if needed but not started (a comparison fetches
    /// only the two manifests it needs with [`LayerStore::fetch_now`]).
    pub fn job(&self, instance: &str, repository_id: u64, project_id: u64) -> Arc<LayerJob> {
        let job = self
            .jobs
            .get_with((instance.to_string(), repository_id), || {
                Arc::new(LayerJob::new())
            });
        job.project_id.store(project_id, Ordering::Relaxed);
        job
    }

    /// The repository's layer job if one was started (it is not started here).
    pub fn existing(&self, instance: &str, repository_id: u64) -> Option<Arc<LayerJob>> {
        self.jobs.get(&(instance.to_string(), repository_id))
    }

    /// The repository's layer job, started (or resumed) for the digests its index holds now
    /// if any are missing. The caller's access to the repository must have been checked.
    pub fn ensure(
        self: &Arc<Self>,
        instance: &str,
        index: &TagIndex,
        request: LayerRequest,
    ) -> Arc<LayerJob> {
        let key = (instance.to_string(), request.repository_id);
        let job = self
            .jobs
            .get_with(key.clone(), || Arc::new(LayerJob::new()));
        job.project_id.store(request.project_id, Ordering::Relaxed);
        let stamp = (
            std::ptr::from_ref(index) as usize,
            index.read(|s| s.tags_version()),
        );
        let settled = job.read(|s| s.settled_for == Some(stamp) && s.progress.complete);
        if settled && !job.running.load(Ordering::Acquire) && !self.too_large.contains_key(&key) {
            return job;
        }
        let (digests, index_complete) = index.read(|s| {
            let distinct: HashSet<&str> = s
                .tags
                .values()
                .filter_map(|t| t.digest.as_deref())
                .collect();
            let mut digests: Vec<String> = distinct.into_iter().map(String::from).collect();
            digests.sort_unstable();
            (digests, s.complete)
        });
        if let Some(message) = self.too_large.get(&key) {
            job.write(|s| s.progress.error = Some(message.to_string()));
            return job;
        }
        let mut progress = job.count(&digests, index_complete);
        // Held with every child but not interned: a rebuild is due, whatever the counts say.
        let layers_behind = job.read(|s| {
            let image = |d: &str| {
                matches!(
                    s.manifests.get(d).map(|m| &**m),
                    Some(Manifest::Image { .. })
                )
            };
            digests.iter().any(|d| {
                !s.layers.knows(d)
                    && match s.manifests.get(d).map(|m| &**m) {
                        Some(Manifest::Image { .. }) => true,
                        Some(m @ Manifest::Index { .. }) => {
                            m.children().iter().all(|c| image(&c.digest))
                        }
                        None => false,
                    }
            })
        });
        let paused = job.read(|s| s.paused_until.is_some_and(|t| t > Instant::now()))
            || request.budget.paused();
        let work = !job.pending(&digests).is_empty() || layers_behind;
        let running = job.running.load(Ordering::Acquire);
        progress.complete = !work
            && !running
            && index_complete
            && job.read(|s| s.progress.error.is_none())
            && progress.images_known + progress.unreadable == progress.images;
        job.write(|s| {
            let error = s.progress.error.take();
            s.settled_for = progress.complete.then_some(stamp);
            s.progress = LayerProgress { error, ..progress };
        });
        if work && !paused && !job.running.swap(true, Ordering::AcqRel) {
            let store = self.clone();
            let job2 = job.clone();
            tokio::spawn(async move {
                store
                    .run(&job2, digests, index_complete, Arc::new(request))
                    .await;
                job2.running.store(false, Ordering::Release);
                job2.changed.send_modify(|v| *v += 1);
                // Re-weigh: moka weighs on insert. Only this very job goes back (an evicted
                // job's run must not replace a newer one), and one that alone exceeds the
                // bound is refused for a while rather than read again on every view.
                let bytes = job2.weigh() as u64;
                if bytes > store.capacity {
                    store.jobs.invalidate(&key);
                    store.too_large.insert(
                        key,
                        Arc::from(format!(
                            "This repository's layers need {} MiB, more than the dashboard's layer \
                                memory ({} MiB); an administrator can raise index layers_mib.",
                            bytes.div_ceil(MIB),
                            store.capacity / MIB
                        )),
                    );
                } else if store
                    .jobs
                    .get(&key)
                    .is_some_and(|current| Arc::ptr_eq(&current, &job2))
                {
                    store.jobs.insert(key, job2);
                }
            });
        }
        job
    }

    async fn run(
        &self,
        job: &Arc<LayerJob>,
        digests: Vec<String>,
        index_complete: bool,
        request: Arc<LayerRequest>,
    ) {
        job.write(|s| s.progress.error = None);
        let failure = self
            .gather(job, &digests, &request, |job| {
                let progress = job.count(&digests, index_complete);
                job.write(|s| s.progress = progress);
            })
            .await
            .err();
        // Intern what is held, off the async threads (about 150 ms for 8,000 images).
        let snapshot: HashMap<String, Arc<Manifest>> = job.read(|s| s.manifests.clone());
        let all = digests.clone();
        let built = tokio::task::spawn_blocking(move || {
            Layers::build(all.iter().map(String::as_str), |d| snapshot.get(d).cloned())
        })
        .await
        .unwrap_or_default();
        let message = failure.as_ref().map(|error| {
            tracing::warn!(%error, repository = request.repository_id, "layer gathering stopped");
            let wait = match error {
                GitLabError::RateLimited(wait) => *wait,
                GitLabError::TokenExpired | GitLabError::Unauthorized => Duration::ZERO,
                _ => FAILURE_PAUSE,
            };
            request.budget.pause(wait);
            stop_message(error)
        });
        let mut progress = job.count(&digests, index_complete);
        progress.images_known = built.images_known() as u64;
        progress.complete = message.is_none()
            && index_complete
            && progress.images_known + progress.unreadable == progress.images;
        progress.error = message;
        job.write(|s| {
            s.layers = Arc::new(built);
            s.progress = progress;
            if failure.is_some() {
                s.paused_until = Some(Instant::now() + FAILURE_PAUSE);
            }
        });
    }

    /// Fetches what the job lacks for `digests` (then their index children), calling
    /// `tick` at most every [`PUBLISH_EVERY`]; stops at GitLab's first refusal.
    async fn gather(
        &self,
        job: &LayerJob,
        digests: &[String],
        request: &Arc<LayerRequest>,
        tick: impl Fn(&LayerJob),
    ) -> Result<(), GitLabError> {
        for _round in 0..2 {
            let pending = job.pending(digests);
            if pending.is_empty() {
                break;
            }
            let pending = self.held_in_redis(job, pending).await;
            let mut last_tick = Instant::now();
            let batches: Vec<Vec<String>> = pending
                .chunks(MANIFESTS_PER_QUERY)
                .map(<[String]>::to_vec)
                .collect();
            let shared = request.clone();
            let mut fetched = stream::iter(batches)
                .map(move |batch| fetch_batch(shared.clone(), batch))
                .buffer_unordered(request.concurrency.max(1));
            let mut for_redis: Vec<(String, String)> = Vec::new();
            let mut failure = None;
            while let Some(outcome) = fetched.next().await {
                match outcome {
                    Ok(results) => job.write(|s| {
                        for (digest, result) in results {
                            match result {
                                Ok((manifest, raw)) => {
                                    s.manifests.insert(digest.clone(), Arc::new(manifest));
                                    for_redis.push((digest, raw));
                                }
                                Err(reason) => {
                                    tracing::info!(%digest, %reason, "manifest unreadable");
                                    s.unreadable.insert(digest, (Instant::now(), reason));
                                }
                            }
                        }
                    }),
                    Err(error) => {
                        failure = Some(error);
                        break;
                    }
                }
                if last_tick.elapsed() >= PUBLISH_EVERY {
                    last_tick = Instant::now();
                    tick(job);
                }
            }
            drop(fetched);
            self.share_through_redis(for_redis).await;
            if let Some(error) = failure {
                return Err(error);
            }
        }
        Ok(())
    }

    /// Makes sure the job holds the manifests of `digests` and their children, fetching
    /// what it lacks now (a comparison of two tags should not wait for the whole
    /// repository).
    pub async fn fetch_now(
        &self,
        job: &LayerJob,
        digests: &[String],
        request: LayerRequest,
    ) -> Result<(), GitLabError> {
        self.gather(job, digests, &Arc::new(request), |_| {}).await
    }

    /// Takes what Redis holds out of `pending`; returns the rest.
    async fn held_in_redis(&self, job: &LayerJob, pending: Vec<String>) -> Vec<String> {
        let Some(redis) = &self.redis else {
            return pending;
        };
        let mut found = Vec::with_capacity(pending.len());
        for chunk in pending.chunks(REDIS_CHUNK) {
            let keys: Vec<String> = chunk.iter().map(|d| redis.key("manifest", d)).collect();
            match redis.get_many(&keys).await {
                Ok(values) => found.extend(values),
                Err(error) => {
                    tracing::warn!(%error, "Redis did not answer for manifests; asking GitLab");
                    return pending;
                }
            }
        }
        let mut rest = Vec::new();
        job.write(|s| {
            for (digest, raw) in pending.into_iter().zip(found) {
                match raw.map(|raw| parse(&String::from_utf8_lossy(&raw))) {
                    Some(Ok(manifest)) => {
                        s.manifests.insert(digest, Arc::new(manifest));
                    }
                    _ => rest.push(digest),
                }
            }
        });
        rest
    }

    async fn share_through_redis(&self, fetched: Vec<(String, String)>) {
        let Some(redis) = &self.redis else {
            return;
        };
        if fetched.is_empty() {
            return;
        }
        let entries: Vec<(String, Vec<u8>)> = fetched
            .into_iter()
            .map(|(digest, raw)| (redis.key("manifest", &digest), raw.into_bytes()))
            .collect();
        for chunk in entries.chunks(REDIS_CHUNK) {
            if let Err(error) = redis.put_many(chunk, REDIS_TTL).await {
                tracing::warn!(%error, "could not share manifests through Redis");
                return;
            }
        }
    }

    /// Bytes held by every job (for metrics and the memory bench).
    pub fn weighted_size(&self) -> u64 {
        self.jobs.run_pending_tasks();
        self.jobs.weighted_size()
    }
}

/// Parses a raw manifest. Its digest is not re-checked against the text: GitLab's field
/// may re-serialise the JSON, which changes the bytes but not the descriptors.
fn parse(raw: &str) -> Result<Manifest, String> {
    Manifest::parse(raw).map_err(|e| e.to_string())
}

type BatchResult = Vec<(String, Result<(Manifest, String), String>)>;

/// One GraphQL request for up to [`MANIFESTS_PER_QUERY`] digests, within the budget.
async fn fetch_batch(
    request: Arc<LayerRequest>,
    batch: Vec<String>,
) -> Result<BatchResult, GitLabError> {
    let _permit = request.budget.acquire().await;
    let mut variables = Map::new();
    variables.insert(
        "id".into(),
        json!(format!(
            "gid://gitlab/ContainerRepository/{}",
            request.repository_id
        )),
    );
    for (i, digest) in batch.iter().enumerate() {
        variables.insert(format!("r{i}"), json!(digest));
    }
    let (data, errors): (Option<graphql::ManifestsData>, _) = request
        .api
        .graphql_partial(
            &request.token,
            &graphql::manifests(batch.len()),
            Value::Object(variables),
        )
        .await?;
    let Some(fields) = data.and_then(|d| d.container_repository) else {
        let message = errors
            .into_iter()
            .map(|e| e.message)
            .collect::<Vec<_>>()
            .join("; ");
        return Err(GitLabError::Rejected(if message.is_empty() {
            "the repository is gone or no longer readable".into()
        } else {
            message
        }));
    };
    // Field errors name their alias in the path: `["containerRepository", "m3"]`.
    let mut failed: HashMap<String, String> = HashMap::new();
    for error in errors {
        if let Some(alias) = error.path.get(1).and_then(Value::as_str) {
            failed.insert(alias.to_string(), error.message);
        }
    }
    Ok(batch
        .into_iter()
        .enumerate()
        .map(|(i, digest)| {
            let alias = format!("m{i}");
            let result = match (fields.get(&alias).cloned().flatten(), failed.remove(&alias)) {
                (_, Some(message)) => Err(format!("GitLab could not read it: {message}")),
                (None, None) => Err("GitLab has no manifest for it".to_string()),
                (Some(raw), None) => parse(&raw).map(|m| (m, raw)),
            };
            (digest, result)
        })
        .collect())
}

fn stop_message(error: &GitLabError) -> String {
    match error {
        GitLabError::RateLimited(wait) => format!(
            "GitLab's rate limit stopped reading layers; they resume on a reload after {} s.",
            wait.as_secs().max(1)
        ),
        GitLabError::TokenExpired | GitLabError::Unauthorized => {
            "Your GitLab session expired while reading layers; reload to continue.".into()
        }
        error => format!(
            "Reading layers stopped: {} Reload to try again.",
            errors::sentence(error)
        ),
    }
}
