//! The cookie formats `--cookie-format` (`SESI_COOKIE_FORMAT`) can name: one table that `sesi
//! serve`, `sesi cookie` and `sesi keygen` all read, so a name means the same everywhere.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use sesi::core::{CookieFormat, DecodeError, PyramidFormat, Record};
use sesi::{HashAlg, Secret, Secrets};

/// A cookie format by name. Each has its own key shape, which [`generate_key`](Self::generate_key)
/// makes and the settings turn into the format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CookieFormatName {
    /// Pyramid's `SignedCookieSessionFactory`: any-length secrets, a salt and a hash algorithm.
    #[default]
    Pyramid,
}

impl CookieFormatName {
    /// Every format this build knows.
    pub const ALL: [CookieFormatName; 1] = [CookieFormatName::Pyramid];

    /// The name `--cookie-format` takes.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            CookieFormatName::Pyramid => "pyramid",
        }
    }

    /// The format with its keys and settings (Pyramid's `salt` and `hashalg`; other formats
    /// ignore them).
    #[must_use]
    pub fn build(self, secrets: &Secrets, salt: &str, hashalg: HashAlg) -> Arc<dyn CookieFormat> {
        match self {
            CookieFormatName::Pyramid => Arc::new(PyramidFormat::new(secrets, salt, hashalg)),
        }
    }

    /// What anyone holding `value` can read without a key, or `None` for a format that hides it.
    #[must_use]
    pub fn read_unverified(
        self,
        value: &str,
        hashalg: HashAlg,
    ) -> Option<Result<Record, DecodeError>> {
        match self {
            CookieFormatName::Pyramid => Some(PyramidFormat::decode_unverified(value, hashalg)),
        }
    }

    /// The format's rules for a secret's length in bytes: below the first a server refuses to
    /// listen beyond loopback (unless told to), below the second it warns. Pyramid: 32 and 64
    /// (HMAC-SHA512 hashes its key in 128-byte blocks, and Pyramid's docs ask for 64 bytes).
    #[must_use]
    pub fn secret_lengths(self) -> (usize, usize) {
        match self {
            CookieFormatName::Pyramid => (
                sesi::core::MIN_SECRET_LEN,
                sesi::core::secret::RECOMMENDED_SECRET_LEN,
            ),
        }
    }

    /// A fresh key of the shape this format takes, as text for `SESI_SECRET` or a secret file
    /// (Pyramid: 64 random bytes as 128 hex characters, usable in a Pyramid `.ini` as-is).
    ///
    /// # Errors
    /// When the operating system's random number generator fails.
    pub fn generate_key(self) -> Result<String, sesi::SecretError> {
        match self {
            CookieFormatName::Pyramid => {
                let secret = Secret::generate()?;
                Ok(secret
                    .expose_text()
                    .expect("generated secrets are hex text")
                    .to_owned())
            }
        }
    }
}

impl fmt::Display for CookieFormatName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not one of [`CookieFormatName::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown cookie format {given:?}: the known formats are {}", known())]
pub struct UnknownCookieFormat {
    /// The name given.
    pub given: String,
}

fn known() -> String {
    CookieFormatName::ALL.map(CookieFormatName::name).join(", ")
}

impl FromStr for CookieFormatName {
    type Err = UnknownCookieFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CookieFormatName::ALL
            .into_iter()
            .find(|format| format.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownCookieFormat {
                given: s.to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_unknown_ones_list_the_known() {
        assert_eq!("pyramid".parse(), Ok(CookieFormatName::Pyramid));
        assert_eq!(" Pyramid ".parse(), Ok(CookieFormatName::Pyramid));
        let err = "flask"
            .parse::<CookieFormatName>()
            .expect_err("not built yet");
        assert_eq!(
            err.to_string(),
            r#"unknown cookie format "flask": the known formats are pyramid"#
        );
    }

    #[test]
    fn a_pyramid_key_is_128_hex_characters() {
        let key = CookieFormatName::Pyramid.generate_key().expect("os rng");
        assert_eq!(key.len(), 128);
        assert!(key.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}
