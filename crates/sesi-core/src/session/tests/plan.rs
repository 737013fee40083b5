//! Server-side stores: what the lifecycle's plan tells the middleware to do at the end of a
//! request in store and spill mode. Cookies coming out are read with a separate format instance;
//! payloads with the record parser.

use super::*;
use crate::session::Expiry;

impl Harness {
    /// The same harness, keeping sessions in `mode`.
    pub(super) fn storing(self, mode: StorageMode) -> Self {
        self.tuned(|engine| engine.with_storage(mode))
    }

    /// The same harness with its engine changed by `f`.
    pub(super) fn tuned(self, f: impl FnOnce(SessionEngine) -> SessionEngine) -> Self {
        let engine = Arc::into_inner(self.engine).expect("not shared yet");
        Harness {
            clock: self.clock,
            engine: Arc::new(f(engine)),
        }
    }

    /// A session as the middleware builds it from a store: `state` saved at `T`, under `id`.
    pub(super) fn stored(&self, id: SessionId, state: Value) -> Session {
        self.loaded(found(record(T, TF, state), 0), Some(id))
    }

    /// A session whose state the middleware read before the handler ran (store path).
    pub(super) fn loaded(&self, incoming: Incoming, id: Option<SessionId>) -> Session {
        Lifecycle::begin_loaded(&self.engine, incoming, id)
            .session()
            .clone()
    }

    /// A session for a request without a cookie, as the middleware builds it.
    pub(super) fn fresh(&self) -> Session {
        self.loaded(Incoming::Missing(CookieStatus::Absent), None)
    }
}

/// A record read from the store (or a cookie), verified by key `key_index`.
pub(super) fn found(record: Record, key_index: usize) -> Incoming {
    Incoming::Found { record, key_index }
}

pub(super) fn store() -> Harness {
    fresh_store(SessionConfig::default())
}

/// A store-mode harness with `config`.
pub(super) fn fresh_store(config: SessionConfig) -> Harness {
    Harness::new(config).storing(StorageMode::Store)
}

pub(super) fn spill() -> Harness {
    Harness::new(SessionConfig::default()).storing(StorageMode::Spill)
}

/// The id an id cookie carries, checked to verify with the current secret alone.
fn id_in(cookie: &str) -> SessionId {
    match format_for(&[CURRENT]).decode(cookie) {
        Ok(Decoded {
            content: CookieContent::Id(id),
            key_index: 0,
        }) => id,
        other => panic!("expected an id cookie signed by the current secret, got {other:?}"),
    }
}

/// The record a whole-session cookie carries.
fn state_in(cookie: &str) -> Record {
    read_with(&[CURRENT], cookie)
}

/// The cookie value a plan sets, or a panic.
fn set_value(cookie: &CookieStep) -> &str {
    match cookie {
        CookieStep::Set(value) => value,
        other => panic!("expected a Set-Cookie, got {other:?}"),
    }
}

/// The save a plan makes, or a panic.
pub(super) fn save_of(plan: &Plan) -> &Save {
    plan.save
        .as_ref()
        .unwrap_or_else(|| panic!("expected a save, got {plan:?}"))
}

fn parsed(payload: &[u8]) -> Record {
    Record::from_json(payload).expect("a saved payload is [accessed, created, state]")
}

const TTL: Option<Duration> = Some(Duration::from_secs(1200));

#[test]
fn store_mode_new_session_written_is_saved_under_a_fresh_id_and_gets_an_id_cookie() {
    let h = store();
    let s = h.fresh();
    s.insert("counter", &1).expect("int");
    let plan = finish(&s);
    assert_eq!(plan.reason, Some(SetReason::Changed));
    assert_eq!(plan.delete, None, "nothing was stored before");
    let Save {
        id, payload, ttl, ..
    } = save_of(&plan);
    let cookie = set_value(&plan.cookie);
    assert_eq!(*ttl, TTL, "the idle timeout is the store's TTL");
    assert_eq!(id_in(cookie), *id, "the cookie points at what was saved");
    assert!(
        cookie.len() < 200,
        "only an id travels: {} chars",
        cookie.len()
    );
    let saved = parsed(payload);
    assert_eq!(Value::Object(saved.state), json!({"counter": 1}));
    assert_eq!(saved.created, Some(Timestamp::Float(TF)));
    assert_eq!(s.id(), None, "planning does not move the session");
}

