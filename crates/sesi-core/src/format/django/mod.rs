//! Django's `signed_cookies` session backend: work in progress.
