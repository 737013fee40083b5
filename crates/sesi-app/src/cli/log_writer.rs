//! The log's writer thread: requests append their lines to a bounded buffer and go on; a thread
//! of its own writes the buffer to standard error in one `write(2)` every [`INTERVAL`], or as
//! soon as [`BATCH`] bytes are waiting. Nothing wakes it per line: tracing-appender's
//! non-blocking writer woke its thread for every line, which under load cost a request more than
//! formatting its line did. The buffer is lossless: when [`CAPACITY`] bytes wait (standard error
//! cannot keep up), the next line waits for room.

use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tracing_subscriber::fmt::MakeWriter;

/// How long a line may wait before the thread writes it.
const INTERVAL: Duration = Duration::from_millis(10);

/// Bytes that make the thread write at once.
const BATCH: usize = 64 * 1024;

/// Bytes that may wait; past it a logging call waits for room (about 18,000 JSON request lines).
const CAPACITY: usize = 4 * 1024 * 1024;

/// The requests' side: a [`MakeWriter`] for tracing-subscriber. Cheap to clone.
#[derive(Clone, Debug)]
pub(super) struct LogQueue {
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    /// The thread has something to do: a full batch, or the end.
    work: Condvar,
    /// Room in the buffer.
    room: Condvar,
    counts: Counts,
}

#[derive(Debug, Default)]
struct State {
    pending: Vec<u8>,
    closing: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Starts the writer thread; `write` is where it writes (standard error).
pub(super) fn start(mut write: impl Write + Send + 'static) -> LogQueue {
    let shared = Arc::new(Shared::default());
    let thread = Arc::clone(&shared);
    let spawned = std::thread::Builder::new()
        .name("sesi-log".to_owned())
        .spawn(move || {
            let mut batch = Vec::with_capacity(BATCH);
            loop {
                let closing = {
                    let mut state = thread.lock();
                    while state.pending.len() < BATCH && !state.closing {
                        let (next, waited) = thread
                            .work
                            .wait_timeout(state, INTERVAL)
                            .unwrap_or_else(std::sync::PoisonError::into_inner);
                        state = next;
                        if waited.timed_out() && !state.pending.is_empty() {
                            break;
                        }
                    }
                    std::mem::swap(&mut state.pending, &mut batch);
                    state.closing && state.pending.is_empty()
                };
                thread.room.notify_all();
                if !batch.is_empty() {
                    // A batch standard error refused still counts as dealt with: the exit must
                    // not wait for it.
                    let _ = write.write_all(&batch).and_then(|()| write.flush());
                    let len = batch.len() as u64;
                    thread.counts.written.fetch_add(len, Ordering::AcqRel);
                    batch.clear();
                }
                if closing {
                    return;
                }
            }
        });
    if let Err(err) = spawned {
        // No thread: lines are written by the logging call itself (see `write`).
        eprintln!("sesi: cannot start the log writer thread ({err}); logging synchronously");
        shared.lock().closing = true;
    }
    LogQueue { shared }
}

impl LogQueue {
    /// Tells the thread to write what is left and stop, then waits until every line queued is
    /// written, giving up only when nothing was written for `stalled` (standard error is stuck).
    pub(super) fn close(&self, stalled: Duration) {
        self.shared.lock().closing = true;
        self.shared.work.notify_one();
        self.shared.counts.wait_until_written(stalled);
    }
}

impl Write for LogQueue {
    /// One call per event: the whole line goes in, waiting for room if the buffer is full.
    fn write(&mut self, line: &[u8]) -> io::Result<usize> {
        let shared = &*self.shared;
        let mut state = shared.lock();
        if state.closing {
            // After the end (or without a thread): straight to standard error.
            drop(state);
            io::stderr().write_all(line)?;
            return Ok(line.len());
        }
        while !state.pending.is_empty() && state.pending.len() + line.len() > CAPACITY {
            shared.work.notify_one();
            state = shared
                .room
                .wait(state)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        state.pending.extend_from_slice(line);
        shared
            .counts
            .queued
            .fetch_add(line.len() as u64, Ordering::AcqRel);
        if state.pending.len() >= BATCH {
            shared.work.notify_one();
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for LogQueue {
    type Writer = LogQueue;

    fn make_writer(&'a self) -> LogQueue {
        self.clone()
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A `Write` that keeps what it got, slowly.
    #[derive(Clone, Default)]
    struct Slow(Arc<Mutex<Vec<u8>>>);

    impl Write for Slow {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            std::thread::sleep(Duration::from_millis(2));
            self.0.lock().expect("not poisoned").extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_line_arrives_in_order_and_close_waits_for_the_last() {
        let out = Slow::default();
        let queue = start(out.clone());
        let writers: Vec<_> = (0..4)
            .map(|t| {
                let mut queue = queue.clone();
                std::thread::spawn(move || {
                    for i in 0..5_000 {
                        queue
                            .write_all(format!("t{t} line {i}\n").as_bytes())
                            .expect("queued");
                    }
                })
            })
            .collect();
        for writer in writers {
            writer.join().expect("no panic");
        }
        queue.close(Duration::from_secs(10));
        let text = String::from_utf8(out.0.lock().expect("not poisoned").clone()).expect("utf8");
        assert_eq!(text.lines().count(), 20_000, "nothing lost");
        for t in 0..4 {
            let mine: Vec<&str> = text
                .lines()
                .filter(|l| l.starts_with(&format!("t{t} ")))
                .collect();
            let want: Vec<String> = (0..5_000).map(|i| format!("t{t} line {i}")).collect();
            assert_eq!(mine, want, "each writer's lines in order");
        }
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
