//! Pyramid's signed cookie format: `[accessed, created, state]` <-> the signed cookie value.
//!
//! `value = base64url_nopad(HMAC(salt + secret, payload) || payload)` where `payload` is the JSON text
//! of `[accessed, created, state]` exactly as Python's `json.dumps` writes it. This module knows
//! nothing of cookies' attributes, clocks or stores: it is WebOb's `SignedSerializer` in Rust.

mod hashalg;

pub(crate) use hashalg::KeyedMac;
pub use hashalg::{HashAlg, UnknownHashAlg};

use base64::Engine as _;

use super::b64::{STRICT_B64, base64_len, decode_base64};
use super::error::DecodeError;
use super::{CookieContent, CookieFormat, Decoded};
use crate::id::SessionId;
use crate::record::Record;
use crate::secret::Secrets;

/// Pyramid's default salt.
pub const DEFAULT_SALT: &str = "pyramid.session.";

/// Payload prefix of a cookie that carries a session id (JSON payloads start with `[`).
const ID_PREFIX: &[u8] = b"sid:";

/// Pyramid's `SignedCookieSessionFactory` format: signs and verifies cookie values with one hash
/// algorithm, one salt and a set of secrets (the first signs; all verify). Keys are prepared once
/// here; encoding and decoding only clone the prepared HMAC state.
///
/// In store mode the cookie carries `sid:` + the 32 hex characters of the session id in place of
/// the JSON, signed the same way: Pyramid cannot read such a cookie (its JSON parse fails, so a
/// Pyramid app beside sesi starts a fresh session for that visitor).
///
/// ```
/// use sesi_core::{CookieFormat, HashAlg, PyramidFormat, Record, Secret, Secrets, Timestamp};
///
/// let secrets = Secrets::new(Secret::new("a secret of at least thirty-two bytes!!")?);
/// let pyramid = PyramidFormat::new(&secrets, "pyramid.session.", HashAlg::Sha512);
/// let mut state = serde_json::Map::new();
/// state.insert("counter".into(), 1.into());
/// let record = Record::new(Timestamp::Int(1764000000), Timestamp::Float(1764000000.25), state);
/// let cookie = pyramid.encode(&record);
/// assert_eq!(pyramid.encoded_len(&record), cookie.len());
/// let decoded = pyramid.decode(&cookie)?;
/// assert_eq!(decoded.record(), Some(&record));
/// assert_eq!(decoded.key_index, 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct PyramidFormat {
    alg: HashAlg,
    macs: Box<[KeyedMac]>,
}

impl PyramidFormat {
    /// Prepares the format. The salted key of each secret is `salt + secret`, encoded as WebOb
    /// does (latin-1 when every character of both fits, UTF-8 otherwise).
    #[must_use]
    pub fn new(secrets: &Secrets, salt: &str, alg: HashAlg) -> Self {
        let macs = secrets
            .iter()
            .map(|secret| KeyedMac::new(alg, &secret.salted_key(salt)))
            .collect();
        PyramidFormat { alg, macs }
    }

    /// Pyramid's defaults: salt [`DEFAULT_SALT`], HMAC-SHA512.
    #[must_use]
    pub fn with_defaults(secrets: &Secrets) -> Self {
        Self::new(secrets, DEFAULT_SALT, HashAlg::default())
    }

    /// The hash algorithm in use.
    #[must_use]
    pub fn hashalg(&self) -> HashAlg {
        self.alg
    }

    /// How many secrets verify: the current one plus the fallbacks.
    #[must_use]
    pub fn key_count(&self) -> usize {
        self.macs.len()
    }

    /// Like [`encode`](CookieFormat::encode), reusing caller-owned buffers: `scratch` receives the
    /// signed bytes, `out` is cleared and receives the cookie value.
    pub fn encode_into(&self, record: &Record, scratch: &mut Vec<u8>, out: &mut String) {
        self.start_signing(scratch, 64 + 8 * record.state.len());
        record.write_json(scratch);
        self.seal(scratch, out);
    }

    /// Signs an already written payload into a cookie value.
    fn encode_payload(&self, payload: &[u8]) -> String {
        let mut value = String::new();
        SCRATCH.with_borrow_mut(|scratch| {
            self.start_signing(scratch, payload.len());
            scratch.extend_from_slice(payload);
            self.seal(scratch, &mut value);
        });
        value
    }

    /// Length of the cookie value for a payload of `payload_len` bytes.
    fn value_len(&self, payload_len: usize) -> usize {
        base64_len(self.alg.tag_len() + payload_len)
    }

