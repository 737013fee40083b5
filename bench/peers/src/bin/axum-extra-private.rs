//! axum + axum-extra's `PrivateCookieJar` (see `sesi_bench_peers::axum_extra_private`).

use sesi_bench_peers::{axum_extra_private, listen_addr_or_exit, serve_axum};

fn main() -> std::io::Result<()> {
    sesi_bench_peers::run(sesi_bench_peers::Runtime::OneWorker, async {
        serve_axum(listen_addr_or_exit(), axum_extra_private::router()).await
    })
}
