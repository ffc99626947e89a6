//! The server's default deadline (`server.request_timeout_secs`) for catalog calls, answered with
//! DEADLINE_EXCEEDED. Uploads are exempt: a PutContent call lasts as long as its bytes take to
//! arrive. A client's own `grpc-timeout` still applies to every call (tonic enforces it).

use std::{
    convert::Infallible,
    task::{Context, Poll},
    time::Duration,
};

use futures::future::BoxFuture;
use tonic::{Status, body::Body, codegen::http, server::NamedService};
use tower::Service;

/// Method paths the default deadline does not apply to.
const EXEMPT_SUFFIXES: [&str; 1] = ["/PutContent"];

/// `S` with a default deadline on every call but uploads.
#[derive(Clone)]
pub struct DefaultDeadline<S> {
    inner: S,
    timeout: Duration,
}

impl<S> DefaultDeadline<S> {
    /// Calls of `inner` that take longer than `timeout` fail with DEADLINE_EXCEEDED.
    pub fn new(inner: S, timeout: Duration) -> Self {
        Self { inner, timeout }
    }
}

impl<S: NamedService> NamedService for DefaultDeadline<S> {
    const NAME: &'static str = S::NAME;
}

impl<S, B> Service<http::Request<B>> for DefaultDeadline<S>
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
        let exempt = EXEMPT_SUFFIXES
            .iter()
            .any(|suffix| request.uri().path().ends_with(suffix));
        let response = self.inner.call(request);
        if exempt {
            return Box::pin(response);
        }
        let timeout = self.timeout;
        Box::pin(async move {
            match tokio::time::timeout(timeout, response).await {
                Ok(response) => response,
                Err(_) => Ok(Status::deadline_exceeded(format!(
                    "the call took longer than the server's deadline of {timeout:?} (server.request_timeout_secs)"
                ))
                .into_http()),
            }
        })
    }
}
