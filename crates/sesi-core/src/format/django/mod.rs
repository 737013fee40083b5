//! Django's `signed_cookies` session backend: the session dict <-> the signed cookie value, byte
//! for byte as `django.contrib.sessions.backends.signed_cookies.SessionStore` writes it.
//!
//! The backend calls `signing.dumps(session, salt=DEFAULT_SALT, serializer=JSONSerializer,
//! compress=True)`, which is `TimestampSigner(key=SECRET_KEY, salt=salt).sign_object(...)`:
//!
//! ```text
//! json      = json.dumps(session, separators=(",", ":"))   ensure_ascii, encoded latin-1
//! payload   = "." + b64(zlib.compress(json))   when that is shorter than len(json) - 1
//!           | b64(json)                        otherwise            (b64: base64url, no padding)
//! signed    = payload + ":" + b62(int(time.time()))          (0-9A-Za-z, no leading zeros)
//! value     = signed + ":" + b64(HMAC-SHA256(sha256(salt + "signer" + SECRET_KEY), signed))
//! ```
//!
//! Reading, Django verifies the signature with `SECRET_KEY` and then each of
//! `SECRET_KEY_FALLBACKS` and refuses a signature older than `SESSION_COOKIE_AGE`. Here the
//! signed time is the record's `accessed` and the engine applies its idle timeout to it (set
//! `timeout` to Django's `SESSION_COOKIE_AGE`, 1209600 s by default, to match). Django keeps no
//! creation time, so [`CookieFormat::carries_created`] is false and an absolute lifetime cannot
//! be enforced with this format.
//!
//! Checked live against Django 5.2 (`tests/django_vectors.rs`, vectors made by the real
//! `SessionStore`). Django 6.0's `signing.py` and `signed_cookies.py` write the same format, but
//! it needs Python 3.12 and is not tested here.
//!
//! # Session keys shared with Django
//! - **Expiry**: `_session_expiry`, Django's key. An integer means the same in both (seconds,
//!   `0` = until the browser closes; sesi reads up to 400 days). A datetime string, which Django
//!   writes for `set_expiry(datetime)` or `set_expiry(timedelta)`, reads in sesi as the default
//!   expiry: Django's signed-cookie backend does not enforce it on the server either (it only
//!   sets the cookie's `Max-Age`), but a cookie sesi re-issues carries the layer's `Max-Age`
//!   instead. Django's backend refuses a signature older than `SESSION_COOKIE_AGE` whatever
//!   `_session_expiry` says (its ticket #19201); sesi uses the per-session expiry as the idle
//!   timeout.
//! - **CSRF**: sesi keeps its token under `_sesi_csrft_`. Django's `CSRF_USE_SESSIONS` key
//!   `_csrftoken` holds a 32-character alphanumeric secret that Django masks into each form's
//!   token; sesi's token is compared as it is, so the two cannot share one key.
//! - **Flash**: queues under `_sesi_f_`; Django's messages framework keeps its own storage.
//! - Django's auth keys (`_auth_user_id`, `_auth_user_backend`, `_auth_user_hash`) are plain
//!   session data to sesi: kept as they are, never interpreted.
//!
//! # Differences from Django's reader
//! sesi refuses a few values Django would read, none of which Django writes: non-canonical
//! base64 (padding, `+`, `/`, stray characters), non-canonical timestamps (`-0`, leading zeros),
//! bytes after the end of a zlib stream, JSON nested deeper than
//! [`MAX_JSON_DEPTH`](crate::format::MAX_JSON_DEPTH), `NaN`/`Infinity`, lone surrogate escapes
//! (`"\ud800"`), a state that is not an object, and a compressed payload inflating beyond
//! [`MAX_INFLATED_LEN`] (Django inflates without bound, relying on the signature). An integer
//! beyond 64 bits reads as a float, so it is written back as one. Like Django, it reads the JSON
//! bytes as latin-1.

mod payload;
mod signer;
#[cfg(test)]
mod tests;

use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use serde_json::{Map, Value};

pub use payload::MAX_INFLATED_LEN;
use payload::{Buffers, Parts, value_len, write_state};
use signer::{DjangoMac, base62_len, write_base62};

use super::b64::{STRICT_B64, base64_len};
use super::error::DecodeError;
use super::{CookieContent, CookieFormat, Decoded, FlashKeys, ReservedKeys};
use crate::id::SessionId;
use crate::record::{Record, Timestamp};
use crate::secret::Secrets;

/// The salt of Django's `signed_cookies` session backend.
pub const DEFAULT_SALT: &str = "django.contrib.sessions.backends.signed_cookies";

/// The state key of a store-mode cookie: `{"_sesi_sid": "<32 hex>"}` is a session id.
pub const SESSION_ID_KEY: &str = "_sesi_sid";

