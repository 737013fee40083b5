//! The HTML pages over real HTTP: the seed tutorial's flow (counter, cart forms, flash, reset),
//! language, error pages, and which responses carry a cookie.

use reqwest::Method;

use crate::support::cookie::{decode, tamper};
use crate::support::html::{
    all_flashes, cart_lines, counter, csrf_field, flash_errors, notices, text_of,
};
use crate::support::http::lines;
use crate::support::server::TestServer;

#[tokio::test]
async fn three_visits_give_three() {
    let server = TestServer::start().await;
    let visitor = server.visitor();
    assert_eq!(visitor.visit().await, 1);
    assert_eq!(visitor.visit().await, 2);
    let page = visitor.get("/").await;
    page.expect_status(200);
    assert!(page.content_type().starts_with("text/html"));
    assert_eq!(counter(&page.body), 3);
    assert!(
        page.body.contains("You have visited this page"),
        "the page says what is going on"
    );
    // A second visitor has a counter of their own.
    assert_eq!(server.visitor().visit().await, 1);
}

#[tokio::test]
async fn seed_flow_cart_survives_refresh_and_flash_shows_once() {
    let server = TestServer::start().await;
    let visitor = server.visitor();
    for n in 1..=3 {
        assert_eq!(visitor.visit().await, n);
    }

    let cart = visitor.get("/cart").await;
    cart.expect_status(200);
    assert!(cart_lines(&cart.body).is_empty());
    assert!(cart.body.contains("id=\"cart-empty\""));
    let token = csrf_field(&cart.body);

    // Add two products through the forms: each answers 303 to /cart.
    let added = visitor
        .post_form(
            "/cart/add",
            &[
                ("csrf_token", &token),
                ("product_id", "kopi-tubruk"),
                ("quantity", "2"),
            ],
        )
        .await;
    added.expect_status(303);
    assert_eq!(added.location(), Some("/cart"));
    assert!(added.session_set_cookie().is_some(), "the change is saved");

    // The flash appears on the first GET /cart after the POST, and only there.
    let first = visitor.get("/cart").await;
    assert_eq!(notices(&first.body), ["Added to your cart: Kopi Tubruk"]);
    assert_eq!(cart_lines(&first.body), lines(&[("kopi-tubruk", 2)]));
    let second = visitor.get("/cart").await;
    assert!(all_flashes(&second.body).is_empty(), "{}", second.body);

    let added = visitor
        .post_form(
            "/cart/add",
            &[
                ("csrf_token", &token),
                ("product_id", "nasi-goreng"),
                ("quantity", "1"),
            ],
        )
        .await;
    added.expect_status(303);
    assert_eq!(added.location(), Some("/cart"));

    // "Refresh": both lines intact, in the order added, with their quantities and totals.
    for _ in 0..2 {
        let page = visitor.get("/cart").await;
        page.expect_status(200);
        assert_eq!(
            cart_lines(&page.body),
            lines(&[("kopi-tubruk", 2), ("nasi-goreng", 1)])
        );
        // 2 x 15.000 + 25.000
        assert_eq!(
            text_of(&page.body, "cart-total").as_deref(),
            Some("Rp 55.000")
        );
    }
    // The counter lives in the same cookie and kept counting.
    assert_eq!(visitor.visit().await, 4);
}

