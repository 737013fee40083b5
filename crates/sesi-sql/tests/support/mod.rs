//! What the SQL store tests share: the contract fixture, fresh tables, and the test databases
//! (SQLite in a temporary file; PostgreSQL at `SESI_POSTGRES_URL`, which `scripts/test.sh`
//! starts; without it the PostgreSQL tests fail where every test must run and are skipped
//! elsewhere).

#![allow(dead_code)] // each test file uses its own part

use std::sync::Arc;
use std::time::Duration;

use sesi_core::store::contract::Fixture;
use sesi_core::store::{BoxFuture, SessionId, SessionStore};
use sesi_sql::SqlStore;
use sesi_testkit::redis::TempDir;

/// A migrated store on a table of its own, and the directory of its SQLite file if any.
pub struct Sql {
    pub store: SqlStore,
    pub _dir: Option<Arc<TempDir>>,
}

impl Fixture for Sql {
    fn store(&self) -> &dyn SessionStore {
        &self.store
    }

    fn short_ttl(&self) -> Duration {
        Duration::from_millis(300)
    }

    fn pass(&self, time: Duration) -> BoxFuture<'_, ()> {
        Box::pin(tokio::time::sleep(time))
    }
}

/// A table name no other test uses.
pub fn unique_table() -> String {
    format!("t_{}", SessionId::generate().to_hex())
}

pub fn postgres_url() -> String {
    std::env::var("SESI_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://sesi@127.0.0.1:15432/sesi_test".to_owned())
}

/// The test PostgreSQL, or `None` (after the notice) when it does not answer outside CI.
pub async fn postgres() -> Option<SqlStore> {
    let url = postgres_url();
    match SqlStore::connect(&url).await {
        Ok(store) => Some(store),
        Err(err) => {
            sesi_testkit::skip(&format!(
                "no PostgreSQL answers at {url} ({err}: {:?}); the PostgreSQL store was not \
                 tested (scripts/test.sh starts one, or point SESI_POSTGRES_URL at one)",
                std::error::Error::source(&err)
            ));
            None
        }
    }
}

/// A migrated store on a fresh table of `store`'s database.
pub async fn fresh_table(store: &SqlStore) -> SqlStore {
    let store = store
        .with_table(&unique_table())
        .expect("a valid table name");
    store.migrate().await.expect("migrate");
    store
}

/// An SQLite database in a fresh temporary directory: its URL and the directory.
pub fn sqlite_file() -> (String, Arc<TempDir>) {
    let dir = Arc::new(TempDir::new("sqlite"));
    let url = format!("sqlite://{}", dir.path().join("sessions.db").display());
    (url, dir)
}

/// A migrated store on a fresh SQLite file.
pub async fn sqlite() -> Sql {
    let (url, dir) = sqlite_file();
    let store = SqlStore::connect(&url).await.expect("open SQLite");
    store.migrate().await.expect("migrate");
    Sql {
        store,
        _dir: Some(dir),
    }
}

/// Expired sessions stay unreadable until swept; a sweep deletes exactly those.
pub async fn check_sweep(store: &SqlStore) {
    use sesi_core::store::contract::payload;
    let (short, long, forever) = (
        SessionId::generate(),
        SessionId::generate(),
        SessionId::generate(),
    );
    let save = |id, ttl| store.save(id, payload("x"), ttl);
    save(short, Some(Duration::from_millis(200)))
        .await
        .expect("save");
    save(long, Some(Duration::from_secs(3600)))
        .await
        .expect("save");
    save(forever, None).await.expect("save");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        store.load(short).await.expect("load"),
        None,
        "expired before any sweep"
    );
    assert_eq!(
        store.sweep().await.expect("sweep"),
        1,
        "the expired row only"
    );
    assert_eq!(
        store.sweep().await.expect("sweep"),
        0,
        "nothing left to sweep"
    );
    assert!(store.load(long).await.expect("load").is_some());
    assert!(store.load(forever).await.expect("load").is_some());
}

/// The background sweeper deletes expired rows without being asked.
pub async fn check_sweeper(store: &SqlStore) {
    use sesi_core::store::contract::payload;
    let sweeper = store.spawn_sweeper(Duration::from_secs(1));
    let id = SessionId::generate();
    store
        .save(id, payload("x"), Some(Duration::from_millis(100)))
        .await
        .expect("save");
    tokio::time::sleep(Duration::from_millis(2300)).await;
    assert_eq!(
        store.sweep().await.expect("sweep"),
        0,
        "the sweeper got there first"
    );
    sweeper.stop();
}

/// Servers starting together all migrate the same table at once, and then work.
pub async fn check_concurrent_migrate(store: &SqlStore) {
    let table = store.with_table(&unique_table()).expect("valid");
    let runs: Vec<_> = (0..6)
        .map(|_| {
            let table = table.clone();
            tokio::spawn(async move { table.migrate().await })
        })
        .collect();
    for run in runs {
        run.await
            .expect("no panic")
            .expect("every migrate succeeds");
    }
    table.migrate().await.expect("and again later");
    let id = SessionId::generate();
    table
        .save(id, b"[1, 2, {}]".to_vec(), None)
        .await
        .expect("save");
    assert_eq!(
        table.load(id).await.expect("load"),
        Some(b"[1, 2, {}]".to_vec())
    );
}

/// Locked read-modify-write from two stores (two pools: two servers) never loses an update.
pub async fn check_locked_increments(a: &SqlStore, b: &SqlStore) {
    let id = SessionId::generate();
    a.save(id, b"0".to_vec(), None).await.expect("save");
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move {
                let token = sesi_core::store::LockToken::generate();
                let lease = Duration::from_secs(10);
                while !store.try_lock(id, token, lease).await.expect("try_lock") {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                let bytes = store.load(id).await.expect("load").expect("present");
                let n: u64 = String::from_utf8(bytes)
                    .expect("utf8")
                    .parse()
                    .expect("number");
                store
                    .save(id, (n + 1).to_string().into_bytes(), None)
                    .await
                    .expect("save");
                store.unlock(id, token).await.expect("unlock");
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("no panic");
    }
    assert_eq!(
        a.load(id).await.expect("load"),
        Some(b"40".to_vec()),
        "no update lost"
    );
}
