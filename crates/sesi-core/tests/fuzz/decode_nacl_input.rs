//! The body of the `decode_nacl` fuzz target, shared through `#[path]` by the libFuzzer target
//! (`fuzz/fuzz_targets/decode_nacl.rs`) and by `tests/fuzz_replay_nacl.rs`, which replays the seed
//! corpus (`tests/fuzz/seeds/decode_nacl/`) and a bounded random loop under plain `cargo test`.
//!
//! Each input is used twice: as the cookie value a browser sent (reaching base64, the length cap
//! and the Poly1305 tag), and as a plaintext encrypted with the right key (reaching the JSON
//! parser, the shape checks and the session rules, which a fuzzer could never reach past the tag
//! on its own).

#[path = "checks.rs"]
mod checks;

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use crypto_secretbox::aead::{AeadInPlace, KeyInit};
use crypto_secretbox::{Nonce, XSalsa20Poly1305};
use sesi_core::{
    CookieFormat, DecodeError, ManualClock, NaclKey, PyramidNaclFormat, SessionConfig,
    SessionEngine,
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
            checks::round_trip(&self.format, &decoded.content);
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
            Ok(decoded) => checks::round_trip(&self.format, &decoded.content),
            Err(DecodeError::BadSignature) => panic!("a correctly encrypted value failed the tag"),
            Err(_) => {}
        }

        // 3. Both through the whole session path.
        for raw in [text, forged] {
            checks::session_path(&self.engine, &self.format, raw);
        }
    }
}
