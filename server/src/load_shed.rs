//! Load shedding for the catalog service alone: beyond `server.concurrency_limit` calls in flight
//! (across all connections), a new call is refused at once with RESOURCE_EXHAUSTED instead of
//! queueing without bound. A call holds its slot until its answer's body ends or is dropped, so a
//! stream (ListRecords, FindDuplicates, VerifyAll, GetContent) counts for as long as it is open.
//! Health and reflection stay outside the limit, so probes keep working when the service is
//! saturated.

use std::{
    convert::Infallible,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use futures::future::BoxFuture;
use http_body::{Body as HttpBody, Frame, SizeHint};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::{Status, body::Body, codegen::http, server::NamedService};
use tower::Service;

use crate::metering;

/// `S` behind a shared concurrency limit that sheds the excess.
#[derive(Clone)]
pub struct ShedBeyondLimit<S> {
    inner: S,
    slots: Arc<Semaphore>,
}

impl<S> ShedBeyondLimit<S> {
    /// At most `limit` calls of `inner` at once; clones share the limit.
    pub fn new(inner: S, limit: usize) -> Self {
        Self {
            inner,
            slots: Arc::new(Semaphore::new(limit)),
        }
    }
}

impl<S: NamedService> NamedService for ShedBeyondLimit<S> {
    const NAME: &'static str = S::NAME;
}

/// An answer's body that keeps its call's slot until it ends or is dropped.
struct HoldingSlot {
    inner: Body,
    slot: Option<OwnedSemaphorePermit>,
}

impl HttpBody for HoldingSlot {
    type Data = bytes::Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) {
            self.slot = None;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl<S, B> Service<http::Request<B>> for ShedBeyondLimit<S>
where
    S: Service<http::Request<B>, Response = http::Response<Body>, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let Ok(slot) = self.slots.clone().try_acquire_owned() else {
            metering::load_shed();
            return Box::pin(async {
                Ok(Status::resource_exhausted(
                    "the catalog is at its concurrency limit (server.concurrency_limit); retry with backoff",
                )
                .into_http())
            });
        };
        let answer = self.inner.call(request);
        Box::pin(async move {
            let response = answer.await?;
            Ok(response.map(|inner| {
                Body::new(HoldingSlot {
                    inner,
                    slot: Some(slot),
                })
            }))
        })
    }
}
