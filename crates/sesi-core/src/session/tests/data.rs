//! The handler's data API: invalidation (rows 45, 46), typed access and nested changes (row 50),
//! odd values from a signed cookie (row 61), and the names used in logs.

use super::*;

// ---------------------------------------------------------------------------------------------
// Rows 45-46: invalidation.

#[test]
fn invalidate_then_write_sends_only_the_new_data_in_a_new_session() {
    let h = Harness::new(SessionConfig::default());
    let cookie = h.cookie(
        T,
        TF - 1000.5,
        json!({"user": "mallory", "cart": [1, 2], CSRF_KEY: "a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1"}),
    );
    h.at(5.0);
    let s = h.session(Some(&cookie));
    assert_eq!(
        s.get::<String>("user").expect("str").as_deref(),
        Some("mallory")
    );
    s.invalidate();
    assert!(s.is_new() && s.is_empty());
    s.insert("user", "alice").expect("string");
    let (value, reason) = expect_set(finish(&s));
    assert_eq!(reason, SetReason::Changed);
    let out = read_with(&[CURRENT], &value);
    assert_eq!(Value::Object(out.state), json!({"user": "alice"}));
    assert_eq!(
        out.created,
        Some(Timestamp::Float(TF + 5.0)),
        "a brand-new session"
    );
}

#[test]
fn invalidate_alone_deletes_the_cookie() {
    let h = Harness::new(SessionConfig::default());
    let cookie = h.cookie(T, TF, json!({"user": "alice"}));
    h.at(3.0);
    // Even after a write and a read in a later second, the invalidation wins.
    let s = h.session(Some(&cookie));
    s.insert("seen", &true).expect("bool");
    s.invalidate();
    assert!(s.get_value("user").is_none());
    assert_eq!(finish(&s), delete_cookie());
    // With nothing else done.
    let s = h.session(Some(&cookie));
    s.invalidate();
    assert_eq!(finish(&s), delete_cookie());
}

// ---------------------------------------------------------------------------------------------
// Row 50 and typed access.

#[test]
fn nested_update_marks_the_session_changed() {
    // No reissue, so only the write can produce a Set-Cookie.
    let h = Harness::new(config(Some(1200), None, None));
    let cookie = h.cookie(T, TF, json!({"cart": {"apple": 1}}));
    h.at(10.0);
    let s = h.session(Some(&cookie));
    let qty = s
        .update("cart", |cart: &mut BTreeMap<String, i64>| {
            let qty = cart.entry("apple".into()).or_default();
            *qty += 1;
            *qty
        })
        .expect("a map of ints");
    assert_eq!(qty, 2);
    let (value, reason) = expect_set(finish(&s));
    assert_eq!(reason, SetReason::Changed);
    assert_eq!(
        read_with(&[CURRENT], &value).state["cart"],
        json!({"apple": 2})
    );
    // The same session only read sends nothing.
    let s = h.session(Some(&cookie));
    assert_eq!(
        s.get::<BTreeMap<String, i64>>("cart")
            .expect("map")
            .map(|c| c["apple"]),
        Some(1)
    );
    assert_eq!(finish(&s), Plan::default());
}

#[test]
fn typed_get_of_the_wrong_type_is_a_deserialize_error_and_leaves_the_value() {
    let h = Harness::new(config(Some(1200), None, None));
    let cookie = h.cookie(T, TF, json!({"name": "kopi", "price": 1.5}));
    let s = h.session(Some(&cookie));
    match s.get::<i64>("name") {
        Err(SessionError::Deserialize { key, .. }) => assert_eq!(key, "name"),
        other => panic!("expected Deserialize, got {other:?}"),
    }
    assert!(matches!(
        s.get::<i64>("price"),
        Err(SessionError::Deserialize { .. })
    ));
    let err = s
        .update("name", |n: &mut i64| *n += 1)
        .expect_err("a string is not an i64");
    assert!(matches!(err, SessionError::Deserialize { .. }));
    assert_eq!(
        err.to_string(),
        r#"session value "name" does not have the requested type"#
    );
    assert_eq!(s.get_value("name"), Some(json!("kopi")), "value untouched");
    assert_eq!(s.get::<f64>("price").expect("f64"), Some(1.5));
    assert_eq!(finish(&s), Plan::default(), "nothing was written");
}

#[test]
fn values_that_cannot_be_json_are_refused_without_changing_the_session() {
    let h = Harness::new(config(Some(1200), None, None));
    let s = h.session(None);
    let mut bad = BTreeMap::new();
    bad.insert(vec![1u8], 1); // non-string keys cannot be a JSON object
    let err = s.insert("bad", &bad).expect_err("not JSON");
    assert!(matches!(err, SessionError::Serialize { ref key, .. } if key == "bad"));
    assert!(!s.contains("bad"));
    assert_eq!(finish(&s), Plan::default());
}

