//! Tying a session to a user, for "log out everywhere": the user id rides inside the session
//! under [`USER_KEY`], and a store that keeps a user index (every store sesi ships) records the
//! session under that user each time it saves it. Only a stored session can be ended from
//! elsewhere: in spill mode a session tied to a user always stays in the store, and a plain
//! cookie session cannot be revoked at all (the browser holds the only copy).

use serde_json::Value;

use super::{Session, SessionError};

/// The session key that holds the user id set by [`Session::set_user`] (a Pyramid app sharing
/// the session keeps an unknown key as it is).
pub const USER_KEY: &str = "_sesi_user";

/// The longest user id, in bytes.
pub const MAX_USER_LEN: usize = 256;

/// The user id in a session's state, if it is a valid one.
pub(crate) fn user_of(state: &serde_json::Map<String, Value>) -> Option<&str> {
    state
        .get(USER_KEY)
        .and_then(Value::as_str)
        .filter(|user| check(user).is_ok())
}

fn check(user: &str) -> Result<(), SessionError> {
    let why = if user.is_empty() {
        "it is empty"
    } else if user.len() > MAX_USER_LEN {
        "it is longer than 256 bytes"
    } else if user.chars().any(char::is_control) {
        "it contains a control character"
    } else {
        return Ok(());
    };
    Err(SessionError::InvalidUser { why })
}

impl Session {
    /// Ties this session to `user` (a login), so the layer's
    /// [`UserSessions`](crate::store::UserSessions) can list it and end it from anywhere. The
    /// session also gets a new id, as [`cycle_id`](Self::cycle_id) gives it: an id planted or
    /// seen before the login is worthless after it.
    ///
    /// Needs a store: a store-mode session is indexed under the user on every save, and in
    /// spill mode a session tied to a user stays in the store even when it would fit in the
    /// cookie. In cookie mode the id is kept in the cookie but nothing can revoke it.
    ///
    /// # Errors
    /// [`SessionError::InvalidUser`] for an empty id, one over [`MAX_USER_LEN`] bytes, or one
    /// with a control character (the session is unchanged); [`SessionError::Closed`] after the
    /// request ended.
    pub fn set_user(&self, user: &str) -> Result<(), SessionError> {
        check(user)?;
        let mut inner = self.write()?;
        inner
            .change()
            .insert(USER_KEY.to_owned(), Value::from(user));
        inner.cycle = true;
        Ok(())
    }

    /// The user this session is tied to, as [`set_user`](Self::set_user) left it.
    #[must_use]
    pub fn user(&self) -> Option<String> {
        let mut inner = self.lock();
        user_of(inner.access()).map(str::to_owned)
    }
}
