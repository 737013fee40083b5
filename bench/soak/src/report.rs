//! What the soak counts, and the verdict.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Everything the visitors observed; shared by all of them.
#[derive(Default)]
pub struct Tally {
    inner: Mutex<Counts>,
}

#[derive(Default, Debug, Clone)]
pub struct Counts {
    /// Requests sent, and how many were answered 2xx.
    pub requests: u64,
    pub ok: u64,
    /// When each 503 arrived, and what it said.
    pub unavailable: Vec<(Instant, String)>,
    /// Answers that are neither 2xx nor 503 (a 4xx, a 500, a broken connection).
    pub errors: Vec<String>,
    /// Increments acknowledged with a 2xx and later missing.
    pub lost_increments: u64,
    /// Sessions that were acknowledged and later unknown to the store.
    pub lost_sessions: u64,
    /// Sessions whose state matched neither what was acknowledged nor a pending write.
    pub corrupted: Vec<String>,
    /// Writes answered 503, found applied or not once the store was back.
    pub ambiguous_applied: u64,
    pub ambiguous_not_applied: u64,
    /// Increments acknowledged with a 2xx, in all.
    pub increments: u64,
    /// Sessions checked at the end, on both servers.
    pub final_checks: u64,
}

impl Tally {
    pub fn with<T>(&self, f: impl FnOnce(&mut Counts) -> T) -> T {
        f(&mut self.inner.lock().unwrap_or_else(|e| e.into_inner()))
    }

    pub fn snapshot(&self) -> Counts {
        self.with(|c| c.clone())
    }
}

/// One Redis outage: from the stop to the moment Redis answered again.
#[derive(Debug, Clone, Copy)]
pub struct Outage {
    pub down: Instant,
    pub up: Instant,
    pub how: &'static str,
}

/// The 503s inside an outage window (from the stop to `grace` after Redis answered again),
/// and the others, with how long after the nearest outage's end the latest one came.
pub fn classify<'a>(
    unavailable: &'a [(Instant, String)],
    outages: &[Outage],
    grace: Duration,
) -> (usize, Vec<&'a (Instant, String)>, Duration) {
    let mut inside = 0;
    let mut outside = Vec::new();
    let mut latest_after_up = Duration::ZERO;
    for entry in unavailable {
        let at = entry.0;
        let window = outages.iter().find(|o| at >= o.down && at <= o.up + grace);
        if let Some(o) = window {
            inside += 1;
            latest_after_up = latest_after_up.max(at.saturating_duration_since(o.up));
        } else {
            outside.push(entry);
        }
    }
    (inside, outside, latest_after_up)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_503_counts_as_inside_only_between_the_stop_and_the_grace_after_the_restart() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let outages = [Outage {
            down: t0 + s(10),
            up: t0 + s(13),
            how: "test",
        }];
        let at = [9, 10, 14, 16].map(|n| (t0 + s(n), String::new()));
        let (inside, outside, latest) = classify(&at, &outages, s(2));
        assert_eq!((inside, outside.len()), (2, 2));
        assert_eq!(latest, s(1));
    }
}
