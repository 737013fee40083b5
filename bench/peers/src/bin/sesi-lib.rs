//! axum + the sesi library (see `sesi_bench_peers::sesi_lib`).

use sesi_bench_peers::{listen_addr_or_exit, serve_axum, sesi_lib};

#[tokio::main(flavor = "multi_thread", worker_threads = 1)]
async fn main() -> std::io::Result<()> {
    serve_axum(listen_addr_or_exit(), sesi_lib::router()).await
}
