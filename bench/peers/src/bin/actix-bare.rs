//! actix-web 4 with no session middleware and no crypto: the same plain `counter=N` cookie as
//! `bare`, so the actix peers' session cost can be told apart from actix-web's own per-request
//! cost (which differs from axum's).

use actix_web::{App, HttpServer, web};
use sesi_bench_peers::{actix, listen_addr_or_exit};

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let addr = listen_addr_or_exit();
    let server = HttpServer::new(|| App::new().route("/", web::get().to(actix::bare_counter)))
        // One worker: run.sh pins the process to a single core.
        .workers(sesi_bench_peers::actix_workers())
        .bind(addr)?;
    eprintln!("listening on http://{addr}");
    server.run().await
}
