//! A Redis [`SessionStore`] for sesi.
//!
//! Sessions are kept under `<prefix><id hex>` with the session's idle timeout as their time-to-live
//! (`SET key value PX ttl`); locks under `<prefix>lock:<id hex>` with `SET NX PX` and released by a
//! compare-and-delete script, so a lock is only ever removed by its holder and a crashed server's
//! lock ends with its lease. The connection is redis-rs's `ConnectionManager`, which reconnects in
//! the background after Redis restarts; every command also has a response timeout.
//!
//! ```no_run
//! # async fn run() -> Result<(), sesi_core::store::StoreError> {
//! use sesi_redis::RedisStore;
//! let store = RedisStore::connect("redis://127.0.0.1:6379/0").await?;
//! # let _ = store; Ok(()) }
//! ```

use std::fmt;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, Script};
use sesi_core::store::{BoxFuture, LockToken, SessionId, SessionStore, StoreError};

/// Default key prefix.
pub const DEFAULT_PREFIX: &str = "sesi:";

/// How long one Redis command may take before it fails.
pub const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_secs(1);

/// Sessions in Redis. Cheap to clone; clones share one multiplexed connection.
#[derive(Clone)]
pub struct RedisStore {
    connection: ConnectionManager,
    prefix: String,
    unlock: Script,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn unavailable(err: redis::RedisError) -> StoreError {
    StoreError::Unavailable(Box::new(err))
}

impl RedisStore {
    /// Connects to `url` (`redis://HOST:PORT/DB`), with the default prefix and timeouts.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the URL is invalid or Redis cannot be reached now.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(url, DEFAULT_PREFIX, DEFAULT_RESPONSE_TIMEOUT).await
    }

    /// Connects with a key prefix and a per-command timeout.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the URL is invalid or Redis cannot be reached now.
    pub async fn connect_with(
        url: &str,
        prefix: &str,
        response_timeout: Duration,
    ) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(unavailable)?;
        let config = ConnectionManagerConfig::new()
            .set_response_timeout(response_timeout)
            .set_connection_timeout(response_timeout)
            // Retry a reconnect a few times, quickly, then give up until the next command.
            .set_number_of_retries(2)
            .set_max_delay(200);
        let connection = client
            .get_connection_manager_with_config(config)
            .await
            .map_err(unavailable)?;
        Ok(RedisStore {
            connection,
            prefix: prefix.to_owned(),
            unlock: Script::new(
                "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end",
            ),
        })
    }

    fn key(&self, id: SessionId) -> String {
        format!("{}{}", self.prefix, id.to_hex())
    }

    fn lock_key(&self, id: SessionId) -> String {
        format!("{}lock:{}", self.prefix, id.to_hex())
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl SessionStore for RedisStore {
    fn load(&self, id: SessionId) -> BoxFuture<'_, Result<Option<Vec<u8>>, StoreError>> {
        let mut conn = self.connection.clone();
        let key = self.key(id);
        Box::pin(async move { conn.get(key).await.map_err(unavailable) })
    }

    fn save(
        &self,
        id: SessionId,
        data: Vec<u8>,
        ttl: Option<Duration>,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        let mut conn = self.connection.clone();
        let key = self.key(id);
        Box::pin(async move {
            let mut cmd = redis::cmd("SET");
            cmd.arg(key).arg(data);
            if let Some(ttl) = ttl {
                cmd.arg("PX").arg(millis(ttl));
            }
            cmd.query_async::<()>(&mut conn).await.map_err(unavailable)
        })
    }

    fn delete(&self, id: SessionId) -> BoxFuture<'_, Result<(), StoreError>> {
        let mut conn = self.connection.clone();
        let key = self.key(id);
        Box::pin(async move { conn.del::<_, ()>(key).await.map_err(unavailable) })
    }

    fn try_lock(
        &self,
        id: SessionId,
        token: LockToken,
        lease: Duration,
    ) -> BoxFuture<'_, Result<bool, StoreError>> {
        let mut conn = self.connection.clone();
        let key = self.lock_key(id);
        Box::pin(async move {
            let set: Option<String> = redis::cmd("SET")
                .arg(key)
                .arg(token.to_hex())
                .arg("NX")
                .arg("PX")
                .arg(millis(lease))
                .query_async(&mut conn)
                .await
                .map_err(unavailable)?;
            Ok(set.is_some())
        })
    }

    fn unlock(&self, id: SessionId, token: LockToken) -> BoxFuture<'_, Result<(), StoreError>> {
        let mut conn = self.connection.clone();
        let key = self.lock_key(id);
        Box::pin(async move {
            self.unlock
                .key(key)
                .arg(token.to_hex())
                .invoke_async::<i64>(&mut conn)
                .await
                .map(drop)
                .map_err(unavailable)
        })
    }
}
