//! Flask's default session cookie (`SecureCookieSessionInterface`, Flask 3.1), byte for byte.
//!
//! Flask signs its session with itsdangerous's `URLSafeTimedSerializer(secret_key,
//! salt="cookie-session", key_derivation="hmac", digest_method=sha1)`:
//!
//! ```text
//! value   = payload "." base64url(int_to_bytes(issued)) "." base64url(HMAC-SHA1(key, payload "." ts))
//! key     = HMAC-SHA1(secret_key, salt)
//! payload = base64url(json)  or  "." base64url(zlib(json))  when that is more than one byte shorter
//! ```
//!
//! base64url is unpadded; `issued` is the whole seconds when the cookie was written, which this
//! format reports as the record's `accessed` (Flask records no creation time, so
//! [`carries_created`](CookieFormat::carries_created) is false). `json` is Flask's tagged JSON
//! ([`tagged`]): compact, keys sorted, ASCII only, with `{" t": [...]}` for a tuple and the other
//! tags Flask adds; the session state keeps that JSON as it is, so whatever Flask wrote reads back
//! in Flask unchanged.
//!
//! Flask refuses a cookie whose timestamp is in the future or older than
//! `PERMANENT_SESSION_LIFETIME`; in sesi the engine applies its own timeout and future skew to
//! `accessed` instead, so [`decode`](CookieFormat::decode) reports the timestamp and checks no
//! clock. Key rotation is Flask 3.1's `SECRET_KEY_FALLBACKS`: the current key signs, every key
//! verifies.
//!
//! What sesi does not read although Flask would: a payload whose base64 is not canonical (Flask's
//! decoder skips stray characters; it never writes them), JSON with `NaN` or `Infinity` (a
//! [`serde_json::Value`] cannot hold them), and a tagged value in another form than Flask writes
//! it (see [`tagged`]). Integers beyond 64 bits are read as floats.

mod date;
mod signer;
pub mod tagged;
mod tagging;

use std::cell::RefCell;
use std::sync::Arc;

use base64::Engine as _;
use serde_json::{Map, Value};

use self::signer::{SIG_B64_LEN, SIG_LEN};
use super::b64::{STRICT_B64, base64_len};
use super::error::DecodeError;
use super::pyramid::KeyedMac;
use super::{CookieContent, CookieFormat, Decoded, ReservedKeys, zlib};
use crate::clock::{Clock, SystemClock};
use crate::id::SessionId;
use crate::record::{Record, Timestamp};
use crate::secret::Secrets;

/// Flask's salt for the session cookie (`SecureCookieSessionInterface.salt`).
pub const DEFAULT_SALT: &str = "cookie-session";

/// The most bytes a compressed payload may inflate to; a value that would inflate further is
/// refused after at most one more 4 KiB chunk, never inflated in full (a zip bomb). The same cap
/// as a session kept in a store ([`DEFAULT_MAX_STORED_SIZE`](crate::session::DEFAULT_MAX_STORED_SIZE)).
pub const MAX_INFLATED_LEN: usize = crate::session::DEFAULT_MAX_STORED_SIZE;

/// The state key of the session id in a store-mode cookie.
pub const SESSION_ID_KEY: &str = "_sesi_sid";

/// A zlib stream is never shorter than 8 bytes, so JSON this short is never compressed.
const MIN_COMPRESSIBLE: usize = 10;

/// Flask's session cookie format: signs with the current secret, verifies with every secret
/// (Flask's `SECRET_KEY` then `SECRET_KEY_FALLBACKS`); [`Decoded::key_index`] says which one
/// verified, so the engine re-issues a value a fallback read.
///
/// In store mode the cookie is an ordinary signed Flask session whose state is
/// `{"_sesi_sid": "<32 hex>"}`, issued at the time of this format's clock: a Flask app that reads
/// it sees a session with one key, not an error.
///
/// ```
/// use sesi_core::{CookieFormat, FlaskFormat, Record, Secret, Secrets, Timestamp};
///
/// // What Flask 3.1 sets after `session["counter"] = 1` with this secret at 1764000000.
/// let cookie = "eyJjb3VudGVyIjoxfQ.aSSBAA.LMzPMtO5Ov8U1q7-TQTerCclcUQ";
/// let flask = FlaskFormat::new(&Secrets::new(Secret::new_insecure("rahasia_dapur_123")?));
/// let decoded = flask.decode(cookie)?;
/// let record = decoded.record().expect("a whole session");
/// assert_eq!(record.state["counter"], 1);
/// assert_eq!(record.accessed, Timestamp::Int(1764000000));
/// assert_eq!(flask.encode(record), cookie); // byte for byte
/// assert_eq!(flask.encoded_len(record), cookie.len());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct FlaskFormat {
    macs: Box<[KeyedMac]>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for FlaskFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlaskFormat")
            .field("keys", &self.macs.len())
            .finish_non_exhaustive()
    }
}

