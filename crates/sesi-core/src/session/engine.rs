//! The session rules: how a cookie value becomes the state a session starts with (expiry, skew,
//! lifetime, rotation), through the cookie format and under the timing rules.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Map;

use super::config::{
    DEFAULT_MAX_STORED_SIZE, MAX_COOKIE_SIZE, MAX_FUTURE_SKEW, SessionConfig, SessionConfigError,
    StorageMode,
};
use super::expiry::Expiry;
use super::status::CookieStatus;
use crate::clock::{Clock, SystemClock};
use crate::format::{CookieContent, CookieFormat, IntoCookieFormat};
use crate::record::{Record, Timestamp};

/// Everything needed to turn cookie values into sessions and back: the cookie format, the timing
/// rules, the clock, where sessions live, and the size of the cookie's non-value part (so size
/// checks count the whole cookie). Shared by all requests behind an `Arc`.
#[derive(Debug)]
pub struct SessionEngine {
    format: Arc<dyn CookieFormat>,
    config: SessionConfig,
    clock: Arc<dyn Clock>,
    cookie_overhead: usize,
    storage: StorageMode,
    probation: Option<Duration>,
    max_stored: usize,
}

/// The session data after the cookie was read and judged.
pub(crate) struct Loaded {
    pub(crate) record: Record,
    pub(crate) new: bool,
    pub(crate) status: CookieStatus,
}

