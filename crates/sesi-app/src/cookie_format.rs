//! The cookie formats `--cookie-format` (`SESI_COOKIE_FORMAT`) can name: one table that `sesi
//! serve`, `sesi cookie` and `sesi keygen` all read, so a name means the same everywhere.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sesi::core::{
    CookieFormat, DecodeError, DjangoFormat, FlaskFormat, NaclKey, NaclKeyError, PyramidFormat,
    PyramidNaclFormat, Record,
};
use sesi::{HashAlg, Secret, Secrets};

/// A cookie format by name. Each has its own key shape, which [`generate_key`](Self::generate_key)
/// makes and the settings turn into the format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CookieFormatName {
    /// Pyramid's `SignedCookieSessionFactory`: any-length secrets, a salt and a hash algorithm.
    #[default]
    Pyramid,
    /// pyramid_nacl_session's `EncryptedCookieSessionFactory` with the JSON serializer: keys of
    /// exactly 32 bytes, written as 64 hex characters.
    PyramidNacl,
    /// Flask's default session (`SecureCookieSessionInterface`): `SECRET_KEY` and its
    /// `SECRET_KEY_FALLBACKS`.
    Flask,
    /// Django's `signed_cookies` session backend: `SECRET_KEY` and its `SECRET_KEY_FALLBACKS`.
    Django,
}

/// Secrets that are not keys of the chosen format. The message never repeats a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{format} cookie format: secret #{position}: {reason}")]
pub struct FormatKeyError {
    /// The format.
    pub format: CookieFormatName,
    /// Which secret (1 is the current one).
    pub position: usize,
    /// What is wrong with it (part of the message, so not a separate `source`).
    pub reason: NaclKeyError,
}

impl CookieFormatName {
    /// Every format this build knows.
    pub const ALL: [CookieFormatName; 4] = [
        CookieFormatName::Pyramid,
        CookieFormatName::PyramidNacl,
        CookieFormatName::Flask,
        CookieFormatName::Django,
    ];

