//! The JSON API over real HTTP: every route, every error code, the cart limits and the
//! reserved-key collision (checklist row 51).

use reqwest::Method;
use serde_json::json;

use crate::support::cookie::forge;
use crate::support::html::{cart_lines, flash_errors, notices};
use crate::support::http::{api_lines, lines};
use crate::support::server::TestServer;

#[tokio::test]
async fn api_session_tells_the_token_and_increments_nothing() {
    let server = TestServer::start().await;
    let visitor = server.visitor();
    assert_eq!(visitor.visit().await, 1);
    let first = visitor.get("/api/session").await;
    first.expect_status(200);
    assert!(first.content_type().starts_with("application/json"));
    let json = first.json();
    let token = json["csrf_token"].as_str().expect("csrf_token");
    assert!(token.len() >= 32, "{token}");
    assert_eq!(json["state"]["counter"], 1);
    assert_eq!(
        json["state"]["_csrft_"], token,
        "the token lives in the session"
    );
    assert_eq!(json["new"], false);
    assert_eq!(json["status"], "valid");
    assert!(json["created"].as_f64().expect("created") > 1.7e9);
    assert!(json["accessed"].as_f64().expect("accessed") > 1.7e9);
    for _ in 0..3 {
        let again = visitor.get("/api/session").await.json();
        assert_eq!(again["state"]["counter"], 1, "reading does not count");
        assert_eq!(again["csrf_token"], token, "the token is stable");
    }
    assert_eq!(visitor.visit().await, 2);

    // A new visitor gets a new session and a token.
    let fresh = server.visitor().get("/api/session").await.json();
    assert_eq!(fresh["new"], true);
    assert_eq!(fresh["status"], "absent");
    assert_ne!(fresh["csrf_token"], token);
}

#[tokio::test]
async fn api_counter_increments_and_returns_the_count() {
    let server = TestServer::start().await;
    let visitor = server.visitor();
    let token = visitor.token().await;
    for n in 1..=3 {
        let reply = visitor
            .api(Method::POST, "/api/counter", None, Some(&token))
            .await;
        reply.expect_status(200);
        assert_eq!(reply.json(), json!({"counter": n}));
    }
    // The page and the API share the counter.
    assert_eq!(visitor.visit().await, 4);
    let reply = visitor
        .api(Method::POST, "/api/counter", None, Some(&token))
        .await;
    assert_eq!(reply.json(), json!({"counter": 5}));
}

#[tokio::test]
async fn api_products_lists_the_twelve_products() {
    let server = TestServer::start().await;
    let reply = server.visitor().get("/api/products").await;
    reply.expect_status(200);
    assert!(
        reply.set_cookies().is_empty(),
        "the catalogue needs no session"
    );
    let json = reply.json();
    let products = json["products"].as_array().expect("products");
    assert_eq!(products.len(), 12);
    let mut ids = Vec::new();
    for p in products {
        let id = p["id"].as_str().expect("id");
        assert!(!id.is_empty());
        assert!(!p["name"].as_str().expect("name").is_empty());
        assert!(p["price"].as_u64().expect("price") > 0);
        ids.push(id);
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 12, "ids are unique");
    assert!(
        products
            .iter()
            .any(|p| p["id"] == "kopi-tubruk" && p["price"] == 15_000)
    );
}

