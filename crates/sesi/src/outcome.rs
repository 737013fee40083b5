//! The end every request shares, whichever flow ran it: the plan's cookie step turned into a
//! `Set-Cookie` (or the responder's answer), the caching headers, and the [`SessionOutcome`]
//! recorded for request logs.

use http::header::{CACHE_CONTROL, SET_COOKIE, VARY};
use http::{HeaderMap, HeaderValue, Response};
use sesi_core::session::{CookieStep, Expiry, Lifecycle};
use sesi_core::{CookieStatus, MAX_COOKIE_SIZE, SetReason};

use crate::cookie::CookieHeader;
use crate::responder::{RequestHead, SessionFailure};
use crate::shared::Shared;

/// What the middleware did with the session of one request; found in the response's extensions,
/// for request logs.
#[derive(Debug, Clone)]
pub struct SessionOutcome {
    /// The incoming cookie's status, or `None` when the handler never touched the session (the
    /// cookie was then not even decoded).
    pub status: Option<CookieStatus>,
    /// What was sent back.
    pub action: CookieAction,
}

/// What the response did with the cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CookieAction {
    /// No `Set-Cookie`.
    None,
    /// A new cookie was set.
    Set(SetReason),
    /// The session was saved to the store under its existing id; no cookie was needed.
    Stored(SetReason),
    /// The cookie was removed (after `invalidate()`).
    Deleted,
    /// The cookie would have been too large; the browser keeps its last good cookie and the
    /// response was replaced by the responder's answer (a 500 by default).
    TooLarge {
        /// Size the Set-Cookie would have had.
        bytes: usize,
    },
    /// A 5xx response with `set_on_exception` off: the change was not saved.
    SkippedOnError,
    /// The session store failed; the response was replaced by the responder's answer (a 503 by
    /// default) and nothing was sent.
    StoreFailed,
    /// The cookie format produced a value that cannot be a header (a bug in that format); the
    /// response was replaced by the responder's answer (a 500 by default) and nothing was sent.
    InvalidValue,
}

impl CookieAction {
    /// Short name for logs.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            CookieAction::None => "none",
            CookieAction::Set(reason) => reason.name(),
            CookieAction::Stored(_) => "stored",
            CookieAction::Deleted => "deleted",
            CookieAction::TooLarge { .. } => "too-large",
            CookieAction::SkippedOnError => "skipped-on-error",
            CookieAction::StoreFailed => "store-failed",
            CookieAction::InvalidValue => "invalid-value",
        }
    }
}

/// The action and `Set-Cookie` header value a plan's cookie step turns into. A plan that saved
/// under the same id sends no cookie and is reported as stored.
pub(crate) fn cookie_outcome(
    header: &CookieHeader,
    cookie: CookieStep,
    reason: Option<SetReason>,
    expiry: Expiry,
) -> (CookieAction, Option<String>) {
    match cookie {
        CookieStep::Set(value) => (
            reason.map_or(CookieAction::None, CookieAction::Set),
            Some(header.set_with(&value, expiry)),
        ),
        CookieStep::Delete => (CookieAction::Deleted, Some(header.deletion())),
        CookieStep::TooLarge { bytes, .. } => (CookieAction::TooLarge { bytes }, None),
        CookieStep::Keep => (
            reason.map_or(CookieAction::None, CookieAction::Stored),
            None,
        ),
    }
}

/// A response whose handler never read or wrote the session: nothing to send. If it looked at
/// the session through a getter (`status`, `is_new`), the page still depends on the cookie and
/// must not be shared by caches.
pub(crate) fn untouched<B>(lifecycle: &Lifecycle, mut response: Response<B>) -> Response<B> {
    if lifecycle.depends_on_cookie() {
        mark_private(response.headers_mut());
    }
    response.extensions_mut().insert(SessionOutcome {
        status: None,
        action: CookieAction::None,
    });
    response
}

/// A store-backed request whose handler never asked for its session: nothing was read, nothing
/// is owed.
pub(crate) fn outcome_without_session<B>(mut response: Response<B>) -> Response<B> {
    response.extensions_mut().insert(SessionOutcome {
        status: None,
        action: CookieAction::None,
    });
    response
}

/// The incoming cookie's status, logged at debug when the cookie was discarded.
pub(crate) fn judged_status(lifecycle: &Lifecycle) -> CookieStatus {
    let status = lifecycle.status();
    if status.is_rejected() {
        tracing::debug!(reason = status.name(), detail = %status, "discarded session cookie");
    }
    status
}

/// A 5xx response with `set_on_exception` off: the handler's changes are not saved.
pub(crate) fn skips_saving<B>(shared: &Shared, response: &Response<B>) -> bool {
    response.status().is_server_error() && !shared.set_on_exception
}

/// A plan's cookie step made ready to send: the `Set-Cookie` value, or the failure the responder
/// answers instead. Prepared before any store step, so a cookie that cannot be sent never leaves
/// the store changed behind it.
pub(crate) struct Delivery {
    action: CookieAction,
    header: Option<HeaderValue>,
    failure: Option<SessionFailure<'static>>,
}

