//! The middleware's fine-grained rules, driven in-process with `oneshot` and a frozen clock.
//!
//! Inputs are built with an independent signer (`wire`: hmac + sha2 + base64 directly, like
//! Pyramid's own `_serialize` test helper), so a bug shared by sesi's encoder and decoder cannot
//! hide. Row numbers refer to `docs/security-checklist.md`.

mod caching;
mod cookie_header;
mod extractor;
mod pyramid;
mod responder;
mod size_config;

use std::convert::Infallible;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::routing::get;
use http::header::{CACHE_CONTROL, COOKIE, HeaderName, SET_COOKIE, VARY};
use http::{HeaderValue, Request, Response, StatusCode};
use proptest::prelude::*;
use serde_json::{Value, json};
use sesi_core::{CookieFormat, DEFAULT_SALT, PyramidFormat, SetReason};
use tower::{ServiceBuilder, ServiceExt};

use crate::{
    ConfigError, CookieAction, CookieStatus, HashAlg, ManualClock, SameSite, Secret, Secrets,
    Session, SessionLayer, SessionLayerBuilder, SessionOutcome,
};

/// The tutorial's public secret, which signed the Pyramid vectors.
const SECRET: &str = "rahasia_dapur_123";
/// Vector A's `accessed`: every test clock is set relative to it.
const T: f64 = 1_764_000_000.0;
/// The default attributes, as Pyramid writes them.
const DEFAULT_ATTRS: &str = "; Path=/; SameSite=Lax";
/// The header `invalidate()` must produce with the default attributes (row 46).
const DELETION: &str =
    "session=; Max-Age=0; Path=/; expires=Thu, 01-Jan-1970 00:00:00 GMT; SameSite=Lax";

/// Hand-rolled Pyramid cookie signing and verification, sharing no code with `sesi-core`.
mod wire {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use hmac::{Hmac, Mac};
    use sha2::Sha512;

    fn mac(secret: &str) -> Hmac<Sha512> {
        // The test secrets are ASCII, so WebOb's latin-1 rule and UTF-8 give the same key.
        let key = [super::DEFAULT_SALT.as_bytes(), secret.as_bytes()].concat();
        Hmac::<Sha512>::new_from_slice(&key).expect("HMAC takes keys of any length")
    }

    /// `base64url_nopad(HMAC-SHA512(salt + secret, payload) || payload)`.
    pub fn sign(secret: &str, payload: &str) -> String {
        let mut mac = mac(secret);
        mac.update(payload.as_bytes());
        let mut bytes = mac.finalize().into_bytes().to_vec();
        bytes.extend_from_slice(payload.as_bytes());
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The payload text of a value signed by `secret`, or `None`.
    pub fn open_text(secret: &str, value: &str) -> Option<String> {
        let bytes = URL_SAFE_NO_PAD.decode(value).ok()?;
        if bytes.len() <= 64 {
            return None;
        }
        let (tag, payload) = bytes.split_at(64);
        let mut mac = mac(secret);
        mac.update(payload);
        mac.verify_slice(tag).ok()?;
        String::from_utf8(payload.to_vec()).ok()
    }

    /// The `[accessed, created, state]` JSON of a value signed by `secret`, or `None`.
    pub fn open(secret: &str, value: &str) -> Option<serde_json::Value> {
        serde_json::from_str(&open_text(secret, value)?).ok()
    }
}

fn vectors() -> Vec<Value> {
    let text = include_str!("../../../sesi-core/tests/data/pyramid-cookies.json");
    let file: Value = serde_json::from_str(text).expect("vector file is JSON");
    file["cases"].as_array().expect("cases is a list").clone()
}

fn vector(name: &str) -> String {
    vectors()
        .into_iter()
        .find(|case| case["name"] == name)
        .and_then(|case| case["cookie"].as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("vector {name} is in the file"))
}

/// Vector A: `[1764000000, 1764000000.25, {"counter": 1}]` signed by Pyramid with [`SECRET`].
fn vector_a() -> String {
    vector("counter")
}

/// Vector A with one character in its signature changed: valid base64url, bad signature.
fn tampered_a() -> String {
    flip(&vector_a(), 10)
}

/// `value` with the character at `at` swapped for another base64url character.
fn flip(value: &str, at: usize) -> String {
    let mut bytes = value.as_bytes().to_vec();
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).expect("ASCII in, ASCII out")
}

fn clock_at(now: f64) -> Arc<ManualClock> {
    Arc::new(ManualClock::new(now))
}

fn secrets() -> Secrets {
    Secrets::new(Secret::new_insecure(SECRET).expect("non-empty"))
}

fn builder(clock: &Arc<ManualClock>) -> SessionLayerBuilder {
    SessionLayer::builder(secrets()).with_clock(clock.clone())
}

fn layer(clock: &Arc<ManualClock>) -> SessionLayer {
    builder(clock).build().expect("the defaults are valid")
}

/// How a handler sees the cookie: `malformed:<kind>` for malformed ones, else the status name.
fn reason(status: &CookieStatus) -> String {
    match status {
        CookieStatus::Malformed(err) => format!("malformed:{}", err.kind()),
        other => other.name().to_owned(),
    }
}

