//! The three ways to reach Redis behind one `query`.

use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;
use redis::sentinel::{SentinelClientBuilder, SentinelServerType};
use redis::{Cmd, ConnectionAddr, FromRedisValue, Pipeline, RedisResult, TlsCertificates, TlsMode};

use crate::ConnectError;
use crate::request::Request;
use crate::sentinel::SentinelConnection;
use crate::target::{SentinelTarget, Target};

pub(crate) enum Backend {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
    Sentinel(SentinelConnection),
}

/// How many requests [`Backend::each`] keeps in flight at once in a cluster.
const CLUSTER_CONCURRENCY: usize = 32;

fn unreachable(err: redis::RedisError) -> ConnectError {
    ConnectError::Unreachable(Box::new(err))
}

impl Backend {
    pub(crate) fn mode(&self) -> &'static str {
        match self {
            Backend::Single(_) => "single",
            Backend::Cluster(_) => "cluster",
            Backend::Sentinel(_) => "sentinel",
        }
    }

    /// True for a cluster, where keys in different hash slots cannot share a pipeline.
    pub(crate) fn is_cluster(&self) -> bool {
        matches!(self, Backend::Cluster(_))
    }

    pub(crate) async fn connect(
        target: Target,
        certificates: Option<TlsCertificates>,
        timeout: Duration,
    ) -> Result<Self, ConnectError> {
        match target {
            Target::Single { url, .. } => {
                let client = match certificates {
                    Some(certs) => redis::Client::build_with_tls(url.as_str(), certs),
                    None => redis::Client::open(url.as_str()),
                }
                .map_err(|err| ConnectError::Tls(err.to_string()))?;
                let config = ConnectionManagerConfig::new()
                    .set_response_timeout(timeout)
                    .set_connection_timeout(timeout)
                    // Retry a reconnect a few times, quickly, then give up until the next command.
                    .set_number_of_retries(2)
                    .set_max_delay(200);
                let manager = client
                    .get_connection_manager_with_config(config)
                    .await
                    .map_err(unreachable)?;
                Ok(Backend::Single(manager))
            }
            Target::Cluster { nodes, tls } => {
                let mut builder = ClusterClientBuilder::new(nodes)
                    .connection_timeout(timeout)
                    .response_timeout(timeout)
                    // Redirections and slot refreshes during a resharding or a failover.
                    .retries(4)
                    .min_retry_wait(10)
                    .max_retry_wait(200);
                if tls {
                    builder = builder.tls(TlsMode::Secure);
                }
                if let Some(certs) = certificates {
                    builder = builder.certs(certs);
                }
                let client = builder
                    .build()
                    .map_err(|err| ConnectError::Tls(err.to_string()))?;
                let connection = client.get_async_connection().await.map_err(unreachable)?;
                Ok(Backend::Cluster(connection))
            }
            Target::Sentinel(target) => {
                let master = target.master.clone();
                let client = sentinel_client(target, certificates).map_err(unreachable)?;
                let connection = SentinelConnection::connect(client, master, timeout)
                    .await
                    .map_err(unreachable)?;
                Ok(Backend::Sentinel(connection))
            }
        }
    }

    pub(crate) async fn query<T: FromRedisValue>(&self, cmd: &Cmd) -> RedisResult<T> {
        self.run(Request::One(cmd)).await
    }

    /// Runs `pipe`'s commands in order and gives every reply (no command may be marked
    /// `ignore`). One round trip on a single server or a sentinel's master, where Redis runs
    /// them all and the first error reply is the result. In a cluster, one command at a time,
    /// stopping at the first error: redis-rs 0.32 sends a pipeline that meets an ASK
    /// redirection (its slot half-way to another master) again after a single `ASKING`, which
    /// covers only its first command, and the commands may be on different slots.
    pub(crate) async fn pipeline<T: FromRedisValue>(&self, pipe: &Pipeline) -> RedisResult<T> {
        if let Backend::Cluster(cluster) = self {
            let mut replies = Vec::new();
            for cmd in pipe.cmd_iter() {
                let reply = Request::One(cmd).run(&mut cluster.clone()).await?;
                replies.push(reply);
            }
            return T::from_owned_redis_value(redis::Value::Array(replies));
        }
        self.run(Request::Pipe(pipe)).await
    }

    /// Runs independent commands (each on keys of one slot) and gives their replies in order:
    /// one pipeline, so one round trip, on a single server or a sentinel's master; in a
    /// cluster, where the keys may live on different masters, separate requests, up to
    /// [`CLUSTER_CONCURRENCY`] at a time. Each command is bounded by the response timeout; the
    /// first error is returned (the other commands may have run).
    pub(crate) async fn each<T: FromRedisValue + Send>(&self, cmds: &[Cmd]) -> RedisResult<Vec<T>> {
        if cmds.is_empty() {
            return Ok(Vec::new());
        }
        if self.is_cluster() {
            // The futures made first (not a `map` closure in the stream), so that the future
            // holding the stream is `Send`.
            let requests: Vec<_> = cmds.iter().map(|cmd| self.query::<T>(cmd)).collect();
            return futures_util::stream::iter(requests)
                .buffered(CLUSTER_CONCURRENCY)
                .try_collect()
                .await;
        }
        let mut pipe = redis::pipe();
        for cmd in cmds {
            pipe.add_command(cmd.clone());
        }
        self.pipeline(&pipe).await
    }

    async fn run<T: FromRedisValue>(&self, request: Request<'_>) -> RedisResult<T> {
        match self {
            Backend::Single(manager) => request.run(&mut manager.clone()).await,
            Backend::Cluster(cluster) => request.run(&mut cluster.clone()).await,
            Backend::Sentinel(sentinel) => sentinel.query(request).await,
        }
    }
}

fn sentinel_client(
    target: SentinelTarget,
    certificates: Option<TlsCertificates>,
) -> RedisResult<redis::sentinel::SentinelClient> {
    let addrs = target.sentinels.into_iter().map(|(host, port)| {
        if target.tls {
            ConnectionAddr::TcpTls {
                host,
                port,
                insecure: false,
                tls_params: None,
            }
        } else {
            ConnectionAddr::Tcp(host, port)
        }
    });
    let mut builder = SentinelClientBuilder::new(addrs, target.master, SentinelServerType::Master)?
        .set_client_to_redis_db(target.db);
    if target.tls {
        builder = builder
            .set_client_to_sentinel_tls_mode(TlsMode::Secure)
            .set_client_to_redis_tls_mode(TlsMode::Secure);
        if let Some(certs) = certificates {
            builder = builder
                .set_client_to_sentinel_certificates(certs.clone())
                .set_client_to_redis_certificates(certs);
        }
    }
    if let Some(username) = target.username {
        builder = builder.set_client_to_redis_username(username);
    }
    if let Some(password) = target.password {
        builder = builder.set_client_to_redis_password(password);
    }
    builder.build()
}
