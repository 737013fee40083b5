//! axum + the sesi library with `sesi_redis::RedisStore` and per-session locking.

use sesi_bench_peers::{listen_addr_or_exit, redis, serve_axum};

#[tokio::main(flavor = "multi_thread", worker_threads = 1)]
async fn main() -> std::io::Result<()> {
    serve_axum(listen_addr_or_exit(), redis::sesi_router(true).await).await
}