/// Reads the counter and reports what the session was made of.
async fn read(session: Session) -> String {
    let counter: i64 = session
        .get("counter")
        .expect("the counter is an integer")
        .unwrap_or(0);
    format!(
        "{} new={} counter={counter}",
        reason(&session.status()),
        session.is_new()
    )
}

async fn count(session: Session) -> String {
    let n = session
        .update("counter", |n: &mut i64| {
            *n += 1;
            *n
        })
        .expect("the counter is an integer");
    n.to_string()
}

fn router(layer: SessionLayer) -> Router {
    Router::new()
        .route("/read", get(read))
        .route("/count", get(count))
        .route("/untouched", get(|| async { "ok" }))
        .route(
            "/changed",
            get(|session: Session| async move {
                session.changed();
                "ok"
            }),
        )
        .route(
            "/logout",
            get(|session: Session| async move {
                session.invalidate();
                "bye"
            }),
        )
        .route(
            "/login",
            get(|session: Session| async move {
                session.invalidate();
                session.insert("user", "alice").expect("a string is JSON");
                "hi"
            }),
        )
        .route(
            "/fail",
            get(|session: Session| async move {
                session.insert("counter", &41).expect("an integer is JSON");
                (StatusCode::INTERNAL_SERVER_ERROR, "boom")
            }),
        )
        .route(
            "/big/{n}",
            get(|Path(n): Path<usize>, session: Session| async move {
                session
                    .insert("k", &"x".repeat(n))
                    .expect("a string is JSON");
                "stored"
            }),
        )
        .layer(layer)
}

fn request(uri: &str, cookie_fields: &[&[u8]]) -> Request<Body> {
    let mut req = Request::builder()
        .uri(uri)
        .body(Body::empty())
        .expect("valid request");
    for field in cookie_fields {
        let value = HeaderValue::from_bytes(field).expect("test cookie fields are header values");
        req.headers_mut().append(COOKIE, value);
    }
    req
}

async fn call(app: &Router, req: Request<Body>) -> Response<Body> {
    app.clone()
        .oneshot(req)
        .await
        .expect("routers are infallible")
}

async fn text(response: Response<Body>) -> String {
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("in-memory body");
    String::from_utf8(bytes.to_vec()).expect("UTF-8 body")
}

/// GETs `uri` with `cookie_fields`, asserts 200 and returns the body.
async fn body_of(app: &Router, uri: &str, cookie_fields: &[&[u8]]) -> String {
    let response = call(app, request(uri, cookie_fields)).await;
    assert_eq!(response.status(), StatusCode::OK, "{uri} {cookie_fields:?}");
    text(response).await
}

fn header_values(headers: &http::HeaderMap, name: HeaderName) -> Vec<String> {
    headers
        .get_all(name)
        .iter()
        .map(|v| v.to_str().expect("ASCII header").to_owned())
        .collect()
}

fn set_cookies<B>(response: &Response<B>) -> Vec<String> {
    header_values(response.headers(), SET_COOKIE)
}

fn outcome<B>(response: &Response<B>) -> SessionOutcome {
    response
        .extensions()
        .get::<SessionOutcome>()
        .cloned()
        .expect("the layer records its outcome")
}

/// The value of the one `Set-Cookie` of `response`, checked to carry the default attributes.
fn the_cookie<B>(response: &Response<B>) -> String {
    let headers = set_cookies(response);
    assert_eq!(headers.len(), 1, "{headers:?}");
    let value = headers[0]
        .strip_prefix("session=")
        .and_then(|rest| rest.strip_suffix(DEFAULT_ATTRS))
        .unwrap_or_else(|| panic!("unexpected Set-Cookie {}", headers[0]));
    assert!(
        value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "row 44: value is not base64url: {value}"
    );
    value.to_owned()
}

/// The default layer, its clock stopped at `now`.
fn app_at(now: f64) -> Router {
    router(layer(&clock_at(now)))
}

/// The Set-Cookie that a fresh session at `T` holding `{"k": "x" * n}` needs, built by hand.
fn expected_big_header(n: usize) -> String {
    let payload = format!(
        r#"[1764000000, 1764000000.0, {{"k": "{}"}}]"#,
        "x".repeat(n)
    );
    format!("session={}{DEFAULT_ATTRS}", wire::sign(SECRET, &payload))
}

fn cookie_field(value: &str) -> Vec<u8> {
    format!("session={value}").into_bytes()
}

// --- The test helper itself ---------------------------------------------------------------------

#[test]
fn independent_signer_reproduces_every_default_pyramid_vector() {
    let mut checked = 0;
    for case in vectors() {
        if case["valid"] != true
            || case["secret"] != SECRET
            || case["salt"] != DEFAULT_SALT
            || case["hashalg"] != "sha512"
        {
            continue;
        }
        let cookie = case["cookie"].as_str().expect("cookie");
        let payload = wire::open_text(SECRET, cookie).expect("Pyramid's cookie verifies");
        assert_eq!(wire::sign(SECRET, &payload), cookie);
        checked += 1;
    }
    assert!(checked >= 4, "only {checked} vectors checked");
    assert_eq!(
        wire::sign(SECRET, r#"[1764000000, 1764000000.25, {"counter": 1}]"#),
        vector_a()
    );
    assert!(wire::open(SECRET, &tampered_a()).is_none());
}
