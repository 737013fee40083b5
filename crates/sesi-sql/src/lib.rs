//! SQL session stores for sesi, on [sqlx]: **PostgreSQL** (feature `postgres`) and **SQLite**
//! (feature `sqlite`), both on by default.
//!
//! For teams that run PostgreSQL already and would rather not add Redis for sessions, and for a
//! single server that wants sessions to survive a restart with no server at all (SQLite, in a
//! file). A session is one row: its id (16 bytes), its `[accessed, created, state]` JSON, its
//! expiry and, for a session tied to a user ([`Session::set_user`]), the user id, indexed, so
//! "log out everywhere" is one `DELETE`.
//!
//! - **Expiry** is checked on every read, by the database's clock (every app server agrees), and
//!   expired rows are deleted by [`SqlStore::sweep`], once or every interval with
//!   [`SqlStore::spawn_sweeper`].
//! - **Locks** (the layer's `with_lock`) are rows with a lease in `<table>_locks`, taken with an
//!   atomic `INSERT ... ON CONFLICT DO UPDATE ... WHERE` the lease has ended, released only by
//!   their holder's token. Not advisory locks: those belong to one connection and have no
//!   lease, which fits neither a pool nor a crashed server.
//! - **Schema**: [`SqlStore::migrate`] creates the tables if they are missing (servers starting
//!   together do not race); [`SqlStore::schema_sql`] prints the same SQL for those who manage
//!   their own schema.
//! - Queries are built at run time (sqlx without its `macros`): building needs no database.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use std::time::Duration;
//! use sesi::SessionLayer;
//! use sesi_sql::SqlStore;
//!
//! let store = SqlStore::connect("postgres://sesi@db.internal/app").await?;
//! store.migrate().await?;
//! let _sweeper = store.spawn_sweeper(Duration::from_secs(300));
//! let secret = sesi::Secret::new("a secret of at least 32 bytes, random")?;
//! let layer = SessionLayer::builder(sesi::Secrets::new(secret))
//!     .with_store(Arc::new(store))
//!     .build()?;
//! # let _ = layer; Ok(()) }
//! ```
//!
//! [`Session::set_user`]: sesi_core::Session::set_user

#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(not(any(feature = "postgres", feature = "sqlite")))]
compile_error!(
    "sesi-sql stores sessions in PostgreSQL or SQLite: enable the feature `postgres`, `sqlite` or both"
);

mod pool;
mod schema;
mod store;
mod sweeper;

use std::sync::Arc;
use std::time::Duration;

use pool::Pool;
pub use schema::{DEFAULT_TABLE, InvalidTableName, TableName};
use schema::{Dialect, Queries};
use sesi_core::store::StoreError;
pub use sweeper::Sweeper;

/// How long a request waits for a pooled connection before the store reports itself
/// unavailable (the layer's own store timeout usually ends the wait first).
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// How long an SQLite statement waits for another connection's write to finish.
pub const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Sessions in a PostgreSQL or SQLite database. Cheap to clone: clones share the pool.
#[derive(Debug, Clone)]
pub struct SqlStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    pool: Pool,
    dialect: Dialect,
    table: TableName,
    queries: Queries,
}

