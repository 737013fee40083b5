//! The middleware's fine-grained rules, driven in-process with `oneshot` and a frozen clock.
//!
//! Inputs are built with an independent signer (`wire`: hmac + sha2 + base64 directly, like
//! Pyramid's own `_serialize` test helper), so a bug shared by sesi's encoder and decoder cannot
//! hide. Row numbers refer to `security-checklist.md`.

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
use sesi_core::{Codec, DEFAULT_SALT, SetReason};
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
    let text = include_str!("../../sesi-core/tests/data/pyramid-cookies.json");
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

// --- Loading and writing Pyramid's cookies (rows 1, 2, 21, 22, 23, 25, 40) ----------------------

#[tokio::test]
async fn pyramid_vector_a_loads_at_t_plus_100_with_counter_1() {
    let app = router(layer(&clock_at(T + 100.0)));
    let a = cookie_field(&vector_a());
    assert_eq!(
        body_of(&app, "/read", &[&a]).await,
        "valid new=false counter=1"
    );
}

#[tokio::test]
async fn fresh_session_written_at_the_frozen_time_is_vector_a_in_the_exact_default_header() {
    // A fresh session created at T+0.25 has created=1764000000.25 and accessed=int(T): vector A.
    let app = router(layer(&clock_at(T + 0.25)));
    let response = call(&app, request("/count", &[])).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        set_cookies(&response),
        [format!("session={}; Path=/; SameSite=Lax", vector_a())]
    );
    assert_eq!(text(response).await, "1");
}

#[tokio::test]
async fn re_encoding_vector_a_within_its_own_second_reproduces_it_byte_for_byte() {
    let app = router(layer(&clock_at(T + 0.5)));
    let a = cookie_field(&vector_a());
    let response = call(&app, request("/changed", &[&a])).await;
    assert_eq!(the_cookie(&response), vector_a());
    assert_eq!(
        outcome(&response).action,
        CookieAction::Set(SetReason::Changed)
    );

    // The empty-state vector is a fresh session that was only marked changed, at T.
    let app = app_at(T);
    let response = call(&app, request("/changed", &[])).await;
    assert_eq!(the_cookie(&response), vector("empty-state"));
}

fn app_at(now: f64) -> Router {
    router(layer(&clock_at(now)))
}

#[tokio::test]
async fn idle_boundary_is_inclusive_at_timeout_and_expired_one_second_later() {
    let a = cookie_field(&vector_a());
    assert_eq!(
        body_of(&app_at(T + 1200.0), "/read", &[&a]).await,
        "valid new=false counter=1"
    );
    let app = app_at(T + 1201.0);
    let response = call(&app, request("/read", &[&a])).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        set_cookies(&response).is_empty(),
        "row 22: an expired cookie that is only read is not re-set"
    );
    assert_eq!(text(response).await, "expired new=true counter=0");
}

#[tokio::test]
async fn untouched_request_gets_no_set_cookie_no_vary_and_no_cache_control() {
    let a = cookie_field(&vector_a());
    let bad = cookie_field(&tampered_a());
    // Vector A at T+100 would be re-issued if it were read.
    let app = app_at(T + 100.0);
    for fields in [vec![], vec![a.as_slice()], vec![bad.as_slice()]] {
        let response = call(&app, request("/untouched", &fields)).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(set_cookies(&response).is_empty(), "{fields:?}");
        assert!(response.headers().get(VARY).is_none(), "{fields:?}");
        assert!(
            response.headers().get(CACHE_CONTROL).is_none(),
            "{fields:?}"
        );
        let outcome = outcome(&response);
        assert!(outcome.status.is_none(), "the cookie was not even decoded");
        assert_eq!(outcome.action, CookieAction::None);
    }
}

