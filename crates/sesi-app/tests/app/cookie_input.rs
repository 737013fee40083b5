//! Hostile or odd `Cookie` headers against the app (checklist rows 14-20), a session at the cookie
//! budget (row 39) and corrupt signed values (row 61): always a controlled answer, never a 500.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;
use sesi::CookieFormat as _;

use crate::support::cookie::{codec, decode, forge, forge_ahead, tamper};
use crate::support::html::{cart_lines, counter, data_status};
use crate::support::server::{TestServer, settings};

/// The inspector's verdict and the counter page's number for one `Cookie` header value.
async fn verdict(server: &TestServer, cookie: &str) -> String {
    let page = server
        .manual()
        .get_with("/session", &[("cookie", cookie)])
        .await;
    page.expect_status(200);
    data_status(&page.body)
}

async fn counter_with(server: &TestServer, cookie: &str) -> i64 {
    let page = server.manual().get_with("/", &[("cookie", cookie)]).await;
    page.expect_status(200);
    counter(&page.body)
}

/// A visitor who has seen `/` `n` times, and their cookie value.
async fn counted(server: &TestServer, n: usize) -> String {
    let visitor = server.visitor();
    for _ in 0..n {
        visitor.visit().await;
    }
    visitor.cookie().expect("a cookie")
}

/// Sends raw bytes as one HTTP/1.1 request and returns the status code of the answer (or `None`
/// when the server closed the connection without one).
async fn raw_status(server: &TestServer, request: &[u8]) -> Option<u16> {
    use std::io::{Read as _, Write as _};
    let addr = server.base.trim_start_matches("http://").to_owned();
    let request = request.to_vec();
    // Blocking socket work off the runtime thread, which keeps serving.
    let answer = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("set timeout");
        // The server may answer and close before reading everything: ignore write errors.
        let _ = stream.write_all(&request);
        let mut buf = Vec::new();
        let _ = stream.read_to_end(&mut buf);
        buf
    })
    .await
    .expect("socket task");
    let text = String::from_utf8_lossy(&answer);
    text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

#[tokio::test]
async fn missing_empty_or_nameless_cookies_give_a_fresh_session() {
    // Row 14.
    let server = TestServer::start().await;
    for cookie in [
        "session=",
        "session",
        "session=\"quoted\"",
        "other=1",
        "=session",
        ";;;",
    ] {
        assert_eq!(counter_with(&server, cookie).await, 1, "{cookie:?}");
    }
    let page = server.manual().get("/").await;
    page.expect_status(200);
    assert_eq!(counter(&page.body), 1);
    let empty = verdict(&server, "session=").await;
    assert!(["absent", "malformed"].contains(&empty.as_str()), "{empty}");
}

#[tokio::test]
async fn oversized_cookies_are_discarded_or_refused_never_a_500() {
    // Row 15.
    let server = TestServer::start().await;
    for size in [4097, 8 * 1024, 64 * 1024] {
        let cookie = format!("session={}", "A".repeat(size));
        let page = server.manual().get_with("/", &[("cookie", &cookie)]).await;
        assert!(
            [200, 400, 431].contains(&page.status.as_u16()),
            "{size}: {}",
            page.status
        );
        if page.status == 200 {
            assert_eq!(counter(&page.body), 1);
        }
    }
    // 1 MB goes over the server's header limit; whatever happens, the server survives it.
    let mut request = b"GET / HTTP/1.1\r\nhost: x\r\ncookie: session=".to_vec();
    request.extend(std::iter::repeat_n(b'A', 1 << 20));
    request.extend_from_slice(b"\r\nconnection: close\r\n\r\n");
    if let Some(status) = raw_status(&server, &request).await {
        assert!([400, 431].contains(&status), "{status}");
    }
    let good = counted(&server, 1).await;
    assert_eq!(counter_with(&server, &format!("session={good}")).await, 2);
}

#[tokio::test]
async fn control_characters_and_obs_text_in_the_cookie_header_do_no_harm() {
    // Row 16.
    let server = TestServer::start().await;
    let good = counted(&server, 2).await;
    // obs-text and invalid UTF-8 (allowed by HTTP, not by `to_str`).
    for bytes in [
        b"session=\xff\xfe".to_vec(),
        [format!("session={good}").as_bytes(), &b"\x80"[..]].concat(),
        b"a=\xc3\x28; b=\x80".to_vec(),
    ] {
        let mut request = b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncookie: ".to_vec();
        request.extend_from_slice(&bytes);
        request.extend_from_slice(b"\r\n\r\n");
        let status = raw_status(&server, &request).await;
        assert!(
            matches!(status, Some(200 | 400)),
            "{status:?} for {bytes:?}"
        );
    }
    // NUL, a bare CR and DEL inside the header value: refused by the HTTP parser or ignored.
    for bytes in [
        &b"session=ab\x00cd"[..],
        b"session=ab\rcd",
        b"session=ab\x7fcd",
    ] {
        let mut request = b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncookie: ".to_vec();
        request.extend_from_slice(bytes);
        request.extend_from_slice(b"\r\n\r\n");
        let status = raw_status(&server, &request).await;
        assert!(
            matches!(status, None | Some(200 | 400)),
            "{status:?} for {bytes:?}"
        );
    }
    // A tab is legal header whitespace.
    assert_eq!(counter_with(&server, &format!("session={good}\t")).await, 3);
    // The server is still fine.
    assert_eq!(counter_with(&server, &format!("session={good}")).await, 3);
}

