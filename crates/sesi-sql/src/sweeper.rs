//! The periodic sweep: expired sessions and lock leases are never read (every read checks the
//! expiry), but their rows stay until something deletes them. A [`Sweeper`] does, every
//! interval, until it is dropped.

use std::time::Duration;

use tokio::task::JoinHandle;

use crate::SqlStore;

/// A background task that sweeps a store every interval; stopped when dropped (or with
/// [`stop`](Self::stop)). Made by [`SqlStore::spawn_sweeper`].
#[derive(Debug)]
#[must_use = "the sweeper stops when dropped"]
pub struct Sweeper {
    task: Option<JoinHandle<()>>,
}

impl Sweeper {
    pub(crate) fn spawn(store: SqlStore, every: Duration) -> Self {
        let every = every.max(Duration::from_secs(1));
        let task = tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                match store.sweep().await {
                    Ok(0) => {}
                    Ok(removed) => tracing::debug!(removed, "swept expired sessions"),
                    // The next tick tries again; a database that is down is reported by the
                    // requests too.
                    Err(err) => tracing::warn!(%err, "session sweep failed"),
                }
            }
        });
        Sweeper { task: Some(task) }
    }

    /// Stops sweeping.
    pub fn stop(self) {}

    /// Lets the sweeper run for as long as its runtime does (a server's whole life).
    pub fn detach(mut self) {
        self.task = None;
    }
}

impl Drop for Sweeper {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}