#[tokio::test]
async fn read_in_the_same_second_sets_no_cookie_and_a_later_second_reissues() {
    let clock = clock_at(T + 0.9);
    let app = router(layer(&clock));
    let a = cookie_field(&vector_a());

    let response = call(&app, request("/read", &[&a])).await;
    assert!(set_cookies(&response).is_empty());
    assert_eq!(
        header_values(response.headers(), VARY),
        ["Cookie"],
        "a read still makes the response depend on the cookie"
    );
    assert_eq!(outcome(&response).action, CookieAction::None);

    clock.set(T + 1.0);
    let response = call(&app, request("/read", &[&a])).await;
    assert_eq!(
        outcome(&response).action,
        CookieAction::Set(SetReason::Reissued)
    );
    let value = the_cookie(&response);
    assert_eq!(
        wire::open_text(SECRET, &value).expect("signed with the secret"),
        r#"[1764000001, 1764000000.25, {"counter": 1}]"#,
        "accessed moves to now, created and state are unchanged"
    );
}

// --- Reading the Cookie header (rows 14-20) -----------------------------------------------------

#[tokio::test]
async fn every_cookie_header_field_is_read() {
    let app = app_at(T + 100.0);
    let a = cookie_field(&vector_a());
    let after = [b"session=".as_slice(), vector_a().as_bytes(), b"; b=2"].concat();
    for fields in [
        vec![b"a=1".as_slice(), &a],
        vec![&a, b"b=2".as_slice()],
        vec![b"a=1".as_slice(), &after, b"c=3"],
    ] {
        assert_eq!(
            body_of(&app, "/read", &fields).await,
            "valid new=false counter=1",
            "{fields:?}"
        );
    }
}

#[tokio::test]
async fn duplicate_session_cookies_last_one_wins_in_either_order() {
    let app = app_at(T + 100.0);
    let (a, bad) = (vector_a(), tampered_a());
    let valid_last = format!("session={bad}; session={a}").into_bytes();
    let valid_first = format!("session={a}; session={bad}").into_bytes();
    let (fa, fbad) = (cookie_field(&a), cookie_field(&bad));
    let loaded = "valid new=false counter=1";
    let discarded = "bad-signature new=true counter=0";
    assert_eq!(body_of(&app, "/read", &[&valid_last]).await, loaded);
    assert_eq!(body_of(&app, "/read", &[&valid_first]).await, discarded);
    assert_eq!(body_of(&app, "/read", &[&fbad, &fa]).await, loaded);
    assert_eq!(body_of(&app, "/read", &[&fa, &fbad]).await, discarded);
}

#[tokio::test]
async fn cookie_names_match_exactly_and_case_sensitively() {
    let a = vector_a();
    let app = app_at(T + 100.0);
    for name in [
        "Session",
        "SESSION",
        "sessionx",
        "xsession",
        "session-",
        "__Host-session",
    ] {
        let field = format!("{name}={a}").into_bytes();
        assert_eq!(
            body_of(&app, "/read", &[&field]).await,
            "absent new=true counter=0",
            "{name}"
        );
    }
    // RFC 6265bis 5.6 trims whitespace around the name and the value, as WebOb does.
    let spaced = format!("a=1;  session = {a} ").into_bytes();
    assert_eq!(
        body_of(&app, "/read", &[&spaced]).await,
        "valid new=false counter=1"
    );

    // The prefix of a hardened cookie is matched case-sensitively too.
    let clock = clock_at(T + 100.0);
    let hardened = router(builder(&clock).hardened().build().expect("valid preset"));
    let lower = format!("__host-session={a}").into_bytes();
    let exact = format!("session={a}; __Host-session={a}").into_bytes();
    assert_eq!(
        body_of(&hardened, "/read", &[&lower]).await,
        "absent new=true counter=0"
    );
    assert_eq!(
        body_of(&hardened, "/read", &[&exact]).await,
        "valid new=false counter=1"
    );
}

#[tokio::test]
async fn two_hundred_pairs_or_a_huge_unrelated_cookie_still_find_the_session() {
    let app = app_at(T + 100.0);
    let a = vector_a();
    let mut pairs: Vec<String> = (0..200).map(|i| format!("c{i}=v{i}")).collect();
    pairs.insert(137, format!("session={a}"));
    let many = pairs.join("; ").into_bytes();
    let huge = format!("big={}; session={a}", "x".repeat(64 * 1024)).into_bytes();
    let loaded = "valid new=false counter=1";
    assert_eq!(body_of(&app, "/read", &[&many]).await, loaded);
    assert_eq!(body_of(&app, "/read", &[&huge]).await, loaded);
}

