//! What the Redis test files share: the contract fixture over a server the tests keep alive,
//! and the error text with its sources (TLS failures say why only in the source chain).

#![allow(dead_code)] // each test file uses its own part

use std::any::Any;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use sesi_core::store::contract::Fixture;
use sesi_core::store::{BoxFuture, LockToken, SessionId, SessionStore};
use sesi_redis::RedisStore;

/// A store on real Redis, and the servers it needs, kept running while the fixture lives.
pub struct Remote {
    pub store: RedisStore,
    pub _servers: Arc<dyn Any + Send + Sync>,
}

impl Fixture for Remote {
    fn store(&self) -> &dyn SessionStore {
        &self.store
    }

    fn short_ttl(&self) -> Duration {
        Duration::from_millis(300)
    }

    fn pass(&self, time: Duration) -> BoxFuture<'_, ()> {
        Box::pin(tokio::time::sleep(time))
    }
}

/// The servers in `slot` while any test still holds them, else new ones from `start`: the
/// tests of one file share one set, stopped when the last of them ends.
pub fn shared<T>(slot: &Mutex<Weak<T>>, start: impl FnOnce() -> Option<T>) -> Option<Arc<T>> {
    let mut slot = slot
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(alive) = slot.upgrade() {
        return Some(alive);
    }
    let fresh = Arc::new(start()?);
    *slot = Arc::downgrade(&fresh);
    Some(fresh)
}

/// A key prefix no other test uses.
pub fn unique_prefix() -> String {
    format!("sesi-test:{}:", SessionId::generate().to_hex())
}

/// An error and all its sources, joined with `: `.
pub fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = vec![err.to_string()];
    let mut next = err.source();
    while let Some(err) = next {
        out.push(err.to_string());
        next = err.source();
    }
    out.join(": ")
}

/// `sessions` sessions saved, read back, locked, unlocked, locked again and deleted through
/// `store`: one smoke pass over every kind of command (for the TLS topologies).
pub async fn sessions_and_locks_work(store: &RedisStore, sessions: u8) {
    for n in 0..sessions {
        let id = SessionId::generate();
        store
            .save(id, vec![n], Some(Duration::from_secs(60)))
            .await
            .expect("save");
        assert_eq!(store.load(id).await.expect("load"), Some(vec![n]));
        let token = LockToken::generate();
        for step in ["lock", "relock after unlock"] {
            assert!(
                store
                    .try_lock(id, token, Duration::from_secs(5))
                    .await
                    .expect(step),
                "{step}"
            );
            store.unlock(id, token).await.expect("unlock");
        }
        store.delete(id).await.expect("delete");
    }
}
