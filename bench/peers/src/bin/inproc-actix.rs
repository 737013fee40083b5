//! `inproc` for the actix-web peers: drives the app in-process through `actix_web::test` (no
//! sockets) for a fixed number of requests, one browser sending back its latest cookie, checking
//! every counter. Made for `valgrind --tool=callgrind`, which counts instructions where the timing
//! of a shared machine is too noisy (bench/callgrind.sh).
//!
//! Usage: `inproc-actix actix-bare|actix-session|actix-session-private [REQUESTS]`

use std::time::Instant;

use actix_session::config::CookieContentSecurity;
use actix_web::http::header;
use actix_web::{App, test, web};
use sesi_bench_peers::actix;

#[actix_web::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let peer = args
        .next()
        .unwrap_or_else(|| "actix-session-private".to_owned());
    let requests: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(20_000);
    let security = match peer.as_str() {
        "actix-bare" => None,
        "actix-session" => Some(CookieContentSecurity::Signed),
        "actix-session-private" => Some(CookieContentSecurity::Private),
        other => {
            eprintln!(
                "unknown peer {other:?}: use actix-bare, actix-session or actix-session-private"
            );
            std::process::exit(2);
        }
    };
    let start = Instant::now();
    match security {
        None => {
            let app =
                test::init_service(App::new().route("/", web::get().to(actix::bare_counter))).await;
            drive(&app, requests).await;
        }
        Some(security) => {
            let app = test::init_service(
                App::new()
                    .wrap(actix::sessions(security))
                    .route("/", web::get().to(actix::session_counter)),
            )
            .await;
            drive(&app, requests).await;
        }
    }
    let per = start.elapsed().as_secs_f64() * 1e9 / requests as f64;
    println!("{peer}: {requests} requests, {per:.0} ns per request");
}

async fn drive<S, B>(app: &S, requests: u64)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let mut cookie: Option<String> = None;
    for i in 1..=requests {
        let mut req = test::TestRequest::get().uri("/");
        if let Some(cookie) = &cookie {
            req = req.insert_header((header::COOKIE, cookie.as_str()));
        }
        let res = test::call_service(app, req.to_request()).await;
        if let Some(set) = res.headers().get(header::SET_COOKIE) {
            let set = set.to_str().expect("ascii cookie");
            cookie = Some(set.split(';').next().unwrap_or_default().to_owned());
        }
        let body = test::read_body(res).await;
        let want = format!("id=\"counter\">{i}<");
        assert!(
            body.windows(want.len()).any(|w| w == want.as_bytes()),
            "request {i}: counter not {i}"
        );
    }
}
