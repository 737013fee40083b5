//! axum + the sesi library signing with HMAC-SHA256 (Pyramid's `hashalg="sha256"`), the hash the
//! cookie-crate peers use (see `sesi_bench_peers::sesi_lib`).

use sesi::HashAlg;
use sesi_bench_peers::{listen_addr_or_exit, serve_axum, sesi_lib};

#[tokio::main(flavor = "multi_thread", worker_threads = 1)]
async fn main() -> std::io::Result<()> {
    serve_axum(
        listen_addr_or_exit(),
        sesi_lib::router_with(HashAlg::Sha256),
    )
    .await
}
