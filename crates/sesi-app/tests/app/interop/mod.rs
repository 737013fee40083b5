//! Live interop against the real Pyramid, Flask and Django: each framework's reference app and
//! `sesi serve` side by side on 127.0.0.1 with one secret, and one cookie jar going back and forth
//! between them, which is what a visitor's browser does while a site moves to sesi page by page;
//! and the `sesi cookie` tools against each framework's own serializer.
//!
//! Needs `scripts/install-test-deps.sh --only python` (see [`crate::support::pyramid`]).

mod cli;
mod django;
mod encrypted;
mod flask;
mod sessions;
mod settings;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::http::{Visitor, form_encode};
use crate::support::process::SesiServer;
use crate::support::pyramid::{Pyramid, Settings};

/// The shared secret (long enough that `sesi serve` does not warn about it).
const SECRET: &str = "interop-7f3a9c1e5b2d4f60a8e1c3b5d7f9a2c4e6b8d0f1";

fn settings() -> Settings {
    Settings::new(SECRET)
}

/// A visitor with one cookie jar for every server on 127.0.0.1: cookies ignore ports, so this is
/// what a browser does when `/old` is served by Pyramid and `/new` by sesi on the same domain.
fn browser() -> Visitor {
    Visitor::new("http://127.0.0.1")
}

// ------------------------------------------------------------------------------------ app calls

/// Pyramid `GET /counter`.
async fn pyramid_counter(b: &Visitor, p: &Pyramid) -> i64 {
    let body = b.at(&p.base).get_json("/counter").await;
    body["counter"].as_i64().expect("counter is an integer")
}

/// Pyramid `GET /session`: reads without touching the session.
async fn pyramid_session(b: &Visitor, p: &Pyramid) -> Value {
    b.at(&p.base).get_json("/session").await
}

/// sesi `GET /`: the counter page; returns the number it shows.
async fn sesi_counter_page(b: &Visitor, s: &SesiServer) -> i64 {
    b.at(&s.base).visit().await
}

/// sesi `GET /api/session`.
async fn sesi_session(b: &Visitor, s: &SesiServer) -> Value {
    b.at(&s.base).session().await
}

/// sesi's CSRF token for this session.
async fn sesi_csrf(b: &Visitor, s: &SesiServer) -> String {
    b.at(&s.base).token().await
}

/// sesi `POST /api/counter` (no body) with the CSRF header.
async fn sesi_api_counter(b: &Visitor, s: &SesiServer, token: &str) -> i64 {
    let reply = b
        .at(&s.base)
        .api(Method::POST, "/api/counter", None, Some(token))
        .await;
    reply.expect_status(200).json()["counter"]
        .as_i64()
        .expect("counter is an integer")
}

/// sesi `POST /api/cart/items`; returns the priced cart.
async fn sesi_add_item(b: &Visitor, s: &SesiServer, product_id: &str, quantity: i64) -> Value {
    let token = sesi_csrf(b, s).await;
    let reply = b
        .at(&s.base)
        .api(
            Method::POST,
            "/api/cart/items",
            Some(json!({"product_id": product_id, "quantity": quantity})),
            Some(&token),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.json()
}

/// Pyramid `POST /cart/add`; returns `session['cart']`.
async fn pyramid_add_item(b: &Visitor, p: &Pyramid, product_id: &str, quantity: i64) -> Value {
    let query = form_encode(&[
        ("product_id", product_id),
        ("quantity", &quantity.to_string()),
    ]);
    b.at(&p.base).post_json(&format!("/cart/add?{query}")).await["cart"].clone()
}

/// Pyramid `POST /flash`.
async fn pyramid_flash(b: &Visitor, p: &Pyramid, msg: &str, queue: &str) {
    let query = form_encode(&[("msg", msg), ("queue", queue)]);
    let queued = b.at(&p.base).post_json(&format!("/flash?{query}")).await;
    assert_eq!(queued, json!({"queued": msg}));
}

/// Pyramid `GET /flash/pop` or `/flash/peek` of `queue`.
async fn pyramid_flashes(b: &Visitor, p: &Pyramid, route: &str, queue: &str) -> Value {
    let query = form_encode(&[("queue", queue)]);
    b.at(&p.base).get_json(&format!("{route}?{query}")).await["messages"].clone()
}

/// Splits `check_cookie.py`'s `[accessed, created, state]` line into the two raw numbers and
/// the state.
fn pyramid_triple(line: &str) -> (String, String, Value) {
    let inner = line
        .strip_prefix('[')
        .and_then(|l| l.strip_suffix(']'))
        .expect("a JSON array");
    let mut parts = inner.splitn(3, ", ");
    let accessed = parts.next().expect("accessed").to_owned();
    let created = parts.next().expect("created").to_owned();
    let state = serde_json::from_str(parts.next().expect("state")).expect("state is JSON");
    (accessed, created, state)
}
