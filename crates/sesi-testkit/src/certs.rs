//! Certificates made at test time: a CA, a server certificate for `localhost` and the IP
//! address 127.0.0.1 (what the tests dial), and a client certificate, all written as PEM files.

use std::fs;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, SanType,
};

/// The PEM files of one test CA and the certificates it signed.
#[derive(Debug, Clone)]
pub struct TestCerts {
    /// The CA's certificate.
    pub ca_cert: PathBuf,
    /// The server's certificate (also the certificate a Redis node presents to its peers).
    pub server_cert: PathBuf,
    /// The server's key.
    pub server_key: PathBuf,
    /// A client certificate signed by the same CA.
    pub client_cert: PathBuf,
    /// Its key.
    pub client_key: PathBuf,
}

impl TestCerts {
    /// A fresh CA with its server and client certificates, written under `dir` (file names start
    /// with `label`, so several sets can share a directory).
    ///
    /// # Panics
    /// When a certificate cannot be made or written.
    #[must_use]
    pub fn generate(dir: &Path) -> Self {
        Self::generate_labelled(dir, "test")
    }

    /// As [`TestCerts::generate`], with file names starting with `label`.
    ///
    /// # Panics
    /// When a certificate cannot be made or written.
    #[must_use]
    pub fn generate_labelled(dir: &Path, label: &str) -> Self {
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, format!("sesi {label} CA"));
        let ca = ca_params.self_signed(&ca_key).expect("CA certificate");

        let leaf = |name: &str, usages: Vec<ExtendedKeyUsagePurpose>| {
            let key = KeyPair::generate().expect("leaf key");
            let mut params = CertificateParams::new(vec!["localhost".to_owned()]).expect("params");
            params
                .subject_alt_names
                .push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
            params.distinguished_name.push(DnType::CommonName, name);
            params.extended_key_usages = usages;
            let cert = params
                .signed_by(&key, &ca, &ca_key)
                .expect("leaf certificate");
            (cert.pem(), key.serialize_pem())
        };
        // Redis nodes use their server certificate as a client too (replication, cluster bus).
        let (server_cert, server_key) = leaf(
            "sesi test server",
            vec![
                ExtendedKeyUsagePurpose::ServerAuth,
                ExtendedKeyUsagePurpose::ClientAuth,
            ],
        );
        let (client_cert, client_key) = leaf(
            "sesi test client",
            vec![ExtendedKeyUsagePurpose::ClientAuth],
        );

        let write = |name: &str, pem: &str| {
            let path = dir.join(format!("{label}-{name}.pem"));
            fs::write(&path, pem).expect("write a PEM file");
            path
        };
        TestCerts {
            ca_cert: write("ca", &ca.pem()),
            server_cert: write("server", &server_cert),
            server_key: write("server-key", &server_key),
            client_cert: write("client", &client_cert),
            client_key: write("client-key", &client_key),
        }
    }
}
