//! Cookies the engine refuses, and key rotation (rows 33-36).

use super::*;

// ---------------------------------------------------------------------------------------------
// Rejected cookies give fresh sessions, with the reason.

#[test]
fn tampered_cookie_gives_a_fresh_session_with_status_bad_signature() {
    let h = Harness::new(SessionConfig::default());
    let mut cookie = h.cookie(T, TF, json!({"admin": true}));
    let last = cookie.pop().expect("non-empty");
    cookie.push(if last == 'A' { 'Q' } else { 'A' });
    let mut flipped = cookie.clone().into_bytes();
    flipped[10] = if flipped[10] == b'a' { b'b' } else { b'a' };
    let flipped = String::from_utf8(flipped).expect("ascii");
    let s = h.session(Some(&flipped));
    assert!(s.is_empty());
    assert!(s.is_new());
    assert!(
        matches!(s.status(), CookieStatus::BadSignature),
        "{:?}",
        s.status()
    );
    assert_eq!(s.status().name(), "bad-signature");
    assert_eq!(finish(&s), Plan::default());
}

#[test]
fn malformed_cookie_gives_a_fresh_session_naming_the_decode_error() {
    let h = Harness::new(SessionConfig::default());
    for (cookie, kind) in [
        ("not+base64/", "bad_base64"),
        ("AAAA", "too_short"),
        (&*"A".repeat(5000), "oversized"),
    ] {
        let s = h.session(Some(cookie));
        assert!(s.is_empty() && s.is_new());
        match s.status() {
            CookieStatus::Malformed(err) => assert_eq!(err.kind(), kind, "{cookie:.20}"),
            other => panic!("{cookie:.20}: expected Malformed, got {other:?}"),
        }
    }
    // `judge` gives the same verdict without building a session.
    let (status, record) = h.engine.judge(Some("AAAA"));
    assert!(record.is_none());
    assert!(
        matches!(&status, CookieStatus::Malformed(e) if matches!(**e, DecodeError::TooShort { len: 3, .. })),
        "{status:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Rows 33-36: key rotation.

#[test]
fn cookie_signed_by_a_fallback_loads_and_is_resigned_with_the_current_secret() {
    let old = Harness::with_secrets(SessionConfig::default(), &[OLD]);
    let cookie = old.cookie(T, TF - 10.5, json!({"counter": 3}));
    let h = Harness::with_secrets(SessionConfig::default(), &[CURRENT, OLD]);
    let s = h.session(Some(&cookie));
    assert_eq!(s.get::<i64>("counter").expect("int"), Some(3));
    assert!(!s.is_new());
    assert!(
        matches!(s.status(), CookieStatus::ValidOldKey { key_index: 1 }),
        "{:?}",
        s.status()
    );
    assert!(s.status().is_valid());
    let (value, reason) = expect_set(finish(&s));
    assert_eq!(reason, SetReason::Rotated);
    // A verifier holding ONLY the current secret accepts the new cookie; one with only the old
    // secret does not.
    let out = read_with(&[CURRENT], &value);
    assert_eq!(out.state["counter"], 3);
    assert_eq!(out.created, Some(Timestamp::Float(TF - 10.5)));
    assert!(matches!(
        format_for(&[OLD]).decode(&value),
        Err(DecodeError::BadSignature)
    ));
}

#[test]
fn three_generations_of_secrets_never_sign_with_a_fallback() {
    let (a, b, c) = (
        "generation A secret, 2024, long enough",
        "generation B secret, 2025, long enough",
        "generation C secret, 2026, long enough",
    );
    let cfg = SessionConfig::default();
    // Generation A issues a cookie.
    let gen_a = Harness::with_secrets(cfg, &[a]);
    let s = gen_a.session(None);
    s.insert("user", "alice").expect("string");
    let (cookie_a, _) = expect_set(finish(&s));
    read_with(&[a], &cookie_a);

    // Generation B (current B, fallback A) reads it and re-issues it under B.
    let gen_b = Harness::with_secrets(cfg, &[b, a]);
    let s = gen_b.session(Some(&cookie_a));
    assert_eq!(
        s.get::<String>("user").expect("str").as_deref(),
        Some("alice")
    );
    assert!(matches!(
        s.status(),
        CookieStatus::ValidOldKey { key_index: 1 }
    ));
    let (cookie_b, reason) = expect_set(finish(&s));
    assert_eq!(reason, SetReason::Rotated);
    read_with(&[b], &cookie_b);
    assert!(
        format_for(&[a]).decode(&cookie_b).is_err(),
        "not signed with the fallback"
    );
    // A brand-new session under B is signed with B, whatever the order of the fallbacks.
    let s = gen_b.session(None);
    s.insert("n", &1).expect("int");
    let (fresh_b, _) = expect_set(finish(&s));
    read_with(&[b], &fresh_b);
    assert!(format_for(&[a]).decode(&fresh_b).is_err());

    // Generation C (current C, fallback B): B's cookie rotates to C, A's cookie is dead.
    let gen_c = Harness::with_secrets(cfg, &[c, b]);
    let s = gen_c.session(Some(&cookie_b));
    assert_eq!(
        s.get::<String>("user").expect("str").as_deref(),
        Some("alice")
    );
    let (cookie_c, reason) = expect_set(finish(&s));
    assert_eq!(reason, SetReason::Rotated);
    read_with(&[c], &cookie_c);
    for other in [a, b] {
        assert!(format_for(&[other]).decode(&cookie_c).is_err());
    }
    let s = gen_c.session(Some(&cookie_a));
    assert!(s.is_empty() && s.is_new());
    assert!(matches!(s.status(), CookieStatus::BadSignature));
}

#[test]
fn cookie_signed_with_a_removed_secret_is_bad_signature() {
    let old = Harness::with_secrets(SessionConfig::default(), &[OLD]);
    let cookie = old.cookie(T, TF, json!({"user": "alice"}));
    let h = Harness::with_secrets(SessionConfig::default(), &[CURRENT]);
    let s = h.session(Some(&cookie));
    assert!(s.get_value("user").is_none());
    assert!(matches!(s.status(), CookieStatus::BadSignature));
    assert_eq!(finish(&s), Plan::default());
}

#[test]
fn every_allowed_fallback_verifies_and_a_fourth_is_refused() {
    let list = [
        CURRENT,
        "fallback one, long enough",
        "fallback two, long enough",
        OLD,
    ];
    let h = Harness::with_secrets(SessionConfig::default(), &list);
    assert_eq!(format_for(&list).key_count(), 4);
    let by_last = Harness::with_secrets(SessionConfig::default(), &[OLD]).cookie(T, TF, json!({}));
    let s = h.session(Some(&by_last));
    assert!(
        matches!(s.status(), CookieStatus::ValidOldKey { key_index: 3 }),
        "{:?}",
        s.status()
    );
    let five = Secrets::from_list(
        [CURRENT, "f1", "f2", "f3", "f4"].map(|n| Secret::new_insecure(n).expect("non-empty")),
    );
    assert!(matches!(
        five,
        Err(SecretError::TooManyFallbacks { count: 4, max: 3 })
    ));
}
