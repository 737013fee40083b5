//! actix-web 4 + actix-session with its redis-rs `RedisSessionStore`.

use actix_web::{App, HttpServer, web};
use sesi_bench_peers::{actix, listen_addr_or_exit};

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let addr = listen_addr_or_exit();
    let store = actix::redis_store().await;
    let server = HttpServer::new(move || {
        App::new()
            .wrap(actix::redis_sessions(store.clone()))
            .route("/", web::get().to(actix::session_counter))
    })
    // One worker: run.sh pins the process to a single core.
    .workers(sesi_bench_peers::actix_workers())
    .bind(addr)?;
    eprintln!("listening on http://{addr}");
    server.run().await
}
