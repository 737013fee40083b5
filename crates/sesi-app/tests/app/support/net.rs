//! Ports on 127.0.0.1, for the programs that must be told one (redis-server, chromedriver).
//! `sesi serve` is not among them: it binds port 0 and says which port it got.

use std::net::TcpListener;

/// A port on 127.0.0.1 that was free a moment ago: the OS picks it, and it is released for the
/// caller to hand to a program, which may (rarely) find it taken by then.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("the OS hands out a free port on 127.0.0.1")
        .port()
}
