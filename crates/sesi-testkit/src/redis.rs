//! redis-server processes of a test's own: a single node, with or without TLS, a three-master
//! cluster, and a master with a replica watched by a sentinel. Each lives in a temporary
//! directory of its own, on ports of its own, and is killed when dropped, so a test can stop,
//! restart or fail over its servers without touching anyone else's.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::certs::TestCerts;
use crate::{free_port, skip};

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

fn tls_file_args(certs: &TestCerts) -> Vec<String> {
    vec![
        "--tls-cert-file".into(),
        certs.server_cert.display().to_string(),
        "--tls-key-file".into(),
        certs.server_key.display().to_string(),
        "--tls-ca-cert-file".into(),
        certs.ca_cert.display().to_string(),
    ]
}

/// Whether `port` and `port + 10000` (a cluster node's bus) both look free.
fn cluster_port() -> u16 {
    loop {
        let port = free_port();
        if port < 55_000 && std::net::TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return port;
        }
    }
}

/// A three-master cluster without replicas, created with `redis-cli --cluster create`.
#[derive(Debug)]
pub struct RedisCluster {
    /// The masters, in creation order.
    pub nodes: Vec<RedisServer>,
    transport: Transport,
    certs: Option<TestCerts>,
    _dir: TempDir,
}

impl RedisCluster {
    /// Starts three nodes and joins them into one cluster covering every slot.
    ///
    /// # Panics
    /// When the cluster does not form.
    #[must_use]
    pub fn start(transport: Transport) -> Option<Self> {
        let dir = TempDir::new("cluster");
        let certs = (transport == Transport::Tls).then(|| TestCerts::generate(dir.path()));
        let mut nodes = Vec::new();
        for _ in 0..3 {
            let port = cluster_port();
            let node_dir = dir.path().join(port.to_string());
            fs::create_dir_all(&node_dir).expect("node directory");
            let mut extra: Vec<String> =
                ["--cluster-enabled", "yes", "--cluster-node-timeout", "2000"]
                    .map(String::from)
                    .to_vec();
            extra.extend([
                "--cluster-config-file".into(),
                node_dir.join("nodes.conf").display().to_string(),
            ]);
            if transport == Transport::Tls {
                extra.extend(["--tls-cluster".into(), "yes".into()]);
            }
            nodes.push(RedisServer::start(
                &node_dir,
                port,
                transport,
                certs.as_ref(),
                &extra,
            )?);
        }
        let cluster = RedisCluster {
            nodes,
            transport,
            certs,
            _dir: dir,
        };
        let mut create: Vec<String> = vec!["--cluster".into(), "create".into()];
        create.extend(
            cluster
                .nodes
                .iter()
                .map(|n| format!("127.0.0.1:{}", n.port())),
        );
        create.extend([
            "--cluster-replicas".into(),
            "0".into(),
            "--cluster-yes".into(),
        ]);
        let out = cluster.cli(None, &create);
        assert!(
            out.contains("[OK] All 16384 slots covered"),
            "cluster create:\n{out}"
        );
        cluster.wait_until_ok();
        Some(cluster)
    }

    /// `redis-cli` (with the TLS options when the cluster uses TLS) against `node` (the first
    /// when `None`); stdout and stderr together.
    ///
    /// # Panics
    /// When redis-cli cannot run.
    #[must_use]
    pub fn cli(&self, node: Option<u16>, args: &[String]) -> String {
        redis_cli(
            node.unwrap_or(self.nodes[0].port()),
            self.transport,
            self.certs.as_ref(),
            args,
        )
    }

