//! redis-server processes of a test's own: a single node, with or without TLS, a three-master
//! cluster, and a master with a replica watched by a sentinel. Each lives in a temporary
//! directory of its own, on ports of its own, and is killed when dropped, so a test can stop,
//! restart or fail over its servers without touching anyone else's.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::certs::TestCerts;
use crate::skip;

mod cluster;
mod sentinel;

pub use cluster::RedisCluster;
pub use sentinel::{RedisSentinelSet, SENTINEL_MASTER};

/// How long a server may take to say it is ready.
const READY_WITHIN: Duration = Duration::from_secs(15);

/// A scratch directory removed on drop.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    /// A new empty directory under the system's temporary directory.
    ///
    /// # Panics
    /// When it cannot be created.
    #[must_use]
    pub fn new(label: &str) -> Self {
        let nonce: u64 = rand_u64();
        let path =
            std::env::temp_dir().join(format!("sesi-{label}-{}-{nonce:x}", std::process::id()));
        fs::create_dir_all(&path).expect("create a temporary directory");
        TempDir(path)
    }

    /// Its path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(Instant::now().elapsed().as_nanos());
    hasher.finish()
}

/// How a client reaches a server: plain TCP, or TLS with the test's certificates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// Plain TCP.
    Plain,
    /// TLS only (the plain port is closed); clients must present a certificate.
    Tls,
}

/// One redis-server (or sentinel) process, restartable with the same arguments.
#[derive(Debug)]
pub struct RedisServer {
    port: u16,
    args: Vec<String>,
    dir: PathBuf,
    log: PathBuf,
    child: Option<Child>,
    sentinel: bool,
}

impl RedisServer {
    /// Starts `redis-server` on `port` (plain or TLS per `transport`) with `extra` arguments, in
    /// `dir`. `None` after a `SKIPPED` line when redis-server is not installed and skips are
    /// allowed.
    ///
    /// # Panics
    /// When the server does not become ready, or redis-server is missing where every test must
    /// run.
    #[must_use]
    pub fn start(
        dir: &Path,
        port: u16,
        transport: Transport,
        certs: Option<&TestCerts>,
        extra: &[String],
    ) -> Option<Self> {
        let mut args = vec!["--bind".into(), "127.0.0.1".into()];
        args.extend([
            "--save".into(),
            String::new(),
            "--appendonly".into(),
            "no".into(),
        ]);
        args.extend(transport_args(port, transport, certs));
        args.extend(extra.iter().cloned());
        Self::spawn(dir, port, args, false)
    }

    /// Starts a sentinel from `config` (written to `dir/sentinel-PORT.conf`: a sentinel rewrites
    /// its own configuration file).
    ///
    /// # Panics
    /// As [`RedisServer::start`].
    #[must_use]
    pub fn start_sentinel(dir: &Path, port: u16, config: &str) -> Option<Self> {
        let file = dir.join(format!("sentinel-{port}.conf"));
        fs::write(&file, config).expect("write the sentinel configuration");
        let args = vec![file.display().to_string(), "--sentinel".into()];
        Self::spawn(dir, port, args, true)
    }

    fn spawn(dir: &Path, port: u16, args: Vec<String>, sentinel: bool) -> Option<Self> {
        let log = dir.join(format!("redis-{port}.log"));
        let mut server = RedisServer {
            port,
            args,
            dir: dir.to_owned(),
            log,
            child: None,
            sentinel,
        };
        if let Err(err) = server.launch() {
            skip(&format!("cannot run redis-server ({err})"));
            return None;
        }
        Some(server)
    }

    fn launch(&mut self) -> std::io::Result<()> {
        let _ = fs::remove_file(&self.log);
        let mut args = self.args.clone();
        // The log file goes last so a sentinel's config file stays the first argument.
        args.extend(["--logfile".into(), self.log.display().to_string()]);
        args.extend(["--dir".into(), self.dir.display().to_string()]);
        let child = Command::new("redis-server")
            .args(&args)
            .current_dir(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        self.child = Some(child);
        self.wait_ready();
        Ok(())
    }

    fn wait_ready(&mut self) {
        let marker = if self.sentinel {
            "+monitor master"
        } else {
            "Ready to accept connections"
        };
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            if fs::read_to_string(&self.log).is_ok_and(|log| log.contains(marker)) {
                return;
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!(
                    "redis-server on port {} exited ({status}) before it was ready:\n{}",
                    self.port,
                    self.log_tail()
                );
            }
            assert!(
                Instant::now() < deadline,
                "redis-server on port {} was not ready within {READY_WITHIN:?}:\n{}",
                self.port,
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The last lines of the server's log, for failure messages.
    #[must_use]
    pub fn log_tail(&self) -> String {
        let log = fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// The whole log.
    #[must_use]
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Its port.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills it (like a crash: nothing is saved).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Kills it as [`stop`](Self::stop) does, and keeps its port bound until the listener it
    /// returns is dropped (`None` if another process took the port first). A replica keeps
    /// reconnecting to its dead master until a sentinel promotes it; a redis-server another test
    /// starts on that port meanwhile (the port is free, so [`crate::free_port`] may hand it out) would
    /// resync the replica to an empty dataset.
    #[must_use]
    pub fn stop_and_hold_port(&mut self) -> Option<std::net::TcpListener> {
        self.stop();
        std::net::TcpListener::bind(("127.0.0.1", self.port())).ok()
    }

    /// Starts it again with the same arguments.
    ///
    /// # Panics
    /// When it does not come back.
    pub fn restart(&mut self) {
        self.stop();
        self.launch().expect("redis-server ran a moment ago");
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn transport_args(port: u16, transport: Transport, certs: Option<&TestCerts>) -> Vec<String> {
    match transport {
        Transport::Plain => vec!["--port".into(), port.to_string()],
        Transport::Tls => {
            let certs = certs.expect("a TLS server needs the test certificates");
            let mut args: Vec<String> = vec!["--port".into(), "0".into()];
            args.extend(["--tls-port".into(), port.to_string()]);
            args.extend(tls_file_args(certs));
            args.extend(["--tls-auth-clients".into(), "yes".into()]);
            args
        }
    }
}

pub(crate) fn tls_file_args(certs: &TestCerts) -> Vec<String> {
    vec![
        "--tls-cert-file".into(),
        certs.server_cert.display().to_string(),
        "--tls-key-file".into(),
        certs.server_key.display().to_string(),
        "--tls-ca-cert-file".into(),
        certs.ca_cert.display().to_string(),
    ]
}

pub(crate) fn redis_cli(
    port: u16,
    transport: Transport,
    certs: Option<&TestCerts>,
    args: &[String],
) -> String {
    let mut cmd = Command::new("redis-cli");
    cmd.args(["-h", "127.0.0.1", "-p", &port.to_string()]);
    if transport == Transport::Tls {
        let certs = certs.expect("TLS needs the certificates");
        cmd.arg("--tls");
        cmd.args(["--cacert", &certs.ca_cert.display().to_string()]);
        cmd.args(["--cert", &certs.client_cert.display().to_string()]);
        cmd.args(["--key", &certs.client_key.display().to_string()]);
    }
    let out = cmd.args(args).output().expect("run redis-cli");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
