//! Redis goes away, or answers slowly: a bounded 503 that leaves the visitor's cookie alone, and
//! the service recovers by itself.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::serve;
use crate::support::cookie::{SECRET, id_of};
use crate::support::html::counter;
use crate::support::http::Reply;
use crate::support::load;
use crate::support::redis::Redis;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_outage_answers_503_within_the_bound_and_the_service_recovers_by_itself() {
    let _share = load::share().await;
    let Some(mut redis) = Redis::start() else {
        return;
    };
    // One server without and one with locking: both paths meet the outage.
    let mut servers = [
        serve(&redis.url(), &["--store-timeout-ms", "500"]),
        serve(&redis.url(), &["--store-timeout-ms", "500", "--lock"]),
    ];
    let browser = servers[0].visitor();
    let on = [browser.clone(), browser.at(&servers[1].base)];
    let token = on[0].token().await;
    on[0].count(&token).await;
    assert_eq!(on[1].count(&token).await, 2);
    let cookie = browser.cookie().expect("a session cookie");

    redis.stop();
    for (sesi, visitor) in servers.iter().zip(&on) {
        for path in ["/api/session", "/", "/cart", "/session"] {
            let start = Instant::now();
            let reply = visitor.get(path).await;
            let elapsed = start.elapsed();
            assert_eq!(
                reply.status,
                StatusCode::SERVICE_UNAVAILABLE,
                "{path}: {}",
                reply.body
            );
            assert!(
                elapsed < Duration::from_secs(3),
                "{path} answered after {elapsed:?}"
            );
            assert!(
                reply.set_cookies().is_empty(),
                "{path}: the browser's cookie is not overwritten: {:?}",
                reply.set_cookies()
            );
            assert!(
                reply.body.contains("session could not be loaded or saved"),
                "{path}: a clear message: {}",
                reply.body
            );
            // The layer's own answer, in the app's clothes: its page or its JSON, never cached,
            // never sniffed, no script.
            let json = path.starts_with("/api/");
            assert_eq!(
                reply.content_type().starts_with("application/json"),
                json,
                "{path}: {}",
                reply.content_type()
            );
            if json {
                assert_eq!(reply.error_code(), "session_store_unavailable");
            } else {
                assert!(
                    reply.body.contains("<span id=\"status\">503</span>"),
                    "{path}"
                );
            }
            assert_eq!(reply.header("cache-control"), Some("no-store"), "{path}");
            assert_eq!(
                reply.header("x-content-type-options"),
                Some("nosniff"),
                "{path}"
            );
            assert!(
                reply
                    .header("content-security-policy")
                    .is_some_and(|csp| csp.contains("script-src 'none'")),
                "{path}"
            );
            assert_eq!(reply.header("retry-after"), Some("1"), "{path}");
        }
        let post = visitor
            .api(Method::POST, "/api/counter", Some(json!({})), Some(&token))
            .await;
        assert_eq!(
            post.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{}",
            post.body
        );
        // A new visitor cannot be saved either: no cookie pointing at nothing.
        let newcomer = sesi.visitor();
        let reply = newcomer.get("/").await;
        assert_eq!(
            reply.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{}",
            reply.body
        );
        assert_eq!(newcomer.cookie(), None);
        assert_eq!(visitor.get("/healthz").await.expect_status(200).body, "ok");
        assert_eq!(
            visitor.get("/api/products").await.status,
            StatusCode::OK,
            "a route that does not use the session still works"
        );
    }
    assert_eq!(
        browser.cookie().as_ref(),
        Some(&cookie),
        "the browser kept its cookie"
    );
    // Row 66: the failure is logged, and neither the cookie nor the secret is.
    for sesi in &mut servers {
        let log = sesi.log_when("the store failure", |log| {
            log.contains("session store failed")
        });
        for window in cookie.as_bytes().windows(12) {
            let window = std::str::from_utf8(window).expect("ASCII");
            assert!(!log.contains(window), "the cookie in the log:\n{log}");
        }
        assert!(!log.contains(SECRET), "the secret in the log");
    }

    redis.restart();
    let mut recovered = Vec::new();
    for (sesi, visitor) in servers.iter().zip(&on) {
        let deadline = Instant::now() + Duration::from_secs(10);
        recovered.push(loop {
            let reply = visitor.get("/api/session").await;
            if reply.status == StatusCode::OK {
                break reply.json();
            }
            assert_eq!(
                reply.status,
                StatusCode::SERVICE_UNAVAILABLE,
                "{}",
                reply.body
            );
            assert!(
                Instant::now() < deadline,
                "{} did not recover within 10 s of Redis coming back:\n{}",
                sesi.base,
                sesi.log()
            );
            assert_eq!(visitor.get("/healthz").await.expect_status(200).body, "ok");
            tokio::time::sleep(Duration::from_millis(200)).await;
        });
    }
    // Redis kept nothing, so the session is gone: a fresh one, not an error page...
    assert_eq!(
        recovered[0]["status"], "unknown-session",
        "{}",
        recovered[0]
    );
    assert_eq!(recovered[0]["new"], true);
    assert_eq!(recovered[0]["state"].get("counter"), None);
    // ...which the other server, recovered too, shares.
    assert_eq!(recovered[1]["status"], "valid", "{}", recovered[1]);
    assert_eq!(recovered[1]["csrf_token"], recovered[0]["csrf_token"]);
    assert_ne!(browser.cookie(), Some(cookie), "a new session, a new id");
    assert_eq!(on[0].visit().await, 1, "counting again from one");
    let token = on[1].token().await;
    assert_eq!(on[1].count(&token).await, 2);
    for sesi in &mut servers {
        sesi.assert_healthy();
    }
}

