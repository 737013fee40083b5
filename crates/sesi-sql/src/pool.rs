//! The one place that knows which database the store talks to: it binds the store's few
//! argument types and runs a statement on a PostgreSQL or an SQLite pool. Everything above it is
//! written once.

use std::sync::Arc;

use sqlx::AssertSqlSafe;

/// A statement argument.
#[derive(Debug)]
pub(crate) enum Arg<'a> {
    Bytes(&'a [u8]),
    OptBytes(Option<&'a [u8]>),
    OptInt(Option<i64>),
    OptText(Option<&'a str>),
}

/// A connection pool to one of the databases.
#[derive(Debug, Clone)]
pub(crate) enum Pool {
    #[cfg(feature = "postgres")]
    Postgres(sqlx::PgPool),
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::SqlitePool),
}

/// Binds `args` in order onto a query of any database that takes the store's argument types.
macro_rules! bind_all {
    ($sql:expr, $args:expr) => {{
        let mut query = sqlx::query(AssertSqlSafe(Arc::clone($sql)));
        for arg in $args {
            query = match *arg {
                Arg::Bytes(bytes) => query.bind(bytes),
                Arg::OptBytes(bytes) => query.bind(bytes),
                Arg::OptInt(int) => query.bind(int),
                Arg::OptText(text) => query.bind(text),
            };
        }
        query
    }};
}

impl Pool {
    /// Runs `sql`; the number of rows it changed.
    pub(crate) async fn execute(&self, sql: &Arc<str>, args: &[Arg<'_>]) -> sqlx::Result<u64> {
        match self {
            #[cfg(feature = "postgres")]
            Pool::Postgres(pool) => Ok(bind_all!(sql, args).execute(pool).await?.rows_affected()),
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(pool) => Ok(bind_all!(sql, args).execute(pool).await?.rows_affected()),
        }
    }

    /// Runs `sql`, which selects one bytes column; its value in the first row, if any.
    pub(crate) async fn fetch_bytes(
        &self,
        sql: &Arc<str>,
        args: &[Arg<'_>],
    ) -> sqlx::Result<Option<Vec<u8>>> {
        use sqlx::Row;
        match self {
            #[cfg(feature = "postgres")]
            Pool::Postgres(pool) => bind_all!(sql, args)
                .fetch_optional(pool)
                .await?
                .map(|row| row.try_get(0))
                .transpose(),
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(pool) => bind_all!(sql, args)
                .fetch_optional(pool)
                .await?
                .map(|row| row.try_get(0))
                .transpose(),
        }
    }

    /// Runs `sql`, which selects two bytes columns; every row.
    pub(crate) async fn fetch_pairs(
        &self,
        sql: &Arc<str>,
        args: &[Arg<'_>],
    ) -> sqlx::Result<Vec<(Vec<u8>, Vec<u8>)>> {
        use sqlx::Row;
        match self {
            #[cfg(feature = "postgres")]
            Pool::Postgres(pool) => bind_all!(sql, args)
                .fetch_all(pool)
                .await?
                .iter()
                .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
                .collect(),
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(pool) => bind_all!(sql, args)
                .fetch_all(pool)
                .await?
                .iter()
                .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
                .collect(),
        }
    }

    /// Runs `statements` in one transaction, after taking `guard`: PostgreSQL's transaction
    /// advisory lock (so servers starting together do not race on `CREATE ... IF NOT EXISTS`),
    /// SQLite's write lock (`BEGIN IMMEDIATE`).
    pub(crate) async fn run_schema(&self, statements: &[String]) -> sqlx::Result<()> {
        match self {
            #[cfg(feature = "postgres")]
            Pool::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                // Any constant works: it only has to be the same for every sesi server.
                sqlx::query("SELECT pg_advisory_xact_lock(7365736901)")
                    .execute(&mut *tx)
                    .await?;
                for statement in statements {
                    sqlx::query(AssertSqlSafe(statement.as_str()))
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await
            }
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(pool) => {
                let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                for statement in statements {
                    sqlx::query(AssertSqlSafe(statement.as_str()))
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await
            }
        }
    }
}
