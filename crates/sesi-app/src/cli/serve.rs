//! `sesi serve`: settings from flags and environment, secrets, graceful shutdown (the log is in
//! `logging.rs`).

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use sesi::{MAX_COOKIE_SIZE, Secrets};
use tokio::net::TcpListener;

use super::{Limit, SecretSource, ServeArgs, SessionArgs, load_secrets};
use crate::{CookieFormatName, RedisTlsFiles, Settings, StoreChoice, redact_url};

impl SessionArgs {
    /// The app settings these arguments describe, with `secrets`.
    #[must_use]
    pub fn settings(&self, secrets: Secrets) -> Settings {
        let format = self.format.cookie_format;
        Settings {
            cookie_format: format,
            secrets,
            hashalg: self.pyramid.hashalg,
            salt: self.pyramid.salt.clone(),
            timeout: self
                .timeout
                .map_or(format.default_timeout(), |Limit(timeout)| timeout),
            reissue_time: self.reissue_time.0,
            max_lifetime: self.max_lifetime.0,
            cookie_name: self
                .cookie_name
                .clone()
                .unwrap_or_else(|| format.default_cookie_name().to_owned()),
            secure: self.secure,
            http_only: self.httponly,
            same_site: self.samesite.to_same_site(),
            store: StoreChoice::Cookie,
            spill: false,
            lock: false,
            store_timeout: sesi::DEFAULT_STORE_TIMEOUT,
            store_capacity: crate::MEMORY_STORE_CAPACITY,
            probation: Some(crate::DEFAULT_PROBATION),
            max_session_bytes: sesi::core::session::DEFAULT_MAX_STORED_SIZE,
            accept_cookie_sessions: false,
            redis_tls: RedisTlsFiles::default(),
        }
    }
}

/// Refuses a secret shorter than the format's minimum off loopback unless allowed, and warns
/// loudly about it on loopback; warns about one shorter than the format's recommended length.
fn check_secret_strength(
    secrets: &Secrets,
    addr: &SocketAddr,
    allow_weak: bool,
    format: CookieFormatName,
) -> anyhow::Result<()> {
    let Some(shortest) = secrets.iter().map(sesi::Secret::len).min() else {
        return Ok(());
    };
    let Some((minimum, recommended)) = format.secret_lengths() else {
        return Ok(()); // keys of one exact shape: `build` refuses any other
    };
    if shortest >= recommended {
        return Ok(());
    }
    if shortest >= minimum {
        tracing::warn!(
            "a secret is {shortest} bytes; the {format} format recommends at least {recommended} \
             ({}). `sesi keygen` makes one",
            format.why_recommended()
        );
        return Ok(());
    }
    if !addr.ip().is_loopback() && !allow_weak {
        bail!(
            "a secret is only {shortest} bytes (at least {minimum} are required) and {addr} is \
             reachable from other machines: anyone holding one cookie can recover such a secret \
             with a dictionary attack and forge sessions. Use `sesi keygen` for a strong secret, or \
             pass --allow-weak-secret if you really mean it"
        );
    }
    tracing::warn!(
        "WEAK SECRET: a secret is only {shortest} bytes. A public tutorial secret like \
         `rahasia_dapur_123` is cracked from one cookie in under a second, so anyone can forge \
         sessions. Fine for learning on {addr}; never use it for anything real (`sesi keygen` makes \
         a strong one)"
    );
    Ok(())
}

/// `HOST:PORT` to the address to bind: an IP address, or a host name such as `localhost`
/// (its first address; the weak-secret rule then looks at that address).
fn resolve_addr(text: &str) -> anyhow::Result<SocketAddr> {
    use std::net::ToSocketAddrs;
    let bad = || format!("--addr {text:?} is not HOST:PORT (for example 127.0.0.1:6543)");
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let mut addrs = text.to_socket_addrs().with_context(bad)?;
    addrs.next().with_context(bad)
}

