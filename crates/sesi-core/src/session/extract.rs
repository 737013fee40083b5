//! Getting the request's [`Session`] from where the middleware put it: the request's extensions
//! (feature `http`), and the axum extractor (feature `axum`). They live here, beside `Session`,
//! because only the crate that defines a type may implement axum's extractor trait for it
//! without a wrapper type.

use super::Session;

impl Session {
    /// The session the middleware put in these request extensions, for tower services that do
    /// not use axum.
    #[must_use]
    pub fn from_extensions(extensions: &http::Extensions) -> Option<Session> {
        extensions.get::<Session>().cloned()
    }
}

/// The handler asked for a [`Session`] but no session middleware ran.
#[cfg(feature = "axum")]
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("no session on this request: is SessionLayer installed around this route?")]
pub struct MissingSessionLayer;

/// A 500 that names the fix; never cached, never sniffed.
#[cfg(feature = "axum")]
impl axum_core::response::IntoResponse for MissingSessionLayer {
    fn into_response(self) -> axum_core::response::Response {
        tracing::error!("{self}");
        let mut response =
            (http::StatusCode::INTERNAL_SERVER_ERROR, self.to_string()).into_response();
        super::response::never_cached(response.headers_mut());
        response
    }
}

#[cfg(feature = "axum")]
impl<S: Send + Sync> axum_core::extract::FromRequestParts<S> for Session {
    type Rejection = MissingSessionLayer;

    async fn from_request_parts(
        parts: &mut http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Session::from_extensions(&parts.extensions).ok_or(MissingSessionLayer)
    }
}
