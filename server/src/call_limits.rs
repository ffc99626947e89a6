//! The limits every catalog call is held to until its answer's last message, so a stream
//! (ListRecords, FindDuplicates, VerifyAll, GetContent) is bounded like a unary call:
//!
//! - **Concurrency**: beyond `server.concurrency_limit` calls in flight (across all connections), a
//!   new call is refused at once with RESOURCE_EXHAUSTED instead of queueing without bound. A
//!   call's slot is released when its response body ends or is dropped, not when the handler
//!   returns.
//! - **Deadline**: `server.request_timeout_secs` for unary calls, `server.stream_timeout_secs` for
//!   server streams, or the client's own `grpc-timeout` when that is earlier; uploads are exempt
//!   from the server's default, since a PutContent call lasts as long as its bytes take to
//!   arrive. Past it the call ends with DEADLINE_EXCEEDED, and a stream's body is dropped, which
//!   stops the database or storage work feeding it.
//!
//! Health and reflection stay outside these limits, so probes keep answering when the catalog is
//! saturated.

use std::{
    convert::Infallible,
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use futures::future::BoxFuture;
use http_body::{Body as HttpBody, Frame, SizeHint};
use tokio::{
    sync::{OwnedSemaphorePermit, Semaphore},
    time::{Instant, Sleep},
};
use tonic::{Status, body::Body, codegen::http, server::NamedService};
use tower::Service;

use crate::{metering, service::STREAMING_METHODS};

/// Methods the server's default deadline does not apply to (the client's still does).
const EXEMPT_METHODS: [&str; 1] = ["PutContent"];

/// The server's default deadlines.
#[derive(Debug, Clone, Copy)]
pub struct Deadlines {
    /// Of a unary call.
    pub unary: Duration,
    /// Of a server stream, until its last message.
    pub stream: Duration,
}

/// `S` with its calls held to a shared concurrency limit and their deadlines.
#[derive(Clone)]
pub struct CallLimits<S> {
    inner: S,
    slots: Arc<Semaphore>,
    deadlines: Deadlines,
}

impl<S> CallLimits<S> {
    /// At most `concurrency` calls of `inner` at once (clones share the limit), each within its
    /// deadline.
    pub fn new(inner: S, concurrency: usize, deadlines: Deadlines) -> Self {
        Self {
            inner,
            slots: Arc::new(Semaphore::new(concurrency)),
            deadlines,
        }
    }

    /// The deadline of a call to `method` whose client asked for `client`, if any applies.
    fn deadline_of(&self, method: &str, client: Option<Duration>) -> Option<Duration> {
        let server = if EXEMPT_METHODS.contains(&method) {
            None
        } else if STREAMING_METHODS.contains(&method) {
            Some(self.deadlines.stream)
        } else {
            Some(self.deadlines.unary)
        };
        match (server, client) {
            (Some(server), Some(client)) => Some(server.min(client)),
            (server, client) => server.or(client),
        }
    }
}

impl<S: NamedService> NamedService for CallLimits<S> {
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
         server's server.request_timeout_secs or server.stream_timeout_secs); ask for less per \
         call, or raise the deadline"
    ))
}

/// An answer's body under its call's limits: it holds the call's slot until it ends or is
/// dropped, and ends with DEADLINE_EXCEEDED trailers once the deadline passes.
struct LimitedBody {
    inner: Option<Body>,
    slot: Option<OwnedSemaphorePermit>,
    deadline: Option<(Pin<Box<Sleep>>, Duration)>,
}

impl HttpBody for LimitedBody {
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
                self.slot = None;
            }
            return Poll::Ready(frame);
        }
        let Some((sleep, limit)) = self.deadline.as_mut() else {
            return Poll::Pending;
        };
        if sleep.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        let status = expired(*limit);
        // Dropping the body stops the stream feeding it; the slot goes with it.
        self.inner = None;
        self.slot = None;
        let mut trailers = http::HeaderMap::new();
        if status.add_header(&mut trailers).is_err() {
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

impl<S, B> Service<http::Request<B>> for CallLimits<S>
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
        let method = request.uri().path().rsplit('/').next().unwrap_or_default();
        let limit = self.deadline_of(method, client_timeout(request.headers()));
        let deadline = limit.map(|limit| (Instant::now() + limit, limit));
        let answer = self.inner.call(request);
        Box::pin(async move {
            let response = match deadline {
                Some((at, limit)) => match tokio::time::timeout_at(at, answer).await {
                    Ok(response) => response?,
                    Err(_) => return Ok(expired(limit).into_http()),
                },
                None => answer.await?,
            };
            Ok(response.map(|inner| {
                Body::new(LimitedBody {
                    inner: Some(inner),
                    slot: Some(slot),
                    deadline: deadline
                        .map(|(at, limit)| (Box::pin(tokio::time::sleep_until(at)), limit)),
                })
            }))
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

    #[test]
    fn test_each_kind_of_call_gets_its_deadline_and_the_client_can_shorten_it() {
        let limits = CallLimits::new(
            (),
            1,
            Deadlines {
                unary: Duration::from_secs(30),
                stream: Duration::from_secs(3600),
            },
        );
        let seconds = Duration::from_secs;
        assert_eq!(limits.deadline_of("Stats", None), Some(seconds(30)));
        assert_eq!(limits.deadline_of("ListRecords", None), Some(seconds(3600)));
        assert_eq!(limits.deadline_of("PutContent", None), None);
        assert_eq!(
            limits.deadline_of("PutContent", Some(seconds(5))),
            Some(seconds(5))
        );
        assert_eq!(
            limits.deadline_of("VerifyAll", Some(seconds(5))),
            Some(seconds(5))
        );
        assert_eq!(
            limits.deadline_of("Stats", Some(seconds(60))),
            Some(seconds(30))
        );
    }
}
