//! axum + the sesi library (see `sesi_bench_peers::sesi_lib`).

use sesi_bench_peers::{listen_addr_or_exit, serve_axum, sesi_lib};

fn main() -> std::io::Result<()> {
    sesi_bench_peers::run(sesi_bench_peers::Runtime::OneWorker, async {
        serve_axum(listen_addr_or_exit(), sesi_lib::router()).await
    })
}
