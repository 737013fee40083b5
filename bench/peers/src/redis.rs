//! The Redis-backed peers: the same counter with the session in Redis and only an id in the
//! cookie. Every peer reads the Redis URL from `BENCH_REDIS_URL` (default
//! `redis://127.0.0.1:6379`), which `run.sh` sets.

use axum::{Router, http::StatusCode, response::Html, routing::get};

use super::{COUNTER, SECRET, counter_page};

/// The Redis URL the peers use.
#[must_use]
pub fn url() -> String {
    std::env::var("BENCH_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// `sesi-lib-redis` / `sesi-lib-redis-lock`: the sesi library with `sesi_redis::RedisStore`,
/// with or without per-session locking.
///
/// # Panics
/// When Redis cannot be reached at startup.
pub async fn sesi_router(lock: bool) -> Router {
    use sesi::{LockConfig, Secret, Secrets, SessionLayer};
    let store = sesi_redis::RedisStore::connect(&url())
        .await
        .expect("Redis reachable at BENCH_REDIS_URL");
    let secret = Secret::from_bytes(SECRET.to_vec()).expect("the bench secret is 64 bytes");
    let layer = SessionLayer::builder(Secrets::new(secret))
        .with_store(std::sync::Arc::new(store))
        .with_lock(lock.then(LockConfig::default))
        .build()
        .expect("valid settings");
    Router::new()
        .route("/", get(super::sesi_lib::counter))
        .layer(layer)
}

/// `tower-sessions-redis`: tower-sessions 0.14 with tower-sessions-redis-store 0.16 (fred).
///
/// # Panics
/// When Redis cannot be reached at startup.
pub async fn tower_sessions_router() -> Router {
    use tower_sessions_014::{Session, SessionManagerLayer};
    use tower_sessions_redis_store::RedisStore;
    use tower_sessions_redis_store::fred::prelude::{ClientLike, Config, Pool};

    async fn counter(session: Session) -> Result<Html<String>, (StatusCode, String)> {
        let internal = |e: tower_sessions_014::session::Error| {
            (StatusCode::INTERNAL_SERVER_ERROR, format!("session: {e}"))
        };
        let n = session
            .get::<u64>(COUNTER)
            .await
            .map_err(internal)?
            .unwrap_or(0)
            .saturating_add(1);
        session.insert(COUNTER, n).await.map_err(internal)?;
        Ok(Html(counter_page(n)))
    }

    let config = Config::from_url(&url()).expect("a valid Redis URL");
    // One connection, as sesi and actix-session use (both multiplex one connection).
    let pool = Pool::new(config, None, None, None, 1).expect("a fred pool");
    let _connection = pool.connect();
    pool.wait_for_connect().await.expect("Redis reachable");
    let sessions = SessionManagerLayer::new(RedisStore::new(pool)).with_secure(false);
    Router::new().route("/", get(counter)).layer(sessions)
}
