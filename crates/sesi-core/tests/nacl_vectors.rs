//! Known answers from the real pyramid_nacl_session 1.0 with Pyramid's `JSONSerializer`
//! (`tests/data/pyramid-nacl-cookies.json`, made by `tests/data/make_nacl_vectors.py`): values it
//! encrypted open to the same triple, the invalid ones are refused for the stated reason, and with
//! the nonce fixed on both sides sesi writes the very same value.

use serde_json::Value;
use sesi_core::format::pyramid_nacl::NONCE_LEN;
use sesi_core::{CookieFormat, NaclKey, PyramidNaclFormat, Record, Timestamp};

fn vectors() -> Value {
    serde_json::from_str(include_str!("data/pyramid-nacl-cookies.json"))
        .expect("vector file is JSON")
}

fn key(hex: &Value) -> NaclKey {
    NaclKey::from_hex(hex.as_str().expect("hex key")).expect("a 32-byte key")
}

fn timestamp(v: &Value) -> Timestamp {
    match v.as_i64() {
        Some(i) => Timestamp::Int(i),
        None => Timestamp::Float(v.as_f64().expect("numeric timestamp")),
    }
}

fn record(case: &Value) -> Record {
    Record::new(
        timestamp(&case["accessed"]),
        timestamp(&case["created"]),
        case["state"].as_object().expect("state object").clone(),
    )
}

#[test]
fn every_value_pyramid_nacl_session_encrypted_opens_to_its_triple() {
    let mut checked = 0;
    for case in vectors()["decode"].as_array().expect("decode cases") {
        let name = case["name"].as_str().expect("name");
        let keys = case["keys"].as_array().expect("keys").iter().map(key);
        let format = PyramidNaclFormat::from_keys(keys).expect("keys");
        let cookie = case["cookie"].as_str().expect("cookie");
        if case["valid"] == true {
            let decoded = format
                .decode(cookie)
                .unwrap_or_else(|e| panic!("{name} should open: {e}"));
            assert_eq!(decoded.record(), Some(&record(case)), "{name}");
            let index = case["key_index"].as_u64().unwrap_or(0);
            assert_eq!(decoded.key_index as u64, index, "{name}");
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
    assert!(checked >= 12, "only {checked} decode vectors");
}

#[test]
fn with_the_same_nonce_sesi_writes_exactly_what_pyramid_nacl_session_writes() {
    let mut checked = 0;
    for case in vectors()["encode"].as_array().expect("encode cases") {
        let name = case["name"].as_str().expect("name");
        let nonce_hex = case["nonce"].as_str().expect("nonce");
        let mut nonce = [0u8; NONCE_LEN];
        for (byte, pair) in nonce.iter_mut().zip(nonce_hex.as_bytes().chunks_exact(2)) {
            *byte = u8::from_str_radix(std::str::from_utf8(pair).expect("ascii"), 16).expect("hex");
        }
        let format = PyramidNaclFormat::new(key(&case["key"])).with_fixed_nonce_for_tests(nonce);
        let record = record(case);
        let cookie = case["cookie"].as_str().expect("cookie");
        assert_eq!(format.encode(&record), cookie, "{name}");
        assert_eq!(format.encoded_len(&record), cookie.len(), "{name}");
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} encode vectors");
}
