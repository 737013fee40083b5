//! A Redis [`SessionStore`] for sesi: one server, a cluster, or a master found through
//! sentinels, over plain TCP or TLS (rustls).
//!
//! Sessions are kept under `<prefix>{<id hex>}` with the session's idle timeout as their
//! time-to-live (`SET key value PX ttl`); locks under `<prefix>lock:{<id hex>}` with `SET NX PX`,
//! released by a compare-and-delete script, so a lock is only ever removed by its holder and a
//! crashed server's lock ends with its lease. The braces are a hash tag: in a cluster a session
//! and its lock live in the same slot, so every command and script touches one slot.
//!
//! Sessions tied to a user ("log out everywhere", [`SessionStore::save_user_session`]) are
//! also indexed in a sorted set at `<prefix>user:<user>` ([`RedisStore::user_key`]), scored by
//! their deadlines. In a cluster the index and the sessions are in different slots, and no step
//! spans both; the order of the steps keeps them consistent. A session is indexed before anyone
//! can use it (a request that loaded it indexes it, then saves it; a new one is written, then
//! indexed, then its cookie is sent). The index may hold ids of sessions that ended: dropped a
//! minute past their deadline, skipped (and removed) when listing. Ending a user's sessions
//! deletes each session key on its own slot, and a request in flight saves back with
//! `SET … XX`, so it cannot revive a revoked session. A new login saved at the very moment of
//! the revocation may survive it (the next revocation ends it).
//!
//! Every command has a response timeout. A single server's connection is redis-rs's
//! `ConnectionManager`, which reconnects in the background after Redis restarts; a cluster's
//! follows `MOVED` and `ASK` redirections and slot changes; a sentinel connection asks the
//! sentinels again when its master breaks or answers `READONLY` (see [`RedisStoreBuilder`]).
//!
//! ```no_run
//! # async fn run() -> Result<(), sesi_redis::ConnectError> {
//! use sesi_redis::RedisStore;
//! let single = RedisStore::connect("redis://127.0.0.1:6379/0").await?;
//! let cluster = RedisStore::connect("redis+cluster://10.0.0.1:7000,10.0.0.2:7000").await?;
//! let tls = RedisStore::builder("rediss+sentinel://10.0.0.5:26379/mymaster")
//!     .ca_file("/etc/redis/ca.pem")
//!     .client_cert("/etc/sesi/redis-client.pem", "/etc/sesi/redis-client.key")
//!     .connect()
//!     .await?;
//! # let _ = (single, cluster, tls); Ok(()) }
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

mod backend;
mod request;
mod script;
mod sentinel;
mod target;
mod tls;
mod users;

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use sesi_core::store::{BoxFuture, LockToken, SessionId, SessionStore, StoreError, StoredSession};

use backend::Backend;
use script::LuaScript;
pub use target::UrlError;
pub use tls::TlsFiles;

/// Default key prefix.
pub const DEFAULT_PREFIX: &str = "sesi:";

/// How long one Redis command may take before it fails.
pub const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_secs(1);

/// Releases a lock only while it holds the caller's token.
static UNLOCK: LazyLock<LuaScript> = LazyLock::new(|| {
    LuaScript::new(
        "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) \
         else return 0 end",
    )
});