/// JSON length of `{"_sesi_sid":"<32 hex>"}`.
const ID_JSON_LEN: usize = 2 + SESSION_ID_KEY.len() + 3 + 32 + 2;

#[cfg_attr(docsrs, doc(cfg(feature = "django")))]
impl ReservedKeys {
    /// Django's keys: flash queue `q` under `_sesi_f_q` (Django's messages framework keeps its
    /// own storage), the CSRF token under `_sesi_csrft_` (Django's `_csrftoken` holds a secret
    /// of another shape), the per-session expiry under Django's own `_session_expiry`.
    pub const DJANGO: ReservedKeys = ReservedKeys::new(
        FlashKeys::PerQueue { prefix: "_sesi_f_" },
        "_sesi_csrft_",
        "_session_expiry",
    );
}

/// Django's `signed_cookies` session format: signs with the current secret (Django's
/// `SECRET_KEY`), verifies with it and then each fallback (`SECRET_KEY_FALLBACKS`). The keys are
/// derived once here.
///
/// In store mode the cookie is a normal signed Django value whose session is
/// `{"_sesi_sid": "<32 hex>"}`, issued now and never compressed (so its length is the same for
/// every id); Django reads it as a session holding one key.
///
/// ```
/// use sesi_core::format::django::DjangoFormat;
/// use sesi_core::{CookieFormat, Record, Secret, Secrets, Timestamp};
///
/// let secrets = Secrets::new(Secret::new("django-insecure-an-example-key-for-the-docs")?);
/// let django = DjangoFormat::new(&secrets);
/// let mut state = serde_json::Map::new();
/// state.insert("counter".into(), 1.into());
/// let record = Record::without_created(Timestamp::Int(1764000000), state);
/// let cookie = django.encode(&record);
/// assert!(cookie.starts_with("eyJjb3VudGVyIjoxfQ:1vNYyu:")); // {"counter":1}, readable
/// assert_eq!(django.encoded_len(&record), cookie.len());
/// let decoded = django.decode(&cookie)?;
/// assert_eq!(decoded.record(), Some(&record));
/// assert_eq!(decoded.key_index, 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "django")))]
#[derive(Clone)]
pub struct DjangoFormat {
    macs: Box<[DjangoMac]>,
}

impl std::fmt::Debug for DjangoFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DjangoFormat")
            .field("keys", &self.macs.len())
            .finish_non_exhaustive()
    }
}

impl DjangoFormat {
    /// The format of Django's session backend, salt [`DEFAULT_SALT`].
    #[must_use]
    pub fn new(secrets: &Secrets) -> Self {
        Self::with_salt(secrets, DEFAULT_SALT)
    }

    /// The format with another salt (what `signing.dumps(..., salt=salt, compress=True)` with
    /// the JSON serializer writes).
    #[must_use]
    pub fn with_salt(secrets: &Secrets, salt: &str) -> Self {
        DjangoFormat {
            macs: secrets
                .iter()
                .map(|secret| DjangoMac::new(salt, secret))
                .collect(),
        }
    }

    /// How many secrets verify: the current one plus the fallbacks.
    #[must_use]
    pub fn key_count(&self) -> usize {
        self.macs.len()
    }

    /// Writes the value carrying the JSON in `json` issued at `issued`, signed with the current
    /// key, into `out` (cleared first). Compresses as `sign_object(compress=compress)` does.
    fn seal(&self, json: &[u8], compress: bool, issued: i64, out: &mut String) {
        let compressed = compress.then(|| super::zlib::compress(json));
        let (data, dot) = match &compressed {
            // Django: `if len(compressed) < (len(data) - 1)`.
            Some(smaller) if smaller.len() + 1 < json.len() => (&smaller[..], true),
            _ => (json, false),
        };
        out.clear();
        out.reserve(value_len(dot, base64_len(data.len()), base62_len(issued)));
        if dot {
            out.push('.');
        }
        STRICT_B64.encode_string(data, out);
        out.push(':');
        write_base62(out, issued);
        let signature = self.macs[0].signature(out.as_bytes());
        out.push(':');
        out.extend(signature.iter().map(|&b| char::from(b)));
    }

    /// The length [`seal`](Self::seal) gives, without signing.
    fn sealed_len(json: &[u8], compress: bool, issued: i64) -> usize {
        let compressed_len = compress.then(|| super::zlib::compress(json).len());
        let (data_len, dot) = match compressed_len {
            Some(len) if len + 1 < json.len() => (len, true),
            _ => (json.len(), false),
        };
        value_len(dot, base64_len(data_len), base62_len(issued))
    }

