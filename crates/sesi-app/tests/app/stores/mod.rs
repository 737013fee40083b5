//! Server-side stores with the real binary (SQL ones in `sql.rs`; the rest on Redis):
//! `sesi serve --store redis://...` processes sharing a
//! redis-server that each test starts on a free port of its own (no persistence), so it can stop
//! and restart it. A visitor's cookie jar is per host, not per port, so one visitor moved to
//! another server on 127.0.0.1 sends it the same cookie, as a real browser would.
//!
//! Without redis-server these tests fail where every test must run, and skip elsewhere (see
//! [`crate::support::skip`]).

mod bounds;
mod lazy;
mod locking;
mod outages;
mod shared;
mod sql;
mod storage;
mod topologies;

use crate::support::cookie::SECRET;
use crate::support::http::{Reply, Visitor};
use crate::support::process::SesiServer;

/// `sesi serve --store <store> <args>` signed with [`SECRET`].
fn serve(store: &str, args: &[&str]) -> SesiServer {
    let args = [&["--store", store], args].concat();
    SesiServer::serve(&[("SESI_SECRET", SECRET)], &args)
}

/// `GET path` with `cookie` as the session cookie, from a client with no jar (a copied cookie).
async fn replay(server: &SesiServer, path: &str, cookie: &str) -> Reply {
    Visitor::manual(&server.base)
        .get_with(path, &[("cookie", &format!("session={cookie}"))])
        .await
}

/// A reply like `:1234` as a number.
fn integer(reply: &str) -> i64 {
    reply
        .strip_prefix(':')
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("an integer reply: {reply}"))
}
