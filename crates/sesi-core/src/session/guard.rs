//! The size guard: writes that refuse to make a cookie session larger than a cookie can hold, and
//! the questions a handler asks before writing (`cookie_size`, `fits`).

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::config::{MAX_COOKIE_SIZE, StorageMode};
use super::{Session, SessionError};

impl Session {
    /// Like [`insert`](Self::insert), but refuses a change that would make the session too large
    /// for where it lives: more than a cookie holds (4096 bytes) in cookie mode, more than the
    /// store's cap (64 KiB of JSON by default) for a session kept in a store. The session is then
    /// left as it was and [`SessionError::TooLarge`] tells the size and the limit.
    ///
    /// # Errors
    /// [`SessionError::Serialize`] or [`SessionError::TooLarge`].
    pub fn try_insert<T: Serialize + ?Sized>(
        &self,
        key: impl Into<String>,
        value: &T,
    ) -> Result<(), SessionError> {
        let key = key.into();
        let value = Self::to_json(&key, value)?;
        self.try_store(key, value)
    }

    /// Like [`update`](Self::update), but refuses the change if the session would become too
    /// large for where it lives (see [`try_insert`](Self::try_insert)).
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

    /// Stores `value` under `key` unless the session would then be too large for where it lives:
    /// it is then left exactly as it was. The one size guard behind every `try_`.
    pub(super) fn try_store(&self, key: String, value: Value) -> Result<(), SessionError> {
        let mut inner = self.write()?;
        let was_written = inner.written;
        let previous = inner.change().insert(key.clone(), value);
        let (bytes, limit) = inner.size_and_limit();
        if bytes > limit {
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
            return Err(SessionError::TooLarge { bytes, limit });
        }
        Ok(())
    }

    /// Size in bytes of the Set-Cookie header value this session would produce now: the whole
    /// state in cookie mode, the session's id when it lives in a store (store mode, or spill-over
    /// once it outgrows [`MAX_COOKIE_SIZE`]).
    #[must_use]
    pub fn cookie_size(&self) -> usize {
        let mut inner = self.peek();
        let storage = inner.engine.storage();
        if storage == StorageMode::Store {
            return inner.engine.id_cookie_size();
        }
        let whole = inner.cookie_size();
        if storage == StorageMode::Spill && whole > MAX_COOKIE_SIZE {
            inner.engine.id_cookie_size()
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
}
