//! The session rules: how a raw cookie value becomes a session (expiry, skew, lifetime, rotation)
//! and what must be sent back at the end of a request.

use std::sync::Arc;

use serde_json::Map;

use crate::clock::{Clock, SystemClock};
use crate::codec::{Codec, DecodeError, Record, Timestamp};
use crate::store::SessionId;

use super::Session;

/// Pyramid's default idle timeout in seconds.
pub const DEFAULT_TIMEOUT: u64 = 1200;

/// A cookie whose `accessed` is further than this in the future is rejected (clock skew allowance).
pub const MAX_FUTURE_SKEW: f64 = 60.0;

/// The most a browser keeps for one cookie; a Set-Cookie longer than this is never sent.
pub const MAX_COOKIE_SIZE: usize = 4096;

/// Timing rules of a session, with Pyramid's names and defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionConfig {
    /// Idle timeout in seconds (`None`: never). Default 1200.
    pub timeout: Option<u64>,
    /// Re-issue the cookie on a read once more than this many seconds passed since it was issued
    /// (`None`: only writes re-issue). Default 0: every read in a later second re-issues.
    pub reissue_time: Option<u64>,
    /// Absolute lifetime in seconds since `created`, however active the session (`None`: unlimited).
    pub max_lifetime: Option<u64>,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            timeout: Some(DEFAULT_TIMEOUT),
            reissue_time: Some(0),
            max_lifetime: None,
        }
    }
}

/// A session timing setting that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `timeout` of 0 would expire every session at once.
    #[error("timeout must be at least 1 second (use None for no timeout)")]
    ZeroTimeout,
    /// `max_lifetime` of 0 would expire every session at once.
    #[error("max_lifetime must be at least 1 second (use None for no limit)")]
    ZeroLifetime,
}

impl SessionConfig {
    /// Checks the settings.
    ///
    /// # Errors
    /// A [`ConfigError`] for settings that cannot work.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.timeout == Some(0) {
            return Err(ConfigError::ZeroTimeout);
        }
        if self.max_lifetime == Some(0) {
            return Err(ConfigError::ZeroLifetime);
        }
        Ok(())
    }

    /// Settings that work but are probably not what was meant, as sentences for a log.
    #[must_use]
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if let (Some(timeout), Some(reissue)) = (self.timeout, self.reissue_time) {
            if reissue >= timeout {
                warnings.push(format!(
                    "reissue_time ({reissue} s) is not below timeout ({timeout} s): a session that is only read expires before it is re-issued"
                ));
            }
        }
        if self.timeout.is_some() && self.reissue_time.is_none() {
            warnings.push(
                "reissue_time is None: reading a session never extends it, so it expires `timeout` seconds after the last write".to_owned(),
            );
        }
        warnings
    }
}

/// What the incoming cookie turned out to be. Anything but `Valid` and `ValidOldKey` gives a fresh,
/// empty session; the request never fails because of its cookie.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum CookieStatus {
    /// No session cookie in the request.
    Absent,
    /// Verified by the current secret and within its time limits.
    Valid,
    /// Verified by a fallback secret (1-based position in the fallback list is `key_index`); the
    /// response re-issues it signed with the current secret.
    ValidOldKey {
        /// Which secret verified it (1 = first fallback).
        key_index: usize,
    },
    /// Signed with no configured secret (tampered, or a removed or foreign key).
    BadSignature,
    /// Not a cookie this codec could read; the error names the failing step.
    Malformed(Arc<DecodeError>),
    /// Idle for longer than `timeout`.
    Expired {
        /// Seconds since it was last accessed.
        idle_secs: f64,
    },
    /// `accessed` lies more than [`MAX_FUTURE_SKEW`] seconds in the future.
    FutureTimestamp {
        /// How far ahead, in seconds.
        ahead_secs: f64,
    },
    /// Older than `max_lifetime`.
    LifetimeExceeded {
        /// Seconds since it was created.
        age_secs: f64,
    },
    /// A valid session-id cookie whose session the store does not hold (expired or invalidated).
    UnknownSession,
    /// The store could not be reached, so the session could not be loaded.
    StoreUnavailable,
}

/// How a cookie that failed to decode is reported: a bad signature on its own, anything else as
/// malformed with the reason.
impl From<DecodeError> for CookieStatus {
    fn from(err: DecodeError) -> Self {
        match err {
            DecodeError::BadSignature => CookieStatus::BadSignature,
            err => CookieStatus::Malformed(Arc::new(err)),
        }
    }
}

