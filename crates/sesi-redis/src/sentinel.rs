//! A connection to whichever server the sentinels name as master now.
//!
//! redis-rs finds the master once and hands back a plain connection; after a failover that
//! connection breaks (the old master is gone), answers `READONLY` (the old master came back as
//! a replica), or, worst, still works: an old master that is still up accepts writes until the
//! sentinels demote it, and those writes are lost when it resyncs from the new one. So three
//! things make this type ask the sentinels again: a broken connection, a `READONLY` answer, and
//! the sentinels' own `+switch-master` announcement, which a background task subscribes to.
//! A `READONLY` write changed nothing, so it is retried once on the new master; a broken
//! connection's command is not retried (it may have run): its caller sees the error, and the
//! next command goes to the new master.

use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::MultiplexedConnection;
use redis::sentinel::SentinelClient;
use redis::{AsyncConnectionConfig, ErrorKind, FromRedisValue, RedisError, RedisResult};

use crate::request::Request;

/// The master's connection and a generation number that changes with each discovery.
type Current = (u64, MultiplexedConnection);

pub(crate) struct SentinelConnection {
    shared: Arc<Shared>,
    /// The `+switch-master` subscriber, stopped with the connection.
    watcher: tokio::task::AbortHandle,
}

struct Shared {
    /// Held while asking the sentinels, so concurrent failures trigger one discovery.
    sentinels: tokio::sync::Mutex<(SentinelClient, u64)>,
    current: RwLock<Option<Current>>,
    config: AsyncConnectionConfig,
    discovery_timeout: Duration,
    master_name: String,
}

impl Drop for SentinelConnection {
    fn drop(&mut self) {
        self.watcher.abort();
    }
}

fn broken(err: &RedisError) -> bool {
    err.is_io_error()
        || err.is_connection_dropped()
        || err.is_connection_refusal()
        || err.is_timeout()
        || err.is_unrecoverable_error()
}

impl SentinelConnection {
    /// Asks the sentinels for the master `master_name` and connects to it.
    pub(crate) async fn connect(
        client: SentinelClient,
        master_name: String,
        response_timeout: Duration,
    ) -> RedisResult<Self> {
        let shared = Arc::new(Shared {
            sentinels: tokio::sync::Mutex::new((client, 0)),
            current: RwLock::new(None),
            config: AsyncConnectionConfig::new()
                .set_response_timeout(response_timeout)
                .set_connection_timeout(response_timeout),
            // Sentinel query, then connect and ROLE on the master it names.
            discovery_timeout: response_timeout * 3,
            master_name,
        });
        shared.discover(None).await?;
        let watcher = tokio::spawn(watch_switches(Arc::downgrade(&shared))).abort_handle();
        Ok(SentinelConnection { shared, watcher })
    }

    /// Runs `request` on the master.
    pub(crate) async fn query<T: FromRedisValue>(&self, request: Request<'_>) -> RedisResult<T> {
        self.shared.query(request).await
    }
}

/// Follows the sentinels' `+switch-master` messages ("NAME OLD-IP OLD-PORT NEW-IP NEW-PORT"):
/// the next command after a switch of this master goes to the new one. Resubscribes (through
/// whichever sentinel answers) when the subscription breaks; ends with the connection.
async fn watch_switches(shared: Weak<Shared>) {
    loop {
        let Some(strong) = shared.upgrade() else {
            return;
        };
        let master_name = strong.master_name.clone();
        let subscribed = strong.subscribe_to_switches().await;
        drop(strong);
        if let Ok(pubsub) = subscribed {
            let mut messages = pubsub.into_on_message();
            while let Some(message) = messages.next().await {
                let Ok(payload) = message.get_payload::<String>() else {
                    continue;
                };
                if payload.split(' ').next() == Some(master_name.as_str()) {
                    let Some(strong) = shared.upgrade() else {
                        return;
                    };
                    strong.forget_any();
                }
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

impl Shared {
    async fn subscribe_to_switches(&self) -> RedisResult<redis::aio::PubSub> {
        let sentinel = {
            let mut sentinels = self.sentinels.lock().await;
            tokio::time::timeout(
                self.discovery_timeout,
                sentinels.0.async_get_sentinel_client(),
            )
            .await
            .map_err(|_| RedisError::from((ErrorKind::IoError, "no sentinel answered")))??
        };
        let mut pubsub = sentinel.get_async_pubsub().await?;
        pubsub.subscribe("+switch-master").await?;
        Ok(pubsub)
    }

    fn forget_any(&self) {
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }

    fn current(&self) -> Option<Current> {
        self.current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn forget(&self, generation: u64) {
        let mut current = self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if current.as_ref().is_some_and(|(g, _)| *g == generation) {
            *current = None;
        }
    }

    /// The master's connection: the current one unless it is `stale`, else a new discovery.
    async fn discover(&self, stale: Option<u64>) -> RedisResult<Current> {
        let mut sentinels = self.sentinels.lock().await;
        if let Some((generation, conn)) = self.current()
            && Some(generation) != stale
        {
            // Someone else found the master while this call waited for the lock.
            return Ok((generation, conn));
        }
        let (client, generation) = &mut *sentinels;
        let found = tokio::time::timeout(self.discovery_timeout, async {
            // `async_get_client` asks the sentinels, then checks with ROLE that the server
            // they name is a master.
            let master = client.async_get_client().await?;
            master
                .get_multiplexed_async_connection_with_config(&self.config)
                .await
        })
        .await
        .map_err(|_| {
            RedisError::from((
                ErrorKind::IoError,
                "no master found through the sentinels in time",
            ))
        })??;
        *generation += 1;
        let current = (*generation, found);
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(current.clone());
        Ok(current)
    }

    async fn query<T: FromRedisValue>(&self, cmd: Request<'_>) -> RedisResult<T> {
        let (generation, mut conn) = match self.current() {
            Some(current) => current,
            None => self.discover(None).await?,
        };
        match cmd.run(&mut conn).await {
            Err(err) if err.kind() == ErrorKind::ReadOnly => {
                let (generation, mut conn) = self.discover(Some(generation)).await?;
                let retried = cmd.run(&mut conn).await;
                if let Err(err) = &retried
                    && (broken(err) || err.kind() == ErrorKind::ReadOnly)
                {
                    self.forget(generation);
                }
                retried
            }
            Err(err) if broken(&err) => {
                self.forget(generation);
                Err(err)
            }
            other => other,
        }
    }
}
