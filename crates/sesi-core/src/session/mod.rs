//! The session a handler sees: a dict-like JSON object with Pyramid's semantics, typed access,
//! flash messages and CSRF tokens. A cheap-`Clone` handle over shared state.

pub mod csrf;
mod engine;
pub mod flash;
#[cfg(test)]
mod tests;

use std::sync::{Arc, Mutex, MutexGuard};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::codec::{Record, Timestamp};

pub use engine::{
    Commit, ConfigError, CookieStatus, DEFAULT_TIMEOUT, MAX_COOKIE_SIZE, MAX_FUTURE_SKEW,
    SessionConfig, SessionEngine, SetReason, StorageMode,
};

use crate::store::SessionId;

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
/// use sesi_core::{Codec, Commit, HashAlg, Secret, Secrets, SessionConfig, SessionEngine};
///
/// let secrets = Secrets::new(Secret::new("an example secret that is long enough")?);
/// let codec = Codec::new(&secrets, "pyramid.session.", HashAlg::Sha512);
/// let engine = Arc::new(SessionEngine::new(codec, SessionConfig::default())?);
///
/// let session = engine.session(None); // a request without a cookie
/// let visits = session.update("counter", |n: &mut i64| { *n += 1; *n })?;
/// assert_eq!(visits, 1);
/// let Commit::Set { value, .. } = session.commit() else { panic!("a write sets the cookie") };
///
/// let next = engine.session(Some(value)); // the browser sends it back
/// assert_eq!(next.get::<i64>("counter")?, Some(1));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Session {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug)]
struct Inner {
    engine: Arc<SessionEngine>,
    /// The cookie value, kept until the session is first used.
    raw: Option<String>,
    /// The time of this request, read from the engine's clock once, at first use (as Pyramid
    /// reads `time.time()` once per session object).
    now: Option<f64>,
    data: Option<Data>,
    /// Read or written: the response depends on the cookie (`Vary: Cookie`).
    touched: bool,
    /// Only looked at through a getter (`status`, `is_new`, ...): the response depends on the
    /// cookie, but nothing is due to the browser or the store.
    peeked: bool,
    /// Written by the handler since load (or since `invalidate`).
    written: bool,
    /// Read after `reissue_time` passed.
    reissue: bool,
    invalidated: bool,
    /// Where the state lives in the store, if it does.
    id: Option<SessionId>,
    /// `cycle_id()` was called: the next save uses a fresh id.
    cycle: bool,
    /// The fresh id a plan chose, kept so that planning twice (a preview, then the real end of
    /// the request) gives the same answer.
    next_id: Option<SessionId>,
}

#[derive(Debug)]
struct Data {
    record: Record,
    renewed: f64,
    new: bool,
    status: CookieStatus,
}

impl From<engine::Loaded> for Data {
    fn from(loaded: engine::Loaded) -> Self {
        Data {
            renewed: loaded.record.accessed.as_secs_f64(),
            record: loaded.record,
            new: loaded.new,
            status: loaded.status,
        }
    }
}

impl Inner {
    fn now(&mut self) -> f64 {
        let engine = &self.engine;
        *self.now.get_or_insert_with(|| engine.now())
    }

    fn data(&mut self) -> &mut Data {
        if self.data.is_none() {
            let now = self.now();
            let loaded = self.engine.load_at(self.raw.take().as_deref(), now);
            self.data = Some(loaded.into());
        }
        self.data.as_mut().expect("loaded just above")
    }

    /// Pyramid's `manage_accessed`: stamp `accessed`, maybe schedule a reissue.
    fn access(&mut self) -> &mut Map<String, Value> {
        let now = self.now().floor();
        let reissue_time = self.engine.config().reissue_time;
        self.touched = true;
        let data = self.data();
        data.record.accessed = Timestamp::Int(now as i64);
        let reissue = reissue_time.is_some_and(|rt| now - data.renewed > rt as f64);
        self.reissue |= reissue;
        &mut self.data.as_mut().expect("loaded by access").record.state
    }

