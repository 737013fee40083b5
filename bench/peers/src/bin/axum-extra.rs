//! axum + axum-extra's `SignedCookieJar`: the counter lives in a signed cookie
//! named `counter` (HMAC-SHA256 via the `cookie` crate).

use axum::{Router, extract::FromRef, response::Html, routing::get};
use axum_extra::extract::cookie::{Cookie, Key, SignedCookieJar};
use sesi_bench_peers::{COUNTER, SECRET, counter_page, listen_addr_or_exit, serve_axum};

#[derive(Clone)]
struct AppState {
    key: Key,
}

impl FromRef<AppState> for Key {
    fn from_ref(state: &AppState) -> Self {
        state.key.clone()
    }
}

async fn counter(jar: SignedCookieJar) -> (SignedCookieJar, Html<String>) {
    // A missing, unsigned or tampered cookie reads as a new visitor.
    let n = jar
        .get(COUNTER)
        .and_then(|cookie| cookie.value().parse::<u64>().ok())
        .unwrap_or(0)
        .saturating_add(1);
    let cookie = Cookie::build((COUNTER, n.to_string()))
        .path("/")
        .http_only(true);
    (jar.add(cookie), Html(counter_page(n)))
}

fn main() -> std::io::Result<()> {
    sesi_bench_peers::run(sesi_bench_peers::Runtime::OneWorker, async {
        let addr = listen_addr_or_exit();
        let state = AppState {
            key: Key::from(SECRET),
        };
        let app = Router::new().route("/", get(counter)).with_state(state);
        serve_axum(addr, app).await
    })
}
