//! Sessions in a server-side store, end to end over real sockets: an axum app behind
//! `SessionLayer::with_store` (or `with_spill_store`) on 127.0.0.1, driven by reqwest with a
//! cookie jar as a browser would. The store is an in-process `MemoryStore` the test can look
//! into, or a wrapper around one that fails on command. Cookies are read with a codec of the
//! test's own, never the layer's.
#![cfg(feature = "axum")]

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::routing::get;
use reqwest::cookie::{CookieStore, Jar};
use sesi::core::store::{BoxFuture, LockToken, MemoryStore, SessionId, SessionStore, StoreError};
use sesi::core::{Codec, CookieContent, DEFAULT_SALT};
use sesi::{CookieStatus, HashAlg, LockConfig, Secret, Secrets, Session, SessionLayer};
use tokio::net::TcpListener;

const SECRET: &str = "a store test secret, longer than thirty-two bytes";

fn secrets() -> Secrets {
    Secrets::new(Secret::new(SECRET).expect("long enough"))
}

fn codec() -> Codec {
    Codec::new(&secrets(), DEFAULT_SALT, HashAlg::Sha512)
}

/// What a cookie value carries, verified with the test's own codec.
fn content(value: &str) -> CookieContent {
    codec()
        .decode_any(value)
        .unwrap_or_else(|e| panic!("a cookie the server signed: {e}"))
}