impl SessionEngine {
    /// An engine with the system clock, cookie storage and no cookie attribute overhead.
    ///
    /// # Errors
    /// [`SessionConfigError`] when `config` fails [`SessionConfig::validate`], or asks for a
    /// `max_lifetime` the format cannot enforce.
    pub fn new(
        format: impl IntoCookieFormat,
        config: SessionConfig,
    ) -> Result<Self, SessionConfigError> {
        let format = format.into_cookie_format();
        config.validate()?;
        if config.max_lifetime.is_some() && !format.carries_created() {
            return Err(SessionConfigError::LifetimeNeedsCreated {
                format: format.name(),
            });
        }
        Ok(SessionEngine {
            format,
            config,
            clock: Arc::new(SystemClock),
            cookie_overhead: 0,
            storage: StorageMode::Cookie,
            probation: None,
            max_stored: DEFAULT_MAX_STORED_SIZE,
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

    /// Keeps sessions in a store (or spills them there), as the middleware does it.
    #[must_use]
    pub fn with_storage(mut self, storage: StorageMode) -> Self {
        self.storage = storage;
        self
    }

    /// Keeps a stored session whose visitor has not come back yet for at most `probation`
    /// (`None`: the full time-to-live from the start), so sessions nobody returns to (crawlers,
    /// scripts that drop cookies) leave the store soon.
    #[must_use]
    pub fn with_probation(mut self, probation: Option<Duration>) -> Self {
        self.probation = probation;
        self
    }

    /// How long a stored session whose visitor has not come back yet is kept, if limited.
    #[must_use]
    pub fn probation(&self) -> Option<Duration> {
        self.probation
    }

    /// Caps a session kept in a store at `bytes` of JSON (default [`DEFAULT_MAX_STORED_SIZE`]).
    #[must_use]
    pub fn with_max_stored_size(mut self, bytes: usize) -> Self {
        self.max_stored = bytes;
        self
    }

    /// The cap on a session kept in a store, in bytes of JSON.
    #[must_use]
    pub fn max_stored_size(&self) -> usize {
        self.max_stored
    }

    /// The size a record would have where it lives now, and the limit there: the Set-Cookie
    /// against [`MAX_COOKIE_SIZE`] in cookie mode, its JSON against the store's cap in store
    /// mode, and in spill mode the cookie while it fits, else the JSON.
    #[must_use]
    pub fn size_and_limit(&self, record: &Record) -> (usize, usize) {
        let stored = || {
            let mut json = Vec::new();
            record.write_json(&mut json);
            (json.len(), self.max_stored)
        };
        match self.storage {
            StorageMode::Store => stored(),
            StorageMode::Cookie => (self.cookie_size(record), MAX_COOKIE_SIZE),
            StorageMode::Spill => {
                let cookie = self.cookie_size(record);
                if cookie <= MAX_COOKIE_SIZE {
                    (cookie, MAX_COOKIE_SIZE)
                } else {
                    stored()
                }
            }
        }
    }

    /// The cookie format.
    #[must_use]
    pub fn format(&self) -> &dyn CookieFormat {
        &*self.format
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

    /// Where sessions live.
    #[must_use]
    pub fn storage(&self) -> StorageMode {
        self.storage
    }

    /// Judges a cookie value now: verified, decoded and checked against the time rules. A
    /// session-id cookie has no record here (its state is in a store): `UnknownSession`.
    #[must_use]
    pub fn judge(&self, raw: Option<&str>) -> (CookieStatus, Option<Record>) {
        self.judge_at(raw, self.now())
    }

    /// [`judge`](Self::judge) at a given time (one clock reading serves a whole request).
    fn judge_at(&self, raw: Option<&str>, now: f64) -> (CookieStatus, Option<Record>) {
        let Some(raw) = raw else {
            return (CookieStatus::Absent, None);
        };
        match self.format.decode(raw) {
            Ok(decoded) => match decoded.content {
                CookieContent::State(record) => (
                    self.judge_record_at(&record, decoded.key_index, now),
                    Some(record),
                ),
                CookieContent::Id(_) => (CookieStatus::UnknownSession, None),
            },
            Err(err) => (err.into(), None),
        }
    }

    /// Applies the time rules (future skew, idle timeout, absolute lifetime) to a verified record;
    /// `key_index` tells which key verified it.
    #[must_use]
    pub fn judge_record(&self, record: &Record, key_index: usize) -> CookieStatus {
        self.judge_record_at(record, key_index, self.now())
    }

    pub(crate) fn judge_record_at(
        &self,
        record: &Record,
        key_index: usize,
        now: f64,
    ) -> CookieStatus {
        let accessed = record.accessed.as_secs_f64();
        let created = record.created.map(Timestamp::as_secs_f64);
        // A future `created` would make the absolute lifetime never end: same rule as `accessed`.
        let ahead = (accessed - now).max(created.map_or(f64::MIN, |c| c - now));
        let limit = |d: Option<Duration>| d.map(|d| d.as_secs_f64());
        // Every span reported below is positive by its branch's test.
        let span = |secs: f64| Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX);
        if ahead > MAX_FUTURE_SKEW.as_secs_f64() {
            CookieStatus::FutureTimestamp { ahead: span(ahead) }
        } else if limit(self.expiry_of(record).timeout(self.config.timeout))
            .is_some_and(|timeout| now - accessed > timeout)
        {
            CookieStatus::Expired {
                idle: span(now - accessed),
            }
        } else if let Some(age) = created
            .map(|created| now - created)
            .filter(|age| limit(self.config.max_lifetime).is_some_and(|max| *age > max))
        {
            CookieStatus::LifetimeExceeded { age: span(age) }
        } else if key_index == 0 {
            CookieStatus::Valid
        } else {
            CookieStatus::ValidOldKey { key_index }
        }
    }

    /// Time-to-live of a stored session: the idle timeout, else the absolute lifetime.
    #[must_use]
    pub fn store_ttl(&self) -> Option<Duration> {
        self.config.timeout.or(self.config.max_lifetime)
    }

    /// The per-session expiry `record` carries under the format's reserved key.
    #[must_use]
    pub fn expiry_of(&self, record: &Record) -> Expiry {
        Expiry::from_state(&record.state, self.format().reserved_keys().expiry)
    }

    /// Time-to-live of a save: [`store_ttl`](Self::store_ttl) for a visitor who came back with
    /// a valid cookie, at most the probation for one who has not (yet).
    #[must_use]
    pub fn save_ttl(&self, returning: bool) -> Option<Duration> {
        self.save_ttl_with(returning, Expiry::Default)
    }

    /// [`save_ttl`](Self::save_ttl) for a session with its own `expiry`: a max age replaces
    /// the idle timeout.
    #[must_use]
    pub fn save_ttl_with(&self, returning: bool, expiry: Expiry) -> Option<Duration> {
        let ttl = match expiry {
            Expiry::MaxAge(max_age) => Some(max_age),
            Expiry::Default | Expiry::BrowserSession => self.store_ttl(),
        };
        match (returning, self.probation, ttl) {
            (false, Some(probation), Some(ttl)) => Some(probation.min(ttl)),
            (false, Some(probation), None) => Some(probation),
            _ => ttl,
        }
    }

    /// Reads a cookie value into the state a session starts with, at time `now`.
    pub(crate) fn load_at(&self, raw: Option<&str>, now: f64) -> Loaded {
        let (status, record) = self.judge_at(raw, now);
        self.start_at(status, record, now)
    }

    /// The session a judged cookie starts: its record when valid, else a fresh one.
    pub(crate) fn start_at(
        &self,
        status: CookieStatus,
        record: Option<Record>,
        now: f64,
    ) -> Loaded {
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
        self.cookie_overhead + self.format.encoded_len(record)
    }

    /// The size of the Set-Cookie that carries a session id (for a session kept in a store).
    #[must_use]
    pub fn id_cookie_size(&self) -> usize {
        self.cookie_overhead + self.format.encoded_id_len()
    }
}
