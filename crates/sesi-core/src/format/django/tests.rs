//! Django format tests. Values are put together by hand here (the derived key, the HMAC and the
//! layout written out in the test) so that a bug shared by the encoder and the decoder cannot
//! hide; `tests/django_vectors.rs` checks both against values the real Django made.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::*;
use crate::format::MAX_COOKIE_VALUE_LEN;
use crate::format::zlib::compress;
use crate::secret::Secret;

const SECRET: &str = "django-insecure-a-test-key-for-the-django-format-0123";
const OTHER: &str = "django-insecure-another-test-key-for-rotation-456789";
const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn secrets(list: &[&str]) -> Secrets {
    Secrets::from_list(list.iter().map(|s| Secret::new(*s).expect("long enough"))).expect("keys")
}

fn format() -> DjangoFormat {
    DjangoFormat::new(&secrets(&[SECRET]))
}

/// `payload:timestamp:signature` with the signature computed here, from the definition:
/// HMAC-SHA256 keyed with sha256(salt + "signer" + secret), base64url without padding.
fn hand_sign(secret: &str, salt: &str, payload: &str, timestamp: &str) -> String {
    let key = Sha256::digest([salt, "signer", secret].concat().as_bytes());
    let signed = format!("{payload}:{timestamp}");
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("any key length");
    mac.update(signed.as_bytes());
    format!(
        "{signed}:{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

/// A JSON payload signed with the test secret, issued at 1764000000 (`1vNYyu`).
fn signed_json(json: &[u8]) -> String {
    hand_sign(
        SECRET,
        DEFAULT_SALT,
        &URL_SAFE_NO_PAD.encode(json),
        "1vNYyu",
    )
}

/// A compressed JSON payload (`.` + base64 of zlib), signed with the test secret.
fn signed_compressed(json: &[u8]) -> String {
    let payload = format!(".{}", URL_SAFE_NO_PAD.encode(compress(json)));
    hand_sign(SECRET, DEFAULT_SALT, &payload, "1vNYyu")
}

fn record(state: Value) -> Record {
    let Value::Object(state) = state else {
        panic!("a test state is an object")
    };
    Record::without_created(Timestamp::Int(1_764_000_000), state)
}

fn kind(value: &str) -> &'static str {
    match format().decode(value) {
        Ok(decoded) => panic!("{value:?} decoded to {decoded:?}"),
        Err(err) => err.kind(),
    }
}

#[test]
fn a_hand_signed_value_decodes_and_encode_writes_it_exactly() {
    let cookie = signed_json(br#"{"counter":1,"nama":"\u00e9"}"#);
    let expected = record(json!({"counter": 1, "nama": "é"}));
    let decoded = format().decode(&cookie).expect("decodes");
    assert_eq!(decoded.record(), Some(&expected));
    assert_eq!(decoded.key_index, 0);
    assert_eq!(format().encode(&expected), cookie);
    assert_eq!(format().encoded_len(&expected), cookie.len());
}

#[test]
fn a_state_compresses_exactly_when_django_would() {
    let big = record(json!({"cart": "nasi goreng ".repeat(40)}));
    let cookie = format().encode(&big);
    let json = br#"{"cart":""#.iter().copied();
    let json: Vec<u8> = json
        .chain("nasi goreng ".repeat(40).bytes())
        .chain(*b"\"}")
        .collect();
    assert_eq!(cookie, signed_compressed(&json));
    assert_eq!(format().encoded_len(&big), cookie.len());
    assert_eq!(
        format().decode(&cookie).expect("decodes").record(),
        Some(&big)
    );
    // Too small to gain two bytes: written as it is.
    let small = record(json!({"a": 1}));
    assert_eq!(format().encode(&small), signed_json(br#"{"a":1}"#));
}

#[test]
fn a_float_accessed_is_truncated_as_pythons_int_does() {
    let mut float = record(json!({}));
    float.accessed = Timestamp::Float(1_764_000_000.99);
    assert_eq!(format().encode(&float), signed_json(b"{}"));
    assert_eq!(format().encoded_len(&float), signed_json(b"{}").len());
}

#[test]
fn every_single_character_substitution_is_a_bad_signature() {
    let cookie = signed_json(br#"{"counter":1}"#);
    let mut checked = 0;
    for pos in 0..cookie.len() {
        if cookie.as_bytes()[pos] == b':' {
            continue;
        }
        for &replacement in B64URL.iter().chain(b".") {
            if cookie.as_bytes()[pos] == replacement {
                continue;
            }
            let mut tampered = cookie.clone().into_bytes();
            tampered[pos] = replacement;
            let tampered = String::from_utf8(tampered).expect("ascii");
            assert_eq!(kind(&tampered), "bad_signature", "{pos} -> {replacement}");
            checked += 1;
        }
    }
    assert!(checked > 60 * 60, "{checked}");
}

#[test]
fn truncated_extended_or_rearranged_values_are_refused() {
    let cookie = signed_json(br#"{"counter":1}"#);
    for cut in 0..cookie.len() {
        let err = kind(&cookie[..cut]);
        assert!(
            ["bad_signature", "malformed_value"].contains(&err),
            "{cut}: {err}"
        );
    }
    for extended in [
        format!("{cookie}A"),
        format!("{cookie}:"),
        format!(":{cookie}"),
        format!("x{cookie}"),
        format!("{cookie}="),
        format!(" {cookie}"),
        cookie.replacen(':', "::", 1),
    ] {
        assert!(
            ["bad_signature", "malformed_value"].contains(&kind(&extended)),
            "{extended}"
        );
    }
    assert_eq!(kind(""), "malformed_value");
    assert_eq!(kind("::"), "bad_signature");
    assert_eq!(kind(&"A".repeat(MAX_COOKIE_VALUE_LEN + 1)), "oversized");
}

#[test]
fn a_wrong_secret_salt_or_algorithm_is_a_bad_signature() {
    let payload = URL_SAFE_NO_PAD.encode(br#"{"counter":1}"#);
    assert_eq!(
        kind(&hand_sign(OTHER, DEFAULT_SALT, &payload, "1vNYyu")),
        "bad_signature"
    );
    assert_eq!(
        kind(&hand_sign(
            SECRET,
            "django.core.signing",
            &payload,
            "1vNYyu"
        )),
        "bad_signature"
    );
    // Django before 3.1 signed with HMAC-SHA1: a 27-character signature.
    let sha1ish = hand_sign(SECRET, DEFAULT_SALT, &payload, "1vNYyu");
    let (signed, sig) = sha1ish.rsplit_once(':').expect("three parts");
    assert_eq!(kind(&format!("{signed}:{}", &sig[..27])), "bad_signature");
    // The salt is part of the key: with_salt reads what that salt signed.
    let salted = DjangoFormat::with_salt(&secrets(&[SECRET]), "django.core.signing");
    let value = hand_sign(SECRET, "django.core.signing", &payload, "1vNYyu");
    assert_eq!(
        salted.decode(&value).expect("decodes").record(),
        Some(&record(json!({"counter": 1})))
    );
}

#[test]
fn a_fallback_key_verifies_and_the_current_one_signs() {
    let rotated = DjangoFormat::new(&secrets(&[OTHER, SECRET]));
    assert_eq!(rotated.key_count(), 2);
    let old = signed_json(br#"{"counter":1}"#);
    assert_eq!(rotated.decode(&old).expect("decodes").key_index, 1);
    let new = rotated.encode(&record(json!({"counter": 1})));
    assert_eq!(rotated.decode(&new).expect("decodes").key_index, 0);
    assert!(matches!(
        format().decode(&new),
        Err(DecodeError::BadSignature)
    ));
}

#[test]
fn signed_values_of_the_wrong_content_are_refused_by_name() {
    for (json, expected) in [
        (&b"[1,2]"[..], "bad_shape"),
        (b"null", "bad_shape"),
        (b"\"x\"", "bad_shape"),
        (b"", "malformed_payload"),
        (b"{\"a\":", "malformed_payload"),
        (b"{\"a\":NaN}", "malformed_payload"),
        (b"{} {}", "malformed_payload"),
        (b"{\"a\":\"\\ud800\"}", "malformed_payload"),
    ] {
        assert_eq!(kind(&signed_json(json)), expected, "{json:?}");
    }
    // Beyond 64 bits an integer reads as a float (Python keeps it exact).
    let big = format().decode(&signed_json(br#"{"n":18446744073709551616}"#));
    assert_eq!(
        big.expect("decodes").record().expect("state").state["n"],
        json!(1.8446744073709552e19)
    );
    let deep = [&b"{\"a\":"[..], &[b'['; 126], &[b']'; 126], b"}"].concat();
    assert!(
        format().decode(&signed_json(&deep)).is_ok(),
        "127 levels parse"
    );
    let deeper = [&b"{\"a\":"[..], &[b'['; 127], &[b']'; 127], b"}"].concat();
    assert_eq!(kind(&signed_json(&deeper)), "too_deep");
    let payload = URL_SAFE_NO_PAD.encode(b"{}");
    for (ts, expected) in [("0", None), ("-10", None), ("00", Some("bad_timestamp"))] {
        let value = hand_sign(SECRET, DEFAULT_SALT, &payload, ts);
        assert_eq!(
            format().decode(&value).err().map(|e| e.kind()),
            expected,
            "{ts}"
        );
    }
    for ts in ["", "-", "1vNY!u", "zzzzzzzzzzzz"] {
        assert_eq!(
            kind(&hand_sign(SECRET, DEFAULT_SALT, &payload, ts)),
            "bad_timestamp",
            "{ts}"
        );
    }
    for payload in ["eyJhIjoxfQ==", "eyJhIjoxfR", "eyJh+joxfQ", "e"] {
        assert_eq!(
            kind(&hand_sign(SECRET, DEFAULT_SALT, payload, "0")),
            "bad_base64",
            "{payload}"
        );
    }
}

#[test]
fn compressed_payloads_inflate_within_the_cap_and_no_further() {
    let json_of_len = |len: usize| {
        let mut json = br#"{"a":""#.to_vec();
        json.resize(len - 2, b'x');
        json.extend_from_slice(b"\"}");
        json
    };
    let at_cap = signed_compressed(&json_of_len(MAX_INFLATED_LEN));
    assert!(at_cap.len() < MAX_COOKIE_VALUE_LEN);
    assert!(format().decode(&at_cap).is_ok());
    let over = signed_compressed(&json_of_len(MAX_INFLATED_LEN + 1));
    assert_eq!(kind(&over), "inflates_too_large");
    let bomb = signed_compressed(&json_of_len(3_000_000));
    assert_eq!(kind(&bomb), "inflates_too_large");
    let not_zlib = format!(".{}", URL_SAFE_NO_PAD.encode(b"x\x9cnot zlib"));
    let garbage = hand_sign(SECRET, DEFAULT_SALT, &not_zlib, "0");
    assert_eq!(kind(&garbage), "bad_compression");
    let empty = hand_sign(SECRET, DEFAULT_SALT, ".", "0");
    assert_eq!(kind(&empty), "bad_compression");
}

#[test]
fn json_bytes_are_latin_1_as_django_reads_them() {
    let cookie = signed_json(b"{\"k\":\"caf\xe9 \xff\"}");
    let decoded = format().decode(&cookie).expect("decodes");
    assert_eq!(decoded.record(), Some(&record(json!({"k": "café ÿ"}))));
    // sesi writes it back as Django does: ASCII with escapes.
    let again = format().encode(decoded.record().expect("a record"));
    assert_eq!(again, signed_json(br#"{"k":"caf\u00e9 \u00ff"}"#));
}

#[test]
fn a_session_id_round_trips_with_a_fixed_length() {
    let format = format();
    for id in [
        SessionId::generate(),
        SessionId::from_hex(&"0".repeat(32)).expect("hex"),
    ] {
        let value = format.encode_id(&id);
        assert_eq!(value.len(), format.encoded_id_len());
        assert!(!value.starts_with('.'), "never compressed");
        assert_eq!(
            format.decode(&value).expect("decodes").content,
            CookieContent::Id(id)
        );
        let read = DjangoFormat::decode_unverified(&value).expect("readable");
        assert_eq!(read.state[SESSION_ID_KEY], json!(id.to_hex()));
    }
    for bad in [&br#"{"_sesi_sid":"not hex"}"#[..], br#"{"_sesi_sid":1}"#] {
        assert_eq!(kind(&signed_json(bad)), "bad_session_id");
    }
    // Beside other keys it is plain data.
    let with_data = signed_json(br#"{"_sesi_sid":"x","a":1}"#);
    assert!(
        format
            .decode(&with_data)
            .expect("decodes")
            .record()
            .is_some()
    );
}

#[test]
fn the_format_is_readable_unverified_and_never_shows_its_keys() {
    let cookie = hand_sign(
        OTHER,
        DEFAULT_SALT,
        &URL_SAFE_NO_PAD.encode(br#"{"a":1}"#),
        "1vNYyu",
    );
    let read = format()
        .read_unverified(&cookie)
        .expect("a signed format reads");
    assert_eq!(read.expect("readable"), record(json!({"a": 1})));
    assert!(!format().encrypts());
    assert!(!format().carries_created());
    assert_eq!(format().name(), "django");
    let debug = format!("{:?}", DjangoFormat::new(&secrets(&[SECRET, OTHER])));
    assert_eq!(debug, "DjangoFormat { keys: 2, .. }");
    let format = format();
    let keys = format.reserved_keys();
    assert_eq!(keys.expiry, "_session_expiry");
    assert_eq!(keys.purpose("_sesi_f_error"), Some("flash messages"));
    assert_eq!(keys.purpose("_sesi_csrft_"), Some("the CSRF token"));
    assert_eq!(keys.purpose("_csrftoken"), None);
    assert_eq!(keys.purpose("_auth_user_id"), None);
}

#[test]
fn the_secret_is_utf_8_as_djangos_force_bytes_makes_it() {
    let text = "kunci-rahasia-clé-secrète-東京-0123456789";
    let format = DjangoFormat::new(&secrets(&[text]));
    let payload = URL_SAFE_NO_PAD.encode(b"{}");
    let value = hand_sign(text, DEFAULT_SALT, &payload, "1vNYyu");
    assert_eq!(format.encode(&record(json!({}))), value);
    // A byte secret is used as it is.
    let bytes = Secrets::new(Secret::from_bytes(text.as_bytes().to_vec()).expect("long"));
    assert_eq!(
        DjangoFormat::new(&bytes)
            .decode(&value)
            .expect("decodes")
            .key_index,
        0
    );
}

fn any_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        any::<String>().prop_map(Value::String),
        "[a-c ]{0,40}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((any::<String>(), inner), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// `decode(encode(r)) == r`, and `encoded_len` is the length `encode` writes, compressed or
    /// not.
    #[test]
    fn encode_then_decode_is_the_identity(
        pairs in prop::collection::vec(("[a-z_]{1,12}|\\PC{0,8}", any_value()), 0..8),
        accessed in 0i64..=1_000_000_000_000,
    ) {
        let state: Map<String, Value> = pairs.into_iter().collect();
        prop_assume!(!(state.len() == 1 && state.contains_key(SESSION_ID_KEY)));
        let record = Record::without_created(Timestamp::Int(accessed), state);
        let format = format();
        let cookie = format.encode(&record);
        prop_assert_eq!(format.encoded_len(&record), cookie.len());
        prop_assert!(cookie.bytes().all(|b| b.is_ascii_graphic() && !b"\",;\\".contains(&b)));
        prop_assume!(cookie.len() <= MAX_COOKIE_VALUE_LEN);
        let decoded = format.decode(&cookie).expect("its own value decodes");
        prop_assert_eq!(decoded.record(), Some(&record));
        prop_assert_eq!(format.encode(&record), cookie);
    }
}
