//! The body of the `decode` fuzz target. It is shared, through `#[path]`, by the libFuzzer target
//! (`fuzz/fuzz_targets/decode.rs`) and by `tests/fuzz_replay.rs`, which replays the seed corpus
//! (`tests/fuzz/seeds/decode/`) and a bounded random loop under plain `cargo test` on stable. It
//! lives under `tests/` so that the published package, which cannot hold `fuzz/` (a package of
//! its own), still has everything its tests read.
//!
//! Each input is used twice: as the cookie value a browser sent (reaching base64, the length cap
//! and the MAC), and as a payload signed with the right key (reaching the JSON parser, the shape
//! checks and the session rules, which a fuzzer could never reach past a MAC on its own).

#[path = "checks.rs"]
mod checks;

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sesi_core::{
    CookieFormat, DEFAULT_SALT, DecodeError, HashAlg, ManualClock, PyramidFormat, Secret, Secrets,
    SessionConfig, SessionEngine,
};
use sha2::Sha512;

/// The secret of the vectors in `tests/data/pyramid-cookies.json`, so valid seeds load.
pub const SECRET: &str = "rahasia_dapur_123";
/// Ten seconds after the vectors were issued: they are neither expired nor from the future.
pub const NOW: f64 = 1_764_000_010.0;

/// The Pyramid format, an engine and a keyed MAC, built once per process.
pub struct Target {
    codec: PyramidFormat,
    engine: Arc<SessionEngine>,
    mac: Hmac<Sha512>,
}

impl Default for Target {
    fn default() -> Self {
        let secret = Secret::new_insecure(SECRET).expect("non-empty secret");
        let codec = PyramidFormat::new(&Secrets::new(secret), DEFAULT_SALT, HashAlg::Sha512);
        let engine = SessionEngine::new(codec.clone(), SessionConfig::default())
            .expect("default config is valid")
            .with_clock(Arc::new(ManualClock::new(NOW)));
        let mac = Hmac::new_from_slice(format!("{DEFAULT_SALT}{SECRET}").as_bytes())
            .expect("HMAC takes any key length");
        Target {
            codec,
            engine: Arc::new(engine),
            mac,
        }
    }
}

impl Target {
    /// Runs one input; panics on any broken invariant.
    pub fn run(&self, data: &[u8]) {
        let text = String::from_utf8_lossy(data).into_owned();

        // 1. The bytes as a cookie value.
        if let Ok(decoded) = self.codec.decode(&text) {
            checks::round_trip(&self.codec, &decoded.content);
        }
        let _ = PyramidFormat::decode_unverified(&text, HashAlg::Sha512);
        let _ = PyramidFormat::decode_unverified(&text, HashAlg::Sha1);

        // 2. The bytes as a correctly signed payload.
        let mut mac = self.mac.clone();
        mac.update(data);
        let mut signed = mac.finalize().into_bytes().to_vec();
        signed.extend_from_slice(data);
        let forged = URL_SAFE_NO_PAD.encode(&signed);
        match self.codec.decode(&forged) {
            Ok(decoded) => checks::round_trip(&self.codec, &decoded.content),
            Err(DecodeError::BadSignature) => panic!("a correctly signed payload failed the MAC"),
            Err(_) => {}
        }

        // 3. Both through the whole session path.
        for raw in [text, forged] {
            checks::session_path(&self.engine, &self.codec, raw);
        }
    }
}
