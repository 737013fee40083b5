//! The middleware's half of a request's session: starting it from the request's cookie, and
//! deciding at the end what the request owes the store and the browser.
//!
//! A handler never holds a [`Lifecycle`]: the middleware makes one per request and hands the
//! handler only its [`Session`] (the axum extractor gives out nothing else), and no method of
//! `Session` leads back. What a handler may ask is [`preview`]: the cookie step the end of its
//! request would take, read-only. Every storage mode finishes the same way: the session is
//! planned once, the plan's store steps run first, its cookie step last.

use std::sync::Arc;
use std::time::Duration;

use super::Session;
use super::config::{MAX_COOKIE_SIZE, StorageMode};
use super::engine::SessionEngine;
use super::expiry::Expiry;
use super::state::Inner;
use super::status::{CookieStatus, SetReason};
use super::user::user_of;
use crate::id::SessionId;
use crate::record::Record;

/// One request's session, as the middleware holds it: the [`Session`] to hand to the handler,
/// and what the middleware asks of it once the handler is done.
#[derive(Debug, Clone)]
pub struct Lifecycle {
    session: Session,
}

impl Lifecycle {
    /// The session of a request that carried `raw` as its session cookie value (or none).
    /// Nothing is decoded until the handler first uses the session.
    #[must_use]
    pub fn begin(engine: &Arc<SessionEngine>, raw: Option<String>) -> Self {
        Lifecycle {
            session: Session::new(Inner::lazy(Arc::clone(engine), raw)),
        }
    }

    /// The session of a request whose state was read before the handler runs (the store path):
    /// a record found in the store or in the cookie, judged now by the time rules, or none, with
    /// the reason. `id` is where it lives in the store, if anywhere. One clock reading serves the
    /// whole request, as on the lazy path.
    #[must_use]
    pub fn begin_loaded(
        engine: &Arc<SessionEngine>,
        incoming: Incoming,
        id: Option<SessionId>,
    ) -> Self {
        let now = engine.now();
        let (status, record) = match incoming {
            Incoming::Found { record, key_index } => (
                engine.judge_record_at(&record, key_index, now),
                Some(record),
            ),
            Incoming::Missing(status) => (status, None),
        };
        let loaded = engine.start_at(status, record, now);
        Lifecycle {
            session: Session::new(Inner::loaded(Arc::clone(engine), loaded, id, now)),
        }
    }

    /// The lifecycle of a session, for the crate's own tests.
    #[cfg(test)]
    pub(crate) fn of(session: &Session) -> Self {
        Lifecycle {
            session: session.clone(),
        }
    }

    /// The session, for the handler.
    #[must_use]
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// True once the handler has read or written the session.
    #[must_use]
    pub fn is_touched(&self) -> bool {
        self.session.lock().touched
    }

    /// True when the response depends on the cookie: the session was read, written, or only
    /// looked at through a getter such as [`Session::status`] or [`Session::is_new`].
    #[must_use]
    pub fn depends_on_cookie(&self) -> bool {
        let inner = self.session.lock();
        inner.touched || inner.peeked
    }

    /// What the request's cookie turned out to be (decoding it now if the handler did not).
    #[must_use]
    pub fn status(&self) -> CookieStatus {
        self.session.lock().data().status.clone()
    }

    /// Ends the request for the handler's side: from now on every write to the session (by a
    /// task that kept a clone) is refused with [`SessionError::Closed`](super::SessionError) and
    /// logged, instead of being silently lost. The middleware calls it before it plans. Returns
    /// [`is_touched`](Self::is_touched), read under the same lock (one lock per request saved
    /// on the cookie path).
    pub fn close(&self) -> bool {
        let mut inner = self.session.lock();
        inner.closed = true;
        inner.touched
    }

    /// Decides what the end of the request must do under the engine's [`StorageMode`], and
    /// prepares the cookie value and the store payload. Planning again gives the same plan as
    /// long as the handler does not touch the session in between.
    #[must_use]
    pub fn plan(&self) -> Plan {
        plan(&self.session)
    }
}

/// What the end of the current request would do with the browser's cookie if the handler did
/// nothing more: `None` while the session is untouched, else why a cookie is written (if it is)
/// and the cookie step, exactly as the middleware will take it. For pages that show their own
/// `Set-Cookie` (`SessionLayer::preview` in `sesi`). Read-only: the store payload and the
/// store's steps stay with the middleware, and the answer does not change the session.
#[must_use]
pub fn preview(session: &Session) -> Option<(Option<SetReason>, CookieStep, Expiry)> {
    if !session.lock().touched {
        return None;
    }
    let plan = plan(session);
    Some((plan.reason, plan.cookie, plan.expiry))
}

