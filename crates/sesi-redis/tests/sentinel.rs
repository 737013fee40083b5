//! `redis+sentinel://` against a real master, replica and sentinel: the store contract, a killed
//! master replaced while traffic runs (errors only during the switch, nothing lost that Redis
//! kept), a sentinel-ordered failover that demotes the old master, and the same over TLS.

mod support;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use sesi_core::store::{LockToken, SessionId, SessionStore};
use sesi_redis::RedisStore;
use sesi_testkit::redis::{RedisSentinelSet, Transport};
use support::{Remote, sessions_and_locks_work, shared, unique_prefix};

static SET: Mutex<Weak<RedisSentinelSet>> = Mutex::new(Weak::new());

async fn store(set: &RedisSentinelSet) -> RedisStore {
    let mut builder = RedisStore::builder(set.url())
        .prefix(unique_prefix())
        .response_timeout(Duration::from_millis(500));
    if let Some(certs) = set.certs() {
        builder = builder
            .ca_file(&certs.ca_cert)
            .client_cert(&certs.client_cert, &certs.client_key);
    }
    builder
        .connect()
        .await
        .expect("the store finds the master through the sentinel")
}

sesi_core::store_contract_tests!(async {
    let servers = shared(&SET, || RedisSentinelSet::start(Transport::Plain))?;
    let store = store(&servers).await;
    Some(Remote {
        store,
        _servers: servers,
    })
});

fn parse(bytes: Option<Vec<u8>>) -> u64 {
    bytes.map_or(0, |b| {
        String::from_utf8(b)
            .expect("digits")
            .parse()
            .expect("a number")
    })
}

/// How long a lock whose unlock was lost in the switch keeps its session locked.
const LOCK_LEASE: Duration = Duration::from_secs(5);

/// A locked increment, as a request with `--lock` does it.
async fn increment(store: &RedisStore, id: SessionId) -> Result<(), String> {
    let token = LockToken::generate();
    if !store
        .try_lock(id, token, LOCK_LEASE)
        .await
        .map_err(|e| format!("lock: {e}"))?
    {
        // Only this test's one worker per session takes the lock; a lock still held is one
        // taken just before a failure whose unlock failed: it ends with its lease.
        return Err("locked".into());
    }
    let result = async {
        let current = parse(store.load(id).await.map_err(|e| format!("load: {e}"))?);
        store
            .save(
                id,
                (current + 1).to_string().into_bytes(),
                Some(Duration::from_secs(600)),
            )
            .await
            .map_err(|e| format!("save: {e}"))
    }
    .await;
    let unlocked = store
        .unlock(id, token)
        .await
        .map_err(|e| format!("unlock: {e}"));
    result.and(unlocked)
}

/// Per session: increments acknowledged and failed, and when the failures happened.
struct Traffic {
    acknowledged: Vec<AtomicU64>,
    failed: Vec<AtomicU64>,
    failures: Mutex<Vec<(Instant, String)>>,
    successes: Mutex<Vec<Instant>>,
    stop: AtomicBool,
}

impl Traffic {
    fn new(sessions: usize) -> Arc<Self> {
        Arc::new(Traffic {
            acknowledged: (0..sessions).map(|_| AtomicU64::new(0)).collect(),
            failed: (0..sessions).map(|_| AtomicU64::new(0)).collect(),
            failures: Mutex::new(Vec::new()),
            successes: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
        })
    }

