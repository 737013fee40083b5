//! Flash messages in Flask's shared `_flashes` list of `(category, message)` tuples (row 52 for
//! the Flask format): the queue is the category, `""` is Flask's `"message"`, and popping one
//! category keeps the others.

use super::*;
use crate::format::FlaskFormat;
use crate::format::flask::tagged::Markup;

const FLASK_SECRET: &str = "rahasia_dapur_123";

/// A session of a request without a cookie, on an engine with the Flask format.
fn flask_session(cookie: Option<&str>) -> Session {
    let engine = SessionEngine::new(
        FlaskFormat::new(&secrets(&[FLASK_SECRET])),
        SessionConfig::default(),
    )
    .expect("valid config")
    .with_clock(Arc::new(ManualClock::new(TF)));
    Lifecycle::begin(&Arc::new(engine), cookie.map(str::to_owned))
        .session()
        .clone()
}

#[test]
fn flash_appends_tuples_to_flasks_list_with_the_queue_as_category() {
    let s = flask_session(None);
    s.flash("Saved", "", true).expect("str");
    s.flash("Bad input", "error", true).expect("str");
    s.flash(&Markup("<b>x</b>".into()), "info", true)
        .expect("markup");
    assert_eq!(s.flash_key(""), "_flashes");
    assert_eq!(s.flash_key("error"), "_flashes");
    assert_eq!(
        s.get_value("_flashes"),
        Some(json!([
            {" t": ["message", "Saved"]},
            {" t": ["error", "Bad input"]},
            {" t": ["info", {" m": "<b>x</b>"}]},
        ]))
    );
    // What Flask's `flash()` calls wrote, in the vectors: the same JSON.
    let (value, reason) = expect_set(finish(&s));
    assert_eq!(reason, SetReason::Changed);
    let decoded = FlaskFormat::new(&secrets(&[FLASK_SECRET]))
        .decode(&value)
        .expect("its own cookie");
    assert_eq!(
        decoded.record().expect("state").state["_flashes"][1],
        json!({" t": ["error", "Bad input"]})
    );
}

#[test]
fn pop_flash_takes_out_only_its_category_and_keeps_the_others() {
    let s = flask_session(None);
    s.flash("one", "", true).expect("str");
    s.flash("bad", "error", true).expect("str");
    s.flash("two", "message", true).expect("str");
    assert_eq!(s.peek_flash::<String>("").expect("str"), ["one", "two"]);
    assert_eq!(s.pop_flash::<String>("").expect("str"), ["one", "two"]);
    assert_eq!(
        s.get_value("_flashes"),
        Some(json!([{" t": ["error", "bad"]}]))
    );
    assert_eq!(
        s.pop_flash::<String>("").expect("none left"),
        Vec::<String>::new()
    );
    assert_eq!(s.pop_flash::<String>("error").expect("str"), ["bad"]);
    assert_eq!(s.get_value("_flashes"), None, "the empty list is removed");
}

#[test]
fn peek_flash_leaves_the_list_and_a_pop_of_nothing_sends_no_cookie() {
    let writer = flask_session(None);
    writer.flash("kept", "warning", true).expect("str");
    let (cookie, _) = expect_set(finish(&writer));
    let s = flask_session(Some(&cookie));
    assert_eq!(s.peek_flash::<String>("warning").expect("str"), ["kept"]);
    assert_eq!(s.peek_flash::<String>("warning").expect("str"), ["kept"]);
    assert_eq!(
        s.pop_flash::<String>("error").expect("none"),
        Vec::<String>::new()
    );
    assert_eq!(finish(&s).cookie, CookieStep::Keep, "nothing changed");
}

#[test]
fn duplicates_and_the_bound_count_per_category() {
    let s = flask_session(None);
    s.flash("same", "", false).expect("str");
    s.flash("same", "", false).expect("str");
    s.flash("same", "error", false).expect("str");
    assert_eq!(s.peek_flash::<String>("").expect("str"), ["same"]);
    assert_eq!(s.peek_flash::<String>("error").expect("str"), ["same"]);
    for i in 0..MAX_FLASH_MESSAGES + 5 {
        s.flash(&format!("info {i}"), "info", true).expect("str");
    }
    let info = s.peek_flash::<String>("info").expect("str");
    assert_eq!(info.len(), MAX_FLASH_MESSAGES);
    assert_eq!(info[0], "info 5", "the oldest are dropped");
    assert_eq!(
        s.peek_flash::<String>("").expect("str"),
        ["same"],
        "other categories stay"
    );
    assert_eq!(s.peek_flash::<String>("error").expect("str"), ["same"]);
}

#[test]
fn entries_that_are_not_flask_tuples_belong_to_no_queue_and_are_kept() {
    let s = flask_session(None);
    s.insert(
        "_flashes",
        &json!(["stray", {" t": ["message"]}, {" t": ["message", 1]}]),
    )
    .expect("json");
    assert_eq!(s.peek_flash::<i64>("").expect("ints"), [1]);
    assert!(s.pop_flash::<String>("").is_err(), "1 is not a string");
    assert_eq!(s.pop_flash::<i64>("").expect("ints"), [1]);
    assert_eq!(
        s.get_value("_flashes"),
        Some(json!(["stray", {" t": ["message"]}]))
    );
    s.insert("_flashes", &json!({" t": ["error", "alone"]}))
        .expect("json");
    assert_eq!(s.pop_flash::<String>("error").expect("one"), ["alone"]);
    assert_eq!(s.get_value("_flashes"), None);
}
