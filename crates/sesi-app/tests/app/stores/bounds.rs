//! What keeps a store from being filled or a session from being grown by one client: eviction
//! that protects returning visitors, the probation of sessions nobody came back to, the cap on a
//! stored session, and bounded flash queues. Sizes and counts are asserted, not times.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{integer, serve};
use crate::support::cookie::id_of;
use crate::support::http::Visitor;
use crate::support::load;
use crate::support::redis::Redis;

/// Sends `n` cookieless `GET /` to `base`, `parallel` at a time, each asserted 200.
async fn flood(base: &str, n: usize, parallel: usize) {
    let tasks: Vec<_> = (0..parallel)
        .map(|worker| {
            let crawler = Visitor::manual(base);
            tokio::spawn(async move {
                for _ in (worker..n).step_by(parallel) {
                    crawler.get("/").await.expect_status(200);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("a flooding task");
    }
}

#[tokio::test]
async fn a_returning_visitor_keeps_counting_through_twenty_thousand_cookieless_requests() {
    let _share = load::share().await;
    // Without a probation every session gets the same time-to-live, so only the eviction
    // policy can save the visitor (a policy that drops the session closest to expiry drops
    // theirs, the oldest, first).
    let sesi = serve(
        "memory",
        &["--store-capacity", "1000", "--probation", "none"],
    );
    let visitor = sesi.visitor();
    assert_eq!(visitor.visit().await, 1);
    assert_eq!(visitor.visit().await, 2, "the visitor came back");
    for round in 1..=4 {
        flood(&sesi.base, 5_000, 8).await;
        assert_eq!(
            visitor.visit().await,
            2 + round,
            "after {} cookieless requests into a store of 1000",
            round * 5_000
        );
    }
}

#[tokio::test]
async fn three_thousand_cart_posts_that_never_follow_the_redirect_stay_bounded() {
    let _share = load::share().await;
    let sesi = serve("memory", &[]);
    let visitor = sesi.visitor();
    let token = visitor.token().await;
    for _ in 0..3_000 {
        // `quantity=0` is refused with an error flash; the 303 to `/cart`, which would show and
        // remove it, is never followed.
        visitor
            .post_form(
                "/cart/add",
                &[
                    ("csrf_token", &token),
                    ("product_id", "kopi-tubruk"),
                    ("quantity", "0"),
                ],
            )
            .await
            .expect_status(303);
    }
    let state = visitor.state().await;
    let errors = state["_f_error"].as_array().expect("a queue of errors");
    assert_eq!(errors.len(), sesi::core::session::MAX_FLASH_MESSAGES);
    let size = state.to_string().len();
    assert!(
        size < 4096,
        "the session stayed small: {size} bytes of state"
    );
}

#[tokio::test]
async fn a_change_past_the_stored_session_cap_is_a_422_and_changes_nothing() {
    let _share = load::share().await;
    // 250 bytes: the CSRF token and the timestamps take about 100, each cart line about 17, so
    // the twelve lines below outgrow it whatever digits the `created` float has (at 300 they
    // did not always: a short fraction left room for the twelfth line).
    let sesi = serve("memory", &["--max-session-bytes", "250"]);
    let visitor = sesi.visitor();
    let token = visitor.token().await;
    let products = [
        "kopi-tubruk",
        "es-teh-manis",
        "nasi-goreng",
        "mie-goreng",
        "sate-ayam",
        "gado-gado",
        "rendang",
        "soto-ayam",
        "bakso",
        "pisang-goreng",
        "martabak-manis",
        "es-cendol",
    ];
    let mut refused = None;
    for product in products {
        let reply = visitor
            .api(
                Method::POST,
                "/api/cart/items",
                Some(json!({"product_id": product, "quantity": 1})),
                Some(&token),
            )
            .await;
        if reply.status != StatusCode::CREATED {
            refused = Some((product, reply));
            break;
        }
    }
    let (product, reply) = refused.expect("twelve cart lines outgrow 250 bytes");
    reply.expect_status(422);
    assert_eq!(reply.error_code(), "session_too_large");
    assert!(
        reply.body.contains("the session store takes (250)"),
        "{}",
        reply.body
    );
    let cart = visitor.cart().await;
    assert!(
        cart.iter().all(|(id, _)| id != product),
        "the refused line is not in the cart: {cart:?}"
    );
}

#[tokio::test]
async fn in_redis_a_new_session_lives_for_the_probation_and_a_returning_one_for_the_timeout() {
    let _share = load::share().await;
    let Some(redis) = Redis::start() else {
        return;
    };
    let sesi = serve(&redis.url(), &["--probation", "5"]);
    let visitor = sesi.visitor();
    let pttl = |cookie: String| {
        let key = format!("sesi:{{{}}}", id_of(&cookie).to_hex());
        integer(
            &redis
                .command(&format!("PTTL {key}"))
                .expect("redis answers"),
        )
    };
    assert_eq!(visitor.visit().await, 1);
    let first = pttl(visitor.cookie().expect("a cookie"));
    assert!((1..=5_000).contains(&first), "on probation: PTTL {first}");
    assert_eq!(visitor.visit().await, 2);
    let back = pttl(visitor.cookie().expect("a cookie"));
    assert!(
        back > 5_000 && back <= 1_200_000,
        "back with the cookie: the full 1200 s timeout, PTTL {back}"
    );

    // The first return ends the probation even when it only reads (with `--reissue-time none`
    // nothing else would save it).
    let no_reissue = serve(
        &redis.url(),
        &["--probation", "5", "--reissue-time", "none"],
    );
    let reader = no_reissue.visitor();
    assert_eq!(reader.visit().await, 1);
    assert!(pttl(reader.cookie().expect("a cookie")) <= 5_000);
    let state = reader.state().await;
    assert_eq!(state["counter"], 1, "read, not written: {state}");
    let read_back = pttl(reader.cookie().expect("a cookie"));
    assert!(
        read_back > 5_000,
        "a read ends the probation: PTTL {read_back}"
    );

    // A visitor who does not come back within the probation starts afresh.
    let late = sesi.visitor();
    assert_eq!(late.visit().await, 1);
    tokio::time::sleep(Duration::from_millis(5_500)).await;
    assert_eq!(late.visit().await, 1, "the session was dropped");
}
