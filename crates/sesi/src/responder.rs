//! The library's own answers: what a visitor gets when the session cannot be saved in a cookie or
//! the store fails. Replaceable on the builder, so an app can answer in its own page or JSON.

use std::fmt;

use http::header::{CACHE_CONTROL, CONTENT_TYPE, RETRY_AFTER, X_CONTENT_TYPE_OPTIONS};
use http::{HeaderValue, Method, Response, StatusCode, Uri};
use sesi_core::store::StoreError;

/// Why the middleware answers instead of the handler.
#[derive(Debug)]
#[non_exhaustive]
pub enum SessionFailure<'a> {
    /// The handler wrote more than the session may hold where it lives: more than a cookie
    /// holds (4096 bytes, with no store to spill to) or more than the store's cap. Nothing was
    /// saved or sent, so the browser keeps its last good cookie. A handler avoids this with the
    /// `try_` writes.
    TooLarge {
        /// Size the `Set-Cookie` (or the stored JSON) would have had.
        bytes: usize,
        /// The limit it exceeds.
        limit: usize,
    },
    /// The session store failed or was too slow: the session could not be loaded or saved, and
    /// no cookie was sent.
    StoreUnavailable {
        /// What the store said.
        error: &'a StoreError,
    },
    /// The cookie format wrote a value that is not valid header text (a bug in that format):
    /// nothing was sent.
    InvalidCookieValue {
        /// The format's name.
        format: &'static str,
    },
}

/// The request a failure happened on, for a responder that answers differently by path or method
/// (JSON under `/api/`, a page elsewhere).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RequestHead {
    /// The request's method.
    pub method: Method,
    /// The request's URI.
    pub uri: Uri,
}

impl RequestHead {
    /// The head of a request with `method` and `uri`.
    #[must_use]
    pub fn new(method: Method, uri: Uri) -> Self {
        RequestHead { method, uri }
    }
}

/// Builds the response for a [`SessionFailure`]. The middleware then marks it private and
/// records the outcome; it never adds a `Set-Cookie` to it.
///
/// ```
/// use http::{Response, StatusCode};
/// use sesi::{ErrorResponder, RequestHead, SessionFailure};
///
/// /// Answers JSON, whatever the route.
/// #[derive(Debug)]
/// struct Json;
///
/// impl ErrorResponder for Json {
///     fn respond(&self, failure: &SessionFailure<'_>, _request: &RequestHead) -> Response<String> {
///         let (status, code) = match failure {
///             SessionFailure::TooLarge { .. } => (StatusCode::INTERNAL_SERVER_ERROR, "session_too_large"),
///             _ => (StatusCode::SERVICE_UNAVAILABLE, "session_store_unavailable"),
///         };
///         let mut response = Response::new(format!(r#"{{"error": "{code}"}}"#));
///         *response.status_mut() = status;
///         response
///     }
/// }
///
/// let secret = sesi::Secret::new("a secret of at least thirty-two bytes, from a file")?;
/// let layer = sesi::SessionLayer::builder(sesi::Secrets::new(secret))
///     .with_error_responder(Json)
///     .build()?;
/// # let _ = layer;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait ErrorResponder: Send + Sync + fmt::Debug + 'static {
    /// The response for `failure` on `request`.
    #[must_use]
    fn respond(&self, failure: &SessionFailure<'_>, request: &RequestHead) -> Response<String>;
}

/// Where a session of this limit is kept, for messages.
fn where_kept(limit: usize) -> &'static str {
    if limit == sesi_core::MAX_COOKIE_SIZE {
        "a cookie"
    } else {
        "the session store"
    }
}

/// The default answers: plain text that says what happened and whether a change was saved, never
/// cached (`Cache-Control: no-store`), never sniffed (`X-Content-Type-Options: nosniff`). Too
/// large: 500. Store unavailable: 503 with `Retry-After: 1`.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlainTextResponder;

impl ErrorResponder for PlainTextResponder {
    fn respond(&self, failure: &SessionFailure<'_>, _request: &RequestHead) -> Response<String> {
        let (status, body) = match failure {
            SessionFailure::TooLarge { bytes, limit } => (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!(
                    "500 Internal Server Error\n\nThe session grew too large to store in {} \
                     ({bytes} bytes, the limit is {limit}); the change was not saved.\n",
                    where_kept(*limit)
                ),
            ),
            SessionFailure::InvalidCookieValue { format } => (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!(
                    "500 Internal Server Error\n\nThe session could not be written into a cookie \
                     (the {format} cookie format wrote a value that is not header text); the \
                     change was not saved.\n"
                ),
            ),
            SessionFailure::StoreUnavailable { error } => (
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "503 Service Unavailable\n\nYour session could not be loaded or saved \
                     ({error}). A change this request made was most likely not saved: reload \
                     and try again in a moment.\n"
                ),
            ),
        };
        let mut response = Response::new(body);
        *response.status_mut() = status;
        let headers = response.headers_mut();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        if status == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}
