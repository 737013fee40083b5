//! Property tests for the codec (checklist rows 3, 10, 44, 62, 63, 64, 65).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use proptest::prelude::*;
use serde_json::{Map, Value};
use sesi_core::pyjson;
use sesi_core::{
    CookieFormat, DEFAULT_SALT, DecodeError, HashAlg, PyramidFormat, Record, Secret, Secrets,
    Timestamp,
};
use sha2::Sha512;

const SECRET: &str = "rahasia_dapur_123";

fn codec() -> PyramidFormat {
    let secret = Secret::new_insecure(SECRET).expect("non-empty");
    PyramidFormat::new(&Secrets::new(secret), DEFAULT_SALT, HashAlg::Sha512)
}

/// `base64url_nopad(HMAC-SHA512(salt + secret, payload) || payload)`, without the codec.
fn hand_sign(payload: &[u8]) -> String {
    let key = format!("{DEFAULT_SALT}{SECRET}");
    let mut mac = Hmac::<Sha512>::new_from_slice(key.as_bytes()).expect("any key length");
    mac.update(payload);
    let mut bytes = mac.finalize().into_bytes().to_vec();
    bytes.extend_from_slice(payload);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Floats that serde_json's default parser reads back exactly: its exact "fast path" needs the
/// digits written (including a trailing `.0`) to fit in 2^53 and a small decimal exponent, so at
/// most 15 significant digits here. See `any_finite_float_round_trips` for the rest.
fn short_float() -> impl Strategy<Value = f64> {
    (-(1i64 << 49)..(1i64 << 49), 0i32..=15).prop_map(|(m, e)| m as f64 / 10f64.powi(e))
}

/// Strings of arbitrary Unicode, plus some that are mostly astral-plane characters.
fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => any::<String>(),
        1 => "[\\u{10000}-\\u{10FFFF}\\u{0}-\\u{1F}\"\\\\]{0,6}",
    ]
}

fn json_tree(float: BoxedStrategy<f64>) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        float.prop_map(Value::from),
        any_text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((any_text(), inner), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

fn state_with(float: BoxedStrategy<f64>) -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::vec((any_text(), json_tree(float)), 0..6)
        .prop_map(|pairs| pairs.into_iter().collect())
}

/// Timestamps in the accepted range, written as Pyramid writes them (int or float).
fn timestamp() -> impl Strategy<Value = Timestamp> {
    prop_oneof![
        (-1_000_000_000_000i64..=1_000_000_000_000).prop_map(Timestamp::Int),
        (-1_000_000_000_000_000i64..=1_000_000_000_000_000)
            .prop_map(|m| Timestamp::Float(m as f64 / 1000.0)),
    ]
}

fn record_with(float: BoxedStrategy<f64>) -> impl Strategy<Value = Record> {
    (timestamp(), timestamp(), state_with(float)).prop_map(|(a, c, s)| Record::new(a, c, s))
}

fn record() -> impl Strategy<Value = Record> {
    record_with(short_float().boxed())
}

/// Length of the unpadded base64 text of `n` bytes, computed without the crate.
fn base64_len(n: usize) -> usize {
    (4 * n).div_ceil(3)
}

