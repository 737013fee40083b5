//! What the handler is told, and the review findings: abandoned locks, state-changing requests
//! while the store is down, getters, and how a rewrite is reported.

use super::*;

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
            get(move |session: Result<Session, SessionRejection>| {
                let log = log.clone();
                async move {
                    // The store is read when the handler asks; an outage is a rejection, which
                    // a handler taking `Result` sees (and here hands back to the layer).
                    let session = match session {
                        Ok(session) => session,
                        Err(rejection) => {
                            log.lock().expect("not poisoned").push("store-unavailable");
                            return rejection.into_response();
                        }
                    };
                    let status = session.status();
                    log.lock().expect("not poisoned").push(status.name());
                    let _ = session.get_value("counter");
                    matches!(status, CookieStatus::StoreUnavailable)
                        .to_string()
                        .into_response()
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
        "the handler learnt that the store is unavailable"
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
            get(|session: Result<Session, SessionRejection>| async move {
                match session {
                    Ok(session) => session.status().name(),
                    Err(SessionRejection::Unavailable(_)) => "store-unavailable",
                    Err(_) => "no-layer",
                }
            }),
        )
        .layer(layer);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    let browser = Browser::new();
    browser.get(format!("{base}/count")).await.ok();
    store.set(ERRORS);
    // A handler that takes `Result<Session, _>` can say "sessions are down" instead of a 503.
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
    // A safe request is not run either: its handler asked for the session, which the store
    // could not give (the extractor refuses before the handler's body).
    let reply = browser.get(format!("{base}/effect")).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(EFFECTS.load(Ordering::SeqCst), before);
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
