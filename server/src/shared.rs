//! State shared by replicas, in Redis (configuration `redis_url`): the connection and the
//! few primitives everything shared is built from.
//!
//! - **Connection**: one multiplexed connection per process (`ConnectionManager`), opened
//!   lazily and reopened after a failure, so a process starts while Redis is down and
//!   recovers when it returns. Every command has a short deadline: a Redis that stops
//!   answering turns into an error within [`RESPONSE_TIMEOUT`], never a hung request.
//! - **Keys**: `<prefix>:<kind>:<id>`, each with a TTL, so nothing outlives its use even if
//!   a replica dies half way.
//! - **Locks** ([`Redis::lock`]): `SET key token NX PX ttl`, released by a script that deletes
//!   the key only if it still holds this holder's random token, so a holder whose lock
//!   expired can never release the next holder's.
//! - **Rates** ([`Redis::admit`]): GCRA in one script. The key holds the theoretical arrival
//!   time (TAT) in milliseconds of Redis' own clock (replicas' clocks never matter): a
//!   request at `now` is admitted when `max(TAT, now) - now <= tolerance` (tolerance =
//!   interval × (burst − 1)), and then moves TAT on by one interval; otherwise the answer
//!   is how long to wait. This is the algorithm `governor` uses in process, so a budget
//!   means the same with or without Redis, only deployment-wide.

use crate::config::RedisSettings;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, Script};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

/// Longest wait for one Redis command.
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);
/// Longest wait for a new connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// A failed Redis command, said without the URL (which may hold a password).
#[derive(Debug, Clone, thiserror::Error)]
#[error("Redis: {0}")]
pub struct SharedError(String);

impl From<serde_json::Error> for SharedError {
    fn from(error: serde_json::Error) -> Self {
        SharedError(format!("unreadable value: {error}"))
    }
}

impl From<redis::RedisError> for SharedError {
    fn from(error: redis::RedisError) -> Self {
        // The client's message names the failure (a refused connection, a timeout, a script
        // error), never the URL.
        SharedError(error.to_string())
    }
}

/// The process's handle on Redis (cheap to clone).
#[derive(Clone)]
pub struct Redis {
    connection: ConnectionManager,
    prefix: Arc<str>,
}

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redis")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"if redis.call('GET', KEYS[1]) == ARGV[1] then
            return redis.call('DEL', KEYS[1])
          end
          return 0",
    )
});

static GCRA: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"local interval = tonumber(ARGV[1])
          local tolerance = tonumber(ARGV[2])
          local t = redis.call('TIME')
          local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
          local tat = tonumber(redis.call('GET', KEYS[1]) or now)
          if tat < now then tat = now end
          if tat - now > tolerance then
            return tat - now - tolerance
          end
          local next = tat + interval
          redis.call('SET', KEYS[1], tostring(next), 'PX', next - now + 1000)
          return 0",
    )
});

impl Redis {
    /// A handle that connects on first use (the process starts even while Redis is down).
    pub fn new(settings: &RedisSettings) -> Result<Self, SharedError> {
        let client = redis::Client::open(settings.url.as_str())?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        Ok(Redis {
            connection: ConnectionManager::new_lazy_with_config(client, config)?,
            prefix: settings.prefix.as_str().into(),
        })
    }

    /// The full key of `kind` and `id`.
    pub fn key(&self, kind: &str, id: &str) -> String {
        format!("{}:{kind}:{id}", self.prefix)
    }

    /// A connection to send commands on (multiplexed: cloning is cheap).
    pub fn connection(&self) -> ConnectionManager {
        self.connection.clone()
    }

    /// Whether Redis answers.
    pub async fn ping(&self) -> Result<(), SharedError> {
        let mut connection = self.connection();
        let _: String = redis::cmd("PING").query_async(&mut connection).await?;
        Ok(())
    }

