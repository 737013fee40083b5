//! The session inspector (`GET /session`) and the pasted-cookie decoder (`POST /session/decode`).
//! Neither page ever shows a whole cookie value: a prefix and the length.

use crate::support::cookie::{decode, tamper};
use crate::support::html::{all_flashes, data_status, notices, text_of};
use crate::support::server::TestServer;

#[tokio::test]
async fn inspector_shows_a_valid_cookie_and_its_decoded_state() {
    let server = TestServer::start().await;
    let visitor = server.visitor();
    visitor.visit().await;
    visitor.visit().await;
    let cookie = visitor.cookie().expect("a cookie");
    let page = visitor.get("/session").await;
    page.expect_status(200);
    assert_eq!(data_status(&page.body), "valid");
    // (1) the Cookie header received, its value shortened: never the whole cookie on a page
    assert_eq!(
        text_of(&page.body, "cookie-header"),
        Some(format!("session={}", shortened(&cookie)))
    );
    assert!(
        !page.body.contains(&cookie),
        "the whole cookie is not on the page"
    );
    // (3) the decoded payload, the state as pretty JSON, dates readable
    let state = text_of(&page.body, "state").expect("the state is shown");
    let state: serde_json::Value = serde_json::from_str(&state).expect("the state is JSON");
    assert_eq!(state["counter"], 2);
    assert!(text_of(&page.body, "created").is_some_and(|d| d.contains(" UTC")));
    assert!(text_of(&page.body, "accessed").is_some_and(|d| d.contains(" UTC")));
    assert!(!page.body.contains("id=\"unverified\""));
    // (4) the size against the 4096-byte budget
    let size: usize = text_of(&page.body, "cookie-size")
        .expect("the size is shown")
        .parse()
        .expect("a number");
    let expected = decode(&cookie);
    assert!(
        size > cookie.len() && size < 4096,
        "size {size} for a {}-char value",
        cookie.len()
    );
    assert_eq!(expected.state["counter"], 2);
    // (5) the Set-Cookie section agrees with the response's real Set-Cookie.
    match page.session_set_cookie() {
        Some(header) => {
            let (pair, attributes) = header.split_once(';').expect("attributes follow");
            let value = pair.strip_prefix("session=").expect("the session cookie");
            assert_eq!(
                text_of(&page.body, "set-cookie"),
                Some(format!(
                    "Set-Cookie: session={};{attributes}",
                    shortened(value)
                ))
            );
            assert!(!page.body.contains(value), "nor the whole new cookie");
            assert_eq!(size, header.len(), "the size is the Set-Cookie's size");
        }
        None => assert!(
            page.body.contains("id=\"set-cookie-none\""),
            "{}",
            page.body
        ),
    }
    // The storage is named.
    let storage = text_of(&page.body, "storage").expect("the storage is named");
    assert!(storage.contains("cookie"), "{storage}");
}

#[tokio::test]
async fn inspector_shows_its_own_set_cookie_when_the_cookie_is_reissued() {
    let server = TestServer::start().await;
    let visitor = server.visitor();
    visitor.visit().await;
    // Reissue happens once the second of the last write has passed (reissue_time 0).
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let page = visitor.get("/session").await;
    let header = page
        .session_set_cookie()
        .expect("a read after a second re-issues the cookie");
    let (pair, attributes) = header.split_once(';').expect("attributes follow");
    let value = pair.strip_prefix("session=").expect("the session cookie");
    assert_eq!(
        text_of(&page.body, "set-cookie"),
        Some(format!(
            "Set-Cookie: session={};{attributes}",
            shortened(value)
        ))
    );
    assert!(header.contains("HttpOnly"));
    assert!(header.contains("Path=/"));
}

#[tokio::test]
async fn inspector_shows_absent_for_a_new_visitor() {
    let server = TestServer::start().await;
    let page = server.visitor().get("/session").await;
    page.expect_status(200);
    assert_eq!(data_status(&page.body), "absent");
    assert!(!page.body.contains("id=\"cookie-header\""));
    assert!(page.body.contains("No Cookie header"));
    assert!(!page.body.contains("id=\"state\""));
    assert!(page.body.contains("id=\"set-cookie-none\""));
    assert!(page.session_set_cookie().is_none());
}

#[tokio::test]
async fn inspector_shows_bad_signature_for_a_tampered_cookie() {
    let server = TestServer::start().await;
    let visitor = server.visitor();
    visitor.visit().await;
    let tampered = tamper(&visitor.cookie().expect("a cookie"));
    let page = server
        .manual()
        .get_with("/session", &[("cookie", &format!("session={tampered}"))])
        .await;
    page.expect_status(200);
    assert_eq!(data_status(&page.body), "bad-signature");
    assert_eq!(
        text_of(&page.body, "cookie-header"),
        Some(format!("session={}", shortened(&tampered)))
    );
}

#[tokio::test]
async fn inspector_does_not_count_or_pop_flashes() {
    let server = TestServer::start().await;
    let visitor = server.visitor();
    visitor.visit().await;
    visitor.visit().await;
    let token = visitor.token().await;
    visitor
        .post_form(
            "/cart/add",
            &[
                ("csrf_token", &token),
                ("product_id", "bakso"),
                ("quantity", "1"),
            ],
        )
        .await
        .expect_status(303);
    let before = visitor.state().await;
    for _ in 0..2 {
        let page = visitor.get("/session").await;
        page.expect_status(200);
        assert!(
            all_flashes(&page.body).is_empty(),
            "the inspector shows no flash"
        );
        // ...but its state shows the queued flash.
        assert!(text_of(&page.body, "state").is_some_and(|s| s.contains("Added to your cart")));
    }
    assert_eq!(visitor.state().await, before);
    let cart = visitor.get("/cart").await;
    assert_eq!(notices(&cart.body), ["Added to your cart: Bakso"]);
    assert_eq!(visitor.visit().await, 3);
}

