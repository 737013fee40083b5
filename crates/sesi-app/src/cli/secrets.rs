//! Where the server's secrets come from: SESI_SECRET, a secret file, or a generated file that is
//! reused on the next start.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use sesi::{Secret, Secrets};

/// Where the secrets were found, for the startup log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// The SESI_SECRET environment variable (or `--secret`).
    Env,
    /// A file given with `--secret-file`.
    File(PathBuf),
    /// The default file, read again.
    DefaultFile(PathBuf),
    /// The default file, just generated.
    Generated(PathBuf),
}

/// `$XDG_DATA_HOME/sesi/secret`, else `$HOME/.local/share/sesi/secret`, else `./.sesi-secret`.
#[must_use]
pub fn default_secret_path() -> PathBuf {
    let non_empty = |var| std::env::var_os(var).filter(|v| !v.is_empty());
    if let Some(data) = non_empty("XDG_DATA_HOME") {
        return PathBuf::from(data).join("sesi").join("secret");
    }
    if let Some(home) = non_empty("HOME") {
        return PathBuf::from(home)
            .join(".local")
            .join("share")
            .join("sesi")
            .join("secret");
    }
    PathBuf::from(".sesi-secret")
}

fn parse_list<'a>(items: impl Iterator<Item = &'a str>, origin: &str) -> anyhow::Result<Secrets> {
    let secrets = items
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(Secret::new_insecure)
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("bad secret in {origin}"))?;
    if secrets.is_empty() {
        bail!("{origin} holds no secret");
    }
    Secrets::from_list(secrets).with_context(|| format!("bad secrets in {origin}"))
}

/// Reads secrets from a file: one per line, the first signs.
///
/// # Errors
/// When the file cannot be read or holds no secret.
pub fn read_secret_file(path: &Path) -> anyhow::Result<Secrets> {
    let text = fs::read_to_string(path)
        .with_context(|| format!("cannot read secret file {}", path.display()))?;
    parse_list(text.lines(), &format!("secret file {}", path.display()))
}

/// Secrets given explicitly (comma-separated value, else a file), or `None` when neither is given.
///
/// # Errors
/// When a source is unreadable or empty.
pub fn load_explicit_secrets(
    env_value: Option<&str>,
    file: Option<&Path>,
) -> anyhow::Result<Option<Secrets>> {
    if let Some(value) = env_value {
        return parse_list(value.split(','), "the secret list").map(Some);
    }
    file.map(read_secret_file).transpose()
}

/// The server's secrets: `env_value` (comma-separated) if given, else `file`, else the default
/// file, generated with a fresh 64-byte secret (mode 0600) when it does not exist yet.
///
/// # Errors
/// When a source is unreadable or empty, or the default file cannot be written.
pub fn load_secrets(
    env_value: Option<&str>,
    file: Option<&Path>,
) -> anyhow::Result<(Secrets, SecretSource)> {
    if let Some(value) = env_value {
        return Ok((
            parse_list(value.split(','), "SESI_SECRET")?,
            SecretSource::Env,
        ));
    }
    if let Some(path) = file {
        return Ok((read_secret_file(path)?, SecretSource::File(path.to_owned())));
    }
    let path = default_secret_path();
    if path.exists() {
        return Ok((read_secret_file(&path)?, SecretSource::DefaultFile(path)));
    }
    let secret = Secret::generate()?;
    write_private(
        &path,
        secret.expose_text().expect("generated secrets are text"),
    )?;
    Ok((Secrets::new(secret), SecretSource::Generated(path)))
}

/// Creates `path` readable and writable by the owner only, failing if it already exists.
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create secret file {}", path.display()))?;
    writeln!(file, "{text}").with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
