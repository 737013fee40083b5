//! What a test does when a program it needs (Python with Pyramid, Chromium and chromedriver,
//! redis-server) is not installed: the skip policy every sesi test suite shares.

/// Skips the calling test (it then returns early), or fails it where every test must run.
pub use sesi_testkit::skip;