    /// Waits until every node reports `cluster_state:ok`.
    ///
    /// # Panics
    /// After 30 s.
    pub fn wait_until_ok(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        for node in &self.nodes {
            loop {
                let info = self.cli(Some(node.port()), &["cluster".into(), "info".into()]);
                if info.contains("cluster_state:ok") {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "cluster not ok on {}:\n{info}",
                    node.port()
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }

    /// The URL sesi takes for it: `redis+cluster://` or `rediss+cluster://` with every node.
    #[must_use]
    pub fn url(&self) -> String {
        let scheme = match self.transport {
            Transport::Plain => "redis+cluster",
            Transport::Tls => "rediss+cluster",
        };
        let nodes: Vec<String> = self
            .nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port()))
            .collect();
        format!("{scheme}://{}", nodes.join(","))
    }

    /// The certificates, when the cluster uses TLS.
    #[must_use]
    pub fn certs(&self) -> Option<&TestCerts> {
        self.certs.as_ref()
    }

    /// The node id of the master on `port`.
    #[must_use]
    pub fn node_id(&self, port: u16) -> String {
        self.cli(Some(port), &["cluster".into(), "myid".into()])
            .trim()
            .to_owned()
    }
}

/// A master, one replica and one sentinel that watches them under the name `mymaster`, with a
/// one-second down-after so a test's failover takes a few seconds.
#[derive(Debug)]
pub struct RedisSentinelSet {
    /// The master at the start.
    pub master: RedisServer,
    /// Its replica at the start.
    pub replica: RedisServer,
    /// The sentinel.
    pub sentinel: RedisServer,
    transport: Transport,
    certs: Option<TestCerts>,
    _dir: TempDir,
}

/// The master name the sentinel watches.
pub const SENTINEL_MASTER: &str = "mymaster";

impl RedisSentinelSet {
    /// Starts the three and waits until the replica is in sync.
    ///
    /// # Panics
    /// When the replication or the sentinel does not come up.
    #[must_use]
    pub fn start(transport: Transport) -> Option<Self> {
        let dir = TempDir::new("sentinel");
        let certs = (transport == Transport::Tls).then(|| TestCerts::generate(dir.path()));
        let tls_replication: Vec<String> = if transport == Transport::Tls {
            vec!["--tls-replication".into(), "yes".into()]
        } else {
            Vec::new()
        };
        let master_port = free_port();
        let master = RedisServer::start(
            dir.path(),
            master_port,
            transport,
            certs.as_ref(),
            &tls_replication,
        )?;
        let replica_port = free_port();
        let mut replica_args = tls_replication.clone();
        replica_args.extend([
            "--replicaof".into(),
            "127.0.0.1".into(),
            master_port.to_string(),
        ]);
        let replica = RedisServer::start(
            dir.path(),
            replica_port,
            transport,
            certs.as_ref(),
            &replica_args,
        )?;
        let sentinel_port = free_port();
        let mut config = String::from("bind 127.0.0.1\n");
        match transport {
            Transport::Plain => config.push_str(&format!("port {sentinel_port}\n")),
            Transport::Tls => {
                let certs = certs.as_ref().expect("generated above");
                config.push_str(&format!(
                    "port 0\ntls-port {sentinel_port}\ntls-cert-file {}\ntls-key-file {}\n\
                     tls-ca-cert-file {}\ntls-replication yes\ntls-auth-clients yes\n",
                    certs.server_cert.display(),
                    certs.server_key.display(),
                    certs.ca_cert.display()
                ));
            }
        }
        config.push_str(&format!(
            "sentinel monitor {SENTINEL_MASTER} 127.0.0.1 {master_port} 1\n\
             sentinel down-after-milliseconds {SENTINEL_MASTER} 1000\n\
             sentinel failover-timeout {SENTINEL_MASTER} 5000\n\
             sentinel parallel-syncs {SENTINEL_MASTER} 1\n"
        ));
        let sentinel = RedisServer::start_sentinel(dir.path(), sentinel_port, &config)?;
        let set = RedisSentinelSet {
            master,
            replica,
            sentinel,
            transport,
            certs,
            _dir: dir,
        };
        set.wait_for_replica_sync(master_port);
        Some(set)
    }

    fn wait_for_replica_sync(&self, master_port: u16) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let info = self.cli(master_port, &["info".into(), "replication".into()]);
            if info.contains("connected_slaves:1") && info.contains("state=online") {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the replica never came online:\n{info}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `redis-cli` against `port` with the set's transport.
    ///
    /// # Panics
    /// When redis-cli cannot run.
    #[must_use]
    pub fn cli(&self, port: u16, args: &[String]) -> String {
        redis_cli(port, self.transport, self.certs.as_ref(), args)
    }

    /// The port the sentinel names as master now.
    #[must_use]
    pub fn master_port_per_sentinel(&self) -> Option<u16> {
        let out = self.cli(
            self.sentinel.port(),
            &[
                "sentinel".into(),
                "get-master-addr-by-name".into(),
                SENTINEL_MASTER.into(),
            ],
        );
        out.lines().nth(1)?.trim().parse().ok()
    }

    /// sesi's URL: `redis+sentinel://` or `rediss+sentinel://127.0.0.1:PORT/mymaster`.
    #[must_use]
    pub fn url(&self) -> String {
        let scheme = match self.transport {
            Transport::Plain => "redis+sentinel",
            Transport::Tls => "rediss+sentinel",
        };
        format!(
            "{scheme}://127.0.0.1:{}/{SENTINEL_MASTER}",
            self.sentinel.port()
        )
    }

    /// The certificates, when the set uses TLS.
    #[must_use]
    pub fn certs(&self) -> Option<&TestCerts> {
        self.certs.as_ref()
    }
}

fn redis_cli(
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
