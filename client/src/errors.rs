//! Error helpers: transport errors as readable catalog errors.

use std::error::Error;

use docstokg_catalog::{CatalogError, ErrorKind};
use tonic::{Code, Status, TimeoutExpired};

/// A status as a catalog error. tonic reports the client-side deadline of
/// [`ClientOptions::request_timeout`](crate::ClientOptions) as CANCELLED; it becomes
/// `DeadlineExceeded`, which is what it is. A connection that failed under the call (tonic's
/// UNKNOWN, or INTERNAL for an HTTP/2 protocol error, with the transport's error as its source:
/// never a status the server sent, which has no source) is `Unavailable`, with the reason.
pub(crate) fn status_error(status: Status) -> CatalogError {
    if status.code() == Code::Cancelled && caused_by::<TimeoutExpired>(&status) {
        return CatalogError::new(
            ErrorKind::DeadlineExceeded,
            "the call did not finish within the request timeout; retry, or raise the timeout",
        );
    }
    if matches!(status.code(), Code::Unknown | Code::Internal) && status.source().is_some() {
        return CatalogError::unavailable(format!(
            "the connection to the catalog failed: {}; check that the server runs there, and \
             whether it speaks TLS (connect with https:// and its CA) or plaintext",
            chain(&status)
        ));
    }
    CatalogError::from(status)
}

/// Whether `E` is somewhere in the source chain of `error`.
fn caused_by<E: Error + 'static>(error: &(dyn Error + 'static)) -> bool {
    let mut current = error.source();
    while let Some(source) = current {
        if source.is::<E>() {
            return true;
        }
        current = source.source();
    }
    false
}

/// `error` and its sources joined with `: `, repeated messages left out.
pub(crate) fn chain(error: &(dyn Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(error);
    while let Some(error) = current {
        let text = error.to_string();
        if !parts.iter().any(|part| part.contains(&text)) {
            parts.push(text);
        }
        current = error.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Wrapper(std::io::Error);

    impl std::fmt::Display for Wrapper {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("transport error")
        }
    }

    impl Error for Wrapper {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn test_plain_cancellation_stays_cancelled() {
        assert_eq!(
            status_error(Status::cancelled("client went away")).kind,
            ErrorKind::Cancelled
        );
    }

    #[test]
    fn test_chain_joins_sources() {
        let error = Wrapper(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "connection refused",
        ));
        assert_eq!(chain(&error), "transport error: connection refused");
    }
}
