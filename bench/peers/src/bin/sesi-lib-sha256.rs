//! axum + the sesi library signing with HMAC-SHA256 (Pyramid's `hashalg="sha256"`), the hash the
//! cookie-crate peers use (see `sesi_bench_peers::sesi_lib`).

use sesi::HashAlg;
use sesi_bench_peers::{listen_addr_or_exit, serve_axum, sesi_lib};

fn main() -> std::io::Result<()> {
    sesi_bench_peers::run(sesi_bench_peers::Runtime::OneWorker, async {
        serve_axum(
            listen_addr_or_exit(),
            sesi_lib::router_with(HashAlg::Sha256),
        )
        .await
    })
}
