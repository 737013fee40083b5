//! An in-process store: bounded, with expiring entries, and an eviction policy that protects
//! visitors who come back. For tests and single-process apps.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::{BoxFuture, LockToken, SessionId, SessionStore, StoreError, StoredSession};
use crate::clock::{Clock, SystemClock};

/// Keeps sessions in this process's memory, at most `capacity` of them.
///
/// **Eviction** protects returning visitors, in the manner of a segmented LRU (2Q): a session
/// that was saved but never loaded since (its visitor has not come back with the cookie yet) is
/// *on probation*; a session that was loaded is *protected*. When the store is full, expired
/// sessions go first, then the probation session saved longest ago, and only when no session is
/// on probation, the protected session used least recently. The protected segment holds at
/// most four fifths of the capacity; past that its least recently used sessions go back to
/// probation (as its newest), so new visitors always have a fifth of the store. A flood of
/// cookieless requests (a crawler, a script) then evicts only sessions on probation: its own,
/// and returning visitors only beyond the four fifths, least recently used first. A session
/// saved through
/// [`SessionStore::save_returning`] (a returning visitor under a new id, after a login) is
/// protected at once. Expired entries are also removed as they are met.
///
/// ```
/// # async fn demo() -> Result<(), sesi_core::store::StoreError> {
/// use std::time::Duration;
/// use sesi_core::store::{MemoryStore, SessionId, SessionStore};
///
/// let store = MemoryStore::new(10_000);
/// let id = SessionId::generate();
/// store.save(id, b"[1, 2.0, {}]".to_vec(), Some(Duration::from_secs(1200))).await?;
/// assert_eq!(store.load(id).await?, Some(b"[1, 2.0, {}]".to_vec()));
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
    capacity: usize,
    clock: Arc<dyn Clock>,
}

#[derive(Debug, Default)]
struct Inner {
    entries: HashMap<SessionId, Entry>,
    /// (deadline as ordered bits, id): the entry that expires first comes first.
    by_deadline: BTreeSet<(u64, SessionId)>,
    /// (last use, id) of the sessions never loaded since saved: the oldest first.
    probation: BTreeSet<(u64, SessionId)>,
    /// (last use, id) of the sessions loaded at least once: the least recently used first.
    protected: BTreeSet<(u64, SessionId)>,
    /// A counter that orders uses.
    clock_hand: u64,
    locks: HashMap<SessionId, (LockToken, f64)>,
    /// The user index: every stored session tied to a user, by user. An entry leaves it with
    /// its session, however the session goes (deleted, expired, evicted).
    users: HashMap<String, HashSet<SessionId>>,
}

#[derive(Debug)]
struct Entry {
    data: Vec<u8>,
    deadline: f64,
    /// Loaded at least once: the visitor came back with the cookie.
    returned: bool,
    /// When it was last saved or loaded, by [`Inner::clock_hand`].
    used: u64,
    /// The user it is tied to, if any.
    user: Option<String>,
}

/// A total order on non-negative deadlines (infinity for "never").
fn order(deadline: f64) -> u64 {
    deadline.max(0.0).to_bits()
}

impl MemoryStore {
    /// A store for at most `capacity` sessions (at least 1).
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        MemoryStore {
            inner: Mutex::new(Inner::default()),
            capacity: capacity.max(1),
            clock: Arc::new(SystemClock),
        }
    }

    /// Uses another clock for expiry (tests).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Number of live (unexpired) sessions.
    #[must_use]
    pub fn len(&self) -> usize {
        let now = self.clock.now();
        let mut inner = self.lock();
        inner.purge(now);
        inner.entries.len()
    }

    /// True when no live session is stored.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of live sessions on probation (saved, never loaded since).
    #[must_use]
    pub fn on_probation(&self) -> usize {
        let now = self.clock.now();
        let mut inner = self.lock();
        inner.purge(now);
        inner.probation.len()
    }

    /// Saves `data`, protected when `returning` or when the entry it replaces was. With
    /// `update_only`, only over a live entry.
    fn put(&self, id: SessionId, data: Vec<u8>, ttl: Option<Duration>, put: Put) {
        let now = self.clock.now();
        let deadline = ttl.map_or(f64::INFINITY, |ttl| now + ttl.as_secs_f64());
        let mut inner = self.lock();
        inner.purge(now);
        let old = inner.remove(id);
        if put.update_only && old.is_none() {
            return;
        }
        let returned = old.is_some_and(|old| old.returned) || put.returning;
        while inner.entries.len() >= self.capacity && inner.evict_one() {}
        inner.insert(
            id,
            Entry {
                data,
                deadline,
                returned,
                used: 0,
                user: put.user.map(str::to_owned),
            },
        );
        inner.limit_protected(self.capacity);
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// How [`MemoryStore::put`] saves.
#[derive(Default)]
struct Put<'a> {
    returning: bool,
    user: Option<&'a str>,
    update_only: bool,
}

impl Inner {
    /// The segment an entry belongs to.
    fn segment(&mut self, returned: bool) -> &mut BTreeSet<(u64, SessionId)> {
        if returned {
            &mut self.protected
        } else {
            &mut self.probation
        }
    }

    fn remove(&mut self, id: SessionId) -> Option<Entry> {
        let entry = self.entries.remove(&id)?;
        self.by_deadline.remove(&(order(entry.deadline), id));
        self.segment(entry.returned).remove(&(entry.used, id));
        if let Some(user) = &entry.user
            && let Some(ids) = self.users.get_mut(user)
        {
            ids.remove(&id);
            if ids.is_empty() {
                self.users.remove(user);
            }
        }
        Some(entry)
    }