impl CookieStatus {
    /// Short stable name for logs: `absent`, `valid`, `old-key`, `bad-signature`, `malformed`,
    /// `expired`, `future-timestamp`, `lifetime-exceeded`.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            CookieStatus::Absent => "absent",
            CookieStatus::Valid => "valid",
            CookieStatus::ValidOldKey { .. } => "old-key",
            CookieStatus::BadSignature => "bad-signature",
            CookieStatus::Malformed(_) => "malformed",
            CookieStatus::Expired { .. } => "expired",
            CookieStatus::FutureTimestamp { .. } => "future-timestamp",
            CookieStatus::LifetimeExceeded { .. } => "lifetime-exceeded",
            CookieStatus::UnknownSession => "unknown-session",
            CookieStatus::StoreUnavailable => "store-unavailable",
        }
    }

    /// True when the cookie's state was loaded.
    #[must_use]
    pub fn is_valid(&self) -> bool {
        matches!(self, CookieStatus::Valid | CookieStatus::ValidOldKey { .. })
    }

    /// True when a cookie was sent but thrown away.
    #[must_use]
    pub fn is_rejected(&self) -> bool {
        !self.is_valid() && !matches!(self, CookieStatus::Absent)
    }
}

impl std::fmt::Display for CookieStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CookieStatus::Absent => f.write_str("no session cookie"),
            CookieStatus::Valid => f.write_str("valid"),
            CookieStatus::ValidOldKey { key_index } => {
                write!(f, "valid, verified by fallback secret #{key_index}")
            }
            CookieStatus::BadSignature => f.write_str("bad signature"),
            CookieStatus::Malformed(err) => write!(f, "malformed: {err}"),
            CookieStatus::Expired { idle_secs } => {
                write!(f, "expired: idle for {idle_secs:.0} s")
            }
            CookieStatus::FutureTimestamp { ahead_secs } => {
                write!(f, "rejected: accessed {ahead_secs:.0} s in the future")
            }
            CookieStatus::LifetimeExceeded { age_secs } => {
                write!(
                    f,
                    "expired: created {age_secs:.0} s ago, past the absolute lifetime"
                )
            }
            CookieStatus::UnknownSession => {
                f.write_str("the store holds no such session (expired or invalidated)")
            }
            CookieStatus::StoreUnavailable => f.write_str("the session store is unavailable"),
        }
    }
}

/// Why a Set-Cookie is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetReason {
    /// The handler wrote to the session.
    Changed,
    /// The handler read the session after `reissue_time` passed.
    Reissued,
    /// The cookie was verified by a fallback secret and is re-signed with the current one.
    Rotated,
}

impl SetReason {
    /// Short name for logs.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            SetReason::Changed => "changed",
            SetReason::Reissued => "reissued",
            SetReason::Rotated => "rotated",
        }
    }
}

/// What the end of the request must do with the cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Commit {
    /// Nothing: the session was not touched, or only read within `reissue_time`.
    Keep,
    /// Send this cookie value.
    Set {
        /// The signed value.
        value: String,
        /// Why it is sent.
        reason: SetReason,
    },
    /// Remove the cookie from the browser (after `invalidate()` with nothing written since).
    Delete,
    /// The cookie would exceed [`MAX_COOKIE_SIZE`]; nothing is sent, so the browser keeps its last
    /// good cookie.
    TooLarge {
        /// Size the Set-Cookie would have had (name, value and attributes).
        bytes: usize,
        /// The limit.
        limit: usize,
    },
}

/// Everything needed to turn cookie values into sessions and back: the codec, the timing rules,
/// the clock, and the size of the cookie's non-value part (so size checks count the whole cookie).
/// Shared by all requests behind an `Arc`.
#[derive(Debug)]
pub struct SessionEngine {
    codec: Codec,
    config: SessionConfig,
    clock: Arc<dyn Clock>,
    cookie_overhead: usize,
    storage: StorageMode,
}

/// Where the session's state is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StorageMode {
    /// In the signed cookie (Pyramid's way; the default).
    #[default]
    Cookie,
    /// In a server-side store; the cookie carries only a signed session id.
    Store,
    /// In the cookie while it fits, in the store when it does not (and back when it shrinks).
    Spill,
}

/// The session data after the cookie was read and judged.
pub struct Loaded {
    pub(crate) record: Record,
    pub(crate) new: bool,
    pub(crate) status: CookieStatus,
}

impl SessionEngine {
    /// An engine with the system clock and no cookie attribute overhead.
    ///
    /// # Errors
    /// [`ConfigError`] when `config` fails [`SessionConfig::validate`].
    pub fn new(codec: Codec, config: SessionConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(SessionEngine {
            codec,
            config,
            clock: Arc::new(SystemClock),
            cookie_overhead: 0,
            storage: StorageMode::Cookie,
        })
    }

    /// Uses another clock (tests, simulations).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Sets how many bytes the Set-Cookie header holds besides the value (`name=` and attributes).
    #[must_use]
    pub fn with_cookie_overhead(mut self, bytes: usize) -> Self {
        self.cookie_overhead = bytes;
        self
    }

    /// The codec.
    #[must_use]
    pub fn codec(&self) -> &Codec {
        &self.codec
    }

    /// The timing rules.
    #[must_use]
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// The current time by this engine's clock.
    #[must_use]
    pub fn now(&self) -> f64 {
        self.clock.now()
    }

    /// Bytes of the Set-Cookie header besides the value.
    #[must_use]
    pub fn cookie_overhead(&self) -> usize {
        self.cookie_overhead
    }