#[test]
fn store_mode_reading_a_new_session_saves_nothing() {
    let h = store();
    let s = h.fresh();
    assert_eq!(s.get::<i64>("counter").expect("absent"), None);
    h.at(5.0);
    assert_eq!(finish(&s), Plan::default());
}

#[test]
fn store_mode_rewriting_an_existing_session_saves_under_its_id_without_a_cookie() {
    let h = store();
    let id = SessionId::generate();
    // The request comes at T + 5; the session is loaded, and the clock read, as it starts.
    h.at(5.0);
    let s = h.stored(id, json!({"counter": 1}));
    s.update("counter", |n: &mut i64| *n += 1).expect("int");
    assert_eq!(s.cookie_size(), h.engine.id_cookie_size());
    let plan = finish(&s);
    assert_eq!(plan.reason, Some(SetReason::Changed));
    assert_eq!((plan.delete, &plan.cookie), (None, &CookieStep::Keep));
    let Save {
        id: at,
        payload,
        ttl,
        returning,
        user,
        update_only,
    } = save_of(&plan);
    assert_eq!((*at, *ttl, *returning), (id, TTL, true));
    assert_eq!(
        (user, *update_only),
        (&None, false),
        "no user, a plain save"
    );
    let saved = parsed(payload);
    assert_eq!(Value::Object(saved.state), json!({"counter": 2}));
    assert_eq!(saved.accessed, Timestamp::Int(T + 5));
    assert_eq!(saved.created, Some(Timestamp::Float(TF)), "created is kept");
}

#[test]
fn store_mode_reissue_only_refreshes_the_stored_ttl() {
    let h = store();
    let id = SessionId::generate();
    // A read in the same second as the last access: nothing to do.
    let s = h.stored(id, json!({"counter": 1}));
    assert_eq!(s.get::<i64>("counter").expect("int"), Some(1));
    assert_eq!(finish(&s), Plan::default());
    // A read in a later second (reissue_time 0): saved again, so the TTL starts over.
    h.at(7.0);
    let s = h.stored(id, json!({"counter": 1}));
    assert_eq!(s.get::<i64>("counter").expect("int"), Some(1));
    let plan = finish(&s);
    assert_eq!(plan.reason, Some(SetReason::Reissued));
    assert_eq!(
        (plan.delete, &plan.cookie),
        (None, &CookieStep::Keep),
        "no cookie"
    );
    let Save {
        id: at,
        payload,
        ttl,
        returning,
        user,
        update_only,
    } = save_of(&plan);
    assert_eq!((*at, *ttl, *returning), (id, TTL, true));
    assert_eq!(
        (user, *update_only),
        (&None, false),
        "no user, a plain save"
    );
    assert_eq!(parsed(payload).accessed, Timestamp::Int(T + 7));
}

#[test]
fn store_mode_invalidate_deletes_the_stored_session_and_the_cookie() {
    let h = store();
    let id = SessionId::generate();
    let s = h.stored(id, json!({"user": "alice"}));
    s.invalidate();
    assert_eq!(
        finish(&s),
        Plan {
            reason: None,
            save: None,
            delete: Some(id),
            cookie: CookieStep::Delete,
            expiry: Expiry::Default,
        }
    );
    // A session that never reached the store only loses its cookie.
    let s = h.fresh();
    s.invalidate();
    assert_eq!(finish(&s), delete_cookie());
}

#[test]
fn store_mode_invalidate_then_write_saves_a_new_id_and_deletes_the_old() {
    let h = store();
    let old = SessionId::generate();
    h.at(5.0);
    let s = h.stored(old, json!({"user": "mallory", CSRF_KEY: "planted"}));
    s.invalidate();
    s.insert("user", "alice").expect("str");
    let plan = finish(&s);
    let Save { id, payload, .. } = save_of(&plan);
    assert_ne!(*id, old, "a new session gets a new id");
    assert_eq!(plan.delete, Some(old), "the old one is dead everywhere");
    assert_eq!(id_in(set_value(&plan.cookie)), *id);
    let saved = parsed(payload);
    assert_eq!(Value::Object(saved.state), json!({"user": "alice"}));
    assert_eq!(saved.created, Some(Timestamp::Float(TF + 5.0)), "brand new");
}

