//! The HMAC hash algorithms Pyramid's `hashalg` setting can name, and a keyed MAC prepared once.

use std::fmt;
use std::str::FromStr;

use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Sha224, Sha256, Sha384, Sha512};

/// A hash algorithm for the cookie's HMAC, named as Pyramid's `hashalg` setting names it.
///
/// ```
/// use sesi_core::HashAlg;
/// let alg: HashAlg = "sha256".parse().unwrap();
/// assert_eq!(alg, HashAlg::Sha256);
/// assert_eq!(alg.tag_len(), 32);
/// assert_eq!(HashAlg::default(), HashAlg::Sha512);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HashAlg {
    /// HMAC-SHA1 (20-byte tag). Accepted for Pyramid parity; prefer SHA-512.
    Sha1,
    /// HMAC-SHA224 (28-byte tag).
    Sha224,
    /// HMAC-SHA256 (32-byte tag).
    Sha256,
    /// HMAC-SHA384 (48-byte tag).
    Sha384,
    /// HMAC-SHA512 (64-byte tag), Pyramid's default.
    #[default]
    Sha512,
}

impl HashAlg {
    /// Every supported algorithm, strongest last.
    pub const ALL: [HashAlg; 5] = [
        HashAlg::Sha1,
        HashAlg::Sha224,
        HashAlg::Sha256,
        HashAlg::Sha384,
        HashAlg::Sha512,
    ];

    /// The name Pyramid and Python's `hashlib` use (`"sha512"`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            HashAlg::Sha1 => "sha1",
            HashAlg::Sha224 => "sha224",
            HashAlg::Sha256 => "sha256",
            HashAlg::Sha384 => "sha384",
            HashAlg::Sha512 => "sha512",
        }
    }

    /// Length in bytes of the HMAC tag at the front of the decoded cookie.
    #[must_use]
    pub fn tag_len(self) -> usize {
        match self {
            HashAlg::Sha1 => 20,
            HashAlg::Sha224 => 28,
            HashAlg::Sha256 => 32,
            HashAlg::Sha384 => 48,
            HashAlg::Sha512 => 64,
        }
    }
}

impl fmt::Display for HashAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The hash algorithm name was not one Pyramid supports here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown hash algorithm {name:?}: expected one of sha1, sha224, sha256, sha384, sha512")]
pub struct UnknownHashAlg {
    /// The name that was given.
    pub name: String,
}

impl FromStr for HashAlg {
    type Err = UnknownHashAlg;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // hashlib accepts upper case too ("SHA512"), so do we.
        HashAlg::ALL
            .into_iter()
            .find(|alg| alg.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownHashAlg { name: s.to_owned() })
    }
}

/// An HMAC keyed once with the salted secret; each use clones the prepared state, which halves the
/// cost compared with re-keying (the key is hashed into the inner and outer pads only once).
#[derive(Clone)]
pub(crate) enum KeyedMac {
    Sha1(Hmac<Sha1>),
    Sha224(Hmac<Sha224>),
    Sha256(Hmac<Sha256>),
    Sha384(Hmac<Sha384>),
    Sha512(Hmac<Sha512>),
}

macro_rules! with_mac {
    ($self:expr, $mac:ident => $body:expr) => {
        match $self {
            KeyedMac::Sha1($mac) => $body,
            KeyedMac::Sha224($mac) => $body,
            KeyedMac::Sha256($mac) => $body,
            KeyedMac::Sha384($mac) => $body,
            KeyedMac::Sha512($mac) => $body,
        }
    };
}

impl KeyedMac {
    pub(crate) fn new(alg: HashAlg, key: &[u8]) -> Self {
        const WHY: &str = "HMAC accepts keys of any length";
        match alg {
            HashAlg::Sha1 => KeyedMac::Sha1(Hmac::new_from_slice(key).expect(WHY)),
            HashAlg::Sha224 => KeyedMac::Sha224(Hmac::new_from_slice(key).expect(WHY)),
            HashAlg::Sha256 => KeyedMac::Sha256(Hmac::new_from_slice(key).expect(WHY)),
            HashAlg::Sha384 => KeyedMac::Sha384(Hmac::new_from_slice(key).expect(WHY)),
            HashAlg::Sha512 => KeyedMac::Sha512(Hmac::new_from_slice(key).expect(WHY)),
        }
    }

    /// Writes the tag of `data` into `out`, which must be exactly the tag length.
    pub(crate) fn sign_into(&self, data: &[u8], out: &mut [u8]) {
        with_mac!(self, mac => {
            let mut mac = mac.clone();
            mac.update(data);
            out.copy_from_slice(&mac.finalize().into_bytes());
        })
    }

    /// Constant-time, full-length check of `tag` against the tag of `data`.
    pub(crate) fn verify(&self, data: &[u8], tag: &[u8]) -> bool {
        with_mac!(self, mac => {
            let mut mac = mac.clone();
            mac.update(data);
            tags_equal(&mac.finalize().into_bytes(), tag)
        })
    }
}

/// Compares two tags in time that depends only on their lengths (which are public): every byte
/// pair is XOR-folded into one accumulator, and only that is compared, through `subtle`'s
/// optimisation barrier. `subtle`'s own slice comparison (what `Mac::verify_slice` uses) puts
/// a barrier on every byte, which made it about a sixth of a verification's cost.
fn tags_equal(expected: &[u8], tag: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    if expected.len() != tag.len() {
        return false;
    }
    let diff = expected
        .iter()
        .zip(tag)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b));
    diff.ct_eq(&0).into()
}

impl fmt::Debug for KeyedMac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let alg = match self {
            KeyedMac::Sha1(_) => HashAlg::Sha1,
            KeyedMac::Sha224(_) => HashAlg::Sha224,
            KeyedMac::Sha256(_) => HashAlg::Sha256,
            KeyedMac::Sha384(_) => HashAlg::Sha384,
            KeyedMac::Sha512(_) => HashAlg::Sha512,
        };
        write!(f, "KeyedMac({alg}, <redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_case_insensitively_and_rejects_unknown() {
        assert_eq!("SHA384".parse::<HashAlg>(), Ok(HashAlg::Sha384));
        let err = "md5".parse::<HashAlg>().unwrap_err();
        assert!(err.to_string().contains("\"md5\""), "{err}");
    }

    #[test]
    fn tag_len_matches_the_real_mac_output() {
        for alg in HashAlg::ALL {
            let mac = KeyedMac::new(alg, b"key");
            let mut tag = vec![0u8; alg.tag_len()];
            mac.sign_into(b"data", &mut tag);
            assert!(mac.verify(b"data", &tag));
            assert!(
                !mac.verify(b"data", &tag[..tag.len() - 1]),
                "{alg}: prefix accepted"
            );
        }
    }

    #[test]
    fn a_difference_in_any_byte_of_the_tag_is_caught() {
        let mac = KeyedMac::new(HashAlg::Sha512, b"key");
        let mut tag = [0u8; 64];
        mac.sign_into(b"data", &mut tag);
        for i in 0..tag.len() {
            for bit in 0..8 {
                let mut bad = tag;
                bad[i] ^= 1 << bit;
                assert!(
                    !mac.verify(b"data", &bad),
                    "flip of bit {bit} in byte {i} accepted"
                );
            }
        }
        let mut longer = tag.to_vec();
        longer.push(0);
        assert!(
            !mac.verify(b"data", &longer),
            "an extended tag was accepted"
        );
        assert!(!tags_equal(&[], &[0]) && tags_equal(&[], &[]));
    }
}