    /// A session for a request that carried `raw` as its session cookie value (or none). Nothing
    /// is decoded until the handler first touches the session.
    #[must_use]
    pub fn session(self: &Arc<Self>, raw: Option<String>) -> Session {
        Session::lazy(Arc::clone(self), raw)
    }

    /// Judges a cookie value now: verified, decoded and checked against the time rules.
    #[must_use]
    pub fn judge(&self, raw: Option<&str>) -> (CookieStatus, Option<Record>) {
        self.judge_at(raw, self.now())
    }

    /// [`judge`](Self::judge) at a given time (one clock reading serves a whole request).
    fn judge_at(&self, raw: Option<&str>, now: f64) -> (CookieStatus, Option<Record>) {
        let Some(raw) = raw else {
            return (CookieStatus::Absent, None);
        };
        match self.codec.decode(raw) {
            Ok(decoded) => (
                self.judge_record_at(&decoded.record, decoded.key_index, now),
                Some(decoded.record),
            ),
            Err(err) => (err.into(), None),
        }
    }

    /// Applies the time rules (future skew, idle timeout, absolute lifetime) to a verified record;
    /// `key_index` tells which secret verified it.
    #[must_use]
    pub fn judge_record(&self, record: &Record, key_index: usize) -> CookieStatus {
        self.judge_record_at(record, key_index, self.now())
    }

    fn judge_record_at(&self, record: &Record, key_index: usize, now: f64) -> CookieStatus {
        let accessed = record.accessed.as_secs_f64();
        let created = record.created.as_secs_f64();
        // A future `created` would make the absolute lifetime never end: same rule as `accessed`.
        let ahead = (accessed - now).max(created - now);
        if ahead > MAX_FUTURE_SKEW {
            CookieStatus::FutureTimestamp { ahead_secs: ahead }
        } else if self
            .config
            .timeout
            .is_some_and(|timeout| now - accessed > timeout as f64)
        {
            CookieStatus::Expired {
                idle_secs: now - accessed,
            }
        } else if self
            .config
            .max_lifetime
            .is_some_and(|max| now - created > max as f64)
        {
            CookieStatus::LifetimeExceeded {
                age_secs: now - created,
            }
        } else if key_index == 0 {
            CookieStatus::Valid
        } else {
            CookieStatus::ValidOldKey { key_index }
        }
    }

    /// A session whose state is already known: `Ok((record, key_index))` as loaded from a store
    /// (or an eagerly decoded cookie; `key_index` is the secret that verified the cookie), judged
    /// by the time rules; or a fresh session with the status in `Err` when there is no record.
    /// `id` is where it lives in the store, if anywhere. One clock reading serves the whole
    /// request, as on the lazy cookie path.
    #[must_use]
    pub fn session_from(
        self: &Arc<Self>,
        incoming: Result<(Record, usize), CookieStatus>,
        id: Option<SessionId>,
    ) -> Session {
        let now = self.now();
        let (status, record) = match incoming {
            Ok((record, key_index)) => {
                (self.judge_record_at(&record, key_index, now), Some(record))
            }
            Err(status) => (status, None),
        };
        Session::loaded(
            Arc::clone(self),
            self.start_at(status, record, now),
            id,
            now,
        )
    }

    /// Where sessions live.
    #[must_use]
    pub fn storage(&self) -> StorageMode {
        self.storage
    }

    /// Keeps sessions in a store (or spills them there), as the middleware does it.
    #[must_use]
    pub fn with_storage(mut self, storage: StorageMode) -> Self {
        self.storage = storage;
        self
    }

    /// Time-to-live of a stored session: the idle timeout, else the absolute lifetime.
    #[must_use]
    pub fn store_ttl(&self) -> Option<std::time::Duration> {
        self.config
            .timeout
            .or(self.config.max_lifetime)
            .map(std::time::Duration::from_secs)
    }

    /// Reads a cookie value into the state a session starts with, at time `now`.
    pub(crate) fn load_at(&self, raw: Option<&str>, now: f64) -> Loaded {
        let (status, record) = self.judge_at(raw, now);
        self.start_at(status, record, now)
    }

    /// The session a judged cookie starts: its record when valid, else a fresh one.
    fn start_at(&self, status: CookieStatus, record: Option<Record>, now: f64) -> Loaded {
        match record {
            Some(record) if status.is_valid() => Loaded {
                record,
                new: false,
                status,
            },
            _ => Loaded {
                record: Self::fresh_record_at(now),
                new: true,
                status,
            },
        }
    }

    /// The record of a brand-new session: created now (a float, as Pyramid's `time.time()`).
    pub(crate) fn fresh_record_at(now: f64) -> Record {
        Record::new(Timestamp::Float(now), Timestamp::Float(now), Map::new())
    }

    /// The size of the Set-Cookie that would carry `record`.
    #[must_use]
    pub fn cookie_size(&self, record: &Record) -> usize {
        self.cookie_overhead + self.codec.encoded_len(record)
    }

    /// The size of the Set-Cookie that carries a session id (for a session kept in a store).
    #[must_use]
    pub fn id_cookie_size(&self) -> usize {
        self.cookie_overhead + self.codec.id_value_len()
    }
}