#[test]
fn cycle_id_moves_the_data_to_a_new_id_and_deletes_the_old() {
    let h = store();
    let old = SessionId::generate();
    let s = h.stored(old, json!({"user": "alice", "cart": {"kopi": 2}}));
    s.cycle_id();
    let plan = finish(&s);
    assert_eq!(plan.reason, Some(SetReason::Changed));
    let Save { id, payload, .. } = save_of(&plan);
    assert_ne!(*id, old);
    assert_eq!(plan.delete, Some(old));
    assert_eq!(id_in(set_value(&plan.cookie)), *id);
    let saved = parsed(payload);
    assert_eq!(
        Value::Object(saved.state),
        json!({"user": "alice", "cart": {"kopi": 2}}),
        "the data is kept"
    );
    assert_eq!(
        saved.created,
        Some(Timestamp::Float(TF)),
        "the same session"
    );
}

#[test]
fn cycle_id_of_a_cookie_session_only_reissues_the_cookie() {
    let h = Harness::new(SessionConfig::default());
    let cookie = h.cookie(T, TF, json!({"user": "alice"}));
    let s = h.session(Some(&cookie));
    s.cycle_id();
    let (value, _) = expect_set(finish(&s));
    assert_eq!(
        Value::Object(state_in(&value).state),
        json!({"user": "alice"})
    );
    assert_eq!(s.id(), None);
}

#[test]
fn an_id_cookie_verified_by_an_old_key_is_re_signed_with_the_current_one() {
    let h = Harness::with_secrets(SessionConfig::default(), &[CURRENT, OLD])
        .storing(StorageMode::Store);
    let id = SessionId::generate();
    let s = h.loaded(found(record(T, TF, json!({"counter": 3})), 1), Some(id));
    assert_eq!(s.get::<i64>("counter").expect("int"), Some(3));
    let plan = finish(&s);
    assert_eq!(plan.reason, Some(SetReason::Rotated));
    assert_eq!(save_of(&plan).id, id, "the same session, only re-signed");
    assert_eq!(plan.delete, None);
    assert_eq!(
        id_in(set_value(&plan.cookie)),
        id,
        "verifies with the current secret alone"
    );
}

#[test]
fn store_mode_try_flash_never_refuses_for_size() {
    let h = store();
    let s = h.fresh();
    s.insert("blob", &"x".repeat(5000)).expect("str");
    s.try_flash("saved", "", true)
        .expect("a store has no cookie limit");
    assert_eq!(s.peek_flash::<String>("").expect("strings"), ["saved"]);
}

#[test]
fn spill_mode_keeps_a_small_session_in_the_cookie() {
    let h = spill();
    let s = h.fresh();
    s.insert("counter", &1).expect("int");
    let (cookie, _) = expect_set(finish(&s));
    assert_eq!(
        Value::Object(state_in(&cookie).state),
        json!({"counter": 1})
    );
}

#[test]
fn spill_mode_moves_a_session_that_outgrows_the_cookie_to_the_store() {
    let h = spill();
    let s = h.fresh();
    s.insert("counter", &1).expect("int");
    s.insert("blob", &"x".repeat(5000)).expect("str");
    assert!(!s.fits());
    assert_eq!(
        s.cookie_size(),
        h.engine.id_cookie_size(),
        "what is sent is the id cookie"
    );
    let plan = finish(&s);
    let Save {
        id, payload, ttl, ..
    } = save_of(&plan);
    let cookie = set_value(&plan.cookie);
    assert_eq!(*ttl, TTL, "a store takes what a cookie cannot");
    assert_eq!(id_in(cookie), *id);
    assert_eq!(
        h.engine.id_cookie_size(),
        h.engine.cookie_overhead() + cookie.len()
    );
    assert_eq!(
        parsed(payload).state["blob"].as_str().map(str::len),
        Some(5000)
    );

    // Still too big next time: saved in place, no new cookie.
    let s = h.stored(*id, Value::Object(parsed(payload).state));
    s.update("counter", |n: &mut i64| *n += 1).expect("int");
    let plan = finish(&s);
    assert_eq!(save_of(&plan).id, *id);
    assert_eq!((plan.delete, plan.cookie), (None, CookieStep::Keep));
}

#[test]
fn spill_mode_moves_a_shrunk_session_back_into_the_cookie_and_deletes_the_stored_copy() {
    let h = spill();
    let id = SessionId::generate();
    let s = h.stored(id, json!({"counter": 4, "blob": "x".repeat(5000)}));
    assert!(s.remove("blob").is_some());
    let plan = finish(&s);
    assert_eq!(plan.save, None);
    assert_eq!(plan.delete, Some(id));
    assert_eq!(
        Value::Object(state_in(set_value(&plan.cookie)).state),
        json!({"counter": 4}),
        "the whole session is back in the cookie"
    );
}

