//! Tag indexes shared by replicas through Redis: one replica builds, the others read.
//!
//! Per repository, three keys (all with TTLs):
//! - a hash `index:<instance>:<repository>` with the last published snapshot: `gen` (a random
//!   id per publication), `meta` (JSON: complete, total, when the build started reading and
//!   finished, by Redis' clock), `snap` (every tag, JSON deflated: about 60 bytes a tag),
//!   `read_from`, and `expired` (when a change through any replica made the list out of
//!   date);
//! - `…:lease`: the build lease, `SET NX` with a 15 s TTL the builder renews every few
//!   seconds; a replica that finds it taken follows the build instead of starting one;
//! - `…:gone`: names deleted through any replica, scored by when (Redis' clock).
//!
//! Every use of an index first [`read`]s the hash in one script (one round trip; the
//! snapshot itself only when its `gen` differs from the copy this replica holds) and
//! [`apply`]s it to the local [`TagIndex`], which stays what pages read. Deletions and
//! expiries are written to Redis before they are applied locally, so the next request on
//! any replica sees them. The builder publishes a partial snapshot every
//! [`PUBLISH_EVERY`] of a first build (others show progress and the first pages), and the
//! complete one at the end; while building it reads the same hash to pick up deletions
//! and expiries made elsewhere. Times are Redis' own, converted to local instants with
//! the Redis clock read in the same round trip, so replicas' clocks never matter.
//!
//! Access checks are never shared: every replica checks each caller's own credential
//! before it reads an index (see `services::tags`).

use super::{IndexState, TagIndex};
use crate::shared::{Redis, RedisLock, SharedError};
use domain::tags::Tag;
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use redis::Script;
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

/// A build lease lives this long unless renewed.
pub const LEASE_TTL: Duration = Duration::from_secs(15);
/// How often the builder renews its lease, publishes a first build's progress and reads
/// what other replicas changed.
pub const PUBLISH_EVERY: Duration = Duration::from_secs(2);
/// How often a replica following another's build reads its progress.
pub const FOLLOW_EVERY: Duration = Duration::from_millis(300);
/// Longest a snapshot is kept unused.
const KEEP: Duration = Duration::from_secs(24 * 3600);
/// Largest decoded snapshot accepted (a corrupt or hostile value cannot exhaust memory).
const MAX_SNAPSHOT_BYTES: u64 = 512 * 1024 * 1024;

/// `held` for a [`SharedIndexes::read`] that never wants the tags (a builder's).
pub const NO_TAGS: &str = "*";

/// What a snapshot says besides its tags.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Meta {
    pub complete: bool,
    pub total: Option<u64>,
    /// When the build that read this list started (ms, Redis' clock).
    pub read_from: i64,
    /// When it finished (ms, Redis' clock); `None` while in progress.
    pub completed: Option<i64>,
    pub last_build_ms: Option<u64>,
    pub project_id: u64,
}

/// The shared state of one repository's index as read in one round trip.
pub struct Remote {
    /// Redis' clock now (ms).
    pub now: i64,
    /// Publication id of the snapshot (empty: none yet).
    pub gen: String,
    pub meta: Option<Meta>,
    /// When a change last made the list out of date (ms; 0: never).
    pub expired: i64,
    /// The tags, only when `gen` differs from the copy the reader holds.
    pub tags: Option<Vec<Tag>>,
    /// Names deleted since the snapshot's build started reading.
    pub gone: Vec<String>,
    /// Whether some replica holds the build lease.
    pub leased: bool,
}

static READ: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        "local t = redis.call('TIME')
          local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
          local v = redis.call('HMGET', KEYS[1], 'gen', 'meta', 'expired', 'read_from')
          local snap = ''
          if v[1] and ARGV[1] ~= '*' and v[1] ~= ARGV[1] then \
            snap = redis.call('HGET', KEYS[1], 'snap') or '' end
          local since = ARGV[2]
          if since == '' then since = v[4] or '+inf' end
          local gone = redis.call('ZRANGEBYSCORE', KEYS[2], since, '+inf')
          local leased = redis.call('EXISTS', KEYS[3])
          return {now, v[1] or '', v[2] or '', v[3] or '0', snap, gone, leased}",
    )
});

static PUBLISH: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"if redis.call('GET', KEYS[3]) ~= ARGV[1] then return 0 end
          redis.call('HSET', KEYS[1], 'gen', ARGV[2], 'meta', ARGV[3], 'snap', ARGV[4],
                     'read_from', ARGV[5])
          redis.call('PEXPIRE', KEYS[1], ARGV[6])
          if ARGV[7] == '1' then
            redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[5])
          end
          redis.call('SADD', KEYS[4], ARGV[8])
          redis.call('PEXPIRE', KEYS[4], ARGV[6])
          return 1",
    )
});

