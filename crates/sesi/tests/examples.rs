//! The programs in `examples/` do what their docs say: each one's `app` is driven in-process, as a
//! browser would, and its cookies are read with a format instance of the test's own. The Redis
//! example talks to the redis-server at `SESI_REDIS_URL` (started by `scripts/test.sh`).
#![cfg(feature = "axum")]

// Each example is compiled here as a module; its `main` is for `cargo run --example` only.
#[allow(dead_code)]
#[path = "../examples/cart.rs"]
mod cart;
#[allow(dead_code)]
#[path = "../examples/counter.rs"]
mod counter;
#[allow(dead_code)]
#[path = "../examples/redis.rs"]
mod redis;
#[allow(dead_code)]
#[path = "../examples/rotation.rs"]
mod rotation;

use axum::Router;
use axum::body::Body;
use axum::http::header::{COOKIE, LOCATION, SET_COOKIE};
use axum::http::{Method, Request, StatusCode};
use sesi::core::{CookieContent, DEFAULT_SALT, Record, Timestamp};
use sesi::{CookieFormat, HashAlg, PyramidFormat, Secret, Secrets};
use tower::ServiceExt;

const SECRET: &str = "the examples' test secret, at least thirty-two bytes";
const OLD_SECRET: &str = "the secret being rotated out, also long enough";

fn secret(text: &str) -> Secret {
    Secret::new(text).expect("long enough")
}

fn format(text: &str) -> PyramidFormat {
    PyramidFormat::new(&Secrets::new(secret(text)), DEFAULT_SALT, HashAlg::Sha512)
}

/// One visitor: keeps the last session cookie the app set, and sends it back.
struct Browser {
    app: Router,
    cookie: Option<String>,
}

/// What came back.
struct Reply {
    status: StatusCode,
    location: Option<String>,
    set_cookie: Option<String>,
    body: String,
}

impl Browser {
    fn new(app: Router) -> Self {
        Browser { app, cookie: None }
    }

    async fn send(&mut self, method: Method, path: &str, form: Option<&str>) -> Reply {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(cookie) = &self.cookie {
            req = req.header(COOKIE, format!("session={cookie}"));
        }
        if form.is_some() {
            req = req.header("content-type", "application/x-www-form-urlencoded");
        }
        let body = Body::from(form.unwrap_or_default().to_owned());
        let res = self
            .app
            .clone()
            .oneshot(req.body(body).expect("valid request"))
            .await
            .expect("routers are infallible");
        let header = |name| {
            res.headers()
                .get(name)
                .map(|v: &axum::http::HeaderValue| v.to_str().expect("ASCII").to_owned())
        };
        let set_cookie = header(SET_COOKIE);
        let location = header(LOCATION);
        if let Some(set) = &set_cookie {
            let value = set["session=".len()..]
                .split(';')
                .next()
                .unwrap_or_default();
            self.cookie = (!value.is_empty()).then(|| value.to_owned());
        }
        let status = res.status();
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
            .await
            .expect("small body");
        Reply {
            status,
            location,
            set_cookie,
            body: String::from_utf8(bytes.to_vec()).expect("UTF-8"),
        }
    }

    async fn get(&mut self, path: &str) -> Reply {
        self.send(Method::GET, path, None).await
    }

    async fn post(&mut self, path: &str, form: &str) -> Reply {
        self.send(Method::POST, path, Some(form)).await
    }
}

/// The record a whole-session cookie carries, verified with `secret` alone.
fn record_in(cookie: &str, secret: &str) -> Record {
    format(secret)
        .decode(cookie)
        .expect("verifies with this secret alone")
        .into_record()
        .expect("a whole session")
}

#[tokio::test]
async fn counter_counts_visits_in_a_pyramid_cookie() {
    let mut browser = Browser::new(counter::app(Secrets::new(secret(SECRET))));
    for visit in 1..=3 {
        let reply = browser.get("/").await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(
            reply.body,
            format!("You have visited this page {visit} times.")
        );
    }
    let cookie = browser.cookie.as_deref().expect("a session cookie");
    assert_eq!(record_in(cookie, SECRET).state["counter"], 3);
}

