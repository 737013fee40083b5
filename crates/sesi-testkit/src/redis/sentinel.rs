//! A master, a replica and a sentinel of test redis-servers.

use std::time::{Duration, Instant};

use super::{RedisServer, TempDir, Transport, redis_cli};
use crate::certs::TestCerts;
use crate::free_port;

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
