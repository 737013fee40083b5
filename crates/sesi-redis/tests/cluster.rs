//! `redis+cluster://` against a real three-master cluster made by `redis-cli --cluster create`:
//! the store contract, the hash-tag layout, traffic that keeps every increment while slots
//! move between masters, a user's sessions spread over every master listed and ended through
//! the user index, and the same over TLS (`rediss+cluster://`).

mod support;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use sesi_core::store::{LockToken, SessionId, SessionStore};
use sesi_redis::RedisStore;
use sesi_testkit::redis::{RedisCluster, RedisServer, Transport};
use support::{Remote, sessions_and_locks_work, shared, unique_prefix};

static CLUSTER: Mutex<Weak<RedisCluster>> = Mutex::new(Weak::new());

fn cluster() -> Option<Arc<RedisCluster>> {
    shared(&CLUSTER, || RedisCluster::start(Transport::Plain))
}

async fn store(cluster: &RedisCluster, prefix: &str) -> RedisStore {
    let mut builder = RedisStore::builder(cluster.url())
        .prefix(prefix)
        .response_timeout(Duration::from_secs(2));
    if let Some(certs) = cluster.certs() {
        builder = builder
            .ca_file(&certs.ca_cert)
            .client_cert(&certs.client_cert, &certs.client_key);
    }
    builder
        .connect()
        .await
        .expect("the store connects to the cluster")
}

sesi_core::store_contract_tests!(async {
    let servers = cluster()?;
    let store = store(&servers, &unique_prefix()).await;
    Some(Remote {
        store,
        _servers: servers,
    })
});

fn keyslot(cluster: &RedisCluster, key: &str) -> u16 {
    cluster
        .cli(None, &["cluster".into(), "keyslot".into(), key.into()])
        .trim()
        .parse()
        .expect("CLUSTER KEYSLOT answers a number")
}

#[tokio::test]
async fn a_session_and_its_lock_share_a_slot_and_sessions_spread_over_every_master() {
    let Some(cluster) = cluster() else { return };
    let store = store(&cluster, &unique_prefix()).await;
    let mut masters_used = BTreeSet::new();
    for _ in 0..30 {
        let id = SessionId::generate();
        let slot = keyslot(&cluster, &store.key(id));
        assert_eq!(slot, keyslot(&cluster, &store.lock_key(id)), "{id:?}");
        store
            .save(id, b"x".to_vec(), Some(Duration::from_secs(60)))
            .await
            .expect("save");
        for node in &cluster.nodes {
            let count = cluster.cli(
                Some(node.port()),
                &["cluster".into(), "countkeysinslot".into(), slot.to_string()],
            );
            if count.trim() != "0" {
                masters_used.insert(node.port());
            }
        }
    }
    assert_eq!(
        masters_used.len(),
        3,
        "30 sessions land on all three masters"
    );
}

