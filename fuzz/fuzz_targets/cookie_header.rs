//! Fuzz target `cookie_header` (checklist rows 14-20 and 63): arbitrary bytes as the `Cookie`
//! header fields of a request (a NUL byte separates fields), read the way the middleware reads
//! them (`sesi::read_cookie`, checked against the plain split definition), then sent through the
//! real session layer to a handler that reads and writes the session. Whatever the bytes, the
//! answer is a 200 with at most one `Set-Cookie`, and nothing panics.
//!
//! `cargo fuzz run -s none cookie_header` from the repository root (see README.md).

#![no_main]

use std::sync::LazyLock;

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use http::header::{COOKIE, SET_COOKIE};
use http::{HeaderMap, HeaderValue, Request, StatusCode};
use libfuzzer_sys::fuzz_target;
use sesi::{Secret, Secrets, Session, SessionLayer};
use tower::ServiceExt;

/// The current-thread runtime and the router, built once per process.
static APP: LazyLock<(tokio::runtime::Runtime, Router)> = LazyLock::new(|| {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let secret = Secret::new_insecure("rahasia_dapur_123").expect("non-empty");
    let router = Router::new()
        .route(
            "/",
            get(|session: Session| async move {
                let n = session
                    .update("counter", |n: &mut i64| {
                        *n = n.saturating_add(1);
                        *n
                    })
                    .unwrap_or(0);
                let _ = session.peek_flash::<serde_json::Value>("");
                n.to_string()
            }),
        )
        .layer(SessionLayer::new(Secrets::new(secret)));
    (runtime, router)
});

/// `s` without leading and trailing spaces and tabs.
fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// The value of the last `session=` pair, by the plain definition: split on `;`, then on the
/// first `=`, names and values trimmed of spaces and tabs.
fn reference(fields: &[&[u8]]) -> Option<String> {
    fields
        .iter()
        .flat_map(|field| field.split(|&b| b == b';'))
        .filter_map(|pair| {
            let eq = pair.iter().position(|&b| b == b'=')?;
            (trim(&pair[..eq]) == b"session").then(|| trim(&pair[eq + 1..]))
        })
        .next_back()
        .map(|value| String::from_utf8_lossy(value).into_owned())
}

fuzz_target!(|data: &[u8]| {
    let mut headers = HeaderMap::new();
    let mut sent: Vec<&[u8]> = Vec::new();
    for field in data.split(|&b| b == 0).take(8) {
        // Only what a header value may hold can reach the middleware.
        if let Ok(value) = HeaderValue::from_bytes(field) {
            headers.append(COOKIE, value);
            sent.push(field);
        }
    }
    assert_eq!(sesi::read_cookie(&headers, "session"), reference(&sent));

    let (runtime, router) = &*APP;
    let mut request = Request::get("/").body(Body::empty()).expect("a request");
    *request.headers_mut() = headers;
    let response = runtime
        .block_on(router.clone().oneshot(request))
        .expect("routers are infallible");
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "every cookie gets a page"
    );
    assert!(response.headers().get_all(SET_COOKIE).iter().count() <= 1);
});