    /// One worker per session, each incrementing its own counter until stopped.
    fn run(
        self: &Arc<Self>,
        store: &RedisStore,
        ids: &[SessionId],
    ) -> Vec<tokio::task::JoinHandle<()>> {
        ids.iter()
            .enumerate()
            .map(|(n, id)| {
                let (traffic, store, id) = (self.clone(), store.clone(), *id);
                tokio::spawn(async move {
                    while !traffic.stop.load(Ordering::Relaxed) {
                        match increment(&store, id).await {
                            Ok(()) => {
                                traffic.acknowledged[n].fetch_add(1, Ordering::Relaxed);
                                traffic
                                    .successes
                                    .lock()
                                    .expect("not poisoned")
                                    .push(Instant::now());
                            }
                            Err(err) => {
                                traffic.failed[n].fetch_add(1, Ordering::Relaxed);
                                traffic
                                    .failures
                                    .lock()
                                    .expect("not poisoned")
                                    .push((Instant::now(), err));
                                tokio::time::sleep(Duration::from_millis(50)).await;
                            }
                        }
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                })
            })
            .collect()
    }

    fn successes_since(&self, t: Instant) -> usize {
        self.successes
            .lock()
            .expect("not poisoned")
            .iter()
            .filter(|s| **s > t)
            .count()
    }
}

async fn wait_for_successes(traffic: &Traffic, since: Instant, count: usize, within: Duration) {
    let deadline = Instant::now() + within;
    while traffic.successes_since(since) < count {
        assert!(
            Instant::now() < deadline,
            "the store did not serve {count} increments within {within:?} of {since:?}: failures {:?}",
            traffic
                .failures
                .lock()
                .expect("not poisoned")
                .iter()
                .rev()
                .take(3)
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_master_is_replaced_and_the_store_follows_without_a_restart() {
    let Some(mut set) = RedisSentinelSet::start(Transport::Plain) else {
        return;
    };
    let (old_master, replica) = (set.master.port(), set.replica.port());
    let store = store(&set).await;
    let ids: Vec<SessionId> = (0..10).map(|_| SessionId::generate()).collect();
    let traffic = Traffic::new(ids.len());
    let workers = traffic.run(&store, &ids);
    wait_for_successes(&traffic, Instant::now(), 200, Duration::from_secs(10)).await;

    // What the replica holds for certain: everything acknowledged before a WAIT that reached it.
    let before_wait: Vec<u64> = traffic
        .acknowledged
        .iter()
        .map(|a| a.load(Ordering::Relaxed))
        .collect();
    let waited = set.cli(old_master, &["wait".into(), "1".into(), "2000".into()]);
    assert_eq!(
        waited.trim(),
        "1",
        "the replica acknowledged the writes so far"
    );

    let killed = Instant::now();
    let _port_held = set.master.stop_and_hold_port();
    wait_for_successes(&traffic, killed, 200, Duration::from_secs(30)).await;
    traffic.stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await.expect("worker");
    }

    assert_eq!(
        set.master_port_per_sentinel(),
        Some(replica),
        "the sentinel promoted the replica"
    );
    let failures = traffic.failures.lock().expect("not poisoned").clone();
    assert!(!failures.is_empty(), "the switch was seen");
    // Served again: the first success after the first failure. (A request already in flight
    // when the master was stopped can still succeed a few microseconds after `killed`; counting
    // from it would measure the switch from before it began.)
    let first_failure = failures
        .iter()
        // A store error (unavailable, timed out), not a session still locked from before.
        .filter(|(t, error)| *t > killed && error != "locked")
        .map(|(t, _)| *t)
        .min()
        .expect("the store failed after the kill");
    let first_success_after = traffic
        .successes
        .lock()
        .expect("not poisoned")
        .iter()
        .copied()
        .filter(|s| *s > first_failure)
        .min()
        .expect("served after the switch");
    // A lock taken just before the last store error may have lost its unlock (to the old
    // master, or to a replica that had copied the lock): it holds its session until its lease
    // ends, so "locked" counts as late only after that lease.
    let last_store_error = failures
        .iter()
        .filter(|(_, error)| error != "locked")
        .map(|(t, _)| *t)
        .max()
        .expect("the store failed after the kill");
    let late: Vec<_> = failures
        .iter()
        .filter(|(t, error)| {
            let allowed_until = if error == "locked" {
                last_store_error.max(first_success_after) + LOCK_LEASE
            } else {
                first_success_after
            };
            *t > allowed_until + Duration::from_secs(1)
        })
        .collect();
    assert!(
        late.is_empty(),
        "errors only during the switch (killed, served again {:?} later): {late:?}",
        first_success_after - killed
    );
    eprintln!(
        "master killed; served again after {:?}; {} failed increments, first: {:?}",
        first_success_after - killed,
        failures.len(),
        failures.first().map(|(_, e)| e)
    );
    for (n, id) in ids.iter().enumerate() {
        let stored = parse(store.load(*id).await.expect("load from the new master"));
        let acked = traffic.acknowledged[n].load(Ordering::Relaxed);
        let failed = traffic.failed[n].load(Ordering::Relaxed);
        assert!(
            before_wait[n] <= stored && stored <= acked + failed,
            "session {n}: {} replicated before the kill, {acked} acknowledged, {failed} failed, {stored} stored",
            before_wait[n]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sentinel_failover_demotes_the_master_and_the_store_moves_to_the_new_one() {
    let Some(set) = RedisSentinelSet::start(Transport::Plain) else {
        return;
    };
    let (old_master, replica) = (set.master.port(), set.replica.port());
    let store = store(&set).await;
    let ids: Vec<SessionId> = (0..10).map(|_| SessionId::generate()).collect();
    let traffic = Traffic::new(ids.len());
    let workers = traffic.run(&store, &ids);
    wait_for_successes(&traffic, Instant::now(), 200, Duration::from_secs(10)).await;

    let ordered = Instant::now();
    let out = set.cli(
        set.sentinel.port(),
        &[
            "sentinel".into(),
            "failover".into(),
            sesi_testkit::redis::SENTINEL_MASTER.into(),
        ],
    );
    assert_eq!(out.trim(), "OK", "SENTINEL FAILOVER: {out}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while set.master_port_per_sentinel() != Some(replica)
        || !set.cli(old_master, &["role".into()]).starts_with("slave")
    {
        assert!(Instant::now() < deadline, "the failover did not finish");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    wait_for_successes(&traffic, Instant::now(), 200, Duration::from_secs(30)).await;
    traffic.stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await.expect("worker");
    }
    let mut raw = redis::Client::open(format!("redis://127.0.0.1:{replica}"))
        .expect("url")
        .get_multiplexed_async_connection()
        .await
        .expect("the new master");
    let mut on_new_master = Vec::new();
    for id in &ids {
        let stored: Option<Vec<u8>> = redis::cmd("GET")
            .arg(store.key(*id))
            .query_async(&mut raw)
            .await
            .expect("GET on the new master");
        on_new_master.push(parse(stored));
    }
    // Writes the old master took after the promotion and before its demotion are gone: Redis's
    // asynchronous replication, bounded by how fast the store hears `+switch-master`.
    let acked: u64 = traffic
        .acknowledged
        .iter()
        .map(|a| a.load(Ordering::Relaxed))
        .sum();
    let kept: u64 = on_new_master.iter().sum();
    let failures = traffic.failures.lock().expect("not poisoned").clone();
    eprintln!(
        "failover ordered: {acked} increments acknowledged, {kept} on the new master, {} failed: {:?}",
        failures.len(),
        failures
            .iter()
            .map(|(t, e)| (*t - ordered, e))
            .take(3)
            .collect::<Vec<_>>()
    );

    // From here on the store writes to the new master only, and keeps every increment.
    let after = Traffic::new(ids.len());
    let workers = after.run(&store, &ids);
    wait_for_successes(&after, Instant::now(), 200, Duration::from_secs(10)).await;
    after.stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await.expect("worker");
    }
    let failures = after.failures.lock().expect("not poisoned").clone();
    assert!(
        failures.is_empty(),
        "no failures once the switch is done: {failures:?}"
    );
    for (n, id) in ids.iter().enumerate() {
        let stored: Option<Vec<u8>> = redis::cmd("GET")
            .arg(store.key(*id))
            .query_async(&mut raw)
            .await
            .expect("GET on the new master");
        let acked = after.acknowledged[n].load(Ordering::Relaxed);
        assert_eq!(
            parse(stored),
            on_new_master[n] + acked,
            "session {n}: every increment after the switch is on the new master"
        );
    }
}

#[tokio::test]
async fn a_tls_sentinel_set_serves_sessions() {
    let Some(set) = RedisSentinelSet::start(Transport::Tls) else {
        return;
    };
    assert!(set.url().starts_with("rediss+sentinel://"));
    let store = store(&set).await;
    sessions_and_locks_work(&store, 10).await;
}
