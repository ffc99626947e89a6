//! The one place where S3 SDK errors become catalog errors. The SDK error is kept as the cause;
//! the service logs it once, at the edge.

use super::*;

/// The HTTP status of a service error.
pub(super) fn status_of<E>(
    error: &SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> Option<u16> {
    error
        .raw_response()
        .map(|response| response.status().as_u16())
}

/// Maps an SDK error: unreachable, throttled or failing stores are `Unavailable` (retryable, after
/// the SDK's own retries), a missing object `NotFound`, anything else a bug.
pub(super) fn from_sdk<E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static>(
    context: &str,
    error: SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> CatalogError {
    let status = status_of(&error);
    let code = error.code().unwrap_or_default().to_owned();
    let kind = match (&error, status) {
        (
            SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_),
            _,
        ) => ErrorKind::Unavailable,
        (_, Some(404)) => ErrorKind::NotFound,
        (_, Some(403)) => ErrorKind::Unavailable,
        (_, Some(status)) if status == 429 || status >= 500 => ErrorKind::Unavailable,
        _ => ErrorKind::Internal,
    };
    let detail = aws_sdk_s3::error::DisplayErrorContext(&error);
    let advice = match (kind, status) {
        (ErrorKind::Unavailable, Some(403)) => {
            "; the object store denied access: check the credentials and bucket policy"
        }
        (ErrorKind::Unavailable, _) => "; the object store is unreachable or busy, retry later",
        _ => "",
    };
    let code = if code.is_empty() {
        String::new()
    } else {
        format!("{code}: ")
    };
    let message = format!("{context}: {code}{detail}{advice}");
    CatalogError::new(kind, message).caused_by(error)
}

/// Maps a failure while streaming an object's body: the connection broke, so it is retryable.
pub(super) fn from_body(
    context: &str,
    error: aws_sdk_s3::primitives::ByteStreamError,
) -> CatalogError {
    CatalogError::unavailable(format!("{context}: {error}; retry the read")).caused_by(error)
}

/// Maps a task of the upload that panicked or was cancelled: a bug, never the caller's fault.
pub(super) fn from_join(context: &str, error: tokio::task::JoinError) -> CatalogError {
    CatalogError::internal(format!("{context}: {error}")).caused_by(error)
}
