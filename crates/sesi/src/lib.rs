//! Pyramid-compatible cookie sessions for tower and axum.
//!
//! By default the whole session lives in the browser's cookie, signed with HMAC so the visitor can
//! read it but cannot change it, and the server keeps no state. The cookie format is byte-for-byte
//! that of Pyramid's `SignedCookieSessionFactory`, so a Pyramid app and a sesi service that share
//! a secret share their visitors' sessions. A session can also live in a server-side store (or
//! spill into one when it outgrows the cookie), with only its id in the cookie; handlers see no
//! difference. Stores: `MemoryStore` here, Redis in `sesi-redis`, PostgreSQL and SQLite in
//! `sesi-sql`. With a store, a session tied to a user ([`Session::set_user`]) can be listed and
//! ended on every device from any server ([`SessionLayer::user_sessions`]: "log out everywhere").
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
//! The request lifecycle: the `Cookie` header is read (every field; the last cookie of the name
//! wins) -> on the handler's first use of the session the value is verified by the cookie format
//! (HMAC, constant time) and decoded, or a fresh session is started if it is absent, tampered,
//! malformed or expired -> the handler reads and writes -> the session is re-signed and a
//! `Set-Cookie` appended only when it changed, was re-issued, was invalidated, or was verified by
//! an old key. A response that touched the session gets `Vary: Cookie` and
//! `Cache-Control: private`. A cookie that would exceed 4096 bytes is never sent: the browser
//! keeps its last good cookie and the response becomes the [`ErrorResponder`]'s answer (a clear
//! 500 by default); handlers avoid that with [`Session::fits`](sesi_core::Session::fits) or the
//! `try_` writes. `docs/architecture.md` in the repository follows one request through the crates.
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `axum` | yes | the [`Session`] extractor for axum handlers (via `axum-core`), and `IntoResponse` for [`SessionError`] |
//!
//! [`Session`] is the handler's whole API (`get`, `insert`, `update`, `flash`, `get_csrf_token`,
//! `invalidate`, ...); what the middleware does at the end of a request is not reachable from
//! it. Without `axum`, tower users take the session from the request's extensions with
//! [`Session::load_from`] (async: a session kept in a store is read from it on first use, so a
//! request whose handler never asks costs the store nothing).

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

/// The Rust code blocks of the repository's README and `docs/*.md`, compiled (and run, unless
/// marked `no_run`) as doctests of this crate, so the documentation cannot drift from the API.
/// Only under `cfg(doctest)`: the crate and its package never read files outside the crate.
#[cfg(doctest)]
mod repository_docs {
    #[doc = include_str!("../../../README.md")]
    struct Readme;
    #[doc = include_str!("../../../docs/architecture.md")]
    struct Architecture;
    #[doc = include_str!("../../../docs/configuration.md")]
    struct Configuration;
    #[doc = include_str!("../../../docs/cookie-format.md")]
    struct CookieFormat;
    #[doc = include_str!("../../../docs/migrating-from-pyramid.md")]
    struct MigratingFromPyramid;
    #[doc = include_str!("../../../docs/security.md")]
    struct Security;
    #[doc = include_str!("../../../docs/stores.md")]
    struct Stores;
    #[doc = include_str!("../../../docs/benchmarks.md")]
    struct Benchmarks;
}
