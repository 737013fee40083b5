//! A per-session expiry: "remember me for 30 days", or a cookie that ends with the browser,
//! whatever the layer's settings say. It rides inside the session under the format's reserved
//! expiry key (`_sesi_expiry` in Pyramid's format: a Pyramid app keeps an unknown key as it is),
//! so it works the same in cookie and store mode and on every server.

use std::time::Duration;

use serde_json::{Map, Value};

use super::{Session, SessionError};

/// The longest [`Expiry::MaxAge`]: browsers cap a cookie's `Max-Age` at 400 days.
pub const MAX_EXPIRY: Duration = Duration::from_secs(400 * 24 * 3600);

/// How long one session lasts, set with [`Session::set_expiry`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Expiry {
    /// The layer's settings: its idle timeout, its cookie's `Max-Age` if it has one.
    #[default]
    Default,
    /// A cookie without `Max-Age`, gone when the browser closes, whatever the layer's cookie
    /// settings say; the layer's idle timeout still applies.
    BrowserSession,
    /// Remembered for this long after the last visit: a persistent cookie with this `Max-Age`,
    /// renewed on each visit that saves, and this as the session's idle timeout (and its
    /// time-to-live in a store) in place of the layer's. The absolute lifetime still applies.
    MaxAge(Duration),
}

impl Expiry {
    /// The expiry recorded in `state` under `key`: absent is `Default`, `0` a browser session,
    /// a whole number of seconds up to [`MAX_EXPIRY`] a max age. Anything else (a value the
    /// handler did not write through `set_expiry`) counts as `Default`.
    #[must_use]
    pub fn from_state(state: &Map<String, Value>, key: &str) -> Self {
        match state.get(key).and_then(Value::as_u64) {
            None => Expiry::Default,
            Some(0) => Expiry::BrowserSession,
            Some(secs) if secs <= MAX_EXPIRY.as_secs() => Expiry::MaxAge(Duration::from_secs(secs)),
            Some(_) => Expiry::Default,
        }
    }

    /// The idle timeout for a session with this expiry, given the layer's.
    #[must_use]
    pub fn timeout(self, layer: Option<Duration>) -> Option<Duration> {
        match self {
            Expiry::MaxAge(max_age) => Some(max_age),
            Expiry::Default | Expiry::BrowserSession => layer,
        }
    }
}

impl Session {
    /// Sets how long this session lasts (see [`Expiry`]); the cookie is sent again with the
    /// new `Max-Age` on this response.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use std::time::Duration;
    /// # use sesi_core::session::{Expiry, Lifecycle, SessionConfig, SessionEngine};
    /// # use sesi_core::{Secret, Secrets};
    /// # let secrets = Secrets::new(Secret::new("an example secret that is long enough")?);
    /// # let engine = Arc::new(SessionEngine::new(secrets, SessionConfig::default())?);
    /// # let request = Lifecycle::begin(&engine, None);
    /// # let session = request.session();
    /// // "Remember me": 30 days after the last visit, in the cookie and in the store.
    /// session.set_expiry(Expiry::MaxAge(Duration::from_secs(30 * 24 * 3600)))?;
    /// assert_eq!(request.plan().expiry, Expiry::MaxAge(Duration::from_secs(2_592_000)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`SessionError::InvalidExpiry`] for a max age of zero, of a fraction of a second, or
    /// longer than [`MAX_EXPIRY`] (the session is unchanged); [`SessionError::Closed`] after
    /// the request ended.
    pub fn set_expiry(&self, expiry: Expiry) -> Result<(), SessionError> {
        let value = match expiry {
            Expiry::Default => None,
            Expiry::BrowserSession => Some(Value::from(0u64)),
            Expiry::MaxAge(max_age) => {
                if max_age.is_zero() || max_age.subsec_nanos() != 0 || max_age > MAX_EXPIRY {
                    return Err(SessionError::InvalidExpiry {
                        max_age,
                        why: "a max age is a whole number of seconds from 1 s to 400 days",
                    });
                }
                Some(Value::from(max_age.as_secs()))
            }
        };
        let mut inner = self.write()?;
        let key = inner.engine.format().reserved_keys().expiry;
        let state = inner.change();
        match value {
            Some(value) => {
                state.insert(key.to_owned(), value);
            }
            None => {
                state.shift_remove(key);
            }
        }
        inner.expiry_changed = true;
        Ok(())
    }

    /// This session's expiry, as [`set_expiry`](Self::set_expiry) left it.
    #[must_use]
    pub fn expiry(&self) -> Expiry {
        let mut inner = self.lock();
        let key = inner.engine.format().reserved_keys().expiry;
        Expiry::from_state(inner.access(), key)
    }
}
