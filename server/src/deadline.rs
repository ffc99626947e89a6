//! Deadlines for catalog calls, held until the last message of a stream: the server's default
//! (`server.request_timeout_secs` for unary calls, `server.stream_timeout_secs` for server
//! streams; uploads are exempt, since a PutContent call lasts as long as its bytes take to
//! arrive) or the client's own `grpc-timeout` when that is earlier. A call past
//! its deadline ends with DEADLINE_EXCEEDED, and a stream's body is dropped there, which stops
//! the database or storage work feeding it.

use std::{
    convert::Infallible,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use futures::future::BoxFuture;
use http_body::{Body as HttpBody, Frame, SizeHint};
use tokio::time::{Instant, Sleep};
use tonic::{Status, body::Body, codegen::http, server::NamedService};
use tower::Service;

use crate::service::STREAMING_METHODS;

/// Methods the default deadline does not apply to (the client's still does).
const EXEMPT_METHODS: [&str; 1] = ["PutContent"];

/// The server's default deadlines.
#[derive(Debug, Clone, Copy)]
pub struct Deadlines {
    /// Of a unary call.
    pub unary: Duration,
    /// Of a server stream, until its last message.
    pub stream: Duration,
}

/// `S` with a deadline on every call, until its answer's last message.
#[derive(Clone)]
pub struct DefaultDeadline<S> {
    inner: S,
    deadlines: Deadlines,
}

impl<S> DefaultDeadline<S> {
    /// Calls of `inner` (uploads aside) that take longer than their deadline fail with
    /// DEADLINE_EXCEEDED.
    pub fn new(inner: S, deadlines: Deadlines) -> Self {
        Self { inner, deadlines }
    }
}

impl<S: NamedService> NamedService for DefaultDeadline<S> {
    const NAME: &'static str = S::NAME;
}

/// The client's `grpc-timeout` (digits and a unit: H, M, S, m, u, n), if it sent a valid one.
fn client_timeout(headers: &http::HeaderMap) -> Option<Duration> {
    let value = headers.get("grpc-timeout")?.to_str().ok()?;
    let (digits, unit) = value.split_at(value.len().checked_sub(1)?);
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount.saturating_mul(3600)),
        "M" => Duration::from_secs(amount.saturating_mul(60)),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

/// What a call past its deadline answers.
fn expired(limit: Duration) -> Status {
    Status::deadline_exceeded(format!(
        "the call took longer than its deadline of {limit:?} (the client's grpc-timeout, or the \
         server's server.request_timeout_secs or server.stream_timeout_secs); ask for less per call, or raise the deadline"
    ))
}

/// An answer's body that ends with DEADLINE_EXCEEDED trailers once the deadline passes.
struct BeforeDeadline {
    inner: Option<Body>,
    deadline: Pin<Box<Sleep>>,
    limit: Duration,
}

impl HttpBody for BeforeDeadline {
    type Data = bytes::Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let Some(inner) = self.inner.as_mut() else {
            return Poll::Ready(None);
        };
        if let Poll::Ready(frame) = Pin::new(inner).poll_frame(cx) {
            if frame.is_none() {
                self.inner = None;
            }
            return Poll::Ready(frame);
        }
        if self.deadline.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        // Dropping the body stops the stream feeding it.
        self.inner = None;
        let mut trailers = http::HeaderMap::new();
        // A status whose message cannot be a header is a bug of `expired`; the code still goes.
        if expired(self.limit).add_header(&mut trailers).is_err() {
            trailers.insert("grpc-status", http::HeaderValue::from_static("4"));
        }
        Poll::Ready(Some(Ok(Frame::trailers(trailers))))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(HttpBody::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map(HttpBody::size_hint)
            .unwrap_or_default()
    }
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
        let method = request.uri().path().rsplit('/').next().unwrap_or_default();
        let server_limit = if EXEMPT_METHODS.contains(&method) {
            None
        } else if STREAMING_METHODS.contains(&method) {
            Some(self.deadlines.stream)
        } else {
            Some(self.deadlines.unary)
        };
        let limit = match (server_limit, client_timeout(request.headers())) {
            (Some(server), Some(client)) => Some(server.min(client)),
            (server, client) => server.or(client),
        };
        let response = self.inner.call(request);
        let Some(limit) = limit else {
            return Box::pin(response);
        };
        let deadline = Instant::now() + limit;
        Box::pin(async move {
            match tokio::time::timeout_at(deadline, response).await {
                Ok(response) => Ok(response?.map(|inner| {
                    Body::new(BeforeDeadline {
                        inner: Some(inner),
                        deadline: Box::pin(tokio::time::sleep_until(deadline)),
                        limit,
                    })
                })),
                Err(_) => Ok(expired(limit).into_http()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_grpc_timeout_units_are_read_and_bad_values_ignored() {
        let timeout = |value: &'static str| {
            let mut headers = http::HeaderMap::new();
            headers.insert("grpc-timeout", http::HeaderValue::from_static(value));
            client_timeout(&headers)
        };
        assert_eq!(timeout("250m"), Some(Duration::from_millis(250)));
        assert_eq!(timeout("2S"), Some(Duration::from_secs(2)));
        assert_eq!(timeout("1H"), Some(Duration::from_secs(3600)));
        assert_eq!(timeout("5x"), None);
        assert_eq!(timeout("m"), None);
        assert_eq!(client_timeout(&http::HeaderMap::new()), None);
    }
}
