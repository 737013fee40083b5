//! actix-web 4 + actix-session with `CookieSessionStore`: the whole session
//! (a JSON map holding `counter`) lives in a signed cookie, like sesi's.

use actix_session::{
    Session, SessionMiddleware, config::CookieContentSecurity, storage::CookieSessionStore,
};
use actix_web::{App, HttpResponse, HttpServer, cookie::Key, error, http::header, web};
use sesi_bench_peers::{COUNTER, SECRET, counter_page, listen_addr_or_exit};

async fn counter(session: Session) -> actix_web::Result<HttpResponse> {
    let n = session
        .get::<u64>(COUNTER)
        .map_err(error::ErrorInternalServerError)?
        .unwrap_or(0)
        .saturating_add(1);
    session
        .insert(COUNTER, n)
        .map_err(error::ErrorInternalServerError)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .body(counter_page(n)))
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let addr = listen_addr_or_exit();
    let key = Key::from(SECRET);
    let server = HttpServer::new(move || {
        let sessions = SessionMiddleware::builder(CookieSessionStore::default(), key.clone())
            .cookie_content_security(CookieContentSecurity::Signed)
            .cookie_secure(false)
            .build();
        App::new().wrap(sessions).route("/", web::get().to(counter))
    })
    // One worker: run.sh pins the process to a single core.
    .workers(1)
    .bind(addr)?;
    eprintln!("listening on http://{addr}");
    server.run().await
}
