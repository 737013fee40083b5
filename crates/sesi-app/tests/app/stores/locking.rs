//! `--lock`: one request of a session at a time, across servers, with a lease and a bounded wait.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{integer, serve};
use crate::support::cookie::id_of;
use crate::support::load;
use crate::support::redis::Redis;

/// A lock value no `sesi serve` would write (theirs are 32 hex characters): another holder's.
const FOREIGN_TOKEN: &str = "held-by-another-server";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_lock_ten_parallel_increments_through_two_servers_give_exactly_ten() {
    let _share = load::share().await;
    let Some(redis) = Redis::start() else {
        return;
    };
    let servers = [
        serve(&redis.url(), &["--lock"]),
        serve(&redis.url(), &["--lock"]),
    ];
    let browser = servers[0].visitor();
    let on = [browser.clone(), browser.at(&servers[1].base)];
    let token = on[0].token().await;
    let before = on[1].count(&token).await;

    let mut requests = Vec::new();
    for i in 0..10 {
        let (visitor, token) = (on[i % 2].clone(), token.clone());
        requests.push(tokio::spawn(async move { visitor.count(&token).await }));
    }
    let mut answered = Vec::new();
    for request in requests {
        answered.push(request.await.expect("request task"));
    }
    answered.sort_unstable();
    assert_eq!(
        answered,
        (before + 1..=before + 10).collect::<Vec<_>>(),
        "one request of the session at a time, across both servers"
    );
    assert_eq!(on[0].session().await["state"]["counter"], before + 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_lock_a_request_waits_for_a_lock_held_elsewhere_until_its_lease_ends() {
    let _share = load::share().await;
    let Some(redis) = Redis::start() else {
        return;
    };
    let sesi = serve(&redis.url(), &["--lock"]);
    let browser = sesi.visitor();
    let token = browser.token().await;
    assert_eq!(browser.count(&token).await, 1);
    let lock = format!(
        "sesi:lock:{{{}}}",
        id_of(&browser.cookie().expect("a cookie")).to_hex()
    );
    assert_eq!(
        redis.command(&format!("EXISTS {lock}")).as_deref(),
        Some(":0"),
        "each request releases its lock"
    );

    // Another server holds the session's lock, with a 1.5 s lease.
    assert_eq!(
        redis
            .command(&format!("SET {lock} {FOREIGN_TOKEN} NX PX 1500"))
            .as_deref(),
        Some("+OK")
    );
    let start = Instant::now();
    let counted = browser.count(&token).await;
    let waited = start.elapsed();
    assert_eq!(counted, 2, "the request went ahead once the lease ended");
    assert!(
        waited >= Duration::from_secs(1),
        "the request waited for the lease (1.5 s), not {waited:?}"
    );
    assert_eq!(
        redis.command(&format!("EXISTS {lock}")).as_deref(),
        Some(":0"),
        "and released the lock it then took"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_lock_a_lock_held_past_the_wait_answers_503_and_changes_nothing() {
    let _share = load::share().await;
    let Some(redis) = Redis::start() else {
        return;
    };
    let sesi = serve(&redis.url(), &["--lock"]);
    let browser = sesi.visitor();
    let token = browser.token().await;
    assert_eq!(browser.count(&token).await, 1);
    let cookie = browser.cookie().expect("a cookie");
    let lock = format!("sesi:lock:{{{}}}", id_of(&cookie).to_hex());

    // Another server holds the lock far longer than a request waits (5 s, `--lock`'s default).
    assert_eq!(
        redis
            .command(&format!("SET {lock} {FOREIGN_TOKEN} NX PX 20000"))
            .as_deref(),
        Some("+OK")
    );
    let start = Instant::now();
    let reply = browser
        .api(Method::POST, "/api/counter", Some(json!({})), Some(&token))
        .await;
    let waited = start.elapsed();
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "the request must not run while another holds the lock: {}",
        reply.body
    );
    assert!(
        (Duration::from_millis(4500)..Duration::from_secs(7)).contains(&waited),
        "the 503 came after the 5 s lock wait, not after {waited:?}"
    );
    assert!(
        reply.body.contains("session is locked by another request"),
        "the message says why: {}",
        reply.body
    );
    assert!(
        reply.set_cookies().is_empty(),
        "the browser's cookie is not overwritten: {:?}",
        reply.set_cookies()
    );
    assert_eq!(browser.cookie(), Some(cookie));
    let pttl = integer(
        &redis
            .command(&format!("PTTL {lock}"))
            .expect("redis answers"),
    );
    assert!(
        pttl > 10_000,
        "the other holder's lock is left alone: PTTL {pttl} (-2: deleted)"
    );

    // The other holder lets go: the refused request had changed nothing.
    assert_eq!(redis.command(&format!("DEL {lock}")).as_deref(), Some(":1"));
    assert_eq!(browser.session().await["state"]["counter"], 1);
    assert_eq!(browser.count(&token).await, 2);
}
