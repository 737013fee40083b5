//! pyramid-nacl format tests. Values are sealed by hand here with another implementation of the
//! cipher (RustCrypto's `crypto_secretbox`; the format uses dryoc's) and the layout put together
//! in the test, so that a bug shared by the encoder and the decoder cannot hide;
//! `tests/nacl_vectors.rs` checks both against values PyNaCl made.
//! Rows refer to `docs/security-checklist.md`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use crypto_secretbox::aead::{AeadInPlace, KeyInit};
use crypto_secretbox::{Nonce, XSalsa20Poly1305};
use serde_json::{Map, Value, json};

use super::*;
use crate::format::MAX_COOKIE_VALUE_LEN;
use crate::record::Timestamp;
use crate::secret::{Secret, Secrets};

const KEY_HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const OTHER_HEX: &str = "1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100";
const PAYLOAD_A: &str = r#"[1764000000, 1764000000.25, {"counter": 1}]"#;

fn key(hex: &str) -> NaclKey {
    NaclKey::from_hex(hex).expect("a test key")
}

fn format() -> PyramidNaclFormat {
    PyramidNaclFormat::new(key(KEY_HEX))
}

/// `base64url_nopad(nonce || tag || secretbox(plaintext))`, put together by hand.
fn hand_seal(key_hex: &str, nonce: [u8; NONCE_LEN], plaintext: &[u8]) -> String {
    let secretbox = XSalsa20Poly1305::new(key(key_hex).bytes().into());
    let mut ciphertext = plaintext.to_vec();
    let tag = secretbox
        .encrypt_in_place_detached(Nonce::from_slice(&nonce), b"", &mut ciphertext)
        .expect("encrypts");
    let mut bytes = nonce.to_vec();
    bytes.extend_from_slice(&tag);
    bytes.extend_from_slice(&ciphertext);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn record_a() -> Record {
    let mut state = Map::new();
    state.insert("counter".into(), json!(1));
    Record::new(
        Timestamp::Int(1_764_000_000),
        Timestamp::Float(1_764_000_000.25),
        state,
    )
}

#[test]
fn a_hand_sealed_value_opens_to_its_record_and_reads_as_the_current_key() {
    let value = hand_seal(KEY_HEX, [7; NONCE_LEN], PAYLOAD_A.as_bytes());
    let decoded = format().decode(&value).expect("opens");
    assert_eq!(decoded.record(), Some(&record_a()));
    assert_eq!(decoded.key_index, 0);
}

#[cfg(feature = "test-util")]
#[test]
fn with_a_fixed_nonce_encode_writes_exactly_the_hand_sealed_value() {
    let nonce = [7; NONCE_LEN];
    let format = format().with_fixed_nonce_for_tests(nonce);
    assert_eq!(
        format.encode(&record_a()),
        hand_seal(KEY_HEX, nonce, PAYLOAD_A.as_bytes())
    );
}

#[test]
fn every_value_has_a_fresh_nonce_and_its_exact_length_is_known() {
    let format = format();
    let mut records = vec![record_a()];
    for n in [0, 1, 2, 3, 100, 500] {
        let mut state = Map::new();
        state.insert(
            "blob".into(),
            Value::String("é".repeat(n / 2) + &"x".repeat(n % 7)),
        );
        records.push(Record::new(Timestamp::Int(1), Timestamp::Int(1), state));
    }
    for record in &records {
        let a = format.encode(record);
        let b = format.encode(record);
        assert_ne!(a, b, "two encodings share no nonce");
        assert_eq!(a[..32].len(), 32);
        assert_ne!(a[..32], b[..32], "the nonce leads the value");
        assert_eq!(format.encoded_len(record), a.len());
        assert_eq!(format.decode(&a).expect("opens").record(), Some(record));
    }
}

#[test]
fn a_session_id_round_trips_and_its_length_is_fixed() {
    let format = format();
    let id = SessionId::generate();
    let value = format.encode_id(&id);
    assert_eq!(value.len(), format.encoded_id_len());
    assert!(!value.contains(&id.to_hex()[..8]), "the id is not readable");
    match format.decode(&value).expect("opens").content {
        CookieContent::Id(got) => assert_eq!(got, id),
        CookieContent::State(r) => panic!("expected an id, got {r:?}"),
    }
    let bad_id = hand_seal(KEY_HEX, [1; NONCE_LEN], b"sid:not-hex");
    assert!(matches!(
        format.decode(&bad_id),
        Err(DecodeError::BadSessionId)
    ));
}

#[test]
fn any_changed_bit_or_a_foreign_key_is_a_bad_signature() {
    // Rows 1-4 for an encrypted cookie: the Poly1305 tag covers every ciphertext byte, and the
    // nonce and tag are inputs to it.
    let value = hand_seal(KEY_HEX, [9; NONCE_LEN], PAYLOAD_A.as_bytes());
    let mut bytes = URL_SAFE_NO_PAD.decode(&value).expect("base64");
    for i in 0..bytes.len() {
        for bit in [0x01, 0x80] {
            bytes[i] ^= bit;
            let tampered = URL_SAFE_NO_PAD.encode(&bytes);
            assert!(
                matches!(format().decode(&tampered), Err(DecodeError::BadSignature)),
                "byte {i} bit {bit:#x}"
            );
            bytes[i] ^= bit;
        }
    }
    let foreign = hand_seal(OTHER_HEX, [9; NONCE_LEN], PAYLOAD_A.as_bytes());
    assert!(matches!(
        format().decode(&foreign),
        Err(DecodeError::BadSignature)
    ));
}

#[test]
fn truncated_short_oversized_or_badly_encoded_values_are_refused_by_name() {
    let value = hand_seal(KEY_HEX, [3; NONCE_LEN], PAYLOAD_A.as_bytes());
    let format = format();
    for cut in [1, 2, 5, 20, value.len() - 54] {
        let err = format
            .decode(&value[..value.len() - cut])
            .expect_err("truncated");
        assert!(
            matches!(err, DecodeError::BadSignature | DecodeError::Base64(_)),
            "cut {cut}: {err:?}"
        );
    }
    let header_only = URL_SAFE_NO_PAD.encode([0u8; HEADER_LEN]);
    assert!(matches!(
        format.decode(&header_only),
        Err(DecodeError::TooShort { len: 40, min: 41 })
    ));
    assert!(matches!(
        format.decode(""),
        Err(DecodeError::TooShort { len: 0, .. })
    ));
    for bad in [
        format!("{value}="),
        value.replace('-', "+"),
        format!(" {value}"),
    ] {
        if bad != value {
            assert!(
                matches!(format.decode(&bad), Err(DecodeError::Base64(_))),
                "{bad}"
            );
        }
    }
    let long = "A".repeat(MAX_COOKIE_VALUE_LEN + 1);
    assert!(matches!(
        format.decode(&long),
        Err(DecodeError::Oversized { .. })
    ));
}

#[test]
fn an_authentic_value_of_the_wrong_shape_is_refused_by_name() {
    let format = format();
    for (plaintext, kind) in [
        (&b"not json"[..], "malformed_payload"),
        (b"{\"counter\": 1}", "bad_shape"),
        (b"[1, 2]", "bad_shape"),
        (b"[1764000000, 1764000000.0, []]", "bad_shape"),
        (b"[\"x\", 1, {}]", "bad_shape"),
        (b"\xff\xfe", "malformed_payload"),
    ] {
        let value = hand_seal(KEY_HEX, [5; NONCE_LEN], plaintext);
        let err = format.decode(&value).expect_err("wrong shape");
        assert_eq!(err.kind(), kind, "{plaintext:?}: {err}");
    }
}

#[test]
fn a_fallback_key_opens_old_values_and_the_current_one_seals() {
    let rotated = PyramidNaclFormat::from_keys([key(OTHER_HEX), key(KEY_HEX)]).expect("two keys");
    assert_eq!(rotated.key_count(), 2);
    let old = hand_seal(KEY_HEX, [2; NONCE_LEN], PAYLOAD_A.as_bytes());
    assert_eq!(rotated.decode(&old).expect("opens").key_index, 1);
    let new = rotated.encode(&record_a());
    assert_eq!(rotated.decode(&new).expect("opens").key_index, 0);
    // Sealed with the current key only: the old key alone cannot open it.
    assert!(matches!(
        format().decode(&new),
        Err(DecodeError::BadSignature)
    ));
    let only_new = PyramidNaclFormat::new(key(OTHER_HEX));
    assert_eq!(only_new.decode(&new).expect("opens").key_index, 0);
}

#[test]
fn keys_come_from_secrets_and_their_number_is_bounded() {
    let secrets = Secrets::from_list([
        Secret::new_insecure(KEY_HEX).expect("text"),
        Secret::new_insecure(OTHER_HEX).expect("text"),
    ])
    .expect("two");
    assert_eq!(
        PyramidNaclFormat::from_secrets(&secrets)
            .expect("keys")
            .key_count(),
        2
    );
    let weak = Secrets::new(Secret::new_insecure("rahasia_dapur_123").expect("text"));
    assert_eq!(
        PyramidNaclFormat::from_secrets(&weak).expect_err("not a key"),
        NaclKeyError::WrongLength { len: 17 }
    );
    assert_eq!(
        PyramidNaclFormat::from_keys([]).expect_err("none"),
        NaclKeyError::NoKey
    );
    let five = (0..5).map(|_| key(KEY_HEX));
    assert_eq!(
        PyramidNaclFormat::from_keys(five).expect_err("too many"),
        NaclKeyError::TooManyKeys
    );
    assert_eq!(
        format!("{:?}", format()),
        "PyramidNaclFormat { keys: 1, .. }",
        "Debug shows no key"
    );
}

#[test]
fn the_format_hides_its_content_from_tools_without_a_key() {
    let value = format().encode(&record_a());
    assert!(format().read_unverified(&value).is_none());
    assert!(format().encrypts());
    assert!(
        !crate::format::PyramidFormat::with_defaults(&Secrets::new(
            Secret::new_insecure("x").expect("text")
        ))
        .encrypts()
    );
    assert_eq!(format().name(), "pyramid-nacl");
}
