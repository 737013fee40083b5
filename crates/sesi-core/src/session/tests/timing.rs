//! Timing rules (checklist rows 21-29): the idle boundary, reissue, untouched sessions, future
//! timestamps, the absolute lifetime, and one clock reading per request.

use super::*;

// ---------------------------------------------------------------------------------------------
// Row 21: idle boundary.

#[test]
fn session_is_valid_at_exactly_timeout_seconds_after_last_access() {
    let h = Harness::new(SessionConfig::default());
    let cookie = h.cookie(T, TF + 0.25, json!({"counter": 1}));
    h.at(1200.0);
    let s = h.session(Some(&cookie));
    assert_eq!(s.get::<i64>("counter").expect("an integer"), Some(1));
    assert!(
        matches!(s.status(), CookieStatus::Valid),
        "{:?}",
        s.status()
    );
    assert!(!s.is_new());
    assert_eq!(s.created(), Some(TF + 0.25), "created is preserved");
}

#[test]
fn session_expires_one_second_past_the_timeout() {
    let h = Harness::new(SessionConfig::default());
    let cookie = h.cookie(T, TF + 0.25, json!({"counter": 1}));
    h.at(1201.0);
    let s = h.session(Some(&cookie));
    assert_eq!(s.get::<i64>("counter").expect("absent is fine"), None);
    match s.status() {
        CookieStatus::Expired { idle } => assert_eq!(idle, Duration::from_secs(1201)),
        other => panic!("expected Expired, got {other:?}"),
    }
    assert!(s.is_new());
    assert!(s.status().is_rejected() && !s.status().is_valid());
}

// ---------------------------------------------------------------------------------------------
// Row 22: what an expired session becomes.

#[test]
fn expired_session_is_new_with_created_now_and_sends_no_cookie_unless_written() {
    let h = Harness::new(SessionConfig::default());
    let cookie = h.cookie(T, TF - 500.0, json!({"counter": 9}));
    h.at(1201.5);
    let read_only = h.session(Some(&cookie));
    assert!(read_only.is_empty());
    assert!(read_only.is_new());
    assert_eq!(
        read_only.created(),
        Some(TF + 1201.5),
        "created is now, not the old created"
    );
    assert_eq!(
        finish(&read_only),
        Plan::default(),
        "a read of an expired session sets nothing"
    );

    let written = h.session(Some(&cookie));
    written.insert("counter", &1).expect("serializable");
    let (value, reason) = expect_set(finish(&written));
    assert_eq!(reason, SetReason::Changed);
    let out = read_with(&[CURRENT], &value);
    assert_eq!(
        out.state,
        *json!({"counter": 1}).as_object().expect("object")
    );
    assert_eq!(out.created, Some(Timestamp::Float(TF + 1201.5)));
    assert_eq!(out.accessed, Timestamp::Int(T + 1201));
}

// ---------------------------------------------------------------------------------------------
// Rows 23-24: reissue.

#[test]
fn reissue_time_zero_reissues_a_read_in_a_later_second_keeping_created() {
    let h = Harness::new(config(Some(1200), Some(0), None));
    let cookie = h.cookie(T, TF - 100.5, json!({"counter": 4}));
    h.at(1.7);
    let s = h.session(Some(&cookie));
    assert_eq!(s.get::<i64>("counter").expect("int"), Some(4));
    let (value, reason) = expect_set(finish(&s));
    assert_eq!(reason, SetReason::Reissued);
    let out = read_with(&[CURRENT], &value);
    assert_eq!(
        out.accessed,
        Timestamp::Int(T + 1),
        "accessed is now, whole seconds"
    );
    assert_eq!(
        out.created,
        Some(Timestamp::Float(TF - 100.5)),
        "created unchanged"
    );
    assert_eq!(out.state["counter"], 4);
}

