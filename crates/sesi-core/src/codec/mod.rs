//! The cookie codec: `[accessed, created, state]` <-> the signed cookie value, in Pyramid's format.
//!
//! `value = base64url_nopad(HMAC(salt + secret, payload) || payload)` where `payload` is the JSON text
//! of `[accessed, created, state]` exactly as Python's `json.dumps` writes it. This module knows
//! nothing of cookies' attributes, clocks or stores: it is WebOb's `SignedSerializer` in Rust.

mod hashalg;
pub mod pyjson;
mod record;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

pub(crate) use hashalg::KeyedMac;
pub use hashalg::{HashAlg, UnknownHashAlg};
pub use record::{Record, Timestamp};

use crate::secret::Secrets;
use crate::store::SessionId;

/// Pyramid's default salt.
pub const DEFAULT_SALT: &str = "pyramid.session.";

/// Longest cookie value the decoder looks at; longer values are discarded before any decoding work
/// (a browser never stores a longer cookie, so such a value is an attack or a proxy's garbage).
pub const MAX_COOKIE_VALUE_LEN: usize = 4096;

/// JSON nesting deeper than this is rejected. This is serde_json's own recursion limit: its
/// counter starts at 128 and fails on reaching 0, so 127 levels parse and 128 do not.
pub const MAX_JSON_DEPTH: usize = 127;

/// Strict base64url: no padding accepted, no `+`/`/`, no whitespace, no non-zero trailing bits.
const STRICT_B64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(false),
);

/// Why a cookie value could not be turned into a session record. Each failing step has its own variant.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The value is longer than [`MAX_COOKIE_VALUE_LEN`]; it was not decoded at all.
    #[error("cookie value is {len} characters, limit is {MAX_COOKIE_VALUE_LEN}")]
    Oversized {
        /// Length of the value received.
        len: usize,
    },
    /// The value is not canonical unpadded base64url.
    #[error("cookie value is not canonical unpadded base64url")]
    Base64(#[source] base64::DecodeError),
    /// The decoded bytes are too short to hold a signature and a payload.
    #[error(
        "decoded cookie is {len} bytes, shorter than the {min}-byte minimum (signature + payload)"
    )]
    TooShort {
        /// Decoded length.
        len: usize,
        /// Signature length plus one byte of payload.
        min: usize,
    },
    /// No configured secret produced this signature.
    #[error(
        "bad signature: the cookie was not signed with any configured secret, salt and hash algorithm"
    )]
    BadSignature,
    /// The signature is good but the payload is not JSON.
    #[error("signed payload is not valid JSON")]
    MalformedJson(#[source] serde_json::Error),
    /// The signature is good but the JSON nests deeper than [`MAX_JSON_DEPTH`].
    #[error("signed payload nests deeper than {MAX_JSON_DEPTH} levels")]
    TooDeep,
    /// The signature is good but the JSON is not `[accessed, created, state]`.
    #[error("signed payload is not [accessed, created, state]: {0}")]
    BadShape(ShapeError),
}

impl DecodeError {
    /// A short, stable, machine-friendly name for logs and the inspector (`"bad_signature"`).
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            DecodeError::Oversized { .. } => "oversized",
            DecodeError::Base64(_) => "bad_base64",
            DecodeError::TooShort { .. } => "too_short",
            DecodeError::BadSignature => "bad_signature",
            DecodeError::MalformedJson(_) => "malformed_payload",
            DecodeError::TooDeep => "too_deep",
            DecodeError::BadShape(_) => "bad_shape",
        }
    }
}

/// What is wrong with the shape of a correctly signed payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ShapeError {
    /// The JSON is not an array.
    #[error("not an array")]
    NotArray,
    /// The array does not have exactly three elements.
    #[error("array has {0} elements, expected 3")]
    WrongLength(usize),
    /// `accessed` is not a number in the accepted range.
    #[error(
        "accessed is not a finite timestamp within +/-{} s",
        Timestamp::MAX_ABS
    )]
    BadAccessed,
    /// `created` is not a number in the accepted range.
    #[error("created is not a finite timestamp within +/-{} s", Timestamp::MAX_ABS)]
    BadCreated,
    /// `state` is not a JSON object.
    #[error("state is not a JSON object")]
    StateNotObject,
    /// A session-id payload that is not 32 hex characters.
    #[error("session id is not 32 hex characters")]
    BadSessionId,
}

/// Payload prefix of a cookie that carries a session id (JSON payloads start with `[`).
const ID_PREFIX: &[u8] = b"sid:";

/// What a verified cookie carries.
#[derive(Debug, Clone, PartialEq)]
pub enum CookieContent {
    /// The whole session (the Pyramid format).
    State(Decoded),
    /// The id of a session kept in a store.
    Id {
        /// The session id.
        id: SessionId,
        /// Which secret verified it (0: the current one).
        key_index: usize,
    },
}

