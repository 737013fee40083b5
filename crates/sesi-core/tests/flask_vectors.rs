//! Known answers from the real Flask 3.1 (`tests/data/flask-cookies.json`, made by
//! `tests/data/make_flask_vectors.py`): sesi writes every cookie Flask wrote, byte for byte, from
//! the same state, key and time; it reads every valid one to the same state and key, refuses
//! every invalid one for the stated reason, and leaves the time rules to the engine, which
//! refuses what Flask's max_age refuses.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use sesi_core::session::Lifecycle;
use sesi_core::{
    CookieContent, CookieFormat, CookieStatus, FlaskFormat, ManualClock, Record, Secret, Secrets,
    SessionConfig, SessionEngine, SessionId, Timestamp,
};

fn vectors() -> Value {
    serde_json::from_str(include_str!("data/flask-cookies.json")).expect("vector file is JSON")
}

fn secret(key: &Value) -> Secret {
    if let Some(text) = key["text"].as_str() {
        return Secret::new_insecure(text).expect("a text secret");
    }
    let hex = key["hex"].as_str().expect("a text or hex secret");
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect();
    Secret::from_bytes(bytes).expect("a 32-byte secret")
}

fn format(case: &Value) -> FlaskFormat {
    let keys = case["keys"].as_array().expect("keys").iter().map(secret);
    let secrets = Secrets::from_list(keys).expect("at most three fallbacks");
    match case["salt"].as_str() {
        Some(salt) => FlaskFormat::with_salt(&secrets, salt),
        None => FlaskFormat::new(&secrets),
    }
}

/// Whether an escaped dict (`" di"`) occurs anywhere in `state`.
fn cookie_holds_escaped_dict(state: &serde_json::Map<String, Value>) -> bool {
    fn holds(value: &Value) -> bool {
        match value {
            Value::Array(items) => items.iter().any(holds),
            Value::Object(map) => map.contains_key(" di") || map.values().any(holds),
            _ => false,
        }
    }
    state.contains_key(" di") || state.values().any(holds)
}

fn state(case: &Value) -> serde_json::Map<String, Value> {
    case["state"].as_object().expect("state object").clone()
}

#[test]
fn sesi_writes_every_cookie_flask_wrote_byte_for_byte() {
    let mut checked = 0;
    let mut compressed = 0;
    for case in vectors()["encode"].as_array().expect("encode cases") {
        let name = case["name"].as_str().expect("name");
        let accessed = Timestamp::Int(case["accessed"].as_i64().expect("whole seconds"));
        let record = Record::without_created(accessed, state(case));
        let cookie = case["cookie"].as_str().expect("cookie");
        let format = format(case);
        assert_eq!(format.encode(&record), cookie, "{name}");
        assert_eq!(format.encoded_len(&record), cookie.len(), "{name}");
        // And reads it back to a record it writes as the very same cookie (the same record,
        // except that an escaped dict whose value cannot be its key's tag reads back plain:
        // `{" di": {" t__": 1}}` is the dict `{" t": 1}`, see `flask::tagged`).
        let decoded = format.decode(cookie).expect(name);
        match decoded.content {
            CookieContent::State(got) => {
                assert_eq!(format.encode(&got), cookie, "{name}");
                if !cookie_holds_escaped_dict(&record.state) {
                    assert_eq!(got, record, "{name}");
                }
            }
            CookieContent::Id(id) => assert_eq!(
                Some(id),
                record.state["_sesi_sid"]
                    .as_str()
                    .and_then(SessionId::from_hex),
                "{name}"
            ),
        }
        compressed += usize::from(case["compressed"] == true);
        checked += 1;
    }
    assert!(checked >= 15, "only {checked} encode vectors");
    assert!(compressed >= 4, "only {compressed} compressed vectors");
}

