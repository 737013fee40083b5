//! The pieces of `django.core.signing` the session backend uses: `salted_hmac`'s derived key,
//! the base64url signature text, and base62 timestamps.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::format::b64::STRICT_B64;
use crate::secret::Secret;

/// Characters of the signature: the unpadded base64url of a 32-byte HMAC-SHA256.
pub(super) const SIGNATURE_LEN: usize = 43;

/// Django's `BASE62_ALPHABET`.
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// One key's HMAC, prepared once: `Signer.signature(value, key)` for one `key`.
#[derive(Clone)]
pub(super) struct DjangoMac(Hmac<Sha256>);

impl DjangoMac {
    /// `salted_hmac(salt + "signer", _, secret, algorithm="sha256")`'s key:
    /// `sha256(force_bytes(salt + "signer") + force_bytes(secret))`. `force_bytes` is UTF-8 for
    /// text (never latin-1, unlike WebOb) and the bytes as they are for a byte secret.
    pub(super) fn new(salt: &str, secret: &Secret) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(salt.as_bytes());
        hasher.update(b"signer");
        match secret.expose_text() {
            Some(text) => hasher.update(text.as_bytes()),
            // A byte secret: WebOb's salted key with an empty salt is the bytes as they are.
            None => hasher.update(secret.salted_key("")),
        }
        let key = hasher.finalize();
        DjangoMac(Hmac::new_from_slice(&key).expect("HMAC takes a key of any length"))
    }

    /// The signature text of `value`: 43 base64url characters.
    pub(super) fn signature(&self, value: &[u8]) -> [u8; SIGNATURE_LEN] {
        let mut mac = self.0.clone();
        mac.update(value);
        let tag = mac.finalize().into_bytes();
        let mut text = [0u8; SIGNATURE_LEN];
        let written = STRICT_B64
            .encode_slice(tag, &mut text)
            .expect("32 bytes are 43 base64 characters");
        debug_assert_eq!(written, SIGNATURE_LEN);
        text
    }

    /// Whether `signature` is the signature of `value`, compared in constant time as Django's
    /// `constant_time_compare` compares the two strings (a length mismatch is public).
    pub(super) fn verify(&self, value: &[u8], signature: &[u8]) -> bool {
        bool::from(self.signature(value).as_slice().ct_eq(signature))
    }
}

/// Appends Django's `b62_encode(n)`: `0`, digits without leading zeros, `-` before a negative.
pub(super) fn write_base62(out: &mut String, n: i64) {
    if n < 0 {
        out.push('-');
    }
    let mut magnitude = n.unsigned_abs();
    let mut digits = [0u8; 11]; // 62^11 > 2^64
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = BASE62[(magnitude % 62) as usize];
        magnitude /= 62;
        if magnitude == 0 {
            break;
        }
    }
    out.extend(digits[start..].iter().map(|&d| char::from(d)));
}

/// Length of [`write_base62`]'s text for `n`.
pub(super) fn base62_len(n: i64) -> usize {
    let mut magnitude = n.unsigned_abs();
    let mut len = usize::from(n < 0) + 1;
    while magnitude >= 62 {
        magnitude /= 62;
        len += 1;
    }
    len
}

/// Django's `b62_decode`, for the text Django's `b62_encode` writes only: an optional `-`, then
/// `0` alone or digits without a leading zero, at most `max` in magnitude. `None` for anything
/// else (Django also reads `-`, `-0` and leading zeros; its own writer never produces them).
pub(super) fn parse_base62(text: &[u8], max: u64) -> Option<i64> {
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    match digits {
        [] => return None,
        [b'0'] if !negative => return Some(0),
        [b'0', ..] => return None,
        _ => {}
    }
    let mut value: u64 = 0;
    for &c in digits {
        let digit = match c {
            b'0'..=b'9' => c - b'0',
            b'A'..=b'Z' => c - b'A' + 10,
            b'a'..=b'z' => c - b'a' + 36,
            _ => return None,
        };
        value = value.checked_mul(62)?.checked_add(u64::from(digit))?;
        if value > max {
            return None;
        }
    }
    let value = i64::try_from(value).ok()?;
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b62(n: i64) -> String {
        let mut out = String::new();
        write_base62(&mut out, n);
        assert_eq!(out.len(), base62_len(n), "{n}");
        out
    }

    #[test]
    fn base62_writes_what_djangos_b62_encode_writes() {
        // python -c 'from django.core.signing import b62_encode as e; print(e(1764000000), ...)'
        assert_eq!(b62(0), "0");
        assert_eq!(b62(61), "z");
        assert_eq!(b62(62), "10");
        assert_eq!(b62(1_764_000_000), "1vNYyu");
        assert_eq!(b62(-62), "-10");
        assert_eq!(b62(i64::MIN).len(), 12);
        assert_eq!(b62(i64::MAX), "AzL8n0Y58m7");
    }

    #[test]
    fn base62_reads_only_canonical_text_within_the_bound() {
        for n in [0, 1, 61, 62, 1_764_000_000, -5, 999_999_999_999] {
            assert_eq!(parse_base62(b62(n).as_bytes(), 1_000_000_000_000), Some(n));
        }
        for bad in ["", "-", "-0", "00", "01", "+1", "1 ", "1:", "\u{e9}"] {
            assert_eq!(parse_base62(bad.as_bytes(), u64::MAX), None, "{bad:?}");
        }
        assert_eq!(parse_base62(b"10", 61), None);
        assert_eq!(parse_base62(b"zzzzzzzzzzzzzzzzzzzz", u64::MAX), None);
    }
}
