//! The request lifecycle when sessions live in a server-side store (or spill over into one):
//! handler asks -> lock (optional) -> load -> handler -> save or delete -> cookie -> unlock.
//! The store is read lazily: only when the handler first asks for the session (the axum
//! extractor, or `Session::load_from`), so a route that never does sends no store command.
//! Every store call is bounded by a timeout; when the store fails, a request that asked for the
//! session gets the responder's answer (a 503 by default) and the browser's cookie is left
//! alone.

use std::sync::Arc;

use http::{Request, Response};
use sesi_core::session::{
    Incoming, LazySession, Lifecycle, LoadSession, Session, SessionUnavailable, StorageMode,
};
use sesi_core::store::{BoxFuture, SessionId, StoreError};
use sesi_core::{CookieContent, CookieStatus, Decoded, Record};
use tower_service::Service;

use crate::cookie::find_cookie;
use crate::outcome::{
    CookieAction, conclude, deliver, judged_status, outcome_without_session, prepare, skips_saving,
    store_failed, untouched,
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
    match first_step(&shared, access, raw.as_deref()) {
        Start::Now(lifecycle) => {
            req.extensions_mut().insert(lifecycle.session().clone());
            let result = inner.call(req).await;
            lifecycle.close();
            match result {
                Ok(response) => {
                    Ok(finish(&shared, access, &lifecycle, &head, None, response, None).await)
                }
                Err(err) => Err(err),
            }
        }
        Start::FromStore { id, key_index } => {
            let loader = Arc::new(StoreLoader {
                shared: Arc::clone(&shared),
                id,
                key_index,
                state: tokio::sync::Mutex::new(LoaderState::Pending),
            });
            req.extensions_mut()
                .insert(LazySession::new(Arc::clone(&loader) as Arc<dyn LoadSession>));
            let result = inner.call(req).await;
            let Some(loaded) = loader.end().await else {
                // The handler never asked for its session: not one store command was sent.
                return result.map(|response| outcome_without_session(response));
            };
            let Loaded {
                lifecycle,
                mut held,
                failure,
            } = loaded;
            lifecycle.close();
            let response = match result {
                Ok(response) => Ok(finish(
                    &shared,
                    access,
                    &lifecycle,
                    &head,
                    failure,
                    response,
                    held.as_mut(),
                )
                .await),
                Err(err) => Err(err),
            };
            // Unless the save released it already.
            access.release(held).await;
            response
        }
    }
}

/// How a request's session starts: at once, from its cookie alone, or from the store.
enum Start {
    Now(Lifecycle),
    FromStore { id: SessionId, key_index: usize },
}

/// Reads the cookie (no I/O): a session that needs no store starts now; an id waits for the
/// handler to ask.
fn first_step(shared: &Shared, access: &StoreAccess, raw: Option<&str>) -> Start {
    let engine = &shared.engine;
    let begin = |incoming| Start::Now(Lifecycle::begin_loaded(engine, incoming, None));
    match raw.map(|raw| engine.format().decode(raw)) {
        None => begin(Incoming::Missing(CookieStatus::Absent)),
        Some(Err(err)) => begin(Incoming::Missing(err.into())),
        // A whole-session cookie: spill-over's own, or, when the layer accepts them during a
        // migration, a visitor's from before the store was configured; it loads as usual and
        // moves to the store on its next write if it must. Store mode refuses it otherwise: a
        // store could not revoke it.
        Some(Ok(Decoded {
            content: CookieContent::State(record),
            key_index,
        })) => {
            let accepted =
                access.accept_cookie_sessions || shared.engine.storage() == StorageMode::Spill;
            begin(if accepted {
                Incoming::Found { record, key_index }
            } else {
                Incoming::Missing(CookieStatus::WholeSessionRefused)
            })
        }
        Some(Ok(Decoded {
            content: CookieContent::Id(id),
            key_index,
        })) => Start::FromStore { id, key_index },
    }
}

/// A session read from the store on first use; see [`LazySession`].
struct StoreLoader {
    shared: Arc<Shared>,
    id: SessionId,
    key_index: usize,
    state: tokio::sync::Mutex<LoaderState>,
}

enum LoaderState {
    Pending,
    Loaded(Loaded),
    /// The request is over: a load now would lock and read for nobody.
    Ended,
}

/// A session as the store gave it, the lock taken for it, and the store's failure if any.
struct Loaded {
    lifecycle: Lifecycle,
    held: Option<HeldLock>,
    failure: Option<StoreError>,
}

impl Loaded {
    fn session(&self) -> Result<Session, SessionUnavailable> {
        match self.failure {
            None => Ok(self.lifecycle.session().clone()),
            Some(_) => Err(SessionUnavailable),
        }
    }
}

