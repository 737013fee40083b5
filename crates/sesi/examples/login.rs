//! A tiny login with "log out everywhere": `set_user` ties the session to a user (and gives it
//! a new id), `SessionLayer::user_sessions` lists the user's sessions on every device and ends
//! them, all but this one or all, on every server that shares the store at once.
//!
//! Any name logs in (a real app checks a password first). The store comes from `SESI_STORE`:
//! `memory` (the default), `redis://...`, `postgres://...` or `sqlite://PATH`.
//!
//! ```sh
//! SESI_SECRET=$(cargo run -q -- keygen) SESI_STORE=sqlite://sessions.db \
//!     cargo run -p sesi --example login
//! curl -c jar -b jar localhost:3000/token            # the CSRF token, say T
//! curl -c jar -b jar -H 'x-csrf-token: T' -d user=ada localhost:3000/login
//! curl -c jar -b jar localhost:3000/sessions
//! ```

use std::error::Error;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::extract::{Extension, Form};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use sesi::core::store::{MemoryStore, SessionStore};
use sesi::{Secret, Secrets, Session, SessionLayer, UserSessions};

/// `GET /`: who is logged in on this device.
async fn home(session: Session) -> String {
    match session.user() {
        Some(user) => format!("Logged in as {user}."),
        None => "Not logged in.".to_owned(),
    }
}

/// `GET /token`: the CSRF token every `POST` must send in `X-CSRF-Token`.
async fn token(session: Session) -> String {
    session.get_csrf_token()
}

/// True when the request carries the session's CSRF token.
fn csrf_ok(session: &Session, headers: &HeaderMap) -> bool {
    let token = headers.get("x-csrf-token").and_then(|v| v.to_str().ok());
    token.is_some_and(|t| session.check_csrf_token(t))
}

/// The answer to a `POST` without the session's CSRF token.
fn refused() -> Response {
    (StatusCode::FORBIDDEN, "missing or wrong CSRF token").into_response()
}

#[derive(serde::Deserialize)]
struct Login {
    user: String,
}

/// `POST /login` with `user=NAME`: ties this session to the user.
async fn login(session: Session, headers: HeaderMap, Form(form): Form<Login>) -> Response {
    if !csrf_ok(&session, &headers) {
        return refused();
    }
    match session.set_user(form.user.trim()) {
        Ok(()) => format!("Logged in as {}.", form.user.trim()).into_response(),
        Err(err) => (StatusCode::UNPROCESSABLE_ENTITY, err.to_string()).into_response(),
    }
}

/// `GET /sessions`: the user's sessions on every device, this one marked.
async fn sessions(session: Session, Extension(users): Extension<UserSessions>) -> Response {
    let Some(user) = session.user() else {
        return (StatusCode::UNAUTHORIZED, "Not logged in.").into_response();
    };
    match users.list(&user, Some(&session)).await {
        Ok(list) => {
            let mut page = format!("{} sessions of {user}:\n", list.len());
            for entry in list {
                let ago = |at: SystemTime| at.elapsed().unwrap_or(Duration::ZERO).as_secs();
                let created = entry
                    .created
                    .map_or("?".to_owned(), |at| ago(at).to_string());
                let _ = writeln!(
                    page,
                    "{} started {created} s ago, last seen {} s ago{}",
                    entry.label,
                    ago(entry.last_seen),
                    if entry.current { " (this device)" } else { "" }
                );
            }
            page.into_response()
        }
        Err(err) => (StatusCode::SERVICE_UNAVAILABLE, err.to_string()).into_response(),
    }
}

/// Which sessions a logout ends.
#[derive(Clone, Copy)]
enum Ending {
    /// Every session of the user but this one.
    Others,
    /// Every session of the user, this one too.
    All,
}

/// `POST /logout-others` and `POST /logout-everywhere`.
async fn logout(
    ending: Ending,
    session: Session,
    headers: HeaderMap,
    users: UserSessions,
) -> Response {
    if !csrf_ok(&session, &headers) {
        return refused();
    }
    let Some(user) = session.user() else {
        return (StatusCode::UNAUTHORIZED, "Not logged in.").into_response();
    };
    let ended = match ending {
        Ending::Others => users.end_others(&user, &session).await,
        Ending::All => users.end_all(&user, Some(&session)).await,
    };
    match (ending, ended) {
        (Ending::Others, Ok(n)) => format!("Logged out {n} other sessions.").into_response(),
        (Ending::All, Ok(n)) => format!("Logged out {n} sessions.").into_response(),
        (_, Err(err)) => (StatusCode::SERVICE_UNAVAILABLE, err.to_string()).into_response(),
    }
}

/// The app, with sessions (and the user index) in `store`.
///
/// # Errors
/// A layer setting the builder refuses.
pub fn app(store: Arc<dyn SessionStore>, secrets: Secrets) -> Result<Router, Box<dyn Error>> {
    with_layer(SessionLayer::builder(secrets).with_store(store).build()?)
}

/// The app's routes behind `layer`, which must have a store (`with_store` or
/// `with_spill_store`).
///
/// # Errors
/// When the layer has no store: cookie sessions cannot be ended from elsewhere.
pub fn with_layer(layer: SessionLayer) -> Result<Router, Box<dyn Error>> {
    let users = layer
        .user_sessions()
        .ok_or("log out everywhere needs a store")?;
    Ok(Router::new()
        .route("/", get(home))
        .route("/token", get(token))
        .route("/login", post(login))
        .route("/sessions", get(sessions))
        .route(
            "/logout-others",
            post(
                |s: Session, h: HeaderMap, Extension(u): Extension<UserSessions>| {
                    logout(Ending::Others, s, h, u)
                },
            ),
        )
        .route(
            "/logout-everywhere",
            post(
                |s: Session, h: HeaderMap, Extension(u): Extension<UserSessions>| {
                    logout(Ending::All, s, h, u)
                },
            ),
        )
        .layer(Extension(users))
        .layer(layer))
}

/// The store `SESI_STORE` names.
async fn store_from_env() -> Result<Arc<dyn SessionStore>, Box<dyn Error>> {
    let url = std::env::var("SESI_STORE").unwrap_or_else(|_| "memory".to_owned());
    Ok(if url == "memory" {
        Arc::new(MemoryStore::new(100_000))
    } else if url.starts_with("redis") {
        Arc::new(sesi_redis::RedisStore::connect(&url).await?)
    } else {
        let store = sesi_sql::SqlStore::connect(&url).await?;
        store.migrate().await?;
        store.spawn_sweeper(Duration::from_secs(300)).detach();
        Arc::new(store)
    })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let secret = std::env::var("SESI_SECRET")
        .map_err(|_| "set SESI_SECRET (for example: cargo run -q -- keygen)")?;
    let app = app(store_from_env().await?, Secrets::new(Secret::new(&secret)?))?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
