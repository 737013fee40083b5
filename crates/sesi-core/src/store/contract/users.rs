//! The contract of the user index behind "log out everywhere"
//! ([`SessionStore::save_user_session`](crate::store::SessionStore::save_user_session)).

use std::collections::BTreeSet;

use super::{Fixture, LONG, delete, load, outlive, payload, save};
use crate::store::{SessionId, StoredSession};

/// A user name no other test (or earlier run against the same server) uses.
fn fresh_user(name: &str) -> String {
    format!("{name}-{}", SessionId::generate().to_hex())
}

async fn save_user(
    f: &impl Fixture,
    id: SessionId,
    user: &str,
    marker: &str,
    ttl: Option<std::time::Duration>,
) {
    f.store()
        .save_user_session(id, payload(marker), ttl, user, false)
        .await
        .expect("save_user_session succeeds");
}

async fn listed(f: &impl Fixture, user: &str) -> BTreeSet<(SessionId, Vec<u8>)> {
    f.store()
        .user_sessions(user)
        .await
        .expect("user_sessions succeeds")
        .into_iter()
        .map(|StoredSession { id, data }| (id, data))
        .collect()
}

/// A user's sessions are listed with their bytes, and only theirs: not another user's, not a
/// session saved without a user.
pub async fn a_users_sessions_are_listed_and_only_theirs(f: &impl Fixture) {
    let (ada, bob) = (fresh_user("ada"), fresh_user("bob"));
    let [a1, a2, b1, plain] = [(); 4].map(|()| SessionId::generate());
    save_user(f, a1, &ada, "a1", Some(LONG)).await;
    save_user(f, a2, &ada, "a2", None).await;
    save_user(f, b1, &bob, "b1", Some(LONG)).await;
    save(f, plain, payload("plain"), Some(LONG)).await;
    let expected: BTreeSet<_> = [(a1, payload("a1")), (a2, payload("a2"))].into();
    assert_eq!(listed(f, &ada).await, expected);
    assert_eq!(listed(f, &bob).await, [(b1, payload("b1"))].into());
    assert!(listed(f, &fresh_user("nobody")).await.is_empty());
    // Saved again, a session is listed once, with its new bytes.
    save_user(f, a1, &ada, "a1 again", Some(LONG)).await;
    let expected: BTreeSet<_> = [(a1, payload("a1 again")), (a2, payload("a2"))].into();
    assert_eq!(listed(f, &ada).await, expected, "one entry per session");
    for id in [a1, a2, b1, plain] {
        delete(f, id).await;
    }
}

/// Deleting a user's sessions ends all of them, or all but the one kept, and no other user's;
/// the count says how many ended.
pub async fn deleting_a_users_sessions_ends_all_or_all_but_one(f: &impl Fixture) {
    let (ada, bob) = (fresh_user("ada"), fresh_user("bob"));
    let [a1, a2, a3, b1] = [(); 4].map(|()| SessionId::generate());
    for (id, marker) in [(a1, "a1"), (a2, "a2"), (a3, "a3")] {
        save_user(f, id, &ada, marker, Some(LONG)).await;
    }
    save_user(f, b1, &bob, "b1", Some(LONG)).await;
    let ended = f.store().delete_user_sessions(&ada, Some(a2)).await;
    assert_eq!(ended.expect("delete_user_sessions succeeds"), 2);
    assert_eq!(load(f, a1).await, None);
    assert_eq!(load(f, a3).await, None);
    assert_eq!(load(f, a2).await, Some(payload("a2")), "the kept one lives");
    assert_eq!(listed(f, &ada).await, [(a2, payload("a2"))].into());
    assert_eq!(
        load(f, b1).await,
        Some(payload("b1")),
        "another user's lives"
    );
    let ended = f.store().delete_user_sessions(&ada, None).await;
    assert_eq!(ended.expect("delete_user_sessions succeeds"), 1);
    assert_eq!(load(f, a2).await, None);
    assert!(listed(f, &ada).await.is_empty());
    let again = f.store().delete_user_sessions(&ada, None).await;
    assert_eq!(again.expect("deleting nothing succeeds"), 0);
    delete(f, b1).await;
}

/// An update-only save (a request that loaded the session before it was revoked) never brings
/// a deleted session back; on a live session it saves as usual.
pub async fn an_update_only_save_never_brings_a_session_back(f: &impl Fixture) {
    let ada = fresh_user("ada");
    let (revoked, deleted, live) = (
        SessionId::generate(),
        SessionId::generate(),
        SessionId::generate(),
    );
    for id in [revoked, deleted, live] {
        save_user(f, id, &ada, "before", Some(LONG)).await;
    }
    f.store()
        .delete_user_sessions(&ada, Some(live))
        .await
        .expect("delete_user_sessions succeeds");
    for id in [revoked, deleted, live] {
        f.store()
            .save_user_session(id, payload("in flight"), Some(LONG), &ada, true)
            .await
            .expect("an update-only save succeeds, saving or not");
    }
    assert_eq!(load(f, revoked).await, None, "revoked stays revoked");
    assert_eq!(load(f, deleted).await, None);
    assert_eq!(
        load(f, live).await,
        Some(payload("in flight")),
        "a live session is updated"
    );
    assert_eq!(listed(f, &ada).await, [(live, payload("in flight"))].into());
    delete(f, live).await;
    let never = SessionId::generate();
    f.store()
        .save_user_session(never, payload("new"), Some(LONG), &ada, true)
        .await
        .expect("an update-only save of an unknown id succeeds");
    assert_eq!(load(f, never).await, None, "update-only never creates");
}

/// A user's session that expired or was deleted is no longer listed, nor counted when the
/// user's sessions are ended.
pub async fn a_users_expired_or_deleted_sessions_are_not_listed(f: &impl Fixture) {
    let ada = fresh_user("ada");
    let [short, gone, stays] = [(); 3].map(|()| SessionId::generate());
    save_user(f, short, &ada, "short", Some(f.short_ttl())).await;
    save_user(f, gone, &ada, "gone", Some(LONG)).await;
    save_user(f, stays, &ada, "stays", Some(LONG)).await;
    delete(f, gone).await;
    outlive(f).await;
    assert_eq!(listed(f, &ada).await, [(stays, payload("stays"))].into());
    let ended = f.store().delete_user_sessions(&ada, None).await;
    assert_eq!(
        ended.expect("delete_user_sessions succeeds"),
        1,
        "only the live one"
    );
}
