//! The tag index: every tag of an image repository with its details, so the list can filter
//! and sort across ALL tags.
//!
//! GitLab's GraphQL gives tag details 20 at a time behind an opaque cursor, which on its own
//! means one sequential request per 20 tags (what GitLab's own page does). The builder
//! computes the cursors instead, when the repository's first page shows how they are made:
//! with the metadata database a cursor is the last tag's name (the registry's `last=`),
//! without it graphql-ruby's array cursor, base64 of the position. Once the names are known
//! (REST list, 100 per page, pages fetched in parallel) and agree with GraphQL's order,
//! every 20-tag page has a known cursor; eight pages go into one GraphQL request as aliases
//! (complexity 179 of GitLab's 250, about 1,900 characters of its 10,000) and those requests
//! run in parallel. A page keeps going along the chain until it reaches the next page's
//! first name, so tags pushed meanwhile are not skipped; positions also shift when a tag is
//! deleted, so at the end every listed name no page returned is read through GitLab's
//! `name` filter. Anything else walks the cursor chain.
//!
//! An index is shared by everyone who can read the repository, but never served without a
//! fresh access check of the caller's own credential (see `services::tags`). Every GitLab
//! request of a build goes through the triggering user's [`Budget`]; when GitLab stops a
//! build (a 429, an outage, an expired token), the pause is that user's alone: the next
//! request of another user starts the build again with their own token and budget.
//!
//! Memory: all indexes live in one `moka` cache bounded in bytes (configuration
//! `index.memory_mib`), least recently used first out. An index re-weighs itself as it
//! grows, so a build in progress (and the old list it is replacing) counts; an index pushed
//! out stops its build at the next page. An index that alone would not fit stops with a
//! message saying so. A complete index is rebuilt after its TTL, stretched to twice its last
//! build's duration, so a repository that takes longer to index than the TTL is not rebuilt
//! back to back.
//!
//! With Redis, replicas share indexes: one builds under a lease and publishes, the others
//! follow and read (see [`shared`]).

pub mod shared;

use crate::caches::Rate;
use crate::config::IndexSettings;
use crate::errors;
use crate::gitlab::graphql::{self, PageStart, TagNode, TAGS_PER_PAGE, TAG_PAGES_PER_QUERY};
use crate::gitlab::{GitLabClient, GitLabError};
use crate::metrics::Metrics;
use crate::shared::{Redis, RedisLock};
use domain::listing::Listing;
use domain::tags::Tag;
use futures::stream::{self, StreamExt};
use moka::notification::RemovalCause;
use shared::{Meta, SharedIndexes};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};

/// REST list page size (GitLab's maximum).
const REST_PER_PAGE: u32 = 100;
/// After a failed build (other than a rate limit, which says how long), the user who
/// triggered it waits this long before their next request may start another.
const FAILURE_PAUSE: Duration = Duration::from_secs(5);
/// A repository too large for the configured index memory is not tried again before this.
const TOO_LARGE_PAUSE: Duration = Duration::from_secs(300);
/// Bytes an indexed tag takes on average, with the allocator slack (measured: about 630
/// for GitLab's tags, see `tag_bytes`): a repository whose tag count times this does not
/// fit is refused before its build pushes every other index out.
const TYPICAL_TAG_BYTES: u64 = 630 + 630 / ALLOCATOR_SLACK as u64;
/// A complete index whose tag count GitLab reports differently is rebuilt, but not more
/// often than this (a repository CI pushes to all day changes its count all day).
const RECOUNT_INTERVAL: Duration = Duration::from_secs(30);
/// Budgets of users not seen for this long are dropped.
const BUDGET_IDLE: Duration = Duration::from_secs(600);
/// Budgets kept at most (each is a few hundred bytes).
const MAX_BUDGETS: u64 = 100_000;
const MIB: u64 = 1024 * 1024;
/// What an index costs in resident memory beyond the bytes it owns: allocator bookkeeping
/// and the fragments evicted indexes leave behind. Measured with `cargo bench -p server
/// --bench memory` (20 repositories of 10,000 tags): resident memory grew by 1.05 to 1.09
/// times the owned bytes, plus about 6 MiB after evictions; a quarter more keeps the
/// process within its baseline plus `index.memory_mib`.
const ALLOCATOR_SLACK: usize = 4;

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// One user's allowance of GitLab requests: at most `concurrency` in flight (per process)
/// and `requests_per_minute` on average (GCRA with a minute's worth of burst; for the whole
/// deployment with Redis), and a pause when GitLab told this user to slow down.
pub struct Budget {
    permits: Arc<Semaphore>,
    rate: Arc<Rate>,
    /// The user's key in `rate`.
    key: String,
    paused_until: Mutex<Option<Instant>>,
    metrics: Arc<Metrics>,
}

impl Budget {
    pub fn new(concurrency: usize, rate: Arc<Rate>, key: String, metrics: Arc<Metrics>) -> Self {
        Budget {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            rate,
            key,
            paused_until: Mutex::new(None),
            metrics,
        }
    }

    /// Waits for a slot and for the rate; hold the permit for the request's duration.
    pub async fn acquire(&self) -> Option<OwnedSemaphorePermit> {
        let started = Instant::now();
        let permit = self.permits.clone().acquire_owned().await.ok()?;
        self.rate.until_ready(&self.key).await;
        let waited = started.elapsed();
        if waited >= Duration::from_millis(1) {
            self.metrics.budget_waits.inc();
            self.metrics
                .budget_wait_seconds
                .inc_by(waited.as_secs_f64());
        }
        Some(permit)
    }

    /// No new builds for this user until `wait` has passed.
    pub fn pause(&self, wait: Duration) {
        *lock(&self.paused_until) = Some(Instant::now() + wait);
    }

    /// How much longer GitLab asked this user to wait, if it did.
    pub fn paused_for(&self) -> Option<Duration> {
        lock(&self.paused_until)
            .and_then(|until| until.checked_duration_since(Instant::now()))
            .filter(|left| !left.is_zero())
    }

    /// Whether GitLab asked this user to wait and the wait is not over.
    pub fn paused(&self) -> bool {
        self.paused_for().is_some()
    }
}

