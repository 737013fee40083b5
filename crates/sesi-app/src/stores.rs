//! Where the app keeps sessions: the `--store` choice, Redis's TLS files, and opening the store
//! with an error that says what is wrong (a setting, or a server that does not answer).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use sesi::core::store::{MemoryStore, SessionStore};

/// Where sessions live.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum StoreChoice {
    /// In the signed cookie only (Pyramid's way).
    #[default]
    Cookie,
    /// In this process's memory (bounded; lost on restart).
    Memory,
    /// In Redis at this URL: `redis://`, `rediss://`, `redis+cluster://`, `rediss+cluster://`,
    /// `redis+sentinel://` or `rediss+sentinel://` (see `sesi_redis::RedisStoreBuilder`).
    Redis(String),
    /// In PostgreSQL (`postgres://`, `postgresql://`) or an SQLite file (`sqlite://PATH`).
    Sql(String),
}

/// The URL prefixes `--store` takes for SQL databases.
pub const SQL_PREFIXES: [&str; 3] = ["postgres://", "postgresql://", "sqlite:"];

/// How often `sesi serve` deletes expired rows from an SQL store.
pub const SQL_SWEEP_INTERVAL: Duration = Duration::from_secs(300);

/// The URL schemes `--store` takes for Redis.
pub const REDIS_SCHEMES: [&str; 6] = [
    "redis",
    "rediss",
    "redis+cluster",
    "rediss+cluster",
    "redis+sentinel",
    "rediss+sentinel",
];

impl std::str::FromStr for StoreChoice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "cookie" | "none" => Ok(StoreChoice::Cookie),
            "memory" => Ok(StoreChoice::Memory),
            url if url
                .split_once("://")
                .is_some_and(|(scheme, _)| REDIS_SCHEMES.contains(&scheme)) =>
            {
                #[cfg(feature = "redis")]
                sesi_redis::check_url(url).map_err(|err| format!("{}: {err}", redact_url(url)))?;
                Ok(StoreChoice::Redis(url.to_owned()))
            }
            url if SQL_PREFIXES.iter().any(|prefix| url.starts_with(prefix)) => {
                if url.contains(":memory:") || url.contains("mode=memory") {
                    return Err(format!(
                        "{url:?}: an in-memory SQLite database is one per connection; use a file \
                         (sqlite://PATH) or --store memory"
                    ));
                }
                Ok(StoreChoice::Sql(url.to_owned()))
            }
            other => Err(format!(
                "{other:?} is not a store: use cookie, memory, redis://HOST:PORT[/DB], \
                 rediss://…, redis+cluster://HOST:PORT[,HOST:PORT…], \
                 redis+sentinel://HOST:PORT[,…]/MASTER_NAME, postgres://USER@HOST/DB or \
                 sqlite://PATH"
            )),
        }
    }
}

/// PEM files for a TLS connection to Redis (`rediss…` URLs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RedisTlsFiles {
    /// The CA that signed Redis's certificates; `None`: the system's roots.
    pub ca_file: Option<PathBuf>,
    /// A client certificate, for servers with `tls-auth-clients yes`.
    pub client_cert: Option<PathBuf>,
    /// Its private key.
    pub client_key: Option<PathBuf>,
}

