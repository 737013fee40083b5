//! The processes of the soak: one persistent redis-server that is stopped and started again, and
//! the `sesi serve` processes sharing it.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free port on 127.0.0.1 (bound and released; fine for a test machine).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

/// How Redis goes away.
#[derive(Debug, Clone, Copy)]
pub enum Stop {
    /// SIGTERM: Redis flushes and exits.
    Graceful,
    /// SIGKILL: a crash; only what `appendfsync always` wrote survives.
    Crash,
}

/// A redis-server with `appendonly yes`, `appendfsync always` in a directory of its own, so a
/// restart finds every acknowledged write.
pub struct Redis {
    binary: String,
    pub port: u16,
    dir: PathBuf,
    persistent: bool,
    child: Option<Child>,
    starts: u32,
}

impl Redis {
    /// `persistent: false` runs it without the append-only file (the harness's self-check).
    pub fn start(binary: &str, dir: &Path, persistent: bool) -> Redis {
        let mut redis = Redis {
            binary: binary.to_owned(),
            port: free_port(),
            dir: dir.to_owned(),
            persistent,
            child: None,
            starts: 0,
        };
        redis.spawn();
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn spawn(&mut self) {
        self.starts += 1;
        let log = File::create(self.dir.join(format!("redis-{}.log", self.starts)))
            .expect("a redis log file");
        let child = Command::new(&self.binary)
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--appendfsync", "always", "--save", ""])
            .args(["--appendonly", if self.persistent { "yes" } else { "no" }])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(log)
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", self.binary));
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while !self.answers_ping() {
            assert!(Instant::now() < deadline, "redis-server did not come up");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// True when Redis answers `PING` (after loading its append-only file).
    pub fn answers_ping(&self) -> bool {
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
        if stream.write_all(b"PING\r\n").is_err() {
            return false;
        }
        let mut reply = [0u8; 7];
        stream.read_exact(&mut reply).is_ok() && &reply == b"+PONG\r\n"
    }

    /// Stops Redis (and waits for it to be gone).
    pub fn stop(&mut self, how: Stop) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        match how {
            Stop::Graceful => {
                let _ = Command::new("kill")
                    .args(["-TERM", &child.id().to_string()])
                    .status();
            }
            Stop::Crash => {
                let _ = child.kill();
            }
        }
        let _ = child.wait();
    }

    /// Starts Redis again on the same port and directory; returns once it answers.
    pub fn restart(&mut self) {
        self.spawn();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop(Stop::Crash);
    }
}

/// A `sesi serve --store redis://... [--lock]` process.
pub struct Sesi {
    pub base: String,
    child: Child,
}

impl Sesi {
    pub fn start(
        binary: &Path,
        redis_url: &str,
        lock: bool,
        secret: &str,
        dir: &Path,
        n: usize,
    ) -> Sesi {
        let port = free_port();
        let log = File::create(dir.join(format!("sesi-{n}.log"))).expect("a sesi log file");
        let child = Command::new(binary)
            .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
            .args(["--store", redis_url])
            .args(lock.then_some("--lock"))
            .env("SESI_SECRET", secret)
            .env("HOME", dir)
            .env("XDG_DATA_HOME", dir)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()));
        let deadline = Instant::now() + Duration::from_secs(30);
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            assert!(Instant::now() < deadline, "sesi serve did not come up");
            std::thread::sleep(Duration::from_millis(20));
        }
        Sesi {
            base: format!("http://127.0.0.1:{port}"),
            child,
        }
    }

    /// True while the process runs.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Sesi {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