/// The state of one repository's index.
#[derive(Default)]
pub struct IndexState {
    /// Tags served, by name.
    pub tags: HashMap<String, Arc<Tag>>,
    /// Counts changes of `tags`: a [`Listing`] is valid for one version. Each index starts
    /// at its own multiple of 2^32, so a version never names the list of an index that was
    /// dropped and built again (what is cached by version, such as usage verdicts, stays
    /// with the list it was made from).
    tags_version: u64,
    /// A rebuild of a complete index collects here and replaces `tags` when done, so
    /// readers keep the old complete list meanwhile.
    fresh: Option<HashMap<String, Arc<Tag>>>,
    /// Tags GitLab reported.
    pub total: Option<u64>,
    /// What [`IndexState::entries_heap`] would count, kept up to date incrementally.
    heap: usize,
    /// `tags` holds every tag (as of `completed_at`).
    pub complete: bool,
    pub completed_at: Option<Instant>,
    pub error: Option<String>,
    pub building: bool,
    /// Deleted through us since the current build started: never re-added by that build.
    deleted: HashSet<String>,
    /// Names the current build has seen: what a build that resumed a partial list keeps.
    seen: HashSet<String>,
    /// How long the last complete build took.
    last_build: Option<Duration>,
    build_started: Option<Instant>,
    /// When the build that produced the current complete list started.
    list_read_from: Option<Instant>,
    /// The list was marked out of date while a build ran: that build's list does not
    /// count as current, and the build runs again once it ends.
    rerun: bool,
    /// No new build before this instant (this repository does not fit in memory).
    not_before: Option<Instant>,
    /// The project the repository belongs to (set by the first build request).
    project_id: u64,
    /// The shared snapshot this copy was read from or published as.
    shared_gen: Option<String>,
    /// A task follows another replica's build of this index.
    following: bool,
}

impl IndexState {
    /// Counts changes of the served tags (a new value means a different list).
    pub fn tags_version(&self) -> u64 {
        self.tags_version
    }

    /// Every tag is there and nothing marked the list out of date since (a rule change or a
    /// run through us expires it; TTL staleness does not count: that list is still served).
    pub fn is_current(&self) -> bool {
        self.complete && self.completed_at.is_some()
    }

    /// Every tag is there, read by a build that started after `instant` (what a change that
    /// must rest on GitLab's current tags, such as Run now, waits for).
    pub fn read_since(&self, instant: Instant) -> bool {
        self.is_current()
            && self.error.is_none()
            && self.list_read_from.is_some_and(|at| at >= instant)
    }

    /// Heap the entries own, counted from scratch (see [`tag_bytes`]).
    fn entries_heap(&self) -> usize {
        let map = |m: &HashMap<String, Arc<Tag>>| m.values().map(|t| tag_bytes(t)).sum::<usize>();
        let names = |s: &HashSet<String>| s.iter().map(|n| chunk(n.len())).sum::<usize>();
        map(&self.tags)
            + self.fresh.as_ref().map_or(0, map)
            + names(&self.seen)
            + names(&self.deleted)
    }

    /// The hash tables themselves, from their capacities.
    fn tables(&self) -> usize {
        table::<(String, Arc<Tag>)>(self.tags.capacity())
            + self
                .fresh
                .as_ref()
                .map_or(0, |m| table::<(String, Arc<Tag>)>(m.capacity()))
            + table::<String>(self.seen.capacity())
            + table::<String>(self.deleted.capacity())
    }
}

/// The bytes malloc takes for an allocation of `len` bytes (glibc: an 8-byte header,
/// 16-byte granules, 32 bytes at least; nothing for an empty string).
fn chunk(len: usize) -> usize {
    if len == 0 {
        0
    } else {
        ((len + 8 + 15) & !15).max(32)
    }
}

/// A hashbrown table of `capacity` entries of `T`: a power-of-two number of buckets at 7/8
/// load, one control byte each.
fn table<T>(capacity: usize) -> usize {
    if capacity == 0 {
        return 0;
    }
    let buckets = (capacity * 8 / 7).max(4).next_power_of_two();
    chunk(buckets * (std::mem::size_of::<T>() + 1) + 16)
}

/// The heap one indexed tag owns: the `Arc` it lives in, its strings (and the map key, a
/// copy of its name) as malloc allocates them. Its slot in the table is counted with the
/// table. Measured against the process's resident memory by `cargo bench -p server
/// --bench memory`.
pub fn tag_bytes(tag: &Tag) -> usize {
    let text = |s: &Option<String>| s.as_deref().map_or(0, |s| chunk(s.len()));
    chunk(2 * std::mem::size_of::<usize>() + std::mem::size_of::<Tag>())
        + 2 * chunk(tag.name.len())
        + text(&tag.digest)
        + text(&tag.revision)
        + text(&tag.media_type)
        + chunk(tag.referrers.capacity() * std::mem::size_of::<domain::tags::Referrer>())
        + tag
            .referrers
            .iter()
            .map(|r| chunk(r.artifact_type.len()) + chunk(r.digest.len()))
            .sum::<usize>()
}

/// What a [`Listing`] of the tags may hold per tag: its handle, the lowercased name (at
/// least a 32-byte allocation and its pointer), the six sort orders and the kept filtered
/// results.
const LISTING_TAG_BYTES: usize = 8 + 16 + 32 + 6 * 4 + domain::listing::SELECTIONS * 4;

/// The first tags version of a new index: unique per index in this process.
fn first_version() -> u64 {
    static INDEXES: AtomicU64 = AtomicU64::new(1);
    INDEXES.fetch_add(1, Ordering::Relaxed) << 32
}

/// One repository's index and a channel that ticks on every change.
pub struct TagIndex {
    state: RwLock<IndexState>,
    /// The listing of the current version of `tags` (see [`TagIndex::listing`]).
    listing: Mutex<Option<(u64, Arc<Listing>)>>,
    changed: watch::Sender<u64>,
    /// Estimated bytes held, kept up to date on every change.
    bytes: AtomicUsize,
    cancelled: AtomicBool,
}

impl TagIndex {
    fn new() -> Self {
        TagIndex {
            state: RwLock::new(IndexState {
                tags_version: first_version(),
                ..IndexState::default()
            }),
            listing: Mutex::new(None),
            changed: watch::channel(0).0,
            bytes: AtomicUsize::new(std::mem::size_of::<IndexState>()),
            cancelled: AtomicBool::new(false),
        }
    }

    /// Reads the state.
    pub fn read<R>(&self, f: impl FnOnce(&IndexState) -> R) -> R {
        let state = self.state.read().unwrap_or_else(|p| p.into_inner());
        f(&state)
    }

    fn write<R>(&self, f: impl FnOnce(&mut IndexState) -> R) -> R {
        let result = {
            let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
            let result = f(&mut state);
            let bytes = std::mem::size_of::<IndexState>()
                + state.heap
                + state.tables()
                + state.tags.len() * LISTING_TAG_BYTES;
            self.bytes
                .store(bytes + bytes / ALLOCATOR_SLACK, Ordering::Relaxed);
            result
        };
        self.changed.send_modify(|n| *n += 1);
        result
    }

