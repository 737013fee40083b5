//! The tables and every statement the store runs, written once for both databases: they share
//! the SQL (`$N` parameters, `ON CONFLICT ... DO UPDATE ... WHERE`, `IS DISTINCT FROM`) and
//! differ only in column types and in how they read the clock.
//!
//! Times are milliseconds since the epoch by the **database's** clock, so every app server
//! agrees on when a session or a lock lease ends however their own clocks drift.

use std::sync::Arc;

/// The default name of the sessions table; its locks live in `<name>_locks`.
pub const DEFAULT_TABLE: &str = "sesi_sessions";

/// Which SQL a database speaks. (A build with one database feature never makes the other.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(all(feature = "postgres", feature = "sqlite")), allow(dead_code))]
pub(crate) enum Dialect {
    Postgres,
    Sqlite,
}

impl Dialect {
    /// Now, in milliseconds since the epoch, by the database's clock.
    fn now(self) -> &'static str {
        match self {
            Dialect::Postgres => "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT",
            Dialect::Sqlite => "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)",
        }
    }

    fn bytes(self) -> &'static str {
        match self {
            Dialect::Postgres => "BYTEA",
            Dialect::Sqlite => "BLOB",
        }
    }

    fn int(self) -> &'static str {
        match self {
            Dialect::Postgres => "BIGINT",
            Dialect::Sqlite => "INTEGER",
        }
    }
}

/// A table name that is safe to put in SQL text: an identifier of lowercase ASCII letters,
/// digits and underscores, starting with a letter or an underscore, at most 48 bytes (so its
/// `_locks` table and index names stay within PostgreSQL's 63).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableName(String);

/// A table name [`TableName::new`] refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid table name {0:?}: use lowercase ASCII letters, digits and '_', starting with a \
     letter or '_', at most 48 bytes"
)]
pub struct InvalidTableName(pub String);

impl TableName {
    /// Checks `name`.
    ///
    /// # Errors
    /// [`InvalidTableName`] for anything but a plain lowercase identifier.
    pub fn new(name: &str) -> Result<Self, InvalidTableName> {
        let mut chars = name.chars();
        let first_ok = chars
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_');
        let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if first_ok && rest_ok && name.len() <= 48 {
            Ok(TableName(name.to_owned()))
        } else {
            Err(InvalidTableName(name.to_owned()))
        }
    }

    /// The name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for TableName {
    fn default() -> Self {
        TableName(DEFAULT_TABLE.to_owned())
    }
}

/// The statements that create the tables and indexes, idempotently (`IF NOT EXISTS`).
pub(crate) fn schema(dialect: Dialect, table: &TableName) -> Vec<String> {
    let (t, bytes, int) = (table.as_str(), dialect.bytes(), dialect.int());
    vec![
        format!(
            "CREATE TABLE IF NOT EXISTS {t} (\n    id {bytes} PRIMARY KEY,\n    data {bytes} NOT \
             NULL,\n    expires_at {int},\n    user_id TEXT\n)"
        ),
        format!("CREATE INDEX IF NOT EXISTS {t}_expires_at ON {t} (expires_at)"),
        format!(
            "CREATE INDEX IF NOT EXISTS {t}_user_id ON {t} (user_id) WHERE user_id IS NOT NULL"
        ),
        format!(
            "CREATE TABLE IF NOT EXISTS {t}_locks (\n    id {bytes} PRIMARY KEY,\n    token \
             {bytes} NOT NULL,\n    expires_at {int} NOT NULL\n)"
        ),
    ]
}

