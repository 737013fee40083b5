//! Server-side session stores: the state lives on the server, the cookie carries only a signed,
//! random 128-bit session id.
//!
//! The [`SessionStore`] trait is deliberately small (load, save with a time-to-live, delete, and a
//! lease-based lock) and stores opaque bytes, so a store never needs to understand sessions. The
//! bytes are the same `[accessed, created, state]` JSON the cookie format uses.

#[cfg(feature = "test-util")]
pub mod contract;
mod memory;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

pub use memory::MemoryStore;

/// A boxed, sendable future, as store methods return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A random 128-bit session id. It is a bearer credential: `Debug` and `Display` show only a
/// short prefix; [`SessionId::to_hex`] gives the whole id for store keys.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId([u8; 16]);

impl SessionId {
    /// A fresh id from the OS random number generator.
    ///
    /// # Panics
    /// If the OS generator fails, which leaves no safe way to mint ids.
    #[must_use]
    pub fn generate() -> Self {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes)
            .expect("the OS random number generator must work to mint session ids");
        SessionId(bytes)
    }

    /// An id from its 16 bytes.
    #[must_use]
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        SessionId(bytes)
    }

    /// The 16 bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// 32 lowercase hex characters.
    #[must_use]
    pub fn to_hex(&self) -> String {
        crate::hex(&self.0)
    }

    /// Parses 32 hex characters.
    #[must_use]
    pub fn from_hex(text: &str) -> Option<Self> {
        let text = text.as_bytes();
        if text.len() != 32 {
            return None;
        }
        let digit = |c: u8| {
            char::from(c)
                .to_digit(16)
                .and_then(|d| u8::try_from(d).ok())
        };
        let mut bytes = [0u8; 16];
        for (i, pair) in text.chunks_exact(2).enumerate() {
            bytes[i] = digit(pair[0])? << 4 | digit(pair[1])?;
        }
        Some(SessionId(bytes))
    }

    /// The first 8 hex characters, for logs and the inspector.
    #[must_use]
    pub fn short(&self) -> String {
        crate::hex(&self.0[..4])
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({}…)", self.short())
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}…", self.short())
    }
}

/// A random token that proves who holds a session lock.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct LockToken([u8; 16]);

impl LockToken {
    /// A fresh token.
    #[must_use]
    pub fn generate() -> Self {
        LockToken(SessionId::generate().0)
    }

    /// 32 lowercase hex characters.
    #[must_use]
    pub fn to_hex(&self) -> String {
        crate::hex(&self.0)
    }
}

impl fmt::Debug for LockToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LockToken(..)")
    }
}

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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_hex_and_never_show_whole() {
        let id = SessionId::generate();
        assert_eq!(SessionId::from_hex(&id.to_hex()), Some(id));
        assert_ne!(SessionId::generate(), id);
        assert!(!format!("{id:?}").contains(&id.to_hex()));
        assert_eq!(SessionId::from_hex("zz"), None);
        assert_eq!(SessionId::from_hex(&"g".repeat(32)), None);
    }
}