    /// The served tags prepared for pages: built once per version of the list (one caller
    /// builds it, the others wait for it), sort orders added as views ask for them.
    /// Returned with what `f` reads from the same state, so a page's progress and its tags
    /// agree.
    pub fn listing_and<R>(&self, f: impl FnOnce(&IndexState) -> R) -> (Arc<Listing>, R) {
        let mut slot = lock(&self.listing);
        self.read(|state| {
            let listing = match &*slot {
                Some((version, listing)) if *version == state.tags_version => listing.clone(),
                _ => {
                    let listing = Arc::new(Listing::new(state.tags.values().cloned().collect()));
                    *slot = Some((state.tags_version, listing.clone()));
                    listing
                }
            };
            (listing, f(state))
        })
    }

    /// Estimated bytes this index holds now.
    pub fn bytes(&self) -> usize {
        self.bytes.load(Ordering::Relaxed)
    }

    fn add(&self, tags: Vec<Tag>, total: Option<u64>) {
        self.write(|state| {
            if total.is_some() {
                state.total = total;
            }
            let IndexState {
                tags: served,
                tags_version,
                fresh,
                deleted,
                seen,
                heap,
                ..
            } = state;
            if fresh.is_none() {
                *tags_version += 1;
            }
            let target = fresh.as_mut().unwrap_or(served);
            for tag in tags {
                if !deleted.contains(&tag.name) {
                    if seen.insert(tag.name.clone()) {
                        *heap += chunk(tag.name.len());
                    }
                    *heap += tag_bytes(&tag);
                    if let Some(replaced) = target.insert(tag.name.clone(), Arc::new(tag)) {
                        *heap -= tag_bytes(&replaced).min(*heap);
                    }
                }
            }
        });
    }

    fn finish(&self, outcome: Result<(), BuildError>) {
        self.write(|state| {
            state.building = false;
            let started = state.build_started.take();
            let took = started.map(|at| at.elapsed());
            match outcome {
                Ok(()) => {
                    match state.fresh.take() {
                        Some(fresh) => state.tags = fresh,
                        // A resumed partial list: drop what GitLab no longer has.
                        None => {
                            let seen = std::mem::take(&mut state.seen);
                            state.tags.retain(|name, _| seen.contains(name));
                        }
                    }
                    state.seen = HashSet::new();
                    state.deleted = HashSet::new();
                    state.complete = true;
                    // Marked out of date meanwhile: this list is not current (see `rerun`).
                    state.completed_at = (!state.rerun).then(Instant::now);
                    state.list_read_from = started;
                    state.last_build = took;
                    state.error = None;
                    state.total = Some(state.tags.len() as u64);
                }
                Err(error) => {
                    state.fresh = None;
                    state.seen = HashSet::new();
                    state.deleted = HashSet::new();
                    state.rerun = false;
                    if let BuildError::TooLarge(_) = error {
                        // What is there would only be a misleading part: free it, and do
                        // not try again soon (the repository will not have shrunk).
                        state.tags = HashMap::new();
                        state.complete = false;
                        state.not_before = Some(Instant::now() + TOO_LARGE_PAUSE);
                    }
                    state.error = Some(error.message());
                }
            }
            state.tags_version += 1;
            state.heap = state.entries_heap();
        });
    }

    /// Marks the index out of date: the next request rebuilds it (serving this list
    /// meanwhile); a build running now runs again when it ends, since it may have read
    /// pages from before the change.
    pub fn expire(&self) {
        self.write(|state| {
            state.completed_at = None;
            if state.building {
                state.rerun = true;
            }
        });
    }

    /// Starts the next build in the state (the caller spawns it).
    fn begin_build(state: &mut IndexState, gitlab_count: Option<u64>) {
        state.building = true;
        state.rerun = false;
        state.build_started = Some(Instant::now());
        state.error = None;
        state.deleted.clear();
        state.seen.clear();
        if state.complete {
            state.fresh = Some(HashMap::new());
        } else {
            // Resume: keep serving what an earlier attempt indexed.
            state.total = gitlab_count.or(state.total);
        }
        state.heap = state.entries_heap();
    }

    /// Removes tags that were deleted through us.
    pub fn forget(&self, names: &[String]) {
        self.write(|state| {
            for name in names {
                state.tags.remove(name);
                if let Some(fresh) = state.fresh.as_mut() {
                    fresh.remove(name);
                }
                if state.building {
                    state.deleted.insert(name.clone());
                }
            }
            if state.complete {
                state.total = Some(state.tags.len() as u64);
            }
            state.tags_version += 1;
            state.heap = state.entries_heap();
        });
    }

    /// Stops a running build at its next GitLab request.
    fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
        self.changed.send_modify(|n| *n += 1);
    }

    fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }

    /// Waits until `ready` holds or `timeout` passes.
    pub async fn wait_until(&self, timeout: Duration, ready: impl Fn(&IndexState) -> bool) {
        let mut changes = self.changed.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if self.read(&ready) || self.is_cancelled() {
                return;
            }
            match tokio::time::timeout_at(deadline, changes.changed()).await {
                Ok(Ok(())) => continue,
                _ => return,
            }
        }
    }
}

/// Why a build stopped.
#[derive(Debug)]
enum BuildError {
    GitLab(GitLabError),
    /// Pushed out of memory by other indexes.
    Evicted,
    /// This index alone needs more than the configured memory (MiB).
    TooLarge(u64),
}

impl From<GitLabError> for BuildError {
    fn from(error: GitLabError) -> Self {
        BuildError::GitLab(error)
    }
}

impl BuildError {
    fn message(&self) -> String {
        match self {
            BuildError::GitLab(GitLabError::RateLimited(wait)) => format!(
                "GitLab's rate limit stopped indexing; it resumes on a reload after {} s.",
                wait.as_secs().max(1)
            ),
            BuildError::GitLab(GitLabError::TokenExpired | GitLabError::Unauthorized) => {
                "Your GitLab session expired while indexing; reload to continue.".into()
            }
            BuildError::GitLab(error) => format!(
                "Indexing stopped: {} Reload to try again.",
                errors::sentence(error)
            ),
            BuildError::Evicted => {
                "This index was dropped to keep the dashboard within its memory bound; reload to \
                    index again."
                    .into()
            }
            BuildError::TooLarge(mib) => format!(
                "This repository has more tags than the dashboard's tag index may hold in memory \
                    ({mib} MiB); an administrator can raise index memory_mib."
            ),
        }
    }
}

