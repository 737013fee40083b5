//! The request lifecycle when sessions live in a server-side store (or spill over into one):
//! lock (optional) -> load -> handler -> save or delete -> cookie -> unlock. Every store call is
//! bounded by a timeout; when the store fails, a request that used the session gets the
//! responder's answer (a 503 by default) and the browser's cookie is left alone.

use std::sync::Arc;

use http::{Request, Response};
use sesi_core::session::{Incoming, Lifecycle, StorageMode};
use sesi_core::store::StoreError;
use sesi_core::{CookieContent, CookieStatus, Decoded, Record};
use tower_service::Service;

use crate::cookie::find_cookie;
use crate::outcome::{
    CookieAction, conclude, deliver, judged_status, prepare, skips_saving, store_failed, untouched,
};
use crate::responder::RequestHead;
use crate::shared::Shared;
use crate::store_access::{HeldLock, StoreAccess};

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
    let access = shared
        .store
        .as_ref()
        .expect("the store path only runs with a store configured");
    let head = RequestHead::new(req.method().clone(), req.uri().clone());
    let raw = find_cookie(req.headers(), &shared.cookie.name);
    let (lifecycle, held, failure) = load(&shared, access, raw.as_deref()).await;
    if let Some(err) = failure.as_ref().filter(|_| !req.method().is_safe()) {
        // A state-changing request whose session could not be loaded: refuse it before the
        // handler runs, so nothing it does outside the session happens twice on a retry.
        let response = store_failed(&shared, &head, err, CookieStatus::StoreUnavailable);
        access.release(held).await;
        return Ok(response);
    }
    req.extensions_mut().insert(lifecycle.session().clone());
    let result = inner.call(req).await;
    let response = match result {
        Ok(response) => Ok(finish(&shared, access, &lifecycle, &head, failure, response).await),
        Err(err) => Err(err),
    };
    access.release(held).await;
    response
}

/// The request's session as the store (or the cookie itself) holds it, the lock taken for it,
/// and the store's failure if it could not be read.
async fn load(
    shared: &Shared,
    access: &StoreAccess,
    raw: Option<&str>,
) -> (Lifecycle, Option<HeldLock>, Option<StoreError>) {
    let engine = &shared.engine;
    let begin = |incoming, id| Lifecycle::begin_loaded(engine, incoming, id);
    let decoded = match raw.map(|raw| engine.format().decode(raw)) {
        None => {
            return (
                begin(Incoming::Missing(CookieStatus::Absent), None),
                None,
                None,
            );
        }
        Some(Err(err)) => return (begin(Incoming::Missing(err.into()), None), None, None),
        Some(Ok(decoded)) => decoded,
    };
    let (id, key_index) = match decoded {
        // A whole-session cookie: spill-over's own, or, when the layer accepts them during a
        // migration, a visitor's from before the store was configured; it loads as usual and
        // moves to the store on its next write if it must. Store mode refuses it otherwise: a
        // store could not revoke it.
        Decoded {
            content: CookieContent::State(record),
            key_index,
        } => {
            let accepted =
                access.accept_cookie_sessions || shared.engine.storage() == StorageMode::Spill;
            let incoming = if accepted {
                Incoming::Found { record, key_index }
            } else {
                Incoming::Missing(CookieStatus::WholeSessionRefused)
            };
            return (begin(incoming, None), None, None);
        }
        Decoded {
            content: CookieContent::Id(id),
            key_index,
        } => (id, key_index),
    };
    let held = match access.lock {
        Some(lock) => match access.acquire(id, lock).await {
            Ok(held) => Some(held),
            Err(err) => {
                return (
                    begin(Incoming::Missing(CookieStatus::StoreUnavailable), None),
                    None,
                    Some(err),
                );
            }
        },
        None => None,
    };
    let lifecycle = match access.call(access.store.load(id)).await {
        Ok(Some(bytes)) => match Record::from_json(&bytes) {
            Ok(record) => begin(Incoming::Found { record, key_index }, Some(id)),
            Err(err) => {
                tracing::error!(%err, session = %id, "unreadable session in the store");
                begin(Incoming::Missing(err.into()), None)
            }
        },
        Ok(None) => begin(Incoming::Missing(CookieStatus::UnknownSession), None),
        Err(err) => {
            return (
                begin(Incoming::Missing(CookieStatus::StoreUnavailable), None),
                held,
                Some(err),
            );
        }
    };
    (lifecycle, held, None)
}

/// The plan's store steps first (a failed one ends the request there), then its cookie.
async fn finish<B: From<String>>(
    shared: &Shared,
    access: &StoreAccess,
    lifecycle: &Lifecycle,
    request: &RequestHead,
    failure: Option<StoreError>,
    response: Response<B>,
) -> Response<B> {
    if !lifecycle.is_touched() {
        return untouched(lifecycle, response);
    }
    if let Some(err) = failure {
        return store_failed(shared, request, &err, lifecycle.status());
    }
    let status = judged_status(lifecycle);
    if skips_saving(shared, &response) {
        return conclude(response, status, CookieAction::SkippedOnError);
    }
    let plan = lifecycle.plan();
    // The cookie is made ready first: one that cannot be sent must not leave the store changed.
    let delivery = prepare(shared, plan.cookie, plan.reason);
    if delivery.failed() {
        return deliver(shared, request, delivery, status, response);
    }
    if let Some(save) = plan.save {
        let saved = access
            .call(if save.returning {
                access.store.save_returning(save.id, save.payload, save.ttl)
            } else {
                access.store.save(save.id, save.payload, save.ttl)
            })
            .await;
        if let Err(err) = saved {
            return store_failed(shared, request, &err, status);
        }
    }
    if let Some(id) = plan.delete
        && let Err(err) = access.call(access.store.delete(id)).await
    {
        return store_failed(shared, request, &err, status);
    }
    deliver(shared, request, delivery, status, response)
}