    /// Pyramid's `manage_changed`: stamp `accessed` and mark the session for writing.
    fn change(&mut self) -> &mut Map<String, Value> {
        let now = self.now().floor();
        self.touched = true;
        self.written = true;
        let data = self.data();
        data.record.accessed = Timestamp::Int(now as i64);
        &mut data.record.state
    }
}

impl Session {
    pub(crate) fn lazy(engine: Arc<SessionEngine>, raw: Option<String>) -> Self {
        Session {
            inner: Arc::new(Mutex::new(Inner {
                engine,
                raw,
                now: None,
                data: None,
                touched: false,
                peeked: false,
                written: false,
                reissue: false,
                invalidated: false,
                id: None,
                cycle: false,
                next_id: None,
            })),
        }
    }

    /// A session loaded (and judged) at `now`, which then serves the rest of the request.
    pub(crate) fn loaded(
        engine: Arc<SessionEngine>,
        loaded: engine::Loaded,
        id: Option<SessionId>,
        now: f64,
    ) -> Self {
        let session = Session::lazy(engine, None);
        {
            let mut inner = session.lock();
            inner.id = id.filter(|_| !loaded.new);
            inner.now = Some(now);
            inner.data = Some(loaded.into());
        }
        session
    }

    /// The state for a getter whose answer depends on the cookie (`is_new`, `status`, ...): not an
    /// access (no reissue, no store needed), but the response now depends on the cookie, so the
    /// middleware marks it `Vary: Cookie` and `Cache-Control: private`.
    fn peek(&self) -> MutexGuard<'_, Inner> {
        let mut inner = self.lock();
        inner.peeked = true;
        inner
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
        let value = serde_json::to_value(value).map_err(|source| SessionError::Serialize {
            key: key.clone(),
            source,
        })?;
        self.lock().change().insert(key, value);
        Ok(())
    }

    /// Like [`insert`](Self::insert), but refuses a change that would make the cookie too large:
    /// the session is then left as it was and [`SessionError::TooLarge`] tells the size. Sessions
    /// kept in a store (or spilling into one) have no such limit, so there it never refuses.
    ///
    /// # Errors
    /// [`SessionError::Serialize`] or [`SessionError::TooLarge`].
    pub fn try_insert<T: Serialize + ?Sized>(
        &self,
        key: impl Into<String>,
        value: &T,
    ) -> Result<(), SessionError> {
        let key = key.into();
        let value = serde_json::to_value(value).map_err(|source| SessionError::Serialize {
            key: key.clone(),
            source,
        })?;
        self.try_store(key, value)
    }

    /// Stores `value` under `key` unless, for a cookie session, the cookie would then be too
    /// large: the session is then left exactly as it was. The one size guard behind every `try_`.
    pub(crate) fn try_store(&self, key: String, value: Value) -> Result<(), SessionError> {
        let mut inner = self.lock();
        let was_written = inner.written;
        let previous = inner.change().insert(key.clone(), value);
        if inner.engine.storage() != StorageMode::Cookie {
            return Ok(());
        }
        let bytes = inner.cookie_size();
        if bytes > MAX_COOKIE_SIZE {
            let state = inner.change();
            match previous {
                Some(previous) => {
                    state.insert(key, previous);
                }
                None => {
                    state.shift_remove(&key);
                }
            }
            inner.written = was_written;
            return Err(SessionError::TooLarge {
                bytes,
                limit: MAX_COOKIE_SIZE,
            });
        }
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
        let value = serde_json::to_value(&value).map_err(|source| SessionError::Serialize {
            key: key.to_owned(),
            source,
        })?;
        let mut inner = self.lock();
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

    /// Like [`update`](Self::update), but refuses the change if the cookie would become too large
    /// (never for sessions kept in a store, see [`try_insert`](Self::try_insert)).
    ///
    /// # Errors
    /// As [`update`](Self::update), plus [`SessionError::TooLarge`] (the session is unchanged).
    pub fn try_update<T, R>(
        &self,
        key: &str,
        f: impl FnOnce(&mut T) -> R,
    ) -> Result<R, SessionError>
    where
        T: DeserializeOwned + Serialize + Default,
    {
        let mut value: T = self.get(key)?.unwrap_or_default();
        let result = f(&mut value);
        self.try_insert(key, &value)?;
        Ok(result)
    }

    /// Removes `key`, returning its raw value. Marks the session changed only if the key existed.
    pub fn remove(&self, key: &str) -> Option<Value> {
        let mut inner = self.lock();
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
        self.lock().change().clear();
    }

    /// Marks the session changed, so the cookie is re-sent (Pyramid's `changed()`).
    pub fn changed(&self) {
        self.lock().change();
    }

    /// Ends the session: clears the state and removes the cookie from the browser. Writes after
    /// this start a brand-new session (new `created`, no CSRF token), which is what a login needs.
    pub fn invalidate(&self) {
        let mut inner = self.lock();
        inner.touched = true;
        inner.invalidated = true;
        inner.written = false;
        inner.reissue = false;
        let now = inner.now();
        let record = SessionEngine::fresh_record_at(now);
        let data = inner.data();
        data.renewed = record.accessed.as_secs_f64();
        data.record = record;
        data.new = true;
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
        let mut inner = self.lock();
        inner.cycle = true;
        inner.change();
    }

    /// True for a session that did not come from a valid cookie (or was invalidated).
    #[must_use]
    pub fn is_new(&self) -> bool {
        self.peek().data().new
    }

    /// When the session was created, in seconds since the epoch.
    #[must_use]
    pub fn created(&self) -> f64 {
        self.peek().data().record.created.as_secs_f64()
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

    /// Size in bytes of the Set-Cookie header value this session would produce now: the whole
    /// state in cookie mode, a signed id when it lives in a store (store mode, or spill-over
    /// once it outgrows [`MAX_COOKIE_SIZE`]).
    #[must_use]
    pub fn cookie_size(&self) -> usize {
        let mut inner = self.peek();
        let engine = Arc::clone(&inner.engine);
        if engine.storage() == StorageMode::Store {
            return engine.id_cookie_size();
        }
        // `Inner::cookie_size` is the whole state's.
        let whole = inner.cookie_size();
        if engine.storage() == StorageMode::Spill && whole > MAX_COOKIE_SIZE {
            engine.id_cookie_size()
        } else {
            whole
        }
    }

    /// True when the whole session still fits in one cookie ([`MAX_COOKIE_SIZE`] bytes), wherever
    /// it lives now.
    #[must_use]
    pub fn fits(&self) -> bool {
        self.peek().cookie_size() <= MAX_COOKIE_SIZE
    }

    /// True once the handler has read or written the session.
    #[must_use]
    pub fn is_touched(&self) -> bool {
        self.lock().touched
    }

    /// True when the response depends on the cookie: the session was read, written, or only
    /// looked at through a getter such as [`status`](Self::status) or [`is_new`](Self::is_new).
    #[must_use]
    pub fn depends_on_cookie(&self) -> bool {
        let inner = self.lock();
        inner.touched || inner.peeked
    }

    /// The engine this session belongs to.
    #[must_use]
    pub fn engine(&self) -> Arc<SessionEngine> {
        Arc::clone(&self.lock().engine)
    }

    /// Decides what the response must do with the cookie, and signs the new value if one is due.
    /// Called once, by the middleware, after the handler finished.
    #[must_use]
    pub fn commit(&self) -> Commit {
        let mut inner = self.lock();
        let reason = match inner.due() {
            Due::Nothing => return Commit::Keep,
            Due::Delete => return Commit::Delete,
            Due::Write(reason) => reason,
        };
        let engine = Arc::clone(&inner.engine);
        let value = engine.codec().encode(&inner.data().record);
        let bytes = engine.cookie_overhead() + value.len();
        if bytes > MAX_COOKIE_SIZE {
            return Commit::TooLarge {
                bytes,
                limit: MAX_COOKIE_SIZE,
            };
        }
        Commit::Set { value, reason }
    }
}

/// What the end of a request owes the browser (and the store), before any encoding.
enum Due {
    /// Untouched, or only read within `reissue_time`.
    Nothing,
    /// Invalidated with nothing written since.
    Delete,
    /// A new cookie (or stored copy) is due, for this reason.
    Write(SetReason),
}

impl Inner {
    /// The one rule behind both [`Session::commit`] and [`Session::plan`].
    fn due(&mut self) -> Due {
        if !self.touched {
            return Due::Nothing;
        }
        if self.written {
            Due::Write(SetReason::Changed)
        } else if self.invalidated {
            Due::Delete
        } else if self.reissue {
            Due::Write(SetReason::Reissued)
        } else if rotated(self) {
            Due::Write(SetReason::Rotated)
        } else {
            Due::Nothing
        }
    }
}

/// One thing the end of a request must do for a session that may live in a store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Send this cookie value (a whole session, or a signed session id).
    SetCookie(String),
    /// Remove the cookie from the browser.
    DeleteCookie,
    /// Save the `[accessed, created, state]` payload under `id`.
    Save {
        /// Where.
        id: SessionId,
        /// The JSON payload.
        payload: Vec<u8>,
        /// Time-to-live.
        ttl: Option<std::time::Duration>,
    },
    /// Remove `id` from the store.
    Delete(SessionId),
}

