//! The router: pages, forms and the JSON API, all on the same session cookie.

mod api;
mod cart;
mod cart_command;
mod counter;
mod csrf;
mod inspect;
mod page;
pub(crate) use inspect::utc_date;

use std::time::Instant;

use axum::Router;
use axum::extract::Request;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use sesi::{SessionLayer, SessionOutcome};

use crate::{error, headers};

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
        .route("/cart/remember", post(cart::remember))
        .route("/session", get(inspect::page))
        .route(
            "/session/decode",
            get(inspect::decode_form).post(inspect::decode),
        )
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
    headers::secure(res.headers_mut());
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
