//! `SessionService`: runs the lifecycle around the inner service.
//!
//! Cookie header -> (lazy) verify and decode -> `Session` in the request extensions -> handler ->
//! re-sign -> `Set-Cookie`, only when the session changed, was re-issued, was invalidated, or was
//! verified by an old key.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use http::header::{CACHE_CONTROL, SET_COOKIE, VARY};
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use pin_project_lite::pin_project;
use sesi_core::session::Step;
use sesi_core::{Commit, CookieStatus, MAX_COOKIE_SIZE, SetReason};
use tower_service::Service;

use crate::cookie::find_cookie;
use crate::layer::Shared;

/// The middleware service; see [`SessionLayer`](crate::SessionLayer).
#[derive(Clone, Debug)]
pub struct SessionService<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> SessionService<S> {
    pub(crate) fn new(inner: S, shared: Arc<Shared>) -> Self {
        SessionService { inner, shared }
    }
}

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
    /// response was replaced by a 500 error.
    TooLarge {
        /// Size the Set-Cookie would have had.
        bytes: usize,
    },
    /// A 5xx response with `set_on_exception` off: the change was not saved.
    SkippedOnError,
    /// The session store failed; the response was replaced by a 503 and nothing was sent.
    StoreFailed,
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
        }
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for SessionService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Send,
    ReqBody: Send + 'static,
    ResBody: From<String> + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        if self.shared.store.is_some() {
            // The store path is async before and after the handler; it takes the service that
            // was driven to readiness and leaves a fresh clone in its place.
            let clone = self.inner.clone();
            let inner = std::mem::replace(&mut self.inner, clone);
            return ResponseFuture::Store {
                fut: Box::pin(crate::store::run(inner, Arc::clone(&self.shared), req)),
            };
        }
        let raw = find_cookie(req.headers(), &self.shared.cookie.name);
        let session = self.shared.engine.session(raw);
        req.extensions_mut().insert(session.clone());
        ResponseFuture::Cookie {
            inner: self.inner.call(req),
            session: Some(session),
            shared: Arc::clone(&self.shared),
        }
    }
}

type BoxedOutput<F> = Pin<Box<dyn Future<Output = <F as Future>::Output> + Send>>;

pin_project! {
    /// The response future of [`SessionService`]. Its variants are an implementation detail.
    #[project = ResponseFutureProj]
    #[allow(missing_docs)]
    pub enum ResponseFuture<F: Future> {
        /// Cookie sessions: no I/O besides the inner service, no allocation for the future.
        Cookie {
            #[pin]
            inner: F,
            session: Option<sesi_core::Session>,
            shared: Arc<Shared>,
        },
        /// Store-backed sessions.
        Store {
            fut: BoxedOutput<F>,
        },
    }
}

impl<F, ResBody, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
    ResBody: From<String>,
{
    type Output = Result<Response<ResBody>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            ResponseFutureProj::Cookie {
                inner,
                session,
                shared,
            } => {
                let mut response = ready!(inner.poll(cx))?;
                if let Some(session) = session.take() {
                    response = finish(shared, &session, response);
                }
                Poll::Ready(Ok(response))
            }
            ResponseFutureProj::Store { fut } => fut.as_mut().poll(cx),
        }
    }
}

/// A response whose handler never read or wrote the session: nothing to send. If it looked at
/// the session through a getter (`status`, `is_new`), the page still depends on the cookie and
/// must not be shared by caches.
pub(crate) fn untouched<B>(session: &sesi_core::Session, mut response: Response<B>) -> Response<B> {
    if session.depends_on_cookie() {
        mark_private(response.headers_mut());
    }
    response.extensions_mut().insert(SessionOutcome {
        status: None,
        action: CookieAction::None,
    });
    response
}

/// The incoming cookie's status, logged at debug when the cookie was discarded.
pub(crate) fn judged_status(session: &sesi_core::Session) -> CookieStatus {
    let status = session.status();
    if status.is_rejected() {
        tracing::debug!(reason = status.name(), detail = %status, "discarded session cookie");
    }
    status
}

/// A 5xx response with `set_on_exception` off: the handler's changes are not saved.
pub(crate) fn skips_saving<B>(shared: &Shared, response: &Response<B>) -> bool {
    response.status().is_server_error() && !shared.set_on_exception
}

/// Adds a `Set-Cookie` built by [`Shared::set_cookie_header`] or [`Shared::deletion`].
pub(crate) fn append_set_cookie(headers: &mut HeaderMap, header: String) {
    // The value is base64url and the attributes were validated at build time.
    let value = HeaderValue::try_from(header).expect("validated cookie parts form a valid header");
    headers.append(SET_COOKIE, value);
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

/// Applies the session's outcome to the response.
fn finish<B: From<String>>(
    shared: &Shared,
    session: &sesi_core::Session,
    mut response: Response<B>,
) -> Response<B> {
    if !session.is_touched() {
        return untouched(session, response);
    }
    let status = judged_status(session);
    if skips_saving(shared, &response) {
        return conclude(response, status, CookieAction::SkippedOnError);
    }
    let (action, header) = shared.apply(session.commit());
    if let CookieAction::TooLarge { bytes } = action {
        tracing::error!(
            bytes,
            limit = MAX_COOKIE_SIZE,
            "session cookie too large; not sent, the browser keeps its previous cookie"
        );
        response = too_large_response(bytes, MAX_COOKIE_SIZE);
    } else if let Some(header) = header {
        append_set_cookie(response.headers_mut(), header);
    }
    conclude(response, status, action)
}

impl Shared {
    /// `name=value; attributes`.
    pub(crate) fn set_cookie_header(&self, value: &str) -> String {
        let mut header = String::with_capacity(self.prefix.len() + value.len() + self.suffix.len());
        header.push_str(&self.prefix);
        header.push_str(value);
        header.push_str(&self.suffix);
        header
    }

    /// The action and `Set-Cookie` header value a commit turns into.
    pub(crate) fn apply(&self, commit: Commit) -> (CookieAction, Option<String>) {
        match commit {
            Commit::Keep => (CookieAction::None, None),
            Commit::Set { value, reason } => (
                CookieAction::Set(reason),
                Some(self.set_cookie_header(&value)),
            ),
            Commit::Delete => (CookieAction::Deleted, Some(self.deletion.clone())),
            Commit::TooLarge { bytes, .. } => (CookieAction::TooLarge { bytes }, None),
        }
    }

    /// The action and `Set-Cookie` header value of a store-mode plan, from its cookie step (a
    /// plan has at most one) and its reason; the store steps are the caller's to perform first.
    pub(crate) fn plan_outcome(
        &self,
        cookie: Option<Step>,
        reason: Option<SetReason>,
    ) -> (CookieAction, Option<String>) {
        match (cookie, reason) {
            (Some(Step::DeleteCookie), _) => (CookieAction::Deleted, Some(self.deletion.clone())),
            (Some(Step::SetCookie(value)), reason) => (
                reason.map_or(CookieAction::None, CookieAction::Set),
                Some(self.set_cookie_header(&value)),
            ),
            // A save under the same id needs no new cookie: reported as stored.
            (_, Some(reason)) => (CookieAction::Stored(reason), None),
            (_, None) => (CookieAction::None, None),
        }
    }
}

fn too_large_response<B: From<String>>(bytes: usize, limit: usize) -> Response<B> {
    let body = format!(
        "500 Internal Server Error\n\nThe session grew too large to store in a cookie \
         ({bytes} bytes, the limit is {limit}); the change was not saved.\n"
    );
    let mut response = Response::new(B::from(body));
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
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