#[tokio::test]
async fn cart_adds_with_a_csrf_token_flashes_once_and_refuses_a_full_cookie() {
    let mut browser = Browser::new(cart::app(Secrets::new(secret(SECRET))));
    let page = browser.get("/").await;
    let token = page
        .body
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.get(..40))
        .expect("the forms carry the token")
        .to_owned();

    let refused = browser
        .post("/add", "csrf_token=wrong&product=kopi-tubruk")
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.set_cookie.is_none());

    let added = browser
        .post("/add", &format!("csrf_token={token}&product=kopi-tubruk"))
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER);
    assert_eq!(added.location.as_deref(), Some("/"));
    let page = browser.get("/").await.body;
    assert!(
        page.contains("<p class=\"flash\">Added Kopi Tubruk.</p>"),
        "{page}"
    );
    assert!(
        page.contains("1 x Kopi Tubruk") && page.contains("Total: Rp 15000"),
        "{page}"
    );
    let page = browser.get("/").await.body;
    assert!(!page.contains("Added"), "a flash is shown once: {page}");

    // A session a few bytes short of the cookie limit: the add changes nothing, the "full"
    // message does not fit either, and no cookie is sent, so the browser keeps a good one.
    let mut state = serde_json::Map::new();
    state.insert("_csrft_".into(), token.clone().into());
    state.insert("pad".into(), "x".repeat(2872).into());
    let full = format(SECRET).encode(&Record::new(
        Timestamp::Int(now()),
        Timestamp::Float(now() as f64),
        state,
    ));
    assert!(full.len() > 4000 && full.len() < 4050, "{}", full.len());
    let mut browser = Browser::new(cart::app(Secrets::new(secret(SECRET))));
    browser.cookie = Some(full);
    let refused = browser
        .post("/add", &format!("csrf_token={token}&product=nasi-goreng"))
        .await;
    assert_eq!(refused.status, StatusCode::SEE_OTHER);
    assert!(refused.set_cookie.is_none(), "{:?}", refused.set_cookie);
}

/// Now, in whole seconds since the epoch.
fn now() -> i64 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    i64::try_from(secs).expect("in range")
}

#[tokio::test]
async fn rotation_re_signs_a_cookie_of_the_previous_secret_with_the_current_one() {
    let app = rotation::app(secret(SECRET), secret(OLD_SECRET)).expect("one fallback");
    let mut browser = Browser::new(app);
    let mut state = serde_json::Map::new();
    state.insert("counter".into(), 41.into());
    let old = format(OLD_SECRET).encode(&Record::new(
        Timestamp::Int(now()),
        Timestamp::Float(now() as f64),
        state,
    ));
    browser.cookie = Some(old);
    let reply = browser.get("/").await;
    assert!(
        reply
            .body
            .starts_with("Visit 42. Your cookie was signed by the previous secret"),
        "{}",
        reply.body
    );
    let cookie = browser.cookie.clone().expect("re-issued");
    assert_eq!(record_in(&cookie, SECRET).state["counter"], 42);
    assert!(
        format(OLD_SECRET).decode(&cookie).is_err(),
        "never signed by the old secret"
    );
    let reply = browser.get("/").await;
    assert!(
        reply.body.contains("signed by the current secret"),
        "{}",
        reply.body
    );
}

#[tokio::test]
async fn redis_keeps_the_session_in_redis_and_logout_kills_every_copy_of_the_cookie() {
    let Ok(url) = std::env::var("SESI_REDIS_URL") else {
        sesi_testkit::skip("SESI_REDIS_URL is not set, so no redis-server for the redis example");
        return;
    };
    let app = match redis::app(&url, Secrets::new(secret(SECRET))).await {
        Ok(app) => app,
        Err(err) => {
            sesi_testkit::skip(&format!("no Redis answers at {url}: {err}"));
            return;
        }
    };
    let mut browser = Browser::new(app);
    assert_eq!(
        browser.get("/").await.body,
        "You have visited this page 1 times."
    );
    let cookie = browser.cookie.clone().expect("an id cookie");
    assert!(
        matches!(
            format(SECRET).decode(&cookie).expect("signed").content,
            CookieContent::Id(_)
        ),
        "only the id travels"
    );
    assert_eq!(
        browser.get("/").await.body,
        "You have visited this page 2 times."
    );
    let token = browser.get("/token").await.body;
    let refused = browser.post("/logout", "").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    let mut req = Request::post("/logout")
        .header(COOKIE, format!("session={cookie}"))
        .header("x-csrf-token", &token);
    req = req.header("content-length", "0");
    let res = browser
        .app
        .clone()
        .oneshot(req.body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    assert_eq!(res.status(), StatusCode::OK);

    // A copy of the old cookie (kept by an attacker, say) starts from nothing.
    let mut copy = Browser::new(browser.app.clone());
    copy.cookie = Some(cookie);
    assert_eq!(
        copy.get("/").await.body,
        "You have visited this page 1 times."
    );
}
