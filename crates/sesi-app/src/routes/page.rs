//! What every page shares: the language, the flash messages shown once, and rendering.

use askama::Template;
use axum::http::{HeaderMap, Uri};
use axum::response::Html;
use sesi::Session;

use crate::error::AppError;
use crate::i18n::{Lang, Texts};

/// The value of `?lang=` (no decoding needed: the only valid values are `en` and `id`).
pub(crate) fn lang_param(uri: &Uri) -> Option<&str> {
    uri.query()?
        .split('&')
        .find_map(|pair| pair.strip_prefix("lang="))
}

/// Fields every page's base template shows.
pub(crate) struct Chrome {
    pub t: &'static Texts,
    pub flashes: Vec<String>,
    pub errors: Vec<String>,
}

impl Chrome {
    /// Resolves the language and, when `pop` is set, takes the flash messages (shown exactly once).
    pub(crate) fn new(session: &Session, uri: &Uri, headers: &HeaderMap, pop: bool) -> Self {
        let lang = Lang::resolve(session, lang_param(uri), headers);
        let (flashes, errors) = if pop {
            (pop_texts(session, ""), pop_texts(session, "error"))
        } else {
            (Vec::new(), Vec::new())
        };
        Chrome {
            t: lang.texts(),
            flashes,
            errors,
        }
    }
}

fn pop_texts(session: &Session, queue: &str) -> Vec<String> {
    match session.pop_flash::<serde_json::Value>(queue) {
        Ok(items) => items
            .into_iter()
            .map(|v| match v {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            })
            .collect(),
        Err(err) => {
            tracing::warn!(%err, "unreadable flash queue dropped");
            Vec::new()
        }
    }
}

/// Renders a template, turning a render failure into a 500 page.
pub(crate) fn render<T: Template>(template: &T) -> Result<Html<String>, AppError> {
    template
        .render()
        .map(Html)
        .map_err(|err| AppError::internal(&err))
}
