//! Shared pieces of the peer servers that sesi is benchmarked against.
//!
//! Every peer serves `GET /` with the same observable contract, so one load
//! generator can drive and check all of them:
//!
//! 1. read the visitor's state (a cookie, or a session behind a cookie),
//! 2. increment the integer `counter` (a new visitor starts at 0, so the first
//!    response shows 1),
//! 3. write it back (a fresh `Set-Cookie` on every response),
//! 4. answer with [`counter_page`], which contains `<span id="counter">N</span>`.
//!
//! Each peer is one binary in `src/bin/`, takes `--addr 127.0.0.1:PORT` and runs
//! on a single worker thread: `bench/run.sh` pins it to one core. With
//! `BENCH_RUNTIME=default` each runs as users run it instead (see [`Runtime`]).

use std::future::Future;
use std::net::SocketAddr;

/// The runtime a peer declares for the pinned runs; `BENCH_RUNTIME=default` replaces it with
/// what an app gets from `#[tokio::main]` (or actix-web's default workers): a multi-thread
/// runtime with a worker per core the process may run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    /// tokio's multi-thread scheduler with one worker.
    OneWorker,
    /// tokio's current-thread scheduler (as actix-web runs each worker).
    CurrentThread,
}

/// True when `BENCH_RUNTIME=default`: every peer on its framework's default runtime.
#[must_use]
pub fn default_runtime() -> bool {
    std::env::var("BENCH_RUNTIME").is_ok_and(|v| v == "default")
}

/// Runs `main` on `declared`, or on tokio's default multi-thread runtime when
/// [`default_runtime`].
///
/// # Errors
/// When the runtime cannot be built, or `main` fails.
pub fn run<F>(declared: Runtime, main: F) -> std::io::Result<()>
where
    F: Future<Output = std::io::Result<()>>,
{
    let runtime = if default_runtime() {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
    } else {
        match declared {
            Runtime::OneWorker => tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()?,
            Runtime::CurrentThread => tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?,
        }
    };
    runtime.block_on(main)
}

/// actix-web workers: one for the pinned runs, actix-web's default (one per core the process
/// may run on) when [`default_runtime`].
#[must_use]
pub fn actix_workers() -> usize {
    if default_runtime() {
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
    } else {
        1
    }
}

/// The signing key every signed-cookie peer uses (64 bytes, as `cookie::Key`
/// requires). A fixed key keeps runs reproducible; it signs nothing real.
pub const SECRET: &[u8; 64] = b"sesi-bench-secret-0123456789abcdef-not-a-real-secret-0123456789a";

/// The name of the session value (and, for the cookie-only peers, the cookie).
pub const COUNTER: &str = "counter";

/// The HTML page every peer answers with; the load generator looks for
/// `id="counter">N<` in it.
#[must_use]
pub fn counter_page(n: u64) -> String {
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>counter</title></head>\n\
         <body><p>You have visited this page <span id=\"counter\">{n}</span> times.</p></body></html>\n"
    )
}

/// Parses the listen address from the command line: `--addr 127.0.0.1:PORT`,
/// `--addr=127.0.0.1:PORT` or the address alone as the first argument.
///
/// Only loopback addresses with an explicit, non-zero port are accepted: the
/// benchmark never listens beyond this machine, and `run.sh` must know the
/// port before the server starts.
///
/// # Errors
///
/// Returns a message naming the fix when the argument is missing or invalid.
pub fn listen_addr(args: impl IntoIterator<Item = String>) -> Result<SocketAddr, String> {
    const USAGE: &str = "usage: PEER --addr 127.0.0.1:PORT";
    let mut args = args.into_iter();
    let raw = match args.next() {
        Some(flag) if flag == "--addr" => args
            .next()
            .ok_or_else(|| format!("--addr needs a value; {USAGE}"))?,
        Some(flag) if flag.starts_with("--addr=") => flag["--addr=".len()..].to_owned(),
        Some(flag) if flag == "-h" || flag == "--help" => return Err(USAGE.to_owned()),
        Some(addr) => addr,
        None => return Err(format!("missing listen address; {USAGE}")),
    };
    if let Some(extra) = args.next() {
        return Err(format!("unexpected argument {extra:?}; {USAGE}"));
    }
    let addr: SocketAddr = raw
        .parse()
        .map_err(|e| format!("invalid address {raw:?}: {e}; {USAGE}"))?;
    if !addr.ip().is_loopback() {
        return Err(format!(
            "refusing to listen on {addr}: the benchmark only uses loopback addresses"
        ));
    }
    if addr.port() == 0 {
        return Err(format!(
            "refusing port 0 in {addr}: give the port run.sh will connect to"
        ));
    }
    Ok(addr)
}

