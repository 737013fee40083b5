//! Codec tests. Cookies are built by hand here, with `hmac`, `sha1`/`sha2` and `base64` directly
//! (like the `_serialize` helper in Pyramid's tests), never with the codec, so that a bug shared by
//! the encoder and the decoder cannot hide. Rows refer to `security-checklist.md`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde_json::{Map, Value, json};
use sha1::Sha1;
use sha2::{Sha224, Sha256, Sha384, Sha512};

use super::*;
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

fn codec_with(secret: &str, salt: &str, alg: HashAlg) -> Codec {
    let secret = Secret::new_insecure(secret).expect("non-empty secret");
    Codec::new(&Secrets::new(secret), salt, alg)
}

fn codec() -> Codec {
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

fn decode_err(codec: &Codec, value: &str) -> DecodeError {
    match codec.decode(value) {
        Ok(decoded) => panic!("{value:?} was accepted as {decoded:?}"),
        Err(err) => err,
    }
}

fn assert_bad_signature(codec: &Codec, value: &str, what: &str) {
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
// The independent builder agrees with Pyramid and with the codec.

#[test]
fn hand_built_cookie_is_byte_for_byte_pyramids_vector_a() {
    // Guards the test helper itself: everything below relies on it.
    assert_eq!(hand_sign(PAYLOAD_A), VECTOR_A);
}

#[test]
fn hand_signed_cookie_decodes_to_its_triple_with_the_current_key() {
    let decoded = codec().decode(&hand_sign(PAYLOAD_A)).expect("valid cookie");
    assert_eq!(decoded.key_index, 0);
    assert_eq!(decoded.record.accessed, Timestamp::Int(1_764_000_000));
    assert_eq!(decoded.record.created, Timestamp::Float(1_764_000_000.25));
    assert_eq!(Value::Object(decoded.record.state), json!({"counter": 1}));
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
        assert_eq!(codec.decode(&want).expect("own cookie").record, record);
    }
}

#[test]
fn encode_into_reuses_buffers_and_clears_the_output() {
    let record = codec().decode(VECTOR_A).expect("vector A").record;
    let (mut scratch, mut out) = (vec![0xAA; 7], String::from("stale text"));
    codec().encode_into(&record, &mut scratch, &mut out);
    assert_eq!(out, VECTOR_A);
    codec().encode_into(&record, &mut scratch, &mut out);
    assert_eq!(out, VECTOR_A, "second use must not append");
}

// ---------------------------------------------------------------------------------------------
// Rows 3, 6: tampering.

#[test]
fn every_single_byte_flip_of_the_signed_bytes_is_rejected_as_bad_signature() {
    let codec = codec();
    let bytes = raw_bytes(VECTOR_A);
    for pos in 0..bytes.len() {
        for mask in [0x01u8, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xff] {
            let mut tampered = bytes.clone();
            tampered[pos] ^= mask;
            let value = URL_SAFE_NO_PAD.encode(&tampered);
            assert_bad_signature(&codec, &value, &format!("byte {pos} ^ {mask:#04x}"));
        }
    }
}

#[test]
fn every_single_character_substitution_of_the_value_is_rejected() {
    let codec = codec();
    let cookie = hand_sign(r#"[1764000000, 1764000000.0, {}]"#);
    let mut checked = 0;
    for pos in 0..cookie.len() {
        for &replacement in B64URL {
            if cookie.as_bytes()[pos] == replacement {
                continue;
            }
            let mut tampered = cookie.clone().into_bytes();
            tampered[pos] = replacement;
            let tampered = String::from_utf8(tampered).expect("ascii");
            let err = decode_err(&codec, &tampered);
            // Only the last character can carry trailing bits; elsewhere the change reaches the MAC.
            if is_canonical_b64url(&tampered) {
                assert!(
                    matches!(err, DecodeError::BadSignature),
                    "pos {pos}: {err:?}"
                );
            } else {
                assert_eq!(pos, cookie.len() - 1, "only the last char is non-canonical");
                assert!(matches!(err, DecodeError::Base64(_)), "pos {pos}: {err:?}");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, cookie.len() * 63);
}

#[test]
fn itsdangerous_django_and_rails_transforms_are_rejected() {
    let codec = codec();
    let cookie = VECTOR_A;
    let (tag_text, payload_text) = cookie.split_at(86); // 64 bytes = 85.3 chars: 86 keeps whole
    let first = if cookie.starts_with('A') { "B" } else { "A" };
    let transforms: Vec<(&str, String)> = vec![
        ("upper-case", cookie.to_ascii_uppercase()),
        ("lower-case", cookie.to_ascii_lowercase()),
        ("append a", format!("{cookie}a")),
        ("append aa", format!("{cookie}aa")),
        ("replace first char", format!("{first}{}", &cookie[1..])),
        ("drop last char", cookie[..cookie.len() - 1].to_owned()),
        ("drop last two chars", cookie[..cookie.len() - 2].to_owned()),
        ("drop first char", cookie[1..].to_owned()),
        (
            "rails munge (reverse the payload part)",
            format!(
                "{tag_text}{}",
                payload_text.chars().rev().collect::<String>()
            ),
        ),
        (
            "swap two adjacent chars",
            format!("{}{}{}", &cookie[..10], &cookie[11..12], &cookie[10..11]) + &cookie[12..],
        ),
    ];
    for (name, tampered) in transforms {
        assert_ne!(tampered, cookie, "{name} must change the value");
        let err = decode_err(&codec, &tampered);
        if is_canonical_b64url(&tampered) {
            assert!(matches!(err, DecodeError::BadSignature), "{name}: {err:?}");
        } else {
            assert!(matches!(err, DecodeError::Base64(_)), "{name}: {err:?}");
        }
    }
}

#[test]
fn tag_truncated_or_extended_by_one_byte_is_rejected_as_bad_signature() {
    let codec = codec();
    let tag = hand_tag(HashAlg::Sha512, KEY, PAYLOAD_A.as_bytes());
    let payload = PAYLOAD_A.as_bytes();
    let truncated = [&tag[..63], payload].concat();
    let extended = [&tag[..], &[tag[63]], payload].concat();
    let half_tag = [&tag[..32], payload].concat();
    for (name, bytes) in [
        ("truncated", truncated),
        ("extended", extended),
        ("half tag", half_tag),
    ] {
        assert_bad_signature(&codec, &URL_SAFE_NO_PAD.encode(bytes), name);
    }
}

#[test]
fn tag_text_truncated_or_extended_by_one_character_is_rejected() {
    // The same at the text level: one base64 character less or more in front.
    let codec = codec();
    for tampered in [VECTOR_A[1..].to_owned(), format!("A{VECTOR_A}")] {
        let err = decode_err(&codec, &tampered);
        assert!(
            matches!(err, DecodeError::BadSignature | DecodeError::Base64(_)),
            "{err:?}"
        );
    }
}

#[test]
fn payload_without_a_tag_is_rejected() {
    let codec = codec();
    // Long enough to fill a tag's worth of bytes: the first 64 payload bytes are read as the tag.
    let long = payload_of_len(200);
    assert_bad_signature(&codec, &URL_SAFE_NO_PAD.encode(&long), "payload only");
    // Too short to even hold a tag.
    let err = decode_err(&codec, &URL_SAFE_NO_PAD.encode(PAYLOAD_A));
    assert!(
        matches!(err, DecodeError::TooShort { len: 43, min: 65 }),
        "{err:?}"
    );
}

#[test]
fn mac_comparison_is_full_length_and_never_a_prefix_check() {
    // Row 6 and 8 (review items, kept honest by a test): the MAC is checked over its full length
    // by an XOR fold behind `subtle`'s barrier (`hashalg::tests` flips every bit of a tag).
    let src = include_str!("hashalg.rs");
    assert!(src.contains("tags_equal(&mac.finalize().into_bytes(), tag)"));
    assert!(src.contains("diff.ct_eq(&0).into()"));
    let banned = ["verify_truncated", "tag == ", "== tag"];
    for needle in banned {
        let code: String = src
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(!code.contains(needle), "hashalg.rs uses {needle:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Row 4: wrong secret, salt, hash algorithm.

#[test]
fn cookie_signed_with_another_secret_is_rejected_as_bad_signature() {
    let foreign = hand_sign_with(
        HashAlg::Sha512,
        b"pyramid.session.rahasia_dapur_123x",
        PAYLOAD_A.as_bytes(),
    );
    assert_bad_signature(&codec(), &foreign, "wrong secret");
    let other = codec_with("rahasia_dapur_124", DEFAULT_SALT, HashAlg::Sha512);
    assert_bad_signature(&other, VECTOR_A, "reader has another secret");
}

#[test]
fn cookie_signed_under_another_salt_is_rejected_as_bad_signature() {
    let other_salt = codec_with(SECRET, "myapp.session.", HashAlg::Sha512);
    assert_bad_signature(&other_salt, VECTOR_A, "reader has another salt");
    let no_salt = codec_with(SECRET, "", HashAlg::Sha512);
    assert_bad_signature(&no_salt, VECTOR_A, "reader has no salt");
    // A salt that moves a character between salt and secret gives the same key bytes: this is
    // WebOb's construction (plain concatenation), kept for compatibility.
    let shifted = codec_with("_dapur_123", "pyramid.session.rahasia", HashAlg::Sha512);
    assert!(shifted.decode(VECTOR_A).is_ok());
}

#[test]
fn sha1_cookie_read_as_sha512_is_rejected() {
    let sha512 = codec();
    // Small: 20-byte tag + 42-byte payload is shorter than a SHA-512 tag.
    let small = hand_sign_with(
        HashAlg::Sha1,
        KEY,
        br#"[1764000000, 1764000000.5, {"counter": 2}]"#,
    );
    let err = decode_err(&sha512, &small);
    assert!(
        matches!(err, DecodeError::TooShort { len: 62, min: 65 }),
        "{err:?}"
    );
    // Large enough to be read as tag + payload: the MAC does not match.
    let large = hand_sign_with(HashAlg::Sha1, KEY, payload_of_len(300).as_bytes());
    assert_bad_signature(&sha512, &large, "sha1 cookie as sha512");
    // And the reverse, plus every other pair of algorithms.
    for cookie_alg in HashAlg::ALL {
        let cookie = hand_sign_with(cookie_alg, KEY, payload_of_len(300).as_bytes());
        for reader_alg in HashAlg::ALL {
            let reader = codec_with(SECRET, DEFAULT_SALT, reader_alg);
            let result = reader.decode(&cookie);
            if cookie_alg == reader_alg {
                assert!(result.is_ok(), "{cookie_alg} read as itself: {result:?}");
            } else {
                assert!(
                    matches!(result, Err(DecodeError::BadSignature)),
                    "{cookie_alg} read as {reader_alg}: {result:?}"
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Row 5: decoded sizes around the tag length.

#[test]
fn decoded_lengths_up_to_the_tag_length_are_too_short_and_65_reaches_the_mac() {
    let codec = codec();
    for len in [0usize, 1, 63, 64] {
        let value = URL_SAFE_NO_PAD.encode(vec![b'['; len]);
        let err = decode_err(&codec, &value);
        assert!(
            matches!(err, DecodeError::TooShort { len: l, min: 65 } if l == len),
            "{len} bytes: {err:?}"
        );
        assert_eq!(err.kind(), "too_short");
    }
    let value = URL_SAFE_NO_PAD.encode(vec![b'['; 65]);
    assert_bad_signature(&codec, &value, "65 unsigned bytes");
}

#[test]
fn validly_signed_empty_and_one_byte_payloads_do_not_panic() {
    let codec = codec();
    // 64 bytes: a correct tag over an empty payload is still too short (Pyramid: empty payload).
    let err = decode_err(&codec, &hand_sign(""));
    assert!(
        matches!(err, DecodeError::TooShort { len: 64, .. }),
        "{err:?}"
    );
    // 65 bytes: a correct tag over one byte of JSON.
    let err = decode_err(&codec, &hand_sign("1"));
    assert!(
        matches!(err, DecodeError::BadShape(ShapeError::NotArray)),
        "{err:?}"
    );
    let err = decode_err(&codec, &hand_sign("["));
    assert!(matches!(err, DecodeError::MalformedJson(_)), "{err:?}");
}

// ---------------------------------------------------------------------------------------------
// Row 7: strict base64url.

#[test]
fn non_canonical_base64_is_rejected_with_the_base64_variant() {
    let a = VECTOR_A;
    assert!(
        a.contains('-') && a.contains('_'),
        "vector A exercises both"
    );
    assert_eq!(a.len() % 4, 3, "vector A has two trailing bits");
    let last = a.as_bytes()[a.len() - 1];
    let last_index = B64URL.iter().position(|&b| b == last).expect("alphabet");
    assert_eq!(last_index & 0b11, 0, "canonical: trailing bits are zero");
    let with_trailing_bits = format!(
        "{}{}",
        &a[..a.len() - 1],
        char::from(B64URL[last_index | 0b01])
    );
    let (head, tail) = a.split_at(70);
    let cases: Vec<(&str, String)> = vec![
        ("standard alphabet", a.replace('-', "+").replace('_', "/")),
        ("only + for -", a.replace('-', "+")),
        ("only / for _", a.replace('_', "/")),
        ("= padding", format!("{a}=")),
        ("== padding", format!("{a}==")),
        ("space inside", format!("{head} {tail}")),
        ("leading space", format!(" {a}")),
        ("trailing newline", format!("{a}\n")),
        ("tab inside", format!("{head}\t{tail}")),
        ("CRLF inside", format!("{head}\r\n{tail}")),
        ("bang", format!("{head}!{tail}")),
        ("double quotes", format!("\"{a}\"")),
        ("percent-encoded", format!("{head}%2D{tail}")),
        ("non-ascii", format!("{head}é{tail}")),
        ("fullwidth letter", format!("{head}Ａ{tail}")),
        ("NUL", format!("{head}\0{tail}")),
        ("non-zero trailing bits", with_trailing_bits),
        ("impossible length (4n+1)", format!("{a}AA")),
    ];
    for (name, value) in cases {
        assert_bad_base64(&value, name);
    }
}

#[test]
fn trailing_bits_are_checked_for_both_partial_group_lengths() {
    for (payload, rem) in [(payload_of_len(102), 2usize), (payload_of_len(100), 3)] {
        let cookie = hand_sign(&payload);
        assert_eq!(cookie.len() % 4, rem);
        assert!(codec().decode(&cookie).is_ok());
        let last = cookie.as_bytes()[cookie.len() - 1];
        let index = B64URL.iter().position(|&b| b == last).expect("alphabet");
        let bits = if rem == 2 { 0b1111 } else { 0b11 };
        assert_eq!(index & bits, 0);
        for bit in [1usize, bits & !(bits >> 1)] {
            let tampered = format!(
                "{}{}",
                &cookie[..cookie.len() - 1],
                char::from(B64URL[index | bit])
            );
            assert_bad_base64(&tampered, &format!("rem {rem}, trailing bit {bit}"));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Rows 9, 13: what a good MAC over bad JSON gives, and which check comes first.

#[test]
fn validly_signed_garbage_is_malformed_json_not_bad_signature() {
    let codec = codec();
    let garbage: [&[u8]; 7] = [
        b"not json at all, but signed with the right key",
        b"[1764000000, 1764000000.25, {\"counter\": 1}",
        b"[1764000000, 1764000000.25, {\"counter\": 1}] trailing",
        b"\xff\xfe\x00\x01 invalid utf-8 bytes",
        b"[1764000000, 1764000000.25, {'counter': 1}]",
        b"[1764000000, 1764000000.25, {\"a\": \"\\ud800\"}] lone",
        b"[1764000000 1764000000.25 {}]",
    ];
    for payload in garbage {
        let err = decode_err(&codec, &hand_sign(payload));
        assert!(
            matches!(err, DecodeError::MalformedJson(_)),
            "{:?}: {err:?}",
            String::from_utf8_lossy(payload)
        );
        assert_eq!(err.kind(), "malformed_payload");
        assert_ne!(err.kind(), DecodeError::BadSignature.kind());
    }
}

#[test]
fn invalid_json_under_an_invalid_mac_reports_bad_signature() {
    let codec = codec();
    let payload = b"this is not JSON and the MAC is wrong too, long enough to fill a tag";
    let wrong_key = hand_sign_with(HashAlg::Sha512, b"another key", payload);
    assert_bad_signature(&codec, &wrong_key, "garbage under a foreign MAC");
    let mut bytes = raw_bytes(&hand_sign(payload));
    bytes[0] ^= 1;
    assert_bad_signature(
        &codec,
        &URL_SAFE_NO_PAD.encode(bytes),
        "garbage, flipped tag",
    );
    // Over-deep and over-shaped payloads under a bad MAC are equally just bad signatures.
    let deep = format!("[1, 1.0, {{\"a\": {}}}]", "[".repeat(2_000));
    let forged = hand_sign_with(HashAlg::Sha512, b"another key", deep.as_bytes());
    assert_bad_signature(&codec, &forged, "deep payload, foreign MAC");
}

// ---------------------------------------------------------------------------------------------
// Row 10: the shape of a correctly signed payload.

#[test]
fn wrongly_shaped_payloads_are_bad_shape_with_the_right_reason() {
    let codec = codec();
    let table: &[(&str, ShapeError)] = &[
        (r#"{"accessed": 1764000000}"#, ShapeError::NotArray),
        (r#""[1764000000, 1764000000.25, {}]""#, ShapeError::NotArray),
        ("1764000000", ShapeError::NotArray),
        ("null", ShapeError::NotArray),
        ("[]", ShapeError::WrongLength(0)),
        ("[1764000000]", ShapeError::WrongLength(1)),
        ("[1764000000, 1764000000.25]", ShapeError::WrongLength(2)),
        ("[1764000000, {}]", ShapeError::WrongLength(2)), // created missing
        (
            "[1764000000, 1764000000.25, {}, 4]",
            ShapeError::WrongLength(4),
        ),
        (
            "[1764000000, 1764000000.25, []]",
            ShapeError::StateNotObject,
        ),
        (
            r#"[1764000000, 1764000000.25, "state"]"#,
            ShapeError::StateNotObject,
        ),
        (
            "[1764000000, 1764000000.25, null]",
            ShapeError::StateNotObject,
        ),
        ("[1764000000, 1764000000.25, 7]", ShapeError::StateNotObject),
        (
            r#"["1764000000", 1764000000.25, {}]"#,
            ShapeError::BadAccessed,
        ),
        ("[true, 1764000000.25, {}]", ShapeError::BadAccessed),
        ("[false, 1764000000.25, {}]", ShapeError::BadAccessed),
        ("[null, 1764000000.25, {}]", ShapeError::BadAccessed),
        ("[[1764000000], 1764000000.25, {}]", ShapeError::BadAccessed),
        (
            r#"[1764000000, "1764000000.25", {}]"#,
            ShapeError::BadCreated,
        ),
        ("[1764000000, null, {}]", ShapeError::BadCreated),
        ("[1764000000, {}, {}]", ShapeError::BadCreated),
    ];
    for (payload, want) in table {
        let err = decode_err(&codec, &hand_sign(payload));
        match err {
            DecodeError::BadShape(got) => assert_eq!(got, *want, "{payload}"),
            other => panic!("{payload}: expected BadShape({want:?}), got {other:?}"),
        }
    }
    let err = decode_err(&codec, &hand_sign("[1, 2, 3]"));
    assert_eq!(err.kind(), "bad_shape");
    assert_eq!(
        err.to_string(),
        "signed payload is not [accessed, created, state]: state is not a JSON object"
    );
}

// ---------------------------------------------------------------------------------------------
// Row 11: numbers.

#[test]
fn nan_and_infinity_are_not_json_and_are_rejected_as_malformed() {
    let codec = codec();
    for payload in [
        "[NaN, 1764000000.25, {}]",
        "[1764000000, Infinity, {}]",
        "[1764000000, -Infinity, {}]",
        r#"[1764000000, 1764000000.25, {"n": NaN}]"#,
        r#"[1764000000, 1764000000.25, {"n": 1e400}]"#, // out of f64 range
    ] {
        let err = decode_err(&codec, &hand_sign(payload));
        assert!(
            matches!(err, DecodeError::MalformedJson(_)),
            "{payload}: {err:?}"
        );
    }
}

#[test]
fn negative_and_fractional_timestamps_are_accepted_as_written() {
    let cases: &[(&str, Timestamp, Timestamp)] = &[
        ("[-5, -1.5, {}]", Timestamp::Int(-5), Timestamp::Float(-1.5)),
        (
            "[1764000000, 1764000000.123456, {}]",
            Timestamp::Int(1_764_000_000),
            Timestamp::Float(1_764_000_000.123456),
        ),
        ("[0, 0.0, {}]", Timestamp::Int(0), Timestamp::Float(0.0)),
        (
            "[1000000000000, -1000000000000, {}]",
            Timestamp::Int(1_000_000_000_000),
            Timestamp::Int(-1_000_000_000_000),
        ),
    ];
    for (payload, accessed, created) in cases {
        let cookie = hand_sign(payload);
        let record = codec().decode(&cookie).expect(payload).record;
        assert_eq!(record.accessed, *accessed, "{payload}");
        assert_eq!(record.created, *created, "{payload}");
        assert_eq!(
            codec().encode(&record),
            cookie,
            "{payload} re-encodes as written"
        );
    }
}

#[test]
fn out_of_range_timestamps_are_bad_shape_not_wrapped() {
    let codec = codec();
    let table: &[(&str, ShapeError)] = &[
        ("[1e308, 1764000000.25, {}]", ShapeError::BadAccessed),
        ("[1764000000, 1e308, {}]", ShapeError::BadCreated),
        ("[-1e308, 1764000000.25, {}]", ShapeError::BadAccessed),
        ("[18446744073709551616, 0, {}]", ShapeError::BadAccessed), // u64::MAX + 1
        ("[18446744073709551615, 0, {}]", ShapeError::BadAccessed), // u64::MAX
        ("[9223372036854775807, 0, {}]", ShapeError::BadAccessed),  // i64::MAX
        ("[-9223372036854775808, 0, {}]", ShapeError::BadAccessed), // i64::MIN
        ("[1000000000001, 0, {}]", ShapeError::BadAccessed),        // just past MAX_ABS
        ("[0, 1000000000000.5, {}]", ShapeError::BadCreated),
        ("[0, 18446744073709551616, {}]", ShapeError::BadCreated),
    ];
    for (payload, want) in table {
        match decode_err(&codec, &hand_sign(payload)) {
            DecodeError::BadShape(got) => assert_eq!(got, *want, "{payload}"),
            other => panic!("{payload}: expected BadShape({want:?}), got {other:?}"),
        }
    }
}

#[test]
fn big_numbers_inside_the_state_are_kept_exactly() {
    let payload = r#"[1764000000, 1764000000.0, {"max": 9223372036854775807, "umax": 18446744073709551615, "min": -9223372036854775808, "big": 1e+308}]"#;
    let cookie = hand_sign(payload);
    let record = codec().decode(&cookie).expect("in range").record;
    assert_eq!(record.state["max"].as_i64(), Some(i64::MAX));
    assert_eq!(record.state["umax"].as_u64(), Some(u64::MAX));
    assert_eq!(record.state["min"].as_i64(), Some(i64::MIN));
    assert_eq!(record.state["big"].as_f64(), Some(1e308));
    assert_eq!(codec().encode(&record), cookie);
}

// ---------------------------------------------------------------------------------------------
// Row 12: nesting.

/// `[accessed, created, {"a": [[…]]}]` with `levels` nested arrays inside the state.
fn nested_payload(levels: usize) -> String {
    format!(
        "[1764000000, 1764000000.25, {{\"a\": {}{}}}]",
        "[".repeat(levels),
        "]".repeat(levels)
    )
}

#[test]
fn ten_thousand_levels_of_nesting_is_too_deep_without_overflowing_the_stack() {
    let deep_objects = format!(
        "[1764000000, 1764000000.25, {}1{}]",
        "{\"a\": ".repeat(10_000),
        "}".repeat(10_000)
    );
    let deep_top = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let payloads = [nested_payload(10_000), deep_top, deep_objects];
    // On a 1 MiB stack (half the default): serde_json's 127 levels fit in a debug build, a
    // recursive descent 10 000 levels deep would not.
    let results = std::thread::Builder::new()
        .stack_size(1024 * 1024)
        .spawn(move || {
            let codec = codec();
            payloads
                .iter()
                .map(|p| {
                    // 10 000 levels do not fit in a cookie, so the length cap answers first...
                    let from_cookie = codec.decode(&hand_sign(p)).map(|_| ());
                    // ...and the payload parser, which the cap protects, is checked directly.
                    let from_parser = parse_payload(p.as_bytes()).map(|_| ());
                    (from_cookie, from_parser)
                })
                .collect::<Vec<_>>()
        })
        .expect("spawn")
        .join()
        .expect("no stack overflow and no panic");
    for (from_cookie, from_parser) in results {
        assert!(
            matches!(from_cookie, Err(DecodeError::Oversized { .. })),
            "{from_cookie:?}"
        );
        assert!(
            matches!(from_parser, Err(DecodeError::TooDeep)),
            "{from_parser:?}"
        );
    }
}

#[test]
fn deepest_nesting_that_fits_in_a_cookie_is_too_deep_not_a_crash() {
    let codec = codec();
    // 1 400 levels: a 2 840-byte payload, a 3 872-character cookie.
    let cookie = hand_sign(nested_payload(1_400));
    assert!(cookie.len() <= MAX_COOKIE_VALUE_LEN);
    let err = decode_err(&codec, &cookie);
    assert!(matches!(err, DecodeError::TooDeep), "{err:?}");
    assert_eq!(err.kind(), "too_deep");
    // Unclosed brackets are malformed as well as deep; depth is what is reported.
    let err = decode_err(&codec, &hand_sign("[".repeat(3_000)));
    assert!(matches!(err, DecodeError::TooDeep), "{err:?}");
}

#[test]
fn nesting_up_to_the_depth_limit_decodes_and_one_more_level_is_too_deep() {
    let codec = codec();
    // The outer array and the state object are two of the levels.
    let at_limit = codec
        .decode(&hand_sign(nested_payload(MAX_JSON_DEPTH - 2)))
        .expect("MAX_JSON_DEPTH levels decode");
    assert!(at_limit.record.state["a"].is_array());
    let err = decode_err(&codec, &hand_sign(nested_payload(MAX_JSON_DEPTH - 1)));
    assert!(
        matches!(err, DecodeError::TooDeep),
        "one level more: {err:?}"
    );
}

#[test]
fn brackets_inside_strings_do_not_count_as_nesting() {
    let codec = codec();
    let brackets = "[".repeat(500);
    let payload = format!(r#"[1764000000, 1764000000.25, {{"s": "{brackets}\"{brackets}\\"}}]"#);
    let record = codec
        .decode(&hand_sign(&payload))
        .expect("strings are flat")
        .record;
    assert_eq!(record.state["s"].as_str().map(str::len), Some(1002));
    // And a malformed payload whose brackets are all in strings is malformed, not too deep.
    let bad = format!(r#"[1764000000, 1764000000.25, {{"s": "{brackets}"}}"#);
    let err = decode_err(&codec, &hand_sign(&bad));
    assert!(matches!(err, DecodeError::MalformedJson(_)), "{err:?}");
}

// ---------------------------------------------------------------------------------------------
// Row 15 (codec side): the length cap.

#[test]
fn value_of_4097_characters_is_oversized_without_being_decoded() {
    let codec = codec();
    // '!' is not base64: had it been decoded, the error would be Base64.
    let err = decode_err(&codec, &"!".repeat(4097));
    assert!(
        matches!(err, DecodeError::Oversized { len: 4097 }),
        "{err:?}"
    );
    assert_eq!(err.kind(), "oversized");
    assert_eq!(
        err.to_string(),
        "cookie value is 4097 characters, limit is 4096"
    );
    for len in [8 * 1024, 64 * 1024, 1024 * 1024] {
        let err = decode_err(&codec, &"!".repeat(len));
        assert!(
            matches!(err, DecodeError::Oversized { len: l } if l == len),
            "{err:?}"
        );
    }
    // The cap counts bytes: 2049 two-byte characters are 4098 bytes.
    let err = decode_err(&codec, &"é".repeat(2049));
    assert!(
        matches!(err, DecodeError::Oversized { len: 4098 }),
        "{err:?}"
    );
    // Decode-unverified has the same cap.
    let err = Codec::decode_unverified(&"!".repeat(4097), HashAlg::Sha512).expect_err("cap");
    assert!(
        matches!(err, DecodeError::Oversized { len: 4097 }),
        "{err:?}"
    );
}

#[test]
fn validly_signed_cookie_of_exactly_4096_characters_decodes_and_4098_does_not() {
    let codec = codec();
    // 4096 characters are 3072 bytes: 64 of tag, 3008 of payload.
    let at_limit = hand_sign(payload_of_len(3008));
    assert_eq!(at_limit.len(), MAX_COOKIE_VALUE_LEN);
    let decoded = codec
        .decode(&at_limit)
        .expect("4096 characters are allowed");
    assert_eq!(codec.encode(&decoded.record), at_limit);
    // The next possible length is 4098 (4097 is not a base64 length): refused although well signed.
    let over = hand_sign(payload_of_len(3009));
    assert_eq!(over.len(), 4098);
    let err = decode_err(&codec, &over);
    assert!(
        matches!(err, DecodeError::Oversized { len: 4098 }),
        "{err:?}"
    );
    // Exactly 4096 garbage characters are looked at (and fail as base64, not as oversized).
    assert_bad_base64(&"!".repeat(4096), "4096 garbage characters");
}

// ---------------------------------------------------------------------------------------------
// Row 62: JSON type fidelity.

#[test]
fn integers_stay_integers_floats_stay_floats_and_unicode_escapes_are_read() {
    let payload = r#"[1764000000, 1764000000.0, {"n": 7, "f": 7.0, "neg": -3, "s": "Kopi \u2615 \ud83d\ude00 \u00e9", "ctl": "a\nb\u0001", "nested": {"list": [1, 2.5, null, true]}}]"#;
    let cookie = hand_sign(payload);
    let record = codec().decode(&cookie).expect("valid").record;
    let state = &record.state;
    assert!(state["n"].is_i64() && state["n"].as_i64() == Some(7));
    assert!(state["f"].is_f64() && !state["f"].is_i64());
    assert_eq!(state["neg"].as_i64(), Some(-3));
    assert_eq!(state["s"], "Kopi ☕ 😀 é");
    assert_eq!(state["ctl"], "a\nb\u{1}");
    assert_eq!(state["nested"]["list"][1], 2.5);
    assert_eq!(record.created, Timestamp::Float(1_764_000_000.0));
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
    let record = codec().decode(&cookie).expect("valid").record;
    assert_eq!(record.created, Timestamp::Float(1_764_124_231.533_559_3));
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
    let codec = Codec::new(&secrets, DEFAULT_SALT, HashAlg::Sha512);
    assert_eq!(codec.key_count(), 4);
    for (index, name) in names.iter().enumerate() {
        let key = format!("{DEFAULT_SALT}{name}");
        let cookie = hand_sign_with(HashAlg::Sha512, key.as_bytes(), PAYLOAD_A.as_bytes());
        let decoded = codec.decode(&cookie).expect("verifies");
        assert_eq!(decoded.key_index, index, "{name}");
        let resigned = codec.encode(&decoded.record);
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
    let record = Codec::decode_unverified(&foreign, HashAlg::Sha512).expect("readable");
    assert_eq!(Value::Object(record.state), json!({"counter": 1}));
    let sha1 = hand_sign_with(HashAlg::Sha1, b"k", PAYLOAD_A.as_bytes());
    assert!(Codec::decode_unverified(&sha1, HashAlg::Sha1).is_ok());
    // Read with the wrong tag length, the payload starts mid-tag: malformed.
    assert!(Codec::decode_unverified(&sha1, HashAlg::Sha512).is_err());
    let err = Codec::decode_unverified("not base64!", HashAlg::Sha512).expect_err("bad");
    assert!(matches!(err, DecodeError::Base64(_)));
    let err = Codec::decode_unverified(&URL_SAFE_NO_PAD.encode([0u8; 64]), HashAlg::Sha512)
        .expect_err("short");
    assert!(matches!(err, DecodeError::TooShort { len: 64, min: 65 }));
    let not_triple = hand_sign_with(HashAlg::Sha512, b"k", b"[1, 2]");
    let err = Codec::decode_unverified(&not_triple, HashAlg::Sha512).expect_err("shape");
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
