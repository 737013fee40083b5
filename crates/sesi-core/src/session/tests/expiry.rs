//! A session's own expiry: "remember me" and browser-session cookies, in the cookie and in the
//! store.

use serde_json::Map;

use super::plan::{found, save_of, store};
use super::*;
use crate::record::Record;
use crate::session::{Expiry, MAX_EXPIRY};

const MONTH: Duration = Duration::from_secs(30 * 24 * 3600);
const EXPIRY_KEY: &str = ReservedKeys::PYRAMID.expiry;

fn cookie_value(plan: &Plan) -> String {
    match &plan.cookie {
        CookieStep::Set(value) => value.clone(),
        other => panic!("expected a cookie, got {other:?}"),
    }
}

#[test]
fn remember_me_rides_in_the_signed_state_and_replaces_the_idle_timeout() {
    let h = Harness::new(config(Some(1200), Some(0), None));
    let s = h.session(None);
    s.insert("user", "ada").expect("json");
    s.set_expiry(Expiry::MaxAge(MONTH))
        .expect("a valid max age");
    assert_eq!(s.expiry(), Expiry::MaxAge(MONTH));
    let plan = finish(&s);
    assert_eq!(plan.expiry, Expiry::MaxAge(MONTH));
    let cookie = cookie_value(&plan);
    let sent = h.engine.format().decode(&cookie).expect("verifies");
    let CookieContent::State(record) = sent.content else {
        panic!("a whole-session cookie")
    };
    assert_eq!(
        record.state[EXPIRY_KEY],
        json!(2_592_000),
        "Pyramid keeps the key as it is"
    );

    // Ten days idle: far past the layer's 20 minutes, within the month.
    let back = h.at(10.0 * 86400.0).session(Some(&cookie));
    assert_eq!(back.get::<String>("user").expect("str"), Some("ada".into()));
    assert!(
        matches!(back.status(), CookieStatus::Valid),
        "{:?}",
        back.status()
    );
    assert_eq!(back.expiry(), Expiry::MaxAge(MONTH));
    // A month and a day idle: gone.
    let late = h.at(31.0 * 86400.0).session(Some(&cookie));
    assert!(
        matches!(late.status(), CookieStatus::Expired { .. }),
        "{:?}",
        late.status()
    );
    assert_eq!(late.get::<String>("user").expect("str"), None);
}

#[test]
fn a_browser_session_keeps_the_layers_timeout_and_default_removes_the_key() {
    let h = Harness::new(config(Some(1200), Some(0), None));
    let s = h.session(None);
    s.set_expiry(Expiry::BrowserSession).expect("valid");
    assert_eq!(s.get_value(EXPIRY_KEY), Some(json!(0)));
    let cookie = cookie_value(&finish(&s));
    let late = h.at(1300.0).session(Some(&cookie));
    assert!(
        matches!(late.status(), CookieStatus::Expired { .. }),
        "the layer's 1200 s apply"
    );

    let again = h.at(0.0).session(Some(&cookie));
    assert_eq!(again.expiry(), Expiry::BrowserSession);
    again.set_expiry(Expiry::Default).expect("valid");
    assert!(!again.contains(EXPIRY_KEY));
    assert_eq!(finish(&again).expiry, Expiry::Default);
}

#[test]
fn impossible_max_ages_are_refused_and_leave_the_session_unchanged() {
    let h = Harness::new(SessionConfig::default());
    let s = h.session(None);
    for bad in [
        Duration::ZERO,
        Duration::from_millis(1500),
        MAX_EXPIRY + Duration::from_secs(1),
    ] {
        let err = s.set_expiry(Expiry::MaxAge(bad)).expect_err("refused");
        assert!(
            matches!(err, SessionError::InvalidExpiry { .. }),
            "{bad:?}: {err}"
        );
    }
    assert!(!touched(&s), "nothing was written");
    s.set_expiry(Expiry::MaxAge(MAX_EXPIRY))
        .expect("400 days is the cap");
}

#[test]
fn a_forged_or_foreign_expiry_value_counts_as_the_default() {
    for value in [
        json!("forever"),
        json!(-5),
        json!(1.5),
        json!(10_u64.pow(12)),
    ] {
        let mut state = Map::new();
        state.insert(EXPIRY_KEY.to_owned(), value.clone());
        assert_eq!(
            Expiry::from_state(&state, EXPIRY_KEY),
            Expiry::Default,
            "{value}"
        );
    }
}

#[test]
fn in_a_store_the_ttl_follows_and_the_id_cookie_is_sent_on_every_save() {
    let h = store();
    let id = SessionId::generate();
    let s = h.stored(id, json!({"user": "ada"}));
    s.set_expiry(Expiry::MaxAge(MONTH)).expect("valid");
    let plan = finish(&s);
    assert_eq!(
        save_of(&plan).ttl,
        Some(MONTH),
        "the store's TTL is the max age"
    );
    assert!(
        matches!(plan.cookie, CookieStep::Set(_)),
        "the id cookie carries the Max-Age"
    );
    assert_eq!(plan.expiry, Expiry::MaxAge(MONTH));

    // A later save of a remembered session re-sends the cookie, so its Max-Age slides.
    let payload = save_of(&plan).payload.clone();
    let record = Record::from_json(&payload).expect("json");
    let next = h.loaded(found(record, 0), Some(id));
    next.insert("cart", &1).expect("json");
    let plan = finish(&next);
    assert!(
        matches!(plan.cookie, CookieStep::Set(_)),
        "{:?}",
        plan.cookie
    );
    assert_eq!(save_of(&plan).ttl, Some(MONTH));

    // A session without its own expiry keeps its cookie as before.
    let plain = h.stored(SessionId::generate(), json!({"user": "bob"}));
    plain.insert("cart", &1).expect("json");
    assert_eq!(finish(&plain).cookie, CookieStep::Keep);
}