#[tokio::test]
async fn finding_the_cookie_among_a_hundred_thousand_pairs_takes_linear_time() {
    let app = app_at(T + 100.0);
    let mut header = (0..100_000)
        .map(|i| format!("c{i}=v"))
        .collect::<Vec<_>>()
        .join("; ");
    header.push_str(&format!("; session={}", vector_a()));
    let started = Instant::now();
    let body = body_of(&app, "/read", &[header.as_bytes()]).await;
    let elapsed = started.elapsed();
    assert_eq!(body, "valid new=false counter=1");
    // A quadratic scan of 1.3 MB would take minutes; a linear one takes milliseconds.
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
}

#[tokio::test]
async fn control_chars_obs_text_and_invalid_utf8_give_a_fresh_session_or_are_ignored() {
    // NUL, CR, LF and other CTLs cannot even form a header value, so they never reach the layer.
    for ctl in [
        b"session=\0".as_slice(),
        b"session=a\r\nb",
        b"session=\x01",
        b"s=\x7f",
    ] {
        assert!(HeaderValue::from_bytes(ctl).is_err(), "{ctl:?}");
    }
    let app = app_at(T + 100.0);
    let a = vector_a();
    let mut tab_inside = cookie_field(&a);
    tab_inside.insert(20, b'\t');
    for field in [
        b"session=\x80\xff".to_vec(),
        b"session=\xc3\x28".to_vec(),
        [&cookie_field(&a), b"\xff".as_slice()].concat(),
        [b"session=\xe9".as_slice(), a.as_bytes()].concat(),
        tab_inside,
    ] {
        assert_eq!(
            body_of(&app, "/read", &[&field]).await,
            "malformed:bad_base64 new=true counter=0",
            "{field:?}"
        );
    }
    // A neighbouring pair with obs-text does not spoil the session cookie.
    let neighbour = [
        b"a=\xff\xfe; session=".as_slice(),
        a.as_bytes(),
        b"; z=\x80",
    ]
    .concat();
    assert_eq!(
        body_of(&app, "/read", &[&neighbour]).await,
        "valid new=false counter=1"
    );
}

#[tokio::test]
async fn empty_bare_and_quoted_session_values_give_a_fresh_session() {
    let app = app_at(T + 100.0);
    let quoted = format!("session=\"{}\"", vector_a()).into_bytes();
    for (fields, expected) in [
        (vec![], "absent new=true counter=0"),
        (
            vec![b"session=".as_slice()],
            "malformed:too_short new=true counter=0",
        ),
        (vec![b"session".as_slice()], "absent new=true counter=0"),
        (
            vec![b"session; a=1".as_slice()],
            "absent new=true counter=0",
        ),
        (
            vec![quoted.as_slice()],
            "malformed:bad_base64 new=true counter=0",
        ),
    ] {
        assert_eq!(
            body_of(&app, "/read", &fields).await,
            expected,
            "{fields:?}"
        );
    }
}

#[tokio::test]
async fn oversized_values_are_discarded_unread_with_a_fresh_session() {
    let app = app_at(T + 100.0);
    // Valid base64url characters, so only the length check can reject them.
    for len in [4097, 8 * 1024, 64 * 1024, 1024 * 1024] {
        let field = format!("session={}", "A".repeat(len)).into_bytes();
        let response = call(&app, request("/count", &[&field])).await;
        assert_eq!(response.status(), StatusCode::OK, "{len}");
        let status = outcome(&response).status.expect("touched");
        assert_eq!(reason(&status), "malformed:oversized", "{len}");
        assert_eq!(text(response).await, "1", "{len}");
    }
}

// --- Keys (row 33) ------------------------------------------------------------------------------

