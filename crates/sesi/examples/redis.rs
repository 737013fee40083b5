//! Sessions in Redis: the cookie carries only a random id (protected by the cookie format's keys),
//! the state lives in Redis with the idle timeout as its time-to-live, `invalidate()` deletes it
//! there so every copy of the cookie is dead at once, and the per-session lock runs one request
//! of a visitor at a time across every server that shares the Redis.
//!
//! ```sh
//! SESI_REDIS_URL=redis://127.0.0.1:6379 SESI_SECRET=$(cargo run -q -- keygen) \
//!     cargo run -p sesi --example redis
//! ```

use std::error::Error;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{get, post};
use sesi::{LockConfig, Secret, Secrets, Session, SessionError, SessionLayer};
use sesi_redis::RedisStore;

/// `GET /`: one more visit, saved in Redis.
async fn counter(session: Session) -> Result<String, SessionError> {
    let visits = session.update("counter", |n: &mut i64| {
        *n += 1;
        *n
    })?;
    Ok(format!("You have visited this page {visits} times."))
}

/// `POST /logout` with the session's CSRF token in `X-CSRF-Token`: ends the session in Redis.
async fn logout(session: Session, headers: axum::http::HeaderMap) -> (StatusCode, &'static str) {
    let token = headers.get("x-csrf-token").and_then(|v| v.to_str().ok());
    if !token.is_some_and(|t| session.check_csrf_token(t)) {
        return (StatusCode::FORBIDDEN, "missing or wrong CSRF token");
    }
    session.invalidate();
    (
        StatusCode::OK,
        "Logged out everywhere this cookie was copied to.",
    )
}

/// `GET /token`: the CSRF token, for the logout call.
async fn token(session: Session) -> String {
    session.get_csrf_token()
}

/// The app, with sessions in the Redis at `url`.
///
/// # Errors
/// When Redis cannot be reached.
pub async fn app(url: &str, secrets: Secrets) -> Result<Router, Box<dyn Error>> {
    let store = RedisStore::connect(url).await?;
    let layer = SessionLayer::builder(secrets)
        .with_store(Arc::new(store))
        // A Redis call slower than this answers 503 rather than hanging the request.
        .with_store_timeout(Duration::from_millis(500))
        // One request of a visitor at a time, so parallel requests never lose an update.
        .with_lock(Some(LockConfig::default()))
        .build()?;
    Ok(Router::new()
        .route("/", get(counter))
        .route("/token", get(token))
        .route("/logout", post(logout))
        .layer(layer))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let secret = std::env::var("SESI_SECRET")
        .map_err(|_| "set SESI_SECRET (for example: SESI_SECRET=$(sesi keygen))")?;
    let url = std::env::var("SESI_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let addr = std::env::var("SESI_ADDR").unwrap_or_else(|_| "127.0.0.1:6543".to_owned());
    let app = app(&url, Secrets::new(Secret::new(secret)?)).await?;
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("redis example on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