    fn insert(&mut self, id: SessionId, mut entry: Entry) {
        self.clock_hand += 1;
        entry.used = self.clock_hand;
        if let Some(user) = &entry.user {
            self.users.entry(user.clone()).or_default().insert(id);
        }
        self.by_deadline.insert((order(entry.deadline), id));
        self.segment(entry.returned).insert((entry.used, id));
        self.entries.insert(id, entry);
    }

    fn purge(&mut self, now: f64) {
        while let Some(&(bits, id)) = self.by_deadline.first() {
            if f64::from_bits(bits) > now {
                break;
            }
            self.remove(id);
        }
    }

    /// Keeps the protected segment to at most four fifths of `capacity` (a segmented LRU), so
    /// that a fifth or more is always left for new visitors however many have come back: its
    /// least recently used sessions go back to probation as its newest members, so they are
    /// evicted only after the visitors who arrive after them.
    fn limit_protected(&mut self, capacity: usize) {
        let cap = capacity - capacity / 5;
        while self.protected.len() > cap {
            let Some(&(_, id)) = self.protected.first() else {
                return;
            };
            if let Some(mut entry) = self.remove(id) {
                entry.returned = false;
                self.insert(id, entry);
            }
        }
    }

    /// Makes room for one more session: probation first, then the least recently used. False
    /// when there is nothing to evict.
    fn evict_one(&mut self) -> bool {
        let victim = self.probation.first().or_else(|| self.protected.first());
        match victim {
            Some(&(_, id)) => self.remove(id).is_some(),
            None => false,
        }
    }
}

impl SessionStore for MemoryStore {
    /// A hit counts as the visitor coming back: the session leaves probation (or, protected
    /// already, becomes the most recently used).
    fn load(&self, id: SessionId) -> BoxFuture<'_, Result<Option<Vec<u8>>, StoreError>> {
        let now = self.clock.now();
        let mut inner = self.lock();
        inner.purge(now);
        let data = inner.remove(id).map(|mut entry| {
            entry.returned = true;
            let data = entry.data.clone();
            inner.insert(id, entry);
            data
        });
        inner.limit_protected(self.capacity);
        Box::pin(std::future::ready(Ok(data)))
    }

    fn save(
        &self,
        id: SessionId,
        data: Vec<u8>,
        ttl: Option<Duration>,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        self.put(id, data, ttl, Put::default());
        Box::pin(std::future::ready(Ok(())))
    }

    /// A returning visitor's session is protected at once, even under a new id (a login).
    fn save_returning(
        &self,
        id: SessionId,
        data: Vec<u8>,
        ttl: Option<Duration>,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        let put = Put {
            returning: true,
            ..Put::default()
        };
        self.put(id, data, ttl, put);
        Box::pin(std::future::ready(Ok(())))
    }

    fn delete(&self, id: SessionId) -> BoxFuture<'_, Result<(), StoreError>> {
        self.lock().remove(id);
        Box::pin(std::future::ready(Ok(())))
    }

    fn try_lock(
        &self,
        id: SessionId,
        token: LockToken,
        lease: Duration,
    ) -> BoxFuture<'_, Result<bool, StoreError>> {
        let now = self.clock.now();
        let mut inner = self.lock();
        if inner.locks.len() > self.capacity {
            // Leases of crashed or abandoned requests: drop the expired ones.
            inner.locks.retain(|_, (_, until)| *until > now);
        }
        let taken = match inner.locks.get(&id) {
            Some(&(_, until)) if until > now => false,
            _ => {
                inner.locks.insert(id, (token, now + lease.as_secs_f64()));
                true
            }
        };
        Box::pin(std::future::ready(Ok(taken)))
    }

    fn unlock(&self, id: SessionId, token: LockToken) -> BoxFuture<'_, Result<(), StoreError>> {
        let mut inner = self.lock();
        if inner.locks.get(&id).is_some_and(|(held, _)| *held == token) {
            inner.locks.remove(&id);
        }
        Box::pin(std::future::ready(Ok(())))
    }

    /// A user's session counts as a returning visitor's: a login is worth keeping.
    fn save_user_session(
        &self,
        id: SessionId,
        data: Vec<u8>,
        ttl: Option<Duration>,
        user: &str,
        update_only: bool,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        let put = Put {
            returning: true,
            user: Some(user),
            update_only,
        };
        self.put(id, data, ttl, put);
        Box::pin(std::future::ready(Ok(())))
    }

    fn user_sessions(&self, user: &str) -> BoxFuture<'_, Result<Vec<StoredSession>, StoreError>> {
        let now = self.clock.now();
        let mut inner = self.lock();
        inner.purge(now);
        let sessions = inner
            .users
            .get(user)
            .into_iter()
            .flatten()
            .filter_map(|id| {
                let entry = inner.entries.get(id)?;
                Some(StoredSession {
                    id: *id,
                    data: entry.data.clone(),
                })
            })
            .collect();
        Box::pin(std::future::ready(Ok(sessions)))
    }

    fn delete_user_sessions(
        &self,
        user: &str,
        keep: Option<SessionId>,
    ) -> BoxFuture<'_, Result<usize, StoreError>> {
        let now = self.clock.now();
        let mut inner = self.lock();
        inner.purge(now);
        let ids: Vec<SessionId> = inner
            .users
            .get(user)
            .into_iter()
            .flatten()
            .copied()
            .filter(|id| Some(*id) != keep)
            .collect();
        let ended = ids.iter().filter(|id| inner.remove(**id).is_some()).count();
        Box::pin(std::future::ready(Ok(ended)))
    }
}

#[cfg(test)]
mod tests;
