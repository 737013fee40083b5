//! The `SessionStore` contract (sesi-core's `store_contract_tests!`) against a real redis-server,
//! plus what is particular to Redis: the key layout, prefixes, the user index's entries and expiry,
//! and reconnecting after a restart.
//!
//! Redis is found at `SESI_REDIS_URL` (default `redis://127.0.0.1:6379`); `scripts/test.sh` starts
//! one. When none answers, the tests fail where every test must run (`scripts/test.sh`, CI) and
//! are skipped with a `SKIPPED` line elsewhere. Every test works under a key prefix of its own, so
//! tests running in parallel (or a developer's other data) never collide.

mod support;

use std::collections::BTreeSet;
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

/// The user index as Redis holds it: (member, score) pairs and the key's PTTL.
async fn index_of(
    conn: &mut redis::aio::MultiplexedConnection,
    key: &str,
) -> (Vec<(String, f64)>, i64) {
    redis::pipe()
        .cmd("ZRANGE")
        .arg(key)
        .arg(0)
        .arg(-1)
        .arg("WITHSCORES")
        .cmd("PTTL")
        .arg(key)
        .query_async(conn)
        .await
        .expect("ZRANGE + PTTL")
}

fn epoch_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs_f64()
        * 1000.0
}

/// Saves a session of `user` with a time-to-live of `ttl` seconds (`None`: none).
async fn save_for_user(store: &RedisStore, id: SessionId, ttl: Option<u64>, user: &str) {
    store
        .save_user_session(
            id,
            contract::payload("x"),
            ttl.map(Duration::from_secs),
            user,
            false,
        )
        .await
        .expect("save_user_session");
}

#[tokio::test]
async fn a_users_index_expires_a_minute_after_its_longest_session_or_never() {
    let prefix = unique_prefix();
    let Some(store) = connect(&prefix).await else {
        return;
    };
    let mut conn = raw().await;
    let user = "ada@example.com";
    let key = format!("{prefix}user:{user}");
    assert_eq!(store.user_key(user), key, "the user id as it is");
    let [short, long, forever] = [(); 3].map(|()| SessionId::generate());
    let save = |id: SessionId, ttl: Option<u64>| save_for_user(&store, id, ttl, user);
    save(short, Some(100)).await;
    save(long, Some(1200)).await;
    let before = epoch_ms().floor(); // scores are whole milliseconds
    save(long, Some(1200)).await;
    let (members, pttl) = index_of(&mut conn, &key).await;
    assert_eq!(members.len(), 2, "one member per session: {members:?}");
    let (member, score) = &members[1];
    assert_eq!(
        member,
        &long.to_hex(),
        "the id in hex, latest deadline last"
    );
    assert!(
        (before + 1_200_000.0..=epoch_ms() + 1_200_000.0).contains(score),
        "scored by its deadline in ms: {score}, saved at {before}"
    );
    assert!(
        (1_255_000..=1_260_000).contains(&pttl),
        "the index outlives its longest session by a minute: {pttl} ms"
    );

    save(forever, None).await;
    let (members, pttl) = index_of(&mut conn, &key).await;
    assert_eq!(members[2], (forever.to_hex(), f64::INFINITY));
    assert_eq!(
        pttl, -1,
        "a session without expiry: an index without expiry"
    );

    // Once the sessions without expiry and with the longest one are ended, the index's
    // expiry follows the one left.
    let ended = store
        .delete_user_sessions(user, Some(short))
        .await
        .expect("delete_user_sessions");
    assert_eq!(ended, 2);
    save(short, Some(100)).await;
    let (members, pttl) = index_of(&mut conn, &key).await;
    assert_eq!(
        members.len(),
        1,
        "the ended ones left the index: {members:?}"
    );
    assert!(
        (155_000..=160_000).contains(&pttl),
        "back to the one session's deadline plus a minute: {pttl} ms"
    );
    store
        .delete_user_sessions(user, None)
        .await
        .expect("delete_user_sessions");
}

