//! The request lifecycle when the whole session lives in the cookie: no I/O besides the inner
//! service. The cookie is decoded only when the handler first uses the session.

use std::sync::Arc;

use http::{Request, Response};
use sesi_core::session::Lifecycle;

use crate::cookie::find_cookie;
use crate::outcome::{
    CookieAction, conclude, deliver, judged_status, prepare, skips_saving, untouched,
};
use crate::responder::RequestHead;
use crate::shared::Shared;

/// Puts the request's session in its extensions and returns what the end of the request needs.
pub(crate) fn begin<B>(shared: &Arc<Shared>, req: &mut Request<B>) -> (Lifecycle, RequestHead) {
    let raw = find_cookie(req.headers(), &shared.cookie.name);
    let lifecycle = Lifecycle::begin(&shared.engine, raw);
    req.extensions_mut().insert(lifecycle.session().clone());
    let head = RequestHead::new(req.method().clone(), req.uri().clone());
    (lifecycle, head)
}

/// Applies the session's plan to the handler's response: a one-step plan, the cookie.
pub(crate) fn finish<B: From<String>>(
    shared: &Shared,
    lifecycle: &Lifecycle,
    request: &RequestHead,
    response: Response<B>,
) -> Response<B> {
    // From here on a write (by a task that kept the session) would reach nobody: refused.
    if !lifecycle.close() {
        return untouched(lifecycle, response);
    }
    let status = judged_status(lifecycle);
    if skips_saving(shared, &response) {
        return conclude(response, status, CookieAction::SkippedOnError);
    }
    let plan = lifecycle.plan();
    debug_assert!(
        plan.save.is_none() && plan.delete.is_none(),
        "cookie mode never plans store steps"
    );
    let delivery = prepare(shared, plan.cookie, plan.reason, plan.expiry);
    deliver(shared, request, delivery, status, response)
}
