//! pyramid_nacl_session's encrypted cookie format: `[accessed, created, state]` <-> an encrypted
//! cookie value.
//!
//! `value = base64url_nopad(nonce || tag || ciphertext)`: a fresh 24-byte nonce from the operating
//! system (fetched in batches, never reused across a fork: see `crate::random`), then NaCl's
//! `crypto_secretbox` (XSalsa20-Poly1305, the 16-byte Poly1305 tag first) of
//! the JSON text of `[accessed, created, state]` exactly as Pyramid's `JSONSerializer` writes it,
//! the same bytes the signed format signs. This is what `EncryptedCookieSessionFactory(secret,
//! serializer=JSONSerializer())` reads and writes; its default serializer is pickle, which sesi
//! never reads.
//!
//! The cipher is dryoc's libsodium-compatible `crypto_secretbox` (pure Rust). RustCrypto's
//! `crypto_secretbox` gives the same bytes (the tests seal with it by hand) but its AVX2 Poly1305
//! costs about four times as much on a cookie-sized message (docs/benchmarks.md).

mod key;

pub use key::{NACL_KEY_LEN, NaclKey, NaclKeyError};

use base64::Engine as _;
use dryoc::classic::crypto_secretbox::{
    crypto_secretbox_easy_inplace, crypto_secretbox_open_easy_inplace,
};

use super::b64::{STRICT_B64, base64_len, decode_base64};
use super::error::DecodeError;
use super::{CookieContent, CookieFormat, Decoded};
use crate::id::SessionId;
use crate::record::Record;
use crate::secret::Secrets;

/// Bytes of the nonce in front of every value.
pub const NONCE_LEN: usize = 24;
/// Bytes of the Poly1305 tag after the nonce.
pub const TAG_LEN: usize = 16;
/// Nonce and tag: what a value adds to its plaintext.
const HEADER_LEN: usize = NONCE_LEN + TAG_LEN;
/// Plaintext prefix of a cookie that carries a session id (JSON plaintexts start with `[`).
const ID_PREFIX: &[u8] = b"sid:";

/// The pyramid-nacl cookie format: encrypts with the current key, decrypts with the current key
/// and then each fallback; a value a fallback opened is re-encrypted with the current key on the
/// same response (the engine sees its [`Decoded::key_index`]).
///
/// The visitor cannot read what the cookie holds. What encryption does not change: a copy of an
/// old cookie still loads until its `accessed` is older than the timeout, and nothing revokes a
/// cookie on the server (keep sessions in a store for that).
///
/// In store mode the cookie carries `sid:` + the 32 hex characters of the session id, encrypted
/// the same way.
///
/// ```
/// use sesi_core::format::pyramid_nacl::{NaclKey, PyramidNaclFormat};
/// use sesi_core::{CookieFormat, Record, Timestamp};
///
/// let key = NaclKey::from_hex("5f1e0b7a9c3d2e4f6a8b0c1d2e3f405162738495a6b7c8d9eaf0011223344556")?;
/// let nacl = PyramidNaclFormat::new(key);
/// let mut state = serde_json::Map::new();
/// state.insert("counter".into(), 1.into());
/// let record = Record::new(Timestamp::Int(1764000000), Timestamp::Float(1764000000.25), state);
/// let cookie = nacl.encode(&record);
/// assert!(!cookie.contains("counter")); // unreadable without the key
/// assert_eq!(nacl.encoded_len(&record), cookie.len());
/// assert_eq!(nacl.decode(&cookie)?.record(), Some(&record));
/// assert_ne!(nacl.encode(&record), cookie); // a fresh nonce every time
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct PyramidNaclFormat {
    keys: Box<[NaclKey]>,
    fixed_nonce: Option<[u8; NONCE_LEN]>,
}

impl std::fmt::Debug for PyramidNaclFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PyramidNaclFormat")
            .field("keys", &self.keys.len())
            .finish_non_exhaustive()
    }
}

impl PyramidNaclFormat {
    /// The format with one key.
    #[must_use]
    pub fn new(current: NaclKey) -> Self {
        PyramidNaclFormat {
            keys: Box::new([current]),
            fixed_nonce: None,
        }
    }

    /// The format with `keys`, the first encrypting, all decrypting (at most
    /// [`crate::MAX_FALLBACKS`] after the first).
    ///
    /// # Errors
    /// [`NaclKeyError::NoKey`] or [`NaclKeyError::TooManyKeys`].
    pub fn from_keys(keys: impl IntoIterator<Item = NaclKey>) -> Result<Self, NaclKeyError> {
        let keys: Box<[NaclKey]> = keys.into_iter().collect();
        match keys.len() {
            0 => Err(NaclKeyError::NoKey),
            n if n > 1 + crate::MAX_FALLBACKS => Err(NaclKeyError::TooManyKeys),
            _ => Ok(PyramidNaclFormat {
                keys,
                fixed_nonce: None,
            }),
        }
    }

    /// The format with each of `secrets` as a key (64 hex characters each), the current one
    /// first: the secret-list rule every format shares (a repeated `--secret`, a secret file).
    ///
    /// # Errors
    /// The first secret that is not a key.
    pub fn from_secrets(secrets: &Secrets) -> Result<Self, NaclKeyError> {
        Self::from_keys(NaclKey::from_secrets(secrets)?)
    }

