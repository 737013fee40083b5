//! The request lifecycle when sessions live in a server-side store (or spill over into one):
//! lock (optional) -> load -> handler -> save or delete -> cookie -> unlock. Every store call is
//! bounded by a timeout; when the store fails, a request that used the session gets a 503 and the
//! browser's cookie is left alone.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http::header::RETRY_AFTER;
use http::{HeaderValue, Request, Response, StatusCode};
use sesi_core::codec::parse_payload;
use sesi_core::session::{Plan, Step};
use sesi_core::store::{LockToken, SessionId, SessionStore, StoreError};
use sesi_core::{CookieContent, CookieStatus, Session};
use tower_service::Service;

use crate::cookie::find_cookie;
use crate::layer::Shared;
use crate::service::{
    CookieAction, append_set_cookie, conclude, judged_status, skips_saving, untouched,
};

/// Per-session locking: one request of a session at a time, across every server sharing the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockConfig {
    /// How long a request waits for the lock before giving up with a 503.
    pub wait: Duration,
    /// How long a lock lives at most, so a crashed server cannot block a visitor forever.
    pub lease: Duration,
}

impl Default for LockConfig {
    fn default() -> Self {
        LockConfig {
            wait: Duration::from_secs(5),
            lease: Duration::from_secs(30),
        }
    }
}

/// The store and how to use it.
#[derive(Debug, Clone)]
pub(crate) struct StoreConfig {
    pub(crate) store: Arc<dyn SessionStore>,
    pub(crate) timeout: Duration,
    pub(crate) lock: Option<LockConfig>,
}

impl StoreConfig {
    async fn call<T>(
        &self,
        op: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(self.timeout, op).await {
            Ok(result) => result,
            Err(_) => Err(StoreError::Timeout(self.timeout)),
        }
    }

    async fn acquire(&self, id: SessionId, lock: LockConfig) -> Result<LockToken, StoreError> {
        let token = LockToken::generate();
        let start = Instant::now();
        let mut pause = Duration::from_millis(2);
        loop {
            if self
                .call(self.store.try_lock(id, token, lock.lease))
                .await?
            {
                return Ok(token);
            }
            if start.elapsed() + pause > lock.wait {
                return Err(StoreError::LockTimeout(lock.wait));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(50));
        }
    }

    async fn release(&self, held: Option<HeldLock>) {
        if let Some(mut held) = held {
            let result = self.call(self.store.unlock(held.id, held.token)).await;
            // Only now: if this request is dropped during the call, the guard's `Drop` unlocks
            // in the background (unlocking twice is harmless, it is compare-and-delete).
            held.released = true;
            if let Err(err) = result {
                // The lease ends it anyway.
                tracing::warn!(%err, session = %held.id, "could not release a session lock");
            }
        }
    }
}

/// A session lock this request holds. If the request is dropped before it releases the lock (the
/// client went away, the handler panicked), the lock is released in the background rather than
/// blocking the visitor until the lease ends.
struct HeldLock {
    store: Arc<dyn SessionStore>,
    id: SessionId,
    token: LockToken,
    released: bool,
}

impl Drop for HeldLock {
    fn drop(&mut self) {
        if self.released {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let (store, id, token) = (Arc::clone(&self.store), self.id, self.token);
            runtime.spawn(async move {
                if let Err(err) = store.unlock(id, token).await {
                    tracing::warn!(%err, session = %id, "could not release an abandoned session lock");
                }
            });
        }
    }
}