#[tokio::test]
async fn api_cart_lifecycle() {
    let server = TestServer::start().await;
    let visitor = server.visitor();
    let token = visitor.token().await;

    let empty = visitor.get("/api/cart").await;
    empty.expect_status(200);
    assert_eq!(empty.json(), json!({"lines": [], "total": 0, "items": 0}));

    let created = visitor
        .api(
            Method::POST,
            "/api/cart/items",
            Some(json!({"product_id": "sate-ayam", "quantity": 2})),
            Some(&token),
        )
        .await;
    created.expect_status(201);
    let cart = created.json();
    assert_eq!(api_lines(&cart), lines(&[("sate-ayam", 2)]));
    assert_eq!(cart["total"], 60_000);
    assert_eq!(cart["items"], 2);
    let line = &cart["lines"][0];
    assert_eq!(line["name"], "Sate Ayam (10 tusuk)");
    assert_eq!(line["price"], 30_000);
    assert_eq!(line["line_total"], 60_000);

    let created = visitor
        .api(
            Method::POST,
            "/api/cart/items",
            Some(json!({"product_id": "es-teh-manis", "quantity": 3})),
            Some(&token),
        )
        .await;
    created.expect_status(201);
    assert_eq!(created.json()["total"], 60_000 + 24_000);

    let got = visitor.get("/api/cart").await;
    got.expect_status(200);
    assert_eq!(
        api_lines(&got.json()),
        lines(&[("sate-ayam", 2), ("es-teh-manis", 3)])
    );
    // The HTML cart shows the same.
    let page = visitor.get("/cart").await;
    assert_eq!(
        cart_lines(&page.body),
        lines(&[("sate-ayam", 2), ("es-teh-manis", 3)])
    );

    let patched = visitor
        .api(
            Method::PATCH,
            "/api/cart/items/sate-ayam",
            Some(json!({"quantity": 5})),
            Some(&token),
        )
        .await;
    patched.expect_status(200);
    assert_eq!(
        api_lines(&patched.json()),
        lines(&[("sate-ayam", 5), ("es-teh-manis", 3)])
    );
    assert_eq!(patched.json()["total"], 150_000 + 24_000);

    let deleted = visitor
        .api(
            Method::DELETE,
            "/api/cart/items/sate-ayam",
            None,
            Some(&token),
        )
        .await;
    deleted.expect_status(200);
    assert_eq!(api_lines(&deleted.json()), lines(&[("es-teh-manis", 3)]));

    // Not in the cart (any more): 404.
    for (method, body) in [
        (Method::DELETE, None),
        (Method::PATCH, Some(json!({"quantity": 1}))),
    ] {
        let missing = visitor
            .api(method, "/api/cart/items/sate-ayam", body, Some(&token))
            .await;
        missing.expect_status(404);
        assert_eq!(missing.error_code(), "not_found");
    }

    let emptied = visitor
        .api(Method::DELETE, "/api/cart", None, Some(&token))
        .await;
    emptied.expect_status(200);
    assert_eq!(emptied.json(), json!({"lines": [], "total": 0, "items": 0}));
    assert!(visitor.cart().await.is_empty());
    assert!(visitor.state().await.get("cart").is_none());
}

#[tokio::test]
async fn healthz_answers_ok() {
    let server = TestServer::start().await;
    let reply = server.visitor().get("/healthz").await;
    reply.expect_status(200);
    assert_eq!(reply.body, "ok");
}

#[tokio::test]
async fn api_errors_are_json_with_code_and_message() {
    let server = TestServer::start().await;
    let visitor = server.visitor();
    visitor.add("bakso", 2).await;
    let token = visitor.token().await;
    let before = visitor.state().await;

    let cases: Vec<(Method, &str, &str, String, u16, &str)> = vec![
        // malformed JSON
        (
            Method::POST,
            "/api/cart/items",
            "application/json",
            "{\"product_id\": \"bakso\", ".to_owned(),
            400,
            "malformed_json",
        ),
        (
            Method::PATCH,
            "/api/cart/items/bakso",
            "application/json",
            "not json".to_owned(),
            400,
            "malformed_json",
        ),
        // unknown product
        (
            Method::POST,
            "/api/cart/items",
            "application/json",
            json!({"product_id": "caviar", "quantity": 1}).to_string(),
            404,
            "not_found",
        ),
        (
            Method::PATCH,
            "/api/cart/items/caviar",
            "application/json",
            json!({"quantity": 1}).to_string(),
            404,
            "not_found",
        ),
        // wrong content type
        (
            Method::POST,
            "/api/cart/items",
            "text/plain",
            json!({"product_id": "bakso", "quantity": 1}).to_string(),
            415,
            "unsupported_media_type",
        ),
        (
            Method::POST,
            "/api/cart/items",
            "application/x-www-form-urlencoded",
            "product_id=bakso&quantity=1".to_owned(),
            415,
            "unsupported_media_type",
        ),
        (
            Method::PATCH,
            "/api/cart/items/bakso",
            "text/plain",
            json!({"quantity": 1}).to_string(),
            415,
            "unsupported_media_type",
        ),
    ];
    for (method, path, content_type, body, status, code) in cases {
        let reply = visitor
            .send(
                method.clone(),
                path,
                &[("x-csrf-token", &token)],
                Some((content_type, body.clone())),
            )
            .await;
        assert_eq!(
            reply.status.as_u16(),
            status,
            "{method} {path} {content_type} {body}: {}",
            reply.body
        );
        assert!(reply.content_type().starts_with("application/json"));
        assert_eq!(reply.error_code(), code, "{method} {path} {body}");
    }
    // No body and no content type at all.
    let reply = visitor
        .send(
            Method::POST,
            "/api/cart/items",
            &[("x-csrf-token", &token)],
            None,
        )
        .await;
    reply.expect_status(415);
    assert_eq!(visitor.state().await, before, "no error changed anything");
}

