//! The contract every [`SessionStore`] keeps, as async checks that panic on a breach, and the
//! [`store_contract_tests!`](crate::store_contract_tests) macro that turns them into one test per
//! rule for a store (like tower-sessions' `tests/common`). Behind the `test-util` feature.
//!
//! A store's test file provides a [`Fixture`]: the store, a time-to-live short enough to watch
//! expire, and a way to let time pass (advance a [`ManualClock`](crate::ManualClock) for an
//! in-process store, sleep for a real server). Each test gets a fresh fixture, so a real store
//! should give each one its own key prefix. The rules are plain async functions, so one can also
//! be run on its own:
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use sesi_core::ManualClock;
//! use sesi_core::store::{BoxFuture, MemoryStore, SessionStore, contract};
//!
//! struct Memory(MemoryStore, Arc<ManualClock>);
//!
//! impl contract::Fixture for Memory {
//!     fn store(&self) -> &dyn SessionStore { &self.0 }
//!     fn short_ttl(&self) -> Duration { Duration::from_secs(60) }
//!     fn pass(&self, time: Duration) -> BoxFuture<'_, ()> {
//!         self.1.advance(time);
//!         Box::pin(std::future::ready(()))
//!     }
//! }
//!
//! let clock = Arc::new(ManualClock::new(1764000000.0));
//! let fixture = Memory(MemoryStore::new(100).with_clock(clock.clone()), clock);
//! let rt = tokio::runtime::Builder::new_current_thread().build()?;
//! rt.block_on(contract::values_expire_after_their_ttl(&fixture)); // panics on a breach
//! # Ok::<(), std::io::Error>(())
//! ```

use std::time::Duration;

use super::{BoxFuture, LockToken, SessionId, SessionStore};

mod users;
pub use users::{
    a_users_expired_or_deleted_sessions_are_not_listed,
    a_users_sessions_are_listed_and_only_theirs, an_update_only_save_never_brings_a_session_back,
    deleting_a_users_sessions_ends_all_or_all_but_one,
};

/// What the contract needs to know about a store under test.
pub trait Fixture: Send + Sync {
    /// The store.
    fn store(&self) -> &dyn SessionStore;

    /// A time-to-live (and lock lease) the store honours and the test can wait out: long enough
    /// that a save followed at once by a load still finds the value, short enough to sleep through.
    fn short_ttl(&self) -> Duration;

    /// Lets `time` pass as the store sees it.
    fn pass(&self, time: Duration) -> BoxFuture<'_, ()>;
}

