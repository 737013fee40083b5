//! The sesi app's integration tests, as one test binary: the app over real HTTP, in-process and
//! as the built `sesi` binary. What they stand on is in [`support`].

mod support;

mod api;
mod browser;
mod cli_cookie;
mod cookie_input;
mod csrf;
mod honest_limits;
mod inspector;
mod interop;
mod pages;
mod serve;
mod stores;
