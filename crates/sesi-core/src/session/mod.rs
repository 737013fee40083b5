//! The session a handler sees: a dict-like JSON object with Pyramid's semantics, typed access,
//! flash messages and CSRF tokens. A cheap-`Clone` handle over shared state.
//!
//! What a handler may call is the public face of [`Session`]; what the middleware needs to finish
//! a request (did the handler touch the session, what is owed to the browser and the store) is
//! in [`lifecycle`], apart from it.

mod config;
mod csrf;
mod engine;
mod expiry;
#[cfg(feature = "http")]
mod extract;
mod flash;
mod guard;
pub mod lifecycle;
#[cfg(feature = "axum")]
mod response;
mod state;
mod status;
#[cfg(test)]
mod tests;
mod user;

use std::sync::{Arc, Mutex, MutexGuard};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

pub use config::{
    DEFAULT_MAX_STORED_SIZE, DEFAULT_TIMEOUT, MAX_COOKIE_SIZE, MAX_FUTURE_SKEW, SessionConfig,
    SessionConfigError, StorageMode,
};
pub use engine::SessionEngine;
pub use expiry::{Expiry, MAX_EXPIRY};
#[cfg(feature = "http")]
pub use extract::{
    LazySession, LoadSession, MissingSessionLayer, SessionRejection, SessionUnavailable,
};
pub use flash::MAX_FLASH_MESSAGES;
pub use lifecycle::{CookieStep, Incoming, Lifecycle, Plan, Save};
pub use status::{CookieStatus, SetReason};
pub(crate) use user::user_of;
pub use user::{MAX_USER_LEN, USER_KEY};

use crate::id::SessionId;
use crate::record::Record;
use state::Inner;

/// A session operation that could not be done. The session is unchanged when one is returned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The stored value does not have the requested type.
    #[error("session value {key:?} does not have the requested type")]
    Deserialize {
        /// The key read.
        key: String,
        /// What serde_json said.
        #[source]
        source: serde_json::Error,
    },
    /// The value cannot be represented as JSON (for example a map with non-string keys).
    #[error("value for session key {key:?} cannot be stored as JSON")]
    Serialize {
        /// The key written.
        key: String,
        /// What serde_json said.
        #[source]
        source: serde_json::Error,
    },
    /// The request this session belongs to is over (its response is sent, or being sent): the
    /// write would reach neither the browser nor the store, so it was refused. A task spawned by
    /// a handler must finish its session writes before the handler returns.
    #[error("session written after its request ended; the write was refused")]
    Closed,
    /// [`Session::set_expiry`] was given a max age no cookie can carry.
    #[error("invalid session expiry {max_age:?}: {why}")]
    InvalidExpiry {
        /// The max age given.
        max_age: std::time::Duration,
        /// The rule it breaks.
        why: &'static str,
    },
    /// [`Session::set_user`] was given an id no store index can hold.
    #[error("invalid user id for a session: {why}")]
    InvalidUser {
        /// The rule it breaks.
        why: &'static str,
    },
    /// The change would make the cookie larger than the limit; it was not applied.
    #[error("session cookie would be {bytes} bytes, limit is {limit}")]
    TooLarge {
        /// Size the Set-Cookie would have had.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
}

/// The session of the current request.
///
/// Reads mark the session accessed (which may re-issue the cookie, see
/// [`SessionConfig::reissue_time`]); writes mark it changed, so the response carries a new cookie.
/// Nested values are changed through [`update`](Self::update), which always marks the session
/// changed: Pyramid's "mutated a nested dict but forgot `changed()`" trap cannot happen.
///
/// ```
/// use std::sync::Arc;
/// use sesi_core::session::{CookieStep, Lifecycle, SessionConfig, SessionEngine};
/// use sesi_core::{Secret, Secrets};
///
/// let secrets = Secrets::new(Secret::new("an example secret that is long enough")?);
/// let engine = Arc::new(SessionEngine::new(secrets, SessionConfig::default())?);
///
/// let request = Lifecycle::begin(&engine, None); // a request without a cookie
/// let visits = request.session().update("counter", |n: &mut i64| { *n += 1; *n })?;
/// assert_eq!(visits, 1);
/// let CookieStep::Set(cookie) = request.plan().cookie else { panic!("a write sets the cookie") };
///
/// let next = Lifecycle::begin(&engine, Some(cookie)); // the browser sends it back
/// assert_eq!(next.session().get::<i64>("counter")?, Some(1));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Session {
    inner: Arc<Mutex<Inner>>,
}

impl Session {
    fn new(inner: Inner) -> Self {
        Session {
            inner: Arc::new(Mutex::new(inner)),
        }
    }

