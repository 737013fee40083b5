//! The store is read when the handler asks, never before, and nothing can be written or loaded
//! for a request that is over.

use axum::Extension;
use sesi::LazySession;
use sesi::core::session::SessionError;
use tokio::sync::oneshot;
use tower::{ServiceBuilder, ServiceExt};

use super::*;

#[tokio::test]
async fn a_route_that_never_asks_for_the_session_never_waits_for_the_store() {
    for lock in [None, Some(LockConfig::default())] {
        let store = FaultyStore::new();
        let base = serve(
            store_layer(store.clone())
                .with_lock(lock)
                .with_store_timeout(Duration::from_secs(5))
                .build()
                .expect("valid"),
        )
        .await;
        let browser = Browser::new();
        assert_eq!(browser.get(format!("{base}/count")).await.ok(), "1");
        // Every store call would now hang for the full 5 s timeout.
        store.set(HANGS);
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(browser.get(format!("{base}/untouched")).await.ok(), "ok");
        }
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "lock {lock:?}: the untouched route waited {:?}: it called the store",
            start.elapsed()
        );
    }
}

/// A route whose handler hands its session (or its lazy handle) to a task that uses it after
/// the response is out, and reports what happened.
fn late_user<T: Send + 'static>(
    report: Arc<Mutex<Option<oneshot::Sender<T>>>>,
    late: impl Fn(Session, LazySession) -> BoxFuture<'static, T> + Send + Sync + Clone + 'static,
) -> Router {
    Router::new().route(
        "/late",
        get(
            move |session: Session, Extension(lazy): Extension<LazySession>| {
                let (report, late) = (report.clone(), late.clone());
                async move {
                    tokio::spawn(async move {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        let outcome = late(session, lazy).await;
                        if let Some(tx) = report.lock().expect("not poisoned").take() {
                            let _ = tx.send(outcome);
                        }
                    });
                    "answered"
                }
            },
        ),
    )
}

#[tokio::test]
async fn a_write_after_the_response_is_refused_with_an_error_not_silently_lost() {
    let store = Arc::new(MemoryStore::new(100));
    let (tx, rx) = oneshot::channel();
    let router = late_user(Arc::new(Mutex::new(Some(tx))), |session, _| {
        Box::pin(async move { session.insert("late", &1) })
    })
    .route("/count", get(count))
    .layer(store_layer(store).build().expect("valid"));
    let base = serve_router(router).await;
    let browser = Browser::new();
    browser.get(format!("{base}/count")).await.ok();
    assert_eq!(browser.get(format!("{base}/late")).await.ok(), "answered");
    let outcome = rx.await.expect("the task reports");
    assert!(
        matches!(outcome, Err(SessionError::Closed)),
        "a write after the response must be refused: {outcome:?}"
    );
    let body = browser.get(format!("{base}/count")).await.ok();
    assert_eq!(body, "2", "the session is as the requests left it");
}

#[tokio::test]
async fn a_lazy_session_loaded_after_its_request_ended_is_refused() {
    let store = Arc::new(MemoryStore::new(100));
    let (tx, rx) = oneshot::channel();
    // The route asks for `Session` too, so this request has a loaded session; the lazy handle
    // is the point: a second request's handle, loaded late, must not lock or read for nobody.
    let router = late_user(Arc::new(Mutex::new(Some(tx))), |_, lazy| {
        Box::pin(async move { lazy.load().await.map(drop) })
    })
    .route("/count", get(count))
    .layer(store_layer(store).build().expect("valid"));
    let base = serve_router(router).await;
    let browser = Browser::new();
    browser.get(format!("{base}/count")).await.ok();
    browser.get(format!("{base}/late")).await.ok();
    let outcome = rx.await.expect("the task reports");
    assert!(
        outcome.is_err(),
        "a load after the request ended is refused"
    );
}

#[tokio::test]
async fn a_plain_tower_service_loads_a_stored_session_with_load_from() {
    let store = Arc::new(MemoryStore::new(100));
    let layer = store_layer(store).build().expect("valid");
    let service = ServiceBuilder::new().layer(layer).service_fn(
        |req: axum::http::Request<String>| async move {
            assert!(
                Session::from_extensions(req.extensions()).is_none()
                    || !req.headers().contains_key(COOKIE),
                "a stored session is not at hand before it is loaded"
            );
            let session = Session::load_from(req.extensions())
                .await
                .expect("the store answers");
            let n = bump(&session);
            Ok::<_, std::convert::Infallible>(axum::http::Response::new(n.to_string()))
        },
    );
    let first = service
        .clone()
        .oneshot(axum::http::Request::new(String::new()))
        .await
        .expect("infallible");
    assert_eq!(first.body(), "1");
    let cookie = first.headers()[SET_COOKIE]
        .to_str()
        .expect("ASCII")
        .split(';')
        .next()
        .expect("pair")
        .to_owned();
    let mut second = axum::http::Request::new(String::new());
    second
        .headers_mut()
        .insert(COOKIE, cookie.parse().expect("a header value"));
    let second = service.oneshot(second).await.expect("infallible");
    assert_eq!(second.body(), "2");
}