pub(super) fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    // Logs go to standard error, leaving standard output to what a command prints. Declared
    // first, so dropped last: after the runtime, with every line written (`None` when a
    // subscriber was already installed in this process; it then keeps logging).
    let _log = super::logging::init(args.log_format);
    let addr = resolve_addr(&args.addr)?;
    let format = args.session.format.cookie_format;
    let loaded = load_secrets(&args.secret, args.secret_file.as_deref(), format)?;
    let secrets = loaded.secrets;
    match &loaded.source {
        SecretSource::Env => {
            tracing::info!(count = secrets.len(), "secrets from --secret / SESI_SECRET");
        }
        SecretSource::File(path) | SecretSource::DefaultFile(path) => {
            tracing::info!(count = secrets.len(), path = %path.display(), "secrets from file");
        }
        SecretSource::Generated(path) => tracing::info!(
            path = %path.display(),
            "no secret configured: generated a random key for the {format} cookie format, readable only by you; it is reused on the next start"
        ),
    }
    for warning in &loaded.warnings {
        tracing::warn!("{warning}");
    }
    check_secret_strength(&secrets, &addr, args.allow_weak_secret, format)?;
    let settings = Settings {
        store: args.store.clone(),
        spill: args.spill,
        lock: args.lock,
        store_timeout: Duration::from_millis(args.store_timeout_ms.max(1)),
        store_capacity: args.store_capacity,
        probation: args.probation.0,
        max_session_bytes: args.max_session_bytes,
        accept_cookie_sessions: args.accept_cookie_sessions,
        redis_tls: RedisTlsFiles {
            ca_file: args.redis_ca_file.clone(),
            client_cert: args.redis_client_cert.clone(),
            client_key: args.redis_client_key.clone(),
        },
        ..args.session.settings(secrets)
    };
    if settings.redis_tls != RedisTlsFiles::default()
        && !matches!(settings.store, StoreChoice::Redis(_))
    {
        bail!(
            "--redis-ca-file and --redis-client-cert/--redis-client-key need a Redis store: add --store rediss://HOST:PORT"
        );
    }
    if settings.store == StoreChoice::Cookie && (settings.spill || settings.lock) {
        bail!("--spill and --lock need a store: add --store memory or --store redis://HOST:PORT");
    }
    // Checked before any network work, so a bad setting is reported as such; silently, since the
    // real build below logs the settings' warnings (once).
    let _checked =
        tracing::subscriber::with_default(tracing::subscriber::NoSubscriber::default(), || {
            settings.layer()
        })
        .context("invalid session settings")?;

    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let store = settings.open_store().await?;
        let app = crate::app_with_store(&settings, store).context("invalid session settings")?;
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        let local = listener.local_addr().context("listening socket has no address")?;
        tracing::info!(
            "sesi listening on http://{local} (cookie format {}, {}, cookie {:?}, sessions in {}, cookie limit {MAX_COOKIE_SIZE} bytes)",
            settings.cookie_format,
            match settings.cookie_format {
                CookieFormatName::Pyramid => format!("hashalg {}", settings.hashalg),
                CookieFormatName::PyramidNacl => "encrypted".to_owned(),
                CookieFormatName::Flask => "signed with HMAC-SHA1 as Flask does".to_owned(),
                CookieFormatName::Django => "signed with HMAC-SHA256 as Django does".to_owned(),
            },
            settings.cookie_name,
            match (&settings.store, settings.spill) {
                (StoreChoice::Cookie, _) => "the cookie".to_owned(),
                (StoreChoice::Memory, spill) => format!("memory{}", if spill { " (spill-over)" } else { "" }),
                (StoreChoice::Redis(url) | StoreChoice::Sql(url), spill) => format!("{}{}", redact_url(url), if spill { " (spill-over)" } else { "" }),
            }
        );
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown_signal())
            .await
            .context("server failed")?;
        tracing::info!("sesi stopped");
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(%err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(err) => {
                tracing::error!(%err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("Ctrl-C received, shutting down"),
        () = terminate => tracing::info!("SIGTERM received, shutting down"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets(text: &str) -> Secrets {
        Secrets::new(sesi::Secret::new_insecure(text).expect("non-empty"))
    }

    #[test]
    fn addr_accepts_ip_addresses_and_host_names() {
        assert_eq!(
            resolve_addr("127.0.0.1:6543").expect("ip").to_string(),
            "127.0.0.1:6543"
        );
        let local = resolve_addr("localhost:6543").expect("localhost resolves");
        assert!(local.ip().is_loopback(), "{local}");
        assert!(resolve_addr("no port").is_err());
    }

    #[test]
    fn weak_secret_is_allowed_on_loopback_and_refused_elsewhere() {
        let weak = secrets("rahasia_dapur_123");
        let loopback: SocketAddr = "127.0.0.1:6543".parse().expect("addr");
        let public: SocketAddr = "0.0.0.0:6543".parse().expect("addr");
        let pyramid = CookieFormatName::Pyramid;
        assert!(check_secret_strength(&weak, &loopback, false, pyramid).is_ok());
        let err = check_secret_strength(&weak, &public, false, pyramid).expect_err("refused");
        assert!(err.to_string().contains("--allow-weak-secret"), "{err}");
        assert!(check_secret_strength(&weak, &public, true, pyramid).is_ok());
        let fair = secrets(&"k".repeat(40));
        assert!(
            check_secret_strength(&fair, &public, false, pyramid).is_ok(),
            "warned only"
        );
        let strong = secrets(&"k".repeat(64));
        assert!(check_secret_strength(&strong, &public, false, pyramid).is_ok());
    }
}
