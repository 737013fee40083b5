//! itsdangerous as Flask configures it (`URLSafeTimedSerializer`, `key_derivation="hmac"`,
//! SHA-1): the key derivation, the timestamp's bytes, and the strict split of a value into
//! `[.]payload.timestamp.signature`.

use super::super::b64::STRICT_B64;
use super::super::error::{DecodeError, MAX_COOKIE_VALUE_LEN};
use super::super::pyramid::{HashAlg, KeyedMac};
use crate::record::Timestamp;
use crate::secret::Secret;

/// Bytes of an HMAC-SHA1 signature.
pub(super) const SIG_LEN: usize = 20;
/// Characters of its unpadded base64url text.
pub(super) const SIG_B64_LEN: usize = 27;

/// `HMAC-SHA1(key = HMAC-SHA1(secret, salt))`, prepared once. itsdangerous takes a text secret
/// as UTF-8 (`want_bytes`) and a byte secret as is, and the salt as UTF-8.
pub(super) fn derive(secret: &Secret, salt: &str) -> KeyedMac {
    let key = match secret.expose_text() {
        Some(text) => text.as_bytes().to_vec(),
        // A byte secret: `salted_key` with an empty salt is its bytes, unchanged.
        None => secret.salted_key(""),
    };
    let mut derived = [0u8; SIG_LEN];
    KeyedMac::new(HashAlg::Sha1, &key).sign_into(salt.as_bytes(), &mut derived);
    KeyedMac::new(HashAlg::Sha1, &derived)
}

/// itsdangerous's `int_to_bytes`: the big-endian bytes of a `u64` without leading zeros (none
/// at all for 0). Returns the buffer and where the bytes start.
pub(super) fn int_to_bytes(n: u64) -> ([u8; 8], usize) {
    let bytes = n.to_be_bytes();
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(8);
    (bytes, start)
}

/// The whole seconds itsdangerous signs for `accessed` (`int(time.time())`): a float is
/// truncated, a negative time (which Python cannot sign) is written as 0, and one beyond
/// `Timestamp::MAX_ABS` (only a record built by hand holds one) as that, the most this format
/// reads back.
pub(super) fn issued_secs(accessed: Timestamp) -> u64 {
    let secs = match accessed {
        Timestamp::Int(i) => u64::try_from(i).unwrap_or(0),
        // `as` saturates: NaN and negatives become 0.
        Timestamp::Float(f) => f as u64,
    };
    secs.min(Timestamp::MAX_ABS as u64)
}

/// A value split at its dots; nothing is decoded yet.
#[derive(Debug, Clone, Copy)]
pub(super) struct Parts<'v> {
    /// The payload is zlib-compressed (a leading `.`).
    pub compressed: bool,
    /// The base64url payload, without the leading `.`.
    pub payload: &'v str,
    /// The base64url timestamp.
    pub timestamp: &'v str,
    /// Everything the signature covers: `[.]payload.timestamp`.
    pub signed: &'v str,
    /// The base64url signature.
    pub signature: &'v str,
}

/// Why a value does not have the shape `[.]payload.timestamp.signature`.
#[derive(Debug, thiserror::Error)]
#[error("cookie value is not [.]payload.timestamp.signature: {0}")]
struct StructureError(&'static str);

/// Why a signed timestamp is refused.
#[derive(Debug, thiserror::Error)]
enum TimestampError {
    #[error("the timestamp is not canonical base64url")]
    Base64(#[source] base64::DecodeError),
    #[error("the timestamp is {0} bytes, more than 8")]
    TooLong(usize),
    #[error("the timestamp has a leading zero byte, which itsdangerous never writes")]
    LeadingZero,
    #[error("the timestamp {0} is beyond 1e12 seconds")]
    OutOfRange(u64),
}

fn structure(why: &'static str) -> DecodeError {
    DecodeError::Format {
        kind: "bad_structure",
        source: Box::new(StructureError(why)),
    }
}

fn bad_timestamp(err: TimestampError) -> DecodeError {
    DecodeError::Format {
        kind: "bad_timestamp",
        source: Box::new(err),
    }
}

/// Length cap, then the split at the last two dots; the payload holds no further dot.
pub(super) fn split(value: &str) -> Result<Parts<'_>, DecodeError> {
    if value.len() > MAX_COOKIE_VALUE_LEN {
        return Err(DecodeError::Oversized { len: value.len() });
    }
    let (signed, signature) = value
        .rsplit_once('.')
        .ok_or_else(|| structure("no dot before a signature"))?;
    let (body, timestamp) = signed
        .rsplit_once('.')
        .ok_or_else(|| structure("no dot before a timestamp"))?;
    let (compressed, payload) = match body.strip_prefix('.') {
        Some(payload) => (true, payload),
        None => (false, body),
    };
    if payload.contains('.') {
        return Err(structure("more than three parts"));
    }
    Ok(Parts {
        compressed,
        payload,
        timestamp,
        signed,
        signature,
    })
}

/// The index of the key whose HMAC matches (constant time, full length), trying the current key
/// first and then each fallback.
///
/// # Errors
/// [`DecodeError::BadSignature`] when none does or the signature is not 27 characters,
/// [`DecodeError::Base64`] when it is not canonical base64url.
pub(super) fn verify(macs: &[KeyedMac], parts: &Parts<'_>) -> Result<usize, DecodeError> {
    if parts.signature.len() != SIG_B64_LEN {
        return Err(DecodeError::BadSignature);
    }
    let mut sig = [0u8; 32];
    let n =
        base64::Engine::decode_slice(&STRICT_B64, parts.signature, &mut sig).map_err(|err| {
            match err {
                base64::DecodeSliceError::DecodeError(err) => DecodeError::Base64(err),
                base64::DecodeSliceError::OutputSliceTooSmall => DecodeError::BadSignature,
            }
        })?;
    let sig = &sig[..n];
    macs.iter()
        .position(|mac| mac.verify(parts.signed.as_bytes(), sig))
        .ok_or(DecodeError::BadSignature)
}

/// The signed timestamp: canonical base64url of at most 8 big-endian bytes without a leading
/// zero (empty is 0), at most [`Timestamp::MAX_ABS`] seconds.
pub(super) fn timestamp(text: &str) -> Result<Timestamp, DecodeError> {
    if text.len() > 11 {
        return Err(bad_timestamp(TimestampError::TooLong(text.len() * 3 / 4)));
    }
    let mut buf = [0u8; 12];
    let n = base64::Engine::decode_slice(&STRICT_B64, text, &mut buf).map_err(|err| {
        bad_timestamp(match err {
            base64::DecodeSliceError::DecodeError(err) => TimestampError::Base64(err),
            base64::DecodeSliceError::OutputSliceTooSmall => TimestampError::TooLong(9),
        })
    })?;
    let bytes = &buf[..n];
    if n > 8 {
        return Err(bad_timestamp(TimestampError::TooLong(n)));
    }
    if bytes.first() == Some(&0) {
        return Err(bad_timestamp(TimestampError::LeadingZero));
    }
    let secs = bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
    match i64::try_from(secs) {
        Ok(i) if i as f64 <= Timestamp::MAX_ABS => Ok(Timestamp::Int(i)),
        _ => Err(bad_timestamp(TimestampError::OutOfRange(secs))),
    }
}