    /// The signature check, against each key in turn; the index of the one that matched.
    fn verify(&self, parts: &Parts<'_>) -> Result<usize, DecodeError> {
        let (signed, signature) = (parts.signed.as_bytes(), parts.signature.as_bytes());
        self.macs
            .iter()
            .position(|mac| mac.verify(signed, signature))
            .ok_or(DecodeError::BadSignature)
    }

    /// Decodes a value WITHOUT checking its signature: a Django session cookie is readable by
    /// anyone, and this shows what they can read. Never trust the result. A store-mode value
    /// reads as its `{"_sesi_sid": ...}` state.
    ///
    /// # Errors
    /// A [`DecodeError`] for every step but the signature check.
    pub fn decode_unverified(value: &str) -> Result<Record, DecodeError> {
        let parts = Parts::split(value)?;
        let issued = parts.timestamp()?;
        let state = BUFFERS.with_borrow_mut(|buffers| parts.state(buffers))?;
        Ok(Record::without_created(Timestamp::Int(issued), state))
    }
}

/// Django's `int(time.time())` of a record's `accessed`: a float is truncated toward zero.
fn issued(accessed: Timestamp) -> i64 {
    // Clamped to what this format reads back (a record built by hand may hold any time).
    let max = Timestamp::MAX_ABS as i64;
    match accessed {
        Timestamp::Int(secs) => secs.clamp(-max, max),
        // Saturating, and NaN is 0.
        Timestamp::Float(secs) => (secs as i64).clamp(-max, max),
    }
}

/// Seconds since the epoch on the system clock: the issue time of a store-mode cookie.
fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// `{"_sesi_sid":"<hex>"}`.
fn id_json(id: &SessionId) -> [u8; ID_JSON_LEN] {
    let mut json = [0u8; ID_JSON_LEN];
    let text = format!("{{\"{SESSION_ID_KEY}\":\"{}\"}}", id.to_hex());
    json.copy_from_slice(text.as_bytes());
    json
}

impl CookieFormat for DjangoFormat {
    fn name(&self) -> &'static str {
        "django"
    }

    fn encode(&self, record: &Record) -> String {
        let mut value = String::new();
        BUFFERS.with_borrow_mut(|buffers| {
            buffers.json.clear();
            write_state(&mut buffers.json, &record.state);
            self.seal(&buffers.json, true, issued(record.accessed), &mut value);
        });
        value
    }

    fn encoded_len(&self, record: &Record) -> usize {
        BUFFERS.with_borrow_mut(|buffers| {
            buffers.json.clear();
            write_state(&mut buffers.json, &record.state);
            Self::sealed_len(&buffers.json, true, issued(record.accessed))
        })
    }

    fn encode_id(&self, id: &SessionId) -> String {
        let mut value = String::new();
        self.seal(&id_json(id), false, now(), &mut value);
        value
    }

    fn encoded_id_len(&self) -> usize {
        value_len(false, base64_len(ID_JSON_LEN), base62_len(now()))
    }

    /// The checks run in this order, and the first failure is returned: length cap, structure
    /// (`payload:timestamp:signature`, split from the right as Django does), the signature
    /// (constant time, against each key), the timestamp, strict base64url, bounded inflate for a
    /// `.` payload, then latin-1 JSON (depth-limited) that must be an object. An object whose
    /// only key is [`SESSION_ID_KEY`] is a store's session id.
    fn decode(&self, value: &str) -> Result<Decoded, DecodeError> {
        let parts = Parts::split(value)?;
        let key_index = self.verify(&parts)?;
        let issued = parts.timestamp()?;
        let state = BUFFERS.with_borrow_mut(|buffers| parts.state(buffers))?;
        let content = match single_id(&state) {
            Some(id) => CookieContent::Id(
                id.and_then(SessionId::from_hex)
                    .ok_or(DecodeError::BadSessionId)?,
            ),
            None => CookieContent::State(Record::without_created(Timestamp::Int(issued), state)),
        };
        Ok(Decoded { content, key_index })
    }

    fn read_unverified(&self, value: &str) -> Option<Result<Record, DecodeError>> {
        Some(Self::decode_unverified(value))
    }

    fn reserved_keys(&self) -> &ReservedKeys {
        &ReservedKeys::DJANGO
    }

    /// Django signs only the issue time.
    fn carries_created(&self) -> bool {
        false
    }
}

/// `Some(text)` when `state` is a store-mode cookie's `{"_sesi_sid": text}` (`Some(None)` when
/// that one value is not a string); `None` for any other state.
fn single_id(state: &Map<String, Value>) -> Option<Option<&str>> {
    if state.len() != 1 {
        return None;
    }
    state.get(SESSION_ID_KEY).map(Value::as_str)
}

thread_local! {
    /// Reused JSON and decoding buffers.
    static BUFFERS: RefCell<Buffers> = RefCell::new(Buffers::default());
}
