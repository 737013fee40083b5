//! The router: pages, forms and the JSON API, all on the same session cookie.

mod api;
mod cart;
mod counter;
mod inspect;
pub(crate) use inspect::utc_date;

use std::time::Instant;

use askama::Template;
use axum::Router;
use axum::extract::Request;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, Uri};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use sesi::{Session, SessionLayer, SessionOutcome};

use crate::error::{self, AppError};
use crate::i18n::{Lang, Texts};

/// What every handler can reach.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The session layer, for the inspector (its engine decodes pasted cookies; its preview shows
    /// the response's own Set-Cookie).
    pub layer: SessionLayer,
}

/// The whole app on one session layer.
pub fn router(layer: SessionLayer) -> Router {
    let state = AppState {
        layer: layer.clone(),
    };
    let with_session = Router::new()
        .route("/", get(counter::page))
        .route("/session/reset", post(counter::reset))
        .route("/cart", get(cart::page))
        .route("/cart/add", post(cart::add))
        .route("/cart/update", post(cart::update))
        .route("/cart/remove", post(cart::remove))
        .route("/cart/empty", post(cart::empty))
        .route("/session", get(inspect::page))
        .route("/session/decode", get(inspect::decode))
        .route("/api/session", get(api::session))
        .route("/api/counter", post(api::counter))
        .route("/api/products", get(api::products))
        .route("/api/cart", get(api::cart).delete(api::empty_cart))
        .route("/api/cart/items", post(api::add_item))
        .route(
            "/api/cart/items/{id}",
            axum::routing::patch(api::set_quantity).delete(api::remove_item),
        )
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .with_state(state)
        .layer(middleware::from_fn(security_headers))
        .layer(layer);
    // Routes that never use the session sit outside the session layer: with a store they then
    // cost no store round trip and never wait for a session lock.
    let without_session = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/static/style.css", get(stylesheet))
        .layer(middleware::from_fn(security_headers));
    without_session
        .merge(with_session)
        .layer(middleware::from_fn(log_request))
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, "text/css; charset=utf-8"),
            (CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/style.css"),
    )
}

/// Pages are never cached (they show a personal session), and no script may run.
async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let headers = res.headers_mut();
    headers
        .entry(CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; script-src 'none'; frame-ancestors 'none'"),
    );
    res
}

/// One log line per request: method, path, status, latency and what happened to the session.
async fn log_request(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let res = next.run(req).await;
    let (status, action) = res
        .extensions()
        .get::<SessionOutcome>()
        .map_or(("-", "none"), |o| {
            (
                o.status.as_ref().map_or("untouched", |s| s.name()),
                o.action.name(),
            )
        });
    tracing::info!(
        %method,
        path,
        status = res.status().as_u16(),
        latency_us = start.elapsed().as_micros() as u64,
        session = status,
        cookie = action,
        "request"
    );
    res
}

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

/// A session that would outgrow its cookie: 422 with the size and the limit, for pages and the
/// API alike.
pub(crate) fn too_large(bytes: usize) -> AppError {
    AppError::unprocessable(
        "session_too_large",
        format!(
            "the session would be {bytes} bytes, more than a cookie can hold ({}); the change \
             was not saved",
            sesi::MAX_COOKIE_SIZE
        ),
    )
}

/// A session write that failed: too large (422, see [`too_large`]) or anything else (500).
pub(crate) fn session_error(err: sesi::core::SessionError) -> AppError {
    match err {
        sesi::core::SessionError::TooLarge { bytes, .. } => too_large(bytes),
        other => AppError::internal(&other),
    }
}

/// Pyramid's `check_csrf_token`: the token may come in the `X-CSRF-Token` header or the form field
/// `csrf_token`; never from the query string.
pub(crate) fn check_csrf(
    session: &Session,
    headers: &HeaderMap,
    field: Option<&str>,
) -> Result<(), AppError> {
    let header = headers.get("x-csrf-token").and_then(|v| v.to_str().ok());
    let ok = [header, field]
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
