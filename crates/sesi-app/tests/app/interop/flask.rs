//! Sessions shared live with the real Flask 3.1: its reference app (`tests/flask/app.py`, the
//! default `SecureCookieSessionInterface` under waitress) and `sesi serve --cookie-format flask`
//! with the same `SECRET_KEY`, one cookie jar going back and forth, in both directions.

use serde_json::{Value, json};

use super::{browser, sesi_add_item, sesi_counter_page};
use crate::support::html::{csrf_field, notices};
use crate::support::http::{Visitor, api_lines, form_encode};
use crate::support::load;
use crate::support::process::{SesiServer, run_sesi};
use crate::support::pyramid::python;
use crate::support::python_app::{Framework, PythonApp};

/// Flask's `secrets.token_hex()` shape, as its docs suggest for `SECRET_KEY`.
const KEY: &str = "5f1d2c3b4a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0aa";
const OLD_KEY: &str = "0a9b8c7d6e5f40312233445566778899aabbccddeeff00112233445566778899";
/// Flask's default `PERMANENT_SESSION_LIFETIME` (31 days), the signature's max age.
const LIFETIME: &str = "2678400";

fn flask(keys: &[&str]) -> Option<PythonApp> {
    let py = python()?;
    Some(PythonApp::start(
        &py,
        Framework::Flask,
        keys[0],
        &keys[1..],
        &[],
    ))
}

fn sesi(keys: &[&str]) -> SesiServer {
    let mut args = vec![
        "--cookie-format=flask".to_owned(),
        format!("--timeout={LIFETIME}"),
    ];
    args.extend(keys.iter().map(|k| format!("--secret={k}")));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    SesiServer::serve(&[], &args)
}

/// `sesi cookie encode --cookie-format=flask` of `state` with [`KEY`]: the cookie value.
fn encode_for_flask(state: &str) -> String {
    let out = run_sesi(
        &[
            "cookie",
            "encode",
            "--cookie-format=flask",
            "--secret",
            KEY,
            state,
        ],
        &[],
        None,
    );
    assert!(out.status.success(), "{}", out.stderr);
    out.stdout.trim().to_owned()
}

async fn flask_counter(b: &Visitor, app: &PythonApp) -> i64 {
    let body = b.at(&app.base).get_json("/counter").await;
    body["counter"].as_i64().expect("counter is an integer")
}

async fn flask_session(b: &Visitor, app: &PythonApp) -> Value {
    b.at(&app.base).get_json("/session").await
}

async fn flask_post(b: &Visitor, app: &PythonApp, route: &str, fields: &[(&str, &str)]) -> Value {
    let query = form_encode(fields);
    b.at(&app.base).post_json(&format!("{route}?{query}")).await
}