#[tokio::test]
async fn dead_entries_leave_the_index_when_pruned_listed_or_revoked() {
    let prefix = unique_prefix();
    let Some(store) = connect(&prefix).await else {
        return;
    };
    let mut conn = raw().await;
    let user = "bob";
    let key = store.user_key(user);
    let [long_gone, just_ended, gone, forever, live] = [(); 5].map(|()| SessionId::generate());
    let now = epoch_ms();
    // Entries another server left: one ended two minutes ago, one ten seconds ago (within the
    // margin for clocks that disagree), and a member that is not a session id.
    let _: () = redis::cmd("ZADD")
        .arg(&key)
        .arg(now - 120_000.0)
        .arg(long_gone.to_hex())
        .arg(now - 10_000.0)
        .arg(just_ended.to_hex())
        .arg(now + 600_000.0)
        .arg("not-a-session-id")
        .query_async(&mut conn)
        .await
        .expect("ZADD");
    for (id, ttl) in [(gone, Some(600)), (forever, None), (live, Some(600))] {
        save_for_user(&store, id, ttl, user).await;
    }
    // Logouts: plain deletes, which do not know the user.
    store.delete(gone).await.expect("delete");
    store.delete(forever).await.expect("delete");
    let members = |index: &[(String, f64)]| -> BTreeSet<String> {
        index.iter().map(|(member, _)| member.clone()).collect()
    };
    let (index, pttl) = index_of(&mut conn, &key).await;
    let expected: BTreeSet<String> = [just_ended, gone, forever, live]
        .iter()
        .map(SessionId::to_hex)
        .chain(["not-a-session-id".to_owned()])
        .collect();
    assert_eq!(
        members(&index),
        expected,
        "pruned a minute past its deadline, kept within the minute"
    );
    assert_eq!(pttl, -1, "an entry without a deadline");

    let listed = store.user_sessions(user).await.expect("user_sessions");
    assert_eq!(listed.len(), 1, "only the live session: {listed:?}");
    assert_eq!(listed[0].id, live);
    let (index, pttl) = index_of(&mut conn, &key).await;
    let expected: BTreeSet<String> = [live.to_hex(), "not-a-session-id".to_owned()].into();
    assert_eq!(members(&index), expected, "listing removed the dead ids");
    assert!(
        (655_000..=660_000).contains(&pttl),
        "the expiry follows the entries left: {pttl} ms"
    );

    let ended = store
        .delete_user_sessions(user, None)
        .await
        .expect("delete_user_sessions ignores members that are not ids");
    assert_eq!(ended, 1, "only the live one counts");
    assert_eq!(store.load(live).await.expect("load"), None);
    let (index, _) = index_of(&mut conn, &key).await;
    assert_eq!(members(&index), ["not-a-session-id".to_owned()].into());
    let _: i64 = redis::cmd("DEL")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .expect("DEL");
}

/// `INFO commandstats`' call count for `command` (0 when it never ran).
async fn calls(admin: &mut redis::aio::MultiplexedConnection, command: &str) -> u64 {
    let stats: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(admin)
        .await
        .expect("INFO commandstats");
    let prefix = format!("cmdstat_{command}:calls=");
    stats
        .lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .and_then(|rest| rest.split(',').next())
        .map_or(0, |n| n.parse().expect("a call count"))
}

#[tokio::test]
async fn the_unlock_script_goes_by_its_hash_and_in_full_only_to_a_redis_without_it() {
    let port = free_port();
    let dir = TempDir::new("scripts");
    let Some(_redis) = RedisServer::start(dir.path(), port, Transport::Plain, None, &[]) else {
        return;
    };
    let url = format!("redis://127.0.0.1:{port}");
    let store = RedisStore::connect_with(&url, "sesi:", Duration::from_secs(2))
        .await
        .expect("connects to its own redis");
    let mut admin = redis::Client::open(url.as_str())
        .expect("a redis URL")
        .get_multiplexed_async_connection()
        .await
        .expect("an admin connection");
    let id = SessionId::generate();
    let lease = Duration::from_secs(5);
    // Round 0 meets an empty script cache, round 1 a warm one, round 2 one just flushed (as
    // after a restart or a failover).
    for round in 0..3 {
        if round == 2 {
            let () = redis::cmd("SCRIPT")
                .arg("FLUSH")
                .query_async(&mut admin)
                .await
                .expect("SCRIPT FLUSH");
        }
        let token = LockToken::generate();
        let locked = store.lock_and_load(id, token, lease).await;
        assert!(
            matches!(locked, Ok(Some(_))),
            "round {round}: the lock was free: {locked:?}"
        );
        let saved = contract::payload(&format!("round {round}"));
        store
            .save_and_unlock(
                id,
                saved.clone(),
                Some(Duration::from_secs(60)),
                false,
                token,
            )
            .await
            .expect("save and unlock");
        assert_eq!(
            store.load(id).await.expect("load"),
            Some(saved),
            "round {round}"
        );
        let other = LockToken::generate();
        assert!(
            store.try_lock(id, other, lease).await.expect("try_lock"),
            "round {round}: save_and_unlock released the lock"
        );
        store.unlock(id, other).await.expect("unlock");
        assert!(
            store.try_lock(id, token, lease).await.expect("try_lock"),
            "round {round}: unlock released the lock"
        );
        store.unlock(id, token).await.expect("unlock");
    }
    // Every call went by its hash first: three per round (Redis counts the ones that answered
    // NOSCRIPT too), and the script in full once per empty cache (rounds 0 and 2), there by
    // save_and_unlock, whose SET ran before the NOSCRIPT (the load above checks the save).
    assert_eq!(
        calls(&mut admin, "evalsha").await,
        9,
        "EVALSHA for every call"
    );
    assert_eq!(
        calls(&mut admin, "eval").await,
        2,
        "EVAL only after NOSCRIPT"
    );
}
