//! Two servers, one Redis: one visitor served by both in turn.

use reqwest::Method;
use serde_json::json;

use super::{replay, serve};
use crate::support::cookie::id_of;
use crate::support::http::lines;
use crate::support::load;
use crate::support::redis::Redis;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_sharing_redis_serve_one_visitor_alternately_with_nothing_lost() {
    let _share = load::share().await;
    let Some(redis) = Redis::start() else {
        return;
    };
    let servers = [serve(&redis.url(), &[]), serve(&redis.url(), &[])];
    let browser = servers[0].visitor();
    let on = [browser.clone(), browser.at(&servers[1].base)];
    let token = on[0].token().await;
    for i in 0..6 {
        assert_eq!(
            on[i % 2].count(&token).await,
            i64::try_from(i).expect("small") + 1,
            "request {i} on server {}",
            i % 2
        );
    }
    let [a, b] = &on;
    a.api(
        Method::POST,
        "/api/cart/items",
        Some(json!({"product_id": "kopi-tubruk", "quantity": 2})),
        Some(&token),
    )
    .await
    .expect_status(201);
    b.api(
        Method::POST,
        "/api/cart/items",
        Some(json!({"product_id": "nasi-goreng", "quantity": 1})),
        Some(&token),
    )
    .await
    .expect_status(201);
    a.api(
        Method::PATCH,
        "/api/cart/items/kopi-tubruk",
        Some(json!({"quantity": 3})),
        Some(&token),
    )
    .await
    .expect_status(200);
    let want = lines(&[("kopi-tubruk", 3), ("nasi-goreng", 1)]);
    assert_eq!(b.cart().await, want);
    assert_eq!(a.cart().await, want);
    assert_eq!(b.session().await["state"]["counter"], 6);

    let cookie = browser.cookie().expect("a session cookie");
    let id = id_of(&cookie);
    assert_eq!(redis.keys(), 1, "one session in Redis");
    assert_eq!(
        redis
            .command(&format!("EXISTS sesi:{{{}}}", id.to_hex()))
            .as_deref(),
        Some(":1"),
        "under the cookie's id"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalidate_on_one_server_logs_the_visitor_out_on_the_other() {
    let _share = load::share().await;
    let Some(redis) = Redis::start() else {
        return;
    };
    let (a, b) = (serve(&redis.url(), &[]), serve(&redis.url(), &[]));
    let browser = a.visitor();
    let token = browser.token().await;
    browser.count(&token).await;
    browser
        .api(
            Method::POST,
            "/api/cart/items",
            Some(json!({"product_id": "mie-goreng", "quantity": 1})),
            Some(&token),
        )
        .await
        .expect_status(201);
    let copied = browser.cookie().expect("a session cookie");
    let on_b = replay(&b, "/api/session", &copied).await;
    let on_b = on_b.expect_status(200).json();
    assert_eq!(on_b["status"], "valid");
    assert_eq!(on_b["state"]["counter"], 1);

    let reset = browser
        .post_form("/session/reset", &[("csrf_token", &token)])
        .await;
    reset.expect_status(303);
    assert!(
        reset.set_cookies().iter().any(|c| c.contains("Max-Age=0")),
        "the cookie is removed: {:?}",
        reset.set_cookies()
    );
    assert_eq!(redis.keys(), 0, "and the session is gone from Redis");

    // The browser starts afresh on the other server...
    let fresh = browser.at(&b.base).session().await;
    assert_eq!(fresh["new"], true);
    assert_eq!(fresh["state"].get("counter"), None);
    // ...and a copy of the old cookie (a second tab, or a thief) is dead there too.
    let copy = replay(&b, "/api/session", &copied).await;
    let copy = copy.expect_status(200).json();
    assert_eq!(copy["status"], "unknown-session");
    assert_eq!(copy["new"], true);
    assert_eq!(copy["state"].get("counter"), None);
    assert_eq!(copy["state"].get("cart"), None);
}
