//! The tag index: every tag of an image repository with its details, so the list can filter
//! and sort across ALL tags.
//!
//! GitLab's GraphQL gives tag details 20 at a time behind an opaque cursor, which on its own
//! means one sequential request per 20 tags. With the metadata database those cursors are
//! tag names (the registry's `last=` parameter), so once the names are known (REST list,
//! 100 per page, pages fetched in parallel) every 20-tag page can be fetched independently.
//! The builder checks that this holds for the repository at hand (the first page's end
//! cursor is its last tag's name, and the first names agree) and otherwise walks the cursor
//! chain. Each chunk also keeps going until it reaches the next chunk's first name, so tags
//! pushed meanwhile are not skipped.
//!
//! An index is shared by everyone who can read the repository, but never served without a
//! fresh access check of the caller's own token (see `services`). Every GitLab request of a
//! build goes through the triggering user's [`Budget`].

use crate::config::IndexSettings;
use crate::gitlab::graphql::{self, TagNode};
use crate::gitlab::{GitLabClient, GitLabError};
use domain::tags::Tag;
use futures::stream::{self, StreamExt};
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};

/// GitLab's page size for the tags connection.
const GRAPHQL_TAGS_PER_PAGE: usize = 20;
/// REST list page size (GitLab's maximum).
const REST_PER_PAGE: u32 = 100;
/// After a failed build (other than a rate limit, which says how long), wait this long
/// before the next request may start another.
const FAILURE_PAUSE: Duration = Duration::from_secs(5);
/// Indexes kept in memory at once; the least recently used idle ones go first.
const MAX_INDEXES: usize = 64;

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// One user's allowance of GitLab requests: at most `concurrency` in flight and
/// `requests_per_minute` on average (a token bucket that holds one minute's worth).
pub struct Budget {
    permits: Arc<Semaphore>,
    bucket: Mutex<(f64, Instant)>,
    per_minute: f64,
}

impl Budget {
    pub fn new(concurrency: usize, requests_per_minute: u32) -> Self {
        let per_minute = f64::from(requests_per_minute.max(1));
        Budget {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            bucket: Mutex::new((per_minute, Instant::now())),
            per_minute,
        }
    }

    /// Waits for a slot and a token; hold the permit for the request's duration.
    pub async fn acquire(&self) -> Option<OwnedSemaphorePermit> {
        let permit = self.permits.clone().acquire_owned().await.ok()?;
        loop {
            let wait = {
                let mut bucket = lock(&self.bucket);
                let now = Instant::now();
                let refill = now.duration_since(bucket.1).as_secs_f64() * self.per_minute / 60.0;
                bucket.0 = (bucket.0 + refill).min(self.per_minute);
                bucket.1 = now;
                if bucket.0 >= 1.0 {
                    bucket.0 -= 1.0;
                    None
                } else {
                    Some(Duration::from_secs_f64(
                        (1.0 - bucket.0) * 60.0 / self.per_minute,
                    ))
                }
            };
            match wait {
                None => return Some(permit),
                Some(wait) => tokio::time::sleep(wait).await,
            }
        }
    }
}

/// The state of one repository's index.
#[derive(Default)]
pub struct IndexState {
    /// Tags served, by name.
    pub tags: HashMap<String, Tag>,
    /// A rebuild of a complete index collects here and replaces `tags` when done, so
    /// readers keep the old complete list meanwhile.
    fresh: Option<HashMap<String, Tag>>,
    /// Tags GitLab reported.
    pub total: Option<u64>,
    /// `tags` holds every tag (as of `completed_at`).
    pub complete: bool,
    pub completed_at: Option<Instant>,
    pub error: Option<String>,
    pub building: bool,
    /// Deleted through us since the current build started: never re-added by that build.
    deleted: HashSet<String>,
    /// Names the current build has seen: what a build that resumed a partial list keeps.
    seen: HashSet<String>,
    /// After a failure, no new build before this instant (GitLab's Retry-After, or a pause).
    retry_at: Option<Instant>,
    last_used: Option<Instant>,
    /// The project the repository belongs to (set by the first build request).
    project_id: u64,
}