impl FlaskFormat {
    /// Flask's format with its salt, [`DEFAULT_SALT`]: `secrets.current()` is `SECRET_KEY`, the
    /// others are `SECRET_KEY_FALLBACKS`.
    #[must_use]
    pub fn new(secrets: &Secrets) -> Self {
        Self::with_salt(secrets, DEFAULT_SALT)
    }

    /// The format with another salt (a `SecureCookieSessionInterface` subclass that sets
    /// `salt`). The signing keys are derived here, once.
    #[must_use]
    pub fn with_salt(secrets: &Secrets, salt: &str) -> Self {
        FlaskFormat {
            macs: secrets.iter().map(|s| signer::derive(s, salt)).collect(),
            clock: Arc::new(SystemClock),
        }
    }

    /// Takes the issue time of store-mode cookies ([`encode_id`](CookieFormat::encode_id)) from
    /// `clock` instead of the system clock (a whole session's cookie carries its `accessed`).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// How many secrets verify: the current one plus the fallbacks.
    #[must_use]
    pub fn key_count(&self) -> usize {
        self.macs.len()
    }

    /// Writes the cookie value for `json` issued at `secs` into `out`; `compress` as Flask
    /// decides. Returns the value's length without writing when `out` is `None`.
    fn seal(&self, json: &[u8], secs: u64, compress: bool, out: Option<&mut String>) -> usize {
        let compressed = (compress && json.len() >= MIN_COMPRESSIBLE)
            .then(|| zlib::compress(json))
            .filter(|c| c.len() < json.len() - 1);
        let body = compressed.as_deref().unwrap_or(json);
        let (ts, start) = signer::int_to_bytes(secs);
        let ts = &ts[start..];
        let len = usize::from(compressed.is_some())
            + base64_len(body.len())
            + 1
            + base64_len(ts.len())
            + 1
            + SIG_B64_LEN;
        if let Some(out) = out {
            out.clear();
            out.reserve(len);
            if compressed.is_some() {
                out.push('.');
            }
            STRICT_B64.encode_string(body, out);
            out.push('.');
            STRICT_B64.encode_string(ts, out);
            let mut sig = [0u8; SIG_LEN];
            self.macs[0].sign_into(out.as_bytes(), &mut sig);
            out.push('.');
            STRICT_B64.encode_string(sig, out);
            debug_assert_eq!(out.len(), len);
        }
        len
    }

    /// `(accessed, state)` of a value, verified unless `verify` is false; with the index of the
    /// key that verified it.
    fn open(
        &self,
        value: &str,
        verify: bool,
    ) -> Result<(Timestamp, Map<String, Value>, usize), DecodeError> {
        let parts = signer::split(value)?;
        let key_index = if verify {
            signer::verify(&self.macs, &parts)?
        } else {
            0
        };
        let accessed = signer::timestamp(parts.timestamp)?;
        let state = BUFFERS.with_borrow_mut(|(raw, inflated)| {
            raw.clear();
            STRICT_B64
                .decode_vec(parts.payload, raw)
                .map_err(DecodeError::Base64)?;
            let json: &[u8] = if parts.compressed {
                zlib::inflate_bounded(raw, MAX_INFLATED_LEN, inflated)?;
                inflated
            } else {
                raw
            };
            parse_state(json)
        })?;
        Ok((accessed, state, key_index))
    }
}

/// Writes Flask's JSON for a session state: compact, keys sorted, ASCII only, tagged as Flask
/// tags it ([`tagging::write`]). A session whose only key is a tag name is escaped like any such
/// dict: the session is a dict, never the tagged value.
fn write_state(out: &mut Vec<u8>, state: &Map<String, Value>) {
    match state.iter().next() {
        Some((key, value)) if state.len() == 1 && tagging::is_tag(key) => {
            tagging::write_escaped_dict(out, key, value);
        }
        _ => tagging::write_object(out, state),
    }
}