fn id_of(value: &str) -> SessionId {
    match content(value) {
        CookieContent::Id { id, .. } => id,
        CookieContent::State(d) => panic!("expected an id cookie, got the state {:?}", d.record),
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
        let body = response.text().await.expect("body");
        Reply {
            status,
            set_cookies,
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

// ---------------------------------------------------------------------------------------------
// Store mode.

#[tokio::test]
async fn counter_survives_requests_and_the_cookie_carries_only_a_short_id() {
    let store = Arc::new(MemoryStore::new(100));
    let base = serve(store_layer(store.clone()).build().expect("valid")).await;
    let browser = Browser::new();
    let mut seen = Vec::new();
    for _ in 0..3 {
        seen.push(browser.get(format!("{base}/count")).await.ok());
    }
    assert_eq!(seen, ["1", "2", "3"]);
    let cookie = browser.cookie(&base).expect("a session cookie");
    let id = id_of(&cookie);
    assert!(
        cookie.len() < 200,
        "a signed id, not the state: {} chars",
        cookie.len()
    );
    assert_eq!(store.len(), 1);
    let stored = store.load(id).await.expect("memory").expect("saved");
    let stored = String::from_utf8(stored).expect("JSON");
    assert!(stored.contains(r#""counter": 3"#), "{stored}");
}

#[tokio::test]
async fn only_a_new_session_gets_a_cookie_rewrites_only_update_the_store() {
    let store = Arc::new(MemoryStore::new(100));
    let base = serve(store_layer(store.clone()).build().expect("valid")).await;
    let browser = Browser::new();
    let first = browser.get(format!("{base}/count")).await;
    assert_eq!(first.set_cookies.len(), 1, "{:?}", first.set_cookies);
    assert!(
        first.set_cookies[0].ends_with("; Path=/; SameSite=Lax"),
        "the usual attributes: {:?}",
        first.set_cookies
    );
    let second = browser.get(format!("{base}/count")).await;
    assert!(
        second.set_cookies.is_empty(),
        "the id did not change: {:?}",
        second.set_cookies
    );
    assert_eq!(second.body, "2");
}

#[tokio::test]
async fn invalidate_deletes_the_session_from_the_store_so_an_old_copy_of_the_cookie_is_dead() {
    let store = Arc::new(MemoryStore::new(100));
    let base = serve(store_layer(store.clone()).build().expect("valid")).await;
    let browser = Browser::new();
    browser.get(format!("{base}/count")).await.ok();
    browser.get(format!("{base}/count")).await.ok();
    let stolen = browser.cookie(&base).expect("a session cookie");
    assert_eq!(
        replay(&base, "/whoami", &stolen).await.ok(),
        "valid counter=2"
    );

    let reset = browser.get(format!("{base}/reset")).await;
    assert_eq!(reset.status, StatusCode::OK);
    assert_eq!(reset.set_cookies.len(), 1);
    assert!(
        reset.set_cookies[0].contains("Max-Age=0"),
        "{:?}",
        reset.set_cookies
    );
    assert!(store.is_empty(), "deleted from the store");
    assert_eq!(browser.cookie(&base), None, "and from the browser");

    // The copy works nowhere any more: a fresh, empty session.
    assert_eq!(
        replay(&base, "/whoami", &stolen).await.ok(),
        "unknown-session counter=0"
    );
    assert_eq!(browser.get(format!("{base}/count")).await.ok(), "1");
}

#[tokio::test]
async fn cycle_id_gives_a_new_cookie_keeps_the_data_and_kills_the_old_id() {
    let store = Arc::new(MemoryStore::new(100));
    let base = serve(store_layer(store.clone()).build().expect("valid")).await;
    let browser = Browser::new();
    browser.get(format!("{base}/count")).await.ok();
    browser.get(format!("{base}/count")).await.ok();
    let before = browser.cookie(&base).expect("a session cookie");

    let cycled = browser.get(format!("{base}/cycle")).await;
    assert_eq!(cycled.set_cookies.len(), 1, "a new id cookie");
    let after = browser.cookie(&base).expect("a session cookie");
    assert_ne!(id_of(&after), id_of(&before));
    assert_eq!(store.len(), 1, "moved, not copied");

    assert_eq!(
        browser.get(format!("{base}/whoami")).await.ok(),
        "valid counter=2"
    );
    assert_eq!(
        replay(&base, "/whoami", &before).await.ok(),
        "unknown-session counter=0",
        "the old id (fixated or seen before login) is worthless"
    );
}

// ---------------------------------------------------------------------------------------------
// Spill-over.

#[tokio::test]
async fn spill_over_moves_a_big_session_to_the_store_and_back_while_the_handler_sees_no_difference()
{
    let store = Arc::new(MemoryStore::new(100));
    let layer = SessionLayer::builder(secrets())
        .with_spill_store(store.clone())
        .build()
        .expect("valid");
    let base = serve(layer).await;
    let browser = Browser::new();
    let cookie_kind = || match content(&browser.cookie(&base).expect("a session cookie")) {
        CookieContent::State(_) => "state",
        CookieContent::Id { .. } => "id",
    };

    assert_eq!(browser.get(format!("{base}/count")).await.ok(), "1");
    assert_eq!(cookie_kind(), "state", "small: in the cookie");
    assert!(store.is_empty());

    assert_eq!(browser.get(format!("{base}/blob/set/5000")).await.ok(), "2");
    assert_eq!(cookie_kind(), "id", "past 4096 bytes: in the store");
    assert_eq!(store.len(), 1);
    assert_eq!(browser.get(format!("{base}/blob")).await.ok(), "5000 3");
    assert_eq!(browser.get(format!("{base}/blob")).await.ok(), "5000 4");

    assert_eq!(browser.get(format!("{base}/blob/set/0")).await.ok(), "5");
    assert_eq!(cookie_kind(), "state", "shrunk: back in the cookie");
    assert!(store.is_empty(), "the stored copy is deleted");
    assert_eq!(browser.get(format!("{base}/blob")).await.ok(), "0 6");

    // And out again, under a new id.
    assert_eq!(browser.get(format!("{base}/blob/set/8000")).await.ok(), "7");
    assert_eq!(cookie_kind(), "id");
    assert_eq!(browser.get(format!("{base}/blob")).await.ok(), "8000 8");
}

// ---------------------------------------------------------------------------------------------
// Cookie mode: what is not sent.

#[tokio::test]
async fn without_a_store_a_session_past_4096_bytes_is_a_500_and_the_old_cookie_keeps_working() {
    let base = serve(SessionLayer::builder(secrets()).build().expect("valid")).await;
    let browser = Browser::new();
    browser.get(format!("{base}/count")).await.ok();
    assert_eq!(browser.get(format!("{base}/count")).await.ok(), "2");
    let before = browser.cookie(&base).expect("a session cookie");
    assert!(matches!(content(&before), CookieContent::State(_)));

    let reply = browser.get(format!("{base}/blob/set/5000")).await;
    assert_eq!(
        reply.status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{}",
        reply.body
    );
    assert!(
        reply.set_cookies.is_empty(),
        "a cookie the browser would drop is never sent: {:?}",
        reply.set_cookies
    );
    let size: usize = reply
        .body
        .split_once(" bytes")
        .and_then(|(head, _)| head.rsplit(['(', ' ']).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the body names the size: {}", reply.body));
    // 5000 bytes of state, base64-encoded (4/3) with the signature and attributes around it.
    assert!(
        (5000 * 4 / 3..7000).contains(&size),
        "the size of the cookie that was not sent: {size}"
    );
    assert!(
        reply.body.contains("the limit is 4096"),
        "the body names the limit: {}",
        reply.body
    );

    assert_eq!(
        browser.cookie(&base),
        Some(before),
        "the browser kept its cookie"
    );
    assert_eq!(
        browser.get(format!("{base}/whoami")).await.ok(),
        "valid counter=2",
        "the refused change was not saved, the state before it is intact"
    );
    assert_eq!(browser.get(format!("{base}/blob")).await.ok(), "0 3");
}

/// Bumps the counter, then fails.
async fn count_then_fail(session: Session) -> (StatusCode, String) {
    let n = bump(&session);
    (StatusCode::INTERNAL_SERVER_ERROR, format!("failed at {n}"))
}

/// The app plus `/fail`, served; returns what `/fail` answered after two counts, and what
/// `/whoami` says after it.
async fn a_write_then_a_500(layer: SessionLayer) -> (Reply, String) {
    let router = Router::new()
        .route("/count", get(count))
        .route("/whoami", get(whoami))
        .route("/fail", get(count_then_fail))
        .layer(layer);
    let base = serve_router(router).await;
    let browser = Browser::new();
    browser.get(format!("{base}/count")).await.ok();
    assert_eq!(browser.get(format!("{base}/count")).await.ok(), "2");
    let failed = browser.get(format!("{base}/fail")).await;
    assert_eq!(failed.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(failed.body, "failed at 3", "the handler did write");
    let after = browser.get(format!("{base}/whoami")).await.ok();
    (failed, after)
}

#[tokio::test]
async fn with_set_on_exception_off_a_500_saves_nothing_and_sends_no_cookie() {
    // Cookie mode: the write would travel in the Set-Cookie.
    let layer = SessionLayer::builder(secrets())
        .with_set_on_exception(false)
        .build()
        .expect("valid");
    let (failed, after) = a_write_then_a_500(layer).await;
    assert!(
        failed.set_cookies.is_empty(),
        "no Set-Cookie on the 500: {:?}",
        failed.set_cookies
    );
    assert_eq!(
        after, "valid counter=2",
        "the failed request's write is gone"
    );

    // Store mode: the write would be a save under the same id.
    let store = Arc::new(MemoryStore::new(100));
    let layer = store_layer(store)
        .with_set_on_exception(false)
        .build()
        .expect("valid");
    let (failed, after) = a_write_then_a_500(layer).await;
    assert!(failed.set_cookies.is_empty(), "{:?}", failed.set_cookies);
    assert_eq!(after, "valid counter=2", "nothing saved to the store");
}

#[tokio::test]
async fn by_default_a_500_still_saves_the_session_as_pyramid_does() {
    let layer = SessionLayer::builder(secrets()).build().expect("valid");
    let (failed, after) = a_write_then_a_500(layer).await;
    assert_eq!(
        failed.set_cookies.len(),
        1,
        "set_on_exception defaults to true: {:?}",
        failed.set_cookies
    );
    assert_eq!(after, "valid counter=3");

    let store = Arc::new(MemoryStore::new(100));
    let (_, after) = a_write_then_a_500(store_layer(store).build().expect("valid")).await;
    assert_eq!(after, "valid counter=3", "saved to the store");
}

// ---------------------------------------------------------------------------------------------
// A failing store.

const UP: u8 = 0;
const ERRORS: u8 = 1;
const HANGS: u8 = 2;
const SAVES_FAIL: u8 = 3;
/// `try_lock` takes the lock, but its answer never arrives (a reply lost to a timeout).
const LOCK_REPLY_LOST: u8 = 4;
/// `unlock` takes `SLOW_UNLOCK` before it releases the lock (a slow round trip).
const UNLOCK_SLOW: u8 = 5;
const SLOW_UNLOCK: Duration = Duration::from_millis(400);

/// A memory store that can be told to fail every call, hang on every call, fail only writes, or
/// lose the answer of a lock it took. A failed or hung call does nothing to the data (the memory
/// store works when called, so it is not called at all).
#[derive(Debug)]
struct FaultyStore {
    inner: MemoryStore,
    mode: AtomicU8,
}

impl FaultyStore {
    fn new() -> Arc<Self> {
        Arc::new(FaultyStore {
            inner: MemoryStore::new(100),
            mode: AtomicU8::new(UP),
        })
    }

    fn set(&self, mode: u8) {
        self.mode.store(mode, Ordering::SeqCst);
    }

    fn run<'a, T: Send + 'a>(
        &'a self,
        is_write: bool,
        op: impl FnOnce() -> BoxFuture<'a, Result<T, StoreError>>,
    ) -> BoxFuture<'a, Result<T, StoreError>> {
        match self.mode.load(Ordering::SeqCst) {
            ERRORS => Box::pin(async { Err(StoreError::Unavailable("connection refused".into())) }),
            SAVES_FAIL if is_write => {
                Box::pin(async { Err(StoreError::Unavailable("read-only replica".into())) })
            }
            HANGS => Box::pin(std::future::pending()),
            _ => op(),
        }
    }
}

impl SessionStore for FaultyStore {
    fn load(&self, id: SessionId) -> BoxFuture<'_, Result<Option<Vec<u8>>, StoreError>> {
        self.run(false, || self.inner.load(id))
    }

    fn save(
        &self,
        id: SessionId,
        data: Vec<u8>,
        ttl: Option<Duration>,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        self.run(true, || self.inner.save(id, data, ttl))
    }

    fn delete(&self, id: SessionId) -> BoxFuture<'_, Result<(), StoreError>> {
        self.run(true, || self.inner.delete(id))
    }

    fn try_lock(
        &self,
        id: SessionId,
        token: LockToken,
        lease: Duration,
    ) -> BoxFuture<'_, Result<bool, StoreError>> {
        if self.mode.load(Ordering::SeqCst) == LOCK_REPLY_LOST {
            drop(self.inner.try_lock(id, token, lease));
            return Box::pin(std::future::pending());
        }
        self.run(false, || self.inner.try_lock(id, token, lease))
    }

    fn unlock(&self, id: SessionId, token: LockToken) -> BoxFuture<'_, Result<(), StoreError>> {
        if self.mode.load(Ordering::SeqCst) == UNLOCK_SLOW {
            return Box::pin(async move {
                tokio::time::sleep(SLOW_UNLOCK).await;
                self.inner.unlock(id, token).await
            });
        }
        self.run(false, || self.inner.unlock(id, token))
    }
}

const STORE_TIMEOUT: Duration = Duration::from_millis(300);

/// A 503 that says what happened and leaves the browser's cookie alone.
fn assert_unavailable(reply: &Reply, elapsed: Duration) {
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.body
    );
    assert!(
        reply.set_cookies.is_empty(),
        "the browser keeps its cookie: {:?}",
        reply.set_cookies
    );
    assert!(
        reply.body.contains("session could not be loaded or saved"),
        "{}",
        reply.body
    );
    assert!(
        elapsed < Duration::from_secs(2),
        "answered within the bound: {elapsed:?}"
    );
}

async fn timed(browser: &Browser, url: String) -> (Reply, Duration) {
    let start = Instant::now();
    let reply = browser.get(url).await;
    (reply, start.elapsed())
}

#[tokio::test]
async fn a_failing_or_hanging_store_answers_503_in_bounded_time_and_the_session_survives() {
    for lock in [None, Some(LockConfig::default())] {
        let store = FaultyStore::new();
        let layer = store_layer(store.clone())
            .with_store_timeout(STORE_TIMEOUT)
            .with_lock(lock)
            .build()
            .expect("valid");
        let base = serve(layer).await;
        let browser = Browser::new();
        browser.get(format!("{base}/count")).await.ok();
        assert_eq!(browser.get(format!("{base}/count")).await.ok(), "2");
        let cookie = browser.cookie(&base).expect("a session cookie");

        store.set(ERRORS);
        let (reply, elapsed) = timed(&browser, format!("{base}/count")).await;
        assert_unavailable(&reply, elapsed);
        assert_eq!(
            browser.get(format!("{base}/untouched")).await.ok(),
            "ok",
            "a route that does not use the session still works"
        );

        store.set(HANGS);
        let (reply, elapsed) = timed(&browser, format!("{base}/count")).await;
        assert_unavailable(&reply, elapsed);
        assert!(
            elapsed >= STORE_TIMEOUT,
            "it waited for the store timeout: {elapsed:?}"
        );
        assert_eq!(browser.get(format!("{base}/untouched")).await.ok(), "ok");

        store.set(UP);
        assert_eq!(browser.cookie(&base), Some(cookie), "lock {lock:?}");
        assert_eq!(
            browser.get(format!("{base}/count")).await.ok(),
            "3",
            "nothing was lost while the store was down (lock {lock:?})"
        );
    }
}

#[tokio::test]
async fn a_failed_save_answers_503_and_changes_nothing() {
    let store = FaultyStore::new();
    let base = serve(
        store_layer(store.clone())
            .with_store_timeout(STORE_TIMEOUT)
            .build()
            .expect("valid"),
    )
    .await;
    let browser = Browser::new();

    // A new visitor while saves fail: no cookie pointing at a session that was never saved.
    store.set(SAVES_FAIL);
    let (reply, elapsed) = timed(&browser, format!("{base}/count")).await;
    assert_unavailable(&reply, elapsed);
    assert_eq!(browser.cookie(&base), None);

    store.set(UP);
    assert_eq!(browser.get(format!("{base}/count")).await.ok(), "1");
    store.set(SAVES_FAIL);
    let (reply, elapsed) = timed(&browser, format!("{base}/count")).await;
    assert_unavailable(&reply, elapsed);
    // The handler did count to 2, but the 503 told the visitor nothing was changed: true.
    store.set(UP);
    assert_eq!(browser.get(format!("{base}/count")).await.ok(), "2");

    // An invalidation that cannot reach the store is not reported as done.
    store.set(SAVES_FAIL);
    let (reply, elapsed) = timed(&browser, format!("{base}/reset")).await;
    assert_unavailable(&reply, elapsed);
    store.set(UP);
    assert_eq!(
        browser.get(format!("{base}/whoami")).await.ok(),
        "valid counter=2"
    );
}

// ---------------------------------------------------------------------------------------------
// Parallel requests of one visitor.

/// Fires `n` parallel `/slow-count` requests from `browser`, spread over `bases` in turn; returns
/// the counters the handlers answered.
async fn parallel_increments(browser: &Browser, bases: &[String], n: usize) -> Vec<i64> {
    let requests = (0..n).map(|i| {
        let url = format!("{}/slow-count", bases[i % bases.len()]);
        let client = browser.client.clone();
        tokio::spawn(async move {
            let reply = Reply::of(client.get(url).send().await.expect("request")).await;
            reply.ok().parse::<i64>().expect("an integer")
        })
    });
    let mut counters = Vec::new();
    for request in requests.collect::<Vec<_>>() {
        counters.push(request.await.expect("the request task"));
    }
    counters
}

async fn counter_of(browser: &Browser, base: &str) -> i64 {
    let body = browser.get(format!("{base}/whoami")).await.ok();
    body.strip_prefix("valid counter=")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a valid session with a counter: {body}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_lock_ten_parallel_increments_by_one_visitor_give_exactly_ten() {
    let store = Arc::new(MemoryStore::new(100));
    // Two servers sharing the store, as two app servers share Redis.
    let mut bases = Vec::new();
    for _ in 0..2 {
        let layer = store_layer(store.clone())
            .with_lock(Some(LockConfig::default()))
            .build()
            .expect("valid");
        bases.push(serve(layer).await);
    }
    let browser = Browser::new();
    browser.get(format!("{}/count", bases[0])).await.ok();
    let before = counter_of(&browser, &bases[0]).await;

    let mut answered = parallel_increments(&browser, &bases, 10).await;
    assert_eq!(counter_of(&browser, &bases[1]).await, before + 10);
    answered.sort_unstable();
    assert_eq!(
        answered,
        (before + 1..=before + 10).collect::<Vec<_>>(),
        "one request at a time: each saw the one before"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_lock_parallel_increments_supersede_each_other_but_never_corrupt_the_session() {
    let store = Arc::new(MemoryStore::new(100));
    let base = serve(store_layer(store.clone()).build().expect("valid")).await;
    let browser = Browser::new();
    browser.get(format!("{base}/count")).await.ok();
    let before = counter_of(&browser, &base).await;

    let answered = parallel_increments(&browser, std::slice::from_ref(&base), 10).await;
    // Last write wins: every request saved a whole, consistent session (its own read plus one),
    // and the one saved last is what remains. Updates may be lost; nothing is half-written.
    let after = counter_of(&browser, &base).await;
    assert!(
        (before + 1..=before + 10).contains(&after),
        "an integer between {} and {}: {after}",
        before + 1,
        before + 10
    );
    assert!(
        answered.contains(&after),
        "what remains is one request's whole write: {after} in {answered:?}"
    );
    for n in &answered {
        assert!((before + 1..=before + 10).contains(n), "{answered:?}");
    }
    assert_eq!(store.len(), 1, "one session, not one per request");
}

/// A request of the session is running (loaded, not yet saved) when the visitor logs out in
/// another tab; returns what a copy of the old cookie finds afterwards.
async fn logout_during_a_running_request(lock: Option<LockConfig>) -> String {
    let store = Arc::new(MemoryStore::new(100));
    let base = serve(store_layer(store).with_lock(lock).build().expect("valid")).await;
    let browser = Browser::new();
    browser.get(format!("{base}/count")).await.ok();
    let copy = browser.cookie(&base).expect("a session cookie");
    let running = {
        let (base, copy) = (base.clone(), copy.clone());
        tokio::spawn(async move { replay(&base, "/slower-count", &copy).await.ok() })
    };
    tokio::time::sleep(Duration::from_millis(200)).await; // it has loaded the session by now
    let reset = browser.get(format!("{base}/reset")).await;
    assert_eq!(reset.status, StatusCode::OK);
    assert_eq!(running.await.expect("task"), "2");
    replay(&base, "/whoami", &copy).await.ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_lock_a_request_running_during_invalidate_saves_the_session_back() {
    // Last write wins, for a logout too: the running request saves the session it loaded after
    // the logout deleted it, so the old cookie works again. Documented in docs/stores.md.
    assert_eq!(
        logout_during_a_running_request(None).await,
        "valid counter=2"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_lock_invalidate_waits_for_running_requests_and_is_final() {
    assert_eq!(
        logout_during_a_running_request(Some(LockConfig::default())).await,
        "unknown-session counter=0"
    );
}

#[tokio::test]
async fn a_request_that_waits_longer_than_the_lock_wait_gets_a_503() {
    let store = Arc::new(MemoryStore::new(100));
    let lock = LockConfig {
        wait: Duration::from_millis(200),
        lease: Duration::from_secs(30),
    };
    let base = serve(
        store_layer(store.clone())
            .with_lock(Some(lock))
            .build()
            .expect("valid"),
    )
    .await;
    let browser = Browser::new();
    browser.get(format!("{base}/count")).await.ok();

    let holder = {
        let client = browser.client.clone();
        let url = format!("{base}/hold");
        tokio::spawn(async move { Reply::of(client.get(url).send().await.expect("req")).await })
    };
    tokio::time::sleep(Duration::from_millis(500)).await; // /hold now holds the lock
    let (reply, elapsed) = timed(&browser, format!("{base}/count")).await;
    assert_unavailable(&reply, elapsed);
    assert!(reply.body.contains("locked"), "{}", reply.body);
    assert_eq!(holder.await.expect("task").ok(), "held");
    assert_eq!(
        browser.get(format!("{base}/count")).await.ok(),
        "2",
        "free again once the holder finished"
    );
}

#[tokio::test]
async fn a_lock_whose_answer_was_lost_holds_the_session_at_most_for_the_lease() {
    let store = FaultyStore::new();
    let lock = LockConfig {
        wait: Duration::from_secs(5),
        lease: Duration::from_millis(800),
    };
    let base = serve(
        store_layer(store.clone())
            .with_store_timeout(STORE_TIMEOUT)
            .with_lock(Some(lock))
            .build()
            .expect("valid"),
    )
    .await;
    let browser = Browser::new();
    browser.get(format!("{base}/count")).await.ok();
    browser.get(format!("{base}/count")).await.ok();

    // The store took the lock but the reply timed out: the request cannot know it holds it.
    store.set(LOCK_REPLY_LOST);
    let (reply, elapsed) = timed(&browser, format!("{base}/count")).await;
    assert_unavailable(&reply, elapsed);
    store.set(UP);
    // The orphaned lock ends with its lease; the next request waits for that, then succeeds.
    let (reply, elapsed) = timed(&browser, format!("{base}/count")).await;
    assert_eq!(reply.ok(), "3", "nothing lost, nothing counted twice");
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
}

#[tokio::test]
async fn a_lock_left_by_a_crashed_server_ends_with_its_lease() {
    let store = Arc::new(MemoryStore::new(100));
    let base = serve(
        store_layer(store.clone())
            .with_lock(Some(LockConfig::default()))
            .build()
            .expect("valid"),
    )
    .await;
    let browser = Browser::new();
    browser.get(format!("{base}/count")).await.ok();
    let id = id_of(&browser.cookie(&base).expect("a session cookie"));
    // A server took the lock with a short lease and died without releasing it.
    let taken = store
        .try_lock(id, LockToken::generate(), Duration::from_millis(400))
        .await
        .expect("memory");
    assert!(taken);
    let (reply, elapsed) = timed(&browser, format!("{base}/count")).await;
    assert_eq!(reply.ok(), "2");
    assert!(
        elapsed >= Duration::from_millis(300),
        "it waited for the lease: {elapsed:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// What the handler is told.

#[tokio::test]
async fn the_handler_sees_why_a_session_is_fresh() {
    let store = FaultyStore::new();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let layer = store_layer(store.clone())
        .with_store_timeout(STORE_TIMEOUT)
        .build()
        .expect("valid");
    let log = seen.clone();
    let app = Router::new()
        .route("/count", get(count))
        .route(
            "/status",
            get(move |session: Session| {
                let log = log.clone();
                async move {
                    let status = session.status();
                    log.lock().expect("not poisoned").push(status.name());
                    // Reading the data is what makes the request need the session.
                    let _ = session.get_value("counter");
                    matches!(status, CookieStatus::StoreUnavailable).to_string()
                }
            }),
        )
        .layer(layer);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });

    let browser = Browser::new();
    browser.get(format!("{base}/count")).await.ok();
    browser.get(format!("{base}/status")).await.ok();
    store.set(ERRORS);
    let reply = browser.get(format!("{base}/status")).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        *seen.lock().expect("not poisoned"),
        ["valid", "store-unavailable"],
        "the handler ran with an empty session marked store-unavailable"
    );
}

#[tokio::test]
async fn a_handler_that_only_asks_for_the_status_does_not_need_the_store() {
    let store = FaultyStore::new();
    let layer = store_layer(store.clone())
        .with_store_timeout(STORE_TIMEOUT)
        .build()
        .expect("valid");
    let app = Router::new()
        .route("/count", get(count))
        .route(
            "/status",
            get(|session: Session| async move { session.status().name() }),
        )
        .layer(layer);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    let browser = Browser::new();
    browser.get(format!("{base}/count")).await.ok();
    store.set(ERRORS);
    // `status()` is not an access: the page can say "sessions are down" instead of a 503.
    assert_eq!(
        browser.get(format!("{base}/status")).await.ok(),
        "store-unavailable"
    );
}

// ---------------------------------------------------------------------------------------------
// Review findings: abandoned locks, state-changing requests while the store is down, getters.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_abandoned_by_its_client_releases_the_session_lock() {
    let store = Arc::new(MemoryStore::new(100));
    let lock = LockConfig {
        wait: Duration::from_millis(1500),
        lease: Duration::from_secs(30),
    };
    let layer = store_layer(store)
        .with_lock(Some(lock))
        .build()
        .expect("valid");
    let base = serve(layer).await;
    let browser = Browser::new();
    browser.get(format!("{base}/count")).await.ok();
    let cookie = browser.cookie(&base).expect("a session cookie");
    // The client gives up on a request that holds the lock for 2 s: the server drops it.
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(150))
        .build()
        .expect("client");
    let abandoned = impatient
        .get(format!("{base}/hold"))
        .header(COOKIE, format!("session={cookie}"))
        .send()
        .await;
    assert!(abandoned.is_err(), "the client timed out");
    // Give the server a moment to notice the closed connection and drop the request.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let start = Instant::now();
    let reply = replay(&base, "/count", &cookie).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(
        start.elapsed() < Duration::from_millis(1000),
        "the next request waited {:?} for an abandoned lock (lease 30 s)",
        start.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_abandoned_while_it_releases_its_lock_still_releases_it() {
    let store = FaultyStore::new();
    let lock = LockConfig {
        wait: Duration::from_millis(1500),
        lease: Duration::from_secs(30),
    };
    let layer = store_layer(store.clone())
        .with_lock(Some(lock))
        .with_store_timeout(Duration::from_secs(2))
        .build()
        .expect("valid");
    let base = serve(layer).await;
    let browser = Browser::new();
    browser.get(format!("{base}/count")).await.ok();
    let cookie = browser.cookie(&base).expect("a session cookie");
    // The client gives up while the server is in the middle of its (slow) unlock call.
    store.set(UNLOCK_SLOW);
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(150))
        .build()
        .expect("client");
    let abandoned = impatient
        .get(format!("{base}/count"))
        .header(COOKIE, format!("session={cookie}"))
        .send()
        .await;
    assert!(abandoned.is_err(), "the client timed out");
    // The dropped unlock is done again in the background; it takes SLOW_UNLOCK, well within the
    // next request's lock wait. Were it forgotten, the lock would be held for its 30 s lease.
    let start = Instant::now();
    let reply = replay(&base, "/count", &cookie).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(
        start.elapsed() < Duration::from_millis(1400),
        "the next request waited {:?} for the lock",
        start.elapsed()
    );
}

#[tokio::test]
async fn a_state_changing_request_is_not_run_while_the_store_is_down() {
    static EFFECTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let store = FaultyStore::new();
    let layer = store_layer(store.clone())
        .with_store_timeout(STORE_TIMEOUT)
        .build()
        .expect("valid");
    let app = Router::new()
        .route(
            "/effect",
            get(|session: Session| async move {
                EFFECTS.fetch_add(1, Ordering::SeqCst);
                bump(&session).to_string()
            })
            .post(|session: Session| async move {
                EFFECTS.fetch_add(1, Ordering::SeqCst);
                bump(&session).to_string()
            }),
        )
        .layer(layer);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    let browser = Browser::new();
    assert_eq!(browser.get(format!("{base}/effect")).await.ok(), "1");
    let before = EFFECTS.load(Ordering::SeqCst);

    store.set(ERRORS);
    let post = browser
        .client
        .post(format!("{base}/effect"))
        .send()
        .await
        .expect("request");
    let reply = Reply::of(post).await;
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.body
    );
    assert!(reply.set_cookies.is_empty(), "{:?}", reply.set_cookies);
    assert_eq!(
        EFFECTS.load(Ordering::SeqCst),
        before,
        "the POST handler must not run without its session"
    );
    // A safe request still runs (and answers 503 because it used the session).
    let reply = browser.get(format!("{base}/effect")).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(EFFECTS.load(Ordering::SeqCst), before + 1);
}

#[tokio::test]
async fn a_rewrite_under_the_same_id_is_reported_as_stored_not_as_a_set_cookie() {
    use sesi::{CookieAction, SessionOutcome};
    use tower::ServiceExt;

    let store = Arc::new(MemoryStore::new(100));
    let router = app(store_layer(store).build().expect("valid"));
    let request = |cookie: Option<&str>| {
        let mut builder = axum::http::Request::get("/count");
        if let Some(cookie) = cookie {
            builder = builder.header(COOKIE, format!("session={cookie}"));
        }
        builder.body(axum::body::Body::empty()).expect("request")
    };
    let first = router
        .clone()
        .oneshot(request(None))
        .await
        .expect("infallible");
    let outcome = first
        .extensions()
        .get::<SessionOutcome>()
        .expect("outcome")
        .clone();
    assert_eq!(
        outcome.action,
        CookieAction::Set(sesi::core::SetReason::Changed)
    );
    let set = first
        .headers()
        .get(SET_COOKIE)
        .expect("a new session gets its id cookie");
    let cookie = set
        .to_str()
        .expect("ASCII")
        .split(';')
        .next()
        .expect("pair")["session=".len()..]
        .to_owned();

    let second = router
        .oneshot(request(Some(&cookie)))
        .await
        .expect("infallible");
    assert!(second.headers().get(SET_COOKIE).is_none());
    let outcome = second
        .extensions()
        .get::<SessionOutcome>()
        .expect("outcome")
        .clone();
    assert_eq!(
        outcome.action,
        CookieAction::Stored(sesi::core::SetReason::Changed)
    );
    assert_eq!(outcome.action.name(), "stored");
}
