//! The store is read only when a handler asks for the session: counted by Redis itself
//! (`INFO commandstats` on a redis-server of the test's own, stats reset first).

use std::collections::BTreeMap;
use std::process::Command;

use super::serve;
use crate::support::load;
use crate::support::redis::Redis;

/// Calls per command since the last `CONFIG RESETSTAT`, without the test's own INFO/CONFIG.
fn commandstats(redis: &Redis) -> BTreeMap<String, u64> {
    let port = redis.url().rsplit(':').next().expect("a port").to_owned();
    let out = Command::new("redis-cli")
        .args(["-p", &port, "info", "commandstats"])
        .output()
        .expect("redis-cli");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            let (name, rest) = line.strip_prefix("cmdstat_")?.split_once(':')?;
            let calls = rest
                .strip_prefix("calls=")?
                .split(',')
                .next()?
                .parse()
                .ok()?;
            Some((name.to_owned(), calls))
        })
        .filter(|(name, _)| !(name == "info" || name.starts_with("config")))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_route_that_never_asks_for_the_session_sends_redis_no_command_even_with_locking() {
    let _share = load::share().await;
    let Some(redis) = Redis::start() else {
        return;
    };
    let server = serve(&redis.url(), &["--lock", "--reissue-time", "none"]);
    let visitor = server.visitor();
    let token = visitor.token().await;
    // Times are whole seconds: a return in the second the session was created still counts
    // as the first (which saves, to end the probation).
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(visitor.count(&token).await, 1);
    visitor.session().await;

    redis.command("CONFIG RESETSTAT").expect("redis answers");
    for _ in 0..5 {
        visitor.get("/api/products").await.expect_status(200);
    }
    assert_eq!(
        commandstats(&redis),
        BTreeMap::new(),
        "five requests with a session cookie to a route that never asks for the session"
    );

    // A read that changes nothing and needs no reissue: two round trips. The lock and the read
    // pipelined (SET NX, GET), then the unlock's script by its hash (EVALSHA: the requests
    // above had Redis cache it; Redis counts its GET and DEL too).
    visitor.session().await;
    let stats = commandstats(&redis);
    let expected = [("set", 1), ("get", 2), ("evalsha", 1), ("del", 1)]
        .map(|(name, calls)| (name.to_owned(), calls));
    assert_eq!(stats, BTreeMap::from(expected));

    // A write: still two round trips, the lock with the read, the save with the unlock.
    redis.command("CONFIG RESETSTAT").expect("redis answers");
    let token = visitor.token().await;
    visitor.count(&token).await;
    let stats = commandstats(&redis);
    let evals = stats.get("evalsha").copied().unwrap_or(0);
    assert_eq!(
        evals, 2,
        "two requests (the token, then the count), one script each, by its hash: {stats:?}"
    );
    assert_eq!(stats.get("eval"), None, "no script sent in full: {stats:?}");
    assert_eq!(
        stats.get("del"),
        Some(&2),
        "each request released its lock: {stats:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_locking_a_read_that_changes_nothing_is_one_round_trip() {
    let _share = load::share().await;
    let Some(redis) = Redis::start() else {
        return;
    };
    let server = serve(&redis.url(), &["--reissue-time", "none"]);
    let visitor = server.visitor();
    let token = visitor.token().await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    visitor.count(&token).await;
    visitor.session().await;
    redis.command("CONFIG RESETSTAT").expect("redis answers");
    for _ in 0..3 {
        visitor.session().await;
    }
    let stats = commandstats(&redis);
    assert_eq!(
        stats,
        BTreeMap::from([("get".to_owned(), 3)]),
        "one GET per read"
    );
}