#[test]
fn reissue_time_zero_read_in_the_same_second_sends_no_cookie() {
    let h = Harness::new(config(Some(1200), Some(0), None));
    let cookie = h.cookie(T, TF - 100.5, json!({"counter": 4}));
    h.at(0.9);
    let s = h.session(Some(&cookie));
    assert_eq!(s.get::<i64>("counter").expect("int"), Some(4));
    assert_eq!(finish(&s), Plan::default());
}

#[test]
fn reissue_time_120_keeps_the_cookie_at_60_and_120_and_reissues_at_121() {
    let h = Harness::new(config(Some(1200), Some(120), None));
    let cookie = h.cookie(T, TF, json!({"counter": 1}));
    for (secs, reissued) in [(60.0, false), (120.0, false), (121.0, true), (1200.0, true)] {
        h.at(secs);
        let s = h.session(Some(&cookie));
        assert!(s.contains("counter"), "+{secs}: loaded");
        match finish(&s) {
            plan if plan == Plan::default() => assert!(!reissued, "+{secs}: expected a reissue"),
            Plan {
                reason: Some(reason),
                cookie: CookieStep::Set(value),
                ..
            } => {
                assert!(reissued, "+{secs}: unexpected Set-Cookie");
                assert_eq!(reason, SetReason::Reissued);
                assert_eq!(
                    read_with(&[CURRENT], &value).accessed,
                    Timestamp::Int(T + secs as i64)
                );
            }
            other => panic!("+{secs}: {other:?}"),
        }
    }
}

#[test]
fn reissue_time_none_never_reissues_a_read() {
    // As in Pyramid's `test_reissue_never`, paired with no timeout.
    let h = Harness::new(config(None, None, None));
    let cookie = h.cookie(T, TF, json!({"counter": 1}));
    for secs in [0.0, 1.0, 121.0, 1e6] {
        h.at(secs);
        let s = h.session(Some(&cookie));
        assert_eq!(s.get::<i64>("counter").expect("int"), Some(1), "+{secs}");
        assert_eq!(finish(&s), Plan::default(), "+{secs}");
    }
    // A write still sends the cookie.
    let s = h.session(Some(&cookie));
    s.insert("counter", &2).expect("int");
    assert_eq!(expect_set(finish(&s)).1, SetReason::Changed);
}

#[test]
fn reissue_time_none_with_a_timeout_expires_timeout_seconds_after_the_last_write() {
    let h = Harness::new(config(Some(1200), None, None));
    let cookie = h.cookie(T, TF, json!({"counter": 1}));
    h.at(1000.0);
    let s = h.session(Some(&cookie));
    assert!(s.contains("counter"));
    assert_eq!(
        finish(&s),
        Plan::default(),
        "the read does not extend the session"
    );
    h.at(1201.0);
    assert!(h.session(Some(&cookie)).is_empty(), "so it expires");
}

#[test]
fn reading_a_brand_new_session_sends_no_cookie() {
    let h = Harness::new(SessionConfig::default());
    h.at(0.5);
    let s = h.session(None);
    assert_eq!(s.get::<i64>("counter").expect("absent"), None);
    assert!(matches!(s.status(), CookieStatus::Absent));
    assert!(s.is_new() && touched(&s));
    assert_eq!(finish(&s), Plan::default());
}

// ---------------------------------------------------------------------------------------------
// Row 25: untouched sessions.

#[test]
fn future_created_is_rejected_so_the_lifetime_always_ends() {
    let h = Harness::new(config(Some(1200), Some(0), Some(3600)));
    // Signed, `accessed` now, but `created` far in the future: the lifetime would never run out.
    let cookie = h.cookie(T, 9e11, json!({"counter": 1}));
    h.at(10.0);
    let s = h.session(Some(&cookie));
    assert!(
        matches!(s.status(), CookieStatus::FutureTimestamp { .. }),
        "{:?}",
        s.status()
    );
    assert!(s.is_new());
}

