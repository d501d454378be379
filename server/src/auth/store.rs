//! Session stores: bounded, idle-expiring, never resurrecting a session, and never losing
//! a token refresh to a request that holds an older copy.
//!
//! - [`MemoryStore`] (one process): built on `moka`, at most `max_sessions` records (the
//!   least recently used go first), each living `idle` after its last save or touch.
//! - [`RedisStore`] (several replicas, configuration `redis_url`): a session is a Redis hash,
//!   one field per session key (its JSON value), with a TTL of `idle`. Any replica serves
//!   any request, and sessions survive restarts.
//!
//! Both decide expiry themselves (the cookie is a browser-session cookie), so reading a page
//! extends a session without rewriting its data: [`Sessions::touch`] only moves the expiry,
//! and only for a record that still exists. `save` likewise only updates a record that
//! exists, so a request that finishes after its session was signed out or expired cannot
//! bring it back. A token refresh changes one field in place ([`Sessions::set_field`]),
//! atomically and only in a live record, instead of saving the whole session: no request
//! ever writes back the rest of a session it read earlier.

use crate::shared::{Redis, SharedError};
use async_trait::async_trait;
use moka::future::Cache;
use moka::ops::compute::Op;
use redis::Script;
use std::collections::HashMap;
use std::sync::LazyLock;
use std::time::{Duration, Instant};
use tower_sessions_core::session::{Id, Record};
use tower_sessions_core::session_store::{self, SessionStore};

/// Sessions in memory.
#[derive(Clone, Debug)]
pub struct MemoryStore {
    cache: Cache<Id, Record>,
    idle: Duration,
}

/// Per-entry expiry: `idle` after creation and after every update.
struct IdleExpiry(Duration);

impl moka::Expiry<Id, Record> for IdleExpiry {
    fn expire_after_create(&self, _: &Id, _: &Record, _: Instant) -> Option<Duration> {
        Some(self.0)
    }

    fn expire_after_update(
        &self,
        _: &Id,
        _: &Record,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(self.0)
    }
}

impl MemoryStore {
    pub fn new(max_sessions: u64, idle: Duration) -> Self {
        MemoryStore {
            // The least recently used session goes first: a new sign-in is always kept.
            cache: Cache::builder()
                .max_capacity(max_sessions)
                .eviction_policy(moka::policy::EvictionPolicy::lru())
                .expire_after(IdleExpiry(idle))
                .build(),
            idle,
        }
    }

    /// Extends a live session's idle expiry; does nothing for one that is gone.
    pub async fn touch(&self, id: &Id) {
        let until = time::OffsetDateTime::now_utc() + self.idle;
        self.cache
            .entry(*id)
            .and_compute_with(|current| async move {
                match current {
                    Some(entry) => {
                        let mut record = entry.into_value();
                        record.expiry_date = until;
                        Op::Put(record)
                    }
                    None => Op::Nop,
                }
            })
            .await;
    }

    /// Sessions held now.
    pub async fn count(&self) -> u64 {
        self.cache.run_pending_tasks().await;
        self.cache.entry_count()
    }

    /// Sets one key of a live session (see the module docs).
    async fn set_field(&self, id: &Id, key: &str, value: serde_json::Value) {
        let key = key.to_string();
        self.cache
            .entry(*id)
            .and_compute_with(|current| async move {
                match current {
                    Some(entry) => {
                        let mut record = entry.into_value();
                        match value {
                            serde_json::Value::Null => record.data.remove(&key),
                            value => record.data.insert(key, value),
                        };
                        Op::Put(record)
                    }
                    None => Op::Nop,
                }
            })
            .await;
    }
}

/// The marker field every Redis session hash holds, so a session without data still exists.
const MARKER: &str = "\u{0}";

static CREATE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
          redis.call('HSET', KEYS[1], unpack(ARGV, 2))
          redis.call('PEXPIRE', KEYS[1], ARGV[1])
          return 1",
    )
});