/// The plan behind [`Lifecycle::plan`] and [`preview`].
fn plan(session: &Session) -> Plan {
    let mut inner = session.lock();
    let reason = match due(&mut inner) {
        Due::Nothing => return Plan::default(),
        Due::Delete => {
            return Plan {
                delete: inner.id,
                cookie: CookieStep::Delete,
                ..Plan::default()
            };
        }
        Due::Write(reason) => reason,
    };
    let engine = Arc::clone(&inner.engine);
    let mode = engine.storage();
    let old_id = inner.id;
    let expiry = engine.expiry_of(&inner.data().record);
    let user = user_of(&inner.data().record.state).map(str::to_owned);
    // A session tied to a user stays in the store, where it can be revoked. One that spilled
    // into the store last time most likely still does not fit: it is measured (exactly) before
    // it is signed, so a big session is not signed for nothing.
    let stays_stored = mode == StorageMode::Spill
        && (user.is_some()
            || old_id.is_some() && engine.cookie_size(&inner.data().record) > MAX_COOKIE_SIZE);
    if mode != StorageMode::Store && !stays_stored {
        let value = engine.format().encode(&inner.data().record);
        let bytes = engine.cookie_overhead() + value.len();
        if bytes <= MAX_COOKIE_SIZE {
            // It fits: the cookie holds the session, and a stored copy is no longer needed.
            return Plan {
                reason: Some(reason),
                save: None,
                delete: old_id,
                cookie: CookieStep::Set(value),
                expiry,
            };
        }
        if mode == StorageMode::Cookie {
            return Plan {
                reason: Some(reason),
                cookie: CookieStep::TooLarge {
                    bytes,
                    limit: MAX_COOKIE_SIZE,
                },
                ..Plan::default()
            };
        }
    }
    let mut payload = Vec::new();
    inner.data().record.write_json(&mut payload);
    let limit = engine.max_stored_size();
    if payload.len() > limit {
        return Plan {
            reason: Some(reason),
            cookie: CookieStep::TooLarge {
                bytes: payload.len(),
                limit,
            },
            ..Plan::default()
        };
    }
    let fresh = old_id.is_none() || inner.invalidated || inner.cycle;
    let id = match old_id {
        Some(id) if !fresh => id,
        _ => *inner.next_id.get_or_insert_with(SessionId::generate),
    };
    // A session with its own expiry gets its id cookie again on every save, so its Max-Age
    // slides with the visits (and changes at once when the handler changes it).
    let cookie = if fresh || inner.rotated() || expiry != Expiry::Default || inner.expiry_changed {
        CookieStep::Set(engine.format().encode_id(&id))
    } else {
        CookieStep::Keep
    };
    // A visitor who came back with a valid cookie keeps the full time-to-live; a new one is on
    // probation until they do.
    let returning = inner.data().status.is_valid();
    Plan {
        reason: Some(reason),
        save: Some(Save {
            id,
            payload,
            ttl: engine.save_ttl_with(returning, expiry),
            returning,
            update_only: !fresh && user.is_some(),
            user,
        }),
        delete: old_id.filter(|_| fresh),
        cookie,
        expiry,
    }
}

/// A session's state as the store path read it before the handler ran.
#[derive(Debug)]
pub enum Incoming {
    /// A record (from the store, or a whole-session cookie), and which key verified the cookie
    /// (0: the current one).
    Found {
        /// The record.
        record: Record,
        /// The key that verified the cookie.
        key_index: usize,
    },
    /// No record, and why (`Absent`, `UnknownSession`, `StoreUnavailable`, a cookie error).
    Missing(CookieStatus),
}

/// What the end of a request must do, in this order: save, then delete, in the store; then the
/// cookie. A failed store step stops there, so the browser never points at data that was not
/// saved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Plan {
    /// Why something is written, if it is.
    pub reason: Option<SetReason>,
    /// Save the session in the store.
    pub save: Option<Save>,
    /// Remove this stored copy (the session moved to a new id, into the cookie, or ended).
    pub delete: Option<SessionId>,
    /// What to do with the browser's cookie.
    pub cookie: CookieStep,
    /// The session's own expiry, for the cookie's `Max-Age` (`Default`: the layer's).
    pub expiry: Expiry,
}

/// A session to save in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Save {
    /// Where.
    pub id: SessionId,
    /// The `[accessed, created, state]` JSON.
    pub payload: Vec<u8>,
    /// Time-to-live (`None`: never expires).
    pub ttl: Option<Duration>,
    /// The visitor came back with a valid cookie (so [`SessionStore::save_returning`]).
    ///
    /// [`SessionStore::save_returning`]: crate::store::SessionStore::save_returning
    pub returning: bool,
    /// The user the session is tied to ([`Session::set_user`]): save it with
    /// [`SessionStore::save_user_session`].
    ///
    /// [`SessionStore::save_user_session`]: crate::store::SessionStore::save_user_session
    pub user: Option<String>,
    /// A user's session saved under the id it was loaded with: saved only while still stored,
    /// so a revoked session stays revoked.
    pub update_only: bool,
}

/// What the response does with the browser's cookie.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum CookieStep {
    /// Nothing: untouched, only read within `reissue_time`, or saved under the same id.
    #[default]
    Keep,
    /// Send this cookie value (a whole session, or a session id).
    Set(String),
    /// Remove the cookie from the browser (after `invalidate()` with nothing written since).
    Delete,
    /// The session is too large for where it lives: a cookie of `bytes` bytes over
    /// [`MAX_COOKIE_SIZE`] with no store to spill to, or a stored session of `bytes` bytes of
    /// JSON over the store's cap. Nothing is saved or sent, so the browser keeps its last good
    /// cookie.
    TooLarge {
        /// Size the Set-Cookie (or the stored JSON) would have had.
        bytes: usize,
        /// The limit it exceeds.
        limit: usize,
    },
}

/// What the end of a request owes the browser (and the store), before any encoding.
enum Due {
    /// Untouched, or only read within `reissue_time`.
    Nothing,
    /// Invalidated with nothing written since.
    Delete,
    /// A new cookie (or stored copy) is due, for this reason.
    Write(SetReason),
}

/// The one rule behind every plan.
fn due(inner: &mut Inner) -> Due {
    if !inner.touched {
        return Due::Nothing;
    }
    if inner.written {
        Due::Write(SetReason::Changed)
    } else if inner.invalidated {
        Due::Delete
    } else if inner.reissue {
        Due::Write(SetReason::Reissued)
    } else if inner.rotated() {
        Due::Write(SetReason::Rotated)
    } else {
        Due::Nothing
    }
}