/// What a build needs: where, as whom, within which budget.
pub struct BuildRequest {
    pub api: GitLabClient,
    pub token: String,
    pub project_id: u64,
    pub repository_id: u64,
    pub budget: Arc<Budget>,
    pub concurrency: usize,
}

type IndexKey = (String, u64);

/// Every index and every user's budget.
pub struct TagIndexes {
    indexes: moka::sync::Cache<IndexKey, Arc<TagIndex>>,
    budgets: moka::sync::Cache<(String, u64), Arc<Budget>>,
    /// Every user's GitLab request rate (see [`Budget`]).
    rate: Arc<Rate>,
    /// Indexes shared with other replicas, when Redis is configured.
    shared: Option<SharedIndexes>,
    pub settings: IndexSettings,
    metrics: Arc<Metrics>,
}

impl TagIndexes {
    /// Stops every running build at its next GitLab request: the server is stopping and
    /// nobody will read them. A shared build releases its lease, so another replica takes
    /// over at once; what it published so far stays shared.
    pub fn cancel_all(&self) {
        for (_, index) in self.indexes.iter() {
            index.cancel();
        }
    }

    pub fn new(settings: IndexSettings, metrics: Arc<Metrics>, redis: Option<Redis>) -> Self {
        let indexes = moka::sync::Cache::builder()
            .max_capacity(settings.memory_mib * MIB)
            .eviction_policy(moka::policy::EvictionPolicy::lru())
            .weigher(|_: &IndexKey, index: &Arc<TagIndex>| crate::caches::weight(index.bytes()))
            .eviction_listener(|_, index: Arc<TagIndex>, cause| {
                if matches!(cause, RemovalCause::Size | RemovalCause::Expired) {
                    index.cancel();
                }
            })
            .build();
        TagIndexes {
            indexes,
            budgets: moka::sync::Cache::builder()
                .max_capacity(MAX_BUDGETS)
                .time_to_idle(BUDGET_IDLE)
                .build(),
            rate: Arc::new(Rate::new(
                redis.clone(),
                "gitlab",
                settings.requests_per_minute,
            )),
            shared: redis.map(SharedIndexes::new),
            settings,
            metrics,
        }
    }

    /// The budget of one user on one instance.
    pub fn budget(&self, instance: &str, user: u64) -> Arc<Budget> {
        self.budgets.get_with((instance.to_string(), user), || {
            Arc::new(Budget::new(
                self.settings.concurrency,
                self.rate.clone(),
                format!("{instance}:{user}"),
                self.metrics.clone(),
            ))
        })
    }

    /// The index of a repository, if one exists.
    pub fn existing(&self, instance: &str, repository_id: u64) -> Option<Arc<TagIndex>> {
        self.indexes.get(&(instance.to_string(), repository_id))
    }

    /// Marks every index of a project's repositories out of date (after its protection rules
    /// changed, say), on every replica.
    pub async fn expire_project(&self, instance: &str, project_id: u64) {
        if let Some(shared) = &self.shared {
            if let Err(error) = shared.expire_project(instance, project_id).await {
                tracing::warn!(%error, "could not mark shared indexes out of date");
            }
        }
        for (key, index) in self.indexes.iter() {
            if key.0 == instance && index.read(|s| s.project_id) == project_id {
                index.expire();
            }
        }
    }

    /// Marks repositories' indexes out of date (after a run through us), on every replica.
    pub async fn expire(&self, instance: &str, repositories: &[u64]) {
        if let Some(shared) = &self.shared {
            if let Err(error) = shared.expire(instance, repositories).await {
                tracing::warn!(%error, "could not mark shared indexes out of date");
            }
        }
        for repository in repositories {
            if let Some(index) = self.existing(instance, *repository) {
                index.expire();
            }
        }
    }

    /// Removes tags deleted through us from the repository's index, on every replica.
    pub async fn forget(&self, instance: &str, repository: u64, names: &[String]) {
        if let Some(shared) = &self.shared {
            if let Err(error) = shared.forget(instance, repository, names).await {
                tracing::warn!(%error, "could not share a deletion with other replicas");
            }
        }
        if let Some(index) = self.existing(instance, repository) {
            index.forget(names);
        }
    }

    /// Indexes held, and their estimated bytes.
    pub fn usage(&self) -> (u64, u64) {
        self.indexes.run_pending_tasks();
        (self.indexes.entry_count(), self.indexes.weighted_size())
    }

    /// The local copy of a repository's index (a fresh one if the old was pushed out).
    fn local(&self, key: &IndexKey) -> Arc<TagIndex> {
        let index = self
            .indexes
            .get_with(key.clone(), || Arc::new(TagIndex::new()));
        if !index.is_cancelled() {
            return index;
        }
        // Pushed out (perhaps put back by a build's last re-weighing): start afresh.
        let index = Arc::new(TagIndex::new());
        self.indexes.insert(key.clone(), index.clone());
        index
    }

    /// Tells the cache an index's new size (after it was replaced by a shared snapshot).
    fn reweigh(&self, key: &IndexKey, index: &Arc<TagIndex>) {
        let held = self
            .indexes
            .get(key)
            .is_some_and(|current| Arc::ptr_eq(&current, index));
        if held {
            self.indexes.insert(key.clone(), index.clone());
        }
    }

    /// The index of a repository, (re)building it in the background when it is missing,
    /// failed, older than its TTL, or disagrees with GitLab's current tag count; never while
    /// the triggering user's budget is paused by GitLab. With Redis, the shared copy is read
    /// first, and a build starts only under the repository's lease; another replica's build
    /// is followed instead.
    pub async fn ensure(
        self: &Arc<Self>,
        instance: &str,
        gitlab_count: Option<u64>,
        request: BuildRequest,
    ) -> Arc<TagIndex> {
        let key = (instance.to_string(), request.repository_id);
        let index = self.local(&key);
        // `Some(leased)`: the shared state was read and applied; `None`: this replica is on
        // its own (no Redis, or Redis does not answer).
        let shared_state = match &self.shared {
            None => None,
            Some(shared) => {
                let held = index.read(|s| s.shared_gen.clone());
                match shared.read(instance, key.1, held.as_deref(), None).await {
                    Ok(remote) => {
                        let leased = remote.leased;
                        if shared::apply(&index, remote) {
                            self.reweigh(&key, &index);
                        }
                        Some(leased)
                    }
                    Err(error) => {
                        tracing::warn!(
                            %error,
                            "shared index unavailable; using this replica's own"
                        );
                        None
                    }
                }
            }
        };
        if !self.reserve(&index, gitlab_count, &request) {
            return index;
        }
        let (Some(shared), Some(leased)) = (&self.shared, shared_state) else {
            self.start_build(index.clone(), key, gitlab_count, request, None)
                .await;
            return index;
        };
        let lease = if leased {
            Ok(None)
        } else {
            shared.lease(instance, key.1).await
        };
        match lease {
            Ok(Some(lease)) => {
                self.start_build(index.clone(), key, gitlab_count, request, Some(lease))
                    .await;
            }
            Ok(None) => {
                index.write(|s| s.building = false);
                self.follow(index.clone(), key, gitlab_count, request);
            }
            Err(error) => {
                tracing::warn!(%error, "no build lease; building on this replica alone");
                self.start_build(index.clone(), key, gitlab_count, request, None)
                    .await;
            }
        }
        index
    }

