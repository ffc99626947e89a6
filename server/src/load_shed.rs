//! Load shedding for the catalog service alone: beyond `server.concurrency_limit` calls in flight
//! (across all connections), a new call is refused at once with RESOURCE_EXHAUSTED instead of
//! queueing without bound. Health and reflection stay outside the limit, so probes keep working
//! when the service is saturated.

use std::{
    convert::Infallible,
    task::{Context, Poll},
};

use futures::future::BoxFuture;
use tonic::{Status, body::Body, codegen::http, server::NamedService};
use tower::{
    Layer, Service,
    limit::{ConcurrencyLimit, GlobalConcurrencyLimitLayer},
    load_shed::LoadShed,
};

/// `S` behind a shared concurrency limit that sheds the excess.
#[derive(Clone)]
pub struct ShedBeyondLimit<S> {
    inner: LoadShed<ConcurrencyLimit<S>>,
}

impl<S> ShedBeyondLimit<S> {
    /// At most `limit` calls of `inner` at once; clones share the limit.
    pub fn new(inner: S, limit: usize) -> Self {
        Self {
            inner: LoadShed::new(GlobalConcurrencyLimitLayer::new(limit).layer(inner)),
        }
    }
}

impl<S: NamedService> NamedService for ShedBeyondLimit<S> {
    const NAME: &'static str = S::NAME;
}

impl<S, B> Service<http::Request<B>> for ShedBeyondLimit<S>
where
    S: Service<http::Request<B>, Response = http::Response<Body>, Error = Infallible>
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // LoadShed is always ready: it decides in `call`.
        match self.inner.poll_ready(cx) {
            Poll::Ready(_) => Poll::Ready(Ok(())),
            Poll::Pending => Poll::Pending,
        }
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let response = self.inner.call(request);
        Box::pin(async move {
            Ok(response.await.unwrap_or_else(|_overloaded| {
                crate::metering::load_shed();
                Status::resource_exhausted(
                    "the catalog is at its concurrency limit (server.concurrency_limit); retry with backoff",
                )
                .into_http()
            }))
        })
    }
}
