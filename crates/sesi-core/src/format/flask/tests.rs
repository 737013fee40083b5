//! Flask format tests. Cookies are signed by hand here with the `hmac` and `sha1` crates and put
//! together in the test (key derivation, timestamp bytes, dots), so that a bug shared by the
//! encoder and the decoder cannot hide; `tests/flask_vectors.rs` checks both against cookies the
//! real Flask made. Rows refer to `docs/security-checklist.md`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use sha1::Sha1;

use super::tagged::{Bytes, HttpDate, Markup, TaggedDict, Tuple, Uuid};
use super::*;
use crate::clock::ManualClock;
use crate::format::MAX_COOKIE_VALUE_LEN;
use crate::secret::Secret;

const SECRET: &str = "rahasia_dapur_123";
const OTHER: &str = "a different secret for the tamper matrix";
const T: u64 = 1_764_000_000;

fn secrets(list: &[&str]) -> Secrets {
    Secrets::from_list(list.iter().map(|s| Secret::new_insecure(*s).expect("text")))
        .expect("at most three fallbacks")
}

fn format() -> FlaskFormat {
    FlaskFormat::new(&secrets(&[SECRET]))
}

fn hmac_sha1(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha1>::new_from_slice(key).expect("any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// `text + "." + base64url(HMAC-SHA1(HMAC-SHA1(secret, salt), text))`.
fn hand_sign(secret: &str, salt: &str, text: &str) -> String {
    let key = hmac_sha1(secret.as_bytes(), salt.as_bytes());
    let sig = hmac_sha1(&key, text.as_bytes());
    format!("{text}.{}", URL_SAFE_NO_PAD.encode(sig))
}

/// A whole cookie: `[.]base64url(body).base64url(ts bytes).signature`.
fn hand_cookie(secret: &str, body: &[u8], compressed: bool, ts: u64) -> String {
    let ts_bytes = ts.to_be_bytes();
    let start = ts_bytes.iter().position(|&b| b != 0).unwrap_or(8);
    let dot = if compressed { "." } else { "" };
    let text = format!(
        "{dot}{}.{}",
        URL_SAFE_NO_PAD.encode(body),
        URL_SAFE_NO_PAD.encode(&ts_bytes[start..])
    );
    hand_sign(secret, DEFAULT_SALT, &text)
}

fn record(state: Value) -> Record {
    let Value::Object(state) = state else {
        panic!("an object")
    };
    Record::without_created(Timestamp::Int(T as i64), state)
}

fn kind(value: &str) -> &'static str {
    match format().decode(value) {
        Ok(_) => "ok",
        Err(err) => err.kind(),
    }
}

#[test]
fn a_hand_signed_cookie_decodes_and_encode_writes_it_back() {
    let cookie = hand_cookie(SECRET, br#"{"a":[1,2.5],"b":"\u00e9"}"#, false, T);
    let decoded = format().decode(&cookie).expect("valid");
    let expected = record(json!({"b": "é", "a": [1, 2.5]}));
    assert_eq!(decoded.record(), Some(&expected));
    assert_eq!(decoded.key_index, 0);
    assert_eq!(format().encode(&expected), cookie);
    assert_eq!(format().encoded_len(&expected), cookie.len());
}

#[test]
fn json_flask_would_compress_is_compressed_and_either_form_reads() {
    let state = json!({"cart": "nasi goreng ".repeat(20)});
    let json = serde_json::to_vec(&state).expect("json");
    let compressed = hand_cookie(SECRET, &zlib::compress(&json), true, T);
    assert_eq!(format().encode(&record(state.clone())), compressed);
    assert!(compressed.starts_with('.'));
    let plain = hand_cookie(SECRET, &json, false, T);
    assert_eq!(
        format().decode(&plain).expect("plain").record(),
        Some(&record(state))
    );
    // Not worth it: `{"s":"aaaaaaaaaaa"}` stays plain (the vectors pin the exact threshold).
    assert!(
        !format()
            .encode(&record(json!({"s": "aaaaaaaaaaa"})))
            .starts_with('.')
    );
}

#[test]
fn any_changed_character_or_a_foreign_key_salt_or_algorithm_is_refused() {
    // Rows 1-4: every character of a valid value changed, then the wrong secret, salt, algorithm.
    let cookie = format().encode(&record(json!({"counter": 1, "list": [1, 2, 3]})));
    for i in 0..cookie.len() {
        for c in ['A', 'B', '.', '-', '='] {
            let mut tampered = cookie.clone().into_bytes();
            if tampered[i] == c as u8 {
                continue;
            }
            tampered[i] = c as u8;
            let tampered = String::from_utf8(tampered).expect("ascii");
            let got = kind(&tampered);
            assert!(
                ["bad_signature", "bad_base64", "bad_structure"].contains(&got),
                "position {i} -> {c}: {got}"
            );
        }
    }
    let text = cookie.rsplit_once('.').expect("dot").0;
    assert_eq!(kind(&hand_sign(OTHER, DEFAULT_SALT, text)), "bad_signature");
    assert_eq!(
        kind(&hand_sign(SECRET, "itsdangerous", text)),
        "bad_signature"
    );
    // itsdangerous's default derivation ("django-concat": SHA-1 of salt + "signer" + secret).
    let concat = <Sha1 as sha1::Digest>::digest(format!("{DEFAULT_SALT}signer{SECRET}"));
    let sig = hmac_sha1(&concat, text.as_bytes());
    assert_eq!(
        kind(&format!("{text}.{}", URL_SAFE_NO_PAD.encode(sig))),
        "bad_signature"
    );
    // HMAC-SHA256 with the same derivation: a 43-character signature.
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(b"k").expect("key");
    mac.update(text.as_bytes());
    let long = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    assert_eq!(kind(&format!("{text}.{long}")), "bad_signature");
}

#[test]
fn every_truncation_is_refused() {
    let cookie = format().encode(&record(json!({"counter": 1})));
    for len in 0..cookie.len() {
        let got = kind(&cookie[..len]);
        assert!(
            ["bad_signature", "bad_base64", "bad_structure"].contains(&got),
            "{len}: {got}"
        );
    }
    assert_eq!(kind(&format!("{cookie}A")), "bad_signature");
}

#[test]
fn values_of_the_wrong_structure_or_size_are_refused_by_name() {
    let body = URL_SAFE_NO_PAD.encode(br#"{"a":1}"#);
    for (value, expected) in [
        (String::new(), "bad_structure"),
        ("abc".to_owned(), "bad_structure"),
        ("abc.def".to_owned(), "bad_structure"),
        (
            hand_sign(SECRET, DEFAULT_SALT, &format!("{body}.x.aSSBAA")),
            "bad_structure",
        ),
        (
            hand_sign(SECRET, DEFAULT_SALT, &format!("..{body}.aSSBAA")),
            "bad_structure",
        ),
        (
            hand_sign(SECRET, DEFAULT_SALT, &format!("{body}=.aSSBAA")),
            "bad_base64",
        ),
        (
            hand_sign(SECRET, DEFAULT_SALT, &format!("{body}.aSSBAA=")),
            "bad_timestamp",
        ),
        (
            hand_sign(SECRET, DEFAULT_SALT, &format!("{body}.AGkkgQA")),
            "bad_timestamp",
        ),
        (
            hand_sign(SECRET, DEFAULT_SALT, &format!("{body}.AQEBAQEBAQEB")),
            "bad_timestamp",
        ),
        (
            hand_sign(SECRET, DEFAULT_SALT, &format!("{body}.AQEBAQEBAQE")),
            "bad_timestamp",
        ),
        ("A".repeat(MAX_COOKIE_VALUE_LEN + 1), "oversized"),
    ] {
        assert_eq!(kind(&value), expected, "{value}");
    }
    // Timestamp 0 is no bytes at all, as itsdangerous writes it.
    let zero = hand_sign(SECRET, DEFAULT_SALT, &format!("{body}."));
    let decoded = format().decode(&zero).expect("valid");
    assert_eq!(decoded.record().expect("state").accessed, Timestamp::Int(0));
    assert_eq!(format().encode(decoded.record().expect("state")), zero);
}

/// The JSON inside a cookie value this format wrote, inflated when compressed.
fn payload_json(cookie: &str) -> String {
    let (compressed, rest) = match cookie.strip_prefix('.') {
        Some(rest) => (true, rest),
        None => (false, cookie),
    };
    let payload = URL_SAFE_NO_PAD
        .decode(rest.split('.').next().expect("a payload"))
        .expect("base64");
    let mut json = Vec::new();
    if compressed {
        zlib::inflate_bounded(&payload, MAX_INFLATED_LEN, &mut json).expect("zlib");
    } else {
        json = payload;
    }
    String::from_utf8(json).expect("ASCII JSON")
}

#[test]
fn a_dict_that_only_looks_tagged_is_escaped_as_flask_escapes_it_and_reads_back_unchanged() {
    // Each state as a handler stored it, and the JSON the real Flask 3.1 writes for the same
    // Python session (`session_json_serializer.dumps(...)`): a one-key dict whose key is a tag
    // name but whose value is no such tag is a dict to Flask, escaped with " di" (`"y"` below
    // holds a tuple, `(1,)` in Python).
    for (state, flask_writes) in [
        (
            json!({"x": {" u": "not-a-uuid"}}),
            r#"{"x":{" di":{" u__":"not-a-uuid"}}}"#,
        ),
        (
            json!({"x": {" t": "abc"}}),
            r#"{"x":{" di":{" t__":"abc"}}}"#,
        ),
        (
            json!({"x": [{" d": 5}], "y": {" t": [1]}}),
            r#"{"x":[{" di":{" d__":5}}],"y":{" t":[1]}}"#,
        ),
        // The session itself is a dict: with one key that is a tag name, it is always escaped.
        (json!({" t": [1, 2]}), r#"{" di":{" t__":[1,2]}}"#),
        (
            json!({" di": {" u": "x"}}),
            r#"{" di":{" di__":{" di":{" u__":"x"}}}}"#,
        ),
    ] {
        let record = record(state.clone());
        let cookie = format().encode(&record);
        assert_eq!(payload_json(&cookie), flask_writes, "{state}");
        assert_eq!(format().encoded_len(&record), cookie.len());
        let back = format().decode(&cookie).expect("reads its own cookie");
        assert_eq!(back.record(), Some(&record), "{state}");
    }
    // A tagged value stays as it is, and an escaped dict whose value would read as the tag stays
    // escaped: unwrapped, it would become that tag.
    for kept in [
        json!({"t": {" t": [1, "a"]}}),
        json!({"d": {" di": {" t__": [1, 2]}}}),
    ] {
        let cookie = format().encode(&record(kept.clone()));
        let back = format().decode(&cookie).expect("reads its own cookie");
        assert_eq!(back.record(), Some(&record(kept.clone())), "{kept}");
    }
    // A session Flask could not read as a dict is refused.
    for json in [&br#"{" t":[1]}"#[..], br#"{" di":5}"#] {
        assert_eq!(kind(&hand_cookie(SECRET, json, false, T)), "bad_tag");
    }
}

#[test]
fn an_authentic_payload_of_the_wrong_content_is_refused_by_name() {
    let deep = format!("{{\"a\":{}{}}}", "[".repeat(130), "]".repeat(130));
    for (json, expected) in [
        (&b"not json"[..], "malformed_payload"),
        (b"\xff\xfe", "malformed_payload"),
        (b"", "malformed_payload"),
        (b"[1,2]", "bad_shape"),
        (b"\"x\"", "bad_shape"),
        (deep.as_bytes(), "too_deep"),
        (br#"{"x":{" t":5}}"#, "bad_tag"),
        (br#"{"x":[[{" b":"abc"}]]}"#, "bad_tag"),
        (br#"{"x":{" b":"AAH/"},"y":{" u":"0123"}}"#, "bad_tag"),
        (br#"{"x":{" m":1}}"#, "bad_tag"),
        (
            br#"{"x":{" d":"Thu, 26 Nov 2025 16:00:00 GMT"}}"#,
            "bad_tag",
        ),
        (br#"{"x":{" di":{" x__":1}}}"#, "bad_tag"),
        (br#"{"x":{" di":{" t__":1," b__":2}}}"#, "bad_tag"),
        (br#"{"x":{" di":{" t__":{" t":1}}}}"#, "bad_tag"),
        (br#"{"_sesi_sid":"0123"}"#, "bad_session_id"),
        (br#"{"_sesi_sid":7}"#, "bad_session_id"),
    ] {
        let cookie = hand_cookie(SECRET, json, false, T);
        assert_eq!(kind(&cookie), expected, "{}", String::from_utf8_lossy(json));
    }
    let ok = br#"{"a":{" t":[{" b":"AAH/"},{" u":"0123456789ABCDEF0123456789abcdef"}]},"b":{" di":{" m__":{" m":"x"}}},"c":{" t":1,"d":2},"e":{"t":5}}"#;
    assert_eq!(kind(&hand_cookie(SECRET, ok, false, T)), "ok");
}

#[test]
fn a_compressed_payload_is_inflated_up_to_the_cap_and_no_further() {
    let at_cap = |extra: usize| {
        let filler = "a".repeat(MAX_INFLATED_LEN - 8 + extra);
        let json = format!("{{\"a\":\"{filler}\"}}");
        hand_cookie(SECRET, &zlib::compress(json.as_bytes()), true, T)
    };
    assert_eq!(kind(&at_cap(0)), "ok");
    assert_eq!(kind(&at_cap(1)), "inflates_too_large");
    let bomb = zlib::compress(&vec![b' '; 50 * 1024 * 1024]);
    assert_eq!(kind(&hand_cookie(SECRET, &bomb, true, T)), "oversized");
    let small_bomb = zlib::compress(&vec![b' '; 2 * 1024 * 1024]);
    assert_eq!(
        kind(&hand_cookie(SECRET, &small_bomb, true, T)),
        "inflates_too_large"
    );
    assert_eq!(
        kind(&hand_cookie(SECRET, b"{}", true, T)),
        "bad_compression"
    );
}

#[test]
fn fallback_keys_verify_and_the_current_key_signs() {
    let rotated = FlaskFormat::new(&secrets(&[OTHER, SECRET]));
    assert_eq!(rotated.key_count(), 2);
    let old = format().encode(&record(json!({"n": 1})));
    assert_eq!(rotated.decode(&old).expect("fallback").key_index, 1);
    let new = rotated.encode(&record(json!({"n": 1})));
    assert_eq!(rotated.decode(&new).expect("current").key_index, 0);
    assert_eq!(kind(&new), "bad_signature");
    assert_eq!(
        FlaskFormat::with_salt(&secrets(&[SECRET]), "other")
            .decode(&old)
            .unwrap_err()
            .kind(),
        "bad_signature"
    );
}

#[test]
fn a_session_id_round_trips_at_a_fixed_length_and_flask_sees_one_key() {
    let clock = Arc::new(ManualClock::new(T as f64 + 0.9));
    let format = format().with_clock(clock);
    for id in [SessionId::generate(), SessionId::from_bytes([0; 16])] {
        let value = format.encode_id(&id);
        assert_eq!(value.len(), format.encoded_id_len(), "never compressed");
        match format.decode(&value).expect("valid").content {
            CookieContent::Id(got) => assert_eq!(got, id),
            CookieContent::State(r) => panic!("expected an id, got {r:?}"),
        }
        let seen = format
            .read_unverified(&value)
            .expect("readable")
            .expect("valid");
        assert_eq!(seen.state[SESSION_ID_KEY], id.to_hex());
        assert_eq!(seen.accessed, Timestamp::Int(T as i64));
    }
    // With another key beside it, `_sesi_sid` is ordinary state.
    let both = record(json!({"_sesi_sid": "0123456789abcdef0123456789abcdef", "n": 1}));
    assert_eq!(
        format.decode(&format.encode(&both)).expect("ok").record(),
        Some(&both)
    );
}

#[test]
fn the_format_reads_unverified_describes_itself_and_hides_its_keys() {
    let cookie = FlaskFormat::new(&secrets(&[OTHER])).encode(&record(json!({"n": 1})));
    let seen = format().read_unverified(&cookie).expect("readable");
    assert_eq!(
        seen.expect("valid but for the key"),
        record(json!({"n": 1}))
    );
    assert_eq!(
        format()
            .read_unverified("x")
            .expect("readable")
            .unwrap_err()
            .kind(),
        "bad_structure"
    );
    let f = format();
    assert_eq!(f.name(), "flask");
    assert!(!f.encrypts() && !f.carries_created());
    assert_eq!(*f.reserved_keys(), ReservedKeys::FLASK);
    assert_eq!(
        ReservedKeys::FLASK.purpose("_permanent"),
        Some("the session's permanence")
    );
    assert_eq!(
        ReservedKeys::FLASK.purpose("_flashes"),
        Some("flash messages")
    );
    assert_eq!(
        ReservedKeys::FLASK.purpose("csrf_token"),
        Some("the CSRF token")
    );
    assert!(!ReservedKeys::FLASK.is_reserved("_flashes_x"));
    assert!(!ReservedKeys::PYRAMID.is_reserved("_permanent"));
    assert_eq!(format!("{f:?}"), "FlaskFormat { keys: 1, .. }");
}

#[test]
fn float_and_negative_times_are_signed_as_itsdangerous_would() {
    let mut r = record(json!({"n": 1}));
    r.accessed = Timestamp::Float(T as f64 + 0.99);
    let decoded = format().decode(&format().encode(&r)).expect("ok");
    assert_eq!(
        decoded.record().expect("state").accessed,
        Timestamp::Int(T as i64)
    );
    r.accessed = Timestamp::Int(-5);
    let decoded = format().decode(&format().encode(&r)).expect("ok");
    assert_eq!(decoded.record().expect("state").accessed, Timestamp::Int(0));
}

#[test]
fn tagged_types_write_what_flask_writes_and_refuse_other_forms() {
    let value = serde_json::to_value(json!({
        "t": Tuple((1, "a")), "b": Bytes(vec![0xfb, 0xff]), "m": Markup("<i>".into()),
        "u": Uuid([0xab; 16]), "d": HttpDate(0), "di": TaggedDict { key: " u".into(), value: 5 },
    }))
    .expect("serializes");
    assert_eq!(
        value,
        json!({"t": {" t": [1, "a"]}, "b": {" b": "+/8="}, "m": {" m": "<i>"},
               "u": {" u": "abababababababababababababababab"},
               "d": {" d": "Thu, 01 Jan 1970 00:00:00 GMT"}, "di": {" di": {" u__": 5}}})
    );
    assert!(
        serde_json::to_value(TaggedDict {
            key: "x".into(),
            value: 1
        })
        .is_err()
    );
    for bad in [
        json!({" b": "+/8"}),
        json!({" b": "+/8=", "x": 1}),
        json!({" t": "x"}),
        json!([1]),
    ] {
        assert!(
            serde_json::from_value::<Bytes>(bad.clone()).is_err(),
            "{bad}"
        );
    }
    assert!(serde_json::from_value::<Uuid>(json!({" u": "12-34"})).is_err());
    assert!(serde_json::from_value::<HttpDate>(json!({" d": "yesterday"})).is_err());
    assert!(serde_json::from_value::<TaggedDict<i64>>(json!({" di": {" z__": 1}})).is_err());
    assert!(serde_json::from_value::<TaggedDict<i64>>(json!({" di": {}})).is_err());
    // A `TaggedDict` whose value is no such tag survives a cookie, which reads it back plain.
    let dict = TaggedDict {
        key: " u".to_owned(),
        value: 5,
    };
    let cookie = format().encode(&record(json!({"di": dict})));
    let read = format().decode(&cookie).expect("its own cookie");
    let state = &read.record().expect("a state").state;
    assert_eq!(state["di"], json!({" u": 5}));
    let back: TaggedDict<i64> = serde_json::from_value(state["di"].clone()).expect("plain form");
    assert_eq!(back, dict);
    // ... but a tagged value is no dict.
    assert!(serde_json::from_value::<TaggedDict<Vec<i64>>>(json!({" t": [1]})).is_err());
    let back: Tuple<Vec<i64>> = serde_json::from_value(json!({" t": [3, 4]})).expect("tuple");
    assert_eq!(back, Tuple(vec![3, 4]));
}

/// Keys that are never a tag name, so a generated object is never read as a tagged value.
fn key() -> impl Strategy<Value = String> {
    any::<String>().prop_map(|k| format!("k{k}"))
}

fn json_tree() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-(1i64 << 49)..(1i64 << 49), 0i32..=15)
            .prop_map(|(m, e)| Value::from(m as f64 / 10f64.powi(e))),
        any::<String>().prop_map(Value::String),
        (any::<i64>(), any::<Vec<u8>>(), any::<[u8; 16]>()).prop_map(|(n, b, u)| {
            json!([
                Tuple((n, "x")),
                Bytes(b),
                Uuid(u),
                Markup("m".into()),
                HttpDate(n % 10_000_000_000)
            ])
        }),
        // Dicts whose only key is a tag name, as this format reads them: escaped when the value
        // would read as the tag, plain when it could not (see `tagged::read`).
        "[a-z]{1,3}".prop_map(|k| json!({" di": {" t__": [k]}})),
        "[a-z]{1,3}".prop_map(|k| json!({" t": {" t": [k]}})),
        "[a-z]{1,3}".prop_map(|k| json!({" u": k})),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

fn any_record() -> impl Strategy<Value = Record> {
    let state = prop::collection::vec((key(), json_tree()), 0..6)
        .prop_map(|pairs| pairs.into_iter().collect::<Map<String, Value>>());
    (0..=1_000_000_000_000i64, state)
        .prop_map(|(ts, state)| Record::without_created(Timestamp::Int(ts), state))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn encode_then_decode_is_the_identity(record in any_record()) {
        let format = format();
        let cookie = format.encode(&record);
        prop_assert_eq!(format.encoded_len(&record), cookie.len());
        if cookie.len() <= MAX_COOKIE_VALUE_LEN {
            let decoded = format.decode(&cookie).expect("its own cookie");
            prop_assert_eq!(decoded.record(), Some(&record));
        } else {
            prop_assert_eq!(kind(&cookie), "oversized");
        }
    }

    #[test]
    fn decoding_arbitrary_text_never_panics(text in "[A-Za-z0-9_.=-]{0,120}") {
        let _ = format().decode(&text);
        let _ = format().read_unverified(&text);
    }
}