impl LoadSession for StoreLoader {
    fn load(&self) -> BoxFuture<'_, Result<Session, SessionUnavailable>> {
        Box::pin(async move {
            let mut state = self.state.lock().await;
            match &*state {
                LoaderState::Loaded(loaded) => return loaded.session(),
                LoaderState::Ended => {
                    tracing::error!(
                        "a session was loaded after its request ended; refused (load it before \
                         the handler returns)"
                    );
                    return Err(SessionUnavailable);
                }
                LoaderState::Pending => {}
            }
            let loaded = load(&self.shared, self.id, self.key_index).await;
            let session = loaded.session();
            *state = LoaderState::Loaded(loaded);
            session
        })
    }
}

impl StoreLoader {
    /// Ends the request's use of the loader (waiting for a load in progress) and hands back
    /// what was loaded, if anything.
    async fn end(&self) -> Option<Loaded> {
        let mut state = self.state.lock().await;
        match std::mem::replace(&mut *state, LoaderState::Ended) {
            LoaderState::Loaded(loaded) => Some(loaded),
            LoaderState::Pending | LoaderState::Ended => None,
        }
    }
}

/// Locks (when configured) and reads the session `id` from the store.
async fn load(shared: &Shared, id: SessionId, key_index: usize) -> Loaded {
    let access = shared
        .store
        .as_ref()
        .expect("the store path only runs with a store configured");
    let engine = &shared.engine;
    let begin = |incoming, id| Lifecycle::begin_loaded(engine, incoming, id);
    let unavailable = |held, err| Loaded {
        lifecycle: begin(Incoming::Missing(CookieStatus::StoreUnavailable), None),
        held,
        failure: Some(err),
    };
    // With locking, the lock and the read are one store step (one round trip in a single Redis).
    let (held, loaded) = match access.lock {
        Some(lock) => match access.lock_and_load(id, lock).await {
            Ok((held, bytes)) => (Some(held), Ok(bytes)),
            Err(err) => return unavailable(None, err),
        },
        None => (None, access.call(access.store.load(id)).await),
    };
    let lifecycle = match loaded {
        Ok(Some(bytes)) => match Record::from_json(&bytes) {
            Ok(record) => begin(Incoming::Found { record, key_index }, Some(id)),
            Err(err) => {
                tracing::error!(%err, session = %id, "unreadable session in the store");
                begin(Incoming::Missing(err.into()), None)
            }
        },
        Ok(None) => begin(Incoming::Missing(CookieStatus::UnknownSession), None),
        Err(err) => return unavailable(held, err),
    };
    Loaded {
        lifecycle,
        held,
        failure: None,
    }
}

/// The plan's store steps first (a failed one ends the request there), then its cookie.
async fn finish<B: From<String>>(
    shared: &Shared,
    access: &StoreAccess,
    lifecycle: &Lifecycle,
    request: &RequestHead,
    failure: Option<StoreError>,
    response: Response<B>,
    held: Option<&mut HeldLock>,
) -> Response<B> {
    if let Some(err) = failure {
        // The store failed when the handler asked for the session. A handler that took
        // `Result<Session, SessionRejection>` and still answered with a success keeps its
        // answer (say, a page that works without a session); any other answer, the extractor's
        // rejection included, becomes the responder's.
        let status = response.status();
        if status.is_success() || status.is_redirection() {
            return untouched(lifecycle, response);
        }
        return store_failed(shared, request, &err, lifecycle.status());
    }
    if !lifecycle.is_touched() {
        return untouched(lifecycle, response);
    }
    let status = judged_status(lifecycle);
    if skips_saving(shared, &response) {
        return conclude(response, status, CookieAction::SkippedOnError);
    }
    let plan = lifecycle.plan();
    // The cookie is made ready first: one that cannot be sent must not leave the store changed.
    let delivery = prepare(shared, plan.cookie, plan.reason, plan.expiry);
    if delivery.failed() {
        return deliver(shared, request, delivery, status, response);
    }
    if let Some(save) = plan.save {
        let saved = match (held, &save.user) {
            // The last store step, under the id the lock guards: save and unlock in one step
            // (one round trip in a single Redis).
            (Some(held), None) if plan.delete.is_none() && held.id() == save.id => {
                access.save_and_unlock(held, save).await
            }
            // A user's session goes through the user index (the lock, if any, is released
            // after the plan's steps).
            (_, Some(user)) => {
                access
                    .call(access.store.save_user_session(
                        save.id,
                        save.payload,
                        save.ttl,
                        user,
                        save.update_only,
                    ))
                    .await
            }
            _ => {
                access
                    .call(if save.returning {
                        access.store.save_returning(save.id, save.payload, save.ttl)
                    } else {
                        access.store.save(save.id, save.payload, save.ttl)
                    })
                    .await
            }
        };
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