impl IndexState {
    /// Every tag is there and nothing marked the list out of date since (a rule change or a
    /// run through us expires it; TTL staleness does not count: that list is still served).
    pub fn is_current(&self) -> bool {
        self.complete && self.completed_at.is_some()
    }
}

/// One repository's index and a channel that ticks on every change.
pub struct TagIndex {
    state: RwLock<IndexState>,
    changed: watch::Sender<u64>,
}

impl TagIndex {
    fn new() -> Self {
        TagIndex {
            state: RwLock::new(IndexState::default()),
            changed: watch::channel(0).0,
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
            f(&mut state)
        };
        self.changed.send_modify(|n| *n += 1);
        result
    }

    fn add(&self, tags: Vec<Tag>, total: Option<u64>) {
        self.write(|state| {
            if total.is_some() {
                state.total = total;
            }
            let IndexState {
                tags: served,
                fresh,
                deleted,
                seen,
                ..
            } = state;
            let target = fresh.as_mut().unwrap_or(served);
            for tag in tags {
                if !deleted.contains(&tag.name) {
                    seen.insert(tag.name.clone());
                    target.insert(tag.name.clone(), tag);
                }
            }
        });
    }

    fn finish(&self, outcome: Result<(), GitLabError>) {
        self.write(|state| {
            state.building = false;
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
                    state.seen.clear();
                    state.retry_at = None;
                    state.complete = true;
                    state.completed_at = Some(Instant::now());
                    state.error = None;
                    state.total = Some(state.tags.len() as u64);
                }
                Err(error) => {
                    state.fresh = None;
                    state.seen.clear();
                    let pause = match &error {
                        GitLabError::RateLimited(wait) => *wait,
                        _ => FAILURE_PAUSE,
                    };
                    state.retry_at = Some(Instant::now() + pause);
                    tracing::warn!(%error, "tag index build failed");
                    state.error = Some(match error {
                        GitLabError::RateLimited(wait) => format!(
                            "GitLab's rate limit stopped indexing; it resumes on a reload after {} s.",
                            wait.as_secs().max(1)
                        ),
                        GitLabError::TokenExpired | GitLabError::Unauthorized => {
                            "Your GitLab session expired while indexing; reload to continue."
                                .into()
                        }
                        _ => "GitLab stopped answering while the tags were indexed; reload to try again."
                            .into(),
                    });
                }
            }
        });
    }

    /// Marks the index out of date: the next request rebuilds it (serving this list meanwhile).
    pub fn expire(&self) {
        self.write(|state| state.completed_at = None);
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
        });
    }

    /// Waits until `ready` holds or `timeout` passes.
    pub async fn wait_until(&self, timeout: Duration, ready: impl Fn(&IndexState) -> bool) {
        let mut changes = self.changed.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if self.read(&ready) {
                return;
            }
            match tokio::time::timeout_at(deadline, changes.changed()).await {
                Ok(Ok(())) => continue,
                _ => return,
            }
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

/// Every index and every user's budget.
pub struct TagIndexes {
    indexes: Mutex<HashMap<(String, u64), Arc<TagIndex>>>,
    budgets: Mutex<HashMap<(String, u64), Arc<Budget>>>,
    pub settings: IndexSettings,
}

impl TagIndexes {
    pub fn new(settings: IndexSettings) -> Self {
        TagIndexes {
            indexes: Mutex::new(HashMap::new()),
            budgets: Mutex::new(HashMap::new()),
            settings,
        }
    }

    /// The budget of one user on one instance.
    pub fn budget(&self, instance: &str, user: u64) -> Arc<Budget> {
        lock(&self.budgets)
            .entry((instance.to_string(), user))
            .or_insert_with(|| {
                Arc::new(Budget::new(
                    self.settings.concurrency,
                    self.settings.requests_per_minute,
                ))
            })
            .clone()
    }

    /// The index of a repository, if one exists.
    pub fn existing(&self, instance: &str, repository_id: u64) -> Option<Arc<TagIndex>> {
        lock(&self.indexes)
            .get(&(instance.to_string(), repository_id))
            .cloned()
    }

    /// Marks every index of a project's repositories out of date (after its protection rules
    /// changed, say).
    pub fn expire_project(&self, instance: &str, project_id: u64) {
        let indexes: Vec<Arc<TagIndex>> = lock(&self.indexes)
            .iter()
            .filter(|((i, _), index)| i == instance && index.read(|s| s.project_id) == project_id)
            .map(|(_, index)| index.clone())
            .collect();
        for index in indexes {
            index.expire();
        }
    }

    /// The index of a repository, (re)building it in the background when it is missing,
    /// failed, older than the TTL, or disagrees with GitLab's current tag count.
    pub fn ensure(
        &self,
        instance: &str,
        gitlab_count: Option<u64>,
        request: BuildRequest,
    ) -> Arc<TagIndex> {
        let index = {
            let mut indexes = lock(&self.indexes);
            let key = (instance.to_string(), request.repository_id);
            if !indexes.contains_key(&key) && indexes.len() >= MAX_INDEXES {
                let victim = indexes
                    .iter()
                    .filter(|(_, i)| !i.read(|s| s.building))
                    .min_by_key(|(_, i)| i.read(|s| s.last_used))
                    .map(|(k, _)| k.clone());
                if let Some(victim) = victim {
                    indexes.remove(&victim);
                }
            }
            indexes
                .entry(key)
                .or_insert_with(|| Arc::new(TagIndex::new()))
                .clone()
        };
        let ttl = Duration::from_secs(self.settings.ttl_secs);
        let start = index.write(|state| {
            state.last_used = Some(Instant::now());
            state.project_id = request.project_id;
            let stale = state.completed_at.is_none_or(|at| at.elapsed() >= ttl);
            let count_changed =
                state.complete && gitlab_count.is_some_and(|n| Some(n) != state.total);
            let paused = state.retry_at.is_some_and(|at| Instant::now() < at);
            let start = !state.building && !paused && (!state.complete || stale || count_changed);
            if start {
                state.building = true;
                state.error = None;
                state.deleted.clear();
                state.seen.clear();
                if state.complete {
                    state.fresh = Some(HashMap::new());
                } else {
                    // Resume: keep serving what an earlier attempt indexed.
                    state.total = gitlab_count.or(state.total);
                }
            }
            start
        });
        if start {
            let build_index = index.clone();
            tokio::spawn(async move {
                let outcome = build(&build_index, &request).await;
                build_index.finish(outcome);
            });
        }
        index
    }
}

/// A page of tags from GraphQL.
struct GraphQlPage {
    tags: Vec<Tag>,
    total: Option<u64>,
    has_next: bool,
    end_cursor: Option<String>,
}

impl BuildRequest {
    async fn graphql_page(&self, after: Option<&str>) -> Result<GraphQlPage, GitLabError> {
        let _permit = self.budget.acquire().await;
        let data: graphql::TagsPageData = self
            .api
            .graphql(
                &self.token,
                &graphql::tags_page(),
                json!({
                    "id": format!("gid://gitlab/ContainerRepository/{}", self.repository_id),
                    "after": after,
                    "first": GRAPHQL_TAGS_PER_PAGE,
                }),
            )
            .await?;
        let owner = data.container_repository.ok_or(GitLabError::NotFound)?;
        let connection = owner.tags.ok_or(GitLabError::Forbidden)?;
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
    }

    /// One page of the REST tag list (names only).
    async fn names_page(
        &self,
        page: u32,
    ) -> Result<crate::gitlab::Paged<crate::gitlab::wire::TagSummary>, GitLabError> {
        let _permit = self.budget.acquire().await;
        self.api
            .tag_names(
                &self.token,
                self.project_id,
                self.repository_id,
                page,
                REST_PER_PAGE,
            )
            .await
    }

    /// Every tag name through the REST list, pages in parallel, in byte order.
    async fn all_names(&self, total: u64) -> Result<Vec<String>, GitLabError> {
        let pages = total.div_ceil(u64::from(REST_PER_PAGE)).max(1) as u32;
        let mut names: Vec<String> = Vec::with_capacity(total as usize);
        let mut results = stream::iter(1..=pages)
            .map(|page| self.names_page(page))
            .buffer_unordered(self.concurrency);
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
        let mut page = pages + 1;
        while last_page_full || names.len() as u64 >= u64::from(pages) * u64::from(REST_PER_PAGE) {
            let more = self.names_page(page).await?;
            let short = more.items.len() < REST_PER_PAGE as usize;
            names.extend(more.items.into_iter().map(|t| t.name));
            if short {
                break;
            }
            last_page_full = false;
            page += 1;
        }
        names.sort_unstable();
        names.dedup();
        Ok(names)
    }

    /// GraphQL pages from `after` until the chunk's end (`boundary`, inclusive) is reached.
    async fn chunk(
        &self,
        after: String,
        boundary: Option<String>,
    ) -> Result<Vec<Tag>, GitLabError> {
        let mut out = Vec::new();
        let mut cursor = Some(after);
        loop {
            let page = self.graphql_page(cursor.as_deref()).await?;
            let last = page.tags.last().map(|t| t.name.clone());
            out.extend(page.tags);
            if !page.has_next {
                break;
            }
            if let (Some(boundary), Some(last)) = (&boundary, &last) {
                if last >= boundary {
                    break;
                }
            }
            match page.end_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        Ok(out)
    }
}

async fn build(index: &TagIndex, request: &BuildRequest) -> Result<(), GitLabError> {
    let first = request.graphql_page(None).await?;
    let first_names: Vec<String> = first.tags.iter().map(|t| t.name.clone()).collect();
    let (has_next, end_cursor, total) = (first.has_next, first.end_cursor.clone(), first.total);
    index.add(first.tags, total);
    if !has_next {
        return Ok(());
    }
    let names_are_cursors = end_cursor.is_some() && end_cursor.as_ref() == first_names.last();
    if names_are_cursors {
        let names = request.all_names(total.unwrap_or(0)).await?;
        if names.len() > first_names.len() && names[..first_names.len()] == first_names[..] {
            let starts: Vec<(String, Option<String>)> = (first_names.len()..names.len())
                .step_by(GRAPHQL_TAGS_PER_PAGE)
                .map(|k| {
                    let boundary = names.get(k + GRAPHQL_TAGS_PER_PAGE - 1).cloned();
                    let is_last = k + GRAPHQL_TAGS_PER_PAGE >= names.len();
                    (names[k - 1].clone(), if is_last { None } else { boundary })
                })
                .collect();
            let mut chunks = stream::iter(starts)
                .map(|(after, boundary)| request.chunk(after, boundary))
                .buffer_unordered(request.concurrency);
            while let Some(chunk) = chunks.next().await {
                index.add(chunk?, None);
            }
            return Ok(());
        }
        tracing::info!("tag names and GraphQL order disagree; walking the cursor chain");
    }
    let Some(cursor) = end_cursor else {
        return Ok(());
    };
    let tags = request.chunk(cursor, None).await?;
    index.add(tags, None);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn budget_limits_the_rate() {
        let budget = Budget::new(4, 600); // 10 per second, bucket of 600
        {
            let mut bucket = lock(&budget.bucket);
            bucket.0 = 0.0;
            bucket.1 = Instant::now();
        }
        let started = Instant::now();
        for _ in 0..3 {
            let _permit = budget.acquire().await;
        }
        // Three tokens at 10/s from an empty bucket take at least ~0.3 s.
        assert!(started.elapsed() >= Duration::from_millis(250));
    }

    #[tokio::test]
    async fn budget_limits_concurrency() {
        let budget = Arc::new(Budget::new(2, 10_000));
        let a = budget.acquire().await;
        let b = budget.acquire().await;
        assert!(a.is_some() && b.is_some());
        let third = tokio::time::timeout(Duration::from_millis(50), budget.acquire()).await;
        assert!(third.is_err(), "a third request must wait for a slot");
        drop(a);
        let third = tokio::time::timeout(Duration::from_millis(500), budget.acquire()).await;
        assert!(third.is_ok());
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
    fn a_rebuild_keeps_serving_the_old_list_until_done() {
        let index = TagIndex::new();
        index.add(vec![tag("old")], Some(1));
        index.finish(Ok(()));
        index.write(|s| {
            s.building = true;
            s.fresh = Some(HashMap::new());
        });
        index.add(vec![tag("new")], None);
        assert!(index.read(|s| s.tags.contains_key("old")));
        index.finish(Ok(()));
        assert!(index.read(|s| s.tags.contains_key("new") && !s.tags.contains_key("old")));
    }
}
