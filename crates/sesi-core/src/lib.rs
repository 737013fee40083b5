//! Pyramid-compatible signed-cookie sessions, without an HTTP framework.
//!
//! `sesi-core` is the engine under the [`sesi`](https://docs.rs/sesi) middleware: the cookie codec
//! (byte-for-byte Pyramid's `SignedCookieSessionFactory` format), secrets with key rotation, and the
//! session with Pyramid's semantics (idle timeout, reissue, flash messages, CSRF tokens) plus typed
//! access, an absolute lifetime and real invalidation. Use it directly to read or write a Pyramid
//! session cookie from a job or a CLI; use `sesi` to put sessions on a tower or axum service.
//!
//! ```
//! use sesi_core::{Codec, HashAlg, Secret, Secrets, DEFAULT_SALT};
//!
//! // The cookie a Pyramid 2.1 app with `SignedCookieSessionFactory("rahasia_dapur_123")` set.
//! let cookie = "gntrvUqhILfGdygL_J-uCZLHVnxZ1HVjFZd8-5ysvJrGuGJ7A1dbejeoqCCAlF_RAtd8pu4hS79T_eHT3CVfzlsxNzY0MDAwMDAwLCAxNzY0MDAwMDAwLjI1LCB7ImNvdW50ZXIiOiAxfV0";
//! let secrets = Secrets::new(Secret::new_insecure("rahasia_dapur_123")?);
//! let codec = Codec::new(&secrets, DEFAULT_SALT, HashAlg::Sha512);
//! let decoded = codec.decode(cookie)?;
//! assert_eq!(decoded.record.state["counter"], 1);
//! assert_eq!(codec.encode(&decoded.record), cookie); // byte for byte
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! | module | what it holds |
//! |---|---|
//! | [`codec`] | the cookie format: [`Codec`], [`Record`], [`DecodeError`], the Python-compatible JSON writer |
//! | [`secret`] | [`Secret`], [`Secrets`] (rotation) |
//! | [`session`] | [`Session`], [`SessionEngine`], [`SessionConfig`], [`CookieStatus`], [`Commit`] |
//! | [`clock`] | [`Clock`], [`SystemClock`], [`ManualClock`] |
//! | [`store`] | [`store::SessionStore`], [`store::MemoryStore`], [`store::SessionId`] |
//!
//! This crate has no HTTP dependency. Its one cargo feature is off by default:
//!
//! | feature | what it adds |
//! |---|---|
//! | `test-util` | `store::contract` and the `store_contract_tests!` macro: the [`store::SessionStore`] contract as tests, for store crates |

pub mod clock;
pub mod codec;
pub mod secret;
pub mod session;
pub mod store;

pub use clock::{Clock, ManualClock, SystemClock};
pub use codec::{
    Codec, CookieContent, DEFAULT_SALT, DecodeError, Decoded, HashAlg, MAX_COOKIE_VALUE_LEN,
    Record, ShapeError, Timestamp, UnknownHashAlg,
};
pub use secret::{MAX_FALLBACKS, MIN_SECRET_LEN, Secret, SecretError, Secrets};
pub use session::{
    Commit, ConfigError, CookieStatus, DEFAULT_TIMEOUT, MAX_COOKIE_SIZE, MAX_FUTURE_SKEW, Session,
    SessionConfig, SessionEngine, SessionError, SetReason,
};

/// Lowercase hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}
