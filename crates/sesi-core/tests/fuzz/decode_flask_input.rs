//! The body of the `decode_flask` fuzz target, shared through `#[path]` by the libFuzzer target
//! (`fuzz/fuzz_targets/decode_flask.rs`) and by `crates/sesi-core/tests/fuzz_replay_flask.rs`,
//! which replays the seed corpus and a bounded random loop under plain `cargo test`.
//!
//! Each input is used five times: as the cookie value a browser sent (reaching the length cap,
//! the structure and the signature check); as a JSON payload signed with the right key
//! (reaching the JSON parser, the tag checks and the session rules, which a fuzzer could never
//! reach past the HMAC on its own); as a zlib stream, raw and wrapped in a stored block (reaching
//! the bounded inflate, and the JSON parser behind it); and as the whole signed text
//! `[.]payload.timestamp`, signed (reaching the timestamp parser and strict base64).

#[path = "checks.rs"]
mod checks;

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sesi_core::{
    CookieContent, CookieFormat, DecodeError, FlaskFormat, ManualClock, Secret, Secrets,
    SessionConfig, SessionEngine,
};

/// The current key of the vectors in `tests/data/flask-cookies.json`, so valid seeds open.
pub const SECRET: &str = "rahasia_dapur_123";
/// Ten seconds after the vectors were issued: within the default idle timeout, not in the future.
pub const NOW: f64 = 1_764_000_010.0;
/// The base64url issue time of the values signed here (1764000000).
const ISSUED: &str = "aSSBAA";

/// HMAC-SHA1 (RFC 2104) of `data` under `key`, as itsdangerous signs.
pub fn hmac_sha1(key: &[u8], data: &[u8]) -> [u8; 20] {
    use hmac::Mac as _;
    let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// `data` as a zlib stream of stored (uncompressed) blocks, which any inflater reads back.
fn stored_zlib(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let mut chunks = data.chunks(0xffff).peekable();
    if chunks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(chunk) = chunks.next() {
        out.push(u8::from(chunks.peek().is_none()));
        let len = chunk.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    out.extend_from_slice(&((b << 16) | a).to_be_bytes());
    out
}

/// The format, an engine and the derived signing key, built once per process.
pub struct Target {
    format: FlaskFormat,
    engine: Arc<SessionEngine>,
    key: [u8; 20],
}

impl Default for Target {
    fn default() -> Self {
        let secrets = Secrets::new(Secret::new_insecure(SECRET).expect("a secret"));
        let format = FlaskFormat::new(&secrets);
        let engine = SessionEngine::new(format.clone(), SessionConfig::default())
            .expect("default config is valid")
            .with_clock(Arc::new(ManualClock::new(NOW)));
        Target {
            format,
            engine: Arc::new(engine),
            key: hmac_sha1(SECRET.as_bytes(), b"cookie-session"),
        }
    }
}

impl Target {
    /// `signed + "." + signature`, as itsdangerous's `Signer.sign` writes it.
    pub fn sign(&self, signed: &str) -> String {
        let sig = hmac_sha1(&self.key, signed.as_bytes());
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode(sig))
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

        // 2-5. The bytes as a JSON payload, as a zlib stream (raw, and stored around them), and
        // as the whole signed text, each signed with the right key.
        let forged = [
            self.sign(&format!("{}.{ISSUED}", URL_SAFE_NO_PAD.encode(data))),
            self.sign(&format!(".{}.{ISSUED}", URL_SAFE_NO_PAD.encode(data))),
            self.sign(&format!(
                ".{}.{ISSUED}",
                URL_SAFE_NO_PAD.encode(stored_zlib(data))
            )),
            self.sign(&text),
        ];
        for value in &forged {
            match self.format.decode(value) {
                Ok(decoded) => checks::round_trip(&self.format, &decoded.content),
                Err(DecodeError::BadSignature) => panic!("a correctly signed value failed"),
                Err(_) => {}
            }
        }

        // 6. Through the whole session path.
        for raw in [text].into_iter().chain(forged) {
            checks::session_path(&self.engine, &self.format, raw);
        }
    }
}
