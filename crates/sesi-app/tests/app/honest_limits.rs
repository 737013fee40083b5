//! What a signed-cookie session cannot do (checklist rows 58-60), asserted so the docs stay honest:
//! a cookie cannot be revoked, an old cookie rolls the cart back, and concurrent requests lose
//! updates. Prices never come from the cookie.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;

use crate::support::cookie::{decode, forge};
use crate::support::html::{counter, data_status, text_of};
use crate::support::http::{api_lines, lines};
use crate::support::load;
use crate::support::server::{TestServer, settings};

#[tokio::test]
async fn replay_after_reset_is_possible_until_timeout() {
    let _share = load::share().await;
    const TIMEOUT: u64 = 2;
    let mut settings = settings();
    settings.timeout = Some(Duration::from_secs(TIMEOUT));
    let server = TestServer::with_settings(settings).await;
    let visitor = server.visitor();
    visitor.visit().await;
    visitor.visit().await;
    visitor.add("rendang", 2).await;
    // The cookie as an attacker (or a backup) captured it, just before the reset.
    let captured = visitor.cookie().expect("a cookie");
    let captured_at = Instant::now();
    let token = visitor.token().await;
    visitor
        .post_form("/session/reset", &[("csrf_token", &token)])
        .await
        .expect_status(303);
    assert_eq!(visitor.cookie(), None);

    // The server keeps no list of revoked cookies: the captured one still loads in full.
    let replay = server.manual();
    let cookie = format!("session={captured}");
    let page = replay.get_with("/session", &[("cookie", &cookie)]).await;
    assert!(
        captured_at.elapsed() < Duration::from_secs(1),
        "the machine is too slow for this test's timing"
    );
    assert_eq!(data_status(&page.body), "valid");
    let cart = replay.get_with("/api/cart", &[("cookie", &cookie)]).await;
    assert_eq!(api_lines(&cart.json()), lines(&[("rendang", 2)]));
    // Its CSRF token works as well: the replayed session is fully usable.
    let counted = replay
        .send(
            Method::POST,
            "/api/counter",
            &[("cookie", &cookie), ("x-csrf-token", &token)],
            None,
        )
        .await;
    counted.expect_status(200);
    assert_eq!(counted.json()["counter"], 3);

    // Until the idle timeout: then the same cookie is rejected and gives a fresh session.
    let wait = Duration::from_millis(TIMEOUT * 1000 + 100).saturating_sub(captured_at.elapsed());
    tokio::time::sleep(wait).await;
    let page = replay.get_with("/session", &[("cookie", &cookie)]).await;
    assert_eq!(data_status(&page.body), "expired");
    let page = replay.get_with("/", &[("cookie", &cookie)]).await;
    page.expect_status(200);
    assert_eq!(counter(&page.body), 1);
}

#[tokio::test]
async fn restoring_an_old_cookie_rolls_the_cart_back() {
    let server = TestServer::start().await;
    let visitor = server.visitor();
    visitor.add("bakso", 2).await;
    let old = visitor.cookie().expect("a cookie");
    visitor.add("rendang", 1).await;
    visitor.add("bakso", 5).await;
    assert_eq!(visitor.cart().await, lines(&[("bakso", 7), ("rendang", 1)]));

    let restored = server.manual();
    let cart = restored
        .get_with("/api/cart", &[("cookie", &format!("session={old}"))])
        .await;
    cart.expect_status(200);
    assert_eq!(
        api_lines(&cart.json()),
        lines(&[("bakso", 2)]),
        "the old cookie brings the old cart back"
    );
    assert_eq!(cart.json()["total"], 40_000);
}

#[tokio::test]
async fn totals_are_computed_from_product_ids_a_cookie_cannot_set_a_price() {
    let server = TestServer::start().await;
    // Even a validly signed state that claims prices and totals is priced from the catalogue.
    let forged = forge(json!({
        "cart": {"bakso": 2, "caviar": 1},
        "prices": {"bakso": 1},
        "total": 1,
        "price": 1,
    }));
    let visitor = server.manual();
    let cookie = format!("session={forged}");
    let cart = visitor.get_with("/api/cart", &[("cookie", &cookie)]).await;
    cart.expect_status(200);
    let json = cart.json();
    assert_eq!(
        api_lines(&json),
        lines(&[("bakso", 2)]),
        "unknown ids are skipped"
    );
    assert_eq!(json["lines"][0]["price"], 20_000);
    assert_eq!(json["lines"][0]["line_total"], 40_000);
    assert_eq!(json["total"], 40_000);
    let page = visitor.get_with("/cart", &[("cookie", &cookie)]).await;
    assert_eq!(
        text_of(&page.body, "cart-total").as_deref(),
        Some("Rp 40.000")
    );

    // A cart line that is not a quantity does not sneak a price in either: the cart reads empty.
    let forged = forge(json!({"cart": {"bakso": {"quantity": 2, "price": 1}}}));
    let cart = visitor
        .get_with("/api/cart", &[("cookie", &format!("session={forged}"))])
        .await;
    cart.expect_status(200);
    assert_eq!(cart.json()["total"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_last_write_wins() {
    let server = TestServer::start().await;
    let visitor = server.visitor();
    visitor.add("bakso", 1).await;
    let token = visitor.token().await;
    let cookie = format!("session={}", visitor.cookie().expect("a cookie"));

    // Two tabs add different products at the same time, both sending the same cookie.
    let tab = server.manual();
    let add = |product: &'static str| {
        let tab = tab.clone();
        let cookie = cookie.clone();
        let token = token.clone();
        async move {
            tab.send(
                Method::POST,
                "/api/cart/items",
                &[("cookie", &cookie), ("x-csrf-token", &token)],
                Some((
                    "application/json",
                    json!({"product_id": product, "quantity": 1}).to_string(),
                )),
            )
            .await
        }
    };
    let (a, b) = tokio::join!(tokio::spawn(add("rendang")), tokio::spawn(add("es-cendol")));
    let (a, b) = (a.expect("task a"), b.expect("task b"));
    a.expect_status(201);
    b.expect_status(201);

    // Each response is consistent and holds exactly its own addition, not the other's.
    for (reply, own) in [(&a, "rendang"), (&b, "es-cendol")] {
        let want = lines(&[("bakso", 1), (own, 1)]);
        assert_eq!(api_lines(&reply.json()), want);
        let value = reply
            .session_cookie_value()
            .expect("each response sets a cookie");
        let state = decode(&value).state;
        assert_eq!(state["cart"], json!({"bakso": 1, own: 1}));
    }

    // Whichever Set-Cookie the browser keeps last wins: the other addition is lost.
    let last = b.session_cookie_value().expect("a cookie");
    let cart = tab
        .get_with("/api/cart", &[("cookie", &format!("session={last}"))])
        .await;
    assert_eq!(
        api_lines(&cart.json()),
        lines(&[("bakso", 1), ("es-cendol", 1)])
    );
}