    /// Decides whether the index needs a build now and, if so, marks it building (so one
    /// request starts it); says why not where a user would otherwise wait for nothing.
    fn reserve(&self, index: &TagIndex, gitlab_count: Option<u64>, request: &BuildRequest) -> bool {
        let capacity = self.settings.memory_mib * MIB;
        let ttl = Duration::from_secs(self.settings.ttl_secs);
        let paused = request.budget.paused_for();
        let too_large =
            gitlab_count.is_some_and(|n| n.saturating_mul(TYPICAL_TAG_BYTES) > capacity);
        index.write(|state| {
            state.project_id = request.project_id;
            if too_large && !state.complete && !state.building {
                state.error = Some(BuildError::TooLarge(capacity / MIB).message());
                return false;
            }
            let held_off = state.not_before.is_some_and(|at| Instant::now() < at);
            // A repository that takes long to index is not rebuilt back to back.
            let ttl = ttl.max(state.last_build.map_or(Duration::ZERO, |d| d * 2));
            let age = state.completed_at.map(|at| at.elapsed());
            let stale = age.is_none_or(|age| age >= ttl);
            let count_changed = state.complete
                && gitlab_count.is_some_and(|n| Some(n) != state.total)
                && age.is_none_or(|age| {
                    age >= RECOUNT_INTERVAL.max(state.last_build.unwrap_or_default())
                });
            let wanted = !state.complete || stale || count_changed;
            if let (Some(left), true, false) = (paused, wanted, state.building) {
                if !state.complete && state.error.is_none() {
                    // Say why nothing happens, instead of an empty list that never fills.
                    state.error = Some(format!(
                        "GitLab asked you to wait before more requests; indexing resumes on a \
                            reload after {} s.",
                        left.as_secs().max(1)
                    ));
                }
                return false;
            }
            let start = !state.building && !state.following && !held_off && wanted;
            if start {
                state.building = true;
            }
            start
        })
    }

    /// Follows another replica's build: reads its progress until its lease ends, then
    /// ensures the index again as this request (taking over if that build died or left the
    /// list out of date).
    fn follow(
        self: &Arc<Self>,
        index: Arc<TagIndex>,
        key: IndexKey,
        gitlab_count: Option<u64>,
        request: BuildRequest,
    ) {
        let Some(shared) = self.shared.clone() else {
            return;
        };
        let first = index.write(|s| !std::mem::replace(&mut s.following, true));
        if !first {
            return;
        }
        let this = self.clone();
        let follower: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> =
            Box::pin(async move {
                let until = Instant::now() + FOLLOW_AT_MOST;
                loop {
                    tokio::time::sleep(shared::FOLLOW_EVERY).await;
                    if index.is_cancelled() || Instant::now() >= until {
                        break;
                    }
                    let held = index.read(|s| s.shared_gen.clone());
                    match shared.read(&key.0, key.1, held.as_deref(), None).await {
                        Ok(remote) => {
                            let leased = remote.leased;
                            if shared::apply(&index, remote) {
                                this.reweigh(&key, &index);
                            }
                            if !leased {
                                break;
                            }
                        }
                        Err(error) => {
                            tracing::warn!(%error, "stopped following a shared index build");
                            break;
                        }
                    }
                }
                index.write(|s| s.following = false);
                if !index.is_cancelled() {
                    this.ensure(&key.0, gitlab_count, request).await;
                }
            });
        tokio::spawn(follower);
    }

    /// Starts a reserved build in the background; with a lease, it is shared as it goes.
    async fn start_build(
        &self,
        index: Arc<TagIndex>,
        key: IndexKey,
        gitlab_count: Option<u64>,
        request: BuildRequest,
        lease: Option<RedisLock>,
    ) {
        let publisher = match (lease, &self.shared) {
            (Some(lease), Some(shared)) => match shared.now().await {
                Ok(started) => Some(Publisher {
                    shared: shared.clone(),
                    lease,
                    started: std::sync::atomic::AtomicI64::new(started),
                }),
                Err(error) => {
                    tracing::warn!(%error, "building without sharing");
                    lease.release().await;
                    None
                }
            },
            _ => None,
        };
        index.write(|state| TagIndex::begin_build(state, gitlab_count));
        let builder = Arc::new(Builder {
            index,
            key,
            cache: self.indexes.clone(),
            capacity: self.settings.memory_mib * MIB,
            request,
        });
        tokio::spawn(async move {
            let publisher = publisher.map(Arc::new);
            loop {
                let companion = publisher
                    .clone()
                    .map(|p| Companion::start(p, builder.clone()));
                let outcome = builder.build().await;
                if let Some(companion) = companion {
                    companion.stop().await;
                }
                let ok = outcome.is_ok();
                if let Err(BuildError::GitLab(error)) = &outcome {
                    tracing::warn!(%error, repository = builder.key.1, "tag index build failed");
                    builder.request.budget.pause(match error {
                        GitLabError::RateLimited(wait) => *wait,
                        GitLabError::TokenExpired | GitLabError::Unauthorized => Duration::ZERO,
                        _ => FAILURE_PAUSE,
                    });
                }
                let again = builder.index.write(|state| {
                    let again = ok && state.rerun;
                    state.rerun = again;
                    again
                });
                builder.index.finish(outcome);
                builder.reweigh();
                if let (Some(publisher), true) = (&publisher, ok) {
                    publisher.publish(&builder, true).await;
                }
                if !again || builder.index.is_cancelled() {
                    break;
                }
                // Marked out of date while it ran: read GitLab again, as the same user.
                if let Some(publisher) = &publisher {
                    publisher.restart().await;
                }
                builder
                    .index
                    .write(|state| TagIndex::begin_build(state, None));
            }
            if let Some(publisher) = publisher {
                publisher.lease.release().await;
            }
        });
    }
}

