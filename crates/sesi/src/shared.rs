//! What every request of one layer shares, built once by the layer's builder.

use std::sync::Arc;

use sesi_core::SessionEngine;

use crate::cookie::{CookieHeader, CookieSettings};
use crate::responder::ErrorResponder;
use crate::store_access::StoreAccess;

/// The engine, the cookie's name and header parts, what to do on errors, and the store.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) engine: Arc<SessionEngine>,
    pub(crate) cookie: CookieSettings,
    pub(crate) header: CookieHeader,
    /// Pyramid's `set_on_exception`: whether a 5xx response still saves the session.
    pub(crate) set_on_exception: bool,
    /// The library's own answers (too large, store unavailable).
    pub(crate) responder: Arc<dyn ErrorResponder>,
    /// Where sessions live when not (only) in the cookie.
    pub(crate) store: Option<StoreAccess>,
}