/// Runs one request with a store-backed session.
pub(crate) async fn run<S, ReqBody, ResBody>(
    mut inner: S,
    shared: Arc<Shared>,
    mut req: Request<ReqBody>,
) -> Result<Response<ResBody>, S::Error>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: From<String>,
{
    let config = shared
        .store
        .as_ref()
        .expect("the store path only runs with a store configured");
    let engine = &shared.engine;
    let raw = find_cookie(req.headers(), &shared.cookie.name);
    let mut held = None;
    let mut failure: Option<StoreError> = None;
    let session = match raw.as_deref().map(|raw| engine.codec().decode_any(raw)) {
        None => engine.session_from(Err(CookieStatus::Absent), None),
        Some(Err(err)) => engine.session_from(Err(err.into()), None),
        // A whole-session cookie (spill-over, or a visitor from before the store was configured):
        // it loads as usual and moves to the store on its next write if it must.
        Some(Ok(CookieContent::State(decoded))) => {
            engine.session_from(Ok((decoded.record, decoded.key_index)), None)
        }
        Some(Ok(CookieContent::Id { id, key_index })) => {
            let locked = match config.lock {
                Some(lock) => config.acquire(id, lock).await.map(|token| {
                    held = Some(HeldLock {
                        store: Arc::clone(&config.store),
                        id,
                        token,
                        released: false,
                    });
                }),
                None => Ok(()),
            };
            let loaded = match locked {
                Ok(()) => config.call(config.store.load(id)).await,
                Err(err) => Err(err),
            };
            match loaded {
                Ok(Some(bytes)) => match parse_payload(&bytes) {
                    Ok(record) => engine.session_from(Ok((record, key_index)), Some(id)),
                    Err(err) => {
                        tracing::error!(%err, session = %id, "unreadable session in the store");
                        engine.session_from(Err(err.into()), None)
                    }
                },
                Ok(None) => engine.session_from(Err(CookieStatus::UnknownSession), None),
                Err(err) => {
                    failure = Some(err);
                    engine.session_from(Err(CookieStatus::StoreUnavailable), None)
                }
            }
        }
    };
    if let Some(err) = failure.as_ref().filter(|_| !req.method().is_safe()) {
        // A state-changing request whose session could not be loaded: refuse it before the
        // handler runs, so nothing it does outside the session happens twice on a retry.
        let response = unavailable(err, CookieStatus::StoreUnavailable);
        config.release(held).await;
        return Ok(response);
    }
    req.extensions_mut().insert(session.clone());
    let result = inner.call(req).await;
    let response = match result {
        Ok(response) => finish(&shared, config, &session, failure, response).await,
        Err(err) => {
            config.release(held).await;
            return Err(err);
        }
    };
    config.release(held).await;
    Ok(response)
}

async fn finish<B: From<String>>(
    shared: &Shared,
    config: &StoreConfig,
    session: &Session,
    failure: Option<StoreError>,
    mut response: Response<B>,
) -> Response<B> {
    if !session.is_touched() {
        return untouched(session, response);
    }
    if let Some(err) = failure {
        return unavailable(&err, session.status());
    }
    let status = judged_status(session);
    if skips_saving(shared, &response) {
        return conclude(response, status, CookieAction::SkippedOnError);
    }
    let Plan { steps, reason, .. } = session.plan();
    // Store writes first: the cookie is only added once the data it points to is saved.
    let mut cookie = None;
    for step in steps {
        let done = match step {
            Step::Save { id, payload, ttl } => {
                config.call(config.store.save(id, payload, ttl)).await
            }
            Step::Delete(id) => config.call(config.store.delete(id)).await,
            Step::SetCookie(_) | Step::DeleteCookie => {
                cookie = Some(step);
                continue;
            }
        };
        if let Err(err) = done {
            return unavailable(&err, status);
        }
    }
    let (action, header) = shared.plan_outcome(cookie, reason);
    if let Some(header) = header {
        append_set_cookie(response.headers_mut(), header);
    }
    conclude(response, status, action)
}

/// 503 for a request that needed the session while the store failed; no cookie is sent, so the
/// browser keeps the one it has.
fn unavailable<B: From<String>>(err: &StoreError, status: CookieStatus) -> Response<B> {
    tracing::error!(%err, "session store failed; answering 503");
    let body = format!(
        "503 Service Unavailable\n\nYour session could not be loaded or saved ({err}). Nothing was \
         changed; please try again in a moment.\n"
    );
    let mut response = Response::new(B::from(body));
    *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(RETRY_AFTER, HeaderValue::from_static("1"));
    conclude(response, status, CookieAction::StoreFailed)
}
