//! axum + axum-extra's `PrivateCookieJar` (see `sesi_bench_peers::axum_extra_private`).

use sesi_bench_peers::{axum_extra_private, listen_addr_or_exit, serve_axum};

#[tokio::main(flavor = "multi_thread", worker_threads = 1)]
async fn main() -> std::io::Result<()> {
    serve_axum(listen_addr_or_exit(), axum_extra_private::router()).await
}
