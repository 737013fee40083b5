//! Sessions tied to a user ("log out everywhere"): the user id in the state, a new id at login,
//! saves through the user index, and spill mode keeping such a session in the store.

use super::plan::{save_of, spill, store};
use super::*;
use crate::session::{MAX_USER_LEN, SessionError, USER_KEY};

#[test]
fn set_user_records_the_user_and_gives_a_stored_session_a_new_id() {
    let h = store();
    let old = SessionId::generate();
    let s = h.stored(old, json!({"cart": [1]}));
    assert_eq!(s.user(), None);
    s.set_user("ada@example.com").expect("a valid user id");
    assert_eq!(s.user().as_deref(), Some("ada@example.com"));
    let plan = finish(&s);
    let save = save_of(&plan);
    assert_ne!(save.id, old, "a login cycles the id");
    assert_eq!(plan.delete, Some(old), "the pre-login id stops working");
    assert_eq!(save.user.as_deref(), Some("ada@example.com"));
    assert!(!save.update_only, "a new id is created, not updated");
    let saved = Record::from_json(&save.payload).expect("a record");
    assert_eq!(saved.state[USER_KEY], json!("ada@example.com"));
    assert_eq!(
        saved.state["cart"],
        json!([1]),
        "the data survives the login"
    );

    // The next request, loaded under the new id: an update of a live session only.
    let back = h.at(5.0).stored(save.id, Value::Object(saved.state));
    back.insert("cart", &[1, 2]).expect("json");
    let plan = finish(&back);
    let again = save_of(&plan);
    assert_eq!((again.id, plan.delete), (save.id, None));
    assert_eq!(again.user.as_deref(), Some("ada@example.com"));
    assert!(again.update_only, "a revoked session must not come back");
}

#[test]
fn in_spill_mode_a_users_session_stays_in_the_store_however_small() {
    let h = spill();
    let s = h.fresh();
    s.insert("n", &1).expect("json");
    let plan = finish(&s);
    assert!(
        plan.save.is_none(),
        "an anonymous small session rides in the cookie"
    );
    let s = h.fresh();
    s.set_user("ada").expect("a valid user id");
    let plan = finish(&s);
    let save = save_of(&plan);
    assert_eq!(save.user.as_deref(), Some("ada"));
    match &plan.cookie {
        CookieStep::Set(cookie) => assert!(
            matches!(
                h.engine.format().decode(cookie).map(|d| d.content),
                Ok(CookieContent::Id(id)) if id == save.id
            ),
            "the cookie carries the id only"
        ),
        other => panic!("expected an id cookie, got {other:?}"),
    }
}

#[test]
fn a_cookie_session_keeps_the_user_in_the_cookie_but_nothing_to_save() {
    let h = Harness::new(SessionConfig::default());
    let s = h.session(None);
    s.set_user("ada").expect("a valid user id");
    let plan = finish(&s);
    assert!(plan.save.is_none());
    let CookieStep::Set(cookie) = &plan.cookie else {
        panic!("expected a cookie, got {plan:?}")
    };
    let back = h.session(Some(cookie));
    assert_eq!(back.user().as_deref(), Some("ada"));
}

#[test]
fn invalid_user_ids_are_refused_and_leave_the_session_unchanged() {
    let h = store();
    let s = h.fresh();
    let long = "u".repeat(MAX_USER_LEN + 1);
    for bad in ["", long.as_str(), "ada\nroot", "tab\there"] {
        assert!(
            matches!(s.set_user(bad), Err(SessionError::InvalidUser { .. })),
            "{bad:?} refused"
        );
    }
    assert!(
        s.set_user(&"u".repeat(MAX_USER_LEN)).is_ok(),
        "the longest id is fine"
    );
    let s = h.fresh();
    let _ = s.set_user("");
    assert_eq!(finish(&s), Plan::default(), "a refused id changes nothing");
    // A user id forged into the state some other way (not a string) is no user.
    let forged = h.stored(SessionId::generate(), json!({USER_KEY: 42}));
    assert_eq!(forged.user(), None);
}
