//! `sesi serve`'s log: text or JSON lines on standard error, written by a thread of their own
//! ([`log_writer`](super::log_writer)) through a bounded buffer that never drops a line. At exit
//! [`LogGuard`] waits until every line is written.

use std::io::{self, IsTerminal as _};
use std::time::Duration;

use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

use super::LogFormat;
use super::log_writer::{self, LogQueue};

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
    let writer = log_writer::start(io::stderr());
    let queue = writer.clone();
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
    if tracing::subscriber::set_global_default(subscriber).is_err() {
        // Another subscriber stays; the thread started here has nothing to do.
        queue.close(STALLED);
        return None;
    }
    // Records of the `log` crate (some dependencies use it) become events too, as
    // `SubscriberInitExt::try_init` would do; a `log` logger already set is kept.
    let _ = tracing_log::LogTracer::builder()
        .with_max_level(tracing_log::AsLog::as_log(
            &tracing::level_filters::LevelFilter::current(),
        ))
        .init();
    Some(LogGuard { queue })
}

/// Keeps the writer thread running; on drop, waits until every queued line is on standard error,
/// then stops the thread.
#[derive(Debug)]
pub(super) struct LogGuard {
    queue: LogQueue,
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        self.queue.close(STALLED);
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
}
