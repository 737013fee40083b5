//! Sessions shared live with the real Django 5.2: its reference app (`tests/django/app.py`,
//! `SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"` under waitress) and
//! `sesi serve --cookie-format django` with the same `SECRET_KEY`, one cookie jar going back and
//! forth, in both directions. (Django 6.x shares the format by its source but needs Python 3.12;
//! only 5.2 runs here.)

use serde_json::{Value, json};

use super::{browser, sesi_add_item, sesi_counter_page};
use crate::support::html::csrf_field;
use crate::support::http::{Reply, Visitor, api_lines, form_encode};
use crate::support::load;
use crate::support::process::{SesiServer, run_sesi};
use crate::support::pyramid::python;
use crate::support::python_app::{Framework, PythonApp};

/// The shape of Django's `get_random_secret_key()`: 50 characters of its alphabet.
const KEY: &str = "k3v!x9^q_2m@w7z(e8r-t5y=u1i+o4p)a6s%d0f#g$h&j*l3b7";
const OLD_KEY: &str = "0ld-k3y_w!th+f1fty=ch4r4ct3rs(0f)dj4ng0s%4lph4b3t#";

fn django(keys: &[&str]) -> Option<PythonApp> {
    let py = python()?;
    Some(PythonApp::start(
        &py,
        Framework::Django,
        keys[0],
        &keys[1..],
        &[],
    ))
}

/// `sesi serve --cookie-format django` on its defaults, which are Django's: the cookie name
/// `sessionid` and SESSION_COOKIE_AGE as the timeout.
fn sesi(keys: &[&str]) -> SesiServer {
    let mut args = vec!["--cookie-format=django".to_owned()];
    args.extend(keys.iter().map(|k| format!("--secret={k}")));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    SesiServer::serve(&[], &args)
}

async fn django_counter(b: &Visitor, app: &PythonApp) -> i64 {
    let body = b.at(&app.base).get_json("/counter").await;
    body["counter"].as_i64().expect("counter is an integer")
}

async fn django_session(b: &Visitor, app: &PythonApp) -> Value {
    b.at(&app.base).get_json("/session").await
}

async fn django_post(b: &Visitor, app: &PythonApp, route: &str, fields: &[(&str, &str)]) -> Value {
    let query = form_encode(fields);
    b.at(&app.base).post_json(&format!("{route}?{query}")).await
}

/// The `Set-Cookie` of Django's session cookie name in `reply`.
fn sessionid_set_cookie(reply: &Reply) -> String {
    let cookies = reply.set_cookies();
    let mut ours = cookies.iter().filter(|c| c.starts_with("sessionid="));
    let found = ours
        .next()
        .expect("the session cookie is re-issued")
        .clone();
    assert!(ours.next().is_none(), "one session cookie: {cookies:?}");
    found
}

