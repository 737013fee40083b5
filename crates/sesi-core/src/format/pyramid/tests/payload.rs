//! What a good signature over a bad payload gives (checklist rows 9-15): malformed JSON, the
//! triple's shape, numbers, nesting, and the length cap.

use super::*;

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
        let record = whole(codec().decode(&cookie).expect(payload));
        assert_eq!(record.accessed, *accessed, "{payload}");
        assert_eq!(record.created, Some(*created), "{payload}");
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
    let record = whole(codec().decode(&cookie).expect("in range"));
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
                    let from_parser = Record::from_json(p.as_bytes()).map(|_| ());
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
    assert!(whole(at_limit).state["a"].is_array());
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
    let record = whole(
        codec
            .decode(&hand_sign(&payload))
            .expect("strings are flat"),
    );
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
    let err =
        PyramidFormat::decode_unverified(&"!".repeat(4097), HashAlg::Sha512).expect_err("cap");
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
    assert_eq!(codec.encode(&whole(decoded)), at_limit);
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