    /// The state for a getter whose answer depends on the cookie (`is_new`, `status`, ...): not an
    /// access (no reissue, no store needed), but the response now depends on the cookie, so the
    /// middleware marks it `Vary: Cookie` and `Cache-Control: private`.
    fn peek(&self) -> MutexGuard<'_, Inner> {
        let mut inner = self.lock();
        inner.peeked = true;
        inner
    }

    /// The state for a write, or [`SessionError::Closed`] (logged as an error) once the request
    /// is over.
    fn write(&self) -> Result<MutexGuard<'_, Inner>, SessionError> {
        let inner = self.lock();
        if inner.closed {
            drop(inner);
            tracing::error!(
                "a session was written after its request ended; the write was refused (finish \
                 session writes before the handler returns)"
            );
            return Err(SessionError::Closed);
        }
        Ok(inner)
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic in another handler holding the lock leaves consistent data behind: every
        // mutation is a single map operation.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads `key` as a `T`; `Ok(None)` when absent.
    ///
    /// # Errors
    /// [`SessionError::Deserialize`] when the stored value is not a `T`.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, SessionError> {
        let mut inner = self.lock();
        let Some(value) = inner.access().get(key) else {
            return Ok(None);
        };
        T::deserialize(value)
            .map(Some)
            .map_err(|source| SessionError::Deserialize {
                key: key.to_owned(),
                source,
            })
    }

    /// Reads `key` as raw JSON.
    #[must_use]
    pub fn get_value(&self, key: &str) -> Option<Value> {
        self.lock().access().get(key).cloned()
    }

    /// Stores `value` under `key`, keeping the key's position if it exists.
    ///
    /// # Errors
    /// [`SessionError::Serialize`] when `value` cannot be JSON; the session is unchanged.
    pub fn insert<T: Serialize + ?Sized>(
        &self,
        key: impl Into<String>,
        value: &T,
    ) -> Result<(), SessionError> {
        let key = key.into();
        let value = Self::to_json(&key, value)?;
        self.write()?.change().insert(key, value);
        Ok(())
    }

    /// Reads `key` as a `T` (or `T::default()` when absent), lets `f` change it, stores the result
    /// and marks the session changed. Returns what `f` returns. The lock is not held while `f` runs.
    ///
    /// # Errors
    /// [`SessionError::Deserialize`] when the stored value is not a `T` (it is left untouched), or
    /// [`SessionError::Serialize`].
    pub fn update<T, R>(&self, key: &str, f: impl FnOnce(&mut T) -> R) -> Result<R, SessionError>
    where
        T: DeserializeOwned + Serialize + Default,
    {
        let mut value: T = self.get(key)?.unwrap_or_default();
        let result = f(&mut value);
        let value = Self::to_json(key, &value)?;
        let mut inner = self.write()?;
        let state = inner.change();
        // Replace in place when the key exists: no new key string, same position.
        match state.get_mut(key) {
            Some(slot) => *slot = value,
            None => {
                state.insert(key.to_owned(), value);
            }
        }
        Ok(result)
    }

    /// Stores `value` as JSON.
    fn to_json<T: Serialize + ?Sized>(key: &str, value: &T) -> Result<Value, SessionError> {
        serde_json::to_value(value).map_err(|source| SessionError::Serialize {
            key: key.to_owned(),
            source,
        })
    }

    /// Removes `key`, returning its raw value. Marks the session changed only if the key existed.
    /// After the request ended: refused (logged), `None`.
    pub fn remove(&self, key: &str) -> Option<Value> {
        let mut inner = self.write().ok()?;
        if !inner.access().contains_key(key) {
            return None;
        }
        inner.change().shift_remove(key)
    }

    /// True when `key` is present.
    #[must_use]
    pub fn contains(&self, key: &str) -> bool {
        self.lock().access().contains_key(key)
    }

    /// The keys, in insertion order.
    #[must_use]
    pub fn keys(&self) -> Vec<String> {
        self.lock().access().keys().cloned().collect()
    }

    /// Number of keys.
    #[must_use]
    pub fn len(&self) -> usize {
        self.lock().access().len()
    }

    /// True when the state holds no keys.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.lock().access().is_empty()
    }

    /// A copy of the whole state.
    #[must_use]
    pub fn state(&self) -> Map<String, Value> {
        self.lock().access().clone()
    }

    /// Removes every key (Pyramid's `clear`); the cookie is re-sent with an empty state.
    pub fn clear(&self) {
        if let Ok(mut inner) = self.write() {
            inner.change().clear();
        }
    }

    /// Marks the session changed, so the cookie is re-sent (Pyramid's `changed()`).
    pub fn changed(&self) {
        if let Ok(mut inner) = self.write() {
            inner.change();
        }
    }

    /// Ends the session: clears the state and removes the cookie from the browser. Writes after
    /// this start a brand-new session (new `created`, no CSRF token), which is what a login needs.
    /// For a session kept in a store, the stored copy is deleted, so every copy of the cookie is
    /// dead at once.
    pub fn invalidate(&self) {
        if let Ok(mut inner) = self.write() {
            inner.invalidate();
        }
    }

    /// The id of the session in the store, when it lives in one (never for cookie sessions).
    #[must_use]
    pub fn id(&self) -> Option<SessionId> {
        self.lock().id
    }

    /// Gives a store-backed session a new id and keeps its data; the old id stops working at once.
    /// Call it when the visitor's privileges change (at login), so an id planted or seen before
    /// (session fixation) is worthless afterwards. For a cookie session it only re-issues the cookie.
    pub fn cycle_id(&self) {
        if let Ok(mut inner) = self.write() {
            inner.cycle = true;
            inner.change();
        }
    }

    /// True for a session that did not come from a valid cookie (or was invalidated).
    #[must_use]
    pub fn is_new(&self) -> bool {
        self.peek().data().new
    }

    /// When the session was created, in seconds since the epoch; `None` when its cookie format
    /// does not record it.
    #[must_use]
    pub fn created(&self) -> Option<f64> {
        self.peek().data().record.created.map(|c| c.as_secs_f64())
    }

    /// When the session was last accessed, in seconds since the epoch.
    #[must_use]
    pub fn accessed(&self) -> f64 {
        self.peek().data().record.accessed.as_secs_f64()
    }

    /// When the cookie this request carried was issued (Pyramid's `renewed`).
    #[must_use]
    pub fn renewed(&self) -> f64 {
        self.peek().data().renewed
    }

    /// What the request's cookie turned out to be. Not an access (no reissue), but the response is
    /// marked as depending on the cookie.
    #[must_use]
    pub fn status(&self) -> CookieStatus {
        self.peek().data().status.clone()
    }

    /// A copy of the record as it would be written now. Not an access (no reissue), but the response
    /// is marked as depending on the cookie.
    #[must_use]
    pub fn record(&self) -> Record {
        self.peek().data().record.clone()
    }
}
