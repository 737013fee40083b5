//! Pyramid format tests. Cookies are built by hand here, with `hmac`, `sha1`/`sha2` and `base64` directly
//! (like the `_serialize` helper in Pyramid's tests), never with the codec, so that a bug shared by
//! the encoder and the decoder cannot hide. Rows refer to `docs/security-checklist.md`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde_json::{Map, Value, json};
use sha1::Sha1;
use sha2::{Sha224, Sha256, Sha384, Sha512};

mod payload;
mod tamper;

use super::*;
use crate::format::{MAX_COOKIE_VALUE_LEN, MAX_JSON_DEPTH, ShapeError};
use crate::record::Timestamp;
use crate::secret::{Secret, Secrets};

const SECRET: &str = "rahasia_dapur_123";
/// `salt + secret` as WebOb builds the HMAC key (both ASCII here).
const KEY: &[u8] = b"pyramid.session.rahasia_dapur_123";
/// Vector A: `[1764000000, 1764000000.25, {"counter": 1}]` issued by Pyramid 2.1.
const VECTOR_A: &str = "gntrvUqhILfGdygL_J-uCZLHVnxZ1HVjFZd8-5ysvJrGuGJ7A1dbejeoqCCAlF_RAtd8pu4hS79T_eHT3CVfzlsxNzY0MDAwMDAwLCAxNzY0MDAwMDAwLjI1LCB7ImNvdW50ZXIiOiAxfV0";
const PAYLOAD_A: &str = r#"[1764000000, 1764000000.25, {"counter": 1}]"#;
const B64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The HMAC tag of `payload` under `key`, computed without the codec.
fn hand_tag(alg: HashAlg, key: &[u8], payload: &[u8]) -> Vec<u8> {
    macro_rules! tag {
        ($digest:ty) => {{
            let mut mac = Hmac::<$digest>::new_from_slice(key).expect("HMAC takes any key length");
            mac.update(payload);
            mac.finalize().into_bytes().to_vec()
        }};
    }
    match alg {
        HashAlg::Sha1 => tag!(Sha1),
        HashAlg::Sha224 => tag!(Sha224),
        HashAlg::Sha256 => tag!(Sha256),
        HashAlg::Sha384 => tag!(Sha384),
        HashAlg::Sha512 => tag!(Sha512),
    }
}

