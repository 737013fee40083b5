//! Ports on 127.0.0.1, for the programs that must be told one (redis-server, chromedriver).
//! `sesi serve` is not among them: it binds port 0 and says which port it got.

use std::net::TcpStream;
use std::process::Child;
use std::time::{Duration, Instant};

/// A port on 127.0.0.1 that was free a moment ago, as every sesi test suite picks one.
pub use sesi_testkit::free_port;

/// Polls until `127.0.0.1:port` accepts connections; panics after `timeout`, or as soon as
/// `child`, which should listen there, has exited.
pub fn wait_for_port(what: &str, port: u16, timeout: Duration, child: &mut Child) {
    let start = Instant::now();
    loop {
        if TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200))
            .is_ok()
        {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited with {status} before listening on port {port}");
        }
        assert!(
            start.elapsed() < timeout,
            "{what} did not listen on port {port} within {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
