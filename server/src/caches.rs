//! Every short-lived cache in front of GitLab, in one place, each bounded in bytes.
//!
//! All are `moka` caches with a weigher that estimates an entry's bytes (its own size plus
//! the heap it owns) and a capacity from the configuration, so none can grow past its bound
//! whatever callers send. Entries are keyed by *credential* (a digest of the instance and
//! the token, see [`CredentialKey`]), never by user: an answer GitLab gave to one token is
//! only ever reused for that same token, and when GitLab refuses a token every entry of it
//! is dropped at once ([`Caches::forget_credential`]). Lifetimes are seconds (configuration
//! `cache.access_ttl_secs`, `cache.users_ttl_secs`, at most 300), so a token revoked at GitLab
//! stops working for cached reads soon even when GitLab is not asked again.
//!
//! `get_with`-style loading gives single flight: concurrent requests for the same key wait
//! for one GitLab request instead of each sending their own.

use crate::auth::records::PendingLogin;
use crate::config::{CacheSettings, UsageSettings};
use crate::shared::Redis;
use app::backend::CredentialKey;
use app::error::AppError;
use domain::protection::ProtectionRules;
use domain::tags::RepositoryHeader;
use domain::{ProjectSummary, Viewer};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use moka::future::Cache;
use moka::policy::EvictionPolicy;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

/// How long a scan of a user's projects is reused (paging through it should not re-scan).
pub const PROJECT_SCAN_TTL: Duration = Duration::from_secs(30);
/// How long a bearer token GitLab accepted skips the rate for checking unknown tokens.
pub const ACCEPTED_BEARER_TTL: Duration = Duration::from_secs(600);

/// Approximate memory an entry holds: its inline size plus the heap it owns.
pub trait Weigh {
    fn weigh(&self) -> usize;
}

fn text(s: &str) -> usize {
    s.len()
}

fn opt(s: &Option<String>) -> usize {
    s.as_deref().map_or(0, text)
}

impl Weigh for String {
    fn weigh(&self) -> usize {
        std::mem::size_of::<String>() + self.len()
    }
}

impl Weigh for Viewer {
    fn weigh(&self) -> usize {
        std::mem::size_of::<Viewer>()
            + text(&self.username)
            + text(&self.name)
            + opt(&self.avatar_url)
            + text(&self.instance)
    }
}

impl Weigh for RepositoryHeader {
    fn weigh(&self) -> usize {
        std::mem::size_of::<RepositoryHeader>()
            + text(&self.name)
            + text(&self.path)
            + text(&self.location)
            + text(&self.project_path)
            + text(&self.project_name)
    }
}

impl Weigh for ProjectSummary {
    fn weigh(&self) -> usize {
        std::mem::size_of::<ProjectSummary>()
            + text(&self.name)
            + text(&self.full_path)
            + opt(&self.description)
            + text(&self.visibility)
            + text(&self.web_url)
    }
}

impl Weigh for PendingLogin {
    fn weigh(&self) -> usize {
        std::mem::size_of::<PendingLogin>()
            + text(&self.instance)
            + text(&self.pkce_verifier)
            + text(&self.return_to)
            + text(&self.browser)
    }
}

impl<T: Weigh> Weigh for Arc<T> {
    fn weigh(&self) -> usize {
        (**self).weigh()
    }
}

impl Weigh for () {
    fn weigh(&self) -> usize {
        0
    }
}

impl Weigh for domain::usage::Context {
    fn weigh(&self) -> usize {
        let sha_and_ref = |a: &str, b: &str| a.len() + b.len();
        std::mem::size_of::<domain::usage::Context>()
            + self
                .deployments
                .items
                .iter()
                .map(|d| 64 + d.environment.len() + sha_and_ref(&d.sha, &d.reference))
                .sum::<usize>()
            + self
                .pipelines
                .items
                .iter()
                .map(|p| 64 + sha_and_ref(&p.sha, &p.reference))
                .sum::<usize>()
            + self
                .merge_requests
                .items
                .iter()
                .map(|m| 64 + sha_and_ref(m.sha.as_deref().unwrap_or(""), &m.source_branch))
                .sum::<usize>()
            + self
                .branches
                .items
                .iter()
                .map(|b| 48 + sha_and_ref(&b.sha, &b.name))
                .sum::<usize>()
            + self
                .git_tags
                .items
                .iter()
                .map(|t| 48 + sha_and_ref(&t.sha, &t.name))
                .sum::<usize>()
    }
}