#[test]
fn untouched_session_commits_keep_even_when_a_reissue_would_be_due() {
    let h = Harness::new(config(Some(1200), Some(0), None));
    let cookie = h.cookie(T, TF, json!({"counter": 1}));
    h.at(600.0);
    let s = h.session(Some(&cookie));
    assert!(!touched(&s));
    assert_eq!(finish(&s), Plan::default());
    // Looking at the status is not an access: nothing is re-issued, but the response now
    // depends on the cookie (the middleware marks it private).
    let s = h.session(Some(&cookie));
    assert!(!Lifecycle::of(&s).depends_on_cookie());
    assert!(s.status().is_valid());
    assert!(!touched(&s));
    assert!(Lifecycle::of(&s).depends_on_cookie());
    assert_eq!(finish(&s), Plan::default());
    // The same read does reissue: the Keep above is due to the session not being touched.
    let s = h.session(Some(&cookie));
    let _ = s.get_value("counter");
    assert_eq!(expect_set(finish(&s)).1, SetReason::Reissued);
}

#[test]
fn untouched_session_with_a_garbage_cookie_commits_keep() {
    let h = Harness::new(SessionConfig::default());
    let s = h.session(Some("garbage!"));
    assert_eq!(finish(&s), Plan::default());
    assert_eq!(finish(&h.session(None)), Plan::default());
}

// ---------------------------------------------------------------------------------------------
// Row 26: timestamps from the future.

#[test]
fn accessed_up_to_60_seconds_in_the_future_is_accepted() {
    let h = Harness::new(SessionConfig::default());
    for ahead in [30, 60] {
        let cookie = h.cookie(T + ahead, TF, json!({"counter": 1}));
        let s = h.session(Some(&cookie));
        assert_eq!(s.get::<i64>("counter").expect("int"), Some(1), "+{ahead}");
        assert!(matches!(s.status(), CookieStatus::Valid), "+{ahead}");
    }
}

#[test]
fn accessed_far_in_the_future_is_rejected_as_future_timestamp() {
    let h = Harness::new(config(None, Some(0), None));
    for ahead in [61i64, 1_000_000] {
        let cookie = h.cookie(T + ahead, TF, json!({"counter": 1}));
        let s = h.session(Some(&cookie));
        assert!(s.is_empty(), "+{ahead}: state dropped");
        assert!(s.is_new());
        match s.status() {
            CookieStatus::FutureTimestamp { ahead: by } => {
                assert_eq!(by, Duration::from_secs(ahead.unsigned_abs()));
            }
            other => panic!("+{ahead}: {other:?}"),
        }
    }
    // Not immortal: even with no idle timeout a far-future cookie is refused.
    h.at(-1_000_000.0);
    let cookie = h.cookie(T, TF, json!({"counter": 1}));
    assert!(h.session(Some(&cookie)).is_empty());
}

// ---------------------------------------------------------------------------------------------
// Row 27: absolute lifetime.

#[test]
fn max_lifetime_resets_a_constantly_active_session() {
    let h = Harness::new(config(Some(1200), Some(0), Some(3600)));
    let first = h.session(None);
    first.insert("user", "alice").expect("string");
    let (mut cookie, _) = expect_set(finish(&first));
    // A read every 10 minutes keeps it alive (each read re-issues the cookie)...
    for step in 1..=6 {
        h.at(f64::from(step) * 600.0);
        let s = h.session(Some(&cookie));
        assert_eq!(
            s.get::<String>("user").expect("string").as_deref(),
            Some("alice"),
            "step {step}"
        );
        assert_eq!(s.created(), Some(TF), "created never moves");
        let (value, reason) = expect_set(finish(&s));
        assert_eq!(reason, SetReason::Reissued);
        cookie = value;
    }
    // ...until the session is more than max_lifetime old, however fresh `accessed` is.
    h.at(4200.0);
    let s = h.session(Some(&cookie));
    assert!(s.is_empty() && s.is_new());
    match s.status() {
        CookieStatus::LifetimeExceeded { age } => assert_eq!(age, Duration::from_secs(4200)),
        other => panic!("expected LifetimeExceeded, got {other:?}"),
    }
    assert_eq!(s.created(), Some(TF + 4200.0));
}

