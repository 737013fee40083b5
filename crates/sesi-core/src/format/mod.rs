//! Cookie formats: how a session [`Record`] becomes a cookie value and back.
//!
//! The engine, the 4 KB size guard and the spill-over decision talk only to the [`CookieFormat`]
//! trait. Four formats implement it, each one module, byte for byte with the framework it names:
//! [`PyramidFormat`] (Pyramid's `SignedCookieSessionFactory`), [`PyramidNaclFormat`]
//! (pyramid_nacl_session's encrypted cookies), `FlaskFormat` (Flask's default session, feature
//! `flask`) and `DjangoFormat` (Django's `signed_cookies` backend, feature `django`).
//!
//! What the trait settles for every format:
//! - **Keys are the format's own.** Each format is built from its own key type (Pyramid: any-length
//!   secrets plus salt and hash algorithm; pyramid-nacl: exactly 32 bytes; Flask and Django: their
//!   secret keys with fallbacks) and keeps a current key that writes and older keys that only read;
//!   [`Decoded::key_index`] says which key read a value, so the engine re-issues it with the current
//!   one.
//! - **The session-id cookie is the format's too.** In store mode the cookie carries only the id of a
//!   session kept on the server; the format protects it with the same keys as a whole session
//!   ([`CookieFormat::encode_id`]), so one key set and one rotation cover both kinds of cookie.
//! - **Sizes are exact.** [`CookieFormat::encoded_len`] is the length of the value `encode` returns
//!   for that very record, never an estimate from the payload length: a compressing format cannot
//!   know its length any other way.
//! - **Timestamps.** Every format records when the cookie was issued (`accessed`); one that does not
//!   record `created` says so with [`CookieFormat::carries_created`], and then cannot enforce an
//!   absolute lifetime.
//! - **Reserved keys.** Each format names the state keys its framework reserves for flash messages,
//!   the CSRF token and a per-session expiry ([`ReservedKeys`]), so a session shared with that
//!   framework keeps them where the framework looks.
//!
//! Adding a format is one module with one `impl CookieFormat`, and one builder call:
//!
//! ```
//! use std::sync::Arc;
//! use sesi_core::format::{CookieContent, CookieFormat, Decoded, DecodeError};
//! use sesi_core::session::{CookieStep, Lifecycle, SessionConfig, SessionEngine};
//! use sesi_core::{ManualClock, Record, SessionId, Timestamp};
//!
//! /// A toy format: the state as plain JSON after the issue time, `1764000000:{"counter":1}`.
//! /// Unprotected: anyone can forge it. Real formats sign or encrypt.
//! #[derive(Debug)]
//! struct PlainJson;
//!
//! impl CookieFormat for PlainJson {
//!     fn name(&self) -> &'static str { "plain-json" }
//!     fn encode(&self, record: &Record) -> String {
//!         let ts = record.accessed.as_secs_f64() as i64;
//!         format!("{ts}:{}", serde_json::Value::Object(record.state.clone()))
//!     }
//!     fn encoded_len(&self, record: &Record) -> usize { self.encode(record).len() }
//!     fn encode_id(&self, id: &SessionId) -> String { format!("id:{}", id.to_hex()) }
//!     fn encoded_id_len(&self) -> usize { 35 }
//!     fn decode(&self, value: &str) -> Result<Decoded, DecodeError> {
//!         let content = match value.strip_prefix("id:") {
//!             Some(hex) => CookieContent::Id(
//!                 SessionId::from_hex(hex).ok_or(DecodeError::BadSessionId)?,
//!             ),
//!             None => {
//!                 let (ts, json) = value.split_once(':').ok_or(DecodeError::BadSignature)?;
//!                 let ts = ts.parse().map_err(|_| DecodeError::BadSignature)?;
//!                 let state = serde_json::from_str(json).map_err(DecodeError::MalformedJson)?;
//!                 CookieContent::State(Record::without_created(Timestamp::Int(ts), state))
//!             }
//!         };
//!         Ok(Decoded { content, key_index: 0 })
//!     }
//!     fn carries_created(&self) -> bool { false }
//! }
//!
//! let clock = Arc::new(ManualClock::new(1764000060.0)); // a minute after that cookie was issued
//! let engine = Arc::new(SessionEngine::new(PlainJson, SessionConfig::default())?.with_clock(clock));
//! let request = Lifecycle::begin(&engine, Some(r#"1764000000:{"counter":1}"#.to_owned()));
//! assert_eq!(request.session().update("counter", |n: &mut i64| { *n += 1; *n })?, 2);
//! assert_eq!(request.session().created(), None); // this format does not record it
//! assert_eq!(request.plan().cookie, CookieStep::Set(r#"1764000060:{"counter":2}"#.to_owned()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! With the `sesi` middleware the same format is one builder call:
//! `SessionLayer::builder(PlainJson)`.

