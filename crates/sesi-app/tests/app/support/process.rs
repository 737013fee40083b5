//! Programs the tests start, above all the built `sesi` binary: every test that runs it goes
//! through here, either to completion ([`run_sesi`]) or as a [`SesiServer`] that is known to
//! listen, logs to a file, takes signals and is killed on drop. [`Spawned`], the child-process
//! part, is shared with the other programs the tests start (the Pyramid app, redis-server).

use std::io::{Read, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::http::Visitor;

/// Longest a program may take to start listening.
const STARTUP: Duration = Duration::from_secs(30);
/// Longest a program run to completion may take.
const RUN: Duration = Duration::from_secs(30);
/// Longest a program may take to exit after a signal.
const STOP: Duration = Duration::from_secs(10);

/// `sesi` with a clean environment: none of the caller's `SESI_*` variables, `XDG_DATA_HOME` and
/// `HOME` inside `home` (where a generated secret is kept), logs at info without colours, and
/// stdin closed.
pub fn sesi_command(home: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sesi"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("SESI_") {
            cmd.env_remove(name);
        }
    }
    cmd.env("XDG_DATA_HOME", home.join("data"))
        .env("HOME", home.join("home"))
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    cmd
}

// ---------------------------------------------------------------------------------------------
// To completion.

/// How a program run to completion exited, and what it printed.
#[derive(Debug)]
pub struct Run {
    /// The exit status.
    pub status: ExitStatus,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// The exit code.
    pub fn code(&self) -> i32 {
        self.status
            .code()
            .expect("exited normally, not by a signal")
    }
}

/// Runs `sesi ARGS` to completion: the clean environment of [`sesi_command`] plus `env`, a home
/// of its own, and `stdin` if given.
pub fn run_sesi(args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Run {
    let home = TempDir::new().expect("a temporary home");
    let mut cmd = sesi_command(home.path());
    cmd.args(args).envs(env.iter().copied());
    run(cmd, stdin)
}

/// Runs `cmd` to completion, feeding it `stdin`; kills it and panics if it takes longer than
/// [`RUN`].
pub fn run(mut cmd: Command, stdin: Option<&str>) -> Run {
    let input = if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    };
    let mut child = cmd
        .stdin(input)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    if let Some(text) = stdin {
        let mut pipe = child.stdin.take().expect("stdin is piped");
        pipe.write_all(text.as_bytes()).expect("write stdin");
    }
    let stdout = read_in_background(child.stdout.take().expect("stdout is piped"));
    let stderr = read_in_background(child.stderr.take().expect("stderr is piped"));
    let deadline = Instant::now() + RUN;
    let status = loop {
        if let Some(status) = child.try_wait().expect("poll the child") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not finish within {RUN:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let text = |reader: std::thread::JoinHandle<Vec<u8>>, what: &str| {
        let bytes = reader.join().expect("the pipe reader does not panic");
        String::from_utf8(bytes).unwrap_or_else(|e| panic!("{cmd:?}: {what} is not UTF-8: {e}"))
    };
    Run {
        status,
        stdout: text(stdout, "stdout"),
        stderr: text(stderr, "stderr"),
    }
}

/// Reads a pipe to its end on a thread of its own, so that a full pipe never stalls the child.
fn read_in_background(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    })
}

// ---------------------------------------------------------------------------------------------
// In the background.

/// A program running in the background: its stdout and stderr go to a log file of its own; it is
/// killed on drop, and then its log is shown if the test is failing.
pub struct Spawned {
    name: String,
    child: Option<Child>,
    log: PathBuf,
    /// With a slow stderr: the thread copying the pipe to the log, done once the pipe is closed.
    relay: Option<std::thread::JoinHandle<()>>,
    _dir: TempDir,
}

impl Spawned {
    /// Starts `cmd`; `name` names it in failure messages.
    pub fn start(name: &str, cmd: Command) -> Spawned {
        Self::start_with(name, cmd, None)
    }

