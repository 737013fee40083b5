//! Drives a peer's router in-process (no sockets) for a fixed number of requests, like one
//! browser that always sends back its latest cookie, and prints the time per request. Made for
//! profilers: `valgrind --tool=callgrind inproc sesi-lib 20000` counts the instructions the
//! session layer adds to a request, free of network and scheduler noise.
//!
//! Usage: `inproc bare|sesi-lib|sesi-lib-sha256|sesi-lib-nacl|axum-extra-private|sesi-app
//! [REQUESTS]` (`inproc-actix` does the same for the actix-web peers). `sesi-app` is the tutorial
//! app's router (`sesi_app::app`) on its defaults, its counter page at `/`: the page `sesi serve`
//! serves, without the sockets and without a log subscriber.

use std::time::Instant;

use axum::body::Body;
use axum::http::{Request, header};
use sesi_bench_peers::{axum_extra_private, bare, sesi_lib};
use tower::ServiceExt;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let peer = args.next().unwrap_or_else(|| "sesi-lib".to_owned());
    let requests: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(20_000);
    let router = match peer.as_str() {
        "bare" => bare::router(),
        "sesi-lib" => sesi_lib::router(),
        "sesi-lib-sha256" => sesi_lib::router_with(sesi::HashAlg::Sha256),
        "sesi-lib-nacl" => sesi_lib::router_nacl(),
        "axum-extra-private" => axum_extra_private::router(),
        "sesi-app" => {
            let secret = sesi::Secret::from_bytes(sesi_bench_peers::SECRET.to_vec())
                .expect("the bench secret is 64 bytes");
            sesi_app::app(&sesi_app::Settings::new(sesi::Secrets::new(secret)))
                .expect("the app's default settings are valid")
        }
        other => {
            eprintln!(
                "unknown peer {other:?}: use bare, sesi-lib, sesi-lib-sha256, sesi-lib-nacl, \
                 axum-extra-private or sesi-app"
            );
            std::process::exit(2);
        }
    };
    let mut cookie: Option<String> = None;
    let start = Instant::now();
    for i in 1..=requests {
        let mut req = Request::get("/");
        if let Some(cookie) = &cookie {
            req = req.header(header::COOKIE, cookie.as_str());
        }
        let req = req.body(Body::empty()).expect("valid request");
        let res = router
            .clone()
            .oneshot(req)
            .await
            .expect("infallible router");
        if let Some(set) = res.headers().get(header::SET_COOKIE) {
            let set = set.to_str().expect("ascii cookie");
            cookie = Some(set.split(';').next().unwrap_or_default().to_owned());
        }
        let body = axum::body::to_bytes(res.into_body(), 1 << 16)
            .await
            .expect("small body");
        // `str::contains` (two-way search): a byte-by-byte window scan of the app's 4 KB page
        // cost some 15 000 instructions a request, which profiles then showed as the app's.
        let want = format!("id=\"counter\">{i}<");
        assert!(
            std::str::from_utf8(&body).is_ok_and(|page| page.contains(&want)),
            "request {i}: counter not {i}"
        );
    }
    let per = start.elapsed().as_secs_f64() * 1e9 / requests as f64;
    println!("{peer}: {requests} requests, {per:.0} ns per request");
}
