//! The 4096-byte cookie limit (row 39): the `try_` writes and the plan's size check.

use super::*;

// ---------------------------------------------------------------------------------------------
// Row 39: size limits.

#[test]
fn try_flash_refuses_a_message_that_would_not_fit_and_keeps_the_queue() {
    let h = Harness::new(config(Some(1200), None, None));
    let s = h.session(None);
    s.insert("pad", &"x".repeat(2800)).expect("str");
    s.try_flash("first", "", true).expect("fits");
    let big = "m".repeat(400);
    match s.try_flash(&big, "", true) {
        Err(SessionError::TooLarge { bytes, limit }) => {
            assert!(bytes > limit, "{bytes} > {limit}");
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    assert_eq!(s.peek_flash::<String>("").expect("strings"), ["first"]);
    assert!(s.fits());
    // Duplicates are skipped as with `flash`.
    s.try_flash("first", "", false).expect("fits");
    assert_eq!(s.peek_flash::<String>("").expect("strings"), ["first"]);
}

#[test]
fn try_insert_refuses_an_oversize_value_and_leaves_the_session_unchanged() {
    let h = Harness::new(config(Some(1200), None, None));
    let s = h.session(None);
    s.insert("small", "x").expect("str");
    s.insert("keep", "short").expect("str");
    let before = s.state();
    let big = "x".repeat(3000);
    // Expected size, computed by hand: a fresh session at T is `[T, T.0, {...}]`.
    let payload = format!(r#"[{T}, {T}.0, {{"small": "x", "keep": "short", "big": "{big}"}}]"#);
    let want = b64_len(64 + payload.len());
    assert!(want > MAX_COOKIE_SIZE);
    match s.try_insert("big", &big) {
        Err(SessionError::TooLarge { bytes, limit }) => {
            assert_eq!((bytes, limit), (want, MAX_COOKIE_SIZE));
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    assert_eq!(s.state(), before);
    // Replacing an existing key: refused, old value and key order kept.
    let err = s.try_insert("keep", &big).expect_err("too large");
    assert!(err.to_string().contains("limit is 4096"), "{err}");
    assert_eq!(s.get_value("keep"), Some(json!("short")));
    assert_eq!(s.keys(), ["small", "keep"]);
    assert!(s.fits());
    // A value that fits goes in.
    s.try_insert("ok", &"y".repeat(100)).expect("fits");
    assert!(s.contains("ok"));
}

#[test]
fn refused_try_insert_on_a_read_only_session_sends_no_cookie() {
    let h = Harness::new(config(Some(1200), None, None));
    let cookie = h.cookie(T, TF, json!({"a": 1}));
    let s = h.session(Some(&cookie));
    assert!(s.try_insert("big", &"x".repeat(5000)).is_err());
    assert_eq!(
        finish(&s),
        Plan::default(),
        "the refused write does not count as a write"
    );
}

#[test]
fn try_update_refuses_an_oversize_change_and_leaves_the_value() {
    let h = Harness::new(config(Some(1200), None, None));
    let cookie = h.cookie(T, TF, json!({"list": ["a"]}));
    let s = h.session(Some(&cookie));
    let err = s
        .try_update("list", |list: &mut Vec<String>| list.push("x".repeat(4000)))
        .expect_err("too large");
    assert!(
        matches!(err, SessionError::TooLarge { limit: 4096, .. }),
        "{err:?}"
    );
    assert_eq!(s.get_value("list"), Some(json!(["a"])));
    assert_eq!(finish(&s), Plan::default());
    let s = h.session(Some(&cookie));
    let len = s
        .try_update("list", |list: &mut Vec<String>| {
            list.push("b".into());
            list.len()
        })
        .expect("fits");
    assert_eq!(len, 2);
    assert_eq!(expect_set(finish(&s)).1, SetReason::Changed);
}

#[test]
fn the_plan_is_too_large_exactly_one_step_past_4096_bytes() {
    // Overhead 32: `session=` plus the attributes. Payload = frame + padding.
    let h = Harness::new(SessionConfig::default()).with_overhead(32);
    let frame = format!(r#"[{T}, {T}.0, {{"pad": ""}}]"#).len();
    let size = |pad: usize| 32 + b64_len(64 + frame + pad);
    // The checklist's numbers: a 2984-byte payload is a 4064-character value, 4096 with overhead.
    let pad = 2984 - frame;
    assert_eq!(size(pad), MAX_COOKIE_SIZE);
    assert!(size(pad + 1) > MAX_COOKIE_SIZE);

    let at_limit = h.session(None);
    at_limit.insert("pad", &"x".repeat(pad)).expect("str");
    assert_eq!(at_limit.cookie_size(), 4096);
    assert!(at_limit.fits());
    let (value, _) = expect_set(finish(&at_limit));
    assert_eq!(value.len(), 4064);
    assert_eq!(
        read_with(&[CURRENT], &value).state["pad"]
            .as_str()
            .map(str::len),
        Some(pad)
    );

    let over = h.session(None);
    over.insert("pad", &"x".repeat(pad + 1)).expect("str");
    assert_eq!(over.cookie_size(), 4098);
    assert!(!over.fits());
    assert_eq!(
        finish(&over),
        Plan {
            reason: Some(SetReason::Changed),
            cookie: CookieStep::TooLarge {
                bytes: 4098,
                limit: MAX_COOKIE_SIZE
            },
            ..Plan::default()
        }
    );
}