#[test]
fn every_value_flask_signed_reads_back_and_every_bad_one_is_refused_by_name() {
    let vectors = vectors();
    let mut checked = 0;
    for case in vectors["decode"].as_array().expect("decode cases") {
        let name = case["name"].as_str().expect("name");
        let cookie = case["cookie"].as_str().expect("cookie");
        let format = format(case);
        if case["valid"] == true {
            let decoded = format
                .decode(cookie)
                .unwrap_or_else(|e| panic!("{name} should open: {e}"));
            let index = case["key_index"].as_u64().expect("key_index");
            assert_eq!(decoded.key_index as u64, index, "{name}");
            match (&decoded.content, case["session_id"].as_str()) {
                (CookieContent::Id(id), Some(hex)) => assert_eq!(id.to_hex(), hex, "{name}"),
                (CookieContent::State(record), None) => {
                    assert_eq!(record.state, state(case), "{name}");
                    assert_eq!(
                        record.accessed,
                        Timestamp::Int(case["accessed"].as_i64().expect("accessed")),
                        "{name}"
                    );
                    assert_eq!(record.created, None, "{name}");
                }
                (content, _) => panic!("{name}: unexpected {content:?}"),
            }
        } else {
            let err = format.decode(cookie).expect_err(name);
            assert_eq!(
                err.kind(),
                case["reason"].as_str().expect("reason"),
                "{name}: {err}"
            );
        }
        checked += 1;
    }
    assert!(checked >= 25, "only {checked} decode vectors");
}

#[test]
fn what_flasks_max_age_refuses_the_engine_refuses_too() {
    // Flask refuses `expired` and `future` at decode (SignatureExpired); sesi's format reports
    // the timestamp and the engine, with Flask's 31-day lifetime as its timeout, refuses them.
    let vectors = vectors();
    let now = vectors["now"].as_f64().expect("now");
    let max_age = vectors["max_age"].as_u64().expect("max_age");
    let mut seen = 0;
    for case in vectors["decode"].as_array().expect("decode cases") {
        let name = case["name"].as_str().expect("name");
        let config = SessionConfig {
            timeout: Some(Duration::from_secs(max_age)),
            ..SessionConfig::default()
        };
        let engine = SessionEngine::new(format(case), config)
            .expect("a valid config")
            .with_clock(Arc::new(ManualClock::new(now)));
        let engine = Arc::new(engine);
        let cookie = case["cookie"].as_str().expect("cookie").to_owned();
        let request = Lifecycle::begin(&engine, Some(cookie));
        let status = request.session().status();
        match name {
            "expired" => assert!(matches!(status, CookieStatus::Expired { .. }), "{status:?}"),
            "future" => assert!(
                matches!(status, CookieStatus::FutureTimestamp { .. }),
                "{status:?}"
            ),
            // A store's id cookie names a session the engine's (empty) store does not hold.
            _ if case["flask"] == "ok" && case["valid"] == true && case["session_id"].is_null() => {
                assert!(
                    matches!(
                        status,
                        CookieStatus::Valid | CookieStatus::ValidOldKey { .. }
                    ),
                    "{name}: {status:?}"
                );
            }
            _ => continue,
        }
        seen += 1;
    }
    assert!(seen >= 5, "only {seen} cases");
}

#[test]
fn a_store_mode_cookie_is_what_flask_reads_as_an_ordinary_session() {
    // The decode case of that name was signed by itsdangerous from the JSON sesi writes, and
    // Flask loaded it ("flask": "ok"); sesi, at the same time, writes the very same value.
    let vectors = vectors();
    let case = vectors["decode"]
        .as_array()
        .expect("decode cases")
        .iter()
        .find(|c| c["name"] == "store-mode session id as sesi writes it (never compressed)")
        .expect("the case");
    assert_eq!(case["flask"], "ok");
    let now = vectors["now"].as_f64().expect("now");
    let format = format(case).with_clock(Arc::new(ManualClock::new(now + 0.75)));
    let id = SessionId::from_hex(case["session_id"].as_str().expect("id")).expect("an id");
    let cookie = format.encode_id(&id);
    assert_eq!(cookie, case["cookie"].as_str().expect("cookie"));
    assert_eq!(format.encoded_id_len(), cookie.len());
}
