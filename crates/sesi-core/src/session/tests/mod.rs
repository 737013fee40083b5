//! Session engine tests, with a [`ManualClock`] injected so no test sleeps. Rows refer to
//! `docs/security-checklist.md`. Cookies fed in are made with the Pyramid format (tested on its
//! own, against hand-built cookies, in `format/pyramid/tests.rs`); cookies coming out are checked
//! by decoding them with a separate format instance, so the engine's view of its own output is
//! never trusted. The end of a request is what the middleware does: [`Lifecycle::plan`].

mod bounds;
mod cookies;
mod data;
mod expiry;
mod flash_csrf;
#[cfg(feature = "flask")]
mod flask_flash;
mod formats;
mod plan;
mod size;
mod timing;
mod user;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::*;
use crate::clock::ManualClock;
use crate::format::pyramid::{DEFAULT_SALT, HashAlg};
use crate::format::{CookieContent, CookieFormat, DecodeError, Decoded};
use crate::format::{PyramidFormat, ReservedKeys};
use crate::id::SessionId;
use crate::record::Timestamp;
use crate::secret::{Secret, SecretError, Secrets};

/// Vector A's time: 2025-11-24T16:00:00Z.
const T: i64 = 1_764_000_000;
const TF: f64 = T as f64;
const CURRENT: &str = "the current secret, at least thirty-two bytes long";
const OLD: &str = "the previous secret, kept as a fallback for now";
/// Pyramid's CSRF key, where the Pyramid format keeps the token.
const CSRF_KEY: &str = ReservedKeys::PYRAMID.csrf;

fn secrets(list: &[&str]) -> Secrets {
    Secrets::from_list(
        list.iter()
            .map(|s| Secret::new_insecure(*s).expect("non-empty secret")),
    )
    .expect("at most three fallbacks")
}

fn format_for(list: &[&str]) -> PyramidFormat {
    PyramidFormat::new(&secrets(list), DEFAULT_SALT, HashAlg::Sha512)
}

fn record(accessed: i64, created: f64, state: Value) -> Record {
    let Value::Object(state) = state else {
        panic!("state must be an object")
    };
    Record::new(Timestamp::Int(accessed), Timestamp::Float(created), state)
}

/// An engine over a manual clock stopped at `T`.
struct Harness {
    clock: Arc<ManualClock>,
    engine: Arc<SessionEngine>,
}

impl Harness {
    fn new(config: SessionConfig) -> Self {
        Self::with_secrets(config, &[CURRENT])
    }

    fn with_secrets(config: SessionConfig, list: &[&str]) -> Self {
        let clock = Arc::new(ManualClock::new(TF));
        let engine = SessionEngine::new(format_for(list), config)
            .expect("valid config")
            .with_clock(clock.clone());
        Harness {
            clock,
            engine: Arc::new(engine),
        }
    }

    fn with_overhead(self, bytes: usize) -> Self {
        let engine = Arc::into_inner(self.engine).expect("not shared yet");
        Harness {
            clock: self.clock,
            engine: Arc::new(engine.with_cookie_overhead(bytes)),
        }
    }

    /// Moves the clock to `T + secs`.
    fn at(&self, secs: f64) -> &Self {
        self.clock.set(TF + secs);
        self
    }

    /// The session of a request that carried `cookie`, as the middleware starts it.
    fn session(&self, cookie: Option<&str>) -> Session {
        Lifecycle::begin(&self.engine, cookie.map(str::to_owned))
            .session()
            .clone()
    }

    /// A cookie signed by this engine's current secret.
    fn cookie(&self, accessed: i64, created: f64, state: Value) -> String {
        self.engine
            .format()
            .encode(&record(accessed, created, state))
    }
}

fn config(
    timeout: Option<u64>,
    reissue_time: Option<u64>,
    max_lifetime: Option<u64>,
) -> SessionConfig {
    SessionConfig {
        timeout: timeout.map(Duration::from_secs),
        reissue_time: reissue_time.map(Duration::from_secs),
        max_lifetime: max_lifetime.map(Duration::from_secs),
    }
}

/// What the end of the request owes the browser and the store, as the middleware plans it.
fn finish(session: &Session) -> Plan {
    Lifecycle::of(session).plan()
}

/// True once the handler read or wrote the session.
fn touched(session: &Session) -> bool {
    Lifecycle::of(session).is_touched()
}

/// The plan that only removes the cookie of a session that never reached a store.
fn delete_cookie() -> Plan {
    Plan {
        cookie: CookieStep::Delete,
        ..Plan::default()
    }
}

/// The value and reason of a plan that sends a whole-session cookie and touches no store, or a
/// panic naming what came instead.
fn expect_set(plan: Plan) -> (String, SetReason) {
    match plan {
        Plan {
            reason: Some(reason),
            save: None,
            delete: None,
            cookie: CookieStep::Set(value),
            expiry: _,
        } => (value, reason),
        other => panic!("expected a Set-Cookie and nothing else, got {other:?}"),
    }
}

/// Decodes an emitted cookie with a format that holds only `list`.
fn read_with(list: &[&str], value: &str) -> Record {
    let decoded = format_for(list)
        .decode(value)
        .unwrap_or_else(|e| panic!("emitted cookie does not verify: {e}"));
    assert_eq!(decoded.key_index, 0, "verified by the first secret given");
    match decoded.content {
        CookieContent::State(record) => record,
        CookieContent::Id(id) => panic!("expected a whole session, got the id {id}"),
    }
}

/// Unpadded base64 length of `n` bytes, computed without the crate.
fn b64_len(n: usize) -> usize {
    (4 * n).div_ceil(3)
}
