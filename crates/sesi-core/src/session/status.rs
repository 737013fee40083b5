//! What the incoming cookie turned out to be, and why a cookie is sent back.

use std::sync::Arc;
use std::time::Duration;

use crate::format::DecodeError;

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
    /// Not a cookie the format could read; the error names the failing step.
    Malformed(Arc<DecodeError>),
    /// Idle for longer than `timeout`.
    Expired {
        /// Seconds since it was last accessed.
        idle: Duration,
    },
    /// `accessed` (or `created`) lies more than [`MAX_FUTURE_SKEW`](super::MAX_FUTURE_SKEW) in the
    /// future.
    FutureTimestamp {
        /// How far ahead, in seconds.
        ahead: Duration,
    },
    /// Older than `max_lifetime`.
    LifetimeExceeded {
        /// Seconds since it was created.
        age: Duration,
    },
    /// A valid session-id cookie whose session the store does not hold (expired or invalidated),
    /// or one that reached a layer that keeps no store.
    UnknownSession,
    /// The store could not be reached, so the session could not be loaded.
    StoreUnavailable,
    /// A valid whole-session cookie reaching a layer that keeps sessions in a store: refused,
    /// since a store could not revoke it (unless the layer accepts cookie sessions, during a
    /// migration to the store).
    WholeSessionRefused,
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
    /// `expired`, `future-timestamp`, `lifetime-exceeded`, `unknown-session`, `store-unavailable`,
    /// `whole-session-refused`.
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
            CookieStatus::WholeSessionRefused => "whole-session-refused",
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
            CookieStatus::Expired { idle } => {
                write!(f, "expired: idle for {:.0} s", idle.as_secs_f64())
            }
            CookieStatus::FutureTimestamp { ahead } => {
                write!(
                    f,
                    "rejected: accessed {:.0} s in the future",
                    ahead.as_secs_f64()
                )
            }
            CookieStatus::LifetimeExceeded { age } => {
                write!(
                    f,
                    "expired: created {:.0} s ago, past the absolute lifetime",
                    age.as_secs_f64()
                )
            }
            CookieStatus::UnknownSession => {
                f.write_str("the store holds no such session (expired or invalidated)")
            }
            CookieStatus::StoreUnavailable => f.write_str("the session store is unavailable"),
            CookieStatus::WholeSessionRefused => f.write_str(
                "a whole-session cookie, which a layer that keeps sessions in a store refuses (it \
                 could not revoke it)",
            ),
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