/// A successfully verified and decoded cookie.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The `[accessed, created, state]` triple.
    pub record: Record,
    /// Which secret verified it: 0 is the current secret, 1.. are the fallbacks in order.
    pub key_index: usize,
}

/// Signs and verifies Pyramid-format cookie values with one hash algorithm, one salt and a set of
/// secrets (the first signs; all verify). Keys are prepared once here; encoding and decoding only
/// clone the prepared HMAC state.
///
/// ```
/// use sesi_core::{Codec, HashAlg, Record, Secret, Secrets, Timestamp, DEFAULT_SALT};
///
/// let secrets = Secrets::new(Secret::new("a secret of at least thirty-two bytes!!")?);
/// let codec = Codec::new(&secrets, DEFAULT_SALT, HashAlg::Sha512);
/// let mut state = serde_json::Map::new();
/// state.insert("counter".into(), 1.into());
/// let record = Record::new(Timestamp::Int(1764000000), Timestamp::Float(1764000000.25), state);
/// let cookie = codec.encode(&record);
/// let decoded = codec.decode(&cookie)?;
/// assert_eq!(decoded.record, record);
/// assert_eq!(decoded.key_index, 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Codec {
    alg: HashAlg,
    macs: Box<[KeyedMac]>,
}

impl Codec {
    /// Prepares a codec. The salted key of each secret is `salt + secret`, encoded as WebOb does
    /// (latin-1 when every character of both fits, UTF-8 otherwise).
    #[must_use]
    pub fn new(secrets: &Secrets, salt: &str, alg: HashAlg) -> Self {
        let macs = secrets
            .iter()
            .map(|secret| KeyedMac::new(alg, &secret.salted_key(salt)))
            .collect();
        Codec { alg, macs }
    }

    /// The hash algorithm in use.
    #[must_use]
    pub fn hashalg(&self) -> HashAlg {
        self.alg
    }

    /// How many secrets verify (the current one plus fallbacks).
    #[must_use]
    pub fn key_count(&self) -> usize {
        self.macs.len()
    }

    /// Signs a record with the current secret and returns the cookie value.
    #[must_use]
    pub fn encode(&self, record: &Record) -> String {
        let mut value = String::new();
        SCRATCH.with_borrow_mut(|scratch| self.encode_into(record, scratch, &mut value));
        value
    }

    /// Like [`encode`](Self::encode), reusing caller-owned buffers: `scratch` receives the signed
    /// bytes, `out` is cleared and receives the cookie value.
    pub fn encode_into(&self, record: &Record, scratch: &mut Vec<u8>, out: &mut String) {
        self.start_signing(scratch, 64 + 8 * record.state.len());
        record.write_json(scratch);
        self.seal(scratch, out);
    }

    /// Signs an already written `[accessed, created, state]` JSON payload (as
    /// [`Record::write_json`] writes it) into a cookie value.
    #[must_use]
    pub fn encode_payload(&self, json: &[u8]) -> String {
        let mut value = String::new();
        SCRATCH.with_borrow_mut(|scratch| {
            self.start_signing(scratch, json.len());
            scratch.extend_from_slice(json);
            self.seal(scratch, &mut value);
        });
        value
    }

    /// Length of the cookie value for a JSON payload of `json_len` bytes.
    #[must_use]
    pub fn value_len(&self, json_len: usize) -> usize {
        base64_len(self.alg.tag_len() + json_len)
    }

