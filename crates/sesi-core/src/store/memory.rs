//! An in-process store: bounded, with expiring entries. For tests and single-process apps.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::{BoxFuture, LockToken, SessionId, SessionStore, StoreError};
use crate::clock::{Clock, SystemClock};

/// Keeps sessions in this process's memory. Holds at most `capacity` sessions: when full, the one
/// closest to expiry is dropped first. Expired entries are removed as they are met.
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
    locks: HashMap<SessionId, (LockToken, f64)>,
}

#[derive(Debug)]
struct Entry {
    data: Vec<u8>,
    deadline: f64,
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

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Inner {
    fn remove(&mut self, id: SessionId) {
        if let Some(entry) = self.entries.remove(&id) {
            self.by_deadline.remove(&(order(entry.deadline), id));
        }
    }

    fn purge(&mut self, now: f64) {
        while let Some(&(bits, id)) = self.by_deadline.first() {
            if f64::from_bits(bits) > now {
                break;
            }
            self.remove(id);
        }
    }
}

impl SessionStore for MemoryStore {
    fn load(&self, id: SessionId) -> BoxFuture<'_, Result<Option<Vec<u8>>, StoreError>> {
        let now = self.clock.now();
        let mut inner = self.lock();
        inner.purge(now);
        let data = inner.entries.get(&id).map(|e| e.data.clone());
        Box::pin(std::future::ready(Ok(data)))
    }

    fn save(
        &self,
        id: SessionId,
        data: Vec<u8>,
        ttl: Option<Duration>,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        let now = self.clock.now();
        let deadline = ttl.map_or(f64::INFINITY, |ttl| now + ttl.as_secs_f64());
        let mut inner = self.lock();
        inner.purge(now);
        inner.remove(id);
        while inner.entries.len() >= self.capacity {
            let Some(&(_, oldest)) = inner.by_deadline.first() else {
                break;
            };
            inner.remove(oldest);
        }
        inner.by_deadline.insert((order(deadline), id));
        inner.entries.insert(id, Entry { data, deadline });
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
}
