//! Server-side session stores: the state lives on the server, the cookie carries only a signed,
//! random 128-bit session id.
//!
//! The [`SessionStore`] trait is deliberately small (load, save with a time-to-live, delete, and a
//! lease-based lock) and stores opaque bytes, so a store never needs to understand sessions. The
//! bytes are the same `[accessed, created, state]` JSON the cookie format uses.

#[cfg(feature = "test-util")]
#[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
pub mod contract;
mod memory;
mod users;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

pub use crate::id::{LockToken, SessionId};
pub use memory::MemoryStore;
pub use users::{UserSession, UserSessions};

/// A boxed, sendable future, as store methods return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A store operation that failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The store could not be reached or answered with an error.
    #[error("session store unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The store did not answer within the configured time.
    #[error("session store did not answer within {0:?}")]
    Timeout(Duration),
    /// Another request of the same session held the lock for longer than the wait allowed.
    #[error("session is locked by another request (waited {0:?})")]
    LockTimeout(Duration),
    /// The store does not implement this operation (a third-party store without the user
    /// index behind [`SessionStore::save_user_session`]).
    #[error("this session store does not support {0}")]
    Unsupported(&'static str),
}

/// A session tied to a user, as [`SessionStore::user_sessions`] lists it: its id and its
/// stored bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    /// Where it lives.
    pub id: SessionId,
    /// The `[accessed, created, state]` JSON, as saved.
    pub data: Vec<u8>,
}

/// Where sessions are kept on the server.
///
/// Implementations must be safe to share between requests and servers: `save` replaces the whole
/// value and sets its time-to-live, `try_lock` is an atomic "set if absent, with expiry", and
/// `unlock` removes the lock only while it still holds the caller's token.
pub trait SessionStore: Send + Sync + fmt::Debug + 'static {
    /// The bytes saved under `id`, or `None` when absent or expired.
    fn load(&self, id: SessionId) -> BoxFuture<'_, Result<Option<Vec<u8>>, StoreError>>;

    /// Saves `data` under `id`, expiring after `ttl` (`None`: never).
    fn save(
        &self,
        id: SessionId,
        data: Vec<u8>,
        ttl: Option<Duration>,
    ) -> BoxFuture<'_, Result<(), StoreError>>;

    /// Saves the session of a visitor who came back with their cookie, under an `id` that may
    /// be new (a login's `cycle_id()`). A hint for stores whose eviction favours returning
    /// visitors, as [`MemoryStore`]'s does; by default the same as [`save`](Self::save).
    fn save_returning(
        &self,
        id: SessionId,
        data: Vec<u8>,
        ttl: Option<Duration>,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        self.save(id, data, ttl)
    }

    /// Removes `id`; removing an absent id is not an error.
    fn delete(&self, id: SessionId) -> BoxFuture<'_, Result<(), StoreError>>;

    /// Takes the lock of `id` for at most `lease` unless it is held (by any token: locks are not
    /// re-entrant); true when taken.
    fn try_lock(
        &self,
        id: SessionId,
        token: LockToken,
        lease: Duration,
    ) -> BoxFuture<'_, Result<bool, StoreError>>;

    /// Releases the lock of `id` if `token` still holds it.
    fn unlock(&self, id: SessionId, token: LockToken) -> BoxFuture<'_, Result<(), StoreError>>;

    /// Takes the lock of `id` as [`try_lock`](Self::try_lock) does and, when it was taken,
    /// reads the session: `None` when the lock is held elsewhere, `Some(bytes)` (the stored
    /// bytes, or `None`) when taken. By default the two calls; a store that can do both in one
    /// round trip (Redis, with a script) should.
    fn lock_and_load(
        &self,
        id: SessionId,
        token: LockToken,
        lease: Duration,
    ) -> BoxFuture<'_, Result<Option<Option<Vec<u8>>>, StoreError>> {
        Box::pin(async move {
            if !self.try_lock(id, token, lease).await? {
                return Ok(None);
            }
            self.load(id).await.map(Some)
        })
    }

    /// Saves `data` (as [`save_returning`](Self::save_returning) when `returning`, else as
    /// [`save`](Self::save)), then releases the lock `token` holds, as [`unlock`](Self::unlock)
    /// does. By default the two calls (no unlock when the save fails); a store that can do both
    /// in one round trip should.
    fn save_and_unlock(
        &self,
        id: SessionId,
        data: Vec<u8>,
        ttl: Option<Duration>,
        returning: bool,
        token: LockToken,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            if returning {
                self.save_returning(id, data, ttl).await?;
            } else {
                self.save(id, data, ttl).await?;
            }
            self.unlock(id, token).await
        })
    }

    /// Saves the session `id` of `user` as [`save`](Self::save) does and records it in the
    /// user's index, so [`user_sessions`](Self::user_sessions) lists it and
    /// [`delete_user_sessions`](Self::delete_user_sessions) ends it ("log out everywhere").
    ///
    /// With `update_only` (the session was loaded from the store under this id), the save
    /// happens only while the session is still stored: a request that was in flight when the
    /// session was deleted (revoked, invalidated, expired) must not bring it back.
    ///
    /// By default [`StoreError::Unsupported`]: a store without a user index cannot hold sessions
    /// tied to a user.
    fn save_user_session(
        &self,
        id: SessionId,
        data: Vec<u8>,
        ttl: Option<Duration>,
        user: &str,
        update_only: bool,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        let _ = (id, data, ttl, user, update_only);
        Box::pin(std::future::ready(Err(StoreError::Unsupported(
            "sessions tied to a user",
        ))))
    }

    /// The live sessions of `user`, in no particular order.
    fn user_sessions(&self, user: &str) -> BoxFuture<'_, Result<Vec<StoredSession>, StoreError>> {
        let _ = user;
        Box::pin(std::future::ready(Err(StoreError::Unsupported(
            "listing a user's sessions",
        ))))
    }

    /// Deletes every session of `user` but `keep` (if given); returns how many were deleted.
    /// When it returns, none of them loads any more, on any server.
    fn delete_user_sessions(
        &self,
        user: &str,
        keep: Option<SessionId>,
    ) -> BoxFuture<'_, Result<usize, StoreError>> {
        let _ = (user, keep);
        Box::pin(std::future::ready(Err(StoreError::Unsupported(
            "ending a user's sessions",
        ))))
    }
}