    /// Starts `cmd` with a standard error that takes at most `bytes_per_sec`: a pipe read at that
    /// pace into the log (standard output still goes straight to the log).
    pub fn start_with_slow_stderr(name: &str, cmd: Command, bytes_per_sec: u64) -> Spawned {
        Self::start_with(name, cmd, Some(bytes_per_sec))
    }

    fn start_with(name: &str, mut cmd: Command, slow_stderr: Option<u64>) -> Spawned {
        let dir = TempDir::new().expect("a temporary log directory");
        let log = dir.path().join("log");
        let file = std::fs::File::create(&log).expect("create the log file");
        cmd.stdout(file.try_clone().expect("dup the log file"));
        let slow_stderr = match slow_stderr {
            None => {
                cmd.stderr(file);
                None
            }
            Some(rate) => {
                cmd.stderr(Stdio::piped());
                Some((file, rate))
            }
        };
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({cmd:?}): {e}"));
        let relay = slow_stderr.map(|(file, rate)| {
            let pipe = child.stderr.take().expect("stderr is piped");
            std::thread::spawn(move || relay_slowly(pipe, file, rate))
        });
        Spawned {
            name: name.to_owned(),
            child: Some(child),
            log,
            relay,
            _dir: dir,
        }
    }

    /// Everything the program logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The exit status, once the program has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        let child = self.child.as_mut()?;
        child.try_wait().expect("poll the child")
    }

    /// Polls the log until `find` reads what it looks for in its complete lines (never in a line
    /// still being written); panics when the program exits first or [`STARTUP`] passes.
    pub fn wait_for<T>(&mut self, what: &str, mut find: impl FnMut(&str) -> Option<T>) -> T {
        let deadline = Instant::now() + STARTUP;
        loop {
            let log = self.log();
            let complete = log.rfind('\n').map_or("", |end| &log[..=end]);
            if let Some(found) = find(complete) {
                return found;
            }
            if let Some(status) = self.exited() {
                panic!("{} exited with {status} before {what}:\n{log}", self.name);
            }
            assert!(
                Instant::now() < deadline,
                "{} did not reach {what} within {STARTUP:?}:\n{log}",
                self.name
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends a signal (`TERM`, `INT`) and waits (at most [`STOP`]) for the exit status.
    pub fn signal(&mut self, signal: &str) -> ExitStatus {
        let mut child = self.child.take().expect("running");
        let sent = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string())
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -{signal} failed");
        let deadline = Instant::now() + STOP;
        loop {
            if let Some(status) = child.try_wait().expect("poll the child") {
                self.join_relay();
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "{} did not stop within {STOP:?} of SIG{signal}:\n{}",
                    self.name,
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the program (SIGKILL) and waits for it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.join_relay();
    }

    /// Once the program has exited: waits until its slow stderr is all in the log.
    fn join_relay(&mut self) {
        if let Some(relay) = self.relay.take() {
            relay.join().expect("the stderr relay does not panic");
        }
    }
}

/// Copies `pipe` into `log` at about `bytes_per_sec`, until the pipe is closed.
fn relay_slowly(mut pipe: impl Read, mut log: std::fs::File, bytes_per_sec: u64) {
    let mut chunk = [0; 4096];
    loop {
        let n = match pipe.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        log.write_all(&chunk[..n]).expect("write the log file");
        std::thread::sleep(Duration::from_micros(n as u64 * 1_000_000 / bytes_per_sec));
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!("---- {} log ----\n{}", self.name, self.log());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// `sesi serve`.

/// A running `sesi serve`, known to listen (and to have logged everything it logs on startup).
pub struct SesiServer {
    process: Spawned,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    _home: Option<TempDir>,
}

impl SesiServer {
    /// `sesi serve --addr 127.0.0.1:0 ARGS` with `env` and a home of its own.
    pub fn serve(env: &[(&str, &str)], args: &[&str]) -> SesiServer {
        let (home, cmd) = serve_command(env, args);
        SesiServer {
            _home: Some(home),
            ..SesiServer::spawn(cmd)
        }
    }

    /// Runs `cmd` (a [`sesi_command`] for `serve` on port 0) and waits until its log names the
    /// port it listens on and that port accepts connections.
    pub fn spawn(cmd: Command) -> SesiServer {
        Self::listening(Spawned::start("sesi serve", cmd))
    }

    /// [`SesiServer::serve`] with a standard error that takes at most `bytes_per_sec`
    /// ([`Spawned::start_with_slow_stderr`]).
    pub fn serve_with_slow_stderr(
        env: &[(&str, &str)],
        args: &[&str],
        bytes_per_sec: u64,
    ) -> SesiServer {
        let (home, cmd) = serve_command(env, args);
        let process = Spawned::start_with_slow_stderr("sesi serve", cmd, bytes_per_sec);
        SesiServer {
            _home: Some(home),
            ..SesiServer::listening(process)
        }
    }

    /// Waits until `process` logs the port it listens on and that port accepts connections.
    fn listening(mut process: Spawned) -> SesiServer {
        const MARK: &str = "sesi listening on http://";
        let addr = process.wait_for("listening", |log| {
            let at = log.find(MARK)?;
            let addr: SocketAddr = log[at + MARK.len()..]
                .split_whitespace()
                .next()?
                .parse()
                .ok()?;
            // Bound to 0.0.0.0 or 127.0.0.1, it is reached on 127.0.0.1.
            let addr = SocketAddr::from(([127, 0, 0, 1], addr.port()));
            TcpStream::connect_timeout(&addr, Duration::from_millis(200))
                .ok()
                .map(|_| addr)
        });
        SesiServer {
            process,
            base: format!("http://{addr}"),
            _home: None,
        }
    }

    /// A new visitor (empty cookie jar) of this server.
    pub fn visitor(&self) -> Visitor {
        Visitor::new(&self.base)
    }

    /// Everything the server logged so far.
    pub fn log(&self) -> String {
        self.process.log()
    }

    /// The log once `done` holds for its complete lines. What the server logs while it serves a
    /// request reaches the log through its writer thread, a moment after the response: wait for
    /// it here, never read [`SesiServer::log`] right after a request. Panics when the server
    /// exits first or the line does not come within [`STARTUP`].
    pub fn log_when(&mut self, what: &str, mut done: impl FnMut(&str) -> bool) -> String {
        self.process
            .wait_for(what, |log| done(log).then(|| log.to_owned()))
    }

    /// The log once it holds (at least) `n` request lines of the text format: then everything
    /// logged while serving those requests is in it too, the request line being the last.
    pub fn log_after_requests(&mut self, n: usize) -> String {
        self.log_when(&format!("{n} request lines"), |log| {
            log.lines()
                .filter(|l| l.contains(" sesi_app::routes: request "))
                .count()
                >= n
        })
    }

    /// The last `n` lines of the log.
    pub fn log_tail(&self, n: usize) -> String {
        let log = self.log();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// Still running, and nothing panicked.
    #[track_caller]
    pub fn assert_healthy(&mut self) {
        assert!(
            self.process.exited().is_none(),
            "sesi serve exited:\n{}",
            self.log()
        );
        assert!(
            !self.log().contains("panicked"),
            "a panic in the log:\n{}",
            self.log()
        );
    }

    /// Sends SIGTERM and waits for the exit status and the whole log.
    pub fn terminate(self) -> (ExitStatus, String) {
        self.signal("TERM")
    }

    /// Sends a signal (`TERM`, `INT`) and waits for the exit status and the whole log.
    pub fn signal(mut self, signal: &str) -> (ExitStatus, String) {
        let status = self.process.signal(signal);
        (status, self.log())
    }
}

/// `sesi serve --addr 127.0.0.1:0 ARGS` with `env`, and the home of its own it runs in.
fn serve_command(env: &[(&str, &str)], args: &[&str]) -> (TempDir, Command) {
    let home = TempDir::new().expect("a temporary home");
    let mut cmd = sesi_command(home.path());
    cmd.args(["serve", "--addr", "127.0.0.1:0"])
        .args(args)
        .envs(env.iter().copied());
    (home, cmd)
}
