//! Tampering (checklist rows 3-7): flipped bytes, truncated or extended tags, wrong secret, salt or
//! hash algorithm, decoded sizes around the tag length, strict base64url.

use super::*;

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
    let src = include_str!("../hashalg.rs");
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
