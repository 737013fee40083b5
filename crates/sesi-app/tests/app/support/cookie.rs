//! The session cookie the test servers write: its secret, and reading, forging and tampering
//! with its values.

use serde_json::Value;
use sesi::core::store::SessionId;
use sesi::core::{CookieContent, DEFAULT_SALT, Record, Timestamp};
use sesi::{CookieFormat, HashAlg, PyramidFormat, Secret, Secrets};

/// The test servers' secret: 64 bytes, so no weak-secret rule gets in the way.
pub const SECRET: &str = "sesi-app-integration-tests-secret-0123456789abcdef0123456789abcd";

/// The session cookie's name (the default).
pub const COOKIE: &str = "session";

/// [`SECRET`] as the servers hold it.
pub fn secrets() -> Secrets {
    Secrets::new(Secret::new(SECRET).expect("the test secret is long enough"))
}

/// The cookie format the servers use, for reading and forging cookies in tests.
pub fn codec() -> PyramidFormat {
    PyramidFormat::new(&secrets(), DEFAULT_SALT, HashAlg::Sha512)
}

/// Verifies and decodes a cookie value with [`SECRET`]; panics when it does not verify.
pub fn decode(value: &str) -> Record {
    codec()
        .decode(value)
        .unwrap_or_else(|e| {
            let start: String = value.chars().take(40).collect();
            panic!("cookie {start}... does not verify: {e}")
        })
        .into_record()
        .expect("a cookie that holds the state, not a store's id")
}

/// Verifies a cookie value that may hold the state or a store's session id.
pub fn content(value: &str) -> CookieContent {
    codec()
        .decode(value)
        .unwrap_or_else(|e| panic!("a cookie sesi signed: {e}"))
        .content
}

/// The session id in a store cookie; panics on a cookie that holds the state.
pub fn id_of(value: &str) -> SessionId {
    match content(value) {
        CookieContent::Id(id) => id,
        CookieContent::State(record) => panic!("expected an id cookie, got the state {record:?}"),
    }
}

/// Signs `state` into a cookie value, accessed and created now.
pub fn forge(state: Value) -> String {
    forge_ahead(state, 0)
}

/// Signs `state` into a cookie value, accessed and created `secs` seconds from now (at most the
/// engine's 60 s of allowed skew): no reissue falls due while a test runs, even across a second
/// boundary.
pub fn forge_ahead(state: Value, secs: i64) -> String {
    let Value::Object(map) = state else {
        panic!("a session state is a JSON object")
    };
    let at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs() as i64
        + secs;
    codec().encode(&Record::new(Timestamp::Int(at), Timestamp::Int(at), map))
}

/// `value` with the base64url character at `index` replaced by another one, so the value stays
/// well-formed but its decoded bytes change.
pub fn flip_char(value: &str, index: usize) -> String {
    let mut chars: Vec<char> = value.chars().collect();
    chars[index] = if chars[index] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

/// Changes one character in the middle of a cookie value, so it no longer verifies.
pub fn tamper(value: &str) -> String {
    flip_char(value, value.len() / 2)
}
