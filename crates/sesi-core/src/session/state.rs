//! The state behind a session handle, and the two rules every handler call goes through:
//! Pyramid's `manage_accessed` (a read) and `manage_changed` (a write).

use std::sync::Arc;

use serde_json::{Map, Value};

use super::engine::{Loaded, SessionEngine};
use super::status::CookieStatus;
use crate::id::SessionId;
use crate::record::{Record, Timestamp};

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) engine: Arc<SessionEngine>,
    /// The cookie value, kept until the session is first used.
    raw: Option<String>,
    /// The time of this request, read from the engine's clock once, at first use (as Pyramid
    /// reads `time.time()` once per session object).
    now: Option<f64>,
    data: Option<Data>,
    /// Read or written: the response depends on the cookie (`Vary: Cookie`).
    pub(crate) touched: bool,
    /// Only looked at through a getter (`status`, `is_new`, ...): the response depends on the
    /// cookie, but nothing is due to the browser or the store.
    pub(crate) peeked: bool,
    /// Written by the handler since load (or since `invalidate`).
    pub(crate) written: bool,
    /// Read after `reissue_time` passed.
    pub(crate) reissue: bool,
    pub(crate) invalidated: bool,
    /// Where the state lives in the store, if it does.
    pub(crate) id: Option<SessionId>,
    /// `cycle_id()` was called: the next save uses a fresh id.
    pub(crate) cycle: bool,
    /// The request is over: its response (and any store write) is decided, so a write now
    /// would reach nobody. Writes are refused, loudly.
    pub(crate) closed: bool,
    /// `set_expiry` was called: the cookie carries a new `Max-Age` (sent even in store mode).
    pub(crate) expiry_changed: bool,
    /// The fresh id a plan chose, kept so that planning twice (a preview, then the real end of
    /// the request) gives the same answer.
    pub(crate) next_id: Option<SessionId>,
}

#[derive(Debug)]
pub(crate) struct Data {
    pub(crate) record: Record,
    /// When the cookie this request carried was issued (Pyramid's `renewed`).
    pub(crate) renewed: f64,
    pub(crate) new: bool,
    pub(crate) status: CookieStatus,
}

impl Data {
    /// A stored session whose visitor is back for the first time: it was saved once only (when
    /// created, so on probation), and must be saved again now for the full time-to-live even if
    /// the handler only reads. Without `created` every return counts as the first.
    fn ends_probation(&self) -> bool {
        self.status.is_valid()
            && self
                .record
                .created
                .is_none_or(|created| created.as_secs_f64() >= self.renewed)
    }
}

impl From<Loaded> for Data {
    fn from(loaded: Loaded) -> Self {
        Data {
            renewed: loaded.record.accessed.as_secs_f64(),
            record: loaded.record,
            new: loaded.new,
            status: loaded.status,
        }
    }
}

impl Inner {
    /// A session whose cookie value `raw` is decoded at first use.
    pub(crate) fn lazy(engine: Arc<SessionEngine>, raw: Option<String>) -> Self {
        Inner {
            engine,
            raw,
            now: None,
            data: None,
            touched: false,
            peeked: false,
            written: false,
            closed: false,
            expiry_changed: false,
            reissue: false,
            invalidated: false,
            id: None,
            cycle: false,
            next_id: None,
        }
    }

    /// A session already loaded (and judged) at `now`, which then serves the rest of the request.
    pub(crate) fn loaded(
        engine: Arc<SessionEngine>,
        loaded: Loaded,
        id: Option<SessionId>,
        now: f64,
    ) -> Self {
        let mut inner = Inner::lazy(engine, None);
        inner.id = id.filter(|_| !loaded.new);
        inner.now = Some(now);
        inner.data = Some(loaded.into());
        inner
    }

    pub(crate) fn now(&mut self) -> f64 {
        let engine = &self.engine;
        *self.now.get_or_insert_with(|| engine.now())
    }

    /// The session data, decoding the cookie on first use.
    pub(crate) fn data(&mut self) -> &mut Data {
        if self.data.is_none() {
            let now = self.now();
            let loaded = self.engine.load_at(self.raw.take().as_deref(), now);
            self.data = Some(loaded.into());
        }
        self.data.as_mut().expect("loaded just above")
    }

    /// Pyramid's `manage_accessed`: stamp `accessed`, maybe schedule a reissue.
    pub(crate) fn access(&mut self) -> &mut Map<String, Value> {
        let now = self.now().floor();
        let reissue_time = self.engine.config().reissue_time;
        let probation = self.engine.probation().is_some() && self.id.is_some();
        self.touched = true;
        let data = self.data();
        let reissue = reissue_time.is_some_and(|rt| now - data.renewed > rt.as_secs_f64())
            || probation && data.ends_probation();
        data.record.accessed = Timestamp::Int(now as i64);
        self.reissue |= reissue;
        &mut self.data.as_mut().expect("loaded by access").record.state
    }

    /// Pyramid's `manage_changed`: stamp `accessed` and mark the session for writing.
    pub(crate) fn change(&mut self) -> &mut Map<String, Value> {
        let now = self.now().floor();
        self.touched = true;
        self.written = true;
        let data = self.data();
        data.record.accessed = Timestamp::Int(now as i64);
        &mut data.record.state
    }

    /// Ends the session: a fresh, empty record created now, and the cookie due for removal.
    pub(crate) fn invalidate(&mut self) {
        self.touched = true;
        self.invalidated = true;
        self.written = false;
        self.reissue = false;
        let now = self.now();
        let record = SessionEngine::fresh_record_at(now);
        let data = self.data();
        data.renewed = record.accessed.as_secs_f64();
        data.record = record;
        data.new = true;
    }

    /// The size of the Set-Cookie that would carry the whole state now.
    pub(crate) fn cookie_size(&mut self) -> usize {
        let engine = Arc::clone(&self.engine);
        engine.cookie_size(&self.data().record)
    }

    /// The size the session has where it lives now, and the limit there.
    pub(crate) fn size_and_limit(&mut self) -> (usize, usize) {
        let engine = Arc::clone(&self.engine);
        engine.size_and_limit(&self.data().record)
    }

    /// The cookie was verified by a fallback key (it must be re-signed even when nothing else
    /// is due).
    pub(crate) fn rotated(&mut self) -> bool {
        matches!(self.data().status, CookieStatus::ValidOldKey { .. })
    }
}
