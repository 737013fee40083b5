//! Store mode, spill-over, and what cookie mode does not send.

use super::*;

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
// Whole-session cookies reaching a store.

/// A whole-session cookie holding `{"counter": 41}`, signed with the layer's secret now.
fn whole_session_cookie() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let now = i64::try_from(now).expect("in range");
    let mut state = serde_json::Map::new();
    state.insert("counter".into(), 41.into());
    codec().encode(&sesi::core::Record::new(
        sesi::core::Timestamp::Int(now),
        sesi::core::Timestamp::Float(now as f64),
        state,
    ))
}

#[tokio::test]
async fn store_mode_refuses_a_whole_session_cookie_a_store_could_not_revoke() {
    let store = Arc::new(MemoryStore::new(100));
    let base = serve(store_layer(store.clone()).build().expect("valid")).await;
    let cookie = whole_session_cookie();
    let reply = replay(&base, "/whoami", &cookie).await;
    assert_eq!(reply.ok(), "whole-session-refused counter=0");
    let reply = replay(&base, "/count", &cookie).await;
    assert_eq!(reply.body, "1", "the visitor starts afresh");
    let value = reply.set_cookies[0]["session=".len()..]
        .split(';')
        .next()
        .expect("a value")
        .to_owned();
    assert!(
        matches!(content(&value), CookieContent::Id(_)),
        "in the store, under an id"
    );
}

#[tokio::test]
async fn during_a_migration_window_store_mode_reads_a_whole_session_cookie_and_moves_it() {
    let store = Arc::new(MemoryStore::new(100));
    let layer = store_layer(store.clone())
        .with_accept_cookie_sessions(true)
        .build()
        .expect("valid");
    let base = serve(layer).await;
    let reply = replay(&base, "/count", &whole_session_cookie()).await;
    assert_eq!(reply.body, "42", "the cookie's session goes on");
    let value = reply.set_cookies[0]["session=".len()..]
        .split(';')
        .next()
        .expect("a value")
        .to_owned();
    let id = id_of(&value);
    let stored = store.load(id).await.expect("memory").expect("moved");
    assert!(
        String::from_utf8(stored)
            .expect("JSON")
            .contains(r#""counter": 42"#)
    );

    // Spill mode reads its own whole-session cookies without being told.
    let spill = sesi::SessionLayer::builder(secrets())
        .with_spill_store(Arc::new(MemoryStore::new(10)))
        .build()
        .expect("valid");
    let base = serve(spill).await;
    assert_eq!(
        replay(&base, "/count", &whole_session_cookie()).await.body,
        "42"
    );
}
