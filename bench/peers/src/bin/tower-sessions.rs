//! axum + tower-sessions with its `MemoryStore`: the cookie carries only a
//! session id, the counter lives in the server's memory (so its RSS grows with
//! the number of visitors, which is what `run.sh memory` shows).

use axum::{Router, http::StatusCode, response::Html, routing::get};
use sesi_bench_peers::{COUNTER, counter_page, listen_addr_or_exit, serve_axum};
use tower_sessions::{MemoryStore, Session, SessionManagerLayer};

async fn counter(session: Session) -> Result<Html<String>, (StatusCode, String)> {
    let internal = |e: tower_sessions::session::Error| {
        (StatusCode::INTERNAL_SERVER_ERROR, format!("session: {e}"))
    };
    let n = session
        .get::<u64>(COUNTER)
        .await
        .map_err(internal)?
        .unwrap_or(0)
        .saturating_add(1);
    session.insert(COUNTER, n).await.map_err(internal)?;
    Ok(Html(counter_page(n)))
}

fn main() -> std::io::Result<()> {
    sesi_bench_peers::run(sesi_bench_peers::Runtime::OneWorker, async {
        let addr = listen_addr_or_exit();
        // Plain HTTP on loopback, so the cookie must not be `Secure`.
        let sessions = SessionManagerLayer::new(MemoryStore::default()).with_secure(false);
        let app = Router::new().route("/", get(counter)).layer(sessions);
        serve_axum(addr, app).await
    })
}
