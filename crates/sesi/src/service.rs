//! `SessionService`: routes each request to the cookie flow or the store flow around the inner
//! service.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use http::{Request, Response};
use pin_project_lite::pin_project;
use sesi_core::session::Lifecycle;
use tower_service::Service;

use crate::responder::RequestHead;
use crate::shared::Shared;
use crate::{cookie_flow, store_flow};

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
                fut: Box::pin(store_flow::run(inner, Arc::clone(&self.shared), req)),
            };
        }
        let (lifecycle, head) = cookie_flow::begin(&self.shared, &mut req);
        ResponseFuture::Cookie {
            inner: self.inner.call(req),
            end: Some((lifecycle, head)),
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
            end: Option<(Lifecycle, RequestHead)>,
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
            ResponseFutureProj::Cookie { inner, end, shared } => {
                let mut response = ready!(inner.poll(cx))?;
                if let Some((lifecycle, head)) = end.take() {
                    response = cookie_flow::finish(shared, &lifecycle, &head, response);
                }
                Poll::Ready(Ok(response))
            }
            ResponseFutureProj::Store { fut } => fut.as_mut().poll(cx),
        }
    }
}
