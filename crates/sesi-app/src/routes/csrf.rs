//! CSRF checks as extractors, so no handler checks a token by hand: Pyramid's
//! `check_csrf_token` (the token in the `X-CSRF-Token` header or the form field `csrf_token`,
//! never the query string), compared in constant time with the session's token. A failed check
//! is a 403 that changes nothing.

use axum::extract::{Form, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use sesi::{Session, SessionRejection};

use crate::error::{ApiError, AppError};

/// The header an API client (or a page's script) sends the token in.
const HEADER: &str = "x-csrf-token";

/// A form whose token checked out, from its `csrf_token` field or the header; `T` holds the
/// form's other fields. A form that does not parse is a 400 (before the token is looked at).
pub(crate) struct CsrfForm<T>(pub T);

/// The form's fields with the token beside them.
#[derive(Deserialize)]
struct WithToken<T> {
    csrf_token: Option<String>,
    #[serde(flatten)]
    fields: T,
}

/// A form with no fields besides the token.
#[derive(Deserialize)]
pub(crate) struct NoFields {}

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequest<S> for CsrfForm<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let session = session_of(req.extensions()).await?;
        let header = header_token(req.headers());
        let Form(form) = Form::<WithToken<T>>::from_request(req, state)
            .await
            .map_err(|e| AppError::bad_request(format!("bad form: {}", e.body_text())))?;
        check(&session, [header.as_deref(), form.csrf_token.as_deref()])?;
        Ok(CsrfForm(form.fields))
    }
}

/// An API call whose `X-CSRF-Token` header checked out; the API takes no form field.
pub(crate) struct CsrfHeader;

impl<S: Send + Sync> FromRequestParts<S> for CsrfHeader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let session = session_of(&parts.extensions)
            .await
            .map_err(AppError::json)?;
        check(&session, [header_token(&parts.headers).as_deref()]).map_err(AppError::json)?;
        Ok(CsrfHeader)
    }
}

/// The request's session, read from the store first when it lives there.
async fn session_of(extensions: &axum::http::Extensions) -> Result<Session, AppError> {
    Session::load_from(extensions)
        .await
        .map_err(|rejection| match rejection {
            // The session layer replaces this answer with its own 503 page on the way out.
            SessionRejection::Unavailable(err) => AppError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "session_unavailable",
                err.to_string(),
            ),
            _ => AppError::internal(
                &"a CSRF check ran outside the session layer; is SessionLayer installed?",
            ),
        })
}

fn header_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Passes when any supplied token is the session's.
fn check<const N: usize>(session: &Session, supplied: [Option<&str>; N]) -> Result<(), AppError> {
    let ok = supplied
        .into_iter()
        .flatten()
        .any(|token| session.check_csrf_token(token));
    if ok {
        Ok(())
    } else {
        tracing::info!("csrf check failed");
        Err(AppError::csrf())
    }
}
