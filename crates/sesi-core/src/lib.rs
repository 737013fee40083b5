//! Pyramid-compatible cookie sessions, without an HTTP framework.
//!
//! `sesi-core` is the engine under the [`sesi`](https://docs.rs/sesi) middleware: cookie formats
//! (Pyramid's `SignedCookieSessionFactory`, byte for byte, behind the [`CookieFormat`] trait),
//! secrets with key rotation, and the session with Pyramid's semantics (idle timeout, reissue,
//! flash messages, CSRF tokens) plus typed access, an absolute lifetime and real invalidation.
//! Use it directly to read or write a Pyramid session cookie from a job or a CLI; use `sesi` to put
//! sessions on a tower or axum service.
//!
//! ```
//! use sesi_core::{CookieFormat, PyramidFormat, Secret, Secrets};
//!
//! // The cookie a Pyramid 2.1 app with `SignedCookieSessionFactory("rahasia_dapur_123")` set.
//! let cookie = "gntrvUqhILfGdygL_J-uCZLHVnxZ1HVjFZd8-5ysvJrGuGJ7A1dbejeoqCCAlF_RAtd8pu4hS79T_eHT3CVfzlsxNzY0MDAwMDAwLCAxNzY0MDAwMDAwLjI1LCB7ImNvdW50ZXIiOiAxfV0";
//! let pyramid = PyramidFormat::with_defaults(&Secrets::new(Secret::new_insecure("rahasia_dapur_123")?));
//! let decoded = pyramid.decode(cookie)?;
//! let record = decoded.record().expect("a whole session, not a store id");
//! assert_eq!(record.state["counter"], 1);
//! assert_eq!(pyramid.encode(record), cookie); // byte for byte
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! | module | what it holds |
//! |---|---|
//! | [`format`](mod@format) | the [`CookieFormat`] seam, [`PyramidFormat`], [`DecodeError`], [`format::ReservedKeys`] |
//! | [`record`] | [`Record`] and [`Timestamp`]: a session as a format carries it |
//! | [`pyjson`] | the JSON writer that writes exactly what Python's `json.dumps` writes |
//! | [`secret`] | [`Secret`], [`Secrets`] (rotation) |
//! | [`session`] | [`Session`] (what a handler uses), [`SessionEngine`], [`SessionConfig`], [`CookieStatus`], and [`session::lifecycle`] (what a middleware uses) |
//! | [`clock`] | [`Clock`], [`SystemClock`], [`ManualClock`] |
//! | [`id`] | [`SessionId`], [`LockToken`](id::LockToken) |
//! | [`store`] | [`store::SessionStore`], [`store::MemoryStore`] |
//!
//! This crate has no HTTP dependency by default. Its cargo features are off by default:
//!
//! | feature | what it adds |
//! |---|---|
//! | `http` | `Session::from_extensions`: the request's session where the middleware put it |
//! | `axum` | `Session` as an axum extractor and `IntoResponse` for [`SessionError`], so `session.get::<T>(key)?` works in an axum handler (implies `http`) |
//! | `test-util` | `store::contract` and the `store_contract_tests!` macro: the [`store::SessionStore`] contract as tests, for store crates |

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod clock;
pub mod format;
pub mod id;
pub mod pyjson;
mod random;
pub mod record;
pub mod secret;
pub mod session;
pub mod store;

pub use clock::{Clock, ManualClock, SystemClock};
pub use format::pyramid::{DEFAULT_SALT, HashAlg, UnknownHashAlg};
pub use format::{
    CookieContent, CookieFormat, DecodeError, Decoded, IntoCookieFormat, MAX_COOKIE_VALUE_LEN,
    NaclKey, NaclKeyError, PyramidFormat, PyramidNaclFormat, ShapeError,
};
#[cfg(feature = "django")]
#[cfg_attr(docsrs, doc(cfg(feature = "django")))]
pub use format::{DjangoFormat, django};
#[cfg(feature = "flask")]
#[cfg_attr(docsrs, doc(cfg(feature = "flask")))]
pub use format::{FlaskFormat, flask};
pub use id::SessionId;
pub use record::{Record, Timestamp};
pub use secret::{MAX_FALLBACKS, MIN_SECRET_LEN, Secret, SecretError, Secrets};
pub use session::{
    CookieStatus, DEFAULT_TIMEOUT, Expiry, MAX_COOKIE_SIZE, MAX_FUTURE_SKEW, Session,
    SessionConfig, SessionConfigError, SessionEngine, SessionError, SetReason,
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
