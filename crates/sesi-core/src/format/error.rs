//! Why a cookie value could not be read: one variant per failing step, shared by every format.

/// Longest cookie value a format looks at; longer values are discarded before any decoding work
/// (a browser never stores a longer cookie, so such a value is an attack or a proxy's garbage).
pub const MAX_COOKIE_VALUE_LEN: usize = 4096;

/// JSON nesting deeper than this is rejected. This is serde_json's own recursion limit: its
/// counter starts at 128 and fails on reaching 0, so 127 levels parse and 128 do not.
pub const MAX_JSON_DEPTH: usize = 127;

/// Why a cookie value could not be turned into a session record. Each failing step has its own
/// variant; a format with steps of its own reports them as [`DecodeError::Format`].
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
    /// No configured key authenticated this value (tampered, or a removed or foreign key).
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
    /// The signature is good but the payload is not `[accessed, created, state]`.
    #[error("signed payload is not [accessed, created, state]: {0}")]
    BadShape(ShapeError),
    /// The signature is good but the session id it carries (store mode) is not 128 bits in
    /// hex.
    #[error("signed session-id payload does not hold 32 hex characters")]
    BadSessionId,
    /// A step of a format outside this crate failed; `kind` names it for logs.
    #[error("{kind}: {source}")]
    Format {
        /// A short, stable name for the step (`"bad_compression"`).
        kind: &'static str,
        /// What went wrong.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
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
            DecodeError::BadSessionId => "bad_session_id",
            DecodeError::Format { kind, .. } => kind,
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
    #[error("accessed is not a finite timestamp within +/-1e12 s")]
    BadAccessed,
    /// `created` is not a number in the accepted range.
    #[error("created is not a finite timestamp within +/-1e12 s")]
    BadCreated,
    /// `state` is not a JSON object.
    #[error("state is not a JSON object")]
    StateNotObject,
}
