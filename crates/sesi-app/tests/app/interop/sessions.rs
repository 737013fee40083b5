//! One session going back and forth between Pyramid and sesi: the counter, the cart, flash
//! messages, the CSRF token and invalidation.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{
    browser, pyramid_add_item, pyramid_counter, pyramid_flash, pyramid_flashes, pyramid_session,
    sesi_add_item, sesi_api_counter, sesi_counter_page, sesi_csrf, settings,
};
use crate::support::html::flash_paragraphs;
use crate::support::http::api_lines;
use crate::support::load;
use crate::support::pyramid::{Peers, python};

#[tokio::test]
async fn counter_alternates_between_pyramid_and_sesi() {
    let _share = load::share().await;
    let Some(py) = python() else { return };
    let peers = Peers::start(&py, &settings());
    let b = browser();
    assert_eq!(pyramid_counter(&b, &peers.pyramid).await, 1);
    assert_eq!(sesi_counter_page(&b, &peers.sesi).await, 2);
    assert_eq!(pyramid_counter(&b, &peers.pyramid).await, 3);
    // The JSON API on the same session, with a CSRF token sesi keeps in the shared cookie.
    let token = sesi_csrf(&b, &peers.sesi).await;
    assert_eq!(sesi_api_counter(&b, &peers.sesi, &token).await, 4);
    assert_eq!(pyramid_counter(&b, &peers.pyramid).await, 5);
    assert_eq!(b.cookie_names(), ["session"]);
}

#[tokio::test]
async fn cart_built_on_pyramid_is_read_and_extended_by_sesi() {
    let _share = load::share().await;
    let Some(py) = python() else { return };
    let peers = Peers::start(&py, &settings());
    let b = browser();
    let cart = pyramid_add_item(&b, &peers.pyramid, "bakso", 2).await;
    assert_eq!(cart, json!({"bakso": 2}));

    let read = b.at(&peers.sesi.base).get_json("/api/cart").await;
    assert_eq!(api_lines(&read), [("bakso".to_owned(), 2)]);
    assert_eq!(read["total"], 40_000);

    sesi_add_item(&b, &peers.sesi, "rendang", 1).await;
    let cart = sesi_add_item(&b, &peers.sesi, "bakso", 1).await;
    assert_eq!(
        api_lines(&cart),
        [("bakso".to_owned(), 3), ("rendang".to_owned(), 1)]
    );

    let state = &pyramid_session(&b, &peers.pyramid).await["state"];
    assert_eq!(
        state["cart"].to_string(),
        r#"{"bakso":3,"rendang":1}"#,
        "same items, same order"
    );
}

