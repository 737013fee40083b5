//! [`SessionError`] as an axum response (feature `axum`), so `session.get::<T>(key)?` works in a
//! handler that returns `Result<_, SessionError>`.

use axum_core::response::{IntoResponse, Response};
use http::header::{CACHE_CONTROL, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use http::{HeaderValue, StatusCode};

use super::SessionError;

/// A change refused by the size guard is a 422 that gives the sizes; a value that cannot be read
/// or written is a 500 whose detail (the key, serde's message) goes to the log, not the visitor.
/// Never cached, never sniffed.
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
impl IntoResponse for SessionError {
    fn into_response(self) -> Response {
        let (status, message) = match &self {
            SessionError::TooLarge { .. } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("{self}; the change was not saved"),
            ),
            _ => {
                tracing::error!(error = %self, source = ?std::error::Error::source(&self), "session error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "a session value could not be read or written".to_owned(),
                )
            }
        };
        let mut response = (status, message).into_response();
        never_cached(response.headers_mut());
        response
    }
}

/// Plain text, `Cache-Control: no-store`, `X-Content-Type-Options: nosniff`: the headers of every
/// error answer this crate makes.
pub(super) fn never_cached(headers: &mut http::HeaderMap) {
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_large_is_422_with_the_sizes_and_others_are_a_500_without_detail() {
        let response = SessionError::TooLarge {
            bytes: 5000,
            limit: 4096,
        }
        .into_response();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
        assert_eq!(response.headers()[X_CONTENT_TYPE_OPTIONS], "nosniff");

        let source = serde_json::from_str::<i64>("\"x\"").expect_err("not an integer");
        let response = SessionError::Deserialize {
            key: "secret_key_name".into(),
            source,
        }
        .into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
    }
}
