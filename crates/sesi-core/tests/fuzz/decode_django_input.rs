//! The body of the `decode_django` fuzz target, shared through `#[path]` by the libFuzzer target
//! (`fuzz/fuzz_targets/decode_django.rs`) and by `crates/sesi-core/tests/fuzz_replay_django.rs`,
//! which replays the seed corpus and a bounded random loop under plain `cargo test`.
//!
//! Each input is used four times: as the cookie value a browser sent (reaching the length cap,
//! the structure and the signature check); as a JSON payload signed with the right key
//! (reaching base64 decoding's output, the latin-1 JSON parser, the shape checks and the session
//! rules, which a fuzzer could never reach past the HMAC on its own); as a compressed payload
//! signed with the right key (reaching the bounded inflate); and as the whole signed text
//! `payload:timestamp`, signed (reaching the timestamp parser and strict base64).

#[path = "checks.rs"]
mod checks;

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sesi_core::format::django::{DEFAULT_SALT, DjangoFormat};
use sesi_core::{
    CookieContent, CookieFormat, DecodeError, ManualClock, Secret, Secrets, SessionConfig,
    SessionEngine,
};
use sha2::{Digest, Sha256};

/// The current key of the vectors in `tests/data/django-cookies.json`, so valid seeds open.
pub const SECRET: &str = "django-insecure-sesi-vectors-current-key-0123456789abcdef";
/// 800 seconds after the first vector was issued: every vector is within the default idle
/// timeout (1200 s) and none is from the future.
pub const NOW: f64 = 1_764_000_800.0;
/// The base62 issue time of the values signed here (1764000000).
const ISSUED: &str = "1vNYyu";

/// The format, an engine and the raw HMAC, built once per process.
pub struct Target {
    format: DjangoFormat,
    engine: Arc<SessionEngine>,
    mac: Hmac<Sha256>,
}

impl Default for Target {
    fn default() -> Self {
        let secrets = Secrets::new(Secret::new(SECRET).expect("a long secret"));
        let format = DjangoFormat::new(&secrets);
        let engine = SessionEngine::new(format.clone(), SessionConfig::default())
            .expect("default config is valid")
            .with_clock(Arc::new(ManualClock::new(NOW)));
        let key = Sha256::digest([DEFAULT_SALT, "signer", SECRET].concat().as_bytes());
        Target {
            format,
            engine: Arc::new(engine),
            mac: Hmac::new_from_slice(&key).expect("any key length"),
        }
    }
}

impl Target {
    /// `signed + ":" + signature`, as Django's `Signer.sign` writes it.
    pub fn sign(&self, signed: &str) -> String {
        let mut mac = self.mac.clone();
        mac.update(signed.as_bytes());
        format!(
            "{signed}:{}",
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        )
    }

    /// Runs one input; panics on any broken invariant.
    pub fn run(&self, data: &[u8]) {
        let text = String::from_utf8_lossy(data).into_owned();

        // 1. The bytes as a cookie value.
        let decoded = self.format.decode(&text);
        if let Ok(decoded) = &decoded {
            checks::round_trip(&self.format, &decoded.content);
        }
        let unverified = self
            .format
            .read_unverified(&text)
            .expect("a signed format reads");
        if let Ok(CookieContent::State(record)) = decoded.map(|d| d.content) {
            assert_eq!(unverified.ok(), Some(record), "read_unverified disagrees");
        }

        // 2-4. The bytes as a JSON payload, as a compressed payload, and as the whole signed
        // text, each signed with the right key.
        let payload = URL_SAFE_NO_PAD.encode(data);
        let forged = [
            self.sign(&format!("{payload}:{ISSUED}")),
            self.sign(&format!(".{payload}:{ISSUED}")),
            self.sign(&text),
        ];
        for value in &forged {
            match self.format.decode(value) {
                Ok(decoded) => checks::round_trip(&self.format, &decoded.content),
                Err(DecodeError::BadSignature) => panic!("a correctly signed value failed"),
                Err(_) => {}
            }
        }

        // 5. Through the whole session path.
        for raw in [text].into_iter().chain(forged) {
            checks::session_path(&self.engine, &self.format, raw);
        }
    }
}