/// A repository's tags assessed against its project's context (see `services::usage`):
/// the verdicts, and the names each usage filter keeps.
pub struct Assessed {
    /// Unique per assessment: kept filtered selections of another one are not reused.
    pub generation: u64,
    /// The index's tag version the verdicts are of (see `IndexState::tags_version`).
    pub tags_version: u64,
    pub usage: domain::usage::RepositoryUsage,
    pub in_use: Arc<std::collections::HashSet<String>>,
    pub dead: Arc<std::collections::HashSet<String>>,
}

impl Assessed {
    pub fn new(tags_version: u64, usage: domain::usage::RepositoryUsage) -> Self {
        static GENERATION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        Assessed {
            generation: GENERATION.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            tags_version,
            in_use: Arc::new(usage.names(domain::usage::Verdict::InUse)),
            dead: Arc::new(usage.names(domain::usage::Verdict::Dead)),
            usage,
        }
    }
}

impl Weigh for Assessed {
    /// Each kept tag: its name three times (map, set) and its reasons (a few refs and SHAs).
    fn weigh(&self) -> usize {
        std::mem::size_of::<Assessed>()
            + self
                .usage
                .tags
                .iter()
                .map(|(name, u)| 3 * (name.len() + 48) + u.reasons.len() * 160)
                .sum::<usize>()
    }
}

/// The result of scanning a user's member projects for images.
#[derive(Clone, Debug)]
pub struct ProjectScan {
    pub with_images: Vec<ProjectSummary>,
    pub without_images: u64,
    pub truncated: bool,
}

impl Weigh for ProjectScan {
    fn weigh(&self) -> usize {
        std::mem::size_of::<ProjectScan>()
            + self.with_images.iter().map(Weigh::weigh).sum::<usize>()
    }
}

/// What the policy page reads from GitLab for one credential, reused for
/// `cache.access_ttl_secs` (see [`Caches::project_pages`]).
#[derive(Clone)]
pub struct ProjectPage {
    pub project: crate::gitlab::wire::Project,
    /// (id, path) of each image repository.
    pub repositories: Vec<(u64, String)>,
    /// The rules as the page shows them, or why they are not shown.
    pub rules: (Option<ProtectionRules>, Option<String>),
}

impl Weigh for ProjectPage {
    fn weigh(&self) -> usize {
        let p = &self.project;
        std::mem::size_of::<ProjectPage>()
            + text(&p.name)
            + text(&p.path_with_namespace)
            + p.description.as_deref().map_or(0, text)
            + 512 // the policy and the rest of the project's small fields
            + self
                .repositories
                .iter()
                .map(|(_, path)| 8 + std::mem::size_of::<String>() + path.len())
                .sum::<usize>()
            + self
                .rules
                .0
                .as_ref()
                .map_or(0, |r| serde_json::to_vec(r).map_or(4096, |v| v.len()))
            + self.rules.1.as_deref().map_or(0, text)
    }
}

/// Bytes → moka's per-entry weight (saturating: one entry never outweighs 4 GiB).
pub fn weight(bytes: usize) -> u32 {
    u32::try_from(bytes).unwrap_or(u32::MAX)
}

const MIB: u64 = 1024 * 1024;

/// A byte-bounded cache whose entries live `ttl`; keys weigh `key_bytes` each. With
/// moka's default policy a full cache admits a new entry only if it is asked for more often
/// than what it would push out, so a flood of one-off keys cannot evict what is in use.
fn bounded<K, V>(mib: u64, ttl: Duration, key_bytes: usize) -> Cache<K, V>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
    V: Weigh + Clone + Send + Sync + 'static,
{
    bounded_with(mib, ttl, key_bytes, EvictionPolicy::default())
}

/// [`bounded`] for entries each used once (sign-ins in progress): the oldest go first, so
/// a new entry is always admitted.
pub(crate) fn bounded_lru<K, V>(mib: u64, ttl: Duration, key_bytes: usize) -> Cache<K, V>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
    V: Weigh + Clone + Send + Sync + 'static,
{
    bounded_with(mib, ttl, key_bytes, EvictionPolicy::lru())
}

fn bounded_with<K, V>(
    mib: u64,
    ttl: Duration,
    key_bytes: usize,
    policy: EvictionPolicy,
) -> Cache<K, V>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
    V: Weigh + Clone + Send + Sync + 'static,
{
    Cache::builder()
        .max_capacity(mib * MIB)
        .eviction_policy(policy)
        .weigher(move |_k: &K, v: &V| weight(key_bytes + v.weigh()))
        .time_to_live(ttl)
        .support_invalidation_closures()
        .build()
}