#[tokio::test]
async fn every_cookie_header_field_is_read() {
    // Row 17: like an HTTP/2 client that sends one field per cookie.
    let server = TestServer::start().await;
    let good = counted(&server, 2).await;
    let session = format!("session={good}");
    let page = server
        .manual()
        .get_with(
            "/",
            &[("cookie", "a=1"), ("cookie", &session), ("cookie", "b=2")],
        )
        .await;
    page.expect_status(200);
    assert_eq!(counter(&page.body), 3);
}

#[tokio::test]
async fn with_duplicate_cookie_names_the_last_wins() {
    // Row 18.
    let server = TestServer::start().await;
    let good = counted(&server, 4).await;
    let bad = tamper(&good);
    let valid_last = format!("session={bad}; session={good}");
    assert_eq!(verdict(&server, &valid_last).await, "valid");
    assert_eq!(counter_with(&server, &valid_last).await, 5);
    let invalid_last = format!("session={good}; session={bad}");
    assert_eq!(verdict(&server, &invalid_last).await, "bad-signature");
    assert_eq!(counter_with(&server, &invalid_last).await, 1);
}

#[tokio::test]
async fn the_cookie_name_matches_exactly() {
    // Row 19.
    let server = TestServer::start().await;
    let good = counted(&server, 2).await;
    for cookie in [
        format!("Session={good}"),
        format!("SESSION={good}"),
        format!("session_={good}"),
        format!("xsession={good}"),
    ] {
        assert_eq!(verdict(&server, &cookie).await, "absent", "{cookie}");
        assert_eq!(counter_with(&server, &cookie).await, 1, "{cookie}");
    }
}

#[tokio::test]
async fn many_cookies_or_a_huge_unrelated_cookie_still_find_the_session() {
    // Row 20.
    let server = TestServer::start().await;
    let good = counted(&server, 1).await;
    let mut many: Vec<String> = (0..200).map(|i| format!("c{i}=v{i}")).collect();
    many.insert(100, format!("session={good}"));
    let many = many.join("; ");
    let start = Instant::now();
    assert_eq!(counter_with(&server, &many).await, 2);
    let huge = format!("tracking={}; session={good}", "x".repeat(6000));
    assert_eq!(counter_with(&server, &huge).await, 2);
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "parsing stays cheap"
    );
}

/// A signed state that leaves fewer than `room` bytes of the 4096-byte cookie budget, with a known
/// CSRF token.
fn nearly_full_cookie(token: &str, room: usize) -> String {
    let layer = settings().layer().expect("valid settings");
    let engine = layer.engine();
    let budget = sesi::MAX_COOKIE_SIZE;
    let now = sesi::core::Timestamp::Int(1_800_000_000);
    let pad = (2000..3100)
        .rev()
        .find(|&n| {
            let serde_json::Value::Object(state) = json!({"_csrft_": token, "pad": "x".repeat(n)})
            else {
                unreachable!("an object")
            };
            let size = engine.cookie_size(&sesi::core::Record::new(now, now, state));
            size <= budget - 4 && size > budget - room
        })
        .expect("a padding length lands in the window");
    // Ten seconds ahead: the reissue the next second would owe (a Set-Cookie even on a 4xx)
    // cannot fall due while the test runs, so "no Set-Cookie" is not a race with the clock.
    forge_ahead(json!({"_csrft_": token, "pad": "x".repeat(pad)}), 10)
}