/// Why a store could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The URL is not one sesi takes.
    #[error("invalid Redis URL: {0}")]
    Url(UrlError),
    /// A TLS file could not be read.
    #[error("cannot read the {what} {}: {source}", path.display())]
    File {
        /// Which file.
        what: &'static str,
        /// Where.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The TLS options do not fit together or with the URL.
    #[error("Redis TLS: {0}")]
    Tls(String),
    /// Redis (or a sentinel, or every cluster seed) refused or did not answer.
    #[error("cannot reach Redis: {0}")]
    Unreachable(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl From<ConnectError> for StoreError {
    fn from(err: ConnectError) -> Self {
        StoreError::Unavailable(Box::new(err))
    }
}

/// Sessions in Redis. Cheap to clone; clones share the connections.
#[derive(Clone)]
pub struct RedisStore {
    backend: Arc<Backend>,
    prefix: String,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("mode", &self.backend.mode())
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// Options for [`RedisStore`]: the URL, a key prefix, the response timeout and TLS files.
///
/// The URL says what to connect to:
///
/// | URL | Redis |
/// |---|---|
/// | `redis://[USER[:PASSWORD]@]HOST[:PORT][/DB]` | one server |
/// | `redis+cluster://[AUTH@]HOST:PORT[,HOST:PORT…]` | a cluster, from any of its nodes |
/// | `redis+sentinel://[AUTH@]HOST[:PORT][,…]/MASTER_NAME[/DB]` | the master the sentinels name |
///
/// `rediss`, `rediss+cluster` and `rediss+sentinel` are the same over TLS, verified against the
/// system's roots or, with [`ca_file`](Self::ca_file), against that CA only. A URL fragment is
/// refused (redis-rs reads `#insecure` as "do not verify"); no option turns verification off.
#[derive(Debug, Clone)]
#[must_use]
pub struct RedisStoreBuilder {
    url: String,
    prefix: String,
    response_timeout: Duration,
    tls: TlsFiles,
}

impl RedisStoreBuilder {
    /// Keys start with `prefix` (default [`DEFAULT_PREFIX`]).
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// How long a command (and a connection attempt) may take (default
    /// [`DEFAULT_RESPONSE_TIMEOUT`]).
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.response_timeout = timeout;
        self
    }

    /// Verifies the servers against this CA (PEM) instead of the system's roots.
    pub fn ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.tls.ca_file = Some(path.into());
        self
    }

    /// Presents this client certificate and key (PEM), for servers that ask for one.
    pub fn client_cert(mut self, cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        self.tls.client_cert = Some(cert.into());
        self.tls.client_key = Some(key.into());
        self
    }

    /// Sets every TLS file at once.
    pub fn tls_files(mut self, files: TlsFiles) -> Self {
        self.tls = files;
        self
    }

    /// Connects.
    ///
    /// # Errors
    /// [`ConnectError`]: a bad URL, unreadable or mismatched TLS files, or Redis not reachable
    /// now.
    pub async fn connect(self) -> Result<RedisStore, ConnectError> {
        let target = target::Target::parse(&self.url).map_err(ConnectError::Url)?;
        if !target.tls() && !self.tls.is_empty() {
            return Err(ConnectError::Tls(
                "TLS files were given for a plain URL: use rediss://, rediss+cluster:// or \
                 rediss+sentinel://"
                    .into(),
            ));
        }
        let certificates = self.tls.load()?;
        if target.tls() {
            tls::install_crypto_provider();
        }
        let backend = Backend::connect(target, certificates, self.response_timeout).await?;
        Ok(RedisStore {
            backend: Arc::new(backend),
            prefix: self.prefix,
        })
    }
}

/// Checks that `url` is one [`RedisStoreBuilder`] takes, without connecting.
///
/// # Errors
/// [`UrlError`] saying what is wrong.
pub fn check_url(url: &str) -> Result<(), UrlError> {
    target::Target::parse(url).map(drop)
}

impl RedisStore {
    /// Options for a store at `url`; finish with [`RedisStoreBuilder::connect`].
    pub fn builder(url: impl Into<String>) -> RedisStoreBuilder {
        RedisStoreBuilder {
            url: url.into(),
            prefix: DEFAULT_PREFIX.to_owned(),
            response_timeout: DEFAULT_RESPONSE_TIMEOUT,
            tls: TlsFiles::default(),
        }
    }

    /// Connects to `url` with the default prefix and timeout and no TLS files.
    ///
    /// # Errors
    /// As [`RedisStoreBuilder::connect`].
    pub async fn connect(url: &str) -> Result<Self, ConnectError> {
        Self::builder(url).connect().await
    }

    /// Connects with a key prefix and a per-command timeout.
    ///
    /// # Errors
    /// As [`RedisStoreBuilder::connect`].
    pub async fn connect_with(
        url: &str,
        prefix: &str,
        response_timeout: Duration,
    ) -> Result<Self, ConnectError> {
        Self::builder(url)
            .prefix(prefix)
            .response_timeout(response_timeout)
            .connect()
            .await
    }

    /// The key a session's data lives under.
    #[must_use]
    pub fn key(&self, id: SessionId) -> String {
        format!("{}{{{}}}", self.prefix, id.to_hex())
    }

    /// The key of a session's lock (same hash slot as [`key`](Self::key)).
    #[must_use]
    pub fn lock_key(&self, id: SessionId) -> String {
        format!("{}lock:{{{}}}", self.prefix, id.to_hex())
    }

    /// The key of a user's index: a sorted set of the ids of the user's sessions (in hex),
    /// scored by their deadlines in milliseconds since the epoch (`+inf` for none). The user id
    /// goes in as it is.
    #[must_use]
    pub fn user_key(&self, user: &str) -> String {
        format!("{}user:{user}", self.prefix)
    }

    /// `SET <lock key> <token> NX PX <lease>`: takes the lock if it is free.
    fn lock_cmd(&self, id: SessionId, token: LockToken, lease: Duration) -> redis::Cmd {
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.lock_key(id))
            .arg(token.to_hex())
            .arg("NX")
            .arg("PX")
            .arg(millis(lease));
        cmd
    }

    /// `EVALSHA <release> 1 <lock key> <token hex>`: deletes the lock if it holds the token.
    fn unlock_cmd(&self, id: SessionId, token: LockToken) -> redis::Cmd {
        let mut cmd = UNLOCK.call(1);
        cmd.arg(self.lock_key(id)).arg(token.to_hex());
        cmd
    }

    /// `SET <session key> data [PX ttl]`.
    fn set_cmd(&self, id: SessionId, data: Vec<u8>, ttl: Option<Duration>) -> redis::Cmd {
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key(id)).arg(data);
        if let Some(ttl) = ttl {
            cmd.arg("PX").arg(millis(ttl));
        }
        cmd
    }
}

