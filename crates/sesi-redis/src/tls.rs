//! TLS for `rediss` URLs: rustls with the ring provider, never OpenSSL.
//!
//! Without a CA file the server is verified against the system's roots; with one, against that
//! CA only (redis-rs's root certificate replaces the system roots rather than adding to them).
//! A client certificate and key are presented when given. Nothing here can turn verification
//! off.

use std::path::{Path, PathBuf};

use redis::{ClientTlsConfig, TlsCertificates};

use crate::ConnectError;

/// Files for a TLS connection to Redis, all PEM.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlsFiles {
    /// The CA that signed the servers' certificates; `None`: the system's roots.
    pub ca_file: Option<PathBuf>,
    /// A client certificate, for servers with `tls-auth-clients yes`; needs `client_key`.
    pub client_cert: Option<PathBuf>,
    /// The client certificate's private key.
    pub client_key: Option<PathBuf>,
}

impl TlsFiles {
    /// Whether any file is set.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.ca_file.is_none() && self.client_cert.is_none() && self.client_key.is_none()
    }

    /// The certificates redis-rs takes, read from the files; `None` when no file is set (system
    /// roots, no client certificate).
    pub(crate) fn load(&self) -> Result<Option<TlsCertificates>, ConnectError> {
        if self.is_empty() {
            return Ok(None);
        }
        let client_tls = match (&self.client_cert, &self.client_key) {
            (Some(cert), Some(key)) => Some(ClientTlsConfig {
                client_cert: read_pem(cert, "client certificate")?,
                client_key: read_pem(key, "client key")?,
            }),
            (None, None) => None,
            _ => {
                return Err(ConnectError::Tls(
                    "a client certificate and its key go together: give both or neither".into(),
                ));
            }
        };
        let root_cert = self
            .ca_file
            .as_deref()
            .map(|ca| read_pem(ca, "CA file"))
            .transpose()?;
        Ok(Some(TlsCertificates {
            client_tls,
            root_cert,
        }))
    }
}

fn read_pem(path: &Path, what: &'static str) -> Result<Vec<u8>, ConnectError> {
    let bytes = std::fs::read(path).map_err(|source| ConnectError::File {
        what,
        path: path.to_owned(),
        source,
    })?;
    if !bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        return Err(ConnectError::Tls(format!(
            "the {what} {} holds no PEM block (-----BEGIN …)",
            path.display()
        )));
    }
    Ok(bytes)
}

/// Makes ring the process's rustls provider unless one is installed already. redis-rs builds
/// rustls without a provider, and rustls panics at the first connection when it cannot pick
/// exactly one.
pub(crate) fn install_crypto_provider() {
    // An error means a provider is installed already (by the application): keep it.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
