//! [`MeteredRpc`]: counts and times every catalog call, by method and gRPC status code, from the
//! first byte of the request to the last message of the answer. A stream's status arrives in its
//! trailers, so the answer's body is watched until it ends (or is dropped: `CANCELLED`).

use std::{
    convert::Infallible,
    pin::Pin,
    task::{Context, Poll},
    time::Instant,
};

use futures::future::BoxFuture;
use http_body::{Body as HttpBody, Frame, SizeHint};
use metrics::{counter, gauge, histogram};
use tonic::{Code, body::Body, codegen::http, server::NamedService};
use tower::Service;

use super::{RPC_DURATION, RPC_IN_FLIGHT, RPC_REQUESTS, STREAMS_OPEN};
use crate::service::STREAMING_METHODS;

/// The catalog's methods, so labels are static strings and an unknown path cannot add series.
const METHODS: [&str; 15] = [
    "RegisterOrGet",
    "RegisterOrGetBatch",
    "GetRecord",
    "GetByArtifact",
    "GetBySha256",
    "GetByRun",
    "ListRecords",
    "FindDuplicates",
    "Verify",
    "VerifyAll",
    "PutContent",
    "GetContent",
    "ImportRecords",
    "Stats",
    "ProviderHealth",
];

/// The method a request path names, or `unknown`.
fn method_of(path: &str) -> &'static str {
    let name = path.rsplit('/').next().unwrap_or_default();
    METHODS
        .into_iter()
        .find(|m| *m == name)
        .unwrap_or("unknown")
}

/// The canonical name of a gRPC status code, as the `code` label shows it.
fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

/// The `grpc-status` of a header map, if it has one.
fn status_in(headers: &http::HeaderMap) -> Option<Code> {
    let value = headers.get("grpc-status")?.to_str().ok()?;
    Some(Code::from_i32(value.parse().ok()?))
}

/// One call being measured: in flight until [`CallMeter::finish`] (or drop) records it.
struct CallMeter {
    method: &'static str,
    started: Instant,
    streaming: bool,
    finished: bool,
}

impl CallMeter {
    fn start(method: &'static str) -> Self {
        gauge!(RPC_IN_FLIGHT, "method" => method).increment(1.0);
        Self {
            method,
            started: Instant::now(),
            streaming: false,
            finished: false,
        }
    }

    /// The answer is a stream that stays open until its body ends.
    fn stream_opened(&mut self) {
        gauge!(STREAMS_OPEN, "method" => self.method).increment(1.0);
        self.streaming = true;
    }

    fn finish(&mut self, code: Code) {
        if std::mem::replace(&mut self.finished, true) {
            return;
        }
        let method = self.method;
        gauge!(RPC_IN_FLIGHT, "method" => method).decrement(1.0);
        if self.streaming {
            gauge!(STREAMS_OPEN, "method" => method).decrement(1.0);
        }
        counter!(RPC_REQUESTS, "method" => method, "code" => code_name(code)).increment(1);
        histogram!(RPC_DURATION, "method" => method).record(self.started.elapsed());
    }
}

impl Drop for CallMeter {
    fn drop(&mut self) {
        // An answer dropped before its status: the client went away.
        self.finish(Code::Cancelled);
    }
}

/// An answer's body, measured until its trailers (with the status) or its end.
struct MeteredBody<RB> {
    inner: RB,
    meter: CallMeter,
}

impl<RB> HttpBody for MeteredBody<RB>
where
    RB: HttpBody<Data = bytes::Bytes> + Unpin,
{
    type Data = bytes::Bytes;
    type Error = RB::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(code) = frame.trailers_ref().and_then(status_in) {
                    self.meter.finish(code);
                }
            }
            // tonic reports a stream's errors in its trailers; a body error is a broken transport.
            Poll::Ready(Some(Err(_))) => self.meter.finish(Code::Unknown),
            Poll::Ready(None) => self.meter.finish(Code::Unknown),
            Poll::Pending => {}
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

/// `S` with every call counted and timed.
#[derive(Clone)]
pub struct MeteredRpc<S> {
    inner: S,
}

impl<S> MeteredRpc<S> {
    /// Measures the calls of `inner`.
    pub fn new(inner: S) -> Self {
        Self { inner }
    }
}

impl<S: NamedService> NamedService for MeteredRpc<S> {
    const NAME: &'static str = S::NAME;
}

impl<S, B, RB> Service<http::Request<B>> for MeteredRpc<S>
where
    S: Service<http::Request<B>, Response = http::Response<RB>, Error = Infallible>,
    S::Future: Send + 'static,
    RB: HttpBody<Data = bytes::Bytes> + Unpin + Send + 'static,
    RB::Error: Into<tonic::codegen::StdError>,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let method = method_of(request.uri().path());
        let mut meter = CallMeter::start(method);
        let answer = self.inner.call(request);
        Box::pin(async move {
            let response = answer.await?;
            // A trailers-only answer (an error before any message) has its status in the headers.
            if let Some(code) = status_in(response.headers()) {
                meter.finish(code);
                return Ok(response.map(Body::new));
            }
            if STREAMING_METHODS.contains(&method) {
                meter.stream_opened();
            }
            Ok(response.map(|inner| Body::new(MeteredBody { inner, meter })))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_method_names_come_from_the_path_and_unknown_paths_share_one_label() {
        assert_eq!(
            method_of("/docstokg.catalog.v1.CatalogService/GetContent"),
            "GetContent"
        );
        assert_eq!(
            method_of("/docstokg.catalog.v1.CatalogService/Nope"),
            "unknown"
        );
    }

    #[test]
    fn test_status_is_read_from_grpc_status() {
        let mut headers = http::HeaderMap::new();
        assert_eq!(status_in(&headers), None);
        headers.insert("grpc-status", http::HeaderValue::from_static("5"));
        assert_eq!(status_in(&headers), Some(Code::NotFound));
        assert_eq!(code_name(Code::NotFound), "NOT_FOUND");
    }
}
