//! axum + the sesi library: the counter lives in a Pyramid-format signed cookie (HMAC-SHA512),
//! read and written through the `Session` extractor.

use axum::{Router, response::Html, routing::get};
use sesi::{Secret, Secrets, Session, SessionLayer};
use sesi_bench_peers::{COUNTER, SECRET, counter_page, listen_addr_or_exit, serve_axum};

async fn counter(session: Session) -> Html<String> {
    // A missing, tampered or expired cookie reads as a new visitor.
    let n = session
        .update(COUNTER, |n: &mut u64| {
            *n = n.saturating_add(1);
            *n
        })
        .unwrap_or(0);
    Html(counter_page(n))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 1)]
async fn main() -> std::io::Result<()> {
    let addr = listen_addr_or_exit();
    let secret = Secret::from_bytes(SECRET.to_vec()).expect("the bench secret is 64 bytes");
    let layer = SessionLayer::new(Secrets::new(secret)).expect("default settings are valid");
    let app = Router::new().route("/", get(counter)).layer(layer);
    serve_axum(addr, app).await
}