/// Longest a replica follows another's build before checking for itself.
const FOLLOW_AT_MOST: Duration = Duration::from_secs(600);

/// A build's shared side: its lease and when it started reading (Redis' clock).
struct Publisher {
    shared: SharedIndexes,
    lease: RedisLock,
    started: std::sync::atomic::AtomicI64,
}

impl Publisher {
    fn started(&self) -> i64 {
        self.started.load(Ordering::Relaxed)
    }

    /// A rebuild starts reading now.
    async fn restart(&self) {
        if let Ok(now) = self.shared.now().await {
            self.started.store(now, Ordering::Relaxed);
        }
    }

    /// Publishes what the build holds (`complete`: the finished list).
    async fn publish(&self, builder: &Builder, complete: bool) {
        let (meta, encoded) = builder.index.read(|state| {
            let meta = Meta {
                complete,
                total: state.total,
                read_from: self.started(),
                completed: None,
                last_build_ms: state
                    .last_build
                    .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
                project_id: state.project_id,
            };
            (meta, shared::encode(&shared::publishable(state)))
        });
        let published = async {
            let snapshot = encoded?;
            let meta = Meta {
                completed: if complete {
                    Some(self.shared.now().await?)
                } else {
                    None
                },
                ..meta
            };
            self.shared
                .publish(&builder.key.0, builder.key.1, &self.lease, &meta, snapshot)
                .await
        };
        match published.await {
            Ok(Some(gen)) => builder.index.write(|s| s.shared_gen = Some(gen)),
            Ok(None) => tracing::warn!(
                repository = builder.key.1,
                "lost the build lease; the index was not shared"
            ),
            Err(error) => tracing::warn!(%error, "could not share an index"),
        }
    }
}

/// Runs beside a shared build: renews the lease, picks up deletions and expiries made on
/// other replicas, and publishes a first build's progress.
struct Companion {
    stop: Arc<tokio::sync::Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl Companion {
    fn start(publisher: Arc<Publisher>, builder: Arc<Builder>) -> Self {
        let stop = Arc::new(tokio::sync::Notify::new());
        let stopped = stop.clone();
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = stopped.notified() => break,
                    () = tokio::time::sleep(shared::PUBLISH_EVERY) => {}
                }
                if let Err(error) = publisher.lease.extend(shared::LEASE_TTL).await {
                    tracing::warn!(%error, "could not renew a build lease");
                }
                let (key, started) = (&builder.key, publisher.started());
                if let Ok(remote) = publisher
                    .shared
                    .read(&key.0, key.1, Some(shared::NO_TAGS), Some(started))
                    .await
                {
                    if !remote.gone.is_empty() {
                        builder.index.forget(&remote.gone);
                    }
                    if remote.expired >= started {
                        builder.index.write(|s| s.rerun = true);
                    }
                }
                let first_build = builder.index.read(|s| s.building && s.fresh.is_none());
                if first_build {
                    publisher.publish(&builder, false).await;
                }
            }
        });
        Companion { stop, task }
    }

    async fn stop(self) {
        self.stop.notify_one();
        let _ = self.task.await;
    }
}

/// A running build: the index, where it lives, and the request it runs as.
struct Builder {
    index: Arc<TagIndex>,
    key: IndexKey,
    cache: moka::sync::Cache<IndexKey, Arc<TagIndex>>,
    capacity: u64,
    request: BuildRequest,
}

/// A page of tags to read, and the last name (inclusive) it must reach before the next
/// span's pages begin (`None`: the end of the list).
struct Span {
    start: PageStart,
    boundary: Option<String>,
}

/// A page of tags from GraphQL.
struct GraphQlPage {
    tags: Vec<Tag>,
    total: Option<u64>,
    has_next: bool,
    end_cursor: Option<String>,
}

impl Builder {
    /// Tells the cache the index's new size (evicting others, or this one, to stay within
    /// the bound); an index no longer in the cache stops building.
    fn reweigh(&self) {
        let held = self
            .cache
            .get(&self.key)
            .is_some_and(|current| Arc::ptr_eq(&current, &self.index));
        if held {
            self.cache.insert(self.key.clone(), self.index.clone());
            self.cache.run_pending_tasks();
        } else {
            self.index.cancel();
        }
    }

    fn add(&self, tags: Vec<Tag>, total: Option<u64>) -> Result<(), BuildError> {
        self.index.add(tags, total);
        if self.index.bytes() as u64 > self.capacity {
            return Err(BuildError::TooLarge(self.capacity / MIB));
        }
        self.reweigh();
        self.check()
    }

    fn check(&self) -> Result<(), BuildError> {
        if self.index.is_cancelled() {
            Err(BuildError::Evicted)
        } else {
            Ok(())
        }
    }

    /// Several pages in one GraphQL request (aliases), in the order of `starts`.
    async fn graphql_pages(&self, starts: &[PageStart]) -> Result<Vec<GraphQlPage>, BuildError> {
        self.check()?;
        let r = &self.request;
        let _permit = r.budget.acquire().await;
        self.check()?;
        let data: graphql::TagsBatchData = r
            .api
            .graphql(
                &r.token,
                &graphql::tags_batch(starts.len()),
                graphql::tags_batch_variables(r.repository_id, starts),
            )
            .await?;
        let mut owner = data.container_repository.ok_or(GitLabError::NotFound)?;
        (0..starts.len())
            .map(|i| {
                let connection = owner
                    .pages
                    .remove(&format!("p{i}"))
                    .flatten()
                    .ok_or(GitLabError::Forbidden)?;
                Ok(GraphQlPage {
                    tags: connection
                        .nodes
                        .into_iter()
                        .map(TagNode::into_tag)
                        .collect(),
                    total: owner.tags_count,
                    has_next: connection.page_info.has_next_page,
                    end_cursor: connection.page_info.end_cursor,
                })
            })
            .collect()
    }

    async fn graphql_page(&self, start: PageStart) -> Result<GraphQlPage, BuildError> {
        let mut pages = self.graphql_pages(std::slice::from_ref(&start)).await?;
        pages.pop().ok_or_else(|| GitLabError::NotFound.into())
    }