mod b64;
#[cfg(feature = "django")]
#[cfg_attr(docsrs, doc(cfg(feature = "django")))]
pub mod django;
pub(crate) mod error;
#[cfg(feature = "flask")]
#[cfg_attr(docsrs, doc(cfg(feature = "flask")))]
pub mod flask;
pub mod pyramid;
pub mod pyramid_nacl;
#[cfg(any(feature = "flask", feature = "django"))]
mod zlib;

use std::fmt;
use std::sync::Arc;

#[cfg(feature = "django")]
#[cfg_attr(docsrs, doc(cfg(feature = "django")))]
pub use django::DjangoFormat;
pub use error::{DecodeError, MAX_COOKIE_VALUE_LEN, MAX_JSON_DEPTH, ShapeError};
#[cfg(feature = "flask")]
#[cfg_attr(docsrs, doc(cfg(feature = "flask")))]
pub use flask::FlaskFormat;
pub use pyramid::PyramidFormat;
pub use pyramid_nacl::{NaclKey, NaclKeyError, PyramidNaclFormat};

use crate::id::SessionId;
use crate::record::Record;
use crate::secret::Secrets;

/// A cookie format: a session record <-> a cookie value, protected by the format's own keys.
///
/// Implementations must never panic on any `value` given to [`decode`](Self::decode): it comes
/// from the network. Their `Debug` must not show key material. The values they write must be
/// cookie text (RFC 6265 cookie-octets: visible ASCII without `"`, `,`, `;`, `\` or spaces); the
/// middleware refuses to send anything else.
pub trait CookieFormat: Send + Sync + fmt::Debug + 'static {
    /// A short name for logs, the inspector and `--cookie-format` (`"pyramid"`).
    fn name(&self) -> &'static str;

    /// The cookie value that carries `record`, protected with the current key.
    #[must_use]
    fn encode(&self, record: &Record) -> String;

    /// Exactly `self.encode(record).len()`, computed as cheaply as the format allows (a
    /// compressing format may have to compress).
    #[must_use]
    fn encoded_len(&self, record: &Record) -> usize;

    /// The cookie value that carries the id of a session kept in a store, protected with the
    /// current key like a whole session.
    #[must_use]
    fn encode_id(&self, id: &SessionId) -> String;

    /// Exactly `self.encode_id(id).len()`, the same for every id.
    #[must_use]
    fn encoded_id_len(&self) -> usize;

    /// Verifies and decodes a cookie value into what it carries.
    ///
    /// # Errors
    /// A [`DecodeError`] naming the step that failed; never a panic.
    fn decode(&self, value: &str) -> Result<Decoded, DecodeError>;

    /// Whether the visitor cannot read what the cookie holds (an encrypted format); false for a
    /// signed one, the default. Tools use it to say so, and never to decrypt a value someone
    /// pasted (which would make them a decryption oracle for anyone's cookie).
    fn encrypts(&self) -> bool {
        false
    }

    /// The record in `value` WITHOUT verifying it, for tools that show what a visitor can read.
    /// `None` when the format hides its content (an encrypted format), which is the default.
    fn read_unverified(&self, value: &str) -> Option<Result<Record, DecodeError>> {
        let _ = value;
        None
    }

    /// The state keys this format's framework reserves. Pyramid's by default.
    fn reserved_keys(&self) -> &ReservedKeys {
        &ReservedKeys::PYRAMID
    }

    /// Whether decoded records carry `created` (the default). A format that does not record it
    /// cannot enforce an absolute lifetime, and the engine refuses `max_lifetime` with it.
    fn carries_created(&self) -> bool {
        true
    }
}

