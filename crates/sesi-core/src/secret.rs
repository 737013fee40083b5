//! Secrets: redacted, length-checked, and several at once for key rotation.

use std::fmt;

/// Secrets shorter than this are refused by [`Secret::new`] (use [`Secret::new_insecure`] for a
/// public tutorial secret on a development machine).
pub const MIN_SECRET_LEN: usize = 32;

/// Secrets shorter than this are accepted but reported by [`Secret::is_weak`]; Pyramid's docs and
/// cookie-rs recommend 64 bytes for HMAC-SHA512.
pub const RECOMMENDED_SECRET_LEN: usize = 64;

/// At most this many fallback secrets: each one adds an HMAC to the cost of rejecting a bad cookie.
pub const MAX_FALLBACKS: usize = 3;

/// Why a secret or a set of secrets was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// The secret is empty.
    #[error("secret is empty")]
    Empty,
    /// The secret is shorter than [`MIN_SECRET_LEN`] bytes.
    #[error(
        "secret is {len} bytes, at least {min} are required (a short secret can be brute-forced from one cookie)"
    )]
    TooShort {
        /// Length given, in bytes.
        len: usize,
        /// Required minimum.
        min: usize,
    },
    /// More than [`MAX_FALLBACKS`] fallback secrets.
    #[error("{count} fallback secrets given, at most {max} are allowed")]
    TooManyFallbacks {
        /// How many were given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// The operating system's random number generator failed.
    #[error("the operating system's random number generator failed")]
    Random(#[source] getrandom::Error),
}

#[derive(Clone, PartialEq, Eq)]
enum Material {
    /// A text secret, as Pyramid's settings hold it; encoded with the salt by WebOb's rule.
    Text(String),
    /// Raw bytes, used as they are (Python `bytes`).
    Bytes(Vec<u8>),
}

/// One signing secret. `Debug` never shows it.
///
/// ```
/// use sesi_core::{Secret, SecretError};
/// assert!(matches!(Secret::new("too short"), Err(SecretError::TooShort { len: 9, min: 32 })));
/// let dev = Secret::new_insecure("rahasia_dapur_123")?; // the tutorial's public secret
/// assert!(dev.is_weak());
/// assert!(!format!("{dev:?}").contains("rahasia"));
/// # Ok::<(), SecretError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Material);

impl Secret {
    /// A text secret of at least [`MIN_SECRET_LEN`] bytes (UTF-8 length).
    ///
    /// # Errors
    /// [`SecretError::Empty`] or [`SecretError::TooShort`].
    pub fn new(text: impl Into<String>) -> Result<Secret, SecretError> {
        let secret = Secret::new_insecure(text)?;
        secret.check_len()?;
        Ok(secret)
    }

    /// A text secret of any non-zero length. Only for public example secrets on a developer's machine:
    /// a short secret is recovered from one cookie by a dictionary attack in seconds.
    ///
    /// # Errors
    /// [`SecretError::Empty`].
    pub fn new_insecure(text: impl Into<String>) -> Result<Secret, SecretError> {
        let text = text.into();
        if text.is_empty() {
            return Err(SecretError::Empty);
        }
        Ok(Secret(Material::Text(text)))
    }

    /// A raw byte secret of at least [`MIN_SECRET_LEN`] bytes.
    ///
    /// # Errors
    /// [`SecretError::Empty`] or [`SecretError::TooShort`].
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> Result<Secret, SecretError> {
        let bytes = bytes.into();
        if bytes.is_empty() {
            return Err(SecretError::Empty);
        }
        let secret = Secret(Material::Bytes(bytes));
        secret.check_len()?;
        Ok(secret)
    }

    /// A fresh secret: 64 bytes from the OS random number generator, written as 128 lowercase hex
    /// characters so it can be pasted into an environment variable or a Pyramid `.ini` file as-is.
    ///
    /// # Errors
    /// [`SecretError::Random`] if the OS generator fails.
    pub fn generate() -> Result<Secret, SecretError> {
        let mut bytes = [0u8; RECOMMENDED_SECRET_LEN];
        getrandom::fill(&mut bytes).map_err(SecretError::Random)?;
        Ok(Secret(Material::Text(crate::hex(&bytes))))
    }

    /// Length in bytes (UTF-8 for text secrets).
    #[must_use]
    pub fn len(&self) -> usize {
        match &self.0 {
            Material::Text(t) => t.len(),
            Material::Bytes(b) => b.len(),
        }
    }

    /// Always false: empty secrets cannot be built.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True when shorter than [`RECOMMENDED_SECRET_LEN`] bytes.
    #[must_use]
    pub fn is_weak(&self) -> bool {
        self.len() < RECOMMENDED_SECRET_LEN
    }

    /// The text form, if this is a text secret. Handle with care: this is the secret itself.
    #[must_use]
    pub fn expose_text(&self) -> Option<&str> {
        match &self.0 {
            Material::Text(t) => Some(t),
            Material::Bytes(_) => None,
        }
    }

    fn check_len(&self) -> Result<(), SecretError> {
        if self.len() < MIN_SECRET_LEN {
            return Err(SecretError::TooShort {
                len: self.len(),
                min: MIN_SECRET_LEN,
            });
        }
        Ok(())
    }

    /// `salt + secret` as WebOb builds the HMAC key: both latin-1 when every character of both is
    /// at most U+00FF, otherwise both UTF-8. A byte secret is used as is, after the salt.
    pub(crate) fn salted_key(&self, salt: &str) -> Vec<u8> {
        let latin1 = |s: &str| -> Option<Vec<u8>> {
            s.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect()
        };
        match &self.0 {
            Material::Text(text) => match (latin1(salt), latin1(text)) {
                (Some(mut key), Some(secret)) => {
                    key.extend_from_slice(&secret);
                    key
                }
                _ => [salt.as_bytes(), text.as_bytes()].concat(),
            },
            Material::Bytes(bytes) => {
                let mut key = latin1(salt).unwrap_or_else(|| salt.as_bytes().to_vec());
                key.extend_from_slice(bytes);
                key
            }
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(<redacted, {} bytes>)", self.len())
    }
}

/// The secrets a service knows: one current secret that signs, and up to [`MAX_FALLBACKS`] older
/// ones that still verify during a rotation. A cookie verified by a fallback is re-issued, signed
/// with the current secret.
///
/// ```
/// use sesi_core::{Secret, Secrets};
/// let new = Secret::new("the new secret, rotated in on 2026-11-25")?;
/// let old = Secret::new("the old secret, kept until cookies roll over")?;
/// let secrets = Secrets::new(new).with_fallback(old)?;
/// assert_eq!(secrets.len(), 2);
/// # Ok::<(), sesi_core::SecretError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secrets {
    keys: Vec<Secret>,
}

impl Secrets {
    /// Just one secret.
    #[must_use]
    pub fn new(current: Secret) -> Self {
        Secrets {
            keys: vec![current],
        }
    }

    /// Adds a fallback that verifies but never signs. Fallbacks are tried in the order added.
    ///
    /// # Errors
    /// [`SecretError::TooManyFallbacks`] past [`MAX_FALLBACKS`].
    pub fn with_fallback(mut self, fallback: Secret) -> Result<Self, SecretError> {
        if self.keys.len() > MAX_FALLBACKS {
            return Err(SecretError::TooManyFallbacks {
                count: self.keys.len(),
                max: MAX_FALLBACKS,
            });
        }
        self.keys.push(fallback);
        Ok(self)
    }

    /// Builds from a list whose first element is the current secret.
    ///
    /// # Errors
    /// [`SecretError::Empty`] for an empty list, [`SecretError::TooManyFallbacks`] for a long one.
    pub fn from_list(list: impl IntoIterator<Item = Secret>) -> Result<Self, SecretError> {
        let keys: Vec<Secret> = list.into_iter().collect();
        if keys.is_empty() {
            return Err(SecretError::Empty);
        }
        if keys.len() > MAX_FALLBACKS + 1 {
            return Err(SecretError::TooManyFallbacks {
                count: keys.len() - 1,
                max: MAX_FALLBACKS,
            });
        }
        Ok(Secrets { keys })
    }

    /// The secret that signs.
    #[must_use]
    pub fn current(&self) -> &Secret {
        &self.keys[0]
    }

    /// All secrets, current first.
    pub fn iter(&self) -> impl Iterator<Item = &Secret> {
        self.keys.iter()
    }

    /// Number of secrets (current plus fallbacks), at least 1.
    #[must_use]
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Always false.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.keys).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salted_key_follows_webobs_latin1_then_utf8_rule() {
        let latin = Secret::new_insecure("kunci_é").expect("non-empty");
        assert_eq!(latin.salted_key("s."), b"s.kunci_\xe9".to_vec());
        let utf8 = Secret::new_insecure("kunci_☕").expect("non-empty");
        assert_eq!(utf8.salted_key("s.é"), "s.ékunci_☕".as_bytes().to_vec());
        let bytes = Secret::from_bytes(vec![0xffu8; 32]).expect("32 bytes");
        assert_eq!(bytes.salted_key("é")[..1], [0xe9]);
    }

    #[test]
    fn long_and_short_secrets_are_checked_by_length() {
        for len in [1usize, 31] {
            assert_eq!(
                Secret::new("x".repeat(len)),
                Err(SecretError::TooShort { len, min: 32 })
            );
        }
        for len in [32usize, 63, 64, 127, 128, 129, 1024] {
            let s = Secret::new("x".repeat(len)).expect("long enough");
            assert_eq!(s.is_weak(), len < 64);
        }
        assert_eq!(Secret::new_insecure(""), Err(SecretError::Empty));
    }

    #[test]
    fn debug_and_errors_never_show_the_secret() {
        let s = Secret::new("correct horse battery staple, really long").expect("long");
        let secrets = Secrets::new(s.clone())
            .with_fallback(s)
            .expect("one fallback");
        let shown = format!("{secrets:?}");
        assert!(!shown.contains("horse"), "{shown}");
        let err = Secret::new("hunter2").expect_err("short");
        assert!(!err.to_string().contains("hunter2"));
    }

    #[test]
    fn fallbacks_are_bounded() {
        let key = || Secret::new("k".repeat(40)).expect("long");
        let mut secrets = Secrets::new(key());
        for _ in 0..MAX_FALLBACKS {
            secrets = secrets.with_fallback(key()).expect("within bound");
        }
        assert!(matches!(
            secrets.with_fallback(key()),
            Err(SecretError::TooManyFallbacks { count: 4, max: 3 })
        ));
        assert!(Secrets::from_list(std::iter::repeat_with(key).take(5)).is_err());
        assert!(Secrets::from_list(Vec::new()).is_err());
    }

    #[test]
    fn generated_secrets_are_long_hex_and_distinct() {
        let a = Secret::generate().expect("os rng");
        let b = Secret::generate().expect("os rng");
        assert_eq!(a.len(), 128);
        assert!(
            a.expose_text()
                .is_some_and(|t| t.bytes().all(|c| c.is_ascii_hexdigit()))
        );
        assert_ne!(a, b);
    }
}
