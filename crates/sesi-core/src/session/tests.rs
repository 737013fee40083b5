//! Session engine tests, with a [`ManualClock`] injected so no test sleeps. Rows refer to
//! `security-checklist.md`. Cookies fed in are made with the codec (tested on its own, against
//! hand-built cookies, in `codec/tests.rs`); cookies coming out are checked by decoding them with a
//! separate codec, so the engine's view of its own output is never trusted.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Value, json};

use super::csrf::CSRF_KEY;
use super::flash::flash_key;
use super::*;
use crate::clock::ManualClock;
use crate::codec::{Codec, DEFAULT_SALT, DecodeError, HashAlg};
use crate::secret::{Secret, SecretError, Secrets};

/// Vector A's time: 2025-11-24T16:00:00Z.
const T: i64 = 1_764_000_000;
const TF: f64 = T as f64;
const CURRENT: &str = "the current secret, at least thirty-two bytes long";
const OLD: &str = "the previous secret, kept as a fallback for now";

fn secrets(list: &[&str]) -> Secrets {
    Secrets::from_list(
        list.iter()
            .map(|s| Secret::new_insecure(*s).expect("non-empty secret")),
    )
    .expect("at most three fallbacks")
}

fn codec_for(list: &[&str]) -> Codec {
    Codec::new(&secrets(list), DEFAULT_SALT, HashAlg::Sha512)
}

fn record(accessed: i64, created: f64, state: Value) -> Record {
    let Value::Object(state) = state else {
        panic!("state must be an object")
    };
    Record::new(Timestamp::Int(accessed), Timestamp::Float(created), state)
}

/// An engine over a manual clock stopped at `T`.
struct Harness {
    clock: Arc<ManualClock>,
    engine: Arc<SessionEngine>,
}

impl Harness {
    fn new(config: SessionConfig) -> Self {
        Self::with_secrets(config, &[CURRENT])
    }

    fn with_secrets(config: SessionConfig, list: &[&str]) -> Self {
        let clock = Arc::new(ManualClock::new(TF));
        let engine = SessionEngine::new(codec_for(list), config)
            .expect("valid config")
            .with_clock(clock.clone());
        Harness {
            clock,
            engine: Arc::new(engine),
        }
    }

    fn with_overhead(self, bytes: usize) -> Self {
        let engine = Arc::into_inner(self.engine).expect("not shared yet");
        Harness {
            clock: self.clock,
            engine: Arc::new(engine.with_cookie_overhead(bytes)),
        }
    }

    /// Moves the clock to `T + secs`.
    fn at(&self, secs: f64) -> &Self {
        self.clock.set(TF + secs);
        self
    }

    fn session(&self, cookie: Option<&str>) -> Session {
        self.engine.session(cookie.map(str::to_owned))
    }

    /// A cookie signed by this engine's current secret.
    fn cookie(&self, accessed: i64, created: f64, state: Value) -> String {
        self.engine
            .codec()
            .encode(&record(accessed, created, state))
    }
}

fn config(
    timeout: Option<u64>,
    reissue_time: Option<u64>,
    max_lifetime: Option<u64>,
) -> SessionConfig {
    SessionConfig {
        timeout,
        reissue_time,
        max_lifetime,
    }
}

/// The value and reason of a `Commit::Set`, or a panic naming what came instead.
fn expect_set(commit: Commit) -> (String, SetReason) {
    match commit {
        Commit::Set { value, reason } => (value, reason),
        other => panic!("expected Commit::Set, got {other:?}"),
    }
}

/// Decodes an emitted cookie with a codec that holds only `list`.
fn read_with(list: &[&str], value: &str) -> Record {
    let decoded = codec_for(list)
        .decode(value)
        .unwrap_or_else(|e| panic!("emitted cookie does not verify: {e}"));
    assert_eq!(decoded.key_index, 0, "verified by the first secret given");
    decoded.record
}

/// Unpadded base64 length of `n` bytes, computed without the crate.
fn b64_len(n: usize) -> usize {
    (4 * n).div_ceil(3)
}

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
    assert_eq!(s.created(), TF + 0.25, "created is preserved");
}