/// `base64url_nopad(tag || payload)`, built by hand.
fn hand_sign_with(alg: HashAlg, key: &[u8], payload: &[u8]) -> String {
    let mut bytes = hand_tag(alg, key, payload);
    bytes.extend_from_slice(payload);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A cookie for `payload` signed with the test key and HMAC-SHA512.
fn hand_sign(payload: impl AsRef<[u8]>) -> String {
    hand_sign_with(HashAlg::Sha512, KEY, payload.as_ref())
}

fn codec_with(secret: &str, salt: &str, alg: HashAlg) -> PyramidFormat {
    let secret = Secret::new_insecure(secret).expect("non-empty secret");
    PyramidFormat::new(&Secrets::new(secret), salt, alg)
}

fn codec() -> PyramidFormat {
    codec_with(SECRET, DEFAULT_SALT, HashAlg::Sha512)
}

/// The bytes a cookie value carries, decoded by hand.
fn raw_bytes(cookie: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(cookie)
        .expect("test cookies are base64url")
}

/// True when `s` is exactly what a canonical unpadded base64url encoder would write for some bytes.
fn is_canonical_b64url(s: &str) -> bool {
    s.bytes().all(|b| B64URL.contains(&b))
        && URL_SAFE_NO_PAD
            .decode(s)
            .is_ok_and(|bytes| URL_SAFE_NO_PAD.encode(bytes) == s)
}

/// A `[accessed, created, {"pad": "xxx…"}]` payload of exactly `len` bytes.
fn payload_of_len(len: usize) -> String {
    let empty = r#"[1764000000, 1764000000.25, {"pad": ""}]"#;
    let pad = "x".repeat(len.checked_sub(empty.len()).expect("len covers the frame"));
    let payload = format!(r#"[1764000000, 1764000000.25, {{"pad": "{pad}"}}]"#);
    assert_eq!(payload.len(), len);
    payload
}

/// The record a cookie carries, or a panic when it carries a session id.
fn whole(decoded: Decoded) -> Record {
    match decoded.content {
        CookieContent::State(record) => record,
        CookieContent::Id(id) => panic!("expected a whole session, got the id {id}"),
    }
}

fn decode_err(codec: &PyramidFormat, value: &str) -> DecodeError {
    match codec.decode(value) {
        Ok(decoded) => panic!("{value:?} was accepted as {decoded:?}"),
        Err(err) => err,
    }
}

fn assert_bad_signature(codec: &PyramidFormat, value: &str, what: &str) {
    let err = decode_err(codec, value);
    assert!(
        matches!(err, DecodeError::BadSignature),
        "{what}: expected BadSignature, got {err:?}"
    );
}

fn assert_bad_base64(value: &str, what: &str) {
    let err = decode_err(&codec(), value);
    assert!(
        matches!(err, DecodeError::Base64(_)),
        "{what}: expected Base64, got {err:?}"
    );
    assert_eq!(err.kind(), "bad_base64");
}

// ---------------------------------------------------------------------------------------------
// The independent builder agrees with Pyramid and with the format.

#[test]
fn hand_built_cookie_is_byte_for_byte_pyramids_vector_a() {
    // Guards the test helper itself: everything below relies on it.
    assert_eq!(hand_sign(PAYLOAD_A), VECTOR_A);
}

#[test]
fn hand_signed_cookie_decodes_to_its_triple_with_the_current_key() {
    let decoded = codec().decode(&hand_sign(PAYLOAD_A)).expect("valid cookie");
    assert_eq!(decoded.key_index, 0);
    let record = whole(decoded);
    assert_eq!(record.accessed, Timestamp::Int(1_764_000_000));
    assert_eq!(record.created, Some(Timestamp::Float(1_764_000_000.25)));
    assert_eq!(Value::Object(record.state), json!({"counter": 1}));
}

#[test]
fn encoder_matches_the_hand_built_cookie_for_every_hash_algorithm() {
    let mut state = Map::new();
    state.insert("counter".into(), json!(1));
    let record = Record::new(
        Timestamp::Int(1_764_000_000),
        Timestamp::Float(1_764_000_000.25),
        state,
    );
    for alg in HashAlg::ALL {
        let codec = codec_with(SECRET, DEFAULT_SALT, alg);
        let want = hand_sign_with(alg, KEY, PAYLOAD_A.as_bytes());
        assert_eq!(codec.encode(&record), want, "{alg}");
        assert_eq!(codec.encoded_len(&record), want.len(), "{alg}");
        assert_eq!(whole(codec.decode(&want).expect("own cookie")), record);
    }
}

#[test]
fn encode_into_reuses_buffers_and_clears_the_output() {
    let record = whole(codec().decode(VECTOR_A).expect("vector A"));
    let (mut scratch, mut out) = (vec![0xAA; 7], String::from("stale text"));
    codec().encode_into(&record, &mut scratch, &mut out);
    assert_eq!(out, VECTOR_A);
    codec().encode_into(&record, &mut scratch, &mut out);
    assert_eq!(out, VECTOR_A, "second use must not append");
}

// ---------------------------------------------------------------------------------------------
// Row 62: JSON type fidelity.

#[test]
fn integers_stay_integers_floats_stay_floats_and_unicode_escapes_are_read() {
    let payload = r#"[1764000000, 1764000000.0, {"n": 7, "f": 7.0, "neg": -3, "s": "Kopi \u2615 \ud83d\ude00 \u00e9", "ctl": "a\nb\u0001", "nested": {"list": [1, 2.5, null, true]}}]"#;
    let cookie = hand_sign(payload);
    let record = whole(codec().decode(&cookie).expect("valid"));
    let state = &record.state;
    assert!(state["n"].is_i64() && state["n"].as_i64() == Some(7));
    assert!(state["f"].is_f64() && !state["f"].is_i64());
    assert_eq!(state["neg"].as_i64(), Some(-3));
    assert_eq!(state["s"], "Kopi ☕ 😀 é");
    assert_eq!(state["ctl"], "a\nb\u{1}");
    assert_eq!(state["nested"]["list"][1], 2.5);
    assert_eq!(record.created, Some(Timestamp::Float(1_764_000_000.0)));
    // Keys keep their order and the whole payload re-encodes byte for byte.
    let keys: Vec<&str> = state.keys().map(String::as_str).collect();
    assert_eq!(keys, ["n", "f", "neg", "s", "ctl", "nested"]);
    assert_eq!(codec().encode(&record), cookie);
}

/// Regression: serde_json's default (fast, inexact) float parser read this `time.time()` value as
/// 1764124231.533559; the workspace enables its `float_roundtrip` feature.
#[test]
fn pyramid_time_time_created_reencodes_byte_for_byte() {
    let payload = "[1764124231, 1764124231.5335593, {}]";
    let cookie = hand_sign(payload);
    let record = whole(codec().decode(&cookie).expect("valid"));
    assert_eq!(
        record.created,
        Some(Timestamp::Float(1_764_124_231.533_559_3))
    );
    assert_eq!(codec().encode(&record), cookie);
}

// ---------------------------------------------------------------------------------------------
// Rotation at the codec level (rows 33-35 are tested on the engine in session/tests.rs).

#[test]
fn each_fallback_verifies_with_its_index_and_only_the_current_secret_signs() {
    let names = [
        "current secret",
        "fallback one",
        "fallback two",
        "fallback three",
    ];
    let secrets = Secrets::from_list(names.map(|n| Secret::new_insecure(n).expect("non-empty")))
        .expect("three fallbacks are allowed");
    let codec = PyramidFormat::new(&secrets, DEFAULT_SALT, HashAlg::Sha512);
    assert_eq!(codec.key_count(), 4);
    for (index, name) in names.iter().enumerate() {
        let key = format!("{DEFAULT_SALT}{name}");
        let cookie = hand_sign_with(HashAlg::Sha512, key.as_bytes(), PAYLOAD_A.as_bytes());
        let decoded = codec.decode(&cookie).expect("verifies");
        assert_eq!(decoded.key_index, index, "{name}");
        let resigned = codec.encode(&whole(decoded));
        let want = hand_sign_with(
            HashAlg::Sha512,
            format!("{DEFAULT_SALT}current secret").as_bytes(),
            PAYLOAD_A.as_bytes(),
        );
        assert_eq!(resigned, want, "re-signed with the current secret");
    }
}

// ---------------------------------------------------------------------------------------------
// Reading without the key.

#[test]
fn decode_unverified_reads_any_signature_but_still_checks_the_rest() {
    let foreign = hand_sign_with(HashAlg::Sha512, b"unknown key", PAYLOAD_A.as_bytes());
    let record = PyramidFormat::decode_unverified(&foreign, HashAlg::Sha512).expect("readable");
    assert_eq!(Value::Object(record.state), json!({"counter": 1}));
    let sha1 = hand_sign_with(HashAlg::Sha1, b"k", PAYLOAD_A.as_bytes());
    assert!(PyramidFormat::decode_unverified(&sha1, HashAlg::Sha1).is_ok());
    // Read with the wrong tag length, the payload starts mid-tag: malformed.
    assert!(PyramidFormat::decode_unverified(&sha1, HashAlg::Sha512).is_err());
    let err = PyramidFormat::decode_unverified("not base64!", HashAlg::Sha512).expect_err("bad");
    assert!(matches!(err, DecodeError::Base64(_)));
    let err = PyramidFormat::decode_unverified(&URL_SAFE_NO_PAD.encode([0u8; 64]), HashAlg::Sha512)
        .expect_err("short");
    assert!(matches!(err, DecodeError::TooShort { len: 64, min: 65 }));
    let not_triple = hand_sign_with(HashAlg::Sha512, b"k", b"[1, 2]");
    let err = PyramidFormat::decode_unverified(&not_triple, HashAlg::Sha512).expect_err("shape");
    assert!(matches!(
        err,
        DecodeError::BadShape(ShapeError::WrongLength(2))
    ));
}

#[test]
fn base64_len_matches_the_real_encoder_for_every_small_length() {
    for n in 0..300 {
        assert_eq!(
            base64_len(n),
            URL_SAFE_NO_PAD.encode(vec![0u8; n]).len(),
            "{n}"
        );
    }
}

#[test]
fn error_kinds_are_stable_names() {
    let json_err = serde_json::from_str::<Value>("{").expect_err("bad json");
    let b64_err = URL_SAFE_NO_PAD.decode("!").expect_err("bad b64");
    let table = [
        (DecodeError::Oversized { len: 5000 }, "oversized"),
        (DecodeError::Base64(b64_err), "bad_base64"),
        (DecodeError::TooShort { len: 3, min: 65 }, "too_short"),
        (DecodeError::BadSignature, "bad_signature"),
        (DecodeError::MalformedJson(json_err), "malformed_payload"),
        (DecodeError::TooDeep, "too_deep"),
        (DecodeError::BadShape(ShapeError::NotArray), "bad_shape"),
        (DecodeError::BadSessionId, "bad_session_id"),
    ];
    for (err, kind) in table {
        assert_eq!(err.kind(), kind, "{err}");
    }
    let err = DecodeError::TooShort { len: 3, min: 65 };
    assert_eq!(
        err.to_string(),
        "decoded cookie is 3 bytes, shorter than the 65-byte minimum (signature + payload)"
    );
}

// ---------------------------------------------------------------------------------------------
// Session-id cookies (store mode): the same signing, a `sid:` payload.

#[test]
fn id_cookies_are_signed_sid_payloads_of_one_length_and_read_back_as_ids() {
    let id = SessionId::from_bytes([0xab; 16]);
    let cookie = codec().encode_id(&id);
    assert_eq!(
        cookie,
        hand_sign(format!("sid:{}", "ab".repeat(16))),
        "built as by hand"
    );
    assert_eq!(cookie.len(), 134, "the length docs/cookie-format.md gives");
    assert_eq!(codec().encoded_id_len(), cookie.len());
    let decoded = codec().decode(&cookie).expect("verifies");
    assert_eq!(decoded.content, CookieContent::Id(id));
    assert_eq!(decoded.record(), None);
    // Verified by a fallback like any cookie; another secret refuses it.
    let rotated = codec_with("a new current secret", DEFAULT_SALT, HashAlg::Sha512);
    assert!(matches!(
        rotated.decode(&cookie),
        Err(DecodeError::BadSignature)
    ));
    // Not read as a record without the key either.
    assert!(PyramidFormat::decode_unverified(&cookie, HashAlg::Sha512).is_err());
}

#[test]
fn a_signed_sid_payload_that_is_not_32_hex_characters_is_a_bad_shape() {
    for payload in [
        "sid:".to_owned(),
        format!("sid:{}", "g".repeat(32)),
        format!("sid:{}", "a".repeat(31)),
        format!("sid:{}", "a".repeat(33)),
        "sid:\u{e9}".to_owned(),
    ] {
        let err = decode_err(&codec(), &hand_sign(&payload));
        assert!(
            matches!(err, DecodeError::BadSessionId),
            "{payload:?}: {err:?}"
        );
    }
}

#[test]
fn the_format_names_itself_and_reserves_pyramids_keys() {
    assert_eq!(codec().name(), "pyramid");
    assert_eq!(codec().key_count(), 1);
    assert!(
        !format!("{:?}", codec()).contains(SECRET),
        "Debug shows no key material"
    );
    assert!(codec().carries_created());
    assert_eq!(
        *codec().reserved_keys(),
        crate::format::ReservedKeys::PYRAMID
    );
    let read = codec()
        .read_unverified(VECTOR_A)
        .expect("a signed format can be read without the key")
        .expect("vector A");
    assert_eq!(read.state["counter"], 1);
}
