//! The catalog's error: a small kind that maps one-to-one onto gRPC status codes, a message that
//! says what was wrong and what to do, and the offending field for bad input.

use std::sync::Arc;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// Result type of every catalog operation.
pub type Result<T, E = CatalogError> = std::result::Result<T, E>;

/// What went wrong, independent of transport. Each kind has exactly one gRPC code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad input; retrying the same request fails again.
    InvalidArgument,
    /// Unknown id or hash.
    NotFound,
    /// The request is valid but the catalog's state does not allow it.
    FailedPrecondition,
    /// A size limit or the server's capacity was exceeded.
    ResourceExhausted,
    /// A backend (database, object store) is unreachable; retryable.
    Unavailable,
    /// The deadline passed before the work finished.
    DeadlineExceeded,
    /// The caller went away.
    Cancelled,
    /// Missing or wrong credentials.
    Unauthenticated,
    /// Credentials that do not allow the call.
    PermissionDenied,
    /// A bug: an invariant that should hold did not.
    Internal,
}

impl ErrorKind {
    /// The gRPC status code of this kind.
    pub fn code(self) -> Code {
        match self {
            Self::InvalidArgument => Code::InvalidArgument,
            Self::NotFound => Code::NotFound,
            Self::FailedPrecondition => Code::FailedPrecondition,
            Self::ResourceExhausted => Code::ResourceExhausted,
            Self::Unavailable => Code::Unavailable,
            Self::DeadlineExceeded => Code::DeadlineExceeded,
            Self::Cancelled => Code::Cancelled,
            Self::Unauthenticated => Code::Unauthenticated,
            Self::PermissionDenied => Code::PermissionDenied,
            Self::Internal => Code::Internal,
        }
    }

    fn from_code(code: Code) -> Self {
        match code {
            Code::InvalidArgument | Code::OutOfRange => Self::InvalidArgument,
            Code::NotFound => Self::NotFound,
            Code::FailedPrecondition | Code::AlreadyExists | Code::Aborted => {
                Self::FailedPrecondition
            }
            Code::ResourceExhausted => Self::ResourceExhausted,
            Code::Unavailable => Self::Unavailable,
            Code::DeadlineExceeded => Self::DeadlineExceeded,
            Code::Cancelled => Self::Cancelled,
            Code::Unauthenticated => Self::Unauthenticated,
            Code::PermissionDenied => Self::PermissionDenied,
            Code::Ok | Code::Unknown | Code::Internal | Code::Unimplemented | Code::DataLoss => {
                Self::Internal
            }
        }
    }
}

/// The underlying error a [`CatalogError`] was made from (a database, object-store or I/O error),
/// kept for logs; it never crosses the wire.
pub type ErrorSource = Arc<dyn std::error::Error + Send + Sync + 'static>;

/// An error of a catalog operation, the same on both sides of the wire.
///
/// Equality compares what a caller can observe (kind, message, field), not the kept cause.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}: {message}", self.kind.code().description())]
pub struct CatalogError {
    /// What went wrong.
    pub kind: ErrorKind,
    /// What was wrong and what to do about it.
    pub message: String,
    /// The request field at fault, for [`ErrorKind::InvalidArgument`].
    pub field: Option<String>,
    /// The error this one was made from, for logs (see [`CatalogError::caused_by`]).
    #[source]
    pub source: Option<ErrorSource>,
}

impl PartialEq for CatalogError {
    fn eq(&self, other: &Self) -> bool {
        (self.kind, &self.message, &self.field) == (other.kind, &other.message, &other.field)
    }
}

impl Eq for CatalogError {}

impl CatalogError {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            field: None,
            source: None,
        }
    }

    /// The same error, keeping `source` as its cause for logs.
    pub fn caused_by(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    /// The message followed by every cause in the source chain, for logs: `message: cause: ...`.
    pub fn chain(&self) -> String {
        let mut text = self.message.clone();
        let mut cause = std::error::Error::source(self);
        while let Some(error) = cause {
            let part = error.to_string();
            if !text.contains(&part) {
                text.push_str(": ");
                text.push_str(&part);
            }
            cause = error.source();
        }
        text
    }

    /// Bad input in `field`.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        let field = field.into();
        let message = format!("{field}: {}", message.into());
        Self {
            kind: ErrorKind::InvalidArgument,
            message,
            field: Some(field),
            source: None,
        }
    }

    /// Something that does not exist.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }

    /// A backend that cannot be reached; the caller should retry.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unavailable, message)
    }

    /// A bug.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    /// The same error with `prefix.` in front of its field (`documents[3]` + `sha256`).
    pub fn within(mut self, prefix: &str) -> Self {
        if let Some(field) = self.field.take() {
            let nested = format!("{prefix}.{field}");
            self.message = self.message.replacen(&field, &nested, 1);
            self.field = Some(nested);
        }
        self
    }
}

impl From<CatalogError> for Status {
    fn from(error: CatalogError) -> Self {
        let code = error.kind.code();
        match &error.field {
            Some(field) => {
                let details =
                    ErrorDetails::with_bad_request_violation(field.clone(), error.message.clone());
                Status::with_error_details(code, error.message, details)
            }
            None => Status::new(code, error.message),
        }
    }
}

impl From<Status> for CatalogError {
    fn from(status: Status) -> Self {
        let field = status
            .get_details_bad_request()
            .and_then(|bad_request| bad_request.field_violations.into_iter().next())
            .map(|violation| violation.field);
        let message = if status.message().is_empty() {
            status.code().description().to_owned()
        } else {
            status.message().to_owned()
        };
        Self {
            kind: ErrorKind::from_code(status.code()),
            message,
            field,
            source: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_invalid_argument_round_trips_through_status_with_field() {
        let error = CatalogError::invalid("sha256", "must be 64 hex characters");
        let status = Status::from(error.clone());
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(CatalogError::from(status), error);
    }

    #[test]
    fn test_within_prefixes_field_and_message() {
        let error = CatalogError::invalid("sha256", "bad").within("documents[3]");
        assert_eq!(error.field.as_deref(), Some("documents[3].sha256"));
        assert_eq!(error.message, "documents[3].sha256: bad");
    }

    #[test]
    fn test_chain_lists_causes_after_the_message_and_equality_ignores_them() {
        let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "permission denied");
        let error = CatalogError::unavailable("reading a blob").caused_by(io);
        assert_eq!(error.chain(), "reading a blob: permission denied");
        assert_eq!(error, CatalogError::unavailable("reading a blob"));
    }

    #[test]
    fn test_unavailable_maps_to_unavailable_code() {
        let status = Status::from(CatalogError::unavailable("database down"));
        assert_eq!(status.code(), Code::Unavailable);
        assert_eq!(CatalogError::from(status).kind, ErrorKind::Unavailable);
    }
}
