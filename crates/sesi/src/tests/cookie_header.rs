//! Reading the `Cookie` header (rows 14-20) and arbitrary header bytes (rows 16, 44, 63).

use super::*;

// --- Reading the Cookie header (rows 14-20) -----------------------------------------------------

#[tokio::test]
async fn every_cookie_header_field_is_read() {
    let app = app_at(T + 100.0);
    let a = cookie_field(&vector_a());
    let after = [b"session=".as_slice(), vector_a().as_bytes(), b"; b=2"].concat();
    for fields in [
        vec![b"a=1".as_slice(), &a],
        vec![&a, b"b=2".as_slice()],
        vec![b"a=1".as_slice(), &after, b"c=3"],
    ] {
        assert_eq!(
            body_of(&app, "/read", &fields).await,
            "valid new=false counter=1",
            "{fields:?}"
        );
    }
}

#[tokio::test]
async fn duplicate_session_cookies_last_one_wins_in_either_order() {
    let app = app_at(T + 100.0);
    let (a, bad) = (vector_a(), tampered_a());
    let valid_last = format!("session={bad}; session={a}").into_bytes();
    let valid_first = format!("session={a}; session={bad}").into_bytes();
    let (fa, fbad) = (cookie_field(&a), cookie_field(&bad));
    let loaded = "valid new=false counter=1";
    let discarded = "bad-signature new=true counter=0";
    assert_eq!(body_of(&app, "/read", &[&valid_last]).await, loaded);
    assert_eq!(body_of(&app, "/read", &[&valid_first]).await, discarded);
    assert_eq!(body_of(&app, "/read", &[&fbad, &fa]).await, loaded);
    assert_eq!(body_of(&app, "/read", &[&fa, &fbad]).await, discarded);
}

#[tokio::test]
async fn cookie_names_match_exactly_and_case_sensitively() {
    let a = vector_a();
    let app = app_at(T + 100.0);
    for name in [
        "Session",
        "SESSION",
        "sessionx",
        "xsession",
        "session-",
        "__Host-session",
    ] {
        let field = format!("{name}={a}").into_bytes();
        assert_eq!(
            body_of(&app, "/read", &[&field]).await,
            "absent new=true counter=0",
            "{name}"
        );
    }
    // RFC 6265bis 5.6 trims whitespace around the name and the value, as WebOb does.
    let spaced = format!("a=1;  session = {a} ").into_bytes();
    assert_eq!(
        body_of(&app, "/read", &[&spaced]).await,
        "valid new=false counter=1"
    );

    // The prefix of a hardened cookie is matched case-sensitively too.
    let clock = clock_at(T + 100.0);
    let hardened = router(builder(&clock).hardened().build().expect("valid preset"));
    let lower = format!("__host-session={a}").into_bytes();
    let exact = format!("session={a}; __Host-session={a}").into_bytes();
    assert_eq!(
        body_of(&hardened, "/read", &[&lower]).await,
        "absent new=true counter=0"
    );
    assert_eq!(
        body_of(&hardened, "/read", &[&exact]).await,
        "valid new=false counter=1"
    );
}

#[tokio::test]
async fn two_hundred_pairs_or_a_huge_unrelated_cookie_still_find_the_session() {
    let app = app_at(T + 100.0);
    let a = vector_a();
    let mut pairs: Vec<String> = (0..200).map(|i| format!("c{i}=v{i}")).collect();
    pairs.insert(137, format!("session={a}"));
    let many = pairs.join("; ").into_bytes();
    let huge = format!("big={}; session={a}", "x".repeat(64 * 1024)).into_bytes();
    let loaded = "valid new=false counter=1";
    assert_eq!(body_of(&app, "/read", &[&many]).await, loaded);
    assert_eq!(body_of(&app, "/read", &[&huge]).await, loaded);
}

#[tokio::test]
async fn finding_the_cookie_among_a_hundred_thousand_pairs_takes_linear_time() {
    let app = app_at(T + 100.0);
    let mut header = (0..100_000)
        .map(|i| format!("c{i}=v"))
        .collect::<Vec<_>>()
        .join("; ");
    header.push_str(&format!("; session={}", vector_a()));
    let started = Instant::now();
    let body = body_of(&app, "/read", &[header.as_bytes()]).await;
    let elapsed = started.elapsed();
    assert_eq!(body, "valid new=false counter=1");
    // A quadratic scan of 1.3 MB would take minutes; a linear one takes milliseconds.
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
}

