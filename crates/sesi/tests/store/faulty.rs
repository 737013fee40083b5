//! A store that fails on command (errors, hangs, failed saves, lost lock replies, slow unlocks),
//! around a `MemoryStore`, and the checks of a 503 answer.

use super::*;

pub(crate) const UP: u8 = 0;
pub(crate) const ERRORS: u8 = 1;
pub(crate) const HANGS: u8 = 2;
pub(crate) const SAVES_FAIL: u8 = 3;
/// `try_lock` takes the lock, but its answer never arrives (a reply lost to a timeout).
pub(crate) const LOCK_REPLY_LOST: u8 = 4;
/// `unlock` takes `SLOW_UNLOCK` before it releases the lock (a slow round trip).
pub(crate) const UNLOCK_SLOW: u8 = 5;
pub(crate) const SLOW_UNLOCK: Duration = Duration::from_millis(400);

/// A memory store that can be told to fail every call, hang on every call, fail only writes, or
/// lose the answer of a lock it took. A failed or hung call does nothing to the data (the memory
/// store works when called, so it is not called at all).
#[derive(Debug)]
pub(crate) struct FaultyStore {
    inner: MemoryStore,
    mode: AtomicU8,
}

impl FaultyStore {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(FaultyStore {
            inner: MemoryStore::new(100),
            mode: AtomicU8::new(UP),
        })
    }

    pub(crate) fn set(&self, mode: u8) {
        self.mode.store(mode, Ordering::SeqCst);
    }

    fn run<'a, T: Send + 'a>(
        &'a self,
        is_write: bool,
        op: impl FnOnce() -> BoxFuture<'a, Result<T, StoreError>>,
    ) -> BoxFuture<'a, Result<T, StoreError>> {
        match self.mode.load(Ordering::SeqCst) {
            ERRORS => Box::pin(async { Err(StoreError::Unavailable("connection refused".into())) }),
            SAVES_FAIL if is_write => {
                Box::pin(async { Err(StoreError::Unavailable("read-only replica".into())) })
            }
            HANGS => Box::pin(std::future::pending()),
            _ => op(),
        }
    }
}

impl SessionStore for FaultyStore {
    fn load(&self, id: SessionId) -> BoxFuture<'_, Result<Option<Vec<u8>>, StoreError>> {
        self.run(false, || self.inner.load(id))
    }

    fn save(
        &self,
        id: SessionId,
        data: Vec<u8>,
        ttl: Option<Duration>,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        self.run(true, || self.inner.save(id, data, ttl))
    }

    fn delete(&self, id: SessionId) -> BoxFuture<'_, Result<(), StoreError>> {
        self.run(true, || self.inner.delete(id))
    }

    fn try_lock(
        &self,
        id: SessionId,
        token: LockToken,
        lease: Duration,
    ) -> BoxFuture<'_, Result<bool, StoreError>> {
        if self.mode.load(Ordering::SeqCst) == LOCK_REPLY_LOST {
            drop(self.inner.try_lock(id, token, lease));
            return Box::pin(std::future::pending());
        }
        self.run(false, || self.inner.try_lock(id, token, lease))
    }

    fn unlock(&self, id: SessionId, token: LockToken) -> BoxFuture<'_, Result<(), StoreError>> {
        if self.mode.load(Ordering::SeqCst) == UNLOCK_SLOW {
            return Box::pin(async move {
                tokio::time::sleep(SLOW_UNLOCK).await;
                self.inner.unlock(id, token).await
            });
        }
        self.run(false, || self.inner.unlock(id, token))
    }
}

pub(crate) const STORE_TIMEOUT: Duration = Duration::from_millis(300);

/// A 503 that says what happened and leaves the browser's cookie alone.
pub(crate) fn assert_unavailable(reply: &Reply, elapsed: Duration) {
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.body
    );
    assert!(
        reply.set_cookies.is_empty(),
        "the browser keeps its cookie: {:?}",
        reply.set_cookies
    );
    assert!(
        reply.body.contains("session could not be loaded or saved"),
        "{}",
        reply.body
    );
    assert!(
        elapsed < Duration::from_secs(2),
        "answered within the bound: {elapsed:?}"
    );
    // The default responder's answer: retry soon, never cached or sniffed, private.
    let header = |name: &str| reply.headers.get(name).and_then(|v| v.to_str().ok());
    assert_eq!(header("retry-after"), Some("1"));
    assert_eq!(header("cache-control"), Some("no-store"));
    assert_eq!(header("x-content-type-options"), Some("nosniff"));
    assert_eq!(header("vary"), Some("Cookie"));
}

pub(crate) async fn timed(browser: &Browser, url: String) -> (Reply, Duration) {
    let start = Instant::now();
    let reply = browser.get(url).await;
    (reply, start.elapsed())
}
