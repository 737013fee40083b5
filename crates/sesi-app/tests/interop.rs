//! Live interop against the real Pyramid: the reference app (`tests/pyramid/app.py`, Pyramid 2's
//! `SignedCookieSessionFactory` under waitress) and `sesi serve` side by side on 127.0.0.1 with
//! one secret, and one cookie jar going back and forth between them, which is what a visitor's
//! browser does while a site moves from Pyramid to sesi page by page. Also checks the `sesi
//! cookie` tools against WebOb's own serializer (`make_cookie.py`, `check_cookie.py`).
//!
//! Needs `scripts/install-test-deps.sh --only python` (see `interop_support`).

mod interop_support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::StatusCode;
use reqwest::header::LOCATION;
use serde_json::{Value, json};

use interop_support::{
    Browser, Peers, Pyramid, Sesi, Settings, flip_char, json_ok, python, sesi_cli, sets_cookie,
    stdout,
};

/// The shared secret (long enough that `sesi serve` does not warn about it).
const SECRET: &str = "interop-7f3a9c1e5b2d4f60a8e1c3b5d7f9a2c4e6b8d0f1";

fn settings() -> Settings {
    Settings::new(SECRET)
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs_f64()
}

// ------------------------------------------------------------------------------------ app calls

/// Pyramid `GET /counter`.
async fn pyramid_counter(b: &Browser, p: &Pyramid) -> i64 {
    let body = b.get_json(&p.url("/counter")).await;
    body["counter"].as_i64().expect("counter is an integer")
}

/// Pyramid `GET /session`: reads without touching the session.
async fn pyramid_session(b: &Browser, p: &Pyramid) -> Value {
    b.get_json(&p.url("/session")).await
}

/// sesi `GET /`: the counter page; returns the number it shows.
async fn sesi_counter_page(b: &Browser, s: &Sesi) -> i64 {
    let html = b.get_text(&s.url("/")).await;
    let (_, rest) = html
        .split_once(r#"id="counter">"#)
        .unwrap_or_else(|| panic!("no counter on the page: {html}"));
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().expect("counter is a number")
}

/// sesi `GET /api/session`.
async fn sesi_session(b: &Browser, s: &Sesi) -> Value {
    b.get_json(&s.url("/api/session")).await
}

/// sesi's CSRF token for this session.
async fn sesi_csrf(b: &Browser, s: &Sesi) -> String {
    let body = sesi_session(b, s).await;
    body["csrf_token"]
        .as_str()
        .expect("csrf_token is a string")
        .to_owned()
}

/// sesi `POST /api/counter` with the CSRF header.
async fn sesi_api_counter(b: &Browser, s: &Sesi, token: &str) -> i64 {
    let res = b
        .client
        .post(s.url("/api/counter"))
        .header("X-CSRF-Token", token)
        .send()
        .await
        .expect("POST /api/counter");
    json_ok(res).await["counter"]
        .as_i64()
        .expect("counter is an integer")
}

/// sesi `POST /api/cart/items`; returns the priced cart.
async fn sesi_add_item(b: &Browser, s: &Sesi, product_id: &str, quantity: i64) -> Value {
    let token = sesi_csrf(b, s).await;
    let res = b
        .client
        .post(s.url("/api/cart/items"))
        .header("X-CSRF-Token", token)
        .json(&json!({"product_id": product_id, "quantity": quantity}))
        .send()
        .await
        .expect("POST /api/cart/items");
    let status = res.status();
    let body = res.text().await.expect("body");
    assert_eq!(status, StatusCode::CREATED, "{body}");
    serde_json::from_str(&body).expect("cart JSON")
}

/// sesi's priced cart as `[(product_id, quantity)]`.
fn sesi_lines(cart: &Value) -> Vec<(String, u64)> {
    cart["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|l| {
            (
                l["product_id"].as_str().expect("id").to_owned(),
                l["quantity"].as_u64().expect("quantity"),
            )
        })
        .collect()
}

