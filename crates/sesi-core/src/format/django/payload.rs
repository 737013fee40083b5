//! The signed payload: `signing.JSONSerializer`'s JSON, maybe zlib-compressed (a leading `.`),
//! in unpadded base64url; and the structure of the value around it.

use serde_json::{Map, Value};

use super::signer::{SIGNATURE_LEN, parse_base62};
use crate::format::b64::decode_base64;
use crate::format::error::{DecodeError, MAX_COOKIE_VALUE_LEN};
use crate::format::zlib;
use crate::pyjson::{self, JsonStyle};
use crate::record::Timestamp;
use crate::session::DEFAULT_MAX_STORED_SIZE;

/// The most a compressed payload may inflate to: a session stored on the server gets no more.
pub const MAX_INFLATED_LEN: usize = DEFAULT_MAX_STORED_SIZE;

/// A Django-specific step that failed (reported as [`DecodeError::Format`]).
#[derive(Debug, thiserror::Error)]
enum DjangoError {
    #[error("value is not payload:timestamp:signature")]
    Structure,
    #[error("timestamp is not base62 seconds as Django writes them, within +/-1e12")]
    Timestamp,
}

impl From<DjangoError> for DecodeError {
    fn from(err: DjangoError) -> Self {
        let kind = match err {
            DjangoError::Structure => "malformed_value",
            DjangoError::Timestamp => "bad_timestamp",
        };
        DecodeError::Format {
            kind,
            source: Box::new(err),
        }
    }
}

/// A cookie value taken apart as `TimestampSigner.unsign` does, from the right.
pub(super) struct Parts<'a> {
    /// Everything the signature covers: `payload:timestamp`.
    pub(super) signed: &'a str,
    /// The signature text.
    pub(super) signature: &'a str,
    /// The base64url payload, after its `.` if it had one.
    payload: &'a str,
    /// Whether the payload is compressed (it started with `.`).
    compressed: bool,
    /// The timestamp text.
    timestamp: &'a str,
}

impl<'a> Parts<'a> {
    /// The length cap, then `rsplit(":", 1)` twice. Nothing is decoded yet.
    pub(super) fn split(value: &'a str) -> Result<Self, DecodeError> {
        if value.len() > MAX_COOKIE_VALUE_LEN {
            return Err(DecodeError::Oversized { len: value.len() });
        }
        let (signed, signature) = value.rsplit_once(':').ok_or(DjangoError::Structure)?;
        let (payload, timestamp) = signed.rsplit_once(':').ok_or(DjangoError::Structure)?;
        let (payload, compressed) = match payload.strip_prefix('.') {
            Some(rest) => (rest, true),
            None => (payload, false),
        };
        Ok(Parts {
            signed,
            signature,
            payload,
            compressed,
            timestamp,
        })
    }

    /// The signed issue time, as Django's `b62_encode(int(time.time()))` wrote it.
    pub(super) fn timestamp(&self) -> Result<i64, DecodeError> {
        // Timestamp::MAX_ABS is 1e12: exact in both types.
        let max = Timestamp::MAX_ABS as u64;
        Ok(parse_base62(self.timestamp.as_bytes(), max).ok_or(DjangoError::Timestamp)?)
    }

    /// The state: strict base64url, bounded inflate, latin-1 JSON (depth-limited), an object.
    pub(super) fn state(&self, buffers: &mut Buffers) -> Result<Map<String, Value>, DecodeError> {
        let Buffers {
            decoded,
            inflated,
            text,
            ..
        } = buffers;
        let mut data: &[u8] = decode_base64(self.payload, decoded)?;
        if self.compressed {
            zlib::inflate_bounded(data, MAX_INFLATED_LEN, inflated)?;
            data = inflated.as_slice();
        }
        // `JSONSerializer.loads` decodes latin-1: every byte is the character of that number.
        // Django writes ASCII only (ensure_ascii), so this matters only for a value another
        // writer signed with the key; it reads as Django reads it.
        if !data.is_ascii() {
            text.clear();
            text.extend(data.iter().map(|&b| char::from(b)));
            data = text.as_bytes();
        }
        crate::record::state_from_json(data)
    }
}

/// Reused buffers, so a decode allocates only the record it returns and an encode only the
/// value (and the compressor's output).
#[derive(Default)]
pub(super) struct Buffers {
    /// The base64-decoded payload.
    decoded: Vec<u8>,
    /// The inflated payload.
    inflated: Vec<u8>,
    /// A latin-1 payload as UTF-8.
    text: String,
    /// The JSON an encode writes.
    pub(super) json: Vec<u8>,
}

/// Appends `json.dumps(state, separators=(",", ":"))` (ensure_ascii, Python's float repr,
/// insertion order): `signing.JSONSerializer.dumps`, whose latin-1 encoding of ASCII text is the
/// text itself.
pub(super) fn write_state(out: &mut Vec<u8>, state: &Map<String, Value>) {
    pyjson::write_object_with(out, state, JsonStyle::COMPACT, |out, value| {
        pyjson::write_value_styled(out, value, JsonStyle::COMPACT);
    });
}

/// Length of a cookie value: the payload (`.` + base64 when compressed), the timestamp and the
/// signature, with their two `:`.
pub(super) fn value_len(dot: bool, payload_base64_len: usize, timestamp_len: usize) -> usize {
    usize::from(dot) + payload_base64_len + 1 + timestamp_len + 1 + SIGNATURE_LEN
}