    /// Empties `scratch` and leaves room for the tag in front of a payload of about `hint` bytes.
    fn start_signing(&self, scratch: &mut Vec<u8>, hint: usize) {
        let tag_len = self.alg.tag_len();
        scratch.clear();
        scratch.reserve(tag_len + hint);
        scratch.resize(tag_len, 0);
    }

    /// Fills in the tag of the payload that follows it in `signed`, and writes the base64url
    /// value into `out`.
    fn seal(&self, signed: &mut [u8], out: &mut String) {
        let (tag, payload) = signed.split_at_mut(self.alg.tag_len());
        self.macs[0].sign_into(payload, tag);
        out.clear();
        out.reserve(base64_len(signed.len()));
        STRICT_B64.encode_string(&signed[..], out);
    }

    /// Length cap, strict base64, minimum size and signature; returns the verified payload and
    /// the index of the secret that verified it.
    fn verify<'b>(
        &self,
        value: &str,
        buf: &'b mut Vec<u8>,
    ) -> Result<(&'b [u8], usize), DecodeError> {
        let (tag, payload) = split_tag(decode_base64(value, buf)?, self.alg)?;
        let key_index = self
            .macs
            .iter()
            .position(|mac| mac.verify(payload, tag))
            .ok_or(DecodeError::BadSignature)?;
        Ok((payload, key_index))
    }

    /// Decodes a cookie value WITHOUT checking its signature, knowing only the hash algorithm:
    /// signed cookies are readable by anyone, and this shows what they can read. Never trust the
    /// result.
    ///
    /// # Errors
    /// A [`DecodeError`] for every step but the signature check.
    pub fn decode_unverified(value: &str, alg: HashAlg) -> Result<Record, DecodeError> {
        let mut buf = Vec::new();
        let (_, payload) = split_tag(decode_base64(value, &mut buf)?, alg)?;
        Record::from_json(payload)
    }
}

/// `(tag, payload)`, or [`DecodeError::TooShort`] when no byte of payload follows the tag.
fn split_tag(bytes: &[u8], alg: HashAlg) -> Result<(&[u8], &[u8]), DecodeError> {
    let tag_len = alg.tag_len();
    if bytes.len() <= tag_len {
        return Err(DecodeError::TooShort {
            len: bytes.len(),
            min: tag_len + 1,
        });
    }
    Ok(bytes.split_at(tag_len))
}

impl CookieFormat for PyramidFormat {
    fn name(&self) -> &'static str {
        "pyramid"
    }

    fn encode(&self, record: &Record) -> String {
        let mut value = String::new();
        SCRATCH.with_borrow_mut(|scratch| self.encode_into(record, scratch, &mut value));
        value
    }

    fn encoded_len(&self, record: &Record) -> usize {
        SCRATCH.with_borrow_mut(|json| {
            json.clear();
            record.write_json(json);
            self.value_len(json.len())
        })
    }

    fn encode_id(&self, id: &SessionId) -> String {
        let mut payload = [0u8; ID_PREFIX.len() + 32];
        payload[..ID_PREFIX.len()].copy_from_slice(ID_PREFIX);
        payload[ID_PREFIX.len()..].copy_from_slice(id.to_hex().as_bytes());
        self.encode_payload(&payload)
    }

    fn encoded_id_len(&self) -> usize {
        self.value_len(ID_PREFIX.len() + 32)
    }

    /// The checks run in this order, and the first failure is returned: length cap, strict
    /// base64url, minimum size, signature (constant time, full length, against each secret),
    /// then a session id or the JSON and its shape.
    fn decode(&self, value: &str) -> Result<Decoded, DecodeError> {
        DECODED.with_borrow_mut(|buf| {
            let (payload, key_index) = self.verify(value, buf)?;
            let content = match payload.strip_prefix(ID_PREFIX) {
                Some(hex) => CookieContent::Id(
                    std::str::from_utf8(hex)
                        .ok()
                        .and_then(SessionId::from_hex)
                        .ok_or(DecodeError::BadSessionId)?,
                ),
                None => CookieContent::State(Record::from_json(payload)?),
            };
            Ok(Decoded { content, key_index })
        })
    }

    fn read_unverified(&self, value: &str) -> Option<Result<Record, DecodeError>> {
        Some(Self::decode_unverified(value, self.alg))
    }
}

thread_local! {
    /// Reused signing buffer, so `encode` allocates only the value it returns.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    /// Reused decoding buffer, so `decode` allocates only the record it returns.
    static DECODED: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

#[cfg(test)]
mod tests;
