//! Flask's default session cookie (`SecureCookieSessionInterface`): work in progress.
