//! Where the server's secrets come from, by one rule for every cookie format: each `--secret`
//! (or `SESI_SECRET`) is exactly one secret, never split on any character; a rotation list is a
//! repeated `--secret` (the first signs) or a secret file, one secret per line; with neither, a
//! key of the format's shape is generated into a file of its own and reused on the next start.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use sesi::{Secret, Secrets};

use crate::CookieFormatName;

/// Where the secrets were found, for the startup log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// `--secret` flags or the SESI_SECRET environment variable.
    Env,
    /// A file given with `--secret-file`.
    File(PathBuf),
    /// The default file, read again.
    DefaultFile(PathBuf),
    /// The default file, just generated.
    Generated(PathBuf),
}

/// The secrets and what to tell the operator about them.
#[derive(Debug)]
pub struct LoadedSecrets {
    /// Current first, then fallbacks.
    pub secrets: Secrets,
    /// Where they came from.
    pub source: SecretSource,
    /// Things that work but should not be so (a secret file others can read), as sentences.
    pub warnings: Vec<String>,
}

/// The default secret file of `format`: `$XDG_DATA_HOME/sesi/secret` (else
/// `$HOME/.local/share/sesi/secret`, else `./.sesi-secret`) for `pyramid`; another format's key
/// goes to `secret-<format>` beside it (`secret-pyramid-nacl`), since a key of one format's shape
/// does not fit another.
#[must_use]
pub fn default_secret_path(format: CookieFormatName) -> PathBuf {
    let name = match format {
        CookieFormatName::Pyramid => "secret".to_owned(),
        other => format!("secret-{}", other.name()),
    };
    let non_empty = |var| std::env::var_os(var).filter(|v| !v.is_empty());
    if let Some(data) = non_empty("XDG_DATA_HOME") {
        return PathBuf::from(data).join("sesi").join(name);
    }
    if let Some(home) = non_empty("HOME") {
        return PathBuf::from(home)
            .join(".local")
            .join("share")
            .join("sesi")
            .join(name);
    }
    PathBuf::from(format!(".sesi-{name}"))
}

/// Secrets from a list whose first element is the current one.
fn from_list<'a>(items: impl Iterator<Item = &'a str>, origin: &str) -> anyhow::Result<Secrets> {
    let secrets = items
        .map(Secret::new_insecure)
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("bad secret in {origin}"))?;
    if secrets.is_empty() {
        bail!("{origin} holds no secret");
    }
    Secrets::from_list(secrets).with_context(|| format!("bad secrets in {origin}"))
}

/// Reads secrets from a file: one per line, each exactly as written (only the line ending is
/// removed, as a secret given by flag keeps its every character; blank lines are skipped), the
/// first signs. Warns when group or others may access the file, and about a secret that begins
/// or ends with a blank.
///
/// # Errors
/// When the file cannot be read or holds no secret.
pub fn read_secret_file(path: &Path) -> anyhow::Result<(Secrets, Vec<String>)> {
    let text = fs::read_to_string(path)
        .with_context(|| format!("cannot read secret file {}", path.display()))?;
    let lines = || text.lines().filter(|line| !line.trim().is_empty());
    let origin = format!("secret file {}", path.display());
    let secrets = from_list(lines(), &origin)?;
    let mut warnings = permission_warnings(path);
    warnings.extend(blank_edge_warnings(lines(), &origin));
    Ok((secrets, warnings))
}

/// A warning for each secret that begins or ends with a blank: it is kept (a secret is never
/// trimmed, wherever it comes from), but it is most often a copy-and-paste slip, and an app that
/// shares the secret and trims it (Pyramid's `.ini` files do) would not verify its cookies.
fn blank_edge_warnings<'a>(secrets: impl Iterator<Item = &'a str>, origin: &str) -> Vec<String> {
    secrets
        .enumerate()
        .filter(|(_, secret)| secret.trim() != *secret)
        .map(|(n, _)| {
            format!(
                "secret #{} from {origin} begins or ends with a blank, which is part of the \
                 secret (never trimmed); an app that shares it must have it too",
                n + 1
            )
        })
        .collect()
}

/// A warning for a secret file that others than its owner may read.
fn permission_warnings(path: &Path) -> Vec<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if let Ok(meta) = fs::metadata(path) {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return vec![format!(
                    "secret file {} is accessible to group or others (mode {mode:03o}): anyone \
                     who reads it can forge sessions; `chmod 600 {}`",
                    path.display(),
                    path.display()
                )];
            }
        }
    }
    let _ = path;
    Vec::new()
}