#[tokio::test]
async fn api_bad_quantities_are_422_and_change_nothing() {
    let server = TestServer::start().await;
    let visitor = server.visitor();
    visitor.add("bakso", 2).await;
    let token = visitor.token().await;
    let before = visitor.state().await;
    for quantity in [
        json!(0),
        json!(100),
        json!(-1),
        json!(1.5),
        json!("x"),
        json!(null),
    ] {
        let add = visitor
            .api(
                Method::POST,
                "/api/cart/items",
                Some(json!({"product_id": "rendang", "quantity": quantity})),
                Some(&token),
            )
            .await;
        assert_eq!(add.status.as_u16(), 422, "add {quantity}: {}", add.body);
        add.error_code();
        let patch = visitor
            .api(
                Method::PATCH,
                "/api/cart/items/bakso",
                Some(json!({"quantity": quantity})),
                Some(&token),
            )
            .await;
        assert_eq!(
            patch.status.as_u16(),
            422,
            "patch {quantity}: {}",
            patch.body
        );
    }
    // A missing field is a 422 too.
    let add = visitor
        .api(
            Method::POST,
            "/api/cart/items",
            Some(json!({"product_id": "rendang"})),
            Some(&token),
        )
        .await;
    add.expect_status(422);
    assert_eq!(visitor.state().await, before);

    // The range is inclusive.
    for (id, quantity) in [("rendang", 1), ("soto-ayam", 99)] {
        visitor
            .api(
                Method::POST,
                "/api/cart/items",
                Some(json!({"product_id": id, "quantity": quantity})),
                Some(&token),
            )
            .await
            .expect_status(201);
    }
    assert_eq!(
        visitor.cart().await,
        lines(&[("bakso", 2), ("rendang", 1), ("soto-ayam", 99)])
    );
}

#[tokio::test]
async fn adding_on_top_past_99_is_refused() {
    let server = TestServer::start().await;
    let visitor = server.visitor();
    visitor.add("bakso", 60).await;
    let token = visitor.token().await;
    let refused = visitor
        .api(
            Method::POST,
            "/api/cart/items",
            Some(json!({"product_id": "bakso", "quantity": 40})),
            Some(&token),
        )
        .await;
    refused.expect_status(422);
    assert_eq!(refused.error_code(), "bad_quantity");
    assert_eq!(visitor.cart().await, lines(&[("bakso", 60)]));
    // Up to exactly 99 is fine.
    visitor.add("bakso", 39).await;
    assert_eq!(visitor.cart().await, lines(&[("bakso", 99)]));

    // The same through the form: a flash error and nothing changed.
    let refused = visitor
        .post_form(
            "/cart/add",
            &[
                ("csrf_token", &token),
                ("product_id", "bakso"),
                ("quantity", "1"),
            ],
        )
        .await;
    refused.expect_status(303);
    let page = visitor.get("/cart").await;
    assert_eq!(
        flash_errors(&page.body),
        ["Quantity must be a whole number from 1 to 99."]
    );
    assert!(notices(&page.body).is_empty());
    assert_eq!(cart_lines(&page.body), lines(&[("bakso", 99)]));
}