    /// The name `--cookie-format` takes.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            CookieFormatName::Pyramid => "pyramid",
            CookieFormatName::PyramidNacl => "pyramid-nacl",
            CookieFormatName::Flask => "flask",
            CookieFormatName::Django => "django",
        }
    }

    /// The framework's default idle timeout: Pyramid's `timeout` (1200 s), Flask's
    /// `PERMANENT_SESSION_LIFETIME` (31 days) or Django's `SESSION_COOKIE_AGE` (two weeks), each
    /// the age past which that framework refuses a cookie.
    #[must_use]
    pub fn default_timeout(self) -> Option<Duration> {
        Some(match self {
            CookieFormatName::Pyramid | CookieFormatName::PyramidNacl => {
                sesi::core::DEFAULT_TIMEOUT
            }
            CookieFormatName::Flask => Duration::from_secs(31 * 24 * 3600),
            CookieFormatName::Django => Duration::from_secs(14 * 24 * 3600),
        })
    }

    /// The framework's default session cookie name: `session`, Django's `sessionid`.
    #[must_use]
    pub fn default_cookie_name(self) -> &'static str {
        match self {
            CookieFormatName::Django => "sessionid",
            _ => "session",
        }
    }

    /// Whether a visitor can read what the cookie holds (signed) or not (encrypted).
    #[must_use]
    pub fn encrypts(self) -> bool {
        matches!(self, CookieFormatName::PyramidNacl)
    }

    /// The format with its keys and settings (Pyramid's `salt` and `hashalg`; other formats
    /// ignore them and use their framework's own salt).
    ///
    /// # Errors
    /// A secret that is not a key of this format (pyramid-nacl: 64 hex characters), or more
    /// keys than a format takes.
    pub fn build(
        self,
        secrets: &Secrets,
        salt: &str,
        hashalg: HashAlg,
    ) -> Result<Arc<dyn CookieFormat>, FormatKeyError> {
        match self {
            CookieFormatName::Pyramid => Ok(Arc::new(PyramidFormat::new(secrets, salt, hashalg))),
            CookieFormatName::PyramidNacl => {
                let error = |position, reason| FormatKeyError {
                    format: self,
                    position,
                    reason,
                };
                let keys = secrets
                    .iter()
                    .enumerate()
                    .map(|(n, secret)| NaclKey::from_secret(secret).map_err(|e| error(n + 1, e)))
                    .collect::<Result<Vec<_>, _>>()?;
                let format = PyramidNaclFormat::from_keys(keys).map_err(|e| error(1, e))?;
                Ok(Arc::new(format))
            }
            CookieFormatName::Flask => Ok(Arc::new(FlaskFormat::new(secrets))),
            CookieFormatName::Django => Ok(Arc::new(DjangoFormat::new(secrets))),
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
            CookieFormatName::PyramidNacl => None,
            // Reading needs no key; the format is built with a throwaway one only to reach it.
            CookieFormatName::Flask | CookieFormatName::Django => {
                let any_key = Secrets::new(Secret::new_insecure("unused").ok()?);
                self.build(&any_key, "", hashalg)
                    .ok()?
                    .read_unverified(value)
            }
        }
    }

    /// The format's rules for a secret's length in bytes: below the first a server refuses to
    /// listen beyond loopback (unless told to), below the second it warns. Pyramid: 32 and 64
    /// (HMAC-SHA512 hashes its key in 128-byte blocks, and Pyramid's docs ask for 64 bytes);
    /// Flask: 32 and 64 (the 64 hex characters of `secrets.token_hex()`, which Flask's docs
    /// suggest); Django: 32 and 50 (`get_random_secret_key()`, and what `check --deploy` asks
    /// for).
    /// `None` for a format whose keys have one exact shape, checked by [`build`](Self::build).
    #[must_use]
    pub fn secret_lengths(self) -> Option<(usize, usize)> {
        match self {
            CookieFormatName::Pyramid => Some((
                sesi::core::MIN_SECRET_LEN,
                sesi::core::secret::RECOMMENDED_SECRET_LEN,
            )),
            CookieFormatName::Flask => Some((sesi::core::MIN_SECRET_LEN, 64)),
            CookieFormatName::Django => Some((sesi::core::MIN_SECRET_LEN, 50)),
            CookieFormatName::PyramidNacl => None,
        }
    }

    /// Why [`secret_lengths`](Self::secret_lengths) recommends its length, for the warning.
    #[must_use]
    pub fn why_recommended(self) -> &'static str {
        match self {
            CookieFormatName::Pyramid | CookieFormatName::PyramidNacl => {
                "HMAC-SHA512 hashes its key in 128-byte blocks, and Pyramid's docs ask for 64 bytes"
            }
            CookieFormatName::Flask => {
                "Flask's docs make SECRET_KEY with secrets.token_hex(): 64 hex characters"
            }
            CookieFormatName::Django => {
                "Django's get_random_secret_key() makes 50 characters, and `manage.py check \
                 --deploy` warns below that"
            }
        }
    }

    /// A fresh key of the shape this format takes, as text for `SESI_SECRET` or a secret file
    /// (Pyramid: 64 random bytes as 128 hex characters, usable in a Pyramid `.ini` as-is;
    /// pyramid-nacl: 32 random bytes as 64 hex characters, pyramid_nacl_session's
    /// `session.secret`; flask: 32 random bytes as 64 hex characters, what Flask's docs make
    /// with `secrets.token_hex()`; django: 50 characters of the alphabet of Django's
    /// `get_random_secret_key()`).
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
            CookieFormatName::PyramidNacl => NaclKey::generate()
                .map(|key| key.to_hex())
                .map_err(sesi::SecretError::Random),
            CookieFormatName::Flask => {
                let mut bytes = [0u8; 32];
                getrandom::fill(&mut bytes).map_err(sesi::SecretError::Random)?;
                Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
            }
            CookieFormatName::Django => django_secret_key(),
        }
    }
}

