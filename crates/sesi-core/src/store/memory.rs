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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::store::contract::{self, Fixture};

    const T: f64 = 1_764_000_000.0;

    /// A memory store on a manual clock: expiry is tested without sleeping.
    struct Memory {
        store: MemoryStore,
        clock: Arc<ManualClock>,
    }

    impl Memory {
        fn new(capacity: usize) -> Self {
            let clock = Arc::new(ManualClock::new(T));
            Memory {
                store: MemoryStore::new(capacity).with_clock(clock.clone()),
                clock,
            }
        }
    }

    impl Fixture for Memory {
        fn store(&self) -> &dyn SessionStore {
            &self.store
        }

        fn short_ttl(&self) -> Duration {
            Duration::from_secs(60)
        }

        fn pass(&self, time: Duration) -> BoxFuture<'_, ()> {
            self.clock.advance(time);
            Box::pin(std::future::ready(()))
        }
    }

    crate::store_contract_tests!(async { Some(Memory::new(1000)) });

    fn secs(n: u64) -> Option<Duration> {
        Some(Duration::from_secs(n))
    }

    async fn has(store: &MemoryStore, id: SessionId) -> bool {
        store.load(id).await.expect("memory never fails").is_some()
    }

    #[tokio::test]
    async fn a_full_store_evicts_the_session_closest_to_expiry() {
        let m = Memory::new(3);
        let [soon, later, never, new] = [(); 4].map(|()| SessionId::generate());
        let s = &m.store;
        s.save(later, contract::payload("later"), secs(100))
            .await
            .expect("save");
        s.save(soon, contract::payload("soon"), secs(50))
            .await
            .expect("save");
        s.save(never, contract::payload("never"), None)
            .await
            .expect("save");
        assert_eq!(s.len(), 3);
        s.save(new, contract::payload("new"), secs(10))
            .await
            .expect("save");
        assert_eq!(s.len(), 3, "the capacity holds");
        assert!(!has(s, soon).await, "the one closest to expiry went");
        for id in [later, never, new] {
            assert!(has(s, id).await, "{id:?} kept");
        }
        // Next in line: `new` (10 s) goes before `later` (100 s); `never` goes last.
        s.save(soon, contract::payload("soon"), secs(500))
            .await
            .expect("save");
        assert!(!has(s, new).await);
        s.save(new, contract::payload("new"), secs(500))
            .await
            .expect("save");
        assert!(!has(s, later).await);
        assert!(has(s, never).await, "a session without TTL is evicted last");
    }

    #[tokio::test]
    async fn overwriting_a_session_in_a_full_store_evicts_nothing() {
        let m = Memory::new(2);
        let (a, b) = (SessionId::generate(), SessionId::generate());
        m.store
            .save(a, contract::payload("a"), secs(10))
            .await
            .expect("save");
        m.store
            .save(b, contract::payload("b"), secs(20))
            .await
            .expect("save");
        m.store
            .save(b, contract::payload("b2"), secs(30))
            .await
            .expect("save");
        m.store
            .save(a, contract::payload("a2"), secs(40))
            .await
            .expect("save");
        assert_eq!(m.store.len(), 2);
        assert_eq!(
            m.store.load(a).await.expect("load"),
            Some(contract::payload("a2"))
        );
        assert_eq!(
            m.store.load(b).await.expect("load"),
            Some(contract::payload("b2"))
        );
    }

    #[tokio::test]
    async fn expired_sessions_are_purged_and_free_their_place() {
        let m = Memory::new(2);
        let (a, b) = (SessionId::generate(), SessionId::generate());
        m.store
            .save(a, contract::payload("a"), secs(60))
            .await
            .expect("save");
        m.store
            .save(b, contract::payload("b"), secs(120))
            .await
            .expect("save");
        m.clock.advance(Duration::from_secs(59));
        assert_eq!(m.store.len(), 2, "nothing expired one second early");
        m.clock.advance(Duration::from_secs(2));
        assert_eq!(m.store.len(), 1, "a expired");
        assert!(!has(&m.store, a).await);
        m.clock.advance(Duration::from_secs(60));
        assert!(m.store.is_empty(), "b expired too");
        // Two new sessions fit without evicting each other: the dead ones left no trace.
        let (c, d) = (SessionId::generate(), SessionId::generate());
        m.store
            .save(c, contract::payload("c"), secs(60))
            .await
            .expect("save");
        m.store
            .save(d, contract::payload("d"), secs(60))
            .await
            .expect("save");
        assert!(has(&m.store, c).await && has(&m.store, d).await);
        assert_eq!(m.store.len(), 2);
    }

    #[tokio::test]
    async fn a_full_store_evicts_expired_sessions_before_live_ones() {
        let m = Memory::new(2);
        let (dead, live, new) = (
            SessionId::generate(),
            SessionId::generate(),
            SessionId::generate(),
        );
        m.store
            .save(dead, contract::payload("dead"), secs(10))
            .await
            .expect("save");
        m.store
            .save(live, contract::payload("live"), secs(1000))
            .await
            .expect("save");
        m.clock.advance(Duration::from_secs(11));
        m.store
            .save(new, contract::payload("new"), secs(1))
            .await
            .expect("save");
        assert!(has(&m.store, live).await, "the live session stays");
        assert!(has(&m.store, new).await);
    }

    #[test]
    fn a_capacity_of_zero_still_holds_one_session() {
        let m = Memory::new(0);
        let id = SessionId::generate();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        rt.block_on(m.store.save(id, contract::payload("x"), None))
            .expect("save");
        assert_eq!(m.store.len(), 1);
    }
}
