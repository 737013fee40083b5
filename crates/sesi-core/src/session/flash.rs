//! Flash messages, kept where the cookie format's framework keeps them (Pyramid: a list under
//! `_f_` + queue name, see [`ReservedKeys`](crate::format::ReservedKeys)).

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{Session, SessionError};

/// The most messages one flash queue holds; adding one more drops the oldest. Pyramid has no
/// bound; a page shows a handful of messages at most.
pub const MAX_FLASH_MESSAGES: usize = 20;

impl Session {
    /// The session key of a flash queue under this session's cookie format (Pyramid: `""` ->
    /// `_f_`, `"error"` -> `_f_error`).
    #[must_use]
    pub fn flash_key(&self, queue: &str) -> String {
        self.lock()
            .engine
            .format()
            .reserved_keys()
            .flash
            .queue_key(queue)
    }

    /// Queues a message (Pyramid's `flash`). With `allow_duplicate == false` a message equal to one
    /// already queued is not added again.
    ///
    /// # Errors
    /// [`SessionError::Serialize`] when `msg` cannot be JSON.
    pub fn flash<T: Serialize + ?Sized>(
        &self,
        msg: &T,
        queue: &str,
        allow_duplicate: bool,
    ) -> Result<(), SessionError> {
        let (key, messages) = self.queue_with(msg, queue, allow_duplicate)?;
        self.write()?.change().insert(key, messages);
        Ok(())
    }

    /// Like [`flash`](Self::flash), but refuses a message that would make the session too large
    /// for where it lives, as [`try_insert`](Self::try_insert) does (the queue is then left as it
    /// was).
    ///
    /// # Errors
    /// [`SessionError::Serialize`] or [`SessionError::TooLarge`].
    pub fn try_flash<T: Serialize + ?Sized>(
        &self,
        msg: &T,
        queue: &str,
        allow_duplicate: bool,
    ) -> Result<(), SessionError> {
        let (key, messages) = self.queue_with(msg, queue, allow_duplicate)?;
        self.try_store(key, messages)
    }

    /// The queue's key and its list with `msg` appended (unless a duplicate is refused). A single
    /// value under the key (only the app can have put it there) is kept as the first message,
    /// as [`peek_flash`](Self::peek_flash) reads it.
    fn queue_with<T: Serialize + ?Sized>(
        &self,
        msg: &T,
        queue: &str,
        allow_duplicate: bool,
    ) -> Result<(String, Value), SessionError> {
        let key = self.flash_key(queue);
        let msg = Self::to_json(&key, msg)?;
        let mut messages = match self.get_value(&key) {
            Some(Value::Array(messages)) => messages,
            Some(one) => vec![one],
            None => Vec::new(),
        };
        if allow_duplicate || !messages.contains(&msg) {
            messages.push(msg);
        }
        // A bounded queue: a client that never shows its messages (it ignores the redirect that
        // would pop them) cannot grow the session with them.
        let excess = messages.len().saturating_sub(MAX_FLASH_MESSAGES);
        messages.drain(..excess);
        Ok((key, Value::Array(messages)))
    }

    /// Removes and returns the queue's messages (Pyramid's `pop_flash`). Marks the session changed
    /// only when the queue existed, so an empty pop costs no Set-Cookie.
    ///
    /// # Errors
    /// [`SessionError::Deserialize`] when a message is not a `T`; the queue is then left in place.
    pub fn pop_flash<T: DeserializeOwned>(&self, queue: &str) -> Result<Vec<T>, SessionError> {
        let key = self.flash_key(queue);
        let messages = self.read_queue(key.clone())?;
        // `remove` marks the session changed only when the queue was there.
        self.remove(&key);
        Ok(messages)
    }

    /// Returns the queue's messages without removing them (Pyramid's `peek_flash`).
    ///
    /// # Errors
    /// [`SessionError::Deserialize`] when a message is not a `T`.
    pub fn peek_flash<T: DeserializeOwned>(&self, queue: &str) -> Result<Vec<T>, SessionError> {
        self.read_queue(self.flash_key(queue))
    }

    /// The messages under `key`: a list, or a single value (only the app can have put it there)
    /// read as one message.
    fn read_queue<T: DeserializeOwned>(&self, key: String) -> Result<Vec<T>, SessionError> {
        let mut inner = self.lock();
        let read = |item| {
            T::deserialize(item).map_err(|source| SessionError::Deserialize {
                key: key.clone(),
                source,
            })
        };
        match inner.access().get(&key) {
            Some(Value::Array(items)) => items.iter().map(read).collect(),
            Some(other) => read(other).map(|one| vec![one]),
            None => Ok(Vec::new()),
        }
    }
}
