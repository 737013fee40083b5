//! What a test does when a program it needs (Python with Pyramid, Chromium and chromedriver,
//! redis-server) is not installed: it skips, loudly, except where every test must run.

use std::io::Write as _;

/// How to install every external test dependency.
const FIX: &str = "scripts/install-test-deps.sh";

/// Whether a missing dependency fails the test instead of skipping it: `SESI_TEST_REQUIRE_ALL`
/// or `CI` set to anything but the empty string.
fn required() -> bool {
    ["SESI_TEST_REQUIRE_ALL", "CI"]
        .into_iter()
        .any(|var| std::env::var_os(var).is_some_and(|v| !v.is_empty()))
}

/// Skips the calling test, which then returns early, because `reason` (a missing dependency).
///
/// The `SKIPPED <test>: <reason>` line goes straight to the process's stderr: libtest captures
/// `eprintln!` of a passing test, and a skip must be seen.
///
/// # Panics
/// When `SESI_TEST_REQUIRE_ALL` or `CI` is set: there a skipped test would hide a broken setup.
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