    /// One page of the REST tag list (names only).
    async fn names_page(
        &self,
        page: u32,
    ) -> Result<crate::gitlab::Paged<crate::gitlab::wire::TagSummary>, BuildError> {
        self.check()?;
        let r = &self.request;
        let _permit = r.budget.acquire().await;
        self.check()?;
        Ok(r.api
            .tag_names(&r.token, r.project_id, r.repository_id, page, REST_PER_PAGE)
            .await?)
    }

    /// Every tag name through the REST list, pages in parallel, in byte order.
    async fn all_names(&self, total: u64) -> Result<Vec<String>, BuildError> {
        let pages =
            u32::try_from(total.div_ceil(u64::from(REST_PER_PAGE)).max(1)).unwrap_or(u32::MAX);
        let mut names: Vec<String> = Vec::new();
        let mut results = stream::iter(1..=pages)
            .map(|page| self.names_page(page))
            .buffer_unordered(self.request.concurrency);
        let mut last_page_full = false;
        while let Some(result) = results.next().await {
            let page = result?;
            if page.next_page.is_none() && page.items.len() == REST_PER_PAGE as usize {
                last_page_full = true;
            }
            names.extend(page.items.into_iter().map(|t| t.name));
        }
        drop(results);
        // Tags pushed since GitLab counted: keep reading pages until one comes back short.
        let mut page = pages.saturating_add(1);
        while last_page_full || names.len() as u64 >= u64::from(pages) * u64::from(REST_PER_PAGE) {
            let more = self.names_page(page).await?;
            let short = more.items.len() < REST_PER_PAGE as usize;
            names.extend(more.items.into_iter().map(|t| t.name));
            if short {
                break;
            }
            last_page_full = false;
            page = page.saturating_add(1);
        }
        names.sort_unstable();
        names.dedup();
        Ok(names)
    }

    /// Pages from `start` on, along the cursor chain (keeping its name filter), until the
    /// chunk's end (`boundary`, inclusive) is reached; each page goes into the index as it
    /// arrives.
    async fn chunk(&self, start: PageStart, boundary: Option<String>) -> Result<(), BuildError> {
        let mut start = start;
        loop {
            let page = self.graphql_page(start.clone()).await?;
            let last = page.tags.last().map(|t| t.name.clone());
            let next = next_start(&start, &page, boundary.as_deref(), last.as_deref());
            self.add(page.tags, None)?;
            match next {
                Some(next) => start = next,
                None => return Ok(()),
            }
        }
    }

    /// Up to [`TAG_PAGES_PER_QUERY`] spans in one request; a span whose page ended before
    /// its boundary (tags pushed meanwhile) goes on along the chain.
    async fn batch(&self, spans: Vec<Span>) -> Result<(), BuildError> {
        let starts: Vec<PageStart> = spans.iter().map(|s| s.start.clone()).collect();
        let pages = self.graphql_pages(&starts).await?;
        let mut unfinished = Vec::new();
        for (span, page) in spans.into_iter().zip(pages) {
            let last = page.tags.last().map(|t| t.name.clone());
            let next = next_start(
                &span.start,
                &page,
                span.boundary.as_deref(),
                last.as_deref(),
            );
            self.add(page.tags, None)?;
            if let Some(next) = next {
                unfinished.push((next, span.boundary));
            }
        }
        for (start, boundary) in unfinished {
            self.chunk(start, boundary).await?;
        }
        Ok(())
    }

    /// Every span, [`TAG_PAGES_PER_QUERY`] to a request, requests in parallel.
    async fn spans(&self, spans: Vec<Span>) -> Result<(), BuildError> {
        let mut spans = spans.into_iter().peekable();
        let mut batches = Vec::new();
        while spans.peek().is_some() {
            batches.push(spans.by_ref().take(TAG_PAGES_PER_QUERY).collect::<Vec<_>>());
        }
        let mut running = stream::iter(batches)
            .map(|batch| self.batch(batch))
            .buffer_unordered(self.request.concurrency);
        while let Some(done) = running.next().await {
            done?;
        }
        Ok(())
    }

    /// Reads the tags of `names` this build has not seen (a page that shifted under a push
    /// or deletion skips one), each through GitLab's name filter. A name GitLab no longer
    /// matches was deleted meanwhile.
    async fn reconcile(&self, names: Vec<String>) -> Result<(), BuildError> {
        let missing: Vec<String> = self.index.read(|state| {
            names
                .into_iter()
                .filter(|n| !state.seen.contains(n) && !state.deleted.contains(n))
                .collect()
        });
        if missing.is_empty() {
            return Ok(());
        }
        tracing::info!(
            missing = missing.len(),
            "tags changed during the build; reading the skipped ones by name"
        );
        let spans = missing
            .into_iter()
            .map(|name| Span {
                start: PageStart::Named(name.clone(), None),
                boundary: Some(name),
            })
            .collect();
        self.spans(spans).await
    }

    /// The first page; then, when the repository's cursors can be computed (tag names with
    /// the metadata database, graphql-ruby's positions without it) and GitLab's order
    /// agrees with the REST names, every other page from its computed cursor, 8 pages to a
    /// request and requests in parallel; otherwise along the cursor chain. Either way the
    /// names no page returned are then read by name.
    async fn build(&self) -> Result<(), BuildError> {
        let first = self.graphql_page(PageStart::After(None)).await?;
        let first_names: Vec<String> = first.tags.iter().map(|t| t.name.clone()).collect();
        let (has_next, end_cursor, total) = (first.has_next, first.end_cursor.clone(), first.total);
        self.add(first.tags, total)?;
        if !has_next {
            return Ok(());
        }
        let Some(end_cursor) = end_cursor else {
            return Ok(());
        };
        let cursors = if Some(&end_cursor) == first_names.last() {
            Some(Cursors::Names)
        } else if end_cursor == graphql::offset_cursor(first_names.len()) {
            Some(Cursors::Positions)
        } else {
            None
        };
        if let Some(cursors) = cursors {
            let names = self.all_names(total.unwrap_or(0)).await?;
            // GraphQL's name order is the names' byte order (a tag pushed or deleted between
            // the two reads may change which names the first page holds: the names read
            // afterwards are the truth the cursors are computed from, and what any page
            // misses is read back by name).
            let byte_order = first_names.windows(2).all(|w| w[0] < w[1]);
            if names.len() > first_names.len() && byte_order {
                let spans = (first_names.len()..names.len())
                    .step_by(TAGS_PER_PAGE)
                    .map(|k| Span {
                        start: PageStart::After(Some(match cursors {
                            Cursors::Names => names[k - 1].clone(),
                            Cursors::Positions => graphql::offset_cursor(k),
                        })),
                        boundary: if k + TAGS_PER_PAGE >= names.len() {
                            None
                        } else {
                            names.get(k + TAGS_PER_PAGE - 1).cloned()
                        },
                    })
                    .collect();
                self.spans(spans).await?;
            } else {
                // Not the order the cursors assume: the chain, then the names it skipped.
                tracing::info!("tag names and GraphQL order disagree; walking the cursor chain");
                self.chunk(PageStart::After(Some(end_cursor)), None).await?;
            }
            return self.reconcile(names).await;
        }
        self.chunk(PageStart::After(Some(end_cursor)), None).await
    }
}