/// The JSON text as a session state: an object, nested at most [`MAX_JSON_DEPTH`](super::MAX_JSON_DEPTH) deep, whose
/// tagged values are as Flask writes them.
fn parse_state(json: &[u8]) -> Result<Map<String, Value>, DecodeError> {
    let mut state = crate::record::state_from_json(json)?;
    state.values_mut().try_for_each(tagging::read)?;
    tagging::read_top_level(state)
}

/// The JSON of a store-mode cookie's state for `id`.
fn id_json(id: &SessionId) -> Vec<u8> {
    let mut json = Vec::with_capacity(SESSION_ID_KEY.len() + 40);
    json.extend_from_slice(b"{\"");
    json.extend_from_slice(SESSION_ID_KEY.as_bytes());
    json.extend_from_slice(b"\":\"");
    json.extend_from_slice(id.to_hex().as_bytes());
    json.extend_from_slice(b"\"}");
    json
}

impl CookieFormat for FlaskFormat {
    fn name(&self) -> &'static str {
        "flask"
    }

    fn encode(&self, record: &Record) -> String {
        let mut value = String::new();
        SCRATCH.with_borrow_mut(|json| {
            json.clear();
            write_state(json, &record.state);
            self.seal(
                json,
                signer::issued_secs(record.accessed),
                true,
                Some(&mut value),
            );
        });
        value
    }

    fn encoded_len(&self, record: &Record) -> usize {
        SCRATCH.with_borrow_mut(|json| {
            json.clear();
            write_state(json, &record.state);
            self.seal(json, signer::issued_secs(record.accessed), true, None)
        })
    }

    /// Never compressed (Flask reads either), so every id gives a value of the same length.
    fn encode_id(&self, id: &SessionId) -> String {
        let mut value = String::new();
        let now = signer::issued_secs(Timestamp::Float(self.clock.now()));
        self.seal(&id_json(id), now, false, Some(&mut value));
        value
    }

    fn encoded_id_len(&self) -> usize {
        let now = signer::issued_secs(Timestamp::Float(self.clock.now()));
        self.seal(&id_json(&SessionId::from_bytes([0; 16])), now, false, None)
    }

    /// The checks run in this order, and the first failure is returned: length cap, the three
    /// dot-separated parts (`bad_structure`), the signature (27 characters of canonical
    /// base64url, HMAC-SHA1 compared in constant time with each key), the timestamp
    /// (`bad_timestamp`), canonical base64url of the payload, a bounded inflate
    /// (`bad_compression`, `inflates_too_large`), the JSON and its depth, an object
    /// (`bad_shape`), tagged values as Flask writes them (`bad_tag`); then a store's session id
    /// when `_sesi_sid` is the only key.
    fn decode(&self, value: &str) -> Result<Decoded, DecodeError> {
        let (accessed, state, key_index) = self.open(value, true)?;
        let content = match state.get(SESSION_ID_KEY) {
            Some(id) if state.len() == 1 => CookieContent::Id(
                id.as_str()
                    .and_then(SessionId::from_hex)
                    .ok_or(DecodeError::BadSessionId)?,
            ),
            _ => CookieContent::State(Record::without_created(accessed, state)),
        };
        Ok(Decoded { content, key_index })
    }

    /// Every step of [`decode`](CookieFormat::decode) but the signature check; a store-mode
    /// cookie shows its `_sesi_sid`.
    fn read_unverified(&self, value: &str) -> Option<Result<Record, DecodeError>> {
        Some(
            self.open(value, false)
                .map(|(accessed, state, _)| Record::without_created(accessed, state)),
        )
    }

    fn reserved_keys(&self) -> &ReservedKeys {
        &ReservedKeys::FLASK
    }

    fn carries_created(&self) -> bool {
        false
    }
}

thread_local! {
    /// Reused JSON buffer, so `encode` allocates only the value it returns (and zlib's output).
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    /// Reused decoding buffers: the payload's bytes and what they inflate to.
    static BUFFERS: RefCell<(Vec<u8>, Vec<u8>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

#[cfg(test)]
mod tests;
