//! Pyramid-compatible signed-cookie sessions for tower and axum.
//!
//! The whole session lives in the browser's cookie, signed with HMAC so the visitor can read it but
//! cannot change it; the server keeps no state. The cookie format is byte-for-byte that of Pyramid's
//! `SignedCookieSessionFactory`, so a Pyramid app and a sesi service that share a secret share their
//! visitors' sessions.
//!
#![cfg_attr(
    feature = "axum",
    doc = r#"
```no_run
use axum::{Router, routing::get};
use sesi::{Secret, Secrets, Session, SessionLayer};

async fn counter(session: Session) -> String {
    let n = session.update("counter", |n: &mut i64| { *n += 1; *n }).unwrap_or(0);
    format!("You have visited this page {n} times")
}

# async fn run() -> Result<(), Box<dyn std::error::Error>> {
let secret = Secret::new(std::env::var("SESI_SECRET")?)?;
let app = Router::new()
    .route("/", get(counter))
    .layer(SessionLayer::new(Secrets::new(secret))?);
let listener = tokio::net::TcpListener::bind("127.0.0.1:6543").await?;
axum::serve(listener, app).await?;
# Ok(()) }
```
"#
)]
//!
//! The request lifecycle: the `Cookie` header is read (every field; the last cookie of the name
//! wins) -> on the handler's first use of the session the value is verified (HMAC, constant time)
//! and decoded, or a fresh session is started if it is absent, tampered, malformed or expired ->
//! the handler reads and writes -> the session is re-signed and a `Set-Cookie` appended only when
//! it changed, was re-issued, was invalidated, or was verified by an old key. A response that
//! touched the session gets `Vary: Cookie` and `Cache-Control: private`. A cookie that would exceed
//! 4096 bytes is never sent: the browser keeps its last good cookie and the response becomes a
//! clear 500 error; handlers avoid that with [`Session::fits`] or [`Session::try_update`].
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `axum` | yes | the [`Session`] extractor for axum handlers (via `axum-core`) |
//!
//! Without `axum`, tower users take the session from the request's extensions with
//! [`Session::from_extensions`].

mod cookie;
#[cfg(feature = "axum")]
mod extract;
mod layer;
mod service;
mod store;
// The suite drives the layer through axum's Router and the `Session` extractor.
#[cfg(all(test, feature = "axum"))]
mod tests;

use std::ops::Deref;

pub use cookie::{CookieSettings, SameSite};
#[cfg(feature = "axum")]
pub use extract::MissingSessionLayer;
pub use layer::{DEFAULT_STORE_TIMEOUT, SessionLayer, SessionLayerBuilder};
pub use service::{CookieAction, ResponseFuture, SessionOutcome, SessionService};
pub use store::LockConfig;

/// The engine crate, for codec-level work (decoding a cookie in a tool, a custom clock).
pub use sesi_core as core;
pub use sesi_core::{
    Clock, CookieStatus, HashAlg, MAX_COOKIE_SIZE, ManualClock, Secret, SecretError, Secrets,
    SessionError,
};

/// The value of the last cookie called `name` in the request's `Cookie` header fields, read exactly
/// as the middleware reads it (for pages that show the raw cookie).
#[must_use]
pub fn read_cookie(headers: &http::HeaderMap, name: &str) -> Option<String> {
    cookie::find_cookie(headers, name)
}

/// The session of the current request: an axum extractor, and a cheap clone of the shared handle
/// that derefs to [`sesi_core::Session`] for the whole API (`get`, `insert`, `update`, `flash`,
/// `get_csrf_token`, `invalidate`, ...).
#[derive(Clone, Debug)]
pub struct Session(pub sesi_core::Session);

impl Session {
    /// The session the [`SessionLayer`] put in these request extensions, for tower services that
    /// do not use axum.
    #[must_use]
    pub fn from_extensions(extensions: &http::Extensions) -> Option<Session> {
        extensions.get::<sesi_core::Session>().cloned().map(Session)
    }
}

impl Deref for Session {
    type Target = sesi_core::Session;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

/// A setting that cannot work; returned by [`SessionLayerBuilder::build`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A cookie attribute is invalid or breaks a browser rule.
    #[error("invalid cookie {what} {value:?}: {why}")]
    Cookie {
        /// Which attribute.
        what: &'static str,
        /// The value given.
        value: String,
        /// The rule it breaks.
        why: &'static str,
    },
    /// A timing rule cannot work.
    #[error(transparent)]
    Session(#[from] sesi_core::ConfigError),
}
