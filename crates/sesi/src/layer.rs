//! `SessionLayer`: the configuration of the middleware, built once and shared by every request.

use std::sync::Arc;
use std::time::Duration;

use sesi_core::session::{StorageMode, lifecycle};
use sesi_core::store::{SessionStore, UserSessions};
use sesi_core::{Clock, CookieFormat, IntoCookieFormat, SessionConfig, SessionEngine, SystemClock};
use tower_layer::Layer;

use crate::cookie::{CookieSettings, SameSite};
use crate::error::ConfigError;
use crate::outcome::{CookieAction, cookie_outcome};
use crate::responder::{ErrorResponder, PlainTextResponder};
use crate::service::SessionService;
use crate::shared::Shared;
use crate::store_access::{LockConfig, StoreAccess};

/// How long a store operation may take before the request gets a 503.
pub const DEFAULT_STORE_TIMEOUT: Duration = Duration::from_secs(2);

/// Adds a [`Session`](crate::Session) to every request and writes the cookie back when needed.
///
/// Build it with [`SessionLayer::builder`] from a cookie format, or from [`Secrets`](crate::Secrets)
/// for Pyramid's signed format with its defaults; the other defaults are Pyramid's
/// `SignedCookieSessionFactory` defaults too, so a Pyramid app with the same secret shares its
/// visitors' sessions.
///
/// ```
/// use sesi::core::{HashAlg, PyramidFormat};
/// use sesi::{Secret, Secrets, SessionLayer};
///
/// let secrets = Secrets::new(Secret::new("a secret of at least thirty-two bytes, from a file")?);
/// let layer = SessionLayer::builder(PyramidFormat::new(&secrets, "myapp.session.", HashAlg::Sha512))
///     .hardened() // HttpOnly, Secure, SameSite=Lax, __Host-session
///     .with_timeout(Some(std::time::Duration::from_secs(1800)))
///     .build()?;
/// # let _ = layer;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
#[must_use = "a layer does nothing until it wraps a service"]
pub struct SessionLayer {
    shared: Arc<Shared>,
}

impl SessionLayer {
    /// A builder with Pyramid's defaults, for sessions in `format`: a [`CookieFormat`], or
    /// [`Secrets`](crate::Secrets) for Pyramid's signed format with salt `pyramid.session.` and
    /// HMAC-SHA512.
    pub fn builder(format: impl IntoCookieFormat) -> SessionLayerBuilder {
        SessionLayerBuilder {
            format: format.into_cookie_format(),
            session: SessionConfig::default(),
            cookie: CookieSettings::default(),
            set_on_exception: true,
            clock: Arc::new(SystemClock),
            store: None,
            storage: StorageMode::Cookie,
            store_timeout: DEFAULT_STORE_TIMEOUT,
            lock: None,
            probation: None,
            max_stored: sesi_core::session::DEFAULT_MAX_STORED_SIZE,
            accept_cookie_sessions: false,
            responder: Arc::new(PlainTextResponder),
        }
    }

    /// A layer with every default, for sessions in `format` (see [`builder`](Self::builder)).
    /// The defaults always build, so this cannot fail.
    pub fn new(format: impl IntoCookieFormat) -> Self {
        Self::builder(format)
            .build()
            .expect("the default settings are valid with every cookie format")
    }

    /// The engine (format, rules, clock) behind this layer: for tools that decode cookies with the
    /// same settings, such as an inspector page.
    #[must_use]
    pub fn engine(&self) -> &Arc<SessionEngine> {
        &self.shared.engine
    }

    /// The cookie's name and attributes.
    #[must_use]
    pub fn cookie_settings(&self) -> &CookieSettings {
        &self.shared.cookie
    }

    /// What the middleware will send for `session` if the handler does nothing more to it: the
    /// action and the exact `Set-Cookie` header value. Lets a page show its own Set-Cookie.
    #[must_use]
    pub fn preview(&self, session: &sesi_core::Session) -> (CookieAction, Option<String>) {
        match lifecycle::preview(session) {
            Some((reason, cookie, expiry)) => {
                cookie_outcome(&self.shared.header, cookie, reason, expiry)
            }
            None => (CookieAction::None, None),
        }
    }

    /// True when sessions live in a store (always, or when they outgrow the cookie).
    #[must_use]
    pub fn has_store(&self) -> bool {
        self.shared.store.is_some()
    }

    /// The sessions of users in the layer's store, for "log out everywhere": list a user's
    /// sessions, end them all or all but the current one (see [`Session::set_user`]). `None`
    /// without a store: a cookie session cannot be ended from elsewhere. Keep it in the app's
    /// state; handlers pass the request's session to mark or spare it.
    ///
    /// [`Session::set_user`]: sesi_core::Session::set_user
    #[must_use]
    pub fn user_sessions(&self) -> Option<UserSessions> {
        let access = self.shared.store.as_ref()?;
        Some(UserSessions::new(Arc::clone(&access.store)))
    }
}

