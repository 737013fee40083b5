//! The app's session settings, independent of how they were given (flags, env, tests).

use std::time::Duration;

use sesi::{HashAlg, SameSite, Secrets, SessionLayer};

/// Everything that shapes the session cookie. Defaults are Pyramid's, except `HttpOnly` is on.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Current secret first, then fallbacks.
    pub secrets: Secrets,
    /// Pyramid's `hashalg`.
    pub hashalg: HashAlg,
    /// Pyramid's `salt`.
    pub salt: String,
    /// Idle timeout in seconds (`None`: never).
    pub timeout: Option<u64>,
    /// Reissue time in seconds (`None`: reads never re-issue).
    pub reissue_time: Option<u64>,
    /// Absolute lifetime in seconds (`None`: unlimited).
    pub max_lifetime: Option<u64>,
    /// Cookie name.
    pub cookie_name: String,
    /// `Secure` attribute.
    pub secure: bool,
    /// `HttpOnly` attribute.
    pub http_only: bool,
    /// `SameSite` attribute (`None`: omitted).
    pub same_site: Option<SameSite>,
}

impl Settings {
    /// Pyramid's defaults with `HttpOnly` on.
    #[must_use]
    pub fn new(secrets: Secrets) -> Self {
        Settings {
            secrets,
            hashalg: HashAlg::Sha512,
            salt: sesi::core::DEFAULT_SALT.to_owned(),
            timeout: Some(sesi::core::DEFAULT_TIMEOUT),
            reissue_time: Some(0),
            max_lifetime: None,
            cookie_name: "session".to_owned(),
            secure: false,
            http_only: true,
            same_site: Some(SameSite::Lax),
        }
    }

    /// The session layer these settings describe.
    ///
    /// # Errors
    /// A [`sesi::ConfigError`] naming the bad setting.
    pub fn layer(&self) -> Result<SessionLayer, sesi::ConfigError> {
        SessionLayer::builder(self.secrets.clone())
            .with_hashalg(self.hashalg)
            .with_salt(self.salt.clone())
            .with_timeout(self.timeout.map(Duration::from_secs))
            .with_reissue_time(self.reissue_time.map(Duration::from_secs))
            .with_max_lifetime(self.max_lifetime.map(Duration::from_secs))
            .with_cookie_name(self.cookie_name.clone())
            .with_secure(self.secure)
            .with_http_only(self.http_only)
            .with_same_site(self.same_site)
            .build()
    }
}
