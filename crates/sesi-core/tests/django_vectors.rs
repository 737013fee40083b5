//! Known answers from the real Django 5.2 `signed_cookies` session backend
//! (`tests/data/django-cookies.json`, made by `tests/data/make_django_vectors.py`): sesi writes
//! exactly what Django wrote for each state, secret and second; every value Django wrote or
//! judged decodes to the same session or is refused for the stated reason; and the session
//! engine applies Django's `SESSION_COOKIE_AGE` and `_session_expiry` as Django does.

#![cfg(feature = "django")]

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};
use sesi_core::format::django::DjangoFormat;
use sesi_core::session::{Lifecycle, SessionEngine};
use sesi_core::{
    CookieContent, CookieFormat, CookieStatus, Expiry, ManualClock, Record, Secret, Secrets,
    SessionConfig, SessionId, Timestamp,
};

fn vectors() -> Value {
    serde_json::from_str(include_str!("data/django-cookies.json")).expect("vector file is JSON")
}

fn secret(text: &Value) -> Secret {
    Secret::new_insecure(text.as_str().expect("secret text")).expect("non-empty")
}

fn format(keys: impl IntoIterator<Item = Secret>, salt: Option<&str>) -> DjangoFormat {
    let secrets = Secrets::from_list(keys).expect("one to four secrets");
    match salt {
        Some(salt) => DjangoFormat::with_salt(&secrets, salt),
        None => DjangoFormat::new(&secrets),
    }
}

fn decode_format(case: &Value) -> DjangoFormat {
    format(
        case["keys"].as_array().expect("keys").iter().map(secret),
        None,
    )
}

fn state(case: &Value) -> Map<String, Value> {
    case["state"].as_object().expect("state object").clone()
}

/// An engine with Django's `SESSION_COOKIE_AGE` as the idle timeout, its clock at `now`.
fn engine(keys: &[Value], now: f64) -> Arc<SessionEngine> {
    let config = SessionConfig {
        timeout: Some(Duration::from_secs(
            vectors()["session_cookie_age"].as_u64().expect("age"),
        )),
        ..SessionConfig::default()
    };
    let format = format(keys.iter().map(secret), None);
    let engine = SessionEngine::new(format, config).expect("a valid config");
    Arc::new(engine.with_clock(Arc::new(ManualClock::new(now))))
}

fn find<'v>(cases: &'v Value, name: &str) -> &'v Value {
    cases
        .as_array()
        .expect("cases")
        .iter()
        .find(|case| case["name"] == name)
        .unwrap_or_else(|| panic!("no vector {name:?}"))
}

#[test]
fn sesi_writes_exactly_what_django_wrote() {
    let mut checked = 0;
    let mut compressed = 0;
    for case in vectors()["encode"].as_array().expect("encode cases") {
        let name = case["name"].as_str().expect("name");
        let format = format([secret(&case["key"])], case["salt"].as_str());
        let accessed = Timestamp::Int(case["timestamp"].as_i64().expect("timestamp"));
        let record = Record::without_created(accessed, state(case));
        let cookie = case["cookie"].as_str().expect("cookie");
        assert_eq!(format.encode(&record), cookie, "{name}");
        assert_eq!(format.encoded_len(&record), cookie.len(), "{name}");
        // And it reads back: Django's value opens to the same record.
        let decoded = format
            .decode(cookie)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(decoded.key_index, 0, "{name}");
        match decoded.content {
            CookieContent::State(got) => assert_eq!(got, record, "{name}"),
            CookieContent::Id(id) => assert_eq!(
                Some(id),
                SessionId::from_hex(record.state["_sesi_sid"].as_str().expect("hex")),
                "{name}"
            ),
        }
        compressed += usize::from(case["compressed"] == true);
        checked += 1;
    }
    assert!(checked >= 14, "only {checked} encode vectors");
    assert!(compressed >= 4, "only {compressed} compressed vectors");
}

#[test]
fn every_value_django_judged_decodes_to_the_same_verdict() {
    let vectors = vectors();
    let mut checked = 0;
    for case in vectors["decode"].as_array().expect("decode cases") {
        let name = case["name"].as_str().expect("name");
        let format = decode_format(case);
        let cookie = case["cookie"].as_str().expect("cookie");
        let now = case["now"].as_f64().expect("now");
        if case["valid"] == true {
            let decoded = format
                .decode(cookie)
                .unwrap_or_else(|e| panic!("{name} should decode: {e}"));
            let accessed = Timestamp::Int(case["accessed"].as_i64().expect("accessed"));
            let record = Record::without_created(accessed, state(case));
            assert_eq!(decoded.record(), Some(&record), "{name}");
            let index = case["key_index"].as_u64().unwrap_or(0);
            assert_eq!(decoded.key_index as u64, index, "{name}");
            // Django's max_age check is the engine's idle timeout: same verdict at `now`.
            let keys = case["keys"].as_array().expect("keys");
            let status = engine(keys, now).judge_record(&record, decoded.key_index);
            assert_eq!(
                status.is_valid(),
                case["django_loads"] == true,
                "{name}: {status:?}"
            );
            if case["expired"] == true {
                assert!(matches!(status, CookieStatus::Expired { .. }), "{name}");
            }
        } else {
            let err = format.decode(cookie).expect_err(name);
            assert_eq!(
                err.kind(),
                case["reason"].as_str().expect("reason"),
                "{name}: {err}"
            );
            // Where Django would load what sesi refuses, the vector says why.
            if case["django_loads"] == true {
                assert!(
                    case["note"].is_string(),
                    "{name}: a difference without a note"
                );
            }
        }
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} decode vectors");
}

