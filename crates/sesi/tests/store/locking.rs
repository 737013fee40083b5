//! Parallel requests of one visitor: with and without the per-session lock.

use super::*;

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
async fn a_lock_whose_answer_was_lost_is_given_back_without_waiting_for_the_lease() {
    let store = FaultyStore::new();
    let base = serve(
        store_layer(store.clone())
            .with_store_timeout(STORE_TIMEOUT)
            .with_lock(Some(LockConfig::default()))
            .build()
            .expect("valid"),
    )
    .await;
    let browser = Browser::new();
    browser.get(format!("{base}/count")).await.ok();
    browser.get(format!("{base}/count")).await.ok();

    // The store took the lock but the reply timed out: the request cannot know it holds it, so
    // it releases it by its token in the background (a no-op had it not been taken).
    store.set(LOCK_REPLY_LOST);
    let (reply, elapsed) = timed(&browser, format!("{base}/count")).await;
    assert_unavailable(&reply, elapsed);
    store.set(UP);
    // Not a 30 s lease later: the next request gets the session at once.
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_the_store_could_not_release_is_released_once_the_store_is_back() {
    // A store outage while a request holds the lock: its save and its unlock fail. The lock is
    // given back as soon as the store answers again, not a 30 s lease later.
    let store = FaultyStore::new();
    let base = serve(
        store_layer(store.clone())
            .with_store_timeout(STORE_TIMEOUT)
            .with_lock(Some(LockConfig::default()))
            .build()
            .expect("valid"),
    )
    .await;
    let browser = Browser::new();
    assert_eq!(browser.get(format!("{base}/count")).await.ok(), "1");

    let slow = {
        let (client, url) = (browser.client.clone(), format!("{base}/slower-count"));
        tokio::spawn(async move { Reply::of(client.get(url).send().await.expect("request")).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    store.set(ERRORS);
    let reply = slow.await.expect("the request task");
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.body
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    store.set(UP);

    let (reply, elapsed) = timed(&browser, format!("{base}/count")).await;
    assert_eq!(reply.ok(), "2", "the failed request changed nothing");
    assert!(
        elapsed < Duration::from_secs(3),
        "the lock was released in the background: {elapsed:?}"
    );
}

/// The save and the unlock are one store step only under the locked id: a login's `cycle_id()`
/// saves under a new id, and the old id's lock must still be released, not left to its lease.
#[tokio::test]
async fn with_the_lock_a_new_id_still_releases_the_old_ids_lock() {
    let store = Arc::new(MemoryStore::new(100));
    let lock = LockConfig {
        wait: Duration::from_millis(300),
        lease: Duration::from_secs(30),
    };
    let base = serve(
        store_layer(store)
            .with_lock(Some(lock))
            .build()
            .expect("valid"),
    )
    .await;
    let browser = Browser::new();
    browser.get(format!("{base}/count")).await.ok();
    browser.get(format!("{base}/count")).await.ok();
    let old = browser.cookie(&base).expect("a session cookie");
    assert_eq!(browser.get(format!("{base}/cycle")).await.ok(), "cycled");
    assert_ne!(browser.cookie(&base), Some(old.clone()), "a new id");
    // A copy of the old cookie: its session is gone, and so must its lock be.
    let reply = replay(&base, "/count", &old).await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "the old id's lock was left held: {}",
        reply.body
    );
    // And the new id's session goes on, its own lock free.
    assert_eq!(browser.get(format!("{base}/count")).await.ok(), "3");
}
