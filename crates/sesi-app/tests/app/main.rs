//! The sesi app's integration tests, as one test binary: the app over real HTTP (in-process and
//! as the built `sesi` binary), its stores against a real redis-server, the live interop with
//! Pyramid, and a real browser. What they stand on is in [`support`].
//!
//! All of them run as threads of this one process. No test changes process-wide state (an
//! environment variable, the current directory, a global subscriber): each program a test starts
//! gets its settings on its own command line and environment. The tests that start programs or
//! hold wall-clock bounds share the machine through [`support::load`].

mod support;

mod api;
mod browser;
mod cli_cookie;
mod cookie_format;
mod cookie_input;
mod csrf;
mod encrypted;
mod honest_limits;
mod inspector;
mod interop;
mod logging;
mod pages;
mod remember;
mod secrets;
mod serve;
mod serve_log;
mod stores;
