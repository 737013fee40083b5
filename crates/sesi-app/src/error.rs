//! One error type for the app, rendered as an HTML page or as the API's JSON error.

use askama::Template;
use axum::Json;
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;

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
        let page = ErrorPage {
            status: self.status.as_u16(),
            reason: self.status.canonical_reason().unwrap_or("Error"),
            message: &self.message,
        };
        match page.render() {
            Ok(html) => (self.status, Html(html)).into_response(),
            Err(err) => {
                tracing::error!(%err, "error page failed to render");
                (self.status, self.message).into_response()
            }
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
        let body = json!({"error": {"code": self.0.code, "message": self.0.message}});
        (self.0.status, Json(body)).into_response()
    }
}

/// 404 for any unknown path: JSON under `/api/`, a page elsewhere.
pub async fn not_found(uri: Uri) -> Response {
    let err = AppError::not_found(format!("there is no page at {}", uri.path()));
    if uri.path().starts_with("/api/") {
        err.json().into_response()
    } else {
        err.into_response()
    }
}

/// 405 for a known path with the wrong method.
pub async fn method_not_allowed(uri: Uri) -> Response {
    let err = AppError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{} does not accept this method", uri.path()),
    );
    if uri.path().starts_with("/api/") {
        err.json().into_response()
    } else {
        err.into_response()
    }
}