/// Django's `get_random_secret_key()`: 50 characters drawn uniformly from its alphabet.
fn django_secret_key() -> Result<String, sesi::SecretError> {
    const ALPHABET: &[u8; 50] = b"abcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*(-_=+)";
    let mut key = String::with_capacity(ALPHABET.len());
    let mut pool = [0u8; 64];
    while key.len() < 50 {
        getrandom::fill(&mut pool).map_err(sesi::SecretError::Random)?;
        // Bytes from 250 up are dropped, so each of the 50 characters is equally likely.
        for &b in pool.iter().filter(|&&b| b < 250) {
            if key.len() < 50 {
                key.push(char::from(ALPHABET[usize::from(b % 50)]));
            }
        }
    }
    Ok(key)
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
        let err = "bottle"
            .parse::<CookieFormatName>()
            .expect_err("not a format");
        assert_eq!(
            err.to_string(),
            r#"unknown cookie format "bottle": the known formats are pyramid, pyramid-nacl, flask, django"#
        );
        assert_eq!("Flask".parse(), Ok(CookieFormatName::Flask));
        assert_eq!("django".parse(), Ok(CookieFormatName::Django));
        assert_eq!("PYRAMID-NACL".parse(), Ok(CookieFormatName::PyramidNacl));
    }

    #[test]
    fn a_pyramid_nacl_key_is_64_hex_characters_and_anything_else_is_refused() {
        let key = CookieFormatName::PyramidNacl
            .generate_key()
            .expect("os rng");
        assert_eq!(key.len(), 64);
        assert!(key.bytes().all(|b| b.is_ascii_hexdigit()));
        let secrets = |list: &[&str]| {
            Secrets::from_list(list.iter().map(|s| Secret::new_insecure(*s).expect("text")))
                .expect("a list")
        };
        let build = |s: &Secrets| {
            CookieFormatName::PyramidNacl.build(s, sesi::core::DEFAULT_SALT, HashAlg::Sha512)
        };
        let format = build(&secrets(&[&key])).expect("a key");
        assert_eq!(format.name(), "pyramid-nacl");
        let err = build(&secrets(&[&key, "rahasia_dapur_123"])).expect_err("not a key");
        assert_eq!(err.position, 2);
        let text = err.to_string();
        assert!(
            text.contains("pyramid-nacl cookie format: secret #2"),
            "{text}"
        );
        assert!(text.contains("64 hex characters"), "{text}");
        assert!(!text.contains(&key), "never echoes a key");
        assert!(CookieFormatName::PyramidNacl.encrypts());
        assert!(!CookieFormatName::Pyramid.encrypts());
    }

    #[test]
    fn flask_and_django_keys_have_their_frameworks_shapes() {
        let flask = CookieFormatName::Flask.generate_key().expect("os rng");
        assert_eq!(flask.len(), 64);
        assert!(flask.bytes().all(|b| b.is_ascii_hexdigit()));
        let django = CookieFormatName::Django.generate_key().expect("os rng");
        assert_eq!(django.len(), 50);
        assert!(
            django
                .bytes()
                .all(|b| b"abcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*(-_=+)".contains(&b)),
            "{django}"
        );
        assert_ne!(
            django,
            CookieFormatName::Django.generate_key().expect("os rng")
        );
        for format in [CookieFormatName::Flask, CookieFormatName::Django] {
            let key = format.generate_key().expect("os rng");
            let secrets = Secrets::new(Secret::new_insecure(key).expect("text"));
            let built = format
                .build(&secrets, sesi::core::DEFAULT_SALT, HashAlg::Sha512)
                .expect("any text is a key");
            assert_eq!(built.name(), format.name());
            assert!(!format.encrypts());
        }
    }

    #[test]
    fn a_pyramid_key_is_128_hex_characters() {
        let key = CookieFormatName::Pyramid.generate_key().expect("os rng");
        assert_eq!(key.len(), 128);
        assert!(key.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}
