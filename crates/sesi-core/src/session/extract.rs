//! Getting the request's [`Session`] from where the middleware put it: the request's extensions
//! (feature `http`), and the axum extractor (feature `axum`). They live here, beside `Session`,
//! because only the crate that defines a type may implement axum's extractor trait for it
//! without a wrapper type.
//!
//! A session kept in a store is read lazily: the middleware puts a [`LazySession`] in the
//! extensions, and the store is read (and, with locking, locked) only when a handler first asks
//! for the session. A route that never asks costs the store nothing.

use std::sync::Arc;

use super::Session;
use crate::store::BoxFuture;

/// The middleware's half of a [`LazySession`]: reads the session from the store, once.
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub trait LoadSession: Send + Sync + 'static {
    /// The request's session, read (and locked) on the first call; the same session after.
    fn load(&self) -> BoxFuture<'_, Result<Session, SessionUnavailable>>;
}

/// A store-backed session not read yet: [`load`](Self::load) reads it on first use. Cheap to
/// clone; every clone loads the same session once.
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
#[derive(Clone)]
pub struct LazySession(Arc<dyn LoadSession>);

impl std::fmt::Debug for LazySession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LazySession")
    }
}

impl LazySession {
    /// A session that `loader` reads on first use.
    #[must_use]
    pub fn new(loader: Arc<dyn LoadSession>) -> Self {
        LazySession(loader)
    }

    /// Reads the session from the store on the first call (the same session after).
    ///
    /// # Errors
    /// [`SessionUnavailable`] when the store failed, or the request is already over.
    pub async fn load(&self) -> Result<Session, SessionUnavailable> {
        self.0.load().await
    }
}

/// The store could not be read for this request (or the request was over). The middleware
/// answers for it with its error responder, a 503 by default.
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the session could not be loaded from the store")]
pub struct SessionUnavailable;

/// The handler asked for a [`Session`] but no session middleware ran.
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("no session on this request: is SessionLayer installed around this route?")]
pub struct MissingSessionLayer;

/// Why a request has no session for its handler.
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[non_exhaustive]
pub enum SessionRejection {
    /// No session middleware around this route.
    #[error(transparent)]
    MissingLayer(#[from] MissingSessionLayer),
    /// The store failed.
    #[error(transparent)]
    Unavailable(#[from] SessionUnavailable),
}

impl Session {
    /// The session the middleware put in these request extensions, when it is already at hand:
    /// always for cookie sessions, and for a store-backed one once it was loaded. For tower
    /// services that do not use axum; [`Session::load_from`] also reads a store.
    #[cfg_attr(docsrs, doc(cfg(feature = "http")))]
    #[must_use]
    pub fn from_extensions(extensions: &http::Extensions) -> Option<Session> {
        extensions.get::<Session>().cloned()
    }

    /// The request's session, read from the store first if it lives there and was not read
    /// yet: what the axum extractor does, for code outside axum.
    ///
    /// # Errors
    /// [`SessionRejection`]: no session middleware ran, or the store failed.
    #[cfg_attr(docsrs, doc(cfg(feature = "http")))]
    pub async fn load_from(extensions: &http::Extensions) -> Result<Session, SessionRejection> {
        if let Some(session) = extensions.get::<Session>() {
            return Ok(session.clone());
        }
        match extensions.get::<LazySession>() {
            Some(lazy) => Ok(lazy.load().await?),
            None => Err(MissingSessionLayer.into()),
        }
    }
}

/// A 500 that names the fix; never cached, never sniffed.
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
impl axum_core::response::IntoResponse for MissingSessionLayer {
    fn into_response(self) -> axum_core::response::Response {
        tracing::error!("{self}");
        let mut response =
            (http::StatusCode::INTERNAL_SERVER_ERROR, self.to_string()).into_response();
        super::response::never_cached(response.headers_mut());
        response
    }
}

/// A missing layer as above; a store failure as a bare 503, which the middleware replaces with
/// its error responder's answer on the way out.
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
impl axum_core::response::IntoResponse for SessionRejection {
    fn into_response(self) -> axum_core::response::Response {
        match self {
            SessionRejection::MissingLayer(missing) => missing.into_response(),
            SessionRejection::Unavailable(unavailable) => {
                let mut response = (
                    http::StatusCode::SERVICE_UNAVAILABLE,
                    unavailable.to_string(),
                )
                    .into_response();
                super::response::never_cached(response.headers_mut());
                response
            }
        }
    }
}

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
impl<S: Send + Sync> axum_core::extract::FromRequestParts<S> for Session {
    type Rejection = SessionRejection;

    async fn from_request_parts(
        parts: &mut http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Session::load_from(&parts.extensions).await
    }
}