#[test]
fn the_engine_judges_django_values_as_django_does_through_a_whole_request() {
    let vectors = vectors();
    let counter = find(&vectors["decode"], "counter");
    let cookie = counter["cookie"].as_str().expect("cookie");
    let keys = counter["keys"].as_array().expect("keys");
    let age = vectors["session_cookie_age"].as_f64().expect("age");
    let t0 = counter["accessed"].as_f64().expect("accessed");
    for (now, valid) in [(t0 + 10.0, true), (t0 + age, true), (t0 + age + 1.0, false)] {
        let request = Lifecycle::begin(&engine(keys, now), Some(cookie.to_owned()));
        assert_eq!(request.status().is_valid(), valid, "at {now}");
        let counter: Option<i64> = request.session().get("counter").expect("an integer");
        assert_eq!(counter, valid.then_some(1), "at {now}");
        if valid {
            assert_eq!(
                request.session().created(),
                None,
                "Django records no creation time"
            );
        }
    }
    let rotated = find(&vectors["decode"], "rotation: verified by the fallback");
    let keys = rotated["keys"].as_array().expect("keys");
    let request = Lifecycle::begin(&engine(keys, t0 + 10.0), Some(cookie.to_owned()));
    assert!(matches!(
        request.status(),
        CookieStatus::ValidOldKey { key_index: 1 }
    ));
}

#[test]
fn an_integer_session_expiry_django_wrote_is_the_sessions_expiry_in_sesi() {
    let vectors = vectors();
    let t0 = 1_764_000_000.0;
    let keys = [vectors["encode"][0]["key"].clone()];
    let expiry_of = |cookie: &str, now: f64| {
        let request = Lifecycle::begin(&engine(&keys, now), Some(cookie.to_owned()));
        (request.status().is_valid(), request.session().expiry())
    };
    let thirty_days = find(&vectors["encode"], "session expiry: 30 days");
    let cookie = thirty_days["cookie"].as_str().expect("cookie");
    let issued = thirty_days["timestamp"].as_f64().expect("timestamp");
    assert_eq!(
        expiry_of(cookie, issued + 10.0),
        (true, Expiry::MaxAge(Duration::from_secs(2_592_000)))
    );
    // Honoured as the idle timeout: valid after 20 days (past SESSION_COOKIE_AGE), not after 31.
    assert!(expiry_of(cookie, issued + 20.0 * 86_400.0).0);
    assert!(!expiry_of(cookie, issued + 31.0 * 86_400.0).0);
    let browser = find(&vectors["encode"], "session expiry: browser close");
    let issued = browser["timestamp"].as_f64().expect("timestamp");
    let cookie = browser["cookie"].as_str().expect("cookie");
    assert_eq!(expiry_of(cookie, issued), (true, Expiry::BrowserSession));
    // A datetime string (Django's `set_expiry(datetime)`) reads as the default expiry.
    let datetime = find(&vectors["decode"], "session expiry as a datetime string");
    let cookie = datetime["cookie"].as_str().expect("cookie");
    assert_eq!(expiry_of(cookie, t0 + 10.0), (true, Expiry::Default));
}

#[test]
fn a_django_cookie_carrying_a_session_id_is_a_store_id_and_sesi_writes_the_same_shape() {
    let vectors = vectors();
    let case = find(&vectors["encode"], "store-mode session id");
    let format = format([secret(&case["key"])], None);
    let id = SessionId::from_hex("00112233445566778899aabbccddeeff").expect("hex");
    let decoded = format
        .decode(case["cookie"].as_str().expect("cookie"))
        .expect("decodes");
    assert_eq!(decoded.content, CookieContent::Id(id));
    // sesi's own id cookie: the same payload and length, issued now.
    let ours = format.encode_id(&id);
    assert_eq!(ours.len(), format.encoded_id_len());
    assert_eq!(
        ours.split(':').next(),
        case["cookie"].as_str().expect("c").split(':').next()
    );
    assert_eq!(
        format.decode(&ours).expect("decodes").content,
        CookieContent::Id(id)
    );
}
