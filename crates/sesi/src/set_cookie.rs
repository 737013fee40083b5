//! The `Set-Cookie` header values: their fixed parts are built once by
//! `CookieSettings::header`, and each response only adds the value (and, for a session with its
//! own expiry, its `Max-Age`).

use sesi_core::session::Expiry;

/// The parts of the `Set-Cookie` header that do not change between requests.
#[derive(Debug, Clone)]
pub(crate) struct CookieHeader {
    /// `name=`, written before the value.
    pub(crate) prefix: String,
    /// `; Path=/; ...`, written after the value.
    pub(crate) suffix: String,
    /// The whole header value that removes the cookie.
    pub(crate) deletion: String,
    /// The attributes without `Max-Age`, split where it goes: `; Domain=..` ...
    pub(crate) before_max_age: String,
    /// ... and `; Path=..; secure; HttpOnly; SameSite=..`.
    pub(crate) after_max_age: String,
}

impl CookieHeader {
    /// `name=value; attributes`, with the `Max-Age` of a session's own `expiry` (the layer's
    /// for [`Expiry::Default`]).
    pub(crate) fn set_with(&self, value: &str, expiry: Expiry) -> String {
        let max_age = match expiry {
            Expiry::Default => return self.set(value),
            Expiry::BrowserSession => None,
            Expiry::MaxAge(max_age) => Some(max_age.as_secs()),
        };
        let mut header =
            String::with_capacity(self.prefix.len() + value.len() + self.suffix.len() + 24);
        header.push_str(&self.prefix);
        header.push_str(value);
        header.push_str(&self.before_max_age);
        if let Some(max_age) = max_age {
            header.push_str("; Max-Age=");
            header.push_str(&max_age.to_string());
        }
        header.push_str(&self.after_max_age);
        header
    }

    /// `name=value; attributes`.
    pub(crate) fn set(&self, value: &str) -> String {
        let mut header = String::with_capacity(self.prefix.len() + value.len() + self.suffix.len());
        header.push_str(&self.prefix);
        header.push_str(value);
        header.push_str(&self.suffix);
        header
    }

    /// The header value that removes the cookie from the browser.
    pub(crate) fn deletion(&self) -> String {
        self.deletion.clone()
    }

    /// Bytes of a `Set-Cookie` value besides the cookie value itself.
    pub(crate) fn overhead(&self) -> usize {
        self.prefix.len() + self.suffix.len()
    }
}
