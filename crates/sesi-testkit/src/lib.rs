//! What sesi's test suites share: the one skip policy for tests whose external program (Python
//! with Pyramid, Chromium and chromedriver, redis-server) is missing, and free ports on
//! 127.0.0.1. A dev-dependency only; never published.

pub mod certs;
pub mod redis;

use std::io::Write as _;
use std::net::TcpListener;

/// How to install every external test dependency.
const FIX: &str = "scripts/install-test-deps.sh";

/// Whether a missing dependency fails the test instead of skipping it: `SESI_TEST_REQUIRE_ALL`
/// (set by `scripts/test.sh`) or `CI`, set to anything but empty, `0` or `false`.
#[must_use]
pub fn required() -> bool {
    ["SESI_TEST_REQUIRE_ALL", "CI"]
        .into_iter()
        .any(|var| std::env::var(var).is_ok_and(|v| !v.is_empty() && v != "0" && v != "false"))
}

/// Skips the calling test, which then returns early, because of `reason` (a missing dependency).
///
/// The `SKIPPED <test>: <reason>` line goes straight to the process's stderr: libtest captures
/// `eprintln!` of a passing test, and a skip must be seen.
///
/// # Panics
/// When [`required`]: there a skipped test would hide a broken setup.
pub fn skip(reason: &str) {
    assert!(
        !required(),
        "{reason}; `{FIX}` installs it (SESI_TEST_REQUIRE_ALL or CI is set, so a missing test \
         dependency is a failure, not a skip)"
    );
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    let line = format!("SKIPPED {test}: {reason}; `{FIX}` installs it\n");
    let _ = std::io::stderr().write_all(line.as_bytes());
}

/// A port on 127.0.0.1 that was free a moment ago (for a program the test starts; a server in
/// the test's own process binds port 0 instead).
///
/// # Panics
/// When no port can be bound at all.
#[must_use]
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port on 127.0.0.1")
}