/// Why a store could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The URL is not one this build takes.
    #[error("invalid database URL {url:?}: {why}")]
    Url {
        /// The URL (as given).
        url: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// The database refused or did not answer.
    #[error("cannot connect to the session database")]
    Database(#[source] sqlx::Error),
}

impl SqlStore {
    fn new(pool: Pool, dialect: Dialect) -> Self {
        let table = TableName::default();
        let queries = Queries::new(dialect, &table);
        SqlStore {
            inner: Arc::new(Inner {
                pool,
                dialect,
                table,
                queries,
            }),
        }
    }

    /// Connects by URL: `postgres://` or `postgresql://` (feature `postgres`), `sqlite://PATH`
    /// or `sqlite:PATH` (feature `sqlite`; the file is created if missing).
    ///
    /// # Errors
    /// [`ConnectError::Url`] for another scheme, a scheme this build lacks, or an in-memory
    /// SQLite database (each pooled connection would get its own: use sesi's `MemoryStore`);
    /// [`ConnectError::Database`] when the database cannot be reached.
    pub async fn connect(url: &str) -> Result<Self, ConnectError> {
        let bad = |why| ConnectError::Url {
            url: url.to_owned(),
            why,
        };
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            #[cfg(feature = "postgres")]
            return Self::connect_postgres(url).await;
            #[cfg(not(feature = "postgres"))]
            return Err(bad(
                "this build has no PostgreSQL support (feature `postgres`)",
            ));
        }
        if url.starts_with("sqlite:") {
            if url.contains(":memory:") || url.contains("mode=memory") {
                return Err(bad(
                    "an in-memory SQLite database is one per connection; use a file (or \
                     MemoryStore)",
                ));
            }
            #[cfg(feature = "sqlite")]
            return Self::connect_sqlite(url).await;
            #[cfg(not(feature = "sqlite"))]
            return Err(bad("this build has no SQLite support (feature `sqlite`)"));
        }
        Err(bad("expected postgres://, postgresql:// or sqlite:"))
    }

    /// Connects a pool to PostgreSQL at `url` (TLS as the URL's `sslmode` says, checked against
    /// the system roots).
    ///
    /// # Errors
    /// [`ConnectError::Database`] when the server cannot be reached.
    #[cfg(feature = "postgres")]
    #[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
    pub async fn connect_postgres(url: &str) -> Result<Self, ConnectError> {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect(url)
            .await
            .map_err(ConnectError::Database)?;
        Ok(Self::postgres(pool))
    }

    /// A store on an existing PostgreSQL pool.
    #[cfg(feature = "postgres")]
    #[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
    #[must_use]
    pub fn postgres(pool: sqlx::PgPool) -> Self {
        Self::new(Pool::Postgres(pool), Dialect::Postgres)
    }

    /// Opens (creating it if missing) the SQLite database at `url`, in WAL mode so readers do
    /// not wait for the writer, with a busy timeout of [`SQLITE_BUSY_TIMEOUT`].
    ///
    /// # Errors
    /// [`ConnectError::Database`] when the file cannot be opened or created.
    #[cfg(feature = "sqlite")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
    pub async fn connect_sqlite(url: &str) -> Result<Self, ConnectError> {
        use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
        use std::str::FromStr;
        let options = SqliteConnectOptions::from_str(url)
            .map_err(ConnectError::Database)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(SQLITE_BUSY_TIMEOUT);
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(ConnectError::Database)?;
        Ok(Self::sqlite(pool))
    }

    /// A store on an existing SQLite pool.
    #[cfg(feature = "sqlite")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
    #[must_use]
    pub fn sqlite(pool: sqlx::SqlitePool) -> Self {
        Self::new(Pool::Sqlite(pool), Dialect::Sqlite)
    }

    /// The same database, with sessions in `table` (and locks in `<table>_locks`) instead of
    /// [`DEFAULT_TABLE`]: several apps in one database, or a table per test.
    ///
    /// # Errors
    /// [`InvalidTableName`] for anything but a plain lowercase identifier (see [`TableName`]).
    pub fn with_table(&self, table: &str) -> Result<Self, InvalidTableName> {
        let table = TableName::new(table)?;
        let queries = Queries::new(self.inner.dialect, &table);
        Ok(SqlStore {
            inner: Arc::new(Inner {
                pool: self.inner.pool.clone(),
                dialect: self.inner.dialect,
                table,
                queries,
            }),
        })
    }

    /// The sessions table's name.
    #[must_use]
    pub fn table(&self) -> &str {
        self.inner.table.as_str()
    }

    /// Creates the tables and indexes if they are missing; safe to call from every server at
    /// every start.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the database refuses (no right to create tables: run
    /// [`schema_sql`](Self::schema_sql) as an administrator instead).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let statements = schema::schema(self.inner.dialect, &self.inner.table);
        self.inner
            .pool
            .run_schema(&statements)
            .await
            .map_err(unavailable)
    }

    /// The SQL [`migrate`](Self::migrate) runs, for a schema managed by hand.
    #[must_use]
    pub fn schema_sql(&self) -> String {
        let statements = schema::schema(self.inner.dialect, &self.inner.table);
        statements.join(";\n\n") + ";\n"
    }

    /// Deletes expired sessions and lock leases now; returns how many sessions went.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the database fails.
    pub async fn sweep(&self) -> Result<u64, StoreError> {
        let Inner { pool, queries, .. } = &*self.inner;
        let sessions = pool
            .execute(&queries.sweep_sessions, &[])
            .await
            .map_err(unavailable)?;
        pool.execute(&queries.sweep_locks, &[])
            .await
            .map_err(unavailable)?;
        Ok(sessions)
    }

    /// Sweeps every `every` (at least a second) in a background task, until the returned
    /// [`Sweeper`] is dropped. Needs a Tokio runtime.
    pub fn spawn_sweeper(&self, every: Duration) -> Sweeper {
        Sweeper::spawn(self.clone(), every)
    }
}

/// A database failure, as the layer sees it.
fn unavailable(err: sqlx::Error) -> StoreError {
    StoreError::Unavailable(Box::new(err))
}