impl RedisStore {
    /// Runs `cmd`, whose integer reply (a count) says nothing the store needs.
    fn run_for_effect(&self, cmd: redis::Cmd) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            self.backend
                .query::<i64>(&cmd)
                .await
                .map(drop)
                .map_err(unavailable)
        })
    }

    /// Runs `cmd`, a call of `script`, whose reply says nothing the store needs.
    fn run_script_for_effect(
        &self,
        script: &'static LuaScript,
        cmd: redis::Cmd,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            script
                .run::<redis::Value>(&self.backend, &cmd)
                .await
                .map(drop)
                .map_err(unavailable)
        })
    }
}

fn unavailable(err: redis::RedisError) -> StoreError {
    StoreError::Unavailable(Box::new(err))
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl SessionStore for RedisStore {
    fn load(&self, id: SessionId) -> BoxFuture<'_, Result<Option<Vec<u8>>, StoreError>> {
        let mut cmd = redis::cmd("GET");
        cmd.arg(self.key(id));
        Box::pin(async move { self.backend.query(&cmd).await.map_err(unavailable) })
    }

    fn save(
        &self,
        id: SessionId,
        data: Vec<u8>,
        ttl: Option<Duration>,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        let cmd = self.set_cmd(id, data, ttl);
        Box::pin(async move { self.backend.query(&cmd).await.map_err(unavailable) })
    }

    fn delete(&self, id: SessionId) -> BoxFuture<'_, Result<(), StoreError>> {
        let mut cmd = redis::cmd("DEL");
        cmd.arg(self.key(id));
        self.run_for_effect(cmd)
    }

    fn try_lock(
        &self,
        id: SessionId,
        token: LockToken,
        lease: Duration,
    ) -> BoxFuture<'_, Result<bool, StoreError>> {
        let cmd = self.lock_cmd(id, token, lease);
        Box::pin(async move {
            let set: Option<String> = self.backend.query(&cmd).await.map_err(unavailable)?;
            Ok(set.is_some())
        })
    }

    fn lock_and_load(
        &self,
        id: SessionId,
        token: LockToken,
        lease: Duration,
    ) -> BoxFuture<'_, Result<Option<Option<Vec<u8>>>, StoreError>> {
        // One round trip, no script: SET NX then GET, pipelined. The GET's answer counts only
        // when the SET took the lock; Redis runs a connection's commands in order, and once the
        // lock is ours no other request writes the session. In a cluster, two round trips (see
        // `Backend::pipeline`).
        let mut pipe = redis::pipe();
        pipe.add_command(self.lock_cmd(id, token, lease))
            .cmd("GET")
            .arg(self.key(id));
        Box::pin(async move {
            let (taken, data): (Option<String>, Option<Vec<u8>>) =
                self.backend.pipeline(&pipe).await.map_err(unavailable)?;
            Ok(taken.map(|_| data))
        })
    }

    fn save_and_unlock(
        &self,
        id: SessionId,
        data: Vec<u8>,
        ttl: Option<Duration>,
        _returning: bool,
        token: LockToken,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        // The save as a plain SET, then the release: only the compare-and-delete in Lua. A
        // script that also SETs cost Redis 2.45 µs per call against 0.34 for the SET plus 0.99
        // for this one (`INFO commandstats`, redis 7.0). On a single server or through
        // sentinels the two are pipelined, one round trip, and unlike the trait's default a
        // failed SET does not keep the lock (Redis runs both): the caller's release after the
        // error then finds nothing to do. In a cluster they go one after the other, and the
        // release only after a SET that succeeded (see `Backend::pipeline`). After a
        // NOSCRIPT whose EVAL fails, the save has happened but the call reports the error, as
        // when a SET's answer is lost.
        let save = self.set_cmd(id, data, ttl);
        let unlock = self.unlock_cmd(id, token);
        Box::pin(async move {
            UNLOCK
                .run_after(&self.backend, save, unlock)
                .await
                .map_err(unavailable)
        })
    }

    fn unlock(&self, id: SessionId, token: LockToken) -> BoxFuture<'_, Result<(), StoreError>> {
        let cmd = self.unlock_cmd(id, token);
        self.run_script_for_effect(&UNLOCK, cmd)
    }

    /// Saves the session and indexes it under `user` (in the order the crate docs give): one
    /// pipeline on a single server or a sentinel's master, two requests in a cluster.
    fn save_user_session(
        &self,
        id: SessionId,
        data: Vec<u8>,
        ttl: Option<Duration>,
        user: &str,
        update_only: bool,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        self.index_and_save(id, data, ttl, user, update_only)
    }

    fn user_sessions(&self, user: &str) -> BoxFuture<'_, Result<Vec<StoredSession>, StoreError>> {
        self.indexed_sessions(user)
    }

    fn delete_user_sessions(
        &self,
        user: &str,
        keep: Option<SessionId>,
    ) -> BoxFuture<'_, Result<usize, StoreError>> {
        self.delete_indexed(user, keep)
    }
}
