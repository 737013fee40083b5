//! `rediss://` against a real redis-server with only a TLS port and `tls-auth-clients yes`, its
//! certificates made at test time (a CA, a server certificate for 127.0.0.1, a client
//! certificate): the store contract over TLS, and every way a connection must be refused.

mod support;

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use sesi_core::store::SessionStore;
use sesi_core::store::contract;
use sesi_redis::{ConnectError, RedisStore, TlsFiles};
use sesi_testkit::certs::TestCerts;
use sesi_testkit::free_port;
use sesi_testkit::redis::{RedisServer, TempDir, Transport};
use support::{Remote, chain, shared, unique_prefix};

struct TlsRedis {
    server: RedisServer,
    certs: TestCerts,
    /// A second CA, which signed nothing the server presents.
    other: TestCerts,
    _dir: TempDir,
}

static SERVER: Mutex<Weak<TlsRedis>> = Mutex::new(Weak::new());

fn server() -> Option<Arc<TlsRedis>> {
    shared(&SERVER, || {
        let dir = TempDir::new("tls");
        let certs = TestCerts::generate(dir.path());
        let other = TestCerts::generate_labelled(dir.path(), "other");
        let server =
            RedisServer::start(dir.path(), free_port(), Transport::Tls, Some(&certs), &[])?;
        Some(TlsRedis {
            server,
            certs,
            other,
            _dir: dir,
        })
    })
}

impl TlsRedis {
    fn url(&self) -> String {
        format!("rediss://127.0.0.1:{}", self.server.port())
    }

    fn builder(&self) -> sesi_redis::RedisStoreBuilder {
        RedisStore::builder(self.url())
            .response_timeout(Duration::from_secs(2))
            .ca_file(&self.certs.ca_cert)
            .client_cert(&self.certs.client_cert, &self.certs.client_key)
    }
}

sesi_core::store_contract_tests!(async {
    let servers = server()?;
    let store = servers
        .builder()
        .prefix(unique_prefix())
        .connect()
        .await
        .expect("the store connects over TLS with the test CA and client certificate");
    Some(Remote {
        store,
        _servers: servers,
    })
});

/// The refusal's whole story, which must name the certificate problem.
async fn refused(builder: sesi_redis::RedisStoreBuilder) -> String {
    let err = builder.connect().await.expect_err("must be refused");
    assert!(matches!(err, ConnectError::Unreachable(_)), "{err:?}");
    chain(&err)
}

#[tokio::test]
async fn a_server_signed_by_another_ca_is_refused() {
    let Some(redis) = server() else { return };
    let why = refused(
        RedisStore::builder(redis.url())
            .response_timeout(Duration::from_secs(2))
            .ca_file(&redis.other.ca_cert)
            .client_cert(&redis.certs.client_cert, &redis.certs.client_key),
    )
    .await;
    assert!(
        why.contains("certificate") || why.contains("UnknownIssuer"),
        "the error says the certificate is not trusted: {why}"
    );
}

#[tokio::test]
async fn without_a_ca_file_the_system_roots_do_not_trust_a_private_ca() {
    let Some(redis) = server() else { return };
    let why = refused(
        RedisStore::builder(redis.url())
            .response_timeout(Duration::from_secs(2))
            .client_cert(&redis.certs.client_cert, &redis.certs.client_key),
    )
    .await;
    assert!(
        why.contains("certificate") || why.contains("UnknownIssuer"),
        "{why}"
    );
}

#[tokio::test]
async fn a_server_that_asks_for_a_client_certificate_refuses_a_client_without_one() {
    let Some(redis) = server() else { return };
    let result = RedisStore::builder(redis.url())
        .response_timeout(Duration::from_secs(2))
        .ca_file(&redis.certs.ca_cert)
        .connect()
        .await;
    // The server may end the handshake (refused at connect) or close the connection at the
    // first command: either way nothing is stored.
    if let Ok(store) = result {
        let loaded = store.load(sesi_core::store::SessionId::generate()).await;
        assert!(loaded.is_err(), "a client without a certificate was served");
    }
}

#[tokio::test]
async fn the_store_speaks_tls_only_and_the_data_is_there_for_a_tls_client() {
    let Some(redis) = server() else { return };
    let prefix = unique_prefix();
    let store = redis
        .builder()
        .prefix(&prefix)
        .connect()
        .await
        .expect("connects");
    let id = sesi_core::store::SessionId::generate();
    store
        .save(id, contract::payload("tls"), Some(Duration::from_secs(60)))
        .await
        .expect("save");
    let mut cli = std::process::Command::new("redis-cli");
    cli.args([
        "-h",
        "127.0.0.1",
        "-p",
        &redis.server.port().to_string(),
        "--tls",
    ])
    .args(["--cacert", &redis.certs.ca_cert.display().to_string()])
    .args(["--cert", &redis.certs.client_cert.display().to_string()])
    .args(["--key", &redis.certs.client_key.display().to_string()])
    .args(["--no-raw", "GET", &store.key(id)]);
    let out = cli.output().expect("redis-cli");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("tls"),
        "redis-cli over TLS reads the session: {text}"
    );
}

#[tokio::test]
async fn tls_files_for_a_plain_url_or_a_certificate_without_its_key_are_refused_before_connecting()
{
    let Some(redis) = server() else { return };
    let err = RedisStore::builder("redis://127.0.0.1:1")
        .ca_file(&redis.certs.ca_cert)
        .connect()
        .await
        .expect_err("TLS files with redis://");
    assert!(matches!(err, ConnectError::Tls(_)), "{err:?}");
    assert!(err.to_string().contains("rediss://"), "{err}");

    let mut files = TlsFiles::default();
    files.client_cert = Some(redis.certs.client_cert.clone());
    let err = RedisStore::builder(redis.url())
        .tls_files(files)
        .connect()
        .await
        .expect_err("a certificate without its key");
    assert!(err.to_string().contains("both or neither"), "{err}");

    let err = RedisStore::builder(redis.url())
        .ca_file("/nonexistent/ca.pem")
        .connect()
        .await
        .expect_err("a missing CA file");
    assert!(matches!(err, ConnectError::File { .. }), "{err:?}");
    assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");

    let not_pem = redis.certs.ca_cert.with_extension("txt");
    std::fs::write(&not_pem, "not a certificate").expect("write");
    let err = RedisStore::builder(redis.url())
        .ca_file(&not_pem)
        .connect()
        .await
        .expect_err("a CA file without PEM");
    assert!(err.to_string().contains("no PEM block"), "{err}");

    let err = RedisStore::builder(format!("{}/#insecure", redis.url()))
        .ca_file(&redis.certs.ca_cert)
        .connect()
        .await
        .expect_err("#insecure");
    assert!(matches!(err, ConnectError::Url(_)), "{err:?}");
}
