//! A throwaway redis-server of a test's own: on a free port, without persistence, so the test
//! can stop it (an outage) and start it again empty, and look inside with raw commands.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::net::free_port;
use super::process::Spawned;
use super::skip::skip;

/// A redis-server on 127.0.0.1, stopped on drop.
pub struct Redis {
    port: u16,
    dir: TempDir,
    server: Option<Spawned>,
}

/// Whether `redis-server` can be run.
fn installed() -> bool {
    static INSTALLED: OnceLock<bool> = OnceLock::new();
    *INSTALLED.get_or_init(|| {
        Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_ok()
    })
}

impl Redis {
    /// A fresh redis-server on a free port, or `None` when redis-server is not installed (the
    /// test is skipped, see [`skip`]).
    pub fn start() -> Option<Redis> {
        if !installed() {
            skip("redis-server is not installed, needed to test `sesi serve --store redis://`");
            return None;
        }
        let mut redis = Redis {
            port: free_port(),
            dir: TempDir::new().expect("a temporary directory for redis"),
            server: None,
        };
        redis.restart();
        Some(redis)
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// (Re)starts redis-server on the same port, with nothing in it, and waits for PONG.
    pub fn restart(&mut self) {
        assert!(self.server.is_none(), "stop it first");
        let mut cmd = Command::new("redis-server");
        cmd.args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .stdin(Stdio::null());
        self.server = Some(Spawned::start("redis-server", cmd));
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.command("PING").as_deref() != Some("+PONG") {
            let server = self.server.as_mut().expect("just started");
            if let Some(status) = server.exited() {
                panic!("redis-server exited with {status}:\n{}", server.log());
            }
            assert!(
                Instant::now() < deadline,
                "redis-server on port {} did not answer within 10 s:\n{}",
                self.port,
                server.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills redis-server: everything in it is lost.
    pub fn stop(&mut self) {
        self.server = None;
    }

    /// One inline command; the first line of the reply (`+PONG`, `:0`), or `None` if no answer.
    pub fn command(&self, command: &str) -> Option<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
        stream.write_all(format!("{command}\r\n").as_bytes()).ok()?;
        let mut reply = Vec::new();
        let mut byte = [0u8; 1];
        while !reply.ends_with(b"\r\n") {
            stream.read_exact(&mut byte).ok()?;
            reply.push(byte[0]);
        }
        Some(String::from_utf8_lossy(&reply).trim_end().to_owned())
    }

    /// `commands` in order on one connection (so a `SELECT` holds for the ones after it); the
    /// first line of each reply.
    pub fn pipeline(&self, commands: &[&str]) -> Vec<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("redis accepts");
        stream
            .set_read_timeout(Some(Duration::from_secs(2)))
            .expect("set timeout");
        let sent: String = commands.iter().map(|c| format!("{c}\r\n")).collect();
        stream.write_all(sent.as_bytes()).expect("send");
        let mut replies = Vec::new();
        let mut reply = Vec::new();
        let mut byte = [0u8; 1];
        while replies.len() < commands.len() {
            stream.read_exact(&mut byte).expect("redis replies");
            reply.push(byte[0]);
            if reply.ends_with(b"\r\n") {
                replies.push(String::from_utf8_lossy(&reply).trim_end().to_owned());
                reply.clear();
            }
        }
        replies
    }

    /// The milliseconds `key` has left to live (`PTTL`: -1 without expiry, -2 when absent).
    pub fn pttl(&self, key: &str) -> i64 {
        let reply = self.command(&format!("PTTL {key}")).expect("redis answers");
        reply
            .strip_prefix(':')
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("an integer reply to PTTL: {reply}"))
    }

    /// How many keys database 0 holds.
    pub fn keys(&self) -> usize {
        let reply = self.command("DBSIZE").expect("redis answers");
        reply
            .strip_prefix(':')
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("DBSIZE said {reply}"))
    }
}
