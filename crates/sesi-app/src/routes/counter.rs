//! `GET /`: the visit counter; `POST /session/reset`.

use askama::Template;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::http::{HeaderMap, Uri};
use axum::response::{Html, Redirect};
use serde::Deserialize;
use sesi::Session;
use sesi::core::SessionError;

use super::{Chrome, check_csrf, render, session_error};
use crate::error::AppError;
use crate::i18n::Texts;

/// Session key of the visit counter.
pub const COUNTER_KEY: &str = "counter";

#[derive(Template)]
#[template(path = "counter.html")]
struct CounterPage {
    t: &'static Texts,
    flashes: Vec<String>,
    errors: Vec<String>,
    counter: i64,
    csrf_token: String,
}

/// Adds one to the visit counter. A counter that is not an integer (only a signed cookie from an
/// older app could hold one) starts again at 1 rather than failing the page. A cookie session too
/// full for one more digit is a 422 that says so (the library would otherwise answer a plain 500
/// at the end of the request); the session is left as it was.
pub(crate) fn increment(session: &Session) -> Result<i64, AppError> {
    let bump = |n: &mut i64| {
        *n = n.saturating_add(1);
        *n
    };
    match session.try_update(COUNTER_KEY, bump) {
        Ok(n) => Ok(n),
        Err(err @ SessionError::Deserialize { .. }) => {
            tracing::warn!(%err, "counter is not an integer; starting again at 1");
            session
                .try_insert(COUNTER_KEY, &1)
                .map(|()| 1)
                .map_err(session_error)
        }
        Err(err) => Err(session_error(err)),
    }
}

pub(crate) async fn page(
    session: Session,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Html<String>, AppError> {
    let chrome = Chrome::new(&session, &uri, &headers, true);
    let counter = increment(&session)?;
    render(&CounterPage {
        t: chrome.t,
        flashes: chrome.flashes,
        errors: chrome.errors,
        counter,
        csrf_token: session.get_csrf_token(),
    })
}

#[derive(Deserialize)]
pub(crate) struct ResetForm {
    csrf_token: Option<String>,
}

/// Ends the session: the cookie is removed from the browser.
pub(crate) async fn reset(
    session: Session,
    headers: HeaderMap,
    form: Result<Form<ResetForm>, FormRejection>,
) -> Result<Redirect, AppError> {
    let Form(form) = form.map_err(|e| AppError::bad_request(e.body_text()))?;
    check_csrf(&session, &headers, form.csrf_token.as_deref())?;
    session.invalidate();
    Ok(Redirect::to("/"))
}
