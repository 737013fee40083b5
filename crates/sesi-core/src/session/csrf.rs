//! CSRF tokens, stored as Pyramid stores them: 40 lowercase hex characters, under the key the
//! cookie format reserves (Pyramid: `_csrft_`).

use serde_json::Value;
use subtle::ConstantTimeEq;

use super::Session;

impl Session {
    /// Replaces the CSRF token with a fresh one (20 bytes from the OS generator, as 40 hex chars).
    /// After the request ended the token is still returned but not kept (the write is refused
    /// and logged).
    ///
    /// # Panics
    /// If the operating system's random number generator fails, which leaves no safe way to go on.
    pub fn new_csrf_token(&self) -> String {
        let mut bytes = [0u8; 20];
        crate::random::fill(&mut bytes);
        let token = crate::hex(&bytes);
        if let Ok(mut inner) = self.write() {
            let key = inner.engine.format().reserved_keys().csrf;
            inner
                .change()
                .insert(key.to_owned(), Value::String(token.clone()));
        }
        token
    }

    /// The session's CSRF token, created on first use. Stable until [`new_csrf_token`](Self::new_csrf_token)
    /// or [`invalidate`](Self::invalidate).
    ///
    /// # Panics
    /// As [`new_csrf_token`](Self::new_csrf_token).
    pub fn get_csrf_token(&self) -> String {
        match self.stored_token() {
            Some(token) => token,
            None => self.new_csrf_token(),
        }
    }

    /// Compares `supplied` with the session's token in constant time. False when the session has
    /// no token.
    #[must_use]
    pub fn check_csrf_token(&self, supplied: &str) -> bool {
        self.stored_token()
            .is_some_and(|token| bool::from(token.as_bytes().ct_eq(supplied.as_bytes())))
    }

    fn stored_token(&self) -> Option<String> {
        let mut inner = self.lock();
        let key = inner.engine.format().reserved_keys().csrf;
        match inner.access().get(key) {
            Some(Value::String(token)) if !token.is_empty() => Some(token.clone()),
            _ => None,
        }
    }
}