#[tokio::test]
async fn cart_built_on_sesi_is_read_and_extended_by_pyramid() {
    let _share = load::share().await;
    let Some(py) = python() else { return };
    let peers = Peers::start(&py, &settings());
    let b = browser();
    sesi_add_item(&b, &peers.sesi, "bakso", 1).await;

    let state = &pyramid_session(&b, &peers.pyramid).await["state"];
    assert_eq!(state["cart"], json!({"bakso": 1}));

    pyramid_add_item(&b, &peers.pyramid, "bakso", 2).await;
    let cart = pyramid_add_item(&b, &peers.pyramid, "rendang", 1).await;
    assert_eq!(cart.to_string(), r#"{"bakso":3,"rendang":1}"#);

    let read = b.at(&peers.sesi.base).get_json("/api/cart").await;
    assert_eq!(
        api_lines(&read),
        [("bakso".to_owned(), 3), ("rendang".to_owned(), 1)]
    );
    assert_eq!(read["total"], 3 * 20_000 + 35_000);
    assert_eq!(read["items"], 4);
}

#[tokio::test]
async fn flash_queued_on_pyramid_is_shown_once_by_sesi() {
    let _share = load::share().await;
    let Some(py) = python() else { return };
    let peers = Peers::start(&py, &settings());
    let b = browser();
    pyramid_flash(&b, &peers.pyramid, "Kopi ☕ siap", "").await;
    pyramid_flash(&b, &peers.pyramid, "Stok habis", "error").await;

    let html = b.at(&peers.sesi.base).get_text("/cart").await;
    assert_eq!(
        flash_paragraphs(&html),
        [
            ("flash".to_owned(), "Kopi ☕ siap".to_owned()),
            ("flash error".to_owned(), "Stok habis".to_owned()),
        ]
    );

    let again = b.at(&peers.sesi.base).get_text("/cart").await;
    assert_eq!(flash_paragraphs(&again), []);
    for queue in ["", "error"] {
        let left = pyramid_flashes(&b, &peers.pyramid, "/flash/peek", queue).await;
        assert_eq!(left, json!([]), "queue {queue:?} was popped by sesi");
    }
}

#[tokio::test]
async fn flash_queued_by_sesi_is_popped_once_by_pyramid() {
    let _share = load::share().await;
    let Some(py) = python() else { return };
    let peers = Peers::start(&py, &settings());
    let b = browser();
    let token = sesi_csrf(&b, &peers.sesi).await;
    let res = b
        .at(&peers.sesi.base)
        .post_form(
            "/cart/add",
            &[
                ("csrf_token", token.as_str()),
                ("product_id", "bakso"),
                ("quantity", "2"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(res.location(), Some("/cart"));

    let popped = pyramid_flashes(&b, &peers.pyramid, "/flash/pop", "").await;
    assert_eq!(popped, json!(["Added to your cart: Bakso"]));
    let popped = pyramid_flashes(&b, &peers.pyramid, "/flash/pop", "").await;
    assert_eq!(popped, json!([]));

    // Pyramid's rewrite kept the cart, and sesi no longer has a message to show.
    let html = b.at(&peers.sesi.base).get_text("/cart").await;
    assert_eq!(flash_paragraphs(&html), []);
    assert!(
        html.contains(r#"data-product-id="bakso" data-qty="2""#),
        "{html}"
    );
}

#[tokio::test]
async fn csrf_token_is_the_same_on_both_sides() {
    let _share = load::share().await;
    let Some(py) = python() else { return };
    let peers = Peers::start(&py, &settings());

    // Made by Pyramid, read and honoured by sesi.
    let b = browser();
    let body = b.at(&peers.pyramid.base).get_json("/csrf").await;
    let token = body["csrf_token"].as_str().expect("token").to_owned();
    assert_eq!(token.len(), 40);
    assert!(token.bytes().all(|c| c.is_ascii_hexdigit()), "{token}");
    assert_eq!(sesi_csrf(&b, &peers.sesi).await, token);
    assert_eq!(sesi_api_counter(&b, &peers.sesi, &token).await, 1);

    // A new token from Pyramid replaces it on sesi too; the old one is refused.
    let body = b.at(&peers.pyramid.base).post_json("/csrf/new").await;
    let renewed = body["csrf_token"].as_str().expect("token").to_owned();
    assert_ne!(renewed, token);
    assert_eq!(sesi_csrf(&b, &peers.sesi).await, renewed);
    let res = b
        .at(&peers.sesi.base)
        .api(Method::POST, "/api/counter", None, Some(&token))
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);

    // Made by sesi, read by Pyramid.
    let b = browser();
    let token = sesi_csrf(&b, &peers.sesi).await;
    let body = b.at(&peers.pyramid.base).get_json("/csrf").await;
    assert_eq!(body["csrf_token"], token.as_str());
}

#[tokio::test]
async fn invalidate_on_either_side_empties_the_session_on_the_other() {
    let _share = load::share().await;
    let Some(py) = python() else { return };
    let peers = Peers::start(&py, &settings());

    // Pyramid's invalidate() writes a signed cookie with an empty state.
    let b = browser();
    assert_eq!(pyramid_counter(&b, &peers.pyramid).await, 1);
    assert_eq!(sesi_counter_page(&b, &peers.sesi).await, 2);
    b.at(&peers.pyramid.base).post_json("/invalidate").await;
    assert!(b.cookie().is_some(), "Pyramid keeps the cookie");
    assert_eq!(sesi_counter_page(&b, &peers.sesi).await, 1);

    // sesi's removes the cookie.
    let b = browser();
    assert_eq!(pyramid_counter(&b, &peers.pyramid).await, 1);
    assert_eq!(sesi_counter_page(&b, &peers.sesi).await, 2);
    let token = sesi_csrf(&b, &peers.sesi).await;
    let res = b
        .at(&peers.sesi.base)
        .post_form("/session/reset", &[("csrf_token", token.as_str())])
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(b.cookie(), None, "sesi deleted the cookie");
    let session = pyramid_session(&b, &peers.pyramid).await;
    assert_eq!(session["new"], true);
    assert_eq!(session["state"], json!({}));
    assert_eq!(pyramid_counter(&b, &peers.pyramid).await, 1);
}
