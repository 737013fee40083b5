//! Fuzz target `api_body` (checklist row 63 for the app): arbitrary bytes as the JSON body of the
//! tutorial app's state-changing API calls, sent with a valid session cookie and CSRF token so
//! they get past the checks and into the cart's rules. The first byte picks the call. Whatever
//! the body, the answer is one of the API's documented statuses, never a 500, and nothing panics.
//!
//! `cargo fuzz run -s none api_body` from the repository root (see README.md).

#![no_main]

use std::sync::LazyLock;

use axum::Router;
use axum::body::Body;
use http::header::{CONTENT_TYPE, COOKIE, SET_COOKIE};
use http::{Method, Request, StatusCode};
use libfuzzer_sys::fuzz_target;
use sesi::{Secret, Secrets};
use tower::ServiceExt;

/// The runtime, the app, and a visitor's session cookie with its CSRF token.
struct Fixture {
    runtime: tokio::runtime::Runtime,
    app: Router,
    cookie: String,
    token: String,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let secret = Secret::new("a fuzzing secret of at least thirty-two bytes").expect("long");
    let settings = sesi_app::Settings::new(Secrets::new(secret));
    let app = sesi_app::app(&settings).expect("valid settings");
    let request = Request::get("/api/session")
        .body(Body::empty())
        .expect("a request");
    let response = runtime
        .block_on(app.clone().oneshot(request))
        .expect("infallible");
    let cookie = response
        .headers()
        .get(SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("a new session gets a cookie")
        .to_owned();
    let body = runtime
        .block_on(axum::body::to_bytes(response.into_body(), 1 << 16))
        .expect("a small body");
    let json: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    let token = json["csrf_token"].as_str().expect("a token").to_owned();
    Fixture {
        runtime,
        app,
        cookie,
        token,
    }
});

/// The calls a body goes to.
const CALLS: [(Method, &str); 4] = [
    (Method::POST, "/api/cart/items"),
    (Method::PATCH, "/api/cart/items/kopi-tubruk"),
    (Method::POST, "/api/counter"),
    (Method::PATCH, "/api/cart/items/nasi-goreng"),
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let f = &*FIXTURE;
    let (method, path) = &CALLS[usize::from(pick) % CALLS.len()];
    let request = Request::builder()
        .method(method.clone())
        .uri(*path)
        .header(COOKIE, &f.cookie)
        .header("x-csrf-token", &f.token)
        .header(CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_vec()))
        .expect("a request");
    let response = f
        .runtime
        .block_on(f.app.clone().oneshot(request))
        .expect("infallible");
    let status = response.status();
    assert!(
        [
            StatusCode::OK,
            StatusCode::CREATED,
            StatusCode::BAD_REQUEST,
            StatusCode::NOT_FOUND,
            StatusCode::UNPROCESSABLE_ENTITY,
        ]
        .contains(&status),
        "{method} {path} answered {status} for {:?}",
        String::from_utf8_lossy(body)
    );
});