/// Bytes shaped like a stored session (`[accessed, created, state]`), with a marker to tell
/// payloads apart.
#[must_use]
pub fn payload(marker: &str) -> Vec<u8> {
    format!(r#"[1764000000, 1764000000.25, {{"marker": "{marker}"}}]"#).into_bytes()
}

/// A long time-to-live: nothing the tests do comes near it.
const LONG: Duration = Duration::from_secs(3600);

/// Lets more than `short_ttl` pass, with room for a real server's clock granularity.
async fn outlive(f: &impl Fixture) {
    let ttl = f.short_ttl();
    f.pass(ttl + ttl / 2 + Duration::from_millis(50)).await;
}

async fn load(f: &impl Fixture, id: SessionId) -> Option<Vec<u8>> {
    f.store().load(id).await.expect("load succeeds")
}

async fn save(f: &impl Fixture, id: SessionId, data: Vec<u8>, ttl: Option<Duration>) {
    f.store().save(id, data, ttl).await.expect("save succeeds");
}

async fn delete(f: &impl Fixture, id: SessionId) {
    f.store().delete(id).await.expect("delete succeeds");
}

async fn try_lock(f: &impl Fixture, id: SessionId, token: LockToken, lease: Duration) -> bool {
    f.store()
        .try_lock(id, token, lease)
        .await
        .expect("try_lock succeeds")
}

async fn unlock(f: &impl Fixture, id: SessionId, token: LockToken) {
    f.store().unlock(id, token).await.expect("unlock succeeds");
}

/// A never-saved id loads as `None`, not as an error or empty bytes.
pub async fn load_of_an_absent_id_is_none(f: &impl Fixture) {
    assert_eq!(load(f, SessionId::generate()).await, None);
}

/// What is saved loads back byte for byte, including bytes that are not UTF-8 text.
pub async fn saved_bytes_load_back_unchanged(f: &impl Fixture) {
    let id = SessionId::generate();
    let data = payload("round trip é ✓");
    save(f, id, data.clone(), Some(LONG)).await;
    assert_eq!(load(f, id).await, Some(data));
    let odd = vec![0, 255, 13, 10, 0xc3];
    save(f, id, odd.clone(), Some(LONG)).await;
    assert_eq!(load(f, id).await, Some(odd), "arbitrary bytes");
    delete(f, id).await;
}

/// A second save replaces the value and its time-to-live: no merge, no second copy.
pub async fn save_overwrites_the_value_and_its_ttl(f: &impl Fixture) {
    let id = SessionId::generate();
    save(f, id, payload("first"), Some(LONG)).await;
    save(f, id, payload("second"), Some(LONG)).await;
    assert_eq!(load(f, id).await, Some(payload("second")));
    // A short TTL replaced by "never": the value outlives the short TTL.
    save(f, id, payload("short"), Some(f.short_ttl())).await;
    save(f, id, payload("forever"), None).await;
    outlive(f).await;
    assert_eq!(
        load(f, id).await,
        Some(payload("forever")),
        "the overwrite's TTL (none) applies, not the old one"
    );
    // And a long TTL replaced by a short one expires.
    save(f, id, payload("short again"), Some(f.short_ttl())).await;
    outlive(f).await;
    assert_eq!(load(f, id).await, None, "the overwrite's short TTL applies");
}

/// A returning visitor's save (`save_returning`) stores exactly as `save` does: the value, its
/// time-to-live, and an overwrite by either.
pub async fn save_returning_saves_like_save(f: &impl Fixture) {
    let id = SessionId::generate();
    let store = f.store();
    store
        .save_returning(id, payload("returning"), Some(LONG))
        .await
        .expect("save_returning succeeds");
    assert_eq!(load(f, id).await, Some(payload("returning")));
    save(f, id, payload("plain"), Some(LONG)).await;
    assert_eq!(load(f, id).await, Some(payload("plain")));
    store
        .save_returning(id, payload("short"), Some(f.short_ttl()))
        .await
        .expect("save_returning succeeds");
    outlive(f).await;
    assert_eq!(load(f, id).await, None, "its time-to-live applies");
}

/// A value saved with a TTL is there right after the save and gone once the TTL passed; one saved
/// without a TTL stays.
pub async fn values_expire_after_their_ttl(f: &impl Fixture) {
    let (short, forever) = (SessionId::generate(), SessionId::generate());
    save(f, short, payload("short"), Some(f.short_ttl())).await;
    save(f, forever, payload("forever"), None).await;
    assert_eq!(
        load(f, short).await,
        Some(payload("short")),
        "before the TTL"
    );
    outlive(f).await;
    assert_eq!(load(f, short).await, None, "after the TTL");
    assert_eq!(
        load(f, forever).await,
        Some(payload("forever")),
        "no TTL, no expiry"
    );
    delete(f, forever).await;
}

/// After `delete` the id loads as `None`.
pub async fn delete_removes_the_value(f: &impl Fixture) {
    let id = SessionId::generate();
    save(f, id, payload("doomed"), Some(LONG)).await;
    delete(f, id).await;
    assert_eq!(load(f, id).await, None);
    // Saving again after a delete works as for a new id.
    save(f, id, payload("reborn"), Some(LONG)).await;
    assert_eq!(load(f, id).await, Some(payload("reborn")));
    delete(f, id).await;
}

/// Deleting an id that was never saved (or already deleted) succeeds and changes nothing else.
pub async fn delete_of_an_absent_id_is_not_an_error(f: &impl Fixture) {
    let (kept, absent) = (SessionId::generate(), SessionId::generate());
    save(f, kept, payload("kept"), Some(LONG)).await;
    f.store()
        .delete(absent)
        .await
        .expect("deleting an absent id is not an error");
    f.store()
        .delete(absent)
        .await
        .expect("deleting it twice is not an error either");
    assert_eq!(load(f, kept).await, Some(payload("kept")));
    delete(f, kept).await;
}

/// While one token holds a lock, no other token takes it, and the holder cannot take it a second
/// time either (locks are not re-entrant). Other ids' locks are unaffected.
pub async fn a_lock_is_held_by_one_token_at_a_time(f: &impl Fixture) {
    let id = SessionId::generate();
    let (a, b) = (LockToken::generate(), LockToken::generate());
    assert!(try_lock(f, id, a, LONG).await, "a free lock is taken");
    assert!(!try_lock(f, id, b, LONG).await, "a held lock is refused");
    assert!(
        !try_lock(f, id, a, LONG).await,
        "not re-entrant, even for its holder"
    );
    let other = SessionId::generate();
    assert!(
        try_lock(f, other, b, LONG).await,
        "another id's lock is free"
    );
    unlock(f, id, a).await;
    assert!(try_lock(f, id, b, LONG).await, "free again once released");
    unlock(f, id, b).await;
    unlock(f, other, b).await;
}

/// A lock whose holder never releases it ends with its lease, so a crashed server cannot block a
/// visitor forever; the late holder's `unlock` then does not release the new holder's lock.
pub async fn a_lock_ends_with_its_lease(f: &impl Fixture) {
    let id = SessionId::generate();
    let (crashed, next, third) = (
        LockToken::generate(),
        LockToken::generate(),
        LockToken::generate(),
    );
    assert!(try_lock(f, id, crashed, f.short_ttl()).await);
    assert!(!try_lock(f, id, next, LONG).await, "held within the lease");
    outlive(f).await;
    assert!(
        try_lock(f, id, next, LONG).await,
        "free once the lease ran out"
    );
    unlock(f, id, crashed).await;
    assert!(
        !try_lock(f, id, third, LONG).await,
        "the expired holder's unlock must not release the new holder's lock"
    );
    unlock(f, id, next).await;
}

/// Only the token that holds a lock releases it; `unlock` by another token, or of a free lock, is
/// a harmless no-op.
pub async fn only_the_holder_unlocks(f: &impl Fixture) {
    let id = SessionId::generate();
    let (holder, intruder) = (LockToken::generate(), LockToken::generate());
    unlock(f, id, intruder).await; // a free lock: nothing happens
    assert!(try_lock(f, id, holder, LONG).await);
    unlock(f, id, intruder).await;
    assert!(
        !try_lock(f, id, intruder, LONG).await,
        "still held after a stranger's unlock"
    );
    unlock(f, id, holder).await;
    assert!(
        try_lock(f, id, intruder, LONG).await,
        "released by its holder"
    );
    unlock(f, id, intruder).await;
}

/// Ids do not see each other's data, and a lock is not data: locking an id neither creates,
/// hides nor removes its session, and saving or deleting a session leaves its lock alone.
pub async fn ids_are_isolated(f: &impl Fixture) {
    let (a, b) = (SessionId::generate(), SessionId::generate());
    save(f, a, payload("a"), Some(LONG)).await;
    save(f, b, payload("b"), Some(LONG)).await;
    assert_eq!(load(f, a).await, Some(payload("a")));
    assert_eq!(load(f, b).await, Some(payload("b")));
    delete(f, b).await;
    assert_eq!(load(f, a).await, Some(payload("a")), "deleting b keeps a");

    let token = LockToken::generate();
    assert!(try_lock(f, b, token, LONG).await);
    assert_eq!(load(f, b).await, None, "a lock creates no session");
    assert!(try_lock(f, a, token, LONG).await, "b's lock is not a's");
    assert_eq!(load(f, a).await, Some(payload("a")), "a lock hides nothing");
    save(f, a, payload("a2"), Some(LONG)).await;
    delete(f, b).await;
    assert!(
        !try_lock(f, a, LockToken::generate(), LONG).await,
        "saving keeps the lock"
    );
    assert!(
        !try_lock(f, b, LockToken::generate(), LONG).await,
        "deleting the session keeps the lock"
    );
    unlock(f, a, token).await;
    unlock(f, b, token).await;
    delete(f, a).await;
}

/// `lock_and_load` takes a free lock and reads the session (absent or saved) in the same
/// step, refuses a held lock without reading, and holds the lock it took like `try_lock`.
pub async fn lock_and_load_takes_the_lock_and_reads_in_one_step(f: &impl Fixture) {
    let (saved, absent) = (SessionId::generate(), SessionId::generate());
    save(f, saved, payload("saved"), Some(LONG)).await;
    let (a, b) = (LockToken::generate(), LockToken::generate());
    let got = f
        .store()
        .lock_and_load(saved, a, LONG)
        .await
        .expect("lock_and_load succeeds");
    assert_eq!(
        got,
        Some(Some(payload("saved"))),
        "taken, and the session read"
    );
    assert!(!try_lock(f, saved, b, LONG).await, "the lock is held");
    let refused = f
        .store()
        .lock_and_load(saved, b, LONG)
        .await
        .expect("lock_and_load succeeds");
    assert_eq!(refused, None, "a held lock is refused, nothing read");
    let got = f
        .store()
        .lock_and_load(absent, b, LONG)
        .await
        .expect("lock_and_load succeeds");
    assert_eq!(got, Some(None), "taken; no session saved there");
    unlock(f, saved, a).await;
    unlock(f, absent, b).await;
    delete(f, saved).await;
}

/// `save_and_unlock` saves with its time-to-live and releases the lock when the token holds it;
/// with a token that does not (its lease ended and another request took it), it saves and
/// leaves the other holder's lock alone.
pub async fn save_and_unlock_saves_then_frees_only_its_own_lock(f: &impl Fixture) {
    let id = SessionId::generate();
    let (holder, other) = (LockToken::generate(), LockToken::generate());
    assert!(try_lock(f, id, holder, LONG).await);
    f.store()
        .save_and_unlock(id, payload("one"), Some(LONG), true, holder)
        .await
        .expect("save_and_unlock succeeds");
    assert_eq!(load(f, id).await, Some(payload("one")));
    assert!(try_lock(f, id, other, LONG).await, "the lock was released");
    f.store()
        .save_and_unlock(id, payload("two"), Some(f.short_ttl()), false, holder)
        .await
        .expect("save_and_unlock succeeds");
    assert_eq!(load(f, id).await, Some(payload("two")));
    assert!(
        !try_lock(f, id, holder, LONG).await,
        "another token's lock is not released"
    );
    unlock(f, id, other).await;
    outlive(f).await;
    assert_eq!(load(f, id).await, None, "saved with the time-to-live given");
}

/// One `#[tokio::test]` per rule of the [`SessionStore`] contract, for the store a fixture gives.
///
/// `$fixture` is an expression, evaluated afresh for each test, whose value is a future of
/// `Option<impl Fixture>`; `None` skips the test (for a store whose server is not available and
/// whose test file decided that is acceptable). The calling crate needs `tokio` with the `macros`
/// and `rt` features as a dev-dependency.
///
/// ```
/// # use std::sync::Arc;
/// # use std::time::Duration;
/// # use sesi_core::ManualClock;
/// # use sesi_core::store::{BoxFuture, MemoryStore, SessionStore, contract};
/// # struct Memory(MemoryStore, Arc<ManualClock>);
/// # impl contract::Fixture for Memory {
/// #     fn store(&self) -> &dyn SessionStore { &self.0 }
/// #     fn short_ttl(&self) -> Duration { Duration::from_secs(60) }
/// #     fn pass(&self, time: Duration) -> BoxFuture<'_, ()> {
/// #         self.1.advance(time);
/// #         Box::pin(std::future::ready(()))
/// #     }
/// # }
/// // In a store crate's tests/contract.rs, with `Memory` a `Fixture` as in the module example:
/// sesi_core::store_contract_tests!(async {
///     let clock = Arc::new(ManualClock::new(1764000000.0));
///     Some(Memory(MemoryStore::new(100).with_clock(clock.clone()), clock))
/// });
/// # fn main() {}
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
#[macro_export]
macro_rules! store_contract_tests {
    ($fixture:expr) => {
        $crate::store_contract_tests!(@each $fixture;
            load_of_an_absent_id_is_none,
            saved_bytes_load_back_unchanged,
            save_overwrites_the_value_and_its_ttl,
            save_returning_saves_like_save,
            values_expire_after_their_ttl,
            delete_removes_the_value,
            delete_of_an_absent_id_is_not_an_error,
            a_lock_is_held_by_one_token_at_a_time,
            a_lock_ends_with_its_lease,
            only_the_holder_unlocks,
            ids_are_isolated,
            lock_and_load_takes_the_lock_and_reads_in_one_step,
            save_and_unlock_saves_then_frees_only_its_own_lock,
            a_users_sessions_are_listed_and_only_theirs,
            deleting_a_users_sessions_ends_all_or_all_but_one,
            an_update_only_save_never_brings_a_session_back,
            a_users_expired_or_deleted_sessions_are_not_listed,
        );
    };
    (@each $fixture:expr; $($rule:ident,)*) => {
        $(
            #[tokio::test]
            async fn $rule() {
                let Some(fixture) = $fixture.await else {
                    return;
                };
                $crate::store::contract::$rule(&fixture).await;
            }
        )*
    };
}
