//! The ceiling of the stack: axum with no session layer and no crypto (see `sesi_bench_peers::bare`).

use sesi_bench_peers::{bare, listen_addr_or_exit, serve_axum};

#[tokio::main(flavor = "multi_thread", worker_threads = 1)]
async fn main() -> std::io::Result<()> {
    serve_axum(listen_addr_or_exit(), bare::router()).await
}
