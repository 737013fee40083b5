//! How the tests share the machine. They all run as threads of one process, next to each other;
//! most are light (the app in-process, a quick `sesi` CLI run), but some start programs
//! (`sesi serve`, redis-server, the Pyramid app, Python scripts) or hold wall-clock bounds
//! ("answered within 2 s"), and the browser tests start Chromium, which alone can keep two cores
//! busy. So:
//!
//! - a test that starts a program or checks a wall-clock bound holds a [`share`] of the machine
//!   for its whole run: at most one per core at a time;
//! - a browser test holds the [`whole`] machine: no such test runs beside it, and a bound
//!   measured elsewhere cannot be missed because Chromium was starting.
//!
//! The shares come from one fair (first come, first served) semaphore, so a browser test waiting
//! for the whole machine is not starved by shares asked for after it.

use std::sync::LazyLock;

use tokio::sync::{Semaphore, SemaphorePermit};

/// As many shares as cores (at least two).
static SHARES: LazyLock<(Semaphore, u32)> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let shares = u32::try_from(cores.max(2)).unwrap_or(u32::MAX);
    (Semaphore::new(shares as usize), shares)
});

/// A share of the machine, given back on drop.
#[must_use = "the share is given back when this is dropped"]
pub struct Share {
    _permit: SemaphorePermit<'static>,
}

/// One share of the machine, for a test that starts programs or checks a wall-clock bound.
pub async fn share() -> Share {
    let (semaphore, _) = &*SHARES;
    let permit = semaphore.acquire().await;
    Share {
        _permit: permit.expect("the semaphore is never closed"),
    }
}

/// [`share`] for a test that is not async.
pub fn share_blocking() -> Share {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime to wait in")
        .block_on(share())
}

/// The whole machine, for a test that drives a browser.
pub async fn whole() -> Share {
    let (semaphore, shares) = &*SHARES;
    let permit = semaphore.acquire_many(*shares).await;
    Share {
        _permit: permit.expect("the semaphore is never closed"),
    }
}
