//! How the middleware uses a store: every call bounded by a timeout, and the per-session lock
//! taken with retries and always given back.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sesi_core::store::{LockToken, SessionId, SessionStore, StoreError};

/// Per-session locking: one request of a session at a time, across every server sharing the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockConfig {
    /// How long a request waits for the lock before giving up with a 503.
    pub wait: Duration,
    /// How long a lock lives at most, so a crashed server cannot block a visitor forever.
    pub lease: Duration,
}

impl Default for LockConfig {
    fn default() -> Self {
        LockConfig {
            wait: Duration::from_secs(5),
            lease: Duration::from_secs(30),
        }
    }
}

/// The store and how to use it.
#[derive(Debug, Clone)]
pub(crate) struct StoreAccess {
    pub(crate) store: Arc<dyn SessionStore>,
    pub(crate) timeout: Duration,
    pub(crate) lock: Option<LockConfig>,
    /// Store mode: whether a whole-session cookie is still read (a migration window). Spill
    /// mode always reads its own.
    pub(crate) accept_cookie_sessions: bool,
}

impl StoreAccess {
    /// Runs one store operation, failing with [`StoreError::Timeout`] past the timeout.
    pub(crate) async fn call<T>(
        &self,
        op: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(self.timeout, op).await {
            Ok(result) => result,
            Err(_) => Err(StoreError::Timeout(self.timeout)),
        }
    }

    /// Takes the lock of `id` and reads the session in the same step (the store's
    /// `lock_and_load`: one round trip in a single Redis), retrying with backoff until
    /// `lock.wait` has passed. The stored bytes (or `None`) with the lock held.
    pub(crate) async fn lock_and_load(
        &self,
        id: SessionId,
        lock: LockConfig,
    ) -> Result<(HeldLock, Option<Vec<u8>>), StoreError> {
        let token = LockToken::generate();
        let start = Instant::now();
        let mut pause = Duration::from_millis(2);
        loop {
            let asked = Instant::now();
            let taken = self
                .call(self.store.lock_and_load(id, token, lock.lease))
                .await;
            if !matches!(taken, Ok(None)) {
                let held = HeldLock {
                    store: Arc::clone(&self.store),
                    id,
                    token,
                    lease_ends: asked + lock.lease,
                    timeout: self.timeout,
                    released: false,
                };
                // On an error the store may still have taken the lock and lost the answer (a
                // timeout, a Redis that died after writing it): dropping `held` then releases it
                // in the background, which does nothing if it was never taken (compare-and-delete
                // by this request's token).
                return taken.map(|loaded| (held, loaded.flatten()));
            }
            if start.elapsed() + pause > lock.wait {
                return Err(StoreError::LockTimeout(lock.wait));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(50));
        }
    }

    /// Saves and gives the lock back in one step (the store's `save_and_unlock`). On success
    /// the lock counts as released; on an error `held` stays, and is released as usual.
    pub(crate) async fn save_and_unlock(
        &self,
        held: &mut HeldLock,
        save: sesi_core::session::Save,
    ) -> Result<(), StoreError> {
        let result = self
            .call(self.store.save_and_unlock(
                save.id,
                save.payload,
                save.ttl,
                save.returning,
                held.token,
            ))
            .await;
        if result.is_ok() {
            held.released = true;
        }
        result
    }

    /// Gives the lock back, if one is held and not released already.
    pub(crate) async fn release(&self, held: Option<HeldLock>) {
        if let Some(mut held) = held.filter(|held| !held.released) {
            let result = self.call(self.store.unlock(held.id, held.token)).await;
            // Only now: if this request is dropped during the call, the guard's `Drop` unlocks
            // in the background (unlocking twice is harmless, it is compare-and-delete).
            held.released = true;
            if let Err(err) = result {
                tracing::warn!(%err, session = %held.id, "could not release a session lock; retrying in the background");
                held.release_in_background();
            }
        }
    }
}

/// A session lock this request holds. If the request is dropped before it releases the lock (the
/// client went away, the handler panicked), the lock is released in the background rather than
/// blocking the visitor until the lease ends.
pub(crate) struct HeldLock {
    store: Arc<dyn SessionStore>,
    id: SessionId,
    token: LockToken,
    /// When the store lets the lock go by itself (measured from before it was asked for it).
    lease_ends: Instant,
    timeout: Duration,
    released: bool,
}

impl HeldLock {
    /// The session the lock guards.
    pub(crate) fn id(&self) -> SessionId {
        self.id
    }

    /// Keeps trying to release the lock until it succeeds or the lease would have ended it
    /// anyway, so a store that was down (a Redis restart) gives the visitor their session back
    /// as soon as it is up again, not a lease later. Unlocking is compare-and-delete, so a try
    /// after the lease never releases another request's lock.
    fn release_in_background(&self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (store, id, token) = (Arc::clone(&self.store), self.id, self.token);
        let (lease_ends, timeout) = (self.lease_ends, self.timeout);
        runtime.spawn(async move {
            let mut pause = Duration::from_millis(50);
            loop {
                match tokio::time::timeout(timeout, store.unlock(id, token)).await {
                    Ok(Ok(())) => return,
                    Ok(Err(_)) | Err(_) if Instant::now() + pause < lease_ends => {
                        tokio::time::sleep(pause).await;
                        pause = (pause * 2).min(Duration::from_secs(1));
                    }
                    Ok(Err(_)) | Err(_) => {
                        tracing::warn!(session = %id, "gave up releasing a session lock; its lease ends it");
                        return;
                    }
                }
            }
        });
    }
}

impl Drop for HeldLock {
    fn drop(&mut self) {
        if !self.released {
            self.release_in_background();
        }
    }
}
