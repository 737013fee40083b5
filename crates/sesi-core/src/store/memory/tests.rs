//! The memory store: the store contract, eviction, expiry.

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
async fn a_full_store_evicts_sessions_on_probation_before_those_that_came_back() {
    let m = Memory::new(3);
    let [back, first, second, new] = [(); 4].map(|()| SessionId::generate());
    let s = &m.store;
    s.save(back, contract::payload("back"), secs(10))
        .await
        .expect("save");
    assert!(has(s, back).await, "a load: its visitor came back");
    s.save(first, contract::payload("first"), secs(1000))
        .await
        .expect("save");
    s.save(second, contract::payload("second"), None)
        .await
        .expect("save");
    assert_eq!((s.len(), s.on_probation()), (3, 2));
    s.save(new, contract::payload("new"), secs(500))
        .await
        .expect("save");
    assert_eq!(s.len(), 3, "the capacity holds");
    assert!(!has(s, first).await, "the oldest session on probation went");
    // `back` expires first and `second` never: neither counts, only who came back.
    assert!(has(s, back).await, "the returning visitor stays");
    assert!(has(s, second).await && has(s, new).await);
}

#[tokio::test]
async fn with_nobody_on_probation_the_least_recently_used_session_goes() {
    let m = Memory::new(3);
    let ids = [(); 4].map(|()| SessionId::generate());
    let s = &m.store;
    for id in &ids[..3] {
        s.save(*id, contract::payload("x"), secs(100))
            .await
            .expect("save");
        assert!(has(s, *id).await);
    }
    assert!(
        has(s, ids[0]).await,
        "ids[0] used again: ids[1] is now the least recent"
    );
    // A rewrite keeps a session protected.
    s.save(ids[2], contract::payload("y"), secs(100))
        .await
        .expect("save");
    assert_eq!(s.on_probation(), 0);
    s.save(ids[3], contract::payload("new"), secs(100))
        .await
        .expect("save");
    assert!(!has(s, ids[1]).await, "the least recently used went");
    for id in [ids[0], ids[2], ids[3]] {
        assert!(has(s, id).await);
    }
}

#[tokio::test]
async fn a_visitor_who_came_back_survives_a_flood_of_twenty_times_the_capacity() {
    let m = Memory::new(1000);
    let s = &m.store;
    let visitor = SessionId::generate();
    s.save(visitor, contract::payload("visitor"), secs(1200))
        .await
        .expect("save");
    assert!(has(s, visitor).await, "the visitor comes back");
    for n in 0..20_000 {
        let crawler = SessionId::generate();
        s.save(crawler, contract::payload("crawler"), secs(1200))
            .await
            .expect("save");
        if n % 5_000 == 0 {
            // ...and keeps using the site in between.
            assert!(has(s, visitor).await, "after {n} cookieless requests");
            s.save(visitor, contract::payload("visitor"), secs(1200))
                .await
                .expect("save");
        }
    }
    assert!(has(s, visitor).await, "the flood only evicted itself");
    assert_eq!((s.len(), s.on_probation()), (1000, 999));
}

#[tokio::test]
async fn returning_visitors_hold_at_most_four_fifths_and_new_ones_keep_a_fifth() {
    let m = Memory::new(100);
    let s = &m.store;
    let regulars: Vec<SessionId> = (0..100).map(|_| SessionId::generate()).collect();
    for id in &regulars {
        s.save(*id, contract::payload("regular"), secs(1200))
            .await
            .expect("save");
        assert!(has(s, *id).await, "every one came back");
    }
    assert_eq!(
        (s.len(), s.on_probation()),
        (100, 20),
        "the least recent fifth demoted"
    );
    // Twenty newcomers replace the demoted fifth; the first of them is still there after the
    // other nineteen arrived (with no bound, probation would be one slot wide).
    let newcomers: Vec<SessionId> = (0..20).map(|_| SessionId::generate()).collect();
    for id in &newcomers {
        s.save(*id, contract::payload("new"), secs(1200))
            .await
            .expect("save");
    }
    assert_eq!((s.len(), s.on_probation()), (100, 20));
    assert!(has(s, newcomers[0]).await, "the first newcomer was kept");
    for id in &regulars[..20] {
        assert!(!has(s, *id).await, "the least recently used regulars went");
    }
    for id in &regulars[21..] {
        assert!(has(s, *id).await, "the recently used regulars stay");
    }
}

#[tokio::test]
async fn a_returning_visitor_saved_under_a_new_id_is_protected_at_once() {
    // A login: `cycle_id()` moves the session to a new id, saved through `save_returning`.
    let m = Memory::new(3);
    let s = &m.store;
    let user = SessionId::generate();
    s.save_returning(user, contract::payload("user"), secs(1200))
        .await
        .expect("save");
    assert_eq!(s.on_probation(), 0);
    for _ in 0..10 {
        s.save(
            SessionId::generate(),
            contract::payload("crawler"),
            secs(1200),
        )
        .await
        .expect("save");
    }
    assert!(has(s, user).await, "the flood evicted only itself");
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
    // `live` is the older on probation: only expiry, not the order, can pick `dead` first.
    m.store
        .save(live, contract::payload("live"), secs(1000))
        .await
        .expect("save");
    m.store
        .save(dead, contract::payload("dead"), secs(10))
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