#[tokio::test]
async fn decode_page_verifies_a_pasted_cookie() {
    let server = TestServer::start().await;
    let visitor = server.visitor();
    for _ in 0..5 {
        visitor.visit().await;
    }
    let cookie = visitor.cookie().expect("a cookie");
    let reader = server.visitor(); // someone else, without that cookie
    let page = reader
        .post_form("/session/decode", &[("cookie", &cookie)])
        .await;
    page.expect_status(200);
    assert_eq!(data_status(&page.body), "valid");
    let state = text_of(&page.body, "state").expect("the state is shown");
    assert!(state.contains("\"counter\": 5"), "{state}");
    assert!(!page.body.contains("id=\"unverified\""));
    // Pasting `session=VALUE` as copied from developer tools works too.
    let page = reader
        .post_form(
            "/session/decode",
            &[("cookie", &format!(" session={cookie}\n"))],
        )
        .await;
    assert_eq!(data_status(&page.body), "valid");
    // Decoding does not adopt the pasted session.
    assert_eq!(reader.visit().await, 1);
}

#[tokio::test]
async fn decode_page_marks_garbage_malformed() {
    let server = TestServer::start().await;
    let visitor = server.visitor();
    for garbage in ["!!!not-a-cookie!!!", "abc", "e30"] {
        let page = visitor
            .post_form("/session/decode", &[("cookie", garbage)])
            .await;
        page.expect_status(200);
        assert_eq!(data_status(&page.body), "malformed", "{garbage}");
        assert!(!page.body.contains("id=\"state\""));
    }
}

#[tokio::test]
async fn decode_page_shows_a_tampered_payload_as_unverified() {
    let server = TestServer::start().await;
    let visitor = server.visitor();
    visitor.visit().await;
    visitor.visit().await;
    let good = visitor.cookie().expect("a cookie");
    // Tamper inside the signature, so the payload still decodes.
    let mut bytes = good.into_bytes();
    bytes[10] = if bytes[10] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(bytes).expect("ASCII");
    let page = visitor
        .post_form("/session/decode", &[("cookie", &tampered)])
        .await;
    page.expect_status(200);
    assert_eq!(data_status(&page.body), "bad-signature");
    assert!(page.body.contains("id=\"unverified\""), "{}", page.body);
    assert!(page.body.contains("UNVERIFIED"));
    let state = text_of(&page.body, "state").expect("the claimed state is shown");
    assert!(state.contains("\"counter\": 2"), "{state}");
}

#[tokio::test]
async fn decode_page_without_a_cookie_shows_absent() {
    let server = TestServer::start().await;
    let page = server.visitor().get("/session/decode").await;
    page.expect_status(200);
    assert_eq!(data_status(&page.body), "absent");
}

#[tokio::test]
async fn inspector_names_the_cookie_format_and_the_keys_it_reserves() {
    let server = TestServer::start().await;
    let visitor = server.visitor();
    visitor.visit().await; // the counter page mints a CSRF token
    let token = visitor.token().await;
    // A cart form queues a flash message (the 303 is not followed, so it stays queued).
    visitor
        .post_form(
            "/cart/add",
            &[
                ("csrf_token", &token),
                ("product_id", "kopi-tubruk"),
                ("quantity", "1"),
            ],
        )
        .await
        .expect_status(303);
    let page = visitor.get("/session").await;
    page.expect_status(200);
    assert_eq!(text_of(&page.body, "format").as_deref(), Some("pyramid"));
    let reserved = crate::support::html::between(&page.body, "<ul id=\"reserved\">", "</ul>")
        .expect("the reserved keys are listed");
    assert!(
        reserved.contains("<code>_csrft_</code> the CSRF token"),
        "{reserved}"
    );
    assert!(
        reserved.contains("<code>_f_</code> flash messages"),
        "{reserved}"
    );
    assert!(
        !reserved.contains("cart"),
        "app data is not reserved: {reserved}"
    );
}

/// What the pages show of a cookie value: its first 12 characters and its length.
fn shortened(value: &str) -> String {
    format!("{}… ({} characters)", &value[..12], value.len())
}

#[tokio::test]
async fn a_cookie_in_the_decode_pages_address_is_not_decoded() {
    let server = TestServer::start().await;
    let visitor = server.visitor();
    visitor.visit().await;
    let cookie = visitor.cookie().expect("a cookie");
    let page = visitor
        .get(&format!("/session/decode?cookie={cookie}"))
        .await;
    page.expect_status(200);
    assert_eq!(data_status(&page.body), "absent", "nothing was decoded");
    assert!(
        crate::support::html::flash_errors(&page.body)
            .iter()
            .any(|e| e.contains("not decoded")),
        "the page says why"
    );
    // The pasted cookie is decoded from the form, and echoed only shortened.
    let page = visitor
        .post_form("/session/decode", &[("cookie", &cookie)])
        .await;
    assert_eq!(data_status(&page.body), "valid");
    assert_eq!(
        text_of(&page.body, "cookie-header"),
        Some(shortened(&cookie))
    );
    assert!(!page.body.contains(&cookie));
}