/// Pyramid `POST /cart/add`; returns `session['cart']`.
async fn pyramid_add_item(b: &Browser, p: &Pyramid, product_id: &str, quantity: i64) -> Value {
    let res = b
        .client
        .post(p.url("/cart/add"))
        .query(&[
            ("product_id", product_id),
            ("quantity", &quantity.to_string()),
        ])
        .send()
        .await
        .expect("POST /cart/add");
    json_ok(res).await["cart"].clone()
}

/// Pyramid `POST /flash`.
async fn pyramid_flash(b: &Browser, p: &Pyramid, msg: &str, queue: &str) {
    let res = b
        .client
        .post(p.url("/flash"))
        .query(&[("msg", msg), ("queue", queue)])
        .send()
        .await
        .expect("POST /flash");
    assert_eq!(json_ok(res).await, json!({"queued": msg}));
}

/// Pyramid `GET /flash/pop` or `/flash/peek` of `queue`.
async fn pyramid_flashes(b: &Browser, p: &Pyramid, route: &str, queue: &str) -> Value {
    let res = b
        .client
        .get(p.url(route))
        .query(&[("queue", queue)])
        .send()
        .await
        .expect("GET flash");
    json_ok(res).await["messages"].clone()
}

/// The `class="flash..."` paragraphs of a sesi page, as `(class, text)`.
fn flash_paragraphs(html: &str) -> Vec<(String, String)> {
    html.split(r#"<p class="flash"#)
        .skip(1)
        .map(|rest| {
            let class = rest.split('"').next().unwrap_or_default();
            let text = rest
                .split_once('>')
                .and_then(|(_, t)| t.split_once("</p>"))
                .map(|(t, _)| t)
                .unwrap_or_default();
            (format!("flash{class}"), text.to_owned())
        })
        .collect()
}

// ------------------------------------------------------------------------------------ sessions

#[tokio::test]
async fn counter_alternates_between_pyramid_and_sesi() {
    let Some(py) = python() else { return };
    let peers = Peers::start(&py, &settings());
    let b = Browser::new();
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
    let Some(py) = python() else { return };
    let peers = Peers::start(&py, &settings());
    let b = Browser::new();
    let cart = pyramid_add_item(&b, &peers.pyramid, "bakso", 2).await;
    assert_eq!(cart, json!({"bakso": 2}));

    let read = b.get_json(&peers.sesi.url("/api/cart")).await;
    assert_eq!(sesi_lines(&read), [("bakso".to_owned(), 2)]);
    assert_eq!(read["total"], 40_000);

    sesi_add_item(&b, &peers.sesi, "rendang", 1).await;
    let cart = sesi_add_item(&b, &peers.sesi, "bakso", 1).await;
    assert_eq!(
        sesi_lines(&cart),
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
    let Some(py) = python() else { return };
    let peers = Peers::start(&py, &settings());
    let b = Browser::new();
    sesi_add_item(&b, &peers.sesi, "bakso", 1).await;

    let state = &pyramid_session(&b, &peers.pyramid).await["state"];
    assert_eq!(state["cart"], json!({"bakso": 1}));

    pyramid_add_item(&b, &peers.pyramid, "bakso", 2).await;
    let cart = pyramid_add_item(&b, &peers.pyramid, "rendang", 1).await;
    assert_eq!(cart.to_string(), r#"{"bakso":3,"rendang":1}"#);

    let read = b.get_json(&peers.sesi.url("/api/cart")).await;
    assert_eq!(
        sesi_lines(&read),
        [("bakso".to_owned(), 3), ("rendang".to_owned(), 1)]
    );
    assert_eq!(read["total"], 3 * 20_000 + 35_000);
    assert_eq!(read["items"], 4);
}

#[tokio::test]
async fn flash_queued_on_pyramid_is_shown_once_by_sesi() {
    let Some(py) = python() else { return };
    let peers = Peers::start(&py, &settings());
    let b = Browser::new();
    pyramid_flash(&b, &peers.pyramid, "Kopi ☕ siap", "").await;
    pyramid_flash(&b, &peers.pyramid, "Stok habis", "error").await;

    let html = b.get_text(&peers.sesi.url("/cart")).await;
    assert_eq!(
        flash_paragraphs(&html),
        [
            ("flash".to_owned(), "Kopi ☕ siap".to_owned()),
            ("flash error".to_owned(), "Stok habis".to_owned()),
        ]
    );

    let again = b.get_text(&peers.sesi.url("/cart")).await;
    assert_eq!(flash_paragraphs(&again), []);
    for queue in ["", "error"] {
        let left = pyramid_flashes(&b, &peers.pyramid, "/flash/peek", queue).await;
        assert_eq!(left, json!([]), "queue {queue:?} was popped by sesi");
    }
}

#[tokio::test]
async fn flash_queued_by_sesi_is_popped_once_by_pyramid() {
    let Some(py) = python() else { return };
    let peers = Peers::start(&py, &settings());
    let b = Browser::new();
    let token = sesi_csrf(&b, &peers.sesi).await;
    let res = b
        .client
        .post(peers.sesi.url("/cart/add"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("product_id", "bakso"),
            ("quantity", "2"),
        ])
        .send()
        .await
        .expect("POST /cart/add");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()[LOCATION], "/cart");

    let popped = pyramid_flashes(&b, &peers.pyramid, "/flash/pop", "").await;
    assert_eq!(popped, json!(["Added to your cart: Bakso"]));
    let popped = pyramid_flashes(&b, &peers.pyramid, "/flash/pop", "").await;
    assert_eq!(popped, json!([]));

    // Pyramid's rewrite kept the cart, and sesi no longer has a message to show.
    let html = b.get_text(&peers.sesi.url("/cart")).await;
    assert_eq!(flash_paragraphs(&html), []);
    assert!(
        html.contains(r#"data-product-id="bakso" data-qty="2""#),
        "{html}"
    );
}

#[tokio::test]
async fn csrf_token_is_the_same_on_both_sides() {
    let Some(py) = python() else { return };
    let peers = Peers::start(&py, &settings());

    // Made by Pyramid, read and honoured by sesi.
    let b = Browser::new();
    let body = b.get_json(&peers.pyramid.url("/csrf")).await;
    let token = body["csrf_token"].as_str().expect("token").to_owned();
    assert_eq!(token.len(), 40);
    assert!(token.bytes().all(|c| c.is_ascii_hexdigit()), "{token}");
    assert_eq!(sesi_csrf(&b, &peers.sesi).await, token);
    assert_eq!(sesi_api_counter(&b, &peers.sesi, &token).await, 1);

    // A new token from Pyramid replaces it on sesi too; the old one is refused.
    let body = b.post_json(&peers.pyramid.url("/csrf/new")).await;
    let renewed = body["csrf_token"].as_str().expect("token").to_owned();
    assert_ne!(renewed, token);
    assert_eq!(sesi_csrf(&b, &peers.sesi).await, renewed);
    let res = b
        .client
        .post(peers.sesi.url("/api/counter"))
        .header("X-CSRF-Token", &token)
        .send()
        .await
        .expect("POST /api/counter");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // Made by sesi, read by Pyramid.
    let b = Browser::new();
    let token = sesi_csrf(&b, &peers.sesi).await;
    let body = b.get_json(&peers.pyramid.url("/csrf")).await;
    assert_eq!(body["csrf_token"], token.as_str());
}

#[tokio::test]
async fn invalidate_on_either_side_empties_the_session_on_the_other() {
    let Some(py) = python() else { return };
    let peers = Peers::start(&py, &settings());

    // Pyramid's invalidate() writes a signed cookie with an empty state.
    let b = Browser::new();
    assert_eq!(pyramid_counter(&b, &peers.pyramid).await, 1);
    assert_eq!(sesi_counter_page(&b, &peers.sesi).await, 2);
    b.post_json(&peers.pyramid.url("/invalidate")).await;
    assert!(b.cookie("session").is_some(), "Pyramid keeps the cookie");
    assert_eq!(sesi_counter_page(&b, &peers.sesi).await, 1);

    // sesi's removes the cookie.
    let b = Browser::new();
    assert_eq!(pyramid_counter(&b, &peers.pyramid).await, 1);
    assert_eq!(sesi_counter_page(&b, &peers.sesi).await, 2);
    let token = sesi_csrf(&b, &peers.sesi).await;
    let res = b
        .client
        .post(peers.sesi.url("/session/reset"))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .expect("POST /session/reset");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(b.cookie("session"), None, "sesi deleted the cookie");
    let session = pyramid_session(&b, &peers.pyramid).await;
    assert_eq!(session["new"], true);
    assert_eq!(session["state"], json!({}));
    assert_eq!(pyramid_counter(&b, &peers.pyramid).await, 1);
}

// ------------------------------------------------------------------------------------ settings

#[tokio::test]
async fn sha256_and_custom_salt_work_when_both_agree_and_fail_against_defaults() {
    let Some(py) = python() else { return };
    let custom = Settings {
        hashalg: Some("sha256"),
        salt: Some("warung.session."),
        ..settings()
    };
    let peers = Peers::start(&py, &custom);
    let defaults = Peers::start(&py, &settings());
    let b = Browser::new();
    assert_eq!(pyramid_counter(&b, &peers.pyramid).await, 1);
    assert_eq!(sesi_counter_page(&b, &peers.sesi).await, 2);
    assert_eq!(pyramid_counter(&b, &peers.pyramid).await, 3);
    let cookie = b.cookie("session").expect("cookie");

    // WebOb verifies it only with sha256 and that salt; so does sesi.
    let read = py
        .check_cookie(&[
            "--secret",
            SECRET,
            "--hashalg",
            "sha256",
            "--salt",
            "warung.session.",
            &cookie,
        ])
        .expect("Pyramid verifies the cookie with sha256 and the salt");
    assert_eq!(pyramid_triple(&read).2["counter"], 3, "{read}");
    let err = py
        .check_cookie(&["--secret", SECRET, &cookie])
        .expect_err("not with the defaults");
    assert!(err.contains("Invalid signature"), "{err}");

    // Peers on the default settings start a fresh session instead.
    assert_eq!(pyramid_counter(&b, &defaults.pyramid).await, 1);
    b.set_cookie("session", &cookie);
    assert_eq!(sesi_counter_page(&b, &defaults.sesi).await, 1);
    b.set_cookie("session", &cookie);
    assert_eq!(
        sesi_session(&b, &defaults.sesi).await["status"],
        "bad-signature"
    );

    // And the custom pair rejects a default cookie.
    let b = Browser::new();
    assert_eq!(pyramid_counter(&b, &defaults.pyramid).await, 1);
    assert_eq!(sesi_counter_page(&b, &defaults.sesi).await, 2);
    assert_eq!(sesi_counter_page(&b, &peers.sesi).await, 1);
}

#[tokio::test]
async fn custom_cookie_name_is_shared_and_other_cookies_are_ignored() {
    let Some(py) = python() else { return };
    let named = Settings {
        cookie_name: Some("warung_sid"),
        ..settings()
    };
    let peers = Peers::start(&py, &named);
    let b = Browser::new();
    // A valid cookie under the default name, which neither side should look at.
    let decoy = sesi_cli(
        &["cookie", "encode", "--secret", SECRET, r#"{"counter": 99}"#],
        None,
    );
    assert!(decoy.status.success());
    b.set_cookie("session", stdout(&decoy).trim());

    assert_eq!(pyramid_counter(&b, &peers.pyramid).await, 1);
    assert_eq!(sesi_counter_page(&b, &peers.sesi).await, 2);
    assert_eq!(pyramid_counter(&b, &peers.pyramid).await, 3);
    let mut names = b.cookie_names();
    names.sort();
    assert_eq!(names, ["session", "warung_sid"]);
    assert_eq!(b.cookie("session").as_deref(), Some(stdout(&decoy).trim()));
}

#[tokio::test]
async fn timeout_none_and_reissue_time_none_on_both_sides() {
    let Some(py) = python() else { return };
    // A cookie last touched in 2001: only a peer without a timeout still accepts it.
    let old = sesi_cli(
        &[
            "cookie",
            "encode",
            "--secret",
            SECRET,
            "--accessed",
            "1000000000",
            "--created",
            "1000000000.5",
            r#"{"counter": 41}"#,
        ],
        None,
    );
    assert!(old.status.success());
    let old = stdout(&old).trim().to_owned();

    let never = Settings {
        timeout: Some("none"),
        reissue_time: Some("none"),
        ..settings()
    };
    let reissuing = Settings {
        timeout: Some("none"),
        ..settings()
    };
    let peers = Peers::start(&py, &never);
    let control = Peers::start(&py, &reissuing);

    let b = Browser::new();
    b.set_cookie("session", &old);
    assert_eq!(pyramid_counter(&b, &peers.pyramid).await, 42);
    assert_eq!(sesi_counter_page(&b, &peers.sesi).await, 43);
    assert_eq!(pyramid_counter(&b, &peers.pyramid).await, 44);

    // Reads never re-issue the cookie with reissue_time none, however old `accessed` is...
    b.set_cookie("session", &old);
    let res = b
        .client
        .get(peers.pyramid.url("/flash/peek"))
        .send()
        .await
        .expect("GET");
    assert!(!sets_cookie(&res), "Pyramid re-issued on a read");
    let res = b
        .client
        .get(peers.sesi.url("/api/cart"))
        .send()
        .await
        .expect("GET");
    assert!(!sets_cookie(&res), "sesi re-issued on a read");
    assert_eq!(b.cookie("session").as_deref(), Some(old.as_str()));

    // ...while with the default reissue_time (0) the same reads do.
    let res = b
        .client
        .get(control.pyramid.url("/flash/peek"))
        .send()
        .await
        .expect("GET");
    assert!(sets_cookie(&res), "Pyramid did not re-issue");
    b.set_cookie("session", &old);
    let res = b
        .client
        .get(control.sesi.url("/api/cart"))
        .send()
        .await
        .expect("GET");
    assert!(sets_cookie(&res), "sesi did not re-issue");

    // A default-timeout peer (the control with timeout 1200 would be the same) drops it.
    let defaults = Sesi::start(&settings());
    b.set_cookie("session", &old);
    assert_eq!(sesi_counter_page(&b, &defaults).await, 1);
}

#[tokio::test]
async fn session_timed_out_on_one_side_is_empty_on_the_other() {
    let Some(py) = python() else { return };
    let short = Settings {
        timeout: Some("2"),
        ..settings()
    };
    let peers = Peers::start(&py, &short);

    // Last written by Pyramid.
    let a = Browser::new();
    assert_eq!(pyramid_counter(&a, &peers.pyramid).await, 1);
    assert_eq!(sesi_counter_page(&a, &peers.sesi).await, 2);
    assert_eq!(pyramid_counter(&a, &peers.pyramid).await, 3);
    // Last written by sesi.
    let b = Browser::new();
    assert_eq!(sesi_counter_page(&b, &peers.sesi).await, 1);
    assert_eq!(pyramid_counter(&b, &peers.pyramid).await, 2);
    assert_eq!(sesi_counter_page(&b, &peers.sesi).await, 3);

    // `accessed` is a whole second, so after 3.2 s at least 3 s have passed: more than 2.
    tokio::time::sleep(Duration::from_millis(3200)).await;

    let seen = sesi_session(&a, &peers.sesi).await;
    assert_eq!(seen["status"], "expired");
    assert_eq!(seen["state"].get("counter"), None, "{seen}");
    assert_eq!(sesi_counter_page(&a, &peers.sesi).await, 1);

    let seen = pyramid_session(&b, &peers.pyramid).await;
    assert_eq!(seen["state"], json!({}), "{seen}");
    assert_eq!(pyramid_counter(&b, &peers.pyramid).await, 1);
}

#[tokio::test]
async fn tampered_cookie_starts_fresh_session_on_both_sides() {
    let Some(py) = python() else { return };
    let peers = Peers::start(&py, &settings());
    let b = Browser::new();
    assert_eq!(pyramid_counter(&b, &peers.pyramid).await, 1);
    assert_eq!(sesi_counter_page(&b, &peers.sesi).await, 2);

    // A cookie written by sesi, one character changed in the signature.
    let cookie = b.cookie("session").expect("cookie");
    b.set_cookie("session", &flip_char(&cookie, 5));
    let seen = pyramid_session(&b, &peers.pyramid).await;
    assert_eq!(seen["new"], true, "{seen}");
    assert_eq!(seen["state"], json!({}));
    assert_eq!(
        sesi_session(&b, &peers.sesi).await["status"],
        "bad-signature"
    );
    b.set_cookie("session", &flip_char(&cookie, 5));
    assert_eq!(sesi_counter_page(&b, &peers.sesi).await, 1);
    assert_eq!(pyramid_counter(&b, &peers.pyramid).await, 2);

    // A cookie written by Pyramid, one character changed in the signed JSON.
    let cookie = b.cookie("session").expect("cookie");
    let middle = cookie.len() - 20;
    b.set_cookie("session", &flip_char(&cookie, middle));
    assert_eq!(
        sesi_session(&b, &peers.sesi).await["status"],
        "bad-signature"
    );
    b.set_cookie("session", &flip_char(&cookie, middle));
    assert_eq!(sesi_counter_page(&b, &peers.sesi).await, 1);
    b.set_cookie("session", &flip_char(&cookie, middle));
    assert_eq!(pyramid_counter(&b, &peers.pyramid).await, 1);

    // The untouched cookie was fine all along.
    b.set_cookie("session", &cookie);
    assert_eq!(sesi_counter_page(&b, &peers.sesi).await, 3);
}

// ------------------------------------------------------------------------------------ sesi cookie

fn sesi_encode(args: &[&str]) -> String {
    let mut all = vec!["cookie", "encode"];
    all.extend_from_slice(args);
    let out = sesi_cli(&all, None);
    assert!(
        out.status.success(),
        "sesi {all:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout(&out).trim().to_owned()
}

/// What `sesi cookie decode` printed, taken apart.
#[derive(Debug)]
struct Decoded {
    verified_by: String,
    accessed_raw: String,
    created_raw: String,
    accessed_date: String,
    state: Value,
}

fn sesi_decode(args: &[&str]) -> Decoded {
    let mut all = vec!["cookie", "decode"];
    all.extend_from_slice(args);
    let out = sesi_cli(&all, None);
    let text = stdout(&out);
    assert!(
        out.status.success(),
        "sesi {all:?}: {}{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = |label: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(label))
            .unwrap_or_else(|| panic!("no {label:?} line in:\n{text}"))
            .trim()
            .to_owned()
    };
    // `accessed  2025-11-24 16:00:00 UTC (1764000000)`
    let split = |l: String| {
        let (date, raw) = l.rsplit_once(" (").expect("DATE (RAW)");
        (date.to_owned(), raw.trim_end_matches(')').to_owned())
    };
    let (accessed_date, accessed_raw) = split(line("accessed"));
    let (_, created_raw) = split(line("created"));
    let (_, state) = text.split_once("state:\n").expect("state");
    let state_end = state.find("\n}").map_or(state.len(), |i| i + 2);
    Decoded {
        verified_by: line("verified  by"),
        accessed_raw,
        created_raw,
        accessed_date,
        state: serde_json::from_str(&state[..state_end]).expect("state is JSON"),
    }
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

#[tokio::test]
async fn cli_encode_output_is_accepted_by_pyramid() {
    let Some(py) = python() else { return };
    let state = json!({"counter": 41, "cart": {"bakso": 2}, "_f_": ["Selamat datang ☕"]});
    let state_text = state.to_string();

    // Given timestamps: WebOb reads back exactly what was asked for.
    let fixed = sesi_encode(&[
        "--secret",
        SECRET,
        "--accessed",
        "1764000000",
        "--created",
        "1764000000.25",
        &state_text,
    ]);
    let line = py
        .check_cookie(&["--secret", SECRET, &fixed])
        .expect("Pyramid verifies it");
    let (accessed, created, read) = pyramid_triple(&line);
    assert_eq!(
        (accessed.as_str(), created.as_str()),
        ("1764000000", "1764000000.25")
    );
    assert_eq!(read.to_string(), state_text, "same state, same key order");

    // Default timestamps are now, an int and a float like Pyramid's own.
    let before = now();
    let fresh = sesi_encode(&["--secret", SECRET, &state_text]);
    let line = py
        .check_cookie(&["--secret", SECRET, "--timeout", "60", &fresh])
        .expect("Pyramid verifies it and it is not expired");
    let (accessed, created, _) = pyramid_triple(&line);
    let accessed: i64 = accessed.parse().expect("accessed is an int");
    assert!(
        (accessed as f64 - before).abs() < 5.0,
        "{accessed} vs {before}"
    );
    assert!(created.contains('.'), "created is a float: {created}");

    // Hash algorithm and salt are honoured.
    let custom = sesi_encode(&[
        "--secret",
        SECRET,
        "--hashalg",
        "sha384",
        "--salt",
        "",
        &state_text,
    ]);
    py.check_cookie(&[
        "--secret",
        SECRET,
        "--hashalg",
        "sha384",
        "--salt",
        "",
        &custom,
    ])
    .expect("sha384 with the empty salt");
    py.check_cookie(&["--secret", SECRET, &custom])
        .expect_err("not with the defaults");

    // The Pyramid app takes the session over.
    let p = Pyramid::start(&py, &settings());
    let b = Browser::new();
    b.set_cookie("session", &fresh);
    let seen = pyramid_session(&b, &p).await;
    assert_eq!(seen["new"], false);
    assert_eq!(seen["state"], state);
    assert_eq!(pyramid_counter(&b, &p).await, 42);
    let popped = pyramid_flashes(&b, &p, "/flash/pop", "").await;
    assert_eq!(popped, json!(["Selamat datang ☕"]));
}

#[tokio::test]
async fn cli_decode_reads_what_the_pyramid_app_wrote() {
    let Some(py) = python() else { return };
    let p = Pyramid::start(&py, &settings());
    let b = Browser::new();
    pyramid_counter(&b, &p).await;
    pyramid_add_item(&b, &p, "rendang", 2).await;
    pyramid_flash(&b, &p, "Terima kasih, é ☕ 😀", "").await;
    let token = b.get_json(&p.url("/csrf")).await["csrf_token"].clone();
    let cookie = b.cookie("session").expect("cookie");

    let seen = pyramid_session(&b, &p).await;
    let (accessed, created, state) = pyramid_triple(
        &py.check_cookie(&["--secret", SECRET, &cookie])
            .expect("valid"),
    );
    assert_eq!(state, seen["state"]);
    assert_eq!(state["_csrft_"], token);

    let decoded = sesi_decode(&["--secret", SECRET, &cookie]);
    assert!(
        decoded.verified_by.contains("the current secret"),
        "{decoded:?}"
    );
    assert_eq!(decoded.accessed_raw, accessed);
    assert_eq!(decoded.created_raw, created, "Python's float repr");
    assert_eq!(
        decoded.accessed_raw.parse::<f64>().ok(),
        seen["accessed"].as_f64()
    );
    assert_eq!(
        decoded.created_raw.parse::<f64>().ok(),
        seen["created"].as_f64()
    );
    assert_eq!(decoded.state.to_string(), seen["state"].to_string());
}

#[test]
fn cli_decode_reads_make_cookie_output_exactly() {
    let Some(py) = python() else { return };
    let state = r#"{"counter": 7, "cart": {"kopi-tubruk": 2}, "nama": "Kopi ☕ é 😀", "_f_error": ["Stok habis"]}"#;
    for (hashalg, salt) in [
        ("sha512", "pyramid.session."),
        ("sha1", "pyramid.session."),
        ("sha256", ""),
    ] {
        let cookie = py.make_cookie(&[
            "--secret",
            SECRET,
            "--hashalg",
            hashalg,
            "--salt",
            salt,
            "--accessed",
            "1764000000",
            "--created",
            "1763999899.875",
            state,
        ]);
        let decoded = sesi_decode(&[
            "--secret",
            SECRET,
            "--hashalg",
            hashalg,
            "--salt",
            salt,
            &cookie,
        ]);
        assert_eq!(decoded.accessed_raw, "1764000000");
        assert_eq!(decoded.accessed_date, "2025-11-24 16:00:00 UTC");
        assert_eq!(decoded.created_raw, "1763999899.875");
        let expected: Value = serde_json::from_str(state).expect("JSON");
        assert_eq!(decoded.state.to_string(), expected.to_string());
        assert!(
            decoded.verified_by.contains(hashalg),
            "{hashalg}: {decoded:?}"
        );
    }
}

#[test]
fn cli_encode_matches_make_cookie_byte_for_byte() {
    let Some(py) = python() else { return };
    let states = [
        r#"{}"#,
        r#"{"counter": 1}"#,
        r#"{"nama": "Kopi Tubruk ☕", "kota": "Yogyakarta é", "emoji": "😀", "ctl": "tab\t\"q\" \\ / \u0000 \u007f"}"#,
        r#"{"f": [1e-07, 1e+22, 0.1, 1e16, 1.5e300, 1.0, -0.0, 5e-324, 123456789.123, 2.5e-5]}"#,
        r#"{"t": 0.30000000000000004, "u": 1795626880.6376545, "v": 1.7976931348623157e308}"#,
        r#"{"a": {"b": [1, {"c": null, "d": true, "e": false}]}, "": [], "z": {}}"#,
        r#"{"max_u64": 18446744073709551615, "min_i64": -9223372036854775808, "big": 9007199254740993}"#,
        r#"{"z": 1, "a": 2, "m": 3}"#,
        r#"{"_f_": ["Ditambahkan"], "_f_error": ["Stok habis"], "_csrft_": "a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1"}"#,
    ];
    let stamps = [
        ("1764000000", "1764000000.25"),
        ("1764000000", "1764000000.0"),
        ("1795625508", "1795625508.3302891"),
        ("1795626880", "1795626880.6376545"),
        ("0", "1e-07"),
    ];
    for (i, state) in states.iter().enumerate() {
        let (accessed, created) = stamps[i % stamps.len()];
        for hashalg in ["sha512", "sha256"] {
            let args = [
                "--secret",
                SECRET,
                "--hashalg",
                hashalg,
                "--accessed",
                accessed,
                "--created",
                created,
                state,
            ];
            let ours = sesi_encode(&args);
            let theirs = py.make_cookie(&args);
            assert_eq!(ours, theirs, "{hashalg} {accessed} {created} {state}");
        }
    }
}

#[test]
fn cli_encode_reads_the_state_from_stdin_like_make_cookie() {
    let Some(py) = python() else { return };
    let state = "{\"counter\": 3, \"nama\": \"é\"}\n";
    let args = [
        "--secret",
        SECRET,
        "--accessed",
        "1764000000",
        "--created",
        "1764000000.5",
        "-",
    ];
    let mut all = vec!["cookie", "encode"];
    all.extend_from_slice(&args);
    let ours = sesi_cli(&all, Some(state));
    assert!(ours.status.success());
    let theirs = py.script("make_cookie.py", &args, Some(state));
    assert!(theirs.status.success());
    assert_eq!(stdout(&ours), stdout(&theirs));
}
