//! The ceiling of the stack: axum with no session layer and no crypto.
//!
//! It keeps the benchmark's observable contract with a plain, unsigned cookie
//! `counter=N` and answers `Set-Cookie: counter=N+1`, so every other peer is
//! measured against "the same HTTP work, minus the session".

use axum::{Router, http::HeaderMap, http::header, response::Html, routing::get};
use sesi_bench_peers::{COUNTER, counter_page, listen_addr_or_exit, serve_axum};

/// Reads `counter=N` from the request's `Cookie` headers; anything missing or
/// malformed counts as a new visitor.
fn counter_from(headers: &HeaderMap) -> u64 {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COUNTER)
        .and_then(|(_, value)| value.parse().ok())
        .unwrap_or(0)
}

async fn counter(headers: HeaderMap) -> ([(header::HeaderName, String); 1], Html<String>) {
    let n = counter_from(&headers).saturating_add(1);
    (
        [(header::SET_COOKIE, format!("{COUNTER}={n}; Path=/"))],
        Html(counter_page(n)),
    )
}

#[tokio::main(flavor = "multi_thread", worker_threads = 1)]
async fn main() -> std::io::Result<()> {
    let addr = listen_addr_or_exit();
    serve_axum(addr, Router::new().route("/", get(counter))).await
}