#[tokio::test]
async fn a_cart_change_that_would_not_fit_in_the_cookie_is_refused_with_a_4xx() {
    // Row 39: the app checks that the session still fits before committing.
    let server = TestServer::start().await;
    let token = "t".repeat(40);
    let full = nearly_full_cookie(&token, 20);
    let cookie = format!("session={full}");
    let client = server.manual();

    let api = client
        .send(
            Method::POST,
            "/api/cart/items",
            &[("cookie", &cookie), ("x-csrf-token", &token)],
            Some((
                "application/json",
                json!({"product_id": "martabak-manis", "quantity": 1}).to_string(),
            )),
        )
        .await;
    api.expect_status(422);
    assert_eq!(api.error_code(), "session_too_large");
    if let Some(value) = api.session_cookie_value() {
        assert!(decode(&value).state.get("cart").is_none());
    }

    let form = client
        .post_form_with(
            "/cart/add",
            &[
                ("csrf_token", &token),
                ("product_id", "martabak-manis"),
                ("quantity", "1"),
            ],
            &[("cookie", &cookie)],
        )
        .await;
    // Not a 500: the refusal cannot be queued as a flash either, so it is an error page.
    form.expect_status(422);
    assert!(form.content_type().starts_with("text/html"));
    assert!(
        form.body.contains("too large to fit in a cookie"),
        "{}",
        form.body
    );
    if let Some(value) = form.session_cookie_value() {
        assert!(decode(&value).state.get("cart").is_none());
    }
    // The old cookie is still good.
    assert_eq!(verdict(&server, &cookie).await, "valid");
}

#[tokio::test]
async fn counting_or_remembering_a_language_in_a_full_session_is_refused_cleanly() {
    // The counter and the language are the app's other writes: like the cart, they must not
    // end in the library's plain-text 500 when the cookie is full.
    let server = TestServer::start().await;
    let token = "t".repeat(40);
    let full = nearly_full_cookie(&token, 10);
    let cookie = format!("session={full}");
    let client = server.manual();

    let page = client.get_with("/", &[("cookie", &cookie)]).await;
    page.expect_status(422);
    assert!(page.content_type().starts_with("text/html"));
    assert!(page.body.contains("4096"), "{}", page.body);
    assert_eq!(page.session_set_cookie(), None);

    let api = client
        .send(
            Method::POST,
            "/api/counter",
            &[("cookie", &cookie), ("x-csrf-token", &token)],
            None,
        )
        .await;
    api.expect_status(422);
    assert_eq!(api.error_code(), "session_too_large");
    assert_eq!(api.session_set_cookie(), None);

    // A language switch still shows the page in that language; it is just not remembered.
    let page = client
        .get_with("/session?lang=id", &[("cookie", &cookie)])
        .await;
    page.expect_status(200);
    assert!(page.body.contains("<html lang=\"id\">"), "{}", page.body);
    if let Some(value) = page.session_cookie_value() {
        assert!(decode(&value).state.get("lang").is_none());
    }
    assert_eq!(verdict(&server, &cookie).await, "valid");
}

#[tokio::test]
async fn a_corrupt_signed_counter_never_fails_the_page() {
    // Row 61: only the secret's holder can sign these, but the page must survive them.
    let server = TestServer::start().await;
    for (counter_value, expected) in [
        (json!(i64::MAX), i64::MAX),
        (json!(-5), -4),
        (json!(1.5), 1),
        (json!("seven"), 1),
        (json!(null), 1),
        (json!([1, 2]), 1),
        (json!(u64::MAX), 1),
    ] {
        let cookie = format!("session={}", forge(json!({"counter": counter_value})));
        assert_eq!(
            counter_with(&server, &cookie).await,
            expected,
            "counter {counter_value}"
        );
    }
    // A corrupt cart or flash queue or language is survived as well.
    let cookie = format!(
        "session={}",
        forge(json!({"cart": [1, 2], "_f_": 3, "_f_error": {"x": 1}, "lang": 7}))
    );
    let page = server
        .manual()
        .get_with("/cart", &[("cookie", &cookie)])
        .await;
    page.expect_status(200);
    assert!(cart_lines(&page.body).is_empty());
}

/// Signs `state` with `accessed` `ahead` seconds from now (created now).
fn forge_accessed_ahead(state: serde_json::Value, ahead: i64) -> String {
    let serde_json::Value::Object(state) = state else {
        panic!("a session state is a JSON object")
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs() as i64;
    let (accessed, created) = (
        sesi::core::Timestamp::Int(now + ahead),
        sesi::core::Timestamp::Int(now),
    );
    codec().encode(&sesi::core::Record::new(accessed, created, state))
}

#[tokio::test]
async fn a_signed_cookie_accessed_an_hour_in_the_future_is_refused() {
    let server = TestServer::start().await;
    let future = format!(
        "session={}",
        forge_accessed_ahead(json!({"counter": 5}), 3600)
    );
    assert_eq!(verdict(&server, &future).await, "future-timestamp");
    assert_eq!(counter_with(&server, &future).await, 1, "a fresh session");
    // The same cookie within the clock-skew allowance is accepted: the signature is good, only
    // the time was refused.
    let skewed = format!(
        "session={}",
        forge_accessed_ahead(json!({"counter": 5}), 30)
    );
    assert_eq!(verdict(&server, &skewed).await, "valid");
    assert_eq!(counter_with(&server, &skewed).await, 6);
}
