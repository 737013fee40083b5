//! actix-web 4 + actix-session with `CookieSessionStore`: the whole session (a JSON map holding
//! `counter`) lives in a signed cookie, like sesi's.

use actix_session::config::CookieContentSecurity;
use actix_web::{App, HttpServer, web};
use sesi_bench_peers::{actix, listen_addr_or_exit};

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let addr = listen_addr_or_exit();
    let server = HttpServer::new(move || {
        App::new()
            .wrap(actix::sessions(CookieContentSecurity::Signed))
            .route("/", web::get().to(actix::session_counter))
    })
    // One worker: run.sh pins the process to a single core.
    .workers(sesi_bench_peers::actix_workers())
    .bind(addr)?;
    eprintln!("listening on http://{addr}");
    server.run().await
}
