//! "Remember me" on the cart page: the session's own expiry, as a persistent cookie with
//! `Max-Age` in cookie mode and as the key's time-to-live in Redis.

use crate::support::cookie::{SECRET, decode, id_of};
use crate::support::html::{csrf_field, notices};
use crate::support::http::Visitor;
use crate::support::load;
use crate::support::process::SesiServer;
use crate::support::redis::Redis;
use crate::support::server::TestServer;

const MONTH: &str = "Max-Age=2592000";

/// Ticks (or unticks) the box and saves; the session's Set-Cookie.
async fn remember(visitor: &Visitor, tick: bool) -> String {
    let page = visitor.get("/cart").await;
    let token = csrf_field(&page.body);
    let mut fields = vec![("csrf_token", token.as_str())];
    if tick {
        fields.push(("remember", "on"));
    }
    let reply = visitor.post_form("/cart/remember", &fields).await;
    reply.expect_status(303);
    assert_eq!(reply.location(), Some("/cart"));
    reply
        .session_set_cookie()
        .expect("the cookie is sent again with its new lifetime")
}

#[tokio::test]
async fn remember_me_makes_the_cookie_last_thirty_days_and_unticking_ends_it_with_the_browser() {
    let server = TestServer::start().await;
    let visitor = server.visitor();
    visitor.add("rendang", 2).await;
    let page = visitor.get("/cart").await;
    assert!(
        page.body.contains("id=\"remember-me\""),
        "the checkbox is there"
    );
    assert!(
        !page.body.contains("id=\"remember-me\" checked"),
        "unticked at first"
    );

    let set_cookie = remember(&visitor, true).await;
    assert!(set_cookie.contains(MONTH), "{set_cookie}");
    let page = visitor.get("/cart").await;
    assert!(
        page.body.contains("id=\"remember-me\" checked"),
        "ticked now"
    );
    assert_eq!(
        notices(&page.body),
        ["You will be remembered on this browser for 30 days after your last visit."]
    );
    let cookie = visitor.cookie().expect("a cookie");
    assert_eq!(
        decode(&cookie).state["_sesi_expiry"],
        2_592_000,
        "in the signed state"
    );

    // Every later save renews the month.
    visitor.add("rendang", 1).await;
    let again = visitor.get("/cart").await;
    assert!(again.body.contains("id=\"remember-me\" checked"));

    let set_cookie = remember(&visitor, false).await;
    assert!(
        !set_cookie.contains("Max-Age"),
        "a browser-session cookie: {set_cookie}"
    );
    let cookie = visitor.cookie().expect("a cookie");
    assert!(decode(&cookie).state.get("_sesi_expiry").is_none());
    assert_eq!(visitor.cart().await, vec![("rendang".to_owned(), 3)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_redis_remember_me_is_the_keys_ttl_and_the_id_cookie_carries_the_max_age() {
    let _share = load::share().await;
    let Some(redis) = Redis::start() else {
        return;
    };
    let sesi = SesiServer::serve(&[("SESI_SECRET", SECRET)], &["--store", &redis.url()]);
    let visitor = sesi.visitor();
    visitor.add("rendang", 1).await;
    let set_cookie = remember(&visitor, true).await;
    assert!(set_cookie.contains(MONTH), "{set_cookie}");
    let key = format!(
        "sesi:{{{}}}",
        id_of(&visitor.cookie().expect("a cookie")).to_hex()
    );
    let pttl = redis.pttl(&key);
    assert!(
        (2_591_000_000..=2_592_000_000).contains(&pttl),
        "the session lives 30 days in Redis: {pttl} ms"
    );
    // Unticked: back to the layer's idle timeout (1200 s) and a browser-session cookie.
    let set_cookie = remember(&visitor, false).await;
    assert!(!set_cookie.contains("Max-Age"), "{set_cookie}");
    let pttl = redis.pttl(&key);
    assert!((1_190_000..=1_200_000).contains(&pttl), "{pttl} ms");
}
