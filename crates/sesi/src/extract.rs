//! The axum extractor.

use axum_core::extract::FromRequestParts;
use axum_core::response::{IntoResponse, Response};
use http::StatusCode;
use http::request::Parts;

use crate::Session;

/// The handler asked for a [`Session`] but no [`SessionLayer`](crate::SessionLayer) ran.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("no session on this request: is SessionLayer installed around this route?")]
pub struct MissingSessionLayer;

impl IntoResponse for MissingSessionLayer {
    fn into_response(self) -> Response {
        tracing::error!("{self}");
        (StatusCode::INTERNAL_SERVER_ERROR, self.to_string()).into_response()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = MissingSessionLayer;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Session::from_extensions(&parts.extensions).ok_or(MissingSessionLayer)
    }
}