/// [`listen_addr`] over the process arguments; prints the error and exits with
/// status 2 when they are wrong.
#[must_use]
pub fn listen_addr_or_exit() -> SocketAddr {
    match listen_addr(std::env::args().skip(1)) {
        Ok(addr) => addr,
        Err(msg) => {
            eprintln!("{msg}");
            std::process::exit(2);
        }
    }
}

/// The `bare` peer: axum with no session layer and no crypto. It keeps the observable contract
/// with a plain, unsigned cookie `counter=N` and answers `Set-Cookie: counter=N+1`, so every other
/// peer is measured against "the same HTTP work, minus the session".
pub mod bare {
    use axum::{Router, http::HeaderMap, http::header, response::Html, routing::get};

    use super::{COUNTER, counter_page};

    /// Reads `counter=N` from the request's `Cookie` headers; anything missing or malformed
    /// counts as a new visitor.
    fn counter_from(headers: &HeaderMap) -> u64 {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == COUNTER)
            .and_then(|(_, value)| value.parse().ok())
            .unwrap_or(0)
    }

    async fn counter(headers: HeaderMap) -> ([(header::HeaderName, String); 1], Html<String>) {
        let n = counter_from(&headers).saturating_add(1);
        (
            [(header::SET_COOKIE, format!("{COUNTER}={n}; Path=/"))],
            Html(counter_page(n)),
        )
    }

    /// The router.
    pub fn router() -> Router {
        Router::new().route("/", get(counter))
    }
}

/// The `sesi-lib` peers: axum + the sesi library; the counter lives in a Pyramid-format signed
/// cookie (HMAC-SHA512, or SHA-256), or a pyramid_nacl_session encrypted one (`sesi-lib-nacl`),
/// read and written through the `Session` extractor.
pub mod sesi_lib {
    use axum::{Router, response::Html, routing::get};
    use sesi::core::{DEFAULT_SALT, NaclKey, PyramidNaclFormat};
    use sesi::{HashAlg, PyramidFormat, Secret, Secrets, Session, SessionLayer};

    use super::{COUNTER, SECRET, counter_page};

    /// The counter page (shared with the Redis-backed sesi peers).
    pub(crate) async fn counter(session: Session) -> Html<String> {
        // A missing, tampered or expired cookie reads as a new visitor.
        let n = session
            .update(COUNTER, |n: &mut u64| {
                *n = n.saturating_add(1);
                *n
            })
            .unwrap_or(0);
        Html(counter_page(n))
    }

    /// The router with its session layer (Pyramid's defaults: HMAC-SHA512).
    pub fn router() -> Router {
        router_with(HashAlg::Sha512)
    }

    /// The router signing with `hashalg` (Pyramid's `hashalg` setting).
    pub fn router_with(hashalg: HashAlg) -> Router {
        let secret = Secret::from_bytes(SECRET.to_vec()).expect("the bench secret is 64 bytes");
        let format = PyramidFormat::new(&Secrets::new(secret), DEFAULT_SALT, hashalg);
        Router::new()
            .route("/", get(counter))
            .layer(SessionLayer::new(format))
    }

    /// The router encrypting with pyramid_nacl_session's format (XSalsa20-Poly1305), its key the
    /// first 32 bytes of the bench secret.
    pub fn router_nacl() -> Router {
        let mut key = [0u8; 32];
        key.copy_from_slice(&SECRET[..32]);
        let format = PyramidNaclFormat::new(NaclKey::from_bytes(key));
        Router::new()
            .route("/", get(counter))
            .layer(SessionLayer::new(format))
    }
}

/// The `axum-extra-private` peer: axum + axum-extra's `PrivateCookieJar`; the counter lives in
/// an encrypted cookie named `counter` (AES-256-GCM via the `cookie` crate).
pub mod axum_extra_private {
    use axum::{Router, extract::FromRef, response::Html, routing::get};
    use axum_extra::extract::cookie::{Cookie, Key, PrivateCookieJar};