    /// How many keys decrypt: the current one plus the fallbacks.
    #[must_use]
    pub fn key_count(&self) -> usize {
        self.keys.len()
    }

    /// Every value is encrypted under `nonce` instead of a fresh random one, so that tests can
    /// compare a value byte for byte with pyramid_nacl_session's. Never in production: two
    /// values under one nonce and key give away the XOR of their plaintexts.
    #[cfg(feature = "test-util")]
    #[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
    #[must_use]
    pub fn with_fixed_nonce_for_tests(mut self, nonce: [u8; NONCE_LEN]) -> Self {
        self.fixed_nonce = Some(nonce);
        self
    }

    /// Seals a plaintext that `write` appends to the scratch buffer after the nonce, and writes
    /// the base64url value: `nonce || tag || ciphertext`.
    fn encode_with(&self, hint: usize, write: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut value = String::new();
        SCRATCH.with_borrow_mut(|sealed| {
            sealed.clear();
            sealed.reserve(HEADER_LEN + hint);
            sealed.resize(NONCE_LEN, 0);
            write(sealed);
            // Room for the tag, which the in-place seal moves in front of the ciphertext.
            sealed.extend_from_slice(&[0; TAG_LEN]);
            let (nonce, boxed) = sealed.split_at_mut(NONCE_LEN);
            let nonce: &mut [u8; NONCE_LEN] = nonce.try_into().expect("NONCE_LEN bytes");
            match self.fixed_nonce {
                Some(fixed) => *nonce = fixed,
                None => crate::random::fill(nonce),
            }
            crypto_secretbox_easy_inplace(boxed, nonce, self.keys[0].bytes())
                .expect("the buffer holds the tag's room");
            value.reserve(base64_len(sealed.len()));
            STRICT_B64.encode_string(&sealed[..], &mut value);
        });
        value
    }

    /// Length cap, strict base64, minimum size, then authentication and decryption with each key
    /// in turn; returns the plaintext and the index of the key that opened it.
    fn open<'b>(
        &self,
        value: &str,
        buf: &'b mut Vec<u8>,
    ) -> Result<(&'b [u8], usize), DecodeError> {
        let bytes = decode_base64(value, buf)?;
        if bytes.len() <= HEADER_LEN {
            return Err(DecodeError::TooShort {
                len: bytes.len(),
                min: HEADER_LEN + 1,
            });
        }
        let (nonce, boxed) = bytes.split_at_mut(NONCE_LEN);
        let nonce: &[u8; NONCE_LEN] = (&*nonce).try_into().expect("NONCE_LEN bytes");
        // A failed attempt leaves `boxed` as it was: the tag is checked before decrypting. After
        // a success the plaintext comes first and the tag last.
        let key_index = self
            .keys
            .iter()
            .position(|key| crypto_secretbox_open_easy_inplace(boxed, nonce, key.bytes()).is_ok())
            .ok_or(DecodeError::BadSignature)?;
        let plaintext_len = boxed.len() - TAG_LEN;
        Ok((&boxed[..plaintext_len], key_index))
    }
}

impl CookieFormat for PyramidNaclFormat {
    fn name(&self) -> &'static str {
        "pyramid-nacl"
    }

    fn encode(&self, record: &Record) -> String {
        self.encode_with(64 + 8 * record.state.len(), |buf| record.write_json(buf))
    }

    fn encoded_len(&self, record: &Record) -> usize {
        SCRATCH.with_borrow_mut(|json| {
            json.clear();
            record.write_json(json);
            base64_len(HEADER_LEN + json.len())
        })
    }

    fn encode_id(&self, id: &SessionId) -> String {
        self.encode_with(ID_PREFIX.len() + 32, |buf| {
            buf.extend_from_slice(ID_PREFIX);
            buf.extend_from_slice(id.to_hex().as_bytes());
        })
    }

    fn encoded_id_len(&self) -> usize {
        base64_len(HEADER_LEN + ID_PREFIX.len() + 32)
    }

    /// The checks run in this order, and the first failure is returned: length cap, strict
    /// base64url, minimum size, authentication (Poly1305, constant time, with each key), then a
    /// session id or the JSON and its shape. A value no key authenticates is
    /// [`DecodeError::BadSignature`], as a tampered signed cookie is.
    fn decode(&self, value: &str) -> Result<Decoded, DecodeError> {
        DECODED.with_borrow_mut(|buf| {
            let (plaintext, key_index) = self.open(value, buf)?;
            let content = match plaintext.strip_prefix(ID_PREFIX) {
                Some(hex) => CookieContent::Id(
                    std::str::from_utf8(hex)
                        .ok()
                        .and_then(SessionId::from_hex)
                        .ok_or(DecodeError::BadSessionId)?,
                ),
                None => CookieContent::State(Record::from_json(plaintext)?),
            };
            Ok(Decoded { content, key_index })
        })
    }

    fn encrypts(&self) -> bool {
        true
    }

    /// Encrypted: nothing is readable without a key.
    fn read_unverified(&self, _value: &str) -> Option<Result<Record, DecodeError>> {
        None
    }
}

thread_local! {
    /// Reused sealing buffer, so `encode` allocates only the value it returns.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    /// Reused opening buffer, so `decode` allocates only the record it returns.
    static DECODED: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

#[cfg(test)]
mod tests;