#[test]
fn planning_twice_gives_the_same_plan() {
    let h = store();
    // A new id is chosen once: the inspector's preview and the real end agree.
    let s = h.fresh();
    s.insert("counter", &1).expect("int");
    assert_eq!(finish(&s), finish(&s));
    let s = h.stored(SessionId::generate(), json!({"user": "alice"}));
    s.cycle_id();
    assert_eq!(finish(&s), finish(&s));
    let s = spill().fresh();
    s.insert("blob", &"x".repeat(5000)).expect("str");
    let first = finish(&s);
    assert_eq!(first, finish(&s));
    assert!(first.save.is_some());
}

#[test]
fn cookie_mode_reports_a_session_too_large_for_the_cookie_instead_of_saving_it() {
    let h = Harness::new(SessionConfig::default());
    let s = h.session(None);
    s.insert("blob", &"x".repeat(5000)).expect("str");
    let plan = finish(&s);
    assert_eq!((&plan.save, plan.delete), (&None, None), "{plan:?}");
    assert!(
        matches!(plan.cookie, CookieStep::TooLarge { bytes, limit: MAX_COOKIE_SIZE } if bytes > MAX_COOKIE_SIZE),
        "{plan:?}"
    );
}

/// Regression: `try_insert` refused a session larger than a cookie even when it lives in a
/// store, so spill-over never happened for handlers that guard the cookie limit.
#[test]
fn try_insert_accepts_a_session_too_large_for_a_cookie_when_a_store_holds_it() {
    for h in [store(), spill()] {
        let s = h.fresh();
        s.try_insert("blob", &"x".repeat(5000))
            .expect("a store has no 4096-byte limit");
        s.try_update("counter", |n: &mut i64| *n += 1)
            .expect("nor does an update");
        assert!(finish(&s).save.is_some());
    }
    let s = Harness::new(SessionConfig::default()).session(None);
    assert!(matches!(
        s.try_insert("blob", &"x".repeat(5000)),
        Err(SessionError::TooLarge { .. })
    ));
}

#[test]
fn the_store_ttl_is_the_idle_timeout_else_the_absolute_lifetime() {
    let ttl = |config| {
        Harness::new(config)
            .storing(StorageMode::Store)
            .engine
            .store_ttl()
    };
    assert_eq!(ttl(config(Some(1200), Some(0), None)), TTL);
    assert_eq!(
        ttl(config(Some(60), Some(0), Some(3600))),
        Some(Duration::from_secs(60))
    );
    assert_eq!(
        ttl(config(None, Some(0), Some(3600))),
        Some(Duration::from_secs(3600))
    );
    assert_eq!(ttl(config(None, None, None)), None);
}

#[test]
fn a_session_loaded_from_a_store_keeps_the_time_it_was_loaded_at() {
    let h = store();
    let id = SessionId::generate();
    h.at(10.0);
    let s = h.loaded(found(record(T, TF, json!({"counter": 1})), 0), Some(id));
    h.at(70.0); // a slow handler
    s.update("counter", |n: &mut i64| *n += 1).expect("int");
    let saved = parsed(&save_of(&finish(&s)).payload);
    assert_eq!(saved.accessed, Timestamp::Int(T + 10));

    // A fresh one: `created` and `accessed` from that same reading.
    h.at(100.5);
    let s = h.loaded(Incoming::Missing(CookieStatus::Absent), None);
    h.at(300.0);
    s.insert("x", &1).expect("int");
    let saved = parsed(&save_of(&finish(&s)).payload);
    assert_eq!(saved.created, Some(Timestamp::Float(TF + 100.5)));
    assert_eq!(saved.accessed, Timestamp::Int(T + 100));
}

#[test]
fn the_preview_is_the_plans_cookie_step_and_changes_nothing() {
    let h = store();
    let s = h.fresh();
    assert_eq!(
        lifecycle::preview(&s),
        None,
        "an untouched session previews nothing"
    );
    assert!(!touched(&s), "and previewing does not touch it");
    s.insert("counter", &1).expect("int");
    let (reason, cookie, _expiry) = lifecycle::preview(&s).expect("touched");
    let plan = finish(&s);
    assert_eq!(
        (reason, cookie),
        (plan.reason, plan.cookie),
        "the same step, with the same fresh id"
    );
}