static REPLACE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
          redis.call('DEL', KEYS[1])
          redis.call('HSET', KEYS[1], unpack(ARGV, 2))
          redis.call('PEXPIRE', KEYS[1], ARGV[1])
          return 1",
    )
});

static SET_FIELD: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
          if ARGV[2] == '' then
            redis.call('HDEL', KEYS[1], ARGV[1])
          else
            redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
          end
          return 1",
    )
});

/// Sessions in Redis (see the module docs).
#[derive(Clone, Debug)]
pub struct RedisStore {
    redis: Redis,
    idle: Duration,
}

fn store_error(error: SharedError) -> session_store::Error {
    session_store::Error::Backend(error.to_string())
}

impl RedisStore {
    pub fn new(redis: Redis, idle: Duration) -> Self {
        RedisStore { redis, idle }
    }

    fn key(&self, id: &Id) -> String {
        self.redis.key("session", &id.to_string())
    }

    fn idle_ms(&self) -> u64 {
        u64::try_from(self.idle.as_millis()).unwrap_or(u64::MAX)
    }

    /// `[idle ms, field, value, field, value, …]` for the create and replace scripts.
    fn arguments(&self, record: &Record) -> session_store::Result<Vec<Vec<u8>>> {
        let mut args = vec![self.idle_ms().to_string().into_bytes()];
        args.push(MARKER.as_bytes().to_vec());
        args.push(b"1".to_vec());
        for (field, value) in &record.data {
            args.push(field.as_bytes().to_vec());
            args.push(
                serde_json::to_vec(value)
                    .map_err(|e| session_store::Error::Encode(e.to_string()))?,
            );
        }
        Ok(args)
    }

    async fn run(
        &self,
        script: &Script,
        id: &Id,
        args: Vec<Vec<u8>>,
    ) -> session_store::Result<bool> {
        let mut connection = self.redis.connection();
        let mut invocation = script.key(self.key(id));
        for arg in args {
            invocation.arg(arg);
        }
        let done: i64 = invocation
            .invoke_async(&mut connection)
            .await
            .map_err(|e| store_error(e.into()))?;
        Ok(done == 1)
    }
}

#[async_trait]
impl SessionStore for RedisStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        record.expiry_date = time::OffsetDateTime::now_utc() + self.idle;
        loop {
            let args = self.arguments(record)?;
            if self.run(&CREATE, &record.id, args).await? {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let args = self.arguments(record)?;
        self.run(&REPLACE, &record.id, args).await?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let mut connection = self.redis.connection();
        let fields: HashMap<String, Vec<u8>> =
            redis::AsyncCommands::hgetall(&mut connection, self.key(id))
                .await
                .map_err(|e| store_error(e.into()))?;
        if fields.is_empty() {
            return Ok(None);
        }
        let mut data = HashMap::new();
        for (field, value) in fields {
            if field == MARKER {
                continue;
            }
            let value = serde_json::from_slice(&value)
                .map_err(|e| session_store::Error::Decode(e.to_string()))?;
            data.insert(field, value);
        }
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date: time::OffsetDateTime::now_utc() + self.idle,
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        let mut connection = self.redis.connection();
        let _: i64 = redis::AsyncCommands::del(&mut connection, self.key(id))
            .await
            .map_err(|e| store_error(e.into()))?;
        Ok(())
    }
}

/// The configured session store.
#[derive(Clone, Debug)]
pub enum Sessions {
    Memory(MemoryStore),
    Redis(RedisStore),
}

impl Sessions {
    /// Extends a live session's idle expiry; does nothing for one that is gone.
    pub async fn touch(&self, id: &Id) -> session_store::Result<()> {
        match self {
            Sessions::Memory(store) => {
                store.touch(id).await;
                Ok(())
            }
            Sessions::Redis(store) => {
                let mut connection = store.redis.connection();
                let _: i64 = redis::AsyncCommands::pexpire(
                    &mut connection,
                    store.key(id),
                    i64::try_from(store.idle_ms()).unwrap_or(i64::MAX),
                )
                .await
                .map_err(|e| store_error(e.into()))?;
                Ok(())
            }
        }
    }