/// One increment of a session's counter, as a locked request of the layer does it: the lock with
/// the load, then the save with the release.
async fn increment(store: &RedisStore, id: SessionId) -> Result<(), String> {
    let token = LockToken::generate();
    let lease = Duration::from_secs(5);
    let mut waited = 0;
    let loaded = loop {
        match store.lock_and_load(id, token, lease).await {
            Ok(Some(loaded)) => break loaded,
            Ok(None) => {}
            Err(e) => {
                // The lock may have been taken before the error: released as the layer does.
                let _ = store.unlock(id, token).await;
                return Err(format!("lock and load: {e}"));
            }
        }
        waited += 1;
        if waited > 500 {
            return Err("lock never free".into());
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    let current = match loaded {
        Some(bytes) => String::from_utf8(bytes)
            .expect("digits")
            .parse::<u64>()
            .expect("n"),
        None => 0,
    };
    let next = (current + 1).to_string().into_bytes();
    let ttl = Some(Duration::from_secs(600));
    if let Err(e) = store.save_and_unlock(id, next, ttl, false, token).await {
        let _ = store.unlock(id, token).await;
        return Err(format!("save and unlock: {e}"));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn increments_through_locks_all_land_while_slots_move_between_masters() {
    let Some(cluster) = cluster() else { return };
    let store = store(&cluster, &unique_prefix()).await;
    let ids: Vec<SessionId> = (0..40).map(|_| SessionId::generate()).collect();
    let acknowledged: Arc<Vec<AtomicU64>> =
        Arc::new(ids.iter().map(|_| AtomicU64::new(0)).collect());
    let failed: Arc<Vec<AtomicU64>> = Arc::new(ids.iter().map(|_| AtomicU64::new(0)).collect());
    let stop = Arc::new(AtomicBool::new(false));
    let errors = Arc::new(Mutex::new(Vec::<String>::new()));

    let mut workers = Vec::new();
    for worker in 0..8 {
        let (store, ids, acknowledged, failed, stop, errors) = (
            store.clone(),
            ids.clone(),
            acknowledged.clone(),
            failed.clone(),
            stop.clone(),
            errors.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut i = worker;
            while !stop.load(Ordering::Relaxed) {
                let n = i % ids.len();
                match increment(&store, ids[n]).await {
                    Ok(()) => acknowledged[n].fetch_add(1, Ordering::Relaxed),
                    Err(err) => {
                        errors.lock().expect("not poisoned").push(err);
                        failed[n].fetch_add(1, Ordering::Relaxed)
                    }
                };
                i += 7;
            }
        }));
    }

    // Move a third of the slots from the first master to the second, then half of them on
    // to the third, while the workers run.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let from = cluster.node_id(cluster.nodes[0].port());
    let to = cluster.node_id(cluster.nodes[1].port());
    let third = cluster.node_id(cluster.nodes[2].port());
    let moves = [(from.clone(), to.clone(), "2000"), (to, third, "1000")];
    let cluster_for_moves = cluster.clone();
    let reshard_output = tokio::task::spawn_blocking(move || {
        let mut out = String::new();
        for (from, to, slots) in moves {
            out.push_str(&cluster_for_moves.cli(
                None,
                &[
                    "--cluster".into(),
                    "reshard".into(),
                    format!("127.0.0.1:{}", cluster_for_moves.nodes[0].port()),
                    "--cluster-from".into(),
                    from,
                    "--cluster-to".into(),
                    to,
                    "--cluster-slots".into(),
                    slots.into(),
                    "--cluster-yes".into(),
                    "--cluster-pipeline".into(),
                    "10".into(),
                ],
            ));
        }
        out
    })
    .await
    .expect("reshard thread");
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await.expect("worker");
    }
    assert!(
        !reshard_output.contains("[ERR]"),
        "resharding succeeded:\n{reshard_output}"
    );
    assert!(
        reshard_output.matches("Moving slot").count() >= 2000,
        "slots moved"
    );

    let mut total = 0;
    for (n, id) in ids.iter().enumerate() {
        let stored = match store.load(*id).await.expect("load after resharding") {
            Some(bytes) => String::from_utf8(bytes)
                .expect("digits")
                .parse::<u64>()
                .expect("n"),
            None => 0,
        };
        let acked = acknowledged[n].load(Ordering::Relaxed);
        let failed = failed[n].load(Ordering::Relaxed);
        // A failed increment may have saved before its error (a lost reply): never more.
        assert!(
            acked <= stored && stored <= acked + failed,
            "session {n}: {acked} acknowledged, {failed} failed, {stored} stored"
        );
        total += acked;
    }
    let errors = errors.lock().expect("not poisoned");
    eprintln!(
        "{total} increments acknowledged, {} failed, while {} slots moved",
        errors.len(),
        reshard_output.matches("Moving slot").count()
    );
    assert!(
        total > 500,
        "traffic ran through the move: {total} increments"
    );
    assert!(
        errors.len() * 100 <= total as usize,
        "at most 1 % of increments fail while slots move: {} of {total}: {:?}",
        errors.len(),
        errors.iter().take(5).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_tls_cluster_serves_sessions_and_locks_on_every_master() {
    let Some(cluster) = RedisCluster::start(Transport::Tls) else {
        return;
    };
    assert!(cluster.url().starts_with("rediss+cluster://"));
    let store = store(&cluster, &unique_prefix()).await;
    sessions_and_locks_work(&store, 30).await;
}

/// The masters holding keys in `key`'s slot (one, unless the slot is moving right now: another
/// test reshards the shared cluster).
fn masters_of(cluster: &RedisCluster, key: &str) -> Vec<u16> {
    let slot = keyslot(cluster, key);
    cluster
        .nodes
        .iter()
        .map(RedisServer::port)
        .filter(|port| {
            let count = cluster.cli(
                Some(*port),
                &["cluster".into(), "countkeysinslot".into(), slot.to_string()],
            );
            count.trim() != "0"
        })
        .collect()
}

#[tokio::test]
async fn a_users_sessions_on_every_master_are_all_listed_and_all_ended() {
    let Some(cluster) = cluster() else { return };
    let store = store(&cluster, &unique_prefix()).await;
    let user = "ada";
    let ids: Vec<SessionId> = (0..24).map(|_| SessionId::generate()).collect();
    for (n, id) in ids.iter().enumerate() {
        let ttl = (n % 2 == 0).then_some(Duration::from_secs(600));
        store
            .save_user_session(*id, vec![u8::try_from(n).expect("small")], ttl, user, false)
            .await
            .expect("save_user_session");
    }
    let masters: BTreeSet<u16> = ids
        .iter()
        .flat_map(|id| masters_of(&cluster, &store.key(*id)))
        .collect();
    assert_eq!(masters.len(), 3, "24 sessions land on all three masters");

    let listed: BTreeSet<SessionId> = store
        .user_sessions(user)
        .await
        .expect("user_sessions")
        .into_iter()
        .map(|session| session.id)
        .collect();
    assert_eq!(listed, ids.iter().copied().collect(), "every one listed");

    let kept = ids[5];
    let ended = store
        .delete_user_sessions(user, Some(kept))
        .await
        .expect("delete_user_sessions");
    assert_eq!(ended, ids.len() - 1);
    for id in &ids {
        let loaded = store.load(*id).await.expect("load");
        assert_eq!(loaded.is_some(), *id == kept, "{id:?}");
    }
    // A request that loaded one of them before the revocation saves it back: nothing returns.
    store
        .save_user_session(ids[0], b"late".to_vec(), None, user, true)
        .await
        .expect("an update-only save succeeds");
    assert_eq!(
        store.load(ids[0]).await.expect("load"),
        None,
        "still revoked"
    );
    let listed = store.user_sessions(user).await.expect("user_sessions");
    assert_eq!(listed.len(), 1, "only the kept one: {listed:?}");
    assert_eq!(listed[0].id, kept);
    assert_eq!(
        store.delete_user_sessions(user, None).await.expect("end"),
        1
    );
}

/// Runs one command on the master at `port`.
fn on(cluster: &RedisCluster, port: u16, args: &[&str]) -> String {
    let args: Vec<String> = args.iter().map(|arg| (*arg).to_owned()).collect();
    cluster.cli(Some(port), &args)
}

#[tokio::test]
async fn a_locked_request_goes_through_while_its_slot_is_half_way_to_another_master() {
    // A cluster of its own: another test reshards the shared one, which a slot left half-moved
    // here would stop.
    let Some(cluster) = RedisCluster::start(Transport::Plain) else {
        return;
    };
    let store = store(&cluster, &unique_prefix()).await;
    let id = SessionId::generate();
    let key = store.key(id);
    let ttl = Some(Duration::from_secs(60));
    store.save(id, b"before".to_vec(), ttl).await.expect("save");
    let slot = keyslot(&cluster, &key).to_string();
    let [source] = *masters_of(&cluster, &key).as_slice() else {
        panic!("one master holds the slot");
    };
    let target = cluster
        .nodes
        .iter()
        .map(RedisServer::port)
        .find(|port| *port != source)
        .expect("another master");
    let (source_id, target_id) = (cluster.node_id(source), cluster.node_id(target));
    let target_port = target.to_string();
    // The steps of `redis-cli --cluster reshard`, stopped half way: the slot importing on the
    // target, migrating on the source, the session moved already. Every command on the session
    // or its lock now meets an ASK redirection to the target.
    for (port, args) in [
        (
            target,
            ["cluster", "setslot", &slot, "importing", &source_id],
        ),
        (
            source,
            ["cluster", "setslot", &slot, "migrating", &target_id],
        ),
    ] {
        let answer = on(&cluster, port, &args);
        assert_eq!(answer.trim(), "OK", "{args:?}");
    }
    let migrate = |key: &str| {
        let answer = on(
            &cluster,
            source,
            &[
                "migrate",
                "127.0.0.1",
                &target_port,
                "",
                "0",
                "5000",
                "keys",
                key,
            ],
        );
        assert_eq!(answer.trim(), "OK", "MIGRATE {key}");
    };
    migrate(&key);

    let token = LockToken::generate();
    let loaded = store
        .lock_and_load(id, token, Duration::from_secs(5))
        .await
        .expect("lock_and_load while the slot moves");
    assert_eq!(
        loaded,
        Some(Some(b"before".to_vec())),
        "the lock and the session"
    );
    store
        .save_and_unlock(id, b"after".to_vec(), ttl, false, token)
        .await
        .expect("save_and_unlock while the slot moves");
    let other = LockToken::generate();
    assert!(
        store
            .try_lock(id, other, Duration::from_secs(5))
            .await
            .expect("try_lock"),
        "save_and_unlock released the lock"
    );
    store.unlock(id, other).await.expect("unlock");

    // Finish the move: any key still on the source, then the slot on every master.
    for left in on(
        &cluster,
        source,
        &["cluster", "getkeysinslot", &slot, "100"],
    )
    .split_whitespace()
    {
        migrate(left);
    }
    // The target first, then the source, then the other master, as the Redis docs advise.
    let third = cluster
        .nodes
        .iter()
        .map(RedisServer::port)
        .find(|port| *port != source && *port != target)
        .expect("a third master");
    for port in [target, source, third] {
        let answer = on(
            &cluster,
            port,
            &["cluster", "setslot", &slot, "node", &target_id],
        );
        assert_eq!(answer.trim(), "OK", "SETSLOT NODE on {port}");
    }
    assert_eq!(store.load(id).await.expect("load"), Some(b"after".to_vec()));
    assert_eq!(
        masters_of(&cluster, &key),
        vec![target],
        "the session moved"
    );
}