#[tokio::test]
async fn cookie_signed_by_a_fallback_secret_is_reissued_under_the_current_secret_only() {
    const CURRENT: &str = "the new secret, rotated in this quarter, 40+ bytes";
    let current = Secret::new(CURRENT).expect("long enough");
    let rotated = Secrets::new(current.clone())
        .with_fallback(Secret::new_insecure(SECRET).expect("non-empty"))
        .expect("one fallback");
    let layer = SessionLayer::builder(rotated)
        .with_clock(clock_at(T + 100.0))
        // Reads never re-issue: only the rotation can cause the Set-Cookie.
        .with_reissue_time(None)
        .with_timeout(None)
        .build()
        .expect("valid");
    let app = router(layer);
    let a = cookie_field(&vector_a());
    let response = call(&app, request("/read", &[&a])).await;
    let outcome = outcome(&response);
    assert!(matches!(
        outcome.status,
        Some(CookieStatus::ValidOldKey { key_index: 1 })
    ));
    assert_eq!(outcome.action, CookieAction::Set(SetReason::Rotated));
    let value = the_cookie(&response);
    assert_eq!(text(response).await, "old-key new=false counter=1");

    let only_current = Codec::new(&Secrets::new(current), DEFAULT_SALT, HashAlg::Sha512);
    let decoded = only_current
        .decode(&value)
        .expect("verifies under the current secret alone");
    assert_eq!(decoded.key_index, 0);
    assert_eq!(decoded.record.state["counter"], 1);
    assert!(wire::open(CURRENT, &value).is_some());
    assert!(
        wire::open(SECRET, &value).is_none(),
        "never signed by the fallback"
    );
}

// --- Invalidation (rows 45, 46) -----------------------------------------------------------------

#[tokio::test]
async fn invalidate_sends_the_exact_deletion_header() {
    let app = app_at(T + 100.0);
    let a = cookie_field(&vector_a());
    let response = call(&app, request("/logout", &[&a])).await;
    assert_eq!(set_cookies(&response), [DELETION]);
    assert_eq!(outcome(&response).action, CookieAction::Deleted);
}

#[tokio::test]
async fn invalidate_then_write_sends_only_the_new_data() {
    let app = app_at(T + 100.0);
    let a = cookie_field(&vector_a());
    let response = call(&app, request("/login", &[&a])).await;
    let value = the_cookie(&response);
    assert_eq!(
        wire::open_text(SECRET, &value).expect("signed with the secret"),
        r#"[1764000100, 1764000100.0, {"user": "alice"}]"#,
        "no counter from the old session, and a new `created`"
    );
}

// --- Errors in the handler (row 48) -------------------------------------------------------------

#[tokio::test]
async fn server_error_after_a_write_still_sets_the_cookie_by_default() {
    let app = app_at(T + 100.0);
    let response = call(&app, request("/fail", &[])).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let value = the_cookie(&response);
    assert_eq!(
        wire::open(SECRET, &value).expect("signed")[2],
        json!({"counter": 41})
    );
    assert_eq!(text(response).await, "boom");
}

#[tokio::test]
async fn server_error_after_a_write_sets_no_cookie_when_set_on_exception_is_off() {
    let clock = clock_at(T + 100.0);
    let app = router(
        builder(&clock)
            .with_set_on_exception(false)
            .build()
            .expect("valid"),
    );
    let response = call(&app, request("/fail", &[])).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(set_cookies(&response).is_empty());
    assert_eq!(outcome(&response).action, CookieAction::SkippedOnError);
    assert_eq!(
        text(response).await,
        "boom",
        "the handler's response is kept"
    );
    // A successful write through the same layer is still saved.
    let response = call(&app, request("/count", &[])).await;
    assert_eq!(set_cookies(&response).len(), 1);
}

// --- Caching headers (row 49) -------------------------------------------------------------------

