//! `sesi serve`'s log: text or JSON lines on standard error, written by a thread of their own
//! through a bounded queue that never drops a line.
//!
//! A request hands its line to the queue and goes on; the writer thread copies the queue to
//! standard error. When standard error is slow the queue fills, and a full queue makes the next
//! logging call wait for room (`lossy(false)`): memory stays bounded and no line is lost. At exit
//! [`LogGuard`] waits until every queued line is written before it stops the thread, since
//! `tracing-appender`'s own guard gives the thread only one second to catch up.

use std::io::{self, IsTerminal as _, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tracing_appender::non_blocking::{NonBlocking, NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

use super::LogFormat;

/// Lines the queue holds before a logging call waits for room (a few MB of request lines).
const QUEUE_LINES: usize = 16_384;

/// At exit, how long standard error may accept nothing before the queued lines are given up.
const STALLED: Duration = Duration::from_secs(10);

/// Whether text lines get ANSI colours: only on a terminal, and not when `NO_COLOR` is set to
/// anything but the empty string (<https://no-color.org>). JSON never has them.
fn wants_colour(format: LogFormat, terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    format == LogFormat::Text && terminal && no_color.is_none_or(|v| v.is_empty())
}

/// Installs the global subscriber: `format` lines at `RUST_LOG`'s level (default `info`) on
/// standard error, through the writer thread. Keep the guard until the server has stopped.
///
/// `None` when a global subscriber was already installed (tests may run several servers in one
/// process): the first one stays, and the writer thread built here is stopped again at once.
#[must_use = "dropping the guard flushes and stops the log writer"]
pub(super) fn init(format: LogFormat) -> Option<LogGuard> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let counts = Arc::new(Counts::default());
    let (queue, worker) = NonBlockingBuilder::default()
        .lossy(false)
        .buffered_lines_limit(QUEUE_LINES)
        .thread_name("sesi-log")
        .finish(Stderr(Arc::clone(&counts)));
    let writer = Queue {
        queue,
        counts: Arc::clone(&counts),
    };
    let layer = match format {
        LogFormat::Text => {
            let colour = wants_colour(
                format,
                io::stderr().is_terminal(),
                std::env::var_os("NO_COLOR").as_deref(),
            );
            tracing_subscriber::fmt::layer()
                .with_writer(writer)
                .with_ansi(colour)
                .boxed()
        }
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .with_writer(writer)
            .with_ansi(false)
            .boxed(),
    };
    let subscriber = tracing_subscriber::registry().with(filter).with(layer);
    // On failure the subscriber and `worker` are dropped here, which stops the unused thread.
    tracing::subscriber::set_global_default(subscriber).ok()?;
    // Records of the `log` crate (some dependencies use it) become events too, as
    // `SubscriberInitExt::try_init` would do; a `log` logger already set is kept.
    let _ = tracing_log::LogTracer::builder()
        .with_max_level(tracing_log::AsLog::as_log(
            &tracing::level_filters::LevelFilter::current(),
        ))
        .init();
    Some(LogGuard {
        worker: Some(worker),
        counts,
    })
}

/// Keeps the writer thread running; on drop, waits until every queued line is on standard error,
/// then stops the thread.
#[derive(Debug)]
pub(super) struct LogGuard {
    worker: Option<WorkerGuard>,
    counts: Arc<Counts>,
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        self.counts.wait_until_written(STALLED);
        drop(self.worker.take());
    }
}

/// Bytes handed to the queue and bytes the writer thread has written (or failed to write).
#[derive(Debug, Default)]
struct Counts {
    queued: AtomicU64,
    written: AtomicU64,
}

impl Counts {
    /// Waits until everything queued is written, giving up only when nothing was written for
    /// `stalled` (standard error is stuck: nobody reads the pipe).
    fn wait_until_written(&self, stalled: Duration) {
        let mut last = self.written.load(Ordering::Acquire);
        let mut since = Instant::now();
        while last < self.queued.load(Ordering::Acquire) {
            std::thread::sleep(Duration::from_millis(1));
            let now = self.written.load(Ordering::Acquire);
            if now != last {
                (last, since) = (now, Instant::now());
            } else if since.elapsed() >= stalled {
                return;
            }
        }
    }
}

/// The subscriber's side of the queue: counts what it hands over.
#[derive(Clone, Debug)]
struct Queue {
    queue: NonBlocking,
    counts: Arc<Counts>,
}

impl Write for Queue {
    /// One call per event: `NonBlocking` takes the whole buffer as one line, waiting for room.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let len = buf.len() as u64;
        self.counts.queued.fetch_add(len, Ordering::AcqRel);
        self.queue.write(buf).inspect_err(|_| {
            self.counts.queued.fetch_sub(len, Ordering::AcqRel);
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        self.queue.flush()
    }
}

impl<'a> MakeWriter<'a> for Queue {
    type Writer = Queue;

    fn make_writer(&'a self) -> Queue {
        self.clone()
    }
}

/// The writer thread's side: standard error, counting what it has dealt with.
struct Stderr(Arc<Counts>);

impl Write for Stderr {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = io::stderr().write(buf)?;
        self.0.written.fetch_add(written as u64, Ordering::AcqRel);
        Ok(written)
    }

    /// What the writer thread calls for each line. A line standard error refused still counts:
    /// it is dealt with, and the exit must not wait for it.
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        let result = io::stderr().write_all(buf);
        self.0.written.fetch_add(buf.len() as u64, Ordering::AcqRel);
        result
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::OsStr;

    use super::*;

    #[test]
    fn colours_only_for_text_on_a_terminal_without_no_color() {
        let text = LogFormat::Text;
        assert!(wants_colour(text, true, None));
        assert!(
            wants_colour(text, true, Some(OsStr::new(""))),
            "empty is unset"
        );
        assert!(!wants_colour(text, true, Some(OsStr::new("1"))));
        assert!(!wants_colour(text, false, None), "a file or a pipe");
        assert!(!wants_colour(LogFormat::Json, true, None));
    }

    #[test]
    fn exit_waits_for_the_queue_and_gives_up_only_when_stderr_is_stuck() {
        let counts = Arc::new(Counts::default());
        counts.queued.store(1000, Ordering::Release);
        let writer = {
            let counts = Arc::clone(&counts);
            std::thread::spawn(move || {
                for _ in 0..10 {
                    std::thread::sleep(Duration::from_millis(40));
                    counts.written.fetch_add(100, Ordering::AcqRel);
                }
            })
        };
        // Slower than `stalled` in all, but never stalled that long: it waits to the end.
        counts.wait_until_written(Duration::from_millis(250));
        assert_eq!(counts.written.load(Ordering::Acquire), 1000);
        writer.join().expect("the writer does not panic");

        counts.queued.store(1100, Ordering::Release);
        let start = Instant::now();
        counts.wait_until_written(Duration::from_millis(50));
        assert!(start.elapsed() >= Duration::from_millis(50), "waited first");
    }
}
