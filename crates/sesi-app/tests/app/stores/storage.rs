//! Where a session lives: in Redis under its id (shown shortened), in the cookie when small
//! enough (`--spill`), in the process (`memory`); and what `--timeout` and the URL's database
//! mean in Redis.

use std::time::Duration;

use sesi::core::CookieContent;

use super::{integer, replay, serve};
use crate::support::cookie::{content, id_of};
use crate::support::html::text_of;
use crate::support::load;
use crate::support::redis::Redis;

/// The text of `<strong id="storage">` on the inspector page.
fn storage(page: &str) -> String {
    text_of(page, "storage").unwrap_or_else(|| panic!("the inspector names the storage:\n{page}"))
}

#[tokio::test]
async fn the_inspector_shows_a_session_in_the_store_with_its_id_shortened() {
    let _share = load::share().await;
    let Some(redis) = Redis::start() else {
        return;
    };
    let sesi = serve(&redis.url(), &[]);
    let browser = sesi.visitor();
    browser.get("/").await.expect_status(200);
    let id = id_of(&browser.cookie().expect("a session cookie"));
    let page = browser.get("/session").await;
    let page = &page.expect_status(200).body;
    assert_eq!(
        storage(page),
        format!("the server-side store, id {}…", id.short())
    );
    assert!(
        !page.contains(&id.to_hex()),
        "the whole id (a bearer credential) is never shown"
    );
    assert!(page.contains("counter"), "the stored state is shown");
}

#[tokio::test]
async fn spill_keeps_a_small_session_in_the_cookie() {
    let _share = load::share().await;
    let Some(redis) = Redis::start() else {
        return;
    };
    let sesi = serve(&redis.url(), &["--spill"]);
    let browser = sesi.visitor();
    assert_eq!(browser.visit().await, 1);
    assert_eq!(browser.visit().await, 2);
    let cookie = browser.cookie().expect("a session cookie");
    let CookieContent::State(record) = content(&cookie) else {
        panic!("a small session stays in the cookie: {cookie}");
    };
    assert_eq!(record.state["counter"], 2);
    let page = browser.get("/session").await;
    let page = &page.expect_status(200).body;
    assert!(storage(page).starts_with("the cookie"), "{}", storage(page));
    assert_eq!(redis.keys(), 0, "nothing in Redis");
}

#[tokio::test]
async fn the_memory_store_keeps_sessions_in_the_process_only() {
    let _share = load::share().await;
    let sesi = serve("memory", &[]);
    let browser = sesi.visitor();
    browser.get("/").await.expect_status(200);
    assert_eq!(browser.visit().await, 2);
    let cookie = browser.cookie().expect("a session cookie");
    let id = id_of(&cookie);
    let inspector = browser.get("/session").await;
    assert_eq!(
        storage(&inspector.expect_status(200).body),
        format!("the server-side store, id {}…", id.short())
    );
    // A restart loses them: the cookie now points at nothing, and the visitor starts afresh.
    drop(sesi);
    let sesi = serve("memory", &[]);
    let after = replay(&sesi, "/api/session", &cookie).await;
    assert_eq!(after.expect_status(200).json()["status"], "unknown-session");
    assert_eq!(browser.at(&sesi.base).visit().await, 1);
}

#[tokio::test]
async fn the_idle_timeout_is_the_keys_ttl_in_redis_and_an_idle_session_is_gone_after_it() {
    let _share = load::share().await;
    let Some(redis) = Redis::start() else {
        return;
    };
    let sesi = serve(&redis.url(), &["--timeout", "2"]);
    let browser = sesi.visitor();
    assert_eq!(browser.visit().await, 1);
    let cookie = browser.cookie().expect("a session cookie");
    let key = format!("sesi:{{{}}}", id_of(&cookie).to_hex());
    let ttl = integer(
        &redis
            .command(&format!("PTTL {key}"))
            .expect("redis answers"),
    );
    assert!(
        (1..=2000).contains(&ttl),
        "{key} expires within the 2 s timeout: PTTL {ttl} (-1: never, -2: no such key)"
    );

    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        redis.command(&format!("EXISTS {key}")).as_deref(),
        Some(":0"),
        "Redis dropped the idle session by itself"
    );
    assert_eq!(browser.visit().await, 1, "a new session");
    assert_ne!(browser.cookie(), Some(cookie), "under a new id");
}

#[tokio::test]
async fn the_database_in_the_redis_url_is_the_one_used() {
    let _share = load::share().await;
    let Some(redis) = Redis::start() else {
        return;
    };
    let sesi = serve(&format!("{}/3", redis.url()), &[]);
    let browser = sesi.visitor();
    assert_eq!(browser.visit().await, 1);
    assert_eq!(browser.visit().await, 2);
    let key = format!(
        "sesi:{{{}}}",
        id_of(&browser.cookie().expect("a cookie")).to_hex()
    );
    assert_eq!(redis.keys(), 0, "nothing in database 0");
    let in_3 = redis.pipeline(&["SELECT 3", "DBSIZE", &format!("EXISTS {key}")]);
    assert_eq!(
        in_3,
        ["+OK", ":1", ":1"],
        "the one session is in database 3"
    );
}