#[tokio::test]
async fn control_chars_obs_text_and_invalid_utf8_give_a_fresh_session_or_are_ignored() {
    // NUL, CR, LF and other CTLs cannot even form a header value, so they never reach the layer.
    for ctl in [
        b"session=\0".as_slice(),
        b"session=a\r\nb",
        b"session=\x01",
        b"s=\x7f",
    ] {
        assert!(HeaderValue::from_bytes(ctl).is_err(), "{ctl:?}");
    }
    let app = app_at(T + 100.0);
    let a = vector_a();
    let mut tab_inside = cookie_field(&a);
    tab_inside.insert(20, b'\t');
    for field in [
        b"session=\x80\xff".to_vec(),
        b"session=\xc3\x28".to_vec(),
        [&cookie_field(&a), b"\xff".as_slice()].concat(),
        [b"session=\xe9".as_slice(), a.as_bytes()].concat(),
        tab_inside,
    ] {
        assert_eq!(
            body_of(&app, "/read", &[&field]).await,
            "malformed:bad_base64 new=true counter=0",
            "{field:?}"
        );
    }
    // A neighbouring pair with obs-text does not spoil the session cookie.
    let neighbour = [
        b"a=\xff\xfe; session=".as_slice(),
        a.as_bytes(),
        b"; z=\x80",
    ]
    .concat();
    assert_eq!(
        body_of(&app, "/read", &[&neighbour]).await,
        "valid new=false counter=1"
    );
}

#[tokio::test]
async fn empty_bare_and_quoted_session_values_give_a_fresh_session() {
    let app = app_at(T + 100.0);
    let quoted = format!("session=\"{}\"", vector_a()).into_bytes();
    for (fields, expected) in [
        (vec![], "absent new=true counter=0"),
        (
            vec![b"session=".as_slice()],
            "malformed:too_short new=true counter=0",
        ),
        (vec![b"session".as_slice()], "absent new=true counter=0"),
        (
            vec![b"session; a=1".as_slice()],
            "absent new=true counter=0",
        ),
        (
            vec![quoted.as_slice()],
            "malformed:bad_base64 new=true counter=0",
        ),
    ] {
        assert_eq!(
            body_of(&app, "/read", &fields).await,
            expected,
            "{fields:?}"
        );
    }
}

#[tokio::test]
async fn oversized_values_are_discarded_unread_with_a_fresh_session() {
    let app = app_at(T + 100.0);
    // Valid base64url characters, so only the length check can reject them.
    for len in [4097, 8 * 1024, 64 * 1024, 1024 * 1024] {
        let field = format!("session={}", "A".repeat(len)).into_bytes();
        let response = call(&app, request("/count", &[&field])).await;
        assert_eq!(response.status(), StatusCode::OK, "{len}");
        let status = outcome(&response).status.expect("touched");
        assert_eq!(reason(&status), "malformed:oversized", "{len}");
        assert_eq!(text(response).await, "1", "{len}");
    }
}

// --- Arbitrary input (rows 16, 63, 44) ----------------------------------------------------------

/// Bytes that `HeaderValue` accepts: CTLs (never deliverable) are moved into printable ASCII, but
/// tabs, obs-text and invalid UTF-8 are kept.
fn deliverable(bytes: Vec<u8>) -> Vec<u8> {
    bytes
        .into_iter()
        .map(|b| match b {
            b'\t' => b,
            0..=0x1f => b | 0x40,
            0x7f => b'?',
            _ => b,
        })
        .collect()
}

fn cookie_header_bytes() -> impl Strategy<Value = Vec<u8>> {
    let raw = proptest::collection::vec(any::<u8>(), 0..300);
    prop_oneof![
        raw.clone(),
        raw.clone()
            .prop_map(|b| [b"a=1; session=".as_slice(), &b].concat()),
        (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(at, byte)| {
            let mut a = vector_a().into_bytes();
            let at = at.index(a.len());
            a[at] = byte;
            [b"session=".as_slice(), &a].concat()
        }),
        raw.prop_map(|b| [b"session=".as_slice(), vector_a().as_bytes(), b";", &b].concat()),
    ]
    .prop_map(deliverable)
}

proptest! {
    #[test]
    fn arbitrary_cookie_header_bytes_never_panic_and_answer_200(
        fields in proptest::collection::vec(cookie_header_bytes(), 0..3)
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        let app = app_at(T + 100.0);
        let refs: Vec<&[u8]> = fields.iter().map(Vec::as_slice).collect();
        let response = runtime.block_on(call(&app, request("/count", &refs)));
        prop_assert_eq!(response.status(), StatusCode::OK);
        let value = the_cookie(&response);
        let record = wire::open(SECRET, &value);
        prop_assert!(record.is_some(), "the new cookie verifies independently");
        let body = runtime.block_on(text(response));
        let n: i64 = body.parse().expect("a counter");
        prop_assert!(n == 1 || n == 2, "{}", body);
    }
}