/// Cookies larger than the cap are legitimately refused; keep generated ones under it.
fn fits(codec: &PyramidFormat, record: &Record) -> bool {
    codec.encoded_len(record) <= sesi_core::MAX_COOKIE_VALUE_LEN
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Rows 62, 64: `decode(encode(r)) == r`, and the re-encoding is byte-identical.
    #[test]
    fn encode_then_decode_is_the_identity(record in record()) {
        let codec = codec();
        prop_assume!(fits(&codec, &record));
        let cookie = codec.encode(&record);
        let decoded = codec.decode(&cookie).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(decoded.key_index, 0);
        let decoded = decoded.into_record().expect("a whole session");
        prop_assert_eq!(&decoded, &record);
        // Byte for byte: equality of maps ignores key order and `-0.0 == 0.0`; the re-encoding
        // of what was decoded does not.
        prop_assert_eq!(codec.encode(&decoded), cookie);
    }

    /// Row 62: integers stay integers (never turned into floats) through a round trip.
    #[test]
    fn integers_stay_integers(n in any::<i64>(), f in short_float()) {
        let codec = codec();
        let mut state = Map::new();
        state.insert("n".into(), Value::from(n));
        state.insert("f".into(), Value::from(f));
        let record = Record::new(Timestamp::Int(0), Timestamp::Float(0.5), state);
        let decoded = codec.decode(&codec.encode(&record)).expect("own cookie").into_record().expect("a whole session");
        prop_assert_eq!(decoded.state["n"].as_i64(), Some(n));
        prop_assert!(decoded.state["f"].is_f64());
    }

    /// Rows 44, 65: every emitted value is base64url and exactly `encoded_len` long.
    #[test]
    fn emitted_values_are_base64url_of_the_announced_length(record in record()) {
        let codec = codec();
        let cookie = codec.encode(&record);
        prop_assert!(!cookie.is_empty());
        prop_assert!(
            cookie.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "value outside ^[A-Za-z0-9_-]+$: {}", cookie
        );
        prop_assert_eq!(codec.encoded_len(&record), cookie.len());
        // And the length is that of the hand-built cookie over the same JSON text.
        let mut json = Vec::new();
        record.write_json(&mut json);
        prop_assert_eq!(base64_len(64 + json.len()), cookie.len());
        prop_assert_eq!(hand_sign(&json), cookie);
    }

    /// Row 3: any single bit flipped in the signed bytes of a valid cookie is rejected.
    #[test]
    fn any_single_bit_flip_in_the_signed_bytes_is_rejected(
        record in record(),
        position in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        let codec = codec();
        prop_assume!(fits(&codec, &record));
        let mut bytes = URL_SAFE_NO_PAD.decode(codec.encode(&record)).expect("base64url");
        let i = position.index(bytes.len());
        bytes[i] ^= 1 << bit;
        let result = codec.decode(&URL_SAFE_NO_PAD.encode(&bytes));
        prop_assert!(matches!(result, Err(DecodeError::BadSignature)), "{:?}", result);
    }

    /// Row 3: any single bit flipped in the text of a valid cookie is rejected.
    #[test]
    fn any_single_bit_flip_in_the_cookie_text_is_rejected(
        record in record(),
        position in any::<prop::sample::Index>(),
        bit in 0u8..7,
    ) {
        let codec = codec();
        prop_assume!(fits(&codec, &record));
        let mut text = codec.encode(&record).into_bytes();
        let i = position.index(text.len());
        text[i] ^= 1 << bit;
        let text = String::from_utf8(text).expect("still ASCII");
        let result = codec.decode(&text);
        prop_assert!(
            matches!(result, Err(DecodeError::BadSignature | DecodeError::Base64(_))),
            "{:?}", result
        );
    }

    /// Row 63: decoding arbitrary text never panics, and anything unsigned is refused.
    #[test]
    fn decoding_arbitrary_strings_never_panics(text in any::<String>()) {
        prop_assert!(codec().decode(&text).is_err());
        let _ = PyramidFormat::decode_unverified(&text, HashAlg::Sha512);
    }

    /// Row 63: the same for base64url text (which gets past the alphabet check to the MAC).
    #[test]
    fn decoding_arbitrary_base64url_never_panics(text in "[A-Za-z0-9_-]{0,400}") {
        let result = codec().decode(&text);
        prop_assert!(
            matches!(
                result,
                Err(DecodeError::Base64(_) | DecodeError::TooShort { .. } | DecodeError::BadSignature)
            ),
            "{:?}", result
        );
        let _ = PyramidFormat::decode_unverified(&text, HashAlg::Sha1);
    }

    /// Row 63: arbitrary bytes, made text the way a server would (lossy UTF-8), never panic.
    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let text = String::from_utf8_lossy(&bytes);
        prop_assert!(codec().decode(&text).is_err());
        let _ = PyramidFormat::decode_unverified(&text, HashAlg::Sha512);
    }

    /// Row 10: arbitrary JSON signed with the right key never panics; it decodes exactly when it
    /// is `[number, number, object]`.
    #[test]
    fn validly_signed_arbitrary_json_never_panics(value in json_tree(short_float().boxed())) {
        let mut json = Vec::new();
        pyjson::write_value(&mut json, &value);
        prop_assume!(base64_len(64 + json.len()) <= sesi_core::MAX_COOKIE_VALUE_LEN);
        let result = codec().decode(&hand_sign(&json));
        let is_triple = value.as_array().is_some_and(|items| {
            items.len() == 3
                && items[0].is_number()
                && items[1].is_number()
                && items[2].is_object()
        });
        match result {
            Ok(decoded) => {
                prop_assert!(is_triple);
                let record = decoded.into_record().expect("a JSON payload is a whole session");
                prop_assert_eq!(Value::Object(record.state), value[2].clone());
            }
            Err(DecodeError::BadShape(_)) => {}
            Err(other) => prop_assert!(false, "{:?} for {}", other, value),
        }
    }

    /// Row 10: arbitrary signed bytes never panic and are never a bad signature.
    #[test]
    fn validly_signed_arbitrary_bytes_never_panic(payload in prop::collection::vec(any::<u8>(), 1..400)) {
        let result = codec().decode(&hand_sign(&payload));
        prop_assert!(!matches!(result, Err(DecodeError::BadSignature)), "{:?}", result);
    }

    /// The Python-compatible writer emits ASCII JSON that serde_json parses back to the same value.
    #[test]
    fn json_writer_output_parses_back_to_an_equal_value(value in json_tree(short_float().boxed())) {
        let mut out = Vec::new();
        pyjson::write_value(&mut out, &value);
        prop_assert!(out.is_ascii(), "ensure_ascii: {}", String::from_utf8_lossy(&out));
        let parsed: Value = serde_json::from_slice(&out).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(parsed, value);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Full-range floats (any finite `f64`, as Python's `time.time()` and app data produce them).
    /// Regression: needs serde_json's `float_roundtrip` feature (enabled in the workspace).
    #[test]
    fn any_finite_float_round_trips(
        f in any::<f64>().prop_filter("finite", |f| f.is_finite()),
        created in (-1e12f64..1e12),
    ) {
        let mut out = Vec::new();
        pyjson::write_float(&mut out, f);
        let parsed: f64 = serde_json::from_slice(&out).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(parsed.to_bits(), f.to_bits(), "{}", String::from_utf8_lossy(&out));
        let codec = codec();
        let record = Record::new(Timestamp::Int(0), Timestamp::Float(created), Map::new());
        let cookie = codec.encode(&record);
        let decoded = codec.decode(&cookie).expect("own cookie").into_record().expect("a whole session");
        prop_assert_eq!(codec.encode(&decoded), cookie);
    }
}