#[tokio::test]
async fn cart_forms_update_remove_and_empty() {
    let server = TestServer::start().await;
    let visitor = server.visitor();
    let token = csrf_field(&visitor.get("/cart").await.body);
    for (id, qty) in [("bakso", "2"), ("rendang", "1"), ("es-cendol", "3")] {
        visitor
            .post_form(
                "/cart/add",
                &[
                    ("csrf_token", &token),
                    ("product_id", id),
                    ("quantity", qty),
                ],
            )
            .await
            .expect_status(303);
    }
    // Adding again adds on top.
    visitor
        .post_form(
            "/cart/add",
            &[
                ("csrf_token", &token),
                ("product_id", "bakso"),
                ("quantity", "3"),
            ],
        )
        .await
        .expect_status(303);
    let page = visitor.get("/cart").await;
    assert_eq!(
        cart_lines(&page.body),
        lines(&[("bakso", 5), ("rendang", 1), ("es-cendol", 3)])
    );

    let updated = visitor
        .post_form(
            "/cart/update",
            &[
                ("csrf_token", &token),
                ("product_id", "rendang"),
                ("quantity", "7"),
            ],
        )
        .await;
    updated.expect_status(303);
    assert_eq!(updated.location(), Some("/cart"));
    let page = visitor.get("/cart").await;
    assert_eq!(notices(&page.body), ["Quantity updated: Rendang"]);
    assert_eq!(
        cart_lines(&page.body),
        lines(&[("bakso", 5), ("rendang", 7), ("es-cendol", 3)])
    );

    let removed = visitor
        .post_form(
            "/cart/remove",
            &[("csrf_token", &token), ("product_id", "bakso")],
        )
        .await;
    removed.expect_status(303);
    assert_eq!(removed.location(), Some("/cart"));
    let page = visitor.get("/cart").await;
    assert_eq!(notices(&page.body), ["Removed from your cart: Bakso"]);
    assert_eq!(
        cart_lines(&page.body),
        lines(&[("rendang", 7), ("es-cendol", 3)])
    );
    // 7 x 35.000 + 3 x 12.000
    assert_eq!(
        text_of(&page.body, "cart-total").as_deref(),
        Some("Rp 281.000")
    );

    // Removing a product that is not in the cart is a flash error, not a change.
    visitor
        .post_form(
            "/cart/remove",
            &[("csrf_token", &token), ("product_id", "bakso")],
        )
        .await
        .expect_status(303);
    let page = visitor.get("/cart").await;
    assert_eq!(
        flash_errors(&page.body),
        ["That product is not in your cart."]
    );
    assert_eq!(
        cart_lines(&page.body),
        lines(&[("rendang", 7), ("es-cendol", 3)])
    );

    let emptied = visitor
        .post_form("/cart/empty", &[("csrf_token", &token)])
        .await;
    emptied.expect_status(303);
    assert_eq!(emptied.location(), Some("/cart"));
    let page = visitor.get("/cart").await;
    assert_eq!(notices(&page.body), ["Your cart is now empty."]);
    assert!(cart_lines(&page.body).is_empty());
    assert!(page.body.contains("id=\"cart-empty\""));
    assert!(visitor.cart().await.is_empty());
}

#[tokio::test]
async fn reset_removes_the_cookie_and_the_counter_restarts_at_one() {
    let server = TestServer::start().await;
    let visitor = server.visitor();
    visitor.visit().await;
    let page = visitor.get("/").await;
    assert_eq!(counter(&page.body), 2);
    let token = csrf_field(&page.body);
    visitor.add("bakso", 1).await;

    let reset = visitor
        .post_form("/session/reset", &[("csrf_token", &token)])
        .await;
    reset.expect_status(303);
    assert_eq!(reset.location(), Some("/"));
    let set_cookie = reset
        .session_set_cookie()
        .expect("reset sends a Set-Cookie that removes the cookie");
    assert!(
        set_cookie.starts_with("session=;"),
        "the value is emptied: {set_cookie}"
    );
    assert!(set_cookie.contains("Max-Age=0"), "{set_cookie}");
    assert_eq!(visitor.cookie(), None, "the browser dropped the cookie");

    assert_eq!(visitor.visit().await, 1);
    assert!(visitor.cart().await.is_empty());
}

#[tokio::test]
async fn lang_parameter_shows_indonesian_and_is_remembered() {
    let server = TestServer::start().await;
    let visitor = server.visitor();
    let english = visitor.get("/").await;
    assert!(english.body.contains("<html lang=\"en\">"));
    assert!(english.body.contains("You have visited this page"));

    let page = visitor.get("/?lang=id").await;
    assert!(page.body.contains("<html lang=\"id\">"), "{}", page.body);
    assert!(page.body.contains("Anda telah mengunjungi halaman ini"));
    assert!(!page.body.contains("You have visited this page"));

    // Remembered in the session: the next pages need no parameter.
    let page = visitor.get("/").await;
    assert!(page.body.contains("Anda telah mengunjungi halaman ini"));
    let cart = visitor.get("/cart").await;
    assert!(cart.body.contains("Keranjang belanja"), "{}", cart.body);
    // Form flashes follow the remembered language too.
    let token = csrf_field(&cart.body);
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
    let cart = visitor.get("/cart").await;
    assert_eq!(notices(&cart.body), ["Ditambahkan ke keranjang: Bakso"]);

    // And switching back works the same way.
    visitor.get("/?lang=en").await;
    let page = visitor.get("/").await;
    assert!(page.body.contains("You have visited this page"));
}

