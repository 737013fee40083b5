//! The `SessionStore` contract and the SQL store's own promises against SQLite, in a temporary
//! file (WAL mode, two pools standing in for two servers).

mod support;

use sesi_core::store::contract::payload;
use sesi_core::store::{SessionId, SessionStore};
use sesi_sql::{ConnectError, SqlStore};
use support::{Sql, sqlite, sqlite_file};

sesi_core::store_contract_tests!(async { Some(sqlite().await) });

#[tokio::test]
async fn sessions_survive_reopening_the_database_file() {
    let (url, _dir) = sqlite_file();
    let id = SessionId::generate();
    {
        let store = SqlStore::connect(&url).await.expect("open");
        store.migrate().await.expect("migrate");
        store.save(id, payload("kept"), None).await.expect("save");
    }
    let reopened = SqlStore::connect(&url).await.expect("reopen");
    reopened.migrate().await.expect("migrate again is harmless");
    assert_eq!(
        reopened.load(id).await.expect("load"),
        Some(payload("kept"))
    );
}

#[tokio::test]
async fn expired_rows_are_swept_once_and_only_they() {
    let Sql { store, _dir } = sqlite().await;
    support::check_sweep(&store).await;
}

#[tokio::test]
async fn the_background_sweeper_sweeps() {
    let Sql { store, _dir } = sqlite().await;
    support::check_sweeper(&store).await;
}

#[tokio::test]
async fn concurrent_migrations_of_one_table_all_succeed() {
    let Sql { store, _dir } = sqlite().await;
    support::check_concurrent_migrate(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locked_increments_from_two_pools_lose_nothing() {
    let (url, _dir) = sqlite_file();
    let a = SqlStore::connect(&url).await.expect("open");
    a.migrate().await.expect("migrate");
    let b = SqlStore::connect(&url).await.expect("open again");
    support::check_locked_increments(&a, &b).await;
}

#[tokio::test]
async fn urls_that_cannot_work_are_refused_with_the_reason() {
    for url in [
        "sqlite::memory:",
        "sqlite://file.db?mode=memory",
        "mysql://db/app",
        "redis://x",
    ] {
        match SqlStore::connect(url).await {
            Err(ConnectError::Url { why, .. }) => assert!(!why.is_empty()),
            other => panic!("{url}: expected a URL error, got {other:?}"),
        }
    }
    let missing_dir = "sqlite:///nonexistent-dir-for-sesi/sessions.db";
    assert!(matches!(
        SqlStore::connect(missing_dir).await,
        Err(ConnectError::Database(_))
    ));
}

#[tokio::test]
async fn the_documented_schema_works_without_migrate() {
    let Sql { store, _dir } = sqlite().await;
    let table = store.with_table("by_hand").expect("valid");
    let file = _dir.as_ref().expect("a dir").path().join("sessions.db");
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", file.display()))
        .await
        .expect("a second pool");
    for statement in table
        .schema_sql()
        .split(';')
        .filter(|s| !s.trim().is_empty())
    {
        sqlx::query(sqlx::AssertSqlSafe(statement.to_owned()))
            .execute(&pool)
            .await
            .expect("the printed SQL runs");
    }
    let id = SessionId::generate();
    table
        .save(id, payload("by hand"), None)
        .await
        .expect("save");
    assert_eq!(
        table.load(id).await.expect("load"),
        Some(payload("by hand"))
    );
    assert!(store.with_table("Robert'); DROP TABLE x;--").is_err());
}