#[tokio::test]
async fn form_bad_quantities_flash_an_error_and_change_nothing() {
    let server = TestServer::start().await;
    let visitor = server.visitor();
    let token = visitor.token().await;
    visitor
        .post_form(
            "/cart/add",
            &[
                ("csrf_token", &token),
                ("product_id", "gado-gado"),
                ("quantity", "4"),
            ],
        )
        .await
        .expect_status(303);
    visitor.get("/cart").await; // consume the success flash
    let before = visitor.state().await;
    for quantity in ["0", "100", "-3", "1.5", "x", ""] {
        for (path, product) in [("/cart/add", "bakso"), ("/cart/update", "gado-gado")] {
            let reply = visitor
                .post_form(
                    path,
                    &[
                        ("csrf_token", &token),
                        ("product_id", product),
                        ("quantity", quantity),
                    ],
                )
                .await;
            reply.expect_status(303);
            assert_eq!(reply.location(), Some("/cart"));
            let page = visitor.get("/cart").await;
            assert_eq!(
                flash_errors(&page.body),
                ["Quantity must be a whole number from 1 to 99."],
                "{path} quantity {quantity:?}"
            );
            assert_eq!(cart_lines(&page.body), lines(&[("gado-gado", 4)]));
            assert_eq!(
                visitor.state().await,
                before,
                "{path} quantity {quantity:?}"
            );
        }
    }
}

#[tokio::test]
async fn reserved_session_keys_are_not_products_and_the_csrf_token_is_unchanged() {
    let server = TestServer::start().await;
    let visitor = server.visitor();
    visitor.add("bakso", 1).await;
    let token = visitor.token().await;
    let before = visitor.state().await;
    for id in ["_csrft_", "_f_", "_f_error", "counter", "cart", "lang"] {
        let add = visitor
            .api(
                Method::POST,
                "/api/cart/items",
                Some(json!({"product_id": id, "quantity": 1})),
                Some(&token),
            )
            .await;
        add.expect_status(404);
        assert_eq!(add.error_code(), "not_found");
        let patch = visitor
            .api(
                Method::PATCH,
                &format!("/api/cart/items/{id}"),
                Some(json!({"quantity": 1})),
                Some(&token),
            )
            .await;
        patch.expect_status(404);
        let delete = visitor
            .api(
                Method::DELETE,
                &format!("/api/cart/items/{id}"),
                None,
                Some(&token),
            )
            .await;
        delete.expect_status(404);
        let form = visitor
            .post_form(
                "/cart/add",
                &[
                    ("csrf_token", &token),
                    ("product_id", id),
                    ("quantity", "1"),
                ],
            )
            .await;
        form.expect_status(404);
    }
    assert_eq!(visitor.token().await, token, "the CSRF token is unchanged");
    assert_eq!(visitor.state().await, before);
    // The token still works.
    visitor
        .api(Method::POST, "/api/counter", None, Some(&token))
        .await
        .expect_status(200);
}

#[tokio::test]
async fn a_cart_holds_at_most_50_distinct_products() {
    // Only 12 products exist, so only a cart from an older catalogue (signed by this server)
    // can reach the limit; its unknown lines are not shown or priced, but they count.
    let server = TestServer::start().await;
    let token = "t".repeat(40);
    let old_cart: serde_json::Map<String, serde_json::Value> = (1..=50)
        .map(|i| (format!("retired-{i}"), json!(1)))
        .collect();
    let cookie = format!(
        "session={}",
        forge(json!({"_csrft_": token, "cart": old_cart}))
    );
    let client = server.manual();
    let cart = client.get_with("/api/cart", &[("cookie", &cookie)]).await;
    assert_eq!(cart.json()["total"], 0);
    let refused = client
        .send(
            Method::POST,
            "/api/cart/items",
            &[("cookie", &cookie), ("x-csrf-token", &token)],
            Some((
                "application/json",
                json!({"product_id": "bakso", "quantity": 1}).to_string(),
            )),
        )
        .await;
    refused.expect_status(422);
    assert_eq!(refused.error_code(), "too_many_lines");
    let form = client
        .post_form_with(
            "/cart/add",
            &[
                ("csrf_token", &token),
                ("product_id", "bakso"),
                ("quantity", "1"),
            ],
            &[("cookie", &cookie)],
        )
        .await;
    form.expect_status(303);
    let value = form.session_cookie_value().expect("the flash is saved");
    let flashed = format!("session={value}");
    let page = client.get_with("/cart", &[("cookie", &flashed)]).await;
    assert_eq!(
        flash_errors(&page.body),
        ["A cart holds at most 50 different products."]
    );
    assert!(cart_lines(&page.body).is_empty());
}