impl<S> Layer<S> for SessionLayer {
    type Service = SessionService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SessionService::new(inner, Arc::clone(&self.shared))
    }
}

/// Builds a [`SessionLayer`]; every rule is checked in [`build`](Self::build), so the setters can be
/// called in any order.
#[derive(Debug)]
#[must_use = "call .build() to get the layer"]
pub struct SessionLayerBuilder {
    format: Arc<dyn CookieFormat>,
    session: SessionConfig,
    cookie: CookieSettings,
    set_on_exception: bool,
    clock: Arc<dyn Clock>,
    store: Option<Arc<dyn SessionStore>>,
    storage: StorageMode,
    store_timeout: Duration,
    lock: Option<LockConfig>,
    probation: Option<Duration>,
    max_stored: usize,
    accept_cookie_sessions: bool,
    responder: Arc<dyn ErrorResponder>,
}

impl SessionLayerBuilder {
    /// Pyramid's `timeout`: idle time after which the session is empty (default 1200 s; `None`:
    /// never). Whole seconds: a fraction is refused by [`build`](Self::build), not rounded.
    pub fn with_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.session.timeout = timeout;
        self
    }

    /// Pyramid's `reissue_time`: a read re-issues the cookie once this much time has passed since it
    /// was issued (default 0; `None`: reads never re-issue). Whole seconds.
    pub fn with_reissue_time(mut self, reissue_time: Option<Duration>) -> Self {
        self.session.reissue_time = reissue_time;
        self
    }

    /// Absolute lifetime since the session was created, however active (default none). Whole
    /// seconds; needs a cookie format that records `created` (Pyramid's does).
    pub fn with_max_lifetime(mut self, max_lifetime: Option<Duration>) -> Self {
        self.session.max_lifetime = max_lifetime;
        self
    }

    /// Cookie name (default `session`).
    pub fn with_cookie_name(mut self, name: impl Into<String>) -> Self {
        self.cookie.name = name.into();
        self
    }

    /// Cookie `Path` (default `/`).
    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.cookie.path = path.into();
        self
    }

    /// Cookie `Domain` (default none: host-only).
    pub fn with_domain(mut self, domain: Option<String>) -> Self {
        self.cookie.domain = domain;
        self
    }

    /// Pyramid's `max_age`: the cookie's `Max-Age` (default none: a browser-session cookie). The
    /// server still decides expiry by `timeout`; this is only a hint to the browser. Whole seconds;
    /// zero is refused by [`build`](Self::build), since `Max-Age=0` deletes the cookie.
    pub fn with_max_age(mut self, max_age: Option<Duration>) -> Self {
        self.cookie.max_age = max_age;
        self
    }

    /// Cookie `Secure` flag (default off).
    pub fn with_secure(mut self, secure: bool) -> Self {
        self.cookie.secure = secure;
        self
    }

    /// Cookie `HttpOnly` flag (default off, as Pyramid).
    pub fn with_http_only(mut self, http_only: bool) -> Self {
        self.cookie.http_only = http_only;
        self
    }

    /// Cookie `SameSite` (default `Lax`; `None` omits the attribute).
    pub fn with_same_site(mut self, same_site: Option<SameSite>) -> Self {
        self.cookie.same_site = same_site;
        self
    }

    /// Pyramid's `set_on_exception`: whether a 5xx response still carries the session cookie
    /// (default true).
    pub fn with_set_on_exception(mut self, set: bool) -> Self {
        self.set_on_exception = set;
        self
    }

    /// The clock for expiry and reissue (tests).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Keeps sessions in `store`: the cookie carries only the session's random 128-bit id,
    /// protected by the cookie format's keys; the state lives in the store with the idle timeout
    /// as its time-to-live, and `invalidate()` deletes it there, so the old cookie is dead
    /// everywhere at once.
    pub fn with_store(mut self, store: Arc<dyn SessionStore>) -> Self {
        self.store = Some(store);
        self.storage = StorageMode::Store;
        self
    }

    /// Keeps each session in its cookie while it fits, and in `store` when it would not (and back
    /// when it shrinks). Handlers see no difference.
    pub fn with_spill_store(mut self, store: Arc<dyn SessionStore>) -> Self {
        self.store = Some(store);
        self.storage = StorageMode::Spill;
        self
    }

    /// Longest a store call may take before the request is answered with a 503 (default 2 s).
    pub fn with_store_timeout(mut self, timeout: Duration) -> Self {
        self.store_timeout = timeout;
        self
    }

    /// Per-session locking for store-backed sessions: one request of a session at a time, across
    /// every server sharing the store, so parallel requests of one visitor never lose an update.
    /// Without it, the last write wins. Ignored for cookie sessions.
    pub fn with_lock(mut self, lock: Option<LockConfig>) -> Self {
        self.lock = lock;
        self
    }

    /// With a store: a session whose visitor has not come back with its cookie yet is kept for at
    /// most `probation` (default `None`: the full idle timeout from the first request). Sessions
    /// that crawlers and scripts start and never return to then leave the store in minutes; a
    /// visitor who does come back within the probation gets the full timeout from then on, one
    /// who comes back later starts afresh.
    pub fn with_probation(mut self, probation: Option<Duration>) -> Self {
        self.probation = probation;
        self
    }

    /// With a store: the most a stored session may hold, in bytes of its JSON (default 64 KiB).
    /// The `try_` writes refuse a change past it, as they refuse one past a cookie's 4096 bytes,
    /// and a plain write past it is neither saved nor sent (the responder answers). A session
    /// that still fits in a cookie (spill-over) is only held to the cookie's limit.
    pub fn with_max_session_size(mut self, bytes: usize) -> Self {
        self.max_stored = bytes;
        self
    }

    /// Store mode: whether a valid whole-session cookie (signed by the same keys, from cookie
    /// mode or spill-over) is still read and then moved into the store (default false: it is
    /// refused and the visitor starts afresh, since a store could not revoke it). Turn it on for
    /// a migration window from cookie sessions to a store, off again after one timeout. Spill
    /// mode always reads its own whole-session cookies.
    pub fn with_accept_cookie_sessions(mut self, accept: bool) -> Self {
        self.accept_cookie_sessions = accept;
        self
    }

    /// Who answers when the middleware must answer instead of the handler (the session would not
    /// fit in a cookie, the store failed). Default: [`PlainTextResponder`].
    pub fn with_error_responder(mut self, responder: impl ErrorResponder) -> Self {
        self.responder = Arc::new(responder);
        self
    }

    /// The production preset: `HttpOnly`, `Secure`, `SameSite=Lax`, and the name `__Host-session`,
    /// which the browser only accepts from HTTPS, for `Path=/`, without `Domain`, so a sibling
    /// subdomain cannot plant or overwrite it. Requires HTTPS.
    pub fn hardened(mut self) -> Self {
        self.cookie.http_only = true;
        self.cookie.secure = true;
        self.cookie.same_site = Some(SameSite::Lax);
        self.cookie.name = "__Host-session".to_owned();
        self.cookie.path = "/".to_owned();
        self.cookie.domain = None;
        self
    }

    /// A zero store timeout would fail every store call; a zero lock wait or lease would make
    /// the lock refuse or expire at once; a zero probation would drop every new session.
    fn validate_store(&self) -> Result<(), ConfigError> {
        let zero = |what, value: Duration, why| {
            if value.is_zero() {
                Err(ConfigError::Store { what, value, why })
            } else {
                Ok(())
            }
        };
        zero(
            "timeout",
            self.store_timeout,
            "every store call would time out at once",
        )?;
        if let Some(lock) = self.lock {
            zero(
                "lock wait",
                lock.wait,
                "no request could wait for a lock held by another",
            )?;
            zero(
                "lock lease",
                lock.lease,
                "a lock would expire as it is taken",
            )?;
        }
        if let Some(probation) = self.probation {
            zero(
                "probation",
                probation,
                "every new session would expire as it is saved; turn probation off instead",
            )?;
        }
        Ok(())
    }

    /// Checks every setting and prepares the keys and header parts.
    ///
    /// # Errors
    /// [`ConfigError`] naming the bad setting.
    pub fn build(self) -> Result<SessionLayer, ConfigError> {
        self.cookie.validate()?;
        self.validate_store()?;
        let header = self.cookie.header();
        let engine = SessionEngine::new(self.format, self.session)?
            .with_clock(self.clock)
            .with_cookie_overhead(header.overhead())
            .with_storage(self.storage)
            .with_probation(self.probation)
            .with_max_stored_size(self.max_stored);
        for warning in self.session.warnings() {
            tracing::warn!("{warning}");
        }
        let store = self.store.map(|store| StoreAccess {
            store,
            timeout: self.store_timeout,
            lock: self.lock,
            accept_cookie_sessions: self.accept_cookie_sessions,
        });
        Ok(SessionLayer {
            shared: Arc::new(Shared {
                engine: Arc::new(engine),
                cookie: self.cookie,
                header,
                set_on_exception: self.set_on_exception,
                responder: self.responder,
                store,
            }),
        })
    }
}
