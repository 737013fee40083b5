//! The `SessionStore` contract and the SQL store's own promises against a real PostgreSQL
//! server (`SESI_POSTGRES_URL`; `scripts/test.sh` starts a throwaway cluster). Every test works
//! in a table of its own.

mod support;

use std::time::Duration;

use sesi_core::store::contract::payload;
use sesi_core::store::{SessionId, SessionStore};
use sesi_sql::{ConnectError, SqlStore};
use support::{Sql, fresh_table, postgres, postgres_url};

sesi_core::store_contract_tests!(async {
    let store = postgres().await?;
    Some(Sql {
        store: fresh_table(&store).await,
        _dir: None,
    })
});

#[tokio::test]
async fn expired_rows_are_swept_once_and_only_they() {
    let Some(store) = postgres().await else {
        return;
    };
    support::check_sweep(&fresh_table(&store).await).await;
}

#[tokio::test]
async fn the_background_sweeper_sweeps() {
    let Some(store) = postgres().await else {
        return;
    };
    support::check_sweeper(&fresh_table(&store).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_migrations_of_one_table_all_succeed() {
    let Some(store) = postgres().await else {
        return;
    };
    support::check_concurrent_migrate(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locked_increments_from_two_pools_lose_nothing() {
    let Some(a) = postgres().await else { return };
    let a = fresh_table(&a).await;
    let b = SqlStore::connect(&postgres_url())
        .await
        .expect("a second pool")
        .with_table(a.table())
        .expect("same table");
    support::check_locked_increments(&a, &b).await;
}

#[tokio::test]
async fn a_server_that_does_not_answer_is_a_connect_error() {
    let port = sesi_testkit::free_port();
    let url = format!("postgres://sesi@127.0.0.1:{port}/nothing?connect_timeout=2");
    assert!(matches!(
        SqlStore::connect(&url).await,
        Err(ConnectError::Database(_))
    ));
}

#[tokio::test]
async fn the_store_answers_unavailable_while_the_database_is_gone_then_recovers() {
    let Some(store) = postgres().await else {
        return;
    };
    let store = fresh_table(&store).await;
    let id = SessionId::generate();
    store.save(id, payload("x"), None).await.expect("save");
    // A table dropped behind the store's back stands in for a broken database: an error, not
    // a panic and not "no session".
    let pool = sqlx::PgPool::connect(&postgres_url()).await.expect("pool");
    let drop = format!("DROP TABLE {t}, {t}_locks", t = store.table());
    sqlx::query(sqlx::AssertSqlSafe(drop))
        .execute(&pool)
        .await
        .expect("drop");
    assert!(store.load(id).await.is_err(), "an error, not None");
    store.migrate().await.expect("migrate again");
    assert_eq!(store.load(id).await.expect("load"), None);
    store
        .save(id, payload("y"), Some(Duration::from_secs(60)))
        .await
        .expect("save");
    assert_eq!(store.load(id).await.expect("load"), Some(payload("y")));
}

/// docs/stores.md shows the schema for those who manage their own: it must be what `migrate`
/// runs. Needs no server: the pool is lazy.
///
/// The page is read at run time, not with `include_str!`: it is outside this crate, so the
/// published package (which builds its tests from its own files) does not have it. There the
/// test skips; in the repository (and so under `scripts/test.sh`, where a skip fails) it runs.
#[tokio::test]
async fn the_schema_in_the_docs_is_what_migrate_runs() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/stores.md");
    let docs = match std::fs::read_to_string(&path) {
        Ok(docs) => docs,
        Err(err) => {
            sesi_testkit::skip(&format!(
                "cannot read {} ({err}): run from the repository, whose docs/ the published \
                 package does not hold",
                path.display()
            ));
            return;
        }
    };
    let pool = sqlx::postgres::PgPoolOptions::new()
        .connect_lazy("postgres://sesi@127.0.0.1:1/none")
        .expect("a lazy pool");
    let printed = SqlStore::postgres(pool).schema_sql();
    assert!(docs.contains(&printed), "docs/stores.md lacks:\n{printed}");
}