/// A store URL for logs and messages: the password (and user) replaced by `***`.
#[must_use]
pub fn redact_url(url: &str) -> String {
    match (url.split_once("://"), url.rfind('@')) {
        (Some((scheme, _)), Some(at)) if at > scheme.len() + 3 => {
            format!("{scheme}://***@{}", &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

/// Why the store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenStoreError {
    /// A setting is wrong (the URL, a TLS file); the message names it.
    #[error("Redis settings: {0}")]
    Settings(String),
    /// Redis did not answer, or refused the connection (the TLS handshake included).
    #[error("cannot reach Redis at {url}: {detail}{hint}")]
    Unreachable {
        /// The URL, without credentials.
        url: String,
        /// The error and its causes.
        detail: String,
        /// What to check.
        hint: &'static str,
    },
    /// This build has no Redis support.
    #[error("this build of sesi has no Redis support (feature `redis`)")]
    NoRedis,
    /// The SQL database could not be opened or its tables created.
    #[error("cannot open the session database {url}: {detail}")]
    Database {
        /// The URL, without credentials.
        url: String,
        /// The error and its causes.
        detail: String,
    },
    /// This build has no SQL support.
    #[error("this build of sesi has no SQL store support (feature `sql`)")]
    NoSql,
}

/// Opens `choice`: `None` for cookie sessions.
pub(crate) async fn open(
    choice: &StoreChoice,
    capacity: usize,
    timeout: Duration,
    tls: &RedisTlsFiles,
) -> Result<Option<Arc<dyn SessionStore>>, OpenStoreError> {
    match choice {
        StoreChoice::Cookie => Ok(None),
        StoreChoice::Memory => Ok(Some(Arc::new(MemoryStore::new(capacity)))),
        #[cfg(feature = "redis")]
        StoreChoice::Redis(url) => open_redis(url, timeout, tls).await,
        #[cfg(not(feature = "redis"))]
        StoreChoice::Redis(_) => {
            let _ = (timeout, tls);
            Err(OpenStoreError::NoRedis)
        }
        #[cfg(feature = "sql")]
        StoreChoice::Sql(url) => open_sql(url).await,
        #[cfg(not(feature = "sql"))]
        StoreChoice::Sql(_) => Err(OpenStoreError::NoSql),
    }
}

/// Connects, creates the tables if missing, and sweeps expired rows every
/// [`SQL_SWEEP_INTERVAL`] for the life of the server.
#[cfg(feature = "sql")]
async fn open_sql(url: &str) -> Result<Option<Arc<dyn SessionStore>>, OpenStoreError> {
    let failed = |err: &(dyn std::error::Error + 'static)| OpenStoreError::Database {
        url: redact_url(url),
        detail: error_chain(err),
    };
    let store = sesi_sql::SqlStore::connect(url)
        .await
        .map_err(|err| failed(&err))?;
    store.migrate().await.map_err(|err| failed(&err))?;
    store.spawn_sweeper(SQL_SWEEP_INTERVAL).detach();
    Ok(Some(Arc::new(store)))
}

#[cfg(feature = "redis")]
async fn open_redis(
    url: &str,
    timeout: Duration,
    tls: &RedisTlsFiles,
) -> Result<Option<Arc<dyn SessionStore>>, OpenStoreError> {
    use sesi_redis::{ConnectError, RedisStore, TlsFiles};

    let mut files = TlsFiles::default();
    files.ca_file.clone_from(&tls.ca_file);
    files.client_cert.clone_from(&tls.client_cert);
    files.client_key.clone_from(&tls.client_key);
    let connected = RedisStore::builder(url)
        .prefix(sesi_redis::DEFAULT_PREFIX)
        .response_timeout(timeout)
        .tls_files(files)
        .connect()
        .await;
    match connected {
        Ok(store) => Ok(Some(Arc::new(store))),
        Err(err @ ConnectError::Unreachable(_)) => {
            let scheme = url.split_once("://").map_or("", |(scheme, _)| scheme);
            let hint = match scheme {
                "rediss" | "rediss+cluster" | "rediss+sentinel" => {
                    " (is it up, with TLS on that port? is its certificate signed by the CA \
                     given with --redis-ca-file, or by a system root when none is given? does it \
                     ask for a client certificate?)"
                }
                "redis+cluster" => " (is at least one of these cluster nodes up?)",
                "redis+sentinel" => {
                    " (are the sentinels up, and do they know a master by that name?)"
                }
                _ => " (is redis-server running?)",
            };
            Err(OpenStoreError::Unreachable {
                url: redact_url(url),
                detail: error_chain(&err),
                hint,
            })
        }
        Err(err) => Err(OpenStoreError::Settings(err.to_string())),
    }
}

/// An error and its causes, joined with `: ` (a TLS refusal says why only in a cause).
#[cfg(any(feature = "redis", feature = "sql"))]
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = vec![err.to_string()];
    let mut next = err.source();
    while let Some(cause) = next {
        let text = cause.to_string();
        if !out.iter().any(|seen| seen.contains(&text)) {
            out.push(text);
        }
        next = cause.source();
    }
    out.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sql_urls_are_stores_and_an_in_memory_sqlite_is_refused() {
        for url in [
            "postgres://sesi@127.0.0.1:5432/app",
            "postgresql://u:pw@db/app?sslmode=require",
            "sqlite://sessions.db",
            "sqlite:/var/lib/sesi/sessions.db",
        ] {
            assert_eq!(
                url.parse::<StoreChoice>(),
                Ok(StoreChoice::Sql(url.to_owned()))
            );
        }
        for url in ["sqlite::memory:", "sqlite://x.db?mode=memory"] {
            let err = url.parse::<StoreChoice>().expect_err("in memory");
            assert!(err.contains("one per connection"), "{err}");
        }
        assert_eq!(
            redact_url("postgres://sesi:secret@db:5432/app"),
            "postgres://***@db:5432/app"
        );
    }

    #[test]
    fn redis_passwords_never_reach_logs() {
        assert_eq!(
            redact_url("redis://:hunter2pass@127.0.0.1:6379/0"),
            "redis://***@127.0.0.1:6379/0"
        );
        assert_eq!(redact_url("rediss://user:pw@host/1"), "rediss://***@host/1");
        assert_eq!(
            redact_url("redis://127.0.0.1:6379"),
            "redis://127.0.0.1:6379"
        );
        assert_eq!(
            redact_url("rediss+cluster://u:pw@h1:7000,h2:7001"),
            "rediss+cluster://***@h1:7000,h2:7001"
        );
    }

    #[test]
    fn every_redis_scheme_is_a_store_and_a_bad_url_is_refused_with_its_reason() {
        for url in [
            "redis://127.0.0.1:6379",
            "rediss://h:6380/1",
            "redis+cluster://h1:7000,h2:7001",
            "rediss+cluster://h1:7000",
            "redis+sentinel://s1:26379/mymaster",
            "rediss+sentinel://s1,s2/mymaster/2",
        ] {
            assert_eq!(
                url.parse::<StoreChoice>(),
                Ok(StoreChoice::Redis(url.to_owned()))
            );
        }
        assert_eq!("memory".parse::<StoreChoice>(), Ok(StoreChoice::Memory));
        let err = "redis+sentinel://:pw@s1:26379"
            .parse::<StoreChoice>()
            .expect_err("no master name");
        assert!(err.contains("names the master"), "{err}");
        assert!(!err.contains("pw"), "no password in the message: {err}");
        let err = "rediss://h:6380/#insecure"
            .parse::<StoreChoice>()
            .expect_err("#insecure");
        assert!(err.contains("fragment"), "{err}");
        let err = "mysql://h".parse::<StoreChoice>().expect_err("unknown");
        assert!(err.contains("redis+sentinel://"), "{err}");
        assert!(err.contains("sqlite://PATH"), "{err}");
    }
}