/// Every statement of the store, prepared once per store. Parameters: `$1` the session id
/// (16 bytes), then as each comment says; a time-to-live is in milliseconds, `NULL` for never.
#[derive(Debug)]
pub(crate) struct Queries {
    /// `$1` id -> data of a live session.
    pub load: Arc<str>,
    /// `$1` id, `$2` data, `$3` ttl, `$4` user (or `NULL`): insert or replace.
    pub upsert: Arc<str>,
    /// As `upsert`, but only over a live session.
    pub update: Arc<str>,
    /// `$1` id.
    pub delete: Arc<str>,
    /// `$1` id, `$2` token, `$3` lease: one row affected when the lock was taken.
    pub lock: Arc<str>,
    /// `$1` id, `$2` token.
    pub unlock: Arc<str>,
    /// `$1` user -> (id, data) of the user's live sessions.
    pub user_sessions: Arc<str>,
    /// `$1` user, `$2` the id to keep (or `NULL`): ends the user's live sessions.
    pub delete_user: Arc<str>,
    /// PostgreSQL only: `upsert` of a session without a user, and the lock of `$1` released if
    /// `$5` holds it, in one statement (one round trip; both or neither). SQLite has no
    /// data-modifying `WITH`, so it sends the two. (The lock is not taken and read in one
    /// statement the same way: the read would see the snapshot from before the lock was taken,
    /// which can miss the previous holder's save.)
    pub save_and_unlock: Option<Arc<str>>,
    /// Removes expired sessions.
    pub sweep_sessions: Arc<str>,
    /// Removes expired lock leases.
    pub sweep_locks: Arc<str>,
}

impl Queries {
    pub(crate) fn new(dialect: Dialect, table: &TableName) -> Self {
        let (t, now) = (table.as_str(), dialect.now());
        let live = format!("(expires_at IS NULL OR expires_at > {now})");
        let q = |sql: String| -> Arc<str> { sql.into() };
        let upsert = format!(
            "INSERT INTO {t} (id, data, expires_at, user_id) VALUES ($1, $2, {now} + $3, $4) \
             ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data, \
             expires_at = EXCLUDED.expires_at, user_id = EXCLUDED.user_id"
        );
        let save_and_unlock = (dialect == Dialect::Postgres).then(|| {
            q(format!(
                "WITH saved AS ({upsert} RETURNING 1) \
                 DELETE FROM {t}_locks WHERE id = $1 AND token = $5"
            ))
        });
        Queries {
            load: q(format!("SELECT data FROM {t} WHERE id = $1 AND {live}")),
            upsert: q(upsert),
            save_and_unlock,
            update: q(format!(
                "UPDATE {t} SET data = $2, expires_at = {now} + $3, user_id = $4 \
                 WHERE id = $1 AND {live}"
            )),
            delete: q(format!("DELETE FROM {t} WHERE id = $1")),
            lock: q(format!(
                "INSERT INTO {t}_locks (id, token, expires_at) VALUES ($1, $2, {now} + $3) \
                 ON CONFLICT (id) DO UPDATE SET token = EXCLUDED.token, \
                 expires_at = EXCLUDED.expires_at WHERE {t}_locks.expires_at <= {now}"
            )),
            unlock: q(format!(
                "DELETE FROM {t}_locks WHERE id = $1 AND token = $2"
            )),
            user_sessions: q(format!(
                "SELECT id, data FROM {t} WHERE user_id = $1 AND {live}"
            )),
            delete_user: q(format!(
                "DELETE FROM {t} WHERE user_id = $1 AND {live} AND id IS DISTINCT FROM $2"
            )),
            sweep_sessions: q(format!("DELETE FROM {t} WHERE expires_at <= {now}")),
            sweep_locks: q(format!("DELETE FROM {t}_locks WHERE expires_at <= {now}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_lowercase_identifiers_are_table_names() {
        for good in ["sesi_sessions", "_t", "a1", &"t".repeat(48)] {
            assert!(TableName::new(good).is_ok(), "{good:?}");
        }
        for bad in [
            "",
            "1abc",
            "Sessions",
            "a-b",
            "a b",
            "s; DROP TABLE users",
            "\"quoted\"",
            "schema.table",
            "é",
            &"t".repeat(49),
        ] {
            assert_eq!(
                TableName::new(bad),
                Err(InvalidTableName(bad.to_owned())),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn the_table_name_is_the_only_thing_spliced_into_the_sql() {
        let table = TableName::new("my_sessions").expect("valid");
        let queries = Queries::new(Dialect::Postgres, &table);
        assert!(queries.lock.contains("my_sessions_locks"));
        assert!(!queries.load.contains("sesi_sessions"));
        let ddl = schema(Dialect::Sqlite, &table).join(";\n");
        assert!(ddl.contains("CREATE TABLE IF NOT EXISTS my_sessions ("));
        assert!(ddl.contains("id BLOB PRIMARY KEY"));
    }
}
