//! The ceiling of the stack: axum with no session layer and no crypto (see `sesi_bench_peers::bare`).

use sesi_bench_peers::{bare, listen_addr_or_exit, serve_axum};

fn main() -> std::io::Result<()> {
    sesi_bench_peers::run(sesi_bench_peers::Runtime::OneWorker, async {
        serve_axum(listen_addr_or_exit(), bare::router()).await
    })
}
