//! Negative control for `run.sh smoke`: a server that gets the contract wrong.
//!
//! It ignores the visitor's cookie and always answers counter 1 (while still
//! setting a cookie), as a session layer that never reads its cookie back
//! would. The load generator must report `count` errors against it; if it
//! does not, its checks are broken and the smoke run fails.

use axum::{Router, http::header, response::Html, routing::get};
use sesi_bench_peers::{COUNTER, counter_page, listen_addr_or_exit, serve_axum};

async fn counter() -> ([(header::HeaderName, String); 1], Html<String>) {
    (
        [(header::SET_COOKIE, format!("{COUNTER}=1; Path=/"))],
        Html(counter_page(1)),
    )
}

fn main() -> std::io::Result<()> {
    sesi_bench_peers::run(sesi_bench_peers::Runtime::OneWorker, async {
        let addr = listen_addr_or_exit();
        serve_axum(addr, Router::new().route("/", get(counter))).await
    })
}