#[test]
fn max_lifetime_none_lets_an_active_session_live_on() {
    let h = Harness::new(config(Some(1200), Some(0), None));
    let cookie = h.cookie(T + 86_400 * 30, TF, json!({"user": "alice"}));
    h.at(86_400.0 * 30.0 + 600.0);
    assert!(h.session(Some(&cookie)).contains("user"));
}

// ---------------------------------------------------------------------------------------------
// Row 28: Max-Age is only a hint to the browser.

#[test]
fn server_decides_expiry_by_accessed_not_by_the_browser_max_age() {
    // The cookie was sent with `Max-Age=60`; a client that kept it anyway replays it. The engine
    // knows nothing of Max-Age: the idle timeout decides.
    let h = Harness::new(SessionConfig::default());
    let cookie = h.cookie(T, TF, json!({"counter": 1}));
    h.at(600.0);
    assert!(
        h.session(Some(&cookie)).contains("counter"),
        "accepted at +600"
    );
    h.at(1201.0);
    assert!(
        !h.session(Some(&cookie)).contains("counter"),
        "rejected at +1201"
    );
}

// ---------------------------------------------------------------------------------------------
// Row 29: configuration.

#[test]
fn zero_timeout_or_zero_lifetime_is_refused_at_startup() {
    let codec = || format_for(&[CURRENT]);
    let err = SessionEngine::new(codec(), config(Some(0), Some(0), None)).expect_err("0 timeout");
    assert_eq!(err, SessionConfigError::ZeroTimeout);
    let err = SessionEngine::new(codec(), config(None, None, Some(0))).expect_err("0 lifetime");
    assert_eq!(err, SessionConfigError::ZeroLifetime);
    assert!(SessionEngine::new(codec(), config(Some(1), Some(0), Some(1))).is_ok());
    let defaults = SessionConfig::default();
    assert_eq!(defaults, config(Some(1200), Some(0), None));
    assert_eq!(DEFAULT_TIMEOUT, Duration::from_secs(1200));
}

#[test]
fn nonsensical_timing_combinations_produce_warnings() {
    assert!(SessionConfig::default().warnings().is_empty());
    assert!(config(None, None, None).warnings().is_empty());
    let warnings = config(Some(1200), Some(1200), None).warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("reissue_time (1200 s)") && warnings[0].contains("timeout (1200 s)")
    );
    assert_eq!(config(Some(100), Some(5000), None).warnings().len(), 1);
    assert!(config(Some(1200), Some(1199), None).warnings().is_empty());
    let warnings = config(Some(1200), None, None).warnings();
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].contains("reissue_time is None"));
}

// ---------------------------------------------------------------------------------------------
// One clock reading per request (Pyramid reads `time.time()` once per session object).

#[test]
fn the_clock_is_read_at_first_use_and_that_time_serves_the_whole_request() {
    let h = Harness::new(SessionConfig::default());
    let cookie = h.cookie(T, TF, json!({"counter": 1}));
    let s = h.session(Some(&cookie));
    h.at(30.0); // the handler starts using the session later than the middleware created it
    s.update("counter", |n: &mut i64| *n += 1).expect("integer");
    h.at(90.0); // ... and writes again after a slow call: same request, same time
    s.insert("seen", &true).expect("serializable");
    let (value, _) = expect_set(finish(&s));
    let record = read_with(&[CURRENT], &value);
    assert_eq!(record.accessed, Timestamp::Int(T + 30));
    assert_eq!(record.state["counter"], json!(2));

    // A fresh session's `created` and `accessed` come from that same reading.
    let s = h.session(None);
    h.at(200.25);
    s.insert("x", &1).expect("serializable");
    h.at(500.0);
    let (value, _) = expect_set(finish(&s));
    let record = read_with(&[CURRENT], &value);
    assert_eq!(record.created, Some(Timestamp::Float(TF + 200.25)));
    assert_eq!(record.accessed, Timestamp::Int(T + 200));
}
