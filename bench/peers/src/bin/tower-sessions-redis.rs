//! axum + tower-sessions 0.14 with tower-sessions-redis-store 0.16.

use sesi_bench_peers::{listen_addr_or_exit, redis, serve_axum};

#[tokio::main(flavor = "multi_thread", worker_threads = 1)]
async fn main() -> std::io::Result<()> {
    serve_axum(listen_addr_or_exit(), redis::tower_sessions_router().await).await
}