    /// Sets (`Some`) or removes (`None`) one key of a live session, atomically, leaving the
    /// others as they are in the store; does nothing for a session that is gone.
    pub async fn set_field(
        &self,
        id: &Id,
        key: &str,
        value: Option<serde_json::Value>,
    ) -> session_store::Result<()> {
        match self {
            Sessions::Memory(store) => {
                store
                    .set_field(id, key, value.unwrap_or(serde_json::Value::Null))
                    .await;
                Ok(())
            }
            Sessions::Redis(store) => {
                let encoded = match value {
                    Some(value) => serde_json::to_vec(&value)
                        .map_err(|e| session_store::Error::Encode(e.to_string()))?,
                    None => Vec::new(),
                };
                store
                    .run(&SET_FIELD, id, vec![key.as_bytes().to_vec(), encoded])
                    .await?;
                Ok(())
            }
        }
    }

    /// Sessions held now (`None`: not counted, as in Redis, where it would cost a scan).
    pub async fn count(&self) -> Option<u64> {
        match self {
            Sessions::Memory(store) => Some(store.count().await),
            Sessions::Redis(_) => None,
        }
    }
}

#[async_trait]
impl SessionStore for Sessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match self {
            Sessions::Memory(store) => store.create(record).await,
            Sessions::Redis(store) => store.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            Sessions::Memory(store) => store.save(record).await,
            Sessions::Redis(store) => store.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            Sessions::Memory(store) => store.load(id).await,
            Sessions::Redis(store) => store.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            Sessions::Memory(store) => store.delete(id).await,
            Sessions::Redis(store) => store.delete(id).await,
        }
    }
}

#[async_trait]
impl SessionStore for MemoryStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        record.expiry_date = time::OffsetDateTime::now_utc() + self.idle;
        loop {
            let candidate = record.clone();
            let inserted = self
                .cache
                .entry(record.id)
                .or_insert_with(async { candidate })
                .await;
            if inserted.is_fresh() {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let mut updated = record.clone();
        updated.expiry_date = time::OffsetDateTime::now_utc() + self.idle;
        self.cache
            .entry(record.id)
            .and_compute_with(|current| async move {
                match current {
                    Some(_) => Op::Put(updated),
                    None => Op::Nop,
                }
            })
            .await;
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        Ok(self.cache.get(id).await)
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.cache.invalidate(id).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> Record {
        Record {
            id: Id::default(),
            data: HashMap::new(),
            expiry_date: time::OffsetDateTime::now_utc(),
        }
    }

    #[tokio::test]
    async fn a_deleted_session_is_not_saved_back() {
        let store = MemoryStore::new(100, Duration::from_secs(60));
        let mut r = record();
        store.create(&mut r).await.unwrap();
        assert!(store.load(&r.id).await.unwrap().is_some());
        store.delete(&r.id).await.unwrap();
        store.save(&r).await.unwrap();
        store.touch(&r.id).await;
        assert!(store.load(&r.id).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn sessions_idle_out_and_the_store_stays_bounded() {
        let store = MemoryStore::new(50, Duration::from_millis(200));
        let mut kept = record();
        store.create(&mut kept).await.unwrap();
        for _ in 0..500 {
            store.create(&mut record()).await.unwrap();
        }
        let count = store.count().await;
        assert!(count <= 50, "{count}");
        let mut idle = record();
        store.create(&mut idle).await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(store.load(&idle.id).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn touching_extends_a_session() {
        let store = MemoryStore::new(10, Duration::from_millis(300));
        let mut r = record();
        store.create(&mut r).await.unwrap();
        for _ in 0..4 {
            tokio::time::sleep(Duration::from_millis(150)).await;
            store.touch(&r.id).await;
        }
        assert!(store.load(&r.id).await.unwrap().is_some());
    }
}