    /// Length of the cookie value [`encode_id`](Self::encode_id) returns (the same for every id).
    #[must_use]
    pub fn id_value_len(&self) -> usize {
        self.value_len(ID_PREFIX.len() + 32)
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

    /// Length of the cookie value [`encode`](Self::encode) would return, without signing.
    #[must_use]
    pub fn encoded_len(&self, record: &Record) -> usize {
        let mut json = Vec::with_capacity(64 + 8 * record.state.len());
        record.write_json(&mut json);
        self.value_len(json.len())
    }

    /// Verifies and decodes a cookie value. The checks run in this order, and the first failure is
    /// returned: length cap, strict base64url, minimum size, signature (constant time, full length,
    /// against each secret), JSON, shape.
    ///
    /// # Errors
    /// A [`DecodeError`] naming the step that failed.
    pub fn decode(&self, value: &str) -> Result<Decoded, DecodeError> {
        DECODED.with_borrow_mut(|buf| {
            let (payload, key_index) = self.verify(value, buf)?;
            let record = parse_payload(payload)?;
            Ok(Decoded { record, key_index })
        })
    }

    /// Signs a session id into a cookie value for a session kept in a store. Same layout as a
    /// state cookie, with the payload `sid:` + 32 hex characters instead of JSON.
    #[must_use]
    pub fn encode_id(&self, id: &SessionId) -> String {
        let mut payload = Vec::with_capacity(ID_PREFIX.len() + 32);
        payload.extend_from_slice(ID_PREFIX);
        payload.extend_from_slice(id.to_hex().as_bytes());
        self.encode_payload(&payload)
    }

    /// Verifies a cookie value and returns what it carries: a whole session, or the id of a
    /// session kept in a store.
    ///
    /// # Errors
    /// As [`decode`](Self::decode); an id payload that is not 32 hex characters is `BadShape`.
    pub fn decode_any(&self, value: &str) -> Result<CookieContent, DecodeError> {
        DECODED.with_borrow_mut(|buf| {
            let (payload, key_index) = self.verify(value, buf)?;
            if let Some(hex) = payload.strip_prefix(ID_PREFIX) {
                let id = std::str::from_utf8(hex)
                    .ok()
                    .and_then(SessionId::from_hex)
                    .ok_or(DecodeError::BadShape(ShapeError::BadSessionId))?;
                return Ok(CookieContent::Id { id, key_index });
            }
            let record = parse_payload(payload)?;
            Ok(CookieContent::State(Decoded { record, key_index }))
        })
    }

    /// Length cap, strict base64, minimum size and signature; returns the verified payload and
    /// the index of the secret that verified it.
    fn verify<'b>(
        &self,
        value: &str,
        buf: &'b mut Vec<u8>,
    ) -> Result<(&'b [u8], usize), DecodeError> {
        let bytes = decode_base64(value, buf)?;
        let tag_len = self.alg.tag_len();
        if bytes.len() <= tag_len {
            return Err(DecodeError::TooShort {
                len: bytes.len(),
                min: tag_len + 1,
            });
        }
        let (tag, payload) = bytes.split_at(tag_len);
        let key_index = self
            .macs
            .iter()
            .position(|mac| mac.verify(payload, tag))
            .ok_or(DecodeError::BadSignature)?;
        Ok((payload, key_index))
    }

    /// Decodes a cookie value WITHOUT checking its signature: signed cookies are readable by anyone,
    /// and this shows what they can read. Never trust the result.
    ///
    /// # Errors
    /// A [`DecodeError`] for every step but the signature check.
    pub fn decode_unverified(value: &str, alg: HashAlg) -> Result<Record, DecodeError> {
        let mut buf = Vec::new();
        let bytes = decode_base64(value, &mut buf)?;
        let tag_len = alg.tag_len();
        if bytes.len() <= tag_len {
            return Err(DecodeError::TooShort {
                len: bytes.len(),
                min: tag_len + 1,
            });
        }
        parse_payload(&bytes[tag_len..])
    }
}

/// Length of the unpadded base64 text of `n` bytes.
#[must_use]
pub fn base64_len(n: usize) -> usize {
    n / 3 * 4
        + match n % 3 {
            0 => 0,
            1 => 2,
            _ => 3,
        }
}

/// Decodes into `buf` (cleared first; reused across calls, so no allocation once warm) and
/// returns the decoded bytes.
fn decode_base64<'b>(value: &str, buf: &'b mut Vec<u8>) -> Result<&'b [u8], DecodeError> {
    if value.len() > MAX_COOKIE_VALUE_LEN {
        return Err(DecodeError::Oversized { len: value.len() });
    }
    buf.clear();
    STRICT_B64
        .decode_vec(value, buf)
        .map_err(DecodeError::Base64)?;
    Ok(buf)
}

thread_local! {
    /// Reused signing buffer, so `encode` allocates only the value it returns.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    /// Reused decoding buffer, so `decode` allocates only the record it returns.
    static DECODED: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Parses a verified payload (`[accessed, created, state]` JSON) into a record, as a store-loaded
/// session is read.
///
/// # Errors
/// [`DecodeError::MalformedJson`], [`DecodeError::TooDeep`] or [`DecodeError::BadShape`].
pub fn parse_payload(payload: &[u8]) -> Result<Record, DecodeError> {
    // Streamed straight into the record (no intermediate array of values); a shape problem is
    // reported through `shape`, everything else is a JSON error.
    let shape = std::cell::Cell::new(None);
    let mut de = serde_json::Deserializer::from_slice(payload);
    let parsed =
        serde::de::DeserializeSeed::deserialize(record::RecordSeed { shape: &shape }, &mut de)
            .and_then(|record| de.end().map(|()| record));
    parsed.map_err(|err| {
        if let Some(shape) = shape.take() {
            DecodeError::BadShape(shape)
        } else if nesting_depth(payload) > MAX_JSON_DEPTH {
            DecodeError::TooDeep
        } else {
            DecodeError::MalformedJson(err)
        }
    })
}

/// Maximum bracket depth outside strings; only computed on the error path, to name the cause.
fn nesting_depth(json: &[u8]) -> usize {
    let (mut depth, mut max, mut in_str, mut escaped) = (0usize, 0usize, false, false);
    for &b in json {
        if in_str {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

#[cfg(test)]
mod tests;
