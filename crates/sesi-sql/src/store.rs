//! [`SessionStore`] for [`SqlStore`]: every method is one statement.

use std::time::Duration;

use sesi_core::store::{BoxFuture, LockToken, SessionId, SessionStore, StoreError, StoredSession};

use crate::pool::Arg;
use crate::{SqlStore, unavailable};

/// The longest time-to-live the store writes: a hundred years, far from overflowing the
/// database's 64-bit milliseconds when added to now.
const MAX_TTL_MS: i64 = 100 * 365 * 24 * 3600 * 1000;

/// A time-to-live in milliseconds for SQL (`NULL`: never expires).
fn ttl_ms(ttl: Option<Duration>) -> Option<i64> {
    ttl.map(|ttl| i64::try_from(ttl.as_millis()).map_or(MAX_TTL_MS, |ms| ms.min(MAX_TTL_MS)))
}

/// A session id read back from the table; a row that is not 16 bytes was not written by sesi.
fn id_of(bytes: &[u8]) -> Option<SessionId> {
    match <[u8; 16]>::try_from(bytes) {
        Ok(bytes) => Some(SessionId::from_bytes(bytes)),
        Err(_) => {
            tracing::warn!(
                len = bytes.len(),
                "a row in the sessions table has an invalid id"
            );
            None
        }
    }
}

impl SqlStore {
    /// Inserts or replaces (`update_only`: replaces a live session only) the session `id`.
    fn put(
        &self,
        id: SessionId,
        data: Vec<u8>,
        ttl: Option<Duration>,
        user: Option<&str>,
        update_only: bool,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        let user = user.map(str::to_owned);
        Box::pin(async move {
            let queries = &self.inner.queries;
            let sql = if update_only {
                &queries.update
            } else {
                &queries.upsert
            };
            let args = [
                Arg::Bytes(id.as_bytes()),
                Arg::Bytes(&data),
                Arg::OptInt(ttl_ms(ttl)),
                Arg::OptText(user.as_deref()),
            ];
            self.inner
                .pool
                .execute(sql, &args)
                .await
                .map_err(unavailable)?;
            Ok(())
        })
    }
}

impl SessionStore for SqlStore {
    fn load(&self, id: SessionId) -> BoxFuture<'_, Result<Option<Vec<u8>>, StoreError>> {
        Box::pin(async move {
            let args = [Arg::Bytes(id.as_bytes())];
            let Self { inner } = self;
            inner
                .pool
                .fetch_bytes(&inner.queries.load, &args)
                .await
                .map_err(unavailable)
        })
    }

    fn save(
        &self,
        id: SessionId,
        data: Vec<u8>,
        ttl: Option<Duration>,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        self.put(id, data, ttl, None, false)
    }

    fn delete(&self, id: SessionId) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            let args = [Arg::Bytes(id.as_bytes())];
            let Self { inner } = self;
            inner
                .pool
                .execute(&inner.queries.delete, &args)
                .await
                .map_err(unavailable)?;
            Ok(())
        })
    }

    fn try_lock(
        &self,
        id: SessionId,
        token: LockToken,
        lease: Duration,
    ) -> BoxFuture<'_, Result<bool, StoreError>> {
        Box::pin(async move {
            let token = token.to_hex();
            let args = [
                Arg::Bytes(id.as_bytes()),
                Arg::Bytes(token.as_bytes()),
                Arg::OptInt(ttl_ms(Some(lease))),
            ];
            let Self { inner } = self;
            let taken = inner
                .pool
                .execute(&inner.queries.lock, &args)
                .await
                .map_err(unavailable)?;
            Ok(taken == 1)
        })
    }

    fn unlock(&self, id: SessionId, token: LockToken) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            let token = token.to_hex();
            let args = [Arg::Bytes(id.as_bytes()), Arg::Bytes(token.as_bytes())];
            let Self { inner } = self;
            inner
                .pool
                .execute(&inner.queries.unlock, &args)
                .await
                .map_err(unavailable)?;
            Ok(())
        })
    }

    /// One statement in PostgreSQL (see `Queries::save_and_unlock`), two in SQLite.
    fn save_and_unlock(
        &self,
        id: SessionId,
        data: Vec<u8>,
        ttl: Option<Duration>,
        _returning: bool,
        token: LockToken,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            let Self { inner } = self;
            let Some(sql) = &inner.queries.save_and_unlock else {
                self.save(id, data, ttl).await?;
                return self.unlock(id, token).await;
            };
            let token = token.to_hex();
            let args = [
                Arg::Bytes(id.as_bytes()),
                Arg::Bytes(&data),
                Arg::OptInt(ttl_ms(ttl)),
                Arg::OptText(None),
                Arg::Bytes(token.as_bytes()),
            ];
            inner.pool.execute(sql, &args).await.map_err(unavailable)?;
            Ok(())
        })
    }

    fn save_user_session(
        &self,
        id: SessionId,
        data: Vec<u8>,
        ttl: Option<Duration>,
        user: &str,
        update_only: bool,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        self.put(id, data, ttl, Some(user), update_only)
    }

    fn user_sessions(&self, user: &str) -> BoxFuture<'_, Result<Vec<StoredSession>, StoreError>> {
        let user = user.to_owned();
        Box::pin(async move {
            let args = [Arg::OptText(Some(&user))];
            let Self { inner } = self;
            let rows = inner
                .pool
                .fetch_pairs(&inner.queries.user_sessions, &args)
                .await
                .map_err(unavailable)?;
            Ok(rows
                .into_iter()
                .filter_map(|(id, data)| {
                    Some(StoredSession {
                        id: id_of(&id)?,
                        data,
                    })
                })
                .collect())
        })
    }

    fn delete_user_sessions(
        &self,
        user: &str,
        keep: Option<SessionId>,
    ) -> BoxFuture<'_, Result<usize, StoreError>> {
        let user = user.to_owned();
        Box::pin(async move {
            let keep = keep.as_ref().map(|id| id.as_bytes().as_slice());
            let args = [Arg::OptText(Some(&user)), Arg::OptBytes(keep)];
            let Self { inner } = self;
            let ended = inner
                .pool
                .execute(&inner.queries.delete_user, &args)
                .await
                .map_err(unavailable)?;
            Ok(usize::try_from(ended).unwrap_or(usize::MAX))
        })
    }
}