#[tokio::test]
async fn counter_and_cart_go_back_and_forth_between_flask_and_sesi() {
    let _share = load::share().await;
    let Some(app) = flask(&[KEY]) else { return };
    let sesi = sesi(&[KEY]);
    let b = browser();
    assert_eq!(flask_counter(&b, &app).await, 1);
    assert_eq!(
        sesi_counter_page(&b, &sesi).await,
        2,
        "sesi read Flask's cookie"
    );
    assert_eq!(flask_counter(&b, &app).await, 3, "Flask read sesi's cookie");
    assert_eq!(sesi_counter_page(&b, &sesi).await, 4);

    let cart = flask_post(
        &b,
        &app,
        "/cart/add",
        &[("product_id", "bakso"), ("quantity", "2")],
    )
    .await;
    assert_eq!(cart["cart"], json!({"bakso": 2}));
    let cart = sesi_add_item(&b, &sesi, "rendang", 1).await;
    assert_eq!(
        api_lines(&cart),
        [("bakso".to_owned(), 2), ("rendang".to_owned(), 1)]
    );
    let seen = flask_session(&b, &app).await;
    assert_eq!(seen["state"]["cart"], json!({"bakso": 2, "rendang": 1}));
    assert_eq!(seen["state"]["counter"], 4);
    // The inspector names the format it read the cookie with.
    let inspector = b.at(&sesi.base).get("/session").await;
    assert!(
        inspector.body.contains(r#"<code id="format">flask</code>"#),
        "{}",
        inspector.body
    );
    assert_eq!(b.cookie_names(), ["session"], "one cookie, Flask's name");
    assert!(!app.log().contains("Traceback"), "{}", app.log());
}

#[tokio::test]
async fn flashes_cross_over_as_flasks_categories() {
    let _share = load::share().await;
    let Some(app) = flask(&[KEY]) else { return };
    let sesi = sesi(&[KEY]);
    let b = browser();
    // sesi's cart form queues a notice; Flask's get_flashed_messages() shows it as a "message".
    let page = b.at(&sesi.base).get("/cart").await;
    let token = csrf_field(&page.body);
    b.at(&sesi.base)
        .post_form(
            "/cart/add",
            &[
                ("csrf_token", &token),
                ("product_id", "kopi-tubruk"),
                ("quantity", "1"),
            ],
        )
        .await
        .expect_status(303);
    let shown = b.at(&app.base).get_json("/flashes").await;
    assert_eq!(
        shown["messages"],
        json!([["message", "Added to your cart: Kopi Tubruk"]])
    );
    // ... and popped there: sesi no longer has it.
    assert!(notices(&b.at(&sesi.base).get("/cart").await.body).is_empty());

    // Flask's flash() in its default category is a notice on sesi's next page, shown once.
    flask_post(&b, &app, "/flash", &[("msg", "Salam dari Flask")]).await;
    flask_post(
        &b,
        &app,
        "/flash",
        &[("msg", "Kept for Flask"), ("category", "info")],
    )
    .await;
    let page = b.at(&sesi.base).get("/cart").await;
    assert_eq!(notices(&page.body), ["Salam dari Flask"]);
    assert!(notices(&b.at(&sesi.base).get("/cart").await.body).is_empty());
    // A category sesi's pages do not show stays for Flask.
    let shown = b.at(&app.base).get_json("/flashes").await;
    assert_eq!(shown["messages"], json!([["info", "Kept for Flask"]]));
}

#[tokio::test]
async fn flasks_tagged_values_keep_their_python_types_through_sesi() {
    let _share = load::share().await;
    let Some(app) = flask(&[KEY]) else { return };
    let sesi = sesi(&[KEY]);
    let b = browser();
    let values = [
        ("t", "tuple", "[1, \"dua\", [3]]"),
        ("b", "bytes", "h\u{e9}llo"),
        ("m", "markup", "<b>tebal</b>"),
        ("u", "uuid", "12345678-1234-5678-1234-567812345678"),
        ("d", "datetime", "1764000000"),
        ("g", "tagdict", "\"not a tuple\""),
    ];
    for (key, kind, value) in values {
        flask_post(
            &b,
            &app,
            "/set-typed",
            &[("key", key), ("kind", kind), ("value", value)],
        )
        .await;
    }
    flask_post(&b, &app, "/permanent", &[("on", "1")]).await;
    let before = b.at(&app.base).get_json("/typed").await;
    assert_eq!(before["t"]["type"], "tuple", "{before}");
    assert_eq!(before["g"]["repr"], "{' t': 'not a tuple'}", "{before}");

    // sesi changes the session (so it re-signs every value) and Flask reads it back unchanged.
    assert_eq!(sesi_counter_page(&b, &sesi).await, 1);
    let after = b.at(&app.base).get_json("/typed").await;
    for (key, _, _) in values {
        assert_eq!(after[key], before[key], "{key}");
    }
    assert_eq!(after["counter"]["type"], "int");
    assert_eq!(flask_session(&b, &app).await["permanent"], true);
}

#[tokio::test]
async fn secret_key_fallbacks_rotate_on_both_sides() {
    let _share = load::share().await;
    let Some(old_app) = flask(&[OLD_KEY]) else {
        return;
    };
    let b = browser();
    assert_eq!(flask_counter(&b, &old_app).await, 1);
    // sesi signs with the new key and still reads the old one: the cookie comes back re-signed,
    // and Flask on the new key (old one in SECRET_KEY_FALLBACKS) reads both.
    let sesi = sesi(&[KEY, OLD_KEY]);
    assert_eq!(sesi_counter_page(&b, &sesi).await, 2);
    let new_app = flask(&[KEY, OLD_KEY]).expect("python was found above");
    assert_eq!(flask_counter(&b, &new_app).await, 3);
    // Without the fallback, Flask on the old key alone no longer reads sesi's cookie: it was
    // re-signed with the new key.
    assert_eq!(sesi_counter_page(&b, &sesi).await, 4);
    assert_eq!(flask_counter(&b, &old_app).await, 1, "a fresh session");
}

#[tokio::test]
async fn a_cookie_signed_with_another_key_is_a_fresh_session_on_both_sides() {
    let _share = load::share().await;
    let Some(app) = flask(&[OLD_KEY]) else { return };
    let sesi = sesi(&[KEY]);
    let b = browser();
    assert_eq!(flask_counter(&b, &app).await, 1);
    assert_eq!(flask_counter(&b, &app).await, 2);
    assert_eq!(sesi_counter_page(&b, &sesi).await, 1, "sesi starts afresh");
    assert_eq!(flask_counter(&b, &app).await, 1, "and so does Flask");
    assert!(!app.log().contains("Traceback"), "{}", app.log());
}

#[tokio::test]
async fn the_cookie_tools_write_what_flask_reads_and_read_what_flask_writes() {
    let _share = load::share().await;
    let Some(app) = flask(&[KEY]) else { return };
    let b = browser();
    // `sesi cookie encode`: a session Flask takes as its own, tuple and all.
    let state = r#"{"counter": 41, "t": {" t": [1, "dua"]}}"#;
    let cookie = encode_for_flask(state);
    b.set_cookie("session", &cookie);
    assert_eq!(flask_counter(&b, &app).await, 42);
    let typed = b.at(&app.base).get_json("/typed").await;
    assert_eq!(typed["t"], json!({"type": "tuple", "repr": "(1, 'dua')"}));

    // A dict that only looks tagged (form data can make one) is escaped as Flask escapes it:
    // Flask reads a dict, not a broken UUID (which would be its 500).
    let state = r#"{"form": {" u": "not-a-uuid"}, "counter": 1}"#;
    let cookie = encode_for_flask(state);
    let looks_tagged = browser();
    looks_tagged.set_cookie("session", &cookie);
    let typed = looks_tagged.at(&app.base).get_json("/typed").await;
    assert_eq!(
        typed["form"],
        json!({"type": "dict", "repr": "{' u': 'not-a-uuid'}"})
    );

    // `sesi cookie decode` of the cookie Flask wrote back.
    let cookie = b.cookie().expect("Flask's cookie");
    let out = run_sesi(
        &[
            "cookie",
            "decode",
            "--cookie-format=flask",
            "--secret",
            KEY,
            &cookie,
        ],
        &[],
        None,
    );
    assert!(out.status.success(), "{}", out.stderr);
    assert!(out.stdout.contains("\"counter\": 42"), "{}", out.stdout);
    assert!(
        out.stdout.contains("itsdangerous HMAC-SHA1"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("created   (not recorded by this cookie format)"),
        "{}",
        out.stdout
    );
}