    /// Takes the lock `key` for at most `ttl`, waiting up to `wait` for another holder to
    /// release it. `Ok(None)`: still held by someone else after `wait`.
    pub async fn lock(
        &self,
        key: &str,
        ttl: Duration,
        wait: Duration,
    ) -> Result<Option<RedisLock>, SharedError> {
        let token = random_token();
        let deadline = tokio::time::Instant::now() + wait;
        let mut connection = self.connection();
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        loop {
            let taken: Option<String> = redis::cmd("SET")
                .arg(key)
                .arg(&token)
                .arg("NX")
                .arg("PX")
                .arg(ttl_ms)
                .query_async(&mut connection)
                .await?;
            if taken.is_some() {
                return Ok(Some(RedisLock {
                    redis: self.clone(),
                    key: key.to_string(),
                    token,
                }));
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(None);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// One request against the rate `key` allows (see the module docs). `Ok(None)`:
    /// admitted; `Ok(Some(wait))`: not before `wait`.
    pub async fn admit(
        &self,
        key: &str,
        per_minute: u32,
        burst: u32,
    ) -> Result<Option<Duration>, SharedError> {
        let interval = 60_000 / u64::from(per_minute.max(1));
        let tolerance = interval * u64::from(burst.max(1) - 1);
        let mut connection = self.connection();
        let wait_ms: u64 = GCRA
            .key(key)
            .arg(interval.max(1))
            .arg(tolerance)
            .invoke_async(&mut connection)
            .await?;
        Ok((wait_ms > 0).then(|| Duration::from_millis(wait_ms)))
    }

    /// Milliseconds since the epoch by Redis' clock (the clock all replicas share).
    pub async fn now_ms(&self) -> Result<i64, SharedError> {
        let mut connection = self.connection();
        let (secs, micros): (i64, i64) = redis::cmd("TIME").query_async(&mut connection).await?;
        Ok(secs * 1000 + micros / 1000)
    }

    /// `SET key value PX ttl`.
    pub async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), SharedError> {
        let mut connection = self.connection();
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        let _: () = connection.pset_ex(key, value, ttl_ms).await?;
        Ok(())
    }

    /// `MGET keys`: each key's value, if set.
    pub async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, SharedError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut connection = self.connection();
        Ok(redis::cmd("MGET")
            .arg(keys)
            .query_async(&mut connection)
            .await?)
    }

    /// `SET key value PX ttl` for each entry, pipelined.
    pub async fn put_many(
        &self,
        entries: &[(String, Vec<u8>)],
        ttl: Duration,
    ) -> Result<(), SharedError> {
        let mut connection = self.connection();
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        let mut pipe = redis::pipe();
        for (key, value) in entries {
            pipe.pset_ex(key, value, ttl_ms).ignore();
        }
        let _: () = pipe.query_async(&mut connection).await?;
        Ok(())
    }

    /// `GETDEL key`: the value, taken out (single use).
    pub async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, SharedError> {
        let mut connection = self.connection();
        Ok(connection.get_del(key).await?)
    }
}

static EXTEND: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"if redis.call('GET', KEYS[1]) == ARGV[1] then
            return redis.call('PEXPIRE', KEYS[1], ARGV[2])
          end
          return 0",
    )
});

/// A held Redis lock; [`RedisLock::release`] it when done (it also expires on its own).
pub struct RedisLock {
    redis: Redis,
    key: String,
    token: String,
}

impl RedisLock {
    /// Keeps the lock for `ttl` from now; `false` when it expired and is no longer this
    /// holder's.
    pub async fn extend(&self, ttl: Duration) -> Result<bool, SharedError> {
        let mut connection = self.redis.connection();
        let extended: i64 = EXTEND
            .key(&self.key)
            .arg(&self.token)
            .arg(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX))
            .invoke_async(&mut connection)
            .await?;
        Ok(extended == 1)
    }

    /// The lock's random token (scripts check it before acting for the holder).
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Releases the lock if this holder still has it.
    pub async fn release(&self) {
        let mut connection = self.redis.connection();
        let released: Result<i64, _> = RELEASE
            .key(&self.key)
            .arg(&self.token)
            .invoke_async(&mut connection)
            .await;
        if let Err(error) = released {
            // It expires on its own; the next holder waits at most its TTL.
            tracing::warn!(error = %SharedError::from(error), "could not release a Redis lock");
        }
    }
}

/// 128 random bits, hex.
pub fn random_token() -> String {
    let mut bytes = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut bytes);
    hex::encode(bytes)
}