impl Delivery {
    /// True when nothing can be sent and the responder answers instead.
    pub(crate) fn failed(&self) -> bool {
        self.failure.is_some()
    }
}

/// Turns the plan's cookie step into a [`Delivery`].
pub(crate) fn prepare(
    shared: &Shared,
    cookie: CookieStep,
    reason: Option<SetReason>,
    expiry: Expiry,
) -> Delivery {
    let limit = match cookie {
        CookieStep::TooLarge { limit, .. } => limit,
        _ => MAX_COOKIE_SIZE,
    };
    let (action, header) = cookie_outcome(&shared.header, cookie, reason, expiry);
    let ready = |header| Delivery {
        action,
        header,
        failure: None,
    };
    match (action, header) {
        (CookieAction::TooLarge { bytes }, _) => {
            tracing::error!(
                bytes,
                limit,
                "session too large; not saved or sent, the browser keeps its previous cookie"
            );
            Delivery {
                action,
                header: None,
                failure: Some(SessionFailure::TooLarge { bytes, limit }),
            }
        }
        // The attributes were validated at build; the value is what the format wrote, which
        // must be cookie text (a format that breaks that rule is refused here, not sent).
        (_, Some(header)) => match HeaderValue::try_from(header) {
            Ok(value) => ready(Some(value)),
            Err(_) => {
                let format = shared.engine.format().name();
                tracing::error!(
                    format,
                    "the cookie format wrote a value that is not header text"
                );
                Delivery {
                    action: CookieAction::InvalidValue,
                    header: None,
                    failure: Some(SessionFailure::InvalidCookieValue { format }),
                }
            }
        },
        (_, None) => ready(None),
    }
}

/// The last step of every touched request: the prepared cookie (its plan's store steps, if any,
/// are done) applied to the response, or the responder's answer in its place.
pub(crate) fn deliver<B: From<String>>(
    shared: &Shared,
    request: &RequestHead,
    delivery: Delivery,
    status: CookieStatus,
    mut response: Response<B>,
) -> Response<B> {
    if let Some(failure) = &delivery.failure {
        response = shared.responder.respond(failure, request).map(B::from);
    } else if let Some(value) = delivery.header {
        response.headers_mut().append(SET_COOKIE, value);
    }
    conclude(response, status, delivery.action)
}

/// The responder's answer for a request whose session store failed; no cookie is sent, so the
/// browser keeps the one it has.
pub(crate) fn store_failed<B: From<String>>(
    shared: &Shared,
    request: &RequestHead,
    error: &sesi_core::store::StoreError,
    status: CookieStatus,
) -> Response<B> {
    tracing::error!(%error, "session store failed; answering with the error responder");
    let response = shared
        .responder
        .respond(&SessionFailure::StoreUnavailable { error }, request)
        .map(B::from);
    conclude(response, status, CookieAction::StoreFailed)
}

/// The end every response of a touched session shares: not for shared caches, and what was
/// done recorded for request logs.
pub(crate) fn conclude<B>(
    mut response: Response<B>,
    status: CookieStatus,
    action: CookieAction,
) -> Response<B> {
    mark_private(response.headers_mut());
    response.extensions_mut().insert(SessionOutcome {
        status: Some(status),
        action,
    });
    response
}

/// A response that depends on the cookie must not be shared by caches: `Vary: Cookie` (once) and
/// `Cache-Control: private` (unless already private or no-store).
pub(crate) fn mark_private(headers: &mut HeaderMap) {
    let has_token = |headers: &HeaderMap, name, tokens: &[&str]| {
        headers.get_all(name).iter().any(|v| {
            v.to_str().is_ok_and(|v| {
                v.split(',')
                    .map(str::trim)
                    .any(|t| tokens.iter().any(|want| t.eq_ignore_ascii_case(want)))
            })
        })
    };
    if !has_token(headers, VARY, &["cookie", "*"]) {
        headers.append(VARY, HeaderValue::from_static("Cookie"));
    }
    if !headers.contains_key(CACHE_CONTROL) {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("private"));
        return;
    }
    if has_token(headers, CACHE_CONTROL, &["private", "no-store"]) {
        return;
    }
    // Directives from every field are kept, since `insert` replaces all the fields.
    let existing: Result<Vec<&str>, _> = headers
        .get_all(CACHE_CONTROL)
        .iter()
        .map(HeaderValue::to_str)
        .collect();
    if let Ok(existing) = existing {
        let kept = existing
            .iter()
            .flat_map(|field| field.split(','))
            .map(str::trim)
            .filter(|t| !t.is_empty() && !t.eq_ignore_ascii_case("public"))
            .fold(String::from("private"), |acc, t| acc + ", " + t);
        if let Ok(value) = HeaderValue::try_from(kept) {
            headers.insert(CACHE_CONTROL, value);
        }
    }
}