/// What the end of a request must do, in order: store writes first, cookies last, so a failed
/// store write never leaves the browser pointing at data that was not saved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// The steps, store operations first.
    pub steps: Vec<Step>,
    /// Why something is written, if it is.
    pub reason: Option<SetReason>,
    /// Set when the session would not fit in a cookie and there is no store to spill to.
    pub too_large: Option<usize>,
}

impl Session {
    /// Decides what the end of the request must do under the engine's [`StorageMode`], and
    /// prepares the payloads. Called by the middleware after the handler finished; calling it
    /// earlier (a preview) gives the same answer as long as the session is not touched again.
    #[must_use]
    pub fn plan(&self) -> Plan {
        let mut inner = self.lock();
        let mode = inner.engine.storage();
        let old_id = inner.id;
        let reason = match inner.due() {
            Due::Nothing => return Plan::default(),
            Due::Delete => {
                let mut steps: Vec<Step> = old_id.map(Step::Delete).into_iter().collect();
                steps.push(Step::DeleteCookie);
                return Plan {
                    steps,
                    reason: None,
                    too_large: None,
                };
            }
            Due::Write(reason) => reason,
        };
        let engine = Arc::clone(&inner.engine);
        let mut plan = Plan {
            reason: Some(reason),
            ..Plan::default()
        };
        // The JSON is written once: signed into the cookie if it fits, saved to the store if not.
        let mut payload = Vec::new();
        inner.data().record.write_json(&mut payload);
        if mode != StorageMode::Store {
            let bytes = engine.cookie_overhead() + engine.codec().value_len(payload.len());
            if bytes <= MAX_COOKIE_SIZE {
                // It fits: the cookie holds the session, and a stored copy is no longer needed.
                plan.steps.extend(old_id.map(Step::Delete));
                plan.steps
                    .push(Step::SetCookie(engine.codec().encode_payload(&payload)));
                return plan;
            }
            if mode == StorageMode::Cookie {
                plan.too_large = Some(bytes);
                return plan;
            }
        }
        let fresh = old_id.is_none() || inner.invalidated || inner.cycle;
        let id = match old_id {
            Some(id) if !fresh => id,
            _ => *inner.next_id.get_or_insert_with(SessionId::generate),
        };
        plan.steps.push(Step::Save {
            id,
            payload,
            ttl: engine.store_ttl(),
        });
        if fresh {
            plan.steps.extend(old_id.map(Step::Delete));
        }
        if fresh || rotated(&mut inner) {
            plan.steps
                .push(Step::SetCookie(engine.codec().encode_id(&id)));
        }
        plan
    }
}

/// The cookie was verified by a fallback secret (it must be re-signed even when other changes
/// are also due).
fn rotated(inner: &mut Inner) -> bool {
    matches!(inner.data().status, CookieStatus::ValidOldKey { .. })
}

impl Inner {
    fn cookie_size(&mut self) -> usize {
        let engine = Arc::clone(&self.engine);
        engine.cookie_size(&self.data().record)
    }
}
