//! The key of the pyramid-nacl format: exactly 32 bytes, written as 64 hex characters.

use std::fmt;

use crate::secret::{Secret, Secrets};

/// Bytes in a key (NaCl's `crypto_secretbox_KEYBYTES`).
pub const NACL_KEY_LEN: usize = 32;

/// A pyramid_nacl_session key: 32 bytes, as its `session.secret` setting holds them (64 hex
/// characters) and its `print_secret` script prints them. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct NaclKey([u8; NACL_KEY_LEN]);

/// Why text is not a pyramid-nacl key. The messages never repeat the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NaclKeyError {
    /// Not 64 bytes of text.
    #[error(
        "a pyramid-nacl key is 32 bytes written as 64 hex characters (as `sesi keygen \
         --cookie-format pyramid-nacl` and pyramid_nacl_session's `print_secret` make it); this \
         one is {len} bytes long"
    )]
    WrongLength {
        /// Bytes given.
        len: usize,
    },
    /// 64 characters, but not all hex digits.
    #[error(
        "a pyramid-nacl key is 64 hex characters; this one has a character that is not 0-9 or a-f"
    )]
    NotHex,
    /// More keys than one current and [`crate::MAX_FALLBACKS`] fallbacks.
    #[error(
        "at most {} fallback keys (each one costs a decryption attempt for every rejected cookie)",
        crate::MAX_FALLBACKS
    )]
    TooManyKeys,
    /// No key at all.
    #[error("no pyramid-nacl key given")]
    NoKey,
}

impl NaclKey {
    /// A key from its 32 bytes.
    #[must_use]
    pub fn from_bytes(bytes: [u8; NACL_KEY_LEN]) -> Self {
        NaclKey(bytes)
    }

    /// A key from its 64 hex characters (either case). Nothing else is accepted: no derivation
    /// from a passphrase, no other length, so a key means the same here and in Pyramid.
    ///
    /// # Errors
    /// [`NaclKeyError::WrongLength`] or [`NaclKeyError::NotHex`].
    pub fn from_hex(text: &str) -> Result<Self, NaclKeyError> {
        let digits = text.as_bytes();
        if digits.len() != 2 * NACL_KEY_LEN {
            return Err(NaclKeyError::WrongLength { len: digits.len() });
        }
        let mut key = [0u8; NACL_KEY_LEN];
        for (byte, pair) in key.iter_mut().zip(digits.chunks_exact(2)) {
            let high = hex_digit(pair[0]).ok_or(NaclKeyError::NotHex)?;
            let low = hex_digit(pair[1]).ok_or(NaclKeyError::NotHex)?;
            *byte = high << 4 | low;
        }
        Ok(NaclKey(key))
    }

    /// A key from a [`Secret`] holding its hex text (a `--secret`, a line of a secret file).
    ///
    /// # Errors
    /// As [`from_hex`](Self::from_hex); a secret that is not text has the wrong length.
    pub fn from_secret(secret: &Secret) -> Result<Self, NaclKeyError> {
        match secret.expose_text() {
            Some(text) => Self::from_hex(text),
            None => Err(NaclKeyError::WrongLength { len: secret.len() }),
        }
    }

    /// Every secret of `secrets` as a key, the current one first.
    ///
    /// # Errors
    /// The first secret that is not a key, as [`from_secret`](Self::from_secret).
    pub fn from_secrets(secrets: &Secrets) -> Result<Vec<Self>, NaclKeyError> {
        secrets.iter().map(Self::from_secret).collect()
    }

    /// 32 random bytes from the operating system.
    ///
    /// # Errors
    /// When the operating system's random number generator fails.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut key = [0u8; NACL_KEY_LEN];
        getrandom::fill(&mut key)?;
        Ok(NaclKey(key))
    }

    /// The 64 lowercase hex characters, for a settings file.
    #[must_use]
    pub fn to_hex(&self) -> String {
        crate::hex(&self.0)
    }

    pub(super) fn bytes(&self) -> &[u8; NACL_KEY_LEN] {
        &self.0
    }
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

impl fmt::Debug for NaclKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NaclKey(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_exactly_64_hex_characters() {
        let hex = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";
        let key = NaclKey::from_hex(hex).expect("a key");
        assert_eq!(key.bytes()[..4], [0x00, 0x11, 0x22, 0x33]);
        assert_eq!(key.to_hex(), hex.to_ascii_lowercase());
        assert_eq!(format!("{key:?}"), "NaclKey(..)");
        for (text, err) in [
            ("", NaclKeyError::WrongLength { len: 0 }),
            (&hex[..62], NaclKeyError::WrongLength { len: 62 }),
            ("rahasia_dapur_123", NaclKeyError::WrongLength { len: 17 }),
            (&format!("{}zz", &hex[..62]), NaclKeyError::NotHex),
            (&format!("{} ", &hex[..63]), NaclKeyError::NotHex),
        ] {
            assert_eq!(NaclKey::from_hex(text), Err(err.clone()), "{text:?}");
            assert!(!err.to_string().contains(&hex[..16]), "never echoes a key");
        }
        // Multi-byte characters are never sliced: 64 bytes of them are simply not hex.
        assert!(matches!(
            NaclKey::from_hex(&"é".repeat(32)),
            Err(NaclKeyError::NotHex)
        ));
    }

    #[test]
    fn generated_keys_differ_and_round_trip_through_hex() {
        let a = NaclKey::generate().expect("os rng");
        let b = NaclKey::generate().expect("os rng");
        assert_ne!(a, b);
        assert_eq!(NaclKey::from_hex(&a.to_hex()), Ok(a));
    }
}