/// What a cookie format can be built from: a format (or an `Arc` of one, to share it), or
/// [`Secrets`] for Pyramid's signed format with its default salt and hash algorithm (Pyramid's
/// `SignedCookieSessionFactory(secret)`).
pub trait IntoCookieFormat {
    /// The format, shared by every request.
    #[must_use]
    fn into_cookie_format(self) -> Arc<dyn CookieFormat>;
}

impl<F: CookieFormat> IntoCookieFormat for F {
    fn into_cookie_format(self) -> Arc<dyn CookieFormat> {
        Arc::new(self)
    }
}

impl IntoCookieFormat for Arc<dyn CookieFormat> {
    fn into_cookie_format(self) -> Arc<dyn CookieFormat> {
        self
    }
}

impl IntoCookieFormat for Secrets {
    fn into_cookie_format(self) -> Arc<dyn CookieFormat> {
        Arc::new(PyramidFormat::with_defaults(&self))
    }
}

/// A verified cookie value.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// What it carries.
    pub content: CookieContent,
    /// Which key verified it: 0 is the current key, 1.. are the fallbacks in order.
    pub key_index: usize,
}

impl Decoded {
    /// The session record, when the cookie carries a whole session.
    #[must_use]
    pub fn record(&self) -> Option<&Record> {
        match &self.content {
            CookieContent::State(record) => Some(record),
            CookieContent::Id(_) => None,
        }
    }

    /// The session record, when the cookie carries a whole session; `None` for a store's id.
    #[must_use]
    pub fn into_record(self) -> Option<Record> {
        match self.content {
            CookieContent::State(record) => Some(record),
            CookieContent::Id(_) => None,
        }
    }
}

/// What a verified cookie carries.
#[derive(Debug, Clone, PartialEq)]
pub enum CookieContent {
    /// The whole session.
    State(Record),
    /// The id of a session kept in a store.
    Id(SessionId),
}

/// The session keys a format's framework reserves, so a session shared with that framework keeps
/// its flash messages, CSRF token and expiry where the framework looks for them. `flash` and
/// `csrf` are where `Session::flash` and `Session::get_csrf_token` write; `expiry` is the key a
/// per-session expiry will live under (Django's `_session_expiry`), kept free today so that no
/// app data takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReservedKeys {
    /// Where flash messages are queued.
    pub flash: FlashKeys,
    /// The key of the CSRF token.
    pub csrf: &'static str,
    /// The key reserved for a per-session expiry.
    pub expiry: &'static str,
    /// Further keys the framework keeps for itself, each with what it holds (Flask's
    /// `_permanent`: `"the session's permanence"`).
    pub others: &'static [(&'static str, &'static str)],
}

impl ReservedKeys {
    /// Pyramid's keys: flash queue `q` under `_f_q`, the CSRF token under `_csrft_`. Pyramid has
    /// no per-session expiry; `_sesi_expiry` is reserved for sesi's (Pyramid apps ignore it).
    pub const PYRAMID: ReservedKeys = ReservedKeys::new(
        FlashKeys::PerQueue { prefix: "_f_" },
        "_csrft_",
        "_sesi_expiry",
    );