/// Secrets given explicitly (one per `--secret`, else a file), or `None` when neither is given.
///
/// # Errors
/// When a source is unreadable or empty, or a secret is empty.
pub fn load_explicit_secrets(
    values: &[String],
    file: Option<&Path>,
) -> anyhow::Result<Option<LoadedSecrets>> {
    if !values.is_empty() {
        let origin = "--secret / SESI_SECRET";
        let secrets = from_list(values.iter().map(String::as_str), origin)?;
        return Ok(Some(LoadedSecrets {
            secrets,
            source: SecretSource::Env,
            warnings: blank_edge_warnings(values.iter().map(String::as_str), origin),
        }));
    }
    let Some(path) = file else {
        return Ok(None);
    };
    let (secrets, warnings) = read_secret_file(path)?;
    Ok(Some(LoadedSecrets {
        secrets,
        source: SecretSource::File(path.to_owned()),
        warnings,
    }))
}

/// The server's secrets: the `--secret` values if given, else `file`, else the format's default
/// file, generated with a fresh key of the format's shape (mode 0600) when it does not exist yet.
///
/// # Errors
/// When a source is unreadable or empty, or the default file cannot be written.
pub fn load_secrets(
    values: &[String],
    file: Option<&Path>,
    format: CookieFormatName,
) -> anyhow::Result<LoadedSecrets> {
    if let Some(loaded) = load_explicit_secrets(values, file)? {
        return Ok(loaded);
    }
    let path = default_secret_path(format);
    if path.exists() {
        let (secrets, warnings) = read_secret_file(&path)?;
        return Ok(LoadedSecrets {
            secrets,
            source: SecretSource::DefaultFile(path),
            warnings,
        });
    }
    let key = format.generate_key()?;
    write_private(&path, &key)?;
    let secrets = Secrets::new(Secret::new_insecure(key).context("a generated key")?);
    Ok(LoadedSecrets {
        secrets,
        source: SecretSource::Generated(path),
        warnings: Vec::new(),
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_never_split_and_a_list_comes_from_repeats() {
        let one = vec!["a,secret,with,commas and spaces ".to_owned()];
        let loaded = load_explicit_secrets(&one, None)
            .expect("valid")
            .expect("given");
        assert_eq!(loaded.secrets.len(), 1);
        assert_eq!(
            loaded.secrets.current().expose_text(),
            Some("a,secret,with,commas and spaces ")
        );
        let two = vec!["new".to_owned(), "old".to_owned()];
        let loaded = load_explicit_secrets(&two, None)
            .expect("valid")
            .expect("given");
        assert_eq!(loaded.secrets.len(), 2);
        assert_eq!(loaded.secrets.current().expose_text(), Some("new"));
        assert!(load_explicit_secrets(&[String::new()], None).is_err());
        assert!(load_explicit_secrets(&[], None).expect("fine").is_none());
    }

    #[test]
    fn a_secret_is_kept_exactly_from_a_flag_and_from_a_file_with_a_warning_for_blank_edges() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("secrets");
        fs::write(&path, " padded secret \r\nplain\n").expect("write");
        let from_file = load_explicit_secrets(&[], Some(&path))
            .expect("valid")
            .expect("given");
        let from_flag = load_explicit_secrets(&[" padded secret ".to_owned()], None)
            .expect("valid")
            .expect("given");
        for loaded in [&from_file, &from_flag] {
            assert_eq!(
                loaded.secrets.current().expose_text(),
                Some(" padded secret "),
                "the same secret wherever it comes from"
            );
            let blanks: Vec<&String> = loaded
                .warnings
                .iter()
                .filter(|w| w.contains("begins or ends with a blank"))
                .collect();
            assert_eq!(blanks.len(), 1, "{:?}", loaded.warnings);
            assert!(blanks[0].contains("secret #1"), "{}", blanks[0]);
        }
        assert_eq!(from_file.secrets.len(), 2);
    }

    #[cfg(unix)]
    #[test]
    fn a_secret_file_others_can_read_is_accepted_with_a_warning() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("secrets");
        fs::write(&path, "first, with a comma\r\n\nsecond\n").expect("write");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).expect("chmod");
        let (secrets, warnings) = read_secret_file(&path).expect("readable");
        assert_eq!(secrets.len(), 2);
        assert_eq!(secrets.current().expose_text(), Some("first, with a comma"));
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("mode 644") && warnings[0].contains("chmod 600"));
        assert!(warnings[0].contains("accessible to group or others"));
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).expect("chmod");
        assert!(read_secret_file(&path).expect("readable").1.is_empty());
    }
}