#[tokio::test]
async fn accept_language_id_gives_indonesian_to_a_new_visitor() {
    let server = TestServer::start().await;
    let visitor = server.visitor();
    let page = visitor
        .get_with("/", &[("accept-language", "id-ID,id;q=0.9,en;q=0.5")])
        .await;
    page.expect_status(200);
    assert!(page.body.contains("<html lang=\"id\">"));
    assert!(page.body.contains("Anda telah mengunjungi halaman ini"));
    let page = visitor.get_with("/", &[("accept-language", "id")]).await;
    assert!(page.body.contains("Anda telah mengunjungi halaman ini"));
    // An unsupported language falls back to English.
    let other = server.visitor();
    let page = other.get_with("/", &[("accept-language", "fr")]).await;
    assert!(page.body.contains("You have visited this page"));
    // ?lang= beats Accept-Language.
    let page = other
        .get_with("/?lang=en", &[("accept-language", "id")])
        .await;
    assert!(page.body.contains("You have visited this page"));
}

#[tokio::test]
async fn unknown_path_gives_a_404_page_and_json_under_api() {
    let server = TestServer::start().await;
    let visitor = server.visitor();
    let page = visitor.get("/no/such/page").await;
    page.expect_status(404);
    assert!(
        page.content_type().starts_with("text/html"),
        "{}",
        page.content_type()
    );
    assert!(
        page.body.contains("<span id=\"status\">404</span>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Not Found"));
    assert!(page.body.contains("/no/such/page"));

    let api = visitor.get("/api/nothing-here").await;
    api.expect_status(404);
    assert!(api.content_type().starts_with("application/json"));
    assert_eq!(api.error_code(), "not_found");
}

#[tokio::test]
async fn wrong_method_gives_a_405_page() {
    let server = TestServer::start().await;
    let visitor = server.visitor();
    for (method, path) in [
        (Method::GET, "/cart/add"),
        (Method::GET, "/session/reset"),
        (Method::POST, "/cart"),
        (Method::DELETE, "/"),
    ] {
        let page = visitor.send(method.clone(), path, &[], None).await;
        page.expect_status(405);
        assert!(
            page.content_type().starts_with("text/html"),
            "{method} {path}: {}",
            page.content_type()
        );
        assert!(
            page.body.contains("<span id=\"status\">405</span>"),
            "{}",
            page.body
        );
    }
    let page = visitor.get("/cart/add").await;
    assert_eq!(
        page.header("allow"),
        Some("POST"),
        "405 names the allowed method"
    );
    let api = visitor.send(Method::GET, "/api/counter", &[], None).await;
    api.expect_status(405);
    assert_eq!(api.error_code(), "method_not_allowed");
}

#[tokio::test]
async fn malformed_form_body_gives_a_400_page_and_changes_nothing() {
    let server = TestServer::start().await;
    let visitor = server.visitor();
    visitor.add("bakso", 1).await;
    let token = visitor.token().await;
    let before = visitor.state().await;
    // No product_id at all.
    let page = visitor
        .post_form("/cart/add", &[("csrf_token", &token), ("quantity", "1")])
        .await;
    page.expect_status(400);
    assert!(page.content_type().starts_with("text/html"));
    assert!(
        page.body.contains("<span id=\"status\">400</span>"),
        "{}",
        page.body
    );
    // Not a form at all.
    for path in ["/cart/update", "/cart/empty", "/session/reset"] {
        let page = visitor
            .send(
                Method::POST,
                path,
                &[("x-csrf-token", &token)],
                Some(("application/json", "{\"quantity\": 1}".to_owned())),
            )
            .await;
        page.expect_status(400);
        assert!(
            page.body.contains("<span id=\"status\">400</span>"),
            "{path}: {}",
            page.body
        );
    }
    assert_eq!(visitor.state().await, before);
}