static FORGET: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"local t = redis.call('TIME')
          local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
          for i = 2, #ARGV do redis.call('ZADD', KEYS[1], now, ARGV[i]) end
          redis.call('PEXPIRE', KEYS[1], ARGV[1])
          return now",
    )
});

static EXPIRE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"local t = redis.call('TIME')
          local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
          for i = 1, #KEYS do
            redis.call('HSET', KEYS[i], 'expired', now)
            redis.call('PEXPIRE', KEYS[i], ARGV[1])
          end
          return now",
    )
});

fn ms(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Encodes tags for Redis: JSON, deflated.
pub fn encode(tags: &[&Tag]) -> Result<Vec<u8>, SharedError> {
    let mut encoder = DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
    serde_json::to_writer(&mut encoder, tags)?;
    encoder
        .finish()
        .map_err(|e| SharedError::from(serde_json::Error::io(e)))
}

/// Decodes what [`encode`] wrote.
pub fn decode(bytes: &[u8]) -> Result<Vec<Tag>, SharedError> {
    let mut json = Vec::new();
    DeflateDecoder::new(bytes)
        .take(MAX_SNAPSHOT_BYTES)
        .read_to_end(&mut json)
        .map_err(|e| SharedError::from(serde_json::Error::io(e)))?;
    Ok(serde_json::from_slice(&json)?)
}

/// The shared side of every index (see the module docs).
#[derive(Clone, Debug)]
pub struct SharedIndexes {
    redis: Redis,
}

impl SharedIndexes {
    pub fn new(redis: Redis) -> Self {
        SharedIndexes { redis }
    }

    fn base(&self, instance: &str, repository: u64) -> String {
        self.redis.key("index", &format!("{instance}:{repository}"))
    }

    fn project_key(&self, instance: &str, project: u64) -> String {
        self.redis
            .key("index-project", &format!("{instance}:{project}"))
    }

    /// Reads the shared state; the snapshot's tags only if its publication is not `held`
    /// ([`NO_TAGS`]: never); names deleted since `since` (ms; default: since the snapshot's
    /// build started).
    pub async fn read(
        &self,
        instance: &str,
        repository: u64,
        held: Option<&str>,
        since: Option<i64>,
    ) -> Result<Remote, SharedError> {
        let base = self.base(instance, repository);
        let mut connection = self.redis.connection();
        type Answer = (i64, String, String, String, Vec<u8>, Vec<String>, i64);
        let (now, gen, meta, expired, snap, gone, leased): Answer = READ
            .key(&base)
            .key(format!("{base}:gone"))
            .key(format!("{base}:lease"))
            .arg(held.unwrap_or(""))
            .arg(since.map(|s| s.to_string()).unwrap_or_default())
            .invoke_async(&mut connection)
            .await?;
        let meta: Option<Meta> = if meta.is_empty() {
            None
        } else {
            Some(serde_json::from_str(&meta)?)
        };
        let tags = if snap.is_empty() {
            None
        } else {
            Some(decode(&snap)?)
        };
        Ok(Remote {
            now,
            gen,
            meta,
            expired: expired.parse().unwrap_or(0),
            tags,
            gone,
            leased: leased == 1,
        })
    }

    /// Takes the build lease of a repository; `None` when another replica holds it.
    pub async fn lease(
        &self,
        instance: &str,
        repository: u64,
    ) -> Result<Option<RedisLock>, SharedError> {
        let key = format!("{}:lease", self.base(instance, repository));
        self.redis.lock(&key, LEASE_TTL, Duration::ZERO).await
    }

    /// Redis' clock (ms): when a build starts reading.
    pub async fn now(&self) -> Result<i64, SharedError> {
        self.redis.now_ms().await
    }

    /// Publishes a snapshot (tags [`encode`]d), if `lease` is still held; returns the
    /// publication id (`None`: the lease was lost, nothing was written).
    pub async fn publish(
        &self,
        instance: &str,
        repository: u64,
        lease: &RedisLock,
        meta: &Meta,
        snap: Vec<u8>,
    ) -> Result<Option<String>, SharedError> {
        let base = self.base(instance, repository);
        let gen = crate::shared::random_token();
        let mut connection = self.redis.connection();
        let done: i64 = PUBLISH
            .key(&base)
            .key(format!("{base}:gone"))
            .key(format!("{base}:lease"))
            .key(self.project_key(instance, meta.project_id))
            .arg(lease.token())
            .arg(&gen)
            .arg(serde_json::to_string(meta)?)
            .arg(snap)
            .arg(meta.read_from)
            .arg(ms(KEEP))
            .arg(if meta.complete { "1" } else { "0" })
            .arg(repository)
            .invoke_async(&mut connection)
            .await?;
        Ok((done == 1).then_some(gen))
    }

    /// Records that `names` were deleted (every replica drops them from its copy).
    pub async fn forget(
        &self,
        instance: &str,
        repository: u64,
        names: &[String],
    ) -> Result<(), SharedError> {
        if names.is_empty() {
            return Ok(());
        }
        let mut connection = self.redis.connection();
        let mut call = FORGET.key(format!("{}:gone", self.base(instance, repository)));
        call.arg(ms(KEEP));
        for name in names {
            call.arg(name);
        }
        let _: i64 = call.invoke_async(&mut connection).await?;
        Ok(())
    }

    /// Marks repositories' lists out of date on every replica.
    pub async fn expire(&self, instance: &str, repositories: &[u64]) -> Result<(), SharedError> {
        if repositories.is_empty() {
            return Ok(());
        }
        let mut connection = self.redis.connection();
        let mut call = EXPIRE.prepare_invoke();
        for repository in repositories {
            call.key(self.base(instance, *repository));
        }
        call.arg(ms(KEEP));
        let _: i64 = call.invoke_async(&mut connection).await?;
        Ok(())
    }

    /// Marks every shared index of a project out of date.
    pub async fn expire_project(&self, instance: &str, project: u64) -> Result<(), SharedError> {
        let mut connection = self.redis.connection();
        let repositories: Vec<u64> =
            redis::AsyncCommands::smembers(&mut connection, self.project_key(instance, project))
                .await?;
        self.expire(instance, &repositories).await
    }
}

/// A local instant for a time `ago_ms` before now.
fn instant_ago(ago_ms: i64) -> Instant {
    let ago = Duration::from_millis(u64::try_from(ago_ms).unwrap_or(0));
    Instant::now().checked_sub(ago).unwrap_or_else(Instant::now)
}

/// Brings the local copy in line with what was read (nothing while this replica builds:
/// its own build is the newer truth; the builder picks up deletions and expiries itself).
/// Returns whether the local copy was replaced by a snapshot.
pub fn apply(index: &TagIndex, remote: Remote) -> bool {
    index.write(|state| {
        if state.building {
            return false;
        }
        let Some(meta) = remote.meta else {
            return false;
        };
        // A partial list never replaces a complete one this replica still holds (the shared
        // copy expired, say, and another replica's first build is under way).
        let tags = remote.tags.filter(|_| meta.complete || !state.complete);
        let replaced = match tags {
            Some(tags) => {
                state.tags = tags
                    .into_iter()
                    .map(|t| (t.name.clone(), Arc::new(t)))
                    .collect();
                state.fresh = None;
                state.shared_gen = Some(remote.gen);
                state.total = meta.total;
                state.complete = meta.complete;
                state.last_build = meta.last_build_ms.map(Duration::from_millis);
                state.project_id = meta.project_id;
                state.error = None;
                true
            }
            None => false,
        };
        let mut removed = false;
        if state.shared_gen.is_some() {
            state.list_read_from = Some(instant_ago(remote.now - meta.read_from));
            let current = meta.complete && remote.expired < meta.read_from;
            state.completed_at = meta
                .completed
                .filter(|_| current)
                .map(|at| instant_ago(remote.now - at));
            for name in &remote.gone {
                removed |= state.tags.remove(name).is_some();
            }
            if state.complete {
                state.total = Some(state.tags.len() as u64);
            }
        }
        // Counting the heap walks every tag: only when the list changed, not on every read.
        if replaced || removed {
            state.heap = state.entries_heap();
            state.tags_version += 1;
        }
        replaced
    })
}

/// The tags a builder publishes: the list being built, or for a rebuild the new list.
pub fn publishable(state: &IndexState) -> Vec<&Tag> {
    state
        .fresh
        .as_ref()
        .unwrap_or(&state.tags)
        .values()
        .map(|t| &**t)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_round_trip_and_are_compact() {
        let tags: Vec<Tag> = (0..1000)
            .map(|i| Tag {
                name: format!("v1.{i}.0"),
                digest: Some(format!("sha256:{:064x}", i * 7919)),
                revision: Some(format!("sha256:{:064x}", i * 104_729)),
                created_at: Some(1_700_000_000 + i),
                published_at: None,
                total_size: Some(10_000_000 + i as u64),
                media_type: Some("application/vnd.oci.image.manifest.v1+json".into()),
                referrers: Vec::new(),
                protection: None,
            })
            .collect();
        let refs: Vec<&Tag> = tags.iter().collect();
        let bytes = encode(&refs).unwrap_or_default();
        assert!(bytes.len() < 1000 * 200, "{} bytes", bytes.len());
        assert_eq!(decode(&bytes).ok(), Some(tags));
        assert!(decode(b"not deflate").is_err());
    }
}
