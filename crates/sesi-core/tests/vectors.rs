//! Known-answer test against cookies produced by the real Pyramid 2.1 / WebOb 1.8
//! (`tests/data/pyramid-cookies.json`, copied from `../shared/vectors/`).

use serde_json::Value;
use sesi_core::{CookieFormat, HashAlg, PyramidFormat, Record, Secret, Secrets, Timestamp};

fn vectors() -> Vec<Value> {
    let text = include_str!("data/pyramid-cookies.json");
    let file: Value = serde_json::from_str(text).expect("vector file is JSON");
    file["cases"].as_array().expect("cases is a list").clone()
}

fn codec_for(case: &Value) -> PyramidFormat {
    let secret = Secret::new_insecure(case["secret"].as_str().expect("secret")).expect("non-empty");
    let alg: HashAlg = case["hashalg"]
        .as_str()
        .expect("hashalg")
        .parse()
        .expect("known alg");
    PyramidFormat::new(
        &Secrets::new(secret),
        case["salt"].as_str().expect("salt"),
        alg,
    )
}

fn timestamp(v: &Value) -> Timestamp {
    match v.as_i64() {
        Some(i) => Timestamp::Int(i),
        None => Timestamp::Float(v.as_f64().expect("numeric timestamp")),
    }
}

#[test]
fn every_valid_vector_encodes_byte_for_byte_and_decodes_to_the_same_triple() {
    let mut checked = 0;
    for case in vectors().iter().filter(|c| c["valid"] == true) {
        let name = case["name"].as_str().expect("name");
        let codec = codec_for(case);
        let record = Record::new(
            timestamp(&case["accessed"]),
            timestamp(&case["created"]),
            case["state"].as_object().expect("state object").clone(),
        );
        let cookie = case["cookie"].as_str().expect("cookie");
        assert_eq!(codec.encode(&record), cookie, "encoding case {name}");
        let decoded = codec
            .decode(cookie)
            .unwrap_or_else(|e| panic!("case {name} should decode: {e}"));
        assert_eq!(decoded.record(), Some(&record), "decoding case {name}");
        assert_eq!(decoded.key_index, 0);
        checked += 1;
    }
    assert!(checked >= 11, "only {checked} valid vectors found");
}

#[test]
fn every_invalid_vector_is_rejected() {
    let mut checked = 0;
    for case in vectors().iter().filter(|c| c["valid"] == false) {
        let name = case["name"].as_str().expect("name");
        let codec = codec_for(case);
        let cookie = case["cookie"].as_str().expect("cookie");
        assert!(codec.decode(cookie).is_err(), "case {name} was accepted");
        checked += 1;
    }
    assert!(checked >= 8, "only {checked} invalid vectors found");
}

#[test]
fn every_pyramid_issued_vector_is_canonical_base64url() {
    for case in vectors().iter().filter(|c| c["valid"] == true) {
        let cookie = case["cookie"].as_str().expect("cookie");
        assert!(
            cookie
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{cookie}"
        );
    }
}
