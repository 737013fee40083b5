//! A failing or hanging store: bounded 503s, and the session survives.

use super::*;

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
    // The handler did count to 2, but the 503 said the change was most likely not saved: it was not.
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