#[test]
fn remove_marks_changed_only_when_the_key_existed() {
    let h = Harness::new(config(Some(1200), None, None));
    let cookie = h.cookie(T, TF, json!({"a": 1, "b": 2}));
    let s = h.session(Some(&cookie));
    assert_eq!(s.remove("missing"), None);
    assert_eq!(finish(&s), Plan::default());
    let s = h.session(Some(&cookie));
    assert_eq!(s.remove("a"), Some(json!(1)));
    let (value, _) = expect_set(finish(&s));
    assert_eq!(
        Value::Object(read_with(&[CURRENT], &value).state),
        json!({"b": 2})
    );
}

#[test]
fn clear_and_changed_send_the_cookie() {
    let h = Harness::new(config(Some(1200), None, None));
    let cookie = h.cookie(T, TF, json!({"a": 1}));
    let s = h.session(Some(&cookie));
    s.clear();
    let (value, _) = expect_set(finish(&s));
    assert!(read_with(&[CURRENT], &value).state.is_empty());
    let s = h.session(Some(&cookie));
    s.changed();
    let (value, reason) = expect_set(finish(&s));
    assert_eq!(reason, SetReason::Changed);
    assert_eq!(read_with(&[CURRENT], &value).state["a"], 1);
}

#[test]
fn clones_of_a_session_share_one_state() {
    let h = Harness::new(SessionConfig::default());
    let s = h.session(None);
    let handle = s.clone();
    handle.insert("k", "v").expect("str");
    assert_eq!(s.get::<String>("k").expect("str").as_deref(), Some("v"));
    assert_eq!(s.keys(), ["k"]);
    assert_eq!(s.len(), 1);
    assert!(matches!(finish(&s).cookie, CookieStep::Set(_)));
}

// ---------------------------------------------------------------------------------------------
// Row 61: odd counters from a (validly signed) cookie never panic.

#[test]
fn odd_counter_values_never_panic() {
    let h = Harness::new(SessionConfig::default());
    let bump = |n: &mut i64| {
        *n = n.saturating_add(1);
        *n
    };
    let cases = [
        (json!(i64::MAX), Some(i64::MAX)),
        (json!(i64::MIN), Some(i64::MIN + 1)),
        (json!(-3), Some(-2)),
        (json!(1.5), None),
        (json!(1e300), None),
        (json!("7"), None),
        (json!(u64::MAX), None),
        (json!(true), None),
        (json!([1]), None),
        (json!({"n": 1}), None),
        (json!(null), None),
    ];
    for (stored, bumped) in cases {
        let cookie = h.cookie(T, TF, json!({"counter": stored}));
        let s = h.session(Some(&cookie));
        let got = s.get::<i64>("counter");
        assert_eq!(got.is_ok(), bumped.is_some(), "{stored}: {got:?}");
        let result = s.update("counter", bump);
        match bumped {
            Some(want) => assert_eq!(result.expect("an i64"), want, "{stored}"),
            None => {
                assert!(
                    matches!(result, Err(SessionError::Deserialize { .. })),
                    "{stored}"
                );
                assert_eq!(
                    s.get_value("counter"),
                    Some(stored.clone()),
                    "left as it was"
                );
            }
        }
        // Reading it as JSON or as an Option never fails.
        assert!(s.get::<Value>("counter").expect("any json").is_some());
        let _ = finish(&s);
    }
}

// ---------------------------------------------------------------------------------------------
// Names used in logs.

#[test]
fn status_and_reason_names_are_stable() {
    let statuses = [
        (CookieStatus::Absent, "absent", false),
        (CookieStatus::Valid, "valid", false),
        (CookieStatus::ValidOldKey { key_index: 1 }, "old-key", false),
        (CookieStatus::BadSignature, "bad-signature", true),
        (
            CookieStatus::Expired {
                idle: Duration::from_secs(1201),
            },
            "expired",
            true,
        ),
        (
            CookieStatus::FutureTimestamp {
                ahead: Duration::from_secs(61),
            },
            "future-timestamp",
            true,
        ),
        (
            CookieStatus::LifetimeExceeded {
                age: Duration::from_secs(9),
            },
            "lifetime-exceeded",
            true,
        ),
        (CookieStatus::UnknownSession, "unknown-session", true),
        (CookieStatus::StoreUnavailable, "store-unavailable", true),
        (
            CookieStatus::WholeSessionRefused,
            "whole-session-refused",
            true,
        ),
    ];
    for (status, name, rejected) in statuses {
        assert_eq!(status.name(), name);
        assert_eq!(status.is_rejected(), rejected, "{name}");
    }
    assert_eq!(
        CookieStatus::Expired {
            idle: Duration::from_secs(1201)
        }
        .to_string(),
        "expired: idle for 1201 s"
    );
    let reasons = [
        (SetReason::Changed, "changed"),
        (SetReason::Reissued, "reissued"),
        (SetReason::Rotated, "rotated"),
    ];
    for (reason, name) in reasons {
        assert_eq!(reason.name(), name);
    }
}