    /// Flask's keys: flash messages as one `_flashes` list of `(category, message)` tuples,
    /// the CSRF token where Flask-WTF keeps it (`csrf_token`), `_sesi_expiry` for sesi's
    /// per-session expiry (Flask apps ignore it), and Flask's own `_permanent` flag and sesi's
    /// `_sesi_sid` (a store's session id, see [`FlaskFormat`]).
    #[cfg(feature = "flask")]
    #[cfg_attr(docsrs, doc(cfg(feature = "flask")))]
    pub const FLASK: ReservedKeys = ReservedKeys::new(
        FlashKeys::FlaskList {
            key: "_flashes",
            default_category: "message",
        },
        "csrf_token",
        "_sesi_expiry",
    )
    .with_others(&[
        ("_permanent", "the session's permanence"),
        ("_sesi_sid", "the id of a session kept in a store"),
    ]);

    /// A format's keys (for a format outside this crate: the struct may grow).
    #[must_use]
    pub const fn new(flash: FlashKeys, csrf: &'static str, expiry: &'static str) -> Self {
        ReservedKeys {
            flash,
            csrf,
            expiry,
            others: &[],
        }
    }

    /// These keys plus `others`, each `(key, what it holds)`; they replace any given before.
    #[must_use]
    pub const fn with_others(mut self, others: &'static [(&'static str, &'static str)]) -> Self {
        self.others = others;
        self
    }

    /// What `key` holds for the framework, if it is reserved: `"flash messages"`, `"the CSRF
    /// token"`, `"the session's expiry"` or what [`others`](Self::others) says.
    #[must_use]
    pub fn purpose(&self, key: &str) -> Option<&'static str> {
        if key == self.csrf {
            Some("the CSRF token")
        } else if key == self.expiry {
            Some("the session's expiry")
        } else if self.flash.holds(key) {
            Some("flash messages")
        } else {
            self.others
                .iter()
                .find(|(other, _)| *other == key)
                .map(|(_, purpose)| *purpose)
        }
    }

    /// Whether `key` is one of these keys (a flash queue under its prefix counts).
    #[must_use]
    pub fn is_reserved(&self, key: &str) -> bool {
        self.purpose(key).is_some()
    }
}

/// How a format keeps flash messages in the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FlashKeys {
    /// Each queue `q` is a list under `prefix + q` (Pyramid: `_f_`, `_f_error`).
    PerQueue {
        /// The prefix of every queue's key.
        prefix: &'static str,
    },
    /// Every message in one list under `key`, each a Flask tuple `{" t": [category, message]}`
    /// (Flask's `_flashes`); sesi's queue name is the category, and its default queue `""` is
    /// `default_category` (Flask's `"message"`).
    FlaskList {
        /// The session key of the list.
        key: &'static str,
        /// The category of sesi's default queue `""`.
        default_category: &'static str,
    },
}

impl FlashKeys {
    /// The session key of the flash queue `queue`.
    #[must_use]
    pub fn queue_key(&self, queue: &str) -> String {
        match self {
            FlashKeys::PerQueue { prefix } => format!("{prefix}{queue}"),
            FlashKeys::FlaskList { key, .. } => (*key).to_owned(),
        }
    }

    /// The category a message of `queue` is filed under in a shared list (`""` is the default
    /// category); `None` for a format with one key per queue.
    #[must_use]
    pub fn category<'q>(&self, queue: &'q str) -> Option<&'q str> {
        match self {
            FlashKeys::PerQueue { .. } => None,
            FlashKeys::FlaskList {
                default_category, ..
            } => Some(if queue.is_empty() {
                *default_category
            } else {
                queue
            }),
        }
    }

    /// Whether `key` holds flash messages.
    #[must_use]
    pub fn holds(&self, key: &str) -> bool {
        match self {
            FlashKeys::PerQueue { prefix } => key.starts_with(prefix),
            FlashKeys::FlaskList { key: list, .. } => key == *list,
        }
    }
}
