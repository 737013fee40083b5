//! The `SessionStore` contract (sesi-core's `store_contract_tests!`) against a real redis-server,
//! plus what is particular to Redis: the key layout, prefixes, and reconnecting after a restart.
//!
//! Redis is found at `SESI_REDIS_URL` (default `redis://127.0.0.1:6379`); `scripts/test.sh` starts
//! one. When none answers, the tests fail where every test must run (`scripts/test.sh`, CI) and
//! are skipped with a `SKIPPED` line elsewhere. Every test works under a key prefix of its own, so
//! tests running in parallel (or a developer's other data) never collide.

mod support;

use std::time::{Duration, Instant};

use sesi_core::store::contract;
use sesi_core::store::{LockToken, SessionId, SessionStore, StoreError};
use sesi_redis::{ConnectError, RedisStore};
use sesi_testkit::free_port;
use sesi_testkit::redis::{RedisServer, TempDir, Transport};
use support::{Remote, chain, unique_prefix};

fn redis_url() -> String {
    std::env::var("SESI_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// A missing Redis skips the test, or fails it where every test must run (`scripts/test.sh`
/// starts one).
fn missing(what: &str) {
    sesi_testkit::skip(&format!(
        "{what}; the Redis store was not tested (scripts/test.sh starts a redis-server, or \
         point SESI_REDIS_URL at one)"
    ));
}

/// A store on the test Redis under a fresh prefix, or `None` (after the notice) when Redis is not
/// there outside CI.
async fn connect(prefix: &str) -> Option<RedisStore> {
    let url = redis_url();
    match RedisStore::connect_with(&url, prefix, Duration::from_secs(2)).await {
        Ok(store) => Some(store),
        Err(err) => {
            missing(&format!("no Redis answers at {url} ({})", chain(&err)));
            None
        }
    }
}

sesi_core::store_contract_tests!(async {
    // The test script's redis-server: nothing to keep alive.
    connect(&unique_prefix()).await.map(|store| Remote {
        store,
        _servers: std::sync::Arc::new(()),
    })
});

/// A plain connection for looking at the keys behind the store's back.
async fn raw() -> redis::aio::MultiplexedConnection {
    redis::Client::open(redis_url())
        .expect("valid url")
        .get_multiplexed_async_connection()
        .await
        .expect("the store connected, so a plain connection does too")
}

#[tokio::test]
async fn sessions_live_under_the_prefix_with_the_ttl_as_their_pttl() {
    let prefix = unique_prefix();
    let Some(store) = connect(&prefix).await else {
        return;
    };
    let mut conn = raw().await;
    let id = SessionId::generate();
    let key = format!("{prefix}{{{}}}", id.to_hex());
    assert_eq!(store.key(id), key, "the id in braces: a cluster hash tag");
    store
        .save(id, contract::payload("x"), Some(Duration::from_secs(1200)))
        .await
        .expect("save");
    let value: Vec<u8> = redis::cmd("GET")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .expect("GET");
    assert_eq!(value, contract::payload("x"), "the payload, unwrapped");
    let pttl: i64 = redis::cmd("PTTL")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .expect("PTTL");
    assert!(
        (1_190_000..=1_200_000).contains(&pttl),
        "the idle timeout is the key's TTL: {pttl} ms"
    );
    store
        .save(id, contract::payload("y"), None)
        .await
        .expect("save");
    let pttl: i64 = redis::cmd("PTTL")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .expect("PTTL");
    assert_eq!(pttl, -1, "no timeout: a key without expiry");

    let token = LockToken::generate();
    assert!(
        store
            .try_lock(id, token, Duration::from_secs(30))
            .await
            .expect("lock")
    );
    let lock_key = format!("{prefix}lock:{{{}}}", id.to_hex());
    assert_eq!(store.lock_key(id), lock_key);
    let (holder, pttl): (String, i64) = redis::pipe()
        .cmd("GET")
        .arg(&lock_key)
        .cmd("PTTL")
        .arg(&lock_key)
        .query_async(&mut conn)
        .await
        .expect("GET + PTTL");
    assert_eq!(holder, token.to_hex(), "the lock names its holder");
    assert!(
        (29_000..=30_000).contains(&pttl),
        "the lease is the lock's TTL: {pttl} ms"
    );
    store.unlock(id, token).await.expect("unlock");
    store.delete(id).await.expect("delete");
    let left: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut conn)
        .await
        .expect("KEYS");
    assert!(left.is_empty(), "unlock and delete leave nothing: {left:?}");
}

#[tokio::test]
async fn stores_with_different_prefixes_do_not_see_each_other() {
    let (Some(a), Some(b)) = (
        connect(&unique_prefix()).await,
        connect(&unique_prefix()).await,
    ) else {
        return;
    };
    let id = SessionId::generate();
    a.save(id, contract::payload("a"), Some(Duration::from_secs(60)))
        .await
        .expect("save");
    assert_eq!(b.load(id).await.expect("load"), None);
    let token = LockToken::generate();
    assert!(
        a.try_lock(id, token, Duration::from_secs(60))
            .await
            .expect("lock")
    );
    assert!(
        b.try_lock(id, token, Duration::from_secs(60))
            .await
            .expect("lock"),
        "locks are per prefix too"
    );
    b.delete(id).await.expect("delete");
    assert_eq!(
        a.load(id).await.expect("load"),
        Some(contract::payload("a")),
        "b's delete does not reach a's key"
    );
    a.delete(id).await.expect("delete");
    a.unlock(id, token).await.expect("unlock");
    b.unlock(id, token).await.expect("unlock");
}

#[tokio::test]
async fn connecting_to_a_closed_port_fails_fast_as_unavailable() {
    let port = free_port(); // bound and released: nothing listens there now
    let start = Instant::now();
    let err = RedisStore::connect_with(
        &format!("redis://127.0.0.1:{port}"),
        "sesi:",
        Duration::from_millis(500),
    )
    .await
    .expect_err("nothing listens there");
    assert!(matches!(err, ConnectError::Unreachable(_)), "{err:?}");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn the_store_fails_while_redis_is_down_and_recovers_when_it_is_back() {
    let port = free_port();
    let dir = TempDir::new("restart");
    let Some(mut redis) = RedisServer::start(dir.path(), port, Transport::Plain, None, &[]) else {
        return;
    };
    let url = format!("redis://127.0.0.1:{port}");
    let store = RedisStore::connect_with(&url, "sesi:", Duration::from_millis(500))
        .await
        .expect("connects to its own redis");
    let id = SessionId::generate();
    store
        .save(
            id,
            contract::payload("before"),
            Some(Duration::from_secs(60)),
        )
        .await
        .expect("save while up");

    redis.stop();
    for _ in 0..3 {
        let start = Instant::now();
        let result = tokio::time::timeout(Duration::from_secs(5), store.load(id))
            .await
            .expect("a store call never hangs past its own timeout");
        assert!(
            matches!(result, Err(StoreError::Unavailable(_))),
            "while down: {result:?}"
        );
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "failed within the bound: {:?}",
            start.elapsed()
        );
    }

    redis.restart();
    let deadline = Instant::now() + Duration::from_secs(10);
    let loaded = loop {
        match store.load(id).await {
            Ok(loaded) => break loaded,
            Err(err) => assert!(
                Instant::now() < deadline,
                "the store did not recover within 10 s of Redis coming back: {err}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(loaded, None, "a fresh, non-persistent Redis holds nothing");
    store
        .save(
            id,
            contract::payload("after"),
            Some(Duration::from_secs(60)),
        )
        .await
        .expect("save after recovery");
    assert_eq!(
        store.load(id).await.expect("load"),
        Some(contract::payload("after"))
    );
}
