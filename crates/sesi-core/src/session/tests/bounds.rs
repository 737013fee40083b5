//! What keeps a stored session from growing or lingering without bound: the store's size cap
//! (the same guard as the cookie's 4096 bytes) and the probation of sessions whose visitor has
//! not come back.

use super::plan::{fresh_store, save_of, spill, store};
use super::*;

const CAP: usize = 8192;
const PROBATION: Duration = Duration::from_secs(300);
const TTL: Option<Duration> = Some(Duration::from_secs(1200));

/// A store-mode harness with a cap of [`CAP`] bytes and a probation of [`PROBATION`].
fn bounded(h: Harness) -> Harness {
    h.tuned(|engine| {
        engine
            .with_max_stored_size(CAP)
            .with_probation(Some(PROBATION))
    })
}

#[test]
fn try_writes_refuse_to_grow_a_stored_session_past_its_cap() {
    for h in [bounded(store()), bounded(spill())] {
        let s = h.fresh();
        s.try_insert("small", &"x".repeat(100)).expect("fits");
        match s.try_insert("big", &"y".repeat(CAP)) {
            Err(SessionError::TooLarge { bytes, limit }) => {
                assert_eq!(limit, CAP);
                assert!(bytes > CAP, "{bytes}");
            }
            other => panic!("expected TooLarge, got {other:?}"),
        }
        assert!(!s.contains("big"), "the refused write changed nothing");
        let err = s
            .try_update("small", |v: &mut String| v.push_str(&"z".repeat(CAP)))
            .expect_err("too large");
        assert!(matches!(err, SessionError::TooLarge { limit: CAP, .. }));
        assert_eq!(
            s.get::<String>("small").expect("str").map(|v| v.len()),
            Some(100)
        );
    }
}

#[test]
fn a_plain_write_past_the_cap_is_neither_saved_nor_sent() {
    let h = bounded(store());
    let id = SessionId::generate();
    let s = h.stored(id, json!({"counter": 1}));
    s.insert("big", &"x".repeat(CAP))
        .expect("insert does not check");
    let plan = finish(&s);
    assert_eq!(plan.save, None, "nothing saved");
    assert_eq!(plan.delete, None, "the stored copy is kept");
    assert!(
        matches!(plan.cookie, CookieStep::TooLarge { bytes, limit: CAP } if bytes > CAP),
        "{plan:?}"
    );
}

#[test]
fn a_new_visitor_is_saved_on_probation_and_a_returning_one_for_the_full_timeout() {
    let h = bounded(store());
    let s = h.fresh();
    s.insert("counter", &1).expect("int");
    assert_eq!(save_of(&finish(&s)).ttl, Some(PROBATION), "not back yet");

    let id = SessionId::generate();
    let back = h.stored(id, json!({"counter": 1}));
    back.update("counter", |n: &mut i64| *n += 1).expect("int");
    assert_eq!(
        save_of(&finish(&back)).ttl,
        TTL,
        "came back with the cookie"
    );

    // A returning visitor keeps the full timeout across a new id (a login).
    for change in [Session::cycle_id, Session::invalidate] {
        let s = h.stored(id, json!({"user": "alice"}));
        change(&s);
        s.insert("user", "bob").expect("str");
        assert_eq!(save_of(&finish(&s)).ttl, TTL);
    }
}

#[test]
fn probation_never_outlasts_the_timeout_and_without_it_every_save_gets_the_timeout() {
    let short = fresh_store(config(Some(60), Some(0), None))
        .tuned(|engine| engine.with_probation(Some(PROBATION)));
    assert_eq!(short.engine.save_ttl(false), Some(Duration::from_secs(60)));
    let endless = fresh_store(config(None, None, None))
        .tuned(|engine| engine.with_probation(Some(PROBATION)));
    assert_eq!(endless.engine.save_ttl(false), Some(PROBATION));
    assert_eq!(endless.engine.save_ttl(true), None);
    let s = store().fresh();
    s.insert("counter", &1).expect("int");
    assert_eq!(save_of(&finish(&s)).ttl, TTL, "no probation configured");
}
