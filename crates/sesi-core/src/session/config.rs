//! The timing rules of a session, with Pyramid's names and defaults, and where sessions live.

use std::time::Duration;

/// Pyramid's default idle timeout: 1200 seconds.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1200);

/// A cookie whose `accessed` (or `created`) is further than this in the future is rejected
/// (clock skew allowance).
pub const MAX_FUTURE_SKEW: Duration = Duration::from_secs(60);

/// The most a browser keeps for one cookie; a Set-Cookie longer than this is never sent.
pub const MAX_COOKIE_SIZE: usize = 4096;

/// The default cap on a session kept in a store (its `[accessed, created, state]` JSON): 64 KiB.
/// The same guard as the cookie's 4096 bytes enforces it, so one visitor cannot grow a session
/// without bound.
pub const DEFAULT_MAX_STORED_SIZE: usize = 64 * 1024;

/// Timing rules of a session, with Pyramid's names and defaults. Sessions are timed in whole
/// seconds, as Pyramid's cookies record them: a duration with a fraction of a second is refused,
/// never rounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionConfig {
    /// Idle timeout (`None`: never). Default [`DEFAULT_TIMEOUT`].
    pub timeout: Option<Duration>,
    /// Re-issue the cookie on a read once more than this much time passed since it was issued
    /// (`None`: only writes re-issue). Default 0: every read in a later second re-issues.
    pub reissue_time: Option<Duration>,
    /// Absolute lifetime since `created`, however active the session (`None`: unlimited).
    pub max_lifetime: Option<Duration>,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            timeout: Some(DEFAULT_TIMEOUT),
            reissue_time: Some(Duration::ZERO),
            max_lifetime: None,
        }
    }
}

/// A session timing setting that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionConfigError {
    /// `timeout` of 0 would expire every session at once.
    #[error("timeout must be at least 1 second (use None for no timeout)")]
    ZeroTimeout,
    /// `max_lifetime` of 0 would expire every session at once.
    #[error("max_lifetime must be at least 1 second (use None for no limit)")]
    ZeroLifetime,
    /// A duration with a fraction of a second: cookies record whole seconds.
    #[error(
        "{setting} is {value:?}, which is not a whole number of seconds: session cookies record \
         time in whole seconds, as Pyramid does"
    )]
    NotWholeSeconds {
        /// Which setting.
        setting: &'static str,
        /// The duration given.
        value: Duration,
    },
    /// `max_lifetime` with a cookie format that does not record when a session was created.
    #[error("max_lifetime needs the creation time, which the {format} cookie format does not keep")]
    LifetimeNeedsCreated {
        /// The format's name.
        format: &'static str,
    },
}

impl SessionConfig {
    /// Checks the settings.
    ///
    /// # Errors
    /// A [`SessionConfigError`] for settings that cannot work.
    pub fn validate(&self) -> Result<(), SessionConfigError> {
        for (setting, value) in [
            ("timeout", self.timeout),
            ("reissue_time", self.reissue_time),
            ("max_lifetime", self.max_lifetime),
        ] {
            if let Some(value) = value.filter(|d| d.subsec_nanos() != 0) {
                return Err(SessionConfigError::NotWholeSeconds { setting, value });
            }
        }
        if self.timeout == Some(Duration::ZERO) {
            return Err(SessionConfigError::ZeroTimeout);
        }
        if self.max_lifetime == Some(Duration::ZERO) {
            return Err(SessionConfigError::ZeroLifetime);
        }
        Ok(())
    }

    /// Settings that work but are probably not what was meant, as sentences for a log.
    #[must_use]
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if let (Some(timeout), Some(reissue)) = (self.timeout, self.reissue_time)
            && reissue >= timeout
        {
            warnings.push(format!(
                    "reissue_time ({} s) is not below timeout ({} s): a session that is only read expires before it is re-issued",
                    reissue.as_secs(),
                    timeout.as_secs()
                ));
        }
        if self.timeout.is_some() && self.reissue_time.is_none() {
            warnings.push(
                "reissue_time is None: reading a session never extends it, so it expires `timeout` seconds after the last write".to_owned(),
            );
        }
        warnings
    }
}

/// Where the session's state is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StorageMode {
    /// In the cookie (Pyramid's way; the default).
    #[default]
    Cookie,
    /// In a server-side store; the cookie carries only the session's id.
    Store,
    /// In the cookie while it fits, in the store when it does not (and back when it shrinks).
    Spill,
}
