//! `GET /`: the visit counter; `POST /session/reset`.

use askama::Template;
use axum::http::{HeaderMap, Uri};
use axum::response::{Html, Redirect};
use sesi::Session;
use sesi::core::SessionError;

use super::csrf::{CsrfForm, NoFields};
use super::page::{Chrome, render};
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
/// full for one more digit is a 422 that says so (the library would otherwise answer its 500 at
/// the end of the request); the session is left as it was.
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
                .map_err(AppError::from)
        }
        Err(err) => Err(err.into()),
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

/// Ends the session: the cookie is removed from the browser.
pub(crate) async fn reset(
    session: Session,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> Result<Redirect, AppError> {
    session.invalidate();
    Ok(Redirect::to("/"))
}
