//! The in-memory session store: bounded, idle-expiring, and never resurrecting a session.
//!
//! Built on `moka`: at most `max_sessions` records (the least recently used go first), each
//! living `idle` after its last save or [`SessionStore::touch`]. The store decides expiry
//! itself (the cookie is a browser-session cookie), so reading a page extends a session
//! without rewriting its data: `touch` only moves the expiry, atomically, and only for a
//! record that still exists. `save` likewise only updates a record that exists; a request
//! that finishes after its session was signed out or expired cannot bring it back.

use async_trait::async_trait;
use moka::future::Cache;
use moka::ops::compute::Op;
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
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::collections::HashMap;

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