/// The caches, owned by the server state.
pub struct Caches {
    /// (credential, repository id) → the repository as that credential may see it.
    pub access: Cache<(CredentialKey, u64), Arc<RepositoryHeader>>,
    /// (credential, search) → the user's projects with images.
    pub project_scans: Cache<(CredentialKey, String), Arc<ProjectScan>>,
    /// (credential, project path) → what the policy page reads from GitLab: the project with
    /// its policy, its repositories and its protection rules. All dropped when a policy, a
    /// rule or a repository is changed through us.
    pub project_pages: Cache<(CredentialKey, String), Arc<ProjectPage>>,
    /// Bearer credential → the GitLab user GitLab said it belongs to.
    pub bearer_users: Cache<CredentialKey, Arc<Viewer>>,
    /// Bearer credentials GitLab refused (401), refused without asking for a while.
    pub refused_bearers: Cache<CredentialKey, ()>,
    /// Bearer credentials GitLab accepted in the last minutes: checking them again is not
    /// held to the server-wide rate for unknown tokens (GitLab still decides each time).
    pub accepted_bearers: Cache<CredentialKey, ()>,
    /// (credential, project id) → the project's CI context as that credential could read
    /// it (`usage.ttl_secs`).
    pub ci_contexts: Cache<(CredentialKey, u64), Arc<domain::usage::Context>>,
    /// (credential, repository id) → its tags assessed against that context.
    pub usages: Cache<(CredentialKey, u64), Arc<Assessed>>,
    /// Credential → its JSON API request rate.
    api_rates: Rate,
}

/// Rate limiters kept in process for keys seen in the last minutes (each is a few dozen
/// bytes).
const MAX_LOCAL_RATES: u64 = 200_000;

/// A rate per key: `per_minute` requests on average with a minute's worth of burst (GCRA).
/// With Redis it holds for the whole deployment (see `shared`); without, or while Redis
/// does not answer, for this process.
pub struct Rate {
    name: &'static str,
    per_minute: u32,
    local: moka::sync::Cache<String, Arc<DefaultDirectRateLimiter>>,
    redis: Option<Redis>,
}

impl Rate {
    pub fn new(redis: Option<Redis>, name: &'static str, per_minute: u32) -> Self {
        Rate {
            name,
            per_minute: per_minute.max(1),
            // A limiter idle for more than a minute is full again: dropping it loses nothing.
            local: moka::sync::Cache::builder()
                .max_capacity(MAX_LOCAL_RATES)
                .time_to_idle(Duration::from_secs(90))
                .build(),
            redis,
        }
    }

    fn check_locally(&self, key: &str) -> Result<(), Duration> {
        let per_minute = NonZeroU32::new(self.per_minute).unwrap_or(NonZeroU32::MIN);
        let limiter = self.local.get_with(key.to_string(), || {
            Arc::new(RateLimiter::direct(Quota::per_minute(per_minute)))
        });
        limiter.check().map_err(|not_until| {
            not_until.wait_time_from(governor::clock::Clock::now(
                &governor::clock::DefaultClock::default(),
            ))
        })
    }

    /// Counts one request of `key`; `Err(wait)` when over the rate.
    pub async fn check(&self, key: &str) -> Result<(), Duration> {
        let Some(redis) = &self.redis else {
            return self.check_locally(key);
        };
        let shared_key = redis.key("rate", &format!("{}:{key}", self.name));
        match redis
            .admit(&shared_key, self.per_minute, self.per_minute)
            .await
        {
            Ok(None) => Ok(()),
            Ok(Some(wait)) => Err(wait),
            Err(error) => {
                tracing::warn!(%error, rate = self.name, "shared rate unavailable; counting in \
                    this process");
                self.check_locally(key)
            }
        }
    }

    /// Waits until one request of `key` is allowed, and counts it.
    pub async fn until_ready(&self, key: &str) {
        while let Err(wait) = self.check(key).await {
            tokio::time::sleep(wait.max(Duration::from_millis(1))).await;
        }
    }
}

