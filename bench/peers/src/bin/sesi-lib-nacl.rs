//! axum + the sesi library with pyramid_nacl_session's encrypted format (XSalsa20-Poly1305), the
//! peer of the private-cookie stacks (see `sesi_bench_peers::sesi_lib`).

use sesi_bench_peers::{listen_addr_or_exit, serve_axum, sesi_lib};

fn main() -> std::io::Result<()> {
    sesi_bench_peers::run(sesi_bench_peers::Runtime::OneWorker, async {
        serve_axum(listen_addr_or_exit(), sesi_lib::router_nacl()).await
    })
}
