//! The app's session settings, independent of how they were given (flags, env, tests).

use std::sync::Arc;
use std::time::Duration;

use sesi::core::CookieFormat;
use sesi::core::store::SessionStore;
use sesi::{HashAlg, LockConfig, SameSite, Secrets, SessionLayer};

use crate::cookie_format::{CookieFormatName, FormatKeyError};
use crate::stores::{self, OpenStoreError, RedisTlsFiles, StoreChoice};

/// Sessions the in-process store holds at most, unless `--store-capacity` says otherwise.
pub const MEMORY_STORE_CAPACITY: usize = 100_000;

/// How long `sesi serve` keeps a stored session whose visitor has not come back yet.
pub const DEFAULT_PROBATION: Duration = Duration::from_secs(300);

/// Everything that shapes the session cookie. Defaults are Pyramid's, except `HttpOnly` is on.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The cookie format.
    pub cookie_format: CookieFormatName,
    /// Current secret first, then fallbacks.
    pub secrets: Secrets,
    /// Pyramid's `hashalg`.
    pub hashalg: HashAlg,
    /// Pyramid's `salt`.
    pub salt: String,
    /// Idle timeout, whole seconds (`None`: never).
    pub timeout: Option<Duration>,
    /// Reissue time, whole seconds (`None`: reads never re-issue).
    pub reissue_time: Option<Duration>,
    /// Absolute lifetime, whole seconds (`None`: unlimited).
    pub max_lifetime: Option<Duration>,
    /// Cookie name.
    pub cookie_name: String,
    /// `Secure` attribute.
    pub secure: bool,
    /// `HttpOnly` attribute.
    pub http_only: bool,
    /// `SameSite` attribute (`None`: omitted).
    pub same_site: Option<SameSite>,
    /// Where sessions live.
    pub store: StoreChoice,
    /// With a store: keep sessions in the cookie while they fit, in the store when they do not.
    pub spill: bool,
    /// With a store: one request per session at a time.
    pub lock: bool,
    /// With a store: longest a store call may take before a 503.
    pub store_timeout: Duration,
    /// With `--store memory`: the most sessions it holds.
    pub store_capacity: usize,
    /// With a store: how long a session whose visitor has not come back yet is kept (`None`: the
    /// full timeout).
    pub probation: Option<Duration>,
    /// With a store: the most a stored session may hold, in bytes of JSON.
    pub max_session_bytes: usize,
    /// With a store (not spill): still read whole-session cookies, a migration window.
    pub accept_cookie_sessions: bool,
    /// With a `rediss…` store: the CA and client certificate files.
    pub redis_tls: RedisTlsFiles,
}

impl Settings {
    /// Pyramid's defaults with `HttpOnly` on.
    #[must_use]
    pub fn new(secrets: Secrets) -> Self {
        Settings {
            cookie_format: CookieFormatName::Pyramid,
            secrets,
            hashalg: HashAlg::Sha512,
            salt: sesi::core::DEFAULT_SALT.to_owned(),
            timeout: Some(sesi::core::DEFAULT_TIMEOUT),
            reissue_time: Some(Duration::ZERO),
            max_lifetime: None,
            cookie_name: "session".to_owned(),
            secure: false,
            http_only: true,
            same_site: Some(SameSite::Lax),
            store: StoreChoice::Cookie,
            spill: false,
            lock: false,
            store_timeout: sesi::DEFAULT_STORE_TIMEOUT,
            store_capacity: MEMORY_STORE_CAPACITY,
            probation: Some(DEFAULT_PROBATION),
            max_session_bytes: sesi::core::session::DEFAULT_MAX_STORED_SIZE,
            accept_cookie_sessions: false,
            redis_tls: RedisTlsFiles::default(),
        }
    }

    /// The cookie format these settings describe, with their keys.
    ///
    /// # Errors
    /// A secret that is not a key of the format.
    pub fn format(&self) -> Result<Arc<dyn CookieFormat>, FormatKeyError> {
        self.cookie_format
            .build(&self.secrets, &self.salt, self.hashalg)
    }

    /// Opens the configured store (connects to Redis), or `None` for cookie sessions.
    ///
    /// # Errors
    /// [`OpenStoreError`]: a bad Redis setting, Redis not reachable, or Redis asked for in a
    /// build without the `redis` feature.
    pub async fn open_store(&self) -> Result<Option<Arc<dyn SessionStore>>, OpenStoreError> {
        stores::open(
            &self.store,
            self.store_capacity,
            self.store_timeout,
            &self.redis_tls,
        )
        .await
    }

    /// The session layer these settings describe.
    ///
    /// # Errors
    /// A [`SettingsError`] naming the bad setting or key.
    pub fn layer(&self) -> Result<SessionLayer, SettingsError> {
        self.layer_with(None)
    }

    /// The session layer these settings describe, keeping sessions in `store` when given (spilling
    /// into it when `spill` is set).
    ///
    /// # Errors
    /// A [`SettingsError`] naming the bad setting or key.
    pub fn layer_with(
        &self,
        store: Option<Arc<dyn SessionStore>>,
    ) -> Result<SessionLayer, SettingsError> {
        let mut builder =
            SessionLayer::builder(self.format()?).with_error_responder(crate::error::AppResponder);
        if let Some(store) = store {
            builder = if self.spill {
                builder.with_spill_store(store)
            } else {
                builder.with_store(store)
            };
            builder = builder
                .with_store_timeout(self.store_timeout)
                .with_probation(self.probation)
                .with_max_session_size(self.max_session_bytes)
                .with_accept_cookie_sessions(self.accept_cookie_sessions)
                .with_lock(self.lock.then(LockConfig::default));
        }
        builder
            .with_timeout(self.timeout)
            .with_reissue_time(self.reissue_time)
            .with_max_lifetime(self.max_lifetime)
            .with_cookie_name(self.cookie_name.clone())
            .with_secure(self.secure)
            .with_http_only(self.http_only)
            .with_same_site(self.same_site)
            .build()
            .map_err(SettingsError::Config)
    }
}

/// Settings the session layer cannot be built from.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// A secret is not a key of the cookie format.
    #[error(transparent)]
    Keys(#[from] FormatKeyError),
    /// A setting breaks one of the layer's rules.
    #[error(transparent)]
    Config(#[from] sesi::ConfigError),
}