impl Caches {
    /// `api_per_minute`: JSON API requests one credential may make per minute.
    pub fn new(
        settings: &CacheSettings,
        usage: &UsageSettings,
        api_per_minute: u32,
        redis: Option<Redis>,
    ) -> Self {
        let key = std::mem::size_of::<(CredentialKey, u64)>();
        let usage_ttl = Duration::from_secs(usage.ttl_secs);
        Caches {
            ci_contexts: bounded(usage.cache_mib, usage_ttl, key),
            usages: bounded(usage.cache_mib, usage_ttl, key),
            api_rates: Rate::new(redis, "api", api_per_minute),
            access: bounded(
                settings.access_mib,
                Duration::from_secs(settings.access_ttl_secs),
                key,
            ),
            project_scans: bounded(settings.projects_mib, PROJECT_SCAN_TTL, key + 64),
            project_pages: bounded(
                settings.projects_mib,
                Duration::from_secs(settings.access_ttl_secs),
                key + 64,
            ),
            bearer_users: bounded(
                settings.users_mib,
                Duration::from_secs(settings.users_ttl_secs),
                key,
            ),
            refused_bearers: bounded(1, Duration::from_secs(settings.users_ttl_secs), key),
            accepted_bearers: bounded(1, ACCEPTED_BEARER_TTL, key),
        }
    }

    /// Drops every cached answer for a credential (GitLab refused it, or its sign-in ended).
    pub async fn forget_credential(&self, credential: CredentialKey) {
        // Only fails when invalidation closures are not enabled, which `bounded` does.
        let _ = self
            .access
            .invalidate_entries_if(move |(c, _), _| *c == credential);
        let _ = self
            .project_scans
            .invalidate_entries_if(move |(c, _), _| *c == credential);
        let _ = self
            .project_pages
            .invalidate_entries_if(move |(c, _), _| *c == credential);
        let _ = self
            .ci_contexts
            .invalidate_entries_if(move |(c, _), _| *c == credential);
        let _ = self
            .usages
            .invalidate_entries_if(move |(c, _), _| *c == credential);
        self.bearer_users.invalidate(&credential).await;
    }

    /// Counts one JSON API request of a credential; over its rate, the answer is a 429
    /// with the time until the next request is allowed.
    pub async fn admit_api_request(&self, credential: CredentialKey) -> Result<(), AppError> {
        self.api_rates
            .check(&hex::encode(credential.0))
            .await
            .map_err(|wait| AppError::RateLimited {
                retry_after_secs: wait.as_secs().max(1),
            })
    }

    /// Drops every credential's access check of a repository (it was changed or deleted).
    pub fn forget_repository(&self, repository_id: u64) {
        let _ = self
            .access
            .invalidate_entries_if(move |(_, r), _| *r == repository_id);
    }

    /// Drops every policy page's reads (a policy, a rule or a repository changed through us).
    /// All of them: a page may be cached under the project's path in any case or under its
    /// id, and such changes are rare.
    pub fn forget_project_pages(&self) {
        self.project_pages.invalidate_all();
    }

    /// Bytes held by all these caches (for metrics).
    pub fn weighted_size(&self) -> u64 {
        self.access.weighted_size()
            + self.project_scans.weighted_size()
            + self.project_pages.weighted_size()
            + self.bearer_users.weighted_size()
            + self.refused_bearers.weighted_size()
            + self.accepted_bearers.weighted_size()
            + self.ci_contexts.weighted_size()
            + self.usages.weighted_size()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn caches_stay_within_their_byte_bound() {
        let cache: Cache<u64, Arc<String>> = bounded(1, Duration::from_secs(60), 8);
        for i in 0..10_000u64 {
            cache.insert(i, Arc::new("x".repeat(1_000))).await;
        }
        cache.run_pending_tasks().await;
        assert!(cache.weighted_size() <= MIB, "{}", cache.weighted_size());
        assert!(cache.entry_count() < 1_100);
    }

    #[tokio::test]
    async fn forgetting_a_credential_drops_only_its_entries() {
        let caches = Caches::new(
            &CacheSettings::default(),
            &UsageSettings::default(),
            600,
            None,
        );
        let (a, b) = (CredentialKey([1; 16]), CredentialKey([2; 16]));
        let header = |id| {
            Arc::new(RepositoryHeader {
                id,
                name: String::new(),
                path: "p".into(),
                location: "l".into(),
                project_id: 1,
                project_path: "p".into(),
                project_name: "p".into(),
                tags_count: None,
                status: None,
                cleanup_status: domain::CleanupStatus::Unscheduled,
                access: domain::AccessLevel::Developer,
                can_delete_repository: false,
                protection_rule_exists: false,
            })
        };
        caches.access.insert((a, 1), header(1)).await;
        caches.access.insert((b, 1), header(1)).await;
        caches.forget_credential(a).await;
        caches.access.run_pending_tasks().await;
        assert!(caches.access.get(&(a, 1)).await.is_none());
        assert!(caches.access.get(&(b, 1)).await.is_some());
    }
}
