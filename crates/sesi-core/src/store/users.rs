//! "Log out everywhere": list the sessions of a user and end them, on every server at once.
//! Sessions are tied to a user by [`Session::set_user`]; the store's user index (see
//! [`SessionStore::save_user_session`]) finds them again.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::{SessionId, SessionStore, StoreError, StoredSession};
use crate::record::Record;
use crate::session::Session;
use crate::session::user_of;

/// One live session of a user, as [`UserSessions::list`] shows it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct UserSession {
    /// When the session began (`None` when its format does not record it).
    pub created: Option<SystemTime>,
    /// When it was last saved: its `accessed` time.
    pub last_seen: SystemTime,
    /// It is the session of the request that asked.
    pub current: bool,
    /// A short, non-secret label for the session (the first 8 hex digits of its id), to tell
    /// the entries apart on a page; the id itself stays with the server.
    pub label: String,
}

/// The sessions of users, in the layer's store: list them, end them all, or all but the
/// current one ("log out of other devices", after a password change).
///
/// ```
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use std::time::Duration;
/// use sesi_core::store::{MemoryStore, SessionId, SessionStore, UserSessions};
///
/// let store = Arc::new(MemoryStore::new(1_000));
/// let payload = br#"[1764000000, 1764000000, {"_sesi_user": "ada"}]"#.to_vec();
/// let ttl = Some(Duration::from_secs(1200));
/// store.save_user_session(SessionId::generate(), payload.clone(), ttl, "ada", false).await?;
/// store.save_user_session(SessionId::generate(), payload, ttl, "ada", false).await?;
///
/// let users = UserSessions::new(store);
/// assert_eq!(users.list("ada", None).await?.len(), 2);
/// assert_eq!(users.end_all("ada", None).await?, 2);
/// assert!(users.list("ada", None).await?.is_empty());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct UserSessions {
    store: Arc<dyn SessionStore>,
}

impl UserSessions {
    /// The users' sessions kept in `store`.
    #[must_use]
    pub fn new(store: Arc<dyn SessionStore>) -> Self {
        UserSessions { store }
    }

    /// The live sessions of `user`, the most recently seen first; `current` (the asking
    /// request's session) is marked. A stored session that cannot be read, or that is no longer
    /// tied to `user` (its state was cleared since, and a store's index may lag), is left out.
    ///
    /// # Errors
    /// The store's error; [`StoreError::Unsupported`] for a store without a user index.
    pub async fn list(
        &self,
        user: &str,
        current: Option<&Session>,
    ) -> Result<Vec<UserSession>, StoreError> {
        let current = current.and_then(Session::id);
        let stored = self.store.user_sessions(user).await?;
        let mut sessions: Vec<UserSession> = stored
            .into_iter()
            .filter_map(|stored| describe(stored, user, current))
            .collect();
        sessions.sort_by_key(|session| std::cmp::Reverse(session.last_seen));
        Ok(sessions)
    }

    /// Ends every session of `user`; returns how many were stored. When `current` is one of
    /// them, it is also invalidated, so this response removes its cookie. Every server sees the
    /// others gone at once: their next request starts a fresh session.
    ///
    /// # Errors
    /// The store's error (some sessions may already be gone; calling again finishes the job).
    pub async fn end_all(
        &self,
        user: &str,
        current: Option<&Session>,
    ) -> Result<usize, StoreError> {
        let ended = self.store.delete_user_sessions(user, None).await?;
        if let Some(session) = current
            && session.user().as_deref() == Some(user)
        {
            session.invalidate();
        }
        Ok(ended)
    }

    /// Ends every session of `user` but `current` ("log out other devices"); returns how many.
    ///
    /// # Errors
    /// As [`end_all`](Self::end_all).
    pub async fn end_others(&self, user: &str, current: &Session) -> Result<usize, StoreError> {
        self.store.delete_user_sessions(user, current.id()).await
    }
}

fn describe(stored: StoredSession, user: &str, current: Option<SessionId>) -> Option<UserSession> {
    let record = match Record::from_json(&stored.data) {
        Ok(record) => record,
        Err(err) => {
            tracing::warn!(%err, session = %stored.id, "unreadable session in a user's index");
            return None;
        }
    };
    if user_of(&record.state) != Some(user) {
        return None;
    }
    let at =
        |secs: f64| SystemTime::UNIX_EPOCH + Duration::try_from_secs_f64(secs).unwrap_or_default();
    Some(UserSession {
        created: record.created.map(|created| at(created.as_secs_f64())),
        last_seen: at(record.accessed.as_secs_f64()),
        current: current == Some(stored.id),
        label: stored.id.to_hex()[..8].to_owned(),
    })
}
