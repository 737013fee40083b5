//! Flash messages, kept where the cookie format's framework keeps them (Pyramid: a list under
//! `_f_` + queue name; Flask: one `_flashes` list of `(category, message)` tuples; see
//! [`ReservedKeys`](crate::format::ReservedKeys)).

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::{Session, SessionError};
use crate::format::FlashKeys;

/// The most messages one flash queue holds; adding one more drops the oldest. Pyramid has no
/// bound; a page shows a handful of messages at most. In Flask's shared list the bound is per
/// category.
pub const MAX_FLASH_MESSAGES: usize = 20;

/// Flask's tag of a tuple.
const TUPLE: &str = " t";

/// `(category, message)` of a Flask flash entry `{" t": [category, message]}`; `None` for
/// anything else in the list (only the app can have put it there; it belongs to no queue).
fn flask_entry(entry: &Value) -> Option<(&str, &Value)> {
    let Value::Object(map) = entry else {
        return None;
    };
    match map.get(TUPLE)?.as_array()?.as_slice() {
        [Value::String(category), message] if map.len() == 1 => Some((category, message)),
        _ => None,
    }
}

/// The Flask entry for `message` in `category`.
fn flask_tuple(category: &str, message: Value) -> Value {
    let mut map = Map::with_capacity(1);
    map.insert(
        TUPLE.to_owned(),
        Value::Array(vec![Value::String(category.to_owned()), message]),
    );
    Value::Object(map)
}

impl Session {
    /// The session key of a flash queue under this session's cookie format (Pyramid: `""` ->
    /// `_f_`, `"error"` -> `_f_error`; Flask: `_flashes` for every queue).
    #[must_use]
    pub fn flash_key(&self, queue: &str) -> String {
        self.flash_keys().queue_key(queue)
    }

    fn flash_keys(&self) -> FlashKeys {
        self.lock().engine.format().reserved_keys().flash
    }

    /// Queues a message (Pyramid's `flash`; Flask's `flash(message, category)` with the queue as
    /// the category, `""` being Flask's default `"message"`). With `allow_duplicate == false` a
    /// message equal to one already queued is not added again.
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
        let keys = self.flash_keys();
        let key = keys.queue_key(queue);
        let mut msg = Self::to_json(&key, msg)?;
        let category = keys.category(queue);
        if let Some(category) = category {
            msg = flask_tuple(category, msg);
        }
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
        let in_queue = |entry: &Value| match category {
            Some(category) => flask_entry(entry).is_some_and(|(c, _)| c == category),
            None => true,
        };
        let mut excess = messages
            .iter()
            .filter(|entry| in_queue(entry))
            .count()
            .saturating_sub(MAX_FLASH_MESSAGES);
        messages.retain(|entry| {
            let drop = excess > 0 && in_queue(entry);
            excess -= usize::from(drop);
            !drop
        });
        Ok((key, Value::Array(messages)))
    }

    /// Removes and returns the queue's messages (Pyramid's `pop_flash`). Marks the session changed
    /// only when the queue existed, so an empty pop costs no Set-Cookie.
    ///
    /// # Errors
    /// [`SessionError::Deserialize`] when a message is not a `T`; the queue is then left in place.
    ///
    /// With Flask's shared list only this queue's category is taken out; the other categories'
    /// messages stay (Flask's own `get_flashed_messages` takes out every category at once).
    pub fn pop_flash<T: DeserializeOwned>(&self, queue: &str) -> Result<Vec<T>, SessionError> {
        let keys = self.flash_keys();
        let key = keys.queue_key(queue);
        // An absent queue (most pages, most requests) costs one lookup: nothing to remove.
        let Some(messages) = self.read_queue(&keys, queue, &key)? else {
            return Ok(Vec::new());
        };
        let Some(category) = keys.category(queue) else {
            // `remove` marks the session changed only when the queue was there.
            self.remove(&key);
            return Ok(messages);
        };
        let mine = |entry: &Value| flask_entry(entry).is_some_and(|(c, _)| c == category);
        match self.get_value(&key) {
            Some(Value::Array(mut entries)) => {
                let before = entries.len();
                entries.retain(|entry| !mine(entry));
                if entries.is_empty() {
                    self.remove(&key);
                } else if entries.len() < before
                    && let Ok(mut inner) = self.write()
                {
                    inner.change().insert(key, Value::Array(entries));
                }
            }
            Some(one) if mine(&one) => {
                self.remove(&key);
            }
            _ => {}
        }
        Ok(messages)
    }

    /// Returns the queue's messages without removing them (Pyramid's `peek_flash`).
    ///
    /// # Errors
    /// [`SessionError::Deserialize`] when a message is not a `T`.
    pub fn peek_flash<T: DeserializeOwned>(&self, queue: &str) -> Result<Vec<T>, SessionError> {
        let keys = self.flash_keys();
        let key = keys.queue_key(queue);
        Ok(self.read_queue(&keys, queue, &key)?.unwrap_or_default())
    }

    /// The messages of `queue` under `key`: a list, or a single value (only the app can have put
    /// it there) read as one message; in Flask's shared list, the messages of the queue's
    /// category, in order. `None` when nothing is stored under `key`.
    fn read_queue<T: DeserializeOwned>(
        &self,
        keys: &FlashKeys,
        queue: &str,
        key: &str,
    ) -> Result<Option<Vec<T>>, SessionError> {
        let mut inner = self.lock();
        let read = |item| {
            T::deserialize(item).map_err(|source| SessionError::Deserialize {
                key: key.to_owned(),
                source,
            })
        };
        let category = keys.category(queue);
        let messages = match (inner.access().get(key), category) {
            (Some(Value::Array(items)), None) => items.iter().map(read).collect(),
            (Some(other), None) => read(other).map(|one| vec![one]),
            (Some(value), Some(category)) => std::slice::from_ref(value)
                .iter()
                .chain(value.as_array().into_iter().flatten())
                .filter_map(flask_entry)
                .filter(|(c, _)| *c == category)
                .map(|(_, message)| read(message))
                .collect(),
            (None, _) => return Ok(None),
        };
        messages.map(Some)
    }
}
