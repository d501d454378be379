//! Sign-ins in progress, between the redirect to GitLab and the callback: kept under a
//! digest of the OAuth `state`, taken out exactly once, gone after [`PENDING_LOGIN_TTL`].
//!
//! In one process they wait in a byte-bounded LRU cache; with Redis they are keys with a
//! TTL, taken with `GETDEL`, so the callback may land on any replica and still be single
//! use. Starting sign-ins is rate limited for the whole deployment
//! (`limits.logins_per_minute`), which bounds how many can wait at once either way.

use super::records::PendingLogin;
use crate::caches::{bounded_lru, Rate};
use crate::shared::{Redis, SharedError};
use moka::future::Cache;
use std::sync::Arc;
use std::time::Duration;

/// How long a sign-in may take between the redirect to GitLab and the callback.
pub const PENDING_LOGIN_TTL: Duration = Duration::from_secs(600);

/// Why a sign-in could not start.
#[derive(Debug)]
pub enum NotStarted {
    /// Over `limits.logins_per_minute`.
    Busy,
    /// The shared store did not answer.
    Store(SharedError),
}

/// Where sign-ins in progress wait (see the module docs).
pub struct PendingLogins {
    store: Store,
    starts: Rate,
}

enum Store {
    Memory(Cache<[u8; 32], Arc<PendingLogin>>),
    Redis(Redis),
}

impl PendingLogins {
    /// `memory_mib` bounds the in-process store; `per_minute` the sign-ins started.
    pub fn new(redis: Option<Redis>, memory_mib: u64, per_minute: u32) -> Self {
        let starts = Rate::new(redis.clone(), "logins", per_minute);
        let store = match redis {
            Some(redis) => Store::Redis(redis),
            None => Store::Memory(bounded_lru(memory_mib, PENDING_LOGIN_TTL, 32)),
        };
        PendingLogins { store, starts }
    }

    fn redis_key(redis: &Redis, state_key: &[u8; 32]) -> String {
        redis.key("login", &hex::encode(state_key))
    }

    /// Remembers a sign-in that starts now.
    pub async fn put(&self, state_key: [u8; 32], login: PendingLogin) -> Result<(), NotStarted> {
        if self.starts.check("all").await.is_err() {
            return Err(NotStarted::Busy);
        }
        match &self.store {
            Store::Memory(cache) => {
                cache.insert(state_key, Arc::new(login)).await;
                Ok(())
            }
            Store::Redis(redis) => {
                let value = serde_json::to_vec(&login)
                    .map_err(|e| NotStarted::Store(SharedError::from(e)))?;
                redis
                    .put(
                        &Self::redis_key(redis, &state_key),
                        &value,
                        PENDING_LOGIN_TTL,
                    )
                    .await
                    .map_err(NotStarted::Store)
            }
        }
    }

    /// Takes the sign-in of `state_key` out (single use); `None` when unknown or expired.
    pub async fn take(&self, state_key: &[u8; 32]) -> Result<Option<PendingLogin>, SharedError> {
        match &self.store {
            Store::Memory(cache) => Ok(cache.remove(state_key).await.map(|l| (*l).clone())),
            Store::Redis(redis) => {
                let Some(value) = redis.take(&Self::redis_key(redis, state_key)).await? else {
                    return Ok(None);
                };
                Ok(Some(
                    serde_json::from_slice(&value).map_err(SharedError::from)?,
                ))
            }
        }
    }

    /// Bytes held in this process.
    pub fn weighted_size(&self) -> u64 {
        match &self.store {
            Store::Memory(cache) => cache.weighted_size(),
            Store::Redis(_) => 0,
        }
    }
}