#[test]
fn session_expires_one_second_past_the_timeout() {
    let h = Harness::new(SessionConfig::default());
    let cookie = h.cookie(T, TF + 0.25, json!({"counter": 1}));
    h.at(1201.0);
    let s = h.session(Some(&cookie));
    assert_eq!(s.get::<i64>("counter").expect("absent is fine"), None);
    match s.status() {
        CookieStatus::Expired { idle_secs } => assert_eq!(idle_secs, 1201.0),
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
        TF + 1201.5,
        "created is now, not the old created"
    );
    assert_eq!(
        read_only.commit(),
        Commit::Keep,
        "a read of an expired session sets nothing"
    );

    let written = h.session(Some(&cookie));
    written.insert("counter", &1).expect("serializable");
    let (value, reason) = expect_set(written.commit());
    assert_eq!(reason, SetReason::Changed);
    let out = read_with(&[CURRENT], &value);
    assert_eq!(
        out.state,
        *json!({"counter": 1}).as_object().expect("object")
    );
    assert_eq!(out.created, Timestamp::Float(TF + 1201.5));
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
    let (value, reason) = expect_set(s.commit());
    assert_eq!(reason, SetReason::Reissued);
    let out = read_with(&[CURRENT], &value);
    assert_eq!(
        out.accessed,
        Timestamp::Int(T + 1),
        "accessed is now, whole seconds"
    );
    assert_eq!(
        out.created,
        Timestamp::Float(TF - 100.5),
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
    assert_eq!(s.commit(), Commit::Keep);
}

#[test]
fn reissue_time_120_keeps_the_cookie_at_60_and_120_and_reissues_at_121() {
    let h = Harness::new(config(Some(1200), Some(120), None));
    let cookie = h.cookie(T, TF, json!({"counter": 1}));
    for (secs, reissued) in [(60.0, false), (120.0, false), (121.0, true), (1200.0, true)] {
        h.at(secs);
        let s = h.session(Some(&cookie));
        assert!(s.contains("counter"), "+{secs}: loaded");
        match s.commit() {
            Commit::Keep => assert!(!reissued, "+{secs}: expected a reissue"),
            Commit::Set { reason, value } => {
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
        assert_eq!(s.commit(), Commit::Keep, "+{secs}");
    }
    // A write still sends the cookie.
    let s = h.session(Some(&cookie));
    s.insert("counter", &2).expect("int");
    assert_eq!(expect_set(s.commit()).1, SetReason::Changed);
}

#[test]
fn reissue_time_none_with_a_timeout_expires_timeout_seconds_after_the_last_write() {
    let h = Harness::new(config(Some(1200), None, None));
    let cookie = h.cookie(T, TF, json!({"counter": 1}));
    h.at(1000.0);
    let s = h.session(Some(&cookie));
    assert!(s.contains("counter"));
    assert_eq!(
        s.commit(),
        Commit::Keep,
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
    assert!(s.is_new() && s.is_touched());
    assert_eq!(s.commit(), Commit::Keep);
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
    assert!(!s.is_touched());
    assert_eq!(s.commit(), Commit::Keep);
    // Looking at the status is not an access: nothing is re-issued, but the response now
    // depends on the cookie (the middleware marks it private).
    let s = h.session(Some(&cookie));
    assert!(!s.depends_on_cookie());
    assert!(s.status().is_valid());
    assert!(!s.is_touched());
    assert!(s.depends_on_cookie());
    assert_eq!(s.commit(), Commit::Keep);
    // The same read does reissue: the Keep above is due to the session not being touched.
    let s = h.session(Some(&cookie));
    let _ = s.get_value("counter");
    assert_eq!(expect_set(s.commit()).1, SetReason::Reissued);
}

#[test]
fn untouched_session_with_a_garbage_cookie_commits_keep() {
    let h = Harness::new(SessionConfig::default());
    let s = h.session(Some("garbage!"));
    assert_eq!(s.commit(), Commit::Keep);
    assert_eq!(h.session(None).commit(), Commit::Keep);
}

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
    assert_eq!(s.commit(), Commit::Keep);
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
            CookieStatus::FutureTimestamp { ahead_secs } => assert_eq!(ahead_secs, ahead as f64),
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
    let (mut cookie, _) = expect_set(first.commit());
    // A read every 10 minutes keeps it alive (each read re-issues the cookie)...
    for step in 1..=6 {
        h.at(f64::from(step) * 600.0);
        let s = h.session(Some(&cookie));
        assert_eq!(
            s.get::<String>("user").expect("string").as_deref(),
            Some("alice"),
            "step {step}"
        );
        assert_eq!(s.created(), TF, "created never moves");
        let (value, reason) = expect_set(s.commit());
        assert_eq!(reason, SetReason::Reissued);
        cookie = value;
    }
    // ...until the session is more than max_lifetime old, however fresh `accessed` is.
    h.at(4200.0);
    let s = h.session(Some(&cookie));
    assert!(s.is_empty() && s.is_new());
    match s.status() {
        CookieStatus::LifetimeExceeded { age_secs } => assert_eq!(age_secs, 4200.0),
        other => panic!("expected LifetimeExceeded, got {other:?}"),
    }
    assert_eq!(s.created(), TF + 4200.0);
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
    let codec = || codec_for(&[CURRENT]);
    let err = SessionEngine::new(codec(), config(Some(0), Some(0), None)).expect_err("0 timeout");
    assert_eq!(err, ConfigError::ZeroTimeout);
    let err = SessionEngine::new(codec(), config(None, None, Some(0))).expect_err("0 lifetime");
    assert_eq!(err, ConfigError::ZeroLifetime);
    assert!(SessionEngine::new(codec(), config(Some(1), Some(0), Some(1))).is_ok());
    let defaults = SessionConfig::default();
    assert_eq!(defaults, config(Some(DEFAULT_TIMEOUT), Some(0), None));
    assert_eq!(DEFAULT_TIMEOUT, 1200);
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
    let (value, reason) = expect_set(s.commit());
    assert_eq!(reason, SetReason::Rotated);
    // A verifier holding ONLY the current secret accepts the new cookie; one with only the old
    // secret does not.
    let out = read_with(&[CURRENT], &value);
    assert_eq!(out.state["counter"], 3);
    assert_eq!(out.created, Timestamp::Float(TF - 10.5));
    assert!(matches!(
        codec_for(&[OLD]).decode(&value),
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
    let (cookie_a, _) = expect_set(s.commit());
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
    let (cookie_b, reason) = expect_set(s.commit());
    assert_eq!(reason, SetReason::Rotated);
    read_with(&[b], &cookie_b);
    assert!(
        codec_for(&[a]).decode(&cookie_b).is_err(),
        "not signed with the fallback"
    );
    // A brand-new session under B is signed with B, whatever the order of the fallbacks.
    let s = gen_b.session(None);
    s.insert("n", &1).expect("int");
    let (fresh_b, _) = expect_set(s.commit());
    read_with(&[b], &fresh_b);
    assert!(codec_for(&[a]).decode(&fresh_b).is_err());

    // Generation C (current C, fallback B): B's cookie rotates to C, A's cookie is dead.
    let gen_c = Harness::with_secrets(cfg, &[c, b]);
    let s = gen_c.session(Some(&cookie_b));
    assert_eq!(
        s.get::<String>("user").expect("str").as_deref(),
        Some("alice")
    );
    let (cookie_c, reason) = expect_set(s.commit());
    assert_eq!(reason, SetReason::Rotated);
    read_with(&[c], &cookie_c);
    for other in [a, b] {
        assert!(codec_for(&[other]).decode(&cookie_c).is_err());
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
    assert_eq!(s.commit(), Commit::Keep);
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
    assert_eq!(h.engine.codec().key_count(), 4);
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
    let (value, reason) = expect_set(s.commit());
    assert_eq!(reason, SetReason::Changed);
    let out = read_with(&[CURRENT], &value);
    assert_eq!(Value::Object(out.state), json!({"user": "alice"}));
    assert_eq!(
        out.created,
        Timestamp::Float(TF + 5.0),
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
    assert_eq!(s.commit(), Commit::Delete);
    // With nothing else done.
    let s = h.session(Some(&cookie));
    s.invalidate();
    assert_eq!(s.commit(), Commit::Delete);
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
    let (value, reason) = expect_set(s.commit());
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
    assert_eq!(s.commit(), Commit::Keep);
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
    assert_eq!(s.commit(), Commit::Keep, "nothing was written");
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
    assert_eq!(s.commit(), Commit::Keep);
}

#[test]
fn remove_marks_changed_only_when_the_key_existed() {
    let h = Harness::new(config(Some(1200), None, None));
    let cookie = h.cookie(T, TF, json!({"a": 1, "b": 2}));
    let s = h.session(Some(&cookie));
    assert_eq!(s.remove("missing"), None);
    assert_eq!(s.commit(), Commit::Keep);
    let s = h.session(Some(&cookie));
    assert_eq!(s.remove("a"), Some(json!(1)));
    let (value, _) = expect_set(s.commit());
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
    let (value, _) = expect_set(s.commit());
    assert!(read_with(&[CURRENT], &value).state.is_empty());
    let s = h.session(Some(&cookie));
    s.changed();
    let (value, reason) = expect_set(s.commit());
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
    assert!(matches!(s.commit(), Commit::Set { .. }));
}

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
        s.commit(),
        Commit::Keep,
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
    assert_eq!(s.commit(), Commit::Keep);
    let s = h.session(Some(&cookie));
    let len = s
        .try_update("list", |list: &mut Vec<String>| {
            list.push("b".into());
            list.len()
        })
        .expect("fits");
    assert_eq!(len, 2);
    assert_eq!(expect_set(s.commit()).1, SetReason::Changed);
}

#[test]
fn commit_is_too_large_exactly_one_step_past_4096_bytes() {
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
    let (value, _) = expect_set(at_limit.commit());
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
        over.commit(),
        Commit::TooLarge {
            bytes: 4098,
            limit: 4096
        }
    );
}

// ---------------------------------------------------------------------------------------------
// Row 52: flash messages (after Pyramid's test_flash_*, test_pop_flash_*, test_peek_flash_*).

#[test]
fn flash_appends_to_the_default_queue_under_f_() {
    let h = Harness::new(SessionConfig::default());
    let s = h.session(None);
    s.flash("msg1", "", true).expect("str");
    s.flash("msg2", "", true).expect("str");
    assert_eq!(flash_key(""), "_f_");
    assert_eq!(s.get_value("_f_"), Some(json!(["msg1", "msg2"])));
    let (value, reason) = expect_set(s.commit());
    assert_eq!(reason, SetReason::Changed);
    assert_eq!(
        read_with(&[CURRENT], &value).state["_f_"],
        json!(["msg1", "msg2"])
    );
}

#[test]
fn flash_to_a_named_queue_uses_f_and_the_name() {
    let h = Harness::new(SessionConfig::default());
    let s = h.session(None);
    s.flash("msg1", "error", true).expect("str");
    assert_eq!(s.get_value("_f_error"), Some(json!(["msg1"])));
    assert_eq!(s.get_value("_f_"), None);
}

#[test]
fn flash_without_duplicates_adds_a_message_only_once() {
    let h = Harness::new(SessionConfig::default());
    let s = h.session(None);
    s.flash("msg", "", true).expect("str");
    s.flash("msg", "", false).expect("str");
    assert_eq!(s.get_value("_f_"), Some(json!(["msg"])));
    s.flash("other", "", false).expect("str");
    s.flash("msg", "", true).expect("str");
    assert_eq!(s.get_value("_f_"), Some(json!(["msg", "other", "msg"])));
    s.flash(&json!({"level": "info"}), "", false).expect("json");
    s.flash(&json!({"level": "info"}), "", false).expect("json");
    assert_eq!(
        s.get_value("_f_").and_then(|q| q.as_array().map(Vec::len)),
        Some(4)
    );
}

#[test]
fn flash_and_try_flash_keep_a_single_value_as_the_first_message_as_peek_flash_reads_it() {
    let h = Harness::new(SessionConfig::default());
    let cookie = h.cookie(T, TF, json!({"_f_": "stray", "_f_error": 7}));
    let s = h.session(Some(&cookie));
    assert_eq!(s.peek_flash::<Value>("").expect("json"), [json!("stray")]);
    s.flash("msg", "", true).expect("str");
    s.try_flash("bad", "error", true).expect("fits");
    assert_eq!(s.get_value("_f_"), Some(json!(["stray", "msg"])));
    assert_eq!(s.get_value("_f_error"), Some(json!([7, "bad"])));
}

#[test]
fn pop_flash_returns_the_messages_removes_the_queue_and_marks_changed() {
    let h = Harness::new(config(Some(1200), None, None));
    let cookie = h.cookie(T, TF, json!({"_f_": ["one", "two"], "_f_error": ["bad"]}));
    let s = h.session(Some(&cookie));
    assert_eq!(s.pop_flash::<String>("").expect("strings"), ["one", "two"]);
    assert!(!s.contains("_f_"));
    assert_eq!(
        s.pop_flash::<String>("").expect("empty"),
        Vec::<String>::new()
    );
    let (value, reason) = expect_set(s.commit());
    assert_eq!(reason, SetReason::Changed);
    assert_eq!(
        Value::Object(read_with(&[CURRENT], &value).state),
        json!({"_f_error": ["bad"]})
    );
    // Named queue.
    let s = h.session(Some(&value));
    assert_eq!(s.pop_flash::<String>("error").expect("strings"), ["bad"]);
    assert!(s.is_empty());
}

#[test]
fn pop_flash_of_an_empty_queue_sends_no_cookie() {
    let h = Harness::new(config(Some(1200), None, None));
    let cookie = h.cookie(T, TF, json!({"counter": 1}));
    let s = h.session(Some(&cookie));
    assert!(s.pop_flash::<String>("").expect("empty").is_empty());
    assert!(s.pop_flash::<String>("error").expect("empty").is_empty());
    assert_eq!(s.commit(), Commit::Keep);
}

#[test]
fn peek_flash_returns_the_messages_and_leaves_them_queued() {
    let h = Harness::new(config(Some(1200), None, None));
    let cookie = h.cookie(T, TF, json!({"_f_": ["one"], "_f_error": ["bad"]}));
    let s = h.session(Some(&cookie));
    assert_eq!(s.peek_flash::<String>("").expect("strings"), ["one"]);
    assert_eq!(s.peek_flash::<String>("error").expect("strings"), ["bad"]);
    assert_eq!(s.peek_flash::<String>("").expect("strings"), ["one"]);
    assert!(s.peek_flash::<String>("nothing").expect("empty").is_empty());
    assert_eq!(s.commit(), Commit::Keep, "peeking is not a change");
}

#[test]
fn peek_flash_counts_as_an_access_and_can_trigger_a_reissue() {
    let h = Harness::new(config(Some(1200), Some(0), None));
    let cookie = h.cookie(T, TF, json!({"_f_": ["one"]}));
    h.at(2.0);
    let s = h.session(Some(&cookie));
    assert_eq!(s.peek_flash::<String>("").expect("strings"), ["one"]);
    let (value, reason) = expect_set(s.commit());
    assert_eq!(reason, SetReason::Reissued);
    assert_eq!(read_with(&[CURRENT], &value).state["_f_"], json!(["one"]));
}

#[test]
fn pop_flash_of_the_wrong_type_fails_and_leaves_the_queue() {
    let h = Harness::new(config(Some(1200), None, None));
    let cookie = h.cookie(T, TF, json!({"_f_": ["one", 2]}));
    let s = h.session(Some(&cookie));
    let err = s.pop_flash::<String>("").expect_err("2 is not a string");
    assert!(matches!(err, SessionError::Deserialize { ref key, .. } if key == "_f_"));
    assert_eq!(s.get_value("_f_"), Some(json!(["one", 2])));
    assert_eq!(s.commit(), Commit::Keep);
    assert_eq!(
        h.session(Some(&cookie))
            .pop_flash::<Value>("")
            .expect("any json"),
        [json!("one"), json!(2)]
    );
}

// ---------------------------------------------------------------------------------------------
// Rows 53, 55: CSRF tokens.

fn is_lower_hex_40(token: &str) -> bool {
    token.len() == 40
        && token
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[test]
fn csrf_token_is_40_lowercase_hex_and_stable_across_requests() {
    let h = Harness::new(SessionConfig::default());
    let s = h.session(None);
    let token = s.get_csrf_token();
    assert!(is_lower_hex_40(&token), "{token}");
    assert_eq!(s.get_csrf_token(), token, "stable within the request");
    assert_eq!(s.get_value(CSRF_KEY), Some(json!(token)));
    let (cookie, reason) = expect_set(s.commit());
    assert_eq!(reason, SetReason::Changed, "creating the token is a write");
    let next = h.session(Some(&cookie));
    assert_eq!(next.get_csrf_token(), token, "stable across requests");
    assert_eq!(
        next.commit(),
        Commit::Keep,
        "reading it back writes nothing"
    );
}

#[test]
fn csrf_tokens_are_unique_and_rotate_on_request() {
    let h = Harness::new(SessionConfig::default());
    let tokens: std::collections::HashSet<String> =
        (0..200).map(|_| h.session(None).get_csrf_token()).collect();
    assert_eq!(tokens.len(), 200);
    assert!(tokens.iter().all(|t| is_lower_hex_40(t)));
    let s = h.session(None);
    let old = s.get_csrf_token();
    let new = s.new_csrf_token();
    assert_ne!(old, new);
    assert!(is_lower_hex_40(&new));
    assert!(!s.check_csrf_token(&old));
    assert!(s.check_csrf_token(&new));
}

#[test]
fn check_csrf_token_accepts_only_the_exact_token() {
    let h = Harness::new(SessionConfig::default());
    let s = h.session(None);
    let token = s.get_csrf_token();
    assert!(s.check_csrf_token(&token));
    let mut last_changed = token.clone();
    let last = last_changed.pop().expect("40 chars");
    last_changed.push(if last == '0' { '1' } else { '0' });
    for wrong in [
        String::new(),
        token[..39].to_owned(),
        format!("{token}0"),
        token.to_ascii_uppercase(),
        last_changed,
        format!(" {token}"),
    ] {
        if wrong != token {
            assert!(!s.check_csrf_token(&wrong), "{wrong:?} accepted");
        }
    }
}

#[test]
fn check_csrf_token_without_a_token_is_false_and_creates_none() {
    let h = Harness::new(SessionConfig::default());
    let s = h.session(None);
    assert!(!s.check_csrf_token(""));
    assert!(!s.check_csrf_token("a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1"));
    assert!(!s.contains(CSRF_KEY));
    assert_eq!(s.commit(), Commit::Keep);
    // A stored token that is empty or not a string counts as none, and is replaced on `get`.
    for stored in [json!(""), json!(12345), json!(null)] {
        let cookie = h.cookie(T, TF, json!({CSRF_KEY: stored}));
        let s = h.session(Some(&cookie));
        assert!(!s.check_csrf_token(""), "{stored}");
        assert!(!s.check_csrf_token("12345"), "{stored}");
        let token = s.get_csrf_token();
        assert!(is_lower_hex_40(&token));
        assert!(s.check_csrf_token(&token));
    }
}

#[test]
fn invalidate_discards_the_csrf_token() {
    let h = Harness::new(SessionConfig::default());
    let s = h.session(None);
    let old = s.get_csrf_token();
    s.invalidate();
    assert!(!s.check_csrf_token(&old));
    let new = s.get_csrf_token();
    assert_ne!(new, old);
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
        let _ = s.commit();
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
        (CookieStatus::Expired { idle_secs: 1201.0 }, "expired", true),
        (
            CookieStatus::FutureTimestamp { ahead_secs: 61.0 },
            "future-timestamp",
            true,
        ),
        (
            CookieStatus::LifetimeExceeded { age_secs: 9.0 },
            "lifetime-exceeded",
            true,
        ),
    ];
    for (status, name, rejected) in statuses {
        assert_eq!(status.name(), name);
        assert_eq!(status.is_rejected(), rejected, "{name}");
    }
    assert_eq!(
        CookieStatus::Expired { idle_secs: 1201.0 }.to_string(),
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

// ---------------------------------------------------------------------------------------------
// Server-side stores: what `Session::plan` tells the middleware to do at the end of a request.
// Cookies coming out are read with a separate codec; payloads with the codec's payload parser.

mod plan {
    use std::time::Duration;

    use super::*;
    use crate::codec::{CookieContent, parse_payload};

    impl Harness {
        /// The same harness, keeping sessions in `mode`.
        fn storing(self, mode: StorageMode) -> Self {
            let engine = Arc::into_inner(self.engine).expect("not shared yet");
            Harness {
                clock: self.clock,
                engine: Arc::new(engine.with_storage(mode)),
            }
        }

        /// A session as the middleware builds it from a store: `state` saved at `T`, under `id`.
        fn stored(&self, id: SessionId, state: Value) -> Session {
            self.engine
                .session_from(Ok((record(T, TF, state), 0)), Some(id))
        }

        /// A session for a request without a cookie, as the middleware builds it.
        fn fresh(&self) -> Session {
            self.engine.session_from(Err(CookieStatus::Absent), None)
        }
    }

    fn store() -> Harness {
        Harness::new(SessionConfig::default()).storing(StorageMode::Store)
    }

    fn spill() -> Harness {
        Harness::new(SessionConfig::default()).storing(StorageMode::Spill)
    }

    /// The id an id cookie carries, checked to verify with the current secret alone.
    fn id_in(cookie: &str) -> SessionId {
        match codec_for(&[CURRENT]).decode_any(cookie) {
            Ok(CookieContent::Id { id, key_index: 0 }) => id,
            other => panic!("expected an id cookie signed by the current secret, got {other:?}"),
        }
    }

    /// The record a whole-session cookie carries.
    fn state_in(cookie: &str) -> Record {
        match codec_for(&[CURRENT]).decode_any(cookie) {
            Ok(CookieContent::State(decoded)) => decoded.record,
            other => panic!("expected a whole-session cookie, got {other:?}"),
        }
    }

    fn parsed(payload: &[u8]) -> Record {
        parse_payload(payload).expect("a saved payload is [accessed, created, state]")
    }

    const TTL: Option<Duration> = Some(Duration::from_secs(1200));

    #[test]
    fn store_mode_new_session_written_is_saved_under_a_fresh_id_and_gets_an_id_cookie() {
        let h = store();
        let s = h.fresh();
        s.insert("counter", &1).expect("int");
        let plan = s.plan();
        assert_eq!(plan.reason, Some(SetReason::Changed));
        assert_eq!(plan.too_large, None);
        let [Step::Save { id, payload, ttl }, Step::SetCookie(cookie)] = &plan.steps[..] else {
            panic!("expected Save then SetCookie, got {:?}", plan.steps);
        };
        assert_eq!(*ttl, TTL, "the idle timeout is the store's TTL");
        assert_eq!(id_in(cookie), *id, "the cookie points at what was saved");
        assert!(
            cookie.len() < 200,
            "only an id travels: {} chars",
            cookie.len()
        );
        let saved = parsed(payload);
        assert_eq!(Value::Object(saved.state), json!({"counter": 1}));
        assert_eq!(saved.created, Timestamp::Float(TF));
        assert_eq!(s.id(), None, "planning does not move the session");
    }

    #[test]
    fn store_mode_reading_a_new_session_saves_nothing() {
        let h = store();
        let s = h.fresh();
        assert_eq!(s.get::<i64>("counter").expect("absent"), None);
        h.at(5.0);
        assert_eq!(s.plan(), Plan::default());
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
        let plan = s.plan();
        assert_eq!(plan.reason, Some(SetReason::Changed));
        let [
            Step::Save {
                id: at,
                payload,
                ttl,
            },
        ] = &plan.steps[..]
        else {
            panic!("expected one Save, got {:?}", plan.steps);
        };
        assert_eq!((*at, *ttl), (id, TTL));
        let saved = parsed(payload);
        assert_eq!(Value::Object(saved.state), json!({"counter": 2}));
        assert_eq!(saved.accessed, Timestamp::Int(T + 5));
        assert_eq!(saved.created, Timestamp::Float(TF), "created is kept");
    }

    #[test]
    fn store_mode_reissue_only_refreshes_the_stored_ttl() {
        let h = store();
        let id = SessionId::generate();
        // A read in the same second as the last access: nothing to do.
        let s = h.stored(id, json!({"counter": 1}));
        assert_eq!(s.get::<i64>("counter").expect("int"), Some(1));
        assert_eq!(s.plan(), Plan::default());
        // A read in a later second (reissue_time 0): saved again, so the TTL starts over.
        h.at(7.0);
        let s = h.stored(id, json!({"counter": 1}));
        assert_eq!(s.get::<i64>("counter").expect("int"), Some(1));
        let plan = s.plan();
        assert_eq!(plan.reason, Some(SetReason::Reissued));
        let [
            Step::Save {
                id: at,
                payload,
                ttl,
            },
        ] = &plan.steps[..]
        else {
            panic!("expected one Save and no cookie, got {:?}", plan.steps);
        };
        assert_eq!((*at, *ttl), (id, TTL));
        assert_eq!(parsed(payload).accessed, Timestamp::Int(T + 7));
    }

    #[test]
    fn store_mode_invalidate_deletes_the_stored_session_and_the_cookie() {
        let h = store();
        let id = SessionId::generate();
        let s = h.stored(id, json!({"user": "alice"}));
        s.invalidate();
        let plan = s.plan();
        assert_eq!(plan.steps, vec![Step::Delete(id), Step::DeleteCookie]);
        assert_eq!(plan.reason, None);
        // A session that never reached the store only loses its cookie.
        let s = h.fresh();
        s.invalidate();
        assert_eq!(s.plan().steps, vec![Step::DeleteCookie]);
    }

    #[test]
    fn store_mode_invalidate_then_write_saves_a_new_id_and_deletes_the_old() {
        let h = store();
        let old = SessionId::generate();
        h.at(5.0);
        let s = h.stored(old, json!({"user": "mallory", CSRF_KEY: "planted"}));
        s.invalidate();
        s.insert("user", "alice").expect("str");
        let plan = s.plan();
        let [
            Step::Save { id, payload, .. },
            Step::Delete(deleted),
            Step::SetCookie(cookie),
        ] = &plan.steps[..]
        else {
            panic!("expected Save, Delete, SetCookie, got {:?}", plan.steps);
        };
        assert_ne!(*id, old, "a new session gets a new id");
        assert_eq!(*deleted, old, "the old one is dead everywhere");
        assert_eq!(id_in(cookie), *id);
        let saved = parsed(payload);
        assert_eq!(Value::Object(saved.state), json!({"user": "alice"}));
        assert_eq!(saved.created, Timestamp::Float(TF + 5.0), "brand new");
    }

    #[test]
    fn cycle_id_moves_the_data_to_a_new_id_and_deletes_the_old() {
        let h = store();
        let old = SessionId::generate();
        let s = h.stored(old, json!({"user": "alice", "cart": {"kopi": 2}}));
        s.cycle_id();
        let plan = s.plan();
        assert_eq!(plan.reason, Some(SetReason::Changed));
        let [
            Step::Save { id, payload, .. },
            Step::Delete(deleted),
            Step::SetCookie(cookie),
        ] = &plan.steps[..]
        else {
            panic!("expected Save, Delete, SetCookie, got {:?}", plan.steps);
        };
        assert_ne!(*id, old);
        assert_eq!(*deleted, old);
        assert_eq!(id_in(cookie), *id);
        let saved = parsed(payload);
        assert_eq!(
            Value::Object(saved.state),
            json!({"user": "alice", "cart": {"kopi": 2}}),
            "the data is kept"
        );
        assert_eq!(saved.created, Timestamp::Float(TF), "the same session");
    }

    #[test]
    fn cycle_id_of_a_cookie_session_only_reissues_the_cookie() {
        let h = Harness::new(SessionConfig::default());
        let cookie = h.cookie(T, TF, json!({"user": "alice"}));
        let s = h.session(Some(&cookie));
        s.cycle_id();
        let plan = s.plan();
        let [Step::SetCookie(value)] = &plan.steps[..] else {
            panic!("expected one SetCookie, got {:?}", plan.steps);
        };
        assert_eq!(
            Value::Object(state_in(value).state),
            json!({"user": "alice"})
        );
        assert_eq!(s.id(), None);
    }

    #[test]
    fn an_id_cookie_verified_by_an_old_key_is_re_signed_with_the_current_one() {
        let h = Harness::with_secrets(SessionConfig::default(), &[CURRENT, OLD])
            .storing(StorageMode::Store);
        let id = SessionId::generate();
        let s = h
            .engine
            .session_from(Ok((record(T, TF, json!({"counter": 3})), 1)), Some(id));
        assert_eq!(s.get::<i64>("counter").expect("int"), Some(3));
        let plan = s.plan();
        assert_eq!(plan.reason, Some(SetReason::Rotated));
        let [Step::Save { id: at, .. }, Step::SetCookie(cookie)] = &plan.steps[..] else {
            panic!("expected Save then SetCookie, got {:?}", plan.steps);
        };
        assert_eq!(*at, id, "the same session, only re-signed");
        assert_eq!(id_in(cookie), id, "verifies with the current secret alone");
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
        let plan = s.plan();
        let [Step::SetCookie(cookie)] = &plan.steps[..] else {
            panic!("expected one SetCookie, got {:?}", plan.steps);
        };
        assert_eq!(Value::Object(state_in(cookie).state), json!({"counter": 1}));
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
        let plan = s.plan();
        assert_eq!(plan.too_large, None, "a store takes what a cookie cannot");
        let [Step::Save { id, payload, ttl }, Step::SetCookie(cookie)] = &plan.steps[..] else {
            panic!("expected Save then SetCookie, got {:?}", plan.steps);
        };
        assert_eq!(*ttl, TTL);
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
        let plan = s.plan();
        let [Step::Save { id: at, .. }] = &plan.steps[..] else {
            panic!("expected one Save, got {:?}", plan.steps);
        };
        assert_eq!(at, id);
    }

    #[test]
    fn spill_mode_moves_a_shrunk_session_back_into_the_cookie_and_deletes_the_stored_copy() {
        let h = spill();
        let id = SessionId::generate();
        let s = h.stored(id, json!({"counter": 4, "blob": "x".repeat(5000)}));
        assert!(s.remove("blob").is_some());
        let plan = s.plan();
        let [Step::Delete(deleted), Step::SetCookie(cookie)] = &plan.steps[..] else {
            panic!("expected Delete then SetCookie, got {:?}", plan.steps);
        };
        assert_eq!(*deleted, id);
        assert_eq!(
            Value::Object(state_in(cookie).state),
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
        assert_eq!(s.plan(), s.plan());
        let s = h.stored(SessionId::generate(), json!({"user": "alice"}));
        s.cycle_id();
        assert_eq!(s.plan(), s.plan());
        let s = spill().fresh();
        s.insert("blob", &"x".repeat(5000)).expect("str");
        let first = s.plan();
        assert_eq!(first, s.plan());
        assert!(matches!(first.steps[0], Step::Save { .. }));
    }

    #[test]
    fn cookie_mode_reports_a_session_too_large_for_the_cookie_instead_of_saving_it() {
        let h = Harness::new(SessionConfig::default());
        let s = h.session(None);
        s.insert("blob", &"x".repeat(5000)).expect("str");
        let plan = s.plan();
        assert!(plan.steps.is_empty(), "{:?}", plan.steps);
        assert!(plan.too_large.is_some_and(|bytes| bytes > MAX_COOKIE_SIZE));
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
            assert!(matches!(s.plan().steps[0], Step::Save { .. }));
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
        let s = h
            .engine
            .session_from(Ok((record(T, TF, json!({"counter": 1})), 0)), Some(id));
        h.at(70.0); // a slow handler
        s.update("counter", |n: &mut i64| *n += 1).expect("int");
        let [Step::Save { payload, .. }] = &s.plan().steps[..] else {
            panic!("expected one Save");
        };
        let saved = parsed(payload);
        assert_eq!(saved.accessed, Timestamp::Int(T + 10));

        // A fresh one: `created` and `accessed` from that same reading.
        h.at(100.5);
        let s = h.engine.session_from(Err(CookieStatus::Absent), None);
        h.at(300.0);
        s.insert("x", &1).expect("int");
        let [Step::Save { payload, .. }, ..] = &s.plan().steps[..] else {
            panic!("expected a Save");
        };
        let saved = parsed(payload);
        assert_eq!(saved.created, Timestamp::Float(TF + 100.5));
        assert_eq!(saved.accessed, Timestamp::Int(T + 100));
    }
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
    let (value, _) = expect_set(s.commit());
    let record = read_with(&[CURRENT], &value);
    assert_eq!(record.accessed, Timestamp::Int(T + 30));
    assert_eq!(record.state["counter"], json!(2));

    // A fresh session's `created` and `accessed` come from that same reading.
    let s = h.session(None);
    h.at(200.25);
    s.insert("x", &1).expect("serializable");
    h.at(500.0);
    let (value, _) = expect_set(s.commit());
    let record = read_with(&[CURRENT], &value);
    assert_eq!(record.created, Timestamp::Float(TF + 200.25));
    assert_eq!(record.accessed, Timestamp::Int(T + 200));
}