#[tokio::test]
async fn counter_and_cart_go_back_and_forth_between_django_and_sesi() {
    let _share = load::share().await;
    let Some(app) = django(&[KEY]) else { return };
    let sesi = sesi(&[KEY]);
    let b = browser();
    assert_eq!(django_counter(&b, &app).await, 1);
    assert_eq!(
        sesi_counter_page(&b, &sesi).await,
        2,
        "sesi read Django's cookie"
    );
    assert_eq!(
        django_counter(&b, &app).await,
        3,
        "Django read sesi's cookie"
    );
    assert_eq!(sesi_counter_page(&b, &sesi).await, 4);

    let cart = django_post(
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
    let seen = django_session(&b, &app).await;
    assert_eq!(seen["state"]["cart"], json!({"bakso": 2, "rendang": 1}));
    assert_eq!(seen["state"]["counter"], 4);
    // The inspector names the format it read the cookie with.
    let inspector = b.at(&sesi.base).get("/session").await;
    assert!(
        inspector
            .body
            .contains(r#"<code id="format">django</code>"#),
        "{}",
        inspector.body
    );
    assert_eq!(b.cookie_names(), ["sessionid"], "one cookie, Django's name");
}

#[tokio::test]
async fn a_per_session_expiry_means_the_same_on_both_sides() {
    let _share = load::share().await;
    let Some(app) = django(&[KEY]) else { return };
    let sesi = sesi(&[KEY]);
    let b = browser();
    // Django's set_expiry(600): sesi keeps the visitor 600 s after each visit, in its cookie too.
    django_post(&b, &app, "/expiry", &[("seconds", "600")]).await;
    let reply = b.at(&sesi.base).get("/").await;
    let set_cookie = sessionid_set_cookie(&reply);
    assert!(set_cookie.contains("Max-Age=600"), "{set_cookie}");

    // sesi's "remember me" (30 days) is Django's get_expiry_age().
    let page = b.at(&sesi.base).get("/cart").await;
    let token = csrf_field(&page.body);
    b.at(&sesi.base)
        .post_form(
            "/cart/remember",
            &[("csrf_token", &token), ("remember", "on")],
        )
        .await
        .expect_status(303);
    let seen = django_session(&b, &app).await;
    assert_eq!(seen["expiry_age"], 2_592_000, "{seen}");
    assert_eq!(seen["at_browser_close"], false);

    // Django's set_expiry(0) is sesi's browser-session cookie: no Max-Age.
    django_post(&b, &app, "/expiry", &[("seconds", "0")]).await;
    let reply = b.at(&sesi.base).get("/").await;
    let set_cookie = sessionid_set_cookie(&reply);
    assert!(!set_cookie.contains("Max-Age"), "{set_cookie}");
    assert_eq!(django_session(&b, &app).await["at_browser_close"], true);
}

#[tokio::test]
async fn secret_key_fallbacks_rotate_on_both_sides() {
    let _share = load::share().await;
    let Some(old_app) = django(&[OLD_KEY]) else {
        return;
    };
    let b = browser();
    assert_eq!(django_counter(&b, &old_app).await, 1);
    let sesi = sesi(&[KEY, OLD_KEY]);
    assert_eq!(
        sesi_counter_page(&b, &sesi).await,
        2,
        "read with the fallback"
    );
    let new_app = django(&[KEY, OLD_KEY]).expect("python was found above");
    assert_eq!(django_counter(&b, &new_app).await, 3);
    assert_eq!(sesi_counter_page(&b, &sesi).await, 4);
    assert_eq!(
        django_counter(&b, &old_app).await,
        1,
        "re-signed: the old key alone fails"
    );
}

#[tokio::test]
async fn a_cookie_signed_with_another_key_is_a_fresh_session_on_both_sides() {
    let _share = load::share().await;
    let Some(app) = django(&[OLD_KEY]) else {
        return;
    };
    let sesi = sesi(&[KEY]);
    let b = browser();
    assert_eq!(django_counter(&b, &app).await, 1);
    assert_eq!(django_counter(&b, &app).await, 2);
    assert_eq!(sesi_counter_page(&b, &sesi).await, 1, "sesi starts afresh");
    assert_eq!(django_counter(&b, &app).await, 1, "and so does Django");
}

#[tokio::test]
async fn the_cookie_tools_write_what_django_reads_and_read_what_django_writes() {
    let _share = load::share().await;
    let Some(app) = django(&[KEY]) else { return };
    let b = browser();
    let out = run_sesi(
        &[
            "cookie",
            "encode",
            "--cookie-format=django",
            "--secret",
            KEY,
            r#"{"counter": 41}"#,
        ],
        &[],
        None,
    );
    assert!(out.status.success(), "{}", out.stderr);
    b.set_cookie("sessionid", out.stdout.trim());
    assert_eq!(django_counter(&b, &app).await, 42);

    let cookie = b.cookie_named("sessionid").expect("Django's cookie");
    let out = run_sesi(
        &[
            "cookie",
            "decode",
            "--cookie-format=django",
            "--secret",
            KEY,
            &cookie,
        ],
        &[],
        None,
    );
    assert!(out.status.success(), "{}", out.stderr);
    assert!(out.stdout.contains("\"counter\": 42"), "{}", out.stdout);
    assert!(out.stdout.contains("HMAC-SHA256"), "{}", out.stdout);
}
