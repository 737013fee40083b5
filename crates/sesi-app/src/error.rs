//! One error type for the app, rendered as an HTML page or as the API's JSON error, and the
//! session layer's own answers (session too large, store down) in the same clothes.

use askama::Template;
use axum::http::header::{CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use sesi::{ErrorResponder, RequestHead, SessionFailure};

use crate::headers;

/// An error answer: status, a stable code, and a message for people.
#[derive(Debug, Clone)]
pub struct AppError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine-readable code (`csrf_failed`).
    pub code: &'static str,
    /// Human-readable message.
    pub message: String,
}

impl AppError {
    /// An error with any status.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        AppError {
            status,
            code,
            message: message.into(),
        }
    }

    /// 400.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// 403 for a missing or wrong CSRF token.
    pub fn csrf() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "csrf_failed",
            "missing or wrong CSRF token: reload the page and try again (nothing was changed)",
        )
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 422.
    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    /// 422 for a change that would make the session larger than it may be where it lives (a
    /// cookie's 4096 bytes, or the store's cap).
    pub fn too_large(bytes: usize, limit: usize) -> Self {
        let place = if limit == sesi::MAX_COOKIE_SIZE {
            "a cookie can hold"
        } else {
            "the session store takes"
        };
        Self::unprocessable(
            "session_too_large",
            format!(
                "the session would be {bytes} bytes, more than {place} ({limit}); the change \
                 was not saved"
            ),
        )
    }

    /// 500 after logging the detail.
    pub fn internal(detail: &dyn std::fmt::Display) -> Self {
        tracing::error!(%detail, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "something went wrong on the server",
        )
    }

    /// The JSON form, for the API.
    #[must_use]
    pub fn json(self) -> ApiError {
        ApiError(self)
    }

    /// The error page.
    fn page(&self) -> String {
        let page = ErrorPage {
            status: self.status.as_u16(),
            reason: self.status.canonical_reason().unwrap_or("Error"),
            message: &self.message,
        };
        page.render().unwrap_or_else(|err| {
            tracing::error!(%err, "error page failed to render");
            self.message.clone()
        })
    }

    /// The API's `{"error": {"code", "message"}}`.
    fn json_text(&self) -> String {
        json!({"error": {"code": self.code, "message": self.message}}).to_string()
    }

    /// The answer for a request to `path`: JSON under `/api/`, a page elsewhere.
    fn respond_to(self, path: &str) -> Response {
        if path.starts_with("/api/") {
            self.json().into_response()
        } else {
            self.into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    reason: &'a str,
    message: &'a str,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        (
            self.status,
            [(CONTENT_TYPE, "text/html; charset=utf-8")],
            self.page(),
        )
            .into_response()
    }
}

/// A session write that failed: too large (422, see [`AppError::too_large`]) or anything else
/// (500).
impl From<sesi::SessionError> for AppError {
    fn from(err: sesi::SessionError) -> Self {
        match err {
            sesi::SessionError::TooLarge { bytes, limit } => AppError::too_large(bytes, limit),
            other => AppError::internal(&other),
        }
    }
}

/// An [`AppError`] rendered as `{"error": {"code", "message"}}`.
#[derive(Debug, Clone)]
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(err: AppError) -> Self {
        ApiError(err)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.0.status,
            [(CONTENT_TYPE, "application/json")],
            self.0.json_text(),
        )
            .into_response()
    }
}

/// 404 for any unknown path: JSON under `/api/`, a page elsewhere.
pub async fn not_found(uri: Uri) -> Response {
    AppError::not_found(format!("there is no page at {}", uri.path())).respond_to(uri.path())
}

/// 405 for a known path with the wrong method.
pub async fn method_not_allowed(uri: Uri) -> Response {
    AppError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{} does not accept this method", uri.path()),
    )
    .respond_to(uri.path())
}

/// The session layer's own answers as the app's error page, or its JSON error under `/api/`,
/// with the app's security headers (the layer answers outside the app's middleware).
#[derive(Debug, Clone, Copy, Default)]
pub struct AppResponder;

impl ErrorResponder for AppResponder {
    fn respond(
        &self,
        failure: &SessionFailure<'_>,
        request: &RequestHead,
    ) -> axum::http::Response<String> {
        let err = match failure {
            SessionFailure::StoreUnavailable { error } => AppError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "session_store_unavailable",
                format!(
                    "your session could not be loaded or saved ({error}); a change this request \
                     made was most likely not saved: reload and try again in a moment"
                ),
            ),
            SessionFailure::TooLarge { bytes, limit } => AppError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "session_too_large",
                format!(
                    "the session grew too large to store ({bytes} bytes, the limit is {limit}); \
                     the change was not saved"
                ),
            ),
            _ => AppError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "session_not_saved",
                "the session could not be saved; the change was not kept",
            ),
        };
        let (body, content_type) = if request.uri.path().starts_with("/api/") {
            (err.json_text(), "application/json")
        } else {
            (err.page(), "text/html; charset=utf-8")
        };
        let mut response = axum::http::Response::new(body);
        *response.status_mut() = err.status;
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        if err.status == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(RETRY_AFTER, HeaderValue::from_static("1"));
        }
        headers::secure(headers);
        response
    }
}