#[tokio::test]
async fn unknown_product_in_a_form_gives_a_404_page() {
    let server = TestServer::start().await;
    let visitor = server.visitor();
    let token = visitor.token().await;
    let page = visitor
        .post_form(
            "/cart/add",
            &[
                ("csrf_token", &token),
                ("product_id", "caviar"),
                ("quantity", "1"),
            ],
        )
        .await;
    page.expect_status(404);
    assert!(page.content_type().starts_with("text/html"));
    assert!(page.body.contains("<span id=\"status\">404</span>"));
    assert!(visitor.cart().await.is_empty());
}

#[tokio::test]
async fn tampered_cookie_starts_a_fresh_session_with_200() {
    let server = TestServer::start().await;
    let visitor = server.visitor();
    for _ in 0..3 {
        visitor.visit().await;
    }
    let good = visitor.cookie().expect("a cookie");
    let manual = server.manual();
    let cookie = format!("session={}", tamper(&good));
    let page = manual.get_with("/", &[("cookie", &cookie)]).await;
    page.expect_status(200);
    assert_eq!(counter(&page.body), 1, "the tampered state is not loaded");
    let fresh = page
        .session_cookie_value()
        .expect("a fresh cookie is issued");
    assert_ne!(fresh, good);
    assert_eq!(decode(&fresh).state["counter"], 1);
    // The untouched original still counts on.
    let page = manual
        .get_with("/", &[("cookie", &format!("session={good}"))])
        .await;
    assert_eq!(counter(&page.body), 4);
}

#[tokio::test]
async fn untouched_responses_carry_no_set_cookie() {
    let server = TestServer::start().await;
    let visitor = server.visitor();
    visitor.visit().await;
    let cookie = format!("session={}", visitor.cookie().expect("a cookie"));
    let manual = server.manual();
    // Also with a cookie whose second has passed (so a read would re-issue it).
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    for path in [
        "/healthz",
        "/static/style.css",
        "/no-such-page",
        "/api/nope",
    ] {
        for headers in [vec![], vec![("cookie", cookie.as_str())]] {
            let reply = manual.get_with(path, &headers).await;
            assert!(
                reply.set_cookies().is_empty(),
                "{path} sent {:?}",
                reply.set_cookies()
            );
            assert!(
                reply.header("vary").is_none_or(|v| !v.contains("Cookie")),
                "{path}"
            );
        }
    }
    let health = manual.get("/healthz").await;
    health.expect_status(200);
    assert_eq!(health.body, "ok");
    let css = manual.get("/static/style.css").await;
    css.expect_status(200);
    assert!(css.content_type().starts_with("text/css"));
    // A page that reads the session re-issues the (now older) cookie: the control for the above.
    let page = manual.get_with("/session", &[("cookie", &cookie)]).await;
    assert!(page.session_set_cookie().is_some());
}

#[tokio::test]
async fn touched_responses_vary_on_cookie_and_are_not_cached() {
    let server = TestServer::start().await;
    let visitor = server.visitor();
    let token = visitor.token().await;
    let replies = [
        visitor.get("/").await,
        visitor.get("/cart").await,
        visitor.get("/session").await,
        visitor.get("/api/session").await,
        visitor.get("/api/cart").await,
        visitor
            .api(Method::POST, "/api/counter", None, Some(&token))
            .await,
        visitor
            .post_form("/cart/empty", &[("csrf_token", &token)])
            .await,
    ];
    for reply in &replies {
        let vary: Vec<&str> = reply
            .headers
            .get_all("vary")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        assert_eq!(
            vary.iter()
                .flat_map(|v| v.split(','))
                .filter(|t| t.trim().eq_ignore_ascii_case("cookie"))
                .count(),
            1,
            "exactly one Vary: Cookie in {vary:?} ({})",
            reply.status
        );
        // Checklist row 49: the demo never lets a personal page be stored.
        let cache = reply.header("cache-control").unwrap_or("");
        assert!(cache.contains("no-store"), "cache-control {cache:?}");
    }
}