    use super::{COUNTER, SECRET, counter_page};

    #[derive(Clone)]
    struct AppState {
        key: Key,
    }

    impl FromRef<AppState> for Key {
        fn from_ref(state: &AppState) -> Self {
            state.key.clone()
        }
    }

    async fn counter(jar: PrivateCookieJar) -> (PrivateCookieJar, Html<String>) {
        // A missing, foreign or tampered cookie reads as a new visitor.
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

    /// The router.
    pub fn router() -> Router {
        let state = AppState {
            key: Key::from(SECRET),
        };
        Router::new().route("/", get(counter)).with_state(state)
    }
}

/// The actix-web peers' handlers and session middleware, shared by their servers and the
/// in-process driver `inproc-actix`.
pub mod actix {
    use actix_session::config::CookieContentSecurity;
    use actix_session::{Session, SessionMiddleware, storage::CookieSessionStore};
    use actix_web::cookie::Key;
    use actix_web::{HttpRequest, HttpResponse, error, http::header};

    use super::{COUNTER, SECRET, counter_page};

    /// `actix-bare`: the plain `counter=N` cookie, no session middleware, no crypto.
    pub async fn bare_counter(req: HttpRequest) -> HttpResponse {
        let n = req
            .cookie(COUNTER)
            .and_then(|cookie| cookie.value().parse::<u64>().ok())
            .unwrap_or(0)
            .saturating_add(1);
        HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
            .insert_header((header::SET_COOKIE, format!("{COUNTER}={n}; Path=/")))
            .body(counter_page(n))
    }

    /// The session peers' page: `counter` in actix-session.
    ///
    /// # Errors
    /// When the session cannot be read or written.
    pub async fn session_counter(session: Session) -> actix_web::Result<HttpResponse> {
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

    /// `RedisSessionStore` (redis-rs) at `BENCH_REDIS_URL`, connected once and cloned into
    /// each worker's middleware ([`redis_sessions`]).
    ///
    /// # Panics
    /// When Redis cannot be reached at startup.
    pub async fn redis_store() -> actix_session::storage::RedisSessionStore {
        actix_session::storage::RedisSessionStore::new(super::redis::url())
            .await
            .expect("Redis reachable at BENCH_REDIS_URL")
    }

    /// The session in Redis, its key in a signed cookie.
    #[must_use]
    pub fn redis_sessions(
        store: actix_session::storage::RedisSessionStore,
    ) -> SessionMiddleware<actix_session::storage::RedisSessionStore> {
        SessionMiddleware::builder(store, Key::from(SECRET))
            .cookie_secure(false)
            .build()
    }

    /// `CookieSessionStore` with signed or private (encrypted) cookies.
    #[must_use]
    pub fn sessions(security: CookieContentSecurity) -> SessionMiddleware<CookieSessionStore> {
        SessionMiddleware::builder(CookieSessionStore::default(), Key::from(SECRET))
            .cookie_content_security(security)
            .cookie_secure(false)
            .build()
    }
}

pub mod redis;

/// Serves an axum router on `addr` until the process is killed.
///
/// # Errors
///
/// Fails when the address cannot be bound or the accept loop fails.
pub async fn serve_axum(addr: SocketAddr, app: axum::Router) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    eprintln!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn addr_flag_forms_are_accepted() {
        let want: SocketAddr = "127.0.0.1:8080".parse().expect("literal address");
        assert_eq!(listen_addr(args(&["--addr", "127.0.0.1:8080"])), Ok(want));
        assert_eq!(listen_addr(args(&["--addr=127.0.0.1:8080"])), Ok(want));
        assert_eq!(listen_addr(args(&["127.0.0.1:8080"])), Ok(want));
    }

    #[test]
    fn non_loopback_port_zero_and_missing_addr_are_refused() {
        assert!(listen_addr(args(&["--addr", "0.0.0.0:8080"])).is_err());
        assert!(listen_addr(args(&["--addr", "127.0.0.1:0"])).is_err());
        assert!(listen_addr(args(&["--addr"])).is_err());
        assert!(listen_addr(args(&[])).is_err());
        assert!(listen_addr(args(&["127.0.0.1:1", "extra"])).is_err());
    }

    #[test]
    fn page_carries_the_counter_marker() {
        assert!(counter_page(42).contains("<span id=\"counter\">42</span>"));
    }
}
