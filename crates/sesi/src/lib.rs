//! Pyramid-compatible cookie sessions for tower and axum.
//!
//! By default the whole session lives in the browser's cookie, signed with HMAC so the visitor can
//! read it but cannot change it, and the server keeps no state. The cookie format is byte-for-byte
//! that of Pyramid's `SignedCookieSessionFactory`, so a Pyramid app and a sesi service that share
//! a secret share their visitors' sessions (pyramid_nacl_session's encrypted cookies too), and
//! Flask's and Django's default session cookies are formats of their own, so a Flask or Django
//! app can share its sessions the same way. A
//! session can also live in a server-side store (or spill into one when it outgrows the cookie),
//! with only its id in the cookie; handlers see no difference. Stores: `MemoryStore` here, Redis
//! in [`sesi-redis`](https://docs.rs/sesi-redis), PostgreSQL and SQLite in
//! [`sesi-sql`](https://docs.rs/sesi-sql). With a store, a session tied to a user
//! ([`Session::set_user`]) can be listed and ended on every device from any server
//! ([`SessionLayer::user_sessions`]: "log out everywhere").
//!
//! # Quick start
//!
//! `cargo add sesi axum tokio --features tokio/full`, then:
//!
#![cfg_attr(
    feature = "axum",
    doc = r#"
```no_run
use axum::{Router, routing::get};
use sesi::{Secret, Secrets, Session, SessionError, SessionLayer};

async fn counter(session: Session) -> Result<String, SessionError> {
    let n = session.update("counter", |n: &mut i64| { *n += 1; *n })?;
    Ok(format!("You have visited this page {n} times"))
}

# async fn run() -> Result<(), Box<dyn std::error::Error>> {
// At least 32 bytes, random (`sesi keygen` prints one); the same secret as the Pyramid app's
// `SignedCookieSessionFactory(secret)` to share its sessions.
let secret = Secret::new(std::env::var("SESI_SECRET")?)?;
let app = Router::new()
    .route("/", get(counter))
    .layer(SessionLayer::new(Secrets::new(secret)));
let listener = tokio::net::TcpListener::bind("127.0.0.1:6543").await?;
axum::serve(listener, app).await?;
# Ok(()) }
```
"#
)]
//!
//! [`SessionLayer::builder`] takes the cookie format ([`Secrets`] for Pyramid's defaults, a
//! [`PyramidFormat`] with its `salt` and `hashalg`, or `core::FlaskFormat`,
//! `core::DjangoFormat`, `core::PyramidNaclFormat`) and sets Pyramid's other knobs (`timeout`,
//! `reissue_time`, `max_age`, the cookie's name and attributes), a store, locking and the error
//! responder. Older secrets in [`Secrets`] keep verifying cookies while new ones are signed with
//! the current one (key rotation).
//!
//! # Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `axum` | yes | the [`Session`] extractor for axum handlers (via `axum-core`), and `IntoResponse` for [`SessionError`] |
//! | `flask` | yes | `core::FlaskFormat`: Flask's default session cookie (itsdangerous, zlib) |
//! | `django` | yes | `core::DjangoFormat`: Django's `signed_cookies` session cookie (django.core.signing, zlib) |
//!
//! Without `axum`, tower users take the session from the request's extensions with
//! [`Session::load_from`] (async: a session kept in a store is read from it on first use, so a
//! request whose handler never asks costs the store nothing).
//!
//! # How a request goes
//!
//! The `Cookie` header is read (every field; the last cookie of the name wins) -> on the
//! handler's first use of the session the value is verified by the cookie format (HMAC, constant
//! time) and decoded, or a fresh session is started if it is absent, tampered, malformed or
//! expired -> the handler reads and writes -> the session is re-signed and a `Set-Cookie`
//! appended only when it changed, was re-issued, was invalidated, or was verified by an old key.
//! A response that touched the session gets `Vary: Cookie` and `Cache-Control: private`. A cookie
//! that would exceed 4096 bytes is never sent: the browser keeps its last good cookie and the
//! response becomes the [`ErrorResponder`]'s answer (a clear 500 by default); handlers avoid that
//! with [`Session::fits`](sesi_core::Session::fits) or the `try_` writes.
//!
//! [`Session`] is the handler's whole API (`get`, `insert`, `update`, `flash`, `get_csrf_token`,
//! `invalidate`, ...); what the middleware does at the end of a request is not reachable from
//! it.
//!
//! # Crates
//!
//! | crate | what |
//! |---|---|
//! | `sesi` (this one) | the tower [`SessionLayer`] and the axum [`Session`] extractor |
//! | [`sesi-core`](https://docs.rs/sesi-core) | the engine without HTTP: cookie formats, secrets, session rules, the store trait; re-exported as [`sesi::core`](crate::core) |
//! | [`sesi-redis`](https://docs.rs/sesi-redis) | `RedisStore`: one server, Cluster or Sentinel, over TLS or TCP |
//! | [`sesi-sql`](https://docs.rs/sesi-sql) | `SqlStore`: PostgreSQL and SQLite on sqlx |
//! | [`sesi-app`](https://crates.io/crates/sesi-app) | the tutorial app and the `sesi` command line (`cargo install sesi-app`) |
//!
//! # Further reading
//!
//! The repository's `docs/` folder has one page per topic (every Rust block in them is compiled
//! and run as a test): `docs/configuration.md` (every setting, with Pyramid's name),
//! `docs/cookie-format.md` (the bytes, step by step), `docs/security.md` (what the signature does
//! and does not promise), `docs/stores.md` (memory, Redis, SQL, locking, "log out everywhere"),
//! `docs/migrating-from-pyramid.md`, `docs/migrating-from-flask.md`,
//! `docs/migrating-from-django.md`, `docs/architecture.md` (one request through the crates) and
//! `docs/benchmarks.md` (how fast, measured how). Runnable examples are in the package's
//! `examples/` (`counter`, `cart`, `rotation`, `redis`, `login`).

#![cfg_attr(docsrs, feature(doc_cfg))]

mod cookie;
mod cookie_flow;
mod error;
mod layer;
mod outcome;
mod responder;
mod service;
mod set_cookie;
mod shared;
mod store_access;
mod store_flow;
// The suite drives the layer through axum's Router and the `Session` extractor.
#[cfg(all(test, feature = "axum"))]
mod tests;

pub use cookie::{CookieSettings, SameSite};
pub use error::ConfigError;
pub use layer::{DEFAULT_STORE_TIMEOUT, SessionLayer, SessionLayerBuilder};
pub use outcome::{CookieAction, SessionOutcome};
pub use responder::{ErrorResponder, PlainTextResponder, RequestHead, SessionFailure};
pub use service::{ResponseFuture, SessionService};
pub use store_access::LockConfig;

/// The engine crate, for format-level work (decoding a cookie in a tool, a custom clock).
pub use sesi_core as core;
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use sesi_core::session::{
    LazySession, MissingSessionLayer, SessionRejection, SessionUnavailable,
};
pub use sesi_core::store::{UserSession, UserSessions};
pub use sesi_core::{
    Clock, CookieFormat, CookieStatus, Expiry, HashAlg, MAX_COOKIE_SIZE, ManualClock,
    PyramidFormat, Secret, SecretError, Secrets, Session, SessionError,
};

/// The value of the last cookie called `name` in the request's `Cookie` header fields, read exactly
/// as the middleware reads it (for pages that show the raw cookie).
#[must_use]
pub fn read_cookie(headers: &http::HeaderMap, name: &str) -> Option<String> {
    cookie::find_cookie(headers, name)
}