/// How a repository's tag cursors can be computed.
#[derive(Clone, Copy)]
enum Cursors {
    /// The cursor after a tag is its name (the metadata database's `last=`).
    Names,
    /// The cursor after the k-th tag is graphql-ruby's array cursor of position k.
    Positions,
}

/// Where the chain goes on after `page` (read from `start`), or `None` when it is done:
/// at the end of the list or at `boundary`.
fn next_start(
    start: &PageStart,
    page: &GraphQlPage,
    boundary: Option<&str>,
    last: Option<&str>,
) -> Option<PageStart> {
    if !page.has_next {
        return None;
    }
    if let (Some(boundary), Some(last)) = (boundary, last) {
        if last >= boundary {
            return None;
        }
    }
    let cursor = page.end_cursor.clone()?;
    Some(match start {
        PageStart::After(_) => PageStart::After(Some(cursor)),
        PageStart::Named(name, _) => PageStart::Named(name.clone(), Some(cursor)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics() -> Arc<Metrics> {
        Arc::new(Metrics::new())
    }

    #[tokio::test]
    async fn budget_limits_the_rate() {
        // 10 per second, burst of 600.
        let rate = Arc::new(Rate::new(None, "test", 600));
        let budget = Budget::new(4, rate.clone(), "u".into(), metrics());
        // Use up the burst.
        while rate.check("u").await.is_ok() {}
        let started = Instant::now();
        for _ in 0..3 {
            let _permit = budget.acquire().await;
        }
        // Three requests at 10/s from an empty allowance take at least ~0.3 s.
        assert!(started.elapsed() >= Duration::from_millis(250));
    }

    #[tokio::test]
    async fn budget_limits_concurrency() {
        let rate = Arc::new(Rate::new(None, "test", 10_000));
        let budget = Arc::new(Budget::new(2, rate, "u".into(), metrics()));
        let a = budget.acquire().await;
        let b = budget.acquire().await;
        assert!(a.is_some() && b.is_some());
        let third = tokio::time::timeout(Duration::from_millis(50), budget.acquire()).await;
        assert!(third.is_err(), "a third request must wait for a slot");
        drop(a);
        let third = tokio::time::timeout(Duration::from_millis(500), budget.acquire()).await;
        assert!(third.is_ok());
    }

    #[test]
    fn a_pause_is_the_users_own() {
        let indexes = TagIndexes::new(IndexSettings::default(), metrics(), None);
        let a = indexes.budget("demo", 1);
        let b = indexes.budget("demo", 2);
        a.pause(Duration::from_secs(60));
        assert!(a.paused());
        assert!(!b.paused());
        assert!(indexes.budget("demo", 1).paused(), "the same budget again");
    }

    fn tag(name: &str) -> Tag {
        Tag {
            name: name.into(),
            digest: None,
            revision: None,
            created_at: None,
            published_at: None,
            total_size: None,
            media_type: None,
            referrers: vec![],
            protection: None,
        }
    }

    #[test]
    fn deleted_tags_are_not_re_added_by_a_running_build() {
        let index = TagIndex::new();
        index.write(|s| s.building = true);
        index.add(vec![tag("a"), tag("b")], Some(2));
        index.forget(&["a".to_string()]);
        index.add(vec![tag("a"), tag("c")], None);
        index.finish(Ok(()));
        let mut names: Vec<String> = index.read(|s| s.tags.keys().cloned().collect());
        names.sort();
        assert_eq!(names, ["b", "c"]);
        assert_eq!(index.read(|s| s.total), Some(2));
    }

    #[test]
    fn a_list_marked_out_of_date_during_its_build_is_not_current() {
        let index = TagIndex::new();
        let asked_before = Instant::now();
        index.write(|s| TagIndex::begin_build(s, Some(1)));
        index.add(vec![tag("a")], Some(1));
        // Run now asks for GitLab's current tags while this build runs.
        let asked = Instant::now();
        index.expire();
        index.write(|s| assert!(s.rerun));
        index.finish(Ok(()));
        assert!(
            !index.read(|s| s.is_current()),
            "pages may predate the change"
        );
        assert!(!index.read(|s| s.read_since(asked)));
        // The build that runs again starts after the question: its list answers it.
        index.write(|s| TagIndex::begin_build(s, None));
        index.add(vec![tag("a")], None);
        index.finish(Ok(()));
        assert!(index.read(|s| s.read_since(asked) && s.read_since(asked_before)));
    }

    #[test]
    fn a_rebuild_keeps_serving_the_old_list_until_done_and_counts_both() {
        let index = TagIndex::new();
        index.add(vec![tag("old")], Some(1));
        index.finish(Ok(()));
        let one = index.bytes();
        index.write(|s| {
            s.building = true;
            s.fresh = Some(HashMap::new());
        });
        index.add(vec![tag("new")], None);
        assert!(index.read(|s| s.tags.contains_key("old")));
        assert!(index.bytes() > one, "the rebuild's list counts too");
        index.finish(Ok(()));
        assert!(index.read(|s| s.tags.contains_key("new") && !s.tags.contains_key("old")));
    }

    #[test]
    fn indexes_stay_within_their_memory_bound_and_evicted_ones_stop() {
        let settings = IndexSettings {
            memory_mib: 1,
            ..IndexSettings::default()
        };
        let indexes = TagIndexes::new(settings, metrics(), None);
        let mut held = Vec::new();
        for repository in 0..20u64 {
            let index = indexes
                .indexes
                .get_with(("demo".into(), repository), || Arc::new(TagIndex::new()));
            index.add(
                (0..500).map(|i| tag(&format!("tag-{i:06}"))).collect(),
                None,
            );
            indexes
                .indexes
                .insert(("demo".into(), repository), index.clone());
            held.push(index);
        }
        let (count, bytes) = indexes.usage();
        assert!(bytes <= MIB, "{bytes}");
        assert!(count < 20);
        assert!(
            held[0].is_cancelled(),
            "the least recently used index was pushed out"
        );
        assert!(!held[19].is_cancelled());
    }
}
