//! What keeps a stored session from growing or lingering without bound: the store's size cap
//! (the same guard as the cookie's 4096 bytes) and the probation of sessions whose visitor has
//! not come back.

use super::plan::{found, fresh_store, save_of, spill, store};
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
    let plan = finish(&s);
    assert_eq!(save_of(&plan).ttl, Some(PROBATION), "not back yet");
    assert!(!save_of(&plan).returning);

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
        let plan = finish(&s);
        assert_eq!(save_of(&plan).ttl, TTL);
        assert!(save_of(&plan).returning, "saved as a returning visitor's");
    }
}

#[test]
fn a_visitor_back_for_the_first_time_is_saved_for_the_full_timeout_even_by_a_read() {
    // Whatever `reissue_time` says, the first return ends the probation: without this save, a
    // visitor who only reads would lose the session when the probation runs out.
    for reissue in [None, Some(600), Some(0)] {
        let h = bounded(fresh_store(config(Some(1200), reissue, None)));
        h.at(10.0);
        let id = SessionId::generate();
        // Saved once, at creation: `accessed == created`.
        let back = h.loaded(found(record(T, TF, json!({"counter": 1})), 0), Some(id));
        assert_eq!(back.get::<i64>("counter").expect("int"), Some(1));
        let plan = finish(&back);
        assert_eq!(
            save_of(&plan).id,
            id,
            "{reissue:?}: saved under the same id"
        );
        assert_eq!(save_of(&plan).ttl, TTL, "{reissue:?}");
        assert_eq!(
            plan.cookie,
            CookieStep::Keep,
            "{reissue:?}: the cookie stays"
        );

        // Saved again since: off probation, so a read follows `reissue_time` alone.
        let later = h.loaded(found(record(T + 5, TF, json!({"counter": 1})), 0), Some(id));
        let _ = later.get_value("counter");
        let plan = finish(&later);
        assert_eq!(
            plan.save.is_some(),
            reissue == Some(0),
            "{reissue:?}: {plan:?}"
        );
    }
    // Without a probation nothing changes: a read within `reissue_time` saves nothing.
    let h = fresh_store(config(Some(1200), None, None));
    let back = h.loaded(
        found(record(T, TF, json!({"counter": 1})), 0),
        Some(SessionId::generate()),
    );
    let _ = back.get_value("counter");
    assert_eq!(finish(&back), Plan::default());
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
