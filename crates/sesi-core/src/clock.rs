//! Time as the session rules see it, injectable so expiry and reissue are tested without sleeping.

use std::fmt::Debug;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of the current time in float seconds since the Unix epoch (Python's `time.time()`).
pub trait Clock: Send + Sync + Debug + 'static {
    /// Seconds since the Unix epoch.
    fn now(&self) -> f64;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> f64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64())
    }
}

/// A clock that only moves when told to; for tests.
///
/// ```
/// use sesi_core::{Clock, ManualClock};
/// let clock = ManualClock::new(1764000000.0);
/// clock.advance(std::time::Duration::from_secs(1200));
/// assert_eq!(clock.now(), 1764001200.0);
/// ```
#[derive(Debug, Default)]
pub struct ManualClock {
    now: Mutex<f64>,
}

impl ManualClock {
    /// A clock stopped at `now`.
    #[must_use]
    pub fn new(now: f64) -> Self {
        ManualClock {
            now: Mutex::new(now),
        }
    }

    /// Moves the clock to `now`.
    pub fn set(&self, now: f64) {
        *self.now.lock().unwrap_or_else(|e| e.into_inner()) = now;
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        *self.now.lock().unwrap_or_else(|e| e.into_inner()) += by.as_secs_f64();
    }
}

impl Clock for ManualClock {
    fn now(&self) -> f64 {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl<C: Clock> Clock for std::sync::Arc<C> {
    fn now(&self) -> f64 {
        (**self).now()
    }
}
