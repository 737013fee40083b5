//! Sessions in a server-side store, end to end over real sockets: an axum app behind
//! `SessionLayer::with_store` (or `with_spill_store`) on 127.0.0.1, driven by reqwest with a
//! cookie jar as a browser would. The store is an in-process `MemoryStore` the test can look
//! into, or a wrapper around one that fails on command. Cookies are read with a format instance of the
//! test's own, never the layer's.
#![cfg(feature = "axum")]

mod failing;
mod faulty;
mod fixation;
mod handler_view;
mod lazy;
mod locking;
mod modes;

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::response::IntoResponse;
use axum::routing::get;
use reqwest::cookie::{CookieStore, Jar};
use sesi::core::store::{BoxFuture, LockToken, MemoryStore, SessionId, SessionStore, StoreError};
use sesi::core::{CookieContent, DEFAULT_SALT};
use sesi::{
    CookieFormat, CookieStatus, HashAlg, LockConfig, PyramidFormat, Secret, Secrets, Session,
    SessionLayer, SessionRejection,
};
use tokio::net::TcpListener;

use faulty::*;

const SECRET: &str = "a store test secret, longer than thirty-two bytes";

fn secrets() -> Secrets {
    Secrets::new(Secret::new(SECRET).expect("long enough"))
}

fn codec() -> PyramidFormat {
    PyramidFormat::new(&secrets(), DEFAULT_SALT, HashAlg::Sha512)
}

/// What a cookie value carries, verified with the test's own format instance.
fn content(value: &str) -> CookieContent {
    codec()
        .decode(value)
        .unwrap_or_else(|e| panic!("a cookie the server signed: {e}"))
        .content
}

fn id_of(value: &str) -> SessionId {
    match content(value) {
        CookieContent::Id(id) => id,
        CookieContent::State(record) => panic!("expected an id cookie, got the state {record:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// The app.

fn bump(session: &Session) -> i64 {
    session
        .update("counter", |n: &mut i64| {
            *n += 1;
            *n
        })
        .expect("the counter is an integer")
}

async fn count(session: Session) -> String {
    bump(&session).to_string()
}

/// Reads the counter, lets other requests run, then writes it back plus one: a read-modify-write
/// that loses updates when two requests of one session overlap.
async fn slow_count(session: Session) -> String {
    let n: i64 = session.get("counter").expect("integer").unwrap_or(0);
    tokio::time::sleep(Duration::from_millis(30)).await;
    session.insert("counter", &(n + 1)).expect("int");
    (n + 1).to_string()
}

/// As [`slow_count`], but slow enough for another request to come and go in between.
async fn slower_count(session: Session) -> String {
    let n: i64 = session.get("counter").expect("integer").unwrap_or(0);
    tokio::time::sleep(Duration::from_millis(600)).await;
    session.insert("counter", &(n + 1)).expect("int");
    (n + 1).to_string()
}

async fn whoami(session: Session) -> String {
    let counter: i64 = session.get("counter").expect("integer").unwrap_or(0);
    format!("{} counter={counter}", session.status().name())
}

/// Stores a string of `len` bytes (0 removes it) and bumps the counter.
async fn set_blob(session: Session, Path(len): Path<usize>) -> String {
    if len == 0 {
        session.remove("blob");
    } else {
        session.insert("blob", &"x".repeat(len)).expect("str");
    }
    bump(&session).to_string()
}

/// The blob's length and the counter, as the handler sees them; bumps the counter.
async fn blob(session: Session) -> String {
    let blob: String = session.get("blob").expect("a string").unwrap_or_default();
    assert!(blob.bytes().all(|b| b == b'x'), "the blob is intact");
    format!("{} {}", blob.len(), bump(&session))
}

async fn hold(session: Session) -> &'static str {
    let _ = session.get_value("counter");
    tokio::time::sleep(Duration::from_millis(2000)).await;
    "held"
}

fn app(layer: SessionLayer) -> Router {
    Router::new()
        .route("/count", get(count))
        .route("/slow-count", get(slow_count))
        .route("/slower-count", get(slower_count))
        .route("/whoami", get(whoami))
        .route("/untouched", get(|| async { "ok" }))
        .route(
            "/reset",
            get(|session: Session| async move {
                session.invalidate();
                "reset"
            }),
        )
        .route(
            "/cycle",
            get(|session: Session| async move {
                session.cycle_id();
                "cycled"
            }),
        )
        .route("/blob/set/{len}", get(set_blob))
        .route("/blob", get(blob))
        .route("/hold", get(hold))
        .layer(layer)
}

fn store_layer(store: Arc<dyn SessionStore>) -> sesi::SessionLayerBuilder {
    SessionLayer::builder(secrets()).with_store(store)
}

/// Serves `layer` around the app on an ephemeral port of 127.0.0.1; returns the base URL.
async fn serve(layer: SessionLayer) -> String {
    serve_router(app(layer)).await
}

/// Serves `router` (with its layer already on) on an ephemeral port of 127.0.0.1.
async fn serve_router(router: Router) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("bound address");
    tokio::spawn(async move {
        axum::serve(listener, router).await.expect("server runs");
    });
    format!("http://{addr}")
}

// ---------------------------------------------------------------------------------------------
// The browser.

/// A client with a cookie jar the test can look into. Cookies are per host, not per port, so one
/// browser sends the same cookie to every server on 127.0.0.1, as a real one would.
struct Browser {
    client: reqwest::Client,
    jar: Arc<Jar>,
}

impl Browser {
    fn new() -> Self {
        let jar = Arc::new(Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        Browser { client, jar }
    }

    /// The session cookie's value the browser holds now.
    fn cookie(&self, base: &str) -> Option<String> {
        let url = base.parse().expect("url");
        let header = self.jar.cookies(&url)?;
        header
            .to_str()
            .expect("ASCII")
            .split("; ")
            .find_map(|pair| pair.strip_prefix("session="))
            .map(str::to_owned)
    }

    async fn get(&self, url: String) -> Reply {
        Reply::of(self.client.get(url).send().await.expect("request")).await
    }
}

struct Reply {
    status: StatusCode,
    set_cookies: Vec<String>,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Reply {
    async fn of(response: reqwest::Response) -> Self {
        let status = response.status();
        let set_cookies = response
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().expect("ASCII").to_owned())
            .collect();
        let headers = response.headers().clone();
        let body = response.text().await.expect("body");
        Reply {
            status,
            set_cookies,
            headers,
            body,
        }
    }

    fn ok(self) -> String {
        assert_eq!(self.status, StatusCode::OK, "{}", self.body);
        self.body
    }
}

/// A request carrying `cookie` as its session cookie, from a client without a jar (an attacker
/// replaying a copied cookie, or a second tab of an old browser).
async fn replay(base: &str, path: &str, cookie: &str) -> Reply {
    let response = reqwest::Client::new()
        .get(format!("{base}{path}"))
        .header(COOKIE, format!("session={cookie}"))
        .send()
        .await
        .expect("request");
    Reply::of(response).await
}
