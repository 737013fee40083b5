//! The body of the `decode` fuzz target. It is shared, through `#[path]`, by the libFuzzer target
//! (`fuzz/fuzz_targets/decode.rs`) and by `tests/fuzz_replay.rs`, which replays the seed corpus
//! (`tests/fuzz/seeds/decode/`) and a bounded random loop under plain `cargo test` on stable. It
//! lives under `tests/` so that the published package, which cannot hold `fuzz/` (a package of
//! its own), still has everything its tests read.
//!
//! Each input is used twice: as the cookie value a browser sent (reaching base64, the length cap
//! and the MAC), and as a payload signed with the right key (reaching the JSON parser, the shape
//! checks and the session rules, which a fuzzer could never reach past a MAC on its own).

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sesi_core::session::{CookieStep, Lifecycle};
use sesi_core::{
    CookieContent, CookieFormat, DEFAULT_SALT, DecodeError, HashAlg, ManualClock, PyramidFormat,
    Secret, Secrets, SessionConfig, SessionEngine,
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
            self.check_round_trip(&decoded.content);
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
            Ok(decoded) => self.check_round_trip(&decoded.content),
            Err(DecodeError::BadSignature) => panic!("a correctly signed payload failed the MAC"),
            Err(_) => {}
        }

        // 3. Both through the whole session path.
        for raw in [text, forged] {
            let request = Lifecycle::begin(&self.engine, Some(raw));
            let session = request.session();
            let _ = session.get::<Value>("x");
            let _ = session.get::<i64>("counter");
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
                self.codec
                    .decode(&value)
                    .expect("the engine's own cookie decodes");
            }
        }
    }

    /// A decoded record (or session id) re-encodes to a cookie that decodes to the same record.
    fn check_round_trip(&self, content: &CookieContent) {
        let record = match content {
            CookieContent::State(record) => record,
            CookieContent::Id(id) => {
                let cookie = self.codec.encode_id(id);
                assert_eq!(self.codec.encoded_id_len(), cookie.len(), "encoded_id_len");
                let again = self.codec.decode(&cookie).expect("a re-encoded id decodes");
                assert_eq!(again.content, *content, "round trip changed the id");
                return;
            }
        };
        let cookie = self.codec.encode(record);
        assert_eq!(self.codec.encoded_len(record), cookie.len(), "encoded_len");
        if cookie.len() > sesi_core::MAX_COOKIE_VALUE_LEN {
            return; // a re-encoding can be longer than the input (ensure_ascii escapes)
        }
        let again = self
            .codec
            .decode(&cookie)
            .expect("a re-encoded cookie decodes")
            .into_record()
            .expect("a whole session");
        // Exact: the workspace enables serde_json's `float_roundtrip`, so floats survive.
        assert_eq!(*record, again, "round trip changed the record");
    }
}
