//! axum + the sesi library with `sesi_redis::RedisStore`, no locking.
//!
//! On tokio's current-thread runtime, as actix-web runs each worker. On the multi-thread runtime,
//! even with one worker, Redis received the commands one by one instead of in batches (its CPU
//! per request was four times higher), most likely because a woken task runs next there (the
//! "LIFO slot"): the connection's writer then flushes each command alone. docs/benchmarks.md
//! measures both.

use sesi_bench_peers::{listen_addr_or_exit, redis, serve_axum};

fn main() -> std::io::Result<()> {
    sesi_bench_peers::run(sesi_bench_peers::Runtime::CurrentThread, async {
        serve_axum(listen_addr_or_exit(), redis::sesi_router(false).await).await
    })
}