/// A 503 for a request that met a store slower than `--store-timeout-ms 500`, answered in well
/// under the 3 s the store takes, leaving the browser's cookie alone.
#[track_caller]
fn refused_within_the_timeout(what: &str, reply: &Reply, took: Duration) {
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{what} (after {took:?}): {}",
        reply.body
    );
    assert!(
        took < Duration::from_secs(2),
        "{what} answered after {took:?}, not within the 500 ms store timeout"
    );
    assert!(
        reply.set_cookies().is_empty(),
        "{what}: the browser's cookie is not overwritten: {:?}",
        reply.set_cookies()
    );
    assert!(
        reply.body.contains("session could not be loaded or saved"),
        "{what}: a clear message: {}",
        reply.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_redis_answers_503_within_the_store_timeout_and_the_visitor_goes_on_once_it_answers() {
    let _share = load::share().await;
    let Some(redis) = Redis::start() else {
        return;
    };
    let mut sesi = serve(&redis.url(), &["--store-timeout-ms", "500"]);
    let browser = sesi.visitor();
    assert_eq!(browser.visit().await, 1);
    let token = browser.token().await;
    let cookie = browser.cookie().expect("a session cookie");

    // Redis stays up and keeps the session, but answers no command for 3 s.
    let paused = Instant::now();
    assert_eq!(
        redis.command("CLIENT PAUSE 3000 ALL").as_deref(),
        Some("+OK")
    );
    // Routes outside the session never wait for the store...
    let health = browser.get("/healthz").await;
    let health_took = paused.elapsed();
    assert_eq!(health.status, StatusCode::OK, "{}", health.body);
    assert_eq!(health.body, "ok");
    assert!(
        health_took < Duration::from_secs(1),
        "/healthz answered during the pause, not after {health_took:?}"
    );
    // ...and those that use it give up after the store timeout, well before Redis answers.
    let start = Instant::now();
    let page = browser.get("/").await;
    refused_within_the_timeout("GET /", &page, start.elapsed());
    let start = Instant::now();
    let post = browser
        .api(Method::POST, "/api/counter", Some(json!({})), Some(&token))
        .await;
    refused_within_the_timeout("POST /api/counter", &post, start.elapsed());
    assert_eq!(
        browser.cookie(),
        Some(cookie.clone()),
        "the browser kept its cookie"
    );

    // Once Redis answers again, the same session goes on where it was: nothing was counted twice.
    let deadline = paused + Duration::from_secs(3 + 5);
    let page = loop {
        let reply = browser.get("/").await;
        if reply.status == StatusCode::OK {
            break reply;
        }
        assert_eq!(
            reply.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{}",
            reply.body
        );
        assert!(
            Instant::now() < deadline,
            "no recovery within 5 s of the pause ending:\n{}",
            sesi.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        paused.elapsed() >= Duration::from_millis(2900),
        "a 200 only once the pause is over, not after {:?}",
        paused.elapsed()
    );
    assert_eq!(counter(&page.body), 2, "the visitor counts on");
    assert_eq!(id_of(&browser.cookie().expect("a cookie")), id_of(&cookie));
    assert_eq!(browser.count(&token).await, 3);
    sesi.assert_healthy();
}
