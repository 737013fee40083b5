//! A three-master cluster of test redis-servers.

use std::fs;
use std::time::{Duration, Instant};

use super::{RedisServer, TempDir, Transport, redis_cli};
use crate::certs::TestCerts;
use crate::free_port;

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
