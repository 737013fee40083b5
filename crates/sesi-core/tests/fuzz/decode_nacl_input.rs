//! The body of the `decode_nacl` fuzz target, shared through `#[path]` by the libFuzzer target
//! (`fuzz/fuzz_targets/decode_nacl.rs`) and by `tests/fuzz_replay_nacl.rs`, which replays the seed
//! corpus (`tests/fuzz/seeds/decode_nacl/`) and a bounded random loop under plain `cargo test`.
//!
//! Each input is used twice: as the cookie value a browser sent (reaching base64, the length cap
//! and the Poly1305 tag), and as a plaintext encrypted with the right key (reaching the JSON
//! parser, the shape checks and the session rules, which a fuzzer could never reach past the tag
//! on its own).

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use crypto_secretbox::aead::{AeadInPlace, KeyInit};
use crypto_secretbox::{Nonce, XSalsa20Poly1305};
use serde_json::Value;
use sesi_core::session::{CookieStep, Lifecycle};
use sesi_core::{
    CookieContent, CookieFormat, DecodeError, ManualClock, NaclKey, PyramidNaclFormat,
    SessionConfig, SessionEngine,
};

/// The key of the vectors in `tests/data/pyramid-nacl-cookies.json`, so valid seeds open.
pub const KEY_HEX: &str = "9c3f2a1b0d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8";
/// Ten seconds after the vectors were issued: they are neither expired nor from the future.
pub const NOW: f64 = 1_764_000_010.0;

/// The format, an engine and the raw cipher, built once per process.
pub struct Target {
    format: PyramidNaclFormat,
    engine: Arc<SessionEngine>,
    secretbox: XSalsa20Poly1305,
}

impl Default for Target {
    fn default() -> Self {
        let key = NaclKey::from_hex(KEY_HEX).expect("a 32-byte key");
        let format = PyramidNaclFormat::new(key);
        let engine = SessionEngine::new(format.clone(), SessionConfig::default())
            .expect("default config is valid")
            .with_clock(Arc::new(ManualClock::new(NOW)));
        let mut raw = [0u8; 32];
        for (byte, pair) in raw.iter_mut().zip(KEY_HEX.as_bytes().chunks_exact(2)) {
            *byte = u8::from_str_radix(std::str::from_utf8(pair).expect("ascii"), 16).expect("hex");
        }
        Target {
            format,
            engine: Arc::new(engine),
            secretbox: XSalsa20Poly1305::new((&raw).into()),
        }
    }
}

impl Target {
    /// Runs one input; panics on any broken invariant.
    pub fn run(&self, data: &[u8]) {
        let text = String::from_utf8_lossy(data).into_owned();

        // 1. The bytes as a cookie value.
        if let Ok(decoded) = self.format.decode(&text) {
            self.check_round_trip(&decoded.content);
        }
        assert!(
            self.format.read_unverified(&text).is_none(),
            "encrypted: unreadable"
        );

        // 2. The bytes as a plaintext encrypted with the right key.
        let nonce = [data.len() as u8; 24];
        let mut sealed = nonce.to_vec();
        let mut ciphertext = data.to_vec();
        let tag = self
            .secretbox
            .encrypt_in_place_detached(Nonce::from_slice(&nonce), b"", &mut ciphertext)
            .expect("encrypts");
        sealed.extend_from_slice(&tag);
        sealed.extend_from_slice(&ciphertext);
        let forged = URL_SAFE_NO_PAD.encode(&sealed);
        match self.format.decode(&forged) {
            Ok(decoded) => self.check_round_trip(&decoded.content),
            Err(DecodeError::BadSignature) => panic!("a correctly encrypted value failed the tag"),
            Err(_) => {}
        }

        // 3. Both through the whole session path.
        for raw in [text, forged] {
            let request = Lifecycle::begin(&self.engine, Some(raw));
            let session = request.session();
            let _ = session.get::<Value>("x");
            let _ = session.peek_flash::<Value>("");
            let _ = session.check_csrf_token("0123456789abcdef0123456789abcdef01234567");
            let _ = session.update("counter", |n: &mut i64| *n = n.saturating_add(1));
            let plan = request.plan();
            assert!(
                plan.save.is_none() && plan.delete.is_none(),
                "cookie mode stores nothing"
            );
            if let CookieStep::Set(value) = plan.cookie {
                assert!(value.len() <= sesi_core::MAX_COOKIE_SIZE);
                self.format
                    .decode(&value)
                    .expect("the engine's own cookie opens");
            }
        }
    }

    /// A decoded record (or session id) re-encrypts to a value that opens to the same record.
    fn check_round_trip(&self, content: &CookieContent) {
        let record = match content {
            CookieContent::State(record) => record,
            CookieContent::Id(id) => {
                let cookie = self.format.encode_id(id);
                assert_eq!(self.format.encoded_id_len(), cookie.len(), "encoded_id_len");
                let again = self
                    .format
                    .decode(&cookie)
                    .expect("a re-encrypted id opens");
                assert_eq!(again.content, *content, "round trip changed the id");
                return;
            }
        };
        let cookie = self.format.encode(record);
        assert_eq!(self.format.encoded_len(record), cookie.len(), "encoded_len");
        if cookie.len() > sesi_core::MAX_COOKIE_VALUE_LEN {
            return; // a re-encoding can be longer than the input (ensure_ascii escapes)
        }
        let again = self
            .format
            .decode(&cookie)
            .expect("a re-encrypted cookie opens")
            .into_record()
            .expect("a whole session");
        assert_eq!(*record, again, "round trip changed the record");
    }
}
