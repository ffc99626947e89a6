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
//!   arrive; DeleteRecords and ApplyRetention, whose work grows with the catalog, get the stream
//!   deadline. Past it the call ends with DEADLINE_EXCEEDED, and a stream's body is dropped, which
//!   stops the database or storage work feeding it, also when the client has stopped reading.
//!
//! Health and reflection stay outside these limits, so probes keep answering when the catalog is
//! saturated.

use std::{
    convert::Infallible,
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Poll, Waker},
    time::Duration,
};

use futures::future::BoxFuture;
use http_body::{Body as HttpBody, Frame, SizeHint};
use tokio::{
    sync::{OwnedSemaphorePermit, Semaphore},
    time::Instant,
};
use tonic::{Status, body::Body, codegen::http, server::NamedService};
use tower::Service;

use crate::{metering, service::STREAMING_METHODS};

/// Methods the server's default deadline does not apply to (the client's still does).
const EXEMPT_METHODS: [&str; 1] = ["PutContent"];
/// Unary methods whose work grows with the catalog (a delete by filter, retention): held to the
/// stream deadline, not the unary one.
const LONG_UNARY_METHODS: [&str; 2] = ["DeleteRecords", "ApplyRetention"];

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
        } else if STREAMING_METHODS.contains(&method) || LONG_UNARY_METHODS.contains(&method) {
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
pub fn client_timeout(headers: &http::HeaderMap) -> Option<Duration> {
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

/// tonic refuses a request message over `server.max_message_bytes` with OUT_OF_RANGE before any
/// handler runs; gRPC's status code table says RESOURCE_EXHAUSTED, which is what clients retry
/// differently and what the catalog answers for every other limit. Rewrites that trailers-only
/// answer in place, keeping tonic's message.
fn oversized_is_resource_exhausted(headers: &mut http::HeaderMap) {
    let Some(status) = Status::from_header_map(headers) else {
        return;
    };
    if status.code() == tonic::Code::OutOfRange
        && status.message().starts_with(OVERSIZED_MESSAGE_PREFIX)
    {
        let message = format!("{} (server.max_message_bytes)", status.message());
        let _ = Status::resource_exhausted(message).add_header(headers);
    }
}

/// How tonic's decoder starts the message of a request over the size limit.
pub const OVERSIZED_MESSAGE_PREFIX: &str = "Error, decoded message length too large";

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
///
/// The deadline is kept by a task of its own, not by polling the body: a client that stops
/// reading fills its HTTP/2 window, after which hyper no longer polls the body at all. At the
/// deadline that task drops the inner body (which stops the database or storage work feeding it)
/// and the slot; the trailers go out whenever the client reads again.
struct LimitedBody {
    held: Arc<Mutex<Held>>,
    reaper: Option<tokio::task::JoinHandle<()>>,
}

/// What a [`LimitedBody`] shares with its deadline task.
struct Held {
    inner: Option<Body>,
    slot: Option<OwnedSemaphorePermit>,
    /// Set by the deadline task: the trailers still to send.
    expired: Option<Status>,
    /// The task polling the body, woken when the deadline passes.
    waker: Option<Waker>,
}

impl Held {
    fn release(&mut self) {
        self.inner = None;
        self.slot = None;
    }
}

impl LimitedBody {
    fn new(inner: Body, slot: OwnedSemaphorePermit, deadline: Option<(Instant, Duration)>) -> Self {
        let held = Arc::new(Mutex::new(Held {
            inner: Some(inner),
            slot: Some(slot),
            expired: None,
            waker: None,
        }));
        let reaper = deadline.map(|(at, limit)| {
            let held = held.clone();
            tokio::spawn(async move {
                tokio::time::sleep_until(at).await;
                let mut held = held.lock().unwrap_or_else(|e| e.into_inner());
                if held.inner.is_some() {
                    held.release();
                    held.expired = Some(expired(limit));
                    if let Some(waker) = held.waker.take() {
                        waker.wake();
                    }
                }
            })
        });
        Self { held, reaper }
    }
}

impl Drop for LimitedBody {
    fn drop(&mut self) {
        if let Some(reaper) = self.reaper.take() {
            reaper.abort();
        }
    }
}

impl HttpBody for LimitedBody {
    type Data = bytes::Bytes;
    type Error = Status;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(status) = held.expired.take() {
            let mut trailers = http::HeaderMap::new();
            if status.add_header(&mut trailers).is_err() {
                trailers.insert("grpc-status", http::HeaderValue::from_static("4"));
            }
            return Poll::Ready(Some(Ok(Frame::trailers(trailers))));
        }
        let Some(inner) = held.inner.as_mut() else {
            return Poll::Ready(None);
        };
        match Pin::new(inner).poll_frame(cx) {
            Poll::Ready(None) => {
                held.release();
                Poll::Ready(None)
            }
            Poll::Ready(frame) => Poll::Ready(frame),
            Poll::Pending => {
                held.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        let held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        held.expired.is_none() && held.inner.as_ref().is_none_or(HttpBody::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        let held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        held.inner
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
        // A unary answer is one message, sent at once; only a stream's body needs a deadline.
        let body_deadline = deadline.filter(|_| STREAMING_METHODS.contains(&method));
        let answer = self.inner.call(request);
        Box::pin(async move {
            let response = match deadline {
                Some((at, limit)) => match tokio::time::timeout_at(at, answer).await {
                    Ok(response) => response?,
                    Err(_) => return Ok(expired(limit).into_http()),
                },
                None => answer.await?,
            };
            let mut response = response;
            oversized_is_resource_exhausted(response.headers_mut());
            Ok(response.map(|inner| Body::new(LimitedBody::new(inner, slot, body_deadline))))
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
            limits.deadline_of("DeleteRecords", None),
            limits.deadline_of("ListRecords", None)
        );
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