/// The response of a plain tower service behind the layer that reads the session (when `touch`)
/// and answers with `headers`.
async fn respond_with(headers: &[(HeaderName, &'static str)], touch: bool) -> Response<String> {
    let headers = headers.to_vec();
    let service =
        ServiceBuilder::new()
            .layer(layer(&clock_at(T)))
            .service_fn(move |req: Request<String>| {
                let headers = headers.clone();
                async move {
                    let session = Session::from_extensions(req.extensions()).expect("layer ran");
                    if touch {
                        let _ = session.get_value("counter");
                    }
                    let mut response = Response::new(String::from("ok"));
                    for (name, value) in headers {
                        response
                            .headers_mut()
                            .append(name, HeaderValue::from_static(value));
                    }
                    Ok::<_, Infallible>(response)
                }
            });
    service
        .oneshot(Request::new(String::new()))
        .await
        .expect("infallible")
}

#[tokio::test]
async fn touched_response_gets_vary_cookie_and_cache_control_private() {
    let response = respond_with(&[], true).await;
    assert_eq!(header_values(response.headers(), VARY), ["Cookie"]);
    assert_eq!(
        header_values(response.headers(), CACHE_CONTROL),
        ["private"]
    );
    let response = respond_with(&[], false).await;
    assert!(response.headers().get(VARY).is_none());
    assert!(response.headers().get(CACHE_CONTROL).is_none());
}

#[tokio::test]
async fn vary_cookie_is_merged_once_with_an_existing_vary() {
    let response = respond_with(&[(VARY, "Accept-Encoding")], true).await;
    let vary = header_values(response.headers(), VARY);
    let tokens: Vec<String> = vary
        .iter()
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .collect();
    assert_eq!(tokens, ["accept-encoding", "cookie"], "{vary:?}");
}

#[tokio::test]
async fn an_existing_vary_cookie_in_any_case_or_vary_star_is_not_duplicated() {
    for existing in ["cookie", "Accept-Encoding, COOKIE", "*"] {
        let response = respond_with(&[(VARY, existing)], true).await;
        assert_eq!(header_values(response.headers(), VARY), [existing]);
    }
    // A second Vary field that already names Cookie counts too.
    let response = respond_with(&[(VARY, "Accept-Encoding"), (VARY, "Cookie")], true).await;
    assert_eq!(
        header_values(response.headers(), VARY),
        ["Accept-Encoding", "Cookie"]
    );
}

#[tokio::test]
async fn cache_control_private_is_merged_with_existing_directives() {
    for (existing, merged) in [
        ("max-age=60", "private, max-age=60"),
        ("public, max-age=60", "private, max-age=60"),
        ("must-revalidate, PUBLIC", "private, must-revalidate"),
    ] {
        let response = respond_with(&[(CACHE_CONTROL, existing)], true).await;
        assert_eq!(
            header_values(response.headers(), CACHE_CONTROL),
            [merged],
            "{existing}"
        );
    }
}

#[tokio::test]
async fn cache_control_directives_from_every_field_are_kept_when_merging() {
    let response = respond_with(
        &[(CACHE_CONTROL, "max-age=60"), (CACHE_CONTROL, "no-cache")],
        true,
    )
    .await;
    assert_eq!(
        header_values(response.headers(), CACHE_CONTROL),
        ["private, max-age=60, no-cache"]
    );
}

#[tokio::test]
async fn cache_control_no_store_or_private_is_left_untouched() {
    for existing in ["no-store", "private, max-age=0", "max-age=0, No-Store"] {
        let response = respond_with(&[(CACHE_CONTROL, existing)], true).await;
        assert_eq!(
            header_values(response.headers(), CACHE_CONTROL),
            [existing],
            "{existing}"
        );
    }
}

// --- Cookie size (rows 39, 65) ------------------------------------------------------------------

/// The Set-Cookie that a fresh session at `T` holding `{"k": "x" * n}` needs, built by hand.
fn expected_big_header(n: usize) -> String {
    let payload = format!(
        r#"[1764000000, 1764000000.0, {{"k": "{}"}}]"#,
        "x".repeat(n)
    );
    format!("session={}{DEFAULT_ATTRS}", wire::sign(SECRET, &payload))
}

#[tokio::test]
async fn session_growing_past_4096_bytes_is_a_clear_500_without_set_cookie() {
    let app = app_at(T);
    let largest = (2500..3500)
        .rev()
        .find(|&n| expected_big_header(n).len() <= 4096)
        .expect("the limit lies in the range");

    let response = call(&app, request(&format!("/big/{largest}"), &[])).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        set_cookies(&response),
        [expected_big_header(largest)],
        "the largest cookie that fits is sent, byte for byte"
    );

    let too_big = expected_big_header(largest + 1).len();
    assert!(too_big > 4096);
    let response = call(&app, request(&format!("/big/{}", largest + 1), &[])).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(set_cookies(&response).is_empty());
    assert_eq!(
        outcome(&response).action,
        CookieAction::TooLarge { bytes: too_big },
        "the reported size is the size of the header that was not sent"
    );
    let body = text(response).await;
    assert!(
        body.contains(&format!(
            "session grew too large to store in a cookie ({too_big} bytes, the limit is 4096)"
        )),
        "{body}"
    );
    assert!(
        !body.contains("xxxx"),
        "the session data is not echoed: {body}"
    );
}

// --- Configuration (rows 41-43) -----------------------------------------------------------------

fn config_error(builder: SessionLayerBuilder) -> (&'static str, String) {
    match builder.build() {
        Err(ConfigError::Cookie { what, value, .. }) => (what, value),
        Err(other) => panic!("expected a cookie error, got {other}"),
        Ok(layer) => panic!("accepted {:?}", layer.cookie_settings()),
    }
}

#[test]
fn host_prefix_without_secure_or_with_domain_or_narrow_path_is_a_config_error() {
    let clock = clock_at(T);
    let host = || builder(&clock).with_cookie_name("__Host-session");
    assert_eq!(config_error(host()).0, "name");
    assert_eq!(
        config_error(host().with_secure(true).with_path("/app")).0,
        "name"
    );
    assert_eq!(
        config_error(
            host()
                .with_secure(true)
                .with_domain(Some("example.com".into()))
        )
        .0,
        "name"
    );
    assert_eq!(
        config_error(builder(&clock).with_cookie_name("__Secure-session")).0,
        "name"
    );
    let valid = host()
        .with_secure(true)
        .build()
        .expect("Secure, Path=/ and no Domain is a valid __Host- cookie");
    assert_eq!(valid.cookie_settings().name, "__Host-session");
}

#[test]
fn same_site_none_without_secure_is_a_config_error() {
    let clock = clock_at(T);
    let none = || builder(&clock).with_same_site(Some(SameSite::None));
    assert_eq!(config_error(none()).0, "same_site");
    let valid = none()
        .with_secure(true)
        .build()
        .expect("SameSite=None with Secure is valid");
    assert_eq!(valid.cookie_settings().same_site, Some(SameSite::None));
}

#[test]
fn header_injection_payloads_in_name_path_or_domain_are_config_errors() {
    let clock = clock_at(T);
    let b = || builder(&clock);
    for name in [
        "session; Domain=.parent.tld",
        "session\r\nSet-Cookie: x=y",
        "ses sion",
        "a,b",
        "a=b",
        "",
        "séance",
    ] {
        assert_eq!(
            config_error(b().with_cookie_name(name)),
            ("name", name.to_owned())
        );
    }
    for path in [
        "/; HttpOnly",
        "/a,b",
        "/a b",
        "/x\r\nX-Evil: 1",
        "relative",
        "",
    ] {
        assert_eq!(config_error(b().with_path(path)), ("path", path.to_owned()));
    }
    for domain in [
        "legit.com; Domain=.parent.tld",
        "evil.com,other.com",
        " example.com",
        "exa mple.com",
        "example.com\r\n",
        "",
        ".",
        "-bad.com",
    ] {
        assert_eq!(
            config_error(b().with_domain(Some(domain.to_owned()))),
            ("domain", domain.to_owned())
        );
    }
}

#[test]
fn zero_max_age_is_a_config_error() {
    // `Max-Age=0` deletes the cookie the moment it is set: no session could ever persist.
    let clock = clock_at(T);
    for max_age in [Duration::ZERO, Duration::from_millis(500)] {
        assert_eq!(
            config_error(builder(&clock).with_max_age(Some(max_age))).0,
            "max_age"
        );
    }
}

#[tokio::test]
async fn domain_max_age_and_path_attributes_follow_webobs_order() {
    let clock = clock_at(T);
    let app = router(
        builder(&clock)
            .with_max_age(Some(Duration::from_secs(3600)))
            .with_domain(Some(".example.com".into()))
            .with_path("/shop")
            .build()
            .expect("valid"),
    );
    let response = call(&app, request("/count", &[])).await;
    let headers = set_cookies(&response);
    let value = wire::sign(SECRET, r#"[1764000000, 1764000000.0, {"counter": 1}]"#);
    assert_eq!(
        headers,
        [format!(
            "session={value}; Domain=.example.com; Max-Age=3600; Path=/shop; SameSite=Lax"
        )]
    );
}

#[tokio::test]
async fn hardened_preset_emits_a_host_prefixed_secure_http_only_cookie() {
    let clock = clock_at(T);
    let app = router(builder(&clock).hardened().build().expect("valid preset"));
    let response = call(&app, request("/count", &[])).await;
    let value = wire::sign(SECRET, r#"[1764000000, 1764000000.0, {"counter": 1}]"#);
    assert_eq!(
        set_cookies(&response),
        [format!(
            "__Host-session={value}; Path=/; secure; HttpOnly; SameSite=Lax"
        )]
    );
}

// --- Extractor and tower use --------------------------------------------------------------------

#[tokio::test]
async fn extractor_without_the_layer_is_a_500_that_names_the_fix() {
    let app = Router::new().route("/count", get(count));
    let response = call(&app, request("/count", &[])).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = text(response).await;
    assert!(body.contains("is SessionLayer installed"), "{body}");
}

#[tokio::test]
async fn from_extensions_works_in_a_plain_tower_service_without_axum() {
    let handler = |req: Request<String>| async move {
        let body = match Session::from_extensions(req.extensions()) {
            Some(session) => session
                .update("counter", |n: &mut i64| {
                    *n += 1;
                    *n
                })
                .expect("integer counter")
                .to_string(),
            None => "no session".to_owned(),
        };
        Ok::<_, Infallible>(Response::new(body))
    };
    let service = ServiceBuilder::new()
        .layer(layer(&clock_at(T + 100.0)))
        .service_fn(handler);
    let mut req = Request::new(String::new());
    req.headers_mut().insert(
        COOKIE,
        HeaderValue::try_from(format!("session={}", vector_a())).expect("ASCII"),
    );
    let response = service.oneshot(req).await.expect("infallible");
    assert_eq!(response.body(), "2");
    let value = the_cookie(&response);
    assert_eq!(
        wire::open(SECRET, &value).expect("signed")[2],
        json!({"counter": 2})
    );

    let bare = tower::service_fn(handler);
    let response = bare
        .oneshot(Request::new(String::new()))
        .await
        .expect("infallible");
    assert_eq!(response.body(), "no session");
}

// --- Logging (row 66) ---------------------------------------------------------------------------

#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl LogBuffer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }
}

#[tokio::test]
async fn discarded_cookie_reason_is_logged_once_at_debug_without_value_or_secret() {
    let logs = LogBuffer::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    // tracing caches each callsite's interest globally. While only one dispatcher exists, a
    // callsite first hit on another test's thread (no subscriber there) is cached as "never" and
    // this test would see nothing; with a second live dispatcher tracing asks all of them.
    let _second_dispatcher = tracing::Dispatch::new(tracing_subscriber::registry());

    // The signed payload carries a marker, to prove raw JSON never reaches the log.
    let not_json = wire::sign(SECRET, "MARKER-PAYLOAD not json");
    let cases = [
        (tampered_a(), T + 100.0, "bad-signature"),
        (vector_a(), T + 5000.0, "expired"),
        (not_json, T + 100.0, "malformed"),
        ("!!!not-base64!!!".to_owned(), T + 100.0, "malformed"),
    ];
    for (cookie, now, expected) in &cases {
        let before = logs.text().len();
        let app = app_at(*now);
        let field = cookie_field(cookie);
        let discarded = |text: &str| {
            text.lines()
                .filter(|l| l.contains("discarded session cookie"))
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        // An untouched session is never decoded, so there is nothing to log.
        let _ = body_of(&app, "/untouched", &[&field]).await;
        assert!(discarded(&logs.text()[before..]).is_empty());

        // `/count` reads and then writes: still one event per request.
        let _ = body_of(&app, "/read", &[&field]).await;
        let _ = body_of(&app, "/count", &[&field]).await;
        let text = logs.text();
        let new = &text[before..];
        let lines = discarded(new);
        assert_eq!(
            lines.len(),
            2,
            "one event per request: {new} ALL: {}",
            logs.text()
        );
        for line in lines {
            assert!(line.contains("DEBUG"), "{line}");
            assert!(line.contains(expected), "{line}");
        }
        for window in cookie.as_bytes().windows(12) {
            let window = std::str::from_utf8(window).expect("ASCII cookie");
            assert!(!new.contains(window), "cookie value logged: {new}");
        }
    }
    let all = logs.text();
    assert!(!all.contains(SECRET), "{all}");
    assert!(!all.contains("MARKER"), "{all}");
}

// --- Arbitrary input (rows 16, 63, 44) ----------------------------------------------------------

/// Bytes that `HeaderValue` accepts: CTLs (never deliverable) are moved into printable ASCII, but
/// tabs, obs-text and invalid UTF-8 are kept.
fn deliverable(bytes: Vec<u8>) -> Vec<u8> {
    bytes
        .into_iter()
        .map(|b| match b {
            b'\t' => b,
            0..=0x1f => b | 0x40,
            0x7f => b'?',
            _ => b,
        })
        .collect()
}

fn cookie_header_bytes() -> impl Strategy<Value = Vec<u8>> {
    let raw = proptest::collection::vec(any::<u8>(), 0..300);
    prop_oneof![
        raw.clone(),
        raw.clone()
            .prop_map(|b| [b"a=1; session=".as_slice(), &b].concat()),
        (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(at, byte)| {
            let mut a = vector_a().into_bytes();
            let at = at.index(a.len());
            a[at] = byte;
            [b"session=".as_slice(), &a].concat()
        }),
        raw.prop_map(|b| [b"session=".as_slice(), vector_a().as_bytes(), b";", &b].concat()),
    ]
    .prop_map(deliverable)
}

proptest! {
    #[test]
    fn arbitrary_cookie_header_bytes_never_panic_and_answer_200(
        fields in proptest::collection::vec(cookie_header_bytes(), 0..3)
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        let app = app_at(T + 100.0);
        let refs: Vec<&[u8]> = fields.iter().map(Vec::as_slice).collect();
        let response = runtime.block_on(call(&app, request("/count", &refs)));
        prop_assert_eq!(response.status(), StatusCode::OK);
        let value = the_cookie(&response);
        let record = wire::open(SECRET, &value);
        prop_assert!(record.is_some(), "the new cookie verifies independently");
        let body = runtime.block_on(text(response));
        let n: i64 = body.parse().expect("a counter");
        prop_assert!(n == 1 || n == 2, "{}", body);
    }
}

/// A page that only asks `is_new()` depends on the cookie too: it must not be shared by caches,
/// though nothing is sent back.
#[tokio::test]
async fn a_getter_alone_marks_the_response_private_without_a_cookie() {
    let clock = clock_at(T + 100.0);
    let app = Router::new()
        .route(
            "/",
            get(|session: Session| async move {
                if session.is_new() {
                    "welcome"
                } else {
                    "welcome back"
                }
            }),
        )
        .layer(layer(&clock));
    let a = cookie_field(&vector_a());
    let response = call(&app, request("/", &[a.as_slice()])).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(set_cookies(&response).is_empty());
    assert_eq!(header_values(response.headers(), VARY), ["Cookie"]);
    assert_eq!(
        header_values(response.headers(), CACHE_CONTROL),
        ["private"]
    );
    assert_eq!(text(response).await, "welcome back");
}
